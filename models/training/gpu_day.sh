#!/usr/bin/env bash
# A training day on a lent GPU machine, in one command: the dataset is written there by parallel
# `dataset` processes while denoisers (and, optionally, the decoder) train on it as it appears
# (`train.py dit --frames`, encoding the frames on the GPU with the shipped encoder), side by side
# on the one GPU. Runs, by tag:
#   A    the shipped denoiser's architecture, continued from the shipped ONNX, grounding loss;
#   B    width 160, 7 blocks (the day-6 denoiser), grounding + box-weighted flow loss;
#   C    width 192, 7 blocks, grounding + box-weighted flow loss (averaged weights kept in float16:
#        files that come back from the machine are limited to 16 MiB);
#   DEC  the decoder alone, fine-tuned with the encoder frozen (`train.py dec`): drops in under any
#        denoiser trained in the shipped latent space; writes OUT/ae.pt.
# B and C start from scratch, or from INIT/TAG_dit.pt (a snapshot of an earlier day) when it exists.
# Each denoiser writes its averaged weights (TAG_dit.pt, what `train.py export` needs) to OUT every
# 1000 steps and at the end, and logs to OUT/TAG.log; the dataset processes log to OUT/gen.log.
# Usage: models/training/gpu_day.sh OUT
#   env: NODE (a node binary; default `node`), SEEDS (world seeds, A-B), GEN_PROCS, MINUTES (training
#        minutes of each run), DEVICE (cuda), BATCH, AMP (1: bf16 autocast), PY (python3), DATA, RUNS,
#        RUNS_TO (which runs, e.g. "B C DEC"; default "A B"), INIT, and per tag TAG_LR, TAG_WARMUP
#        (A 2e-4/300, B 4e-4/1000, C 5e-4/1000, DEC 2e-4)
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
mkdir -p "$OUT" "$DATA" /tmp/v4s_gen
log() { echo "$(date +%H:%M:%S) $*" | tee -a "$OUT/gen.log"; }
finished() { ls "$DATA"/shard_*/standoff.npy 2>/dev/null | wc -l; }  # shards whose last file exists

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
declare -A arch=([B]="--scratch --dim 160 --depth 7 --heads 4 --box-weight 1.0"
  [C]="--scratch --dim 192 --depth 7 --heads 4 --box-weight 1.0 --snapshot-half")
declare -A lr=([A]=2e-4 [B]=4e-4 [C]=5e-4 [DEC]=2e-4) warm=([A]=300 [B]=1000 [C]=1000)
pids=()
for t in $RUNS_TO; do
  mkdir -p "$RUNS/$t"
  v=${t}_LR; l=${!v:-${lr[$t]:-}}
  v=${t}_WARMUP; w=${!v:-${warm[$t]:-}}
  if [ "$t" = DEC ]; then
    # the shipped autoencoder, then the decoder on the shards finished so far (20, or what two
    # minutes gave) and those still to come
    ( $PY models/training/train.py ae --minutes 0 --work "$RUNS/DEC" &&
      for _ in $(seq 24); do [ "$(finished)" -ge 20 ] && break; sleep 5; done &&
      PYTHONUNBUFFERED=1 $PY models/training/train.py dec --device "$DEVICE" --data "$DATA" --work "$RUNS/DEC" \
        --minutes "$(awk "BEGIN { print $MINUTES - 1 }")" --batch "$BATCH" --lr "$l" --anneal --threads 2 &&
      cp "$RUNS/DEC/ae.pt" "$OUT/ae.pt" ) >"$OUT/DEC.log" 2>&1 &
  else
    # a run continues from INIT/TAG_dit.pt (a snapshot of an earlier day) when there is one
    [ -n "$INIT" ] && [ -f "$INIT/${t}_dit.pt" ] && cp "$INIT/${t}_dit.pt" "$RUNS/$t/dit.pt"
    PYTHONUNBUFFERED=1 $PY models/training/train.py "${common[@]}" --work "$RUNS/$t" --tag "$t" --lr "$l" --warmup "$w" \
      ${arch[$t]:-} >"$OUT/$t.log" 2>&1 &
  fi
  pids+=($!)
done

rcs=""
for p in "${pids[@]}"; do wait "$p"; rcs="$rcs $?"; done
log "training runs ($RUNS_TO) ended, exit codes:$rcs"
# the dataset processes stop with the training: what they wrote is what was trained on
for p in "${gen[@]}"; do kill "$p" 2>/dev/null; done
wait 2>/dev/null
log "dataset: $(finished) finished shards"
tail -q -n 1 /tmp/v4s_gen/*.log >>"$OUT/gen.log"
