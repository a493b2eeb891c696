//===- Passes.td - lowbit conversion passes ----------------*- tablegen -*-===//
//
// Part of the lowbit project.
//
//===----------------------------------------------------------------------===//

#ifndef LOWBIT_CONVERSION_PASSES_TD
#define LOWBIT_CONVERSION_PASSES_TD

include "mlir/Pass/PassBase.td"

def ConvertTosaToLowBit : Pass<"convert-tosa-to-lowbit", "::mlir::func::FuncOp"> {
  let summary = "Lower a quantized (Q/DQ) float TOSA graph to integer lowbit ops";
  let description = [{
    Every `lowbit.quantize` closes a segment of float ops that starts at
    dequantized values; each segment is replaced by integer ops producing
    the quantize's type:

    - `tosa.conv2d` / `tosa.depthwise_conv2d` / `tosa.matmul` with quantized
      constant weights, a bias (and a following constant bias add), then
      ReLU / Clip / PReLU and reshapes, becomes `lowbit.conv2d` or
      `lowbit.fully_connected` into an `i32` accumulator (`i64` when the
      range bound `|b| + max|x - zp| * sum|w|` exceeds 2^31 - 1) and one
      `lowbit.requant` with `M[c] = S_in * S_w[c] / S_out`; ReLU / Clip
      become its saturation range and PReLU its second multiplier set
      (`alpha[c] * M[c]`, adaptive-bit-depth eq. 5). A float bias becomes
      `round(b / (S_in * S_w[c]))`; an integer bias behind a dequantize
      (the int32 `quant.dcast` of imported Q/DQ models) whose scale is
      `S_in * S_w[c]` (to 1e-6) keeps its stored integers.
    - Pools and reshapes of a dequantized value keep its scale
      (`lowbit.max_pool`, `lowbit.avg_pool`, `lowbit.global_avg_pool` for a
      window covering the input, `lowbit.reshape`); a `lowbit.requant`
      follows when the quantize's scale differs.
    - Layout transposes and reshapes right before a quantize (NCHW models)
      are replayed on the integer result as `lowbit.transpose` /
      `lowbit.reshape`, so each segment is lowered in its own (NHWC) layout;
      pairs between layers fold away in canonicalization.
    - An add of two activations of one shape becomes `lowbit.add` (common
      intermediate scale `2 max(S_a, S_b) / 2^20`); a concat becomes
      `lowbit.concat` of inputs requantized to the result's scale, with
      constant operands stored at that scale.
    - A per-channel affine map that follows no convolution (`x * a[c] +
      b[c]`, `x + b[c]`; channels last, any rank) becomes a 1x1 depthwise
      `lowbit.conv2d` with weights `+-127` of scales `|a[c]| / 127` and one
      requant.
    - `tosa.slice` and a nearest `tosa.resize` keep their input's scale
      (`lowbit.slice`, `lowbit.resize`); a constant `tosa.pad` rescales its
      input to the result's scale and pads with the constant quantized at
      it (`lowbit.pad`); a bilinear `tosa.resize` is `lowbit.resize` into
      an `i32` accumulator of scale `S_in / (n_y n_x)` and one requant.
    - Log and STLQ weights (`lowbit.weight_encoding = #lowbit.log` /
      `#lowbit.stlq`, decoded float values) keep their encoding: the integer
      op gets the codes (`i<bits>`, with a leading dimension of 2 for STLQ)
      and the encoding, and its accumulator is in units of `S_in U 2^-M`.
      `lowbit-lower-log-to-shift` then chooses how the products are formed.
    - Quantized arguments and dequantized results become quantized
      argument and result types: the function is integer-only. Storage
      narrower than 8 bits is held in `i8` with its narrow range.

    Imported Q/DQ models keep their scales.

    Float fallback (`float-fallback`, on by default): ops with no integer
    form (exp, reciprocal, sigmoid, tanh, negate, abs, floor, ceil,
    reduce_max, reduce_sum on f32, the product, difference, maximum or
    minimum of two activations and a broadcasting add of two, the
    elementwise ops, reshapes and transposes that read their results, and
    the transposes only they read; `LowBit/Transforms/FloatFallback.h`)
    stay float between a `lowbit.dequantize` and a `lowbit.quantize`, with
    a warning that names them at their source location (e.g. a final
    Softmax).
    `lowbit-insert-qdq` has quantized the activations that enter them. With
    `float-fallback=false` they are errors. Any other op left float
    afterwards is an error that names it.
  }];
  let options = [
    Option<"foldZeroPoint", "fold-input-zero-point", "bool", /*default=*/"true",
           "Fold the input zero point into the bias of convolutions and "
           "fully connected layers (adaptive-scale-shift eq. 10; "
           "input_zp_folded)">,
    Option<"floatFallback", "float-fallback", "bool", /*default=*/"true",
           "Keep ops with no integer form (Softmax's exp and sums, sigmoid, "
           "...) in float with a warning, instead of an error">,
  ];
  let dependentDialects = ["::mlir::lowbit::LowBitDialect",
                           "::mlir::quant::QuantDialect"];
}

