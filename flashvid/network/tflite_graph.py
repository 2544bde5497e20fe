"""A float TFLite graph as a PyTorch module: `TFLiteGraph`.

The flatbuffer is parsed with the `tflite` package once; its constants (float32, or float16 behind DEQUANTIZE)
become module buffers in PyTorch layouts, its operators a fixed list run in order on NCHW tensors, so the module
traces, exports to ONNX and compiles like any other. The operators cover MediaPipe's selfie segmenters (the
person prior of `flashvid.network.person_prior`): CONV_2D, DEPTHWISE_CONV_2D (TFLite's SAME padding, fused
activations), ADD, MUL, HARD_SWISH, RELU, LOGISTIC, AVERAGE_POOL_2D, MEAN, RESIZE_BILINEAR, DEQUANTIZE and
MediaPipe's custom Convolution2DTransposeBias. Anything else is refused with its name.
`tests/test_person_prior.py` checks the module against the original run by ai-edge-litert.
"""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from flashvid.errors import CheckpointError

_ACTIVATIONS = {0: None, 1: "relu", 2: "relu_n1_to_1", 3: "relu6"}
_PADDING = {0: "SAME", 1: "VALID"}


@dataclass
class _Op:
    kind: str
    inputs: list[int]
    outputs: list[int]
    options: dict[str, Any] = field(default_factory=dict)


def _opcode_names() -> dict[int, str]:
    import tflite

    return {v: k for k, v in vars(tflite.BuiltinOperator).items() if not k.startswith("_")}


def _options(op: Any, kind: str) -> dict[str, Any]:
    """The options of one operator as plain values."""
    import tflite

    table = op.BuiltinOptions()
    if kind == "CUSTOM":
        raw = op.CustomOptionsAsNumpy()
        padding, stride_w, stride_h = struct.unpack("<3i", bytes(raw[:12]))
        return {"padding": "SAME" if padding == 1 else "VALID", "stride": (stride_h, stride_w)}
    if table is None:
        return {}
    cls = {
        "CONV_2D": tflite.Conv2DOptions,
        "DEPTHWISE_CONV_2D": tflite.DepthwiseConv2DOptions,
        "AVERAGE_POOL_2D": tflite.Pool2DOptions,
        "ADD": tflite.AddOptions,
        "MUL": tflite.MulOptions,
        "RESIZE_BILINEAR": tflite.ResizeBilinearOptions,
        "MEAN": tflite.ReducerOptions,
    }.get(kind)
    if cls is None:
        return {}
    o = cls()
    o.Init(table.Bytes, table.Pos)
    out: dict[str, Any] = {}
    if hasattr(o, "FusedActivationFunction"):
        act = o.FusedActivationFunction()
        if act not in _ACTIVATIONS:
            raise CheckpointError(f"{kind}: fused activation {act} is not supported by the converter")
        out["activation"] = _ACTIVATIONS[act]
    if hasattr(o, "Padding"):
        out["padding"] = _PADDING[o.Padding()]
        out["stride"] = (o.StrideH(), o.StrideW())
    if hasattr(o, "DilationHFactor"):
        out["dilation"] = (o.DilationHFactor(), o.DilationWFactor())
    if hasattr(o, "FilterHeight"):
        out["filter"] = (o.FilterHeight(), o.FilterWidth())
    if hasattr(o, "AlignCorners"):
        out["align_corners"] = bool(o.AlignCorners())
        out["half_pixel"] = bool(o.HalfPixelCenters())
    if hasattr(o, "KeepDims"):
        out["keep_dims"] = bool(o.KeepDims())
    return out


