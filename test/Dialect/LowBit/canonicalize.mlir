// RUN: lowbit-opt %s --split-input-file --canonicalize | FileCheck %s

// CHECK-LABEL: func.func @clamp_full_range
// CHECK-SAME: (%[[X:.*]]: tensor<4x!quant.uniform<i8:f32, 1.000000e-01>>)
// CHECK-NOT: lowbit.clamp
// CHECK: return %[[X]]
func.func @clamp_full_range(%x: tensor<4x!quant.uniform<i8:f32, 0.1>>) -> tensor<4x!quant.uniform<i8:f32, 0.1>> {
  %c = lowbit.clamp %x {min = -128 : i64, max = 127 : i64} : tensor<4x!quant.uniform<i8:f32, 0.1>>
  return %c : tensor<4x!quant.uniform<i8:f32, 0.1>>
}

// -----

// CHECK-LABEL: func.func @clamp_clamp
// CHECK-SAME: (%[[X:.*]]: tensor<4xi8>)
// CHECK: %[[C:.*]] = lowbit.clamp %[[X]] {max = 6 : i64, min = 0 : i64}
// CHECK-NOT: lowbit.clamp
// CHECK: return %[[C]]
func.func @clamp_clamp(%x: tensor<4xi8>) -> tensor<4xi8> {
  %a = lowbit.clamp %x {min = -5 : i64, max = 6 : i64} : tensor<4xi8>
  %b = lowbit.clamp %a {min = 0 : i64, max = 100 : i64} : tensor<4xi8>
  return %b : tensor<4xi8>
}

// -----

// Disjoint ranges: everything lands on the outer bound nearest the inner range.
// CHECK-LABEL: func.func @clamp_disjoint
// CHECK: lowbit.clamp %{{.*}} {max = 10 : i64, min = 10 : i64}
func.func @clamp_disjoint(%x: tensor<4xi8>) -> tensor<4xi8> {
  %a = lowbit.clamp %x {min = 0 : i64, max = 5 : i64} : tensor<4xi8>
  %b = lowbit.clamp %a {min = 10 : i64, max = 20 : i64} : tensor<4xi8>
  return %b : tensor<4xi8>
}

// -----

// A ReLU6 after a requant becomes the requant's saturation range.
// CHECK-LABEL: func.func @clamp_into_requant
// CHECK: %[[R:.*]] = lowbit.requant %{{.*}} {max = 63 : i64, min = 3 : i64, multiplier = array<i32: 1073741824>, shift = array<i32: 36>}
// CHECK-NOT: lowbit.clamp
// CHECK: return %[[R]]
func.func @clamp_into_requant(%acc: tensor<4xi32>) -> tensor<4x!quant.uniform<i8:f32, 0.1:3>> {
  %y = lowbit.requant %acc {multiplier = array<i32: 1073741824>, shift = array<i32: 36>, min = -20 : i64} : tensor<4xi32> -> tensor<4x!quant.uniform<i8:f32, 0.1:3>>
  %c = lowbit.clamp %y {min = 3 : i64, max = 63 : i64} : tensor<4x!quant.uniform<i8:f32, 0.1:3>>
  return %c : tensor<4x!quant.uniform<i8:f32, 0.1:3>>
}

// -----

// The requant has another user, so its range must stay as it is.
// CHECK-LABEL: func.func @clamp_requant_shared
// CHECK: lowbit.requant
// CHECK-NOT: min =
// CHECK: lowbit.clamp
func.func @clamp_requant_shared(%acc: tensor<4xi32>) -> (tensor<4x!quant.uniform<i8:f32, 0.1:3>>, tensor<4x!quant.uniform<i8:f32, 0.1:3>>) {
  %y = lowbit.requant %acc {multiplier = array<i32: 1073741824>, shift = array<i32: 36>} : tensor<4xi32> -> tensor<4x!quant.uniform<i8:f32, 0.1:3>>
  %c = lowbit.clamp %y {min = 3 : i64, max = 63 : i64} : tensor<4x!quant.uniform<i8:f32, 0.1:3>>
  return %y, %c : tensor<4x!quant.uniform<i8:f32, 0.1:3>>, tensor<4x!quant.uniform<i8:f32, 0.1:3>>
}

// -----

// CHECK-LABEL: func.func @reshape_chain
// CHECK-SAME: (%[[X:.*]]: tensor<1x1x1x16x!quant.uniform<i8:f32, 1.000000e-01>>)
// CHECK: %[[R:.*]] = lowbit.reshape %[[X]] : tensor<1x1x1x16x!quant.uniform<i8:f32, 1.000000e-01>> -> tensor<4x4x
// CHECK-NOT: lowbit.reshape
// CHECK: return %[[R]]
func.func @reshape_chain(%x: tensor<1x1x1x16x!quant.uniform<i8:f32, 0.1>>) -> tensor<4x4x!quant.uniform<i8:f32, 0.1>> {
  %a = lowbit.reshape %x : tensor<1x1x1x16x!quant.uniform<i8:f32, 0.1>> -> tensor<1x16x!quant.uniform<i8:f32, 0.1>>
  %b = lowbit.reshape %a : tensor<1x16x!quant.uniform<i8:f32, 0.1>> -> tensor<4x4x!quant.uniform<i8:f32, 0.1>>
  return %b : tensor<4x4x!quant.uniform<i8:f32, 0.1>>
}

// -----

// CHECK-LABEL: func.func @reshape_identity
// CHECK-SAME: (%[[X:.*]]: tensor<16xi8>)
// CHECK-NEXT: return %[[X]]
func.func @reshape_identity(%x: tensor<16xi8>) -> tensor<16xi8> {
  %a = lowbit.reshape %x : tensor<16xi8> -> tensor<16xi8>
  return %a : tensor<16xi8>
}

