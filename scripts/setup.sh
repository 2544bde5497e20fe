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
# The studio's tests in a real X server need Xvfb and xdotool (and Qt's xcb libraries); install them where this
# machine lets us (the dev extras, as root with apt). Elsewhere those tests skip, and the README lists the packages to install.
if [[ "$extras" == *dev* ]] && ! command -v Xvfb >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      xvfb xauth xdotool openbox libxcb-icccm4 libxcb-keysyms1 libxcb-image0 libxcb-render-util0 libxcb-xinerama0 \
      libxcb-xkb1 libxkbcommon-x11-0 libxcb-cursor0 libxcb-shape0 libxcb-randr0 libegl1 libgl1 libfontconfig1 \
      libdbus-1-3 >/dev/null; } || echo "setup: could not install Xvfb / xdotool; the X-server tests will skip" >&2
fi
