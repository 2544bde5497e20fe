"""What the command groups share: the parser class with the one-line error form, argument types whose ranges
come from `flashvid.defaults`, the matter's and the compositor's flags (built from `flashvid.spec`) and the
keyframe flags."""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

from flashvid import defaults
from flashvid.defaults import Range
from flashvid.errors import FlashvidError
from flashvid.spec import CompositorSpec, MatterSpec, field_defaults

if TYPE_CHECKING:
    from flashvid.keyframe import Keyframe

Handler = Callable[[argparse.Namespace], int]


class Parser(argparse.ArgumentParser):
    """argparse with the CLI's error form: one line on stderr, exit status 2 (no usage block)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"flashvid: error: {self.prog.removeprefix('flashvid ')}: {message}; see --help\n")


def size(text: str) -> tuple[int, int]:
    """WxH (or 360p / 720p / 1080p / 2160p) between 16 and `defaults.MAX_FRAME_SIDE` pixels a side."""
    if text.lower() in defaults.SIZES:
        return defaults.SIZES[text.lower()]
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"size must look like 1280x720 or 720p, got {text!r}") from exc
    try:
        defaults.check_frame_size(w, h, f"size {text!r}")
    except FlashvidError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return w, h


def int_in(lo: int, hi: int | None = None) -> Callable[[str], int]:
    """A whole number from `lo` to `hi` (no upper bound when None)."""

    def parse(text: str) -> int:
        try:
            v = int(text)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from exc
        if v < lo or (hi is not None and v > hi):
            raise argparse.ArgumentTypeError(
                f"{v} is out of range: give {lo} to {hi}" if hi else f"{v}: give {lo} or more"
            )
        return v

    return parse


def float_in(lo: float, hi: float) -> Callable[[str], float]:
    """A number from `lo` to `hi` (nan refused)."""

    def parse(text: str) -> float:
        try:
            v = float(text)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number") from exc
        if not (lo <= v <= hi):  # also refuses nan
            raise argparse.ArgumentTypeError(f"{text} is out of range: give {lo:g} to {hi:g}")
        return v

    return parse


def in_range(r: Range, whole: bool = False) -> Callable[[str], float] | Callable[[str], int]:
    """The argument type for a `defaults.Range`."""
    return int_in(int(r.low), int(r.high)) if whole else float_in(r.low, r.high)


def timecode(text: str) -> float:
    """Seconds, or [HH:]MM:SS(.sss), not negative."""
    try:
        parts = [float(p) for p in text.strip().split(":")]
    except ValueError:
        parts = []
    if not 1 <= len(parts) <= 3 or any(p < 0 or p != p for p in parts) or any(p >= 60 for p in parts[1:]):
        raise argparse.ArgumentTypeError(f"{text!r}: give seconds (12.5) or MM:SS / HH:MM:SS (1:02.5)")
    seconds = 0.0
    for p in parts:
        seconds = seconds * 60 + p
    return seconds


def background(text: str) -> str:
    """Colours and blur strengths are checked here; a file is checked for existence (read later)."""
    low = text.strip().lower()
    if low in ("none", "transparent") or low == "blur":
        return low  # (" none" typed with a space is still none)
    if low.startswith("blur:"):
        in_range(defaults.BLUR_RANGE)(low.split(":", 1)[1])
        return low
    if low.startswith("#"):
        if len(low) != 7 or any(c not in "0123456789abcdef" for c in low[1:]):
            raise argparse.ArgumentTypeError(f"{text!r}: write a colour as #RRGGBB, e.g. #00ff00")
        return low
    if not Path(text).is_file():
        raise argparse.ArgumentTypeError(f"{text}: no such file; give an image, a video, #RRGGBB, blur[:PX] or none")
    return text


def json_out(text: str) -> str:
    if Path(text).is_dir():
        raise argparse.ArgumentTypeError(f"{text}: is a folder; give a file name for the JSON")
    if not Path(text).resolve().parent.is_dir():
        raise argparse.ArgumentTypeError(f"{Path(text).parent}: no such folder for the JSON file; create it first")
    return text


def device(text: str) -> str:
    if text != "cpu" and not (text == "cuda" or (text.startswith("cuda:") and text[5:].isdigit())):
        raise argparse.ArgumentTypeError(f"{text!r}: give cpu, cuda or cuda:N")
    return text


def check_device(name: str) -> None:
    """A CUDA device that this machine does not have is one line, before any work."""
    if name.startswith("cuda"):
        import torch

        if not torch.cuda.is_available():
            raise FlashvidError(f"--device {name}: no CUDA GPU is visible here; use --device cpu")
        if ":" in name and int(name.split(":")[1]) >= torch.cuda.device_count():
            raise FlashvidError(f"--device {name}: only {torch.cuda.device_count()} CUDA device(s) here")


def add_subject_check(p: argparse.ArgumentParser, what: str) -> None:
    """`--subject-check / --no-subject-check`; unset (None) is `defaults.SUBJECT_CHECK` for a model that has the
    check, off for models without it (`MatterSpec.subject_check_on`)."""
    state = "on" if defaults.SUBJECT_CHECK else "off"
    p.add_argument(
        "--subject-check",
        action=argparse.BooleanOptionalAction,
        default=None,
        help=f"{what} (flashvid-rt's; default {state} for it)",
    )


def add_band(p: argparse.ArgumentParser, help: str) -> None:
    r = defaults.BAND_RANGE
    p.add_argument("--band", type=in_range(r, whole=True), default=defaults.BAND, help=f"{help} ({r.low:g}-{r.high:g})")


def add_matter_arguments(p: argparse.ArgumentParser) -> None:
    """The matter's flags, one per `MatterSpec` field, defaults from it and ranges from `flashvid.defaults`."""
    from flashvid.network.build import MODELS

    d = field_defaults(MatterSpec)
    r = defaults.INTERNAL_SIZE_RANGE
    p.add_argument("--model", choices=sorted(MODELS), default=d["model"])
    p.add_argument("--checkpoint", help="model weights (default: the shipped ones)")
    p.add_argument("--engine", default=d["engine"], choices=defaults.ENGINES)
    p.add_argument("--device", default=d["device"], type=device, help="cpu, cuda or cuda:N")
    p.add_argument("--precision", default=d["precision"], choices=defaults.PRECISIONS, help="fp16 needs CUDA")
    p.add_argument(
        "--internal-size",
        type=in_range(r, whole=True),
        help=f"flashvid-rt internal resolution (long side, {r.low:g}-{r.high:g}; default {defaults.INTERNAL_SIZE})",
    )
    p.add_argument("--random-weights", action="store_true", help="untrained weights, for speed tests only")
    add_subject_check(p, "fade the matte out for anyone who does not look like the keyframe's subject")


