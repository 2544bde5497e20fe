"""flashvid-studio, offscreen, driven with a generated video source (pytest-qt)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("PyQt6")
pytest.importorskip("pytestqt")

from flashvid.ui.app import MainWindow
from PyQt6.QtCore import QSettings

from flashvid.compose import ColorBackground
from flashvid.training.data.synth import FlashLight, synthetic_pair
from tests.studio_helpers import H, W, make_kf, qimage_rgb, stop_recording


def test_studio_end_to_end(studio, qtbot) -> None:
    import av

    window, tmp = studio
    window.open_source(str(tmp / "clip.mp4"))
    assert window.source is not None and (window.source.width, window.source.height) == (W, H)
    wizard = window.open_wizard()
    # before any keyframe the raw picture shows
    qtbot.waitUntil(lambda: window.preview.raw is not None and window.preview.painted > 0, timeout=30000)
    wizard.load_files(str(tmp / "flash.png"), str(tmp / "noflash.png"))
    qtbot.waitUntil(lambda: wizard.keyframe is not None, timeout=60000)  # segmented on a worker thread
    assert wizard.accept_button.isEnabled()
    assert window.model_box.currentText() == "flashvid-rt"
    assert wizard.keyframe.summary()["area_pct"] > 5
    wizard.add_point(W * 0.1, H * 0.1, 0)  # a negative click re-segments
    qtbot.waitUntil(lambda: wizard.keyframe.settings.get("edited", False), timeout=60000)
    assert wizard.keyframe.labels[-1] == 0 and wizard.undo_button.isEnabled()
    shots = Path(os.environ.get("FLASHVID_SCREENSHOTS", tmp))
    shots.mkdir(parents=True, exist_ok=True)
    wizard.view.setCurrentText("trimap")
    wizard.grab().save(str(shots / "wizard.png"))
    wizard.accept()
    assert "keyframe set" in window.statusBar().currentMessage()
    # preview frames arrive, painted from the newest composite
    qtbot.waitUntil(lambda: window.preview.frame is not None and window.preview.painted > 0, timeout=120000)
    frame = window.preview.frame
    np.testing.assert_array_equal(qimage_rgb(window.preview.image), frame.composite)
    a = frame.alpha[..., None].astype(np.float32) / 255
    expected = a * frame.rgba[..., :3] + (1 - a) * np.array([0, 255, 0], np.float32)
    assert np.abs(expected - frame.composite).max() <= 2.0  # composite over the green background
    # change the background live: red where the subject is absent
    window.set_background(ColorBackground((255, 0, 0)))
    qtbot.waitUntil(lambda: window.preview.frame.index > frame.index + 2, timeout=120000)
    f2 = window.preview.frame
    bg = f2.alpha < 10
    if bg.any():
        assert f2.composite[bg][:, 0].mean() > 200 and f2.composite[bg][:, 1].mean() < 60
    # change the band live: the keyframe is remade and handed to the running matter
    window.band.setValue(31)
    qtbot.waitUntil(lambda: window.keyframe.settings.get("band") == 31, timeout=10000)
    # handed to the running matter (on a worker thread too when a build swapped the matter meanwhile)
    qtbot.waitUntil(lambda: window.matter.matter.keyframe.settings.get("band") == 31, timeout=30000)
    assert window.matter.matter.keyframe.settings["band"] == 31
    # record 30 frames to a file that decodes
    window.format_box.setCurrentText("mp4")
    window.toggle_record(True, path=str(tmp / "rec"))
    qtbot.waitUntil(lambda: window.recorder.frames >= 30 or bool(window.sinks.errors), timeout=180000)
    assert not window.sinks.errors, window.sinks.errors
    window.grab().save(str(shots / "main_window.png"))
    stop_recording(window, qtbot)
    with av.open(str(tmp / "rec.mp4")) as c:
        n = sum(1 for _ in c.decode(c.streams.video[0]))
    assert n >= 30
    assert "FPS" in window.fps_label.text() and "recorded" in window.statusBar().currentMessage()
    assert (shots / "main_window.png").stat().st_size > 0 and (shots / "wizard.png").stat().st_size > 0


def test_screen_flash_wizard_and_keyframe_files(studio, qtbot) -> None:
    from flashvid.ui.wizard import KeyframeWizard

    window, tmp = studio
    pair = synthetic_pair(H, W, seed=5, light=FlashLight(d_ratio=4.0, power=2.5, exposure_f=0.33))
    shots = iter([pair.flash, pair.noflash])  # under the white screen, then right after it
    locked = []
    wizard = KeyframeWizard(
        window,
        grab=lambda: next(shots),
        lock_exposure=lambda: locked.append(1) or True,
        unlock_exposure=lambda: locked.append(0),
    )
    qtbot.addWidget(wizard)
    wizard.screen_flash()
    qtbot.waitUntil(lambda: wizard.keyframe is not None, timeout=10000)
    assert locked == [1, 0] and "exposure locked" in wizard.status.text()
    np.testing.assert_array_equal(wizard.keyframe.flash, pair.flash)
    window.set_keyframe(wizard.keyframe)
    window.save_keyframe(str(tmp / "kf.flashkey"))
    window.keyframe = None
    window.open_keyframe(str(tmp / "kf.flashkey"))
    assert window.keyframe is not None and window.keyframe.size == (W, H)
    window.open_keyframe(str(tmp / "missing.flashkey"))
    assert "no such keyframe file" in window.banner.messages[0] and not window.banner.isHidden()


def test_settings_persist_and_errors_stay_in_the_banner(studio) -> None:
    window, tmp = studio
    window.smooth.setValue(40)
    window.colour.setText("#123456")
    window.save_settings()
    again = MainWindow(QSettings(str(tmp / "settings.ini"), QSettings.Format.IniFormat))
    assert again.smooth.value() == 40 and again.colour.text() == "#123456"
    again.open_source(str(tmp / "missing.mp4"))
    assert "no such video file" in again.banner.messages[0] and not again.banner.isHidden()
    again.open_path(str(tmp / "notes.txt"))
    assert len(again.banner.messages) == 2  # errors stack until dismissed
    again.banner.dismiss()
    assert again.banner.isHidden() and not again.banner.messages
    again.close()


def test_controls_come_from_one_settings_table(studio) -> None:
    """Issue 10 item 4: every control is built from ui/settings.py, with its default, tooltip and QSettings key."""
    from flashvid.ui.settings import SETTINGS

    from flashvid import defaults

    window, tmp = studio
    assert set(window.controls) == {s.key for s in SETTINGS}
    assert window.threshold.value() == pytest.approx(defaults.RATIO_THRESHOLD)
    assert window.internal.value() == defaults.INTERNAL_SIZE and window.model_box.currentText() == defaults.MODEL
    assert all(w.toolTip() for w in window.controls.values())
    window.internal.setValue(256)
    window.band.setValue(17)
    window.save_settings()
    store = QSettings(str(tmp / "settings.ini"), QSettings.Format.IniFormat)
    assert int(store.value("internal")) == 256 and int(store.value("band")) == 17
    store.setValue("threshold", "not a number")  # a damaged value falls back to its default
    store.sync()
    again = MainWindow(store)
    assert again.internal.value() == 256 and again.threshold.value() == pytest.approx(defaults.RATIO_THRESHOLD)
    again.close()


def test_output_toggle_adds_and_removes_its_sink(studio, qtbot) -> None:
    """The one generic toggle behind the virtual camera and UDP: refused without a source (unticked, error shown),
    on adds its sink to the running stream's set, off removes and closes it."""
    window, tmp = studio
    window.udp_url.setText("udp://127.0.0.1:5999")
    window.udp_box.setChecked(True)
    assert not window.udp_box.isChecked() and "open a source first" in window.banner.messages[0]
    window.open_source(str(tmp / "clip.mp4"))
    window.udp_box.setChecked(True)
    assert window.udp_box.isChecked() and window.udp_box.sink is not None
    sink = window.udp_box.sink
    assert sink in window.sinks.sinks
    window.udp_box.setChecked(False)
    assert window.udp_box.sink is None and sink not in window.sinks.sinks


