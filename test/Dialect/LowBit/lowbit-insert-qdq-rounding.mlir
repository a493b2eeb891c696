// RUN: lowbit-opt %s --split-input-file --lowbit-insert-qdq='weight-bits=4' | FileCheck %s
// RUN: lowbit-opt %s --split-input-file --lowbit-insert-qdq='weight-bits=4 weight-rounding=nearest' | FileCheck %s --check-prefix=NEAREST
// RUN: lowbit-opt %s --split-input-file --lowbit-insert-qdq='weight-bits=4 rounding-mean-weight=1' | FileCheck %s --check-prefix=MEAN
// RUN: lowbit-opt %s --split-input-file --lowbit-insert-qdq='weight-bits=4 weight-scheme=pow2 log-scale=max per-channel=false' | FileCheck %s --check-prefix=POW2
// RUN: lowbit-opt %s --split-input-file --lowbit-insert-qdq='weight-bits=4 weight-scheme=pow2 log-scale=max weight-rounding=nearest per-channel=false' | FileCheck %s --check-prefix=POW2N
// RUN: lowbit-opt %s --split-input-file --lowbit-insert-qdq='weight-bits=4 weight-scheme=pow2 weight-rounding=nearest per-channel=false' | FileCheck %s --check-prefix=LOGMSE

// Correlated weight rounding (the default, weight-rounding=correlated): each
// weight keeps its nearest code or takes the neighbouring one so that
// d^T (I (x) R + kappa 1 1^T) d is least, d = Q(w) - w, R[t, t'] =
// rho^distance between the taps of one input channel (rho = 0.8, kappa = 0.1
// by default). The expected codes are the exhaustive optimum of that
// objective over both neighbours of every weight. POW2 and POW2N fix the
// scale of log codes at U = 2 max|w| (log-scale=max); LOGMSE checks the
// default, least-squared-error U. All three use one U per layer
// (per-channel=false); lowbit-insert-qdq.mlir checks U per channel.

