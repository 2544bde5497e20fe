"""`matte_many`: a batch of videos on Ray (a local Ray on this machine by default, or an existing cluster).

One Ray task per video: a video's frames go in order through one recurrent matter, so a video is the unit of
work. Each task runs the same `flashvid.matte_video` as `flashvid export` (hidden temporary, renamed when
complete), so each output appears whole or not at all. Ray retries a task whose worker died (`retries`); a video
that fails on its own (a damaged file) is reported and the others go on. The driver alone writes the ledger
(`flashvid.batch.ledger`) after each finished video, so a batch stopped at any moment can be run again: finished
outputs are skipped, the rest redone.

Ray is the ``[cluster]`` extra, imported only here, when a batch runs.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from flashvid import defaults
from flashvid.batch.jobs import Job
from flashvid.batch.ledger import Ledger, job_signature, output_size
from flashvid.errors import FlashvidError
from flashvid.spec import CompositorSpec, MatterSpec

#: how often a worker reports frames to the driver (seconds)
REPORT_EVERY_S = 0.25


@dataclass(frozen=True)
class BatchSettings:
    """The settings every job of a batch shares (a job adds its own keyframe, background and format): the
    matter's, the compositor's (its background is unused: each job has its own), the trimap band, the sound."""

    matter: MatterSpec = field(default_factory=MatterSpec)
    compositor: CompositorSpec = field(default_factory=lambda: CompositorSpec(None))
    band: int | None = defaults.BAND
    audio: bool = True

    def signature(self) -> dict[str, Any]:
        """What decides the output, for the ledger (the checkpoint by size and mtime, not only by name)."""
        from flashvid.batch.ledger import file_signature

        d = asdict(self)
        if self.matter.checkpoint:
            d["matter"]["checkpoint"] = file_signature(self.matter.checkpoint)
        return d


@dataclass
class JobResult:
    """What became of one job: ``done``, ``skipped`` (finished by an earlier run) or ``failed`` (with `reason`)."""

    job: Job
    status: str
    reason: str = ""
    frames: int = 0
    seconds: float = 0.0
    worker: str = ""
    attempts: int = 0

    @property
    def fps(self) -> float:
        return self.frames / self.seconds if self.seconds > 0 else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "job": self.job.as_dict(), "fps": round(self.fps, 3)}


@dataclass
class BatchReport:
    """A batch's results in the jobs' order, its wall time and the Ray it ran on."""

    results: list[JobResult]
    elapsed_s: float
    cluster: str = ""

    def count(self, status: str) -> int:
        return sum(r.status == status for r in self.results)

    @property
    def frames(self) -> int:
        return sum(r.frames for r in self.results if r.status == "done")

    def per_worker(self) -> dict[str, tuple[int, float]]:
        """Frames and matting seconds per worker (``host:pid``) over the videos it finished."""
        out: dict[str, tuple[int, float]] = {}
        for r in self.results:
            if r.status == "done":
                f, s = out.get(r.worker, (0, 0.0))
                out[r.worker] = (f + r.frames, s + r.seconds)
        return out

    def table(self) -> str:
        """The summary table: one row per video, then per worker, then overall."""
        rows = [("status", "video", "frames", "s", "FPS", "worker", "reason")]
        for r in self.results:
            rows.append(
                (
                    r.status,
                    Path(r.job.input).name,
                    str(r.frames) if r.status == "done" else "",
                    f"{r.seconds:.1f}" if r.status == "done" else "",
                    f"{r.fps:.1f}" if r.status == "done" else "",
                    r.worker,
                    r.reason,
                )
            )
        widths = [max(len(row[i]) for row in rows) for i in range(6)]
        lines = ["  ".join(c.ljust(w) for c, w in zip(row[:6], widths, strict=True)) + "  " + row[6] for row in rows]
        for worker, (f, s) in sorted(self.per_worker().items()):
            lines.append(f"worker {worker}: {f} frames in {s:.1f} s, {f / s if s else 0:.1f} FPS")
        overall = self.frames / self.elapsed_s if self.elapsed_s > 0 else 0.0
        lines.append(
            f"{self.count('done')} done, {self.count('skipped')} skipped, {self.count('failed')} failed; "
            f"{self.frames} frames in {self.elapsed_s:.1f} s, {overall:.1f} FPS overall"
        )
        return "\n".join(line.rstrip() for line in lines)

    def as_dict(self) -> dict[str, Any]:
        return {
            "elapsed_s": round(self.elapsed_s, 3),
            "cluster": self.cluster,
            "done": self.count("done"),
            "skipped": self.count("skipped"),
            "failed": self.count("failed"),
            "frames": self.frames,
            "fps_overall": round(self.frames / self.elapsed_s, 3) if self.elapsed_s > 0 else 0.0,
            "workers": {w: {"frames": f, "seconds": round(s, 3)} for w, (f, s) in self.per_worker().items()},
            "results": [r.as_dict() for r in self.results],
        }


# ----------------------------------------------------------------------------------------------- on a worker


class Tracker:
    """A Ray actor: the frames each job has done, as its workers report them (the driver polls it)."""

    def __init__(self) -> None:
        self.state: dict[int, tuple[int, int, str, int]] = {}

    def update(self, index: int, done: int, total: int, worker: str, started: bool = False) -> None:
        attempts = self.state.get(index, (0, 0, "", 0))[3] + (1 if started else 0)
        self.state[index] = (done, total, worker, attempts)

    def snapshot(self) -> dict[int, tuple[int, int, str, int]]:
        return dict(self.state)


def matte_job(job: Job, settings: BatchSettings, overwrite: bool, index: int, tracker: Any) -> JobResult:
    """Run one job on this process (a Ray worker) through `flashvid.matte_video`; a user-level failure (a bad
    file) is returned as a failed result, anything else raises (Ray reports it)."""
    import torch

    from flashvid.api import matte_video

    try:
        import ray

        cpus = ray.get_runtime_context().get_assigned_resources().get("CPU", 0)
        if cpus >= 1:
            torch.set_num_threads(int(cpus))
    except (ImportError, RuntimeError):  # run outside Ray (tests, one machine without the extra)
        pass
    worker = f"{socket.gethostname()}:{os.getpid()}"
    tracker.update.remote(index, 0, 0, worker, True)
    last = [0.0]

    def progress(done: int, total: int) -> None:
        now = time.perf_counter()
        if now - last[0] >= REPORT_EVERY_S or done == total:
            last[0] = now
            tracker.update.remote(index, done, total, worker)

    t0 = time.perf_counter()
    try:
        stats = matte_video(
            job.input,
            job.out,
            keyframe=job.keyframe,
            background=job.background,
            format=job.format,
            matter=settings.matter,
            band=settings.band,
            audio=settings.audio,
            **settings.compositor.settings(),
            overwrite=overwrite,
            progress=progress,
        )
    except FlashvidError as exc:
        return JobResult(job, "failed", str(exc), worker=worker, seconds=time.perf_counter() - t0)
    return JobResult(job, "done", frames=stats.frames_written, seconds=stats.elapsed_s, worker=worker)


# ----------------------------------------------------------------------------------------------- the driver


def import_ray() -> Any:
    try:
        import ray
    except ImportError:
        raise FlashvidError(
            "flashvid batch runs on Ray, which is not installed; pip install 'flashvid[cluster]'"
        ) from None
    return ray


def _frame_count(path: str) -> int:
    from flashvid.video.sources import VideoFile

    try:
        return len(VideoFile(path))
    except FlashvidError:
        return 0


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    last = next((line for line in reversed(text) if line.strip()), type(exc).__name__)
    return f"{type(exc).__name__}: {last.strip()}"[:300]


def matte_many(
    jobs: Sequence[Job],
    out_dir: str | os.PathLike[str],
    settings: BatchSettings | None = None,
    *,
    address: str | None = None,
    workers: int | None = None,
    cpus_per_worker: float = 1.0,
    gpus_per_worker: float | None = None,
    overwrite: bool = False,
    retries: int = 2,
    progress: bool = True,
    on_update: Callable[[dict[int, tuple[int, int, str, int]]], None] | None = None,
    report: str | os.PathLike[str] | None = None,
) -> BatchReport:
    """Matte every job on Ray; returns the `BatchReport` (also written as JSON to `report`).

    Args:
        jobs: from `jobs_from_inputs` / `jobs_from_manifest` (checked there).
        out_dir: where the ledger lives (`flashvid.batch.ledger`); the jobs' outputs are usually in it.
        settings: the matter, compositor and audio settings all jobs share.
        address: None starts a local Ray on this machine (`workers` processes); ``auto`` or ``HOST:PORT`` joins
            a running cluster (``ray start --head`` there), whose resources decide how many run at once.
        workers: local Ray only: how many videos at once (default: this machine's CPUs / `cpus_per_worker`, or
            one per GPU where the matter runs on CUDA).
        cpus_per_worker: CPU threads per video (PyTorch's intra-op threads).
        gpus_per_worker: GPUs per video (default 1 when the matter's device is CUDA, else 0).
        overwrite: replace outputs that exist and were not made by a batch (a batch's own earlier outputs with
            other settings are always redone); without it such a job fails, untouched.
        retries: how many times Ray reruns a video whose worker process died.
        progress: show progress bars (videos, frames) on stderr.
        on_update: called with the trackers' state ``{job index: (frames done, total, worker, attempts)}`` each
            time the driver polls (about 4 times a second).
    """
    ray = import_ray()
    settings = settings or BatchSettings()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    for job in jobs:
        Path(job.out).parent.mkdir(parents=True, exist_ok=True)
    from flashvid.keyframe import Keyframe

    for kf in sorted({j.keyframe for j in jobs if j.keyframe != "auto"}):
        Keyframe.load(kf)  # a bad keyframe is one line before any work, not one failure per video
    ledger = Ledger(out)
    sig_settings = settings.signature()
    signatures = [job_signature(j, sig_settings) for j in jobs]
    results: dict[int, JobResult] = {}
    todo: list[tuple[int, bool]] = []
    for i, (job, sig) in enumerate(zip(jobs, signatures, strict=True)):
        exists = output_size(job.out) is not None
        if exists and ledger.finished(job, sig):
            results[i] = JobResult(job, "skipped", "finished by an earlier run")
        elif exists and not ledger.made_by_batch(job) and not overwrite:
            results[i] = JobResult(job, "failed", f"{job.out} exists and was not made by a batch; pass --overwrite")
        else:
            todo.append((i, exists))
    cuda = settings.matter.device.startswith("cuda")
    gpus = gpus_per_worker if gpus_per_worker is not None else (1.0 if cuda else 0.0)
    t0 = time.perf_counter()
    started_here = not ray.is_initialized()
    if started_here:
        # Ray logs that it enabled token authentication for the local cluster: that is what we want, quietly
        import logging

        logging.getLogger("ray._private.authentication.authentication_token_setup").setLevel(logging.ERROR)
        try:
            if address is None:
                n = workers or max(1, int((os.cpu_count() or 1) // max(cpus_per_worker, 1)))
                ray.init(
                    num_cpus=int(n * max(cpus_per_worker, 1)),
                    include_dashboard=False,
                    log_to_driver=False,
                    logging_level="ERROR",
                    configure_logging=False,
                )
            else:
                ray.init(address=address, log_to_driver=False, logging_level="ERROR", configure_logging=False)
        except (ConnectionError, RuntimeError, ValueError) as exc:
            raise FlashvidError(
                f"Ray at {address or 'this machine'}: cannot start or join ({_one_line(exc)}); "
                "check `ray status` there, or leave out --address for a local Ray"
            ) from exc
    cluster = f"{ray.get_runtime_context().gcs_address}" if started_here or address else ""
    totals = {i: _frame_count(jobs[i].input) for i, _ in todo}
    bars = _Bars(len(jobs), sum(totals.values()), len(results), enabled=progress)
    try:
        tracker = ray.remote(num_cpus=0)(Tracker).remote()
        task = ray.remote(matte_job).options(
            num_cpus=cpus_per_worker, num_gpus=gpus, max_retries=retries, retry_exceptions=False
        )
        pending = {task.remote(jobs[i], settings, exists, i, tracker): i for i, exists in todo}
        while pending:
            ready, _ = ray.wait(list(pending), num_returns=1, timeout=REPORT_EVERY_S)
            state = ray.get(tracker.snapshot.remote())
            if on_update is not None:
                on_update(state)
            for ref in ready:
                i = pending.pop(ref)
                try:
                    result: JobResult = ray.get(ref)
                except ray.exceptions.RayError as exc:
                    result = JobResult(jobs[i], "failed", _one_line(exc))
                result.attempts = state.get(i, (0, 0, "", 1))[3] or 1
                results[i] = result
                if result.status == "done":
                    ledger.record(
                        jobs[i],
                        signatures[i],
                        frames=result.frames,
                        seconds=round(result.seconds, 3),
                        worker=result.worker,
                        finished=time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                    )
                bars.finished(result)
            bars.frames(sum(done for j, (done, *_rest) in state.items() if j in pending) + bars.frames_finished)
    except KeyboardInterrupt:
        for ref in list(pending):
            ray.cancel(ref, force=True)
        raise
    finally:
        bars.close()
        if started_here:
            ray.shutdown()
    rep = BatchReport([results[i] for i in range(len(jobs))], time.perf_counter() - t0, cluster)
    if report is not None:
        write_report(rep, report)
    return rep


def write_report(rep: BatchReport, path: str | os.PathLike[str]) -> None:
    """The report as JSON at `path` (written whole: a temporary file, then renamed)."""
    import json

    from flashvid.imageio import atomic_output

    with atomic_output(path) as tmp:
        tmp.write_text(json.dumps(rep.as_dict(), indent=1))


class _Bars:
    """Two tqdm bars on stderr: videos finished, frames matted."""

    def __init__(self, videos: int, frames: int, already: int, *, enabled: bool) -> None:
        from tqdm import tqdm

        self.frames_finished = 0
        self.videos = tqdm(total=videos, initial=already, unit="video", desc="videos", position=0, disable=not enabled)
        self.frame_bar = tqdm(total=frames or None, unit="frame", desc="frames", position=1, disable=not enabled)

    def finished(self, result: JobResult) -> None:
        self.videos.update(1)
        if result.status == "done":
            self.frames_finished += result.frames
        else:
            named = result.job.input in result.reason
            self.videos.write(f"flashvid: {'' if named else result.job.input + ': '}{result.reason}")

    def frames(self, n: int) -> None:
        self.frame_bar.update(max(0, n - self.frame_bar.n))

    def close(self) -> None:
        self.frame_bar.close()
        self.videos.close()


__all__ = ["BatchReport", "BatchSettings", "JobResult", "matte_many"]
