"""The `flashvid` command line: one module per command group, each a thin caller of the library.

    keyframe.py  keyframe, synth-pair, weights
    models.py    info, bench
    video.py     export, stream, demo
    training.py  train, eval
    batch.py     batch (on Ray)
    common.py    the parser, argument types and the flags built from `flashvid.spec`

Every user error (a `FlashvidError`) is printed as one line on stderr, ``flashvid: error: ...``, and the exit
status is 2; nothing is written in that case.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from flashvid.cli import batch, keyframe, models, training, video
from flashvid.cli.common import Handler, Parser, keyframe_from_args, matter_spec
from flashvid.errors import FlashvidError

GROUPS = (keyframe, models, training, video, batch)


def build_parser() -> tuple[argparse.ArgumentParser, dict[str, Handler]]:
    """The argument parser and the handler of each subcommand."""
    parser = Parser(prog="flashvid", description="flashvid: real-time portrait video matting with a flash keyframe")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=Parser)
    handlers: dict[str, Handler] = {}
    for group in GROUPS:
        group.register(sub, handlers)
    return parser, handlers


def main(argv: Sequence[str] | None = None) -> int:
    """Run the `flashvid` command line; returns the exit status."""
    parser, handlers = build_parser()
    args = parser.parse_args(argv)
    from flashvid.logs import setup_logging

    setup_logging()
    try:
        return handlers[args.command](args)
    except FlashvidError as exc:
        print(f"flashvid: error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:  # an output that cannot be written (read-only, full disk, /proc, ...)
        where = exc.filename or "output"
        print(f"flashvid: error: {where}: {exc.strerror or exc}; check the path and free space", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("flashvid: interrupted", file=sys.stderr)
        return 130


__all__ = ["build_parser", "keyframe_from_args", "main", "matter_spec"]
