// RUN: lowbit-opt %s --split-input-file -verify-diagnostics

// expected-error @+1 {{target: unknown key 'lanes'}}
accel.program @p attributes {dram_bytes = 64 : i64, target = {lanes = 4 : i64}} {
}

// -----

// expected-error @+1 {{target: activation_bits = 4: this ISA moves 8-bit activations only}}
accel.program @p attributes {dram_bytes = 64 : i64, target = {activation_bits = 4 : i64}} {
}

// -----

// Capacity: 16 output rows of 16 pixels x 65 channels of int32 do not fit
// a 64 KiB output buffer.
accel.program @p attributes {dram_bytes = 64 : i64, target = {}} {
  // expected-error @+1 {{is not a valid instruction for target 'accel': mac accumulators needs bytes [0, 66560) of the output buffer, which has 65536}}
  accel.mac {mode = 0 : i64, init = 0 : i64, depthwise = 0 : i64, inp = 0 : i64, wgt = 0 : i64, bias = 0 : i64, acc = 0 : i64, out_h = 16 : i64, out_w = 16 : i64, in_w = 16 : i64, in_c = 1 : i64, in_c_off = 0 : i64, cin = 1 : i64, cout = 65 : i64, kh = 1 : i64, kw = 1 : i64, sh = 1 : i64, sw = 1 : i64, dh = 1 : i64, dw = 1 : i64, wgt2 = 0 : i64, words = 0 : i64}
}

// -----

accel.program @p attributes {dram_bytes = 64 : i64, target = {modes = "multiply"}} {
  // expected-error @+1 {{mac: mode shift2 is not supported by target 'accel' (modes multiply)}}
  accel.mac {mode = 2 : i64, init = 0 : i64, depthwise = 0 : i64, inp = 0 : i64, wgt = 0 : i64, bias = 0 : i64, acc = 0 : i64, out_h = 1 : i64, out_w = 1 : i64, in_w = 1 : i64, in_c = 1 : i64, in_c_off = 0 : i64, cin = 1 : i64, cout = 1 : i64, kh = 1 : i64, kw = 1 : i64, sh = 1 : i64, sw = 1 : i64, dh = 1 : i64, dw = 1 : i64, wgt2 = 0 : i64, words = 0 : i64}
}

// -----

accel.program @p attributes {dram_bytes = 64 : i64, target = {modes = "multiply,shift1"}} {
  // expected-error @+1 {{mac: wgt2 and words are 0 outside the shift2 mode}}
  accel.mac {mode = 1 : i64, init = 0 : i64, depthwise = 0 : i64, inp = 0 : i64, wgt = 0 : i64, bias = 0 : i64, acc = 0 : i64, out_h = 1 : i64, out_w = 1 : i64, in_w = 1 : i64, in_c = 1 : i64, in_c_off = 0 : i64, cin = 1 : i64, cout = 1 : i64, kh = 1 : i64, kw = 1 : i64, sh = 1 : i64, sw = 1 : i64, dh = 1 : i64, dw = 1 : i64, wgt2 = 4 : i64, words = 0 : i64}
}

// -----

accel.program @p attributes {dram_bytes = 64 : i64, target = {dual_requant = 0 : i64}} {
  // expected-error @+1 {{requant: target 'accel' has no dual-multiplier requant unit}}
  accel.requant {src_kind = 0 : i64, src = 0 : i64, dst = 32 : i64, pixels = 4 : i64, channels = 2 : i64, params = 10 : i64, per_channel = 0 : i64, dual = 1 : i64, round = 0 : i64, in_zp = 0 : i64, out_zp = -1 : i64, qmin = -128 : i64, qmax = 127 : i64}
}

// -----

accel.program @p attributes {dram_bytes = 64 : i64, target = {}} {
  // expected-error @+1 {{load: DRAM bytes [60, 68) are outside the 64-byte DRAM}}
  accel.load {buf = 0 : i64, dram = 60 : i64, sram = 0 : i64, rows = 1 : i64, cols = 1 : i64, elem = 8 : i64, stride = 8 : i64, pad_top = 0 : i64, pad_bottom = 0 : i64, pad_left = 0 : i64, pad_right = 0 : i64, pad_value = 0 : i64}
}

