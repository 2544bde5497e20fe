"""Training data from a config: the sources it names, the endless stream of random clips, the fixed validation
clips and the real clips held apart for choosing the checkpoint."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import IterableDataset

from flashvid.errors import InputError
from flashvid.keyframe.trimap import trimap_onehot
from flashvid.training.config import TrainConfig
from flashvid.training.data.clips import Clip, clip_from_pair, clip_from_video, make_clip
from flashvid.training.data.people import subject_id
from flashvid.training.data.sources import Foreground, PeopleVideo, read_backgrounds, read_foregrounds


def load_sources(
    cfg: TrainConfig,
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
        missing = [
            s["path"] for s in cfg["foregrounds"] + cfg["backgrounds"] if "path" in s and not Path(s["path"]).exists()
        ]
        where = f" (missing: {', '.join(missing[:3])})" if missing else ""
        raise InputError(f"no training foregrounds or backgrounds found{where}; check the paths in the config")
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
        cfg: TrainConfig,
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
                clip = clip_from_video(
                    video, masks, rng, size=size, frames=n, trimap=trimap, camera=self.cfg["camera_motion"]
                )
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


def validation_backgrounds(cfg: TrainConfig) -> list[np.ndarray]:
    """The held-apart backgrounds named in ``validation_backgrounds`` (never trained on)."""
    held = set(cfg["validation_backgrounds"])
    out: list[np.ndarray] = []
    for spec in cfg["backgrounds"]:
        if held and "path" in spec and Path(spec["path"]).exists():
            out += [b for name, b in read_backgrounds(spec, names=True) if name in held]
    return out


def validation_clips(cfg: TrainConfig, val: list[Foreground], bgs: list[np.ndarray]) -> list[Clip]:
    """The fixed validation set: `val_clips` clips from the held-apart foregrounds, seeded, run-time trimaps;
    each clip's `subject` names its foreground."""
    rng = np.random.default_rng([cfg["seed"], 99])
    clips = []
    for i in range(cfg["val_clips"]):
        fg = val[i % len(val)]
        clip = make_clip(
            fg,
            bgs[int(rng.integers(len(bgs)))],
            rng,
            size=cfg["size"],
            frames=cfg["frames"],
            motion=cfg["motion"],
            trimap=cfg["trimap"],
            pseudo=cfg["pseudo_flash"],
        )
        clip.subject = fg.name
        clips.append(clip)
    return clips


def selection_videos(cfg: TrainConfig) -> list[Path]:
    """The clips named in ``selection_videos``, found in the config's people-videos folders."""
    names, found = set(cfg["selection_videos"]), []
    for spec in cfg["foregrounds"]:
        if spec["kind"] == "people-videos" and Path(spec["path"]).exists():
            from flashvid.training.data.sources import read_people_videos

            found += [v.path for v in read_people_videos(spec) if v.name in names]
    return sorted(found)
