"""Person references of another family than the model's own segmenter, for scoring real footage.

flashvid-rt uses MediaPipe's selfie segmenter in every frame, so scoring it only against that segmenter's masks
would be circular. `DeepLabPerson` runs DeepLabV3 (MobileNetV2, Pascal VOC, a quantised TFLite file from
../shared/data/weights, Apache-2.0) with ai-edge-litert: person = class 15.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

import cv2
import numpy as np

from flashvid.errors import CheckpointError
from flashvid.imageio import letterbox

#: Pascal VOC's person class
PERSON_CLASS = 15


class DeepLabPerson:
    """``__call__(image H x W x 3 uint8 RGB)`` -> H x W float32 person mask (0 or 1) from DeepLabV3.

    The image is letterboxed (grey) into the model's 513 x 513 input; its class map is cropped back and resized
    with nearest neighbours."""

    def __init__(self, path: str | os.PathLike[str], threads: int = 2) -> None:
        path = Path(path)
        if not path.is_file():
            raise CheckpointError(f"{path}: DeepLabV3 TFLite file not found; give deeplabv3_mnv2_pascal_quant.tflite")
        from ai_edge_litert.interpreter import Interpreter

        self._it = Interpreter(model_path=str(path), num_threads=threads)
        self._it.allocate_tensors()
        inp, out = self._it.get_input_details()[0], self._it.get_output_details()[0]
        self._in, self._out = inp["index"], out["index"]
        self.height, self.width = int(inp["shape"][1]), int(inp["shape"][2])
        self._lock = threading.Lock()

    def __call__(self, image: np.ndarray) -> np.ndarray:
        h, w = image.shape[:2]
        fitted, (y0, x0) = letterbox(image, self.height, self.width)
        nh, nw = fitted.shape[:2]
        canvas = np.full((self.height, self.width, 3), 128, np.uint8)
        canvas[y0 : y0 + nh, x0 : x0 + nw] = fitted
        with self._lock:
            self._it.set_tensor(self._in, canvas[None])
            self._it.invoke()
            classes = self._it.get_tensor(self._out)[0].copy()
        person = (classes[y0 : y0 + nh, x0 : x0 + nw] == PERSON_CLASS).astype(np.uint8)
        return cv2.resize(person, (w, h), interpolation=cv2.INTER_NEAREST).astype(np.float32)
