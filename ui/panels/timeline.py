"""The timeline of a file: play / pause, the position slider and the time."""

from __future__ import annotations

from PyQt6.QtCore import Qt
from PyQt6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QSlider, QWidget


class Timeline(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.play_button = QPushButton("Play")
        self.play_button.setToolTip("Pause or play (Space); a file keeps its place")
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setToolTip("Position in the file: drag to seek")
        self.time_label = QLabel("0:00 / 0:00")
        self.points_label = QLabel("")
        self.points_label.setToolTip("What Export writes: I sets the in point, O the out point, X clears them")
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.play_button)
        row.addWidget(self.slider, 1)
        row.addWidget(self.time_label)
        row.addWidget(self.points_label)
        self.hide()
