//===- Driver.h - The stages of lowbit's compile flow -----------*- C++ -*-===//
//
// Part of the lowbit project.
//
//===----------------------------------------------------------------------===//
//
// lowbitc's compile flow as a library, one function per stage:
//
//   importModel -> [runPassPipeline] -> calibrateModel -> quantizeModel
//               -> lowerToInteger -> emitMLIR | emitCpp | runEvaluator
//
// The pass sequences between the stages are lowbit/Pipelines/Pipelines.h's,
// which lowbit-opt runs by name as well. Every stage reports its errors as
// diagnostics through the module's context (located where there is a
// location: a node of the ONNX model, an op, a function argument; messages
// about files and options have an unknown location) and returns failure.
//
//===----------------------------------------------------------------------===//

#ifndef LOWBIT_DRIVER_DRIVER_H
#define LOWBIT_DRIVER_DRIVER_H

#include "LowBit/Transforms/Bitwidth.h"
#include "lowbit/Pipelines/Pipelines.h"
#include "lowbit/Quantization/Calibration.h"
#include "lowbit/Support/HostTensor.h"
#include "lowbit/runtime/BitDepth.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"
#include "mlir/Support/Timing.h"

#include <functional>
#include <string>
#include <vector>

namespace mlir {
class PassManager;
} // namespace mlir

