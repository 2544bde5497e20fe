"""Issue 25 (the studio, second round): no stray dialogs, a failed drop stops nothing, outputs that are what
was asked, a preview to trust. Offscreen; each test fails on the code before the fix."""

from __future__ import annotations

import numpy as np
import pytest
from flashvid.ui.app import MainWindow
from PyQt6.QtCore import QSettings
from PyQt6.QtWidgets import QFileDialog

from flashvid.imageio import write_image
from tests.studio_helpers import H, W, make_kf


@pytest.fixture()
def no_dialogs(monkeypatch):
    """Any file dialog opened during the test is recorded (and answered with nothing)."""
    opened: list[str] = []

    def record(*args, **kwargs):
        opened.append(str(args[1] if len(args) > 1 else kwargs.get("caption", "")))
        return "", ""

    monkeypatch.setattr(QFileDialog, "getOpenFileName", record)
    monkeypatch.setattr(QFileDialog, "getSaveFileName", record)
    return opened


def test_stored_presets_and_typed_colours_never_open_a_dialog(studio, qtbot, no_dialogs) -> None:
    window, tmp = studio
    write_image(tmp / "room.png", np.full((H, W, 3), 90, np.uint8))
    window.set_background_spec(str(tmp / "room.png"))
    assert window.background_box.currentText().startswith("image")
    window.save_preset("with image")
    window.save_settings()
    # a relaunch with an image background: the window, the image, no dialog
    again = MainWindow(QSettings(str(tmp / "settings.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(again)
    assert again.background_spec == str(tmp / "room.png") and again.background_box.currentText().startswith("image")
    # a preset with an image background, applied: no dialog
    window.set_background_spec("#00ff00")
    window.apply_preset("with image")
    assert window.background_spec == str(tmp / "room.png")
    # typing a colour while the image is selected applies the colour
    window.colour.setFocus()
    window.colour.selectAll()
    qtbot.keyClicks(window.colour, "#ff0000")
    window.colour.editingFinished.emit()
    assert window.background_spec == "#ff0000" and window.background_box.currentText() == "colour"
    # leaving the colour field unedited (as closing the window does) changes nothing
    window.set_background_spec(str(tmp / "room.png"))
    window.colour.editingFinished.emit()
    assert window.background_spec == str(tmp / "room.png")
    assert no_dialogs == []
    # the user choosing "image" in the box is what opens the dialog
    window.background_box.textActivated.emit(window.background_box.currentText())
    assert len(no_dialogs) == 1
    again.close()


def test_a_bad_file_dropped_while_streaming_stops_nothing(studio, qtbot) -> None:
    window, tmp = studio
    window.open_source(str(tmp / "clip.mp4"))
    window.set_keyframe(make_kf(tmp))
    qtbot.waitUntil(lambda: window.preview.frame is not None, timeout=60000)
    worker = window.worker
    (tmp / "notes.mp4").write_text("not a video")
    window.open_path(str(tmp / "notes.mp4"))
    assert any("notes.mp4" in m for m in window.banner.messages)
    assert window.worker is worker and worker.isRunning() and window.source_label == "clip.mp4"
    n = worker.run_stats.frames_written
    qtbot.waitUntil(lambda: worker.run_stats.frames_written > n + 3, timeout=60000)  # still matting


def test_outputs_that_would_lose_the_background_ask_first(studio, qtbot) -> None:
    """MP4 over a transparent background would be black; ProRes over a blur would drop the blur: asked before."""
    import av

    window, tmp = studio
    window.open_source(str(tmp / "clip.mp4"))
    window.set_keyframe(make_kf(tmp))
    asked: list[tuple[str, str, str]] = []
    window.ask_background_loss = lambda loss, fmt, other: asked.append((loss, fmt, other)) or "cancel"
    window.set_background_spec("blur:20")
    assert window.export_file(str(tmp / "cut.mov")) is None and window.exporter is None  # cancelled: nothing started
    assert "blurred background is not in the file" in asked[-1][0] and asked[-1][1:] == ("prores", "mp4")
    assert not list(tmp.glob("cut*"))
    window.set_background_spec("transparent")
    window.ask_background_loss = lambda loss, fmt, other: asked.append((loss, fmt, other)) or "switch"
    worker = window.export_file(str(tmp / "talk.mp4"))
    assert "come out black" in asked[-1][0] and worker is not None
    qtbot.waitUntil(lambda: window.exporter is None, timeout=180000)
    assert not (tmp / "talk.mp4").exists()
    with av.open(str(tmp / "talk.mov")) as c:  # switched to ProRes 4444: real alpha
        frame = next(c.decode(video=0))
        assert "a" in frame.format.name  # yuva444p...
    # no loss, no question
    n = len(asked)
    window.set_background_spec("#00ff00")
    window.ask_background_loss = lambda *a: pytest.fail("asked without a loss")
    window.toggle_record(True, str(tmp / "rec.mp4"))
    assert window.recorder is not None and len(asked) == n
    window.session.discard_recording()


def test_closing_during_an_export_asks(studio, qtbot) -> None:
    window, tmp = studio
    window.open_source(str(tmp / "clip.mp4"))
    window.set_keyframe(make_kf(tmp))
    window.export_file(str(tmp / "long.mp4"))
    assert window.exporter is not None
    window.ask_export_on_close = lambda: "keep exporting"
    window.close()
    assert window.isVisible() and window.exporter is not None and not window.exporter.cancel.is_set()
    window.ask_export_on_close = lambda: "cancel export"
    window.close()
    assert not window.isVisible()


def test_pausing_clears_the_rate_and_the_hint_never_goes_below_320(studio, qtbot) -> None:
    from flashvid.ui.actions.playback import LOWEST_HINTED_SIZE

    window, tmp = studio
    window.open_source(str(tmp / "clip.mp4"))
    window.set_keyframe(make_kf(tmp))
    qtbot.waitUntil(lambda: window.fps_label.text() != "FPS -" and "FPS" in window.fps_label.text(), timeout=60000)
    window.toggle_pause()
    assert window.fps_label.text() == "FPS -"
    window.toggle_pause()
    qtbot.waitUntil(lambda: window.worker is not None and window.worker.matter is not None, timeout=60000)
    for size, expected in ((LOWEST_HINTED_SIZE, None), (512, "internal resolution to 384")):
        window.internal.blockSignals(True)  # the hint reads the control; no rebuild needed for this check
        window.internal.setValue(size)
        window.internal.blockSignals(False)
        window.stream_started = -1e9  # as if it had been running for long
        window._hint(0.5)
        assert not window.hint_label.isHidden() and "below the source" in window.hint_label.text()
        if expected is None:
            assert "internal resolution" not in window.hint_label.text()
        else:
            assert expected in window.hint_label.text()


def test_the_keyframe_says_plainly_what_segmented_it() -> None:
    """The wizard showed "person (...) + flash; else GrabCutSegmenter: person (1 of 1 found)"."""
    from flashvid.keyframe import make_keyframe
    from flashvid.keyframe.core import segmenter_name
    from flashvid.keyframe.person import PersonFlashSegmenter
    from flashvid.keyframe.segment import GrabCutSegmenter
    from flashvid.training.data.synth import FlashLight, synthetic_pair

    pair = synthetic_pair(H, W, seed=3, light=FlashLight(d_ratio=4.0, power=2.5, exposure_f=0.33))
    name = make_keyframe(pair.flash, pair.noflash).settings["segmenter"]
    assert "else" not in name and "Segmenter" not in name, name
    seg = PersonFlashSegmenter()
    seg.last_choice = "GrabCut (no person under the flash)"
    assert segmenter_name(seg) == "GrabCut (no person under the flash)"
    assert segmenter_name(GrabCutSegmenter()) == "GrabCut"


def test_the_window_goes_small_remembers_its_size_and_the_banner_moves_nothing(studio, qtbot) -> None:
    window, tmp = studio
    hint = window.minimumSizeHint()
    assert hint.width() <= 800 and hint.height() <= 500, hint  # was 1235 x 617
    window.resize(790, 500)  # the offscreen screen is 800 x 600
    qtbot.waitUntil(lambda: window.width() <= 800, timeout=5000)
    before = {
        w: w.mapTo(window, w.rect().topLeft()) for w in (window.preview, window.record_button, window.play_button)
    }
    window.error("something went wrong; here is what to do about it")
    qtbot.wait(50)
    after = {w: w.mapTo(window, w.rect().topLeft()) for w in before}
    assert after == before  # nothing moved under the pointer
    banner = window.banner
    assert banner.isVisible() and banner.parentWidget() is window.preview and banner.geometry().top() < 20
    window.resize(780, 520)
    window.save_settings()
    again = MainWindow(QSettings(str(tmp / "settings.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(again)
    assert again.restore_geometry()
    assert (again.width(), again.height()) == (window.width(), window.height())
    again.close()


def test_in_and_out_points_decide_what_export_writes(studio, qtbot) -> None:
    import av

    window, tmp = studio
    window.open_source(str(tmp / "clip.mp4"))
    window.set_keyframe(make_kf(tmp))
    window.stop()
    window.seek(1.0)
    window.run_action("set_in_point")
    window.seek(2.0)
    window.run_action("set_out_point")
    assert window.points_label.text() == "export 0:01 - 0:02"
    window.ask_background_loss = lambda *a: "go on"
    window.export_file(str(tmp / "part.mp4"))
    qtbot.waitUntil(lambda: window.exporter is None, timeout=180000)
    with av.open(str(tmp / "part.mp4")) as c:
        frames = list(c.decode(video=0))
    rate = window.source.fps
    assert abs(len(frames) - round(rate)) <= 1 and float(frames[0].time) < 0.05  # one second, from 0
    window.run_action("clear_points")
    assert window.points_label.text() == "" and window.out_point is None


def test_paused_the_preview_shows_the_matted_frame_and_every_change(studio, qtbot) -> None:
    window, tmp = studio
    window.open_source(str(tmp / "clip.mp4"))
    window.set_keyframe(make_kf(tmp))
    qtbot.waitUntil(lambda: window.preview.frame is not None, timeout=60000)
    window.toggle_pause()
    assert not window.playing
    window.seek(2.0)  # was: the raw frame
    qtbot.waitUntil(lambda: "showing the paused frame" not in window.tasks.labels(), timeout=60000)
    qtbot.waitUntil(lambda: window.preview.frame is not None and window.preview.raw is None, timeout=60000)
    first = window.preview.frame
    assert abs(first.time - 2.0) < 0.1
    window.set_background_spec("transparent")  # was: nothing changed until play; and black, not a checkerboard
    qtbot.waitUntil(lambda: window.preview.frame is not first, timeout=60000)
    shown = window.preview.rendered()
    f = window.preview.frame
    clear = f.rgba[:, :, 3] == 0
    assert clear.any()
    greys = shown[clear]
    assert set(np.unique(greys)) <= {153, 204} and len(np.unique(greys)) == 2  # the checkerboard, not black
    shown_alpha = {}
    for grow in (-12, 12):  # each redraw mattes the still again; a wide grow / shrink shows above that drift
        before = window.preview.frame
        window.controls["grow"].setValue(grow)
        qtbot.waitUntil(lambda b=before: window.preview.frame is not b, timeout=60000)
        qtbot.waitUntil(lambda: "showing the paused frame" not in window.tasks.labels(), timeout=60000)
        shown_alpha[grow] = int((window.preview.frame.rgba[:, :, 3] > 0).sum())
    assert shown_alpha[12] > shown_alpha[-12]  # the grown matte shows, paused


def test_live_takes_have_sound_and_a_constant_rate(studio, qtbot) -> None:
    import av

    from tests.conftest import make_video
    from tests.studio_helpers import stop_recording

    window, tmp = studio
    make_video(tmp / "talk.mp4", frames=150, audio=True, width=W, height=H)  # 6 s at 25 FPS with a tone
    window.open_source(str(tmp / "talk.mp4"))
    window.set_keyframe(make_kf(tmp))
    qtbot.waitUntil(lambda: window.preview.frame is not None, timeout=60000)
    window.ask_background_loss = lambda *a: "go on"
    window.toggle_record(True, str(tmp / "take.mp4"))
    qtbot.waitUntil(lambda: window.recorder is not None and window.recorder.frames >= 25, timeout=120000)
    stop_recording(window, qtbot)
    with av.open(str(tmp / "take.mp4")) as c:
        assert c.streams.audio, "the take has no sound"
        rate = float(c.streams.video[0].average_rate)
        times = [float(f.time) for f in c.decode(video=0)]
    steps = np.diff(times)
    assert rate == pytest.approx(window.source.fps, rel=0.02)
    assert np.allclose(steps, 1.0 / window.source.fps, atol=1.5e-3), steps  # every frame one period apart
