//===- lowbitc.cpp - The lowbit compiler driver ---------------------------===//
//
// Part of the lowbit project.
//
//===----------------------------------------------------------------------===//
//
// One-shot driver in the style of iree-compile / onnx-mlir:
//
//   lowbitc model.onnx --emit=mlir -o model.mlir
//   lowbitc model.onnx --run input.npy -o output.npy
//   lowbitc model.mlir --run x=input.npy -o outputs/
//
// The flags are read into lowbit::driver::CompileOptions (CommandLine.cpp),
// whose verify() checks them all before any work, and driver::compile runs
// the stages of lowbit/Driver/Driver.h with the named pipelines of
// lowbit/Pipelines/Pipelines.h, which lowbit-opt runs too. Errors are
// located diagnostics on stderr and a non-zero exit.
//
//===----------------------------------------------------------------------===//

#include "CommandLine.h"

#include "lowbit/Driver/Options.h"
#include "lowbit/InitAll.h"

#include "mlir/IR/AsmState.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Support/Timing.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;
using namespace ::lowbit;
namespace cl = llvm::cl;

namespace {
int fail(const llvm::Twine &msg) {
  llvm::errs() << "lowbitc: error: " << msg << "\n";
  return 1;
}

/// Prints a diagnostic as "file:line:col: error: message" (for ONNX models
/// the line is the node's 1-based position in the graph, the message names
/// the node), or "lowbitc: error: message" when it has no file location. An
/// ONNX file has no text lines to quote, so no source manager here; parsing
/// .mlir installs one of its own.
LogicalResult printDiagnostic(Diagnostic &diag) {
  auto &os = llvm::errs();
  if (auto file = diag.getLocation()->findInstanceOf<FileLineColLoc>()) {
    os << file.getFilename().getValue();
    if (file.getLine() != 0)
      os << ":" << file.getLine() << ":" << file.getColumn();
    os << ": ";
  } else {
    os << "lowbitc: ";
  }
  switch (diag.getSeverity()) {
  case DiagnosticSeverity::Error:
    os << "error: ";
    break;
  case DiagnosticSeverity::Warning:
    os << "warning: ";
    break;
  case DiagnosticSeverity::Note:
    os << "note: ";
    break;
  case DiagnosticSeverity::Remark:
    os << "remark: ";
    break;
  }
  os << diag << "\n";
  for (Diagnostic &note : diag.getNotes())
    os << "  note: " << note << "\n";
  return success();
}
} // namespace

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  // Passes first: --mlir-print-ir-before=<pass> and friends list the passes
  // registered when the pass manager's options are created.
  ::lowbit::registerAllPasses();
  mlir::registerAsmPrinterCLOptions();
  mlir::registerMLIRContextCLOptions();
  mlir::registerPassManagerCLOptions();
  mlir::registerDefaultTimingManagerCLOptions();
  cl::HideUnrelatedOptions({&lowbitc::category()});
  cl::ParseCommandLineOptions(
      argc, argv,
      "lowbitc: the lowbit compiler driver\n\n"
      "Imports an ONNX model (float or Q/DQ) into func + tosa MLIR, writes "
      "it, or runs it in the reference evaluator on .npy inputs.\n\n"
      "Examples:\n"
      "  lowbitc model.onnx --emit=mlir -o model.mlir\n"
      "  lowbitc model.onnx --run input.npy -o output.npy\n"
      "  lowbitc model.onnx --run x=a.npy --run y=b.npy -o outputs/\n"
      "  lowbitc qlinear.onnx --bind-input x_scale=s.npy --run x.npy -o y.npy\n"
      "  lowbitc dynamic.onnx --input-shape x=1x3x224x224 --emit=mlir\n"
      "\nMLIR's standard flags also apply: --mlir-print-ir-after-all, "
      "--mlir-timing, --mlir-print-debuginfo, ... (see --help-hidden).\n");

  driver::CompileOptions options;
  lowbitc::readCommandLine(options);

  DialectRegistry registry;
  ::lowbit::registerAllDialects(registry);
  MLIRContext context(registry);
  context.loadAllAvailableDialects();
  context.getDiagEngine().registerHandler(printDiagnostic);

  DefaultTimingManager tm;
  applyDefaultTimingManagerCLOptions(tm);
  TimingScope timing = tm.getRootScope();

  driver::StageEnv env;
  env.timing = &timing;
  env.inputName = options.import.inputFile;
  env.configurePassManager = [](PassManager &pm) -> LogicalResult {
    if (succeeded(applyPassManagerCLOptions(pm)))
      return success();
    fail("invalid pass manager options");
    return failure();
  };

  if (failed(options.verify(&context)))
    return 1;
  return failed(driver::compile(context, options, env));
}
