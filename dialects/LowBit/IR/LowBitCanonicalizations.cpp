//===- LowBitCanonicalizations.cpp - lowbit folders and patterns ----------===//
//
// Part of the lowbit project.
//
//===----------------------------------------------------------------------===//
//
// Every fold() and getCanonicalizationPatterns of the lowbit ops. Folders
// evaluate constants with the runtime's own integer rules so the compiler
// never has a second copy of them.
//
//===----------------------------------------------------------------------===//

#include "LowBit/IR/LowBitOps.h"
#include "LowBit/IR/LowBitPatterns.h"
#include "LowBitOpsImpl.h"

#include "lowbit/runtime/Requant.h"

#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/PatternMatch.h"
#include "llvm/ADT/STLExtras.h"

using namespace mlir;
using namespace mlir::lowbit;
using namespace mlir::lowbit::detail;
namespace rt = ::lowbit::rt;

//===----------------------------------------------------------------------===//
// Shared helpers
//===----------------------------------------------------------------------===//

/// Builds a dense attribute of the storage type of `resultType` from int64
/// values (already inside the storage range).
static DenseElementsAttr storedAttr(RankedTensorType resultType,
                                    ArrayRef<int64_t> values) {
  Type elt = resultType.getElementType();
  // Unsigned storage is held as `ui<N>` so that it prints as written.
  IntegerType storage;
  if (auto q = dyn_cast<quant::QuantizedType>(elt))
    storage = IntegerType::get(resultType.getContext(),
                               q.getStorageTypeIntegralWidth(),
                               q.isSigned() ? IntegerType::Signless
                                            : IntegerType::Unsigned);
  else
    storage = cast<IntegerType>(elt);
  unsigned width = storage.getWidth();
  SmallVector<APInt> ints;
  ints.reserve(values.size());
  for (int64_t v : values)
    ints.emplace_back(width, static_cast<uint64_t>(v), /*isSigned=*/true,
                      /*implicitTrunc=*/true);
  return DenseElementsAttr::get(
      RankedTensorType::get(resultType.getShape(), storage), ints);
}

/// Index of the element at flat position `flat` along `axis` of `shape`.
static int64_t indexAlong(ArrayRef<int64_t> shape, int64_t axis, int64_t flat) {
  int64_t inner = 1;
  for (int64_t d = axis + 1, e = shape.size(); d < e; ++d)
    inner *= shape[d];
  return (flat / inner) % shape[axis];
}

static rt::RoundingMode toRuntime(RoundingMode mode) {
  return mode == RoundingMode::double_round ? rt::RoundingMode::DoubleRound
                                            : rt::RoundingMode::SingleRound;
}

//===----------------------------------------------------------------------===//
// ConstantOp
//===----------------------------------------------------------------------===//

OpFoldResult ConstantOp::fold(FoldAdaptor) { return getValue(); }

//===----------------------------------------------------------------------===//
// QuantizeOp / DequantizeOp
//===----------------------------------------------------------------------===//

/// (scale, zero point) of the element at flat index `i`, for per-tensor and
/// per-axis types; false for other types.
namespace {
struct QuantParams {
  quant::QuantizedType type;
  ArrayRef<int64_t> shape;
  bool get(int64_t flat, double &scale, int64_t &zeroPoint) const {
    if (auto u = dyn_cast<quant::UniformQuantizedType>(type)) {
      scale = u.getScale();
      zeroPoint = u.getZeroPoint();
      return true;
    }
    if (auto a = dyn_cast<quant::UniformQuantizedPerAxisType>(type)) {
      int64_t c = indexAlong(shape, a.getQuantizedDimension(), flat);
      scale = a.getScales()[c];
      zeroPoint = a.getZeroPoints()[c];
      return true;
    }
    return false;
  }
};
} // namespace

OpFoldResult QuantizeOp::fold(FoldAdaptor adaptor) {
  // quantize(dequantize(x)) is x when the types agree.
  if (auto dq = getInput().getDefiningOp<DequantizeOp>())
    if (dq.getInput().getType() == getType())
      return dq.getInput();
  auto input = dyn_cast_if_present<DenseFPElementsAttr>(adaptor.getInput());
  RankedTensorType type = getType();
  if (!input || !type.hasStaticShape())
    return {};
  auto q = cast<quant::QuantizedType>(type.getElementType());
  QuantParams params{q, type.getShape()};
  SmallVector<int64_t> stored;
  stored.reserve(input.getNumElements());
  int64_t flat = 0;
  for (const APFloat &x : input.getValues<APFloat>()) {
    double scale;
    int64_t zp;
    if (!params.get(flat++, scale, zp))
      return {};
    auto lo = static_cast<int32_t>(q.getStorageTypeMin());
    auto hi = static_cast<int32_t>(q.getStorageTypeMax());
    // Divide in the expressed type's precision, as the evaluator does.
    if (q.getExpressedType().isF32())
      stored.push_back(rt::quantizeValue(x.convertToFloat(),
                                         static_cast<float>(scale),
                                         static_cast<int32_t>(zp), lo, hi));
    else
      stored.push_back(rt::quantizeValue(toDouble(x), scale,
                                         static_cast<int32_t>(zp), lo, hi));
  }
  return storedAttr(type, stored);
}

