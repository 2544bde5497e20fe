"""Training and evaluation clips: a flash keyframe and T later no-flash frames with ground truth.

`make_clip` places a foreground on a background, renders the keyframe pair with `flashvid.training.data.synth`'s light
model, moves the subject (affine path + smooth elastic warp, scale, partly leaving the frame) and the
background (camera shake, pan, moving patches; `bg_motion` in 0..1 grades the magnitude), and renders each
later frame without flash. The keyframe trimap comes through the run-time path (ratio map -> points -> mask
-> trimap) so the network learns to live with its errors, or from the ground truth (`trimap="gt"`).
`pseudo_flash=True` replaces the flash image by the paper's pseudo flash (the V channel of another no-flash
image raised), for its Table 4.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from flashvid.errors import FlashvidError
from flashvid.keyframe.prior import linear_to_srgb, srgb_to_linear
from flashvid.keyframe.trimap import make_trimap
from flashvid.training.data.sources import Foreground
from flashvid.training.data.synth import FlashLight, render_flash, render_noflash, value_noise


@dataclass
class Clip:
    """One clip, all arrays uint8 or float32 in 0..1, size H x W.

    Attributes:
        flash, noflash: keyframe pair, H x W x 3 uint8.
        trimap: keyframe trimap H x W uint8 {0,128,255}; trimap_source: "runtime" or "gt" (or "gt-fallback").
        frames: T x H x W x 3 uint8 no-flash frames; alphas: T x H x W float32; fgrs: T x H x W x 3 float32
        (the subject's colour as the no-flash camera sees it); bgs: T x H x W x 3 float32.
        keyframe_alpha: H x W float32 ground truth of the keyframe.
        mask: H x W uint8 0/1, the keyframe mask the trimap was made from (run-time segmenter or ground truth).
        fine: the alphas are true mattes (False: pseudo-labels from a person segmenter, good for the silhouette
            only; the losses then leave out the fine-edge, composition and foreground terms).
        subject: who the subject is (`flashvid.training.data.people.subject_of` of its source's name), so that
            "another subject's keyframe" is never the same person's.
    """

    flash: np.ndarray
    noflash: np.ndarray
    trimap: np.ndarray
    trimap_source: str
    frames: np.ndarray
    alphas: np.ndarray
    fgrs: np.ndarray
    bgs: np.ndarray
    keyframe_alpha: np.ndarray
    mask: np.ndarray
    fine: bool = True
    subject: str = ""


def _place(fg: Foreground, size: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """The foreground scaled so its subject fills 45-90 % of the canvas height, bottom-anchored, maybe flipped."""
    cut = fg.cropped()
    if cut is None:
        raise FlashvidError(f"{fg.name}: its alpha is empty")
    img, alpha = cut
    s = size * rng.uniform(0.45, 0.9) / max(alpha.shape[0], alpha.shape[1] * 0.8)
    h, w = max(2, round(alpha.shape[0] * s)), max(2, round(alpha.shape[1] * s))
    img = cv2.resize(img, (w, h), interpolation=cv2.INTER_AREA if s < 1 else cv2.INTER_LINEAR)
    alpha = cv2.resize(alpha, (w, h), interpolation=cv2.INTER_AREA if s < 1 else cv2.INTER_LINEAR)
    if rng.random() < 0.5:
        img, alpha = img[:, ::-1], alpha[:, ::-1]
    canvas = np.zeros((size, size, 3), np.float32)
    a_canvas = np.zeros((size, size), np.float32)
    top = size - h if rng.random() < 0.7 else int(rng.integers(0, max(1, size - h + 1)))
    left = int(rng.integers(-w // 4, size - 3 * w // 4 + 1))
    sy0, sy1 = max(0, top), min(size, top + h)
    sx0, sx1 = max(0, left), min(size, left + w)
    canvas[sy0:sy1, sx0:sx1] = srgb_to_linear(np.ascontiguousarray(img))[sy0 - top : sy1 - top, sx0 - left : sx1 - left]
    a_canvas[sy0:sy1, sx0:sx1] = alpha[sy0 - top : sy1 - top, sx0 - left : sx1 - left]
    return canvas, a_canvas


def _background(bg: np.ndarray, size: int, margin: int, rng: np.random.Generator) -> np.ndarray:
    """A (size + 2 margin)^2 linear-light crop of a background image (scaled up if needed)."""
    need = size + 2 * margin
    s = max(need / bg.shape[0], need / bg.shape[1]) * rng.uniform(1.0, 1.4)
    big = cv2.resize(bg, (max(need, round(bg.shape[1] * s)), max(need, round(bg.shape[0] * s))))
    y = int(rng.integers(0, big.shape[0] - need + 1))
    x = int(rng.integers(0, big.shape[1] - need + 1))
    return srgb_to_linear(np.ascontiguousarray(big[y : y + need, x : x + need]))


def _add_distractor(bg_big: np.ndarray, fg: Foreground, size: int, rng: np.random.Generator) -> np.ndarray:
    """`fg` pasted into the (linear) background canvas, 30-70 % of the frame tall, bottom-anchored, anywhere."""
    cut = fg.cropped()
    if cut is None:
        return bg_big
    img, a = cut
    s = size * rng.uniform(0.3, 0.7) / a.shape[0]
    h, w = max(2, round(a.shape[0] * s)), max(2, round(a.shape[1] * s))
    big_h, big_w = bg_big.shape[:2]
    h, w = min(h, big_h), min(w, big_w)
    img = srgb_to_linear(np.ascontiguousarray(cv2.resize(img, (w, h), interpolation=cv2.INTER_AREA)))
    a = cv2.resize(a, (w, h), interpolation=cv2.INTER_AREA)[..., None]
    y0 = big_h - h - int(rng.integers(0, max(1, big_h // 5)))
    x0 = int(rng.integers(0, max(1, big_w - w + 1)))
    out = bg_big.copy()
    out[y0 : y0 + h, x0 : x0 + w] = a * img + (1 - a) * out[y0 : y0 + h, x0 : x0 + w]
    return out


def _elastic(size: int, amplitude: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    dx = (value_noise(size, size, rng, (3, 6)) - 0.5) * 2 * amplitude
    dy = (value_noise(size, size, rng, (3, 6)) - 0.5) * 2 * amplitude
    return dx.astype(np.float32), dy.astype(np.float32)


def _warp_subject(fg: np.ndarray, alpha: np.ndarray, m: np.ndarray, flow: tuple[np.ndarray, np.ndarray]):
    size = alpha.shape[0]
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)
    inv = cv2.invertAffineTransform(m).astype(np.float32)
    mx = (inv[0, 0] * xx + inv[0, 1] * yy + inv[0, 2] + flow[0]).astype(np.float32)
    my = (inv[1, 0] * xx + inv[1, 1] * yy + inv[1, 2] + flow[1]).astype(np.float32)
    f = cv2.remap(fg, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    a = cv2.remap(alpha, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    return f, np.clip(a, 0, 1)


def pseudo_flash(noflash_other: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The paper's pseudo flash: another no-flash image with its HSV value channel raised."""
    hsv = cv2.cvtColor(noflash_other, cv2.COLOR_RGB2HSV).astype(np.float32)
    hsv[..., 2] = np.clip(hsv[..., 2] * rng.uniform(1.3, 2.0) + rng.uniform(0, 30), 0, 255)
    return cv2.cvtColor(hsv.astype(np.uint8), cv2.COLOR_HSV2RGB)


def make_clip(
    fg: Foreground,
    bg: np.ndarray,
    rng: np.random.Generator,
    *,
    size: int = 256,
    frames: int = 3,
    motion: float = 1.0,
    bg_motion: float | None = None,
    trimap: str = "runtime",
    pseudo: bool = False,
    light: FlashLight | None = None,
    distractor: Foreground | None = None,
) -> Clip:
    """Render one clip (see the module docstring).

    Args:
        fg, bg: a foreground and a background image (uint8 sRGB).
        size: square canvas size in pixels.
        frames: number of later no-flash frames T.
        motion: subject motion magnitude (0: still; 1: up to a quarter of the frame, 12 degrees, 20 % scale).
        bg_motion: background motion magnitude in 0..1 (None: random).
        trimap: "runtime" (the keyframe path, falling back to the ground truth when it finds nothing), "gt", or
            "box" (the paper's box prompt: GrabCut inside the subject's padded bounding box, `box_prompt_mask`).
        pseudo: use a pseudo flash image instead of the rendered flash.
        distractor: another subject standing in the background (far from the flash, so the keyframe marks it
            background); its alpha is not part of the target, so only the keyframe tells the two apart.
    """
    margin = size // 6
    fg_lin, alpha0 = _place(fg, size, rng)
    bg_big = _background(bg, size, margin, rng)
    if distractor is not None:
        bg_big = _add_distractor(bg_big, distractor, size, rng)
    light = light or FlashLight.random(rng)
    bgm = float(rng.random()) if bg_motion is None else bg_motion
    bg0 = bg_big[margin : margin + size, margin : margin + size]
    noflash = render_noflash(fg_lin, alpha0, bg0, light, rng)
    flash = (
        pseudo_flash(render_noflash(fg_lin, alpha0, bg0, light, rng), rng)
        if pseudo
        else render_flash(fg_lin, alpha0, bg0, light, rng)
    )
    tri, mask, source = _keyframe_trimap(flash, noflash, alpha0, trimap)
    # subject path: from the keyframe pose to a random target pose, with an elastic wobble per frame
    target = (
        rng.uniform(-0.25, 0.25) * size * motion,
        rng.uniform(-0.1, 0.1) * size * motion,
        rng.uniform(-12, 12) * motion,
        1 + rng.uniform(-0.2, 0.2) * motion,
    )
    pan = rng.uniform(-1, 1, 2) * margin * 0.8 * bgm
    patches = [
        (rng.integers(0, size, 2), rng.integers(size // 10, size // 4, 2), rng.uniform(-1, 1, 2) * 0.3 * size * bgm)
        for _ in range(int(rng.integers(0, 3)) if bgm > 0.3 else 0)
    ]
    patch_src = bg_big[::-1, ::-1].copy()
    out_f, out_a, out_fg, out_bg = [], [], [], []
    amb = np.asarray(light.ambient_rgb, np.float32) * light.exposure_n
    for t in range(1, frames + 1):
        u = t / frames
        tx, ty, rot, sc = (v * u + rng.normal(0, 0.01 * size * motion) * (i < 2) for i, v in enumerate(target))
        sc = 1 + (target[3] - 1) * u
        m = cv2.getRotationMatrix2D((size / 2, size * 0.75), float(rot), float(sc))
        m[:, 2] += (tx, ty)
        f_t, a_t = _warp_subject(fg_lin, alpha0, m, _elastic(size, 2.5 * motion, rng))
        shake = rng.normal(0, 3.0 * bgm, 2)
        ox, oy = np.clip(margin + pan * u + shake, 0, 2 * margin).astype(int)
        b_t = bg_big[oy : oy + size, ox : ox + size].copy()
        for (py, px), (ph, pw), vel in patches:
            y0, x0 = int(np.clip(py + vel[0] * u, 0, size - ph)), int(np.clip(px + vel[1] * u, 0, size - pw))
            b_t[y0 : y0 + ph, x0 : x0 + pw] = patch_src[y0 : y0 + ph, x0 : x0 + pw]
        out_f.append(render_noflash(f_t, a_t, b_t, light, rng))
        out_a.append(a_t)
        out_fg.append(np.clip(f_t * amb, 0, 1))
        out_bg.append(np.clip(b_t * amb, 0, 1))
    to_srgb = lambda x: linear_to_srgb(np.stack(x)).astype(np.float32) / 255.0  # noqa: E731
    return Clip(
        flash,
        noflash,
        tri,
        source,
        np.stack(out_f),
        np.stack(out_a).astype(np.float32),
        to_srgb(out_fg),
        to_srgb(out_bg),
        alpha0,
        mask,
    )


def box_prompt_mask(image: np.ndarray, subject: np.ndarray, pad: float = 0.05) -> np.ndarray:
    """The subject's mask (H x W uint8 0/1) as a box prompt gives it: GrabCut on `image` started from the
    bounding box of `subject` (a detector's box, padded by `pad` of the frame), no flash ratio involved."""
    ys, xs = np.nonzero(subject)
    h, w = subject.shape
    if len(xs) == 0:
        return np.zeros((h, w), np.uint8)
    p = round(pad * max(h, w))
    x0, y0 = max(0, int(xs.min()) - p), max(0, int(ys.min()) - p)
    x1, y1 = min(w - 1, int(xs.max()) + p), min(h - 1, int(ys.max()) + p)
    if x1 - x0 < 4 or y1 - y0 < 4 or (x1 - x0 >= w - 2 and y1 - y0 >= h - 2):
        return (subject > 0).astype(np.uint8)  # no box to speak of (tiny, or the whole frame)
    gc = np.zeros((h, w), np.uint8)
    bgd, fgd = np.zeros((1, 65), np.float64), np.zeros((1, 65), np.float64)
    cv2.grabCut(
        cv2.cvtColor(image, cv2.COLOR_RGB2BGR), gc, (x0, y0, x1 - x0, y1 - y0), bgd, fgd, 3, cv2.GC_INIT_WITH_RECT
    )
    return np.isin(gc, (cv2.GC_FGD, cv2.GC_PR_FGD)).astype(np.uint8)


def _keyframe_trimap(
    flash: np.ndarray, noflash: np.ndarray, alpha: np.ndarray, mode: str
) -> tuple[np.ndarray, np.ndarray, str]:
    gt = (alpha > 0.5).astype(np.uint8)
    if mode == "gt":
        return make_trimap(gt), gt, "gt"
    if mode == "box":  # the paper's box prompt: a detector's box around the subject, segmented inside it
        mask = box_prompt_mask(flash, gt)
        return make_trimap(mask), mask, "box"
    from flashvid.keyframe import make_keyframe

    try:
        kf = make_keyframe(flash, noflash, accept_weak_flash=True)  # rendered: the order is known
        return kf.trimap, kf.mask, "runtime"
    except FlashvidError:
        return make_trimap(gt), gt, "gt-fallback"


def clip_from_pair(
    flash: np.ndarray,
    noflash: np.ndarray,
    alpha: np.ndarray,
    rng: np.random.Generator,
    *,
    size: int = 256,
    frames: int = 3,
    motion: float = 1.0,
    trimap: str = "runtime",
    fine: bool = True,
) -> Clip:
    """A clip from a real flash / no-flash pair with alpha (FNF-style): later frames are the no-flash image under
    a moving camera (subject and background move together). The foreground and background colours are not
    known apart, so both are the no-flash colour (the composition loss then only sees alpha)."""
    s = size / min(flash.shape[:2])
    big = [
        cv2.resize(
            x, (max(size, round(x.shape[1] * s)), max(size, round(x.shape[0] * s))), interpolation=cv2.INTER_AREA
        )
        for x in (flash, noflash, alpha)
    ]
    h, w = big[0].shape[:2]
    y0, x0 = (h - size) // 2, (w - size) // 2
    f, n, a = (x[y0 : y0 + size, x0 : x0 + size] for x in big)
    a = a.astype(np.float32) / (255.0 if a.dtype == np.uint8 else 1.0)
    tri, mask, source = _keyframe_trimap(np.ascontiguousarray(f), np.ascontiguousarray(n), a, trimap)
    out_f, out_a = [], []
    for t in range(1, frames + 1):
        u = t / frames
        m = cv2.getRotationMatrix2D(
            (size / 2, size / 2),
            float(rng.uniform(-4, 4) * motion * u),
            float(1 + rng.uniform(-0.08, 0.08) * motion * u),
        )
        m[:, 2] += rng.uniform(-0.08, 0.08, 2) * size * motion * u
        out_f.append(cv2.warpAffine(np.ascontiguousarray(n), m, (size, size), borderMode=cv2.BORDER_REFLECT))
        out_a.append(np.clip(cv2.warpAffine(a, m, (size, size), borderMode=cv2.BORDER_REFLECT), 0, 1))
    colour = np.stack(out_f).astype(np.float32) / 255.0
    return Clip(
        np.ascontiguousarray(f),
        np.ascontiguousarray(n),
        tri,
        source,
        np.stack(out_f),
        np.stack(out_a),
        colour,
        colour,
        a,
        mask,
        fine=fine,
    )


def follow_subject(masks: list[np.ndarray], margin_frac: float = 0.06) -> list[np.ndarray]:
    """Person-segmenter masks reduced to the keyframe's subject: in the first mask the largest person (the one the
    flash would light), then in each later mask the people overlapping where the subject was (dilated by
    `margin_frac` of the frame). Anyone else - a colleague at the edge, a passer-by - becomes background, as the
    keyframe would say (the paper's distractor case)."""
    out = []
    prev: np.ndarray | None = None
    for m in masks:
        n, cc, stats, _ = cv2.connectedComponentsWithStats((m > 0.5).astype(np.uint8), connectivity=8)
        if n <= 1:
            out.append(m * 0)
            continue
        if prev is None:
            keep = [1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))]
        else:
            r = max(3, round(margin_frac * max(m.shape)))
            near = cv2.dilate(prev.astype(np.uint8), np.ones((2 * r + 1, 2 * r + 1), np.uint8)) > 0
            keep = [i for i in range(1, n) if (near & (cc == i)).any()]
        region = np.isin(cc, keep)
        # the soft edge around the kept people stays; soft values around others go
        grown = cv2.dilate(region.astype(np.uint8), np.ones((7, 7), np.uint8)) > 0
        kept = np.where(grown, m, 0.0).astype(np.float32)
        out.append(kept)
        prev = region
    return out


def camera_path(h: int, w: int, size: int, count: int, rng: np.random.Generator, amount: float) -> list[np.ndarray]:
    """`count` 2 x 3 affine maps from an H x W frame to a `size` square, one per frame of a clip.

    `amount` 0: one crop for all, the short side scaled to 1-1.3x `size` (a still camera). `amount` 1: the first
    view's scale is 0.8-2.2x that (people from far to close; below 1x the frame's edges are mirrored in), and
    over the clip the view zooms by up to +-25 % and pans by up to a quarter of the square (a handheld or
    zooming camera); the path is linear in time."""
    base = size / min(h, w)
    zoom0 = rng.uniform(1.0, 1.3) * (float(np.exp(rng.uniform(np.log(0.8), np.log(2.2)))) if amount > 0 else 1.0)
    zoom1 = zoom0 * (1.0 + amount * rng.uniform(-0.25, 0.25))
    # centre of the first view, in frame pixels, anywhere the square fits (or the frame's centre when it does not)
    half0 = size / (2 * base * zoom0)
    cx0 = rng.uniform(min(half0, w / 2), max(w - half0, w / 2))
    cy0 = rng.uniform(min(half0, h / 2), max(h - half0, h / 2))
    pan = amount * rng.uniform(-0.25, 0.25, size=2) * size / (base * zoom0)
    views = []
    for t in range(count):
        f = t / max(1, count - 1)
        s = base * (zoom0 + (zoom1 - zoom0) * f)
        cx, cy = cx0 + pan[0] * f, cy0 + pan[1] * f
        views.append(np.array([[s, 0.0, size / 2 - s * cx], [0.0, s, size / 2 - s * cy]], np.float64))
    return views


def clip_from_video(
    video: np.ndarray,
    masks: np.ndarray,
    rng: np.random.Generator,
    *,
    size: int = 256,
    frames: int = 3,
    trimap: str = "gt",
    light: FlashLight | None = None,
    camera: float = 0.0,
) -> Clip:
    """A clip from real footage of a person with pseudo-label masks (N x H x W x 3 uint8, N x H x W float 0..1):
    a random keyframe index, its flash rendered physically (the masked person near, the rest at `d_ratio` times
    the distance; the no-flash frame's colours stand in for the albedo), then `frames` later frames 1-4 frames
    apart, cropped to a `size` square: one random crop (the short side scaled to 1-1.3x `size`), or with
    `camera` > 0 a camera that moves, zooms and frames the people at several sizes (`camera_path`)."""
    n = len(video)
    step = int(rng.integers(1, 5))
    k = int(rng.integers(0, max(1, n - step * frames)))
    idx = [min(n - 1, k + step * t) for t in range(frames + 1)]
    h, w = video.shape[1:3]
    flip = rng.random() < 0.5
    views = camera_path(h, w, size, frames + 1, rng, camera)

    def crop(x: np.ndarray, view: np.ndarray) -> np.ndarray:
        interp = cv2.INTER_AREA if view[0, 0] < 1 else cv2.INTER_LINEAR
        x = cv2.warpAffine(x, view, (size, size), flags=interp, borderMode=cv2.BORDER_REFLECT101)
        return np.ascontiguousarray(x[:, ::-1] if flip else x)

    imgs = [crop(video[i], v) for i, v in zip(idx, views, strict=True)]
    alphas = follow_subject(
        [np.clip(crop(masks[i].astype(np.float32), v), 0, 1) for i, v in zip(idx, views, strict=True)]
    )
    light = light or FlashLight.random(rng)
    albedo = srgb_to_linear(imgs[0]) / max(light.exposure_n, 1e-3)
    flash = render_flash(albedo, alphas[0], albedo, light, rng)
    noflash = imgs[0]
    tri, mask, source = _keyframe_trimap(flash, noflash, alphas[0], trimap)
    colour = np.stack(imgs[1:]).astype(np.float32) / 255.0
    return Clip(
        flash,
        noflash,
        tri,
        source,
        np.stack(imgs[1:]),
        np.stack(alphas[1:]),
        colour,
        colour,
        alphas[0],
        mask,
        fine=False,
    )
