"""The virtual camera from the [ui] install: pyvirtualcam is there; without a v4l2loopback device the studio and
`flashvid stream --to virtualcam` say in one line how to load it."""

from __future__ import annotations

import glob

import pytest

from flashvid.errors import FlashvidError
from flashvid.video.sinks import VirtualCamSink


def test_virtual_camera_without_a_device_is_one_line_naming_the_fix() -> None:
    pytest.importorskip("pyvirtualcam")
    if glob.glob("/dev/video*"):
        pytest.skip("this machine has video devices: a virtual camera may open")
    with pytest.raises(FlashvidError) as err:
        VirtualCamSink(64, 48, 30)
    assert "modprobe v4l2loopback" in str(err.value) and "\n" not in str(err.value)


def test_the_ui_extra_brings_the_virtual_camera() -> None:
    from pathlib import Path

    import tomllib

    project = tomllib.loads((Path(__file__).resolve().parents[1] / "pyproject.toml").read_text())["project"]
    assert any(d.startswith("pyvirtualcam") for d in project["optional-dependencies"]["ui"])
