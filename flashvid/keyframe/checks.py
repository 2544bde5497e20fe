"""Checks of a flash / no-flash pair before a keyframe is made: sizes, and which image the flash lit."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np

from flashvid import defaults
from flashvid.errors import InputError
from flashvid.keyframe.prior import LUMA, srgb_to_linear

#: A pair scoring below -SWAP_MARGIN on `flash_evidence` is refused as swapped; one scoring inside the margin
#: either way is too weak to confirm its order (`WeakFlashError`) unless the user confirms it.
SWAP_MARGIN = 0.1

#: `person_contrast` speaks only for a person both images show alike (the people found in each agree at IoU at
#: least this), covering at least `PERSON_MIN_AREA` of the frame (after a 2 % erosion) with at least
#: `SURROUNDINGS_MIN_AREA` of it clear of them.
PERSON_AGREEMENT = 0.5
PERSON_MIN_AREA = 0.01
SURROUNDINGS_MIN_AREA = 0.1


class KeyframeError(InputError):
    """A keyframe cannot be made from the given pair, or a keyframe file cannot be read."""


class WeakFlashError(KeyframeError):
    """The pair's flash evidence is too weak to tell which image is the flash-lit one."""


def check_pair(
    flash: np.ndarray,
    noflash: np.ndarray,
    names: tuple[str, str] = ("flash", "no-flash"),
    accept_weak_flash: bool = False,
    person: Callable[[np.ndarray], np.ndarray] | None = None,
) -> float:
    """Refuse a pair of different sizes or a pair whose flash image is the darker one (swapped); and, unless
    `accept_weak_flash`, a pair whose evidence either way is inside `SWAP_MARGIN` (`WeakFlashError`: the caller
    asks the user rather than guesses). Returns the pair's `flash_evidence` score; `person` as there."""
    return pair_evidence(flash, noflash, names, accept_weak_flash, person).score


def pair_evidence(
    flash: np.ndarray,
    noflash: np.ndarray,
    names: tuple[str, str] = ("flash", "no-flash"),
    accept_weak_flash: bool = False,
    person: Callable[[np.ndarray], np.ndarray] | None = None,
) -> FlashEvidence:
    """`check_pair`, returning the whole `FlashEvidence`."""
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
    evidence = flash_evidence(flash, noflash, person)
    if evidence.score < -SWAP_MARGIN:
        raise KeyframeError(
            f"{names[0]}: the flash lit the surroundings rather than the subject ({evidence}); the two look "
            "swapped - give the flash-lit frame as --flash"
        )
    if evidence.score < SWAP_MARGIN and not accept_weak_flash:
        raise weak_flash_error(names[0], evidence)
    return evidence


def weak_flash_error(name: str, evidence: FlashEvidence) -> WeakFlashError:
    what = (
        "the people and the frame's centre disagree on which image the flash lit"
        if evidence.contradicts
        else "the flash lit the subject barely more than the surroundings"
    )
    return WeakFlashError(
        f"{name}: {what} ({evidence}), too little to confirm which image is the flash-lit one; check that --flash "
        "is the lit one, then pass --accept-weak-flash"
    )


@dataclass(frozen=True)
class FlashEvidence:
    """Which image of a pair the flash lit, from two cues: `centre` (`flash_centredness`: the subject sits
    towards the centre) and `person` (`person_contrast`: the subject is the person found in both images; None
    where none is found). Both are log-ratio differences that swapping the pair negates (to float rounding), so
    `score` is negated too, and a pair and its swap are never both accepted.

    `score`: the person cue where it is decisive (at least `SWAP_MARGIN` either way), since it does not assume
    where the subject stands (off-centre, small, far, two people with a gap between them); else the centre cue.
    Where both are decisive and disagree, 0 (too weak to tell: the user is asked, never refused or guessed)."""

    centre: float
    person: float | None

    @property
    def contradicts(self) -> bool:
        p = self.person
        return p is not None and min(abs(p), abs(self.centre)) >= SWAP_MARGIN and (p > 0) != (self.centre > 0)

    @property
    def score(self) -> float:
        if self.person is None or abs(self.person) < SWAP_MARGIN:
            return self.centre
        return 0.0 if self.contradicts else self.person

    def __str__(self) -> str:
        centre = f"centre vs border log-ratio {self.centre:+.2f}"
        if self.person is None:
            return centre
        person = f"person vs surroundings {self.person:+.2f}"
        return f"{person}, {centre}" if self.contradicts or abs(self.person) < SWAP_MARGIN else person


