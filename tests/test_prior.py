"""The flash prior, segmentation and trimap on synthetic pairs with known ground truth."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from flashvid.keyframe.prior import (
    PriorSettings,
    compute_prior,
    confident_points,
    linear_to_srgb,
    ratio_histogram,
    srgb_to_linear,
)
from flashvid.keyframe.segment import GrabCutSegmenter, fill_holes
from flashvid.keyframe.trimap import default_band, make_trimap, trimap_from_onehot, trimap_onehot
from flashvid.training.data.synth import FlashLight, synthetic_pair
from tests.conftest import iou

# Subject near the camera under an inverse-square flash, background 2-10x farther, mild noise and colour casts.
LIGHTS = [
    FlashLight(d_ratio=2.0, power=2.5, ambient_rgb=(1.15, 1.0, 0.85), exposure_f=0.33, noise=0.01),
    FlashLight(
        d_ratio=3.0,
        power=1.5,
        flash_rgb=(0.95, 1.0, 1.08),
        exposure_f=0.35,
        shadow=0.5,
        shadow_shift=(6, 4),
        specular=3,
        noise=0.015,
        jpeg=90,
    ),
    FlashLight(d_ratio=5.0, power=2.0, ambient_rgb=(0.9, 1.0, 1.1), exposure_f=0.28, noise=0.01, jpeg=85),
    FlashLight(d_ratio=10.0, power=3.0, exposure_f=0.3, shadow=0.3, shadow_shift=(-5, 8), specular=2, noise=0.02),
    FlashLight(d_ratio=4.0, power=2.0, exposure_f=0.35, noise=0.005),
    FlashLight(d_ratio=2.5, power=3.0, ambient_rgb=(1.2, 1.0, 0.8), exposure_f=0.32, noise=0.01),
]


@pytest.fixture(scope="module")
def pairs() -> list:
    return [synthetic_pair(240, 320, seed=10 + i, light=light) for i, light in enumerate(LIGHTS)]


def _mask(pair, estimator: str) -> tuple[np.ndarray, object]:
    prior = compute_prior(pair.flash, pair.noflash, PriorSettings(estimator=estimator))
    return GrabCutSegmenter().segment(pair.flash, prior.ratio, prior.points, prior.labels), prior


@pytest.mark.parametrize(("estimator", "min_iou"), [("pixel", 0.95), ("histogram", 0.90)])
def test_mask_iou_on_synthetic_pairs(pairs, estimator: str, min_iou: float) -> None:
    scores = [iou(_mask(p, estimator)[0], p.alpha > 0.5) for p in pairs]
    assert min(scores) >= min_iou, f"{estimator}: IoU per pair {np.round(scores, 3)}"


def test_positive_points_lie_on_the_subject(pairs) -> None:
    for p in pairs:
        prior = compute_prior(p.flash, p.noflash)
        pos = prior.positive
        assert len(pos) >= 1
        xs, ys = np.round(pos[:, 0]).astype(int), np.round(pos[:, 1]).astype(int)
        assert (p.alpha[ys, xs] > 0.5).all()
        assert prior.ratio.shape == p.alpha.shape and 0 <= prior.ratio.min() and prior.ratio.max() <= 1
        # The subject is lit far more than the background, relative to its ambient light.
        assert prior.ratio[p.alpha > 0.9].mean() > 3 * prior.ratio[p.alpha < 0.1].mean()


def test_trimap_band_covers_the_true_boundary(pairs) -> None:
    for p in pairs:
        mask, prior = _mask(p, "pixel")
        tri = make_trimap(mask, None, prior.ratio)
        boundary = (p.alpha > 0.02) & (p.alpha < 0.98)
        inner_edge = (p.alpha > 0.5) & (cv2.erode((p.alpha > 0.5).astype(np.uint8), np.ones((3, 3))) == 0)
        must_be_unknown = boundary | inner_edge
        # Fine hair strands reach beyond any sensible band; the silhouette's edge must be inside it everywhere.
        hair = (p.alpha > 0.02) & (
            cv2.morphologyEx((p.alpha > 0.5).astype(np.uint8), cv2.MORPH_OPEN, np.ones((5, 5), np.uint8)) == 0
        )
        edge = must_be_unknown & ~hair
        assert (tri[edge] == 128).mean() >= 0.995, f"band misses {(tri[edge] != 128).sum()} edge pixels"
        assert (tri[p.alpha >= 0.999] != 0).all(), "pure foreground marked as background"
        assert (tri[p.alpha <= 0.001] != 255).all(), "pure background marked as foreground"


def test_histogram_ratio_is_the_authors_formula() -> None:
    # Left half keeps its colour under the flash (ratio 0); the right half's colour is new (ratio 1).
    flash = np.zeros((20, 20, 3), np.uint8)
    noflash = np.zeros_like(flash)
    flash[:, :10] = noflash[:, :10] = (40, 40, 40)
    flash[:, 10:] = (200, 180, 160)
    noflash[:, 10:] = (90, 70, 60)
    r = ratio_histogram(flash, noflash, downsample=1.0, normalise_exposure=False)
    assert r.shape == (20, 20)
    np.testing.assert_allclose(r[1:-1, 1:8], 0.0, atol=1e-6)
    np.testing.assert_allclose(r[1:-1, 12:-1], 1.0, atol=1e-6)


def test_confident_points_components_and_filters() -> None:
    ratio = np.zeros((100, 100), np.float32)
    cv2.circle(ratio, (25, 30), 12, 1.0, -1)
    cv2.circle(ratio, (75, 70), 10, 0.9, -1)
    ratio[5:7, 90:92] = 1.0  # a speck far under 5 % of the largest component
    ring = np.zeros((100, 100), np.float32)
    cv2.circle(ring, (50, 50), 30, 1.0, 8)
    s = PriorSettings()
    pts, labels = confident_points(ratio, (200, 200), s)
    assert labels.tolist() == [1, 1]
    np.testing.assert_allclose(pts[0], [(25 + 0.5) * 2 - 0.5, (30 + 0.5) * 2 - 0.5], atol=1.0)
    np.testing.assert_allclose(pts[1], [(75 + 0.5) * 2 - 0.5, (70 + 0.5) * 2 - 0.5], atol=1.0)
    pts, _ = confident_points(ring, (100, 100), s)  # centroid of a ring is outside it: take an interior pixel
    x, y = np.round(pts[0]).astype(int)
    assert ring[y, x] == 1.0
    neg_pts, neg_labels = confident_points(ratio, (100, 100), PriorSettings(negative_points=2))
    assert neg_labels.tolist() == [1, 1, 0]
    xn, yn = np.round(neg_pts[2]).astype(int)
    assert ratio[yn, xn] == 0.0
    assert len(confident_points(np.zeros((50, 50), np.float32), (50, 50), s)[0]) == 0


def test_trimap_values_band_and_onehot_order() -> None:
    mask = np.zeros((200, 300), np.uint8)
    mask[50:150, 100:200] = 1
    tri = make_trimap(mask, band=21)
    assert set(np.unique(tri).tolist()) == {0, 128, 255}
    assert tri[100, 150] == 255 and tri[10, 10] == 0 and tri[50, 150] == 128
    assert tri[100, 100 - 9] == 128 and tri[100, 100 - 12] == 0  # about 21/2 px each side of the edge
    oh = trimap_onehot(tri)
    assert oh.shape == (3, 200, 300) and (oh.sum(0) == 1).all()
    assert oh[0, 10, 10] == 1 and oh[1, 50, 150] == 1 and oh[2, 100, 150] == 1  # (bg, unknown, fg)
    np.testing.assert_array_equal(trimap_from_onehot(oh), tri)
    assert default_band(360, 640) == 13 and default_band(720, 1280) == 25 and default_band(1080, 1920) == 39


def test_srgb_round_trip_and_fill_holes() -> None:
    v = np.arange(256, dtype=np.uint8)
    np.testing.assert_array_equal(linear_to_srgb(srgb_to_linear(v)), v)
    ring = np.zeros((50, 50), np.uint8)
    cv2.circle(ring, (25, 25), 15, 1, 4)
    filled = fill_holes(ring)
    assert filled[25, 25] == 1 and filled[2, 2] == 0
