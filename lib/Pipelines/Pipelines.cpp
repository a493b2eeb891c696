//===- Pipelines.cpp - lowbit's compile flow as pass pipelines ------------===//
//
// Part of the lowbit project.
//
//===----------------------------------------------------------------------===//

#include "lowbit/Pipelines/Pipelines.h"

#include "LowBit/Transforms/Passes.h"
#include "lowbit/Conversion/Passes.h"
#include "lowbit/Transforms/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"

using namespace mlir;
using namespace ::lowbit;

void ::lowbit::buildImportCleanupPipeline(OpPassManager &pm) {
  pm.addPass(createCanonicalizerPass());
  pm.addPass(::lowbit::createLowBitSinkTransposes());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
}

void ::lowbit::buildPrepareCalibrationPipeline(OpPassManager &pm) {
  pm.addNestedPass<func::FuncOp>(
      ::lowbit::createLowBitInputAffineToDepthwise());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
}

/// The weight options that lowbit-legalize-stlq-tiles and lowbit-insert-qdq
/// both take from the pipeline's.
template <typename PassOptions>
static void setWeightOptions(PassOptions &pass,
                             const QuantizePipelineOptions &options) {
  pass.perChannel = options.perChannel;
  pass.weightRounding = options.weightRounding;
  pass.logScale = options.logScale;
}

void ::lowbit::buildQuantizePipeline(OpPassManager &pm,
                                     const QuantizePipelineOptions &options) {
  if (options.weightScheme == "stlq") {
    mlir::lowbit::LowBitLegalizeSTLQTilesOptions stlq;
    stlq.bits = options.weightBits;
    stlq.ratio = options.stlqRatio;
    stlq.tileInputs = options.stlqTileInputs;
    stlq.tileOutputs = options.stlqTileOutputs;
    stlq.granularity = options.stlqGranularity;
    setWeightOptions(stlq, options);
    pm.addNestedPass<func::FuncOp>(
        mlir::lowbit::createLowBitLegalizeSTLQTiles(stlq));
  }
  mlir::lowbit::LowBitInsertQDQOptions qdq;
  qdq.activationBits = options.activationBits;
  qdq.weightBits = options.weightBits;
  // Every weight is quantized by lowbit-legalize-stlq-tiles already.
  qdq.weightScheme = options.weightScheme == "stlq"
                         ? std::string("symmetric")
                         : std::string(options.weightScheme);
  setWeightOptions(qdq, options);
  pm.addNestedPass<func::FuncOp>(mlir::lowbit::createLowBitInsertQDQ(qdq));
}

void ::lowbit::buildLowerToIntegerPipeline(
    OpPassManager &pm, const LowerToIntegerPipelineOptions &options) {
  ::lowbit::ConvertTosaToLowBitOptions lower;
  lower.floatFallback = options.floatFallback;
  pm.addNestedPass<func::FuncOp>(::lowbit::createConvertTosaToLowBit(lower));
  mlir::lowbit::LowBitLowerLogToShiftOptions shift;
  shift.kernels = options.logKernels;
  pm.addNestedPass<func::FuncOp>(
      mlir::lowbit::createLowBitLowerLogToShift(shift));
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
}

void ::lowbit::buildFoldPReluPipeline(OpPassManager &pm) {
  pm.addNestedPass<func::FuncOp>(mlir::lowbit::createLowBitFoldPReluRequant());
  pm.addPass(createCanonicalizerPass());
}

void ::lowbit::registerLowBitPipelines() {
  // MLIR refuses a pipeline name registered twice; callers may not know
  // whether another has registered them.
  static bool registered = false;
  if (registered)
    return;
  registered = true;
  PassPipelineRegistration<>(
      "lowbit-import-cleanup-pipeline",
      "lowbitc's clean-up after ONNX import: canonicalize, "
      "lowbit-sink-transposes, canonicalize, cse",
      buildImportCleanupPipeline);
  PassPipelineRegistration<>(
      "lowbit-prepare-calibration-pipeline",
      "lowbitc's step before calibration: "
      "func.func(lowbit-input-affine-to-depthwise), canonicalize, cse",
      buildPrepareCalibrationPipeline);
  PassPipelineRegistration<QuantizePipelineOptions>(
      "lowbit-quantize-pipeline",
      "lowbitc's quantization of a calibrated float graph (lowbit.range "
      "attributes): func.func(lowbit-legalize-stlq-tiles) for "
      "weight-scheme=stlq, func.func(lowbit-insert-qdq)",
      buildQuantizePipeline);
  PassPipelineRegistration<LowerToIntegerPipelineOptions>(
      "lowbit-lower-to-integer-pipeline",
      "lowbitc's lowering of a Q/DQ graph to integer lowbit ops: "
      "func.func(convert-tosa-to-lowbit), "
      "func.func(lowbit-lower-log-to-shift), canonicalize, cse",
      buildLowerToIntegerPipeline);
  PassPipelineRegistration<>(
      "lowbit-fold-prelu-pipeline",
      "lowbitc --fold-prelu on integer lowbit IR: "
      "func.func(lowbit-fold-prelu-requant), canonicalize",
      buildFoldPReluPipeline);
}
