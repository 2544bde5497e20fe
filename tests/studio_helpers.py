"""The studio tests' shared window and helpers (tests/test_ui*.py)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from flashvid.ui.app import MainWindow
from PyQt6.QtCore import QSettings

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


def open_studio(qtbot, tmp_path: Path):
    """The `studio` fixture's body (tests/conftest.py): a window over a generated clip and a flash pair."""
    from tests.conftest import make_video

    make_video(tmp_path / "clip.mp4", frames=96, audio=False, width=W, height=H)  # larger than the video tests' clips
    pair = synthetic_pair(H, W, seed=3, light=FlashLight(d_ratio=4.0, power=2.5, exposure_f=0.33))
    write_image(tmp_path / "flash.png", pair.flash)
    write_image(tmp_path / "noflash.png", pair.noflash)
    window = MainWindow(QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))
    window.engine_box.setCurrentText("eager")  # fast to build; the auto engine has its own test
    qtbot.addWidget(window)
    window.resize(900, 560)
    window.show()
    yield window, tmp_path
    window.stop()
    window.tasks.wait()
    if window.exporter is not None:
        window.exporter.cancel.set()
        window.exporter.wait(30000)


def make_kf(tmp: Path):
    from flashvid.imageio import read_image
    from flashvid.keyframe import make_keyframe

    return make_keyframe(read_image(tmp / "flash.png"), read_image(tmp / "noflash.png"))




def stop_recording(window: MainWindow, qtbot, timeout: int = 60000) -> None:
    """Stop the running recording and wait until its file is finished (that runs off the GUI thread)."""
    if window.record_button.isChecked():
        window.record_button.setChecked(False)
    else:
        window.toggle_record(False)
    qtbot.waitUntil(
        lambda: window.recorder is None and "finishing the recording" not in window.tasks.labels(), timeout=timeout
    )
