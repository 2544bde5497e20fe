"""A training run's configuration: `TrainConfig` (every key typed), its defaults and `load_config`.

The config is JSON (paths relative to its own folder); a mistake in it (no such file, not JSON, not an object, an
unknown key, a value of the wrong kind) is an `InputError` naming the file, which the CLI prints as one line.
"""

from __future__ import annotations

import copy
import json
import os
from pathlib import Path
from typing import Any, TypedDict, cast, get_type_hints

from flashvid import defaults
from flashvid.errors import InputError


class TrainConfig(TypedDict):
    """Every key of a training config (see `DEFAULTS` for the values a config leaves out)."""

    model: str
    model_settings: dict[str, Any]
    size: int
    frames: int
    batch: int
    steps: int
    lr: float
    weight_decay: float
    seed: int
    val_every: int
    val_clips: int
    downsample_ratios: list[float]
    trimap: str
    gt_trimap_prob: float
    pseudo_flash: bool
    motion: float
    camera_motion: float
    workers: int
    foregrounds: list[dict[str, Any]]
    validation_foregrounds: list[str]
    validation_procedural: int
    backgrounds: list[dict[str, Any]]
    validation_backgrounds: list[str]
    validation_videos: list[str]
    pretrained_encoder: str | None
    freeze_encoder_blocks: int
    prior_perturb_prob: float
    prior_blob_prob: float
    prior_blob_attached: float
    other_subject_prob: float
    other_subject_match: str
    distractor_prob: float
    init_checkpoint: str | None
    selection_videos: list[str]
    selection_frames: int
    selection_min_iou: float
    snapshots: bool
    outside_videos: list[dict[str, Any]]
    deeplab_reference: str | None


DEFAULTS: dict[str, Any] = {
    "model": defaults.MODEL,
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
    "camera_motion": 0.0,  # real people clips: 0 a still crop, 1 a camera that pans, zooms, frames far and close
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
    "prior_blob_prob": 0.2,  # of the perturbed priors, the share given a false blob (`augment.perturbed_prior`)
    "prior_blob_attached": 0.0,  # of those blobs, the share that touch the subject (the clutter a matte creeps into)
    "other_subject_prob": 0.08,
    "other_subject_match": "next",
    "distractor_prob": 0.0,
    "init_checkpoint": None,
    "selection_videos": [],
    "selection_frames": 20,
    "selection_min_iou": 0.9,
    "snapshots": False,
    # real clips from rooms, people and cameras the training never sees (`flashvid eval --outside`): {"path",
    # "stride"}; and DeepLabV3's TFLite file, the second reference
    "outside_videos": [],
    "deeplab_reference": None,
}


_NUMBERS = {k for k, t in get_type_hints(TrainConfig).items() if t in (int, float)}
_POSITIVE = {"size", "frames", "batch", "steps", "val_every", "val_clips", "selection_frames"}


def load_config(path: str | os.PathLike[str] | None, **overrides: Any) -> TrainConfig:
    """`DEFAULTS` updated by the JSON file at `path` and by `overrides` (None values ignored); source paths made
    absolute. Raises `InputError` naming the file for a config that cannot be used."""
    cfg = copy.deepcopy(DEFAULTS)
    base = Path.cwd()
    name = str(path) if path is not None else "config"
    if path is not None:
        p = Path(path)
        if not p.is_file():
            raise InputError(f"{p}: no such config file; the shipped one is assets/configs/flashvid-rt.json")
        try:
            loaded = json.loads(p.read_text())
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise InputError(f"{p}: not a JSON config ({exc}); fix it or start from the shipped one") from None
        if not isinstance(loaded, dict):
            raise InputError(f"{p}: a config is a JSON object of settings, not a {type(loaded).__name__}")
        cfg.update(loaded)
        base = p.resolve().parent
    cfg.update({k: v for k, v in overrides.items() if v is not None})
    unknown = set(cfg) - set(DEFAULTS)
    if unknown:
        raise InputError(f"{name}: unknown config keys {sorted(unknown)}; known: {sorted(DEFAULTS)}")
    for key in _NUMBERS:
        v = cfg[key]
        if isinstance(v, bool) or not isinstance(v, (int, float)) or (key in _POSITIVE and v < 1):
            raise InputError(f"{name}: {key}={v!r} must be a {'positive ' if key in _POSITIVE else ''}number")
    for key in ("foregrounds", "backgrounds"):
        if not isinstance(cfg[key], list) or not all(isinstance(s, dict) and "kind" in s for s in cfg[key]):
            raise InputError(f'{name}: {key} must be a list of sources like {{"kind": "procedural"}}')
    for spec in cfg["foregrounds"] + cfg["backgrounds"] + cfg["outside_videos"]:
        for key in ("path", "agree_with"):
            if key in spec:
                spec[key] = str((base / spec[key]).resolve())
    if cfg["deeplab_reference"]:
        cfg["deeplab_reference"] = str((base / cfg["deeplab_reference"]).resolve())
    if cfg["pretrained_encoder"]:
        cfg["pretrained_encoder"] = str(_resolve_packaged(base, cfg["pretrained_encoder"]))
    return cast(TrainConfig, cfg)


def _resolve_packaged(base: Path, name: str) -> Path:
    """A config path: relative to the config's folder, else a file shipped in flashvid.assets."""
    from flashvid import assets

    p = base / name
    return p.resolve() if p.exists() else assets.path(*Path(name).parts)
