"""`auto`: the fastest engine available here.

On CUDA: TensorRT when torch-tensorrt imports, else torch.compile with CUDA graphs. On the CPU: a short measured
probe of eager PyTorch against ONNX Runtime (when installed) on the example frame; the faster one wins. What was
picked, and why, is logged.
"""

from __future__ import annotations

import logging
import time

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
        candidates: dict[str, Runner] = {"eager": ENGINES["eager"]().build(model, example_frame, precision, device)}
        onnx = ENGINES["onnx"]()
        if precision == "fp32" and onnx.available(device)[0]:
            import copy

            candidates["onnx"] = onnx.build(copy.deepcopy(model), example_frame, precision, device)
        times = {name: _probe(r, example_frame.to(device)) for name, r in candidates.items()}
        best = min(times, key=times.get)
        log.info(
            "engine auto: %s (%s per frame at %s)",
            best,
            ", ".join(f"{k} {v * 1000:.1f} ms" for k, v in times.items()),
            tuple(example_frame.shape),
        )
        return candidates[best]
