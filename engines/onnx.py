"""ONNX export of a model's per-frame path, and an ONNX Runtime runner.

Inputs are named ``frame, k0..kN, r0i..rMi`` and outputs ``alpha, fgr, r0o..rMo``; the frame's height and
width (and so the recurrent state's) are dynamic, the keyframe tensors are fixed per keyframe.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from flashvid.engines.base import register
from torch import nn

from flashvid.imageio import atomic_output
from flashvid.network.interface import MattingModel

OPSET = 17


def io_names(num_keyframe: int, num_state: int) -> tuple[list[str], list[str]]:
    """(input names, output names) of the per-frame graph."""
    inputs = ["frame", *(f"k{i}" for i in range(num_keyframe)), *(f"r{i}i" for i in range(num_state))]
    outputs = ["alpha", "fgr", *(f"r{i}o" for i in range(num_state))]
    return inputs, outputs


#: export in a child process: PyTorch's ONNX exporter holds the GIL for up to a second in its graph passes, which
#: freezes a GUI thread beside it (the studio sets this; the command line exports in its own process anyway)
EXPORT_IN_CHILD = False


def export_onnx(
    model: Any,  # an nn.Module with the MattingModel interface
    frame: torch.Tensor,
    keyframe: tuple[torch.Tensor, ...],
    path: str | os.PathLike[str],
    opset: int = OPSET,
) -> Path:
    """Export ``model(frame, *keyframe, *rec)`` to `path` with dynamic frame size (in a child process when
    `EXPORT_IN_CHILD`).

    Args:
        model: a built model in eval mode (its `downsample_ratio`, if any, is baked into the graph).
        frame: an example frame [B,3,H,W] in 0..1; keyframe: its cached keyframe tensors.
    """
    if EXPORT_IN_CHILD:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
            return pool.submit(_export_here, model, frame, tuple(keyframe), os.fspath(path), opset).result()
    return _export_here(model, frame, keyframe, path, opset)


def _export_here(
    model: Any, frame: torch.Tensor, keyframe: tuple[torch.Tensor, ...], path: str | os.PathLike[str], opset: int
) -> Path:
    rec = model.initial_state(frame)
    inputs, outputs = io_names(len(keyframe), len(rec))
    dynamic: dict[str, dict[int, str]] = {
        "frame": {2: "height", 3: "width"},
        "alpha": {2: "height", 3: "width"},
        "fgr": {2: "height", 3: "width"},
    }
    for i in range(len(rec)):
        dynamic[f"r{i}i"] = {2: f"r{i}h", 3: f"r{i}w"}
        dynamic[f"r{i}o"] = {2: f"r{i}h", 3: f"r{i}w"}
    for i in range(len(keyframe)):
        dynamic[f"k{i}"] = {d: f"k{i}d{d}" for d in range(1, keyframe[i].dim())}
    with atomic_output(path) as tmp, warnings.catch_warnings(), torch.inference_mode(False), torch.no_grad():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            model,
            (frame, *keyframe, *rec),
            str(tmp),
            input_names=inputs,
            output_names=outputs,
            dynamic_axes=dynamic,
            opset_version=opset,
            dynamo=False,
        )
        import onnx

        graph = onnx.load(str(tmp))
        if fold_pads_into_convs(graph):
            onnx.save(graph, str(tmp))
    return Path(path)


def _constant_value(model: Any, name: str, producers: dict[str, Any], inits: dict[str, Any]) -> Any:
    """The value of tensor `name` of `model` (a numpy array) when it depends on constants only, else None;
    `producers` maps each tensor to the node making it, `inits` names the initialisers."""
    import onnx
    from onnx import numpy_helper
    from onnx.reference import ReferenceEvaluator

    graph = model.graph
    if name in inits:
        return numpy_helper.to_array(inits[name])
    needed, todo, used_inits = [], [name], []
    seen: set[str] = set()
    while todo:
        t = todo.pop()
        if t in seen or not t:
            continue
        seen.add(t)
        if t in inits:
            used_inits.append(inits[t])
            continue
        node = producers.get(t)
        if node is None:  # a graph input: not constant
            return None
        needed.append(node)
        todo += list(node.input)
    ids = {id(n) for n in needed}
    order = [n for n in graph.node if id(n) in ids]  # in the graph's topological order
    out = onnx.helper.make_tensor_value_info(name, onnx.TensorProto.UNDEFINED, None)
    sub = onnx.helper.make_model(
        onnx.helper.make_graph(order, "constant", [], [out], initializer=used_inits),
        opset_imports=list(model.opset_import),
    )
    values: Any = ReferenceEvaluator(sub).run(None, {})
    return values[0]


def fold_pads_into_convs(model: Any) -> int:
    """Fold zero `Pad` nodes that feed only a `Conv` into the convolution's own (asymmetric) `pads`, in place.

    The TensorFlow-style SAME padding of the MobileNetV2 encoder (one pixel at the bottom and right before each
    stride-2 convolution) exports as a separate Pad whose amounts are computed by a chain of constant nodes;
    ONNX Runtime then copies the whole feature map once per pad. ONNX's Conv takes begin and end pads itself,
    so the result is the same without the copy. Returns how many pads were folded (the dead constant chains
    are removed as well)."""
    import onnx

    graph = model.graph
    uses: dict[str, list[Any]] = {}
    for n in graph.node:
        for i in n.input:
            uses.setdefault(i, []).append(n)
    outputs = {o.name for o in graph.output}
    producers = {o: n for n in graph.node for o in n.output}
    inits = {i.name: i for i in graph.initializer}
    folded = []
    for pad in [n for n in graph.node if n.op_type == "Pad"]:
        mode = next((onnx.helper.get_attribute_value(a) for a in pad.attribute if a.name == "mode"), b"constant")
        users = uses.get(pad.output[0], [])
        if mode != b"constant" or pad.output[0] in outputs or len(users) != 1 or users[0].op_type != "Conv":
            continue
        if len(pad.input) > 3 and pad.input[3]:  # opset 18 axes
            continue
        has_value = len(pad.input) > 2 and pad.input[2]
        value = _constant_value(model, pad.input[2], producers, inits) if has_value else 0.0
        amounts = _constant_value(model, pad.input[1], producers, inits)
        if amounts is None or value is None or float(value) != 0.0:
            continue
        rank = len(amounts) // 2
        begin, end = [int(v) for v in amounts[:rank]], [int(v) for v in amounts[rank:]]
        conv = users[0]
        attrs = {a.name: onnx.helper.get_attribute_value(a) for a in conv.attribute}
        if (
            min(begin + end) < 0
            or begin[:2] != [0, 0]
            or end[:2] != [0, 0]
            or attrs.get("auto_pad", b"NOTSET") != b"NOTSET"
        ):
            continue
        old = list(attrs.get("pads", [0] * (2 * (rank - 2))))
        k = rank - 2
        new = [old[i] + begin[2 + i] for i in range(k)] + [old[k + i] + end[2 + i] for i in range(k)]
        for a in list(conv.attribute):
            if a.name == "pads":
                conv.attribute.remove(a)
        conv.attribute.append(onnx.helper.make_attribute("pads", new))
        conv.input[0] = pad.input[0]
        folded.append(pad)
    for pad in folded:
        graph.node.remove(pad)
    if folded:  # drop what only fed the folded pads
        while True:
            live = {i for n in graph.node for i in n.input} | outputs
            dead = [n for n in graph.node if not any(o in live for o in n.output)]
            if not dead:
                break
            for n in dead:
                graph.node.remove(n)
    return len(folded)


def providers() -> list[str]:
    """ONNX Runtime execution providers present, best first (TensorRT, CUDA, then CPU)."""
    import onnxruntime as ort

    have = ort.get_available_providers()
    return [p for p in ("TensorrtExecutionProvider", "CUDAExecutionProvider", "CPUExecutionProvider") if p in have]


def session_options(spinning: bool = True) -> Any:
    """ONNX Runtime session options: every graph optimisation, this process's PyTorch thread count; without
    `spinning` the threads sleep between runs (for timing runs interleaved with other work)."""
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    opts.intra_op_num_threads = torch.get_num_threads()
    if not spinning:
        opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return opts


class OnnxRunner:
    """Runs the exported per-frame graph in ONNX Runtime; the keyframe is encoded once in eager PyTorch.

    A graph holds what depends on the frame's size as constants (the person prior's letterbox), so a frame of
    another size gets its own graph: `session_for(frame)` exports (or takes from the cache) the one for it."""

    engine_name = "onnx"

    def __init__(
        self,
        model: MattingModel,
        session_for: Callable[[torch.Tensor], Any],
        frame: torch.Tensor,
        device: torch.device,
        num_keyframe: int,
        num_state: int,
    ) -> None:
        self.model, self.session_for, self.device, self.dtype = model, session_for, device, torch.float32
        self.session, self.shape = session_for(frame), tuple(frame.shape)
        self.inputs, self.outputs = io_names(num_keyframe, num_state)

    @torch.inference_mode()
    def encode_keyframe(
        self, flash: torch.Tensor, trimap_onehot: torch.Tensor, noflash: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, ...]:
        nf = None if noflash is None else noflash.float().cpu()
        return tuple(self.model.encode_keyframe(flash.float().cpu(), trimap_onehot.float().cpu(), nf))

    def initial_state(self, frame: torch.Tensor) -> list[torch.Tensor]:
        return self.model.initial_state(frame.float().cpu())

    def __call__(self, frame: torch.Tensor, *args: torch.Tensor) -> tuple[torch.Tensor, ...]:
        if tuple(frame.shape) != self.shape:
            self.session, self.shape = self.session_for(frame.float().cpu()), tuple(frame.shape)
        feed = {n: t.detach().float().cpu().numpy() for n, t in zip(self.inputs, (frame, *args))}
        return tuple(torch.from_numpy(a).to(self.device) for a in self.session.run(self.outputs, feed))


@register("onnx")
class OnnxEngine:
    name = "onnx"

    def available(self, device: torch.device) -> tuple[bool, str]:
        try:
            import onnxruntime  # noqa: F401
        except ImportError:
            return False, "ONNX Runtime is not installed (pip install 'flashvid[onnx]')"
        return True, f"ONNX Runtime with {', '.join(providers())}"

    def build(self, model: nn.Module, example_frame: torch.Tensor, precision: str, device: torch.device) -> OnnxRunner:
        import onnxruntime as ort
        from flashvid.engines.base import EngineError
        from flashvid.engines.cache import cached, weights_hash

        if precision != "fp32":
            raise EngineError("the onnx engine runs fp32; use tensorrt (or eager / compiled on CUDA) for fp16")
        model = model.float().cpu().eval()
        m: Any = model  # a flashvid model: encode_keyframe / initial_state / ratio_for besides forward
        frame = example_frame.float().cpu()
        if hasattr(m, "downsample_ratio") and m.downsample_ratio is None:
            m.downsample_ratio = m.ratio_for(frame.shape[2], frame.shape[3])  # baked into the graph
        opts = session_options()
        weights = weights_hash(model)

        def session_for(example: torch.Tensor) -> Any:
            tri = torch.zeros_like(example)
            tri[:, 1] = 1
            with torch.inference_mode():
                kf = tuple(m.encode_keyframe(example, tri))
            fields = {
                "engine": "onnx",
                "weights": weights,
                "frame_shape": list(example.shape),
                "keyframe_shapes": [list(t.shape) for t in kf],
                "opset": OPSET,
                "torch": torch.__version__,
                "onnxruntime": ort.__version__,
            }
            session, _ = cached(
                fields,
                ".onnx",
                lambda p: export_onnx(m, example, kf, p),
                lambda p: ort.InferenceSession(str(p), opts, providers=providers()),
            )
            return session

        tri = torch.zeros_like(frame)
        tri[:, 1] = 1
        with torch.inference_mode():
            num_keyframe = len(m.encode_keyframe(frame, tri))
        return OnnxRunner(m, session_for, frame, device, num_keyframe, len(m.initial_state(frame)))