def test_record_before_any_keyframe_is_refused_up_front(studio) -> None:
    """Issues 13 and 25: Record before any keyframe is refused when pressed, saying why (before: it recorded
    nothing and said so only after stopping; earlier still, the process aborted). No file, no hidden partial."""
    window, tmp = studio
    window.open_source(str(tmp / "clip.mp4"))
    window.record_button.setChecked(True)
    assert not window.record_button.isChecked() and window.recorder is None
    assert any("take a keyframe first" in m for m in window.banner.messages)
    assert not list(tmp.glob("rec*")) and not list(tmp.glob(".rec*")) and not list(tmp.glob("flashvid-*"))


@pytest.mark.parametrize("choice", ["stop and keep", "keep recording", "discard"])
def test_closing_while_recording_asks(studio, qtbot, choice: str) -> None:
    """Issue 13: closing the window while recording asks; each answer does what it says, and nothing hidden is
    left behind (before: the recording was lost without a word and a hidden partial stayed)."""
    window, tmp = studio
    window.open_source(str(tmp / "clip.mp4"))
    window.set_keyframe(make_kf(tmp))
    window.toggle_record(True, str(tmp / "rec.mp4"))
    qtbot.waitUntil(lambda: window.recorder is not None and window.recorder.frames >= 5, timeout=120000)
    window.ask_recording_on_close = lambda: choice
    window.close()
    if choice == "keep recording":
        assert window.recorder is not None and window.isVisible()
        window.ask_recording_on_close = lambda: "stop and keep"
        window.close()
    assert not window.isVisible()
    hidden = list(tmp.glob(".rec*"))
    assert not hidden, hidden
    if choice == "discard":
        assert not list(tmp.glob("rec*"))
    else:
        assert (tmp / "rec.mp4").stat().st_size > 0


