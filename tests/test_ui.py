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
from flashvid.imageio import write_image
from flashvid.training.data.synth import FlashLight, synthetic_pair

W, H = 160, 120


def qimage_rgb(img) -> np.ndarray:
    from PyQt6.QtGui import QImage

    img = img.convertToFormat(QImage.Format.Format_RGB888)
    ptr = img.constBits()
    ptr.setsize(img.sizeInBytes())
    return (
        np.frombuffer(ptr, np.uint8)
        .reshape(img.height(), img.bytesPerLine())[:, : img.width() * 3]
        .reshape(img.height(), img.width(), 3)
    )


@pytest.fixture()
def studio(qtbot, tmp_path: Path):
    from tests.conftest import make_video

    make_video(tmp_path / "clip.mp4", frames=96, audio=False, width=W, height=H)  # larger than the video tests' clips
    pair = synthetic_pair(H, W, seed=3, light=FlashLight(d_ratio=4.0, power=2.5, exposure_f=0.33))
    write_image(tmp_path / "flash.png", pair.flash)
    write_image(tmp_path / "noflash.png", pair.noflash)
    window = MainWindow(QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(window)
    window.resize(900, 560)
    window.show()
    yield window, tmp_path
    window.stop()


def test_studio_end_to_end(studio, qtbot) -> None:
    import av

    window, tmp = studio
    window.open_source(str(tmp / "clip.mp4"))
    assert window.source is not None and (window.source.width, window.source.height) == (W, H)
    wizard = window.open_wizard()
    wizard.load_files(str(tmp / "flash.png"), str(tmp / "noflash.png"))
    assert wizard.keyframe is not None and wizard.accept_button.isEnabled()
    assert window.model_box.currentText() == "flashvid-rt"
    assert wizard.keyframe.summary()["area_pct"] > 5
    wizard.add_point(W * 0.1, H * 0.1, 0)  # a negative click re-segments
    assert wizard.keyframe.settings.get("edited") and wizard.keyframe.labels[-1] == 0
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
    assert window.matter.matter.keyframe.settings["band"] == 31
    # record 30 frames to a file that decodes
    window.format_box.setCurrentText("mp4")
    window.toggle_record(True, path=str(tmp / "rec"))
    qtbot.waitUntil(lambda: window.recorder.frames >= 30 or bool(window.sinks.errors), timeout=180000)
    assert not window.sinks.errors, window.sinks.errors
    window.grab().save(str(shots / "main_window.png"))
    window.record_button.setChecked(False) if window.record_button.isChecked() else window.toggle_record(False)
    if window.recorder is not None:
        window.toggle_record(False)
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
    assert "no such keyframe file" in window.statusBar().currentMessage()


def test_settings_persist_and_errors_show_in_the_status_bar(studio) -> None:
    window, tmp = studio
    window.smooth.setValue(40)
    window.colour.setText("#123456")
    window.save_settings()
    again = MainWindow(QSettings(str(tmp / "settings.ini"), QSettings.Format.IniFormat))
    assert again.smooth.value() == 40 and again.colour.text() == "#123456"
    again.open_source(str(tmp / "missing.mp4"))
    assert "no such video file" in again.statusBar().currentMessage()
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
    assert not window.udp_box.isChecked() and "open a source first" in window.statusBar().currentMessage()
    window.open_source(str(tmp / "clip.mp4"))
    window.udp_box.setChecked(True)
    assert window.udp_box.isChecked() and window.udp_box.sink is not None
    sink = window.udp_box.sink
    assert sink in window.sinks.sinks
    window.udp_box.setChecked(False)
    assert window.udp_box.sink is None and sink not in window.sinks.sinks


def test_record_before_any_keyframe_neither_crashes_nor_writes(studio) -> None:
    """Issue 13: open a video, Record before any keyframe, Record again: no exception in the slot, no file, a
    status line that says why (before: the sink's close() raised inside the Qt slot and the process aborted)."""
    window, tmp = studio
    window.open_source(str(tmp / "clip.mp4"))
    out = tmp / "rec"
    window.toggle_record(True, str(out))
    window.toggle_record(False)
    assert window.recorder is None
    assert "nothing was recorded" in window.statusBar().currentMessage()
    assert not list(tmp.glob("rec*")) and not list(tmp.glob(".rec*"))


@pytest.mark.parametrize("choice", ["stop and keep", "keep recording", "discard"])
def test_closing_while_recording_asks(studio, qtbot, choice: str) -> None:
    """Issue 13: closing the window while recording asks; each answer does what it says, and nothing hidden is
    left behind (before: the recording was lost without a word and a hidden partial stayed)."""
    window, tmp = studio
    window.open_source(str(tmp / "clip.mp4"))
    from flashvid.imageio import read_image
    from flashvid.keyframe import make_keyframe

    window.set_keyframe(make_keyframe(read_image(tmp / "flash.png"), read_image(tmp / "noflash.png")))
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
    assert wizard.keyframe is not None, wizard.status.text()
    assert "flash at frame 2" in wizard.status.text() and "person" in wizard.status.text()
