// RUN: lowbit-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(lowbit-assign-bitwidth{target-sqnr=25}))' | FileCheck %s --check-prefix=T25
// RUN: lowbit-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(lowbit-assign-bitwidth{target-sqnr=14.9}))' | FileCheck %s --check-prefix=T15
// RUN: lowbit-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(lowbit-assign-bitwidth{target-sqnr=19.9 cost=bitops}))' | FileCheck %s --check-prefix=OPS
// The greedy search finds the same on these, except on @greedy_loses:
// RUN: lowbit-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(lowbit-assign-bitwidth{target-sqnr=25 search=greedy}))' | FileCheck %s --check-prefix=T25
// RUN: lowbit-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(lowbit-assign-bitwidth{target-sqnr=14.9 search=greedy}))' | FileCheck %s --check-prefix=T15
// RUN: lowbit-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(lowbit-assign-bitwidth{target-sqnr=19.9 cost=bitops search=greedy}))' | FileCheck %s --check-prefix=OPS
// RUN: lowbit-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(lowbit-assign-bitwidth{target-sqnr=20}))' | FileCheck %s --check-prefix=EXACT
// RUN: lowbit-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(lowbit-assign-bitwidth{target-sqnr=20 search=greedy}))' | FileCheck %s --check-prefix=GREEDY

