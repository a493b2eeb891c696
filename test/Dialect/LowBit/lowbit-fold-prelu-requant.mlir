// RUN: lowbit-opt %s --split-input-file --lowbit-fold-prelu-requant | FileCheck %s

// Per-tensor requant (2^-6) and a per-channel PReLU: positive 1.0,
// negatives 0.125 and 0.1. Folded: 2^-6, 2^-9 and 0.1 * 2^-6 = 0.8 * 2^-9.
// CHECK-LABEL: func.func @per_channel_slopes
// CHECK-SAME: (%[[ACC:.*]]: tensor<1x4x4x2xi32>)
// CHECK: %[[R:.*]] = lowbit.requant %[[ACC]] {axis = 3 : i64, multiplier = array<i32: 1073741824, 1073741824>, neg_multiplier = array<i32: 1073741824, 1717986918>, neg_shift = array<i32: 39, 40>, shift = array<i32: 36, 36>}
// CHECK-SAME: tensor<1x4x4x2xi32> -> tensor<1x4x4x2x!quant.uniform<i8:f32, 1.000000e-01:-2>>
// CHECK-NOT: lowbit.prelu
// CHECK: return %[[R]]
func.func @per_channel_slopes(%acc: tensor<1x4x4x2xi32>) -> tensor<1x4x4x2x!quant.uniform<i8:f32, 0.1:-2>> {
  %y = lowbit.requant %acc {multiplier = array<i32: 1073741824>, shift = array<i32: 36>} : tensor<1x4x4x2xi32> -> tensor<1x4x4x2x!quant.uniform<i8:f32, 0.1:3>>
  %p = lowbit.prelu %y {pos_multiplier = 1073741824 : i32, pos_shift = 30 : i32, neg_multiplier = array<i32: 1073741824, 1717986918>, neg_shift = array<i32: 33, 34>, axis = 3 : i64} : tensor<1x4x4x2x!quant.uniform<i8:f32, 0.1:3>> -> tensor<1x4x4x2x!quant.uniform<i8:f32, 0.1:-2>>
  return %p : tensor<1x4x4x2x!quant.uniform<i8:f32, 0.1:-2>>
}

// -----

// Per-channel requant, one LeakyReLU slope (0.125), output scale twice the
// input's (positive multiplier 0.5).
// CHECK-LABEL: func.func @per_channel_requant_leaky
// CHECK: lowbit.requant %{{.*}} {axis = 1 : i64, multiplier = array<i32: 1073741824, 1073741824>, neg_multiplier = array<i32: 1073741824, 1073741824>, neg_shift = array<i32: 40, 41>, shift = array<i32: 37, 38>}
// CHECK-NOT: lowbit.prelu
func.func @per_channel_requant_leaky(%acc: tensor<3x2xi32>) -> tensor<3x2x!quant.uniform<i8:f32, 0.2>> {
  %y = lowbit.requant %acc {multiplier = array<i32: 1073741824, 1073741824>, shift = array<i32: 36, 37>, axis = 1 : i64} : tensor<3x2xi32> -> tensor<3x2x!quant.uniform<i8:f32, 0.1>>
  %p = lowbit.prelu %y {pos_multiplier = 1073741824 : i32, pos_shift = 31 : i32, neg_multiplier = array<i32: 1073741824>, neg_shift = array<i32: 34>} : tensor<3x2x!quant.uniform<i8:f32, 0.1>> -> tensor<3x2x!quant.uniform<i8:f32, 0.2>>
  return %p : tensor<3x2x!quant.uniform<i8:f32, 0.2>>
}

// -----

// A narrowed saturation range is a ReLU / ReLU6 / Clip before the PReLU.
// With slopes >= 0 the PReLU is monotone and maps [lo, hi] onto [P(lo),
// P(hi)], where the folded requant saturates: here max 60 (scale 1, zero
// points 0) stays 60. The side left at the storage limit (-128) bounds
// nothing: as without a ReLU/Clip, the fold drops the intermediate's
// saturation.
// CHECK-LABEL: func.func @narrowed_range_folds
// CHECK: lowbit.requant %{{.*}} {max = 60 : i64, multiplier = array<i32: 1073741824>, neg_multiplier = array<i32: 1073741824>, neg_shift = array<i32: 39>, shift = array<i32: 36>}
// CHECK-NOT: lowbit.prelu
func.func @narrowed_range_folds(%acc: tensor<4xi32>) -> tensor<4x!quant.uniform<i8:f32, 0.1>> {
  %y = lowbit.requant %acc {multiplier = array<i32: 1073741824>, shift = array<i32: 36>, max = 60 : i64} : tensor<4xi32> -> tensor<4x!quant.uniform<i8:f32, 0.1>>
  %p = lowbit.prelu %y {pos_multiplier = 1073741824 : i32, pos_shift = 30 : i32, neg_multiplier = array<i32: 1073741824>, neg_shift = array<i32: 33>} : tensor<4x!quant.uniform<i8:f32, 0.1>> -> tensor<4x!quant.uniform<i8:f32, 0.1>>
  return %p : tensor<4x!quant.uniform<i8:f32, 0.1>>
}

