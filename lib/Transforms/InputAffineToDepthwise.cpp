//===- InputAffineToDepthwise.cpp - Input normalization as a layer --------===//
//
// Part of the lowbit project.
//
//===----------------------------------------------------------------------===//

#include "lowbit/Transforms/Passes.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Matchers.h"

#include <cmath>
#include <optional>
#include <vector>

namespace lowbit {
#define GEN_PASS_DEF_LOWBITINPUTAFFINETODEPTHWISE
#include "lowbit/Transforms/Passes.h.inc"
} // namespace lowbit

using namespace mlir;

namespace {

/// A constant operand of the chain: its values and the axis they vary
/// along (-1 for a scalar broadcast).
struct ChannelConst {
  std::vector<double> values;
  int64_t axis = -1;
};

/// The values of `v` when it is a float constant, or the reciprocal of one
/// (the importer's float Div by a constant), broadcast along at most one
/// dimension of a rank-4 shape.
std::optional<ChannelConst> channelConst(Value v) {
  bool reciprocal = false;
  if (auto r = v.getDefiningOp<tosa::ReciprocalOp>()) {
    v = r.getInput1();
    reciprocal = true;
  }
  DenseFPElementsAttr attr;
  if (!matchPattern(v, m_Constant(&attr)))
    return std::nullopt;
  auto type = cast<RankedTensorType>(attr.getType());
  if (type.getRank() != 4 || !type.getElementType().isF32())
    return std::nullopt;
  ChannelConst c;
  for (int64_t d = 0; d < 4; ++d)
    if (type.getDimSize(d) != 1) {
      if (c.axis >= 0)
        return std::nullopt; // varies along two dimensions
      c.axis = d;
    }
  for (float x : attr.getValues<float>())
    c.values.push_back(reciprocal ? 1.0f / x : x); // as tosa.reciprocal
  return c;
}

struct InputAffineToDepthwisePass
    : public ::lowbit::impl::LowBitInputAffineToDepthwiseBase<
          InputAffineToDepthwisePass> {
  void runOnOperation() override {
    func::FuncOp func = getOperation();
    if (func.isExternal())
      return;
    for (BlockArgument arg : func.getArguments())
      for (Operation *user : llvm::make_early_inc_range(arg.getUsers()))
        rewriteChain(arg, user);
  }

  /// Rewrites the chain of constant add/sub/mul ops that starts at `first`
  /// (a user of `arg`), if there is one.
  void rewriteChain(BlockArgument arg, Operation *first) {
    auto type = dyn_cast<RankedTensorType>(arg.getType());
    if (!type || type.getRank() != 4 || !type.hasStaticShape() ||
        !type.getElementType().isF32())
      return;
    // y = x * k[c] + b[c] along `axis` (-1 until a per-channel constant).
    int64_t axis = -1;
    std::vector<double> k, b;
    auto grow = [&](int64_t n) {
      k.assign(n, 1.0);
      b.assign(n, 0.0);
    };
    auto at = [](const std::vector<double> &v, size_t i) {
      return v.size() == 1 ? v[0] : v[i];
    };
    SmallVector<Operation *> chain;
    Value v = arg;
    Operation *op = first;
    grow(1);
    while (op && op->getNumResults() == 1 &&
           op->getResult(0).getType() == type) {
      bool isMul = false, negate = false, sub = false;
      Value other;
      if (auto mul = dyn_cast<tosa::MulOp>(op)) {
        DenseElementsAttr shift;
        if (!matchPattern(mul.getShift(), m_Constant(&shift)) ||
            !llvm::all_of(shift.getValues<APInt>(),
                          [](const APInt &s) { return s.isZero(); }))
          break;
        isMul = true;
        other = mul.getInput1() == v ? mul.getInput2() : mul.getInput1();
      } else if (auto add = dyn_cast<tosa::AddOp>(op)) {
        other = add.getInput1() == v ? add.getInput2() : add.getInput1();
      } else if (auto s = dyn_cast<tosa::SubOp>(op)) {
        sub = true;
        negate = s.getInput2() == v; // c - v
        other = negate ? s.getInput1() : s.getInput2();
      } else {
        break;
      }
      if (other == v)
        break;
      auto c = channelConst(other);
      if (!c || (c->axis >= 0 && c->axis != 1 && c->axis != 3) ||
          (c->axis >= 0 && axis >= 0 && c->axis != axis))
        break;
      if (c->axis >= 0 && axis < 0) {
        axis = c->axis;
        std::vector<double> k0 = k, b0 = b;
        k.assign(type.getDimSize(axis), k0[0]);
        b.assign(type.getDimSize(axis), b0[0]);
      }
      size_t n = k.size();
      for (size_t i = 0; i < n; ++i) {
        double x = at(c->values, i);
        if (isMul) {
          k[i] *= x;
          b[i] *= x;
        } else if (sub && negate) {
          k[i] = -k[i];
          b[i] = x - b[i];
        } else {
          b[i] += sub ? -x : x;
        }
      }
      chain.push_back(op);
      v = op->getResult(0);
      if (!v.hasOneUse())
        break;
      op = *v.getUsers().begin();
    }
    // A division by zero (or a float32 overflow) makes the map non-finite:
    // leave the chain as it is, so the integer lowering names it.
    auto finite = [](double x) { return std::isfinite(static_cast<float>(x)); };
    if (chain.empty() || !llvm::all_of(k, finite) || !llvm::all_of(b, finite))
      return;

    // NHWC for the depthwise convolution.
    Operation *last = chain.back();
    OpBuilder builder(last);
    Location loc = last->getLoc();
    Type f32 = builder.getF32Type();
    auto perm = [&](Value x, ArrayRef<int32_t> p) -> Value {
      auto t = cast<RankedTensorType>(x.getType());
      SmallVector<int64_t> shape;
      for (int32_t d : p)
        shape.push_back(t.getDimSize(d));
      return tosa::TransposeOp::create(builder, loc,
                                       RankedTensorType::get(shape, f32), x,
                                       builder.getDenseI32ArrayAttr(p))
          .getResult();
    };
    bool nchw = axis == 1;
    Value in = nchw ? perm(arg, {0, 2, 3, 1}) : Value(arg);
    auto inType = cast<RankedTensorType>(in.getType());
    int64_t channels = inType.getDimSize(3);
    std::vector<float> weights(channels), bias(channels);
    for (int64_t i = 0; i < channels; ++i) {
      weights[i] = static_cast<float>(at(k, static_cast<size_t>(i)));
      bias[i] = static_cast<float>(at(b, static_cast<size_t>(i)));
    }
    auto constant = [&](ArrayRef<int64_t> shape, ArrayRef<float> values) {
      auto t = RankedTensorType::get(shape, f32);
      return tosa::ConstOp::create(builder, loc, t,
                                   DenseElementsAttr::get(t, values))
          .getResult();
    };
    Value w = constant({1, 1, channels, 1}, weights);
    Value bv = constant({channels}, bias);
    Value zp = constant({1}, {0.0f});
    auto dw = tosa::DepthwiseConv2DOp::create(
        builder, loc, inType, in, w, bv, zp, zp,
        builder.getDenseI64ArrayAttr({0, 0, 0, 0}),
        builder.getDenseI64ArrayAttr({1, 1}),
        builder.getDenseI64ArrayAttr({1, 1}), TypeAttr::get(f32));
    Value out = nchw ? perm(dw.getResult(), {0, 3, 1, 2}) : dw.getResult();
    last->getResult(0).replaceAllUsesWith(out);
    for (Operation *dead : llvm::reverse(chain))
      if (dead->use_empty())
        dead->erase();
  }
};

} // namespace
