"""Training-time corruptions: a propagated prior gone wrong, and another subject's keyframe."""

from __future__ import annotations

import torch


def perturbed_prior(
    alpha: torch.Tensor, size: tuple[int, int], gen: torch.Generator, blob: float = 0.2, attached: float = 0.0
) -> torch.Tensor:
    """A prior state [B,2,h,w] (alpha, valid = 1) made from a true alpha [B,1,H,W] the way a propagated prior goes
    wrong: shifted, eroded or dilated, blurred, or dropped (all zero), so the network learns to correct it.

    With probability `blob` a false blob (a fifth of the frame a side) is added on the background; a share
    `attached` of those touch the subject, centred on a pixel just outside its edge: the clutter a matte creeps
    into (a shelf or a pillow beside a person), which the network should drop rather than keep."""
    import torch.nn.functional as F

    a = F.interpolate(alpha, size=size, mode="bilinear", align_corners=False)
    out = []
    for i in range(a.shape[0]):
        x = a[i : i + 1]
        u = torch.rand(5, generator=gen).tolist()
        if u[0] < 0.15:
            x = torch.zeros_like(x)
        else:
            dy, dx = (int((v - 0.5) * 0.2 * s) for v, s in zip(torch.rand(2, generator=gen).tolist(), size))
            x = torch.roll(x, (dy, dx), dims=(2, 3))
            k = 1 + 2 * int(u[1] * 6)
            if u[2] < 0.35:
                x = F.max_pool2d(x, k, 1, k // 2)
            elif u[2] < 0.7:
                x = -F.max_pool2d(-x, k, 1, k // 2)
            if u[3] < 0.4:
                x = F.avg_pool2d(x, 9, 1, 4, count_include_pad=False)
            if u[4] < blob:  # a false blob on the background
                h, w = size
                y0, x0 = (
                    int(torch.randint(0, h - h // 4, (1,), generator=gen)),
                    int(torch.randint(0, w - w // 4, (1,), generator=gen)),
                )
                edge = torch.nonzero((F.max_pool2d(x, 5, 1, 2) > 0.5) & (x <= 0.5)) if attached > 0 else None
                if edge is not None and len(edge) and float(torch.rand(1, generator=gen)) < attached:  # beside it
                    cy, cx = edge[int(torch.randint(0, len(edge), (1,), generator=gen)), 2:].tolist()
                    y0, x0 = max(0, min(h - h // 5, cy - h // 10)), max(0, min(w - w // 5, cx - w // 10))
                x = x.clone()
                x[..., y0 : y0 + h // 5, x0 : x0 + w // 5] = 1.0
        out.append(x)
    a = torch.cat(out)
    return torch.cat([a, torch.ones_like(a)], dim=1)


def other_subject(
    batch: dict[str, torch.Tensor], prob: float, gen: torch.Generator, match: str = "next"
) -> torch.Tensor:
    """The paper's "different identity" case, in place: for a random `prob` share of the clips the keyframe (flash,
    trimap, its alpha) is swapped for another clip's and the target becomes no subject at all (alpha 0, the frame
    itself as the background). `match` picks the other clip: ``next`` (the next one in the batch) or ``overlap``
    (the one whose keyframe subject overlaps this clip's the most, so where the subject stands cannot tell the
    two apart and only how they look can). Only a clip of another subject qualifies (``batch["subject"]``, ids
    from `flashvid.training.data.people.subject_id`: two Intel clips of one person are the same subject); a clip
    with no other subject in its batch is left as it is. Returns the bool mask [B] of those clips."""
    b = batch["flash"].shape[0]
    pick = torch.rand(b, generator=gen) < prob
    if b < 2 or not bool(pick.any()):
        return torch.zeros(b, dtype=torch.bool)
    subject = batch["subject"].cpu()
    allowed = subject[:, None] != subject[None, :]
    if match == "overlap":
        m = batch["kalpha"].flatten(1).cpu() > 0.5
        inter = (m[:, None] & m[None]).sum(-1).float()
        union = (m[:, None] | m[None]).sum(-1).float().clamp(min=1.0)
        score = inter / union
    else:  # the next clip in the batch that shows someone else
        score = -((torch.arange(b)[None, :] - torch.arange(b)[:, None]) % b).float()
    score = score.masked_fill(~allowed, -1e9)
    src = score.argmax(1)
    pick &= allowed.any(1)
    if not bool(pick.any()):
        return pick
    src, pick = src.to(batch["flash"].device), pick.to(batch["flash"].device)
    originals = {k: batch[k].clone() for k in ("flash", "trimap", "kalpha")}
    for k, v in originals.items():
        batch[k][pick] = v[src[pick]]
    batch["alphas"][pick] = 0.0
    batch["bgs"][pick] = batch["frames"][pick]
    return pick
