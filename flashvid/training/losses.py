"""Training losses: alpha L1 + Laplacian pyramid + gradient, composition, foreground L1 where alpha > 0,
trimap cross-entropy, temporal coherence. Tensors are [B, C, H, W] floats; alphas and colours in 0..1."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

_GAUSS = torch.tensor([1.0, 4.0, 6.0, 4.0, 1.0]) / 16.0


def _blur(x: Tensor) -> Tensor:
    k = (_GAUSS[:, None] * _GAUSS[None, :]).to(x)[None, None].expand(x.shape[1], 1, 5, 5)
    return F.conv2d(F.pad(x, (2, 2, 2, 2), mode="reflect"), k, groups=x.shape[1])


def laplacian_loss(pred: Tensor, gt: Tensor, levels: int = 5) -> Tensor:
    """Sum over pyramid levels of 2^level-weighted L1 between the Laplacian pyramids."""
    loss = pred.new_zeros(())
    for i in range(levels):
        if min(pred.shape[2:]) < 8:
            break
        bp, bg = _blur(pred), _blur(gt)
        loss = loss + (2**i) * F.l1_loss(pred - bp, gt - bg)
        pred, gt = F.avg_pool2d(bp, 2), F.avg_pool2d(bg, 2)
    return loss


def gradient_loss(pred: Tensor, gt: Tensor) -> Tensor:
    """L1 between the finite-difference gradients."""
    dx = lambda a: a[..., :, 1:] - a[..., :, :-1]  # noqa: E731
    dy = lambda a: a[..., 1:, :] - a[..., :-1, :]  # noqa: E731
    return F.l1_loss(dx(pred), dx(gt)) + F.l1_loss(dy(pred), dy(gt))


def trimap_target(alpha: Tensor, size: tuple[int, int]) -> Tensor:
    """Class map [B, h, w] (0 bg, 1 unknown, 2 fg) from a ground-truth alpha, at `size`."""
    a = F.adaptive_avg_pool2d(alpha, size)[:, 0]
    return torch.where(a > 0.98, 2, torch.where(a < 0.02, 0, 1)).long()


def matting_losses(
    out: dict, alpha: Tensor, fgr: Tensor, bg: Tensor, frame: Tensor, fine: Tensor | None = None
) -> dict[str, Tensor]:
    """Loss terms of one frame: `out` from `forward_aux`, the ground truth alpha / foreground / background, the
    frame itself (for the composition loss) and `fine` [B] (1: a true matte; 0: a pseudo-label good for the
    silhouette only, which then counts in the silhouette terms l1 / l1_small / trimap, on a blurred alpha)."""
    pa, pf = out["alpha"], out["fgr"]
    b = alpha.shape[0]
    w = torch.ones(b, device=alpha.device) if fine is None else fine.to(alpha.device, alpha.dtype)
    nf = int((w > 0.5).sum())
    sel = w > 0.5
    coarse = _blur(_blur(alpha))
    target = torch.where(w.view(b, 1, 1, 1) > 0.5, alpha, coarse)
    terms = {"l1": F.l1_loss(pa, target)}
    if nf:
        a, p_, fg_, bg_, fr = alpha[sel], pa[sel], fgr[sel], bg[sel], frame[sel]
        scale = nf / b
        terms["lap"] = scale * laplacian_loss(p_, a)
        terms["grad"] = scale * gradient_loss(p_, a)
        terms["comp"] = scale * F.l1_loss(p_ * fg_ + (1 - p_) * bg_, fr)
        terms["fgr"] = scale * (torch.abs(pf[sel] - fg_) * (a > 0)).sum() / ((a > 0).sum() * 3 + 1)
    small = out["alpha_small"]
    a_small = F.interpolate(target, size=small.shape[2:], mode="area")
    terms["l1_small"] = F.l1_loss(small, a_small)
    tl = out["trimap_logits"]
    terms["trimap"] = 0.3 * F.cross_entropy(tl.float(), trimap_target(target, tuple(tl.shape[2:])))
    return terms


def temporal_loss(prev_pred: Tensor, pred: Tensor, prev_gt: Tensor, gt: Tensor) -> Tensor:
    """MSE between the predicted and true frame-to-frame changes of alpha."""
    return 5.0 * F.mse_loss(pred - prev_pred, gt - prev_gt)
