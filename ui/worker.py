"""The matting worker: `flashvid.video.pipeline.run` in live mode on a QThread.

The GUI never waits on it. It publishes only the newest frame (a `SinkFrame`) and tells the GUI with one queued
signal at a time, so a slow painter skips frames instead of queueing them; FPS, latency and drops arrive as a
signal twice a second. Settings change live: the compositor's fields are read per frame, keyframe changes go
through a lock around the matter, and outputs (recording, virtual camera, UDP) are sinks added to or removed
from a thread-safe set while the stream runs.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Iterator

from PyQt6.QtCore import QThread, pyqtSignal

from flashvid.compose import Compositor
from flashvid.keyframe import Keyframe
from flashvid.matter import FlashMatter, Matte
from flashvid.video.pipeline import run
from flashvid.video.sinks import Sink, SinkFrame
from flashvid.video.sources import Frame, VideoFile


class LockedMatter:
    """A `FlashMatter` shared between the worker (process) and the GUI (set_keyframe, swap)."""

    def __init__(self, matter: FlashMatter) -> None:
        self.matter = matter
        self.lock = threading.Lock()

    def process(self, image):
        with self.lock:
            return self.matter.process(image)

    def set_keyframe(self, kf: Keyframe) -> None:
        with self.lock:
            self.matter.set_keyframe(kf)

    def swap(self, matter: FlashMatter) -> None:
        """Replace the matter (another model, engine or precision) between two frames."""
        with self.lock:
            self.matter = matter


class SinkSet(Sink):
    """Sinks that can be added and removed while frames flow; a failing sink is removed and reported."""

    def __init__(self) -> None:
        self.sinks: list[Sink] = []
        self.lock = threading.Lock()
        self.errors: list[tuple[Sink, BaseException]] = []

    def add(self, sink: Sink) -> None:
        with self.lock:
            self.sinks.append(sink)

    def remove(self, sink: Sink) -> None:
        with self.lock:
            if sink in self.sinks:
                self.sinks.remove(sink)

    def write(self, out: SinkFrame) -> None:
        with self.lock:
            sinks = list(self.sinks)
        for s in sinks:
            try:
                s.write(out)
            except Exception as exc:  # noqa: BLE001 - one broken output must not stop the stream; reported
                self.remove(s)
                self.errors.append((s, exc))


class Paced:
    """Plays a video file at its own frame rate (as a camera would deliver it), looping."""

    def __init__(self, video: VideoFile, loop: bool = True) -> None:
        self.video, self.loop = video, loop
        self.width, self.height, self.fps = video.width, video.height, video.fps

    def __iter__(self) -> Iterator[Frame]:
        index, t0 = 0, time.perf_counter()
        offset = 0.0
        while True:
            last = 0.0
            for f in self.video:
                due = t0 + offset + f.time
                wait = due - time.perf_counter()
                if wait > 0:
                    time.sleep(wait)
                yield Frame(f.image, offset + f.time, index)
                index += 1
                last = f.time
            if not self.loop:
                return
            offset += last + 1.0 / max(self.video.fps, 1.0)


class MattingWorker(QThread):
    """Runs the live pipeline; `frameReady` (no payload: read `latest`), `stats(fps, latency_ms, dropped)`,
    `failed(message)`."""

    frameReady = pyqtSignal()
    stats = pyqtSignal(float, float, int)
    failed = pyqtSignal(str)

    def __init__(self, source: Iterable[Frame], matter: LockedMatter, compositor: Compositor, sinks: SinkSet) -> None:
        super().__init__()
        self.source, self.matter, self.compositor, self.sinks = source, matter, compositor, sinks
        self.cancel = threading.Event()
        self.latest: SinkFrame | None = None
        self.latest_matte: Matte | None = None
        self._pending = threading.Event()
        self._window: list[float] = []
        self.frames = 0
        self.dropped = 0

    def _publish(self, out: SinkFrame) -> None:
        self.latest = out
        self.frames += 1
        now = time.perf_counter()
        self._window = [t for t in self._window if now - t < 1.0] + [now]
        if not self._pending.is_set():
            self._pending.set()
            self.frameReady.emit()

    def take(self) -> SinkFrame | None:
        """The newest frame (called by the GUI when it paints)."""
        self._pending.clear()
        return self.latest

    def fps(self) -> float:
        return max(len(self._window) - 1, 0) / max(self._window[-1] - self._window[0], 1e-6) if self._window else 0.0

    def run(self) -> None:
        from flashvid.video.sinks import PreviewSink

        class _Stats(Sink):
            def __init__(self, worker: MattingWorker) -> None:
                self.worker, self.last = worker, 0.0

            def write(self, out: SinkFrame) -> None:
                now = time.perf_counter()
                if now - self.last > 0.5:
                    self.last = now
                    self.worker.stats.emit(self.worker.fps(), 0.0, self.worker.dropped)

        try:
            result = run(
                self.source,
                self.matter,
                self.compositor,
                [PreviewSink(self._publish), self.sinks, _Stats(self)],
                live=True,
                queue_size=1,
                cancel=self.cancel,
            )
            self.dropped = result.dropped
            self.stats.emit(result.fps, result.latency_ms, result.dropped)
        except Exception as exc:  # noqa: BLE001 - shown in the status bar, the app keeps running
            self.failed.emit(f"{type(exc).__name__}: {exc}")

    def stop(self) -> None:
        self.cancel.set()
        self.wait(5000)
