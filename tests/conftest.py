"""Shared fixtures and builders: seeded randomness, the shared data folder, small test videos and keyframes
(`make_video`, `keyframe`, also as the fixtures `video_maker` / `keyframe_maker`), a tiny random SAM."""

from __future__ import annotations

import os
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
import torch

from flashvid.keyframe import Keyframe

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


# ------------------------------------------------------------------------------------- small videos, keyframes


def make_video(
    path: Path,
    frames: int = 12,
    audio: bool = True,
    times: list[float] | None = None,
    width: int = 96,
    height: int = 64,
) -> list[float]:
    """A small H.264 MP4 (moving gradient, `width` x `height`) with an AAC sine tone; returns the frame times."""
    W, H = width, height
    times = times or [i / 24 for i in range(frames)]
    with av.open(str(path), "w") as c:
        v = c.add_stream("libx264", rate=24)
        v.width, v.height, v.pix_fmt = W, H, "yuv420p"
        v.codec_context.time_base = Fraction(1, 1000)
        a = c.add_stream("aac", rate=22050) if audio else None
        for i, t in enumerate(times):
            img = np.zeros((H, W, 3), np.uint8)
            img[..., 0] = (np.arange(W)[None, :] * 2 + i * 10) % 256
            img[..., 1] = 120
            f = av.VideoFrame.from_ndarray(img, format="rgb24")
            f.pts, f.time_base = round(t * 1000), Fraction(1, 1000)
            for p in v.encode(f):
                c.mux(p)
        for p in v.encode():
            c.mux(p)
        if a is not None:
            n = int(22050 * (times[-1] + 0.1))
            tone = (0.2 * np.sin(2 * np.pi * 440 * np.arange(n) / 22050)).astype(np.float32)
            for k in range(0, n, 1024):
                chunk = tone[k : k + 1024]
                af = av.AudioFrame.from_ndarray(chunk[None], format="fltp", layout="mono")
                af.sample_rate, af.pts = 22050, k
                for p in a.encode(af):
                    c.mux(p)
            for p in a.encode():
                c.mux(p)
    return times


def keyframe(h: int = 64, w: int = 96) -> Keyframe:
    """A small keyframe: random texture, a centred rectangle as the subject, a hard trimap."""
    rng = np.random.default_rng(0)
    img = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
    mask = np.zeros((h, w), np.uint8)
    mask[h // 4 : 3 * h // 4, w // 4 : 3 * w // 4] = 1
    return Keyframe(
        img,
        img,
        np.zeros((h, w), np.float32),
        np.zeros((0, 2), np.float32),
        np.zeros(0, np.int32),
        mask,
        np.where(mask > 0, 255, 0).astype(np.uint8),
    )


@pytest.fixture()
def video_maker():
    """`make_video(path, frames=12, audio=True, times=None, width=96, height=64)`."""
    return make_video


@pytest.fixture()
def keyframe_maker():
    """`keyframe(h=64, w=96)`."""
    return keyframe


def clip_with_flash_burst(shared_data: Path, tmp_path: Path, burst: tuple[int, ...] = (20, 21)) -> Path:
    """The first 40 frames of a real clip, with a flash rendered (physically: the person near, the room far) on
    the `burst` frames, written as H.264."""
    import av

    from flashvid.keyframe.person import PersonSegmenter
    from flashvid.keyframe.prior import srgb_to_linear
    from flashvid.training.data.synth import FlashLight, render_flash

    seg = PersonSegmenter()
    rng = np.random.default_rng(3)
    light = FlashLight(d_ratio=4.0, power=2.0, exposure_f=1.0, noise=0.0, jpeg=None)
    out = tmp_path / "burst.mp4"
    with av.open(str(shared_data / "videos" / "asl_no.mkv")) as c, av.open(str(out), "w") as o:
        s = o.add_stream("libx264", rate=30, options={"crf": "12"})
        s.width, s.height, s.pix_fmt = 640, 480, "yuv420p"
        for i, f in enumerate(c.decode(video=0)):
            if i >= 40:
                break
            img = f.to_ndarray(format="rgb24")
            if i in burst:
                albedo = srgb_to_linear(img)
                img = render_flash(albedo, seg(img), albedo, light, rng)
            for p in s.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
                o.mux(p)
        for p in s.encode():
            o.mux(p)
    return out


@pytest.fixture()
def studio(qtbot, tmp_path: Path):
    """The studio window over a generated clip, a flash pair beside it (tests/studio_helpers.py); Qt is imported
    only by the tests that use it."""
    from tests.studio_helpers import open_studio

    yield from open_studio(qtbot, tmp_path)
