"""`flashvid eval --tables`: the supplementary's four tables (../shared/paper/supplementary.txt), rebuilt on our data.

The paper measures its network on its own flash / no-flash test set; we measure ours on clips composited from
held-apart foregrounds over held-apart real room photographs (ground-truth alpha: MSE, SAD, Grad, Conn, as the
paper reports them, whole frame) and on the held-apart real people clips with a flash rendered on frame 0
(IoU against a person segmenter's masks). The paper's numbers stand beside ours for the shape of each effect
only: another test set, another network, another scale of training.

* Table 1 - the keyframe's flash replaced: the same subject in another pose, the same subject under another
  flash, a different subject; the later no-flash frames unchanged.
* Table 2 - background change between the keyframe and the frames, graded into five by a measured quantity (the
  mean optical-flow magnitude over background pixels on composites; the share of background pixels changed on
  the real clips).
* Table 3 - ablations trained with one shared budget: default, without FCM, without the flash trimap, box prompt.
* Table 4 - training data, same budget: synthesised flash clips only; + real flash pairs; + pseudo-labelled real
  people video; synthesised clips with pseudo flash instead of rendered flash light.

Everything is seeded. Trained rows are written under ``OUT/rows/NAME/`` with their config; each can be re-made
with ``flashvid train --config OUT/rows/NAME/config.json --out OUT/rows/NAME``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import torch

from flashvid.keyframe.trimap import make_trimap, trimap_onehot
from flashvid.network.interface import MattingModel
from flashvid.training.config import TrainConfig
from flashvid.training.data.clips import Clip, box_prompt_mask, make_clip
from flashvid.training.data.people import subject_of
from flashvid.training.data.synth import FlashLight
from flashvid.training.metrics import all_metrics
from flashvid.training.real_eval import iou
from flashvid.training.report import write_report
from flashvid.training.run import run_frames
from flashvid.training.table_rows import row_config, train_rows
from flashvid.training.table_specs import METRICS, PAPER, ROWS


class CompositeSet:
    """Held-apart clips rebuilt on demand from (foreground, background, seed), so a clip's keyframe can be
    rendered again with another pose, another flash or another subject over the same background."""

    def __init__(self, cfg: TrainConfig, clips: int, size: int, frames: int, seed: int = 0) -> None:
        from flashvid.training.train import load_sources, validation_backgrounds

        _, self.fgs, bgs = load_sources(cfg)
        self.bgs = validation_backgrounds(cfg) or bgs
        self.size, self.frames = size, frames
        rng = np.random.default_rng([seed, 15])
        self.recipes = [
            (i % len(self.fgs), int(rng.integers(len(self.bgs))), int(rng.integers(1 << 30))) for i in range(clips)
        ]

    def make(self, i: int, fg: int | None = None, seed: int | None = None, **kw: Any) -> Clip:
        f, b, s = self.recipes[i]
        return make_clip(
            self.fgs[f if fg is None else fg],
            self.bgs[b],
            np.random.default_rng(s if seed is None else seed),
            size=self.size,
            frames=self.frames,
            **kw,
        )


def run_model(model: MattingModel, flash: np.ndarray, trimap: np.ndarray, frames: Any) -> list[np.ndarray]:
    """Alphas (H x W float32) of `frames` (uint8 RGB) matted against the keyframe (flash uint8, trimap 0/128/255)."""
    h, w = frames[0].shape[:2]
    if flash.shape[:2] != (h, w):
        flash = cv2.resize(flash, (w, h), interpolation=cv2.INTER_AREA)
        trimap = cv2.resize(trimap, (w, h), interpolation=cv2.INTER_NEAREST)
    return run_frames(model, flash, trimap_onehot(trimap), frames)


def scores(preds: Sequence[np.ndarray], gts: Any) -> list[dict[str, float]]:
    return [all_metrics(p, g) for p, g in zip(preds, gts, strict=True)]


def mean_scores(rows: list[dict[str, float]]) -> dict[str, float]:
    return {k: float(np.mean([r[k] for r in rows])) for k in METRICS} if rows else {}


def background_flow(clip: Clip) -> list[float]:
    """Per frame: the mean DIS optical-flow magnitude (px) between the keyframe's and the frame's background,
    over pixels that are background in both."""
    dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)  # type: ignore[attr-defined]
    k = cv2.cvtColor(clip.noflash, cv2.COLOR_RGB2GRAY)
    out = []
    for f, a in zip(clip.frames, clip.alphas, strict=True):
        flow = dis.calc(k, cv2.cvtColor(f, cv2.COLOR_RGB2GRAY), None)
        bg = (a < 0.01) & (clip.keyframe_alpha < 0.01)
        mag = np.linalg.norm(flow, axis=2)
        out.append(float(mag[bg].mean()) if bg.any() else 0.0)
    return out


def by_grade(pairs: Sequence[tuple[float, Any]], n: int = 5) -> list[list[tuple[float, Any]]]:
    """(measure, result) pairs split into `n` groups by the measure's grade (`grades`), lowest first."""
    g = grades([v for v, _ in pairs], n) if pairs else []
    return [[p for p, gg in zip(pairs, g, strict=True) if gg == k] for k in range(n)]


