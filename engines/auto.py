"""`auto`: the fastest engine available here.

On CUDA: TensorRT when torch-tensorrt imports, else torch.compile with CUDA graphs. On the CPU: a short measured
probe of eager PyTorch against ONNX Runtime (when installed) on the example frame; the faster one wins. The
choice is cached (`flashvid.engines.cache`, keyed by the weights, frame shape, precision, machine and versions),
so the next start builds only the winner. What was picked, and why, is logged.
"""

from __future__ import annotations

import json
import logging
import os
import time
from pathlib import Path
from typing import Any

import torch
from flashvid.engines.base import ENGINES, Runner, register
from torch import Tensor, nn

log = logging.getLogger("flashvid.engines")


def _probe(runners: dict[str, Runner], frame: Tensor, rounds: int = 5) -> dict[str, float]:
    """Seconds per frame of each runner: rounds taken in turn (each engine sees the same moments of whatever else
    the machine does) and the best of each kept (a spike of load slows a frame; nothing makes one faster)."""
    tri = torch.zeros_like(frame)
    tri[:, 1] = 1
    state = {}
    for name, runner in runners.items():
        kf = runner.encode_keyframe(frame, tri)
        rec = runner.initial_state(frame)
        _, _, *rec = runner(frame, *kf, *rec)  # warm-up
        state[name] = (kf, rec)
    best = dict.fromkeys(runners, float("inf"))
    for _ in range(rounds):
        for name, runner in runners.items():
            kf, rec = state[name]
            t0 = time.perf_counter()
            _, _, *rec = runner(frame, *kf, *rec)
            best[name] = min(best[name], time.perf_counter() - t0)
            state[name] = (kf, rec)
    return best


#: the other engine must beat eager by this much to be chosen (two close timings do not flip the choice)
MARGIN = 0.9
#: a choice measured while the machine was this busy (1-minute load per core) is measured again later
BUSY_LOAD = 1.0
#: a cached choice older than this (days) is measured again
EXPIRES_DAYS = 30


def machine_load() -> float:
    """The 1-minute load average per core (0 where the system does not report one)."""
    try:
        return os.getloadavg()[0] / max(os.cpu_count() or 1, 1)
    except OSError:
        return 0.0


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
            load = machine_load()
            times = {k: v * 1000 for k, v in _probe(built, example_frame.to(device)).items()}
            best = min(times, key=lambda k: times[k])
            if best != "eager" and times[best] > MARGIN * times["eager"]:
                best = "eager"
            record = {"engine": best, "ms_per_frame": times, "load": round(load, 3), "measured": time.time()}
            with atomic_output(path) as tmp:
                tmp.write_text(json.dumps(record))

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
    if float(obj.get("load", 0.0)) >= BUSY_LOAD and machine_load() < BUSY_LOAD:
        raise ValueError("measured while the machine was busy; measuring again now that it is quiet")
    if time.time() - float(obj.get("measured", 0.0)) > EXPIRES_DAYS * 86400:
        raise ValueError(f"measured over {EXPIRES_DAYS} days ago; measuring again")
    return obj
