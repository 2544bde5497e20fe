"""`flashvid bench`: per-frame latency of a model under an engine, precision and resolution.

Timings: wall clock after a device synchronisation on the CPU, CUDA events on the GPU; medians and p90 over
the timed frames after warm-up. Peak host memory is the process's resident high-water mark; peak GPU memory
is PyTorch's allocator peak.
"""

from __future__ import annotations

import os
import resource
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from flashvid import defaults
from flashvid.imageio import dump_json
from flashvid.spec import MatterSpec


@dataclass
class BenchResult:
    model: str
    engine: str
    precision: str
    device: str
    width: int
    height: int
    frames: int
    median_ms: float
    p90_ms: float
    fps: float
    keyframe_ms: float
    peak_host_mb: float
    peak_gpu_mb: float
    threads: int


def _dtype(precision: str) -> torch.dtype:
    return {"fp32": torch.float32, "fp16": torch.float16, "bf16": torch.bfloat16}[precision]


def resolve_weights(
    model_name: str, checkpoint: str | os.PathLike[str] | None, random_weights: bool
) -> str | os.PathLike[str] | None:
    """`checkpoint`, else the shipped weights, else None when `random_weights`; a model with neither is an error."""
    from flashvid.errors import CheckpointError
    from flashvid.matter import default_checkpoint

    if checkpoint is not None or random_weights:
        return checkpoint
    shipped = default_checkpoint(model_name)
    if shipped is None:
        raise CheckpointError(f"{model_name} ships no weights; give --checkpoint PATH or --random-weights (speed only)")
    return shipped


def bench_one(
    model_name: str,
    width: int,
    height: int,
    *,
    engine: str = defaults.ENGINE,
    precision: str = defaults.PRECISION,
    device: str = defaults.DEVICE,
    frames: int = 50,
    warmup: int = 5,
    checkpoint: str | os.PathLike[str] | None = None,
    random_weights: bool = False,
    subject_check: bool | None = None,
) -> BenchResult:
    """`bench_spec` of the `MatterSpec` these arguments describe."""
    spec = MatterSpec(
        model_name,
        os.fspath(checkpoint) if checkpoint is not None else None,
        engine,
        device,
        precision,
        subject_check=subject_check,
        random_weights=random_weights,
    )
    return bench_spec(spec, width, height, frames=frames, warmup=warmup)


def bench_spec(spec: MatterSpec, width: int, height: int, *, frames: int = 50, warmup: int = 5) -> BenchResult:
    """Time `frames` per-frame calls (after `warmup`) of one model / engine / precision / size as `spec` says;
    the shipped weights (or its checkpoint) unless it asks for random weights (speed does not depend on the
    weights' values); with the subject check as `FlashMatter` runs it."""
    from flashvid.engines import build_runner

    model_name, engine, precision, device = spec.model, spec.engine, spec.precision, spec.device
    checkpoint = resolve_weights(model_name, spec.checkpoint, spec.random_weights)
    dev = torch.device(device)
    dtype = _dtype(precision)
    g = torch.Generator().manual_seed(0)
    frame = torch.rand(1, 3, height, width, generator=g).to(dev, dtype)
    tri = torch.zeros(1, 3, height, width)
    tri[:, 1] = 1.0
    settings = spec.model_settings()
    gate = "subject_gate" in settings
    runner = build_runner(
        model_name,
        engine=engine,
        precision=precision,
        device=dev,
        checkpoint=checkpoint,
        example_frame=frame,
        **settings,
    )
    cuda = dev.type == "cuda"
    if cuda:
        torch.cuda.reset_peak_memory_stats(dev)
    t0 = time.perf_counter()
    keyframe = runner.encode_keyframe(frame, tri.to(dev, dtype), frame if gate else None)
    if cuda:
        torch.cuda.synchronize(dev)
    keyframe_ms = (time.perf_counter() - t0) * 1000
    rec = runner.initial_state(frame)
    times: list[float] = []
    for i in range(warmup + frames):
        if cuda:
            start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            start.record()
            _, _, *rec = runner(frame, *keyframe, *rec)
            end.record()
            end.synchronize()
            dt = start.elapsed_time(end)
        else:
            t = time.perf_counter()
            _, _, *rec = runner(frame, *keyframe, *rec)
            dt = (time.perf_counter() - t) * 1000
        if i >= warmup:
            times.append(dt)
    arr = np.array(times)
    med = float(np.median(arr))
    return BenchResult(
        model=model_name,
        engine=runner.engine_name,
        precision=precision,
        device=str(dev),
        width=width,
        height=height,
        frames=frames,
        median_ms=med,
        p90_ms=float(np.percentile(arr, 90)),
        fps=1000.0 / med,
        keyframe_ms=keyframe_ms,
        peak_host_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
        peak_gpu_mb=torch.cuda.max_memory_allocated(dev) / 2**20 if cuda else 0.0,
        threads=torch.get_num_threads(),
    )


