"""The evaluation suites `flashvid eval` runs: held-apart composites against baselines, and real footage."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from flashvid import defaults
from flashvid.errors import FlashvidError, InputError
from flashvid.training.config import TrainConfig


def checkpoint_for(cfg: TrainConfig, checkpoint: str | os.PathLike[str] | None) -> str | os.PathLike[str]:
    """`checkpoint`, else the shipped weights of the config's model; neither is one line for the user."""
    from flashvid.matter import default_checkpoint

    ckpt = checkpoint or default_checkpoint(cfg["model"])
    if ckpt is None:
        raise FlashvidError(f"no checkpoint given and none shipped for {cfg['model']}; pass --checkpoint")
    return ckpt


def _model_with_gate(cfg: TrainConfig, ckpt: str | os.PathLike[str]) -> Any:
    """The config's model with its subject check built in (open unless a row asks for it, as in FlashMatter)."""
    from flashvid.network import build_model, subject_check_settings

    return build_model(cfg["model"], ckpt, **subject_check_settings(cfg["model"], True))


def real_table(
    cfg: TrainConfig, ckpt: str | os.PathLike[str], frames: int, config_name: str
) -> tuple[dict[str, Any], int]:
    """`evaluate_real` over the config's held-apart people videos; returns (table, number of clips)."""
    from flashvid.training.real_eval import evaluate_real

    names = cfg["validation_videos"]
    spec = next((s for s in cfg["foregrounds"] if s["kind"] == "people-videos"), None)
    if spec is None or not names or not Path(spec["path"]).is_dir():
        raise InputError(f"{config_name}: names no held-apart people videos (validation_videos) that exist")
    videos = [Path(spec["path"]) / f"{n}.mkv" for n in names]
    return evaluate_real(_model_with_gate(cfg, ckpt), videos, frames=frames), len(videos)


def composite_table(
    cfg: TrainConfig,
    ckpt: str | os.PathLike[str],
    baselines: bool = True,
    per_clip: dict[str, dict[str, float]] | None = None,
) -> tuple[dict[str, dict[str, dict[str, float]]], int]:
    """The model as the app runs it (the subject check per `defaults.SUBJECT_CHECK`) and with the check the other
    way, beside the flow-warped keyframe mask and closed-form matting, on clips built from held-apart
    foregrounds; returns (table, number of clips). `per_clip` receives each clip's SAD (`evaluate`)."""
    from flashvid.training.evaluate import FLOW_MASK, closed_form_alphas, evaluate, flow_mask_alphas, model_alphas
    from flashvid.training.train import load_sources, validation_backgrounds, validation_clips

    model = _model_with_gate(cfg, ckpt)
    _, val_fg, bgs = load_sources(cfg)
    clips = validation_clips(cfg, val_fg, validation_backgrounds(cfg) or bgs)
    has_gate = getattr(model, "gate", None) is not None
    check = has_gate and defaults.SUBJECT_CHECK
    methods: dict[str, Any] = {f"{cfg['model']} ({Path(ckpt).name})": lambda c: model_alphas(model, c, check)}
    if has_gate:
        other = f"{cfg['model']}, subject check off" if check else f"{cfg['model']} + subject check"
        methods[other] = lambda c: model_alphas(model, c, not check)
    if baselines:
        methods[FLOW_MASK] = flow_mask_alphas
        methods["closed-form (pymatting, warped trimap)"] = closed_form_alphas
    return evaluate(methods, clips, per_clip), len(clips)


def outside_table(
    cfg: TrainConfig,
    ckpt: str | os.PathLike[str],
    frames: int,
    config_name: str,
    log: Any = print,
    camera: str = "still",
) -> dict[str, dict[str, Any]]:
    """`evaluate_outside` over the config's ``outside_videos`` (rooms and people the training never saw), the
    model as the app runs it beside itself without the person prior; the clips re-framed as `camera` films them
    (`defaults.CAMERAS`)."""
    from flashvid.keyframe.person import PersonSegmenter
    from flashvid.network import build_model
    from flashvid.training.outside_eval import evaluate_outside, load_outside_clip
    from flashvid.training.references import DeepLabPerson

    specs = [s for s in cfg["outside_videos"] if Path(s["path"]).is_file()]
    if not specs or not cfg["deeplab_reference"] or not Path(cfg["deeplab_reference"]).is_file():
        raise InputError(f"{config_name}: names no outside_videos / deeplab_reference that exist")
    mediapipe, deeplab = PersonSegmenter(), DeepLabPerson(cfg["deeplab_reference"])
    clips = [
        load_outside_clip(s["path"], frames, int(s.get("stride", 1)), mediapipe, deeplab, camera=camera) for s in specs
    ]
    model = build_model(cfg["model"], ckpt)
    without = build_model(cfg["model"], ckpt, person_prior=False) if "person_prior" in model.config else None
    return evaluate_outside(model, clips, without, log=log)
