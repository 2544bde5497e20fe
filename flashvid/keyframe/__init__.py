"""The keyframe stage, run once per take: flash ratio map (`prior`), subject mask (`segment`, `person`),
trimap (`trimap`), and the versioned keyframe file that caches them (`core`).

Nothing here knows about video, engines or the UI (tests/test_layers.py holds that contract).
"""

from flashvid.keyframe.clicks import keyframe_from_clicks
from flashvid.keyframe.core import Keyframe, KeyframeError, check_pair, make_keyframe, make_segmenter

__all__ = ["Keyframe", "KeyframeError", "check_pair", "keyframe_from_clicks", "make_keyframe", "make_segmenter"]
