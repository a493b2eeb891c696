// RUN: lowbit-opt %s --split-input-file --canonicalize | FileCheck %s

// Constant folding uses the runtime's requantization and quantization rules
// (lowbit/runtime/Requant.h). The expected values below are worked out by
// hand from the op definitions.

// scale 2^-6 * 2^4 = 0.25 (M = 2^30, s = 32), zero point 3, round half up:
// -6 -> -1.5 -> -1 -> 2;  -2 -> -0.5 -> 0 -> 3;  2 -> 0.5 -> 1 -> 4;
//  6 -> 1.5 -> 2 -> 5;  1000 -> 253 -> 127;  -1000 -> -247 -> -128;
//  10 -> 2.5 -> 3 -> 6.
// CHECK-LABEL: func.func @requant_constant
// CHECK: %[[C:.*]] = lowbit.constant dense<[2, 3, 4, 5, 127, -128, 6]> : tensor<7xi8> -> tensor<7x!quant.uniform<i8:f32, 1.000000e-01:3>>
// CHECK-NOT: lowbit.requant
// CHECK: return %[[C]]
func.func @requant_constant() -> tensor<7x!quant.uniform<i8:f32, 0.1:3>> {
  %acc = arith.constant dense<[-6, -2, 2, 6, 1000, -1000, 10]> : tensor<7xi32>
  %y = lowbit.requant %acc {multiplier = array<i32: 1073741824>, shift = array<i32: 32>} : tensor<7xi32> -> tensor<7x!quant.uniform<i8:f32, 0.1:3>>
  return %y : tensor<7x!quant.uniform<i8:f32, 0.1:3>>
}

// -----

