"""The `flashvid` command line.

Every user error (a `FlashvidError`) is printed as one line on stderr, ``flashvid: error: ...``, and the exit
status is 2; nothing is written in that case.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from flashvid.errors import FlashvidError

Handler = Callable[[argparse.Namespace], int]


def _cmd_keyframe(args: argparse.Namespace) -> int:
    from flashvid.imageio import read_image, write_image
    from flashvid.keyframe import make_keyframe
    from flashvid.viz import mask_overlay, ratio_with_points, trimap_overlay

    flash, noflash = read_image(args.flash), read_image(args.noflash)
    out = Path(args.out)
    if not out.parent.is_dir():
        raise FlashvidError(f"{out.parent}: no such folder for --out; create it first")
    kf = make_keyframe(
        flash,
        noflash,
        estimator=args.estimator,
        threshold=args.threshold,
        band=args.band,
        sam_checkpoint=args.sam_checkpoint,
        sam_type=args.sam_type,
        device=args.device,
        resize=args.resize,
        negative_points=args.negative_points,
        names=(str(args.flash), str(args.noflash)),
    )
    stem = out.with_suffix("")
    pictures = {
        f"{stem}_ratio.png": ratio_with_points(kf.ratio, kf.points, kf.labels),
        f"{stem}_mask.png": mask_overlay(kf.flash, kf.mask),
        f"{stem}_trimap.png": trimap_overlay(kf.flash, kf.trimap),
    }
    for path, picture in pictures.items():
        write_image(path, picture)
    kf.save(out)
    s = kf.summary()
    contrast = s["ratio_in"] / max(s["ratio_out"], 1e-6)
    print(
        f"{out}: subject {s['area_pct']:.1f} % of {kf.size[0]}x{kf.size[1]}, {s['points']} points, mean ratio "
        f"{s['ratio_in']:.2f} inside vs {s['ratio_out']:.2f} outside ({contrast:.1f}x); "
        f"{kf.settings['segmenter']}, {kf.settings['estimator']} ratio, band {kf.settings['band']} px"
    )
    return 0


def _cmd_synth_pair(args: argparse.Namespace) -> int:
    from flashvid.data.synth import synthetic_pair
    from flashvid.imageio import write_image

    out = Path(args.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    pair = synthetic_pair(args.height, args.width, seed=args.seed)
    write_image(out / "flash.png", pair.flash)
    write_image(out / "noflash.png", pair.noflash)
    write_image(out / "alpha.png", (pair.alpha * 255 + 0.5).astype("uint8"))
    print(
        f"{out}: flash.png, noflash.png and alpha.png ({args.width}x{args.height}, background "
        f"{pair.light.d_ratio:.1f}x farther than the subject, flash {pair.light.power:.1f}x ambient)"
    )
    return 0


def _size(text: str) -> tuple[int, int]:
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"size must look like 1280x720, got {text!r}") from exc
    if w < 16 or h < 16:
        raise argparse.ArgumentTypeError(f"size must be at least 16x16, got {text!r}")
    return w, h


def _cmd_info(args: argparse.Namespace) -> int:
    import torch

    from flashvid.network import MODELS, build_model
    from flashvid.profile import format_costs, model_costs

    torch.manual_seed(0)
    model = build_model(args.model, args.checkpoint)
    print(f"{args.model}: {MODELS[args.model].description}")
    for w, h in args.size:
        print(format_costs(model_costs(model, h, w), h, w))
    return 0


def build_parser() -> tuple[argparse.ArgumentParser, dict[str, Handler]]:
    """The argument parser and the handler of each subcommand."""
    parser = argparse.ArgumentParser(prog="flashvid", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    handlers: dict[str, Handler] = {}

    p = sub.add_parser("keyframe", help="make a flash keyframe (ratio map, mask, trimap) from a flash / no-flash pair")
    p.add_argument("--flash", required=True, help="the flash-lit frame (PNG/JPEG)")
    p.add_argument("--noflash", required=True, help="the no-flash frame taken right beside it")
    p.add_argument("--out", required=True, help="keyframe file to write (.flashkey); PNGs are written beside it")
    p.add_argument("--sam-checkpoint", help="segment-anything checkpoint (vit_b/l/h); default: GrabCut, no weights")
    p.add_argument("--sam-type", choices=["vit_b", "vit_l", "vit_h"], help="check the checkpoint's type")
    p.add_argument("--band", type=int, help="trimap band in pixels (default: 3.5 %% of the shorter side)")
    p.add_argument("--estimator", choices=["pixel", "histogram"], default="pixel", help="ratio map estimator")
    p.add_argument("--threshold", type=float, default=0.7, help="confident ratio threshold (default 0.7)")
    p.add_argument("--negative-points", type=int, default=0, help="negative points from the lowest-ratio areas")
    p.add_argument("--resize", action="store_true", help="scale the no-flash image to the flash image's size")
    p.add_argument("--device", default="cpu", help="device for SAM: cpu or cuda")
    handlers["keyframe"] = _cmd_keyframe

    p = sub.add_parser("synth-pair", help="render a synthetic flash / no-flash pair with ground-truth alpha")
    p.add_argument("--out-dir", required=True)
    p.add_argument("--width", type=int, default=640)
    p.add_argument("--height", type=int, default=480)
    p.add_argument("--seed", type=int, default=0)
    handlers["synth-pair"] = _cmd_synth_pair

    from flashvid.network.build import MODELS

    p = sub.add_parser("info", help="parameters and FLOPs per component of a model")
    p.add_argument("--model", choices=sorted(MODELS), default="flashvid-rt")
    p.add_argument("--checkpoint", help="weights to load (FLOPs do not depend on them)")
    p.add_argument("--size", type=_size, action="append", help="frame size WxH (repeatable; default 1280x720)")
    p.set_defaults(size=None)
    handlers["info"] = _cmd_info
    return parser, handlers


def main(argv: Sequence[str] | None = None) -> int:
    """Run the `flashvid` command line; returns the exit status."""
    parser, handlers = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "size", "") is None:
        args.size = [(1280, 720)]
    try:
        return handlers[args.command](args)
    except FlashvidError as exc:
        print(f"flashvid: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("flashvid: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
