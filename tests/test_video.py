"""The video path: sources, compositing, sinks, the pipeline, export, streaming."""

from __future__ import annotations

import itertools
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import av
import numpy as np
import pytest
import torch

from flashvid.compose import BlurBackground, ColorBackground, Compositor, ImageBackground, cover_fit
from flashvid.errors import InputError
from flashvid.matter import FlashMatter
from flashvid.video.background import parse_background
from flashvid.video.pipeline import run
from flashvid.video.sinks import PngSequenceSink, SinkFrame, UdpSink, VideoSink
from flashvid.video.sources import ArraySource, Frame, ImageFolder, VideoFile
from tests.conftest import keyframe, make_video

W, H = 96, 64


@pytest.fixture(scope="module")
def matter() -> FlashMatter:
    torch.manual_seed(0)
    m = FlashMatter(checkpoint=None)
    m.set_keyframe(keyframe())
    return m


def decode(path: Path, codec: str | None = None) -> tuple[list[np.ndarray], list[float]]:
    images, times = [], []
    with av.open(str(path)) as c:
        s = c.streams.video[0]
        if codec is None:
            for f in c.decode(s):
                images.append(f.to_ndarray(format="rgba"))
                times.append(float(f.pts * f.time_base))
        else:
            ctx = av.CodecContext.create(codec, "r")
            for packet in c.demux(s):
                for f in ctx.decode(packet):
                    images.append(f.to_ndarray(format="rgba"))
                    times.append(float(packet.pts * packet.time_base) if packet.pts is not None else 0.0)
    return images, times


# ------------------------------------------------------------------------------------------------ compositing


def test_composite_maths_and_backgrounds() -> None:
    frame = torch.rand(1, 3, 8, 10)
    fgr = torch.rand(1, 3, 8, 10)
    alpha = torch.rand(1, 1, 8, 10)
    comp, _a = Compositor(ColorBackground((0, 255, 0)), despill=0.0)(frame, alpha, fgr)
    green = torch.tensor([0.0, 1.0, 0.0]).view(1, 3, 1, 1)
    torch.testing.assert_close(comp, alpha * frame + (1 - alpha) * green)
    comp_d, _ = Compositor(ColorBackground((0, 255, 0)), despill=1.0)(frame, alpha, fgr)
    w = torch.clamp(2 * (1 - alpha), 0, 1)
    torch.testing.assert_close(comp_d, alpha * (frame + w * (fgr - frame)) + (1 - alpha) * green)
    ones = torch.ones(1, 1, 8, 10)
    torch.testing.assert_close(Compositor(BlurBackground(3))(frame, ones, fgr)[0], frame)  # opaque: frame kept
    img = np.zeros((100, 300, 3), np.uint8)
    img[:, 100:200] = 255
    fit = cover_fit(img, 50, 50)
    assert fit.shape == (50, 50, 3) and fit.mean() == 255  # centre crop of the wide image
    bg = ImageBackground(img)(frame)
    assert bg.shape == frame.shape
    assert parse_background("#ff0000").rgb == (255, 0, 0) and parse_background("blur:12").strength == 12
    assert parse_background("none").transparent
    with pytest.raises(InputError, match="no such background"):
        parse_background("/nope.png")


def test_temporal_smoothing_keeps_motion_sharp() -> None:
    c = Compositor(ColorBackground((0, 0, 0)), smoothing=0.8)
    a0 = torch.zeros(1, 1, 4, 4)
    c.smooth(a0)
    small = c.smooth(torch.full((1, 1, 4, 4), 0.02))
    assert float(small.mean()) < 0.01  # small flicker is damped
    big = c.smooth(torch.ones(1, 1, 4, 4))
    assert float(big.mean()) > 0.95  # a real change passes almost at once


# ---------------------------------------------------------------------------------------------- sinks / IO


def _rgba_frames(n: int = 6) -> list[SinkFrame]:
    rng = np.random.default_rng(1)
    out = []
    for i in range(n):
        rgba = np.zeros((H, W, 4), np.uint8)
        rgba[..., :3] = rng.integers(0, 256, 3, dtype=np.uint8)
        _yy, xx = np.mgrid[0:H, 0:W]
        rgba[..., 3] = np.clip((xx * 4 + i * 7) % 300, 0, 255).astype(np.uint8)
        out.append(SinkFrame(rgba[..., :3].copy(), rgba, rgba[..., 3].copy(), i / 24, i))
    return out


def test_prores_round_trips_alpha(tmp_path: Path) -> None:
    frames = _rgba_frames()
    with VideoSink(tmp_path / "a.mov", "prores", W, H, 24) as sink:
        for f in frames:
            sink.write(f)
    images, _ = decode(tmp_path / "a.mov")
    assert len(images) == len(frames)
    err = max(np.abs(i[..., 3].astype(int) - f.alpha.astype(int)).max() for i, f in zip(images, frames))
    assert err <= 2


