//===- Options.h - lowbitc's options and its whole compile flow -*- C++ -*-===//
//
// Part of the lowbit project.
//
//===----------------------------------------------------------------------===//
//
// Everything lowbitc is asked to do, as plain values. The tool's command
// line fills a CompileOptions (tools/lowbitc/CommandLine.cpp), verify()
// checks every value and combination before any work is done, and compile()
// runs the stages of lowbit/Driver/Driver.h in order. Like IREE's per-stage
// option structs, the checks live with the options, not in the tool.
//
//===----------------------------------------------------------------------===//

#ifndef LOWBIT_DRIVER_OPTIONS_H
#define LOWBIT_DRIVER_OPTIONS_H

#include "lowbit/Driver/Driver.h"

#include <string>
#include <vector>

namespace lowbit::driver {

/// What to write to -o when not running.
enum class EmitKind { MLIR, Bytecode, Cpp, AccelBin, AccelAsm, None };
/// What the integer model is compiled for.
enum class TargetKind { Cpu, Accel };
/// How far to lower a quantized model.
enum class CompileTo { Auto, QDQ, Integer };

struct CompileOptions {
  // --- input, output, what to do -----------------------------------------
  std::string inputFile;
  std::string outputFile = "-";
  EmitKind emit = EmitKind::MLIR;
  bool emitGiven = false;
  TargetKind target = TargetKind::Cpu;
  std::string accelTarget;
  bool accelTargetGiven = false;
  std::vector<std::string> accelSet;
  std::vector<std::string> runInputs;
  bool evaluate = false;
  std::vector<std::string> bindInputs;
  std::vector<std::string> inputShapes;
  std::string passPipeline;
  bool noCleanup = false;
  std::string modelName;
  CompileTo compileTo = CompileTo::Auto;
  bool floatFallback = true;
  std::string logKernels = "auto";
  bool logKernelsGiven = false;
  bool foldPRelu = false;
  std::string reportFile;

  // --- calibration and quantization ----------------------------------------
  std::vector<std::string> calibrationInputs;
  RangeEstimator rangeEstimator = RangeEstimator::MinMax;
  double percentile = 99.99;
  unsigned activationBits = 8;
  unsigned weightBits = 8;
  std::string weightScheme = "symmetric";
  double stlqRatio = 0.15;
  std::string stlqTile = "16x16";
  std::string stlqGranularity = "tile";
  /// Any of --stlq-ratio, --stlq-tile, --stlq-granularity given.
  bool stlqOptionsGiven = false;
  std::string weightRounding = "correlated";
  std::string logScale = "mse";
  bool perTensorWeights = false;

  // --- per-layer bit widths (--bitwidth=auto) ------------------------------
  std::string bitwidth = "fixed";
  bool bitwidthGiven = false;
  double targetSqnr = 30.0;
  std::string cost = "bits";
  std::vector<std::string> bitwidthCandidates;
  std::string bitwidthSearch = "exact";
  unsigned bitwidthSamples = 32;
  bool bitwidthEstimate = false;
  /// Any of --target-sqnr, --cost, --bitwidth-candidates,
  /// --bitwidth-samples, --bitwidth-search, --bitwidth-estimate given.
  bool bitwidthAutoOptionsGiven = false;

  // --- adaptive bit depth control (--input-bit-depth) ----------------------
  int inputBitDepth = 0;
  bool inputBitDepthGiven = false;
  int abcBlock = 16;
  int abcBits = 8;
  std::string abcMode = "adaptive";
  bool abcDither = false;
  unsigned abcSeed = 0;
  /// Any of --abc, --abc-block, --abc-bits, --abc-dither, --abc-seed given.
  bool abcOptionsGiven = false;

  // --- resolved by verify() -------------------------------------------------
  int64_t stlqTileInputs = 16, stlqTileOutputs = 16;
  std::vector<mlir::lowbit::BitwidthCandidate> candidates;

  /// Checks every option value and combination, with messages that name
  /// lowbitc's flags (diagnostics without a location through `context`),
  /// and resolves the fields above (the STLQ tile, the bit-width
  /// candidates). Failure when any is wrong: nothing has been done yet.
  mlir::LogicalResult verify(mlir::MLIRContext *context);

  /// The calibration and lowbit-quantize-pipeline options these values
  /// make (after verify(), which resolves the STLQ tile).
  void quantizationOptions(CalibrationOptions &calibration,
                           QuantizePipelineOptions &quantize) const;

  /// Whether the flow lowers the model to integer ops.
  bool lowersToInteger() const {
    return compileTo == CompileTo::Integer ||
           (compileTo == CompileTo::Auto &&
            (!calibrationInputs.empty() || emit == EmitKind::Cpp ||
             target == TargetKind::Accel));
  }
};

/// Runs lowbitc on verified options: import, [--pass-pipeline], [adaptive
/// bit depth blocks], [calibrate, bit widths, quantize, report], [lower to
/// integer ops], [fold PReLU], then emit (MLIR, C++, an accelerator program)
/// or run in the evaluator. Errors are diagnostics through `context`.
mlir::LogicalResult compile(mlir::MLIRContext &context,
                            const CompileOptions &options,
                            const StageEnv &env);

} // namespace lowbit::driver

#endif // LOWBIT_DRIVER_OPTIONS_H
