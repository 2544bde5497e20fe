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

import copy
import json
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import torch

from flashvid.keyframe.trimap import make_trimap, trimap_onehot
from flashvid.training.config import TrainConfig
from flashvid.training.data.clips import Clip, box_prompt_mask, make_clip
from flashvid.training.data.people import subject_of
from flashvid.training.data.synth import FlashLight
from flashvid.training.metrics import SCALES, all_metrics
from flashvid.training.real_eval import iou
from flashvid.training.run import run_frames

METRICS = ("MSE", "SAD", "Grad", "Conn")
#: the paper's tables (supplementary, Tables 1-4): MSE, SAD, Grad, Conn on its own test set
PAPER: dict[int, dict[str, Any]] = {
    1: {
        "title": "Flash image replaced by the same or a different identity",
        "rows": {
            "No replacement": (0.652, 1804.741, 3742.230, 1626.339),
            "Same identity (no-flash)": (0.667, 1912.454, 3849.037, 1682.390),
            "Same identity (flash)": (0.652, 1804.806, 3741.998, 1626.450),
            "Different identity (flash)": (59.37, 78521.41, 14330.61, 49752.17),
        },
    },
    2: {
        "title": "Background change between the flash and no-flash frames, five grades",
        "rows": {
            "w < 20": (0.663, 1851.338, 3795.702, 1655.836),
            "20 <= w < 40": (0.689, 1879.646, 3807.225, 1689.918),
            "40 <= w < 60": (0.702, 1894.698, 3829.165, 1701.664),
            "60 <= w < 80": (0.734, 1904.221, 3858.938, 1722.240),
            "w >= 80": (0.758, 1921.707, 3887.520, 1748.476),
        },
    },
    3: {
        "title": "Ablations of the settings",
        "rows": {
            "Default": (0.652, 1804.741, 3742.230, 1626.339),
            "w/o. I_c^f and FCM": (1.273, 2895.104, 5476.496, 2798.684),
            "w/o. t_c^f": (0.954, 2486.650, 4627.361, 2498.691),
            "w. box prompt": (0.651, 1801.044, 3738.101, 1624.965),
        },
    },
    4: {
        "title": "Training data and real flash light",
        "rows": {
            "FNF only": (0.854, 2354.638, 4195.965, 2335.611),
            "+ VM240K": (0.684, 1858.307, 3765.889, 1669.774),
            "+ PM-10K": (0.652, 1804.741, 3742.230, 1626.339),
            "FNF only (w/o. real flash)": (0.989, 2529.935, 4756.308, 2538.973),
        },
    },
}
#: Tables 3 and 4: each trained row's changes to the shipped training config
ROWS: dict[int, dict[str, dict[str, Any]]] = {
    3: {
        "default": {},
        "without FCM": {"model_settings": {"use_fcm": False}},
        "without the flash trimap": {"model_settings": {"use_trimap": False}},
        "box prompt": {"trimap": "box"},
    },
    4: {
        "synthesised flash clips only": {"data": "synth"},
        "+ real flash pairs": {"data": "synth+flash"},
        "+ pseudo-labelled real people video": {"data": "synth+flash+video"},
        "synthesised only, pseudo flash": {"data": "synth", "pseudo_flash": True},
    },
}


# ----------------------------------------------------------------------------------------------- test sets


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


def run_model(model: Any, flash: np.ndarray, trimap: np.ndarray, frames: Any) -> list[np.ndarray]:
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


def table1(model: Any, comp: CompositeSet, real: list[Any], log: Callable[[str], None]) -> dict[str, Any]:
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


def table2(model: Any, comp: CompositeSet, real: list[Any], log: Callable[[str], None]) -> dict[str, Any]:
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


def row_config(base: TrainConfig, table: int, name: str, steps: int) -> TrainConfig:
    """The training config of one trained row: the shipped recipe's data and settings, the row's change, and the
    shared budget (`steps`, validated once at the end, no real-clip selection)."""
    cfg = copy.deepcopy(base)
    change = copy.deepcopy(ROWS[table][name])
    data = change.pop("data", "synth+flash+video" if table == 3 else None)
    if data is not None:
        fgs = [s for s in cfg["foregrounds"] if s["kind"] not in ("people-videos", "fnf", "real-flash")]
        if "flash" in data:
            flash_dir = Path(fgs[0]["path"]).parent / "real-flash" if fgs and "path" in fgs[0] else None
            if flash_dir is not None:
                fgs.append({"kind": "real-flash", "path": str(flash_dir), "weight": 1.0})
        if "video" in data:
            fgs += [s for s in base["foregrounds"] if s["kind"] == "people-videos"]
        cfg["foregrounds"] = fgs
    settings = change.pop("model_settings", {})
    cfg["model_settings"] = {**cfg.get("model_settings", {}), **settings}
    cfg.update(change)  # type: ignore[typeddict-item]  # a row's change is a few config keys
    cfg.update(
        {
            "steps": steps,
            "val_every": steps,
            "selection_videos": [],
            "init_checkpoint": None,
            "other_subject_prob": base.get("other_subject_prob", 0.08),
        }
    )
    return cfg


