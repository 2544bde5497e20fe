"""The `flashvid` command line.

Every user error (a `FlashvidError`) is printed as one line on stderr, ``flashvid: error: ...``, and the exit
status is 2; nothing is written in that case.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn

from flashvid import assets, defaults
from flashvid.errors import FlashvidError, InputError

Handler = Callable[[argparse.Namespace], int]


def _cmd_keyframe(args: argparse.Namespace) -> int:
    from flashvid.imageio import read_image, write_image
    from flashvid.keyframe import make_keyframe
    from flashvid.viz import mask_overlay, ratio_with_points, trimap_overlay

    out = Path(args.out)
    if args.from_video and (args.flash or args.noflash):
        raise FlashvidError("give either --from-video CLIP or --flash F --noflash N, not both")
    if not args.from_video and not (args.flash and args.noflash):
        raise FlashvidError("give --flash F and --noflash N (a flash pair), or --from-video CLIP (a flash burst in it)")
    if not out.parent.is_dir():
        raise FlashvidError(f"{out.parent}: no such folder for --out; create it first")
    if not os.access(out.parent, os.W_OK):
        raise FlashvidError(f"{out.parent}: cannot write in this folder; choose another --out")
    settings: dict[str, Any] = dict(
        estimator=args.estimator,
        threshold=args.threshold,
        band=args.band,
        sam_checkpoint=_sam(args.sam_checkpoint),
        sam_type=args.sam_type,
        device=args.device,
        resize=args.resize,
        negative_points=args.negative_points,
    )
    if args.from_video:
        from flashvid.api import keyframe_from_video

        kf, found = keyframe_from_video(args.from_video, **settings)
        print(
            f"{args.from_video}: flash at frame {found.flash_index} ({found.gain:.2f}x the steady brightness), "
            f"no-flash frame {found.noflash_index}"
        )
    else:
        kf = make_keyframe(
            read_image(args.flash), read_image(args.noflash), names=(str(args.flash), str(args.noflash)), **settings
        )
    stem = out.with_suffix("")
    pictures = {
        f"{stem}_ratio.png": ratio_with_points(kf.ratio, kf.points, kf.labels),
        f"{stem}_mask.png": mask_overlay(kf.flash, kf.mask),
        f"{stem}_trimap.png": trimap_overlay(kf.flash, kf.trimap),
    }
    # all or nothing: the keyframe file first (atomic), then its pictures; any failure removes what was written
    written: list[Path] = []
    try:
        kf.save(out)
        written.append(out)
        for path, picture in pictures.items():
            write_image(path, picture)
            written.append(Path(path))
    except (OSError, FlashvidError) as exc:
        for w in written:
            w.unlink(missing_ok=True)
        if isinstance(exc, FlashvidError):
            raise
        raise FlashvidError(f"{out}: cannot write the keyframe here ({exc.strerror}); choose another --out") from exc
    s = kf.summary()
    contrast = s["ratio_in"] / max(s["ratio_out"], 1e-6)
    print(
        f"{out}: subject {s['area_pct']:.1f} % of {kf.size[0]}x{kf.size[1]}, {s['points']} points, mean ratio "
        f"{s['ratio_in']:.2f} inside vs {s['ratio_out']:.2f} outside ({contrast:.1f}x); "
        f"{kf.settings['segmenter']}, {kf.settings['estimator']} ratio, band {kf.settings['band']} px"
    )
    return 0


def _sam(value: str | None) -> str | os.PathLike[str] | None:
    """--sam-checkpoint: a path, or a name from `flashvid weights list` (its cached download)."""
    from flashvid.weights import resolve

    return resolve(value)


def _cmd_weights(args: argparse.Namespace) -> int:
    from flashvid.weights import WEIGHTS, cache_dir, fetch

    if args.action == "list":
        for name, spec in WEIGHTS.items():
            here = (cache_dir() / spec.filename).is_file()
            print(f"{name:10} {spec.size_mb:5d} MB  {spec.licence:10}  {'downloaded' if here else 'not downloaded'}")
        print(f"cache: {cache_dir()}")
        return 0
    if not args.name:
        raise FlashvidError(f"name the weights to fetch: one of {', '.join(WEIGHTS)}")
    from tqdm import tqdm

    bar = tqdm(unit="B", unit_scale=True, desc=args.name, dynamic_ncols=True)

    def show(done: int, total: int) -> None:
        bar.total = total or None
        bar.n = done
        bar.refresh()

    try:
        path = fetch(args.name, folder=args.cache, url=args.url, progress=show)
    finally:
        bar.close()
    print(f"{path}: {args.name} ready (SHA-256 checked); use --sam-checkpoint {args.name}")
    return 0


def _cmd_synth_pair(args: argparse.Namespace) -> int:
    from flashvid.imageio import write_image
    from flashvid.training.data.synth import synthetic_pair

    out = Path(args.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    pair = synthetic_pair(args.height, args.width, seed=args.seed)
    write_image(out / "flash.png", pair.flash)
    write_image(out / "noflash.png", pair.noflash)
    write_image(out / "alpha.png", (pair.alpha * 255 + 0.5).astype("uint8"))
    print(
        f"{out}: flash.png, noflash.png and alpha.png ({args.width}x{args.height}, background "
        f"{pair.light.d_ratio:.1f}x farther than the subject, flash {pair.light.power:.1f}x ambient)"
    )
    return 0


class _Parser(argparse.ArgumentParser):
    """argparse with the CLI's error form: one line on stderr, exit status 2 (no usage block)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"flashvid: error: {self.prog.removeprefix('flashvid ')}: {message}; see --help\n")


