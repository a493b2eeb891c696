// RUN: lowbit-opt %s --split-input-file --canonicalize | FileCheck %s

// Constant folding at the edges of the requantization rule.

// INT32 extremes with the largest multiplier and shift:
//  (2^31 - 1)(2^31 - 1) / 2^62 = 0.99999999907 -> 1
// -(2^31)(2^31 - 1) / 2^62 = -0.99999999953 -> -1
// and with shift 2 (scale ~2^29) everything saturates.
// CHECK-LABEL: func.func @int32_extremes
// CHECK: lowbit.constant dense<[1, -1, 0]> : tensor<3xi8>
// CHECK: lowbit.constant dense<[127, -128, 0]> : tensor<3xi8>
func.func @int32_extremes() -> (tensor<3x!quant.uniform<i8:f32, 1.0>>, tensor<3x!quant.uniform<i8:f32, 1.0>>) {
  %acc = arith.constant dense<[2147483647, -2147483648, 0]> : tensor<3xi32>
  %a = lowbit.requant %acc {multiplier = array<i32: 2147483647>, shift = array<i32: 62>} : tensor<3xi32> -> tensor<3x!quant.uniform<i8:f32, 1.0>>
  %b = lowbit.requant %acc {multiplier = array<i32: 2147483647>, shift = array<i32: 2>} : tensor<3xi32> -> tensor<3x!quant.uniform<i8:f32, 1.0>>
  return %a, %b : tensor<3x!quant.uniform<i8:f32, 1.0>>, tensor<3x!quant.uniform<i8:f32, 1.0>>
}

// -----

// 64-bit accumulators take the exact 128-bit product path:
// 2^40 * 2^30 / 2^62 = 256;  -(2^40 + 2^31) * 2^30 / 2^62 = -256.5 -> -256;
// (2^62) * 2^30 / 2^62 = 2^30 -> saturates to 32767.
// CHECK-LABEL: func.func @int64_accumulators
// CHECK: lowbit.constant dense<[256, -256, 32767]> : tensor<3xi16>
func.func @int64_accumulators() -> tensor<3x!quant.uniform<i16:f32, 1.0>> {
  %acc = arith.constant dense<[1099511627776, -1101659111424, 4611686018427387904]> : tensor<3xi64>
  %a = lowbit.requant %acc {multiplier = array<i32: 1073741824>, shift = array<i32: 62>} : tensor<3xi64> -> tensor<3x!quant.uniform<i16:f32, 1.0>>
  return %a : tensor<3x!quant.uniform<i16:f32, 1.0>>
}

// -----

// A zero multiplier maps everything to the zero point.
// CHECK-LABEL: func.func @zero_multiplier
// CHECK: lowbit.constant dense<5> : tensor<3xi8>
func.func @zero_multiplier() -> tensor<3x!quant.uniform<i8:f32, 1.0:5>> {
  %acc = arith.constant dense<[2147483647, -2147483648, 12]> : tensor<3xi32>
  %a = lowbit.requant %acc {multiplier = array<i32: 0>, shift = array<i32: 30>} : tensor<3xi32> -> tensor<3x!quant.uniform<i8:f32, 1.0:5>>
  return %a : tensor<3x!quant.uniform<i8:f32, 1.0:5>>
}
