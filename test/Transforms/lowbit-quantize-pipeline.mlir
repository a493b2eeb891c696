// RUN: lowbit-opt %s --lowbit-quantize-pipeline | FileCheck %s
// RUN: lowbit-opt %s --lowbit-quantize-pipeline='weight-bits=4 per-channel=false' | FileCheck %s --check-prefix=W4
// RUN: lowbit-opt %s --lowbit-quantize-pipeline='activation-bits=6 weight-scheme=pow2 weight-bits=4 weight-rounding=nearest log-scale=max' --dump-pass-pipeline -o /dev/null 2>&1 | FileCheck %s --check-prefix=PIPE
// RUN: not lowbit-opt %s --lowbit-quantize-pipeline='weight-scheme=ternary' 2>&1 | FileCheck %s --check-prefix=BAD
// RUN: not lowbit-opt %s --lowbit-quantize-pipeline='no-such-option=1' 2>&1 | FileCheck %s --check-prefix=UNKNOWN

// lowbitc's quantization of a calibrated float graph, by name: the ranges
// calibration recorded (lowbit.range) become activation Q/DQ pairs, the
// weights are quantized data-free. The pipeline's options are forwarded to
// lowbit-insert-qdq.
// PIPE: Pass Manager with 1 passes:
// PIPE-NEXT: builtin.module(
// PIPE-NEXT: func.func(
// PIPE-NEXT: lowbit-insert-qdq{activation-bits=6 log-scale=max per-channel=true rounding-mean-weight=1.000000e-01 rounding-tap-correlation=8.000000e-01 weight-bits=4 weight-rounding=nearest weight-scheme=pow2}
// PIPE-NEXT: )
// PIPE-NEXT: )
// The pass checks its options; the pipeline rejects options it lacks.
// BAD: error: lowbit-insert-qdq: unknown weight-scheme 'ternary' (symmetric, asymmetric or pow2)
// UNKNOWN: no such option no-such-option

// CHECK-LABEL: func.func @conv
// CHECK-SAME: (%[[X:.*]]: tensor<1x2x2x2xf32> {lowbit.range
// CHECK: %[[Q:.*]] = lowbit.quantize %[[X]] : {{.*}} -> tensor<1x2x2x2x!quant.uniform<i8:f32, 0.0039215688593685627:-128>>
// CHECK: %[[D:.*]] = lowbit.dequantize %[[Q]]
// CHECK: %[[WQ:.*]] = lowbit.constant dense<{{\[\[\[\[}}127, -64]]], {{\[\[\[}}127, 64]]]]> : tensor<2x1x1x2xi8> -> tensor<2x1x1x2x!quant.uniform<i8<-127:127>:f32:0, {0.0078740157186985015,0.0019685039296746254}>>
// CHECK: %[[WD:.*]] = lowbit.dequantize %[[WQ]]
// CHECK: %[[C:.*]] = tosa.conv2d %[[D]], %[[WD]]
// CHECK: %[[R:.*]] = tosa.clamp %[[C]]
// CHECK: lowbit.quantize %[[R]] : {{.*}} -> tensor<1x2x2x2x!quant.uniform<i8:f32, 0.031372550874948502:-64>>
// W4: lowbit.constant dense<{{\[\[\[\[}}7, -3]]], {{\[\[\[}}2, 1]]]]> : tensor<2x1x1x2xi4> -> tensor<2x1x1x2x!quant.uniform<i4<-7:7>:f32, 0.1428571492433548>>
func.func @conv(%x: tensor<1x2x2x2xf32> {lowbit.range = array<f64: 0.0, 1.0>}) -> tensor<1x2x2x2xf32> {
  %w = "tosa.const"() {values = dense<[[[[1.0, -0.5]]], [[[0.25, 0.125]]]]> : tensor<2x1x1x2xf32>} : () -> tensor<2x1x1x2xf32>
  %b = "tosa.const"() {values = dense<0.0> : tensor<2xf32>} : () -> tensor<2xf32>
  %zp = "tosa.const"() {values = dense<0.0> : tensor<1xf32>} : () -> tensor<1xf32>
  %c = tosa.conv2d %x, %w, %b, %zp, %zp {acc_type = f32, dilation = array<i64: 1, 1>, pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 1, 1>, lowbit.range = array<f64: -3.0, 6.0>} : (tensor<1x2x2x2xf32>, tensor<2x1x1x2xf32>, tensor<2xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x2x2x2xf32>
  %r = tosa.clamp %c {min_val = -2.0 : f32, max_val = 6.0 : f32, lowbit.range = array<f64: -2.0, 6.0>} : (tensor<1x2x2x2xf32>) -> tensor<1x2x2x2xf32>
  return %r : tensor<1x2x2x2xf32>
}
