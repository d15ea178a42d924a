#!/usr/bin/env bash
# Prepares, on this machine, what a lent GPU machine needs for models/training/gpu_one.sh and that
# the working tree does not hold: dist/src (the TypeScript build: the dataset writer),
# .carry/node.xz (this Node.js binary, xz-compressed: 99 MB raw is over a call's 64 MiB) and, with
# SNAPSHOT_DIR, .carry/init/ONE_dit.pt to continue from (the averaged weights and the grounding head:
# the whole state, ~46 MB for width 192, does not fit a call beside the tree, so a later lease
# continues from the average with a new optimiser). All are ignored by git; name them in the device
# call's carry: ["dist/src", ".carry"], and start with INIT=.carry/init. Prints what the call moves.
# Usage: models/training/gpu_carry.sh [SNAPSHOT_DIR]
set -euo pipefail
cd "$(dirname "$0")/../.."
npx tsc -p tsconfig.json
mkdir -p .carry
node_bin=$(readlink -f "$(command -v node)")
if [ ! -f .carry/node.xz ] || [ "$node_bin" -nt .carry/node.xz ]; then
  xz -T2 -6 -c "$node_bin" >.carry/node.xz.part && mv .carry/node.xz.part .carry/node.xz
fi
rm -rf .carry/init
if [ -n "${1:-}" ]; then
  [ -f "$1/ONE_dit.pt" ] || { echo "gpu_carry.sh: no ONE_dit.pt in '$1'" >&2; exit 2; }
  mkdir -p .carry/init && cp "$1/ONE_dit.pt" .carry/init/
fi
tracked=$(git ls-files -z | xargs -0 du -cb 2>/dev/null | tail -1 | cut -f1)
untracked=$(git ls-files -z --others --exclude-standard | xargs -0 -r du -cb 2>/dev/null | tail -1 | cut -f1)
carried=$(du -cb dist/src .carry | tail -1 | cut -f1)
total=$((tracked + ${untracked:-0} + carried))
echo "node $("$node_bin" --version) -> .carry/node.xz $(du -b .carry/node.xz | cut -f1) bytes${1:+; .carry/init/ONE_dit.pt from $1}"
echo "a call moves about $((total / 1048576)) MiB of 64: tracked $((tracked / 1048576)), untracked $(( ${untracked:-0} / 1048576 )), dist/src + .carry $((carried / 1048576))"
[ "$total" -lt $((64 * 1048576)) ] || { echo "gpu_carry.sh: over the 64 MiB a call may move" >&2; exit 1; }
