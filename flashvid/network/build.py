"""Model registry, builders and checkpoints.

``build_model(name, checkpoint=None, **overrides)`` builds a registered network with its default
hyperparameters (overridable) and loads a checkpoint strictly:

* our checkpoints are safetensors files whose metadata holds the model's name and configuration; a file made
  for another model or another architecture, or with missing / unexpected tensors, is refused with a message;
* dfm-official also loads the authors' ``best_model.pth`` (a pickled dict with the weights under
  ``'state_dict'``), converting their sparse-convolution weights to dense ones.
"""

from __future__ import annotations

import json
import os
import pickle
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from flashvid import defaults
from flashvid.errors import CheckpointError
from flashvid.imageio import atomic_output
from flashvid.network.dfm.dfm_official import DeepFlashMatting
from flashvid.network.rt.flashvid_rt import FlashVidRT

FORMAT = "flashvid-model"
#: Settings that change how a model runs, not its weights: a checkpoint may differ in these.
RUNTIME_KEYS = frozenset({"internal_size", "subject_gate", "person_prior"})


def subject_check_settings(model_name: str, subject_check: bool | None = None) -> dict[str, Any]:
    """`build_model` settings for the subject check: the model's gate with `defaults.SUBJECT_GATE` when the
    check is on (None: `defaults.SUBJECT_CHECK`); nothing for a model without one or with the check off."""
    check = defaults.SUBJECT_CHECK if subject_check is None else subject_check
    spec = MODELS.get(model_name)
    return {"subject_gate": defaults.SUBJECT_GATE} if check and spec is not None and spec.subject_check else {}


@dataclass(frozen=True)
class ModelSpec:
    """A registered network: its builder, default hyperparameters, a one-line description and its abilities.

    Attributes:
        subject_check: the model can carry the subject check (its ``subject_gate`` setting).
        internal_size: the model runs at a settable internal resolution (its ``internal_size`` setting).
        ships_weights: flashvid ships trained weights for it (assets/models/NAME.safetensors); a model that
            ships none needs a checkpoint from the user.
    """

    builder: Callable[..., nn.Module]
    defaults: dict[str, Any] = field(default_factory=dict)
    description: str = ""
    subject_check: bool = False
    internal_size: bool = False
    ships_weights: bool = False


MODELS: dict[str, ModelSpec] = {
    "flashvid-rt": ModelSpec(
        FlashVidRT,
        {
            "channels": (16, 24, 40, 80),
            "dec": (48, 32, 16),
            "hid": 16,
            "fcm_dim": 64,
            "fcm_heads": 2,
            "internal_size": defaults.INTERNAL_SIZE,
            "use_fcm": True,
            "use_trimap": True,
            "encoder": "mobilenetv2",
            "use_prior": True,
            "subject_gate": None,  # FlashMatter(subject_check=True) builds it with defaults.SUBJECT_GATE
            "person_prior": True,  # the shipped person segmenter in every frame (rt/person_prior.py)
        },
        "real-time: ImageNet MobileNetV2 encoder (shared by frame and flash), cross-attention FCM at 1/16, "
        "propagated subject prior, ConvGRU decoder, deep guided filter",
        subject_check=True,
        internal_size=True,
        ships_weights=True,
    ),
    "dfm-official": ModelSpec(
        DeepFlashMatting,
        {"size": 518, "use_fcm": True, "use_trimap": True},
        "the paper's network: DINOv2 ViT-S/14 encoders at 518, transformer FCM + CBAM, decoders, refiner",
    ),
}


def _normalise(config: dict[str, Any]) -> dict[str, Any]:
    return json.loads(json.dumps(config))