def test_wizard_for_a_file_offers_the_in_clip_flash(studio, qtbot, shared_data) -> None:
    """Issues 12 / 13: for a video file the wizard offers the flash filmed in the clip (and two files), not a
    screen or physical flash; choosing it finds the burst and shows the keyframe with its segmenter."""
    from tests.conftest import clip_with_flash_burst

    window, tmp = studio
    clip = clip_with_flash_burst(shared_data, tmp)
    window.open_source(str(clip))
    wizard = window.open_wizard()
    qtbot.addWidget(wizard)
    labels = [b.text() for b in wizard.mode_group.buttons()]
    assert labels == ["Flash in this clip", "Two files..."]
    wizard.mode_group.buttons()[0].click()
    qtbot.waitUntil(lambda: wizard.keyframe is not None, timeout=60000)
    assert "flash at frame 2" in wizard.status.text() and "person" in wizard.status.text()


# ---------------------------------------------------------------------------------------------- issue 13


def test_engine_builds_off_the_gui_thread_while_the_gui_answers(studio, qtbot, monkeypatch) -> None:
    """The matter (model + engine) is built on a worker thread behind a busy indicator; a click is handled while
    it builds; the new engine is said in the window."""
    import threading

    from PyQt6.QtCore import Qt

    from flashvid.spec import MatterSpec

    window, tmp = studio
    gate, threads = threading.Event(), []
    real = MatterSpec.build

    def slow_build(self, **settings):
        threads.append(threading.current_thread())
        gate.wait(30)  # an engine that takes a while to build
        return real(self, **settings)

    monkeypatch.setattr(MatterSpec, "build", slow_build)
    window.open_source(str(tmp / "clip.mp4"))
    window.set_keyframe(make_kf(tmp))
    qtbot.waitUntil(lambda: bool(threads), timeout=10000)
    assert threads[0] is not threading.main_thread()
    assert window.tasks.busy("matter") and not window.busy_bar.isHidden()
    assert "building eager engine" in window.busy_label.text()
    qtbot.mouseClick(window.mirror_box, Qt.MouseButton.LeftButton)  # the GUI answers meanwhile
    assert window.mirror_box.isChecked() and window.preview.mirror
    gate.set()
    qtbot.waitUntil(lambda: window.matter is not None, timeout=60000)
    assert window.busy_bar.isHidden() and "eager on cpu" in window.engine_label.text()
    qtbot.waitUntil(lambda: window.preview.frame is not None, timeout=60000)  # from raw to composite


