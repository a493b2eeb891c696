// Which layers convert-lowbit-to-emitc runs as one fused kernel call
// (lowbit/runtime/Fast.h: packed weights, the requant as the epilogue) and
// which keep the reference kernels and a separate requant.
// RUN: lowbit-translate --emit-cpp --model-name=m --split-input-file %s | FileCheck %s

// A depthwise convolution (groups = channels, multiplier 1) with a
// zero-point-folded bias and a PReLU folded into a per-channel dual requant:
// the depthwise kernel; its weights are int32 [taps][channels padded to 64]
// (9 x 64 x 4 bytes at 0), then the bias (64 x 4 at 2304), the multipliers
// and shifts of both sides, the input's signedness and zero point (1, -3).
// CHECK-LABEL: int32_t m_run(
// CHECK: lowbit::rt::depthwiseRequant({{v[0-9]+}}, {{v[0-9]+}}, m_weights, lowbit::rt::QDepthwiseConv{lowbit::rt::Conv2DShape{1, 5, 5, 3, 5, 5, 3, 3, 3, 1, 1, 1, 1, 1, 1, 3}, 0, 2304, 2560, 2816, 3072, 3328, 1, -3, 5, -128, 127, lowbit::rt::RoundingMode::DoubleRound}, {{v[0-9]+}});
// CHECK-NOT: requantTensor
!in = !quant.uniform<i8:f32, 0.1:-3>
!out = !quant.uniform<i8:f32, 0.2:5>
!w = !quant.uniform<i8<-127:127>:f32:0, {0.1, 0.2, 0.3}>
func.func @depthwise(%x: tensor<1x5x5x3x!in>) -> tensor<1x5x5x3x!out> {
  %w = lowbit.constant dense<1> : tensor<3x3x3x1xi8> -> tensor<3x3x3x1x!w>
  %b = lowbit.constant dense<[10, -10, 7]> : tensor<3xi32> -> tensor<3xi32>
  %acc = lowbit.conv2d %x, %w, %b {groups = 3 : i64, pad = array<i64: 1, 1, 1, 1>, input_zp_folded} : (tensor<1x5x5x3x!in>, tensor<3x3x3x1x!w>, tensor<3xi32>) -> tensor<1x5x5x3xi32>
  %r = lowbit.requant %acc {multiplier = array<i32: 1073741824, 1073741824, 1073741824>, shift = array<i32: 33, 33, 33>, neg_multiplier = array<i32: 107374182, -107374182, 0>, neg_shift = array<i32: 33, 33, 33>, axis = 3 : i64, rounding = #lowbit.rounding<double_round>} : tensor<1x5x5x3xi32> -> tensor<1x5x5x3x!out>
  return %r : tensor<1x5x5x3x!out>
}

// -----

// A fully connected layer on uint8 activations: the GEMM kernel with a
// 1x1 shape over rows x 1 x 1 x inputs; input not signed (0).
// CHECK-LABEL: int32_t m_run(
// CHECK: lowbit::rt::convRequantGemm({{v[0-9]+}}, {{v[0-9]+}}, m_weights, lowbit::rt::QGemmConv{lowbit::rt::Conv2DShape{2, 1, 1, 6, 1, 1, 3, 1, 1, 1, 1, 1, 1, 0, 0, 1}, {{.*}}, -1, -1, 0, 0, -128, 127, lowbit::rt::RoundingMode::SingleRound, 8}, {{v[0-9]+}});
!u8 = !quant.uniform<u8:f32, 0.05:128>
!o8 = !quant.uniform<i8:f32, 0.5>
func.func @fc(%x: tensor<2x6x!u8>) -> tensor<2x3x!o8> {
  %w = lowbit.constant dense<2> : tensor<3x6xi8> -> tensor<3x6x!quant.uniform<i8<-127:127>:f32, 0.01>>
  %acc = lowbit.fully_connected %x, %w : (tensor<2x6x!u8>, tensor<3x6x!quant.uniform<i8<-127:127>:f32, 0.01>>) -> tensor<2x3xi32>
  %r = lowbit.requant %acc {multiplier = array<i32: 1073741824>, shift = array<i32: 31>} : tensor<2x3xi32> -> tensor<2x3x!o8>
  return %r : tensor<2x3x!o8>
}

// -----

// 4-bit weights (a type whose range is inside [-8, 7]) are packed two per
// byte: 16 channels x 3 x 3 x 4 inputs take 288 bytes instead of 576 (the
// bias follows at 320), and the descriptor ends with 4.
// CHECK-LABEL: int32_t m_run(
// CHECK: lowbit::rt::convRequantGemm({{v[0-9]+}}, {{v[0-9]+}}, m_weights, lowbit::rt::QGemmConv{lowbit::rt::Conv2DShape{1, 4, 4, 4, 4, 4, 2, 3, 3, 1, 1, 1, 1, 1, 1, 1}, 0, 320, {{.*}}, lowbit::rt::RoundingMode::SingleRound, 4}, {{v[0-9]+}});
!i8 = !quant.uniform<i8:f32, 0.1>
!w4 = !quant.uniform<i8<-7:7>:f32, 0.1>
func.func @w4(%x: tensor<1x4x4x4x!i8>) -> tensor<1x4x4x2x!i8> {
  %w = lowbit.constant dense<-7> : tensor<2x3x3x4xi8> -> tensor<2x3x3x4x!w4>
  %acc = lowbit.conv2d %x, %w {pad = array<i64: 1, 1, 1, 1>} : (tensor<1x4x4x4x!i8>, tensor<2x3x3x4x!w4>) -> tensor<1x4x4x2xi32>
  %r = lowbit.requant %acc {multiplier = array<i32: 1073741824>, shift = array<i32: 31>} : tensor<1x4x4x2xi32> -> tensor<1x4x4x2x!i8>
  return %r : tensor<1x4x4x2x!i8>
}

// -----

// Not fused: a 64-bit accumulator (the reference kernel and requantTensor
// keep exact 64-bit sums).
// CHECK-LABEL: int32_t m_run(
// CHECK-NOT: modelIsa
// CHECK: lowbit::rt::conv2dTensor<int8_t, int8_t, int64_t>(
// CHECK: lowbit::rt::requantTensor<int64_t, int8_t>(
!i8 = !quant.uniform<i8:f32, 0.1>
func.func @wide(%x: tensor<1x2x2x4x!i8>) -> tensor<1x2x2x2x!i8> {
  %w = lowbit.constant dense<1> : tensor<2x1x1x4xi8> -> tensor<2x1x1x4x!quant.uniform<i8<-127:127>:f32, 0.01>>
  %acc = lowbit.conv2d %x, %w : (tensor<1x2x2x4x!i8>, tensor<2x1x1x4x!quant.uniform<i8<-127:127>:f32, 0.01>>) -> tensor<1x2x2x2xi64>
  %r = lowbit.requant %acc {multiplier = array<i32: 1073741824>, shift = array<i32: 31>} : tensor<1x2x2x2xi64> -> tensor<1x2x2x2x!i8>
  return %r : tensor<1x2x2x2x!i8>
}

// -----

// Not fused: the accumulator has a second user, so it must be in memory.
// CHECK-LABEL: int32_t m_run(
// CHECK: lowbit::rt::conv2dTensor<int8_t, int8_t, int32_t>(
// CHECK: lowbit::rt::requantTensor<int32_t, int8_t>(
// CHECK: lowbit::rt::requantTensor<int32_t, int8_t>(
!i8 = !quant.uniform<i8:f32, 0.1>
func.func @shared(%x: tensor<1x2x2x4x!i8>) -> (tensor<1x2x2x2x!i8>, tensor<1x2x2x2x!i8>) {
  %w = lowbit.constant dense<1> : tensor<2x1x1x4xi8> -> tensor<2x1x1x4x!quant.uniform<i8<-127:127>:f32, 0.01>>
  %acc = lowbit.conv2d %x, %w : (tensor<1x2x2x4x!i8>, tensor<2x1x1x4x!quant.uniform<i8<-127:127>:f32, 0.01>>) -> tensor<1x2x2x2xi32>
  %r = lowbit.requant %acc {multiplier = array<i32: 1073741824>, shift = array<i32: 31>} : tensor<1x2x2x2xi32> -> tensor<1x2x2x2x!i8>
  %s = lowbit.requant %acc {multiplier = array<i32: 1073741824>, shift = array<i32: 32>} : tensor<1x2x2x2xi32> -> tensor<1x2x2x2x!i8>
  return %r, %s : tensor<1x2x2x2x!i8>, tensor<1x2x2x2x!i8>
}

// -----

// An add of 8-bit tensors whose intermediates fit 32-bit lanes runs on the
// fast kernel; one whose input_shift would overflow them keeps addTensor.
// CHECK-LABEL: int32_t m_run(
// CHECK: lowbit::rt::Isa [[ISA:v[0-9]+]] = lowbit::rt::modelIsa();
// CHECK: lowbit::rt::addRequant({{v[0-9]+}}, {{v[0-9]+}}, {{v[0-9]+}}, 16, lowbit::rt::QAdd{1, 0, -3, 128, 20, lowbit::rt::ScaleMultiplier{1073741824, 31}, lowbit::rt::ScaleMultiplier{1073741824, 32}, lowbit::rt::ScaleMultiplier{1073741824, 50}, 0, 0, 127, lowbit::rt::RoundingMode::SingleRound}, [[ISA]]);
// CHECK: lowbit::rt::addTensor<int8_t, uint8_t, int8_t>(
!a = !quant.uniform<i8:f32, 0.1:-3>
!b = !quant.uniform<u8:f32, 0.05:128>
!o = !quant.uniform<i8:f32, 0.2>
func.func @add(%x: tensor<1x2x2x4x!a>, %y: tensor<1x2x2x4x!b>) -> (tensor<1x2x2x4x!o>, tensor<1x2x2x4x!o>) {
  %s = lowbit.add %x, %y {input_shift = 20 : i32, lhs_multiplier = 1073741824 : i32, lhs_shift = 31 : i32, rhs_multiplier = 1073741824 : i32, rhs_shift = 32 : i32, output_multiplier = 1073741824 : i32, output_shift = 50 : i32, min = 0 : i64} : (tensor<1x2x2x4x!a>, tensor<1x2x2x4x!b>) -> tensor<1x2x2x4x!o>
  %t = lowbit.add %x, %y {input_shift = 23 : i32, lhs_multiplier = 1073741824 : i32, lhs_shift = 31 : i32, rhs_multiplier = 1073741824 : i32, rhs_shift = 32 : i32, output_multiplier = 1073741824 : i32, output_shift = 50 : i32} : (tensor<1x2x2x4x!a>, tensor<1x2x2x4x!b>) -> tensor<1x2x2x4x!o>
  return %s, %t : tensor<1x2x2x4x!o>, tensor<1x2x2x4x!o>
}
