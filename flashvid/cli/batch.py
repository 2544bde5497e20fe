"""`flashvid batch`: matte many videos on Ray (`flashvid.batch.matte_many`), a local Ray or a cluster."""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

from flashvid.cli.common import (
    Handler,
    add_band,
    add_compositor_arguments,
    add_matter_arguments,
    compositor_spec,
    float_in,
    int_in,
    json_out,
    matter_spec,
)
from flashvid.errors import FlashvidError


def cmd_batch(args: argparse.Namespace) -> int:
    from flashvid.batch import BatchSettings, jobs_from_inputs, jobs_from_manifest, matte_many
    from flashvid.batch.runner import import_ray

    import_ray()  # the missing extra is one line before any work
    if bool(args.inputs) == bool(args.manifest):
        raise FlashvidError("give video files / folders / globs, or --manifest FILE (not both)")
    comp = compositor_spec(args)
    background = comp.background if comp.background is not None else "none"
    if args.manifest:
        jobs = jobs_from_manifest(
            args.manifest, args.out_dir, keyframe=args.keyframe, background=background, format=args.format
        )
    else:
        if not args.keyframe:
            raise FlashvidError(
                "--keyframe: give a keyframe file for all the videos, or auto (each clip's flash burst)"
            )
        jobs = jobs_from_inputs(
            args.inputs, args.out_dir, keyframe=args.keyframe, background=background, format=args.format
        )
    settings = BatchSettings(
        matter_spec(args), dataclasses.replace(comp, background=None), args.band, not args.no_audio
    )
    report_path = args.report or str(Path(args.out_dir) / "batch-report.json")
    report = matte_many(
        jobs,
        args.out_dir,
        settings,
        address=args.address,
        workers=args.workers,
        cpus_per_worker=args.cpus_per_worker,
        gpus_per_worker=args.gpus_per_worker,
        overwrite=args.overwrite,
        retries=args.retries,
        progress=not args.no_progress,
        report=report_path,
    )
    print(report.table())
    print(f"report: {report_path}")
    return 3 if report.count("failed") else 0


def register(sub: argparse._SubParsersAction, handlers: dict[str, Handler]) -> None:
    """Add `batch` to `sub` and its handler to `handlers`."""
    from flashvid.video.outputs import EXTENSIONS

    p = sub.add_parser(
        "batch",
        help="matte many videos on Ray (a local Ray, or a cluster with --address); finished outputs are skipped",
        description="Exit status: 0 all done or skipped, 3 some videos failed (see the table), 2 bad input.",
    )
    p.add_argument("inputs", nargs="*", help="video files, folders or globs (or --manifest)")
    p.add_argument("--manifest", help="CSV or JSON lines with the columns input, keyframe, background, format, out")
    p.add_argument("--out-dir", required=True, help="where the outputs, the ledger and the report go")
    p.add_argument("--keyframe", help="a keyframe file for all the videos, or auto: each clip's own flash burst")
    p.add_argument("--format", choices=list(EXTENSIONS), default="mp4")
    p.add_argument("--no-audio", action="store_true", help="do not copy the inputs' audio")
    p.add_argument("--overwrite", action="store_true", help="replace outputs that were not made by a batch")
    p.add_argument("--address", help="join a running Ray cluster: auto or HOST:PORT (default: a local Ray here)")
    p.add_argument("--workers", type=int_in(1, 4096), help="local Ray: videos at once (default: CPUs, or GPUs)")
    p.add_argument("--cpus-per-worker", type=float_in(1, 1024), default=1.0, help="CPU threads per video (default 1)")
    p.add_argument("--gpus-per-worker", type=float_in(0, 64), help="GPUs per video (default 1 on CUDA, else 0)")
    p.add_argument("--retries", type=int_in(0, 100), default=2, help="reruns of a video whose worker died")
    p.add_argument("--report", type=json_out, help="the JSON report (default OUT_DIR/batch-report.json)")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    add_band(p, "remake the keyframes' trimaps with this band in px")
    add_matter_arguments(p)
    add_compositor_arguments(p)
    handlers["batch"] = cmd_batch
