// RUN: lowbit-opt %s --split-input-file --convert-lowbit-to-accel -verify-diagnostics
// RUN: not lowbit-opt %s --split-input-file --convert-lowbit-to-accel="target-set=tn=0" 2>&1 | FileCheck %s --check-prefix=BADSET
// RUN: not lowbit-opt %s --split-input-file --convert-lowbit-to-accel="target-set=lanes=4" 2>&1 | FileCheck %s --check-prefix=BADKEY
// RUN: not lowbit-opt %s --split-input-file --convert-lowbit-to-accel="target-file=%t.missing" 2>&1 | FileCheck %s --check-prefix=NOFILE
// RUN: printf 'tn = 16\nmodes = multiply, cordic\n' > %t.target
// RUN: not lowbit-opt %s --split-input-file --convert-lowbit-to-accel="target-file=%t.target" 2>&1 | FileCheck %s --check-prefix=BADFILE

// BADSET: error: convert-lowbit-to-accel: target-set: the array is 0x16; each side must be 1 to 1024
// BADKEY: error: convert-lowbit-to-accel: target-set: unknown key 'lanes'
// NOFILE: error: convert-lowbit-to-accel: cannot read target description '{{.*}}.missing'
// BADFILE: error: convert-lowbit-to-accel: {{.*}}.target: line 2: modes: unknown mode 'cordic'

!q = !quant.uniform<i8:f32, 0.1:0>

func.func @pad(%x: tensor<1x4x!q>) -> tensor<1x6x!q> {
  // expected-error @+1 {{cannot be mapped to accel target 'accel' (layer 'lowbit.pad'): the accel target has no lowering for lowbit.pad}}
  %z = lowbit.pad %x {pad_value = 0 : i64, padding = array<i64: 0, 0, 1, 1>} : tensor<1x4x!q> -> tensor<1x6x!q>
  return %z : tensor<1x6x!q>
}

// -----

!q = !quant.uniform<i8:f32, 0.1:0>

// Lookup tables and products of activations have no accel instructions.
func.func @lut(%x: tensor<1x4x!q>) -> tensor<1x4x!q> {
  // expected-error @+1 {{cannot be mapped to accel target 'accel' (layer 'lowbit.lut'): the accel target has no lowering for lowbit.lut}}
  %y = lowbit.lut %x {table = array<i32: 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0>} : tensor<1x4x!q> -> tensor<1x4x!q>
  return %y : tensor<1x4x!q>
}

// -----

!q = !quant.uniform<i8:f32, 0.1:0>

func.func @product(%x: tensor<1x4x!q>) -> tensor<1x4x!q> {
  // expected-error @+1 {{cannot be mapped to accel target 'accel' (layer 'lowbit.mul'): the accel target has no lowering for lowbit.mul}}
  %y = lowbit.mul %x, %x {multiplier = 1073741824 : i32, shift = 31 : i32} : (tensor<1x4x!q>, tensor<1x4x!q>) -> tensor<1x4x!q>
  return %y : tensor<1x4x!q>
}

// -----

!u = !quant.uniform<u8:f32, 0.1:128>

// expected-error @+1 {{cannot be mapped to accel target 'accel': input 0 is 'tensor<1x4x!quant.uniform<u8:f32, 1.000000e-01:128>>'; the target takes signed 8-bit per-tensor quantized tensors}}
func.func @unsigned(%x: tensor<1x4x!u>) -> tensor<1x4x!u> {
  return %x : tensor<1x4x!u>
}

// -----

!q = !quant.uniform<i8:f32, 0.1:0>
!w = !quant.uniform<i8<-127:127>:f32, 0.01>

func.func @wide_acc(%x: tensor<1x4x!q>) -> tensor<1x2x!q> {
  %w = lowbit.constant dense<1> : tensor<2x4xi8> -> tensor<2x4x!w>
  // expected-error @+1 {{(layer 'lowbit.fully_connected'): its accumulator is 'i64'; the target has 32-bit accumulators}}
  %a = lowbit.fully_connected %x, %w : (tensor<1x4x!q>, tensor<2x4x!w>) -> tensor<1x2xi64>
  %y = lowbit.requant %a {multiplier = array<i32: 1073741824>, shift = array<i32: 30>} : tensor<1x2xi64> -> tensor<1x2x!q>
  return %y : tensor<1x2x!q>
}

// -----

!q = !quant.uniform<i8:f32, 0.1:0>
!w = !quant.uniform<i8<-127:127>:f32, 0.01>

func.func @batch(%x: tensor<2x4x4x1x!q>) -> tensor<2x4x4x1x!q> {
  %w = lowbit.constant dense<1> : tensor<1x1x1x1xi8> -> tensor<1x1x1x1x!w>
  // expected-error @+1 {{batch 2: the target runs batch 1}}
  %a = lowbit.conv2d %x, %w : (tensor<2x4x4x1x!q>, tensor<1x1x1x1x!w>) -> tensor<2x4x4x1xi32>
  %y = lowbit.requant %a {multiplier = array<i32: 1073741824>, shift = array<i32: 30>} : tensor<2x4x4x1xi32> -> tensor<2x4x4x1x!q>
  return %y : tensor<2x4x4x1x!q>
}