def _size(text: str) -> tuple[int, int]:
    """WxH (or 360p / 720p / 1080p / 2160p) between 16 and `defaults.MAX_FRAME_SIDE` pixels a side."""
    if text.lower() in defaults.SIZES:
        return defaults.SIZES[text.lower()]
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"size must look like 1280x720 or 720p, got {text!r}") from exc
    top = defaults.MAX_FRAME_SIDE
    if not (16 <= w <= top and 16 <= h <= top):
        raise argparse.ArgumentTypeError(f"size {text!r}: each side must be 16 to {top} pixels")
    return w, h


def _add_subject_check(p: argparse.ArgumentParser, what: str) -> None:
    """`--subject-check / --no-subject-check`; unset (None) is `defaults.SUBJECT_CHECK` for flashvid-rt, off for
    models without the check (`flashvid.network.subject_check_settings`)."""
    state = "on" if defaults.SUBJECT_CHECK else "off"
    p.add_argument(
        "--subject-check",
        action=argparse.BooleanOptionalAction,
        default=None,
        help=f"{what} (flashvid-rt's; default {state} for it)",
    )


def _int_in(lo: int, hi: int | None = None) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            v = int(text)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from exc
        if v < lo or (hi is not None and v > hi):
            raise argparse.ArgumentTypeError(
                f"{v} is out of range: give {lo} to {hi}" if hi else f"{v}: give {lo} or more"
            )
        return v

    return parse


def _float_in(lo: float, hi: float) -> Callable[[str], float]:
    def parse(text: str) -> float:
        try:
            v = float(text)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number") from exc
        if not (lo <= v <= hi):  # also refuses nan
            raise argparse.ArgumentTypeError(f"{text} is out of range: give {lo} to {hi}")
        return v

    return parse


def _background(text: str) -> str:
    """Colours and blur strengths are checked here; a file is checked for existence (read later)."""
    low = text.strip().lower()
    if low in ("none", "transparent") or low == "blur":
        return text
    if low.startswith("blur:"):
        _float_in(0.5, 200.0)(low.split(":", 1)[1])
        return text
    if low.startswith("#"):
        if len(low) != 7 or any(c not in "0123456789abcdef" for c in low[1:]):
            raise argparse.ArgumentTypeError(f"{text!r}: write a colour as #RRGGBB, e.g. #00ff00")
        return text
    if not Path(text).is_file():
        raise argparse.ArgumentTypeError(f"{text}: no such file; give an image, a video, #RRGGBB, blur[:PX] or none")
    return text


def _stream_target(text: str) -> str:
    if text in ("window", "virtualcam"):
        return text
    if text.startswith("udp://"):
        host, _, port = text[len("udp://") :].rpartition(":")
        if not host or not port.isdigit() or not 1 <= int(port) <= 65535:
            raise argparse.ArgumentTypeError(f"{text!r}: write udp://HOST:PORT with a port 1-65535")
        return text
    raise argparse.ArgumentTypeError(f"{text!r}: give window, virtualcam or udp://HOST:PORT")


def _json_out(text: str) -> str:
    if not Path(text).resolve().parent.is_dir():
        raise argparse.ArgumentTypeError(f"{Path(text).parent}: no such folder for the JSON file; create it first")
    return text


def _device(text: str) -> str:
    if text != "cpu" and not (text == "cuda" or (text.startswith("cuda:") and text[5:].isdigit())):
        raise argparse.ArgumentTypeError(f"{text!r}: give cpu, cuda or cuda:N")
    return text


