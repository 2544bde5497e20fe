"""torch.compile (inductor) with static shapes; on CUDA the per-frame step replays as a CUDA graph.

The first call compiles (tens of seconds on a CPU); `build` does it on the example frame and says so, so the
stall is visible rather than silent. With CUDA graphs the outputs live in the graph's memory pool and are
overwritten by the next replay, so they are cloned before they are returned (the recurrent state included).
"""

from __future__ import annotations

import logging
import time

import torch
from flashvid.engines.base import Runner, check_precision, register
from flashvid.engines.eager import EagerRunner
from torch import Tensor, nn

log = logging.getLogger("flashvid.engines")


class CompiledRunner(EagerRunner):
    engine_name = "compiled"

    def __init__(self, model: nn.Module, device: torch.device, dtype: torch.dtype, cuda_graphs: bool) -> None:
        super().__init__(model, device, dtype, channels_last=device.type == "cuda")
        self.cuda_graphs = cuda_graphs
        mode = "reduce-overhead" if cuda_graphs else "default"
        self.step = torch.compile(self.model, mode=mode, dynamic=False, fullgraph=False)

    @torch.inference_mode()
    def __call__(self, frame: Tensor, *args: Tensor) -> tuple[Tensor, ...]:
        if self.cuda_graphs:
            torch.compiler.cudagraph_mark_step_begin()
            return tuple(t.clone() for t in self.step(self._cast(frame), *args))
        return tuple(self.step(self._cast(frame), *args))


@register("compiled")
class CompiledEngine:
    name = "compiled"

    def available(self, device: torch.device) -> tuple[bool, str]:
        if device.type == "cpu":
            import shutil

            if shutil.which("gcc") is None and shutil.which("cc") is None and shutil.which("clang") is None:
                return False, "inductor on the CPU needs a C++ compiler (gcc / clang)"
        return True, "torch.compile (inductor)"

    def build(self, model: nn.Module, example_frame: Tensor, precision: str, device: torch.device) -> Runner:
        dtype = check_precision(precision, device)
        runner = CompiledRunner(model, device, dtype, cuda_graphs=device.type == "cuda")
        tri = torch.zeros_like(example_frame)
        tri[:, 1] = 1
        kf = runner.encode_keyframe(example_frame, tri)
        rec = runner.initial_state(example_frame)
        log.info(
            "compiling %s for %s (%s, %s): the first call may take a minute",
            getattr(model, "model_name", "model"),
            tuple(example_frame.shape),
            precision,
            device,
        )
        t0 = time.perf_counter()
        for _ in range(3 if runner.cuda_graphs else 1):  # CUDA graphs record on the second / third call
            _, _, *rec = runner(example_frame, *kf, *rec)
        log.info("compiled in %.1f s", time.perf_counter() - t0)
        return runner
