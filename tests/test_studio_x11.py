"""flashvid-studio in a real X server (Xvfb), driven as a person would: real key presses and clicks through the
X server (xdotool), screenshots of each step (scripts/studio_tour.py). Skipped where Xvfb is not installed
(`scripts/setup.sh` installs it where it can: apt-get install xvfb xdotool and Qt's xcb libraries)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytest.importorskip("PyQt6")
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture()
def xserver():
    xvfb = shutil.which("Xvfb")
    if xvfb is None:
        pytest.skip("Xvfb is not installed (apt-get install xvfb xdotool)")
    r, w = os.pipe()
    proc = subprocess.Popen(
        [xvfb, "-displayfd", str(w), "-screen", "0", "1400x900x24", "-nolisten", "tcp"],
        pass_fds=(w,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(w)
    with os.fdopen(r) as f:
        display = f.readline().strip()
    if not display:
        proc.kill()
        pytest.skip("Xvfb did not start")
    # a window manager, as on a desktop (focus, stacking, dialogs placed by it): openbox where installed
    # (`scripts/setup.sh VENV dev` installs it with Xvfb); without one the tour runs on the bare server
    wm = None
    if shutil.which("openbox"):
        wm = subprocess.Popen(
            ["openbox", "--sm-disable"],
            env={**os.environ, "DISPLAY": f":{display}"},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(1.0)  # managing the screen before the first window maps
        if wm.poll() is not None:
            wm = None
    yield f":{display}", "openbox" if wm is not None else ""
    for p in (wm, proc):
        if p is not None:
            p.terminate()
            p.wait(10)


@pytest.mark.slow
def test_the_studio_as_a_person_uses_it(xserver, tmp_path: Path) -> None:
    out = Path(os.environ.get("FLASHVID_SCREENSHOTS", tmp_path / "tour"))
    display, wm = xserver
    env = {**os.environ, "DISPLAY": display, "QT_QPA_PLATFORM": "xcb", "FLASHVID_CACHE": str(tmp_path / "cache")}
    proc = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "studio_tour.py"), "--out", str(out)],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=1500,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    results = json.loads((out / "results.json").read_text())
    if wm:
        (out / "window-manager.txt").write_text(wm + "\n")  # what the screenshots and timings ran under
    assert results["steps"] == [
        "01-first-launch",
        "02-source-open-raw",
        "03-wizard",
        "04-live-composite",
        "05-before-after",
        "06-engine-building",
        "07-export-in-progress",
        "08-error-banner",
        "09-transparent-checkerboard",
        "10-relaunch-image-background",
    ]
    assert results["wizard_points_added"] == 1 and results["enter_accepted"]
    assert results["view_after_two_v"] == "before / after"  # V pressed while a spin box had the focus
    assert results["building_when_clicked"]  # the click was handled while the engine was still building
    assert "onnx" in results["engine_label"]
    assert "exported 150 frames" in results["export_message"] and results["banner_dismissed"]
    # issue 25: a take stopped by R is written; a damaged video dropped while streaming stops nothing; a relaunch
    # with an image background shows the window and no file dialog
    assert results["take_written"] and results["stream_kept_after_bad_drop"]
    assert results["relaunch_dialogs"] == [] and results["relaunch_background"].endswith("room.png")
    worst = results["gui_worst_ms_by_phase"]
    assert set(worst) >= {"open a file", "stop recording", "background changes", "relaunch with an image background"}
    for name in results["steps"]:
        assert (out / f"{name}.png").stat().st_size > 10_000  # a real picture of the screen, not an empty one
