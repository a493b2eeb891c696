// RUN: lowbit-opt %s --split-input-file --verify-diagnostics

// Weight-encoding attributes and enums.

func.func @log_bits(%x: tensor<1x4x4x8x!quant.uniform<i8:f32, 0.1>>, %w: tensor<8x1x1x8xi1>) {
  // expected-error @+1 {{log word width must be in [2, 16] bits, got 1}}
  %a = lowbit.conv2d %x, %w {weight_encoding = #lowbit.log<bits = 1, scale = 1.0>} : (tensor<1x4x4x8x!quant.uniform<i8:f32, 0.1>>, tensor<8x1x1x8xi1>) -> tensor<1x4x4x8xi32>
  return
}

// -----

func.func @log_scale(%x: tensor<1x4x4x8x!quant.uniform<i8:f32, 0.1>>, %w: tensor<8x1x1x8xi4>) {
  // expected-error @+1 {{log scale must be finite and positive, got -1}}
  %a = lowbit.conv2d %x, %w {weight_encoding = #lowbit.log<bits = 4, scale = -1.0>} : (tensor<1x4x4x8x!quant.uniform<i8:f32, 0.1>>, tensor<8x1x1x8xi4>) -> tensor<1x4x4x8xi32>
  return
}

// -----

func.func @log_channel_scale_positive(%x: tensor<1x4x!quant.uniform<i8:f32, 0.1>>, %w: tensor<2x4xi4>) {
  // expected-error @+1 {{log channel scale 1 must be finite and positive, got 0}}
  %a = lowbit.fully_connected %x, %w {weight_encoding = #lowbit.log<bits = 4, scale = 1.0, channel_scales = [1.0, 0.0]>} : (tensor<1x4x!quant.uniform<i8:f32, 0.1>>, tensor<2x4xi4>) -> tensor<1x2xi32>
  return
}

// -----

func.func @log_channel_scales_empty(%x: tensor<1x4x!quant.uniform<i8:f32, 0.1>>, %w: tensor<2x4xi4>) {
  // expected-error @+2 {{expected at least one scale}}
  // expected-error @+1 {{failed to parse LowBit_LogAttr parameter 'channelScales'}}
  %a = lowbit.fully_connected %x, %w {weight_encoding = #lowbit.log<bits = 4, scale = 1.0, channel_scales = []>} : (tensor<1x4x!quant.uniform<i8:f32, 0.1>>, tensor<2x4xi4>) -> tensor<1x2xi32>
  return
}

// -----

func.func @log_channel_scales_max(%x: tensor<1x4x!quant.uniform<i8:f32, 0.1>>, %w: tensor<2x4xi4>) {
  // expected-error @+1 {{log scale 2.000000e+00 must be the largest channel scale, 1.000000e+00}}
  %a = lowbit.fully_connected %x, %w {weight_encoding = #lowbit.log<bits = 4, scale = 2.0, channel_scales = [1.0, 0.5]>} : (tensor<1x4x!quant.uniform<i8:f32, 0.1>>, tensor<2x4xi4>) -> tensor<1x2xi32>
  return
}

// -----

func.func @log_channel_scales_count(%x: tensor<1x4x4x8x!quant.uniform<i8:f32, 0.1>>, %w: tensor<8x1x1x8xi4>) {
  // expected-error @+1 {{log encoding has 2 channel scales for 8 output channels}}
  %a = lowbit.conv2d %x, %w {weight_encoding = #lowbit.log<bits = 4, scale = 1.0, channel_scales = [1.0, 0.5]>} : (tensor<1x4x4x8x!quant.uniform<i8:f32, 0.1>>, tensor<8x1x1x8xi4>) -> tensor<1x4x4x8xi32>
  return
}

// -----

func.func @stlq_bits(%x: tensor<1x4x4x8x!quant.uniform<i8:f32, 0.1>>, %w: tensor<2x8x1x1x8xi4>) {
  // expected-error @+1 {{log word width must be in [2, 16] bits, got 17}}
  %a = lowbit.conv2d %x, %w {weight_encoding = #lowbit.stlq<bits = 17, scale = 1.0, tile = [16, 16], mask = dense<true> : tensor<1x1x1x1xi1>>} : (tensor<1x4x4x8x!quant.uniform<i8:f32, 0.1>>, tensor<2x8x1x1x8xi4>) -> tensor<1x4x4x8xi32>
  return
}

// -----

func.func @stlq_tile_rank(%x: tensor<1x4x4x8x!quant.uniform<i8:f32, 0.1>>, %w: tensor<2x8x1x1x8xi4>) {
  // expected-error @+1 {{STLQ tile must be [Tn, Tm], got 3 dimensions}}
  %a = lowbit.conv2d %x, %w {weight_encoding = #lowbit.stlq<bits = 4, scale = 1.0, tile = [16, 16, 16], mask = dense<true> : tensor<1x1x1x1xi1>>} : (tensor<1x4x4x8x!quant.uniform<i8:f32, 0.1>>, tensor<2x8x1x1x8xi4>) -> tensor<1x4x4x8xi32>
  return
}

// -----

func.func @stlq_tile_positive(%x: tensor<1x4x4x8x!quant.uniform<i8:f32, 0.1>>, %w: tensor<2x8x1x1x8xi4>) {
  // expected-error @+1 {{STLQ tile extents must be in [1, 2^31], got [0, 16]}}
  %a = lowbit.conv2d %x, %w {weight_encoding = #lowbit.stlq<bits = 4, scale = 1.0, tile = [0, 16], mask = dense<true> : tensor<1x1x1x1xi1>>} : (tensor<1x4x4x8x!quant.uniform<i8:f32, 0.1>>, tensor<2x8x1x1x8xi4>) -> tensor<1x4x4x8xi32>
  return
}

// -----

// A huge extent would overflow ceil(dim / extent) (dim + extent - 1).
func.func @stlq_tile_huge(%x: tensor<1x4x4x8x!quant.uniform<i8:f32, 0.1>>, %w: tensor<2x8x1x1x8xi4>) {
  // expected-error @+1 {{STLQ tile extents must be in [1, 2^31], got [9223372036854775807, 16]}}
  %a = lowbit.conv2d %x, %w {weight_encoding = #lowbit.stlq<bits = 4, scale = 1.0, tile = [9223372036854775807, 16], mask = dense<true> : tensor<1x1x1x1xi1>>} : (tensor<1x4x4x8x!quant.uniform<i8:f32, 0.1>>, tensor<2x8x1x1x8xi4>) -> tensor<1x4x4x8xi32>
  return
}

// -----

func.func @stlq_mask_type(%x: tensor<1x4x4x8x!quant.uniform<i8:f32, 0.1>>, %w: tensor<2x8x1x1x8xi4>) {
  // expected-error @+1 {{STLQ mask must hold i1 (two words or not), got 'i8'}}
  %a = lowbit.conv2d %x, %w {weight_encoding = #lowbit.stlq<bits = 4, scale = 1.0, tile = [16, 16], mask = dense<1> : tensor<1x1x1x1xi8>>} : (tensor<1x4x4x8x!quant.uniform<i8:f32, 0.1>>, tensor<2x8x1x1x8xi4>) -> tensor<1x4x4x8xi32>
  return
}

// -----

func.func @stlq_mask_rank(%x: tensor<1x4x4x8x!quant.uniform<i8:f32, 0.1>>, %w: tensor<2x8x1x1x8xi4>) {
  // expected-error @+1 {{STLQ mask must have rank >= 2, got rank 1}}
  %a = lowbit.conv2d %x, %w {weight_encoding = #lowbit.stlq<bits = 4, scale = 1.0, tile = [16, 16], mask = dense<true> : tensor<1xi1>>} : (tensor<1x4x4x8x!quant.uniform<i8:f32, 0.1>>, tensor<2x8x1x1x8xi4>) -> tensor<1x4x4x8xi32>
  return
}

// -----

func.func @bad_rounding(%acc: tensor<4xi32>) {
  // expected-error @+2 {{expected ::mlir::lowbit::RoundingMode to be one of: single_round, double_round}}
  // expected-error @+1 {{failed to parse LowBit_RoundingModeAttr parameter 'value'}}
  %y = lowbit.requant %acc {multiplier = array<i32: 1073741824>, shift = array<i32: 30>, rounding = #lowbit.rounding<half_even>} : tensor<4xi32> -> tensor<4x!quant.uniform<i8:f32, 0.1>>
  return
}

// -----

func.func @wrong_encoding_attr(%x: tensor<1x4x4x8x!quant.uniform<i8:f32, 0.1>>, %w: tensor<8x1x1x8xi4>) {
  // expected-error @+1 {{attribute 'weight_encoding' failed to satisfy constraint}}
  %a = lowbit.conv2d %x, %w {weight_encoding = 4 : i64} : (tensor<1x4x4x8x!quant.uniform<i8:f32, 0.1>>, tensor<8x1x1x8xi4>) -> tensor<1x4x4x8xi32>
  return
}
