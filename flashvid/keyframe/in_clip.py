"""A flash keyframe from inside a clip: the user flashes a torch or the screen for a moment during a take.

`find_flash_pair(frames)` scans frames (any iterable of H x W x 3 uint8 RGB, e.g. a decoded video's first
seconds) for a burst whose brightness jumps above the running level, takes its brightest frame as the flash image
and the nearest steady frame before the burst (or after it, when the burst opens the clip) as the no-flash image.
No video decoding here: the caller decodes (the keyframe stage knows nothing of video).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

import cv2
import numpy as np

from flashvid.keyframe.core import KeyframeError
from flashvid.keyframe.prior import LUMA, srgb_to_linear

#: A frame is lit by a flash when its mean linear brightness is at least this much above the steady level.
FLASH_JUMP = 0.12
#: A steady (no-flash) frame is within this of the steady level.
STEADY_TOLERANCE = 0.04


@dataclass
class InClipFlash:
    """flash / noflash: H x W x 3 uint8 RGB; indices in the scanned frames; gain: flash brightness / steady."""

    flash: np.ndarray
    noflash: np.ndarray
    flash_index: int
    noflash_index: int
    gain: float


def _level(frame: np.ndarray) -> float:
    small = cv2.resize(frame, (64, 36), interpolation=cv2.INTER_AREA)
    return float((srgb_to_linear(small) @ LUMA).mean())


def find_flash_pair(
    frames: Iterable[np.ndarray] | Callable[[], Iterable[np.ndarray]], name: str = "clip", max_frames: int = 900
) -> InClipFlash:
    """The flash burst's brightest frame and the nearest steady frame beside it; `KeyframeError` when the first
    `max_frames` frames hold no burst.

    `frames`: a callable that starts the frames afresh each time (a clip decoded twice: once for the brightness
    levels, once to fetch the two frames chosen, so memory holds two frames whatever the clip's length), or a
    sequence; a one-shot iterator is kept in memory up to `max_frames` frames."""
    reopen: Callable[[], Iterable[np.ndarray]]
    if callable(frames):
        reopen = frames
    elif isinstance(frames, Iterator):
        kept_all = [f for _, f in zip(range(max_frames), frames, strict=False)]
        reopen = lambda: kept_all  # noqa: E731
    else:
        reopen = lambda: frames  # noqa: E731
    levels = [_level(f) for _, f in zip(range(max_frames), reopen(), strict=False)]
    if len(levels) < 3:
        raise KeyframeError(f"{name}: only {len(levels)} frames; a flash burst needs a few frames around it")
    lv = np.asarray(levels)
    steady = float(np.median(lv))
    lit = lv > steady * (1 + FLASH_JUMP)
    if not lit.any():
        raise KeyframeError(
            f"{name}: no flash found in its first {len(levels)} frames (brightest {lv.max() / steady:.2f}x the steady "
            "level); flash a torch or the screen at the subject for a moment at the start of the take, or give "
            "--flash and --noflash images"
        )
    k = int(np.argmax(np.where(lit, lv, -1.0)))
    start, end = k, k
    while start > 0 and lit[start - 1]:
        start -= 1
    while end < len(lv) - 1 and lit[end + 1]:
        end += 1
    calm = np.abs(lv / steady - 1) <= STEADY_TOLERANCE
    before = [i for i in range(start - 2, -1, -1) if calm[i]]  # skip the frame right before: half-lit rows
    after = [i for i in range(end + 2, len(lv)) if calm[i]]
    if not before and not after:
        raise KeyframeError(f"{name}: the flash at frame {k} has no steady unlit frame beside it; hold still around it")
    n = before[0] if before else after[0]
    chosen: dict[int, np.ndarray] = {}
    for i, f in zip(range(max(k, n) + 1), reopen(), strict=False):
        if i in (k, n):
            chosen[i] = np.array(f, copy=True)
    if len(chosen) < len({k, n}):
        raise KeyframeError(f"{name}: frames {k} and {n} could not be read again; the file changed while it was read")
    return InClipFlash(chosen[k], chosen[n], k, n, float(lv[k] / steady))
