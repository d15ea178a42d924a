#!/usr/bin/env bash
# One model on one lent GPU for as much of a session's 15 device minutes as the calls allow (issue 21).
#
# A call runs at most 10 minutes, a machine starts in a minute or more, and one that stays idle for
# 30 s goes back. So the work is detached from the calls: `start` (call 1) launches the dataset
# writers and ONE trainer in their own process sessions (setsid: they outlive the call), follows the
# trainer's log, and returns after RETURN_AFTER seconds with the latest snapshot in OUT; `finish`
# (call 2, sent as soon as call 1 has answered, on the same warm machine) waits until the trainer
# stops at STOP_AT and returns the final snapshot. The trainer never restarts between the calls: no
# second start-up, compile or data load. If call 2 never comes, call 1's snapshot is the result.
#
# The trainer (`train.py dit`): episodes written by `dataset --episodes` (contexts chosen by the
# node's own sampling) while it trains, encoded on the GPU as their shards finish and drawn from a
# pool on the device (episode × one of its 16 context draws × mirror); it first times each way of
# running a step on random batches (--probe: float32, bf16 autocast, bf16 + fused attention, that
# compiled) while the first shards are written and trains with the fastest; it prints clips/s and
# TFLOP/s for each and every 50 steps; the learning rate decays to 0 at STOP_AT (cosine over the
# training minutes); every SAVE_S seconds it writes the snapshot: ONE_dit.pt (the averaged weights
# in float16, the grounding head: what `train.py export` needs), ONE_state.N.pt (live weights,
# AdamW moments: what --resume-from continues exactly), ONE_snapshot.json (which files, which step).
#
# Usage (from the repository root; dist/src built, and a Node.js 20 binary: NODE, else .carry/node.xz
# as written by models/training/gpu_carry.sh; carry ["dist/src", ".carry"]):
#   models/training/gpu_one.sh start OUT     call 1
#   models/training/gpu_one.sh finish OUT    call 2 (STOP_IN=S: stop the trainer S seconds from now,
#                                            when the lease has less left than planned)
# env (start): SEEDS (A-B: 80000-119999), GEN_PROCS (14), TRAIN_FOR_S (seconds from the start of call 1 to STOP_AT:
#   750), RETURN_AFTER (seconds of call 1: 560), DIM DEPTH HEADS (192 7 4), BATCH (1024), LR (5e-4),
#   WARMUP (1000), GROUND_BATCH (128), PROBE (seconds per variant: 4; 0 = none), COMPILE (1),
#   MIN_EPISODES (400), SAVE_S (90), INIT (a snapshot directory to continue from: ONE_dit.pt, with
#   ONE_state.*.pt to continue exactly; .carry/init from gpu_carry.sh SNAPSHOT_DIR), DEVICE (cuda),
#   PY (python3), NODE, BASE (/tmp/v4s_one: data, work, logs there).
# OUT gets at most 7 files: ONE.log, data.log, ONE_snapshot.json, ONE_dit.pt, ONE_state.{0,1,2}.pt
# (a width-192, 7-block denoiser: 9.7 + 38.7 MB; each file <= 15 MiB).
set -uo pipefail
cd "$(dirname "$0")/../.."
MODE=${1:?usage: gpu_one.sh start|finish OUT}
OUT=${2:?usage: gpu_one.sh start|finish OUT}
BASE=${BASE:-/tmp/v4s_one}
PY=${PY:-python3}
mkdir -p "$OUT" "$BASE/snap" "$BASE/gen" "$BASE/work"
say() { echo "$(date +%H:%M:%S) [gpu_one] $*" | tee -a "$BASE/data.log"; }

# the newest complete snapshot into OUT: the files ONE_snapshot.json names, taken again when the
# trainer saved meanwhile (its step moved)
copy_snapshot() {
  local s1 s2 f tries
  for tries in 1 2 3 4 5; do
    [ -f "$BASE/snap/ONE_snapshot.json" ] || { say "no snapshot yet"; return 1; }
    s1=$(cat "$BASE/snap/ONE_snapshot.json")
    for f in $("$PY" -c 'import json,sys; print(" ".join(json.load(open(sys.argv[1]))["files"]))' "$BASE/snap/ONE_snapshot.json"); do
      cp "$BASE/snap/$f" "$OUT/$f.part" && mv "$OUT/$f.part" "$OUT/$f"
    done
    s2=$(cat "$BASE/snap/ONE_snapshot.json")
    if [ "$s1" = "$s2" ]; then
      echo "$s1" >"$OUT/ONE_snapshot.json"
      say "snapshot copied: $s1"
      return 0
    fi
    sleep 2
  done
  say "snapshot kept moving; last copy may mix steps"
  return 1
}

# follow the trainer's log until $1 (epoch s) or until it ends; prints its new lines
follow() {
  local until=$1 seen=0 n
  while [ "$(date +%s)" -lt "$until" ] && [ ! -f "$BASE/trainer.done" ]; do
    sleep 5
    n=$(wc -l <"$BASE/ONE.log" 2>/dev/null || echo 0)
    [ "$n" -gt "$seen" ] && sed -n "$((seen + 1)),${n}p" "$BASE/ONE.log" && seen=$n
  done
  n=$(wc -l <"$BASE/ONE.log" 2>/dev/null || echo 0)
  [ "$n" -gt "$seen" ] && sed -n "$((seen + 1)),${n}p" "$BASE/ONE.log"
  return 0
}

