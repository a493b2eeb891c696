//===- Evaluator.h - Reference evaluator for lowbit IR ----------*- C++ -*-===//
//
// Part of the lowbit project.
//
//===----------------------------------------------------------------------===//
//
// Executes a `func.func` of tosa (float and integer), quant casts and lowbit
// ops on host tensors. Heavy ops call the kernels in runtime/ and every
// rescaling calls the runtime's requantization rule, so the evaluator agrees
// with generated code by construction. An observer sees every intermediate
// tensor (for calibration statistics and per-layer error measurements).
//
//===----------------------------------------------------------------------===//

#ifndef LOWBIT_EVALUATOR_EVALUATOR_H
#define LOWBIT_EVALUATOR_EVALUATOR_H

#include "lowbit/Support/HostTensor.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Support/LLVM.h"

#include <memory>
#include <vector>

namespace lowbit {

/// Receives every op result as it is computed.
class EvaluationObserver {
public:
  virtual ~EvaluationObserver();
  virtual void onResult(mlir::Operation *op, unsigned resultIndex,
                        const HostTensor &value) = 0;
};

class Evaluator {
public:
  /// Prepares `func` for repeated runs: checks that every op is supported
  /// (emitting a located error otherwise) and converts constants once.
  static mlir::FailureOr<std::unique_ptr<Evaluator>>
  create(mlir::func::FuncOp func);
  ~Evaluator();

  /// Runs the function. Inputs must match the argument shapes and element
  /// kinds exactly (the caller converts); errors are emitted at the failing
  /// op's location.
  mlir::FailureOr<std::vector<HostTensor>>
  run(llvm::ArrayRef<HostTensor> inputs,
      EvaluationObserver *observer = nullptr);

  mlir::func::FuncOp getFunction() const { return func; }

  /// Another evaluator of the same function that shares this one's
  /// converted constants (no copy of the weights). An evaluator runs one
  /// input set at a time; separate evaluators may run concurrently.
  std::unique_ptr<Evaluator> clone() const;

private:
  explicit Evaluator(mlir::func::FuncOp func);
  struct Impl;
  mlir::func::FuncOp func;
  std::unique_ptr<Impl> impl;
};

} // namespace lowbit

#endif // LOWBIT_EVALUATOR_EVALUATOR_H
