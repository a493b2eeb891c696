//===- Passes.td - lowbit dialect passes -------------------*- tablegen -*-===//
//
// Part of the lowbit project.
//
//===----------------------------------------------------------------------===//

#ifndef LOWBIT_DIALECT_LOWBIT_TRANSFORMS_PASSES_TD
#define LOWBIT_DIALECT_LOWBIT_TRANSFORMS_PASSES_TD

include "mlir/Pass/PassBase.td"

def LowBitFoldPReluRequant : Pass<"lowbit-fold-prelu-requant"> {
  let summary = "Fold a PReLU into the requant that produces its input";
  let description = [{
    A quantized convolution followed by a PReLU needs two rescalings: the
    accumulator is requantized to the PReLU's input scale, then the PReLU
    rescales positive and negative values separately. Following
    adaptive-bit-depth-control eq. 5, the two fold into one dual-multiplier
    requant straight from the accumulator to the PReLU's output scale:

    `M_pos = S_w * S_i / S_o` and `M_neg = alpha * S_w * S_i / S_o`,

    computed here as the product of the two real scales, converted once with
    the runtime's `computeMultiplier`. (The paper's eq. 3-5 are symmetric,
    `Z = 0`, with a real `M`; here the zero points stay, the output zero
    point added after scaling, and `M` is an integer multiplier and shift.)
    The folded form is more accurate than
    the pair it replaces (one rounding instead of two, and no intermediate
    saturation), so results may differ from the unfolded IR by the rounding
    it removes.

    LeakyReLU is a PReLU with one slope; a negative slope gives a negative
    multiplier on the negative side. A ReLU / ReLU6 / Clip (`lowbit.clamp`)
    after a requant, or after the folded requant, narrows its saturation
    range (exact). A requant whose range is narrowed (a ReLU / ReLU6 / Clip
    before the PReLU) folds when every slope is >= 0: the PReLU is then
    monotone and maps each narrowed bound `b` to `P(b)` (the PReLU of that
    stored value, the runtime's rule), where the folded requant saturates.
    A side left at the storage limit bounds nothing, as without a clamp: the
    fold drops the intermediate's storage saturation.

    The fold does not apply when the requant has another user, already has a
    second multiplier set, uses another rounding mode or an incompatible
    per-channel axis, when a combined scale has no multiplier, and when it
    would be unsound: a negative slope after a narrowed range (not
    monotone), or per-channel slopes with a narrowed bound below the zero
    point (one bound per channel, which one requant range cannot hold).
    `test/Transforms/fold-prelu-numerics.test` checks on random
    accumulators that the folded IR is never further from float than the
    unfolded one, and within 1 LSB of it where
    `0.5 max(1, |alpha|) S_mid / S_o < 1` and nothing saturates.

    Before:

    ```mlir
    %y = lowbit.requant %acc {multiplier = array<i32: 1073741824>,
                              shift = array<i32: 36>}
      : tensor<1x4x4x8xi32> -> tensor<1x4x4x8x!quant.uniform<i8:f32, 0.1:3>>
    %p = lowbit.prelu %y {pos_multiplier = 1073741824 : i32, pos_shift = 30 : i32,
                          neg_multiplier = array<i32: 1073741824>,
                          neg_shift = array<i32: 33>}
      : tensor<1x4x4x8x!quant.uniform<i8:f32, 0.1:3>>
      -> tensor<1x4x4x8x!quant.uniform<i8:f32, 0.1:-2>>
    ```

    After:

    ```mlir
    %p = lowbit.requant %acc {multiplier = array<i32: 1073741824>,
                              shift = array<i32: 36>,
                              neg_multiplier = array<i32: 1073741824>,
                              neg_shift = array<i32: 39>}
      : tensor<1x4x4x8xi32> -> tensor<1x4x4x8x!quant.uniform<i8:f32, 0.1:-2>>
    ```
  }];
  let dependentDialects = ["::mlir::lowbit::LowBitDialect"];
}

