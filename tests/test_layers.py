"""The layer contract: imports point one way (see README "Architecture").

    keyframe, network  ->  know nothing of video, engines, the UI, training or the assembly
    compose            ->  no video decoding
    engines            ->  network only (no video, UI, assembly)
    video              ->  no UI, no CLI
    ui                 ->  the library's public faces only: no network internals, no training
and no module imports the old top-level names `engines` / `ui`.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FOLDERS = {"flashvid": "flashvid", "engines": "flashvid.engines", "ui": "flashvid.ui", "assets": "flashvid.assets"}

RULES: list[tuple[str, tuple[str, ...]]] = [
    (
        "flashvid.keyframe",
        (
            "flashvid.video",
            "flashvid.engines",
            "flashvid.ui",
            "flashvid.training",
            "flashvid.api",
            "flashvid.cli",
            "flashvid.matter",
            "flashvid.network",
        ),
    ),
    (
        "flashvid.network",
        (
            "flashvid.video",
            "flashvid.engines",
            "flashvid.ui",
            "flashvid.training",
            "flashvid.api",
            "flashvid.cli",
            "flashvid.matter",
            "flashvid.keyframe",
        ),
    ),
    ("flashvid.compose", ("flashvid.video", "flashvid.ui", "flashvid.api", "flashvid.cli")),
    ("flashvid.engines", ("flashvid.video", "flashvid.ui", "flashvid.api", "flashvid.cli", "flashvid.training")),
    ("flashvid.video", ("flashvid.ui", "flashvid.cli", "flashvid.training")),
    ("flashvid.matter", ("flashvid.video", "flashvid.ui", "flashvid.cli", "flashvid.training")),
    (
        "flashvid.ui",
        (
            "flashvid.network.rt",
            "flashvid.network.dfm",
            "flashvid.network.build",
            "flashvid.network.preprocess",
            "flashvid.training",
        ),
    ),
]


def module_name(path: Path) -> str:
    rel = path.relative_to(ROOT)
    parts = [FOLDERS[rel.parts[0]], *rel.parts[1:]]
    parts[-1] = parts[-1].removesuffix(".py")
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(path: Path) -> set[str]:
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.add(node.module)
            out |= {f"{node.module}.{a.name}" for a in node.names}
    return out


MODULES = {module_name(p): p for d in FOLDERS for p in sorted((ROOT / d).rglob("*.py"))}


def test_the_tree_maps_to_one_package():
    assert "flashvid.engines.base" in MODULES and "flashvid.ui.app" in MODULES and "flashvid.keyframe.core" in MODULES
    assert all(name.startswith("flashvid") for name in MODULES)


@pytest.mark.parametrize("layer,forbidden", RULES, ids=[r[0] for r in RULES])
def test_layers_point_one_way(layer, forbidden):
    bad = []
    for name, path in MODULES.items():
        if name != layer and not name.startswith(layer + "."):
            continue
        for imp in imports_of(path):
            for f in forbidden:
                hit = imp.startswith(f) if f.endswith(".") else imp == f or imp.startswith(f + ".")
                if hit and not imp.startswith(layer):
                    bad.append(f"{name} imports {imp}")
    assert not bad, "\n".join(bad)


def test_no_old_top_level_names():
    bad = [
        f"{n} imports {i}" for n, p in MODULES.items() for i in imports_of(p) if i.split(".")[0] in ("engines", "ui")
    ]
    assert not bad, "\n".join(bad)


def test_a_forbidden_import_is_caught(tmp_path):
    """The checker itself: a module that imports the video layer from the network is reported."""
    f = tmp_path / "bad.py"
    f.write_text("from flashvid.video.sources import VideoFile\nimport flashvid.ui.app\n")
    assert {"flashvid.video.sources", "flashvid.video.sources.VideoFile", "flashvid.ui.app"} <= imports_of(f)
