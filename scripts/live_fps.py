"""The studio's live rate at 640x360, as its own counter reports it (issue 25), beside the model alone.

    python scripts/live_fps.py [--engine onnx] [--seconds 10] [--rounds 3]

Makes a 640x360, 30 fps clip from the shipped real clip (assets/demo/asl_bird.mkv, the rows 60-419 of its 640x480
frames, played forward and back), renders a flash keyframe on its first frame (as `flashvid eval` does), opens
both in the studio (offscreen Qt), plays, and reads the studio's FPS counter (`MattingWorker.fps`, the label's
number) every 2 s. Each round also times the model alone on that frame size with `flashvid bench`'s code, so a
machine whose speed changes between rounds (a shared VM) shows it. The source caps the counter at 30.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def make_clip(folder: Path) -> tuple[Path, Path]:
    import av
    import numpy as np

    from flashvid import assets
    from flashvid.keyframe.person import PersonSegmenter
    from flashvid.training.real_eval import clip_keyframe, load_real_clip

    with av.open(str(assets.path("demo", "asl_bird.mkv"))) as src:
        frames = [f.to_ndarray(format="rgb24")[60:420] for f in src.decode(video=0)]
    clip, key = folder / "live360.mp4", folder / "live360.flashkey"
    with av.open(str(clip), "w") as out:
        stream = out.add_stream("libx264", rate=30)
        stream.width, stream.height, stream.pix_fmt = 640, 360, "yuv420p"
        seq = frames + frames[::-1]
        for i in range(900):
            img = np.ascontiguousarray(seq[i % len(seq)])
            for packet in stream.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    clip_keyframe(load_real_clip(str(clip), 2, PersonSegmenter())).save(key)
    return clip, key


def model_alone(engine: str) -> float:
    """Median ms per 640x360 frame of the model by itself (`flashvid bench`'s measurement)."""
    from flashvid.bench import bench_spec
    from flashvid.spec import MatterSpec

    row = bench_spec(MatterSpec(engine=engine), 640, 360, frames=30, warmup=5)
    return row.median_ms


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--engine", default="onnx")
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()

    from PyQt6.QtCore import QSettings
    from PyQt6.QtWidgets import QApplication

    app = QApplication(sys.argv)
    from flashvid.ui.app import MainWindow

    with tempfile.TemporaryDirectory() as tmp:
        clip, key = make_clip(Path(tmp))
        for r in range(args.rounds):
            window = MainWindow(QSettings(str(Path(tmp) / "settings.ini"), QSettings.Format.IniFormat))
            window.engine_box.setCurrentText(args.engine)
            window.resize(1100, 700)
            window.show()

            def pump(seconds: float) -> None:
                end = time.monotonic() + seconds
                while time.monotonic() < end:
                    app.processEvents()
                    time.sleep(0.005)

            window.open_source(str(clip))
            pump(1.0)
            window.open_keyframe(str(key))
            t0 = time.monotonic()
            while window.preview.frame is None and time.monotonic() - t0 < 120:
                pump(0.1)
            pump(3.0)
            counts = []
            for _ in range(max(1, int(args.seconds / 2))):
                pump(2.0)
                assert window.worker is not None
                counts.append(round(window.worker.fps(), 1))
            engine = window.engine_label.text()
            window.close()
            ms = model_alone(args.engine)
            print(
                f"round {r + 1}: {engine}; the studio's counter every 2 s: {counts} FPS "
                f"(median {sorted(counts)[len(counts) // 2]}); the model alone: {ms:.1f} ms = {1000 / ms:.1f} FPS",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
