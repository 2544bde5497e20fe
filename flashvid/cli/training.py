"""`flashvid train` and `flashvid eval`: training runs, evaluation suites and the paper's tables."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from flashvid import assets, defaults
from flashvid.cli.common import Handler, device, int_in, json_out
from flashvid.errors import FlashvidError, InputError


def cmd_train(args: argparse.Namespace) -> int:
    import torch

    from flashvid.training.config import load_config
    from flashvid.training.train import train

    if args.threads:
        torch.set_num_threads(args.threads)
    path = Path(args.config)
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
    cfg = load_config(
        path, steps=args.steps, batch=args.batch, init_checkpoint=args.init, workers=args.workers, **overrides
    )
    summary = train(cfg, args.out, device=args.device, resume=args.resume, time_limit_min=args.time_limit)
    print(
        f"{args.out}: {summary['steps']} steps in {summary['time_s'] / 60:.1f} min ({summary['stopped']}); "
        f"best.safetensors is the checkpoint with the best selection score ({summary['best_score']:.4f})"
    )
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    import torch

    from flashvid.imageio import dump_json
    from flashvid.training.config import load_config
    from flashvid.training.suites import checkpoint_for, composite_table, real_table

    if args.camera != "still" and not args.outside:
        raise InputError(f"--camera {args.camera}: re-frames the --outside clips; add --outside")
    if args.threads:
        torch.set_num_threads(args.threads)
    cfg = load_config(args.config, val_clips=args.clips, size=args.size, frames=args.frames)
    ckpt = checkpoint_for(cfg, args.checkpoint)
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
    if args.outside:
        from flashvid.training.outside_eval import format_outside_table
        from flashvid.training.suites import outside_table

        frames = args.frames or 40
        outside = outside_table(
            cfg, ckpt, frames, str(args.config), log=lambda m: print(m, flush=True), camera=args.camera
        )
        seen = "" if args.camera == "still" else f", filmed as a camera that would {args.camera.replace('-', ' ')}"
        print(
            f"{len(outside)} clips from rooms and people the training never saw, {frames} frames after the "
            f"keyframe{seen}"
        )
        print(format_outside_table(outside))
        if args.json:
            suffix = ".outside.json" if args.camera == "still" else f".outside-{args.camera}.json"
            dump_json(outside, Path(args.json).with_suffix(suffix))
        return 0
    if args.real:
        from flashvid.training.real_eval import format_real_table

        real, n = real_table(cfg, ckpt, args.real_frames, str(args.config))
        print(f"{n} held-apart real clips, frames 1..{args.real_frames} after a keyframe on frame 0")
        print(format_real_table(real))
        if args.json:
            dump_json(real, Path(args.json).with_suffix(".real.json"))
        return 0
    from flashvid.training.evaluate import FLOW_MASK, format_clip_ratios, format_table, write_json

    per_clip: dict[str, dict[str, float]] = {}
    table, n = composite_table(cfg, ckpt, baselines=not args.no_baselines, per_clip=per_clip)
    print(f"{n} clips x {cfg['frames']} frames at {cfg['size']}x{cfg['size']}, held-apart foregrounds")
    print(format_table(table))
    if FLOW_MASK in per_clip:
        print("\nper clip, SAD in the unknown band against the flow-warped keyframe mask:")
        print(format_clip_ratios(per_clip, next(iter(per_clip)), FLOW_MASK))
    if args.json:
        extra = {"clips": n, "frames": cfg["frames"], "size": cfg["size"], "per_clip_sad_unknown": per_clip}
        write_json(table, args.json, extra)
    return 0


def register(sub: argparse._SubParsersAction, handlers: dict[str, Handler]) -> None:
    """Add this group's subcommands to `sub` and their handlers to `handlers`."""
    shipped = str(assets.path("configs", "flashvid-rt.json"))
    p = sub.add_parser("train", help="train a matting network on synthesised flash clips")
    p.add_argument("--config", default=shipped, help="JSON config (default: the shipped one)")
    p.add_argument("--out", required=True, help="output folder (last.pt, best.safetensors, history.json)")
    p.add_argument("--device", default="cpu", type=device)
    p.add_argument("--resume", action="store_true", help="continue from OUT/last.pt")
    p.add_argument("--init", help="start from these weights (e.g. the shipped flashvid-rt) instead of ImageNet")
    p.add_argument("--steps", type=int_in(1), help="override the config's steps")
    p.add_argument("--batch", type=int_in(1), help="override the config's batch size")
    p.add_argument(
        "--time-limit",
        type=float,
        help="stop (validate, save) after this many minutes of this session; the learning rate anneals inside it",
    )
    p.add_argument("--threads", type=int_in(1, 1024), help="CPU threads for PyTorch")
    p.add_argument("--workers", type=int_in(0, 256), help="override the config's data worker processes")
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
    handlers["train"] = cmd_train

    p = sub.add_parser("eval", help="evaluate a model and the baselines on held-apart validation clips")
    p.add_argument("--config", default=shipped)
    p.add_argument("--checkpoint", help="model weights (default: the shipped ones)")
    p.add_argument("--clips", type=int_in(1), help="number of validation clips (default: the config's)")
    p.add_argument("--size", type=int_in(32, 4096), help="composite size in pixels (default: the config's)")
    p.add_argument("--frames", type=int_in(1), help="frames after the keyframe (default: the config's)")
    p.add_argument("--real", action="store_true", help="real footage: held-apart people clips (IoU, boundary F)")
    p.add_argument("--real-frames", type=int_in(1), default=60, help="frames per real clip after the keyframe")
    p.add_argument(
        "--outside",
        action="store_true",
        help="real clips from rooms and people the training never saw, against MediaPipe and DeepLabV3 references",
    )
    p.add_argument(
        "--camera",
        choices=list(defaults.CAMERAS),
        default="still",
        help="--outside: re-frame the clips as a camera that zooms in, zooms out or pans would film them",
    )
    p.add_argument("--no-baselines", action="store_true")
    p.add_argument("--threads", type=int_in(1, 1024))
    p.add_argument("--json", type=json_out, help="write the table as JSON here")
    p.add_argument(
        "--tables",
        type=int,
        nargs="*",
        help="the paper's supplementary tables (1 2 3 4; none listed: all) rebuilt on our data, as a report in --out",
    )
    p.add_argument("--out", default="report", help="folder for the --tables report (index.html, index.md)")
    p.add_argument(
        "--train-steps", type=int_in(1), default=200, help="--tables 3 / 4: the training budget of every row"
    )
    p.add_argument("--seed", type=int, default=0)
    handlers["train"] = cmd_train
    handlers["eval"] = cmd_eval
