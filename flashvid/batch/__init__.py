"""Matte a library of footage: `matte_many` runs one job per video on Ray (a local Ray, or a cluster).

    from flashvid.batch import jobs_from_inputs, matte_many
    jobs = jobs_from_inputs(["footage/"], "matted/", keyframe="kf.flashkey")
    report = matte_many(jobs, "matted/")
    print(report.table())

`flashvid batch` is the command-line caller of this.
"""

from __future__ import annotations

from flashvid.batch.jobs import Job, check_jobs, find_videos, jobs_from_inputs, jobs_from_manifest
from flashvid.batch.ledger import Ledger
from flashvid.batch.runner import BatchReport, BatchSettings, JobResult, matte_many

__all__ = [
    "BatchReport",
    "BatchSettings",
    "Job",
    "JobResult",
    "Ledger",
    "check_jobs",
    "find_videos",
    "jobs_from_inputs",
    "jobs_from_manifest",
    "matte_many",
]
