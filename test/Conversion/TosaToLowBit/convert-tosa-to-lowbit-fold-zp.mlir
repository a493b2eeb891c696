// adaptive-scale-shift eq. 10: the input zero point is folded into the bias
// of convolutions and fully connected layers (b~ = b - zp * sum(w)), marked
// `input_zp_folded`; the evaluator and the C++ kernels then carry no
// zero-point term in their inner loop. Both forms compute the same values.
// RUN: lowbit-opt %s --convert-tosa-to-lowbit | FileCheck %s
// RUN: lowbit-opt %s --convert-tosa-to-lowbit=fold-input-zero-point=false | FileCheck %s --check-prefix=UNFOLDED
// RUN: %python %S/../../lib/npy_tool.py save %t.x.npy float32 1x3x3x2 -1.5,-1,-0.5,0,0.5,1,1.5,2,2.5,3,-3,-2.5,-2,1,2,3,0,0
// RUN: lowbit-opt %s --convert-tosa-to-lowbit -o %t.folded.mlir
// RUN: lowbit-opt %s --convert-tosa-to-lowbit=fold-input-zero-point=false -o %t.unfolded.mlir
// RUN: lowbitc %t.folded.mlir --run %t.x.npy -o %t.a.npy
// RUN: lowbitc %t.unfolded.mlir --run %t.x.npy -o %t.b.npy
// RUN: %python -c "import numpy as n; a=n.load('%t.a.npy'); b=n.load('%t.b.npy'); print('equal', (a==b).all(), a.size)" | FileCheck %s --check-prefix=SAME
// SAME: equal True 50

// Weights [[1, -2], [3, 4]] (sums -1 and 7), input zero point 3, bias
// [1, -2] / (0.5 * [0.25, 0.5]) = [8, -8]: folded [8 + 3, -8 - 21] = [11, -29].
// CHECK-DAG: lowbit.constant dense<[11, -29]> : tensor<2xi32>
// CHECK: lowbit.conv2d {{.*}} {input_zp_folded, pad = array<i64: 1, 1, 1, 1>}
// UNFOLDED-DAG: lowbit.constant dense<[8, -8]> : tensor<2xi32>
// UNFOLDED: lowbit.conv2d {{.*}} {pad = array<i64: 1, 1, 1, 1>}
func.func @main(%x: tensor<1x3x3x2x!quant.uniform<i8:f32, 0.5:3>>) -> tensor<1x5x5x2xf32> {
  %d = lowbit.dequantize %x : tensor<1x3x3x2x!quant.uniform<i8:f32, 0.5:3>> -> tensor<1x3x3x2xf32>
  %wq = lowbit.constant dense<[[[[1, -2]]], [[[3, 4]]]]> : tensor<2x1x1x2xi8> -> tensor<2x1x1x2x!quant.uniform<i8<-127:127>:f32:0, {0.25, 0.5}>>
  %w = lowbit.dequantize %wq : tensor<2x1x1x2x!quant.uniform<i8<-127:127>:f32:0, {0.25, 0.5}>> -> tensor<2x1x1x2xf32>
  %b = "tosa.const"() {values = dense<[1.0, -2.0]> : tensor<2xf32>} : () -> tensor<2xf32>
  %zp = "tosa.const"() {values = dense<0.0> : tensor<1xf32>} : () -> tensor<1xf32>
  %c = tosa.conv2d %d, %w, %b, %zp, %zp {acc_type = f32, dilation = array<i64: 1, 1>, pad = array<i64: 1, 1, 1, 1>, stride = array<i64: 1, 1>} : (tensor<1x3x3x2xf32>, tensor<2x1x1x2xf32>, tensor<2xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x5x5x2xf32>
  %o = lowbit.quantize %c : tensor<1x5x5x2xf32> -> tensor<1x5x5x2x!quant.uniform<i8:f32, 0.25:-1>>
  %od = lowbit.dequantize %o : tensor<1x5x5x2x!quant.uniform<i8:f32, 0.25:-1>> -> tensor<1x5x5x2xf32>
  return %od : tensor<1x5x5x2xf32>
}
