//===- Compile.cpp - lowbitc's compile flow on verified options -----------===//
//
// Part of the lowbit project.
//
//===----------------------------------------------------------------------===//

#include "lowbit/Driver/Options.h"

#include "Common.h"

#include "llvm/Support/FileUtilities.h"
#include "llvm/Support/raw_ostream.h"

#include <optional>

using namespace mlir;
using namespace ::lowbit;
using namespace ::lowbit::driver;

/// Counts the lowbit ops of a module (--fold-prelu's report).
static int64_t countLowBitOps(ModuleOp module) {
  int64_t n = 0;
  module->walk([&](Operation *op) {
    if (op->getDialect() && op->getDialect()->getNamespace() == "lowbit")
      ++n;
  });
  return n;
}

/// Calibration, --bitwidth=auto, quantization and --report, on the samples
/// in `calibrationSpecs`.
static LogicalResult calibrateAndQuantize(ModuleOp module,
                                          const CompileOptions &o,
                                          ArrayRef<std::string> calibrationSpecs,
                                          const BitDepthOptions &bitDepth,
                                          const StageEnv &env) {
  if (failed(calibrateModel(module, calibrationSpecs, o.calibration, env)))
    return failure();
  if (bitDepth.inputBits)
    pinBitDepthInputRange(module, bitDepth, o.quantize.activationBits);
  if (o.bitwidthMode == "auto" &&
      failed(assignBitwidths(module, calibrationSpecs, o.quantize, o.bitwidth,
                             env, llvm::errs())))
    return failure();
  // The report compares the quantized graph with this float one.
  OwningOpRef<ModuleOp> floatModule;
  if (!o.reportFile.empty()) {
    if (failed(tagLayers(module)))
      return failure();
    floatModule = module.clone();
  }
  if (failed(quantizeModel(module, o.quantize, env)))
    return failure();
  if (!floatModule)
    return success();
  ReportOptions report;
  report.htmlPath = o.reportFile;
  return writeReport(*floatModule, module, calibrationSpecs, report, env,
                     llvm::errs());
}

/// Writes or runs the final module.
static LogicalResult emitOrRun(ModuleOp module, const CompileOptions &o,
                               const BitDepthOptions &bitDepth,
                               const StageEnv &env) {
  // The emitted IR records the block loop (the C++ target emits
  // <name>_run_blocks from it, also from a later lowbit-translate).
  if (bitDepth.inputBits)
    attachBitDepth(module, bitDepth);
  if (o.target == TargetKind::Accel) {
    AccelEmit kind = !o.emitGiven || o.emit == EmitKind::AccelBin
                         ? AccelEmit::Binary
                     : o.emit == EmitKind::AccelAsm ? AccelEmit::Assembly
                     : o.emit == EmitKind::None     ? AccelEmit::None
                                                    : AccelEmit::MLIR;
    if (failed(emitAccel(module, o.outputFile, kind, o.accelTarget, o.accelSet,
                         env)))
      return failure();
    if (!o.reportFile.empty())
      return reportAccel(module, o.reportFile, llvm::errs());
    return success();
  }
  if (o.runInputs.empty() && !o.evaluate) {
    switch (o.emit) {
    case EmitKind::AccelBin:
    case EmitKind::AccelAsm: // refused by verify()
    case EmitKind::None:
      return success();
    case EmitKind::Cpp:
      return emitCpp(module, o.outputFile,
                     o.modelName.empty() ? modelNameFromPath(o.import.inputFile)
                                         : o.modelName,
                     llvm::errs(), env);
    case EmitKind::MLIR:
    case EmitKind::Bytecode:
      return emitMLIR(module, o.outputFile, o.emit == EmitKind::Bytecode, env);
    }
  }
  RunOptions run;
  run.inputs = o.runInputs;
  run.outputFile = o.outputFile;
  run.dequantizeResults = o.lowersToInteger();
  if (bitDepth.inputBits)
    return runBitDepth(module, run, bitDepth, env);
  return runEvaluator(module, run, env);
}

LogicalResult driver::compile(MLIRContext &context, const CompileOptions &o,
                              const StageEnv &env) {
  // --- load and clean up ------------------------------------------------
  OwningOpRef<ModuleOp> module = importModel(context, o.import, env);
  if (!module)
    return failure();
  if (!o.passPipeline.empty() &&
      failed(runPassPipeline(*module, o.passPipeline, env)))
    return failure();

  // --- adaptive bit depth control of input blocks ----------------------
  BitDepthOptions bitDepth;
  std::vector<std::string> calibrationSpecs = o.calibrationInputs;
  std::optional<llvm::FileRemover> calibrationBlocks;
  if (o.inputBitDepthGiven) {
    // checkBitDepthModel records the model's channels in the copy.
    bitDepth = o.bitDepth;
    if (failed(checkBitDepthModel(*module, bitDepth)))
      return failure();
    if (!calibrationSpecs.empty()) {
      auto path =
          writeBitDepthCalibration(*module, calibrationSpecs, bitDepth);
      if (failed(path))
        return failure();
      calibrationBlocks.emplace(*path);
      calibrationSpecs = {*path};
    }
  }

  // --- calibrate and quantize -------------------------------------------
  if (!o.calibrationInputs.empty() &&
      failed(calibrateAndQuantize(*module, o, calibrationSpecs, bitDepth, env)))
    return failure();

  // --- lower to integer ops --------------------------------------------
  if (o.lowersToInteger()) {
    LowerToIntegerPipelineOptions lower;
    lower.floatFallback = o.floatFallback;
    // The accelerator runs log and STLQ weights in its shift modes, from
    // the codes: keep every log layer encoded.
    lower.logKernels = o.target == TargetKind::Accel && !o.logKernelsGiven
                           ? std::string("shift")
                           : o.logKernels;
    if (failed(lowerToInteger(*module, lower, env)))
      return failure();
  }
  if (o.foldPRelu) {
    int64_t before = countLowBitOps(*module);
    if (failed(foldPReluRequants(*module, env)))
      return failure();
    llvm::errs() << "lowbitc: lowbit-fold-prelu-requant: " << before
                 << " lowbit ops before, " << countLowBitOps(*module)
                 << " after\n";
  }

  // --- emit or run -------------------------------------------------------
  return emitOrRun(*module, o, bitDepth, env);
}
