#!/usr/bin/env bash
# One prepared run for a machine with an NVIDIA GPU: the CUDA bench, then GPU training sized to what is left.
#   bash scripts/gpu.sh OUT_DIR BUDGET_SECONDS [CONFIG [INIT_WEIGHTS]]
#   e.g. bash scripts/gpu.sh "$OUT" 540 assets/configs/flashvid-rt-identity.json flashvid/assets/models/flashvid-rt.safetensors
# Writes into OUT_DIR (8 files at most, so that all of them come back from a lent machine): env.txt (GPU, torch,
# install log), bench.json + bench.log (flashvid bench on CUDA: eager / compiled / tensorrt where torch-tensorrt is
# installed, fp16, 1080p and 2160p, --e2e where PyAV is installed: end-to-end file export, overlapped and not; then
# a 4-clip `flashvid batch` on a local Ray where Ray is installed, its summary table), train.log, history.json, flashvid-rt.safetensors
# (the best validation checkpoint), last.pt (resumable: `flashvid train --resume`) and snapshots.tar (the weights
# of the newest validated steps, to be chosen among on real footage elsewhere: `flashvid eval --real`).
# It stops itself inside BUDGET_SECONDS: the bench gets at most a third, training is given a time limit (its
# learning rate anneals inside it) and always validates and saves before that limit, so the weights are usable
# even when cut short.
# Needs: python3 with a CUDA build of torch and this repo's Python dependencies; wheels carried in .whl/ are
# installed first (ai-edge-litert for the keyframe path's person segmenter, which training data use). Data: the
# config's paths (../shared/data), else $FLASHVID_DATA or .gpudata/ (made by scripts/pack_training_data.py) linked
# there; without data the training stage is skipped and says so. It installs this checkout (editable) into
# PYTHON's environment; a dry run on a CPU: FLASHVID_DEVICE=cpu FLASHVID_BATCH=2 FLASHVID_NO_INSTALL=1 (keeps the
# environment's own install).
set -uo pipefail
out=${1:?give an output folder}
budget=${2:?give a time budget in seconds}
cfg=${3:-assets/configs/flashvid-rt.json}
init=${4:-}
device=${FLASHVID_DEVICE:-cuda}
cd "$(dirname "$0")/.."
start=$(date +%s)
left() { echo $(( budget - ($(date +%s) - start) )); }
mkdir -p "$out"
export PYTHONUNBUFFERED=1
py=${PYTHON:-python3}
if ls .whl/*.whl >/dev/null 2>&1; then
  "$py" -m pip install -q --no-index --no-deps --no-compile --target /tmp/site .whl/*.whl && export PYTHONPATH=/tmp/site
fi
{
  nvidia-smi
  "$py" -c "import torch; print('torch', torch.__version__, 'cuda', torch.version.cuda, torch.cuda.is_available() and torch.cuda.get_device_name(0))"
  echo "--- install"
  [ -n "${FLASHVID_NO_INSTALL:-}" ] || "$py" -m pip install -q --no-deps --no-build-isolation -e . 2>&1 \
    || echo "editable install failed"
} >"$out/env.txt" 2>&1
data=${FLASHVID_DATA:-$PWD/.gpudata}
if [ ! -e ../shared/data ] && [ -d "$data" ]; then
  mkdir -p ../shared && ln -s "$(cd "$data" && pwd)" ../shared/data && echo "data: ../shared/data -> $data" >>"$out/env.txt"
fi

# 1. bench: at most a third of the budget
engines="--engine eager --engine compiled"
"$py" -c "import torch_tensorrt" 2>/dev/null && engines="$engines --engine tensorrt"
e2e=""
"$py" -c "import av" 2>/dev/null && e2e="--e2e"
timeout $(( $(left) / 3 )) "$py" -m flashvid.cli bench --device "$device" $engines --precision fp16 \
  --size 1080p --size 2160p --frames 100 --warmup 10 $e2e --json "$out/bench.json" >"$out/bench.log" 2>&1 \
  || echo "bench stopped early (exit $?): see bench.log" | tee -a "$out/bench.log"

# 2. a batch of 4 real clips on a local Ray (where Ray is in the image; its summary table goes into bench.log)
clips=$(ls ../shared/data/videos/asl_*.mkv 2>/dev/null | head -4)
if [ -z "$clips" ]; then
  echo "batch: no clips in ../shared/data/videos: skipped" >>"$out/bench.log"
elif ! "$py" -c "import ray" 2>/dev/null; then
  echo "batch: Ray is not installed here (pip install 'flashvid[cluster]'): skipped" >>"$out/bench.log"
else
  echo "--- batch: 4 clips, local Ray, $device" >>"$out/bench.log"
  timeout $(( $(left) / 4 )) "$py" scripts/batch_bench.py /tmp/flashvid-batch $clips --device "$device" \
    --gpus-per-worker "${FLASHVID_GPUS_PER_WORKER:-0.5}" >>"$out/bench.log" 2>&1 \
    || echo "batch stopped (exit $?)" >>"$out/bench.log"
fi

# 3. training: what is left, less a margin for the final validation, save and packing
remaining=$(left)
if [ ! -d ../shared/data ]; then
  echo "no training data (../shared/data, \$FLASHVID_DATA or .gpudata/): training skipped" | tee "$out/train.log"
elif [ "$remaining" -gt 90 ]; then
  minutes=$(awk "BEGIN { print ($remaining - 60) / 60 }")
  workers=$(( $(nproc) > 3 ? $(nproc) - 2 : 1 ))
  timeout $(( remaining - 15 )) "$py" -m flashvid.cli train --config "$cfg" ${init:+--init "$init"} --out "$out/run" \
    --device "$device" --batch "${FLASHVID_BATCH:-16}" --steps 100000 --time-limit "$minutes" --workers "$workers" \
    --snapshots --set val_every="${FLASHVID_VAL_EVERY:-250}" --set selection_videos=[] >"$out/train.log" 2>&1 \
    || echo "training stopped (exit $?): see train.log" | tee -a "$out/train.log"
  [ -f "$out/run/best.safetensors" ] && cp "$out/run/best.safetensors" "$out/flashvid-rt.safetensors"
  [ -f "$out/run/history.json" ] && cp "$out/run/history.json" "$out/history.json"
  [ -f "$out/run/last.pt" ] && cp "$out/run/last.pt" "$out/last.pt"
  # at most 8 snapshots (fp16, 1.6 MB each), spread evenly over the run, the last always among them
  snaps=$(cd "$out/run" 2>/dev/null && ls step_*.safetensors 2>/dev/null | awk '{ f[NR] = $0 } END {
    k = NR < 8 ? NR : 8; for (i = 1; i <= k; i++) print f[int(NR - (k - i) * (NR - 1) / (k > 1 ? k - 1 : 1) + 0.5)] }' | uniq)
  [ -n "$snaps" ] && (cd "$out/run" && tar -cf ../snapshots.tar $snaps)
  rm -rf "$out/run"
else
  echo "no time left for training ($remaining s)" >"$out/train.log"
fi
echo "gpu.sh done in $(( $(date +%s) - start )) s of $budget"