// Dual multipliers: negatives use 1/16 (M = 2^30, s = 34), the rest 1/4.
// -16 -> -1 -> 2;  -8 -> -0.5 -> 0 -> 3;  8 -> 2 -> 5;  0 -> 3.
// Double rounding adds 2^30 away from zero only for shifts above 31, which
// moves -8 * 2^30 / 2^34 = -0.5 down to -1 -> 2.
// CHECK-LABEL: func.func @requant_dual
// CHECK: lowbit.constant dense<[2, 3, 5, 3]> : tensor<4xi8>
// CHECK: lowbit.constant dense<[2, 2, 5, 3]> : tensor<4xi8>
func.func @requant_dual() -> (tensor<4x!quant.uniform<i8:f32, 0.1:3>>, tensor<4x!quant.uniform<i8:f32, 0.1:3>>) {
  %acc = arith.constant dense<[-16, -8, 8, 0]> : tensor<4xi32>
  %y = lowbit.requant %acc {multiplier = array<i32: 1073741824>, shift = array<i32: 32>, neg_multiplier = array<i32: 1073741824>, neg_shift = array<i32: 34>} : tensor<4xi32> -> tensor<4x!quant.uniform<i8:f32, 0.1:3>>
  %z = lowbit.requant %acc {multiplier = array<i32: 1073741824>, shift = array<i32: 32>, neg_multiplier = array<i32: 1073741824>, neg_shift = array<i32: 34>, rounding = #lowbit.rounding<double_round>} : tensor<4xi32> -> tensor<4x!quant.uniform<i8:f32, 0.1:3>>
  return %y, %z : tensor<4x!quant.uniform<i8:f32, 0.1:3>>, tensor<4x!quant.uniform<i8:f32, 0.1:3>>
}

// -----

// Per-channel multipliers along axis 1 (x1, x1/2), ReLU range [zp, max],
// 4-bit unsigned output with zero point 2.
// [[3, 3], [-9, 9]] -> [[3, 2], [-9, 5]] (1.5 -> 2) -> +2 -> [[5, 4], [-7, 7]]
// -> saturate to [2, 15] -> [[5, 4], [2, 7]].
// CHECK-LABEL: func.func @requant_per_channel
// CHECK: lowbit.constant dense<{{\[}}[5, 4], [2, 7]]> : tensor<2x2xui4> -> tensor<2x2x!quant.uniform<u4:f32, 5.000000e-01:2>>
func.func @requant_per_channel() -> tensor<2x2x!quant.uniform<u4:f32, 0.5:2>> {
  %acc = arith.constant dense<[[3, 3], [-9, 9]]> : tensor<2x2xi32>
  %y = lowbit.requant %acc {multiplier = array<i32: 1073741824, 1073741824>, shift = array<i32: 30, 31>, axis = 1 : i64, min = 2 : i64} : tensor<2x2xi32> -> tensor<2x2x!quant.uniform<u4:f32, 0.5:2>>
  return %y : tensor<2x2x!quant.uniform<u4:f32, 0.5:2>>
}

// -----

// A quantized input has its zero point removed first: (q - (-4)) * 0.5.
// [-4, 0, 5, 127] -> [0, 4, 9, 131] -> [0, 2, 4.5 -> 5, 65.5 -> 66].
// CHECK-LABEL: func.func @requant_quantized_input
// CHECK: lowbit.constant dense<[0, 2, 5, 66]> : tensor<4xi8>
func.func @requant_quantized_input() -> tensor<4x!quant.uniform<i8:f32, 0.04>> {
  %q = lowbit.constant dense<[-4, 0, 5, 127]> : tensor<4xi8> -> tensor<4x!quant.uniform<i8:f32, 0.02:-4>>
  %y = lowbit.requant %q {multiplier = array<i32: 1073741824>, shift = array<i32: 31>} : tensor<4x!quant.uniform<i8:f32, 0.02:-4>> -> tensor<4x!quant.uniform<i8:f32, 0.04>>
  return %y : tensor<4x!quant.uniform<i8:f32, 0.04>>
}

// -----

// Quantization rounds half to even: x / 0.5 = [0.5, -0.5, 1.5, 200, -0.1]
// -> [0, -0, 2, 200, -0] -> zero point -1 -> [-1, -1, 1, 127 (saturated), -1].
// CHECK-LABEL: func.func @quantize_constant
// CHECK: lowbit.constant dense<[-1, -1, 1, 127, -1]> : tensor<5xi8>
func.func @quantize_constant() -> tensor<5x!quant.uniform<i8:f32, 0.5:-1>> {
  %x = arith.constant dense<[0.25, -0.25, 0.75, 100.0, -0.05]> : tensor<5xf32>
  %q = lowbit.quantize %x : tensor<5xf32> -> tensor<5x!quant.uniform<i8:f32, 0.5:-1>>
  return %q : tensor<5x!quant.uniform<i8:f32, 0.5:-1>>
}

// -----

// Per-axis scales pick the right channel on both axes.
// CHECK-LABEL: func.func @quantize_per_axis
// CHECK: lowbit.constant dense<{{\[}}[2, 2], [6, 2]]> : tensor<2x2xi8>
// CHECK: lowbit.constant dense<{{\[}}[2, 4], [3, 2]]> : tensor<2x2xi8>
func.func @quantize_per_axis() -> (tensor<2x2x!quant.uniform<i8:f32:1, {0.5, 1.0}>>, tensor<2x2x!quant.uniform<i8:f32:0, {0.5, 1.0}>>) {
  %x = arith.constant dense<[[1.0, 2.0], [3.0, 2.0]]> : tensor<2x2xf32>
  %a = lowbit.quantize %x : tensor<2x2xf32> -> tensor<2x2x!quant.uniform<i8:f32:1, {0.5, 1.0}>>
  %b = lowbit.quantize %x : tensor<2x2xf32> -> tensor<2x2x!quant.uniform<i8:f32:0, {0.5, 1.0}>>
  return %a, %b : tensor<2x2x!quant.uniform<i8:f32:1, {0.5, 1.0}>>, tensor<2x2x!quant.uniform<i8:f32:0, {0.5, 1.0}>>
}

// -----

// (q - zp) * scale, unsigned storage read as unsigned.
// CHECK-LABEL: func.func @dequantize_constant
// CHECK: arith.constant dense<[-6.400000e+00, 0.000000e+00, 6.350000e+00]> : tensor<3xf32>
func.func @dequantize_constant() -> tensor<3xf32> {
  %q = lowbit.constant dense<[0, 128, 255]> : tensor<3xui8> -> tensor<3x!quant.uniform<u8:f32, 0.05:128>>
  %x = lowbit.dequantize %q : tensor<3x!quant.uniform<u8:f32, 0.05:128>> -> tensor<3xf32>
  return %x : tensor<3xf32>
}
