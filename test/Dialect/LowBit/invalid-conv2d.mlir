// RUN: lowbit-opt %s --split-input-file --verify-diagnostics

func.func @input_rank(%x: tensor<8x8x3x!quant.uniform<i8:f32, 0.02:-4>>, %w: tensor<4x3x3x3x!quant.uniform<i8:f32, 0.01>>) {
  // expected-error @+1 {{'lowbit.conv2d' op input must be NHWC (rank 4), got 'tensor<8x8x3x!quant.uniform<i8:f32, 2.000000e-02:-4>>'}}
  %a = lowbit.conv2d %x, %w : (tensor<8x8x3x!quant.uniform<i8:f32, 0.02:-4>>, tensor<4x3x3x3x!quant.uniform<i8:f32, 0.01>>) -> tensor<1x6x6x4xi32>
  return
}

// -----

func.func @result_rank(%x: tensor<1x8x8x3x!quant.uniform<i8:f32, 0.02:-4>>, %w: tensor<4x3x3x3x!quant.uniform<i8:f32, 0.01>>) {
  // expected-error @+1 {{result must be NHWC (rank 4)}}
  %a = lowbit.conv2d %x, %w : (tensor<1x8x8x3x!quant.uniform<i8:f32, 0.02:-4>>, tensor<4x3x3x3x!quant.uniform<i8:f32, 0.01>>) -> tensor<6x6x4xi32>
  return
}

// -----

func.func @per_axis_input(%x: tensor<1x8x8x2x!quant.uniform<i8:f32:3, {0.1, 0.2}>>, %w: tensor<4x3x3x2x!quant.uniform<i8:f32, 0.01>>) {
  // expected-error @+1 {{input must be quantized per tensor (one scale and zero point)}}
  %a = lowbit.conv2d %x, %w : (tensor<1x8x8x2x!quant.uniform<i8:f32:3, {0.1, 0.2}>>, tensor<4x3x3x2x!quant.uniform<i8:f32, 0.01>>) -> tensor<1x6x6x4xi32>
  return
}

// -----

func.func @float_input(%x: tensor<1x8x8x3xf32>, %w: tensor<4x3x3x3x!quant.uniform<i8:f32, 0.01>>) {
  // expected-error @+1 {{input must have a quantized element type}}
  %a = lowbit.conv2d %x, %w : (tensor<1x8x8x3xf32>, tensor<4x3x3x3x!quant.uniform<i8:f32, 0.01>>) -> tensor<1x6x6x4xi32>
  return
}

// -----

func.func @accumulator(%x: tensor<1x8x8x3x!quant.uniform<i8:f32, 0.02:-4>>, %w: tensor<4x3x3x3x!quant.uniform<i8:f32, 0.01>>) {
  // expected-error @+1 {{accumulator type must be i32 or i64, got 'i16'}}
  %a = lowbit.conv2d %x, %w : (tensor<1x8x8x3x!quant.uniform<i8:f32, 0.02:-4>>, tensor<4x3x3x3x!quant.uniform<i8:f32, 0.01>>) -> tensor<1x6x6x4xi16>
  return
}

// -----

func.func @weight_rank(%x: tensor<1x8x8x3x!quant.uniform<i8:f32, 0.02:-4>>, %w: tensor<4x9x3x!quant.uniform<i8:f32, 0.01>>) {
  // expected-error @+1 {{weight must have rank 4}}
  %a = lowbit.conv2d %x, %w : (tensor<1x8x8x3x!quant.uniform<i8:f32, 0.02:-4>>, tensor<4x9x3x!quant.uniform<i8:f32, 0.01>>) -> tensor<1x6x6x4xi32>
  return
}

// -----

func.func @asymmetric_weights(%x: tensor<1x8x8x3x!quant.uniform<i8:f32, 0.02:-4>>, %w: tensor<4x3x3x3x!quant.uniform<i8:f32, 0.01:5>>) {
  // expected-error @+1 {{weights must be symmetric (zero point 0), got 5}}
  %a = lowbit.conv2d %x, %w : (tensor<1x8x8x3x!quant.uniform<i8:f32, 0.02:-4>>, tensor<4x3x3x3x!quant.uniform<i8:f32, 0.01:5>>) -> tensor<1x6x6x4xi32>
  return
}