def LowBitInsertQDQ : Pass<"lowbit-insert-qdq", "::mlir::func::FuncOp"> {
  let summary = "Quantize a calibrated float graph: weights and activations";
  let description = [{
    Turns a float func + tosa graph into its quantized simulation, the form
    the integer lowering starts from:

    - Weights of `tosa.conv2d`, `tosa.depthwise_conv2d` and constant
      `tosa.matmul` operands are quantized data-free
      (bit-efficient-data-free-quantization): uniform symmetric or
      asymmetric, per output channel or per tensor, 2 to 8 bits, stored with
      `lowbit.constant` and read through `lowbit.dequantize`; or
      power-of-two (`#lowbit.log` codes with one scale U per output channel,
      `channel_scales`, or per layer with `per-channel=false`; by default
      the U of least squared error, `log-scale`), simulated as their
      decoded float values.
    - Weight rounding (`weight-rounding=correlated`, the default) does not
      round every weight on its own: a layer's output error is
      `sum_i d_i x_i` (`d = Q(w) - w`), and a convolution's inputs are
      correlated across its window and share a non-zero mean, so errors that
      add up in the kernel's low-frequency response (above all its sum) cost
      more than the same errors spread out. Each weight keeps its nearest
      code or takes the one on the other side of its value (or zero, for log
      codes) so that `d^T E[x x^T] d` is least under a data-free model of
      the inputs: correlation `rho^distance` between taps of one input
      channel (`rounding-tap-correlation`) plus a mean term `kappa` shared
      by all inputs of the output channel (`rounding-mean-weight`). Scales,
      codes and the IR are as with round-to-nearest
      (`weight-rounding=nearest`).
    - Activations are quantized where an integer kernel will consume them
      (inputs of convolutions, matrix products, pools, adds, concats, and the
      function's results): a `lowbit.quantize` / `lowbit.dequantize` pair on
      an asymmetric `!quant.uniform` type covering the `lowbit.range` the
      calibration recorded. Tensors inside an activation chain (a
      convolution's output before its ReLU / PReLU) stay float: the integer
      lowering keeps them as accumulators.
    - Tensors that already pass through `lowbit.quantize` (Q/DQ models) keep
      the scales they came with.

    ```mlir
    %y = tosa.max_pool2d %x {lowbit.range = array<f64: 0.0, 6.0>, ...}
    %z = tosa.conv2d %y, %w, ...
    ```

    becomes

    ```mlir
    %y = tosa.max_pool2d %x {...}
    %q = lowbit.quantize %y : ... -> tensor<...x!quant.uniform<i8:f32, 0.0235:-128>>
    %d = lowbit.dequantize %q : ...
    %wq = lowbit.constant dense<...> : tensor<...xi8> -> tensor<...x!quant.uniform<i8<-127:127>:f32:0, {...}>>
    %wd = lowbit.dequantize %wq : ...
    %z = tosa.conv2d %d, %wd, ...
    ```
  }];
  let dependentDialects = ["::mlir::lowbit::LowBitDialect",
                           "::mlir::quant::QuantDialect"];
  let options = [
    Option<"activationBits", "activation-bits", "unsigned", "8",
           "Bits of activations (2 to 16)">,
    Option<"weightBits", "weight-bits", "unsigned", "8",
           "Bits of weights (2 to 8)">,
    Option<"weightScheme", "weight-scheme", "std::string", "\"symmetric\"",
           "Weight quantizer: symmetric, asymmetric or pow2">,
    Option<"perChannel", "per-channel", "bool", "true",
           "One weight scale per output channel (else per tensor)">,
    Option<"logScale", "log-scale", "std::string", "\"mse\"",
           "Scale U of power-of-two weights (per channel, or per layer): "
           "mse (the U of least squared error over the channel's or layer's "
           "weights) or max (U = 2 max|w|: the largest weight exact)">,
    Option<"weightRounding", "weight-rounding", "std::string",
           "\"correlated\"",
           "How weights pick their codes: nearest, or correlated (each "
           "weight takes its nearest code or the neighbouring one so that "
           "the layer's output error is least for correlated inputs)">,
    Option<"roundingTapCorrelation", "rounding-tap-correlation", "double",
           "0.8",
           "Correlated rounding: assumed correlation of inputs one pixel "
           "apart in a convolution window (rho, in [0, 1); taps d pixels "
           "apart correlate with rho^d)">,
    Option<"roundingMeanWeight", "rounding-mean-weight", "double", "0.1",
           "Correlated rounding: weight of the term shared by all inputs of "
           "an output channel (kappa >= 0; their common mean), which keeps "
           "the channel's sum of weights">,
  ];
}

def LowBitAssignBitwidth
    : Pass<"lowbit-assign-bitwidth", "::mlir::func::FuncOp"> {
  let summary = "Choose each layer's weight and activation bits from "
                "measured SQNRs, least cost for a target output SQNR";
  let description = [{
    Per-layer bit-width assignment after Lin et al. as the datatype survey
    puts it (datatype-quantization-overview-sqnr-bitwidth, section III.A.1):
    the network's output SQNR is modelled as the harmonic sum of the
    per-step SQNRs,

        1/gamma_out = 1/gamma_fixed + sum_i (1/gamma_i,w + 1/gamma_i,a),

    and the bits of every layer are chosen to minimize a cost subject to
    `10 log10 gamma_out >= target-sqnr`. Two departures from the survey:
    `gamma_fixed` (noise no layer's choice changes) is lowbit's addition,
    and the per-step SQNRs come from the tables below, not from the
    survey's `10 log10 gamma = kappa * beta` with kappa from an assumed
    distribution.

    Input: every layer (`tosa.conv2d`, `tosa.depthwise_conv2d`,
    `tosa.matmul`) has a `lowbit.sqnr_table` dictionary from candidate to
    gamma_i in dB: `w2`..`w8` (uniform weights), `log2`..`log5` (one
    power-of-two word per weight), `a2`..`a16` (the layer's input
    activations). `lowbitc --bitwidth=auto` measures them in the evaluator
    on calibration data (the network's output SQNR when only that candidate
    of that layer is quantized, less the noise of `lowbit.fixed_sqnr`);
    any other tool may write them. The function's `lowbit.fixed_sqnr` (dB)
    is the noise nothing here chooses (absent: none).

    `cost=bits` minimizes the total weight bits; activations then are not
    free (more activation bits would always be cheaper) and stay at
    `activation-bits`, whose candidate must be in each table.
    `cost=bitops` minimizes the sum over layers of multiply-accumulates x
    weight bits x activation bits, choosing both.

    `search=exact` (the default) finds the least cost whose predicted
    SQNR meets the target by dynamic programming over the layers (a
    multiple-choice knapsack), each choice's noise rounded up to a multiple
    of 1/G of the budget (G = 16384, fewer above 244 layers): exact
    up to that rounding, never over the budget. `search=greedy` starts from
    each layer's least-noise candidates and takes, one at a time, the
    cheaper candidate that saves the most cost per unit of noise added
    while the prediction stays at or above the target. A target the
    least-noise candidates cannot reach is an error.

    Output, per layer: `lowbit.weight_bits`, `lowbit.weight_scheme`
    (`pow2` for log candidates, else `weight-scheme`),
    `lowbit.activation_bits` (read by `lowbit-insert-qdq`),
    `lowbit.layer_sqnr` (dB, its weights' and activations' predicted
    contribution) and `lowbit.weight_bytes`; on the function
    `lowbit.predicted_sqnr`.

    Before:

    ```mlir
    func.func @f(...) attributes {lowbit.fixed_sqnr = 60.0 : f64} {
      %y = tosa.conv2d %x, %w, ... {lowbit.sqnr_table =
          {a8 = 45.0 : f64, w2 = 12.0 : f64, w4 = 25.0 : f64,
           w8 = 49.0 : f64}}
    ```

    After (`target-sqnr=20 cost=bits`):

    ```mlir
    func.func @f(...) attributes {lowbit.fixed_sqnr = 60.0 : f64,
                                  lowbit.predicted_sqnr = 24.9 : f64} {
      %y = tosa.conv2d %x, %w, ... {lowbit.activation_bits = 8 : i64,
          lowbit.layer_sqnr = 24.9 : f64, lowbit.weight_bits = 4 : i64,
          lowbit.weight_bytes = 2304 : i64,
          lowbit.weight_scheme = "symmetric", lowbit.sqnr_table = ...}
    ```
  }];
  let options = [
    Option<"targetSqnr", "target-sqnr", "double", "30.0",
           "Least predicted SQNR of the network's output, dB">,
    Option<"cost", "cost", "std::string", "\"bits\"",
           "What to minimize: bits (total weight bits) or bitops "
           "(MACs x weight bits x activation bits)">,
    Option<"activationBits", "activation-bits", "unsigned", "8",
           "cost=bits: the activations' bits">,
    Option<"weightScheme", "weight-scheme", "std::string",
           "\"symmetric\"",
           "Scheme of uniform weight candidates: symmetric or asymmetric">,
    Option<"search", "search", "std::string", "\"exact\"",
           "How to choose: exact (dynamic programming) or greedy">,
  ];
}

def LowBitLegalizeSTLQTiles
    : Pass<"lowbit-legalize-stlq-tiles", "::mlir::func::FuncOp"> {
  let summary = "Quantize weights to selective two-word log codes, chosen per "
                "weight tile";
  let description = [{
    Selective two-word logarithmic quantization (STLQ,
    stlq-two-word-log-quantization sections 3 and 4.4) of the constant
    weights of every `tosa.conv2d`, `tosa.depthwise_conv2d` and `tosa.matmul`
    of the float graph:

    1. each weight gets its log code `q1 = LogQuant(w)` (eq. 1-2, `bits`
       bits, scale `U` per layer or per output channel: `log-scale=mse`, the
       U of least one-word squared error, or `max`, U = 2 max|w|) and its
       residual `r1 = w - LogQ(w)` (eq. 3). The paper's U is one per layer,
       "e.g." `max|x|`; with its clip the largest level is `U / 2`, so
       `max` takes `2 max|w|` to make the largest weight a level;
    2. the weights, seen as the integer op sees them (output channel,
       kernel position, input channel), are cut into tiles of
       `[tile-inputs, tile-outputs]` = `[Tn, Tm]` at each kernel position
       (edge tiles smaller, by ceiling division);
    3. tiles are ranked by `||r1||_2` (ties: the first tile in row-major
       order), and the top ones whose weights make up the fraction `ratio`
       of the layer's weights (the count nearest `ratio * weights` as tiles
       are added, so within one tile of it) get a second word
       `q2 = LogQuant(r1)` (eq. 4); the other tiles keep one.

    LogQuant here is `lowbit::rt::logQuantize`
    (`lowbit/runtime/LogQuant.h`), the nearest level in the linear domain
    (least squared error). It departs from the paper's LogQuant (the
    unnumbered rule between eq. 1 and 2, `q = clip(-round(log2(|x| / U)),
    1, M - 1)` for x > 0, `M` on the negative side, and `q = 0` only for
    x = 0) in two ways:

    - between the levels `U 2^-(e+1)` and `U 2^-e` the threshold is their
      linear midpoint `0.75 U 2^-e`, not the geometric mean
      `2^-0.5 U 2^-e` (about `0.707 U 2^-e`) that rounding the log gives;
      an exact tie goes to the larger magnitude;
    - a magnitude below `U 2^-(hi+1)`, half the smallest level `U 2^-hi`
      (`hi = M - 1` for x > 0, `M` for x < 0), is the zero code, where the
      paper's clip gives every non-zero value at least the smallest level.

    As in the paper, magnitudes above `U / 2` clip to `U / 2` (code +-1)
    and a code decodes to `sign(q) 2^-|q| U` (eq. 1, times U); NaN is code
    0. The second word (eq. 4) is the same rule applied to `r1` with the
    same U and bits. Under the paper's clip a second word would push tiny
    residuals up to the smallest level; with the zero code it never moves a
    weight further from its float value, so with `weight-rounding=nearest`
    the weights' SQNR cannot fall as `ratio` rises.

    Which tiles get two words follows the paper; with
    `weight-rounding=correlated` (the default, as for lowbit-insert-qdq's
    pow2 codes) each weight then takes its nearest codes (steps 1 and 3,
    with the rounding above) or the nearest value its tile's word count can
    hold on the other side of it (or zero), whichever keeps the layer's
    output error least for correlated inputs. `weight-rounding=nearest`
    keeps the nearest codes.

    The weight constant is replaced by the decoded values (a float
    simulation of the codes) and the op gets `lowbit.weight_encoding =
    #lowbit.stlq<...>` with the tile mask; `lowbit-insert-qdq` leaves such
    weights alone and `convert-tosa-to-lowbit` turns them into codes.

    Weights already on a log grid of at most 5 bits (the integer target's
    widest codes) are kept exactly (`keep-log-grid`): when,
    with U = 2 max|w| per layer or else per output channel, every weight is
    a one- or two-word code of `bits` bits, the tiles that hold a two-word
    weight get two words, whatever `ratio` says (a model trained for STLQ);
    when every weight is one word, the op gets `#lowbit.log` instead. An op
    that already has an STLQ encoding with another tile shape (a mask given
    by an earlier tool) is legalized to this tile shape the same way: a
    target tile has two words when one of its weights needs them.

    Before:

    ```mlir
    %w = "tosa.const"() {values = dense<...> : tensor<32x3x3x16xf32>}
    %y = tosa.conv2d %x, %w, %b, %zp, %zp {...}
    ```

    After (`bits=3 ratio=0.15`):

    ```mlir
    %w = "tosa.const"() {values = dense<...> : tensor<32x3x3x16xf32>}
    %y = tosa.conv2d %x, %w, %b, %zp, %zp {...,
      lowbit.weight_encoding = #lowbit.stlq<bits = 3, scale = 0.21,
        tile = [16, 16], mask = dense<...> : tensor<2x3x3x1xi1>,
        channel_scales = [...]>}
    ```
  }];
  let dependentDialects = ["::mlir::lowbit::LowBitDialect"];
  let options = [
    Option<"bits", "bits", "unsigned", "3", "Bits of each log word (2 to 8)">,
    Option<"ratio", "ratio", "double", "0.15",
           "Fraction of each layer's weights that get two words, in [0, 1]">,
    Option<"tileInputs", "tile-inputs", "int64_t", "16",
           "Tn: input channels of a tile">,
    Option<"tileOutputs", "tile-outputs", "int64_t", "16",
           "Tm: output channels of a tile">,
    Option<"granularity", "granularity", "std::string", "\"tile\"",
           "What gets two words: tile (the tiles of largest ||r1||, the "
           "paper's per-tile scheme) or filter (whole output channels of "
           "largest ||r1||, the per-filter scheme of FLightNN; the mask's "
           "tile is then [I, 1], every kernel position of a chosen filter "
           "set)">,
    Option<"perChannel", "per-channel", "bool", "true",
           "One scale U per output channel (else one per layer, as in the "
           "paper)">,
    Option<"logScale", "log-scale", "std::string", "\"mse\"",
           "Scale U: mse (least one-word squared error) or max (2 max|w|)">,
    Option<"keepLogGrid", "keep-log-grid", "bool", "true",
           "Keep weights that already lie on a one- or two-word log grid "
           "exactly">,
    Option<"weightRounding", "weight-rounding", "std::string",
           "\"correlated\"",
           "How weights pick their codes once the tiles are chosen: nearest "
           "(eq. 1-4 with the nearest level in the linear domain: a 0.75 "
           "midpoint between levels instead of rounding the log, and a zero "
           "code below half the smallest level) or correlated (as "
           "lowbit-insert-qdq: each weight takes its nearest codes or the "
           "nearest value of its tile's word count on the other side, so that "
           "the layer's output error is least for correlated inputs)">,
    Option<"roundingTapCorrelation", "rounding-tap-correlation", "double",
           "0.8", "Correlated rounding: rho (see lowbit-insert-qdq)">,
    Option<"roundingMeanWeight", "rounding-mean-weight", "double", "0.1",
           "Correlated rounding: kappa (see lowbit-insert-qdq)">,
  ];
}

def LowBitLowerLogToShift
    : Pass<"lowbit-lower-log-to-shift", "::mlir::func::FuncOp"> {
  let summary = "Run log and STLQ weights as shifts, or on int8 kernels where "
                "exact";
  let description = [{
    A `lowbit.conv2d` or `lowbit.fully_connected` with log or STLQ weights
    (`weight_encoding`) multiplies by integers `sign 2^(M-e)` (and sums of
    two in two-word tiles). This pass decides how each runs:

    - `kernels=shift`: every such layer gets `shift_products`: each product
      is `sign(q) (x << (M - |q|))`, one shifted add per word, and the C++
      target stores the codes packed at their bit width (a mask bit per
      STLQ tile; second words only for two-word tiles) and calls the shift
      kernels of `lowbit/runtime/ShiftKernels.h`;
    - `kernels=auto` (default): a layer whose integers all fit in int8
      (3-bit log and STLQ: at most 16) becomes an ordinary layer with int8
      weights (`quant.uniform<i8>` of scale `U 2^-M`), which runs on the
      fast int8 kernels; the others get `shift_products`.

    Both give the accumulator the encoded op defines, bit for bit.

    Before:

    ```mlir
    %acc = lowbit.conv2d %x, %w, %b {weight_encoding = #lowbit.log<bits = 4,
      scale = 5.000000e-01>, ...} : (..., tensor<8x3x3x8xi4>, ...) -> ...
    ```

    After (`kernels=shift`):

    ```mlir
    %acc = lowbit.conv2d %x, %w, %b {shift_products, weight_encoding =
      #lowbit.log<bits = 4, scale = 5.000000e-01>, ...} : ...
    ```
  }];
  let dependentDialects = ["::mlir::lowbit::LowBitDialect",
                           "::mlir::quant::QuantDialect"];
  let options = [
    Option<"kernels", "kernels", "std::string", "\"auto\"",
           "auto (int8 kernels where the weights fit, shifts elsewhere) or "
           "shift (shifts everywhere)">,
  ];
}

#endif // LOWBIT_DIALECT_LOWBIT_TRANSFORMS_PASSES_TD