// -----

// A ReLU (lowbit.clamp from the zero point 3) between a requant and a
// per-channel LeakyReLU: the clamp narrows the requant, then the PReLU
// folds; the lower bound is the output's zero point -2 (P(0) = 0) for every
// channel (the upper side, at the storage limit, bounds nothing).
// CHECK-LABEL: func.func @relu_then_leaky_per_channel
// CHECK: lowbit.requant %{{.*}} {axis = 1 : i64, min = -2 : i64, multiplier
// CHECK-NOT: lowbit.clamp
// CHECK-NOT: lowbit.prelu
func.func @relu_then_leaky_per_channel(%acc: tensor<3x2xi32>) -> tensor<3x2x!quant.uniform<i8:f32, 0.1:-2>> {
  %y = lowbit.requant %acc {multiplier = array<i32: 1073741824>, shift = array<i32: 36>} : tensor<3x2xi32> -> tensor<3x2x!quant.uniform<i8:f32, 0.1:3>>
  %r = lowbit.clamp %y {min = 3 : i64, max = 127 : i64} : tensor<3x2x!quant.uniform<i8:f32, 0.1:3>>
  %p = lowbit.prelu %r {pos_multiplier = 1073741824 : i32, pos_shift = 30 : i32, neg_multiplier = array<i32: 1073741824, 1073741824>, neg_shift = array<i32: 33, 34>, axis = 1 : i64} : tensor<3x2x!quant.uniform<i8:f32, 0.1:3>> -> tensor<3x2x!quant.uniform<i8:f32, 0.1:-2>>
  return %p : tensor<3x2x!quant.uniform<i8:f32, 0.1:-2>>
}

// -----

// A negative slope after a narrowed range is not monotone: kept.
// CHECK-LABEL: func.func @narrowed_negative_slope_kept
// CHECK: lowbit.requant
// CHECK: lowbit.prelu
func.func @narrowed_negative_slope_kept(%acc: tensor<4xi32>) -> tensor<4x!quant.uniform<i8:f32, 0.1>> {
  %y = lowbit.requant %acc {multiplier = array<i32: 1073741824>, shift = array<i32: 36>, min = -50 : i64} : tensor<4xi32> -> tensor<4x!quant.uniform<i8:f32, 0.1>>
  %p = lowbit.prelu %y {pos_multiplier = 1073741824 : i32, pos_shift = 30 : i32, neg_multiplier = array<i32: -1073741824>, neg_shift = array<i32: 33>} : tensor<4x!quant.uniform<i8:f32, 0.1>> -> tensor<4x!quant.uniform<i8:f32, 0.1>>
  return %p : tensor<4x!quant.uniform<i8:f32, 0.1>>
}

// -----

// Per-channel slopes with a bound below the zero point would need one bound
// per channel: kept.
// CHECK-LABEL: func.func @narrowed_per_channel_below_zero_kept
// CHECK: lowbit.requant
// CHECK: lowbit.prelu
func.func @narrowed_per_channel_below_zero_kept(%acc: tensor<3x2xi32>) -> tensor<3x2x!quant.uniform<i8:f32, 0.1>> {
  %y = lowbit.requant %acc {multiplier = array<i32: 1073741824>, shift = array<i32: 36>, min = -50 : i64} : tensor<3x2xi32> -> tensor<3x2x!quant.uniform<i8:f32, 0.1>>
  %p = lowbit.prelu %y {pos_multiplier = 1073741824 : i32, pos_shift = 30 : i32, neg_multiplier = array<i32: 1073741824, 1073741824>, neg_shift = array<i32: 33, 34>, axis = 1 : i64} : tensor<3x2x!quant.uniform<i8:f32, 0.1>> -> tensor<3x2x!quant.uniform<i8:f32, 0.1>>
  return %p : tensor<3x2x!quant.uniform<i8:f32, 0.1>>
}

// -----

// The requant result is used elsewhere too: kept.
// CHECK-LABEL: func.func @shared_requant_kept
// CHECK: lowbit.requant
// CHECK: lowbit.prelu
func.func @shared_requant_kept(%acc: tensor<4xi32>) -> (tensor<4x!quant.uniform<i8:f32, 0.1>>, tensor<4x!quant.uniform<i8:f32, 0.1>>) {
  %y = lowbit.requant %acc {multiplier = array<i32: 1073741824>, shift = array<i32: 36>} : tensor<4xi32> -> tensor<4x!quant.uniform<i8:f32, 0.1>>
  %p = lowbit.prelu %y {pos_multiplier = 1073741824 : i32, pos_shift = 30 : i32, neg_multiplier = array<i32: 1073741824>, neg_shift = array<i32: 33>} : tensor<4x!quant.uniform<i8:f32, 0.1>> -> tensor<4x!quant.uniform<i8:f32, 0.1>>
  return %y, %p : tensor<4x!quant.uniform<i8:f32, 0.1>>, tensor<4x!quant.uniform<i8:f32, 0.1>>
}

