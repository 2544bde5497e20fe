"""Issue 25.1: stopping a recording while frames flow never hangs or loses the take. A writer thread feeds a
`SinkSet` as the live stream does; the test starts and stops (or discards) recordings at random moments,
hundreds of times; every kept take decodes with every frame it counted."""

from __future__ import annotations

import random
import threading
import time
from pathlib import Path

import av
import numpy as np

from flashvid.video.live import RebasedSink, SinkSet
from flashvid.video.sinks import SinkFrame, VideoSink

W, H = 48, 32


def _frame(i: int) -> SinkFrame:
    img = np.full((H, W, 3), i % 256, np.uint8)
    rgba = np.dstack([img, np.full((H, W), 255, np.uint8)])
    return SinkFrame(img, rgba, rgba[:, :, 3], i / 30.0, i, img)


def test_stopping_recordings_at_random_moments_never_hangs_or_loses_frames(tmp_path: Path) -> None:
    sinks = SinkSet()
    stop = threading.Event()
    written = [0]
    errors: list[BaseException] = []

    def stream() -> None:  # the live stream's writer: frames as fast as they come
        i = 0
        try:
            while not stop.is_set():
                sinks.write(_frame(i))
                written[0] += 1
                i += 1
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    writer = threading.Thread(target=stream, daemon=True)
    writer.start()
    rng = random.Random(0)
    kept = 0
    try:
        for take in range(300):
            path = tmp_path / f"take{take}.mp4"
            recorder = VideoSink(path, "mp4", W, H, 30)
            sink = RebasedSink(recorder)
            sinks.add(sink)
            time.sleep(rng.uniform(0, 0.004))  # stop at a random moment: before, during or between frames
            discard = rng.random() < 0.2
            done = threading.Event()

            def finish(sink: RebasedSink = sink, discard: bool = discard, done: threading.Event = done) -> None:
                sinks.close_sink(sink, abort=discard)
                done.set()

            stopper = threading.Thread(target=finish, daemon=True)  # as the studio does: off the GUI thread
            stopper.start()
            assert done.wait(20), f"take {take}: finishing the recording hung"
            assert sink not in sinks.sinks
            hidden = list(tmp_path.glob(f".take{take}.*"))
            assert not hidden, hidden
            if discard or recorder.frames == 0:
                assert not path.exists()
                continue
            with av.open(str(path)) as c:
                n = sum(1 for _ in c.decode(video=0))
            assert n == recorder.frames, (take, n, recorder.frames)
            kept += 1
    finally:
        stop.set()
        writer.join(10)
    assert not errors and not sinks.errors, (errors, sinks.errors)
    assert kept > 100 and written[0] > 300


def test_a_finished_video_sink_ignores_late_frames(tmp_path: Path) -> None:
    """A frame that arrives after the file was finished is dropped, not encoded into a closed container."""
    sink = VideoSink(tmp_path / "a.mp4", "mp4", W, H, 30)
    sink.write(_frame(0))
    sink.close()
    sink.write(_frame(1))  # would raise (or hang) on a closed encoder
    assert sink.frames == 1
    with av.open(str(tmp_path / "a.mp4")) as c:
        assert sum(1 for _ in c.decode(video=0)) == 1
