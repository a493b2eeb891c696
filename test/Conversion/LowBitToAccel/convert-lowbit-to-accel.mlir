// RUN: lowbit-opt %s --split-input-file --convert-lowbit-to-accel | FileCheck %s
// RUN: lowbit-opt %s --split-input-file --convert-lowbit-to-accel="target-set=tn=8,tm=8,input_buffer=72,weight_buffer=256,output_buffer=1024" | FileCheck %s --check-prefix=SMALL
// RUN: lowbit-opt %s --split-input-file --convert-lowbit-to-accel="target-set=modes=multiply+shift2,tn=2,tm=2" | FileCheck %s --check-prefix=SHIFT

!qx = !quant.uniform<i8:f32, 0.02:-4>
!qw = !quant.uniform<i8<-127:127>:f32:0, {0.01, 0.02, 0.03}>
!qy = !quant.uniform<i8:f32, 0.1:-128>

// A 3x3 convolution with padding and a folded PReLU: one tile of all rows
// and channels; the input load pads with the zero point; the MAC reads the
// bias after the weights, the requant its parameters after the biases.
// CHECK-LABEL: accel.program @conv
// CHECK-SAME: dram_bytes = 256
// CHECK-SAME: target = {accumulator_bits = 32 : i64, activation_bits = 8 : i64, dma_bytes_per_cycle = 8 : i64, dma_latency = 32 : i64, dual_requant = 1 : i64, input_buffer = 65536 : i64, modes = "multiply,shift1,shift2", name = "accel", output_buffer = 65536 : i64, tm = 16 : i64, tn = 16 : i64, weight_bits = 8 : i64, weight_buffer = 65536 : i64}
// CHECK: accel.data dense<{{.*}}> : tensor<114xi8>
// CHECK: accel.tensor "x" {addr = 128 : i64, scale = 2.000000e-02 : f64, shape = array<i64: 1, 4, 4, 2>, zp = -4 : i64}
// CHECK: accel.tensor "y" {addr = 192 : i64, output, scale = 1.000000e-01 : f64, shape = array<i64: 1, 4, 4, 3>, zp = -128 : i64}
// CHECK-NEXT: accel.load {buf = 0 : i64, cols = 4 : i64, dram = 128 : i64, elem = 2 : i64, layer = "lowbit.conv2d", pad_bottom = 1 : i64, pad_left = 1 : i64, pad_right = 1 : i64, pad_top = 1 : i64, pad_value = -4 : i64, rows = 4 : i64, sram = 0 : i64, stride = 8 : i64}
// CHECK-NEXT: accel.load {buf = 1 : i64, cols = 1 : i64, dram = 0 : i64, elem = 114 : i64, {{.*}}push_next, rows = 1 : i64, sram = 0 : i64, stride = 114 : i64}
// CHECK-NEXT: accel.mac {acc = 0 : i64, bias = 54 : i64, cin = 2 : i64, cout = 3 : i64, depthwise = 0 : i64, dh = 1 : i64, dw = 1 : i64, in_c = 2 : i64, in_c_off = 0 : i64, in_w = 6 : i64, init = 1 : i64, inp = 0 : i64, kh = 3 : i64, kw = 3 : i64, layer = "lowbit.conv2d", mode = 0 : i64, out_h = 4 : i64, out_w = 4 : i64, pop_prev, sh = 1 : i64, sw = 1 : i64, wgt = 0 : i64, wgt2 = 0 : i64, words = 0 : i64}
// CHECK-NEXT: accel.requant {channels = 3 : i64, dst = 192 : i64, dual = 1 : i64, in_zp = 0 : i64, layer = "lowbit.requant", out_zp = -128 : i64, params = 66 : i64, per_channel = 1 : i64, pixels = 16 : i64, push_next, qmax = 127 : i64, qmin = -128 : i64, round = 0 : i64, src = 0 : i64, src_kind = 0 : i64}
// CHECK-NEXT: accel.store {cols = 1 : i64, dram = 192 : i64, elem = 3 : i64, layer = "lowbit.requant", pop_prev, rows = 16 : i64, sram = 192 : i64, stride = 3 : i64}
// CHECK-NOT: accel.
// CHECK-NOT: func.func

