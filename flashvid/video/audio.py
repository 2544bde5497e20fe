"""The input's sound in the output: copied where the container takes its codec, converted otherwise, and
interleaved with the video as it is written."""

from __future__ import annotations

import os
from fractions import Fraction
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from flashvid.video.microphone import Block, MicTake

MP4_AUDIO = {"aac", "mp3", "alac", "ac3", "eac3", "opus"}
WEBM_AUDIO = {"opus", "vorbis"}


class AudioPass:
    """Copies (or converts) the input's audio into the output, interleaved with the video as it is written."""

    def __init__(self, source: str | os.PathLike[str], out: Any, fmt: str, offset: float = 0.0) -> None:
        """`offset`: seconds of the input before the output's first frame (in / out points), left out."""
        import av

        self.inp = av.open(str(source))
        self.ain = self.inp.streams.audio[0]
        vin = self.inp.streams.video[0] if self.inp.streams.video else None
        self.start = (
            float(vin.start_time * vin.time_base)
            if vin is not None and vin.start_time is not None and vin.time_base
            else 0.0
        )
        self.start += offset
        if offset > 0 and self.ain.time_base and self.start > 1.0:  # near the in point (packets before it skipped)
            self.inp.seek(int((self.start - 1.0) / self.ain.time_base), stream=self.ain)
        allowed = WEBM_AUDIO if fmt == "webm" else MP4_AUDIO
        self.copy = self.ain.codec_context.name in allowed
        if self.copy:
            self.aout = out.add_stream_from_template(self.ain)
        else:
            codec = "libopus" if fmt == "webm" else "aac"
            rate = 48000 if fmt == "webm" else (self.ain.codec_context.sample_rate or 48000)
            self.aout = out.add_stream(codec, rate=rate)
            self.resampler = av.AudioResampler(format=self.aout.codec_context.format.name, layout="stereo", rate=rate)
        self.out = out
        self.packets = self.inp.demux(self.ain)
        self.pending: Any = None
        self.done = False

    def _mux(self, packet: Any) -> None:
        if self.copy:
            offset = round(self.start / packet.time_base)
            packet.pts, packet.dts = packet.pts - offset, (packet.dts - offset) if packet.dts is not None else None
            if packet.pts < 0:
                return
            packet.stream = self.aout
            self.out.mux(packet)
            return
        for frame in packet.decode():
            frame.pts = None
            for f in self.resampler.resample(frame):
                self.out.mux(self.aout.encode(f))

    def until(self, t: float) -> None:
        """Mux audio up to time `t` (seconds from the start of the video)."""
        while not self.done:
            if self.pending is None:
                self.pending = next(self.packets, None)
                if self.pending is None or (self.pending.pts is None and self.pending.size == 0):
                    self.done = self.pending is None
                    self.pending = None
                    continue
            p = self.pending
            if p.pts is not None and float(p.pts * p.time_base) - self.start > t:
                return
            self.pending = None
            if p.pts is not None and float(p.pts * p.time_base) < self.start - 1e-6:
                continue  # before the in point
            self._mux(p)

    def finish(self, t_end: float) -> None:
        self.until(t_end)
        if not self.copy:
            for f in self.resampler.resample(None) or []:
                self.out.mux(self.aout.encode(f))
            self.out.mux(self.aout.encode(None))
        self.release()

    def release(self) -> None:
        """Close the input (again: harmless)."""
        self.inp.close()


class LiveAudio:
    """A microphone's sound (`MicTake`) in a live take, aligned to its video: `set_origin(t)` gives the monotonic
    time of the take's first frame (the camera's capture clock); sound before it is cut, and silence fills from
    it to the first sample heard. Encoded to AAC (Opus in WebM) as the video is written (`until`), and padded
    with silence to the video's length at `finish` where the microphone stopped early."""

    def __init__(self, take: MicTake, out: Any, fmt: str) -> None:
        import av

        self.take, self.out = take, out
        self.rate = 48000 if fmt == "webm" else int(take.mic.rate or 48000)
        self.layout = "mono" if take.mic.channels == 1 else "stereo"  # (an upmix would lower a mono mic by 3 dB)
        self.aout = out.add_stream("libopus" if fmt == "webm" else "aac", rate=self.rate, layout=self.layout)
        self.resampler = av.AudioResampler(format="fltp", layout=self.layout, rate=self.rate)
        self.origin: float | None = None
        self.written = 0  # samples per channel encoded so far, from the take's time 0

    def set_origin(self, origin: float) -> None:
        """The monotonic time of the take's time 0 (its first video frame's capture)."""
        self.origin = origin

    def until(self, t: float) -> None:
        """Encode what the microphone heard up to `t` seconds into the take."""
        if self.origin is not None:
            for block in self.take.drain(self.origin + t):
                self._add(block)

    def _add(self, block: Block) -> None:
        import av

        assert self.origin is not None
        frame = av.AudioFrame.from_ndarray(block.samples, format=block.format, layout=block.layout)
        frame.sample_rate, frame.pts = block.rate, None
        pcm = [f.to_ndarray() for f in self.resampler.resample(frame)]
        if not pcm:
            return
        samples = np.concatenate(pcm, axis=1)
        at = round((block.start - self.origin) * self.rate)  # where the device says this block began
        if self.written == 0 and at < 0:  # heard before the take's first frame: cut
            samples = samples[:, -at:]
        elif at - self.written > (0 if self.written == 0 else self.rate // 10):  # before the first sound, or a
            # dropout of over 0.1 s: silence (smaller gaps are the device's timing jitter, not missing sound)
            self._encode(np.zeros((samples.shape[0], at - self.written), np.float32))
        self._encode(samples)

    def _encode(self, samples: np.ndarray) -> None:
        import av

        if samples.shape[1] == 0:
            return
        pcm = np.ascontiguousarray(samples, dtype=np.float32)
        frame = av.AudioFrame.from_ndarray(pcm, format="fltp", layout=self.layout)
        frame.sample_rate, frame.pts, frame.time_base = self.rate, self.written, Fraction(1, self.rate)
        self.written += samples.shape[1]
        for packet in self.aout.encode(frame):
            self.out.mux(packet)

    def finish(self, t_end: float) -> None:
        """Encode the rest up to `t_end` (the video's end), silence where nothing was heard, and flush."""
        end = round(t_end * self.rate)
        if self.origin is not None:
            for block in self.take.drain(self.origin + t_end):
                self._add(block)
        self.release()
        if self.written < end:
            self._encode(np.zeros((1 if self.layout == "mono" else 2, end - self.written), np.float32))
        for packet in self.aout.encode(None):
            self.out.mux(packet)

    def release(self) -> None:
        """Stop keeping the microphone's sound for this take (again: harmless)."""
        self.take.close()
