// RUN: lowbit-opt %s | lowbit-opt | FileCheck %s

// Dynamic dimensions are accepted wherever the op's meaning does not depend
// on them; the verifiers check whatever is static.

// CHECK-LABEL: func.func @dynamic_batch
func.func @dynamic_batch(%x: tensor<?x8x8x3x!quant.uniform<i8:f32, 0.02:-4>>, %w: tensor<4x3x3x3x!quant.uniform<i8:f32, 0.01>>, %v: tensor<?x16x!quant.uniform<i8:f32, 0.1>>, %wf: tensor<10x16x!quant.uniform<i8:f32, 0.01>>) -> (tensor<?x4x4x4x!quant.uniform<i8:f32, 0.1>>, tensor<?x10xi32>) {
  // CHECK: lowbit.conv2d {{.*}} -> tensor<?x8x8x4xi32>
  %acc = lowbit.conv2d %x, %w {pad = array<i64: 1, 1, 1, 1>} : (tensor<?x8x8x3x!quant.uniform<i8:f32, 0.02:-4>>, tensor<4x3x3x3x!quant.uniform<i8:f32, 0.01>>) -> tensor<?x8x8x4xi32>
  // CHECK: lowbit.requant {{.*}} -> tensor<?x8x8x4x
  %y = lowbit.requant %acc {multiplier = array<i32: 1073741824>, shift = array<i32: 36>} : tensor<?x8x8x4xi32> -> tensor<?x8x8x4x!quant.uniform<i8:f32, 0.1>>
  // CHECK: lowbit.max_pool {{.*}} -> tensor<?x4x4x4x
  %p = lowbit.max_pool %y {kernel = array<i64: 2, 2>, stride = array<i64: 2, 2>} : tensor<?x8x8x4x!quant.uniform<i8:f32, 0.1>> -> tensor<?x4x4x4x!quant.uniform<i8:f32, 0.1>>
  // CHECK: lowbit.fully_connected {{.*}} -> tensor<?x10xi32>
  %f = lowbit.fully_connected %v, %wf : (tensor<?x16x!quant.uniform<i8:f32, 0.1>>, tensor<10x16x!quant.uniform<i8:f32, 0.01>>) -> tensor<?x10xi32>
  return %p, %f : tensor<?x4x4x4x!quant.uniform<i8:f32, 0.1>>, tensor<?x10xi32>
}

// CHECK-LABEL: func.func @dynamic_concat
// CHECK: lowbit.concat{{.*}} -> tensor<2x?x
func.func @dynamic_concat(%a: tensor<2x?x!quant.uniform<i8:f32, 0.1>>, %b: tensor<2x3x!quant.uniform<i8:f32, 0.1>>) -> tensor<2x?x!quant.uniform<i8:f32, 0.1>> {
  %c = lowbit.concat(%a, %b) {axis = 1 : i64} : (tensor<2x?x!quant.uniform<i8:f32, 0.1>>, tensor<2x3x!quant.uniform<i8:f32, 0.1>>) -> tensor<2x?x!quant.uniform<i8:f32, 0.1>>
  return %c : tensor<2x?x!quant.uniform<i8:f32, 0.1>>
}
