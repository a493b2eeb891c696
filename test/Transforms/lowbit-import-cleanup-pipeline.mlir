// RUN: lowbit-opt %s --lowbit-import-cleanup-pipeline | FileCheck %s
// RUN: lowbit-opt %s --lowbit-import-cleanup-pipeline --dump-pass-pipeline -o /dev/null 2>&1 | FileCheck %s --check-prefix=PIPE

// lowbitc's clean-up after ONNX import, by name. The importer wraps each
// NHWC convolution and pool of an NCHW model in transposes; between them a
// ReLU (clamp) and a bias add with a [1, C, 1, 1] constant keep the pair
// apart. Sinking the transposes through them lets the pair cancel, the
// bias constant is re-laid out to [1, 1, 1, C], and the duplicate shift
// constants become one.
// PIPE: Pass Manager with 4 passes:
// PIPE-NEXT: builtin.module(
// PIPE-NEXT: canonicalize{
// PIPE-NEXT: lowbit-sink-transposes,
// PIPE-NEXT: canonicalize{
// PIPE-NEXT: cse
// PIPE-NEXT: )

// CHECK-LABEL: func.func @conv_relu_pool
// CHECK-SAME: (%[[X:.*]]: tensor<1x4x4x2xf32>)
// CHECK-NOT: tosa.transpose
// CHECK-DAG: %[[S:.*]] = "tosa.const"() <{values = dense<0> : tensor<1xi8>}>
// CHECK-DAG: %[[B:.*]] = "tosa.const"() <{values = dense<{{\[\[\[\[}}2.500000e-01, 5.000000e-01]]]]> : tensor<1x1x1x2xf32>}>
// CHECK: %[[A:.*]] = tosa.add %[[X]], %[[B]] : (tensor<1x4x4x2xf32>, tensor<1x1x1x2xf32>)
// CHECK: %[[C:.*]] = tosa.clamp %[[A]]
// CHECK: %[[P:.*]] = tosa.max_pool2d %[[C]]
// CHECK: %[[M:.*]] = tosa.mul %[[P]], %[[P]], %[[S]]
// CHECK: tosa.mul %[[M]], %[[P]], %[[S]]
// CHECK-NOT: tosa.transpose
func.func @conv_relu_pool(%x: tensor<1x4x4x2xf32>) -> tensor<1x2x2x2xf32> {
  %t = tosa.transpose %x {perms = array<i32: 0, 3, 1, 2>} : (tensor<1x4x4x2xf32>) -> tensor<1x2x4x4xf32>
  %bias = "tosa.const"() {values = dense<[[[[0.25]], [[0.5]]]]> : tensor<1x2x1x1xf32>} : () -> tensor<1x2x1x1xf32>
  %a = tosa.add %t, %bias : (tensor<1x2x4x4xf32>, tensor<1x2x1x1xf32>) -> tensor<1x2x4x4xf32>
  %c = tosa.clamp %a {min_val = 0.0 : f32, max_val = 6.0 : f32} : (tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32>
  %u = tosa.transpose %c {perms = array<i32: 0, 2, 3, 1>} : (tensor<1x2x4x4xf32>) -> tensor<1x4x4x2xf32>
  %p = tosa.max_pool2d %u {kernel = array<i64: 2, 2>, stride = array<i64: 2, 2>, pad = array<i64: 0, 0, 0, 0>} : (tensor<1x4x4x2xf32>) -> tensor<1x2x2x2xf32>
  %s1 = "tosa.const"() {values = dense<0> : tensor<1xi8>} : () -> tensor<1xi8>
  %s2 = "tosa.const"() {values = dense<0> : tensor<1xi8>} : () -> tensor<1xi8>
  %m1 = tosa.mul %p, %p, %s1 : (tensor<1x2x2x2xf32>, tensor<1x2x2x2xf32>, tensor<1xi8>) -> tensor<1x2x2x2xf32>
  %m2 = tosa.mul %m1, %p, %s2 : (tensor<1x2x2x2xf32>, tensor<1x2x2x2xf32>, tensor<1xi8>) -> tensor<1x2x2x2xf32>
  return %m2 : tensor<1x2x2x2xf32>
}
