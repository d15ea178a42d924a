#!/usr/bin/env bash
# A training day on a lent GPU machine, in one command: the dataset is written there by parallel
# `dataset` processes while two denoisers train on it as it appears (`train.py dit --frames`,
# encoding the frames on the GPU with the shipped encoder), side by side on the one GPU:
#   A  the shipped denoiser, continued (its architecture), with the grounding loss;
#   B  a wider, deeper denoiser from scratch, with the grounding loss and the box-weighted flow loss.
# Each writes its averaged weights (TAG_dit.pt, what `train.py export` needs) and its live weights
# (TAG_live.pt, float16) to OUT every --save-every steps and at the end, and logs to OUT/TAG.log.
# Usage: models/training/gpu_day.sh OUT
#   env: NODE (a node binary; default `node`), SEEDS (world seeds, A-B), GEN_PROCS, MINUTES (training
#        minutes of each run), DEVICE (cuda), BATCH, AMP (1: bf16 autocast), PY (python3), DATA, RUNS,
#        RUNS_TO (which runs: "A B"), INIT (a folder of TAG_dit.pt snapshots to continue from),
#        A_LR, B_LR, B_WARMUP
set -uo pipefail
cd "$(dirname "$0")/../.."
OUT=${1:?usage: gpu_day.sh OUT}
NODE=${NODE:-node}
PY=${PY:-python3}
DATA=${DATA:-/tmp/v4s_data}
RUNS=${RUNS:-/tmp/v4s_runs}
SEEDS=${SEEDS:-20000-26999}
PROCS=${GEN_PROCS:-13}
MINUTES=${MINUTES:-8}
DEVICE=${DEVICE:-cuda}
BATCH=${BATCH:-256}
MIN_CLIPS=${MIN_CLIPS:-2000}
AMP=${AMP:-1}
RUNS_TO=${RUNS_TO:-A B}
INIT=${INIT:-}
mkdir -p "$OUT" "$DATA" "$RUNS/A" "$RUNS/B" /tmp/v4s_gen
log() { echo "$(date +%H:%M:%S) $*" | tee -a "$OUT/gen.log"; }

a=${SEEDS%-*}; b=${SEEDS#*-}; per=$(( (b - a + PROCS) / PROCS ))
log "dataset: seeds $SEEDS in $PROCS processes of about $per worlds, into $DATA"
gen=()
for ((i = 0; i < PROCS; i++)); do
  s=$((a + i * per)); e=$((s + per - 1)); [ "$e" -gt "$b" ] && e=$b; [ "$s" -gt "$b" ] && break
  nice -n 5 "$NODE" dist/src/cli/main.js dataset --seeds "$s-$e" --out "$DATA" --shard-size 40 >/tmp/v4s_gen/$i.log 2>&1 &
  gen+=($!)
done
sleep 3  # every process writes DATA/meta.json first: let them, before the trainers read it

amp=(); [ "$AMP" = 1 ] && amp=(--amp)
common=(dit --device "$DEVICE" --frames "$DATA" --minutes "$MINUTES" --batch "$BATCH" --anneal "${amp[@]}"
  --ground 1.0 --ground-batch 64 --min-clips "$MIN_CLIPS" --snapshot "$OUT" --save-every 1000 --threads 2)
# a run continues from INIT/TAG_dit.pt (a snapshot of an earlier day) when there is one
for t in $RUNS_TO; do [ -f "$INIT/${t}_dit.pt" ] && cp "$INIT/${t}_dit.pt" "$RUNS/$t/dit.pt"; done
pids=()
if [[ " $RUNS_TO " == *" A "* ]]; then
  PYTHONUNBUFFERED=1 $PY models/training/train.py "${common[@]}" --work "$RUNS/A" --tag A --lr "${A_LR:-2e-4}" --warmup 300 >"$OUT/A.log" 2>&1 &
  pids+=($!)
fi
if [[ " $RUNS_TO " == *" B "* ]]; then
  PYTHONUNBUFFERED=1 $PY models/training/train.py "${common[@]}" --work "$RUNS/B" --tag B --lr "${B_LR:-4e-4}" --warmup "${B_WARMUP:-1000}" \
    --scratch --dim 160 --depth 7 --heads 4 --box-weight 1.0 >"$OUT/B.log" 2>&1 &
  pids+=($!)
fi

for p in "${gen[@]}"; do wait "$p" || log "a dataset process failed ($p)"; done
log "dataset done: $(cat /tmp/v4s_gen/*.log | grep -c '^shard_') shards"
tail -n 1 /tmp/v4s_gen/*.log >>"$OUT/gen.log"
rcs=""
for p in "${pids[@]}"; do wait "$p"; rcs="$rcs $?"; done
log "training runs ($RUNS_TO) ended, exit codes:$rcs"
