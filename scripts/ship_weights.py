"""Copy a training checkpoint into the package as the shipped weights (fp16), strictly reloaded first.

python scripts/ship_weights.py runs/rt2/best.safetensors [--model flashvid-rt]
"""

from __future__ import annotations

import argparse

from flashvid import assets
from flashvid.network import build_model, save_checkpoint
from flashvid.network.build import read_checkpoint_metadata


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("checkpoint")
    p.add_argument("--model", default="flashvid-rt")
    args = p.parse_args()
    meta = read_checkpoint_metadata(args.checkpoint)
    model = build_model(args.model, args.checkpoint)
    keep = {k: v for k, v in meta.items() if k in ("step", "val_mse_unknown", "real_iou", "real_other_iou")}
    out = assets.path("models", f"{args.model}.safetensors")
    save_checkpoint(model, out, half=True, metadata=keep)
    print(f"{out}: {args.model} from {args.checkpoint} ({keep})")


if __name__ == "__main__":
    main()
