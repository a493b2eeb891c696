// RUN: lowbit-opt %s | lowbit-opt | FileCheck %s
// RUN: lowbit-opt %s --mlir-print-op-generic | lowbit-opt | FileCheck %s

// CHECK-LABEL: accel.program @tiny attributes {dram_bytes = 256 : i64, target = {input_buffer = 128 : i64, modes = "multiply,shift1", name = "t8", output_buffer = 256 : i64, tm = 8 : i64, tn = 8 : i64, weight_buffer = 128 : i64}}
// CHECK-NEXT: accel.data dense<[1, -1, 0, 0, 0, 0, 0, 0, 64, 30, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]> : tensor<26xi8>
// CHECK-NEXT: accel.tensor "x" {addr = 64 : i64, scale = 5.000000e-01 : f64, shape = array<i64: 1, 2, 2, 1>, zp = 0 : i64}
// CHECK-NEXT: accel.tensor "y" {addr = 128 : i64, output, scale = 2.500000e-01 : f64, shape = array<i64: 1, 2, 2, 2>, zp = -1 : i64}
// CHECK-NEXT: accel.load {buf = 0 : i64, {{.*}}push_next
// CHECK-NEXT: accel.load {buf = 1 : i64
// CHECK-NEXT: accel.mac {{.*}}mode = 0 : i64{{.*}}pop_prev
// CHECK-NEXT: accel.requant {{.*}}push_next
// CHECK-NEXT: accel.store {{.*}}pop_prev
// CHECK-NEXT: accel.pool {{.*}}kind = 0
// CHECK-NEXT: accel.sync {pop_next, push_prev}
accel.program @tiny attributes {dram_bytes = 256 : i64, target = {tn = 8 : i64, tm = 8 : i64, modes = "multiply,shift1", name = "t8", input_buffer = 128 : i64, weight_buffer = 128 : i64, output_buffer = 256 : i64}} {
  accel.data dense<[1, -1, 0, 0, 0, 0, 0, 0, 64, 30, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]> : tensor<26xi8>
  accel.tensor "x" {addr = 64 : i64, scale = 0.5 : f64, shape = array<i64: 1, 2, 2, 1>, zp = 0 : i64}
  accel.tensor "y" {output, addr = 128 : i64, scale = 0.25 : f64, shape = array<i64: 1, 2, 2, 2>, zp = -1 : i64}
  accel.load {buf = 0 : i64, dram = 64 : i64, sram = 0 : i64, rows = 2 : i64, cols = 2 : i64, elem = 1 : i64, stride = 2 : i64, pad_top = 0 : i64, pad_bottom = 0 : i64, pad_left = 0 : i64, pad_right = 0 : i64, pad_value = 0 : i64, push_next}
  accel.load {buf = 1 : i64, dram = 0 : i64, sram = 0 : i64, rows = 1 : i64, cols = 1 : i64, elem = 26 : i64, stride = 26 : i64, pad_top = 0 : i64, pad_bottom = 0 : i64, pad_left = 0 : i64, pad_right = 0 : i64, pad_value = 0 : i64}
  accel.mac {mode = 0 : i64, init = 1 : i64, depthwise = 0 : i64, inp = 0 : i64, wgt = 0 : i64, bias = 2 : i64, acc = 0 : i64, out_h = 2 : i64, out_w = 2 : i64, in_w = 2 : i64, in_c = 1 : i64, in_c_off = 0 : i64, cin = 1 : i64, cout = 2 : i64, kh = 1 : i64, kw = 1 : i64, sh = 1 : i64, sw = 1 : i64, dh = 1 : i64, dw = 1 : i64, wgt2 = 0 : i64, words = 0 : i64, pop_prev}
  accel.requant {src_kind = 0 : i64, src = 0 : i64, dst = 32 : i64, pixels = 4 : i64, channels = 2 : i64, params = 10 : i64, per_channel = 0 : i64, dual = 0 : i64, round = 0 : i64, in_zp = 0 : i64, out_zp = -1 : i64, qmin = -128 : i64, qmax = 127 : i64, push_next}
  accel.store {dram = 128 : i64, sram = 32 : i64, rows = 1 : i64, cols = 1 : i64, elem = 8 : i64, stride = 8 : i64, pop_prev}
  accel.pool {kind = 0 : i64, src = 0 : i64, dst = 64 : i64, in_w = 2 : i64, c = 1 : i64, out_h = 1 : i64, out_w = 1 : i64, kh = 2 : i64, kw = 2 : i64, sh = 1 : i64, sw = 1 : i64, zp = 0 : i64, qmin = -128 : i64, qmax = 127 : i64}
  accel.sync {pop_next, push_prev}
}
