"""The installed package: a wheel built from the checkout carries one import package with its weights and data,
and runs `flashvid demo` in a fresh virtual environment with no checkout beside it."""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    # --no-isolation: build with this environment's setuptools (no download); the wheel is the same
    r = subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(out), str(ROOT)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    (whl,) = out.glob("flashvid-*.whl")
    return whl


def test_wheel_holds_one_package_with_its_data(wheel: Path):
    names = zipfile.ZipFile(wheel).namelist()
    tops = {n.split("/")[0] for n in names if not n.split("/")[0].endswith((".dist-info", ".data"))}
    assert tops == {"flashvid"}, tops
    for needed in (
        "flashvid/assets/models/flashvid-rt.safetensors",
        "flashvid/assets/models/MODEL.md",
        "flashvid/assets/configs/flashvid-rt.json",
        "flashvid/assets/pretrained/mobilenet_v2_1.0_224.safetensors",
        "flashvid/assets/segmenters/selfie_segmentation.tflite",
        "flashvid/assets/licences/LICENSE-mediapipe.txt",
        "flashvid/engines/base.py",
        "flashvid/ui/app.py",
        "flashvid/keyframe/core.py",
        "flashvid/training/train.py",
    ):
        assert needed in names, needed


def test_wheel_runs_the_demo_without_the_checkout(wheel: Path, tmp_path: Path):
    """A fresh venv gets the wheel (no deps: they come from this environment's site-packages through a plain path
    entry, so this environment's editable install of the checkout is NOT visible there) and runs the demo."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    py = venv / "bin" / "python"
    site = subprocess.run(
        [str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    Path(site, "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    with zipfile.ZipFile(wheel) as z:  # installing a pure wheel = unpacking it into site-packages
        z.extractall(site)
    work = tmp_path / "elsewhere"
    work.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH",)}
    code = (
        "import flashvid, flashvid.engines, flashvid.ui, sys; "
        f"assert flashvid.__file__.startswith({site!r}), flashvid.__file__; "
        "from flashvid.cli import main; sys.exit(main(['demo', '--frames', '8', '--out-dir', 'demo']))"
    )
    r = subprocess.run([str(py), "-c", code], cwd=work, capture_output=True, text=True, timeout=600, env=env)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    assert "8 frames" in r.stdout, r.stdout
    assert "flashvid/assets/models/flashvid-rt.safetensors" in r.stdout, r.stdout
    assert str(ROOT) not in r.stdout, r.stdout
    assert (work / "demo" / "composite.mp4").stat().st_size > 1000
