// RUN: lowbit-opt %s --split-input-file --verify-diagnostics

func.func @reshape_type(%x: tensor<4x!quant.uniform<i8:f32, 0.1>>) {
  // expected-error @+1 {{'lowbit.reshape' op element type '!quant.uniform<i8:f32, 1.000000e-01>' differs from the result's '!quant.uniform<i8:f32, 2.000000e-01>'}}
  %r = lowbit.reshape %x : tensor<4x!quant.uniform<i8:f32, 0.1>> -> tensor<2x2x!quant.uniform<i8:f32, 0.2>>
  return
}

// -----

func.func @reshape_per_axis(%x: tensor<2x2x!quant.uniform<i8:f32:1, {0.1, 0.2}>>) {
  // expected-error @+1 {{cannot reshape a tensor quantized per axis or per block}}
  %r = lowbit.reshape %x : tensor<2x2x!quant.uniform<i8:f32:1, {0.1, 0.2}>> -> tensor<4x!quant.uniform<i8:f32:1, {0.1, 0.2}>>
  return
}

// -----

func.func @reshape_count(%x: tensor<4x!quant.uniform<i8:f32, 0.1>>) {
  // expected-error @+1 {{cannot reshape 4 elements [4] into 6 [2, 3]}}
  %r = lowbit.reshape %x : tensor<4x!quant.uniform<i8:f32, 0.1>> -> tensor<2x3x!quant.uniform<i8:f32, 0.1>>
  return
}

// -----

func.func @concat_empty() {
  // expected-error @+1 {{'lowbit.concat' op needs at least one input}}
  %c = lowbit.concat() {axis = 0 : i64} : () -> tensor<4x!quant.uniform<i8:f32, 0.1>>
  return
}

// -----

func.func @concat_axis(%a: tensor<4x!quant.uniform<i8:f32, 0.1>>) {
  // expected-error @+1 {{axis 1 is out of range for rank 1}}
  %c = lowbit.concat(%a) {axis = 1 : i64} : (tensor<4x!quant.uniform<i8:f32, 0.1>>) -> tensor<4x!quant.uniform<i8:f32, 0.1>>
  return
}

// -----

func.func @concat_scale(%a: tensor<4x!quant.uniform<i8:f32, 0.1>>, %b: tensor<4x!quant.uniform<i8:f32, 0.2>>) {
  // expected-error @+1 {{input 1 element type '!quant.uniform<i8:f32, 2.000000e-01>' differs from the result's '!quant.uniform<i8:f32, 1.000000e-01>' (concat needs one common quantization)}}
  %c = lowbit.concat(%a, %b) {axis = 0 : i64} : (tensor<4x!quant.uniform<i8:f32, 0.1>>, tensor<4x!quant.uniform<i8:f32, 0.2>>) -> tensor<8x!quant.uniform<i8:f32, 0.1>>
  return
}

// -----

func.func @concat_rank(%a: tensor<4x!quant.uniform<i8:f32, 0.1>>, %b: tensor<4x1x!quant.uniform<i8:f32, 0.1>>) {
  // expected-error @+1 {{input 1 has rank 2, result has rank 1}}
  %c = lowbit.concat(%a, %b) {axis = 0 : i64} : (tensor<4x!quant.uniform<i8:f32, 0.1>>, tensor<4x1x!quant.uniform<i8:f32, 0.1>>) -> tensor<8x!quant.uniform<i8:f32, 0.1>>
  return
}

// -----

func.func @concat_other_dim(%a: tensor<1x4x!quant.uniform<i8:f32, 0.1>>, %b: tensor<2x4x!quant.uniform<i8:f32, 0.1>>) {
  // expected-error @+1 {{input 1 shape [2, 4] differs from the result shape [1, 8] outside axis 1}}
  %c = lowbit.concat(%a, %b) {axis = 1 : i64} : (tensor<1x4x!quant.uniform<i8:f32, 0.1>>, tensor<2x4x!quant.uniform<i8:f32, 0.1>>) -> tensor<1x8x!quant.uniform<i8:f32, 0.1>>
  return
}

// -----

func.func @concat_per_axis(%a: tensor<2x!quant.uniform<i8:f32:0, {0.1, 0.2}>>) {
  // expected-error @+1 {{cannot concatenate tensors quantized per axis or per block}}
  %c = lowbit.concat(%a) {axis = 0 : i64} : (tensor<2x!quant.uniform<i8:f32:0, {0.1, 0.2}>>) -> tensor<2x!quant.uniform<i8:f32:0, {0.1, 0.2}>>
  return
}

// -----

func.func @concat_sum(%a: tensor<4x!quant.uniform<i8:f32, 0.1>>, %b: tensor<3x!quant.uniform<i8:f32, 0.1>>) {
  // expected-error @+1 {{inputs add up to 7 along axis 0, result has 8}}
  %c = lowbit.concat(%a, %b) {axis = 0 : i64} : (tensor<4x!quant.uniform<i8:f32, 0.1>>, tensor<3x!quant.uniform<i8:f32, 0.1>>) -> tensor<8x!quant.uniform<i8:f32, 0.1>>
  return
}

