//===- SinkTransposes.cpp - Move transposes below elementwise ops ---------===//
//
// Part of the lowbit project.
//
//===----------------------------------------------------------------------===//

#include "lowbit/Transforms/Passes.h"

#include "mlir/Dialect/Tosa/IR/TosaOps.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace lowbit {
#define GEN_PASS_DEF_LOWBITSINKTRANSPOSES
#include "lowbit/Transforms/Passes.h.inc"
} // namespace lowbit

using namespace mlir;

namespace {

/// Elementwise TOSA ops a permutation commutes with. For tosa.mul the third
/// operand is the shift, which is not a tensor of the result's shape.
bool isElementwise(Operation *op) {
  return isa<tosa::AddOp, tosa::SubOp, tosa::MulOp, tosa::MaximumOp,
             tosa::MinimumOp, tosa::GreaterEqualOp, tosa::GreaterOp,
             tosa::EqualOp, tosa::SelectOp, tosa::ClampOp, tosa::SigmoidOp,
             tosa::TanhOp, tosa::ExpOp, tosa::ReciprocalOp, tosa::NegateOp,
             tosa::AbsOp, tosa::CastOp>(op);
}

unsigned numElementwiseOperands(Operation *op) {
  return isa<tosa::MulOp>(op) ? 2 : op->getNumOperands();
}

SmallVector<int64_t> permuteShape(ArrayRef<int64_t> shape,
                                  ArrayRef<int32_t> perms) {
  SmallVector<int64_t> out;
  for (int32_t p : perms)
    out.push_back(shape[p]);
  return out;
}

SmallVector<int32_t> inversePerms(ArrayRef<int32_t> perms) {
  SmallVector<int32_t> inv(perms.size());
  for (auto [i, p] : llvm::enumerate(perms))
    inv[p] = static_cast<int32_t>(i);
  return inv;
}

/// op(transpose_P(a), const, ...) -> transpose_P(op(a, transpose_P^-1(const)))
struct SinkTransposeThroughElementwise : public RewritePattern {
  SinkTransposeThroughElementwise(MLIRContext *ctx)
      : RewritePattern(MatchAnyOpTypeTag(), /*benefit=*/1, ctx) {}

  LogicalResult matchAndRewrite(Operation *op,
                                PatternRewriter &rewriter) const override {
    if (!isElementwise(op) || op->getNumResults() != 1)
      return failure();
    auto resultType = dyn_cast<RankedTensorType>(op->getResult(0).getType());
    if (!resultType)
      return failure();
    std::optional<SmallVector<int32_t>> perms;
    unsigned n = numElementwiseOperands(op);
    for (unsigned i = 0; i < n; ++i) {
      Value v = op->getOperand(i);
      if (auto t = v.getDefiningOp<tosa::TransposeOp>()) {
        SmallVector<int32_t> p(t.getPerms());
        if (perms && *perms != p)
          return rewriter.notifyMatchFailure(op, "transposes differ");
        perms = p;
        continue;
      }
      if (!v.getDefiningOp<tosa::ConstOp>())
        return rewriter.notifyMatchFailure(op, "operand is not movable");
    }
    if (!perms)
      return rewriter.notifyMatchFailure(op, "no transposed operand");
    if (static_cast<int64_t>(perms->size()) != resultType.getRank())
      return failure();
    SmallVector<int32_t> inv = inversePerms(*perms);

    SmallVector<Value> operands;
    for (unsigned i = 0; i < op->getNumOperands(); ++i) {
      Value v = op->getOperand(i);
      if (i >= n) {
        operands.push_back(v);
        continue;
      }
      if (auto t = v.getDefiningOp<tosa::TransposeOp>()) {
        operands.push_back(t.getInput1());
        continue;
      }
      // A constant: transpose it the other way (folded by canonicalize).
      auto ct = cast<RankedTensorType>(v.getType());
      auto type = RankedTensorType::get(permuteShape(ct.getShape(), inv),
                                        ct.getElementType());
      operands.push_back(tosa::TransposeOp::create(
          rewriter, op->getLoc(), type, v, rewriter.getDenseI32ArrayAttr(inv)));
    }
    auto innerType = RankedTensorType::get(
        permuteShape(resultType.getShape(), inv), resultType.getElementType());
    OperationState state(op->getLoc(), op->getName(), operands,
                         TypeRange{innerType}, op->getAttrs());
    Operation *inner = rewriter.create(state);
    rewriter.replaceOpWithNewOp<tosa::TransposeOp>(
        op, resultType, inner->getResult(0),
        rewriter.getDenseI32ArrayAttr(*perms));
    return success();
  }
};

/// concat(transpose_P(a), transpose_P(b), ...) along axis d ->
/// transpose_P(concat(a, b, ...) along P[d]): a DenseNet block's concat of
/// NCHW views of NHWC layers then stays NHWC, and so does the BatchNorm
/// after it.
struct SinkTransposeThroughConcat : public OpRewritePattern<tosa::ConcatOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(tosa::ConcatOp op,
                                PatternRewriter &rewriter) const override {
    std::optional<SmallVector<int32_t>> perms;
    SmallVector<Value> inputs;
    for (Value v : op.getInput1()) {
      auto t = v.getDefiningOp<tosa::TransposeOp>();
      if (!t)
        return rewriter.notifyMatchFailure(op, "operand is not a transpose");
      SmallVector<int32_t> p(t.getPerms());
      if (perms && *perms != p)
        return rewriter.notifyMatchFailure(op, "transposes differ");
      perms = p;
      inputs.push_back(t.getInput1());
    }
    auto resultType = cast<RankedTensorType>(op.getType());
    if (!perms ||
        static_cast<int64_t>(perms->size()) != resultType.getRank())
      return failure();
    int32_t axis = (*perms)[op.getAxis()];
    auto innerType = RankedTensorType::get(
        permuteShape(resultType.getShape(), inversePerms(*perms)),
        resultType.getElementType());
    Value inner = tosa::ConcatOp::create(rewriter, op.getLoc(), innerType,
                                         inputs, axis);
    if (auto range = op->getAttr("lowbit.range"))
      inner.getDefiningOp()->setAttr("lowbit.range", range);
    rewriter.replaceOpWithNewOp<tosa::TransposeOp>(
        op, resultType, inner, rewriter.getDenseI32ArrayAttr(*perms));
    return success();
  }
};

struct LowBitSinkTransposesPass
    : public lowbit::impl::LowBitSinkTransposesBase<LowBitSinkTransposesPass> {
  using Base::Base;
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<SinkTransposeThroughElementwise, SinkTransposeThroughConcat>(
        &getContext());
    // transpose(transpose(x)) folding comes from TOSA's canonicalizations.
    tosa::TransposeOp::getCanonicalizationPatterns(patterns, &getContext());
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
