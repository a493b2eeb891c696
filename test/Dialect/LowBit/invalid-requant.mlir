// RUN: lowbit-opt %s --split-input-file --verify-diagnostics

func.func @float_input(%acc: tensor<4xf32>) {
  // expected-error @+1 {{'lowbit.requant' op input must be a signless integer accumulator (at most 64 bits) or a quantized tensor, got 'f32'}}
  %y = lowbit.requant %acc {multiplier = array<i32: 1073741824>, shift = array<i32: 30>} : tensor<4xf32> -> tensor<4x!quant.uniform<i8:f32, 0.1>>
  return
}

// -----

func.func @unsigned_accumulator(%acc: tensor<4xui32>) {
  // expected-error @+1 {{input must be a signless integer accumulator}}
  %y = lowbit.requant %acc {multiplier = array<i32: 1073741824>, shift = array<i32: 30>} : tensor<4xui32> -> tensor<4x!quant.uniform<i8:f32, 0.1>>
  return
}

// -----

func.func @plain_result(%acc: tensor<4xi32>) {
  // expected-error @+1 {{result must have a quantized element type, got 'tensor<4xi8>'}}
  %y = lowbit.requant %acc {multiplier = array<i32: 1073741824>, shift = array<i32: 30>} : tensor<4xi32> -> tensor<4xi8>
  return
}

// -----

func.func @per_axis_result(%acc: tensor<2xi32>) {
  // expected-error @+1 {{result must be quantized per tensor}}
  %y = lowbit.requant %acc {multiplier = array<i32: 1073741824>, shift = array<i32: 30>} : tensor<2xi32> -> tensor<2x!quant.uniform<i8:f32:0, {0.1, 0.2}>>
  return
}

// -----

func.func @expressed(%x: tensor<4x!quant.uniform<i8:f16, 0.1>>) {
  // expected-error @+1 {{input and result expressed types differ}}
  %y = lowbit.requant %x {multiplier = array<i32: 1073741824>, shift = array<i32: 30>} : tensor<4x!quant.uniform<i8:f16, 0.1>> -> tensor<4x!quant.uniform<i8:f32, 0.1>>
  return
}

// -----

func.func @shape(%acc: tensor<4xi32>) {
  // expected-error @+1 {{input shape [4] differs from the result shape [4, 1]}}
  %y = lowbit.requant %acc {multiplier = array<i32: 1073741824>, shift = array<i32: 30>} : tensor<4xi32> -> tensor<4x1x!quant.uniform<i8:f32, 0.1>>
  return
}

// -----

func.func @negative_multiplier(%acc: tensor<4xi32>) {
  // expected-error @+1 {{positive multiplier -5 is outside [0, 2^31)}}
  %y = lowbit.requant %acc {multiplier = array<i32: -5>, shift = array<i32: 30>} : tensor<4xi32> -> tensor<4x!quant.uniform<i8:f32, 0.1>>
  return
}

// -----

func.func @shift_low(%acc: tensor<4xi32>) {
  // expected-error @+1 {{positive shift 1 is outside [2, 62]}}
  %y = lowbit.requant %acc {multiplier = array<i32: 1073741824>, shift = array<i32: 1>} : tensor<4xi32> -> tensor<4x!quant.uniform<i8:f32, 0.1>>
  return
}

// -----

func.func @shift_high(%acc: tensor<4xi32>) {
  // expected-error @+1 {{positive shift 63 is outside [2, 62]}}
  %y = lowbit.requant %acc {multiplier = array<i32: 1073741824>, shift = array<i32: 63>} : tensor<4xi32> -> tensor<4x!quant.uniform<i8:f32, 0.1>>
  return
}

// -----

func.func @empty(%acc: tensor<4xi32>) {
  // expected-error @+1 {{needs at least one positive multiplier}}
  %y = lowbit.requant %acc {multiplier = array<i32>, shift = array<i32>} : tensor<4xi32> -> tensor<4x!quant.uniform<i8:f32, 0.1>>
  return
}

// -----

