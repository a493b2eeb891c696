#!/usr/bin/env bash
# The sanitizer tier of the test command: lowbit built with clang-22 under
# AddressSanitizer and UndefinedBehaviorSanitizer in build-san/ (findings
# are fatal), then
#   - its lit suite, whose e2e tests build and run the generated C++ with the
#     same compiler and sanitizers against the instrumented runtime;
#   - the runtime's GoogleTest suite;
#   - each libFuzzer target in fuzz/ from a fresh corpus of the repository's
#     test inputs, with a fixed seed and a fixed number of runs (about a
#     minute each here), at most LOWBIT_FUZZ_SECONDS (default 180) each.
# A fuzzer's crash input is kept in build-san/fuzz-crashes/ and fails the
# run. A longer run, as docs/TESTING.md describes:
#   LOWBIT_FUZZ_RUNS=-1 LOWBIT_FUZZ_SECONDS=600 LOWBIT_FUZZ_SEED=0 \
#       bash scripts/test-sanitizers.sh --fuzz-only
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/tiers.sh
. scripts/tiers.sh
BUILD_DIR=${SAN_BUILD_DIR:-build-san}
SECONDS_PER_TARGET=${LOWBIT_FUZZ_SECONDS:-180}
SEED=${LOWBIT_FUZZ_SEED:-1}
TARGETS=${LOWBIT_FUZZ_TARGETS:-"npy onnx mlir-cpp accel-bin"}
FUZZ_ONLY=0
[ "${1:-}" = "--fuzz-only" ] && FUZZ_ONLY=1

BUILD_DIR="$BUILD_DIR" BUILD_TYPE=RelWithDebInfo \
  LOWBIT_CMAKE_ARGS="-DCMAKE_C_COMPILER=clang-22 -DCMAKE_CXX_COMPILER=clang++-22 -DLOWBIT_SANITIZERS=address,undefined -DLOWBIT_FUZZERS=ON" \
  tier "sanitizer build (clang-22 ASan+UBSan)" bash scripts/build.sh

export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=0:detect_leaks=1:allocator_may_return_null=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}

if [ "$FUZZ_ONLY" = 0 ]; then
  echo "== sanitizer tier: lit suite ($BUILD_DIR/test)"
  tier "sanitizer lit suite" /usr/lib/llvm-22/bin/lit -sv --time-tests "$BUILD_DIR/test"
  echo "== sanitizer tier: runtime ctest"
  tier "sanitizer runtime ctest" ctest --test-dir "$BUILD_DIR" --output-on-failure
fi

# Seed corpora from what the repository already has.
corpus=${LOWBIT_FUZZ_CORPUS:-"$BUILD_DIR/fuzz-corpus"}
rm -rf "$corpus"
mkdir -p "$corpus/npy" "$corpus/onnx" "$corpus/mlir-cpp" "$corpus/accel-bin" \
  "$BUILD_DIR/fuzz-crashes"
/usr/bin/python3 - "$corpus/npy" <<'PY'
import sys, numpy as np
out = sys.argv[1]
r = np.random.RandomState(1)
for i, a in enumerate([np.zeros((0,), np.float32), r.randn(2, 3).astype(np.float32),
                       r.randn(1, 1, 4, 4).astype(np.float32), np.arange(5, dtype=np.int8),
                       np.arange(6, dtype=np.int64).reshape(2, 3), np.float32(3.5),
                       r.randn(3).astype(np.float64), np.ones((2, 2), np.uint8)]):
    np.save("%s/seed%d.npy" % (out, i), a)
PY
cp examples/fashion_mnist/fashion_cnn.onnx "$corpus/onnx/" 2>/dev/null || true
# The fuzz_seed_* kinds reach the host folding with omitted ("") inputs and
# the typed attribute getters; the bad kinds after them are one mutation away
# from the paths of the importer's bad-input classes (omitted required
# inputs, attribute types, redefined tensors, kernel_shape, opset_import).
for kind in conv_relu_pool conv_silu_softmax two_outputs qdq_softmax normalize_conv \
    reduce_ops resize_ops split_op slice_steps depthwise_groups conv_pad_pool \
    conv_bn shape_subgraph activations gemm div_negative \
    fuzz_seed_folding fuzz_seed_attributes fold_omitted_add fold_omitted_identity \
    conv_bn_omitted leaky_alpha_ir1 softmax_axis_float duplicate_output \
    conv_kernel_shape_mismatch two_default_opsets; do
  /usr/bin/python3 test/Import/ONNX/Inputs/make_model.py "$kind" "$corpus/onnx/$kind.onnx" \
    >/dev/null 2>&1 || true
done
find test -name '*.mlir' -size -64k -exec cp {} "$corpus/mlir-cpp/" \;
# Accelerator binaries: the hand-written assembly of test/Target/Accel.
for s in test/Target/Accel/Inputs/*.s; do
  "$BUILD_DIR/bin/accel-sim" --assemble "$s" \
    -o "$corpus/accel-bin/$(basename "$s" .s).bin"
done

# Runs per target in the test command: about a minute each on this project's
# 2-core machine (the .npy reader and the accelerator binary decoder are much
# faster than the MLIR targets).
declare -A RUNS=([npy]=1500000 [onnx]=30000 [mlir-cpp]=25000 [accel-bin]=1500000)
for t in $TARGETS; do
  runs=${LOWBIT_FUZZ_RUNS:-${RUNS[$t]}}
  echo "== sanitizer tier: fuzzing $t (seed $SEED, $runs runs, at most ${SECONDS_PER_TARGET} s)"
  tier "fuzz $t ($runs runs)" "$BUILD_DIR/bin/lowbit-fuzz-$t" "$corpus/$t" -seed="$SEED" -runs="$runs" \
    -max_total_time="$SECONDS_PER_TARGET" -timeout=10 -rss_limit_mb=2048 \
    -malloc_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="$BUILD_DIR/fuzz-crashes/$t-" > "$corpus/../fuzz-$t.log" 2>&1 || {
    echo "fuzzer $t failed; its input is in $BUILD_DIR/fuzz-crashes/, the log:"
    grep -v '^#' "$corpus/../fuzz-$t.log" | tail -n 60
    exit 1
  }
  grep -E '^#[0-9]+ +DONE|stat::number_of_executed_units|stat::new_units_added' \
    "$corpus/../fuzz-$t.log" || true
done
