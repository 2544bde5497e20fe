"""`flashvid train --config FILE`: train a matting network on synthesised flash clips.

The config is JSON (paths relative to its own folder); `DEFAULTS` lists every key. Training is seeded, uses
AMP (bf16 autocast) on CUDA, shows a progress bar with the loss and throughput, validates every
``val_every`` steps on a fixed set of clips built from held-apart foregrounds (never trained on), and keeps
``last.pt`` (resumable: model, optimiser, step, random states) and ``best.safetensors`` in the output folder:
the checkpoint `selection_score` ranks first - with ``selection_videos`` (real clips held apart from training
and from evaluation) the one that finds the person on real footage and drops them under another person's
keyframe, otherwise the one with the lowest validation MSE over the unknown band.
"""

from __future__ import annotations

import copy
import json
import math
import os
import random
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import DataLoader, IterableDataset

from flashvid.keyframe.trimap import trimap_onehot
from flashvid.network import build_model, save_checkpoint
from flashvid.training.data.clips import Clip, clip_from_pair, clip_from_video, make_clip
from flashvid.training.data.people import someone_else, subject_id
from flashvid.training.data.sources import Foreground, PeopleVideo, read_backgrounds, read_foregrounds
from flashvid.training.losses import matting_losses, temporal_loss
from flashvid.training.metrics import mse, sad, unknown_region

DEFAULTS: dict[str, Any] = {
    "model": "flashvid-rt",
    "model_settings": {},
    "size": 256,
    "frames": 3,
    "batch": 4,
    "steps": 3000,
    "lr": 1e-3,
    "weight_decay": 1e-4,
    "seed": 0,
    "val_every": 200,
    "val_clips": 16,
    "downsample_ratios": [0.5, 1.0],
    "trimap": "runtime",
    "gt_trimap_prob": 0.2,
    "pseudo_flash": False,
    "motion": 1.0,
    "workers": 1,
    "foregrounds": [{"kind": "procedural", "count": 64, "weight": 1.0}],
    "validation_foregrounds": [],
    "validation_procedural": 4,
    "backgrounds": [{"kind": "procedural", "count": 32, "weight": 1.0}],
    "validation_backgrounds": [],
    "validation_videos": [],
    "pretrained_encoder": None,
    "freeze_encoder_blocks": 0,
    "prior_perturb_prob": 0.5,
    "other_subject_prob": 0.08,
    "other_subject_match": "next",
    "distractor_prob": 0.0,
    "init_checkpoint": None,
    "selection_videos": [],
    "selection_frames": 20,
    "selection_min_iou": 0.9,
    "snapshots": False,
}


def load_config(path: str | os.PathLike[str] | None, **overrides: Any) -> dict[str, Any]:
    """`DEFAULTS` updated by the JSON file at `path` and by `overrides`; source paths made absolute."""
    cfg = copy.deepcopy(DEFAULTS)
    base = Path.cwd()
    if path is not None:
        p = Path(path)
        cfg.update(json.loads(p.read_text()))
        base = p.resolve().parent
    cfg.update({k: v for k, v in overrides.items() if v is not None})
    unknown = set(cfg) - set(DEFAULTS)
    if unknown:
        raise ValueError(f"unknown config keys {sorted(unknown)}; known: {sorted(DEFAULTS)}")
    for spec in cfg["foregrounds"] + cfg["backgrounds"]:
        if "path" in spec:
            spec["path"] = str((base / spec["path"]).resolve())
    if cfg["pretrained_encoder"]:
        cfg["pretrained_encoder"] = str(_resolve_packaged(base, cfg["pretrained_encoder"]))
    return cfg


def _resolve_packaged(base: Path, name: str) -> Path:
    """A config path: relative to the config's folder, else a file shipped in flashvid.assets."""
    from flashvid import assets

    p = base / name
    return p.resolve() if p.exists() else assets.path(*Path(name).parts)


