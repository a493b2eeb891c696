// RUN: lowbit-opt %s --split-input-file --convert-lowbit-to-emitc='model-name=m' | FileCheck %s
//
// One case per family of lib/Conversion/LowBitToEmitC: each op becomes one
// runtime call on pointers into the caller's buffers, the arena
// (bufferAt(arena, offset)) or the weight blob (bufferAt(m_weights, offset)).
// The fused conv + requant family and the module attributes are in
// test/Target/Cpp/emit-cpp.mlir and emit-cpp-fusion.mlir; the errors in
// test/Target/Cpp/invalid.mlir.

// Elementwise (EmitElementwise.cpp): an add whose intermediates fit 32-bit
// lanes calls the vector addRequant with the selected path; a clamp calls
// clampTensor into the caller's output.
!a = !quant.uniform<i8:f32, 0.1:-3>
!b = !quant.uniform<i8:f32, 0.2:1>
func.func @main(%x: tensor<1x4x4x2x!a>, %y: tensor<1x4x4x2x!b>) -> tensor<1x4x4x2x!b> {
  %s = lowbit.add %x, %y {input_shift = 20 : i32, lhs_multiplier = 1073741824 : i32, lhs_shift = 31 : i32, rhs_multiplier = 1431655765 : i32, rhs_shift = 33 : i32, output_multiplier = 1288490189 : i32, output_shift = 50 : i32} : (tensor<1x4x4x2x!a>, tensor<1x4x4x2x!b>) -> tensor<1x4x4x2x!b>
  %c = lowbit.clamp %s {min = 3 : i64, max = 63 : i64} : tensor<1x4x4x2x!b>
  return %c : tensor<1x4x4x2x!b>
}
// CHECK-LABEL: emitc.func @m_run(
// CHECK-SAME: %[[X:[a-z0-9]+]]: !emitc.ptr<!emitc.opaque<"const int8_t">>, %[[Y:[a-z0-9]+]]: !emitc.ptr<!emitc.opaque<"const int8_t">>, %[[OUT:[a-z0-9]+]]: !emitc.ptr<i8>, %[[ARENA:[a-z0-9]+]]: !emitc.ptr<!emitc.opaque<"void">>)
// CHECK: %[[ISA:.*]] = call_opaque "lowbit::rt::modelIsa"()
// CHECK: %[[SUM:.*]] = call_opaque "lowbit::rt::bufferAt"(%[[ARENA]]) {args = [0 : index, #emitc.opaque<"0">], template_args = [#emitc.opaque<"int8_t">]}
// CHECK: call_opaque "lowbit::rt::addRequant"(%[[X]], %[[Y]], %[[SUM]], %[[ISA]]) {args = [0 : index, 1 : index, 2 : index, #emitc.opaque<"32">, #emitc.opaque<"lowbit::rt::QAdd{1, 1, -3, 1, 20, lowbit::rt::ScaleMultiplier{1073741824, 31}, lowbit::rt::ScaleMultiplier{1431655765, 33}, lowbit::rt::ScaleMultiplier{1288490189, 50}, 1, -128, 127, lowbit::rt::RoundingMode::SingleRound}">, 3 : index]}
// CHECK: call_opaque "lowbit::rt::clampTensor"(%[[SUM]], %[[OUT]]) {args = [0 : index, 1 : index, #emitc.opaque<"32">, #emitc.opaque<"3">, #emitc.opaque<"63">], template_args = [#emitc.opaque<"int8_t">]}
// CHECK-LABEL: emitc.func @m_run_float(

// -----

// Data movement (EmitMovement.cpp): shapes, permutations and slice bounds
// are arrays in the weight blob, 64-byte aligned.
!a = !quant.uniform<i8:f32, 0.1:-3>
func.func @main(%x: tensor<1x4x4x2x!a>) -> tensor<1x2x2x2x!a> {
  %t = lowbit.transpose %x {perms = array<i32: 0, 3, 1, 2>} : tensor<1x4x4x2x!a> -> tensor<1x2x4x4x!a>
  %s = lowbit.slice %t {start = array<i64: 0, 0, 1, 1>, size = array<i64: 1, 2, 2, 2>} : tensor<1x2x4x4x!a> -> tensor<1x2x2x2x!a>
  return %s : tensor<1x2x2x2x!a>
}
// CHECK-LABEL: emitc.func @m_run(
// CHECK-SAME: %[[X:[a-z0-9]+]]: !emitc.ptr<!emitc.opaque<"const int8_t">>, %[[OUT:[a-z0-9]+]]: !emitc.ptr<i8>, %[[ARENA:[a-z0-9]+]]: !emitc.ptr<!emitc.opaque<"void">>)
// CHECK: %[[W:.*]] = literal "m_weights"
// CHECK: %[[T:.*]] = call_opaque "lowbit::rt::bufferAt"(%[[ARENA]]) {args = [0 : index, #emitc.opaque<"0">], template_args = [#emitc.opaque<"int8_t">]}
// CHECK: %[[SHAPE:.*]] = call_opaque "lowbit::rt::bufferAt"(%[[W]]) {args = [0 : index, #emitc.opaque<"0">], template_args = [#emitc.opaque<"int64_t">]}
// CHECK: %[[PERM:.*]] = call_opaque "lowbit::rt::bufferAt"(%[[W]]) {args = [0 : index, #emitc.opaque<"64">], template_args = [#emitc.opaque<"int32_t">]}
// CHECK: call_opaque "lowbit::rt::transpose"(%[[X]], %[[T]], %[[SHAPE]], %[[PERM]]) {args = [0 : index, 1 : index, #emitc.opaque<"1">, 2 : index, 3 : index, #emitc.opaque<"4">]}
// CHECK: %[[S0:.*]] = call_opaque "lowbit::rt::bufferAt"(%[[W]]) {args = [0 : index, #emitc.opaque<"128">]
// CHECK: %[[S1:.*]] = call_opaque "lowbit::rt::bufferAt"(%[[W]]) {args = [0 : index, #emitc.opaque<"192">]
// CHECK: %[[S2:.*]] = call_opaque "lowbit::rt::bufferAt"(%[[W]]) {args = [0 : index, #emitc.opaque<"256">]
// CHECK: call_opaque "lowbit::rt::slice"(%[[T]], %[[OUT]], %[[S0]], %[[S1]], %[[S2]]) {args = [0 : index, 1 : index, #emitc.opaque<"1">, 2 : index, #emitc.opaque<"4">, 3 : index, 4 : index]}

