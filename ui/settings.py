"""The studio's settings model: one table of its controls, each with its default, range, QSettings key and a
tooltip in plain words. The window builds its controls from it, restores and saves them through it, so a control
is added in one place. Defaults come from `flashvid.defaults` where the library has one."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from PyQt6.QtCore import QSettings, Qt
from PyQt6.QtWidgets import QCheckBox, QComboBox, QDoubleSpinBox, QLineEdit, QSlider, QSpinBox, QWidget

from flashvid import defaults
from flashvid.network import MODELS
from flashvid.video.sinks import FORMATS


@dataclass(frozen=True)
class Setting:
    """One control. kind: ``int`` (spin box), ``float`` (spin box), ``slider`` (int), ``choice``, ``text`` or
    ``check`` (a check box)."""

    key: str
    label: str
    kind: str
    default: Any
    low: float = 0
    high: float = 100
    step: float = 1
    choices: tuple[str, ...] = field(default_factory=tuple)
    special: str = ""  # text shown at the minimum of a spin box ("auto")
    tip: str = ""
    scale: float = 1  # the control shows the library's value times this (percent sliders: 100)

    def library_value(self, shown: float) -> float:
        """The library's value of what the control shows."""
        return shown / self.scale


def _range(r: defaults.Range, scale: float = 1, auto: bool = False, whole: bool = False) -> dict[str, Any]:
    """A control's low / high / step from a library range (`auto`: one step below the range's low means "auto";
    `whole`: an integer control, its ends rounded inwards)."""
    low, high = r.low * scale - (r.step * scale if auto else 0), r.high * scale
    if whole:
        low, high = math.ceil(low), math.floor(high)
    return {"low": low, "high": high, "step": r.step * scale, "scale": scale}


def devices() -> tuple[str, ...]:
    """``cpu`` and one ``cuda:N`` per NVIDIA GPU PyTorch sees here."""
    import torch

    n = torch.cuda.device_count() if torch.cuda.is_available() else 0
    return ("cpu", *(f"cuda:{i}" for i in range(n)))


#: the matte-finishing controls: each is the compositor's attribute of the same name
FINISHING = ("fill_holes", "grow", "feather")

SETTINGS: tuple[Setting, ...] = (
    Setting(
        "background",
        "background",
        "choice",
        "colour",
        choices=("colour", "image...", "video...", "blur", "transparent"),
        tip="What replaces the room behind you",
    ),
    Setting(
        "colour", "colour", "text", defaults.BACKGROUND, tip="Background colour as #RRGGBB (green suits chroma keys)"
    ),
    Setting(
        "blur",
        "blur strength",
        "slider",
        int(defaults.BLUR_STRENGTH),
        **_range(defaults.BLUR_RANGE, whole=True),
        tip="How much the real room is blurred (blur background)",
    ),
    Setting(
        "band",
        "trimap band (px)",
        "int",
        0,  # the "auto" entry: defaults.BAND (None)
        **_range(defaults.BAND_RANGE, auto=True, whole=True),
        special="auto",
        tip="Width of the uncertain edge band around you; wider helps hair, narrower keeps edges crisp",
    ),
    Setting(
        "threshold",
        "ratio threshold",
        "float",
        defaults.RATIO_THRESHOLD,
        **_range(defaults.RATIO_THRESHOLD_RANGE),
        tip="How strongly the flash must light a spot for it to count as you",
    ),
    Setting(
        "smooth",
        "temporal smoothing",
        "slider",
        round(defaults.SMOOTHING * 100),
        **_range(defaults.SMOOTHING_RANGE, 100, whole=True),
        tip="Steadier edges over time, at the cost of lag",
    ),
    Setting(
        "despill",
        "despill",
        "slider",
        round(defaults.DESPILL * 100),
        **_range(defaults.DESPILL_RANGE, 100, whole=True),
        tip="Removes the old background's colour from your edges",
    ),
    Setting(
        "fill_holes",
        "fill holes (px)",
        "int",
        defaults.FILL_HOLES,
        **_range(defaults.FILL_HOLES_RANGE, whole=True),
        tip="Closes holes in the matte up to this size (lettering or a pattern punched out of your clothes)",
    ),
    Setting(
        "grow",
        "grow / shrink (px)",
        "int",
        defaults.GROW,
        **_range(defaults.GROW_RANGE, whole=True),
        tip="Moves the matte's edge outwards (+) or inwards (-): shrink it to cut a halo of the old room",
    ),
    Setting(
        "feather",
        "feather (px)",
        "float",
        defaults.FEATHER,
        **_range(defaults.FEATHER_RANGE),
        tip="Softens the matte's edge (0: as the network drew it)",
    ),
    Setting(
        "model",
        "model",
        "choice",
        defaults.MODEL,
        choices=tuple(sorted(MODELS)),
        tip="flashvid-rt runs live; dfm-official is the paper's large network (needs its weights)",
    ),
    Setting(
        "device",
        "device",
        "choice",
        defaults.DEVICE,
        choices=devices(),
        tip="Where the network runs: the processor (cpu) or an NVIDIA graphics card (cuda:N)",
    ),
    Setting(
        "engine",
        "engine",
        "choice",
        defaults.STUDIO_ENGINE,
        choices=defaults.ENGINES,
        tip="How the network runs: auto measures the engines this device has once and keeps the fastest",
    ),
    Setting(
        "precision",
        "precision",
        "choice",
        defaults.PRECISION,
        choices=defaults.PRECISIONS,
        tip="fp16 needs an NVIDIA GPU; bf16 is faster on some CPUs",
    ),
    Setting(
        "internal",
        "internal resolution",
        "int",
        defaults.INTERNAL_SIZE,
        **_range(defaults.INTERNAL_SIZE_RANGE, whole=True),
        tip="The size the network works at; lower is faster, higher keeps more detail",
    ),
    Setting(
        "subject",
        "only the keyframe's subject",
        "check",
        defaults.SUBJECT_CHECK,
        tip="Fade the matte out for anyone who does not look like the person in the keyframe (flashvid-rt); "
        "once it has seen you at the start it holds while you turn or move",
    ),
    Setting(
        "format",
        "record format",
        "choice",
        "mp4",
        choices=tuple(FORMATS),
        tip="mp4 keeps audio; prores / webm / png keep transparency",
    ),
)
BY_KEY = {s.key: s for s in SETTINGS}