@functools.cache
def _default_person() -> Callable[[np.ndarray], np.ndarray]:
    from flashvid.keyframe.person import PersonSegmenter

    return PersonSegmenter()


def flash_evidence(
    flash: np.ndarray, noflash: np.ndarray, person: Callable[[np.ndarray], np.ndarray] | None = None
) -> FlashEvidence:
    """Both cues of `FlashEvidence` for a pair (H x W x 3 uint8 each); `person` maps an image to a person
    probability (H x W float 0..1; None: the shipped person segmenter)."""
    lr, valid, small_f, small_n = _log_ratio(flash, noflash)
    return FlashEvidence(_centredness(lr, valid), person_contrast(lr, valid, small_f, small_n, person))


def person_contrast(
    lr: np.ndarray,
    valid: np.ndarray,
    flash: np.ndarray,
    noflash: np.ndarray,
    person: Callable[[np.ndarray], np.ndarray] | None = None,
) -> float | None:
    """Median log(F/N) on the people both images show minus that on their surroundings (2 % of the frame away
    from them), from `_log_ratio`'s maps and the images it worked on; None where no such person is found.

    A person is found in each image by the segmenter, and the two must agree (`PERSON_AGREEMENT`): one image
    can fool it (black headphones on a carpet look like a person in one of a real pair's images and not in the
    other). The people are found alike in either order, so swapping the pair negates the result."""
    seg = person or _default_person()
    pf, pn = seg(flash) > 0.5, seg(noflash) > 0.5
    union = int((pf | pn).sum())
    both = pf & pn
    if union == 0 or both.sum() < PERSON_AGREEMENT * union:
        return None
    r = max(1, round(0.02 * max(lr.shape)))
    disk = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1))
    inside = (cv2.erode(both.astype(np.uint8), disk) > 0) & valid
    outside = ~(cv2.dilate(both.astype(np.uint8), disk) > 0) & valid
    if inside.sum() < PERSON_MIN_AREA * lr.size or outside.sum() < SURROUNDINGS_MIN_AREA * lr.size:
        return None
    return float(np.median(lr[inside]) - np.median(lr[outside]))


def flash_centredness(flash: np.ndarray, noflash: np.ndarray, work: int = 256) -> float:
    """Median log(F/N) in the frame's central quarter minus that in its far border (top, left and right 12 %).

    A flash lights the near subject, which often sits towards the centre, far more than the far surroundings at
    the borders, so a centred subject's pair scores above zero; swapping the two images negates the score
    exactly. Taking the log-ratio's difference cancels any global exposure change (auto exposure, exposure
    compensation), so a pair whose flash image is darker overall is still told apart. A subject that covers
    less than half of the central quarter does not move its median (a far or off-centre person scores near 0):
    `flash_evidence` adds the person cue for them. Computed on a `work`-pixel copy (fast at any size).
    """
    lr, valid, _, _ = _log_ratio(flash, noflash, work)
    return _centredness(lr, valid)


def _log_ratio(
    flash: np.ndarray, noflash: np.ndarray, work: int = 256
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(log(F/N) of linear luma, where both are neither black nor clipped, the flash and no-flash images) on
    copies of at most `work` pixels a side."""
    h, w = flash.shape[:2]
    s = min(1.0, work / max(h, w))
    if s < 1:
        size = (max(8, round(w * s)), max(8, round(h * s)))
        flash = cv2.resize(flash, size, interpolation=cv2.INTER_AREA)
        noflash = cv2.resize(noflash, size, interpolation=cv2.INTER_AREA)
    qf, qn = srgb_to_linear(flash) @ LUMA, srgb_to_linear(noflash) @ LUMA
    valid = (qf > 0.004) & (qn > 0.004) & (qf < 0.98) & (qn < 0.98)
    lr = np.log(np.maximum(qf, 1e-4) / np.maximum(qn, 1e-4))
    return lr, valid, flash, noflash


def _centredness(lr: np.ndarray, valid: np.ndarray) -> float:
    hh, ww = lr.shape
    cy = (np.arange(hh)[:, None] + 0.5) / hh - 0.5
    cx = (np.arange(ww)[None, :] + 0.5) / ww - 0.5
    centre = (np.abs(cy) < 0.25) & (np.abs(cx) < 0.25) & valid
    border = ((np.abs(cx) > 0.38) | (cy < -0.38)) & valid
    if centre.sum() < 16 or border.sum() < 16:
        return 0.0
    return float(np.median(lr[centre]) - np.median(lr[border]))
