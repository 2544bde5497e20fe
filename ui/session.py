"""The studio's state without Qt: what is open, the keyframe, the matter's settings, the background and the
recording. The window (`flashvid.ui.app`) shows it and feeds it the user's choices; tests drive it without one.

    session = StudioSession()
    session.open_source("clip.mp4")                 # FlashvidError for a bad file
    session.set_background("blur:25")               # -> "blur" (the kind the background box shows)
    session.start_recording("take.mp4", "mp4")      # frames go to session.sinks while the worker runs
    message = session.stop_recording()
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np

from flashvid import defaults
from flashvid.compose import Compositor
from flashvid.errors import FlashvidError
from flashvid.keyframe import Keyframe
from flashvid.keyframe.core import SCENE_MATCH_MIN
from flashvid.spec import CompositorSpec, MatterSpec
from flashvid.video.audio import LiveAudio
from flashvid.video.background import parse_background
from flashvid.video.live import ConstantRate, Paced, SinkSet
from flashvid.video.microphone import Microphone, MicTake
from flashvid.video.sinks import Sink, make_sink, output_path
from flashvid.video.sources import VideoFile, Webcam

#: typed file suffix -> record / export format (the user's name decides, not a stale format box)
SUFFIX_FORMAT = {".mp4": "mp4", ".m4v": "mp4", ".mov": "prores", ".webm": "webm"}


def parse_microphone(text: str) -> tuple[str | None, str | None]:
    """The microphone field: "" (the platform's default), a device ("hw:1"), or FORMAT:DEVICE ("alsa:hw:1",
    "dshow:audio=USB Microphone", "lavfi:sine=frequency=440,arealtime") -> (format or None, device or None)."""
    text = text.strip()
    fmt, sep, device = text.partition(":")
    if sep and fmt in ("alsa", "pulse", "oss", "jack", "avfoundation", "dshow", "lavfi"):
        return fmt, device
    return None, text or None


def background_kind(spec: str) -> str:
    """The background box's entry for a background spec: colour, blur, transparent, image... or video..."""
    low = spec.lower()
    if low.startswith("#"):
        return "colour"
    if low.startswith("blur"):
        return "blur"
    if low in ("transparent", "none"):
        return "transparent"
    return "video..." if Path(spec).suffix.lower() in defaults.VIDEO_EXTENSIONS else "image..."


def format_for(path: str, fallback: str) -> tuple[str, Path]:
    """The format a typed file name asks for (its suffix), else `fallback`; and the output path."""
    fmt = SUFFIX_FORMAT.get(Path(path).suffix.lower(), fallback)
    return fmt, output_path(path, fmt)


ALPHA_FORMATS = ("prores", "webm", "png")


def background_loss(fmt: str, background: str) -> str | None:
    """What an output in `fmt` would silently lose of `background` (None: nothing): the format has no alpha and
    the background is transparent (it would come out black), or the format keeps the cut-out with alpha and the
    background is not in it."""
    transparent = background.strip().lower() in ("none", "transparent")
    if fmt == "mp4" and transparent:
        return "MP4 has no alpha channel: the transparent background would come out black"
    if fmt in ALPHA_FORMATS and not transparent:
        what = "blurred" if background.startswith("blur") else "colour" if background.startswith("#") else "chosen"
        return f"{fmt} keeps the subject with alpha (a cut-out): the {what} background is not in the file"
    return None


