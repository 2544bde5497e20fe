"""flashvid-studio: the desktop app. It drives flashvid's API and pipeline; no matting logic lives here.

Main window: a source (a camera found on this machine, or a video file played at its own rate), the live preview
(newest frame only, inference on a worker thread), the view (composite / alpha / side by side), FPS, latency and
drops; the keyframe wizard; controls that apply live (background, band, ratio threshold, smoothing, despill,
model, engine, precision, internal resolution; slider bursts are throttled); recording to a file in the export
formats with elapsed time and size; virtual camera and UDP toggles. Settings persist (QSettings). Shortcuts:
K keyframe, R record, V next view, Space pause.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
from flashvid.ui import settings as settings_model
from flashvid.ui.outputs import OutputToggle
from flashvid.ui.preview import VIEWS, PreviewWidget
from flashvid.ui.wizard import KeyframeWizard
from flashvid.ui.worker import LockedMatter, MattingWorker, Paced, SinkSet
from PyQt6.QtCore import QSettings, Qt, QTimer
from PyQt6.QtGui import QKeySequence, QShortcut
from PyQt6.QtWidgets import (
    QApplication,
    QColorDialog,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMainWindow,
    QMessageBox,
    QPushButton,
    QSlider,
    QVBoxLayout,
    QWidget,
)

from flashvid.api import make_matter
from flashvid.compose import BlurBackground, ColorBackground, Compositor, TransparentBackground
from flashvid.errors import FlashvidError
from flashvid.keyframe import Keyframe
from flashvid.video.background import parse_background
from flashvid.video.sinks import UdpSink, VirtualCamSink, make_sink, output_path
from flashvid.video.sources import VideoFile, Webcam, find_cameras


class MainWindow(QMainWindow):
    def __init__(self, settings: QSettings | None = None) -> None:
        super().__init__()
        self.setWindowTitle("flashvid studio")
        self.settings = settings or QSettings("flashvid", "studio")
        self.preview = PreviewWidget()
        self.sinks = SinkSet()
        self.compositor = Compositor(ColorBackground((0, 255, 0)))
        self.matter: LockedMatter | None = None
        self.worker: MattingWorker | None = None
        self.source: VideoFile | Webcam | None = None
        self.source_label = ""
        self.keyframe: Keyframe | None = None
        self.recorder = None
        self.record_started = 0.0
        self._pending_keyframe = QTimer(singleShot=True, interval=150)
        self._pending_keyframe.timeout.connect(self._apply_keyframe_settings)
        self._pending_matter = QTimer(singleShot=True, interval=300)
        self._pending_matter.timeout.connect(self._rebuild_matter)
        self._build_ui()
        self._restore()
        self._record_timer = QTimer(interval=500)
        self._record_timer.timeout.connect(self._record_status)

    # ------------------------------------------------------------------------------------------------- UI

    def _build_ui(self) -> None:
        self.source_box = QComboBox()
        self.source_box.addItems([f"camera {i}" for i in find_cameras()] + ["video file..."])
        open_button = QPushButton("Open")
        open_button.clicked.connect(self.open_selected)
        self.keyframe_button = QPushButton("Keyframe... (K)")
        self.keyframe_button.clicked.connect(self.open_wizard)
        open_kf = QPushButton("Open keyframe")
        open_kf.clicked.connect(lambda: self.open_keyframe())
        save_kf = QPushButton("Save keyframe")
        save_kf.clicked.connect(lambda: self.save_keyframe())
        self.view_box = QComboBox()
        self.view_box.addItems(list(VIEWS))
        self.view_box.currentTextChanged.connect(self.preview.set_view)
        self.fps_label = QLabel("FPS -")
        top = QHBoxLayout()
        for w in (self.source_box, open_button, self.keyframe_button, open_kf, save_kf, QLabel("view"), self.view_box):
            top.addWidget(w)
        top.addStretch(1)
        top.addWidget(self.fps_label)

        form = QFormLayout()
        # every control comes from the settings table (ui/settings.py): default, range, tooltip, QSettings key
        self.controls = {st.key: settings_model.make_control(st) for st in settings_model.SETTINGS}
        c = self.controls
        self.background_box, self.colour, self.blur = c["background"], c["colour"], c["blur"]
        self.band, self.threshold, self.smooth, self.despill = c["band"], c["threshold"], c["smooth"], c["despill"]
        self.model_box, self.engine_box, self.precision_box = c["model"], c["engine"], c["precision"]
        self.internal, self.format_box = c["internal"], c["format"]
        self.background_box.currentTextChanged.connect(self._background_changed)
        self.colour.editingFinished.connect(lambda: self._background_changed(self.background_box.currentText()))
        self.blur.valueChanged.connect(lambda v: self._background_changed("blur"))
        self.band.valueChanged.connect(lambda _: self._pending_keyframe.start())
        self.threshold.valueChanged.connect(lambda _: self._pending_keyframe.start())
        self.smooth.valueChanged.connect(lambda v: setattr(self.compositor, "smoothing", v / 100))
        self.despill.valueChanged.connect(lambda v: setattr(self.compositor, "despill", v / 100))
        for w in (self.model_box, self.engine_box, self.precision_box):
            w.currentTextChanged.connect(lambda _: self._pending_matter.start())
        self.internal.valueChanged.connect(lambda _: self._pending_matter.start())
        pick = QPushButton("pick")
        pick.clicked.connect(self._pick_colour)
        row = QHBoxLayout()
        row.addWidget(self.colour)
        row.addWidget(pick)
        for key in (
            "background",
            "colour",
            "blur",
            "band",
            "threshold",
            "smooth",
            "despill",
            "model",
            "engine",
            "precision",
            "internal",
        ):
            form.addRow(settings_model.BY_KEY[key].label, row if key == "colour" else c[key])

        self.record_button = QPushButton("Record (R)")
        self.record_button.setCheckable(True)
        self.record_button.toggled.connect(self.toggle_record)
        self.record_label = QLabel("")
        self.udp_url = QLineEdit("udp://127.0.0.1:5000")
        self.virtualcam_box = OutputToggle(
            "virtual camera",
            lambda src: VirtualCamSink(src.width, src.height, src.fps),
            self.sinks,
            lambda: self.source,
            self.error,
            self.statusBar().showMessage,
            lambda sink: f"on {getattr(sink, 'device', '')}",
        )
        self.udp_box = OutputToggle(
            "UDP stream",
            lambda src: UdpSink(self.udp_url.text(), src.width, src.height, src.fps),
            self.sinks,
            lambda: self.source,
            self.error,
            self.statusBar().showMessage,
            lambda sink: f"streaming to {self.udp_url.text()}",
        )
        form.addRow("record format", self.format_box)
        form.addRow(self.record_button, self.record_label)
        form.addRow(self.virtualcam_box)
        form.addRow(self.udp_box, self.udp_url)
        panel = QWidget()
        panel.setLayout(form)
        panel.setMaximumWidth(380)

        body = QHBoxLayout()
        body.addWidget(self.preview, 1)
        body.addWidget(panel)
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.addLayout(top)
        layout.addLayout(body, 1)
        self.setCentralWidget(central)
        self.statusBar().showMessage("open a source, then take a keyframe")
        QShortcut(QKeySequence("K"), self, activated=self.open_wizard)
        QShortcut(QKeySequence("R"), self, activated=self.record_button.toggle)
        QShortcut(QKeySequence("V"), self, activated=self._next_view)
        QShortcut(QKeySequence("Space"), self, activated=self.toggle_pause)

    def _slider(self, lo: int, hi: int, value: int, on_change) -> QSlider:
        s = QSlider(Qt.Orientation.Horizontal)
        s.setRange(lo, hi)
        s.setValue(value)
        s.valueChanged.connect(on_change)
        return s

    def _next_view(self) -> None:
        self.view_box.setCurrentIndex((self.view_box.currentIndex() + 1) % self.view_box.count())

    def error(self, message: str) -> None:
        self.statusBar().showMessage(message, 10000)

    # ------------------------------------------------------------------------------------------- settings

    def _restore(self) -> None:
        settings_model.restore(self.controls, self.settings)
        self.view_box.setCurrentText(str(self.settings.value("view", "composite")))
        self._background_changed(self.background_box.currentText(), restoring=True)

    def save_settings(self) -> None:
        settings_model.save(self.controls, self.settings)
        self.settings.setValue("view", self.view_box.currentText())
        self.settings.sync()

    def closeEvent(self, event) -> None:
        if self.recorder is not None:
            choice = self.ask_recording_on_close()
            if choice == "keep recording":
                event.ignore()
                return
            if choice == "discard":
                self.sinks.remove(self.recorder)
                self.recorder.abort()
                kept = getattr(self.recorder, "kept_partial", None)
                if kept is not None:
                    kept.unlink(missing_ok=True)
                self.recorder = None
            else:  # stop and keep
                self.record_button.blockSignals(True)
                self.record_button.setChecked(False)
                self.record_button.blockSignals(False)
                self.toggle_record(False)
        self.save_settings()
        self.stop()
        super().closeEvent(event)

    def ask_recording_on_close(self) -> str:
        """'stop and keep', 'keep recording' or 'discard' (a dialog; tests replace this method)."""
        box = QMessageBox(self)
        box.setWindowTitle("Recording in progress")
        box.setText(f"A recording is running ({self.record_path.name}). Close the studio anyway?")
        keep = box.addButton("Stop and keep it", QMessageBox.ButtonRole.AcceptRole)
        go_on = box.addButton("Keep recording", QMessageBox.ButtonRole.RejectRole)
        box.addButton("Discard it", QMessageBox.ButtonRole.DestructiveRole)
        box.setDefaultButton(keep)
        box.exec()
        clicked = box.clickedButton()
        return "stop and keep" if clicked is keep else "keep recording" if clicked is go_on else "discard"

    # --------------------------------------------------------------------------------------------- source

    def open_selected(self) -> None:
        text = self.source_box.currentText()
        if text.startswith("camera "):
            self.open_source(int(text.split()[1]))
            return
        path, _ = QFileDialog.getOpenFileName(self, "Video", "", "Videos (*.mp4 *.mov *.mkv *.webm *.avi)")
        if path:
            self.open_source(path)

    def open_source(self, spec: int | str) -> None:
        """Open a camera index or a video file; restarts the stream if a keyframe is set."""
        self.stop()
        try:
            self.source = Webcam(spec) if isinstance(spec, int) else VideoFile(spec)
        except FlashvidError as exc:
            self.error(str(exc))
            return
        self.source_label = f"camera {spec}" if isinstance(spec, int) else Path(spec).name
        self.statusBar().showMessage(f"{self.source_label}: {self.source.width}x{self.source.height}; take a keyframe")
        if self.keyframe is not None:
            self.start()

    def current_frame(self) -> np.ndarray | None:
        """The source's current frame (the newest matted input while streaming)."""
        if self.worker is not None and self.worker.latest is not None and self.worker.latest.source is not None:
            return self.worker.latest.source.copy()  # the newest input frame of the running stream
        if isinstance(self.source, Webcam):
            return self.source.read()
        if isinstance(self.source, VideoFile):
            return next(iter(self.source)).image
        return None

    # ------------------------------------------------------------------------------------------- keyframe

    def keyframe_settings(self) -> dict:
        return {"threshold": self.threshold.value(), "band": self.band.value() or None}

    def open_wizard(self) -> KeyframeWizard:
        cam = self.source if isinstance(self.source, Webcam) else None
        wizard = KeyframeWizard(
            self,
            grab=self.current_frame if self.source is not None else None,
            lock_exposure=cam.lock_exposure if cam else None,
            unlock_exposure=cam.unlock_exposure if cam else None,
            settings=self.keyframe_settings(),
            video_path=str(self.source.path) if isinstance(self.source, VideoFile) else None,
        )
        wizard.accepted.connect(lambda: self.set_keyframe(wizard.keyframe))
        wizard.show()
        self.wizard = wizard
        return wizard

    def set_keyframe(self, kf: Keyframe | None) -> None:
        if kf is None:
            return
        self.keyframe = kf
        if self.matter is None:
            self._rebuild_matter()
        else:
            self.matter.set_keyframe(kf)
        s = kf.summary()
        self.statusBar().showMessage(f"keyframe set: subject {s['area_pct']:.0f} % of the frame, {s['points']} points")
        if self.worker is None and self.source is not None:
            self.start()

    def open_keyframe(self, path: str | None = None) -> None:
        if path is None:
            path, _ = QFileDialog.getOpenFileName(self, "Keyframe", "", "Keyframes (*.flashkey)")
            if not path:
                return
        try:
            self.set_keyframe(Keyframe.load(path))
        except FlashvidError as exc:
            self.error(str(exc))
            return
        self.statusBar().showMessage(f"keyframe {Path(path).name} opened", 5000)

    def save_keyframe(self, path: str | None = None) -> None:
        if self.keyframe is None:
            self.error("no keyframe to save yet: take one first (K)")
            return
        if path is None:
            path, _ = QFileDialog.getSaveFileName(self, "Save keyframe", "keyframe.flashkey", "Keyframes (*.flashkey)")
            if not path:
                return
        try:
            self.keyframe.save(path)
        except OSError as exc:
            self.error(f"{path}: cannot be written ({exc.strerror}); choose another folder")
            return
        self.statusBar().showMessage(f"keyframe saved to {path}", 5000)

    def _apply_keyframe_settings(self) -> None:
        """Band / threshold changed: remake the keyframe from its pair and hand it over, stream running."""
        kf = self.keyframe
        if kf is None or self.matter is None:
            return
        from flashvid.keyframe import make_keyframe

        try:
            new = make_keyframe(kf.flash, kf.noflash, **self.keyframe_settings())
        except FlashvidError as exc:
            self.error(str(exc))
            return
        self.keyframe = new
        self.matter.set_keyframe(new)

    def _rebuild_matter(self) -> None:
        """Model, engine, precision or internal resolution changed: build a new matter and swap it in."""
        if self.keyframe is None:
            return
        rt = self.model_box.currentText() == "flashvid-rt"
        try:
            matter = make_matter(  # the library's builder, as `flashvid export` uses
                self.model_box.currentText(),
                engine=self.engine_box.currentText(),
                precision=self.precision_box.currentText(),
                internal_size=self.internal.value() if rt else None,
            )
            matter.set_keyframe(self.keyframe)
        except FlashvidError as exc:
            self.error(str(exc))
            return
        if self.matter is None:
            self.matter = LockedMatter(matter)
        else:
            self.matter.swap(matter)

    # ------------------------------------------------------------------------------------------ compositing

    def _pick_colour(self) -> None:
        c = QColorDialog.getColor()
        if c.isValid():
            self.colour.setText(c.name())
            self.background_box.setCurrentText("colour")
            self._background_changed("colour")

    def _background_changed(self, kind: str, restoring: bool = False) -> None:
        try:
            if kind == "colour":
                bg = parse_background(self.colour.text())
            elif kind == "blur":
                bg = BlurBackground(self.blur.value())
            elif kind == "transparent":
                bg = TransparentBackground()
            elif restoring:
                bg = ColorBackground((0, 255, 0))
            else:
                filt = "Images (*.png *.jpg *.jpeg)" if kind.startswith("image") else "Videos (*.mp4 *.mov *.mkv)"
                path, _ = QFileDialog.getOpenFileName(self, "Background", "", filt)
                if not path:
                    return
                bg = parse_background(path)
        except FlashvidError as exc:
            self.error(str(exc))
            return
        self.set_background(bg)
        if not restoring and self.background_box.currentText() != kind and kind in ("colour", "blur", "transparent"):
            self.background_box.setCurrentText(kind)

    def set_background(self, background) -> None:
        self.compositor.background = background  # read by the worker on its next frame

    # -------------------------------------------------------------------------------------------- stream

    def start(self) -> None:
        if self.source is None or self.matter is None:
            return
        self.stop()
        frames = Paced(self.source) if isinstance(self.source, VideoFile) else self.source
        self.worker = MattingWorker(frames, self.matter, self.compositor, self.sinks)
        self.worker.frameReady.connect(self._paint_newest)
        self.worker.stats.connect(self._show_stats)
        self.worker.failed.connect(self.error)
        self.worker.start()

    def stop(self) -> None:
        if self.worker is not None:
            self.worker.stop()
            self.worker = None

    def toggle_pause(self) -> None:
        if self.worker is not None:
            self.stop()
            self.statusBar().showMessage("paused (Space to resume)")
        else:
            self.start()

    def _paint_newest(self) -> None:
        if self.worker is None:
            return
        frame = self.worker.take()
        if frame is not None:
            self.preview.show_frame(frame)
        for sink, exc in self.sinks.errors:
            self.error(f"{type(sink).__name__} stopped: {exc}")
        self.sinks.errors.clear()

    def _show_stats(self, fps: float, latency_ms: float, dropped: int) -> None:
        self.fps_label.setText(f"FPS {fps:.1f}  dropped {dropped}")

    # ----------------------------------------------------------------------------------------- outputs

    def toggle_record(self, on: bool, path: str | None = None) -> None:
        if on:
            if self.source is None:
                self.record_button.setChecked(False)
                self.error("open a source first")
                return
            fmt = self.format_box.currentText()
            if path is None:
                default = str(Path.home() / f"flashvid-{time.strftime('%Y%m%d-%H%M%S')}")
                path, _ = QFileDialog.getSaveFileName(self, "Record to", default)
                if not path:
                    self.record_button.setChecked(False)
                    return
            try:
                rate = getattr(self.source, "rate", self.source.fps)
                self.recorder = make_sink(fmt, output_path(path, fmt), self.source.width, self.source.height, rate)
            except FlashvidError as exc:
                self.record_button.setChecked(False)
                self.error(str(exc))
                return
            self.record_path = output_path(path, fmt)
            self.record_started = time.monotonic()
            self.sinks.add(self.recorder)
            self._record_timer.start()
        elif self.recorder is not None:
            recorder, self.recorder = self.recorder, None
            self.sinks.remove(recorder)
            self._record_timer.stop()
            try:
                recorder.close()
            except (FlashvidError, OSError, RuntimeError) as exc:  # never let a slot raise into Qt (abort)
                self.error(f"the recording could not be finished: {exc}")
                return
            if getattr(recorder, "frames", 1) == 0:
                self.statusBar().showMessage("nothing was recorded (no frame was matted: take a keyframe first)", 8000)
            else:
                self.statusBar().showMessage(f"recorded {self.record_path}", 8000)

    def _record_status(self) -> None:
        if self.recorder is None:
            return
        tmp = getattr(self.recorder, "tmp", None)
        size = tmp.stat().st_size if tmp is not None and tmp.is_file() else 0
        self.record_label.setText(f"{time.monotonic() - self.record_started:.0f} s, {size / 1e6:.1f} MB")


def main() -> int:
    app = QApplication.instance() or QApplication(sys.argv)
    window = MainWindow()
    window.resize(1280, 760)
    window.show()
    try:
        return app.exec()
    except FlashvidError as exc:
        QMessageBox.critical(window, "flashvid", str(exc))
        return 1


if __name__ == "__main__":
    sys.exit(main())
