// RUN: lowbit-opt %s --split-input-file --convert-tosa-to-lowbit=fold-input-zero-point=false | FileCheck %s

// Data movement and standalone affine maps on quantized activations
// (issue 10's ops): channel splits, constant pads, concats with constant
// operands, and per-channel x * a + b that follows no convolution.

// A channel split (ShuffleNet's chunk): two windows of one activation, on
// its scale, joined again by a concat of the same scale: no requant.
// CHECK-LABEL: func.func @channel_split
// CHECK-SAME: (%[[X:.*]]: tensor<1x2x2x4x!quant.uniform<i8:f32, 5.000000e-01:3>>)
// CHECK-DAG: %[[A:.*]] = lowbit.slice %[[X]] {start = array<i64: 0, 0, 0, 0>} : {{.*}} -> tensor<1x2x2x2x!quant.uniform<i8:f32, 5.000000e-01:3>>
// CHECK-DAG: %[[B:.*]] = lowbit.slice %[[X]] {start = array<i64: 0, 0, 0, 2>} : {{.*}} -> tensor<1x2x2x2x!quant.uniform<i8:f32, 5.000000e-01:3>>
// CHECK: %[[C:.*]] = lowbit.concat(%[[B]], %[[A]]) {axis = 3 : i64}
// CHECK-NEXT: return %[[C]]
// CHECK-NOT: tosa.
func.func @channel_split(%x: tensor<1x2x2x4xf32>) -> tensor<1x2x2x4xf32> {
  %q = lowbit.quantize %x : tensor<1x2x2x4xf32> -> tensor<1x2x2x4x!quant.uniform<i8:f32, 0.5:3>>
  %d = lowbit.dequantize %q : tensor<1x2x2x4x!quant.uniform<i8:f32, 0.5:3>> -> tensor<1x2x2x4xf32>
  %s0 = tosa.const_shape {values = dense<[0, 0, 0, 0]> : tensor<4xindex>} : () -> !tosa.shape<4>
  %s1 = tosa.const_shape {values = dense<[0, 0, 0, 2]> : tensor<4xindex>} : () -> !tosa.shape<4>
  %sz = tosa.const_shape {values = dense<[1, 2, 2, 2]> : tensor<4xindex>} : () -> !tosa.shape<4>
  %a = tosa.slice %d, %s0, %sz : (tensor<1x2x2x4xf32>, !tosa.shape<4>, !tosa.shape<4>) -> tensor<1x2x2x2xf32>
  %b = tosa.slice %d, %s1, %sz : (tensor<1x2x2x4xf32>, !tosa.shape<4>, !tosa.shape<4>) -> tensor<1x2x2x2xf32>
  %qa = lowbit.quantize %a : tensor<1x2x2x2xf32> -> tensor<1x2x2x2x!quant.uniform<i8:f32, 0.5:3>>
  %da = lowbit.dequantize %qa : tensor<1x2x2x2x!quant.uniform<i8:f32, 0.5:3>> -> tensor<1x2x2x2xf32>
  %qb = lowbit.quantize %b : tensor<1x2x2x2xf32> -> tensor<1x2x2x2x!quant.uniform<i8:f32, 0.5:3>>
  %db = lowbit.dequantize %qb : tensor<1x2x2x2x!quant.uniform<i8:f32, 0.5:3>> -> tensor<1x2x2x2xf32>
  %c = tosa.concat %db, %da {axis = 3 : i32} : (tensor<1x2x2x2xf32>, tensor<1x2x2x2xf32>) -> tensor<1x2x2x4xf32>
  %o = lowbit.quantize %c : tensor<1x2x2x4xf32> -> tensor<1x2x2x4x!quant.uniform<i8:f32, 0.5:3>>
  %od = lowbit.dequantize %o : tensor<1x2x2x4x!quant.uniform<i8:f32, 0.5:3>> -> tensor<1x2x2x4xf32>
  return %od : tensor<1x2x2x4xf32>
}

// -----

