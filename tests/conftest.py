"""Shared fixtures: seeded randomness, the shared data folder, synthetic flash pairs, a tiny random SAM."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import torch

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


@pytest.fixture(autouse=True)
def _seed() -> None:
    np.random.seed(0)  # noqa: NPY002 - libraries that draw from the legacy global generator
    torch.manual_seed(0)


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """../shared/data beside the checkout; tests that need it skip cleanly where it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"{SHARED_DATA} is absent")
    return SHARED_DATA


def iou(a: np.ndarray, b: np.ndarray) -> float:
    a, b = a > 0, b > 0
    return float((a & b).sum() / max(1, (a | b).sum()))


def tiny_sam_config() -> dict[str, object]:
    """A SAM v1 layout small enough for CPU tests (same building blocks as vit_b/l/h)."""
    return {
        "type": "custom",
        "embed_dim": 32,
        "depth": 2,
        "num_heads": 2,
        "global_attn_indexes": (1,),
        "window_size": 4,
        "img_size": 256,
        "prompt_dim": 32,
        "decoder_depth": 2,
        "decoder_mlp": 64,
    }


@pytest.fixture(scope="session")
def tiny_sam_checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny SAM with random weights saved as a plain state dict, as segment-anything's files are."""
    from flashvid.keyframe.segment import build_sam

    torch.manual_seed(1234)
    model = build_sam(tiny_sam_config())
    path = tmp_path_factory.mktemp("sam") / "sam_tiny.pth"
    torch.save(model.state_dict(), path)
    return path
