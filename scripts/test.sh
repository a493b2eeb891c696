#!/usr/bin/env bash
# The whole test suite from a fresh Debian 12 machine: install what the
# project needs, configure, build, run the lit suite and the runtime's ctest,
# then the sanitizer tier (scripts/test-sanitizers.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/tiers.sh
. scripts/tiers.sh

tier "install-deps (apt-get)" bash scripts/install-deps.sh
tier "build (Release, g++)" bash scripts/build.sh

# ONNX Runtime (npm onnxruntime-node) for the oracle tier, test/Oracle. This
# never fails the test command: without node, npm or the registry the tier
# is UNSUPPORTED in lit and reported as skipped below.
ort_log=$(mktemp)
tier "install-ort (npm)" bash -c 'bash scripts/install-ort.sh 2>&1 | tee "$1" || true' _ "$ort_log"

# lit prints its 20 slowest tests (--time-tests): where the budget goes.
echo "== lit suite (build/test)"
tier "lit suite (Release)" /usr/lib/llvm-22/bin/lit -sv --time-tests build/test

if [ ! -f .deps/ort/node_modules/onnxruntime-node/package.json ]; then
  reason=$(tail -n 1 "$ort_log" | sed 's/^install-ort: //; s/; the ONNX Runtime oracle tier.*//')
  echo "== ONNX Runtime oracle tier (test/Oracle): SKIPPED, onnxruntime-node is not installed (${reason:-unknown})"
fi
rm -f "$ort_log"

echo "== runtime ctest"
tier "runtime ctest (Release)" ctest --test-dir build --output-on-failure

# AddressSanitizer + UndefinedBehaviorSanitizer build (clang-22, build-san/):
# the lit suite and the runtime ctest again, then seeded, bounded libFuzzer
# runs of the .npy reader, the ONNX importer and MLIR -> C++ (docs/TESTING.md).
# Its tiers add themselves to the table printed at the end.
bash scripts/test-sanitizers.sh
