"""`flashvid demo`, `flashvid export` and `flashvid stream` end to end (small inputs)."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np

from flashvid.cli import main
from flashvid.imageio import read_image, write_image
from flashvid.training.data.synth import FlashLight, synthetic_pair
from tests.conftest import make_video
from tests.test_video import H, W


def test_demo_writes_its_outputs_and_metrics(tmp_path: Path, capsys) -> None:
    out = tmp_path / "demo"
    assert main(["demo", "--out-dir", str(out), "--frames", "6"]) == 0
    text = capsys.readouterr().out
    assert {p.name for p in out.iterdir()} == {"composite.mp4", "cutout.mov", "contact_sheet.png", "keyframe.flashkey"}
    with av.open(str(out / "cutout.mov")) as c:
        frames = [f.to_ndarray(format="rgba") for f in c.decode(c.streams.video[0])]
    assert len(frames) == 6 and frames[0].shape == (480, 640, 4)  # the shipped real clip (assets/demo)
    assert "MSE x1e3" in text and "SAD /1e3" in text and "FPS" in text
    assert read_image(out / "contact_sheet.png").shape[1] > 640


def test_export_from_a_flash_pair_with_transparent_background(tmp_path: Path, capsys) -> None:
    make_video(tmp_path / "in.mp4", frames=8)
    pair = synthetic_pair(H, W, seed=2, light=FlashLight(d_ratio=4.0, power=2.5, exposure_f=0.33))
    write_image(tmp_path / "f.png", pair.flash)
    write_image(tmp_path / "n.png", pair.noflash)
    code = main(
        [
            "export",
            "--input",
            str(tmp_path / "in.mp4"),
            "--flash",
            str(tmp_path / "f.png"),
            "--noflash",
            str(tmp_path / "n.png"),
            "--background",
            "none",
            "--format",
            "prores",
            "--out",
            str(tmp_path / "o"),
        ]
    )
    assert code == 0, capsys.readouterr().err
    with av.open(str(tmp_path / "o.mov")) as c:
        frames = [f.to_ndarray(format="rgba") for f in c.decode(c.streams.video[0])]
    assert len(frames) == 8 and frames[0].shape == (H, W, 4)
    assert (
        code == 0
        and main(
            [
                "export",
                "--input",
                str(tmp_path / "in.mp4"),
                "--keyframe",
                str(tmp_path / "x"),
                "--out",
                str(tmp_path / "p.mp4"),
            ]
        )
        == 2
    )


def test_stream_a_file_to_udp(tmp_path: Path, capsys) -> None:
    import socket
    import threading

    make_video(tmp_path / "in.mp4", frames=24, audio=False)
    pair = synthetic_pair(H, W, seed=2, light=FlashLight(d_ratio=4.0, power=2.5, exposure_f=0.33))
    write_image(tmp_path / "f.png", pair.flash)
    write_image(tmp_path / "n.png", pair.noflash)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    got: list[np.ndarray] = []

    def receive() -> None:
        with av.open(f"udp://127.0.0.1:{port}?timeout=8000000", format="mpegts") as c:
            for f in c.decode(c.streams.video[0]):
                got.append(f.to_ndarray(format="rgb24"))
                if len(got) >= 3:
                    break

    t = threading.Thread(target=receive, daemon=True)
    t.start()
    import time

    time.sleep(0.5)
    code = main(
        [
            "stream",
            "--camera",
            str(tmp_path / "in.mp4"),
            "--flash",
            str(tmp_path / "f.png"),
            "--noflash",
            str(tmp_path / "n.png"),
            "--to",
            f"udp://127.0.0.1:{port}",
            "--no-drop",
        ]
    )
    t.join(timeout=10)
    assert code == 0 and "streamed 24 frames" in capsys.readouterr().out
    assert len(got) >= 3 and got[0].shape == (H, W, 3)


def test_export_refuses_its_own_input_and_existing_outputs(tmp_path: Path, capsys) -> None:
    """Issue 14 cases 1 and 2: the input as --out (also through a link) and an existing --out without --overwrite
    are refused in one line, exit 2, before any work; every file is left as it was."""
    from tests.conftest import keyframe

    make_video(tmp_path / "in.mp4", frames=8)
    keyframe().save(tmp_path / "kf.flashkey")
    (tmp_path / "link.mp4").symlink_to(tmp_path / "in.mp4")
    original = (tmp_path / "in.mp4").read_bytes()
    base = ["export", "--input", str(tmp_path / "in.mp4"), "--keyframe", str(tmp_path / "kf.flashkey"), "--out"]
    for target, extra, words in (
        (tmp_path / "in.mp4", ["--overwrite"], "is the input itself"),
        (tmp_path / "link.mp4", ["--overwrite"], "is the input itself"),
        (tmp_path / "in.mp4", [], "is the input itself"),
    ):
        capsys.readouterr()
        assert main([*base, str(target), *extra]) == 2
        err = capsys.readouterr().err
        assert words in err and err.count("\n") == 1 and "Traceback" not in err
        assert (tmp_path / "in.mp4").read_bytes() == original
    make_video(tmp_path / "done.mp4", frames=3)
    done = (tmp_path / "done.mp4").read_bytes()
    assert main([*base, str(tmp_path / "done.mp4")]) == 2
    assert "already exists" in capsys.readouterr().err and (tmp_path / "done.mp4").read_bytes() == done
    assert main([*base, str(tmp_path / "done.mp4"), "--overwrite"]) == 0
    with av.open(str(tmp_path / "done.mp4")) as c:
        assert sum(1 for _ in c.decode(video=0)) == 8
    assert not list(tmp_path.glob("*.partial*")) and not list(tmp_path.glob(".*partial*"))
