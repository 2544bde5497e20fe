#!/usr/bin/env bash
# The test command: its own virtual environment, the dev extras, ruff, mypy, then pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh .venv-test dev
.venv-test/bin/ruff check .
.venv-test/bin/python scripts/typecheck.py   # flashvid with its engines/ and ui/ in place (see the script)
# every test, the slow ones too (a plain `pytest` leaves out those marked slow)
QT_QPA_PLATFORM=offscreen .venv-test/bin/python -m pytest -m "slow or not slow"
