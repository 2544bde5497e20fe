"""`flashvid eval --tables`: the paper's tables rebuilt on tiny generated data (the real-clip rows need ../shared,
the full-size run is in the issue's note)."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import numpy as np
import pytest
from flashvid.assets import path as asset_path

from flashvid.training.tables import PAPER, ROWS, build_tables, grades, row_config
from flashvid.training.train import load_config


@pytest.fixture()
def tiny_cfg(tmp_path: Path) -> dict:
    p = tmp_path / "cfg.json"
    p.write_text(
        json.dumps(
            {
                "size": 64,
                "frames": 2,
                "batch": 2,
                "workers": 0,
                "trimap": "gt",
                "downsample_ratios": [1.0],
                "validation_procedural": 2,
                "val_clips": 1,
                "foregrounds": [{"kind": "procedural", "count": 3, "seed": 0}],
                "backgrounds": [{"kind": "procedural", "count": 2, "size": 96}],
            }
        )
    )
    return load_config(p)


def test_grades_follow_the_papers_ranking_percentages() -> None:
    assert grades([5.0, 1.0, 3.0, 2.0, 4.0]) == [4, 0, 2, 1, 3]
    g = grades(list(np.linspace(0, 1, 100)))
    assert [g.count(k) for k in range(5)] == [20] * 5


def test_test_time_tables_report_seeded(tiny_cfg: dict, tmp_path: Path) -> None:
    ckpt = asset_path("models", "flashvid-rt.safetensors")
    kw = {"clips": 5, "size": 96, "frames": 2, "real_frames": 2, "log": lambda m: None}
    index = build_tables([1, 2], tmp_path / "rep", tiny_cfg, ckpt, **kw)
    assert index.name == "index.html" and (tmp_path / "rep" / "index.md").is_file()
    res = json.loads((tmp_path / "rep" / "results.json").read_text())["tables"]
    assert list(res["1"]["rows"]) == [
        "no replacement",
        "same subject, other pose (flash)",
        "same subject, other flash",
        "different subject (flash)",
    ]
    for row in res["1"]["rows"].values():
        assert set(row) == {"MSE", "SAD", "Grad", "Conn"} and all(np.isfinite(v) for v in row.values())
    spans = list(res["2"]["spans"].values())
    assert len(spans) == 5 and all(a[1] <= b[0] + 1e-9 for a, b in itertools.pairwise(spans))  # graded by the measure
    for n in (1, 2):
        assert (tmp_path / "rep" / f"table_{n}.png").stat().st_size > 5000
        assert (tmp_path / "rep" / f"sheet_{n}.png").stat().st_size > 5000
    md = (tmp_path / "rep" / "index.md").read_text()
    assert "Different identity (flash) | 59.37" in md  # the paper's row beside ours
    build_tables([2], tmp_path / "rep", tiny_cfg, ckpt, **kw)  # table 1 stays in the report
    assert "### Table 1" in (tmp_path / "rep" / "index.md").read_text()
    again = build_tables([1], tmp_path / "rep2", tiny_cfg, ckpt, **kw)
    res2 = json.loads((again.parent / "results.json").read_text())["tables"]
    # seeded: the same numbers again, to float rounding of threads; the person prior's soft thresholds and the
    # recurrent prior carry that rounding on (measured 1.1e-4 relative), an unseeded run differs by percents
    for row, vals in res["1"]["rows"].items():
        assert res2["1"]["rows"][row] == pytest.approx(vals, rel=1e-3)


def test_trained_rows_share_one_budget_and_can_be_remade(tiny_cfg: dict, tmp_path: Path) -> None:
    for table in (3, 4):
        cfgs = {name: row_config(tiny_cfg, table, name, 3) for name in ROWS[table]}
        assert {c["steps"] for c in cfgs.values()} == {3} and len(PAPER[table]["rows"]) == len(cfgs)
    t3 = {name: row_config(tiny_cfg, 3, name, 3) for name in ROWS[3]}
    assert t3["without FCM"]["model_settings"] == {"use_fcm": False}
    assert t3["box prompt"]["trimap"] == "box"
    assert row_config(tiny_cfg, 4, "synthesised only, pseudo flash", 3)["pseudo_flash"] is True
    ckpt = asset_path("models", "flashvid-rt.safetensors")
    index = build_tables([3], tmp_path / "rep", tiny_cfg, ckpt, clips=2, size=64, frames=2, train_steps=2)
    res = json.loads((index.parent / "results.json").read_text())["tables"]["3"]
    assert list(res["rows"]) == list(ROWS[3])
    rows = sorted((tmp_path / "rep" / "rows").iterdir())
    assert len(rows) == 4 and all((r / "config.json").is_file() and (r / "best.safetensors").is_file() for r in rows)
    assert all("flashvid train --config" in c for c in res["commands"])
    again = load_config(rows[0] / "config.json")  # relative paths in the file, the same data once read
    name = next(n for n in ROWS[3] if rows[0].name.endswith(n.replace(" ", "-").lower()))
    assert again["foregrounds"] == row_config(tiny_cfg, 3, name, 2)["foregrounds"]
    assert not any(
        Path(s["path"]).is_absolute()
        for s in json.loads((rows[0] / "config.json").read_text())["foregrounds"]
        if "path" in s
    )
    stamp = {r: (r / "best.safetensors").stat().st_mtime_ns for r in rows}
    build_tables([3], tmp_path / "rep", tiny_cfg, ckpt, clips=2, size=64, frames=2, train_steps=2)
    assert {r: (r / "best.safetensors").stat().st_mtime_ns for r in rows} == stamp  # trained rows are reused


def test_a_table_the_paper_does_not_have_is_refused(capsys) -> None:
    from flashvid.cli import main

    assert main(["eval", "--tables", "5", "--out", "unused"]) == 2
    err = capsys.readouterr().err
    assert "--tables 5" in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
