"""`flashvid export`, `flashvid stream` and `flashvid demo`: matting video through `flashvid.api.matte_video`."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from flashvid.cli.common import (
    Handler,
    add_matting_arguments,
    compositor_spec,
    install_sigterm,
    int_in,
    keyframe_from_args,
    matter_spec,
    timecode,
)
from flashvid.errors import FlashvidError


def stream_target(text: str) -> str:
    if text in ("window", "virtualcam"):
        return text
    if text.startswith("udp://"):
        from urllib.parse import urlsplit

        parts = urlsplit(text)
        try:
            port = parts.port
        except ValueError:
            port = None
        if not parts.hostname or port is None or not 1 <= port <= 65535 or parts.path not in ("", "/"):
            raise argparse.ArgumentTypeError(f"{text!r}: write udp://HOST:PORT with a port 1-65535 (options after ?)")
        return text
    raise argparse.ArgumentTypeError(f"{text!r}: give window, virtualcam or udp://HOST:PORT")


def cmd_export(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from flashvid.api import check_output, matte_video
    from flashvid.video.sinks import output_path
    from flashvid.video.sources import VideoFile, open_source

    out = output_path(args.out, args.format)
    others = [x for x in (args.keyframe, args.background, args.flash, args.noflash) if x and x != "auto"]
    check_output(out, args.input, overwrite=args.overwrite, also=others)
    source = open_source(args.input)
    if args.start or args.end is not None:
        from flashvid.video.sources import Trimmed

        if not isinstance(source, VideoFile):
            raise FlashvidError(f"--start / --end: {args.input} is not a video file; in / out points need one")
        total = len(Trimmed(source, args.start, args.end))  # out-of-range points: one line before any work
    else:
        total = len(source) if hasattr(source, "__len__") else 0  # type: ignore[arg-type]
    comp = compositor_spec(args)
    kf = keyframe_from_args(args)
    matter = matter_spec(args).build()
    install_sigterm()
    bar = tqdm(total=total or None, unit="frame", desc=f"export {out.name}", dynamic_ncols=True)
    try:
        stats = matte_video(
            source,
            out,
            keyframe=kf,
            background=comp.background,
            format=args.format,
            **comp.settings(),
            audio=not args.no_audio,
            matter=matter,
            progress=lambda done, _: bar.update(1),
            overwrite=args.overwrite,
            start=args.start,
            end=args.end,
        )
    except (KeyboardInterrupt, FlashvidError) as exc:
        bar.close()
        kept = getattr(exc, "kept_partial", None)
        if kept is not None and str(kept) in str(exc):  # the error says where the result is already
            raise FlashvidError(str(exc)) from exc
        what = f"kept what was done in {kept} ({out} untouched)" if kept is not None else "nothing written"
        if isinstance(exc, KeyboardInterrupt):
            print(f"flashvid: export stopped; {what}", file=sys.stderr)
            return 130
        raise FlashvidError(f"{exc}; {what}") from exc
    bar.close()
    print(
        f"{out}: {stats.frames_written} frames in {stats.elapsed_s:.1f} s ({stats.fps:.1f} FPS), "
        f"{args.format}, background {args.background}"
    )
    trimmed = bool(args.start) or args.end is not None  # a part of the file: its own count is not the file's
    short = source.shortfall() if isinstance(source, VideoFile) and not trimmed else ""
    if short:
        print(
            f"flashvid: warning: {args.input}: {short}; {out} holds the {stats.frames_written} frames that decoded",
            file=sys.stderr,
        )
        return 3
    return 0


def cmd_stream(args: argparse.Namespace) -> int:
    from flashvid.api import matte_video
    from flashvid.video.sinks import Sink, UdpSink, VirtualCamSink
    from flashvid.video.sources import Webcam, open_source

    source = open_source(args.camera)
    comp = compositor_spec(args)
    kf = keyframe_from_args(args)
    matter = matter_spec(args).build()
    sink: Sink
    if args.to == "virtualcam":
        sink = VirtualCamSink(source.width, source.height, source.fps)
    elif args.to.startswith("udp://"):
        sink = UdpSink(args.to, source.width, source.height, source.fps)
    elif args.to == "window":
        from flashvid.ui.live_window import WindowSink

        sink = WindowSink(f"flashvid - {args.camera}")
    else:
        raise FlashvidError(f"--to {args.to}: give window, virtualcam or udp://HOST:PORT")
    install_sigterm()
    try:
        with sink:
            stats = matte_video(
                source,
                keyframe=kf,
                background=comp.background,
                **comp.settings(),
                matter=matter,
                live=not args.no_drop,
                sinks=[sink],
            )
    except KeyboardInterrupt:
        return 130
    finally:
        if isinstance(source, Webcam):
            source.close()
    print(
        f"streamed {stats.frames_written} frames at {stats.fps:.1f} FPS, {stats.dropped} dropped, latency median "
        f"{stats.latency_ms:.0f} ms (p90 {stats.latency_p90_ms:.0f} ms)"
    )
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from flashvid.demo import run_demo
    from flashvid.imageio import read_image

    if args.video or args.flash or args.noflash:
        if not (args.video and args.flash and args.noflash):
            raise FlashvidError("give all of --video, --flash and --noflash to run the demo on your own files")
        own: dict[str, Any] = dict(
            video=args.video,
            flash=read_image(args.flash),
            noflash=read_image(args.noflash),
            names=(str(args.flash), str(args.noflash)),
        )
    else:
        own = {}
    matter = matter_spec(args).build()
    r = run_demo(args.out_dir, matter, frames=args.frames, seed=args.seed, **own)
    print(
        f"{r.out_dir}: composite.mp4 (H.264), cutout.mov (ProRes 4444 with alpha), contact_sheet.png, keyframe.flashkey"
    )
    print(
        f"model {matter.model_name} ({'random weights' if matter.random_weights else matter.checkpoint}), "
        f"{r.frames} frames {r.width}x{r.height} in {r.elapsed_s:.1f} s: {r.fps:.1f} FPS end to end"
    )
    if r.errors is not None:
        e = r.errors
        print(
            "on the generated clip, against its ground truth: "
            f"MSE x1e3 {e['mse_unknown'] * 1e3:.2f} / SAD /1e3 {e['sad_unknown'] / 1e3:.2f} (unknown band), "
            f"MSE x1e3 {e['mse'] * 1e3:.2f} / SAD /1e3 {e['sad'] / 1e3:.2f} (whole frame), mean per frame"
        )
    return 0


def register(sub: argparse._SubParsersAction, handlers: dict[str, Handler]) -> None:
    """Add this group's subcommands to `sub` and their handlers to `handlers`."""
    from flashvid.video.sinks import FORMATS

    p = sub.add_parser("export", help="matte a video file and write it (mp4, prores, webm, png, matte)")
    p.add_argument("--input", required=True, help="video file or folder of frames")
    p.add_argument("--format", choices=list(FORMATS), default="mp4")
    p.add_argument("--out", required=True)
    p.add_argument("--no-audio", action="store_true", help="do not copy the input's audio")
    p.add_argument("--overwrite", action="store_true", help="replace an existing --out (only once the new one is done)")
    p.add_argument("--start", type=timecode, default=0.0, help="in point: seconds or [HH:]MM:SS (default 0)")
    p.add_argument("--end", type=timecode, help="out point: seconds or [HH:]MM:SS (default: the end)")
    add_matting_arguments(p)
    handlers["export"] = cmd_export

    p = sub.add_parser("stream", help="matte a camera live to a window, a virtual camera or a UDP stream")
    p.add_argument("--camera", default="0", help="camera index, /dev/videoN, or a video file to loop once")
    p.add_argument("--to", default="window", type=stream_target, help="window, virtualcam or udp://HOST:PORT")
    p.add_argument("--no-drop", action="store_true", help="never drop frames (latency grows if matting is slow)")
    add_matting_arguments(p)
    handlers["stream"] = cmd_stream

    p = sub.add_parser("demo", help="the whole path on a shipped real clip (or --video/--flash/--noflash)")
    p.add_argument("--out-dir", default="flashvid-demo")
    p.add_argument("--video")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--frames", type=int_in(1, 100000), default=48, help="frames of the real and the generated clip")
    add_matting_arguments(p)
    handlers["demo"] = cmd_demo