def matter_spec(args: argparse.Namespace) -> MatterSpec:
    """The `MatterSpec` of `add_matter_arguments`'s flags (the device checked against this machine)."""
    check_device(args.device)
    return MatterSpec(
        args.model,
        args.checkpoint,
        args.engine,
        args.device,
        args.precision,
        getattr(args, "internal_size", None),
        args.subject_check,
        args.random_weights,
    )


def add_compositor_arguments(p: argparse.ArgumentParser) -> None:
    """The compositor's flags, one per `CompositorSpec` field."""
    d = field_defaults(CompositorSpec)
    ds, sm = defaults.DESPILL_RANGE, defaults.SMOOTHING_RANGE
    p.add_argument(
        "--background", default=d["background"], type=background, help="image, video, #RRGGBB, blur[:STRENGTH] or none"
    )
    p.add_argument(
        "--despill",
        type=in_range(ds),
        default=d["despill"],
        help=f"{ds.low:g}..{ds.high:g} edge despill (default %(default)s)",
    )
    p.add_argument(
        "--smooth",
        type=in_range(sm),
        default=d["smoothing"],
        help=f"{sm.low:g}..{sm.high:g} temporal smoothing of alpha",
    )
    fh, gr, fe = defaults.FILL_HOLES_RANGE, defaults.GROW_RANGE, defaults.FEATHER_RANGE
    p.add_argument(
        "--fill-holes",
        type=in_range(fh, whole=True),
        default=d["fill_holes"],
        help=f"close holes in the matte up to this many px ({fh.low:g}-{fh.high:g}; 0 off)",
    )
    p.add_argument(
        "--grow",
        type=in_range(gr, whole=True),
        default=d["grow"],
        help=f"move the matte's edge out (+) or in (-) by px ({gr.low:g}..{gr.high:g})",
    )
    p.add_argument(
        "--feather",
        type=in_range(fe),
        default=d["feather"],
        help=f"soften the matte's edge: Gaussian sigma in px ({fe.low:g}-{fe.high:g}; 0 off)",
    )


def compositor_spec(args: argparse.Namespace) -> CompositorSpec:
    return CompositorSpec(args.background, args.despill, args.smooth, args.fill_holes, args.grow, args.feather)



def add_keyframe_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--keyframe", help="a keyframe file (flashvid keyframe), or auto: a flash burst in --input")
    p.add_argument("--flash", help="flash image (with --noflash, instead of --keyframe)")
    p.add_argument("--noflash", help="no-flash image")
    p.add_argument("--sam-checkpoint", help="SAM checkpoint for making the keyframe")
    p.add_argument(
        "--accept-weak-flash",
        action="store_true",
        help="with --flash / --noflash: take --flash as the lit image even when the flash is too weak to confirm it",
    )
    add_band(p, "remake the keyframe's trimap with this band in px")


def add_matting_arguments(p: argparse.ArgumentParser) -> None:
    """Keyframe, matter and compositor flags (export, stream, demo)."""
    add_keyframe_arguments(p)
    add_matter_arguments(p)
    add_compositor_arguments(p)


def sam(value: str | None) -> str | os.PathLike[str] | None:
    """--sam-checkpoint: a path, or a name from `flashvid weights list` (its cached download)."""
    from flashvid.weights import resolve

    return resolve(value)


def keyframe_from_args(args: argparse.Namespace) -> Keyframe:
    """The keyframe `add_keyframe_arguments`'s flags name: a file, ``auto`` (a flash burst in --input), or a pair."""
    from flashvid.imageio import read_image
    from flashvid.keyframe import Keyframe, make_keyframe

    if args.keyframe == "auto":
        from flashvid.api import keyframe_from_video

        if not getattr(args, "input", None):
            raise FlashvidError("--keyframe auto looks for a flash burst in --input; give a video file there")
        kf, found = keyframe_from_video(args.input)
        print(
            f"{args.input}: keyframe from the flash at frame {found.flash_index}, no-flash frame {found.noflash_index}"
        )
    elif args.keyframe:
        kf = Keyframe.load(args.keyframe)
    elif args.flash and args.noflash:
        kf = make_keyframe(
            read_image(args.flash),
            read_image(args.noflash),
            sam_checkpoint=sam(args.sam_checkpoint),
            names=(str(args.flash), str(args.noflash)),
            accept_weak_flash=args.accept_weak_flash,
        )
    else:
        raise FlashvidError("give --keyframe kf.flashkey, or --flash F and --noflash N to make one")
    if args.band:
        kf = kf.with_band(args.band)
    return kf


def install_sigterm() -> None:
    """SIGTERM ends a run as Ctrl-C does (what was done is kept as a partial file)."""
    import signal

    def handler(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, handler)