// -----

accel.program @p attributes {dram_bytes = 64 : i64, target = {}} {
  // expected-error @+1 {{load: the load module has no previous module to exchange tokens with}}
  accel.load {buf = 0 : i64, dram = 0 : i64, sram = 0 : i64, rows = 1 : i64, cols = 1 : i64, elem = 8 : i64, stride = 8 : i64, pad_top = 0 : i64, pad_bottom = 0 : i64, pad_left = 0 : i64, pad_right = 0 : i64, pad_value = 0 : i64, pop_prev}
}

// -----

accel.program @p attributes {dram_bytes = 64 : i64, target = {}} {
  // expected-error @+1 {{load: pad_value = 200 does not fit its 1-byte field}}
  accel.load {buf = 0 : i64, dram = 0 : i64, sram = 0 : i64, rows = 1 : i64, cols = 1 : i64, elem = 8 : i64, stride = 8 : i64, pad_top = 0 : i64, pad_bottom = 0 : i64, pad_left = 0 : i64, pad_right = 0 : i64, pad_value = 200 : i64}
}

// -----

accel.program @p attributes {dram_bytes = 64 : i64, target = {}} {
  // expected-error @+1 {{mac: a depthwise tile has cin = cout (2 != 4)}}
  accel.mac {mode = 0 : i64, init = 0 : i64, depthwise = 1 : i64, inp = 0 : i64, wgt = 0 : i64, bias = 0 : i64, acc = 0 : i64, out_h = 1 : i64, out_w = 1 : i64, in_w = 1 : i64, in_c = 4 : i64, in_c_off = 0 : i64, cin = 2 : i64, cout = 4 : i64, kh = 1 : i64, kw = 1 : i64, sh = 1 : i64, sw = 1 : i64, dh = 1 : i64, dw = 1 : i64, wgt2 = 0 : i64, words = 0 : i64}
}

// -----

accel.program @p attributes {dram_bytes = 64 : i64, target = {}} {
  // expected-error @+1 {{does not fit in the program's DRAM}}
  accel.tensor "x" {addr = 60 : i64, scale = 0.5 : f64, shape = array<i64: 1, 8>, zp = 0 : i64}
}

// -----

accel.program @p attributes {dram_bytes = 64 : i64, target = {}} {
  // expected-error @+1 {{'func.func' op is not allowed in an accel.program}}
  func.func @f() {
    return
  }
}

// -----

// A shift2 tile mask of 2 x 3 x 3 x 1 tiles (32 output channels on a 16x16
// array) needs 3 bytes; 2 are left at the end of the weight buffer.
accel.program @p attributes {dram_bytes = 64 : i64, target = {modes = "shift2"}} {
  // expected-error @+1 {{mac word mask needs bytes [65534, 65537) of the weight buffer, which has 65536}}
  accel.mac {mode = 2 : i64, init = 0 : i64, depthwise = 0 : i64, inp = 0 : i64, wgt = 0 : i64, bias = 0 : i64, acc = 0 : i64, out_h = 1 : i64, out_w = 1 : i64, in_w = 3 : i64, in_c = 8 : i64, in_c_off = 0 : i64, cin = 8 : i64, cout = 32 : i64, kh = 3 : i64, kw = 3 : i64, sh = 1 : i64, sw = 1 : i64, dh = 1 : i64, dw = 1 : i64, wgt2 = 1000 : i64, words = 65534 : i64}
}

// -----

accel.program @p attributes {dram_bytes = 64 : i64, target = {input_buffer = 64 : i64}} {
  // expected-error @+1 {{add input b needs bytes [32, 96) of the input buffer, which has 64}}
  accel.add {src_a = 0 : i64, src_b = 32 : i64, dst = 0 : i64, count = 64 : i64, params = 0 : i64, input_shift = 20 : i64, round = 0 : i64, a_zp = 0 : i64, b_zp = 0 : i64, out_zp = 0 : i64, qmin = -128 : i64, qmax = 127 : i64}
}
