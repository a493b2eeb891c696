//===- Passes.h - lowbit dialect passes -------------------------*- C++ -*-===//
//
// Part of the lowbit project.
//
//===----------------------------------------------------------------------===//

#ifndef LOWBIT_DIALECT_LOWBIT_TRANSFORMS_PASSES_H
#define LOWBIT_DIALECT_LOWBIT_TRANSFORMS_PASSES_H

#include "LowBit/IR/LowBitDialect.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Quant/IR/Quant.h"
#include "mlir/Pass/Pass.h"

namespace mlir {
namespace lowbit {

#define GEN_PASS_DECL
#include "LowBit/Transforms/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "LowBit/Transforms/Passes.h.inc"

} // namespace lowbit
} // namespace mlir

#endif // LOWBIT_DIALECT_LOWBIT_TRANSFORMS_PASSES_H
