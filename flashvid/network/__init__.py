"""Matting networks behind one interface.

``model = build_model(name, checkpoint=None, **overrides)``; then ``keyframe = model.encode_keyframe(flash,
trimap_onehot)`` once and ``alpha, fgr, *rec = model(frame, *keyframe, *rec)`` per frame, starting from
``rec = model.initial_state(frame)``. Images are [B, 3, H, W] float in 0..1; the one-hot trimap is ordered
(bg, unknown, fg).
"""

from flashvid.network.build import MODELS, build_model, load_checkpoint, save_checkpoint, subject_check_settings

__all__ = ["MODELS", "build_model", "load_checkpoint", "save_checkpoint", "subject_check_settings"]
