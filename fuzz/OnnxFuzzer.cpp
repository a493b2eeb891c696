//===- OnnxFuzzer.cpp - libFuzzer target: the ONNX importer ----------------===//
//
// Part of the lowbit project.
//
//===----------------------------------------------------------------------===//
//
// lowbit::importONNXFile on arbitrary bytes: a diagnostic and no module, or
// a module that verifies; never a crash, an abort or a hang.
//
//===----------------------------------------------------------------------===//

#include "FuzzFile.h"

#include "lowbit/Import/ONNX.h"

#include "mlir/IR/Verifier.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const std::string path = lowbit::fuzz::writeInput(data, size, ".onnx");
  lowbit::fuzz::QuietContext q;
  mlir::MLIRContext &context = q.context;
  auto module = lowbit::importONNXFile(path, context);
  if (module && mlir::failed(mlir::verify(*module)))
    __builtin_trap(); // the importer produced invalid IR
  return 0;
}
