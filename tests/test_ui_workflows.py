"""flashvid-studio, offscreen (pytest-qt): the preview, shortcuts, the wizard, export, recording, drops and errors."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("PyQt6")
pytest.importorskip("pytestqt")

from flashvid.ui.app import MainWindow
from PyQt6.QtCore import QSettings

from tests.studio_helpers import H, W, make_kf, stop_recording


def test_before_after_split_and_mirror(qtbot) -> None:  # (qtbot: a QApplication exists, whatever ran first)
    from flashvid.ui.preview import PreviewWidget

    from flashvid.video.sinks import SinkFrame

    p = PreviewWidget()
    before = np.zeros((10, 20, 3), np.uint8)
    after = np.full((10, 20, 3), 255, np.uint8)
    after[:, -1] = 7
    p.show_frame(SinkFrame(after, np.zeros((10, 20, 4), np.uint8), np.zeros((10, 20), np.uint8), 0.0, 0, before))
    p.set_view("before / after")
    p.split = 0.25
    img = p.rendered()
    assert (img[:, :5] == 0).all() and (img[:, 5:-1] == 255).all() and (img[:, -1] == 7).all()
    p.set_mirror(True)  # the whole picture flips; the line stays where the user put it on screen
    img = p.rendered()
    assert (img[:, 0] == 7).all() and (img[:, 1:5] == 255).all() and (img[:, 15:] == 0).all()
    p.set_view("alpha")
    assert p.rendered().shape == (10, 20)


def test_shortcuts_work_from_any_control_and_help_lists_them(studio, qtbot) -> None:
    from PyQt6.QtCore import Qt
    from PyQt6.QtWidgets import QApplication

    window, _tmp = studio
    window.activateWindow()
    QApplication.setActiveWindow(window)
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window, timeout=5000)
    view = window.view_box.currentIndex()
    window.internal.setFocus()  # a spin box used to swallow the letters
    qtbot.waitUntil(lambda: QApplication.focusWidget() is window.internal, timeout=5000)
    qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_V)
    assert window.view_box.currentIndex() == (view + 1) % window.view_box.count()
    qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_M)
    assert window.mirror_box.isChecked()
    window.udp_url.setFocus()  # a text field: the letter is typed; Ctrl+M still works
    qtbot.waitUntil(lambda: QApplication.focusWidget() is window.udp_url, timeout=5000)
    window.udp_url.setText("udp://h")
    window.udp_url.end(False)
    qtbot.keyClick(window.udp_url, Qt.Key.Key_V, Qt.KeyboardModifier.NoModifier, 0)
    assert window.udp_url.text().endswith("v") or window.udp_url.text().endswith("V")
    assert window.view_box.currentIndex() == (view + 1) % window.view_box.count()
    qtbot.keyClick(window.udp_url, Qt.Key.Key_M, Qt.KeyboardModifier.ControlModifier)
    assert not window.mirror_box.isChecked()
    qtbot.keyClick(window.udp_url, Qt.Key.Key_F1)
    assert window.help.isVisible()
    qtbot.keyClick(window.udp_url, Qt.Key.Key_F1)
    assert not window.help.isVisible()


def test_band_change_keeps_the_wizards_edits(studio, qtbot) -> None:
    """Issue 13 item 4: band / threshold edits remake the keyframe off the GUI thread and keep the user's brush
    strokes and clicks (before: they were silently discarded)."""
    window, tmp = studio
    kf = make_kf(tmp).with_strokes([(8, 8, 5, 255)])  # paint subject into a background corner
    assert kf.trimap[8, 8] == 255
    window.set_keyframe(kf)
    window.band.setValue(21)
    qtbot.waitUntil(lambda: window.keyframe.settings.get("band") == 21, timeout=30000)
    assert window.keyframe.trimap[8, 8] == 255 and window.keyframe.settings["edits"] == kf.settings["edits"]
    window.threshold.setValue(0.6)
    qtbot.waitUntil(lambda: window.keyframe.settings.get("threshold") == pytest.approx(0.6), timeout=30000)
    assert window.keyframe.trimap[8, 8] == 255


def test_wizard_keeps_its_size_enter_accepts_and_undo(studio, qtbot) -> None:
    from PyQt6.QtCore import Qt

    window, tmp = studio
    wizard = window.open_wizard()
    qtbot.addWidget(wizard)
    width = wizard.width()
    wizard.status.setText("a very long error message " * 40)
    qtbot.wait(50)
    assert wizard.width() == width
    wizard.load_files(str(tmp / "flash.png"), str(tmp / "noflash.png"))
    qtbot.waitUntil(lambda: wizard.keyframe is not None, timeout=60000)
    original = wizard.keyframe
    wizard.brush.setCurrentIndex(1)
    wizard.paint_trimap(8, 8)
    wizard.paint_trimap(12, 8)  # one drag
    wizard._end_stroke()
    assert wizard.keyframe.trimap[8, 12] == 255 and wizard.undo_button.isEnabled()
    wizard.undo()
    assert wizard.keyframe is original and not wizard.undo_button.isEnabled()
    accepted = []
    wizard.accepted.connect(lambda: accepted.append(1))
    qtbot.keyClick(wizard, Qt.Key.Key_Return)
    assert accepted == [1]


def test_export_mode_keeps_every_frame_audio_and_time(studio, qtbot) -> None:
    import av

    from tests.conftest import make_video

    window, tmp = studio
    make_video(tmp / "talk.mp4", frames=36, audio=True, width=W, height=H)
    window.open_source(str(tmp / "talk.mp4"))
    window.set_keyframe(make_kf(tmp))
    worker = window.export_file(str(tmp / "talk-matted.mp4"))
    assert worker is not None and not window.export_panel.isHidden()
    qtbot.waitUntil(lambda: window.exporter is None, timeout=300000)
    assert "exported 36 frames" in window.statusBar().currentMessage(), window.banner.messages
    with av.open(str(tmp / "talk-matted.mp4")) as c:
        assert c.streams.audio, "the export keeps the sound"
        frames = list(c.decode(c.streams.video[0]))
    with av.open(str(tmp / "talk.mp4")) as c:
        src = list(c.decode(c.streams.video[0]))
    assert len(frames) == len(src) == 36
    assert abs(float(frames[-1].time) - float(src[-1].time)) < 0.05


def test_a_routine_notice_never_hides_an_outcome_on_show(studio, monkeypatch) -> None:
    """An engine build that started before an export was cancelled and finishes after it once replaced "export
    cancelled ... what was done is kept" with "running flashvid-rt with eager on cpu" (CI, a loaded machine)."""
    import types

    import flashvid.ui.app as app_module

    window, _ = studio
    clock = [1000.0]
    monkeypatch.setattr(app_module, "time", types.SimpleNamespace(monotonic=lambda: clock[0]))
    window.say("export cancelled after 3 frames; what was done is kept", 15000)
    clock[0] += 2.0
    window.say("running flashvid-rt with eager on cpu", 5000, routine=True)
    assert "cancelled" in window.statusBar().currentMessage()
    clock[0] += 14.0  # the outcome has had its 15 s: a routine notice shows again
    window.say("running flashvid-rt with onnx on cpu", 5000, routine=True)
    assert window.statusBar().currentMessage() == "running flashvid-rt with onnx on cpu"
    window.say("exported 36 frames", 8000)  # an outcome always shows, and a routine notice never shields
    assert window.statusBar().currentMessage() == "exported 36 frames"


