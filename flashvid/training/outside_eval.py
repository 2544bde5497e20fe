"""Real footage from rooms, people and cameras the training never saw (`flashvid eval --outside`).

Each clip gets a keyframe on its first frame (a flash rendered physically onto the people the person segmenter
finds there, `real_eval.rendered_flash`), then every later frame is matted. The matte is scored against two
references of different families: MediaPipe's selfie segmenter (which flashvid-rt itself uses per frame) and
DeepLabV3 (`references.DeepLabPerson`). A reference covers everyone it finds; `subject_references` keeps, frame
by frame, only the people connected to the keyframe's subject, so someone walking in later is not counted
against a matte that rightly leaves them out. Beside the model: the flow-warped keyframe mask (DIS optical flow),
and ablations: the person prior off, the keyframe's FCM knocked out, another clip's keyframe.

The two references disagree (a bystander one counts and the other does not, a coarse outline), and no matte can
score high against both where they do: `reference_ceiling` gives, per clip, the mask closest to both in every frame
and, over the clips, the most any mask can score against both references at once (`ceiling_bound`).

The held-out clips are filmed from still cameras, and users' footage often is not: `camera_affines` re-frames a
clip as a camera that zooms in, zooms out or pans would have filmed it (`--camera`), frames and references alike,
the keyframe made on the re-framed first frame.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from flashvid import defaults
from flashvid.keyframe import Keyframe, make_keyframe
from flashvid.keyframe.person import PersonSegmenter
from flashvid.network.interface import MattingModel
from flashvid.training.evaluate import FLOW_MASK
from flashvid.training.real_eval import flow_mask_run, iou, knock_out_fcm, model_run, rendered_flash
from flashvid.training.references import DeepLabPerson


@dataclass
class OutsideClip:
    """frames N x H x W x 3 uint8; keyframe on frame 0; references per later frame (subject only)."""

    name: str
    frames: list[np.ndarray]
    keyframe: Keyframe
    mediapipe: list[np.ndarray]
    deeplab: list[np.ndarray]

    @property
    def area(self) -> float:
        """The subject's mean share of the frame (MediaPipe reference)."""
        return float(np.mean([r.mean() for r in self.mediapipe]))


def subject_references(refs: Sequence[np.ndarray], seed: np.ndarray, reach: int = 15) -> list[np.ndarray]:
    """Per frame, the reference's people (connected parts of mask > 0.5) touching the previous frame's subject
    widened by `reach` pixels, starting from `seed` (the keyframe's mask); a frame where none touches keeps the
    previous subject as the seed for the next."""
    out: list[np.ndarray] = []
    prev = seed > 0.5
    kernel = np.ones((reach, reach), np.uint8)
    for r in refs:
        n, labels = cv2.connectedComponents((r > 0.5).astype(np.uint8))
        near = cv2.dilate(prev.astype(np.uint8), kernel) > 0
        keep = [lab for lab in range(1, n) if bool((near & (labels == lab)).any())]
        cur = np.isin(labels, keep)
        out.append(cur.astype(np.float32))
        prev = cur if cur.any() else prev
    return out


def camera_affines(height: int, width: int, count: int, centre: tuple[float, float], kind: str) -> list[np.ndarray]:
    """`count` 2 x 3 affine maps (frame -> frame of the same size) of a camera `kind` (one of
    `defaults.CAMERAS`) moving linearly over a clip: zoomed about `centre` (x, y in pixels; the subject), panning
    to the right, the view always inside the frame (no borders to invent; a pan stops at the frame's edge)."""
    if kind not in defaults.CAMERAS:
        raise ValueError(f"camera {kind!r}: one of {', '.join(defaults.CAMERAS)}")
    z0, z1, pan = defaults.CAMERAS[kind]
    out = []
    for t in range(count):
        f = t / max(1, count - 1)
        s = z0 + (z1 - z0) * f
        half_w, half_h = width / (2 * s), height / (2 * s)
        cx = min(max(centre[0] + pan * width * f, half_w), width - half_w)
        cy = min(max(centre[1], half_h), height - half_h)
        out.append(np.array([[s, 0.0, width / 2 - s * cx], [0.0, s, height / 2 - s * cy]], np.float64))
    return out