OpFoldResult DequantizeOp::fold(FoldAdaptor adaptor) {
  auto input = dyn_cast_if_present<DenseIntElementsAttr>(adaptor.getInput());
  RankedTensorType inType = getInput().getType();
  RankedTensorType type = getType();
  auto floatType = dyn_cast<FloatType>(type.getElementType());
  if (!input || !floatType || !inType.hasStaticShape())
    return {};
  auto q = cast<quant::QuantizedType>(inType.getElementType());
  QuantParams params{q, inType.getShape()};
  SmallVector<APFloat> values;
  values.reserve(input.getNumElements());
  int64_t flat = 0;
  for (int64_t stored : readStoredIntegers(input, isSignedStorage(q))) {
    double scale;
    int64_t zp;
    if (!params.get(flat++, scale, zp))
      return {};
    APFloat v(rt::dequantizeValue(static_cast<int32_t>(stored), scale,
                                  static_cast<int32_t>(zp)));
    bool lost;
    v.convert(floatType.getFloatSemantics(), APFloat::rmNearestTiesToEven,
              &lost);
    values.push_back(v);
  }
  return DenseElementsAttr::get(type, values);
}

//===----------------------------------------------------------------------===//
// BitcastOp
//===----------------------------------------------------------------------===//

OpFoldResult BitcastOp::fold(FoldAdaptor) {
  if (getInput().getType() == getType())
    return getInput();
  if (auto inner = getInput().getDefiningOp<BitcastOp>()) {
    if (inner.getInput().getType() == getType())
      return inner.getInput();
    getInputMutable().assign(inner.getInput());
    return getResult();
  }
  return {};
}

//===----------------------------------------------------------------------===//
// RequantOp
//===----------------------------------------------------------------------===//

OpFoldResult RequantOp::fold(FoldAdaptor adaptor) {
  auto input = dyn_cast_if_present<DenseIntElementsAttr>(adaptor.getInput());
  RankedTensorType type = getType();
  if (!input || !type.hasStaticShape())
    return {};
  Type inElt = getInput().getType().getElementType();
  int64_t inZp = 0;
  if (auto u = dyn_cast<quant::UniformQuantizedType>(inElt))
    inZp = u.getZeroPoint();
  auto outQ = cast<quant::UniformQuantizedType>(type.getElementType());
  ArrayRef<int32_t> mul = getMultiplier(), sh = getShift();
  std::optional<ArrayRef<int32_t>> negMul = getNegMultiplier();
  std::optional<ArrayRef<int32_t>> negSh = getNegShift();
  int32_t lo = static_cast<int32_t>(getSaturationMin());
  int32_t hi = static_cast<int32_t>(getSaturationMax());
  rt::RoundingMode mode = toRuntime(getRounding());
  int64_t axis = getAxis() ? static_cast<int64_t>(*getAxis()) : 0;
  SmallVector<int64_t> stored;
  stored.reserve(input.getNumElements());
  int64_t flat = 0;
  for (int64_t v : readStoredIntegers(input, isSignedStorage(inElt))) {
    int64_t c =
        mul.size() == 1 ? 0 : indexAlong(type.getShape(), axis, flat);
    ++flat;
    rt::ScaleMultiplier pos{mul[c], sh[c]};
    int64_t acc = v - inZp;
    if (negMul) {
      rt::ScaleMultiplier neg{(*negMul)[c], (*negSh)[c]};
      stored.push_back(rt::requantizeDual(
          acc, pos, neg, static_cast<int32_t>(outQ.getZeroPoint()), lo, hi,
          mode));
    } else {
      stored.push_back(rt::requantize(
          acc, pos, static_cast<int32_t>(outQ.getZeroPoint()), lo, hi, mode));
    }
  }
  return storedAttr(type, stored);
}

//===----------------------------------------------------------------------===//
// ClampOp
//===----------------------------------------------------------------------===//

/// clamp(clamp(x, a1, b1), a2, b2) as one range. When the ranges are
/// disjoint every value lands on the bound of the outer range closest to the
/// inner one.
static std::pair<int64_t, int64_t> composeRanges(int64_t a1, int64_t b1,
                                                 int64_t a2, int64_t b2) {
  int64_t lo = std::max(a1, a2), hi = std::min(b1, b2);
  if (lo <= hi)
    return {lo, hi};
  int64_t v = b1 < a2 ? a2 : b2;
  return {v, v};
}

