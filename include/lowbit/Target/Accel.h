//===- Accel.h - The accelerator binary and assembly targets ----*- C++ -*-===//
//
// Part of the lowbit project.
//
//===----------------------------------------------------------------------===//

#ifndef LOWBIT_TARGET_ACCEL_H
#define LOWBIT_TARGET_ACCEL_H

#include "lowbit/accel/Isa.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Support/LLVM.h"

#include <string>
#include <vector>

namespace lowbit {

/// The module's accelerator program. A module that still holds an integer
/// lowbit function is first lowered with convert-lowbit-to-accel for the
/// target in `targetFile` (may be empty: the defaults) with the `targetSet`
/// overrides (key=value each).
mlir::FailureOr<accel::Program>
buildAccelProgram(mlir::ModuleOp module, llvm::StringRef targetFile,
                  llvm::ArrayRef<std::string> targetSet);

/// Registers lowbit-translate's --emit-accel-bin and --emit-accel-asm.
void registerToAccelTranslations();

} // namespace lowbit

#endif // LOWBIT_TARGET_ACCEL_H
