"""The engine interface: an engine turns a built model into a runner for one device and precision.

A runner has the model's per-frame signature, ``runner(frame, *keyframe, *rec) -> (alpha, fgr, *rec)``, plus
``encode_keyframe(flash, trimap_onehot, noflash=None)`` and ``initial_state(frame)``; tensors are on the runner's
device in its precision. Engines register themselves by name in `ENGINES`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

import torch
from torch import Tensor, nn

from flashvid.errors import FlashvidError

PRECISIONS = {"fp32": torch.float32, "fp16": torch.float16, "bf16": torch.bfloat16}


class Runner(Protocol):
    engine_name: str
    device: torch.device
    dtype: torch.dtype

    def encode_keyframe(
        self, flash: Tensor, trimap_onehot: Tensor, noflash: Tensor | None = None
    ) -> tuple[Tensor, ...]: ...

    def initial_state(self, frame: Tensor) -> list[Tensor]: ...

    def __call__(self, frame: Tensor, *args: Tensor) -> tuple[Tensor, ...]: ...


class Engine(Protocol):
    """build(model, example_frame, precision, device) -> Runner; `available()` says whether it can run here."""

    name: str

    def available(self, device: torch.device) -> tuple[bool, str]: ...

    def build(self, model: nn.Module, example_frame: Tensor, precision: str, device: torch.device) -> Runner: ...


ENGINES: dict[str, Callable[[], Engine]] = {}


def register(name: str) -> Callable[[Callable[[], Engine]], Callable[[], Engine]]:
    def deco(factory: Callable[[], Engine]) -> Callable[[], Engine]:
        ENGINES[name] = factory
        return factory

    return deco


class EngineError(FlashvidError):
    """An engine cannot run here or cannot build this model."""


def check_precision(precision: str, device: torch.device) -> torch.dtype:
    if precision not in PRECISIONS:
        raise EngineError(f"precision must be one of {', '.join(PRECISIONS)}, got {precision!r}")
    if precision == "fp16" and device.type == "cpu":
        raise EngineError("fp16 runs on CUDA only; use --precision fp32 or bf16 on the CPU")
    return PRECISIONS[precision]
