// RUN: lowbit-opt %s --split-input-file --verify-diagnostics --pass-pipeline='builtin.module(func.func(lowbit-legalize-stlq-tiles{tile-inputs=1 tile-outputs=1}))'
// Bad options: a located error on the function, non-zero exit.
// RUN: not lowbit-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(lowbit-legalize-stlq-tiles{ratio=1.5}))' 2>&1 | FileCheck %s --check-prefix=RATIO
// RATIO: error: lowbit-legalize-stlq-tiles: ratio must be in [0, 1], got 1.5
// RUN: not lowbit-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(lowbit-legalize-stlq-tiles{bits=1}))' 2>&1 | FileCheck %s --check-prefix=BITS
// BITS: error: lowbit-legalize-stlq-tiles: bits must be in [2, 8], got 1
// RUN: not lowbit-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(lowbit-legalize-stlq-tiles{tile-inputs=0}))' 2>&1 | FileCheck %s --check-prefix=TILE
// TILE: error: lowbit-legalize-stlq-tiles: tile-inputs and tile-outputs must be in [1, 2^31], got 0 and 16
// RUN: not lowbit-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(lowbit-legalize-stlq-tiles{log-scale=geometric}))' 2>&1 | FileCheck %s --check-prefix=SCALE
// SCALE: error: lowbit-legalize-stlq-tiles: unknown log-scale 'geometric' (mse or max)
// RUN: not lowbit-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(lowbit-legalize-stlq-tiles{granularity=layer}))' 2>&1 | FileCheck %s --check-prefix=GRAN
// GRAN: error: lowbit-legalize-stlq-tiles: granularity must be tile or filter, got 'layer'
// Re-tiling a mask needs integer codes (at most 5 bits): a clear error.
// RUN: not lowbit-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(lowbit-legalize-stlq-tiles{bits=6 tile-inputs=1 tile-outputs=1}))' 2>&1 | FileCheck %s --check-prefix=WIDE
// WIDE: error: lowbit-legalize-stlq-tiles: re-tiling an STLQ encoding needs codes of at most 5 bits, got 6

// Weights that claim an STLQ encoding must be its values: 0.3 is no sum of
// two 3-bit codes of U = 2 (+-1, 0.5, 0.25, and -0.125).
func.func @off_grid(%x: tensor<1x4x4x2xf32>) -> tensor<1x4x4x2xf32> {
  %w = "tosa.const"() <{values = dense<[[[[1.0, 0.3]]], [[[-0.5, 0.25]]]]> : tensor<2x1x1x2xf32>}> : () -> tensor<2x1x1x2xf32>
  %b = "tosa.const"() <{values = dense<0.0> : tensor<2xf32>}> : () -> tensor<2xf32>
  %zp = "tosa.const"() <{values = dense<0.0> : tensor<1xf32>}> : () -> tensor<1xf32>
  // expected-error @+1 {{lowbit-legalize-stlq-tiles: the weights are not values of their #lowbit.stlq encoding}}
  %y = tosa.conv2d %x, %w, %b, %zp, %zp {acc_type = f32, dilation = array<i64: 1, 1>, pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 1, 1>, lowbit.weight_encoding = #lowbit.stlq<bits = 3, scale = 2.0, tile = [2, 2], mask = dense<true> : tensor<1x1x1x1xi1>>} : (tensor<1x4x4x2xf32>, tensor<2x1x1x2xf32>, tensor<2xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x4x4x2xf32>
  return %y : tensor<1x4x4x2xf32>
}

// -----

// The pass's word width must be the encoding's.
func.func @other_bits(%x: tensor<1x4x4x2xf32>) -> tensor<1x4x4x2xf32> {
  %w = "tosa.const"() <{values = dense<[[[[1.0, 0.75]]], [[[-0.5, 0.25]]]]> : tensor<2x1x1x2xf32>}> : () -> tensor<2x1x1x2xf32>
  %b = "tosa.const"() <{values = dense<0.0> : tensor<2xf32>}> : () -> tensor<2xf32>
  %zp = "tosa.const"() <{values = dense<0.0> : tensor<1xf32>}> : () -> tensor<1xf32>
  // expected-error @+1 {{lowbit-legalize-stlq-tiles: the weights have an STLQ encoding of 4 bits, not 3}}
  %y = tosa.conv2d %x, %w, %b, %zp, %zp {acc_type = f32, dilation = array<i64: 1, 1>, pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 1, 1>, lowbit.weight_encoding = #lowbit.stlq<bits = 4, scale = 2.0, tile = [2, 2], mask = dense<true> : tensor<1x1x1x1xi1>>} : (tensor<1x4x4x2xf32>, tensor<2x1x1x2xf32>, tensor<2xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x4x4x2xf32>
  return %y : tensor<1x4x4x2xf32>
}

// -----

// 6-bit STLQ masks cannot be re-tiled (checked by the WIDE run; the first
// run, with bits=3, sees a width mismatch).
func.func @wide(%x: tensor<1x4x4x2xf32>) -> tensor<1x4x4x2xf32> {
  %w = "tosa.const"() <{values = dense<[[[[1.0, 0.75]]], [[[-0.5, 0.25]]]]> : tensor<2x1x1x2xf32>}> : () -> tensor<2x1x1x2xf32>
  %b = "tosa.const"() <{values = dense<0.0> : tensor<2xf32>}> : () -> tensor<2xf32>
  %zp = "tosa.const"() <{values = dense<0.0> : tensor<1xf32>}> : () -> tensor<1xf32>
  // expected-error @+1 {{lowbit-legalize-stlq-tiles: the weights have an STLQ encoding of 6 bits, not 3}}
  %y = tosa.conv2d %x, %w, %b, %zp, %zp {acc_type = f32, dilation = array<i64: 1, 1>, pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 1, 1>, lowbit.weight_encoding = #lowbit.stlq<bits = 6, scale = 2.0, tile = [2, 2], mask = dense<true> : tensor<1x1x1x1xi1>>} : (tensor<1x4x4x2xf32>, tensor<2x1x1x2xf32>, tensor<2xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x4x4x2xf32>
  return %y : tensor<1x4x4x2xf32>
}
