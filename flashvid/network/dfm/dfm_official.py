"""`DeepFlashMatting` (dfm-official): the authors' network, written from its description, split for caching.

encode_keyframe(flash, trimap_onehot) runs backbone_f and the FCM's flash transformer once; forward(frame, M)
runs backbone_nf, the rest of the FCM, both decoders and the refiner. Parameter names match the authors'
`best_model.pth` (see `flashvid.network.build.load_official_state_dict`).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from flashvid.network.dfm.dfm_fcm import FlashCueFCM
from flashvid.network.dfm.matting_decoder import MattingDecoder
from flashvid.network.dfm.sparse_refiner import DenseMaskedRefiner
from flashvid.network.dfm.trimap_decoder import TrimapDecoder
from flashvid.network.dfm.vit import DinoViT
from flashvid.network.preprocess import IMAGENET_MEAN, IMAGENET_STD


class DeepFlashMatting(nn.Module):
    """encode_keyframe(flash [B,3,H,W] 0..1, trimap_onehot [B,3,H,W] (bg, unknown, fg)) -> (M [B,1369,256],);
    forward(frame [B,3,H,W] 0..1, M) -> (alpha [B,1,H,W] 0..1, fgr [B,3,H,W] 0..1). No recurrent state.

    `use_fcm=False` skips the cross-attention to the flash memory (keyframe = ()); `use_trimap=False` feeds
    the flash backbone zeros in place of the trimap.
    """

    def __init__(self, size: int = 518, use_fcm: bool = True, use_trimap: bool = True) -> None:
        super().__init__()
        self.size, self.use_fcm, self.use_trimap = size, use_fcm, use_trimap
        self.backbone_nf = DinoViT(3, size)
        self.backbone_f = DinoViT(6, size)
        self.fcm = FlashCueFCM(grid=size // 14)
        self.trimap_decoder = TrimapDecoder()
        self.matting_decoder = MattingDecoder()
        self.sparse_upsampler = DenseMaskedRefiner()
        self.mean: Tensor
        self.std: Tensor
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1), persistent=False)

    @property
    def num_keyframe_tensors(self) -> int:
        return 1 if self.use_fcm else 0

    def _resize(self, x: Tensor) -> Tensor:
        if x.shape[2:] == (self.size, self.size):
            return x
        return F.interpolate(x, size=(self.size, self.size), mode="bilinear", align_corners=False)

    def encode_keyframe(
        self, flash: Tensor, trimap_onehot: Tensor, noflash: Tensor | None = None
    ) -> tuple[Tensor, ...]:
        """`noflash` is accepted for the common signature and not used (the paper's network has no subject
        check)."""
        if not self.use_fcm:
            return ()
        t5 = self._resize(trimap_onehot) if self.use_trimap else torch.zeros_like(self._resize(trimap_onehot))
        ctx = self.backbone_f(torch.cat([(self._resize(flash) - self.mean) / self.std, t5], dim=1))
        return (self.fcm.encode_flash(ctx),)

    def initial_state(self, frame: Tensor) -> list[Tensor]:
        return []

    def forward_aux(self, frame: Tensor, *keyframe: Tensor) -> dict[str, Tensor | list[Tensor]]:
        """alpha, fgr at full resolution; alpha_small, fgr_small, trimap_logits at 518."""
        nf5 = self._resize(frame)
        ctx = self.fcm(self.backbone_nf((nf5 - self.mean) / self.std), keyframe[0] if keyframe else None)
        trimap_logit = self.trimap_decoder(ctx)
        alpha5, fg5, fg_raw, hidden = self.matting_decoder(nf5, trimap_logit, ctx)
        cls = F.interpolate(trimap_logit, size=nf5.shape[2:], mode="bilinear", align_corners=False).argmax(1, True)
        comp = (cls == 2).to(alpha5.dtype) + alpha5 * (cls == 1).to(alpha5.dtype)
        alpha, fgr = self.sparse_upsampler(torch.cat([comp, fg_raw], dim=1), hidden, frame)
        return {
            "alpha": alpha,
            "fgr": fgr,
            "rec": [],
            "alpha_small": comp,
            "fgr_small": fg5,
            "trimap_logits": trimap_logit,
        }

    def forward(self, frame: Tensor, *keyframe: Tensor) -> tuple[Tensor, ...]:
        out = self.forward_aux(frame, *keyframe)
        alpha, fgr = out["alpha"], out["fgr"]
        assert isinstance(alpha, Tensor) and isinstance(fgr, Tensor)
        return alpha, fgr