def grades(values: Sequence[float], n: int = 5) -> list[int]:
    """Each value's grade 0..n-1 by its rank (the paper's ranking percentages: < 20 %, 20-40 %, ...)."""
    order = np.argsort(np.argsort(values, kind="stable"), kind="stable")
    return [min(n - 1, int(r * n / len(values))) for r in order]


# ------------------------------------------------------------------------------------------------ tables


def table1(model: MattingModel, comp: CompositeSet, real: list[Any], log: Callable[[str], None]) -> dict[str, Any]:
    """{row: metrics} on composites and {row: IoU} on real clips, for the four keyframe replacements."""
    rows: dict[str, list[dict[str, float]]] = {}
    sheet: list[list[np.ndarray]] = []
    n_fg = len(comp.fgs)
    for i in range(len(comp.recipes)):
        base = comp.make(i)
        f, _, s = comp.recipes[i]
        variants = {
            "no replacement": base,
            "same subject, other pose (flash)": comp.make(i, seed=s + 1),
            "same subject, other flash": comp.make(i, light=FlashLight.random(np.random.default_rng(s + 2))),
            "different subject (flash)": comp.make(i, fg=(f + 1 + i % max(n_fg - 1, 1)) % n_fg),
        }
        preds = {}
        for name, v in variants.items():
            preds[name] = run_model(model, v.flash, v.trimap, base.frames)
            rows.setdefault(name, []).extend(scores(preds[name], base.alphas))
        if i < 2:
            sheet.append([base.frames[-1]] + [_gray(p[-1]) for p in preds.values()])
            sheet.append([base.flash] + [v.flash for v in variants.values()])
        log(f"table 1: clip {i + 1}/{len(comp.recipes)}")
    real_rows: dict[str, list[float]] = {}
    by_name = {c.name: c for c in real}
    for c in real:
        same = next((o for o in real if o.name != c.name and subject_of(o.name) == subject_of(c.name)), None)
        other = next((o for o in real if subject_of(o.name) != subject_of(c.name)), None)
        later, refs = list(c.frames[1:]), list(c.reference[1:])
        runs = {"no replacement": c}
        if same is not None:
            runs["same subject, other pose (flash)"] = same
        runs["same subject, other flash"] = _rerendered(c, seed=7)
        if other is not None:
            runs["different subject (flash)"] = other
        for name, k in runs.items():
            kf = _real_keyframe(k)
            alphas = run_model(model, kf.flash, kf.trimap, later)
            real_rows.setdefault(name, []).append(float(np.mean([iou(p, r) for p, r in zip(alphas, refs)])))
        log(f"table 1: real clip {c.name} ({len(by_name)} in all)")
    return {
        "rows": {k: mean_scores(v) for k, v in rows.items()},
        "real": {k: float(np.mean(v)) for k, v in real_rows.items()},
        "real_clips": {k: len(v) for k, v in real_rows.items()},
        "sheet": sheet,
        "sheet_caption": "rows: a clip's last frame, then its alpha with each keyframe (no replacement, other pose, "
        "other flash, different subject); below, the keyframes' flash images",
    }