// With 72-byte input buffers the layer is cut into tiles of one output row
// in buffer halves: tile 2's loads wait for tile 0's compute (pop_next), its
// compute for tile 0's store; the last two tiles push nothing no tile pops.
// SMALL-LABEL: accel.program @conv
// SMALL: accel.mac {{.*}}inp = 0 : i64{{.*}}out_h = 1 : i64, out_w = 4 : i64, pop_prev,
// SMALL-NEXT: accel.requant {{.*}}push_next, push_prev
// SMALL-NEXT: accel.store {{.*}}pop_prev, push_prev
// SMALL-NEXT: accel.load {buf = 0 : i64{{.*}}sram = 36
// SMALL-NEXT: accel.load {buf = 1 : i64{{.*}}push_next, rows = 1 : i64, sram = 128
// SMALL-NEXT: accel.mac {{.*}}inp = 36 : i64{{.*}}pop_prev,
// SMALL: accel.load {buf = 0 : i64{{.*}}pop_next{{.*}}sram = 0
// SMALL-NEXT: accel.load {buf = 1 : i64
// SMALL-NEXT: accel.mac {{.*}}pop_next, pop_prev
// SMALL-NEXT: accel.requant {{.*}}push_next, qmax
// SMALL-NEXT: accel.store {{.*}}pop_prev, rows
// SMALL: accel.mac {{.*}}inp = 36 : i64{{.*}}pop_next, pop_prev
// SMALL-NOT: accel.mac
// SMALL: accel.program @fc
func.func @conv(%x: tensor<1x4x4x2x!qx> {onnx.name = "x"}) -> (tensor<1x4x4x3x!qy> {onnx.name = "y"}) {
  %w = lowbit.constant dense<1> : tensor<3x3x3x2xi8> -> tensor<3x3x3x2x!qw>
  %b = lowbit.constant dense<[10, -20, 30]> : tensor<3xi32> -> tensor<3xi32>
  %a = lowbit.conv2d %x, %w, %b {pad = array<i64: 1, 1, 1, 1>} : (tensor<1x4x4x2x!qx>, tensor<3x3x3x2x!qw>, tensor<3xi32>) -> tensor<1x4x4x3xi32>
  %y = lowbit.requant %a {axis = 3 : i64, multiplier = array<i32: 1073741824, 1073741824, 1073741824>, shift = array<i32: 36, 36, 36>, neg_multiplier = array<i32: 107374182, -107374182, 0>, neg_shift = array<i32: 36, 36, 36>} : tensor<1x4x4x3xi32> -> tensor<1x4x4x3x!qy>
  return %y : tensor<1x4x4x3x!qy>
}

// -----

!qa = !quant.uniform<i8:f32, 0.05:3>
!qf = !quant.uniform<i8<-127:127>:f32:0, {0.01, 0.02}>
!qo = !quant.uniform<i8:f32, 0.2:-1>

// A reshape moves no bytes: the fully connected layer reads the graph input
// as one pixel of 6 channels; without input_zp_folded the lowering folds
// the zero point 3 into the biases.
// CHECK-LABEL: accel.program @fc
// CHECK: accel.data dense<[1, 1, 1, 1, 1, 1, -1, -1, -1, -1, -1, -1, -18, -1, -1, -1, 24, 0, 0, 0,
// CHECK: accel.tensor "in" {addr = 64 : i64
// CHECK: accel.tensor "out" {addr = 128 : i64, output
// CHECK-NEXT: accel.load {buf = 0 : i64, cols = 1 : i64, dram = 64 : i64, elem = 6 : i64
// CHECK: accel.mac {{.*}}cin = 6 : i64, cout = 2 : i64, {{.*}}in_c = 6 : i64, {{.*}}in_w = 1 : i64, {{.*}}kh = 1 : i64, kw = 1 : i64,{{.*}}out_h = 1 : i64, out_w = 1 : i64
// CHECK-NEXT: accel.requant {{.*}}dual = 0 : i64{{.*}}qmax = 127 : i64, qmin = -1 : i64
func.func @fc(%x: tensor<1x1x6x!qa> {onnx.name = "in"}) -> (tensor<1x2x!qo> {onnx.name = "out"}) {
  %w = lowbit.constant dense<[[1, 1, 1, 1, 1, 1], [-1, -1, -1, -1, -1, -1]]> : tensor<2x6xi8> -> tensor<2x6x!qf>
  %b = lowbit.constant dense<[0, 6]> : tensor<2xi32> -> tensor<2xi32>
  %r = lowbit.reshape %x : tensor<1x1x6x!qa> -> tensor<1x6x!qa>
  %a = lowbit.fully_connected %r, %w, %b : (tensor<1x6x!qa>, tensor<2x6x!qf>, tensor<2xi32>) -> tensor<1x2xi32>
  %y = lowbit.requant %a {axis = 1 : i64, multiplier = array<i32: 1073741824, 1073741824>, shift = array<i32: 32, 32>, min = -1 : i64} : tensor<1x2xi32> -> tensor<1x2x!qo>
  return %y : tensor<1x2x!qo>
}

// -----

!qp = !quant.uniform<i8:f32, 0.05:-10>
!qr = !quant.uniform<i8:f32, 0.1:5>

