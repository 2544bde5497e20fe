"""Where an export's files go: the output's name for a format, the partial result's name, placing a finished
file without replacing one that appeared meanwhile, and cleaning up what killed runs left."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

#: a format's file extension (png: a folder)
EXTENSIONS = {"mp4": ".mp4", "prores": ".mov", "webm": ".webm", "matte": ".mp4", "png": ""}


def partial_path(path: Path) -> Path:
    """Where an interrupted or failed export keeps what it wrote: ``NAME.partial.EXT`` beside the target."""
    return path.with_name(f"{path.stem}.partial{path.suffix}")


def free_partial_path(path: Path) -> Path:
    """`partial_path`, or when something is there already (kept by an earlier run, the user's own) the first free
    ``NAME.partial-N.EXT``: a partial result never replaces a file."""
    first = partial_path(path)
    if not os.path.lexists(first):
        return first
    n = 2
    while os.path.lexists(candidate := path.with_name(f"{path.stem}.partial-{n}{path.suffix}")):
        n += 1
    return candidate


def place_exclusively(tmp: Path, target: Path) -> bool:
    """Move file `tmp` to `target` only if nothing is at `target` (a hard link cannot replace: two runs racing
    for one name cannot both win); returns False, `tmp` untouched, when `target` was taken."""
    try:
        os.link(tmp, target)
    except FileExistsError:
        return False
    except OSError:  # a file system without hard links: the rename's check-then-act window is the best there is
        if os.path.lexists(target):
            return False
        os.replace(tmp, target)
        return True
    os.unlink(tmp)
    return True


def clean_stale_partials(path: Path) -> list[Path]:
    """Remove hidden temporary files ``.NAME.partial-PID.EXT`` that runs killed outright (SIGKILL, power loss)
    left beside `path`: those whose process is gone. Returns what was removed."""
    removed = []
    for p in path.parent.glob(f".{path.stem}.partial-*{path.suffix}"):
        pid_text = p.name[len(f".{path.stem}.partial-") : len(p.name) - len(path.suffix)]
        if not pid_text.isdigit() or int(pid_text) == os.getpid():
            continue
        try:
            os.kill(int(pid_text), 0)
            continue  # that run is still going
        except ProcessLookupError:
            pass
        except PermissionError:
            continue
        if p.is_dir():
            shutil.rmtree(p, ignore_errors=True)
        else:
            p.unlink(missing_ok=True)
        removed.append(p)
    return removed


def output_path(path: str | os.PathLike[str], fmt: str) -> Path:
    """`path` with the format's extension when it has none."""
    p = Path(path)
    return p if p.suffix or fmt == "png" else p.with_suffix(EXTENSIONS[fmt])
