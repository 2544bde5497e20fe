"""The MobileNetV2 converter: the PyTorch module built from the quantised TFLite file agrees with the original run
by ai-edge-litert on real photographs (same top-1 class, overlapping top-5, probabilities within a stated
tolerance), and the shipped converted weights are exactly what the converter makes."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from flashvid.imageio import read_image

PHOTOS = [
    "animals/sample1.jpg",
    "animals/sample2.jpg",
    "cutouts/lemur.png",
    "portraits/p_07141906.jpg",
    "cutouts/rembg_car-1.jpg",
]


@pytest.fixture(scope="module")
def tflite_path(shared_data: Path) -> Path:
    p = shared_data / "weights" / "mobilenet_v2_1.0_224_quant.tflite"
    if not p.is_file():
        pytest.skip(f"{p} is absent")
    return p


def test_converted_network_agrees_with_the_tflite_original(tflite_path: Path, shared_data: Path) -> None:
    from ai_edge_litert.interpreter import Interpreter

    from flashvid.network.tflite_import import convert_mobilenet_v2

    net = convert_mobilenet_v2(tflite_path)
    it = Interpreter(model_path=str(tflite_path))
    it.allocate_tensors()
    inp, out = it.get_input_details()[0], it.get_output_details()[0]
    scale, zero = out["quantization"]
    for name in PHOTOS:
        img = cv2.resize(read_image(shared_data / name), (224, 224), interpolation=cv2.INTER_AREA)
        it.set_tensor(inp["index"], img[None])
        it.invoke()
        p_ref = (it.get_tensor(out["index"])[0].astype(np.float32) - zero) * scale
        with torch.no_grad():
            p = torch.softmax(net.classify(torch.from_numpy(img).permute(2, 0, 1)[None].float() / 255), 1)[0].numpy()
        assert int(np.argmax(p)) == int(np.argmax(p_ref)), name
        top_ref = set(np.argsort(-p_ref)[:5][p_ref[np.argsort(-p_ref)[:5]] > 0.01].tolist())
        assert top_ref <= set(np.argsort(-p)[:5].tolist()), name
        assert float(np.abs(p - p_ref).max()) < 0.05, name  # int8 activations vs float: measured <= 0.023


def test_shipped_weights_are_the_converted_ones(tflite_path: Path) -> None:
    from safetensors.torch import load_file

    from flashvid import assets
    from flashvid.network.tflite_import import convert_mobilenet_v2

    shipped = load_file(str(assets.path("pretrained", "mobilenet_v2_1.0_224.safetensors")))
    fresh = convert_mobilenet_v2(tflite_path, classifier=False).state_dict()
    assert set(shipped) == set(fresh)
    for k, v in fresh.items():
        torch.testing.assert_close(shipped[k], v, rtol=0, atol=0)


def test_a_foreign_file_is_refused(tmp_path: Path) -> None:
    from flashvid.errors import CheckpointError
    from flashvid.network.tflite_import import convert_mobilenet_v2

    bad = tmp_path / "x.tflite"
    bad.write_bytes(b"not a flatbuffer at all" * 10)
    with pytest.raises(CheckpointError):
        convert_mobilenet_v2(bad)
