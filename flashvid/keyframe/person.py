"""`PersonSegmenter`: MediaPipe's selfie person segmenter (Apache-2.0, shipped in flashvid.assets), run by
ai-edge-litert.

The square model (256 x 256) is the default: it serves portrait and landscape frames alike after letterboxing,
where the landscape variant (144 x 256) squeezes portrait phone footage. The input is RGB in 0..1; the output a
person probability per pixel, returned at the image's size.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np

from flashvid.assets import SEGMENTERS
from flashvid.errors import CheckpointError
from flashvid.imageio import letterbox

#: Shipped person segmenters: name -> file in flashvid.assets/segmenters.
PERSON_MODELS = SEGMENTERS
DEFAULT_PERSON_MODEL = "selfie"


def person_model_path(name: str = DEFAULT_PERSON_MODEL) -> Path:
    from flashvid import assets

    if name not in PERSON_MODELS:
        raise CheckpointError(f"unknown person segmenter {name!r}; choose one of {', '.join(PERSON_MODELS)}")
    return assets.path("segmenters", PERSON_MODELS[name])


@contextlib.contextmanager
def _quiet_stderr() -> Iterator[None]:
    """Silence native libraries' writes to file descriptor 2 (not Python's own stderr handling) for a moment."""
    import sys

    sys.stderr.flush()
    try:
        saved = os.dup(2)
    except OSError:  # no descriptor 2 at all (a daemon): nothing to silence
        yield
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


class PersonSegmenter:
    """Person probability maps.

    Args:
        model: a name from `PERSON_MODELS` or a path to a compatible .tflite file.
        threads: interpreter threads.

    `__call__(image)`: H x W x 3 uint8 RGB -> H x W float32 person probability in 0..1. Thread-safe (one lock).
    """

    def __init__(self, model: str | os.PathLike[str] = DEFAULT_PERSON_MODEL, threads: int = 2) -> None:
        path = person_model_path(str(model)) if str(model) in PERSON_MODELS else Path(model)
        if not path.is_file():
            raise CheckpointError(f"{path}: person segmenter not found; reinstall flashvid or give a .tflite path")
        try:
            from ai_edge_litert.interpreter import Interpreter
        except ImportError as exc:
            raise CheckpointError("the person segmenter needs ai-edge-litert: pip install ai-edge-litert") from exc
        try:
            with _quiet_stderr():  # LiteRT's C++ logger prints "INFO: Created TensorFlow Lite XNNPACK delegate"
                self._it = Interpreter(model_path=str(path), num_threads=threads)
                self._it.allocate_tensors()
                self._it.invoke()
        except (ValueError, RuntimeError) as exc:
            raise CheckpointError(f"{path}: not a usable TFLite model ({exc}); give the selfie segmenter") from exc
        inp, out = self._it.get_input_details()[0], self._it.get_output_details()[0]
        self._in, self._out = inp["index"], out["index"]
        self.height, self.width = int(inp["shape"][1]), int(inp["shape"][2])
        self.name = str(model) if str(model) in PERSON_MODELS else path.name
        self._lock = threading.Lock()

    def __call__(self, image: np.ndarray) -> np.ndarray:
        h, w = image.shape[:2]
        # letterbox to the model's aspect (grey bars), so a person keeps their proportions
        fitted, (y0, x0) = letterbox(image, self.height, self.width)
        nh, nw = fitted.shape[:2]
        canvas = np.full((self.height, self.width, 3), 0.5, np.float32)
        canvas[y0 : y0 + nh, x0 : x0 + nw] = fitted.astype(np.float32) / 255
        with self._lock:
            self._it.set_tensor(self._in, canvas[None])
            self._it.invoke()
            prob = self._it.get_tensor(self._out)[0, :, :, 0].copy()
        prob = prob[y0 : y0 + nh, x0 : x0 + nw]
        return np.clip(cv2.resize(prob, (w, h), interpolation=cv2.INTER_LINEAR), 0.0, 1.0).astype(np.float32)


class PersonFlashSegmenter:
    """The keyframe's segmenter for people: the flash decides WHICH subject, the person segmenter gives its
    silhouette.

    The person segmenter's mask (probability > 0.5) is split into connected people. A person is the subject when
    the flash prior's positive points fall on them; of several, those the flash lit most (mean ratio at least
    `keep_ratio` of the brightest's) are kept, so a person further back is left out. When the positive points
    mostly miss every person (`min_inside`), the subject is not a person (an object, an animal) and `fallback`
    (GrabCut, or SAM) segments it instead. `last_choice` says which path the last call took.

    The flash then trims the kept people: what it left unlit (ratio below `far_ratio`) goes where the person
    segmenter is unsure (below `sure_person`), and also where it is sure but the flash measured a far surface
    (`_measured_far`: `measured_luma`, `edge_band`, `far_area`, `anchored_level`). What it lit as brightly as the
    person (`near_ratio`) and touches them is added.
    """

    def __init__(
        self,
        person: PersonSegmenter | None = None,
        fallback: object | None = None,
        min_inside: float = 0.5,
        keep_ratio: float = 0.6,
        far_ratio: float = 0.12,
        sure_person: float = 0.95,
        near_ratio: float = 0.6,
        cue: str = "the flash",
        measured_luma: float = 0.02,
        edge_band: float = 0.02,
        far_area: float = 0.1,
        anchored_level: float = 0.5,
    ) -> None:
        from flashvid.keyframe.segment import GrabCutSegmenter

        self.person = person or PersonSegmenter()
        self.fallback = fallback or GrabCutSegmenter()
        self.min_inside, self.keep_ratio = min_inside, keep_ratio
        self.far_ratio, self.sure_person, self.near_ratio = far_ratio, sure_person, near_ratio
        self.measured_luma, self.edge_band, self.anchored_level = measured_luma, edge_band, anchored_level
        self.far_area = far_area
        self.cue = cue  # what picked the subject, in `last_choice` ("the clicks" for a keyframe without a flash)
        self.last_choice = ""
        self.last_probability: np.ndarray | None = None

    @property
    def name(self) -> str:
        fb = getattr(self.fallback, "name", type(self.fallback).__name__)
        return f"person ({self.person.name}) + flash; else {fb}"

    #: `last_choice` names what segmented the last keyframe by itself (`segmenter_name` shows only it)
    choice_is_name = True

    def _fallback_name(self) -> str:
        return str(getattr(self.fallback, "name", type(self.fallback).__name__))

    def segment(self, image: np.ndarray, ratio: np.ndarray, points: np.ndarray, labels: np.ndarray) -> np.ndarray:
        from flashvid.keyframe.segment import fill_holes

        h, w = ratio.shape
        prob = self.person(image)
        self.last_probability = prob
        n, cc = cv2.connectedComponents((prob > 0.5).astype(np.uint8), connectivity=8)
        pos = np.asarray(points, np.float32).reshape(-1, 2)[np.asarray(labels).reshape(-1) == 1]
        px = np.clip(np.round(pos[:, 0]).astype(int), 0, w - 1)
        py = np.clip(np.round(pos[:, 1]).astype(int), 0, h - 1)
        hit_ids = cc[py, px] if len(pos) else np.zeros(0, int)
        people = []
        for i in range(1, n):
            comp = cc == i
            if comp.sum() < 0.002 * h * w:
                continue
            people.append((i, float(ratio[comp].mean()), int((hit_ids == i).sum())))
        hits = sum(k for _, _, k in people)
        if not people or not len(pos) or hits / len(pos) < self.min_inside:
            self.last_choice = f"{self._fallback_name()} (no person under {self.cue})"
            return self.fallback.segment(image, ratio, points, labels)  # type: ignore[attr-defined]
        neg = np.asarray(points, np.float32).reshape(-1, 2)[np.asarray(labels).reshape(-1) == 0]
        nx = np.clip(np.round(neg[:, 0]).astype(int), 0, w - 1)
        ny = np.clip(np.round(neg[:, 1]).astype(int), 0, h - 1)
        # a background click on a person no positive point is on leaves that person out; one on the subject's own
        # component (background the person segmenter merged into them: a chair, a doorway) cuts that part away
        # instead, rather than dropping the subject (which once collapsed a good mask to GrabCut's fragment)
        subject_ids = {i for i, _, k in people if k > 0}
        vetoed = {int(c) for c in cc[ny, nx].tolist()} - subject_ids
        carve = [(int(x), int(y)) for x, y in zip(nx, ny, strict=True) if int(cc[y, x]) in subject_ids]
        lit = [(i, r) for i, r, k in people if k > 0 and i not in vetoed]
        if not lit:
            self.last_choice = f"{self._fallback_name()} (every lit person was marked background)"
            return self.fallback.segment(image, ratio, points, labels)  # type: ignore[attr-defined]
        best = max(r for _, r in lit)
        keep = [i for i, r in lit if r >= self.keep_ratio * best]
        found = f"{len(keep)} of {len(people)} people" if len(people) > 1 else "1 person"
        self.last_choice = f"the person segmenter ({self.person.name}) and {self.cue}: {found}"
        mask = np.isin(cc, keep)
        # the flash vetoes what the person segmenter merged from the far room (a bright ledge, a poster): parts the
        # flash left unlit (ratio below `far_ratio`) that are not confidently a person, or that are though the
        # flash measured them far (`_measured_far`), are cut, and only the parts still joined to a lit positive
        # point are kept
        unlit = ratio < self.far_ratio
        if unlit.any():
            unlit &= (prob < self.sure_person) | self._measured_far(image, ratio, mask)
        trimmed = mask & ~unlit
        _, cc2 = cv2.connectedComponents(trimmed.astype(np.uint8), connectivity=8)
        ids = {int(cc2[y, x]) for x, y in zip(px, py, strict=True) if trimmed[y, x]}
        if ids:
            mask = np.isin(cc2, sorted(ids))
        # ... and adds what the segmenter missed but the flash lit as brightly as the person (a raised arm, a
        # held object): confident-ratio regions that touch the person
        if self.near_ratio < 1.0:
            near = (ratio >= self.near_ratio).astype(np.uint8)
            _, cc3 = cv2.connectedComponents(near, connectivity=8)
            touching = np.unique(cc3[cv2.dilate(mask.astype(np.uint8), np.ones((5, 5), np.uint8)) > 0])
            mask = mask | np.isin(cc3, [t for t in touching.tolist() if t > 0])
        mask = fill_holes(mask.astype(np.uint8)) > 0
        if carve:
            mask = self._carve(mask, ratio, carve, px, py)
        return mask.astype(np.uint8)

    def _measured_far(self, image: np.ndarray, ratio: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """H x W bool: where the flash's low ratio outweighs even a sure person segmenter (a sunlit snowy slope or
        a white wall MediaPipe merged into the person: once 52 % of the room in `scripts/keyframe_cases.py`).

        The first two keep what the ratio cannot speak for; the last two were added when a real keyframe failed:
        - The ratio was measured, not filled in from neighbours: the flash image (H x W x 3 uint8) recorded light
          there (linear luma at least `measured_luma`). Black hair and clothes stay.
        - More than `edge_band` of the frame from the lit subject (ratio >= 0.5): mixed pixels at its edge stay.
        - A surface, not a sliver: a connected part of `mask` at least `far_area` of the frame. On the real flash
          portrait it_40 the flash leaves the shaded side of the face and the arms' edges low too; those parts
          are at most 3 % of the frame there (cutting them took 46.6 -> 40.8 % of the frame).
        - The ratio map is anchored on the subject: the upper quartile of the ratio over `mask`'s measured pixels
          is at least `anchored_level`. The ratio map is relative to its brightest surface, so a hand that moved
          between the two frames of an in-clip flash can set that top and make the whole body look far (upper
          quartile 0.10 there, at least 0.90 on every rendered portrait): then nothing is vetoed."""
        from flashvid.keyframe.prior import LUMA, srgb_to_linear

        h, w = ratio.shape
        measured = srgb_to_linear(image) @ LUMA >= self.measured_luma
        inside = mask & measured
        if inside.sum() < 16 or float(np.percentile(ratio[inside], 75.0)) < self.anchored_level:
            return np.zeros((h, w), bool)
        r = max(1, round(self.edge_band * max(h, w)))
        disc = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1))
        near_subject = cv2.dilate((ratio >= 0.5).astype(np.uint8), disc) > 0
        far = (inside & ~near_subject & (ratio < self.far_ratio)).astype(np.uint8)
        n, parts, stats, _ = cv2.connectedComponentsWithStats(far, connectivity=8)
        large = [i for i in range(1, n) if stats[i, cv2.CC_STAT_AREA] >= self.far_area * h * w]
        return np.isin(parts, large)

    def _carve(
        self, mask: np.ndarray, ratio: np.ndarray, clicks: list[tuple[int, int]], px: np.ndarray, py: np.ndarray
    ) -> np.ndarray:
        """`mask` without what each background click on it marks: the part of the mask joined to the click through
        pixels the flash lit less than half as much as the subject (the background it took in), or where the
        click is on a lit part, a disc of 3 % of the frame; then only the parts still joined to a positive point.
        A click outside the mask changes nothing."""
        h, w = mask.shape
        lit = float(np.median(ratio[mask])) if mask.any() else 1.0
        dim = (mask & (ratio < 0.5 * lit)).astype(np.uint8)
        _, cc = cv2.connectedComponents(dim, connectivity=8)
        radius = max(3, round(0.03 * max(h, w)))
        for x, y in clicks:
            if not mask[y, x]:  # already background (the flash trimmed it): nothing to cut
                continue
            if dim[y, x]:
                mask = mask & (cc != cc[y, x])
            else:
                disc = np.zeros((h, w), np.uint8)
                cv2.circle(disc, (x, y), radius, 1, -1)
                mask = mask & (disc == 0)
        _, parts = cv2.connectedComponents(mask.astype(np.uint8), connectivity=8)
        ids = {int(parts[y, x]) for x, y in zip(px, py, strict=True) if mask[y, x]}
        return np.isin(parts, sorted(ids)) if ids else mask