def _same_pad(size: int, k: int, stride: int, dilation: int = 1) -> tuple[int, int]:
    """TFLite's SAME padding (before, after) along one axis: the extra pixel goes after."""
    out = -(-size // stride)
    total = max((out - 1) * stride + (k - 1) * dilation + 1 - size, 0)
    return total // 2, total - total // 2


def _activate(x: Tensor, act: str | None) -> Tensor:
    if act == "relu":
        return F.relu(x)
    if act == "relu6":
        return F.hardtanh(x, 0.0, 6.0)
    if act == "relu_n1_to_1":
        return F.hardtanh(x, -1.0, 1.0)
    return x


class TFLiteGraph(nn.Module):
    """Runs one float TFLite graph on NCHW tensors.

    Args:
        path: the .tflite file (its first subgraph, one input, one output).

    ``forward(x)``: x [B,C,H,W] float in the graph's input range -> the output [B,C',H',W'].
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        super().__init__()
        try:
            import tflite
        except ImportError as exc:  # the converter's parser; running the module does not need it
            raise CheckpointError("reading a .tflite graph needs the tflite package (pip install tflite)") from exc
        path = Path(path)
        try:
            model = tflite.Model.GetRootAsModel(path.read_bytes(), 0)
            graph = model.Subgraphs(0)
        except (OSError, ValueError, IndexError, struct.error) as exc:
            raise CheckpointError(f"{path}: not a readable TFLite model ({exc})") from exc
        names = _opcode_names()
        self.input_index = int(graph.Inputs(0))
        self.output_index = int(graph.Outputs(0))
        shape = [int(v) for v in graph.Tensors(self.input_index).ShapeAsNumpy()]
        self.input_shape = (shape[1], shape[2])  # H, W
        constants: dict[int, np.ndarray] = {}
        for i in range(graph.TensorsLength()):
            t = graph.Tensors(i)
            buf = model.Buffers(t.Buffer())
            if buf is not None and buf.DataLength():
                dtype = {0: np.float32, 1: np.float16, 2: np.int32, 4: np.int64}.get(t.Type())
                if dtype is None:
                    raise CheckpointError(f"{path}: tensor type {t.Type()} is not supported by the converter")
                dims = tuple(int(v) for v in t.ShapeAsNumpy()) if t.ShapeLength() else ()
                constants[i] = np.frombuffer(buf.DataAsNumpy().tobytes(), dtype=dtype).reshape(dims)
        self.ops: list[_Op] = []
        for k in range(graph.OperatorsLength()):
            op = graph.Operators(k)
            code = model.OperatorCodes(op.OpcodeIndex())
            kind = names.get(max(code.BuiltinCode(), code.DeprecatedBuiltinCode()), "?")
            if kind == "CUSTOM":
                custom = code.CustomCode().decode()
                if custom != "Convolution2DTransposeBias":
                    raise CheckpointError(f"{path}: custom operator {custom} is not supported by the converter")
            inputs = [int(v) for v in op.InputsAsNumpy()]
            outputs = [int(v) for v in op.OutputsAsNumpy()]
            if kind == "DEQUANTIZE":  # fp16 weights: a constant in float32
                constants[outputs[0]] = constants[inputs[0]].astype(np.float32)
                continue
            self.ops.append(_Op(kind, inputs, outputs, _options(op, kind)))
        supported = {
            "CONV_2D", "DEPTHWISE_CONV_2D", "ADD", "MUL", "HARD_SWISH", "RELU", "LOGISTIC", "AVERAGE_POOL_2D",
            "MEAN", "RESIZE_BILINEAR", "CUSTOM",
        }  # fmt: skip
        bad = sorted({op.kind for op in self.ops} - supported)
        if bad:
            raise CheckpointError(f"{path}: operators {bad} are not supported by the converter")
        self._register_constants(constants)

    def _register_constants(self, constants: dict[int, np.ndarray]) -> None:
        """Weights in PyTorch layouts as buffers; small integer constants (sizes, axes) as Python values."""
        self.values: dict[int, Any] = {}
        for op in self.ops:
            for slot, i in enumerate(op.inputs):
                if i < 0 or i not in constants or f"c{i}" in self._buffers or i in self.values:
                    continue
                a = constants[i]
                if a.dtype.kind == "i":
                    self.values[i] = [int(v) for v in a.reshape(-1)]
                    continue
                if op.kind in ("CONV_2D", "CUSTOM") and slot == 1:  # [out, kh, kw, in]
                    t = torch.from_numpy(np.ascontiguousarray(a.transpose(0, 3, 1, 2)))
                    if op.kind == "CUSTOM":  # a transposed convolution: PyTorch wants [in, out, kh, kw]
                        t = t.transpose(0, 1).contiguous()
                elif op.kind == "DEPTHWISE_CONV_2D" and slot == 1:  # [1, kh, kw, out]
                    t = torch.from_numpy(np.ascontiguousarray(a.transpose(3, 0, 1, 2)))
                elif a.ndim == 4:  # an NHWC constant
                    t = torch.from_numpy(np.ascontiguousarray(a.transpose(0, 3, 1, 2)))
                elif a.ndim == 1 and slot > 0 and op.kind in ("ADD", "MUL"):  # per channel: broadcast over NCHW
                    t = torch.from_numpy(a.copy()).reshape(1, -1, 1, 1)
                else:
                    t = torch.from_numpy(a.copy())
                self.register_buffer(f"c{i}", t.float())

    def _get(self, env: dict[int, Tensor], i: int) -> Tensor:
        return env[i] if i in env else getattr(self, f"c{i}")

    def forward(self, x: Tensor) -> Tensor:
        env: dict[int, Tensor] = {self.input_index: x}
        for op in self.ops:
            o = op.options
            if op.kind in ("CONV_2D", "DEPTHWISE_CONV_2D"):
                inp, w = env[op.inputs[0]], self._get(env, op.inputs[1])
                b = self._get(env, op.inputs[2]) if len(op.inputs) > 2 and op.inputs[2] >= 0 else None
                kh, kw = w.shape[2], w.shape[3]
                (sh, sw), (dh, dw) = o["stride"], o.get("dilation", (1, 1))
                if o["padding"] == "SAME":
                    ph = _same_pad(int(inp.shape[2]), int(kh), sh, dh)  # static per input size
                    pw = _same_pad(int(inp.shape[3]), int(kw), sw, dw)
                    if any(ph + pw):
                        inp = F.pad(inp, (pw[0], pw[1], ph[0], ph[1]))
                groups = inp.shape[1] if op.kind == "DEPTHWISE_CONV_2D" else 1
                y = F.conv2d(inp, w, b, (sh, sw), 0, (dh, dw), groups)
                y = _activate(y, o.get("activation"))
            elif op.kind == "CUSTOM":  # Convolution2DTransposeBias: input, weights, bias
                inp, w, b = env[op.inputs[0]], self._get(env, op.inputs[1]), self._get(env, op.inputs[2])
                sh, sw = o["stride"]
                y = F.conv_transpose2d(inp, w, b, (sh, sw))
                if o["padding"] == "SAME":  # crop to input x stride, the extra pixel cut after
                    yh, yw = int(y.shape[2]), int(y.shape[3])
                    th, tw = yh - int(inp.shape[2]) * sh, yw - int(inp.shape[3]) * sw
                    y = y[:, :, th // 2 : yh - (th - th // 2), tw // 2 : yw - (tw - tw // 2)]
            elif op.kind in ("ADD", "MUL"):
                a, b2 = self._get(env, op.inputs[0]), self._get(env, op.inputs[1])
                y = _activate(a + b2 if op.kind == "ADD" else a * b2, o.get("activation"))
            elif op.kind == "HARD_SWISH":
                y = F.hardswish(env[op.inputs[0]])
            elif op.kind == "RELU":
                y = F.relu(env[op.inputs[0]])
            elif op.kind == "LOGISTIC":
                y = torch.sigmoid(env[op.inputs[0]])
            elif op.kind == "AVERAGE_POOL_2D":
                inp = env[op.inputs[0]]
                fh, fw = o["filter"]
                if (fh, fw) == (inp.shape[2], inp.shape[3]):
                    y = inp.mean(dim=(2, 3), keepdim=True)
                else:
                    if o["padding"] == "SAME":
                        raise NotImplementedError("AVERAGE_POOL_2D with SAME padding over part of the image")
                    y = F.avg_pool2d(inp, (fh, fw), o["stride"])
                y = _activate(y, o.get("activation"))
            elif op.kind == "MEAN":
                axes = self.values[op.inputs[1]]
                if sorted(axes) != [1, 2]:
                    raise NotImplementedError(f"MEAN over axes {axes}")
                y = env[op.inputs[0]].mean(dim=(2, 3), keepdim=True)
            elif op.kind == "RESIZE_BILINEAR":
                h, w2 = self.values[op.inputs[1]]
                inp = env[op.inputs[0]]
                if o["align_corners"]:
                    y = F.interpolate(inp, size=(h, w2), mode="bilinear", align_corners=True)
                elif o["half_pixel"]:
                    y = F.interpolate(inp, size=(h, w2), mode="bilinear", align_corners=False)
                else:  # TFLite's legacy sampling: src = dst * in / out (no half-pixel shift)
                    y = _resize_legacy(inp, h, w2)
            else:  # pragma: no cover - refused at load time
                raise NotImplementedError(op.kind)
            env[op.outputs[0]] = y
        return env[self.output_index]


def _resize_legacy(x: Tensor, h: int, w: int) -> Tensor:
    """Bilinear resize with TFLite's default sampling (neither align_corners nor half-pixel centres)."""
    ih, iw = x.shape[2], x.shape[3]
    ys = torch.arange(h, dtype=x.dtype, device=x.device) * (ih / h)
    xs = torch.arange(w, dtype=x.dtype, device=x.device) * (iw / w)
    y0 = ys.floor().clamp(max=ih - 1).long()
    x0 = xs.floor().clamp(max=iw - 1).long()
    y1, x1 = (y0 + 1).clamp(max=ih - 1), (x0 + 1).clamp(max=iw - 1)
    wy = (ys - y0.to(x.dtype)).view(1, 1, h, 1)
    wx = (xs - x0.to(x.dtype)).view(1, 1, 1, w)
    top = x[:, :, y0][:, :, :, x0] * (1 - wx) + x[:, :, y0][:, :, :, x1] * wx
    bottom = x[:, :, y1][:, :, :, x0] * (1 - wx) + x[:, :, y1][:, :, :, x1] * wx
    return top * (1 - wy) + bottom * wy
