"""How the studio writes numbers for people."""

from __future__ import annotations


def fmt_fps(fps: float) -> str:
    """One decimal below 10 FPS (0.4, 7.5), whole numbers above."""
    return f"{fps:.1f}" if fps < 10 else f"{fps:.0f}"


def fmt_time(seconds: float) -> str:
    """m:ss."""
    m, s = divmod(max(0, int(seconds)), 60)
    return f"{m}:{s:02d}"