def build_model(name: str, checkpoint: str | os.PathLike[str] | None = None, **overrides: Any) -> Any:
    """Build model `name` (see `MODELS`) in eval mode, optionally loading `checkpoint`.

    The model gets attributes ``model_name`` and ``config`` (the hyperparameters it was built with).
    """
    if name not in MODELS:
        raise CheckpointError(f"unknown model {name!r}; choose one of {', '.join(MODELS)}")
    spec = MODELS[name]
    unknown = set(overrides) - set(spec.defaults)
    if unknown:
        raise ValueError(f"{name} has no setting(s) {sorted(unknown)}; it has {sorted(spec.defaults)}")
    config = {**spec.defaults, **overrides}
    model: Any = spec.builder(**config)
    model.model_name = name
    model.config = _normalise(config)
    if checkpoint is not None:
        load_checkpoint(model, checkpoint)
    return model.eval()


def save_checkpoint(
    model: Any, path: str | os.PathLike[str], *, half: bool = False, metadata: dict[str, str] | None = None
) -> None:
    """Write `model`'s weights as safetensors with its name and configuration (fp16 when `half`)."""
    from safetensors.torch import save_file

    sd = {}
    for k, v in model.state_dict().items():
        t = v.detach().to("cpu")
        sd[k] = (t.half() if half and t.is_floating_point() else t).contiguous()
    meta = {"format": FORMAT, "model": model.model_name, "config": json.dumps(model.config), **(metadata or {})}
    with atomic_output(path) as tmp:
        save_file(sd, str(tmp), metadata=meta)


def read_checkpoint_metadata(path: str | os.PathLike[str]) -> dict[str, str]:
    """The metadata of one of our safetensors checkpoints."""
    from safetensors import SafetensorError, safe_open

    try:
        with safe_open(str(path), framework="pt") as f:
            return dict(f.metadata() or {})
    except (SafetensorError, OSError) as exc:
        raise CheckpointError(
            f"{path}: not a readable safetensors checkpoint ({exc}); download or train it again"
        ) from exc


def dense_from_spconv(name: str, w: torch.Tensor, dense_shape: torch.Size) -> torch.Tensor:
    """Convert one of the authors' spconv weights to a torch Conv2d weight of `dense_shape`.

    spconv >= 2.2 stores (out, kh, kw, in); a 3x3 kernel is permuted to (out, in, kh, kw). Its 1x1 fast path
    reads the (out, 1, 1, in) buffer as a row-major (in, out) matrix, so a 1x1 weight is reshaped, not permuted.
    A weight already in the dense layout is returned unchanged.
    """
    if w.shape == dense_shape:
        return w
    out_c, in_c, kh, kw = dense_shape
    if w.shape == (out_c, kh, kw, in_c):
        if kh == kw == 1:
            return w.reshape(in_c, out_c).t().reshape(out_c, in_c, 1, 1).contiguous()
        return w.permute(0, 3, 1, 2).contiguous()
    if w.shape == (kh, kw, in_c, out_c):  # spconv 2.0 / 2.1 (RSCK)
        return w.permute(3, 2, 0, 1).contiguous()
    raise CheckpointError(
        f"{name}: weight of shape {tuple(w.shape)} fits no known spconv layout for {tuple(dense_shape)}"
    )


def _load_strict(model: Any, sd: dict[str, torch.Tensor], path: Path) -> None:
    own = model.state_dict()
    missing = sorted(set(own) - set(sd))
    unexpected = sorted(set(sd) - set(own))
    if missing or unexpected:
        raise CheckpointError(
            f"{path}: does not fit {model.model_name} ({len(missing)} missing, {len(unexpected)} unexpected tensors, "
            f"e.g. {(missing + unexpected)[:3]}); give a checkpoint of this model"
        )
    floats = (torch.float32, torch.float16, torch.bfloat16, torch.float64)
    odd = [k for k in own if own[k].is_floating_point() and sd[k].dtype not in floats]
    if odd:
        raise CheckpointError(
            f"{path}: {len(odd)} weights are stored as {sd[odd[0]].dtype} (e.g. {odd[0]}), not as floating-point "
            "numbers; give a checkpoint of this model as flashvid writes them"
        )
    bad = [k for k in own if sd[k].is_floating_point() and not bool(torch.isfinite(sd[k].float()).all())]
    if bad:
        raise CheckpointError(
            f"{path}: {len(bad)} weights hold NaN or infinity (e.g. {bad[0]}); the file is damaged or the training "
            "diverged: give another checkpoint"
        )
    wrong = [k for k in own if own[k].shape != sd[k].shape]
    if wrong:
        raise CheckpointError(
            f"{path}: {len(wrong)} tensors have other shapes than {model.model_name}'s (e.g. {wrong[0]}: "
            f"{tuple(sd[wrong[0]].shape)} vs {tuple(own[wrong[0]].shape)}); give a checkpoint of this model"
        )
    model.load_state_dict({k: v.to(own[k].dtype) for k, v in sd.items()}, strict=True)