// A pad with the constant 1.5: the input (scale 0.5, zp 0) is requantized
// to the result's scale 0.25 (zp -4), then padded with the stored value
// round(1.5 / 0.25) - 4 = 2.
// CHECK-LABEL: func.func @constant_pad
// CHECK: %[[R:.*]] = lowbit.requant %{{.*}} {multiplier = array<i32: 1073741824>, shift = array<i32: 29>} : {{.*}} -> tensor<1x2x2x1x!quant.uniform<i8:f32, 2.500000e-01:-4>>
// CHECK: %[[P:.*]] = lowbit.pad %[[R]] {pad_value = 2 : i64, padding = array<i64: 0, 0, 1, 1, 0, 2, 0, 0>} : {{.*}} -> tensor<1x4x4x1x!quant.uniform<i8:f32, 2.500000e-01:-4>>
// CHECK-NEXT: return %[[P]]
func.func @constant_pad(%x: tensor<1x2x2x1xf32>) -> tensor<1x4x4x1xf32> {
  %q = lowbit.quantize %x : tensor<1x2x2x1xf32> -> tensor<1x2x2x1x!quant.uniform<i8:f32, 0.5>>
  %d = lowbit.dequantize %q : tensor<1x2x2x1x!quant.uniform<i8:f32, 0.5>> -> tensor<1x2x2x1xf32>
  %pads = tosa.const_shape {values = dense<[0, 0, 1, 1, 0, 2, 0, 0]> : tensor<8xindex>} : () -> !tosa.shape<8>
  %v = "tosa.const"() {values = dense<1.5> : tensor<1xf32>} : () -> tensor<1xf32>
  %p = tosa.pad %d, %pads, %v : (tensor<1x2x2x1xf32>, !tosa.shape<8>, tensor<1xf32>) -> tensor<1x4x4x1xf32>
  %o = lowbit.quantize %p : tensor<1x4x4x1xf32> -> tensor<1x4x4x1x!quant.uniform<i8:f32, 0.25:-4>>
  %od = lowbit.dequantize %o : tensor<1x4x4x1x!quant.uniform<i8:f32, 0.25:-4>> -> tensor<1x4x4x1xf32>
  return %od : tensor<1x4x4x1xf32>
}

// -----

// A concat with a constant operand (a detector's channel pad of zeros, and
// a constant 1.0): the constant is stored with the concat's quantization,
// 0 -> zp 5 and 1.0 -> 1 / 0.5 + 5 = 7.
// CHECK-LABEL: func.func @concat_constant
// CHECK: %[[K:.*]] = lowbit.constant dense<{{\[\[\[\[}}5, 7]]]]> : tensor<1x1x1x2xi8> -> tensor<1x1x1x2x!quant.uniform<i8:f32, 5.000000e-01:5>>
// CHECK: lowbit.concat(%{{.*}}, %[[K]]) {axis = 3 : i64}
func.func @concat_constant(%x: tensor<1x1x1x2xf32>) -> tensor<1x1x1x4xf32> {
  %q = lowbit.quantize %x : tensor<1x1x1x2xf32> -> tensor<1x1x1x2x!quant.uniform<i8:f32, 0.5:5>>
  %d = lowbit.dequantize %q : tensor<1x1x1x2x!quant.uniform<i8:f32, 0.5:5>> -> tensor<1x1x1x2xf32>
  %k = "tosa.const"() {values = dense<[[[[0.0, 1.0]]]]> : tensor<1x1x1x2xf32>} : () -> tensor<1x1x1x2xf32>
  %c = tosa.concat %d, %k {axis = 3 : i32} : (tensor<1x1x1x2xf32>, tensor<1x1x1x2xf32>) -> tensor<1x1x1x4xf32>
  %o = lowbit.quantize %c : tensor<1x1x1x4xf32> -> tensor<1x1x1x4x!quant.uniform<i8:f32, 0.5:5>>
  %od = lowbit.dequantize %o : tensor<1x1x1x4x!quant.uniform<i8:f32, 0.5:5>> -> tensor<1x1x1x4xf32>
  return %od : tensor<1x1x1x4xf32>
}

// -----

