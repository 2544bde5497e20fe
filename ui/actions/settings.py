"""Settings, presets and recent backgrounds: what persists between runs (QSettings)."""

from __future__ import annotations

from pathlib import Path

from flashvid.ui import settings as settings_model
from flashvid.ui.actions.base import WindowBase
from PyQt6.QtCore import QTimer
from PyQt6.QtWidgets import QInputDialog

from flashvid.errors import FlashvidError

RECENT_BACKGROUNDS = 8


class SettingsActions(WindowBase):
    def _restore(self) -> None:
        settings_model.restore(self.controls, self.settings)
        self.view_box.setCurrentText(str(self.settings.value("view", "composite")))
        self.mirror_box.setChecked(str(self.settings.value("mirror", "false")).lower() == "true")
        self.microphone_device.setText(str(self.settings.value("microphone_device", "")))
        self.microphone_box.setChecked(str(self.settings.value("microphone", "false")).lower() == "true")
        try:
            self.session.set_background(str(self.settings.value("background_spec", self.colour.text())))
        except FlashvidError:
            self.session.set_background(self.colour.text())
        from flashvid.ui.session import background_kind

        self.preview.set_transparent(background_kind(self.background_spec) == "transparent")
        self.compositor.smoothing = settings_model.BY_KEY["smooth"].library_value(self.smooth.value())
        self.compositor.despill = settings_model.BY_KEY["despill"].library_value(self.despill.value())
        for key in settings_model.FINISHING:
            value = settings_model.BY_KEY[key].library_value(self.controls[key].value())  # type: ignore[attr-defined]
            setattr(self.compositor, key, value)
        self._fill_recent()
        self._fill_presets()

    def save_settings(self) -> None:
        settings_model.save(self.controls, self.settings)
        self.settings.setValue("view", self.view_box.currentText())
        self.settings.setValue("mirror", self.mirror_box.isChecked())
        self.settings.setValue("microphone", self.microphone_box.isChecked())
        self.settings.setValue("microphone_device", self.microphone_device.text())
        self.settings.setValue("background_spec", self.background_spec)
        self.settings.setValue("geometry", self.saveGeometry())
        self.settings.sync()

    def restore_geometry(self) -> bool:
        """The window's size and place of the last run (False: none stored, or it no longer fits a screen)."""
        stored = self.settings.value("geometry")
        return bool(stored) and bool(self.restoreGeometry(stored))

    def _store_dir(self) -> Path:
        """Where the studio keeps its own files (the last keyframe): beside its settings file."""
        return Path(self.settings.fileName()).parent

    def restore_session(self) -> None:
        """Reopen the last file source (if it still exists), then the last keyframe on the event loop's next turn
        (the window answers in between: a relaunch is two short steps, not one long one)."""
        last = str(self.settings.value("last_source", ""))
        if last and not last.startswith("camera ") and Path(last).is_file():
            self.open_source(last)
        kf = self._store_dir() / "last.flashkey"
        if kf.is_file():
            QTimer.singleShot(0, lambda: None if self._closing else self.open_keyframe(str(kf), remember=False))

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
