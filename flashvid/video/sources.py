"""Frame sources: iterables of `Frame` (uint8 RGB image, timestamp, index).

* `VideoFile` (PyAV): any container FFmpeg reads; rotation metadata honoured; presentation timestamps kept
  (variable frame rate survives); the audio stream is exposed for passthrough (`audio_stream`).
* `Webcam` (OpenCV): a camera index or device path, requested size and fps, exposure lock where the driver
  supports it (the screen-flash keyframe needs a fixed exposure).
* `ImageFolder`: sorted image files at a given frame rate.
* `ArraySource`: frames already in memory (generated clips, tests).
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import cv2
import numpy as np

from flashvid import defaults
from flashvid.errors import InputError
from flashvid.imageio import read_image


@dataclass
class Frame:
    """image: H x W x 3 uint8 RGB; time: seconds from the start (presentation time); index: 0, 1, ..."""

    image: np.ndarray
    time: float
    index: int


@runtime_checkable
class Source(Protocol):
    """What the pipeline reads: frames with their times, a size and a rate. `VideoFile`, `Webcam`, `ImageFolder`
    and `ArraySource` are sources; files and folders also have ``len()``."""

    width: int
    height: int
    fps: float
    rate: Fraction
    has_audio: bool

    def __iter__(self) -> Iterator[Frame]: ...


#: FFmpeg's disposition flag of a cover picture stored as a one-frame video stream (AV_DISPOSITION_ATTACHED_PIC)
ATTACHED_PIC = 0x400


def video_stream(container: Any) -> Any:
    """The container's video: its first video stream that is not a cover picture (phones and editors store the
    cover as a one-frame video stream, sometimes first), else its first video stream."""
    streams = list(container.streams.video)
    moving = [s for s in streams if not int(getattr(s, "disposition", 0) or 0) & ATTACHED_PIC]
    return (moving or streams)[0]


class VideoFile:
    """Decode a video file with PyAV.

    Attributes (after opening): width, height (after rotation), fps (average, for encoders), frame_count
    (container's estimate, 0 if unknown), duration (s), time_base, rotation (degrees), has_audio.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        import av

        self.path = Path(path)
        if not self.path.is_file():
            raise InputError(f"{self.path}: no such video file; check the path")
        try:
            with av.open(str(self.path)) as c:
                if not c.streams.video:
                    raise InputError(f"{self.path}: has no video stream; give a video file (mp4, mov, mkv, webm)")
                s = video_stream(c)
                from flashvid.defaults import check_frame_size

                # from the stream's header, before a frame is decoded (a huge frame would cost gigabytes)
                check_frame_size(int(s.codec_context.width), int(s.codec_context.height), str(self.path))
                self.fps = float(s.average_rate or s.guessed_rate or 30)
                self.rate = s.average_rate or s.guessed_rate or Fraction(30)
                self.frame_count = int(s.frames or 0)
                self.duration = (
                    float(s.duration * s.time_base) if s.duration and s.time_base else float(c.duration or 0) / 1e6
                )
                self.has_audio = bool(c.streams.audio)
                first = next(c.decode(s), None)
                if first is None:
                    raise InputError(f"{self.path}: holds no decodable frame; re-export it")
                self.rotation = round(getattr(first, "rotation", 0) or 0) % 360
                img = self._to_rgb(first)
                self.height, self.width = img.shape[:2]
        except av.error.FFmpegError as exc:
            raise InputError(f"{self.path}: cannot be read as a video ({exc}); re-export it as MP4 (H.264)") from exc
        if not 0 < self.fps <= 1000:
            raise InputError(f"{self.path}: reports {self.fps:g} frames a second; re-export it at a video's rate")

    def _to_rgb(self, frame) -> np.ndarray:
        img = frame.to_ndarray(format="rgb24")
        # PyAV reports the display matrix as a counter-clockwise rotation to apply for display
        if self.rotation == 90:
            img = cv2.rotate(img, cv2.ROTATE_90_COUNTERCLOCKWISE)
        elif self.rotation == 180:
            img = cv2.rotate(img, cv2.ROTATE_180)
        elif self.rotation == 270:
            img = cv2.rotate(img, cv2.ROTATE_90_CLOCKWISE)
        return np.ascontiguousarray(img)

    def __len__(self) -> int:
        return self.frame_count

    def shortfall(self) -> str:
        """After a full read: why fewer frames decoded than the container announced ('' when none were missing)."""
        if self.decode_error:
            return f"decoding stopped after {self.decoded} frames ({self.decode_error})"
        expected = self.frame_count or round(self.duration * self.fps)  # mkv / webm announce a duration only
        if expected and self.decoded < expected - 1:
            return f"the file ends after {self.decoded} of the {expected} frames it announces (truncated?)"
        return ""

    def __iter__(self) -> Iterator[Frame]:
        return self.frames_from(0.0)

    def frames_from(self, start: float) -> Iterator[Frame]:
        """The frames from `start` seconds on (seeking to the keyframe before it, then decoding up to it); each
        frame's time and index count from the file's first frame, as in a full read."""
        import av

        self.decoded, self.decode_error = 0, ""
        with av.open(str(self.path)) as c:
            s = video_stream(c)
            s.thread_type = "AUTO"
            t0 = float(s.start_time * s.time_base) if s.start_time is not None and s.time_base else None
            if start > 0 and s.time_base:
                c.seek(int((start + (t0 or 0.0)) / s.time_base), stream=s, backward=True)
            frames = c.decode(s)
            i = 0
            while True:
                try:
                    frame = next(frames)
                except StopIteration:
                    return
                except av.error.FFmpegError as exc:  # damaged data mid-stream: keep what decoded, say why
                    self.decode_error = f"{type(exc).__name__}: {exc}"
                    return
                t = float(frame.pts * frame.time_base) if frame.pts is not None and frame.time_base else i / self.fps
                t0 = t if t0 is None else t0
                self.decoded = i + 1
                i += 1
                if start > 0 and t - t0 < start - 0.5 / self.fps:
                    continue  # decoded from the keyframe before `start`, up to it
                yield Frame(self._to_rgb(frame), t - t0, round((t - t0) * self.fps) if start > 0 else i - 1)


@contextlib.contextmanager
def _quiet_opencv() -> Iterator[None]:
    """OpenCV's own warnings (camera probing) go nowhere for a moment: flashvid says what matters in one line."""
    logging = cv2.utils.logging
    old = logging.getLogLevel()
    logging.setLogLevel(logging.LOG_LEVEL_ERROR)
    try:
        yield
    finally:
        logging.setLogLevel(old)


def find_cameras(limit: int = 8) -> list[int]:
    """Indices of the cameras that open (on Linux only those with a /dev/videoN node are probed)."""
    found = []
    for i in range(limit):
        if Path("/dev").is_dir() and not Path(f"/dev/video{i}").exists():
            continue
        with _quiet_opencv():
            cap = cv2.VideoCapture(i)
            if cap.isOpened():
                found.append(i)
            cap.release()
    return found


class Webcam:
    """A live camera through OpenCV; iterating grabs frames until `close()` (or forever).

    Args:
        device: camera index (0, 1, ...) or device path (/dev/video2).
        width, height, fps: requested capture settings (the driver may choose others; see the attributes).
        lock_exposure: ask the driver for manual exposure at its current value (not every camera supports it;
            `exposure_locked` says whether the request was accepted).
    """

    def __init__(
        self,
        device: int | str = 0,
        width: int | None = None,
        height: int | None = None,
        fps: float | None = None,
        lock_exposure: bool = False,
    ) -> None:
        self.device = device
        if isinstance(device, int) and Path("/dev").is_dir() and not Path(f"/dev/video{device}").exists():
            found = find_cameras()
            listed = ", ".join(str(i) for i in found) if found else "none"
            raise InputError(
                f"camera {device}: no such camera (cameras found: {listed}); give --camera N of one of them"
            )
        with _quiet_opencv():
            self.cap = cv2.VideoCapture(device)
        if not self.cap.isOpened():
            raise InputError(f"camera {device}: cannot be opened; check that it is connected and not in use")
        if width:
            self.cap.set(cv2.CAP_PROP_FRAME_WIDTH, width)
        if height:
            self.cap.set(cv2.CAP_PROP_FRAME_HEIGHT, height)
        if fps:
            self.cap.set(cv2.CAP_PROP_FPS, fps)
        self.width = int(self.cap.get(cv2.CAP_PROP_FRAME_WIDTH))
        self.height = int(self.cap.get(cv2.CAP_PROP_FRAME_HEIGHT))
        self.fps = float(self.cap.get(cv2.CAP_PROP_FPS) or 30.0)
        self.rate = Fraction(self.fps).limit_denominator(1001)
        self.has_audio = False
        self.clock_origin = time.monotonic()  #: the monotonic time of frame time 0 (set again when iterated)
        self._index = 0
        self.exposure_locked = self.lock_exposure() if lock_exposure else False
        self._closed = False

    def lock_exposure(self) -> bool:
        """Switch the camera to manual exposure at its current value; True when the driver accepted it."""
        current = self.cap.get(cv2.CAP_PROP_EXPOSURE)
        ok = self.cap.set(cv2.CAP_PROP_AUTO_EXPOSURE, 1)  # V4L2: 1 = manual, 3 = aperture priority (auto)
        return bool(ok and self.cap.set(cv2.CAP_PROP_EXPOSURE, current))

    def unlock_exposure(self) -> None:
        self.cap.set(cv2.CAP_PROP_AUTO_EXPOSURE, 3)

    def read(self) -> np.ndarray:
        ok, bgr = self.cap.read()
        if not ok:
            raise InputError(f"camera {self.device}: stopped delivering frames; reconnect it")
        return np.ascontiguousarray(bgr[:, :, ::-1])

    def __iter__(self) -> Iterator[Frame]:
        t0 = self.clock_origin = time.monotonic()  # frame times are seconds since then (a take's sound aligns)
        while not self._closed:
            yield Frame(self.read(), time.monotonic() - t0, self._index)
            self._index += 1

    def reopen(self) -> None:
        """Open the camera again after it stopped delivering (unplugged and plugged back); `InputError` if not yet."""
        self.cap.release()
        with _quiet_opencv():
            self.cap = cv2.VideoCapture(self.device)
        if not self.cap.isOpened():
            raise InputError(f"camera {self.device}: not back yet")

    def close(self) -> None:
        self._closed = True
        self.cap.release()


class ImageFolder:
    """Sorted image files (png, jpg, ...) of a folder, at `fps`."""

    def __init__(self, folder: str | os.PathLike[str], fps: float = 30.0) -> None:
        self.folder = Path(folder)
        exts = set(defaults.IMAGE_EXTENSIONS)
        self.files = (
            sorted(p for p in self.folder.iterdir() if p.suffix.lower() in exts) if self.folder.is_dir() else []
        )
        if not self.files:
            raise InputError(f"{self.folder}: no images found; give a folder of PNG or JPEG frames")
        self.fps, self.rate, self.has_audio = fps, Fraction(fps).limit_denominator(1001), False
        self.height, self.width = read_image(self.files[0]).shape[:2]
        self.frame_count = len(self.files)

    def __len__(self) -> int:
        return self.frame_count

    def __iter__(self) -> Iterator[Frame]:
        for i, p in enumerate(self.files):
            img = read_image(p)
            if img.shape[:2] != (self.height, self.width):
                raise InputError(f"{p}: {img.shape[1]}x{img.shape[0]} differs from the first frame's size")
            yield Frame(img, i / self.fps, i)


class ArraySource:
    """Frames from memory (T x H x W x 3 uint8 or a sequence of such images) at `fps`."""

    def __init__(self, frames: Sequence[np.ndarray] | np.ndarray, fps: float = 30.0, delay: float = 0.0) -> None:
        self.frames = list(frames)
        if not self.frames or any(
            not isinstance(f, np.ndarray) or f.ndim != 3 or f.shape[2] != 3 or f.dtype != np.uint8 for f in self.frames
        ):
            raise InputError("frames in memory: give H x W x 3 uint8 RGB arrays, at least one")
        from flashvid.defaults import check_frame_size

        check_frame_size(self.frames[0].shape[1], self.frames[0].shape[0], "frames in memory")
        self.fps, self.rate, self.has_audio, self.delay = fps, Fraction(fps).limit_denominator(1001), False, delay
        self.height, self.width = self.frames[0].shape[:2]
        self.frame_count = len(self.frames)

    def __len__(self) -> int:
        return self.frame_count

    def __iter__(self) -> Iterator[Frame]:
        for i, f in enumerate(self.frames):
            if self.delay:
                time.sleep(self.delay)
            yield Frame(np.ascontiguousarray(f), i / self.fps, i)


class Trimmed:
    """The part of a `VideoFile` from `start` to `end` seconds (an editor's in / out points): its frames' times
    and indices count from `start`; `offset` is `start` (for the sound)."""

    def __init__(self, video: VideoFile, start: float = 0.0, end: float | None = None) -> None:
        stop = video.duration if end is None else end
        if not (0.0 <= start < stop) or (video.duration > 0 and start >= video.duration):
            raise InputError(
                f"{video.path}: in / out points {start:g} s - {stop:g} s are not inside its {video.duration:.2f} s; "
                "give 0 <= start < end <= the clip's length"
            )
        self.video, self.offset, self.end = video, float(start), end
        self.path, self.width, self.height = video.path, video.width, video.height
        self.fps, self.rate, self.has_audio = video.fps, video.rate, video.has_audio
        self.duration = (min(stop, video.duration) if video.duration > 0 else stop) - start

    def __len__(self) -> int:
        return max(1, round(self.duration * self.fps))

    def __iter__(self) -> Iterator[Frame]:
        i = 0
        for f in self.video.frames_from(self.offset):
            if f.time < self.offset - 0.5 / max(self.fps, 1.0):
                continue  # decoded on the way from the keyframe before `start`
            if self.end is not None and f.time >= self.end - 0.5 / max(self.fps, 1.0):  # times are rounded
                return
            yield Frame(f.image, f.time - self.offset, i)
            i += 1


def open_source(
    spec: str | os.PathLike[str] | int | np.ndarray | Sequence[np.ndarray] | Source, fps: float = 30.0
) -> Source:
    """A camera index ("0"), a device path (/dev/videoN), a folder of images, a video file, frames in memory
    (T x H x W x 3 uint8 at `fps`), or a `Source` as it is."""
    if isinstance(spec, np.ndarray) or (isinstance(spec, (list, tuple)) and spec and isinstance(spec[0], np.ndarray)):
        return ArraySource(spec, fps)  # frames in memory (an array, or a list of them)
    if isinstance(spec, Source) and not isinstance(spec, (str, os.PathLike)):
        return spec
    text = str(spec)
    if text.isdigit():
        return Webcam(int(text))
    if text.startswith("/dev/video"):
        return Webcam(text)
    p = Path(text)
    if p.is_dir():
        return ImageFolder(p)
    return VideoFile(p)
