"""On-disk cache of built engines (exported ONNX graphs, serialised TensorRT programs).

An entry is keyed by everything that makes it valid: the engine, the weights' hash, the input shape, the
precision, the device's name, and the versions of torch / TensorRT / ONNX Runtime. Each entry is a file plus
a JSON record of its key and of the file's SHA-256 taken when it was built. An entry is loaded only when both
match: a file put in its place (a crafted TensorRT program that would unpickle code, a poisoned ONNX graph) is
never opened, it is rebuilt, and so is one whose record is missing, unreadable or different, or whose loading
fails; never a crash. The folder is ``$FLASHVID_CACHE`` or ``$XDG_CACHE_HOME/flashvid/engines``
(``~/.cache/flashvid/engines``).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import torch
from torch import nn

from flashvid.imageio import atomic_output

log = logging.getLogger("flashvid.engines")
T = TypeVar("T")


def cache_dir() -> Path:
    root = os.environ.get("FLASHVID_CACHE")
    if root:
        return Path(root)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "flashvid" / "engines"


def weights_hash(model: nn.Module) -> str:
    """sha256 over the state dict (names, shapes, dtypes, bytes) and the model's config; 16 hex digits."""
    h = hashlib.sha256()
    h.update(json.dumps(getattr(model, "config", {}), sort_keys=True, default=str).encode())
    h.update(repr(getattr(model, "downsample_ratio", None)).encode())
    for k, v in sorted(model.state_dict().items()):
        h.update(k.encode())
        h.update(str(tuple(v.shape)).encode() + str(v.dtype).encode())
        h.update(v.detach().to("cpu").contiguous().reshape(-1).view(torch.uint8).numpy().tobytes())
    return h.hexdigest()[:16]


def device_name(device: torch.device) -> str:
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    return f"cpu-{os.cpu_count()}"


def entry_key(fields: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(fields, sort_keys=True, default=str).encode()).hexdigest()[:24]


def cached(
    fields: dict[str, Any],
    suffix: str,
    build: Callable[[Path], object],
    load: Callable[[Path], T],
    folder: Path | None = None,
) -> tuple[T, bool]:
    """Load the entry for `fields`, or build it with `build(path)` first; returns (loaded, was_cached).

    A mismatched or damaged entry (bad record, `load` raising) is removed and rebuilt once.
    """
    folder = folder or cache_dir()
    folder.mkdir(parents=True, exist_ok=True)
    key = entry_key(fields)
    path, record = folder / f"{key}{suffix}", folder / f"{key}.json"
    wanted = json.loads(json.dumps(fields, sort_keys=True, default=str))
    if path.is_file() and record.is_file():
        try:
            rec = json.loads(record.read_text())
            if not isinstance(rec, dict) or rec.get("fields") != wanted:
                log.warning("engine cache entry %s does not match its key; rebuilding", path.name)
            elif rec.get("sha256") != file_sha256(path):  # checked before the file is opened by its loader
                log.warning("engine cache entry %s is not the file that was built; rebuilding", path.name)
            else:
                return load(path), True
        except Exception as exc:  # noqa: BLE001 - any failure to read a cache entry means: rebuild it
            log.warning("engine cache entry %s is damaged (%s); rebuilding", path.name, exc)
    for p in (path, record):
        p.unlink(missing_ok=True)
    with atomic_output(path) as tmp:
        build(tmp)
    with atomic_output(record) as tmp:
        tmp.write_text(json.dumps({"fields": wanted, "sha256": file_sha256(path)}, sort_keys=True))
    return load(path), False


def file_sha256(path: Path) -> str:
    """The SHA-256 of a file's bytes (hex)."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(1 << 20):
            h.update(block)
    return h.hexdigest()
