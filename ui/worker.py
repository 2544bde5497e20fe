"""The matting worker: `flashvid.video.pipeline.run` in live mode on a QThread (or, before a keyframe exists,
the raw source, so the user sees their camera at once).

The GUI never waits on it. It publishes only the newest frame (a `SinkFrame`) and tells the GUI with one queued
signal at a time, so a slow painter skips frames instead of queueing them; FPS, latency and drops arrive as a
signal twice a second. Settings change live: the compositor's fields are read per frame, keyframe changes go
through a lock around the matter, and outputs (recording, virtual camera, UDP) are sinks added to or removed
from a thread-safe set while the stream runs.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Iterable

import numpy as np
from PyQt6.QtCore import QThread, pyqtSignal

from flashvid.compose import Compositor
from flashvid.video.live import LockedMatter, SinkSet
from flashvid.video.pipeline import RunStats, run
from flashvid.video.sinks import Sink, SinkFrame
from flashvid.video.sources import Frame


class MattingWorker(QThread):
    """Runs the live pipeline (or shows the raw source while `matter` is None); `frameReady` (no payload: read
    `latest` / `latest_raw`), `stats(fps, latency_ms, dropped)` twice a second, `failed(message)`."""

    frameReady = pyqtSignal()
    stats = pyqtSignal(float, float, int)
    failed = pyqtSignal(str)

    def __init__(
        self, source: Iterable[Frame], matter: LockedMatter | None, compositor: Compositor, sinks: SinkSet
    ) -> None:
        super().__init__()
        self.source, self.matter, self.compositor, self.sinks = source, matter, compositor, sinks
        self.cancel = threading.Event()
        self.latest: SinkFrame | None = None
        self.latest_raw: np.ndarray | None = None
        self._pending = threading.Event()
        self._times: deque[float] = deque(maxlen=90)
        self.run_stats = RunStats()
        self.frames = 0
        #: asked on the worker's thread for every frame: make the cut-out there (the preview shows it)
        self.wants_cutout: Callable[[], bool] = lambda: False

    @property
    def dropped(self) -> int:
        return self.run_stats.dropped

    def _tick(self) -> None:
        self.frames += 1
        self._times.append(time.perf_counter())
        if not self._pending.is_set():
            self._pending.set()
            self.frameReady.emit()

    def _publish(self, out: SinkFrame) -> None:
        if self.wants_cutout():
            out.make_cutout()
        self.latest = out
        self._tick()

    def take(self) -> SinkFrame | None:
        """The newest frame (called by the GUI when it paints)."""
        self._pending.clear()
        return self.latest

    def take_raw(self) -> np.ndarray | None:
        self._pending.clear()
        return self.latest_raw

    def fps(self) -> float:
        """Frames per second over the last 3 s (at least two frames; 0.0 before), so a slow stream reads e.g.
        0.4 and not 0."""
        now = time.perf_counter()
        ts = [t for t in self._times if now - t < 3.0] or list(self._times)[-2:]
        if len(ts) < 2:
            return 0.0
        return (len(ts) - 1) / max(ts[-1] - ts[0], 1e-6)

    def run(self) -> None:
        from flashvid.video.sinks import PreviewSink

        if self.matter is None:
            self._run_raw()
            return

        class _Stats(Sink):
            def __init__(self, worker: MattingWorker) -> None:
                self.worker, self.last = worker, 0.0

            def write(self, out: SinkFrame) -> None:
                now = time.perf_counter()
                if now - self.last > 0.5:
                    self.last = now
                    recent = self.worker.run_stats.latencies_ms[-60:]
                    latency = float(np.median(recent)) if recent else 0.0
                    self.worker.stats.emit(self.worker.fps(), latency, self.worker.dropped)

        try:
            result = run(
                self.source,
                self.matter,
                self.compositor,
                [PreviewSink(self._publish), self.sinks, _Stats(self)],
                live=True,
                queue_size=1,
                cancel=self.cancel,
                stats=self.run_stats,
            )
            self.stats.emit(self.fps(), result.latency_ms, result.dropped)
        except Exception as exc:  # noqa: BLE001 - shown in the error banner, the app keeps running
            self.failed.emit(f"{type(exc).__name__}: {exc}")

    def _run_raw(self) -> None:
        try:
            last = 0.0
            for frame in self.source:
                if self.cancel.is_set():
                    return
                self.latest_raw = frame.image
                self._tick()
                now = time.perf_counter()
                if now - last > 0.5:
                    last = now
                    self.stats.emit(self.fps(), 0.0, 0)
        except Exception as exc:  # noqa: BLE001 - shown in the error banner, the app keeps running
            self.failed.emit(f"{type(exc).__name__}: {exc}")

    def stop(self) -> None:
        self.cancel.set()
        self.wait(5000)
