#!/usr/bin/env bash
# The test command: its own virtual environment, the dev extras, ruff, then pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh .venv-test dev
.venv-test/bin/ruff check .
QT_QPA_PLATFORM=offscreen .venv-test/bin/python -m pytest
