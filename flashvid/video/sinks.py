"""Frame sinks: context managers with ``write(out)`` and ``close()``.

Each sink takes what it needs from a `SinkFrame` (the composite, the RGBA cut-out, the alpha matte):

* `VideoSink` formats: ``mp4`` (H.264 composite, the input's audio copied or converted to AAC), ``prores``
  (ProRes 4444 MOV with alpha), ``webm`` (VP9 with alpha: read it back with the libvpx-vp9 decoder, the
  native one drops alpha), ``matte`` (the alpha matte as a gray H.264 MP4).
* `PngSequenceSink`: RGBA PNGs in a folder.
* `UdpSink`: MPEG-TS (H.264, zero latency) over UDP, for OBS's media source.
* `VirtualCamSink`: a virtual camera through pyvirtualcam (the optional ``[virtualcam]`` extra).
* `PreviewSink`: a callback (the app's preview).

Nothing is lost and nothing half-written is left: files are written under a hidden temporary name next to
the output and renamed when closed. `abort()` (an interrupted export) finalises what was written into a
playable file, or removes it when no frame was written.
"""

from __future__ import annotations

import copy
import os
import shutil
import threading
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from flashvid.errors import FlashvidError, InputError
from flashvid.imageio import write_image
from flashvid.video.audio import MP4_AUDIO, WEBM_AUDIO, AudioPass, LiveAudio  # noqa: F401 - re-exported
from flashvid.video.outputs import (  # noqa: F401 - re-exported: their home before video/outputs.py
    EXTENSIONS,
    clean_stale_partials,
    free_partial_path,
    output_path,
    partial_path,
    place_exclusively,
)

if TYPE_CHECKING:
    from flashvid.video.microphone import MicTake

FORMATS = ("mp4", "prores", "webm", "matte", "png")


class _Once:
    """A value made by `make()` on first use, once, whichever thread asks first."""

    def __init__(self, value: np.ndarray | None, make: Callable[[], np.ndarray] | None) -> None:
        if value is None and make is None:
            raise ValueError("SinkFrame needs rgba or a cutout function")
        self.value, self.make, self.lock = value, make, threading.Lock()

    def get(self) -> np.ndarray:
        with self.lock:
            if self.value is None:
                assert self.make is not None
                self.value, self.make = self.make(), None
            return self.value


class SinkFrame:
    """One output frame: composite H x W x 3 uint8 (over the background), rgba H x W x 4 uint8 (the subject's
    colour and alpha), alpha H x W uint8, its time in seconds, its index, and the input frame (H x W x 3 uint8)
    if kept.

    `rgba` may be given as `cutout`, a function that makes it: it is called once, by the first reader of rgba or
    alpha (most outputs and the preview need only the composite, and the cut-out costs as much again)."""

    def __init__(
        self,
        composite: np.ndarray,
        rgba: np.ndarray | None = None,
        alpha: np.ndarray | None = None,
        time: float = 0.0,
        index: int = 0,
        source: np.ndarray | None = None,
        *,
        cutout: Callable[[], np.ndarray] | None = None,
    ) -> None:
        self.composite, self.time, self.index, self.source = composite, time, index, source
        self._rgba = _Once(rgba, cutout)
        self._alpha = _Once(alpha, lambda: np.ascontiguousarray(self.rgba[:, :, 3]))

    @property
    def rgba(self) -> np.ndarray:
        return self._rgba.get()

    @property
    def alpha(self) -> np.ndarray:
        return self._alpha.get()

    def make_cutout(self) -> None:
        """Make rgba and alpha now, on this thread (a worker's, so that a GUI reading them later does not)."""
        self._rgba.get()
        self._alpha.get()

    def retimed(self, time: float, index: int | None = None) -> SinkFrame:
        """The same frame at another time (and index); the cut-out is still made once for both."""
        out = copy.copy(self)
        out.time, out.index = time, self.index if index is None else index
        return out

    def __repr__(self) -> str:
        h, w = self.composite.shape[:2]
        return f"SinkFrame(index={self.index}, time={self.time:.3f}, {w}x{h})"


class Sink:
    """Base: context manager calling `close()` on success and `abort()` on an exception or interruption."""

    def write(self, out: SinkFrame) -> None:
        raise NotImplementedError

    def close(self) -> None:
        """Finish the output."""

    def abort(self) -> None:
        """Stop early: keep a playable output of what was written, or none."""
        self.close()

    def __enter__(self) -> Sink:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: Any) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()


