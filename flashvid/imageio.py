"""Reading and writing still images as uint8 RGB arrays.

Grayscale, 16-bit and RGBA inputs are converted (not refused): gray is repeated to three channels, 16-bit is
scaled to 8-bit, and an alpha channel is dropped (the pixels' colours are kept as they are).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from flashvid.errors import InputError


def to_rgb8(image: np.ndarray, *, name: str = "image") -> np.ndarray:
    """Convert an image array to H x W x 3 uint8 RGB.

    Args:
        image: H x W (gray), H x W x 1, H x W x 3 (RGB) or H x W x 4 (RGBA); uint8, uint16, or float in 0..1.
        name: how the image is named in an error message.

    Returns:
        A contiguous H x W x 3 uint8 array.
    """
    a = np.asarray(image)
    if a.ndim == 2:
        a = a[:, :, None]
    if a.ndim != 3 or a.shape[2] not in (1, 3, 4) or a.shape[0] < 2 or a.shape[1] < 2:
        raise InputError(f"{name}: expected an H x W x 3 RGB image, got an array of shape {a.shape}")
    if a.shape[2] == 1:
        a = np.repeat(a, 3, axis=2)
    elif a.shape[2] == 4:
        a = a[:, :, :3]
    if a.dtype == np.uint8:
        pass
    elif a.dtype == np.uint16:
        a = ((a.astype(np.uint32) * 255 + 32767) // 65535).astype(np.uint8)
    elif np.issubdtype(a.dtype, np.floating):
        a = (np.clip(a, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)
    else:
        raise InputError(f"{name}: unsupported pixel type {a.dtype}; save it as an 8- or 16-bit PNG or a JPEG")
    return np.ascontiguousarray(a)


def exif_orientation(path: str | os.PathLike[str]) -> int:
    """The EXIF orientation tag (1-8) of a photo, 1 when it has none."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as im:
            value = im.getexif().get(0x0112, 1)
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
        return 1
    return int(value) if isinstance(value, int) and 1 <= value <= 8 else 1


def apply_orientation(img: np.ndarray, orientation: int) -> np.ndarray:
    """`img` (H x W [x C]) turned as EXIF `orientation` says it should be shown (a phone photo taken upright)."""
    turned = {
        2: lambda a: a[:, ::-1],
        3: lambda a: a[::-1, ::-1],
        4: lambda a: a[::-1],
        5: lambda a: a.swapaxes(0, 1),
        6: lambda a: np.rot90(a, -1),
        7: lambda a: a.swapaxes(0, 1)[::-1, ::-1],
        8: lambda a: np.rot90(a, 1),
    }.get(orientation)
    return np.ascontiguousarray(turned(img)) if turned is not None else img


def image_size(path: str | os.PathLike[str]) -> tuple[int, int] | None:
    """(width, height) from the file's header, without decoding its pixels; None when no reader knows it."""
    from PIL import Image, UnidentifiedImageError

    Image.MAX_IMAGE_PIXELS = None  # only the header is read here; our own limit is checked by the caller
    try:
        with Image.open(path) as im:
            return int(im.width), int(im.height)
    except (UnidentifiedImageError, OSError, ValueError):
        return None


def check_image_size(path: str | os.PathLike[str]) -> None:
    """Refuse, from its header and before decoding, an image larger than `defaults.MAX_FRAME_SIDE` a side."""
    from flashvid.defaults import MAX_FRAME_SIDE

    size = image_size(path)
    if size is not None and max(size) > MAX_FRAME_SIDE:
        raise InputError(
            f"{path}: {size[0]}x{size[1]} pixels is larger than flashvid takes ({MAX_FRAME_SIDE} a side); scale it down"
        )


