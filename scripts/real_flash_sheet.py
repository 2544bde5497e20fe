"""Contact sheet of the real flash / no-flash pairs: flash, ratio map with points, mask, trimap.

    python scripts/real_flash_sheet.py [--data ../shared/data/real-flash] [--out real_flash_sheet.png]
        [--estimator pixel|histogram]

Prints one summary line per pair (subject area, points, ratio inside vs outside the mask).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from flashvid.errors import FlashvidError
from flashvid.imageio import read_image, write_image
from flashvid.keyframe import make_keyframe
from flashvid.viz import grid, label, mask_overlay, ratio_with_points, trimap_overlay


def main() -> None:
    here = Path(__file__).resolve().parents[1]
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=here.parent / "shared" / "data" / "real-flash")
    ap.add_argument("--out", type=Path, default=Path("real_flash_sheet.png"))
    ap.add_argument("--estimator", choices=["pixel", "histogram"], default="pixel")
    args = ap.parse_args()
    rows = []
    for f in sorted(args.data.glob("*_flash.png")):
        name = f.name[: -len("_flash.png")]
        flash, noflash = read_image(f), read_image(f.with_name(f"{name}_ambient.png"))
        try:
            kf = make_keyframe(flash, noflash, estimator=args.estimator)
        except FlashvidError as exc:
            print(f"{name}: {exc}")
            rows.append([label(flash, f"{name}: FAILED"), noflash])
            continue
        s = kf.summary()
        print(
            f"{name}: subject {s['area_pct']:.1f} %, {s['points']} points, ratio {s['ratio_in']:.2f} inside vs "
            f"{s['ratio_out']:.2f} outside"
        )
        rows.append(
            [
                label(flash, f"{name} flash"),
                label(ratio_with_points(kf.ratio, kf.points, kf.labels), "ratio + points"),
                label(mask_overlay(flash, kf.mask), f"mask {s['area_pct']:.0f}%"),
                label(trimap_overlay(flash, kf.trimap), "trimap"),
            ]
        )
    if not rows:
        raise SystemExit(f"{args.data}: no *_flash.png pairs found")
    write_image(args.out, grid(rows, cell_height=200))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
