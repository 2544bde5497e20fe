"""The flash keyframe: one flash / no-flash pair turned, once, into the subject's mask and trimap.

``make_keyframe(flash, noflash, **settings)`` runs prior -> points -> segmenter -> trimap and checks the input
(sizes, a flash too weak to find the subject, a swapped pair). A `Keyframe` saves to and loads from one
versioned ``.flashkey`` file (safetensors: arrays as tensors, settings as JSON metadata; no pickle).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from flashvid import defaults
from flashvid.errors import InputError
from flashvid.imageio import atomic_output, to_rgb8
from flashvid.keyframe.checks import (  # noqa: F401 - re-exported: their home before keyframe/checks.py
    SWAP_MARGIN,
    KeyframeError,
    WeakFlashError,
    check_pair,
    flash_centredness,
    pair_evidence,
    weak_flash_error,
)
from flashvid.keyframe.prior import PriorSettings, compute_prior
from flashvid.keyframe.segment import GrabCutSegmenter, SamSegmenter, Segmenter
from flashvid.keyframe.trimap import default_band, make_trimap, trimap_onehot

FORMAT = "flashvid-keyframe"
VERSION = 1
#: Below this flash-only fraction of the light at the best-lit pixels the flash cannot find the subject.
MIN_FLASH_STRENGTH = 0.04
#: `Keyframe.scene_match` below this: the keyframe was most likely taken in another scene than the frame's.
SCENE_MATCH_MIN = 0.4


def _with_edit(settings: dict[str, Any], edit: dict[str, Any]) -> dict[str, Any]:
    """`settings` with one more hand edit recorded (so `Keyframe.remade` can replay it), marked edited."""
    return {**settings, "edited": True, "edits": [*settings.get("edits", []), edit]}


@dataclass
class Keyframe:
    """A flash keyframe.

    Attributes:
        flash, noflash: H x W x 3 uint8 RGB.
        ratio: H x W float32 flash ratio map in 0..1.
        points: N x 2 float32 (x, y) prompts; labels: N int32 (1 positive, 0 negative).
        mask: H x W uint8 subject mask, 0/1.
        trimap: H x W uint8, 0 background / 128 unknown / 255 foreground.
        settings: the settings that made it (estimator, thresholds, band, segmenter, ...).
    """

    flash: np.ndarray
    noflash: np.ndarray
    ratio: np.ndarray
    points: np.ndarray
    labels: np.ndarray
    mask: np.ndarray
    trimap: np.ndarray
    settings: dict[str, Any] = field(default_factory=dict)

    @property
    def size(self) -> tuple[int, int]:
        """(width, height) in pixels."""
        return self.flash.shape[1], self.flash.shape[0]

    @property
    def light(self) -> np.ndarray | None:
        """The flash ratio map where the keyframe had a flash, else None (`keyframe_from_clicks`: its ratio map is a
        map of the clicks, no evidence of where the subject's edge is)."""
        return None if self.settings.get("no_flash") else self.ratio

    def trimap_onehot(self) -> np.ndarray:
        """3 x H x W float32 one-hot trimap in the order (bg, unknown, fg)."""
        return trimap_onehot(self.trimap)

    def with_band(self, band: int) -> Keyframe:
        """The same keyframe with its trimap remade at another band width (pixels)."""
        return Keyframe(
            self.flash,
            self.noflash,
            self.ratio,
            self.points,
            self.labels,
            self.mask,
            make_trimap(self.mask, band, self.light),
            {**self.settings, "band": int(band)},
        )

    def with_points(
        self,
        points: np.ndarray | list[tuple[float, float]],
        labels: np.ndarray | list[int],
        *,
        sam_checkpoint: str | os.PathLike[str] | None = None,
        sam_type: str | None = None,
        device: str = "cpu",
    ) -> Keyframe:
        """The keyframe segmented again with extra prompts: `points` N x 2 (x, y) pixels, `labels` N (1 subject,
        0 background). SAM re-prompts with all points; GrabCut re-seeds (each point also marks a disc of the
        ratio map as sure subject / sure background). The trimap is remade at the keyframe's band."""
        pts = np.asarray(points, np.float32).reshape(-1, 2)
        lab = np.asarray(labels, np.int32).reshape(-1)
        if len(pts) != len(lab):
            raise InputError(f"{len(pts)} points but {len(lab)} labels; give one label (1 or 0) per point")
        ratio = mark_clicks(self.ratio.copy(), pts, lab)
        all_pts = np.vstack([self.points.reshape(-1, 2), pts]).astype(np.float32)
        all_lab = np.append(self.labels, lab).astype(np.int32)
        seg = make_segmenter(sam_checkpoint=sam_checkpoint, sam_type=sam_type, device=device)
        mask = (seg.segment(self.flash, ratio, all_pts, all_lab) > 0).astype(np.uint8)
        band = int(self.settings.get("band", 0)) or None
        return Keyframe(
            self.flash,
            self.noflash,
            ratio,
            all_pts,
            all_lab,
            mask,
            make_trimap(mask, band, None if self.settings.get("no_flash") else ratio),
            _with_edit(self.settings, {"points": [[float(x), float(y), int(v)] for (x, y), v in zip(pts, lab)]}),
        )

    def with_strokes(self, strokes: list[tuple[float, float, int, int]]) -> Keyframe:
        """The keyframe with its trimap painted: each stroke (x, y, radius px, value 0 / 128 / 255) is a filled
        disc of background / unknown / subject."""
        tri = self.trimap.copy()
        for x, y, radius, value in strokes:
            if value not in (0, 128, 255):
                raise InputError(f"trimap value {value}: paint 0 (background), 128 (unknown) or 255 (subject)")
            cv2.circle(tri, (round(x), round(y)), max(1, int(radius)), int(value), -1)
        edit = {"strokes": [[float(x), float(y), int(r), int(v)] for x, y, r, v in strokes]}
        return replace(self, trimap=tri, settings=_with_edit(self.settings, edit))

    def remade(
        self,
        *,
        threshold: float | None = None,
        band: int | None = None,
        sam_checkpoint: str | os.PathLike[str] | None = None,
        sam_type: str | None = None,
        device: str = "cpu",
    ) -> Keyframe:
        """The keyframe made again from its pair with another ratio `threshold` and / or trimap `band` (None keeps
        the current one), then its hand edits replayed in order: points re-prompt the segmenter, brush strokes
        repaint the trimap. A band change alone keeps the mask and only remakes the trimap."""
        edits = list(self.settings.get("edits", []))
        sam: dict[str, Any] = {"sam_checkpoint": sam_checkpoint, "sam_type": sam_type, "device": device}
        new_band = band if band is not None else (int(self.settings.get("band", 0)) or None)
        if threshold is None or threshold == self.settings.get("threshold") or self.settings.get("no_flash"):
            # (a keyframe without a flash, `keyframe_from_clicks`, has no ratio threshold to change)
            # the mask (with its point edits) stands: only the trimap is remade, then the strokes repainted
            kf = replace(
                self,
                trimap=make_trimap(self.mask, new_band, self.light),
                settings={**self.settings, "band": new_band or 0, "edits": [e for e in edits if "points" in e]},
            )
            edits = [e for e in edits if "strokes" in e]
        else:
            kf = make_keyframe(
                self.flash, self.noflash, threshold=threshold, band=new_band, accept_weak_flash=True, **sam
            )  # the user took this pair already (and was asked about a weak flash then)
        for e in edits:
            if "points" in e:
                kf = kf.with_points([(x, y) for x, y, _ in e["points"]], [v for *_, v in e["points"]], **sam)
            else:
                kf = kf.with_strokes([(x, y, r, v) for x, y, r, v in e["strokes"]])
        return kf

    def scene_match(self, frame: np.ndarray) -> float:
        """How much `frame` (H x W x 3 uint8, any size) looks like the scene this keyframe was taken in: the
        correlation of the two pictures' coarse grey levels (48 x 36, blurred), -1..1. On the real clips a later
        frame of the same take scores 0.99, another take in the same room 0.92, other places -0.5..0.26; below
        `SCENE_MATCH_MIN` the keyframe was most likely taken elsewhere."""

        def coarse(img: np.ndarray) -> np.ndarray:
            g = cv2.cvtColor(cv2.resize(img, (48, 36), interpolation=cv2.INTER_AREA), cv2.COLOR_RGB2GRAY)
            g = cv2.GaussianBlur(g.astype(np.float32), (5, 5), 0)
            return (g - g.mean()) / (g.std() + 1e-6)

        a, b = coarse(self.noflash), coarse(to_rgb8(frame))
        return float(np.clip((a * b).mean(), -1.0, 1.0))

    def summary(self) -> dict[str, float]:
        """Subject area (% of the frame), positive points, mean ratio inside and outside the mask."""
        m = self.mask > 0
        inside = float(self.ratio[m].mean()) if m.any() else 0.0
        outside = float(self.ratio[~m].mean()) if (~m).any() else 0.0
        return {
            "area_pct": 100.0 * float(m.mean()),
            "points": int((self.labels == 1).sum()),
            "ratio_in": inside,
            "ratio_out": outside,
        }

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write one ``.flashkey`` file (written under a temporary name, then renamed)."""
        from safetensors.numpy import save_file

        p = Path(path)
        tensors = {
            "flash": np.ascontiguousarray(self.flash),
            "noflash": np.ascontiguousarray(self.noflash),
            "ratio": np.ascontiguousarray(self.ratio.astype(np.float16)),
            "points": np.ascontiguousarray(self.points.astype(np.float32).reshape(-1, 2)),
            "labels": np.ascontiguousarray(self.labels.astype(np.int32)),
            "mask": np.ascontiguousarray(self.mask.astype(np.uint8)),
            "trimap": np.ascontiguousarray(self.trimap.astype(np.uint8)),
        }
        meta = {"format": FORMAT, "version": str(VERSION), "settings": json.dumps(self.settings, default=str)}
        from safetensors import SafetensorError

        try:
            with atomic_output(p) as tmp:
                save_file(tensors, str(tmp), metadata=meta)
        except (OSError, SafetensorError) as exc:
            raise KeyframeError(f"{p}: cannot write the keyframe here ({exc}); choose another folder") from exc

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Keyframe:
        """Read a ``.flashkey`` file; a missing, damaged or other-version file raises `KeyframeError`."""
        from safetensors import SafetensorError, safe_open

        p = Path(path)
        if not p.is_file():
            raise KeyframeError(f"{p}: no such keyframe file; make one with `flashvid keyframe`")
        try:
            with safe_open(str(p), framework="numpy") as f:
                meta = f.metadata() or {}
                if meta.get("format") != FORMAT:
                    raise KeyframeError(f"{p}: not a flashvid keyframe file; make one with `flashvid keyframe`")
                if meta.get("version") != str(VERSION):
                    raise KeyframeError(
                        f"{p}: keyframe format version {meta.get('version')} but this flashvid reads version "
                        f"{VERSION}; re-create it with `flashvid keyframe`"
                    )
                arrays = {k: f.get_tensor(k) for k in f.keys()}
            settings = json.loads(meta.get("settings", "{}"))
            if not isinstance(settings, dict):
                raise ValueError("its settings are not a JSON object")
            kf = cls(
                arrays["flash"],
                arrays["noflash"],
                arrays["ratio"].astype(np.float32),
                arrays["points"],
                arrays["labels"],
                arrays["mask"],
                arrays["trimap"],
                settings,
            )
        except KeyframeError:
            raise
        except (SafetensorError, OSError, ValueError, KeyError, json.JSONDecodeError) as exc:
            raise KeyframeError(
                f"{p}: damaged keyframe file ({type(exc).__name__}); re-create it with `flashvid keyframe`"
            ) from exc
        problem = validate_arrays(kf)
        if problem:
            raise KeyframeError(f"{p}: damaged keyframe file ({problem}); re-create it with `flashvid keyframe`")
        return kf


def validate_arrays(kf: Keyframe) -> str:
    """What is wrong with a keyframe's arrays ('' when nothing): dtypes, dimensions, sizes, value sets, finiteness."""
    top = defaults.MAX_FRAME_SIDE
    if kf.flash.ndim != 3 or kf.flash.shape[2] != 3 or kf.flash.dtype != np.uint8:
        return f"flash is {kf.flash.dtype} {kf.flash.shape}, not H x W x 3 uint8"
    h, w = kf.flash.shape[:2]
    if not (1 <= h <= top and 1 <= w <= top):
        return f"size {w}x{h} is outside 1..{top}"
    if kf.noflash.shape != kf.flash.shape or kf.noflash.dtype != np.uint8:
        return "the no-flash image does not match the flash image"
    for name, arr, dtype in (
        ("ratio", kf.ratio, np.float32),
        ("mask", kf.mask, np.uint8),
        ("trimap", kf.trimap, np.uint8),
    ):
        if arr.shape != (h, w) or arr.dtype != dtype:
            return f"{name} is {arr.dtype} {arr.shape}, not {w}x{h} {np.dtype(dtype).name}"
    if not np.isfinite(kf.ratio).all() or kf.ratio.min() < 0 or kf.ratio.max() > 1:
        return "ratio values outside 0..1 or not finite"
    if not np.isin(kf.mask, (0, 1)).all():
        return "mask values other than 0 / 1"
    if not np.isin(kf.trimap, (0, 128, 255)).all():
        return "trimap values other than 0 / 128 / 255"
    if kf.points.ndim != 2 or kf.points.shape[1:] != (2,) or len(kf.points) != len(kf.labels):
        return "points and labels do not match"
    if not np.isfinite(kf.points).all() or not np.isin(kf.labels, (0, 1)).all():
        return "points not finite or labels other than 0 / 1"
    return ""


SEGMENTERS = ("auto", "person", "grabcut", "sam")


def mark_clicks(ratio: np.ndarray, points: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """`ratio` (H x W float32) with a disc (3 % of the long side) of 1 around each positive point and of 0 around
    each negative one, drawn in place; returns it."""
    r = max(3, round(0.03 * max(ratio.shape)))
    for (x, y), label in zip(points, labels, strict=True):
        cv2.circle(ratio, (round(float(x)), round(float(y))), r, 1.0 if label == 1 else 0.0, -1)
    return ratio


def make_segmenter(
    segmenter: str | Segmenter = "auto",
    sam_checkpoint: str | os.PathLike[str] | None = None,
    sam_type: str | None = None,
    device: str = "cpu",
) -> Segmenter:
    """``"auto"`` (default: SAM when a checkpoint is given, else the shipped person segmenter fused with the flash,
    falling back to GrabCut for subjects that are not people), ``"person"`` (the same), ``"grabcut"`` (no
    weights), ``"sam"`` (needs `sam_checkpoint`), or a ready segmenter."""
    if not isinstance(segmenter, str):
        return segmenter
    if segmenter == "sam" or (segmenter == "auto" and sam_checkpoint is not None):
        return SamSegmenter(sam_checkpoint, model_type=sam_type, device=device)
    if segmenter in ("auto", "person"):
        from flashvid.keyframe.person import PersonFlashSegmenter

        return PersonFlashSegmenter()
    if segmenter == "grabcut":
        return GrabCutSegmenter()
    raise ValueError(f"segmenter must be one of {', '.join(SEGMENTERS)}, got {segmenter!r}")


def segmenter_name(seg: Segmenter) -> str:
    """What segmented the last keyframe, for the keyframe file and the summaries."""
    choice = getattr(seg, "last_choice", "")
    if choice and getattr(seg, "choice_is_name", False):
        return str(choice)
    return (
        f"{getattr(seg, 'name', type(seg).__name__)}: {choice}" if choice else getattr(seg, "name", type(seg).__name__)
    )


def make_keyframe(
    flash: np.ndarray,
    noflash: np.ndarray,
    *,
    estimator: str = "pixel",
    threshold: float = defaults.RATIO_THRESHOLD,
    band: int | None = None,
    segmenter: str | Segmenter = "auto",
    sam_checkpoint: str | os.PathLike[str] | None = None,
    sam_type: str | None = None,
    device: str = "cpu",
    resize: bool = False,
    names: tuple[str, str] = ("flash", "no-flash"),
    accept_weak_flash: bool = False,
    **prior_settings: Any,
) -> Keyframe:
    """Make a flash keyframe from a flash / no-flash pair.

    Args:
        flash, noflash: H x W x 3 uint8 RGB (gray, 16-bit and RGBA arrays are converted).
        estimator: ``"pixel"`` (default) or ``"histogram"``, see `flashvid.keyframe.prior`.
        threshold: normalised ratio at or above which a pixel is a confident subject pixel.
        band: trimap band in pixels (None: `default_band`, 3.5 % of the shorter side); the band also widens
            where the ratio map disagrees with the mask (`flashvid.keyframe.trimap.make_trimap`).
        segmenter: ``"auto"`` (the shipped person segmenter fused with the flash, GrabCut for non-people, SAM
            when a checkpoint is given), ``"person"``, ``"grabcut"``, ``"sam"`` or any `Segmenter`.
        sam_checkpoint, sam_type, device: for SAM (a checkpoint implies ``segmenter="sam"``).
        resize: scale the no-flash image to the flash image's size instead of refusing different sizes.
        names: how the two inputs are named in error messages (file names from the CLI).
        accept_weak_flash: take the pair in the given order even when the flash evidence is too weak to confirm
            it (`WeakFlashError` otherwise); the keyframe records it (``settings["weak_flash"]``).
        **prior_settings: any other `PriorSettings` field (work_size, median, max_points, negative_points, ...).

    Raises:
        KeyframeError: different sizes, a swapped pair, or a flash too weak to give a confident point.
    """
    flash = to_rgb8(flash, name=names[0])
    noflash = to_rgb8(noflash, name=names[1])
    if resize and flash.shape != noflash.shape:
        noflash = cv2.resize(noflash, (flash.shape[1], flash.shape[0]), interpolation=cv2.INTER_AREA)
    evidence = pair_evidence(flash, noflash, names, accept_weak_flash=True)  # sizes and a clear swap; weak: below
    score = evidence.score
    settings = PriorSettings(estimator=estimator, threshold=threshold, **prior_settings)
    prior = compute_prior(flash, noflash, settings)
    if prior.strength < MIN_FLASH_STRENGTH or not (prior.labels == 1).any():
        raise KeyframeError(
            f"{names[0]}: the flash is too weak to find the subject (it adds {100 * prior.strength:.1f} % of the "
            "light at best); retake it closer to the subject, with a stronger flash or in a darker room"
        )
    if score < SWAP_MARGIN and not accept_weak_flash:  # asked, not guessed (a flash that did light something)
        raise weak_flash_error(names[0], evidence)
    seg = make_segmenter(segmenter, sam_checkpoint, sam_type, device)
    mask = (seg.segment(flash, prior.ratio, prior.points, prior.labels) > 0).astype(np.uint8)
    if not mask.any():
        raise KeyframeError(
            f"{names[0]}: no subject was found around the flash's confident points; retake it closer to the "
            "subject or give a SAM checkpoint"
        )
    h, w = mask.shape
    band_px = default_band(h, w) if band is None else int(band)
    record = {
        **settings.to_dict(),
        "segmenter": segmenter_name(seg),
        "band": band_px,
        "strength": round(prior.strength, 4),
        "exposure": round(prior.exposure, 4),
        "swap_score": round(score, 4),
        "weak_flash": bool(score < SWAP_MARGIN),
    }
    return Keyframe(
        flash, noflash, prior.ratio, prior.points, prior.labels, mask, make_trimap(mask, band_px, prior.ratio), record
    )
