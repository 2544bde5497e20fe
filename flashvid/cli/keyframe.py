"""`flashvid keyframe`, `flashvid synth-pair` and `flashvid weights`: making keyframes and getting weights."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from flashvid import defaults
from flashvid.cli.common import Handler, add_band, device, in_range, int_in, sam
from flashvid.errors import FlashvidError


def cmd_keyframe(args: argparse.Namespace) -> int:
    from flashvid.imageio import read_image
    from flashvid.keyframe import make_keyframe
    from flashvid.keyframe.files import check_keyframe_outputs, write_keyframe_set

    out = Path(args.out)
    sources = [bool(args.flash or args.noflash), bool(args.from_video), bool(args.frame)]
    if sum(sources) > 1:
        raise FlashvidError("give one of --flash F --noflash N, --from-video CLIP or --frame IMG --point X,Y")
    if args.frame and not args.point:
        raise FlashvidError(f"{args.frame}: --frame needs --point X,Y on the subject (once or more)")
    if (args.point or args.not_point) and not args.frame:
        raise FlashvidError("--point and --not are clicks on a --frame IMG (a keyframe without a flash)")
    if not args.from_video and not args.frame and not (args.flash and args.noflash):
        raise FlashvidError(
            "give --flash F and --noflash N (a flash pair), --from-video CLIP (a flash burst in it), "
            "or --frame IMG --point X,Y (no flash: click the subject)"
        )
    inputs = [p for p in (args.flash, args.noflash, args.from_video, args.frame) if p]
    check_keyframe_outputs(out, inputs, overwrite=args.overwrite)  # before any work
    settings: dict[str, Any] = dict(
        estimator=args.estimator,
        threshold=args.threshold,
        band=args.band,
        sam_checkpoint=sam(args.sam_checkpoint),
        sam_type=args.sam_type,
        device=args.device,
        resize=args.resize,
        negative_points=args.negative_points,
        accept_weak_flash=args.accept_weak_flash,
    )
    if args.frame:
        from flashvid.keyframe import keyframe_from_clicks

        points = list(args.point) + list(args.not_point or [])
        labels = [1] * len(args.point) + [0] * len(args.not_point or [])
        kf = keyframe_from_clicks(
            read_image(args.frame),
            points,
            labels,
            band=args.band,
            sam_checkpoint=settings["sam_checkpoint"],
            sam_type=args.sam_type,
            device=args.device,
            name=str(args.frame),
        )
    elif args.from_video:
        from flashvid.api import keyframe_from_video

        kf, found = keyframe_from_video(args.from_video, **settings)
        print(
            f"{args.from_video}: flash at frame {found.flash_index} ({found.gain:.2f}x the steady brightness), "
            f"no-flash frame {found.noflash_index}"
        )
    else:
        kf = make_keyframe(
            read_image(args.flash), read_image(args.noflash), names=(str(args.flash), str(args.noflash)), **settings
        )
    write_keyframe_set(kf, out, inputs, overwrite=args.overwrite)
    s = kf.summary()
    head = f"{out}: subject {s['area_pct']:.1f} % of {kf.size[0]}x{kf.size[1]}, {s['points']} points"
    if kf.settings.get("no_flash"):
        print(f"{head}; no flash (picked by clicks); {kf.settings['segmenter']}, band {kf.settings['band']} px")
        return 0
    contrast = s["ratio_in"] / max(s["ratio_out"], 1e-6)
    print(
        f"{head}, mean ratio {s['ratio_in']:.2f} inside vs {s['ratio_out']:.2f} outside ({contrast:.1f}x); "
        f"{kf.settings['segmenter']}, {kf.settings['estimator']} ratio, band {kf.settings['band']} px"
    )
    return 0


def point(text: str) -> tuple[float, float]:
    """``X,Y`` in pixels -> (x, y)."""
    try:
        x, y = (float(v) for v in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: give a point as X,Y in pixels, e.g. 320,200") from None
    return x, y


def cmd_weights(args: argparse.Namespace) -> int:
    from flashvid.weights import WEIGHTS, cache_dir, fetch

    if args.action == "list":
        for name, spec in WEIGHTS.items():
            here = (cache_dir() / spec.filename).is_file()
            print(f"{name:10} {spec.size_mb:5d} MB  {spec.licence:10}  {'downloaded' if here else 'not downloaded'}")
        print(f"cache: {cache_dir()}")
        return 0
    if not args.name:
        raise FlashvidError(f"name the weights to fetch: one of {', '.join(WEIGHTS)}")
    from tqdm import tqdm

    bar = tqdm(unit="B", unit_scale=True, desc=args.name, dynamic_ncols=True)

    def show(done: int, total: int) -> None:
        bar.total = total or None
        bar.n = done
        bar.refresh()

    try:
        path = fetch(args.name, folder=args.cache, url=args.url, progress=show)
    finally:
        bar.close()
    print(f"{path}: {args.name} ready (SHA-256 checked); use --sam-checkpoint {args.name}")
    return 0


def cmd_synth_pair(args: argparse.Namespace) -> int:
    from flashvid.imageio import write_image
    from flashvid.training.data.synth import synthetic_pair

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


def register(sub: argparse._SubParsersAction, handlers: dict[str, Handler]) -> None:
    """Add this group's subcommands to `sub` and their handlers to `handlers`."""
    p = sub.add_parser("keyframe", help="make a flash keyframe (ratio map, mask, trimap) from a flash / no-flash pair")
    p.add_argument("--flash", help="the flash-lit frame (PNG/JPEG)")
    p.add_argument("--noflash", help="the no-flash frame taken right beside it")
    p.add_argument("--from-video", help="instead: find a flash burst (torch / screen flash) in this clip")
    p.add_argument("--frame", help="instead, without a flash: this frame (PNG/JPEG), with --point on the subject")
    p.add_argument(
        "--point", type=point, action="append", default=[], metavar="X,Y", help="(with --frame) a click on the subject"
    )
    p.add_argument(
        "--not", dest="not_point", type=point, action="append", default=[], metavar="X,Y",
        help="(with --frame) a click on something that is not the subject",
    )  # fmt: skip
    p.add_argument("--out", required=True, help="keyframe file to write (.flashkey); PNGs are written beside it")
    p.add_argument(
        "--overwrite", action="store_true", help="replace an existing keyframe set (once the new one is complete)"
    )
    p.add_argument("--sam-checkpoint", help="segment-anything checkpoint (vit_b/l/h); default: GrabCut, no weights")
    p.add_argument("--sam-type", choices=["vit_b", "vit_l", "vit_h"], help="check the checkpoint's type")
    add_band(p, "trimap band in pixels (default: 3.5 %% of the shorter side)")
    p.add_argument("--estimator", choices=["pixel", "histogram"], default="pixel", help="ratio map estimator")
    p.add_argument(
        "--threshold",
        type=in_range(defaults.RATIO_THRESHOLD_RANGE),
        default=defaults.RATIO_THRESHOLD,
        help="confident ratio threshold (default %(default)s)",
    )
    p.add_argument(
        "--negative-points", type=int_in(0, 64), default=0, help="negative points from the lowest-ratio areas"
    )
    p.add_argument("--resize", action="store_true", help="scale the no-flash image to the flash image's size")
    p.add_argument(
        "--accept-weak-flash",
        action="store_true",
        help="take --flash as the lit image even when the flash is too weak to confirm the order",
    )
    p.add_argument("--device", default=defaults.DEVICE, type=device, help="device for SAM: cpu or cuda")
    handlers["keyframe"] = cmd_keyframe

    p = sub.add_parser("synth-pair", help="render a synthetic flash / no-flash pair with ground-truth alpha")
    p.add_argument("--out-dir", required=True)
    p.add_argument("--width", type=int_in(16, defaults.MAX_FRAME_SIDE), default=640)
    p.add_argument("--height", type=int_in(16, defaults.MAX_FRAME_SIDE), default=480)
    p.add_argument("--seed", type=int, default=0)
    handlers["synth-pair"] = cmd_synth_pair

    p = sub.add_parser("weights", help="list or download official weights (SAM) into the cache folder")
    p.add_argument("action", choices=["list", "fetch"])
    p.add_argument("name", nargs="?", help="e.g. sam-vit-b")
    p.add_argument("--cache", help="folder (default: $FLASHVID_CACHE or ~/.cache/flashvid)")
    p.add_argument("--url", help="download from this mirror instead of the official URL (the SHA-256 still holds)")
    handlers["weights"] = cmd_weights
