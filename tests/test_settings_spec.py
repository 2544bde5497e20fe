"""One default and one range per setting (issue 21): the library, the CLI's flags and the studio's settings table
are built from `flashvid.defaults` through `flashvid.spec`, and agree; a spec refuses bad values in one line."""

from __future__ import annotations

import inspect

import pytest

from flashvid import api, defaults
from flashvid.errors import InputError
from flashvid.spec import CompositorSpec, MatterSpec, field_defaults

# (library default, library range, CLI command and dest, studio key)
SHARED = {
    "despill": (defaults.DESPILL, defaults.DESPILL_RANGE, ("export", "despill"), "despill"),
    "smoothing": (defaults.SMOOTHING, defaults.SMOOTHING_RANGE, ("export", "smooth"), "smooth"),
    "internal_size": (defaults.INTERNAL_SIZE, defaults.INTERNAL_SIZE_RANGE, ("export", "internal_size"), "internal"),
    "fill_holes": (defaults.FILL_HOLES, defaults.FILL_HOLES_RANGE, ("export", "fill_holes"), "fill_holes"),
    "grow": (defaults.GROW, defaults.GROW_RANGE, ("export", "grow"), "grow"),
    "feather": (defaults.FEATHER, defaults.FEATHER_RANGE, ("export", "feather"), "feather"),
    "band": (defaults.BAND, defaults.BAND_RANGE, ("keyframe", "band"), "band"),
    "threshold": (defaults.RATIO_THRESHOLD, defaults.RATIO_THRESHOLD_RANGE, ("keyframe", "threshold"), "threshold"),
}


def _cli_action(command: str, dest: str):
    from flashvid.cli import build_parser

    parser, _ = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    return next(a for a in sub.choices[command]._actions if a.dest == dest)


def _cli_accepts(command: str, dest: str, value: float) -> bool:
    import argparse

    action = _cli_action(command, dest)
    try:
        action.type(str(value))
    except argparse.ArgumentTypeError:
        return False
    return True


@pytest.mark.parametrize("name", sorted(SHARED))
def test_cli_library_and_studio_agree_on_defaults_and_ranges(name: str) -> None:
    pytest.importorskip("PyQt6")
    from flashvid.ui.settings import BY_KEY

    default, rng, (command, dest), key = SHARED[name]
    # the library
    lib = {**field_defaults(MatterSpec), **field_defaults(CompositorSpec)}
    if name in lib:
        assert lib[name] in (default, None), name  # None: "the model's default", which is `default`
    params = inspect.signature(api.matte_video).parameters
    if name in params:
        assert params[name].default in (default, None)
    if name == "threshold":
        from flashvid.keyframe import make_keyframe

        assert inspect.signature(make_keyframe).parameters["threshold"].default == default
    # the CLI: its default, and the ends of its range (inside accepted, just outside refused)
    action = _cli_action(command, dest)
    assert action.default in (default, None), (name, action.default)
    assert _cli_accepts(command, dest, rng.low) and _cli_accepts(command, dest, rng.high)
    eps = 1 if isinstance(default, int) or name == "band" else 0.001
    assert not _cli_accepts(command, dest, rng.low - eps) and not _cli_accepts(command, dest, rng.high + eps)
    # the studio: its control's default and range, in the library's units
    s = BY_KEY[key]
    shown_default = s.library_value(s.default)
    assert shown_default == pytest.approx(default) or (default is None and s.special == "auto" and s.default == s.low)
    low = s.library_value(s.low + (s.step if s.special else 0))
    assert low == pytest.approx(rng.low) and s.library_value(s.high) == pytest.approx(rng.high)


def test_library_defaults_are_the_single_place() -> None:
    assert inspect.signature(api.make_compositor).parameters["despill"].default == defaults.DESPILL
    assert CompositorSpec().despill == defaults.DESPILL and MatterSpec().engine == defaults.ENGINE
    assert MatterSpec().model == defaults.MODEL and CompositorSpec().background == defaults.BACKGROUND


@pytest.mark.parametrize(
    "bad",
    [
        {"internal_size": 0},
        {"internal_size": 4096},
        {"device": "banana"},
        {"engine": "warp"},
        {"precision": "fp8"},
        {"model": "nope"},
        {"checkpoint": "x.safetensors", "random_weights": True},
        {"model": "dfm-official", "subject_check": True},
        {"model": "dfm-official", "internal_size": 384},
    ],
)
def test_matter_spec_refuses_bad_settings_in_one_line(bad: dict) -> None:
    with pytest.raises(InputError) as e:
        MatterSpec(**bad)
    assert "\n" not in str(e.value)


@pytest.mark.parametrize("bad", [{"despill": float("nan")}, {"despill": 2.0}, {"smoothing": 0.99}])
def test_compositor_spec_refuses_bad_settings(bad: dict) -> None:
    with pytest.raises(InputError):
        CompositorSpec(**bad)


def test_abilities_come_from_the_registry() -> None:
    from flashvid.network import MODELS

    rt, dfm = MatterSpec(), MatterSpec(model="dfm-official")
    assert rt.subject_check_on is defaults.SUBJECT_CHECK and MODELS["flashvid-rt"].subject_check
    assert dfm.subject_check_on is False and dfm.model_settings() == {}
    assert MatterSpec(subject_check=False).model_settings() == {}
    assert MatterSpec(internal_size=512).model_settings()["internal_size"] == 512
