"""The subject's mask in the flash image, from the flash ratio map and its confident points.

Two segmenters share one interface, ``segment(image, ratio, points, labels) -> mask``:

* `GrabCutSegmenter` (OpenCV), seeded by the ratio map: the default, needs no weights.
* `SamSegmenter` over segment-anything with a checkpoint the user gives (vit_b / vit_l / vit_h; the model's
  configuration is read from the checkpoint's tensor shapes, so any SAM v1 layout loads). It prompts with the
  points and keeps the candidate mask with the best predicted IoU.

Masks are H x W uint8 with values 0/1.
"""

from __future__ import annotations

import os
import pickle
import zipfile
from pathlib import Path
from typing import Any, Protocol

import cv2
import numpy as np
import torch

from flashvid.errors import CheckpointError


class Segmenter(Protocol):
    """Anything that turns a flash image and its flash prior into a subject mask."""

    def segment(self, image: np.ndarray, ratio: np.ndarray, points: np.ndarray, labels: np.ndarray) -> np.ndarray:
        """image H x W x 3 uint8 RGB; ratio H x W float32 0..1; points N x 2 (x, y); labels N (1/0).

        Returns the subject mask, H x W uint8 0/1.
        """
        ...


def fill_holes(mask: np.ndarray) -> np.ndarray:
    """Fill the holes of a 0/1 mask (background regions that do not touch the image border)."""
    m = (mask > 0).astype(np.uint8)
    h, w = m.shape
    flood = np.pad(1 - m, 1, constant_values=1)
    ff_mask = np.zeros((h + 4, w + 4), np.uint8)
    cv2.floodFill(flood, ff_mask, (0, 0), 2)
    return np.maximum(m, (flood[1:-1, 1:-1] == 1).astype(np.uint8))