// -----

// CHECK-LABEL: func.func @reshape_constant
// CHECK: %[[C:.*]] = lowbit.constant dense<{{\[}}[1, 2], [3, 4]]> : tensor<2x2xi8> -> tensor<2x2x!quant.uniform<i8:f32, 1.000000e-01>>
// CHECK-NEXT: return %[[C]]
func.func @reshape_constant() -> tensor<2x2x!quant.uniform<i8:f32, 0.1>> {
  %c = lowbit.constant dense<[1, 2, 3, 4]> : tensor<4xi8> -> tensor<4x!quant.uniform<i8:f32, 0.1>>
  %r = lowbit.reshape %c : tensor<4x!quant.uniform<i8:f32, 0.1>> -> tensor<2x2x!quant.uniform<i8:f32, 0.1>>
  return %r : tensor<2x2x!quant.uniform<i8:f32, 0.1>>
}

// -----

// CHECK-LABEL: func.func @concat_single
// CHECK-SAME: (%[[X:.*]]: tensor<4xi8>)
// CHECK-NEXT: return %[[X]]
func.func @concat_single(%x: tensor<4xi8>) -> tensor<4xi8> {
  %c = lowbit.concat(%x) {axis = 0 : i64} : (tensor<4xi8>) -> tensor<4xi8>
  return %c : tensor<4xi8>
}

// -----

// CHECK-LABEL: func.func @quantize_dequantize
// CHECK-SAME: (%[[Q:.*]]: tensor<4x!quant.uniform<u8:f32, 1.000000e-01:128>>)
// CHECK-NEXT: return %[[Q]]
func.func @quantize_dequantize(%q: tensor<4x!quant.uniform<u8:f32, 0.1:128>>) -> tensor<4x!quant.uniform<u8:f32, 0.1:128>> {
  %d = lowbit.dequantize %q : tensor<4x!quant.uniform<u8:f32, 0.1:128>> -> tensor<4xf32>
  %r = lowbit.quantize %d : tensor<4xf32> -> tensor<4x!quant.uniform<u8:f32, 0.1:128>>
  return %r : tensor<4x!quant.uniform<u8:f32, 0.1:128>>
}

// -----

// A different scale is a real rescale and stays.
// CHECK-LABEL: func.func @quantize_dequantize_rescale
// CHECK: lowbit.dequantize
// CHECK: lowbit.quantize
func.func @quantize_dequantize_rescale(%q: tensor<4x!quant.uniform<u8:f32, 0.1:128>>) -> tensor<4x!quant.uniform<u8:f32, 0.2:128>> {
  %d = lowbit.dequantize %q : tensor<4x!quant.uniform<u8:f32, 0.1:128>> -> tensor<4xf32>
  %r = lowbit.quantize %d : tensor<4xf32> -> tensor<4x!quant.uniform<u8:f32, 0.2:128>>
  return %r : tensor<4x!quant.uniform<u8:f32, 0.2:128>>
}

// -----

// CHECK-LABEL: func.func @max_pool_identity
// CHECK-SAME: (%[[X:.*]]: tensor<1x4x4x2xi8>)
// CHECK-NEXT: return %[[X]]
func.func @max_pool_identity(%x: tensor<1x4x4x2xi8>) -> tensor<1x4x4x2xi8> {
  %p = lowbit.max_pool %x {kernel = array<i64: 1, 1>} : tensor<1x4x4x2xi8> -> tensor<1x4x4x2xi8>
  return %p : tensor<1x4x4x2xi8>
}

// -----

// A real window stays.
// CHECK-LABEL: func.func @max_pool_kept
// CHECK: lowbit.max_pool
func.func @max_pool_kept(%x: tensor<1x4x4x2xi8>) -> tensor<1x3x3x2xi8> {
  %p = lowbit.max_pool %x {kernel = array<i64: 2, 2>} : tensor<1x4x4x2xi8> -> tensor<1x3x3x2xi8>
  return %p : tensor<1x3x3x2xi8>
}

// -----

// CHECK-LABEL: func.func @bitcast_round_trip
// CHECK-SAME: (%[[X:.*]]: tensor<4xui8>)
// CHECK-NEXT: return %[[X]]
func.func @bitcast_round_trip(%x: tensor<4xui8>) -> tensor<4xui8> {
  %q = lowbit.bitcast %x : tensor<4xui8> -> tensor<4x!quant.uniform<u8:f32, 0.1:128>>
  %y = lowbit.bitcast %q : tensor<4x!quant.uniform<u8:f32, 0.1:128>> -> tensor<4xui8>
  return %y : tensor<4xui8>
}

// -----

// A ReLU range is not the full storage range and stays (regression: the
// unsigned attribute getters once made it look full).
// CHECK-LABEL: func.func @clamp_relu_kept
// CHECK: lowbit.clamp %{{.*}} {max = 127 : i64, min = 0 : i64}
func.func @clamp_relu_kept(%x: tensor<4xi8>) -> tensor<4xi8> {
  %c = lowbit.clamp %x {min = 0 : i64, max = 127 : i64} : tensor<4xi8>
  return %c : tensor<4xi8>
}

// -----

// CHECK-LABEL: func.func @clamp_negative_kept
// CHECK: lowbit.clamp %{{.*}} {max = 5 : i64, min = -128 : i64}
func.func @clamp_negative_kept(%x: tensor<4xi8>) -> tensor<4xi8> {
  %c = lowbit.clamp %x {min = -128 : i64, max = 5 : i64} : tensor<4xi8>
  return %c : tensor<4xi8>
}
