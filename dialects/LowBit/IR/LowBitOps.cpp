//===- LowBitOps.cpp - lowbit operation verifiers and folders -------------===//
//
// Part of the lowbit project.
//
//===----------------------------------------------------------------------===//
//
// Verifiers reject every inconsistency a producer could write (bit-widths,
// scales, shapes, axes, multiplier and shift ranges, tile masks); folders
// evaluate constants with the runtime's own integer rules so the compiler
// never has a second copy of them.
//
//===----------------------------------------------------------------------===//

#include "LowBit/IR/LowBitOps.h"
#include "LowBit/Utils/ConstantReader.h"

#include "lowbit/runtime/LogQuant.h"
#include "lowbit/runtime/Requant.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/IR/PatternMatch.h"
#include "llvm/ADT/STLExtras.h"

using namespace mlir;
using namespace mlir::lowbit;
namespace rt = ::lowbit::rt;

#define GET_OP_CLASSES
#include "LowBit/IR/LowBitOps.cpp.inc"

//===----------------------------------------------------------------------===//
// Shared helpers
//===----------------------------------------------------------------------===//

/// Widest storage lowbit accepts for quantized activations and weights.
static constexpr unsigned kMinStorageBits = 2;
static constexpr unsigned kMaxStorageBits = 16;

std::optional<std::pair<int64_t, int64_t>>
mlir::lowbit::getStorageRange(Type elementType) {
  if (auto q = dyn_cast<quant::QuantizedType>(elementType))
    return std::make_pair(q.getStorageTypeMin(), q.getStorageTypeMax());
  if (auto i = dyn_cast<IntegerType>(elementType)) {
    unsigned w = i.getWidth();
    if (w == 0 || w > 64)
      return std::nullopt;
    if (i.isUnsigned())
      return std::make_pair<int64_t, int64_t>(
          0, w == 64 ? INT64_MAX : static_cast<int64_t>(rt::storageMax(w, false)));
    if (w == 64)
      return std::make_pair<int64_t, int64_t>(INT64_MIN, INT64_MAX);
    return std::make_pair(rt::storageMin(w, true), rt::storageMax(w, true));
  }
  return std::nullopt;
}

static bool dimsAgree(int64_t a, int64_t b) {
  return ShapedType::isDynamic(a) || ShapedType::isDynamic(b) || a == b;
}

/// Checks that a quantized element type is usable on a tensor of `shape`:
/// storage width, per-axis dimension and size, sub-channel blocks.
static LogicalResult verifyQuantizedTensor(Operation *op, StringRef what,
                                           RankedTensorType type) {
  auto q = dyn_cast<quant::QuantizedType>(type.getElementType());
  if (!q)
    return op->emitOpError() << what << " must have a quantized element type, got "
                             << type;
  if (!isa<quant::UniformQuantizedType, quant::UniformQuantizedPerAxisType,
           quant::UniformQuantizedSubChannelType>(q))
    return op->emitOpError() << what << " must use a !quant.uniform type, got "
                             << q;
  unsigned width = q.getStorageTypeIntegralWidth();
  if (width < kMinStorageBits || width > kMaxStorageBits)
    return op->emitOpError()
           << what << " storage must be " << kMinStorageBits << " to "
           << kMaxStorageBits << " bits wide, got " << width;
  ArrayRef<int64_t> shape = type.getShape();
  if (auto axis = dyn_cast<quant::UniformQuantizedPerAxisType>(q)) {
    int64_t dim = axis.getQuantizedDimension();
    if (dim < 0 || dim >= type.getRank())
      return op->emitOpError() << what << " is quantized along dimension "
                               << dim << " but has rank " << type.getRank();
    int64_t n = static_cast<int64_t>(axis.getScales().size());
    if (!dimsAgree(shape[dim], n))
      return op->emitOpError()
             << what << " has " << n << " scales for dimension " << dim
             << " of size " << shape[dim];
  }
  if (auto sub = dyn_cast<quant::UniformQuantizedSubChannelType>(q)) {
    ArrayRef<int64_t> scaleShape = sub.getScales().getType().getShape();
    if (static_cast<int64_t>(scaleShape.size()) != type.getRank())
      return op->emitOpError() << what << " has a rank-" << scaleShape.size()
                               << " scale tensor for a rank-" << type.getRank()
                               << " tensor";
    for (auto [dim, block] : sub.getBlockSizeInfo()) {
      if (dim < 0 || dim >= type.getRank())
        return op->emitOpError() << what << " has a block on dimension " << dim
                                 << " but rank " << type.getRank();
      if (ShapedType::isDynamic(shape[dim]))
        continue;
      if (block <= 0 || shape[dim] % block != 0)
        return op->emitOpError()
               << what << " block size " << block << " does not divide dimension "
               << dim << " of size " << shape[dim];
      if (scaleShape[dim] != shape[dim] / block)
        return op->emitOpError()
               << what << " needs " << shape[dim] / block
               << " scales along dimension " << dim << ", got "
               << scaleShape[dim];
    }
  }
  return success();
}

/// A per-tensor !quant.uniform element type, as activations must have.
static FailureOr<quant::UniformQuantizedType>
getActivationType(Operation *op, StringRef what, Type type) {
  auto tensor = cast<RankedTensorType>(type);
  if (failed(verifyQuantizedTensor(op, what, tensor)))
    return failure();
  auto uniform = dyn_cast<quant::UniformQuantizedType>(tensor.getElementType());
  if (!uniform) {
    op->emitOpError() << what
                      << " must be quantized per tensor (one scale and zero "
                         "point), got "
                      << tensor.getElementType();
    return failure();
  }
  return uniform;
}

static LogicalResult verifyMultiplier(Operation *op, StringRef what,
                                      int64_t multiplier, int64_t shift) {
  // The negative side of a dual requant may scale by a negative factor (a
  // negative PReLU slope).
  if (what == "negative") {
    if (multiplier <= -rt::kMultiplierLimit ||
        multiplier >= rt::kMultiplierLimit)
      return op->emitOpError() << what << " multiplier " << multiplier
                               << " is outside (-2^31, 2^31)";
  } else if (multiplier < 0 || multiplier >= rt::kMultiplierLimit)
    return op->emitOpError() << what << " multiplier " << multiplier
                             << " is outside [0, 2^31)";
  if (shift < rt::kMinShift || shift > rt::kMaxShift)
    return op->emitOpError() << what << " shift " << shift << " is outside ["
                             << rt::kMinShift << ", " << rt::kMaxShift << "]";
  return success();
}