def _even(n: int) -> int:
    return n - (n % 2)


class VideoSink(Sink):
    """An encoded video file (see the module docstring for the formats).

    Args:
        path: output file.
        fmt: ``mp4``, ``prores``, ``webm`` or ``matte``.
        width, height: frame size (mp4 and matte crop to even sizes, as H.264 4:2:0 needs).
        rate: nominal frame rate (a Fraction or float); frames keep their own timestamps.
        audio_from: a video file whose audio is copied into the output (mp4, prores, webm).
        microphone: instead, a microphone's take (`flashvid.video.microphone.MicTake`), encoded as the video is
            written (a live recording; its `audio.set_origin` aligns it, see `LiveAudio`).
        crf: quality for H.264 / VP9.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        fmt: str,
        width: int,
        height: int,
        rate: float | Fraction = 30,
        audio_from: str | os.PathLike[str] | None = None,
        crf: int = 18,
        overwrite: bool = True,
        audio_offset: float = 0.0,
        microphone: MicTake | None = None,
    ) -> None:
        import av

        self._closed = True  # until the container exists: close() / abort() are safe in every state
        self._lock = threading.Lock()  # write and finish never overlap, whichever threads call them
        self.overwrite = overwrite  # False: a file that appears at `path` meanwhile is never replaced
        if fmt not in ("mp4", "prores", "webm", "matte"):
            raise InputError(f"unknown video format {fmt!r}; choose mp4, prores, webm or matte")
        self.path, self.fmt = Path(path), fmt
        if not self.path.parent.is_dir():
            raise InputError(f"{self.path.parent}: no such folder for the output; create it first")
        clean_stale_partials(self.path)
        self.tmp = self.path.with_name(f".{self.path.stem}.partial-{os.getpid()}{self.path.suffix}")
        self.kept_partial: Path | None = None
        if not 0 < float(rate) <= 1000:
            raise InputError(f"{self.path}: cannot write {float(rate):g} frames a second; give a video's rate")
        self.rate = Fraction(rate).limit_denominator(1001)
        container_fmt = {"mp4": "mp4", "matte": "mp4", "prores": "mov", "webm": "webm"}[fmt]
        mux_opts = {"movflags": "+faststart"} if fmt in ("mp4", "matte") else {}
        self.container = av.open(str(self.tmp), "w", format=container_fmt, options=mux_opts)
        codec, pix, opts = {
            "mp4": ("libx264", "yuv420p", {"crf": str(crf), "preset": "veryfast"}),
            "matte": ("libx264", "yuv420p", {"crf": str(max(crf - 4, 0)), "preset": "veryfast"}),
            "prores": ("prores_ks", "yuva444p10le", {"profile": "4", "vendor": "apl0"}),
            "webm": (
                "libvpx-vp9",
                "yuva420p",
                {"crf": "30", "b": "0", "row-mt": "1", "deadline": "realtime", "cpu-used": "8"},
            ),
        }[fmt]
        self.even = pix.startswith("yuv420") or pix.startswith("yuva420")
        self.width, self.height = (_even(width), _even(height)) if self.even else (width, height)
        stream: Any = self.container.add_stream(codec, rate=self.rate, options=opts)
        stream.width, stream.height, stream.pix_fmt = self.width, self.height, pix
        stream.codec_context.time_base = Fraction(1, 1000)
        self.stream: Any = stream
        self.audio: AudioPass | LiveAudio | None = None
        if microphone is not None and fmt != "matte":
            self.audio = LiveAudio(microphone, self.container, fmt)
        elif audio_from is not None and fmt != "matte":
            with av.open(str(audio_from)) as probe:
                has_audio = bool(probe.streams.audio)
            if has_audio:
                self.audio = AudioPass(audio_from, self.container, fmt, offset=audio_offset)
        self.frames = 0
        self.last_time = 0.0
        self._last_pts = -1
        self._closed = False

    def write(self, out: SinkFrame) -> None:
        """Encode one frame (ignored once the file is finished or aborted)."""
        with self._lock:
            if not self._closed:
                self._write(out)

    def _write(self, out: SinkFrame) -> None:
        import av

        if self.fmt == "mp4":
            img, pix = out.composite, "rgb24"
        elif self.fmt == "matte":
            img, pix = np.repeat(out.alpha[:, :, None], 3, axis=2), "rgb24"
        else:
            img, pix = out.rgba, "rgba"
        img = np.ascontiguousarray(img[: self.height, : self.width])
        frame = av.VideoFrame.from_ndarray(img, format=pix)
        pts = max(round(out.time * 1000), self._last_pts + 1)  # keep timestamps, strictly increasing
        frame.pts, frame.time_base = pts, Fraction(1, 1000)
        self._last_pts = pts
        for packet in self.stream.encode(frame):
            self.container.mux(packet)
        self.frames += 1
        self.last_time = out.time
        if self.audio is not None:
            self.audio.until(out.time)

    def _finish(self) -> None:
        for packet in self.stream.encode():
            self.container.mux(packet)
        if self.audio is not None:
            self.audio.finish(self.last_time + 1.0 / float(self.rate))
        self.container.close()

    def close(self) -> None:
        """Finish the file and put it at `path` (replacing a file there only because the caller allowed it). With
        no frame written there is no video to keep: nothing is written (`path` stays as it was)."""
        self._end(self.path if self.frames else None)

    def abort(self) -> None:
        """Stop early: an existing file at `path` is never touched. What was written is kept as a playable
        ``NAME.partial.EXT`` beside it (`kept_partial`; the next free ``NAME.partial-N.EXT`` when that name is
        taken), or nothing when no frame was written."""
        self._end(partial_path(self.path) if self.frames else None)

    def _end(self, target: Path | None) -> None:
        with self._lock:
            self._end_locked(target)

    def _end_locked(self, target: Path | None) -> None:
        if self._closed:
            return
        self._closed = True
        try:
            if target is None:
                self.container.close()
                return
            self._finish()
            if target == self.path and self.overwrite:
                os.replace(self.tmp, target)
                return
            if target == self.path and place_exclusively(self.tmp, target):
                return
            kept = free_partial_path(self.path)
            os.replace(self.tmp, kept)
            self.kept_partial = kept
            if target == self.path:  # another run wrote `path` meanwhile: it stays, ours is kept beside it
                raise InputError(
                    f"{self.path}: appeared while this export ran (another export to the same name?) and was left "
                    f"as it is; this result is in {kept}"
                )
        finally:
            if self.audio is not None:  # the sound's input let go however it ended (a microphone stops keeping)
                self.audio.release()
            self.tmp.unlink(missing_ok=True)


class PngSequenceSink(Sink):
    """RGBA PNG files ``NNNNNN.png`` in a folder (built under a temporary name, renamed when closed)."""

    def __init__(self, folder: str | os.PathLike[str]) -> None:
        self.folder = Path(folder)
        if self.folder.exists() and any(self.folder.iterdir()):
            raise InputError(f"{self.folder}: exists and is not empty; give a new folder for the PNG sequence")
        if not self.folder.parent.is_dir():
            raise InputError(f"{self.folder.parent}: no such folder for the output; create it first")
        clean_stale_partials(self.folder)  # hidden folders of killed runs
        self.tmp = self.folder.with_name(f".{self.folder.name}.partial-{os.getpid()}")
        self.tmp.mkdir()
        self.frames = 0
        self._closed = False
        self.kept_partial: Path | None = None

    def write(self, out: SinkFrame) -> None:
        write_image(self.tmp / f"{out.index:06d}.png", out.rgba)
        self.frames += 1

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self.folder.exists():
            try:
                self.folder.rmdir()  # an empty folder only: one that filled meanwhile stays
            except OSError:
                kept = free_partial_path(self.folder)
                os.replace(self.tmp, kept)
                self.kept_partial = kept
                raise InputError(
                    f"{self.folder}: filled while this export ran (another export to the same name?) and was left "
                    f"as it is; these frames are in {kept}"
                ) from None
        os.replace(self.tmp, self.folder)

    def abort(self) -> None:
        """Stop early: the frames written stay in ``NAME.partial`` beside the folder (`kept_partial`), or
        nothing is left when none was written."""
        if self._closed:
            return
        self._closed = True
        if self.frames == 0:
            shutil.rmtree(self.tmp, ignore_errors=False)
            return
        target = free_partial_path(self.folder)  # never over a folder that is there (the user's, an earlier run's)
        os.replace(self.tmp, target)
        self.kept_partial = target


class UdpSink(Sink):
    """MPEG-TS (H.264 zero latency) to ``udp://HOST:PORT`` (OBS: a media source with that URL)."""

    def __init__(self, url: str, width: int, height: int, rate: float = 30) -> None:
        import av

        if not url.startswith("udp://"):
            raise InputError(f"{url}: give a udp://HOST:PORT address")
        import socket
        from urllib.parse import urlsplit

        parts = urlsplit(url)
        try:
            socket.getaddrinfo(parts.hostname or "", parts.port, type=socket.SOCK_DGRAM)
        except (socket.gaierror, ValueError, UnicodeError) as exc:
            raise InputError(f"{url}: cannot send a stream there ({exc}); check the host name and the port") from None
        self.url = url if "?" in url else f"{url}?pkt_size=1316"
        try:
            self.container = av.open(self.url, "w", format="mpegts")
        except (av.error.FFmpegError, OSError) as exc:
            raise InputError(f"{url}: cannot send a stream there ({exc}); check the host name and the port") from None
        self.stream = self.container.add_stream(
            "libx264",
            rate=Fraction(rate).limit_denominator(1001),
            options={"preset": "ultrafast", "tune": "zerolatency", "g": "30"},
        )
        self.width, self.height = _even(width), _even(height)
        self.stream.width, self.stream.height, self.stream.pix_fmt = self.width, self.height, "yuv420p"
        self.stream.codec_context.time_base = Fraction(1, 1000)
        self._last = -1
        self._closed = False

    def write(self, out: SinkFrame) -> None:
        import av

        frame = av.VideoFrame.from_ndarray(
            np.ascontiguousarray(out.composite[: self.height, : self.width]), format="rgb24"
        )
        self._last = max(round(out.time * 1000), self._last + 1)
        frame.pts, frame.time_base = self._last, Fraction(1, 1000)
        for packet in self.stream.encode(frame):
            self.container.mux(packet)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        for packet in self.stream.encode():
            self.container.mux(packet)
        self.container.close()


