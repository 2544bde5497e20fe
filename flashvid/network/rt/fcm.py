"""`CrossAttentionFCM`: the Foreground Correlation Module of flashvid-rt.

Queries come from the live frame's 1/16 features, keys and values from the cached flash keyframe's features
(which saw the flash image and its trimap). Each live location gathers what the keyframe knew about the
matching place on the subject, including the trimap itself (its 1/16 average rides along in the values), so
the subject is found again after it moved. The output is the live features fused with what was gathered.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn


def sincos_2d(h: int, w: int, dim: int, device: torch.device, dtype: torch.dtype) -> Tensor:
    """Fixed 2-D sine/cosine position code on a unit square, [h*w, dim] (dim divisible by 4)."""
    q = dim // 4
    freq = torch.exp(torch.arange(q, device=device, dtype=torch.float32) * (-math.log(100.0) / max(q - 1, 1)))
    ys = (torch.arange(h, device=device, dtype=torch.float32) + 0.5) / h
    xs = (torch.arange(w, device=device, dtype=torch.float32) + 0.5) / w
    ay = ys[:, None] * freq[None, :] * math.pi * 8
    ax = xs[:, None] * freq[None, :] * math.pi * 8
    py = torch.cat([ay.sin(), ay.cos()], dim=1)[:, None, :].expand(h, w, 2 * q)
    px = torch.cat([ax.sin(), ax.cos()], dim=1)[None, :, :].expand(h, w, 2 * q)
    return torch.cat([py, px], dim=2).reshape(h * w, 4 * q).to(dtype)


class CrossAttentionFCM(nn.Module):
    """Cross-attention from live-frame features to cached flash features, at 1/16.

    Args:
        channels: width of the live and flash 1/16 features.
        dim: attention width (split over `heads`).
        heads: attention heads.

    `encode(flash_feat [B,C,h,w], trimap16 [B,3,h,w]) -> (k [B,heads,N,d], v [B,heads,N,d+3])` runs once per
    keyframe; `forward(live [B,C,h',w'], k, v) -> [B,C,h',w']` runs per frame (any h', w').
    """

    def __init__(self, channels: int = 80, dim: int = 64, heads: int = 2) -> None:
        super().__init__()
        if dim % heads or (dim // heads) % 4:
            raise ValueError("dim must split into heads of a multiple of 4")
        self.heads, self.head_dim = heads, dim // heads
        self.q = nn.Conv2d(channels, dim, 1)
        self.k = nn.Conv2d(channels, dim, 1)
        self.v = nn.Conv2d(channels, dim, 1)
        self.pos_scale = nn.Parameter(torch.tensor(0.5))
        self.out = nn.Conv2d(dim + 3 * heads, channels, 1)
        self.fuse = nn.Sequential(nn.Conv2d(2 * channels, channels, 1, bias=False), nn.BatchNorm2d(channels), nn.ReLU())

    def _tokens(self, x: Tensor) -> Tensor:
        b, _, h, w = x.shape
        t = x.reshape(b, self.heads, self.head_dim, h * w).transpose(2, 3)
        return t + self.pos_scale * sincos_2d(h, w, self.head_dim, x.device, x.dtype)

    def encode(self, flash_feat: Tensor, trimap16: Tensor) -> tuple[Tensor, Tensor]:
        b, _, h, w = flash_feat.shape
        k = self._tokens(self.k(flash_feat))
        v = self.v(flash_feat).reshape(b, self.heads, self.head_dim, h * w).transpose(2, 3)
        tri = trimap16.reshape(b, 1, 3, h * w).transpose(2, 3).expand(b, self.heads, h * w, 3)
        return k, torch.cat([v, tri], dim=3)

    def forward(self, live: Tensor, k: Tensor, v: Tensor) -> Tensor:
        b, _, h, w = live.shape
        q = self._tokens(self.q(live))
        att = F.scaled_dot_product_attention(q, k, v)  # [B, heads, h*w, d+3]
        att = att.transpose(2, 3).reshape(b, -1, h, w)
        return self.fuse(torch.cat([live, self.out(att)], dim=1))
