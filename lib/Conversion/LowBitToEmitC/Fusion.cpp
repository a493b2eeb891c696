//===- Fusion.cpp - Which layers run as one fused kernel call -------------===//
//
// Part of the lowbit project.
//
//===----------------------------------------------------------------------===//

#include "EmitterImpl.h"

namespace lowbit {
namespace emitc_target {

std::optional<Emitter::Fused> Emitter::fusable(Operation *op) {
  auto conv = dyn_cast<lb::Conv2DOp>(op);
  auto fc = dyn_cast<lb::FullyConnectedOp>(op);
  if (!conv && !fc)
    return std::nullopt;
  Value result = op->getResult(0), input = op->getOperand(0),
        weight = op->getOperand(1);
  Value bias = conv ? conv.getBias() : fc.getBias();
  if (op->hasAttr("weight_encoding"))
    return std::nullopt; // log / STLQ codes: the shift kernels
  // One user, the requant of the accumulator, 8-bit everything, int32
  // accumulators, constant weights and bias.
  if (!result.hasOneUse())
    return std::nullopt;
  auto rq = dyn_cast<lb::RequantOp>(*result.getUsers().begin());
  auto acc = cast<RankedTensorType>(result.getType());
  auto accElt = dyn_cast<IntegerType>(acc.getElementType());
  if (!rq || !accElt || accElt.getWidth() != 32 ||
      zeroPointOf(rq.getInput().getType().getElementType()) != 0 ||
      eightBitSignedness(input) < 0 || eightBitSignedness(weight) != 1 ||
      eightBitSignedness(rq.getResult()) < 0 ||
      !weight.getDefiningOp<lb::ConstantOp>() ||
      (bias && !bias.getDefiningOp<lb::ConstantOp>()))
    return std::nullopt;
  if (bias) {
    auto bt = dyn_cast<IntegerType>(
        storageType(cast<RankedTensorType>(bias.getType()).getElementType()));
    if (!bt || bt.getWidth() != 32)
      return std::nullopt;
  }
  int64_t rank = acc.getRank();
  if (std::optional<int64_t> axis = rq.getAxis())
    if (*axis != rank - 1)
      return std::nullopt;
  auto in = cast<RankedTensorType>(input.getType());
  auto w = cast<RankedTensorType>(weight.getType());
  Fused f;
  f.requant = rq;
  ::lowbit::rt::Conv2DShape &s = f.shape;
  if (fc) {
    if (in.getRank() != 2 || w.getRank() != 2)
      return std::nullopt;
    s = {in.getDimSize(0), 1, 1, in.getDimSize(1), 1, 1, w.getDimSize(0),
         1,                1, 1, 1, 1,               1, 0, 0, 1};
  } else {
    ArrayRef<int64_t> st = conv.getStride(), pd = conv.getPad(),
                      dl = conv.getDilation();
    s = {in.getDimSize(0),  in.getDimSize(1),  in.getDimSize(2),
         in.getDimSize(3),  acc.getDimSize(1), acc.getDimSize(2),
         acc.getDimSize(3), w.getDimSize(1),   w.getDimSize(2),
         st[0],             st[1],             dl[0],
         dl[1],             pd[0],             pd[2],
         static_cast<int64_t>(conv.getGroups())};
    f.depthwise = s.groups != 1 && s.groups == s.c && s.oc == s.c &&
                  w.getDimSize(3) == 1;
    if (!f.depthwise && !::lowbit::rt::gemmShapeSupported(s))
      return std::nullopt;
  }
  return f;
}


std::optional<::lowbit::rt::QAdd> Emitter::fastAdd(lb::AddOp add) {
  int as = eightBitSignedness(add.getLhs()), bs = eightBitSignedness(add.getRhs());
  if (as < 0 || bs < 0 || eightBitSignedness(add.getResult()) < 0)
    return std::nullopt;
  auto outElt = add.getType().getElementType();
  auto [slo, shi] = storageRange(outElt);
  ::lowbit::rt::QAdd d{};
  d.aSigned = as;
  d.bSigned = bs;
  d.aZp = static_cast<int32_t>(zeroPointOf(add.getLhs().getType().getElementType()));
  d.bZp = static_cast<int32_t>(zeroPointOf(add.getRhs().getType().getElementType()));
  d.inputShift = static_cast<int32_t>(add.getInputShiftAttr().getInt());
  auto sm = [](IntegerAttr m, IntegerAttr s) {
    return ::lowbit::rt::ScaleMultiplier{static_cast<int32_t>(m.getInt()),
                                         static_cast<int32_t>(s.getInt())};
  };
  d.aM = sm(add.getLhsMultiplierAttr(), add.getLhsShiftAttr());
  d.bM = sm(add.getRhsMultiplierAttr(), add.getRhsShiftAttr());
  d.outM = sm(add.getOutputMultiplierAttr(), add.getOutputShiftAttr());
  d.outZp = static_cast<int32_t>(zeroPointOf(outElt));
  d.lo = static_cast<int32_t>(add.getMin() ? *add.getMin() : slo);
  d.hi = static_cast<int32_t>(add.getMax() ? *add.getMax() : shi);
  d.mode = add.getRounding() == lb::RoundingMode::double_round
               ? ::lowbit::rt::RoundingMode::DoubleRound
               : ::lowbit::rt::RoundingMode::SingleRound;
  if (!::lowbit::rt::addFitsInt32(d))
    return std::nullopt;
  return d;
}

} // namespace emitc_target
} // namespace lowbit