def ConvertLowBitToEmitC : Pass<"convert-lowbit-to-emitc", "::mlir::ModuleOp"> {
  let summary = "Lower an integer lowbit function to EmitC calls of the lowbit runtime";
  let description = [{
    Turns the module's integer-only `func.func` (the output of
    `convert-tosa-to-lowbit`) into EmitC that MLIR's C++ emitter prints:

    - `emitc.func @<name>_run(const T *in..., T *out..., void *arena) -> i32`
      calls one `lowbit::rt` function per op: the reference kernels of
      runtime/include/lowbit/runtime/Ops.h, which the evaluator calls too,
      or, where one applies, a fast kernel of lowbit/runtime/Fast.h that the
      runtime's tests hold bit-exact against them. A `lowbit.conv2d` or
      `lowbit.fully_connected` whose int32 accumulator only feeds a
      `lowbit.requant` (8-bit input, weights and result, constant weights
      and bias, groups 1 or depthwise) becomes one call
      (`convRequantGemm` / `depthwiseRequant`) on weights packed here with
      Fast.h's packing functions; its accumulator gets no arena space. Adds
      of 8-bit tensors whose intermediates fit 32 bits (`addFitsInt32`),
      8-bit max pools and the float API's quantization run on Fast.h too.
      The kernel path (portable, AVX2, AVX-VNNI, AVX-512 VNNI) is chosen at
      run time by `lowbit::rt::modelIsa()`;
    - `emitc.func @<name>_run_float(const float *in..., float *out...,
      void *arena) -> i32` quantizes the inputs, runs, and dequantizes the
      outputs with the runtime's rules;
    - every tensor lives at a fixed offset of the caller's arena, planned
      from tensor lifetimes (first fit, 64-byte aligned): the generated code
      allocates nothing and has no mutable state, so it is reentrant; views
      (`lowbit.reshape`) share their input's buffer, and a result that is
      not a view is computed straight into the caller's output buffer;
    - constants (weights, biases, multiplier arrays, shapes) are packed into
      one blob read through `<name>_weights`, 64-byte aligned.

    The module gets attributes for the files around the C++: `lowbit.weights`
    (the blob, `tensor<Nxi8>`), `lowbit.header` (the C header text) and
    `lowbit.arena_bytes`. Ops without an integer kernel are errors naming the
    op.
  }];
  let options = [
    Option<"modelName", "model-name", "std::string", /*default=*/"\"model\"",
           "Prefix of the generated symbols (a C identifier)">,
  ];
  let dependentDialects = ["::mlir::emitc::EmitCDialect"];
}

def ConvertLowBitToAccel : Pass<"convert-lowbit-to-accel", "::mlir::ModuleOp"> {
  let summary = "Lower an integer lowbit function to a tile-accelerator program";
  let description = [{
    Turns the module's integer-only `func.func` into an `accel.program` for
    the target described by `target-file` (Isa.h's `key = value` format)
    with the `target-set` overrides (`key=value` each), and erases the
    function. Every layer becomes tiles; each tile is loads (DMA into the
    input and weight buffers), compute (MAC + REQUANT, or POOL, or
    REQUANT) into the output buffer, and a store. A tile uses half of each
    buffer when it fits (double buffering: the next tile's loads overlap
    this tile's compute), all of it otherwise; the tokens order them, and
    an `accel.sync` orders a layer's first loads after the previous layer's
    last store.

    - `lowbit.conv2d` (groups 1 or depthwise) and `lowbit.fully_connected`
      whose only user is a `lowbit.requant`: one MAC + REQUANT per tile of
      output rows × output channels (multiples of Tm), the weights of a
      channel block with its biases (the input zero point folded in) and
      requant parameters packed once in the data segment; padding is
      filled by the input load with the zero point.
    - `lowbit.max_pool`, `lowbit.avg_pool` without padding and
      `lowbit.global_avg_pool`: POOL tiles of output rows (all channels).
    - `lowbit.requant` of an int8 tensor, `lowbit.prelu` (dual multiplier
      sets) and `lowbit.clamp` (an identity requant saturating to its
      range): REQUANT tiles.
    - `lowbit.add`: ADD tiles; `lowbit.transpose` swapping two groups of
      dimensions (NCHW to NHWC): COPY and a one-byte-row strided store.
    - `lowbit.reshape`: no instruction (the bytes do not move).

    Before (shapes abridged):

    ```mlir
    %a = lowbit.conv2d %x, %w, %b {pad = array<i64: 1, 1, 1, 1>} : ...
    %y = lowbit.requant %a {multiplier = ..., shift = ...} : ...
    ```

    After:

    ```mlir
    accel.program @main {dram_bytes = ..., target = {tn = 16 : i64, ...}} {
      accel.data dense<...> : tensor<...xi8>
      accel.tensor "x" {addr = ..., ...}
      accel.load {buf = 0 : i64, ..., pad_top = 1 : i64, ...}
      accel.load {buf = 1 : i64, ..., push_next}
      accel.mac {mode = 0 : i64, init = 1 : i64, ..., pop_prev}
      accel.requant {src_kind = 0 : i64, ..., push_next}
      accel.store {..., pop_prev}
    }
    ```

    Uniform weights run in the multiply mode, `#lowbit.log` weights in
    shift1 and `#lowbit.stlq` weights in shift2, with one word-count bit per
    Tn x Tm array tile (two words when any of its weights lies in a
    two-word tile of the IR's mask). When even Tm output channels' weights
    do not fit the weight buffer, the input channels are split into blocks
    that accumulate.

    Anything else — another op, activations that are not signed 8-bit
    per-tensor tensors, 64-bit accumulators, a weight mode the target does
    not list, a batch above 1, a layer whose smallest tile does not fit a
    buffer — is an error at the op that names the layer and the limit.
  }];
  let options = [
    Option<"targetFile", "target-file", "std::string", /*default=*/"\"\"",
           "Target description file (key = value lines; Isa.h)">,
    ListOption<"targetSet", "target-set", "std::string",
               "Target description overrides, key=value each">,
  ];
  let dependentDialects = ["::mlir::accel::AccelDialect"];
}

#endif // LOWBIT_CONVERSION_PASSES_TD
