//===- LowBitDialect.cpp - lowbit dialect and attributes ------------------===//
//
// Part of the lowbit project.
//
//===----------------------------------------------------------------------===//

#include "LowBit/IR/LowBitDialect.h"
#include "LowBit/IR/LowBitOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectImplementation.h"
#include "llvm/ADT/TypeSwitch.h"

#include <cmath>

using namespace mlir;
using namespace mlir::lowbit;

#include "LowBit/IR/LowBitDialect.cpp.inc"
#include "LowBit/IR/LowBitEnums.cpp.inc"

#define GET_ATTRDEF_CLASSES
#include "LowBit/IR/LowBitAttrs.cpp.inc"

void LowBitDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "LowBit/IR/LowBitOps.cpp.inc"
      >();
  addAttributes<
#define GET_ATTRDEF_LIST
#include "LowBit/IR/LowBitAttrs.cpp.inc"
      >();
}

Operation *LowBitDialect::materializeConstant(OpBuilder &builder,
                                              Attribute value, Type type,
                                              Location loc) {
  auto elements = dyn_cast<ElementsAttr>(value);
  auto tensorType = dyn_cast<RankedTensorType>(type);
  if (!elements || !tensorType)
    return nullptr;
  // Builtin element types stay builtin constants; only quantized element
  // types need lowbit.constant.
  if (!isa<quant::QuantizedType>(tensorType.getElementType()) &&
      arith::ConstantOp::isBuildableWith(value, type))
    return arith::ConstantOp::create(builder, loc, tensorType,
                                     cast<TypedAttr>(value));
  return ConstantOp::create(builder, loc, tensorType, elements);
}

//===----------------------------------------------------------------------===//
// Weight encoding attributes
//===----------------------------------------------------------------------===//

double mlir::lowbit::toDouble(const APFloat &value) {
  APFloat copy = value;
  bool losesInfo;
  copy.convert(APFloat::IEEEdouble(), APFloat::rmNearestTiesToEven, &losesInfo);
  return copy.convertToDouble();
}

/// Log codes are signed words; a 1-bit word could only hold 0 and -1.
static LogicalResult verifyLogParams(function_ref<InFlightDiagnostic()> emit,
                                     unsigned bits, const APFloat &scaleAttr) {
  double scale = toDouble(scaleAttr);
  if (bits < 2 || bits > 16)
    return emit() << "log word width must be in [2, 16] bits, got " << bits;
  if (!std::isfinite(scale) || scale <= 0.0)
    return emit() << "log scale must be finite and positive, got " << scale;
  return success();
}

LogicalResult LogAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                              unsigned bits, APFloat scale,
                              ArrayRef<APFloat> channelScales) {
  if (failed(verifyLogParams(emitError, bits, scale)))
    return failure();
  if (channelScales.empty())
    return success(); // one scale per layer
  double largest = 0;
  for (auto [c, scaleC] : llvm::enumerate(channelScales)) {
    double u = toDouble(scaleC);
    if (!std::isfinite(u) || u <= 0.0)
      return emitError() << "log channel scale " << c
                         << " must be finite and positive, got " << u;
    largest = std::max(largest, u);
  }
  if (largest != toDouble(scale))
    return emitError() << "log scale " << toDouble(scale)
                       << " must be the largest channel scale, " << largest;
  return success();
}

LogicalResult STLQAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                               unsigned bits, APFloat scale,
                               ArrayRef<int64_t> tile, DenseElementsAttr mask,
                               ArrayRef<APFloat> channelScales) {
  if (failed(LogAttr::verify(emitError, bits, scale, channelScales)))
    return failure();
  if (tile.size() != 2)
    return emitError() << "STLQ tile must be [Tn, Tm], got " << tile.size()
                       << " dimensions";
  // Tile counts are ceil(dim / extent): extents are bounded so that no
  // dimension plus extent can overflow.
  constexpr int64_t kMaxTile = int64_t(1) << 31;
  if (tile[0] < 1 || tile[1] < 1 || tile[0] > kMaxTile || tile[1] > kMaxTile)
    return emitError() << "STLQ tile extents must be in [1, 2^31], got ["
                       << tile[0] << ", " << tile[1] << "]";
  if (!mask)
    return emitError() << "STLQ mask is missing";
  if (!mask.getElementType().isInteger(1))
    return emitError() << "STLQ mask must hold i1 (two words or not), got "
                       << mask.getElementType();
  if (mask.getType().getRank() < 2)
    return emitError() << "STLQ mask must have rank >= 2, got rank "
                       << mask.getType().getRank();
  return success();
}

int64_t STLQAttr::getNumTwoWordTiles() const {
  int64_t count = 0;
  for (bool twoWords : getMask().getValues<bool>())
    count += twoWords ? 1 : 0;
  return count;
}
