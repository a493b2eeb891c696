//===- Pipelines.h - lowbit's compile flow as pass pipelines ----*- C++ -*-===//
//
// Part of the lowbit project.
//
//===----------------------------------------------------------------------===//
//
// The pass sequences of lowbit's compile flow, defined once: lowbitc builds
// its pass managers with these functions, and registerLowBitPipelines()
// registers the same functions as named pipelines, so that
//
//   lowbit-opt float.mlir --lowbit-import-cleanup-pipeline
//   lowbit-opt float.mlir --lowbit-prepare-calibration-pipeline
//   lowbit-opt calibrated.mlir --lowbit-quantize-pipeline='weight-bits=4'
//   lowbit-opt qdq.mlir --lowbit-lower-to-integer-pipeline
//
// run what lowbitc runs between its stages (as torch-mlir registers its
// compile flow). Calibration is not among them: it runs the evaluator on
// sample data (lowbit/Quantization/Calibration.h,
// lowbit::driver::calibrateModel) and records `lowbit.range` attributes that
// lowbit-quantize-pipeline reads.
//
//===----------------------------------------------------------------------===//

#ifndef LOWBIT_PIPELINES_PIPELINES_H
#define LOWBIT_PIPELINES_PIPELINES_H

#include "mlir/Pass/PassOptions.h"

#include <string>

namespace mlir {
class OpPassManager;
} // namespace mlir

namespace lowbit {

/// Options of lowbit-quantize-pipeline: those of lowbit-insert-qdq that
/// lowbitc exposes (the correlated-rounding constants keep their defaults).
struct QuantizePipelineOptions
    : public mlir::PassPipelineOptions<QuantizePipelineOptions> {
  Option<unsigned> activationBits{*this, "activation-bits",
                                  llvm::cl::desc("Bits of activations (2 to "
                                                 "16)"),
                                  llvm::cl::init(8)};
  Option<unsigned> weightBits{*this, "weight-bits",
                              llvm::cl::desc("Bits of weights (2 to 8)"),
                              llvm::cl::init(8)};
  Option<std::string> weightScheme{
      *this, "weight-scheme",
      llvm::cl::desc("Weight quantizer: symmetric, asymmetric, pow2 (one log "
                     "word) or stlq (lowbit-legalize-stlq-tiles)"),
      llvm::cl::init("symmetric")};
  Option<double> stlqRatio{
      *this, "stlq-ratio",
      llvm::cl::desc("weight-scheme=stlq: fraction of each layer's weights "
                     "that get two words"),
      llvm::cl::init(0.15)};
  Option<int64_t> stlqTileInputs{
      *this, "stlq-tile-inputs",
      llvm::cl::desc("weight-scheme=stlq: Tn, input channels of a tile"),
      llvm::cl::init(16)};
  Option<int64_t> stlqTileOutputs{
      *this, "stlq-tile-outputs",
      llvm::cl::desc("weight-scheme=stlq: Tm, output channels of a tile"),
      llvm::cl::init(16)};
  Option<std::string> stlqGranularity{
      *this, "stlq-granularity",
      llvm::cl::desc("weight-scheme=stlq: two words per tile (default) or "
                     "per filter"),
      llvm::cl::init("tile")};
  Option<bool> perChannel{
      *this, "per-channel",
      llvm::cl::desc("One weight scale per output channel (else per tensor)"),
      llvm::cl::init(true)};
  Option<std::string> weightRounding{
      *this, "weight-rounding",
      llvm::cl::desc("How weights pick their codes: correlated or nearest"),
      llvm::cl::init("correlated")};
  Option<std::string> logScale{
      *this, "log-scale",
      llvm::cl::desc("Scale U of power-of-two weights: mse or max"),
      llvm::cl::init("mse")};
};

/// Options of lowbit-lower-to-integer-pipeline.
struct LowerToIntegerPipelineOptions
    : public mlir::PassPipelineOptions<LowerToIntegerPipelineOptions> {
  Option<bool> floatFallback{
      *this, "float-fallback",
      llvm::cl::desc("Keep ops with no integer form (Softmax's exp and sums, "
                     "sigmoid, ...) in float with a warning, instead of an "
                     "error"),
      llvm::cl::init(true)};
  Option<std::string> logKernels{
      *this, "log-kernels",
      llvm::cl::desc("How log / STLQ layers run (lowbit-lower-log-to-shift "
                     "kernels=): auto (int8 kernels where the weights fit, "
                     "shifts elsewhere) or shift"),
      llvm::cl::init("auto")};
};

/// lowbit-import-cleanup-pipeline, on builtin.module: canonicalize,
/// lowbit-sink-transposes, canonicalize, cse. Folds the importer's constants
/// and cancels the NCHW<->NHWC transposes that meet.
void buildImportCleanupPipeline(mlir::OpPassManager &pm);

/// lowbit-prepare-calibration-pipeline, on builtin.module:
/// func.func(lowbit-input-affine-to-depthwise), canonicalize, cse. Input
/// normalization becomes a layer the integer target runs, before
/// calibration records its output range.
void buildPrepareCalibrationPipeline(mlir::OpPassManager &pm);

/// lowbit-quantize-pipeline, on builtin.module:
/// func.func(lowbit-legalize-stlq-tiles{...}) for weight-scheme=stlq, then
/// func.func(lowbit-insert-qdq{...}). Needs the `lowbit.range` attributes
/// that calibration records.
void buildQuantizePipeline(mlir::OpPassManager &pm,
                           const QuantizePipelineOptions &options);

/// lowbit-lower-to-integer-pipeline, on builtin.module:
/// func.func(convert-tosa-to-lowbit{float-fallback=...}),
/// func.func(lowbit-lower-log-to-shift{kernels=...}), canonicalize, cse.
void buildLowerToIntegerPipeline(mlir::OpPassManager &pm,
                                 const LowerToIntegerPipelineOptions &options);

/// lowbit-fold-prelu-pipeline, on builtin.module:
/// func.func(lowbit-fold-prelu-requant), canonicalize. On integer lowbit IR
/// (lowbitc --fold-prelu runs it after lowbit-lower-to-integer-pipeline).
void buildFoldPReluPipeline(mlir::OpPassManager &pm);

/// Registers the five pipelines above by name (lowbit-opt, and lowbitc's
/// --pass-pipeline).
void registerLowBitPipelines();

} // namespace lowbit

#endif // LOWBIT_PIPELINES_PIPELINES_H
