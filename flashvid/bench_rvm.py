"""RobustVideoMatting (Lin et al., WACV 2022), MobileNetV3-Large variant, rebuilt for side-by-side speed
comparisons only: `flashvid bench --compare-rvm`. Random weights (the speed of a network does not depend on
its weights' values); it is not a matting model of this project and is never used to matte.

Layout as published: torchvision's MobileNetV3-Large with its last stage dilated (features at 1/2, 1/4, 1/8,
1/16), LR-ASPP (960 -> 128), a recurrent decoder with ConvGRUs at 1/16, 1/8, 1/4, 1/2 (decoder widths 80, 40,
32, 16), a 1x1 projection to alpha + foreground, and the deep guided filter lifting the result to the frame's
size. Inputs are resized by `downsample_ratio` (RVM's recommended 0.375 for 1280x720 portraits).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn


class _ConvGRU(nn.Module):
    def __init__(self, ch: int) -> None:
        super().__init__()
        self.ih = nn.Sequential(nn.Conv2d(ch * 2, ch * 2, 3, padding=1), nn.Sigmoid())
        self.hh = nn.Sequential(nn.Conv2d(ch * 2, ch, 3, padding=1), nn.Tanh())

    def forward(self, x: Tensor, h: Tensor) -> tuple[Tensor, Tensor]:
        r, z = self.ih(torch.cat([x, h], dim=1)).split(x.shape[1], dim=1)
        c = self.hh(torch.cat([x, r * h], dim=1))
        h = (1 - z) * h + z * c
        return h, h


class _Up(nn.Module):
    def __init__(self, cin: int, cskip: int, csrc: int, cout: int) -> None:
        super().__init__()
        self.conv = nn.Sequential(
            nn.Conv2d(cin + cskip + csrc, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(True)
        )
        self.gru = _ConvGRU(cout // 2)

    def forward(self, x: Tensor, f: Tensor, s: Tensor, r: Tensor) -> tuple[Tensor, Tensor]:
        x = F.interpolate(x, size=f.shape[2:], mode="bilinear", align_corners=False)
        x = self.conv(torch.cat([x, f, s], dim=1))
        a, b = x.split(x.shape[1] // 2, dim=1)
        b, r = self.gru(b, r)
        return torch.cat([a, b], dim=1), r


class RVMMobileNetV3(nn.Module):
    """forward(src [B,3,H,W] 0..1, r1..r4) -> (fgr, pha, r1..r4); `initial_state(src)` gives zero states."""

    def __init__(self, downsample_ratio: float = 0.375) -> None:
        super().__init__()
        from torchvision.models import mobilenet_v3_large

        self.backbone = mobilenet_v3_large(weights=None, dilated=True).features[:17]
        self.aspp_a = nn.Sequential(nn.Conv2d(960, 128, 1, bias=False), nn.BatchNorm2d(128), nn.ReLU(True))
        self.aspp_b = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Conv2d(960, 128, 1, bias=False), nn.Sigmoid())
        self.gru4 = _ConvGRU(64)
        self.up3 = _Up(128, 40, 3, 80)
        self.up2 = _Up(80, 24, 3, 40)
        self.up1 = _Up(40, 16, 3, 32)
        self.out = nn.Sequential(
            nn.Conv2d(32 + 3, 16, 3, padding=1, bias=False),
            nn.BatchNorm2d(16),
            nn.ReLU(True),
            nn.Conv2d(16, 16, 3, padding=1, bias=False),
            nn.BatchNorm2d(16),
            nn.ReLU(True),
        )
        self.project = nn.Conv2d(16, 4, 1)
        self.refine = nn.Sequential(
            nn.Conv2d(4 * 2 + 16, 16, 1, bias=False),
            nn.BatchNorm2d(16),
            nn.ReLU(True),
            nn.Conv2d(16, 16, 1, bias=False),
            nn.BatchNorm2d(16),
            nn.ReLU(True),
            nn.Conv2d(16, 4, 1),
        )
        self.ratio = downsample_ratio
        self.mean: Tensor
        self.std: Tensor
        self.register_buffer("mean", torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1), persistent=False)

    def _small(self, src: Tensor) -> Tensor:
        return F.interpolate(
            src, scale_factor=self.ratio, mode="bilinear", align_corners=False, recompute_scale_factor=True
        )

    def initial_state(self, src: Tensor) -> list[Tensor]:
        s = self._small(src)
        with torch.no_grad():
            feats = self._encode(s)
        chans = (16, 20, 40, 64)
        return [torch.zeros(src.shape[0], c, *f.shape[2:], dtype=src.dtype) for c, f in zip(chans, feats, strict=True)]

    def _encode(self, x: Tensor) -> list[Tensor]:
        x = (x - self.mean) / self.std
        out = []
        for i, layer in enumerate(self.backbone):
            x = layer(x)
            if i in (1, 3, 6, 16):
                out.append(x)
        return out

    def forward(self, src: Tensor, r1: Tensor, r2: Tensor, r3: Tensor, r4: Tensor) -> tuple[Tensor, ...]:
        s = self._small(src)
        f1, f2, f3, f4 = self._encode(s)
        f4 = self.aspp_a(f4) * self.aspp_b(f4)
        s1 = F.avg_pool2d(s, 2, ceil_mode=True)
        s2 = F.avg_pool2d(s1, 2, ceil_mode=True)
        s3 = F.avg_pool2d(s2, 2, ceil_mode=True)
        a, b = f4.split(64, dim=1)
        b, r4 = self.gru4(b, r4)
        x = torch.cat([a, b], dim=1)
        x, r3 = self.up3(x, f3, s3, r3)
        x, r2 = self.up2(x, f2, s2, r2)
        x, r1 = self.up1(x, f1, s1, r1)
        x = F.interpolate(x, size=s.shape[2:], mode="bilinear", align_corners=False)
        hid = self.out(torch.cat([x, s], dim=1))
        fgr_res, pha = self.project(hid).split([3, 1], dim=1)
        # deep guided filter: coefficients from local statistics at low resolution, applied at full resolution
        fine_x = torch.cat([s, s.mean(1, keepdim=True)], dim=1)
        base_y = torch.cat([fgr_res + s, pha], dim=1)
        mean_x, mean_y = F.avg_pool2d(fine_x, 3, 1, 1), F.avg_pool2d(base_y, 3, 1, 1)
        cov = F.avg_pool2d(fine_x * base_y, 3, 1, 1) - mean_x * mean_y
        var = F.avg_pool2d(fine_x * fine_x, 3, 1, 1) - mean_x * mean_x
        a_coef = self.refine(torch.cat([cov, var, hid], dim=1))
        b_coef = mean_y - a_coef * mean_x
        size = src.shape[2:]
        a_up = F.interpolate(a_coef, size=size, mode="bilinear", align_corners=False)
        b_up = F.interpolate(b_coef, size=size, mode="bilinear", align_corners=False)
        full = a_up * torch.cat([src, src.mean(1, keepdim=True)], dim=1) + b_up
        fgr, pha = full.split([3, 1], dim=1)
        return fgr.clamp(0, 1), pha.clamp(0, 1), r1, r2, r3, r4