def portable(cfg: TrainConfig, folder: Path) -> TrainConfig:
    """`cfg` as a config file in `folder` should hold it: data paths relative to that folder (as `load_config`
    reads them), a shipped file (the pretrained encoder) by its name inside flashvid.assets; so the row can be
    re-made from a clone of the repository beside the shared data, not only on the machine that made it."""
    from flashvid import assets

    out = copy.deepcopy(cfg)
    for spec in out["foregrounds"] + out["backgrounds"]:
        if "path" in spec:
            spec["path"] = os.path.relpath(spec["path"], folder.resolve())
    enc = out.get("pretrained_encoder")
    if enc:
        root = assets.path().resolve()
        p = Path(enc).resolve()
        out["pretrained_encoder"] = str(p.relative_to(root)) if p.is_relative_to(root) else os.path.relpath(p, folder)
    return out


def train_rows(table: int, base: TrainConfig, steps: int, out: Path, log: Callable[[str], None]) -> dict[str, Path]:
    """Train (or reuse, when its weights exist) each row of a trained table; returns {row: best.safetensors}."""
    from flashvid.training.train import train

    found = {}
    for name in ROWS[table]:
        folder = out / "rows" / _slug(f"t{table}-{name}")
        folder.mkdir(parents=True, exist_ok=True)
        cfg = row_config(base, table, name, steps)
        (folder / "config.json").write_text(json.dumps(portable(cfg, folder), indent=2, default=str))
        weights, history = folder / "best.safetensors", folder / "history.json"
        done = weights.is_file() and history.is_file() and json.loads(history.read_text())[-1]["step"] >= steps
        if not done:
            log(f"table {table}: training row {name!r} ({steps} steps)")
            train(cfg, folder, resume=True, log=lambda *_: None)
        found[name] = weights
    return found


# ------------------------------------------------------------------------------------------------ report


def _slug(s: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in s.lower()).strip("-").replace("--", "-")


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


def format_markdown(n: int, result: dict[str, Any]) -> str:
    """One table as markdown: ours (composites: whole-frame metrics with their scales; real clips: IoU) beside the
    paper's rows."""
    head = "| row | " + " | ".join(f"{m} {SCALES[m][1]}" for m in METRICS) + " | real IoU |"
    lines = [f"### Table {n}: {PAPER[n]['title']}", "", "Ours:", "", head, "|---|" + "---:|" * (len(METRICS) + 1)]
    real = result.get("real", {})
    real_keys = list(real)
    for j, (row, m) in enumerate(result["rows"].items()):
        r = real.get(row, real.get(real_keys[j]) if n == 2 and j < len(real_keys) else None)
        cells = [f"{m[k] * SCALES[k][0]:.3f}" if k in m else "-" for k in METRICS]
        span = result.get("spans", {}).get(row)
        label = f"{row} [{span[0]:.2f}-{span[1]:.2f}]" if span else row
        count = result.get("real_clips", {}).get(row)
        real_cell = "-" if r is None else f"{r:.3f}" + (f" ({count} clips)" if count is not None else "")
        lines.append(f"| {label} | " + " | ".join(cells) + f" | {real_cell} |")
    lines += ["", "The paper's (its test set, its network: MSE / SAD / Grad / Conn as printed):", ""]
    lines += ["| row | MSE | SAD | Grad | Conn |", "|---|---:|---:|---:|---:|"]
    lines += [f"| {row} | " + " | ".join(f"{v:g}" for v in vals) + " |" for row, vals in PAPER[n]["rows"].items()]
    return "\n".join(lines)


