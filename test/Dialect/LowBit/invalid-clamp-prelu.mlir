// RUN: lowbit-opt %s --split-input-file --verify-diagnostics

func.func @clamp_float(%x: tensor<4xf32>) {
  // expected-error @+1 {{'lowbit.clamp' op operates on quantized or integer tensors, got 'f32'}}
  %c = lowbit.clamp %x {min = 0 : i64, max = 6 : i64} : tensor<4xf32>
  return
}

// -----

func.func @clamp_range(%x: tensor<4x!quant.uniform<i4:f32, 0.1>>) {
  // expected-error @+1 {{saturation range [0, 8] exceeds the storage range [-8, 7]}}
  %c = lowbit.clamp %x {min = 0 : i64, max = 8 : i64} : tensor<4x!quant.uniform<i4:f32, 0.1>>
  return
}

// -----

func.func @clamp_empty(%x: tensor<4xi8>) {
  // expected-error @+1 {{saturation range [6, 0] is empty}}
  %c = lowbit.clamp %x {min = 6 : i64, max = 0 : i64} : tensor<4xi8>
  return
}

// -----

func.func @clamp_wide_storage(%x: tensor<4x!quant.uniform<i32:f32, 0.1>>) {
  // expected-error @+1 {{input storage must be 2 to 16 bits wide, got 32}}
  %c = lowbit.clamp %x {min = 0 : i64, max = 6 : i64} : tensor<4x!quant.uniform<i32:f32, 0.1>>
  return
}

// -----

func.func @prelu_expressed(%x: tensor<4x!quant.uniform<i8:f16, 0.1>>) {
  // expected-error @+1 {{'lowbit.prelu' op input and result expressed types differ}}
  %p = lowbit.prelu %x {pos_multiplier = 1073741824 : i32, pos_shift = 30 : i32, neg_multiplier = array<i32: 1073741824>, neg_shift = array<i32: 33>} : tensor<4x!quant.uniform<i8:f16, 0.1>> -> tensor<4x!quant.uniform<i8:f32, 0.1>>
  return
}

// -----

func.func @prelu_shape(%x: tensor<4x!quant.uniform<i8:f32, 0.1>>) {
  // expected-error @+1 {{input shape [4] differs from the result shape [2, 2]}}
  %p = lowbit.prelu %x {pos_multiplier = 1073741824 : i32, pos_shift = 30 : i32, neg_multiplier = array<i32: 1073741824>, neg_shift = array<i32: 33>} : tensor<4x!quant.uniform<i8:f32, 0.1>> -> tensor<2x2x!quant.uniform<i8:f32, 0.1>>
  return
}

// -----

func.func @prelu_pos(%x: tensor<4x!quant.uniform<i8:f32, 0.1>>) {
  // expected-error @+1 {{positive shift 64 is outside [2, 62]}}
  %p = lowbit.prelu %x {pos_multiplier = 1073741824 : i32, pos_shift = 64 : i32, neg_multiplier = array<i32: 1073741824>, neg_shift = array<i32: 33>} : tensor<4x!quant.uniform<i8:f32, 0.1>> -> tensor<4x!quant.uniform<i8:f32, 0.1>>
  return
}

// -----

// Negative slopes are negative multipliers, but -2^31 is out of range.
func.func @prelu_negative_slope(%x: tensor<4x!quant.uniform<i8:f32, 0.1>>) {
  // expected-error @+1 {{negative multiplier -2147483648 is outside (-2^31, 2^31)}}
  %p = lowbit.prelu %x {pos_multiplier = 1073741824 : i32, pos_shift = 30 : i32, neg_multiplier = array<i32: -2147483648>, neg_shift = array<i32: 33>} : tensor<4x!quant.uniform<i8:f32, 0.1>> -> tensor<4x!quant.uniform<i8:f32, 0.1>>
  return
}

// -----

func.func @prelu_channels(%x: tensor<1x3x!quant.uniform<i8:f32, 0.1>>) {
  // expected-error @+1 {{has 2 negative multipliers for axis 1 of size 3}}
  %p = lowbit.prelu %x {pos_multiplier = 1073741824 : i32, pos_shift = 30 : i32, neg_multiplier = array<i32: 1, 2>, neg_shift = array<i32: 33, 33>, axis = 1 : i64} : tensor<1x3x!quant.uniform<i8:f32, 0.1>> -> tensor<1x3x!quant.uniform<i8:f32, 0.1>>
  return
}

// -----

func.func @prelu_per_axis(%x: tensor<2x!quant.uniform<i8:f32:0, {0.1, 0.2}>>) {
  // expected-error @+1 {{input must be quantized per tensor}}
  %p = lowbit.prelu %x {pos_multiplier = 1073741824 : i32, pos_shift = 30 : i32, neg_multiplier = array<i32: 1>, neg_shift = array<i32: 33>} : tensor<2x!quant.uniform<i8:f32:0, {0.1, 0.2}>> -> tensor<2x!quant.uniform<i8:f32, 0.1>>
  return
}

// -----

func.func @prelu_pos_negative(%x: tensor<4x!quant.uniform<i8:f32, 0.1>>) {
  // expected-error @+1 {{positive multiplier -2 is outside [0, 2^31)}}
  %p = lowbit.prelu %x {pos_multiplier = -2 : i32, pos_shift = 30 : i32, neg_multiplier = array<i32: 1073741824>, neg_shift = array<i32: 33>} : tensor<4x!quant.uniform<i8:f32, 0.1>> -> tensor<4x!quant.uniform<i8:f32, 0.1>>
  return
}

// -----

func.func @clamp_too_wide(%x: tensor<4xi128>) {
  // expected-error @+1 {{cannot saturate to 'i128'}}
  %c = lowbit.clamp %x {min = 0 : i64, max = 6 : i64} : tensor<4xi128>
  return
}
