"""`flashvid train` under torchrun: two CPU processes (gloo) train a few steps in DistributedDataParallel, hold
identical parameters, write a checkpoint that loads, and resume from it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

SCRIPT = """
import sys, torch
from flashvid.training.config import load_config
from flashvid.training.distributed import setup, teardown
from flashvid.training.train import Trainer
torch.set_num_threads(1)
ranks, device = setup("cpu")
trainer = Trainer(load_config(sys.argv[1]), sys.argv[2], ranks=ranks, log=lambda *_: None)
trainer.run()
torch.save({k: v.clone() for k, v in trainer.model.state_dict().items()}, f"{sys.argv[2]}/rank{ranks.rank}.pt")
batch = next(trainer.batches(*trainer.prepare()))  # this rank's own data
torch.save(batch["frames"][:, 0], f"{sys.argv[2]}/data{ranks.rank}.pt")
teardown(ranks)
"""


def _config(path: Path, steps: int) -> Path:
    path.write_text(
        json.dumps(
            {
                "size": 64,
                "frames": 2,
                "batch": 1,
                "steps": steps,
                "val_every": 3,
                "val_clips": 1,
                "workers": 0,
                "trimap": "gt",
                "downsample_ratios": [1.0],
                "validation_procedural": 1,
                "foregrounds": [{"kind": "procedural", "count": 3, "seed": 0}],
                "backgrounds": [{"kind": "procedural", "count": 2, "size": 96}],
            }
        )
    )
    return path


def _torchrun(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2", *args]
    return subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


def test_two_cpu_ranks_train_in_step_and_resume(tmp_path: Path) -> None:
    from flashvid.network import build_model

    run = tmp_path / "run"
    run.mkdir()
    script = tmp_path / "ddp.py"
    script.write_text(SCRIPT)
    done = _torchrun([str(script), str(_config(tmp_path / "cfg.json", 3)), str(run)], tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    r0, r1 = (torch.load(run / f"rank{r}.pt", weights_only=True) for r in (0, 1))
    assert r0.keys() == r1.keys()
    assert all(torch.equal(r0[k], r1[k]) for k in r0)  # DDP kept the ranks' weights identical, bit for bit
    assert not torch.equal(torch.load(run / "data0.pt"), torch.load(run / "data1.pt"))  # each rank its own clips
    last = torch.load(run / "last.pt", weights_only=True)
    assert last["step"] == 3 and all(torch.equal(last["model"][k], r0[k]) for k in r0)
    model = build_model("flashvid-rt", run / "best.safetensors")  # strict load
    assert model.config["use_fcm"] is True
    start = {k: v.clone() for k, v in last["model"].items()}

    # the command line under torchrun, resuming on both ranks from rank 0's last.pt
    cfg = _config(tmp_path / "cfg5.json", 5)
    done = _torchrun(["-m", "flashvid", "train", "--config", str(cfg), "--out", str(run), "--resume"], tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.count("5 steps in") == 2  # each rank ends at step 5 (only rank 0 logs its progress)
    after = torch.load(run / "last.pt", weights_only=True)
    assert after["step"] == 5 and [h["step"] for h in after["history"]][-2:] == [3, 5]
    assert any(not torch.equal(after["model"][k], start[k]) for k in start)


def test_single_process_is_unchanged_by_the_ddp_path(tmp_path: Path) -> None:
    """Without torchrun's environment, `setup` joins nothing and keeps the device."""
    from flashvid.training.distributed import Ranks, setup

    os.environ.pop("WORLD_SIZE", None)
    ranks, device = setup("cpu")
    assert ranks == Ranks() and device == "cpu" and not ranks.distributed and ranks.seed(7) == 7
    assert Ranks(1, 2).seed(7) != 7
    with pytest.raises(KeyError):
        os.environ["WORLD_SIZE"] = "2"
        try:
            setup("cpu")  # torchrun always sets RANK: without it this is not torchrun's environment
        finally:
            del os.environ["WORLD_SIZE"]
