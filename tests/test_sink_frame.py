"""The live path's per-frame work off the matting thread (#25: live >= 25 FPS at 640x360): the writer thread
composites, the RGBA cut-out is made only when something reads it (once), and the uint8 conversion is exact."""

from __future__ import annotations

import threading

import numpy as np
import pytest
import torch

import flashvid.video.pipeline as pipeline
from flashvid.api import make_compositor
from flashvid.compose import to_uint8
from flashvid.matter import Matte
from flashvid.video.sinks import Sink, SinkFrame
from flashvid.video.sources import ArraySource, Frame


def test_to_uint8_rounds_and_clamps_as_before() -> None:
    x = torch.rand(1, 7, 37, 53) * 1.2 - 0.1  # out of range too
    x[0, 0, 0, :4] = torch.tensor([0.5 / 255, 1.5 / 255 - 1e-6, 254.5 / 255, 1.0])
    want = (x[0] * 255 + 0.5).clamp(0, 255).floor().to(torch.uint8).permute(1, 2, 0).numpy()
    got = to_uint8(x)
    assert got.shape == (37, 53, 7) and got.dtype == np.uint8 and got.flags.c_contiguous
    assert np.array_equal(got, want)
    assert np.array_equal(to_uint8(x[:, :3], x[:, 3:4]), want[..., :4])


def matte_of(h: int = 24, w: int = 32) -> Matte:
    g = torch.Generator().manual_seed(1)
    frame = torch.rand(1, 3, h, w, generator=g)
    return Matte(torch.rand(1, 1, h, w, generator=g), torch.rand(1, 3, h, w, generator=g), frame)


def test_the_cutout_is_made_once_and_only_when_read(monkeypatch) -> None:
    calls: list[tuple[int, ...]] = []
    real = pipeline.to_uint8

    def counting(rgb: torch.Tensor, alpha: torch.Tensor | None = None) -> np.ndarray:
        calls.append(tuple(rgb.shape))
        return real(rgb, alpha)

    monkeypatch.setattr(pipeline, "to_uint8", counting)
    matte, compositor = matte_of(), make_compositor("#00ff00", despill=0.0)
    out = pipeline.compose_frame(matte, compositor, Frame(np.zeros((24, 32, 3), np.uint8), 0.5, 3))
    assert calls == [(1, 3, 24, 32)]  # the composite only
    later = out.retimed(0.0, 0)
    rgba = later.rgba  # a recording's copy asks first
    assert rgba.shape == (24, 32, 4) and len(calls) == 2
    assert out.rgba is rgba and np.array_equal(out.alpha, rgba[..., 3]) and len(calls) == 2  # made once
    a = matte.alpha_t[0, 0].numpy()
    assert np.abs(rgba[..., 3].astype(float) - a * 255).max() <= 0.5
    want = (a[..., None] * matte.frame_t[0].permute(1, 2, 0).numpy() + (1 - a[..., None]) * [0, 1, 0]) * 255
    assert np.abs(out.composite.astype(float) - want).max() <= 1.0
    assert (later.time, later.index, out.time, out.index) == (0.0, 0, 0.5, 3)


def test_a_frame_needs_rgba_or_a_way_to_make_it() -> None:
    with pytest.raises(ValueError, match="rgba or a cutout"):
        SinkFrame(np.zeros((2, 2, 3), np.uint8))


def test_the_writer_thread_composites_while_the_caller_mattes() -> None:
    """Matting and compositing on two threads (an overlapped run): the compositor never runs on the matting
    thread, so the next frame's matting does not wait for it."""
    threads: dict[str, set[int]] = {"matte": set(), "compose": set()}
    compositor = make_compositor("#00ff00")
    real_compose = compositor.compose

    def compose(*args):
        threads["compose"].add(threading.get_ident())
        return real_compose(*args)

    compositor.compose = compose  # type: ignore[method-assign]

    class Matter:
        def process(self, image: np.ndarray) -> Matte:
            threads["matte"].add(threading.get_ident())
            m = matte_of(*image.shape[:2])
            return m

    got: list[SinkFrame] = []

    class Keep(Sink):
        def write(self, out: SinkFrame) -> None:
            got.append(out)

    frames = [np.full((24, 32, 3), i, np.uint8) for i in range(6)]
    stats = pipeline.run(ArraySource(frames), Matter(), compositor, [Keep()])
    assert stats.frames_written == 6 and [f.index for f in got] == list(range(6))
    assert threads["matte"] == {threading.get_ident()} and threads["compose"].isdisjoint(threads["matte"])
    serial = pipeline.run(ArraySource(frames), Matter(), compositor, [Keep()], overlap=False)
    assert serial.frames_written == 6 and threading.get_ident() in threads["compose"]


def test_the_studio_worker_makes_the_cutout_the_preview_will_show(qtbot) -> None:
    from flashvid.ui.worker import MattingWorker

    from flashvid.video.live import SinkSet

    worker = MattingWorker([], None, make_compositor(), SinkSet())
    frame = pipeline.compose_frame(matte_of(), make_compositor(), Frame(np.zeros((24, 32, 3), np.uint8), 0.0, 0))
    worker._publish(frame)
    assert frame._rgba.value is None  # the composite view: not made
    worker.wants_cutout = lambda: True  # the transparent or alpha view
    frame2 = pipeline.compose_frame(matte_of(), make_compositor(), Frame(np.zeros((24, 32, 3), np.uint8), 0.0, 1))
    worker._publish(frame2)
    assert frame2._rgba.value is not None and worker.take() is frame2