/// Verifies a (multiplier[], shift[]) pair of arrays applied along `axis` of
/// a tensor of `shape` (one pair, or one per index of `axis`).
static LogicalResult verifyMultiplierArrays(Operation *op, StringRef what,
                                            ArrayRef<int32_t> multipliers,
                                            ArrayRef<int32_t> shifts,
                                            std::optional<int64_t> axis,
                                            ArrayRef<int64_t> shape) {
  if (multipliers.empty())
    return op->emitOpError() << "needs at least one " << what << " multiplier";
  if (multipliers.size() != shifts.size())
    return op->emitOpError() << "has " << multipliers.size() << " " << what
                             << " multipliers but " << shifts.size()
                             << " shifts";
  for (auto [m, s] : llvm::zip(multipliers, shifts))
    if (failed(verifyMultiplier(op, what, m, s)))
      return failure();
  int64_t n = static_cast<int64_t>(multipliers.size());
  if (!axis) {
    if (n != 1)
      return op->emitOpError() << "has " << n << " " << what
                               << " multipliers but no 'axis' to apply them on";
    return success();
  }
  int64_t rank = static_cast<int64_t>(shape.size());
  if (*axis < 0 || *axis >= rank)
    return op->emitOpError() << "axis " << *axis << " is out of range for rank "
                             << rank;
  if (!dimsAgree(shape[*axis], n))
    return op->emitOpError() << "has " << n << " " << what
                             << " multipliers for axis " << *axis << " of size "
                             << shape[*axis];
  return success();
}

/// Verifies an optional [min, max] saturation range against the storage
/// range of `elementType`.
static LogicalResult verifySaturation(Operation *op, Type elementType,
                                      std::optional<int64_t> min,
                                      std::optional<int64_t> max) {
  auto range = getStorageRange(elementType);
  if (!range)
    return op->emitOpError() << "cannot saturate to " << elementType;
  int64_t lo = min.value_or(range->first), hi = max.value_or(range->second);
  if (lo < range->first || hi > range->second)
    return op->emitOpError() << "saturation range [" << lo << ", " << hi
                             << "] exceeds the storage range ["
                             << range->first << ", " << range->second << "] of "
                             << elementType;
  if (lo > hi)
    return op->emitOpError() << "saturation range [" << lo << ", " << hi
                             << "] is empty";
  return success();
}

static LogicalResult verifyWindow(Operation *op, StringRef name,
                                  ArrayRef<int64_t> values, size_t size,
                                  int64_t minValue) {
  if (values.size() != size)
    return op->emitOpError() << "'" << name << "' must have " << size
                             << " values, got " << values.size();
  for (int64_t v : values)
    if (v < minValue)
      return op->emitOpError() << "'" << name << "' values must be >= "
                               << minValue << ", got " << shapeListStr(values);
  return success();
}

/// Output extent of a sliding window; emits an error when the padded input is
/// smaller than the (dilated) window.
static FailureOr<int64_t> windowOutput(Operation *op, StringRef dimName,
                                       int64_t in, int64_t kernel,
                                       int64_t stride, int64_t padBefore,
                                       int64_t padAfter, int64_t dilation) {
  if (ShapedType::isDynamic(in))
    return ShapedType::kDynamic;
  int64_t effective = dilation * (kernel - 1) + 1;
  int64_t padded = in + padBefore + padAfter;
  if (padded < effective) {
    op->emitOpError() << "window of " << effective << " along " << dimName
                      << " does not fit the padded input of " << padded;
    return failure();
  }
  return (padded - effective) / stride + 1;
}

/// Checks NHWC pooling/conv output shape [N, OH, OW, C].
static LogicalResult verifyNHWCResult(Operation *op, RankedTensorType in,
                                      RankedTensorType out,
                                      ArrayRef<int64_t> kernel,
                                      ArrayRef<int64_t> stride,
                                      ArrayRef<int64_t> pad,
                                      ArrayRef<int64_t> dilation,
                                      int64_t channels) {
  auto oh = windowOutput(op, "height", in.getDimSize(1), kernel[0], stride[0],
                         pad[0], pad[1], dilation[0]);
  if (failed(oh))
    return failure();
  auto ow = windowOutput(op, "width", in.getDimSize(2), kernel[1], stride[1],
                         pad[2], pad[3], dilation[1]);
  if (failed(ow))
    return failure();
  SmallVector<int64_t> expected = {in.getDimSize(0), *oh, *ow, channels};
  for (auto [e, g] : llvm::zip(expected, out.getShape()))
    if (!dimsAgree(e, g))
      return op->emitOpError() << "result shape " << shapeListStr(out.getShape())
                               << " does not match the expected "
                               << shapeListStr(expected);
  return success();
}

/// Accumulators are plain signless integers of 32 or 64 bits.
static LogicalResult verifyAccumulator(Operation *op, RankedTensorType type) {
  auto acc = dyn_cast<IntegerType>(type.getElementType());
  if (!acc || !acc.isSignless() ||
      (acc.getWidth() != 32 && acc.getWidth() != 64))
    return op->emitOpError()
           << "accumulator type must be i32 or i64, got "
           << type.getElementType();
  return success();
}

static LogicalResult verifyBias(Operation *op, Value bias,
                                RankedTensorType result, int64_t outChannels) {
  if (!bias)
    return success();
  auto type = cast<RankedTensorType>(bias.getType());
  if (type.getRank() != 1)
    return op->emitOpError() << "bias must have rank 1, got " << type;
  if (type.getElementType() != result.getElementType())
    return op->emitOpError() << "bias element type " << type.getElementType()
                             << " must be the accumulator type "
                             << result.getElementType();
  if (!dimsAgree(type.getDimSize(0), outChannels))
    return op->emitOpError() << "bias has " << type.getDimSize(0)
                             << " elements for " << outChannels
                             << " output channels";
  return success();
}

static int64_t ceilDiv(int64_t a, int64_t b) { return (a + b - 1) / b; }

