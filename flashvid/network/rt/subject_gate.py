"""`SubjectGate`: the matte only for the keyframe's subject.

The flash keyframe says who the subject is. A network that has learned what people look like finds a person in
every frame whether or not they are the one the flash lit, so flashvid-rt checks, frame by frame, that the
person it matted looks like the keyframe's subject, and fades the matte out when they do not (the paper's
"different identity" case: someone else sits down in front of the camera).

The check compares two appearance descriptors of the subject, each from its mask:

* ImageNet MobileNetV2 features at 1/8 (the encoder's frozen blocks, so the frame's come with the matting pass),
  pooled in six cells - three bands of equal mask mass (head and shoulders, chest, waist) times the two sides
  of the mask's centre column - each cell unit-length; their mean cosine;
* colour: a hue x saturation x value histogram (12 x 4 x 6 bins) of the upper and of the lower half of the
  subject at 1/8, compared by the Bhattacharyya coefficient (the descriptor holds the square roots, so the
  comparison is a dot product); deep features pool a black hoodie with a white print and a grey T-shirt to
  nearly the same vector, their histograms differ.

The similarity is the mean of the two (each 0..1 for a match). The keyframe's descriptor comes from its
no-flash image (flash light changes the features and the colours), the frame's from where the matte the network
just predicted and the prior it was given agree (their product: on the first frame the prior is the keyframe's
own mask, so a matte that strays into the room does not enter the descriptor).

The gate is a Schmitt trigger with soft edges, its value carried from frame to frame: it opens as the similarity
rises from `low` (0, no matte) to `high` (1, the matte as predicted), and once open it holds while the
similarity stays above `hold_high`, fading to shut at `hold_low`: ``gate = max(ramp(low, high), min(previous,
ramp(hold_low, hold_high)))``. A subject confirmed when the take starts is not lost to a frame where they turn
and the matte strays (on moving composites such frames scored 0.66-0.78 against their own keyframe), while
another person never opens it (0.775 at most over the 20 Intel clips, each against another person's keyframe)
and someone clearly different who takes the subject's place shuts it (another person averages about 0.5).
Without hold thresholds the gate has no state: each frame on its own.
Thresholds in `flashvid.defaults.SUBJECT_GATE`.

A keyframe descriptor of zeros (no no-flash image given, or the check switched off) opens the gate fully.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn


def rgb_to_hsv(rgb: Tensor) -> Tensor:
    """[B,3,H,W] RGB in 0..1 -> [B,3,H,W] hue, saturation, value, each in 0..1 (hue 0 where there is none)."""
    r, g, b = rgb[:, 0:1], rgb[:, 1:2], rgb[:, 2:3]
    v = torch.maximum(torch.maximum(r, g), b)
    span = v - torch.minimum(torch.minimum(r, g), b)
    s = span / v.clamp(min=1e-6)
    d = span.clamp(min=1e-6)
    h = torch.where(v == r, (g - b) / d, torch.where(v == g, 2.0 + (b - r) / d, 4.0 + (r - g) / d))
    h = torch.remainder(h / 6.0, 1.0) * (span > 1e-6).to(rgb.dtype)
    return torch.cat([h, s, v], dim=1)


class SubjectGate(nn.Module):
    """No weights.

    `describe(feat [B,C,h,w], image [B,3,h,w] 0..1, mask [B,1,h,w] 0..1) -> [B, CELLS*C + 2*BINS]`, all at 1/8
    of the internal resolution, once per keyframe (zeros for an empty mask); `forward(feat, image, mask,
    keyframe_desc, previous) -> (gate [B,1,1,1] in 0..1, similarity [B])` per frame, `previous` the last
    frame's gate [B,1,1,1] (zeros for the first frame; ignored without hold thresholds, `holds` False).
    """

    ROWS, COLS = 3, 2
    CELLS = ROWS * COLS
    HSV_BINS = (12, 4, 6)
    BINS = HSV_BINS[0] * HSV_BINS[1] * HSV_BINS[2]

    def __init__(self, low: float, high: float, hold_low: float | None = None, hold_high: float | None = None) -> None:
        super().__init__()
        if not high > low:
            raise ValueError(f"the gate's high threshold ({high}) must be above its low one ({low})")
        if (hold_low is None) != (hold_high is None):
            raise ValueError("give both hold thresholds or neither")
        if hold_low is not None and hold_high is not None and not low >= hold_high > hold_low:
            raise ValueError(f"the hold thresholds ({hold_low}, {hold_high}) must rise and lie at or below {low}")
        self.low, self.high = float(low), float(high)
        self.hold = None if hold_low is None or hold_high is None else (float(hold_low), float(hold_high))

    @property
    def holds(self) -> bool:
        """Whether the gate carries its value from frame to frame (a recurrent state [B,1,1,1])."""
        return self.hold is not None

    @classmethod
    def descriptor_size(cls, channels: int) -> int:
        return cls.CELLS * channels + 2 * cls.BINS

    @classmethod
    def _feature_cells(cls, feat: Tensor, mask: Tensor) -> Tensor:
        total = mask.sum(dim=(2, 3), keepdim=True).clamp(min=1e-6)
        row_mass = mask.sum(dim=3, keepdim=True)  # [B,1,h,1]
        above = (torch.cumsum(row_mass, dim=2) - row_mass * 0.5) / total  # the mask's share above each row
        cols = torch.arange(feat.shape[3], device=feat.device, dtype=feat.dtype).view(1, 1, 1, -1)
        left = (cols < (mask * cols).sum(dim=(2, 3), keepdim=True) / total).to(feat.dtype)
        cells = []
        for r in range(cls.ROWS):
            band = ((above >= r / cls.ROWS) & (above < (r + 1) / cls.ROWS)).to(feat.dtype)
            for side in (left, 1.0 - left):
                m = mask * band * side
                d = (feat * m).sum(dim=(2, 3)) / m.sum(dim=(2, 3)).clamp(min=1e-6)
                cells.append(F.normalize(d, dim=1, eps=1e-6))
        return torch.cat(cells, dim=1)

    @classmethod
    def _colour_halves(cls, image: Tensor, mask: Tensor) -> Tensor:
        nh, ns, _ = cls.HSV_BINS
        hsv = rgb_to_hsv(image)
        q = [torch.clamp(torch.floor(hsv[:, i : i + 1] * n), 0, n - 1) for i, n in enumerate(cls.HSV_BINS)]
        index = (q[0] + nh * q[1] + nh * ns * q[2]).flatten(1)  # [B, N]
        bins = torch.arange(cls.BINS, device=image.device, dtype=image.dtype).view(1, -1, 1)
        onehot = (index[:, None, :] == bins).to(image.dtype)  # [B, BINS, N]
        rows = torch.arange(image.shape[2], device=image.device, dtype=image.dtype).view(1, 1, -1, 1)
        centre = (mask * rows).sum(dim=(2, 3), keepdim=True) / mask.sum(dim=(2, 3), keepdim=True).clamp(min=1e-6)
        upper = mask * (rows < centre).to(image.dtype)
        halves = []
        for m in (upper, mask - upper):
            hist = torch.bmm(onehot, m.flatten(1)[:, :, None])[:, :, 0]  # [B, BINS]
            halves.append(torch.sqrt(hist / hist.sum(dim=1, keepdim=True).clamp(min=1e-6)))
        return torch.cat(halves, dim=1)

    @classmethod
    def describe(cls, feat: Tensor, image: Tensor, mask: Tensor) -> Tensor:
        mask = mask.to(feat.dtype)
        return torch.cat([cls._feature_cells(feat, mask), cls._colour_halves(image.to(feat.dtype), mask)], dim=1)

    def similarity(self, desc: Tensor, keyframe_desc: Tensor) -> Tensor:
        """[B]: the mean of the cells' feature cosine and the halves' colour Bhattacharyya coefficient."""
        n = desc.shape[1] - 2 * self.BINS
        prod = desc * keyframe_desc
        return 0.5 * prod[:, :n].sum(dim=1) / self.CELLS + 0.5 * prod[:, n:].sum(dim=1) / 2

    def forward(
        self, feat: Tensor, image: Tensor, mask: Tensor, keyframe_desc: Tensor, previous: Tensor | None = None
    ) -> tuple[Tensor, Tensor]:
        # a decision, not a learned layer: no gradient flows through it (square roots and norms of empty cells
        # would give NaN gradients), so training sees the gate as a constant factor
        feat, image, mask, keyframe_desc = (t.detach() for t in (feat, image, mask, keyframe_desc))
        similarity = self.similarity(self.describe(feat, image, mask), keyframe_desc)
        gate = ((similarity - self.low) / (self.high - self.low)).clamp(0.0, 1.0)
        if self.hold is not None and previous is not None:
            lo, hi = self.hold
            held = torch.minimum(previous.detach().reshape(-1), ((similarity - lo) / (hi - lo)).clamp(0.0, 1.0))
            gate = torch.maximum(gate, held)
        off = keyframe_desc.abs().amax(dim=1) == 0
        gate = torch.where(off, torch.ones_like(gate), gate)
        return gate.view(-1, 1, 1, 1), similarity
