// RUN: lowbit-translate --emit-accel-asm %s | FileCheck %s
// RUN: lowbit-translate --emit-accel-bin %s -o %t.bin
// RUN: accel-sim --disasm %t.bin | FileCheck %s
// RUN: accel-sim --disasm %t.bin -o %t.s
// RUN: accel-sim --assemble %t.s -o %t2.bin
// RUN: cmp %t.bin %t2.bin
// It runs: y = x * w[c] with w = (1, -1), scaled by 2^30 * 2^-30 and
// plus the output zero point -1.
// RUN: %python %S/../../lib/npy_tool.py save %t.x.npy int8 1x2x2x1 1,2,3,-4
// RUN: accel-sim %t.bin --input %t.x.npy --raw -o %t.y.npy --report=none
// RUN: %python %S/../../lib/npy_tool.py print %t.y.npy | FileCheck %s --check-prefix=VALUES
// VALUES: int8 1x2x2x2
// VALUES-NEXT: 0 -2
// VALUES-NEXT: 1 -3
// VALUES-NEXT: 2 -4
// VALUES-NEXT: -5 3
// A target cannot be given to a module that already is a program:
// RUN: not lowbit-translate --emit-accel-bin --accel-set=tn=8 %s 2>&1 | FileCheck %s --check-prefix=RETARGET
// RETARGET: error: the module is already an accel.program; its target cannot be changed

// CHECK: ; lowbit accelerator program, ISA version 1
// CHECK-NEXT: .target name = t8
// CHECK-NEXT: .target tn = 8
// CHECK-NEXT: .target tm = 8
// CHECK-NEXT: .target modes = multiply
// CHECK: .target input_buffer = 128
// CHECK: .dram 256
// CHECK-NEXT: .input x shape=1x2x2x1 addr=64 scale=0x1p-1 zp=0
// CHECK-NEXT: .output y shape=1x2x2x2 addr=128 scale=0x1p-2 zp=-1
// CHECK-NEXT: .data 26
// CHECK-NEXT: .bytes 01ff0000000000000000000000401e000000000000401e000000
// CHECK-NEXT: load buf=0 dram=64 sram=0 rows=2 cols=2 elem=1 stride=2 pad_top=0 pad_bottom=0 pad_left=0 pad_right=0 pad_value=0  ; 0
// CHECK-NEXT: load buf=1 dram=0 sram=0 rows=1 cols=1 elem=26 stride=26 pad_top=0 pad_bottom=0 pad_left=0 pad_right=0 pad_value=0 push_next  ; 1
// CHECK-NEXT: mac mode=0 init=1 depthwise=0 inp=0 wgt=0 bias=2 acc=0 out_h=2 out_w=2 in_w=2 in_c=1 in_c_off=0 cin=1 cout=2 kh=1 kw=1 sh=1 sw=1 dh=1 dw=1 wgt2=0 words=0 pop_prev  ; 2
// CHECK-NEXT: requant src_kind=0 src=0 dst=32 pixels=4 channels=2 params=10 per_channel=0 dual=0 round=0 in_zp=0 out_zp=-1 qmin=-128 qmax=127 push_next  ; 3
// CHECK-NEXT: store dram=128 sram=32 rows=1 cols=1 elem=8 stride=8 pop_prev  ; 4
accel.program @tiny attributes {dram_bytes = 256 : i64, target = {tn = 8 : i64, tm = 8 : i64, name = "t8", input_buffer = 128 : i64, weight_buffer = 128 : i64, output_buffer = 256 : i64}} {
  accel.data dense<[1, -1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 64, 30, 0, 0, 0, 0, 0, 0, 64, 30, 0, 0, 0]> : tensor<26xi8>
  accel.tensor "x" {addr = 64 : i64, scale = 0.5 : f64, shape = array<i64: 1, 2, 2, 1>, zp = 0 : i64}
  accel.tensor "y" {output, addr = 128 : i64, scale = 0.25 : f64, shape = array<i64: 1, 2, 2, 2>, zp = -1 : i64}
  accel.load {buf = 0 : i64, dram = 64 : i64, sram = 0 : i64, rows = 2 : i64, cols = 2 : i64, elem = 1 : i64, stride = 2 : i64, pad_top = 0 : i64, pad_bottom = 0 : i64, pad_left = 0 : i64, pad_right = 0 : i64, pad_value = 0 : i64}
  accel.load {buf = 1 : i64, dram = 0 : i64, sram = 0 : i64, rows = 1 : i64, cols = 1 : i64, elem = 26 : i64, stride = 26 : i64, pad_top = 0 : i64, pad_bottom = 0 : i64, pad_left = 0 : i64, pad_right = 0 : i64, pad_value = 0 : i64, push_next}
  accel.mac {mode = 0 : i64, init = 1 : i64, depthwise = 0 : i64, inp = 0 : i64, wgt = 0 : i64, bias = 2 : i64, acc = 0 : i64, out_h = 2 : i64, out_w = 2 : i64, in_w = 2 : i64, in_c = 1 : i64, in_c_off = 0 : i64, cin = 1 : i64, cout = 2 : i64, kh = 1 : i64, kw = 1 : i64, sh = 1 : i64, sw = 1 : i64, dh = 1 : i64, dw = 1 : i64, wgt2 = 0 : i64, words = 0 : i64, pop_prev}
  accel.requant {src_kind = 0 : i64, src = 0 : i64, dst = 32 : i64, pixels = 4 : i64, channels = 2 : i64, params = 10 : i64, per_channel = 0 : i64, dual = 0 : i64, round = 0 : i64, in_zp = 0 : i64, out_zp = -1 : i64, qmin = -128 : i64, qmax = 127 : i64, push_next}
  accel.store {dram = 128 : i64, sram = 32 : i64, rows = 1 : i64, cols = 1 : i64, elem = 8 : i64, stride = 8 : i64, pop_prev}
}
