"""The keyframe on rendered flash portraits (issue 22 item 7; `flashvid.training.keyframe_eval`): per case the
share of the person the keyframe's mask covers, of the head (the top 30 % of the person), and of the room it
takes in; then the means and the worst, and a contact sheet of the worst cases (flash | no-flash | mask).

    python scripts/keyframe_cases.py [--data ../shared/data] [--seed 0] [--out keyframe_cases.png]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from flashvid.imageio import write_image
from flashvid.training.keyframe_eval import keyframe_cases
from flashvid.viz import grid, label, mask_overlay


def main() -> None:
    here = Path(__file__).resolve().parents[1]
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=here.parent / "shared" / "data")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--worst", type=int, default=4, help="rows of the contact sheet")
    ap.add_argument("--out", type=Path, default=Path("keyframe_cases.png"))
    args = ap.parse_args()
    print("| person | background | person covered | head covered | room taken in | segmented by |")
    print("|---|---|---:|---:|---:|---|")
    results = []
    for s in keyframe_cases(args.data, args.seed):
        results.append(s)
        print(f"| {s.case.name} | {s.case.kind} | {s.person:.3f} | {s.head:.3f} | {s.room:.3f} | {s.segmenter} |")
    r = np.array([[s.person, s.head, s.room] for s in results])
    print(f"mean: person {r[:, 0].mean():.3f}, head {r[:, 1].mean():.3f}, room {r[:, 2].mean():.3f}")
    print(f"worst: person {r[:, 0].min():.3f}, head {r[:, 1].min():.3f}, room {r[:, 2].max():.3f}")
    # the worst cases: half with the most room taken in, half with the least head covered
    half = args.worst // 2
    by_room = sorted(results, key=lambda s: -s.room)[:half]
    by_head = [s for s in sorted(results, key=lambda s: s.head) if all(s is not t for t in by_room)]
    rows = [
        [
            label(s.case.flash, f"{s.case.name} {s.case.kind}: flash"),
            label(s.case.noflash, "no flash"),
            label(mask_overlay(s.case.noflash, s.mask), f"person {s.person:.2f} head {s.head:.2f} room {s.room:.2f}"),
        ]
        for s in by_room + by_head[: args.worst - half]
    ]
    write_image(args.out, grid(rows, cell_height=240))
    print(f"{args.out}: the {len(rows)} worst cases")


if __name__ == "__main__":
    main()
