"""Matting metrics as the Deep Image Matting evaluation defines them (Xu et al. 2017; Rhemann et al. 2009).

All take alpha mattes as float arrays in 0..1 (H x W) and a region mask (H x W bool: a trimap's unknown band,
or the whole image). Each returns the raw sum or mean over the region; `report` applies the customary scales
and names them beside every number:

* MSE: mean of (pred - gt)^2 over the region, reported x 1e3.
* SAD: sum of |pred - gt| over the region, reported / 1e3.
* Grad: sum of (|grad pred| - |grad gt|)^2 with first-order Gaussian derivative filters (sigma 1.4), reported / 1e3.
* Conn: connectivity error with threshold step 0.1 (theta 0.15), reported / 1e3.
"""

from __future__ import annotations

import cv2
import numpy as np

SCALES = {"MSE": (1e3, "x1e3"), "SAD": (1e-3, "/1e3"), "Grad": (1e-3, "/1e3"), "Conn": (1e-3, "/1e3")}


def _region(pred: np.ndarray, region: np.ndarray | None) -> np.ndarray:
    return np.ones(pred.shape, bool) if region is None else np.asarray(region, bool)


def mse(pred: np.ndarray, gt: np.ndarray, region: np.ndarray | None = None) -> float:
    r = _region(pred, region)
    return float(np.mean((pred[r] - gt[r]) ** 2)) if r.any() else 0.0


def sad(pred: np.ndarray, gt: np.ndarray, region: np.ndarray | None = None) -> float:
    r = _region(pred, region)
    return float(np.abs(pred[r] - gt[r]).sum())


def _gauss_gradient_magnitude(a: np.ndarray, sigma: float = 1.4) -> np.ndarray:
    """|grad a| with the reference code's derivative-of-Gaussian kernels.

    Half size ceil(sigma sqrt(-2 ln(sqrt(2 pi) sigma 0.01))) (4 for sigma 1.4); the 2-D kernel
    gauss(y) * dgauss(x) is normalised to unit Frobenius norm; replicated borders.
    """
    half = int(np.ceil(sigma * np.sqrt(-2.0 * np.log(np.sqrt(2 * np.pi) * sigma * 0.01))))
    x = np.arange(-half, half + 1, dtype=np.float64)
    g = np.exp(-(x**2) / (2 * sigma**2)) / (np.sqrt(2 * np.pi) * sigma)
    dg = -x * g / sigma**2
    dg = dg / (np.linalg.norm(g) * np.linalg.norm(dg))  # ||outer(g, dg)||_F = ||g|| ||dg||
    src = a.astype(np.float64)
    gx = cv2.sepFilter2D(src, cv2.CV_64F, dg, g, borderType=cv2.BORDER_REPLICATE)
    gy = cv2.sepFilter2D(src, cv2.CV_64F, g, dg, borderType=cv2.BORDER_REPLICATE)
    return np.sqrt(gx**2 + gy**2)


def grad(pred: np.ndarray, gt: np.ndarray, region: np.ndarray | None = None, sigma: float = 1.4) -> float:
    r = _region(pred, region)
    d = _gauss_gradient_magnitude(pred, sigma) - _gauss_gradient_magnitude(gt, sigma)
    return float(np.sum(d[r] ** 2))


def conn(pred: np.ndarray, gt: np.ndarray, region: np.ndarray | None = None, step: float = 0.1) -> float:
    """Connectivity error: how much each pixel's alpha is connected to the largest fully opaque region."""
    r = _region(pred, region)
    thresholds = np.arange(0.0, 1.0 + step / 2, step)
    level = np.ones(pred.shape, np.float64)
    for t in thresholds[1:]:
        both = ((pred >= t) & (gt >= t)).astype(np.uint8)
        n, labels, stats, _ = cv2.connectedComponentsWithStats(both, connectivity=4)
        keep = np.zeros(pred.shape, bool)
        if n > 1:
            keep = labels == 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
        level[(level == 1.0) & ~keep] = t - step  # 1.0 marks 'still connected' (the reference's -1 -> 1)

    def phi(a: np.ndarray) -> np.ndarray:
        d = a - level
        return 1.0 - d * (d >= 0.15)

    return float(np.sum(np.abs(phi(pred) - phi(gt))[r]))


def all_metrics(pred: np.ndarray, gt: np.ndarray, region: np.ndarray | None = None) -> dict[str, float]:
    """Raw MSE, SAD, Grad and Conn (apply `SCALES` to report)."""
    return {
        "MSE": mse(pred, gt, region),
        "SAD": sad(pred, gt, region),
        "Grad": grad(pred, gt, region),
        "Conn": conn(pred, gt, region),
    }


def report(values: dict[str, float], region_name: str) -> str:
    """'MSE x1e3 1.234 | SAD /1e3 5.6 | ...  (region: unknown band)'."""
    parts = [f"{k} {SCALES[k][1]} {v * SCALES[k][0]:.3f}" for k, v in values.items() if k in SCALES]
    return " | ".join(parts) + f"  (region: {region_name})"


def unknown_region(gt: np.ndarray, band: int = 15) -> np.ndarray:
    """The unknown band of a trimap made from the ground truth: pixels within band/2 of 0 < alpha < 1 or the edge."""
    fg = (gt > 0.999).astype(np.uint8)
    bg = (gt < 0.001).astype(np.uint8)
    k = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (band, band))
    return ~((cv2.erode(fg, k) > 0) | (cv2.erode(bg, k) > 0))
