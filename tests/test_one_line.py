"""Issue 24 item 6: the inputs that used to end in a traceback end in one line naming the problem (exit 2 from
the CLI, a FlashvidError from the library)."""

from __future__ import annotations

import json
from pathlib import Path

import av
import numpy as np
import pytest

from flashvid.cli import main
from flashvid.errors import FlashvidError


def _video(path: Path, width: int, height: int, frames: int = 3, rate: int = 10) -> Path:
    with av.open(str(path), "w") as c:
        s = c.add_stream("ffv1", rate=rate)
        s.width, s.height, s.pix_fmt = width, height, "bgr0"
        for i in range(frames):
            f = av.VideoFrame.from_ndarray(np.full((height, width, 3), 30 * i, np.uint8), format="rgb24")
            for p in s.encode(f):
                c.mux(p)
        for p in s.encode():
            c.mux(p)
    return path


def _one_line(capsys, *needles: str) -> None:
    err = capsys.readouterr().err
    assert err.startswith("flashvid: error: ") and err.count("\n") == 1 and "Traceback" not in err, err
    assert all(n in err for n in needles), err


@pytest.mark.parametrize(("width", "height"), [(1, 1), (8200, 16), (2, 2046)])
def test_videos_of_odd_sizes_are_one_line(width: int, height: int, tmp_path: Path, capsys) -> None:
    from tests.conftest import keyframe

    clip = _video(tmp_path / "odd.mkv", width, height)
    keyframe().save(tmp_path / "kf.flashkey")
    argv = ["export", "--input", str(clip), "--keyframe", str(tmp_path / "kf.flashkey"), "--out", str(tmp_path / "o")]
    assert main(argv) == 2
    _one_line(capsys, "odd.mkv", f"{width}x{height}")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["kf.flashkey", "odd.mkv"]


def test_an_elongated_bench_size_is_refused_while_parsing(capsys) -> None:
    with pytest.raises(SystemExit) as e:
        main(["bench", "--size", "8192x16", "--random-weights"])
    assert e.value.code == 2
    _one_line(capsys, "8192x16")


def test_an_elongated_keyframe_pair_is_refused() -> None:
    from flashvid.keyframe import make_keyframe

    with pytest.raises(FlashvidError, match="8192x2"):
        make_keyframe(np.zeros((2, 8192, 3), np.uint8), np.zeros((2, 8192, 3), np.uint8))


@pytest.mark.parametrize("config", ["{not json", "[1, 2]"])
def test_a_checkpoint_with_a_bad_config_in_its_metadata_is_one_line(config: str, tmp_path: Path) -> None:
    from safetensors.torch import load_file, save_file

    from flashvid.errors import CheckpointError
    from flashvid.network import build_model, save_checkpoint
    from flashvid.network.build import read_checkpoint_metadata

    path = tmp_path / "m.safetensors"
    save_checkpoint(build_model("flashvid-rt"), path)
    meta = {**read_checkpoint_metadata(path), "config": config}
    save_file(load_file(str(path)), str(path), metadata=meta)
    with pytest.raises(CheckpointError, match="configuration"):
        build_model("flashvid-rt", path)


def test_a_keyframe_whose_settings_are_a_list_is_one_line(tmp_path: Path, capsys) -> None:
    from safetensors.numpy import load_file, save_file

    from tests.conftest import keyframe

    kf = tmp_path / "kf.flashkey"
    keyframe().save(kf)
    from safetensors import safe_open

    with safe_open(str(kf), framework="numpy") as f:
        meta = dict(f.metadata())
    save_file(load_file(str(kf)), str(kf), metadata={**meta, "settings": json.dumps([1, 2])})
    from tests.conftest import make_video

    make_video(tmp_path / "in.mp4", frames=2)
    argv = ["export", "--input", str(tmp_path / "in.mp4"), "--keyframe", str(kf), "--band", "9"]
    assert main([*argv, "--out", str(tmp_path / "o.mp4")]) == 2
    _one_line(capsys, "kf.flashkey", "damaged keyframe")


def test_a_udp_address_with_options_in_the_wrong_place_is_refused_while_parsing(capsys) -> None:
    with pytest.raises(SystemExit) as e:
        main(["stream", "--to", "udp://host?x=1:5000", "--keyframe", "k"])
    assert e.value.code == 2
    _one_line(capsys, "udp://HOST:PORT")


def test_a_video_at_an_absurd_rate_is_one_line(tmp_path: Path, capsys) -> None:
    from tests.conftest import keyframe

    clip = _video(tmp_path / "fast.mkv", 64, 48, rate=100000)
    keyframe().save(tmp_path / "kf.flashkey")
    argv = ["export", "--input", str(clip), "--keyframe", str(tmp_path / "kf.flashkey"), "--format", "webm"]
    assert main([*argv, "--out", str(tmp_path / "o.webm")]) == 2
    _one_line(capsys, "frames a second")


def test_library_misuse_is_one_line() -> None:
    from flashvid import FlashMatter, matte_video
    from tests.conftest import keyframe

    matter = FlashMatter(random_weights=True)
    with pytest.raises(FlashvidError, match=r"Keyframe\.load"):
        matter.set_keyframe("kf.flashkey")  # type: ignore[arg-type]
    matter.set_keyframe(keyframe())
    with pytest.raises(FlashvidError, match="0x0"):
        matter.process(np.zeros((0, 0, 3), np.uint8))
    frames = [np.zeros((48, 64, 3), np.uint8)] * 2  # a Python list of frames is frames, not a path
    stats = matte_video(frames, keyframe=keyframe().with_band(4), background="#00ff00", matter=matter)
    assert stats.frames_written == 2


@pytest.mark.parametrize(
    "argv",
    [
        "train --out OUT --steps 0",
        "train --out OUT --threads -1",
        "train --out OUT --device banana",
        "eval --size 0",
        "eval --clips 0",
        "eval --json DIR",
        "eval --outside --camera tilt",
    ],
)
def test_training_and_eval_arguments_are_refused_while_parsing(argv: str, tmp_path: Path, capsys) -> None:
    args = argv.replace("OUT", str(tmp_path / "run")).replace("DIR", str(tmp_path)).split()
    with pytest.raises(SystemExit) as e:
        main(args)
    assert e.value.code == 2
    _one_line(capsys)
    assert not (tmp_path / "run").exists()


def test_a_camera_without_the_outside_clips_is_one_line(capsys) -> None:
    assert main(["eval", "--camera", "pan"]) == 2
    _one_line(capsys, "--camera pan", "add --outside")


@pytest.mark.parametrize("content", ["{not json", "[1, 2]", '{"steps": "many"}', '{"foregrounds": 3}'])
def test_a_bad_training_config_is_one_line(content: str, tmp_path: Path, capsys) -> None:
    cfg = tmp_path / "bad.json"
    cfg.write_text(content)
    for command in (["train", "--out", str(tmp_path / "run")], ["eval"]):
        assert main([*command, "--config", str(cfg)]) == 2
        _one_line(capsys, "bad.json")
    assert not (tmp_path / "run").exists()


def test_a_damaged_last_pt_is_one_line(tmp_path: Path, capsys) -> None:
    run = tmp_path / "run"
    run.mkdir()
    (run / "last.pt").write_bytes(b"not a checkpoint")
    cfg = tmp_path / "tiny.json"
    cfg.write_text(json.dumps({"size": 64, "frames": 2, "batch": 1, "steps": 1, "val_clips": 1, "workers": 0}))
    assert main(["train", "--config", str(cfg), "--out", str(run), "--resume"]) == 2
    _one_line(capsys, "last.pt", "resume")
