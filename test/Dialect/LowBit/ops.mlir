// RUN: lowbit-opt %s | lowbit-opt | FileCheck %s
// RUN: lowbit-opt %s --mlir-print-op-generic | lowbit-opt | FileCheck %s

// Round trip of every lowbit op in its custom form and through the generic
// form.

!in = !quant.uniform<i8:f32, 0.02:-4>
!wpc = !quant.uniform<i8<-127:127>:f32:0, {0.01, 0.02}>
!out = !quant.uniform<i8:f32, 0.1:3>
!u8 = !quant.uniform<u8:f32, 0.05:128>

// CHECK-LABEL: func.func @constant_and_quantize
func.func @constant_and_quantize(%x: tensor<2x3xf32>) -> (tensor<2x3xf32>, tensor<2x!u8>, tensor<2x3x!quant.uniform<i8:f32:0, {0.1, 0.2}>>) {
  // CHECK: lowbit.quantize %{{.*}} : tensor<2x3xf32> -> tensor<2x3x!quant.uniform<i8:f32, 1.000000e-01:3>>
  %q = lowbit.quantize %x : tensor<2x3xf32> -> tensor<2x3x!out>
  // CHECK: lowbit.dequantize %{{.*}} : tensor<2x3x!quant.uniform<i8:f32, 1.000000e-01:3>> -> tensor<2x3xf32>
  %d = lowbit.dequantize %q : tensor<2x3x!out> -> tensor<2x3xf32>
  // CHECK: lowbit.constant dense<[0, 255]> : tensor<2xui8> -> tensor<2x!quant.uniform<u8:f32, 5.000000e-02:128>>
  %c = lowbit.constant dense<[0, 255]> : tensor<2xui8> -> tensor<2x!u8>
  // CHECK: lowbit.quantize %{{.*}} : tensor<2x3xf32> -> tensor<2x3x!quant.uniform<i8:f32:0, {1.000000e-01,2.000000e-01}>>
  %p = lowbit.quantize %x : tensor<2x3xf32> -> tensor<2x3x!quant.uniform<i8:f32:0, {0.1, 0.2}>>
  return %d, %c, %p : tensor<2x3xf32>, tensor<2x!u8>, tensor<2x3x!quant.uniform<i8:f32:0, {0.1, 0.2}>>
}

// CHECK-LABEL: func.func @bitcast
func.func @bitcast(%x: tensor<4xui8>) -> tensor<4xi8> {
  // CHECK: lowbit.bitcast %{{.*}} : tensor<4xui8> -> tensor<4x!quant.uniform<u8:f32, 1.000000e-01:128>>
  %q = lowbit.bitcast %x : tensor<4xui8> -> tensor<4x!quant.uniform<u8:f32, 0.1:128>>
  // CHECK: lowbit.bitcast %{{.*}} : tensor<4x!quant.uniform<u8:f32, 1.000000e-01:128>> -> tensor<4xi8>
  %s = lowbit.bitcast %q : tensor<4x!quant.uniform<u8:f32, 0.1:128>> -> tensor<4xi8>
  return %s : tensor<4xi8>
}

// CHECK-LABEL: func.func @sub_channel
func.func @sub_channel(%x: tensor<4x4xf32>) -> tensor<4x4x!quant.uniform<i4:f32:{1:2}, {{0.1, 0.2}, {0.3, 0.4}, {0.5, 0.6}, {0.7, 0.8}}>> {
  // CHECK: lowbit.quantize %{{.*}} -> tensor<4x4x!quant.uniform<i4:f32:{1:2}
  %q = lowbit.quantize %x : tensor<4x4xf32> -> tensor<4x4x!quant.uniform<i4:f32:{1:2}, {{0.1, 0.2}, {0.3, 0.4}, {0.5, 0.6}, {0.7, 0.8}}>>
  return %q : tensor<4x4x!quant.uniform<i4:f32:{1:2}, {{0.1, 0.2}, {0.3, 0.4}, {0.5, 0.6}, {0.7, 0.8}}>>
}

