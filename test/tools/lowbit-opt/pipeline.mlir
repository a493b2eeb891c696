// RUN: lowbit-opt %s --pass-pipeline='builtin.module(func.func(lowbit-fold-prelu-requant,canonicalize))' | FileCheck %s
// RUN: lowbit-opt %s --lowbit-fold-prelu-requant --mlir-print-ir-after-all -o /dev/null 2>&1 | FileCheck %s --check-prefix=AFTER
// RUN: lowbit-opt %s --lowbit-fold-prelu-requant --mlir-timing -o /dev/null 2>&1 | FileCheck %s --check-prefix=TIMING

// The pass runs on any op, so it nests under func.func in explicit
// pipelines, and MLIR's standard instrumentation flags work.

// CHECK-LABEL: func.func @f
// CHECK: lowbit.requant {{.*}}neg_multiplier
// CHECK-NOT: lowbit.prelu
// AFTER: IR Dump After LowBitFoldPReluRequant
// TIMING: Execution time report
// TIMING: LowBitFoldPReluRequant
func.func @f(%acc: tensor<4xi32>) -> tensor<4x!quant.uniform<i8:f32, 0.1>> {
  %y = lowbit.requant %acc {multiplier = array<i32: 1073741824>, shift = array<i32: 36>} : tensor<4xi32> -> tensor<4x!quant.uniform<i8:f32, 0.1>>
  %p = lowbit.prelu %y {pos_multiplier = 1073741824 : i32, pos_shift = 30 : i32, neg_multiplier = array<i32: 1073741824>, neg_shift = array<i32: 33>} : tensor<4x!quant.uniform<i8:f32, 0.1>> -> tensor<4x!quant.uniform<i8:f32, 0.1>>
  return %p : tensor<4x!quant.uniform<i8:f32, 0.1>>
}