// -----

!q = !quant.uniform<i8:f32, 0.1:0>
!w = !quant.uniform<i8<-127:127>:f32, 0.01>

func.func @two_users(%x: tensor<1x4x!q>) -> (tensor<1x2x!q>, tensor<1x2x!q>) {
  %w = lowbit.constant dense<1> : tensor<2x4xi8> -> tensor<2x4x!w>
  // expected-error @+1 {{its accumulator must feed exactly one lowbit.requant}}
  %a = lowbit.fully_connected %x, %w : (tensor<1x4x!q>, tensor<2x4x!w>) -> tensor<1x2xi32>
  %y = lowbit.requant %a {multiplier = array<i32: 1073741824>, shift = array<i32: 30>} : tensor<1x2xi32> -> tensor<1x2x!q>
  %z = lowbit.requant %a {multiplier = array<i32: 1073741824>, shift = array<i32: 31>} : tensor<1x2xi32> -> tensor<1x2x!q>
  return %y, %z : tensor<1x2x!q>, tensor<1x2x!q>
}

// -----

!q = !quant.uniform<i8:f32, 0.1:0>
!w = !quant.uniform<i8<-127:127>:f32, 0.01>

// One output row of a 3x3 convolution over a 2000-pixel-wide image of 16
// channels reads 3 rows of 2002 padded pixels: 96096 bytes; the input buffer
// has 65536.
func.func @too_big(%x: tensor<1x3x2000x16x!q>) -> tensor<1x3x2000x1x!q> {
  %w = lowbit.constant dense<1> : tensor<1x3x3x16xi8> -> tensor<1x3x3x16x!w>
  // expected-error @+1 {{(layer 'lowbit.conv2d'): its smallest tile (one output row, 1 output channels) needs 96096 bytes of input rows (input_buffer = 65536)}}
  %a = lowbit.conv2d %x, %w {pad = array<i64: 1, 1, 1, 1>} : (tensor<1x3x2000x16x!q>, tensor<1x3x3x16x!w>) -> tensor<1x3x2000x1xi32>
  %y = lowbit.requant %a {multiplier = array<i32: 1073741824>, shift = array<i32: 30>} : tensor<1x3x2000x1xi32> -> tensor<1x3x2000x1x!q>
  return %y : tensor<1x3x2000x1x!q>
}

// -----

!q = !quant.uniform<i8:f32, 0.1:0>

// [2, 3, 4] -> [4, 2, 3] swaps the groups (2, 3) and (4): strided stores;
// swapping two dimensions in front of a kept one is not that pattern.
func.func @transpose(%x: tensor<2x3x4x!q>) -> tensor<4x2x3x!q> {
  %t = lowbit.transpose %x {perms = array<i32: 2, 0, 1>} : tensor<2x3x4x!q> -> tensor<4x2x3x!q>
  // expected-error @+1 {{only transposes that swap two groups of adjacent dimensions (such as NCHW to NHWC) have a DMA form}}
  %u = lowbit.transpose %t {perms = array<i32: 1, 0, 2>} : tensor<4x2x3x!q> -> tensor<2x4x3x!q>
  %v = lowbit.reshape %u : tensor<2x4x3x!q> -> tensor<4x2x3x!q>
  return %v : tensor<4x2x3x!q>
}

// -----

!q = !quant.uniform<i8:f32, 0.1:0>

func.func @avg_pool_pad(%x: tensor<1x4x4x3x!q>) -> tensor<1x4x4x3x!q> {
  // expected-error @+1 {{average pooling with padding is not in this ISA version (the pool unit has no per-window counts)}}
  %a = lowbit.avg_pool %x {kernel = array<i64: 3, 3>, pad = array<i64: 1, 1, 1, 1>} : tensor<1x4x4x3x!q> -> tensor<1x4x4x3x!q>
  return %a : tensor<1x4x4x3x!q>
}

// -----

// An input of narrower integers than the target's activations: the binary's
// input record (scale and zero point) would quantize floats outside the
// calibrated range to int8 values beyond [-8, 7], where the evaluator and
// the C++ clamp.
!q4 = !quant.uniform<i8<-8:7>:f32, 0.1:0>

// expected-error @+1 {{convert-lowbit-to-accel: input 'input0' cannot be mapped to accel target 'accel': it is 'tensor<1x4x!quant.uniform<i8<-8:7>:f32, 1.000000e-01>>', integers in [-8, 7], but the target's input record quantizes to its activation_bits = 8 range [-128, 127] (quantize the inputs to 8 bits, e.g. lowbitc --activation-bits=8)}}
func.func @narrow_input(%x: tensor<1x4x!q4>) -> tensor<1x4x!q4> {
  return %x : tensor<1x4x!q4>
}
