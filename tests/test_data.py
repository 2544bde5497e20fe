"""Synthesis physics, training clips, dataset readers, and a tiny training run."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from flashvid.keyframe.prior import srgb_to_linear
from flashvid.training.data.clips import make_clip
from flashvid.training.data.sources import (
    Foreground,
    read_fnf,
    read_foregrounds,
    read_image_alpha_folders,
    read_suffix_folder,
    read_videomatte,
)
from flashvid.training.data.synth import FlashLight, procedural_subject, render_flash, render_noflash, synthetic_pair


def test_inverse_square_light_model() -> None:
    h, w = 64, 64
    fg = np.full((h, w, 3), 0.4, np.float32)
    bg = np.full((h, w, 3), 0.4, np.float32)
    alpha = np.zeros((h, w), np.float32)
    alpha[:, :32] = 1.0
    rng = np.random.default_rng(0)
    for d in (2.0, 3.0):  # (at 5x the background gain, 8 %, is too near 8-bit quantisation to measure)
        light = FlashLight(d_ratio=d, power=2.0, exposure_n=0.3, exposure_f=0.3)
        n = srgb_to_linear(render_noflash(fg, alpha, bg, light, rng)).mean(2)
        f = srgb_to_linear(render_flash(fg, alpha, bg, light, rng)).mean(2)
        gain = f / n - 1.0  # flash light over ambient light = P cos^3 / d^2
        subject, back = gain[28:36, 24:30].mean(), gain[28:36, 34:40].mean()
        assert subject / back == pytest.approx(d * d, rel=0.06)


def _fg(seed: int = 0) -> Foreground:
    rng = np.random.default_rng(seed)
    f, a = procedural_subject(160, 160, rng)
    return Foreground((np.clip(f, 0, 1) * 255).astype(np.uint8), a, "p")


def test_clip_shapes_ranges_and_graded_motion() -> None:
    bg = (np.random.default_rng(1).random((200, 200, 3)) * 255).astype(np.uint8)
    bg = cv2.GaussianBlur(bg, (0, 0), 3)
    clip = make_clip(_fg(), bg, np.random.default_rng(2), size=96, frames=3, trimap="gt")
    assert clip.flash.shape == (96, 96, 3) and clip.frames.shape == (3, 96, 96, 3) and clip.alphas.shape == (3, 96, 96)
    assert clip.fgrs.shape == (3, 96, 96, 3) and 0 <= clip.alphas.min() and clip.alphas.max() <= 1
    assert set(np.unique(clip.trimap).tolist()) <= {0, 128, 255} and clip.trimap_source == "gt"
    assert np.abs(clip.alphas[0] - clip.keyframe_alpha).mean() > 0.005  # the subject moved
    still = make_clip(_fg(), bg, np.random.default_rng(3), size=96, frames=3, motion=0.0, bg_motion=0.0, trimap="gt")
    np.testing.assert_allclose(still.alphas[2], still.keyframe_alpha, atol=0.02)
    shifts = []
    for m in (0.0, 0.5, 1.0):
        c = make_clip(_fg(), bg, np.random.default_rng(4), size=96, frames=3, motion=0.0, bg_motion=m, trimap="gt")
        shifts.append(float(np.abs(c.bgs[-1] - c.bgs[0]).mean()))
    assert shifts[0] < 0.01 < shifts[1] < shifts[2] or shifts[0] < shifts[1] <= shifts[2]
    pseudo = make_clip(_fg(), bg, np.random.default_rng(5), size=96, frames=1, pseudo=True, trimap="gt")
    assert pseudo.flash.mean() > pseudo.noflash.mean()


def test_runtime_trimap_path_in_clips() -> None:
    bg = cv2.GaussianBlur((np.random.default_rng(1).random((200, 200, 3)) * 255).astype(np.uint8), (0, 0), 3)
    light = FlashLight(d_ratio=5.0, power=2.5, exposure_f=0.33)
    clip = make_clip(_fg(), bg, np.random.default_rng(6), size=128, frames=1, trimap="runtime", light=light)
    assert clip.trimap_source == "runtime"
    gt = clip.keyframe_alpha > 0.5
    assert ((clip.mask > 0) == gt).mean() > 0.9


def _write(path: Path, img: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), img)


def test_dataset_readers(tmp_path: Path) -> None:
    img = np.full((40, 30, 3), 100, np.uint8)
    alpha = np.zeros((40, 30), np.uint8)
    alpha[10:30, 5:25] = 255
    _write(tmp_path / "suffix" / "a.jpg", img)
    _write(tmp_path / "suffix" / "a_alpha.png", alpha)
    _write(tmp_path / "p3m" / "blurred_image" / "x1.jpg", img)
    _write(tmp_path / "p3m" / "mask" / "x1.png", alpha)
    _write(tmp_path / "p3m" / "blurred_image" / "x2.jpg", img)  # no matte: skipped
    for i in range(3):
        _write(tmp_path / "vm" / "fgr" / "0000" / f"{i:05d}.jpg", img)
        _write(tmp_path / "vm" / "pha" / "0000" / f"{i:05d}.jpg", alpha)
    _write(tmp_path / "fnf" / "s1" / "flash.png", img + 50)
    _write(tmp_path / "fnf" / "s1" / "noflash.png", img)
    _write(tmp_path / "fnf" / "s1" / "alpha.png", alpha)
    s = read_suffix_folder(tmp_path / "suffix")
    assert [f.name for f in s] == ["a"] and s[0].alpha.max() == 1.0 and s[0].image.shape == (40, 30, 3)
    p = read_image_alpha_folders(tmp_path / "p3m", "blurred_image", "mask")
    assert [f.name for f in p] == ["x1"]
    v = read_videomatte(tmp_path / "vm", every=2)
    assert [f.name for f in v] == ["0000/00000", "0000/00002"]
    ((flash, noflash, a),) = read_fnf(tmp_path / "fnf")
    assert flash.mean() > noflash.mean() and a.shape == (40, 30)
    assert len(read_foregrounds({"kind": "procedural", "count": 2, "seed": 5})) == 2


def test_tiny_training_run_resumes_and_holds_out(tmp_path: Path) -> None:
    torch = pytest.importorskip("torch")
    from flashvid.network import build_model
    from flashvid.training.train import load_config, load_sources, train

    pair = synthetic_pair(96, 96, seed=1, light=FlashLight(d_ratio=4.0, power=2.5, exposure_f=0.33))
    _write(tmp_path / "fnf" / "a" / "flash.png", pair.flash[:, :, ::-1])
    _write(tmp_path / "fnf" / "a" / "noflash.png", pair.noflash[:, :, ::-1])
    _write(tmp_path / "fnf" / "a" / "alpha.png", (pair.alpha * 255).astype(np.uint8))
    cfg_path = tmp_path / "cfg.json"
    cfg_path.write_text(
        json.dumps(
            {
                "size": 64,
                "frames": 2,
                "batch": 2,
                "steps": 3,
                "val_every": 3,
                "val_clips": 2,
                "workers": 0,
                "trimap": "gt",
                "downsample_ratios": [1.0],
                "validation_procedural": 1,
                "foregrounds": [
                    {"kind": "procedural", "count": 3, "seed": 0},
                    {"kind": "fnf", "path": "fnf", "weight": 1.0},
                ],
                "backgrounds": [{"kind": "procedural", "count": 2, "size": 96}],
            }
        )
    )
    cfg = load_config(cfg_path)
    groups, val, _ = load_sources(cfg)
    assert len(groups) == 2 and isinstance(groups[1][0][0], tuple)  # the real-pair group
    assert {f.name for f in val}.isdisjoint({f.name for f in groups[0][0]})
    torch.set_num_threads(1)
    summary = train(cfg, tmp_path / "run", log=lambda *_: None)
    assert summary["steps"] == 3 and np.isfinite(summary["best_score"])
    assert {p.name for p in (tmp_path / "run").iterdir()} >= {"last.pt", "best.safetensors", "history.json"}
    again = train(
        load_config(cfg_path, steps=4, val_every=4, snapshots=True), tmp_path / "run", resume=True, log=lambda *_: None
    )
    assert again["steps"] == 4 and [h["step"] for h in again["history"]] == [3, 4]
    model = build_model("flashvid-rt", tmp_path / "run" / "best.safetensors")
    assert model.config["use_fcm"] is True
    # snapshots: only the validated steps of the run that asked for them, fp16, loadable strictly
    from safetensors import safe_open

    assert sorted(p.name for p in (tmp_path / "run").glob("step_*")) == ["step_000004.safetensors"]
    with safe_open(str(tmp_path / "run" / "step_000004.safetensors"), framework="pt") as f:
        assert f.metadata()["step"] == "4"
        assert {f.get_tensor(k).dtype for k in f.keys() if f.get_tensor(k).is_floating_point()} == {torch.float16}
    snap = build_model("flashvid-rt", tmp_path / "run" / "step_000004.safetensors").state_dict()
    last = torch.load(tmp_path / "run" / "last.pt", weights_only=True)["model"]  # the step-4 weights, fp32
    assert all(torch.allclose(snap[k].float(), last[k].float(), atol=2e-3, rtol=1e-3) for k in last)
    # a time limit ends the run early and anneals the learning rate inside it: it is 0 where the time is up
    short = train(load_config(cfg_path, steps=50), tmp_path / "short", time_limit_min=1e-6, log=lambda *_: None)
    assert short["stopped"] == "time limit" and short["steps"] == 1
    assert short["history"][-1]["lr"] == pytest.approx(0.0, abs=1e-12)
    longer = train(load_config(cfg_path, steps=2, val_every=1), tmp_path / "long", log=lambda *_: None)
    assert longer["history"][0]["lr"] == pytest.approx(1e-3 * 0.02 * 0.5)  # by steps: warm-up 2/100, cosine at 1/2


def test_people_video_labels_follow_the_keyframe_subject_only() -> None:
    """Pseudo-labels keep the keyframe's person and whoever overlaps where they were; a second person elsewhere
    is background, as the keyframe would say."""
    from flashvid.training.data.clips import follow_subject

    masks = [np.zeros((60, 90), np.float32) for _ in range(3)]
    for t, m in enumerate(masks):
        m[10:50, 5 + 3 * t : 30 + 3 * t] = 1.0  # the subject, moving right
        m[20:50, 70:85] = 1.0  # someone at the edge, smaller
    out = follow_subject(masks)
    for t, o in enumerate(out):
        assert o[10:50, 5 + 3 * t : 30 + 3 * t].min() == 1.0
        assert o[:, 60:].max() == 0.0


def test_distractor_is_in_the_frames_but_not_the_target(shared_data) -> None:
    from flashvid.training.data.clips import make_clip
    from flashvid.training.data.sources import read_suffix_folder

    fgs = read_suffix_folder(shared_data / "portraits", max_side=320)
    bg = np.full((200, 200, 3), 90, np.uint8)
    plain = make_clip(fgs[0], bg, np.random.default_rng(4), size=128, frames=2, trimap="gt")
    with_d = make_clip(fgs[0], bg, np.random.default_rng(4), size=128, frames=2, trimap="gt", distractor=fgs[1])
    np.testing.assert_array_equal(plain.alphas, with_d.alphas)  # same subject, same target
    from flashvid.training.data.clips import _add_distractor

    canvas = np.full((160, 160, 3), 0.2, np.float32)
    pasted = _add_distractor(canvas, fgs[1], 128, np.random.default_rng(0))
    assert (np.abs(pasted - canvas).max(axis=-1) > 0.05).mean() > 0.03  # a person-sized change in the background


def test_other_subject_swaps_to_the_most_overlapping_keyframe() -> None:
    """The different-identity case: with ``overlap`` the keyframe comes from the clip whose subject stands where
    this one does, so position cannot tell them apart; the target becomes no subject."""
    import torch

    from flashvid.training.train import other_subject

    b, h, w = 3, 8, 8
    kalpha = torch.zeros(b, 1, h, w)
    kalpha[0, :, :, :4] = 1  # left
    kalpha[1, :, :, 4:] = 1  # right
    kalpha[2, :, :, :3] = 1  # left too: 0's best match
    batch = {
        "flash": torch.arange(b, dtype=torch.float32).view(b, 1, 1, 1).expand(b, 3, h, w).clone(),
        "trimap": torch.zeros(b, 3, h, w),
        "kalpha": kalpha.clone(),
        "alphas": torch.ones(b, 2, 1, h, w),
        "frames": torch.rand(b, 2, 3, h, w),
        "bgs": torch.zeros(b, 2, 3, h, w),
        "subject": torch.tensor([10, 11, 12]),
    }
    picked = other_subject(batch, 1.0, torch.Generator().manual_seed(0), match="overlap")
    assert picked.all()
    assert batch["flash"][0, 0, 0, 0] == 2 and batch["flash"][2, 0, 0, 0] == 0  # left <-> left
    assert torch.equal(batch["kalpha"][0], kalpha[2])
    assert batch["alphas"].abs().sum() == 0 and torch.equal(batch["bgs"], batch["frames"])


def test_false_blobs_in_the_prior_touch_the_subject_when_asked() -> None:
    """`perturbed_prior(..., attached=1)` puts its false blob beside the subject (the clutter a matte creeps into);
    with ``attached=0`` (the shipped config) the blob lands anywhere, often apart from it."""
    import torch

    from flashvid.training.augment import perturbed_prior

    alpha = torch.zeros(1, 1, 64, 64)
    alpha[..., 28:36, 28:36] = 1.0

    def touches(attached: float, seed: int) -> bool | None:
        def prior(blob: float) -> np.ndarray:
            gen = torch.Generator().manual_seed(seed)
            return (perturbed_prior(alpha, (64, 64), gen, blob=blob, attached=attached)[0, 0] > 0.5).numpy()

        without, with_blob = prior(0.0), prior(1.0)  # the same perturbation, the blob its only difference
        blob = with_blob & ~without
        if not without.any() or not blob.any():  # the prior was dropped: no subject to be beside
            return None
        return bool((cv2.dilate(without.astype(np.uint8), np.ones((3, 3), np.uint8)) > 0)[blob].any())

    beside = [t for t in (touches(1.0, s) for s in range(40)) if t is not None]
    anywhere = [t for t in (touches(0.0, s) for s in range(40)) if t is not None]
    assert len(beside) >= 25 and all(beside), beside
    assert len(anywhere) >= 25 and sum(not t for t in anywhere) >= 10, anywhere


def test_other_subject_never_pairs_a_person_with_themselves() -> None:
    """Two clips of one person (the Intel clips: five people, twenty clips) are not "someone else": pairing them
    would teach the matte to drop its own subject. A clip whose batch holds only its own person stays as it is."""
    import torch

    from flashvid.training.data.people import someone_else, subject_id
    from flashvid.training.train import other_subject

    b, h, w = 3, 8, 8
    kalpha = torch.zeros(b, 1, h, w)
    kalpha[0, :, :, :4] = 1
    kalpha[1, :, :, 4:] = 1
    kalpha[2, :, :, :4] = 1  # stands exactly where clip 0's subject does, and is the same person
    ids = [subject_id(n) for n in ("asl_again", "asl_bird", "asl_brother")]
    assert ids[0] == ids[2] != ids[1]

    def batch_of(rows: list[int]) -> dict[str, torch.Tensor]:
        n = len(rows)
        return {
            "flash": torch.tensor(rows, dtype=torch.float32).view(n, 1, 1, 1).expand(n, 3, h, w).clone(),
            "trimap": torch.zeros(n, 3, h, w),
            "kalpha": kalpha[rows].clone(),
            "alphas": torch.ones(n, 2, 1, h, w),
            "frames": torch.rand(n, 2, 3, h, w),
            "bgs": torch.zeros(n, 2, 3, h, w),
            "subject": torch.tensor([ids[r] for r in rows]),
        }

    for match, want in (("overlap", [1, 0, 1]), ("next", [1, 2, 1])):
        batch = batch_of([0, 1, 2])
        assert other_subject(batch, 1.0, torch.Generator().manual_seed(0), match=match).all()
        assert [int(batch["flash"][i, 0, 0, 0]) for i in range(b)] == want, match
    alone = batch_of([0, 2])  # two clips, one person
    assert not other_subject(alone, 1.0, torch.Generator().manual_seed(0), match="overlap").any()
    assert alone["alphas"].abs().sum() > 0 and alone["flash"][1, 0, 0, 0] == 2
    names = ["asl_help", "asl_again", "asl_brother", "asl_book"]
    assert someone_else(names, 0) == 3 and someone_else(names, 3) == 0 and someone_else(names[:3], 0) is None


def test_checkpoint_selection_prefers_real_footage_that_collapses_for_someone_else() -> None:
    from flashvid.training.train import selection_score

    keeps_everyone = {"real_iou": 0.95, "real_other_iou": 0.94, "mse_unknown": 0.05}
    tells_apart = {"real_iou": 0.93, "real_other_iou": 0.40, "mse_unknown": 0.08}
    lost_the_person = {"real_iou": 0.60, "real_other_iou": 0.05, "mse_unknown": 0.04}
    s = {k: selection_score(v, 0.9) for k, v in locals().items() if isinstance(v, dict)}
    assert s["tells_apart"] > s["keeps_everyone"] > s["lost_the_person"]
    assert selection_score({"mse_unknown": 0.05}, 0.9) > selection_score({"mse_unknown": 0.06}, 0.9)


def test_people_video_decodes_with_opencv_and_labels_every_frame(tmp_path: Path) -> None:
    """Training decodes the people clips with OpenCV (no PyAV needed where it trains) and labels each frame."""
    av = pytest.importorskip("av")
    from flashvid.training.data.sources import PeopleVideo

    path = tmp_path / "asl_test.mkv"
    frames = []
    with av.open(str(path), "w") as c:
        s = c.add_stream("libx264", rate=10)
        s.width, s.height, s.pix_fmt = 640, 360, "yuv420p"
        for t in range(5):
            img = np.full((360, 640, 3), 40, np.uint8)
            img[100:300, 200 + 10 * t : 400 + 10 * t] = 200
            frames.append(img)
            c.mux(s.encode(av.VideoFrame.from_ndarray(img, format="rgb24")))
        c.mux(s.encode())
    video = PeopleVideo(path, max_side=320)
    imgs, masks = video.load()
    assert imgs.shape == (5, 180, 320, 3) and imgs.dtype == np.uint8 and masks.shape == (5, 180, 320)
    assert masks.dtype == np.float32 and 0.0 <= masks.min() and masks.max() <= 1.0
    small = cv2.resize(frames[2], (320, 180), interpolation=cv2.INTER_AREA)
    assert np.abs(imgs[2].astype(int) - small.astype(int)).mean() < 4  # the same picture, RGB order kept
    assert imgs[2, 90, 150:170].mean() > 150 and imgs[2, 10, 10].mean() < 80


def test_pack_training_data_keeps_what_training_reads(tmp_path: Path) -> None:
    """scripts/pack_training_data.py: the config's sources only, big images at the loaders' size, clips held
    apart from training left out, and the packed folder reads like the original."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "pack_training_data", Path(__file__).parents[1] / "scripts" / "pack_training_data.py"
    )
    assert spec is not None and spec.loader is not None
    pack = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(pack)
    src = tmp_path / "data"
    img = np.zeros((1000, 800, 3), np.uint8)
    img[200:800, 200:600] = 180
    alpha = np.zeros((1000, 800), np.uint8)
    alpha[200:800, 200:600] = 255
    _write(src / "fg" / "big.jpg", img)
    _write(src / "fg" / "big_alpha.png", alpha)
    _write(src / "fg" / "small.jpg", img[:100, :80])
    _write(src / "fg" / "small_alpha.png", alpha[:100, :80])
    _write(src / "unused" / "x.jpg", img)
    for name in ("asl_a.mkv", "asl_b.mkv", "other.mp4"):
        (src / "vid").mkdir(exist_ok=True)
        (src / "vid" / name).write_bytes(b"not decoded here")
    cfg = tmp_path / "cfg.json"
    cfg.write_text(
        json.dumps(
            {
                "foregrounds": [
                    {"kind": "suffix", "path": "data/fg"},
                    {"kind": "people-videos", "path": "data/vid", "glob": "asl_*.mkv"},
                ],
                "validation_videos": ["asl_b"],
            }
        )
    )
    dst = tmp_path / "packed"
    assert pack.main([str(src), str(dst), "--config", str(cfg)]) == 0
    got = sorted(str(p.relative_to(dst)) for p in dst.rglob("*") if p.is_file())
    assert got == ["fg/big.jpg", "fg/big_alpha.png", "fg/small.jpg", "fg/small_alpha.png", "vid/asl_a.mkv"]
    assert cv2.imread(str(dst / "fg" / "big_alpha.png"), cv2.IMREAD_UNCHANGED).shape == (640, 512)
    assert (dst / "fg" / "small.jpg").read_bytes() == (src / "fg" / "small.jpg").read_bytes()
    a, b = read_suffix_folder(src / "fg"), read_suffix_folder(dst / "fg")
    assert [f.name for f in a] == [f.name for f in b]
    assert np.abs(a[0].alpha - b[0].alpha).max() < 0.02 and np.abs(a[0].image.astype(int) - b[0].image).mean() < 2
    assert pack.main([str(tmp_path / "missing"), str(dst), "--config", str(cfg)]) == 2


