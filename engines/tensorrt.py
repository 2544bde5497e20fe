"""TensorRT through torch-tensorrt (dynamo path): fp16 engines for the per-frame step, cached on disk.

Needs an NVIDIA GPU, the CUDA build of PyTorch and ``pip install 'flashvid[tensorrt]'`` (torch-tensorrt and
NVIDIA's TensorRT libraries). The engine is built for the example frame's shape (static shapes build the
fastest engines); a frame of another size builds (or loads) another engine. Built programs are serialised
with ``torch_tensorrt.save`` and cached (`engines.cache`) by weights hash, input shapes, precision, GPU name
and the TensorRT and torch versions; a damaged or mismatched entry is rebuilt.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

import torch
from flashvid.engines.base import EngineError, Runner, check_precision, register
from flashvid.engines.cache import cached, device_name, weights_hash
from flashvid.engines.eager import EagerRunner
from torch import Tensor, nn

log = logging.getLogger("flashvid.engines")
WORKSPACE = 2 << 30


class _Step(nn.Module):
    """The per-frame step with a fixed number of keyframe and state tensors (what TensorRT compiles)."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, frame: Tensor, *args: Tensor) -> tuple[Tensor, ...]:
        return tuple(self.model(frame, *args))


class TensorRTRunner(EagerRunner):
    engine_name = "tensorrt"

    def __init__(self, model: nn.Module, device: torch.device, dtype: torch.dtype, precision: str) -> None:
        super().__init__(model, device, dtype, channels_last=False)
        self.precision = precision
        self.programs: dict[tuple, nn.Module] = {}

    def program(self, inputs: tuple[Tensor, ...]) -> nn.Module:
        key = tuple(tuple(t.shape) for t in inputs)
        if key not in self.programs:
            self.programs[key] = build_program(self.model, inputs, self.precision, self.device)
        return self.programs[key]

    @torch.inference_mode()
    def __call__(self, frame: Tensor, *args: Tensor) -> tuple[Tensor, ...]:
        inputs = (self._cast(frame), *args)
        return tuple(self.program(inputs)(*inputs))


def build_program(model: nn.Module, inputs: tuple[Tensor, ...], precision: str, device: torch.device) -> nn.Module:
    """Compile (or load from the cache) a TensorRT program of the per-frame step for these input shapes."""
    import tensorrt
    import torch_tensorrt

    fields = {
        "engine": "tensorrt",
        "weights": weights_hash(model),
        "shapes": [list(t.shape) for t in inputs],
        "precision": precision,
        "gpu": device_name(device),
        "tensorrt": tensorrt.__version__,
        "torch_tensorrt": torch_tensorrt.__version__,
        "torch": torch.__version__,
    }
    step = _Step(model).eval()

    def build(path: Path) -> None:
        log.info(
            "building a TensorRT %s engine for %s on %s (first time only: minutes)",
            precision,
            tuple(inputs[0].shape),
            device_name(device),
        )
        t0 = time.perf_counter()
        exported = torch.export.export(step, inputs)
        trt = torch_tensorrt.dynamo.compile(
            exported,
            inputs=[torch_tensorrt.Input(shape=tuple(t.shape), dtype=t.dtype) for t in inputs],
            enabled_precisions={torch.float16} if precision == "fp16" else {torch.float32},
            workspace_size=WORKSPACE,
            min_block_size=1,
            truncate_double=True,
        )
        torch_tensorrt.save(trt, str(path), inputs=list(inputs))
        log.info("TensorRT engine built in %.0f s", time.perf_counter() - t0)

    def load(path: Path) -> nn.Module:
        return torch.export.load(str(path)).module().to(device)

    program, hit = cached(fields, ".ep", build, load)
    if hit:
        log.info("TensorRT engine loaded from the cache")
    return program


@register("tensorrt")
class TensorRTEngine:
    name = "tensorrt"

    def available(self, device: torch.device) -> tuple[bool, str]:
        if device.type != "cuda" or not torch.cuda.is_available():
            return False, "TensorRT needs an NVIDIA GPU (--device cuda)"
        try:
            import tensorrt  # noqa: F401
            import torch_tensorrt  # noqa: F401
        except ImportError as exc:
            return False, f"torch-tensorrt is not installed ({exc}); pip install 'flashvid[tensorrt]'"
        return True, "torch-tensorrt"

    def build(self, model: nn.Module, example_frame: Tensor, precision: str, device: torch.device) -> Runner:
        dtype = check_precision(precision, device)
        if precision == "bf16":
            raise EngineError("the tensorrt engine builds fp16 or fp32 engines; use --precision fp16")
        runner = TensorRTRunner(model, device, dtype, precision)
        frame = example_frame.to(device, dtype)
        tri = torch.zeros_like(frame)
        tri[:, 1] = 1
        kf = runner.encode_keyframe(frame, tri)
        runner.program((frame, *kf, *runner.initial_state(frame)))
        return runner