collect() {
  copy_snapshot
  { cat "$BASE/data.log"; echo "--- dataset writers (last line of each):"; tail -q -n 1 "$BASE"/gen/*.log 2>/dev/null
    echo "--- GPU (nvidia-smi every 10 s: time, utilisation %, memory MiB, power W):"; cat "$BASE/gpu.csv" 2>/dev/null; } >"$OUT/data.log"
  cp "$BASE/ONE.log" "$OUT/ONE.log" 2>/dev/null
  ls -la "$OUT"
}

if [ "$MODE" = start ]; then
  T0=$(date +%s)
  STOP_AT=$((T0 + ${TRAIN_FOR_S:-750}))
  RETURN_AT=$((T0 + ${RETURN_AFTER:-560}))
  DEVICE=${DEVICE:-cuda}
  if [ -z "${NODE:-}" ]; then
    [ -f .carry/node.xz ] || { say "no NODE and no .carry/node.xz (models/training/gpu_carry.sh writes it)"; exit 2; }
    "$PY" -c 'import lzma, shutil, sys; shutil.copyfileobj(lzma.open(sys.argv[1]), open(sys.argv[2], "wb"))' .carry/node.xz /tmp/node && chmod +x /tmp/node
    NODE=/tmp/node
  fi
  [ -f dist/src/cli/main.js ] || { say "no dist/src (build it and carry it)"; exit 2; }
  say "start: $(nvidia-smi -L 2>/dev/null | head -1); node $("$NODE" --version); $("$PY" -c 'import torch; print("torch", torch.__version__, "cuda", torch.cuda.is_available())')"
  say "trainer stops at $(date -d @"$STOP_AT" +%H:%M:%S) ($((STOP_AT - T0)) s after the start); this call returns at $(date -d @"$RETURN_AT" +%H:%M:%S)"
  SEEDS=${SEEDS:-80000-119999}  # more than 14 writers finish in 13 minutes: they are stopped with the trainer
  PROCS=${GEN_PROCS:-14}
  a=${SEEDS%-*}; b=${SEEDS#*-}; per=$(( (b - a + PROCS) / PROCS ))
  say "dataset --episodes: seeds $SEEDS in $PROCS processes of about $per worlds, shards of 4 worlds, into $BASE/data"
  for ((i = 0; i < PROCS; i++)); do
    s=$((a + i * per)); e=$((s + per - 1)); [ "$e" -gt "$b" ] && e=$b; [ "$s" -gt "$b" ] && break
    setsid nohup nice -n 5 "$NODE" dist/src/cli/main.js dataset --episodes --seeds "$s-$e" --out "$BASE/data" --shard-size 4 >"$BASE/gen/$i.log" 2>&1 &
    echo $! >>"$BASE/gen.pids"
  done
  command -v nvidia-smi >/dev/null && { setsid nohup nvidia-smi --query-gpu=timestamp,utilization.gpu,memory.used,power.draw --format=csv,noheader -l 10 >"$BASE/gpu.csv" 2>&1 & echo $! >"$BASE/smi.pid"; }
  sleep 3  # every writer writes meta.json first
  resume=(); [ -n "${INIT:-}" ] && resume=(--resume-from "$INIT")
  compile=(); [ "${COMPILE:-1}" = 1 ] && compile=(--compile)
  amp=(); [ "$DEVICE" = cuda ] && amp=(--amp)
  cmd=("$PY" models/training/train.py dit --device "$DEVICE" --frames "$BASE/data" --work "$BASE/work" --tag ONE
    --scratch --dim "${DIM:-192}" --depth "${DEPTH:-7}" --heads "${HEADS:-4}" --batch "${BATCH:-1024}"
    --lr "${LR:-5e-4}" --warmup "${WARMUP:-1000}" --anneal-until --until "$STOP_AT" --minutes 1000
    --ground 1.0 --ground-batch "${GROUND_BATCH:-128}" --box-weight 1.0 --min-clips "${MIN_EPISODES:-400}" --wait-data 3
    --refresh-s 15 --probe "${PROBE:-4}" --sdpa "${compile[@]}" "${amp[@]}" --snapshot "$BASE/snap" --snapshot-state
    --snapshot-half --save-every 1000000000 --save-every-s "${SAVE_S:-90}" --stop-file "$BASE/stop_at" --threads 2 "${resume[@]}")
  say "trainer: ${cmd[*]}"
  # the trainer and, when it stops, the end of the writers and of the GPU log: one detached session
  setsid nohup bash -c '"$@" >"'"$BASE"'/ONE.log" 2>&1; echo $? >"'"$BASE"'/trainer.done"
    kill $(cat "'"$BASE"'/gen.pids") $(cat "'"$BASE"'/smi.pid" 2>/dev/null) 2>/dev/null' trainer "${cmd[@]}" >/dev/null 2>&1 &
  follow "$RETURN_AT"
  collect
elif [ "$MODE" = finish ]; then
  [ -f "$BASE/data.log" ] || { echo "gpu_one.sh finish: nothing started in $BASE on this machine (a fresh machine? then continue with INIT=the snapshot from call 1)"; exit 2; }
  if [ -n "${STOP_IN:-}" ]; then
    # the lease is shorter than planned: the trainer stops STOP_IN seconds from now (checked every 50 steps)
    echo $(( $(date +%s) + STOP_IN )) >"$BASE/stop_at"
    say "finish: asked the trainer to stop within $STOP_IN s"
  fi
  say "finish: waiting for the trainer"
  follow $(( $(date +%s) + ${WAIT_MAX:-580} ))
  [ -f "$BASE/trainer.done" ] && say "trainer exited with $(cat "$BASE/trainer.done")" || say "trainer still running after WAIT_MAX"
  collect
else
  echo "usage: gpu_one.sh start|finish OUT" >&2
  exit 2
fi
