// RUN: lowbit-opt %s --split-input-file --verify-diagnostics

// Element types, constants, quantize and dequantize.

func.func @not_quantized(%x: tensor<4xf32>) {
  // expected-error @+1 {{'lowbit.quantize' op result must have a quantized element type, got 'tensor<4xi8>'}}
  %q = lowbit.quantize %x : tensor<4xf32> -> tensor<4xi8>
  return
}

// -----

func.func @not_uniform(%x: tensor<4xf32>) {
  // expected-error @+1 {{result must use a !quant.uniform type}}
  %q = lowbit.quantize %x : tensor<4xf32> -> tensor<4x!quant.any<i8:f32>>
  return
}

// -----

func.func @storage_too_wide(%x: tensor<4xf32>) {
  // expected-error @+1 {{result storage must be 2 to 16 bits wide, got 32}}
  %q = lowbit.quantize %x : tensor<4xf32> -> tensor<4x!quant.uniform<i32:f32, 0.1>>
  return
}

// -----

func.func @storage_too_narrow(%x: tensor<4xf32>) {
  // expected-error @+1 {{result storage must be 2 to 16 bits wide, got 1}}
  %q = lowbit.quantize %x : tensor<4xf32> -> tensor<4x!quant.uniform<i1:f32, 0.1>>
  return
}

// -----

func.func @axis_out_of_range(%x: tensor<4xf32>) {
  // expected-error @+1 {{result is quantized along dimension 1 but has rank 1}}
  %q = lowbit.quantize %x : tensor<4xf32> -> tensor<4x!quant.uniform<i8:f32:1, {0.1, 0.2}>>
  return
}

// -----

func.func @axis_scale_count(%x: tensor<4x3xf32>) {
  // expected-error @+1 {{result has 2 scales for dimension 0 of size 4}}
  %q = lowbit.quantize %x : tensor<4x3xf32> -> tensor<4x3x!quant.uniform<i8:f32:0, {0.1, 0.2}>>
  return
}

// -----

func.func @block_rank(%x: tensor<4x4x2xf32>) {
  // expected-error @+1 {{result has a rank-2 scale tensor for a rank-3 tensor}}
  %q = lowbit.quantize %x : tensor<4x4x2xf32> -> tensor<4x4x2x!quant.uniform<i8:f32:{1:2}, {{0.1, 0.2}, {0.3, 0.4}}>>
  return
}

// -----

func.func @block_divides(%x: tensor<4x5xf32>) {
  // expected-error @+1 {{result block size 2 does not divide dimension 1 of size 5}}
  %q = lowbit.quantize %x : tensor<4x5xf32> -> tensor<4x5x!quant.uniform<i8:f32:{1:2}, {{0.1, 0.2}, {0.3, 0.4}, {0.5, 0.6}, {0.7, 0.8}}>>
  return
}

// -----

func.func @block_dim(%x: tensor<4x4xf32>) {
  // expected-error @+1 {{result has a block on dimension 2 but rank 2}}
  %q = lowbit.quantize %x : tensor<4x4xf32> -> tensor<4x4x!quant.uniform<i8:f32:{2:2}, {{0.1, 0.2}, {0.3, 0.4}, {0.5, 0.6}, {0.7, 0.8}}>>
  return
}

// -----

func.func @block_scales(%x: tensor<4x8xf32>) {
  // expected-error @+1 {{result needs 4 scales along dimension 1, got 2}}
  %q = lowbit.quantize %x : tensor<4x8xf32> -> tensor<4x8x!quant.uniform<i8:f32:{1:2}, {{0.1, 0.2}, {0.3, 0.4}, {0.5, 0.6}, {0.7, 0.8}}>>
  return
}

// -----

func.func @expressed_mismatch(%x: tensor<4xf16>) {
  // expected-error @+1 {{real element type 'f16' must be the expressed type 'f32'}}
  %q = lowbit.quantize %x : tensor<4xf16> -> tensor<4x!quant.uniform<i8:f32, 0.1>>
  return
}

// -----

func.func @shape_mismatch(%x: tensor<4xf32>) {
  // expected-error @+1 {{shapes [4] and [5] differ}}
  %q = lowbit.quantize %x : tensor<4xf32> -> tensor<5x!quant.uniform<i8:f32, 0.1>>
  return
}

// -----

func.func @dequantize_expressed(%q: tensor<4x!quant.uniform<i8:f32, 0.1>>) {
  // expected-error @+1 {{'lowbit.dequantize' op real element type 'f64' must be the expressed type 'f32'}}
  %x = lowbit.dequantize %q : tensor<4x!quant.uniform<i8:f32, 0.1>> -> tensor<4xf64>
  return
}

// -----

func.func @dequantize_not_quantized(%q: tensor<4xi8>) {
  // expected-error @+1 {{'lowbit.dequantize' op input must have a quantized element type}}
  %x = lowbit.dequantize %q : tensor<4xi8> -> tensor<4xf32>
  return
}

// -----

func.func @constant_shape() {
  // expected-error @+1 {{'lowbit.constant' op value shape [2] differs from the result shape [3]}}
  %c = lowbit.constant dense<[1, 2]> : tensor<2xi8> -> tensor<3x!quant.uniform<i8:f32, 0.1>>
  return
}

// -----

func.func @constant_plain_type() {
  // expected-error @+1 {{value element type 'i8' differs from the result's 'i32'}}
  %c = lowbit.constant dense<[1, 2]> : tensor<2xi8> -> tensor<2xi32>
  return
}

// -----

func.func @constant_storage_width() {
  // expected-error @+1 {{value must hold i8 stored integers for '!quant.uniform<i8:f32, 1.000000e-01>', got 'i16'}}
  %c = lowbit.constant dense<[1, 2]> : tensor<2xi16> -> tensor<2x!quant.uniform<i8:f32, 0.1>>
  return
}

// -----

func.func @constant_signedness() {
  // expected-error @+1 {{value must hold ui8 stored integers}}
  %c = lowbit.constant dense<[1, 2]> : tensor<2xsi8> -> tensor<2x!quant.uniform<u8:f32, 0.1>>
  return
}

// -----

func.func @constant_narrow_range() {
  // expected-error @+1 {{stored value -128 is outside the storage range [-127, 127]}}
  %c = lowbit.constant dense<[-128, 2]> : tensor<2xi8> -> tensor<2x!quant.uniform<i8<-127:127>:f32, 0.1>>
  return
}

// -----

func.func @bitcast_float(%x: tensor<4xf32>) {
  // expected-error @+1 {{'lowbit.bitcast' op reinterprets integer or quantized tensors only, got 'f32' -> 'i32'}}
  %y = lowbit.bitcast %x : tensor<4xf32> -> tensor<4xi32>
  return
}

// -----

func.func @bitcast_width(%x: tensor<4xui8>) {
  // expected-error @+1 {{storage widths differ: 8 bits vs 16 bits}}
  %y = lowbit.bitcast %x : tensor<4xui8> -> tensor<4x!quant.uniform<u16:f32, 0.1>>
  return
}

// -----

func.func @bitcast_shape(%x: tensor<4xui8>) {
  // expected-error @+1 {{shapes [4] and [2, 2] differ}}
  %y = lowbit.bitcast %x : tensor<4xui8> -> tensor<2x2x!quant.uniform<u8:f32, 0.1>>
  return
}
