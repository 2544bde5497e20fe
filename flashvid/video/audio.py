"""The input's sound in the output: copied where the container takes its codec, converted otherwise, and
interleaved with the video as it is written."""

from __future__ import annotations

import os
from typing import Any

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
        self.inp.close()
