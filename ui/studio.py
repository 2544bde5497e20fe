"""Entry point of `flashvid-studio`: a clear message when the [ui] extra (PyQt6) is missing."""

from __future__ import annotations

import sys


def main() -> int:
    try:
        from flashvid.ui.app import main as run
    except ImportError as exc:
        print(f"flashvid-studio: error: the app needs PyQt6 ({exc}); pip install 'flashvid[ui]'", file=sys.stderr)
        return 2
    from flashvid.logs import setup_logging

    setup_logging()
    return run()


if __name__ == "__main__":
    sys.exit(main())
