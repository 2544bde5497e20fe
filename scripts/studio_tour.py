"""Drive flashvid-studio in a real X server as a person would, and save a screenshot of each step.

    python scripts/studio_tour.py --out DIR [--clip VIDEO --flash IMG --noflash IMG --keyframe FILE.flashkey]

Run it with DISPLAY set to an X server (the test starts Xvfb; `xvfb-run` works too) and QT_QPA_PLATFORM=xcb.
Keys and clicks go through the X server with xdotool when it is installed (real input events), else through
QTest on the real window. Without inputs it makes its own (a generated clip with sound and a flash pair).

Steps: first launch; a file opened (raw picture at once); the wizard opened with K while a spin box has the
focus, the pair loaded, a click added, Enter accepts; the live composite; V to the before / after split; an
engine rebuilt while a click on the mirror box is timed; an export with its progress bar; a bad file dropped,
the error banner, Dismiss clicked. DIR gets NN-name.png screenshots and results.json (what happened, timings).
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--clip")
    ap.add_argument("--flash")
    ap.add_argument("--noflash")
    ap.add_argument("--keyframe", help="a .flashkey for the clip (else the wizard's keyframe is used)")
    ap.add_argument(
        "--rendered-keyframe",
        action="store_true",
        help="for the live steps, a keyframe whose flash is rendered on the clip's first frame (as flashvid eval "
        "--real does: real footage has no filmed flash)",
    )
    ap.add_argument("--engine", default="eager", help="engine to start on (the tour rebuilds to onnx later)")
    args = ap.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    from PyQt6.QtCore import QPoint, QSettings, Qt
    from PyQt6.QtTest import QTest
    from PyQt6.QtWidgets import QApplication, QWidget

    app = QApplication.instance() or QApplication(sys.argv)
    from flashvid.ui.app import MainWindow, install_excepthook

    if args.clip is None:
        sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
        from flashvid.imageio import write_image
        from flashvid.training.data.synth import FlashLight, synthetic_pair
        from tests.conftest import make_video

        make_video(out / "clip.mp4", frames=150, audio=True, width=320, height=240)
        args.clip = str(out / "clip.mp4")
        pair = synthetic_pair(240, 320, seed=3, light=FlashLight(d_ratio=4.0, power=2.5, exposure_f=0.33))
        write_image(out / "flash.png", pair.flash)
        write_image(out / "noflash.png", pair.noflash)
        args.flash, args.noflash = str(out / "flash.png"), str(out / "noflash.png")

    xdo = shutil.which("xdotool")
    results: dict[str, Any] = {"input": "xdotool" if xdo else "qtest", "steps": []}

    def pump(seconds: float) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            app.processEvents()
            time.sleep(0.01)

    def wait(cond, timeout: float, what: str) -> None:
        end = time.monotonic() + timeout
        while not cond():
            if time.monotonic() > end:
                raise TimeoutError(f"timed out waiting for {what}")
            app.processEvents()
            time.sleep(0.01)

    from PyQt6.QtCore import QTimer

    class Heart:
        """A 5 ms timer on the GUI thread for the whole session: the longest gap between its beats in each phase
        is the longest the GUI could not answer (screenshots, taken on the GUI thread by this driver, excluded)."""

        def __init__(self) -> None:
            self.timer = QTimer(interval=5)
            self.timer.timeout.connect(self.beat)
            self.name, self.last, self.worst = "start", time.perf_counter(), {}
            self.stalls: list[tuple[str, int]] = []

        def beat(self) -> None:
            now = time.perf_counter()
            gap = now - self.last
            self.last = now
            self.worst[self.name] = max(self.worst.get(self.name, 0.0), gap)
            if gap > 0.15:
                self.stalls.append((self.name, round(gap * 1000)))

        def phase(self, name: str) -> None:
            self.name = name

        def start(self) -> None:
            self.last = time.perf_counter()
            self.timer.start()

        def stop(self) -> None:
            self.timer.stop()

    heart = Heart()

    def shot(name: str, settle: float = 0.3) -> None:
        pump(settle)
        screen = app.primaryScreen()
        assert screen is not None
        running = heart.timer.isActive()
        heart.stop()
        screen.grabWindow(0).save(str(out / f"{name}.png"))  # the X server's whole screen
        if running:
            heart.start()
        results["steps"].append(name)

    def key(widget: QWidget, k: Qt.Key, xname: str) -> None:
        if xdo:
            subprocess.run([xdo, "key", "--clearmodifiers", xname], check=True, timeout=10)
            pump(0.2)
        else:
            QTest.keyClick(widget, k)

    def click(widget: QWidget, at: QPoint | None = None, button: int = 1) -> float:
        """Click `widget` (at its centre or `at`; button 1 left, 3 right); returns the time the click was sent."""
        p = widget.mapToGlobal(at if at is not None else widget.rect().center())
        t = time.perf_counter()
        if xdo:  # xdotool runs beside the event loop, which keeps turning (the driver never blocks the GUI)
            proc = subprocess.Popen([xdo, "mousemove", str(p.x()), str(p.y()), "click", str(button)])
            while proc.poll() is None:
                app.processEvents()
                time.sleep(0.002)
        else:
            which = Qt.MouseButton.LeftButton if button == 1 else Qt.MouseButton.RightButton
            QTest.mouseClick(widget, which, pos=at or widget.rect().center())
        return t

    window = MainWindow(QSettings(str(out / "studio.ini"), QSettings.Format.IniFormat))
    install_excepthook(window)
    window.engine_box.setCurrentText(args.engine)
    window.resize(1280, 800)
    window.move(0, 0)
    window.show()
    window.activateWindow()
    pump(1.0)
    shot("01-first-launch")

    heart.start()
    heart.phase("open a file")
    window.open_path(args.clip)
    wait(lambda: window.preview.raw is not None, 60, "the raw picture")
    shot("02-source-open-raw")

    window.internal.setFocus()  # shortcuts from a spin box
    pump(0.3)
    heart.phase("keyframe wizard")
    key(window.internal, Qt.Key.Key_K, "k")
    wait(lambda: window.wizard is not None and window.wizard.isVisible(), 20, "the wizard (K)")
    wizard = window.wizard
    assert wizard is not None
    wizard.move(60, 60)
    wizard.load_files(args.flash, args.noflash)
    wait(lambda: wizard.keyframe is not None, 120, "the keyframe")
    wizard.view.setCurrentText("trimap")
    img = wizard.canvas.image
    assert img is not None
    s = min(wizard.canvas.width() / img.width(), wizard.canvas.height() / img.height())
    corner = QPoint(
        int((wizard.canvas.width() - img.width() * s) / 2 + 10),
        int((wizard.canvas.height() - img.height() * s) / 2 + 10),
    )
    n_points = len(wizard.keyframe.labels)
    click(wizard.canvas, corner, button=3)  # a right click marks background, segmented again on a worker thread
    wait(lambda: wizard.keyframe is not None and len(wizard.keyframe.labels) > n_points, 120, "the new point")
    results["wizard_points_added"] = len(wizard.keyframe.labels) - n_points
    shot("03-wizard")
    wizard.activateWindow()
    pump(0.3)
    key(wizard, Qt.Key.Key_Return, "Return")  # Enter accepts
    wait(lambda: not wizard.isVisible(), 20, "Enter to accept")
    results["enter_accepted"] = window.keyframe is not None
    if args.rendered_keyframe:  # the driver's own work on this thread: not the studio's, not measured
        heart.stop()
        from flashvid.keyframe.person import PersonSegmenter
        from flashvid.training.real_eval import clip_keyframe, load_real_clip

        kf = clip_keyframe(load_real_clip(args.clip, 2, PersonSegmenter()))
        kf.save(out / "rendered.flashkey")
        args.keyframe = str(out / "rendered.flashkey")
        heart.start()
    heart.phase("accept the keyframe, live")
    if args.keyframe:
        window.open_keyframe(args.keyframe)
    if not window.banner.isHidden():  # e.g. the pair was taken elsewhere: read, then dismissed
        results["warning_before_live"] = window.banner.messages[0]
        click(window.banner.dismiss_button)
    wait(lambda: window.preview.frame is not None, 240, "the composite")
    window.activateWindow()
    pump(8.0)  # the app's own FPS counter over a few seconds of live play
    assert window.worker is not None
    results["live_fps"] = round(window.worker.fps(), 1)
    results["live_dropped"] = window.worker.dropped
    results["live_engine"] = window.engine_label.text()
    results["source_size"] = f"{window.source.width}x{window.source.height}" if window.source else ""
    shot("04-live-composite")

    window.activateWindow()
    window.raise_()
    window.internal.setFocus()
    wait(lambda: app.focusWidget() is window.internal and window.isActiveWindow(), 10, "the spin box's focus")
    pump(0.2)
    key(window.internal, Qt.Key.Key_V, "v")
    key(window.internal, Qt.Key.Key_V, "v")
    results["view_after_two_v"] = window.view_box.currentText()
    window.preview.split = 0.5
    pump(1.0)
    shot("05-before-after")

    # an engine builds while the user clicks: the click must be handled at once

    clicked: list[float] = []
    window.mirror_box.toggled.connect(lambda _: clicked.append(time.perf_counter()))
    t_idle = click(window.mirror_box)  # the same click with nothing building: the input path's own cost
    wait(lambda: bool(clicked), 10, "the click on mirror")
    results["click_ms_idle"] = round((clicked.pop() - t_idle) * 1000, 1)
    t_build = time.perf_counter()
    heart.phase("switch engine (onnx build)")
    window.engine_box.setCurrentText("onnx" if window.engine_box.currentText() != "onnx" else "eager")
    wait(lambda: window.tasks.busy("matter"), 10, "the engine build to start")
    t_click = click(window.mirror_box)
    wait(lambda: bool(clicked), 10, "the click on mirror")
    results["click_ms_while_building"] = round((clicked[0] - t_click) * 1000, 1)
    results["building_when_clicked"] = window.tasks.busy("matter")
    shot("06-engine-building", settle=0.02)  # the busy bar, while the build still runs
    wait(lambda: not window.tasks.busy("matter"), 300, "the engine build")
    results["build_s"] = round(time.perf_counter() - t_build, 2)
    pump(1.0)
    results["gui_longest_stall_ms_while_building"] = round(heart.worst.get("switch engine (onnx build)", 0) * 1000)
    results["engine_label"] = window.engine_label.text()
    click(window.mirror_box)
    pump(0.5)

    heart.phase("start an export")
    export_to = out / "export.mp4"
    export_to.unlink(missing_ok=True)
    window.ask_background_loss = lambda *a: "go on"  # type: ignore[method-assign]
    window.export_file(str(export_to))
    heart.phase("exporting")
    wait(lambda: window.export_panel.bar.value() >= 5, 300, "export progress")
    shot("07-export-in-progress")
    wait(lambda: window.exporter is None, 900, "the export")
    results["export_message"] = window.statusBar().currentMessage()

    heart.phase("a bad file")
    bad = out / "notes.txt"
    bad.write_text("not a video")
    window.open_path(str(bad))
    shot("08-error-banner")
    click(window.banner.dismiss_button)
    wait(lambda: window.banner.isHidden(), 10, "Dismiss")
    results["banner_dismissed"] = True
    results["fps_label"] = window.fps_label.text()

    # live again: record a take, change the background, drop a damaged video while it streams
    heart.phase("play, record")
    window.toggle_pause()
    wait(lambda: window.worker is not None and window.worker.matter is not None, 60, "live play")
    take = out / "take.mp4"
    take.unlink(missing_ok=True)
    window.toggle_record(True, str(take))
    wait(lambda: window.recorder is not None and window.recorder.frames >= 20, 120, "20 recorded frames")
    heart.phase("stop recording")
    key(window.internal, Qt.Key.Key_R, "r")  # R stops it; the file is finished off the GUI thread
    wait(lambda: window.recorder is None and "finishing the recording" not in window.tasks.labels(), 60, "the take")
    results["take_written"] = take.is_file()
    heart.phase("background changes")
    for kind in ("blur", "transparent", "colour"):
        window.background_box.setCurrentText(kind)
        window.background_box.textActivated.emit(kind)  # as the user picking it
        pump(0.8)
        if kind == "transparent":
            shot("09-transparent-checkerboard")
    heart.phase("drop a damaged video while streaming")
    broken = out / "broken.mp4"
    broken.write_bytes(b"not a video " * 200)
    worker = window.worker
    window.open_path(str(broken))
    pump(1.0)
    results["stream_kept_after_bad_drop"] = window.worker is worker and worker is not None and worker.isRunning()
    click(window.banner.dismiss_button)
    import numpy as np

    from flashvid.imageio import write_image

    room = out / "room.png"
    write_image(room, np.full((240, 320, 3), (40, 90, 160), np.uint8))
    window.set_background_spec(str(room))
    pump(0.5)
    window.stop()
    window.tasks.wait()
    window.close()
    heart.stop()

    # a relaunch with an image background: the window (at its last size) and no file dialog
    from PyQt6.QtWidgets import QFileDialog

    heart.phase("relaunch with an image background")
    heart.start()
    again = MainWindow(QSettings(str(out / "studio.ini"), QSettings.Format.IniFormat))
    install_excepthook(again)
    if not again.restore_geometry():
        again.resize(1280, 800)
    again.show()
    again.restore_session()
    pump(2.0)
    results["relaunch_dialogs"] = [
        w.windowTitle() for w in app.topLevelWidgets() if isinstance(w, QFileDialog) and w.isVisible()
    ]
    results["relaunch_background"] = again.background_spec
    shot("10-relaunch-image-background")
    heart.stop()
    results["gui_worst_ms_by_phase"] = {k: round(v * 1000) for k, v in heart.worst.items()}
    results["gui_stalls_over_150ms"] = heart.stalls
    (out / "results.json").write_text(json.dumps(results, indent=1))
    again.stop()
    again.tasks.wait()
    again.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
