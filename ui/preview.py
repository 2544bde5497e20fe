"""`PreviewWidget`: paints the newest frame on demand, as the composite, the alpha, or a before / after split.

Before / after shows the camera's own picture left of a divider and the composite right of it; dragging on the
preview moves the divider. Mirror flips what is shown (a streamer sees themselves as in a mirror); outputs
(recording, virtual camera, stream) are never mirrored. Before a keyframe exists the raw source is shown.

Picking (`start_picking`): the preview holds one frame still and takes clicks on it, a left click on the subject
and a right click on what is not, for a keyframe without a flash; Enter hands the clicks over, Esc cancels.
"""

from __future__ import annotations

from collections.abc import Callable

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
        self.picking: np.ndarray | None = None  # the frame held still while clicks are taken on it
        self.picks: list[tuple[float, float, int]] = []  # (x, y) in the frame's pixels, 1 subject / 0 not
        self._picked: Callable[[list[tuple[float, float]], list[int]], None] | None = None
        self._cancelled: Callable[[], None] | None = None

    PICK_HINT = "click the subject (right-click: not the subject) - Enter: key this frame - Esc: cancel"

    def start_picking(
        self,
        frame: np.ndarray,
        picked: Callable[[list[tuple[float, float]], list[int]], None],
        cancelled: Callable[[], None] | None = None,
    ) -> None:
        """Hold `frame` (H x W x 3 uint8) still and take clicks on it; Enter calls `picked(points, labels)` (at
        least one click on the subject), Esc calls `cancelled()`. Frames that arrive meanwhile are kept, not
        shown."""
        self.picking, self.picks = frame, []
        self._picked, self._cancelled = picked, cancelled
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setFocus()
        self._render()
        self.update()

    def stop_picking(self) -> None:
        self.picking, self.picks, self._picked, self._cancelled = None, [], None, None
        self._render()
        self.update()

    def frame_point(self, x: float, y: float) -> tuple[float, float] | None:
        """A widget position -> (x, y) in the held frame's pixels (the mirror undone), None off the picture."""
        if self.picking is None or self._target.width() <= 0:
            return None
        h, w = self.picking.shape[:2]
        u = (x - self._target.left()) / self._target.width()
        v = (y - self._target.top()) / self._target.height()
        if not (0.0 <= u < 1.0 and 0.0 <= v < 1.0):
            return None
        fx = u * w
        return (w - fx if self.mirror else fx), v * h

    def keyPressEvent(self, event) -> None:
        if self.picking is None:
            super().keyPressEvent(event)
            return
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and any(v == 1 for *_, v in self.picks):
            picks, picked = self.picks, self._picked
            self.stop_picking()
            if picked is not None:
                picked([(x, y) for x, y, _ in picks], [v for *_, v in picks])
        elif event.key() == Qt.Key.Key_Escape:
            cancelled = self._cancelled
            self.stop_picking()
            if cancelled is not None:
                cancelled()
        else:
            super().keyPressEvent(event)

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
        if self.picking is None:
            self._render()
            self.update()

    def show_raw(self, rgb: np.ndarray) -> None:
        self.frame, self.raw = None, rgb
        if self.picking is None:
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
        if self.picking is not None:
            return self._flip(self.picking)
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

    def needs_cutout(self) -> bool:
        """Whether painting reads a frame's cut-out (transparent over the checkerboard, or the alpha view), so the
        worker makes it before handing the frame over (`SinkFrame.make_cutout`)."""
        return self.transparent or self.view == "alpha"

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
        if self.picking is not None:
            at = self.frame_point(event.position().x(), event.position().y())
            if at is not None:
                self.picks.append((at[0], at[1], 0 if event.button() == Qt.MouseButton.RightButton else 1))
                self.update()
            return
        self._set_split(event.position().x())

    def mouseMoveEvent(self, event) -> None:
        if event.buttons() and self.picking is None:
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
            if self.picking is not None:
                self._paint_picks(p, s)
            elif self.view == "before / after" and self.frame is not None:
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

    def _paint_picks(self, p: QPainter, scale: float) -> None:
        """The clicks taken so far (green: subject, red: not) and what to do, over the held frame."""
        assert self.picking is not None
        w = self.picking.shape[1]
        for x, y, v in self.picks:
            sx = self._target.left() + (w - x if self.mirror else x) * scale
            sy = self._target.top() + y * scale
            p.setPen(QPen(QColor(255, 255, 255), 2))
            p.setBrush(QColor(40, 200, 90) if v == 1 else QColor(230, 60, 60))
            p.drawEllipse(int(sx) - 6, int(sy) - 6, 12, 12)
        band = QRectF(self._target.left(), self._target.top(), self._target.width(), 26)
        p.fillRect(band, QColor(0, 0, 0, 170))
        p.setPen(QColor(255, 255, 255))
        p.drawText(band, Qt.AlignmentFlag.AlignCenter, self.PICK_HINT)
