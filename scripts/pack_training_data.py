"""Pack the training data a config reads into a compact folder that can travel to another machine.

    python scripts/pack_training_data.py ../shared/data .gpudata [--config assets/configs/flashvid-rt.json]

Copies, under DST, the part of SRC (the shared data folder) that the config's foreground and background sources
read, keeping the folder layout, so that DST can stand in for SRC (`scripts/gpu.sh` links it where the config
looks). Images larger than the loaders' `max_side` (640 px) are stored at that size, as the loaders would reduce
them anyway (INTER_AREA, the loaders' own resize; JPEG quality 95, PNG lossless); videos and other files are copied
as they are, except the people clips the config holds apart from training (``validation_videos``,
``selection_videos``): training never reads them. Prints the packed size.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

import cv2

IMAGE_EXT = {".png", ".jpg", ".jpeg"}


def pack_file(src: Path, dst: Path, max_side: int) -> None:
    dst.parent.mkdir(parents=True, exist_ok=True)
    if src.suffix.lower() not in IMAGE_EXT:
        shutil.copy2(src, dst)
        return
    img = cv2.imread(str(src), cv2.IMREAD_UNCHANGED)
    if img is None or max(img.shape[:2]) <= max_side:
        shutil.copy2(src, dst)
        return
    s = max_side / max(img.shape[:2])
    img = cv2.resize(
        img, (max(1, round(img.shape[1] * s)), max(1, round(img.shape[0] * s))), interpolation=cv2.INTER_AREA
    )
    params = (
        [cv2.IMWRITE_JPEG_QUALITY, 95] if src.suffix.lower() in (".jpg", ".jpeg") else [cv2.IMWRITE_PNG_COMPRESSION, 9]
    )
    if not cv2.imwrite(str(dst), img, params):
        raise OSError(f"{dst}: could not write")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("src", type=Path, help="the shared data folder (../shared/data)")
    ap.add_argument("dst", type=Path, help="the packed copy to write")
    ap.add_argument("--config", type=Path, default=Path("assets/configs/flashvid-rt.json"))
    ap.add_argument("--max-side", type=int, default=640)
    args = ap.parse_args(argv)
    from flashvid.training.train import load_config

    src = args.src.resolve()
    if not src.is_dir():
        print(f"{args.src}: no such folder; give the shared data folder (../shared/data)", file=sys.stderr)
        return 2
    cfg = load_config(args.config)
    folders: set[tuple[Path, str]] = set()  # (folder under src, the files it reads)
    for spec in cfg["foregrounds"] + cfg["backgrounds"]:
        if "path" not in spec:
            continue
        p = Path(spec["path"])
        try:
            folders.add((p.relative_to(src), spec.get("glob", "*") if spec["kind"] == "people-videos" else "**/*"))
        except ValueError:
            print(f"{p}: a source outside {src}; not packed", file=sys.stderr)
    apart = {*cfg["validation_videos"], *cfg["selection_videos"]}
    total = 0
    for rel, pattern in sorted(folders):
        for f in sorted((src / rel).glob(pattern)):
            if f.is_file() and f.stem not in apart:
                out = args.dst / f.relative_to(src)
                pack_file(f, out, args.max_side)
                total += out.stat().st_size
    print(f"{args.dst}: {total / 2**20:.1f} MiB from {len(set(folders))} source folders")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
