"""`flashvid demo`: the whole path on a real clip shipped with flashvid (or on the user's files), and the
error figures on a generated clip with known ground truth.

The real clip (flashvid.assets/demo/asl_bird.mkv, Intel Corporation, CC BY 4.0): a person at a desk; its keyframe's
flash is rendered physically onto frame 0 (the inverse-square light on the person the shipped segmenter finds,
`flashvid.training.real_eval.rendered_flash`), the no-flash frame is frame 0 itself. The generated clip: a
procedural subject before a procedural room, a flash keyframe rendered with the same light model, then frames
where the subject sways and the camera pans. Everything runs as a user's file would: keyframe (ratio map ->
mask -> trimap), matting with the shipped model, compositing, export.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import cv2
import numpy as np

if TYPE_CHECKING:
    from flashvid.matter import FlashMatter

from flashvid.training.data.synth import (
    FlashLight,
    procedural_background,
    procedural_subject,
    render_flash,
    render_noflash,
)


@dataclass
class DemoClip:
    flash: np.ndarray
    noflash: np.ndarray
    frames: list[np.ndarray]
    alphas: list[np.ndarray]
    fps: float


def generate_clip(width: int = 640, height: int = 360, frames: int = 48, fps: float = 24.0, seed: int = 0) -> DemoClip:
    """Render the demo clip (uint8 RGB frames, float alphas)."""
    rng = np.random.default_rng(seed)
    sub_fg, sub_a = procedural_subject(height, height, rng)
    fg = np.zeros((height, width, 3), np.float32)
    alpha = np.zeros((height, width), np.float32)
    x0 = (width - height) // 2
    fg[:, x0 : x0 + height], alpha[:, x0 : x0 + height] = sub_fg, sub_a
    pan = width // 8
    bg_wide = procedural_background(height, width + 2 * pan, rng)
    light = FlashLight(
        d_ratio=4.0, power=2.5, exposure_n=0.4, exposure_f=0.38, shadow=0.3, shadow_shift=(6, 4), specular=2, noise=0.01
    )
    bg0 = bg_wide[:, pan : pan + width]
    flash = render_flash(fg, alpha, bg0, light, rng)
    noflash = render_noflash(fg, alpha, bg0, light, rng)
    out_f, out_a = [], []
    for t in range(frames):
        u = t / max(frames - 1, 1)
        dx = 0.12 * width * np.sin(2 * np.pi * u)
        rot = 6.0 * np.sin(4 * np.pi * u)
        m = cv2.getRotationMatrix2D((width / 2, height * 0.9), rot, 1.0 + 0.05 * u)
        m[0, 2] += dx
        f_t = cv2.warpAffine(fg, m, (width, height), flags=cv2.INTER_LINEAR, borderValue=0)
        a_t = np.clip(cv2.warpAffine(alpha, m, (width, height), flags=cv2.INTER_LINEAR, borderValue=0), 0, 1)
        ox = round(pan + pan * 0.8 * np.sin(2 * np.pi * u * 0.5))
        out_f.append(render_noflash(f_t, a_t, bg_wide[:, ox : ox + width], light, rng))
        out_a.append(a_t)
    return DemoClip(flash, noflash, out_f, out_a, fps)


def sky_background(width: int, height: int) -> np.ndarray:
    """A plain gradient backdrop (uint8 RGB) for the demo's composite."""
    y = np.linspace(0, 1, height, dtype=np.float32)[:, None, None]
    top, bottom = np.array([70, 130, 200], np.float32), np.array([235, 200, 150], np.float32)
    return np.broadcast_to((top * (1 - y) + bottom * y), (height, width, 3)).astype(np.uint8).copy()


def contact_sheet(
    frames: list[np.ndarray], alphas: list[np.ndarray], composites: list[np.ndarray], path: str | Path, count: int = 4
) -> None:
    """Rows of (frame, alpha, composite) for `count` evenly spaced frames."""
    from flashvid.imageio import write_image
    from flashvid.viz import grid, label

    idx = np.linspace(0, len(frames) - 1, count).round().astype(int)
    rows = [
        [
            label(frames[i], f"frame {i}"),
            label(np.repeat((alphas[i] * 255 + 0.5).astype(np.uint8)[:, :, None], 3, 2), "alpha"),
            label(composites[i], "composite"),
        ]
        for i in idx
    ]
    write_image(path, grid(rows, cell_height=min(240, frames[0].shape[0])))


