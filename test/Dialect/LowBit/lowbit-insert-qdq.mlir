// RUN: lowbit-opt %s --split-input-file --lowbit-insert-qdq | FileCheck %s
// RUN: lowbit-opt %s --split-input-file --lowbit-insert-qdq='weight-bits=4 per-channel=false' | FileCheck %s --check-prefix=W4
// RUN: lowbit-opt %s --split-input-file --lowbit-insert-qdq='weight-scheme=asymmetric' | FileCheck %s --check-prefix=ASYM
// RUN: lowbit-opt %s --split-input-file --lowbit-insert-qdq='weight-scheme=pow2 weight-bits=4' | FileCheck %s --check-prefix=POW2
// RUN: lowbit-opt %s --split-input-file --lowbit-insert-qdq='weight-scheme=pow2 weight-bits=4 per-channel=false' | FileCheck %s --check-prefix=POW2T

// Weights [2, 1, 1, 2] = [[1, -0.5], [0.25, 0.125]]:
//  per channel, symmetric 8-bit: scales 1/127 and 0.25/127, codes
//  [127, -64 (-63.5 ties to even)], [127, 64 (63.5 to even)].
//  per tensor 4-bit: scale 1/7 as a float (a hair above 1/7), codes
//  [7, -3 (-3.4999998)], [2 (1.75), 1].
//  asymmetric per channel: [-0.5, 1] and [0, 0.25] over 255 levels.
//  pow2 4-bit per channel, U = 2 and 0.5: codes 1, -2, 1, 2; per tensor
//  (POW2T), U = 2: codes 1, -2, 3, 4; values 1, -0.5, 0.25, 0.125 either way.
// Activations: the input of the convolution (range [0, 1]: scale 1/255,
// zero point -128) and the result (range [-2, 6]); not the conv output
// before its ReLU.

