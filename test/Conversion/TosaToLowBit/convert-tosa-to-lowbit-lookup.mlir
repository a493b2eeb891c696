// RUN: lowbit-opt %s --split-input-file --convert-tosa-to-lowbit 2>&1 | FileCheck %s
// RUN: lowbit-opt %s --split-input-file --convert-tosa-to-lowbit=float-fallback=false | FileCheck %s --check-prefix=STRICT

// Elementwise functions of one 8-bit activation are lookup tables; products
// of two activations are lowbit.mul and lowbit.matmul. None of them stays
// float, so float-fallback=false accepts them all and nothing is warned.
// CHECK-NOT: warning
// STRICT-NOT: tosa.

// A sigmoid: input scale 0.5 (stored -128..127 are -64..63.5), output
// 1/256 with zero point -128. Entry 0 is sigmoid(-64) ~ 0 -> -128, entry
// 128 is sigmoid(0) = 0.5 -> 0, entry 129 sigmoid(0.5) = 0.6225 -> 31,
// entry 255 is sigmoid(63.5) ~ 1 -> 128, saturated to 127.
// CHECK-LABEL: func.func @sigmoid
// CHECK: %[[L:.*]] = lowbit.lut %arg0 {table = array<i32: -128, -128, {{(-?[0-9]+, ){126}()}}0, 31, {{(-?[0-9]+, ){125}()}}127>}
// CHECK-SAME: tensor<1x4x!quant.uniform<i8:f32, 5.000000e-01>> -> tensor<1x4x!quant.uniform<i8:f32, 3.906250e-03:-128>>
// CHECK: return %[[L]]
func.func @sigmoid(%x: tensor<1x4xf32>) -> tensor<1x4xf32> {
  %q = lowbit.quantize %x : tensor<1x4xf32> -> tensor<1x4x!quant.uniform<i8:f32, 0.5>>
  %d = lowbit.dequantize %q : tensor<1x4x!quant.uniform<i8:f32, 0.5>> -> tensor<1x4xf32>
  %s = tosa.sigmoid %d : (tensor<1x4xf32>) -> tensor<1x4xf32>
  %o = lowbit.quantize %s : tensor<1x4xf32> -> tensor<1x4x!quant.uniform<i8:f32, 0.00390625:-128>>
  %od = lowbit.dequantize %o : tensor<1x4x!quant.uniform<i8:f32, 0.00390625:-128>> -> tensor<1x4xf32>
  return %od : tensor<1x4xf32>
}

// -----