def make_control(s: Setting) -> QWidget:
    """A widget for `s`, set to its default, with its tooltip."""
    w: QWidget
    if s.kind == "int":
        box = QSpinBox()
        box.setRange(int(s.low), int(s.high))
        box.setSingleStep(int(s.step))
        if s.special:
            box.setSpecialValueText(s.special)
        w = box
    elif s.kind == "float":
        dbox = QDoubleSpinBox()
        dbox.setRange(float(s.low), float(s.high))
        dbox.setSingleStep(float(s.step))
        w = dbox
    elif s.kind == "slider":
        w = QSlider(Qt.Orientation.Horizontal)
        w.setRange(int(s.low), int(s.high))
    elif s.kind == "choice":
        w = QComboBox()
        w.addItems(list(s.choices))
    elif s.kind == "text":
        w = QLineEdit()
    elif s.kind == "check":
        w = QCheckBox()
    else:
        raise ValueError(f"unknown setting kind {s.kind!r}")
    set_value(w, s.default)
    w.setToolTip(s.tip)
    return w


def value(w: QWidget) -> Any:
    if isinstance(w, (QSpinBox, QDoubleSpinBox, QSlider)):
        return w.value()
    if isinstance(w, QComboBox):
        return w.currentText()
    if isinstance(w, QLineEdit):
        return w.text()
    if isinstance(w, QCheckBox):
        return w.isChecked()
    raise TypeError(type(w).__name__)


def set_value(w: QWidget, v: Any) -> None:
    if isinstance(w, QSpinBox | QSlider):
        w.setValue(int(v))
    elif isinstance(w, QDoubleSpinBox):
        w.setValue(float(v))
    elif isinstance(w, QComboBox):
        if w.findText(str(v)) >= 0:
            w.setCurrentText(str(v))
    elif isinstance(w, QLineEdit):
        w.setText(str(v))
    elif isinstance(w, QCheckBox):
        w.setChecked(v if isinstance(v, bool) else str(v).lower() in ("true", "1"))


def restore(controls: dict[str, QWidget], store: QSettings) -> None:
    """Each control from its QSettings key (its default when absent or unreadable)."""
    for key, w in controls.items():
        s = BY_KEY[key]
        raw = store.value(key, s.default)
        try:
            # QSettings may hand a stored bool back as the text "true" / "false"
            parse = (
                str if isinstance(s.default, str) else (lambda x: x) if isinstance(s.default, bool) else type(s.default)
            )
            set_value(w, parse(raw))
        except (TypeError, ValueError):
            set_value(w, s.default)


def save(controls: dict[str, QWidget], store: QSettings) -> None:
    for key, w in controls.items():
        store.setValue(key, value(w))
