//===- FoldPReluRequant.cpp - PReLU into dual-multiplier requant ----------===//
//
// Part of the lowbit project.
//
//===----------------------------------------------------------------------===//

#include "LowBit/IR/LowBitOps.h"
#include "LowBit/IR/LowBitPatterns.h"
#include "LowBit/Transforms/Passes.h"

#include "lowbit/runtime/Requant.h"

#include "mlir/Dialect/Quant/IR/QuantTypes.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

#include <cmath>

namespace mlir {
namespace lowbit {
#define GEN_PASS_DEF_LOWBITFOLDPRELUREQUANT
#include "LowBit/Transforms/Passes.h.inc"
} // namespace lowbit
} // namespace mlir

using namespace mlir;
using namespace mlir::lowbit;
namespace rt = ::lowbit::rt;

namespace {

/// requant(acc) -> prelu  ==>  requant(acc) with a negative multiplier set.
struct FoldPReluIntoRequant : public FoldIntoRequantPattern<PReluOp> {
  using FoldIntoRequantPattern::FoldIntoRequantPattern;

  LogicalResult foldIntoRequant(PReluOp prelu, RequantOp requant,
                                PatternRewriter &rewriter) const override {
    if (requant.isDual())
      return rewriter.notifyMatchFailure(prelu,
                                         "requant already has two multipliers");
    if (requant.getRounding() != prelu.getRounding())
      return rewriter.notifyMatchFailure(prelu, "rounding modes differ");
    ArrayRef<int32_t> reqMul = requant.getMultiplier();
    ArrayRef<int32_t> reqShift = requant.getShift();
    ArrayRef<int32_t> negMul = prelu.getNegMultiplier();
    ArrayRef<int32_t> negShift = prelu.getNegShift();

    // A narrowed saturation range [lo, hi] is an absorbed ReLU / ReLU6 /
    // Clip before the PReLU. With every slope >= 0 the PReLU is monotone, so
    // it maps [lo, hi] onto [P(lo), P(hi)] (P: the PReLU on one stored
    // value, the runtime's rule), and the folded requant saturates there.
    // A negative slope is not monotone (a Clip's lower bound could map above
    // values inside the range): no fold. Per-channel slopes give one bound
    // per channel below the zero point, which one requant range cannot hold.
    // Only the narrowed sides bound the result: the storage range of the
    // intermediate is a quantization artefact that the fold drops, as in the
    // unnarrowed case (no intermediate saturation).
    auto range = getStorageRange(requant.getType().getElementType());
    const int64_t lo = requant.getSaturationMin(),
                  hi = requant.getSaturationMax();
    const bool narrowLo = lo != range->first, narrowHi = hi != range->second;
    std::optional<std::pair<int64_t, int64_t>> foldedRange;
    if (narrowLo || narrowHi) {
      if (llvm::any_of(negMul, [](int32_t m) { return m < 0; }))
        return rewriter.notifyMatchFailure(
            prelu, "a negative slope after a narrowed range (ReLU/Clip) is "
                   "not monotone");
      auto mid = dyn_cast<quant::UniformQuantizedType>(
          requant.getType().getElementType());
      auto out = dyn_cast<quant::UniformQuantizedType>(
          prelu.getType().getElementType());
      if (!mid || !out)
        return rewriter.notifyMatchFailure(
            prelu, "a narrowed range needs per-tensor quantized types");
      const int64_t zpMid = mid.getZeroPoint();
      if (negMul.size() > 1 &&
          ((narrowLo && lo < zpMid) || (narrowHi && hi < zpMid)))
        return rewriter.notifyMatchFailure(
            prelu, "per-channel slopes below the zero point of a narrowed "
                   "range");
      rt::RoundingMode mode = prelu.getRounding() == RoundingMode::double_round
                                  ? rt::RoundingMode::DoubleRound
                                  : rt::RoundingMode::SingleRound;
      auto apply = [&](int64_t q) {
        int64_t v = q - zpMid;
        rt::ScaleMultiplier m =
            v < 0 ? rt::ScaleMultiplier{negMul[0], negShift[0]}
                  : rt::ScaleMultiplier{
                        static_cast<int32_t>(prelu.getPosMultiplier()),
                        static_cast<int32_t>(prelu.getPosShift())};
        return static_cast<int64_t>(rt::requantize(
            v, m, static_cast<int32_t>(out.getZeroPoint()),
            static_cast<int32_t>(out.getStorageTypeMin()),
            static_cast<int32_t>(out.getStorageTypeMax()), mode));
      };
      auto outRange = getStorageRange(prelu.getType().getElementType());
      foldedRange = {narrowLo ? apply(lo) : outRange->first,
                     narrowHi ? apply(hi) : outRange->second};
    }
    std::optional<int64_t> axis = requant.getAxis();
    if (reqMul.size() > 1 && negMul.size() > 1 &&
        requant.getAxis() != prelu.getAxis())
      return rewriter.notifyMatchFailure(prelu, "per-channel axes differ");
    if (reqMul.size() == 1)
      axis = prelu.getAxis();
    size_t channels = std::max(reqMul.size(), negMul.size());

    auto scaleOf = [](int32_t m, int32_t s) {
      return rt::multiplierToScale(rt::ScaleMultiplier{m, s});
    };
    double posScale =
        scaleOf(static_cast<int32_t>(prelu.getPosMultiplier()),
                static_cast<int32_t>(prelu.getPosShift()));
    SmallVector<int32_t> posM, posS, nM, nS;
    for (size_t c = 0; c < channels; ++c) {
      size_t r = reqMul.size() == 1 ? 0 : c;
      size_t n = negMul.size() == 1 ? 0 : c;
      double accScale = scaleOf(reqMul[r], reqShift[r]);
      // A negative slope's scale is negative: the magnitude's multiplier,
      // negated (the negative side of a dual requant may be negative).
      double negScale = accScale * scaleOf(negMul[n], negShift[n]);
      rt::ScaleMultiplier pos, neg;
      if (rt::computeMultiplier(accScale * posScale, pos) != rt::ScaleStatus::Ok ||
          rt::computeMultiplier(std::fabs(negScale), neg) !=
              rt::ScaleStatus::Ok)
        return rewriter.notifyMatchFailure(
            prelu, "combined scale is not representable");
      if (negScale < 0)
        neg.multiplier = -neg.multiplier;
      posM.push_back(pos.multiplier);
      posS.push_back(pos.shift);
      nM.push_back(neg.multiplier);
      nS.push_back(neg.shift);
    }

    IntegerAttr minAttr, maxAttr;
    if (foldedRange) {
      auto outRange = getStorageRange(prelu.getType().getElementType());
      if (foldedRange->first != outRange->first)
        minAttr = rewriter.getI64IntegerAttr(foldedRange->first);
      if (foldedRange->second != outRange->second)
        maxAttr = rewriter.getI64IntegerAttr(foldedRange->second);
    }
    auto fused = RequantOp::create(
        rewriter, rewriter.getFusedLoc({requant.getLoc(), prelu.getLoc()}),
        prelu.getType(), requant.getInput(),
        rewriter.getDenseI32ArrayAttr(posM), rewriter.getDenseI32ArrayAttr(posS),
        rewriter.getDenseI32ArrayAttr(nM), rewriter.getDenseI32ArrayAttr(nS),
        axis ? rewriter.getI64IntegerAttr(*axis) : IntegerAttr(),
        requant.getRoundingAttr(), minAttr, maxAttr);
    rewriter.replaceOp(prelu, fused.getResult());
    rewriter.eraseOp(requant);
    return success();
  }
};

struct LowBitFoldPReluRequantPass
    : public mlir::lowbit::impl::LowBitFoldPReluRequantBase<
          LowBitFoldPReluRequantPass> {
  using Base::Base;

  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<FoldPReluIntoRequant>(&getContext());
    // A ReLU / ReLU6 / Clip (lowbit.clamp) after a requant, or after the
    // folded requant, narrows its saturation range (exact).
    ClampOp::getCanonicalizationPatterns(patterns, &getContext());
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
