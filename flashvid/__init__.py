"""flashvid: real-time portrait video matting guided by one flash keyframe.

The method follows "Let Your Light Shine: Foreground Portrait Matting via Deep Flash Priors" (TMLR 2025):
a flash / no-flash pair gives a flash ratio map, its confident points prompt a segmenter for the subject's
mask, the mask becomes a trimap, and a matting network relates every later frame to that keyframe.

    import flashvid
    kf = flashvid.make_keyframe(flash, noflash)            # once: H x W x 3 uint8 RGB each
    flashvid.matte_video("clip.mp4", "out.mp4", keyframe=kf, background="#00ff00")

The heavy parts (PyTorch, PyAV) load on first use of these names.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flashvid.errors import FlashvidError, InputError

__version__ = "0.2.0"

_LAZY = {
    "matte_video": "flashvid.api",
    "make_matter": "flashvid.api",
    "make_compositor": "flashvid.api",
    "open_keyframe": "flashvid.api",
    "FlashMatter": "flashvid.matter",
    "Keyframe": "flashvid.keyframe",
    "make_keyframe": "flashvid.keyframe",
    "keyframe_from_clicks": "flashvid.keyframe",
    "build_model": "flashvid.network",
    "matte_many": "flashvid.batch",
}

if TYPE_CHECKING:
    from flashvid.api import make_compositor, make_matter, matte_video, open_keyframe
    from flashvid.batch import matte_many
    from flashvid.keyframe import Keyframe, keyframe_from_clicks, make_keyframe
    from flashvid.matter import FlashMatter
    from flashvid.network import build_model


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'flashvid' has no attribute {name!r}")


__all__ = [
    "FlashMatter",
    "FlashvidError",
    "InputError",
    "Keyframe",
    "__version__",
    "build_model",
    "keyframe_from_clicks",
    "make_compositor",
    "make_keyframe",
    "make_matter",
    "matte_many",
    "matte_video",
    "open_keyframe",
]
