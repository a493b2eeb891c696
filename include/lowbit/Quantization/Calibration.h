//===- Calibration.h - Activation ranges from sample data -------*- C++ -*-===//
//
// Part of the lowbit project.
//
//===----------------------------------------------------------------------===//
//
// Runs a float model in the reference evaluator over a calibration set and
// records, for every float tensor, the range that its quantization should
// cover, as a `lowbit.range = array<f64: lo, hi>` attribute on the producing
// op (or argument). `lowbit-insert-qdq` turns the ranges into quant types.
//
//===----------------------------------------------------------------------===//

#ifndef LOWBIT_QUANTIZATION_CALIBRATION_H
#define LOWBIT_QUANTIZATION_CALIBRATION_H

#include "lowbit/Support/HostTensor.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"

#include <vector>

namespace lowbit {

enum class RangeEstimator {
  /// The observed minimum and maximum.
  MinMax,
  /// The given percentile of the values at each end.
  Percentile,
  /// The clipping of the observed range that maximizes the SQNR of the
  /// quantized values (searched on a histogram).
  SQNR,
};

struct CalibrationOptions {
  RangeEstimator estimator = RangeEstimator::MinMax;
  /// For RangeEstimator::Percentile: keep this percentage of values.
  double percentile = 99.99;
  /// Bit width the activations will be quantized to (for SQNR search).
  unsigned bits = 8;
  /// Print samples done / total and rate on stderr (when it is a terminal).
  bool progress = false;
};

/// Name of the range attribute.
inline constexpr llvm::StringLiteral kRangeAttrName = "lowbit.range";

/// Runs `func` over `samples` (each one set of inputs) and annotates every
/// float tensor result and argument with its calibrated range. Errors
/// (evaluation failures) are emitted through the function's context.
mlir::LogicalResult calibrate(mlir::func::FuncOp func,
                              llvm::ArrayRef<std::vector<HostTensor>> samples,
                              const CalibrationOptions &options);

} // namespace lowbit

#endif // LOWBIT_QUANTIZATION_CALIBRATION_H