def load_outside_clip(
    path: str | os.PathLike[str],
    frames: int,
    stride: int,
    mediapipe: PersonSegmenter,
    deeplab: DeepLabPerson,
    max_side: int = 640,
    seed: int = 0,
    camera: str = "still",
) -> OutsideClip:
    """Decode every `stride`-th frame (at most `frames` + 1, long side at most `max_side`), re-frame them as
    `camera` (`camera_affines`, about the people MediaPipe finds in the first frame), make the keyframe on the
    first and the subject references of the rest."""
    import av

    imgs: list[np.ndarray] = []
    with av.open(str(path)) as c:
        for i, f in enumerate(c.decode(video=0)):
            if i % stride:
                continue
            a = f.to_ndarray(format="rgb24")
            s = max_side / max(a.shape[:2])
            if s < 1:
                a = cv2.resize(a, (round(a.shape[1] * s), round(a.shape[0] * s)), interpolation=cv2.INTER_AREA)
            imgs.append(a)
            if len(imgs) > frames:
                break
    name = Path(path).stem
    if camera != "still":
        h, w = imgs[0].shape[:2]
        ys, xs = np.nonzero(mediapipe(imgs[0]) > 0.5)
        centre = (float(xs.mean()), float(ys.mean())) if len(xs) else (w / 2, h / 2)
        views = camera_affines(h, w, len(imgs), centre, camera)
        imgs = [
            cv2.warpAffine(a, m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT101)
            for a, m in zip(imgs, views, strict=True)
        ]
    person0 = mediapipe(imgs[0])
    kf = make_keyframe(
        rendered_flash(imgs[0], person0, seed),
        imgs[0],
        names=(f"{name} flash", f"{name} frame 0"),
        accept_weak_flash=True,
    )
    later = imgs[1:]
    return OutsideClip(
        name,
        imgs,
        kf,
        subject_references([mediapipe(f) for f in later], kf.mask),
        subject_references([deeplab(f) for f in later], kf.mask),
    )


def _mean_iou(preds: Sequence[np.ndarray], refs: Sequence[np.ndarray]) -> float:
    return float(np.mean([iou(p, r) for p, r in zip(preds, refs, strict=True)]))


#: The row of `evaluate_outside` that scores the mask closest to both references, frame by frame.
CEILING = "ceiling (both references)"
#: The search over masks (`reference_ceiling`): shares x, y of what only one reference counts, on a 65 x 65 grid
#: over 0..1; and the weights of the two references (`ceiling_bound`).
_X, _Y = np.meshgrid(np.linspace(0, 1, 65), np.linspace(0, 1, 65), indexing="ij")
_WEIGHTS = np.linspace(0.0, 1.0, 101)


