"""`flashvid train --config FILE`: train a matting network on synthesised flash clips, in phases (RVM's way).

`Trainer` holds a run's state (model, optimiser, schedule, step, history, best score) and does one thing per
method: `resume`, `step` (one optimiser step on one batch), `validate` (scores, and the best checkpoint kept),
`save` (``last.pt``, resumable: model, optimiser, step, random states). `train` drives them. Training is seeded,
uses AMP (bf16 autocast) on CUDA, shows a progress bar with the loss and throughput, validates every
``val_every`` steps on a fixed set of clips built from held-apart foregrounds (never trained on) and keeps
``best.safetensors``: the checkpoint `selection_score` ranks first - with ``selection_videos`` (real clips held
apart from training and from evaluation) the one that finds the person on real footage and drops them under
another person's keyframe, otherwise the one with the lowest validation MSE over the unknown band.

The data side is `flashvid.training.datasets`, the config `flashvid.training.config`, the checkpoint choice
`flashvid.training.selection`; their public names are re-exported here.
"""

from __future__ import annotations

import json
import math
import os
import pickle
import random
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import DataLoader

from flashvid.network import build_model, save_checkpoint
from flashvid.training.augment import other_subject, perturbed_prior
from flashvid.training.config import DEFAULTS, TrainConfig, load_config
from flashvid.training.data.clips import Clip
from flashvid.training.datasets import (
    ClipStream,
    clip_tensors,
    load_sources,
    selection_videos,
    validation_backgrounds,
    validation_clips,
)
from flashvid.training.distributed import Ranks, any_rank, average_buffers, barrier, setup, teardown
from flashvid.training.objective import ClipObjective
from flashvid.training.selection import RealSelection, selection_score, validate

Log = Callable[[str], None]


def _worker_init(_: int) -> None:
    torch.set_num_threads(1)


def _seed_all(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)  # noqa: NPY002 - libraries draw from the legacy global generator
    torch.manual_seed(seed)


