//===- AffineAsDepthwise.cpp - convert-tosa-to-lowbit: x * a[c] + b[c] ----===//
//
// Part of the lowbit project.
//
//===----------------------------------------------------------------------===//
//
// A per-channel affine map on an activation that follows no convolution
// (a BatchNorm after a concat or a ReLU, a hard sigmoid's x / 6 + 0.5, an
// input normalization) has no integer op of its own: it is rebuilt as a
// float 1x1 depthwise convolution with exactly quantized weights, which
// Linear.cpp then lowers like any other.
//
//===----------------------------------------------------------------------===//

#include "TosaToLowBit.h"

#include "mlir/Dialect/Tosa/Utils/ConversionUtils.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"
#include "mlir/IR/Matchers.h"

#include <cmath>

namespace mlir {
namespace lowbit {
namespace tosa_to_lowbit {

/// A per-channel affine map x * a[c] (+ b[c] from the epilogue) on an
/// activation whose channels are its last dimension, e.g. a BatchNorm that
/// follows no convolution, or a hard sigmoid's x / 6 + 0.5 after a Gemm, is
/// a 1x1 depthwise convolution with weights a[c] (1 without a multiply).
/// Builds that convolution in float with a[c] quantized exactly as
/// +-127 * |a[c]| / 127 (so the integer lowering treats it like any other),
/// on x reshaped to [1, 1, elements / C, C] when it is not 4-D, or returns
/// null.
Operation *TosaToLowBitLowering::affineAsDepthwise(OpBuilder &b, Operation *at,
                                                   Value x, Value a) {
  auto type = dyn_cast<RankedTensorType>(x.getType());
  if (!type || !type.hasStaticShape() || type.getRank() == 0 ||
      (a && floatValues(x)))
    return nullptr;
  int64_t channels = type.getShape().back();
  std::vector<double> scale =
      a ? perChannel(a, channels) : std::vector<double>(channels, 1.0);
  if (scale.empty())
    return nullptr;
  Location loc = at->getLoc();
  OpBuilder::InsertionGuard g(b);
  b.setInsertionPoint(at);
  Type f32 = b.getF32Type();
  if (type.getRank() != 4) {
    SmallVector<int64_t> shape4 = {1, 1, type.getNumElements() / channels,
                                   channels};
    ImplicitLocOpBuilder ib(loc, b);
    x = tosa::ReshapeOp::create(b, loc, RankedTensorType::get(shape4, f32), x,
                                tosa::getTosaConstShape(ib, shape4));
    type = cast<RankedTensorType>(x.getType());
  }
  SmallVector<double> scales;
  SmallVector<APInt> stored;
  for (double v : scale) {
    scales.push_back(v != 0 ? std::fabs(v) / 127.0 : 1.0);
    stored.emplace_back(8,
                        static_cast<uint64_t>(v > 0 ? 127 : (v < 0 ? -127 : 0)),
                        /*isSigned=*/true);
  }
  auto wElt = quant::UniformQuantizedPerAxisType::get(
      quant::QuantizationFlags::Signed, IntegerType::get(ctx, 8), f32, scales,
      SmallVector<int64_t>(channels, 0), 2, -127, 127);
  SmallVector<int64_t> wShape = {1, 1, channels, 1};
  Value wq = ConstantOp::create(
      b, loc, RankedTensorType::get(wShape, wElt),
      DenseElementsAttr::get(
          RankedTensorType::get(wShape, IntegerType::get(ctx, 8)), stored));
  Value w =
      DequantizeOp::create(b, loc, RankedTensorType::get(wShape, f32), wq);
  auto biasType = RankedTensorType::get({channels}, f32);
  Value bias = tosa::ConstOp::create(
      b, loc, biasType,
      DenseElementsAttr::get(
          biasType, ArrayRef<float>(std::vector<float>(channels, 0.0f))));
  OperationState state(loc, "tosa.depthwise_conv2d");
  state.addOperands({x, w, bias});
  state.addTypes(type);
  state.addAttribute("stride", b.getDenseI64ArrayAttr({1, 1}));
  state.addAttribute("pad", b.getDenseI64ArrayAttr({0, 0, 0, 0}));
  state.addAttribute("dilation", b.getDenseI64ArrayAttr({1, 1}));
  return b.create(state);
}

/// The axis of `x`'s shape along which the broadcast constant `c` varies,
/// if it varies along exactly one axis of `x` and that is not the last.
static std::optional<int64_t> innerConstantAxis(Value c, RankedTensorType x) {
  auto ct = dyn_cast<RankedTensorType>(c.getType());
  if (!ct || !ct.hasStaticShape() || !x.hasStaticShape() ||
      ct.getRank() > x.getRank() || !floatValues(c))
    return std::nullopt;
  int64_t offset = x.getRank() - ct.getRank();
  std::optional<int64_t> axis;
  for (int64_t i = 0; i < ct.getRank(); ++i) {
    int64_t d = ct.getDimSize(i);
    if (d == 1)
      continue;
    if (axis || d != x.getDimSize(offset + i))
      return std::nullopt;
    axis = offset + i;
  }
  if (!axis || *axis == x.getRank() - 1)
    return std::nullopt;
  return axis;
}

void moveConstantAxisLast(Operation *root,
                          llvm::function_ref<bool(Operation *)> skip) {
  SmallVector<Operation *> ops;
  llvm::DenseSet<Value> rewritten;
  root->walk([&](Operation *op) {
    if (isa<tosa::MulOp, tosa::AddOp>(op) && !skip(op))
      ops.push_back(op);
  });
  for (Operation *op : ops) {
    auto type = dyn_cast<RankedTensorType>(op->getResult(0).getType());
    if (!type || !type.getElementType().isF32())
      continue;
    Value x = op->getOperand(0), c = op->getOperand(1);
    if (floatValues(x))
      std::swap(x, c);
    if (floatValues(x) || x.getType() != type)
      continue;
    if (auto mul = dyn_cast<tosa::MulOp>(op)) {
      DenseElementsAttr shift;
      if (!matchPattern(mul.getShift(), m_Constant(&shift)) ||
          !llvm::all_of(shift.getValues<APInt>(),
                        [](const APInt &v) { return v.isZero(); }))
        continue;
    }
    std::optional<int64_t> axis = innerConstantAxis(c, type);
    if (!axis)
      continue;
    int64_t rank = type.getRank(), channels = type.getDimSize(*axis);
    SmallVector<int32_t> perm, inverse(rank);
    for (int64_t i = 0; i < rank; ++i)
      if (i != *axis)
        perm.push_back(i);
    perm.push_back(*axis);
    SmallVector<int64_t> movedShape;
    for (int64_t i = 0; i < rank; ++i) {
      inverse[perm[i]] = i;
      movedShape.push_back(type.getDimSize(perm[i]));
    }
    OpBuilder b(op);
    Location loc = op->getLoc();
    Type f32 = b.getF32Type();
    // Only on a quantized activation (not inside a layer's epilogue, whose
    // constants must stay per output channel), or on the transpose back of
    // an earlier rewrite (a LayerNorm's weight, then its bias), whose input
    // is then reused.
    Value moved;
    auto t = x.getDefiningOp<tosa::TransposeOp>();
    if (t && rewritten.contains(t.getInput1()) &&
        llvm::equal(t.getPerms(), inverse))
      moved = t.getInput1();
    else if (x.getDefiningOp<DequantizeOp>())
      moved = tosa::TransposeOp::create(b, loc,
                                        RankedTensorType::get(movedShape, f32),
                                        x, b.getDenseI32ArrayAttr(perm));
    else
      continue;
    SmallVector<int64_t> cShape(rank, 1);
    cShape.back() = channels;
    auto cType = RankedTensorType::get(cShape, f32);
    std::vector<double> read = *floatValues(c);
    std::vector<float> values(read.begin(), read.end());
    Value cMoved = tosa::ConstOp::create(
        b, loc, cType, DenseElementsAttr::get(cType, ArrayRef<float>(values)));
    auto movedType = RankedTensorType::get(movedShape, f32);
    Value r =
        isa<tosa::MulOp>(op)
            ? tosa::MulOp::create(b, loc, movedType, moved, cMoved,
                                  cast<tosa::MulOp>(op).getShift())
                  .getResult()
            : tosa::AddOp::create(b, loc, movedType, moved, cMoved).getResult();
    Value back = tosa::TransposeOp::create(b, loc, type, r,
                                           b.getDenseI32ArrayAttr(inverse));
    rewritten.insert(r);
    op->getResult(0).replaceAllUsesWith(back);
    op->erase();
  }
}

/// The anchor of a segment that is a per-channel affine map on an
/// activation: `x * a (+ b)` becomes affineAsDepthwise's convolution, and
/// so does `x + b` alone (with unit weights) when no convolution or matrix
/// product precedes it. Otherwise `anchor` unchanged.
Operation *TosaToLowBitLowering::affineAnchor(OpBuilder &b, QuantizeOp q,
                                              Value start, Operation *anchor,
                                              const Epilogue &epi) {
  if (auto mul = dyn_cast_or_null<tosa::MulOp>(anchor)) {
    // x * a (+ b): a per-channel affine map on an activation.
    Value x = mul.getInput1(), a = mul.getInput2();
    if (!floatValues(a))
      std::swap(x, a);
    DenseElementsAttr shift;
    if (floatValues(a) && matchPattern(mul.getShift(), m_Constant(&shift)) &&
        llvm::all_of(shift.getValues<APInt>(),
                     [](const APInt &v) { return v.isZero(); }))
      if (Operation *dw = affineAsDepthwise(b, mul, x, a))
        return dw;
  } else if (!epi.biasAdds.empty() && !isLinearAnchor(anchor)) {
    // x + b alone: the same with unit weights.
    if (Operation *dw = affineAsDepthwise(b, q, start, Value()))
      return dw;
  }
  return anchor;
}

} // namespace tosa_to_lowbit
} // namespace lowbit
} // namespace mlir
