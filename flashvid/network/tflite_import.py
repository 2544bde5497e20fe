"""Convert a quantised TFLite MobileNetV2 into `MobileNetV2` weights, once.

    python -m flashvid.network.tflite_import mobilenet_v2_1.0_224_quant.tflite OUT.safetensors

The flatbuffer is parsed with the `tflite` package; every CONV_2D / DEPTHWISE_CONV_2D (batch norm already folded)
is dequantised, real = scale * (q - zero_point) for the uint8 weights and real = scale * q for the int32 biases,
and assigned in graph order to the module's convolutions (shapes checked one by one). The result is saved as
safetensors with the source file's SHA-256 in its metadata. `tests/test_mobilenet.py` checks the converted network
against the original run by ai-edge-litert.
"""

from __future__ import annotations

import argparse
import hashlib
import os
from pathlib import Path

import numpy as np
import torch

from flashvid.errors import CheckpointError
from flashvid.imageio import atomic_output
from flashvid.network.rt.mobilenet import MobileNetV2

_CONV_OPS = ("CONV_2D", "DEPTHWISE_CONV_2D")


def _dequantise(tensor: object, buffer: np.ndarray) -> np.ndarray:
    q = tensor.Quantization()  # type: ignore[attr-defined]
    scale = q.ScaleAsNumpy() if q is not None and q.ScaleLength() else np.ones(1, np.float32)
    zero = q.ZeroPointAsNumpy() if q is not None and q.ZeroPointLength() else np.zeros(1, np.int64)
    shape = tuple(int(v) for v in tensor.ShapeAsNumpy())  # type: ignore[attr-defined]
    kind = tensor.Type()  # type: ignore[attr-defined]
    dtype = {3: np.uint8, 9: np.int8, 2: np.int32, 0: np.float32}.get(kind)
    if dtype is None:
        raise CheckpointError(f"tensor type {kind} is not supported by the converter")
    q_values = np.frombuffer(buffer.tobytes(), dtype=dtype).reshape(shape).astype(np.float64)
    if dtype is np.float32:
        return q_values.astype(np.float32)
    axis_shape = [1] * len(shape)
    if scale.size > 1:  # per-channel quantisation along the first axis
        axis_shape[0] = -1
    return ((q_values - zero.reshape(axis_shape)) * scale.reshape(axis_shape)).astype(np.float32)


def read_tflite_convs(path: str | os.PathLike[str]) -> list[tuple[str, np.ndarray, np.ndarray]]:
    """(op name, weight, bias) of every convolution in graph order, dequantised; weights in TFLite layout
    (out, kh, kw, in) for CONV_2D and (1, kh, kw, channels) for DEPTHWISE_CONV_2D."""
    import tflite

    data = Path(path).read_bytes()
    try:
        model = tflite.Model.GetRootAsModel(data, 0)
        graph = model.Subgraphs(0)
    except Exception as exc:
        raise CheckpointError(f"{path}: not a TFLite flatbuffer ({type(exc).__name__}); give the .tflite file") from exc
    names = {v: k for k, v in tflite.BuiltinOperator.__dict__.items() if not k.startswith("_")}
    out = []
    for i in range(graph.OperatorsLength()):
        op = graph.Operators(i)
        code = model.OperatorCodes(op.OpcodeIndex())
        name = names.get(max(code.BuiltinCode(), code.DeprecatedBuiltinCode()), "?")
        if name not in _CONV_OPS:
            continue
        w_t, b_t = graph.Tensors(op.Inputs(1)), graph.Tensors(op.Inputs(2))
        w = _dequantise(w_t, model.Buffers(w_t.Buffer()).DataAsNumpy())
        b = _dequantise(b_t, model.Buffers(b_t.Buffer()).DataAsNumpy())
        out.append((name, w, b))
    return out


def convert_mobilenet_v2(path: str | os.PathLike[str], classifier: bool = True) -> MobileNetV2:
    """The TFLite MobileNetV2 at `path` as a float `MobileNetV2` (eval mode)."""
    convs = read_tflite_convs(path)
    net = MobileNetV2(depth=17, classifier=True)
    mods = [m for m in net.modules() if isinstance(m, torch.nn.Conv2d)]
    if len(mods) != len(convs):
        raise CheckpointError(f"{path}: {len(convs)} convolutions, MobileNetV2 1.0 has {len(mods)}; wrong network")
    with torch.no_grad():
        for mod, (name, w, b) in zip(mods, convs, strict=True):
            wt = torch.from_numpy(w)
            wt = wt.permute(3, 0, 1, 2) if name == "DEPTHWISE_CONV_2D" else wt.permute(0, 3, 1, 2)
            if tuple(wt.shape) != tuple(mod.weight.shape) or b.shape[0] != mod.bias.shape[0]:  # type: ignore[union-attr]
                raise CheckpointError(f"{path}: weight {tuple(wt.shape)} does not fit {tuple(mod.weight.shape)}")
            mod.weight.copy_(wt)
            mod.bias.copy_(torch.from_numpy(b))  # type: ignore[union-attr]
    if not classifier:
        net.head = net.logits = None
    return net.eval()


def main(argv: list[str] | None = None) -> int:
    from safetensors.torch import save_file

    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("tflite", help="mobilenet_v2_1.0_224_quant.tflite")
    p.add_argument("out", help="output .safetensors")
    p.add_argument("--classifier", action="store_true", help="keep the ImageNet head (for checks)")
    args = p.parse_args(argv)
    net = convert_mobilenet_v2(args.tflite, classifier=args.classifier)
    digest = hashlib.sha256(Path(args.tflite).read_bytes()).hexdigest()
    sd = {k: v.contiguous() for k, v in net.state_dict().items()}
    meta = {
        "format": "flashvid-pretrained",
        "network": "mobilenet_v2_1.0",
        "source_sha256": digest,
        "source": Path(args.tflite).name,
        "licence": "Apache-2.0",
    }
    with atomic_output(args.out) as tmp:
        save_file(sd, str(tmp), metadata=meta)
    print(f"{args.out}: {sum(v.numel() for v in sd.values()):,} weights from {Path(args.tflite).name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