// A BatchNorm after a ReLU (x * a[c] + b[c], a = [0.5, -2]): a 1x1
// depthwise layer with weights +-127 of scales |a[c]| / 127 and the bias
// b[c] / (S_in S_w[c]) in accumulator units: 1 / (1 * 0.5/127) = 254 and
// -1 / (1 * 2/127) = -63.5 -> -64 (ties to even).
// CHECK-LABEL: func.func @affine_after_relu
// CHECK-DAG: %[[W:.*]] = lowbit.constant dense<{{\[\[\[\[}}127]]], {{\[\[\[}}-127]]]]> : tensor<2x1x1x1xi8> -> tensor<2x1x1x1x!quant.uniform<i8<-127:127>:f32:0, {0.003937007874015748,0.015748031496062992}>>
// CHECK-DAG: %[[B:.*]] = lowbit.constant dense<[254, -64]> : tensor<2xi32>
// CHECK: lowbit.conv2d %{{.*}}, %[[W]], %[[B]] {groups = 2 : i64}
// CHECK: lowbit.requant
// CHECK-NOT: tosa.
func.func @affine_after_relu(%x: tensor<1x2x2x2xf32>) -> tensor<1x2x2x2xf32> {
  %q = lowbit.quantize %x : tensor<1x2x2x2xf32> -> tensor<1x2x2x2x!quant.uniform<i8:f32, 1.0>>
  %d = lowbit.dequantize %q : tensor<1x2x2x2x!quant.uniform<i8:f32, 1.0>> -> tensor<1x2x2x2xf32>
  %a = "tosa.const"() {values = dense<[[[[0.5, -2.0]]]]> : tensor<1x1x1x2xf32>} : () -> tensor<1x1x1x2xf32>
  %b = "tosa.const"() {values = dense<[[[[1.0, -1.0]]]]> : tensor<1x1x1x2xf32>} : () -> tensor<1x1x1x2xf32>
  %shift = "tosa.const"() {values = dense<0> : tensor<1xi8>} : () -> tensor<1xi8>
  %m = tosa.mul %d, %a, %shift : (tensor<1x2x2x2xf32>, tensor<1x1x1x2xf32>, tensor<1xi8>) -> tensor<1x2x2x2xf32>
  %y = tosa.add %m, %b : (tensor<1x2x2x2xf32>, tensor<1x1x1x2xf32>) -> tensor<1x2x2x2xf32>
  %o = lowbit.quantize %y : tensor<1x2x2x2xf32> -> tensor<1x2x2x2x!quant.uniform<i8:f32, 0.5>>
  %od = lowbit.dequantize %o : tensor<1x2x2x2x!quant.uniform<i8:f32, 0.5>> -> tensor<1x2x2x2xf32>
  return %od : tensor<1x2x2x2xf32>
}

// -----

// A hard sigmoid x / 6 + 0.5 on a 2-D activation (after a Gemm): the same
// depthwise form on the activation reshaped to [1, 1, 1, C], then back.
// CHECK-LABEL: func.func @hard_sigmoid_2d
// CHECK: %[[R:.*]] = lowbit.reshape %{{.*}} -> tensor<1x1x1x3x!quant.uniform<i8:f32, 1.000000e+00>>
// CHECK: %[[C:.*]] = lowbit.conv2d %[[R]], {{.*}} {groups = 3 : i64}
// CHECK: %[[Q:.*]] = lowbit.requant %[[C]]
// CHECK: lowbit.reshape %[[Q]] {{.*}} -> tensor<1x3x!quant.uniform<i8:f32, 3.906250e-03:-128>>
// CHECK-NOT: tosa.
func.func @hard_sigmoid_2d(%x: tensor<1x3xf32>) -> tensor<1x3xf32> {
  %q = lowbit.quantize %x : tensor<1x3xf32> -> tensor<1x3x!quant.uniform<i8:f32, 1.0>>
  %d = lowbit.dequantize %q : tensor<1x3x!quant.uniform<i8:f32, 1.0>> -> tensor<1x3xf32>
  %k = "tosa.const"() {values = dense<0.166666672> : tensor<1x1xf32>} : () -> tensor<1x1xf32>
  %h = "tosa.const"() {values = dense<0.5> : tensor<1x1xf32>} : () -> tensor<1x1xf32>
  %shift = "tosa.const"() {values = dense<0> : tensor<1xi8>} : () -> tensor<1xi8>
  %m = tosa.mul %d, %k, %shift : (tensor<1x3xf32>, tensor<1x1xf32>, tensor<1xi8>) -> tensor<1x3xf32>
  %a = tosa.add %m, %h : (tensor<1x3xf32>, tensor<1x1xf32>) -> tensor<1x3xf32>
  %c = tosa.clamp %a {min_val = 0.0 : f32, max_val = 1.0 : f32} : (tensor<1x3xf32>) -> tensor<1x3xf32>
  %o = lowbit.quantize %c : tensor<1x3xf32> -> tensor<1x3x!quant.uniform<i8:f32, 0.00390625:-128>>
  %od = lowbit.dequantize %o : tensor<1x3x!quant.uniform<i8:f32, 0.00390625:-128>> -> tensor<1x3xf32>
  return %od : tensor<1x3xf32>
}

