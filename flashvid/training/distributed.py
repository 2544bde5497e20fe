"""Training on several processes with ``torchrun`` (DistributedDataParallel): gloo on the CPU, nccl on GPUs.

    torchrun --nproc_per_node 2 -m flashvid train --config cfg.json --out run           # one machine
    torchrun --nnodes 2 --node_rank R --nproc_per_node 8 --rdzv_endpoint HOST:29500 \\
        -m flashvid train --config cfg.json --out run --device cuda                    # two machines

`setup` reads torchrun's environment (``WORLD_SIZE``, ``RANK``, ``LOCAL_RANK``); without it training runs on
one process exactly as before. Each rank synthesises its own clips (its data seed is offset by its rank), DDP
averages the gradients, and rank 0 alone validates, keeps ``best.safetensors`` and writes ``last.pt``; every
rank resumes from that ``last.pt``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist

#: how far apart the ranks' data seeds are (rank 0 keeps the single-process seeds)
RANK_SEED_STRIDE = 1_000_003


@dataclass(frozen=True)
class Ranks:
    """This process's place in the run: `rank` of `world` (`local` on its machine); `world` 1: no DDP."""

    rank: int = 0
    world: int = 1
    local: int = 0

    @property
    def distributed(self) -> bool:
        return self.world > 1

    @property
    def main(self) -> bool:
        return self.rank == 0

    def seed(self, seed: int) -> int:
        """This rank's data seed for `seed`."""
        return seed + self.rank * RANK_SEED_STRIDE


def setup(device: str) -> tuple[Ranks, str]:
    """Join torchrun's process group when it started this process; returns (the ranks, this rank's device:
    ``cuda`` becomes ``cuda:LOCAL_RANK``)."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return Ranks(), device
    ranks = Ranks(int(os.environ["RANK"]), world, int(os.environ.get("LOCAL_RANK", "0")))
    if device.startswith("cuda"):
        device = f"cuda:{ranks.local}"
        torch.cuda.set_device(device)
    if not dist.is_initialized():
        dist.init_process_group(backend="nccl" if device.startswith("cuda") else "gloo")
    return ranks, device


def teardown(ranks: Ranks) -> None:
    if ranks.distributed and dist.is_initialized():
        dist.destroy_process_group()


def barrier(ranks: Ranks) -> None:
    if ranks.distributed:
        dist.barrier()


def any_rank(ranks: Ranks, flag: bool, device: torch.device) -> bool:
    """True on every rank when `flag` is true on any (so that all ranks stop at the same step)."""
    if not ranks.distributed:
        return flag
    t = torch.tensor([1.0 if flag else 0.0], device=device)
    dist.all_reduce(t, op=dist.ReduceOp.MAX)
    return bool(t.item() > 0)


def average_buffers(module: torch.nn.Module, ranks: Ranks) -> None:
    """Average the floating-point buffers (batch-norm running statistics) over the ranks, in place.

    DDP keeps the parameters equal; each rank's running statistics follow its own clips. Before rank 0 validates
    and saves, every rank calls this, so the checkpoint's statistics are over all the ranks' data and every rank
    holds the same state afterwards (timm's ``distribute_bn`` does the same)."""
    if not ranks.distributed:
        return
    for buf in module.buffers():
        if buf.is_floating_point():
            dist.all_reduce(buf, op=dist.ReduceOp.SUM)
            buf.div_(ranks.world)
