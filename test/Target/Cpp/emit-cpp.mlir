// lowbit-translate --emit-cpp: convert-lowbit-to-emitc then MLIR's C++
// emitter. One runtime call per op (a conv and the requant of its
// accumulator are one fused call), tensors at planned arena offsets,
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
// CHECK: #include "lowbit/runtime/Fast.h"
// CHECK: #include "tiny.h"
// CHECK: extern "C" const unsigned char tiny_weights[];
// CHECK: extern "C" int32_t tiny_run(const int8_t* [[IN:v[0-9]+]], int8_t* [[OUT:v[0-9]+]], void* [[ARENA:v[0-9]+]]) {
// CHECK: lowbit::rt::Isa [[ISA:v[0-9]+]] = lowbit::rt::modelIsa();
// The conv and its requant are one call on packed weights: no int32
// accumulator in the arena, and the constants are only in their packed
// form (weights 16 channels x 4 inputs at 0, bias at 64, the zero row at
// 128, multipliers at 192, shifts at 256; no negative side).
// CHECK-NOT: bufferAt<int32_t>
// CHECK-NOT: bufferAt<int8_t>(tiny_weights
// CHECK: int8_t* [[R:v[0-9]+]] = lowbit::rt::bufferAt<int8_t>([[ARENA]], 0);
// CHECK-NEXT: lowbit::rt::convRequantGemm([[IN]], [[R]], tiny_weights, lowbit::rt::QGemmConv{lowbit::rt::Conv2DShape{1, 4, 4, 2, 4, 4, 2, 1, 1, 1, 1, 1, 1, 0, 0, 1}, 0, 64, 128, 192, 256, -1, -1, 1, 1, 1, 127, lowbit::rt::RoundingMode::SingleRound, 8}, [[ISA]]);
// CHECK: lowbit::rt::maxPoolBytes([[R]], [[OUT]], lowbit::rt::Pool2DShape{1, 4, 4, 2, 2, 2, 2, 2, 2, 2, 0, 0}, true, [[ISA]]);
// CHECK: return
// CHECK: extern "C" int32_t tiny_run_float(const float* {{v[0-9]+}}, float* {{v[0-9]+}}, void* {{v[0-9]+}}) {
// CHECK: lowbit::rt::quantizeToBytes({{.*}}, 32, static_cast<float>(0x1.99999{{[0-9a-f]*}}p-4), -3, -128, 127, lowbit::rt::modelIsa());
// CHECK: tiny_run(
// CHECK: lowbit::rt::dequantizeTensor<int8_t>({{.*}}, 8, 0x1.99999{{[0-9a-f]*}}p-3, 1);

// The header, blob and arena size travel as module attributes.
// EMITC: module attributes {lowbit.arena_bytes = {{[0-9]+}} : i64, lowbit.header = "{{.*}}#define TINY_ARENA_BYTES
// EMITC-SAME: lowbit.model_name = "tiny"
// EMITC: emitc.func @tiny_run(
// EMITC: call_opaque "lowbit::rt::modelIsa"
// EMITC: call_opaque "lowbit::rt::convRequantGemm"
// EMITC: emitc.func @tiny_run_float(
