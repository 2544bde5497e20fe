"""flashvid-studio: the desktop app. It drives flashvid's API and pipeline; no matting logic lives here.

Two modes. **Live**: a camera or a playing file, newest frame only (frames are dropped to stay current), with
recording, virtual camera and UDP outputs; the raw picture shows as soon as a source opens, the composite once a
keyframe exists. **Export**: an editor's whole file through `flashvid.api.matte_video` (every frame, audio and
timestamps kept, progress, cancel), the call `flashvid export` makes.

Heavy work (engine builds, keyframe remakes, the wizard's segmentation) runs on worker threads (`TaskRunner`)
behind a busy indicator; errors stay in a banner until dismissed. Controls come from one table
(`flashvid.ui.settings`), shortcuts from another (`flashvid.ui.shortcuts`, F1 lists them). Settings, presets,
recent backgrounds, the last source and the last keyframe persist (QSettings).
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
from flashvid.ui.banner import ErrorBanner
from flashvid.ui.export import ExportPanel, ExportWorker
from flashvid.ui.outputs import OutputToggle
from flashvid.ui.preview import VIEWS, PreviewWidget
from flashvid.ui.shortcuts import HelpOverlay, ShortcutFilter
from flashvid.ui.tasks import TaskRunner
from flashvid.ui.wizard import KeyframeWizard
from flashvid.ui.worker import LockedMatter, MattingWorker, Paced, RebasedSink, SinkSet
from PyQt6.QtCore import QSettings, Qt, QTimer
from PyQt6.QtWidgets import (
    QApplication,
    QCheckBox,
    QColorDialog,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QMainWindow,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QSlider,
    QStatusBar,
    QVBoxLayout,
    QWidget,
)

from flashvid import defaults
from flashvid.api import make_matter
from flashvid.compose import Compositor
from flashvid.errors import FlashvidError
from flashvid.keyframe import Keyframe
from flashvid.keyframe.core import SCENE_MATCH_MIN
from flashvid.matter import FlashMatter
from flashvid.video.background import parse_background
from flashvid.video.sinks import UdpSink, VirtualCamSink, make_sink, output_path
from flashvid.video.sources import VideoFile, Webcam, find_cameras

log = logging.getLogger("flashvid.ui")
#: typed file suffix -> record / export format (the user's name decides, not a stale format box)
SUFFIX_FORMAT = {".mp4": "mp4", ".m4v": "mp4", ".mov": "prores", ".webm": "webm"}
RECENT_BACKGROUNDS = 8
SEEK_STEP_S = 5.0


def _single_shot(ms: int, slot: Any) -> QTimer:
    t = QTimer()
    t.setSingleShot(True)
    t.setInterval(ms)
    t.timeout.connect(slot)
    return t


def fmt_fps(fps: float) -> str:
    """One decimal below 10 FPS (0.4, 7.5), whole numbers above."""
    return f"{fps:.1f}" if fps < 10 else f"{fps:.0f}"


def fmt_time(seconds: float) -> str:
    m, s = divmod(max(0, int(seconds)), 60)
    return f"{m}:{s:02d}"


class MainWindow(QMainWindow):
    def __init__(self, settings: QSettings | None = None) -> None:
        super().__init__()
        self.setWindowTitle("flashvid studio")
        self.setAcceptDrops(True)
        self.settings = settings or QSettings("flashvid", "studio")
        self.preview = PreviewWidget()
        self.sinks = SinkSet()
        self.compositor = Compositor(parse_background("#00ff00"))
        self.tasks = TaskRunner(self)
        self.tasks.busyChanged.connect(self._show_busy)
        self.matter: LockedMatter | None = None
        self.matter_config: dict[str, Any] | None = None  # what the working matter was built with
        self._build_lock = threading.Lock()
        self._matter_generation = 0
        self.worker: MattingWorker | None = None
        self._stopping: list[MattingWorker] = []
        self._closing = False
        self.paced: Paced | None = None
        self.source: VideoFile | Webcam | None = None
        self.source_label = ""
        self.position = 0.0  # seconds into a file: where play resumes after a pause or a seek
        self.playing = False
        self.keyframe: Keyframe | None = None
        self.background_spec = "#00ff00"
        self.recorder: Any = None
        self.record_path: Path | None = None
        self.record_started = 0.0
        self.exporter: ExportWorker | None = None
        self.wizard: KeyframeWizard | None = None
        self.stream_started = 0.0
        self._pending_keyframe = _single_shot(150, self._apply_keyframe_settings)  # slider bursts: the last only
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
        self.source_box = QComboBox()
        self.source_box.addItems([f"camera {i}" for i in find_cameras()] + ["video file..."])
        self.source_box.setToolTip("A camera found on this machine, or a video file (you can also drop one here)")
        open_button = QPushButton("Open")
        open_button.setToolTip("Open the camera or video file chosen on the left")
        open_button.clicked.connect(self.open_selected)
        self.keyframe_button = QPushButton("Keyframe... (K)")
        self.keyframe_button.setToolTip("Take the flash keyframe that tells the network who the subject is")
        self.keyframe_button.clicked.connect(self.open_wizard)
        open_kf = QPushButton("Open keyframe")
        open_kf.setToolTip("Use a keyframe saved earlier (.flashkey)")
        open_kf.clicked.connect(lambda: self.open_keyframe())
        save_kf = QPushButton("Save keyframe")
        save_kf.setToolTip("Keep this keyframe in a file to use it again later or with flashvid export")
        save_kf.clicked.connect(lambda: self.save_keyframe())
        self.view_box = QComboBox()
        self.view_box.addItems(list(VIEWS))
        self.view_box.setToolTip("composite; the alpha matte; before / after (drag on the picture to move the line)")
        self.view_box.currentTextChanged.connect(self.preview.set_view)
        self.mirror_box = QCheckBox("mirror (M)")
        self.mirror_box.setToolTip("Flip the preview like a mirror; recordings and streams are not flipped")
        self.mirror_box.toggled.connect(self.preview.set_mirror)
        help_button = QPushButton("Help (F1)")
        help_button.setToolTip("List the keyboard shortcuts")
        help_button.clicked.connect(self.toggle_help)
        self.fps_label = QLabel("FPS -")
        self.engine_label = QLabel("")
        top = QHBoxLayout()
        for w in (self.source_box, open_button, self.keyframe_button, open_kf, save_kf, QLabel("view"), self.view_box):
            top.addWidget(w)
        top.addWidget(self.mirror_box)
        top.addWidget(help_button)
        top.addStretch(1)
        top.addWidget(self.engine_label)
        top.addWidget(self.fps_label)

        # timeline (files): play / pause, position slider, time
        self.play_button = QPushButton("Play")
        self.play_button.setToolTip("Pause or play (Space); a file keeps its place")
        self.play_button.clicked.connect(self.toggle_pause)
        self.timeline = QSlider(Qt.Orientation.Horizontal)
        self.timeline.setToolTip("Position in the file: drag to seek")
        self.timeline.sliderReleased.connect(lambda: self.seek(self.timeline.value() / 1000))
        self.time_label = QLabel("0:00 / 0:00")
        self.timeline_row = QWidget()
        trow = QHBoxLayout(self.timeline_row)
        trow.setContentsMargins(0, 0, 0, 0)
        trow.addWidget(self.play_button)
        trow.addWidget(self.timeline, 1)
        trow.addWidget(self.time_label)
        self.timeline_row.hide()
        self.hint_label = QLabel("")
        self.hint_label.setStyleSheet("color: #b8860b;")
        self.hint_label.setWordWrap(True)
        self.hint_label.hide()

        form = QFormLayout()
        # every control comes from the settings table (ui/settings.py): default, range, tooltip, QSettings key
        self.controls = {st.key: settings_model.make_control(st) for st in settings_model.SETTINGS}
        c = self.controls
        self.background_box, self.colour, self.blur = c["background"], c["colour"], c["blur"]
        self.band, self.threshold, self.smooth, self.despill = c["band"], c["threshold"], c["smooth"], c["despill"]
        self.model_box, self.engine_box, self.precision_box = c["model"], c["engine"], c["precision"]
        self.device_box = c["device"]
        self.internal, self.format_box = c["internal"], c["format"]
        self.subject_box = c["subject"]
        self.background_box.currentTextChanged.connect(self._background_changed)
        self.colour.editingFinished.connect(lambda: self._background_changed(self.background_box.currentText()))
        self.blur.valueChanged.connect(lambda v: self._background_changed("blur"))
        self.band.valueChanged.connect(lambda _: self._pending_keyframe.start())
        self.threshold.valueChanged.connect(lambda _: self._pending_keyframe.start())
        self.smooth.valueChanged.connect(lambda v: setattr(self.compositor, "smoothing", v / 100))
        self.despill.valueChanged.connect(lambda v: setattr(self.compositor, "despill", v / 100))
        self.device_box.currentTextChanged.connect(self._device_changed)
        for w in (self.model_box, self.engine_box, self.precision_box):
            w.currentTextChanged.connect(lambda _: self._pending_matter.start())
        self.internal.valueChanged.connect(lambda _: self._pending_matter.start())
        self.subject_box.toggled.connect(lambda _: self._pending_matter.start())
        pick = QPushButton("pick")
        pick.setToolTip("Choose the background colour from a palette")
        pick.clicked.connect(self._pick_colour)
        colour_row = QHBoxLayout()
        colour_row.addWidget(self.colour)
        colour_row.addWidget(pick)
        self.recent_box = QComboBox()
        self.recent_box.setToolTip("Backgrounds you used lately (images, videos, colours)")
        self.recent_box.activated.connect(lambda i: self._use_recent(self.recent_box.itemData(i)))
        self.preset_box = QComboBox()
        self.preset_box.setToolTip("Saved sets of these settings; pick one to apply it")
        self.preset_box.activated.connect(lambda i: self.apply_preset(self.preset_box.itemText(i)))
        save_preset = QPushButton("Save as...")
        save_preset.setToolTip("Keep all these settings under a name, to come back to them in one click")
        save_preset.clicked.connect(lambda: self.save_preset())
        preset_row = QHBoxLayout()
        preset_row.addWidget(self.preset_box, 1)
        preset_row.addWidget(save_preset)
        form.addRow("preset", preset_row)
        for key in ("background", "colour", "blur"):
            form.addRow(settings_model.BY_KEY[key].label, colour_row if key == "colour" else c[key])
        form.addRow("recent", self.recent_box)
        rows = (
            "band",
            "threshold",
            "smooth",
            "despill",
            "model",
            "device",
            "engine",
            "precision",
            "internal",
            "subject",
        )
        for key in rows:
            form.addRow(settings_model.BY_KEY[key].label, c[key])

        self.record_button = QPushButton("Record (R)")
        self.record_button.setCheckable(True)
        self.record_button.setToolTip("Record what the live view shows (frames may be dropped to stay live)")
        self.record_button.toggled.connect(self.toggle_record)
        self.record_label = QLabel("")
        self.export_button = QPushButton("Export file... (E)")
        self.export_button.setToolTip("Matte every frame of the open file, keeping its sound and timing")
        self.export_button.clicked.connect(lambda: self.export_file())
        self.udp_url = QLineEdit("udp://127.0.0.1:5000")
        self.udp_url.setToolTip("Where the UDP stream goes (an address another program listens on)")
        self.virtualcam_box = OutputToggle(
            "virtual camera",
            lambda src: VirtualCamSink(src.width, src.height, src.fps),
            self.sinks,
            lambda: self.source,
            self.error,
            self.say,
            lambda sink: f"on {getattr(sink, 'device', '')}",
        )
        self.udp_box = OutputToggle(
            "UDP stream",
            lambda src: UdpSink(self.udp_url.text(), src.width, src.height, src.fps),
            self.sinks,
            lambda: self.source,
            self.error,
            self.say,
            lambda sink: f"streaming to {self.udp_url.text()}",
        )
        form.addRow("record format", self.format_box)
        form.addRow(self.record_button, self.record_label)
        form.addRow(self.export_button)
        form.addRow(self.virtualcam_box)
        form.addRow(self.udp_box, self.udp_url)
        panel = QWidget()
        panel.setLayout(form)
        panel.setMaximumWidth(380)

        self.banner = ErrorBanner()
        self.export_panel = ExportPanel()
        self.export_panel.cancel_button.clicked.connect(self.cancel_export)
        left = QVBoxLayout()
        left.addWidget(self.preview, 1)
        left.addWidget(self.timeline_row)
        left.addWidget(self.hint_label)
        left.addWidget(self.export_panel)
        body = QHBoxLayout()
        body.addLayout(left, 1)
        body.addWidget(panel)
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.addWidget(self.banner)
        layout.addLayout(top)
        layout.addLayout(body, 1)
        self.setCentralWidget(central)
        self.help = HelpOverlay(self.preview)
        self.busy_bar = QProgressBar()
        self.busy_bar.setRange(0, 0)  # indeterminate
        self.busy_bar.setMaximumWidth(120)
        self.busy_label = QLabel("")
        self.state_label = QLabel("")
        self.status_bar.addPermanentWidget(self.busy_label)
        self.status_bar.addPermanentWidget(self.busy_bar)
        self.status_bar.addPermanentWidget(self.state_label)
        self.busy_bar.hide()
        self.say("open a source, then take a keyframe (K); F1 lists the shortcuts")
        self._fill_engines(self.device_box.currentText())

    # ------------------------------------------------------------------------------------------ actions

    @property
    def status_bar(self) -> QStatusBar:
        bar = self.statusBar()
        assert bar is not None  # a QMainWindow always makes one
        return bar

    def say(self, message: str, ms: int = 0) -> None:
        """A passing message in the status bar (errors go to the banner, lasting state to the state label)."""
        self.status_bar.showMessage(message, ms)

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

    # ------------------------------------------------------------------------------------------- settings

    def _restore(self) -> None:
        settings_model.restore(self.controls, self.settings)
        self.view_box.setCurrentText(str(self.settings.value("view", "composite")))
        self.mirror_box.setChecked(str(self.settings.value("mirror", "false")).lower() == "true")
        self.background_spec = str(self.settings.value("background_spec", self.colour.text()))
        try:
            self.compositor.background = parse_background(self.background_spec)
        except FlashvidError:
            self.background_spec = self.colour.text()
        self.compositor.smoothing = self.smooth.value() / 100
        self.compositor.despill = self.despill.value() / 100
        self._fill_recent()
        self._fill_presets()

    def save_settings(self) -> None:
        settings_model.save(self.controls, self.settings)
        self.settings.setValue("view", self.view_box.currentText())
        self.settings.setValue("mirror", self.mirror_box.isChecked())
        self.settings.setValue("background_spec", self.background_spec)
        self.settings.sync()

    def _store_dir(self) -> Path:
        """Where the studio keeps its own files (the last keyframe): beside its settings file."""
        return Path(self.settings.fileName()).parent

    def restore_session(self) -> None:
        """Reopen the last file source (if it still exists) and the last keyframe."""
        last = str(self.settings.value("last_source", ""))
        if last and not last.startswith("camera ") and Path(last).is_file():
            self.open_source(last)
        kf = self._store_dir() / "last.flashkey"
        if kf.is_file():
            self.open_keyframe(str(kf), remember=False)

    # presets: every control's value under a name
    def _fill_presets(self) -> None:
        self.settings.beginGroup("presets")
        names = sorted(self.settings.childGroups())
        self.settings.endGroup()
        self.preset_box.clear()
        self.preset_box.addItems(names)
        self.preset_box.setCurrentIndex(-1)

    def save_preset(self, name: str | None = None) -> None:
        if name is None:
            name, ok = QInputDialog.getText(self, "Save preset", "Name for these settings:")
            if not ok:
                return
        name = name.strip().replace("/", "-")
        if not name:
            return
        self.settings.beginGroup(f"presets/{name}")
        settings_model.save(self.controls, self.settings)
        self.settings.setValue("background_spec", self.background_spec)
        self.settings.endGroup()
        self._fill_presets()
        self.preset_box.setCurrentText(name)
        self.say(f"preset {name!r} saved", 5000)

    def apply_preset(self, name: str) -> None:
        self.settings.beginGroup(f"presets/{name}")
        settings_model.restore(self.controls, self.settings)
        spec = str(self.settings.value("background_spec", self.colour.text()))
        self.settings.endGroup()
        self.set_background_spec(spec)
        self.say(f"preset {name!r} applied", 5000)

    # recent backgrounds (a small gallery)
    def _recent(self) -> list[str]:
        raw = self.settings.value("recent_backgrounds", [])
        items = [raw] if isinstance(raw, str) else list(raw or [])
        return [str(x) for x in items if x]

    def _fill_recent(self) -> None:
        self.recent_box.clear()
        for spec in self._recent():
            label = spec if spec.startswith("#") or spec.startswith("blur") else Path(spec).name
            self.recent_box.addItem(label, spec)
        self.recent_box.setCurrentIndex(-1)

    def _remember_background(self, spec: str) -> None:
        items = [spec] + [s for s in self._recent() if s != spec]
        self.settings.setValue("recent_backgrounds", items[:RECENT_BACKGROUNDS])
        self._fill_recent()

    def _use_recent(self, spec: str | None) -> None:
        if spec:
            self.set_background_spec(spec)

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
        if self.exporter is not None:
            self.cancel_export()
            self.exporter.wait(30000)
        self.save_settings()
        self._closing = True
        self.stop()
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

    # ------------------------------------------------------------------------------------ drag and drop

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

    # --------------------------------------------------------------------------------------------- source

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
        """Open a camera index or a video file and start showing it (raw until a keyframe exists)."""
        self.stop()
        try:
            self.source = Webcam(spec) if isinstance(spec, int) else VideoFile(spec)
        except FlashvidError as exc:
            self.error(str(exc))
            return
        self.source_label = f"camera {spec}" if isinstance(spec, int) else Path(spec).name
        self.settings.setValue("last_source", f"camera {spec}" if isinstance(spec, int) else str(Path(spec).resolve()))
        self.position = 0.0
        is_file = isinstance(self.source, VideoFile)
        self.timeline_row.setVisible(is_file)
        if isinstance(self.source, VideoFile):
            self.timeline.setRange(0, int(self.source.duration * 1000))
            self.timeline.setValue(0)
        next_step = "" if self.keyframe is not None else "; take a keyframe (K)"
        self.say(f"{self.source_label}: {self.source.width}x{self.source.height}{next_step}")
        self._check_keyframe_fits()
        self.start()

    def current_frame(self) -> np.ndarray | None:
        """The source's current frame (the newest input while streaming)."""
        w = self.worker
        if w is not None:
            if w.latest is not None and w.latest.source is not None:
                return w.latest.source.copy()
            if w.latest_raw is not None:
                return w.latest_raw.copy()
        if isinstance(self.source, Webcam):
            return self.source.read()
        if isinstance(self.source, VideoFile):
            return next(iter(self.source.frames_from(self.position))).image
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

    def set_keyframe(self, kf: Keyframe | None, remember: bool = True) -> None:
        """Use `kf` from now on: the matter encodes it on a worker thread (built first if there is none yet)."""
        if kf is None:
            return
        self.keyframe = kf
        s = kf.summary()
        self.say(f"keyframe set: subject {s['area_pct']:.0f} % of the frame, {s['points']} points")
        self._check_keyframe_fits()
        if remember:
            target = self._store_dir() / "last.flashkey"

            def keep() -> None:
                target.parent.mkdir(parents=True, exist_ok=True)
                kf.save(target)

            self.tasks.submit(
                "remember-keyframe",
                "saving keyframe",
                keep,
                lambda _: None,
                lambda exc: log.warning("the keyframe could not be kept for next time: %s", exc),
            )
        if self.matter is None:
            self._rebuild_matter()
            return
        matter = self.matter
        self.tasks.submit(
            "keyframe",
            "encoding keyframe",
            lambda: matter.set_keyframe(kf),
            lambda _: None,
            lambda exc: self.error(f"the keyframe could not be used: {exc}"),
        )

    def _check_keyframe_fits(self) -> None:
        """Warn when the keyframe was not taken with this source: another aspect ratio or another scene."""
        kf, src = self.keyframe, self.source
        if kf is None or src is None:
            return
        kw, kh = kf.size
        if abs(kw / kh - src.width / src.height) > 0.02:
            self.error(
                f"the keyframe is {kw}x{kh} but {self.source_label} is {src.width}x{src.height} (another shape): "
                "it will be stretched; take the keyframe with this source (K)"
            )
            return
        try:
            frame = self.current_frame()
        except (FlashvidError, StopIteration):
            return
        if frame is not None and kf.scene_match(frame) < SCENE_MATCH_MIN:
            self.error(
                f"the keyframe does not look like {self.source_label}'s scene (another room or framing?): the "
                "subject may be missed; take the keyframe with this source (K)"
            )

    def open_keyframe(self, path: str | None = None, remember: bool = True) -> None:
        if path is None:
            path, _ = QFileDialog.getOpenFileName(self, "Keyframe", "", "Keyframes (*.flashkey)")
            if not path:
                return
        try:
            kf = Keyframe.load(path)
        except FlashvidError as exc:
            self.error(str(exc))
            return
        self.set_keyframe(kf, remember=remember)
        self.say(f"keyframe {Path(path).name} opened", 5000)

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
        self.say(f"keyframe saved to {path}", 5000)

    def _apply_keyframe_settings(self) -> None:
        """Band / threshold changed: remake the keyframe on a worker thread, keeping the hand edits."""
        kf, matter = self.keyframe, self.matter
        if kf is None:
            return
        settings = self.keyframe_settings()

        def remake() -> Keyframe:
            new = kf.remade(threshold=settings["threshold"], band=settings["band"])
            if matter is not None:
                matter.set_keyframe(new)
            return new

        def done(new: Keyframe) -> None:
            self.keyframe = new
            if self.matter is not None and self.matter.matter.keyframe is not new:
                self.set_keyframe(new)  # the matter was swapped meanwhile: hand it the remade keyframe too
            if self.wizard is not None and self.wizard.isVisible():
                self.wizard.settings.update(settings)
            self.say("keyframe remade with the new band / threshold (your edits kept)", 4000)

        self.tasks.submit("keyframe", "remaking keyframe", remake, done, lambda e: self.error(str(e)))

    # ----------------------------------------------------------------------------------------- the matter

    def _fill_engines(self, device: str) -> None:
        """The engine box lists what `device` can run (auto first)."""
        import torch
        from flashvid.engines import get_engine

        keep = self.engine_box.currentText()
        usable = []
        for name in defaults.ENGINES:
            try:
                ok, _ = get_engine(name).available(torch.device(device))
            except Exception:  # noqa: BLE001 - an engine that cannot even answer is not offered
                ok = False
            if ok:
                usable.append(name)
        usable.sort(key=lambda n: n != "auto")
        self.engine_box.blockSignals(True)
        self.engine_box.clear()
        self.engine_box.addItems(usable)
        self.engine_box.setCurrentText(keep if keep in usable else "auto")
        self.engine_box.blockSignals(False)

    def _device_changed(self, device: str) -> None:
        self._fill_engines(device)
        self._pending_matter.start()

    def _wanted(self) -> dict[str, Any]:
        rt = self.model_box.currentText() == "flashvid-rt"
        return {
            "model": self.model_box.currentText(),
            "engine": self.engine_box.currentText(),
            "device": self.device_box.currentText(),
            "precision": self.precision_box.currentText(),
            "internal_size": self.internal.value() if rt else None,
            "subject_check": self.subject_box.isChecked() and rt,  # flashvid-rt's check; other models have none
        }

    def _rebuild_matter(self) -> None:
        """Model, device, engine, precision or internal resolution changed (or the first keyframe arrived): build
        the matter on a worker thread, warm it on a frame of the source's size, then swap it in. A failure
        leaves the working one in place and puts the controls back."""
        kf = self.keyframe
        if kf is None:
            return
        cfg = self._wanted()
        size = (self.source.height, self.source.width) if self.source is not None else kf.flash.shape[:2]
        self._matter_generation += 1
        generation = self._matter_generation

        def build() -> FlashMatter | None:
            with self._build_lock:  # one build at a time (ONNX export and torch.compile are not re-entrant)
                if generation != self._matter_generation:
                    return None  # a newer request came while this one waited: its result would be dropped
                matter = make_matter(  # the library's builder, as `flashvid export` uses
                    cfg["model"],
                    engine=cfg["engine"],
                    device=cfg["device"],
                    precision=cfg["precision"],
                    internal_size=cfg["internal_size"],
                    subject_check=cfg["subject_check"],
                )
                matter.set_keyframe(kf)  # builds the engine
                matter.process(np.zeros((*size, 3), np.uint8))  # first-run costs (graph optimisation) here
                matter.reset()
                return matter

        self.tasks.submit(
            "matter",
            f"building {cfg['engine']} engine on {cfg['device']}",
            build,
            lambda m: self._matter_built(m, cfg),
            lambda exc: self._matter_failed(exc, cfg),
        )

    def _matter_built(self, matter: FlashMatter | None, cfg: dict[str, Any]) -> None:
        if matter is None:
            return
        if self.keyframe is not None and matter.keyframe is not self.keyframe:
            matter.set_keyframe(self.keyframe)  # the keyframe changed while it was building
        engine = getattr(matter.runner, "engine_name", cfg["engine"])
        chosen = f"{engine} (auto)" if cfg["engine"] == "auto" else engine
        self.engine_label.setText(f"{cfg['model']}: {chosen} on {cfg['device']}")
        self.matter_config = cfg
        if self.matter is None:
            self.matter = LockedMatter(matter)
            self.start()  # from the raw picture to the composite
        else:
            self.matter.swap(matter)
        self.say(f"running {cfg['model']} with {chosen} on {cfg['device']}", 5000)

    def _matter_failed(self, exc: BaseException, cfg: dict[str, Any]) -> None:
        good = self.matter_config
        back = f"; still running {good['engine']} on {good['device']}" if good else ""
        self.error(f"{cfg['model']} with engine {cfg['engine']} on {cfg['device']} failed: {exc}{back}")
        if good is not None:  # put the controls back to what works
            for box, key in ((self.model_box, "model"), (self.device_box, "device"), (self.precision_box, "precision")):
                box.blockSignals(True)
                box.setCurrentText(good[key])
                box.blockSignals(False)
            self._fill_engines(good["device"])
            self.engine_box.blockSignals(True)
            self.engine_box.setCurrentText(good["engine"])
            self.engine_box.blockSignals(False)

    # ------------------------------------------------------------------------------------------ compositing

    def _pick_colour(self) -> None:
        c = QColorDialog.getColor()
        if c.isValid():
            self.colour.setText(c.name())
            self.background_box.setCurrentText("colour")
            self._background_changed("colour")

    def _background_changed(self, kind: str) -> None:
        if kind == "colour":
            spec = self.colour.text()
        elif kind == "blur":
            spec = f"blur:{self.blur.value()}"
        elif kind == "transparent":
            spec = "transparent"
        else:
            exts = defaults.IMAGE_EXTENSIONS if kind.startswith("image") else defaults.VIDEO_EXTENSIONS
            filt = f"{'Images' if kind.startswith('image') else 'Videos'} ({' '.join(f'*{e}' for e in exts)})"
            path, _ = QFileDialog.getOpenFileName(self, "Background", "", filt)
            if not path:
                return
            spec = path
        self.set_background_spec(spec)

    def set_background_spec(self, spec: str) -> None:
        """A background by its spec (#RRGGBB, blur:N, transparent, an image or a video file); live at once."""
        try:
            bg = parse_background(spec)
        except FlashvidError as exc:
            self.error(str(exc))
            return
        self.background_spec = spec
        self.set_background(bg)
        if spec.startswith("#") or Path(spec).is_file():
            self._remember_background(spec)
        # the background box shows what is in use (without asking for a file again)
        low = spec.lower()
        if low.startswith("#"):
            kind = "colour"
            self.colour.setText(spec)
        elif low.startswith("blur"):
            kind = "blur"
        elif low in ("transparent", "none"):
            kind = "transparent"
        else:
            kind = "video..." if Path(spec).suffix.lower() in defaults.VIDEO_EXTENSIONS else "image..."
        self.background_box.blockSignals(True)
        self.background_box.setCurrentText(kind)
        self.background_box.blockSignals(False)

    def set_background(self, background) -> None:
        self.compositor.background = background  # read by the worker on its next frame

    # -------------------------------------------------------------------------------------------- stream

    def start(self) -> None:
        """Play the source from `position`: matted when a matter exists, raw before."""
        if self.source is None or self._closing:
            return
        self.stop()
        if isinstance(self.source, VideoFile):
            self.paced = Paced(self.source, start=self.position)
            frames: Any = self.paced
        else:
            self.paced, frames = None, self.source
        self.worker = MattingWorker(frames, self.matter, self.compositor, self.sinks)
        self.worker.frameReady.connect(self._paint_newest)
        self.worker.stats.connect(self._show_stats)
        self.worker.failed.connect(self.error)
        self.worker.start()
        self.playing = True
        self.stream_started = time.monotonic()
        self.play_button.setText("Pause")
        self._update_state()

    def stop(self) -> None:
        if self.worker is not None:
            self.worker.stop()
            if not self.worker.isFinished():  # still inside a long frame: keep it alive until it ends
                self._stopping.append(self.worker)
                self.worker.finished.connect(lambda w=self.worker: self._stopping.remove(w))
            self.worker = None
        if self.paced is not None:
            self.position = self.paced.position
        self.playing = False
        self.play_button.setText("Play")

    def toggle_pause(self) -> None:
        if self.playing:
            self.stop()
            where = f" at {fmt_time(self.position)}" if isinstance(self.source, VideoFile) else ""
            self.say(f"paused{where} (Space to play)", 5000)
        else:
            self.start()
        self._update_state()

    def seek(self, seconds: float) -> None:
        """Jump to `seconds` in a file; keeps playing if it was playing, else shows that frame."""
        if not isinstance(self.source, VideoFile):
            return
        self.position = float(np.clip(seconds, 0.0, max(self.source.duration - 0.05, 0.0)))
        self.timeline.setValue(int(self.position * 1000))
        if self.playing:
            self.start()
        else:
            frame = next(iter(self.source.frames_from(self.position)), None)
            if frame is not None:
                self.preview.show_raw(frame.image)
        self._update_state()

    def step_back(self) -> None:
        self.seek(self._now() - SEEK_STEP_S)

    def step_forward(self) -> None:
        self.seek(self._now() + SEEK_STEP_S)

    def _now(self) -> float:
        return self.paced.position if self.playing and self.paced is not None else self.position

    def _paint_newest(self) -> None:
        if self.worker is None:
            return
        if self.worker.matter is None:
            raw = self.worker.take_raw()
            if raw is not None:
                self.preview.show_raw(raw)
        else:
            frame = self.worker.take()
            if frame is not None:
                self.preview.show_frame(frame)
        for sink, exc in self.sinks.errors:
            self.error(f"{type(sink).__name__} stopped: {exc}")
        self.sinks.errors.clear()

    def _show_stats(self, fps: float, latency_ms: float, dropped: int) -> None:
        text = f"FPS {fmt_fps(fps)}"
        if self.worker is not None and self.worker.matter is not None:
            text += f"  latency {latency_ms:.0f} ms  dropped {dropped}"
        self.fps_label.setText(text)
        self._hint(fps)

    def _hint(self, fps: float) -> None:
        """When the composite runs slower than the source, say what to lower."""
        src, w = self.source, self.worker
        rate = float(getattr(src, "fps", 0.0) or 0.0)
        if src is None or w is None or w.matter is None or time.monotonic() - self.stream_started < 3.0:
            self.hint_label.hide()
            return
        if fps >= 0.9 * rate:
            self.hint_label.hide()
            return
        tips = [f"lower the internal resolution (now {self.internal.value()})"]
        if self.engine_box.currentText() == "eager":
            tips.append("choose engine auto")
        if self.device_box.currentText() == "cpu" and self.device_box.count() > 1:
            tips.append(f"run on {self.device_box.itemText(1)}")
        self.hint_label.setText(f"Live {fmt_fps(fps)} FPS is below the source's {rate:.0f}: " + ", or ".join(tips))
        self.hint_label.show()

    def _update_state(self) -> None:
        """The status bar's lasting state (what plays, what records, what streams) and the timeline."""
        parts = []
        if self.source is not None:
            parts.append(f"{self.source_label} {'playing' if self.playing else 'paused'}")
            if self.keyframe is None:
                parts.append("no keyframe yet")
        if self.recorder is not None:
            parts.append("recording")
        if self.virtualcam_box.isChecked():
            parts.append("virtual camera on")
        if self.udp_box.isChecked():
            parts.append("UDP on")
        if self.exporter is not None:
            parts.append("exporting")
        self.state_label.setText(" | ".join(parts))
        if isinstance(self.source, VideoFile):
            now = self._now()
            if not self.timeline.isSliderDown():
                self.timeline.setValue(int(now * 1000))
            self.time_label.setText(f"{fmt_time(now)} / {fmt_time(self.source.duration)}")
        self._record_status()

    # ----------------------------------------------------------------------------------------- outputs

    def _format_for(self, path: str) -> tuple[str, Path]:
        """The format the typed name asks for (its suffix), else the format box's; and the output path."""
        fmt = SUFFIX_FORMAT.get(Path(path).suffix.lower(), self.format_box.currentText())
        if fmt != self.format_box.currentText():
            self.format_box.setCurrentText(fmt)
        return fmt, output_path(path, fmt)

    def toggle_record(self, on: bool, path: str | None = None) -> None:
        if on:
            if self.source is None:
                self.record_button.setChecked(False)
                self.error("open a source first")
                return
            if path is None:
                default = str(Path.home() / f"flashvid-{time.strftime('%Y%m%d-%H%M%S')}")
                path, _ = QFileDialog.getSaveFileName(self, "Record to", default)
                if not path:
                    self.record_button.setChecked(False)
                    return
            fmt, out = self._format_for(path)
            try:
                rate = getattr(self.source, "rate", self.source.fps)
                self.recorder = make_sink(fmt, out, self.source.width, self.source.height, rate)
            except FlashvidError as exc:
                self.record_button.setChecked(False)
                self.error(str(exc))
                return
            self.record_path = out
            self.record_started = time.monotonic()
            self._record_sink = RebasedSink(self.recorder)  # the recording's clock starts at 0
            self.sinks.add(self._record_sink)
        elif self.recorder is not None:
            recorder, self.recorder = self.recorder, None
            self.sinks.remove(self._record_sink)
            try:
                recorder.close()
            except (FlashvidError, OSError, RuntimeError) as exc:  # never let a slot raise into Qt (abort)
                self.error(f"the recording could not be finished: {exc}")
                return
            if getattr(recorder, "frames", 1) == 0:
                self.say("nothing was recorded (no frame was matted: take a keyframe first)", 8000)
            else:
                self.say(f"recorded {self.record_path}", 8000)
            self.record_label.setText("")
        self._update_state()

    def _record_status(self) -> None:
        if self.recorder is None:
            return
        tmp = getattr(self.recorder, "tmp", None)
        size = tmp.stat().st_size if tmp is not None and Path(tmp).is_file() else 0
        frames = getattr(self.recorder, "frames", 0)
        self.record_label.setText(
            f"{time.monotonic() - self.record_started:.0f} s, {frames} frames, {size / 1e6:.1f} MB"
        )

    def export_file(self, path: str | None = None) -> ExportWorker | None:
        """Export mode: the open file, every frame, through `matte_video` (the `flashvid export` call)."""
        if not isinstance(self.source, VideoFile):
            self.error("export needs a video file as the source: open one (cameras record live with R)")
            return None
        if self.keyframe is None:
            self.error("take a keyframe first (K): the export needs to know who the subject is")
            return None
        if self.exporter is not None:
            self.error("an export is already running; cancel it first")
            return None
        src = self.source.path
        if path is None:
            default = output_path(src.with_name(f"{src.stem}-matted"), self.format_box.currentText())
            path, _ = QFileDialog.getSaveFileName(self, "Export to", str(default))
            if not path:
                return None
        fmt, out = self._format_for(path)
        cfg = self.matter_config or self._wanted()
        self.stop()  # the export gets the machine; live play stays paused after it (Space plays)
        self.exporter = ExportWorker(
            str(src),
            str(out),
            keyframe=self.keyframe,
            background=self.background_spec,
            format=fmt,
            model=cfg["model"],
            engine=cfg["engine"],
            device=cfg["device"],
            precision=cfg["precision"],
            internal_size=cfg["internal_size"],
            subject_check=cfg["subject_check"],
            despill=self.despill.value() / 100,
            smoothing=self.smooth.value() / 100,
            overwrite=True,  # the save dialog asked before replacing; a partial never replaces it
        )
        self.exporter.progressed.connect(self.export_panel.update_progress)
        self.exporter.finished_ok.connect(self._export_done)
        self.exporter.failed.connect(self._export_failed)
        self.export_panel.begin(len(self.source))
        self.exporter.start()
        self._update_state()
        return self.exporter

    def cancel_export(self) -> None:
        if self.exporter is not None:
            self.exporter.cancel.set()
            self.export_panel.cancel_button.setEnabled(False)
            self.export_panel.label.setText("cancelling after this frame...")

    def _export_ended(self) -> None:
        if self.exporter is not None:
            self.exporter.wait(10000)  # it emitted its last signal and is returning; never drop a running QThread
        self.exporter = None
        self.export_panel.hide()
        self._update_state()

    def _export_done(self, message: str) -> None:
        self._export_ended()
        self.say(message, 15000)

    def _export_failed(self, message: str) -> None:
        self._export_ended()
        self.error(message)


def install_excepthook(window: MainWindow) -> None:
    """An exception escaping a Qt slot goes to the window's error banner and the log; the app keeps running
    (PyQt would otherwise abort the process)."""

    def hook(kind, value, tb) -> None:
        log.error("unexpected error", exc_info=(kind, value, tb))
        window.error(f"unexpected error: {kind.__name__}: {value} (details in the log); the studio keeps running")

    sys.excepthook = hook


def main() -> int:
    app = QApplication.instance() or QApplication(sys.argv)
    window = MainWindow()
    install_excepthook(window)
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