def _cmd_info(args: argparse.Namespace) -> int:
    import torch

    from flashvid.network import MODELS, build_model, subject_check_settings
    from flashvid.profile import format_costs, model_costs

    torch.manual_seed(0)
    gate = subject_check_settings(args.model, args.subject_check)
    model = build_model(args.model, args.checkpoint, **gate)
    print(f"{args.model}: {MODELS[args.model].description}" + (" (with its subject check)" if gate else ""))
    for w, h in args.size:
        print(format_costs(model_costs(model, h, w), h, w))
    return 0


def _cmd_bench(args: argparse.Namespace) -> int:
    import torch

    from flashvid.bench import bench_one, format_table, write_json

    if args.threads:
        torch.set_num_threads(args.threads)
    sizes = args.size or [defaults.SIZES["360p"], defaults.SIZES["720p"]]
    if args.compare_rvm:
        from flashvid.bench import bench_rvm_side_by_side

        for w, h in sizes:
            rows = bench_rvm_side_by_side(
                w, h, frames=args.frames, warmup=args.warmup, subject_check=args.subject_check
            )
            for row in rows:
                print(f"{row['size']}  {row['model']:<40} {row['median_ms']:8.1f} ms", flush=True)
            ours = {str(r["model"]).split()[1]: float(r["median_ms"]) for r in rows if "flashvid" in str(r["model"])}
            rvm = {str(r["model"]).split()[1]: float(r["median_ms"]) for r in rows if "RVM" in str(r["model"])}
            same = ", ".join(f"{k} {ours[k] / rvm[k]:.2f}x" for k in ours if k in rvm)
            print(
                f"{w}x{h}  flashvid-rt / RVM latency: {same}; best engine against best engine "
                f"{min(ours.values()) / min(rvm.values()):.2f}x",
                flush=True,
            )
            if args.json:
                Path(args.json).write_text(json.dumps(rows, indent=2))
        return 0
    from flashvid.bench import BenchResult

    results: list[BenchResult] = []
    for model in args.model or ["flashvid-rt"]:
        for engine in args.engine or ["eager"]:
            for precision in args.precision or ["fp32"]:
                for w, h in sizes:
                    r = bench_one(
                        model,
                        w,
                        h,
                        engine=engine,
                        precision=precision,
                        device=args.device,
                        frames=args.frames,
                        warmup=args.warmup,
                        checkpoint=args.checkpoint,
                        random_weights=args.random_weights,
                        subject_check=args.subject_check,
                    )
                    results.append(r)
                    print(format_table([r]).splitlines()[-1], flush=True)
                    if args.json:  # after every row: a run cut short keeps what it measured
                        write_json(results, args.json)
    print(format_table(results))
    if args.e2e:
        from flashvid.bench import bench_file_pipeline

        for model in args.model or ["flashvid-rt"]:
            for w, h in sizes:
                e2e = bench_file_pipeline(
                    model,
                    w,
                    h,
                    engine=(args.engine or ["eager"])[0],
                    device=args.device,
                    precision=(args.precision or ["fp32"])[0],
                    checkpoint=args.checkpoint,
                    random_weights=args.random_weights,
                )
                print(
                    f"end to end (decode, matte, composite, encode) {model} {w}x{h}: {e2e['fps']:.1f} FPS "
                    f"({e2e['frames']} frames in {e2e['seconds']:.1f} s)"
                )
    return 0


def _cmd_train(args: argparse.Namespace) -> int:
    import torch

    from flashvid.training.train import load_config, train

    if args.threads:
        torch.set_num_threads(args.threads)
    path = Path(args.config)
    if not path.is_file():
        raise FlashvidError(f"{path}: no such config file; the shipped one is assets/configs/flashvid-rt.json")
    overrides: dict[str, Any] = {}
    for item in args.set:
        key, sep, value = item.partition("=")
        try:
            overrides[key] = json.loads(value)
        except json.JSONDecodeError:
            sep = ""
        if not sep:
            raise FlashvidError(f"--set {item}: give KEY=JSON, e.g. --set val_every=100 or --set selection_videos=[]")
    if args.snapshots:
        overrides["snapshots"] = True
    try:
        cfg = load_config(
            path, steps=args.steps, batch=args.batch, init_checkpoint=args.init, workers=args.workers, **overrides
        )
    except ValueError as e:  # an unknown key
        raise FlashvidError(f"{path}: {e}") from None
    summary = train(cfg, args.out, device=args.device, resume=args.resume, time_limit_min=args.time_limit)
    print(
        f"{args.out}: {summary['steps']} steps in {summary['time_s'] / 60:.1f} min ({summary['stopped']}); "
        f"best.safetensors is the checkpoint with the best selection score ({summary['best_score']:.4f})"
    )
    return 0


