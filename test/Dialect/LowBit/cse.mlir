// RUN: lowbit-opt %s --cse | FileCheck %s

// lowbit ops are pure: identical computations are shared and unused ones
// removed by CSE/DCE.

// CHECK-LABEL: func.func @shared
// CHECK-COUNT-1: lowbit.requant
// CHECK-NOT: lowbit.requant
// CHECK-COUNT-1: lowbit.max_pool
// CHECK-NOT: lowbit.max_pool
func.func @shared(%acc: tensor<1x4x4x2xi32>) -> (tensor<1x2x2x2x!quant.uniform<i8:f32, 0.1>>, tensor<1x2x2x2x!quant.uniform<i8:f32, 0.1>>) {
  %a = lowbit.requant %acc {multiplier = array<i32: 1073741824>, shift = array<i32: 36>} : tensor<1x4x4x2xi32> -> tensor<1x4x4x2x!quant.uniform<i8:f32, 0.1>>
  %b = lowbit.requant %acc {multiplier = array<i32: 1073741824>, shift = array<i32: 36>} : tensor<1x4x4x2xi32> -> tensor<1x4x4x2x!quant.uniform<i8:f32, 0.1>>
  %pa = lowbit.max_pool %a {kernel = array<i64: 2, 2>, stride = array<i64: 2, 2>} : tensor<1x4x4x2x!quant.uniform<i8:f32, 0.1>> -> tensor<1x2x2x2x!quant.uniform<i8:f32, 0.1>>
  %pb = lowbit.max_pool %b {kernel = array<i64: 2, 2>, stride = array<i64: 2, 2>} : tensor<1x4x4x2x!quant.uniform<i8:f32, 0.1>> -> tensor<1x2x2x2x!quant.uniform<i8:f32, 0.1>>
  %unused = lowbit.avg_pool %a {kernel = array<i64: 2, 2>} : tensor<1x4x4x2x!quant.uniform<i8:f32, 0.1>> -> tensor<1x3x3x2x!quant.uniform<i8:f32, 0.1>>
  return %pa, %pb : tensor<1x2x2x2x!quant.uniform<i8:f32, 0.1>>, tensor<1x2x2x2x!quant.uniform<i8:f32, 0.1>>
}

// Different rounding is a different computation.
// CHECK-LABEL: func.func @distinct
// CHECK-COUNT-2: lowbit.requant
func.func @distinct(%acc: tensor<4xi32>) -> (tensor<4x!quant.uniform<i8:f32, 0.1>>, tensor<4x!quant.uniform<i8:f32, 0.1>>) {
  %a = lowbit.requant %acc {multiplier = array<i32: 1073741824>, shift = array<i32: 36>} : tensor<4xi32> -> tensor<4x!quant.uniform<i8:f32, 0.1>>
  %b = lowbit.requant %acc {multiplier = array<i32: 1073741824>, shift = array<i32: 36>, rounding = #lowbit.rounding<double_round>} : tensor<4xi32> -> tensor<4x!quant.uniform<i8:f32, 0.1>>
  return %a, %b : tensor<4x!quant.uniform<i8:f32, 0.1>>, tensor<4x!quant.uniform<i8:f32, 0.1>>
}
