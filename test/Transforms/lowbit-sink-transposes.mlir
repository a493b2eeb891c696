// RUN: lowbit-opt %s --split-input-file --lowbit-sink-transposes --canonicalize | FileCheck %s

// conv -> (to NCHW) clamp (to NHWC) -> pool: the pair meets and cancels.
// CHECK-LABEL: func.func @through_unary
// CHECK-SAME: (%[[X:.*]]: tensor<1x4x4x8xf32>)
// CHECK-NOT: tosa.transpose
// CHECK: %[[C:.*]] = tosa.clamp %[[X]] {{.*}} : (tensor<1x4x4x8xf32>) -> tensor<1x4x4x8xf32>
// CHECK-NEXT: return %[[C]]
func.func @through_unary(%x: tensor<1x4x4x8xf32>) -> tensor<1x4x4x8xf32> {
  %t = tosa.transpose %x {perms = array<i32: 0, 3, 1, 2>} : (tensor<1x4x4x8xf32>) -> tensor<1x8x4x4xf32>
  %c = tosa.clamp %t {min_val = 0.0 : f32, max_val = 6.0 : f32} : (tensor<1x8x4x4xf32>) -> tensor<1x8x4x4xf32>
  %u = tosa.transpose %c {perms = array<i32: 0, 2, 3, 1>} : (tensor<1x8x4x4xf32>) -> tensor<1x4x4x8xf32>
  return %u : tensor<1x4x4x8xf32>
}

// -----

// A PReLU (compare, multiply by per-channel [1, C, 1, 1] slopes, select):
// the constants are re-laid out to [1, 1, 1, C] and the transposes vanish.
// CHECK-LABEL: func.func @prelu_pattern
// CHECK-SAME: (%[[X:.*]]: tensor<1x4x4x2xf32>)
// CHECK-NOT: tosa.transpose
// CHECK-DAG: "tosa.const"() <{values = dense<{{\[\[\[\[}}2.500000e-01, 5.000000e-01]]]]> : tensor<1x1x1x2xf32>}>
// CHECK: tosa.greater_equal %[[X]]
// CHECK: tosa.mul %[[X]]
// CHECK: %[[S:.*]] = tosa.select {{.*}} -> tensor<1x4x4x2xf32>
// CHECK-NEXT: return %[[S]]
func.func @prelu_pattern(%x: tensor<1x4x4x2xf32>) -> tensor<1x4x4x2xf32> {
  %t = tosa.transpose %x {perms = array<i32: 0, 3, 1, 2>} : (tensor<1x4x4x2xf32>) -> tensor<1x2x4x4xf32>
  %zero = "tosa.const"() {values = dense<0.0> : tensor<1x1x1x1xf32>} : () -> tensor<1x1x1x1xf32>
  %slope = "tosa.const"() {values = dense<[[[[0.25]], [[0.5]]]]> : tensor<1x2x1x1xf32>} : () -> tensor<1x2x1x1xf32>
  %shift = "tosa.const"() {values = dense<0> : tensor<1xi8>} : () -> tensor<1xi8>
  %ge = tosa.greater_equal %t, %zero : (tensor<1x2x4x4xf32>, tensor<1x1x1x1xf32>) -> tensor<1x2x4x4xi1>
  %m = tosa.mul %t, %slope, %shift : (tensor<1x2x4x4xf32>, tensor<1x2x1x1xf32>, tensor<1xi8>) -> tensor<1x2x4x4xf32>
  %s = tosa.select %ge, %t, %m : (tensor<1x2x4x4xi1>, tensor<1x2x4x4xf32>, tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32>
  %u = tosa.transpose %s {perms = array<i32: 0, 2, 3, 1>} : (tensor<1x2x4x4xf32>) -> tensor<1x4x4x2xf32>
  return %u : tensor<1x4x4x2xf32>
}

// -----

// Operands transposed differently, or produced by a non-constant op, stay.
// CHECK-LABEL: func.func @not_movable
// CHECK: tosa.transpose
// CHECK: tosa.add
func.func @not_movable(%x: tensor<1x4x4x2xf32>, %y: tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32> {
  %t = tosa.transpose %x {perms = array<i32: 0, 3, 1, 2>} : (tensor<1x4x4x2xf32>) -> tensor<1x2x4x4xf32>
  %a = tosa.add %t, %y : (tensor<1x2x4x4xf32>, tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32>
  return %a : tensor<1x2x4x4xf32>
}

// -----

// A concat of NCHW views of NHWC tensors (a DenseNet block): the concat
// happens in NHWC along the channel axis (perms[1] = 3), and the BatchNorm
// multiply after it becomes NHWC with its constant.
// CHECK-LABEL: func.func @concat_of_transposes
// CHECK: %[[C:.*]] = tosa.concat %arg0, %arg1 {axis = 3 : i32} : (tensor<1x4x4x2xf32>, tensor<1x4x4x3xf32>) -> tensor<1x4x4x5xf32>
// CHECK: %[[M:.*]] = tosa.mul %[[C]], %{{.*}} : (tensor<1x4x4x5xf32>, tensor<1x1x1x5xf32>, tensor<1xi8>)
// CHECK: %[[T:.*]] = tosa.transpose %[[M]] {perms = array<i32: 0, 3, 1, 2>}
// CHECK-NEXT: return %[[T]]
func.func @concat_of_transposes(%a: tensor<1x4x4x2xf32>, %b: tensor<1x4x4x3xf32>) -> tensor<1x5x4x4xf32> {
  %ta = tosa.transpose %a {perms = array<i32: 0, 3, 1, 2>} : (tensor<1x4x4x2xf32>) -> tensor<1x2x4x4xf32>
  %tb = tosa.transpose %b {perms = array<i32: 0, 3, 1, 2>} : (tensor<1x4x4x3xf32>) -> tensor<1x3x4x4xf32>
  %c = tosa.concat %ta, %tb {axis = 1 : i32} : (tensor<1x2x4x4xf32>, tensor<1x3x4x4xf32>) -> tensor<1x5x4x4xf32>
  %k = "tosa.const"() {values = dense<[[[[1.0]], [[2.0]], [[3.0]], [[4.0]], [[5.0]]]]> : tensor<1x5x1x1xf32>} : () -> tensor<1x5x1x1xf32>
  %shift = "tosa.const"() {values = dense<0> : tensor<1xi8>} : () -> tensor<1xi8>
  %m = tosa.mul %c, %k, %shift : (tensor<1x5x4x4xf32>, tensor<1x5x1x1xf32>, tensor<1xi8>) -> tensor<1x5x4x4xf32>
  return %m : tensor<1x5x4x4xf32>
}
