// RUN: lowbit-opt %s --split-input-file --verify-diagnostics

func.func @expressed(%a: tensor<4x!quant.uniform<i8:f16, 0.1>>, %b: tensor<4x!quant.uniform<i8:f32, 0.1>>) {
  // expected-error @+1 {{'lowbit.add' op operands and result must share an expressed type}}
  %s = lowbit.add %a, %b {lhs_multiplier = 1073741824 : i32, lhs_shift = 30 : i32, rhs_multiplier = 1073741824 : i32, rhs_shift = 30 : i32, output_multiplier = 1073741824 : i32, output_shift = 30 : i32} : (tensor<4x!quant.uniform<i8:f16, 0.1>>, tensor<4x!quant.uniform<i8:f32, 0.1>>) -> tensor<4x!quant.uniform<i8:f32, 0.1>>
  return
}

// -----

func.func @shapes(%a: tensor<4x!quant.uniform<i8:f32, 0.1>>, %b: tensor<1x!quant.uniform<i8:f32, 0.1>>) {
  // expected-error @+1 {{operand shapes [4] and [1] must equal the result shape [4]}}
  %s = lowbit.add %a, %b {lhs_multiplier = 1073741824 : i32, lhs_shift = 30 : i32, rhs_multiplier = 1073741824 : i32, rhs_shift = 30 : i32, output_multiplier = 1073741824 : i32, output_shift = 30 : i32} : (tensor<4x!quant.uniform<i8:f32, 0.1>>, tensor<1x!quant.uniform<i8:f32, 0.1>>) -> tensor<4x!quant.uniform<i8:f32, 0.1>>
  return
}

// -----

func.func @input_shift(%a: tensor<4x!quant.uniform<i16:f32, 0.1>>, %b: tensor<4x!quant.uniform<i8:f32, 0.1>>) {
  // expected-error @+1 {{input_shift 16 must be in [0, 15] for 16-bit inputs}}
  %s = lowbit.add %a, %b {input_shift = 16 : i32, lhs_multiplier = 1073741824 : i32, lhs_shift = 30 : i32, rhs_multiplier = 1073741824 : i32, rhs_shift = 30 : i32, output_multiplier = 1073741824 : i32, output_shift = 30 : i32} : (tensor<4x!quant.uniform<i16:f32, 0.1>>, tensor<4x!quant.uniform<i8:f32, 0.1>>) -> tensor<4x!quant.uniform<i8:f32, 0.1>>
  return
}

// -----

func.func @lhs_multiplier(%a: tensor<4x!quant.uniform<i8:f32, 0.1>>, %b: tensor<4x!quant.uniform<i8:f32, 0.1>>) {
  // expected-error @+1 {{lhs multiplier -1 is outside [0, 2^31)}}
  %s = lowbit.add %a, %b {lhs_multiplier = -1 : i32, lhs_shift = 30 : i32, rhs_multiplier = 1073741824 : i32, rhs_shift = 30 : i32, output_multiplier = 1073741824 : i32, output_shift = 30 : i32} : (tensor<4x!quant.uniform<i8:f32, 0.1>>, tensor<4x!quant.uniform<i8:f32, 0.1>>) -> tensor<4x!quant.uniform<i8:f32, 0.1>>
  return
}

// -----

func.func @rhs_shift(%a: tensor<4x!quant.uniform<i8:f32, 0.1>>, %b: tensor<4x!quant.uniform<i8:f32, 0.1>>) {
  // expected-error @+1 {{rhs shift 0 is outside [2, 62]}}
  %s = lowbit.add %a, %b {lhs_multiplier = 1 : i32, lhs_shift = 30 : i32, rhs_multiplier = 1073741824 : i32, rhs_shift = 0 : i32, output_multiplier = 1073741824 : i32, output_shift = 30 : i32} : (tensor<4x!quant.uniform<i8:f32, 0.1>>, tensor<4x!quant.uniform<i8:f32, 0.1>>) -> tensor<4x!quant.uniform<i8:f32, 0.1>>
  return
}

// -----

func.func @output_shift(%a: tensor<4x!quant.uniform<i8:f32, 0.1>>, %b: tensor<4x!quant.uniform<i8:f32, 0.1>>) {
  // expected-error @+1 {{output shift 99 is outside [2, 62]}}
  %s = lowbit.add %a, %b {lhs_multiplier = 1 : i32, lhs_shift = 30 : i32, rhs_multiplier = 1073741824 : i32, rhs_shift = 30 : i32, output_multiplier = 1073741824 : i32, output_shift = 99 : i32} : (tensor<4x!quant.uniform<i8:f32, 0.1>>, tensor<4x!quant.uniform<i8:f32, 0.1>>) -> tensor<4x!quant.uniform<i8:f32, 0.1>>
  return
}

// -----

func.func @saturation(%a: tensor<4x!quant.uniform<i8:f32, 0.1>>, %b: tensor<4x!quant.uniform<i8:f32, 0.1>>) {
  // expected-error @+1 {{saturation range [-128, 300] exceeds the storage range [-128, 127]}}
  %s = lowbit.add %a, %b {lhs_multiplier = 1 : i32, lhs_shift = 30 : i32, rhs_multiplier = 1073741824 : i32, rhs_shift = 30 : i32, output_multiplier = 1073741824 : i32, output_shift = 30 : i32, max = 300 : i64} : (tensor<4x!quant.uniform<i8:f32, 0.1>>, tensor<4x!quant.uniform<i8:f32, 0.1>>) -> tensor<4x!quant.uniform<i8:f32, 0.1>>
  return
}

// -----

func.func @float_operand(%a: tensor<4xf32>, %b: tensor<4x!quant.uniform<i8:f32, 0.1>>) {
  // expected-error @+1 {{lhs must have a quantized element type}}
  %s = lowbit.add %a, %b {lhs_multiplier = 1 : i32, lhs_shift = 30 : i32, rhs_multiplier = 1073741824 : i32, rhs_shift = 30 : i32, output_multiplier = 1073741824 : i32, output_shift = 30 : i32} : (tensor<4xf32>, tensor<4x!quant.uniform<i8:f32, 0.1>>) -> tensor<4x!quant.uniform<i8:f32, 0.1>>
  return
}

// -----

func.func @negative_input_shift(%a: tensor<4x!quant.uniform<i8:f32, 0.1>>, %b: tensor<4x!quant.uniform<i8:f32, 0.1>>) {
  // expected-error @+1 {{input_shift -1 must be in [0, 23] for 8-bit inputs}}
  %s = lowbit.add %a, %b {input_shift = -1 : i32, lhs_multiplier = 1 : i32, lhs_shift = 30 : i32, rhs_multiplier = 1073741824 : i32, rhs_shift = 30 : i32, output_multiplier = 1073741824 : i32, output_shift = 30 : i32} : (tensor<4x!quant.uniform<i8:f32, 0.1>>, tensor<4x!quant.uniform<i8:f32, 0.1>>) -> tensor<4x!quant.uniform<i8:f32, 0.1>>
  return
}