// -----

func.func @weight_axis(%x: tensor<1x8x8x3x!quant.uniform<i8:f32, 0.02:-4>>, %w: tensor<4x3x3x3x!quant.uniform<i8:f32:3, {0.1, 0.2, 0.3}>>) {
  // expected-error @+1 {{per-axis weights must be quantized along the output channel (dimension 0), got dimension 3}}
  %a = lowbit.conv2d %x, %w : (tensor<1x8x8x3x!quant.uniform<i8:f32, 0.02:-4>>, tensor<4x3x3x3x!quant.uniform<i8:f32:3, {0.1, 0.2, 0.3}>>) -> tensor<1x6x6x4xi32>
  return
}

// -----

func.func @asymmetric_axis(%x: tensor<1x8x8x3x!quant.uniform<i8:f32, 0.02:-4>>, %w: tensor<2x3x3x3x!quant.uniform<i8:f32:0, {0.1, 0.2:1}>>) {
  // expected-error @+1 {{weights must be symmetric (zero points 0)}}
  %a = lowbit.conv2d %x, %w : (tensor<1x8x8x3x!quant.uniform<i8:f32, 0.02:-4>>, tensor<2x3x3x3x!quant.uniform<i8:f32:0, {0.1, 0.2:1}>>) -> tensor<1x6x6x2xi32>
  return
}

// -----

func.func @sub_channel_weights(%x: tensor<1x8x8x2x!quant.uniform<i8:f32, 0.02:-4>>, %w: tensor<2x1x1x2x!quant.uniform<i8:f32:{0:1}, {{{{0.1}}}, {{{0.2}}}}>>) {
  // expected-error @+1 {{weights must be quantized per tensor or per output channel}}
  %a = lowbit.conv2d %x, %w : (tensor<1x8x8x2x!quant.uniform<i8:f32, 0.02:-4>>, tensor<2x1x1x2x!quant.uniform<i8:f32:{0:1}, {{{{0.1}}}, {{{0.2}}}}>>) -> tensor<1x8x8x2xi32>
  return
}

// -----

func.func @weight_expressed(%x: tensor<1x8x8x3x!quant.uniform<i8:f32, 0.02:-4>>, %w: tensor<4x3x3x3x!quant.uniform<i8:f16, 0.01>>) {
  // expected-error @+1 {{weight expressed type 'f16' differs from the input's 'f32'}}
  %a = lowbit.conv2d %x, %w : (tensor<1x8x8x3x!quant.uniform<i8:f32, 0.02:-4>>, tensor<4x3x3x3x!quant.uniform<i8:f16, 0.01>>) -> tensor<1x6x6x4xi32>
  return
}

// -----

func.func @weight_width(%x: tensor<1x8x8x3x!quant.uniform<i8:f32, 0.02:-4>>, %w: tensor<4x3x3x3x!quant.uniform<i32:f32, 0.01>>) {
  // expected-error @+1 {{weight storage must be 2 to 16 bits wide, got 32}}
  %a = lowbit.conv2d %x, %w : (tensor<1x8x8x3x!quant.uniform<i8:f32, 0.02:-4>>, tensor<4x3x3x3x!quant.uniform<i32:f32, 0.01>>) -> tensor<1x6x6x4xi32>
  return
}

// -----