def _iou_grid(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The IoU against reference `a` and against `b` (H x W masks, > 0.5) of every mask that holds what both count
    and a share x of what only `a` counts and y of what only `b` counts (x, y: `_X`, `_Y`): an IoU depends on those
    counts alone, so these are all the masks worth considering."""
    a, b = a > 0.5, b > 0.5
    both, only_a, only_b = float((a & b).sum()), float((a & ~b).sum()), float((~a & b).sum())
    x, y = _X, _Y

    def ratio(inter: np.ndarray, union: np.ndarray) -> np.ndarray:  # an empty mask against an empty reference: 1
        return np.where(union > 0, inter / np.maximum(union, 1e-9), 1.0)

    return ratio(both + x * only_a, both + only_a + y * only_b), ratio(both + y * only_b, both + only_b + x * only_a)


def reference_ceiling(first: Sequence[np.ndarray], second: Sequence[np.ndarray]) -> dict[str, Any]:
    """How well any mask can match both references of a clip (per frame, H x W, > 0.5 is the subject).

    -> ``{"mediapipe", "deeplab"}``: the mean IoU against `first` and `second` of the mask that, frame by frame,
    scores the highest lesser IoU of the two (what a matte could reach, given both references); ``"weighted"``:
    for each weight w in `_WEIGHTS`, the mean over frames of the most any mask scores as w IoU(first) +
    (1 - w) IoU(second) (`ceiling_bound` turns these into a bound over clips)."""
    ia_best, ib_best, weighted = [], [], np.zeros(len(_WEIGHTS))
    for a, b in zip(first, second, strict=True):
        ia, ib = _iou_grid(a, b)
        k = int(np.argmax(np.minimum(ia, ib)))
        ia_best.append(float(ia.flat[k]))
        ib_best.append(float(ib.flat[k]))
        weighted += (_WEIGHTS[:, None, None] * ia + (1.0 - _WEIGHTS[:, None, None]) * ib).max(axis=(1, 2))
    n = max(1, len(ia_best))
    return {
        "mediapipe": float(np.mean(ia_best)),
        "deeplab": float(np.mean(ib_best)),
        "weighted": (weighted / n).tolist(),
    }


def ceiling_bound(ceilings: Sequence[dict[str, Any]]) -> float:
    """The most any matte can score against both references at once, as the lesser of its two IoUs averaged over
    the clips of `ceilings` (`reference_ceiling` of each): for every weight w, min(mean IoU(first), mean
    IoU(second)) <= w mean IoU(first) + (1 - w) mean IoU(second), which no mask can lift above the weighted
    ceiling; the bound is the least of those over w. It is exact, not a grid's estimate: for fixed y the weighted
    sum is linear in x plus a convex term, and likewise in y, so its maximum lies on a corner of the unit square
    of shares, which `_iou_grid` holds."""
    if not ceilings:
        return 1.0
    return float(np.min(np.mean([c["weighted"] for c in ceilings], axis=0)))


def evaluate_outside(
    model: MattingModel,
    clips: Sequence[OutsideClip],
    without_prior: MattingModel | None = None,
    log: Callable[[str], None] = print,
) -> dict[str, dict[str, Any]]:
    """{clip: {row: {"mediapipe": IoU, "deeplab": IoU}, "area": share}} for the model, the flow-warped keyframe
    mask, the ablations (`without_prior`: the same weights without the person prior) and `CEILING`
    (`reference_ceiling`: what a mask closest to both references scores)."""
    out: dict[str, dict[str, Any]] = {}
    for i, clip in enumerate(clips):
        later = clip.frames[1:]
        runs: dict[str, list[np.ndarray]] = {
            "flashvid-rt": model_run(model, clip.keyframe, later),
            FLOW_MASK: flow_mask_run(clip.keyframe, later),
            "ablation: FCM knocked out": model_run(model, clip.keyframe, later, transform=knock_out_fcm(model)),
        }
        if without_prior is not None:
            runs["ablation: person prior off"] = model_run(without_prior, clip.keyframe, later)
        others = [*clips[i + 1 :], *clips[:i]]
        other = next((c for c in others if c.keyframe.size == clip.keyframe.size), None)
        if other is not None:
            runs["ablation: another clip's keyframe"] = model_run(model, other.keyframe, later)
        row: dict[str, Any] = {"area": clip.area}
        for name, preds in runs.items():
            row[name] = {"mediapipe": _mean_iou(preds, clip.mediapipe), "deeplab": _mean_iou(preds, clip.deeplab)}
        row[CEILING] = reference_ceiling(clip.mediapipe, clip.deeplab)
        out[clip.name] = row
        log(
            f"{clip.name}: flashvid-rt IoU {row['flashvid-rt']['mediapipe']:.3f} / {row['flashvid-rt']['deeplab']:.3f}"
            f", flow-mask {row[FLOW_MASK]['mediapipe']:.3f}"
        )
    return out


def format_outside_table(table: dict[str, dict[str, Any]], min_area: float = 0.05) -> str:
    """Per clip: the subject's share of the frame, then each row's IoU against MediaPipe / DeepLab; the means over
    the clips where the subject fills at least `min_area` of the frame, and over those the most any matte can
    score against both references at once (`ceiling_bound`)."""
    rows = list(dict.fromkeys(k for row in table.values() for k in row if k not in ("area", CEILING)))
    rows += [CEILING] if any(CEILING in row for row in table.values()) else []
    name = max([44, *(len(c) for c in table)])  # the longest clip name sets the first column
    head = f"{'clip':{name}s} {'subject':>8s} " + " ".join(f"{r[:26]:>26s}" for r in rows)
    lines = [head, "IoU against MediaPipe / DeepLabV3 (subject only)"]
    for clip, row in table.items():
        cells = " ".join(
            f"{row[r]['mediapipe']:12.3f} / {row[r]['deeplab']:.3f}" if r in row else f"{'-':>26s}" for r in rows
        )
        lines.append(f"{clip:{name}s} {row['area'] * 100:7.1f}% {cells}")
    big = [row for row in table.values() if row["area"] >= min_area]
    if big:
        cells = " ".join(
            f"{np.mean([b[r]['mediapipe'] for b in big if r in b]):12.3f} / "
            f"{np.mean([b[r]['deeplab'] for b in big if r in b]):.3f}"
            for r in rows
        )
        lines.append(f"{f'mean over {len(big)} clips (subject >= {min_area:.0%})':{name}s} {'':8s} {cells}")
        ceilings = [b[CEILING] for b in big if CEILING in b]
        if ceilings:
            lines.append(
                f"no matte can score more than {ceiling_bound(ceilings):.3f} against both references at once "
                f"(the lesser of its two means over these clips): they disagree"
            )
    return "\n".join(lines)
