"""`FlashMatter`: the matting front end with an explicit lifecycle.

    matter = FlashMatter()                 # model "flashvid-rt", the shipped weights, eager, CPU
    matter.set_keyframe(Keyframe.load("kf.flashkey"))
    for frame in frames:                   # H x W x 3 uint8 RGB
        matte = matter.process(frame)      # matte.alpha H x W float32 0..1, matte.fgr H x W x 3 float32 0..1
    matter.reset()                         # forget the recurrent state (a cut, a new clip)

It owns the model, the keyframe's cached tensors, normalisation, the internal resolution and the recurrent
state (a flat list of tensors recycled between calls, zeros at the start).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import torch

from flashvid import defaults
from flashvid.assets import path as asset_path
from flashvid.errors import FlashvidError, InputError
from flashvid.keyframe import Keyframe
from flashvid.network import build_model
from flashvid.network.interface import KeyframeTensors, RecurrentState
from flashvid.spec import MatterSpec


def default_checkpoint(model: str) -> Path | None:
    """The shipped weights of `model` (package data flashvid.assets: models/NAME.safetensors), or None when the
    model ships none (dfm-official: the authors' weights are the user's download)."""
    p = asset_path("models", f"{model}.safetensors")
    return p if p.is_file() else None


class Matte:
    """One frame's matte.

    Attributes:
        alpha_t, fgr_t: alpha [1,1,H,W] and foreground [1,3,H,W] tensors in 0..1 on the model's device (for
            compositing there).
        frame_t: the input frame as a tensor [1,3,H,W] in 0..1 on that device.
        alpha: H x W float32 in 0..1 on the CPU (brought back on first use).
        fgr: H x W x 3 float32 RGB in 0..1 on the CPU (the subject's colour, background removed; on first use).
    """

    def __init__(self, alpha_t: torch.Tensor, fgr_t: torch.Tensor, frame_t: torch.Tensor) -> None:
        self.alpha_t, self.fgr_t, self.frame_t = alpha_t, fgr_t, frame_t
        self._alpha: np.ndarray | None = None
        self._fgr: np.ndarray | None = None

    @property
    def alpha(self) -> np.ndarray:
        if self._alpha is None:
            self._alpha = self.alpha_t[0, 0].float().cpu().numpy()
        return self._alpha

    @property
    def fgr(self) -> np.ndarray:
        if self._fgr is None:
            self._fgr = self.fgr_t[0].permute(1, 2, 0).float().cpu().numpy()
        return self._fgr


class NoKeyframeError(FlashvidError, RuntimeError):
    """`process` was called before `set_keyframe`."""


def to_tensor(image: np.ndarray, device: torch.device | str, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """H x W x C uint8 -> [1, C, H, W] float in 0..1 on `device`."""
    t = torch.from_numpy(np.ascontiguousarray(image)).to(device)
    return t.permute(2, 0, 1).unsqueeze(0).to(dtype).div_(255.0)


class FlashMatter:
    """Mattes frames against a flash keyframe.

    Args:
        model: a registered model name (``flashvid-rt`` or ``dfm-official``).
        checkpoint: weights to load; None takes the shipped ones (flashvid.assets/models). A model that ships
            none (dfm-official) needs a checkpoint: without one it is an error, never silent random weights.
        random_weights: run untrained weights on purpose (benchmarks, tests); `checkpoint` must then be None.
        engine: ``"eager"``, ``"compiled"``, ``"onnx"``, ``"tensorrt"`` or ``"auto"`` (see `engines`); built when
            the keyframe is set, for its frame size.
        device: ``"cpu"`` or ``"cuda"``.
        precision: ``"fp32"``, ``"fp16"`` (CUDA) or ``"bf16"``.
        subject_check: fade the matte out when the person in the frame does not look like the keyframe's subject
            (flashvid-rt's `SubjectGate`, from the keyframe's no-flash image); False mattes whoever is there; None
            (the default) is `flashvid.defaults.SUBJECT_CHECK` for a model that has one, else False.
        spec: all of the above as one `flashvid.spec.MatterSpec` (then the arguments before it are not read).
        **settings: model settings, e.g. ``internal_size=512`` for flashvid-rt, or ablations (``use_fcm``).
    """

    def __init__(
        self,
        model: str = defaults.MODEL,
        checkpoint: str | os.PathLike[str] | None = None,
        engine: str = defaults.ENGINE,
        device: str | torch.device = defaults.DEVICE,
        precision: str = defaults.PRECISION,
        random_weights: bool = False,
        subject_check: bool | None = None,
        *,
        spec: MatterSpec | None = None,
        **settings: Any,
    ) -> None:
        from flashvid.engines import get_engine
        from flashvid.engines.base import EngineError

        if spec is None:
            spec = MatterSpec(
                model,
                os.fspath(checkpoint) if checkpoint is not None else None,
                engine,
                str(device),
                precision,
                settings.pop("internal_size", None),
                subject_check,
                random_weights,
            )
        self.spec = spec
        self._engine = get_engine(spec.engine)
        self.device = torch.device(spec.device)
        ok, why = self._engine.available(self.device)
        if not ok:
            raise EngineError(f"engine {spec.engine} cannot run here: {why}")
        self.precision = spec.precision
        self.checkpoint: str | os.PathLike[str] | None = spec.checkpoint
        if self.checkpoint is None and not spec.random_weights:
            self.checkpoint = default_checkpoint(spec.model)
            if self.checkpoint is None:
                from flashvid.errors import CheckpointError

                expected = asset_path("models", f"{spec.model}.safetensors")
                raise CheckpointError(
                    f"{expected}: no weights for {spec.model}; give --checkpoint PATH (or --random-weights for speed "
                    "tests)"
                )
        self.random_weights = spec.random_weights
        self.subject_check = spec.subject_check_on  # the gate is in the graph only when asked for (no cost otherwise)
        self.model = build_model(spec.model, self.checkpoint, **{**spec.model_settings(), **settings}).to(self.device)
        self.model_name = spec.model
        self.engine = spec.engine
        self.runner: Any = None
        self._keyframe: KeyframeTensors | None = None  # encoded at the keyframe's own size
        self._by_size: dict[tuple[int, int], KeyframeTensors] = {}
        self._rec: RecurrentState | None = None
        self.keyframe: Keyframe | None = None

    @torch.inference_mode()
    def set_keyframe(self, keyframe: Keyframe) -> None:
        """Encode the keyframe's flash image and trimap (and, with `subject_check`, its subject's appearance in the
        no-flash image) once; resets the recurrent state."""
        if not isinstance(keyframe, Keyframe):
            raise InputError(
                f"set_keyframe takes a Keyframe, not {type(keyframe).__name__}: Keyframe.load(path) reads a file"
            )
        previous = self.keyframe, self._by_size
        self.keyframe, self._by_size = keyframe, {}
        try:
            self._keyframe = self._keyframe_for(*keyframe.flash.shape[:2])
        except BaseException:  # the matter keeps the keyframe it had
            self.keyframe, self._by_size = previous
            raise
        self.reset()

    def _keyframe_for(self, height: int, width: int) -> KeyframeTensors:
        """The keyframe encoded for frames of `height` x `width`: as it is, or for frames of another size its
        images and trimap stretched to theirs (the session warns about it), so every engine's graph, traced
        for its frames' geometry, gets keyframe tensors of that geometry (once per size)."""
        assert self.keyframe is not None
        got = self._by_size.get((height, width))
        if got is not None:
            return got
        kf = self.keyframe
        flash_img, noflash_img, trimap = kf.flash, kf.noflash, kf.trimap
        if flash_img.shape[:2] != (height, width):
            import cv2

            from flashvid.keyframe.core import trimap_onehot

            shrink = height * width < flash_img.shape[0] * flash_img.shape[1]
            interp = cv2.INTER_AREA if shrink else cv2.INTER_LINEAR
            flash_img = cv2.resize(flash_img, (width, height), interpolation=interp)
            noflash_img = cv2.resize(noflash_img, (width, height), interpolation=interp)
            onehot = trimap_onehot(cv2.resize(trimap, (width, height), interpolation=cv2.INTER_NEAREST))
        else:
            onehot = kf.trimap_onehot()
        flash = to_tensor(flash_img, self.device)
        tri = torch.from_numpy(onehot).unsqueeze(0).to(self.device)
        noflash = to_tensor(noflash_img, self.device)  # the subject check and the still background read it
        if self.runner is None:
            self.runner = self._engine.build(self.model, flash, self.precision, self.device)
        encoded = KeyframeTensors(tuple(self.runner.encode_keyframe(flash, tri, noflash)))
        if len(self._by_size) >= 4:  # a stream changes size rarely: keep the newest few
            self._by_size.pop(next(iter(self._by_size)))
        self._by_size[(height, width)] = encoded
        return encoded

    def reset(self) -> None:
        """Forget the recurrent state; the next frame starts from zeros."""
        self._rec = None

    @torch.inference_mode()
    def process(self, frame: np.ndarray) -> Matte:
        """Matte one frame (H x W x 3 uint8 RGB, any size)."""
        if self._keyframe is None:
            raise NoKeyframeError("no keyframe set: call set_keyframe() with a Keyframe (flashvid keyframe) first")
        if not isinstance(frame, np.ndarray) or frame.ndim != 3 or frame.shape[2] != 3 or frame.dtype != np.uint8:
            what = f"{frame.dtype} {frame.shape}" if isinstance(frame, np.ndarray) else type(frame).__name__
            raise InputError(f"frame must be H x W x 3 uint8 RGB, got {what}")
        defaults.check_frame_size(frame.shape[1], frame.shape[0], "frame")
        x = to_tensor(frame, self.device)
        if self._rec is None or not self._rec.fits(x):
            self._rec = RecurrentState(self.runner.initial_state(x), tuple(x.shape))
        keyframe = self._keyframe_for(x.shape[2], x.shape[3])
        alpha, fgr, *rec = self.runner(x, *keyframe.flat, *self._rec.flat)  # the engine boundary: flat lists
        self._rec.tensors = rec
        return Matte(alpha, fgr, x)
