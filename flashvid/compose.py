"""Compositing the subject over a new background, on the matte's device (GPU when the model runs there).

Backgrounds: a colour, an image (cover fit), a looping video, the blurred original (strength in pixels), or
transparent. `Compositor` adds edge despill (the network's foreground colour replaces the frame's colour where
alpha is partial, so the old background does not bleed through) and optional temporal smoothing of alpha.
All tensors are [1, C, H, W] float in 0..1.
"""

from __future__ import annotations

import cv2
import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor


def _to_tensor(img: np.ndarray, like: Tensor) -> Tensor:
    return torch.from_numpy(np.ascontiguousarray(img)).to(like.device).permute(2, 0, 1)[None].to(like.dtype) / 255.0


def cover_fit(img: np.ndarray, width: int, height: int) -> np.ndarray:
    """Scale `img` to cover width x height and crop the centre (no bars, aspect kept)."""
    s = max(width / img.shape[1], height / img.shape[0])
    w, h = max(width, round(img.shape[1] * s)), max(height, round(img.shape[0] * s))
    big = cv2.resize(img, (w, h), interpolation=cv2.INTER_AREA if s < 1 else cv2.INTER_LINEAR)
    y, x = (h - height) // 2, (w - width) // 2
    return np.ascontiguousarray(big[y : y + height, x : x + width])


class Background:
    """A background generator: `__call__(frame [1,3,H,W]) -> [1,3,H,W]`, or None for transparent."""

    transparent = False

    def __call__(self, frame: Tensor) -> Tensor | None:
        raise NotImplementedError


class ColorBackground(Background):
    def __init__(self, rgb: tuple[int, int, int]) -> None:
        self.rgb = rgb

    def __call__(self, frame: Tensor) -> Tensor:
        c = torch.tensor(self.rgb, device=frame.device, dtype=frame.dtype).view(1, 3, 1, 1) / 255.0
        return c.expand_as(frame)


class ImageBackground(Background):
    def __init__(self, image: np.ndarray) -> None:
        self.image = image
        self._cache: tuple[tuple[int, int, torch.device, torch.dtype], Tensor] | None = None

    def __call__(self, frame: Tensor) -> Tensor:
        key = (frame.shape[3], frame.shape[2], frame.device, frame.dtype)
        if self._cache is None or self._cache[0] != key:
            self._cache = (key, _to_tensor(cover_fit(self.image, key[0], key[1]), frame))
        return self._cache[1]


class BlurBackground(Background):
    """The frame itself, blurred with a Gaussian of `strength` pixels (computed at a quarter size when large)."""

    def __init__(self, strength: float = 20.0) -> None:
        self.strength = float(strength)

    def __call__(self, frame: Tensor) -> Tensor:
        sigma = max(self.strength, 0.5)
        scale = 4 if sigma >= 8 else 1
        x = F.avg_pool2d(frame, scale) if scale > 1 else frame
        y = gaussian_blur_separable(x, sigma / scale)
        return F.interpolate(y, size=frame.shape[2:], mode="bilinear", align_corners=False) if scale > 1 else y


def dilate(x: Tensor, r: int) -> Tensor:
    """Grey dilation of [N,C,H,W] `x` by a (2r+1)-pixel square, as two 1-D max filters."""
    x = F.max_pool2d(x, (1, 2 * r + 1), stride=1, padding=(0, r))
    return F.max_pool2d(x, (2 * r + 1, 1), stride=1, padding=(r, 0))


def erode(x: Tensor, r: int) -> Tensor:
    """Grey erosion of [N,C,H,W] `x` by a (2r+1)-pixel square (the frame's edge does not erode)."""
    return -dilate(-x, r)


def gaussian_blur_separable(x: Tensor, sigma: float) -> Tensor:
    """A Gaussian blur of [N,C,H,W] `x` (std `sigma` pixels, reflect padding) as two 1-D passes: 2k multiplies a
    pixel instead of k squared (torchvision's `gaussian_blur` convolves with the full 2-D kernel)."""
    k = min(int(2 * round(3 * sigma) + 1), 2 * min(x.shape[2:]) - 1)  # reflect padding must fit the image
    half = k // 2
    t = torch.arange(k, device=x.device, dtype=x.dtype) - half
    g = torch.exp(-0.5 * (t / sigma) ** 2)
    g = g / g.sum()
    c = x.shape[1]
    y = F.conv2d(F.pad(x, (half, half, 0, 0), mode="reflect"), g.view(1, 1, 1, k).expand(c, 1, 1, k), groups=c)
    return F.conv2d(F.pad(y, (0, 0, half, half), mode="reflect"), g.view(1, 1, k, 1).expand(c, 1, k, 1), groups=c)


