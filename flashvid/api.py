"""The library's one assembly: source -> keyframe -> matter -> compositor -> sinks.

    import flashvid
    stats = flashvid.matte_video("clip.mp4", "out.mp4", keyframe="kf.flashkey", background="beach.jpg")

`flashvid export`, `stream`, `demo`, `bench --e2e` and the studio are thin callers of `matte_video` or of the
builders it is made of (`open_keyframe`, `make_matter`, `make_compositor`).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from flashvid import defaults
from flashvid.errors import FlashvidError, InputError
from flashvid.spec import CompositorSpec, MatterSpec

if TYPE_CHECKING:
    from flashvid.compose import Background, Compositor
    from flashvid.keyframe import Keyframe
    from flashvid.keyframe.in_clip import InClipFlash
    from flashvid.matter import FlashMatter
    from flashvid.video.pipeline import RunStats
    from flashvid.video.sinks import Sink
    from flashvid.video.sources import Source


def open_keyframe(
    keyframe: Keyframe | str | os.PathLike[str] | tuple[np.ndarray, np.ndarray],
    *,
    band: int | None = None,
    sam_checkpoint: str | os.PathLike[str] | None = None,
) -> Keyframe:
    """A `Keyframe` from itself, a .flashkey file, or a (flash, noflash) pair of H x W x 3 uint8 RGB images;
    `band` remakes its trimap with that unknown-band width in pixels."""
    from flashvid.keyframe import Keyframe, make_keyframe

    if isinstance(keyframe, Keyframe):
        kf = keyframe
    elif isinstance(keyframe, tuple):
        kf = make_keyframe(keyframe[0], keyframe[1], sam_checkpoint=sam_checkpoint)
    else:
        kf = Keyframe.load(keyframe)
    return kf.with_band(band) if band else kf


def keyframe_from_video(
    video: str | os.PathLike[str], *, seconds: float = 30.0, **keyframe_settings: object
) -> tuple[Keyframe, InClipFlash]:
    """A keyframe from a flash burst inside a clip (`flashvid.keyframe.in_clip`), searched in its first `seconds`;
    returns it with the burst found (frame indices, gain)."""
    from flashvid.keyframe import make_keyframe
    from flashvid.keyframe.in_clip import find_flash_pair
    from flashvid.video.sources import VideoFile

    src = VideoFile(video)
    found = find_flash_pair(  # decoded twice: levels first, then the two frames (bounded memory)
        lambda: (f.image for f in src), name=str(video), max_frames=max(3, int(seconds * max(src.fps, 1.0)))
    )
    names = (f"{video} frame {found.flash_index}", f"{video} frame {found.noflash_index}")
    # the burst is the brighter frame by construction: its order needs no confirmation
    settings = {**keyframe_settings, "accept_weak_flash": True}
    kf = make_keyframe(found.flash, found.noflash, names=names, **settings)  # type: ignore[arg-type]
    kf.settings["source"] = f"in-clip flash: frames {found.flash_index} / {found.noflash_index} of {video}"
    return kf, found


def make_matter(
    model: str = defaults.MODEL,
    checkpoint: str | os.PathLike[str] | None = None,
    *,
    engine: str = defaults.ENGINE,
    device: str = defaults.DEVICE,
    precision: str = defaults.PRECISION,
    internal_size: int | None = None,
    random_weights: bool = False,
    subject_check: bool | None = None,
) -> FlashMatter:
    """A `FlashMatter` (see there and `flashvid.spec.MatterSpec`, which checks every setting)."""
    return MatterSpec(
        model,
        os.fspath(checkpoint) if checkpoint is not None else None,
        engine,
        device,
        precision,
        internal_size,
        subject_check,
        random_weights,
    ).build()


def make_compositor(
    background: str | Background | None = defaults.BACKGROUND,
    *,
    despill: float = defaults.DESPILL,
    smoothing: float = defaults.SMOOTHING,
    fill_holes: int = defaults.FILL_HOLES,
    grow: int = defaults.GROW,
    feather: float = defaults.FEATHER,
) -> Compositor:
    """A `Compositor` over `background`: an image, a video (looped), ``#RRGGBB``, ``blur[:STRENGTH]``, None /
    ``none`` (transparent), or a ready `Background`; with its despill, smoothing and matte finishing (see
    `flashvid.spec.CompositorSpec`)."""
    from flashvid.compose import Background

    if isinstance(background, Background):
        return CompositorSpec(None, despill, smoothing, fill_holes, grow, feather).build(background)
    return CompositorSpec(background, despill, smoothing, fill_holes, grow, feather).build()


def matte_video(
    input: str | os.PathLike[str] | int | np.ndarray | Source,
    output: str | os.PathLike[str] | None = None,
    *,
    keyframe: Keyframe | str | os.PathLike[str] | tuple[np.ndarray, np.ndarray],
    background: str | Background | None = defaults.BACKGROUND,
    format: str = "mp4",
    model: str = defaults.MODEL,
    checkpoint: str | os.PathLike[str] | None = None,
    engine: str = defaults.ENGINE,
    device: str = defaults.DEVICE,
    precision: str = defaults.PRECISION,
    internal_size: int | None = None,
    band: int | None = defaults.BAND,
    despill: float = defaults.DESPILL,
    smoothing: float = defaults.SMOOTHING,
    fill_holes: int = defaults.FILL_HOLES,
    grow: int = defaults.GROW,
    feather: float = defaults.FEATHER,
    audio: bool = True,
    live: bool = False,
    sinks: Sequence[Sink] = (),
    matter: FlashMatter | MatterSpec | None = None,
    progress: Callable[[int, int], None] | None = None,
    cancel: threading.Event | None = None,
    random_weights: bool = False,
    overwrite: bool = False,
    subject_check: bool | None = None,
    overlap: bool = True,
    start: float = 0.0,
    end: float | None = None,
) -> RunStats:
    """Matte a whole source and write it; the counterpart of RobustVideoMatting's ``convert_video``.

    Args:
        input: a video file, an image folder, a camera index, frames T x H x W x 3 uint8 RGB, or a `Source`.
        output: the file (or PNG folder) to write in `format` (mp4 keeps the input's audio; prores, webm and
            png keep alpha; matte writes the alpha as video); None writes only to `sinks`.
        keyframe: a `Keyframe`, a .flashkey file, a (flash, noflash) image pair, or ``"auto"``: the flash burst
            inside `input` (`keyframe_from_video`).
        background, despill, smoothing, fill_holes, grow, feather: the compositor's settings (see
            `make_compositor`).
        model, checkpoint, engine, device, precision, internal_size, random_weights, subject_check: the
            matter's (see `make_matter`); or pass a `MatterSpec`, or a ready `matter` to reuse a built engine.
        live: drop frames to stay current (cameras) instead of matting every frame (files).
        sinks: further sinks (a preview, a virtual camera, UDP).
        progress: ``progress(done, total)`` after each frame (total 0 when unknown).
        cancel: set it to stop early; the outputs keep what was done.
        overwrite: replace an existing `output` (once the new one is complete); without it an existing file is
            refused before any work. The input itself is always refused as the output.
        start, end: in / out points in seconds of a video file (`end` None: to its end); the output, its sound
            included, starts at `start`.
        overlap: decode, matte and encode on three threads at once (False: encode after each frame, on the
            matting thread; `flashvid bench --e2e` compares the two).

    An export that fails, is interrupted or is cancelled (a file run; a live run ends by cancel and keeps its
    output) never touches an existing `output`: what it wrote is kept as a playable ``NAME.partial.EXT`` beside
    it (`flashvid.video.sinks.partial_path`).

    Returns the run's `RunStats` (frames read / written / dropped, time, FPS, latency).
    """
    from flashvid.video.pipeline import run
    from flashvid.video.sinks import FORMATS, make_sink, output_path
    from flashvid.video.sources import Trimmed, VideoFile, open_source

    if output is not None and format not in FORMATS:
        raise InputError(f"unknown format {format!r}; choose one of {', '.join(FORMATS)}")
    if output is not None:
        others = [x for x in (keyframe, background) if isinstance(x, (str, os.PathLike))]
        check_output(output_path(output, format), input, overwrite=overwrite, also=others)
    if isinstance(keyframe, str) and keyframe == "auto":
        if not isinstance(input, (str, os.PathLike)):
            raise InputError("keyframe='auto' needs a video file as the input (it looks for a flash burst in it)")
        keyframe = keyframe_from_video(input)[0]
    if band is not None:
        defaults.BAND_RANGE.check(band, "band")
    kf = open_keyframe(keyframe, band=band)
    compositor = make_compositor(
        background, despill=despill, smoothing=smoothing, fill_holes=fill_holes, grow=grow, feather=feather
    )
    source = open_source(input)
    if start > 0 or end is not None:
        if not isinstance(source, VideoFile):
            raise InputError("in / out points (start, end) need a video file as the input")
        source = Trimmed(source, start, end)
    if matter is None:
        matter = make_matter(
            model,
            checkpoint,
            engine=engine,
            device=device,
            precision=precision,
            internal_size=internal_size,
            random_weights=random_weights,
            subject_check=subject_check,
        )
    elif isinstance(matter, MatterSpec):
        matter = matter.build()
    matter.set_keyframe(kf)
    total = len(source) if hasattr(source, "__len__") else 0  # type: ignore[arg-type]
    all_sinks = list(sinks)
    sink = None
    if output is not None:
        out = output_path(output, format)
        has_audio = isinstance(source, (VideoFile, Trimmed)) and source.has_audio and audio
        sound = source.path if has_audio else None  # type: ignore[attr-defined]
        offset = source.offset if isinstance(source, Trimmed) else 0.0
        sink = make_sink(
            format, out, source.width, source.height, source.rate, sound, overwrite=overwrite, audio_offset=offset
        )
        all_sinks.insert(0, sink)
    try:
        stats = run(
            source,
            matter,
            compositor,
            all_sinks,
            live=live,
            queue_size=1 if live else 4,
            reconnect=1.0 if live else None,
            progress=progress,
            cancel=cancel,
            total=total,
            overlap=overlap,
        )
    except BaseException as exc:
        if sink is not None:
            sink.abort()
            kept = getattr(sink, "kept_partial", None)
            if isinstance(exc, OSError) and output is not None:  # name the user's file, not our hidden temporary
                error = FlashvidError(
                    f"{output_path(output, format)}: cannot be written ({exc.strerror or exc}); check the folder and "
                    "its free space"
                )
                error.kept_partial = kept
                raise error from exc
            exc.kept_partial = kept  # type: ignore[attr-defined]  # for the caller's message
        raise
    if sink is not None:
        # a cancelled file run is not the whole result: it stays NAME.partial.EXT and never replaces `output`
        # (a live run ends by cancel: what it recorded is the result)
        try:
            if stats.cancelled and not live:
                sink.abort()
            else:
                sink.close()
        except FlashvidError as exc:
            exc.kept_partial = getattr(sink, "kept_partial", None)  # for the caller's message
            raise
    return stats


def check_output(
    output: str | os.PathLike[str],
    input: object = None,
    *,
    overwrite: bool = False,
    also: Sequence[object] = (),
) -> None:
    """Refuse, before any work, an output that is the input or one of the other files the run reads (`also`: the
    keyframe, the background; same file, also through links), or that exists without `overwrite`, or whose
    folder is missing or cannot be written."""
    out = Path(output)
    for i, src in enumerate([input, *also]):
        if isinstance(src, (str, os.PathLike)) and out.exists() and Path(src).exists() and os.path.samefile(out, src):
            what = "the input itself" if i == 0 else f"an input of this run ({src})"
            raise InputError(f"{out}: is {what}; write the result to another file (--out)")
    if out.is_dir() and out.suffix:  # a PNG sequence's output is a folder; a video's never is
        raise InputError(f"{out}: is a folder; give a file name for the output (--out)")
    if out.exists() and not overwrite:
        raise InputError(f"{out}: already exists; give another --out, or --overwrite to replace it when done")
    if not out.parent.is_dir():
        raise InputError(f"{out.parent}: no such folder for the output; create it first")
    if not os.access(out.parent, os.W_OK):
        raise InputError(f"{out.parent}: cannot write in this folder; choose another --out")


def describe(stats: RunStats, output: str | os.PathLike[str] | None) -> str:
    """One line for the user about a finished run."""
    where = f"{Path(output)}: " if output is not None else ""
    return f"{where}{stats.frames_written} frames in {stats.elapsed_s:.1f} s ({stats.fps:.1f} FPS)"


__all__ = [
    "check_output",
    "describe",
    "keyframe_from_video",
    "make_compositor",
    "make_matter",
    "matte_video",
    "open_keyframe",
]
