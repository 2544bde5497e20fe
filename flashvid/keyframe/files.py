"""A keyframe's files on disk: the .flashkey and its three pictures beside it, written as one set.

Like an export's output: an input is never a target (also through links), an existing file is replaced only
with `overwrite` and only once every file of the set is complete, a special file (a FIFO, a device, a folder) is
never replaced, and a write that fails leaves what was there untouched.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Sequence
from pathlib import Path

from flashvid.errors import FlashvidError, InputError
from flashvid.keyframe.core import Keyframe


def picture_paths(out: str | os.PathLike[str]) -> list[Path]:
    """The pictures written beside keyframe file `out`: NAME_ratio.png, NAME_mask.png, NAME_trimap.png."""
    stem = Path(out).with_suffix("")
    return [Path(f"{stem}_{kind}.png") for kind in ("ratio", "mask", "trimap")]


def keyframe_targets(out: str | os.PathLike[str]) -> list[Path]:
    """Every file `write_keyframe_set` writes for `out`."""
    return [Path(out), *picture_paths(out)]


def check_keyframe_outputs(
    out: str | os.PathLike[str], inputs: Sequence[str | os.PathLike[str]] = (), *, overwrite: bool = False
) -> None:
    """Refuse, before any work, a keyframe set that would write over one of `inputs`, replace a special file, or
    replace an existing file without `overwrite`; or whose folder is missing or not writable."""
    out = Path(out)
    if not out.parent.is_dir():
        raise InputError(f"{out.parent}: no such folder for --out; create it first")
    if not os.access(out.parent, os.W_OK):
        raise InputError(f"{out.parent}: cannot write in this folder; choose another --out")
    existing_inputs = [Path(i) for i in inputs if i is not None and Path(i).exists()]
    for target in keyframe_targets(out):
        if not os.path.lexists(target):
            continue
        for i in existing_inputs:
            if target.exists() and os.path.samefile(target, i):
                raise InputError(f"{target}: is an input ({i}); write the keyframe elsewhere (--out)")
        mode = os.lstat(target).st_mode
        if not stat.S_ISREG(mode) and not stat.S_ISLNK(mode):
            raise InputError(f"{target}: is not a regular file (a folder, pipe or device); choose another --out")
        if not overwrite:
            raise InputError(f"{target}: already exists; give another --out, or --overwrite to replace the set")


def _staging(target: Path) -> Path:
    """A hidden name beside `target`, with its suffix (image writers choose the format by it)."""
    return target.with_name(f".{target.stem}.partial-{os.getpid()}{target.suffix}")


def write_keyframe_set(
    kf: Keyframe,
    out: str | os.PathLike[str],
    inputs: Sequence[str | os.PathLike[str]] = (),
    *,
    overwrite: bool = False,
) -> list[Path]:
    """Write `kf` to `out` and its pictures beside it (ratio map with points, mask, trimap over the flash image).

    All or nothing: every file is written under a hidden name first and renamed into place only when all are
    complete; a failure removes them and raises `FlashvidError` naming `out`, and what existed is untouched.
    `check_keyframe_outputs` runs first. Returns the paths written."""
    from flashvid.imageio import write_image
    from flashvid.viz import mask_overlay, ratio_with_points, trimap_overlay

    check_keyframe_outputs(out, inputs, overwrite=overwrite)
    out = Path(out)
    targets = keyframe_targets(out)
    pictures = (
        ratio_with_points(kf.ratio, kf.points, kf.labels),
        mask_overlay(kf.flash, kf.mask),
        trimap_overlay(kf.flash, kf.trimap),
    )
    staged: list[Path] = []
    try:
        staged.append(_staging(targets[0]))
        kf.save(staged[-1])
        for target, picture in zip(targets[1:], pictures, strict=True):
            staged.append(_staging(target))
            write_image(staged[-1], picture)
        for target in targets:
            if os.path.isdir(target):
                raise IsADirectoryError(21, "is a folder", str(target))
        for tmp, target in zip(staged, targets, strict=True):
            os.replace(tmp, target)
    except (OSError, FlashvidError) as exc:
        for tmp in staged:
            tmp.unlink(missing_ok=True)
        if isinstance(exc, FlashvidError):
            raise FlashvidError(f"{out}: cannot write the keyframe here ({exc}); choose another --out") from exc
        raise FlashvidError(f"{out}: cannot write the keyframe here ({exc.strerror}); choose another --out") from exc
    return targets
