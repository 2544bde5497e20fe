"""The keyframe on rendered flash portraits (issue 22 item 7): how much of the person the keyframe's mask covers,
how much of the head (where hair is lost first), and how much of the room it takes in.

Each real portrait with a matte (../shared/data/portraits, and the people of ../shared/data/cutouts) is placed
in a 640 x 480 frame (70-100 % of its height, shifted sideways) in front of three kinds of background, and a flash
/ no-flash pair is rendered with the physical model of `flashvid.training.data.synth` (inverse-square fall-off):

- ``room``: a real scene photo (../shared/data/backgrounds) 2.5-5x as far as the person;
- ``wall``: a bright off-white wall 1.4-2x as far (a streamer against a wall);
- ``half``: the wall on one side of the head and the room on the other, 1.5-2.5x as far.

The pair goes through `make_keyframe` as a user's would. Per case it prints the share of the person (alpha > 0.5)
the mask covers, the same for the head (the top 30 % of the person), and the share of the room (alpha < 0.05) it
covers, then the means and the worst, and writes a contact sheet of the worst cases (flash | no-flash | mask).
These are composites: the light is rendered, the people and rooms are real.

    python scripts/keyframe_cases.py [--data ../shared/data] [--seed 0] [--out keyframe_cases.png]
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from flashvid.imageio import write_image
from flashvid.keyframe import make_keyframe
from flashvid.keyframe.prior import srgb_to_linear
from flashvid.training.data.sources import Foreground, read_rgba_folder, read_suffix_folder
from flashvid.training.data.synth import FlashLight, render_flash, render_noflash
from flashvid.viz import grid, label, mask_overlay

H, W = 480, 640
KINDS = ("room", "wall", "half")


@dataclass
class Case:
    name: str
    kind: str
    flash: np.ndarray  # H x W x 3 uint8
    noflash: np.ndarray  # H x W x 3 uint8
    alpha: np.ndarray  # H x W float32 0..1


def place(fg: Foreground, height: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """The foreground cropped to its matte, scaled to `height` of the frame (or its width), standing on the bottom
    edge, shifted sideways by up to an eighth of the frame -> (H x W x 3 uint8, H x W float32 alpha)."""
    ys, xs = np.nonzero(fg.alpha > 0.05)
    img = fg.image[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1]
    a = fg.alpha[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1]
    s = min(height * H / img.shape[0], W / img.shape[1])
    nw, nh = max(1, round(img.shape[1] * s)), min(H, max(1, round(img.shape[0] * s)))
    img = cv2.resize(img, (nw, nh), interpolation=cv2.INTER_AREA)
    a = cv2.resize(a, (nw, nh), interpolation=cv2.INTER_AREA)
    x0 = int(np.clip((W - nw) // 2 + int(rng.integers(-W // 8, W // 8 + 1)), 0, W - nw))
    frame, alpha = np.zeros((H, W, 3), np.uint8), np.zeros((H, W), np.float32)
    frame[H - nh :, x0 : x0 + nw], alpha[H - nh :, x0 : x0 + nw] = img, a
    return frame, alpha


def bright_wall(rng: np.random.Generator) -> np.ndarray:
    """An off-white painted wall with a faint texture, H x W x 3 linear albedo 0.7-0.9."""
    col = rng.uniform(0.7, 0.9) * np.array([1.0, rng.uniform(0.93, 1.0), rng.uniform(0.85, 1.0)], np.float32)
    tex = cv2.GaussianBlur(rng.standard_normal((H, W)).astype(np.float32), (0, 0), 8) * 0.02
    return np.clip(col[None, None, :] * (1.0 + tex[..., None]), 0.0, 1.0).astype(np.float32)


def make_case(fg: Foreground, kind: str, rooms: list[Path], rng: np.random.Generator) -> Case:
    frame, alpha = place(fg, float(rng.uniform(0.7, 1.0)), rng)
    photo = cv2.imread(str(rooms[int(rng.integers(len(rooms)))]))
    room = srgb_to_linear(cv2.resize(photo, (W, H), interpolation=cv2.INTER_AREA)[:, :, ::-1])
    if kind == "room":
        bg, d = room, rng.uniform(2.5, 5.0)
    elif kind == "wall":
        bg, d = bright_wall(rng), rng.uniform(1.4, 2.0)
    else:
        bg, wall, cut = room.copy(), bright_wall(rng), W // 2 + int(rng.integers(-W // 10, W // 10))
        side = slice(0, cut) if rng.random() < 0.5 else slice(cut, W)
        bg[:, side] = wall[:, side]
        d = rng.uniform(1.5, 2.5)
    light = FlashLight(d_ratio=float(d), power=float(rng.uniform(1.5, 3.0)), noise=0.01)
    albedo = srgb_to_linear(frame)
    return Case(
        fg.name, kind, render_flash(albedo, alpha, bg, light, rng), render_noflash(albedo, alpha, bg, light, rng), alpha
    )


def score(case: Case, mask: np.ndarray) -> tuple[float, float, float]:
    """(share of the person covered, of the head covered, of the room taken in) by `mask` (H x W bool)."""
    person, room = case.alpha > 0.5, case.alpha < 0.05
    rows = np.nonzero(person.any(axis=1))[0]
    head = person.copy()
    head[rows.min() + int(0.3 * (rows.max() - rows.min())) :] = False
    return (
        float((mask & person).sum() / person.sum()),
        float((mask & head).sum() / max(1, head.sum())),
        float((mask & room).sum() / max(1, room.sum())),
    )


def main() -> None:
    here = Path(__file__).resolve().parents[1]
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=here.parent / "shared" / "data")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--worst", type=int, default=4, help="rows of the contact sheet")
    ap.add_argument("--out", type=Path, default=Path("keyframe_cases.png"))
    args = ap.parse_args()
    people = read_suffix_folder(args.data / "portraits") + [
        f for f in read_rgba_folder(args.data / "cutouts") if "girl" in f.name
    ]
    rooms = sorted((args.data / "backgrounds" / "sun_hays80").glob("*.jpg"))
    if not people or not rooms:
        raise SystemExit(f"{args.data}: no portraits or backgrounds; pass --data ../shared/data")
    rng = np.random.default_rng(args.seed)
    results = []
    print("| person | background | person covered | head covered | room taken in | segmented by |")
    print("|---|---|---:|---:|---:|---|")
    for fg in people:
        for kind in KINDS:
            case = make_case(fg, kind, rooms, rng)
            kf = make_keyframe(case.flash, case.noflash, accept_weak_flash=True)
            mask = np.asarray(kf.mask) > 0
            s = score(case, mask)
            results.append((case, mask, s))
            print(f"| {fg.name} | {kind} | {s[0]:.3f} | {s[1]:.3f} | {s[2]:.3f} | {kf.settings.get('segmenter', '')} |")
    r = np.array([s for _, _, s in results])
    print(f"mean: person {r[:, 0].mean():.3f}, head {r[:, 1].mean():.3f}, room {r[:, 2].mean():.3f}")
    print(f"worst: person {r[:, 0].min():.3f}, head {r[:, 1].min():.3f}, room {r[:, 2].max():.3f}")
    # the worst cases: half with the most room taken in, half with the least head covered
    by_room = sorted(range(len(results)), key=lambda i: -results[i][2][2])
    by_head = [
        i for i in sorted(range(len(results)), key=lambda i: results[i][2][1]) if i not in by_room[: args.worst // 2]
    ]
    rows = []
    for i in by_room[: args.worst // 2] + by_head[: args.worst - args.worst // 2]:
        case, mask, s = results[i]
        rows.append(
            [
                label(case.flash, f"{case.name} {case.kind}: flash"),
                label(case.noflash, "no flash"),
                label(mask_overlay(case.noflash, mask), f"person {s[0]:.2f} head {s[1]:.2f} room {s[2]:.2f}"),
            ]
        )
    write_image(args.out, grid(rows, cell_height=240))
    print(f"{args.out}: the {len(rows)} worst cases")


if __name__ == "__main__":
    main()
