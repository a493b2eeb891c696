// Inputs the C++ target cannot compile give located errors.
// RUN: not lowbit-translate --emit-cpp %s --split-input-file 2>&1 | FileCheck %s
// RUN: not lowbit-translate --emit-cpp --model-name=9lives %S/emit-cpp.mlir 2>&1 | FileCheck %s --check-prefix=NAME
// NAME: error: convert-lowbit-to-emitc: model-name '9lives' is not a C identifier

// A float function (not lowered to integers).
// CHECK: error: convert-lowbit-to-emitc: every input and result must be a static tensor quantized per tensor
func.func @main(%x: tensor<4xf32>) -> tensor<4xf32> {
  return %x : tensor<4xf32>
}

// -----

// An op with no kernel (float ops have kernels only for float fallback:
// LowBit/Transforms/FloatFallback.h).
// CHECK: error: convert-lowbit-to-emitc: 'tosa.log' has no kernel in the C++ target
func.func @main(%x: tensor<4x!quant.uniform<i8:f32, 0.1>>) -> tensor<4x!quant.uniform<i8:f32, 0.1>> {
  %f = lowbit.dequantize %x : tensor<4x!quant.uniform<i8:f32, 0.1>> -> tensor<4xf32>
  %l = tosa.log %f : (tensor<4xf32>) -> tensor<4xf32>
  %q = lowbit.quantize %l : tensor<4xf32> -> tensor<4x!quant.uniform<i8:f32, 0.1>>
  return %q : tensor<4x!quant.uniform<i8:f32, 0.1>>
}

// -----

