"""A plain live window for `flashvid stream --to window` (PyQt6, the ``[ui]`` extra).

It shows the newest composite as it arrives; closing the window stops the stream.
"""

from __future__ import annotations

from flashvid.errors import FlashvidError
from flashvid.video.sinks import Sink, SinkFrame


class WindowClosed(KeyboardInterrupt):
    """The user closed the live window."""


def has_display() -> bool:
    """Whether Qt can open a window here (an X or Wayland display, or a Qt platform that needs none)."""
    import os

    platform = os.environ.get("QT_QPA_PLATFORM", "")
    if platform.startswith(("offscreen", "minimal", "vnc", "eglfs", "linuxfb")):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


class WindowSink(Sink):
    def __init__(self, title: str = "flashvid") -> None:
        try:
            from PyQt6.QtWidgets import QApplication, QLabel
        except ImportError as exc:
            raise FlashvidError("the live window needs PyQt6: pip install 'flashvid[ui]'") from exc
        if not has_display():
            raise FlashvidError(
                "--to window needs a display (none here: DISPLAY / WAYLAND_DISPLAY unset); use --to udp://HOST:PORT "
                "or --to virtualcam"
            )
        self.app = QApplication.instance() or QApplication([])
        self.label = QLabel()
        self.label.setWindowTitle(title)
        self.label.show()
        self.frames = 0

    def write(self, out: SinkFrame) -> None:
        from PyQt6.QtGui import QImage, QPixmap

        h, w = out.composite.shape[:2]
        image = QImage(out.composite.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()  # type: ignore[call-overload]
        self.label.setPixmap(QPixmap.fromImage(image))
        if self.frames == 0:
            self.label.resize(w, h)
        self.frames += 1
        self.app.processEvents()
        if not self.label.isVisible():
            raise WindowClosed

    def close(self) -> None:
        self.label.close()
        self.app.processEvents()
