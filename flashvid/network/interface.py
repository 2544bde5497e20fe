"""The interface every matting network offers and the engines rely on (`MattingModel`), and the named structures
the library keeps its cached keyframe tensors and recurrent state in (`KeyframeTensors`, `RecurrentState`); they
are flattened into plain tensor lists only at the engine boundary: ``forward(frame, *keyframe, *rec)``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from torch import Tensor


@runtime_checkable
class MattingModel(Protocol):
    """What `flashvid.engines` and the evaluation call: encode the keyframe once, then frame by frame.

    ``encode_keyframe(flash [B,3,H,W] 0..1, trimap_onehot [B,3,H,W], noflash [B,3,H,W] 0..1 | None)`` -> the cached
    keyframe tensors; ``initial_state(frame)`` -> the zero recurrent state for frames of that shape;
    ``forward(frame, *keyframe, *rec)`` -> ``(alpha [B,1,H,W] 0..1, fgr [B,3,H,W] 0..1, *rec)``.
    """

    model_name: str
    config: dict[str, Any]

    def encode_keyframe(
        self, flash: Tensor, trimap_onehot: Tensor, noflash: Tensor | None = None
    ) -> tuple[Tensor, ...]: ...

    def initial_state(self, frame: Tensor) -> list[Tensor]: ...

    def __call__(self, frame: Tensor, *args: Tensor) -> tuple[Tensor, ...]: ...

    def eval(self) -> Any: ...


@dataclass(frozen=True)
class KeyframeTensors:
    """The keyframe as the network caches it (`MattingModel.encode_keyframe`'s output), kept whole at the library
    level; `flat` is what an engine takes."""

    tensors: tuple[Tensor, ...]

    @property
    def flat(self) -> tuple[Tensor, ...]:
        return self.tensors

    def __len__(self) -> int:
        return len(self.tensors)

    def __getitem__(self, i: int) -> Tensor:
        return self.tensors[i]


@dataclass
class RecurrentState:
    """The recurrent state between frames (`MattingModel.initial_state`, then what each frame returns after
    alpha and fgr), with the frame shape it was made for."""

    tensors: list[Tensor]
    shape: tuple[int, ...]

    @property
    def flat(self) -> list[Tensor]:
        return self.tensors

    def __len__(self) -> int:
        return len(self.tensors)

    def __getitem__(self, i: int) -> Tensor:
        return self.tensors[i]

    def fits(self, frame: Tensor) -> bool:
        """Whether this state was made for frames of `frame`'s shape."""
        return tuple(frame.shape) == self.shape
