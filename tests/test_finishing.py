"""Matte finishing (issue 25.6): fill holes, grow / shrink, feather, in the compositor, from the CLI and the
studio."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from flashvid.compose import ColorBackground, Compositor
from flashvid.errors import InputError
from flashvid.spec import CompositorSpec


def _alpha() -> torch.Tensor:
    """A 64x64 square subject (rows/cols 16..47) with a 6x6 hole (lettering punched out) at its centre."""
    a = torch.zeros(1, 1, 64, 64)
    a[..., 16:48, 16:48] = 1.0
    a[..., 29:35, 29:35] = 0.0
    return a


def _finish(**kw) -> torch.Tensor:
    return Compositor(ColorBackground((0, 0, 0)), **kw).finish(_alpha())


def test_each_finishing_step_does_what_it_says() -> None:
    a = _alpha()
    assert torch.equal(_finish(), a)  # all off: untouched
    filled = _finish(fill_holes=8)
    assert filled[..., 29:35, 29:35].min() == 1.0  # the 6 px hole closed
    assert torch.equal(filled[..., :16, :], a[..., :16, :]) and filled[..., 16:48, 16:48].min() == 1.0
    assert torch.equal(_finish(fill_holes=4)[..., 29:35, 29:35], a[..., 29:35, 29:35])  # a smaller size keeps it
    grown, shrunk = _finish(grow=3), _finish(grow=-3)
    assert grown.sum() > a.sum() > shrunk.sum()
    assert grown[0, 0, 13, 32] == 1.0 and grown[0, 0, 12, 32] == 0.0  # 3 px out, no more
    assert shrunk[0, 0, 19, 20] == 1.0 and shrunk[0, 0, 18, 20] == 0.0  # 3 px in
    soft = _finish(feather=2.0)
    edge = soft[0, 0, 16, 32].item()
    assert 0.3 < edge < 0.8 and soft[0, 0, 0, 0] < 1e-3 and soft[0, 0, 22, 22] > 0.99
    assert torch.allclose(soft.sum(), a.sum(), rtol=1e-3)  # a blur moves alpha, it does not add any


def test_finishing_reaches_the_composite_and_is_checked() -> None:
    comp = CompositorSpec("#000000", grow=4).build()
    frame = torch.ones(1, 3, 64, 64)
    composite, _, alpha = comp.compose(frame, _alpha(), frame)
    assert torch.equal(alpha, Compositor(ColorBackground((0, 0, 0)), grow=4).finish(_alpha()))
    assert composite is not None and float(composite[0, 0, 13, 32]) == 1.0  # grown: the subject's colour there
    with pytest.raises(InputError, match="grow"):
        CompositorSpec(grow=99)
    with pytest.raises(InputError, match="feather"):
        CompositorSpec(feather=-1.0)


def test_the_cli_and_matte_video_take_the_finishing(tmp_path) -> None:
    import av

    from flashvid.cli import main
    from flashvid.demo import generate_clip
    from flashvid.keyframe import make_keyframe
    from flashvid.video.sinks import SinkFrame, VideoSink

    clip = generate_clip(160, 96, frames=4, fps=24, seed=2)  # a subject before a room, its flash keyframe
    with VideoSink(tmp_path / "in.mp4", "mp4", 160, 96, 24) as sink:
        for i, f in enumerate(clip.frames):
            sink.write(SinkFrame(f, np.dstack([f, np.full(f.shape[:2], 255, np.uint8)]), f[..., 0], i / 24, i))
    make_keyframe(clip.flash, clip.noflash, accept_weak_flash=True).save(tmp_path / "kf.flashkey")
    outs = {}
    for name, extra in (("plain", []), ("grown", ["--grow", "6"]), ("shrunk", ["--grow", "-6"])):
        rc = main(
            [
                "export",
                "--input",
                str(tmp_path / "in.mp4"),
                "--keyframe",
                str(tmp_path / "kf.flashkey"),
                "--format",
                "matte",
                "--out",
                str(tmp_path / f"{name}.mp4"),
                *extra,
            ]
        )
        assert rc == 0
        with av.open(str(tmp_path / f"{name}.mp4")) as c:
            outs[name] = np.stack([f.to_ndarray(format="gray") for f in c.decode(video=0)]).astype(float)
    assert outs["plain"].mean() > 20  # the subject is there
    assert outs["grown"].mean() > outs["plain"].mean() + 5 > outs["shrunk"].mean() + 10


def test_the_studio_controls_drive_the_compositor(studio) -> None:
    window, _ = studio
    window.controls["grow"].setValue(-5)
    window.controls["feather"].setValue(2.5)
    window.controls["fill_holes"].setValue(12)
    c = window.compositor
    assert (c.grow, c.feather, c.fill_holes) == (-5, 2.5, 12)
