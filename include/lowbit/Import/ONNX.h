//===- ONNX.h - ONNX model importer -----------------------------*- C++ -*-===//
//
// Part of the lowbit project.
//
//===----------------------------------------------------------------------===//
//
// Imports an ONNX ModelProto (opsets 7 to 21) into a `func.func` of upstream
// TOSA ops on float tensors. Quantization found in the model (QuantizeLinear
// / DequantizeLinear pairs, QLinear* and *Integer ops) is kept as `quant`
// casts, integer TOSA ops and `lowbit.requant`, so scales learned elsewhere
// survive import.
//
//===----------------------------------------------------------------------===//

#ifndef LOWBIT_IMPORT_ONNX_H
#define LOWBIT_IMPORT_ONNX_H

#include "lowbit/Support/HostTensor.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"

#include <map>
#include <string>
#include <vector>

namespace lowbit {

struct ONNXImportOptions {
  /// Graph inputs to treat as constants (name -> value): for operands that
  /// must be known at compile time, such as quantization scales, when a model
  /// passes them as inputs.
  std::map<std::string, HostTensor> boundInputs;
  /// Full shapes of graph inputs (name -> dimensions), as lowbitc's
  /// --input-shape gives them: they fix symbolic dimensions and must agree
  /// with the model's static ones. A graph input not listed here gets 1 for
  /// a symbolic leading (batch) dimension, with a note; any other symbolic
  /// dimension is an error.
  std::map<std::string, std::vector<int64_t>> inputShapes;
  /// Name of the generated function; the graph's name when empty.
  std::string functionName = "main";
};

/// Imports the model at `path`. On failure, diagnostics naming the file and
/// the node (name, op type, opset) have been emitted through `context`'s
/// diagnostic engine and a null module is returned.
mlir::OwningOpRef<mlir::ModuleOp>
importONNXFile(llvm::StringRef path, mlir::MLIRContext &context,
               const ONNXImportOptions &options = {});

} // namespace lowbit

#endif // LOWBIT_IMPORT_ONNX_H
