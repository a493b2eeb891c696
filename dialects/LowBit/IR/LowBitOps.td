//===- LowBitOps.td - lowbit operations --------------------*- tablegen -*-===//
//
// Part of the lowbit project.
//
//===----------------------------------------------------------------------===//

#ifndef LOWBIT_DIALECT_LOWBIT_IR_LOWBITOPS_TD
#define LOWBIT_DIALECT_LOWBIT_IR_LOWBITOPS_TD

include "LowBit/IR/LowBitDialect.td"
include "LowBit/IR/LowBitAttrs.td"
include "mlir/Interfaces/SideEffectInterfaces.td"
include "mlir/IR/BuiltinAttributeInterfaces.td"
include "mlir/IR/CommonAttrConstraints.td"
include "mlir/Interfaces/InferTypeOpInterface.td"

//===----------------------------------------------------------------------===//
// Shared attribute shapes
//===----------------------------------------------------------------------===//

defvar LowBit_Window2 = DefaultValuedAttr<DenseI64ArrayAttr, "{1, 1}">;
defvar LowBit_Pad4 = DefaultValuedAttr<DenseI64ArrayAttr, "{0, 0, 0, 0}">;
defvar LowBit_Rounding =
    DefaultValuedAttr<LowBit_RoundingModeAttr, "RoundingMode::single_round">;

//===----------------------------------------------------------------------===//
// constant
//===----------------------------------------------------------------------===//

def LowBit_ConstantOp : LowBit_Op<"constant", [ConstantLike, Pure]> {
  let summary = "a constant tensor, possibly of a quantized element type";
  let description = [{
    Materializes a constant whose element type may be a `quant` type, which
    builtin dense attributes cannot carry: `value` holds the stored integers
    (signless, of the storage width) and the result type says how to read
    them. For non-quantized result types `value` must have the result type.

    ```mlir
    %w = lowbit.constant dense<[[1, -2]]> : tensor<1x2xi8>
           -> tensor<1x2x!quant.uniform<i8:f32, 0.25>>
    ```
  }];
  let arguments = (ins ElementsAttr:$value);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = "$value attr-dict `->` type($result)";
  let hasVerifier = 1;
  let hasFolder = 1;
}

//===----------------------------------------------------------------------===//
// quantize / dequantize
//===----------------------------------------------------------------------===//

def LowBit_QuantizeOp : LowBit_Op<"quantize", [Pure]> {
  let summary = "real tensor to quantized tensor";
  let description = [{
    `q = saturate(round(x / scale) + zero_point)`, rounding half to even (the
    ONNX QuantizeLinear rule), saturating to the storage range. Per-tensor,
    per-axis and sub-channel `quant.uniform` result types are accepted; the
    input element type must be the expressed type.

    ```mlir
    %q = lowbit.quantize %x : tensor<1x8xf32>
           -> tensor<1x8x!quant.uniform<i8:f32, 0.05:-3>>
    ```
  }];
  let arguments = (ins AnyRankedTensor:$input);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
  let hasFolder = 1;
}

def LowBit_DequantizeOp : LowBit_Op<"dequantize", [Pure]> {
  let summary = "quantized tensor to real tensor";
  let description = [{
    `x = (q - zero_point) * scale` in the expressed type.

    ```mlir
    %x = lowbit.dequantize %q : tensor<1x8x!quant.uniform<i8:f32, 0.05:-3>>
           -> tensor<1x8xf32>
    ```
  }];
  let arguments = (ins AnyRankedTensor:$input);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
  let hasFolder = 1;
}

def LowBit_BitcastOp : LowBit_Op<"bitcast", [Pure]> {
  let summary = "reinterpret stored integers under another element type";
  let description = [{
    Same bits, another element type of the same storage width: a plain
    integer tensor and a quantized one (`ui8` and `!quant.uniform<u8:...>`),
    or signed and unsigned integers. Upstream `quant.scast` does this only
    for signless integers; ONNX's uint8 tensors are `ui8`, so the importer
    uses `lowbit.bitcast` for them.

    ```mlir
    %q = lowbit.bitcast %x : tensor<4xui8> -> tensor<4x!quant.uniform<u8:f32, 0.1:128>>
    ```
  }];
  let arguments = (ins AnyRankedTensor:$input);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
  let hasFolder = 1;
}