func.func @count(%acc: tensor<4xi32>) {
  // expected-error @+1 {{has 2 positive multipliers but 1 shifts}}
  %y = lowbit.requant %acc {multiplier = array<i32: 1, 2>, shift = array<i32: 30>, axis = 0 : i64} : tensor<4xi32> -> tensor<4x!quant.uniform<i8:f32, 0.1>>
  return
}

// -----

func.func @no_axis(%acc: tensor<2xi32>) {
  // expected-error @+1 {{has 2 positive multipliers but no 'axis' to apply them on}}
  %y = lowbit.requant %acc {multiplier = array<i32: 1, 2>, shift = array<i32: 30, 30>} : tensor<2xi32> -> tensor<2x!quant.uniform<i8:f32, 0.1>>
  return
}

// -----

func.func @axis_range(%acc: tensor<2xi32>) {
  // expected-error @+1 {{axis 1 is out of range for rank 1}}
  %y = lowbit.requant %acc {multiplier = array<i32: 1, 2>, shift = array<i32: 30, 30>, axis = 1 : i64} : tensor<2xi32> -> tensor<2x!quant.uniform<i8:f32, 0.1>>
  return
}

// -----

func.func @axis_size(%acc: tensor<1x3xi32>) {
  // expected-error @+1 {{has 2 positive multipliers for axis 1 of size 3}}
  %y = lowbit.requant %acc {multiplier = array<i32: 1, 2>, shift = array<i32: 30, 30>, axis = 1 : i64} : tensor<1x3xi32> -> tensor<1x3x!quant.uniform<i8:f32, 0.1>>
  return
}

// -----

func.func @neg_pair(%acc: tensor<4xi32>) {
  // expected-error @+1 {{'neg_multiplier' and 'neg_shift' must be given together}}
  %y = lowbit.requant %acc {multiplier = array<i32: 1073741824>, shift = array<i32: 30>, neg_multiplier = array<i32: 1073741824>} : tensor<4xi32> -> tensor<4x!quant.uniform<i8:f32, 0.1>>
  return
}

// -----

func.func @neg_count(%acc: tensor<1x2xi32>) {
  // expected-error @+1 {{has 1 negative multipliers but 2 positive ones}}
  %y = lowbit.requant %acc {multiplier = array<i32: 1, 2>, shift = array<i32: 30, 30>, axis = 1 : i64, neg_multiplier = array<i32: 1>, neg_shift = array<i32: 30>} : tensor<1x2xi32> -> tensor<1x2x!quant.uniform<i8:f32, 0.1>>
  return
}

// -----

func.func @neg_shift(%acc: tensor<4xi32>) {
  // expected-error @+1 {{negative shift 70 is outside [2, 62]}}
  %y = lowbit.requant %acc {multiplier = array<i32: 1073741824>, shift = array<i32: 30>, neg_multiplier = array<i32: 1073741824>, neg_shift = array<i32: 70>} : tensor<4xi32> -> tensor<4x!quant.uniform<i8:f32, 0.1>>
  return
}

// -----

func.func @saturation_outside(%acc: tensor<4xi32>) {
  // expected-error @+1 {{saturation range [-200, 127] exceeds the storage range [-128, 127] of '!quant.uniform<i8:f32, 1.000000e-01>'}}
  %y = lowbit.requant %acc {multiplier = array<i32: 1073741824>, shift = array<i32: 30>, min = -200 : i64} : tensor<4xi32> -> tensor<4x!quant.uniform<i8:f32, 0.1>>
  return
}

// -----

func.func @saturation_unsigned(%acc: tensor<4xi32>) {
  // expected-error @+1 {{saturation range [0, 256] exceeds the storage range [0, 255]}}
  %y = lowbit.requant %acc {multiplier = array<i32: 1073741824>, shift = array<i32: 30>, max = 256 : i64} : tensor<4xi32> -> tensor<4x!quant.uniform<u8:f32, 0.1:128>>
  return
}

// -----

func.func @saturation_empty(%acc: tensor<4xi32>) {
  // expected-error @+1 {{saturation range [5, 4] is empty}}
  %y = lowbit.requant %acc {multiplier = array<i32: 1073741824>, shift = array<i32: 30>, min = 5 : i64, max = 4 : i64} : tensor<4xi32> -> tensor<4x!quant.uniform<i4:f32, 0.1>>
  return
}
