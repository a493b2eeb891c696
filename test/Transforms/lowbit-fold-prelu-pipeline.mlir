// RUN: lowbit-opt %s --lowbit-fold-prelu-pipeline | FileCheck %s
// RUN: lowbit-opt %s --lowbit-fold-prelu-pipeline --dump-pass-pipeline -o /dev/null 2>&1 | FileCheck %s --check-prefix=PIPE

// lowbitc --fold-prelu's pass sequence, by name: the PReLU after a requant
// becomes that requant's negative-side multipliers, and canonicalize cleans
// up. (The fold's cases are test/Dialect/LowBit/lowbit-fold-prelu-requant.mlir.)
// PIPE: Pass Manager with 2 passes:
// PIPE-NEXT: builtin.module(
// PIPE-NEXT: func.func(
// PIPE-NEXT: lowbit-fold-prelu-requant
// PIPE-NEXT: ),
// PIPE-NEXT: canonicalize{

// CHECK-LABEL: func.func @requant_prelu
// CHECK-SAME: (%[[ACC:.*]]: tensor<1x4x4x2xi32>)
// CHECK: %[[R:.*]] = lowbit.requant %[[ACC]] {axis = 3 : i64, multiplier = array<i32: 1073741824, 1073741824>, neg_multiplier = array<i32: 1073741824, 1717986918>, neg_shift = array<i32: 39, 40>, shift = array<i32: 36, 36>}
// CHECK-NOT: lowbit.prelu
// CHECK: return %[[R]]
func.func @requant_prelu(%acc: tensor<1x4x4x2xi32>) -> tensor<1x4x4x2x!quant.uniform<i8:f32, 0.1:-2>> {
  %y = lowbit.requant %acc {multiplier = array<i32: 1073741824>, shift = array<i32: 36>} : tensor<1x4x4x2xi32> -> tensor<1x4x4x2x!quant.uniform<i8:f32, 0.1:3>>
  %p = lowbit.prelu %y {pos_multiplier = 1073741824 : i32, pos_shift = 30 : i32, neg_multiplier = array<i32: 1073741824, 1717986918>, neg_shift = array<i32: 33, 34>, axis = 3 : i64} : tensor<1x4x4x2x!quant.uniform<i8:f32, 0.1:3>> -> tensor<1x4x4x2x!quant.uniform<i8:f32, 0.1:-2>>
  return %p : tensor<1x4x4x2x!quant.uniform<i8:f32, 0.1:-2>>
}
