"""Playback: start and stop the worker, pause, seek, paint the newest frame, the FPS and the slow-down hint."""

from __future__ import annotations

import time
from typing import Any

import numpy as np
from flashvid.ui.actions.base import WindowBase
from flashvid.ui.format import fmt_fps, fmt_time
from flashvid.ui.worker import MattingWorker

from flashvid.video.sources import VideoFile

SEEK_STEP_S = 5.0


#: the studio never suggests an internal resolution below this (at 256 faces were cut out of the matte)
LOWEST_HINTED_SIZE = 320

class PlaybackActions(WindowBase):
    _stopping: list[MattingWorker]
    _closing: bool

    def start(self) -> None:
        """Play the source from `position`: matted when a matter exists, raw before."""
        if self.source is None or self._closing:
            return
        self.stop()
        self.worker = MattingWorker(self.session.frames(), self.matter, self.compositor, self.sinks)
        self.worker.wants_cutout = self.preview.needs_cutout
        self.worker.frameReady.connect(self._paint_newest)
        self.worker.stats.connect(self._show_stats)
        self.worker.failed.connect(self.error)
        self.worker.start()
        self.playing = True
        self.stream_started = time.monotonic()
        self.play_button.setText("Pause")
        self._update_state()

    def stop(self) -> None:
        if self.worker is not None:
            self.worker.stop()
            if not self.worker.isFinished():  # still inside a long frame: keep it alive until it ends
                self._stopping.append(self.worker)
                self.worker.finished.connect(lambda w=self.worker: self._stopping.remove(w))
            self.worker = None
        if self.session.paced is not None:
            self.position = self.session.paced.position
        self.playing = False
        self.play_button.setText("Play")
        self.fps_label.setText("FPS -")  # nothing runs: no rate to show (not the last one measured)
        self.hint_label.hide()

    def toggle_pause(self) -> None:
        if self.playing:
            self.stop()
            where = f" at {fmt_time(self.position)}" if isinstance(self.source, VideoFile) else ""
            self.say(f"paused{where} (Space to play)", 5000)
        else:
            self.start()
        self._update_state()

    def seek(self, seconds: float) -> None:
        """Jump to `seconds` in a file; keeps playing if it was playing, else shows that frame."""
        if not isinstance(self.source, VideoFile):
            return
        self.position = float(np.clip(seconds, 0.0, max(self.source.duration - 0.05, 0.0)))
        self.timeline.setValue(int(self.position * 1000))
        if self.playing:
            self.start()
        else:
            self.refresh_still()
        self._update_state()

    def refresh_still(self) -> None:
        """Paused on a file: show the frame at the position as the live view would (matted, over the background,
        with the matte finishing), decoded and matted off the GUI thread; the raw frame before a keyframe."""
        if self.playing or not isinstance(self.source, VideoFile):
            return
        source, position, locked, compositor = self.source, self.position, self.matter, self.compositor
        cutout = self.preview.needs_cutout()

        def work() -> Any:
            from flashvid.video.pipeline import compose_frame
            from flashvid.video.sources import Frame

            frame = next(iter(source.frames_from(position)), None)
            if frame is None:
                return None
            if locked is None or locked.matter.keyframe is None:
                return frame.image
            out = compose_frame(locked.process(frame.image), compositor, Frame(frame.image, frame.time, 0))
            if cutout:
                out.make_cutout()
            return out

        def show(out: Any) -> None:
            if out is None or self.playing:
                return
            if isinstance(out, np.ndarray):
                self.preview.show_raw(out)
            else:
                self.preview.show_frame(out)

        self.tasks.submit("still", "showing the paused frame", work, show, lambda e: self.error(str(e)))

    def step_back(self) -> None:
        self.seek(self._now() - SEEK_STEP_S)

    def step_forward(self) -> None:
        self.seek(self._now() + SEEK_STEP_S)

    def _now(self) -> float:
        return self.session.now(self.playing)

    def set_in_point(self) -> None:
        if not isinstance(self.source, VideoFile):
            self.error("in / out points are for a video file: open one")
            return
        self.in_point = self._now()
        if self.out_point is not None and self.out_point <= self.in_point:
            self.out_point = None
        self._say_points()

    def set_out_point(self) -> None:
        if not isinstance(self.source, VideoFile):
            self.error("in / out points are for a video file: open one")
            return
        now = self._now()
        if now <= self.in_point:
            self.error(f"the out point must come after the in point ({fmt_time(self.in_point)}); move on first")
            return
        self.out_point = now
        self._say_points()

    def clear_points(self) -> None:
        self.in_point, self.out_point = 0.0, None
        self._say_points()

    def _say_points(self) -> None:
        whole = self.in_point == 0.0 and self.out_point is None
        end = fmt_time(self.out_point) if self.out_point is not None else "the end"
        text = "" if whole else f"export {fmt_time(self.in_point)} - {end}"
        self.points_label.setText(text)
        self.say(text or "export: the whole file", 5000)

    def _paint_newest(self) -> None:
        if self.worker is None:
            return
        if self.worker.matter is None:
            raw = self.worker.take_raw()
            if raw is not None:
                self.preview.show_raw(raw)
        else:
            frame = self.worker.take()
            if frame is not None:
                self.preview.show_frame(frame)
        for sink, exc in self.sinks.errors:
            self.error(f"{type(sink).__name__} stopped: {exc}")
        self.sinks.errors.clear()

    def _show_stats(self, fps: float, latency_ms: float, dropped: int) -> None:
        text = f"FPS {fmt_fps(fps)}"
        if self.worker is not None and self.worker.matter is not None:
            text += f"  latency {latency_ms:.0f} ms  dropped {dropped}"
        self.fps_label.setText(text)
        self._hint(fps)

    def _hint(self, fps: float) -> None:
        """When the composite runs slower than the source, say what to lower."""
        src, w = self.source, self.worker
        rate = float(getattr(src, "fps", 0.0) or 0.0)
        if src is None or w is None or w.matter is None or time.monotonic() - self.stream_started < 3.0:
            self.hint_label.hide()
            return
        if fps >= 0.9 * rate:
            self.hint_label.hide()
            return
        tips = []
        now = self.internal.value()
        if now > LOWEST_HINTED_SIZE:  # below it a face at the frame's edge can fall out of the matte
            lower = max(LOWEST_HINTED_SIZE, int(now * 0.75) // 32 * 32)
            tips.append(f"lower the internal resolution to {lower} (now {now}; not below {LOWEST_HINTED_SIZE})")
        if self.engine_box.currentText() == "eager":
            tips.append("choose engine auto")
        if self.device_box.currentText() == "cpu" and self.device_box.count() > 1:
            tips.append(f"run on {self.device_box.itemText(1)}")
        if not tips:
            tips.append("close other programs, or use a smaller source")
        self.hint_label.setText(f"Live {fmt_fps(fps)} FPS is below the source's {rate:.0f}: " + ", or ".join(tips))
        self.hint_label.show()

    def _update_state(self) -> None:
        """The status bar's lasting state (what plays, what records, what streams) and the timeline."""
        parts = []
        if self.source is not None:
            parts.append(f"{self.source_label} {'playing' if self.playing else 'paused'}")
            if self.keyframe is None:
                parts.append("no keyframe yet")
        if self.recorder is not None:
            parts.append("recording")
        if self.virtualcam_box.isChecked():
            parts.append("virtual camera on")
        if self.udp_box.isChecked():
            parts.append("UDP on")
        if self.exporter is not None:
            parts.append("exporting")
        self.state_label.setText(" | ".join(parts))
        if isinstance(self.source, VideoFile):
            now = self._now()
            if not self.timeline.isSliderDown():
                self.timeline.setValue(int(now * 1000))
            self.time_label.setText(f"{fmt_time(now)} / {fmt_time(self.source.duration)}")
        if self.recorder is not None:
            self.record_label.setText(self.session.record_status())
