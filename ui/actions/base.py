"""What every action group may use of the window: its widgets (from the panels), its session and the helpers
other groups define. Declared here for the type checker; `flashvid.ui.app.MainWindow` provides them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flashvid.ui.export import ExportPanel, ExportWorker
from flashvid.ui.outputs import OutputToggle
from flashvid.ui.preview import PreviewWidget
from flashvid.ui.session import StudioSession
from flashvid.ui.tasks import TaskRunner
from flashvid.ui.wizard import KeyframeWizard
from flashvid.ui.worker import MattingWorker
from PyQt6.QtCore import QSettings, QTimer
from PyQt6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QLabel,
    QLineEdit,
    QMainWindow,
    QPushButton,
    QSlider,
    QSpinBox,
    QWidget,
)

from flashvid.compose import Compositor
from flashvid.keyframe import Keyframe
from flashvid.video.live import LockedMatter, SinkSet
from flashvid.video.sources import VideoFile, Webcam


class WindowBase(QMainWindow):
    """The window's shared state; the session's fields read through to `session`."""

    session: StudioSession
    settings: QSettings
    controls: dict[str, QWidget]
    preview: PreviewWidget
    tasks: TaskRunner
    matter: LockedMatter | None
    worker: MattingWorker | None
    exporter: ExportWorker | None
    wizard: KeyframeWizard | None
    playing: bool
    stream_started: float
    # widgets (panels)
    source_box: QComboBox
    background_box: QComboBox
    colour: QLineEdit
    blur: QSlider
    band: QSpinBox
    threshold: Any
    smooth: QSlider
    despill: QSlider
    model_box: QComboBox
    engine_box: QComboBox
    precision_box: QComboBox
    device_box: QComboBox
    internal: QSpinBox
    format_box: QComboBox
    subject_box: QCheckBox
    view_box: QComboBox
    mirror_box: QCheckBox
    fps_label: QLabel
    engine_label: QLabel
    play_button: QPushButton
    timeline: QSlider
    time_label: QLabel
    points_label: QLabel
    #: in / out points in seconds of the open file: what Export writes (I / O / X)
    in_point: float = 0.0
    out_point: float | None = None
    timeline_row: QWidget
    hint_label: QLabel
    recent_box: QComboBox
    preset_box: QComboBox
    record_button: QPushButton
    record_label: QLabel
    export_button: QPushButton
    udp_url: QLineEdit
    microphone_box: QCheckBox
    microphone_device: QLineEdit
    virtualcam_box: OutputToggle
    udp_box: OutputToggle
    export_panel: ExportPanel
    state_label: QLabel
    _pending_keyframe: QTimer
    _pending_matter: QTimer
    _closing: bool

    # the session's state, read and written through (tests and panels use these names)
    @property
    def source(self) -> VideoFile | Webcam | None:
        return self.session.source

    @property
    def source_label(self) -> str:
        return self.session.source_label

    @property
    def keyframe(self) -> Keyframe | None:
        return self.session.keyframe

    @keyframe.setter
    def keyframe(self, kf: Keyframe | None) -> None:
        self.session.keyframe = kf

    @property
    def position(self) -> float:
        return self.session.position

    @position.setter
    def position(self, seconds: float) -> None:
        self.session.position = seconds

    @property
    def paced(self) -> Any:
        return self.session.paced

    @property
    def background_spec(self) -> str:
        return self.session.background_spec

    @property
    def compositor(self) -> Compositor:
        return self.session.compositor

    @property
    def sinks(self) -> SinkSet:
        return self.session.sinks

    @property
    def recorder(self) -> Any:
        return self.session.recorder

    @property
    def record_path(self) -> Any:
        return self.session.record_path

    @property
    def matter_config(self) -> Any:
        return self.session.matter_config

    if TYPE_CHECKING:  # defined by the other action groups and the window

        def say(self, message: str, ms: int = 0, routine: bool = False) -> None: ...
        def error(self, message: str) -> None: ...
        def start(self) -> None: ...
        def stop(self) -> None: ...
        def _update_state(self) -> None: ...
        def current_frame(self) -> Any: ...
        def set_keyframe(self, kf: Keyframe | None, remember: bool = True) -> None: ...
        def set_background_spec(self, spec: str) -> None: ...
        def note_change(self) -> None: ...
        def refresh_still(self) -> None: ...
        def _rebuild_matter(self) -> None: ...
        def _fill_engines(self, device: str) -> None: ...
        def _fill_recent(self) -> None: ...
        def _fill_presets(self) -> None: ...
        def _remember_background(self, spec: str) -> None: ...
        def _check_keyframe_fits(self) -> None: ...
        def open_keyframe(self, path: str | None = None, remember: bool = True) -> None: ...
        def open_source(self, spec: int | str) -> None: ...
        def toggle_record(self, on: bool, path: str | None = None) -> None: ...
        def cancel_export(self) -> None: ...
        def _store_dir(self) -> Any: ...
