// lowbit-translate --emit-cpp: convert-lowbit-to-emitc then MLIR's C++
// emitter. One runtime call per op, tensors at planned arena offsets,
// constants in the weights blob, a result computed straight into the
// caller's output, and the float wrapper.
// RUN: lowbit-translate --emit-cpp --model-name=tiny %s | FileCheck %s
// RUN: lowbit-opt --convert-lowbit-to-emitc='model-name=tiny' %s | FileCheck %s --check-prefix=EMITC
// RUN: lowbit-opt --convert-lowbit-to-emitc='model-name=tiny' %s | lowbit-translate --emit-cpp | FileCheck %s

!in = !quant.uniform<i8:f32, 0.1:-3>
!out = !quant.uniform<i8:f32, 0.2:1>
func.func @main(%x: tensor<1x4x4x2x!in>) -> tensor<1x2x2x2x!out> {
  %w = lowbit.constant dense<[[[[1, -2]]], [[[3, 4]]]]> : tensor<2x1x1x2xi8> -> tensor<2x1x1x2x!quant.uniform<i8<-127:127>:f32, 0.05>>
  %b = lowbit.constant dense<[10, -10]> : tensor<2xi32> -> tensor<2xi32>
  %acc = lowbit.conv2d %x, %w, %b : (tensor<1x4x4x2x!in>, tensor<2x1x1x2x!quant.uniform<i8<-127:127>:f32, 0.05>>, tensor<2xi32>) -> tensor<1x4x4x2xi32>
  %r = lowbit.requant %acc {multiplier = array<i32: 1073741824>, shift = array<i32: 32>, min = 1 : i64} : tensor<1x4x4x2xi32> -> tensor<1x4x4x2x!out>
  %p = lowbit.max_pool %r {kernel = array<i64: 2, 2>, stride = array<i64: 2, 2>} : tensor<1x4x4x2x!out> -> tensor<1x2x2x2x!out>
  return %p : tensor<1x2x2x2x!out>
}

// CHECK: #include "lowbit/runtime/Ops.h"
// CHECK: #include "tiny.h"
// CHECK: extern "C" const unsigned char tiny_weights[];
// CHECK: extern "C" int32_t tiny_run(const int8_t* [[IN:v[0-9]+]], int8_t* [[OUT:v[0-9]+]], void* [[ARENA:v[0-9]+]]) {
// CHECK-DAG: const int8_t* [[W:v[0-9]+]] = lowbit::rt::bufferAt<int8_t>(tiny_weights, {{[0-9]+}});
// CHECK-DAG: const int32_t* [[B:v[0-9]+]] = lowbit::rt::bufferAt<int32_t>(tiny_weights, {{[0-9]+}});
// CHECK: int32_t* [[ACC:v[0-9]+]] = lowbit::rt::bufferAt<int32_t>([[ARENA]], 0);
// CHECK: lowbit::rt::conv2dTensor<int8_t, int8_t, int32_t>([[IN]], [[W]], [[B]], -3, [[ACC]], lowbit::rt::Conv2DShape{1, 4, 4, 2, 4, 4, 2, 1, 1, 1, 1, 1, 1, 0, 0, 1});
// The requant result may not overlap the live accumulator (128 bytes).
// CHECK: int8_t* [[R:v[0-9]+]] = lowbit::rt::bufferAt<int8_t>([[ARENA]], 128);
// CHECK: lowbit::rt::requantTensor<int32_t, int8_t>([[ACC]], [[R]], 32, 1, 1, {{v[0-9]+}}, {{v[0-9]+}}, false, nullptr, nullptr, false, 0, 1, 1, 127, lowbit::rt::RoundingMode::SingleRound);
// The returned value is computed into the caller's output.
// CHECK: lowbit::rt::maxPool2d<int8_t>([[R]], [[OUT]], lowbit::rt::Pool2DShape{1, 4, 4, 2, 2, 2, 2, 2, 2, 2, 0, 0});
// CHECK: return
// CHECK: extern "C" int32_t tiny_run_float(const float* {{v[0-9]+}}, float* {{v[0-9]+}}, void* {{v[0-9]+}}) {
// CHECK: lowbit::rt::quantizeTensor<int8_t>({{.*}}, 32, static_cast<float>(0x1.99999{{[0-9a-f]*}}p-4), -3, -128, 127);
// CHECK: tiny_run(
// CHECK: lowbit::rt::dequantizeTensor<int8_t>({{.*}}, 8, 0x1.99999{{[0-9a-f]*}}p-3, 1);

// The header, blob and arena size travel as module attributes.
// EMITC: module attributes {lowbit.arena_bytes = {{[0-9]+}} : i64, lowbit.header = "{{.*}}#define TINY_ARENA_BYTES
// EMITC-SAME: lowbit.model_name = "tiny"
// EMITC: emitc.func @tiny_run(
// EMITC: call_opaque "lowbit::rt::conv2dTensor"
// EMITC: emitc.func @tiny_run_float(
