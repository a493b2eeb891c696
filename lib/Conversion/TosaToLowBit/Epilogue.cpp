//===- Epilogue.cpp - convert-tosa-to-lowbit: what follows an anchor ------===//
//
// Part of the lowbit project.
//
//===----------------------------------------------------------------------===//
//
// The chain between a segment's anchor op and its quantize: ReLU / Clip
// (tosa.clamp), PReLU (select(ge(z, 0), z, mul(z, slope))), constant bias
// adds and a positive constant scale, read backwards from the quantize into
// an Epilogue; and the requants that apply it: a clamp becomes the
// requant's saturation range, a PReLU its second multiplier set.
//
//===----------------------------------------------------------------------===//

#include "TosaToLowBit.h"

#include "LowBit/Transforms/FloatFallback.h"
#include "mlir/IR/Matchers.h"

#include <algorithm>
#include <cmath>

namespace mlir {
namespace lowbit {
namespace tosa_to_lowbit {

//===----------------------------------------------------------------------===//
// Matching
//===----------------------------------------------------------------------===//

/// Matches select(ge(z, 0), z, mul(z, slope)) and returns z.
static Value matchPRelu(Value v, Value &slope) {
  auto sel = v.getDefiningOp<tosa::SelectOp>();
  if (!sel)
    return {};
  auto ge = sel.getInput1().getDefiningOp<tosa::GreaterEqualOp>();
  auto mul = sel.getInput3().getDefiningOp<tosa::MulOp>();
  if (!ge || !mul)
    return {};
  Value z = sel.getInput2();
  if (ge.getInput1() != z || !isZeroConst(ge.getInput2()))
    return {};
  if (mul.getInput1() == z && floatValues(mul.getInput2()))
    slope = mul.getInput2();
  else if (mul.getInput2() == z && floatValues(mul.getInput1()))
    slope = mul.getInput1();
  else
    return {};
  return z;
}

bool positionalConstant(Value c, Type resultType) {
  return isPositionalConstant(c, resultType) && floatValues(c).has_value();
}

Value parseEpilogue(Value v, Epilogue &epi) {
  v = skipReshapes(v);
  if (auto c = v.getDefiningOp<tosa::ClampOp>()) {
    auto lo = dyn_cast<FloatAttr>(c.getMinValAttr());
    auto hi = dyn_cast<FloatAttr>(c.getMaxValAttr());
    if (lo && hi) {
      epi.clampMin = lo.getValueAsDouble();
      epi.clampMax = hi.getValueAsDouble();
      v = skipReshapes(c.getInput());
    }
  } else if (Value slope; Value z = matchPRelu(v, slope)) {
    epi.slopes = slope;
    v = skipReshapes(z);
  }
  // Constant adds: a float constant, or a dequantized constant (the int32
  // bias DequantizeLinear of a Q/DQ Gemm), possibly reshaped.
  auto biasAdds = [&](Value v) {
    while (auto add = v.getDefiningOp<tosa::AddOp>()) {
      // A constant with a value per position (a position embedding) is no
      // bias: the add is an anchor of its own (lowerAdd).
      if (positionalConstant(add.getInput1(), add.getType()) ||
          positionalConstant(add.getInput2(), add.getType()))
        break;
      if (floatValues(add.getInput2()))
        epi.biasAdds.push_back(add.getInput2()), v = add.getInput1();
      else if (floatValues(add.getInput1()))
        epi.biasAdds.push_back(add.getInput1()), v = add.getInput2();
      else
        break;
      v = skipReshapes(v);
    }
    return v;
  };
  v = biasAdds(v);
  // A positive constant multiply right after a convolution or matrix
  // product (and its bias adds) folds into the weights' scales.
  if (auto mul = v.getDefiningOp<tosa::MulOp>()) {
    Value k = mul.getInput2(), x = mul.getInput1();
    if (!floatValues(k))
      std::swap(k, x);
    DenseElementsAttr shift;
    auto values = floatValues(k);
    bool positive =
        values && !values->empty() && !floatValues(x) &&
        llvm::all_of(*values,
                     [](double s) { return s > 0 && std::isfinite(s); }) &&
        matchPattern(mul.getShift(), m_Constant(&shift)) &&
        llvm::all_of(shift.getValues<APInt>(),
                     [](const APInt &a) { return a.isZero(); });
    if (positive) {
      size_t before = epi.biasAdds.size();
      Value start = biasAdds(skipReshapes(x));
      if (isLinearAnchor(start.getDefiningOp())) {
        epi.scale = k;
        epi.scaledFrom = before;
        return start;
      }
      epi.biasAdds.resize(before); // not after a linear op: no epilogue
    }
  }
  return v;
}

//===----------------------------------------------------------------------===//
// Requants
//===----------------------------------------------------------------------===//

void addSaturation(OpBuilder &b, SmallVectorImpl<NamedAttribute> &attrs,
                   int64_t lo, int64_t hi, quant::UniformQuantizedType out) {
  if (lo != out.getStorageTypeMin())
    attrs.push_back(b.getNamedAttr("min", b.getI64IntegerAttr(lo)));
  if (hi != out.getStorageTypeMax())
    attrs.push_back(b.getNamedAttr("max", b.getI64IntegerAttr(hi)));
}

FailureOr<rt::ScaleMultiplier> multiplier(Location loc, double scale,
                                          bool allowNegative) {
  rt::ScaleMultiplier m;
  bool negate = allowNegative && scale < 0;
  switch (rt::computeMultiplier(negate ? -scale : scale, m)) {
  case rt::ScaleStatus::Ok:
    if (negate)
      m.multiplier = -m.multiplier;
    return m;
  case rt::ScaleStatus::NotFiniteOrNegative:
    return emitError(loc) << "convert-tosa-to-lowbit: rescale factor " << scale
                          << " is negative or not finite",
           failure();
  case rt::ScaleStatus::TooLarge:
    return emitError(loc) << "convert-tosa-to-lowbit: rescale factor " << scale
                          << " is too large for a 31-bit multiplier",
           failure();
  }
  return failure();
}

std::pair<int64_t, int64_t> saturation(const Epilogue &epi,
                                       quant::UniformQuantizedType out) {
  int64_t lo = out.getStorageTypeMin(), hi = out.getStorageTypeMax();
  auto toStored = [&](double x) -> int64_t {
    double q = std::nearbyint(x / out.getScale()) + out.getZeroPoint();
    return static_cast<int64_t>(
        std::clamp(q, static_cast<double>(lo), static_cast<double>(hi)));
  };
  if (epi.clampMin && std::isfinite(*epi.clampMin))
    lo = std::max(lo, toStored(*epi.clampMin));
  if (epi.clampMax && std::isfinite(*epi.clampMax))
    hi = std::min(hi, toStored(*epi.clampMax));
  return {lo, hi};
}

RoundingModeAttr roundingAttr(MLIRContext *ctx) {
  return RoundingModeAttr::get(ctx, RoundingMode::single_round);
}

Value perTensorRequant(OpBuilder &b, Location loc, Value in,
                       rt::ScaleMultiplier m, const Epilogue &epi,
                       RankedTensorType resultType) {
  auto outQ = cast<quant::UniformQuantizedType>(resultType.getElementType());
  auto [lo, hi] = saturation(epi, outQ);
  SmallVector<NamedAttribute> attrs = {
      b.getNamedAttr("multiplier", b.getDenseI32ArrayAttr({m.multiplier})),
      b.getNamedAttr("shift", b.getDenseI32ArrayAttr({m.shift})),
      b.getNamedAttr("rounding", roundingAttr(b.getContext()))};
  addSaturation(b, attrs, lo, hi, outQ);
  return RequantOp::create(b, loc, TypeRange{resultType}, ValueRange{in}, attrs)
      .getResult();
}

FailureOr<Value> rescale(OpBuilder &b, Location loc, Value in,
                         const Epilogue &epi, RankedTensorType outType) {
  auto inQ = activationType(in);
  auto outQ = cast<quant::UniformQuantizedType>(outType.getElementType());
  auto [lo, hi] = saturation(epi, outQ);
  auto resultType = withElement(in.getType(), outQ);
  if (!epi.slopes && inQ == outQ) {
    if (lo == outQ.getStorageTypeMin() && hi == outQ.getStorageTypeMax())
      return in;
    return ClampOp::create(b, loc, resultType, in, b.getI64IntegerAttr(lo),
                           b.getI64IntegerAttr(hi))
        .getResult();
  }
  auto pos = multiplier(loc, inQ.getScale() / outQ.getScale());
  if (failed(pos))
    return failure();
  if (!epi.slopes)
    return perTensorRequant(b, loc, in, *pos, epi, resultType);
  SmallVector<NamedAttribute> attrs = {
      b.getNamedAttr("multiplier", b.getDenseI32ArrayAttr({pos->multiplier})),
      b.getNamedAttr("shift", b.getDenseI32ArrayAttr({pos->shift})),
      b.getNamedAttr("rounding", roundingAttr(b.getContext()))};
  // A PReLU: the negative side gets its own multipliers.
  int64_t rank = resultType.getRank();
  int64_t channels = rank ? resultType.getShape().back() : 1;
  std::vector<double> alpha = perChannel(epi.slopes, channels);
  if (alpha.empty())
    return emitError(loc) << "convert-tosa-to-lowbit: PReLU slope must be "
                             "one value or one per channel",
           failure();
  SmallVector<int32_t> nm, ns;
  bool same = llvm::all_equal(alpha);
  for (size_t c = 0; c < (same ? 1 : alpha.size()); ++c) {
    auto m = multiplier(loc, alpha[c] * inQ.getScale() / outQ.getScale(),
                        /*allowNegative=*/true);
    if (failed(m))
      return failure();
    nm.push_back(m->multiplier);
    ns.push_back(m->shift);
  }
  if (!same) {
    // Both multiplier sets per channel.
    attrs[0] = b.getNamedAttr(
        "multiplier", b.getDenseI32ArrayAttr(
                          SmallVector<int32_t>(nm.size(), pos->multiplier)));
    attrs[1] = b.getNamedAttr(
        "shift",
        b.getDenseI32ArrayAttr(SmallVector<int32_t>(nm.size(), pos->shift)));
    attrs.push_back(b.getNamedAttr("axis", b.getI64IntegerAttr(rank - 1)));
  }
  attrs.push_back(b.getNamedAttr("neg_multiplier", b.getDenseI32ArrayAttr(nm)));
  attrs.push_back(b.getNamedAttr("neg_shift", b.getDenseI32ArrayAttr(ns)));
  addSaturation(b, attrs, lo, hi, outQ);
  return RequantOp::create(b, loc, TypeRange{resultType}, ValueRange{in}, attrs)
      .getResult();
}

} // namespace tosa_to_lowbit
} // namespace lowbit
} // namespace mlir
