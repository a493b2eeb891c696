// RUN: lowbit-opt %s --lowbit-prepare-calibration-pipeline | FileCheck %s
// RUN: lowbit-opt %s --lowbit-prepare-calibration-pipeline --dump-pass-pipeline -o /dev/null 2>&1 | FileCheck %s --check-prefix=PIPE

// lowbitc's step before calibration, by name: NCHW input normalization
// (x - mean) / std becomes one 1x1 depthwise convolution with weights 1/std
// = [2, 4] and bias -mean/std = [-0.5, -2], which the integer target runs;
// the sub, the reciprocal and the multiply are gone, and the convolution's
// two zero points are one constant.
// PIPE: Pass Manager with 3 passes:
// PIPE-NEXT: builtin.module(
// PIPE-NEXT: func.func(
// PIPE-NEXT: lowbit-input-affine-to-depthwise
// PIPE-NEXT: ),
// PIPE-NEXT: canonicalize{
// PIPE-NEXT: cse
// PIPE-NEXT: )

// CHECK-LABEL: func.func @normalize
// CHECK-DAG: %[[Z:.*]] = "tosa.const"() <{values = dense<0.000000e+00> : tensor<1xf32>}>
// CHECK-DAG: %[[B:.*]] = "tosa.const"() <{values = dense<[-5.000000e-01, -2.000000e+00]> : tensor<2xf32>}>
// CHECK-DAG: %[[W:.*]] = "tosa.const"() <{values = dense<{{\[\[\[\[}}2.000000e+00], [4.000000e+00]]]]> : tensor<1x1x2x1xf32>}>
// CHECK: %[[T:.*]] = tosa.transpose %arg0 {perms = array<i32: 0, 2, 3, 1>}
// CHECK: %[[D:.*]] = tosa.depthwise_conv2d %[[T]], %[[W]], %[[B]], %[[Z]], %[[Z]]
// CHECK: %[[U:.*]] = tosa.transpose %[[D]] {perms = array<i32: 0, 3, 1, 2>}
// CHECK: return %[[U]]
// CHECK-NOT: tosa.sub
// CHECK-NOT: tosa.reciprocal
// CHECK-NOT: tosa.mul
func.func @normalize(%x: tensor<1x2x3x3xf32>) -> tensor<1x2x3x3xf32> {
  %mean = "tosa.const"() {values = dense<[[[[0.25]], [[0.5]]]]> : tensor<1x2x1x1xf32>} : () -> tensor<1x2x1x1xf32>
  %std = "tosa.const"() {values = dense<[[[[0.5]], [[0.25]]]]> : tensor<1x2x1x1xf32>} : () -> tensor<1x2x1x1xf32>
  %shift = "tosa.const"() {values = dense<0> : tensor<1xi8>} : () -> tensor<1xi8>
  %s = tosa.sub %x, %mean : (tensor<1x2x3x3xf32>, tensor<1x2x1x1xf32>) -> tensor<1x2x3x3xf32>
  %r = tosa.reciprocal %std : (tensor<1x2x1x1xf32>) -> tensor<1x2x1x1xf32>
  %y = tosa.mul %s, %r, %shift : (tensor<1x2x3x3xf32>, tensor<1x2x1x1xf32>, tensor<1xi8>) -> tensor<1x2x3x3xf32>
  return %y : tensor<1x2x3x3xf32>
}
