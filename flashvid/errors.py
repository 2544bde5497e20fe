"""User-facing errors.

Every error a user can cause (a missing file, a wrong size, a weak flash, a wrong checkpoint) is raised as a
`FlashvidError` whose message is one line that names the file and says how to fix it. The CLI prints that line
and exits with status 2; the app shows it in its status bar.
"""

from __future__ import annotations

from pathlib import Path


class FlashvidError(Exception):
    """A problem with the user's input or set-up, with a one-line message naming the fix.

    `kept_partial`: where an export that failed kept what it had written (None: nothing kept)."""

    kept_partial: Path | None = None


class InputError(FlashvidError, ValueError):
    """An input file or array is missing, unreadable or unsuitable."""


class CheckpointError(FlashvidError):
    """A checkpoint is missing, damaged or belongs to another model."""
