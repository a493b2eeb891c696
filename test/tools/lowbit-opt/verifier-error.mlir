// RUN: not lowbit-opt %s --lowbit-fold-prelu-requant 2>&1 | FileCheck %s

// Invalid IR is rejected at parse time with the op's location, before any
// pass runs.
// CHECK: verifier-error.mlir:[[@LINE+3]]:8: error: 'lowbit.requant' op positive shift 70 is outside [2, 62]
// CHECK-NOT: Stack dump
func.func @f(%acc: tensor<4xi32>) -> tensor<4x!quant.uniform<i8:f32, 0.1>> {
  %y = lowbit.requant %acc {multiplier = array<i32: 1073741824>, shift = array<i32: 70>} : tensor<4xi32> -> tensor<4x!quant.uniform<i8:f32, 0.1>>
  return %y : tensor<4x!quant.uniform<i8:f32, 0.1>>
}
