#!/usr/bin/env bash
# Configures (once) and builds lowbit into ${BUILD_DIR:-build} with Ninja,
# ccache and lld when they are available. BUILD_TYPE (default Release) and
# LOWBIT_CMAKE_ARGS (more -D options, space-separated) apply to the first
# configure only.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build}

if [ ! -f "$BUILD_DIR/build.ninja" ]; then
  args=(-G Ninja -S . -B "$BUILD_DIR"
        -DCMAKE_BUILD_TYPE=${BUILD_TYPE:-Release}
        -DMLIR_DIR=/usr/lib/llvm-22/lib/cmake/mlir
        -DLLVM_EXTERNAL_LIT=/usr/lib/llvm-22/bin/lit)
  # shellcheck disable=SC2206
  args+=(${LOWBIT_CMAKE_ARGS:-})
  if command -v ccache >/dev/null; then
    args+=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
  fi
  if command -v ld.lld >/dev/null; then
    args+=(-DLLVM_USE_LINKER=lld)
  fi
  cmake "${args[@]}"
fi
cmake --build "$BUILD_DIR" "$@"
