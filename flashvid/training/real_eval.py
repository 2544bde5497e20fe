"""Evaluation on real footage: real clips of people, a keyframe whose flash is rendered on the clip's first frame
(physical model: the person near, the room behind; as in training), scored against a person segmenter's masks.

For each clip, every frame after the keyframe (up to `frames`) is matted at the clip's own size and compared with
the reference mask (alpha > 0.5):

* ``IoU`` and the boundary F-score ``BF`` (boundary pixels matched within 0.75 % of the image diagonal, as in
  DAVIS);
* beside two baselines given the same keyframe: ``flow-mask`` (the keyframe mask warped to each frame by DIS
  optical flow) and ``still-mask`` (the keyframe mask held still);
* ``no-flash beside the keyframe``: the keyframe's own no-flash frame matted as the first frame;
* test-time ablations of the trained model: ``FCM knocked out`` (zero keys and values: the attention returns
  nothing), ``trimap hidden`` (an all-unknown trimap, so neither the FCM nor the prior knows the subject), and
  ``other subject's keyframe`` (the keyframe of the next clip showing a different person,
  `flashvid.training.data.people`; the matte should collapse).

The reference masks are a model's output (MediaPipe selfie segmentation), so the scores measure agreement with a
good person segmenter on the silhouette, not fine edges.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import torch

from flashvid import defaults
from flashvid.keyframe import Keyframe, make_keyframe
from flashvid.keyframe.person import PersonSegmenter
from flashvid.keyframe.prior import srgb_to_linear
from flashvid.network.interface import MattingModel
from flashvid.training.data.people import someone_else
from flashvid.training.data.synth import FlashLight, render_flash
from flashvid.training.evaluate import FLOW_MASK, backward_flow
from flashvid.training.run import run_frames


@dataclass
class RealClip:
    """frames N x H x W x 3 uint8 RGB, reference masks N x H x W float32 0..1, the rendered keyframe flash, name."""

    name: str
    frames: np.ndarray
    reference: np.ndarray
    flash: np.ndarray


def load_real_clip(path: str | os.PathLike[str], frames: int, segmenter: PersonSegmenter, seed: int = 0) -> RealClip:
    """Decode up to `frames` + 1 frames, segment each, and render the flash on frame 0 (seeded light)."""
    import av

    with av.open(str(path)) as c:
        imgs = []
        for f in c.decode(video=0):
            imgs.append(f.to_ndarray(format="rgb24"))
            if len(imgs) > frames:
                break
    ref = np.stack([segmenter(f) for f in imgs])
    return RealClip(Path(path).stem, np.stack(imgs), ref, rendered_flash(imgs[0], ref[0], seed))


def rendered_flash(frame: np.ndarray, person: np.ndarray, seed: int) -> np.ndarray:
    """A flash image for a real frame (H x W x 3 uint8): the physical model with a seeded random light, the
    `person` mask (H x W 0..1) near the flash and the rest of the room behind; noise-free, no JPEG."""
    rng = np.random.default_rng(seed)
    light = FlashLight.random(rng)
    light.noise, light.jpeg = 0.0, None
    albedo = srgb_to_linear(frame) / max(light.exposure_n, 1e-3)
    return render_flash(albedo, person, albedo, light, rng)


def iou(pred: np.ndarray, ref: np.ndarray) -> float:
    a, b = pred > 0.5, ref > 0.5
    union = (a | b).sum()
    return float((a & b).sum() / union) if union else 1.0


def _boundary(m: np.ndarray) -> np.ndarray:
    m = m.astype(np.uint8)
    return (m - cv2.erode(m, np.ones((3, 3), np.uint8))) > 0


def boundary_f(pred: np.ndarray, ref: np.ndarray, tol_frac: float = 0.0075) -> float:
    """DAVIS-style boundary F-measure of two masks (alpha > 0.5)."""
    bp, br = _boundary(pred > 0.5), _boundary(ref > 0.5)
    if not bp.any() and not br.any():
        return 1.0
    if not bp.any() or not br.any():
        return 0.0
    r = max(1, round(tol_frac * float(np.hypot(*pred.shape))))
    disk = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1))
    near_r = cv2.dilate(br.astype(np.uint8), disk) > 0
    near_p = cv2.dilate(bp.astype(np.uint8), disk) > 0
    precision = float((bp & near_r).sum() / bp.sum())
    recall = float((br & near_p).sum() / br.sum())
    return 0.0 if precision + recall == 0 else 2 * precision * recall / (precision + recall)


def clip_keyframe(clip: RealClip) -> Keyframe:
    """The run-time keyframe of a clip: its rendered flash and its first (no-flash) frame."""
    return make_keyframe(
        clip.flash, clip.frames[0], names=(f"{clip.name} flash", f"{clip.name} frame 0"), accept_weak_flash=True
    )


def model_run(
    model: MattingModel,
    kf: Keyframe,
    frames: Sequence[np.ndarray],
    transform: Callable[[tuple[torch.Tensor, ...]], tuple[torch.Tensor, ...]] | None = None,
    trimap_override: np.ndarray | None = None,
    subject_check: bool = False,
) -> list[np.ndarray]:
    """Alphas H x W float32 of `frames` matted against `kf` (optionally with its keyframe tensors transformed, or
    another one-hot trimap 3 x H x W given; with `subject_check` the keyframe's no-flash image goes in as it does
    in `FlashMatter`)."""
    tri = kf.trimap_onehot() if trimap_override is None else trimap_override
    noflash = kf.noflash if subject_check or getattr(model, "gate", None) is None else None
    return run_frames(model, kf.flash, tri, frames, noflash=noflash, transform=transform)


def flow_mask_run(kf: Keyframe, frames: Sequence[np.ndarray]) -> list[np.ndarray]:
    out = []
    for f in frames:
        mx, my = backward_flow(f, kf.noflash)
        out.append(cv2.remap(kf.mask.astype(np.float32), mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE))
    return out


def knock_out_fcm(model: MattingModel) -> Callable[[tuple[torch.Tensor, ...]], tuple[torch.Tensor, ...]]:
    n_fcm = 2 if getattr(model, "fcm", None) is not None else 0

    def f(keyframe: tuple[torch.Tensor, ...]) -> tuple[torch.Tensor, ...]:
        return tuple(torch.zeros_like(t) if i < n_fcm else t for i, t in enumerate(keyframe))

    return f


def evaluate_real(
    model: MattingModel,
    videos: Sequence[str | os.PathLike[str]],
    frames: int = 60,
    ablations: bool = True,
    log: Callable[[str], None] = print,
) -> dict[str, dict[str, float]]:
    """{row: {"IoU": mean, "BF": mean, "min IoU": worst clip's mean}} over the clips' frames 1..`frames`; the
    keyframe's own mask quality is the row ``keyframe mask (frame 0)``."""
    seg = PersonSegmenter()
    clips = [load_real_clip(v, frames, seg, seed=i) for i, v in enumerate(videos)]
    kfs = [clip_keyframe(c) for c in clips]
    rows: dict[str, list[tuple[float, float]]] = {}

    def score(name: str, preds: Sequence[np.ndarray], refs: Sequence[np.ndarray]) -> None:
        per = [(iou(p, r), boundary_f(p, r)) for p, r in zip(preds, refs, strict=True)]
        rows.setdefault(name, []).append((float(np.mean([a for a, _ in per])), float(np.mean([b for _, b in per]))))

    gated = getattr(model, "gate", None) is not None

    def both(name: str, key: Keyframe, frames: Sequence[np.ndarray], want: Sequence[np.ndarray], **kw: Any) -> None:
        """A row as the app runs it (the subject check per `defaults.SUBJECT_CHECK`) and, for a model with a
        gate, the row with the check the other way."""
        check = gated and defaults.SUBJECT_CHECK
        score(name, model_run(model, key, frames, subject_check=check, **kw), want)
        if gated:
            other = f"{name}, subject check off" if check else f"{name} + subject check"
            score(other, model_run(model, key, frames, subject_check=not check, **kw), want)

    names = [c.name for c in clips]
    for i, (clip, kf) in enumerate(zip(clips, kfs, strict=True)):
        later, refs = list(clip.frames[1:]), list(clip.reference[1:])
        score("keyframe mask (frame 0)", [kf.mask.astype(np.float32)], [clip.reference[0]])
        both("flashvid-rt", kf, later, refs)
        score(FLOW_MASK, flow_mask_run(kf, later), refs)
        score("still-mask (keyframe mask held still)", [kf.mask.astype(np.float32)] * len(later), refs)
        both("no-flash frame beside the keyframe", kf, [clip.frames[0]], [clip.reference[0]])
        if ablations:
            unknown = np.zeros((3, *kf.mask.shape), np.float32)
            unknown[1] = 1.0
            ablated: list[tuple[str, Keyframe, dict[str, Any]]] = [
                ("FCM knocked out", kf, {"transform": knock_out_fcm(model)}),
                ("trimap hidden (all unknown)", kf, {"trimap_override": unknown}),
            ]
            j = someone_else(names, i)
            if j is not None and kfs[j].size == kf.size:
                ablated.append(("other subject's keyframe", kfs[j], {}))
            for name, key, kw in ablated:
                both(f"ablation: {name}", key, later, refs, **kw)
        flow_row = rows[FLOW_MASK][-1][0]
        log(f"{clip.name}: flashvid-rt IoU {rows['flashvid-rt'][-1][0]:.3f}, flow-mask {flow_row:.3f}")
    return {
        name: {
            "IoU": float(np.mean([a for a, _ in v])),
            "BF": float(np.mean([b for _, b in v])),
            "min IoU": float(np.min([a for a, _ in v])),
            "clips": len(v),
        }
        for name, v in rows.items()
    }


def format_real_table(table: dict[str, dict[str, float]]) -> str:
    head = "| method | mean IoU | mean boundary F | worst clip's IoU | clips |\n|---|---:|---:|---:|---:|"
    rows = [
        f"| {k} | {v['IoU']:.3f} | {v['BF']:.3f} | {v['min IoU']:.3f} | {int(v['clips'])} |" for k, v in table.items()
    ]
    return "\n".join([head, *rows])
