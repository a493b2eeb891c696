// RUN: lowbit-opt %s --split-input-file --verify-diagnostics

func.func @input_rank(%x: tensor<1x1x64x!quant.uniform<i8:f32, 0.02:-4>>, %w: tensor<10x64x!quant.uniform<i8:f32, 0.01>>) {
  // expected-error @+1 {{'lowbit.fully_connected' op input must be [N, I] (rank 2)}}
  %a = lowbit.fully_connected %x, %w : (tensor<1x1x64x!quant.uniform<i8:f32, 0.02:-4>>, tensor<10x64x!quant.uniform<i8:f32, 0.01>>) -> tensor<1x10xi32>
  return
}

// -----

func.func @result_rank(%x: tensor<1x64x!quant.uniform<i8:f32, 0.02:-4>>, %w: tensor<10x64x!quant.uniform<i8:f32, 0.01>>) {
  // expected-error @+1 {{result must be [N, O] (rank 2)}}
  %a = lowbit.fully_connected %x, %w : (tensor<1x64x!quant.uniform<i8:f32, 0.02:-4>>, tensor<10x64x!quant.uniform<i8:f32, 0.01>>) -> tensor<10xi32>
  return
}

// -----

func.func @features(%x: tensor<1x64x!quant.uniform<i8:f32, 0.02:-4>>, %w: tensor<10x32x!quant.uniform<i8:f32, 0.01>>) {
  // expected-error @+1 {{weight has 32 input features, input has 64}}
  %a = lowbit.fully_connected %x, %w : (tensor<1x64x!quant.uniform<i8:f32, 0.02:-4>>, tensor<10x32x!quant.uniform<i8:f32, 0.01>>) -> tensor<1x10xi32>
  return
}

// -----

func.func @result_shape(%x: tensor<2x64x!quant.uniform<i8:f32, 0.02:-4>>, %w: tensor<10x64x!quant.uniform<i8:f32, 0.01>>) {
  // expected-error @+1 {{result shape [2, 12] does not match the expected [2, 10]}}
  %a = lowbit.fully_connected %x, %w : (tensor<2x64x!quant.uniform<i8:f32, 0.02:-4>>, tensor<10x64x!quant.uniform<i8:f32, 0.01>>) -> tensor<2x12xi32>
  return
}

// -----

func.func @accumulator(%x: tensor<2x64x!quant.uniform<i8:f32, 0.02:-4>>, %w: tensor<10x64x!quant.uniform<i8:f32, 0.01>>) {
  // expected-error @+1 {{accumulator type must be i32 or i64, got 'f32'}}
  %a = lowbit.fully_connected %x, %w : (tensor<2x64x!quant.uniform<i8:f32, 0.02:-4>>, tensor<10x64x!quant.uniform<i8:f32, 0.01>>) -> tensor<2x10xf32>
  return
}

// -----

func.func @bias(%x: tensor<2x64x!quant.uniform<i8:f32, 0.02:-4>>, %w: tensor<10x64x!quant.uniform<i8:f32, 0.01>>, %b: tensor<64xi32>) {
  // expected-error @+1 {{bias has 64 elements for 10 output channels}}
  %a = lowbit.fully_connected %x, %w, %b : (tensor<2x64x!quant.uniform<i8:f32, 0.02:-4>>, tensor<10x64x!quant.uniform<i8:f32, 0.01>>, tensor<64xi32>) -> tensor<2x10xi32>
  return
}

// -----

func.func @stlq_mask(%x: tensor<2x64x!quant.uniform<i8:f32, 0.02:-4>>, %w: tensor<2x10x64xi3>) {
  // expected-error @+1 {{STLQ mask shape [1, 1] does not match the tiling of weights [10, 64] by tile [Tn = 16, Tm = 16], expected [1, 4]}}
  %a = lowbit.fully_connected %x, %w {weight_encoding = #lowbit.stlq<bits = 3, scale = 1.0, tile = [16, 16], mask = dense<true> : tensor<1x1xi1>>} : (tensor<2x64x!quant.uniform<i8:f32, 0.02:-4>>, tensor<2x10x64xi3>) -> tensor<2x10xi32>
  return
}

// -----

func.func @log_signed_codes(%x: tensor<2x64x!quant.uniform<i8:f32, 0.02:-4>>, %w: tensor<10x64xsi4>) {
  // expected-error @+1 {{log-encoded weights must be i4 codes, got 'si4'}}
  %a = lowbit.fully_connected %x, %w {weight_encoding = #lowbit.log<bits = 4, scale = 1.0>} : (tensor<2x64x!quant.uniform<i8:f32, 0.02:-4>>, tensor<10x64xsi4>) -> tensor<2x10xi32>
  return
}