def _cmd_eval(args: argparse.Namespace) -> int:
    import torch

    from flashvid.matter import default_checkpoint
    from flashvid.network import build_model, subject_check_settings
    from flashvid.training.evaluate import (
        closed_form_alphas,
        evaluate,
        flow_mask_alphas,
        format_table,
        model_alphas,
        write_json,
    )
    from flashvid.training.train import load_config, load_sources, validation_backgrounds, validation_clips

    if args.threads:
        torch.set_num_threads(args.threads)
    cfg = load_config(args.config, val_clips=args.clips, size=args.size, frames=args.frames)
    ckpt = args.checkpoint or default_checkpoint(cfg["model"])
    if ckpt is None:
        raise FlashvidError(f"no checkpoint given and none shipped for {cfg['model']}; pass --checkpoint")
    if args.tables is not None:
        from flashvid.training.tables import build_tables

        bad = [t for t in args.tables if t not in (1, 2, 3, 4)]
        if bad:
            raise InputError(f"--tables {bad[0]}: the paper's supplementary has tables 1, 2, 3 and 4")
        index = build_tables(
            args.tables or [1, 2, 3, 4],
            args.out,
            cfg,
            ckpt,
            clips=args.clips or 8,
            size=args.size or 320,
            frames=args.frames or 4,
            real_frames=min(args.real_frames, 30) if args.real_frames == 60 else args.real_frames,
            train_steps=args.train_steps,
            seed=args.seed,
            log=lambda m: None,
        )
        print(f"report: {index} (markdown twin: {index.with_suffix('.md')})")
        return 0
    # flashvid-rt with its subject check built in (open unless a row asks for it, as in FlashMatter)
    gate = subject_check_settings(cfg["model"], True)
    model = build_model(cfg["model"], ckpt, **gate)
    if args.real:
        from flashvid.training.real_eval import evaluate_real, format_real_table

        names = cfg["validation_videos"]
        spec = next((s for s in cfg["foregrounds"] if s["kind"] == "people-videos"), None)
        if spec is None or not names or not Path(spec["path"]).is_dir():
            raise FlashvidError(f"{args.config}: names no held-apart people videos (validation_videos) that exist")
        videos = [Path(spec["path"]) / f"{n}.mkv" for n in names]
        real = evaluate_real(model, videos, frames=args.real_frames)
        print(f"{len(videos)} held-apart real clips, frames 1..{args.real_frames} after a keyframe on frame 0")
        print(format_real_table(real))
        if args.json:
            Path(args.json).with_suffix(".real.json").write_text(json.dumps(real, indent=2))
        return 0
    _, val_fg, bgs = load_sources(cfg)
    clips = validation_clips(cfg, val_fg, validation_backgrounds(cfg) or bgs)
    # as the app runs it (the subject check per defaults.SUBJECT_CHECK), and with the check the other way
    check = getattr(model, "gate", None) is not None and defaults.SUBJECT_CHECK
    methods = {f"{cfg['model']} ({Path(ckpt).name})": lambda c: model_alphas(model, c, subject_check=check)}
    if getattr(model, "gate", None) is not None:
        other = f"{cfg['model']}, subject check off" if check else f"{cfg['model']} + subject check"
        methods[other] = lambda c: model_alphas(model, c, subject_check=not check)
    if not args.no_baselines:
        methods["flow-mask (DIS warp of the keyframe mask)"] = flow_mask_alphas
        methods["closed-form (pymatting, warped trimap)"] = closed_form_alphas
    table = evaluate(methods, clips)
    print(f"{len(clips)} clips x {cfg['frames']} frames at {cfg['size']}x{cfg['size']}, held-apart foregrounds")
    print(format_table(table))
    if args.json:
        write_json(table, args.json, {"clips": len(clips), "frames": cfg["frames"], "size": cfg["size"]})
    return 0


def _keyframe_from_args(args: argparse.Namespace):
    from flashvid.imageio import read_image
    from flashvid.keyframe import Keyframe, make_keyframe

    if args.keyframe == "auto":
        from flashvid.api import keyframe_from_video

        if not getattr(args, "input", None):
            raise FlashvidError("--keyframe auto looks for a flash burst in --input; give a video file there")
        kf, found = keyframe_from_video(args.input)
        print(
            f"{args.input}: keyframe from the flash at frame {found.flash_index}, no-flash frame {found.noflash_index}"
        )
    elif args.keyframe:
        kf = Keyframe.load(args.keyframe)
    elif args.flash and args.noflash:
        kf = make_keyframe(
            read_image(args.flash),
            read_image(args.noflash),
            sam_checkpoint=_sam(args.sam_checkpoint),
            names=(str(args.flash), str(args.noflash)),
        )
    else:
        raise FlashvidError("give --keyframe kf.flashkey, or --flash F and --noflash N to make one")
    if args.band:
        kf = kf.with_band(args.band)
    return kf


