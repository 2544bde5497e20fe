"""Engines: parity with eager at a shape other than the build shape, the engine cache, auto, FlashMatter."""

from __future__ import annotations

import copy
import json
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from flashvid.engines import ENGINES, build_runner, get_engine
from flashvid.engines.base import EngineError
from flashvid.engines.cache import cached, entry_key, weights_hash

from flashvid.network import build_model

BUILD_HW, RUN_HW = (144, 256), (120, 200)


def _inputs(h: int, w: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    frame = torch.rand(1, 3, h, w, generator=g)
    tri = torch.zeros(1, 3, h, w)
    tri[:, 0] = 1
    tri[:, 0, h // 4 : 3 * h // 4, w // 4 : 3 * w // 4] = 0
    tri[:, 2, h // 4 : 3 * h // 4, w // 4 : 3 * w // 4] = 1
    return frame, tri


def _two_frames(runner, model) -> list[torch.Tensor]:
    frame, tri = _inputs(*RUN_HW, seed=1)
    kf = runner.encode_keyframe(frame, tri)
    rec = runner.initial_state(frame)
    outs = []
    for s in (2, 3):
        f = _inputs(*RUN_HW, seed=s)[0]
        alpha, fgr, *rec = runner(f, *kf, *rec)
        outs += [alpha.float().cpu(), fgr.float().cpu()]
    return outs


@pytest.fixture(scope="module", autouse=True)
def _cache(tmp_path_factory: pytest.TempPathFactory) -> None:
    mp = pytest.MonkeyPatch()
    mp.setenv("FLASHVID_CACHE", str(tmp_path_factory.mktemp("engine-cache")))
    yield
    mp.undo()


@pytest.mark.parametrize("engine", ["onnx", pytest.param("compiled", marks=pytest.mark.slow), "tensorrt", "auto"])
def test_engine_matches_eager_at_another_shape(engine: str) -> None:
    device = torch.device("cuda" if engine == "tensorrt" and torch.cuda.is_available() else "cpu")
    ok, why = get_engine(engine).available(device)
    if not ok:
        pytest.skip(why)
    torch.manual_seed(0)
    model = build_model("flashvid-rt")
    model.downsample_ratio = 0.75  # one ratio for both shapes (the ONNX graph bakes it in)
    ref = _two_frames(build_runner("flashvid-rt", engine="eager", model=copy.deepcopy(model)), model)
    frame = _inputs(*BUILD_HW, seed=0)[0]
    precision = "fp16" if engine == "tensorrt" else "fp32"
    runner = build_runner(
        "flashvid-rt",
        engine=engine,
        model=copy.deepcopy(model),
        example_frame=frame,
        precision=precision,
        device=device,
    )
    got = _two_frames(runner, model)
    tol = 1e-2 if precision == "fp16" else 1e-3
    for a, b in zip(got, ref):
        assert a.shape == b.shape
        torch.testing.assert_close(a, b, rtol=0, atol=tol)


def test_cache_rebuilds_damaged_or_mismatched_entries(tmp_path: Path) -> None:
    builds = []

    def build(p: Path) -> None:
        builds.append(p)
        p.write_text("engine-bytes")

    def load(p: Path) -> str:
        text = p.read_text()
        if text != "engine-bytes":
            raise RuntimeError("damaged")
        return text

    fields = {"engine": "x", "weights": "abc", "shape": [1, 3, 8, 8]}
    assert cached(fields, ".bin", build, load, tmp_path) == ("engine-bytes", False)
    assert cached(fields, ".bin", build, load, tmp_path) == ("engine-bytes", True)
    key = entry_key(fields)
    (tmp_path / f"{key}.bin").write_text("garbage")  # damaged entry: rebuilt, no crash
    assert cached(fields, ".bin", build, load, tmp_path) == ("engine-bytes", False)
    (tmp_path / f"{key}.json").write_text(json.dumps({**fields, "weights": "other"}))  # mismatched record
    assert cached(fields, ".bin", build, load, tmp_path) == ("engine-bytes", False)
    assert len(builds) == 3 and not any(p.name.startswith(".") for p in tmp_path.iterdir())


def test_weights_hash_follows_weights_and_config() -> None:
    torch.manual_seed(0)
    a = build_model("flashvid-rt")
    torch.manual_seed(0)
    b = build_model("flashvid-rt")
    assert weights_hash(a) == weights_hash(b)
    with torch.no_grad():
        b.heads.matte.bias += 1e-3
    assert weights_hash(a) != weights_hash(b)


def test_engine_registry_and_errors() -> None:
    assert {"eager", "compiled", "onnx", "tensorrt", "auto"} <= set(ENGINES)
    with pytest.raises(EngineError, match="unknown engine"):
        get_engine("nope")
    with pytest.raises(EngineError, match="fp16 runs on CUDA only"):
        build_runner("flashvid-rt", engine="eager", precision="fp16")
    if not torch.cuda.is_available():
        assert get_engine("tensorrt").available(torch.device("cpu"))[0] is False


def test_bf16_eager_on_cpu_is_close() -> None:
    torch.manual_seed(0)
    model = build_model("flashvid-rt")
    ref = _two_frames(build_runner("flashvid-rt", engine="eager", model=model), model)
    torch.manual_seed(0)
    m2 = build_model("flashvid-rt")
    got = _two_frames(build_runner("flashvid-rt", engine="eager", model=m2, precision="bf16"), m2)
    for a, b in zip(got, ref):
        assert float((a - b).abs().mean()) < 2e-2


def test_bench_reports_every_field(tmp_path: Path) -> None:
    from flashvid.bench import bench_file_pipeline, bench_one, format_table, write_json

    r = bench_one("flashvid-rt", 96, 64, frames=3, warmup=1)
    assert r.frames == 3 and r.median_ms > 0 and r.p90_ms >= r.median_ms and r.fps > 0 and r.peak_host_mb > 0
    assert "96x64" in format_table([r])
    write_json([r], tmp_path / "b.json")
    assert json.loads((tmp_path / "b.json").read_text())["results"][0]["model"] == "flashvid-rt"
    e2e = bench_file_pipeline("flashvid-rt", 96, 64, frames=4)
    assert e2e["frames"] == 4 and e2e["fps"] > 0


def test_auto_measures_once_and_keeps_its_choice(tmp_path: Path, monkeypatch) -> None:
    """`auto` on the CPU probes eager against ONNX Runtime, caches the winner, and the next build reads the cache
    (building only that engine) instead of measuring again."""
    import json

    pytest.importorskip("onnxruntime")
    import flashvid.engines.auto as auto

    monkeypatch.setenv("FLASHVID_CACHE", str(tmp_path))
    model = build_model("flashvid-rt").eval()
    frame = torch.rand(1, 3, 64, 96)
    probes: list[int] = []
    real = auto._probe
    monkeypatch.setattr(auto, "_probe", lambda r, f, rounds=5: probes.append(len(r)) or real(r, f, rounds))
    first = auto.AutoEngine().build(model, frame, "fp32", torch.device("cpu"))
    assert probes == [2]  # eager and onnx measured, in turn
    (choice,) = tmp_path.glob("*.choice")
    picked = json.loads(choice.read_text())
    assert first.engine_name == picked["engine"] and set(picked["ms_per_frame"]) == {"eager", "onnx"}
    second = auto.AutoEngine().build(model, frame, "fp32", torch.device("cpu"))
    assert probes == [2] and second.engine_name == picked["engine"]


def test_auto_measures_again_what_it_measured_under_load_or_long_ago(tmp_path: Path, monkeypatch) -> None:
    """Issue 25.5: under load `auto` chose eager at 256 px and kept that for good. A choice measured on a busy
    machine is measured again once the machine is quiet, an old one after `EXPIRES_DAYS`, and two close timings
    keep eager (no flip-flopping)."""
    import flashvid.engines.auto as auto

    path = tmp_path / "c.choice"
    now = time.time()
    busy = {"engine": "eager", "ms_per_frame": {"eager": 9.0, "onnx": 12.0}, "load": 3.0, "measured": now}
    path.write_text(json.dumps(busy))
    monkeypatch.setattr(auto, "machine_load", lambda: 0.1)
    with pytest.raises(ValueError, match="busy"):
        auto._read_choice(path)
    monkeypatch.setattr(auto, "machine_load", lambda: 2.5)  # still busy: keep it for now
    assert auto._read_choice(path)["engine"] == "eager"
    path.write_text(json.dumps({**busy, "load": 0.2, "measured": now - (auto.EXPIRES_DAYS + 1) * 86400}))
    with pytest.raises(ValueError, match="days ago"):
        auto._read_choice(path)

    class Fake:
        def __init__(self, delays: list[float]) -> None:
            self.delays = delays

        def encode_keyframe(self, frame, tri):
            return ()

        def initial_state(self, frame):
            return []

        def __call__(self, frame, *args):
            time.sleep(self.delays.pop(0) if self.delays else 0.001)
            return (None, None)

    # a load spike on a single round does not decide: the best round of each counts
    times = auto._probe(
        {"a": Fake([0, 0.05, 0.002, 0.002]), "b": Fake([0, 0.004, 0.004, 0.004])}, torch.zeros(1, 3, 4, 4), rounds=3
    )
    assert times["a"] < times["b"]


def test_rvm_side_by_side_covers_onnx_for_both() -> None:
    """`flashvid bench --compare-rvm` times both networks on the same engines in one run, ONNX Runtime included,
    so each model's best CPU engine can be set against the other's."""
    pytest.importorskip("onnxruntime")
    from flashvid.bench import bench_rvm_side_by_side

    rows = bench_rvm_side_by_side(128, 72, frames=2, warmup=1, compiled=False, onnx=True)
    names = [r["model"] for r in rows]
    assert names == [
        "flashvid-rt eager",
        "RVM-MobileNetV3 eager (ratio 0.375)",
        "flashvid-rt onnx",
        "RVM-MobileNetV3 onnx (ratio 0.375)",
    ]
    assert all(float(r["median_ms"]) > 0 and r["size"] == "128x72" for r in rows)


def test_a_cache_file_put_in_place_of_a_built_one_is_never_opened(tmp_path: Path) -> None:
    """Issue 24 item 2: the record holds the SHA-256 of what was built; a crafted file with a matching key and
    record (a poisoned graph, a program that would unpickle code) is rebuilt without being handed to the loader."""
    opened: list[str] = []

    def build(p: Path) -> None:
        p.write_text("our engine")

    def load(p: Path) -> str:
        opened.append(p.read_text())
        return opened[-1]

    fields = {"engine": "x", "weights": "abc"}
    assert cached(fields, ".ep", build, load, tmp_path) == ("our engine", False)
    key = entry_key(fields)
    (tmp_path / f"{key}.ep").write_text("crafted: would run code when loaded")
    assert cached(fields, ".ep", build, load, tmp_path) == ("our engine", False)
    assert "crafted: would run code when loaded" not in opened
    record = json.loads((tmp_path / f"{key}.json").read_text())
    assert set(record) == {"fields", "sha256"} and len(record["sha256"]) == 64


def test_a_cached_engine_choice_of_the_wrong_shape_is_remeasured(tmp_path: Path, monkeypatch) -> None:
    """Issue 24 item 6: a .choice of another JSON shape no longer makes every run fail until the cache is cleared."""
    from flashvid.engines.auto import _read_choice

    good = tmp_path / "good.choice"
    good.write_text(
        json.dumps({"engine": "onnx", "ms_per_frame": {"onnx": 3.0, "eager": 5.0}, "measured": time.time()})
    )
    assert _read_choice(good)["engine"] == "onnx"
    for bad in ("[1, 2]", '{"engine": 3}', '{"engine": "onnx", "ms_per_frame": [1]}', '"onnx"'):
        p = tmp_path / "bad.choice"
        p.write_text(bad)
        with pytest.raises(ValueError):
            _read_choice(p)


@pytest.mark.parametrize("engine", ["onnx", "tensorrt"])
def test_a_keyframe_of_another_size_than_the_frames_runs_on_every_engine(engine: str) -> None:
    """A 640x360 keyframe with 640x480 frames (the studio said "it will be stretched") failed in ONNX Runtime at a
    Sub node: the graph, traced for its frames, got keyframe tensors of the keyframe's geometry. `FlashMatter` now
    encodes the keyframe stretched to the frames' size (once per size), and eager and the engine agree."""
    from flashvid import FlashMatter
    from tests.conftest import keyframe

    device = "cuda" if engine == "tensorrt" and torch.cuda.is_available() else "cpu"
    ok, why = get_engine(engine).available(torch.device(device))
    if not ok:
        pytest.skip(why)
    kf = keyframe(48, 96)  # 2:1
    frames = [np.random.default_rng(i).integers(0, 256, (72, 96, 3), np.uint8) for i in range(2)]  # 4:3
    mattes = {}
    for name in ("eager", engine):
        matter = FlashMatter(model="flashvid-rt", engine=name, device=device)  # the shipped weights
        matter.set_keyframe(kf)
        mattes[name] = [matter.process(f).alpha for f in frames]
        assert mattes[name][0].shape == (72, 96)
    for a, b in zip(mattes[engine], mattes["eager"], strict=True):
        assert np.abs(a - b).max() < (2e-2 if engine == "tensorrt" else 1e-3)