def keep_prompted_components(mask: np.ndarray, points: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Keep the 8-connected components of `mask` that hold a positive point (all of it if none does)."""
    _, comp = cv2.connectedComponents((mask > 0).astype(np.uint8), connectivity=8)
    h, w = mask.shape
    keep = {
        int(comp[min(max(round(y), 0), h - 1), min(max(round(x), 0), w - 1)])
        for (x, y), lab in zip(points, labels)
        if lab == 1
    } - {0}
    if not keep:
        return (mask > 0).astype(np.uint8)
    return np.isin(comp, sorted(keep)).astype(np.uint8)


class GrabCutSegmenter:
    """GrabCut on the flash image, initialised from the ratio map.

    Pixels whose ratio is at least `fg_ratio` (and that survive a small erosion) are sure foreground; pixels
    under `bg_ratio` farther than a margin from any likely-foreground pixel are sure background; the rest start
    as probable foreground (ratio >= 0.5) or probable background. GrabCut then settles the colour models, which
    fixes the ratio map's soft, blurred edges. It runs at `work_size` (long side) and the mask is upsampled.

    Args:
        iterations: GrabCut iterations.
        work_size: long side in pixels GrabCut runs at (larger is slower and sharper).
        fg_ratio, bg_ratio: ratio thresholds for the sure-foreground and sure-background seeds.
    """

    name = "GrabCut"

    def __init__(self, iterations: int = 4, work_size: int = 480, fg_ratio: float = 0.7, bg_ratio: float = 0.2) -> None:
        self.iterations = iterations
        self.work_size = work_size
        self.fg_ratio = fg_ratio
        self.bg_ratio = bg_ratio

    def segment(self, image: np.ndarray, ratio: np.ndarray, points: np.ndarray, labels: np.ndarray) -> np.ndarray:
        h, w = image.shape[:2]
        s = min(1.0, self.work_size / max(h, w))
        sh, sw = max(2, round(h * s)), max(2, round(w * s))
        img = cv2.resize(image, (sw, sh), interpolation=cv2.INTER_AREA) if s < 1 else image
        r = cv2.resize(ratio, (sw, sh), interpolation=cv2.INTER_AREA) if s < 1 else ratio
        margin = max(2, round(0.02 * max(sh, sw)))
        seed = np.full((sh, sw), cv2.GC_PR_BGD, np.uint8)
        pts_small = np.asarray(points, np.float32).reshape(-1, 2) * np.array([sw / w, sh / h], np.float32)
        # Probable subject: the high-ratio regions connected to a positive point, not stray bright patches.
        likely = keep_prompted_components((r >= 0.5).astype(np.uint8), pts_small, labels)
        seed[likely > 0] = cv2.GC_PR_FGD
        sure_fg = cv2.erode((r >= self.fg_ratio).astype(np.uint8), np.ones((3, 3), np.uint8))
        seed[sure_fg > 0] = cv2.GC_FGD
        near = cv2.dilate(likely, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * margin + 1,) * 2))
        seed[(r < self.bg_ratio) & (near == 0)] = cv2.GC_BGD
        has_fg = np.isin(seed, (cv2.GC_FGD, cv2.GC_PR_FGD)).any()
        has_bg = np.isin(seed, (cv2.GC_BGD, cv2.GC_PR_BGD)).any()
        if has_fg and has_bg:
            bgd, fgd = np.zeros((1, 65), np.float64), np.zeros((1, 65), np.float64)
            cv2.grabCut(np.ascontiguousarray(img), seed, None, bgd, fgd, self.iterations, cv2.GC_INIT_WITH_MASK)
            small = np.isin(seed, (cv2.GC_FGD, cv2.GC_PR_FGD)).astype(np.float32)
        else:
            small = likely.astype(np.float32)
        mask = (cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR) >= 0.5).astype(np.uint8)
        mask = keep_prompted_components(mask, points, labels)
        return fill_holes(mask)


# ---------------------------------------------------------------------------------------------------------
# SAM

SAM_TYPES = {768: "vit_b", 1024: "vit_l", 1280: "vit_h"}
#: The published SAM v1 configurations (segment-anything's build_sam.py). A checkpoint is built only when its
#: shapes describe a model no larger than the largest of them (`sam_within_bounds`): a crafted file's shapes could
#: otherwise ask for any size of model or image.
SAM_CONFIGS: dict[str, dict[str, object]] = {
    name: {
        "type": name,
        "embed_dim": dim,
        "depth": depth,
        "num_heads": heads,
        "global_attn_indexes": glob,
        "window_size": 14,
        "img_size": 1024,
        "prompt_dim": 256,
        "decoder_depth": 2,
        "decoder_mlp": 2048,
    }
    for name, dim, depth, heads, glob in (
        ("vit_b", 768, 12, 12, (2, 5, 8, 11)),
        ("vit_l", 1024, 24, 16, (5, 11, 17, 23)),
        ("vit_h", 1280, 32, 16, (7, 15, 23, 31)),
    )
}


def _sam_state_dict(checkpoint: str | os.PathLike[str]) -> dict[str, torch.Tensor]:
    p = Path(checkpoint)
    if not p.is_file():
        raise CheckpointError(f"{p}: no such SAM checkpoint; give the path of sam_vit_b_01ec64.pth (or vit_l / vit_h)")
    try:
        obj = torch.load(p, map_location="cpu", weights_only=True)
    except (RuntimeError, OSError, EOFError, ValueError, zipfile.BadZipFile) as exc:
        raise CheckpointError(
            f"{p}: not a readable PyTorch checkpoint ({type(exc).__name__}); give a segment-anything .pth file"
        ) from exc
    except pickle.UnpicklingError as exc:  # weights_only refuses non-tensor objects, or it is no pickle at all
        if not zipfile.is_zipfile(p):
            raise CheckpointError(f"{p}: not a readable PyTorch checkpoint; give a segment-anything .pth file") from exc
        raise CheckpointError(
            f"{p}: holds objects other than tensors and is not loaded for safety; give a plain SAM state dict"
        ) from exc
    if isinstance(obj, dict) and "model" in obj and isinstance(obj["model"], dict):
        obj = obj["model"]
    if not isinstance(obj, dict) or "image_encoder.patch_embed.proj.weight" not in obj:
        raise CheckpointError(
            f"{p}: not a segment-anything (SAM v1) checkpoint; give sam_vit_b_01ec64.pth, sam_vit_l_0b3195.pth "
            "or sam_vit_h_4b8939.pth"
        )
    return obj


def sam_config_from_state_dict(sd: dict[str, torch.Tensor]) -> dict[str, object]:
    """Read a SAM v1 model's configuration from its tensor shapes.

    Returns a dict with ``type`` (vit_b / vit_l / vit_h or ``custom``), ``embed_dim``, ``depth``, ``num_heads``,
    ``global_attn_indexes``, ``window_size``, ``img_size``, ``prompt_dim``, ``decoder_depth``, ``decoder_mlp``.
    """
    embed_dim, _, patch, _ = sd["image_encoder.patch_embed.proj.weight"].shape
    depth = 1 + max(int(k.split(".")[2]) for k in sd if k.startswith("image_encoder.blocks."))
    tokens = sd["image_encoder.pos_embed"].shape[1]
    rel = [sd[f"image_encoder.blocks.{i}.attn.rel_pos_h"] for i in range(depth)]
    head_dim = rel[0].shape[1]
    global_idx = tuple(i for i, t in enumerate(rel) if t.shape[0] == 2 * tokens - 1)
    windowed = [t.shape[0] for t in rel if t.shape[0] != 2 * tokens - 1]
    dec_layers = {int(k.split(".")[3]) for k in sd if k.startswith("mask_decoder.transformer.layers.")}
    return {
        "type": SAM_TYPES.get(int(embed_dim), "custom"),
        "embed_dim": int(embed_dim),
        "depth": depth,
        "num_heads": int(embed_dim) // int(head_dim),
        "global_attn_indexes": global_idx,
        "window_size": (windowed[0] + 1) // 2 if windowed else 0,
        "img_size": int(tokens) * int(patch),
        "prompt_dim": int(sd["image_encoder.neck.0.weight"].shape[0]),
        "decoder_depth": len(dec_layers),
        "decoder_mlp": int(sd["mask_decoder.transformer.layers.0.mlp.lin1.weight"].shape[0]),
    }


def sam_within_bounds(config: dict[str, object]) -> bool:
    """Every size of `config` positive and at most the largest published SAM's (vit_h at 1024 px)."""
    sizes = ("embed_dim", "depth", "num_heads", "img_size", "prompt_dim", "decoder_depth", "decoder_mlp")
    top = {k: max(int(c[k]) for c in SAM_CONFIGS.values()) for k in sizes}  # type: ignore[call-overload]
    values = {k: int(config[k]) for k in sizes}  # type: ignore[call-overload]
    window = int(config["window_size"])  # type: ignore[call-overload]
    return all(0 < values[k] <= top[k] for k in sizes) and 0 <= window <= 14 and values["img_size"] % 16 == 0


def build_sam(config: dict[str, Any]) -> torch.nn.Module:
    """A segment-anything `Sam` with random weights for a configuration of `sam_config_from_state_dict`."""
    from functools import partial

    from segment_anything.modeling import (
        ImageEncoderViT,
        MaskDecoder,
        PromptEncoder,
        Sam,
        TwoWayTransformer,
    )

    img_size, prompt_dim = int(config["img_size"]), int(config["prompt_dim"])
    emb = img_size // 16
    return Sam(
        image_encoder=ImageEncoderViT(
            depth=int(config["depth"]),
            embed_dim=int(config["embed_dim"]),
            img_size=img_size,
            mlp_ratio=4,
            norm_layer=partial(torch.nn.LayerNorm, eps=1e-6),
            num_heads=int(config["num_heads"]),
            patch_size=16,
            qkv_bias=True,
            use_rel_pos=True,
            global_attn_indexes=tuple(config["global_attn_indexes"]),
            window_size=int(config["window_size"]),
            out_chans=prompt_dim,
        ),
        prompt_encoder=PromptEncoder(
            embed_dim=prompt_dim,
            image_embedding_size=(emb, emb),
            input_image_size=(img_size, img_size),
            mask_in_chans=16,
        ),
        mask_decoder=MaskDecoder(
            num_multimask_outputs=3,
            transformer=TwoWayTransformer(
                depth=int(config["decoder_depth"]),
                embedding_dim=prompt_dim,
                mlp_dim=int(config["decoder_mlp"]),
                num_heads=8,
            ),
            transformer_dim=prompt_dim,
            iou_head_depth=3,
            iou_head_hidden_dim=256,
        ),
        pixel_mean=[123.675, 116.28, 103.53],
        pixel_std=[58.395, 57.12, 57.375],
    )


def load_sam(
    checkpoint: str | os.PathLike[str], model_type: str | None = None, device: str | torch.device = "cpu"
) -> torch.nn.Module:
    """Build a SAM v1 model from its checkpoint (configuration read from the shapes) and load it strictly.

    Args:
        checkpoint: path of a segment-anything ``.pth`` state dict.
        model_type: ``vit_b`` / ``vit_l`` / ``vit_h`` to check against the file, or None to accept what it holds.
        device: where the model runs.
    """
    sd = _sam_state_dict(checkpoint)
    try:
        config = sam_config_from_state_dict(sd)
    except (KeyError, IndexError, ValueError, ZeroDivisionError) as exc:
        raise CheckpointError(
            f"{checkpoint}: a damaged SAM checkpoint ({type(exc).__name__}: {exc}); download it again"
        ) from exc
    if model_type is not None and model_type != config["type"]:
        raise CheckpointError(
            f"{checkpoint}: holds a {config['type']} SAM, not {model_type}; drop --sam-type or give the right file"
        )
    if not sam_within_bounds(config):  # checked before anything is built or allocated
        raise CheckpointError(
            f"{checkpoint}: its shapes describe a SAM larger than any published one (image size {config['img_size']}, "
            f"width {config['embed_dim']}, depth {config['depth']}); give an official checkpoint"
        )
    model = build_sam(config)
    missing, unexpected = model.load_state_dict(sd, strict=False)
    if missing or unexpected:
        raise CheckpointError(
            f"{checkpoint}: does not match a SAM {config['type']} model ({len(missing)} missing, "
            f"{len(unexpected)} unexpected tensors, e.g. {(list(missing) + list(unexpected))[:2]}); download it again"
        )
    return model.to(device).eval()


class SamSegmenter:
    """Segment-anything prompted by the flash prior's points; keeps the mask with the best predicted IoU.

    Args:
        checkpoint: path of a SAM v1 checkpoint (vit_b / vit_l / vit_h); its type is read from its shapes.
        model_type: optional check of the checkpoint's type.
        device: ``"cpu"`` or ``"cuda"``.
        model: an already built `segment_anything.modeling.Sam` instead of a checkpoint.
        multimask: ask SAM for three candidate masks (as the authors do) and keep the best scored one.
    """

    def __init__(
        self,
        checkpoint: str | os.PathLike[str] | None = None,
        model_type: str | None = None,
        device: str | torch.device = "cpu",
        model: torch.nn.Module | None = None,
        multimask: bool = True,
    ) -> None:
        from segment_anything import SamPredictor

        if model is None:
            if checkpoint is None:
                raise CheckpointError("SamSegmenter needs a checkpoint path (--sam-checkpoint) or a built model")
            model = load_sam(checkpoint, model_type, device)
        self.model = model.to(device).eval()
        self.predictor = SamPredictor(self.model)
        self.multimask = multimask
        self.last_scores: np.ndarray | None = None

    @torch.inference_mode()
    def segment(self, image: np.ndarray, ratio: np.ndarray, points: np.ndarray, labels: np.ndarray) -> np.ndarray:
        if len(points) == 0:
            raise ValueError("SAM needs at least one positive point")
        self.predictor.set_image(np.ascontiguousarray(image), image_format="RGB")
        masks, scores, _ = self.predictor.predict(
            point_coords=np.asarray(points, np.float32),
            point_labels=np.asarray(labels, np.int32),
            multimask_output=self.multimask,
        )
        self.last_scores = scores
        self.predictor.reset_image()
        return masks[int(np.argmax(scores))].astype(np.uint8)