def plot(n: int, result: dict[str, Any], path: Path) -> None:
    """Composites' SAD and real clips' IoU per row: bars for settings, lines over the grades of Table 2."""
    import textwrap

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = list(result["rows"])
    real = result.get("real", {})
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
    sad = [result["rows"][r].get("SAD", np.nan) * SCALES["SAD"][0] for r in rows]
    labels = ["\n".join(textwrap.wrap(r, 18)) for r in rows]
    real_labels = ["\n".join(textwrap.wrap(r, 18)) for r in real]
    if n == 2:
        axes[0].plot(range(1, len(rows) + 1), sad, "o-", color="#4477aa")
        axes[0].set_xlabel("grade of background change (1 still ... 5 strongest)")
        axes[1].plot(range(1, len(real) + 1), list(real.values()), "o-", color="#cc6677")
        axes[1].set_xlabel("grade of background change (real clips)")
        for ax in axes:
            ax.set_xticks(range(1, 6))
    else:
        axes[0].bar(range(len(rows)), sad, color="#4477aa")
        axes[0].set_xticks(range(len(rows)), labels, fontsize=7)
        axes[1].bar(range(len(real)), list(real.values()), color="#cc6677")
        axes[1].set_xticks(range(len(real)), real_labels, fontsize=7)
    axes[0].set_ylabel("SAD /1e3 (composites, whole frame)")
    axes[1].set_ylabel("IoU (real clips)")
    axes[1].set_ylim(0, 1)
    fig.suptitle(f"Table {n}: {PAPER[n]['title']}", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def write_report(results: dict[int, dict[str, Any]], out: Path, meta: dict[str, Any]) -> Path:
    """OUT/index.md and OUT/index.html (with table_N.png plots and sheet_N.png contact sheets) and results.json."""
    from flashvid.imageio import write_image
    from flashvid.viz import grid

    out.mkdir(parents=True, exist_ok=True)
    md = [
        "# The paper's tables on our data",
        "",
        f"Model: {meta['model']}. Composites: {meta['clips']} clips x {meta['frames']} frames at {meta['size']} px "
        "(held-apart foregrounds over held-apart real room photographs; metrics over the whole frame, scales in "
        f"the headers). Real: {meta['real_clips']} held-apart Intel clips, {meta['real_frames']} frames after a "
        "keyframe whose flash is rendered on frame 0; IoU against a person segmenter's masks. Seed "
        f"{meta['seed']}. The paper's numbers are on its own test set with its own network: compare the shape of "
        "each effect, not the values.",
        "",
    ]
    html_parts = []
    for n, r in sorted(results.items()):
        plot(n, r, out / f"table_{n}.png")
        if r.get("sheet"):
            write_image(out / f"sheet_{n}.png", grid(r["sheet"], cell_height=160))
        section = format_markdown(n, r)
        m = r.get("meta", meta)
        if m != meta:
            section += (
                f"\n\n(Built in an earlier run into this folder: model {m['model']}, {m['clips']} clips x "
                f"{m['frames']} frames at {m['size']} px, {m['real_clips']} real clips x {m['real_frames']} frames.)"
            )
        if r.get("commands"):
            section += "\n\nRe-make each trained row:\n\n" + "\n".join(f"    {c}" for c in r["commands"])
        section += f"\n\n![plot](table_{n}.png)\n\n![contact sheet](sheet_{n}.png)\n\n{r.get('sheet_caption', '')}\n"
        md += [section, ""]
        html_parts.append(_md_to_html(section))
    (out / "index.md").write_text("\n".join(md))
    html = "<html><head><meta charset='utf-8'><title>flashvid: the paper's tables</title><style>"
    html += "body{font-family:sans-serif;max-width:1100px;margin:auto} table{border-collapse:collapse} "
    html += "td,th{border:1px solid #ccc;padding:3px 8px;text-align:right} img{max-width:100%}</style></head><body>"
    html += _md_to_html("\n".join(md[:3])) + "".join(html_parts) + "</body></html>"
    (out / "index.html").write_text(html)
    clean = {n: {k: v for k, v in r.items() if k != "sheet"} for n, r in results.items()}
    (out / "results.json").write_text(json.dumps({"meta": meta, "tables": clean}, indent=2))
    return out / "index.html"


def _md_to_html(md: str) -> str:
    """The small markdown subset the report uses: headings, paragraphs, pipe tables, images, indented code."""
    import html as h

    out: list[str] = []
    table: list[str] = []
    for line in [*md.splitlines(), ""]:
        if line.startswith("|"):
            if set(line.replace("|", "").strip()) <= set("-:"):
                continue
            cells = [c.strip() for c in line.strip("|").split("|")]
            tag = "th" if not table else "td"
            table.append("<tr>" + "".join(f"<{tag}>{h.escape(c)}</{tag}>" for c in cells) + "</tr>")
            continue
        if table:
            out.append("<table>" + "".join(table) + "</table>")
            table = []
        if line.startswith("#"):
            level = len(line) - len(line.lstrip("#"))
            out.append(f"<h{level}>{h.escape(line.lstrip('#').strip())}</h{level}>")
        elif line.startswith("![") and "](" in line:
            out.append(f"<p><img src='{h.escape(line.split('](')[1].rstrip(')'))}'></p>")
        elif line.startswith("    "):
            out.append(f"<pre>{h.escape(line.strip())}</pre>")
        elif line.strip():
            out.append(f"<p>{h.escape(line)}</p>")
    return "\n".join(out)


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
