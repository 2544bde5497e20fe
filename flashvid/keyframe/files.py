"""A keyframe's files on disk: the .flashkey and its three pictures beside it, written as one set."""

from __future__ import annotations

import os
from pathlib import Path

from flashvid.errors import FlashvidError
from flashvid.keyframe.core import Keyframe


def picture_paths(out: str | os.PathLike[str]) -> list[Path]:
    """The pictures written beside keyframe file `out`: NAME_ratio.png, NAME_mask.png, NAME_trimap.png."""
    stem = Path(out).with_suffix("")
    return [Path(f"{stem}_{kind}.png") for kind in ("ratio", "mask", "trimap")]


def write_keyframe_set(kf: Keyframe, out: str | os.PathLike[str]) -> list[Path]:
    """Write `kf` to `out` (atomic) and its pictures beside it (ratio map with points, mask, trimap over the flash
    image); all or nothing: a failure removes what this call wrote and raises `FlashvidError` naming `out`.
    Returns the paths written."""
    from flashvid.imageio import write_image
    from flashvid.viz import mask_overlay, ratio_with_points, trimap_overlay

    out = Path(out)
    if not os.access(out.parent, os.W_OK):
        raise FlashvidError(f"{out.parent}: cannot write in this folder; choose another --out")
    pictures = zip(
        picture_paths(out),
        (
            ratio_with_points(kf.ratio, kf.points, kf.labels),
            mask_overlay(kf.flash, kf.mask),
            trimap_overlay(kf.flash, kf.trimap),
        ),
        strict=True,
    )
    written: list[Path] = []
    try:
        kf.save(out)
        written.append(out)
        for path, picture in pictures:
            write_image(path, picture)
            written.append(path)
    except (OSError, FlashvidError) as exc:
        for w in written:
            w.unlink(missing_ok=True)
        if isinstance(exc, FlashvidError):
            raise
        raise FlashvidError(f"{out}: cannot write the keyframe here ({exc.strerror}); choose another --out") from exc
    return written