def format_table(results: list[BenchResult]) -> str:
    head = (
        f"{'model':13s} {'engine':9s} {'prec':5s} {'device':6s} {'size':>10s} {'median ms':>10s} {'p90 ms':>8s} "
        f"{'FPS':>8s} {'keyframe ms':>12s} {'host MB':>8s} {'GPU MB':>7s}"
    )
    lines = [head]
    for r in results:
        lines.append(
            f"{r.model:13s} {r.engine:9s} {r.precision:5s} {r.device:6s} {f'{r.width}x{r.height}':>10s} "
            f"{r.median_ms:10.2f} {r.p90_ms:8.2f} {r.fps:8.1f} {r.keyframe_ms:12.1f} {r.peak_host_mb:8.0f} "
            f"{r.peak_gpu_mb:7.0f}"
        )
    return "\n".join(lines)


def write_json(results: list[BenchResult], path: str | os.PathLike[str]) -> None:
    meta = {
        "torch": torch.__version__,
        "cpu_count": os.cpu_count(),
        "threads": torch.get_num_threads(),
        "cuda": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
    }
    dump_json({"meta": meta, "results": [asdict(r) for r in results]}, path)


def bench_file_pipeline(
    model_name: str,
    width: int,
    height: int,
    *,
    engine: str = defaults.ENGINE,
    precision: str = defaults.PRECISION,
    device: str = defaults.DEVICE,
    frames: int = 60,
    checkpoint: str | os.PathLike[str] | None = None,
    random_weights: bool = False,
    overlap: bool = True,
) -> dict[str, float]:
    """End-to-end file export FPS: decode (PyAV) -> matte -> composite (blurred background) -> encode (H.264),
    through `matte_video` with its stages overlapped (`overlap`) or one after another.

    A generated clip of `frames` frames is written to a temporary MP4 first (not timed).
    """

    from flashvid.api import matte_video
    from flashvid.demo import generate_clip
    from flashvid.keyframe import make_keyframe
    from flashvid.matter import FlashMatter
    from flashvid.video.sinks import SinkFrame, VideoSink

    clip = generate_clip(width, height, frames=frames, fps=30, seed=1)
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "in.mp4"
        with VideoSink(src, "mp4", width, height, 30) as sink:
            for i, f in enumerate(clip.frames):
                sink.write(SinkFrame(f, np.dstack([f, np.full(f.shape[:2], 255, np.uint8)]), f[..., 0], i / 30, i))
        matter = FlashMatter(
            model_name, checkpoint, engine=engine, device=device, precision=precision, random_weights=random_weights
        )
        stats = matte_video(
            src,
            Path(tmp) / "out.mp4",
            keyframe=make_keyframe(clip.flash, clip.noflash, accept_weak_flash=True),
            background="blur:20",
            matter=matter,
            overlap=overlap,
        )
    return {"frames": stats.frames_written, "seconds": stats.elapsed_s, "fps": stats.fps}


def _ort_session(model: Any, frame: torch.Tensor, keyframe: tuple[torch.Tensor, ...], folder: str) -> Any:
    """`model`'s per-frame graph exported to ONNX (the onnx engine's export) and wrapped as a callable
    ``f(frame, *keyframe, *rec)`` running in ONNX Runtime on the CPU with this process's thread count."""
    import onnxruntime as ort

    from flashvid.engines.onnx import export_onnx, io_names, session_options

    path = Path(folder) / f"{type(model).__name__}.onnx"
    export_onnx(model, frame, keyframe, path)
    # no busy-waiting after a run: interleaved with other runs, spinning threads would slow the next one down
    opts = session_options(spinning=False)
    session = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
    inputs, outputs = io_names(len(keyframe), len(model.initial_state(frame)))

    def run(*args: torch.Tensor) -> Any:
        return session.run(outputs, {n: t.numpy() for n, t in zip(inputs, args, strict=True)})

    return run