// -----

// A constant add alone (x + b[c]): unit weights.
// CHECK-LABEL: func.func @bias_alone
// CHECK: lowbit.constant dense<127> : tensor<2x1x1x1xi8>
// CHECK: lowbit.conv2d {{.*}} {groups = 2 : i64}
// CHECK-NOT: tosa.
func.func @bias_alone(%x: tensor<1x1x1x2xf32>) -> tensor<1x1x1x2xf32> {
  %q = lowbit.quantize %x : tensor<1x1x1x2xf32> -> tensor<1x1x1x2x!quant.uniform<i8:f32, 1.0>>
  %d = lowbit.dequantize %q : tensor<1x1x1x2x!quant.uniform<i8:f32, 1.0>> -> tensor<1x1x1x2xf32>
  %b = "tosa.const"() {values = dense<[[[[1.0, -1.0]]]]> : tensor<1x1x1x2xf32>} : () -> tensor<1x1x1x2xf32>
  %y = tosa.add %d, %b : (tensor<1x1x1x2xf32>, tensor<1x1x1x2xf32>) -> tensor<1x1x1x2xf32>
  %o = lowbit.quantize %y : tensor<1x1x1x2xf32> -> tensor<1x1x1x2x!quant.uniform<i8:f32, 0.5>>
  %od = lowbit.dequantize %o : tensor<1x1x1x2x!quant.uniform<i8:f32, 0.5>> -> tensor<1x1x1x2xf32>
  return %od : tensor<1x1x1x2xf32>
}

// -----

// An NCHW layer scale (ConvNeXt's gamma, a [C, 1, 1] constant times an
// [N, C, H, W] activation): the activation is transposed to put C last, the
// same 1x1 depthwise layer scales it (weights 127 of scales 0.5 / 127 and
// 2 / 127), and the result is transposed back.
// CHECK-LABEL: func.func @nchw_layer_scale
// CHECK: %[[T:.*]] = lowbit.transpose %{{.*}} {perms = array<i32: 0, 2, 3, 1>} : tensor<1x2x3x3x!quant.uniform<i8:f32, 1.000000e+00>> -> tensor<1x3x3x2x!quant.uniform<i8:f32, 1.000000e+00>>
// CHECK-DAG: lowbit.constant dense<127> : tensor<2x1x1x1xi8> -> tensor<2x1x1x1x!quant.uniform<i8<-127:127>:f32:0, {0.003937007874015748,0.015748031496062992}>>
// CHECK: %[[C:.*]] = lowbit.conv2d %[[T]], {{.*}} {groups = 2 : i64}
// CHECK: %[[R:.*]] = lowbit.requant %[[C]]
// CHECK: lowbit.transpose %[[R]] {perms = array<i32: 0, 3, 1, 2>}
// CHECK-NOT: tosa.
func.func @nchw_layer_scale(%x: tensor<1x2x3x3xf32>) -> tensor<1x2x3x3xf32> {
  %q = lowbit.quantize %x : tensor<1x2x3x3xf32> -> tensor<1x2x3x3x!quant.uniform<i8:f32, 1.0>>
  %d = lowbit.dequantize %q : tensor<1x2x3x3x!quant.uniform<i8:f32, 1.0>> -> tensor<1x2x3x3xf32>
  %a = "tosa.const"() {values = dense<[[[0.5]], [[2.0]]]> : tensor<2x1x1xf32>} : () -> tensor<2x1x1xf32>
  %sa = tosa.const_shape {values = dense<[1, 2, 1, 1]> : tensor<4xindex>} : () -> !tosa.shape<4>
  %a4 = tosa.reshape %a, %sa : (tensor<2x1x1xf32>, !tosa.shape<4>) -> tensor<1x2x1x1xf32>
  %shift = "tosa.const"() {values = dense<0> : tensor<1xi8>} : () -> tensor<1xi8>
  %m = tosa.mul %a4, %d, %shift : (tensor<1x2x1x1xf32>, tensor<1x2x3x3xf32>, tensor<1xi8>) -> tensor<1x2x3x3xf32>
  %o = lowbit.quantize %m : tensor<1x2x3x3xf32> -> tensor<1x2x3x3x!quant.uniform<i8:f32, 0.5>>
  %od = lowbit.dequantize %o : tensor<1x2x3x3x!quant.uniform<i8:f32, 0.5>> -> tensor<1x2x3x3xf32>
  return %od : tensor<1x2x3x3xf32>
}

