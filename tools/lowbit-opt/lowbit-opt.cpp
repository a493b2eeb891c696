//===- lowbit-opt.cpp - lowbit's opt-style pass driver --------------------===//
//
// Part of the lowbit project.
//
//===----------------------------------------------------------------------===//
//
// Parses MLIR with func, arith, tensor, tosa, quant, emitc and lowbit, runs a
// pass pipeline, prints the result. Malformed IR and bad options produce
// located diagnostics and a non-zero exit (MlirOptMain's behaviour).
//
//===----------------------------------------------------------------------===//

#include "lowbit/InitAll.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"

int main(int argc, char **argv) {
  mlir::DialectRegistry registry;
  lowbit::registerAllDialects(registry);
  lowbit::registerAllPasses();
  return mlir::asMainReturnCode(mlir::MlirOptMain(
      argc, argv, "lowbit optimizer driver\n", registry));
}
