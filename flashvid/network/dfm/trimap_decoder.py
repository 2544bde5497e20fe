"""`TrimapDecoder`: dfm-official's trimap head, 256@37 -> logits 3@128 in the order (bg, unknown, fg)."""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor, nn


def _crb(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(cin, cout, 3, padding=1, padding_mode="reflect", bias=False), nn.BatchNorm2d(cout), nn.ReLU()
    )


class TrimapDecoder(nn.Module):
    """Forward: ctx [B,256,37,37] -> trimap logits [B,3,128,128]."""

    def __init__(self, cin: int = 256, sizes: tuple[int, int] = (64, 128), widths: tuple[int, int] = (128, 64)) -> None:
        super().__init__()
        self.sizes = sizes
        self.conv1 = _crb(cin, widths[0])
        self.conv2 = _crb(widths[0], widths[1])
        self.out_head = nn.Sequential(nn.Conv2d(widths[1], 3, 1))

    def forward(self, x: Tensor) -> Tensor:
        x = F.interpolate(self.conv1(x), size=(self.sizes[0],) * 2, mode="bilinear", align_corners=False)
        x = F.interpolate(self.conv2(x), size=(self.sizes[1],) * 2, mode="bilinear", align_corners=False)
        return self.out_head(x)
