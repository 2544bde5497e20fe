"""Three example frames (input, alpha, composite) from held-apart validation clips, as PNGs.

python scripts/example_frames.py [--checkpoint assets/models/flashvid-rt.safetensors] [--out-dir docs]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch

from flashvid.imageio import write_image
from flashvid.matter import default_checkpoint
from flashvid.network import build_model
from flashvid.training.evaluate import model_alphas
from flashvid.training.train import load_config, load_sources, validation_clips
from flashvid.viz import grid, label


def main() -> None:
    here = Path(__file__).resolve().parents[1]
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--config", default=str(here / "configs" / "flashvid-rt.json"))
    ap.add_argument("--checkpoint", default=None)
    ap.add_argument("--out-dir", type=Path, default=Path("."))
    ap.add_argument("--clips", type=int, default=3)
    args = ap.parse_args()
    cfg = load_config(args.config, val_clips=max(args.clips, 3))
    _, val_fg, bgs = load_sources(cfg)
    clips = validation_clips(cfg, val_fg, bgs)
    model = build_model(cfg["model"], args.checkpoint or default_checkpoint(cfg["model"]))
    torch.set_num_threads(2)
    args.out_dir.mkdir(parents=True, exist_ok=True)
    backdrop = np.array([60, 140, 220], np.float32) / 255
    for n, clip in enumerate(clips[: args.clips]):
        alpha = model_alphas(model, clip)[-1]
        frame = clip.frames[-1]
        comp = alpha[..., None] * frame / 255.0 + (1 - alpha[..., None]) * backdrop
        row = [
            label(frame, "input (last frame)"),
            label(clip.flash, "flash keyframe"),
            label(np.repeat((alpha[..., None] * 255).astype(np.uint8), 3, 2), "alpha"),
            label(np.repeat((clip.alphas[-1][..., None] * 255).astype(np.uint8), 3, 2), "ground truth"),
            label((comp * 255).astype(np.uint8), "composite"),
        ]
        path = args.out_dir / f"example_{n + 1}.png"
        write_image(path, grid([row], cell_height=256))
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
