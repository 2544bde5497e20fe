"""Logging, configured once by the programs (the `flashvid` CLI and the studio), never by the library.

Progress and choices (an engine being compiled, the engine `auto` picked) are INFO; damaged caches and other
surprises are WARNING. Third-party chatter (PIL, matplotlib, torch's inductor) stays at WARNING.
"""

from __future__ import annotations

import logging
import sys


def setup_logging(verbose: bool = False) -> None:
    """One handler on stderr for the `flashvid` loggers: INFO and up (DEBUG with `verbose`)."""
    root = logging.getLogger("flashvid")
    if getattr(root, "_flashvid_configured", False):
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("flashvid: %(message)s"))
    root.addHandler(handler)
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    root.propagate = False
    root._flashvid_configured = True  # type: ignore[attr-defined]