// -----

// A position embedding (a constant with one value per element, varying
// along more than the channels) added to an activation: no bias, but an add
// of two activations, the constant stored as one of the activation's width
// over its own range [-1, 0.5] (scale 1.5 / 255, zero point -128 + 170 = 42:
// -1 -> -128, 0 -> 42, 0.5 -> 127, 0.25 -> 42 + 42.5 -> 84, ties to even).
// CHECK-LABEL: func.func @position_embedding
// CHECK: %[[P:.*]] = lowbit.constant dense<{{\[\[\[}}-128, 42], [127, 84]]]> : tensor<1x2x2xi8> -> tensor<1x2x2x!quant.uniform<i8:f32, 0.0058823530562222004:42>>
// CHECK: lowbit.add %{{.*}}, %[[P]]
// CHECK-NOT: tosa.
func.func @position_embedding(%x: tensor<1x2x2xf32>) -> tensor<1x2x2xf32> {
  %q = lowbit.quantize %x : tensor<1x2x2xf32> -> tensor<1x2x2x!quant.uniform<i8:f32, 0.01>>
  %d = lowbit.dequantize %q : tensor<1x2x2x!quant.uniform<i8:f32, 0.01>> -> tensor<1x2x2xf32>
  %p = "tosa.const"() {values = dense<[[[-1.0, 0.0], [0.5, 0.25]]]> : tensor<1x2x2xf32>} : () -> tensor<1x2x2xf32>
  %y = tosa.add %d, %p : (tensor<1x2x2xf32>, tensor<1x2x2xf32>) -> tensor<1x2x2xf32>
  %o = lowbit.quantize %y : tensor<1x2x2xf32> -> tensor<1x2x2x!quant.uniform<i8:f32, 0.02>>
  %od = lowbit.dequantize %o : tensor<1x2x2x!quant.uniform<i8:f32, 0.02>> -> tensor<1x2x2xf32>
  return %od : tensor<1x2x2xf32>
}

// -----

// An attention bias broadcast over a dimension (swin's relative position
// bias [1, heads, N, N] over the windows; here [1, 2, 1, 2] over axis 2):
// the quantized constant is stored broadcast to the activation's shape.
// Range [-1, 3]: scale 4 / 255, zero point -128 + 64 = -64; -1 -> -128,
// 0 -> -64, 1 -> -64 + 63.75 -> 0, 3 -> 127.
// CHECK-LABEL: func.func @attention_bias_broadcast
// CHECK: %[[P:.*]] = lowbit.constant dense<{{\[\[\[\[}}-128, -64], [-128, -64]], {{\[\[}}0, 127], [0, 127]]]]> : tensor<1x2x2x2xi8> -> tensor<1x2x2x2x!quant.uniform<i8:f32, 0.015686275437474251:-64>>
// CHECK: lowbit.add %{{.*}}, %[[P]]
// CHECK-NOT: tosa.
func.func @attention_bias_broadcast(%x: tensor<1x2x2x2xf32>) -> tensor<1x2x2x2xf32> {
  %q = lowbit.quantize %x : tensor<1x2x2x2xf32> -> tensor<1x2x2x2x!quant.uniform<i8:f32, 0.01>>
  %d = lowbit.dequantize %q : tensor<1x2x2x2x!quant.uniform<i8:f32, 0.01>> -> tensor<1x2x2x2xf32>
  %p = "tosa.const"() {values = dense<[[[[-1.0, 0.0]], [[1.0, 3.0]]]]> : tensor<1x2x1x2xf32>} : () -> tensor<1x2x1x2xf32>
  %y = tosa.add %d, %p : (tensor<1x2x2x2xf32>, tensor<1x2x1x2xf32>) -> tensor<1x2x2x2xf32>
  %o = lowbit.quantize %y : tensor<1x2x2x2xf32> -> tensor<1x2x2x2x!quant.uniform<i8:f32, 0.02>>
  %od = lowbit.dequantize %o : tensor<1x2x2x2x!quant.uniform<i8:f32, 0.02>> -> tensor<1x2x2x2xf32>
  return %od : tensor<1x2x2x2xf32>
}
