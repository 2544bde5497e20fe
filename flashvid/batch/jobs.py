"""What a batch does: one `Job` per video (a video's frames go in order through one recurrent matter), from a
folder / glob with one keyframe for all, or from a manifest (CSV or JSON lines).

Every job is checked here, before any work: its input exists, its keyframe file exists (or is ``auto``), its
format is known, and no two jobs write one output. A damaged video is found only when it is decoded: that job
fails alone, in the batch's report.
"""

from __future__ import annotations

import csv
import glob
import json
import os
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from flashvid.errors import InputError
from flashvid.video.outputs import EXTENSIONS, output_path

#: the columns of a manifest; only `input` is required (the others fall back to the batch's flags)
COLUMNS = ("input", "keyframe", "background", "format", "out")
#: the file endings a folder or glob is searched for
VIDEO_SUFFIXES = (".mp4", ".mov", ".mkv", ".webm", ".avi", ".m4v", ".mpg", ".mpeg", ".ts")


@dataclass(frozen=True)
class Job:
    """One video to matte.

    Attributes:
        input: the video file.
        out: the output file (a folder for the png format), with the format's extension.
        keyframe: a .flashkey file, or ``auto`` (the flash burst inside `input`).
        background: an image, a video, ``#RRGGBB``, ``blur[:STRENGTH]`` or ``none``.
        format: one of `flashvid.video.outputs.EXTENSIONS`.
    """

    input: str
    out: str
    keyframe: str
    background: str
    format: str

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


def _check_job(job: Job, where: str) -> None:
    if not Path(job.input).is_file():
        raise InputError(f"{where}: {job.input}: no such video file; fix the path")
    if job.keyframe != "auto" and not Path(job.keyframe).is_file():
        raise InputError(
            f"{where}: {job.keyframe}: no such keyframe file; make one with `flashvid keyframe` or give auto"
        )
    if job.format not in EXTENSIONS:
        raise InputError(f"{where}: format {job.format!r} is unknown; choose one of {', '.join(EXTENSIONS)}")
    bg = job.background.strip().lower()
    if not (bg in ("none", "transparent", "blur") or bg.startswith(("blur:", "#")) or Path(job.background).is_file()):
        raise InputError(
            f"{where}: background {job.background}: no such file; give an image, a video, #RRGGBB, blur or none"
        )
    if Path(job.out).resolve() == Path(job.input).resolve():
        raise InputError(f"{where}: the output {job.out} is the input; give another out")


def check_jobs(jobs: Sequence[Job], where: Sequence[str] | None = None) -> None:
    """Each job's files exist and its settings are known; no two jobs share an output (one line naming the job)."""
    names = list(where) if where is not None else [f"job {i + 1} ({j.input})" for i, j in enumerate(jobs)]
    seen: dict[Path, str] = {}
    for job, name in zip(jobs, names, strict=True):
        _check_job(job, name)
        key = Path(job.out).resolve()
        if key in seen:
            raise InputError(f"{name}: writes {job.out}, as {seen[key]} does; give each video its own out")
        seen[key] = name


def find_videos(patterns: Iterable[str | os.PathLike[str]]) -> list[Path]:
    """The video files that folders (searched for `VIDEO_SUFFIXES`, not recursively), globs or files name, in
    sorted order, each once."""
    patterns = list(patterns)
    found: list[Path] = []
    for pattern in patterns:
        text = os.fspath(pattern)
        p = Path(text)
        if p.is_dir():
            found += sorted(q for q in p.iterdir() if q.is_file() and q.suffix.lower() in VIDEO_SUFFIXES)
        elif p.is_file():
            found.append(p)
        elif glob.has_magic(text):
            found += sorted(Path(q) for q in glob.glob(text) if Path(q).is_file())
        else:
            raise InputError(f"{text}: no such file or folder; give video files, a folder or a glob")
    unique = list(dict.fromkeys(q.resolve() for q in found))
    if not unique:
        raise InputError(f"no video files in {', '.join(os.fspath(p) for p in patterns)}; check the folder or the glob")
    return unique