// -----

// Different rounding modes cannot share one requant: kept.
// CHECK-LABEL: func.func @rounding_differs_kept
// CHECK: lowbit.requant
// CHECK: lowbit.prelu
func.func @rounding_differs_kept(%acc: tensor<4xi32>) -> tensor<4x!quant.uniform<i8:f32, 0.1>> {
  %y = lowbit.requant %acc {multiplier = array<i32: 1073741824>, shift = array<i32: 36>, rounding = #lowbit.rounding<double_round>} : tensor<4xi32> -> tensor<4x!quant.uniform<i8:f32, 0.1>>
  %p = lowbit.prelu %y {pos_multiplier = 1073741824 : i32, pos_shift = 30 : i32, neg_multiplier = array<i32: 1073741824>, neg_shift = array<i32: 33>} : tensor<4x!quant.uniform<i8:f32, 0.1>> -> tensor<4x!quant.uniform<i8:f32, 0.1>>
  return %p : tensor<4x!quant.uniform<i8:f32, 0.1>>
}

// -----

// Per-channel on different axes: kept.
// CHECK-LABEL: func.func @axes_differ_kept
// CHECK: lowbit.requant
// CHECK: lowbit.prelu
func.func @axes_differ_kept(%acc: tensor<2x2xi32>) -> tensor<2x2x!quant.uniform<i8:f32, 0.1>> {
  %y = lowbit.requant %acc {multiplier = array<i32: 1073741824, 1073741824>, shift = array<i32: 36, 37>, axis = 0 : i64} : tensor<2x2xi32> -> tensor<2x2x!quant.uniform<i8:f32, 0.1>>
  %p = lowbit.prelu %y {pos_multiplier = 1073741824 : i32, pos_shift = 30 : i32, neg_multiplier = array<i32: 1073741824, 1073741824>, neg_shift = array<i32: 33, 34>, axis = 1 : i64} : tensor<2x2x!quant.uniform<i8:f32, 0.1>> -> tensor<2x2x!quant.uniform<i8:f32, 0.1>>
  return %p : tensor<2x2x!quant.uniform<i8:f32, 0.1>>
}

// -----

// A product scale of 2^29 or more has no (multiplier, shift): kept.
// CHECK-LABEL: func.func @unrepresentable_kept
// CHECK: lowbit.requant
// CHECK: lowbit.prelu
func.func @unrepresentable_kept(%acc: tensor<4xi32>) -> tensor<4x!quant.uniform<i8:f32, 0.1>> {
  %y = lowbit.requant %acc {multiplier = array<i32: 1073741824>, shift = array<i32: 2>} : tensor<4xi32> -> tensor<4x!quant.uniform<i8:f32, 0.1>>
  %p = lowbit.prelu %y {pos_multiplier = 1073741824 : i32, pos_shift = 2 : i32, neg_multiplier = array<i32: 1073741824>, neg_shift = array<i32: 33>} : tensor<4x!quant.uniform<i8:f32, 0.1>> -> tensor<4x!quant.uniform<i8:f32, 0.1>>
  return %p : tensor<4x!quant.uniform<i8:f32, 0.1>>
}

// -----

// A ReLU6-like clamp after the PReLU narrows the folded requant (exact).
// CHECK-LABEL: func.func @clamp_after_prelu
// CHECK: lowbit.requant %{{.*}} {max = 40 : i64, min = 0 : i64, multiplier
// CHECK-NOT: lowbit.clamp
// CHECK-NOT: lowbit.prelu
func.func @clamp_after_prelu(%acc: tensor<4xi32>) -> tensor<4x!quant.uniform<i8:f32, 0.1>> {
  %y = lowbit.requant %acc {multiplier = array<i32: 1073741824>, shift = array<i32: 36>} : tensor<4xi32> -> tensor<4x!quant.uniform<i8:f32, 0.1>>
  %p = lowbit.prelu %y {pos_multiplier = 1073741824 : i32, pos_shift = 30 : i32, neg_multiplier = array<i32: 1073741824>, neg_shift = array<i32: 33>} : tensor<4x!quant.uniform<i8:f32, 0.1>> -> tensor<4x!quant.uniform<i8:f32, 0.1>>
  %c = lowbit.clamp %p {min = 0 : i64, max = 40 : i64} : tensor<4x!quant.uniform<i8:f32, 0.1>>
  return %c : tensor<4x!quant.uniform<i8:f32, 0.1>>
}
