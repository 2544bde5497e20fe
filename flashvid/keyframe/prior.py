"""The flash prior: a flash ratio map and the confident points it gives.

Light from a flash falls off with the square of distance, so a subject near the camera brightens much more than
a far background. Two estimators turn a flash image F and a no-flash image N (H x W x 3 uint8 RGB, same size)
into a map in 0..1 that is high on the subject:

* ``histogram`` - the authors' estimator. Both images are shrunk, each pixel's colour is quantised to a 16^3
  joint histogram bin, and the ratio of bin b is ``max((Hf[b] - Hn[b]) / Hf[b], 0)``: colours that became more
  frequent under the flash. A 3x3 Gaussian (sigma 2, zero border) and a min-max normalisation follow. It needs
  no pixel alignment, so it tolerates motion between the two shots.
* ``pixel`` - per-pixel and physical: both images are linearised (sRGB -> linear), the exposure ratio k between
  them is estimated from the pixels the flash barely reaches, and the flash-only fraction
  ``max(F - k N, 0) / F`` of the luminance is the ratio; reflectance cancels, so it is sharp on aligned pairs.

Confident points: the normalised map is thresholded, median filtered (zero border), split into 8-connected
components, and each component gives one positive point at its centroid (or, when the centroid falls outside
a non-convex component, at its most interior pixel). Optional negative points come from the lowest-ratio areas.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import cv2
import numpy as np

from flashvid import defaults

ESTIMATORS = ("pixel", "histogram")


@dataclass(frozen=True)
class PriorSettings:
    """Parameters of the ratio map and of the confident points, with their defaults.

    Attributes:
        estimator: ``"pixel"`` or ``"histogram"``.
        work_size: long side, in pixels, of the working map both estimators compute on.
        downsample: histogram only; a fixed scale factor instead of ``work_size`` (0.05 with bilinear shrinking
            reproduces the authors' code exactly; the default ``None`` shrinks with area averaging).
        threshold: normalised ratio at or above which a pixel is confident (the authors use 0.7).
        median: size of the median filter applied to the confident mask (odd; the authors use 5).
        min_area: smallest confident component kept, as a fraction of the working map's area.
        min_relative_area: smallest confident component kept, as a fraction of the largest one's area.
        max_points: at most this many positive points, from the largest components.
        negative_points: how many negative points to take from the lowest-ratio areas (0: none).
        negative_threshold: normalised ratio at or below which a pixel may hold a negative point.
        depth_span: pixel only; the map falls from 1 at the nearest surfaces to 0 at this many times their
            distance.
    """

    estimator: str = "pixel"
    work_size: int = 256
    downsample: float | None = None
    threshold: float = defaults.RATIO_THRESHOLD
    median: int = 5
    min_area: float = 0.0005
    min_relative_area: float = 0.05
    max_points: int = 8
    negative_points: int = 0
    negative_threshold: float = 0.1
    depth_span: float = 3.0

    def __post_init__(self) -> None:
        if self.estimator not in ESTIMATORS:
            raise ValueError(f"estimator must be one of {ESTIMATORS}, got {self.estimator!r}")
        if not 0.0 < self.threshold < 1.0:
            raise ValueError(f"threshold must be in (0, 1), got {self.threshold}")
        if self.median < 1 or self.median % 2 == 0:
            raise ValueError(f"median must be a positive odd size, got {self.median}")
        if self.work_size < 16:
            raise ValueError(f"work_size must be at least 16, got {self.work_size}")

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


@dataclass
class FlashPrior:
    """The ratio map and its points.

    Attributes:
        ratio: H x W float32 in 0..1 at the input's full resolution (normalised ratio map).
        ratio_lowres: h x w float32 in 0..1, the working map the points were taken from.
        points: N x 2 float32 (x, y) in full-resolution pixel coordinates.
        labels: N int32, 1 for a positive (subject) point, 0 for a negative (background) point.
        strength: the exposure-normalised flash-only fraction of the light at the best-lit pixels (99th
            percentile), 0..1; under about 0.04 the flash is too weak to find the subject.
        exposure: estimated exposure ratio k with F ~ k N where the flash does not reach.
    """

    ratio: np.ndarray
    ratio_lowres: np.ndarray
    points: np.ndarray
    labels: np.ndarray
    strength: float
    exposure: float
    settings: PriorSettings = field(default_factory=PriorSettings)

    @property
    def positive(self) -> np.ndarray:
        """The positive points, K x 2 (x, y)."""
        return self.points[self.labels == 1]


def srgb_to_linear(image: np.ndarray) -> np.ndarray:
    """uint8 sRGB (any shape) -> float32 linear light in 0..1 (IEC 61966-2-1)."""
    lut = np.arange(256, dtype=np.float64) / 255.0
    lut = np.where(lut <= 0.04045, lut / 12.92, ((lut + 0.055) / 1.055) ** 2.4).astype(np.float32)
    return lut[image]


def linear_to_srgb(x: np.ndarray) -> np.ndarray:
    """float linear light in 0..1 -> uint8 sRGB."""
    x = np.clip(x, 0.0, 1.0)
    s = np.where(x <= 0.0031308, 12.92 * x, 1.055 * np.power(x, 1.0 / 2.4) - 0.055)
    return (s * 255.0 + 0.5).astype(np.uint8)


LUMA = np.array([0.2126, 0.7152, 0.0722], dtype=np.float32)


def _work_shape(h: int, w: int, work_size: int) -> tuple[int, int]:
    s = min(1.0, work_size / max(h, w))
    return max(2, round(h * s)), max(2, round(w * s))


def _shrink(image: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    h, w = shape
    if image.shape[:2] == (h, w):
        return image
    return cv2.resize(image, (w, h), interpolation=cv2.INTER_AREA)


def exposure_and_flash_fraction(flash: np.ndarray, noflash: np.ndarray) -> tuple[float, np.ndarray]:
    """Exposure ratio k and per-pixel flash-only fraction of two aligned uint8 RGB images.

    Returns:
        (k, frac): k > 0 with F ~ k N where the flash adds nothing; frac float32 H x W in 0..1, the part of the
        flash image's luminance that the flash added. Pixels too dark or clipped in either image give 0.
    """
    yf = srgb_to_linear(flash) @ LUMA
    yn = srgb_to_linear(noflash) @ LUMA
    valid = (yn > 0.004) & (yn < 0.9) & (yf > 0.004) & (yf < 0.98)
    if valid.sum() < 16:
        return 1.0, np.zeros(yf.shape, np.float32)
    q = yf[valid] / yn[valid]
    # The flash only adds light, so F/N >= k everywhere; the pixels it barely reaches sit at the low end.
    k = float(np.clip(np.percentile(q, 5.0), 0.05, 20.0))
    frac = np.where(yf > 0.004, np.maximum(yf - k * yn, 0.0) / np.maximum(yf, 1e-6), 0.0)
    frac[(yn >= 0.98) & (yf >= 0.98)] = 0.0
    return k, np.clip(frac, 0.0, 1.0).astype(np.float32)


def _normalise(r: np.ndarray, lo_pct: float = 0.0, hi_pct: float = 100.0) -> np.ndarray:
    lo = float(np.percentile(r, lo_pct)) if lo_pct > 0 else float(r.min())
    hi = float(np.percentile(r, hi_pct)) if hi_pct < 100 else float(r.max())
    if hi - lo < 1e-6:
        return np.zeros_like(r, dtype=np.float32)
    return np.clip((r - lo) / (hi - lo), 0.0, 1.0).astype(np.float32)


def _gauss3_sigma2(r: np.ndarray) -> np.ndarray:
    """The authors' fixed 3x3 Gaussian (sigma 2, normalised to sum 1) with a zero border."""
    g = np.exp(-(np.array([1.0, 0.0, 1.0]) ** 2) / 8.0)
    k = np.outer(g, g)
    k /= k.sum()
    return cv2.filter2D(r.astype(np.float32), -1, k.astype(np.float32), borderType=cv2.BORDER_CONSTANT)


def _box3d(hist: np.ndarray) -> np.ndarray:
    """3x3x3 box filter of a 16^3 histogram stored flat (zero outside)."""
    h = np.pad(hist.reshape(16, 16, 16), 1)
    out = np.zeros((16, 16, 16))
    for dz in range(3):
        for dy in range(3):
            for dx in range(3):
                out += h[dz : dz + 16, dy : dy + 16, dx : dx + 16]
    return out.ravel()


def ratio_histogram(
    flash: np.ndarray,
    noflash: np.ndarray,
    *,
    work_size: int = 256,
    downsample: float | None = None,
    normalise_exposure: bool = True,
    smooth_bins: bool | None = None,
) -> np.ndarray:
    """The authors' colour-histogram flash ratio, min-max normalised; h x w float32 in 0..1 (working size).

    Two additions, both on by default and both off with ``normalise_exposure=False, smooth_bins=False``
    (with ``downsample=0.05`` that is the authors' computation exactly): the flash image is first divided by
    the exposure ratio (so an exposure change does not move every colour to another bin), and both 16^3
    histograms are box-filtered over neighbouring bins (so colours on a bin boundary do not flicker between
    ratio 0 and 1). `smooth_bins` None means: on unless `downsample` is given.
    """
    if smooth_bins is None:
        smooth_bins = downsample is None
    h, w = flash.shape[:2]
    if normalise_exposure:
        k, _ = exposure_and_flash_fraction(*(_shrink(x, _work_shape(h, w, work_size)) for x in (flash, noflash)))
        flash = linear_to_srgb(srgb_to_linear(flash) / k)
    if downsample is not None:
        fl = cv2.resize(flash, (0, 0), fx=downsample, fy=downsample, interpolation=cv2.INTER_LINEAR)
        nf = cv2.resize(noflash, (0, 0), fx=downsample, fy=downsample, interpolation=cv2.INTER_LINEAR)
    else:
        shape = _work_shape(h, w, work_size)
        fl, nf = _shrink(flash, shape), _shrink(noflash, shape)

    def bins(img: np.ndarray) -> np.ndarray:
        q = (img // 16).astype(np.int32)
        return q[..., 0] * 256 + q[..., 1] * 16 + q[..., 2]

    bf = bins(fl)
    hf = np.bincount(bf.ravel(), minlength=4096).astype(np.float64)
    hn = np.bincount(bins(nf).ravel(), minlength=4096).astype(np.float64)
    if smooth_bins:
        hf, hn = _box3d(hf), _box3d(hn)
    per_bin = np.maximum((hf - hn) / np.maximum(hf, 1.0), 0.0)
    r = per_bin[bf].astype(np.float32)
    return _normalise(_gauss3_sigma2(r))


def ratio_pixel(flash: np.ndarray, noflash: np.ndarray, *, work_size: int = 256, depth_span: float = 3.0) -> np.ndarray:
    """Exposure-normalised flash-to-ambient ratio in linear light, on a log-distance scale.

    Returns h x w float32 in 0..1 (working size): 1 on the nearest surfaces, falling linearly in log distance to
    0 at `depth_span` times their distance (inverse-square law: the flash-to-ambient ratio drops by span^2).
    """
    shape = _work_shape(flash.shape[0], flash.shape[1], work_size)
    fl, nf = _shrink(flash, shape), _shrink(noflash, shape)
    _, frac = exposure_and_flash_fraction(fl, nf)
    # Where both images are nearly black (dark clothes, hair) the fraction is noise: weight pixels by how much
    # light they recorded and fill the weak ones from their neighbours (normalised convolution).
    y = np.minimum(srgb_to_linear(fl) @ LUMA, 0.05) + np.minimum(srgb_to_linear(nf) @ LUMA, 0.05)
    wgt = np.clip(y / 0.03, 0.0, 1.0).astype(np.float32)
    sigma = 0.03 * max(shape)
    fill = cv2.GaussianBlur(frac * wgt, (0, 0), sigma) / np.maximum(cv2.GaussianBlur(wgt, (0, 0), sigma), 1e-4)
    frac = wgt * frac + (1.0 - wgt) * fill
    frac = cv2.GaussianBlur(frac, (0, 0), sigmaX=1.0, borderType=cv2.BORDER_REFLECT)
    # logit(frac) = log(flash / ambient light) = log(P / (d^2 A)): linear in log distance, not saturating.
    # 1 at the nearest surfaces (99.5th percentile), 0 at depth_span times their distance.
    f = np.clip(frac, 0.01, 0.99)
    log_ratio = np.log(f / (1.0 - f))
    top = float(np.percentile(log_ratio, 99.5))
    return np.clip(1.0 + (log_ratio - top) / (2.0 * np.log(depth_span)), 0.0, 1.0).astype(np.float32)


def _median_zero_border(mask: np.ndarray, size: int) -> np.ndarray:
    if size <= 1:
        return mask
    p = size // 2
    padded = cv2.copyMakeBorder(mask, p, p, p, p, cv2.BORDER_CONSTANT, value=0)
    return cv2.medianBlur(padded, size)[p:-p, p:-p]


def _interior_point(component: np.ndarray) -> tuple[float, float]:
    """(x, y) of the pixel farthest from the component's border."""
    dist = cv2.distanceTransform(
        cv2.copyMakeBorder(component, 1, 1, 1, 1, cv2.BORDER_CONSTANT, value=0), cv2.DIST_L2, 3
    )[1:-1, 1:-1]
    y, x = np.unravel_index(int(np.argmax(dist)), dist.shape)
    return float(x), float(y)


def _component_points(
    mask: np.ndarray, min_px: int, count: int, min_relative: float = 0.0
) -> list[tuple[float, float]]:
    """One (x, y) point per 8-connected component of `mask`, largest components first.

    Components under `min_px` pixels or under `min_relative` times the largest component's area are skipped.
    """
    n, labels, stats, centroids = cv2.connectedComponentsWithStats(mask.astype(np.uint8), connectivity=8)
    order = sorted(range(1, n), key=lambda i: -int(stats[i, cv2.CC_STAT_AREA]))
    if order:
        min_px = max(min_px, int(np.ceil(min_relative * stats[order[0], cv2.CC_STAT_AREA])))
    out: list[tuple[float, float]] = []
    for i in order:
        if stats[i, cv2.CC_STAT_AREA] < min_px or len(out) >= count:
            break
        cx, cy = centroids[i]
        xi, yi = round(cx), round(cy)
        inside = 0 <= yi < labels.shape[0] and 0 <= xi < labels.shape[1] and labels[yi, xi] == i
        out.append((float(cx), float(cy)) if inside else _interior_point((labels == i).astype(np.uint8)))
    return out


def confident_mask(ratio_lowres: np.ndarray, settings: PriorSettings) -> np.ndarray:
    """Thresholded and median-filtered confident region of a normalised ratio map; h x w uint8 0/1."""
    m = (ratio_lowres >= settings.threshold).astype(np.uint8)
    return _median_zero_border(m, settings.median)


def confident_points(
    ratio_lowres: np.ndarray, full_shape: tuple[int, int], settings: PriorSettings
) -> tuple[np.ndarray, np.ndarray]:
    """Points prompting the segmenter, from a normalised working-size ratio map.

    Returns:
        (points, labels): N x 2 float32 (x, y) in full-resolution pixel coordinates (pixel centres map to
        pixel centres), and N int32 labels (1 positive, 0 negative). N is 0 when nothing is confident.
    """
    h, w = ratio_lowres.shape
    min_px = max(1, round(settings.min_area * h * w))
    pos = _component_points(
        confident_mask(ratio_lowres, settings), min_px, settings.max_points, settings.min_relative_area
    )
    neg: list[tuple[float, float]] = []
    if settings.negative_points > 0 and pos:
        low = (ratio_lowres <= settings.negative_threshold).astype(np.uint8)
        low = cv2.erode(low, np.ones((3, 3), np.uint8), borderType=cv2.BORDER_CONSTANT, borderValue=0)
        neg = _component_points(low, min_px, settings.negative_points)
    pts = np.array(pos + neg, dtype=np.float32).reshape(-1, 2)
    sy, sx = full_shape[0] / h, full_shape[1] / w
    pts[:, 0] = (pts[:, 0] + 0.5) * sx - 0.5
    pts[:, 1] = (pts[:, 1] + 0.5) * sy - 0.5
    labels = np.array([1] * len(pos) + [0] * len(neg), dtype=np.int32)
    return pts, labels


def compute_prior(flash: np.ndarray, noflash: np.ndarray, settings: PriorSettings | None = None) -> FlashPrior:
    """Ratio map, confident points and flash strength of an aligned-size flash / no-flash pair.

    Args:
        flash, noflash: H x W x 3 uint8 RGB, the same size.
        settings: estimator and point parameters (defaults: `PriorSettings()`).
    """
    settings = settings or PriorSettings()
    if flash.shape != noflash.shape:
        raise ValueError(f"flash {flash.shape} and no-flash {noflash.shape} differ in size")
    h, w = flash.shape[:2]
    if settings.estimator == "histogram":
        low = ratio_histogram(flash, noflash, work_size=settings.work_size, downsample=settings.downsample)
    else:
        low = ratio_pixel(flash, noflash, work_size=settings.work_size, depth_span=settings.depth_span)
    shape = _work_shape(h, w, settings.work_size)
    exposure, frac = exposure_and_flash_fraction(_shrink(flash, shape), _shrink(noflash, shape))
    strength = float(np.percentile(frac, 99.0))
    points, labels = confident_points(low, (h, w), settings)
    ratio = cv2.resize(low, (w, h), interpolation=cv2.INTER_LINEAR)
    return FlashPrior(np.clip(ratio, 0, 1), low, points, labels, strength, exposure, settings)