// Pools: the max pool's load pads with the storage minimum; the global
// average is a POOL over the whole image; the requant of int8 values reads
// them from the input buffer with their zero point, a layer boundary is an
// accel.sync between the last store and the next loads.
// CHECK-LABEL: accel.program @pools
// CHECK: accel.load {buf = 0 : i64, {{.*}}pad_bottom = 1 : i64, pad_left = 0 : i64, pad_right = 1 : i64, pad_top = 0 : i64, pad_value = -128 : i64, push_next, rows = 5 : i64
// CHECK-NEXT: accel.pool {c = 4 : i64, dst = 0 : i64, in_w = 6 : i64, kh = 2 : i64, kind = 0 : i64, kw = 2 : i64, layer = "lowbit.max_pool", out_h = 3 : i64, out_w = 3 : i64, pop_prev, push_next, {{.*}}sh = 2 : i64, src = 0 : i64, sw = 2 : i64, zp = -10 : i64}
// CHECK-NEXT: accel.store {{.*}}elem = 36 : i64{{.*}}pop_prev, push_prev
// CHECK-NEXT: accel.sync {layer = "lowbit.global_avg_pool", pop_next, push_prev}
// CHECK-NEXT: accel.load {buf = 0 : i64{{.*}}elem = 4 : i64{{.*}}pop_next, push_next, rows = 3 : i64
// CHECK-NEXT: accel.pool {c = 4 : i64, {{.*}}in_w = 3 : i64, kh = 3 : i64, kind = 1 : i64, kw = 3 : i64, {{.*}}out_h = 1 : i64, out_w = 1 : i64
// CHECK: accel.sync
// CHECK-NEXT: accel.load {buf = 0 : i64{{.*}}elem = 4 : i64
// CHECK-NEXT: accel.load {buf = 1 : i64{{.*}}elem = 16 : i64
// CHECK-NEXT: accel.requant {channels = 1 : i64, {{.*}}in_zp = -10 : i64, {{.*}}out_zp = 5 : i64, {{.*}}pixels = 4 : i64, {{.*}}src_kind = 1 : i64}
// CHECK-NEXT: accel.store
// CHECK-NOT: accel.
func.func @pools(%x: tensor<1x5x5x4x!qp>) -> tensor<1x1x1x4x!qr> {
  %m = lowbit.max_pool %x {kernel = array<i64: 2, 2>, stride = array<i64: 2, 2>, pad = array<i64: 0, 1, 0, 1>} : tensor<1x5x5x4x!qp> -> tensor<1x3x3x4x!qp>
  %g = lowbit.global_avg_pool %m : tensor<1x3x3x4x!qp> -> tensor<1x1x1x4x!qp>
  %y = lowbit.requant %g {multiplier = array<i32: 1073741824>, shift = array<i32: 30>} : tensor<1x1x1x4x!qp> -> tensor<1x1x1x4x!qr>
  return %y : tensor<1x1x1x4x!qr>
}

// -----

!qs = !quant.uniform<i8:f32, 0.05:0>
!qt = !quant.uniform<i8:f32, 0.1:0>