namespace lowbit::driver {

/// What every stage shares.
struct StageEnv {
  /// Parent of the stages' timers and of their pass managers' timing; a
  /// null scope (the default) times nothing.
  mlir::TimingScope *timing = nullptr;
  /// Called on every pass manager a stage creates, before it runs (lowbitc
  /// applies MLIR's command-line pass manager options with it). It emits
  /// its own error.
  std::function<mlir::LogicalResult(mlir::PassManager &)> configurePassManager;
  /// The input file's name, for messages.
  std::string inputName;
};

struct ImportOptions {
  /// An ONNX model, or MLIR (`.mlir`, `.mlirbc`).
  std::string inputFile;
  /// `NAME=FILE.npy`: graph inputs of an ONNX model bound to constants.
  std::vector<std::string> bindInputs;
  /// `NAME=D0xD1x...`: static shapes of an ONNX model's graph inputs.
  std::vector<std::string> inputShapes;
  /// Run lowbit-import-cleanup-pipeline after ONNX import.
  bool cleanup = true;
};

/// Whether `path` names MLIR (text or bytecode) rather than an ONNX model.
bool isMLIRFile(llvm::StringRef path);

/// Parses MLIR or imports an ONNX model, then cleans an imported model up
/// (lowbit-import-cleanup-pipeline). Null on failure.
mlir::OwningOpRef<mlir::ModuleOp> importModel(mlir::MLIRContext &context,
                                              const ImportOptions &options,
                                              const StageEnv &env);

/// Runs a textual pass pipeline anchored on builtin.module.
mlir::LogicalResult runPassPipeline(mlir::ModuleOp module,
                                    llvm::StringRef pipeline,
                                    const StageEnv &env);

/// Checks the options of calibration and quantization before any work is
/// done, with messages that name lowbitc's flags.
mlir::LogicalResult
verifyQuantizationOptions(mlir::MLIRContext *context,
                          const CalibrationOptions &calibration,
                          const QuantizePipelineOptions &quantize);

/// Calibrates the module's first defined function on `samples`
/// (`[NAME=]FILE.npy`, as --calibration takes them) after
/// lowbit-prepare-calibration-pipeline: records `lowbit.range` attributes.
/// Calibration runs the reference evaluator on data, so it is a stage and
/// not a pass.
mlir::LogicalResult calibrateModel(mlir::ModuleOp module,
                                   llvm::ArrayRef<std::string> samples,
                                   const CalibrationOptions &options,
                                   const StageEnv &env);

/// Inserts Q/DQ from the calibrated ranges (lowbit-quantize-pipeline).
mlir::LogicalResult quantizeModel(mlir::ModuleOp module,
                                  const QuantizePipelineOptions &options,
                                  const StageEnv &env);

/// Lowers a Q/DQ graph to integer lowbit ops
/// (lowbit-lower-to-integer-pipeline).
mlir::LogicalResult lowerToInteger(mlir::ModuleOp module,
                                   const LowerToIntegerPipelineOptions &options,
                                   const StageEnv &env);

/// Folds PReLU ops into the requants before them
/// (lowbit-fold-prelu-pipeline), on integer lowbit IR.
mlir::LogicalResult foldPReluRequants(mlir::ModuleOp module,
                                      const StageEnv &env);

/// Writes the module to `outputFile` ("-" is stdout) as text or bytecode.
mlir::LogicalResult emitMLIR(mlir::ModuleOp module, llvm::StringRef outputFile,
                             bool bytecode, const StageEnv &env);

/// A C identifier from a file's stem (`model.onnx` -> `model`), prefixed
/// with `model_` when it would be empty or start with a digit.
std::string modelNameFromPath(llvm::StringRef path);

/// Writes the integer model's C++ files into the folder `dir` (the C++
/// target, lowbit/Target/Cpp.h) and its per-layer summary to `summary`.
mlir::LogicalResult emitCpp(mlir::ModuleOp module, llvm::StringRef dir,
                            llvm::StringRef name, llvm::raw_ostream &summary,
                            const StageEnv &env);

/// What --target=accel writes.
enum class AccelEmit { Binary, Assembly, MLIR, None };

/// Lowers the integer model to an accelerator program for the target in
/// `targetFile` (empty: the defaults) with the `targetSet` overrides
/// (key=value) and writes its binary, its assembly or the accel MLIR to
/// `outputFile` (lowbit/Target/Accel.h, lowbit/accel/Isa.h), or with None
/// only checks that the model maps onto the target.
mlir::LogicalResult emitAccel(mlir::ModuleOp module, llvm::StringRef outputFile,
                              AccelEmit kind, llvm::StringRef targetFile,
                              llvm::ArrayRef<std::string> targetSet,
                              const StageEnv &env);

/// The accelerator part of --report for a module lowered by emitAccel: the
/// program's simulated cycles (MAC cycles by weight mode and on two-word
/// tiles, DMA, PE utilization), its REQUANT instructions and the dual ones
/// (PReLU folded), and per layer its instructions, MAC and other compute
/// cycles, DMA bytes and the cycle it is done at; as text to `os` and, when
/// `htmlPath` is not empty, as a section of that HTML report.
mlir::LogicalResult reportAccel(mlir::ModuleOp module, llvm::StringRef htmlPath,
                                llvm::raw_ostream &os);

/// Matches `[NAME=]FILE.npy` specs (positional in argument order, or by
/// ONNX name) to `func`'s arguments, checks dtypes and shapes (float data
/// for a quantized argument is quantized with the runtime's rule), and
/// splits a leading dimension that is a multiple of the model's into one
/// input set per run. `flag` names the option in messages. Calibration data
/// must be finite (a warning says when it is all zeros).
mlir::FailureOr<std::vector<std::vector<HostTensor>>>
loadInputSets(mlir::func::FuncOp func, llvm::ArrayRef<std::string> specs,
              llvm::StringRef flag, bool calibration = false);

struct ReportOptions {
  /// Where the HTML report goes; none when empty (the text form only).
  std::string htmlPath;
  /// Calibration samples the SQNR is measured on (the first ones).
  unsigned maxSamples = 32;
};

/// Gives every layer (conv2d, depthwise_conv2d, matmul) of the calibrated
/// float graph a `lowbit.layer` id, so that the float graph and the
/// quantized graph made from it can be compared layer by layer.
mlir::LogicalResult tagLayers(mlir::ModuleOp module);

/// lowbitc --report: runs the float graph (`floatModule`, tagged, before
/// quantization) and the quantized Q/DQ graph (`qdqModule`) in the evaluator
/// on the calibration samples and reports per layer the weights' bits,
/// encoding and bytes, the calibrated activation range and the SQNR of the
/// layer's output against float: as text to `text`, and as a self-contained
/// HTML page with inline SVG plots when options.htmlPath is set.
mlir::LogicalResult writeReport(mlir::ModuleOp floatModule,
                                mlir::ModuleOp qdqModule,
                                llvm::ArrayRef<std::string> samples,
                                const ReportOptions &options,
                                const StageEnv &env, llvm::raw_ostream &text);

struct BitwidthOptions {
  /// Least SQNR (dB) of the network's outputs against the float model.
  double targetSqnr = 30.0;
  /// What lowbit-assign-bitwidth minimizes: bits or bitops.
  std::string cost = "bits";
  /// lowbit-assign-bitwidth's search: exact or greedy.
  std::string search = "exact";
  /// Weight (`w`, `log`) and activation (`a`) candidates; with cost=bits
  /// activations stay at the quantize options' activation-bits.
  std::vector<mlir::lowbit::BitwidthCandidate> candidates;
  /// Measure two widths per kind and fit 10 log10 gamma = kappa bits + c
  /// for the rest, instead of measuring every candidate.
  bool estimate = false;
  /// Calibration samples measured (the first ones).
  unsigned maxSamples = 32;
  /// Assignments tried (the target is tightened after each miss).
  unsigned maxIterations = 8;
};

/// lowbitc --bitwidth=auto, on a calibrated float graph: measures each
/// layer's SQNR table in the evaluator (lowbit.sqnr_table; the network's
/// outputs against the float model's on the calibration samples, one layer
/// quantized at a time), runs lowbit-assign-bitwidth, measures the chosen
/// assignment's output SQNR and tightens the pass's target until the
/// measurement meets options.targetSqnr. Leaves the choice as attributes
/// for quantizeModel (lowbit.weight_bits, ...) and prints it to `text`.
mlir::LogicalResult assignBitwidths(mlir::ModuleOp module,
                                    llvm::ArrayRef<std::string> samples,
                                    const QuantizePipelineOptions &quantize,
                                    const BitwidthOptions &options,
                                    const StageEnv &env,
                                    llvm::raw_ostream &text);

struct RunOptions;

/// lowbitc --input-bit-depth: adaptive bit depth control of N-bit image
/// blocks (lowbit/runtime/BitDepth.h).
struct BitDepthOptions {
  int32_t inputBits = 0; // N; 0: off
  int32_t bits = 8;      // K, the network's input bits
  int32_t block = 16;    // B
  std::string mode = "adaptive"; // adaptive, truncate or none
  bool dither = false;
  uint32_t seed = 0;
  // Set by checkBitDepthModel: channels of the model's input and output.
  int64_t channels = 0, outChannels = 0;

