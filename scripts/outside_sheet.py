"""Contact sheet of real clips from rooms and people the training never saw (`flashvid eval --outside`'s clips):
per clip, frames spread over it as input | flashvid-rt's matte | the flow-warped keyframe mask | DeepLabV3's
subject reference, each mask drawn over the frame, with its IoU against that reference.

    python scripts/outside_sheet.py --clips sam2_bedroom,intel_store-aisle-detection [--frames 40] [--out F.png]
    python scripts/outside_sheet.py --clips sam2_bedroom,intel_store-aisle-detection --camera pan   # re-framed
"""

from __future__ import annotations

import argparse
from pathlib import Path

from flashvid import defaults
from flashvid.imageio import write_image
from flashvid.keyframe.person import PersonSegmenter
from flashvid.matter import default_checkpoint
from flashvid.network import build_model
from flashvid.training.config import load_config
from flashvid.training.outside_eval import load_outside_clip
from flashvid.training.real_eval import flow_mask_run, iou, model_run
from flashvid.training.references import DeepLabPerson
from flashvid.viz import grid, label, mask_overlay


def main() -> None:
    from flashvid import assets

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--config", default=str(assets.path("configs", "flashvid-rt.json")))
    ap.add_argument("--checkpoint", default=None)
    ap.add_argument("--clips", required=True, help="comma-separated clip names (file stems) of the config's list")
    ap.add_argument("--frames", type=int, default=40)
    ap.add_argument("--show", type=int, default=4)
    ap.add_argument("--out", type=Path, default=Path("outside.png"))
    ap.add_argument("--camera", choices=list(defaults.CAMERAS), default="still", help="as `eval --outside --camera`")
    args = ap.parse_args()
    cfg = load_config(args.config)
    model = build_model("flashvid-rt", args.checkpoint or default_checkpoint("flashvid-rt"))
    mediapipe = PersonSegmenter()
    deeplab = DeepLabPerson(cfg["deeplab_reference"] or "")
    specs = {Path(s["path"]).stem: s for s in cfg["outside_videos"]}
    rows = []
    seen = "" if args.camera == "still" else f" ({args.camera})"
    for name in args.clips.split(","):
        spec = specs[name]
        clip = load_outside_clip(
            spec["path"], args.frames, int(spec.get("stride", 1)), mediapipe, deeplab, camera=args.camera
        )
        later = clip.frames[1:]
        ours, flow = model_run(model, clip.keyframe, later), flow_mask_run(clip.keyframe, later)
        step = max(1, len(later) // args.show)
        for i in range(0, len(later), step)[: args.show]:
            f, ref = later[i], clip.deeplab[i]
            rows.append(
                [
                    label(f, f"{name} frame {(i + 1) * int(spec.get('stride', 1))}{seen}"),
                    label(mask_overlay(f, ours[i] > 0.5), f"flashvid-rt IoU {iou(ours[i], ref):.2f}"),
                    label(mask_overlay(f, flow[i] > 0.5, (220, 160, 40)), f"flow-mask IoU {iou(flow[i], ref):.2f}"),
                    label(mask_overlay(f, ref > 0.5, (60, 120, 230)), "DeepLabV3 subject reference"),
                ]
            )
    write_image(args.out, grid(rows, cell_height=200))
    print(f"{args.out}: {len(rows)} rows")


if __name__ == "__main__":
    main()