// A smoothing kernel: max 7 gives scale 1 at 4 bits, and round-to-nearest
// takes every 1.4 down to 1, losing 3.2 of the kernel's sum (its response
// to a flat input) of 18.2. Correlated rounding takes three of them up to 2,
// spread over the window (sum 18); power-of-two codes (U = 14: 1.4 lies
// between 0.875 and 1.75, nearer 1.75) take three down to 0.875.
// CHECK-LABEL: func.func @smooth
// CHECK: lowbit.constant dense<{{\[\[\[\[}}7], [2], [1]], {{\[\[}}1], [1], [2]], {{\[\[}}1], [2], [1]]]]> : tensor<1x3x3x1xi4>
// NEAREST-LABEL: func.func @smooth
// NEAREST: lowbit.constant dense<{{\[\[\[\[}}7], [1], [1]], {{\[\[}}1], [1], [1]], {{\[\[}}1], [1], [1]]]]> : tensor<1x3x3x1xi4>
// POW2-LABEL: func.func @smooth
// POW2: values = dense<{{\[\[\[\[}}7.000000e+00], [8.750000e-01], [1.750000e+00]], {{\[\[}}1.750000e+00], [1.750000e+00], [8.750000e-01]], {{\[\[}}1.750000e+00], [8.750000e-01], [1.750000e+00]]]]>
// POW2: lowbit.weight_encoding = #lowbit.log<bits = 4, scale = 1.400000e+01>
// POW2N-LABEL: func.func @smooth
// POW2N: values = dense<{{\[\[\[\[}}7.000000e+00], [1.750000e+00], [1.750000e+00]], {{\[\[}}1.750000e+00], [1.750000e+00], [1.750000e+00]], {{\[\[}}1.750000e+00], [1.750000e+00], [1.750000e+00]]]]>
func.func @smooth(%x: tensor<1x3x3x1xf32> {lowbit.range = array<f64: 0.0, 1.0>}) -> tensor<1x1x1x1xf32> {
  %w = "tosa.const"() {values = dense<[[[[7.0], [1.4], [1.4]], [[1.4], [1.4], [1.4]], [[1.4], [1.4], [1.4]]]]> : tensor<1x3x3x1xf32>} : () -> tensor<1x3x3x1xf32>
  %b = "tosa.const"() {values = dense<0.0> : tensor<1xf32>} : () -> tensor<1xf32>
  %zp = "tosa.const"() {values = dense<0.0> : tensor<1xf32>} : () -> tensor<1xf32>
  %c = tosa.conv2d %x, %w, %b, %zp, %zp {acc_type = f32, dilation = array<i64: 1, 1>, pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 1, 1>, lowbit.range = array<f64: 0.0, 25.0>} : (tensor<1x3x3x1xf32>, tensor<1x3x3x1xf32>, tensor<1xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x1x1x1xf32>
  return %c : tensor<1x1x1x1xf32>
}


// -----

// A fully connected layer has no window: only the mean term couples its
// weights. At kappa = 0.1 moving one 1.4 from 1 to 2 does not pay
// (2 (-0.4 - 0.1 * 1.2) + 1.1 > 0); at kappa = 1 one does.
// CHECK-LABEL: func.func @fc
// CHECK: lowbit.constant dense<{{\[\[\[}}7], [1], [1], [1]]]> : tensor<1x4x1xi4>
// MEAN-LABEL: func.func @fc
// MEAN: lowbit.constant dense<{{\[\[\[}}7], [2], [1], [1]]]> : tensor<1x4x1xi4>
func.func @fc(%x: tensor<1x1x4xf32> {lowbit.range = array<f64: 0.0, 1.0>}) -> tensor<1x1x1xf32> {
  %w = "tosa.const"() {values = dense<[[[7.0], [1.4], [1.4], [1.4]]]> : tensor<1x4x1xf32>} : () -> tensor<1x4x1xf32>
  %zp = "tosa.const"() {values = dense<0.0> : tensor<1xf32>} : () -> tensor<1xf32>
  %y = tosa.matmul %x, %w, %zp, %zp {lowbit.range = array<f64: 0.0, 12.0>} : (tensor<1x1x4xf32>, tensor<1x4x1xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x1x1xf32>
  return %y : tensor<1x1x1xf32>
}


// -----

// With dilation 2 the taps are twice as far apart (less correlated), which
// moves the roundings: the optimum differs from @smooth's.
// CHECK-LABEL: func.func @dilated
// CHECK: lowbit.constant dense<{{\[\[\[\[}}7], [1], [1]], {{\[\[}}2], [1], [2]], {{\[\[}}1], [2], [1]]]]> : tensor<1x3x3x1xi4>
func.func @dilated(%x: tensor<1x5x5x1xf32> {lowbit.range = array<f64: 0.0, 1.0>}) -> tensor<1x1x1x1xf32> {
  %w = "tosa.const"() {values = dense<[[[[7.0], [1.4], [1.4]], [[1.4], [1.4], [1.4]], [[1.4], [1.4], [1.4]]]]> : tensor<1x3x3x1xf32>} : () -> tensor<1x3x3x1xf32>
  %b = "tosa.const"() {values = dense<0.0> : tensor<1xf32>} : () -> tensor<1xf32>
  %zp = "tosa.const"() {values = dense<0.0> : tensor<1xf32>} : () -> tensor<1xf32>
  %c = tosa.conv2d %x, %w, %b, %zp, %zp {acc_type = f32, dilation = array<i64: 2, 2>, pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 1, 1>, lowbit.range = array<f64: 0.0, 25.0>} : (tensor<1x5x5x1xf32>, tensor<1x3x3x1xf32>, tensor<1xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x1x1x1xf32>
  return %c : tensor<1x1x1x1xf32>
}


// -----

// Log codes pick the nearest value in the linear domain (LogQuant.h): with
// U = 2, 0.72 and -0.74 lie below the midpoint 0.75 of 0.5 and 1 (rounding
// -log2(|x| / U) would give them 1 and -1), and 0.007 is nearer 0 than the
// smallest magnitude 2/128. One weight per output channel: both roundings
// agree.
// POW2-LABEL: func.func @log_rule
// POW2: values = dense<{{\[\[\[\[}}1.000000e+00]]], {{\[\[\[}}5.000000e-01]]], {{\[\[\[}}0.000000e+00]]], {{\[\[\[}}-5.000000e-01]]]]> : tensor<4x1x1x1xf32>
// POW2: lowbit.weight_encoding = #lowbit.log<bits = 4, scale = 2.000000e+00>
// POW2N-LABEL: func.func @log_rule
// POW2N: values = dense<{{\[\[\[\[}}1.000000e+00]]], {{\[\[\[}}5.000000e-01]]], {{\[\[\[}}0.000000e+00]]], {{\[\[\[}}-5.000000e-01]]]]> : tensor<4x1x1x1xf32>
func.func @log_rule(%x: tensor<1x1x1x1xf32> {lowbit.range = array<f64: 0.0, 1.0>}) -> tensor<1x1x1x4xf32> {
  %w = "tosa.const"() {values = dense<[[[[1.0]]], [[[0.72]]], [[[0.007]]], [[[-0.74]]]]> : tensor<4x1x1x1xf32>} : () -> tensor<4x1x1x1xf32>
  %b = "tosa.const"() {values = dense<0.0> : tensor<4xf32>} : () -> tensor<4xf32>
  %zp = "tosa.const"() {values = dense<0.0> : tensor<1xf32>} : () -> tensor<1xf32>
  %c = tosa.conv2d %x, %w, %b, %zp, %zp {acc_type = f32, dilation = array<i64: 1, 1>, pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 1, 1>, lowbit.range = array<f64: -1.0, 1.0>} : (tensor<1x1x1x1xf32>, tensor<4x1x1x1xf32>, tensor<4xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x1x1x4xf32>
  return %c : tensor<1x1x1x4xf32>
}

// -----

// The scale of log codes. With U = 2 max|w| = 2 the largest weight is exact
// but the seven 0.3s become 0.25 (squared error 0.0175); the least-squared-
// error U among max|w| 2^(t/32) is 2^(35/32) = 2.134 (t = 35): 1 becomes U/2
// = 1.067 and 0.3 becomes U/8 = 0.267 (squared error 0.0122).
// POW2-LABEL: func.func @log_scale
// POW2: values = dense<{{\[\[\[\[}}1.000000e+00, 2.500000e-01, 2.500000e-01, 2.500000e-01, 2.500000e-01, 2.500000e-01, 2.500000e-01, 2.500000e-01]]]]>
// POW2: lowbit.weight_encoding = #lowbit.log<bits = 4, scale = 2.000000e+00>
// LOGMSE-LABEL: func.func @log_scale
// LOGMSE: values = dense<{{\[\[\[\[}}1.06714046, 0.266785115, 0.266785115, 0.266785115, 0.266785115, 0.266785115, 0.266785115, 0.266785115]]]]>
// LOGMSE: lowbit.weight_encoding = #lowbit.log<bits = 4, scale = 2.1342809200286865>
func.func @log_scale(%x: tensor<1x1x1x8xf32> {lowbit.range = array<f64: 0.0, 1.0>}) -> tensor<1x1x1x1xf32> {
  %w = "tosa.const"() {values = dense<[[[[1.0, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3]]]]> : tensor<1x1x1x8xf32>} : () -> tensor<1x1x1x8xf32>
  %b = "tosa.const"() {values = dense<0.0> : tensor<1xf32>} : () -> tensor<1xf32>
  %zp = "tosa.const"() {values = dense<0.0> : tensor<1xf32>} : () -> tensor<1xf32>
  %c = tosa.conv2d %x, %w, %b, %zp, %zp {acc_type = f32, dilation = array<i64: 1, 1>, pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 1, 1>, lowbit.range = array<f64: 0.0, 4.0>} : (tensor<1x1x1x8xf32>, tensor<1x1x1x8xf32>, tensor<1xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x1x1x1xf32>
  return %c : tensor<1x1x1x1xf32>
}
