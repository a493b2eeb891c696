// (Zero-point folding is off here so that biases read as b / (S_in S_w); it
// is tested in convert-tosa-to-lowbit-fold-zp.mlir.)
// RUN: lowbit-opt %s --split-input-file --convert-tosa-to-lowbit=fold-input-zero-point=false | FileCheck %s
// RUN: lowbit-opt %s --split-input-file --convert-tosa-to-lowbit=fold-input-zero-point=false --canonicalize | FileCheck %s --check-prefix=CANON

// Q/DQ float graphs lowered to integer lowbit ops. Scales are powers of two
// so every multiplier is 2^30 with shift 30 - log2(M): M = 1 -> shift 30,
// 0.5 -> 31, 0.25 -> 32, 2 -> 29.

// Convolution + bias + ReLU: the quantized argument becomes the function's
// integer input; the bias is re-expressed in accumulator units
// round(b / (S_in * S_w[c])) = [1 / 0.125, -2 / 0.25] = [8, -8]; one
// requant per channel, M = 0.5 * [0.25, 0.5] / 0.5, and ReLU becomes its
// lower saturation bound round(0 / 0.5) + zp = -10.
// CHECK-LABEL: func.func @conv_bias_relu
// CHECK-SAME: (%[[X:.*]]: tensor<1x2x2x2x!quant.uniform<i8:f32, 5.000000e-01>>) -> tensor<1x2x2x2x!quant.uniform<i8:f32, 5.000000e-01:-10>>
// CHECK-DAG: %[[W:.*]] = lowbit.constant dense<{{\[\[\[\[}}1, -2]]], {{\[\[\[}}3, 4]]]]> : tensor<2x1x1x2xi8> -> tensor<2x1x1x2x!quant.uniform<i8<-127:127>:f32:0, {2.500000e-01,5.000000e-01}>>
// CHECK-DAG: %[[B:.*]] = lowbit.constant dense<[8, -8]> : tensor<2xi32>
// CHECK: %[[C:.*]] = lowbit.conv2d %[[X]], %[[W]], %[[B]] : {{.*}} -> tensor<1x2x2x2xi32>
// CHECK: %[[R:.*]] = lowbit.requant %[[C]] {axis = 3 : i64, min = -10 : i64, multiplier = array<i32: 1073741824, 1073741824>, shift = array<i32: 32, 31>}
// CHECK-NEXT: return %[[R]]
// CHECK-NOT: tosa.
func.func @conv_bias_relu(%x: tensor<1x2x2x2xf32>) -> tensor<1x2x2x2xf32> {
  %q = lowbit.quantize %x : tensor<1x2x2x2xf32> -> tensor<1x2x2x2x!quant.uniform<i8:f32, 0.5>>
  %d = lowbit.dequantize %q : tensor<1x2x2x2x!quant.uniform<i8:f32, 0.5>> -> tensor<1x2x2x2xf32>
  %wq = lowbit.constant dense<[[[[1, -2]]], [[[3, 4]]]]> : tensor<2x1x1x2xi8> -> tensor<2x1x1x2x!quant.uniform<i8<-127:127>:f32:0, {0.25, 0.5}>>
  %w = lowbit.dequantize %wq : tensor<2x1x1x2x!quant.uniform<i8<-127:127>:f32:0, {0.25, 0.5}>> -> tensor<2x1x1x2xf32>
  %b = "tosa.const"() {values = dense<[1.0, -2.0]> : tensor<2xf32>} : () -> tensor<2xf32>
  %zp = "tosa.const"() {values = dense<0.0> : tensor<1xf32>} : () -> tensor<1xf32>
  %c = tosa.conv2d %d, %w, %b, %zp, %zp {acc_type = f32, dilation = array<i64: 1, 1>, pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 1, 1>} : (tensor<1x2x2x2xf32>, tensor<2x1x1x2xf32>, tensor<2xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x2x2x2xf32>
  %r = tosa.clamp %c {min_val = 0.0 : f32, max_val = 0x7F800000 : f32} : (tensor<1x2x2x2xf32>) -> tensor<1x2x2x2xf32>
  %o = lowbit.quantize %r : tensor<1x2x2x2xf32> -> tensor<1x2x2x2x!quant.uniform<i8:f32, 0.5:-10>>
  %od = lowbit.dequantize %o : tensor<1x2x2x2x!quant.uniform<i8:f32, 0.5:-10>> -> tensor<1x2x2x2xf32>
  return %od : tensor<1x2x2x2xf32>
}

// -----

// Convolution + PReLU with per-channel slopes [0.25, -0.5]: one dual
// requant. Positive side M = 1 * 0.5 / 0.25 = 2; negative side alpha[c] * M
// = [0.5, -1], the negative slope as a negative multiplier.
// CHECK-LABEL: func.func @conv_prelu
// CHECK: %[[C:.*]] = lowbit.conv2d
// CHECK: lowbit.requant %[[C]] {axis = 3 : i64, multiplier = array<i32: 1073741824, 1073741824>, neg_multiplier = array<i32: 1073741824, -1073741824>, neg_shift = array<i32: 31, 30>, shift = array<i32: 29, 29>} : tensor<1x2x2x2xi32> -> tensor<1x2x2x2x!quant.uniform<i8:f32, 2.500000e-01>>
// CHECK-NOT: tosa.
func.func @conv_prelu(%x: tensor<1x2x2x2xf32>) -> tensor<1x2x2x2xf32> {
  %q = lowbit.quantize %x : tensor<1x2x2x2xf32> -> tensor<1x2x2x2x!quant.uniform<i8:f32, 1.0:3>>
  %d = lowbit.dequantize %q : tensor<1x2x2x2x!quant.uniform<i8:f32, 1.0:3>> -> tensor<1x2x2x2xf32>
  %wq = lowbit.constant dense<[[[[1, -2]]], [[[3, 4]]]]> : tensor<2x1x1x2xi8> -> tensor<2x1x1x2x!quant.uniform<i8<-127:127>:f32, 0.5>>
  %w = lowbit.dequantize %wq : tensor<2x1x1x2x!quant.uniform<i8<-127:127>:f32, 0.5>> -> tensor<2x1x1x2xf32>
  %b = "tosa.const"() {values = dense<0.0> : tensor<2xf32>} : () -> tensor<2xf32>
  %zp = "tosa.const"() {values = dense<0.0> : tensor<1xf32>} : () -> tensor<1xf32>
  %c = tosa.conv2d %d, %w, %b, %zp, %zp {acc_type = f32, dilation = array<i64: 1, 1>, pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 1, 1>} : (tensor<1x2x2x2xf32>, tensor<2x1x1x2xf32>, tensor<2xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x2x2x2xf32>
  %zero = "tosa.const"() {values = dense<0.0> : tensor<1x1x1x1xf32>} : () -> tensor<1x1x1x1xf32>
  %slope = "tosa.const"() {values = dense<[[[[0.25, -0.5]]]]> : tensor<1x1x1x2xf32>} : () -> tensor<1x1x1x2xf32>
  %shift = "tosa.const"() {values = dense<0> : tensor<1xi8>} : () -> tensor<1xi8>
  %ge = tosa.greater_equal %c, %zero : (tensor<1x2x2x2xf32>, tensor<1x1x1x1xf32>) -> tensor<1x2x2x2xi1>
  %m = tosa.mul %c, %slope, %shift : (tensor<1x2x2x2xf32>, tensor<1x1x1x2xf32>, tensor<1xi8>) -> tensor<1x2x2x2xf32>
  %s = tosa.select %ge, %c, %m : (tensor<1x2x2x2xi1>, tensor<1x2x2x2xf32>, tensor<1x2x2x2xf32>) -> tensor<1x2x2x2xf32>
  %o = lowbit.quantize %s : tensor<1x2x2x2xf32> -> tensor<1x2x2x2x!quant.uniform<i8:f32, 0.25>>
  %od = lowbit.dequantize %o : tensor<1x2x2x2x!quant.uniform<i8:f32, 0.25>> -> tensor<1x2x2x2xf32>
  return %od : tensor<1x2x2x2xf32>
}

// -----

// An int32 bias behind a dequantize (ONNX's Conv bias in a Q/DQ model) at
// the accumulator scale up to float32 rounding (0.125 * (1 + 5e-8)) is taken
// as stored: rescaling 200000000 by that scale would give 200000010.
// CHECK-LABEL: func.func @conv_int32_bias
// CHECK: lowbit.constant dense<[200000000, -7]> : tensor<2xi32>
func.func @conv_int32_bias(%x: tensor<1x2x2x2xf32>) -> tensor<1x2x2x2xf32> {
  %q = lowbit.quantize %x : tensor<1x2x2x2xf32> -> tensor<1x2x2x2x!quant.uniform<i8:f32, 0.5>>
  %d = lowbit.dequantize %q : tensor<1x2x2x2x!quant.uniform<i8:f32, 0.5>> -> tensor<1x2x2x2xf32>
  %wq = lowbit.constant dense<1> : tensor<2x1x1x2xi8> -> tensor<2x1x1x2x!quant.uniform<i8:f32, 0.25>>
  %w = lowbit.dequantize %wq : tensor<2x1x1x2x!quant.uniform<i8:f32, 0.25>> -> tensor<2x1x1x2xf32>
  %bi = "tosa.const"() {values = dense<[200000000, -7]> : tensor<2xi32>} : () -> tensor<2xi32>
  %bq = quant.scast %bi : tensor<2xi32> to tensor<2x!quant.uniform<i32:f32, 0.12500000625>>
  %b = quant.dcast %bq : tensor<2x!quant.uniform<i32:f32, 0.12500000625>> to tensor<2xf32>
  %zp = "tosa.const"() {values = dense<0.0> : tensor<1xf32>} : () -> tensor<1xf32>
  %c = tosa.conv2d %d, %w, %b, %zp, %zp {acc_type = f32, dilation = array<i64: 1, 1>, pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 1, 1>} : (tensor<1x2x2x2xf32>, tensor<2x1x1x2xf32>, tensor<2xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x2x2x2xf32>
  %o = lowbit.quantize %c : tensor<1x2x2x2xf32> -> tensor<1x2x2x2x!quant.uniform<i8:f32, 0.5>>
  %od = lowbit.dequantize %o : tensor<1x2x2x2x!quant.uniform<i8:f32, 0.5>> -> tensor<1x2x2x2xf32>
  return %od : tensor<1x2x2x2xf32>
}

// -----

// Depthwise convolution: TOSA's [KH, KW, C, 1] weights, quantized along C,
// become [C, KH, KW, 1] with groups = C; Clip(0, 6) becomes the saturation
// range [0, round(6 / 0.25)] = [0, 24].
// CHECK-LABEL: func.func @depthwise_relu6
// CHECK-DAG: %[[W:.*]] = lowbit.constant dense<{{\[\[\[\[}}1], [3]], {{\[\[}}5], [7]]], {{\[\[\[}}-2], [4]], {{\[\[}}6], [-8]]]]> : tensor<2x2x2x1xi8> -> tensor<2x2x2x1x!quant.uniform<i8<-127:127>:f32:0, {5.000000e-01,2.500000e-01}>>
// CHECK-DAG: %[[B:.*]] = lowbit.constant dense<[2, -2]> : tensor<2xi32>
// CHECK: %[[C:.*]] = lowbit.conv2d %{{.*}}, %[[W]], %[[B]] {groups = 2 : i64, pad = array<i64: 0, 1, 0, 1>}
// CHECK: lowbit.requant %[[C]] {axis = 3 : i64, max = 24 : i64, min = 0 : i64, multiplier = array<i32: 1073741824, 1073741824>, shift = array<i32: 30, 31>}
func.func @depthwise_relu6(%x: tensor<1x3x3x2xf32>) -> tensor<1x3x3x2xf32> {
  %q = lowbit.quantize %x : tensor<1x3x3x2xf32> -> tensor<1x3x3x2x!quant.uniform<i8:f32, 0.5:1>>
  %d = lowbit.dequantize %q : tensor<1x3x3x2x!quant.uniform<i8:f32, 0.5:1>> -> tensor<1x3x3x2xf32>
  %wq = lowbit.constant dense<[[[[1], [-2]], [[3], [4]]], [[[5], [6]], [[7], [-8]]]]> : tensor<2x2x2x1xi8> -> tensor<2x2x2x1x!quant.uniform<i8<-127:127>:f32:2, {0.5, 0.25}>>
  %w = lowbit.dequantize %wq : tensor<2x2x2x1x!quant.uniform<i8<-127:127>:f32:2, {0.5, 0.25}>> -> tensor<2x2x2x1xf32>
  %b = "tosa.const"() {values = dense<[0.5, -0.25]> : tensor<2xf32>} : () -> tensor<2xf32>
  %zp = "tosa.const"() {values = dense<0.0> : tensor<1xf32>} : () -> tensor<1xf32>
  %c = tosa.depthwise_conv2d %d, %w, %b, %zp, %zp {acc_type = f32, dilation = array<i64: 1, 1>, pad = array<i64: 0, 1, 0, 1>, stride = array<i64: 1, 1>} : (tensor<1x3x3x2xf32>, tensor<2x2x2x1xf32>, tensor<2xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x3x3x2xf32>
  %r = tosa.clamp %c {min_val = 0.0 : f32, max_val = 6.0 : f32} : (tensor<1x3x3x2xf32>) -> tensor<1x3x3x2xf32>
  %o = lowbit.quantize %r : tensor<1x3x3x2xf32> -> tensor<1x3x3x2x!quant.uniform<i8:f32, 0.25>>
  %od = lowbit.dequantize %o : tensor<1x3x3x2x!quant.uniform<i8:f32, 0.25>> -> tensor<1x3x3x2xf32>
  return %od : tensor<1x3x3x2xf32>
}

// -----

// A Gemm as the ONNX importer writes it: reshape to [1, 1, K], weights
// transposed and reshaped to [1, K, N] (quantized per output column), then
// an add of the int32 bias DequantizeLinear (quant.dcast) reshaped to
// [1, N]. The bias scales are S_in * S_w[c], so its integers pass through.
// CHECK-LABEL: func.func @matmul_bias
// CHECK-SAME: (%[[X:.*]]: tensor<1x4x!quant.uniform<u8:f32, 5.000000e-01:128>>)
// CHECK-DAG: %[[W:.*]] = lowbit.constant dense<{{\[\[}}1, 2, 3, 4], [-1, -2, -3, -4], [5, 0, -5, 127]]> : tensor<3x4xi8> -> tensor<3x4x!quant.uniform<i8:f32:0, {2.500000e-01,5.000000e-01,1.250000e-01}>>
// CHECK-DAG: %[[B:.*]] = lowbit.constant dense<[5, -6, 7]> : tensor<3xi32>
// CHECK: %[[F:.*]] = lowbit.fully_connected %{{.*}}, %[[W]], %[[B]] : {{.*}} -> tensor<1x3xi32>
// CHECK: lowbit.requant %[[F]] {axis = 1 : i64, multiplier = array<i32: 1073741824, 1073741824, 1073741824>, shift = array<i32: 31, 30, 32>} : tensor<1x3xi32> -> tensor<1x3x!quant.uniform<u8:f32, 2.500000e-01:3>>
// CHECK-NOT: quant.dcast
// CANON-LABEL: func.func @matmul_bias
// CANON-SAME: (%[[X:.*]]: tensor<1x4x
// CANON-NOT: lowbit.reshape
// CANON: lowbit.fully_connected %[[X]]
func.func @matmul_bias(%x: tensor<1x4xf32>) -> tensor<1x3xf32> {
  %q = lowbit.quantize %x : tensor<1x4xf32> -> tensor<1x4x!quant.uniform<u8:f32, 0.5:128>>
  %d = lowbit.dequantize %q : tensor<1x4x!quant.uniform<u8:f32, 0.5:128>> -> tensor<1x4xf32>
  %s3 = tosa.const_shape {values = dense<[1, 1, 4]> : tensor<3xindex>} : () -> !tosa.shape<3>
  %d3 = tosa.reshape %d, %s3 : (tensor<1x4xf32>, !tosa.shape<3>) -> tensor<1x1x4xf32>
  %wq = lowbit.constant dense<[[1, 2, 3, 4], [-1, -2, -3, -4], [5, 0, -5, 127]]> : tensor<3x4xi8> -> tensor<3x4x!quant.uniform<i8:f32:0, {0.25, 0.5, 0.125}>>
  %w = lowbit.dequantize %wq : tensor<3x4x!quant.uniform<i8:f32:0, {0.25, 0.5, 0.125}>> -> tensor<3x4xf32>
  %wt = tosa.transpose %w {perms = array<i32: 1, 0>} : (tensor<3x4xf32>) -> tensor<4x3xf32>
  %sw = tosa.const_shape {values = dense<[1, 4, 3]> : tensor<3xindex>} : () -> !tosa.shape<3>
  %w3 = tosa.reshape %wt, %sw : (tensor<4x3xf32>, !tosa.shape<3>) -> tensor<1x4x3xf32>
  %zp = "tosa.const"() {values = dense<0.0> : tensor<1xf32>} : () -> tensor<1xf32>
  %mm = tosa.matmul %d3, %w3, %zp, %zp : (tensor<1x1x4xf32>, tensor<1x4x3xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x1x3xf32>
  %s2 = tosa.const_shape {values = dense<[1, 3]> : tensor<2xindex>} : () -> !tosa.shape<2>
  %mm2 = tosa.reshape %mm, %s2 : (tensor<1x1x3xf32>, !tosa.shape<2>) -> tensor<1x3xf32>
  %bi = "tosa.const"() {values = dense<[5, -6, 7]> : tensor<3xi32>} : () -> tensor<3xi32>
  %bq = quant.scast %bi : tensor<3xi32> to tensor<3x!quant.uniform<i32:f32:0, {0.125, 0.25, 0.0625}>>
  %bd = quant.dcast %bq : tensor<3x!quant.uniform<i32:f32:0, {0.125, 0.25, 0.0625}>> to tensor<3xf32>
  %b2 = tosa.reshape %bd, %s2 : (tensor<3xf32>, !tosa.shape<2>) -> tensor<1x3xf32>
  %a = tosa.add %mm2, %b2 : (tensor<1x3xf32>, tensor<1x3xf32>) -> tensor<1x3xf32>
  %o = lowbit.quantize %a : tensor<1x3xf32> -> tensor<1x3x!quant.uniform<u8:f32, 0.25:3>>
  %od = lowbit.dequantize %o : tensor<1x3x!quant.uniform<u8:f32, 0.25:3>> -> tensor<1x3xf32>
  return %od : tensor<1x3xf32>
}

// -----

// Pools keep their input's quantization: no requant when the quantize after
// the pool has the same parameters...
// CHECK-LABEL: func.func @max_pool_same_scale
// CHECK: %[[P:.*]] = lowbit.max_pool %{{.*}} {kernel = array<i64: 2, 2>, stride = array<i64: 2, 2>} : tensor<1x4x4x2x!quant.uniform<i8:f32, 5.000000e-01:2>> -> tensor<1x2x2x2x!quant.uniform<i8:f32, 5.000000e-01:2>>
// CHECK-NEXT: return %[[P]]
func.func @max_pool_same_scale(%x: tensor<1x4x4x2xf32>) -> tensor<1x2x2x2xf32> {
  %q = lowbit.quantize %x : tensor<1x4x4x2xf32> -> tensor<1x4x4x2x!quant.uniform<i8:f32, 0.5:2>>
  %d = lowbit.dequantize %q : tensor<1x4x4x2x!quant.uniform<i8:f32, 0.5:2>> -> tensor<1x4x4x2xf32>
  %p = tosa.max_pool2d %d {kernel = array<i64: 2, 2>, stride = array<i64: 2, 2>, pad = array<i64: 0, 0, 0, 0>} : (tensor<1x4x4x2xf32>) -> tensor<1x2x2x2xf32>
  %o = lowbit.quantize %p : tensor<1x2x2x2xf32> -> tensor<1x2x2x2x!quant.uniform<i8:f32, 0.5:2>>
  %od = lowbit.dequantize %o : tensor<1x2x2x2x!quant.uniform<i8:f32, 0.5:2>> -> tensor<1x2x2x2xf32>
  return %od : tensor<1x2x2x2xf32>
}

// -----

// ... and a requant (M = 0.5 / 1) when they differ.
// CHECK-LABEL: func.func @max_pool_rescaled
// CHECK: %[[P:.*]] = lowbit.max_pool
// CHECK-NEXT: %[[R:.*]] = lowbit.requant %[[P]] {multiplier = array<i32: 1073741824>, shift = array<i32: 31>} : tensor<1x2x2x2x!quant.uniform<i8:f32, 5.000000e-01:2>> -> tensor<1x2x2x2x!quant.uniform<i8:f32, 1.000000e+00:-1>>
// CHECK-NEXT: return %[[R]]
func.func @max_pool_rescaled(%x: tensor<1x4x4x2xf32>) -> tensor<1x2x2x2xf32> {
  %q = lowbit.quantize %x : tensor<1x4x4x2xf32> -> tensor<1x4x4x2x!quant.uniform<i8:f32, 0.5:2>>
  %d = lowbit.dequantize %q : tensor<1x4x4x2x!quant.uniform<i8:f32, 0.5:2>> -> tensor<1x4x4x2xf32>
  %p = tosa.max_pool2d %d {kernel = array<i64: 2, 2>, stride = array<i64: 2, 2>, pad = array<i64: 0, 0, 0, 0>} : (tensor<1x4x4x2xf32>) -> tensor<1x2x2x2xf32>
  %o = lowbit.quantize %p : tensor<1x2x2x2xf32> -> tensor<1x2x2x2x!quant.uniform<i8:f32, 1.0:-1>>
  %od = lowbit.dequantize %o : tensor<1x2x2x2x!quant.uniform<i8:f32, 1.0:-1>> -> tensor<1x2x2x2xf32>
  return %od : tensor<1x2x2x2xf32>
}

// -----

// Average pools: a padded 3x3 window, and a window covering the whole input
// (ONNX GlobalAveragePool) as lowbit.global_avg_pool.
// CHECK-LABEL: func.func @avg_pools_same_scale
// CHECK: %[[A:.*]] = lowbit.avg_pool %[[X:.*]] {kernel = array<i64: 3, 3>, pad = array<i64: 1, 1, 1, 1>} : tensor<1x4x4x2x!quant.uniform<u8:f32, 5.000000e-01:7>> -> tensor<1x4x4x2x!quant.uniform<u8:f32, 5.000000e-01:7>>
// CHECK-NEXT: %[[G:.*]] = lowbit.global_avg_pool %[[X]] : tensor<1x4x4x2x!quant.uniform<u8:f32, 5.000000e-01:7>> -> tensor<1x1x1x2x!quant.uniform<u8:f32, 5.000000e-01:7>>
// CHECK-NEXT: return %[[A]], %[[G]]
func.func @avg_pools_same_scale(%x: tensor<1x4x4x2xf32>) -> (tensor<1x4x4x2xf32>, tensor<1x1x1x2xf32>) {
  %q = lowbit.quantize %x : tensor<1x4x4x2xf32> -> tensor<1x4x4x2x!quant.uniform<u8:f32, 0.5:7>>
  %d = lowbit.dequantize %q : tensor<1x4x4x2x!quant.uniform<u8:f32, 0.5:7>> -> tensor<1x4x4x2xf32>
  %zp = "tosa.const"() {values = dense<0.0> : tensor<1xf32>} : () -> tensor<1xf32>
  %p = tosa.avg_pool2d %d, %zp, %zp {acc_type = f32, kernel = array<i64: 3, 3>, stride = array<i64: 1, 1>, pad = array<i64: 1, 1, 1, 1>} : (tensor<1x4x4x2xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x4x4x2xf32>
  %o = lowbit.quantize %p : tensor<1x4x4x2xf32> -> tensor<1x4x4x2x!quant.uniform<u8:f32, 0.5:7>>
  %od = lowbit.dequantize %o : tensor<1x4x4x2x!quant.uniform<u8:f32, 0.5:7>> -> tensor<1x4x4x2xf32>
  %g = tosa.avg_pool2d %d, %zp, %zp {acc_type = f32, kernel = array<i64: 4, 4>, stride = array<i64: 1, 1>, pad = array<i64: 0, 0, 0, 0>} : (tensor<1x4x4x2xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x1x1x2xf32>
  %go = lowbit.quantize %g : tensor<1x1x1x2xf32> -> tensor<1x1x1x2x!quant.uniform<u8:f32, 0.5:7>>
  %god = lowbit.dequantize %go : tensor<1x1x1x2x!quant.uniform<u8:f32, 0.5:7>> -> tensor<1x1x1x2xf32>
  return %od, %god : tensor<1x4x4x2xf32>, tensor<1x1x1x2xf32>
}

// -----

// CHECK-LABEL: func.func @avg_pool_rescaled
// CHECK: %[[P:.*]] = lowbit.avg_pool
// CHECK-NEXT: lowbit.requant %[[P]] {multiplier = array<i32: 1073741824>, shift = array<i32: 29>} : tensor<1x2x2x2x!quant.uniform<i8:f32, 5.000000e-01:2>> -> tensor<1x2x2x2x!quant.uniform<i8:f32, 2.500000e-01:-1>>
func.func @avg_pool_rescaled(%x: tensor<1x4x4x2xf32>) -> tensor<1x2x2x2xf32> {
  %q = lowbit.quantize %x : tensor<1x4x4x2xf32> -> tensor<1x4x4x2x!quant.uniform<i8:f32, 0.5:2>>
  %d = lowbit.dequantize %q : tensor<1x4x4x2x!quant.uniform<i8:f32, 0.5:2>> -> tensor<1x4x4x2xf32>
  %zp = "tosa.const"() {values = dense<0.0> : tensor<1xf32>} : () -> tensor<1xf32>
  %p = tosa.avg_pool2d %d, %zp, %zp {acc_type = f32, kernel = array<i64: 2, 2>, stride = array<i64: 2, 2>, pad = array<i64: 0, 0, 0, 0>} : (tensor<1x4x4x2xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x2x2x2xf32>
  %o = lowbit.quantize %p : tensor<1x2x2x2xf32> -> tensor<1x2x2x2x!quant.uniform<i8:f32, 0.25:-1>>
  %od = lowbit.dequantize %o : tensor<1x2x2x2x!quant.uniform<i8:f32, 0.25:-1>> -> tensor<1x2x2x2xf32>
  return %od : tensor<1x2x2x2xf32>
}

// -----

// Add of two activations (i8 and u8) with a ReLU: common intermediate
// scale 2 max(0.5, 0.25) / 2^20; input multipliers 0.5 / 1 and 0.25 / 1,
// output 1 / (2^20 * 1); ReLU as min = zp = -5.
// CHECK-LABEL: func.func @add_relu
// CHECK-SAME: (%[[A:.*]]: tensor<1x2x2x2x!quant.uniform<i8:f32, 5.000000e-01>>, %[[B:.*]]: tensor<1x2x2x2x!quant.uniform<u8:f32, 2.500000e-01:1>>)
// CHECK: lowbit.add %[[A]], %[[B]] {input_shift = 20 : i32, lhs_multiplier = 1073741824 : i32, lhs_shift = 31 : i32, min = -5 : i64, output_multiplier = 1073741824 : i32, output_shift = 50 : i32, rhs_multiplier = 1073741824 : i32, rhs_shift = 32 : i32}
func.func @add_relu(%a: tensor<1x2x2x2xf32>, %b: tensor<1x2x2x2xf32>) -> tensor<1x2x2x2xf32> {
  %qa = lowbit.quantize %a : tensor<1x2x2x2xf32> -> tensor<1x2x2x2x!quant.uniform<i8:f32, 0.5>>
  %da = lowbit.dequantize %qa : tensor<1x2x2x2x!quant.uniform<i8:f32, 0.5>> -> tensor<1x2x2x2xf32>
  %qb = lowbit.quantize %b : tensor<1x2x2x2xf32> -> tensor<1x2x2x2x!quant.uniform<u8:f32, 0.25:1>>
  %db = lowbit.dequantize %qb : tensor<1x2x2x2x!quant.uniform<u8:f32, 0.25:1>> -> tensor<1x2x2x2xf32>
  %s = tosa.add %da, %db : (tensor<1x2x2x2xf32>, tensor<1x2x2x2xf32>) -> tensor<1x2x2x2xf32>
  %r = tosa.clamp %s {min_val = 0.0 : f32, max_val = 0x7F800000 : f32} : (tensor<1x2x2x2xf32>) -> tensor<1x2x2x2xf32>
  %o = lowbit.quantize %r : tensor<1x2x2x2xf32> -> tensor<1x2x2x2x!quant.uniform<i8:f32, 1.0:-5>>
  %od = lowbit.dequantize %o : tensor<1x2x2x2x!quant.uniform<i8:f32, 1.0:-5>> -> tensor<1x2x2x2xf32>
  return %od : tensor<1x2x2x2xf32>
}

// -----

// Concat: the input with another scale is requantized to the result's
// (M = 0.25 / 0.5); the other is used as it is.
// CHECK-LABEL: func.func @concat
// CHECK-SAME: (%[[A:.*]]: tensor<1x2x2x1x!quant.uniform<i8:f32, 5.000000e-01:4>>, %[[B:.*]]: tensor<1x2x2x2x!quant.uniform<i8:f32, 2.500000e-01>>)
// CHECK: %[[R:.*]] = lowbit.requant %[[B]] {multiplier = array<i32: 1073741824>, shift = array<i32: 31>} : {{.*}} -> tensor<1x2x2x2x!quant.uniform<i8:f32, 5.000000e-01:4>>
// CHECK: lowbit.concat(%[[A]], %[[R]]) {axis = 3 : i64} : {{.*}} -> tensor<1x2x2x3x!quant.uniform<i8:f32, 5.000000e-01:4>>
func.func @concat(%a: tensor<1x2x2x1xf32>, %b: tensor<1x2x2x2xf32>) -> tensor<1x2x2x3xf32> {
  %qa = lowbit.quantize %a : tensor<1x2x2x1xf32> -> tensor<1x2x2x1x!quant.uniform<i8:f32, 0.5:4>>
  %da = lowbit.dequantize %qa : tensor<1x2x2x1x!quant.uniform<i8:f32, 0.5:4>> -> tensor<1x2x2x1xf32>
  %qb = lowbit.quantize %b : tensor<1x2x2x2xf32> -> tensor<1x2x2x2x!quant.uniform<i8:f32, 0.25>>
  %db = lowbit.dequantize %qb : tensor<1x2x2x2x!quant.uniform<i8:f32, 0.25>> -> tensor<1x2x2x2xf32>
  %c = tosa.concat %da, %db {axis = 3 : i32} : (tensor<1x2x2x1xf32>, tensor<1x2x2x2xf32>) -> tensor<1x2x2x3xf32>
  %o = lowbit.quantize %c : tensor<1x2x2x3xf32> -> tensor<1x2x2x3x!quant.uniform<i8:f32, 0.5:4>>
  %od = lowbit.dequantize %o : tensor<1x2x2x3x!quant.uniform<i8:f32, 0.5:4>> -> tensor<1x2x2x3xf32>
  return %od : tensor<1x2x2x3xf32>
}

// -----

// An NCHW model: the quantized argument and result keep their NCHW shapes;
// the layout transposes around the NHWC pool become lowbit.transpose.
// CHECK-LABEL: func.func @nchw_io
// CHECK-SAME: (%[[X:.*]]: tensor<1x2x4x4x!quant.uniform<u8:f32, 5.000000e-01:128>>) -> tensor<1x2x2x2x!quant.uniform<u8:f32, 5.000000e-01:128>>
// CHECK: %[[T:.*]] = lowbit.transpose %[[X]] {perms = array<i32: 0, 2, 3, 1>} : {{.*}} -> tensor<1x4x4x2x!quant.uniform<u8:f32, 5.000000e-01:128>>
// CHECK: %[[P:.*]] = lowbit.max_pool %[[T]]
// CHECK: %[[U:.*]] = lowbit.transpose %[[P]] {perms = array<i32: 0, 3, 1, 2>}
// CHECK-NEXT: return %[[U]]
func.func @nchw_io(%x: tensor<1x2x4x4xf32>) -> tensor<1x2x2x2xf32> {
  %q = lowbit.quantize %x : tensor<1x2x4x4xf32> -> tensor<1x2x4x4x!quant.uniform<u8:f32, 0.5:128>>
  %d = lowbit.dequantize %q : tensor<1x2x4x4x!quant.uniform<u8:f32, 0.5:128>> -> tensor<1x2x4x4xf32>
  %t = tosa.transpose %d {perms = array<i32: 0, 2, 3, 1>} : (tensor<1x2x4x4xf32>) -> tensor<1x4x4x2xf32>
  %p = tosa.max_pool2d %t {kernel = array<i64: 2, 2>, stride = array<i64: 2, 2>, pad = array<i64: 0, 0, 0, 0>} : (tensor<1x4x4x2xf32>) -> tensor<1x2x2x2xf32>
  %u = tosa.transpose %p {perms = array<i32: 0, 3, 1, 2>} : (tensor<1x2x2x2xf32>) -> tensor<1x2x2x2xf32>
  %o = lowbit.quantize %u : tensor<1x2x2x2xf32> -> tensor<1x2x2x2x!quant.uniform<u8:f32, 0.5:128>>
  %od = lowbit.dequantize %o : tensor<1x2x2x2x!quant.uniform<u8:f32, 0.5:128>> -> tensor<1x2x2x2xf32>
  return %od : tensor<1x2x2x2xf32>
}

// -----

// Two NCHW layers: each segment is lowered in NHWC and the transpose before
// its quantize is replayed on the integer result; the NHWC -> NCHW -> NHWC
// pair between the layers folds away.
// CHECK-LABEL: func.func @nchw_chain
// CHECK-COUNT-4: lowbit.transpose
// CANON-LABEL: func.func @nchw_chain
// CANON: %[[T:.*]] = lowbit.transpose %{{.*}} {perms = array<i32: 0, 2, 3, 1>}
// CANON: %[[C1:.*]] = lowbit.conv2d %[[T]]
// CANON: %[[R1:.*]] = lowbit.requant %[[C1]]
// CANON: %[[C2:.*]] = lowbit.conv2d %[[R1]]
// CANON: %[[R2:.*]] = lowbit.requant %[[C2]]
// CANON: %[[U:.*]] = lowbit.transpose %[[R2]] {perms = array<i32: 0, 3, 1, 2>}
// CANON-NEXT: return %[[U]]
func.func @nchw_chain(%x: tensor<1x2x2x2xf32>) -> tensor<1x2x2x2xf32> {
  %q = lowbit.quantize %x : tensor<1x2x2x2xf32> -> tensor<1x2x2x2x!quant.uniform<u8:f32, 0.5:128>>
  %d = lowbit.dequantize %q : tensor<1x2x2x2x!quant.uniform<u8:f32, 0.5:128>> -> tensor<1x2x2x2xf32>
  %t = tosa.transpose %d {perms = array<i32: 0, 2, 3, 1>} : (tensor<1x2x2x2xf32>) -> tensor<1x2x2x2xf32>
  %wq = lowbit.constant dense<[[[[1, -2]]], [[[3, 4]]]]> : tensor<2x1x1x2xi8> -> tensor<2x1x1x2x!quant.uniform<i8:f32, 0.25>>
  %w = lowbit.dequantize %wq : tensor<2x1x1x2x!quant.uniform<i8:f32, 0.25>> -> tensor<2x1x1x2xf32>
  %b = "tosa.const"() {values = dense<0.0> : tensor<2xf32>} : () -> tensor<2xf32>
  %zp = "tosa.const"() {values = dense<0.0> : tensor<1xf32>} : () -> tensor<1xf32>
  %c = tosa.conv2d %t, %w, %b, %zp, %zp {acc_type = f32, dilation = array<i64: 1, 1>, pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 1, 1>} : (tensor<1x2x2x2xf32>, tensor<2x1x1x2xf32>, tensor<2xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x2x2x2xf32>
  %u = tosa.transpose %c {perms = array<i32: 0, 3, 1, 2>} : (tensor<1x2x2x2xf32>) -> tensor<1x2x2x2xf32>
  %o = lowbit.quantize %u : tensor<1x2x2x2xf32> -> tensor<1x2x2x2x!quant.uniform<u8:f32, 0.125:100>>
  %od = lowbit.dequantize %o : tensor<1x2x2x2x!quant.uniform<u8:f32, 0.125:100>> -> tensor<1x2x2x2xf32>
  %t2 = tosa.transpose %od {perms = array<i32: 0, 2, 3, 1>} : (tensor<1x2x2x2xf32>) -> tensor<1x2x2x2xf32>
  %c2 = tosa.conv2d %t2, %w, %b, %zp, %zp {acc_type = f32, dilation = array<i64: 1, 1>, pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 1, 1>} : (tensor<1x2x2x2xf32>, tensor<2x1x1x2xf32>, tensor<2xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x2x2x2xf32>
  %u2 = tosa.transpose %c2 {perms = array<i32: 0, 3, 1, 2>} : (tensor<1x2x2x2xf32>) -> tensor<1x2x2x2xf32>
  %o2 = lowbit.quantize %u2 : tensor<1x2x2x2xf32> -> tensor<1x2x2x2x!quant.uniform<u8:f32, 0.125:100>>
  %od2 = lowbit.dequantize %o2 : tensor<1x2x2x2x!quant.uniform<u8:f32, 0.125:100>> -> tensor<1x2x2x2xf32>
  return %od2 : tensor<1x2x2x2xf32>
}

// -----

// An NCHW residual add of two NHWC producers: the add runs before the
// transposes, which then cancel against the consumer's.
// CHECK-LABEL: func.func @nchw_residual_add
// CHECK: %[[S:.*]] = lowbit.add %[[A:.*]], %[[B:.*]] {{.*}} : (tensor<1x2x2x2x!quant.uniform<i8:f32, 5.000000e-01>>, tensor<1x2x2x2x!quant.uniform<i8:f32, 2.500000e-01>>) -> tensor<1x2x2x2x!quant.uniform<i8:f32, 1.000000e+00>>
// CHECK: lowbit.transpose %[[S]] {perms = array<i32: 0, 3, 1, 2>}
// CANON-LABEL: func.func @nchw_residual_add
// CANON-NOT: lowbit.transpose
// CANON: lowbit.add
// CANON-NOT: lowbit.transpose
// CANON: return
func.func @nchw_residual_add(%x: tensor<1x2x2x2xf32>, %y: tensor<1x2x2x2xf32>) -> tensor<1x2x2x2xf32> {
  %qx = lowbit.quantize %x : tensor<1x2x2x2xf32> -> tensor<1x2x2x2x!quant.uniform<i8:f32, 0.5>>
  %dx = lowbit.dequantize %qx : tensor<1x2x2x2x!quant.uniform<i8:f32, 0.5>> -> tensor<1x2x2x2xf32>
  %px = tosa.max_pool2d %dx {kernel = array<i64: 1, 1>, stride = array<i64: 1, 1>, pad = array<i64: 0, 0, 0, 0>} : (tensor<1x2x2x2xf32>) -> tensor<1x2x2x2xf32>
  %tx = tosa.transpose %px {perms = array<i32: 0, 3, 1, 2>} : (tensor<1x2x2x2xf32>) -> tensor<1x2x2x2xf32>
  %qa = lowbit.quantize %tx : tensor<1x2x2x2xf32> -> tensor<1x2x2x2x!quant.uniform<i8:f32, 0.5>>
  %da = lowbit.dequantize %qa : tensor<1x2x2x2x!quant.uniform<i8:f32, 0.5>> -> tensor<1x2x2x2xf32>
  %qy = lowbit.quantize %y : tensor<1x2x2x2xf32> -> tensor<1x2x2x2x!quant.uniform<i8:f32, 0.25>>
  %dy = lowbit.dequantize %qy : tensor<1x2x2x2x!quant.uniform<i8:f32, 0.25>> -> tensor<1x2x2x2xf32>
  %py = tosa.max_pool2d %dy {kernel = array<i64: 1, 1>, stride = array<i64: 1, 1>, pad = array<i64: 0, 0, 0, 0>} : (tensor<1x2x2x2xf32>) -> tensor<1x2x2x2xf32>
  %ty = tosa.transpose %py {perms = array<i32: 0, 3, 1, 2>} : (tensor<1x2x2x2xf32>) -> tensor<1x2x2x2xf32>
  %qb = lowbit.quantize %ty : tensor<1x2x2x2xf32> -> tensor<1x2x2x2x!quant.uniform<i8:f32, 0.25>>
  %db = lowbit.dequantize %qb : tensor<1x2x2x2x!quant.uniform<i8:f32, 0.25>> -> tensor<1x2x2x2xf32>
  %s = tosa.add %da, %db : (tensor<1x2x2x2xf32>, tensor<1x2x2x2xf32>) -> tensor<1x2x2x2xf32>
  %o = lowbit.quantize %s : tensor<1x2x2x2xf32> -> tensor<1x2x2x2x!quant.uniform<i8:f32, 1.0>>
  %od = lowbit.dequantize %o : tensor<1x2x2x2x!quant.uniform<i8:f32, 1.0>> -> tensor<1x2x2x2xf32>
  %t = tosa.transpose %od {perms = array<i32: 0, 2, 3, 1>} : (tensor<1x2x2x2xf32>) -> tensor<1x2x2x2xf32>
  return %t : tensor<1x2x2x2xf32>
}

// -----

// The importer's output before its clean-up: the ReLU after the NHWC ->
// NCHW transpose (it commutes with the transpose, which is replayed after
// the requant), and a zero-width pad before the average pool.
// CHECK-LABEL: func.func @uncleaned_import
// CHECK: %[[C:.*]] = lowbit.conv2d
// CHECK: %[[R:.*]] = lowbit.requant %[[C]] {min = 10 : i64,
// CHECK: %[[T:.*]] = lowbit.transpose %[[R]] {perms = array<i32: 0, 3, 1, 2>}
// CHECK: %[[U:.*]] = lowbit.transpose %[[T]] {perms = array<i32: 0, 2, 3, 1>}
// CHECK: lowbit.avg_pool %[[U]]
// CHECK-NOT: tosa.
func.func @uncleaned_import(%x: tensor<1x2x2x2xf32>) -> tensor<1x1x2x2xf32> {
  %q = lowbit.quantize %x : tensor<1x2x2x2xf32> -> tensor<1x2x2x2x!quant.uniform<i8:f32, 0.5>>
  %d = lowbit.dequantize %q : tensor<1x2x2x2x!quant.uniform<i8:f32, 0.5>> -> tensor<1x2x2x2xf32>
  %wq = lowbit.constant dense<1> : tensor<2x1x1x2xi8> -> tensor<2x1x1x2x!quant.uniform<i8:f32, 0.5>>
  %w = lowbit.dequantize %wq : tensor<2x1x1x2x!quant.uniform<i8:f32, 0.5>> -> tensor<2x1x1x2xf32>
  %b = "tosa.const"() {values = dense<0.0> : tensor<2xf32>} : () -> tensor<2xf32>
  %zp = "tosa.const"() {values = dense<0.0> : tensor<1xf32>} : () -> tensor<1xf32>
  %c = tosa.conv2d %d, %w, %b, %zp, %zp {acc_type = f32, dilation = array<i64: 1, 1>, pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 1, 1>} : (tensor<1x2x2x2xf32>, tensor<2x1x1x2xf32>, tensor<2xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x2x2x2xf32>
  %t = tosa.transpose %c {perms = array<i32: 0, 3, 1, 2>} : (tensor<1x2x2x2xf32>) -> tensor<1x2x2x2xf32>
  %r = tosa.clamp %t {min_val = 0.0 : f32, max_val = 0x7F800000 : f32} : (tensor<1x2x2x2xf32>) -> tensor<1x2x2x2xf32>
  %o = lowbit.quantize %r : tensor<1x2x2x2xf32> -> tensor<1x2x2x2x!quant.uniform<u8:f32, 0.25:10>>
  %od = lowbit.dequantize %o : tensor<1x2x2x2x!quant.uniform<u8:f32, 0.25:10>> -> tensor<1x2x2x2xf32>
  %pads = tosa.const_shape {values = dense<0> : tensor<8xindex>} : () -> !tosa.shape<8>
  %p = tosa.pad %od, %pads, %zp : (tensor<1x2x2x2xf32>, !tosa.shape<8>, tensor<1xf32>) -> tensor<1x2x2x2xf32>
  %u = tosa.transpose %p {perms = array<i32: 0, 2, 3, 1>} : (tensor<1x2x2x2xf32>) -> tensor<1x2x2x2xf32>
  %a = tosa.avg_pool2d %u, %zp, %zp {acc_type = f32, kernel = array<i64: 2, 1>, stride = array<i64: 2, 1>, pad = array<i64: 0, 0, 0, 0>} : (tensor<1x2x2x2xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x1x2x2xf32>
  %ao = lowbit.quantize %a : tensor<1x1x2x2xf32> -> tensor<1x1x2x2x!quant.uniform<u8:f32, 0.25:10>>
  %aod = lowbit.dequantize %ao : tensor<1x1x2x2x!quant.uniform<u8:f32, 0.25:10>> -> tensor<1x1x2x2xf32>
  return %aod : tensor<1x1x2x2xf32>
}

// -----

// Power-of-two weights with one U per output channel keep their codes and
// encoding: the integer op's accumulator is in units of S_in U[c] 2^-M.
// 4-bit codes (M = 8), U = [2, 0.5]: 1.0 = 2 * 2^-1 is code 1, -0.5 = 2 *
// 2^-2 is -2, 0.25 = 0.5 * 2^-1 is 1, 0.125 is 2; steps [2^-7, 2^-9] give
// the requant shifts 36 and 38. 3-bit depthwise codes (M = 4), U = [1,
// 0.25]: 0.5 is code 1, -0.0625 = 0.25 * 2^-2 is -2.
// CHECK-LABEL: func.func @pow2_per_channel
// CHECK: %[[W:.*]] = lowbit.constant dense<{{\[\[\[\[}}1, -2]]], {{\[\[\[}}1, 2]]]]> : tensor<2x1x1x2xi4> -> tensor<2x1x1x2xi4>
// CHECK: %[[C:.*]] = lowbit.conv2d %{{.*}}, %[[W]], %{{.*}} {weight_encoding = #lowbit.log<bits = 4, scale = 2.000000e+00, channel_scales = [2.000000e+00, 5.000000e-01]>}
// CHECK: lowbit.requant %[[C]] {axis = 3 : i64, multiplier = array<i32: 1073741824, 1073741824>, shift = array<i32: 36, 38>}
// CHECK: %[[D:.*]] = lowbit.constant dense<{{\[\[\[\[}}1]]], {{\[\[\[}}-2]]]]> : tensor<2x1x1x1xi3> -> tensor<2x1x1x1xi3>
// CHECK: %[[E:.*]] = lowbit.conv2d %{{.*}}, %[[D]], %{{.*}} {groups = 2 : i64, weight_encoding = #lowbit.log<bits = 3
// CHECK: lowbit.requant %[[E]] {axis = 3 : i64, multiplier = array<i32: 1073741824, 1073741824>, shift = array<i32: 35, 37>}
func.func @pow2_per_channel(%x: tensor<1x2x2x2xf32>) -> tensor<1x2x2x2xf32> {
  %q = lowbit.quantize %x : tensor<1x2x2x2xf32> -> tensor<1x2x2x2x!quant.uniform<i8:f32, 0.5>>
  %d = lowbit.dequantize %q : tensor<1x2x2x2x!quant.uniform<i8:f32, 0.5>> -> tensor<1x2x2x2xf32>
  %w = "tosa.const"() {values = dense<[[[[1.0, -0.5]]], [[[0.25, 0.125]]]]> : tensor<2x1x1x2xf32>} : () -> tensor<2x1x1x2xf32>
  %b = "tosa.const"() {values = dense<0.0> : tensor<2xf32>} : () -> tensor<2xf32>
  %zp = "tosa.const"() {values = dense<0.0> : tensor<1xf32>} : () -> tensor<1xf32>
  %c = tosa.conv2d %d, %w, %b, %zp, %zp {acc_type = f32, dilation = array<i64: 1, 1>, pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 1, 1>, lowbit.weight_encoding = #lowbit.log<bits = 4, scale = 2.0, channel_scales = [2.0, 0.5]>} : (tensor<1x2x2x2xf32>, tensor<2x1x1x2xf32>, tensor<2xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x2x2x2xf32>
  %cq = lowbit.quantize %c : tensor<1x2x2x2xf32> -> tensor<1x2x2x2x!quant.uniform<i8:f32, 0.25>>
  %cd = lowbit.dequantize %cq : tensor<1x2x2x2x!quant.uniform<i8:f32, 0.25>> -> tensor<1x2x2x2xf32>
  %dw = "tosa.const"() {values = dense<[[[[0.5], [-0.0625]]]]> : tensor<1x1x2x1xf32>} : () -> tensor<1x1x2x1xf32>
  %e = tosa.depthwise_conv2d %cd, %dw, %b, %zp, %zp {acc_type = f32, dilation = array<i64: 1, 1>, pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 1, 1>, lowbit.weight_encoding = #lowbit.log<bits = 3, scale = 1.0, channel_scales = [1.0, 0.25]>} : (tensor<1x2x2x2xf32>, tensor<1x1x2x1xf32>, tensor<2xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x2x2x2xf32>
  %o = lowbit.quantize %e : tensor<1x2x2x2xf32> -> tensor<1x2x2x2x!quant.uniform<i8:f32, 0.5>>
  %od = lowbit.dequantize %o : tensor<1x2x2x2x!quant.uniform<i8:f32, 0.5>> -> tensor<1x2x2x2xf32>
  return %od : tensor<1x2x2x2xf32>
}

// -----

// A positive constant multiply after a convolution and its bias (a hard
// sigmoid: clamp(x / 6 + 0.5, 0, 1)) folds into the weights' scales,
// 0.5 / 6 per channel, and the bias: round(1 * (1 / 6) / (0.5 * 0.5 / 6))
// + round(0.5 / (0.5 * 0.5 / 6)) = 4 + 12 = 16 in accumulator units; the
// requant multiplier is 0.5 * (0.5 / 6) / 2^-8 = 10.667 (1431655808 *
// 2^-27), and the clamp [0, 1] is the output type's whole range.
// CHECK-LABEL: func.func @conv_hard_sigmoid
// CHECK-DAG: %[[W:.*]] = lowbit.constant dense<{{\[\[\[\[}}1, -2]]], {{\[\[\[}}3, 4]]]]> : tensor<2x1x1x2xi8> -> tensor<2x1x1x2x!quant.uniform<i8<-127:127>:f32, 0.083333335816860198>>
// CHECK-DAG: %[[B:.*]] = lowbit.constant dense<16> : tensor<2xi32>
// CHECK: %[[C:.*]] = lowbit.conv2d %{{.*}}, %[[W]], %[[B]]
// CHECK: lowbit.requant %[[C]] {multiplier = array<i32: 1431655808>, shift = array<i32: 27>}
// CHECK-NOT: tosa.
func.func @conv_hard_sigmoid(%x: tensor<1x2x2x2xf32>) -> tensor<1x2x2x2xf32> {
  %q = lowbit.quantize %x : tensor<1x2x2x2xf32> -> tensor<1x2x2x2x!quant.uniform<i8:f32, 0.5>>
  %d = lowbit.dequantize %q : tensor<1x2x2x2x!quant.uniform<i8:f32, 0.5>> -> tensor<1x2x2x2xf32>
  %wq = lowbit.constant dense<[[[[1, -2]]], [[[3, 4]]]]> : tensor<2x1x1x2xi8> -> tensor<2x1x1x2x!quant.uniform<i8<-127:127>:f32, 0.5>>
  %w = lowbit.dequantize %wq : tensor<2x1x1x2x!quant.uniform<i8<-127:127>:f32, 0.5>> -> tensor<2x1x1x2xf32>
  %b = "tosa.const"() {values = dense<1.0> : tensor<2xf32>} : () -> tensor<2xf32>
  %zp = "tosa.const"() {values = dense<0.0> : tensor<1xf32>} : () -> tensor<1xf32>
  %c = tosa.conv2d %d, %w, %b, %zp, %zp {acc_type = f32, dilation = array<i64: 1, 1>, pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 1, 1>} : (tensor<1x2x2x2xf32>, tensor<2x1x1x2xf32>, tensor<2xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x2x2x2xf32>
  %k = "tosa.const"() {values = dense<0.16666667> : tensor<1x1x1x1xf32>} : () -> tensor<1x1x1x1xf32>
  %half = "tosa.const"() {values = dense<0.5> : tensor<1x1x1x1xf32>} : () -> tensor<1x1x1x1xf32>
  %shift = "tosa.const"() {values = dense<0> : tensor<1xi8>} : () -> tensor<1xi8>
  %m = tosa.mul %c, %k, %shift : (tensor<1x2x2x2xf32>, tensor<1x1x1x1xf32>, tensor<1xi8>) -> tensor<1x2x2x2xf32>
  %a = tosa.add %m, %half : (tensor<1x2x2x2xf32>, tensor<1x1x1x1xf32>) -> tensor<1x2x2x2xf32>
  %h = tosa.clamp %a {min_val = 0.0 : f32, max_val = 1.0 : f32} : (tensor<1x2x2x2xf32>) -> tensor<1x2x2x2xf32>
  %o = lowbit.quantize %h : tensor<1x2x2x2xf32> -> tensor<1x2x2x2x!quant.uniform<i8:f32, 0.00390625:-128>>
  %od = lowbit.dequantize %o : tensor<1x2x2x2x!quant.uniform<i8:f32, 0.00390625:-128>> -> tensor<1x2x2x2xf32>
  return %od : tensor<1x2x2x2xf32>
}