def load_sources(
    cfg: dict[str, Any],
) -> tuple[list[tuple[list[Any], float]], list[Foreground], list[np.ndarray]]:
    """(training foreground groups with weights, validation foregrounds, backgrounds).

    A group holds `Foreground`s, or (flash, noflash, alpha) triplets for a ``fnf`` source (real flash pairs).

    Foregrounds named in ``validation_foregrounds`` are held apart, as are ``validation_procedural`` generated
    subjects drawn from seeds no training source uses.
    """
    from flashvid.training.data.sources import procedural_foregrounds

    held = set(cfg["validation_foregrounds"])
    held_bg = set(cfg["validation_backgrounds"])
    groups: list[tuple[list[Any], float]] = []
    val: list[Foreground] = []
    for spec in cfg["foregrounds"]:
        if "path" in spec and not Path(spec["path"]).exists():
            continue
        if spec["kind"] == "people-videos":  # real people, pseudo-labelled by the person segmenter
            from flashvid.training.data.sources import read_people_videos

            apart = {*cfg["validation_videos"], *cfg["selection_videos"]}
            vids = [v for v in read_people_videos(spec) if v.name not in apart]
            if vids:
                groups.append((vids, float(spec.get("weight", 1.0))))
            continue
        if spec["kind"] in ("fnf", "real-flash"):  # real flash pairs: (flash, noflash, alpha[, fine]) as they are
            from flashvid.training.data.sources import read_fnf, read_real_flash

            read = read_fnf if spec["kind"] == "fnf" else read_real_flash
            pairs: list[Any] = list(read(spec["path"], spec.get("max_side", 640)))
            if pairs:
                groups.append((pairs, float(spec.get("weight", 1.0))))
            continue
        fgs = read_foregrounds(spec)
        val += [f for f in fgs if f.name in held]
        train = [f for f in fgs if f.name not in held]
        if train:
            groups.append((train, float(spec.get("weight", 1.0))))
    val += procedural_foregrounds(cfg["validation_procedural"], seed=1_000_000)
    bgs: list[np.ndarray] = []
    for spec in cfg["backgrounds"]:
        if "path" in spec and not Path(spec["path"]).exists():
            continue
        bgs += [b for name, b in read_backgrounds(spec, names=True) if name not in held_bg]
    if not groups or not bgs:
        raise ValueError("no training foregrounds or backgrounds found; check the paths in the config")
    return groups, val, bgs


def clip_tensors(clip: Clip) -> dict[str, torch.Tensor]:
    """A clip as float tensors: flash [3,H,W], trimap [3,H,W] one-hot, frames/fgrs/bgs [T,3,H,W], alphas [T,1,H,W]."""
    chw = lambda a: torch.from_numpy(np.ascontiguousarray(a)).permute(0, 3, 1, 2).float()  # noqa: E731
    return {
        "flash": torch.from_numpy(clip.flash).permute(2, 0, 1).float() / 255.0,
        "trimap": torch.from_numpy(trimap_onehot(clip.trimap)),
        "frames": chw(clip.frames) / 255.0,
        "alphas": torch.from_numpy(clip.alphas)[:, None],
        "fgrs": chw(clip.fgrs),
        "bgs": chw(clip.bgs),
        "kalpha": torch.from_numpy(clip.keyframe_alpha)[None].float(),
        "fine": torch.tensor(1.0 if clip.fine else 0.0),
        "subject": torch.tensor(subject_id(clip.subject), dtype=torch.int64),
    }


class ClipStream(IterableDataset):
    """An endless stream of random training clips (each worker seeded from the config seed and its id)."""

    def __init__(
        self,
        cfg: dict[str, Any],
        groups: list[tuple[list[Any], float]],
        bgs: list[np.ndarray],
        seed_offset: int = 0,
    ) -> None:
        super().__init__()
        self.cfg, self.groups, self.bgs, self.seed_offset = cfg, groups, bgs, seed_offset

    def __iter__(self) -> Iterator[dict[str, torch.Tensor]]:
        import cv2

        cv2.setNumThreads(1)
        info = torch.utils.data.get_worker_info()
        wid = info.id if info is not None else 0
        rng = np.random.default_rng([self.cfg["seed"], self.seed_offset, wid])
        weights = np.array([w for _, w in self.groups], np.float64)
        weights /= weights.sum()
        while True:
            gi = int(rng.choice(len(self.groups), p=weights))
            fgs = self.groups[gi][0]
            i = int(rng.integers(len(fgs)))
            fg: Any = fgs[i]
            bg = self.bgs[int(rng.integers(len(self.bgs)))]
            trimap = "gt" if rng.random() < self.cfg["gt_trimap_prob"] else self.cfg["trimap"]
            if isinstance(fg, PeopleVideo):
                video, masks = fg.load()
                size, n = self.cfg["size"], self.cfg["frames"]
                clip = clip_from_video(video, masks, rng, size=size, frames=n, trimap=trimap)
                clip.subject = fg.name
                yield clip_tensors(clip)
                continue
            if isinstance(fg, tuple):  # a real flash pair (one subject per pair)
                clip = clip_from_pair(
                    fg[0],
                    fg[1],
                    fg[2],
                    rng,
                    size=self.cfg["size"],
                    frames=self.cfg["frames"],
                    motion=self.cfg["motion"],
                    trimap=trimap,
                    fine=bool(fg[3]) if len(fg) > 3 else True,
                )
                clip.subject = f"pair {gi}:{i}"
                yield clip_tensors(clip)
                continue
            distractor = None
            if rng.random() < self.cfg["distractor_prob"]:
                pool = [g for g, _ in self.groups if g and isinstance(g[0], Foreground)]
                if pool:
                    group = pool[int(rng.integers(len(pool)))]
                    distractor = group[int(rng.integers(len(group)))]
            clip = make_clip(
                fg,
                bg,
                rng,
                distractor=distractor,
                size=self.cfg["size"],
                frames=self.cfg["frames"],
                motion=self.cfg["motion"],
                trimap=trimap,
                pseudo=self.cfg["pseudo_flash"],
            )
            clip.subject = fg.name
            yield clip_tensors(clip)