/// Verifies the weight operand of conv2d / fully_connected and returns its
/// logical shape ([O, KH, KW, I] or [O, I]): uniform symmetric quantized
/// weights, or log / STLQ codes described by `encoding`.
static FailureOr<SmallVector<int64_t>>
verifyWeights(Operation *op, RankedTensorType weight, Attribute encoding,
              int64_t logicalRank, Type expressedType) {
  auto fail = [&]() -> FailureOr<SmallVector<int64_t>> { return failure(); };
  ArrayRef<int64_t> shape = weight.getShape();
  if (!encoding) {
    if (weight.getRank() != logicalRank) {
      op->emitOpError() << "weight must have rank " << logicalRank << ", got "
                        << weight;
      return fail();
    }
    if (failed(verifyQuantizedTensor(op, "weight", weight)))
      return fail();
    Type elt = weight.getElementType();
    if (auto u = dyn_cast<quant::UniformQuantizedType>(elt)) {
      if (u.getZeroPoint() != 0) {
        op->emitOpError() << "weights must be symmetric (zero point 0), got "
                          << u.getZeroPoint();
        return fail();
      }
    } else if (auto a = dyn_cast<quant::UniformQuantizedPerAxisType>(elt)) {
      if (a.getQuantizedDimension() != 0) {
        op->emitOpError()
            << "per-axis weights must be quantized along the output channel "
               "(dimension 0), got dimension "
            << a.getQuantizedDimension();
        return fail();
      }
      if (llvm::any_of(a.getZeroPoints(), [](int64_t z) { return z != 0; })) {
        op->emitOpError() << "weights must be symmetric (zero points 0)";
        return fail();
      }
    } else {
      op->emitOpError() << "weights must be quantized per tensor or per "
                           "output channel, got "
                        << elt;
      return fail();
    }
    auto q = cast<quant::QuantizedType>(elt);
    if (q.getExpressedType() != expressedType) {
      op->emitOpError() << "weight expressed type " << q.getExpressedType()
                        << " differs from the input's " << expressedType;
      return fail();
    }
    return SmallVector<int64_t>(shape);
  }

  unsigned bits = 0;
  auto stlq = dyn_cast<STLQAttr>(encoding);
  if (auto log = dyn_cast<LogAttr>(encoding))
    bits = log.getBits();
  else
    bits = stlq.getBits();
  if (bits > ::lowbit::rt::kMaxShiftCodeBits) {
    op->emitOpError() << "log codes of " << bits
                      << " bits have no integer form (at most "
                      << ::lowbit::rt::kMaxShiftCodeBits
                      << " bits: a weight is at most a shift by 2^(bits-1) - "
                         "1)";
    return fail();
  }
  auto codes = dyn_cast<IntegerType>(weight.getElementType());
  if (!codes || !codes.isSignless() || codes.getWidth() != bits) {
    op->emitOpError() << "log-encoded weights must be i" << bits
                      << " codes, got " << weight.getElementType();
    return fail();
  }
  if (!stlq) {
    if (weight.getRank() != logicalRank) {
      op->emitOpError() << "weight must have rank " << logicalRank << ", got "
                        << weight;
      return fail();
    }
    auto log = cast<LogAttr>(encoding);
    if (log.isPerChannel() && !ShapedType::isDynamic(shape[0]) &&
        log.getNumScales() != shape[0]) {
      op->emitOpError() << "log encoding has " << log.getNumScales()
                        << " channel scales for " << shape[0]
                        << " output channels";
      return fail();
    }
    return SmallVector<int64_t>(shape);
  }
  if (weight.getRank() != logicalRank + 1 || shape[0] != 2) {
    op->emitOpError() << "STLQ weights need a leading dimension of 2 (two "
                         "words) and rank "
                      << logicalRank + 1 << ", got " << weight;
    return fail();
  }
  SmallVector<int64_t> logical(shape.drop_front());
  if (stlq.isPerChannel() && !ShapedType::isDynamic(logical[0]) &&
      stlq.getNumScales() != logical[0]) {
    op->emitOpError() << "STLQ encoding has " << stlq.getNumScales()
                      << " channel scales for " << logical[0]
                      << " output channels";
    return fail();
  }
  if (llvm::any_of(logical, ShapedType::isDynamic)) {
    op->emitOpError() << "STLQ weights must have a static shape, got "
                      << weight;
    return fail();
  }
  SmallVector<int64_t> maskShape(logical);
  maskShape.front() = ceilDiv(logical.front(), stlq.getOutputTile());
  maskShape.back() = ceilDiv(logical.back(), stlq.getInputTile());
  ArrayRef<int64_t> got = stlq.getMask().getType().getShape();
  if (ArrayRef<int64_t>(maskShape) != got) {
    op->emitOpError() << "STLQ mask shape " << shapeListStr(got)
                      << " does not match the tiling of weights "
                      << shapeListStr(logical) << " by tile [Tn = "
                      << stlq.getInputTile() << ", Tm = "
                      << stlq.getOutputTile() << "], expected "
                      << shapeListStr(maskShape);
    return fail();
  }
  return logical;
}

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

LogicalResult ConstantOp::verify() {
  auto valueType = cast<ShapedType>(getValue().getType());
  RankedTensorType resultType = getType();
  if (valueType.getShape() != resultType.getShape())
    return emitOpError() << "value shape " << shapeListStr(valueType.getShape())
                         << " differs from the result shape "
                         << shapeListStr(resultType.getShape());
  auto q = dyn_cast<quant::QuantizedType>(resultType.getElementType());
  if (!q) {
    if (valueType.getElementType() != resultType.getElementType())
      return emitOpError() << "value element type " << valueType.getElementType()
                           << " differs from the result's "
                           << resultType.getElementType();
    return success();
  }
  if (failed(verifyQuantizedTensor(*this, "result", resultType)))
    return failure();
  auto storage = dyn_cast<IntegerType>(valueType.getElementType());
  if (!storage || storage.getWidth() != q.getStorageTypeIntegralWidth() ||
      (storage.isSigned() && !q.isSigned()) ||
      (storage.isUnsigned() && q.isSigned()))
    return emitOpError() << "value must hold " << (q.isSigned() ? "i" : "ui")
                         << q.getStorageTypeIntegralWidth()
                         << " stored integers for " << q << ", got "
                         << valueType.getElementType();
  // Narrow storage ranges (e.g. i8<-127:127>) are checked value by value.
  if (auto ints = dyn_cast<DenseIntElementsAttr>(getValue())) {
    const int64_t lo = q.getStorageTypeMin(), hi = q.getStorageTypeMax();
    std::optional<int64_t> outside;
    forEachStoredInteger(ints, q.isSigned(), [&](int64_t v) {
      if (v >= lo && v <= hi)
        return true;
      outside = v;
      return false;
    });
    if (outside)
      return emitOpError() << "stored value " << *outside
                           << " is outside the storage range [" << lo << ", "
                           << hi << "]";
  }
  return success();
}

