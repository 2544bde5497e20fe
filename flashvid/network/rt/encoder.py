"""`ConvEncoder`: a small MobileNetV2-style encoder giving features at 1/2, 1/4, 1/8 and 1/16."""

from __future__ import annotations

from torch import Tensor, nn


def conv_bn(cin: int, cout: int, k: int = 3, stride: int = 1, groups: int = 1, act: bool = True) -> nn.Sequential:
    layers: list[nn.Module] = [
        nn.Conv2d(cin, cout, k, stride, k // 2, groups=groups, bias=False),
        nn.BatchNorm2d(cout),
    ]
    if act:
        layers.append(nn.Hardswish())
    return nn.Sequential(*layers)


class _InvertedResidual(nn.Sequential):
    """1x1 expand, 3x3 depthwise (stride s), 1x1 project; residual when shapes allow."""

    def __init__(self, cin: int, cout: int, stride: int, expand: int) -> None:
        mid = cin * expand
        super().__init__(
            conv_bn(cin, mid, 1), conv_bn(mid, mid, 3, stride, groups=mid), conv_bn(mid, cout, 1, act=False)
        )
        self.residual = stride == 1 and cin == cout

    def forward(self, x: Tensor) -> Tensor:
        y = super().forward(x)
        return x + y if self.residual else y


class ConvEncoder(nn.Module):
    """Encoder for an image (3 channels) or a flash keyframe (RGB + one-hot trimap, 6 channels).

    Args:
        in_channels: 3 or 6.
        channels: widths at 1/2, 1/4, 1/8 and 1/16.
        expand: expansion of the inverted residual blocks.

    Forward: x [B, in_channels, H, W] (H, W multiples of 16; RGB ImageNet-normalised) ->
    (f1 [B,c1,H/2,W/2], f2 [B,c2,H/4,W/4], f3 [B,c3,H/8,W/8], f4 [B,c4,H/16,W/16]), float.
    """

    def __init__(self, in_channels: int = 3, channels: tuple[int, int, int, int] = (16, 24, 40, 80), expand: int = 4):
        super().__init__()
        c1, c2, c3, c4 = channels
        self.channels = channels
        self.stage1 = conv_bn(in_channels, c1, 3, 2)
        self.stage2 = nn.Sequential(_InvertedResidual(c1, c2, 2, expand), _InvertedResidual(c2, c2, 1, 3))
        self.stage3 = nn.Sequential(_InvertedResidual(c2, c3, 2, expand), _InvertedResidual(c3, c3, 1, 3))
        self.stage4 = nn.Sequential(
            _InvertedResidual(c3, c4, 2, expand), _InvertedResidual(c4, c4, 1, 3), _InvertedResidual(c4, c4, 1, 3)
        )

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor, Tensor, Tensor]:
        f1 = self.stage1(x)
        f2 = self.stage2(f1)
        f3 = self.stage3(f2)
        f4 = self.stage4(f3)
        return f1, f2, f3, f4
