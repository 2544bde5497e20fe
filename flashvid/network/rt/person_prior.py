"""`PersonPrior`: where the people are in every frame, from MediaPipe's selfie segmenters (trained on far more
people and rooms than our matting data), inside the network's graph.

The shipped .tflite files (flashvid.assets/segmenters, Apache-2.0) are converted at build time by
`flashvid.network.tflite_graph.TFLiteGraph` (checked against ai-edge-litert in `tests/test_person_prior.py`), so
the segmenter runs under eager, compile, ONNX and TensorRT on the CPU or the GPU like the rest of the network.
Its weights are non-persistent buffers: they come from the shipped segmenter, not from a matting checkpoint.

`subject_region` then keeps, of the people found, only those connected to where the subject was (the keyframe's
mask on the first frame, the previous matte after it): the keyframe decides who, the segmenter where.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn


class PersonPrior(nn.Module):
    """``forward(img [B,3,H,W] 0..1)`` -> person probability [B,1,H,W] in 0..1.

    The frame is letterboxed (grey bars) into the square model's 256 x 256 input, so a person keeps their
    proportions. (The landscape variant, 144 x 256, costs about half as much but on held-out footage it missed
    people the square one finds: nobody at all in the Intel classroom, a bed taken for a person in the bedroom.)
    """

    def __init__(self) -> None:
        super().__init__()
        from flashvid.assets import segmenter_path
        from flashvid.network.tflite_graph import TFLiteGraph

        self.graph = TFLiteGraph(segmenter_path("selfie"))
        for name, buf in list(self.graph._buffers.items()):  # shipped weights, never part of a matting checkpoint
            if buf is not None:
                self.graph.register_buffer(name, buf, persistent=False)

    def forward(self, img: Tensor) -> Tensor:
        h, w = int(img.shape[2]), int(img.shape[3])
        graph = self.graph
        gh, gw = graph.input_shape
        s = min(gh / h, gw / w)
        nh, nw = max(1, round(h * s)), max(1, round(w * s))
        y0, x0 = (gh - nh) // 2, (gw - nw) // 2
        x = F.interpolate(img, size=(nh, nw), mode="bilinear", align_corners=False)  # (antialias: no ONNX op)
        x = F.pad(x, (x0, gw - nw - x0, y0, gh - nh - y0), value=0.5)
        prob = graph(x)[:, :, y0 : y0 + nh, x0 : x0 + nw]
        return F.interpolate(prob, size=(h, w), mode="bilinear", align_corners=False).clamp(0.0, 1.0)


def dilate(mask: Tensor, radius: int) -> Tensor:
    """Grey-level dilation by a (2 radius + 1) square."""
    return F.max_pool2d(mask, 2 * radius + 1, 1, radius) if radius > 0 else mask


def soft_above(x: Tensor, threshold: float, softness: float = 0.1) -> Tensor:
    """0 below `threshold` - softness / 2, 1 above `threshold` + softness / 2, linear between: a threshold whose
    output moves as little as its input, so float rounding (another thread count, another engine) cannot flip a
    region on or off."""
    return ((x - threshold) / softness + 0.5).clamp(0.0, 1.0)


def connected(person: Tensor, seeds: Tensor, steps: int = 24, threshold: float = 0.5) -> Tensor:
    """How much each pixel of the people in `person` (probability [B,1,h,w]) is connected to `seeds` ([B,1,h,w],
    where the subject was), 0..1: the seeds grow `steps` pixels through the people, one 3 x 3 dilation at a time
    (a fixed loop, so it traces and exports)."""
    inside = soft_above(person, threshold)
    grown = soft_above(seeds, threshold) * inside
    for _ in range(steps):
        grown = dilate(grown, 1) * inside
    return grown


def subject_region(person: Tensor, seeds: Tensor, steps: int = 24, threshold: float = 0.5) -> Tensor:
    """The person probability of the people connected to `seeds` (`connected`), 0 elsewhere."""
    return person * connected(person, seeds, steps, threshold)


#: How far a frame may stray from the keyframe's background (mean absolute difference per channel, 0..1, over a
#: cell of 4 x 4 pixels at the internal size and its neighbours) and still be that background. Set on training
#: clips only (`scripts/still_background_stats.py`: five videos-more training scenes and four asl clips, frames
#: 1-40 against frame 0): 93 % of background cells differ by less than 0.02, and 0.5 % of the cells a person
#: newly covers do.
STILL_THRESHOLD = 0.02


def still_background(noflash: Tensor, background: Tensor) -> Tensor:
    """[B,4,h/4,w/4]: the no-flash image ([B,3,h,w] 0..1) averaged over 4 x 4 cells, and how sure the keyframe is
    of background there (its trimap's background channel [B,1,h,w], the least over each cell and its neighbours)."""
    sure = -dilate(F.max_pool2d(-background, 4), 1)
    return torch.cat([F.avg_pool2d(noflash, 4), sure], dim=1)


def unchanged_background(img4: Tensor, still: Tensor) -> Tensor:
    """0..1 per cell [B,1,h/4,w/4]: the frame (`img4` [B,3,h/4,w/4], 4 x 4 cell means, 0..1) still shows the
    keyframe's sure background there (`still_background`): the mean absolute difference over a cell and its
    neighbours is below `STILL_THRESHOLD` (soft over half of it, so float rounding flips nothing)."""
    diff = F.avg_pool2d((img4 - still[:, :3]).abs().mean(dim=1, keepdim=True), 3, 1, 1, count_include_pad=False)
    return soft_above(-diff, -STILL_THRESHOLD, STILL_THRESHOLD / 2) * still[:, 3:4]
