"""`flashvid keyframe` and `flashvid synth-pair`: outputs, the summary line, and one-line errors with exit 2."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from flashvid.cli import main
from flashvid.imageio import read_image
from flashvid.keyframe import Keyframe


@pytest.fixture(scope="module")
def pair_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("pair")
    assert main(["synth-pair", "--out-dir", str(d), "--width", "320", "--height", "240", "--seed", "3"]) == 0
    return d


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def test_keyframe_writes_file_pictures_and_summary(pair_dir: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "kf.flashkey"
    code, stdout, _ = run(
        [
            "keyframe",
            "--flash",
            str(pair_dir / "flash.png"),
            "--noflash",
            str(pair_dir / "noflash.png"),
            "--out",
            str(out),
            "--band",
            "15",
        ],
        capsys,
    )
    assert code == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["kf.flashkey", "kf_mask.png", "kf_ratio.png", "kf_trimap.png"]
    kf = Keyframe.load(out)
    assert kf.settings["band"] == 15
    line = stdout.strip()
    assert "\n" not in line and "subject" in line and "points" in line and "inside" in line
    area = float(line.split("subject ")[1].split(" %")[0])
    assert abs(area - 100 * kf.mask.mean()) < 0.06
    alpha = cv2.imread(str(pair_dir / "alpha.png"), cv2.IMREAD_GRAYSCALE)
    assert ((kf.mask > 0) == (alpha > 127)).mean() > 0.97
    assert read_image(tmp_path / "kf_ratio.png").shape == (240, 320, 3)


def _expect_error(argv: list[str], tmp_path: Path, capsys, *needles: str) -> None:
    before = set(tmp_path.rglob("*"))
    code, stdout, stderr = run(argv, capsys)
    assert code == 2
    assert stdout == ""
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("flashvid: error: ")
    for n in needles:
        assert n in lines[0], lines[0]
    assert set(tmp_path.rglob("*")) == before, "an error must write nothing"


def test_bad_inputs_give_one_line_and_write_nothing(pair_dir: Path, tmp_path: Path, capsys) -> None:
    f, n = str(pair_dir / "flash.png"), str(pair_dir / "noflash.png")
    out = str(tmp_path / "kf.flashkey")
    _expect_error(
        ["keyframe", "--flash", str(tmp_path / "nope.png"), "--noflash", n, "--out", out],
        tmp_path,
        capsys,
        "nope.png",
        "no such image file",
    )
    junk = tmp_path / "junk.png"
    junk.write_text("not an image")
    _expect_error(
        ["keyframe", "--flash", f, "--noflash", str(junk), "--out", out], tmp_path, capsys, "junk.png", "cannot read"
    )
    small = tmp_path / "small.png"
    cv2.imwrite(str(small), cv2.imread(n)[:200, :300])
    _expect_error(
        ["keyframe", "--flash", f, "--noflash", str(small), "--out", out], tmp_path, capsys, "small.png", "--resize"
    )
    _expect_error(["keyframe", "--flash", n, "--noflash", f, "--out", out], tmp_path, capsys, "swapped")
    _expect_error(["keyframe", "--flash", n, "--noflash", n, "--out", out], tmp_path, capsys, "too weak", "closer")
    torch.save({"w": torch.zeros(2)}, tmp_path / "x.pth")
    _expect_error(
        ["keyframe", "--flash", f, "--noflash", n, "--out", out, "--sam-checkpoint", str(tmp_path / "x.pth")],
        tmp_path,
        capsys,
        "x.pth",
        "not a segment-anything",
    )
    _expect_error(
        ["keyframe", "--flash", f, "--noflash", n, "--out", str(tmp_path / "no" / "kf.flashkey")],
        tmp_path,
        capsys,
        "no such folder",
    )


def test_resize_flag_and_converted_formats(pair_dir: Path, tmp_path: Path, capsys) -> None:
    small = tmp_path / "small.png"
    cv2.imwrite(str(small), cv2.resize(cv2.imread(str(pair_dir / "noflash.png")), (160, 120)))
    gray16 = tmp_path / "gray16.png"
    g = cv2.cvtColor(cv2.imread(str(pair_dir / "flash.png")), cv2.COLOR_BGR2GRAY).astype(np.uint16) * 257
    cv2.imwrite(str(gray16), g)
    code, _, err = run(
        [
            "keyframe",
            "--flash",
            str(gray16),
            "--noflash",
            str(small),
            "--resize",
            "--out",
            str(tmp_path / "kf.flashkey"),
        ],
        capsys,
    )
    assert code == 0, err
    assert Keyframe.load(tmp_path / "kf.flashkey").flash.shape == (240, 320, 3)


def test_sam_checkpoint_through_the_cli(pair_dir: Path, tmp_path: Path, tiny_sam_checkpoint: Path, capsys) -> None:
    code, stdout, err = run(
        [
            "keyframe",
            "--flash",
            str(pair_dir / "flash.png"),
            "--noflash",
            str(pair_dir / "noflash.png"),
            "--sam-checkpoint",
            str(tiny_sam_checkpoint),
            "--out",
            str(tmp_path / "kf.flashkey"),
        ],
        capsys,
    )
    assert code == 0, err
    assert "SamSegmenter" in stdout