def validation_backgrounds(cfg: dict[str, Any]) -> list[np.ndarray]:
    """The held-apart backgrounds named in ``validation_backgrounds`` (never trained on)."""
    held = set(cfg["validation_backgrounds"])
    out: list[np.ndarray] = []
    for spec in cfg["backgrounds"]:
        if held and "path" in spec and Path(spec["path"]).exists():
            out += [b for name, b in read_backgrounds(spec, names=True) if name in held]
    return out


def validation_clips(cfg: dict[str, Any], val: list[Foreground], bgs: list[np.ndarray]) -> list[Clip]:
    """The fixed validation set: `val_clips` clips from the held-apart foregrounds, seeded, run-time trimaps."""
    rng = np.random.default_rng([cfg["seed"], 99])
    return [
        make_clip(
            val[i % len(val)],
            bgs[int(rng.integers(len(bgs)))],
            rng,
            size=cfg["size"],
            frames=cfg["frames"],
            motion=cfg["motion"],
            trimap=cfg["trimap"],
            pseudo=cfg["pseudo_flash"],
        )
        for i in range(cfg["val_clips"])
    ]


@torch.inference_mode()
def validate(model: Any, clips: list[Clip], device: torch.device) -> dict[str, float]:
    """Mean MSE and SAD over the clips' frames, in the ground truth's unknown band and over the whole frame."""
    scores: dict[str, list[float]] = {"mse_unknown": [], "sad_unknown": [], "mse_all": [], "sad_all": []}
    model.eval()
    for clip in clips:
        t = {k: v.to(device) for k, v in clip_tensors(clip).items()}
        kf = model.encode_keyframe(t["flash"][None], t["trimap"][None])
        rec = model.initial_state(t["frames"][:1])
        for i in range(t["frames"].shape[0]):
            alpha, _, *rec = model(t["frames"][i : i + 1], *kf, *rec)
            pred, gt = alpha[0, 0].float().cpu().numpy(), clip.alphas[i]
            region = unknown_region(gt)
            scores["mse_unknown"].append(mse(pred, gt, region))
            scores["sad_unknown"].append(sad(pred, gt, region))
            scores["mse_all"].append(mse(pred, gt))
            scores["sad_all"].append(sad(pred, gt))
    return {k: float(np.mean(v)) for k, v in scores.items()}