def test_auto_engine_is_measured_once_and_named(studio, qtbot, monkeypatch) -> None:
    """The studio starts on `auto`: it measures the engines this machine has, keeps the fastest, says which, and
    the next start reads the cached choice instead of measuring again."""
    from flashvid.ui.settings import BY_KEY

    monkeypatch.setenv("FLASHVID_CACHE", str(studio[1] / "cache"))
    assert BY_KEY["engine"].default == "auto"
    window, tmp = studio
    window.engine_box.setCurrentText("auto")
    window.open_source(str(tmp / "clip.mp4"))
    window.set_keyframe(make_kf(tmp))
    qtbot.waitUntil(lambda: window.matter is not None, timeout=240000)
    label = window.engine_label.text()
    assert "(auto)" in label and ("onnx" in label or "eager" in label)
    choices = list((tmp / "cache").glob("*.choice"))
    assert len(choices) == 1
    import json

    picked = json.loads(choices[0].read_text())
    assert picked["engine"] in label and set(picked["ms_per_frame"]) >= {"eager"}


def test_a_failed_engine_is_undone_and_stays_in_the_banner(studio, qtbot, monkeypatch) -> None:
    from flashvid.engines.base import EngineError

    from flashvid.spec import MatterSpec

    window, tmp = studio
    window.open_source(str(tmp / "clip.mp4"))
    window.set_keyframe(make_kf(tmp))
    qtbot.waitUntil(lambda: window.matter is not None, timeout=60000)
    working = window.matter.matter
    window.banner.dismiss()  # (the fixture's keyframe is not of the clip's scene: warned, read)
    real = MatterSpec.build

    def failing(self, **settings):
        if self.engine == "onnx":
            raise EngineError("onnx refuses for this test")
        return real(self, **settings)

    monkeypatch.setattr(MatterSpec, "build", failing)
    window.engine_box.setCurrentText("onnx")
    qtbot.waitUntil(lambda: bool(window.banner.messages), timeout=10000)
    qtbot.waitUntil(lambda: not window.tasks.busy(), timeout=10000)
    assert "onnx refuses" in window.banner.messages[0] and "still running eager" in window.banner.messages[0]
    assert window.engine_box.currentText() == "eager" and window.matter.matter is working


def test_the_dfm_model_without_weights_says_so(studio, qtbot) -> None:
    """dfm-official ships no weights: choosing it is refused in the banner, never run with random weights."""
    window, tmp = studio
    window.open_source(str(tmp / "clip.mp4"))
    window.set_keyframe(make_kf(tmp))
    qtbot.waitUntil(lambda: window.matter is not None, timeout=60000)
    window.banner.dismiss()
    window.model_box.setCurrentText("dfm-official")
    qtbot.waitUntil(lambda: bool(window.banner.messages), timeout=30000)
    assert "no weights for dfm-official" in window.banner.messages[0]
    assert window.model_box.currentText() == "flashvid-rt"


def test_pause_keeps_the_position_and_the_timeline_seeks(studio, qtbot) -> None:
    window, tmp = studio
    window.open_source(str(tmp / "clip.mp4"))
    assert not window.timeline_row.isHidden() and window.timeline.maximum() > 2000
    qtbot.waitUntil(lambda: window.paced is not None and window.paced.position > 0.4, timeout=30000)
    window.toggle_pause()
    paused_at = window.position
    assert paused_at > 0.4 and not window.playing and window.play_button.text() == "Play"
    window.toggle_pause()  # play again: from where it was, not from the start
    qtbot.waitUntil(lambda: window.worker is not None and window.worker.frames > 0, timeout=30000)
    assert window.paced.position >= paused_at - 0.05
    window.toggle_pause()
    window.seek(2.0)  # paused: shows that frame (decoded off the GUI thread; raw: no keyframe yet)
    assert window.position == pytest.approx(2.0) and window.timeline.value() == 2000
    from flashvid.video.sources import VideoFile

    expected = next(iter(VideoFile(tmp / "clip.mp4").frames_from(2.0))).image
    qtbot.waitUntil(
        lambda: window.preview.raw is not None and np.array_equal(window.preview.raw, expected), timeout=30000
    )
    window.step_back()
    assert window.position == pytest.approx(0.0)