// STLQ weights run in the shift2 mode (with the default target, after
// --convert-lowbit-to-accel="target-set=modes=multiply+shift2,tn=2,tm=2" in the
// third RUN line): 3-bit codes become shift terms +-(1 + 4 - |q|); the
// second words of the one two-word tile (outputs 0-1 x inputs 0-1) follow
// the first words, then the tile mask (one byte, bit 0), the biases and the
// requant parameters.
// CHECK-LABEL: accel.program @stlq_fc
// SHIFT-LABEL: accel.program @stlq_fc
// SHIFT: accel.data dense<"0x0403FC00030404040000040302FE040404FD00020100000000
// SHIFT: accel.mac {{.*}}bias = 21 : i64{{.*}}mode = 2 : i64{{.*}}wgt = 0 : i64, wgt2 = 16 : i64, words = 20 : i64}
// SHIFT: accel.requant {{.*}}params = 37 : i64
// The IR's tile may differ from the array's: with per-filter tiles [4, 1]
// (filter 0 has two words), both 2x2 array tiles of outputs 0-1 get two
// words (mask 0b0011) and the second plane holds their 8 weights.
// SHIFT-LABEL: accel.program @stlq_filter
// SHIFT: accel.data dense<"0x0403FC00030404040000040302FE040404FD0000000000000300000000
// SHIFT: accel.mac {{.*}}mode = 2 : i64{{.*}}wgt2 = 16 : i64, words = 24 : i64}
func.func @stlq_fc(%x: tensor<1x4x!qs>) -> tensor<1x4x!qt> {
  %w = lowbit.constant dense<[[[1, 2, -1, 0], [2, 1, 1, 1], [0, 0, 1, 2], [3, -3, 1, 1]], [[1, -2, 0, 0], [0, 3, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0]]]> : tensor<2x4x4xi3> -> tensor<2x4x4xi3>
  %a = lowbit.fully_connected %x, %w {weight_encoding = #lowbit.stlq<bits = 3, scale = 1.0, tile = [2, 2], mask = dense<[[true, false], [false, false]]> : tensor<2x2xi1>>} : (tensor<1x4x!qs>, tensor<2x4x4xi3>) -> tensor<1x4xi32>
  %y = lowbit.requant %a {multiplier = array<i32: 1073741824>, shift = array<i32: 33>} : tensor<1x4xi32> -> tensor<1x4x!qt>
  return %y : tensor<1x4x!qt>
}

// -----

!qs = !quant.uniform<i8:f32, 0.05:0>
!qt = !quant.uniform<i8:f32, 0.1:0>

func.func @stlq_filter(%x: tensor<1x4x!qs>) -> tensor<1x4x!qt> {
  %w = lowbit.constant dense<[[[1, 2, -1, 0], [2, 1, 1, 1], [0, 0, 1, 2], [3, -3, 1, 1]], [[1, -2, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0]]]> : tensor<2x4x4xi3> -> tensor<2x4x4xi3>
  %a = lowbit.fully_connected %x, %w {weight_encoding = #lowbit.stlq<bits = 3, scale = 1.0, tile = [4, 1], mask = dense<[[true], [false], [false], [false]]> : tensor<4x1xi1>>} : (tensor<1x4x!qs>, tensor<2x4x4xi3>) -> tensor<1x4xi32>
  %y = lowbit.requant %a {multiplier = array<i32: 1073741824>, shift = array<i32: 33>} : tensor<1x4xi32> -> tensor<1x4x!qt>
  return %y : tensor<1x4x!qt>
}

// -----

!qa = !quant.uniform<i8:f32, 0.05:-2>
!qb = !quant.uniform<i8:f32, 0.1:-128>

// A PReLU not folded into a requant is a dual REQUANT of int8 values (the
// positive multiplier for every channel, one negative set per channel); a
// clamp is an identity REQUANT (2^30 * 2^-30) saturating to its range.
// CHECK-LABEL: accel.program @prelu_clamp
// CHECK: accel.data dense<[0, 0, 0, 64, 31, 0, 0, 0, 0, 0, 0, 64, 33,
// CHECK: accel.requant {channels = 2 : i64, {{.*}}dual = 1 : i64, in_zp = -2 : i64, {{.*}}out_zp = -128 : i64, {{.*}}src_kind = 1 : i64}
// CHECK: accel.requant {channels = 1 : i64, {{.*}}dual = 0 : i64, in_zp = -128 : i64, {{.*}}out_zp = -128 : i64, {{.*}}qmax = 66 : i64, qmin = -128 : i64, {{.*}}src_kind = 1 : i64}
func.func @prelu_clamp(%x: tensor<1x2x2x2x!qa>) -> tensor<1x2x2x2x!qb> {
  %p = lowbit.prelu %x {pos_multiplier = 1073741824 : i32, pos_shift = 31 : i32, neg_multiplier = array<i32: 1073741824, -1073741824>, neg_shift = array<i32: 33, 34>, axis = 3 : i64} : tensor<1x2x2x2x!qa> -> tensor<1x2x2x2x!qb>
  %c = lowbit.clamp %p {min = -128 : i64, max = 66 : i64} : tensor<1x2x2x2x!qb>
  return %c : tensor<1x2x2x2x!qb>
}

// -----

!qv = !quant.uniform<i8:f32, 0.05:-10>

// An average pool without padding is a POOL of kind 1 (the mean rounded
// half to even, with the zero point); with padding it is an error
// (convert-lowbit-to-accel-invalid.mlir).
// CHECK-LABEL: accel.program @avg_pool
// CHECK: accel.pool {c = 3 : i64, {{.*}}in_w = 4 : i64, kh = 2 : i64, kind = 1 : i64, kw = 2 : i64, {{.*}}out_h = 2 : i64, out_w = 2 : i64, {{.*}}sh = 2 : i64, {{.*}}sw = 2 : i64, zp = -10 : i64}
func.func @avg_pool(%x: tensor<1x4x4x3x!qv>) -> tensor<1x2x2x3x!qv> {
  %a = lowbit.avg_pool %x {kernel = array<i64: 2, 2>, stride = array<i64: 2, 2>, pad = array<i64: 0, 0, 0, 0>} : tensor<1x4x4x3x!qv> -> tensor<1x2x2x3x!qv>
  return %a : tensor<1x2x2x3x!qv>
}
