// RUN: lowbit-opt %s --split-input-file --verify-diagnostics --lowbit-insert-qdq | FileCheck %s
// Per-layer bits (lowbit-assign-bitwidth's attributes) over the options:
// the same weights as lowbit-insert-qdq.mlir's @conv, [[1, -0.5]],
// [[0.25, 0.125]] per channel.

// Layer @a: 4-bit symmetric weights (scales 1/7 and 0.25/7; -3.5 and 3.5
// round to 3 in magnitude under the default correlated rounding), 12-bit
// inputs (range [0, 1]: scale 1/4095, zero point -2048).
// Layer @b: 3-bit one-word log weights, float inputs (activation_bits = 0):
// no quantize before it. The function's results stay float
// (lowbit.float_results): no quantize after @b.
// CHECK-LABEL: func.func @per_layer
// CHECK: %[[Q:.*]] = lowbit.quantize %{{.*}} -> tensor<1x2x2x2x!quant.uniform<i12:f32, 2.442002{{[0-9]*}}E-4:-2048>>
// CHECK: lowbit.constant dense<{{\[\[\[\[}}7, -3]]], {{\[\[\[}}7, 3]]]]> : tensor<2x1x1x2xi4>
// CHECK: %[[A:.*]] = tosa.conv2d
// CHECK-NOT: lowbit.quantize
// CHECK: tosa.conv2d %[[A]]
// CHECK-SAME: lowbit.weight_encoding = #lowbit.log<bits = 3
// CHECK-NOT: lowbit.quantize
// CHECK: return
func.func @per_layer(%x: tensor<1x2x2x2xf32> {lowbit.range = array<f64: 0.0, 1.0>}) -> tensor<1x2x2x2xf32> attributes {lowbit.float_results} {
  %w = "tosa.const"() <{values = dense<[[[[1.0, -0.5]]], [[[0.25, 0.125]]]]> : tensor<2x1x1x2xf32>}> : () -> tensor<2x1x1x2xf32>
  %b = "tosa.const"() <{values = dense<0.0> : tensor<2xf32>}> : () -> tensor<2xf32>
  %zp = "tosa.const"() <{values = dense<0.0> : tensor<1xf32>}> : () -> tensor<1xf32>
  %a = tosa.conv2d %x, %w, %b, %zp, %zp {acc_type = f32, dilation = array<i64: 1, 1>, pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 1, 1>, lowbit.range = array<f64: -2.0, 2.0>, lowbit.weight_bits = 4 : i64, lowbit.activation_bits = 12 : i64} : (tensor<1x2x2x2xf32>, tensor<2x1x1x2xf32>, tensor<2xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x2x2x2xf32>
  %y = tosa.conv2d %a, %w, %b, %zp, %zp {acc_type = f32, dilation = array<i64: 1, 1>, pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 1, 1>, lowbit.range = array<f64: -2.0, 2.0>, lowbit.weight_bits = 3 : i64, lowbit.weight_scheme = "pow2", lowbit.activation_bits = 0 : i64} : (tensor<1x2x2x2xf32>, tensor<2x1x1x2xf32>, tensor<2xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x2x2x2xf32>
  return %y : tensor<1x2x2x2xf32>
}

// -----

// weight_bits = 0: float weights (no constant quantized); the inputs at the
// options' 8 bits; the result quantized as usual.
// CHECK-LABEL: func.func @float_weights
// CHECK: lowbit.quantize %{{.*}} -> tensor<1x2x2x2x!quant.uniform<i8:f32
// CHECK-NOT: lowbit.constant
// CHECK: %[[C:.*]] = tosa.conv2d
// CHECK: lowbit.quantize %[[C]]
func.func @float_weights(%x: tensor<1x2x2x2xf32> {lowbit.range = array<f64: 0.0, 1.0>}) -> tensor<1x2x2x2xf32> {
  %w = "tosa.const"() <{values = dense<[[[[1.0, -0.5]]], [[[0.25, 0.125]]]]> : tensor<2x1x1x2xf32>}> : () -> tensor<2x1x1x2xf32>
  %b = "tosa.const"() <{values = dense<0.0> : tensor<2xf32>}> : () -> tensor<2xf32>
  %zp = "tosa.const"() <{values = dense<0.0> : tensor<1xf32>}> : () -> tensor<1xf32>
  %a = tosa.conv2d %x, %w, %b, %zp, %zp {acc_type = f32, dilation = array<i64: 1, 1>, pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 1, 1>, lowbit.range = array<f64: -2.0, 2.0>, lowbit.weight_bits = 0 : i64} : (tensor<1x2x2x2xf32>, tensor<2x1x1x2xf32>, tensor<2xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x2x2x2xf32>
  return %a : tensor<1x2x2x2xf32>
}

// -----

// An input read by two layers takes the wider of their widths.
// CHECK-LABEL: func.func @shared_input
// CHECK: lowbit.quantize %{{.*}} -> tensor<1x2x2x2x!quant.uniform<i6:f32
// CHECK-NOT: lowbit.quantize %arg0
func.func @shared_input(%x: tensor<1x2x2x2xf32> {lowbit.range = array<f64: 0.0, 1.0>}) -> (tensor<1x2x2x2xf32>, tensor<1x2x2x2xf32>) {
  %w = "tosa.const"() <{values = dense<[[[[1.0, -0.5]]], [[[0.25, 0.125]]]]> : tensor<2x1x1x2xf32>}> : () -> tensor<2x1x1x2xf32>
  %b = "tosa.const"() <{values = dense<0.0> : tensor<2xf32>}> : () -> tensor<2xf32>
  %zp = "tosa.const"() <{values = dense<0.0> : tensor<1xf32>}> : () -> tensor<1xf32>
  %a = tosa.conv2d %x, %w, %b, %zp, %zp {acc_type = f32, dilation = array<i64: 1, 1>, pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 1, 1>, lowbit.range = array<f64: -2.0, 2.0>, lowbit.activation_bits = 4 : i64} : (tensor<1x2x2x2xf32>, tensor<2x1x1x2xf32>, tensor<2xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x2x2x2xf32>
  %c = tosa.conv2d %x, %w, %b, %zp, %zp {acc_type = f32, dilation = array<i64: 1, 1>, pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 1, 1>, lowbit.range = array<f64: -2.0, 2.0>, lowbit.activation_bits = 6 : i64} : (tensor<1x2x2x2xf32>, tensor<2x1x1x2xf32>, tensor<2xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x2x2x2xf32>
  return %a, %c : tensor<1x2x2x2xf32>, tensor<1x2x2x2xf32>
}

// -----

func.func @bad_weight_bits(%x: tensor<1x2x2x2xf32> {lowbit.range = array<f64: 0.0, 1.0>}) -> tensor<1x2x2x2xf32> {
  %w = "tosa.const"() <{values = dense<[[[[1.0, -0.5]]], [[[0.25, 0.125]]]]> : tensor<2x1x1x2xf32>}> : () -> tensor<2x1x1x2xf32>
  %b = "tosa.const"() <{values = dense<0.0> : tensor<2xf32>}> : () -> tensor<2xf32>
  %zp = "tosa.const"() <{values = dense<0.0> : tensor<1xf32>}> : () -> tensor<1xf32>
  // expected-error @+1 {{lowbit-insert-qdq: lowbit.weight_bits must be 0 (float) or in [2, 8], got 9}}
  %a = tosa.conv2d %x, %w, %b, %zp, %zp {acc_type = f32, dilation = array<i64: 1, 1>, pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 1, 1>, lowbit.range = array<f64: -2.0, 2.0>, lowbit.weight_bits = 9 : i64} : (tensor<1x2x2x2xf32>, tensor<2x1x1x2xf32>, tensor<2xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x2x2x2xf32>
  return %a : tensor<1x2x2x2xf32>
}

// -----

func.func @bad_scheme(%x: tensor<1x2x2x2xf32> {lowbit.range = array<f64: 0.0, 1.0>}) -> tensor<1x2x2x2xf32> {
  %w = "tosa.const"() <{values = dense<[[[[1.0, -0.5]]], [[[0.25, 0.125]]]]> : tensor<2x1x1x2xf32>}> : () -> tensor<2x1x1x2xf32>
  %b = "tosa.const"() <{values = dense<0.0> : tensor<2xf32>}> : () -> tensor<2xf32>
  %zp = "tosa.const"() <{values = dense<0.0> : tensor<1xf32>}> : () -> tensor<1xf32>
  // expected-error @+1 {{lowbit-insert-qdq: lowbit.weight_scheme must be symmetric, asymmetric or pow2, got 'stlq'}}
  %a = tosa.conv2d %x, %w, %b, %zp, %zp {acc_type = f32, dilation = array<i64: 1, 1>, pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 1, 1>, lowbit.range = array<f64: -2.0, 2.0>, lowbit.weight_scheme = "stlq"} : (tensor<1x2x2x2xf32>, tensor<2x1x1x2xf32>, tensor<2xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x2x2x2xf32>
  return %a : tensor<1x2x2x2xf32>
}

// -----

func.func @bad_activation_bits(%x: tensor<1x2x2x2xf32> {lowbit.range = array<f64: 0.0, 1.0>}) -> tensor<1x2x2x2xf32> {
  %w = "tosa.const"() <{values = dense<[[[[1.0, -0.5]]], [[[0.25, 0.125]]]]> : tensor<2x1x1x2xf32>}> : () -> tensor<2x1x1x2xf32>
  %b = "tosa.const"() <{values = dense<0.0> : tensor<2xf32>}> : () -> tensor<2xf32>
  %zp = "tosa.const"() <{values = dense<0.0> : tensor<1xf32>}> : () -> tensor<1xf32>
  // expected-error @+1 {{lowbit-insert-qdq: lowbit.activation_bits must be 0 (float) or in [2, 16], got 17}}
  %a = tosa.conv2d %x, %w, %b, %zp, %zp {acc_type = f32, dilation = array<i64: 1, 1>, pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 1, 1>, lowbit.range = array<f64: -2.0, 2.0>, lowbit.activation_bits = 17 : i64} : (tensor<1x2x2x2xf32>, tensor<2x1x1x2xf32>, tensor<2xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x2x2x2xf32>
  return %a : tensor<1x2x2x2xf32>
}
