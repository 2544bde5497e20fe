"""`FlashVidRT`: the real-time flash-guided matting network (assembly of the modules beside it)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from flashvid.network.decoder import RecurrentDecoder
from flashvid.network.encoder import ConvEncoder
from flashvid.network.fcm import CrossAttentionFCM
from flashvid.network.guided_filter import DeepGuidedFilter
from flashvid.network.heads import MattingHeads
from flashvid.network.preprocess import IMAGENET_MEAN, IMAGENET_STD, internal_resize


class FlashVidRT(nn.Module):
    """encode_keyframe(flash [B,3,H,W] 0..1, trimap_onehot [B,3,H,W] (bg, unknown, fg)) -> keyframe tensors,
    once; forward(frame [B,3,H,W] 0..1, *keyframe, *rec) -> (alpha [B,1,H,W] 0..1, fgr [B,3,H,W] 0..1, *rec).

    Frames are resized by `downsample_ratio` (None: long side `internal_size`) and padded to a multiple of 16;
    the deep guided filter lifts the result to the frame's size. `use_fcm=False` drops the flash branch (the
    keyframe's 1/16 trimap is added in place instead); `use_trimap=False` hides the trimap from the network.
    """

    def __init__(
        self,
        channels: tuple[int, ...],
        dec: tuple[int, ...],
        hid: int,
        fcm_dim: int,
        fcm_heads: int,
        internal_size: int,
        use_fcm: bool = True,
        use_trimap: bool = True,
    ) -> None:  # defaults: build.py
        super().__init__()
        self.frame_encoder = ConvEncoder(3, channels)
        self.flash_encoder = ConvEncoder(6, channels)
        self.fcm = CrossAttentionFCM(channels[3], fcm_dim, fcm_heads) if use_fcm else None
        self.trimap_in = None if use_fcm else nn.Conv2d(3, channels[3], 1)
        self.decoder = RecurrentDecoder(channels, dec, hid)
        self.heads = MattingHeads(hid, dec[0])
        self.refiner = DeepGuidedFilter(hid)
        self.internal_size, self.use_trimap = internal_size, use_trimap
        self.downsample_ratio: float | None = None
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1), persistent=False)

    @property
    def num_keyframe_tensors(self) -> int:
        return 2 if self.fcm is not None else 1

    def ratio_for(self, height: int, width: int) -> float:
        r = self.downsample_ratio
        return min(1.0, self.internal_size / max(height, width)) if r is None else r

    def _small(self, x: Tensor) -> tuple[Tensor, Tensor]:
        return internal_resize(x, self.ratio_for(x.shape[2], x.shape[3]))

    def encode_keyframe(self, flash: Tensor, trimap_onehot: Tensor) -> tuple[Tensor, ...]:
        if not self.use_trimap:
            trimap_onehot = torch.zeros_like(trimap_onehot)
        _, img = self._small(flash)
        _, tri = self._small(trimap_onehot)
        tri16 = F.avg_pool2d(tri, 16)
        if self.fcm is None:
            return (tri16,)
        f4 = self.flash_encoder(torch.cat([(img - self.mean) / self.std, tri], dim=1))[3]
        return self.fcm.encode(f4, tri16)

    def initial_state(self, frame: Tensor) -> list[Tensor]:
        """Zero recurrent state (r1..r4) for frames of `frame`'s shape."""
        _, pad = self._small(frame)
        shapes = self.decoder.state_shapes(frame.shape[0], pad.shape[2], pad.shape[3])
        return [torch.zeros(s, device=frame.device, dtype=frame.dtype) for s in shapes]

    def forward_aux(self, frame: Tensor, *args: Tensor) -> dict[str, Tensor | list[Tensor]]:
        """The forward pass with every output: alpha, fgr, rec and, at the internal resolution, alpha_small,
        fgr_small, fgr_residual and trimap_logits (at 1/8)."""
        n = self.num_keyframe_tensors
        keyframe, rec = args[:n], args[n:]
        small, img = self._small(frame)
        f1, f2, f3, f4 = self.frame_encoder((img - self.mean) / self.std)
        if self.fcm is not None:
            f4 = self.fcm(f4, *keyframe)
        else:
            f4 = f4 + self.trimap_in(F.interpolate(keyframe[0], size=f4.shape[2:], mode="bilinear"))
        hid, x3, *rec_out = self.decoder(img, f1, f2, f3, f4, *rec)
        alpha_s, fgr_s, fgr_res, tri = self.heads(hid, x3, img)
        h, w = small.shape[2:]
        alpha_s, fgr_s, hid = alpha_s[:, :, :h, :w], fgr_s[:, :, :h, :w], hid[:, :, :h, :w]
        alpha, fgr = self.refiner(frame, small, alpha_s, fgr_s, hid)
        small_out = {"alpha_small": alpha_s, "fgr_small": fgr_s, "fgr_residual": fgr_res[:, :, :h, :w]}
        return {"alpha": alpha, "fgr": fgr, "rec": rec_out, "trimap_logits": tri, **small_out}

    def forward(self, frame: Tensor, *args: Tensor) -> tuple[Tensor, ...]:
        out = self.forward_aux(frame, *args)
        return (out["alpha"], out["fgr"], *out["rec"])
