#!/usr/bin/env bash
# Installs exactly what lowbit needs on Debian 12 (bookworm), idempotently.
# Run as root (or with sudo). Safe to run again: it only installs what is
# missing.
set -euo pipefail

PACKAGES=(
  # Toolchain and build
  cmake ninja-build g++ ccache lld
  # LLVM/MLIR 22 (mlir-22-tools must be named: MLIRConfig.cmake imports
  # mlir-tblgen; it replaces libmlir-19 if that is installed)
  llvm-22-dev llvm-22-tools libmlir-22-dev mlir-22-tools
  # Runtime tests
  libgtest-dev
  # Scripts and tests
  python3
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#PACKAGES[@]} packages present"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