// CHECK-LABEL: func.func @conv_requant
func.func @conv_requant(%x: tensor<1x8x8x3x!in>, %w: tensor<2x3x3x3x!wpc>, %b: tensor<2xi32>) -> tensor<1x4x4x2x!out> {
  // CHECK: %[[ACC:.*]] = lowbit.conv2d %{{.*}}, %{{.*}}, %{{.*}} {pad = array<i64: 1, 1, 1, 1>, stride = array<i64: 2, 2>}
  // CHECK-SAME: -> tensor<1x4x4x2xi32>
  %acc = lowbit.conv2d %x, %w, %b {stride = array<i64: 2, 2>, pad = array<i64: 1, 1, 1, 1>, dilation = array<i64: 1, 1>} : (tensor<1x8x8x3x!in>, tensor<2x3x3x3x!wpc>, tensor<2xi32>) -> tensor<1x4x4x2xi32>
  // CHECK: lowbit.requant %[[ACC]] {axis = 3 : i64, max = 100 : i64, min = -3 : i64, multiplier = array<i32: 1073741824, 1518500250>, shift = array<i32: 36, 37>}
  %y = lowbit.requant %acc {multiplier = array<i32: 1073741824, 1518500250>, shift = array<i32: 36, 37>, axis = 3 : i64, min = -3 : i64, max = 100 : i64} : tensor<1x4x4x2xi32> -> tensor<1x4x4x2x!out>
  return %y : tensor<1x4x4x2x!out>
}

// CHECK-LABEL: func.func @depthwise_dilated_i64
func.func @depthwise_dilated_i64(%x: tensor<1x9x9x4x!in>, %w: tensor<4x3x3x1x!quant.uniform<i4:f32, 0.5>>) -> tensor<1x5x5x4xi64> {
  // CHECK: lowbit.conv2d %{{.*}}, %{{.*}} {dilation = array<i64: 2, 2>, groups = 4 : i64}
  %acc = lowbit.conv2d %x, %w {dilation = array<i64: 2, 2>, groups = 4 : i64} : (tensor<1x9x9x4x!in>, tensor<4x3x3x1x!quant.uniform<i4:f32, 0.5>>) -> tensor<1x5x5x4xi64>
  return %acc : tensor<1x5x5x4xi64>
}

