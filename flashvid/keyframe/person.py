"""`PersonSegmenter`: MediaPipe's selfie person segmenter (Apache-2.0, shipped in flashvid.assets), run by
ai-edge-litert.

The square model (256 x 256) is the default: it serves portrait and landscape frames alike after letterboxing,
where the landscape variant (144 x 256) squeezes portrait phone footage. The input is RGB in 0..1; the output a
person probability per pixel, returned at the image's size.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

import cv2
import numpy as np

from flashvid.errors import CheckpointError

#: Shipped person segmenters: name -> file in flashvid.assets/segmenters.
PERSON_MODELS = {
    "selfie": "selfie_segmentation.tflite",
    "selfie-landscape": "selfie_segmentation_landscape.tflite",
}
DEFAULT_PERSON_MODEL = "selfie"


def person_model_path(name: str = DEFAULT_PERSON_MODEL) -> Path:
    from flashvid import assets

    if name not in PERSON_MODELS:
        raise CheckpointError(f"unknown person segmenter {name!r}; choose one of {', '.join(PERSON_MODELS)}")
    return assets.path("segmenters", PERSON_MODELS[name])


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
            self._it = Interpreter(model_path=str(path), num_threads=threads)
            self._it.allocate_tensors()
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
        s = min(self.width / w, self.height / h)
        nw, nh = max(1, round(w * s)), max(1, round(h * s))
        x0, y0 = (self.width - nw) // 2, (self.height - nh) // 2
        canvas = np.full((self.height, self.width, 3), 0.5, np.float32)
        interp = cv2.INTER_AREA if s < 1 else cv2.INTER_LINEAR
        canvas[y0 : y0 + nh, x0 : x0 + nw] = cv2.resize(image, (nw, nh), interpolation=interp).astype(np.float32) / 255
        with self._lock:
            self._it.set_tensor(self._in, canvas[None])
            self._it.invoke()
            prob = self._it.get_tensor(self._out)[0, :, :, 0].copy()
        prob = prob[y0 : y0 + nh, x0 : x0 + nw]
        return np.clip(cv2.resize(prob, (w, h), interpolation=cv2.INTER_LINEAR), 0.0, 1.0).astype(np.float32)
