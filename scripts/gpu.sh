#!/usr/bin/env bash
# One prepared run for a machine with an NVIDIA GPU: the CUDA bench, then GPU training sized to what is left.
#   bash scripts/gpu.sh OUT_DIR BUDGET_SECONDS        e.g. bash scripts/gpu.sh "$OUT" 780
# Writes into OUT_DIR: env.txt, bench.json + bench.log (flashvid bench on CUDA: eager / compiled / tensorrt, fp16,
# 1080p and 2160p, with --e2e), train.log, history.json, flashvid-rt.safetensors (the best validation checkpoint,
# fp16) and last.pt. It stops itself inside BUDGET_SECONDS: each stage gets what is left, training is given a time
# limit and always saves (validate + checkpoint) before that limit, so weights are usable even when cut short.
# Needs: python3 with a CUDA build of torch 2.14 (+ torch-tensorrt for the TensorRT rows; skipped if absent) and
# this repo's Python dependencies (wheels carried in .whl/ are installed first when present). Data: ../shared/data
# or $FLASHVID_DATA (the training config's paths); without data the training stage is skipped and says so.
set -uo pipefail
out=${1:?give an output folder}
budget=${2:?give a time budget in seconds}
cd "$(dirname "$0")/.."
start=$(date +%s)
left() { echo $(( budget - ($(date +%s) - start) )); }
mkdir -p "$out"
export PYTHONUNBUFFERED=1
py=${PYTHON:-python3}
if ls .whl/*.whl >/dev/null 2>&1; then
  "$py" -m pip install -q --no-index --no-deps --no-compile --target /tmp/site .whl/*.whl && export PYTHONPATH=/tmp/site
fi
"$py" -m pip install -q --no-deps --no-build-isolation -e . >"$out/install.log" 2>&1 || echo "editable install failed (see install.log)"
{ nvidia-smi; "$py" -c "import torch; print('torch', torch.__version__, 'cuda', torch.version.cuda, torch.cuda.get_device_name(0))"; } >"$out/env.txt" 2>&1

# 1. bench: at most 40 % of the budget
engines="--engine eager --engine compiled"
"$py" -c "import torch_tensorrt" 2>/dev/null && engines="$engines --engine tensorrt"
timeout $(( $(left) * 2 / 5 )) "$py" -m flashvid.cli bench --device cuda $engines --precision fp16 \
  --size 1080p --size 2160p --frames 200 --warmup 20 --e2e --json "$out/bench.json" >"$out/bench.log" 2>&1 \
  || echo "bench stopped early (exit $?): see bench.log" | tee -a "$out/bench.log"

# 2. training: what is left, less a margin for the final validation, save and copy
remaining=$(left)
if [ "$remaining" -gt 120 ]; then
  minutes=$(( (remaining - 75) / 60 ))
  cfg=assets/configs/flashvid-rt.json
  timeout $(( remaining - 20 )) "$py" -m flashvid.cli train --config "$cfg" --out "$out/run" --device cuda \
    --batch 16 --steps 20000 --time-limit "$minutes" >"$out/train.log" 2>&1 \
    || echo "training stopped (exit $?): see train.log" | tee -a "$out/train.log"
  [ -f "$out/run/best.safetensors" ] && cp "$out/run/best.safetensors" "$out/flashvid-rt.safetensors"
  [ -f "$out/run/history.json" ] && cp "$out/run/history.json" "$out/history.json"
  [ -f "$out/run/last.pt" ] && cp "$out/run/last.pt" "$out/last.pt"
  rm -rf "$out/run"
else
  echo "no time left for training ($remaining s)" >"$out/train.log"
fi
echo "gpu.sh done in $(( $(date +%s) - start )) s of $budget"
