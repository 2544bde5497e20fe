"""`flashvid info` and `flashvid bench`: what a model costs and how fast it runs."""

from __future__ import annotations

import argparse
import dataclasses
import json
from pathlib import Path

from flashvid import defaults
from flashvid.cli.common import Handler, add_subject_check, check_device, device, int_in, json_out, size
from flashvid.spec import MatterSpec


def cmd_info(args: argparse.Namespace) -> int:
    import torch

    from flashvid.network import MODELS, build_model
    from flashvid.profile import format_costs, model_costs

    torch.manual_seed(0)
    spec = MatterSpec(args.model, random_weights=True, subject_check=args.subject_check)
    model = build_model(args.model, args.checkpoint, **spec.model_settings())
    gate = spec.subject_check_on
    print(f"{args.model}: {MODELS[args.model].description}" + (" (with its subject check)" if gate else ""))
    for w, h in args.size or [defaults.SIZES["720p"]]:
        print(format_costs(model_costs(model, h, w), h, w))
    return 0


def cmd_bench(args: argparse.Namespace) -> int:
    import torch

    from flashvid.bench import BenchResult, bench_file_pipeline, bench_spec, format_table, write_json

    if args.threads:
        torch.set_num_threads(args.threads)
    check_device(args.device)
    sizes = args.size or [defaults.SIZES["360p"], defaults.SIZES["720p"]]
    if args.compare_rvm:
        from flashvid.bench import bench_rvm_side_by_side, rvm_summary

        for w, h in sizes:
            rows = bench_rvm_side_by_side(
                w, h, frames=args.frames, warmup=args.warmup, subject_check=args.subject_check
            )
            for row in rows:
                print(f"{row['size']}  {row['model']:<40} {row['median_ms']:8.1f} ms", flush=True)
            print(rvm_summary(rows, w, h), flush=True)
            if args.json:
                Path(args.json).write_text(json.dumps(rows, indent=2))
        return 0
    base = MatterSpec(
        device=args.device,
        checkpoint=args.checkpoint,
        random_weights=args.random_weights,
        subject_check=args.subject_check,
    )
    specs = [
        base.replace(model=model, engine=engine, precision=precision)
        for model in args.model or [defaults.MODEL]
        for engine in args.engine or [defaults.ENGINE]
        for precision in args.precision or [defaults.PRECISION]
    ]
    results: list[BenchResult] = []
    for spec in specs:
        for w, h in sizes:
            r = bench_spec(spec, w, h, frames=args.frames, warmup=args.warmup)
            results.append(r)
            print(format_table([r]).splitlines()[-1], flush=True)
            if args.json:  # after every row: a run cut short keeps what it measured
                write_json(results, args.json)
    print(format_table(results))
    if args.e2e:
        firsts = dict.fromkeys(
            dataclasses.replace(s, engine=specs[0].engine, precision=specs[0].precision) for s in specs
        )
        for spec in firsts:
            for w, h in sizes:
                net = next(r for r in results if r.model == spec.model and (r.width, r.height) == (w, h))
                e2e = {
                    overlap: bench_file_pipeline(
                        spec.model,
                        w,
                        h,
                        engine=spec.engine,
                        device=spec.device,
                        precision=spec.precision,
                        checkpoint=spec.checkpoint,
                        random_weights=spec.random_weights,
                        overlap=overlap,
                    )
                    for overlap in (False, True)
                }
                fast, serial = e2e[True], e2e[False]
                print(
                    f"end to end, file to file (decode, matte, composite, encode) {spec.model} {w}x{h}: "
                    f"{fast['fps']:.1f} FPS overlapped, {serial['fps']:.1f} FPS one stage after another "
                    f"(x{fast['fps'] / max(serial['fps'], 1e-9):.2f}); network only {net.fps:.1f} FPS "
                    f"(end to end is {fast['fps'] / max(net.fps, 1e-9):.0%} of it)"
                )
    return 0


def register(sub: argparse._SubParsersAction, handlers: dict[str, Handler]) -> None:
    """Add this group's subcommands to `sub` and their handlers to `handlers`."""
    from flashvid.network.build import MODELS

    p = sub.add_parser("info", help="parameters and FLOPs per component of a model")
    p.add_argument("--model", choices=sorted(MODELS), default=defaults.MODEL)
    p.add_argument("--checkpoint", help="weights to load (FLOPs do not depend on them)")
    p.add_argument("--size", type=size, action="append", help="frame size WxH (repeatable; default 1280x720)")
    add_subject_check(p, "flashvid-rt with its subject check, as the app runs it")
    handlers["info"] = cmd_info

    p = sub.add_parser("bench", help="per-frame latency / FPS per model, engine, precision and size")
    p.add_argument("--model", action="append", choices=sorted(MODELS), help=f"repeatable; default {defaults.MODEL}")
    p.add_argument("--engine", action="append", choices=defaults.ENGINES, help="repeatable; default eager")
    p.add_argument("--precision", action="append", choices=defaults.PRECISIONS, help="repeatable; default fp32")
    p.add_argument("--size", type=size, action="append", help="360p, 720p, 1080p, 2160p or WxH (repeatable)")
    p.add_argument("--device", default=defaults.DEVICE, type=device)
    p.add_argument("--frames", type=int_in(1, 100000), default=50, help="timed frames after warm-up (default 50)")
    p.add_argument("--warmup", type=int_in(0, 10000), default=5)
    p.add_argument("--threads", type=int_in(1, 1024), help="CPU threads for PyTorch")
    p.add_argument("--checkpoint", help="weights (default: the shipped ones)")
    p.add_argument("--random-weights", action="store_true", help="untrained weights (speed does not depend on them)")
    p.add_argument("--json", type=json_out, help="write the results as JSON here")
    p.add_argument("--e2e", action="store_true", help="also time a whole file export (decode to encode)")
    p.add_argument("--compare-rvm", action="store_true", help="flashvid-rt beside RobustVideoMatting-MobileNetV3 (CPU)")
    add_subject_check(p, "flashvid-rt with its subject check, as the app runs it")
    handlers["bench"] = cmd_bench
