"""`KeyframeWizard`: make the flash keyframe, three ways, and correct it by hand.

1. Screen flash (webcams): exposure is locked where the camera allows it, the window turns full-screen white for
   a fraction of a second, and the frame grabbed under it plus one right beside it (after the white is gone)
   form the pair.
2. Physical flash: grab the no-flash frame, then the flash frame, each on a key press (N, then F).
3. Two image files.

The pair is shown as the ratio map with its points, the mask and the trimap over the image. Left clicks add
positive points, right clicks negative ones (SAM re-prompts when a checkpoint is set; GrabCut otherwise re-seeds
from them), and a brush paints trimap corrections (foreground, unknown, background); Undo (Ctrl+Z) takes the last
edit back, a legend names the trimap's colours. Segmenting runs on a worker thread; the window keeps its size
whatever the messages say. Enter accepts, Esc cancels. Accept returns the `Keyframe`, whose hand edits are
recorded in it, so later band / threshold changes replay them (`Keyframe.remade`).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from flashvid.ui.preview import to_qimage
from flashvid.ui.tasks import TaskRunner
from PyQt6.QtCore import QPointF, Qt, QTimer, pyqtSignal
from PyQt6.QtGui import QColor, QImage, QKeySequence, QPainter, QShortcut
from PyQt6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QRadioButton,
    QSizePolicy,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from flashvid.errors import FlashvidError
from flashvid.imageio import read_image
from flashvid.keyframe import Keyframe, make_keyframe
from flashvid.viz import mask_overlay, ratio_with_points, trimap_overlay

Grab = Callable[[], np.ndarray]


class KeyframeCanvas(QWidget):
    """Shows one picture of the keyframe; reports clicks and brush strokes in image coordinates."""

    clicked = pyqtSignal(float, float, int)  # x, y, label (1 positive, 0 negative)
    painted = pyqtSignal(float, float)
    released = pyqtSignal()  # the end of a brush stroke

    def __init__(self) -> None:
        super().__init__()
        self.setMinimumSize(480, 270)
        self.image: QImage | None = None
        self.brush = False

    def set_image(self, rgb: np.ndarray) -> None:
        self.image = to_qimage(rgb)
        self.update()

    def _map(self, pos: QPointF) -> tuple[float, float] | None:
        if self.image is None:
            return None
        s = min(self.width() / self.image.width(), self.height() / self.image.height())
        ox, oy = (self.width() - self.image.width() * s) / 2, (self.height() - self.image.height() * s) / 2
        x, y = (pos.x() - ox) / s, (pos.y() - oy) / s
        if 0 <= x < self.image.width() and 0 <= y < self.image.height():
            return x, y
        return None

    def mousePressEvent(self, e) -> None:
        p = self._map(e.position())
        if p is None:
            return
        if self.brush:
            self.painted.emit(*p)
        else:
            self.clicked.emit(p[0], p[1], 0 if e.button() == Qt.MouseButton.RightButton else 1)

    def mouseReleaseEvent(self, e) -> None:
        self.released.emit()

    def mouseMoveEvent(self, e) -> None:
        p = self._map(e.position())
        if self.brush and p is not None and e.buttons():
            self.painted.emit(*p)

    def paintEvent(self, event) -> None:
        p = QPainter(self)
        p.fillRect(self.rect(), QColor(24, 24, 24))
        if self.image is not None:
            s = min(self.width() / self.image.width(), self.height() / self.image.height())
            w, h = self.image.width() * s, self.image.height() * s
            p.drawImage(QPointF((self.width() - w) / 2, (self.height() - h) / 2), self.image.scaled(int(w), int(h)))
        p.end()


class KeyframeWizard(QDialog):
    """Args: grab: returns the camera's current frame (None when no camera is open); lock_exposure /
    unlock_exposure: optional camera hooks for the screen flash; settings: make_keyframe settings
    (threshold, band, sam_checkpoint, ...)."""

    def __init__(
        self,
        parent: QWidget | None = None,
        grab: Grab | None = None,
        lock_exposure: Callable[[], bool] | None = None,
        unlock_exposure: Callable[[], None] | None = None,
        settings: dict | None = None,
        video_path: str | None = None,
    ) -> None:
        super().__init__(parent)
        self.video_path = video_path
        self.setWindowTitle("Flash keyframe")
        self.grab_frame, self.lock, self.unlock = grab, lock_exposure, unlock_exposure
        self.settings = dict(settings or {})
        self.flash: np.ndarray | None = None
        self.noflash: np.ndarray | None = None
        self.keyframe: Keyframe | None = None
        self.extra_points: list[tuple[float, float, int]] = []
        self.history: list[Keyframe] = []  # keyframes before each edit, for Undo
        self.capture_note = ""
        self.tasks = TaskRunner(self)
        self.canvas = KeyframeCanvas()
        self.canvas.clicked.connect(self.add_point)
        self.canvas.painted.connect(self.paint_trimap)
        self.canvas.released.connect(self._end_stroke)
        self._stroke_open = False
        self.status = QLabel("choose how to take the keyframe")
        self.status.setWordWrap(True)
        # a long message wraps instead of widening the window (and pushing Accept off screen)
        self.status.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.status.setMinimumHeight(40)
        self.view = QComboBox()
        self.view.addItems(["ratio + points", "mask", "trimap"])
        self.view.currentTextChanged.connect(lambda _: self.refresh())
        self.brush = QComboBox()
        self.brush.addItems(["points (click)", "brush: foreground", "brush: unknown", "brush: background"])
        self.brush.currentIndexChanged.connect(self._brush_mode)
        self.brush_size = QSpinBox()
        self.brush_size.setRange(2, 200)
        self.brush_size.setValue(16)
        modes = QHBoxLayout()
        self.mode_group = QButtonGroup(self)
        # a camera can flash now; a file can only have had its flash while it was filmed
        choices = (
            [("Flash in this clip", self.from_clip), ("Two files...", self.from_files)]
            if video_path is not None
            else [
                ("Screen flash", self.screen_flash),
                ("Physical flash (N, then F)", self.physical_flash),
                ("Two files...", self.from_files),
            ]
        )
        for i, (text, slot) in enumerate(choices):
            b = QRadioButton(text)
            b.clicked.connect(slot)
            self.mode_group.addButton(b, i)
            modes.addWidget(b)
        self.accept_button = QPushButton("Accept")
        self.accept_button.setEnabled(False)
        self.accept_button.setDefault(True)  # Enter accepts
        self.accept_button.clicked.connect(self.accept)
        cancel = QPushButton("Cancel")
        cancel.setAutoDefault(False)
        cancel.clicked.connect(self.reject)
        self.undo_button = QPushButton("Undo")
        self.undo_button.setAutoDefault(False)
        self.undo_button.setToolTip("Take the last click or brush stroke back (Ctrl+Z)")
        self.undo_button.setEnabled(False)
        self.undo_button.clicked.connect(self.undo)
        legend = QLabel(
            "trimap: <span style='background:#ffd200'>&nbsp;&nbsp;&nbsp;</span> unsure edge "
            "<span style='background:#404040'>&nbsp;&nbsp;&nbsp;</span> background (darkened) "
            "&nbsp;as is: subject"
        )
        legend.setToolTip("In the trimap view: yellow is the edge band the network decides, dark is background")
        tools = QHBoxLayout()
        for w in (QLabel("show"), self.view, QLabel("edit"), self.brush, QLabel("size"), self.brush_size):
            tools.addWidget(w)
        tools.addWidget(self.undo_button)
        tools.addStretch(1)
        tools.addWidget(legend)
        buttons = QHBoxLayout()
        buttons.addWidget(self.status, 1)
        buttons.addWidget(cancel)
        buttons.addWidget(self.accept_button)
        layout = QVBoxLayout(self)
        layout.addLayout(modes)
        layout.addWidget(self.canvas, 1)
        layout.addLayout(tools)
        layout.addLayout(buttons)
        for key, slot in (
            (QKeySequence("N"), self.grab_noflash),
            (QKeySequence("F"), self.grab_flash),
            (QKeySequence(QKeySequence.StandardKey.Undo), self.undo),
        ):
            QShortcut(key, self).activated.connect(slot)
        self.resize(960, 680)

    # -------------------------------------------------------------------------------------------- capture

    def _grab(self) -> np.ndarray:
        assert self.grab_frame is not None  # callers check `_need_camera` first
        return self.grab_frame()

    def _need_camera(self) -> bool:
        if self.grab_frame is None:
            self.status.setText("no camera is open: open one in the main window, or use two files")
            return False
        return True

    def screen_flash(self) -> None:
        """Lock exposure, flash the screen white, grab the lit frame and one after it."""
        if not self._need_camera():
            return
        locked = self.lock() if self.lock else False
        white = QWidget()
        white.setStyleSheet("background: white;")
        white.showFullScreen()
        self._white = white

        def under_flash() -> None:
            self.flash = self._grab()
            white.close()
            QTimer.singleShot(300, after_flash)

        def after_flash() -> None:
            self.noflash = self._grab()
            if self.unlock:
                self.unlock()
            self.capture_note = f"screen flash (exposure {'locked' if locked else 'not lockable here'}): "
            self.compute()

        QTimer.singleShot(350, under_flash)

    def physical_flash(self) -> None:
        if self._need_camera():
            self.status.setText("press N for the no-flash frame, then fire the flash and press F")

    def grab_noflash(self) -> None:
        if self._need_camera():
            self.noflash = self._grab()
            self.status.setText("no-flash frame taken; now fire the flash and press F")

    def grab_flash(self) -> None:
        if self._need_camera():
            self.flash = self._grab()
            self.capture_note = "physical flash: "
            self.compute()

    def from_clip(self) -> None:
        """The flash burst filmed in the open video file (a torch or the screen flashed at the start of the take)."""
        from flashvid.keyframe.in_clip import find_flash_pair
        from flashvid.video.sources import VideoFile

        if self.video_path is None:
            return
        path = self.video_path

        def find() -> object:
            src = VideoFile(path)
            return find_flash_pair(lambda: (f.image for f in src), name=path, max_frames=int(30 * src.fps))

        def found(pair) -> None:
            self.flash, self.noflash = pair.flash, pair.noflash
            self.capture_note = f"flash at frame {pair.flash_index}, no-flash frame {pair.noflash_index}: "
            self.compute()

        self.status.setText("looking for the flash in the clip...")
        self.tasks.submit("compute", "finding the flash", find, found, self._failed)

    def from_files(self) -> None:
        f, _ = QFileDialog.getOpenFileName(self, "Flash image", "", "Images (*.png *.jpg *.jpeg *.tif *.bmp)")
        if not f:
            return
        n, _ = QFileDialog.getOpenFileName(self, "No-flash image", "", "Images (*.png *.jpg *.jpeg *.tif *.bmp)")
        if n:
            self.load_files(f, n)

    def load_files(self, flash_path: str, noflash_path: str) -> None:
        self.capture_note = "files: "
        try:
            self.flash, self.noflash = read_image(flash_path), read_image(noflash_path)
        except FlashvidError as exc:
            self.status.setText(str(exc))
            return
        self.compute()

    # ---------------------------------------------------------------------------------------- compute / edit

    def compute(self) -> None:
        """Make the keyframe from the pair on a worker thread; the wizard stays responsive meanwhile."""
        if self.flash is None or self.noflash is None:
            return
        flash, noflash, settings = self.flash, self.noflash, dict(self.settings)
        self.accept_button.setEnabled(False)
        self.status.setText(f"{self.capture_note}finding the subject...")
        self.tasks.submit(
            "compute",
            "segmenting",
            lambda: make_keyframe(flash, noflash, resize=True, accept_weak_flash=True, **settings),
            self._computed,
            self._failed,
        )

    def _failed(self, exc: BaseException) -> None:
        if not isinstance(exc, FlashvidError):
            raise exc
        self.keyframe = None
        self.accept_button.setEnabled(False)
        self.status.setText(str(exc))

    def _computed(self, kf: Keyframe) -> None:
        self.keyframe = kf
        self.extra_points = []
        self.history = []
        self.undo_button.setEnabled(False)
        self.accept_button.setEnabled(True)
        s = kf.summary()
        weak = (
            "WARNING: the flash barely lit the subject more than the room; check that the flash image is the lit "
            "one (retake closer if the subject is not what is marked). "
            if kf.settings.get("weak_flash")
            else ""
        )
        self.status.setText(
            f"{weak}{self.capture_note}subject {s['area_pct']:.1f} %, {s['points']} points, ratio "
            f"{s['ratio_in']:.2f} inside vs {s['ratio_out']:.2f} outside; segmented by "
            f"{kf.settings.get('segmenter', '?')}"
        )
        self.refresh()

    def _edited(self, before: Keyframe, after: Keyframe) -> None:
        self.history.append(before)
        self.keyframe = after
        self.undo_button.setEnabled(True)
        self.accept_button.setEnabled(True)
        self.refresh()

    def undo(self) -> None:
        """Back to the keyframe before the last click or stroke."""
        if not self.history:
            return
        self.keyframe = self.history.pop()
        if self.extra_points and len(self.keyframe.settings.get("edits", [])) < len(self.extra_points):
            self.extra_points.pop()
        self.undo_button.setEnabled(bool(self.history))
        self.refresh()

    def refresh(self) -> None:
        kf = self.keyframe
        if kf is None:
            return
        v = self.view.currentText()
        if v == "mask":
            self.canvas.set_image(mask_overlay(kf.flash, kf.mask))
        elif v == "trimap":
            self.canvas.set_image(trimap_overlay(kf.flash, kf.trimap))
        else:
            self.canvas.set_image(ratio_with_points(kf.ratio, kf.points, kf.labels))

    def add_point(self, x: float, y: float, label: int) -> None:
        """Add a point and segment again with all points (SAM re-prompts; GrabCut re-seeds), on a worker thread."""
        kf = self.keyframe
        if kf is None:
            return
        sam = {
            "sam_checkpoint": self.settings.get("sam_checkpoint"),
            "sam_type": self.settings.get("sam_type"),
            "device": self.settings.get("device", "cpu"),
        }
        self.extra_points.append((x, y, label))
        self.accept_button.setEnabled(False)  # until the new mask is there
        self.tasks.submit(
            "edit",
            "segmenting again",
            lambda: kf.with_points([(x, y)], [label], **sam),
            lambda new: self._edited(kf, new),
            self._failed,
        )

    def _brush_mode(self, index: int) -> None:
        self.canvas.brush = index > 0
        if index > 0 and self.view.currentText() != "trimap":
            self.view.setCurrentText("trimap")

    def paint_trimap(self, x: float, y: float) -> None:
        kf = self.keyframe
        if kf is None:
            return
        value = {1: 255, 2: 128, 3: 0}[self.brush.currentIndex()]
        new = kf.with_strokes([(x, y, self.brush_size.value(), value)])
        if self._stroke_open:  # one drag is one edit for Undo
            self.keyframe = new
            self.refresh()
        else:
            self._stroke_open = True
            self._edited(kf, new)

    def _end_stroke(self) -> None:
        self._stroke_open = False