// CHECK-LABEL: func.func @conv
// CHECK: %[[Q:.*]] = lowbit.quantize %{{.*}} -> tensor<1x2x2x2x!quant.uniform<i8:f32, 0.0039215688593685627:-128>>
// CHECK: %[[D:.*]] = lowbit.dequantize %[[Q]]
// CHECK: %[[WQ:.*]] = lowbit.constant dense<{{\[\[\[\[}}127, -64]]], {{\[\[\[}}127, 64]]]]> : tensor<2x1x1x2xi8> -> tensor<2x1x1x2x!quant.uniform<i8<-127:127>:f32:0, {0.0078740157186985015,0.0019685039296746254}>>
// CHECK: %[[WD:.*]] = lowbit.dequantize %[[WQ]]
// CHECK: %[[C:.*]] = tosa.conv2d %[[D]], %[[WD]]
// CHECK-NOT: lowbit.quantize %[[C]]
// CHECK: %[[R:.*]] = tosa.clamp %[[C]]
// CHECK: lowbit.quantize %[[R]] : {{.*}} -> tensor<1x2x2x2x!quant.uniform<i8:f32, 0.031372550874948502:-64>>
// W4: lowbit.constant dense<{{\[\[\[\[}}7, -3]]], {{\[\[\[}}2, 1]]]]> : tensor<2x1x1x2xi4> -> tensor<2x1x1x2x!quant.uniform<i4<-7:7>:f32, 0.1428571492433548>>
// ASYM: tensor<2x1x1x2x!quant.uniform<i8:f32:0, {0.0058823530562222004:-43,9.8039221484214067E-4:-128}>>
// (these weights are powers of two already, so the decoded values are the
// originals)
// POW2: "tosa.const"() <{values = dense<{{\[\[\[\[}}1.000000e+00, -5.000000e-01]]], {{\[\[\[}}2.500000e-01, 1.250000e-01]]]]> : tensor<2x1x1x2xf32>}>
// POW2: tosa.conv2d {{.*}}lowbit.weight_encoding = #lowbit.log<bits = 4, scale = 2.000000e+00, channel_scales = [2.000000e+00, 5.000000e-01]>
// POW2T: "tosa.const"() <{values = dense<{{\[\[\[\[}}1.000000e+00, -5.000000e-01]]], {{\[\[\[}}2.500000e-01, 1.250000e-01]]]]> : tensor<2x1x1x2xf32>}>
// POW2T: tosa.conv2d {{.*}}lowbit.weight_encoding = #lowbit.log<bits = 4, scale = 2.000000e+00>
func.func @conv(%x: tensor<1x2x2x2xf32> {lowbit.range = array<f64: 0.0, 1.0>}) -> tensor<1x2x2x2xf32> {
  %w = "tosa.const"() {values = dense<[[[[1.0, -0.5]]], [[[0.25, 0.125]]]]> : tensor<2x1x1x2xf32>} : () -> tensor<2x1x1x2xf32>
  %b = "tosa.const"() {values = dense<0.0> : tensor<2xf32>} : () -> tensor<2xf32>
  %zp = "tosa.const"() {values = dense<0.0> : tensor<1xf32>} : () -> tensor<1xf32>
  %c = tosa.conv2d %x, %w, %b, %zp, %zp {acc_type = f32, dilation = array<i64: 1, 1>, pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 1, 1>, lowbit.range = array<f64: -3.0, 6.0>} : (tensor<1x2x2x2xf32>, tensor<2x1x1x2xf32>, tensor<2xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x2x2x2xf32>
  %r = tosa.clamp %c {min_val = -2.0 : f32, max_val = 6.0 : f32, lowbit.range = array<f64: -2.0, 6.0>} : (tensor<1x2x2x2xf32>) -> tensor<1x2x2x2xf32>
  return %r : tensor<1x2x2x2xf32>
}

// -----

// A max-pool keeps its input's quantization; a Q/DQ already present (an
// imported Q/DQ model) is kept as it is.
// CHECK-LABEL: func.func @pool_keeps_type
// CHECK: %[[P:.*]] = tosa.max_pool2d
// CHECK-NEXT: lowbit.quantize %[[P]] : tensor<1x1x1x1xf32> -> tensor<1x1x1x1x!quant.uniform<i8:f32, 5.000000e-01:-2>>
func.func @pool_keeps_type(%x: tensor<1x2x2x1xf32>) -> tensor<1x1x1x1xf32> {
  %q = lowbit.quantize %x : tensor<1x2x2x1xf32> -> tensor<1x2x2x1x!quant.uniform<i8:f32, 0.5:-2>>
  %d = lowbit.dequantize %q : tensor<1x2x2x1x!quant.uniform<i8:f32, 0.5:-2>> -> tensor<1x2x2x1xf32>
  %p = tosa.max_pool2d %d {kernel = array<i64: 2, 2>, stride = array<i64: 1, 1>, pad = array<i64: 0, 0, 0, 0>, lowbit.range = array<f64: 0.0, 9.0>} : (tensor<1x2x2x1xf32>) -> tensor<1x1x1x1xf32>
  return %p : tensor<1x1x1x1xf32>
}

// -----

// Float fallback: the ops of a Softmax have no integer form and stay float.
// The activation that enters them (the logits, range [-4, 4]) is quantized
// once, before both of its float readers; nothing inside the region is
// quantized (the subtraction is not an add of two activations here); the
// result is quantized as every result is.
// CHECK-LABEL: func.func @softmax_region
// CHECK: %[[Q:.*]] = lowbit.quantize %arg0 : tensor<1x4xf32> -> tensor<1x4x!quant.uniform<i8:f32, 0.031372550874948502:-1>>
// CHECK: %[[D:.*]] = lowbit.dequantize %[[Q]]
// CHECK: %[[M:.*]] = tosa.reduce_max %[[D]]
// CHECK-NOT: lowbit.quantize %[[M]]
// CHECK: %[[S:.*]] = tosa.sub %[[D]], %[[M]]
// CHECK-NOT: lowbit.quantize
// CHECK: %[[P:.*]] = tosa.mul
// CHECK-NEXT: lowbit.quantize %[[P]] : tensor<1x4xf32> -> tensor<1x4x!quant.uniform<i8:f32, 0.0039215688593685627:-128>>
func.func @softmax_region(%x: tensor<1x4xf32> {lowbit.range = array<f64: -4.0, 4.0>}) -> tensor<1x4xf32> {
  %zero = "tosa.const"() {values = dense<0> : tensor<1xi8>} : () -> tensor<1xi8>
  %m = tosa.reduce_max %x {axis = 1 : i32, lowbit.range = array<f64: 0.0, 4.0>} : (tensor<1x4xf32>) -> tensor<1x1xf32>
  %s = tosa.sub %x, %m {lowbit.range = array<f64: -8.0, 0.0>} : (tensor<1x4xf32>, tensor<1x1xf32>) -> tensor<1x4xf32>
  %e = tosa.exp %s {lowbit.range = array<f64: 0.0, 1.0>} : (tensor<1x4xf32>) -> tensor<1x4xf32>
  %t = tosa.reduce_sum %e {axis = 1 : i32, lowbit.range = array<f64: 1.0, 4.0>} : (tensor<1x4xf32>) -> tensor<1x1xf32>
  %r = tosa.reciprocal %t {lowbit.range = array<f64: 0.25, 1.0>} : (tensor<1x1xf32>) -> tensor<1x1xf32>
  %p = tosa.mul %e, %r, %zero {lowbit.range = array<f64: 0.0, 1.0>} : (tensor<1x4xf32>, tensor<1x1xf32>, tensor<1xi8>) -> tensor<1x4xf32>
  return %p : tensor<1x4xf32>
}

// -----

// A BatchNorm after a ReLU (x * a + b, no convolution before it) is an
// affine layer of its own: its input (the ReLU's result) is quantized. A
// channel split keeps its input's quantization, and a pad gets its own
// (its constant 4.0 widens the range to [0, 4]).
// CHECK-LABEL: func.func @affine_slice_pad
// CHECK: %[[R:.*]] = tosa.clamp
// CHECK-NEXT: %[[RQ:.*]] = lowbit.quantize %[[R]] : {{.*}} -> tensor<1x2x2x4x!quant.uniform<i8:f32, 0.0078431377187371254:-128>>
// CHECK: tosa.mul
// CHECK: %[[S:.*]] = tosa.slice
// CHECK-NEXT: lowbit.quantize %[[S]] : {{.*}} -> tensor<1x2x2x2x!quant.uniform<i8:f32, 0.0078431377187371254:-128>>
// CHECK: %[[P:.*]] = tosa.pad
// CHECK-NEXT: lowbit.quantize %[[P]] : {{.*}} -> tensor<1x4x4x4x!quant.uniform<i8:f32, 0.015686275437474251:-128>>
func.func @affine_slice_pad(%x: tensor<1x2x2x4xf32> {lowbit.range = array<f64: -1.0, 1.0>}) -> (tensor<1x2x2x4xf32>, tensor<1x2x2x2xf32>, tensor<1x4x4x4xf32>) {
  %r = tosa.clamp %x {min_val = 0.0 : f32, max_val = 0x7F800000 : f32, lowbit.range = array<f64: 0.0, 2.0>} : (tensor<1x2x2x4xf32>) -> tensor<1x2x2x4xf32>
  %a = "tosa.const"() {values = dense<[[[[0.5, 1.0, 2.0, -1.0]]]]> : tensor<1x1x1x4xf32>} : () -> tensor<1x1x1x4xf32>
  %shift = "tosa.const"() {values = dense<0> : tensor<1xi8>} : () -> tensor<1xi8>
  %m = tosa.mul %r, %a, %shift {lowbit.range = array<f64: -2.0, 4.0>} : (tensor<1x2x2x4xf32>, tensor<1x1x1x4xf32>, tensor<1xi8>) -> tensor<1x2x2x4xf32>
  %s0 = tosa.const_shape {values = dense<[0, 0, 0, 2]> : tensor<4xindex>} : () -> !tosa.shape<4>
  %sz = tosa.const_shape {values = dense<[1, 2, 2, 2]> : tensor<4xindex>} : () -> !tosa.shape<4>
  %s = tosa.slice %r, %s0, %sz {lowbit.range = array<f64: 0.0, 2.0>} : (tensor<1x2x2x4xf32>, !tosa.shape<4>, !tosa.shape<4>) -> tensor<1x2x2x2xf32>
  %pads = tosa.const_shape {values = dense<[0, 0, 1, 1, 1, 1, 0, 0]> : tensor<8xindex>} : () -> !tosa.shape<8>
  %v = "tosa.const"() {values = dense<4.0> : tensor<1xf32>} : () -> tensor<1xf32>
  %p = tosa.pad %r, %pads, %v {lowbit.range = array<f64: 0.0, 4.0>} : (tensor<1x2x2x4xf32>, !tosa.shape<8>, tensor<1xf32>) -> tensor<1x4x4x4xf32>
  return %m, %s, %p : tensor<1x2x2x4xf32>, tensor<1x2x2x2xf32>, tensor<1x4x4x4xf32>
}

// -----

// A value computed only for one concat is quantized with the concat's
// range ([-1, 3]: scale 4/255, zero point -64), so its layer requantizes once,
// straight to the concat's scale; the argument, also used elsewhere, keeps
// its own range ([0, 1]).
// CHECK-LABEL: func.func @concat_input_range
// CHECK: %[[C:.*]] = tosa.clamp
// CHECK-NEXT: lowbit.quantize %[[C]] : {{.*}} -> tensor<1x1x1x2x!quant.uniform<i8:f32, 0.015686275437474251:-64>>
// CHECK: %[[K:.*]] = tosa.concat
// CHECK-NEXT: lowbit.quantize %[[K]] : {{.*}} -> tensor<1x1x1x4x!quant.uniform<i8:f32, 0.015686275437474251:-64>>
func.func @concat_input_range(%x: tensor<1x1x1x2xf32> {lowbit.range = array<f64: 0.0, 1.0>}) -> (tensor<1x1x1x4xf32>, tensor<1x1x1x2xf32>) {
  %c = tosa.clamp %x {min_val = -1.0 : f32, max_val = 3.0 : f32, lowbit.range = array<f64: 0.0, 1.0>} : (tensor<1x1x1x2xf32>) -> tensor<1x1x1x2xf32>
  %k = tosa.concat %c, %x {axis = 3 : i32, lowbit.range = array<f64: -1.0, 3.0>} : (tensor<1x1x1x2xf32>, tensor<1x1x1x2xf32>) -> tensor<1x1x1x4xf32>
  return %k, %x : tensor<1x1x1x4xf32>, tensor<1x1x1x2xf32>
}

// -----

// A value a float region computes (x - sum(x), a LayerNorm's first step) is
// quantized because a convolution reads it; the residual add after it then
// reads quantized values, is integer, not part of the region, and so the
// next add's inputs include it: the quantizer repeats until its float
// regions are those of the Q/DQ graph it wrote, and the first add's result
// is quantized too.
// CHECK-LABEL: func.func @region_output_read_by_a_layer
// CHECK: %[[S:.*]] = tosa.reduce_sum
// CHECK-NOT: lowbit.quantize %[[S]]
// CHECK: %[[N:.*]] = tosa.sub
// CHECK-NEXT: lowbit.quantize %[[N]]
// CHECK: %[[C:.*]] = tosa.conv2d
// CHECK-NEXT: lowbit.quantize %[[C]]
// CHECK: %[[A:.*]] = tosa.add
// CHECK-NEXT: lowbit.quantize %[[A]]
// CHECK: %[[B:.*]] = tosa.add
// CHECK-NEXT: lowbit.quantize %[[B]]
func.func @region_output_read_by_a_layer(%x: tensor<1x1x1x4xf32> {lowbit.range = array<f64: -1.0, 1.0>}) -> tensor<1x1x1x4xf32> {
  %w = "tosa.const"() {values = dense<0.5> : tensor<4x1x1x4xf32>} : () -> tensor<4x1x1x4xf32>
  %bias = "tosa.const"() {values = dense<0.0> : tensor<4xf32>} : () -> tensor<4xf32>
  %zp = "tosa.const"() {values = dense<0.0> : tensor<1xf32>} : () -> tensor<1xf32>
  %s = tosa.reduce_sum %x {axis = 3 : i32, lowbit.range = array<f64: -4.0, 4.0>} : (tensor<1x1x1x4xf32>) -> tensor<1x1x1x1xf32>
  %n = tosa.sub %x, %s {lowbit.range = array<f64: -5.0, 5.0>} : (tensor<1x1x1x4xf32>, tensor<1x1x1x1xf32>) -> tensor<1x1x1x4xf32>
  %c = tosa.conv2d %n, %w, %bias, %zp, %zp {acc_type = f32, dilation = array<i64: 1, 1>, lowbit.range = array<f64: -10.0, 10.0>, pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 1, 1>} : (tensor<1x1x1x4xf32>, tensor<4x1x1x4xf32>, tensor<4xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x1x1x4xf32>
  %a = tosa.add %n, %c {lowbit.range = array<f64: -15.0, 15.0>} : (tensor<1x1x1x4xf32>, tensor<1x1x1x4xf32>) -> tensor<1x1x1x4xf32>
  %b = tosa.add %a, %x {lowbit.range = array<f64: -16.0, 16.0>} : (tensor<1x1x1x4xf32>, tensor<1x1x1x4xf32>) -> tensor<1x1x1x4xf32>
  return %b : tensor<1x1x1x4xf32>
}

// -----

// A constant added after a product of two activations that varies along
// more than the channels (attention's relative position bias) is no bias
// of that product: the product's result is quantized, and the add is one
// of two activations (lowbit.add with the constant stored as one).
// CHECK-LABEL: func.func @attention_bias
// CHECK: %[[M:.*]] = tosa.matmul
// CHECK-NEXT: lowbit.quantize %[[M]]
// CHECK: %[[A:.*]] = tosa.add
// CHECK-NEXT: lowbit.quantize %[[A]]
func.func @attention_bias(%q: tensor<1x2x4xf32> {lowbit.range = array<f64: -1.0, 1.0>}, %k: tensor<1x4x2xf32> {lowbit.range = array<f64: -1.0, 1.0>}) -> tensor<1x2x2xf32> {
  %zp = "tosa.const"() {values = dense<0.0> : tensor<1xf32>} : () -> tensor<1xf32>
  %bias = "tosa.const"() {values = dense<[[[0.5, -0.5], [1.0, 0.0]]]> : tensor<1x2x2xf32>} : () -> tensor<1x2x2xf32>
  %m = tosa.matmul %q, %k, %zp, %zp {lowbit.range = array<f64: -4.0, 4.0>} : (tensor<1x2x4xf32>, tensor<1x4x2xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x2x2xf32>
  %a = tosa.add %m, %bias {lowbit.range = array<f64: -4.5, 5.0>} : (tensor<1x2x2xf32>, tensor<1x2x2xf32>) -> tensor<1x2x2xf32>
  return %a : tensor<1x2x2xf32>
}
