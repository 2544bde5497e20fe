"""`MattingDecoder`: dfm-official's matting decoder (ResNet-style down/up path), authors' parameter names."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn


def _conv3(cin: int, cout: int, stride: int = 1, bias: bool = False) -> nn.Conv2d:
    return nn.Conv2d(cin, cout, 3, stride, 1, bias=bias)


class _Shortcut(nn.Module):
    def __init__(self, cin: int, cout: int) -> None:
        super().__init__()
        self.op = _conv3(cin, cout, 2)

    def forward(self, x: Tensor) -> Tensor:
        return self.op(x)


class _DownBlock(nn.Module):
    def __init__(self, cin: int, cout: int, stride: int) -> None:
        super().__init__()
        self.conv1, self.bn1 = _conv3(cin, cout, stride), nn.BatchNorm2d(cout)
        self.conv2, self.bn2 = _conv3(cout, cout), nn.BatchNorm2d(cout)
        self.downsample = _Shortcut(cin, cout) if stride == 2 else nn.Sequential(_conv3(cin, cout, bias=True))

    def forward(self, x: Tensor) -> Tensor:
        y = self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x)))))
        return F.relu(y + self.downsample(x))


class _Upsample(nn.Module):
    def __init__(self, cin: int, cout: int) -> None:
        super().__init__()
        self.conv = _conv3(cin, cout)

    def forward(self, x: Tensor) -> Tensor:
        return self.conv(F.interpolate(x, scale_factor=2.0, mode="bilinear", align_corners=False))


class _UpBlock(nn.Module):
    def __init__(self, cin: int, cout: int) -> None:
        super().__init__()
        self.conv1, self.bn1 = nn.ConvTranspose2d(cin, cout, 4, 2, 1, bias=False), nn.BatchNorm2d(cout)
        self.conv2, self.bn2 = _conv3(cout, cout), nn.BatchNorm2d(cout)
        self.upsample = _Upsample(cin, cout)

    def forward(self, x: Tensor) -> Tensor:
        y = self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x)))))
        return F.relu(y + self.upsample(x))


class _Head(nn.Module):
    def __init__(self, cout: int) -> None:
        super().__init__()
        self.matting_convs = nn.Sequential(
            nn.Conv2d(32, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(), nn.Conv2d(16, cout, 1)
        )

    def forward(self, x: Tensor) -> Tensor:
        return self.matting_convs(x)


class MattingDecoder(nn.Module):
    """Forward: img [B,3,S,S] in 0..1 (S = 518, not normalised), trimap_logit [B,3,s,s], feat [B,256,37,37] ->
    (alpha [B,1,S,S] 0..1, fg [B,3,S,S] 0..1, fg_raw [B,3,S,S] residual, hidden [B,32,S,S])."""

    def __init__(self, down: tuple[int, ...] = (6, 32, 64, 128), up: tuple[int, ...] = (256, 128, 64, 32, 32)) -> None:
        super().__init__()
        self.down_blks = nn.ModuleList(_DownBlock(down[i], down[i + 1], 2) for i in range(3))
        self.mid_blk = _DownBlock(up[0], down[3], 1)
        self.up_blks = nn.ModuleList(_UpBlock(cin, cout) for cin, cout in zip(up[:3], (64, 32, 32)))
        self.alpha_head = _Head(1)
        self.fg_head = _Head(3)

    def forward(self, img: Tensor, trimap_logit: Tensor, feat: Tensor) -> tuple[Tensor, Tensor, Tensor, Tensor]:
        tl = F.interpolate(trimap_logit, size=img.shape[2:], mode="bilinear", align_corners=False)
        cls = tl.argmax(dim=1, keepdim=True)
        onehot = torch.cat([cls == 0, cls == 1, cls == 2], dim=1).to(img.dtype)
        x = torch.cat([img, onehot], dim=1)
        skips = []
        for blk in self.down_blks:
            x = blk(x)
            skips.append(x)
        h = self.mid_blk(feat)
        for blk, skip in zip(self.up_blks, reversed(skips)):
            if h.shape[2:] != skip.shape[2:]:
                h = F.interpolate(h, size=skip.shape[2:], mode="bilinear", align_corners=False)
            h = blk(torch.cat([h, skip], dim=1))
        alpha = torch.clamp(self.alpha_head(h), 0.0, 1.0)
        fg_raw = self.fg_head(h)
        return alpha, torch.clamp(fg_raw + img, 0.0, 1.0), fg_raw, h
