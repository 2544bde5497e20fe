"""Inference backends behind one interface: eager PyTorch, torch.compile, TensorRT, ONNX Runtime.

``build_runner(model_name, engine="eager", precision="fp32", device="cpu")`` builds the model and returns a
runner with the model's per-frame signature (see `engines.base`).
"""

from __future__ import annotations

import os
from typing import Any

import torch
from flashvid.engines import auto, compiled, eager, onnx, tensorrt  # noqa: F401 - each registers its engine
from flashvid.engines.base import ENGINES, Engine, EngineError, Runner


def get_engine(name: str) -> Engine:
    if name not in ENGINES:
        raise EngineError(f"unknown engine {name!r}; choose one of {', '.join(sorted(ENGINES))}")
    return ENGINES[name]()


def build_runner(
    model_name: str,
    *,
    engine: str = "eager",
    precision: str = "fp32",
    device: str | torch.device = "cpu",
    checkpoint: str | os.PathLike[str] | None = None,
    example_frame: torch.Tensor | None = None,
    model: torch.nn.Module | None = None,
    **settings: Any,
) -> Runner:
    """Build `model_name` (or use `model`) and wrap it in `engine` for `device` and `precision`."""
    from flashvid.network import build_model

    dev = torch.device(device)
    eng = get_engine(engine)
    ok, why = eng.available(dev)
    if not ok:
        raise EngineError(f"engine {engine} cannot run here: {why}")
    net = model if model is not None else build_model(model_name, checkpoint, **settings)
    frame = example_frame if example_frame is not None else torch.rand(1, 3, 360, 640)
    return eng.build(net, frame, precision, dev)


__all__ = ["ENGINES", "Engine", "EngineError", "Runner", "build_runner", "get_engine"]
