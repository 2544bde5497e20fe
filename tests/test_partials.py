"""Issue 24 item 4: partial results and races never cost a user's file: a failing export keeps its frames under a
free name (never over an existing OUT.partial), hidden folders of killed PNG exports are cleaned up, a file that
appears at the output meanwhile is not replaced without --overwrite, and no input of the run (the keyframe, the
background) can be the output."""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path

import numpy as np

from flashvid.cli import main
from flashvid.video.sinks import PngSequenceSink, SinkFrame, VideoSink
from tests.test_reliability import _small_export


def _frame(i: int) -> SinkFrame:
    img = np.full((32, 48, 3), 40 * i % 255, np.uint8)
    return SinkFrame(img, np.dstack([img, np.full((32, 48), 255, np.uint8)]), img[..., 0], i / 10, i)


def _digest(p: Path) -> str:
    return hashlib.sha256(p.read_bytes()).hexdigest()


def test_a_failing_export_never_replaces_an_existing_partial(tmp_path: Path) -> None:
    mine = tmp_path / "out.partial.mp4"
    mine.write_bytes(b"a user's own file named like a partial")
    sink = VideoSink(tmp_path / "out.mp4", "mp4", 48, 32, 10)
    for i in range(3):
        sink.write(_frame(i))
    sink.abort()
    assert mine.read_bytes() == b"a user's own file named like a partial"
    assert sink.kept_partial == tmp_path / "out.partial-2.mp4" and sink.kept_partial.stat().st_size > 0


def test_a_failing_png_export_keeps_an_existing_partial_folder(tmp_path: Path) -> None:
    mine = tmp_path / "frames.partial"
    mine.mkdir()
    (mine / "keep.txt").write_text("the user's")
    sink = PngSequenceSink(tmp_path / "frames")
    sink.write(_frame(0))
    sink.abort()
    assert (mine / "keep.txt").read_text() == "the user's"
    assert sink.kept_partial == tmp_path / "frames.partial-2" and (sink.kept_partial / "000000.png").is_file()


def test_hidden_folders_of_killed_png_exports_are_cleaned(tmp_path: Path) -> None:
    gone = subprocess.Popen(["true"])  # a process id that is gone
    gone.wait()
    stale = tmp_path / f".frames.partial-{gone.pid}"
    stale.mkdir()
    (stale / "000000.png").write_bytes(b"x")
    sink = PngSequenceSink(tmp_path / "frames")
    sink.write(_frame(0))
    sink.close()
    assert not stale.exists() and (tmp_path / "frames" / "000000.png").is_file()


def test_a_file_appearing_at_the_output_meanwhile_is_not_replaced(tmp_path: Path) -> None:
    target = tmp_path / "out.mp4"
    sink = VideoSink(target, "mp4", 48, 32, 10, overwrite=False)
    for i in range(3):
        sink.write(_frame(i))
    target.write_bytes(b"another export finished first")
    from flashvid.errors import InputError

    try:
        sink.close()
        raise AssertionError("close() should refuse to replace the file that appeared")
    except InputError as exc:
        assert "appeared while this export ran" in str(exc)
    assert target.read_bytes() == b"another export finished first"
    assert sink.kept_partial is not None and sink.kept_partial.stat().st_size > 0
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_no_input_of_the_run_can_be_the_output(tmp_path: Path, capsys) -> None:
    argv = _small_export(tmp_path, "--overwrite")
    kf = tmp_path / "kf.flashkey"
    before = _digest(kf)
    argv[argv.index("--out") + 1] = str(kf)
    assert main([*argv, "--format", "mp4"]) == 2
    err = capsys.readouterr().err
    assert "an input of this run" in err and err.count("\n") == 1 and _digest(kf) == before
    bg = tmp_path / "bg.png"
    from flashvid.imageio import write_image

    write_image(bg, np.zeros((16, 16, 3), np.uint8))
    argv = _small_export(tmp_path, "--overwrite", "--background", str(bg))
    argv[argv.index("--out") + 1] = str(bg)
    before = _digest(bg)
    assert main(argv) == 2
    assert "an input of this run" in capsys.readouterr().err and _digest(bg) == before
