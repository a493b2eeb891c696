// RUN: not lowbit-opt %s --lowbit-insert-qdq 2>&1 | FileCheck %s --check-prefix=RANGE
// RUN: not lowbit-opt %s --lowbit-insert-qdq='weight-bits=9' 2>&1 | FileCheck %s --check-prefix=BITS
// RUN: not lowbit-opt %s --lowbit-insert-qdq='activation-bits=1' 2>&1 | FileCheck %s --check-prefix=ABITS
// RUN: not lowbit-opt %s --lowbit-insert-qdq='weight-scheme=ternary' 2>&1 | FileCheck %s --check-prefix=SCHEME
// RUN: not lowbit-opt %s --lowbit-insert-qdq='weight-rounding=stochastic' 2>&1 | FileCheck %s --check-prefix=ROUNDING
// RUN: not lowbit-opt %s --lowbit-insert-qdq='log-scale=min' 2>&1 | FileCheck %s --check-prefix=LOGSCALE
// RUN: not lowbit-opt %s --lowbit-insert-qdq='rounding-tap-correlation=1' 2>&1 | FileCheck %s --check-prefix=RHO
// RUN: not lowbit-opt %s --lowbit-insert-qdq='rounding-mean-weight=-0.5' 2>&1 | FileCheck %s --check-prefix=KAPPA

// LOGSCALE: error: lowbit-insert-qdq: unknown log-scale 'min' (mse or max)
// ROUNDING: error: lowbit-insert-qdq: unknown weight-rounding 'stochastic' (nearest or correlated)
// RHO: error: lowbit-insert-qdq: rounding-tap-correlation must be in [0, 1), got 1.000000e+00
// KAPPA: error: lowbit-insert-qdq: rounding-mean-weight must be finite and >= 0, got -5.000000e-01

// RANGE: lowbit-insert-qdq-invalid.mlir:[[@LINE+5]]:1: error: lowbit-insert-qdq: tensor has no calibrated range (run calibration first: lowbitc --calibration FILE.npy)
// BITS: error: lowbit-insert-qdq: weight-bits must be in [2, 8], got 9
// ABITS: error: lowbit-insert-qdq: activation-bits must be in [2, 16], got 1
// SCHEME: error: lowbit-insert-qdq: unknown weight-scheme 'ternary' (symmetric, asymmetric or pow2)
// RANGE-NOT: Stack dump
func.func @uncalibrated(%x: tensor<1x2x2x1xf32>) -> tensor<1x1x1x1xf32> {
  %p = tosa.max_pool2d %x {kernel = array<i64: 2, 2>, stride = array<i64: 1, 1>, pad = array<i64: 0, 0, 0, 0>} : (tensor<1x2x2x1xf32>) -> tensor<1x1x1x1xf32>
  return %p : tensor<1x1x1x1xf32>
}