def jobs_from_inputs(
    patterns: Iterable[str | os.PathLike[str]],
    out_dir: str | os.PathLike[str],
    *,
    keyframe: str | os.PathLike[str],
    background: str = "#00ff00",
    format: str = "mp4",
) -> list[Job]:
    """One job per video that `patterns` find (`find_videos`), written to ``OUT_DIR/STEM.EXT``, all with one
    keyframe (a file, or ``auto`` for each clip's own flash burst)."""
    videos = find_videos(patterns)
    jobs = [
        Job(
            str(v),
            str(output_path(Path(out_dir) / v.stem, format)),
            os.fspath(keyframe),
            background,
            format,
        )
        for v in videos
    ]
    check_jobs(jobs, [str(v) for v in videos])
    return jobs


def _row_job(
    row: dict[str, str], base: Path, out_dir: Path, keyframe: str | None, background: str, format: str, where: str
) -> Job:
    unknown = set(row) - set(COLUMNS)
    if unknown:
        raise InputError(f"{where}: unknown column(s) {', '.join(sorted(unknown))}; use {', '.join(COLUMNS)}")

    def path(value: str, root: Path) -> str:
        return value if value == "auto" or Path(value).is_absolute() else str(root / value)

    raw_input = (row.get("input") or "").strip()
    if not raw_input:
        raise InputError(f"{where}: no input; every row names a video in its input column")
    kf = (row.get("keyframe") or "").strip() or (os.fspath(keyframe) if keyframe else "")
    if not kf:
        raise InputError(f"{where}: no keyframe; give a keyframe column or --keyframe (a file or auto)")
    fmt = (row.get("format") or "").strip() or format
    bg = (row.get("background") or "").strip() or background
    if bg and not (bg.lower() in ("none", "transparent", "blur") or bg.lower().startswith(("blur:", "#"))):
        bg = path(bg, base)
    video = Path(path(raw_input, base))
    out_text = (row.get("out") or "").strip()
    out = output_path(
        Path(path(out_text, out_dir)) if out_text else out_dir / video.stem, fmt if fmt in EXTENSIONS else "mp4"
    )
    return Job(str(video), str(out), path(kf, base) if row.get("keyframe") else kf, bg, fmt)


def jobs_from_manifest(
    manifest: str | os.PathLike[str],
    out_dir: str | os.PathLike[str],
    *,
    keyframe: str | os.PathLike[str] | None = None,
    background: str = "#00ff00",
    format: str = "mp4",
) -> list[Job]:
    """Jobs from a CSV file (a header row naming `COLUMNS`) or JSON lines (one object per line; ``.jsonl`` /
    ``.ndjson``). Relative inputs, keyframes and backgrounds are relative to the manifest's folder, relative outs
    to `out_dir`; an empty cell takes the batch's `keyframe` / `background` / `format`."""
    path = Path(manifest)
    if not path.is_file():
        raise InputError(f"{path}: no such manifest; give a CSV or JSON-lines file")
    rows: list[tuple[dict[str, str], str]] = []
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot be read as text ({exc}); save it as UTF-8 CSV or JSON lines") from exc
    if path.suffix.lower() in (".jsonl", ".ndjson", ".json"):
        for n, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                raise InputError(f"{path} line {n}: not JSON ({exc.msg}); write one object per line") from exc
            if not isinstance(obj, dict) or not all(isinstance(v, str) for v in obj.values()):
                raise InputError(f'{path} line {n}: write an object of strings, e.g. {{"input": "a.mp4"}}')
            rows.append((obj, f"{path} line {n}"))
    else:
        reader = csv.DictReader(text.splitlines())
        if not reader.fieldnames or "input" not in [f.strip() for f in reader.fieldnames]:
            raise InputError(
                f"{path}: the first row must name the columns, with input among them ({', '.join(COLUMNS)})"
            )
        for n, row in enumerate(reader, 2):
            if None in row:
                raise InputError(f"{path} line {n}: more cells than columns; quote values that hold commas")
            rows.append(({k.strip(): (v or "") for k, v in row.items()}, f"{path} line {n}"))
    if not rows:
        raise InputError(f"{path}: no jobs in it; add a row per video")
    jobs = [
        _row_job(row, path.parent, Path(out_dir), os.fspath(keyframe) if keyframe else None, background, format, where)
        for row, where in rows
    ]
    check_jobs(jobs, [where for _, where in rows])
    return jobs
