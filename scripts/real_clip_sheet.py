"""Contact sheet of real clips matted by flashvid-rt: per clip, the keyframe (rendered flash, trimap) and frames
spread over the clip as input | alpha | composite, beside the person segmenter's reference mask.

    python scripts/real_clip_sheet.py [--checkpoint W] [--clips asl_again,asl_bird,asl_book] [--frames 60]
        [--keyframe-from CLIP] [--no-subject-check] [--out real_clips.png]

The keyframe's flash is rendered on frame 0 (physical model, as in `flashvid eval --real`); `--keyframe-from`
mattes every clip against another clip's keyframe (the "different identity" case). With the subject check (on by
default, as in the app; `--no-subject-check` leaves it out) the sheet shows the network's own alpha and the alpha
after the check, and composites the latter. Prints each clip's mean IoU against the reference and the flow-warped
keyframe mask's.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from flashvid import defaults
from flashvid.imageio import write_image
from flashvid.keyframe.person import PersonSegmenter
from flashvid.matter import default_checkpoint
from flashvid.network import build_model, subject_check_settings
from flashvid.training.real_eval import clip_keyframe, flow_mask_run, iou, load_real_clip, model_run
from flashvid.viz import grid, label, trimap_overlay


def composite(frame: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    h, w = alpha.shape
    bg = np.zeros((h, w, 3), np.float32)
    bg[..., 0] = np.linspace(40, 90, w)[None, :]
    bg[..., 1] = np.linspace(120, 200, h)[:, None]
    bg[..., 2] = 230
    a = alpha[..., None]
    return (a * frame + (1 - a) * bg).clip(0, 255).astype(np.uint8)


def main() -> None:
    here = Path(__file__).resolve().parents[1]
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--checkpoint", default=None)
    ap.add_argument("--videos", type=Path, default=here.parent / "shared" / "data" / "videos")
    ap.add_argument("--clips", default="asl_again,asl_bird,asl_book")
    ap.add_argument("--frames", type=int, default=60)
    ap.add_argument("--show", type=int, default=3, help="frames shown per clip")
    ap.add_argument("--keyframe-from", help="matte every clip against this clip's keyframe (another person)")
    ap.add_argument(
        "--subject-check",
        action=argparse.BooleanOptionalAction,
        default=defaults.SUBJECT_CHECK,
        help="also show the alpha after the subject check, and composite it (default: as the app)",
    )
    ap.add_argument("--out", type=Path, default=Path("real_clips.png"))
    args = ap.parse_args()
    ckpt = args.checkpoint or default_checkpoint("flashvid-rt")
    model = build_model("flashvid-rt", ckpt, **subject_check_settings("flashvid-rt", args.subject_check))
    seg = PersonSegmenter()
    other = None
    if args.keyframe_from:
        other = load_real_clip(args.videos / f"{args.keyframe_from}.mkv", 0, seg, seed=99)
    rows = []
    for i, name in enumerate(args.clips.split(",")):
        clip = load_real_clip(args.videos / f"{name}.mkv", args.frames, seg, seed=i)
        key_clip = other if other is not None else clip
        kf = clip_keyframe(key_clip)
        later = list(clip.frames[1:])
        alphas = model_run(model, kf, later)
        checked = model_run(model, kf, later, subject_check=True) if args.subject_check else None
        flows = flow_mask_run(kf, later)
        ious = [iou(a, r) for a, r in zip(alphas, clip.reference[1:], strict=True)]
        f_ious = [iou(a, r) for a, r in zip(flows, clip.reference[1:], strict=True)]
        print(f"{name}: flashvid-rt IoU {np.mean(ious):.3f} (min {np.min(ious):.3f}), flow-mask {np.mean(f_ious):.3f}")
        if checked is not None:
            c_ious = [iou(a, r) for a, r in zip(checked, clip.reference[1:], strict=True)]
            print(f"{name}: with the subject check IoU {np.mean(c_ious):.3f}")
        rows.append(
            [
                label(key_clip.flash, f"{key_clip.name}: rendered flash (keyframe)"),
                label(trimap_overlay(key_clip.flash, kf.trimap), "trimap"),
            ]
        )
        for j in np.linspace(0, len(later) - 1, args.show).astype(int):
            a = alphas[j]
            gray = np.repeat((a[..., None] * 255).astype(np.uint8), 3, axis=2)
            ref = np.repeat((clip.reference[j + 1][..., None] * 255).astype(np.uint8), 3, axis=2)
            cells = [label(later[j], f"{name} frame {j + 1}"), label(gray, f"alpha (IoU {ious[j]:.2f})")]
            if checked is not None:
                shown = checked[j]
                c_gray = np.repeat((shown[..., None] * 255).astype(np.uint8), 3, axis=2)
                cells.append(label(c_gray, f"+ subject check (IoU {iou(shown, clip.reference[j + 1]):.2f})"))
                a = shown
            cells += [
                label(composite(later[j].astype(np.float32), a), "composite"),
                label(ref, "reference (person segmenter)"),
            ]
            rows.append(cells)
    write_image(args.out, grid(rows, cell_height=200))
    print(f"{args.out}: {len(rows)} rows")


if __name__ == "__main__":
    main()
