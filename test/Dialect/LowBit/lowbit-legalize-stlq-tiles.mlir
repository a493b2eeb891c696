// RUN: lowbit-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(lowbit-legalize-stlq-tiles{weight-rounding=nearest bits=3 ratio=0.5 tile-inputs=1 tile-outputs=1 per-channel=false log-scale=max}))' | FileCheck %s
// RUN: lowbit-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(lowbit-legalize-stlq-tiles{weight-rounding=nearest bits=3 ratio=0 per-channel=false log-scale=max}))' | FileCheck %s --check-prefix=R0
// RUN: lowbit-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(lowbit-legalize-stlq-tiles{weight-rounding=nearest bits=3 ratio=1 tile-inputs=2 tile-outputs=2 log-scale=max keep-log-grid=false}))' | FileCheck %s --check-prefix=R1
// RUN: lowbit-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(lowbit-legalize-stlq-tiles{weight-rounding=nearest bits=3 ratio=0.5 granularity=filter per-channel=false log-scale=max}))' | FileCheck %s --check-prefix=FILTER

// 3-bit codes, U = 2 max|w| = 1.8 per layer: levels 0.9, 0.45, 0.225 on
// both sides and 0.1125 on the negative side only (eq. 1's [-M, M-1]).
// Nearest one-word values (linear midpoints) and residuals r1:
//   0.9 -> 0.9 (r1 0), -0.3 -> -0.225 (-0.075), 0.05 -> 0 (0.05),
//   0.6 -> 0.45 (0.15), -0.2 -> -0.225 (0.025), 0.34 -> 0.45 (-0.11).
// With 1x1 tiles (one weight each) and ratio 0.5, the three largest |r1|
// (0.15, 0.11, 0.075) get a second word LogQ(r1): 0.15 -> 0.225 (above
// half the smallest positive level), -0.11 -> -0.1125, -0.075 -> -0.1125;
// so 0.6 -> 0.675, 0.34 -> 0.3375, -0.3 -> -0.3375.
// CHECK-LABEL: func.func @conv_tiles
// CHECK: %[[W:.*]] = "tosa.const"() <{values = dense<{{\[\[\[\[}}0.899999976, -0.337499976]]], {{\[\[\[}}0.000000e+00, 0.674999952]]], {{\[\[\[}}-2.250000e-01, 0.337499976]]]]>
// CHECK: tosa.conv2d %{{.*}}, %[[W]]
// CHECK-SAME: lowbit.weight_encoding = #lowbit.stlq<bits = 3, scale = 1.7999999523162842, tile = [1, 1], mask = dense<{{\[\[\[\[}}false, true]]], {{\[\[\[}}false, true]]], {{\[\[\[}}false, true]]]]> : tensor<3x1x1x2xi1>>
// R0-LABEL: func.func @conv_tiles
// R0: lowbit.weight_encoding = #lowbit.stlq<bits = 3, scale = 1.7999999523162842, tile = [16, 16], mask = dense<false> : tensor<1x1x1x1xi1>>
// Per channel (U = 2 max|w[o]|: 1.8, 1.2, 0.68), 2x2 tiles, ratio 1: every
// tile has two words.
// Per filter (granularity=filter), ratio 0.5 of 6 weights: filters ranked
// by ||r1||^2 = 0.025 (filter 1), 0.0126 (filter 2), 0.0056 (filter 0);
// filter 1 (2 weights) and then filter 2 (4 is as near 3 as 2) get two
// words; the mask's tile is [I, 1] = [2, 1].
// FILTER-LABEL: func.func @conv_tiles
// FILTER: tile = [2, 1], mask = dense<{{\[\[\[\[}}false]]], {{\[\[\[}}true]]], {{\[\[\[}}true]]]]> : tensor<3x1x1x1xi1>>
// R1-LABEL: func.func @conv_tiles
// R1: tile = [2, 2], mask = dense<true> : tensor<2x1x1x1xi1>, channel_scales = [1.7999999523162842, 1.2000000476837158, 0.68000000715255737]>
func.func @conv_tiles(%x: tensor<1x4x4x2xf32>) -> tensor<1x4x4x3xf32> {
  %w = "tosa.const"() <{values = dense<[[[[0.9, -0.3]]], [[[0.05, 0.6]]], [[[-0.2, 0.34]]]]> : tensor<3x1x1x2xf32>}> : () -> tensor<3x1x1x2xf32>
  %b = "tosa.const"() <{values = dense<0.0> : tensor<3xf32>}> : () -> tensor<3xf32>
  %zp = "tosa.const"() <{values = dense<0.0> : tensor<1xf32>}> : () -> tensor<1xf32>
  %y = tosa.conv2d %x, %w, %b, %zp, %zp {acc_type = f32, dilation = array<i64: 1, 1>, pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 1, 1>} : (tensor<1x4x4x2xf32>, tensor<3x1x1x2xf32>, tensor<3xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x4x4x3xf32>
  return %y : tensor<1x4x4x3xf32>
}

// -----

// A matmul's [1, K, N] weights are tiled as the integer op's [N, K]: the
// mask is [ceil(N / Tm), ceil(K / Tn)] = [2, 3] for N = 3, K = 5 and
// 2x2 tiles.
// R1-LABEL: func.func @matmul_tiles
// R1: lowbit.weight_encoding = #lowbit.stlq<bits = 3, {{.*}}, tile = [2, 2], mask = dense<true> : tensor<2x3xi1>, channel_scales = [
func.func @matmul_tiles(%x: tensor<1x2x5xf32>) -> tensor<1x2x3xf32> {
  %w = "tosa.const"() <{values = dense<[[[0.1, -0.2, 0.3], [0.4, -0.5, 0.6], [0.7, 0.8, -0.9], [0.15, 0.25, 0.35], [-0.45, 0.55, 0.65]]]> : tensor<1x5x3xf32>}> : () -> tensor<1x5x3xf32>
  %zp = "tosa.const"() <{values = dense<0.0> : tensor<1xf32>}> : () -> tensor<1xf32>
  %y = tosa.matmul %x, %w, %zp, %zp : (tensor<1x2x5xf32>, tensor<1x5x3xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x2x3xf32>
  return %y : tensor<1x2x3xf32>
}

// -----

// Weights already on a 3-bit log grid are kept exactly whatever the ratio:
// with U = 2 max|w| = 2, 0.75 = 0.5 + 0.25 and -0.375 = -0.25 - 0.125 need
// two words (their 1x1 tiles get them), 1.0, -0.5, 0.25 one; a layer of
// one-word values gets #lowbit.log.
// CHECK-LABEL: func.func @on_grid
// CHECK: values = dense<{{\[\[\[\[}}1.000000e+00, 7.500000e-01]]], {{\[\[\[}}-5.000000e-01, -3.750000e-01]]]]>
// CHECK: lowbit.weight_encoding = #lowbit.stlq<bits = 3, scale = 2.000000e+00, tile = [1, 1], mask = dense<{{\[\[\[\[}}false, true]]], {{\[\[\[}}false, true]]]]> : tensor<2x1x1x2xi1>>
// CHECK: values = dense<{{\[\[\[\[}}1.000000e+00, 2.500000e-01]]], {{\[\[\[}}-5.000000e-01, -1.250000e-01]]]]>
// CHECK: lowbit.weight_encoding = #lowbit.log<bits = 3, scale = 2.000000e+00>
// R0-LABEL: func.func @on_grid
// R0: mask = dense<true> : tensor<1x1x1x1xi1>>
// R0: lowbit.weight_encoding = #lowbit.log<bits = 3, scale = 2.000000e+00>
func.func @on_grid(%x: tensor<1x4x4x2xf32>) -> (tensor<1x4x4x2xf32>, tensor<1x4x4x2xf32>) {
  %w = "tosa.const"() <{values = dense<[[[[1.0, 0.75]]], [[[-0.5, -0.375]]]]> : tensor<2x1x1x2xf32>}> : () -> tensor<2x1x1x2xf32>
  %v = "tosa.const"() <{values = dense<[[[[1.0, 0.25]]], [[[-0.5, -0.125]]]]> : tensor<2x1x1x2xf32>}> : () -> tensor<2x1x1x2xf32>
  %b = "tosa.const"() <{values = dense<0.0> : tensor<2xf32>}> : () -> tensor<2xf32>
  %zp = "tosa.const"() <{values = dense<0.0> : tensor<1xf32>}> : () -> tensor<1xf32>
  %y = tosa.conv2d %x, %w, %b, %zp, %zp {acc_type = f32, dilation = array<i64: 1, 1>, pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 1, 1>} : (tensor<1x4x4x2xf32>, tensor<2x1x1x2xf32>, tensor<2xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x4x4x2xf32>
  %z = tosa.conv2d %x, %v, %b, %zp, %zp {acc_type = f32, dilation = array<i64: 1, 1>, pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 1, 1>} : (tensor<1x4x4x2xf32>, tensor<2x1x1x2xf32>, tensor<2xf32>, tensor<1xf32>, tensor<1xf32>) -> (tensor<1x4x4x2xf32>)
  return %y, %z : tensor<1x4x4x2xf32>, tensor<1x4x4x2xf32>
}

// -----

// An STLQ mask given with another tile shape (2x2 here, one tile) is
// legalized to the target's 1x1 tiles: only the weights that need a second
// word keep one. Weights with a #lowbit.log encoding, and runtime weights,
// are left alone.
// CHECK-LABEL: func.func @relegalize
// CHECK: tosa.conv2d
// CHECK-SAME: #lowbit.stlq<bits = 3, scale = 2.000000e+00, tile = [1, 1], mask = dense<{{\[\[\[\[}}false, true]]], {{\[\[\[}}false, false]]]]> : tensor<2x1x1x2xi1>>
// CHECK: tosa.conv2d
// CHECK-SAME: #lowbit.log<bits = 4, scale = 2.000000e+00>
// CHECK: tosa.conv2d %{{.*}}, %arg1,
// CHECK-NOT: lowbit.weight_encoding
// CHECK: return
func.func @relegalize(%x: tensor<1x4x4x2xf32>, %rw: tensor<2x1x1x2xf32>) -> (tensor<1x4x4x2xf32>, tensor<1x4x4x2xf32>, tensor<1x4x4x2xf32>) {
  %w = "tosa.const"() <{values = dense<[[[[1.0, 0.75]]], [[[-0.5, 0.25]]]]> : tensor<2x1x1x2xf32>}> : () -> tensor<2x1x1x2xf32>
  %b = "tosa.const"() <{values = dense<0.0> : tensor<2xf32>}> : () -> tensor<2xf32>
  %zp = "tosa.const"() <{values = dense<0.0> : tensor<1xf32>}> : () -> tensor<1xf32>
  %y = tosa.conv2d %x, %w, %b, %zp, %zp {acc_type = f32, dilation = array<i64: 1, 1>, pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 1, 1>, lowbit.weight_encoding = #lowbit.stlq<bits = 3, scale = 2.0, tile = [2, 2], mask = dense<true> : tensor<1x1x1x1xi1>>} : (tensor<1x4x4x2xf32>, tensor<2x1x1x2xf32>, tensor<2xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x4x4x2xf32>
  %z = tosa.conv2d %x, %w, %b, %zp, %zp {acc_type = f32, dilation = array<i64: 1, 1>, pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 1, 1>, lowbit.weight_encoding = #lowbit.log<bits = 4, scale = 2.0>} : (tensor<1x4x4x2xf32>, tensor<2x1x1x2xf32>, tensor<2xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x4x4x2xf32>
  %r = tosa.conv2d %x, %rw, %b, %zp, %zp {acc_type = f32, dilation = array<i64: 1, 1>, pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 1, 1>} : (tensor<1x4x4x2xf32>, tensor<2x1x1x2xf32>, tensor<2xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x4x4x2xf32>
  return %y, %z, %r : tensor<1x4x4x2xf32>, tensor<1x4x4x2xf32>, tensor<1x4x4x2xf32>
}

// -----

// Per filter, every kernel position of a chosen filter gets two words:
// filter 0 (residuals 0.15 and -0.11) against filter 1 (0 and 0.025).
// FILTER-LABEL: func.func @filter_positions
// FILTER: tile = [1, 1], mask = dense<{{\[\[\[\[}}true]], {{\[\[}}true]]], {{\[\[\[}}false]], {{\[\[}}false]]]]> : tensor<2x2x1x1xi1>>
func.func @filter_positions(%x: tensor<1x4x4x1xf32>) -> tensor<1x3x4x2xf32> {
  %w = "tosa.const"() <{values = dense<[[[[0.6]], [[0.34]]], [[[0.9]], [[-0.2]]]]> : tensor<2x2x1x1xf32>}> : () -> tensor<2x2x1x1xf32>
  %b = "tosa.const"() <{values = dense<0.0> : tensor<2xf32>}> : () -> tensor<2xf32>
  %zp = "tosa.const"() <{values = dense<0.0> : tensor<1xf32>}> : () -> tensor<1xf32>
  %y = tosa.conv2d %x, %w, %b, %zp, %zp {acc_type = f32, dilation = array<i64: 1, 1>, pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 1, 1>} : (tensor<1x4x4x1xf32>, tensor<2x2x1x1xf32>, tensor<2xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x3x4x2xf32>
  return %y : tensor<1x3x4x2xf32>
}
