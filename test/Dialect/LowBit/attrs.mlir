// RUN: lowbit-opt %s | lowbit-opt | FileCheck %s
// RUN: lowbit-opt %s --mlir-print-op-generic | FileCheck %s --check-prefix=GENERIC

// Weight-encoding attributes keep every parameter through a round trip,
// including scales that are not short decimals.

// CHECK-LABEL: func.func @log_scales
// CHECK-SAME: #lowbit.log<bits = 8, scale = 0.1234567890123
// CHECK-SAME: #lowbit.log<bits = 16, scale = 3.0517578125E-5>
// CHECK: #lowbit.log<bits = 2, scale = 1.000000e+00>
// GENERIC: "lowbit.fully_connected"
// GENERIC-SAME: weight_encoding = #lowbit.log<bits = 2, scale = 1.000000e+00>
// Codes wider than 5 bits have no integer form (the lowbit ops refuse them,
// lowbit-ops-invalid.mlir); the attributes themselves take up to 16 bits.
func.func @log_scales(%x: tensor<1x4x!quant.uniform<i8:f32, 0.1>>, %a: tensor<2x4xi2>) -> tensor<1x2xi32> attributes {lowbit.wide = [#lowbit.log<bits = 8, scale = 0.12345678901234567>, #lowbit.log<bits = 16, scale = 3.0517578125e-05>]} {
  %0 = lowbit.fully_connected %x, %a {weight_encoding = #lowbit.log<bits = 2, scale = 1.0>} : (tensor<1x4x!quant.uniform<i8:f32, 0.1>>, tensor<2x4xi2>) -> tensor<1x2xi32>
  return %0 : tensor<1x2xi32>
}

// Per-channel log scales (one U per output channel; `scale` is the largest).
// CHECK-LABEL: func.func @log_channel_scales
// CHECK: #lowbit.log<bits = 4, scale = 1.000000e+00, channel_scales = [1.000000e+00, 0.1234567890123
func.func @log_channel_scales(%x: tensor<1x4x!quant.uniform<i8:f32, 0.1>>, %a: tensor<2x4xi4>) -> tensor<1x2xi32> {
  %0 = lowbit.fully_connected %x, %a {weight_encoding = #lowbit.log<bits = 4, scale = 1.0, channel_scales = [1.0, 0.12345678901234567]>} : (tensor<1x4x!quant.uniform<i8:f32, 0.1>>, tensor<2x4xi4>) -> tensor<1x2xi32>
  return %0 : tensor<1x2xi32>
}

// Tiles that do not divide the channel counts round up: 33 outputs by
// Tm = 16 is 3 tiles, 20 inputs by Tn = 8 is 3 tiles.
// CHECK-LABEL: func.func @stlq_partial_tiles
// CHECK: #lowbit.stlq<bits = 4, scale = 2.500000e-01, tile = [8, 16], mask = dense<{{\[}}[true, false, false], [false, true, false], [false, false, true]]> : tensor<3x3xi1>>
func.func @stlq_partial_tiles(%x: tensor<2x20x!quant.uniform<u8:f32, 0.1:7>>, %w: tensor<2x33x20xi4>) -> tensor<2x33xi32> {
  %0 = lowbit.fully_connected %x, %w {weight_encoding = #lowbit.stlq<bits = 4, scale = 0.25, tile = [8, 16], mask = dense<[[true, false, false], [false, true, false], [false, false, true]]> : tensor<3x3xi1>>} : (tensor<2x20x!quant.uniform<u8:f32, 0.1:7>>, tensor<2x33x20xi4>) -> tensor<2x33xi32>
  return %0 : tensor<2x33xi32>
}

// Rounding mode attribute on its own.
// CHECK-LABEL: func.func @rounding_attr
// CHECK-SAME: lowbit.mode = #lowbit.rounding<double_round>
func.func @rounding_attr() attributes {lowbit.mode = #lowbit.rounding<double_round>} {
  return
}
