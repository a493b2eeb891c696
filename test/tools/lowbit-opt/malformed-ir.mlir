// RUN: not lowbit-opt %s 2>&1 | FileCheck %s

// A syntax error gives a located diagnostic and a non-zero exit, not a crash.
// CHECK: malformed-ir.mlir:[[@LINE+3]]:{{[0-9]+}}: error:
// CHECK-NOT: Stack dump
func.func @f(%acc: tensor<4xi32>) {
  %y = lowbit.requant %acc {multiplier = array<i32: 1073741824>, shift = array<i32: 30> : tensor<4xi32> -> tensor<4x!quant.uniform<i8:f32, 0.1>>
  return
}