def test_export_cancel_keeps_a_partial_and_never_the_target(studio, qtbot) -> None:
    window, tmp = studio
    (tmp / "out.mp4").write_bytes(b"the user's earlier file")
    window.open_source(str(tmp / "clip.mp4"))
    window.set_keyframe(make_kf(tmp))
    window.export_file(str(tmp / "out.mp4"))
    qtbot.waitUntil(lambda: window.export_panel.bar.value() >= 3, timeout=120000)
    window.cancel_export()
    qtbot.waitUntil(lambda: window.exporter is None, timeout=120000)
    assert (tmp / "out.mp4").read_bytes() == b"the user's earlier file"
    partial = tmp / "out.partial.mp4"
    assert partial.is_file() and "cancelled" in window.statusBar().currentMessage()
    import av

    with av.open(str(partial)) as c:
        assert sum(1 for _ in c.decode(c.streams.video[0])) >= 3


def test_recording_takes_its_format_from_the_name_and_starts_at_zero(studio, qtbot) -> None:
    import av

    window, tmp = studio
    window.format_box.setCurrentText("mp4")
    window.open_source(str(tmp / "clip.mp4"))
    window.set_keyframe(make_kf(tmp))
    qtbot.waitUntil(lambda: window.preview.frame is not None, timeout=60000)
    qtbot.waitUntil(lambda: window.paced.position > 1.0, timeout=60000)  # start recording mid-stream
    asked: list[str] = []
    window.ask_background_loss = lambda loss, fmt, other: asked.append(loss) or "go on"  # type: ignore[method-assign]
    window.toggle_record(True, str(tmp / "take.webm"))
    assert asked and "webm keeps the subject with alpha" in asked[0]  # the green background is not in a webm cut-out
    assert window.format_box.currentText() == "webm"
    qtbot.waitUntil(lambda: window.recorder.frames >= 8, timeout=120000)
    window._update_state()
    assert "frames" in window.record_label.text() and "recording" in window.state_label.text()
    stop_recording(window, qtbot)
    with av.open(str(tmp / "take.webm")) as c:
        assert c.format.name.startswith("matroska") or "webm" in c.format.name
        frames = list(c.decode(c.streams.video[0]))
    assert float(frames[0].time) < 0.1  # its own clock, not the playback's
    assert "recording" not in window.state_label.text()


