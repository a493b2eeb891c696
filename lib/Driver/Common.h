//===- Common.h - Helpers of the driver stages ------------------*- C++ -*-===//
//
// Part of the lowbit project.
//
//===----------------------------------------------------------------------===//

#ifndef LIB_DRIVER_COMMON_H
#define LIB_DRIVER_COMMON_H

#include "lowbit/Driver/Driver.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Quant/IR/QuantTypes.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/Location.h"

#include <string>
#include <utility>

namespace lowbit::driver {

/// Emits `msg` as an error about a file or an option (no location in the
/// IR) and returns failure. The message is copied (a Twine).
inline mlir::LogicalResult fail(mlir::MLIRContext *context,
                                const llvm::Twine &msg) {
  mlir::emitError(mlir::UnknownLoc::get(context), msg);
  return mlir::failure();
}

/// Splits "NAME=FILE" (NAME may be empty; without '=' all of it is FILE).
inline std::pair<std::string, std::string> splitBinding(llvm::StringRef arg) {
  auto [name, file] = arg.split('=');
  if (file.empty())
    return {"", arg.str()};
  return {name.str(), file.str()};
}

/// The stages' parent timing scope (a null one when none is given).
inline mlir::TimingScope &rootTiming(const StageEnv &env) {
  static thread_local mlir::TimingScope none;
  return env.timing ? *env.timing : none;
}

/// The function the stages work on: the module's first one with a body.
inline mlir::func::FuncOp firstDefinedFunction(mlir::ModuleOp module) {
  for (auto f : module.getOps<mlir::func::FuncOp>())
    if (!f.isExternal())
      return f;
  return {};
}

/// Stores floats as `q`'s integers with the runtime's rule, as the generated
/// code's float API does (`stored` has the shape and storage kind).
void quantizeFloats(const float *src, mlir::quant::UniformQuantizedType q,
                    HostTensor &stored);

/// Reads `q`'s integers back as floats with the runtime's rule.
void dequantizeInts(const HostTensor &stored,
                    mlir::quant::UniformQuantizedType q, float *dst);

/// A readable name of an op from its location: an ONNX node's name when the
/// importer recorded one, else "file:line" (the node's index).
std::string locationName(mlir::Location loc);

} // namespace lowbit::driver

#endif // LIB_DRIVER_COMMON_H
