"""Outputs: the background, recording what the live view shows, and exporting a whole file."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING

from flashvid.ui import settings as settings_model
from flashvid.ui.actions.base import WindowBase
from flashvid.ui.export import ExportWorker
from flashvid.ui.session import background_loss, format_for, parse_microphone
from PyQt6.QtWidgets import QColorDialog, QFileDialog

from flashvid import defaults
from flashvid.errors import FlashvidError
from flashvid.spec import MatterSpec
from flashvid.video.sinks import output_path
from flashvid.video.sources import VideoFile, Webcam


class OutputActions(WindowBase):
    if TYPE_CHECKING:

        def _wanted(self) -> MatterSpec: ...

    def _pick_colour(self) -> None:
        c = QColorDialog.getColor()
        if c.isValid():
            self.colour.setText(c.name())
            self.background_box.setCurrentText("colour")
            self._background_changed("colour")

    def _colour_typed(self) -> None:
        """The user edited the colour field: that colour becomes the background, whatever the box showed (no
        dialog). Leaving the field unedited (focus moving on, the window closing) changes nothing."""
        if not self.colour.isModified():
            return
        self.colour.setModified(False)
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
            kind = self.session.set_background(spec)
        except FlashvidError as exc:
            self.error(str(exc))
            return
        self.preview.set_transparent(kind == "transparent")
        self.note_change()
        if spec.startswith("#") or Path(spec).is_file():
            self._remember_background(spec)
        if kind == "colour":
            self.colour.setText(spec)
        # the background box shows what is in use (without asking for a file again)
        self.background_box.blockSignals(True)
        self.background_box.setCurrentText(kind)
        self.background_box.blockSignals(False)

    def set_background(self, background) -> None:
        self.compositor.background = background  # read by the worker on its next frame

    def _format_for(self, path: str) -> tuple[str, Path]:
        """The format the typed name asks for (its suffix), else the format box's; and the output path."""
        fmt, out = format_for(path, self.format_box.currentText())
        if fmt != self.format_box.currentText():
            self.format_box.setCurrentText(fmt)
        return fmt, out

    def _settle_background_loss(self, fmt: str, out: Path) -> tuple[str, Path]:
        """Before an output that would lose the background (`background_loss`), ask: go on, switch to the format
        that keeps it, or cancel. Returns the format and path to use ("" to cancel)."""
        loss = background_loss(fmt, self.background_spec)
        if loss is None:
            return fmt, out
        other = "prores" if fmt == "mp4" else "mp4"
        choice = self.ask_background_loss(loss, fmt, other)
        if choice == "cancel":
            self.say("not started: " + loss, 8000)
            return "", out
        if choice == "switch":
            self.format_box.setCurrentText(other)
            return other, output_path(out.with_suffix(""), other)
        return fmt, out

    def ask_background_loss(self, loss: str, fmt: str, other: str) -> str:
        """'go on', 'switch' (to `other`) or 'cancel' (a dialog; tests replace this method)."""
        from PyQt6.QtWidgets import QMessageBox

        box = QMessageBox(self)
        box.setWindowTitle("The background would be lost")
        box.setText(f"{loss}.")
        go_on = box.addButton(f"Write {fmt} anyway", QMessageBox.ButtonRole.AcceptRole)
        switch = box.addButton(
            f"Write {other} ({'with alpha' if other == 'prores' else 'over the background'})",
            QMessageBox.ButtonRole.AcceptRole,
        )
        box.addButton(QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(switch)
        box.exec()
        clicked = box.clickedButton()
        return "go on" if clicked is go_on else "switch" if clicked is switch else "cancel"

    def microphone_changed(self) -> None:
        """The microphone box or its device changed: a camera's next takes carry its sound (or none). The device
        is opened on a task thread (it can take a moment), so a take started at once has it ready."""
        self.session.close_microphone()
        if not self.microphone_box.isChecked():
            self.session.microphone = None
            return
        self.session.microphone = parse_microphone(self.microphone_device.text())
        if isinstance(self.source, Webcam):
            self.tasks.submit(
                "microphone",
                "opening the microphone",
                self.session.open_microphone,
                lambda name: self.say(f"microphone {name}: a camera's recordings carry its sound", 6000),
                lambda e: self.error(str(e)),
            )

    def _show_recording(self, on: bool) -> None:
        """The Record button shows whether a recording runs (without acting on its own change)."""
        self.record_button.blockSignals(True)
        self.record_button.setChecked(on)
        self.record_button.blockSignals(False)

    def toggle_record(self, on: bool, path: str | None = None) -> None:
        if on:
            if self.source is None or self.keyframe is None:
                self._show_recording(False)
                self.error(
                    "open a source first"
                    if self.source is None
                    else "take a keyframe first (K): a recording holds the matted picture, and there is none yet"
                )
                return
            if path is None:
                default = str(Path.home() / f"flashvid-{time.strftime('%Y%m%d-%H%M%S')}")
                path, _ = QFileDialog.getSaveFileName(self, "Record to", default)
                if not path:
                    self._show_recording(False)
                    return
            fmt, out = self._format_for(path)
            fmt, out = self._settle_background_loss(fmt, out)
            if not fmt:
                self._show_recording(False)
                return
            path = str(out)
            try:
                self.session.start_recording(path, fmt)
            except FlashvidError as exc:
                self._show_recording(False)
                self.error(str(exc))
                return
            if self.session.record_warning:  # e.g. the microphone could not be opened: the take is silent
                self.error(self.session.record_warning)
            self._show_recording(True)  # also when started by a call, not the button
        elif self.recorder is not None:
            self._show_recording(False)  # also when stopped by a call, not the button

            # finishing the file (the encoder's flush) runs off the GUI thread; the stream goes on meanwhile
            def finished(message: str) -> None:
                self.say(message, 8000)
                self._update_state()

            def failed(exc: BaseException) -> None:
                self.error(f"the recording could not be finished: {exc}")
                self._update_state()

            self.record_label.setText("")
            self.tasks.submit("record-stop", "finishing the recording", self.session.stop_recording, finished, failed)
        self._update_state()

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
        fmt, out = self._settle_background_loss(fmt, out)
        if not fmt:
            return None
        cfg = self.session.matter_config or self._wanted()
        self.stop()  # the export gets the machine; live play stays paused after it (Space plays)
        self.exporter = ExportWorker(
            str(src),
            str(out),
            keyframe=self.keyframe,
            background=self.background_spec,
            format=fmt,
            matter=cfg,
            despill=settings_model.BY_KEY["despill"].library_value(self.despill.value()),
            smoothing=settings_model.BY_KEY["smooth"].library_value(self.smooth.value()),
            fill_holes=self.compositor.fill_holes,
            grow=self.compositor.grow,
            feather=self.compositor.feather,
            start=self.in_point,
            end=self.out_point,
            overwrite=True,  # the save dialog asked before replacing; a partial never replaces it
        )
        self.exporter.progressed.connect(self.export_panel.update_progress)
        self.exporter.finished_ok.connect(self._export_done)
        self.exporter.failed.connect(self._export_failed)
        span = (self.out_point or self.source.duration) - self.in_point
        self.export_panel.begin(max(1, round(span * self.source.fps)) if span > 0 else len(self.source))
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