OpFoldResult ConstantOp::fold(FoldAdaptor) { return getValue(); }

//===----------------------------------------------------------------------===//
// QuantizeOp / DequantizeOp
//===----------------------------------------------------------------------===//

/// Shared checks: `real` holds the expressed type, `quantized` the quantized
/// type, same shape.
static LogicalResult verifyQuantPair(Operation *op, RankedTensorType real,
                                     RankedTensorType quantized,
                                     StringRef quantizedName) {
  if (failed(verifyQuantizedTensor(op, quantizedName, quantized)))
    return failure();
  auto q = cast<quant::QuantizedType>(quantized.getElementType());
  if (real.getElementType() != q.getExpressedType())
    return op->emitOpError() << "real element type " << real.getElementType()
                             << " must be the expressed type "
                             << q.getExpressedType() << " of " << q;
  if (real.getRank() != quantized.getRank() ||
      !llvm::all_of(llvm::zip(real.getShape(), quantized.getShape()),
                    [](auto p) {
                      return dimsAgree(std::get<0>(p), std::get<1>(p));
                    }))
    return op->emitOpError() << "shapes " << shapeListStr(real.getShape())
                             << " and " << shapeListStr(quantized.getShape())
                             << " differ";
  return success();
}

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

LogicalResult QuantizeOp::verify() {
  return verifyQuantPair(*this, getInput().getType(), getType(), "result");
}

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