def test_drop_files_presets_recent_backgrounds_and_the_last_session(studio, qtbot) -> None:
    from flashvid.imageio import write_image

    window, tmp = studio
    write_image(tmp / "room.png", np.full((H, W, 3), 90, np.uint8))
    window.open_path(str(tmp / "clip.mp4"))
    assert window.source is not None
    window.open_path(str(tmp / "room.png"))
    assert window.background_spec == str(tmp / "room.png") and window.background_box.currentText() == "image..."
    window.set_background_spec("#ff0000")
    assert [window.recent_box.itemData(i) for i in range(window.recent_box.count())][:2] == [
        "#ff0000",
        str(tmp / "room.png"),
    ]
    make_kf(tmp).save(tmp / "kf.flashkey")
    window.open_path(str(tmp / "kf.flashkey"))
    assert window.keyframe is not None
    window.smooth.setValue(40)
    window.save_preset("evening")
    window.smooth.setValue(0)
    window.apply_preset("evening")
    assert window.smooth.value() == 40 and window.background_spec == "#ff0000"
    window.tasks.wait()
    qtbot.waitUntil(lambda: not window.tasks.busy("remember-keyframe"), timeout=10000)
    window.save_settings()
    again = MainWindow(QSettings(str(tmp / "settings.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(again)
    again.engine_box.setCurrentText("eager")
    again.restore_session()
    assert again.source is not None and again.source.path.name == "clip.mp4"
    qtbot.waitUntil(lambda: again.keyframe is not None, timeout=10000)  # on the event loop's next turn
    assert again.keyframe is not None and again.keyframe.size == (W, H)
    assert again.preset_box.findText("evening") >= 0 and again.recent_box.count() == 2
    qtbot.waitUntil(lambda: again.matter is not None, timeout=60000)
    again.close()
    assert again.worker is None
    # close() waited for the tasks; their "done" arrives as a queued signal: nothing is left busy once delivered
    qtbot.waitUntil(lambda: not again.tasks.busy(), timeout=10000)


def test_unexpected_errors_go_to_the_banner(studio) -> None:
    import sys

    from flashvid.ui.app import install_excepthook

    window, _tmp = studio
    saved = sys.excepthook
    try:
        install_excepthook(window)
        try:
            raise RuntimeError("boom in a slot")
        except RuntimeError as exc:
            sys.excepthook(type(exc), exc, exc.__traceback__)
    finally:
        sys.excepthook = saved
    assert "boom in a slot" in window.banner.messages[0] and "keeps running" in window.banner.messages[0]


def test_fps_reads_below_one_and_the_keyframe_shape_is_checked(studio) -> None:
    from flashvid.ui.app import fmt_fps
    from flashvid.ui.worker import MattingWorker

    assert fmt_fps(0.44) == "0.4" and fmt_fps(7.46) == "7.5" and fmt_fps(24.4) == "24"
    w = MattingWorker([], None, None, None)  # type: ignore[arg-type]
    w._times.extend([100.0, 102.5])  # one frame every 2.5 s
    assert w.fps() == pytest.approx(0.4)
    window, tmp = studio
    from tests.conftest import make_video

    make_video(tmp / "wide.mp4", frames=4, audio=False, width=2 * W, height=H)
    window.set_keyframe(make_kf(tmp))
    window.open_source(str(tmp / "wide.mp4"))
    assert "another shape" in window.banner.messages[0]


def test_a_keyframe_from_another_scene_is_flagged(studio, qtbot) -> None:
    """Same shape, another scene (the generated clip is not the keyframe's synthetic room): the banner says so."""
    from tests.conftest import make_video

    window, tmp = studio
    kf = make_kf(tmp)
    assert kf.scene_match(kf.noflash) > 0.99
    window.set_keyframe(kf)
    make_video(tmp / "same_shape.mp4", frames=4, audio=False, width=W, height=H)
    window.banner.dismiss()
    window.open_source(str(tmp / "same_shape.mp4"))
    assert window.banner.messages and "does not look like" in window.banner.messages[0]


def test_subject_check_box_rebuilds_the_matter_with_it_and_persists(studio, qtbot) -> None:
    """ "only the keyframe's subject" starts as flashvid.defaults.SUBJECT_CHECK (off: issue 22); ticking it rebuilds
    the matter with the subject check (the gate, the keyframe's no-flash descriptor cached), unticking it without
    (no gate in the model), and the choice is kept in the settings like every other control."""
    from flashvid.ui import settings as settings_model

    from flashvid import defaults

    window, tmp = studio
    assert window.subject_box.isChecked() is defaults.SUBJECT_CHECK is False
    window.subject_box.setChecked(True)
    window.open_source(str(tmp / "clip.mp4"))
    window.set_keyframe(make_kf(tmp))
    qtbot.waitUntil(lambda: window.matter_config is not None and window.matter_config.subject_check, timeout=60000)
    first = window.matter.matter  # the FlashMatter inside the worker's lock
    assert first.subject_check is True and first.model.gate is not None
    window.subject_box.setChecked(False)
    # (a rebuild asked for earlier may land first: wait for the one without the check)
    qtbot.waitUntil(lambda: window.matter_config.subject_check is False, timeout=60000)
    unchecked = window.matter.matter
    assert unchecked.subject_check is False and unchecked.model.gate is None
    assert window.matter_config.subject_check is False
    window.subject_box.setChecked(True)
    qtbot.waitUntil(lambda: window.matter.matter is not unchecked, timeout=60000)
    checked = window.matter.matter
    assert checked.subject_check is True and checked.model.gate is not None
    assert window.matter_config.subject_check is True
    store = QSettings(str(tmp / "persist.ini"), QSettings.Format.IniFormat)
    settings_model.save(window.controls, store)
    window.subject_box.setChecked(False)
    settings_model.restore(window.controls, QSettings(str(tmp / "persist.ini"), QSettings.Format.IniFormat))
    assert window.subject_box.isChecked()
