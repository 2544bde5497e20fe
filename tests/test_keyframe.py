"""Keyframe files, make_keyframe's input checks, SAM with tiny random weights, and real flash pairs."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from flashvid.errors import CheckpointError
from flashvid.imageio import read_image
from flashvid.keyframe import Keyframe, KeyframeError, make_keyframe
from flashvid.keyframe.segment import SamSegmenter, load_sam, sam_config_from_state_dict
from flashvid.training.data.synth import FlashLight, synthetic_pair
from tests.conftest import clip_with_flash_burst, iou, tiny_sam_config

LIGHT = FlashLight(d_ratio=4.0, power=2.5, exposure_f=0.33, noise=0.01)


@pytest.fixture(scope="module")
def pair():
    return synthetic_pair(240, 320, seed=3, light=LIGHT)


@pytest.fixture(scope="module")
def keyframe(pair) -> Keyframe:
    return make_keyframe(pair.flash, pair.noflash)


def test_make_keyframe_finds_the_subject(pair, keyframe: Keyframe) -> None:
    assert iou(keyframe.mask, pair.alpha > 0.5) >= 0.95
    assert keyframe.mask.dtype == np.uint8 and set(np.unique(keyframe.mask).tolist()) <= {0, 1}
    assert set(np.unique(keyframe.trimap).tolist()) == {0, 128, 255}
    assert keyframe.ratio.shape == (240, 320) and keyframe.points.shape[1] == 2
    s = keyframe.summary()
    assert 10 < s["area_pct"] < 60 and s["ratio_in"] > 3 * s["ratio_out"]
    assert keyframe.settings["estimator"] == "pixel" and keyframe.settings["band"] == 13


def test_save_load_round_trip(tmp_path: Path, keyframe: Keyframe) -> None:
    path = tmp_path / "kf.flashkey"
    keyframe.save(path)
    back = Keyframe.load(path)
    for name in ("flash", "noflash", "points", "labels", "mask", "trimap"):
        np.testing.assert_array_equal(getattr(back, name), getattr(keyframe, name))
    np.testing.assert_allclose(back.ratio, keyframe.ratio, atol=1e-3)  # stored as float16
    assert back.settings == json.loads(json.dumps(keyframe.settings))
    assert [p.name for p in tmp_path.iterdir()] == ["kf.flashkey"]  # no temporary file left behind
    wider = back.with_band(31)
    assert (wider.trimap == 128).sum() > (back.trimap == 128).sum() and wider.settings["band"] == 31


def test_load_refuses_damaged_foreign_and_other_version_files(tmp_path: Path, keyframe: Keyframe) -> None:
    from safetensors.numpy import save_file

    path = tmp_path / "kf.flashkey"
    keyframe.save(path)
    data = path.read_bytes()
    (tmp_path / "cut.flashkey").write_bytes(data[: len(data) // 2])
    with pytest.raises(KeyframeError, match="damaged keyframe file"):
        Keyframe.load(tmp_path / "cut.flashkey")
    save_file({"x": np.zeros(3, np.float32)}, str(tmp_path / "other.flashkey"), metadata={"format": "nope"})
    with pytest.raises(KeyframeError, match="not a flashvid keyframe file"):
        Keyframe.load(tmp_path / "other.flashkey")
    save_file(
        {"x": np.zeros(3, np.float32)},
        str(tmp_path / "v9.flashkey"),
        metadata={"format": "flashvid-keyframe", "version": "9"},
    )
    with pytest.raises(KeyframeError, match="version 9 but this flashvid reads version 1"):
        Keyframe.load(tmp_path / "v9.flashkey")
    with pytest.raises(KeyframeError, match="no such keyframe file"):
        Keyframe.load(tmp_path / "missing.flashkey")


def test_bad_pairs_are_refused_with_the_fix(pair) -> None:
    with pytest.raises(KeyframeError, match="--resize"):
        make_keyframe(pair.flash, pair.noflash[:200])
    kf = make_keyframe(pair.flash, np.ascontiguousarray(pair.noflash[:200]), resize=True)
    assert kf.mask.shape == (240, 320)
    with pytest.raises(KeyframeError, match="swapped"):
        make_keyframe(pair.noflash, pair.flash)
    with pytest.raises(KeyframeError, match=r"too weak.*closer"):
        make_keyframe(pair.noflash, pair.noflash)
    weak = synthetic_pair(240, 320, seed=3, light=FlashLight(d_ratio=4.0, power=0.01, exposure_f=0.35))
    with pytest.raises(KeyframeError, match="too weak"):
        make_keyframe(weak.flash, weak.noflash)


def test_gray_16bit_and_rgba_inputs_are_converted(pair) -> None:
    gray_f = pair.flash.mean(axis=2).astype(np.uint8)
    gray_n = pair.noflash.mean(axis=2).astype(np.uint8)
    kf = make_keyframe(gray_f, gray_n)
    assert kf.flash.shape == (240, 320, 3) and iou(kf.mask, pair.alpha > 0.5) > 0.9
    f16 = pair.flash.astype(np.uint16) * 257
    rgba = np.concatenate([pair.noflash, np.full((240, 320, 1), 255, np.uint8)], axis=2)
    kf = make_keyframe(f16, rgba)
    np.testing.assert_array_equal(kf.flash, pair.flash)
    np.testing.assert_array_equal(kf.noflash, pair.noflash)


# ----------------------------------------------------------------------------------------------------- SAM


def test_sam_config_is_read_from_checkpoint_shapes() -> None:
    from segment_anything import sam_model_registry

    sd = sam_model_registry["vit_b"]().state_dict()
    cfg = sam_config_from_state_dict(sd)
    assert cfg["type"] == "vit_b" and cfg["depth"] == 12 and cfg["num_heads"] == 12
    assert cfg["global_attn_indexes"] == (2, 5, 8, 11) and cfg["window_size"] == 14 and cfg["img_size"] == 1024
    assert cfg["prompt_dim"] == 256 and cfg["decoder_depth"] == 2 and cfg["decoder_mlp"] == 2048


def test_sam_path_end_to_end_with_tiny_random_weights(tiny_sam_checkpoint: Path, pair) -> None:
    seg = SamSegmenter(tiny_sam_checkpoint)
    assert sam_config_from_state_dict(seg.model.state_dict()) == {**tiny_sam_config(), "type": "custom"}
    kf = make_keyframe(pair.flash, pair.noflash, segmenter=seg)
    assert kf.mask.shape == (240, 320) and kf.settings["segmenter"] == "SamSegmenter"
    assert seg.last_scores is not None and len(seg.last_scores) == 3
    # The kept mask is the candidate with the best predicted IoU, upscaled to the frame.
    seg.predictor.set_image(pair.flash)
    masks, scores, _ = seg.predictor.predict(point_coords=kf.points, point_labels=kf.labels, multimask_output=True)
    np.testing.assert_allclose(scores, seg.last_scores, rtol=1e-5)
    np.testing.assert_array_equal(kf.mask, masks[int(np.argmax(scores))].astype(np.uint8))


def test_sam_checkpoint_errors(tmp_path: Path, tiny_sam_checkpoint: Path) -> None:
    torch.save({"weight": torch.zeros(3)}, tmp_path / "not_sam.pth")
    with pytest.raises(CheckpointError, match="not a segment-anything"):
        load_sam(tmp_path / "not_sam.pth")
    (tmp_path / "junk.pth").write_bytes(b"not a checkpoint at all")
    with pytest.raises(CheckpointError, match="not a readable PyTorch checkpoint"):
        load_sam(tmp_path / "junk.pth")
    with pytest.raises(CheckpointError, match="no such SAM checkpoint"):
        load_sam(tmp_path / "missing.pth")
    with pytest.raises(CheckpointError, match="holds a custom SAM, not vit_h"):
        load_sam(tiny_sam_checkpoint, model_type="vit_h")
    sd = torch.load(tiny_sam_checkpoint, weights_only=True)
    del sd["mask_decoder.iou_token.weight"]
    torch.save(sd, tmp_path / "partial.pth")
    with pytest.raises(CheckpointError, match="1 missing"):
        load_sam(tmp_path / "partial.pth")


# ------------------------------------------------------------------------------------------ real flash light


def real_pairs(folder: Path) -> list[tuple[str, Path, Path]]:
    return [
        (f.name[: -len("_flash.png")], f, f.with_name(f.name.replace("_flash", "_ambient")))
        for f in sorted((folder / "real-flash").glob("*_flash.png"))
    ]


def test_real_flash_pairs(shared_data: Path) -> None:
    pairs = real_pairs(shared_data)
    assert len(pairs) >= 10
    for name, f, n in pairs:
        kf = make_keyframe(read_image(f), read_image(n), names=(str(f), str(n)))
        s = kf.summary()
        assert 2.0 <= s["area_pct"] <= 70.0, f"{name}: mask covers {s['area_pct']:.1f} %"
        assert s["ratio_in"] >= 2.0 * s["ratio_out"], f"{name}: ratio {s['ratio_in']:.2f} vs {s['ratio_out']:.2f}"


def test_swapped_real_pairs_are_refused_and_valid_ones_accepted(shared_data: Path) -> None:
    """Issues 12 / 14: every real pair is accepted as given and refused when swapped, although each real flash
    shot is the darker of its pair (the camera's exposure)."""
    from flashvid.keyframe import KeyframeError, check_pair

    pairs = sorted((shared_data / "real-flash").glob("*_flash.png"))
    assert len(pairs) >= 10
    for f in pairs:
        flash, noflash = read_image(f), read_image(f.with_name(f.name.replace("_flash", "_ambient")))
        check_pair(flash, noflash)
        with pytest.raises(KeyframeError, match="swapped"):
            check_pair(noflash, flash)


def _placed_pair(alpha: np.ndarray, seed: int = 5) -> tuple[np.ndarray, np.ndarray]:
    """A flash / no-flash pair (uint8) of a grey subject with `alpha` (H x W 0..1) before a room-like background
    4x as far (the physical model)."""
    from flashvid.training.data.synth import procedural_background, render_flash, render_noflash

    rng = np.random.default_rng(seed)
    h, w = alpha.shape
    fg = np.full((h, w, 3), 0.45, np.float32)
    bg = procedural_background(h, w, rng)
    light = FlashLight(d_ratio=4.0, power=2.5, noise=0.01)
    return render_flash(fg, alpha, bg, light, rng), render_noflash(fg, alpha, bg, light, rng)


def _finds(mask: np.ndarray, only_brighter_than: float = -1.0):
    """A stand-in person segmenter that finds `mask` (resized to the image) in images whose mean exceeds
    `only_brighter_than` (0..255) and nobody in the others."""
    import cv2

    def seg(image: np.ndarray) -> np.ndarray:
        if image.mean() <= only_brighter_than:
            return np.zeros(image.shape[:2], np.float32)
        return cv2.resize(mask.astype(np.float32), (image.shape[1], image.shape[0]), interpolation=cv2.INTER_NEAREST)

    return seg


def test_an_off_centre_or_far_person_is_decisive_and_contradicting_cues_ask_never_refuse() -> None:
    """The centre cue alone cannot speak for a person who covers little of the frame's central quarter (a far or
    off-centre person: 17 of 33 rendered portrait keyframes and all 33 far ones were 'weak' with it alone); the
    person both images show can. Swapping still negates the score, and cues that disagree ask the user."""
    from flashvid.keyframe.checks import SWAP_MARGIN, WeakFlashError, check_pair, flash_centredness, flash_evidence

    h, w = 240, 320
    side = np.zeros((h, w), np.float32)
    side[60:, 250:305] = 1.0  # a person standing at the right edge, outside the central quarter
    flash, noflash = _placed_pair(side)
    assert abs(flash_centredness(flash, noflash)) < SWAP_MARGIN  # the centre cue: too weak to tell
    person = _finds(side)
    ev = flash_evidence(flash, noflash, person)
    assert ev.person is not None and ev.person > 0.5 and ev.score == ev.person
    assert check_pair(flash, noflash, person=person) == pytest.approx(ev.score)
    swapped = flash_evidence(noflash, flash, person)
    assert swapped.score == pytest.approx(-ev.score, abs=1e-5)
    with pytest.raises(KeyframeError, match=r"person vs surroundings -\d\.\d\d\).*swapped"):
        check_pair(noflash, flash, person=person)
    # a "person" one image shows and the other does not (a segmenter fooled by the light) is no evidence
    brighter = (float(flash.mean()) + float(noflash.mean())) / 2
    ev = flash_evidence(flash, noflash, _finds(side, only_brighter_than=brighter))
    assert ev.person is None and ev.score == ev.centre
    with pytest.raises(WeakFlashError, match=r"barely more.*--accept-weak-flash"):
        check_pair(flash, noflash, person=_finds(side, only_brighter_than=brighter))

    # two people filling the left and right borders, the room between them: the centre cue says "swapped"
    two = np.zeros((h, w), np.float32)
    two[:, :45] = two[:, w - 45 :] = 1.0
    flash, noflash = _placed_pair(two)
    ev = flash_evidence(flash, noflash, _finds(two))
    assert ev.centre < -SWAP_MARGIN and ev.person is not None and ev.person > SWAP_MARGIN
    assert ev.contradicts and ev.score == 0.0
    for f, n in ((flash, noflash), (noflash, flash)):  # asked either way, refused neither way
        with pytest.raises(WeakFlashError, match=r"disagree.*--accept-weak-flash"):
            check_pair(f, n, person=_finds(two))
        assert check_pair(f, n, accept_weak_flash=True, person=_finds(two)) == 0.0


def test_exposure_compensated_large_subject_is_accepted(shared_data: Path) -> None:
    """A flash-lit subject filling 50-80 % of the frame at full exposure compensation (the flash image is darker
    overall and its median pixel is on the subject) is accepted; the same pair swapped is refused."""
    import cv2

    from flashvid.keyframe import KeyframeError, check_pair
    from flashvid.keyframe.checks import SWAP_MARGIN, WeakFlashError, flash_evidence
    from flashvid.keyframe.prior import srgb_to_linear
    from flashvid.training.data.sources import read_suffix_folder
    from flashvid.training.data.synth import FlashLight, render_flash, render_noflash

    rng = np.random.default_rng(0)
    fgs = read_suffix_folder(shared_data / "portraits", max_side=2000)
    bgs = sorted((shared_data / "backgrounds" / "sun_hays80").glob("*.jpg"))
    h, w = 360, 480
    areas: list[float] = []
    scores: list[float] = []
    for i, fg in enumerate(fgs):
        ys, xs = np.nonzero(fg.alpha > 0.05)
        img = fg.image[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1]
        a = fg.alpha[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1]
        s = np.sqrt(rng.uniform(0.75, 1.1) * h * w / max(1, (a > 0.5).sum()))
        img, a = cv2.resize(img, None, fx=s, fy=s), cv2.resize(a, None, fx=s, fy=s)
        canvas, alpha = np.zeros((h, w, 3), np.float32), np.zeros((h, w), np.float32)
        ch, cw = min(h, a.shape[0]), min(w, a.shape[1])
        x0, sx = (w - cw) // 2, (a.shape[1] - cw) // 2
        canvas[h - ch :, x0 : x0 + cw] = srgb_to_linear(img[:ch, sx : sx + cw])
        alpha[h - ch :, x0 : x0 + cw] = a[:ch, sx : sx + cw]
        bg = srgb_to_linear(cv2.resize(read_image(bgs[i % len(bgs)]), (w, h)))
        light = FlashLight.random(rng)
        light.exposure_f = light.exposure_n / (1 + light.power)  # the subject back to its ambient brightness
        flash = render_flash(canvas, alpha, bg, light, rng)
        noflash = render_noflash(canvas, alpha, bg, light, rng)
        areas.append(float((alpha > 0.5).mean()))
        assert flash.mean() < noflash.mean()
        check_pair(flash, noflash, accept_weak_flash=True)
        scores.append(flash_evidence(flash, noflash).score)
        if abs(scores[-1]) < SWAP_MARGIN:  # inconclusive: asked about (issue 24), never guessed
            with pytest.raises(WeakFlashError, match="--accept-weak-flash"):
                check_pair(flash, noflash)
        if scores[-1] > SWAP_MARGIN:  # decisive: then the swapped pair must be refused
            with pytest.raises(KeyframeError, match="swapped"):
                check_pair(noflash, flash)
    assert max(areas) >= 0.5 and np.mean(areas) >= 0.45, areas
    # inconclusive pairs (|score| < margin) are taken only when the user confirms the order; most are decisive
    assert sum(sc > SWAP_MARGIN for sc in scores) >= len(scores) - 2, scores


def test_in_clip_flash_burst_makes_the_keyframe(shared_data: Path, tmp_path: Path, capsys) -> None:
    """Issue 12 item 4: `flashvid keyframe --from-video` finds the burst, pairs it with an unlit frame before it,
    and the keyframe covers the person; `export --keyframe auto` does the same inside the export."""
    from flashvid.cli import main
    from flashvid.keyframe.person import PersonSegmenter

    clip = clip_with_flash_burst(shared_data, tmp_path)
    assert main(["keyframe", "--from-video", str(clip), "--out", str(tmp_path / "k.flashkey")]) == 0
    out = capsys.readouterr().out
    assert "flash at frame 20" in out or "flash at frame 21" in out, out
    kf = Keyframe.load(tmp_path / "k.flashkey")
    assert "in-clip flash" in kf.settings["source"]
    person = PersonSegmenter()(kf.noflash) > 0.5
    m = kf.mask > 0
    assert (m & person).sum() / (m | person).sum() > 0.85
    assert main(["export", "--input", str(clip), "--keyframe", "auto", "--out", str(tmp_path / "o.mp4")]) == 0


def test_clip_without_a_flash_gives_one_line(shared_data: Path, tmp_path: Path, capsys) -> None:
    from flashvid.cli import main

    clip = clip_with_flash_burst(shared_data, tmp_path, burst=())
    assert main(["keyframe", "--from-video", str(clip), "--out", str(tmp_path / "k.flashkey")]) == 2
    err = capsys.readouterr().err
    assert "no flash found" in err and err.count("\n") == 1
    assert not (tmp_path / "k.flashkey").exists()


def test_rendered_portrait_pairs_cover_the_whole_person(shared_data: Path) -> None:
    """Issue 12: on flash pairs rendered from the real portraits (each over a real room photo), the keyframe mask
    covers the person - face, hair and clothes - and not the room: IoU with the portrait's matte >= 0.85 each and
    >= 0.93 on average (measured: 0.88-0.99, mean 0.95)."""
    import cv2

    from flashvid.keyframe.prior import srgb_to_linear
    from flashvid.training.data.sources import read_suffix_folder
    from flashvid.training.data.synth import FlashLight, render_flash, render_noflash

    rng = np.random.default_rng(5)
    bgs = sorted((shared_data / "backgrounds" / "sun_hays80").glob("*.jpg"))
    ious = []
    for i, fg in enumerate(read_suffix_folder(shared_data / "portraits", max_side=480)):
        h, w = fg.alpha.shape
        bg = srgb_to_linear(cv2.resize(read_image(bgs[(7 * i) % len(bgs)]), (w, h)))
        light = FlashLight(d_ratio=float(rng.uniform(2.5, 5.0)), power=float(rng.uniform(1.5, 3.0)), noise=0.0)
        a = fg.alpha
        flash = render_flash(srgb_to_linear(fg.image), a, bg, light, rng)
        noflash = render_noflash(srgb_to_linear(fg.image), a, bg, light, rng)
        kf = make_keyframe(flash, noflash, accept_weak_flash=True)  # rendered: the order is known
        m, gt = kf.mask > 0, a > 0.5
        ious.append(float((m & gt).sum() / (m | gt).sum()))
        assert "person" in kf.settings["segmenter"], kf.settings["segmenter"]
    assert min(ious) >= 0.85 and float(np.mean(ious)) >= 0.93, ious


def test_remade_keeps_hand_edits_in_order(keyframe: Keyframe) -> None:
    """Band / threshold changes remake the keyframe and replay the user's clicks and strokes (the studio used to
    drop them); the edits are recorded in the keyframe and survive its file."""
    edited = keyframe.with_points([(5.0, 5.0)], [0]).with_strokes([(300.0, 230.0, 6, 255)])
    assert [next(iter(e)) for e in edited.settings["edits"]] == ["points", "strokes"]
    wider = edited.remade(band=61)
    assert wider.settings["band"] == 61 and wider.trimap[230, 300] == 255
    np.testing.assert_array_equal(wider.mask, edited.mask)  # a band change keeps the mask
    assert (wider.trimap == 128).sum() > (edited.trimap == 128).sum()
    stricter = edited.remade(threshold=0.8)
    assert stricter.settings["threshold"] == 0.8 and stricter.trimap[230, 300] == 255
    assert stricter.labels[-1] == 0 and stricter.settings["edits"] == edited.settings["edits"]
    plain = keyframe.remade(band=61)
    assert plain.trimap[230, 300] != 255 or keyframe.trimap[230, 300] == 255  # the stroke came from the edit


def test_edits_survive_the_keyframe_file(tmp_path: Path, keyframe: Keyframe) -> None:
    edited = keyframe.with_strokes([(10.0, 10.0, 4, 255)])
    edited.save(tmp_path / "e.flashkey")
    again = Keyframe.load(tmp_path / "e.flashkey")
    assert again.settings["edits"] == edited.settings["edits"]
    assert again.remade(band=31).trimap[10, 10] == 255


class _SurePerson:
    """A person segmenter that is sure (probability 1) of a fixed region, whatever the picture."""

    name = "sure"

    def __init__(self, region: np.ndarray) -> None:
        self.region = region.astype(np.float32)

    def __call__(self, image: np.ndarray) -> np.ndarray:
        return self.region


def _merged_scene(subject_ratio: float, hand: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict[str, slice]]:
    """120 x 160: a subject (left), dark hair above it, its arm in the flash's shade (measured low, like it_40's
    arms) and a bright unlit slope (right), which the person segmenter merged into one person -> (flash image, ratio
    map, the segmenter's region, the parts)."""
    h, w = 120, 160
    parts = {
        "subject": (slice(40, 120), slice(20, 70)),
        "hair": (slice(25, 40), slice(20, 70)),
        "slope": (slice(25, 120), slice(70, 150)),
        "arm": (slice(60, 120), slice(2, 20)),
    }
    image = np.full((h, w, 3), 10, np.uint8)
    ratio = np.zeros((h, w), np.float32)
    region = np.zeros((h, w), bool)
    for name, (ys, xs) in parts.items():
        region[ys, xs] = True
        image[ys, xs] = {"subject": 170, "hair": 12, "slope": 230, "arm": 150}[name]  # hair: too dark to measure
    ratio[parts["subject"]] = subject_ratio
    if hand:  # a hand that moved between the two frames set the ratio map's top
        ratio[60:70, 30:40] = 1.0
    return image, ratio, region, parts


def test_a_bright_unlit_slope_the_person_segmenter_merged_is_cut_but_not_dark_hair_nor_a_dimly_measured_body() -> None:
    """Issue 22 item 7: MediaPipe sure that a sunlit snowy slope is part of the person took in 52 % of the room
    (`scripts/keyframe_cases.py`); where the flash measured that surface unlit it is cut, while dark hair (no
    measured ratio) and a shaded arm (a sliver, not a surface) stay. When the ratio map is not anchored on the
    subject (a moving hand set its top, the body reads 0.05), nothing is cut: the mask stays whole (the in-clip
    flash keyframe once collapsed to the hand)."""
    from flashvid.keyframe.person import PersonFlashSegmenter

    image, ratio, region, parts = _merged_scene(subject_ratio=0.9, hand=False)
    seg = PersonFlashSegmenter(person=_SurePerson(region))
    points, labels = np.array([[45.0, 80.0]], np.float32), np.array([1], np.int32)
    mask = seg.segment(image, ratio, points, labels) > 0
    assert mask[parts["subject"]].mean() == 1.0
    assert mask[parts["hair"]].mean() == 1.0
    assert mask[parts["arm"]].mean() == 1.0  # measured low too, but a sliver (5 % of the frame), not a surface
    assert mask[:, 110:150].mean() == 0.0  # the slope beyond the edge band around the lit subject
    assert mask[parts["slope"]].mean() < 0.25

    image, ratio, region, parts = _merged_scene(subject_ratio=0.05, hand=True)
    seg = PersonFlashSegmenter(person=_SurePerson(region))
    mask = seg.segment(image, ratio, np.array([[35.0, 65.0]], np.float32), labels) > 0
    assert mask[region].mean() == 1.0


def test_the_keyframe_on_rendered_flash_portraits_covers_the_person_and_little_of_the_room(shared_data: Path) -> None:
    """Issue 22 item 7 on the 33 rendered cases of `flashvid.training.keyframe_eval` (11 real portraits, each in
    front of a room, a bright wall and both): the mask covers most of every person and little of any room. The
    worst room case, a sunlit cliff MediaPipe is sure belongs to the girl, took in 52 % of the room before the
    measured-far veto; 15.5 % now."""
    from flashvid.training.keyframe_eval import keyframe_cases

    scores = list(keyframe_cases(shared_data))
    assert len(scores) == 33
    person = np.array([s.person for s in scores])
    room = np.array([s.room for s in scores])
    assert person.mean() >= 0.97 and person.min() >= 0.92, person
    assert room.mean() <= 0.015 and room.max() <= 0.25, room


def test_rendered_portraits_are_told_apart_by_the_person_where_the_centre_cannot(shared_data: Path) -> None:
    """On the 33 rendered portrait pairs of `keyframe_eval`, the centre cue alone was too weak to confirm the order
    of 17 (the person covers less than half the central quarter) and the CLI asked for --accept-weak-flash; with
    the person cue (the shipped segmenter) at least 30 are decisive, none is refused, and each swapped pair
    scores the exact negation."""
    from flashvid.keyframe.checks import SWAP_MARGIN, flash_evidence
    from flashvid.training.keyframe_eval import rendered_cases

    centre, scores = [], []
    for case in rendered_cases(shared_data):
        ev = flash_evidence(case.flash, case.noflash)
        assert flash_evidence(case.noflash, case.flash).score == pytest.approx(-ev.score, abs=1e-5)
        centre.append(ev.centre)
        scores.append(ev.score)
    assert len(scores) == 33
    assert min(scores) > -SWAP_MARGIN, scores
    assert sum(s >= SWAP_MARGIN for s in scores) >= 30, scores
    assert sum(c >= SWAP_MARGIN for c in centre) <= 20, centre
