// RUN: lowbit-opt %s --lowbit-fold-prelu-requant --canonicalize | FileCheck %s

// After folding, the constant folder evaluates the dual-multiplier requant
// with the runtime's rule. 2^-6 for positives, 2^-9 for negatives, output
// zero point -2:
// -640 -> -1.25 -> -1 -> -3;  -64 -> -0.125 -> 0 -> -2;  64 -> 1 -> -1;
// 640 -> 10 -> 8;  -6400 -> -12.5 -> -12 -> -14 (half up).
// CHECK-LABEL: func.func @folded_values
// CHECK: %[[C:.*]] = lowbit.constant dense<[-3, -2, -1, 8, -14]> : tensor<5xi8>
// CHECK-NOT: lowbit.requant
// CHECK-NOT: lowbit.prelu
// CHECK: return %[[C]]
func.func @folded_values() -> tensor<5x!quant.uniform<i8:f32, 0.1:-2>> {
  %acc = arith.constant dense<[-640, -64, 64, 640, -6400]> : tensor<5xi32>
  %y = lowbit.requant %acc {multiplier = array<i32: 1073741824>, shift = array<i32: 36>} : tensor<5xi32> -> tensor<5x!quant.uniform<i8:f32, 0.1:3>>
  %p = lowbit.prelu %y {pos_multiplier = 1073741824 : i32, pos_shift = 30 : i32, neg_multiplier = array<i32: 1073741824>, neg_shift = array<i32: 33>} : tensor<5x!quant.uniform<i8:f32, 0.1:3>> -> tensor<5x!quant.uniform<i8:f32, 0.1:-2>>
  return %p : tensor<5x!quant.uniform<i8:f32, 0.1:-2>>
}
