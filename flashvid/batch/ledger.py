"""The batch's record of finished outputs, so that a run stopped half way can be run again.

``OUT_DIR/.flashvid-batch.json`` holds, per output, a signature of what made it (the input's size and mtime, the
keyframe's and background's, the format and every matting setting) and the output's size. An output is skipped
when its record's signature is today's and the file (or PNG folder) is still there with the recorded size;
anything else is redone. Only the driver writes the record, after each finished video, by atomic replace.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

from flashvid.batch.jobs import Job

LEDGER_NAME = ".flashvid-batch.json"
VERSION = 1


def file_signature(path: str) -> list[Any]:
    """[resolved path, size, mtime in ns] of a file, or the text itself for a non-file (``auto``, a colour)."""
    p = Path(path)
    if not p.is_file():
        return [path]
    st = p.stat()
    return [str(p.resolve()), st.st_size, st.st_mtime_ns]


def output_size(path: str | os.PathLike[str]) -> int | None:
    """Bytes of an output file, or of the files in a PNG folder; None when it is not there."""
    p = Path(path)
    if p.is_file():
        return p.stat().st_size
    if p.is_dir():
        return sum(q.stat().st_size for q in p.iterdir() if q.is_file())
    return None


def job_signature(job: Job, settings: dict[str, Any]) -> str:
    """A hash of everything that decides a job's output (its files by size and mtime, its settings)."""
    what = {
        "input": file_signature(job.input),
        "keyframe": file_signature(job.keyframe),
        "background": file_signature(job.background),
        "format": job.format,
        "settings": settings,
    }
    return hashlib.sha256(json.dumps(what, sort_keys=True, default=str).encode()).hexdigest()


class Ledger:
    """The finished outputs of batches written to one folder (see the module's text)."""

    def __init__(self, out_dir: str | os.PathLike[str]) -> None:
        self.path = Path(out_dir) / LEDGER_NAME
        self.entries: dict[str, dict[str, Any]] = {}
        if self.path.is_file():
            try:
                data = json.loads(self.path.read_text())
                if data.get("version") == VERSION and isinstance(data.get("outputs"), dict):
                    self.entries = data["outputs"]
            except (OSError, json.JSONDecodeError, AttributeError):
                self.entries = {}  # a damaged record: everything is redone (outputs are replaced only when complete)

    @staticmethod
    def key(job: Job) -> str:
        return str(Path(job.out).resolve())

    def finished(self, job: Job, signature: str) -> bool:
        """True when `job`'s output was made by a batch with this `signature` and is still there, unchanged in size."""
        entry = self.entries.get(self.key(job))
        if not entry:
            return False
        return entry.get("signature") == signature and output_size(job.out) == entry.get("output_size")

    def made_by_batch(self, job: Job) -> bool:
        """True when `job`'s output path holds a batch's result (of any settings): it may be replaced by a redo."""
        return self.key(job) in self.entries

    def record(self, job: Job, signature: str, **facts: Any) -> None:
        self.entries[self.key(job)] = {
            "signature": signature,
            "input": job.input,
            "output_size": output_size(job.out),
            **facts,
        }
        self.save()

    def save(self) -> None:
        from flashvid.imageio import atomic_output

        self.path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_output(self.path) as tmp:
            tmp.write_text(json.dumps({"version": VERSION, "outputs": self.entries}, indent=1, sort_keys=True))
