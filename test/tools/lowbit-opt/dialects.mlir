// RUN: lowbit-opt %s | FileCheck %s

// lowbit-opt reads every dialect a lowbit pipeline passes through: func,
// arith, tensor, tosa, quant, emitc and lowbit.

// CHECK-LABEL: func.func @float_graph
func.func @float_graph(%x: tensor<1x4xf32>) -> tensor<1x4xf32> {
  // CHECK: tosa.clamp
  %0 = tosa.clamp %x {min_val = 0.0 : f32, max_val = 6.0 : f32} : (tensor<1x4xf32>) -> tensor<1x4xf32>
  // CHECK: tensor.empty
  %1 = tensor.empty() : tensor<1x4xf32>
  // CHECK: arith.constant
  %2 = arith.constant dense<1.0> : tensor<1x4xf32>
  return %0 : tensor<1x4xf32>
}

// CHECK-LABEL: func.func @quant_ops
func.func @quant_ops(%x: tensor<4xf32>) -> tensor<4xf32> {
  // CHECK: quant.qcast
  %q = quant.qcast %x : tensor<4xf32> to tensor<4x!quant.uniform<i8:f32, 0.1>>
  // CHECK: quant.dcast
  %d = quant.dcast %q : tensor<4x!quant.uniform<i8:f32, 0.1>> to tensor<4xf32>
  return %d : tensor<4xf32>
}

// CHECK-LABEL: emitc.func @emitted
emitc.func @emitted(%a: i32) -> i32 {
  // CHECK: add %{{.*}}, %{{.*}} : (i32, i32) -> i32
  %0 = emitc.add %a, %a : (i32, i32) -> i32
  emitc.return %0 : i32
}
