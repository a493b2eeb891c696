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

/// The values are held in the stages' own option structs (ImportOptions,
/// CalibrationOptions, QuantizePipelineOptions, BitwidthOptions,
/// BitDepthOptions), filled once from the command line and passed to the
/// stages as they are. QuantizePipelineOptions is a pass pipeline's options
/// and cannot be copied, so neither can CompileOptions.
struct CompileOptions {
  // --- input, output, what to do -----------------------------------------
  /// The input file, --bind-input, --input-shape, --no-cleanup.
  ImportOptions import;
  std::string outputFile = "-";
  EmitKind emit = EmitKind::MLIR;
  bool emitGiven = false;
  TargetKind target = TargetKind::Cpu;
  std::string accelTarget;
  bool accelTargetGiven = false;
  std::vector<std::string> accelSet;
  std::vector<std::string> runInputs;
  bool evaluate = false;
  std::string passPipeline;
  std::string modelName;
  CompileTo compileTo = CompileTo::Auto;
  bool floatFallback = true;
  std::string logKernels = "auto";
  bool logKernelsGiven = false;
  bool foldPRelu = false;
  std::string reportFile;

  // --- calibration and quantization ----------------------------------------
  std::vector<std::string> calibrationInputs;
  /// --range-estimator, --percentile (its bits are resolved by verify()
  /// from quantize's activation bits).
  CalibrationOptions calibration;
  /// --activation-bits, --weight-bits, --weight-scheme, --stlq-ratio,
  /// --stlq-granularity, --weight-rounding, --log-scale,
  /// --per-tensor-weights (the STLQ tile is resolved by verify() from
  /// stlqTile).
  QuantizePipelineOptions quantize;
  std::string stlqTile = "16x16";
  /// Any of --stlq-ratio, --stlq-tile, --stlq-granularity given.
  bool stlqOptionsGiven = false;

  // --- per-layer bit widths (--bitwidth=auto) ------------------------------
  /// --bitwidth: fixed or auto.
  std::string bitwidthMode = "fixed";
  bool bitwidthGiven = false;
  /// --target-sqnr, --cost, --bitwidth-search, --bitwidth-samples,
  /// --bitwidth-estimate (the candidates are resolved by verify() from
  /// bitwidthCandidates).
  BitwidthOptions bitwidth;
  std::vector<std::string> bitwidthCandidates;
  /// Any of --target-sqnr, --cost, --bitwidth-candidates,
  /// --bitwidth-samples, --bitwidth-search, --bitwidth-estimate given.
  bool bitwidthAutoOptionsGiven = false;

  // --- adaptive bit depth control (--input-bit-depth) ----------------------
  /// --input-bit-depth, --abc, --abc-block, --abc-bits, --abc-dither,
  /// --abc-seed.
  BitDepthOptions bitDepth;
  bool inputBitDepthGiven = false;
  /// Any of --abc, --abc-block, --abc-bits, --abc-dither, --abc-seed given.
  bool abcOptionsGiven = false;

  CompileOptions() = default;
  CompileOptions(const CompileOptions &) = delete;
  CompileOptions &operator=(const CompileOptions &) = delete;

  /// Checks every option value and combination, with messages that name
  /// lowbitc's flags (diagnostics without a location through `context`),
  /// and resolves what depends on other values (the calibration's bits, the
  /// STLQ tile, the bit-width candidates). Failure when any is wrong:
  /// nothing has been done yet.
  mlir::LogicalResult verify(mlir::MLIRContext *context);

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
