//===- Softmax.cpp - Softmax of an 8-bit activation in integers -----------===//
//
// Part of the lowbit project.
//
//===----------------------------------------------------------------------===//
//
// The importer's Softmax is
//
//   m = reduce_max(x, axis); e = exp(x - m); p = e * reciprocal(reduce_sum(e, axis))
//
// When x is an 8-bit activation and p is quantized, x - m takes at most 256
// values per row: lowbit.softmax looks the exponentials up in a table of
// 2^16 exp(-j S_in), sums them in 64 bits and divides once per element
// (the op's description has the equation; rt::softmaxTensor is the one
// definition).
//
//===----------------------------------------------------------------------===//

#include "TosaToLowBit.h"

#include "LowBit/Transforms/FloatFallback.h"

#include <cmath>

namespace mlir {
namespace lowbit {
namespace tosa_to_lowbit {

/// The reduce's axis when `op` is a reduce of kind R over one axis of `x`.
template <typename R> static std::optional<int64_t> reduceAxis(Value v, Value x) {
  auto r = v.getDefiningOp<R>();
  if (!r || r.getInput() != x)
    return std::nullopt;
  return static_cast<int64_t>(r.getAxis());
}

std::optional<SoftmaxMatch> matchSoftmax(QuantizeOp q) {
  auto outQ = activationType(q.getResult());
  if (!outQ || outQ.getStorageTypeIntegralWidth() > 8)
    return std::nullopt;
  SmallVector<Operation *> tail;
  Value start = stripLayoutTail(q.getInput(), tail);
  auto mul = start.getDefiningOp<tosa::MulOp>();
  if (!mul)
    return std::nullopt;
  // e * reciprocal(sum(e)), in either order.
  Value e = mul.getInput1(), r = mul.getInput2();
  if (!r.getDefiningOp<tosa::ReciprocalOp>())
    std::swap(e, r);
  auto recip = r.getDefiningOp<tosa::ReciprocalOp>();
  auto exp = e.getDefiningOp<tosa::ExpOp>();
  if (!recip || !exp || !floatBinaryKind(mul))
    return std::nullopt;
  auto sumAxis = reduceAxis<tosa::ReduceSumOp>(recip.getInput1(), e);
  auto sub = exp.getInput1().getDefiningOp<tosa::SubOp>();
  if (!sumAxis || !sub)
    return std::nullopt;
  Value x = sub.getInput1();
  auto maxAxis = reduceAxis<tosa::ReduceMaxOp>(sub.getInput2(), x);
  if (!maxAxis || *maxAxis != *sumAxis)
    return std::nullopt;
  auto shape = cast<RankedTensorType>(start.getType()).getShape();
  if (cast<RankedTensorType>(x.getType()).getShape() != shape)
    return std::nullopt;
  // x is an 8-bit activation (through same-scale movement).
  DequantizeOp dq = dequantizeBehind(x);
  if (!dq)
    return std::nullopt;
  auto inQ = activationType(dq.getInput());
  if (!inQ || inQ.getStorageTypeIntegralWidth() > 8)
    return std::nullopt;

  SoftmaxMatch m;
  m.leaf = x;
  m.axis = *sumAxis;
  m.ops = {sub.getInput2().getDefiningOp(), sub, exp,
           recip.getInput1().getDefiningOp(), recip, mul};
  m.ops.append(tail.begin(), tail.end());
  for (int64_t j = 0; j < 256; ++j)
    m.table.push_back(static_cast<int32_t>(
        std::nearbyint(std::ldexp(std::exp(-static_cast<double>(j) *
                                           inQ.getScale()),
                                  16))));
  double rr = std::nearbyint(std::ldexp(1.0 / outQ.getScale(), 16));
  if (!(rr >= 1.0 && rr <= std::ldexp(1.0, 46)))
    return std::nullopt;
  m.multiplier = static_cast<int64_t>(rr);
  return m;
}

FailureOr<Value> TosaToLowBitLowering::lowerSoftmax(OpBuilder &b, QuantizeOp q,
                                                    const SoftmaxMatch &m,
                                                    RankedTensorType outType) {
  Location loc = q.getLoc();
  auto src = activationOperand(b, m.leaf, q, "the input of a softmax", 8);
  if (failed(src))
    return failure();
  auto type = withElement(src->getType(), outType.getElementType());
  Value r = SoftmaxOp::create(b, loc, type, *src, b.getI64IntegerAttr(m.axis),
                              b.getDenseI32ArrayAttr(m.table),
                              b.getI64IntegerAttr(m.multiplier))
                .getResult();
  return reshapeTo(b, loc, r, outType.getShape());
}

} // namespace tosa_to_lowbit
} // namespace lowbit
} // namespace mlir