OpFoldResult ClampOp::fold(FoldAdaptor) {
  // The generated getters of I64Attr are unsigned: compare signed values.
  int64_t lo = getMinAttr().getInt(), hi = getMaxAttr().getInt();
  auto range = getStorageRange(getType().getElementType());
  if (range && lo <= range->first && hi >= range->second)
    return getInput();
  if (auto inner = getInput().getDefiningOp<ClampOp>()) {
    auto [lo, hi] =
        composeRanges(inner.getMin(), inner.getMax(), getMin(), getMax());
    setMin(lo);
    setMax(hi);
    getInputMutable().assign(inner.getInput());
    return getResult();
  }
  return {};
}

namespace {
/// clamp(requant(x)) -> requant(x) with the clamp absorbed into the
/// requant's saturation range. Exact: saturating twice is saturating once to
/// the composed range.
struct AbsorbClampIntoRequant : public FoldIntoRequantPattern<ClampOp> {
  using FoldIntoRequantPattern::FoldIntoRequantPattern;
  LogicalResult foldIntoRequant(ClampOp clamp, RequantOp requant,
                                PatternRewriter &rewriter) const override {
    auto [lo, hi] =
        composeRanges(requant.getSaturationMin(), requant.getSaturationMax(),
                      clamp.getMin(), clamp.getMax());
    // Bounds equal to the storage range are left implicit (canonical form).
    auto storage = *getStorageRange(requant.getType().getElementType());
    rewriter.modifyOpInPlace(requant, [&] {
      if (lo == storage.first)
        requant.removeMinAttr();
      else
        requant.setMin(lo);
      if (hi == storage.second)
        requant.removeMaxAttr();
      else
        requant.setMax(hi);
    });
    rewriter.replaceOp(clamp, requant.getResult());
    return success();
  }
};
} // namespace

void ClampOp::getCanonicalizationPatterns(RewritePatternSet &patterns,
                                          MLIRContext *context) {
  patterns.add<AbsorbClampIntoRequant>(context);
}

//===----------------------------------------------------------------------===//
// Pools
//===----------------------------------------------------------------------===//

OpFoldResult MaxPoolOp::fold(FoldAdaptor) {
  // A 1x1 window with unit stride and no padding is the identity.
  if (getInput().getType() == getType() &&
      llvm::all_of(getKernel(), [](int64_t k) { return k == 1; }) &&
      llvm::all_of(getStride(), [](int64_t s) { return s == 1; }) &&
      llvm::all_of(getPad(), [](int64_t p) { return p == 0; }))
    return getInput();
  return {};
}

//===----------------------------------------------------------------------===//
// ReshapeOp / TransposeOp / ConcatOp
//===----------------------------------------------------------------------===//

OpFoldResult TransposeOp::fold(FoldAdaptor) {
  auto isIdentity = [](ArrayRef<int32_t> perms) {
    for (auto [d, p] : llvm::enumerate(perms))
      if (p != static_cast<int32_t>(d))
        return false;
    return true;
  };
  ArrayRef<int32_t> perms = getPerms();
  if (isIdentity(perms) && getInput().getType() == getType())
    return getInput();
  if (auto inner = getInput().getDefiningOp<TransposeOp>()) {
    // out[d] = mid[perms[d]] = in[innerPerms[perms[d]]].
    ArrayRef<int32_t> innerPerms = inner.getPerms();
    SmallVector<int32_t> composed;
    for (int32_t p : perms)
      composed.push_back(innerPerms[p]);
    if (isIdentity(composed) && inner.getInput().getType() == getType())
      return inner.getInput();
    setPerms(composed);
    getInputMutable().assign(inner.getInput());
    return getResult();
  }
  return {};
}

OpFoldResult ReshapeOp::fold(FoldAdaptor adaptor) {
  if (getInput().getType() == getType())
    return getInput();
  if (auto inner = getInput().getDefiningOp<ReshapeOp>()) {
    getInputMutable().assign(inner.getInput());
    return getResult();
  }
  // Reshaping a constant reshapes its stored values.
  if (auto dense = dyn_cast_if_present<DenseElementsAttr>(adaptor.getInput()))
    if (getType().hasStaticShape())
      return dense.reshape(RankedTensorType::get(getType().getShape(),
                                                 dense.getElementType()));
  return {};
}

OpFoldResult ConcatOp::fold(FoldAdaptor) {
  if (getInputs().size() == 1 && getInputs()[0].getType() == getType())
    return getInputs()[0];
  return {};
}

//===----------------------------------------------------------------------===//
// SliceOp
//===----------------------------------------------------------------------===//

OpFoldResult SliceOp::fold(FoldAdaptor) {
  if (getInput().getType() == getType())
    return getInput();
  return {};
}
