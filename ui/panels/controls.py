"""The settings panel: presets, the background, recent backgrounds and every control of the settings table
(`flashvid.ui.settings`), each with its default, range and tooltip."""

from __future__ import annotations

from flashvid.ui import settings as settings_model
from PyQt6.QtWidgets import QComboBox, QFormLayout, QHBoxLayout, QPushButton, QWidget

ROWS = (
    "band",
    "threshold",
    "smooth",
    "despill",
    "fill_holes",
    "grow",
    "feather",
    "model",
    "device",
    "engine",
    "precision",
    "internal",
    "subject",
)


class ControlsPanel(QWidget):
    """`controls` maps each settings key to its widget; `form` takes further rows (the outputs)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.controls = {st.key: settings_model.make_control(st) for st in settings_model.SETTINGS}
        c = self.controls
        self.pick_button = QPushButton("pick")
        self.pick_button.setToolTip("Choose the background colour from a palette")
        colour_row = QHBoxLayout()
        colour_row.addWidget(c["colour"])
        colour_row.addWidget(self.pick_button)
        self.recent_box = QComboBox()
        self.recent_box.setToolTip("Backgrounds you used lately (images, videos, colours)")
        self.preset_box = QComboBox()
        self.preset_box.setToolTip("Saved sets of these settings; pick one to apply it")
        self.save_preset_button = QPushButton("Save as...")
        self.save_preset_button.setToolTip("Keep all these settings under a name, to come back to them in one click")
        preset_row = QHBoxLayout()
        preset_row.addWidget(self.preset_box, 1)
        preset_row.addWidget(self.save_preset_button)
        self.form = QFormLayout(self)
        self.form.addRow("preset", preset_row)
        for key in ("background", "colour", "blur"):
            label = settings_model.BY_KEY[key].label
            if key == "colour":
                self.form.addRow(label, colour_row)
            else:
                self.form.addRow(label, c[key])
        self.form.addRow("recent", self.recent_box)
        for key in ROWS:
            self.form.addRow(settings_model.BY_KEY[key].label, c[key])
        self.setMaximumWidth(380)
