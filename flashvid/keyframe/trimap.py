"""Trimaps from masks.

A trimap marks each pixel as background (0), unknown (128) or foreground (255). The unknown band is the
difference of a dilation and an erosion of the mask with one elliptical kernel (the authors use a 45 px ellipse
on full-size phone photos). Its default size scales with the image, so a webcam frame and a 12 MP photo get
bands of the same relative width. One-hot trimaps have the channel order (bg, unknown, fg).
"""

from __future__ import annotations

import cv2
import numpy as np

BG, UNKNOWN, FG = 0, 128, 255


def default_band(height: int, width: int) -> int:
    """Default band (elliptical kernel size in px, odd, >= 13): 3.5 % of the shorter side.

    360p -> 13, 720p -> 25, 1080p -> 39 (the authors use a fixed 45 px), 3024x4032 -> 107.
    """
    k = max(13, round(0.035 * min(height, width)))
    return k | 1


def make_trimap(
    mask: np.ndarray,
    band: int | None = None,
    ratio: np.ndarray | None = None,
    ratio_low: float = 0.25,
    ratio_high: float = 0.6,
) -> np.ndarray:
    """Trimap from a subject mask, optionally widened where the flash ratio map disagrees with the mask.

    Args:
        mask: H x W, nonzero on the subject (0/1, 0/255 or bool).
        band: elliptical kernel size in pixels (the unknown band is about this wide, half on each side of the
            mask's edge); None for `default_band`.
        ratio: optional H x W flash ratio map in 0..1. Within 3 bands of the mask's edge, pixels outside the
            mask with ratio >= `ratio_low` (missed hair, a hand) and pixels inside it with ratio < `ratio_high`
            (background caught by the segmenter) become unknown too, so the band follows the doubt.

    Returns:
        H x W uint8 with values {0, 128, 255}.
    """
    m = (np.asarray(mask) > 0).astype(np.uint8)
    k = default_band(*m.shape) if band is None else int(band)
    if k < 1:
        raise ValueError(f"band must be at least 1 px, got {band}")
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k))
    unknown = cv2.dilate(m, kernel) > 0
    fg = cv2.erode(m, kernel) > 0
    if ratio is not None:
        wide = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (3 * k, 3 * k))
        near = (cv2.dilate(m, wide) > 0) & ~(cv2.erode(m, wide) > 0)
        doubt = near & np.where(m > 0, ratio < ratio_high, ratio >= ratio_low)
        doubt = cv2.dilate(doubt.astype(np.uint8), kernel) > 0
        unknown |= doubt
        fg &= ~doubt
    tri = np.full(m.shape, BG, np.uint8)
    tri[unknown] = UNKNOWN
    tri[fg] = FG
    return tri


def trimap_onehot(trimap: np.ndarray) -> np.ndarray:
    """H x W trimap {0,128,255} -> 3 x H x W float32 one-hot in the order (bg, unknown, fg)."""
    t = np.asarray(trimap)
    return np.stack([t < 64, (t >= 64) & (t < 192), t >= 192]).astype(np.float32)


def trimap_from_onehot(onehot: np.ndarray) -> np.ndarray:
    """3 x H x W scores in the order (bg, unknown, fg) -> H x W uint8 trimap {0,128,255} by argmax."""
    return np.array([BG, UNKNOWN, FG], np.uint8)[np.argmax(np.asarray(onehot), axis=0)]