def read_image(path: str | os.PathLike[str]) -> np.ndarray:
    """Read an image file as H x W x 3 uint8 RGB (gray, 16-bit and RGBA are converted), turned upright as its
    EXIF orientation says."""
    p = Path(path)
    if not p.is_file():
        raise InputError(f"{p}: no such image file; check the path")
    check_image_size(p)
    data = np.fromfile(p, dtype=np.uint8)
    img = cv2.imdecode(data, cv2.IMREAD_UNCHANGED) if data.size else None
    if img is None:
        raise InputError(f"{p}: cannot read this file as an image; give a PNG or JPEG")
    if img.ndim == 3 and img.shape[2] == 3:
        img = cv2.cvtColor(img, cv2.COLOR_BGR2RGB)
    elif img.ndim == 3 and img.shape[2] == 4:
        img = cv2.cvtColor(img, cv2.COLOR_BGRA2RGBA)
    img = apply_orientation(img, exif_orientation(p))  # a phone photo as it was taken, not as it was stored
    return to_rgb8(img, name=str(p))


def read_gray(path: str | os.PathLike[str]) -> np.ndarray:
    """Read a one-channel image (an alpha matte or a trimap) as H x W uint8; colour files take their first channel."""
    p = Path(path)
    if p.is_file():
        check_image_size(p)
    data = np.fromfile(p, dtype=np.uint8) if p.is_file() else np.zeros(0, np.uint8)
    img = cv2.imdecode(data, cv2.IMREAD_UNCHANGED) if data.size else None
    if img is None:
        raise InputError(f"{p}: cannot read this file as an image; give a PNG")
    if img.ndim == 3:
        img = img[:, :, 0]
    if img.dtype == np.uint16:
        img = ((img.astype(np.uint32) * 255 + 32767) // 65535).astype(np.uint8)
    return np.ascontiguousarray(img)


def atomic_path(path: str | os.PathLike[str]) -> Path:
    """A temporary name next to `path` with the same suffix, to be renamed onto `path` when complete."""
    p = Path(path)
    return p.with_name(f".{p.stem}.partial-{os.getpid()}{p.suffix}")


@contextmanager
def atomic_output(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path to write; on success it is renamed onto `path`, on failure removed.

    Readers never see a half-written `path`, and nothing is left behind when writing fails.
    """
    p = Path(path)
    tmp = atomic_path(p)
    try:
        yield tmp
        if tmp.is_file():  # some writers create 0600 files: give the result the usual rw-r--r-- (or the old file's)
            os.chmod(tmp, p.stat().st_mode & 0o777 if p.exists() else 0o644)
        os.replace(tmp, p)
    finally:
        tmp.unlink(missing_ok=True)


def dump_json(obj: Any, path: str | os.PathLike[str]) -> None:
    """`obj` as indented JSON at `path`, written under a temporary name and renamed (an old file stays whole)."""
    text = json.dumps(obj, indent=2)
    with atomic_output(path) as tmp:
        tmp.write_text(text)


def write_image(path: str | os.PathLike[str], image: np.ndarray) -> None:
    """Write an RGB(A) or gray uint8 image; the file appears only when complete (temporary name, then rename)."""
    p = Path(path)
    a = np.asarray(image)
    if a.ndim == 3 and a.shape[2] == 3:
        a = cv2.cvtColor(a, cv2.COLOR_RGB2BGR)
    elif a.ndim == 3 and a.shape[2] == 4:
        a = cv2.cvtColor(a, cv2.COLOR_RGBA2BGRA)
    ok, buf = cv2.imencode(p.suffix or ".png", a)
    if not ok:
        raise InputError(f"{p}: cannot encode an image with this file extension; use .png or .jpg")
    with atomic_output(p) as tmp:
        buf.tofile(tmp)



def letterbox(image: np.ndarray, height: int, width: int) -> tuple[np.ndarray, tuple[int, int]]:
    """`image` (H x W x C, any dtype) scaled to fit `height` x `width` with its proportions kept (area
    interpolation when shrinking); returns it with its top-left corner (y0, x0) on a centred canvas."""
    h, w = image.shape[:2]
    s = min(width / w, height / h)
    nw, nh = max(1, round(w * s)), max(1, round(h * s))
    interp = cv2.INTER_AREA if s < 1 else cv2.INTER_LINEAR
    return cv2.resize(image, (nw, nh), interpolation=interp), ((height - nh) // 2, (width - nw) // 2)