// -----

func.func @transpose_not_permutation(%x: tensor<1x2x3x!quant.uniform<i8:f32, 0.1>>) {
  // expected-error @+1 {{perms is not a permutation of [0, 3)}}
  %t = lowbit.transpose %x {perms = array<i32: 0, 0, 1>} : tensor<1x2x3x!quant.uniform<i8:f32, 0.1>> -> tensor<1x1x2x!quant.uniform<i8:f32, 0.1>>
  return
}

// -----

func.func @transpose_bad_shape(%x: tensor<1x2x3x!quant.uniform<i8:f32, 0.1>>) {
  // expected-error @+1 {{result dimension 1 is 2 but input dimension 2 is 3}}
  %t = lowbit.transpose %x {perms = array<i32: 0, 2, 1>} : tensor<1x2x3x!quant.uniform<i8:f32, 0.1>> -> tensor<1x2x3x!quant.uniform<i8:f32, 0.1>>
  return
}

// -----

func.func @transpose_per_axis(%x: tensor<2x3x!quant.uniform<i8:f32:0, {0.1, 0.2}>>) {
  // expected-error @+1 {{cannot transpose a tensor quantized per axis or per block}}
  %t = lowbit.transpose %x {perms = array<i32: 1, 0>} : tensor<2x3x!quant.uniform<i8:f32:0, {0.1, 0.2}>> -> tensor<3x2x!quant.uniform<i8:f32:0, {0.1, 0.2}>>
  return
}

// -----

func.func @transpose_rank(%x: tensor<2x3x!quant.uniform<i8:f32, 0.1>>) {
  // expected-error @+1 {{perms has 3 entries for input rank 2 and result rank 2}}
  %t = lowbit.transpose %x {perms = array<i32: 1, 0, 2>} : tensor<2x3x!quant.uniform<i8:f32, 0.1>> -> tensor<3x2x!quant.uniform<i8:f32, 0.1>>
  return
}

// -----

func.func @slice_window(%x: tensor<1x4x!quant.uniform<i8:f32, 0.1>>) {
  // expected-error @+1 {{window [3, 5) of dimension 1 is outside the input shape [1, 4]}}
  %s = lowbit.slice %x {start = array<i64: 0, 3>} : tensor<1x4x!quant.uniform<i8:f32, 0.1>> -> tensor<1x2x!quant.uniform<i8:f32, 0.1>>
  return
}

// -----

func.func @slice_type(%x: tensor<1x4x!quant.uniform<i8:f32, 0.1>>) {
  // expected-error @+1 {{result element type '!quant.uniform<i8:f32, 2.000000e-01>' differs from the input's '!quant.uniform<i8:f32, 1.000000e-01>'}}
  %s = lowbit.slice %x {start = array<i64: 0, 0>} : tensor<1x4x!quant.uniform<i8:f32, 0.1>> -> tensor<1x2x!quant.uniform<i8:f32, 0.2>>
  return
}

// -----

func.func @slice_start_rank(%x: tensor<1x4x!quant.uniform<i8:f32, 0.1>>) {
  // expected-error @+1 {{start has 1 entries for rank 2}}
  %s = lowbit.slice %x {start = array<i64: 0>} : tensor<1x4x!quant.uniform<i8:f32, 0.1>> -> tensor<1x2x!quant.uniform<i8:f32, 0.1>>
  return
}

// -----

func.func @pad_value(%x: tensor<1x4x!quant.uniform<i8:f32, 0.1>>) {
  // expected-error @+1 {{pad_value 300 is outside the stored range [-128, 127]}}
  %p = lowbit.pad %x {padding = array<i64: 0, 0, 1, 1>, pad_value = 300 : i64} : tensor<1x4x!quant.uniform<i8:f32, 0.1>> -> tensor<1x6x!quant.uniform<i8:f32, 0.1>>
  return
}

// -----

func.func @pad_shape(%x: tensor<1x4x!quant.uniform<i8:f32, 0.1>>) {
  // expected-error @+1 {{result dimension 1 is 7 but the padded input's is 6}}
  %p = lowbit.pad %x {padding = array<i64: 0, 0, 1, 1>, pad_value = 0 : i64} : tensor<1x4x!quant.uniform<i8:f32, 0.1>> -> tensor<1x7x!quant.uniform<i8:f32, 0.1>>
  return
}

// -----

func.func @pad_negative(%x: tensor<1x4x!quant.uniform<i8:f32, 0.1>>) {
  // expected-error @+1 {{padding of dimension 1 is negative or absurdly large}}
  %p = lowbit.pad %x {padding = array<i64: 0, 0, -1, 1>, pad_value = 0 : i64} : tensor<1x4x!quant.uniform<i8:f32, 0.1>> -> tensor<1x4x!quant.uniform<i8:f32, 0.1>>
  return
}
