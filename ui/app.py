"""flashvid-studio: the desktop app. It drives flashvid's API and pipeline; no matting logic lives here.

Two modes. **Live**: a camera or a playing file, newest frame only (frames are dropped to stay current), with
recording, virtual camera and UDP outputs; the raw picture shows as soon as a source opens, the composite once a
keyframe exists. **Export**: an editor's whole file through `flashvid.api.matte_video` (every frame, audio and
timestamps kept, progress, cancel), the call `flashvid export` makes.

The window is assembled here from its panels (`flashvid.ui.panels`: top bar, timeline, settings, outputs) and its
actions by concern (`flashvid.ui.actions`: settings, keyframe, matter, playback, outputs) over a Qt-free
`flashvid.ui.session.StudioSession` that holds the state. Heavy work (engine builds, keyframe remakes, the
wizard's segmentation) runs on worker threads (`TaskRunner`) behind a busy indicator; errors stay in a banner
until dismissed. Controls come from one table (`flashvid.ui.settings`), shortcuts from another
(`flashvid.ui.shortcuts`, F1 lists them). Settings, presets, recent backgrounds, the last source and the last
keyframe persist (QSettings).
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
from flashvid.ui import settings as settings_model
from flashvid.ui.actions.keyframe import KeyframeActions
from flashvid.ui.actions.matter import MatterActions
from flashvid.ui.actions.outputs import OutputActions
from flashvid.ui.actions.playback import PlaybackActions
from flashvid.ui.actions.settings import SettingsActions
from flashvid.ui.banner import ErrorBanner
from flashvid.ui.export import ExportPanel
from flashvid.ui.format import fmt_fps, fmt_time
from flashvid.ui.panels.controls import ControlsPanel
from flashvid.ui.panels.outputs import OutputsPanel
from flashvid.ui.panels.timeline import Timeline
from flashvid.ui.panels.top_bar import TopBar
from flashvid.ui.preview import PreviewWidget
from flashvid.ui.session import StudioSession
from flashvid.ui.shortcuts import HelpOverlay, ShortcutFilter
from flashvid.ui.tasks import TaskRunner
from PyQt6.QtCore import QSettings, Qt, QTimer
from PyQt6.QtWidgets import (
    QApplication,
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QProgressBar,
    QScrollArea,
    QStatusBar,
    QVBoxLayout,
    QWidget,
)

from flashvid import defaults
from flashvid.errors import FlashvidError
from flashvid.video.sources import VideoFile, find_cameras

log = logging.getLogger("flashvid.ui")
__all__ = ["MainWindow", "fmt_fps", "fmt_time", "install_excepthook", "main"]


def _single_shot(ms: int, slot: Any) -> QTimer:
    t = QTimer()
    t.setSingleShot(True)
    t.setInterval(ms)
    t.timeout.connect(slot)
    return t


class MainWindow(SettingsActions, KeyframeActions, MatterActions, PlaybackActions, OutputActions):
    def __init__(self, settings: QSettings | None = None) -> None:
        super().__init__()
        self.setWindowTitle("flashvid studio")
        self.setAcceptDrops(True)
        self.settings = settings or QSettings("flashvid", "studio")
        self.session = StudioSession()
        self.preview = PreviewWidget()
        self.tasks = TaskRunner(self)
        from flashvid.engines import onnx as onnx_engine

        onnx_engine.EXPORT_IN_CHILD = True  # the exporter holds the GIL for up to a second: never beside the GUI
        import av  # noqa: F401 - PyAV's first import (70 ms) happens here, not when the first file is opened
        import PIL.Image  # noqa: F401 - likewise Pillow's (20 ms), not when the first image is read
        self.tasks.busyChanged.connect(self._show_busy)
        self.matter = None
        self._build_lock = threading.Lock()
        self._matter_generation = 0
        self._said_until = 0.0  # when the status bar's last message stops shielding itself (`say`)
        self.worker = None
        self._stopping = []
        self._closing = False
        self.playing = False
        self.exporter = None
        self.wizard = None
        self.stream_started = 0.0
        self._pending_keyframe = _single_shot(150, self._apply_keyframe_settings)  # slider bursts: the last only
        self._pending_still = _single_shot(120, self.refresh_still)  # paused: show what a change does
        self._pending_matter = _single_shot(300, self._rebuild_matter)
        self._build_ui()
        self._restore()
        self._tick = QTimer()
        self._tick.setInterval(500)
        self._tick.timeout.connect(self._update_state)
        self._tick.start()
        self._shortcuts = ShortcutFilter(self, self.run_action)
        app = QApplication.instance()
        if app is not None:
            app.installEventFilter(self._shortcuts)

    # ------------------------------------------------------------------------------------------------- UI

    def _build_ui(self) -> None:
        top = TopBar(find_cameras())
        self.source_box, self.view_box, self.mirror_box = top.source_box, top.view_box, top.mirror_box
        self.fps_label, self.engine_label, self.keyframe_button = top.fps_label, top.engine_label, top.keyframe_button
        top.open_button.clicked.connect(self.open_selected)
        top.keyframe_button.clicked.connect(self.open_wizard)
        top.frame_key_button.clicked.connect(self.key_this_frame)
        top.open_kf.clicked.connect(lambda: self.open_keyframe())
        top.save_kf.clicked.connect(lambda: self.save_keyframe())
        top.view_box.currentTextChanged.connect(self.preview.set_view)
        top.mirror_box.toggled.connect(self.preview.set_mirror)
        top.help_button.clicked.connect(self.toggle_help)

        self.timeline_row = Timeline()
        self.play_button, self.timeline = self.timeline_row.play_button, self.timeline_row.slider
        self.time_label = self.timeline_row.time_label
        self.points_label = self.timeline_row.points_label
        self.play_button.clicked.connect(self.toggle_pause)
        self.timeline.sliderReleased.connect(lambda: self.seek(self.timeline.value() / 1000))
        self.hint_label = QLabel("")
        self.hint_label.setStyleSheet("color: #b8860b;")
        self.hint_label.setWordWrap(True)
        self.hint_label.hide()

        panel = ControlsPanel()
        self.controls = c = panel.controls
        self.background_box, self.colour, self.blur = c["background"], c["colour"], c["blur"]  # type: ignore[assignment]
        self.band, self.threshold, self.smooth, self.despill = c["band"], c["threshold"], c["smooth"], c["despill"]  # type: ignore[assignment]
        self.model_box, self.engine_box, self.precision_box = c["model"], c["engine"], c["precision"]  # type: ignore[assignment]
        self.device_box, self.internal, self.format_box = c["device"], c["internal"], c["format"]  # type: ignore[assignment]
        self.subject_box = c["subject"]  # type: ignore[assignment]
        self.recent_box, self.preset_box = panel.recent_box, panel.preset_box
        # a file dialog opens only when the user picks "image" / "video" (textActivated), never when a setting, a
        # preset or a recent background sets the box; typing a colour applies the colour
        self.background_box.textActivated.connect(self._background_changed)
        self.colour.editingFinished.connect(self._colour_typed)
        self.blur.valueChanged.connect(lambda v: self._background_changed("blur"))
        self.band.valueChanged.connect(lambda _: self._pending_keyframe.start())
        self.threshold.valueChanged.connect(lambda _: self._pending_keyframe.start())
        by_key = settings_model.BY_KEY  # sliders show percent of the library's 0..1 values
        self.smooth.valueChanged.connect(
            lambda v: setattr(self.compositor, "smoothing", by_key["smooth"].library_value(v))
        )
        self.despill.valueChanged.connect(
            lambda v: setattr(self.compositor, "despill", by_key["despill"].library_value(v))
        )
        for key in settings_model.FINISHING:  # matte finishing: read by the worker on its next frame
            self.controls[key].valueChanged.connect(  # type: ignore[attr-defined]
                lambda v, k=key: setattr(self.compositor, k, by_key[k].library_value(v))
            )
        for key in ("despill", *settings_model.FINISHING):  # paused: the still frame shows the change too
            self.controls[key].valueChanged.connect(lambda _: self.note_change())  # type: ignore[attr-defined]
        self.device_box.currentTextChanged.connect(self._device_changed)
        for w in (self.model_box, self.engine_box, self.precision_box):
            w.currentTextChanged.connect(lambda _: self._pending_matter.start())
        self.internal.valueChanged.connect(lambda _: self._pending_matter.start())
        self.subject_box.toggled.connect(lambda _: self._pending_matter.start())
        panel.pick_button.clicked.connect(self._pick_colour)
        self.recent_box.activated.connect(lambda i: self._use_recent(self.recent_box.itemData(i)))
        self.preset_box.activated.connect(lambda i: self.apply_preset(self.preset_box.itemText(i)))
        panel.save_preset_button.clicked.connect(lambda: self.save_preset())

        outs = OutputsPanel(panel.form, self.format_box, self.sinks, lambda: self.source, self.error, self.say)
        self.record_button, self.record_label = outs.record_button, outs.record_label
        self.export_button = outs.export_button
        self.udp_url, self.virtualcam_box, self.udp_box = outs.udp_url, outs.virtualcam_box, outs.udp_box
        self.microphone_box, self.microphone_device = outs.microphone_box, outs.microphone_device
        self.microphone_box.toggled.connect(lambda _: self.microphone_changed())
        self.microphone_device.editingFinished.connect(self.microphone_changed)
        self.record_button.toggled.connect(self.toggle_record)
        self.export_button.clicked.connect(lambda: self.export_file())

        self.banner = ErrorBanner(self.preview, overlay=True)  # floats over the preview: nothing moves under it
        self.export_panel = ExportPanel()
        self.export_panel.cancel_button.clicked.connect(self.cancel_export)
        left = QVBoxLayout()
        for part, stretch in ((self.preview, 1), (self.timeline_row, 0), (self.hint_label, 0), (self.export_panel, 0)):
            left.addWidget(part, stretch)
        body = QHBoxLayout()
        body.addLayout(left, 1)
        # the settings scroll (the window can be made small: a laptop screen, a corner beside OBS)
        panel_scroll = QScrollArea()
        panel_scroll.setWidget(panel)
        panel_scroll.setWidgetResizable(True)
        panel_scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        panel_scroll.setFrameShape(QFrame.Shape.NoFrame)
        panel_scroll.setMinimumWidth(panel.sizeHint().width() + 16)
        panel_scroll.setMaximumWidth(panel.maximumWidth() + 16)
        body.addWidget(panel_scroll)
        top_scroll = QScrollArea()  # the top bar scrolls sideways on a narrow window instead of widening it
        top_scroll.setWidget(top)
        top_scroll.setWidgetResizable(True)
        top_scroll.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        top_scroll.setFrameShape(QFrame.Shape.NoFrame)
        top_scroll.setFixedHeight(top.sizeHint().height() + 18)
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.addWidget(top_scroll)
        layout.addLayout(body, 1)
        self.setCentralWidget(central)
        self.help = HelpOverlay(self.preview)
        self.busy_bar = QProgressBar()
        self.busy_bar.setRange(0, 0)  # indeterminate
        self.busy_bar.setMaximumWidth(120)
        self.busy_label = QLabel("")
        self.state_label = QLabel("")
        for item in (self.busy_label, self.busy_bar, self.state_label):
            self.status_bar.addPermanentWidget(item)
        self.busy_bar.hide()
        self.say("open a source, then take a keyframe (K); F1 lists the shortcuts")
        self._fill_engines(self.device_box.currentText())

    # ------------------------------------------------------------------------------------------ actions

    @property
    def status_bar(self) -> QStatusBar:
        bar = self.statusBar()
        assert bar is not None  # a QMainWindow always makes one
        return bar

    def say(self, message: str, ms: int = 0, routine: bool = False) -> None:
        """A passing message in the status bar for `ms` milliseconds (0: until the next one; errors go to the
        banner, lasting state to the state label). A `routine` notice (an engine swapped in, which the engine label
        also shows) never replaces a message still on show: an export's "cancelled, what was done is kept" stays
        though a build that started before it finishes after it."""
        now = time.monotonic()
        if routine and now < self._said_until:
            return
        self.status_bar.showMessage(message, ms)
        if not routine:  # (a message without an end shields for 5 s: after that it is old news)
            self._said_until = now + (ms / 1000 if ms > 0 else 5.0)

    def run_action(self, name: str) -> None:
        """A shortcut's action by name (`flashvid.ui.shortcuts.SHORTCUTS`)."""
        getattr(self, name)()

    def next_view(self) -> None:
        self.view_box.setCurrentIndex((self.view_box.currentIndex() + 1) % self.view_box.count())

    def toggle_mirror(self) -> None:
        self.mirror_box.toggle()

    def toggle_record_key(self) -> None:
        self.record_button.toggle()

    def toggle_help(self) -> None:
        self.help.toggle()

    def error(self, message: str) -> None:
        """Show an error in the banner (it stays until dismissed) and log it."""
        log.error("%s", message)
        self.banner.show_error(message)

    def _show_busy(self, labels: list[str]) -> None:
        self.busy_bar.setVisible(bool(labels))
        self.busy_label.setText(", ".join(labels))

    def closeEvent(self, event) -> None:
        if self.recorder is not None:
            choice = self.ask_recording_on_close()
            if choice == "keep recording":
                event.ignore()
                return
            if choice == "discard":
                self.session.discard_recording()
            else:  # stop and keep
                self.toggle_record(False)
        if self.exporter is not None:
            if self.ask_export_on_close() == "keep exporting":
                event.ignore()
                return
            self.cancel_export()
            self.exporter.wait(30000)
        self.save_settings()
        self._closing = True
        self.stop()
        self.session.close_microphone()
        # an engine build or a keyframe remake still running would be cut off mid-computation at exit
        self.tasks.wait(120.0)
        app = QApplication.instance()
        if app is not None:
            app.removeEventFilter(self._shortcuts)
        super().closeEvent(event)

    def ask_recording_on_close(self) -> str:
        """'stop and keep', 'keep recording' or 'discard' (a dialog; tests replace this method)."""
        box = QMessageBox(self)
        box.setWindowTitle("Recording in progress")
        name = self.record_path.name if self.record_path else "a file"
        box.setText(f"A recording is running ({name}). Close the studio anyway?")
        keep = box.addButton("Stop and keep it", QMessageBox.ButtonRole.AcceptRole)
        go_on = box.addButton("Keep recording", QMessageBox.ButtonRole.RejectRole)
        box.addButton("Discard it", QMessageBox.ButtonRole.DestructiveRole)
        box.setDefaultButton(keep)
        box.exec()
        clicked = box.clickedButton()
        return "stop and keep" if clicked is keep else "keep recording" if clicked is go_on else "discard"

    def note_change(self) -> None:
        """A setting that changes the picture moved: while paused, redraw the still frame (debounced)."""
        if not self.playing and self.session.is_file:
            self._pending_still.start()

    def ask_export_on_close(self) -> str:
        """'cancel export' or 'keep exporting' (a dialog; tests replace this method)."""
        box = QMessageBox(self)
        box.setWindowTitle("Export in progress")
        box.setText(
            "An export is running. Close the studio and cancel it? (What was exported is kept as NAME.partial.)"
        )
        go_on = box.addButton("Keep exporting", QMessageBox.ButtonRole.RejectRole)
        box.addButton("Cancel the export and close", QMessageBox.ButtonRole.DestructiveRole)
        box.setDefaultButton(go_on)
        box.exec()
        return "keep exporting" if box.clickedButton() is go_on else "cancel export"

    def dragEnterEvent(self, event) -> None:
        if event.mimeData().hasUrls() and any(u.isLocalFile() for u in event.mimeData().urls()):
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:
        for url in event.mimeData().urls():
            if url.isLocalFile():
                self.open_path(url.toLocalFile())
        event.acceptProposedAction()

    def open_path(self, path: str) -> None:
        """A dropped file: a video opens as the source, an image becomes the background, a .flashkey the keyframe."""
        suffix = Path(path).suffix.lower()
        if suffix == ".flashkey":
            self.open_keyframe(path)
        elif suffix in defaults.VIDEO_EXTENSIONS:
            self.open_source(path)
        elif suffix in defaults.IMAGE_EXTENSIONS:
            self.set_background_spec(path)
        else:
            self.error(f"{path}: not a video, an image or a .flashkey keyframe; drop one of those")

    def open_selected(self) -> None:
        text = self.source_box.currentText()
        if text.startswith("camera "):
            self.open_source(int(text.split()[1]))
            return
        exts = " ".join(f"*{e}" for e in defaults.VIDEO_EXTENSIONS)
        path, _ = QFileDialog.getOpenFileName(self, "Video", "", f"Videos ({exts})")
        if path:
            self.open_source(path)

    def open_source(self, spec: int | str) -> None:
        """Open a camera index or a video file and start showing it (raw until a keyframe exists). One that cannot
        be opened is reported and changes nothing: what is playing (and its outputs) goes on."""
        try:
            probed = self.session.probe_source(spec)
        except FlashvidError as exc:
            self.error(str(exc))
            return
        self.stop()
        source = self.session.open_source(spec, probed)
        self.in_point, self.out_point = 0.0, None  # points belong to the file they were set in
        self.points_label.setText("")
        self.settings.setValue("last_source", f"camera {spec}" if isinstance(spec, int) else str(Path(spec).resolve()))
        self.timeline_row.setVisible(self.session.is_file)
        if isinstance(source, VideoFile):
            self.timeline.setRange(0, int(source.duration * 1000))
            self.timeline.setValue(0)
        next_step = "" if self.keyframe is not None else "; take a keyframe (K)"
        self.say(f"{self.source_label}: {source.width}x{source.height}{next_step}")
        self._check_keyframe_fits()
        if isinstance(spec, int) and self.microphone_box.isChecked() and not self.session.microphone_open:
            self.microphone_changed()  # a camera now: its microphone ready before the first take
        elif not isinstance(spec, int):
            self.session.close_microphone()  # a file's takes carry its own sound: the microphone is let go
        self.start()

    def current_frame(self) -> np.ndarray | None:
        """The source's current frame (the newest input while streaming)."""
        w = self.worker
        if w is not None:
            if w.latest is not None and w.latest.source is not None:
                return w.latest.source.copy()
            if w.latest_raw is not None:
                return w.latest_raw.copy()
        return self.session.frame_at_position()


def install_excepthook(window: MainWindow) -> None:
    """An exception escaping a Qt slot goes to the window's error banner and the log; the app keeps running
    (PyQt would otherwise abort the process)."""

    def hook(kind: type[BaseException], value: BaseException, tb: Any) -> None:
        log.error("unexpected error", exc_info=(kind, value, tb))
        window.error(f"unexpected error: {kind.__name__}: {value} (details in the log); the studio keeps running")

    sys.excepthook = hook


def main() -> int:
    app = QApplication.instance() or QApplication(sys.argv)
    window = MainWindow()
    install_excepthook(window)
    if not window.restore_geometry():
        window.resize(1280, 760)
    window.show()
    window.restore_session()
    try:
        return app.exec()
    except FlashvidError as exc:
        QMessageBox.critical(window, "flashvid", str(exc))
        return 1


if __name__ == "__main__":
    sys.exit(main())