def test_camera_path_still_and_moving() -> None:
    """`camera_path`: amount 0 is one crop for every frame at 1-1.3x; amount 1 zooms and pans across the clip,
    framing people from far (below 1x, mirrored edges) to close, the same for the same seed."""
    from flashvid.training.data.clips import camera_path

    still = camera_path(270, 480, 160, 4, np.random.default_rng(0), 0.0)
    assert all(np.array_equal(v, still[0]) for v in still)
    base = 160 / 270
    assert 1.0 * base <= still[0][0, 0] <= 1.3 * base and still[0][0, 0] == still[0][1, 1]
    scales, moved = [], 0
    for seed in range(40):
        views = camera_path(270, 480, 160, 4, np.random.default_rng(seed), 1.0)
        assert np.array_equal(views[0], camera_path(270, 480, 160, 4, np.random.default_rng(seed), 1.0)[0])
        scales.append(views[0][0, 0] / base)
        zoom = views[-1][0, 0] / views[0][0, 0]
        assert 0.75 - 1e-9 <= zoom <= 1.25 + 1e-9
        # the frame point at the first view's centre drifts by at most a quarter of the square (plus zoom)
        cx = (80 - views[0][0, 2]) / views[0][0, 0]
        moved += abs(views[-1][0, 0] * cx + views[-1][0, 2] - 80) > 2
    assert min(scales) < 1.0 < 2.0 < max(scales) and moved > 20


