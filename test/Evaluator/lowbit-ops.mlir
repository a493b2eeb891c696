// The reference evaluator runs lowbit integer IR with the runtime's rules.
// Every expected value below is worked out by hand from the op definitions.
// RUN: %python %S/../lib/npy_tool.py save %t.x.npy int8 1x2x2x1 0,1,2,3
// RUN: %python %S/../lib/npy_tool.py save %t.acc.npy int32 4 -640,-64,64,640
// RUN: %python %S/../lib/npy_tool.py save %t.a.npy int8 2 2,12
// RUN: %python %S/../lib/npy_tool.py save %t.b.npy int8 2 -1,4
// RUN: %python %S/../lib/npy_tool.py save %t.v.npy int8 1x2 1,2
// RUN: rm -rf %t.out && lowbitc %s --run %t.x.npy --run %t.acc.npy --run %t.a.npy --run %t.b.npy --run %t.v.npy -o %t.out
// RUN: %python %S/../lib/npy_tool.py print %t.out/output0.npy | FileCheck %s --check-prefix=CONV
// RUN: %python %S/../lib/npy_tool.py print %t.out/output1.npy | FileCheck %s --check-prefix=REQUANT
// RUN: %python %S/../lib/npy_tool.py print %t.out/output2.npy | FileCheck %s --check-prefix=DUAL
// RUN: %python %S/../lib/npy_tool.py print %t.out/output3.npy | FileCheck %s --check-prefix=ADD
// RUN: %python %S/../lib/npy_tool.py print %t.out/output4.npy | FileCheck %s --check-prefix=MAXPOOL
// RUN: %python %S/../lib/npy_tool.py print %t.out/output5.npy | FileCheck %s --check-prefix=GAP
// RUN: %python %S/../lib/npy_tool.py print %t.out/output6.npy | FileCheck %s --check-prefix=FC

!x = !quant.uniform<i8:f32, 0.5:-1>
!w = !quant.uniform<i8:f32, 0.25>
!y = !quant.uniform<i8:f32, 0.125:3>

func.func @main(%x: tensor<1x2x2x1x!x>, %acc: tensor<4xi32>,
                %a: tensor<2x!quant.uniform<i8:f32, 0.1:2>>,
                %b: tensor<2x!quant.uniform<i8:f32, 0.2:-1>>,
                %v: tensor<1x2x!quant.uniform<i8:f32, 0.1>>)
    -> (tensor<1x1x1x1xi32>, tensor<1x1x1x1x!y>, tensor<4x!quant.uniform<i8:f32, 0.1:-2>>,
        tensor<2x!quant.uniform<i8:f32, 0.1>>, tensor<1x1x1x1x!x>, tensor<1x1x1x1x!x>,
        tensor<1x2xi32>) {
  // (x - zp) = [1, 2, 3, 4], weights [1, 2, 3, 4]: 1 + 4 + 9 + 16 + bias 5 = 35.
  // CONV: int32 1x1x1x1
  // CONV-NEXT: 35
  %w = lowbit.constant dense<[[[[1], [2]], [[3], [4]]]]> : tensor<1x2x2x1xi8> -> tensor<1x2x2x1x!w>
  %bias = arith.constant dense<5> : tensor<1xi32>
  %c = lowbit.conv2d %x, %w, %bias : (tensor<1x2x2x1x!x>, tensor<1x2x2x1x!w>, tensor<1xi32>) -> tensor<1x1x1x1xi32>

  // 35 * 2^-2 = 8.75 -> 9, + zero point 3 = 12.
  // REQUANT: int8 1x1x1x1
  // REQUANT-NEXT: 12
  %r = lowbit.requant %c {multiplier = array<i32: 1073741824>, shift = array<i32: 32>} : tensor<1x1x1x1xi32> -> tensor<1x1x1x1x!y>

  // Dual multipliers 2^-6 / 2^-9 (a folded PReLU), zero point -2:
  // -640 -> -1.25 -> -1 -> -3; -64 -> -0.125 -> 0 -> -2; 64 -> 1 -> -1; 640 -> 10 -> 8.
  // DUAL: int8 4
  // DUAL-NEXT: -3 -2 -1 8
  %d = lowbit.requant %acc {multiplier = array<i32: 1073741824>, shift = array<i32: 36>, neg_multiplier = array<i32: 1073741824>, neg_shift = array<i32: 39>} : tensor<4xi32> -> tensor<4x!quant.uniform<i8:f32, 0.1:-2>>

  // (a - 2) * 1 + (b + 1) * 2 = [0 + 0, 10 + 10].
  // ADD: int8 2
  // ADD-NEXT: 0 20
  %s = lowbit.add %a, %b {lhs_multiplier = 1073741824 : i32, lhs_shift = 30 : i32, rhs_multiplier = 1073741824 : i32, rhs_shift = 29 : i32, output_multiplier = 1073741824 : i32, output_shift = 30 : i32} : (tensor<2x!quant.uniform<i8:f32, 0.1:2>>, tensor<2x!quant.uniform<i8:f32, 0.2:-1>>) -> tensor<2x!quant.uniform<i8:f32, 0.1>>

  // MAXPOOL: int8 1x1x1x1
  // MAXPOOL-NEXT: 3
  %m = lowbit.max_pool %x {kernel = array<i64: 2, 2>} : tensor<1x2x2x1x!x> -> tensor<1x1x1x1x!x>

  // sum(x - zp) / 4 = 2.5 -> 2 (exact mean, ties to even), + zero point
  // -1 = 1.
  // GAP: int8 1x1x1x1
  // GAP-NEXT: 1
  %g = lowbit.global_avg_pool %x : tensor<1x2x2x1x!x> -> tensor<1x1x1x1x!x>

  // [1, 2] . [[1, 2], [3, 4]]^T + [1, -1] = [6, 10].
  // FC: int32 1x2
  // FC-NEXT: 6 10
  %fw = lowbit.constant dense<[[1, 2], [3, 4]]> : tensor<2x2xi8> -> tensor<2x2x!w>
  %fb = arith.constant dense<[1, -1]> : tensor<2xi32>
  %f = lowbit.fully_connected %v, %fw, %fb : (tensor<1x2x!quant.uniform<i8:f32, 0.1>>, tensor<2x2x!w>, tensor<2xi32>) -> tensor<1x2xi32>

  return %c, %r, %d, %s, %m, %g, %f : tensor<1x1x1x1xi32>, tensor<1x1x1x1x!y>, tensor<4x!quant.uniform<i8:f32, 0.1:-2>>, tensor<2x!quant.uniform<i8:f32, 0.1>>, tensor<1x1x1x1x!x>, tensor<1x1x1x1x!x>, tensor<1x2xi32>
}
