"""One pipeline for the CLI and the app: reader thread -> bounded queue -> matter -> writer thread (compositor ->
sinks).

Decoding (the reader thread), matting (the calling thread, on the model's device) and compositing plus encoding
(the writer thread: every sink is written there, one owner per encoder) overlap, so an export runs at the speed of
its slowest stage rather than the sum of all three, and a live stream's matting never waits on the compositor.
Each frame is uploaded once (uint8) and comes back as uint8: the composite at once, the RGBA cut-out only when an
output or the preview reads it (`SinkFrame`).

File mode (``live=False``) never drops a frame and keeps every timestamp. Live mode keeps only the newest
frames (the queue drops the oldest when full, and counts the drops), so latency stays bounded when the matter
is slower than the camera. ``progress(done, total)`` is called after every frame; setting ``cancel`` stops
the run after the current frame (the sinks' context managers then keep what was written).
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from flashvid.compose import Compositor, to_uint8
from flashvid.errors import InputError
from flashvid.matter import Matte
from flashvid.video.sinks import Sink, SinkFrame
from flashvid.video.sources import Frame

log = logging.getLogger("flashvid.video")
_END = object()


@dataclass
class RunStats:
    """What a run did: frames read / written / dropped, wall time, FPS and latency (capture to sinks)."""

    frames_read: int = 0
    frames_written: int = 0
    dropped: int = 0
    reconnects: int = 0
    elapsed_s: float = 0.0
    cancelled: bool = False
    latencies_ms: list[float] = field(default_factory=list, repr=False)

    @property
    def fps(self) -> float:
        return self.frames_written / self.elapsed_s if self.elapsed_s > 0 else 0.0

    @property
    def latency_ms(self) -> float:
        return float(np.median(self.latencies_ms)) if self.latencies_ms else 0.0

    @property
    def latency_p90_ms(self) -> float:
        return float(np.percentile(self.latencies_ms, 90)) if self.latencies_ms else 0.0


class Matting(Protocol):
    """What the pipeline needs of a matter: `FlashMatter`, or a wrapper of one (the studio's locked matter)."""

    def process(self, frame: np.ndarray) -> Matte: ...


def run(
    source: Iterable[Frame],
    matter: Matting,
    compositor: Compositor,
    sinks: Sequence[Sink],
    *,
    live: bool = False,
    queue_size: int = 4,
    progress: Callable[[int, int], None] | None = None,
    cancel: threading.Event | None = None,
    total: int = 0,
    reconnect: float | None = None,
    stats: RunStats | None = None,
    overlap: bool = True,
) -> RunStats:
    """Matte every frame of `source` and write it to every sink; returns `RunStats`.

    Args:
        live: keep only the newest frames (queue of `queue_size`, oldest dropped) instead of every frame.
        total: expected number of frames, for `progress` (0 if unknown).
        reconnect: for a live source with ``reopen()`` (a camera): when it stops delivering (`InputError`), try to
            reopen it every `reconnect` seconds and carry on, instead of ending the run; None ends it.
        stats: a `RunStats` to fill in as the run goes (a GUI reads its drops live); a new one by default.
        overlap: write the sinks on their own thread (False: on this one, after each frame; for comparisons).
    """
    cancel = cancel or threading.Event()
    q: queue.Queue = queue.Queue(maxsize=max(1, queue_size))
    stats = stats if stats is not None else RunStats()
    failure: list[BaseException] = []

    def put(item: object) -> None:
        if live:
            while True:
                try:
                    q.put_nowait(item)
                    return
                except queue.Full:
                    try:
                        dropped = q.get_nowait()
                        if dropped is not _END:
                            stats.dropped += 1
                    except queue.Empty:
                        pass
        while not cancel.is_set():
            try:
                q.put(item, timeout=0.1)
                return
            except queue.Full:
                continue

    def reader() -> None:
        try:
            while True:
                try:
                    for frame in source:
                        if cancel.is_set():
                            break
                        stats.frames_read += 1
                        put((frame, time.perf_counter()))
                    return
                except InputError as exc:  # a live camera dropped out: wait for it to come back
                    if reconnect is None or not hasattr(source, "reopen"):
                        raise
                    log.warning("%s; reconnecting every %.1f s", exc, reconnect)
                    while not cancel.is_set():
                        if cancel.wait(reconnect):
                            return
                        try:
                            source.reopen()
                        except InputError:
                            continue
                        stats.reconnects += 1
                        log.info("source back after a dropout (%d so far)", stats.reconnects)
                        break
                    if cancel.is_set():
                        return
        except BaseException as exc:  # noqa: BLE001 - re-raised in the caller's thread below
            failure.append(exc)
        finally:
            put(_END)

    done_q: queue.Queue = queue.Queue(maxsize=max(2, queue_size))

    def deliver(item: tuple[Matte, Frame, float]) -> None:
        matte, frame, captured = item
        out = compose_frame(matte, compositor, frame)
        for sink in sinks:
            sink.write(out)
        stats.frames_written += 1
        stats.latencies_ms.append((time.perf_counter() - captured) * 1000)
        if progress is not None:
            progress(stats.frames_written, total)

    def writer() -> None:
        try:
            while (item := done_q.get()) is not _END:
                deliver(item)
        except BaseException as exc:  # noqa: BLE001 - re-raised in the caller's thread below
            failure.append(exc)
            cancel.set()

    def hand_over(item: object) -> None:
        """Queue `item` for the writer; gives up only when the writer has stopped (it failed)."""
        while True:
            try:
                done_q.put(item, timeout=0.1)
                return
            except queue.Full:
                if not writer_thread.is_alive():
                    return

    thread = threading.Thread(target=reader, name="flashvid-reader", daemon=True)
    writer_thread = threading.Thread(target=writer, name="flashvid-writer", daemon=True)
    t0 = time.perf_counter()
    thread.start()
    if overlap:
        writer_thread.start()
    try:
        while not cancel.is_set():
            try:
                item = q.get(timeout=0.1)
            except queue.Empty:
                if not thread.is_alive() and q.empty():
                    break
                continue
            if item is _END:
                break
            frame, captured = item
            matted = (matter.process(frame.image), frame, captured)
            if overlap:  # composited on the writer's thread while this one mattes the next frame
                hand_over(matted)
            else:
                deliver(matted)
    finally:
        stats.cancelled = cancel.is_set()
        if overlap:  # the writer finishes what was matted, then stops: no sink is ever written after this
            hand_over(_END)
            writer_thread.join()
        cancel.set()
        thread.join(timeout=5)
        stats.elapsed_s = time.perf_counter() - t0
    if failure:
        raise failure[0]
    return stats


def compose_frame(matte: Matte, compositor: Compositor, frame: Frame) -> SinkFrame:
    """The sinks' frame: the composite brought back from the model's device as uint8 now, the RGBA cut-out (the
    subject's colour and alpha) only when an output or the preview asks for it."""
    composite_t, fg, alpha = compositor.compose(matte.frame_t, matte.alpha_t, matte.fgr_t)
    composite = to_uint8(fg * alpha if composite_t is None else composite_t)
    return SinkFrame(composite, None, None, frame.time, frame.index, frame.image, cutout=lambda: to_uint8(fg, alpha))
