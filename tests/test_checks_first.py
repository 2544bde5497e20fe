"""Issue 24 item 8: what can be checked before the work is checked before it (a folder as the output, an output
folder that cannot be written), and a background typed with a space is still understood."""

from __future__ import annotations

import os
from pathlib import Path

import av
import pytest

from flashvid.cli import main
from tests.test_reliability import _small_export


def test_a_folder_as_the_output_is_refused_before_the_work(tmp_path: Path, capsys) -> None:
    argv = _small_export(tmp_path, "--overwrite")
    (tmp_path / "o.mp4").mkdir()
    (tmp_path / "o.mp4" / "mine.txt").write_text("kept")
    code = main(argv)
    err = capsys.readouterr().err
    assert code == 2 and "is a folder" in err and err.count("\n") == 1 and "Traceback" not in err
    assert (tmp_path / "o.mp4" / "mine.txt").read_text() == "kept"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_a_read_only_output_folder_is_refused_before_the_work(tmp_path: Path, capsys) -> None:
    argv = _small_export(tmp_path)
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    try:
        code = main([*argv[:-2], "--out", str(ro / "o.mp4")])
    finally:
        ro.chmod(0o755)
    err = capsys.readouterr().err
    assert code == 2 and "cannot write in this folder" in err


def test_a_background_typed_with_a_space_is_still_none(tmp_path: Path, capsys) -> None:
    argv = _small_export(tmp_path, "--background", " none", "--format", "prores")
    argv[argv.index("--out") + 1] = str(tmp_path / "o.mov")
    assert main(argv) == 0, capsys.readouterr().err
    with av.open(str(tmp_path / "o.mov")) as c:
        frame = next(c.decode(video=0)).to_ndarray(format="rgba")
    assert frame[..., 3].min() < 255  # transparent where there is no subject: none was understood


def test_a_write_error_names_the_users_file_not_a_hidden_temporary(tmp_path: Path, capsys, monkeypatch) -> None:
    from flashvid.video.sinks import VideoSink

    def full(self, out) -> None:
        raise OSError(28, "No space left on device", str(self.tmp))

    monkeypatch.setattr(VideoSink, "write", full)
    code = main(_small_export(tmp_path))
    err = capsys.readouterr().err  # (the progress bar, then the error)
    errors = [line for line in err.split("\n") if "flashvid: error:" in line]
    assert code == 2 and "Traceback" not in err and len(errors) == 1
    assert f"{tmp_path / 'o.mp4'}: cannot be written (No space left on device)" in errors[0]
    assert ".partial-" not in errors[0]


def test_a_bad_udp_host_is_named(capsys) -> None:
    from flashvid.errors import InputError
    from flashvid.video.sinks import UdpSink

    with pytest.raises(InputError) as e:
        UdpSink("udp://999.1.1.1:5000", 64, 48, 10)
    assert "udp://999.1.1.1:5000" in str(e.value) and "host name" in str(e.value)
