//===- Linear.cpp - convert-tosa-to-lowbit: convolutions, matmuls ---------===//
//
// Part of the lowbit project.
//
//===----------------------------------------------------------------------===//
//
// tosa.conv2d / tosa.depthwise_conv2d / tosa.matmul with quantized constant
// weights, and the epilogue after them, become lowbit.conv2d or
// lowbit.fully_connected into an i32 (or i64) accumulator and one
// lowbit.requant, in these steps:
//
//   1. the input: the quantized activation behind the TOSA op's input;
//   2. the weights: the quantized constant behind the weight operand, or
//      the integers behind decoded log / STLQ weights, in the integer op's
//      layout (OHWI or OI, quantized on dimension 0), with their codes;
//   3. a positive scale after the op folded into the weights' scales;
//   4. the bias in accumulator units (the input zero point folded in), and
//      the accumulator width its range bound needs;
//   5. the weight and bias constants and the accumulating op;
//   6. the requant to the quantize's type, with the epilogue's clamp and
//      PReLU.
//
// A per-channel affine map that follows no convolution is first rebuilt
// as a float 1x1 depthwise convolution (AffineAsDepthwise.cpp), which then
// takes the same steps.
//
//===----------------------------------------------------------------------===//

#include "TosaToLowBit.h"

#include "lowbit/runtime/ShiftKernels.h"

#include <algorithm>
#include <cmath>
#include <cstdint>

