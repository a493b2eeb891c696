//===- AccelOps.td - accel instruction ops -----------------*- tablegen -*-===//
//
// Part of the lowbit project.
//
//===----------------------------------------------------------------------===//

#ifndef LOWBIT_DIALECT_ACCEL_IR_ACCELOPS_TD
#define LOWBIT_DIALECT_ACCEL_IR_ACCELOPS_TD

include "AccelDialect.td"
include "mlir/IR/BuiltinAttributes.td"
include "mlir/IR/CommonAttrConstraints.td"
include "mlir/IR/OpBase.td"
include "mlir/IR/SymbolInterfaces.td"

class Accel_Op<string mnemonic, list<Trait> traits = []>
    : Op<Accel_Dialect, mnemonic, traits>;

def Accel_ProgramOp : Accel_Op<"program", [Symbol, SingleBlock, NoTerminator,
                                           IsolatedFromAbove]> {
  let summary = "an accelerator program: target, DRAM, data and instructions";
  let description = [{
    `target` holds the target description's keys (those of a target file,
    `Isa.h`'s `setTargetField`); keys left out keep their defaults.
    `dram_bytes` is the DRAM the program uses. The body holds at most one
    `accel.data`, the `accel.tensor`s and the instructions in program order.

    ```mlir
    accel.program @main {dram_bytes = 4096 : i64,
                         target = {tn = 8 : i64, tm = 8 : i64}} {
      accel.tensor "x" {addr = 1024 : i64, scale = 0.5 : f64, shape = array<i64: 1, 4>, zp = 0 : i64}
      accel.load {buf = 0 : i64, dram = 1024 : i64, sram = 0 : i64, rows = 1 : i64,
                  cols = 1 : i64, elem = 4 : i64, stride = 4 : i64, pad_top = 0 : i64,
                  pad_bottom = 0 : i64, pad_left = 0 : i64, pad_right = 0 : i64,
                  pad_value = 0 : i64}
    }
    ```
  }];
  let arguments = (ins SymbolNameAttr:$sym_name, DictionaryAttr:$target,
                       I64Attr:$dram_bytes);
  let regions = (region SizedRegion<1>:$body);
  let assemblyFormat = "$sym_name attr-dict-with-keyword $body";
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    /// The target description, or a failure after an error on this op.
    ::mlir::FailureOr<::lowbit::accel::Target> getTargetDesc();
  }];
}

def Accel_DataOp : Accel_Op<"data", [HasParent<"ProgramOp">]> {
  let summary = "the data segment: DRAM bytes from address 0";
  let description = [{
    Weights, biases and requant parameters, as signed bytes, placed at DRAM
    address 0 before the program runs.

    ```mlir
    accel.data dense<[1, 2, 3]> : tensor<3xi8>
    ```
  }];
  let arguments = (ins ElementsAttr:$bytes);
  let assemblyFormat = "$bytes attr-dict";
  let hasVerifier = 1;
}

def Accel_TensorOp : Accel_Op<"tensor", [HasParent<"ProgramOp">]> {
  let summary = "a graph input or output: an int8 tensor in DRAM";
  let description = [{
    ```mlir
    accel.tensor "logits" {output, addr = 2048 : i64, scale = 0.17 : f64,
                           shape = array<i64: 1, 10>, zp = 35 : i64}
    ```
  }];
  let arguments = (ins StrAttr:$name, DenseI64ArrayAttr:$shape, I64Attr:$addr,
                       F64Attr:$scale, I64Attr:$zp, UnitAttr:$output);
  let assemblyFormat = "$name attr-dict";
  let hasVerifier = 1;
}

// Every instruction: its fields (named and ordered as in Isa.h) and the
// four token flags. The verifier is Isa.h's checkInstr.
class Accel_InstrOp<string mnemonic, dag fields>
    : Accel_Op<mnemonic, [HasParent<"ProgramOp">]> {
  let arguments = !con(fields, (ins UnitAttr:$pop_prev, UnitAttr:$pop_next,
                                    UnitAttr:$push_prev, UnitAttr:$push_next,
                                    OptionalAttr<StrAttr>:$layer));
  let assemblyFormat = "attr-dict";
  let hasVerifier = 1;
}

