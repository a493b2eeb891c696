//===- LowBitOps.cpp - lowbit op definitions and verifiers ----------------===//
//
// Part of the lowbit project.
//
//===----------------------------------------------------------------------===//
//
// The ODS-generated op classes, the verification helpers the op files share
// (LowBitOpsImpl.h), and the verifiers of the constant, quantization and
// elementwise ops. Verifiers reject every inconsistency a producer could
// write (bit-widths, scales, shapes, axes, multiplier and shift ranges); the
// other ops' verifiers are in LowBitLayerVerifiers.cpp (conv2d,
// fully_connected, pools), LowBitMovementVerifiers.cpp (reshape, transpose,
// concat, slice, pad, resize) and LowBitWeightEncoding.cpp (log / STLQ
// weights); every folder and canonicalization pattern is in
// LowBitCanonicalizations.cpp.
//
//===----------------------------------------------------------------------===//

#include "LowBit/IR/LowBitOps.h"
#include "LowBitOpsImpl.h"

#include "lowbit/runtime/Ops.h"
#include "lowbit/runtime/Requant.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/OpImplementation.h"
#include "llvm/ADT/STLExtras.h"

using namespace mlir;
using namespace mlir::lowbit;
using namespace mlir::lowbit::detail;
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

LogicalResult
mlir::lowbit::detail::verifyQuantizedTensor(Operation *op, StringRef what,
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

FailureOr<quant::UniformQuantizedType>
mlir::lowbit::detail::getActivationType(Operation *op, StringRef what,
                                        Type type) {
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

LogicalResult QuantizeOp::verify() {
  return verifyQuantPair(*this, getInput().getType(), getType(), "result");
}

LogicalResult DequantizeOp::verify() {
  return verifyQuantPair(*this, getType(), getInput().getType(), "input");
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
// LookupOp, MulOp, MatMulOp
//===----------------------------------------------------------------------===//

/// The storage width of a per-tensor quantized type's container.
static unsigned storageWidth(quant::UniformQuantizedType q) {
  return q.getStorageTypeIntegralWidth();
}

LogicalResult LookupOp::verify() {
  auto in = getActivationType(*this, "input", getInput().getType());
  auto out = getActivationType(*this, "result", getType());
  if (failed(in) || failed(out))
    return failure();
  if (storageWidth(*in) != 8 || storageWidth(*out) != 8)
    return emitOpError() << "looks up 8-bit activations into 8-bit "
                            "activations, got "
                         << *in << " -> " << *out;
  if (getInput().getType().getShape() != getType().getShape())
    return emitOpError() << "input and result shapes differ";
  ArrayRef<int32_t> table = getTable();
  if (table.size() != 256)
    return emitOpError() << "table has " << table.size()
                         << " entries; it needs 256 (one per stored byte)";
  for (auto [i, v] : llvm::enumerate(table))
    if (v < out->getStorageTypeMin() || v > out->getStorageTypeMax())
      return emitOpError() << "table entry " << i << " = " << v
                           << " is outside the result's storage range ["
                           << out->getStorageTypeMin() << ", "
                           << out->getStorageTypeMax() << "]";
  return success();
}

LogicalResult SoftmaxOp::verify() {
  auto in = getActivationType(*this, "input", getInput().getType());
  auto out = getActivationType(*this, "result", getType());
  if (failed(in) || failed(out))
    return failure();
  if (storageWidth(*in) != 8 || storageWidth(*out) != 8)
    return emitOpError() << "takes and gives 8-bit activations, got " << *in
                         << " -> " << *out;
  if (getInput().getType().getShape() != getType().getShape())
    return emitOpError() << "input and result shapes differ";
  int64_t rank = getType().getRank();
  if (getAxis() < 0 || getAxis() >= rank)
    return emitOpError() << "axis " << getAxis()
                         << " is out of range for rank " << rank;
  ArrayRef<int32_t> table = getTable();
  if (table.size() != 256)
    return emitOpError() << "table has " << table.size()
                         << " entries; it needs 256";
  for (auto [i, v] : llvm::enumerate(table))
    if (v < 0 || v > (1 << 16))
      return emitOpError() << "table entry " << i << " = " << v
                           << " is outside [0, 2^16]";
  if (getMultiplier() < 1 || getMultiplier() > (int64_t(1) << 46))
    return emitOpError() << "multiplier " << getMultiplier()
                         << " is outside [1, 2^46]";
  return success();
}

LogicalResult MulOp::verify() {
  auto a = getActivationType(*this, "lhs", getLhs().getType());
  auto b = getActivationType(*this, "rhs", getRhs().getType());
  auto out = getActivationType(*this, "result", getType());
  if (failed(a) || failed(b) || failed(out))
    return failure();
  if (storageWidth(*a) > 16 || storageWidth(*b) > 16)
    return emitOpError() << "multiplies activations of at most 16 bits";
  ArrayRef<int64_t> ys = getType().getShape();
  if (static_cast<int64_t>(ys.size()) > rt::kMaxMulRank)
    return emitOpError() << "multiplies tensors of at most "
                         << rt::kMaxMulRank << " dimensions, got "
                         << ys.size();
  for (Value v : {getLhs(), getRhs()}) {
    auto s = cast<RankedTensorType>(v.getType()).getShape();
    if (s.size() != ys.size())
      return emitOpError() << "operands must have the result's rank "
                           << ys.size();
    for (auto [d, r] : llvm::zip(s, ys))
      if (d != 1 && !dimsAgree(d, r))
        return emitOpError() << "operand dimension " << d
                             << " does not broadcast to " << r;
  }
  if (failed(verifyMultiplier(*this, "output", getMultiplierAttr().getInt(),
                              getShiftAttr().getInt())))
    return failure();
  return verifySaturation(*this, getType().getElementType(), getMin(),
                          getMax());
}

LogicalResult MatMulOp::verify() {
  auto a = getActivationType(*this, "lhs", getLhs().getType());
  auto b = getActivationType(*this, "rhs", getRhs().getType());
  if (failed(a) || failed(b))
    return failure();
  if (storageWidth(*a) > 16 || storageWidth(*b) > 16)
    return emitOpError() << "multiplies activations of at most 16 bits";
  auto acc = dyn_cast<IntegerType>(getType().getElementType());
  if (!acc || (acc.getWidth() != 32 && acc.getWidth() != 64))
    return emitOpError() << "accumulates into i32 or i64, got "
                         << getType().getElementType();
  auto as = getLhs().getType().getShape(), bs = getRhs().getType().getShape();
  auto ys = getType().getShape();
  if (as.size() != 3 || bs.size() != 3 || ys.size() != 3)
    return emitOpError() << "operands and result are [N, I, K], [N, K, J], "
                            "[N, I, J]";
  if (!dimsAgree(as[0], bs[0]) || !dimsAgree(as[0], ys[0]) ||
      !dimsAgree(as[2], bs[1]) || !dimsAgree(as[1], ys[1]) ||
      !dimsAgree(bs[2], ys[2]))
    return emitOpError() << "shapes do not multiply: [" << as[0] << ", "
                         << as[1] << ", " << as[2] << "] x [" << bs[0] << ", "
                         << bs[1] << ", " << bs[2] << "] -> [" << ys[0] << ", "
                         << ys[1] << ", " << ys[2] << "]";
  return success();
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
