//===- FoldPReluRequant.cpp - PReLU into dual-multiplier requant ----------===//
//
// Part of the lowbit project.
//
//===----------------------------------------------------------------------===//

#include "LowBit/IR/LowBitOps.h"
#include "LowBit/Transforms/Passes.h"

#include "lowbit/runtime/Requant.h"

#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

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
struct FoldPReluIntoRequant : public OpRewritePattern<PReluOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(PReluOp prelu,
                                PatternRewriter &rewriter) const override {
    auto requant = prelu.getInput().getDefiningOp<RequantOp>();
    if (!requant)
      return rewriter.notifyMatchFailure(prelu, "input is not a requant");
    if (!requant->hasOneUse())
      return rewriter.notifyMatchFailure(prelu, "requant has other users");
    if (requant.isDual())
      return rewriter.notifyMatchFailure(prelu,
                                         "requant already has two multipliers");
    if (requant.getRounding() != prelu.getRounding())
      return rewriter.notifyMatchFailure(prelu, "rounding modes differ");
    auto range = getStorageRange(requant.getType().getElementType());
    if (requant.getSaturationMin() != range->first ||
        requant.getSaturationMax() != range->second)
      return rewriter.notifyMatchFailure(
          prelu, "requant saturation is narrowed (an absorbed ReLU/Clip)");

    ArrayRef<int32_t> reqMul = requant.getMultiplier();
    ArrayRef<int32_t> reqShift = requant.getShift();
    ArrayRef<int32_t> negMul = prelu.getNegMultiplier();
    ArrayRef<int32_t> negShift = prelu.getNegShift();
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
      rt::ScaleMultiplier pos, neg;
      if (rt::computeMultiplier(accScale * posScale, pos) != rt::ScaleStatus::Ok ||
          rt::computeMultiplier(accScale * scaleOf(negMul[n], negShift[n]),
                                neg) != rt::ScaleStatus::Ok)
        return rewriter.notifyMatchFailure(
            prelu, "combined scale is not representable");
      posM.push_back(pos.multiplier);
      posS.push_back(pos.shift);
      nM.push_back(neg.multiplier);
      nS.push_back(neg.shift);
    }

    auto fused = RequantOp::create(
        rewriter, rewriter.getFusedLoc({requant.getLoc(), prelu.getLoc()}),
        prelu.getType(), requant.getInput(),
        rewriter.getDenseI32ArrayAttr(posM), rewriter.getDenseI32ArrayAttr(posS),
        rewriter.getDenseI32ArrayAttr(nM), rewriter.getDenseI32ArrayAttr(nS),
        axis ? rewriter.getI64IntegerAttr(*axis) : IntegerAttr(),
        requant.getRoundingAttr(), IntegerAttr(), IntegerAttr());
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
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
