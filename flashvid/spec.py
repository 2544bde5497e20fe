"""The matter's and the compositor's settings as two typed, frozen objects.

    spec = MatterSpec(engine="onnx", internal_size=512)     # checked here: one InputError line if wrong
    matter = spec.build()                                    # a FlashMatter
    compositor = CompositorSpec(background="blur:25").build()

Every default and range comes from `flashvid.defaults`; the library (`make_matter`, `matte_video`), the CLI's flags
(`flashvid.cli.common`), `flashvid bench` and the studio's settings table are built from these objects, so a value
or a range exists once. What a model can do (a subject check, an internal resolution, shipped weights) is read
from the model registry (`flashvid.network.MODELS`), never from its name.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any

from flashvid import defaults
from flashvid.errors import InputError

if TYPE_CHECKING:
    from flashvid.compose import Background, Compositor
    from flashvid.matter import FlashMatter


def check_device(device: str) -> None:
    """``cpu``, ``cuda`` or ``cuda:N`` (syntax only; whether that GPU exists is the engine's question)."""
    if not isinstance(device, str) or not (
        device == "cpu" or device == "cuda" or (device.startswith("cuda:") and device[5:].isdigit())
    ):
        raise InputError(f"device {device!r}: give cpu, cuda or cuda:N")


@dataclass(frozen=True)
class MatterSpec:
    """How to build a `FlashMatter`.

    Attributes:
        model: a registered model name (`flashvid.network.MODELS`).
        checkpoint: weights to load; None: the model's shipped weights.
        engine: one of `defaults.ENGINES`.
        device: ``cpu``, ``cuda`` or ``cuda:N``.
        precision: one of `defaults.PRECISIONS`.
        internal_size: the internal resolution in pixels (long side) for a model that has one
            (`defaults.INTERNAL_SIZE_RANGE`); None: the model's default.
        subject_check: the subject check on / off; None: `defaults.SUBJECT_CHECK` where the model has one.
        random_weights: untrained weights on purpose (speed tests); excludes `checkpoint`.
    """

    model: str = defaults.MODEL
    checkpoint: str | None = None
    engine: str = defaults.ENGINE
    device: str = defaults.DEVICE
    precision: str = defaults.PRECISION
    internal_size: int | None = None
    subject_check: bool | None = None
    random_weights: bool = False

    def __post_init__(self) -> None:
        from flashvid.network import MODELS

        if self.model not in MODELS:
            raise InputError(f"unknown model {self.model!r}; choose one of {', '.join(sorted(MODELS))}")
        if self.engine not in defaults.ENGINES:
            raise InputError(f"unknown engine {self.engine!r}; choose one of {', '.join(defaults.ENGINES)}")
        if self.precision not in defaults.PRECISIONS:
            raise InputError(f"unknown precision {self.precision!r}; choose one of {', '.join(defaults.PRECISIONS)}")
        check_device(self.device)
        if self.checkpoint is not None:
            object.__setattr__(self, "checkpoint", os.fspath(self.checkpoint))
        if self.random_weights and self.checkpoint is not None:
            raise InputError("give either a checkpoint or random weights (--random-weights), not both")
        if self.internal_size is not None:
            defaults.INTERNAL_SIZE_RANGE.check(self.internal_size, "internal_size")
            if int(self.internal_size) != self.internal_size:
                raise InputError(f"internal_size={self.internal_size!r}: give a whole number of pixels")
            if not MODELS[self.model].internal_size:
                raise InputError(f"{self.model} has no internal resolution to set (leave out --internal-size)")
        if self.subject_check and not MODELS[self.model].subject_check:
            raise InputError(f"{self.model} has no subject check (leave out --subject-check)")

    @property
    def has_subject_check(self) -> bool:
        """Whether the model can carry the subject check at all (a registry ability)."""
        from flashvid.network import MODELS

        return MODELS[self.model].subject_check

    @property
    def subject_check_on(self) -> bool:
        """The subject check as it will run: the explicit choice, else the default where the model has one."""
        if not self.has_subject_check:
            return False
        return defaults.SUBJECT_CHECK if self.subject_check is None else self.subject_check

    def model_settings(self) -> dict[str, Any]:
        """The `build_model` settings this spec asks for (internal size; the subject gate when it is on)."""
        from flashvid.network import subject_check_settings

        out: dict[str, Any] = {"internal_size": self.internal_size} if self.internal_size else {}
        return {**subject_check_settings(self.model, self.subject_check_on), **out}

    def replace(self, **changes: Any) -> MatterSpec:
        """A copy with `changes` (checked again)."""
        return dataclasses.replace(self, **changes)

    def build(self, **model_settings: Any) -> FlashMatter:
        """The `FlashMatter` this spec describes; `model_settings` adds ablation switches (``use_fcm=False``)."""
        from flashvid.matter import FlashMatter

        return FlashMatter(spec=self, **model_settings)

    def label(self) -> str:
        """One line for the user: model, engine, device, precision."""
        return f"{self.model} ({self.engine}, {self.device}, {self.precision})"


@dataclass(frozen=True)
class CompositorSpec:
    """How to build a `Compositor`.

    Attributes:
        background: ``#RRGGBB``, ``blur[:STRENGTH]``, ``none`` / ``transparent`` (None too), an image or a video file.
        despill: 0..1 (`defaults.DESPILL_RANGE`): how much of the network's foreground colour replaces the frame's
            colour at partial alpha.
        smoothing: 0..0.95 (`defaults.SMOOTHING_RANGE`): temporal smoothing of alpha.
        fill_holes, grow, feather: matte finishing in pixels (`defaults.FILL_HOLES_RANGE`, `GROW_RANGE`,
            `FEATHER_RANGE`; `flashvid.compose.Compositor.finish`).
    """

    background: str | None = defaults.BACKGROUND
    despill: float = defaults.DESPILL
    smoothing: float = defaults.SMOOTHING
    fill_holes: int = defaults.FILL_HOLES
    grow: int = defaults.GROW
    feather: float = defaults.FEATHER

    def __post_init__(self) -> None:
        defaults.DESPILL_RANGE.check(self.despill, "despill")
        defaults.SMOOTHING_RANGE.check(self.smoothing, "smoothing")
        defaults.FILL_HOLES_RANGE.check(self.fill_holes, "fill_holes")
        defaults.GROW_RANGE.check(self.grow, "grow")
        defaults.FEATHER_RANGE.check(self.feather, "feather")
        if self.background is not None and not isinstance(self.background, str):
            raise InputError(f"background {self.background!r}: give a file, #RRGGBB, blur[:STRENGTH] or none")

    def settings(self) -> dict[str, Any]:
        """Everything but the background, as `flashvid.matte_video`'s keywords of the same names."""
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name != "background"}

    def build(self, background: Background | None = None) -> Compositor:
        """The `Compositor` (the background parsed and opened here; `background` replaces it when given)."""
        from flashvid.compose import Compositor
        from flashvid.video.background import parse_background

        bg = background if background is not None else parse_background(self.background)
        return Compositor(
            bg,
            despill=self.despill,
            smoothing=self.smoothing,
            fill_holes=self.fill_holes,
            grow=self.grow,
            feather=self.feather,
        )


def field_defaults(cls: type) -> dict[str, Any]:
    """Each field's default of a spec class (for the CLI and the studio, and the test that they agree)."""
    return {f.name: f.default for f in fields(cls)}


__all__ = ["CompositorSpec", "MatterSpec", "check_device", "field_defaults"]