// -----

// Pools (EmitLayers.cpp): average pools (a global one is a whole-map
// window) call avgPool2dInt with the output's zero point and range.
!a = !quant.uniform<i8:f32, 0.1:-3>
func.func @main(%x: tensor<1x4x4x2x!a>) -> tensor<1x1x1x2x!a> {
  %p = lowbit.avg_pool %x {kernel = array<i64: 3, 3>, pad = array<i64: 1, 1, 1, 1>, count_include_pad = true} : tensor<1x4x4x2x!a> -> tensor<1x4x4x2x!a>
  %g = lowbit.global_avg_pool %p : tensor<1x4x4x2x!a> -> tensor<1x1x1x2x!a>
  return %g : tensor<1x1x1x2x!a>
}
// CHECK-LABEL: emitc.func @m_run(
// CHECK: call_opaque "lowbit::rt::avgPool2dInt"({{.*}}) {args = [0 : index, 1 : index, #emitc.opaque<"lowbit::rt::Pool2DShape{1, 4, 4, 2, 4, 4, 3, 3, 1, 1, 1, 1}">, #emitc.opaque<"-3">, #emitc.opaque<"-128">, #emitc.opaque<"127">, #emitc.opaque<"true">], template_args = [#emitc.opaque<"int8_t">]}
// CHECK: call_opaque "lowbit::rt::avgPool2dInt"({{.*}}) {args = [0 : index, 1 : index, #emitc.opaque<"lowbit::rt::Pool2DShape{1, 4, 4, 2, 1, 1, 4, 4, 1, 1, 0, 0}">, #emitc.opaque<"-3">, #emitc.opaque<"-128">, #emitc.opaque<"127">, #emitc.opaque<"false">], template_args = [#emitc.opaque<"int8_t">]}

// -----

// Float fallback (EmitFloatFallback.cpp): the region's edges dequantize and
// quantize, the float op calls its float kernel, on float32 arena buffers.
!a = !quant.uniform<i8:f32, 0.1:-3>
func.func @main(%x: tensor<4x!a>) -> tensor<4x!a> {
  %f = lowbit.dequantize %x : tensor<4x!a> -> tensor<4xf32>
  %s = tosa.sigmoid %f : (tensor<4xf32>) -> tensor<4xf32>
  %q = lowbit.quantize %s : tensor<4xf32> -> tensor<4x!a>
  return %q : tensor<4x!a>
}
// CHECK-LABEL: emitc.func @m_run(
// CHECK-SAME: %[[X:[a-z0-9]+]]: !emitc.ptr<!emitc.opaque<"const int8_t">>, %[[OUT:[a-z0-9]+]]: !emitc.ptr<i8>, %[[ARENA:[a-z0-9]+]]: !emitc.ptr<!emitc.opaque<"void">>)
// CHECK: %[[F:.*]] = call_opaque "lowbit::rt::bufferAt"(%[[ARENA]]) {args = [0 : index, #emitc.opaque<"0">], template_args = [#emitc.opaque<"float">]}
// CHECK: call_opaque "lowbit::rt::dequantizeTensor"(%[[X]], %[[F]]) {args = [0 : index, 1 : index, #emitc.opaque<"4">, #emitc.opaque<"0x1.999999999999ap-4">, #emitc.opaque<"-3">], template_args = [#emitc.opaque<"int8_t">]}
// CHECK: %[[S:.*]] = call_opaque "lowbit::rt::bufferAt"(%[[ARENA]]) {args = [0 : index, #emitc.opaque<"64">], template_args = [#emitc.opaque<"float">]}
// CHECK: call_opaque "lowbit::rt::unaryTensorF32"(%[[F]], %[[S]]) {args = [0 : index, 1 : index, #emitc.opaque<"4">, #emitc.opaque<"lowbit::rt::UnaryKind::Sigmoid">]}
// CHECK: call_opaque "lowbit::rt::quantizeToBytes"(%[[S]], %[[OUT]]) {args = [0 : index, 1 : index, #emitc.opaque<"4">, #emitc.opaque<"static_cast<float>(0x1.999999999999ap-4)">, #emitc.opaque<"-3">, #emitc.opaque<"-128">, #emitc.opaque<"127">, #emitc.opaque<"lowbit::rt::modelIsa()">]}
