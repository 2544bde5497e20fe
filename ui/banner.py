"""`ErrorBanner`: a red bar across the top of the window that shows an error until the user dismisses it.

Errors are not status-bar messages that vanish after a few seconds: an export that failed, an engine that would
not build or an exception inside the app stays on screen, with what to do about it, until Dismiss is pressed.
Several errors stack (newest first, the count shown).
"""

from __future__ import annotations

from PyQt6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QWidget


class ErrorBanner(QFrame):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
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

    def dismiss(self) -> None:
        self.messages.clear()
        self.hide()
