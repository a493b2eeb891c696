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
  # The sanitizer and fuzzing tier (scripts/test-sanitizers.sh): clang with
  # its AddressSanitizer, UBSan and libFuzzer runtimes
  clang-22 libclang-rt-22-dev
  # ONNX importer: ModelProto from libonnx's protobuf schema
  libonnx-dev libprotobuf-dev
  # Tests and scripts: Debian's python3 with numpy, onnx and torch (for
  # making test models and PyTorch exports), and ONNX's conformance data
  python3 python3-numpy python3-onnx python3-torch libonnx-testdata
  # The model-zoo tier (test/zoo): torchvision's architectures, and
  # scikit-image's sample photographs for BatchNorm statistics and
  # calibration
  python3-torchvision python3-skimage
  # The portability tier (test/Portability): x86-64 binaries on older CPU
  # models (qemu-x86_64 -cpu Nehalem / Haswell-v4)
  qemu-user
  # Benchmarks read peak RSS from GNU time; the Fashion-MNIST example's data
  time dataset-fashion-mnist
)

# shellcheck source=scripts/apt-packages.sh
source "$(dirname "$0")/apt-packages.sh"
missing_packages "${PACKAGES[@]}"

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#PACKAGES[@]} packages present"
  exit 0
fi

apt_install install-deps "${missing[@]}"
