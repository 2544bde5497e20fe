"""Choosing the checkpoint: the synthetic validation score and the real clips held apart for it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from flashvid.errors import InputError
from flashvid.keyframe.trimap import trimap_onehot
from flashvid.network.interface import MattingModel
from flashvid.training.data.clips import Clip
from flashvid.training.data.people import someone_else
from flashvid.training.metrics import mse, sad, unknown_region
from flashvid.training.run import run_frames


@torch.inference_mode()
def validate(model: MattingModel, clips: list[Clip], device: torch.device) -> dict[str, float]:
    """Mean MSE and SAD over the clips' frames, in the ground truth's unknown band and over the whole frame."""
    scores: dict[str, list[float]] = {"mse_unknown": [], "sad_unknown": [], "mse_all": [], "sad_all": []}
    model.eval()
    for clip in clips:
        preds = run_frames(model, clip.flash, trimap_onehot(clip.trimap), clip.frames, device=device)
        for pred, gt in zip(preds, clip.alphas, strict=True):
            region = unknown_region(gt)
            scores["mse_unknown"].append(mse(pred, gt, region))
            scores["sad_unknown"].append(sad(pred, gt, region))
            scores["mse_all"].append(mse(pred, gt))
            scores["sad_all"].append(sad(pred, gt))
    return {k: float(np.mean(v)) for k, v in scores.items()}


class RealSelection:
    """Real footage for choosing the checkpoint to ship (clips held apart from training and from `flashvid eval`):
    each clip is matted with its own keyframe (``real_iou``, the person must be found) and with the keyframe of
    the next clip that shows a different person (``real_other_iou``, the matte should collapse). Keyframes are
    made once."""

    def __init__(self, paths: list[Path], frames: int) -> None:
        from flashvid.keyframe.person import PersonSegmenter
        from flashvid.training.real_eval import clip_keyframe, load_real_clip

        seg = PersonSegmenter()
        self.clips = [load_real_clip(p, frames, seg, seed=100 + i) for i, p in enumerate(paths)]
        self.keyframes = [clip_keyframe(c) for c in self.clips]

    def __call__(self, model: MattingModel) -> dict[str, float]:
        from flashvid.training.real_eval import iou, model_run

        model.eval()
        own: list[float] = []
        other: list[float] = []
        names = [c.name for c in self.clips]
        for i, clip in enumerate(self.clips):
            later, refs = list(clip.frames[1:]), list(clip.reference[1:])
            j = someone_else(names, i)
            runs = [(self.keyframes[i], own)] + ([] if j is None else [(self.keyframes[j], other)])
            for kf, out in runs:
                preds = model_run(model, kf, later)
                out.append(float(np.mean([iou(p, r) for p, r in zip(preds, refs, strict=True)])))
        if not other:
            raise InputError(f"the selection clips {names} all show one person; name clips of two people or more")
        return {"real_iou": float(np.mean(own)), "real_other_iou": float(np.mean(other))}


def selection_score(metrics: dict[str, float], min_iou: float) -> float:
    """Higher is better. With real selection clips: the person found on their own keyframe minus the person kept
    under someone else's, with any checkpoint that finds less than `min_iou` of the person ranked below every one
    that does; without: minus the synthetic validation MSE in the unknown band."""
    if "real_iou" not in metrics:
        return -metrics["mse_unknown"]
    score = metrics["real_iou"] - metrics["real_other_iou"]
    return score if metrics["real_iou"] >= min_iou else score - 10.0
