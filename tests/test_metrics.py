"""Matting metrics against hand-computed values and on real ground truth."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from flashvid.training.metrics import SCALES, all_metrics, conn, grad, mse, report, sad, unknown_region


def test_perfect_prediction_scores_zero() -> None:
    rng = np.random.default_rng(0)
    gt = rng.random((40, 50)).astype(np.float32)
    for v in all_metrics(gt, gt).values():
        assert v == 0.0


def test_constant_offset_gives_expected_sad_and_mse() -> None:
    gt = np.full((10, 20), 0.5, np.float32)
    pred = gt + 0.1
    assert sad(pred, gt) == pytest.approx(200 * 0.1, rel=1e-5)
    assert mse(pred, gt) == pytest.approx(0.01, rel=1e-5)
    region = np.zeros((10, 20), bool)
    region[:, :5] = True
    assert sad(pred, gt, region) == pytest.approx(50 * 0.1, rel=1e-5)
    assert mse(pred, gt, region) == pytest.approx(0.01, rel=1e-5)
    assert grad(pred, gt) == pytest.approx(0.0, abs=1e-9)  # an offset has no gradient


def test_grad_of_a_step_edge() -> None:
    gt = np.zeros((21, 21))
    gt[:, 11:] = 1.0
    pred = np.zeros_like(gt)  # misses the edge entirely
    g = grad(pred, gt)
    # sum over the edge's neighbourhood of the gradient magnitude squared: positive and confined to the edge
    assert g > 0
    left = np.zeros_like(gt, bool)
    left[:, :3] = True
    assert grad(pred, gt, left) == pytest.approx(0.0, abs=1e-9)


def test_conn_hand_case() -> None:
    gt = np.zeros((5, 5))
    gt[1:4, 1:4] = 1.0
    pred = gt.copy()
    pred[2, 2] = 0.5  # a hole in the middle of the opaque block
    # at thresholds 0.1..0.5 the block stays whole; from 0.6 the centre drops out: level 0.5 there
    # phi_pred = 1 - (0.5 - 0.5) * 0 = 1; phi_gt = 1 - (1 - 0.5) * 1 = 0.5 -> error 0.5 at that pixel only
    assert conn(pred, gt) == pytest.approx(0.5)


def test_report_names_scales() -> None:
    text = report({"MSE": 0.002, "SAD": 1500.0}, "unknown band")
    assert "MSE x1e3 2.000" in text and "SAD /1e3 1.500" in text and "unknown band" in text
    assert set(SCALES) == {"MSE", "SAD", "Grad", "Conn"}


def test_on_real_ground_truth_blur_is_graded(shared_data: Path) -> None:
    gt = cv2.imread(str(shared_data / "alphamatting" / "alpha" / "GT01.png"))[:, :, 0].astype(np.float64) / 255
    tri = cv2.imread(str(shared_data / "alphamatting" / "trimap" / "GT01.png"))[:, :, 0]
    region = tri == 128
    small = all_metrics(cv2.GaussianBlur(gt, (0, 0), 1.0), gt, region)
    large = all_metrics(cv2.GaussianBlur(gt, (0, 0), 4.0), gt, region)
    for k in ("MSE", "SAD", "Grad", "Conn"):
        assert 0 < small[k] < large[k], k
    assert unknown_region(gt).sum() > region.sum() * 0.2


def test_per_clip_sad_and_ratios() -> None:
    """`evaluate` gives each clip's SAD in the unknown band; `format_clip_ratios` their ratio to a baseline, the
    ratio of the means and the worst clip."""
    from types import SimpleNamespace

    from flashvid.training.evaluate import evaluate, format_clip_ratios

    gt = np.zeros((2, 32, 32), np.float32)
    gt[:, 8:24, 8:24] = 1.0
    gt[:, 8:24, 7] = 0.5  # an unknown band
    clips = [SimpleNamespace(alphas=gt, subject="a"), SimpleNamespace(alphas=gt, subject="b")]
    worse = gt.copy()
    worse[:, 4:28, 4:28] = np.maximum(worse[:, 4:28, 4:28], 0.25)
    methods = {"perfect": lambda c: list(c.alphas), "blurred": lambda c: list(worse if c.subject == "b" else gt)}
    per: dict = {}
    evaluate(methods, clips, per)
    assert per["perfect"] == {"00 a": 0.0, "01 b": 0.0}
    assert per["blurred"]["00 a"] == 0.0 and per["blurred"]["01 b"] > 0.0
    text = format_clip_ratios({"m": {"00 a": 1.0, "01 b": 3.0}, "base": {"00 a": 2.0, "01 b": 2.0}}, "m", "base")
    assert "| 00 a | 0.001 | 0.002 | 0.50x |" in text and "| 01 b | 0.003 | 0.002 | 1.50x |" in text
    assert "ratio of the means | | | 1.00x" in text and "worst clip | | | 1.50x" in text