// Two 1x1 convolutions, 16 and 32 weights; @b is the more sensitive one.
// Noise powers (1/gamma): fixed 1e-6; a8 1e-5 each; @a w8/w6/w4/w2
// 2.5e-5/4.0e-4/6.3e-3/0.1, @b 1e-4/1.6e-3/2.5e-2/0.4.
//
// target 25 dB (noise budget 3.16e-3), cost=bits: from w8/w8, @a to w6
// saves 32 bits for 3.7e-4 (the best ratio), then @b to w6 saves 64 bits
// for 1.5e-3 (total 2.0e-3); w4 anywhere would pass the budget.
// T25-LABEL: func.func @two_layers
// T25-SAME: lowbit.predicted_sqnr = 26.9{{[0-9]*}} : f64
// T25: tosa.conv2d
// T25-SAME: lowbit.activation_bits = 8 : i64
// T25-SAME: lowbit.layer_sqnr = 33.{{[0-9]*}} : f64
// T25-SAME: lowbit.weight_bits = 6 : i64
// T25-SAME: lowbit.weight_bytes = 12 : i64
// T25-SAME: lowbit.weight_scheme = "symmetric"
// T25: tosa.conv2d
// T25-SAME: lowbit.weight_bits = 6 : i64
// T25-SAME: lowbit.weight_bytes = 24 : i64
//
// target 14.9 dB (budget 3.24e-2): both reach w4 (total 3.14e-2), w2 never.
// T15-LABEL: func.func @two_layers
// T15: tosa.conv2d
// T15-SAME: lowbit.weight_bits = 4 : i64
// T15-SAME: lowbit.weight_bytes = 8 : i64
// T15: tosa.conv2d
// T15-SAME: lowbit.weight_bits = 4 : i64
// T15-SAME: lowbit.weight_bytes = 16 : i64
func.func @two_layers(%x: tensor<1x4x4x4xf32>) -> tensor<1x4x4x8xf32> attributes {lowbit.fixed_sqnr = 60.0 : f64} {
  %wa = "tosa.const"() <{values = dense<0.5> : tensor<4x1x1x4xf32>}> : () -> tensor<4x1x1x4xf32>
  %wb = "tosa.const"() <{values = dense<0.25> : tensor<8x1x1x4xf32>}> : () -> tensor<8x1x1x4xf32>
  %ba = "tosa.const"() <{values = dense<0.0> : tensor<4xf32>}> : () -> tensor<4xf32>
  %bb = "tosa.const"() <{values = dense<0.0> : tensor<8xf32>}> : () -> tensor<8xf32>
  %zp = "tosa.const"() <{values = dense<0.0> : tensor<1xf32>}> : () -> tensor<1xf32>
  %a = tosa.conv2d %x, %wa, %ba, %zp, %zp {acc_type = f32, dilation = array<i64: 1, 1>, pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 1, 1>, lowbit.sqnr_table = {a8 = 50.0 : f64, w2 = 10.0 : f64, w4 = 22.0 : f64, w6 = 34.0 : f64, w8 = 46.0 : f64}} : (tensor<1x4x4x4xf32>, tensor<4x1x1x4xf32>, tensor<4xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x4x4x4xf32>
  %b = tosa.conv2d %a, %wb, %bb, %zp, %zp {acc_type = f32, dilation = array<i64: 1, 1>, pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 1, 1>, lowbit.sqnr_table = {a8 = 50.0 : f64, w2 = 4.0 : f64, w4 = 16.0 : f64, w6 = 28.0 : f64, w8 = 40.0 : f64}} : (tensor<1x4x4x4xf32>, tensor<8x1x1x4xf32>, tensor<8xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x4x4x8xf32>
  return %b : tensor<1x4x4x8xf32>
}

// -----

// cost=bitops chooses activations too. MACs: @a 256, @b 512. From w8 a16
// everywhere the greedy steps are: @b a8, @a a8, @b a4, @a a4, then @a w4
// (4096 bit-ops for 6.3e-3: total 9.9e-3 of the budget 1.02e-2); @b w4
// would add 2.5e-2. A log candidate as good as w8 and cheaper is taken.
// OPS-LABEL: func.func @bitops
// OPS: tosa.conv2d
// OPS-SAME: lowbit.activation_bits = 4 : i64
// OPS-SAME: lowbit.weight_bits = 4 : i64
// OPS-SAME: lowbit.weight_scheme = "symmetric"
// OPS: tosa.conv2d
// OPS-SAME: lowbit.activation_bits = 4 : i64
// OPS-SAME: lowbit.weight_bits = 5 : i64
// OPS-SAME: lowbit.weight_scheme = "pow2"
// T25-LABEL: func.func @bitops
// T15-LABEL: func.func @bitops
func.func @bitops(%x: tensor<1x4x4x4xf32>) -> tensor<1x4x4x8xf32> attributes {lowbit.fixed_sqnr = 60.0 : f64} {
  %wa = "tosa.const"() <{values = dense<0.5> : tensor<4x1x1x4xf32>}> : () -> tensor<4x1x1x4xf32>
  %wb = "tosa.const"() <{values = dense<0.25> : tensor<8x1x1x4xf32>}> : () -> tensor<8x1x1x4xf32>
  %ba = "tosa.const"() <{values = dense<0.0> : tensor<4xf32>}> : () -> tensor<4xf32>
  %bb = "tosa.const"() <{values = dense<0.0> : tensor<8xf32>}> : () -> tensor<8xf32>
  %zp = "tosa.const"() <{values = dense<0.0> : tensor<1xf32>}> : () -> tensor<1xf32>
  %a = tosa.conv2d %x, %wa, %ba, %zp, %zp {acc_type = f32, dilation = array<i64: 1, 1>, pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 1, 1>, lowbit.sqnr_table = {a16 = 90.0 : f64, a4 = 26.0 : f64, a8 = 50.0 : f64, w4 = 22.0 : f64, w8 = 46.0 : f64}} : (tensor<1x4x4x4xf32>, tensor<4x1x1x4xf32>, tensor<4xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x4x4x4xf32>
  %b = tosa.conv2d %a, %wb, %bb, %zp, %zp {acc_type = f32, dilation = array<i64: 1, 1>, pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 1, 1>, lowbit.sqnr_table = {a16 = 90.0 : f64, a4 = 30.0 : f64, a8 = 50.0 : f64, log5 = 40.0 : f64, w4 = 16.0 : f64, w8 = 40.0 : f64}} : (tensor<1x4x4x4xf32>, tensor<8x1x1x4xf32>, tensor<8xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x4x4x8xf32>
  return %b : tensor<1x4x4x8xf32>
}

// -----

// Layers without a table are left alone (they quantize as the options say).
// T25-LABEL: func.func @no_table
// T25-NOT: lowbit.weight_bits
// T25: lowbit.predicted_sqnr = 6.000000e+01
func.func @no_table(%x: tensor<1x4x4x4xf32>) -> tensor<1x4x4x4xf32> attributes {lowbit.fixed_sqnr = 60.0 : f64} {
  %wa = "tosa.const"() <{values = dense<0.5> : tensor<4x1x1x4xf32>}> : () -> tensor<4x1x1x4xf32>
  %ba = "tosa.const"() <{values = dense<0.0> : tensor<4xf32>}> : () -> tensor<4xf32>
  %zp = "tosa.const"() <{values = dense<0.0> : tensor<1xf32>}> : () -> tensor<1xf32>
  %a = tosa.conv2d %x, %wa, %ba, %zp, %zp {acc_type = f32, dilation = array<i64: 1, 1>, pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 1, 1>} : (tensor<1x4x4x4xf32>, tensor<4x1x1x4xf32>, tensor<4xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x4x4x4xf32>
  return %a : tensor<1x4x4x4xf32>
}

// -----

// Where the greedy loses (target 20 dB: noise budget 0.01). @a (16
// weights): w2 saves 96 bits for 5e-4, the best ratio, so the greedy takes
// it first; then @b's w4 (9.9e-3) no longer fits, and the total is 32 +
// 2048 bits. The exact search keeps @a at w8 and gives @b w4: 128 + 1024.
// EXACT-LABEL: func.func @greedy_loses
// EXACT: tosa.conv2d
// EXACT-SAME: lowbit.weight_bits = 8 : i64
// EXACT: tosa.conv2d
// EXACT-SAME: lowbit.weight_bits = 4 : i64
// GREEDY-LABEL: func.func @greedy_loses
// GREEDY: tosa.conv2d
// GREEDY-SAME: lowbit.weight_bits = 2 : i64
// GREEDY: tosa.conv2d
// GREEDY-SAME: lowbit.weight_bits = 8 : i64
// T25-LABEL: func.func @greedy_loses
// T15-LABEL: func.func @greedy_loses
func.func @greedy_loses(%x: tensor<1x4x4x4xf32>) -> tensor<1x4x4x64xf32> {
  %wa = "tosa.const"() <{values = dense<0.5> : tensor<4x1x1x4xf32>}> : () -> tensor<4x1x1x4xf32>
  %wb = "tosa.const"() <{values = dense<0.25> : tensor<64x1x1x4xf32>}> : () -> tensor<64x1x1x4xf32>
  %ba = "tosa.const"() <{values = dense<0.0> : tensor<4xf32>}> : () -> tensor<4xf32>
  %bb = "tosa.const"() <{values = dense<0.0> : tensor<64xf32>}> : () -> tensor<64xf32>
  %zp = "tosa.const"() <{values = dense<0.0> : tensor<1xf32>}> : () -> tensor<1xf32>
  %a = tosa.conv2d %x, %wa, %ba, %zp, %zp {acc_type = f32, dilation = array<i64: 1, 1>, pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 1, 1>, lowbit.sqnr_table = {w2 = 33.0103 : f64, w8 = 60.0 : f64}} : (tensor<1x4x4x4xf32>, tensor<4x1x1x4xf32>, tensor<4xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x4x4x4xf32>
  %b = tosa.conv2d %a, %wb, %bb, %zp, %zp {acc_type = f32, dilation = array<i64: 1, 1>, pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 1, 1>, lowbit.sqnr_table = {w4 = 20.0436 : f64, w8 = 60.0 : f64}} : (tensor<1x4x4x4xf32>, tensor<64x1x1x4xf32>, tensor<64xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x4x4x64xf32>
  return %b : tensor<1x4x4x64xf32>
}