  ::lowbit::rt::BitDepthConfig config() const;
};

/// Checks the options and that the model maps one float [1, C, B, B] block
/// to one [1, C', B, B] block; records C and C'.
mlir::LogicalResult checkBitDepthModel(mlir::ModuleOp module,
                                       BitDepthOptions &options);

/// Cuts the N-bit calibration images (one .npy: [H, W], [C, H, W] or
/// [S, C, H, W] integers) into the network's input blocks as the block loop
/// feeds them and writes them to a temporary .npy; returns its path.
mlir::FailureOr<std::string>
writeBitDepthCalibration(mlir::ModuleOp module,
                         llvm::ArrayRef<std::string> samples,
                         const BitDepthOptions &options);

/// Sets the calibrated range of the model's input (and of the reshapes or
/// transposes that only move it) so that with `activationBits` >= K every
/// K-bit integer of the network's input, x_K / (2^K - 1), is a code exactly:
/// [0, (2^A - 1) / ((2^K - 1) 2^(A - K))] ([0, 1] for A = K or A < K).
void pinBitDepthInputRange(mlir::ModuleOp module,
                           const BitDepthOptions &options,
                           unsigned activationBits);

/// Records the options on the function (kBitDepthAttrName) for the C++
/// target's <name>_run_blocks.
void attachBitDepth(mlir::ModuleOp module, const BitDepthOptions &options);

/// --run with --input-bit-depth: the images of `run.inputs` through the
/// runtime's block loop with the evaluator as the network; writes uint16
/// images in the input's layout.
mlir::LogicalResult runBitDepth(mlir::ModuleOp module, const RunOptions &run,
                                const BitDepthOptions &options,
                                const StageEnv &env);

struct RunOptions {
  /// `[NAME=]FILE.npy`, as --run takes them.
  std::vector<std::string> inputs;
  /// An .npy file, or a folder for a model with several outputs.
  std::string outputFile;
  /// Write quantized results as floats (dequantized with the runtime's
  /// rule, as the generated code's float API does): for a model that the
  /// flow lowered, not for IR that was given quantized.
  bool dequantizeResults = false;
};

/// Runs the module's first defined function in the reference evaluator on
/// every input set and writes the outputs, stacked along the leading
/// dimension.
mlir::LogicalResult runEvaluator(mlir::ModuleOp module,
                                 const RunOptions &options,
                                 const StageEnv &env);

} // namespace lowbit::driver

#endif // LOWBIT_DRIVER_DRIVER_H
