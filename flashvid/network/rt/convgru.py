"""`ConvGRU`: a convolutional GRU cell, the recurrent memory of the decoder."""

from __future__ import annotations

import torch
from torch import Tensor, nn


class ConvGRU(nn.Module):
    """h' = (1 - z) h + z tanh(W [x, r h]); z, r = sigmoid(U [x, h]); 3x3 convolutions.

    `separable`: each 3x3 convolution is a depthwise 3x3 followed by a 1x1 (for high resolutions).

    Forward: x [B,C,H,W], h [B,C,H,W] (zeros at the first frame) -> (h', h') with h' [B,C,H,W].
    """

    def __init__(self, channels: int, kernel: int = 3, separable: bool = False) -> None:
        super().__init__()

        def conv(cin: int, cout: int) -> nn.Module:
            if not separable:
                return nn.Conv2d(cin, cout, kernel, padding=kernel // 2)
            return nn.Sequential(
                nn.Conv2d(cin, cin, kernel, padding=kernel // 2, groups=cin, bias=False), nn.Conv2d(cin, cout, 1)
            )

        self.gates = conv(2 * channels, 2 * channels)
        self.cand = conv(2 * channels, channels)

    def forward(self, x: Tensor, h: Tensor) -> tuple[Tensor, Tensor]:
        z, r = torch.sigmoid(self.gates(torch.cat([x, h], dim=1))).chunk(2, dim=1)
        c = torch.tanh(self.cand(torch.cat([x, r * h], dim=1)))
        h = (1 - z) * h + z * c
        return h, h
