#!/usr/bin/env bash
# One-step set-up for a fresh Debian 12 machine (run as root, or with sudo available).
# Idempotent and quick when already set up. Called by `npm test` and `npm run demo`.
#  1. apt: libopencv-dev (OpenCV 4.6 headers/libs for @u4/opencv4nodejs), python3.
#  2. npm ci --ignore-scripts, when package-lock.json changed since the last run.
#  3. @u4/opencv4nodejs: built against Debian's OpenCV (no auto-build of OpenCV itself); the
#     built addon is cached in ~/.cache/video4spatial_nav keyed by package, OpenCV and Node ABI.
#  4. onnxruntime-node: the CPU runtime ships inside the npm package; its post-install (which
#     downloads the CUDA execution provider's libraries) runs only where an NVIDIA GPU is present.
set -euo pipefail
cd "$(dirname "$0")/.."
log() { printf '[setup] %s\n' "$*" >&2; }

SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi

missing=()
dpkg -s libopencv-dev >/dev/null 2>&1 || missing+=(libopencv-dev)
[ -x /usr/bin/python3 ] || missing+=(python3)
command -v pkg-config >/dev/null 2>&1 || missing+=(pkg-config)
command -v g++ >/dev/null 2>&1 || missing+=(g++)
command -v make >/dev/null 2>&1 || missing+=(make)
if [ ${#missing[@]} -gt 0 ]; then
  log "installing Debian packages: ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

has_gpu=0
if command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L >/dev/null 2>&1; then has_gpu=1; fi

lock_hash=$(cat package.json package-lock.json | sha256sum | cut -c1-16)
stamp=node_modules/.video4spatial_setup
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$lock_hash:$has_gpu" ]; then
  log "npm ci (package-lock.json changed or first run)"
  npm ci --include=dev --ignore-scripts --no-audit --no-fund --loglevel=error
  npm rebuild protobufjs --loglevel=error >/dev/null

  # OpenCV binding, cached per machine.
  cv_pkg=$(node -p "require('./node_modules/@u4/opencv4nodejs/package.json').version")
  cv_sys=$(pkg-config --modversion opencv4)
  abi=$(node -p 'process.versions.modules')
  cache="${XDG_CACHE_HOME:-$HOME/.cache}/video4spatial_nav/opencv4nodejs-$cv_pkg-cv$cv_sys-abi$abi"
  addon=node_modules/@u4/opencv4nodejs/build/Release/opencv4nodejs.node
  if [ -f "$cache/opencv4nodejs.node" ]; then
    log "opencv4nodejs: using cached build $cache"
    mkdir -p "$(dirname "$addon")"
    cp "$cache/opencv4nodejs.node" "$addon"
  else
    log "opencv4nodejs: building against Debian OpenCV $cv_sys (about 3 minutes, once per machine)"
    OPENCV4NODEJS_DISABLE_AUTOBUILD=1 OPENCV_INCLUDE_DIR=/usr/include/opencv4 \
      OPENCV_LIB_DIR=/usr/lib/x86_64-linux-gnu OPENCV_BIN_DIR=/usr/bin \
      JOBS=$(nproc) npm rebuild @u4/opencv4nodejs --loglevel=error >/dev/null
    mkdir -p "$cache"
    cp "$addon" "$cache/opencv4nodejs.node"
  fi

  if [ "$has_gpu" = 1 ]; then
    log "onnxruntime-node: NVIDIA GPU found, installing the CUDA execution provider libraries"
    npm rebuild onnxruntime-node --loglevel=error
  else
    log "onnxruntime-node: no NVIDIA GPU, CPU execution provider only (CUDA download skipped)"
  fi
  echo "$lock_hash:$has_gpu" > "$stamp"
fi
