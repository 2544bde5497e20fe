"""Issue 14: every user mistake is one line on stderr and exit status 2, before any work; nothing is lost; no
stranger's code runs. Each case runs the real command line (`main`) and checks the status, the one line without a
traceback, and the files left."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from flashvid.cli import main
from flashvid.errors import CheckpointError

BAD_ARGS = [
    ("keyframe --flash F --noflash N --out K --band 0", "--band"),
    ("keyframe --flash F --noflash N --out K --band -5", "--band"),
    ("keyframe --flash F --noflash N --out K --band 100000", "--band"),
    ("keyframe --flash F --noflash N --out K --threshold 2", "--threshold"),
    ("bench --size 0x0", "--size"),
    ("bench --size abc", "--size"),
    ("bench --size 100000x100000", "--size"),
    ("bench --frames 0", "--frames"),
    ("bench --threads -1", "--threads"),
    ("bench --json /no/such/folder/b.json", "--json"),
    ("export --input I --keyframe K --out O --internal-size -8", "--internal-size"),
    ("export --input I --keyframe K --out O --background blur:nan", "--background"),
    ("export --input I --keyframe K --out O --background blur:-5", "--background"),
    ("export --input I --keyframe K --out O --background #12", "--background"),
    ("export --input I --keyframe K --out O --smooth -3", "--smooth"),
    ("export --input I --keyframe K --out O --despill 7", "--despill"),
    ("export --input I --keyframe K --out O --device gpu", "--device"),
    ("stream --to udp://127.0.0.1", "--to"),
    ("stream --to udp://127.0.0.1:99999", "--to"),
    ("export --input I --keyframe K --out O --engine warp", "--engine"),
]


@pytest.mark.parametrize("argv,names", BAD_ARGS, ids=[a for a, _ in BAD_ARGS])
def test_bad_arguments_fail_in_one_line_at_parse_time(argv: str, names: str, capsys, tmp_path: Path) -> None:
    os.chdir(tmp_path)
    t0 = time.perf_counter()
    with pytest.raises(SystemExit) as exit_info:
        main(argv.split())
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("flashvid: error: ") and err.count("\n") == 1 and "Traceback" not in err, err
    assert names in err
    assert time.perf_counter() - t0 < 5  # no work was done (generous: a loaded CI machine)
    assert list(tmp_path.iterdir()) == []


def _small_export(tmp_path: Path, *extra: str) -> list[str]:
    """`flashvid export` arguments for a 4-frame clip and a keyframe written into `tmp_path`, plus `extra`."""
    from tests.conftest import keyframe, make_video

    make_video(tmp_path / "in.mp4", frames=4)
    keyframe().save(tmp_path / "kf.flashkey")
    argv = ["export", "--input", str(tmp_path / "in.mp4"), "--keyframe", str(tmp_path / "kf.flashkey")]
    return [*argv, "--out", str(tmp_path / "o.mp4"), *extra]


def test_device_cuda_without_a_gpu_is_one_line(tmp_path: Path, capsys) -> None:
    import torch

    if torch.cuda.is_available():
        pytest.skip("a GPU is present")

    code = main(_small_export(tmp_path, "--device", "cuda"))
    err = capsys.readouterr().err
    assert code == 2 and "no CUDA GPU" in err and err.count("\n") == 1
    assert not (tmp_path / "o.mp4").exists()


def test_dfm_official_without_weights_is_refused(tmp_path: Path, capsys) -> None:

    code = main(_small_export(tmp_path, "--model", "dfm-official"))
    err = capsys.readouterr().err
    assert code == 2 and "no weights for dfm-official" in err and "--checkpoint" in err
    assert not (tmp_path / "o.mp4").exists()


def test_stream_to_a_window_without_a_display(tmp_path: Path) -> None:
    from tests.conftest import keyframe, make_video

    make_video(tmp_path / "in.mp4", frames=4)
    keyframe().save(tmp_path / "kf.flashkey")
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "flashvid.cli",
            "stream",
            "--camera",
            str(tmp_path / "in.mp4"),
            "--keyframe",
            str(tmp_path / "kf.flashkey"),
            "--to",
            "window",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert r.returncode == 2, r.stderr
    lines = [line for line in r.stderr.splitlines() if line.strip()]
    assert lines[-1].startswith("flashvid: error: --to window needs a display") and "Traceback" not in r.stderr


class _Payload:
    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_training_resume_never_unpickles_code(tmp_path: Path) -> None:
    """A crafted OUT/last.pt whose unpickling would run a command: resume refuses it, the command never runs."""
    import torch

    from flashvid.training.train import load_config, train

    marker = tmp_path / "pwned"
    payload = _Payload()
    payload.marker = marker
    out = tmp_path / "run"
    out.mkdir()
    torch.save({"model": payload, "step": 1}, out / "last.pt")
    cfg = load_config(None, steps=1, size=64, frames=1, batch=1, val_clips=1, workers=0)
    with pytest.raises(CheckpointError, match="cannot resume"):  # one line for the user (issue 24), no code run
        train(cfg, out, resume=True, log=lambda *_: None)
    assert not marker.exists()


def test_keyframe_outputs_appear_together_or_not_at_all(tmp_path: Path, capsys) -> None:
    from flashvid.imageio import write_image
    from flashvid.training.data.synth import FlashLight, synthetic_pair

    pair = synthetic_pair(120, 160, seed=2, light=FlashLight(d_ratio=4.0, power=2.5, exposure_f=0.33))
    write_image(tmp_path / "f.png", pair.flash)
    write_image(tmp_path / "n.png", pair.noflash)
    base = ["keyframe", "--flash", str(tmp_path / "f.png"), "--noflash", str(tmp_path / "n.png"), "--out"]
    # /proc exists but takes no new files, even for root: the write fails after all the work; nothing stays
    code = main([*base, "/proc/k.flashkey"])
    err = capsys.readouterr().err
    assert code == 2 and "cannot write" in err and err.count("\n") == 1 and "Traceback" not in err
    assert not Path("/proc/k_mask.png").exists() and not Path("/proc/k.flashkey").exists()
    assert main([*base, str(tmp_path / "k.flashkey")]) == 0
    names = sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("k"))
    assert names == ["k.flashkey", "k_mask.png", "k_ratio.png", "k_trimap.png"]


@pytest.mark.parametrize(
    "field,value,words",
    [
        ("flash", lambda a: a[..., 0], "flash is"),
        ("flash", lambda a: a.astype(np.float32), "flash is"),
        ("ratio", lambda a: np.full_like(a, np.nan), "not finite"),
        (
            "trimap",
            lambda a: np.where(np.arange(a.size).reshape(a.shape) == 0, 77, a).astype(np.uint8),
            "trimap values",
        ),
        ("mask", lambda a: (a * 3).astype(np.uint8), "mask values"),
    ],
    ids=["2-D flash", "float flash", "NaN ratio", "trimap 77", "mask 3"],
)
def test_crafted_keyframe_files_are_refused_on_load(tmp_path: Path, field, value, words) -> None:
    from safetensors import safe_open
    from safetensors.numpy import load_file, save_file

    from flashvid.keyframe import Keyframe, KeyframeError
    from tests.conftest import keyframe

    good = tmp_path / "good.flashkey"
    keyframe().save(good)
    arrays = load_file(str(good))
    with safe_open(str(good), framework="numpy") as f:
        meta = f.metadata()
    arrays[field] = np.ascontiguousarray(value(arrays[field]))
    bad = tmp_path / "bad.flashkey"
    save_file(arrays, str(bad), metadata=meta)
    Keyframe.load(good)
    with pytest.raises(KeyframeError, match=words):
        Keyframe.load(bad)


def test_truncated_input_exports_what_decodes_and_says_so(tmp_path: Path, capsys) -> None:
    """A cut-off input (a Matroska file cut in half: still readable): the export keeps every frame that decodes,
    warns in one line naming the file and the count, and exits with status 3."""
    import av

    from tests.conftest import keyframe

    rng = np.random.default_rng(0)
    with av.open(str(tmp_path / "full.mkv"), "w") as o:
        s = o.add_stream("libx264", rate=30)
        s.width, s.height, s.pix_fmt = 96, 64, "yuv420p"
        for _ in range(40):
            for p in s.encode(av.VideoFrame.from_ndarray(rng.integers(0, 256, (64, 96, 3), dtype=np.uint8), "rgb24")):
                o.mux(p)
        for p in s.encode():
            o.mux(p)
    data = (tmp_path / "full.mkv").read_bytes()
    (tmp_path / "cut.mkv").write_bytes(data[: len(data) // 2])
    keyframe().save(tmp_path / "kf.flashkey")
    argv = ["export", "--input", str(tmp_path / "cut.mkv"), "--keyframe", str(tmp_path / "kf.flashkey")]
    code = main([*argv, "--out", str(tmp_path / "o.mp4")])
    err = capsys.readouterr().err
    assert code == 3, err
    warning = [line for line in err.replace("\r", "\n").splitlines() if line.startswith("flashvid: warning")]
    assert len(warning) == 1 and "cut.mkv" in warning[0] and "of the 40 frames" in warning[0], err
    with av.open(str(tmp_path / "o.mp4")) as c:
        written = sum(1 for _ in c.decode(video=0))
    assert 0 < written < 40 and f"{written} frames that decoded" in warning[0]


@pytest.mark.slow
def test_soak_20000_frames_memory_is_flat(tmp_path: Path) -> None:
    """20,000 small frames through `matte_video` into a file sink; RSS sampled every 1,000 frames after a warm-up
    must not grow by more than 40 MB over the run (a leak of 2 KB per frame would show as 40 MB)."""
    import resource  # noqa: F401 - Linux only, like the CI machine

    from flashvid.api import matte_video
    from flashvid.video.sources import Source
    from tests.conftest import keyframe

    def rss_mb() -> float:
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6

    class Frames:
        width, height, fps, has_audio = 64, 48, 30.0, False
        from fractions import Fraction

        rate = Fraction(30)

        def __len__(self) -> int:
            return 20000

        def __iter__(self):
            from flashvid.video.sources import Frame

            rng = np.random.default_rng(0)
            base = rng.integers(0, 256, (48, 64, 3), dtype=np.uint8)
            for i in range(20000):
                yield Frame(np.roll(base, i % 64, axis=1), i / 30.0, i)

    samples: list[float] = []

    def progress(done: int, total: int) -> None:
        if done % 1000 == 0:
            samples.append(rss_mb())

    src: Source = Frames()
    stats = matte_video(src, tmp_path / "soak.mp4", keyframe=keyframe(48, 64), background="#00ff00", progress=progress)
    assert stats.frames_written == 20000 and len(samples) == 20
    growth = max(samples[3:]) - samples[3]
    assert growth < 40, samples


def test_a_missing_camera_is_one_line_listing_the_cameras(capsys, tmp_path: Path) -> None:
    from tests.conftest import keyframe

    keyframe().save(tmp_path / "kf.flashkey")
    code = main(
        ["stream", "--camera", "7", "--keyframe", str(tmp_path / "kf.flashkey"), "--to", "udp://127.0.0.1:5000"]
    )
    err = capsys.readouterr().err
    assert code == 2 and "camera 7" in err and "cameras found" in err and err.count("\n") == 1


def test_live_stream_survives_a_camera_that_disconnects_and_comes_back(tmp_path: Path) -> None:
    """A fake camera that stops delivering three times during a 300-frame live run and needs two reopen attempts
    each time: the run carries on through every dropout (no restart, no exception) and ends when cancelled."""
    import threading
    from fractions import Fraction

    from flashvid.api import matte_video
    from flashvid.errors import InputError
    from flashvid.video.sinks import PreviewSink
    from flashvid.video.sources import Frame
    from tests.conftest import keyframe

    class FlakyCamera:
        width, height, fps, rate, has_audio = 64, 48, 30.0, Fraction(30), False

        def __init__(self) -> None:
            self.index, self.attempts, self.online = 0, 0, True
            self.drop_at = {60, 140, 220}

        def __iter__(self):
            rng = np.random.default_rng(0)
            while True:
                if self.index in self.drop_at:
                    self.drop_at.discard(self.index)
                    self.online = False
                    raise InputError("camera 0: stopped delivering frames; reconnect it")
                time.sleep(0.002)
                yield Frame(rng.integers(0, 256, (48, 64, 3), dtype=np.uint8), self.index / 30, self.index)
                self.index += 1

        def reopen(self) -> None:
            self.attempts += 1
            if self.attempts % 2:  # the first try after each dropout fails
                raise InputError("camera 0: not back yet")
            self.online = True

    cam = FlakyCamera()
    seen: list[int] = []
    stop = threading.Event()

    def keep(f) -> None:
        seen.append(f.index)
        if f.index >= 300:
            stop.set()

    stats = matte_video(cam, keyframe=keyframe(48, 64), live=True, sinks=[PreviewSink(keep)], cancel=stop)
    assert stats.reconnects == 3 and cam.attempts == 6
    assert max(seen) >= 300 and any(i > 220 for i in seen)
