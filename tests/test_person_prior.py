"""The per-frame person prior (issue 22): the shipped MediaPipe segmenter converted to PyTorch
(`flashvid.network.tflite_graph`) matches ai-edge-litert, sits in flashvid-rt's graph, picks the keyframe's
subject among the people, and keeps the subject when the network's own matte empties."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from flashvid.assets import segmenter_path


def _portrait(h: int = 256, w: int = 256) -> np.ndarray:
    """A generated person-like picture: a skin-toned head and a dark torso over a lit wall."""
    import cv2

    img = np.full((h, w, 3), (205, 200, 190), np.uint8)
    cv2.ellipse(img, (w // 2, int(h * 0.33)), (int(w * 0.11), int(h * 0.15)), 0, 0, 360, (200, 150, 120), -1)
    cv2.ellipse(img, (w // 2, int(h * 0.95)), (int(w * 0.3), int(h * 0.45)), 0, 180, 360, (40, 50, 70), -1)
    return img


@pytest.mark.parametrize("name", ["selfie", "selfie-landscape"])
def test_converted_segmenter_matches_litert(name: str, shared_data) -> None:
    import av
    import cv2
    from ai_edge_litert.interpreter import Interpreter

    from flashvid.network.tflite_graph import TFLiteGraph

    graph = TFLiteGraph(segmenter_path(name)).eval()
    it = Interpreter(model_path=str(segmenter_path(name)))
    it.allocate_tensors()
    inp, out = it.get_input_details()[0], it.get_output_details()[0]
    h, w = graph.input_shape
    frames = [_portrait()]
    with av.open(str(shared_data / "validation" / "sam2_bedroom.mp4")) as c:
        frames += [f.to_ndarray(format="rgb24") for _, f in zip(range(3), c.decode(video=0), strict=False)]
    for f in frames:
        x = cv2.resize(f, (w, h), interpolation=cv2.INTER_AREA).astype(np.float32) / 255
        it.set_tensor(inp["index"], x[None])
        it.invoke()
        ref = it.get_tensor(out["index"])[0, :, :, 0]
        with torch.inference_mode():
            ours = graph(torch.from_numpy(x).permute(2, 0, 1)[None])[0, 0].numpy()
        assert np.abs(ours - ref).max() < 1e-3
    assert (ref > 0.5).mean() > 0.02  # the bedroom's children are found: the comparison is not of empty maps


def test_converted_segmenter_matches_litert_on_a_generated_portrait() -> None:
    """Without ../shared: the same check on a generated picture (the segmenters ship with flashvid)."""
    from ai_edge_litert.interpreter import Interpreter

    from flashvid.network.tflite_graph import TFLiteGraph

    graph = TFLiteGraph(segmenter_path("selfie")).eval()
    it = Interpreter(model_path=str(segmenter_path("selfie")))
    it.allocate_tensors()
    x = _portrait().astype(np.float32) / 255
    it.set_tensor(it.get_input_details()[0]["index"], x[None])
    it.invoke()
    ref = it.get_tensor(it.get_output_details()[0]["index"])[0, :, :, 0]
    with torch.inference_mode():
        ours = graph(torch.from_numpy(x).permute(2, 0, 1)[None])[0, 0].numpy()
    assert np.abs(ours - ref).max() < 1e-3


def test_a_bad_tflite_file_is_one_line(tmp_path) -> None:
    from flashvid.errors import CheckpointError
    from flashvid.network.tflite_graph import TFLiteGraph

    bad = tmp_path / "bad.tflite"
    bad.write_bytes(b"not a flatbuffer at all")
    with pytest.raises(CheckpointError) as e:
        TFLiteGraph(bad)
    assert str(bad) in str(e.value) and "\n" not in str(e.value)


def test_subject_region_keeps_only_the_people_connected_to_the_seeds() -> None:
    from flashvid.network.rt.person_prior import subject_region

    person = torch.zeros(1, 1, 20, 40)
    person[..., 2:18, 2:10] = 0.9  # the subject
    person[..., 2:18, 25:35] = 0.8  # someone else, apart
    seeds = torch.zeros(1, 1, 20, 40)
    seeds[..., 8:10, 5:7] = 1.0  # where the subject was
    region = subject_region(person, seeds)
    assert torch.allclose(region[..., 2:18, 2:10], torch.full((1, 1, 16, 8), 0.9))
    assert float(region[..., :, 20:].abs().sum()) == 0.0
    assert float(subject_region(person, torch.zeros_like(seeds)).sum()) == 0.0  # no seed, nobody


class _FixedPeople(torch.nn.Module):
    """Stands in for the segmenter: two people, one in the middle (the keyframe's subject), one at the left edge."""

    def forward(self, img: torch.Tensor) -> torch.Tensor:
        h, w = img.shape[2], img.shape[3]
        out = torch.zeros(img.shape[0], 1, h, w)
        out[..., int(h * 0.2) :, int(w * 0.4) : int(w * 0.6)] = 0.95
        out[..., int(h * 0.2) :, : int(w * 0.12)] = 0.95
        return out


def test_the_subject_is_kept_when_the_network_matte_empties() -> None:
    """Fail safe: with the matting head and the refiner silenced (their output all zero), flashvid-rt with the
    person prior still keeps the person the keyframe picked, and not the other one; without the prior the
    matte is empty."""
    from flashvid.network import build_model

    img = torch.from_numpy(_portrait(180, 320)).permute(2, 0, 1)[None].float() / 255
    tri = torch.zeros(1, 3, 180, 320)
    tri[:, 0] = 1.0
    tri[:, 0, 30:, 120:200] = 0.0
    tri[:, 2, 30:, 120:200] = 1.0  # the keyframe's subject: the middle of the frame
    alphas = {}
    for prior in (True, False):
        model = build_model("flashvid-rt", person_prior=prior).eval()
        if prior:
            model.person = _FixedPeople()
        with torch.no_grad():
            for p in model.heads.parameters():
                p.zero_()
            for p in model.refiner.parameters():
                p.zero_()
        with torch.inference_mode():
            kf = model.encode_keyframe(img, tri)
            rec = model.initial_state(img)
            for _ in range(3):
                alpha, _, *rec = model(img, *kf, *rec)
        alphas[prior] = alpha[0, 0]
    person = alphas[True][50:, 135:185]
    assert float(person.mean()) > 0.9  # the subject, whatever the network said
    # out to the segmenter's edge (columns 128-191): the floor is the subject's region, not its eroded core
    assert float(alphas[True][60:, 129:191].min()) > 0.5
    assert float(alphas[True][:, :40].max()) < 0.05  # not the other person (not connected to the keyframe's)
    assert float(alphas[True][:20].max()) < 0.05  # nor the wall above
    assert float(alphas[False].max()) < 0.6


def test_the_prior_weights_stay_out_of_checkpoints(tmp_path) -> None:
    from flashvid.network import build_model, save_checkpoint

    with_prior = build_model("flashvid-rt", person_prior=True)
    without = build_model("flashvid-rt", person_prior=False)
    assert with_prior.state_dict().keys() == without.state_dict().keys()
    save_checkpoint(with_prior, tmp_path / "m.safetensors")
    build_model("flashvid-rt", tmp_path / "m.safetensors", person_prior=False)  # loads strictly either way


class _Nobody(torch.nn.Module):
    """Stands in for the segmenter on a subject it does not see (an object, an animal): no person anywhere."""

    def forward(self, img: torch.Tensor) -> torch.Tensor:
        return torch.zeros(img.shape[0], 1, img.shape[2], img.shape[3])


def test_a_subject_the_segmenter_does_not_see_keeps_the_networks_matte() -> None:
    """Where the keyframe saw the subject the person prior takes nothing from the network's matte, so a subject
    that is no person is matted as it was without the prior."""
    from flashvid.network import build_model

    img = torch.from_numpy(_portrait(180, 320)).permute(2, 0, 1)[None].float() / 255
    tri = torch.zeros(1, 3, 180, 320)
    tri[:, 0] = 1.0
    tri[:, 0, 40:150, 100:220] = 0.0
    tri[:, 2, 40:150, 100:220] = 1.0
    alphas = []
    for prior in (True, False):
        torch.manual_seed(0)
        model = build_model("flashvid-rt", person_prior=prior).eval()
        if prior:
            model.person = _Nobody()
        with torch.inference_mode():
            kf = model.encode_keyframe(img, tri)
            alpha, *_ = model(img, *kf, *model.initial_state(img))
        alphas.append(alpha[0, 0])
    inside = (slice(50, 140), slice(110, 210))
    torch.testing.assert_close(alphas[0][inside], alphas[1][inside])
    assert float(alphas[1][inside].abs().sum()) > 0  # the comparison is not of empty mattes


def test_unchanged_background_marks_only_what_still_looks_as_the_keyframe_saw_it() -> None:
    """`unchanged_background`: 1 where the frame still shows the keyframe's sure background, 0 at the subject's
    edge, where something new stands, and everywhere after a change of light (the check fails safe)."""
    from flashvid.network.rt.person_prior import still_background, unchanged_background

    g = torch.Generator().manual_seed(0)
    noflash = 0.3 + 0.4 * torch.rand(1, 3, 96, 128, generator=g)  # a textured room
    noflash = F.avg_pool2d(noflash, 5, 1, 2)
    bg = torch.ones(1, 1, 96, 128)
    bg[..., 20:96, 48:80] = 0.0  # the subject (and its band) is not sure background
    still = still_background(noflash, bg)
    same = unchanged_background(F.avg_pool2d(noflash, 4), still)[0, 0]
    assert same.shape == (24, 32)
    assert float(same[:, :8].min()) == 1.0 and float(same[:3].min()) == 1.0  # the room, as it was
    assert float(same[6:, 12:20].max()) == 0.0  # where the subject stood (and a cell around it)
    moved = noflash.clone()
    moved[..., 0:32, 0:32] = 0.9  # a bright box now stands in the room
    changed = unchanged_background(F.avg_pool2d(moved, 4), still)[0, 0]
    assert float(changed[:7, :7].max()) == 0.0 and float(changed[12:, :8].min()) == 1.0
    brighter = unchanged_background(F.avg_pool2d(noflash * 1.15, 4), still)[0, 0]
    assert float(brighter.max()) == 0.0  # new light: nothing is taken for the old background


def test_the_network_may_not_add_the_unchanged_room() -> None:
    """With the keyframe's no-flash image given, flashvid-rt's allowed zone leaves out what still looks as the
    keyframe's background did; without one (or when the room changed) the zone is as before."""
    from flashvid.network import build_model

    img = torch.from_numpy(_portrait(180, 320)).permute(2, 0, 1)[None].float() / 255
    tri = torch.zeros(1, 3, 180, 320)
    tri[:, 0] = 1.0
    tri[:, 0, 30:, 120:200] = 0.0
    tri[:, 2, 30:, 120:200] = 1.0
    model = build_model("flashvid-rt").eval()
    model.person = _FixedPeople()
    zones = {}
    with torch.inference_mode():
        for name, noflash in (("given", img), ("none", None)):
            kf = model.encode_keyframe(img, tri, noflash)
            assert len(kf) == model.num_keyframe_tensors
            _, pad = model._small(img)  # the frame at the internal size, padded to a multiple of 16
            key = F.interpolate(kf[-2], size=pad.shape[2:], mode="bilinear")
            _, keep = model._person_subject(pad, key, key, kf[-1])
            zones[name] = keep[0, 0]
    beside = (slice(60, 170), slice(110, 113))  # just beside the subject, inside the widened zone
    assert float(zones["none"][beside].min()) > 0.9
    assert float(zones["given"][beside].max()) < 0.1
    assert float(zones["given"][60:, 130:190].min()) > 0.9  # the subject's own place stays allowed