def bench_rvm_side_by_side(
    width: int = 1280,
    height: int = 720,
    *,
    frames: int = 30,
    warmup: int = 5,
    compiled: bool = True,
    onnx: bool = True,
    subject_check: bool | None = None,
) -> list[dict[str, float | str]]:
    """Median per-frame latency of flashvid-rt and of RobustVideoMatting-MobileNetV3 (`flashvid.bench_rvm`, RVM's
    portrait downsample ratio for the size) at one size, side by side in one run on this device (CPU): eager,
    with `compiled` torch.compile, and with `onnx` ONNX Runtime (both exported the same way), each engine's two
    models interleaved frame by frame, so each model's best CPU engine can be compared with the other's. Random
    weights for both: speed does not depend on them. flashvid-rt with its subject check per `subject_check`."""
    from flashvid.bench_rvm import RVMMobileNetV3
    from flashvid.network import build_model, subject_check_settings

    ratio = 0.375 if max(width, height) <= 1280 else 0.25
    g = torch.Generator().manual_seed(0)
    frame = torch.rand(1, 3, height, width, generator=g)
    tri = torch.zeros(1, 3, height, width)
    tri[:, 1] = 1.0
    gate = subject_check_settings(defaults.MODEL, subject_check)
    ours = build_model(defaults.MODEL, **gate).eval()
    rvm = RVMMobileNetV3(ratio).eval()
    with torch.inference_mode():
        kf = ours.encode_keyframe(frame, tri, frame if gate else None)  # the check runs as in the app
        rec_ours, rec_rvm = ours.initial_state(frame), rvm.initial_state(frame)
        variants: list[tuple[str, Any, Any]] = [("eager", ours, rvm)]
        if compiled:
            variants.append(("compiled", torch.compile(ours, dynamic=False), torch.compile(rvm, dynamic=False)))
        if onnx:
            ours.downsample_ratio = ours.ratio_for(height, width)  # baked into the graph, as the onnx engine does
            with tempfile.TemporaryDirectory() as tmp:
                variants.append(("onnx", _ort_session(ours, frame, tuple(kf), tmp), _ort_session(rvm, frame, (), tmp)))
        times: dict[str, list[float]] = {}
        # engine by engine, each pair interleaved: a pair shares the machine's state, and no runtime times the
        # other's thread pool winding down (PyTorch's OpenMP threads busy-wait after an eager or compiled run,
        # which slowed the ONNX Runtime run after it by 1-3 ms, more of the shorter model's time than of RVM's)
        for kind, m_ours, m_rvm in variants:
            runs: list[tuple[str, Any]] = [
                (f"flashvid-rt {kind}", lambda m=m_ours: m(frame, *kf, *rec_ours)),
                (f"RVM-MobileNetV3 {kind} (ratio {ratio})", lambda m=m_rvm: m(frame, *rec_rvm)),
            ]
            for _ in range(warmup):
                for _, fn in runs:
                    fn()
            for name, _ in runs:
                times[name] = []
            for _ in range(frames):
                for name, fn in runs:
                    t0 = time.perf_counter()
                    fn()
                    times[name].append((time.perf_counter() - t0) * 1000)
    return [{"model": name, "size": f"{width}x{height}", "median_ms": float(np.median(t))} for name, t in times.items()]


def rvm_summary(rows: list[dict[str, float | str]], width: int, height: int) -> str:
    """One line from `bench_rvm_side_by_side`'s rows: flashvid-rt's latency over RVM's, engine by engine, and best
    engine against best engine."""
    ours = {str(r["model"]).split()[1]: float(r["median_ms"]) for r in rows if "flashvid" in str(r["model"])}
    rvm = {str(r["model"]).split()[1]: float(r["median_ms"]) for r in rows if "RVM" in str(r["model"])}
    same = ", ".join(f"{k} {ours[k] / rvm[k]:.2f}x" for k in ours if k in rvm)
    return (
        f"{width}x{height}  flashvid-rt / RVM latency: {same}; best engine against best engine "
        f"{min(ours.values()) / min(rvm.values()):.2f}x"
    )