def Accel_LoadOp : Accel_InstrOp<"load", (ins I64Attr:$buf, I64Attr:$dram,
    I64Attr:$sram, I64Attr:$rows, I64Attr:$cols, I64Attr:$elem,
    I64Attr:$stride, I64Attr:$pad_top, I64Attr:$pad_bottom,
    I64Attr:$pad_left, I64Attr:$pad_right, I64Attr:$pad_value)> {
  let summary = "2-D strided DMA from DRAM into the input or weight buffer";
  let description = [{
    `rows` rows of `cols` × `elem` bytes, row r at `dram + r * stride`, into
    buffer `buf` (0 input, 1 weight) from `sram`, surrounded by `pad_*` rows
    and columns (of `elem` bytes) of `pad_value`.

    ```mlir
    accel.load {buf = 0 : i64, dram = 1024 : i64, sram = 0 : i64, rows = 28 : i64,
                cols = 28 : i64, elem = 1 : i64, stride = 28 : i64, pad_top = 1 : i64,
                pad_bottom = 1 : i64, pad_left = 1 : i64, pad_right = 1 : i64,
                pad_value = -128 : i64, push_next}
    ```
  }];
}

def Accel_StoreOp : Accel_InstrOp<"store", (ins I64Attr:$dram, I64Attr:$sram,
    I64Attr:$rows, I64Attr:$cols, I64Attr:$elem, I64Attr:$stride)> {
  let summary = "2-D strided DMA from the output buffer to DRAM";
  let description = [{
    ```mlir
    accel.store {dram = 4096 : i64, sram = 8192 : i64, rows = 196 : i64, cols = 1 : i64,
                 elem = 16 : i64, stride = 16 : i64, pop_prev}
    ```
  }];
}

def Accel_MacOp : Accel_InstrOp<"mac", (ins I64Attr:$mode, I64Attr:$init,
    I64Attr:$depthwise, I64Attr:$inp, I64Attr:$wgt, I64Attr:$bias,
    I64Attr:$acc, I64Attr:$out_h, I64Attr:$out_w, I64Attr:$in_w,
    I64Attr:$in_c, I64Attr:$in_c_off, I64Attr:$cin, I64Attr:$cout,
    I64Attr:$kh, I64Attr:$kw, I64Attr:$sh, I64Attr:$sw, I64Attr:$dh,
    I64Attr:$dw, I64Attr:$wgt2, I64Attr:$words)> {
  let summary = "a convolution tile on the Tn x Tm array";
  let description = [{
    Accumulates `out_h` × `out_w` × `cout` int32 outputs (from the biases
    when `init` is 1) over a `kh` × `kw` window of the input tile;
    `depthwise` pairs each output channel with one input channel. `mode` is
    the weight mode: 0 multiply (int-N weights), 1 shift1 (one log word per
    weight: shift terms), 2 shift2 (STLQ: a second term, from `wgt2`, for
    the weights of the tiles whose bit is set in the mask at `words`).
    Fields and cost: `Isa.h`.

    ```mlir
    accel.mac {mode = 0 : i64, init = 1 : i64, depthwise = 0 : i64, inp = 0 : i64,
               wgt = 0 : i64, bias = 144 : i64, acc = 0 : i64, out_h = 28 : i64,
               out_w = 28 : i64, in_w = 30 : i64, in_c = 1 : i64, in_c_off = 0 : i64,
               cin = 1 : i64, cout = 16 : i64, kh = 3 : i64, kw = 3 : i64, sh = 1 : i64,
               sw = 1 : i64, dh = 1 : i64, dw = 1 : i64, wgt2 = 0 : i64, words = 0 : i64,
               pop_prev}
    ```
  }];
}

