"""Readers for foreground (image + alpha) and background sources, real dataset layouts included.

Foreground sources yield `Foreground` (sRGB uint8 image, float alpha) and are selectable and mixable by weight
in a training config:

* ``suffix``: ``NAME.jpg`` + ``NAME_alpha.png`` in one folder (our portraits and animals).
* ``image-alpha``: ``image/`` and ``alpha/`` (or any two sub-folders) matched by file stem (alphamatting.com,
  P3M-10k / PM-10K style).
* ``videomatte``: VideoMatte240K frame folders, ``fgr/CLIP/NNNN.jpg`` + ``pha/CLIP/NNNN.jpg``.
* ``fnf``: flash / no-flash folders ``ID/flash.*``, ``ID/noflash.*``, ``ID/alpha.*`` (FNF-style real flash
  pairs; `real_pairs` reads them as they are).
* ``procedural``: generated head-and-shoulders silhouettes with hair (`flashvid.training.data.synth`).

Background sources yield sRGB uint8 images: frames of videos (decoded once into a pool), image folders, and
procedural textures.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from flashvid import defaults
from flashvid.imageio import read_gray, read_image
from flashvid.keyframe.prior import linear_to_srgb
from flashvid.training.data.synth import procedural_background, procedural_subject

IMAGE_EXT = defaults.IMAGE_EXTENSIONS


@dataclass
class Foreground:
    """A subject: image H x W x 3 uint8 sRGB and alpha H x W float32 in 0..1."""

    image: np.ndarray
    alpha: np.ndarray
    name: str

    def cropped(self, threshold: float = 0.05) -> tuple[np.ndarray, np.ndarray] | None:
        """(image, alpha) cut to the bounding box of alpha > `threshold` (views, not copies); None when the alpha
        is empty."""
        ys, xs = np.nonzero(self.alpha > threshold)
        if len(ys) == 0:
            return None
        box = slice(ys.min(), ys.max() + 1), slice(xs.min(), xs.max() + 1)
        return self.image[box], self.alpha[box]


def _images(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_EXT) if folder.is_dir() else []


def _limit(fg: Foreground, max_side: int) -> Foreground:
    h, w = fg.alpha.shape
    s = max_side / max(h, w)
    if s >= 1:
        return fg
    size = (max(1, round(w * s)), max(1, round(h * s)))
    return Foreground(
        cv2.resize(fg.image, size, interpolation=cv2.INTER_AREA),
        cv2.resize(fg.alpha, size, interpolation=cv2.INTER_AREA),
        fg.name,
    )


def read_suffix_folder(folder: str | os.PathLike[str], suffix: str = "_alpha", max_side: int = 640) -> list[Foreground]:
    """``NAME.ext`` + ``NAME{suffix}.png`` pairs."""
    folder = Path(folder)
    out = []
    for p in _images(folder):
        if p.stem.endswith(suffix):
            continue
        a = next((q for q in _images(folder) if q.stem == p.stem + suffix), None)
        if a is not None:
            out.append(_limit(Foreground(read_image(p), read_gray(a).astype(np.float32) / 255.0, p.stem), max_side))
    return out


def read_image_alpha_folders(
    root: str | os.PathLike[str], image_dir: str = "image", alpha_dir: str = "alpha", max_side: int = 640
) -> list[Foreground]:
    """``root/image_dir/STEM.*`` + ``root/alpha_dir/STEM.*``."""
    root = Path(root)
    alphas = {p.stem: p for p in _images(root / alpha_dir)}
    return [
        _limit(Foreground(read_image(p), read_gray(alphas[p.stem]).astype(np.float32) / 255.0, p.stem), max_side)
        for p in _images(root / image_dir)
        if p.stem in alphas
    ]


def read_videomatte(root: str | os.PathLike[str], every: int = 30, max_side: int = 640) -> list[Foreground]:
    """VideoMatte240K layout: ``fgr/CLIP/FRAME.jpg`` with ``pha/CLIP/FRAME.jpg``; one frame in `every`."""
    root = Path(root)
    out = []
    for clip in sorted((root / "fgr").iterdir()) if (root / "fgr").is_dir() else []:
        for p in _images(clip)[::every]:
            a = root / "pha" / clip.name / p.name
            if a.is_file():
                fg = Foreground(read_image(p), read_gray(a).astype(np.float32) / 255.0, f"{clip.name}/{p.stem}")
                out.append(_limit(fg, max_side))
    return out


def read_fnf(root: str | os.PathLike[str], max_side: int = 640) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """FNF-style real pairs: ``ID/flash.*``, ``ID/noflash.*``, ``ID/alpha.*`` -> (flash, noflash, alpha)."""
    out = []
    for d in sorted(Path(root).iterdir()) if Path(root).is_dir() else []:
        files = {p.stem: p for p in _images(d)}
        if {"flash", "noflash", "alpha"} <= set(files):
            f, n, a = read_image(files["flash"]), read_image(files["noflash"]), read_gray(files["alpha"])
            s = min(1.0, max_side / max(f.shape[:2]))
            size = (round(f.shape[1] * s), round(f.shape[0] * s))
            out.append(tuple(cv2.resize(x, size, interpolation=cv2.INTER_AREA) for x in (f, n, a)))
    return out


def read_real_flash(root: str | os.PathLike[str], max_side: int = 480) -> list[tuple[Any, ...]]:
    """Real flash / no-flash pairs without ground truth (``NAME_flash.png`` + ``NAME_ambient.png``), each with a
    pseudo alpha: the run-time keyframe mask the flash itself finds (`make_keyframe`). Returns (flash, noflash,
    alpha, False) tuples; the False marks the alpha as coarse (trained for the silhouette, not the fine edge)."""
    from flashvid.errors import FlashvidError
    from flashvid.keyframe import make_keyframe

    out: list[tuple[Any, ...]] = []
    for fp in sorted(Path(root).glob("*_flash.*")) if Path(root).is_dir() else []:
        amb = fp.with_name(fp.name.replace("_flash.", "_ambient."))
        if not amb.is_file():
            continue
        f, n = read_image(fp), read_image(amb)
        s = min(1.0, max_side / max(f.shape[:2]))
        size = (round(f.shape[1] * s), round(f.shape[0] * s))
        f, n = (cv2.resize(x, size, interpolation=cv2.INTER_AREA) for x in (f, n))
        try:
            alpha = make_keyframe(f, n, resize=True, accept_weak_flash=True).mask.astype(np.float32)
        except FlashvidError:
            continue  # the flash finds nothing here: no label to learn from
        out.append((f, n, alpha, False))
    return out


def procedural_foregrounds(count: int, seed: int, size: int = 320) -> list[Foreground]:
    """`count` generated subjects (seeds seed .. seed+count-1)."""
    out = []
    for i in range(count):
        rng = np.random.default_rng(seed + i)
        fg, alpha = procedural_subject(size, size, rng)
        out.append(Foreground(linear_to_srgb(fg), alpha, f"procedural-{seed + i}"))
    return out


def read_foregrounds(spec: dict) -> list[Foreground]:
    """One foreground source from a config entry ``{"kind": ..., "path": ..., ...}``."""
    kind = spec["kind"]
    if kind == "suffix":
        return read_suffix_folder(spec["path"], spec.get("suffix", "_alpha"), spec.get("max_side", 640))
    if kind == "image-alpha":
        return read_image_alpha_folders(
            spec["path"], spec.get("image_dir", "image"), spec.get("alpha_dir", "alpha"), spec.get("max_side", 640)
        )
    if kind == "videomatte":
        return read_videomatte(spec["path"], spec.get("every", 30), spec.get("max_side", 640))
    if kind == "procedural":
        return procedural_foregrounds(spec.get("count", 64), spec.get("seed", 0))
    if kind == "rgba":
        return read_rgba_folder(spec["path"], spec.get("suffix", "_rgba"), spec.get("max_side", 640))
    raise ValueError(f"unknown foreground source kind {kind!r}")


def read_rgba_folder(folder: str | os.PathLike[str], suffix: str = "_rgba", max_side: int = 640) -> list[Foreground]:
    """NAME_rgba.png files whose 4th channel is the alpha (rembg's cut-outs)."""
    out = []
    for p in sorted(Path(folder).glob(f"*{suffix}.png")):
        rgba = cv2.imread(str(p), cv2.IMREAD_UNCHANGED)
        if rgba is None or rgba.ndim != 3 or rgba.shape[2] != 4:
            continue
        img = np.ascontiguousarray(rgba[:, :, 2::-1])
        out.append(_limit(Foreground(img, rgba[:, :, 3].astype(np.float32) / 255.0, p.stem[: -len(suffix)]), max_side))
    return out


def video_frames(paths: Sequence[str | os.PathLike[str]], per_video: int = 4, max_side: int = 480) -> list[np.ndarray]:
    """`per_video` evenly spaced frames of each video (decoded with OpenCV), as uint8 RGB."""
    frames = []
    for path in paths:
        cap = cv2.VideoCapture(str(path))
        n = int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) or per_video
        for idx in np.linspace(0, max(n - 1, 0), per_video).astype(int):
            cap.set(cv2.CAP_PROP_POS_FRAMES, int(idx))
            ok, bgr = cap.read()
            if ok:
                s = min(1.0, max_side / max(bgr.shape[:2]))
                img = cv2.resize(bgr, (0, 0), fx=s, fy=s, interpolation=cv2.INTER_AREA) if s < 1 else bgr
                frames.append(np.ascontiguousarray(img[:, :, ::-1]))
        cap.release()
    return frames


