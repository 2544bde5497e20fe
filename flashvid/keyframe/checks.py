"""Checks of a flash / no-flash pair before a keyframe is made: sizes, and which image the flash lit."""

from __future__ import annotations

import cv2
import numpy as np

from flashvid import defaults
from flashvid.errors import InputError
from flashvid.keyframe.prior import LUMA, srgb_to_linear

#: A pair scoring below -SWAP_MARGIN on `flash_centredness` is refused as swapped; one scoring inside the margin
#: either way is too weak to confirm its order (`WeakFlashError`) unless the user confirms it.
SWAP_MARGIN = 0.1


class KeyframeError(InputError):
    """A keyframe cannot be made from the given pair, or a keyframe file cannot be read."""


class WeakFlashError(KeyframeError):
    """The pair's flash evidence is too weak to tell which image is the flash-lit one."""


def check_pair(
    flash: np.ndarray,
    noflash: np.ndarray,
    names: tuple[str, str] = ("flash", "no-flash"),
    accept_weak_flash: bool = False,
) -> float:
    """Refuse a pair of different sizes or a pair whose flash image is the darker one (swapped); and, unless
    `accept_weak_flash`, a pair whose evidence either way is inside `SWAP_MARGIN` (`WeakFlashError`: the caller
    asks the user rather than guesses). Returns the pair's `flash_centredness`."""
    if flash.shape[:2] != noflash.shape[:2]:
        raise KeyframeError(
            f"{names[1]}: {noflash.shape[1]}x{noflash.shape[0]} but {names[0]} is {flash.shape[1]}x{flash.shape[0]}; "
            "give two frames of the same size, or pass --resize to scale the no-flash image to the flash one"
        )
    top = defaults.MAX_FRAME_SIDE
    if max(flash.shape[:2]) > top:
        raise KeyframeError(
            f"{names[0]}: {flash.shape[1]}x{flash.shape[0]} is larger than {top} pixels a side; scale the pair down"
        )
    defaults.check_frame_size(flash.shape[1], flash.shape[0], names[0])
    score = flash_centredness(flash, noflash)
    if score < -SWAP_MARGIN:
        raise KeyframeError(
            f"{names[0]}: the flash lit the surroundings rather than the subject (centre vs border log-ratio "
            f"{score:+.2f}); the two look swapped - give the flash-lit frame as --flash"
        )
    if score < SWAP_MARGIN and not accept_weak_flash:
        raise weak_flash_error(names[0], score)
    return score


def weak_flash_error(name: str, score: float) -> WeakFlashError:
    return WeakFlashError(
        f"{name}: the flash lit the subject barely more than the surroundings (centre vs border log-ratio "
        f"{score:+.2f}), too little to confirm which image is the flash-lit one; check that --flash is the lit "
        "one, then pass --accept-weak-flash"
    )


def flash_centredness(flash: np.ndarray, noflash: np.ndarray, work: int = 256) -> float:
    """Median log(F/N) in the frame's central quarter minus that in its far border (top, left and right 12 %).

    A flash lights the near subject, which sits towards the centre, far more than the far surroundings at the
    borders, so a real pair scores above zero; swapping the two images negates the score exactly. Taking the
    log-ratio's difference cancels any global exposure change (auto exposure, exposure compensation), so a pair
    whose flash image is darker overall is still told apart. Computed on a `work`-pixel copy (fast at any size).
    """
    h, w = flash.shape[:2]
    s = min(1.0, work / max(h, w))
    if s < 1:
        size = (max(8, round(w * s)), max(8, round(h * s)))
        flash = cv2.resize(flash, size, interpolation=cv2.INTER_AREA)
        noflash = cv2.resize(noflash, size, interpolation=cv2.INTER_AREA)
    qf, qn = srgb_to_linear(flash) @ LUMA, srgb_to_linear(noflash) @ LUMA
    valid = (qf > 0.004) & (qn > 0.004) & (qf < 0.98) & (qn < 0.98)
    lr = np.log(np.maximum(qf, 1e-4) / np.maximum(qn, 1e-4))
    hh, ww = lr.shape
    cy = (np.arange(hh)[:, None] + 0.5) / hh - 0.5
    cx = (np.arange(ww)[None, :] + 0.5) / ww - 0.5
    centre = (np.abs(cy) < 0.25) & (np.abs(cx) < 0.25) & valid
    border = ((np.abs(cx) > 0.38) | (cy < -0.38)) & valid
    if centre.sum() < 16 or border.sum() < 16:
        return 0.0
    return float(np.median(lr[centre]) - np.median(lr[border]))
