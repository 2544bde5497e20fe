"""`MobileNetV2`: ImageNet MobileNetV2 1.0 with batch norm folded into biased convolutions (the layout of the
TFLite original that `flashvid.network.tflite_import` converts), usable as a classifier or a feature encoder.

TensorFlow's "SAME" padding is reproduced exactly for even input sizes (stride-2 convolutions pad one pixel at
the bottom and right only), so converted weights give the original's numbers, not a one-pixel-shifted copy.
"""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor, nn

#: (expansion t, output channels c, repeats n, first stride s), as in the MobileNetV2 paper, Table 2.
SETTINGS = ((1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1))
#: Index of the block whose output is the feature at 1/2, 1/4, 1/8, 1/16 and 1/32.
TAPS = (0, 2, 5, 12, 16)
#: Channels of those features.
TAP_CHANNELS = (16, 24, 32, 96, 320)


class _SameConv(nn.Conv2d):
    """Conv2d with TensorFlow's SAME padding for stride 1 and for stride 2 on even sizes."""

    def __init__(self, cin: int, cout: int, k: int, stride: int = 1, groups: int = 1) -> None:
        super().__init__(cin, cout, k, stride, padding=0 if stride == 2 else k // 2, groups=groups, bias=True)

    def forward(self, x: Tensor) -> Tensor:
        if self.stride[0] == 2 and self.kernel_size[0] == 3:
            x = F.pad(x, (0, 1, 0, 1))
        return super().forward(x)


class _Block(nn.Module):
    """Inverted residual: [1x1 expand, ReLU6], 3x3 depthwise (stride), ReLU6, 1x1 project; residual if shapes allow."""

    def __init__(self, cin: int, cout: int, stride: int, t: int) -> None:
        super().__init__()
        mid = cin * t
        self.expand = _SameConv(cin, mid, 1) if t != 1 else None
        self.depthwise = _SameConv(mid, mid, 3, stride, groups=mid)
        self.project = _SameConv(mid, cout, 1)
        self.residual = stride == 1 and cin == cout

    def forward(self, x: Tensor) -> Tensor:
        y = F.relu6(self.expand(x)) if self.expand is not None else x
        y = self.project(F.relu6(self.depthwise(y)))
        return x + y if self.residual else y


class MobileNetV2(nn.Module):
    """MobileNetV2 1.0 (folded batch norm).

    Args:
        depth: how many inverted-residual blocks to keep (17 = all; 13 ends at the 1/16 feature).
        classifier: keep the 1x1 conv to 1280, the pooling and the 1001-way ImageNet logits (0 = background).

    `forward(x)`: x [B,3,H,W] float in 0..1 RGB (H, W multiples of 32, or of 16 with depth <= 13) -> the tapped
    features at 1/2 .. 1/16 (and 1/32 with depth 17), float. `classify(x)` -> logits [B,1001] (classifier only).
    """

    def __init__(self, depth: int = 17, classifier: bool = False) -> None:
        super().__init__()
        self.stem = _SameConv(3, 32, 3, 2)
        blocks: list[nn.Module] = []
        cin = 32
        for t, c, n, s in SETTINGS:
            for i in range(n):
                blocks.append(_Block(cin, c, s if i == 0 else 1, t))
                cin = c
        self.blocks = nn.ModuleList(blocks[:depth])
        self.depth = depth
        self.head = _SameConv(320, 1280, 1) if classifier else None
        self.logits = _SameConv(1280, 1001, 1) if classifier else None

    @property
    def feature_channels(self) -> tuple[int, ...]:
        return tuple(c for i, c in zip(TAPS, TAP_CHANNELS) if i < self.depth)

    def forward(self, x: Tensor) -> list[Tensor]:
        x = F.relu6(self.stem(x * 2.0 - 1.0))  # the original's input range is -1..1
        out = []
        for i, block in enumerate(self.blocks):
            x = block(x)
            if i in TAPS:
                out.append(x)
        return out

    def classify(self, x: Tensor) -> Tensor:
        if self.head is None or self.logits is None:
            raise RuntimeError("built without the classifier (classifier=False); use features()")
        x = self(x)[-1]
        x = F.relu6(self.head(x)).mean(dim=(2, 3), keepdim=True)
        return self.logits(x).flatten(1)
