// RUN: lowbit-opt %s --split-input-file --lowbit-input-affine-to-depthwise --canonicalize | FileCheck %s

// NCHW input normalization, (x - mean) / std with per-channel constants
// (the importer's Sub, and Div as a multiply by the reciprocal): one 1x1
// depthwise convolution in NHWC with weights 1/std = [2, 4] and bias
// -mean/std = [-0.5, -2], between transposes.
// CHECK-LABEL: func.func @nchw_normalize
// CHECK-DAG: %[[W:.*]] = "tosa.const"() <{values = dense<{{\[\[\[\[}}2.000000e+00], [4.000000e+00]]]]> : tensor<1x1x2x1xf32>}>
// CHECK-DAG: %[[B:.*]] = "tosa.const"() <{values = dense<[-5.000000e-01, -2.000000e+00]> : tensor<2xf32>}>
// CHECK: %[[T:.*]] = tosa.transpose %arg0 {perms = array<i32: 0, 2, 3, 1>}
// CHECK: %[[D:.*]] = tosa.depthwise_conv2d %[[T]], %[[W]], %[[B]]
// CHECK: %[[U:.*]] = tosa.transpose %[[D]] {perms = array<i32: 0, 3, 1, 2>}
// CHECK: return %[[U]]
// CHECK-NOT: tosa.sub
// CHECK-NOT: tosa.reciprocal
func.func @nchw_normalize(%x: tensor<1x2x3x3xf32>) -> tensor<1x2x3x3xf32> {
  %mean = "tosa.const"() {values = dense<[[[[0.25]], [[0.5]]]]> : tensor<1x2x1x1xf32>} : () -> tensor<1x2x1x1xf32>
  %std = "tosa.const"() {values = dense<[[[[0.5]], [[0.25]]]]> : tensor<1x2x1x1xf32>} : () -> tensor<1x2x1x1xf32>
  %shift = "tosa.const"() {values = dense<0> : tensor<1xi8>} : () -> tensor<1xi8>
  %s = tosa.sub %x, %mean : (tensor<1x2x3x3xf32>, tensor<1x2x1x1xf32>) -> tensor<1x2x3x3xf32>
  %r = tosa.reciprocal %std : (tensor<1x2x1x1xf32>) -> tensor<1x2x1x1xf32>
  %y = tosa.mul %s, %r, %shift : (tensor<1x2x3x3xf32>, tensor<1x2x1x1xf32>, tensor<1xi8>) -> tensor<1x2x3x3xf32>
  return %y : tensor<1x2x3x3xf32>
}

// -----

// NHWC, scalars and a constant minus the input: y = 1 - 2 x, then + [1, 2]
// along the channels: weights [-2, -2], bias [2, 3]; no transposes.
// CHECK-LABEL: func.func @nhwc_and_scalars
// CHECK-NOT: tosa.transpose
// CHECK-DAG: %[[W:.*]] = "tosa.const"() <{values = dense<-2.000000e+00> : tensor<1x1x2x1xf32>}>
// CHECK-DAG: %[[B:.*]] = "tosa.const"() <{values = dense<[2.000000e+00, 3.000000e+00]> : tensor<2xf32>}>
// CHECK: %[[D:.*]] = tosa.depthwise_conv2d %arg0, %[[W]], %[[B]]
// CHECK: return %[[D]]
func.func @nhwc_and_scalars(%x: tensor<1x3x3x2xf32>) -> tensor<1x3x3x2xf32> {
  %two = "tosa.const"() {values = dense<2.0> : tensor<1x1x1x1xf32>} : () -> tensor<1x1x1x1xf32>
  %one = "tosa.const"() {values = dense<1.0> : tensor<1x1x1x1xf32>} : () -> tensor<1x1x1x1xf32>
  %c = "tosa.const"() {values = dense<[[[[1.0, 2.0]]]]> : tensor<1x1x1x2xf32>} : () -> tensor<1x1x1x2xf32>
  %shift = "tosa.const"() {values = dense<0> : tensor<1xi8>} : () -> tensor<1xi8>
  %m = tosa.mul %x, %two, %shift : (tensor<1x3x3x2xf32>, tensor<1x1x1x1xf32>, tensor<1xi8>) -> tensor<1x3x3x2xf32>
  %s = tosa.sub %one, %m : (tensor<1x1x1x1xf32>, tensor<1x3x3x2xf32>) -> tensor<1x3x3x2xf32>
  %a = tosa.add %s, %c : (tensor<1x3x3x2xf32>, tensor<1x1x1x2xf32>) -> tensor<1x3x3x2xf32>
  return %a : tensor<1x3x3x2xf32>
}

// -----

// Not rewritten: an op of two activations, a constant that varies along two
// dimensions, an input of rank 2, a division by zero (a non-finite map).
// CHECK-LABEL: func.func @untouched
// CHECK-NOT: tosa.depthwise_conv2d
// CHECK: tosa.add %arg0, %arg0
// CHECK: tosa.mul %arg0
// CHECK: tosa.sub %arg1
// CHECK: tosa.mul %arg2
func.func @untouched(%x: tensor<1x2x2x2xf32>, %z: tensor<2x2xf32>, %u: tensor<1x2x2x2xf32>) -> (tensor<1x2x2x2xf32>, tensor<1x2x2x2xf32>, tensor<2x2xf32>, tensor<1x2x2x2xf32>) {
  %shift = "tosa.const"() {values = dense<0> : tensor<1xi8>} : () -> tensor<1xi8>
  %k = "tosa.const"() {values = dense<[[[[1.0], [2.0]], [[3.0], [4.0]]]]> : tensor<1x2x2x1xf32>} : () -> tensor<1x2x2x1xf32>
  %c = "tosa.const"() {values = dense<1.0> : tensor<1x1xf32>} : () -> tensor<1x1xf32>
  %a = tosa.add %x, %x : (tensor<1x2x2x2xf32>, tensor<1x2x2x2xf32>) -> tensor<1x2x2x2xf32>
  %m = tosa.mul %x, %k, %shift : (tensor<1x2x2x2xf32>, tensor<1x2x2x1xf32>, tensor<1xi8>) -> tensor<1x2x2x2xf32>
  %s = tosa.sub %z, %c : (tensor<2x2xf32>, tensor<1x1xf32>) -> tensor<2x2xf32>
  %zero = "tosa.const"() {values = dense<[[[[1.0]], [[0.0]]]]> : tensor<1x2x1x1xf32>} : () -> tensor<1x2x1x1xf32>
  %r = tosa.reciprocal %zero : (tensor<1x2x1x1xf32>) -> tensor<1x2x1x1xf32>
  %d = tosa.mul %u, %r, %shift : (tensor<1x2x2x2xf32>, tensor<1x2x1x1xf32>, tensor<1xi8>) -> tensor<1x2x2x2xf32>
  return %a, %m, %s, %d : tensor<1x2x2x2xf32>, tensor<1x2x2x2xf32>, tensor<2x2xf32>, tensor<1x2x2x2xf32>
}
