"""The outputs panel: record format, Record, Export, the virtual camera and the UDP stream."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flashvid.ui.outputs import OutputToggle
from PyQt6.QtWidgets import QCheckBox, QFormLayout, QLabel, QLineEdit, QPushButton, QWidget

from flashvid.video.live import SinkSet
from flashvid.video.sinks import UdpSink, VirtualCamSink


class OutputsPanel:
    """The output rows, added to `form` (the settings panel's form): a row set rather than a widget of its own,
    so labels line up with the settings above them."""

    def __init__(
        self,
        form: QFormLayout,
        format_box: QWidget,
        sinks: SinkSet,
        source: Callable[[], Any],
        error: Callable[[str], None],
        say: Callable[..., None],
    ) -> None:
        self.record_button = QPushButton("Record (R)")
        self.record_button.setCheckable(True)
        self.record_button.setToolTip("Record what the live view shows (frames may be dropped to stay live)")
        self.record_label = QLabel("")
        self.export_button = QPushButton("Export file... (E)")
        self.export_button.setToolTip("Matte every frame of the open file, keeping its sound and timing")
        self.udp_url = QLineEdit("udp://127.0.0.1:5000")
        self.udp_url.setToolTip("Where the UDP stream goes (an address another program listens on)")
        self.virtualcam_box = OutputToggle(
            "virtual camera",
            lambda src: VirtualCamSink(src.width, src.height, src.fps),
            sinks,
            source,
            error,
            say,
            lambda sink: f"on {getattr(sink, 'device', '')}",
        )
        self.udp_box = OutputToggle(
            "UDP stream",
            lambda src: UdpSink(self.udp_url.text(), src.width, src.height, src.fps),
            sinks,
            source,
            error,
            say,
            lambda sink: f"streaming to {self.udp_url.text()}",
        )
        self.microphone_box = QCheckBox("microphone")
        self.microphone_box.setToolTip("A camera's recordings carry the microphone's sound (a file keeps its own)")
        self.microphone_device = QLineEdit("")
        self.microphone_device.setPlaceholderText("default")
        self.microphone_device.setToolTip(
            "The capture device: empty for the default microphone, or e.g. alsa:hw:1, avfoundation::1, "
            "dshow:audio=USB Microphone"
        )
        form.addRow("record format", format_box)
        form.addRow(self.microphone_box, self.microphone_device)
        form.addRow(self.record_button, self.record_label)
        form.addRow(self.export_button)
        form.addRow(self.virtualcam_box)
        form.addRow(self.udp_box, self.udp_url)
