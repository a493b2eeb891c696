//===- LowBitPatterns.h - Rewrite pattern bases for lowbit ops --*- C++ -*-===//
//
// Part of the lowbit project.
//
//===----------------------------------------------------------------------===//

#ifndef LOWBIT_DIALECT_LOWBIT_IR_LOWBITPATTERNS_H
#define LOWBIT_DIALECT_LOWBIT_IR_LOWBITPATTERNS_H

#include "LowBit/IR/LowBitOps.h"

#include "mlir/IR/PatternMatch.h"

namespace mlir {
namespace lowbit {

/// A pattern that folds an op into the requant that defines its input
/// (clamp and PReLU into the requant before them). It matches only when
/// that requant has no other user, says why not otherwise, and leaves the
/// fold to foldIntoRequant.
template <typename OpTy>
struct FoldIntoRequantPattern : public OpRewritePattern<OpTy> {
  using OpRewritePattern<OpTy>::OpRewritePattern;

  virtual LogicalResult foldIntoRequant(OpTy op, RequantOp requant,
                                        PatternRewriter &rewriter) const = 0;

  LogicalResult matchAndRewrite(OpTy op,
                                PatternRewriter &rewriter) const final {
    auto requant = op.getInput().template getDefiningOp<RequantOp>();
    if (!requant)
      return rewriter.notifyMatchFailure(op, "input is not a requant");
    if (!requant->hasOneUse())
      return rewriter.notifyMatchFailure(op, "requant has other users");
    return foldIntoRequant(op, requant, rewriter);
  }
};

} // namespace lowbit
} // namespace mlir

#endif // LOWBIT_DIALECT_LOWBIT_IR_LOWBITPATTERNS_H