def test_webm_keeps_alpha_with_libvpx(tmp_path: Path) -> None:
    frames = _rgba_frames()
    with VideoSink(tmp_path / "a.webm", "webm", W, H, 24) as sink:
        for f in frames:
            sink.write(f)
    images, _ = decode(tmp_path / "a.webm", codec="libvpx-vp9")
    assert len(images) == len(frames)
    for img, f in zip(images, frames):
        assert img[..., 3].std() > 10  # alpha is present, not flat 255
        assert np.abs(img[..., 3].astype(float) - f.alpha).mean() < 6


def test_png_sequence_and_temp_names(tmp_path: Path) -> None:
    frames = _rgba_frames(3)
    with PngSequenceSink(tmp_path / "seq") as sink:
        for f in frames:
            sink.write(f)
        assert not (tmp_path / "seq").exists()  # only a hidden partial folder while writing
    files = sorted((tmp_path / "seq").iterdir())
    assert [p.name for p in files] == ["000000.png", "000001.png", "000002.png"]
    folder = ImageFolder(tmp_path / "seq")
    assert len(folder) == 3 and folder.width == W


def test_export_keeps_frames_timestamps_and_audio(tmp_path: Path, matter: FlashMatter) -> None:
    times = [0.0, 0.04, 0.1, 0.13, 0.2, 0.3, 0.31, 0.4]  # variable frame rate
    make_video(tmp_path / "in.mp4", times=times)
    src = VideoFile(tmp_path / "in.mp4")
    assert src.has_audio and (src.width, src.height) == (W, H)
    matter.reset()
    with VideoSink(tmp_path / "out.mp4", "mp4", W, H, src.rate, audio_from=src.path) as sink:
        stats = run(src, matter, Compositor(ColorBackground((0, 255, 0))), [sink])
    assert stats.frames_written == len(times) and stats.dropped == 0
    _, out_times = decode(tmp_path / "out.mp4")
    assert len(out_times) == len(times)
    np.testing.assert_allclose(sorted(out_times), times, atol=0.0015)
    with av.open(str(tmp_path / "out.mp4")) as c:
        assert len(c.streams.audio) == 1
        n_audio = sum(1 for p in c.demux(c.streams.audio[0]) if p.size)
    assert n_audio > 3


def test_live_mode_drops_frames_and_bounds_latency(matter: FlashMatter) -> None:
    class Slow:
        def __init__(self, inner: FlashMatter) -> None:
            self.inner = inner

        def process(self, image: np.ndarray):
            time.sleep(0.03)
            return self.inner.process(image)

    frames = [np.full((H, W, 3), i, np.uint8) for i in range(60)]
    comp = Compositor(ColorBackground((0, 0, 0)))
    live = run(ArraySource(frames, delay=0.003), Slow(matter), comp, [], live=True, queue_size=1)
    full = run(ArraySource(frames, delay=0.003), Slow(matter), comp, [], live=False, queue_size=60)
    assert live.dropped > 20 and live.frames_written + live.dropped == 60
    assert full.dropped == 0 and full.frames_written == 60
    # live: a frame waits for at most the frame being processed; file mode: the backlog grows
    assert max(live.latencies_ms) < max(full.latencies_ms) / 3


def test_udp_stream_is_received_on_loopback(matter: FlashMatter) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    got: list[tuple[int, int]] = []

    def receive() -> None:
        with av.open(f"udp://127.0.0.1:{port}?timeout=8000000", format="mpegts") as c:
            for f in c.decode(c.streams.video[0]):
                got.append((f.width, f.height))
                if len(got) >= 5:
                    break

    t = threading.Thread(target=receive, daemon=True)
    t.start()
    time.sleep(0.5)
    frames = [np.full((H, W, 3), (i * 8) % 256, np.uint8) for i in range(60)]
    with UdpSink(f"udp://127.0.0.1:{port}", W, H, 30) as sink:
        run(ArraySource(frames, delay=0.01), matter, Compositor(ColorBackground((0, 255, 0))), [sink])
    t.join(timeout=10)
    assert len(got) >= 5 and got[0] == (W, H)


def _export_cmd(tmp_path: Path, out: Path, *extra: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "flashvid.cli",
        "export",
        "--input",
        str(tmp_path / "in.mp4"),
        "--keyframe",
        str(tmp_path / "kf.flashkey"),
        "--out",
        str(out),
        "--format",
        "mp4",
        *extra,
    ]


def _sigterm_midway(cmd: list[str], tmp_path: Path, stem: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True)
    deadline = time.time() + 120
    while time.time() < deadline and not any(p.name.startswith(f".{stem}.partial") for p in tmp_path.iterdir()):
        time.sleep(0.2)
    time.sleep(0.5)  # the export of 900 small frames takes several seconds; stop it early
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=60)
    return subprocess.CompletedProcess(cmd, proc.returncode, out, err)


