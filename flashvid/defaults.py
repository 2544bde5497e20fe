"""Every user-facing default, range and choice list, in one place. The CLI, the library and the studio read them
here (through `flashvid.spec`'s `MatterSpec` / `CompositorSpec` and the studio's settings table); a test holds
that they agree."""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Range:
    """An inclusive range of a number setting, with the step a control moves by."""

    low: float
    high: float
    step: float = 1

    def check(self, value: float, name: str) -> None:
        """Raise `flashvid.errors.InputError` naming `name` when `value` is not a finite number inside the range."""
        from flashvid.errors import InputError

        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise InputError(f"{name}={value!r}: give a number from {self.low:g} to {self.high:g}")
        if not (self.low <= value <= self.high):
            raise InputError(f"{name}={value!r} is out of range: give {self.low:g} to {self.high:g}")


#: The model FlashMatter, the CLI and the studio use unless told otherwise.
MODEL = "flashvid-rt"
#: Confident flash-ratio threshold for the segmenter's points (the authors use 0.7), and its range.
RATIO_THRESHOLD = 0.7
RATIO_THRESHOLD_RANGE = Range(0.05, 0.99, 0.05)
#: The keyframe trimap's unknown band in pixels: None (auto) is 3.5 % of the image's shorter side.
BAND: int | None = None
BAND_RANGE = Range(1, 1000, 1)
#: flashvid-rt's internal resolution (long side, pixels); the guided filter lifts the matte to the frame's size.
INTERNAL_SIZE = 384
INTERNAL_SIZE_RANGE = Range(128, 2048, 32)
#: The compositor: edge despill (how much of the network's foreground colour replaces the frame's at partial
#: alpha), temporal smoothing of alpha, and the background.
DESPILL = 1.0
DESPILL_RANGE = Range(0.0, 1.0, 0.01)
SMOOTHING = 0.0
SMOOTHING_RANGE = Range(0.0, 0.95, 0.01)
BACKGROUND = "#00ff00"
#: Matte finishing, in pixels of the frame: fill holes up to this size in the matte (a closing: the lettering on a
#: hoodie punched out), grow (+) or shrink (-) its edge, feather the edge (a Gaussian of this sigma). 0: off.
FILL_HOLES = 0
FILL_HOLES_RANGE = Range(0, 64, 1)
GROW = 0
GROW_RANGE = Range(-32, 32, 1)
FEATHER = 0.0
FEATHER_RANGE = Range(0.0, 32.0, 0.5)
#: `blur` without a strength, and the strengths accepted (Gaussian sigma in pixels).
BLUR_STRENGTH = 20.0
BLUR_RANGE = Range(0.5, 200.0, 1)
#: flashvid-rt's subject check (flashvid.network.rt.subject_gate): (low, high, hold_low, hold_high) appearance
#: similarity of the matted person to the keyframe's subject. The gate opens from `low` (no matte) to `high` (the
#: whole matte) and, once open, holds down to `hold_high`, shut at `hold_low`. How they were chosen, and what they
#: measure on which clips, is in the model card (assets/models/MODEL.md).
SUBJECT_GATE = (0.785, 0.815, 0.60, 0.65)
#: Whether flashvid-rt's subject check runs unless told otherwise: off. Its thresholds were set on clips of five
#: people in one room and it shut the matte on the keyframe's own subject in rooms it was not tuned in (issue 22);
#: the per-frame person prior keeps the keyframe's subject instead (the model card).
SUBJECT_CHECK = False
#: Inference engines (flashvid.engines registers one each) and numeric precisions.
ENGINES = ("eager", "compiled", "onnx", "tensorrt", "auto")
PRECISIONS = ("fp32", "fp16", "bf16")
DEVICES = ("cpu", "cuda")
#: How the library and the CLI run a model unless told otherwise (eager is the reference); the studio starts on
#: `STUDIO_ENGINE`, which measures the engines once per machine and keeps the fastest.
ENGINE = "eager"
STUDIO_ENGINE = "auto"
DEVICE = "cpu"
PRECISION = "fp32"
#: File suffixes read as video and as still images.
VIDEO_EXTENSIONS = (".mp4", ".mov", ".mkv", ".webm", ".avi", ".m4v")
IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".webp", ".tif", ".tiff")
#: Named frame sizes (width, height) for `--size`.
SIZES = {"360p": (640, 360), "720p": (1280, 720), "1080p": (1920, 1080), "2160p": (3840, 2160)}
#: `flashvid eval --outside --camera`: how a re-framed held-out clip is filmed, as (zoom on its first frame, zoom on
#: its last, pan over the clip as a share of the frame's width); `training.outside_eval.camera_affines`.
CAMERAS: dict[str, tuple[float, float, float]] = {
    "still": (1.0, 1.0, 0.0),
    "zoom-in": (1.0, 1.6, 0.0),
    "zoom-out": (1.6, 1.0, 0.0),
    "pan": (1.3, 1.3, 0.15),
}

#: The largest frame accepted anywhere (width x height), so a typo fails at once instead of allocating gigabytes.
MAX_FRAME_SIDE = 8192
#: The smallest side, and the most elongated shape (long side / short side), a frame may have: below, the
#: network's internal picture would be less than a few pixels across.
MIN_FRAME_SIDE = 16
MAX_ASPECT = 16.0


def check_frame_size(width: int, height: int, name: str) -> None:
    """Raise `flashvid.errors.InputError` naming `name` for a frame too small, too large or too elongated."""
    from flashvid.errors import InputError

    if min(width, height) < MIN_FRAME_SIDE or max(width, height) > MAX_FRAME_SIDE:
        raise InputError(
            f"{name}: {width}x{height} pixels; give frames of {MIN_FRAME_SIDE} to {MAX_FRAME_SIDE} pixels a side"
        )
    if max(width, height) / min(width, height) > MAX_ASPECT:
        raise InputError(
            f"{name}: {width}x{height} is more elongated than {MAX_ASPECT:g}:1; crop it to a frame's shape"
        )
