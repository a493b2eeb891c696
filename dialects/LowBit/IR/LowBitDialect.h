//===- LowBitDialect.h - lowbit dialect and attributes ----------*- C++ -*-===//
//
// Part of the lowbit project.
//
//===----------------------------------------------------------------------===//

#ifndef LOWBIT_DIALECT_LOWBIT_IR_LOWBITDIALECT_H
#define LOWBIT_DIALECT_LOWBIT_IR_LOWBITDIALECT_H

#include "mlir/Dialect/Quant/IR/Quant.h"
#include "mlir/Dialect/Quant/IR/QuantTypes.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Dialect.h"

namespace mlir {
namespace lowbit {
/// The value of an APFloat of any semantics as a double.
double toDouble(const llvm::APFloat &value);
} // namespace lowbit
} // namespace mlir

#include "LowBit/IR/LowBitDialect.h.inc"
#include "LowBit/IR/LowBitEnums.h.inc"

#define GET_ATTRDEF_CLASSES
#include "LowBit/IR/LowBitAttrs.h.inc"

#endif // LOWBIT_DIALECT_LOWBIT_IR_LOWBITDIALECT_H
