"""A batch of real clips on Ray, timed: the GPU machine's check of `flashvid batch` (scripts/gpu.sh runs it).

    python scripts/batch_bench.py OUT_DIR CLIP [CLIP ...] [--device cuda] [--gpus-per-worker 0.5]

One keyframe for all: the first clip's frame 0 with a flash rendered on the person the shipped segmenter finds
(as `flashvid demo` does). Prints the batch's summary table; writes OUT_DIR/batch-report.json.
"""

from __future__ import annotations

import argparse
from pathlib import Path


def main() -> int:
    from flashvid.batch import BatchSettings, jobs_from_inputs, matte_many
    from flashvid.keyframe import make_keyframe
    from flashvid.keyframe.person import PersonSegmenter
    from flashvid.spec import MatterSpec
    from flashvid.training.real_eval import rendered_flash
    from flashvid.video.sources import VideoFile

    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("out_dir")
    p.add_argument("clips", nargs="+")
    p.add_argument("--device", default="cpu")
    p.add_argument("--precision", default="fp32")
    p.add_argument("--gpus-per-worker", type=float)
    p.add_argument("--workers", type=int)
    args = p.parse_args()
    out = Path(args.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    first = next(iter(VideoFile(args.clips[0]))).image
    flash = rendered_flash(first, PersonSegmenter()(first), seed=0)
    make_keyframe(flash, first, accept_weak_flash=True).save(out / "keyframe.flashkey")
    jobs = jobs_from_inputs(args.clips, out, keyframe=out / "keyframe.flashkey")
    settings = BatchSettings(MatterSpec(device=args.device, precision=args.precision))
    report = matte_many(
        jobs,
        out,
        settings,
        workers=args.workers,
        gpus_per_worker=args.gpus_per_worker,
        progress=False,
        report=out / "batch-report.json",
    )
    print(report.table())
    return 1 if report.count("failed") else 0


if __name__ == "__main__":
    raise SystemExit(main())
