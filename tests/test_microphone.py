"""A camera's live take with the microphone's sound (#25): `Microphone` through FFmpeg's capture devices (here a
real-time ``lavfi`` tone, the same code path as ALSA), `LiveAudio` aligned to the take's first frame, and the
studio session recording a camera with it."""

from __future__ import annotations

import time
from pathlib import Path
from types import SimpleNamespace

import av
import numpy as np
import pytest

from flashvid.errors import FlashvidError, InputError
from flashvid.video.microphone import Block, Microphone, MicTake
from flashvid.video.sinks import SinkFrame, VideoSink

RATE = 48000
TONE = "sine=frequency=440:sample_rate=48000,arealtime"  # paced like a device: a block every ~21 ms


def decode_audio(path: Path) -> tuple[np.ndarray, int, float]:
    """-> (mono float samples, rate, the video's duration in s)."""
    with av.open(str(path)) as c:
        v = c.streams.video[0]
        frames = [f for f in c.decode(v)]
        video_s = float(frames[-1].pts * v.time_base) + 1.0 / float(v.average_rate)
    with av.open(str(path)) as c:
        a = c.streams.audio[0]
        rate = a.codec_context.sample_rate
        pcm = np.concatenate([f.to_ndarray().reshape(f.to_ndarray().shape[0], -1)[0] for f in c.decode(a)])
    return pcm.astype(np.float64), rate, video_s


def frames_at(rate: float, seconds: float, h: int = 48, w: int = 64) -> list[SinkFrame]:
    img = np.full((h, w, 3), 90, np.uint8)
    rgba = np.dstack([img, np.full((h, w), 255, np.uint8)])
    return [SinkFrame(img, rgba, rgba[..., 3], i / rate, i) for i in range(round(seconds * rate))]


def test_live_audio_is_aligned_to_the_takes_first_frame(tmp_path: Path) -> None:
    """Blocks stamped on the capture clock: sound before the take's origin is cut, a beep heard 0.5 s after it
    lands at 0.5 s in the file, and silence pads to the video's end when the microphone stops early."""
    mic = SimpleNamespace(rate=RATE, channels=1, release=lambda take: None)
    take = MicTake(mic)  # type: ignore[arg-type]
    origin, n = 100.0, 1024
    t = np.arange(int(1.2 * RATE)) / RATE  # 1.2 s of sound starting 0.3 s before the origin
    beep = ((t >= 0.8) & (t < 0.85)) * 0.5 * np.sin(2 * np.pi * 880 * t)  # 0.8 s into the sound: 0.5 s into the take
    pcm = (beep * 32767).astype(np.int16)
    for i in range(0, len(pcm) - n + 1, n):
        take.put(Block(pcm[None, i : i + n], "s16", "mono", RATE, n, origin - 0.3 + i / RATE))
    sink = VideoSink(tmp_path / "take.mp4", "mp4", 64, 48, 30, microphone=take)
    assert sink.audio is not None
    sink.audio.set_origin(origin)  # type: ignore[union-attr]
    for f in frames_at(30, 2.0):
        sink.write(f)
    sink.close()
    audio, rate, video_s = decode_audio(tmp_path / "take.mp4")
    onset = np.argmax(np.abs(audio) > 0.1) / rate
    assert onset == pytest.approx(0.5, abs=0.01)
    assert len(audio) / rate == pytest.approx(video_s, abs=0.05)  # padded past the 0.9 s of sound heard
    assert np.abs(audio[: int(0.45 * rate)]).max() < 0.02  # the cut 0.3 s before the take are not in it
    assert take.closed


def test_microphone_through_an_ffmpeg_capture_device(tmp_path: Path) -> None:
    mic = Microphone(TONE, "lavfi")
    try:
        assert mic.rate == RATE
        take = mic.take()
        origin = time.monotonic()
        sink = VideoSink(tmp_path / "take.webm", "webm", 64, 48, 30, microphone=take)
        sink.audio.set_origin(origin)  # type: ignore[union-attr]
        for f in frames_at(30, 1.5):  # written in real time, as a live take is
            time.sleep(max(0.0, origin + f.time + 0.05 - time.monotonic()))
            sink.write(f)
        sink.close()
        assert not take.blocks and take not in mic.takes  # the take let go of the microphone
    finally:
        mic.close()
    assert not mic.thread.is_alive()
    audio, rate, video_s = decode_audio(tmp_path / "take.webm")
    assert len(audio) / rate == pytest.approx(video_s, abs=0.06)
    body = audio[int(0.2 * rate) : int(1.3 * rate)]
    spectrum = np.abs(np.fft.rfft(body * np.hanning(len(body))))
    assert np.fft.rfftfreq(len(body), 1 / rate)[np.argmax(spectrum)] == pytest.approx(440, abs=3)


def test_a_microphone_that_cannot_be_opened_is_one_line() -> None:
    with pytest.raises(InputError, match=r"^microphone lavfi:nosuchsource=1: cannot be opened .*record without sound"):
        Microphone("nosuchsource=1", "lavfi")


def test_parse_microphone() -> None:
    from flashvid.ui.session import parse_microphone

    assert parse_microphone("") == (None, None)
    assert parse_microphone(" hw:1 ") == (None, "hw:1")
    assert parse_microphone("alsa:hw:1") == ("alsa", "hw:1")
    assert parse_microphone("dshow:audio=USB Mic") == ("dshow", "audio=USB Mic")
    assert parse_microphone(":0") == (None, ":0")


def camera_over(path: Path):
    """A `Webcam` over a video file (OpenCV opens both): the studio's camera path without a camera."""
    from flashvid.video.sources import Webcam

    return Webcam(str(path))


