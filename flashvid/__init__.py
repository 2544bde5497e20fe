"""flashvid: real-time portrait video matting guided by one flash keyframe.

The method follows "Let Your Light Shine: Foreground Portrait Matting via Deep Flash Priors" (TMLR 2025):
a flash / no-flash pair gives a flash ratio map, its confident points prompt a segmenter for the subject's
mask, the mask becomes a trimap, and a matting network relates every later frame to that keyframe.
"""

from flashvid.errors import FlashvidError, InputError

__version__ = "0.1.0"
__all__ = ["FlashvidError", "InputError", "__version__"]
