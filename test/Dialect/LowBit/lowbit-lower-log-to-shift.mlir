// RUN: lowbit-opt %s --split-input-file --lowbit-lower-log-to-shift | FileCheck %s
// RUN: lowbit-opt %s --split-input-file --lowbit-lower-log-to-shift='kernels=shift' | FileCheck %s --check-prefix=SHIFT
// RUN: not lowbit-opt %s --split-input-file --lowbit-lower-log-to-shift='kernels=fast' 2>&1 | FileCheck %s --check-prefix=BAD
// BAD: error: lowbit-lower-log-to-shift: unknown kernels 'fast' (auto or shift)

!x = !quant.uniform<i8:f32, 0.5:-3>

// 4-bit log codes (M = 8): code 1 stands for 2^7 = 128, beyond int8, so
// the layer runs as shifts in both modes.
// CHECK-LABEL: func.func @log4
// CHECK: lowbit.conv2d
// CHECK-SAME: shift_products
// CHECK-SAME: weight_encoding = #lowbit.log<bits = 4
// SHIFT-LABEL: func.func @log4
// SHIFT: lowbit.conv2d
// SHIFT-SAME: shift_products
func.func @log4(%x: tensor<1x2x2x2x!x>) -> tensor<1x2x2x2xi32> {
  %w = lowbit.constant dense<[[[[1, -2]]], [[[3, -8]]]]> : tensor<2x1x1x2xi4> -> tensor<2x1x1x2xi4>
  %b = lowbit.constant dense<[5, -5]> : tensor<2xi32> -> tensor<2xi32>
  %acc = lowbit.conv2d %x, %w, %b {weight_encoding = #lowbit.log<bits = 4, scale = 2.0>} : (tensor<1x2x2x2x!x>, tensor<2x1x1x2xi4>, tensor<2xi32>) -> tensor<1x2x2x2xi32>
  return %acc : tensor<1x2x2x2xi32>
}

// -----

!x = !quant.uniform<i8:f32, 0.5:-3>

// 3-bit STLQ codes (M = 4): two-word integers reach 16 at most, so with
// kernels=auto the layer becomes int8 weights of scale U 2^-M (per output
// channel): [8 + 2, 4] and [2 - 1, 0]; the encoding is kept for reports
// only. kernels=shift keeps the codes and marks the products as shifts.
// CHECK-LABEL: func.func @stlq3
// CHECK: %[[W:.*]] = lowbit.constant dense<{{\[\[}}10, 4], [1, 0]]> : tensor<2x2xi8> -> tensor<2x2x!quant.uniform<i8:f32:0, {1.250000e-01,6.250000e-02}>>
// CHECK: lowbit.fully_connected %{{.*}}, %[[W]]
// CHECK-SAME: lowbit.decoded_encoding = #lowbit.stlq
// CHECK-NOT: shift_products
// SHIFT-LABEL: func.func @stlq3
// SHIFT: lowbit.constant dense<{{\[\[\[}}1, 2], [3, 0]], {{\[\[}}3, 0], [-4, 0]]]> : tensor<2x2x2xi3>
// SHIFT: lowbit.fully_connected
// SHIFT-SAME: shift_products
// SHIFT-SAME: weight_encoding = #lowbit.stlq<bits = 3
func.func @stlq3(%x: tensor<1x2x!x>) -> tensor<1x2xi32> {
  %w = lowbit.constant dense<[[[1, 2], [3, 0]], [[3, 0], [-4, 0]]]> : tensor<2x2x2xi3> -> tensor<2x2x2xi3>
  %acc = lowbit.fully_connected %x, %w {weight_encoding = #lowbit.stlq<bits = 3, scale = 2.0, tile = [1, 1], mask = dense<[[true, false], [true, false]]> : tensor<2x2xi1>, channel_scales = [2.0, 1.0]>} : (tensor<1x2x!x>, tensor<2x2x2xi3>) -> tensor<1x2xi32>
  return %acc : tensor<1x2xi32>
}

// -----

!x = !quant.uniform<i8:f32, 0.5:-3>

// Layers without log codes, and layers already lowered, are left alone.
// CHECK-LABEL: func.func @untouched
// CHECK: lowbit.conv2d %{{.*}} : (tensor<1x2x2x2x!quant.uniform<i8:f32, 5.000000e-01:-3>>, tensor<2x1x1x2x!quant.uniform<i8:f32, 2.500000e-01>>
// CHECK: lowbit.conv2d {{.*}}shift_products
func.func @untouched(%x: tensor<1x2x2x2x!x>) -> (tensor<1x2x2x2xi32>, tensor<1x2x2x2xi32>) {
  %w = lowbit.constant dense<1> : tensor<2x1x1x2xi8> -> tensor<2x1x1x2x!quant.uniform<i8:f32, 0.25>>
  %a = lowbit.conv2d %x, %w : (tensor<1x2x2x2x!x>, tensor<2x1x1x2x!quant.uniform<i8:f32, 0.25>>) -> tensor<1x2x2x2xi32>
  %c = lowbit.constant dense<1> : tensor<2x1x1x2xi3> -> tensor<2x1x1x2xi3>
  %s = lowbit.conv2d %x, %c {shift_products, weight_encoding = #lowbit.log<bits = 3, scale = 1.0>} : (tensor<1x2x2x2x!x>, tensor<2x1x1x2xi3>) -> tensor<1x2x2x2xi32>
  return %a, %s : tensor<1x2x2x2xi32>, tensor<1x2x2x2xi32>
}
