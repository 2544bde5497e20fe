"""A keyframe without a flash: the subject picked by clicks on one frame.

``keyframe_from_clicks(frame, points, labels)`` is for a user who has no flash at hand, or whose matte drifted
and who wants to key again from the frame in front of them ("fix from this frame"). The frame stands in for both
pictures of the pair; the subject is the person (or people) under the positive clicks, found by the shipped
person segmenter, or, when no person is under them, GrabCut grown from the clicks (SAM with a checkpoint). The
keyframe records ``no_flash: true`` so every summary can say so.

What it costs: the network's flash branch (FCM) then sees the subject lit as the room is, so it learns nothing from
light; the keyframe's mask and the person prior carry the subject. On the out-of-room validation clips, matting
against the same masks with the frame in place of the flash image scored 0.806 / 0.791 IoU (MediaPipe / DeepLabV3)
against 0.816 / 0.798 with a flash (issue 22's note).

The ratio map of such a keyframe is a map of the clicks (`click_map`): 1 in a disc around each positive click, 0
around each negative one, `BACKGROUND` elsewhere, so the tools that edit a keyframe (`Keyframe.with_points`,
`Keyframe.with_band`) work on it unchanged.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np

from flashvid.errors import InputError
from flashvid.imageio import to_rgb8
from flashvid.keyframe.core import Keyframe, KeyframeError, make_segmenter, mark_clicks, segmenter_name
from flashvid.keyframe.segment import Segmenter
from flashvid.keyframe.trimap import default_band, make_trimap

#: the click map away from the clicks: below the trimap's `ratio_low` (no band widening), not GrabCut's sure
#: background (the subject may reach anywhere)
BACKGROUND = 0.2


def click_map(shape: tuple[int, int], points: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """H x W float32: `BACKGROUND` with the discs `Keyframe.with_points` draws (`mark_clicks`)."""
    return mark_clicks(np.full(shape, BACKGROUND, np.float32), points, labels)


def keyframe_from_clicks(
    frame: np.ndarray,
    points: Sequence[tuple[float, float]] | np.ndarray,
    labels: Sequence[int] | np.ndarray | None = None,
    *,
    band: int | None = None,
    segmenter: str | Segmenter = "auto",
    sam_checkpoint: str | os.PathLike[str] | None = None,
    sam_type: str | None = None,
    device: str = "cpu",
    name: str = "frame",
) -> Keyframe:
    """A keyframe from one frame and clicks on it, without a flash.

    Args:
        frame: H x W x 3 uint8 RGB (gray, 16-bit and RGBA are converted).
        points: N x 2 (x, y) pixels; at least one positive.
        labels: N, 1 on the subject, 0 on what is not (None: all 1).
        band: trimap band in pixels (None: `default_band`).
        segmenter: ``"auto"`` (the people under the positive clicks, every one of them, else GrabCut; SAM when a
            checkpoint is given), ``"person"``, ``"grabcut"``, ``"sam"`` or a `Segmenter`.
        name: how the frame is named in errors (a file name, ``"frame 120"``).

    Raises:
        InputError: no positive point, points off the frame, or labels that do not match.
        KeyframeError: nothing found under the clicks.
    """
    img = to_rgb8(frame, name=name)
    h, w = img.shape[:2]
    pts = np.asarray(points, np.float32).reshape(-1, 2)
    lab = np.ones(len(pts), np.int32) if labels is None else np.asarray(labels, np.int32).reshape(-1)
    if len(pts) != len(lab):
        raise InputError(f"{len(pts)} points but {len(lab)} labels; give one label (1 or 0) per point")
    if not (lab == 1).any():
        raise InputError(f"{name}: click at least once on the subject (a positive point)")
    off = [(float(x), float(y)) for x, y in pts if not (0 <= x < w and 0 <= y < h)]
    if off:
        raise InputError(f"{name}: point {off[0]} is outside the {w}x{h} frame; click inside it")
    ratio = click_map((h, w), pts, lab)
    if segmenter in ("auto", "person") and sam_checkpoint is None:
        from flashvid.keyframe.person import PersonFlashSegmenter

        # every clicked person (not only the most lit), nothing cut or added by light: there is no flash
        seg: Segmenter = PersonFlashSegmenter(keep_ratio=0.0, far_ratio=0.0, near_ratio=1.0, cue="the clicks")
    else:
        seg = make_segmenter(segmenter, sam_checkpoint, sam_type, device)
    mask = (seg.segment(img, ratio, pts, lab) > 0).astype(np.uint8)
    if not mask.any():
        raise KeyframeError(f"{name}: nothing was found under the clicks; click on the subject itself")
    band_px = default_band(h, w) if band is None else int(band)
    settings = {
        "no_flash": True,
        "segmenter": segmenter_name(seg),
        "band": band_px,
        "points": int((lab == 1).sum()),
    }
    return Keyframe(img, img.copy(), ratio, pts, lab, mask, make_trimap(mask, band_px), settings)
