// RUN: lowbit-opt %s --split-input-file --verify-diagnostics --pass-pipeline='builtin.module(func.func(lowbit-assign-bitwidth{target-sqnr=30}))'
// Bad options: a located error on the function, non-zero exit.
// RUN: not lowbit-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(lowbit-assign-bitwidth{cost=energy}))' 2>&1 | FileCheck %s --check-prefix=COST
// COST: error: lowbit-assign-bitwidth: unknown cost 'energy' (bits or bitops)
// RUN: not lowbit-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(lowbit-assign-bitwidth{weight-scheme=pow2}))' 2>&1 | FileCheck %s --check-prefix=SCHEME
// SCHEME: error: lowbit-assign-bitwidth: unknown weight-scheme 'pow2' (symmetric or asymmetric)
// RUN: not lowbit-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(lowbit-assign-bitwidth{activation-bits=20}))' 2>&1 | FileCheck %s --check-prefix=ABITS
// ABITS: error: lowbit-assign-bitwidth: activation-bits must be in [2, 16], got 20
// RUN: not lowbit-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(lowbit-assign-bitwidth{search=random}))' 2>&1 | FileCheck %s --check-prefix=SEARCH
// SEARCH: error: lowbit-assign-bitwidth: unknown search 'random' (exact or greedy)

// A target no candidate reaches: 1/gamma = 1e-3 + 1e-3 (w8) + 1e-5 (a8).
// expected-error @+1 {{lowbit-assign-bitwidth: target-sqnr 30.00 dB is out of reach: the least-noise candidates predict 26.97 dB}}
func.func @unreachable(%x: tensor<1x4x4x4xf32>) -> tensor<1x4x4x4xf32> attributes {lowbit.fixed_sqnr = 30.0 : f64} {
  %wa = "tosa.const"() <{values = dense<0.5> : tensor<4x1x1x4xf32>}> : () -> tensor<4x1x1x4xf32>
  %ba = "tosa.const"() <{values = dense<0.0> : tensor<4xf32>}> : () -> tensor<4xf32>
  %zp = "tosa.const"() <{values = dense<0.0> : tensor<1xf32>}> : () -> tensor<1xf32>
  %a = tosa.conv2d %x, %wa, %ba, %zp, %zp {acc_type = f32, dilation = array<i64: 1, 1>, pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 1, 1>, lowbit.sqnr_table = {a8 = 50.0 : f64, w4 = 22.0 : f64, w8 = 30.0 : f64}} : (tensor<1x4x4x4xf32>, tensor<4x1x1x4xf32>, tensor<4xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x4x4x4xf32>
  return %a : tensor<1x4x4x4xf32>
}

// -----

func.func @bad_key(%x: tensor<1x4x4x4xf32>) -> tensor<1x4x4x4xf32> {
  %wa = "tosa.const"() <{values = dense<0.5> : tensor<4x1x1x4xf32>}> : () -> tensor<4x1x1x4xf32>
  %ba = "tosa.const"() <{values = dense<0.0> : tensor<4xf32>}> : () -> tensor<4xf32>
  %zp = "tosa.const"() <{values = dense<0.0> : tensor<1xf32>}> : () -> tensor<1xf32>
  // expected-error @+1 {{lowbit-assign-bitwidth: bad lowbit.sqnr_table entry 'w9': keys are w2..w8, log2..log5 or a2..a16, values floats (dB)}}
  %a = tosa.conv2d %x, %wa, %ba, %zp, %zp {acc_type = f32, dilation = array<i64: 1, 1>, pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 1, 1>, lowbit.sqnr_table = {a8 = 50.0 : f64, w9 = 60.0 : f64}} : (tensor<1x4x4x4xf32>, tensor<4x1x1x4xf32>, tensor<4xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x4x4x4xf32>
  return %a : tensor<1x4x4x4xf32>
}

// -----

func.func @not_a_dictionary(%x: tensor<1x4x4x4xf32>) -> tensor<1x4x4x4xf32> {
  %wa = "tosa.const"() <{values = dense<0.5> : tensor<4x1x1x4xf32>}> : () -> tensor<4x1x1x4xf32>
  %ba = "tosa.const"() <{values = dense<0.0> : tensor<4xf32>}> : () -> tensor<4xf32>
  %zp = "tosa.const"() <{values = dense<0.0> : tensor<1xf32>}> : () -> tensor<1xf32>
  // expected-error @+1 {{lowbit-assign-bitwidth: lowbit.sqnr_table must be a dictionary}}
  %a = tosa.conv2d %x, %wa, %ba, %zp, %zp {acc_type = f32, dilation = array<i64: 1, 1>, pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 1, 1>, lowbit.sqnr_table = [50.0]} : (tensor<1x4x4x4xf32>, tensor<4x1x1x4xf32>, tensor<4xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x4x4x4xf32>
  return %a : tensor<1x4x4x4xf32>
}

// -----

// cost=bits keeps activations at activation-bits: the table must say a8.
func.func @no_a8(%x: tensor<1x4x4x4xf32>) -> tensor<1x4x4x4xf32> {
  %wa = "tosa.const"() <{values = dense<0.5> : tensor<4x1x1x4xf32>}> : () -> tensor<4x1x1x4xf32>
  %ba = "tosa.const"() <{values = dense<0.0> : tensor<4xf32>}> : () -> tensor<4xf32>
  %zp = "tosa.const"() <{values = dense<0.0> : tensor<1xf32>}> : () -> tensor<1xf32>
  // expected-error @+1 {{lowbit-assign-bitwidth: cost=bits keeps activations at activation-bits=8, but the layer's lowbit.sqnr_table has no a8}}
  %a = tosa.conv2d %x, %wa, %ba, %zp, %zp {acc_type = f32, dilation = array<i64: 1, 1>, pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 1, 1>, lowbit.sqnr_table = {a4 = 20.0 : f64, w8 = 60.0 : f64}} : (tensor<1x4x4x4xf32>, tensor<4x1x1x4xf32>, tensor<4xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x4x4x4xf32>
  return %a : tensor<1x4x4x4xf32>
}

// -----

// expected-error @+1 {{lowbit-assign-bitwidth: lowbit.fixed_sqnr must be a float (dB)}}
func.func @bad_fixed(%x: tensor<1x4x4x4xf32>) -> tensor<1x4x4x4xf32> attributes {lowbit.fixed_sqnr = "high"} {
  return %x : tensor<1x4x4x4xf32>
}