namespace mlir {
namespace lowbit {
namespace tosa_to_lowbit {

bool isLinearAnchor(Operation *op) {
  return isa_and_nonnull<tosa::Conv2DOp, tosa::DepthwiseConv2DOp,
                         tosa::MatMulOp>(op);
}

namespace {

/// A located error about the layer `anchor` (a failure of any result type).
InFlightDiagnostic linearError(Operation *anchor, const Twine &msg) {
  return anchor->emitError("convert-tosa-to-lowbit: ") << msg;
}

/// Step 2: the weights of `anchor` as stored integers with their
/// quantization, in the TOSA op's layout.
FailureOr<QConst> readLinearWeights(Operation *anchor, LogAttr logEnc,
                                    STLQAttr stlqEnc) {
  if (auto w = traceQuantConst(anchor->getOperand(1)))
    return *w;
  // Log and STLQ weights are simulated as decoded float constants with a
  // #lowbit.log / #lowbit.stlq encoding: every value is U (sign 2^-e1 +
  // sign 2^-e2), which is exactly an integer times U 2^-M for M the
  // largest exponent (U per layer, or per output channel).
  unsigned codeBits = logEnc    ? logEnc.getBits()
                      : stlqEnc ? stlqEnc.getBits()
                                : 0;
  auto values = readFloatConst(anchor->getOperand(1));
  if (!(logEnc || stlqEnc) || !values)
    return linearError(anchor, "weights must be quantized constants (run "
                               "lowbit-insert-qdq, or import a Q/DQ model)");
  if (codeBits > rt::kMaxShiftCodeBits)
    return linearError(
        anchor, "log weights wider than " + Twine(rt::kMaxShiftCodeBits) +
                    " bits are not supported by the integer target (a "
                    "weight would shift by up to 2^(bits-1) - 1 bits)");
  return decodeLogWeights(anchor, *values, logEnc, stlqEnc);
}

/// Step 2: TOSA's weight layout to the integer op's: [1, K, N] -> [N, K]
/// for a matmul, [KH, KW, C, M] -> [C * M, KH, KW, 1] for a depthwise
/// convolution; the quantized dimension becomes 0.
LogicalResult toIntegerLayout(Operation *anchor, QConst &w) {
  if (isa<tosa::MatMulOp>(anchor)) {
    if (w.shape.size() != 3 || w.shape[0] != 1)
      return linearError(anchor,
                         "matmul weights must be a constant [1, K, N] tensor");
    SmallVector<int64_t> perm = {0, 2, 1};
    w.values = permute(w.values, w.shape, perm);
    w.shape = {w.shape[2], w.shape[1]};
    if (w.axis == 2)
      w.axis = 0;
    else if (w.axis >= 0)
      return linearError(anchor,
                         "matmul weights must be quantized per output column");
  } else if (isa<tosa::DepthwiseConv2DOp>(anchor)) {
    SmallVector<int64_t> perm = {2, 3, 0, 1};
    int64_t kh = w.shape[0], kw = w.shape[1], c = w.shape[2], m = w.shape[3];
    if (w.axis >= 0 && !(w.axis == 2 && m == 1))
      return linearError(anchor, "depthwise weights must be quantized per "
                                 "channel with multiplier 1, or per tensor");
    w.values = permute(w.values, w.shape, perm);
    w.shape = {c * m, kh, kw, 1};
    if (w.axis >= 0)
      w.axis = 0;
  } else if (w.axis > 0) {
    return linearError(
        anchor, "convolution weights must be quantized per output channel");
  }
  return success();
}

/// Step 3: a positive scale after the op (Epilogue::scale) is the weights'
/// too. Returns it per output channel (all 1 without one).
FailureOr<std::vector<double>> foldPostScale(Operation *anchor,
                                             const Epilogue &epi, QConst &w) {
  int64_t outChannels = w.shape[0];
  std::vector<double> postScale(outChannels, 1.0);
  if (epi.scale) {
    postScale = perChannel(epi.scale, outChannels);
    if (postScale.empty())
      return linearError(
          anchor, "the multiply after the layer must be by one value or one "
                  "per channel");
    if (w.axis < 0 && !llvm::all_equal(postScale)) {
      w.axis = 0;
      w.scales.assign(outChannels, w.scales[0]);
      w.zeroPoints.assign(outChannels, w.zeroPoints[0]);
    }
    for (size_t c = 0; c < w.scales.size(); ++c)
      w.scales[c] *= postScale[c];
  }
  for (int64_t c = 0; c < (w.axis < 0 ? 1 : outChannels); ++c)
    if (w.zeroPoint(c) != 0)
      return linearError(
          anchor, "asymmetric weights (non-zero weight zero point) are not "
                  "supported by the integer kernels; use symmetric or pow2 "
                  "weights");
  return postScale;
}

/// Step 4: the bias in accumulator units, and whether the accumulator needs
/// 64 bits.
struct LinearBias {
  std::vector<int64_t> values;
  bool wide = false;
  /// The input zero point is folded in (input_zp_folded).
  bool zpFolded = false;
};

FailureOr<LinearBias> linearBias(Operation *anchor, const Epilogue &epi,
                                 quant::UniformQuantizedType inQ,
                                 const QConst &w, ArrayRef<double> postScale,
                                 bool foldZeroPoint) {
  const int64_t outChannels = w.shape[0];
  const int64_t inner = static_cast<int64_t>(w.values.size()) / outChannels;
  // Accumulator scale per channel, bias in accumulator units: real-valued
  // biases are rounded once to the accumulator scale; an integer bias
  // already stored at that scale (ONNX's int32 bias behind DequantizeLinear,
  // scale S_in * S_w[c] up to float32 rounding) is taken as stored, so a
  // large bias is not moved by the rounding of its float32 scale.
  std::vector<double> bias(outChannels, 0.0);
  std::vector<int64_t> biasInt(outChannels, 0);
  auto addBias = [&](Value v, bool scaled) -> LogicalResult {
    std::vector<double> b = perChannel(v, outChannels);
    if (b.empty())
      return failure();
    if (scaled) {
      // Before the post-scale: in the scaled accumulator's real units.
      for (int64_t c = 0; c < outChannels; ++c)
        bias[c] += b[c] * postScale[c];
      return success();
    }
    if (auto q = traceQuantConst(v)) {
      int64_t n = static_cast<int64_t>(q->values.size());
      bool atAccScale = n == outChannels || n == 1;
      for (int64_t c = 0; atAccScale && c < outChannels; ++c) {
        int64_t i = n == 1 ? 0 : c;
        double accScale = inQ.getScale() * w.scale(c);
        atAccScale = q->zeroPoint(i) == 0 &&
                     std::fabs(q->scale(i) / accScale - 1) < 1e-6;
      }
      if (atAccScale) {
        for (int64_t c = 0; c < outChannels; ++c)
          biasInt[c] += q->values[n == 1 ? 0 : c];
        return success();
      }
    }
    for (int64_t c = 0; c < outChannels; ++c)
      bias[c] += b[c];
    return success();
  };
  if (!isa<tosa::MatMulOp>(anchor) &&
      failed(addBias(anchor->getOperand(2), epi.scale != nullptr)))
    return linearError(
        anchor, "bias must be a constant with one value per output channel");
  for (auto [i, v] : llvm::enumerate(epi.biasAdds))
    if (failed(addBias(v, epi.scale && i >= epi.scaledFrom)))
      return linearError(anchor, "bias add must be a constant with one "
                                 "value per output channel");
  LinearBias out;
  out.values.resize(outChannels);
  int64_t maxIn =
      std::max(std::abs(inQ.getStorageTypeMin() - inQ.getZeroPoint()),
               std::abs(inQ.getStorageTypeMax() - inQ.getZeroPoint()));
  for (int64_t c = 0; c < outChannels; ++c) {
    double accScale = inQ.getScale() * w.scale(c);
    double bq =
        std::nearbyint(bias[c] / accScale) + static_cast<double>(biasInt[c]);
    if (!(std::fabs(bq) < 9.0e15))
      return linearError(anchor, "bias is too large for the accumulator");
    out.values[c] = static_cast<int64_t>(bq);
    // Range proof: |acc| <= |bias| + max|x - zp| * sum |w|.
    double bound = std::fabs(bq);
    for (int64_t i = 0; i < inner; ++i)
      bound += static_cast<double>(maxIn) *
               std::fabs(static_cast<double>(w.values[c * inner + i]));
    if (bound > 2147483647.0)
      out.wide = true;
  }
  // adaptive-scale-shift eq. 10: the input zero point goes into the bias,
  // b~ = b - zp * sum(w), so the kernels' inner loop has no zero-point term.
  int64_t inZp = inQ.getZeroPoint();
  out.zpFolded = foldZeroPoint && inZp != 0;
  if (out.zpFolded)
    for (int64_t c = 0; c < outChannels; ++c) {
      int64_t sum = 0;
      for (int64_t i = 0; i < inner; ++i)
        sum += w.values[c * inner + i];
      out.values[c] -= inZp * sum;
      if (out.values[c] > INT32_MAX || out.values[c] < INT32_MIN)
        out.wide = true;
    }
  return out;
}

/// Step 5: the integer weight constant: the log / STLQ codes, or the stored
/// integers with their quantized type.
Value weightConstant(OpBuilder &b, Location loc, const QConst &w,
                     const std::optional<EncodedWeights> &codes) {
  if (codes)
    return ConstantOp::create(b, loc, codes->values.getType(), codes->values);
  MLIRContext *ctx = b.getContext();
  // i8 holds [-128, 127] (full-range int8 weights, e.g. torch's qint8);
  // anything wider (uint8 weights, 16-bit pow2 integers) takes i16.
  unsigned wBits = w.storageMin >= -128 && w.storageMax <= 127 ? 8 : 16;
  auto wStorage = IntegerType::get(ctx, wBits);
  Type f32 = b.getF32Type();
  unsigned flags = quant::QuantizationFlags::Signed;
  Type wElt = w.axis < 0 ? Type(quant::UniformQuantizedType::get(
                               flags, wStorage, f32, w.scales[0], 0,
                               w.storageMin, w.storageMax))
                         : Type(quant::UniformQuantizedPerAxisType::get(
                               flags, wStorage, f32, w.scales,
                               SmallVector<int64_t>(w.scales.size(), 0), 0,
                               w.storageMin, w.storageMax));
  // The stored integers' raw bytes (little endian, as the attribute holds
  // them): the low wBits bits of each value, which is in the storage range.
  const size_t wBytes = wBits / 8;
  std::vector<char> stored(w.values.size() * wBytes);
  for (size_t i = 0; i < w.values.size(); ++i) {
    auto u = static_cast<uint64_t>(w.values[i]);
    for (size_t byte = 0; byte < wBytes; ++byte)
      stored[i * wBytes + byte] = static_cast<char>(u >> (8 * byte));
  }
  auto wAttr = DenseElementsAttr::getFromRawBuffer(
      RankedTensorType::get(w.shape, wStorage), stored);
  return ConstantOp::create(b, loc, RankedTensorType::get(w.shape, wElt),
                            wAttr);
}

/// Step 5: the bias constant of the accumulator's type.
Value biasConstant(OpBuilder &b, Location loc, ArrayRef<int64_t> biasQ,
                   IntegerType accType) {
  SmallVector<APInt> biasInts;
  for (int64_t v : biasQ)
    biasInts.emplace_back(accType.getWidth(), static_cast<uint64_t>(v), true);
  auto biasType =
      RankedTensorType::get({static_cast<int64_t>(biasQ.size())}, accType);
  return ConstantOp::create(b, loc, biasType,
                            DenseElementsAttr::get(biasType, biasInts));
}

/// Step 5: the accumulating op: lowbit.fully_connected on the matmul's
/// [M, K] input, or lowbit.conv2d (groups = channels when depthwise).
FailureOr<Value> accumulate(OpBuilder &b, Location loc, Operation *anchor,
                            Value input, Value weight, Value bias,
                            const LinearBias &biasQ,
                            const std::optional<EncodedWeights> &codes) {
  auto biasType = cast<RankedTensorType>(bias.getType());
  Type accType = biasType.getElementType();
  int64_t outChannels = biasType.getDimSize(0);
  // What both forms take from the bias and the weights.
  auto layerAttrs = [&](SmallVector<NamedAttribute> attrs) {
    if (biasQ.zpFolded)
      attrs.push_back(b.getNamedAttr("input_zp_folded", b.getUnitAttr()));
    if (codes)
      attrs.push_back(b.getNamedAttr("weight_encoding", codes->encoding));
    return attrs;
  };
  if (isa<tosa::MatMulOp>(anchor)) {
    auto inType = cast<RankedTensorType>(input.getType());
    if (inType.getRank() != 3 || inType.getDimSize(0) != 1)
      return linearError(anchor, "matmul input must be [1, M, K]");
    Value in2 =
        reshapeTo(b, loc, input, {inType.getDimSize(1), inType.getDimSize(2)});
    auto accT =
        RankedTensorType::get({inType.getDimSize(1), outChannels}, accType);
    return FullyConnectedOp::create(b, loc, TypeRange{accT},
                                    ValueRange{in2, weight, bias},
                                    layerAttrs({}))
        .getResult();
  }
  auto resT = cast<RankedTensorType>(anchor->getResult(0).getType());
  auto accT = RankedTensorType::get(resT.getShape(), accType);
  int64_t groups = isa<tosa::DepthwiseConv2DOp>(anchor)
                       ? cast<RankedTensorType>(input.getType()).getDimSize(3)
                       : 1;
  return Conv2DOp::create(
             b, loc, TypeRange{accT}, ValueRange{input, weight, bias},
             layerAttrs(
                 {b.getNamedAttr("stride", anchor->getAttr("stride")),
                  b.getNamedAttr("pad", anchor->getAttr("pad")),
                  b.getNamedAttr("dilation", anchor->getAttr("dilation")),
                  b.getNamedAttr("groups", b.getI64IntegerAttr(groups))}))
      .getResult();
}

/// Step 6: the requant to the quantize's type, M[c] = S_in * S_w[c] / S_out,
/// with the epilogue's clamp as its range and PReLU as its second
/// multiplier set; reshaped to `outType`.
FailureOr<Value> linearRequant(OpBuilder &b, Location loc, Operation *anchor,
                               Value acc, const QConst &w,
                               quant::UniformQuantizedType inQ,
                               const Epilogue &epi, RankedTensorType outType) {
  const int64_t outChannels = w.shape[0];
  auto outQ = cast<quant::UniformQuantizedType>(outType.getElementType());
  auto accTy = cast<RankedTensorType>(acc.getType());
  int64_t rank = accTy.getRank();
  std::vector<double> alpha;
  if (epi.slopes) {
    alpha = perChannel(epi.slopes, outChannels);
    if (alpha.empty())
      return linearError(anchor,
                         "PReLU slope must be one value or one per channel");
  }
  SmallVector<int32_t> pm, ps, nm, ns;
  int64_t n = (w.axis < 0 && (alpha.empty() || llvm::all_equal(alpha)))
                  ? 1
                  : outChannels;
  for (int64_t c = 0; c < n; ++c) {
    double s = inQ.getScale() * w.scale(c) / outQ.getScale();
    auto m = multiplier(loc, s);
    if (failed(m))
      return failure();
    pm.push_back(m->multiplier);
    ps.push_back(m->shift);
    if (!alpha.empty()) {
      auto mn = multiplier(loc, alpha[c] * s, /*allowNegative=*/true);
      if (failed(mn))
        return failure();
      nm.push_back(mn->multiplier);
      ns.push_back(mn->shift);
    }
  }
  auto [lo, hi] = saturation(epi, outQ);
  SmallVector<NamedAttribute> attrs = {
      b.getNamedAttr("multiplier", b.getDenseI32ArrayAttr(pm)),
      b.getNamedAttr("shift", b.getDenseI32ArrayAttr(ps)),
      b.getNamedAttr("rounding", roundingAttr(b.getContext()))};
  if (n > 1)
    attrs.push_back(b.getNamedAttr("axis", b.getI64IntegerAttr(rank - 1)));
  if (!nm.empty()) {
    attrs.push_back(
        b.getNamedAttr("neg_multiplier", b.getDenseI32ArrayAttr(nm)));
    attrs.push_back(b.getNamedAttr("neg_shift", b.getDenseI32ArrayAttr(ns)));
  }
  addSaturation(b, attrs, lo, hi, outQ);
  Value r = RequantOp::create(b, loc, TypeRange{withElement(accTy, outQ)},
                              ValueRange{acc}, attrs)
                .getResult();
  return reshapeTo(b, loc, r, outType.getShape());
}

} // namespace

FailureOr<Value> TosaToLowBitLowering::lowerLinear(OpBuilder &b,
                                                   Operation *anchor,
                                                   const Epilogue &epi,
                                                   RankedTensorType outType) {
  Location loc = anchor->getLoc();
  // 1. The input.
  auto input =
      quantizedSource(b, skipUnusedCrop(anchor->getOperand(0), anchor), loc);
  if (failed(input)) {
    if (sourceDiagnosed)
      return failure();
    return linearError(anchor, "the input is not a quantized activation (no "
                               "calibrated quantization reaches it)");
  }
  auto inQ = activationType(*input);

  // 2. The weights, in the integer op's layout (OHWI, or OI), quantized on
  // dim 0. Log / STLQ weights: the encoding of the TOSA op, kept on the
  // integer op.
  Attribute encoding = anchor->getAttr("lowbit.weight_encoding");
  auto logEnc = dyn_cast_or_null<LogAttr>(encoding);
  auto stlqEnc = dyn_cast_or_null<STLQAttr>(encoding);
  unsigned codeBits = logEnc    ? logEnc.getBits()
                      : stlqEnc ? stlqEnc.getBits()
                                : 0;
  FailureOr<QConst> w = readLinearWeights(anchor, logEnc, stlqEnc);
  if (failed(w) || failed(toIntegerLayout(anchor, *w)))
    return failure();
  std::optional<EncodedWeights> codes;
  if (codeBits) {
    codes = encodeLogWeights(anchor, *w, codeBits, logEnc, stlqEnc);
    if (!codes)
      return failure();
  }

  // 3. The scale after the op; 4. the bias.
  FailureOr<std::vector<double>> postScale = foldPostScale(anchor, epi, *w);
  if (failed(postScale))
    return failure();
  FailureOr<LinearBias> bias =
      linearBias(anchor, epi, inQ, *w, *postScale, foldZeroPoint);
  if (failed(bias))
    return failure();

  // 5. The constants and the accumulating op.
  IntegerType accType = b.getIntegerType(bias->wide ? 64 : 32);
  Value weight = weightConstant(b, loc, *w, codes);
  Value biasV = biasConstant(b, loc, bias->values, accType);
  FailureOr<Value> acc =
      accumulate(b, loc, anchor, *input, weight, biasV, *bias, codes);
  if (failed(acc))
    return failure();

  // 6. The requant.
  return linearRequant(b, loc, anchor, *acc, *w, inQ, epi, outType);
}

} // namespace tosa_to_lowbit
} // namespace lowbit
} // namespace mlir