class StudioSession:
    """The studio's model. Attributes:

    source: the open camera or file (None before one is opened); source_label its name for the user.
    position: seconds into a file where play resumes after a pause or a seek.
    keyframe: the keyframe in use (None before one is taken or opened).
    matter_spec: the settings the next matter is built with; matter_config: what the working one was built with.
    background_spec / compositor: the background as the user gave it, and the compositor the worker reads.
    sinks: the live outputs (recording, virtual camera, UDP), changeable while frames flow.
    recorder / record_path / record_started: the recording in progress.
    """

    def __init__(self) -> None:
        self.source: VideoFile | Webcam | None = None
        self.source_label = ""
        self.position = 0.0
        self.paced: Paced | None = None
        self.keyframe: Keyframe | None = None
        self.matter_spec = MatterSpec(engine=defaults.STUDIO_ENGINE)
        self.matter_config: MatterSpec | None = None
        self.background_spec = defaults.BACKGROUND
        self.compositor: Compositor = CompositorSpec().build()
        self.sinks = SinkSet()
        self.recorder: Any = None
        self.record_sink: Sink | None = None
        self.record_path: Path | None = None
        self.record_started = 0.0
        #: a camera's takes carry the microphone's sound: None (off), or `parse_microphone`'s (format, device);
        #: (None, None) is the platform's default microphone
        self.microphone: tuple[str | None, str | None] | None = None
        self.record_warning: str | None = None  # what the last start_recording could not do (no microphone)
        self._mic: Microphone | None = None

    # ---------------------------------------------------------------------------------------------- source

    @staticmethod
    def probe_source(spec: int | str) -> VideoFile | Webcam:
        """Open a camera index or a video file without using it yet; raises `FlashvidError` (the source in use
        is untouched: a bad file dropped while streaming stops nothing)."""
        return Webcam(spec) if isinstance(spec, int) else VideoFile(spec)

    def open_source(self, spec: int | str, probed: VideoFile | Webcam | None = None) -> VideoFile | Webcam:
        """Use a camera index or a video file (`probed`: it, opened already by `probe_source`); the previous one
        is let go. Raises `FlashvidError`."""
        source: VideoFile | Webcam = probed if probed is not None else self.probe_source(spec)
        self.source = source
        self.source_label = f"camera {spec}" if isinstance(spec, int) else Path(spec).name
        self.position = 0.0
        self.paced = None
        return source

    @property
    def is_file(self) -> bool:
        return isinstance(self.source, VideoFile)

    def frames(self) -> Any:
        """What the worker reads: a file played at its own pace from `position`, or the camera."""
        if isinstance(self.source, VideoFile):
            self.paced = Paced(self.source, start=self.position)
            return self.paced
        self.paced = None
        return self.source

    def now(self, playing: bool) -> float:
        """Seconds into a file: where play is now, or where it was paused."""
        return self.paced.position if playing and self.paced is not None else self.position

    def frame_at_position(self) -> np.ndarray | None:
        """The file's frame at `position`, or the camera's next frame."""
        if isinstance(self.source, Webcam):
            return self.source.read()
        if isinstance(self.source, VideoFile):
            return next(iter(self.source.frames_from(self.position))).image
        return None

    # -------------------------------------------------------------------------------------------- keyframe

    def keyframe_fit_warning(self, frame: np.ndarray | None) -> str | None:
        """Why the keyframe may not suit the source (another shape, another scene), or None."""
        kf, src = self.keyframe, self.source
        if kf is None or src is None:
            return None
        kw, kh = kf.size
        if abs(kw / kh - src.width / src.height) > 0.02:
            return (
                f"the keyframe is {kw}x{kh} but {self.source_label} is {src.width}x{src.height} (another shape): "
                "it will be stretched; take the keyframe with this source (K)"
            )
        if frame is not None and kf.scene_match(frame) < SCENE_MATCH_MIN:
            return (
                f"the keyframe does not look like {self.source_label}'s scene (another room or framing?): the "
                "subject may be missed; take the keyframe with this source (K)"
            )
        return None

    # ------------------------------------------------------------------------------------------ background

    def set_background(self, spec: str) -> str:
        """Use a background by its spec (#RRGGBB, blur:N, transparent, an image or a video file) from the next
        frame on; returns its kind (`background_kind`). Raises `FlashvidError` and keeps the old one."""
        self.compositor.background = parse_background(spec)  # read by the worker on its next frame
        self.background_spec = spec
        return background_kind(spec)

    # ------------------------------------------------------------------------------------------- recording

    def start_recording(self, path: str, fmt: str) -> Path:
        """Record what the live view shows into `path` in `fmt` (its own clock from 0); returns the output path.
        Raises `FlashvidError` (no source, a bad name)."""
        if self.source is None:
            raise FlashvidError("open a source first")
        out = output_path(path, fmt)
        rate = getattr(self.source, "rate", self.source.fps)
        # a file's own sound, from where play is now; a camera's, from the microphone when it is on
        sound = self.source.path if isinstance(self.source, VideoFile) and self.source.has_audio else None
        offset = self.paced.position if sound is not None and self.paced is not None else self.position
        take = self._microphone_take(fmt)
        try:
            self.recorder = make_sink(
                fmt,
                out,
                self.source.width,
                self.source.height,
                rate,
                sound,
                audio_offset=offset if sound else 0.0,
                microphone=take,
            )
        except BaseException:
            if take is not None:
                take.close()
            raise
        self.record_path = out
        self.record_started = time.monotonic()
        on_start = None
        audio = getattr(self.recorder, "audio", None)
        if isinstance(audio, LiveAudio) and isinstance(self.source, Webcam):
            camera, live = self.source, audio

            def on_start(first: float) -> None:  # the take's time 0 on the camera's clock, for the sound
                live.set_origin(camera.clock_origin + first)

        self.record_sink = ConstantRate(self.recorder, float(rate), on_start=on_start)  # its own clock from 0
        self.sinks.add(self.record_sink)
        return out

    @property
    def microphone_open(self) -> bool:
        return self._mic is not None

    def open_microphone(self) -> str:
        """Open the microphone `microphone` names (slow on some systems: call it off the GUI thread); returns its
        name. Raises `FlashvidError` (one line: the device and what to do)."""
        if self.microphone is None:
            raise FlashvidError("the microphone is off")
        if self._mic is not None and self._mic.error is not None:  # the device went away since: open it again
            self.close_microphone()
        if self._mic is None:
            self._mic = Microphone(self.microphone[1], self.microphone[0])
        return f"{self._mic.fmt}:{self._mic.device}"

    def _microphone_take(self, fmt: str) -> MicTake | None:
        """A take of the microphone for a camera's recording when it is on; None, with `record_warning` saying
        why, where it cannot be opened: the take is then recorded without sound."""
        self.record_warning = None
        if self.microphone is None or not isinstance(self.source, Webcam) or fmt in ("matte", "png"):
            return None
        try:
            self.open_microphone()
        except FlashvidError as exc:
            self.record_warning = f"{exc}; this take has no sound"
            return None
        assert self._mic is not None
        return self._mic.take()

    def close_microphone(self) -> None:
        """Let the microphone go (the studio closes, or the microphone is switched off)."""
        if self._mic is not None:
            self._mic.close()
            self._mic = None

    def stop_recording(self) -> str:
        """Finish the recording; returns what to tell the user. Raises what finishing the file raised."""
        recorder, self.recorder = self.recorder, None
        if recorder is None:
            return ""
        record_sink, self.record_sink = self.record_sink, None
        if record_sink is not None:
            self.sinks.close_sink(record_sink)  # finished once no frame is being written to it
        else:
            recorder.close()
        if getattr(recorder, "frames", 1) == 0:
            return "nothing was recorded (no frame was matted: take a keyframe first)"
        return f"recorded {self.record_path}"

    def discard_recording(self) -> None:
        """Stop the recording and keep nothing of it."""
        recorder, self.recorder = self.recorder, None
        if recorder is None:
            return
        record_sink, self.record_sink = self.record_sink, None
        if record_sink is not None:
            self.sinks.close_sink(record_sink, abort=True)
        else:
            recorder.abort()
        kept = getattr(recorder, "kept_partial", None)
        if kept is not None:
            kept.unlink(missing_ok=True)

    def record_status(self) -> str:
        """Seconds, frames and megabytes of the recording in progress ("" when none)."""
        if self.recorder is None:
            return ""
        tmp = getattr(self.recorder, "tmp", None)
        size = tmp.stat().st_size if tmp is not None and Path(tmp).is_file() else 0
        frames = getattr(self.recorder, "frames", 0)
        return f"{time.monotonic() - self.record_started:.0f} s, {frames} frames, {size / 1e6:.1f} MB"
