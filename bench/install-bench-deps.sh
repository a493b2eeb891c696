#!/usr/bin/env bash
# Installs what the benchmarks in bench/ need beyond scripts/install-deps.sh,
# on Debian 12 (bookworm), idempotently: it only installs what is missing and
# does nothing when everything is there. Run as root (or with sudo).
#
#   bash bench/install-bench-deps.sh
#
# - python3-torchvision: ResNet-18 and MobileNetV2 architectures for
#   bench/speed.py (torchvision 0.14 on bookworm; weights=None, random init).
# - libdnnl-dev: oneDNN, for a kernel comparison benchmark (bench only; the
#   compiler and its runtime do not link it).
# - ONNX Runtime for node (onnxruntime-node 1.30 under .deps/ort), through
#   scripts/install-ort.sh, which never fails (it says why it skipped).
#
# The project's own packages (g++, python3-torch, python3-onnx, node, ...)
# come from scripts/install-deps.sh, which this script runs first.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh

PACKAGES=(
  python3-torchvision
  libdnnl-dev
  # onnxruntime-node runs on node, installed with npm
  nodejs npm
)

# shellcheck source=scripts/apt-packages.sh
source scripts/apt-packages.sh
missing_packages "${PACKAGES[@]}"

# node and npm may come from elsewhere than Debian (e.g. a preinstalled
# Node.js); do not ask apt for them when both commands already work.
if command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1; then
  kept=()
  for p in "${missing[@]}"; do
    case "$p" in nodejs|npm) ;; *) kept+=("$p") ;; esac
  done
  missing=("${kept[@]}")
fi

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-bench-deps: all bench packages present"
else
  apt_install install-bench-deps "${missing[@]}"
fi

bash scripts/install-ort.sh