// Log-encoded weights must first be given a form (shift-add or int8) by
// lowbit-lower-log-to-shift.
// CHECK: error: convert-lowbit-to-emitc: log / STLQ weights run as shifts or int8: run lowbit-lower-log-to-shift first
func.func @main(%x: tensor<1x2x2x1x!quant.uniform<i8:f32, 0.1>>) -> tensor<1x2x2x1x!quant.uniform<i8:f32, 0.1>> {
  %w = lowbit.constant dense<1> : tensor<1x1x1x1xi4> -> tensor<1x1x1x1xi4>
  %acc = lowbit.conv2d %x, %w {weight_encoding = #lowbit.log<bits = 4, scale = 5.000000e-01>} : (tensor<1x2x2x1x!quant.uniform<i8:f32, 0.1>>, tensor<1x1x1x1xi4>) -> tensor<1x2x2x1xi32>
  %r = lowbit.requant %acc {multiplier = array<i32: 1073741824>, shift = array<i32: 31>} : tensor<1x2x2x1xi32> -> tensor<1x2x2x1x!quant.uniform<i8:f32, 0.1>>
  return %r : tensor<1x2x2x1x!quant.uniform<i8:f32, 0.1>>
}

// -----

// Two functions: which one is the model?
// CHECK: error: convert-lowbit-to-emitc: expected one function to convert, found 2
func.func @a(%x: tensor<4x!quant.uniform<i8:f32, 0.1>>) -> tensor<4x!quant.uniform<i8:f32, 0.1>> {
  return %x : tensor<4x!quant.uniform<i8:f32, 0.1>>
}
func.func @b(%x: tensor<4x!quant.uniform<i8:f32, 0.1>>) -> tensor<4x!quant.uniform<i8:f32, 0.1>> {
  return %x : tensor<4x!quant.uniform<i8:f32, 0.1>>
}

// -----

// Float fallback kernels broadcast over at most 4 dimensions.
// CHECK: error: convert-lowbit-to-emitc: float fallback supports elementwise ops of rank <= 4, got 5
func.func @main(%x: tensor<1x1x1x2x2x!quant.uniform<i8:f32, 0.1>>) -> tensor<1x1x1x2x2x!quant.uniform<i8:f32, 0.1>> {
  %f = lowbit.dequantize %x : tensor<1x1x1x2x2x!quant.uniform<i8:f32, 0.1>> -> tensor<1x1x1x2x2xf32>
  %e = tosa.exp %f : (tensor<1x1x1x2x2xf32>) -> tensor<1x1x1x2x2xf32>
  %s = tosa.add %e, %f : (tensor<1x1x1x2x2xf32>, tensor<1x1x1x2x2xf32>) -> tensor<1x1x1x2x2xf32>
  %q = lowbit.quantize %s : tensor<1x1x1x2x2xf32> -> tensor<1x1x1x2x2x!quant.uniform<i8:f32, 0.1>>
  return %q : tensor<1x1x1x2x2x!quant.uniform<i8:f32, 0.1>>
}

// -----

// A float input (only results may be float, from float fallback ops).
// CHECK: error: convert-lowbit-to-emitc: every input and result must be a static tensor quantized per tensor (run convert-tosa-to-lowbit first), or a float32 result; got 'tensor<4xf32>'
func.func @main(%x: tensor<4xf32>) -> tensor<4x!quant.uniform<i8:f32, 0.1>> {
  %q = lowbit.quantize %x : tensor<4xf32> -> tensor<4x!quant.uniform<i8:f32, 0.1>>
  return %q : tensor<4x!quant.uniform<i8:f32, 0.1>>
}

// -----

// lowbit.bit_depth (lowbitc --input-bit-depth) must be complete and match
// the model's blocks.
// CHECK: error: convert-lowbit-to-emitc: lowbit.bit_depth: needs input_bits, network_bits, block, seed (integers), mode (a string) and dither (a bool)
func.func @main(%x: tensor<1x1x4x4x!quant.uniform<i8:f32, 0.1>>) -> tensor<1x1x4x4x!quant.uniform<i8:f32, 0.1>> attributes {lowbit.bit_depth = {input_bits = 10 : i32, block = 4 : i32}} {
  return %x : tensor<1x1x4x4x!quant.uniform<i8:f32, 0.1>>
}

// -----

// CHECK: error: convert-lowbit-to-emitc: lowbit.bit_depth: input_bits must be in [1, 16], network_bits in [1, input_bits], block in [1, 4096], seed a uint32
func.func @main(%x: tensor<1x1x4x4x!quant.uniform<i8:f32, 0.1>>) -> tensor<1x1x4x4x!quant.uniform<i8:f32, 0.1>> attributes {lowbit.bit_depth = {input_bits = 10 : i32, network_bits = 12 : i32, block = 4 : i32, mode = "adaptive", dither = false, seed = 0 : i64}} {
  return %x : tensor<1x1x4x4x!quant.uniform<i8:f32, 0.1>>
}

// -----

// CHECK: error: convert-lowbit-to-emitc: lowbit.bit_depth: mode must be adaptive, truncate or none
func.func @main(%x: tensor<1x1x4x4x!quant.uniform<i8:f32, 0.1>>) -> tensor<1x1x4x4x!quant.uniform<i8:f32, 0.1>> attributes {lowbit.bit_depth = {input_bits = 10 : i32, network_bits = 8 : i32, block = 4 : i32, mode = "random", dither = false, seed = 0 : i64}} {
  return %x : tensor<1x1x4x4x!quant.uniform<i8:f32, 0.1>>
}

// -----

// CHECK: error: convert-lowbit-to-emitc: lowbit.bit_depth: the input and the output must be [1, C, block, block]
func.func @main(%x: tensor<1x1x4x4x!quant.uniform<i8:f32, 0.1>>) -> tensor<1x1x4x4x!quant.uniform<i8:f32, 0.1>> attributes {lowbit.bit_depth = {input_bits = 10 : i32, network_bits = 8 : i32, block = 8 : i32, mode = "adaptive", dither = false, seed = 0 : i64}} {
  return %x : tensor<1x1x4x4x!quant.uniform<i8:f32, 0.1>>
}