def _check_device(device: str) -> None:
    if device.startswith("cuda"):
        import torch

        if not torch.cuda.is_available():
            raise FlashvidError(f"--device {device}: no CUDA GPU is visible here; use --device cpu")
        if ":" in device and int(device.split(":")[1]) >= torch.cuda.device_count():
            raise FlashvidError(f"--device {device}: only {torch.cuda.device_count()} CUDA device(s) here")


def _matter_from_args(args: argparse.Namespace):
    from flashvid.api import make_matter

    _check_device(args.device)
    return make_matter(
        args.model,
        args.checkpoint,
        engine=args.engine,
        device=args.device,
        precision=args.precision,
        internal_size=args.internal_size,
        random_weights=args.random_weights,
        subject_check=args.subject_check,
    )


def _install_sigterm() -> None:
    import signal

    def handler(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, handler)


def _cmd_export(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from flashvid.api import check_output, matte_video
    from flashvid.video.sinks import output_path, partial_path
    from flashvid.video.sources import VideoFile, open_source

    out = output_path(args.out, args.format)
    check_output(out, args.input, overwrite=args.overwrite)
    source = open_source(args.input)
    kf = _keyframe_from_args(args)
    matter = _matter_from_args(args)
    total = len(source) if hasattr(source, "__len__") else 0  # type: ignore[arg-type]
    _install_sigterm()
    bar = tqdm(total=total or None, unit="frame", desc=f"export {out.name}", dynamic_ncols=True)
    try:
        stats = matte_video(
            source,
            out,
            keyframe=kf,
            background=args.background,
            format=args.format,
            despill=args.despill,
            smoothing=args.smooth,
            audio=not args.no_audio,
            matter=matter,
            progress=lambda done, _: bar.update(1),
            overwrite=args.overwrite,
        )
    except (KeyboardInterrupt, FlashvidError) as exc:
        bar.close()
        kept = partial_path(out)
        what = f"kept what was done in {kept} ({out} untouched)" if kept.exists() else "nothing written"
        if isinstance(exc, KeyboardInterrupt):
            print(f"flashvid: export stopped; {what}", file=sys.stderr)
            return 130
        raise FlashvidError(f"{exc}; {what}") from exc
    bar.close()
    print(
        f"{out}: {stats.frames_written} frames in {stats.elapsed_s:.1f} s ({stats.fps:.1f} FPS), "
        f"{args.format}, background {args.background}"
    )
    short = source.shortfall() if isinstance(source, VideoFile) else ""
    if short:
        print(
            f"flashvid: warning: {args.input}: {short}; {out} holds the {stats.frames_written} frames that decoded",
            file=sys.stderr,
        )
        return 3
    return 0


def _cmd_stream(args: argparse.Namespace) -> int:
    from flashvid.api import matte_video
    from flashvid.video.sinks import Sink, UdpSink, VirtualCamSink
    from flashvid.video.sources import Webcam, open_source

    source = open_source(args.camera)
    kf = _keyframe_from_args(args)
    matter = _matter_from_args(args)
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
    _install_sigterm()
    try:
        with sink:
            stats = matte_video(
                source,
                keyframe=kf,
                background=args.background,
                despill=args.despill,
                smoothing=args.smooth,
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


def _cmd_demo(args: argparse.Namespace) -> int:
    import numpy as np

    from flashvid.api import matte_video
    from flashvid.compose import ImageBackground
    from flashvid.demo import contact_sheet, generate_clip, sky_background
    from flashvid.imageio import read_image
    from flashvid.keyframe import make_keyframe
    from flashvid.training.metrics import mse, sad, unknown_region
    from flashvid.video.sinks import PreviewSink, VideoSink
    from flashvid.video.sources import ArraySource, Source, VideoFile

    out = Path(args.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    if args.video or args.flash or args.noflash:
        if not (args.video and args.flash and args.noflash):
            raise FlashvidError("give all of --video, --flash and --noflash to run the demo on your own files")
        flash, noflash = read_image(args.flash), read_image(args.noflash)
        source: Source = VideoFile(args.video)
        truth = None
        names = (str(args.flash), str(args.noflash))
    else:
        clip = generate_clip(frames=args.frames, seed=args.seed)
        flash, noflash, truth = clip.flash, clip.noflash, clip.alphas
        source = ArraySource(clip.frames, clip.fps)
        names = ("generated flash", "generated no-flash")
    kf = make_keyframe(flash, noflash, names=names)
    kf.save(out / "keyframe.flashkey")
    matter = _matter_from_args(args)
    frames: list[np.ndarray] = []
    alphas: list[np.ndarray] = []
    composites: list[np.ndarray] = []

    def keep(f) -> None:
        if len(frames) < 400:
            frames.append(f.source)
            alphas.append(f.alpha.astype(np.float32) / 255.0)
            composites.append(f.composite.copy())

    w, h, rate = source.width, source.height, source.rate
    sky = ImageBackground(sky_background(w, h))
    with VideoSink(out / "cutout.mov", "prores", w, h, rate) as mov:
        stats = matte_video(
            source,
            out / "composite.mp4",
            keyframe=kf,
            background=sky,
            matter=matter,
            sinks=[mov, PreviewSink(keep)],
        )
    contact_sheet(frames, alphas, composites, out / "contact_sheet.png")
    print(f"{out}: composite.mp4 (H.264), cutout.mov (ProRes 4444 with alpha), contact_sheet.png, keyframe.flashkey")
    print(
        f"model {matter.model_name} ({'random weights' if matter.random_weights else matter.checkpoint}), "
        f"{stats.frames_written} frames {w}x{h} in {stats.elapsed_s:.1f} s: {stats.fps:.1f} FPS end to end"
    )
    if truth is not None:
        pairs = list(zip(alphas, truth))
        m_unk = np.mean([mse(p, g, unknown_region(g)) for p, g in pairs])
        s_unk = np.mean([sad(p, g, unknown_region(g)) for p, g in pairs])
        m_all = np.mean([mse(p, g) for p, g in pairs])
        s_all = np.mean([sad(p, g) for p, g in pairs])
        print(
            f"against the ground truth: MSE x1e3 {m_unk * 1e3:.2f} / SAD /1e3 {s_unk / 1e3:.2f} (unknown band), "
            f"MSE x1e3 {m_all * 1e3:.2f} / SAD /1e3 {s_all / 1e3:.2f} (whole frame), mean per frame"
        )
    return 0


def _add_matting_args(p: argparse.ArgumentParser) -> None:
    from flashvid.network.build import MODELS

    p.add_argument("--keyframe", help="a keyframe file (flashvid keyframe), or auto: a flash burst in --input")
    p.add_argument("--flash", help="flash image (with --noflash, instead of --keyframe)")
    p.add_argument("--noflash", help="no-flash image")
    p.add_argument("--sam-checkpoint", help="SAM checkpoint for making the keyframe")
    p.add_argument("--band", type=_int_in(1, 1000), help="remake the keyframe's trimap with this band (px, 1-1000)")
    p.add_argument("--model", choices=sorted(MODELS), default="flashvid-rt")
    p.add_argument("--checkpoint", help="model weights (default: the shipped ones)")
    p.add_argument("--engine", default="eager", choices=defaults.ENGINES)
    p.add_argument("--device", default="cpu", type=_device, help="cpu, cuda or cuda:N")
    p.add_argument("--precision", default="fp32", choices=defaults.PRECISIONS, help="fp16 needs CUDA")
    p.add_argument(
        "--internal-size", type=_int_in(64, 2048), help="flashvid-rt internal resolution (long side, 64-2048)"
    )
    p.add_argument("--random-weights", action="store_true", help="untrained weights, for speed tests only")
    _add_subject_check(p, "fade the matte out for anyone who does not look like the keyframe's subject")
    p.add_argument(
        "--background", default="#00ff00", type=_background, help="image, video, #RRGGBB, blur[:STRENGTH] or none"
    )
    p.add_argument("--despill", type=_float_in(0.0, 1.0), default=1.0, help="0..1 edge despill (default 1)")
    p.add_argument("--smooth", type=_float_in(0.0, 0.95), default=0.0, help="0..0.95 temporal smoothing of alpha")


def build_parser() -> tuple[argparse.ArgumentParser, dict[str, Handler]]:
    """The argument parser and the handler of each subcommand."""
    parser = _Parser(prog="flashvid", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=_Parser)
    handlers: dict[str, Handler] = {}

    p = sub.add_parser("keyframe", help="make a flash keyframe (ratio map, mask, trimap) from a flash / no-flash pair")
    p.add_argument("--flash", help="the flash-lit frame (PNG/JPEG)")
    p.add_argument("--noflash", help="the no-flash frame taken right beside it")
    p.add_argument("--from-video", help="instead: find a flash burst (torch / screen flash) in this clip")
    p.add_argument("--out", required=True, help="keyframe file to write (.flashkey); PNGs are written beside it")
    p.add_argument("--sam-checkpoint", help="segment-anything checkpoint (vit_b/l/h); default: GrabCut, no weights")
    p.add_argument("--sam-type", choices=["vit_b", "vit_l", "vit_h"], help="check the checkpoint's type")
    p.add_argument(
        "--band", type=_int_in(1, 1000), help="trimap band in pixels, 1-1000 (default: 3.5 %% of the shorter side)"
    )
    p.add_argument("--estimator", choices=["pixel", "histogram"], default="pixel", help="ratio map estimator")
    p.add_argument(
        "--threshold",
        type=_float_in(0.05, 0.99),
        default=defaults.RATIO_THRESHOLD,
        help="confident ratio threshold (default %(default)s)",
    )
    p.add_argument(
        "--negative-points", type=_int_in(0, 64), default=0, help="negative points from the lowest-ratio areas"
    )
    p.add_argument("--resize", action="store_true", help="scale the no-flash image to the flash image's size")
    p.add_argument("--device", default="cpu", type=_device, help="device for SAM: cpu or cuda")
    handlers["keyframe"] = _cmd_keyframe

    p = sub.add_parser("synth-pair", help="render a synthetic flash / no-flash pair with ground-truth alpha")
    p.add_argument("--out-dir", required=True)
    p.add_argument("--width", type=int, default=640)
    p.add_argument("--height", type=int, default=480)
    p.add_argument("--seed", type=int, default=0)
    handlers["synth-pair"] = _cmd_synth_pair

    from flashvid.network.build import MODELS

    p = sub.add_parser("info", help="parameters and FLOPs per component of a model")
    p.add_argument("--model", choices=sorted(MODELS), default="flashvid-rt")
    p.add_argument("--checkpoint", help="weights to load (FLOPs do not depend on them)")
    p.add_argument("--size", type=_size, action="append", help="frame size WxH (repeatable; default 1280x720)")
    _add_subject_check(p, "flashvid-rt with its subject check, as the app runs it")
    p.set_defaults(size=None)
    handlers["info"] = _cmd_info

    p = sub.add_parser("bench", help="per-frame latency / FPS per model, engine, precision and size")
    p.add_argument("--model", action="append", choices=sorted(MODELS), help="repeatable; default flashvid-rt")
    p.add_argument("--engine", action="append", help="repeatable: eager, compiled, onnx, tensorrt, auto")
    p.add_argument("--precision", action="append", choices=defaults.PRECISIONS, help="repeatable; default fp32")
    p.add_argument("--size", type=_size, action="append", help="360p, 720p, 1080p, 2160p or WxH (repeatable)")
    p.add_argument("--device", default="cpu", type=_device)
    p.add_argument("--frames", type=_int_in(1, 100000), default=50, help="timed frames after warm-up (default 50)")
    p.add_argument("--warmup", type=_int_in(0, 10000), default=5)
    p.add_argument("--threads", type=_int_in(1, 1024), help="CPU threads for PyTorch")
    p.add_argument("--checkpoint", help="weights (default: the shipped ones)")
    p.add_argument("--random-weights", action="store_true", help="untrained weights (speed does not depend on them)")
    p.add_argument("--json", type=_json_out, help="write the results as JSON here")
    p.add_argument("--e2e", action="store_true", help="also time a whole file export (decode to encode)")
    p.add_argument("--compare-rvm", action="store_true", help="flashvid-rt beside RobustVideoMatting-MobileNetV3 (CPU)")
    _add_subject_check(p, "flashvid-rt with its subject check, as the app runs it")
    handlers["bench"] = _cmd_bench

    p = sub.add_parser("train", help="train a matting network on synthesised flash clips")
    p.add_argument(
        "--config",
        default=str(assets.path("configs", "flashvid-rt.json")),
        help="JSON config (default: the shipped one)",
    )
    p.add_argument("--out", required=True, help="output folder (last.pt, best.safetensors, history.json)")
    p.add_argument("--device", default="cpu")
    p.add_argument("--resume", action="store_true", help="continue from OUT/last.pt")
    p.add_argument("--init", help="start from these weights (e.g. the shipped flashvid-rt) instead of ImageNet")
    p.add_argument("--steps", type=int, help="override the config's steps")
    p.add_argument("--batch", type=int, help="override the config's batch size")
    p.add_argument(
        "--time-limit",
        type=float,
        help="stop (validate, save) after this many minutes of this session; the learning rate anneals inside it",
    )
    p.add_argument("--threads", type=int, help="CPU threads for PyTorch")
    p.add_argument("--workers", type=int, help="override the config's data worker processes")
    p.add_argument(
        "--snapshots", action="store_true", help="also keep the weights of every validated step (step_N.safetensors)"
    )
    p.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=JSON",
        help="override any config key with a JSON value, e.g. --set selection_videos=[] --set val_every=100",
    )
    handlers["train"] = _cmd_train

    p = sub.add_parser("eval", help="evaluate a model and the baselines on held-apart validation clips")
    p.add_argument("--config", default=str(assets.path("configs", "flashvid-rt.json")))
    p.add_argument("--checkpoint", help="model weights (default: the shipped ones)")
    p.add_argument("--clips", type=int, help="number of validation clips (default: the config's)")
    p.add_argument("--size", type=int, help="composite size in pixels (default: the config's training size)")
    p.add_argument("--frames", type=int, help="frames after the keyframe (default: the config's)")
    p.add_argument("--real", action="store_true", help="real footage: held-apart people clips (IoU, boundary F)")
    p.add_argument("--real-frames", type=int, default=60, help="frames per real clip after the keyframe")
    p.add_argument("--no-baselines", action="store_true")
    p.add_argument("--threads", type=int)
    p.add_argument("--json", help="write the table as JSON here")
    p.add_argument(
        "--tables",
        type=int,
        nargs="*",
        help="the paper's supplementary tables (1 2 3 4; none listed: all) rebuilt on our data, as a report in --out",
    )
    p.add_argument("--out", default="report", help="folder for the --tables report (index.html, index.md)")
    p.add_argument("--train-steps", type=int, default=200, help="--tables 3 / 4: the training budget of every row")
    p.add_argument("--seed", type=int, default=0)
    handlers["eval"] = _cmd_eval

    p = sub.add_parser("export", help="matte a video file and write it (mp4, prores, webm, png, matte)")
    p.add_argument("--input", required=True, help="video file or folder of frames")
    p.add_argument("--format", choices=["mp4", "prores", "webm", "png", "matte"], default="mp4")
    p.add_argument("--out", required=True)
    p.add_argument("--no-audio", action="store_true", help="do not copy the input's audio")
    p.add_argument("--overwrite", action="store_true", help="replace an existing --out (only once the new one is done)")
    _add_matting_args(p)
    handlers["export"] = _cmd_export

    p = sub.add_parser("stream", help="matte a camera live to a window, a virtual camera or a UDP stream")
    p.add_argument("--camera", default="0", help="camera index, /dev/videoN, or a video file to loop once")
    p.add_argument("--to", default="window", type=_stream_target, help="window, virtualcam or udp://HOST:PORT")
    p.add_argument("--no-drop", action="store_true", help="never drop frames (latency grows if matting is slow)")
    _add_matting_args(p)
    handlers["stream"] = _cmd_stream

    p = sub.add_parser("demo", help="the whole path on a generated clip (or --video/--flash/--noflash)")
    p.add_argument("--out-dir", default="flashvid-demo")
    p.add_argument("--video")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--frames", type=_int_in(1, 100000), default=48, help="length of the generated clip")
    _add_matting_args(p)
    handlers["demo"] = _cmd_demo

    p = sub.add_parser("weights", help="list or download official weights (SAM) into the cache folder")
    p.add_argument("action", choices=["list", "fetch"])
    p.add_argument("name", nargs="?", help="e.g. sam-vit-b")
    p.add_argument("--cache", help="folder (default: $FLASHVID_CACHE or ~/.cache/flashvid)")
    p.add_argument("--url", help="download from this mirror instead of the official URL (the SHA-256 still holds)")
    handlers["weights"] = _cmd_weights
    return parser, handlers


def main(argv: Sequence[str] | None = None) -> int:
    """Run the `flashvid` command line; returns the exit status."""
    parser, handlers = build_parser()
    args = parser.parse_args(argv)
    if args.command == "info" and args.size is None:
        args.size = [(1280, 720)]
    from flashvid.logs import setup_logging

    setup_logging()
    try:
        return handlers[args.command](args)
    except FlashvidError as exc:
        print(f"flashvid: error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:  # an output that cannot be written (read-only, full disk, /proc, ...)
        where = exc.filename or "output"
        print(f"flashvid: error: {where}: {exc.strerror or exc}; check the path and free space", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("flashvid: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
