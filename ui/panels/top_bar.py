"""The top bar: source, keyframe buttons, view, mirror, help, the engine in use and the FPS."""

from __future__ import annotations

from flashvid.ui.preview import VIEWS
from PyQt6.QtWidgets import QCheckBox, QComboBox, QHBoxLayout, QLabel, QPushButton, QWidget


class TopBar(QWidget):
    def __init__(self, cameras: list[int], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.source_box = QComboBox()
        self.source_box.addItems([f"camera {i}" for i in cameras] + ["video file..."])
        self.source_box.setToolTip("A camera found on this machine, or a video file (you can also drop one here)")
        self.open_button = QPushButton("Open")
        self.open_button.setToolTip("Open the camera or video file chosen on the left")
        self.keyframe_button = QPushButton("Keyframe... (K)")
        self.keyframe_button.setToolTip("Take the flash keyframe that tells the network who the subject is")
        self.frame_key_button = QPushButton("Key frame (F)")
        self.frame_key_button.setToolTip(
            "No flash at hand, or the matte drifted: click the subject on the frame shown, then press Enter"
        )
        self.open_kf = QPushButton("Open keyframe")
        self.open_kf.setToolTip("Use a keyframe saved earlier (.flashkey)")
        self.save_kf = QPushButton("Save keyframe")
        self.save_kf.setToolTip("Keep this keyframe in a file to use it again later or with flashvid export")
        self.view_box = QComboBox()
        self.view_box.addItems(list(VIEWS))
        self.view_box.setToolTip("composite; the alpha matte; before / after (drag on the picture to move the line)")
        self.mirror_box = QCheckBox("mirror (M)")
        self.mirror_box.setToolTip("Flip the preview like a mirror; recordings and streams are not flipped")
        self.help_button = QPushButton("Help (F1)")
        self.help_button.setToolTip("List the keyboard shortcuts")
        self.fps_label = QLabel("FPS -")
        self.engine_label = QLabel("")
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        for w in (
            self.source_box,
            self.open_button,
            self.keyframe_button,
            self.frame_key_button,
            self.open_kf,
            self.save_kf,
        ):
            row.addWidget(w)
        row.addWidget(QLabel("view"))
        row.addWidget(self.view_box)
        row.addWidget(self.mirror_box)
        row.addWidget(self.help_button)
        row.addStretch(1)
        row.addWidget(self.engine_label)
        row.addWidget(self.fps_label)
