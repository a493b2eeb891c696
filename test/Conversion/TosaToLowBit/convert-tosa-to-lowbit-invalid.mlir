// RUN: lowbit-opt %s --split-input-file --verify-diagnostics --convert-tosa-to-lowbit

// Weights with a non-zero zero point: the integer kernels take symmetric
// weights only.
func.func @asymmetric_weights(%x: tensor<1x2x2x2xf32>) -> tensor<1x2x2x2xf32> {
  %q = lowbit.quantize %x : tensor<1x2x2x2xf32> -> tensor<1x2x2x2x!quant.uniform<i8:f32, 0.5>>
  %d = lowbit.dequantize %q : tensor<1x2x2x2x!quant.uniform<i8:f32, 0.5>> -> tensor<1x2x2x2xf32>
  %wq = lowbit.constant dense<[[[[1, -2]]], [[[3, 4]]]]> : tensor<2x1x1x2xi8> -> tensor<2x1x1x2x!quant.uniform<i8:f32:0, {0.25:0, 0.5:3}>>
  %w = lowbit.dequantize %wq : tensor<2x1x1x2x!quant.uniform<i8:f32:0, {0.25:0, 0.5:3}>> -> tensor<2x1x1x2xf32>
  %b = "tosa.const"() {values = dense<0.0> : tensor<2xf32>} : () -> tensor<2xf32>
  %zp = "tosa.const"() {values = dense<0.0> : tensor<1xf32>} : () -> tensor<1xf32>
  // expected-error @+1 {{convert-tosa-to-lowbit: asymmetric weights (non-zero weight zero point) are not supported by the integer kernels; use symmetric or pow2 weights}}
  %c = tosa.conv2d %d, %w, %b, %zp, %zp {acc_type = f32, dilation = array<i64: 1, 1>, pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 1, 1>} : (tensor<1x2x2x2xf32>, tensor<2x1x1x2xf32>, tensor<2xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x2x2x2xf32>
  %o = lowbit.quantize %c : tensor<1x2x2x2xf32> -> tensor<1x2x2x2x!quant.uniform<i8:f32, 0.5>>
  %od = lowbit.dequantize %o : tensor<1x2x2x2x!quant.uniform<i8:f32, 0.5>> -> tensor<1x2x2x2xf32>
  return %od : tensor<1x2x2x2xf32>
}

// -----

// A float op between a dequantize and a quantize that has no integer form
// and no float fallback kernel either (sigmoid would stay float, see
// convert-tosa-to-lowbit-float-fallback.mlir). Of an 8-bit activation it
// would be a lookup table (convert-tosa-to-lowbit-lookup.mlir); this one is
// 16-bit.
func.func @float_op_left(%x: tensor<1x4xf32>) -> tensor<1x4xf32> {
  %q = lowbit.quantize %x : tensor<1x4xf32> -> tensor<1x4x!quant.uniform<i16:f32, 0.5>>
  %d = lowbit.dequantize %q : tensor<1x4x!quant.uniform<i16:f32, 0.5>> -> tensor<1x4xf32>
  // expected-error @+1 {{convert-tosa-to-lowbit: 'tosa.log' cannot be lowered to the integer target (no integer form of this op, or its inputs are not quantized)}}
  %s = tosa.log %d : (tensor<1x4xf32>) -> tensor<1x4xf32>
  %o = lowbit.quantize %s : tensor<1x4xf32> -> tensor<1x4x!quant.uniform<i8:f32, 0.00390625:-128>>
  %od = lowbit.dequantize %o : tensor<1x4x!quant.uniform<i8:f32, 0.00390625:-128>> -> tensor<1x4xf32>
  return %od : tensor<1x4xf32>
}

// -----

// A float op that no quantize closes, and that is no float fallback op
// (whose results may be float results, convert-tosa-to-lowbit-float-
// fallback.mlir): the result is not quantized.
func.func @unquantized_result(%x: tensor<1x4xf32>) -> tensor<1x4xf32> {
  %q = lowbit.quantize %x : tensor<1x4xf32> -> tensor<1x4x!quant.uniform<i8:f32, 0.5>>
  %d = lowbit.dequantize %q : tensor<1x4x!quant.uniform<i8:f32, 0.5>> -> tensor<1x4xf32>
  %s = tosa.log %d : (tensor<1x4xf32>) -> tensor<1x4xf32>
  // expected-error @+1 {{convert-tosa-to-lowbit: result #0 is not quantized (its producer 'tosa.log' stays float: quantize it or end the model before it)}}
  return %s : tensor<1x4xf32>
}

// -----

// A float op left over that feeds nothing the pass lowers.
func.func @float_op_unused(%x: tensor<1x4xf32>) -> tensor<1x4xf32> {
  %q = lowbit.quantize %x : tensor<1x4xf32> -> tensor<1x4x!quant.uniform<i8:f32, 0.5>>
  %d = lowbit.dequantize %q : tensor<1x4x!quant.uniform<i8:f32, 0.5>> -> tensor<1x4xf32>
  // expected-error @+1 {{convert-tosa-to-lowbit: 'arith.addf' cannot be lowered to the integer target}}
  %u = arith.addf %d, %d : tensor<1x4xf32>
  return %d : tensor<1x4xf32>
}

// -----

func.func @prelu_after_add(%a: tensor<1x2x2x2xf32>, %b: tensor<1x2x2x2xf32>) -> tensor<1x2x2x2xf32> {
  %qa = lowbit.quantize %a : tensor<1x2x2x2xf32> -> tensor<1x2x2x2x!quant.uniform<i8:f32, 0.5>>
  %da = lowbit.dequantize %qa : tensor<1x2x2x2x!quant.uniform<i8:f32, 0.5>> -> tensor<1x2x2x2xf32>
  %qb = lowbit.quantize %b : tensor<1x2x2x2xf32> -> tensor<1x2x2x2x!quant.uniform<i8:f32, 0.5>>
  %db = lowbit.dequantize %qb : tensor<1x2x2x2x!quant.uniform<i8:f32, 0.5>> -> tensor<1x2x2x2xf32>
  // expected-error @+1 {{convert-tosa-to-lowbit: PReLU after an add is not supported by the integer target}}
  %s = tosa.add %da, %db : (tensor<1x2x2x2xf32>, tensor<1x2x2x2xf32>) -> tensor<1x2x2x2xf32>
  %zero = "tosa.const"() {values = dense<0.0> : tensor<1x1x1x1xf32>} : () -> tensor<1x1x1x1xf32>
  %slope = "tosa.const"() {values = dense<0.25> : tensor<1x1x1x1xf32>} : () -> tensor<1x1x1x1xf32>
  %shift = "tosa.const"() {values = dense<0> : tensor<1xi8>} : () -> tensor<1xi8>
  %ge = tosa.greater_equal %s, %zero : (tensor<1x2x2x2xf32>, tensor<1x1x1x1xf32>) -> tensor<1x2x2x2xi1>
  %m = tosa.mul %s, %slope, %shift : (tensor<1x2x2x2xf32>, tensor<1x1x1x1xf32>, tensor<1xi8>) -> tensor<1x2x2x2xf32>
  %p = tosa.select %ge, %s, %m : (tensor<1x2x2x2xi1>, tensor<1x2x2x2xf32>, tensor<1x2x2x2xf32>) -> tensor<1x2x2x2xf32>
  %o = lowbit.quantize %p : tensor<1x2x2x2xf32> -> tensor<1x2x2x2x!quant.uniform<i8:f32, 0.5>>
  %od = lowbit.dequantize %o : tensor<1x2x2x2x!quant.uniform<i8:f32, 0.5>> -> tensor<1x2x2x2xf32>
  return %od : tensor<1x2x2x2xf32>
}

// -----

// A broadcasting add of activations has no integer form (lowbit.add adds
// equal shapes): it stays float, with a warning.
func.func @broadcasting_add(%a: tensor<1x2x2x2xf32>, %b: tensor<1x1x1x2xf32>) -> tensor<1x2x2x2xf32> {
  %qa = lowbit.quantize %a : tensor<1x2x2x2xf32> -> tensor<1x2x2x2x!quant.uniform<i8:f32, 0.5>>
  %da = lowbit.dequantize %qa : tensor<1x2x2x2x!quant.uniform<i8:f32, 0.5>> -> tensor<1x2x2x2xf32>
  %qb = lowbit.quantize %b : tensor<1x1x1x2xf32> -> tensor<1x1x1x2x!quant.uniform<i8:f32, 0.5>>
  %db = lowbit.dequantize %qb : tensor<1x1x1x2x!quant.uniform<i8:f32, 0.5>> -> tensor<1x1x1x2xf32>
  // expected-warning @+1 {{convert-tosa-to-lowbit: 'tosa.add' stays float (no integer form)}}
  %s = tosa.add %da, %db : (tensor<1x2x2x2xf32>, tensor<1x1x1x2xf32>) -> tensor<1x2x2x2xf32>
  %o = lowbit.quantize %s : tensor<1x2x2x2xf32> -> tensor<1x2x2x2x!quant.uniform<i8:f32, 0.5>>
  %od = lowbit.dequantize %o : tensor<1x2x2x2x!quant.uniform<i8:f32, 0.5>> -> tensor<1x2x2x2xf32>
  return %od : tensor<1x2x2x2xf32>
}

// -----

func.func @add_of_float(%a: tensor<1x2x2x2xf32>, %b: tensor<1x2x2x2xf32>) -> tensor<1x2x2x2xf32> {
  %qa = lowbit.quantize %a : tensor<1x2x2x2xf32> -> tensor<1x2x2x2x!quant.uniform<i8:f32, 0.5>>
  %da = lowbit.dequantize %qa : tensor<1x2x2x2x!quant.uniform<i8:f32, 0.5>> -> tensor<1x2x2x2xf32>
  // expected-error @+1 {{convert-tosa-to-lowbit: both inputs of an add must be quantized activations}}
  %s = tosa.add %da, %b : (tensor<1x2x2x2xf32>, tensor<1x2x2x2xf32>) -> tensor<1x2x2x2xf32>
  %o = lowbit.quantize %s : tensor<1x2x2x2xf32> -> tensor<1x2x2x2x!quant.uniform<i8:f32, 0.5>>
  %od = lowbit.dequantize %o : tensor<1x2x2x2x!quant.uniform<i8:f32, 0.5>> -> tensor<1x2x2x2xf32>
  return %od : tensor<1x2x2x2xf32>
}

// -----

// Weights computed at run time (here: a dequantized activation).
func.func @non_constant_weights(%x: tensor<1x2x2x2xf32>, %wf: tensor<2x1x1x2xf32>) -> tensor<1x2x2x2xf32> {
  %q = lowbit.quantize %x : tensor<1x2x2x2xf32> -> tensor<1x2x2x2x!quant.uniform<i8:f32, 0.5>>
  %d = lowbit.dequantize %q : tensor<1x2x2x2x!quant.uniform<i8:f32, 0.5>> -> tensor<1x2x2x2xf32>
  %wq = lowbit.quantize %wf : tensor<2x1x1x2xf32> -> tensor<2x1x1x2x!quant.uniform<i8:f32, 0.5>>
  %w = lowbit.dequantize %wq : tensor<2x1x1x2x!quant.uniform<i8:f32, 0.5>> -> tensor<2x1x1x2xf32>
  %b = "tosa.const"() {values = dense<0.0> : tensor<2xf32>} : () -> tensor<2xf32>
  %zp = "tosa.const"() {values = dense<0.0> : tensor<1xf32>} : () -> tensor<1xf32>
  // expected-error @+1 {{convert-tosa-to-lowbit: weights must be quantized constants (run lowbit-insert-qdq, or import a Q/DQ model)}}
  %c = tosa.conv2d %d, %w, %b, %zp, %zp {acc_type = f32, dilation = array<i64: 1, 1>, pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 1, 1>} : (tensor<1x2x2x2xf32>, tensor<2x1x1x2xf32>, tensor<2xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x2x2x2xf32>
  %o = lowbit.quantize %c : tensor<1x2x2x2xf32> -> tensor<1x2x2x2x!quant.uniform<i8:f32, 0.5>>
  %od = lowbit.dequantize %o : tensor<1x2x2x2x!quant.uniform<i8:f32, 0.5>> -> tensor<1x2x2x2xf32>
  return %od : tensor<1x2x2x2xf32>
}

// -----

// 6-bit log codes would shift by up to 31 bits: no integer form (at most 5).
func.func @pow2_too_wide(%x: tensor<1x2x2x2xf32>) -> tensor<1x2x2x2xf32> {
  %q = lowbit.quantize %x : tensor<1x2x2x2xf32> -> tensor<1x2x2x2x!quant.uniform<i8:f32, 0.5>>
  %d = lowbit.dequantize %q : tensor<1x2x2x2x!quant.uniform<i8:f32, 0.5>> -> tensor<1x2x2x2xf32>
  %w = "tosa.const"() {values = dense<[[[[1.0, -0.5]]], [[[0.25, 0.125]]]]> : tensor<2x1x1x2xf32>} : () -> tensor<2x1x1x2xf32>
  %b = "tosa.const"() {values = dense<0.0> : tensor<2xf32>} : () -> tensor<2xf32>
  %zp = "tosa.const"() {values = dense<0.0> : tensor<1xf32>} : () -> tensor<1xf32>
  // expected-error @+1 {{convert-tosa-to-lowbit: log weights wider than 5 bits are not supported by the integer target (a weight would shift by up to 2^(bits-1) - 1 bits)}}
  %c = tosa.conv2d %d, %w, %b, %zp, %zp {acc_type = f32, dilation = array<i64: 1, 1>, pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 1, 1>, lowbit.weight_encoding = #lowbit.log<bits = 6, scale = 2.0>} : (tensor<1x2x2x2xf32>, tensor<2x1x1x2xf32>, tensor<2xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x2x2x2xf32>
  %o = lowbit.quantize %c : tensor<1x2x2x2xf32> -> tensor<1x2x2x2x!quant.uniform<i8:f32, 0.5>>
  %od = lowbit.dequantize %o : tensor<1x2x2x2x!quant.uniform<i8:f32, 0.5>> -> tensor<1x2x2x2xf32>
  return %od : tensor<1x2x2x2xf32>
}

// -----

// 3-bit log codes with U = 2 are +-2 * 2^-e for e in [1, 4]: 0.3 is not one.
func.func @pow2_not_a_code(%x: tensor<1x2x2x2xf32>) -> tensor<1x2x2x2xf32> {
  %q = lowbit.quantize %x : tensor<1x2x2x2xf32> -> tensor<1x2x2x2x!quant.uniform<i8:f32, 0.5>>
  %d = lowbit.dequantize %q : tensor<1x2x2x2x!quant.uniform<i8:f32, 0.5>> -> tensor<1x2x2x2xf32>
  %w = "tosa.const"() {values = dense<[[[[1.0, -0.5]]], [[[0.3, 0.125]]]]> : tensor<2x1x1x2xf32>} : () -> tensor<2x1x1x2xf32>
  %b = "tosa.const"() {values = dense<0.0> : tensor<2xf32>} : () -> tensor<2xf32>
  %zp = "tosa.const"() {values = dense<0.0> : tensor<1xf32>} : () -> tensor<1xf32>
  // expected-error @+1 {{convert-tosa-to-lowbit: log weight 0.300000 is not a value of its #lowbit.log encoding}}
  %c = tosa.conv2d %d, %w, %b, %zp, %zp {acc_type = f32, dilation = array<i64: 1, 1>, pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 1, 1>, lowbit.weight_encoding = #lowbit.log<bits = 3, scale = 2.0>} : (tensor<1x2x2x2xf32>, tensor<2x1x1x2xf32>, tensor<2xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x2x2x2xf32>
  %o = lowbit.quantize %c : tensor<1x2x2x2xf32> -> tensor<1x2x2x2x!quant.uniform<i8:f32, 0.5>>
  %od = lowbit.dequantize %o : tensor<1x2x2x2x!quant.uniform<i8:f32, 0.5>> -> tensor<1x2x2x2xf32>
  return %od : tensor<1x2x2x2xf32>
}

// -----

// Per-channel log scales must match the output channels (2, not 3).
func.func @pow2_channel_count(%x: tensor<1x2x2x2xf32>) -> tensor<1x2x2x2xf32> {
  %q = lowbit.quantize %x : tensor<1x2x2x2xf32> -> tensor<1x2x2x2x!quant.uniform<i8:f32, 0.5>>
  %d = lowbit.dequantize %q : tensor<1x2x2x2x!quant.uniform<i8:f32, 0.5>> -> tensor<1x2x2x2xf32>
  %w = "tosa.const"() {values = dense<[[[[1.0, -0.5]]], [[[0.25, 0.125]]]]> : tensor<2x1x1x2xf32>} : () -> tensor<2x1x1x2xf32>
  %b = "tosa.const"() {values = dense<0.0> : tensor<2xf32>} : () -> tensor<2xf32>
  %zp = "tosa.const"() {values = dense<0.0> : tensor<1xf32>} : () -> tensor<1xf32>
  // expected-error @+1 {{convert-tosa-to-lowbit: log weights have 3 channel scales, not one per output channel}}
  %c = tosa.conv2d %d, %w, %b, %zp, %zp {acc_type = f32, dilation = array<i64: 1, 1>, pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 1, 1>, lowbit.weight_encoding = #lowbit.log<bits = 4, scale = 2.0, channel_scales = [2.0, 0.5, 1.0]>} : (tensor<1x2x2x2xf32>, tensor<2x1x1x2xf32>, tensor<2xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x2x2x2xf32>
  %o = lowbit.quantize %c : tensor<1x2x2x2xf32> -> tensor<1x2x2x2x!quant.uniform<i8:f32, 0.5>>
  %od = lowbit.dequantize %o : tensor<1x2x2x2x!quant.uniform<i8:f32, 0.5>> -> tensor<1x2x2x2xf32>
  return %od : tensor<1x2x2x2xf32>
}

// -----

// The convolution reads a float input no quantization reaches.
func.func @float_input(%x: tensor<1x2x2x2xf32>) -> tensor<1x2x2x2xf32> {
  %wq = lowbit.constant dense<1> : tensor<2x1x1x2xi8> -> tensor<2x1x1x2x!quant.uniform<i8:f32, 0.5>>
  %w = lowbit.dequantize %wq : tensor<2x1x1x2x!quant.uniform<i8:f32, 0.5>> -> tensor<2x1x1x2xf32>
  %b = "tosa.const"() {values = dense<0.0> : tensor<2xf32>} : () -> tensor<2xf32>
  %zp = "tosa.const"() {values = dense<0.0> : tensor<1xf32>} : () -> tensor<1xf32>
  // expected-error @+1 {{convert-tosa-to-lowbit: the input is not a quantized activation (no calibrated quantization reaches it)}}
  %c = tosa.conv2d %x, %w, %b, %zp, %zp {acc_type = f32, dilation = array<i64: 1, 1>, pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 1, 1>} : (tensor<1x2x2x2xf32>, tensor<2x1x1x2xf32>, tensor<2xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x2x2x2xf32>
  %o = lowbit.quantize %c : tensor<1x2x2x2xf32> -> tensor<1x2x2x2x!quant.uniform<i8:f32, 0.5>>
  %od = lowbit.dequantize %o : tensor<1x2x2x2x!quant.uniform<i8:f32, 0.5>> -> tensor<1x2x2x2xf32>
  return %od : tensor<1x2x2x2xf32>
}

// -----

// Weights quantized along input channels.
func.func @conv_weights_wrong_axis(%x: tensor<1x2x2x2xf32>) -> tensor<1x2x2x2xf32> {
  %q = lowbit.quantize %x : tensor<1x2x2x2xf32> -> tensor<1x2x2x2x!quant.uniform<i8:f32, 0.5>>
  %d = lowbit.dequantize %q : tensor<1x2x2x2x!quant.uniform<i8:f32, 0.5>> -> tensor<1x2x2x2xf32>
  %wq = lowbit.constant dense<1> : tensor<2x1x1x2xi8> -> tensor<2x1x1x2x!quant.uniform<i8:f32:3, {0.25, 0.5}>>
  %w = lowbit.dequantize %wq : tensor<2x1x1x2x!quant.uniform<i8:f32:3, {0.25, 0.5}>> -> tensor<2x1x1x2xf32>
  %b = "tosa.const"() {values = dense<0.0> : tensor<2xf32>} : () -> tensor<2xf32>
  %zp = "tosa.const"() {values = dense<0.0> : tensor<1xf32>} : () -> tensor<1xf32>
  // expected-error @+1 {{convert-tosa-to-lowbit: convolution weights must be quantized per output channel}}
  %c = tosa.conv2d %d, %w, %b, %zp, %zp {acc_type = f32, dilation = array<i64: 1, 1>, pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 1, 1>} : (tensor<1x2x2x2xf32>, tensor<2x1x1x2xf32>, tensor<2xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x2x2x2xf32>
  %o = lowbit.quantize %c : tensor<1x2x2x2xf32> -> tensor<1x2x2x2x!quant.uniform<i8:f32, 0.5>>
  %od = lowbit.dequantize %o : tensor<1x2x2x2x!quant.uniform<i8:f32, 0.5>> -> tensor<1x2x2x2xf32>
  return %od : tensor<1x2x2x2xf32>
}

// -----

// Depthwise weights [KH, KW, C, M] with multiplier 2, quantized per output
// channel (along M).
func.func @depthwise_multiplier(%x: tensor<1x2x2x1xf32>) -> tensor<1x2x2x2xf32> {
  %q = lowbit.quantize %x : tensor<1x2x2x1xf32> -> tensor<1x2x2x1x!quant.uniform<i8:f32, 0.5>>
  %d = lowbit.dequantize %q : tensor<1x2x2x1x!quant.uniform<i8:f32, 0.5>> -> tensor<1x2x2x1xf32>
  %wq = lowbit.constant dense<1> : tensor<1x1x1x2xi8> -> tensor<1x1x1x2x!quant.uniform<i8:f32:3, {0.25, 0.5}>>
  %w = lowbit.dequantize %wq : tensor<1x1x1x2x!quant.uniform<i8:f32:3, {0.25, 0.5}>> -> tensor<1x1x1x2xf32>
  %b = "tosa.const"() {values = dense<0.0> : tensor<2xf32>} : () -> tensor<2xf32>
  %zp = "tosa.const"() {values = dense<0.0> : tensor<1xf32>} : () -> tensor<1xf32>
  // expected-error @+1 {{convert-tosa-to-lowbit: depthwise weights must be quantized per channel with multiplier 1, or per tensor}}
  %c = tosa.depthwise_conv2d %d, %w, %b, %zp, %zp {acc_type = f32, dilation = array<i64: 1, 1>, pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 1, 1>} : (tensor<1x2x2x1xf32>, tensor<1x1x1x2xf32>, tensor<2xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x2x2x2xf32>
  %o = lowbit.quantize %c : tensor<1x2x2x2xf32> -> tensor<1x2x2x2x!quant.uniform<i8:f32, 0.5>>
  %od = lowbit.dequantize %o : tensor<1x2x2x2x!quant.uniform<i8:f32, 0.5>> -> tensor<1x2x2x2xf32>
  return %od : tensor<1x2x2x2xf32>
}

// -----

// Matmul weights [1, K, N] quantized along K.
func.func @matmul_weights_per_row(%x: tensor<1x1x2xf32>) -> tensor<1x1x3xf32> {
  %q = lowbit.quantize %x : tensor<1x1x2xf32> -> tensor<1x1x2x!quant.uniform<i8:f32, 0.5>>
  %d = lowbit.dequantize %q : tensor<1x1x2x!quant.uniform<i8:f32, 0.5>> -> tensor<1x1x2xf32>
  %wq = lowbit.constant dense<1> : tensor<1x2x3xi8> -> tensor<1x2x3x!quant.uniform<i8:f32:1, {0.25, 0.5}>>
  %w = lowbit.dequantize %wq : tensor<1x2x3x!quant.uniform<i8:f32:1, {0.25, 0.5}>> -> tensor<1x2x3xf32>
  %zp = "tosa.const"() {values = dense<0.0> : tensor<1xf32>} : () -> tensor<1xf32>
  // expected-error @+1 {{convert-tosa-to-lowbit: matmul weights must be quantized per output column}}
  %m = tosa.matmul %d, %w, %zp, %zp : (tensor<1x1x2xf32>, tensor<1x2x3xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x1x3xf32>
  %o = lowbit.quantize %m : tensor<1x1x3xf32> -> tensor<1x1x3x!quant.uniform<i8:f32, 0.5>>
  %od = lowbit.dequantize %o : tensor<1x1x3x!quant.uniform<i8:f32, 0.5>> -> tensor<1x1x3xf32>
  return %od : tensor<1x1x3xf32>
}

// -----

// A batched matmul with constant weights.
func.func @matmul_batched(%x: tensor<2x1x2xf32>) -> tensor<2x1x3xf32> {
  %q = lowbit.quantize %x : tensor<2x1x2xf32> -> tensor<2x1x2x!quant.uniform<i8:f32, 0.5>>
  %d = lowbit.dequantize %q : tensor<2x1x2x!quant.uniform<i8:f32, 0.5>> -> tensor<2x1x2xf32>
  %wq = lowbit.constant dense<1> : tensor<2x2x3xi8> -> tensor<2x2x3x!quant.uniform<i8:f32, 0.5>>
  %w = lowbit.dequantize %wq : tensor<2x2x3x!quant.uniform<i8:f32, 0.5>> -> tensor<2x2x3xf32>
  %zp = "tosa.const"() {values = dense<0.0> : tensor<1xf32>} : () -> tensor<1xf32>
  // expected-error @+1 {{convert-tosa-to-lowbit: matmul weights must be a constant [1, K, N] tensor}}
  %m = tosa.matmul %d, %w, %zp, %zp : (tensor<2x1x2xf32>, tensor<2x2x3xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<2x1x3xf32>
  %o = lowbit.quantize %m : tensor<2x1x3xf32> -> tensor<2x1x3x!quant.uniform<i8:f32, 0.5>>
  %od = lowbit.dequantize %o : tensor<2x1x3x!quant.uniform<i8:f32, 0.5>> -> tensor<2x1x3xf32>
  return %od : tensor<2x1x3xf32>
}

// -----

// A bias that is not a constant.
func.func @bias_not_constant(%x: tensor<1x2x2x2xf32>, %b: tensor<2xf32>) -> tensor<1x2x2x2xf32> {
  %q = lowbit.quantize %x : tensor<1x2x2x2xf32> -> tensor<1x2x2x2x!quant.uniform<i8:f32, 0.5>>
  %d = lowbit.dequantize %q : tensor<1x2x2x2x!quant.uniform<i8:f32, 0.5>> -> tensor<1x2x2x2xf32>
  %wq = lowbit.constant dense<1> : tensor<2x1x1x2xi8> -> tensor<2x1x1x2x!quant.uniform<i8:f32, 0.5>>
  %w = lowbit.dequantize %wq : tensor<2x1x1x2x!quant.uniform<i8:f32, 0.5>> -> tensor<2x1x1x2xf32>
  %zp = "tosa.const"() {values = dense<0.0> : tensor<1xf32>} : () -> tensor<1xf32>
  // expected-error @+1 {{convert-tosa-to-lowbit: bias must be a constant with one value per output channel}}
  %c = tosa.conv2d %d, %w, %b, %zp, %zp {acc_type = f32, dilation = array<i64: 1, 1>, pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 1, 1>} : (tensor<1x2x2x2xf32>, tensor<2x1x1x2xf32>, tensor<2xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x2x2x2xf32>
  %o = lowbit.quantize %c : tensor<1x2x2x2xf32> -> tensor<1x2x2x2x!quant.uniform<i8:f32, 0.5>>
  %od = lowbit.dequantize %o : tensor<1x2x2x2x!quant.uniform<i8:f32, 0.5>> -> tensor<1x2x2x2xf32>
  return %od : tensor<1x2x2x2xf32>
}

// -----

// A constant add after the convolution that varies along a spatial axis:
// no bias of the convolution but an add of two activations (a position
// embedding), and the convolution's result is not quantized here
// (lowbit-insert-qdq quantizes it).
func.func @bias_add_not_per_channel(%x: tensor<1x2x2x2xf32>) -> tensor<1x2x2x2xf32> {
  %q = lowbit.quantize %x : tensor<1x2x2x2xf32> -> tensor<1x2x2x2x!quant.uniform<i8:f32, 0.5>>
  %d = lowbit.dequantize %q : tensor<1x2x2x2x!quant.uniform<i8:f32, 0.5>> -> tensor<1x2x2x2xf32>
  %wq = lowbit.constant dense<1> : tensor<2x1x1x2xi8> -> tensor<2x1x1x2x!quant.uniform<i8:f32, 0.5>>
  %w = lowbit.dequantize %wq : tensor<2x1x1x2x!quant.uniform<i8:f32, 0.5>> -> tensor<2x1x1x2xf32>
  %b = "tosa.const"() {values = dense<0.0> : tensor<2xf32>} : () -> tensor<2xf32>
  %zp = "tosa.const"() {values = dense<0.0> : tensor<1xf32>} : () -> tensor<1xf32>
  %c = tosa.conv2d %d, %w, %b, %zp, %zp {acc_type = f32, dilation = array<i64: 1, 1>, pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 1, 1>} : (tensor<1x2x2x2xf32>, tensor<2x1x1x2xf32>, tensor<2xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x2x2x2xf32>
  %k = "tosa.const"() {values = dense<[[[[1.0]], [[2.0]]]]> : tensor<1x2x1x1xf32>} : () -> tensor<1x2x1x1xf32>
  // expected-error @+1 {{convert-tosa-to-lowbit: both inputs of an add must be quantized activations}}
  %a = tosa.add %c, %k : (tensor<1x2x2x2xf32>, tensor<1x2x1x1xf32>) -> tensor<1x2x2x2xf32>
  %o = lowbit.quantize %a : tensor<1x2x2x2xf32> -> tensor<1x2x2x2x!quant.uniform<i8:f32, 0.5>>
  %od = lowbit.dequantize %o : tensor<1x2x2x2x!quant.uniform<i8:f32, 0.5>> -> tensor<1x2x2x2xf32>
  return %od : tensor<1x2x2x2xf32>
}

// -----

// A bias too large for any accumulator: 1e30 / (0.5 * 0.5).
func.func @bias_too_large(%x: tensor<1x2x2x2xf32>) -> tensor<1x2x2x2xf32> {
  %q = lowbit.quantize %x : tensor<1x2x2x2xf32> -> tensor<1x2x2x2x!quant.uniform<i8:f32, 0.5>>
  %d = lowbit.dequantize %q : tensor<1x2x2x2x!quant.uniform<i8:f32, 0.5>> -> tensor<1x2x2x2xf32>
  %wq = lowbit.constant dense<1> : tensor<2x1x1x2xi8> -> tensor<2x1x1x2x!quant.uniform<i8:f32, 0.5>>
  %w = lowbit.dequantize %wq : tensor<2x1x1x2x!quant.uniform<i8:f32, 0.5>> -> tensor<2x1x1x2xf32>
  %b = "tosa.const"() {values = dense<1.0e30> : tensor<2xf32>} : () -> tensor<2xf32>
  %zp = "tosa.const"() {values = dense<0.0> : tensor<1xf32>} : () -> tensor<1xf32>
  // expected-error @+1 {{convert-tosa-to-lowbit: bias is too large for the accumulator}}
  %c = tosa.conv2d %d, %w, %b, %zp, %zp {acc_type = f32, dilation = array<i64: 1, 1>, pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 1, 1>} : (tensor<1x2x2x2xf32>, tensor<2x1x1x2xf32>, tensor<2xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x2x2x2xf32>
  %o = lowbit.quantize %c : tensor<1x2x2x2xf32> -> tensor<1x2x2x2x!quant.uniform<i8:f32, 0.5>>
  %od = lowbit.dequantize %o : tensor<1x2x2x2x!quant.uniform<i8:f32, 0.5>> -> tensor<1x2x2x2xf32>
  return %od : tensor<1x2x2x2xf32>
}

// -----

// PReLU slopes that vary along a spatial axis.
func.func @prelu_slope_not_per_channel(%x: tensor<1x2x2x2xf32>) -> tensor<1x2x2x2xf32> {
  %q = lowbit.quantize %x : tensor<1x2x2x2xf32> -> tensor<1x2x2x2x!quant.uniform<i8:f32, 0.5>>
  %d = lowbit.dequantize %q : tensor<1x2x2x2x!quant.uniform<i8:f32, 0.5>> -> tensor<1x2x2x2xf32>
  %wq = lowbit.constant dense<1> : tensor<2x1x1x2xi8> -> tensor<2x1x1x2x!quant.uniform<i8:f32, 0.5>>
  %w = lowbit.dequantize %wq : tensor<2x1x1x2x!quant.uniform<i8:f32, 0.5>> -> tensor<2x1x1x2xf32>
  %b = "tosa.const"() {values = dense<0.0> : tensor<2xf32>} : () -> tensor<2xf32>
  %zp = "tosa.const"() {values = dense<0.0> : tensor<1xf32>} : () -> tensor<1xf32>
  // expected-error @+1 {{convert-tosa-to-lowbit: PReLU slope must be one value or one per channel}}
  %c = tosa.conv2d %d, %w, %b, %zp, %zp {acc_type = f32, dilation = array<i64: 1, 1>, pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 1, 1>} : (tensor<1x2x2x2xf32>, tensor<2x1x1x2xf32>, tensor<2xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x2x2x2xf32>
  %zero = "tosa.const"() {values = dense<0.0> : tensor<1x1x1x1xf32>} : () -> tensor<1x1x1x1xf32>
  %slope = "tosa.const"() {values = dense<[[[[0.25]], [[0.5]]]]> : tensor<1x2x1x1xf32>} : () -> tensor<1x2x1x1xf32>
  %shift = "tosa.const"() {values = dense<0> : tensor<1xi8>} : () -> tensor<1xi8>
  %ge = tosa.greater_equal %c, %zero : (tensor<1x2x2x2xf32>, tensor<1x1x1x1xf32>) -> tensor<1x2x2x2xi1>
  %m = tosa.mul %c, %slope, %shift : (tensor<1x2x2x2xf32>, tensor<1x2x1x1xf32>, tensor<1xi8>) -> tensor<1x2x2x2xf32>
  %p = tosa.select %ge, %c, %m : (tensor<1x2x2x2xi1>, tensor<1x2x2x2xf32>, tensor<1x2x2x2xf32>) -> tensor<1x2x2x2xf32>
  %o = lowbit.quantize %p : tensor<1x2x2x2xf32> -> tensor<1x2x2x2x!quant.uniform<i8:f32, 0.5>>
  %od = lowbit.dequantize %o : tensor<1x2x2x2x!quant.uniform<i8:f32, 0.5>> -> tensor<1x2x2x2xf32>
  return %od : tensor<1x2x2x2xf32>
}

// -----

// A requantization scale of 2^30 cannot be a 31-bit multiplier with shift >= 2.
func.func @rescale_too_large(%x: tensor<1x4xf32>) -> tensor<1x4xf32> {
  %q = lowbit.quantize %x : tensor<1x4xf32> -> tensor<1x4x!quant.uniform<i8:f32, 1.0>>
  %d = lowbit.dequantize %q : tensor<1x4x!quant.uniform<i8:f32, 1.0>> -> tensor<1x4xf32>
  // expected-error @+1 {{convert-tosa-to-lowbit: rescale factor 1.073742e+09 is too large for a 31-bit multiplier}}
  %o = lowbit.quantize %d : tensor<1x4xf32> -> tensor<1x4x!quant.uniform<i8:f32, 9.3132257461547852E-10>>
  %od = lowbit.dequantize %o : tensor<1x4x!quant.uniform<i8:f32, 9.3132257461547852E-10>> -> tensor<1x4xf32>
  return %od : tensor<1x4xf32>
}

// -----

func.func @per_axis_activation(%x: tensor<1x2x2x2xf32>) -> tensor<1x2x2x2xf32> {
  // expected-error @+1 {{convert-tosa-to-lowbit: activations must be quantized per tensor}}
  %q = lowbit.quantize %x : tensor<1x2x2x2xf32> -> tensor<1x2x2x2x!quant.uniform<i8:f32:3, {0.5, 0.25}>>
  %d = lowbit.dequantize %q : tensor<1x2x2x2x!quant.uniform<i8:f32:3, {0.5, 0.25}>> -> tensor<1x2x2x2xf32>
  return %d : tensor<1x2x2x2xf32>
}

// -----

// A per-axis quantized input read by an integer op.
func.func @per_axis_input(%x: tensor<1x2x2x2x!quant.uniform<i8:f32:3, {0.5, 0.25}>>) -> tensor<1x1x1x2xf32> {
  // expected-error @+1 {{convert-tosa-to-lowbit: dequantized value is not a per-tensor quantized activation}}
  %d = lowbit.dequantize %x : tensor<1x2x2x2x!quant.uniform<i8:f32:3, {0.5, 0.25}>> -> tensor<1x2x2x2xf32>
  %p = tosa.max_pool2d %d {kernel = array<i64: 2, 2>, stride = array<i64: 2, 2>, pad = array<i64: 0, 0, 0, 0>} : (tensor<1x2x2x2xf32>) -> tensor<1x1x1x2xf32>
  %o = lowbit.quantize %p : tensor<1x1x1x2xf32> -> tensor<1x1x1x2x!quant.uniform<i8:f32, 0.5>>
  %od = lowbit.dequantize %o : tensor<1x1x1x2x!quant.uniform<i8:f32, 0.5>> -> tensor<1x1x1x2xf32>
  return %od : tensor<1x1x1x2xf32>
}

// -----

func.func @concat_of_float(%a: tensor<1x2xf32>, %b: tensor<1x2xf32>) -> tensor<1x4xf32> {
  %qa = lowbit.quantize %a : tensor<1x2xf32> -> tensor<1x2x!quant.uniform<i8:f32, 0.5>>
  %da = lowbit.dequantize %qa : tensor<1x2x!quant.uniform<i8:f32, 0.5>> -> tensor<1x2xf32>
  // expected-error @+1 {{convert-tosa-to-lowbit: concat inputs must be quantized activations}}
  %c = tosa.concat %da, %b {axis = 1 : i32} : (tensor<1x2xf32>, tensor<1x2xf32>) -> tensor<1x4xf32>
  %o = lowbit.quantize %c : tensor<1x4xf32> -> tensor<1x4x!quant.uniform<i8:f32, 0.5>>
  %od = lowbit.dequantize %o : tensor<1x4x!quant.uniform<i8:f32, 0.5>> -> tensor<1x4xf32>
  return %od : tensor<1x4xf32>
}

// -----

// An activation applied to a float input before its quantization.
func.func @activation_on_input(%x: tensor<1x4xf32>) -> tensor<1x4xf32> {
  %r = tosa.clamp %x {min_val = 0.0 : f32, max_val = 6.0 : f32} : (tensor<1x4xf32>) -> tensor<1x4xf32>
  // expected-error @+1 {{convert-tosa-to-lowbit: activation on a function input is not supported}}
  %q = lowbit.quantize %r : tensor<1x4xf32> -> tensor<1x4x!quant.uniform<i8:f32, 0.5>>
  %d = lowbit.dequantize %q : tensor<1x4x!quant.uniform<i8:f32, 0.5>> -> tensor<1x4xf32>
  return %d : tensor<1x4xf32>
}

// -----

func.func @input_quantized_twice(%x: tensor<1x4xf32>) -> (tensor<1x4xf32>, tensor<1x4xf32>) {
  %q = lowbit.quantize %x : tensor<1x4xf32> -> tensor<1x4x!quant.uniform<i8:f32, 0.5>>
  %d = lowbit.dequantize %q : tensor<1x4x!quant.uniform<i8:f32, 0.5>> -> tensor<1x4xf32>
  // expected-error @+1 {{convert-tosa-to-lowbit: function input is quantized twice with different parameters}}
  %q2 = lowbit.quantize %x : tensor<1x4xf32> -> tensor<1x4x!quant.uniform<i8:f32, 0.25>>
  %d2 = lowbit.dequantize %q2 : tensor<1x4x!quant.uniform<i8:f32, 0.25>> -> tensor<1x4xf32>
  return %d, %d2 : tensor<1x4xf32>, tensor<1x4xf32>
}
