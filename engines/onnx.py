"""ONNX export of a model's per-frame path, and an ONNX Runtime runner.

Inputs are named ``frame, k0..kN, r0i..rMi`` and outputs ``alpha, fgr, r0o..rMo``; the frame's height and
width (and so the recurrent state's) are dynamic, the keyframe tensors are fixed per keyframe.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import torch
from torch import nn

OPSET = 17


def io_names(num_keyframe: int, num_state: int) -> tuple[list[str], list[str]]:
    """(input names, output names) of the per-frame graph."""
    inputs = ["frame", *(f"k{i}" for i in range(num_keyframe)), *(f"r{i}i" for i in range(num_state))]
    outputs = ["alpha", "fgr", *(f"r{i}o" for i in range(num_state))]
    return inputs, outputs


def export_onnx(
    model: nn.Module,
    frame: torch.Tensor,
    keyframe: tuple[torch.Tensor, ...],
    path: str | os.PathLike[str],
    opset: int = OPSET,
) -> Path:
    """Export ``model(frame, *keyframe, *rec)`` to `path` with dynamic frame size.

    Args:
        model: a built model in eval mode (its `downsample_ratio`, if any, is baked into the graph).
        frame: an example frame [B,3,H,W] in 0..1; keyframe: its cached keyframe tensors.
    """
    rec = model.initial_state(frame)
    inputs, outputs = io_names(len(keyframe), len(rec))
    dynamic: dict[str, dict[int, str]] = {
        "frame": {2: "height", 3: "width"},
        "alpha": {2: "height", 3: "width"},
        "fgr": {2: "height", 3: "width"},
    }
    for i in range(len(rec)):
        dynamic[f"r{i}i"] = {2: f"r{i}h", 3: f"r{i}w"}
        dynamic[f"r{i}o"] = {2: f"r{i}h", 3: f"r{i}w"}
    for i in range(len(keyframe)):
        dynamic[f"k{i}"] = {d: f"k{i}d{d}" for d in range(1, keyframe[i].dim() - 1)}
    p = Path(path)
    tmp = p.with_name(f".{p.name}.partial")
    try:
        with warnings.catch_warnings(), torch.inference_mode(False), torch.no_grad():
            warnings.simplefilter("ignore")
            torch.onnx.export(
                model,
                (frame, *keyframe, *rec),
                str(tmp),
                input_names=inputs,
                output_names=outputs,
                dynamic_axes=dynamic,
                opset_version=opset,
                dynamo=False,
            )
        os.replace(tmp, p)
    finally:
        if tmp.exists():
            tmp.unlink()
    return p
