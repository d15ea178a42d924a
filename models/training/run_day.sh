#!/usr/bin/env bash
# One working day of training, resumable: dataset (if missing) → autoencoder → encode → denoiser
# → export. Each stage resumes from WORK, or from the shipped ONNX when WORK is empty.
# Usage: models/training/run_day.sh [AE_MINUTES] [DIT_MINUTES]   (env: DATA, WORK, SEEDS, THREADS)
set -euo pipefail
cd "$(dirname "$0")/../.."
AE_MIN=${1:-12}
DIT_MIN=${2:-100}
DATA=${DATA:-$HOME/v4s_data/train}
WORK=${WORK:-$HOME/v4s_runs/v4s-small}
SEEDS=${SEEDS:-10000-13999}
THREADS=${THREADS:-2}
PY=/usr/bin/python3
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-PASSIVE}
if [ ! -f "$DATA/meta.json" ]; then
  a=${SEEDS%-*}; b=${SEEDS#*-}; m=$(( (a + b) / 2 ))
  node dist/src/cli/main.js dataset --seeds "$a-$m" --out "$DATA" &
  node dist/src/cli/main.js dataset --seeds "$((m + 1))-$b" --out "$DATA"
  wait
fi
$PY models/training/train.py ae --data "$DATA" --work "$WORK" --minutes "$AE_MIN" --batch 32 --threads "$THREADS"
$PY models/training/train.py encode --data "$DATA" --work "$WORK" --threads "$THREADS" --max-clips "${MAX_CLIPS:-0}" ${NO_FLIP:+--no-flip}
$PY models/training/train.py dit --work "$WORK" --minutes "$DIT_MIN" --batch 16 --threads "$THREADS" --preload
$PY models/training/train.py export --work "$WORK" --threads "$THREADS"
