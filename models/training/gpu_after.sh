#!/usr/bin/env bash
# After a lent GPU (issue 21), on this CPU: the snapshot that came back → a model directory with
# its own grounder, checked against its golden numbers and timed and evaluated beside the shipped
# model, every number printed with the command that printed it (for the model card).
#
#   models/training/gpu_after.sh OUT DIR
#
# OUT: what gpu_one.sh returned (ONE_dit.pt is used: the averaged weights, the grounding head and
# the dataset's meta with the seeds of the worlds trained on). DIR: the new model directory (made;
# the shipped models/v4s-small is never written; a non-empty DIR is refused). Steps, in order
# (each prints a "== N." header):
#   1. the autoencoder kept as shipped (train.py ae --minutes 0), the snapshot as WORK/dit.pt
#   2. export with the weights stored as float16 (train.py export --fp16-weights; the 30 MB); a
#      new export takes the shipped model's sampler (sampler.* of models/v4s-small/manifest.json),
#      so the two are compared under the same sampler
#   3. grounding data (dataset --grounding, once: GR/train, GR/val are reused when a run of the
#      same seeds finished there)
#   4. the grounder retrained on the new denoiser's frozen blocks (grounder.py --write)
#   5. the golden check and the speed (benchModel.js; profileDenoiser.js against the shipped file:
#      batch 8, 2 threads, the 100 ms budget)
#   6. the open loop on the choice blocks, every candidate counted (eval --open-loop), and the
#      other-world control on the first block
#   7. the same blocks with fewer steps of the same shifted grid (eval --steps S, S in ALSO_STEPS):
#      which sampler the new weights ship with is chosen on these numbers (day 15: the shipped
#      weights lose about 0.04 per candidate at 4 steps and plan in 0.77 s instead of 1.01 s)
# env: BASE (/tmp/v4s_after), PY (/usr/bin/python3), NODE (node), GR (/tmp/gr), GR_TRAIN
#   (70000-70299), GR_VAL (71000-71099), GR_EPOCHS (12), CHOOSE ("200-299 400-499"; "" = no
#   evaluation), ALSO_STEPS ("4"; "" = none), PROFILE_ROUNDS (2).
# Choosing between weights, the closed loop and the report on a fresh block follow by hand
# (MODEL_CARD.md, *The next lent GPU*): they decide what ships.
set -euo pipefail
# the arguments as the caller meant them (relative to the caller's directory), then the repository
OUT=$(realpath -m -- "${1:?usage: gpu_after.sh OUT DIR}")
DIR=$(realpath -m -- "${2:?usage: gpu_after.sh OUT DIR}")
cd "$(dirname "$0")/../.."
BASE=${BASE:-/tmp/v4s_after}
PY=${PY:-/usr/bin/python3}
NODE=${NODE:-node}
GR=${GR:-/tmp/gr}
CHOOSE=${CHOOSE-200-299 400-499}
ALSO_STEPS=${ALSO_STEPS-4}
W=$BASE/work
step() { echo; echo "== $* ($(date +%H:%M:%S))"; }
run() { echo "\$ $*"; "$@"; }
# the open loop of the new model on seeds $1, every candidate counted; further eval flags after it
open_loop() { run "$NODE" dist/src/cli/main.js eval --seeds "$1" --open-loop --model "$DIR" --quiet "${@:2}"; }

[ -f "$OUT/ONE_dit.pt" ] || { echo "gpu_after.sh: no $OUT/ONE_dit.pt (what gpu_one.sh returns)" >&2; exit 2; }
[ -f dist/src/cli/main.js ] || { echo "gpu_after.sh: no dist/ (npx tsc -p tsconfig.json)" >&2; exit 2; }
[ "$DIR" = "$(realpath -m models/v4s-small)" ] && { echo "gpu_after.sh: DIR must not be the shipped model directory ($DIR)" >&2; exit 2; }
# a manifest already in DIR would give the export its data seeds, evaluation and grounder
[ -e "$DIR" ] && [ -n "$(ls -A "$DIR" 2>/dev/null)" ] && { echo "gpu_after.sh: DIR $DIR is not empty (give a new directory)" >&2; exit 2; }
[ -f "$OUT/ONE_snapshot.json" ] && echo "snapshot: $(cat "$OUT/ONE_snapshot.json")"
rm -rf "$W" && mkdir -p "$W" "$DIR"

step "1. the shipped autoencoder, the snapshot's denoiser"
run "$PY" models/training/train.py ae --minutes 0 --work "$W"
cp "$OUT/ONE_dit.pt" "$W/dit.pt"

step "2. export (weights stored as float16; the shipped model's sampler)"
run "$PY" models/training/train.py export --work "$W" --out "$DIR" --fp16-weights

step "3. grounding data"
for part in train val; do
  seeds=${GR_TRAIN:-70000-70299}; [ $part = val ] && seeds=${GR_VAL:-71000-71099}
  # reused only when a run of the same seeds finished there (an interrupted one is written again)
  if [ -f "$GR/$part/.complete_$seeds" ]; then echo "$GR/$part: seeds $seeds written before, reused"
  else rm -rf "${GR:?}/$part"; run "$NODE" dist/src/cli/main.js dataset --grounding --seeds "$seeds" --out "$GR/$part" && touch "$GR/$part/.complete_$seeds"; fi
done

step "4. the grounder on the new denoiser"
run "$PY" models/training/grounder.py --train "$GR/train" --val "$GR/val" --cache "$BASE/gcache" \
  --head mlp --hidden 128 --epochs "${GR_EPOCHS:-12}" --model "$DIR" --write

step "5. golden check and speed"
run "$NODE" dist/scripts/benchModel.js --model "$DIR" --threads 2
run "$NODE" dist/scripts/profileDenoiser.js models/v4s-small/denoiser.onnx "$DIR/denoiser.onnx" --rounds "${PROFILE_ROUNDS:-2}"
ls -l "$DIR"
echo "model files: $(du -cb "$DIR"/*.onnx | tail -1 | cut -f1) bytes (committed model files: at most 30 MB in all)"

step "6. open loop (every candidate counted) and the other-world control"
first=1
for S in $CHOOSE; do
  open_loop "$S" --json "$BASE/ol_$S.json"
  if [ $first = 1 ]; then
    open_loop "$S" --ablation other-world --json "$BASE/ow_$S.json"
    first=0
  fi
done

if [ -n "$CHOOSE" ] && [ -n "$ALSO_STEPS" ]; then
  step "7. fewer steps of the same sampler (the choice of the shipped sampler)"
  for N in $ALSO_STEPS; do
    for S in $CHOOSE; do
      open_loop "$S" --steps "$N" --json "$BASE/ol_${S}_steps$N.json"
    done
  done
fi
step "done: $DIR (json in $BASE)"
