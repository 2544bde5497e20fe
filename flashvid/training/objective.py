"""`ClipObjective`: one training clip's loss as a module, so that DistributedDataParallel can wrap it.

The matting network is recurrent and trained through custom methods (`encode_keyframe`, `initial_state`,
`forward_aux` over the clip's frames); DDP synchronises gradients for what runs inside its wrapped module's
``forward``, so the whole clip - keyframe encoding, every frame, every loss term - is this module's forward. The
trainer calls it the same way on one process and under ``torchrun``.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from flashvid.training.losses import matting_losses, temporal_loss


class ClipObjective(nn.Module):
    """The summed loss of `model` over one batch of clips.

    ``forward(batch, other, prior)``:
        batch: the trainer's batch (``flash``, ``trimap`` [B,3,H,W]; ``frames``, ``alphas``, ``fgrs``, ``bgs``
            [B,T,C,H,W], float in 0..1; ``fine`` [B] bool).
        other: [B] bool, the clips whose keyframe shows another subject (their prior is cleared).
        prior: None, or a perturbed starting prior [B,1,h,w] in 0..1 for models that carry one.
    Returns (total loss, a scalar tensor with its graph; the loss terms summed over frames, as floats).
    """

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(
        self, batch: dict[str, torch.Tensor], other: torch.Tensor, prior: torch.Tensor | None
    ) -> tuple[torch.Tensor, dict[str, float]]:
        model: Any = self.model
        kf = model.encode_keyframe(batch["flash"], batch["trimap"])
        frames = batch["frames"]
        rec = model.initial_state(frames[:, 0])
        if prior is not None:
            rec[-1] = prior.to(rec[-1])
            rec[-1][other] = 0.0  # a keyframe of someone else: only the keyframe's (wrong) mask as the prior
        total: Any = 0.0
        terms_sum: dict[str, float] = {}
        prev = None
        for i in range(frames.shape[1]):
            o = model.forward_aux(frames[:, i], *kf, *rec)
            rec = o["rec"]
            terms = matting_losses(
                o, batch["alphas"][:, i], batch["fgrs"][:, i], batch["bgs"][:, i], frames[:, i], batch["fine"]
            )
            if prev is not None:
                terms["temporal"] = temporal_loss(prev, o["alpha"], batch["alphas"][:, i - 1], batch["alphas"][:, i])
            prev = o["alpha"]
            for k, v in terms.items():
                terms_sum[k] = terms_sum.get(k, 0.0) + float(v.detach())
            total = total + sum(terms.values())
        return total, terms_sum