def perturbed_prior(alpha: torch.Tensor, size: tuple[int, int], gen: torch.Generator) -> torch.Tensor:
    """A prior state [B,2,h,w] (alpha, valid = 1) made from a true alpha [B,1,H,W] the way a propagated prior goes
    wrong: shifted, eroded or dilated, blurred, or dropped (all zero), so the network learns to correct it."""
    import torch.nn.functional as F

    a = F.interpolate(alpha, size=size, mode="bilinear", align_corners=False)
    out = []
    for i in range(a.shape[0]):
        x = a[i : i + 1]
        u = torch.rand(5, generator=gen).tolist()
        if u[0] < 0.15:
            x = torch.zeros_like(x)
        else:
            dy, dx = (int((v - 0.5) * 0.2 * s) for v, s in zip(torch.rand(2, generator=gen).tolist(), size))
            x = torch.roll(x, (dy, dx), dims=(2, 3))
            k = 1 + 2 * int(u[1] * 6)
            if u[2] < 0.35:
                x = F.max_pool2d(x, k, 1, k // 2)
            elif u[2] < 0.7:
                x = -F.max_pool2d(-x, k, 1, k // 2)
            if u[3] < 0.4:
                x = F.avg_pool2d(x, 9, 1, 4, count_include_pad=False)
            if u[4] < 0.2:  # a false blob on the background
                h, w = size
                y0, x0 = (
                    int(torch.randint(0, h - h // 4, (1,), generator=gen)),
                    int(torch.randint(0, w - w // 4, (1,), generator=gen)),
                )
                x = x.clone()
                x[..., y0 : y0 + h // 5, x0 : x0 + w // 5] = 1.0
        out.append(x)
    a = torch.cat(out)
    return torch.cat([a, torch.ones_like(a)], dim=1)


def other_subject(
    batch: dict[str, torch.Tensor], prob: float, gen: torch.Generator, match: str = "next"
) -> torch.Tensor:
    """The paper's "different identity" case, in place: for a random `prob` share of the clips the keyframe (flash,
    trimap, its alpha) is swapped for another clip's and the target becomes no subject at all (alpha 0, the frame
    itself as the background). `match` picks the other clip: ``next`` (the next one in the batch) or ``overlap``
    (the one whose keyframe subject overlaps this clip's the most, so where the subject stands cannot tell the
    two apart and only how they look can). Only a clip of another subject qualifies (``batch["subject"]``, ids
    from `flashvid.training.data.people.subject_id`: two Intel clips of one person are the same subject); a clip
    with no other subject in its batch is left as it is. Returns the bool mask [B] of those clips."""
    b = batch["flash"].shape[0]
    pick = torch.rand(b, generator=gen) < prob
    if b < 2 or not bool(pick.any()):
        return torch.zeros(b, dtype=torch.bool)
    subject = batch["subject"].cpu()
    allowed = subject[:, None] != subject[None, :]
    if match == "overlap":
        m = batch["kalpha"].flatten(1).cpu() > 0.5
        inter = (m[:, None] & m[None]).sum(-1).float()
        union = (m[:, None] | m[None]).sum(-1).float().clamp(min=1.0)
        score = inter / union
    else:  # the next clip in the batch that shows someone else
        score = -((torch.arange(b)[None, :] - torch.arange(b)[:, None]) % b).float()
    score = score.masked_fill(~allowed, -1e9)
    src = score.argmax(1)
    pick &= allowed.any(1)
    if not bool(pick.any()):
        return pick
    src, pick = src.to(batch["flash"].device), pick.to(batch["flash"].device)
    originals = {k: batch[k].clone() for k in ("flash", "trimap", "kalpha")}
    for k, v in originals.items():
        batch[k][pick] = v[src[pick]]
    batch["alphas"][pick] = 0.0
    batch["bgs"][pick] = batch["frames"][pick]
    return pick


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

    def __call__(self, model: Any) -> dict[str, float]:
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
            raise ValueError(f"the selection clips {names} all show one person; name clips of two people or more")
        return {"real_iou": float(np.mean(own)), "real_other_iou": float(np.mean(other))}


def selection_videos(cfg: dict[str, Any]) -> list[Path]:
    """The clips named in ``selection_videos``, found in the config's people-videos folders."""
    names, found = set(cfg["selection_videos"]), []
    for spec in cfg["foregrounds"]:
        if spec["kind"] == "people-videos" and Path(spec["path"]).exists():
            from flashvid.training.data.sources import read_people_videos

            found += [v.path for v in read_people_videos(spec) if v.name in names]
    return sorted(found)


def selection_score(metrics: dict[str, float], min_iou: float) -> float:
    """Higher is better. With real selection clips: the person found on their own keyframe minus the person kept
    under someone else's, with any checkpoint that finds less than `min_iou` of the person ranked below every one
    that does; without: minus the synthetic validation MSE in the unknown band."""
    if "real_iou" not in metrics:
        return -metrics["mse_unknown"]
    score = metrics["real_iou"] - metrics["real_other_iou"]
    return score if metrics["real_iou"] >= min_iou else score - 10.0


def _worker_init(_: int) -> None:
    torch.set_num_threads(1)


def _seed_all(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)  # noqa: NPY002 - libraries draw from the legacy global generator
    torch.manual_seed(seed)


def train(
    cfg: dict[str, Any],
    out_dir: str | os.PathLike[str],
    *,
    device: str = "cpu",
    resume: bool = False,
    time_limit_min: float | None = None,
    log: Any = print,
) -> dict[str, Any]:
    """Train per `cfg`, writing checkpoints into `out_dir`; returns a summary (steps, time, best metrics)."""
    from tqdm import tqdm

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    dev = torch.device(device)
    _seed_all(cfg["seed"])
    model = build_model(cfg["model"], **cfg["model_settings"]).to(dev)
    if cfg["init_checkpoint"]:  # continue from shipped / earlier weights (a fresh optimiser and schedule)
        from flashvid.network import load_checkpoint

        load_checkpoint(model, cfg["init_checkpoint"])
        log(f"weights initialised from {cfg['init_checkpoint']}")
    elif cfg["pretrained_encoder"]:
        model.load_pretrained_encoder(cfg["pretrained_encoder"])
        log(f"encoder initialised from {cfg['pretrained_encoder']}")
    if cfg["freeze_encoder_blocks"]:
        enc = model.frame_encoder
        frozen = [enc.stem, *list(enc.blocks)[: cfg["freeze_encoder_blocks"]]]
        for mod in frozen:
            mod.requires_grad_(False)
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=cfg["lr"], weight_decay=cfg["weight_decay"])
    step, best, history, elapsed = 0, -float("inf"), [], 0.0
    t_start = time.time()

    def progress(s: int) -> float:
        """How far the run is, 0..1: by steps, or by time when a time limit would end it sooner (so that the
        learning rate anneals inside the time given)."""
        p = s / cfg["steps"]
        if time_limit_min is not None:
            p = max(p, (time.time() - t_start) / (time_limit_min * 60))
        return min(p, 1.0)

    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min(1.0, (s + 1) / 100) * 0.5 * (1 + math.cos(math.pi * progress(s)))
    )
    if resume and (out / "last.pt").is_file():
        state = torch.load(out / "last.pt", map_location=dev, weights_only=True)  # tensors and plain types only
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["optimizer"])
        sched.load_state_dict(state["scheduler"])
        step, best, history, elapsed = state["step"], state["best"], state["history"], state.get("elapsed", 0.0)
        if state.get("best_kind") != "score":  # written before scores: the best was a validation MSE
            best = -best
        torch.set_rng_state(state["torch_rng"])
        log(f"resumed from {out / 'last.pt'} at step {step}")
    groups, val_fg, bgs = load_sources(cfg)
    val = validation_clips(cfg, val_fg, validation_backgrounds(cfg) or bgs)
    sel_paths = selection_videos(cfg)
    selection = RealSelection(sel_paths, cfg["selection_frames"]) if sel_paths else None
    if selection is not None:
        log(f"choosing the checkpoint on {len(sel_paths)} real clips: {', '.join(p.stem for p in sel_paths)}")

    def evaluate_now() -> dict[str, float]:
        metrics = validate(model, val, dev)
        if selection is not None:
            metrics.update(selection(model))
        return metrics

    if selection is not None and step == 0:  # where the run starts from, so the note can say what training changed
        m0 = evaluate_now()
        history.append({"step": 0, "time_s": 0.0, **m0})
        best = selection_score(m0, cfg["selection_min_iou"])  # training must beat where it started to replace it
        save_checkpoint(model, out / "best.safetensors", metadata={"step": "0", "real_iou": f"{m0['real_iou']:.4f}"})
        log(f"step 0: real IoU {m0['real_iou']:.3f}, under another person's keyframe {m0['real_other_iou']:.3f}")
    log(
        f"training {cfg['model']} on {sum(len(g) for g, _ in groups)} foregrounds, {len(bgs)} backgrounds; "
        f"validating on {len(val)} clips of {len(val_fg)} held-apart foregrounds"
    )
    stream = ClipStream(cfg, groups, bgs, seed_offset=step)
    workers = cfg["workers"]
    # spawn, not fork: a forked worker deadlocks in OpenMP once the parent has used its thread pool
    loader = DataLoader(
        stream,
        batch_size=cfg["batch"],
        num_workers=workers,
        persistent_workers=workers > 0,
        multiprocessing_context="spawn" if workers > 0 else None,
        worker_init_fn=_worker_init if workers > 0 else None,
    )
    amp = dev.type == "cuda"
    rng = random.Random(cfg["seed"] + step)
    gen = torch.Generator().manual_seed(cfg["seed"] + step)
    t_start = time.time() - elapsed
    if time_limit_min is not None:  # the time limit counts this session only: a resumed run gets it afresh
        time_limit_min += elapsed / 60
    bar = tqdm(total=cfg["steps"], initial=step, desc="train", dynamic_ncols=True, mininterval=2.0)
    data = iter(loader)
    stop_reason = "steps"
    while step < cfg["steps"]:
        batch = {k: v.to(dev, non_blocking=True) for k, v in next(data).items()}
        other = other_subject(batch, cfg["other_subject_prob"], gen, cfg["other_subject_match"])
        model.train()
        model.downsample_ratio = rng.choice(cfg["downsample_ratios"])
        t0 = time.time()
        with torch.autocast(dev.type, dtype=torch.bfloat16, enabled=amp):
            kf = model.encode_keyframe(batch["flash"], batch["trimap"])
            frames = batch["frames"]
            rec = model.initial_state(frames[:, 0])
            if getattr(model, "use_prior", False) and rng.random() < cfg["prior_perturb_prob"]:
                rec[-1] = perturbed_prior(batch["kalpha"], tuple(rec[-1].shape[2:]), gen).to(rec[-1])
                rec[-1][other] = 0.0  # a keyframe of someone else: only the keyframe's (wrong) mask as the prior
            total: Any = 0.0
            terms_sum: dict[str, float] = {}
            prev = None
            for i in range(frames.shape[1]):
                o = model.forward_aux(frames[:, i], *kf, *rec)
                rec = o["rec"]
                terms = matting_losses(
                    o, batch["alphas"][:, i], batch["fgrs"][:, i], batch["bgs"][:, i], frames[:, i], batch["fine"]
                )
                if prev is not None:
                    terms["temporal"] = temporal_loss(
                        prev, o["alpha"], batch["alphas"][:, i - 1], batch["alphas"][:, i]
                    )
                prev = o["alpha"]
                for k, v in terms.items():
                    terms_sum[k] = terms_sum.get(k, 0.0) + float(v.detach())
                total = total + sum(terms.values())
        opt.zero_grad(set_to_none=True)
        total.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        model.downsample_ratio = None
        step += 1
        clips_s = cfg["batch"] / max(time.time() - t0, 1e-6)
        bar.update(1)
        bar.set_postfix(
            loss=f"{float(total.detach()):.4f}", clips_s=f"{clips_s:.1f}", lr=f"{sched.get_last_lr()[0]:.1e}"
        )
        timed_out = time_limit_min is not None and time.time() - t_start > time_limit_min * 60
        if step % cfg["val_every"] == 0 or step == cfg["steps"] or timed_out:
            metrics = evaluate_now()
            history.append(
                {
                    "step": step,
                    "time_s": round(time.time() - t_start, 1),
                    "loss": float(total.detach()),
                    "lr": sched.get_last_lr()[0],
                    "terms": {k: v / frames.shape[1] for k, v in terms_sum.items()},
                    **metrics,
                }
            )
            real = (
                f", real IoU {metrics['real_iou']:.3f} (another person's keyframe {metrics['real_other_iou']:.3f})"
                if "real_iou" in metrics
                else ""
            )
            log(
                f"step {step}: val MSE x1e3 (unknown) {metrics['mse_unknown'] * 1e3:.3f}, SAD /1e3 (unknown) "
                f"{metrics['sad_unknown'] / 1e3:.3f}, MSE x1e3 (all) {metrics['mse_all'] * 1e3:.3f}{real}"
            )
            score = selection_score(metrics, cfg["selection_min_iou"])
            if score > best:
                best = score
                meta = {"step": str(step), "val_mse_unknown": f"{metrics['mse_unknown']:.6f}"}
                meta.update({k: f"{metrics[k]:.4f}" for k in ("real_iou", "real_other_iou") if k in metrics})
                save_checkpoint(model, out / "best.safetensors", metadata=meta)
            if cfg["snapshots"]:  # every validated step, to be chosen among elsewhere (e.g. on real footage)
                save_checkpoint(model, out / f"step_{step:06d}.safetensors", half=True, metadata={"step": str(step)})
            state = {
                "model": model.state_dict(),
                "optimizer": opt.state_dict(),
                "scheduler": sched.state_dict(),
                "step": step,
                "best": best,
                "best_kind": "score",
                "history": history,
                "config": cfg,
                "elapsed": time.time() - t_start,
                "torch_rng": torch.get_rng_state(),
            }
            torch.save(state, out / "last.pt.partial")
            os.replace(out / "last.pt.partial", out / "last.pt")
            (out / "history.json").write_text(json.dumps(history, indent=1))
        if timed_out:
            stop_reason = "time limit"
            break
    bar.close()
    return {
        "steps": step,
        "time_s": time.time() - t_start,
        "best_score": best,
        "stopped": stop_reason,
        "history": history,
    }