class Trainer:
    """One training run's state and its phases (see the module docstring)."""

    def __init__(
        self,
        cfg: TrainConfig,
        out_dir: str | os.PathLike[str],
        *,
        device: str = "cpu",
        time_limit_min: float | None = None,
        log: Log = print,
        ranks: Ranks | None = None,
    ) -> None:
        self.ranks = ranks or Ranks()
        self.cfg = cfg
        self.log: Log = log if self.ranks.main else (lambda *_: None)
        self.out = Path(out_dir)
        self.out.mkdir(parents=True, exist_ok=True)
        self.dev = torch.device(device)
        self.time_limit_min = time_limit_min
        _seed_all(cfg["seed"])
        self.model = self._build_model()
        self.objective: torch.nn.Module = ClipObjective(self.model)
        if self.ranks.distributed:  # the same initial weights on every rank: DDP broadcasts rank 0's
            from torch.nn.parallel import DistributedDataParallel

            ids = [self.dev.index] if self.dev.type == "cuda" else None
            self.objective = DistributedDataParallel(self.objective, device_ids=ids, find_unused_parameters=False)
        params = [p for p in self.model.parameters() if p.requires_grad]
        self.opt = torch.optim.AdamW(params, lr=cfg["lr"], weight_decay=cfg["weight_decay"])
        self.step_count, self.best, self.elapsed = 0, -float("inf"), 0.0
        self.history: list[dict[str, Any]] = []
        self.t_start = time.time()
        self.sched = torch.optim.lr_scheduler.LambdaLR(
            self.opt, lambda s: min(1.0, (s + 1) / 100) * 0.5 * (1 + math.cos(math.pi * self.progress(s)))
        )
        self.val: list[Clip] = []
        self.selection: RealSelection | None = None
        self.last_loss = 0.0

    def _build_model(self) -> Any:
        cfg = self.cfg
        model = build_model(cfg["model"], **cfg["model_settings"]).to(self.dev)
        if cfg["init_checkpoint"]:  # continue from shipped / earlier weights (a fresh optimiser and schedule)
            from flashvid.network import load_checkpoint

            load_checkpoint(model, cfg["init_checkpoint"])
            self.log(f"weights initialised from {cfg['init_checkpoint']}")
        elif cfg["pretrained_encoder"]:
            model.load_pretrained_encoder(cfg["pretrained_encoder"])
            self.log(f"encoder initialised from {cfg['pretrained_encoder']}")
        if cfg["freeze_encoder_blocks"]:
            enc = model.frame_encoder
            for mod in [enc.stem, *list(enc.blocks)[: cfg["freeze_encoder_blocks"]]]:
                mod.requires_grad_(False)
        return model

    def progress(self, s: int) -> float:
        """How far the run is, 0..1: by steps, or by time when a time limit would end it sooner (so that the
        learning rate anneals inside the time given)."""
        p = s / self.cfg["steps"]
        if self.time_limit_min is not None:
            p = max(p, (time.time() - self.t_start) / (self.time_limit_min * 60))
        return min(p, 1.0)

    # ------------------------------------------------------------------------------------------- phases

    def resume(self) -> bool:
        """Continue from ``last.pt`` when there is one; returns whether it did."""
        path = self.out / "last.pt"
        if not path.is_file():
            return False
        from flashvid.errors import CheckpointError

        try:
            state = torch.load(path, map_location=self.dev, weights_only=True)  # tensors and plain types only
            self.model.load_state_dict(state["model"])
            self.opt.load_state_dict(state["optimizer"])
            self.sched.load_state_dict(state["scheduler"])
        except (RuntimeError, KeyError, EOFError, ValueError, TypeError, OSError, pickle.UnpicklingError) as exc:
            raise CheckpointError(
                f"{path}: cannot resume from it ({type(exc).__name__}); remove it to start afresh, or give another "
                "--out"
            ) from None
        self.step_count, self.best, self.history = state["step"], state["best"], state["history"]
        self.elapsed = state.get("elapsed", 0.0)
        if state.get("best_kind") != "score":  # written before scores: the best was a validation MSE
            self.best = -self.best
        torch.set_rng_state(state["torch_rng"])
        self.log(f"resumed from {path} at step {self.step_count}")
        return True

    def prepare(self) -> tuple[list[tuple[list[Any], float]], list[np.ndarray]]:
        """Read the sources, build the validation clips and the real selection clips; returns (training groups,
        backgrounds)."""
        cfg = self.cfg
        groups, val_fg, bgs = load_sources(cfg)
        if not self.ranks.main:  # validation and checkpoint choice happen on rank 0 only
            return groups, bgs
        self.val = validation_clips(cfg, val_fg, validation_backgrounds(cfg) or bgs)
        sel_paths = selection_videos(cfg)
        self.selection = RealSelection(sel_paths, cfg["selection_frames"]) if sel_paths else None
        if self.selection is not None:
            self.log(f"choosing the checkpoint on {len(sel_paths)} real clips: {', '.join(p.stem for p in sel_paths)}")
        if self.selection is not None and self.step_count == 0:  # where the run starts, so a note can say what changed
            m0 = self.scores()
            self.history.append({"step": 0, "time_s": 0.0, **m0})
            self.best = selection_score(m0, cfg["selection_min_iou"])  # training must beat its start to replace it
            meta = {"step": "0", "real_iou": f"{m0['real_iou']:.4f}"}
            save_checkpoint(self.model, self.out / "best.safetensors", metadata=meta)
            self.log(
                f"step 0: real IoU {m0['real_iou']:.3f}, under another person's keyframe {m0['real_other_iou']:.3f}"
            )
        self.log(
            f"training {cfg['model']} on {sum(len(g) for g, _ in groups)} foregrounds, {len(bgs)} backgrounds; "
            f"validating on {len(self.val)} clips of {len(val_fg)} held-apart foregrounds"
        )
        return groups, bgs

    def batches(self, groups: list[tuple[list[Any], float]], bgs: list[np.ndarray]) -> Iterator[dict[str, Any]]:
        """Endless training batches on the device (worker processes per the config)."""
        workers = self.cfg["workers"]
        # spawn, not fork: a forked worker deadlocks in OpenMP once the parent has used its thread pool
        loader = DataLoader(
            ClipStream(self.cfg, groups, bgs, seed_offset=self.ranks.seed(self.step_count)),
            batch_size=self.cfg["batch"],
            num_workers=workers,
            persistent_workers=workers > 0,
            multiprocessing_context="spawn" if workers > 0 else None,
            worker_init_fn=_worker_init if workers > 0 else None,
        )
        for batch in loader:
            yield {k: v.to(self.dev, non_blocking=True) for k, v in batch.items()}

    def step(self, batch: dict[str, torch.Tensor], rng: random.Random, gen: torch.Generator) -> dict[str, float]:
        """One optimiser step on `batch` (through `ClipObjective`, DDP-wrapped under torchrun); returns the loss
        terms averaged over the clip's frames."""
        cfg, model = self.cfg, self.model
        other = other_subject(batch, cfg["other_subject_prob"], gen, cfg["other_subject_match"])
        model.train()
        model.downsample_ratio = rng.choice(cfg["downsample_ratios"])
        prior = None
        if getattr(model, "use_prior", False) and rng.random() < cfg["prior_perturb_prob"]:
            size = tuple(model.initial_state(batch["frames"][:1, 0])[-1].shape[2:])
            prior = perturbed_prior(batch["kalpha"], size, gen, cfg["prior_blob_prob"], cfg["prior_blob_attached"])
        with torch.autocast(self.dev.type, dtype=torch.bfloat16, enabled=self.dev.type == "cuda"):
            total, terms_sum = self.objective(batch, other, prior)
        self.opt.zero_grad(set_to_none=True)
        total.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        self.opt.step()
        self.sched.step()
        model.downsample_ratio = None
        self.step_count += 1
        self.last_loss = float(total.detach())
        return {k: v / batch["frames"].shape[1] for k, v in terms_sum.items()}

    def scores(self) -> dict[str, float]:
        """Validation scores now (synthetic clips; real selection clips where the config names them)."""
        metrics = validate(self.model, self.val, self.dev)
        if self.selection is not None:
            metrics.update(self.selection(self.model))
        return metrics

    def validate(self, terms: dict[str, float]) -> dict[str, float]:
        """Score the model, log it, keep it as ``best.safetensors`` when it is the best so far (and a snapshot
        with ``snapshots``)."""
        cfg, step = self.cfg, self.step_count
        metrics = self.scores()
        self.history.append(
            {
                "step": step,
                "time_s": round(time.time() - self.t_start, 1),
                "loss": self.last_loss,
                "lr": self.sched.get_last_lr()[0],
                "terms": terms,
                **metrics,
            }
        )
        real = (
            f", real IoU {metrics['real_iou']:.3f} (another person's keyframe {metrics['real_other_iou']:.3f})"
            if "real_iou" in metrics
            else ""
        )
        self.log(
            f"step {step}: val MSE x1e3 (unknown) {metrics['mse_unknown'] * 1e3:.3f}, SAD /1e3 (unknown) "
            f"{metrics['sad_unknown'] / 1e3:.3f}, MSE x1e3 (all) {metrics['mse_all'] * 1e3:.3f}{real}"
        )
        score = selection_score(metrics, cfg["selection_min_iou"])
        if score > self.best:
            self.best = score
            meta = {"step": str(step), "val_mse_unknown": f"{metrics['mse_unknown']:.6f}"}
            meta.update({k: f"{metrics[k]:.4f}" for k in ("real_iou", "real_other_iou") if k in metrics})
            save_checkpoint(self.model, self.out / "best.safetensors", metadata=meta)
        if cfg["snapshots"]:  # every validated step, to be chosen among elsewhere (e.g. on real footage)
            save_checkpoint(
                self.model, self.out / f"step_{step:06d}.safetensors", half=True, metadata={"step": str(step)}
            )
        return metrics

    def save(self) -> None:
        """``last.pt`` (atomic) and ``history.json``."""
        state = {
            "model": self.model.state_dict(),
            "optimizer": self.opt.state_dict(),
            "scheduler": self.sched.state_dict(),
            "step": self.step_count,
            "best": self.best,
            "best_kind": "score",
            "history": self.history,
            "config": self.cfg,
            "elapsed": time.time() - self.t_start,
            "torch_rng": torch.get_rng_state(),
        }
        torch.save(state, self.out / "last.pt.partial")
        os.replace(self.out / "last.pt.partial", self.out / "last.pt")
        (self.out / "history.json").write_text(json.dumps(self.history, indent=1))

    def run(self) -> dict[str, Any]:
        """Steps until the config's count or the time limit, validating and saving on schedule; a summary."""
        from tqdm import tqdm

        cfg = self.cfg
        groups, bgs = self.prepare()
        rng = random.Random(self.ranks.seed(cfg["seed"] + self.step_count))
        gen = torch.Generator().manual_seed(self.ranks.seed(cfg["seed"] + self.step_count))
        self.t_start = time.time() - self.elapsed
        if self.time_limit_min is not None:  # the time limit counts this session only: a resumed run gets it afresh
            self.time_limit_min += self.elapsed / 60
        bar = tqdm(
            total=cfg["steps"],
            initial=self.step_count,
            desc="train" if not self.ranks.distributed else f"train x{self.ranks.world}",
            dynamic_ncols=True,
            mininterval=2.0,
            disable=not self.ranks.main,
        )
        data = self.batches(groups, bgs)
        stop_reason = "steps"
        while self.step_count < cfg["steps"]:
            t0 = time.time()
            terms = self.step(next(data), rng, gen)
            bar.update(1)
            clips_s = cfg["batch"] / max(time.time() - t0, 1e-6)
            bar.set_postfix(
                loss=f"{self.last_loss:.4f}", clips_s=f"{clips_s:.1f}", lr=f"{self.sched.get_last_lr()[0]:.1e}"
            )
            limit = self.time_limit_min
            timed_out = any_rank(self.ranks, limit is not None and time.time() - self.t_start > limit * 60, self.dev)
            if self.step_count % cfg["val_every"] == 0 or self.step_count == cfg["steps"] or timed_out:
                average_buffers(self.model, self.ranks)
                if self.ranks.main:
                    self.validate(terms)
                    self.save()
                barrier(self.ranks)
            if timed_out:
                stop_reason = "time limit"
                break
        bar.close()
        return {
            "steps": self.step_count,
            "time_s": time.time() - self.t_start,
            "best_score": self.best,
            "stopped": stop_reason,
            "history": self.history,
        }