def read_backgrounds(spec: dict, names: bool = False) -> list:
    """One background source: ``{"kind": "videos", "path": DIR}``, ``{"kind": "images", "path": DIR}`` or
    ``{"kind": "procedural", "count": N}``; with `names`, (file stem or "", image) pairs."""
    if names:
        if spec["kind"] == "images":
            return [(p.stem, read_image(p)) for p in _images(Path(spec["path"]))]
        return [("", b) for b in read_backgrounds(spec)]
    kind = spec["kind"]
    if kind == "videos":
        vids = sorted(p for p in Path(spec["path"]).iterdir() if p.suffix.lower() in defaults.VIDEO_EXTENSIONS)
        return video_frames(vids, spec.get("per_video", 4))
    if kind == "images":
        return [read_image(p) for p in _images(Path(spec["path"]))]
    if kind == "procedural":
        rng = np.random.default_rng(spec.get("seed", 0))
        size = spec.get("size", 320)
        return [linear_to_srgb(procedural_background(size, size, rng)) for _ in range(spec.get("count", 32))]
    raise ValueError(f"unknown background source kind {kind!r}")


class PeopleVideo:
    """A real clip of a person with person-segmenter pseudo-labels, decoded lazily in the process that uses it
    (so a data worker receives a path, not hundreds of megabytes). `load()` -> (frames N x H x W x 3 uint8,
    masks N x H x W float32 0..1), frames scaled to at most `max_side`.

    The labels are MediaPipe's selfie segmenter, made for people close to the camera. With `agree_with` (a
    DeepLabV3 .tflite, `training.references.DeepLabPerson`) they are where both agree: the least of MediaPipe's
    probability and DeepLab's person class softened by 2 px. Wide shots need it: there the selfie segmenter takes
    desks, a car or an empty floor for people, and DeepLab does not.
    """

    def __init__(self, path: str | os.PathLike[str], max_side: int = 480, agree_with: str | None = None) -> None:
        self.path, self.max_side, self.name = Path(path), max_side, Path(path).stem
        self.agree_with = agree_with
        self._data: tuple[np.ndarray, np.ndarray] | None = None

    def __getstate__(self) -> dict:
        return {
            "path": self.path,
            "max_side": self.max_side,
            "name": self.name,
            "agree_with": self.agree_with,
            "_data": None,
        }

    def _labels(self, frames: list[np.ndarray]) -> np.ndarray:
        from flashvid.keyframe.person import PersonSegmenter

        seg = PersonSegmenter(threads=1)
        masks = np.stack([seg(f) for f in frames])
        if self.agree_with:
            from flashvid.training.references import DeepLabPerson

            deeplab = DeepLabPerson(self.agree_with, threads=1)
            other = np.stack([cv2.GaussianBlur(deeplab(f), (0, 0), 2.0) for f in frames])
            masks = np.minimum(masks, other)
        return masks

    def load(self) -> tuple[np.ndarray, np.ndarray]:
        if self._data is None:
            frames = []
            cap = cv2.VideoCapture(str(self.path))  # OpenCV, as `video_frames`: training needs no PyAV
            while True:
                ok, bgr = cap.read()
                if not ok:
                    break
                frames.append(np.ascontiguousarray(bgr[:, :, ::-1]))
            cap.release()
            if not frames:
                raise ValueError(f"{self.path}: no frames could be decoded")
            s = min(1.0, self.max_side / max(frames[0].shape[:2]))
            if s < 1:
                frames = [cv2.resize(f, (0, 0), fx=s, fy=s, interpolation=cv2.INTER_AREA) for f in frames]
            self._data = (np.stack(frames), self._labels(frames))
        return self._data


def read_people_videos(spec: dict) -> list[PeopleVideo]:
    """``{"kind": "people-videos", "path": DIR, "glob": "asl_*.mkv"}``: clips of people for pseudo-labelled training
    (``"agree_with": DEEPLAB.tflite`` for labels two segmenters agree on, `PeopleVideo`)."""
    found = sorted(Path(spec["path"]).glob(spec.get("glob", "*")))
    return [PeopleVideo(p, spec.get("max_side", 480), spec.get("agree_with")) for p in found]
