//===- SingleFunction.h - The one function a conversion lowers -*- C++ -*-===//
//
// Part of the lowbit project.
//
//===----------------------------------------------------------------------===//

#ifndef LIB_CONVERSION_SINGLEFUNCTION_H
#define LIB_CONVERSION_SINGLEFUNCTION_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"

namespace lowbit {

/// The module's one function with a body, or failure after an error on the
/// module naming `pass` and how many there are.
inline mlir::FailureOr<mlir::func::FuncOp>
getSingleFunction(mlir::ModuleOp module, llvm::StringRef pass) {
  mlir::func::FuncOp found;
  unsigned count = 0;
  for (auto f : module.getOps<mlir::func::FuncOp>())
    if (!f.isExternal()) {
      found = f;
      ++count;
    }
  if (count != 1)
    return module.emitError() << pass
                              << ": expected one function to convert, found "
                              << count,
           mlir::failure();
  return found;
}

/// Runs `lower(func)` on the module's one function with a body (what
/// convert-lowbit-to-emitc and convert-lowbit-to-accel both do once their
/// options are checked); failure when there is no such single function or
/// the lowering fails.
template <typename Lower>
mlir::LogicalResult lowerSingleFunction(mlir::ModuleOp module,
                                        llvm::StringRef pass, Lower &&lower) {
  mlir::FailureOr<mlir::func::FuncOp> func = getSingleFunction(module, pass);
  if (mlir::failed(func))
    return mlir::failure();
  return lower(*func);
}

} // namespace lowbit

#endif // LIB_CONVERSION_SINGLEFUNCTION_H