def table2(model: MattingModel, comp: CompositeSet, real: list[Any], log: Callable[[str], None]) -> dict[str, Any]:
    """Metrics per grade of background change (composites: mean background flow; real clips: share of background
    pixels changed)."""
    per_frame: list[tuple[float, dict[str, float]]] = []
    examples: dict[int, list[np.ndarray]] = {}
    for i in range(len(comp.recipes)):
        bgm = (i % 5) / 4  # spread the motion so every grade has clips
        clip = comp.make(i, bg_motion=bgm)
        preds = run_model(model, clip.flash, clip.trimap, clip.frames)
        flows = background_flow(clip)
        for p, g, fl in zip(preds, clip.alphas, flows, strict=True):
            per_frame.append((fl, all_metrics(p, g)))
        examples.setdefault(i % 5, [clip.noflash, clip.frames[-1], _gray(preds[-1])])
        log(f"table 2: clip {i + 1}/{len(comp.recipes)}")
    rows, spans = {}, {}
    for k, group in enumerate(by_grade(per_frame)):
        name = f"grade {k + 1} ({20 * k}-{20 * (k + 1)} %)"
        rows[name] = mean_scores([m for _, m in group])
        spans[name] = (min(v for v, _ in group), max(v for v, _ in group)) if group else (0.0, 0.0)
    real_pf: list[tuple[float, float]] = []
    for c in real:
        kf = _real_keyframe(c)
        preds = run_model(model, kf.flash, kf.trimap, list(c.frames[1:]))
        k_gray = cv2.cvtColor(c.frames[0], cv2.COLOR_RGB2GRAY).astype(np.int16)
        for p, f, r in zip(preds, c.frames[1:], c.reference[1:], strict=True):
            bg = (r < 0.5) & (c.reference[0] < 0.5)
            diff = np.abs(cv2.cvtColor(f, cv2.COLOR_RGB2GRAY).astype(np.int16) - k_gray) > 20
            real_pf.append((float(diff[bg].mean()) if bg.any() else 0.0, iou(p, r)))
    real_groups = [(f"grade {k + 1}", g) for k, g in enumerate(by_grade(real_pf)) if g]
    real_rows = {name: float(np.mean([s for _, s in g])) for name, g in real_groups}
    real_spans = {name: (min(v for v, _ in g), max(v for v, _ in g)) for name, g in real_groups}
    return {
        "rows": rows,
        "spans": spans,
        "span_unit": "mean background flow, px",
        "real": real_rows,
        "real_spans": real_spans,
        "real_span_unit": "share of background pixels changed",
        "sheet": [examples[k] for k in sorted(examples)],
        "sheet_caption": "one clip per background-motion setting, still to strong: keyframe, last frame, its alpha",
    }


def table_trained(
    table: int,
    models: dict[str, Any],
    comp: CompositeSet,
    real: list[Any],
    log: Callable[[str], None],
) -> dict[str, Any]:
    """Each trained row's model on the same composites and real clips (the box-prompt row gets box-prompt
    keyframes at test time too, as it was trained)."""
    rows: dict[str, dict[str, float]] = {}
    real_rows: dict[str, float] = {}
    sheet: list[list[np.ndarray]] = []
    clips: dict[str, list[Clip]] = {}  # rendered once per keyframe mode, shared by the rows
    for name, model in models.items():
        box = ROWS[table].get(name, {}).get("trimap") == "box"
        mode = "box" if box else "runtime"
        if mode not in clips:
            clips[mode] = [comp.make(i, trimap=mode) for i in range(len(comp.recipes))]
        acc: list[dict[str, float]] = []
        shown = []
        for i, clip in enumerate(clips[mode]):
            preds = run_model(model, clip.flash, clip.trimap, clip.frames)
            acc += scores(preds, clip.alphas)
            if i < 3:
                shown.append(_gray(preds[-1]))
        rows[name] = mean_scores(acc)
        ious = []
        for c in real:
            kf = _real_keyframe(c)
            tri = make_trimap(box_prompt_mask(kf.flash, kf.mask)) if box else kf.trimap
            preds = run_model(model, kf.flash, tri, list(c.frames[1:]))
            ious.append(float(np.mean([iou(p, r) for p, r in zip(preds, c.reference[1:], strict=True)])))
        real_rows[name] = float(np.mean(ious)) if ious else float("nan")
        sheet.append(shown)
        log(f"table {table}: row {name!r} evaluated")
    first = [c.frames[-1] for c in next(iter(clips.values()))[:3]]
    return {
        "rows": rows,
        "real": real_rows,
        "sheet": [first, *sheet],
        "sheet_caption": "top: three clips' last frames; then each row's alpha for them, in the table's order",
    }


def _gray(a: np.ndarray) -> np.ndarray:
    g = (np.clip(a, 0, 1) * 255).astype(np.uint8)
    return np.repeat(g[:, :, None], 3, axis=2)