//===----------------------------------------------------------------------===//
// conv2d / fully_connected
//===----------------------------------------------------------------------===//

def LowBit_Conv2DOp : LowBit_Op<"conv2d", [Pure]> {
  let summary = "integer 2-D convolution into an accumulator";
  let description = [{
    NHWC input, OHWI weights (`I = C / groups`; depthwise is
    `groups = C`, `I = 1`), optional bias of the accumulator type, NHWC
    accumulator result. The result element type (`i32` or `i64`) is the
    accumulator type:

    `acc[n, y, x, o] = bias[o] + sum_{ky, kx, i} (in[n, y*sh + ky*dh - pt,
    x*sw + kx*dw - pl, g*I + i] - zp_in) * w[o, ky, kx, i]`

    where `g = o / (O / groups)` and padded input positions equal `zp_in`
    (real zero). `pad` is `[top, bottom, left, right]`. Weights are
    symmetric: a `quant.uniform` weight type (per-tensor, or per-axis on the
    output channel, dimension 0) must have zero points of 0. Weights may
    instead be log codes (`weight_encoding = #lowbit.log<...>`, a signless
    integer tensor of that width, at most 5 bits) or STLQ codes
    (`#lowbit.stlq<...>`, with a leading dimension of 2 holding the two
    words): `w` is then the integer the codes stand for,
    `sign(q) 2^(M-|q|)` (summed over the two words), in units of `U 2^-M`
    (`M = 2^(bits-1)`), so the accumulator's unit is `S_in U 2^-M`.

    `shift_products` (log or STLQ weights only; set by
    `lowbit-lower-log-to-shift`) says how the products are formed: each is
    `sign(q) (x << (M-|q|))`, one shifted add per word, and the weights are
    stored packed at their bit width. The accumulator is the same either
    way; without it the codes are decoded into integers and multiplied.

    With `input_zp_folded`, the bias already holds `b - zp_in * sum(w[o])`
    (adaptive-scale-shift eq. 10, there a real offset folded into a
    fixed-point bias, with no padding term) and the op computes the same
    accumulator as `bias[o] + sum_{taps in the input} in * w + zp_in *
    sum_{padded taps} w`: the kernels' inner loop carries no zero-point
    term, and only windows that overlap the padding get a correction.

    ```mlir
    %acc = lowbit.conv2d %in, %w, %b {pad = array<i64: 1, 1, 1, 1>}
      : (tensor<1x8x8x3x!quant.uniform<i8:f32, 0.02:-4>>,
         tensor<16x3x3x3x!quant.uniform<i8<-127:127>:f32:0, {0.01, ...}>>,
         tensor<16xi32>) -> tensor<1x8x8x16xi32>
    ```
  }];
  let arguments = (ins AnyRankedTensor:$input, AnyRankedTensor:$weight,
                       Optional<AnyRankedTensor>:$bias,
                       LowBit_Window2:$stride,
                       LowBit_Pad4:$pad,
                       LowBit_Window2:$dilation,
                       DefaultValuedAttr<I64Attr, "1">:$groups,
                       OptionalAttr<LowBit_WeightEncodingAttr>:$weight_encoding,
                       UnitAttr:$input_zp_folded,
                       UnitAttr:$shift_products);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = "operands attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def LowBit_FullyConnectedOp : LowBit_Op<"fully_connected", [Pure]> {
  let summary = "integer matrix product into an accumulator";
  let description = [{
    `acc[n, o] = bias[o] + sum_i (in[n, i] - zp_in) * w[o, i]` with OI
    weights, following the same weight rules as `lowbit.conv2d` (STLQ
    weights have shape `[2, O, I]`; `shift_products` as there). With `input_zp_folded` the bias holds
    `b - zp_in * sum(w[o])` and `acc = bias[o] + sum_i in * w`.

    ```mlir
    %acc = lowbit.fully_connected %in, %w, %b
      : (tensor<1x64x!quant.uniform<i8:f32, 0.1:3>>,
         tensor<10x64x!quant.uniform<i8:f32, 0.004>>, tensor<10xi32>)
      -> tensor<1x10xi32>
    ```
  }];
  let arguments = (ins AnyRankedTensor:$input, AnyRankedTensor:$weight,
                       Optional<AnyRankedTensor>:$bias,
                       OptionalAttr<LowBit_WeightEncodingAttr>:$weight_encoding,
                       UnitAttr:$input_zp_folded,
                       UnitAttr:$shift_products);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = "operands attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// requant
//===----------------------------------------------------------------------===//

def LowBit_RequantOp : LowBit_Op<"requant", [Pure]> {
  let summary = "rescale an accumulator (or quantized tensor) to N bits";
  let description = [{
    `out = saturate(zp_out + apply_scale(x - zp_in, M[c], s[c]), min, max)`

    `x` is an integer accumulator (`zp_in = 0`) or a quantized tensor.
    `multiplier` / `shift` hold one pair (per tensor) or one pair per index
    of dimension `axis` (per channel). `apply_scale` is the runtime's one
    rule (`lowbit/runtime/Requant.h`): `floor((v * M + 2^(s-1)) / 2^s)`,
    TOSA single rounding by default, `M` in [0, 2^31), `s` in [2, 62].

    `neg_multiplier` / `neg_shift`, when present, are used instead for
    accumulators below zero: this is the dual-multiplier requant that a
    folded PReLU / LeakyReLU becomes (adaptive-bit-depth paper, eq. 5:
    `M_neg = alpha * S_w * S_i / S_o`). They may be negative (in
    (-2^31, 2^31)): a negative slope.

    `min` / `max` narrow the saturation range inside the result's storage
    range, which is how ReLU and Clip are absorbed.

    ```mlir
    %y = lowbit.requant %acc {multiplier = array<i32: 1518500250>,
                              shift = array<i32: 38>, min = 0 : i64}
      : tensor<1x8x8x16xi32> -> tensor<1x8x8x16x!quant.uniform<i8:f32, 0.1:-128>>
    ```
  }];
  let arguments = (ins AnyRankedTensor:$input,
                       DenseI32ArrayAttr:$multiplier,
                       DenseI32ArrayAttr:$shift,
                       OptionalAttr<DenseI32ArrayAttr>:$neg_multiplier,
                       OptionalAttr<DenseI32ArrayAttr>:$neg_shift,
                       OptionalAttr<I64Attr>:$axis,
                       LowBit_Rounding:$rounding,
                       OptionalAttr<I64Attr>:$min,
                       OptionalAttr<I64Attr>:$max);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
  let hasFolder = 1;
  let extraClassDeclaration = [{
    /// The saturation range actually applied: [min, max] or the storage
    /// range of the result type.
    int64_t getSaturationMin();
    int64_t getSaturationMax();
    /// True when the op carries a second multiplier set for negatives.
    bool isDual() { return getNegMultiplier().has_value(); }
  }];
}

//===----------------------------------------------------------------------===//
// add
//===----------------------------------------------------------------------===//

def LowBit_AddOp : LowBit_Op<"add", [Pure]> {
  let summary = "add two quantized tensors, rescaling both inputs";
  let description = [{
    Both inputs are moved to a common 32-bit intermediate scale, added, and
    the sum is requantized to the output:

    ```
    a' = apply_scale((a - zp_a) << input_shift, lhs_multiplier, lhs_shift)
    b' = apply_scale((b - zp_b) << input_shift, rhs_multiplier, rhs_shift)
    out = saturate(zp_out + apply_scale(a' + b', output_multiplier,
                                        output_shift), min, max)
    ```

    `input_shift` gives the intermediate extra precision; it must keep
    `(x - zp) << input_shift` inside 32 bits. Shapes must be equal.

    ```mlir
    %s = lowbit.add %a, %b {input_shift = 20 : i32,
          lhs_multiplier = 1073741824 : i32, lhs_shift = 31 : i32,
          rhs_multiplier = 1431655765 : i32, rhs_shift = 31 : i32,
          output_multiplier = 1288490189 : i32, output_shift = 50 : i32}
      : (tensor<1x4x4x8x!quant.uniform<i8:f32, 0.1:2>>,
         tensor<1x4x4x8x!quant.uniform<i8:f32, 0.075:-1>>)
      -> tensor<1x4x4x8x!quant.uniform<i8:f32, 0.12:0>>
    ```
  }];
  let arguments = (ins AnyRankedTensor:$lhs, AnyRankedTensor:$rhs,
                       DefaultValuedAttr<I32Attr, "0">:$input_shift,
                       I32Attr:$lhs_multiplier, I32Attr:$lhs_shift,
                       I32Attr:$rhs_multiplier, I32Attr:$rhs_shift,
                       I32Attr:$output_multiplier, I32Attr:$output_shift,
                       LowBit_Rounding:$rounding,
                       OptionalAttr<I64Attr>:$min,
                       OptionalAttr<I64Attr>:$max);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = "operands attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// lut / mul / matmul: functions and products of activations
//===----------------------------------------------------------------------===//

def LowBit_LookupOp : LowBit_Op<"lut", [Pure]> {
  let summary = "an elementwise function of one 8-bit activation, by table";
  let description = [{
    `out[i] = table[in[i] - storage_min(in container)]`

    The input and result are per-tensor quantized tensors of one shape with
    8-bit storage (`i8` or `u8` containers). `table` has 256 entries, one per
    stored input value from the container's minimum (-128 for `i8`, 0 for
    `u8`) up, each inside the result's storage range. The table is the float
    function (a sigmoid, tanh, GELU, SiLU `x * sigmoid(x)`, HardSwish, exp,
    ... of `(q - zp_in) * s_in`) computed once at compile time and quantized
    once with the result's scale and zero point, so the op is exact for the
    function it stands for.

    ```mlir
    %y = lowbit.lut %x {table = array<i32: -128, ..., 127>}
      : tensor<1x8x!quant.uniform<i8:f32, 0.05:-3>>
        -> tensor<1x8x!quant.uniform<i8:f32, 0.0039:-128>>
    ```
  }];
  let arguments = (ins AnyRankedTensor:$input, DenseI32ArrayAttr:$table);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
}

def LowBit_SoftmaxOp : LowBit_Op<"softmax", [Pure]> {
  let summary = "softmax of an 8-bit activation along one axis, in integers";
  let description = [{
    For each row along `axis` of the stored input `q`:

    ```
    m     = max_i q_i
    e_i   = table[m - q_i]            table[j] = round(2^16 exp(-j S_in)), j in [0, 255]
    S     = sum_i e_i                 (64-bit)
    out_i = saturate(zp_out + floor((e_i R + S 2^15) / (S 2^16)))
                                      R = round(2^16 / S_out)
    ```

    that is `softmax(S_in (q - zp_in))` rounded half up to the result's
    grid, with the exponentials in 16 fractional bits and one integer
    division per element (rt::softmaxTensor). The input and result are
    per-tensor quantized with 8-bit storage; `table` has 256 entries in
    `[0, 2^16]` and `multiplier` (R) is in `[1, 2^46]`.

    ```mlir
    %p = lowbit.softmax %x {axis = 2 : i64, table = array<i32: 65536, ...>,
                            multiplier = 16711680 : i64}
      : tensor<1x16x16x!quant.uniform<i8:f32, 0.1:3>>
        -> tensor<1x16x16x!quant.uniform<i8:f32, 0.0039215:-128>>
    ```
  }];
  let arguments = (ins AnyRankedTensor:$input, I64Attr:$axis,
                       DenseI32ArrayAttr:$table, I64Attr:$multiplier);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
}

def LowBit_MulOp : LowBit_Op<"mul", [Pure]> {
  let summary = "the product of two quantized activations, requantized";
  let description = [{
    `out = saturate(zp_out + apply_scale((a - zp_a) * (b - zp_b), M, s), min, max)`

    with `M 2^-s = S_a S_b / S_out` and `apply_scale` the runtime's one
    rule (`lowbit/runtime/Requant.h`). The operands have the result's rank
    and broadcast as numpy does (a dimension of 1 repeats): a
    squeeze-and-excitation gate `[N, H, W, C] * [N, 1, 1, C]`.

    ```mlir
    %y = lowbit.mul %a, %g {multiplier = 1288490189 : i32, shift = 38 : i32}
      : (tensor<1x4x4x8x!quant.uniform<i8:f32, 0.1:2>>,
         tensor<1x1x1x8x!quant.uniform<i8:f32, 0.004:-128>>)
      -> tensor<1x4x4x8x!quant.uniform<i8:f32, 0.05:0>>
    ```
  }];
  let arguments = (ins AnyRankedTensor:$lhs, AnyRankedTensor:$rhs,
                       I32Attr:$multiplier, I32Attr:$shift,
                       LowBit_Rounding:$rounding,
                       OptionalAttr<I64Attr>:$min,
                       OptionalAttr<I64Attr>:$max);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = "operands attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def LowBit_MatMulOp : LowBit_Op<"matmul", [Pure]> {
  let summary = "batched product of two quantized activations into an accumulator";
  let description = [{
    `acc[n, i, j] = sum_k (a[n, i, k] - zp_a) * (b[n, k, j] - zp_b)`

    `a` is `[N, I, K]` and `b` `[N, K, J]`, both per-tensor quantized
    activations with 8- or 16-bit storage (attention's `Q K^T` and
    `softmax(.) V`); the result is an `i32` or `i64` accumulator of scale
    `S_a S_b`, exact modulo 2^width, which a `lowbit.requant` brings to the
    next activation.

    ```mlir
    %acc = lowbit.matmul %q, %kt
      : (tensor<4x16x16x!quant.uniform<i8:f32, 0.1:2>>,
         tensor<4x16x16x!quant.uniform<i8:f32, 0.08:-1>>) -> tensor<4x16x16xi32>
    ```
  }];
  let arguments = (ins AnyRankedTensor:$lhs, AnyRankedTensor:$rhs);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = "operands attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// clamp / prelu
//===----------------------------------------------------------------------===//

def LowBit_ClampOp : LowBit_Op<"clamp", [Pure, SameOperandsAndResultType]> {
  let summary = "clamp stored integers to [min, max]";
  let description = [{
    Saturates every stored value of a quantized tensor into `[min, max]`
    (inclusive, in storage units; bounds inside the storage range). ReLU is
    `min = zero_point`. A clamp that follows a `requant` is absorbed into the
    requant's saturation range by canonicalization.

    ```mlir
    %r = lowbit.clamp %x {min = -3 : i64, max = 127 : i64}
      : tensor<1x8x!quant.uniform<i8:f32, 0.05:-3>>
    ```
  }];
  let arguments = (ins AnyRankedTensor:$input, I64Attr:$min, I64Attr:$max);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($result)";
  let hasVerifier = 1;
  let hasFolder = 1;
  let hasCanonicalizer = 1;
}

def LowBit_PReluOp : LowBit_Op<"prelu", [Pure]> {
  let summary = "parametric ReLU on a quantized tensor";
  let description = [{
    `v = x - zp_in`;
    `out = saturate(zp_out + apply_scale(v, v < 0 ? neg[c] : pos))` where
    `pos = S_in / S_out` and `neg[c] = alpha[c] * S_in / S_out` as
    (multiplier, shift) pairs, `c` the index along `axis` when there is one
    slope per channel. Negative multipliers (in (-2^31, 2^31)) express
    negative slopes. `lowbit-fold-prelu-requant` folds a PReLU into the
    `requant` that produces its input.

    ```mlir
    %p = lowbit.prelu %x {pos_multiplier = 1073741824 : i32, pos_shift = 30 : i32,
                          neg_multiplier = array<i32: 1073741824>,
                          neg_shift = array<i32: 33>}
      : tensor<1x8x8x16x!quant.uniform<i8:f32, 0.1>>
      -> tensor<1x8x8x16x!quant.uniform<i8:f32, 0.1>>
    ```
  }];
  let arguments = (ins AnyRankedTensor:$input,
                       I32Attr:$pos_multiplier, I32Attr:$pos_shift,
                       DenseI32ArrayAttr:$neg_multiplier,
                       DenseI32ArrayAttr:$neg_shift,
                       OptionalAttr<I64Attr>:$axis,
                       LowBit_Rounding:$rounding);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Pools
//===----------------------------------------------------------------------===//

def LowBit_MaxPoolOp : LowBit_Op<"max_pool", [Pure]> {
  let summary = "2-D max pooling over NHWC stored integers";
  let description = [{
    Maximum of the stored values in each window; padded positions never win.
    Input and result have the same element type.

    ```mlir
    %p = lowbit.max_pool %x {kernel = array<i64: 2, 2>, stride = array<i64: 2, 2>}
      : tensor<1x8x8x16x!quant.uniform<i8:f32, 0.1>>
      -> tensor<1x4x4x16x!quant.uniform<i8:f32, 0.1>>
    ```
  }];
  let arguments = (ins AnyRankedTensor:$input, DenseI64ArrayAttr:$kernel,
                       LowBit_Window2:$stride, LowBit_Pad4:$pad);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
  let hasFolder = 1;
}

def LowBit_AvgPoolOp : LowBit_Op<"avg_pool", [Pure]> {
  let summary = "2-D average pooling over NHWC stored integers";
  let description = [{
    `out = saturate(zp + round_half_even(sum(x - zp) / count))`: the exact
    mean of the window's `x - zp` (an integer division, no multiplier),
    rounded to nearest with ties to even, then the zero point. `count` is
    the window size, or the number of non-padded positions when
    `count_include_pad` is false (padded positions count as the real value
    zero). Input and result have the same element type.

    This is ONNX `QuantizeLinear(AveragePool(DequantizeLinear(x)))` with one
    scale and zero point evaluated exactly: QuantizeLinear rounds half to
    even before adding the zero point. ONNX Runtime's
    `QLinearGlobalAveragePool` computes the same (an integer sum times
    `1 / count`, exact for power-of-two windows); its `QLinearAveragePool`
    evaluates the mean in float32 and agrees except where float rounding
    moves an exact tie (about 1% of 2x2 outputs on the torch oracle model,
    docs/QUANTIZATION.md). The one definition is the runtime's
    `avgPool2dInt` (`divideRoundHalfEven` in Requant.h).

    ```mlir
    %p = lowbit.avg_pool %x {kernel = array<i64: 3, 3>, pad = array<i64: 1, 1, 1, 1>}
      : tensor<1x8x8x16x!quant.uniform<i8:f32, 0.1:4>>
      -> tensor<1x8x8x16x!quant.uniform<i8:f32, 0.1:4>>
    ```
  }];
  let arguments = (ins AnyRankedTensor:$input, DenseI64ArrayAttr:$kernel,
                       LowBit_Window2:$stride, LowBit_Pad4:$pad,
                       DefaultValuedAttr<BoolAttr, "false">:$count_include_pad);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
}

def LowBit_GlobalAvgPoolOp : LowBit_Op<"global_avg_pool", [Pure]> {
  let summary = "average over the spatial dimensions of an NHWC tensor";
  let description = [{
    `avg_pool` with the window covering H × W (the same rounding: exact
    mean of `x - zp`, ties to even, plus the zero point): result shape
    `[N, 1, 1, C]`, same element type.

    ```mlir
    %g = lowbit.global_avg_pool %x : tensor<1x7x7x64x!quant.uniform<i8:f32, 0.1>>
      -> tensor<1x1x1x64x!quant.uniform<i8:f32, 0.1>>
    ```
  }];
  let arguments = (ins AnyRankedTensor:$input);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// reshape / concat
//===----------------------------------------------------------------------===//

def LowBit_ReshapeOp : LowBit_Op<"reshape", [Pure]> {
  let summary = "reinterpret the shape of a tensor";
  let description = [{
    Same elements in row-major order, same element type. Per-axis quantized
    tensors cannot be reshaped (the quantized dimension would lose its
    meaning).

    ```mlir
    %f = lowbit.reshape %x : tensor<1x1x1x64x!quant.uniform<i8:f32, 0.1>>
      -> tensor<1x64x!quant.uniform<i8:f32, 0.1>>
    ```
  }];
  let arguments = (ins AnyRankedTensor:$input);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
  let hasFolder = 1;
}

def LowBit_TransposeOp : LowBit_Op<"transpose", [Pure]> {
  let summary = "permute the dimensions of a tensor";
  let description = [{
    `out[i_0, ..., i_n] = in[j]` with `j[perms[d]] = i_d`: result dimension
    `d` is input dimension `perms[d]`. Same element type; per-axis quantized
    tensors are not transposed (the quantized dimension would move). This is
    how NCHW model inputs and outputs meet the NHWC integer ops. An identity
    permutation folds away, and a transpose of a transpose folds into one
    (so the NHWC -> NCHW -> NHWC pairs between integer ops cancel).

    ```mlir
    %t = lowbit.transpose %x {perms = array<i32: 0, 2, 3, 1>}
      : tensor<1x3x8x8x!quant.uniform<i8:f32, 0.1>>
      -> tensor<1x8x8x3x!quant.uniform<i8:f32, 0.1>>
    ```
  }];
  let arguments = (ins AnyRankedTensor:$input, DenseI32ArrayAttr:$perms);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
  let hasFolder = 1;
}

def LowBit_ConcatOp : LowBit_Op<"concat", [Pure]> {
  let summary = "concatenate tensors that share one quantization";
  let description = [{
    Joins the inputs along `axis`. All inputs and the result have the same
    element type (a common scale and zero point), so no rescaling happens;
    the quantizer requantizes inputs to the common scale first.

    ```mlir
    %c = lowbit.concat(%a, %b) {axis = 3 : i64}
      : (tensor<1x4x4x8x!quant.uniform<i8:f32, 0.1>>,
         tensor<1x4x4x8x!quant.uniform<i8:f32, 0.1>>)
      -> tensor<1x4x4x16x!quant.uniform<i8:f32, 0.1>>
    ```
  }];
  let arguments = (ins Variadic<AnyRankedTensor>:$inputs, I64Attr:$axis);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat =
      "`(` $inputs `)` attr-dict `:` functional-type($inputs, results)";
  let hasVerifier = 1;
  let hasFolder = 1;
}

def LowBit_SliceOp : LowBit_Op<"slice", [Pure]> {
  let summary = "a rectangular window of a tensor";
  let description = [{
    `out[i] = in[start + i]` on every dimension; the result's shape is the
    window's size. Same element type (the window keeps its input's scale and
    zero point; per-tensor quantization only). This is a channel split
    (ShuffleNet's `chunk`, a grouped convolution's input groups) and the
    importer's crops, as data movement.

    ```mlir
    %s = lowbit.slice %x {start = array<i64: 0, 0, 0, 4>}
      : tensor<1x8x8x8x!quant.uniform<i8:f32, 0.1>>
      -> tensor<1x8x8x4x!quant.uniform<i8:f32, 0.1>>
    ```
  }];
  let arguments = (ins AnyRankedTensor:$input, DenseI64ArrayAttr:$start);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
  let hasFolder = 1;
}

def LowBit_PadOp : LowBit_Op<"pad", [Pure]> {
  let summary = "pad a tensor with a constant stored value";
  let description = [{
    `padding` holds `before, after` for every dimension (non-negative); new
    positions hold `pad_value`, a stored integer of the element type (the
    real pad constant quantized with the tensor's scale and zero point).

    ```mlir
    %p = lowbit.pad %x {padding = array<i64: 0, 0, 1, 1, 1, 1, 0, 0>,
                        pad_value = 5 : i64}
      : tensor<1x8x8x8x!quant.uniform<i8:f32, 0.1>>
      -> tensor<1x10x10x8x!quant.uniform<i8:f32, 0.1>>
    ```
  }];
  let arguments = (ins AnyRankedTensor:$input, DenseI64ArrayAttr:$padding,
                   I64Attr:$pad_value);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
}

def LowBit_ResizeOp : LowBit_Op<"resize", [Pure]> {
  let summary = "nearest or bilinear resize of an NHWC tensor";
  let description = [{
    Output pixel `(oy, ox)` reads the input coordinate `((oy * d_y +
    offset_y) / n_y, (ox * d_x + offset_x) / n_x)` (`scale = [n_y, d_y,
    n_x, d_x]`, `offset = [offset_y, offset_x]`, TOSA RESIZE's geometry;
    `lowbit::rt::resizeCoordinate` is the one rule).

    `nearest`: the rounded-half-up index, clamped to the input; the result
    has the input's element type (data movement).

    `bilinear`: the exact integer sum of the four neighbours minus the zero
    point, weighted by `(n - frac)` and `frac` on each axis, into an `i32`
    accumulator of scale `S_in / (n_y n_x)`, for one `lowbit.requant`.

    ```mlir
    %r = lowbit.resize %x {mode = "nearest",
                           scale = array<i64: 2, 1, 2, 1>,
                           offset = array<i64: 0, 0>}
      : tensor<1x4x4x8x!quant.uniform<i8:f32, 0.1>>
      -> tensor<1x8x8x8x!quant.uniform<i8:f32, 0.1>>
    ```
  }];
  let arguments = (ins AnyRankedTensor:$input, StrAttr:$mode,
                   DenseI64ArrayAttr:$scale, DenseI64ArrayAttr:$offset);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
}

#endif // LOWBIT_DIALECT_LOWBIT_IR_LOWBITOPS_TD
