"""Issue 25 (the studio, second round): no stray dialogs, a failed drop stops nothing, outputs that are what
was asked, a preview to trust. Offscreen; each test fails on the code before the fix."""

from __future__ import annotations

import numpy as np
import pytest
from flashvid.ui.app import MainWindow
from PyQt6.QtCore import QSettings
from PyQt6.QtWidgets import QFileDialog

from flashvid.imageio import write_image
from tests.studio_helpers import H, W, make_kf


@pytest.fixture()
def no_dialogs(monkeypatch):
    """Any file dialog opened during the test is recorded (and answered with nothing)."""
    opened: list[str] = []

    def record(*args, **kwargs):
        opened.append(str(args[1] if len(args) > 1 else kwargs.get("caption", "")))
        return "", ""

    monkeypatch.setattr(QFileDialog, "getOpenFileName", record)
    monkeypatch.setattr(QFileDialog, "getSaveFileName", record)
    return opened


def test_stored_presets_and_typed_colours_never_open_a_dialog(studio, qtbot, no_dialogs) -> None:
    window, tmp = studio
    write_image(tmp / "room.png", np.full((H, W, 3), 90, np.uint8))
    window.set_background_spec(str(tmp / "room.png"))
    assert window.background_box.currentText().startswith("image")
    window.save_preset("with image")
    window.save_settings()
    # a relaunch with an image background: the window, the image, no dialog
    again = MainWindow(QSettings(str(tmp / "settings.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(again)
    assert again.background_spec == str(tmp / "room.png") and again.background_box.currentText().startswith("image")
    # a preset with an image background, applied: no dialog
    window.set_background_spec("#00ff00")
    window.apply_preset("with image")
    assert window.background_spec == str(tmp / "room.png")
    # typing a colour while the image is selected applies the colour
    window.colour.setFocus()
    window.colour.selectAll()
    qtbot.keyClicks(window.colour, "#ff0000")
    window.colour.editingFinished.emit()
    assert window.background_spec == "#ff0000" and window.background_box.currentText() == "colour"
    # leaving the colour field unedited (as closing the window does) changes nothing
    window.set_background_spec(str(tmp / "room.png"))
    window.colour.editingFinished.emit()
    assert window.background_spec == str(tmp / "room.png")
    assert no_dialogs == []
    # the user choosing "image" in the box is what opens the dialog
    window.background_box.textActivated.emit(window.background_box.currentText())
    assert len(no_dialogs) == 1
    again.close()


def test_a_bad_file_dropped_while_streaming_stops_nothing(studio, qtbot) -> None:
    window, tmp = studio
    window.open_source(str(tmp / "clip.mp4"))
    window.set_keyframe(make_kf(tmp))
    qtbot.waitUntil(lambda: window.preview.frame is not None, timeout=60000)
    worker = window.worker
    (tmp / "notes.mp4").write_text("not a video")
    window.open_path(str(tmp / "notes.mp4"))
    assert any("notes.mp4" in m for m in window.banner.messages)
    assert window.worker is worker and worker.isRunning() and window.source_label == "clip.mp4"
    n = worker.run_stats.frames_written
    qtbot.waitUntil(lambda: worker.run_stats.frames_written > n + 3, timeout=60000)  # still matting
