"""The studio's Qt-free session (issue 21): driven without a window."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from flashvid.errors import FlashvidError


def _clip(path: Path, frames: int = 12) -> Path:
    from flashvid.video.sinks import SinkFrame, VideoSink

    rng = np.random.default_rng(0)
    with VideoSink(path, "mp4", 96, 64, 24) as sink:
        for i in range(frames):
            f = rng.integers(0, 255, (64, 96, 3), dtype=np.uint8)
            sink.write(SinkFrame(f, np.dstack([f, np.full((64, 96), 255, np.uint8)]), f[..., 0], i / 24, i))
    return path


def test_session_opens_a_file_sets_backgrounds_and_records(tmp_path: Path) -> None:
    from flashvid.ui.session import StudioSession, background_kind, format_for

    from flashvid.video.sinks import SinkFrame
    from flashvid.video.sources import VideoFile

    s = StudioSession()
    with pytest.raises(FlashvidError):
        s.start_recording(str(tmp_path / "x.mp4"), "mp4")  # no source yet
    with pytest.raises(FlashvidError):
        s.open_source(str(tmp_path / "missing.mp4"))
    src = s.open_source(str(_clip(tmp_path / "clip.mp4")))
    assert isinstance(src, VideoFile) and s.is_file and s.source_label == "clip.mp4"
    assert s.set_background("blur:25") == "blur" and s.background_spec == "blur:25"
    with pytest.raises(FlashvidError):
        s.set_background("#zzzzzz")
    assert s.background_spec == "blur:25"  # a bad spec keeps the one in use
    assert background_kind("#00ff00") == "colour" and background_kind("a.mov") == "video..."
    assert format_for("take.webm", "mp4")[0] == "webm" and format_for("take", "prores")[1].suffix == ".mov"
    out = s.start_recording(str(tmp_path / "take.mp4"), "mp4")
    frame = s.frame_at_position()
    assert frame is not None and frame.shape == (64, 96, 3)
    for i in range(5):
        s.sinks.write(SinkFrame(frame, np.dstack([frame, np.full((64, 96), 255, np.uint8)]), frame[..., 0], i / 24, i))
    assert "5 frames" in s.record_status()
    assert s.stop_recording() == f"recorded {out}" and s.recorder is None
    assert len(VideoFile(out)) == 5 and s.sinks.sinks == []


def test_session_warns_when_the_keyframe_is_of_another_shape(tmp_path: Path) -> None:
    from flashvid.ui.session import StudioSession

    from flashvid.keyframe import make_keyframe
    from flashvid.training.data.synth import synthetic_pair

    s = StudioSession()
    s.open_source(str(_clip(tmp_path / "clip.mp4")))
    pair = synthetic_pair(120, 120, seed=0)
    s.keyframe = make_keyframe(pair.flash, pair.noflash)
    warning = s.keyframe_fit_warning(None)
    assert warning is not None and "another shape" in warning
