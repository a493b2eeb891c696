//===- Cpp.h - The C++ target: model files from integer lowbit IR -*- C++ -*-===//
//
// Part of the lowbit project.
//
//===----------------------------------------------------------------------===//

#ifndef LOWBIT_TARGET_CPP_H
#define LOWBIT_TARGET_CPP_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Support/LLVM.h"

#include <string>

namespace lowbit {

/// Lowers `module` (one integer-only function) through
/// convert-lowbit-to-emitc in place and prints its C++ with MLIR's C++
/// emitter. Errors are emitted as diagnostics.
mlir::LogicalResult translateToModelCpp(mlir::ModuleOp module,
                                        llvm::StringRef name,
                                        llvm::raw_ostream &os);

/// The files of a compiled model, after translateToModelCpp.
struct ModelFiles {
  std::string header, source, assembly, summary;
  std::vector<char> weights;
  int64_t arenaBytes = 0;
};

/// Lowers `module` and returns the model's files: <name>.h, <name>.cpp,
/// <name>_weights.S (which .incbin's <name>.weights.bin), the weights and a
/// per-layer summary.
mlir::FailureOr<ModelFiles> buildModelFiles(mlir::ModuleOp module,
                                            llvm::StringRef name);

/// Writes `files` into `dir` (created if missing). Returns an error message
/// on failure, empty on success.
std::string writeModelFiles(const ModelFiles &files, llvm::StringRef dir,
                            llvm::StringRef name);

/// Registers the `--emit-cpp` translation of lowbit-translate.
void registerToCppTranslation();

} // namespace lowbit

#endif // LOWBIT_TARGET_CPP_H
