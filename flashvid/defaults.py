"""Every user-facing default and choice list, in one place. The CLI, the library and the studio read them here."""

from __future__ import annotations

#: The model FlashMatter, the CLI and the studio use unless told otherwise.
MODEL = "flashvid-rt"
#: Confident flash-ratio threshold for the segmenter's points (the authors use 0.7).
RATIO_THRESHOLD = 0.7
#: flashvid-rt's internal resolution (long side, pixels); the guided filter lifts the matte to the frame's size.
INTERNAL_SIZE = 384
#: flashvid-rt's subject check (flashvid.network.rt.subject_gate): (low, high, hold_low, hold_high) appearance
#: similarity of the matted person to the keyframe's subject. The gate opens from `low` (no matte) to `high` (the
#: whole matte) and, once open, holds down to `hold_high`, shut at `hold_low`. (low, high) were chosen on the 14
#: Intel clips the evaluation does not use (every other frame of 30, the shipped weights' mattes): the same person
#: scored 0.818 at worst, another person 0.47 on average, 0.786 at most; the ramp spans that gap. The hold lies
#: between another person's mean (about 0.5) and the lowest a confirmed subject scored on moving composites (0.663).
SUBJECT_GATE = (0.785, 0.815, 0.60, 0.65)
#: Whether flashvid-rt's subject check runs unless told otherwise. On: with its hold it keeps the keyframe's own
#: subject on every real clip and moving composite of the evaluation and shuts the matte for anyone else
#: (assets/models/MODEL.md); ~1 ms per 720p frame on the CPU.
SUBJECT_CHECK = True
#: Inference engines (flashvid.engines registers one each) and numeric precisions.
ENGINES = ("eager", "compiled", "onnx", "tensorrt", "auto")
PRECISIONS = ("fp32", "fp16", "bf16")
DEVICES = ("cpu", "cuda")
#: File suffixes read as video and as still images.
VIDEO_EXTENSIONS = (".mp4", ".mov", ".mkv", ".webm", ".avi", ".m4v")
IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".webp", ".tif", ".tiff")
#: Named frame sizes (width, height) for `--size`.
SIZES = {"360p": (640, 360), "720p": (1280, 720), "1080p": (1920, 1080), "2160p": (3840, 2160)}
#: The largest frame accepted anywhere (width x height), so a typo fails at once instead of allocating gigabytes.
MAX_FRAME_SIDE = 8192
