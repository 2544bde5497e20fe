#!/usr/bin/env bash
# Create (or reuse) a virtual environment and install flashvid with CPU PyTorch.
#   scripts/setup.sh [VENV_DIR] [EXTRAS]      e.g. scripts/setup.sh .venv dev
# torch 2.14.1 / torchvision 0.29.1 are pinned: segment-anything imports torchvision, which must match torch.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=${1:-.venv}
extras=${2:-}
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/python" -m pip install -q --disable-pip-version-check "torch==2.14.1" "torchvision==0.29.1"
if [ -n "$extras" ]; then spec=".[$extras]"; else spec="."; fi
"$venv/bin/python" -m pip install -q --disable-pip-version-check -e "$spec" "torch==2.14.1" "torchvision==0.29.1"
