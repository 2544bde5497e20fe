"""`PreviewWidget`: paints the newest frame on demand, as composite, alpha, or side by side."""

from __future__ import annotations

import numpy as np
from PyQt6.QtCore import QRectF, Qt
from PyQt6.QtGui import QColor, QImage, QPainter
from PyQt6.QtWidgets import QWidget

from flashvid.video.sinks import SinkFrame

VIEWS = ("composite", "alpha", "side by side")


def to_qimage(rgb: np.ndarray) -> QImage:
    """H x W x 3 (or gray H x W) uint8 -> a QImage that owns a copy of the pixels."""
    a = np.ascontiguousarray(rgb if rgb.ndim == 3 else np.repeat(rgb[:, :, None], 3, axis=2))
    h, w = a.shape[:2]
    return QImage(a.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()


class PreviewWidget(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setMinimumSize(320, 180)
        self.view = VIEWS[0]
        self.frame: SinkFrame | None = None
        self.image: QImage | None = None
        self.painted = 0

    def set_view(self, view: str) -> None:
        self.view = view
        self._render()
        self.update()

    def show_frame(self, frame: SinkFrame) -> None:
        self.frame = frame
        self._render()
        self.update()

    def _render(self) -> None:
        f = self.frame
        if f is None:
            return
        if self.view == "alpha":
            self.image = to_qimage(f.alpha)
        elif self.view == "side by side":
            self.image = to_qimage(np.concatenate([f.rgba[:, :, :3], f.composite], axis=1))
        else:
            self.image = to_qimage(f.composite)

    def paintEvent(self, event) -> None:
        p = QPainter(self)
        p.fillRect(self.rect(), QColor(24, 24, 24))
        if self.image is not None:
            iw, ih = self.image.width(), self.image.height()
            s = min(self.width() / iw, self.height() / ih)
            w, h = iw * s, ih * s
            p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
            p.drawImage(QRectF((self.width() - w) / 2, (self.height() - h) / 2, w, h), self.image)
            self.painted += 1
        else:
            p.setPen(QColor(200, 200, 200))
            p.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, "open a source and make a keyframe")
        p.end()
