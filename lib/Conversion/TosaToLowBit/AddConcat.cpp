//===- AddConcat.cpp - convert-tosa-to-lowbit: add and concat -------------===//
//
// Part of the lowbit project.
//
//===----------------------------------------------------------------------===//
//
// Ops that combine activations of different scales: an add of two
// activations of one shape (lowbit.add at a common intermediate scale, as
// TFLite does it) and a concat (lowbit.concat of inputs requantized to the
// result's scale, constant inputs stored at it).
//
//===----------------------------------------------------------------------===//

#include "TosaToLowBit.h"

#include "LowBit/Utils/RangeQuantization.h"

#include <algorithm>
#include <cmath>

namespace mlir {
namespace lowbit {
namespace tosa_to_lowbit {

FailureOr<Value> TosaToLowBitLowering::lowerAdd(OpBuilder &b, tosa::AddOp add,
                                                const Epilogue &epi,
                                                RankedTensorType outType) {
  Location loc = add.getLoc();
  // A constant with a value per position (positionalConstant): stored as an
  // activation of the other input's width and shape, quantized over its
  // own range.
  Value cst;
  Value act = add.getInput1();
  if (positionalConstant(add.getInput2(), add.getType()))
    cst = add.getInput2();
  else if (positionalConstant(add.getInput1(), add.getType()))
    cst = add.getInput1(), act = add.getInput2();
  auto lhs = quantizedSource(b, act, loc);
  auto rhs = cst ? FailureOr<Value>(failure())
                 : quantizedSource(b, add.getInput2(), loc);
  if (cst && succeeded(lhs) &&
      cast<ShapedType>(lhs->getType()).getShape() == add.getType().getShape()) {
    std::vector<double> values = *floatValues(cst);
    auto [lo, hi] = std::minmax_element(values.begin(), values.end());
    auto q = rangeQuantizedType(
        ctx, activationType(*lhs).getStorageTypeIntegralWidth(), *lo, *hi,
        b.getF32Type());
    unsigned width = q.getStorageTypeIntegralWidth();
    // Broadcast (numpy, right-aligned) to the activation's shape: element
    // i of the result reads the constant at the same index on its
    // dimensions of size > 1.
    auto ct = cast<RankedTensorType>(lhs->getType());
    ArrayRef<int64_t> cs = cast<ShapedType>(cst.getType()).getShape();
    ArrayRef<int64_t> os = ct.getShape();
    int64_t offset = static_cast<int64_t>(os.size() - cs.size());
    SmallVector<APInt> stored;
    stored.reserve(ct.getNumElements());
    for (int64_t i = 0, n = ct.getNumElements(); i < n; ++i) {
      int64_t rest = i, src = 0, stride = 1;
      for (int64_t d = static_cast<int64_t>(os.size()) - 1; d >= 0; --d) {
        int64_t idx = rest % os[d];
        rest /= os[d];
        if (d >= offset) {
          int64_t cd = cs[d - offset];
          src += (cd == 1 ? 0 : idx) * stride;
          stride *= cd;
        }
      }
      stored.emplace_back(width,
                          static_cast<uint64_t>(quantizeWith(values[src], q)),
                          /*isSigned=*/true);
    }
    rhs =
        ConstantOp::create(b, cst.getLoc(), withElement(ct, q),
                           DenseElementsAttr::get(
                               RankedTensorType::get(
                                   ct.getShape(), IntegerType::get(ctx, width)),
                               stored))
            .getResult();
  }
  if (failed(lhs) || failed(rhs)) {
    if (sourceDiagnosed)
      return failure();
    return add.emitError("convert-tosa-to-lowbit: both inputs of an add must "
                         "be quantized activations"),
           failure();
  }
  if (cast<ShapedType>(lhs->getType()).getShape() !=
      cast<ShapedType>(rhs->getType()).getShape())
    return add.emitError("convert-tosa-to-lowbit: broadcasting adds are not "
                         "supported by the integer target"),
           failure();
  if (epi.slopes)
    return add.emitError("convert-tosa-to-lowbit: PReLU after an add is not "
                         "supported by the integer target"),
           failure();
  auto qa = activationType(*lhs), qb = activationType(*rhs);
  auto outQ = cast<quant::UniformQuantizedType>(outType.getElementType());
  // Common intermediate scale 2 max(Sa, Sb) / 2^shift, as in TFLite.
  unsigned bits = std::max(qa.getStorageTypeIntegralWidth(),
                           qb.getStorageTypeIntegralWidth());
  int32_t shift = bits <= 8 ? 20 : 12;
  double twiceMax = 2 * std::max(qa.getScale(), qb.getScale());
  auto ma = multiplier(loc, qa.getScale() / twiceMax);
  auto mb = multiplier(loc, qb.getScale() / twiceMax);
  auto mo =
      multiplier(loc, twiceMax / (std::ldexp(1.0, shift) * outQ.getScale()));
  if (failed(ma) || failed(mb) || failed(mo))
    return failure();
  auto [lo, hi] = saturation(epi, outQ);
  SmallVector<NamedAttribute> attrs = {
      b.getNamedAttr("input_shift", b.getI32IntegerAttr(shift)),
      b.getNamedAttr("lhs_multiplier", b.getI32IntegerAttr(ma->multiplier)),
      b.getNamedAttr("lhs_shift", b.getI32IntegerAttr(ma->shift)),
      b.getNamedAttr("rhs_multiplier", b.getI32IntegerAttr(mb->multiplier)),
      b.getNamedAttr("rhs_shift", b.getI32IntegerAttr(mb->shift)),
      b.getNamedAttr("output_multiplier", b.getI32IntegerAttr(mo->multiplier)),
      b.getNamedAttr("output_shift", b.getI32IntegerAttr(mo->shift)),
      b.getNamedAttr("rounding", roundingAttr(ctx))};
  addSaturation(b, attrs, lo, hi, outQ);
  // Inputs transposed the same way (an NCHW residual add between NHWC
  // producers) are added before the transpose, which then moves to the
  // result, where it usually cancels against the consumer's.
  Value a = *lhs, c = *rhs;
  TransposeOp ta = a.getDefiningOp<TransposeOp>();
  TransposeOp tb = c.getDefiningOp<TransposeOp>();
  bool sinkTranspose =
      ta && tb && ta.getPerms() == tb.getPerms() &&
      ta.getInput().getType().getShape() == tb.getInput().getType().getShape();
  if (sinkTranspose)
    a = ta.getInput(), c = tb.getInput();
  Value r = AddOp::create(b, loc, TypeRange{withElement(a.getType(), outQ)},
                          ValueRange{a, c}, attrs)
                .getResult();
  if (sinkTranspose)
    r = TransposeOp::create(b, loc, withElement(lhs->getType(), outQ), r,
                            ta.getPermsAttr());
  return reshapeTo(b, loc, r, outType.getShape());
}

/// A concat: constant inputs quantized at the result's scale, the others
/// requantized to it; then the epilogue's clamp. `loc` is the quantize's.
FailureOr<Value> TosaToLowBitLowering::lowerConcat(OpBuilder &b, Location loc,
                                                   tosa::ConcatOp cat,
                                                   const Epilogue &epi,
                                                   RankedTensorType outType) {
  SmallVector<Value> inputs;
  auto catQ = cast<quant::UniformQuantizedType>(outType.getElementType());
  for (Value v : cat.getInput1()) {
    if (auto values = floatValues(v)) {
      // A constant operand (a channel pad of zeros): quantized with the
      // concat's scale and zero point.
      auto vt = cast<RankedTensorType>(v.getType());
      unsigned width = catQ.getStorageTypeIntegralWidth();
      SmallVector<APInt> stored;
      stored.reserve(values->size());
      for (double x : *values)
        stored.emplace_back(width, static_cast<uint64_t>(quantizeWith(x, catQ)),
                            /*isSigned=*/true);
      inputs.push_back(ConstantOp::create(
          b, v.getLoc(), withElement(vt, catQ),
          DenseElementsAttr::get(
              RankedTensorType::get(vt.getShape(),
                                    IntegerType::get(ctx, width)),
              stored)));
      continue;
    }
    auto s = quantizedSource(b, v, loc);
    if (failed(s)) {
      if (sourceDiagnosed)
        return failure();
      return cat.emitError("convert-tosa-to-lowbit: concat inputs must be "
                           "quantized activations"),
             failure();
    }
    auto r = rescale(b, loc, *s, Epilogue(),
                     withElement(s->getType(), outType.getElementType()));
    if (failed(r))
      return failure();
    inputs.push_back(*r);
  }
  auto catType = withElement(cat.getType(), outType.getElementType());
  Value c = ConcatOp::create(b, cat.getLoc(), catType, inputs,
                             b.getI64IntegerAttr(cat.getAxis()));
  return rescale(b, loc, c, epi,
                 withElement(c.getType(), outType.getElementType()));
}

} // namespace tosa_to_lowbit
} // namespace lowbit
} // namespace mlir
