"""The trained rows of tables 3 and 4: each row's config (the shipped recipe with the row's change and a shared
budget), written beside its weights so it can be re-made, and trained or reused."""

from __future__ import annotations

import copy
import json
import os
from collections.abc import Callable
from pathlib import Path

from flashvid.training.config import TrainConfig
from flashvid.training.table_specs import ROWS


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
