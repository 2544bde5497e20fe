"""Official weights users may download once: `flashvid weights fetch sam-vit-b`.

Each entry has its official URL and SHA-256. A download goes to ``NAME.part`` in the cache folder, resumes from
there with an HTTP range request after an interruption, is checked against the SHA-256 and only then renamed to
its final name. Nothing in flashvid downloads at run time: `--sam-checkpoint sam-vit-b` resolves the name to the
cached file and says how to fetch it when it is missing.
"""

from __future__ import annotations

import hashlib
import os
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from flashvid.errors import FlashvidError


@dataclass(frozen=True)
class WeightSpec:
    filename: str
    url: str
    sha256: str
    size_mb: int
    model_type: str
    licence: str

    @property
    def max_bytes(self) -> int:
        """The most a download of these weights may bring: their size (decimal MB) with 1 % and 1 MB to spare; a
        source that sends more is not the official file (an endless one would fill the disk)."""
        return int(self.size_mb * 1_010_000) + 1_000_000


WEIGHTS: dict[str, WeightSpec] = {
    "sam-vit-b": WeightSpec(
        "sam_vit_b_01ec64.pth",
        "https://dl.fbaipublicfiles.com/segment_anything/sam_vit_b_01ec64.pth",
        "ec2df62732614e57411cdcf32a23ffdf28910380d03139ee0f4fcbe91eb8c912",
        375,
        "vit_b",
        "Apache-2.0",
    ),
    "sam-vit-l": WeightSpec(
        "sam_vit_l_0b3195.pth",
        "https://dl.fbaipublicfiles.com/segment_anything/sam_vit_l_0b3195.pth",
        "3adcc4315b642a4d2101128f611684e8734c41232a17c648ed1693702a49a622",
        1250,
        "vit_l",
        "Apache-2.0",
    ),
    "sam-vit-h": WeightSpec(
        "sam_vit_h_4b8939.pth",
        "https://dl.fbaipublicfiles.com/segment_anything/sam_vit_h_4b8939.pth",
        "a7bf3b02f3ebf1267aba913ff637d9a2d5c33d3173bb679e46d9f338c26f262e",
        2560,
        "vit_h",
        "Apache-2.0",
    ),
}


def cache_dir() -> Path:
    """$FLASHVID_CACHE, else $XDG_CACHE_HOME/flashvid, else ~/.cache/flashvid."""
    if os.environ.get("FLASHVID_CACHE"):
        return Path(os.environ["FLASHVID_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "flashvid"


def sha256_of(path: Path, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            h.update(block)
    return h.hexdigest()


def resolve(name_or_path: str | os.PathLike[str] | None) -> str | os.PathLike[str] | None:
    """A weights name (``sam-vit-b``) -> its cached file; a path (or None) as it is."""
    if name_or_path is None or str(name_or_path) not in WEIGHTS:
        return name_or_path
    spec = WEIGHTS[str(name_or_path)]
    path = cache_dir() / spec.filename
    if not path.is_file():
        raise FlashvidError(
            f"{path}: {name_or_path} is not downloaded yet; run `flashvid weights fetch {name_or_path}` once "
            f"({spec.size_mb} MB, needs internet)"
        )
    return path


class _TooLarge(Exception):
    def __init__(self, size: int) -> None:
        super().__init__(size)
        self.size = size


def fetch(
    name: str,
    *,
    folder: str | os.PathLike[str] | None = None,
    url: str | None = None,
    progress: Callable[[int, int], None] | None = None,
    timeout: float = 30.0,
) -> Path:
    """Download weights `name` into `folder` (default `cache_dir()`), resuming a partial download, checking the
    SHA-256; returns the final path. `progress(done_bytes, total_bytes)` is called as data arrives."""
    if name not in WEIGHTS:
        raise FlashvidError(f"unknown weights {name!r}; choose one of {', '.join(WEIGHTS)}")
    spec = WEIGHTS[name]
    out_dir = Path(folder) if folder is not None else cache_dir()
    out_dir.mkdir(parents=True, exist_ok=True)
    final = out_dir / spec.filename
    if final.is_file() and sha256_of(final) == spec.sha256:
        return final
    part = final.with_name(final.name + ".part")
    have = part.stat().st_size if part.is_file() else 0
    request = urllib.request.Request(url or spec.url, headers={"Range": f"bytes={have}-"} if have else {})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            resumed = have and response.status == 206
            if not resumed:
                have = 0
            length = int(response.headers.get("Content-Length") or 0)
            total = have + length if length else 0
            if total > spec.max_bytes:
                raise _TooLarge(total)
            with open(part, "ab" if resumed else "wb") as fh:
                while block := response.read(1 << 16):
                    fh.write(block)
                    have += len(block)
                    if have > spec.max_bytes:
                        raise _TooLarge(have)
                    if progress is not None:
                        progress(have, total)
    except _TooLarge as exc:
        part.unlink(missing_ok=True)
        raise FlashvidError(
            f"{url or spec.url}: sends more than {name}'s {spec.size_mb} MB ({exc.size:,} bytes and counting); not "
            "the official file, nothing kept; give the official URL or a faithful mirror (--url)"
        ) from None
    except urllib.error.HTTPError as exc:
        if exc.code == 416 and have:  # the partial file is already whole
            pass
        else:
            raise FlashvidError(
                f"{url or spec.url}: the server answered {exc.code} {exc.reason}; try again later"
            ) from exc
    except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
        reason = getattr(exc, "reason", exc)
        raise FlashvidError(
            f"{url or spec.url}: cannot download ({reason}); check the internet connection and run the same command "
            f"again: it resumes from {part.name}"
        ) from exc
    digest = sha256_of(part)
    if digest != spec.sha256:
        part.unlink(missing_ok=True)
        raise FlashvidError(
            f"{part}: SHA-256 {digest[:12]}... is not the official {spec.sha256[:12]}...; the download was damaged "
            "and has been removed; run the command again"
        )
    os.replace(part, final)
    return final