LogicalResult DequantizeOp::verify() {
  return verifyQuantPair(*this, getType(), getInput().getType(), "input");
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

/// Storage width of an integer or quantized element type, 0 otherwise.
static unsigned storageWidth(Type t) {
  if (auto q = dyn_cast<quant::QuantizedType>(t))
    return q.getStorageTypeIntegralWidth();
  if (auto i = dyn_cast<IntegerType>(t))
    return i.getWidth();
  return 0;
}

LogicalResult BitcastOp::verify() {
  RankedTensorType in = getInput().getType(), out = getType();
  unsigned a = storageWidth(in.getElementType());
  unsigned b = storageWidth(out.getElementType());
  if (!a || !b)
    return emitOpError() << "reinterprets integer or quantized tensors only, "
                            "got "
                         << in.getElementType() << " -> "
                         << out.getElementType();
  if (a != b)
    return emitOpError() << "storage widths differ: " << a << " bits vs "
                         << b << " bits";
  if (in.getShape() != out.getShape())
    return emitOpError() << "shapes " << shapeListStr(in.getShape()) << " and "
                         << shapeListStr(out.getShape()) << " differ";
  return success();
}

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
// Conv2DOp / FullyConnectedOp
//===----------------------------------------------------------------------===//

LogicalResult Conv2DOp::verify() {
  RankedTensorType in = getInput().getType();
  RankedTensorType w = getWeight().getType();
  RankedTensorType out = getType();
  if (in.getRank() != 4)
    return emitOpError() << "input must be NHWC (rank 4), got " << in;
  if (out.getRank() != 4)
    return emitOpError() << "result must be NHWC (rank 4), got " << out;
  auto inQ = getActivationType(*this, "input", in);
  if (failed(inQ) || failed(verifyAccumulator(*this, out)))
    return failure();
  auto logical = verifyWeights(*this, w, getWeightEncodingAttr(), 4,
                               inQ->getExpressedType());
  if (failed(logical))
    return failure();
  if (getShiftProducts() && !getWeightEncoding())
    return emitOpError() << "shift_products needs log or STLQ weights "
                            "(weight_encoding)";
  if (failed(verifyWindow(*this, "stride", getStride(), 2, 1)) ||
      failed(verifyWindow(*this, "dilation", getDilation(), 2, 1)) ||
      failed(verifyWindow(*this, "pad", getPad(), 4, 0)))
    return failure();
  int64_t groups = getGroups();
  if (groups < 1)
    return emitOpError() << "groups must be >= 1, got " << groups;
  int64_t channels = in.getDimSize(3);
  int64_t outChannels = (*logical)[0];
  int64_t perGroup = (*logical)[3];
  if (!ShapedType::isDynamic(channels)) {
    if (channels % groups != 0)
      return emitOpError() << groups << " groups do not divide " << channels
                           << " input channels";
    if (!dimsAgree(perGroup, channels / groups))
      return emitOpError() << "weight has " << perGroup
                           << " input channels per group, expected "
                           << channels / groups << " (" << channels
                           << " channels / " << groups << " groups)";
  }
  if (!ShapedType::isDynamic(outChannels) && outChannels % groups != 0)
    return emitOpError() << groups << " groups do not divide " << outChannels
                         << " output channels";
  if (failed(verifyBias(*this, getBias(), out, outChannels)))
    return failure();
  SmallVector<int64_t> kernel = {(*logical)[1], (*logical)[2]};
  if (ShapedType::isDynamic(kernel[0]) || ShapedType::isDynamic(kernel[1]))
    return emitOpError() << "kernel size must be static, got weight " << w;
  return verifyNHWCResult(*this, in, out, kernel, getStride(), getPad(),
                          getDilation(), outChannels);
}

LogicalResult FullyConnectedOp::verify() {
  RankedTensorType in = getInput().getType();
  RankedTensorType out = getType();
  if (in.getRank() != 2)
    return emitOpError() << "input must be [N, I] (rank 2), got " << in;
  if (out.getRank() != 2)
    return emitOpError() << "result must be [N, O] (rank 2), got " << out;
  auto inQ = getActivationType(*this, "input", in);
  if (failed(inQ) || failed(verifyAccumulator(*this, out)))
    return failure();
  auto logical = verifyWeights(*this, getWeight().getType(),
                               getWeightEncodingAttr(), 2,
                               inQ->getExpressedType());
  if (failed(logical))
    return failure();
  if (getShiftProducts() && !getWeightEncoding())
    return emitOpError() << "shift_products needs log or STLQ weights "
                            "(weight_encoding)";
  if (!dimsAgree((*logical)[1], in.getDimSize(1)))
    return emitOpError() << "weight has " << (*logical)[1]
                         << " input features, input has " << in.getDimSize(1);
  if (!dimsAgree(out.getDimSize(0), in.getDimSize(0)) ||
      !dimsAgree(out.getDimSize(1), (*logical)[0]))
    return emitOpError() << "result shape " << shapeListStr(out.getShape())
                         << " does not match the expected ["
                         << in.getDimSize(0) << ", " << (*logical)[0] << "]";
  return verifyBias(*this, getBias(), out, (*logical)[0]);
}

//===----------------------------------------------------------------------===//
// RequantOp
//===----------------------------------------------------------------------===//

int64_t RequantOp::getSaturationMin() {
  return getMin().value_or(getStorageRange(getType().getElementType())->first);
}

int64_t RequantOp::getSaturationMax() {
  return getMax().value_or(getStorageRange(getType().getElementType())->second);
}

LogicalResult RequantOp::verify() {
  RankedTensorType in = getInput().getType();
  RankedTensorType out = getType();
  Type inElt = in.getElementType();
  if (isa<quant::QuantizedType>(inElt)) {
    if (failed(getActivationType(*this, "input", in)))
      return failure();
  } else if (auto i = dyn_cast<IntegerType>(inElt);
             !i || !i.isSignless() || i.getWidth() > 64) {
    return emitOpError()
           << "input must be a signless integer accumulator (at most 64 bits) "
              "or a quantized tensor, got "
           << inElt;
  }
  auto outQ = getActivationType(*this, "result", out);
  if (failed(outQ))
    return failure();
  if (auto inQ = dyn_cast<quant::QuantizedType>(inElt);
      inQ && inQ.getExpressedType() != outQ->getExpressedType())
    return emitOpError() << "input and result expressed types differ";
  if (in.getShape().size() != out.getShape().size() ||
      !llvm::all_of(llvm::zip(in.getShape(), out.getShape()), [](auto p) {
        return dimsAgree(std::get<0>(p), std::get<1>(p));
      }))
    return emitOpError() << "input shape " << shapeListStr(in.getShape())
                         << " differs from the result shape "
                         << shapeListStr(out.getShape());
  if (failed(verifyMultiplierArrays(*this, "positive", getMultiplier(),
                                    getShift(), getAxis(), out.getShape())))
    return failure();
  if (getNegMultiplier().has_value() != getNegShift().has_value())
    return emitOpError()
           << "'neg_multiplier' and 'neg_shift' must be given together";
  if (auto negM = getNegMultiplier()) {
    if (negM->size() != getMultiplier().size())
      return emitOpError() << "has " << negM->size()
                           << " negative multipliers but "
                           << getMultiplier().size() << " positive ones";
    if (failed(verifyMultiplierArrays(*this, "negative", *negM, *getNegShift(),
                                      getAxis(), out.getShape())))
      return failure();
  }
  return verifySaturation(*this, out.getElementType(), getMin(), getMax());
}

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
// AddOp
//===----------------------------------------------------------------------===//

LogicalResult AddOp::verify() {
  auto lhs = getActivationType(*this, "lhs", getLhs().getType());
  auto rhs = getActivationType(*this, "rhs", getRhs().getType());
  auto out = getActivationType(*this, "result", getType());
  if (failed(lhs) || failed(rhs) || failed(out))
    return failure();
  if (lhs->getExpressedType() != out->getExpressedType() ||
      rhs->getExpressedType() != out->getExpressedType())
    return emitOpError() << "operands and result must share an expressed type";
  if (getLhs().getType().getShape() != getType().getShape() ||
      getRhs().getType().getShape() != getType().getShape())
    return emitOpError() << "operand shapes "
                         << shapeListStr(getLhs().getType().getShape()) << " and "
                         << shapeListStr(getRhs().getType().getShape())
                         << " must equal the result shape "
                         << shapeListStr(getType().getShape());
  int64_t inputShift = getInputShiftAttr().getInt();
  unsigned widest = std::max(lhs->getStorageTypeIntegralWidth(),
                             rhs->getStorageTypeIntegralWidth());
  // (x - zp) needs widest + 1 bits; shifted left it must stay in 32 bits.
  int64_t limit = 32 - 1 - static_cast<int64_t>(widest);
  if (inputShift < 0 || inputShift > limit)
    return emitOpError() << "input_shift " << inputShift
                         << " must be in [0, " << limit << "] for "
                         << widest << "-bit inputs";
  // The attribute getters are unsigned; read the signed values to reject
  // negative multipliers and shifts.
  if (failed(verifyMultiplier(*this, "lhs", getLhsMultiplierAttr().getInt(),
                              getLhsShiftAttr().getInt())) ||
      failed(verifyMultiplier(*this, "rhs", getRhsMultiplierAttr().getInt(),
                              getRhsShiftAttr().getInt())) ||
      failed(verifyMultiplier(*this, "output",
                              getOutputMultiplierAttr().getInt(),
                              getOutputShiftAttr().getInt())))
    return failure();
  return verifySaturation(*this, getType().getElementType(), getMin(),
                          getMax());
}

//===----------------------------------------------------------------------===//
// ClampOp
//===----------------------------------------------------------------------===//

LogicalResult ClampOp::verify() {
  Type elt = getType().getElementType();
  if (!isa<quant::QuantizedType, IntegerType>(elt))
    return emitOpError() << "operates on quantized or integer tensors, got "
                         << elt;
  if (isa<quant::QuantizedType>(elt) &&
      failed(verifyQuantizedTensor(*this, "input", getType())))
    return failure();
  return verifySaturation(*this, elt, getMin(), getMax());
}

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
struct AbsorbClampIntoRequant : public OpRewritePattern<ClampOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ClampOp clamp,
                                PatternRewriter &rewriter) const override {
    auto requant = clamp.getInput().getDefiningOp<RequantOp>();
    if (!requant)
      return rewriter.notifyMatchFailure(clamp, "input is not a requant");
    if (!requant->hasOneUse())
      return rewriter.notifyMatchFailure(clamp, "requant has other users");
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
// PReluOp
//===----------------------------------------------------------------------===//

LogicalResult PReluOp::verify() {
  auto in = getActivationType(*this, "input", getInput().getType());
  auto out = getActivationType(*this, "result", getType());
  if (failed(in) || failed(out))
    return failure();
  if (in->getExpressedType() != out->getExpressedType())
    return emitOpError() << "input and result expressed types differ";
  if (getInput().getType().getShape() != getType().getShape())
    return emitOpError() << "input shape "
                         << shapeListStr(getInput().getType().getShape())
                         << " differs from the result shape "
                         << shapeListStr(getType().getShape());
  if (failed(verifyMultiplier(*this, "positive",
                              getPosMultiplierAttr().getInt(),
                              getPosShiftAttr().getInt())))
    return failure();
  return verifyMultiplierArrays(*this, "negative", getNegMultiplier(),
                                getNegShift(), getAxis(),
                                getType().getShape());
}

//===----------------------------------------------------------------------===//
// Pools
//===----------------------------------------------------------------------===//

/// Shared by max_pool and avg_pool.
static LogicalResult verifyPool(Operation *op, RankedTensorType in,
                                RankedTensorType out, ArrayRef<int64_t> kernel,
                                ArrayRef<int64_t> stride,
                                ArrayRef<int64_t> pad) {
  if (in.getRank() != 4 || out.getRank() != 4)
    return op->emitOpError() << "input and result must be NHWC (rank 4)";
  if (in.getElementType() != out.getElementType())
    return op->emitOpError() << "input element type " << in.getElementType()
                             << " differs from the result's "
                             << out.getElementType();
  Type elt = in.getElementType();
  if (isa<quant::QuantizedType>(elt)) {
    if (failed(getActivationType(op, "input", in)))
      return failure();
  } else if (!isa<IntegerType>(elt)) {
    return op->emitOpError() << "operates on quantized or integer tensors, got "
                             << elt;
  }
  if (failed(verifyWindow(op, "kernel", kernel, 2, 1)) ||
      failed(verifyWindow(op, "stride", stride, 2, 1)) ||
      failed(verifyWindow(op, "pad", pad, 4, 0)))
    return failure();
  // A window made only of padding has no value to produce.
  if (pad[0] >= kernel[0] || pad[1] >= kernel[0] || pad[2] >= kernel[1] ||
      pad[3] >= kernel[1])
    return op->emitOpError() << "padding " << shapeListStr(pad)
                             << " must be smaller than the kernel "
                             << shapeListStr(kernel);
  int64_t dil[2] = {1, 1};
  return verifyNHWCResult(op, in, out, kernel, stride, pad, dil,
                          in.getDimSize(3));
}

LogicalResult MaxPoolOp::verify() {
  return verifyPool(*this, getInput().getType(), getType(), getKernel(),
                    getStride(), getPad());
}

OpFoldResult MaxPoolOp::fold(FoldAdaptor) {
  // A 1x1 window with unit stride and no padding is the identity.
  if (getInput().getType() == getType() &&
      llvm::all_of(getKernel(), [](int64_t k) { return k == 1; }) &&
      llvm::all_of(getStride(), [](int64_t s) { return s == 1; }) &&
      llvm::all_of(getPad(), [](int64_t p) { return p == 0; }))
    return getInput();
  return {};
}

LogicalResult AvgPoolOp::verify() {
  return verifyPool(*this, getInput().getType(), getType(), getKernel(),
                    getStride(), getPad());
}

LogicalResult GlobalAvgPoolOp::verify() {
  RankedTensorType in = getInput().getType();
  RankedTensorType out = getType();
  if (in.getRank() != 4 || out.getRank() != 4)
    return emitOpError() << "input and result must be NHWC (rank 4)";
  if (in.getElementType() != out.getElementType())
    return emitOpError() << "input element type " << in.getElementType()
                         << " differs from the result's "
                         << out.getElementType();
  if (isa<quant::QuantizedType>(in.getElementType())) {
    if (failed(getActivationType(*this, "input", in)))
      return failure();
  } else if (!isa<IntegerType>(in.getElementType())) {
    return emitOpError() << "operates on quantized or integer tensors, got "
                         << in.getElementType();
  }
  SmallVector<int64_t> expected = {in.getDimSize(0), 1, 1, in.getDimSize(3)};
  for (auto [e, g] : llvm::zip(expected, out.getShape()))
    if (!dimsAgree(e, g))
      return emitOpError() << "result shape " << shapeListStr(out.getShape())
                           << " does not match the expected "
                           << shapeListStr(expected);
  return success();
}

//===----------------------------------------------------------------------===//
// ReshapeOp / ConcatOp
//===----------------------------------------------------------------------===//

/// Reshape and transpose keep the element type, which must not be quantized
/// per axis or per block (the quantized dimension would lose its meaning).
static LogicalResult verifyLayoutChange(Operation *op, RankedTensorType in,
                                        RankedTensorType out, StringRef verb) {
  if (in.getElementType() != out.getElementType())
    return op->emitOpError() << "element type " << in.getElementType()
                             << " differs from the result's "
                             << out.getElementType();
  if (isa<quant::UniformQuantizedPerAxisType,
          quant::UniformQuantizedSubChannelType>(in.getElementType()))
    return op->emitOpError() << "cannot " << verb
                             << " a tensor quantized per axis or per block: "
                             << in.getElementType();
  return success();
}

LogicalResult ReshapeOp::verify() {
  RankedTensorType in = getInput().getType();
  RankedTensorType out = getType();
  if (failed(verifyLayoutChange(*this, in, out, "reshape")))
    return failure();
  if (in.hasStaticShape() && out.hasStaticShape() &&
      in.getNumElements() != out.getNumElements())
    return emitOpError() << "cannot reshape " << in.getNumElements()
                         << " elements " << shapeListStr(in.getShape()) << " into "
                         << out.getNumElements() << " "
                         << shapeListStr(out.getShape());
  return success();
}

//===----------------------------------------------------------------------===//
// TransposeOp
//===----------------------------------------------------------------------===//

LogicalResult TransposeOp::verify() {
  RankedTensorType in = getInput().getType();
  RankedTensorType out = getType();
  if (failed(verifyLayoutChange(*this, in, out, "transpose")))
    return failure();
  ArrayRef<int32_t> perms = getPerms();
  int64_t rank = in.getRank();
  if (static_cast<int64_t>(perms.size()) != rank || out.getRank() != rank)
    return emitOpError() << "perms has " << perms.size()
                         << " entries for input rank " << rank
                         << " and result rank " << out.getRank();
  SmallVector<bool> seen(rank, false);
  for (auto [d, p] : llvm::enumerate(perms)) {
    if (p < 0 || p >= rank || seen[p])
      return emitOpError() << "perms is not a permutation of [0, " << rank
                           << ")";
    seen[p] = true;
    if (!dimsAgree(out.getDimSize(d), in.getDimSize(p)))
      return emitOpError() << "result dimension " << d << " is "
                           << out.getDimSize(d) << " but input dimension "
                           << p << " is " << in.getDimSize(p);
  }
  return success();
}

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

LogicalResult ConcatOp::verify() {
  if (getInputs().empty())
    return emitOpError() << "needs at least one input";
  RankedTensorType out = getType();
  int64_t rank = out.getRank();
  int64_t axis = getAxis();
  if (axis < 0 || axis >= rank)
    return emitOpError() << "axis " << axis << " is out of range for rank "
                         << rank;
  int64_t total = 0;
  bool dynamic = false;
  for (auto [i, v] : llvm::enumerate(getInputs())) {
    auto t = cast<RankedTensorType>(v.getType());
    if (t.getElementType() != out.getElementType())
      return emitOpError() << "input " << i << " element type "
                           << t.getElementType()
                           << " differs from the result's "
                           << out.getElementType()
                           << " (concat needs one common quantization)";
    if (t.getRank() != rank)
      return emitOpError() << "input " << i << " has rank " << t.getRank()
                           << ", result has rank " << rank;
    for (int64_t d = 0; d < rank; ++d) {
      if (d == axis)
        continue;
      if (!dimsAgree(t.getDimSize(d), out.getDimSize(d)))
        return emitOpError() << "input " << i << " shape "
                             << shapeListStr(t.getShape())
                             << " differs from the result shape "
                             << shapeListStr(out.getShape())
                             << " outside axis " << axis;
    }
    if (ShapedType::isDynamic(t.getDimSize(axis)))
      dynamic = true;
    else
      total += t.getDimSize(axis);
  }
  if (isa<quant::UniformQuantizedPerAxisType,
          quant::UniformQuantizedSubChannelType>(out.getElementType()))
    return emitOpError() << "cannot concatenate tensors quantized per axis or "
                            "per block";
  if (!dynamic && !dimsAgree(total, out.getDimSize(axis)))
    return emitOpError() << "inputs add up to " << total << " along axis "
                         << axis << ", result has " << out.getDimSize(axis);
  return success();
}

OpFoldResult ConcatOp::fold(FoldAdaptor) {
  if (getInputs().size() == 1 && getInputs()[0].getType() == getType())
    return getInputs()[0];
  return {};
}

//===----------------------------------------------------------------------===//
// slice / pad
//===----------------------------------------------------------------------===//

/// Data movement keeps the element type; per-axis quantization would need
/// its scales moved with the axis.
static LogicalResult sameMovableElement(Operation *op, RankedTensorType in,
                                        RankedTensorType out) {
  if (in.getElementType() != out.getElementType())
    return op->emitOpError() << "result element type " << out.getElementType()
                             << " differs from the input's "
                             << in.getElementType();
  if (isa<quant::UniformQuantizedPerAxisType,
          quant::UniformQuantizedSubChannelType>(in.getElementType()))
    return op->emitOpError()
           << "cannot move tensors quantized per axis or per block";
  if (in.getRank() != out.getRank())
    return op->emitOpError() << "result rank " << out.getRank()
                             << " differs from the input rank "
                             << in.getRank();
  return success();
}

LogicalResult SliceOp::verify() {
  RankedTensorType in = getInput().getType(), out = getType();
  if (failed(sameMovableElement(*this, in, out)))
    return failure();
  ArrayRef<int64_t> start = getStart();
  if (static_cast<int64_t>(start.size()) != in.getRank())
    return emitOpError() << "start has " << start.size()
                         << " entries for rank " << in.getRank();
  for (int64_t d = 0; d < in.getRank(); ++d) {
    int64_t n = in.getDimSize(d), size = out.getDimSize(d);
    if (start[d] < 0 || ShapedType::isDynamic(size) || size < 0 ||
        (!ShapedType::isDynamic(n) && start[d] > n - size))
      return emitOpError() << "window [" << start[d] << ", "
                           << (ShapedType::isDynamic(size)
                                   ? std::string("?")
                                   : std::to_string(start[d] + size))
                           << ") of dimension " << d
                           << " is outside the input shape "
                           << shapeListStr(in.getShape());
  }
  return success();
}

OpFoldResult SliceOp::fold(FoldAdaptor) {
  if (getInput().getType() == getType())
    return getInput();
  return {};
}

LogicalResult PadOp::verify() {
  RankedTensorType in = getInput().getType(), out = getType();
  if (failed(sameMovableElement(*this, in, out)))
    return failure();
  ArrayRef<int64_t> padding = getPadding();
  if (static_cast<int64_t>(padding.size()) != 2 * in.getRank())
    return emitOpError() << "padding has " << padding.size()
                         << " entries; rank " << in.getRank() << " needs "
                         << 2 * in.getRank();
  for (int64_t d = 0; d < in.getRank(); ++d) {
    int64_t b = padding[2 * d], a = padding[2 * d + 1];
    if (b < 0 || a < 0 || b > (int64_t(1) << 40) || a > (int64_t(1) << 40))
      return emitOpError() << "padding of dimension " << d
                           << " is negative or absurdly large";
    int64_t n = in.getDimSize(d);
    if (!ShapedType::isDynamic(n) &&
        !dimsAgree(out.getDimSize(d), n + b + a))
      return emitOpError() << "result dimension " << d << " is "
                           << out.getDimSize(d) << " but the padded input's is "
                           << n + b + a;
  }
  auto range = getStorageRange(in.getElementType());
  if (!range)
    return emitOpError() << "element type " << in.getElementType()
                         << " has no stored integer range";
  if (static_cast<int64_t>(getPadValue()) < range->first || static_cast<int64_t>(getPadValue()) > range->second)
    return emitOpError() << "pad_value " << static_cast<int64_t>(getPadValue())
                         << " is outside the stored range [" << range->first
                         << ", " << range->second << "]";
  return success();
}

//===----------------------------------------------------------------------===//
// resize
//===----------------------------------------------------------------------===//

bool mlir::lowbit::bilinearResizeFitsInt32(quant::UniformQuantizedType in,
                                           int64_t ny, int64_t nx) {
  int64_t span = std::max(in.getStorageTypeMax() - in.getZeroPoint(),
                          in.getZeroPoint() - in.getStorageTypeMin());
  return ny >= 1 && nx >= 1 && ny <= (1 << 20) && nx <= (1 << 20) &&
         span * ny * nx <= INT32_MAX;
}

LogicalResult ResizeOp::verify() {
  RankedTensorType in = getInput().getType(), out = getType();
  if (in.getRank() != 4 || out.getRank() != 4)
    return emitOpError() << "input and result must be NHWC (rank 4)";
  if (!in.hasStaticShape() || !out.hasStaticShape())
    return emitOpError() << "needs static shapes";
  if (in.getDimSize(0) != out.getDimSize(0) ||
      in.getDimSize(3) != out.getDimSize(3))
    return emitOpError() << "batch and channels must not change";
  ArrayRef<int64_t> scale = getScale(), offset = getOffset();
  if (scale.size() != 4 || offset.size() != 2)
    return emitOpError() << "scale needs 4 entries [n_y, d_y, n_x, d_x] and "
                            "offset 2";
  // Coordinates o * d + offset stay far inside int64.
  for (int i = 0; i < 4; ++i)
    if (scale[i] < 1 || scale[i] > (1 << 20))
      return emitOpError() << "scale entries must be in [1, 2^20]";
  for (int64_t o : offset)
    if (o < -(int64_t(1) << 40) || o > (int64_t(1) << 40))
      return emitOpError() << "offset is absurdly large";
  auto inQ = dyn_cast<quant::UniformQuantizedType>(in.getElementType());
  if (!inQ)
    return emitOpError() << "input must be quantized per tensor";
  if (getMode() == "nearest") {
    if (out.getElementType() != in.getElementType())
      return emitOpError() << "a nearest resize keeps its input's element "
                              "type";
    return success();
  }
  if (getMode() != "bilinear")
    return emitOpError() << "mode must be \"nearest\" or \"bilinear\", got \""
                         << getMode() << "\"";
  if (!out.getElementType().isSignlessInteger(32))
    return emitOpError() << "a bilinear resize produces an i32 accumulator";
  if (!bilinearResizeFitsInt32(inQ, scale[0], scale[2]))
    return emitOpError() << "n_y * n_x = " << scale[0] * scale[2]
                         << " overflows the i32 accumulator for this input";
  return success();
}

//===----------------------------------------------------------------------===//
// Log / STLQ weights
//===----------------------------------------------------------------------===//

FailureOr<PackedLogWeights> mlir::lowbit::getPackedLogWeights(Operation *op) {
  auto conv = dyn_cast<Conv2DOp>(op);
  auto fc = dyn_cast<FullyConnectedOp>(op);
  Attribute encoding = conv ? conv.getWeightEncodingAttr()
                            : fc ? fc.getWeightEncodingAttr() : Attribute();
  if (!encoding)
    return op->emitError("expected a conv2d or fully_connected with log or "
                         "STLQ weights"),
           failure();
  DenseElementsAttr codes;
  if (!matchPattern(op->getOperand(1), m_Constant(&codes)))
    return op->emitError("log / STLQ weights must be a constant"), failure();
  auto stlq = dyn_cast<STLQAttr>(encoding);
  unsigned bits = stlq ? stlq.getBits() : cast<LogAttr>(encoding).getBits();
  ArrayRef<int64_t> shape = codes.getType().getShape();
  if (stlq)
    shape = shape.drop_front();
  PackedLogWeights p;
  p.desc = {shape[0], 1, 1, shape.back(), bits, 0, 0};
  if (shape.size() == 4) {
    p.desc.kh = shape[1];
    p.desc.kw = shape[2];
  }
  std::unique_ptr<bool[]> tiles;
  if (stlq) {
    p.desc.tileIn = stlq.getInputTile();
    p.desc.tileOut = stlq.getOutputTile();
    tiles.reset(new bool[::lowbit::rt::stlqTileCount(p.desc)]);
    int64_t t = 0;
    for (bool two : stlq.getMask().getValues<bool>())
      tiles[t++] = two;
  }
  const int64_t count = ::lowbit::rt::logWeightCount(p.desc);
  std::vector<int32_t> first(count), second(count, 0);
  int64_t i = 0;
  for (const APInt &v : codes.getValues<APInt>()) {
    auto q = static_cast<int32_t>(v.getSExtValue());
    if (i < count)
      first[i] = q;
    else
      second[i - count] = q;
    ++i;
  }
  p.integers.resize(count);
  for (int64_t k = 0; k < count; ++k)
    p.integers[k] = static_cast<int32_t>(
        ::lowbit::rt::logCodeInteger(first[k], bits) +
        ::lowbit::rt::logCodeInteger(second[k], bits));
  // The mask part first: its size fixes the second words'.
  std::vector<uint8_t> mask(::lowbit::rt::stlqMaskBytes(p.desc) + 1, 0);
  for (int64_t t = 0; stlq && t < ::lowbit::rt::stlqTileCount(p.desc); ++t)
    if (tiles[t])
      mask[t / 8] |= static_cast<uint8_t>(1u << (t % 8));
  p.bytes.resize(::lowbit::rt::logWeightsBytes(p.desc, mask.data()));
  if (!::lowbit::rt::packLogWeights(p.desc, first.data(), second.data(),
                                    tiles.get(), p.bytes.data(),
                                    static_cast<int64_t>(p.bytes.size())))
    return op->emitError("STLQ weights have a second word in a one-word "
                         "tile"),
           failure();
  return p;
}
