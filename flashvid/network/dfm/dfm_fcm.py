"""`FlashCueFCM`: dfm-official's Foreground Correlation Module (transformers + CBAM), authors' names.

The flash branch (`encode_flash`: shared 1x1 projection, position table, one self-attention layer) runs once
per keyframe and gives the memory M; the per-frame branch (`forward`) projects the no-flash features, runs two
co-attention layers that attend to M, and applies CBAM.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn


class _FlashLayer(nn.Module):
    def __init__(self, dim: int, heads: int, ffn: int) -> None:
        super().__init__()
        self.self_attn = nn.MultiheadAttention(dim, heads, dropout=0.1)
        self.linear1, self.linear2 = nn.Linear(dim, ffn), nn.Linear(ffn, dim)
        self.norm_self, self.norm2 = nn.LayerNorm(dim), nn.LayerNorm(dim)

    def forward(self, x: Tensor) -> Tensor:
        x = self.norm_self(x + self.self_attn(x, x, x, need_weights=False)[0])
        return self.norm2(x + self.linear2(F.relu(self.linear1(x))))


class _CoLayer(_FlashLayer):
    def __init__(self, dim: int, heads: int, ffn: int) -> None:
        super().__init__(dim, heads, ffn)
        self.cross_attn = nn.MultiheadAttention(dim, heads, dropout=0.1)
        self.norm1 = nn.LayerNorm(dim)

    def forward(self, x: Tensor, memory: Tensor | None = None) -> Tensor:
        if memory is not None:
            x = x + self.cross_attn(x, memory, memory, need_weights=False)[0]
        x = self.norm_self(x + self.self_attn(x, x, x, need_weights=False)[0])
        x = self.norm1(x)
        return self.norm2(x + self.linear2(F.relu(self.linear1(x))))


class _Stack(nn.Module):
    def __init__(self, layers: list[nn.Module]) -> None:
        super().__init__()
        self.layers = nn.ModuleList(layers)


class _PatchEmbed(nn.Module):
    def __init__(self, dim: int) -> None:
        super().__init__()
        self.proj = nn.Conv2d(3, dim, 16, 16)  # in the checkpoint, unused in the forward pass


class _PositionTable(nn.Module):
    def __init__(self, tokens: int, dim: int) -> None:
        super().__init__()
        self.pe = nn.Parameter(torch.randn(tokens, 1, dim) * 0.02)


class _ChannelGate(nn.Module):
    def __init__(self, dim: int, reduction: int) -> None:
        super().__init__()
        self.mlp = nn.Sequential(
            nn.Flatten(), nn.Linear(dim, dim // reduction), nn.ReLU(), nn.Linear(dim // reduction, dim)
        )

    def forward(self, x: Tensor) -> Tensor:
        a = self.mlp(F.adaptive_avg_pool2d(x, 1)) + self.mlp(F.adaptive_max_pool2d(x, 1))
        return x * torch.sigmoid(a)[:, :, None, None]


class _SpatialConv(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(2, 1, 7, padding=3)


class _SpatialGate(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.spatial = _SpatialConv()

    def forward(self, x: Tensor) -> Tensor:
        s = torch.cat([x.amax(dim=1, keepdim=True), x.mean(dim=1, keepdim=True)], dim=1)
        return x * torch.sigmoid(self.spatial.conv(s))


class _CBAM(nn.Module):
    def __init__(self, dim: int, reduction: int = 16) -> None:
        super().__init__()
        self.ChannelGate = _ChannelGate(dim, reduction)
        self.SpatialGate = _SpatialGate()

    def forward(self, x: Tensor) -> Tensor:
        return self.SpatialGate(self.ChannelGate(x))


class FlashCueFCM(nn.Module):
    """encode_flash(F [B,384,37,37]) -> M [B,1369,256] once; forward(N [B,384,37,37], M or None) -> [B,256,37,37].

    With M None the cross-attention is skipped (the "without FCM" ablation: flash branch off).
    """

    def __init__(
        self,
        feature_dim: int = 384,
        dim: int = 256,
        grid: int = 37,
        heads: int = 4,
        nf_layers: int = 2,
        f_layers: int = 1,
        ffn: int = 1024,
    ) -> None:
        super().__init__()
        self.grid = grid
        self.linear = nn.Conv2d(feature_dim, dim, 1)
        self.patch_embed = _PatchEmbed(dim)
        self.positional_encoding = _PositionTable(grid * grid, dim)
        self.flash_transformer = _Stack([_FlashLayer(dim, heads, ffn) for _ in range(f_layers)])
        self.noflash_transformer = _Stack([_CoLayer(dim, heads, ffn) for _ in range(nf_layers)])
        self.channel_att = _CBAM(dim)

    def _tokens(self, x: Tensor) -> Tensor:
        return self.linear(x).flatten(2).permute(2, 0, 1) + self.positional_encoding.pe  # [L, B, C]

    def encode_flash(self, flash_ctx: Tensor) -> Tensor:
        m = self._tokens(flash_ctx)
        for layer in self.flash_transformer.layers:
            m = layer(m)
        return m.transpose(0, 1).contiguous()

    def forward(self, noflash_ctx: Tensor, memory: Tensor | None) -> Tensor:
        n = self._tokens(noflash_ctx)
        mem = None if memory is None else memory.transpose(0, 1)
        for layer in self.noflash_transformer.layers:
            n = layer(n, mem)
        b = n.shape[1]
        return self.channel_att(n.permute(1, 2, 0).reshape(b, -1, self.grid, self.grid))
