"""Package data of flashvid (installed as `flashvid.assets`): shipped weights and model cards (models/), the
default training configuration (configs/) and converted pretrained networks with their licences.

`path("models", "flashvid-rt.safetensors")` gives a file's location in an installed wheel and in a checkout alike.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path


def path(*parts: str) -> Path:
    """The location of a packaged file (it may not exist: callers check and name it in their error)."""
    return Path(str(resources.files(__name__).joinpath(*parts)))


#: The shipped person segmenters (MediaPipe selfie segmentation, Apache-2.0): name -> file in segmenters/.
SEGMENTERS = {
    "selfie": "selfie_segmentation.tflite",
    "selfie-landscape": "selfie_segmentation_landscape.tflite",
}


def segmenter_path(name: str) -> Path:
    """The shipped person segmenter `name` (see `SEGMENTERS`); KeyError for another name."""
    return path("segmenters", SEGMENTERS[name])
