"""The live window of `flashvid stream --to window`, offscreen."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("PyQt6")

from flashvid.ui.live_window import WindowClosed, WindowSink

from flashvid.video.sinks import SinkFrame


def test_window_shows_the_newest_frame_and_stops_when_closed(qtbot) -> None:
    sink = WindowSink("test")
    qtbot.addWidget(sink.label)
    for i in range(3):
        img = np.full((48, 64, 3), (i * 80, 10, 200), np.uint8)
        sink.write(SinkFrame(img, np.dstack([img, np.full((48, 64), 255, np.uint8)]), img[..., 0], i / 30, i))
    shown = sink.label.pixmap().toImage()
    assert (shown.width(), shown.height()) == (64, 48) and sink.frames == 3
    assert shown.pixelColor(5, 5).red() == 160  # the last frame, not the first
    sink.label.close()
    with pytest.raises(WindowClosed):
        sink.write(SinkFrame(img, np.dstack([img, img[..., :1]]), img[..., 0], 1.0, 3))
