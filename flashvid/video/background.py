"""Backgrounds that need the video layer: a looping video background, and `parse_background`, which turns a
user's ``--background`` text into a `Background` (it may name a video)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

from torch import Tensor

from flashvid import defaults
from flashvid.compose import (
    Background,
    BlurBackground,
    ColorBackground,
    ImageBackground,
    TransparentBackground,
    _to_tensor,
    cover_fit,
)
from flashvid.errors import InputError
from flashvid.imageio import read_image
from flashvid.video.sources import VideoFile


class VideoBackground(Background):
    """A video background that loops; frames are cover-fitted to the output size."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.video = VideoFile(path)
        self._it: Iterator | None = None

    def __call__(self, frame: Tensor) -> Tensor:
        if self._it is None:
            self._it = iter(self.video)
        f = next(self._it, None)
        if f is None:  # loop
            self._it = iter(self.video)
            f = next(self._it)
        return _to_tensor(cover_fit(f.image, frame.shape[3], frame.shape[2]), frame)


def parse_background(spec: str | None) -> Background:
    """``#RRGGBB`` | ``blur`` | ``blur:STRENGTH`` | ``none`` / ``transparent`` | an image file | a video file."""
    if spec is None or spec.strip().lower() in ("none", "transparent"):
        return TransparentBackground()
    s = spec.strip()
    if s.startswith("#") and len(s) == 7:
        try:
            return ColorBackground(tuple(int(s[i : i + 2], 16) for i in (1, 3, 5)))  # type: ignore[arg-type]
        except ValueError as exc:
            raise InputError(f"background {spec!r}: not a colour; write it as #00ff00") from exc
    if s.lower() == "blur" or s.lower().startswith("blur:"):
        try:
            return BlurBackground(float(s.split(":", 1)[1]) if ":" in s else 20.0)
        except ValueError as exc:
            raise InputError(f"background {spec!r}: write the blur strength in pixels, e.g. blur:25") from exc
    p = Path(s)
    if not p.exists():
        raise InputError(f"{p}: no such background file; give an image, a video, #RRGGBB, blur or none")
    if p.suffix.lower() in defaults.VIDEO_EXTENSIONS:
        return VideoBackground(p)
    return ImageBackground(read_image(p))