def load_official_state_dict(path: Path) -> dict[str, torch.Tensor]:
    """The authors' ``best_model.pth``: a dict with the weights under 'state_dict', loaded on the CPU, no pickle of
    arbitrary objects (weights_only)."""
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        if zipfile.is_zipfile(path):
            raise CheckpointError(
                f"{path}: holds objects other than tensors and is not unpickled for safety; convert it once with "
                "torch.save(torch.load(path, weights_only=False)['state_dict'], 'weights.pth') in a trusted session"
            ) from exc
        raise CheckpointError(f"{path}: not a PyTorch checkpoint; give best_model.pth or a .safetensors file") from exc
    except (RuntimeError, OSError, EOFError, ValueError) as exc:
        raise CheckpointError(f"{path}: cannot read this checkpoint ({type(exc).__name__}); download it again") from exc
    if isinstance(obj, dict) and isinstance(obj.get("state_dict"), dict):
        obj = obj["state_dict"]
    if not isinstance(obj, dict) or not all(isinstance(v, torch.Tensor) for v in obj.values()):
        raise CheckpointError(f"{path}: no state dict of tensors inside; give the authors' best_model.pth")
    return {k.removeprefix("module."): v for k, v in obj.items()}


def load_checkpoint(model: Any, checkpoint: str | os.PathLike[str]) -> None:
    """Load `checkpoint` into `model` strictly (see the module docstring); raises `CheckpointError`."""
    path = Path(checkpoint)
    if not path.is_file():
        raise CheckpointError(f"{path}: no such checkpoint; check the path (--checkpoint)")
    with open(path, "rb") as fh:
        head = fh.read(8)
    is_safetensors = path.suffix == ".safetensors" or (len(head) == 8 and int.from_bytes(head, "little") < 1 << 27)
    if is_safetensors and not zipfile.is_zipfile(path):
        from safetensors.torch import load_file

        meta = read_checkpoint_metadata(path)
        if meta.get("format") != FORMAT:
            raise CheckpointError(f"{path}: not a flashvid model checkpoint (no model name in its metadata)")
        if meta.get("model") != model.model_name:
            raise CheckpointError(
                f"{path}: is a {meta.get('model')} checkpoint, not {model.model_name}; pass --model {meta.get('model')}"
            )
        try:
            saved = json.loads(meta.get("config", "{}"))
        except json.JSONDecodeError:
            saved = None
        if not isinstance(saved, dict):
            raise CheckpointError(f"{path}: its metadata's configuration is not a JSON object; the file is damaged")
        diff = {k: (saved.get(k), v) for k, v in model.config.items() if k not in RUNTIME_KEYS and saved.get(k) != v}
        if diff:
            k, (was, now) = next(iter(diff.items()))
            raise CheckpointError(
                f"{path}: was made with {k}={was} but the model was built with {k}={now}; build it with the "
                "checkpoint's settings"
            )
        sd = load_file(str(path))
    else:
        sd = load_official_state_dict(path)
        if model.model_name == "dfm-official":
            own = model.state_dict()
            sd = {
                k: dense_from_spconv(k, v, own[k].shape)
                if k.startswith("sparse_upsampler.") and v.dim() == 4 and k in own
                else v
                for k, v in sd.items()
            }
    _load_strict(model, sd, path)
