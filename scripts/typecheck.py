"""Type-check the one installed package as it is imported: flashvid with flashvid.engines, flashvid.ui and
flashvid.assets in their places.

The design keeps engines/, ui/ and assets/ as top-level folders that install as flashvid.engines / .ui / .assets
(setuptools package-dir), a mapping mypy cannot follow. So this script lays out the package as Python sees it, a
tree of links under .typecheck/ (flashvid/* plus flashvid/engines -> engines/, flashvid/ui -> ui/,
flashvid/assets -> assets/), runs mypy on it with pyproject's settings and prints each path as the source file
it is (ui/app.py, not .typecheck/flashvid/ui/app.py). Exit status: mypy's.

    python scripts/typecheck.py [MYPY_ARGS...]
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MAPPED = {"engines": "engines", "ui": "ui", "assets": "assets"}


def lay_out(tree: Path) -> Path:
    """The package as imported, made of links into the checkout; returns its folder."""
    if tree.exists():
        shutil.rmtree(tree)
    pkg = tree / "flashvid"
    pkg.mkdir(parents=True)
    for child in (ROOT / "flashvid").iterdir():
        if child.name != "__pycache__":
            (pkg / child.name).symlink_to(child)
    for name, folder in MAPPED.items():
        (pkg / name).symlink_to(ROOT / folder, target_is_directory=True)
    return pkg


def real_path(line: str) -> str:
    """flashvid/ui/app.py:3: ... -> ui/app.py:3: ...; flashvid/api.py -> flashvid/api.py."""

    def fix(m: re.Match[str]) -> str:
        parts = m.group(0).split("/")
        if len(parts) > 2 and parts[1] in MAPPED:
            return "/".join([MAPPED[parts[1]], *parts[2:]])
        return m.group(0)

    return re.sub(r"flashvid/[\w/]+\.pyi?", fix, line)


def main(argv: list[str]) -> int:
    tree = ROOT / ".typecheck"
    lay_out(tree)
    cmd = [sys.executable, "-m", "mypy", "--config-file", str(ROOT / "pyproject.toml"), *argv, "flashvid"]
    proc = subprocess.run(cmd, cwd=tree, capture_output=True, text=True, env={**os.environ, "MYPYPATH": ""})
    for line in (proc.stdout + proc.stderr).splitlines():
        print(real_path(line))
    return proc.returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
