"""Heavy work off the GUI thread: `TaskRunner` runs a function on a worker thread and hands its result (or its
error) back to a callback on the GUI thread, through a queued Qt signal.

Tasks have a `key`: a newer task with the same key supersedes an older one still running, whose result is then
dropped (two quick threshold changes apply only the second). `busy` tells the window what is running, for its
busy indicator.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from PyQt6.QtCore import QObject, pyqtSignal

log = logging.getLogger("flashvid.ui")


def _lower_priority(niceness: int = 10) -> None:
    """Make the calling thread yield to the GUI thread: Linux schedules threads one by one, so a nice value
    raised for this thread (and the threads it starts) leaves the GUI's clicks and paints first in line."""
    import os

    if hasattr(os, "setpriority") and hasattr(threading, "get_native_id"):
        try:
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), niceness)
        except OSError as exc:  # not allowed here: the task still runs, at normal priority
            log.debug("could not lower a task thread's priority: %s", exc)


class TaskRunner(QObject):
    """`submit(key, label, fn, on_done, on_error)`: run `fn()` on a thread; `on_done(result)` or
    `on_error(exception)` then runs on the GUI thread. `busyChanged(labels)` lists the running tasks' labels
    (empty when idle)."""

    busyChanged = pyqtSignal(list)
    _finished = pyqtSignal(object, object, object, object)  # token, result, error, callbacks

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._latest: dict[str, int] = {}
        self._running: dict[int, str] = {}
        self._threads: dict[int, threading.Thread] = {}
        self._next = 0
        self._finished.connect(self._deliver)

    def submit(
        self,
        key: str,
        label: str,
        fn: Callable[[], Any],
        on_done: Callable[[Any], None],
        on_error: Callable[[BaseException], None],
    ) -> int:
        self._next += 1
        token = self._next
        self._latest[key] = token
        self._running[token] = label

        def work() -> None:
            _lower_priority()  # the GUI thread (and the live stream) go first on a busy machine
            try:
                result, error = fn(), None
            except Exception as exc:  # noqa: BLE001 - handed to on_error on the GUI thread
                result, error = None, exc
            try:
                self._finished.emit((key, token), result, error, (on_done, on_error))
            except RuntimeError:  # the window (and this runner) closed while the task ran: nobody to tell
                log.info("task %s finished after its window closed", key)

        t = threading.Thread(target=work, name=f"studio-{key}", daemon=True)
        self._threads[token] = t
        t.start()
        self.busyChanged.emit(self.labels())
        return token

    def labels(self) -> list[str]:
        return list(self._running.values())

    def busy(self, key: str | None = None) -> bool:
        if key is None:
            return bool(self._running)
        token = self._latest.get(key)
        return token is not None and token in self._running

    def wait(self, timeout: float = 30.0) -> None:
        """Join every running thread (tests, shutdown); results still arrive through the event loop."""
        for t in list(self._threads.values()):
            t.join(timeout)

    def _deliver(self, ident: tuple[str, int], result: Any, error: BaseException | None, callbacks: Any) -> None:
        key, token = ident
        self._running.pop(token, None)
        self._threads.pop(token, None)
        self.busyChanged.emit(self.labels())
        if self._latest.get(key) != token:
            return  # superseded by a newer task with the same key
        on_done, on_error = callbacks
        if error is not None:
            on_error(error)
        else:
            on_done(result)
