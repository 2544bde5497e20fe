"""Issue 24: a crafted SAM checkpoint and a crafted engine-cache file neither run code nor allocate past a bound;
checked in a subprocess under RLIMIT_AS (its address space capped 1.5 GB above what the imports took)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

resource = pytest.importorskip("resource")

SCRIPT = textwrap.dedent(
    """
    import pickle, resource, sys
    from pathlib import Path

    import torch
    from flashvid.engines.cache import cached
    from flashvid.errors import CheckpointError
    from flashvid.keyframe.segment import load_sam

    tmp = Path(sys.argv[1])
    with open("/proc/self/status") as fh:
        vm = next(int(line.split()[1]) * 1024 for line in fh if line.startswith("VmSize:"))
    limit = vm + 1_500_000_000
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    # 1. a 10 KB SAM checkpoint whose zero-size tensors describe a 40960 px image encoder
    sd = {
        "image_encoder.patch_embed.proj.weight": torch.zeros(768, 3, 16, 0),
        "image_encoder.pos_embed": torch.zeros(1, 2560, 2560, 0),
        "image_encoder.blocks.0.attn.rel_pos_h": torch.zeros(5119, 1),
        "image_encoder.neck.0.weight": torch.zeros(256, 0),
        "mask_decoder.transformer.layers.0.mlp.lin1.weight": torch.zeros(2048, 0),
    }
    torch.save(sd, tmp / "crafted_sam.pth")
    assert (tmp / "crafted_sam.pth").stat().st_size < 40_000
    try:
        load_sam(tmp / "crafted_sam.pth")
        print("SAM LOADED")
    except CheckpointError as exc:
        print("SAM REFUSED:", exc)

    # 2. a cache entry whose file is replaced by a pickle that would run code when loaded
    fields = {"engine": "test", "weights": "abc"}
    cached(fields, ".ep", lambda p: p.write_bytes(pickle.dumps("ours")), lambda p: pickle.loads(p.read_bytes()), tmp)

    class Payload:
        def __reduce__(self):
            return (open, (str(tmp / "PWNED"), "w"))

    entry = next(tmp.glob("*.ep"))
    entry.write_bytes(pickle.dumps(Payload()))
    value, hit = cached(
        fields, ".ep", lambda p: p.write_bytes(pickle.dumps("ours")), lambda p: pickle.loads(p.read_bytes()), tmp
    )
    print("CACHE:", value, hit, (tmp / "PWNED").exists())
    """
)


def test_crafted_files_run_no_code_and_stay_within_a_memory_bound(tmp_path: Path) -> None:
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(tmp_path)], capture_output=True, text=True, timeout=300
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert "SAM REFUSED:" in out.stdout and "larger than any published" in out.stdout, out.stdout
    assert "CACHE: ours False False" in out.stdout, out.stdout
    assert not (tmp_path / "PWNED").exists()
