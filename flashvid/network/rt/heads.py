"""`MattingHeads`: alpha, foreground residual and trimap logits."""

from __future__ import annotations

import torch
from torch import Tensor, nn


class MattingHeads(nn.Module):
    """Projections of the decoder's features to the outputs.

    Forward: hid [B,C,H,W], x3 [B,C3,H/8,W/8], img [B,3,H,W] in 0..1 ->
    (alpha [B,1,H,W] in 0..1, fgr [B,3,H,W] in 0..1, fgr_residual [B,3,H,W], trimap_logits [B,3,H/8,W/8]
    in the order (bg, unknown, fg)).
    """

    def __init__(self, hid: int = 16, c3: int = 48) -> None:
        super().__init__()
        self.matte = nn.Conv2d(hid, 4, 1)
        self.trimap = nn.Conv2d(c3, 3, 1)

    def forward(self, hid: Tensor, x3: Tensor, img: Tensor) -> tuple[Tensor, Tensor, Tensor, Tensor]:
        alpha_res, fgr_res = self.matte(hid).split([1, 3], dim=1)
        alpha = torch.clamp(alpha_res, 0.0, 1.0)
        fgr = torch.clamp(fgr_res + img, 0.0, 1.0)
        return alpha, fgr, fgr_res, self.trimap(x3)
