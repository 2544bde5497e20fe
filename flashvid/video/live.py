"""Live helpers with no GUI in them: a matter shared between threads, a set of outputs that can change while
frames flow, a sink whose clock starts when it is added, and a file played at its own pace. The studio's worker
(`flashvid.ui.worker`) and any other live front end use them."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator

import numpy as np

from flashvid.keyframe import Keyframe
from flashvid.matter import FlashMatter, Matte
from flashvid.video.sinks import Sink, SinkFrame
from flashvid.video.sources import Frame, VideoFile


class LockedMatter:
    """A `FlashMatter` shared between the worker (process) and the GUI (set_keyframe, swap)."""

    def __init__(self, matter: FlashMatter) -> None:
        self.matter = matter
        self.lock = threading.Lock()

    def process(self, image: np.ndarray) -> Matte:
        """`FlashMatter.process` under the lock (H x W x 3 uint8 RGB in)."""
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
    """Sinks that can be added and removed while frames flow; a failing sink is removed and reported.

    Frames are written under `writing`, so a sink taken out with `close_sink` is never being written while it
    is finished: its encoder has one user at a time (a recording stopped mid-frame cannot deadlock the encoder)."""

    def __init__(self) -> None:
        self.sinks: list[Sink] = []
        self.lock = threading.Lock()
        self.writing = threading.Lock()
        self.errors: list[tuple[Sink, BaseException]] = []

    def add(self, sink: Sink) -> None:
        with self.lock:
            self.sinks.append(sink)

    def remove(self, sink: Sink) -> None:
        with self.lock:
            if sink in self.sinks:
                self.sinks.remove(sink)

    def close_sink(self, sink: Sink, *, abort: bool = False) -> None:
        """Take `sink` out, wait for the frame being written (if any) to finish, then close (or abort) it on this
        thread: no frame reaches it after it is out, and none is in flight while it is finished."""
        with self.writing:
            self.remove(sink)
        if abort:
            sink.abort()
        else:
            sink.close()

    def write(self, out: SinkFrame) -> None:
        with self.writing:
            with self.lock:
                sinks = list(self.sinks)
            for s in sinks:
                try:
                    s.write(out)
                except Exception as exc:  # noqa: BLE001 - one broken output must not stop the stream; reported
                    self.remove(s)
                    self.errors.append((s, exc))


class RebasedSink(Sink):
    """Wraps a sink so the times it receives start at 0 (a recording started mid-stream gets its own clock)."""

    def __init__(self, sink: Sink) -> None:
        self.sink = sink
        self.t0: float | None = None

    def write(self, out: SinkFrame) -> None:
        self.t0 = out.time if self.t0 is None else self.t0
        self.sink.write(out.retimed(out.time - self.t0))

    def close(self) -> None:
        self.sink.close()

    def abort(self) -> None:
        self.sink.abort()


class ConstantRate(Sink):
    """Wraps a sink so it receives frames at a constant `rate` from time 0: each slot of 1/rate seconds gets the
    newest frame matted by then (repeated while the matter is slower than the source, one kept when it is faster).
    A live take then plays at the source's pace, its length is the time it was recording, and sound stays in step.
    """

    def __init__(self, sink: Sink, rate: float, on_start: Callable[[float], None] | None = None) -> None:
        """`on_start(time)`: called with the first frame's own time (the source's clock) before it is written (a
        microphone's sound is aligned to it)."""
        self.sink, self.period, self.on_start = sink, 1.0 / float(rate), on_start
        self.t0: float | None = None
        self.slot = 0

    def write(self, out: SinkFrame) -> None:
        if self.t0 is None and self.on_start is not None:
            self.on_start(out.time)
        self.t0 = out.time if self.t0 is None else self.t0
        t = out.time - self.t0
        while self.slot * self.period <= t + 0.5 * self.period:
            self.sink.write(out.retimed(self.slot * self.period, self.slot))
            self.slot += 1

    def close(self) -> None:
        self.sink.close()

    def abort(self) -> None:
        self.sink.abort()


class Paced:
    """Plays a video file at its own frame rate (as a camera would deliver it), from `start` seconds, looping.
    `position` is the time (s) of the newest frame handed out."""

    def __init__(self, video: VideoFile, loop: bool = True, start: float = 0.0) -> None:
        self.video, self.loop, self.start = video, loop, start
        self.width, self.height, self.fps = video.width, video.height, video.fps
        self.rate = getattr(video, "rate", video.fps)
        self.position = start

    def __iter__(self) -> Iterator[Frame]:
        index, t0 = 0, time.perf_counter()
        offset, start = 0.0, self.start
        while True:
            last = start
            for f in self.video.frames_from(start):
                due = t0 + offset + (f.time - start)
                wait = due - time.perf_counter()
                if wait > 0:
                    time.sleep(wait)
                self.position = f.time
                yield Frame(f.image, offset + f.time - start, index)
                index += 1
                last = f.time
            if not self.loop:
                return
            offset += last - start + 1.0 / max(self.video.fps, 1.0)
            start = 0.0
