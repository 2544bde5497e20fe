"""Input preprocessing shared by the networks: ImageNet statistics and the internal-resolution resize."""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def internal_resize(x: Tensor, ratio: float, multiple: int = 16) -> tuple[Tensor, Tensor]:
    """x [B,C,H,W] scaled by `ratio`, and the same padded (replicate) to a multiple of `multiple`.

    Downscaling averages over an integer window first (anti-aliasing; area interpolation to a dynamic size does
    not export), then resizes the remainder bilinearly.
    """
    k = max(1, int(1.0 / ratio)) if ratio < 1.0 else 1
    small = F.avg_pool2d(x, k) if k > 1 else x
    scale = ratio * k
    if abs(scale - 1.0) > 1e-6:
        # The output size is floor(size * scale): PyTorch computes it in float64, ONNX Runtime (and TensorRT) in
        # float32, so 240 * 0.9 is 215.99999999999997 (215 rows) in one and 216.0 (216 rows) in the other, and the
        # exported graph would shift the picture against eager. A relative nudge of 1e-6 puts such products
        # safely above the integer in both (no disagreement for internal sizes 224-768 at any side up to 2000
        # px, checked exhaustively), and is far below any visible change of scale.
        scale *= 1.0 + 1e-6
        small = F.interpolate(small, scale_factor=scale, mode="bilinear", align_corners=False)
    h, w = small.shape[2:]
    return small, F.pad(small, (0, (-w) % multiple, 0, (-h) % multiple), mode="replicate")
