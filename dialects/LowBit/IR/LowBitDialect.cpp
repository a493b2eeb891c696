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
// Helpers
//===----------------------------------------------------------------------===//

double mlir::lowbit::toDouble(const APFloat &value) {
  APFloat copy = value;
  bool losesInfo;
  copy.convert(APFloat::IEEEdouble(), APFloat::rmNearestTiesToEven, &losesInfo);
  return copy.convertToDouble();
}
