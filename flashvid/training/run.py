"""One way to run a model over frames, for validation, evaluation, real-footage scores and the tables."""

from __future__ import annotations

from collections.abc import Callable, Iterable

import numpy as np
import torch

from flashvid.matter import to_tensor
from flashvid.network.interface import MattingModel

KeyframeTransform = Callable[[tuple[torch.Tensor, ...]], tuple[torch.Tensor, ...]]


@torch.inference_mode()
def run_frames(
    model: MattingModel,
    flash: np.ndarray | torch.Tensor,
    trimap_onehot: np.ndarray | torch.Tensor,
    frames: Iterable[np.ndarray] | torch.Tensor,
    *,
    noflash: np.ndarray | torch.Tensor | None = None,
    transform: KeyframeTransform | None = None,
    device: torch.device | str = "cpu",
) -> list[np.ndarray]:
    """Alphas (H x W float32 0..1) of `frames` matted against one keyframe, frame by frame with the recurrent
    state carried, as `FlashMatter` runs them.

    Args:
        flash: the keyframe's flash image, H x W x 3 uint8 RGB or a [1,3,H,W] float tensor in 0..1.
        trimap_onehot: 3 x H x W float32 (bg, unknown, fg) or a [1,3,H,W] tensor.
        frames: H x W x 3 uint8 RGB frames, or a [T,3,H,W] float tensor in 0..1.
        noflash: the keyframe's no-flash image (as `flash`): given, a model with a subject check checks who it
            mattes; None leaves the check open.
        transform: applied to the encoded keyframe tensors (ablations).
    """

    def image(a: np.ndarray | torch.Tensor) -> torch.Tensor:
        return to_tensor(a, device) if isinstance(a, np.ndarray) else a.to(device)

    tri = torch.from_numpy(trimap_onehot)[None] if isinstance(trimap_onehot, np.ndarray) else trimap_onehot
    keyframe = tuple(
        model.encode_keyframe(image(flash), tri.to(device), image(noflash) if noflash is not None else None)
    )
    if transform is not None:
        keyframe = transform(keyframe)
    seq = frames.unbind(0) if isinstance(frames, torch.Tensor) else frames
    rec: list[torch.Tensor] | None = None
    out = []
    for f in seq:
        x = image(f) if isinstance(f, np.ndarray) else f[None].to(device)
        if rec is None:
            rec = model.initial_state(x)
        alpha, _, *rec = model(x, *keyframe, *rec)
        out.append(alpha[0, 0].float().cpu().numpy())
    return out
