"""Parameters and FLOPs of a model, per component (torch.utils.flop_counter)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode


class _KeyframePath(nn.Module):
    """Runs `encode_keyframe` as a forward pass, so the FLOP counter names the components it visits."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model: Any = model

    def forward(self, flash: torch.Tensor, trimap: torch.Tensor) -> tuple[torch.Tensor, ...]:
        return self.model.encode_keyframe(flash, trimap, flash)  # the flash image stands in for the no-flash one


@dataclass
class ComponentCost:
    name: str
    params: int
    frame_flops: int
    keyframe_flops: int


def model_costs(model: Any, height: int, width: int) -> list[ComponentCost]:
    """Parameters of each top-level component and the FLOPs it spends per frame and per keyframe at H x W.

    FLOPs in a component's other methods (e.g. the FCM's keyframe encoding) are reported on their own row.

    FLOPs count matrix products and convolutions (2 per multiply-add), as torch.utils.flop_counter does.
    """
    dev = next(model.parameters()).device
    frame = torch.rand(1, 3, height, width, device=dev)
    tri = torch.zeros(1, 3, height, width, device=dev)
    tri[:, 1] = 1.0
    prefix = type(model).__name__
    with torch.inference_mode():
        with FlopCounterMode(display=False, depth=3) as kf_counter:
            keyframe = _KeyframePath(model)(frame, tri)
        rec = model.initial_state(frame)
        with FlopCounterMode(display=False, depth=2) as fr_counter:
            model(frame, *keyframe, *rec)

    def per(counter: FlopCounterMode, key: str) -> int:
        return int(sum(counter.get_flop_counts().get(key, {}).values()))

    rows = [
        ComponentCost(
            name,
            sum(p.numel() for p in mod.parameters()),
            per(fr_counter, f"{prefix}.{name}"),
            per(kf_counter, f"_KeyframePath.model.{name}"),
        )
        for name, mod in model.named_children()
    ]
    total = ComponentCost(
        "total",
        sum(p.numel() for p in model.parameters()),
        int(fr_counter.get_total_flops()),
        int(kf_counter.get_total_flops()),
    )
    frame_rest = total.frame_flops - sum(r.frame_flops for r in rows)
    keyframe_rest = total.keyframe_flops - sum(r.keyframe_flops for r in rows)
    other = ComponentCost("(methods, not forward)", 0, frame_rest, keyframe_rest)
    return [*rows, other, total]


def format_costs(rows: list[ComponentCost], height: int, width: int) -> str:
    lines = [f"{'component':24s} {'params':>12s} {'GFLOPs/frame':>13s} {'GFLOPs/keyframe':>16s}   at {width}x{height}"]
    for r in rows:
        lines.append(f"{r.name:24s} {r.params:12,d} {r.frame_flops / 1e9:13.3f} {r.keyframe_flops / 1e9:16.3f}")
    return "\n".join(lines)
