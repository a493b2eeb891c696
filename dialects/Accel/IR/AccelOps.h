//===- AccelOps.h - accel instruction ops -----------------------*- C++ -*-===//
//
// Part of the lowbit project.
//
//===----------------------------------------------------------------------===//

#ifndef LOWBIT_DIALECT_ACCEL_IR_ACCELOPS_H
#define LOWBIT_DIALECT_ACCEL_IR_ACCELOPS_H

#include "Accel/IR/AccelDialect.h"

#include "lowbit/accel/Isa.h"

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/IR/SymbolTable.h"

#define GET_OP_CLASSES
#include "Accel/IR/AccelOps.h.inc"

namespace mlir {
namespace accel {

/// The instruction an accel instruction op stands for (fields read by the
/// names Isa.h gives them), or failure for any other op.
FailureOr<::lowbit::accel::Instr> getInstr(Operation *op);

/// Creates the op of instruction `in` at the builder's point; `layer` (may
/// be empty) names the lowbit op it comes from.
Operation *createInstr(OpBuilder &b, Location loc,
                       const ::lowbit::accel::Instr &in, StringRef layer);

/// The whole program as Isa.h's Program (for the binary and the assembly),
/// or failure after an error on `op`.
FailureOr<::lowbit::accel::Program> getProgram(ProgramOp op);

} // namespace accel
} // namespace mlir

#endif // LOWBIT_DIALECT_ACCEL_IR_ACCELOPS_H
