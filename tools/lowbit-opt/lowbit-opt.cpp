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
// MlirOptMain's command line and processing, but lowbit-opt owns the output
// file: MlirOptMain(argc, argv, ...) leaves a failed write (-o /dev/full, a
// full disk) to the stream's destructor, which ends the program with "LLVM
// ERROR: IO failure on output stream"; here it is "cannot write" and exit 1.
//
//===----------------------------------------------------------------------===//

#include "lowbit/Driver/ToolFiles.h"
#include "lowbit/InitAll.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/raw_ostream.h"

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  mlir::DialectRegistry registry;
  lowbit::registerAllDialects(registry);
  lowbit::registerAllPasses();
  auto [inputFile, outputFile] = mlir::registerAndParseCLIOptions(
      argc, argv, "lowbit optimizer driver\n", registry);
  mlir::MlirOptMainConfig config =
      mlir::MlirOptMainConfig::createFromCLOptions();

  if (config.shouldShowDialects()) {
    llvm::outs() << "Available Dialects: ";
    llvm::interleave(registry.getDialectNames(), llvm::outs(), ",");
    llvm::outs() << "\n";
    return 0;
  }
  if (config.shouldListPasses()) {
    mlir::printRegisteredPasses();
    return 0;
  }

  return lowbit::processFiles(
      "lowbit-opt", inputFile, outputFile, /*alignment=*/std::nullopt,
      [&](std::unique_ptr<llvm::MemoryBuffer> input, llvm::raw_ostream &os) {
        return mlir::succeeded(
            mlir::MlirOptMain(os, std::move(input), registry, config));
      });
}