def Accel_RequantOp : Accel_InstrOp<"requant", (ins I64Attr:$src_kind,
    I64Attr:$src, I64Attr:$dst, I64Attr:$pixels, I64Attr:$channels,
    I64Attr:$params, I64Attr:$per_channel, I64Attr:$dual, I64Attr:$round,
    I64Attr:$in_zp, I64Attr:$out_zp, I64Attr:$qmin, I64Attr:$qmax)> {
  let summary = "rescale to int8 with one or two multiplier sets";
  let description = [{
    `lowbit::rt::requantize` (`requantizeDual` when `dual` is 1: a PReLU
    folded into the requant) of int32 accumulators (`src_kind` 0) or int8
    values minus `in_zp` (`src_kind` 1), with per-channel parameters read
    from the weight buffer.

    ```mlir
    accel.requant {src_kind = 0 : i64, src = 0 : i64, dst = 50176 : i64,
                   pixels = 784 : i64, channels = 16 : i64, params = 208 : i64,
                   per_channel = 1 : i64, dual = 1 : i64, round = 0 : i64,
                   in_zp = 0 : i64, out_zp = -109 : i64, qmin = -128 : i64,
                   qmax = 127 : i64, push_next}
    ```
  }];
}

def Accel_PoolOp : Accel_InstrOp<"pool", (ins I64Attr:$kind, I64Attr:$src,
    I64Attr:$dst, I64Attr:$in_w, I64Attr:$c, I64Attr:$out_h, I64Attr:$out_w,
    I64Attr:$kh, I64Attr:$kw, I64Attr:$sh, I64Attr:$sw, I64Attr:$zp,
    I64Attr:$qmin, I64Attr:$qmax)> {
  let summary = "max or average pooling of an input-buffer tile";
  let description = [{
    ```mlir
    accel.pool {kind = 0 : i64, src = 0 : i64, dst = 0 : i64, in_w = 28 : i64,
                c = 16 : i64, out_h = 14 : i64, out_w = 14 : i64, kh = 2 : i64,
                kw = 2 : i64, sh = 2 : i64, sw = 2 : i64, zp = 0 : i64,
                qmin = -128 : i64, qmax = 127 : i64}
    ```
  }];
}

def Accel_AddOp : Accel_InstrOp<"add", (ins I64Attr:$src_a, I64Attr:$src_b,
    I64Attr:$dst, I64Attr:$count, I64Attr:$params, I64Attr:$input_shift,
    I64Attr:$round, I64Attr:$a_zp, I64Attr:$b_zp, I64Attr:$out_zp,
    I64Attr:$qmin, I64Attr:$qmax)> {
  let summary = "add two int8 tiles with lowbit.add's rescaling";
  let description = [{
    `lowbit::rt::addElement` over `count` pairs of input-buffer bytes, with
    the three (multiplier, shift) pairs at `params` in the weight buffer.

    ```mlir
    accel.add {src_a = 0 : i64, src_b = 4096 : i64, dst = 0 : i64, count = 4096 : i64,
               params = 0 : i64, input_shift = 20 : i64, round = 0 : i64, a_zp = -3 : i64,
               b_zp = 5 : i64, out_zp = -1 : i64, qmin = -1 : i64, qmax = 127 : i64}
    ```
  }];
}

def Accel_CopyOp : Accel_InstrOp<"copy", (ins I64Attr:$src, I64Attr:$dst,
    I64Attr:$bytes)> {
  let summary = "copy input-buffer bytes to the output buffer";
  let description = [{
    With a store of one-byte rows at a stride, a transpose (NCHW to NHWC).

    ```mlir
    accel.copy {src = 0 : i64, dst = 0 : i64, bytes = 9216 : i64}
    ```
  }];
}

def Accel_SyncOp : Accel_InstrOp<"sync", (ins)> {
  let summary = "a compute no-op that only exchanges tokens";
  let description = [{
    Orders a layer's first loads after the previous layer's last store:
    it pops the store's token and pushes one to the load module.

    ```mlir
    accel.sync {pop_next, push_prev}
    ```
  }];
}

#endif // LOWBIT_DIALECT_ACCEL_IR_ACCELOPS_TD
