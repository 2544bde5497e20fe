"""How far real frames stray from their first frame's background, on TRAINING clips only: the numbers behind
`flashvid.network.rt.person_prior.STILL_THRESHOLD`.

For frames 1-40 of each clip (every 4th) against frame 0, at the network's internal size (long side 384), the
difference `unchanged_background` computes (mean absolute difference per channel over 4 x 4 cells, then over a
cell and its neighbours) is collected in two groups: cells that are background in both frames (MediaPipe, widened
by 5 cells) and cells a person newly covers (background at frame 0, person above 0.8 now). Prints, per threshold,
the share of each group below it.

    python scripts/still_background_stats.py [--shared ../shared/data]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import av
import cv2
import numpy as np
import torch
import torch.nn.functional as F

from flashvid.keyframe.person import PersonSegmenter

#: training scenes only (videos-more scenes whose place and people are held out are not here)
CLIPS = (
    "videos-more/intel_classroom.mp4",
    "videos-more/intel_people-detection.mp4",
    "videos-more/intel_person-bicycle-car-detection.mp4",
    "videos-more/intel_face-demographics-walking.mp4",
    "videos-more/intel_head-pose-face-detection-female.mp4",
    "videos/asl_again.mkv",
    "videos/asl_bird.mkv",
    "videos/asl_book.mkv",
    "videos/asl_brother.mkv",
)


def cells(frame: np.ndarray) -> torch.Tensor:
    t = torch.from_numpy(frame).permute(2, 0, 1)[None].float() / 255
    t = F.interpolate(t, scale_factor=384 / max(frame.shape[:2]), mode="bilinear", antialias=True)
    return F.avg_pool2d(t, 4)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shared", default=str(Path(__file__).resolve().parents[2] / "shared" / "data"))
    args = ap.parse_args()
    seg = PersonSegmenter()
    background, covered = [], []
    for name in CLIPS:
        frames = []
        with av.open(str(Path(args.shared) / name)) as c:
            for f in c.decode(video=0):
                frames.append(f.to_ndarray(format="rgb24"))
                if len(frames) > 40:
                    break
        key, person0 = cells(frames[0]), seg(frames[0])
        for f in frames[1::4]:
            d = (cells(f) - key).abs().mean(1, keepdim=True)
            d = F.avg_pool2d(d, 3, 1, 1, count_include_pad=False)[0, 0].numpy()
            h, w = d.shape
            was, now = cv2.resize(person0, (w, h)), cv2.resize(seg(f), (w, h))
            grow = np.ones((5, 5), np.uint8)
            free0 = cv2.dilate((was > 0.2).astype(np.uint8), grow) == 0
            free1 = cv2.dilate((now > 0.2).astype(np.uint8), grow) == 0
            background.append(d[free0 & free1])
            covered.append(d[free0 & (now > 0.8)])
    bg, cov = np.concatenate(background), np.concatenate(covered)
    print(f"{len(bg)} background cells, {len(cov)} cells a person newly covers")
    for t in (0.01, 0.02, 0.03, 0.04, 0.06):
        print(f"threshold {t:.2f}: background below {np.mean(bg < t):.3f}, newly covered below {np.mean(cov < t):.4f}")


if __name__ == "__main__":
    main()