def train(
    cfg: TrainConfig,
    out_dir: str | os.PathLike[str],
    *,
    device: str = "cpu",
    resume: bool = False,
    time_limit_min: float | None = None,
    log: Log = print,
) -> dict[str, Any]:
    """Train per `cfg`, writing checkpoints into `out_dir`; returns a summary (steps, time, best metrics).

    Under ``torchrun`` (several processes) each process is a rank of one DistributedDataParallel run
    (`flashvid.training.distributed`); rank 0's summary holds the validation history."""
    ranks, device = setup(device)
    trainer: Trainer | None = None
    try:
        trainer = Trainer(cfg, out_dir, device=device, time_limit_min=time_limit_min, log=log, ranks=ranks)
        if resume:
            trainer.resume()
        summary = trainer.run()
        barrier(ranks)  # rank 0 may still be saving: every rank is done before the group goes
        return summary
    finally:
        # the DistributedDataParallel wrapper goes before its process group: destroyed the other way round (at
        # exit), a rank's communication thread was once left joinable and the process aborted ("terminate called
        # without an active exception", CI)
        trainer = None
        teardown(ranks)


__all__ = [
    "DEFAULTS",
    "ClipStream",
    "RealSelection",
    "TrainConfig",
    "Trainer",
    "clip_tensors",
    "load_config",
    "load_sources",
    "other_subject",
    "perturbed_prior",
    "selection_score",
    "selection_videos",
    "train",
    "validate",
    "validation_backgrounds",
    "validation_clips",
]
