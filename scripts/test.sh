#!/usr/bin/env bash
# The whole test suite from a fresh Debian 12 machine: install what the
# project needs, configure, build, run the lit suite and the runtime's ctest.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh
bash scripts/build.sh

echo "== lit suite (build/test)"
/usr/lib/llvm-22/bin/lit -sv build/test

echo "== runtime ctest"
ctest --test-dir build --output-on-failure