// CHECK-LABEL: func.func @log_and_stlq_weights
func.func @log_and_stlq_weights(%x: tensor<1x4x4x32x!in>, %wl: tensor<8x1x1x32xi4>, %ws: tensor<2x20x3x3x32xi3>) -> (tensor<1x4x4x8xi32>, tensor<1x2x2x20xi32>) {
  // CHECK: weight_encoding = #lowbit.log<bits = 4, scale = 2.500000e-01>
  %a = lowbit.conv2d %x, %wl {weight_encoding = #lowbit.log<bits = 4, scale = 0.25>} : (tensor<1x4x4x32x!in>, tensor<8x1x1x32xi4>) -> tensor<1x4x4x8xi32>
  // CHECK: weight_encoding = #lowbit.stlq<bits = 3, scale = 1.000000e+00, tile = [16, 16], mask = dense<
  // CHECK-SAME: tensor<2x3x3x2xi1>>
  %b = lowbit.conv2d %x, %ws {weight_encoding = #lowbit.stlq<bits = 3, scale = 1.0, tile = [16, 16], mask = dense<true> : tensor<2x3x3x2xi1>>} : (tensor<1x4x4x32x!in>, tensor<2x20x3x3x32xi3>) -> tensor<1x2x2x20xi32>
  return %a, %b : tensor<1x4x4x8xi32>, tensor<1x2x2x20xi32>
}

// CHECK-LABEL: func.func @fully_connected
func.func @fully_connected(%x: tensor<3x64x!u8>, %w: tensor<10x64x!quant.uniform<i8:f32, 0.004>>, %ws: tensor<2x10x64xi3>) -> (tensor<3x10xi32>, tensor<3x10xi32>) {
  // CHECK: lowbit.fully_connected %{{.*}}, %{{.*}} : (tensor<3x64x!quant.uniform<u8:f32, 5.000000e-02:128>>, tensor<10x64x!quant.uniform<i8:f32, 4.000000e-03>>) -> tensor<3x10xi32>
  %a = lowbit.fully_connected %x, %w : (tensor<3x64x!u8>, tensor<10x64x!quant.uniform<i8:f32, 0.004>>) -> tensor<3x10xi32>
  // CHECK: lowbit.fully_connected {{.*}}#lowbit.stlq<bits = 3, scale = 5.000000e-01, tile = [32, 8]
  %b = lowbit.fully_connected %x, %ws {weight_encoding = #lowbit.stlq<bits = 3, scale = 0.5, tile = [32, 8], mask = dense<[[true, false], [false, false]]> : tensor<2x2xi1>>} : (tensor<3x64x!u8>, tensor<2x10x64xi3>) -> tensor<3x10xi32>
  return %a, %b : tensor<3x10xi32>, tensor<3x10xi32>
}

// CHECK-LABEL: func.func @dual_requant
func.func @dual_requant(%acc: tensor<1x2x2x2xi32>, %q: tensor<4x!in>) -> (tensor<1x2x2x2x!out>, tensor<4x!quant.uniform<i4:f32, 0.3:-1>>) {
  // CHECK: lowbit.requant %{{.*}} {axis = 3 : i64, multiplier = array<i32: 1073741824, 1073741824>, neg_multiplier = array<i32: 1073741824, 1288490189>, neg_shift = array<i32: 40, 41>, rounding = #lowbit.rounding<double_round>, shift = array<i32: 36, 36>}
  %y = lowbit.requant %acc {multiplier = array<i32: 1073741824, 1073741824>, shift = array<i32: 36, 36>, neg_multiplier = array<i32: 1073741824, 1288490189>, neg_shift = array<i32: 40, 41>, axis = 3 : i64, rounding = #lowbit.rounding<double_round>} : tensor<1x2x2x2xi32> -> tensor<1x2x2x2x!out>
  // A rescale between two quantized types (16 -> 4 bits here).
  // CHECK: lowbit.requant %{{.*}} : tensor<4x!quant.uniform<i8:f32, 2.000000e-02:-4>> -> tensor<4x!quant.uniform<i4:f32, 3.000000e-01:-1>>
  %r = lowbit.requant %q {multiplier = array<i32: 1145324612>, shift = array<i32: 34>} : tensor<4x!in> -> tensor<4x!quant.uniform<i4:f32, 0.3:-1>>
  return %y, %r : tensor<1x2x2x2x!out>, tensor<4x!quant.uniform<i4:f32, 0.3:-1>>
}

// CHECK-LABEL: func.func @add_clamp_prelu
func.func @add_clamp_prelu(%a: tensor<1x4x4x2x!out>, %b: tensor<1x4x4x2x!in>) -> tensor<1x4x4x2x!quant.uniform<i16:f32, 0.01>> {
  // CHECK: lowbit.add %{{.*}}, %{{.*}} {input_shift = 20 : i32, lhs_multiplier = 1073741824 : i32, lhs_shift = 31 : i32, max = 120 : i64, output_multiplier = 1288490189 : i32, output_shift = 50 : i32, rhs_multiplier = 1431655765 : i32, rhs_shift = 33 : i32}
  %s = lowbit.add %a, %b {input_shift = 20 : i32, lhs_multiplier = 1073741824 : i32, lhs_shift = 31 : i32, rhs_multiplier = 1431655765 : i32, rhs_shift = 33 : i32, output_multiplier = 1288490189 : i32, output_shift = 50 : i32, max = 120 : i64} : (tensor<1x4x4x2x!out>, tensor<1x4x4x2x!in>) -> tensor<1x4x4x2x!out>
  // CHECK: lowbit.clamp %{{.*}} {max = 63 : i64, min = 3 : i64} : tensor<1x4x4x2x!quant.uniform<i8:f32, 1.000000e-01:3>>
  %c = lowbit.clamp %s {min = 3 : i64, max = 63 : i64} : tensor<1x4x4x2x!out>
  // CHECK: lowbit.prelu %{{.*}} {axis = 3 : i64, neg_multiplier = array<i32: 1073741824, 1717986918>, neg_shift = array<i32: 33, 34>, pos_multiplier = 1073741824 : i32, pos_shift = 20 : i32}
  %p = lowbit.prelu %c {pos_multiplier = 1073741824 : i32, pos_shift = 20 : i32, neg_multiplier = array<i32: 1073741824, 1717986918>, neg_shift = array<i32: 33, 34>, axis = 3 : i64} : tensor<1x4x4x2x!out> -> tensor<1x4x4x2x!quant.uniform<i16:f32, 0.01>>
  return %p : tensor<1x4x4x2x!quant.uniform<i16:f32, 0.01>>
}

// CHECK-LABEL: func.func @pools
func.func @pools(%x: tensor<1x8x8x16x!out>) -> (tensor<1x4x4x16x!out>, tensor<1x8x8x16x!out>, tensor<1x1x1x16x!out>) {
  // CHECK: lowbit.max_pool %{{.*}} {kernel = array<i64: 2, 2>, stride = array<i64: 2, 2>}
  %m = lowbit.max_pool %x {kernel = array<i64: 2, 2>, stride = array<i64: 2, 2>} : tensor<1x8x8x16x!out> -> tensor<1x4x4x16x!out>
  // CHECK: lowbit.avg_pool %{{.*}} {count_include_pad = true, kernel = array<i64: 3, 3>, pad = array<i64: 1, 1, 1, 1>}
  %a = lowbit.avg_pool %x {kernel = array<i64: 3, 3>, pad = array<i64: 1, 1, 1, 1>, count_include_pad = true} : tensor<1x8x8x16x!out> -> tensor<1x8x8x16x!out>
  // CHECK: lowbit.global_avg_pool %{{.*}} : tensor<1x8x8x16x!quant.uniform<i8:f32, 1.000000e-01:3>> -> tensor<1x1x1x16x
  %g = lowbit.global_avg_pool %x : tensor<1x8x8x16x!out> -> tensor<1x1x1x16x!out>
  return %m, %a, %g : tensor<1x4x4x16x!out>, tensor<1x8x8x16x!out>, tensor<1x1x1x16x!out>
}

// CHECK-LABEL: func.func @reshape_concat
func.func @reshape_concat(%x: tensor<1x1x1x16x!out>, %y: tensor<1x4x!out>, %d: tensor<?x16x!out>) -> (tensor<1x20x!out>, tensor<?x4x4x!out>) {
  // CHECK: lowbit.reshape %{{.*}} : tensor<1x1x1x16x!quant.uniform<i8:f32, 1.000000e-01:3>> -> tensor<1x16x
  %r = lowbit.reshape %x : tensor<1x1x1x16x!out> -> tensor<1x16x!out>
  // CHECK: lowbit.concat(%{{.*}}, %{{.*}}) {axis = 1 : i64} : (tensor<1x16x{{.*}}>, tensor<1x4x{{.*}}>) -> tensor<1x20x
  %c = lowbit.concat(%r, %y) {axis = 1 : i64} : (tensor<1x16x!out>, tensor<1x4x!out>) -> tensor<1x20x!out>
  // Dynamic batch is allowed where the shape does not matter.
  // CHECK: lowbit.reshape %{{.*}} : tensor<?x16x{{.*}}> -> tensor<?x4x4x
  %dr = lowbit.reshape %d : tensor<?x16x!out> -> tensor<?x4x4x!out>
  return %c, %dr : tensor<1x20x!out>, tensor<?x4x4x!out>
}
