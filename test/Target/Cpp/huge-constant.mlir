// A constant beyond lowbit's 2 GiB tensor limit (a splat claims 2^32
// elements in a few bytes of IR) is an error before anything is allocated,
// through the pass as through the translation.
// RUN: not lowbit-opt %s --convert-lowbit-to-emitc 2>&1 | FileCheck %s
// RUN: not lowbit-translate --emit-cpp %s 2>&1 | FileCheck %s --check-prefix=TRANSLATE

// CHECK: error: convert-lowbit-to-emitc: constant 'tensor<65536x65536x!quant.uniform<i8:f32, 1.000000e-01>>' is larger than lowbit's limit of 2 GiB for one tensor
// TRANSLATE: error: {{.*}}2 GiB
func.func @main(%x: tensor<4x!quant.uniform<i8:f32, 0.1>>) -> tensor<65536x65536x!quant.uniform<i8:f32, 0.1>> {
  %c = lowbit.constant dense<1> : tensor<65536x65536xi8> -> tensor<65536x65536x!quant.uniform<i8:f32, 0.1>>
  return %c : tensor<65536x65536x!quant.uniform<i8:f32, 0.1>>
}
