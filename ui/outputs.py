"""One generic live-output toggle (virtual camera, UDP stream, ...): a check box that, when ticked, makes its
sink for the open source and adds it to the running stream's `SinkSet`, and when unticked removes and closes it.
Failures untick the box and go to the window's error banner; the status line says what is on."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PyQt6.QtWidgets import QCheckBox

from flashvid.errors import FlashvidError
from flashvid.video.sinks import Sink


class OutputToggle(QCheckBox):
    """Args: label; make(source) -> Sink; sinks: the stream's SinkSet; source(): the open source or None;
    on_error(text) and on_status(text) callbacks; describe(sink) -> the status text while on."""

    def __init__(
        self,
        label: str,
        make: Callable[[Any], Sink],
        sinks: Any,
        source: Callable[[], Any],
        on_error: Callable[[str], None],
        on_status: Callable[[str], None],
        describe: Callable[[Sink], str] = lambda s: "on",
    ) -> None:
        super().__init__(label)
        self._make, self._sinks, self._source = make, sinks, source
        self._on_error, self._on_status, self._describe = on_error, on_status, describe
        self.sink: Sink | None = None
        self.toggled.connect(self._toggled)

    def _toggled(self, on: bool) -> None:
        if on:
            src = self._source()
            if src is None:
                self._fail("open a source first")
                return
            try:
                self.sink = self._make(src)
            except (FlashvidError, OSError) as exc:
                self._fail(str(exc))
                return
            self._sinks.add(self.sink)
            self._on_status(f"{self.text()}: {self._describe(self.sink)}")
        elif self.sink is not None:
            sink, self.sink = self.sink, None
            self._sinks.close_sink(sink)  # never while a frame is being written to it
            self._on_status(f"{self.text()}: off")

    def _fail(self, message: str) -> None:
        self.blockSignals(True)
        self.setChecked(False)
        self.blockSignals(False)
        self._on_error(f"{self.text()}: {message}")
