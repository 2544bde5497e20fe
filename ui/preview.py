"""`PreviewWidget`: paints the newest frame on demand, as the composite, the alpha, or a before / after split.

Before / after shows the camera's own picture left of a divider and the composite right of it; dragging on the
preview moves the divider. Mirror flips what is shown (a streamer sees themselves as in a mirror); outputs
(recording, virtual camera, stream) are never mirrored. Before a keyframe exists the raw source is shown.
"""

from __future__ import annotations

import numpy as np
from PyQt6.QtCore import QRectF, Qt
from PyQt6.QtGui import QColor, QImage, QPainter, QPen
from PyQt6.QtWidgets import QWidget

from flashvid.video.sinks import SinkFrame

VIEWS = ("composite", "alpha", "before / after")


def to_qimage(rgb: np.ndarray) -> QImage:
    """H x W x 3 (or gray H x W) uint8 -> a QImage that owns a copy of the pixels."""
    a = np.ascontiguousarray(rgb if rgb.ndim == 3 else np.repeat(rgb[:, :, None], 3, axis=2))
    h, w = a.shape[:2]
    # PyQt takes any buffer here (no copy until .copy()); its stubs only name bytes
    return QImage(a.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()  # type: ignore[call-overload]


def checkerboard(height: int, width: int, cell: int = 16) -> np.ndarray:
    """H x W x 3 uint8 light and mid grey squares: what "transparent" looks like in editors."""
    yy, xx = np.indices((height, width))
    light = ((yy // cell + xx // cell) % 2 == 0)[:, :, None]
    return np.where(light, np.uint8(204), np.uint8(153)).astype(np.uint8).repeat(3, axis=2)


def over_checkerboard(rgba: np.ndarray, board: np.ndarray) -> np.ndarray:
    """The cut-out `rgba` (H x W x 4 uint8) over `board`, rounded to nearest, in integers."""
    a = rgba[:, :, 3:4].astype(np.uint16)
    out = (rgba[:, :, :3].astype(np.uint16) * a + board.astype(np.uint16) * (255 - a) + 127) // 255
    return out.astype(np.uint8)


def before_after(before: np.ndarray, after: np.ndarray, split: float) -> np.ndarray:
    """H x W x 3 uint8: `before` left of column round(split * W), `after` right of it (split 0..1)."""
    out = after.copy()
    x = round(float(np.clip(split, 0.0, 1.0)) * after.shape[1])
    out[:, :x] = before[:, :x]
    return out


class PreviewWidget(QWidget):
    """`show_frame(SinkFrame)` (matted) or `show_raw(H x W x 3 uint8)` (no keyframe yet); `view` one of VIEWS;
    `split` 0..1 (before / after); `mirror`."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setMinimumSize(320, 180)
        self.view = VIEWS[0]
        self.split = 0.5
        self.mirror = False
        self.frame: SinkFrame | None = None
        self.raw: np.ndarray | None = None
        self.image: QImage | None = None
        self.painted = 0
        self.hint = "open a source (a camera or a video file), or drop a file here"
        self._target = QRectF()

    def set_view(self, view: str) -> None:
        self.view = view
        self._render()
        self.update()

    def set_mirror(self, on: bool) -> None:
        self.mirror = on
        self._render()
        self.update()

    def show_frame(self, frame: SinkFrame) -> None:
        self.frame, self.raw = frame, None
        self._render()
        self.update()

    def show_raw(self, rgb: np.ndarray) -> None:
        self.frame, self.raw = None, rgb
        self._render()
        self.update()

    #: the background is transparent: the composite shows the cut-out over a checkerboard (not over black)
    transparent = False
    _board: np.ndarray | None = None

    def _composite(self, f: SinkFrame) -> np.ndarray:
        if not self.transparent:
            return f.composite
        h, w = f.rgba.shape[:2]
        if self._board is None or self._board.shape[:2] != (h, w):
            self._board = checkerboard(h, w)
        return over_checkerboard(f.rgba, self._board)

    def rendered(self) -> np.ndarray | None:
        """What the preview shows now, H x W x 3 uint8 (before scaling to the widget)."""
        f = self.frame
        if f is None:
            return None if self.raw is None else self._flip(self.raw)
        if self.view == "alpha":
            img = f.alpha
        elif self.view == "before / after" and f.source is not None:
            img = before_after(f.source, self._composite(f), 1.0 - self.split if self.mirror else self.split)
        else:
            img = self._composite(f)
        return self._flip(img)

    def set_transparent(self, on: bool) -> None:
        self.transparent = on
        self._render()
        self.update()

    def _flip(self, img: np.ndarray) -> np.ndarray:
        return np.ascontiguousarray(img[:, ::-1]) if self.mirror else img

    def _render(self) -> None:
        img = self.rendered()
        if img is not None:
            self.image = to_qimage(img)

    def _set_split(self, x: float) -> None:
        if self.view == "before / after" and self._target.width() > 0:
            self.split = float(np.clip((x - self._target.left()) / self._target.width(), 0.0, 1.0))
            self._render()
            self.update()

    def mousePressEvent(self, event) -> None:
        self._set_split(event.position().x())

    def mouseMoveEvent(self, event) -> None:
        if event.buttons():
            self._set_split(event.position().x())

    def paintEvent(self, event) -> None:
        p = QPainter(self)
        p.fillRect(self.rect(), QColor(24, 24, 24))
        if self.image is not None:
            iw, ih = self.image.width(), self.image.height()
            s = min(self.width() / iw, self.height() / ih)
            w, h = iw * s, ih * s
            self._target = QRectF((self.width() - w) / 2, (self.height() - h) / 2, w, h)
            p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
            p.drawImage(self._target, self.image)
            self.painted += 1
            if self.view == "before / after" and self.frame is not None:
                x = self._target.left() + self.split * w
                p.setPen(QPen(QColor(255, 255, 255), 2))
                p.drawLine(int(x), int(self._target.top()), int(x), int(self._target.bottom()))
                left, right = ("after", "before") if self.mirror else ("before", "after")
                p.drawText(int(self._target.left()) + 8, int(self._target.top()) + 18, left)
                p.drawText(int(self._target.right()) - 48, int(self._target.top()) + 18, right)
        else:
            p.setPen(QColor(200, 200, 200))
            p.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, self.hint)
        p.end()