def test_interrupted_export_keeps_a_playable_partial_beside_the_target(tmp_path: Path) -> None:
    make_video(tmp_path / "in.mp4", frames=900, audio=False)
    keyframe().save(tmp_path / "kf.flashkey")
    out = tmp_path / "out.mp4"
    r = _sigterm_midway(_export_cmd(tmp_path, out), tmp_path, "out")
    assert r.returncode == 130, r.stderr
    assert not out.exists(), "an interrupted export never appears under the final name"
    kept = tmp_path / "out.partial.mp4"
    assert "Traceback" not in r.stderr and str(kept) in r.stderr
    assert 0 < len(decode(kept)[0]) < 900
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out.partial")], "no hidden temporary left"


def test_interrupted_overwrite_leaves_the_earlier_complete_output(tmp_path: Path) -> None:
    make_video(tmp_path / "in.mp4", frames=900, audio=False)
    keyframe().save(tmp_path / "kf.flashkey")
    out = tmp_path / "out.mp4"
    make_video(out, frames=12, audio=False)
    before = out.read_bytes()
    r = _sigterm_midway(_export_cmd(tmp_path, out, "--overwrite"), tmp_path, "out")
    assert r.returncode == 130, r.stderr
    assert out.read_bytes() == before, "the complete earlier output is untouched"
    assert (tmp_path / "out.partial.mp4").exists()


def test_killed_export_leaves_nothing_at_the_target_and_its_temporary_is_cleaned_next_time(tmp_path: Path) -> None:
    make_video(tmp_path / "in.mp4", frames=240, audio=False)
    keyframe().save(tmp_path / "kf.flashkey")
    out = tmp_path / "out.mp4"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(_export_cmd(tmp_path, out), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    deadline = time.time() + 120
    while time.time() < deadline and not any(p.name.startswith(".out.partial") for p in tmp_path.iterdir()):
        time.sleep(0.2)
    proc.kill()
    proc.wait()
    assert not out.exists()
    stale = [p for p in tmp_path.iterdir() if p.name.startswith(".out.partial")]
    assert stale, "SIGKILL leaves the hidden temporary (nothing can clean up inside a killed process)"
    from flashvid.video.sinks import clean_stale_partials

    assert clean_stale_partials(out) == stale  # the next run on that output removes it
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out.partial")]


def test_real_video_decodes(shared_data: Path) -> None:
    v = VideoFile(shared_data / "videos" / "asl_yes.mkv")
    frames = list(v)
    assert (v.width, v.height) == (640, 480) and 60 <= len(frames) <= 100
    assert all(b.time > a.time for a, b in itertools.pairwise(frames))
    assert frames[0].image.shape == (480, 640, 3) and frames[0].image.dtype == np.uint8


def test_bad_sources_give_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such video file"):
        VideoFile(tmp_path / "nope.mp4")
    (tmp_path / "junk.mp4").write_bytes(b"junk" * 100)
    with pytest.raises(InputError, match="cannot be read as a video"):
        VideoFile(tmp_path / "junk.mp4")
    with pytest.raises(InputError, match="no images"):
        ImageFolder(tmp_path)


def test_a_cancelled_file_run_stays_partial_and_never_replaces_the_target(tmp_path: Path) -> None:
    """`matte_video(cancel=...)` on a file: what was done is kept as NAME.partial.EXT; an existing output (even
    with overwrite) is untouched, since a cancelled export is not the whole result."""
    from flashvid.api import matte_video

    make_video(tmp_path / "in.mp4", frames=60, audio=False)
    out = tmp_path / "out.mp4"
    out.write_bytes(b"earlier")
    cancel = threading.Event()

    def progress(done: int, total: int) -> None:
        if done >= 5:
            cancel.set()

    stats = matte_video(tmp_path / "in.mp4", out, keyframe=keyframe(), progress=progress, cancel=cancel, overwrite=True)
    assert stats.cancelled and 5 <= stats.frames_written < 60
    assert out.read_bytes() == b"earlier"
    assert len(decode(tmp_path / "out.partial.mp4")[0]) == stats.frames_written


def test_a_file_plays_from_any_position(tmp_path: Path) -> None:
    """`VideoFile.frames_from(t)`: the frames from t on, with the times and indices of a full read (pause and
    the studio's timeline rely on it)."""
    make_video(tmp_path / "in.mp4", frames=48, audio=False)
    v = VideoFile(tmp_path / "in.mp4")
    full = list(v)
    part = list(v.frames_from(1.0))
    first = part[0]
    assert first.time == pytest.approx(1.0, abs=0.5 / v.fps) and len(part) == len(full) - first.index
    np.testing.assert_array_equal(first.image, full[first.index].image)
    assert [f.index for f in part] == list(range(first.index, len(full)))


def test_live_stats_can_be_read_while_a_run_goes(matter: FlashMatter) -> None:
    from flashvid.video.pipeline import RunStats

    stats = RunStats()
    seen: list[int] = []
    frames = [Frame(np.zeros((64, 96, 3), np.uint8), i / 30, i) for i in range(5)]
    out = run(
        frames,
        matter,
        Compositor(ColorBackground((0, 255, 0))),
        [],
        stats=stats,
        progress=lambda d, t: seen.append(stats.frames_written),
    )
    assert out is stats and seen == [1, 2, 3, 4, 5]
