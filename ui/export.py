"""Export mode: an editor's whole file through `flashvid.api.matte_video`, the call `flashvid export` makes.

Every frame is matted (nothing dropped), the input's timestamps and audio are kept, the output appears only when
complete (a partial file while it runs); Cancel stops after the current frame and keeps a playable file of what
was done, named ``NAME.partial.EXT`` beside the target, so a user's existing file is never replaced by a
half-finished one. The panel shows a progress bar, frames done of total, speed and time left.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

from PyQt6.QtCore import QThread, pyqtSignal
from PyQt6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QPushButton, QWidget


class ExportWorker(QThread):
    """Runs ``matte_video(input, output, **kwargs)`` with progress and cancel; `progressed(done, total)`,
    `finished_ok(summary)`, `failed(message)`."""

    progressed = pyqtSignal(int, int)
    finished_ok = pyqtSignal(str)
    failed = pyqtSignal(str)

    def __init__(self, input: str, output: str, **kwargs: Any) -> None:
        super().__init__()
        self.input, self.output, self.kwargs = input, output, kwargs
        self.cancel = threading.Event()
        self.stats: Any = None

    def run(self) -> None:
        from flashvid.api import matte_video
        from flashvid.errors import FlashvidError

        try:
            self.stats = matte_video(
                self.input,
                self.output,
                progress=lambda done, total: self.progressed.emit(done, total),
                cancel=self.cancel,
                **self.kwargs,
            )
        except (FlashvidError, OSError, RuntimeError, ValueError) as exc:
            self.failed.emit(f"export to {Path(self.output).name} failed: {exc}")
            return
        s = self.stats
        if s.cancelled:
            self.finished_ok.emit(f"export cancelled after {s.frames_written} frames; what was done is kept")
        else:
            self.finished_ok.emit(f"exported {s.frames_written} frames to {self.output} ({s.fps:.1f} FPS)")


def eta_text(done: int, total: int, elapsed: float) -> str:
    """'12 / 300 frames, 4.1 FPS, 1 min 10 s left' (no estimate before the first frames)."""
    if done <= 0 or elapsed <= 0:
        return f"0 / {total or '?'} frames, starting..."
    fps = done / elapsed
    if total <= 0:
        return f"{done} frames, {fps:.1f} FPS"
    left = max(0.0, (total - done) / fps)
    m, sec = divmod(round(left), 60)
    return f"{done} / {total} frames, {fps:.1f} FPS, {f'{m} min ' if m else ''}{sec} s left"


class ExportPanel(QWidget):
    """Progress bar, text and Cancel for one running export (hidden when none runs)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.bar = QProgressBar()
        self.bar.setRange(0, 1)
        self.label = QLabel("")
        self.cancel_button = QPushButton("Cancel export")
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(QLabel("export"))
        row.addWidget(self.bar, 1)
        row.addWidget(self.label)
        row.addWidget(self.cancel_button)
        self.started = 0.0
        self.hide()

    def begin(self, total: int) -> None:
        self.started = time.monotonic()
        self.bar.setRange(0, max(total, 1))
        self.bar.setValue(0)
        self.label.setText(eta_text(0, total, 0.0))
        self.cancel_button.setEnabled(True)
        self.show()

    def update_progress(self, done: int, total: int) -> None:
        if total > 0:
            self.bar.setRange(0, total)
        self.bar.setValue(min(done, self.bar.maximum()))
        self.label.setText(eta_text(done, total, time.monotonic() - self.started))