// SiLU x * sigmoid(x) after a convolution: the convolution's requant, then
// one table. x = -1 (stored -4 at scale 0.25): -1 * sigmoid(-1) = -0.2689
// -> round(-2.15) = -2 at scale 0.125 (entry 124).
// CHECK-LABEL: func.func @silu
// CHECK: %[[C:.*]] = lowbit.requant
// CHECK: %[[L:.*]] = lowbit.lut %[[C]] {table = array<i32: {{(-?[0-9]+, ){124}()}}-2, {{(-?[0-9]+, ){130}()}}127>}
// CHECK: lowbit.max_pool %[[L]]
func.func @silu(%x: tensor<1x2x2x2xf32>) -> tensor<1x1x1x2xf32> {
  %q = lowbit.quantize %x : tensor<1x2x2x2xf32> -> tensor<1x2x2x2x!quant.uniform<i8:f32, 0.5>>
  %d = lowbit.dequantize %q : tensor<1x2x2x2x!quant.uniform<i8:f32, 0.5>> -> tensor<1x2x2x2xf32>
  %wq = lowbit.constant dense<[[[[1, -2]]], [[[3, 4]]]]> : tensor<2x1x1x2xi8> -> tensor<2x1x1x2x!quant.uniform<i8<-127:127>:f32, 0.5>>
  %w = lowbit.dequantize %wq : tensor<2x1x1x2x!quant.uniform<i8<-127:127>:f32, 0.5>> -> tensor<2x1x1x2xf32>
  %b = "tosa.const"() {values = dense<0.0> : tensor<2xf32>} : () -> tensor<2xf32>
  %zp = "tosa.const"() {values = dense<0.0> : tensor<1xf32>} : () -> tensor<1xf32>
  %c = tosa.conv2d %d, %w, %b, %zp, %zp {acc_type = f32, dilation = array<i64: 1, 1>, pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 1, 1>} : (tensor<1x2x2x2xf32>, tensor<2x1x1x2xf32>, tensor<2xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x2x2x2xf32>
  %cq = lowbit.quantize %c : tensor<1x2x2x2xf32> -> tensor<1x2x2x2x!quant.uniform<i8:f32, 0.25>>
  %cd = lowbit.dequantize %cq : tensor<1x2x2x2x!quant.uniform<i8:f32, 0.25>> -> tensor<1x2x2x2xf32>
  %zero = "tosa.const"() {values = dense<0> : tensor<1xi8>} : () -> tensor<1xi8>
  %s = tosa.sigmoid %cd : (tensor<1x2x2x2xf32>) -> tensor<1x2x2x2xf32>
  %m = tosa.mul %cd, %s, %zero : (tensor<1x2x2x2xf32>, tensor<1x2x2x2xf32>, tensor<1xi8>) -> tensor<1x2x2x2xf32>
  %mq = lowbit.quantize %m : tensor<1x2x2x2xf32> -> tensor<1x2x2x2x!quant.uniform<i8:f32, 0.125>>
  %md = lowbit.dequantize %mq : tensor<1x2x2x2x!quant.uniform<i8:f32, 0.125>> -> tensor<1x2x2x2xf32>
  %p = tosa.max_pool2d %md {kernel = array<i64: 2, 2>, stride = array<i64: 2, 2>, pad = array<i64: 0, 0, 0, 0>} : (tensor<1x2x2x2xf32>) -> tensor<1x1x1x2xf32>
  %pq = lowbit.quantize %p : tensor<1x1x1x2xf32> -> tensor<1x1x1x2x!quant.uniform<i8:f32, 0.125>>
  %pd = lowbit.dequantize %pq : tensor<1x1x1x2x!quant.uniform<i8:f32, 0.125>> -> tensor<1x1x1x2xf32>
  return %pd : tensor<1x1x1x2xf32>
}

// -----

// HardSwish x * hardsigmoid(x) where the quantizer rounded the hard
// sigmoid on the way (its own Q/DQ): one table that rounds there too.
// x = 1 (stored 4 at scale 0.25): hardsigmoid = 1/6 + 0.5 = 0.6667 -> 171
// at 1/256 (stored 43) -> 0.66797; 1 * 0.66797 / 0.125 = 5.34 -> 5.
// CHECK-LABEL: func.func @hardswish
// CHECK: %[[L:.*]] = lowbit.lut %arg0 {table = array<i32: {{(-?[0-9]+, ){132}()}}5, {{(-?[0-9]+, ){122}()}}127>}
// CHECK-NEXT: return %[[L]]
func.func @hardswish(%x: tensor<1x4xf32>) -> tensor<1x4xf32> {
  %q = lowbit.quantize %x : tensor<1x4xf32> -> tensor<1x4x!quant.uniform<i8:f32, 0.25>>
  %d = lowbit.dequantize %q : tensor<1x4x!quant.uniform<i8:f32, 0.25>> -> tensor<1x4xf32>
  %zero = "tosa.const"() {values = dense<0> : tensor<1xi8>} : () -> tensor<1xi8>
  %sixth = "tosa.const"() {values = dense<0.16666667> : tensor<1x1xf32>} : () -> tensor<1x1xf32>
  %half = "tosa.const"() {values = dense<0.5> : tensor<1x1xf32>} : () -> tensor<1x1xf32>
  %a = tosa.mul %d, %sixth, %zero : (tensor<1x4xf32>, tensor<1x1xf32>, tensor<1xi8>) -> tensor<1x4xf32>
  %b = tosa.add %a, %half : (tensor<1x4xf32>, tensor<1x1xf32>) -> tensor<1x4xf32>
  %h = tosa.clamp %b {min_val = 0.0 : f32, max_val = 1.0 : f32} : (tensor<1x4xf32>) -> tensor<1x4xf32>
  %hq = lowbit.quantize %h : tensor<1x4xf32> -> tensor<1x4x!quant.uniform<i8:f32, 0.00390625:-128>>
  %hd = lowbit.dequantize %hq : tensor<1x4x!quant.uniform<i8:f32, 0.00390625:-128>> -> tensor<1x4xf32>
  %m = tosa.mul %d, %hd, %zero : (tensor<1x4xf32>, tensor<1x4xf32>, tensor<1xi8>) -> tensor<1x4xf32>
  %o = lowbit.quantize %m : tensor<1x4xf32> -> tensor<1x4x!quant.uniform<i8:f32, 0.125>>
  %od = lowbit.dequantize %o : tensor<1x4x!quant.uniform<i8:f32, 0.125>> -> tensor<1x4xf32>
  return %od : tensor<1x4xf32>
}

// -----

// A squeeze-and-excitation gate: the gate's sigmoid is a table, and the
// product of the two activations, broadcast over H and W, is lowbit.mul
// with M = 0.5 * (1/256) / 0.25 = 2^-7 (1073741824 >> 37), clamped by a
// ReLU after it to the zero point.
// CHECK-LABEL: func.func @gate
// CHECK: %[[G:.*]] = lowbit.lut %arg1
// CHECK: %[[M:.*]] = lowbit.mul %arg0, %[[G]] {min = 3 : i64, multiplier = 1073741824 : i32, shift = 37 : i32}
// CHECK-SAME: (tensor<1x2x2x2x!quant.uniform<i8:f32, 5.000000e-01>>, tensor<1x1x1x2x!quant.uniform<i8:f32, 3.906250e-03:-128>>) -> tensor<1x2x2x2x!quant.uniform<i8:f32, 2.500000e-01:3>>
// CHECK: return %[[M]]
func.func @gate(%x: tensor<1x2x2x2xf32>, %s: tensor<1x1x1x2xf32>) -> tensor<1x2x2x2xf32> {
  %qx = lowbit.quantize %x : tensor<1x2x2x2xf32> -> tensor<1x2x2x2x!quant.uniform<i8:f32, 0.5>>
  %dx = lowbit.dequantize %qx : tensor<1x2x2x2x!quant.uniform<i8:f32, 0.5>> -> tensor<1x2x2x2xf32>
  %qs = lowbit.quantize %s : tensor<1x1x1x2xf32> -> tensor<1x1x1x2x!quant.uniform<i8:f32, 0.1>>
  %ds = lowbit.dequantize %qs : tensor<1x1x1x2x!quant.uniform<i8:f32, 0.1>> -> tensor<1x1x1x2xf32>
  %g = tosa.sigmoid %ds : (tensor<1x1x1x2xf32>) -> tensor<1x1x1x2xf32>
  %gq = lowbit.quantize %g : tensor<1x1x1x2xf32> -> tensor<1x1x1x2x!quant.uniform<i8:f32, 0.00390625:-128>>
  %gd = lowbit.dequantize %gq : tensor<1x1x1x2x!quant.uniform<i8:f32, 0.00390625:-128>> -> tensor<1x1x1x2xf32>
  %zero = "tosa.const"() {values = dense<0> : tensor<1xi8>} : () -> tensor<1xi8>
  %m = tosa.mul %dx, %gd, %zero : (tensor<1x2x2x2xf32>, tensor<1x1x1x2xf32>, tensor<1xi8>) -> tensor<1x2x2x2xf32>
  %r = tosa.clamp %m {min_val = 0.0 : f32, max_val = 3.4e38 : f32} : (tensor<1x2x2x2xf32>) -> tensor<1x2x2x2xf32>
  %o = lowbit.quantize %r : tensor<1x2x2x2xf32> -> tensor<1x2x2x2x!quant.uniform<i8:f32, 0.25:3>>
  %od = lowbit.dequantize %o : tensor<1x2x2x2x!quant.uniform<i8:f32, 0.25:3>> -> tensor<1x2x2x2xf32>
  return %od : tensor<1x2x2x2xf32>
}

// -----

// Attention's Q K^T: a batched product of two activations into an i32
// accumulator, zero points subtracted, and one requant by
// 0.5 * 0.25 / 0.125 = 1 (2^30 >> 30).
// CHECK-LABEL: func.func @qk
// CHECK: %[[A:.*]] = lowbit.matmul %arg0, %arg1 : (tensor<2x3x4x!quant.uniform<i8:f32, 5.000000e-01:1>>, tensor<2x4x5x!quant.uniform<i8:f32, 2.500000e-01:-2>>) -> tensor<2x3x5xi32>
// CHECK: %[[R:.*]] = lowbit.requant %[[A]] {multiplier = array<i32: 1073741824>, shift = array<i32: 30>}
// CHECK: return %[[R]]
func.func @qk(%a: tensor<2x3x4xf32>, %b: tensor<2x4x5xf32>) -> tensor<2x3x5xf32> {
  %qa = lowbit.quantize %a : tensor<2x3x4xf32> -> tensor<2x3x4x!quant.uniform<i8:f32, 0.5:1>>
  %da = lowbit.dequantize %qa : tensor<2x3x4x!quant.uniform<i8:f32, 0.5:1>> -> tensor<2x3x4xf32>
  %qb = lowbit.quantize %b : tensor<2x4x5xf32> -> tensor<2x4x5x!quant.uniform<i8:f32, 0.25:-2>>
  %db = lowbit.dequantize %qb : tensor<2x4x5x!quant.uniform<i8:f32, 0.25:-2>> -> tensor<2x4x5xf32>
  %zp = "tosa.const"() {values = dense<0.0> : tensor<1xf32>} : () -> tensor<1xf32>
  %mm = tosa.matmul %da, %db, %zp, %zp : (tensor<2x3x4xf32>, tensor<2x4x5xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<2x3x5xf32>
  %o = lowbit.quantize %mm : tensor<2x3x5xf32> -> tensor<2x3x5x!quant.uniform<i8:f32, 0.125>>
  %od = lowbit.dequantize %o : tensor<2x3x5x!quant.uniform<i8:f32, 0.125>> -> tensor<2x3x5xf32>
  return %od : tensor<2x3x5xf32>
}

// -----

// A Softmax of 8-bit logits (scale 0.125) along the last axis, quantized
// to 1/256 with zero point -128: lowbit.softmax with T[j] = round(2^16
// exp(-j / 8)) (T[0] = 65536, T[1] = 57835, T[2] = 51039) and R = 2^16 * 256.
// CHECK-LABEL: func.func @softmax
// CHECK: %[[S:.*]] = lowbit.softmax %arg0 {axis = 1 : i64, multiplier = 16777216 : i64, table = array<i32: 65536, 57835, 51039,
// CHECK-SAME: tensor<1x4x!quant.uniform<i8:f32, 1.250000e-01>> -> tensor<1x4x!quant.uniform<i8:f32, 3.906250e-03:-128>>
// CHECK: return %[[S]]
func.func @softmax(%x: tensor<1x4xf32>) -> tensor<1x4xf32> {
  %lq = lowbit.quantize %x : tensor<1x4xf32> -> tensor<1x4x!quant.uniform<i8:f32, 0.125>>
  %ld = lowbit.dequantize %lq : tensor<1x4x!quant.uniform<i8:f32, 0.125>> -> tensor<1x4xf32>
  %zero = "tosa.const"() {values = dense<0> : tensor<1xi8>} : () -> tensor<1xi8>
  %m = tosa.reduce_max %ld {axis = 1 : i32} : (tensor<1x4xf32>) -> tensor<1x1xf32>
  %s = tosa.sub %ld, %m : (tensor<1x4xf32>, tensor<1x1xf32>) -> tensor<1x4xf32>
  %e = tosa.exp %s : (tensor<1x4xf32>) -> tensor<1x4xf32>
  %t = tosa.reduce_sum %e {axis = 1 : i32} : (tensor<1x4xf32>) -> tensor<1x1xf32>
  %r = tosa.reciprocal %t : (tensor<1x1xf32>) -> tensor<1x1xf32>
  %p = tosa.mul %e, %r, %zero : (tensor<1x4xf32>, tensor<1x1xf32>, tensor<1xi8>) -> tensor<1x4xf32>
  %o = lowbit.quantize %p : tensor<1x4xf32> -> tensor<1x4x!quant.uniform<i8:f32, 0.00390625:-128>>
  %od = lowbit.dequantize %o : tensor<1x4x!quant.uniform<i8:f32, 0.00390625:-128>> -> tensor<1x4xf32>
  return %od : tensor<1x4xf32>
}