class TransparentBackground(Background):
    transparent = True

    def __call__(self, frame: Tensor) -> None:
        return None


class Compositor:
    """alpha * fg + (1 - alpha) * background, with edge despill and temporal smoothing of alpha.

    Args:
        background: a `Background`.
        despill: 0..1; how much of the network's foreground colour replaces the frame's colour at partial alpha.
        smoothing: 0..0.95; exponential smoothing of alpha over time where it barely changes (motion stays sharp).
        fill_holes, grow, feather: matte finishing in pixels (`finish`): holes up to `fill_holes` px closed,
            the edge moved out (`grow` > 0) or in (< 0), then feathered with a Gaussian of sigma `feather`.
    """

    def __init__(
        self,
        background: Background,
        despill: float = 1.0,
        smoothing: float = 0.0,
        *,
        fill_holes: int = 0,
        grow: int = 0,
        feather: float = 0.0,
    ) -> None:
        self.background, self.despill, self.smoothing = background, float(despill), float(smoothing)
        self.fill_holes, self.grow, self.feather = int(fill_holes), int(grow), float(feather)
        self._prev: Tensor | None = None

    def reset(self) -> None:
        self._prev = None

    def smooth(self, alpha: Tensor) -> Tensor:
        if self.smoothing <= 0:
            return alpha
        if self._prev is None or self._prev.shape != alpha.shape:
            self._prev = alpha
            return alpha
        k = self.smoothing * torch.exp(-torch.abs(alpha - self._prev) / 0.1)
        out = (1 - k) * alpha + k * self._prev
        self._prev = out
        return out

    def finish(self, alpha: Tensor) -> Tensor:
        """Matte finishing of alpha [1,1,H,W]: close holes up to `fill_holes` px, grow / shrink the edge by `grow`
        px, feather it with a Gaussian of sigma `feather` px (each off at 0; separable, so cost grows with the
        size in pixels, not its square)."""
        a = alpha
        holes, grow = round(self.fill_holes), round(self.grow)  # whole pixels (a GUI may hand over floats)
        if holes > 0:
            r = (holes + 1) // 2
            a = erode(dilate(a, r), r)
        if grow > 0:
            a = dilate(a, grow)
        elif grow < 0:
            a = erode(a, -grow)
        if self.feather > 0:
            a = gaussian_blur_separable(a, self.feather)
        return a

    def foreground(self, frame: Tensor, alpha: Tensor, fgr: Tensor) -> Tensor:
        """The subject's colour: the frame where opaque, the network's foreground at the edges."""
        if self.despill <= 0:
            return frame
        w = (1.0 - alpha).mul_(2.0).clamp_(0.0, 1.0)
        if self.despill != 1.0:
            w.mul_(self.despill)
        return torch.lerp(frame, fgr, w)

    @torch.inference_mode()
    def compose(self, frame: Tensor, alpha: Tensor, fgr: Tensor) -> tuple[Tensor | None, Tensor, Tensor]:
        """-> (composite [1,3,H,W] over the background, or None when transparent; the subject's colour [1,3,H,W];
        the (smoothed) alpha [1,1,H,W])."""
        alpha = self.finish(self.smooth(alpha.to(frame.dtype)))
        fg = self.foreground(frame, alpha, fgr.to(frame.dtype))
        bg = self.background(frame)
        return (None if bg is None else torch.lerp(bg.expand_as(fg), fg, alpha)), fg, alpha

    def __call__(self, frame: Tensor, alpha: Tensor, fgr: Tensor) -> tuple[Tensor, Tensor]:
        """-> (composite [1,3,H,W] over the background, or the foreground colour when transparent; alpha [1,1,H,W])."""
        composite, fg, alpha = self.compose(frame, alpha, fgr)
        return (fg if composite is None else composite), alpha


def to_uint8(rgb: Tensor, alpha: Tensor | None = None) -> np.ndarray:
    """[1,C,H,W] (and [1,1,H,W]) float 0..1 -> H x W x C (or C+1) uint8 on the CPU, rounded to nearest."""
    x = rgb if alpha is None else torch.cat([rgb, alpha], dim=1)
    y = x[0].mul(255.0).add_(0.5).clamp_(0.0, 255.0)  # scaled and rounded on the device
    if y.device.type != "cpu":  # one uint8 transfer (a quarter of the floats' bytes), made HWC on the device
        return y.to(torch.uint8).permute(1, 2, 0).contiguous().cpu().numpy()
    # on the CPU the cast and the HWC reorder are one copy: half the time of a uint8 CHW -> HWC reorder after it
    out = torch.empty((y.shape[1], y.shape[2], y.shape[0]), dtype=torch.uint8)
    out.copy_(y.permute(1, 2, 0))
    return out.numpy()