@dataclass
class DemoResult:
    """What `run_demo` wrote and measured."""

    out_dir: Path
    frames: int
    width: int
    height: int
    elapsed_s: float
    fps: float
    #: against the ground truth (a generated clip only): MSE and SAD in the unknown band and over the whole frame
    errors: dict[str, float] | None


def truth_errors(alphas: list[np.ndarray], truth: list[np.ndarray]) -> dict[str, float]:
    """Mean per frame: MSE and SAD in the unknown band of the ground truth and over the whole frame."""
    from flashvid.training.metrics import mse, sad, unknown_region

    pairs = list(zip(alphas, truth, strict=False))
    return {
        "mse_unknown": float(np.mean([mse(p, g, unknown_region(g)) for p, g in pairs])),
        "sad_unknown": float(np.mean([sad(p, g, unknown_region(g)) for p, g in pairs])),
        "mse": float(np.mean([mse(p, g) for p, g in pairs])),
        "sad": float(np.mean([sad(p, g) for p, g in pairs])),
    }


def demo_clip_path() -> Path:
    """The real clip `flashvid demo` shows (package data, with its credit beside it)."""
    from flashvid import assets

    return assets.path("demo", "asl_bird.mkv")


def real_demo_clip(frames: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray, list[np.ndarray], float]:
    """(flash, noflash, frames, fps) of the shipped real clip: at most `frames` frames; the flash rendered onto
    frame 0, which is also the no-flash image."""
    from flashvid.keyframe.person import PersonSegmenter
    from flashvid.training.real_eval import rendered_flash
    from flashvid.video.sources import VideoFile

    src = VideoFile(demo_clip_path())
    imgs = [f.image for _, f in zip(range(frames), src, strict=False)]
    flash = rendered_flash(imgs[0], PersonSegmenter()(imgs[0]), seed)
    return flash, imgs[0], imgs, float(src.fps)


def run_demo(
    out_dir: str | Path,
    matter: FlashMatter,
    *,
    video: str | None = None,
    flash: np.ndarray | None = None,
    noflash: np.ndarray | None = None,
    names: tuple[str, str] = ("rendered flash on frame 0", "frame 0"),
    frames: int = 48,
    seed: int = 0,
) -> DemoResult:
    """The whole path once: a keyframe, every frame matted over a sky, written as composite.mp4 (H.264),
    cutout.mov (ProRes 4444 with alpha), contact_sheet.png and keyframe.flashkey in `out_dir`. Without `video`
    the shipped real clip is matted, and then a generated clip with ground truth gives the errors."""
    from flashvid.api import matte_video
    from flashvid.compose import ImageBackground
    from flashvid.keyframe import make_keyframe
    from flashvid.video.sinks import PreviewSink, SinkFrame, VideoSink
    from flashvid.video.sources import ArraySource, Source, VideoFile

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    source: Source
    if video is not None:
        assert flash is not None and noflash is not None
        source = VideoFile(video)
    else:
        flash, noflash, imgs, fps = real_demo_clip(frames, seed)
        source = ArraySource(imgs, fps)
    kf = make_keyframe(flash, noflash, names=names, accept_weak_flash=video is None)
    kf.save(out / "keyframe.flashkey")
    kept: tuple[list[np.ndarray], list[np.ndarray], list[np.ndarray]] = ([], [], [])

    def keep(f: SinkFrame) -> None:
        if len(kept[0]) < 400 and f.source is not None:
            kept[0].append(f.source)
            kept[1].append(f.alpha.astype(np.float32) / 255.0)
            kept[2].append(f.composite.copy())

    w, h, rate = source.width, source.height, source.rate
    sky = ImageBackground(sky_background(w, h))
    with VideoSink(out / "cutout.mov", "prores", w, h, rate) as mov:
        stats = matte_video(
            source, out / "composite.mp4", keyframe=kf, background=sky, matter=matter, sinks=[mov, PreviewSink(keep)]
        )
    contact_sheet(*kept, out / "contact_sheet.png")
    errors = None
    if video is None:  # the error figures: the generated clip, whose ground truth is known
        clip = generate_clip(frames=frames, seed=seed)
        matter.set_keyframe(
            make_keyframe(
                clip.flash, clip.noflash, names=("generated flash", "generated no-flash"), accept_weak_flash=True
            )
        )
        alphas = [matter.process(f).alpha for f in clip.frames]
        errors = truth_errors(alphas, clip.alphas)
    return DemoResult(out, stats.frames_written, w, h, stats.elapsed_s, stats.fps, errors)
