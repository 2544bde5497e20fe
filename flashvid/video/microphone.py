"""Sound from a microphone for a camera's live takes, through FFmpeg's capture devices (PyAV): ALSA on Linux (its
``default`` device reaches PulseAudio and PipeWire), AVFoundation on macOS, DirectShow on Windows, or any FFmpeg
input with a format (a ``lavfi`` test tone in the tests).

`Microphone` reads the device on its own thread and stamps each block of samples with the monotonic time at
which it began (its arrival minus its duration). A recording takes a `MicTake`, which keeps the blocks from then
on; `flashvid.video.audio.LiveAudio` encodes them into the take's file, aligned to its first video frame by the
camera's clock (`Webcam.clock_origin`).
"""

from __future__ import annotations

import collections
import sys
import threading
import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from flashvid.errors import InputError

#: (FFmpeg input format, device) per platform when none is given; Windows has no name for "the default
#: microphone" in DirectShow, so there the device must be named ("audio=Microphone (USB Audio)").
DEFAULT_DEVICES = {"linux": ("alsa", "default"), "darwin": ("avfoundation", ":0")}


@dataclass
class Block:
    """Captured samples as the device gives them (`samples`: PyAV's ndarray of the frame, planar or packed, in
    `format` / `layout` at `rate`), `count` samples per channel, and `start`, the monotonic time of the first."""

    samples: np.ndarray
    format: str
    layout: str
    rate: int
    count: int
    start: float


class MicTake:
    """The blocks a `Microphone` captured since this take began (`take()`), until `close()`."""

    def __init__(self, mic: Microphone) -> None:
        self.mic = mic
        self.blocks: collections.deque[Block] = collections.deque()
        self.lock = threading.Lock()
        self.closed = False

    def put(self, block: Block) -> None:
        with self.lock:
            if not self.closed:
                self.blocks.append(block)

    def drain(self, until: float) -> list[Block]:
        """The blocks that began before monotonic time `until`, oldest first (taken out of the take)."""
        out: list[Block] = []
        with self.lock:
            while self.blocks and self.blocks[0].start < until:
                out.append(self.blocks.popleft())
        return out

    def close(self) -> None:
        with self.lock:
            self.closed = True
            self.blocks.clear()
        self.mic.release(self)


class Microphone:
    """A capture device read on a thread while any take is open.

    Args:
        device: the device (ALSA ``default`` or ``hw:1``; AVFoundation ``:0``; DirectShow ``audio=NAME``), or an
            FFmpeg input spec with `fmt` (``sine=frequency=440,arealtime`` with ``lavfi``). None: the platform's
            default microphone.
        fmt: FFmpeg input format (``alsa``, ``avfoundation``, ``dshow``, ``lavfi``); None: the platform's.

    Raises `InputError` (one line naming the device and what to do) when it cannot be opened.
    """

    def __init__(self, device: str | None = None, fmt: str | None = None) -> None:
        import av

        default = DEFAULT_DEVICES.get(sys.platform)
        if fmt is None:
            if default is None:
                raise InputError(
                    "microphone: name the capture device (DirectShow: audio=NAME; `ffmpeg -list_devices true -f "
                    "dshow -i dummy` lists them)"
                )
            fmt = default[0]
        if device is None:
            if default is None or default[0] != fmt:
                raise InputError(f"microphone: name the {fmt} capture device")
            device = default[1]
        self.device, self.fmt = device, fmt
        try:
            self.container: Any = av.open(device, format=fmt)
        except (av.error.FFmpegError, ValueError, OSError) as exc:
            raise InputError(
                f"microphone {fmt}:{device}: cannot be opened ({exc}); check that one is connected and allowed, or "
                "record without sound"
            ) from None
        if not self.container.streams.audio:
            self.container.close()
            raise InputError(f"microphone {fmt}:{device}: gives no sound; choose another device")
        self.stream = self.container.streams.audio[0]
        self.rate = int(self.stream.codec_context.sample_rate or self.stream.rate)
        layout = self.stream.codec_context.layout
        self.channels = 1 if layout is not None and layout.name == "mono" else 2  # the take keeps mono mono
        self.takes: list[MicTake] = []
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.error: str | None = None
        self.thread = threading.Thread(target=self._read, name="flashvid-microphone", daemon=True)
        self.thread.start()

    def _read(self) -> None:
        frames = self.container.decode(self.stream)
        try:
            for frame in frames:
                arrived = time.monotonic()
                if self.stop.is_set():
                    break
                rate = int(frame.sample_rate)
                block = Block(
                    frame.to_ndarray(),
                    frame.format.name,
                    frame.layout.name,
                    rate,
                    frame.samples,
                    arrived - frame.samples / rate,
                )
                with self.lock:
                    takes = list(self.takes)
                for take in takes:
                    take.put(block)
        except Exception as exc:  # noqa: BLE001 - the device went away: said by `error`, the takes keep what came
            self.error = f"microphone {self.fmt}:{self.device}: stopped ({exc})"
        finally:
            frames.close()  # PyAV's decoding generator ends here, on this thread, before its container is closed
            self.container.close()

    def take(self) -> MicTake:
        """Start keeping what the microphone hears, for one recording."""
        take = MicTake(self)
        with self.lock:
            self.takes.append(take)
        return take

    def release(self, take: MicTake) -> None:
        with self.lock:
            if take in self.takes:
                self.takes.remove(take)

    def close(self) -> None:
        """Stop reading (the thread ends at the device's next block) and close the device."""
        self.stop.set()
        self.thread.join(timeout=2.0)
