// RUN: lowbit-opt %s --emit-bytecode | lowbit-opt | FileCheck %s

// The dialect's ops, quant types and attributes survive MLIR bytecode.

// CHECK-LABEL: func.func @bytecode
// CHECK: lowbit.constant dense<[1, -2, 3, -4]> : tensor<4xi8> -> tensor<4x!quant.uniform<i8:f32, 5.000000e-02:-3>>
// CHECK: lowbit.requant %{{.*}} {max = 100 : i64, multiplier = array<i32: 1518500250>, neg_multiplier = array<i32: 1073741824>, neg_shift = array<i32: 40>, rounding = #lowbit.rounding<double_round>, shift = array<i32: 38>}
// CHECK: weight_encoding = #lowbit.stlq<bits = 3, scale = 5.000000e-01, tile = [16, 16], mask = dense<true> : tensor<1x1xi1>>
func.func @bytecode(%acc: tensor<4xi32>, %x: tensor<1x4x!quant.uniform<i8:f32, 0.1>>, %w: tensor<2x4x4xi3>) -> (tensor<4x!quant.uniform<i8:f32, 0.05:-3>>, tensor<4x!quant.uniform<i8:f32, 0.05:-3>>, tensor<1x4xi32>) {
  %c = lowbit.constant dense<[1, -2, 3, -4]> : tensor<4xi8> -> tensor<4x!quant.uniform<i8:f32, 0.05:-3>>
  %y = lowbit.requant %acc {multiplier = array<i32: 1518500250>, shift = array<i32: 38>, neg_multiplier = array<i32: 1073741824>, neg_shift = array<i32: 40>, rounding = #lowbit.rounding<double_round>, max = 100 : i64} : tensor<4xi32> -> tensor<4x!quant.uniform<i8:f32, 0.05:-3>>
  %f = lowbit.fully_connected %x, %w {weight_encoding = #lowbit.stlq<bits = 3, scale = 0.5, tile = [16, 16], mask = dense<true> : tensor<1x1xi1>>} : (tensor<1x4x!quant.uniform<i8:f32, 0.1>>, tensor<2x4x4xi3>) -> tensor<1x4xi32>
  return %c, %y, %f : tensor<4x!quant.uniform<i8:f32, 0.05:-3>>, tensor<4x!quant.uniform<i8:f32, 0.05:-3>>, tensor<1x4xi32>
}
