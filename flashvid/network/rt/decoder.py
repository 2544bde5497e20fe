"""`RecurrentDecoder`: upsamples the fused 1/16 features back to the internal resolution, with ConvGRU memory."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from flashvid.network.rt.convgru import ConvGRU


def _cbr(cin: int, cout: int, separable: bool = False) -> nn.Sequential:
    """3x3 conv, BN, ReLU; `separable`: 1x1 conv then depthwise 3x3 (about 9x fewer operations)."""
    if separable:
        return nn.Sequential(
            nn.Conv2d(cin, cout, 1, bias=False),
            nn.Conv2d(cout, cout, 3, padding=1, groups=cout, bias=False),
            nn.BatchNorm2d(cout),
            nn.ReLU(),
        )
    return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU())


class _Stage(nn.Module):
    """Upsample to the skip's size, concatenate skip and image, 3x3 conv, ConvGRU on the second half."""

    def __init__(self, cin: int, cskip: int, cout: int, separable: bool, cimg: int = 3) -> None:
        super().__init__()
        self.conv = _cbr(cin + cskip + cimg, cout, separable)
        self.gru = ConvGRU(cout // 2, separable=separable)

    def forward(self, x: Tensor, skip: Tensor, img: Tensor, r: Tensor) -> tuple[Tensor, Tensor]:
        x = F.interpolate(x, size=skip.shape[2:], mode="bilinear", align_corners=False)
        x = self.conv(torch.cat([x, skip, img], dim=1))
        a, b = x.split(x.shape[1] // 2, dim=1)
        b, r = self.gru(b, r)
        return torch.cat([a, b], dim=1), r


class RecurrentDecoder(nn.Module):
    """Decoder with four recurrent states (at 1/16, 1/8, 1/4, 1/2).

    Args:
        feat: encoder widths at 1/2, 1/4, 1/8, 1/16.
        dec: decoder widths at 1/8, 1/4, 1/2 (even).
        out: width of the hidden features at the internal resolution.
        img_channels: channels of the guide image given at every stage (3: RGB; 4: RGB + the subject prior).

    Forward: img [B,img_channels,H,W] in 0..1 (H, W multiples of 16), f1..f4 from the encoder (f4 after the FCM), and
    r1..r4 (the states returned by `state_shapes`) -> (hid [B,out,H,W], x3 [B,dec[0],H/8,W/8], r1, r2, r3, r4).
    """

    def __init__(
        self,
        feat: tuple[int, int, int, int] = (16, 24, 40, 80),
        dec: tuple[int, int, int] = (48, 32, 16),
        out: int = 16,
        img_channels: int = 3,
    ) -> None:
        super().__init__()
        self.widths = (dec[2] // 2, dec[1] // 2, dec[0] // 2, feat[3] // 2)  # state channels r1..r4
        self.gru4 = ConvGRU(feat[3] // 2)
        self.up3 = _Stage(feat[3], feat[2], dec[0], separable=False, cimg=img_channels)
        self.up2 = _Stage(dec[0], feat[1], dec[1], separable=True, cimg=img_channels)
        self.up1 = _Stage(dec[1], feat[0], dec[2], separable=True, cimg=img_channels)
        self.out = nn.Sequential(_cbr(dec[2] + img_channels, out, separable=True), _cbr(out, out, separable=True))

    def state_shapes(self, batch: int, height: int, width: int) -> list[tuple[int, int, int, int]]:
        """Shapes of r1..r4 for an internal (padded) size height x width."""
        return [(batch, c, height // s, width // s) for c, s in zip(self.widths, (2, 4, 8, 16))]

    def forward(
        self,
        img: Tensor,
        f1: Tensor,
        f2: Tensor,
        f3: Tensor,
        f4: Tensor,
        r1: Tensor,
        r2: Tensor,
        r3: Tensor,
        r4: Tensor,
    ) -> tuple[Tensor, ...]:
        s1 = F.avg_pool2d(img, 2)
        s2 = F.avg_pool2d(s1, 2)
        s3 = F.avg_pool2d(s2, 2)
        a, b = f4.split(f4.shape[1] // 2, dim=1)
        b, r4 = self.gru4(b, r4)
        x4 = torch.cat([a, b], dim=1)
        x3, r3 = self.up3(x4, f3, s3, r3)
        x2, r2 = self.up2(x3, f2, s2, r2)
        x1, r1 = self.up1(x2, f1, s1, r1)
        x0 = F.interpolate(x1, size=img.shape[2:], mode="bilinear", align_corners=False)
        hid = self.out(torch.cat([x0, img], dim=1))
        return hid, x3, r1, r2, r3, r4
