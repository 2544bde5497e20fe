"""flashvid-rt's subject check (`SubjectGate`, on by default): the matte is kept for the keyframe's subject and
fades out for someone else (the paper's "different identity" case), under every engine; a subject once confirmed
is held through frames where they look less like the keyframe."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from flashvid import defaults
from flashvid.errors import InputError
from flashvid.network import build_model
from flashvid.network.rt.subject_gate import SubjectGate
from tests.test_network import inputs


def test_hsv_matches_opencv() -> None:
    import cv2

    from flashvid.network.rt.subject_gate import rgb_to_hsv

    rgb = np.random.default_rng(0).integers(0, 256, (1, 16, 16, 3), dtype=np.uint8)
    rgb[0, 0, :4] = [[0, 0, 0], [255, 255, 255], [90, 90, 90], [255, 0, 0]]  # no hue; red
    ours = rgb_to_hsv(torch.from_numpy(rgb).permute(0, 3, 1, 2).float() / 255)[0].permute(1, 2, 0).numpy()
    ref = cv2.cvtColor(rgb[0], cv2.COLOR_RGB2HSV_FULL).astype(np.float32) / 255  # hue over 0..255 for 0..360
    hue = np.minimum(np.abs(ours[..., 0] - ref[..., 0]), 1 - np.abs(ours[..., 0] - ref[..., 0]))
    assert hue.max() < 1.5 / 255 and np.abs(ours[..., 1:] - ref[..., 1:]).max() < 1.5 / 255


def test_descriptor_cells_and_colour_halves() -> None:
    """Six feature cells (three bands of equal mask mass, two sides), each unit length, then the square roots of
    two colour histograms (upper and lower half), each summing to one when squared; zeros for an empty mask."""
    c, h, w = 4, 12, 8
    feat = torch.zeros(1, c, h, w)
    feat[:, 0, :, : w // 2] = 1.0  # the subject's left side looks like channel 0
    feat[:, 1, :, w // 2 :] = 3.0  # its right side like channel 1
    mask = torch.zeros(1, 1, h, w)
    mask[..., 2:11, 2:6] = 1.0  # rows 2..10: centroid row 6
    image = torch.full((1, 3, h, w), 0.5)
    image[:, :, :6] = torch.tensor([1.0, 0.0, 0.0]).view(1, 3, 1, 1)  # red above the centroid, grey below
    d = SubjectGate.describe(feat, image, mask)
    assert d.shape == (1, SubjectGate.descriptor_size(c))
    cells = d[0, : 6 * c].view(6, c)
    np.testing.assert_allclose(cells.norm(dim=1).numpy(), np.ones(6), atol=1e-5)
    np.testing.assert_allclose(cells[0::2, 0].numpy(), 1.0, atol=1e-6)  # left cells: channel 0
    np.testing.assert_allclose(cells[1::2, 1].numpy(), 1.0, atol=1e-6)  # right cells: channel 1
    upper, lower = d[0, 6 * c :].view(2, SubjectGate.BINS)
    assert abs(float((upper**2).sum()) - 1) < 1e-5 and abs(float((lower**2).sum()) - 1) < 1e-5
    assert float((upper * lower).sum()) == 0.0  # red and grey share no bin
    assert float(SubjectGate.describe(feat, image, torch.zeros_like(mask)).abs().sum()) == 0.0


def test_gate_maps_similarity_between_its_thresholds_and_opens_for_a_zero_keyframe_descriptor() -> None:
    gate = SubjectGate(0.5, 0.9)
    g = torch.Generator().manual_seed(0)
    feat, image, mask = torch.rand(3, 5, 6, 6, generator=g), torch.rand(3, 3, 6, 6, generator=g), torch.ones(3, 1, 6, 6)
    same = SubjectGate.describe(feat, image, mask)
    other = SubjectGate.describe(torch.roll(feat, 1, dims=1) ** 4, image.flip(1) ** 2, mask)
    kdesc = torch.stack([same[0], other[1], torch.zeros_like(same[2])])
    value, similarity = gate(feat, image, mask, kdesc)
    assert value.shape == (3, 1, 1, 1)
    assert abs(float(similarity[0]) - 1.0) < 1e-5 and float(value[0]) == 1.0  # the keyframe's own subject
    want = min(1.0, max(0.0, (float(similarity[1]) - 0.5) / 0.4))
    assert float(similarity[1]) < 0.95 and abs(float(value[1]) - want) < 1e-6
    assert float(value[2]) == 1.0  # no descriptor: the check is off
    with pytest.raises(ValueError):
        SubjectGate(0.9, 0.5)


def test_rt_gate_fades_alpha_only_and_keeps_the_ungated_prior() -> None:
    """With the check off (no no-flash image) the model equals one built without a gate; a gate that is shut
    (thresholds above any cosine) zeroes alpha, leaves the foreground colour, and the recurrent prior carries the
    ungated matte, so the subject is still tracked when the check opens again."""
    torch.manual_seed(0)
    gated = build_model("flashvid-rt", subject_gate=defaults.SUBJECT_GATE)
    torch.manual_seed(0)
    plain = build_model("flashvid-rt")  # the default build has no gate (FlashMatter adds it when asked)
    assert plain.gate is None
    plain.load_state_dict(gated.state_dict())
    frame, flash, tri = inputs(120, 160)
    with torch.inference_mode():
        k_off = gated.encode_keyframe(flash, tri)
        k_on = gated.encode_keyframe(flash, tri, frame)
        assert len(k_on) == plain.num_keyframe_tensors + 1 == gated.num_keyframe_tensors
        assert float(k_off[2].abs().sum()) == 0 and abs(float(k_on[2].norm()) ** 2 - 8.0) < 1e-4  # 6 cells, 2 halves
        rec = gated.initial_state(frame)
        assert len(rec) == len(plain.initial_state(frame)) + 1 and rec[-1].shape == (1, 1, 1, 1)  # the held gate
        ref = plain(frame, *plain.encode_keyframe(flash, tri), *rec[:-1])
        off = gated(frame, *k_off, *rec)
        for a, b in zip(off[:-1], ref, strict=True):
            assert torch.equal(a, b)
        assert float(off[-1]) == 1.0  # check off: the gate is open and says so
        assert gated.gate is not None
        gated.gate.low, gated.gate.high = 1.5, 2.0  # shut: no cosine reaches 1.5
        shut = gated(frame, *k_on, *rec)
        # the no-flash image also shows the person prior the keyframe's background: compare with it given
        ref = plain(frame, *plain.encode_keyframe(flash, tri, frame), *rec[:-1])
    assert float(shut[0].abs().max()) == 0.0 and torch.equal(shut[1], ref[1])
    for a, b in zip(shut[2:-1], ref[2:], strict=True):
        assert torch.equal(a, b)
    assert float(shut[-1]) == 0.0


def test_gate_opens_on_the_subject_and_holds_through_a_turn() -> None:
    """The Schmitt trigger: shut until the similarity passes `low`..`high`, then held while it stays above the
    hold ramp, faded inside it, shut below it and not reopened by a middling similarity."""
    gate = SubjectGate(0.785, 0.815, 0.60, 0.65)
    assert gate.holds and not SubjectGate(0.785, 0.815).holds
    feat, image, mask = torch.rand(1, 8, 6, 4), torch.rand(1, 3, 6, 4), torch.ones(1, 1, 6, 4)
    kdesc = SubjectGate.describe(feat, image, mask)
    sims = [0.70, 0.80, 0.82, 0.66, 0.625, 0.70, 0.55, 0.70, 0.83]
    want = [0.00, 0.50, 1.00, 1.00, 0.500, 0.50, 0.00, 0.00, 1.00]
    previous = torch.zeros(1, 1, 1, 1)
    got = []
    for sim in sims:
        gate.similarity = lambda d, k, sim=sim: torch.tensor([sim])  # type: ignore[method-assign]
        previous, _ = gate(feat, image, mask, kdesc, previous)
        got.append(float(previous))
    np.testing.assert_allclose(got, want, atol=1e-5)
    stateless = SubjectGate(0.785, 0.815)
    stateless.similarity = lambda d, k: torch.tensor([0.66])  # type: ignore[method-assign]
    assert float(stateless(feat, image, mask, kdesc, torch.ones(1, 1, 1, 1))[0]) == 0.0  # no hold: frame by frame
    for bad in ((0.785, 0.815, 0.60, None), (0.785, 0.815, 0.70, 0.65), (0.785, 0.815, 0.60, 0.80)):
        with pytest.raises(ValueError):
            SubjectGate(*bad)


def test_onnx_export_carries_the_gate(tmp_path: Path) -> None:
    pytest.importorskip("onnxruntime")
    import onnxruntime as ort
    from flashvid.engines.onnx import export_onnx, io_names

    torch.manual_seed(0)
    model = build_model("flashvid-rt", subject_gate=defaults.SUBJECT_GATE)
    assert model.gate is not None
    model.gate.low, model.gate.high = 0.0, 2.0  # a cosine in 0..1 lands mid-ramp: the gate's arithmetic shows
    frame, flash, tri = inputs(160, 200)
    with torch.inference_mode():
        kf = model.encode_keyframe(flash, tri, flash)
        rec = model.initial_state(frame)
        ref = model(frame, *kf, *rec)
        gate = model.forward_aux(frame, *kf, *rec)["gate"]
    assert 0.0 < float(gate) < 0.6
    path = export_onnx(model, frame, kf, tmp_path / "m.onnx")
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    ins, outs = io_names(len(kf), len(rec))
    got = sess.run(outs, {n: v.numpy() for n, v in zip(ins, [frame, *kf, *rec], strict=True)})
    for name, a, b in zip(outs, got, ref, strict=True):
        np.testing.assert_allclose(a, b.numpy(), rtol=0, atol=1e-4, err_msg=name)


def test_matter_subject_check_switch() -> None:
    from flashvid.keyframe import make_keyframe
    from flashvid.matter import FlashMatter
    from flashvid.training.data.synth import synthetic_pair

    pair = synthetic_pair(160, 120, seed=1)
    kf = make_keyframe(pair.flash, pair.noflash)
    on, off = FlashMatter(random_weights=True, subject_check=True), FlashMatter(random_weights=True)  # off: default
    assert not defaults.SUBJECT_CHECK and on.subject_check is True and off.subject_check is False
    assert on.model.gate is not None and off.model.gate is None  # no gate in the graph when switched off
    on.set_keyframe(kf)
    off.set_keyframe(kf)
    assert on._keyframe is not None and off._keyframe is not None
    assert len(on._keyframe) == len(off._keyframe) + 1 and float(on._keyframe[2].norm()) > 1.0
    first = on.process(pair.noflash)  # the held gate is one more recurrent state, reset with the rest
    assert on._rec is not None and len(on._rec) == len(off.model.initial_state(torch.zeros(1, 3, 120, 160))) + 1
    on.reset()
    np.testing.assert_array_equal(on.process(pair.noflash).alpha, first.alpha)
    with pytest.raises(InputError):
        FlashMatter("dfm-official", random_weights=True, subject_check=True)
    assert FlashMatter("dfm-official", random_weights=True).subject_check is False  # the default: rt's only


def test_shipped_model_drops_someone_else_and_keeps_its_subject(shared_data: Path) -> None:
    """asl_again (person A) matted with its own keyframe keeps the person; with asl_bird's keyframe (person B, who
    stands in the same place) the subject check shuts the matte (measured over 60 frames in MODEL.md)."""
    from flashvid.keyframe.person import PersonSegmenter
    from flashvid.matter import default_checkpoint
    from flashvid.training.real_eval import clip_keyframe, iou, load_real_clip, model_run

    seg = PersonSegmenter()
    a = load_real_clip(shared_data / "videos" / "asl_again.mkv", 8, seg, seed=0)
    b = load_real_clip(shared_data / "videos" / "asl_bird.mkv", 0, seg, seed=1)
    model = build_model("flashvid-rt", default_checkpoint("flashvid-rt"), subject_gate=defaults.SUBJECT_GATE)
    later, refs = list(a.frames[1:]), list(a.reference[1:])
    own_run = model_run(model, clip_keyframe(a), later, subject_check=True)
    own = np.mean([iou(p, r) for p, r in zip(own_run, refs, strict=True)])
    other = model_run(model, clip_keyframe(b), later, subject_check=True)
    unchecked = model_run(model, clip_keyframe(b), later)
    assert own >= 0.9, own
    assert np.mean([iou(p, r) for p, r in zip(other, refs, strict=True)]) < 0.2
    assert max(float(p.mean()) for p in other) < 0.05 and min(float(p.mean()) for p in unchecked) > 0.1


def test_cli_subject_check_flag_reaches_the_matter() -> None:
    from flashvid.cli import build_parser, matter_spec

    parser, _ = build_parser()
    base = ["export", "--input", "in.mp4", "--flash", "f.png", "--noflash", "n.png", "--out", "o", "--random-weights"]
    for extra, want in (([], defaults.SUBJECT_CHECK), (["--subject-check"], True), (["--no-subject-check"], False)):
        args = parser.parse_args([*base, *extra])
        assert matter_spec(args).build().subject_check is want, extra
