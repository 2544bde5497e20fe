"""scripts/gpu.sh, dry-run on the CPU: it keeps its budget and leaves at most 8 files, usable weights among them."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_gpu_script_dry_run_keeps_budget_and_leaves_weights(tmp_path: Path) -> None:
    repo, out = tmp_path / "repo", tmp_path / "out"
    (repo / "scripts").mkdir(parents=True)
    shutil.copy(ROOT / "scripts" / "gpu.sh", repo / "scripts" / "gpu.sh")
    (tmp_path / "shared" / "data").mkdir(parents=True)  # where the script looks for data (the config needs none)
    (repo / "tiny.json").write_text(
        json.dumps(
            {
                "size": 64,
                "frames": 2,
                "val_every": 2,
                "val_clips": 1,
                "trimap": "gt",
                "downsample_ratios": [1.0],
                "validation_procedural": 1,
                "foregrounds": [{"kind": "procedural", "count": 3, "seed": 0}],
                "backgrounds": [{"kind": "procedural", "count": 2, "size": 96}],
            }
        )
    )
    env = {
        **os.environ,
        "PYTHON": sys.executable,
        "FLASHVID_DEVICE": "cpu",
        "FLASHVID_NO_INSTALL": "1",
        "FLASHVID_BATCH": "2",
        "FLASHVID_VAL_EVERY": "2",
    }
    budget = 150
    done = subprocess.run(
        ["bash", str(repo / "scripts" / "gpu.sh"), str(out), str(budget), "tiny.json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=budget + 60,
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 0, done.stderr
    took = re.search(r"gpu.sh done in (\d+) s of (\d+)", done.stdout)
    assert took is not None and int(took.group(1)) <= budget, done.stdout
    files = sorted(p.name for p in out.iterdir())
    assert len(files) <= 8 and not (out / "run").exists(), files  # what a lent machine sends back, no more
    assert {"env.txt", "bench.log", "train.log", "history.json", "flashvid-rt.safetensors", "last.pt"} <= set(files)
    assert "fp16 runs on CUDA only" in (out / "bench.log").read_text()  # the bench stage failed and said why
    history = json.loads((out / "history.json").read_text())
    assert history and history[-1]["lr"] == pytest.approx(0.0, abs=1e-9)  # annealed inside the time given
    with tarfile.open(out / "snapshots.tar") as tar:
        names = tar.getnames()
    last = f"step_{history[-1]['step']:06d}.safetensors"
    assert 1 <= len(names) <= 8 and names == sorted(names) and names[-1] == last
    from flashvid.network import build_model

    model = build_model("flashvid-rt", out / "flashvid-rt.safetensors")  # strict load: a complete checkpoint
    assert model.config["use_fcm"] is True