def test_camera_motion_clip_from_a_wide_shot() -> None:
    """A clip of a moving camera keeps its frames and labels registered: the label moves with the picture."""
    from flashvid.training.data.clips import clip_from_video

    video = np.full((12, 270, 480, 3), 90, np.uint8)
    masks = np.zeros((12, 270, 480), np.float32)
    video[:, 100:220, 200:260] = 220  # a bright standing figure, its label exactly on it
    masks[:, 100:220, 200:260] = 1.0
    for seed in range(6):
        clip = clip_from_video(video, masks, np.random.default_rng(seed), size=128, frames=3, trimap="gt", camera=1.0)
        assert clip.frames.shape == (3, 128, 128, 3) and clip.alphas.shape == (3, 128, 128)
        for img, alpha in zip(clip.frames, clip.alphas):
            if alpha.sum() > 20:
                bright = img.mean(axis=2) > 160
                inside = alpha > 0.5
                assert (bright & inside).sum() / inside.sum() > 0.9


def test_people_video_labels_two_segmenters_agree_on(shared_data: Path) -> None:
    """With `agree_with` (DeepLabV3) the labels are the least of MediaPipe's and DeepLab's: on the wide classroom
    shot MediaPipe alone takes desks for people; the agreed labels cover far less of the frame."""
    from flashvid.training.data.sources import PeopleVideo

    clip = shared_data / "videos-more" / "intel_classroom.mp4"
    deeplab = shared_data / "weights" / "deeplabv3_mnv2_pascal_quant.tflite"
    if not clip.is_file() or not deeplab.is_file():
        pytest.skip("needs ../shared/data videos-more and weights")
    _, alone = PeopleVideo(clip, max_side=240).load()
    frames, agreed = PeopleVideo(clip, max_side=240, agree_with=str(deeplab)).load()
    assert agreed.shape == alone.shape == frames.shape[:3]
    assert (agreed <= alone + 1e-6).all()
    assert float((agreed > 0.5).mean()) < 0.5 * float((alone > 0.5).mean())
    assert float((agreed > 0.5).mean()) > 0.01  # the people are still there
