"""In / out points (issue 25.6): `matte_video(start=, end=)` and `flashvid export --start --end` write that part of
the clip, its sound included and starting at 0; points outside the clip are one line before any work."""

from __future__ import annotations

from pathlib import Path

import av
import pytest

from flashvid.cli import main
from flashvid.cli.common import timecode


def _frames_and_audio(path: Path) -> tuple[list[float], float]:
    with av.open(str(path)) as c:
        times = [float(f.time) for f in c.decode(video=0)]
    with av.open(str(path)) as c:
        a = c.streams.audio[0]
        first = next(iter(c.demux(a)))
        return times, float(first.pts * first.time_base)


def _export(folder: Path, out: Path, *extra: str) -> int | str | None:
    """`flashvid export` of folder/in.mp4 with folder/kf.flashkey to `out`; its exit status (also when the
    arguments are refused while parsing)."""
    args = ["export", "--input", str(folder / "in.mp4"), "--keyframe", str(folder / "kf.flashkey")]
    try:
        return main([*args, "--out", str(out), "--random-weights", *extra])
    except SystemExit as exc:
        return exc.code


def test_export_between_in_and_out_points_keeps_that_part_with_its_sound(
    tmp_path: Path, video_maker, keyframe_maker, capsys
) -> None:
    times = video_maker(tmp_path / "in.mp4", frames=30, audio=True)
    keyframe_maker().save(tmp_path / "kf.flashkey")
    out = tmp_path / "part.mp4"
    start, end = times[10], times[20]
    rc = _export(tmp_path, out, "--start", f"{start}", "--end", f"{end}")
    assert rc == 0, capsys.readouterr().err
    got, audio_start = _frames_and_audio(out)
    assert len(got) == 10 and got[0] == pytest.approx(0.0, abs=1e-3)
    assert got[-1] == pytest.approx(times[19] - start, abs=0.02)
    assert abs(audio_start) < 0.05  # the sound starts with the picture, from the in point
    assert "warning" not in capsys.readouterr().err


def test_points_outside_the_clip_are_one_line(tmp_path: Path, video_maker, keyframe_maker, capsys) -> None:
    video_maker(tmp_path / "in.mp4", frames=12, audio=False)
    keyframe_maker().save(tmp_path / "kf.flashkey")
    for points in (["--start", "5"], ["--start", "0.2", "--end", "0.1"], ["--start", "1:99"]):
        rc = _export(tmp_path, tmp_path / "o.mp4", *points)
        err = capsys.readouterr().err
        assert rc == 2 and err.count("\n") == 1, (points, err)
    assert not list(tmp_path.glob("o*")) and not list(tmp_path.glob(".o*"))


def test_timecodes() -> None:
    assert timecode("12.5") == 12.5 and timecode("1:02.5") == 62.5 and timecode("1:00:01") == 3601
