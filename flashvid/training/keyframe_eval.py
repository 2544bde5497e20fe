"""The keyframe on rendered flash portraits (issue 22 item 7): how much of the person the keyframe's mask covers,
how much of the head (where hair is lost first), and how much of the room it takes in.

Each real portrait with a matte (../shared/data/portraits, and the people of ../shared/data/cutouts) is placed
in a 640 x 480 frame (70-100 % of its height, shifted sideways) in front of three kinds of background, and a flash
/ no-flash pair is rendered with the physical model of `flashvid.training.data.synth` (inverse-square fall-off):

- ``room``: a real scene photo (../shared/data/backgrounds) 2.5-5x as far as the person;
- ``wall``: a bright off-white wall 1.4-2x as far (a streamer against a wall);
- ``half``: the wall on one side of the head and the room on the other, 1.5-2.5x as far.

The pair goes through `make_keyframe` as a user's would. These are composites: the light is rendered, the people
and rooms are real. `scripts/keyframe_cases.py` prints the table and draws the worst cases.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from flashvid.keyframe import make_keyframe
from flashvid.keyframe.prior import srgb_to_linear
from flashvid.training.data.sources import Foreground, read_rgba_folder, read_suffix_folder
from flashvid.training.data.synth import FlashLight, render_flash, render_noflash

H, W = 480, 640
KINDS = ("room", "wall", "half")


@dataclass
class KeyframeCase:
    """One rendered pair: flash and no-flash H x W x 3 uint8, the person's alpha H x W float32 in 0..1."""

    name: str
    kind: str
    flash: np.ndarray
    noflash: np.ndarray
    alpha: np.ndarray


@dataclass
class KeyframeScore:
    """A case with its keyframe's mask (H x W bool), the shares of the person, the head (the top 30 % of the
    person) and the room (alpha < 0.05) it covers, and what segmented it."""

    case: KeyframeCase
    mask: np.ndarray
    person: float
    head: float
    room: float
    segmenter: str


def place(fg: Foreground, height: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """The foreground cropped to its matte, scaled to `height` of the frame (or its width), standing on the bottom
    edge, shifted sideways by up to an eighth of the frame -> (H x W x 3 uint8, H x W float32 alpha)."""
    cut = fg.cropped()
    if cut is None:
        raise ValueError(f"{fg.name}: its alpha is empty")
    img, a = cut
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


def make_case(fg: Foreground, kind: str, rooms: list[Path], rng: np.random.Generator) -> KeyframeCase:
    """`fg` in front of background `kind` (one of `KINDS`; a room drawn from `rooms`), flash and no-flash."""
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
    flash = render_flash(albedo, alpha, bg, light, rng)
    return KeyframeCase(fg.name, kind, flash, render_noflash(albedo, alpha, bg, light, rng), alpha)


def score(case: KeyframeCase, mask: np.ndarray, segmenter: str = "") -> KeyframeScore:
    """The shares of `case`'s person, head and room that `mask` (H x W bool) covers."""
    person, room = case.alpha > 0.5, case.alpha < 0.05
    rows = np.nonzero(person.any(axis=1))[0]
    head = person.copy()
    head[rows.min() + int(0.3 * (rows.max() - rows.min())) :] = False
    return KeyframeScore(
        case,
        mask,
        float((mask & person).sum() / person.sum()),
        float((mask & head).sum() / max(1, head.sum())),
        float((mask & room).sum() / max(1, room.sum())),
        segmenter,
    )


def rendered_cases(data: Path, seed: int = 0) -> Iterator[KeyframeCase]:
    """Every person of `data` (../shared/data) in front of each of `KINDS` (a room drawn per case), rendered."""
    people = read_suffix_folder(data / "portraits") + [
        f for f in read_rgba_folder(data / "cutouts") if "girl" in f.name
    ]
    rooms = sorted((data / "backgrounds" / "sun_hays80").glob("*.jpg"))
    if not people or not rooms:
        raise FileNotFoundError(f"{data}: no portraits or backgrounds; pass the shared data folder")
    rng = np.random.default_rng(seed)
    for fg in people:
        for kind in KINDS:
            yield make_case(fg, kind, rooms, rng)


def keyframe_cases(data: Path, seed: int = 0) -> Iterator[KeyframeScore]:
    """`rendered_cases`, each keyed with `make_keyframe` and scored."""
    for case in rendered_cases(data, seed):
        kf = make_keyframe(case.flash, case.noflash, accept_weak_flash=True)
        yield score(case, np.asarray(kf.mask) > 0, str(kf.settings.get("segmenter", "")))
