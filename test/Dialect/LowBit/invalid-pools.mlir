// RUN: lowbit-opt %s --split-input-file --verify-diagnostics

func.func @rank(%x: tensor<8x8x4x!quant.uniform<i8:f32, 0.1>>) {
  // expected-error @+1 {{'lowbit.max_pool' op input and result must be NHWC (rank 4)}}
  %p = lowbit.max_pool %x {kernel = array<i64: 2, 2>} : tensor<8x8x4x!quant.uniform<i8:f32, 0.1>> -> tensor<7x7x4x!quant.uniform<i8:f32, 0.1>>
  return
}

// -----

func.func @types(%x: tensor<1x8x8x4x!quant.uniform<i8:f32, 0.1>>) {
  // expected-error @+1 {{input element type '!quant.uniform<i8:f32, 1.000000e-01>' differs from the result's '!quant.uniform<i8:f32, 2.000000e-01>'}}
  %p = lowbit.max_pool %x {kernel = array<i64: 2, 2>} : tensor<1x8x8x4x!quant.uniform<i8:f32, 0.1>> -> tensor<1x7x7x4x!quant.uniform<i8:f32, 0.2>>
  return
}

// -----

func.func @float(%x: tensor<1x8x8x4xf32>) {
  // expected-error @+1 {{operates on quantized or integer tensors, got 'f32'}}
  %p = lowbit.max_pool %x {kernel = array<i64: 2, 2>} : tensor<1x8x8x4xf32> -> tensor<1x7x7x4xf32>
  return
}

// -----

func.func @kernel(%x: tensor<1x8x8x4x!quant.uniform<i8:f32, 0.1>>) {
  // expected-error @+1 {{'kernel' must have 2 values, got 3}}
  %p = lowbit.max_pool %x {kernel = array<i64: 2, 2, 2>} : tensor<1x8x8x4x!quant.uniform<i8:f32, 0.1>> -> tensor<1x7x7x4x!quant.uniform<i8:f32, 0.1>>
  return
}

// -----

func.func @pad_ge_kernel(%x: tensor<1x8x8x4x!quant.uniform<i8:f32, 0.1>>) {
  // expected-error @+1 {{padding [2, 0, 0, 0] must be smaller than the kernel [2, 2]}}
  %p = lowbit.max_pool %x {kernel = array<i64: 2, 2>, pad = array<i64: 2, 0, 0, 0>} : tensor<1x8x8x4x!quant.uniform<i8:f32, 0.1>> -> tensor<1x9x7x4x!quant.uniform<i8:f32, 0.1>>
  return
}

// -----

func.func @shape(%x: tensor<1x8x8x4x!quant.uniform<i8:f32, 0.1>>) {
  // expected-error @+1 {{result shape [1, 8, 8, 4] does not match the expected [1, 4, 4, 4]}}
  %p = lowbit.max_pool %x {kernel = array<i64: 2, 2>, stride = array<i64: 2, 2>} : tensor<1x8x8x4x!quant.uniform<i8:f32, 0.1>> -> tensor<1x8x8x4x!quant.uniform<i8:f32, 0.1>>
  return
}

// -----

func.func @avg_stride(%x: tensor<1x8x8x4x!quant.uniform<i8:f32, 0.1>>) {
  // expected-error @+1 {{'lowbit.avg_pool' op 'stride' values must be >= 1, got [1, -1]}}
  %p = lowbit.avg_pool %x {kernel = array<i64: 2, 2>, stride = array<i64: 1, -1>} : tensor<1x8x8x4x!quant.uniform<i8:f32, 0.1>> -> tensor<1x7x7x4x!quant.uniform<i8:f32, 0.1>>
  return
}

// -----

func.func @avg_window(%x: tensor<1x2x8x4x!quant.uniform<i8:f32, 0.1>>) {
  // expected-error @+1 {{window of 3 along height does not fit the padded input of 2}}
  %p = lowbit.avg_pool %x {kernel = array<i64: 3, 3>} : tensor<1x2x8x4x!quant.uniform<i8:f32, 0.1>> -> tensor<1x1x6x4x!quant.uniform<i8:f32, 0.1>>
  return
}

// -----

func.func @avg_per_axis(%x: tensor<1x8x8x2x!quant.uniform<i8:f32:3, {0.1, 0.2}>>) {
  // expected-error @+1 {{input must be quantized per tensor}}
  %p = lowbit.avg_pool %x {kernel = array<i64: 2, 2>} : tensor<1x8x8x2x!quant.uniform<i8:f32:3, {0.1, 0.2}>> -> tensor<1x7x7x2x!quant.uniform<i8:f32:3, {0.1, 0.2}>>
  return
}

// -----

func.func @gap_rank(%x: tensor<8x8x4x!quant.uniform<i8:f32, 0.1>>) {
  // expected-error @+1 {{'lowbit.global_avg_pool' op input and result must be NHWC (rank 4)}}
  %p = lowbit.global_avg_pool %x : tensor<8x8x4x!quant.uniform<i8:f32, 0.1>> -> tensor<1x1x4x!quant.uniform<i8:f32, 0.1>>
  return
}

// -----

func.func @gap_types(%x: tensor<1x8x8x4x!quant.uniform<i8:f32, 0.1>>) {
  // expected-error @+1 {{input element type '!quant.uniform<i8:f32, 1.000000e-01>' differs from the result's 'i8'}}
  %p = lowbit.global_avg_pool %x : tensor<1x8x8x4x!quant.uniform<i8:f32, 0.1>> -> tensor<1x1x1x4xi8>
  return
}

// -----

func.func @gap_float(%x: tensor<1x8x8x4xf32>) {
  // expected-error @+1 {{operates on quantized or integer tensors, got 'f32'}}
  %p = lowbit.global_avg_pool %x : tensor<1x8x8x4xf32> -> tensor<1x1x1x4xf32>
  return
}

// -----

func.func @gap_shape(%x: tensor<2x8x8x4x!quant.uniform<i8:f32, 0.1>>) {
  // expected-error @+1 {{result shape [2, 1, 1, 8] does not match the expected [2, 1, 1, 4]}}
  %p = lowbit.global_avg_pool %x : tensor<2x8x8x4x!quant.uniform<i8:f32, 0.1>> -> tensor<2x1x1x8x!quant.uniform<i8:f32, 0.1>>
  return
}

// -----

func.func @gap_per_axis(%x: tensor<1x8x8x2x!quant.uniform<i8:f32:3, {0.1, 0.2}>>) {
  // expected-error @+1 {{input must be quantized per tensor}}
  %p = lowbit.global_avg_pool %x : tensor<1x8x8x2x!quant.uniform<i8:f32:3, {0.1, 0.2}>> -> tensor<1x1x1x2x!quant.uniform<i8:f32:3, {0.1, 0.2}>>
  return
}
