// RUN: lowbit-opt %s | lowbit-opt | FileCheck %s

// Any storage width from 2 to 16 bits, signed or unsigned, with narrowed
// storage ranges, for activations and weights.

// CHECK-LABEL: func.func @widths
// CHECK-SAME: !quant.uniform<i2:f32, 5.000000e-01>
// CHECK-SAME: !quant.uniform<u3:f32, 2.500000e-01:4>
// CHECK-SAME: !quant.uniform<i5<-15:15>:f32, 1.000000e-01>
// CHECK-SAME: !quant.uniform<u12:f32, 1.000000e-03:2048>
// CHECK-SAME: !quant.uniform<i16:f32, 3.000000e-05>
func.func @widths(%a: tensor<1x4x4x2x!quant.uniform<i2:f32, 0.5>>,
                  %b: tensor<1x4x4x2x!quant.uniform<u3:f32, 0.25:4>>,
                  %w: tensor<3x1x1x2x!quant.uniform<i5<-15:15>:f32, 0.1>>,
                  %c: tensor<1x4x4x2x!quant.uniform<u12:f32, 0.001:2048>>,
                  %d: tensor<8x!quant.uniform<i16:f32, 3.0e-5>>) -> (tensor<1x4x4x3xi32>, tensor<1x4x4x2x!quant.uniform<u12:f32, 0.001:2048>>, tensor<8x!quant.uniform<i2:f32, 0.5>>) {
  // CHECK: lowbit.conv2d
  %0 = lowbit.conv2d %a, %w : (tensor<1x4x4x2x!quant.uniform<i2:f32, 0.5>>, tensor<3x1x1x2x!quant.uniform<i5<-15:15>:f32, 0.1>>) -> tensor<1x4x4x3xi32>
  // CHECK: lowbit.add
  %1 = lowbit.add %b, %c {input_shift = 15 : i32, lhs_multiplier = 1073741824 : i32, lhs_shift = 30 : i32, rhs_multiplier = 1073741824 : i32, rhs_shift = 30 : i32, output_multiplier = 1073741824 : i32, output_shift = 45 : i32} : (tensor<1x4x4x2x!quant.uniform<u3:f32, 0.25:4>>, tensor<1x4x4x2x!quant.uniform<u12:f32, 0.001:2048>>) -> tensor<1x4x4x2x!quant.uniform<u12:f32, 0.001:2048>>
  // CHECK: lowbit.requant {{.*}}max = 1 : i64, min = -2 : i64
  %2 = lowbit.requant %d {multiplier = array<i32: 1073741824>, shift = array<i32: 44>, min = -2 : i64, max = 1 : i64} : tensor<8x!quant.uniform<i16:f32, 3.0e-5>> -> tensor<8x!quant.uniform<i2:f32, 0.5>>
  return %0, %1, %2 : tensor<1x4x4x3xi32>, tensor<1x4x4x2x!quant.uniform<u12:f32, 0.001:2048>>, tensor<8x!quant.uniform<i2:f32, 0.5>>
}