def camera_session(tmp_path: Path, video_maker, frames: int, microphone: tuple[str | None, str | None]):
    """A studio session on a camera (`camera_over` a generated clip) with `microphone` set."""
    from flashvid.ui.session import StudioSession

    clip = tmp_path / "camera.mp4"
    video_maker(clip, frames=frames, audio=False)
    session = StudioSession()
    session.open_source(0, probed=camera_over(clip))
    session.microphone = microphone
    return session


def record_camera(session, out: Path, seconds: float) -> Path:
    out = session.start_recording(str(out), "mp4")
    start = time.monotonic()
    for frame in session.source:  # paced as a camera delivers
        time.sleep(max(0.0, start + frame.index / 30 - time.monotonic()))
        rgba = np.dstack([frame.image, np.full(frame.image.shape[:2], 255, np.uint8)])
        session.sinks.write(SinkFrame(frame.image, rgba, rgba[..., 3], frame.time, frame.index))
        if frame.time >= seconds:
            break
    session.stop_recording()
    return out


def test_a_camera_take_in_the_studio_session_has_the_microphones_sound(tmp_path: Path, video_maker) -> None:
    from flashvid.ui.session import parse_microphone

    session = camera_session(tmp_path, video_maker, 90, parse_microphone(f"lavfi:{TONE}"))
    try:
        assert session.open_microphone() == f"lavfi:{TONE}"
        out = record_camera(session, tmp_path / "take.mp4", 1.2)
    finally:
        session.close_microphone()
    assert session.record_warning is None
    audio, rate, video_s = decode_audio(out)
    assert len(audio) / rate == pytest.approx(video_s, abs=0.06)
    # the tone at its level (lavfi's sine: amplitude 1/8, so a mean magnitude of 0.125 * 2 / pi), not silence
    assert np.abs(audio[int(0.3 * rate) : int(0.9 * rate)]).mean() == pytest.approx(0.125 * 2 / np.pi, rel=0.05)


def test_a_camera_take_goes_on_without_sound_when_the_microphone_fails(tmp_path: Path, video_maker) -> None:
    session = camera_session(tmp_path, video_maker, 60, ("lavfi", "nosuchsource=1"))
    with pytest.raises(FlashvidError):
        session.open_microphone()
    out = record_camera(session, tmp_path / "take.mp4", 0.5)
    assert session.record_warning is not None and session.record_warning.endswith("this take has no sound")
    with av.open(str(out)) as c:
        assert not c.streams.audio and c.streams.video[0].frames > 0


def test_studio_records_a_camera_with_the_microphone(studio, qtbot, monkeypatch) -> None:
    """Through the window: the microphone box on with a device, a camera opened (a `Webcam` over a file, paced at
    30 frames a second as a camera delivers), a keyframe, Record and stop: the take has the tone, as long as its
    video. The setting comes back on the next start."""
    import cv2
    from flashvid.ui.app import MainWindow
    from flashvid.ui.session import StudioSession
    from PyQt6.QtCore import QSettings

    from flashvid.video.sources import VideoFile, Webcam
    from tests.conftest import make_video
    from tests.studio_helpers import H, W, make_kf, stop_recording

    window, tmp = studio
    window.ask_recording_on_close = lambda: "discard"  # type: ignore[method-assign]  # a failure ends, never hangs
    make_video(tmp / "camera.mp4", frames=300, audio=False, width=W, height=H)

    class PacedCamera(Webcam):
        def read(self) -> np.ndarray:  # 30 frames a second, round and round, as a camera never ends
            time.sleep(1 / 30)
            ok, bgr = self.cap.read()
            if not ok:
                self.cap.set(cv2.CAP_PROP_POS_FRAMES, 0)
                ok, bgr = self.cap.read()
            assert ok
            return np.ascontiguousarray(bgr[:, :, ::-1])

    def probe(spec):
        return PacedCamera(str(tmp / "camera.mp4")) if isinstance(spec, int) else VideoFile(spec)

    monkeypatch.setattr(StudioSession, "probe_source", staticmethod(probe))
    window.microphone_device.setText(f"lavfi:{TONE}")
    window.microphone_box.setChecked(True)
    window.format_box.setCurrentText("mp4")
    window.open_source(0)
    qtbot.waitUntil(lambda: window.session.microphone_open, timeout=10000)  # opened on a task, not on the GUI
    window.set_keyframe(make_kf(tmp))
    qtbot.waitUntil(lambda: window.preview.frame is not None, timeout=60000)
    window.toggle_record(True, str(tmp / "take.mp4"))
    assert window.session.record_warning is None
    assert not any("microphone" in m for m in window.banner.messages)  # (the keyframe's other-scene note is there)
    qtbot.waitUntil(lambda: window.recorder is not None and window.recorder.frames >= 45, timeout=60000)
    stop_recording(window, qtbot)
    audio, rate, video_s = decode_audio(tmp / "take.mp4")
    assert video_s > 1.0 and len(audio) / rate == pytest.approx(video_s, abs=0.08)
    assert np.abs(audio[int(0.2 * rate) : int(video_s * rate) - int(0.2 * rate)]).mean() > 0.06
    window.open_source(str(tmp / "clip.mp4"))  # a file: its own sound, the microphone let go
    assert not window.session.microphone_open
    window.stop()
    window.save_settings()
    again = MainWindow(QSettings(str(tmp / "settings.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(again)
    assert again.microphone_box.isChecked() and again.microphone_device.text() == f"lavfi:{TONE}"
    again.close()