class VirtualCamSink(Sink):
    """A virtual camera (v4l2loopback on Linux, OBS's camera on Windows / macOS) through pyvirtualcam."""

    def __init__(self, width: int, height: int, fps: float = 30) -> None:
        try:
            import pyvirtualcam
        except ImportError as exc:
            raise FlashvidError("the virtual camera needs pyvirtualcam: pip install 'flashvid[ui]'") from exc
        try:
            self.cam = pyvirtualcam.Camera(width=width, height=height, fps=fps)
        except RuntimeError as exc:
            raise FlashvidError(
                f"no virtual camera device ({exc}); on Linux load v4l2loopback (sudo modprobe v4l2loopback), "
                "elsewhere install OBS and start its virtual camera once"
            ) from exc
        self.device = self.cam.device

    def write(self, out: SinkFrame) -> None:
        self.cam.send(out.composite)
        self.cam.sleep_until_next_frame()

    def close(self) -> None:
        self.cam.close()


class PreviewSink(Sink):
    """Calls `callback(frame: SinkFrame)` for every frame (the app's preview)."""

    def __init__(self, callback: Callable[[SinkFrame], None]) -> None:
        self.callback = callback

    def write(self, out: SinkFrame) -> None:
        self.callback(out)


def make_sink(
    fmt: str,
    path: str | os.PathLike[str],
    width: int,
    height: int,
    rate: float | Fraction,
    audio_from: str | os.PathLike[str] | None = None,
    overwrite: bool = True,
    audio_offset: float = 0.0,
    microphone: MicTake | None = None,
) -> Sink:
    """A file sink for `fmt` (one of `FORMATS`); without `overwrite` a file that appears at `path` while it writes
    is not replaced (the result is kept beside it). `audio_from` / `microphone`: as `VideoSink`'s (a PNG sequence
    has no sound)."""
    if fmt == "png":
        return PngSequenceSink(path)
    if fmt not in FORMATS:
        raise InputError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
    return VideoSink(
        output_path(path, fmt),
        fmt,
        width,
        height,
        rate,
        audio_from=audio_from,
        overwrite=overwrite,
        audio_offset=audio_offset,
        microphone=microphone,
    )
