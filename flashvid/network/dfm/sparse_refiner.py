"""`DenseMaskedRefiner`: dfm-official's boundary refiner as dense, masked convolutions.

The authors' refiner runs regular sparse convolutions (spconv, CUDA only) on the pixels near the alpha
boundary. A regular 3x3 sparse convolution writes every pixel within one pixel of an active input, so the
active set grows by a 3x3 dilation per layer; computing the dense convolution and zeroing everything outside
that grown set gives the same values at the active pixels (BatchNorm and LeakyReLU act per pixel). There is no
data-dependent control flow: both stages always run and an empty selection picks the authors' early-return
values with `torch.where`. Parameter names are the authors'; weights are stored in torch's Conv2d layout
(the checkpoint loader converts spconv's layout).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn


def _bilinear(x: Tensor, size: tuple[int, int] | torch.Size) -> Tensor:
    return F.interpolate(x, size=size, mode="bilinear", align_corners=False)


def _grow(m: Tensor) -> Tensor:
    return F.max_pool2d(m, 3, 1, 1)


def _erode(m: Tensor, k: int) -> Tensor:
    return -F.max_pool2d(-m, k, 1, k // 2)


class DenseMaskedRefiner(nn.Module):
    """Forward: afg_lr [B,4,s,s] (composed alpha, foreground residual), feat_lr [B,32,s,s], img [B,3,H,W] 0..1
    (the full-resolution frame) -> (alpha [B,1,H,W] 0..1, fgr [B,3,H,W] 0..1).

    Frames with a side over 1024 px run the first stage at half size (fixed by the input shape).
    """

    def __init__(self, feat: int = 32, dilation: int = 11) -> None:
        super().__init__()
        self.dilation = dilation
        self.conv_2x_to_1x = nn.Sequential(
            nn.Conv2d(3 + 4 + feat, 24, 3, padding=1),
            nn.BatchNorm2d(24),
            nn.LeakyReLU(0.01),
            nn.Conv2d(24, 16, 3, padding=1),
            nn.BatchNorm2d(16),
            nn.LeakyReLU(0.01),
        )
        self.alpha_head_2x = nn.Sequential(nn.Conv2d(16, 4, 1, bias=False))
        self.conv_1x_to_out = nn.Sequential(
            nn.Conv2d(3 + 4 + 16, 12, 3, padding=1),
            nn.BatchNorm2d(12),
            nn.LeakyReLU(0.01),
            nn.Conv2d(12, 4, 1, bias=False),
        )

    def _select(self, a: Tensor) -> Tensor:
        m = ((a > 0.01) & (a < 0.99)).to(a.dtype)
        return F.max_pool2d(m, self.dilation, 1, self.dilation // 2)

    def forward(self, afg_lr: Tensor, feat_lr: Tensor, img: Tensor) -> tuple[Tensor, Tensor]:
        size = img.shape[2:]
        img2 = F.interpolate(img, scale_factor=0.5, mode="bilinear", align_corners=False) if max(size) > 1024 else img
        size2 = img2.shape[2:]
        afg2, feat2 = _bilinear(afg_lr, size2), _bilinear(feat_lr, size2)
        # stage 2x
        m2 = self._select(afg2[:, :1])
        c = self.conv_2x_to_1x
        g1 = _grow(m2)
        h = c[2](c[1](c[0](torch.cat([img2, afg2, feat2], dim=1) * m2))) * g1
        g2 = _grow(g1)
        h = c[5](c[4](c[3](h))) * g2
        o2 = self.alpha_head_2x(h) * g2
        e2 = _erode(m2, 5)
        a2 = e2 * torch.clamp(o2[:, :1], 0, 1) + (1 - e2) * afg2[:, :1]
        f2res = e2 * o2[:, 1:] + (1 - e2) * afg2[:, 1:]
        afg1 = _bilinear(torch.cat([a2, f2res], dim=1), size)
        f2 = torch.clamp(f2res + img2, 0, 1)
        feat1 = _bilinear(h, size)
        # stage 1x
        m1 = self._select(afg1[:, :1])
        d = self.conv_1x_to_out
        g = _grow(m1)
        o1 = d[3](d[2](d[1](d[0](torch.cat([img, afg1, feat1], dim=1) * m1))) * g) * g
        e1 = _erode(m1, 7)
        a1 = e1 * torch.clamp(o1[:, :1], 0, 1) + (1 - e1) * afg1[:, :1]
        f1 = torch.clamp(e1 * o1[:, 1:] + (1 - e1) * afg1[:, 1:] + img, 0, 1)
        # the authors' early returns, as selections
        afg_up = _bilinear(afg_lr, size)
        alpha = torch.where(m1.any(), a1, _bilinear(a2, size))
        fgr = torch.where(m1.any(), f1, _bilinear(f2, size))
        alpha = torch.where(m2.any(), alpha, afg_up[:, :1])
        fgr = torch.where(m2.any(), fgr, torch.clamp(afg_up[:, 1:] + img, 0, 1))
        return alpha, fgr
