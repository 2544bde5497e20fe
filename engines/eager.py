"""Eager PyTorch: CPU or CUDA, fp32 / bf16 (and fp16 on CUDA), channels_last, inference mode."""

from __future__ import annotations

from typing import Any

import torch
from flashvid.engines.base import Runner, check_precision, register
from torch import Tensor, nn


class EagerRunner:
    """Calls the model directly under `torch.inference_mode`, inputs cast to the runner's device and dtype."""

    engine_name = "eager"

    def __init__(self, model: nn.Module, device: torch.device, dtype: torch.dtype, channels_last: bool) -> None:
        # a flashvid model: an nn.Module with encode_keyframe / initial_state besides forward
        self.model: Any = model.to(device=device, dtype=dtype).eval()
        if channels_last:
            self.model = self.model.to(memory_format=torch.channels_last)
        self.device, self.dtype = device, dtype

    def _cast(self, x: Tensor) -> Tensor:
        return x.to(self.device, self.dtype, non_blocking=True)

    @torch.inference_mode()
    def encode_keyframe(
        self, flash: Tensor, trimap_onehot: Tensor, noflash: Tensor | None = None
    ) -> tuple[Tensor, ...]:
        nf = None if noflash is None else self._cast(noflash)
        return tuple(self.model.encode_keyframe(self._cast(flash), self._cast(trimap_onehot), nf))

    def initial_state(self, frame: Tensor) -> list[Tensor]:
        return self.model.initial_state(self._cast(frame))

    @torch.inference_mode()
    def __call__(self, frame: Tensor, *args: Tensor) -> tuple[Tensor, ...]:
        return tuple(self.model(self._cast(frame), *args))


@register("eager")
class EagerEngine:
    name = "eager"

    def __init__(self, channels_last: bool | None = None) -> None:
        self.channels_last = channels_last

    def available(self, device: torch.device) -> tuple[bool, str]:
        return True, "PyTorch is always there"

    def build(self, model: nn.Module, example_frame: Tensor, precision: str, device: torch.device) -> Runner:
        dtype = check_precision(precision, device)
        cl = device.type == "cuda" if self.channels_last is None else self.channels_last
        return EagerRunner(model, device, dtype, cl)
