"""`ErrorBanner`: a red bar across the top of the window that shows an error until the user dismisses it.

Errors are not status-bar messages that vanish after a few seconds: an export that failed, an engine that would
not build or an exception inside the app stays on screen, with what to do about it, until Dismiss is pressed.
Several errors stack (newest first, the count shown). Given a widget to float over (the preview), the banner
sits on top of it instead of in the layout: showing it moves no control, so a click never lands on the wrong one.
"""

from __future__ import annotations

from PyQt6.QtCore import QEvent, QObject
from PyQt6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QWidget


class ErrorBanner(QFrame):
    def __init__(self, parent: QWidget | None = None, *, overlay: bool = False) -> None:
        super().__init__(parent)
        self.overlay = overlay and parent is not None
        if self.overlay and parent is not None:
            parent.installEventFilter(self)  # follow the widget's size
        self.setObjectName("errorBanner")
        self.setStyleSheet(
            "#errorBanner { background: #8b1e1e; border-radius: 4px; } "
            "#errorBanner QLabel { color: white; } #errorBanner QPushButton { color: black; }"
        )
        self.messages: list[str] = []
        self.text = QLabel()
        self.text.setWordWrap(True)
        self.dismiss_button = QPushButton("Dismiss")
        self.dismiss_button.clicked.connect(self.dismiss)
        row = QHBoxLayout(self)
        row.setContentsMargins(10, 6, 10, 6)
        row.addWidget(self.text, 1)
        row.addWidget(self.dismiss_button)
        self.hide()

    def show_error(self, message: str) -> None:
        self.messages.insert(0, message)
        more = f"  (+{len(self.messages) - 1} earlier)" if len(self.messages) > 1 else ""
        self.text.setText(f"{message}{more}")
        self.setToolTip("\n".join(self.messages))
        self.show()
        self._place()

    def _place(self) -> None:
        """As an overlay: across the top of the widget it floats over, as tall as its text needs."""
        parent = self.parentWidget()
        if not self.overlay or parent is None:
            return
        width = max(120, parent.width() - 16)
        height = self.heightForWidth(width) if self.hasHeightForWidth() else self.sizeHint().height()
        self.setGeometry(8, 8, width, max(height, self.sizeHint().height()))
        self.raise_()

    def eventFilter(self, watched: QObject | None, event: QEvent | None) -> bool:
        if event is not None and event.type() == QEvent.Type.Resize and self.isVisible():
            self._place()
        return False

    def dismiss(self) -> None:
        self.messages.clear()
        self.hide()
