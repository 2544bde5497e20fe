"""`auto`: the fastest engine available here.

On CUDA: TensorRT when torch-tensorrt imports, else torch.compile with CUDA graphs. On the CPU: a short measured
probe of eager PyTorch against ONNX Runtime (when installed) on the example frame; the faster one wins. The
choice is cached (`flashvid.engines.cache`, keyed by the weights, frame shape, precision, machine and versions),
so the next start builds only the winner. What was picked, and why, is logged.
"""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path
from typing import Any

import torch
from flashvid.engines.base import ENGINES, Runner, register
from torch import Tensor, nn

log = logging.getLogger("flashvid.engines")


def _probe(runner: Runner, frame: Tensor, frames: int = 5) -> float:
    tri = torch.zeros_like(frame)
    tri[:, 1] = 1
    kf = runner.encode_keyframe(frame, tri)
    rec = runner.initial_state(frame)
    _, _, *rec = runner(frame, *kf, *rec)
    times = []
    for _ in range(frames):
        t0 = time.perf_counter()
        _, _, *rec = runner(frame, *kf, *rec)
        times.append(time.perf_counter() - t0)
    return sorted(times)[len(times) // 2]


@register("auto")
class AutoEngine:
    name = "auto"

    def available(self, device: torch.device) -> tuple[bool, str]:
        return True, "picks among the engines available"

    def build(self, model: nn.Module, example_frame: Tensor, precision: str, device: torch.device) -> Runner:
        if device.type == "cuda":
            for name in ("tensorrt", "compiled"):
                eng = ENGINES[name]()
                ok, why = eng.available(device)
                if ok:
                    log.info("engine auto: %s on %s (%s)", name, device, why)
                    return eng.build(model, example_frame, "fp16" if precision == "fp32" else precision, device)
                log.info("engine auto: not %s: %s", name, why)
        import json

        from flashvid.engines.cache import cached, device_name, weights_hash

        from flashvid.imageio import atomic_output

        onnx = ENGINES["onnx"]()
        names = ["eager"] + (["onnx"] if precision == "fp32" and onnx.available(device)[0] else [])
        fields = {
            "engine": "auto-choice",
            "candidates": names,
            "weights": weights_hash(model),
            "shape": list(example_frame.shape),
            "precision": precision,
            "device": device_name(device),
            "torch": torch.__version__,
        }
        built: dict[str, Runner] = {}

        def probe(path: Path) -> None:
            import copy

            for name in names:  # a copy per engine: the onnx build bakes its settings into the model
                built[name] = ENGINES[name]().build(copy.deepcopy(model), example_frame, precision, device)
            times = {name: _probe(r, example_frame.to(device)) * 1000 for name, r in built.items()}
            best = min(times, key=lambda k: times[k])
            with atomic_output(path) as tmp:
                tmp.write_text(json.dumps({"engine": best, "ms_per_frame": times}))

        choice, was_cached = cached(fields, ".choice", probe, _read_choice)
        best = choice["engine"] if choice.get("engine") in names else "eager"
        log.info(
            "engine auto: %s (%s per frame at %s%s)",
            best,
            ", ".join(f"{k} {v:.1f} ms" for k, v in choice.get("ms_per_frame", {}).items()),
            tuple(example_frame.shape),
            ", measured before and cached" if was_cached else "",
        )
        return built[best] if best in built else ENGINES[best]().build(model, example_frame, precision, device)


def _read_choice(path: Path) -> dict[str, Any]:
    """A cached choice: {"engine": NAME, "ms_per_frame": {NAME: ms}}; anything else raises (the entry is rebuilt)."""
    obj = json.loads(path.read_text())
    times = obj.get("ms_per_frame") if isinstance(obj, dict) else None
    if not isinstance(obj, dict) or not isinstance(obj.get("engine"), str) or not isinstance(times, dict):
        raise ValueError("not an engine choice")
    if not all(isinstance(k, str) and isinstance(v, (int, float)) for k, v in times.items()):
        raise ValueError("not an engine choice")
    return obj