func.func @log_code_width(%x: tensor<1x8x8x3x!quant.uniform<i8:f32, 0.02:-4>>, %w: tensor<4x3x3x3xi8>) {
  // expected-error @+1 {{log-encoded weights must be i4 codes, got 'i8'}}
  %a = lowbit.conv2d %x, %w {weight_encoding = #lowbit.log<bits = 4, scale = 1.0>} : (tensor<1x8x8x3x!quant.uniform<i8:f32, 0.02:-4>>, tensor<4x3x3x3xi8>) -> tensor<1x6x6x4xi32>
  return
}

// -----

func.func @log_rank(%x: tensor<1x8x8x3x!quant.uniform<i8:f32, 0.02:-4>>, %w: tensor<2x4x3x3x3xi4>) {
  // expected-error @+1 {{weight must have rank 4, got 'tensor<2x4x3x3x3xi4>'}}
  %a = lowbit.conv2d %x, %w {weight_encoding = #lowbit.log<bits = 4, scale = 1.0>} : (tensor<1x8x8x3x!quant.uniform<i8:f32, 0.02:-4>>, tensor<2x4x3x3x3xi4>) -> tensor<1x6x6x4xi32>
  return
}

// -----

func.func @stlq_words(%x: tensor<1x8x8x3x!quant.uniform<i8:f32, 0.02:-4>>, %w: tensor<3x4x3x3x3xi3>) {
  // expected-error @+1 {{STLQ weights need a leading dimension of 2 (two words) and rank 5}}
  %a = lowbit.conv2d %x, %w {weight_encoding = #lowbit.stlq<bits = 3, scale = 1.0, tile = [16, 16], mask = dense<true> : tensor<1x3x3x1xi1>>} : (tensor<1x8x8x3x!quant.uniform<i8:f32, 0.02:-4>>, tensor<3x4x3x3x3xi3>) -> tensor<1x6x6x4xi32>
  return
}

// -----

func.func @stlq_dynamic(%x: tensor<1x8x8x3x!quant.uniform<i8:f32, 0.02:-4>>, %w: tensor<2x?x3x3x3xi3>) {
  // expected-error @+1 {{STLQ weights must have a static shape}}
  %a = lowbit.conv2d %x, %w {weight_encoding = #lowbit.stlq<bits = 3, scale = 1.0, tile = [16, 16], mask = dense<true> : tensor<1x3x3x1xi1>>} : (tensor<1x8x8x3x!quant.uniform<i8:f32, 0.02:-4>>, tensor<2x?x3x3x3xi3>) -> tensor<1x6x6x4xi32>
  return
}

// -----

// 40 output channels by Tm = 16 is 3 tiles, 3 input channels by Tn = 16 is 1.
func.func @stlq_mask_shape(%x: tensor<1x8x8x3x!quant.uniform<i8:f32, 0.02:-4>>, %w: tensor<2x40x3x3x3xi3>) {
  // expected-error @+1 {{STLQ mask shape [2, 3, 3, 1] does not match the tiling of weights [40, 3, 3, 3] by tile [Tn = 16, Tm = 16], expected [3, 3, 3, 1]}}
  %a = lowbit.conv2d %x, %w {weight_encoding = #lowbit.stlq<bits = 3, scale = 1.0, tile = [16, 16], mask = dense<true> : tensor<2x3x3x1xi1>>} : (tensor<1x8x8x3x!quant.uniform<i8:f32, 0.02:-4>>, tensor<2x40x3x3x3xi3>) -> tensor<1x6x6x40xi32>
  return
}

// -----

func.func @stride_size(%x: tensor<1x8x8x3x!quant.uniform<i8:f32, 0.02:-4>>, %w: tensor<4x3x3x3x!quant.uniform<i8:f32, 0.01>>) {
  // expected-error @+1 {{'stride' must have 2 values, got 1}}
  %a = lowbit.conv2d %x, %w {stride = array<i64: 2>} : (tensor<1x8x8x3x!quant.uniform<i8:f32, 0.02:-4>>, tensor<4x3x3x3x!quant.uniform<i8:f32, 0.01>>) -> tensor<1x6x6x4xi32>
  return
}

// -----

func.func @stride_zero(%x: tensor<1x8x8x3x!quant.uniform<i8:f32, 0.02:-4>>, %w: tensor<4x3x3x3x!quant.uniform<i8:f32, 0.01>>) {
  // expected-error @+1 {{'stride' values must be >= 1, got [0, 1]}}
  %a = lowbit.conv2d %x, %w {stride = array<i64: 0, 1>} : (tensor<1x8x8x3x!quant.uniform<i8:f32, 0.02:-4>>, tensor<4x3x3x3x!quant.uniform<i8:f32, 0.01>>) -> tensor<1x6x6x4xi32>
  return
}

// -----

func.func @negative_pad(%x: tensor<1x8x8x3x!quant.uniform<i8:f32, 0.02:-4>>, %w: tensor<4x3x3x3x!quant.uniform<i8:f32, 0.01>>) {
  // expected-error @+1 {{'pad' values must be >= 0, got [0, -1, 0, 0]}}
  %a = lowbit.conv2d %x, %w {pad = array<i64: 0, -1, 0, 0>} : (tensor<1x8x8x3x!quant.uniform<i8:f32, 0.02:-4>>, tensor<4x3x3x3x!quant.uniform<i8:f32, 0.01>>) -> tensor<1x6x6x4xi32>
  return
}

// -----

func.func @dilation_zero(%x: tensor<1x8x8x3x!quant.uniform<i8:f32, 0.02:-4>>, %w: tensor<4x3x3x3x!quant.uniform<i8:f32, 0.01>>) {
  // expected-error @+1 {{'dilation' values must be >= 1}}
  %a = lowbit.conv2d %x, %w {dilation = array<i64: 1, 0>} : (tensor<1x8x8x3x!quant.uniform<i8:f32, 0.02:-4>>, tensor<4x3x3x3x!quant.uniform<i8:f32, 0.01>>) -> tensor<1x6x6x4xi32>
  return
}

// -----

func.func @groups_zero(%x: tensor<1x8x8x3x!quant.uniform<i8:f32, 0.02:-4>>, %w: tensor<4x3x3x3x!quant.uniform<i8:f32, 0.01>>) {
  // expected-error @+1 {{groups must be >= 1, got 0}}
  %a = lowbit.conv2d %x, %w {groups = 0 : i64} : (tensor<1x8x8x3x!quant.uniform<i8:f32, 0.02:-4>>, tensor<4x3x3x3x!quant.uniform<i8:f32, 0.01>>) -> tensor<1x6x6x4xi32>
  return
}

// -----

func.func @groups_input(%x: tensor<1x8x8x3x!quant.uniform<i8:f32, 0.02:-4>>, %w: tensor<4x3x3x1x!quant.uniform<i8:f32, 0.01>>) {
  // expected-error @+1 {{2 groups do not divide 3 input channels}}
  %a = lowbit.conv2d %x, %w {groups = 2 : i64} : (tensor<1x8x8x3x!quant.uniform<i8:f32, 0.02:-4>>, tensor<4x3x3x1x!quant.uniform<i8:f32, 0.01>>) -> tensor<1x6x6x4xi32>
  return
}

// -----

func.func @channels_per_group(%x: tensor<1x8x8x4x!quant.uniform<i8:f32, 0.02:-4>>, %w: tensor<4x3x3x4x!quant.uniform<i8:f32, 0.01>>) {
  // expected-error @+1 {{weight has 4 input channels per group, expected 2 (4 channels / 2 groups)}}
  %a = lowbit.conv2d %x, %w {groups = 2 : i64} : (tensor<1x8x8x4x!quant.uniform<i8:f32, 0.02:-4>>, tensor<4x3x3x4x!quant.uniform<i8:f32, 0.01>>) -> tensor<1x6x6x4xi32>
  return
}

// -----

func.func @groups_output(%x: tensor<1x8x8x4x!quant.uniform<i8:f32, 0.02:-4>>, %w: tensor<3x3x3x2x!quant.uniform<i8:f32, 0.01>>) {
  // expected-error @+1 {{2 groups do not divide 3 output channels}}
  %a = lowbit.conv2d %x, %w {groups = 2 : i64} : (tensor<1x8x8x4x!quant.uniform<i8:f32, 0.02:-4>>, tensor<3x3x3x2x!quant.uniform<i8:f32, 0.01>>) -> tensor<1x6x6x3xi32>
  return
}

// -----

func.func @bias_rank(%x: tensor<1x8x8x3x!quant.uniform<i8:f32, 0.02:-4>>, %w: tensor<4x3x3x3x!quant.uniform<i8:f32, 0.01>>, %b: tensor<1x4xi32>) {
  // expected-error @+1 {{bias must have rank 1}}
  %a = lowbit.conv2d %x, %w, %b : (tensor<1x8x8x3x!quant.uniform<i8:f32, 0.02:-4>>, tensor<4x3x3x3x!quant.uniform<i8:f32, 0.01>>, tensor<1x4xi32>) -> tensor<1x6x6x4xi32>
  return
}

// -----

func.func @bias_type(%x: tensor<1x8x8x3x!quant.uniform<i8:f32, 0.02:-4>>, %w: tensor<4x3x3x3x!quant.uniform<i8:f32, 0.01>>, %b: tensor<4xi64>) {
  // expected-error @+1 {{bias element type 'i64' must be the accumulator type 'i32'}}
  %a = lowbit.conv2d %x, %w, %b : (tensor<1x8x8x3x!quant.uniform<i8:f32, 0.02:-4>>, tensor<4x3x3x3x!quant.uniform<i8:f32, 0.01>>, tensor<4xi64>) -> tensor<1x6x6x4xi32>
  return
}

// -----

func.func @bias_size(%x: tensor<1x8x8x3x!quant.uniform<i8:f32, 0.02:-4>>, %w: tensor<4x3x3x3x!quant.uniform<i8:f32, 0.01>>, %b: tensor<5xi32>) {
  // expected-error @+1 {{bias has 5 elements for 4 output channels}}
  %a = lowbit.conv2d %x, %w, %b : (tensor<1x8x8x3x!quant.uniform<i8:f32, 0.02:-4>>, tensor<4x3x3x3x!quant.uniform<i8:f32, 0.01>>, tensor<5xi32>) -> tensor<1x6x6x4xi32>
  return
}

// -----

func.func @dynamic_kernel(%x: tensor<1x8x8x3x!quant.uniform<i8:f32, 0.02:-4>>, %w: tensor<4x?x3x3x!quant.uniform<i8:f32, 0.01>>) {
  // expected-error @+1 {{kernel size must be static}}
  %a = lowbit.conv2d %x, %w : (tensor<1x8x8x3x!quant.uniform<i8:f32, 0.02:-4>>, tensor<4x?x3x3x!quant.uniform<i8:f32, 0.01>>) -> tensor<1x6x6x4xi32>
  return
}

// -----

func.func @window_too_big(%x: tensor<1x2x8x3x!quant.uniform<i8:f32, 0.02:-4>>, %w: tensor<4x3x3x3x!quant.uniform<i8:f32, 0.01>>) {
  // expected-error @+1 {{window of 5 along height does not fit the padded input of 2}}
  %a = lowbit.conv2d %x, %w {dilation = array<i64: 2, 1>} : (tensor<1x2x8x3x!quant.uniform<i8:f32, 0.02:-4>>, tensor<4x3x3x3x!quant.uniform<i8:f32, 0.01>>) -> tensor<1x1x6x4xi32>
  return
}

// -----

func.func @result_shape(%x: tensor<1x8x8x3x!quant.uniform<i8:f32, 0.02:-4>>, %w: tensor<4x3x3x3x!quant.uniform<i8:f32, 0.01>>) {
  // expected-error @+1 {{result shape [1, 8, 8, 4] does not match the expected [1, 3, 4, 4]}}
  %a = lowbit.conv2d %x, %w {stride = array<i64: 3, 2>, pad = array<i64: 0, 1, 0, 1>} : (tensor<1x8x8x3x!quant.uniform<i8:f32, 0.02:-4>>, tensor<4x3x3x3x!quant.uniform<i8:f32, 0.01>>) -> tensor<1x8x8x4xi32>
  return
}
