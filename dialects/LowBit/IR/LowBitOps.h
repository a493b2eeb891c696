//===- LowBitOps.h - lowbit operations --------------------------*- C++ -*-===//
//
// Part of the lowbit project.
//
//===----------------------------------------------------------------------===//

#ifndef LOWBIT_DIALECT_LOWBIT_IR_LOWBITOPS_H
#define LOWBIT_DIALECT_LOWBIT_IR_LOWBITOPS_H

#include "LowBit/IR/LowBitDialect.h"

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#define GET_OP_CLASSES
#include "LowBit/IR/LowBitOps.h.inc"

namespace mlir {
namespace lowbit {

/// Storage range [min, max] of a quantized element type, or of a plain
/// integer type; std::nullopt for anything else.
std::optional<std::pair<int64_t, int64_t>> getStorageRange(Type elementType);

} // namespace lowbit
} // namespace mlir

#endif // LOWBIT_DIALECT_LOWBIT_IR_LOWBITOPS_H