def _rerendered(c: Any, seed: int) -> Any:
    """A real clip with its keyframe's flash rendered again under another light."""
    from dataclasses import replace

    from flashvid.training.real_eval import rendered_flash

    return replace(c, flash=rendered_flash(c.frames[0], c.reference[0], seed))


_KF_CACHE: dict[tuple[str, float, tuple[int, ...]], Any] = {}


def _real_keyframe(c: Any) -> Any:
    from flashvid.training.real_eval import clip_keyframe

    key = (c.name, float(c.flash.mean()), c.flash.shape)
    if key not in _KF_CACHE:
        _KF_CACHE[key] = clip_keyframe(c)
    return _KF_CACHE[key]


def build_tables(
    tables: Sequence[int],
    out: str | os.PathLike[str],
    cfg: TrainConfig,
    checkpoint: str | os.PathLike[str],
    *,
    clips: int = 8,
    size: int = 320,
    frames: int = 4,
    real_frames: int = 30,
    train_steps: int = 200,
    seed: int = 0,
    log: Callable[[str], None] = print,
) -> Path:
    """Build the requested tables and the report; returns the report's index.html."""
    from tqdm import tqdm

    from flashvid.keyframe.person import PersonSegmenter
    from flashvid.network import build_model
    from flashvid.training.real_eval import load_real_clip

    torch.manual_seed(seed)
    cv2.setRNGSeed(seed)  # GrabCut draws from OpenCV's global generator: seeded, a table is the same every run
    out_dir = Path(out)
    model = build_model(cfg["model"], checkpoint).eval()
    comp = CompositeSet(cfg, clips, size, frames, seed)
    spec = next((s for s in cfg["foregrounds"] if s["kind"] == "people-videos"), None)
    names = cfg["validation_videos"] if spec is not None and Path(spec["path"]).is_dir() else []
    seg = PersonSegmenter() if names else None
    real = [
        load_real_clip(Path(spec["path"]) / f"{n}.mkv", real_frames, seg, seed=i)  # type: ignore[index, arg-type]
        for i, n in enumerate(names)
    ]
    results: dict[int, dict[str, Any]] = {}
    earlier = out_dir / "results.json"
    if earlier.is_file():  # tables built before into this folder and not asked for now stay in the report
        try:
            kept = json.loads(earlier.read_text())
            for k, v in kept.get("tables", {}).items():
                if int(k) not in tables:
                    results[int(k)] = {**v, "meta": v.get("meta", kept.get("meta"))}
        except (ValueError, KeyError, TypeError) as exc:
            log(f"{earlier}: unreadable ({exc}); those tables are left out")
    bar = tqdm(total=len(tables), desc="tables", unit="table")

    def say(msg: str) -> None:
        bar.set_postfix_str(msg[:60])
        log(msg)

    for n in tables:
        if n == 1:
            results[1] = table1(model, comp, real, say)
        elif n == 2:
            results[2] = table2(model, comp, real, say)
        elif n in (3, 4):
            weights = train_rows(n, cfg, train_steps, out_dir, say)
            models = {
                name: build_model(cfg["model"], w, **row_config(cfg, n, name, train_steps)["model_settings"]).eval()
                for name, w in weights.items()
            }
            results[n] = table_trained(n, models, comp, real, say)
            results[n]["commands"] = [
                f"flashvid train --config {w.parent / 'config.json'} --out {w.parent}" for w in weights.values()
            ]
            results[n]["budget"] = f"{train_steps} steps each, from the ImageNet encoder, batch {cfg['batch']}"
        else:
            raise ValueError(f"table {n}: the supplementary has tables 1 to 4")
        bar.update(1)
    bar.close()
    meta = {
        "model": f"{cfg['model']} ({Path(checkpoint).name}, step {_step(checkpoint)})",
        "clips": clips,
        "frames": frames,
        "size": size,
        "real_clips": len(real),
        "real_frames": real_frames,
        "seed": seed,
        "train_steps": train_steps,
    }
    for n in tables:
        results[n]["meta"] = meta
    return write_report(results, out_dir, meta)


def _step(checkpoint: str | os.PathLike[str]) -> str:
    from flashvid.errors import FlashvidError
    from flashvid.network.build import read_checkpoint_metadata

    try:
        return str(read_checkpoint_metadata(checkpoint).get("step", "?"))
    except (FlashvidError, OSError):  # a checkpoint without readable metadata: the label says so
        return "?"


__all__ = ["METRICS", "PAPER", "ROWS", "CompositeSet", "build_tables", "grades", "row_config", "table1", "table2"]
