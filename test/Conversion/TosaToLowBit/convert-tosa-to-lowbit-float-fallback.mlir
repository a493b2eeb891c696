// RUN: lowbit-opt %s --split-input-file --convert-tosa-to-lowbit=fold-input-zero-point=false 2>/dev/null | FileCheck %s
// RUN: lowbit-opt %s --split-input-file --convert-tosa-to-lowbit 2>&1 >/dev/null | FileCheck %s --check-prefix=WARN
// RUN: not lowbit-opt %s --split-input-file --convert-tosa-to-lowbit=float-fallback=false 2>&1 | FileCheck %s --check-prefix=OFF

// Float fallback: a final Softmax (max-subtracted exp over a sum) of 16-bit
// logits has no integer form (of 8-bit ones it is lowbit.softmax:
// convert-tosa-to-lowbit-lookup.mlir). It stays float between a dequantize of the integer logits
// and a quantize of the probabilities, with one warning per source
// location (one ONNX node) that names its ops; the rest is integer. With
// float-fallback=false it is an error at the op with no integer form.
// CHECK-LABEL: func.func @softmax_tail
// CHECK-SAME: -> tensor<1x4x!quant.uniform<i8:f32, 3.906250e-03:-128>>
// CHECK: %[[FC:.*]] = lowbit.fully_connected
// CHECK: lowbit.requant %[[FC]]
// CHECK: %[[D:.*]] = lowbit.dequantize %{{.*}} : tensor<1x4x!quant.uniform<i16:f32, 1.250000e-01>> -> tensor<1x4xf32>
// CHECK: %[[M:.*]] = tosa.reduce_max %[[D]]
// CHECK: %[[S:.*]] = tosa.sub %[[D]], %[[M]]
// CHECK: %[[E:.*]] = tosa.exp %[[S]]
// CHECK: %[[T:.*]] = tosa.reduce_sum %[[E]]
// CHECK: %[[R:.*]] = tosa.reciprocal %[[T]]
// CHECK: %[[P:.*]] = tosa.mul %[[E]], %[[R]]
// CHECK: %[[Q:.*]] = lowbit.quantize %[[P]] : tensor<1x4xf32> -> tensor<1x4x!quant.uniform<i8:f32, 3.906250e-03:-128>>
// CHECK: return %[[Q]]
// WARN: warning: loc("softmax"): convert-tosa-to-lowbit: 'tosa.reduce_max', 'tosa.sub', 'tosa.exp', 'tosa.reduce_sum', 'tosa.reciprocal', 'tosa.mul' stay float (no integer form): the C++ target runs them with float kernels (float-fallback=false makes this an error)
// OFF: error: {{.*}}convert-tosa-to-lowbit: 'tosa.reduce_max' has no integer form (float-fallback=false; with float fallback it would stay float)
func.func @softmax_tail(%x: tensor<1x1x4xf32>) -> tensor<1x4xf32> {
  %q = lowbit.quantize %x : tensor<1x1x4xf32> -> tensor<1x1x4x!quant.uniform<i8:f32, 0.5>>
  %d = lowbit.dequantize %q : tensor<1x1x4x!quant.uniform<i8:f32, 0.5>> -> tensor<1x1x4xf32>
  %wq = lowbit.constant dense<1> : tensor<1x4x4xi8> -> tensor<1x4x4x!quant.uniform<i8<-127:127>:f32, 0.25>>
  %w = lowbit.dequantize %wq : tensor<1x4x4x!quant.uniform<i8<-127:127>:f32, 0.25>> -> tensor<1x4x4xf32>
  %zp = "tosa.const"() {values = dense<0.0> : tensor<1xf32>} : () -> tensor<1xf32>
  %mm = tosa.matmul %d, %w, %zp, %zp : (tensor<1x1x4xf32>, tensor<1x4x4xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x1x4xf32>
  %shape = tosa.const_shape {values = dense<[1, 4]> : tensor<2xindex>} : () -> !tosa.shape<2>
  %logits = tosa.reshape %mm, %shape : (tensor<1x1x4xf32>, !tosa.shape<2>) -> tensor<1x4xf32>
  %lq = lowbit.quantize %logits : tensor<1x4xf32> -> tensor<1x4x!quant.uniform<i16:f32, 0.125>>
  %ld = lowbit.dequantize %lq : tensor<1x4x!quant.uniform<i16:f32, 0.125>> -> tensor<1x4xf32>
  %zero = "tosa.const"() {values = dense<0> : tensor<1xi8>} : () -> tensor<1xi8>
  %m = tosa.reduce_max %ld {axis = 1 : i32} : (tensor<1x4xf32>) -> tensor<1x1xf32> loc("softmax")
  %s = tosa.sub %ld, %m : (tensor<1x4xf32>, tensor<1x1xf32>) -> tensor<1x4xf32> loc("softmax")
  %e = tosa.exp %s : (tensor<1x4xf32>) -> tensor<1x4xf32> loc("softmax")
  %t = tosa.reduce_sum %e {axis = 1 : i32} : (tensor<1x4xf32>) -> tensor<1x1xf32> loc("softmax")
  %r = tosa.reciprocal %t : (tensor<1x1xf32>) -> tensor<1x1xf32> loc("softmax")
  %p = tosa.mul %e, %r, %zero : (tensor<1x4xf32>, tensor<1x1xf32>, tensor<1xi8>) -> tensor<1x4xf32> loc("softmax")
  %o = lowbit.quantize %p : tensor<1x4xf32> -> tensor<1x4x!quant.uniform<i8:f32, 0.00390625:-128>>
  %od = lowbit.dequantize %o : tensor<1x4x!quant.uniform<i8:f32, 0.00390625:-128>> -> tensor<1x4xf32>
  return %od : tensor<1x4xf32>
}

// -----

// A sigmoid inside the network (SiLU: x * sigmoid(x)) of a 16-bit
// activation (an 8-bit one is a lookup table:
// convert-tosa-to-lowbit-lookup.mlir): the region is the sigmoid and the
// multiply that reads it; the integer graph resumes at the quantize after
// it.
// CHECK-LABEL: func.func @silu
// CHECK: %[[C:.*]] = lowbit.requant
// CHECK: %[[D:.*]] = lowbit.dequantize %[[C]]
// CHECK: %[[S:.*]] = tosa.sigmoid %[[D]]
// CHECK: %[[M:.*]] = tosa.mul %[[D]], %[[S]]
// CHECK: %[[Q:.*]] = lowbit.quantize %[[M]]
// CHECK: lowbit.max_pool %[[Q]]
// WARN: warning: loc("silu"): convert-tosa-to-lowbit: 'tosa.sigmoid', 'tosa.mul' stay float
// OFF: error: {{.*}}convert-tosa-to-lowbit: 'tosa.sigmoid' has no integer form
func.func @silu(%x: tensor<1x2x2x2xf32>) -> tensor<1x1x1x2xf32> {
  %q = lowbit.quantize %x : tensor<1x2x2x2xf32> -> tensor<1x2x2x2x!quant.uniform<i8:f32, 0.5>>
  %d = lowbit.dequantize %q : tensor<1x2x2x2x!quant.uniform<i8:f32, 0.5>> -> tensor<1x2x2x2xf32>
  %wq = lowbit.constant dense<[[[[1, -2]]], [[[3, 4]]]]> : tensor<2x1x1x2xi8> -> tensor<2x1x1x2x!quant.uniform<i8<-127:127>:f32, 0.5>>
  %w = lowbit.dequantize %wq : tensor<2x1x1x2x!quant.uniform<i8<-127:127>:f32, 0.5>> -> tensor<2x1x1x2xf32>
  %b = "tosa.const"() {values = dense<0.0> : tensor<2xf32>} : () -> tensor<2xf32>
  %zp = "tosa.const"() {values = dense<0.0> : tensor<1xf32>} : () -> tensor<1xf32>
  %c = tosa.conv2d %d, %w, %b, %zp, %zp {acc_type = f32, dilation = array<i64: 1, 1>, pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 1, 1>} : (tensor<1x2x2x2xf32>, tensor<2x1x1x2xf32>, tensor<2xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x2x2x2xf32>
  %cq = lowbit.quantize %c : tensor<1x2x2x2xf32> -> tensor<1x2x2x2x!quant.uniform<i16:f32, 0.25>>
  %cd = lowbit.dequantize %cq : tensor<1x2x2x2x!quant.uniform<i16:f32, 0.25>> -> tensor<1x2x2x2xf32>
  %zero = "tosa.const"() {values = dense<0> : tensor<1xi8>} : () -> tensor<1xi8>
  %s = tosa.sigmoid %cd : (tensor<1x2x2x2xf32>) -> tensor<1x2x2x2xf32> loc("silu")
  %m = tosa.mul %cd, %s, %zero : (tensor<1x2x2x2xf32>, tensor<1x2x2x2xf32>, tensor<1xi8>) -> tensor<1x2x2x2xf32> loc("silu")
  %mq = lowbit.quantize %m : tensor<1x2x2x2xf32> -> tensor<1x2x2x2x!quant.uniform<i8:f32, 0.125>>
  %md = lowbit.dequantize %mq : tensor<1x2x2x2x!quant.uniform<i8:f32, 0.125>> -> tensor<1x2x2x2xf32>
  %p = tosa.max_pool2d %md {kernel = array<i64: 2, 2>, stride = array<i64: 2, 2>, pad = array<i64: 0, 0, 0, 0>} : (tensor<1x2x2x2xf32>) -> tensor<1x1x1x2xf32>
  %pq = lowbit.quantize %p : tensor<1x1x1x2xf32> -> tensor<1x1x1x2x!quant.uniform<i8:f32, 0.125>>
  %pd = lowbit.dequantize %pq : tensor<1x1x1x2x!quant.uniform<i8:f32, 0.125>> -> tensor<1x1x1x2xf32>
  return %pd : tensor<1x1x1x2xf32>
}

// -----

// A float result: a Q/DQ model whose last op stays float (no quantize after
// it) returns float32; the rest of the function is integer.
// CHECK-LABEL: func.func @float_result
// CHECK-SAME: (%[[X:.*]]: tensor<1x4x!quant.uniform<i8:f32, 5.000000e-01>>) -> tensor<1x4xf32>
// CHECK: %[[D:.*]] = lowbit.dequantize %[[X]]
// CHECK: %[[S:.*]] = tosa.sigmoid %[[D]]
// CHECK: return %[[S]] : tensor<1x4xf32>
// WARN: warning: loc("head"): convert-tosa-to-lowbit: 'tosa.sigmoid' stays float
// OFF: error: {{.*}}convert-tosa-to-lowbit: 'tosa.sigmoid' has no integer form
func.func @float_result(%x: tensor<1x4xf32>) -> tensor<1x4xf32> {
  %q = lowbit.quantize %x : tensor<1x4xf32> -> tensor<1x4x!quant.uniform<i8:f32, 0.5>>
  %d = lowbit.dequantize %q : tensor<1x4x!quant.uniform<i8:f32, 0.5>> -> tensor<1x4xf32>
  %s = tosa.sigmoid %d : (tensor<1x4xf32>) -> tensor<1x4xf32> loc("head")
  return %s : tensor<1x4xf32>
}

// -----

// A difference of two activations has no integer form (lowbit.add adds;
// products are lowbit.mul: convert-tosa-to-lowbit-lookup.mlir).
// CHECK-LABEL: func.func @activation_difference
// CHECK: %[[A:.*]] = lowbit.dequantize %arg0
// CHECK: %[[B:.*]] = lowbit.dequantize %arg1
// CHECK: %[[M:.*]] = tosa.sub %[[A]], %[[B]]
// CHECK: lowbit.quantize %[[M]]
// WARN: warning: loc("difference"): convert-tosa-to-lowbit: 'tosa.sub' stays float
// OFF: error: {{.*}}convert-tosa-to-lowbit: 'tosa.sub' has no integer form
func.func @activation_difference(%x: tensor<1x4xf32>, %y: tensor<1x4xf32>) -> tensor<1x4xf32> {
  %qx = lowbit.quantize %x : tensor<1x4xf32> -> tensor<1x4x!quant.uniform<i8:f32, 0.5>>
  %dx = lowbit.dequantize %qx : tensor<1x4x!quant.uniform<i8:f32, 0.5>> -> tensor<1x4xf32>
  %qy = lowbit.quantize %y : tensor<1x4xf32> -> tensor<1x4x!quant.uniform<i8:f32, 0.25>>
  %dy = lowbit.dequantize %qy : tensor<1x4x!quant.uniform<i8:f32, 0.25>> -> tensor<1x4xf32>
  %zero = "tosa.const"() {values = dense<0> : tensor<1xi8>} : () -> tensor<1xi8>
  %m = tosa.sub %dx, %dy : (tensor<1x4xf32>, tensor<1x4xf32>) -> tensor<1x4xf32> loc("difference")
  %o = lowbit.quantize %m : tensor<1x4xf32> -> tensor<1x4x!quant.uniform<i8:f32, 0.125>>
  %od = lowbit.dequantize %o : tensor<1x4x!quant.uniform<i8:f32, 0.125>> -> tensor<1x4xf32>
  return %od : tensor<1x4xf32>
}

// -----

// A float op nothing reads is dropped with the rest of the unused float
// graph and not warned about. (float-fallback=false checks the graph before
// the lowering, so it still names it.)
// CHECK-LABEL: func.func @dead_float_op
// CHECK-NOT: tosa.exp
// CHECK: return
// WARN-NOT: loc("dead")
// OFF: error: {{.*}}convert-tosa-to-lowbit: 'tosa.exp' has no integer form
func.func @dead_float_op(%x: tensor<1x4xf32>) -> tensor<1x4xf32> {
  %q = lowbit.quantize %x : tensor<1x4xf32> -> tensor<1x4x!quant.uniform<i8:f32, 0.5>>
  %d = lowbit.dequantize %q : tensor<1x4x!quant.uniform<i8:f32, 0.5>> -> tensor<1x4xf32>
  %e = tosa.exp %d : (tensor<1x4xf32>) -> tensor<1x4xf32> loc("dead")
  return %d : tensor<1x4xf32>
}
