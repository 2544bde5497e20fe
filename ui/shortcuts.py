"""The studio's keyboard shortcuts: one table, an application-wide filter that makes them work whatever control
has the focus, and the help overlay that lists them.

Single keys (K, R, V, Space, ...) fire from any control except a text field (the UDP address, the colour),
where the letter is typed instead; there the Ctrl+ form of each shortcut works (except where the field needs it:
Ctrl+V pastes, Ctrl+arrows move by word). A spin box or a slider with the
focus no longer swallows them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from PyQt6.QtCore import QEvent, QObject, Qt
from PyQt6.QtGui import QColor, QKeyEvent, QPainter
from PyQt6.QtWidgets import QAbstractSpinBox, QApplication, QLineEdit, QPlainTextEdit, QTextEdit, QWidget


@dataclass(frozen=True)
class Shortcut:
    key: Qt.Key
    name: str  # as shown: "K", "Space", "F1"
    action: str  # the window's method name
    what: str


SHORTCUTS: tuple[Shortcut, ...] = (
    Shortcut(Qt.Key.Key_K, "K", "open_wizard", "take a keyframe (the wizard)"),
    Shortcut(Qt.Key.Key_F, "F", "key_this_frame", "no flash: key this frame by clicking the subject, then Enter"),
    Shortcut(Qt.Key.Key_R, "R", "toggle_record_key", "start / stop recording"),
    Shortcut(Qt.Key.Key_V, "V", "next_view", "next view: composite, alpha, before / after"),
    Shortcut(Qt.Key.Key_Space, "Space", "toggle_pause", "pause / play (a file keeps its position)"),
    Shortcut(Qt.Key.Key_M, "M", "toggle_mirror", "mirror the preview"),
    Shortcut(Qt.Key.Key_E, "E", "export_file", "export the open file (every frame, audio kept)"),
    Shortcut(Qt.Key.Key_Left, "Left", "step_back", "back 5 s in a file"),
    Shortcut(Qt.Key.Key_Right, "Right", "step_forward", "forward 5 s in a file"),
    Shortcut(Qt.Key.Key_I, "I", "set_in_point", "export from here (in point)"),
    Shortcut(Qt.Key.Key_O, "O", "set_out_point", "export up to here (out point)"),
    Shortcut(Qt.Key.Key_X, "X", "clear_points", "export the whole file again (clear in / out)"),
    Shortcut(Qt.Key.Key_F1, "F1", "toggle_help", "show / hide this help"),
)
BY_KEY = {s.key: s for s in SHORTCUTS}
#: keys whose Ctrl+ form a text field needs for itself
EDITING_KEYS = {Qt.Key.Key_V, Qt.Key.Key_Left, Qt.Key.Key_Right}


def _typing_into(w: QWidget | None) -> bool:
    """Whether the focus widget takes typed text (a letter there is text, not a shortcut)."""
    if isinstance(w, QLineEdit):
        return not isinstance(w.parent(), QAbstractSpinBox)  # a spin box's own line edit holds numbers only
    return isinstance(w, (QTextEdit, QPlainTextEdit))


class ShortcutFilter(QObject):
    """Installed on the QApplication; runs `trigger(action)` for a shortcut key pressed in `window` (or its
    children), before any control can swallow it. Returns True (handled) only for keys it ran."""

    def __init__(self, window: QWidget, trigger: Callable[[str], None]) -> None:
        super().__init__(window)
        self.window, self.trigger = window, trigger

    def eventFilter(self, obj: QObject | None, event: QEvent | None) -> bool:
        if event is None or event.type() not in (QEvent.Type.ShortcutOverride, QEvent.Type.KeyPress):
            return False
        assert isinstance(event, QKeyEvent)
        sc = BY_KEY.get(Qt.Key(event.key()))
        if sc is None or (event.isAutoRepeat() and sc.key not in (Qt.Key.Key_Left, Qt.Key.Key_Right)):
            return False
        focus = QApplication.focusWidget()
        active = QApplication.activeWindow()
        if active is not self.window:
            return False  # the wizard and dialogs have their own keys
        mods = event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier
        plain = mods == Qt.KeyboardModifier.NoModifier
        ctrl = mods == Qt.KeyboardModifier.ControlModifier
        if sc.key in (Qt.Key.Key_Left, Qt.Key.Key_Right) and isinstance(focus, (QAbstractSpinBox,)):
            return False  # arrows move the cursor in a spin box
        typing = _typing_into(focus)
        if (plain and typing and sc.key != Qt.Key.Key_F1) or not (plain or ctrl):
            return False  # a letter in a text field is text (F1 is not)
        if ctrl and typing and sc.key in EDITING_KEYS:
            return False  # Ctrl+V pastes, Ctrl+arrows move by word in a text field
        if isinstance(obj, QWidget) and obj is not focus and focus is not None:
            return False  # the event is delivered to each ancestor too: act once, on the focus widget's copy
        if event.type() == QEvent.Type.ShortcutOverride:
            event.accept()  # claim the key from the focused control; the KeyPress that follows runs it
            return True
        self.trigger(sc.action)
        return True


class HelpOverlay(QWidget):
    """A translucent panel over its parent listing `SHORTCUTS`; any click or key hides it."""

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents, False)
        self.hide()

    def toggle(self) -> None:
        if self.isVisible():
            self.hide()
        else:
            parent = self.parentWidget()
            if parent is not None:
                self.setGeometry(parent.rect())
            self.raise_()
            self.show()

    def mousePressEvent(self, event) -> None:
        self.hide()

    def paintEvent(self, event) -> None:
        p = QPainter(self)
        p.fillRect(self.rect(), QColor(0, 0, 0, 190))
        p.setPen(QColor(255, 255, 255))
        f = p.font()
        f.setPointSize(max(f.pointSize(), 11))
        p.setFont(f)
        lh = p.fontMetrics().height() + 6
        lines = [("Shortcuts", "(any control; Ctrl+key in a text field)"), ("", "")]
        lines += [(s.name, s.what) for s in SHORTCUTS]
        x0, y = 40, 40
        for key, what in lines:
            p.drawText(x0, y, key)
            p.drawText(x0 + 90, y, what)
            y += lh
        p.end()
