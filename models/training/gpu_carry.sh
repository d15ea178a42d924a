#!/usr/bin/env bash
# Prepares, on this machine, what a lent GPU machine needs for models/training/gpu_one.sh and that
# the working tree does not hold: dist/ (the TypeScript build: the dataset writer) and .carry/node.xz
# (this Node.js binary, xz-compressed: 99 MB raw is over a call's 64 MiB). Both are ignored by git;
# name them in the device call's carry: ["dist", ".carry"]. Prints what the call will move.
set -euo pipefail
cd "$(dirname "$0")/../.."
npx tsc -p tsconfig.json
mkdir -p .carry
node_bin=$(readlink -f "$(command -v node)")
if [ ! -f .carry/node.xz ] || [ "$node_bin" -nt .carry/node.xz ]; then
  xz -T2 -6 -c "$node_bin" >.carry/node.xz.part && mv .carry/node.xz.part .carry/node.xz
fi
tracked=$(git ls-files -z | xargs -0 du -cb 2>/dev/null | tail -1 | cut -f1)
untracked=$(git ls-files -z --others --exclude-standard | xargs -0 -r du -cb 2>/dev/null | tail -1 | cut -f1)
carried=$(du -cb dist .carry | tail -1 | cut -f1)
echo "node $("$node_bin" --version) -> .carry/node.xz $(du -b .carry/node.xz | cut -f1) bytes"
echo "a call moves about $(( (tracked + ${untracked:-0} + carried) / 1048576 )) MiB of 64: tracked $((tracked / 1048576)), untracked $(( ${untracked:-0} / 1048576 )), dist + .carry $((carried / 1048576))"
