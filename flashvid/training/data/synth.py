"""Physically motivated flash / no-flash rendering and procedural subjects and backgrounds.

All light arithmetic is in linear light. A pixel of albedo rho lit by ambient light A (an RGB colour) and a
flash of colour C and power P, at distance d and angle theta off the flash axis, records

    I = exposure * rho * (A + C * P * cos(theta)^3 / d^2)

(cos/d^2 fall-off with d growing as 1/cos off-axis). The subject is at distance 1, the background at
``d_ratio`` (1.5-10). The subject casts a soft shadow of the flash on a near background, gets specular
highlights from the flash, and both images get shot/read noise, sRGB encoding and optionally JPEG.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from flashvid.keyframe.prior import linear_to_srgb, srgb_to_linear


@dataclass
class FlashLight:
    """The light of one flash / no-flash pair (see the module docstring for the model).

    Attributes:
        d_ratio: background distance over subject distance (1.5-10).
        power: flash-only irradiance on the subject on-axis, relative to the ambient irradiance.
        flash_rgb, ambient_rgb: light colours (linear RGB, mean about 1).
        exposure_n, exposure_f: exposures of the no-flash and the flash image.
        shadow: darkness of the subject's flash shadow on the background (0: none, 1: black).
        shadow_shift: (dx, dy) of that shadow in pixels (flash off the lens axis).
        specular: number of specular highlights on the subject.
        noise: shot-noise scale (0: noiseless).
        jpeg: JPEG quality, or None for lossless.
    """

    d_ratio: float = 4.0
    power: float = 2.0
    flash_rgb: tuple[float, float, float] = (1.0, 1.0, 1.0)
    ambient_rgb: tuple[float, float, float] = (1.0, 1.0, 1.0)
    exposure_n: float = 0.35
    exposure_f: float = 0.3
    shadow: float = 0.0
    shadow_shift: tuple[float, float] = (0.0, 0.0)
    specular: int = 0
    noise: float = 0.0
    jpeg: int | None = None

    @classmethod
    def random(cls, rng: np.random.Generator) -> FlashLight:
        """A random but plausible light: d_ratio 1.5-10, flash 0.8-4x ambient, colour casts, noise, JPEG."""
        warm = rng.uniform(-0.25, 0.25)
        ambient = (1.0 + warm, 1.0, 1.0 - warm)
        cool = rng.uniform(-0.08, 0.12)
        flash = (1.0 - cool, 1.0, 1.0 + cool)
        exp_n = rng.uniform(0.25, 0.5)
        return cls(
            d_ratio=float(np.exp(rng.uniform(np.log(1.5), np.log(10.0)))),
            power=float(rng.uniform(0.8, 4.0)),
            flash_rgb=flash,
            ambient_rgb=ambient,
            exposure_n=exp_n,
            exposure_f=exp_n * float(rng.uniform(0.7, 1.05)),
            shadow=float(rng.uniform(0.0, 0.8)),
            shadow_shift=(float(rng.uniform(-12, 12)), float(rng.uniform(-6, 12))),
            specular=int(rng.integers(0, 5)),
            noise=float(rng.uniform(0.0, 0.02)),
            jpeg=int(rng.integers(70, 98)) if rng.random() < 0.6 else None,
        )


def _off_axis_falloff(h: int, w: int) -> np.ndarray:
    f = 1.2 * max(h, w)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    r2 = (xx - (w - 1) / 2) ** 2 + (yy - (h - 1) / 2) ** 2
    cos = f / np.sqrt(f * f + r2)
    return (cos**3).astype(np.float32)


def _finish(lin: np.ndarray, noise: float, jpeg: int | None, rng: np.random.Generator) -> np.ndarray:
    if noise > 0:
        sigma = noise * np.sqrt(np.clip(lin, 0, 1)) + 0.2 * noise
        lin = lin + rng.standard_normal(lin.shape).astype(np.float32) * sigma
    out = linear_to_srgb(lin)
    if jpeg is not None:
        ok, buf = cv2.imencode(".jpg", out[:, :, ::-1], [cv2.IMWRITE_JPEG_QUALITY, int(jpeg)])
        if ok:
            decoded = cv2.imdecode(buf, cv2.IMREAD_COLOR)
            if decoded is not None:
                out = np.ascontiguousarray(decoded[:, :, ::-1])
    return out


def render_noflash(
    fg: np.ndarray, alpha: np.ndarray, bg: np.ndarray, light: FlashLight, rng: np.random.Generator
) -> np.ndarray:
    """A no-flash frame: fg, bg H x W x 3 linear albedo in 0..1, alpha H x W in 0..1 -> H x W x 3 uint8 sRGB."""
    amb = np.asarray(light.ambient_rgb, np.float32)
    a = alpha[..., None]
    lin = light.exposure_n * amb * (a * fg + (1 - a) * bg)
    return _finish(lin, light.noise, light.jpeg, rng)


def render_flash(
    fg: np.ndarray, alpha: np.ndarray, bg: np.ndarray, light: FlashLight, rng: np.random.Generator
) -> np.ndarray:
    """The flash image of the same scene (inputs as `render_noflash`) -> H x W x 3 uint8 sRGB."""
    h, w = alpha.shape
    amb = np.asarray(light.ambient_rgb, np.float32)
    fl = np.asarray(light.flash_rgb, np.float32) * light.power
    fall = _off_axis_falloff(h, w)[..., None]
    a = alpha[..., None]
    shade = np.ones((h, w), np.float32)
    if light.shadow > 0:
        m = np.array([[1, 0, light.shadow_shift[0]], [0, 1, light.shadow_shift[1]]], np.float32)
        sh = cv2.warpAffine(alpha, m, (w, h), borderValue=0)
        sh = cv2.GaussianBlur(sh, (0, 0), 2.0 + 0.01 * max(h, w))
        shade = 1.0 - light.shadow * np.clip(sh, 0, 1)
    subject = fg * (amb + fl * fall)
    back = bg * (amb + fl * fall * shade[..., None] / light.d_ratio**2)
    if light.specular:
        ys, xs = np.nonzero(alpha > 0.95)
        if len(ys):
            spec = np.zeros((h, w), np.float32)
            for i in rng.integers(0, len(ys), light.specular):
                cv2.circle(spec, (int(xs[i]), int(ys[i])), int(rng.integers(1, 4)), 1.0, -1)
            spec = cv2.GaussianBlur(spec, (0, 0), 2.0) * alpha
            subject = subject + (spec * light.power * rng.uniform(0.5, 2.0))[..., None]
    lin = light.exposure_f * (a * subject + (1 - a) * back)
    return _finish(lin, light.noise, light.jpeg, rng)


def value_noise(h: int, w: int, rng: np.random.Generator, scales: tuple[int, ...] = (4, 16, 64)) -> np.ndarray:
    """Smooth random field, H x W float32 roughly in 0..1, summed over octaves of the given grid sizes."""
    out = np.zeros((h, w), np.float32)
    total = 0.0
    for i, s in enumerate(scales):
        g = rng.random((max(2, h * s // max(h, w)), max(2, w * s // max(h, w)))).astype(np.float32)
        amp = 0.5**i
        out += amp * cv2.resize(g, (w, h), interpolation=cv2.INTER_CUBIC)
        total += amp
    return np.clip(out / total, 0, 1)


def procedural_background(h: int, w: int, rng: np.random.Generator) -> np.ndarray:
    """A room-like background: coloured smooth texture and a few furniture blocks; H x W x 3 linear albedo."""
    base = rng.uniform(0.15, 0.7, 3).astype(np.float32)
    tex = value_noise(h, w, rng)[..., None]
    bg = base * (0.6 + 0.8 * tex)
    for _ in range(int(rng.integers(2, 7))):
        x0, y0 = int(rng.integers(0, w)), int(rng.integers(0, h))
        x1, y1 = x0 + int(rng.integers(w // 10, w // 2)), y0 + int(rng.integers(h // 10, h // 2))
        col = rng.uniform(0.05, 0.8, 3).astype(np.float32)
        cv2.rectangle(bg, (x0, y0), (x1, y1), col.tolist(), -1)
    bg *= 0.8 + 0.4 * value_noise(h, w, rng, (8, 32))[..., None]
    return np.clip(bg, 0.0, 1.0).astype(np.float32)


def procedural_subject(h: int, w: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """A head-and-shoulders silhouette with hair strands of partial alpha.

    Returns:
        (fg, alpha): H x W x 3 float32 linear albedo and H x W float32 alpha in 0..1.
    """
    ss = 4  # draw at 4x and shrink: anti-aliased edges
    H, W = h * ss, w * ss
    cx = W * rng.uniform(0.35, 0.65)
    scale = rng.uniform(0.8, 1.15) * min(H, W / 1.2)
    head_r = (0.17 * scale * rng.uniform(0.9, 1.1), 0.22 * scale * rng.uniform(0.9, 1.1))
    head_c = (cx, H * rng.uniform(0.28, 0.42))
    body = np.zeros((H, W), np.uint8)
    cv2.ellipse(body, (int(head_c[0]), int(head_c[1])), (int(head_r[0]), int(head_r[1])), 0, 0, 360, 255, -1)
    neck_w = head_r[0] * 0.55
    neck_top = head_c[1] + head_r[1] * 0.7
    shoulder_y = neck_top + head_r[1] * 0.55
    cv2.rectangle(body, (int(cx - neck_w), int(neck_top)), (int(cx + neck_w), int(shoulder_y + 10)), 255, -1)
    sw = scale * rng.uniform(0.45, 0.6)
    cv2.ellipse(body, (int(cx), int(shoulder_y + head_r[1])), (int(sw), int(head_r[1] * 1.2)), 0, 180, 360, 255, -1)
    cv2.rectangle(body, (int(cx - sw), int(shoulder_y + head_r[1])), (int(cx + sw), H), 255, -1)
    alpha_hi = body.astype(np.float32) / 255.0
    hair = np.zeros((H, W), np.float32)
    for _ in range(int(rng.integers(40, 120))):
        t = rng.uniform(np.pi * 1.05, np.pi * 1.95)
        x, y = head_c[0] + head_r[0] * np.cos(t), head_c[1] + head_r[1] * np.sin(t)
        ang = t + rng.normal(0, 0.35)
        length = rng.uniform(0.05, 0.3) * head_r[1]
        pts = []
        for k in range(8):
            ang += rng.normal(0, 0.12)
            pts.append((x + np.cos(ang) * length * k / 7, y + np.sin(ang) * length * k / 7))
        cv2.polylines(hair, [np.array(pts, np.int32)], False, float(rng.uniform(0.4, 1.0)), ss)
    alpha = np.maximum(alpha_hi, hair)
    alpha = cv2.resize(alpha, (w, h), interpolation=cv2.INTER_AREA)
    skin = rng.uniform([0.25, 0.12, 0.07], [0.7, 0.45, 0.32]).astype(np.float32)
    cloth = rng.uniform(0.03, 0.7, 3).astype(np.float32)
    hair_col = rng.uniform(0.01, 0.3) * np.array([1.0, 0.8, 0.6], np.float32)
    yy = np.arange(h, dtype=np.float32)[:, None, None]
    torso_y = shoulder_y / ss
    fg = np.where(yy < torso_y, skin, cloth) * (0.75 + 0.5 * value_noise(h, w, rng, (8, 32, 128))[..., None])
    hair_small = cv2.resize(hair, (w, h), interpolation=cv2.INTER_AREA)
    fg = np.where(hair_small[..., None] > 0.05, hair_col, fg)
    return np.clip(fg, 0, 1).astype(np.float32), np.clip(alpha, 0, 1).astype(np.float32)


@dataclass
class SyntheticPair:
    """A rendered flash / no-flash pair with its ground truth (uint8 RGB images, alpha float32 0..1)."""

    flash: np.ndarray
    noflash: np.ndarray
    alpha: np.ndarray
    fg: np.ndarray
    bg: np.ndarray
    light: FlashLight


def synthetic_pair(
    height: int = 240,
    width: int = 320,
    seed: int = 0,
    light: FlashLight | None = None,
    foreground: tuple[np.ndarray, np.ndarray] | None = None,
    background: np.ndarray | None = None,
) -> SyntheticPair:
    """Render a flash / no-flash pair of a subject before a background, with known alpha.

    Args:
        height, width: output size.
        seed: seeds every random choice.
        light: the light; random (`FlashLight.random`) when None.
        foreground: (fg sRGB uint8 H x W x 3, alpha H x W float 0..1) to use instead of a procedural subject.
        background: sRGB uint8 H x W x 3 to use instead of a procedural background.
    """
    rng = np.random.default_rng(seed)
    if foreground is None:
        fg, alpha = procedural_subject(height, width, rng)
    else:
        fg = srgb_to_linear(cv2.resize(foreground[0], (width, height), interpolation=cv2.INTER_AREA))
        alpha = cv2.resize(foreground[1].astype(np.float32), (width, height), interpolation=cv2.INTER_AREA)
    if background is None:
        bg = procedural_background(height, width, rng)
    else:
        bg = srgb_to_linear(cv2.resize(background, (width, height), interpolation=cv2.INTER_AREA))
    light = light or FlashLight.random(rng)
    noflash = render_noflash(fg, alpha, bg, light, rng)
    flash = render_flash(fg, alpha, bg, light, rng)
    return SyntheticPair(flash, noflash, alpha, fg, bg, light)
