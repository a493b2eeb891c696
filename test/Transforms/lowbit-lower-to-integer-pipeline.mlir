// RUN: lowbit-opt %s --lowbit-lower-to-integer-pipeline 2>/dev/null | FileCheck %s
// RUN: lowbit-opt %s --lowbit-lower-to-integer-pipeline 2>&1 >/dev/null | FileCheck %s --check-prefix=WARN
// RUN: not lowbit-opt %s --lowbit-lower-to-integer-pipeline='float-fallback=false' --dump-pass-pipeline -o /dev/null 2>&1 | FileCheck %s --check-prefixes=PIPE,OFF

// lowbitc's lowering of a Q/DQ graph to integer lowbit ops, by name:
// convert-tosa-to-lowbit, lowbit-lower-log-to-shift, then canonicalize and
// CSE. A fully connected
// layer becomes lowbit.fully_connected + lowbit.requant; the Softmax of its
// 16-bit logits has no integer form (of 8-bit ones it is lowbit.softmax)
// and stays float (a warning), or is an error with float-fallback=false.
// PIPE: Pass Manager with 4 passes:
// PIPE-NEXT: builtin.module(
// PIPE-NEXT: func.func(
// PIPE-NEXT: convert-tosa-to-lowbit{float-fallback=false fold-input-zero-point=true}
// PIPE-NEXT: ),
// PIPE-NEXT: func.func(
// PIPE-NEXT: lowbit-lower-log-to-shift{kernels=auto}
// PIPE-NEXT: ),
// PIPE-NEXT: canonicalize{
// PIPE-NEXT: cse
// PIPE-NEXT: )
// OFF: error: convert-tosa-to-lowbit: 'tosa.reduce_max' has no integer form (float-fallback=false
// WARN: warning: convert-tosa-to-lowbit: 'tosa.reduce_max' stays float (no integer form)

// The matmul is an integer fully connected layer into one requant; the
// Softmax stays float between a dequantize and a quantize.
// CHECK-LABEL: func.func @softmax_tail
// CHECK-SAME: (%[[X:.*]]: tensor<1x1x4x!quant.uniform<i8:f32, 5.000000e-01>>) -> tensor<1x4x!quant.uniform<i8:f32, 3.906250e-03:-128>>
// CHECK-DAG: %[[W:.*]] = lowbit.constant dense<1> : tensor<4x4xi8> -> tensor<4x4x!quant.uniform<i8<-127:127>:f32, 2.500000e-01>>
// CHECK-DAG: %[[B:.*]] = lowbit.constant dense<0> : tensor<4xi32>
// CHECK-NOT: tosa.matmul
// CHECK: %[[R:.*]] = lowbit.reshape %[[X]]
// CHECK: %[[FC:.*]] = lowbit.fully_connected %[[R]], %[[W]], %[[B]]
// CHECK: %[[RQ:.*]] = lowbit.requant %[[FC]] {multiplier = array<i32: 1073741824>, shift = array<i32: 30>}
// CHECK: %[[D:.*]] = lowbit.dequantize %[[RQ]]
// CHECK: tosa.reduce_max %[[D]]
// CHECK: tosa.exp
// CHECK: %[[Q:.*]] = lowbit.quantize %{{.*}} : tensor<1x4xf32> -> tensor<1x4x!quant.uniform<i8:f32, 3.906250e-03:-128>>
// CHECK-NEXT: return %[[Q]]
func.func @softmax_tail(%x: tensor<1x1x4xf32>) -> tensor<1x4xf32> {
  %q = lowbit.quantize %x : tensor<1x1x4xf32> -> tensor<1x1x4x!quant.uniform<i8:f32, 0.5>>
  %d = lowbit.dequantize %q : tensor<1x1x4x!quant.uniform<i8:f32, 0.5>> -> tensor<1x1x4xf32>
  %wq = lowbit.constant dense<1> : tensor<1x4x4xi8> -> tensor<1x4x4x!quant.uniform<i8<-127:127>:f32, 0.25>>
  %w = lowbit.dequantize %wq : tensor<1x4x4x!quant.uniform<i8<-127:127>:f32, 0.25>> -> tensor<1x4x4xf32>
  %zp = "tosa.const"() {values = dense<0.0> : tensor<1xf32>} : () -> tensor<1xf32>
  %zp2 = "tosa.const"() {values = dense<0.0> : tensor<1xf32>} : () -> tensor<1xf32>
  %mm = tosa.matmul %d, %w, %zp, %zp2 : (tensor<1x1x4xf32>, tensor<1x4x4xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x1x4xf32>
  %shape = tosa.const_shape {values = dense<[1, 4]> : tensor<2xindex>} : () -> !tosa.shape<2>
  %logits = tosa.reshape %mm, %shape : (tensor<1x1x4xf32>, !tosa.shape<2>) -> tensor<1x4xf32>
  %lq = lowbit.quantize %logits : tensor<1x4xf32> -> tensor<1x4x!quant.uniform<i16:f32, 0.125>>
  %ld = lowbit.dequantize %lq : tensor<1x4x!quant.uniform<i16:f32, 0.125>> -> tensor<1x4xf32>
  %zero = "tosa.const"() {values = dense<0> : tensor<1xi8>} : () -> tensor<1xi8>
  %m = tosa.reduce_max %ld {axis = 1 : i32} : (tensor<1x4xf32>) -> tensor<1x1xf32>
  %s = tosa.sub %ld, %m : (tensor<1x4xf32>, tensor<1x1xf32>) -> tensor<1x4xf32>
  %e = tosa.exp %s : (tensor<1x4xf32>) -> tensor<1x4xf32>
  %t = tosa.reduce_sum %e {axis = 1 : i32} : (tensor<1x4xf32>) -> tensor<1x1xf32>
  %r = tosa.reciprocal %t : (tensor<1x1xf32>) -> tensor<1x1xf32>
  %p = tosa.mul %e, %r, %zero : (tensor<1x4xf32>, tensor<1x1xf32>, tensor<1xi8>) -> tensor<1x4xf32>
  %o = lowbit.quantize %p : tensor<1x4xf32> -> tensor<1x4x!quant.uniform<i8:f32, 0.00390625:-128>>
  %od = lowbit.dequantize %o : tensor<1x4x!quant.uniform<i8:f32, 0.00390625:-128>> -> tensor<1x4xf32>
  return %od : tensor<1x4xf32>
}
