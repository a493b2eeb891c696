//===- LogWeights.h - Log and STLQ weight quantization ----------*- C++ -*-===//
//
// Part of the lowbit project.
//
//===----------------------------------------------------------------------===//
//
// What lowbit-insert-qdq (weight-scheme=pow2) and lowbit-legalize-stlq-tiles
// share: choosing the log scale U (the float weights are read in place with
// LowBit/Utils/ConstantReader.h's readFloats), and
// seeing TOSA weights in the integer op's layout (output channel, kernel
// position, input channel) where STLQ tiles are defined. The code rules
// themselves are the runtime's (lowbit/runtime/LogQuant.h).
//
//===----------------------------------------------------------------------===//

#ifndef LOWBIT_DIALECT_LOWBIT_TRANSFORMS_LOGWEIGHTS_H
#define LOWBIT_DIALECT_LOWBIT_TRANSFORMS_LOGWEIGHTS_H

#include "LowBit/Utils/ConstantReader.h"

#include "mlir/IR/BuiltinAttributeInterfaces.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Operation.h"

#include <optional>
#include <vector>

namespace mlir {
namespace lowbit {

/// The scale U of a layer's (or channel's) log codes (`maxAbs` > 0 and
/// finite): the one, among the float32 values max|w| 2^(t/32) for t in
/// [-16, 48] (0.7 to 2.8 times the largest weight), whose nearest one-word
/// codes have the least squared error over `values` (at most 65,536 of
/// them, evenly strided, on large layers; the first minimum wins).
double chooseLogScale(MLIRContext *ctx, ArrayRef<float> values, double maxAbs,
                      unsigned bits);

/// TOSA weights seen as the integer op sees them: OHWI [O, KH, KW, I] with
/// one input channel for a depthwise convolution and no kernel positions
/// for a matmul. `logical[k]` is the flat TOSA index of logical element k
/// (row-major over [O, KH, KW, I]).
struct LogicalWeights {
  int64_t oc = 0, kh = 1, kw = 1, ic = 0;
  std::vector<int64_t> logical;
};

/// For the weights (operand 1) of a tosa.conv2d ([O, KH, KW, I]),
/// tosa.depthwise_conv2d ([KH, KW, C, M]: o = c M + m, i = 0) or
/// tosa.matmul ([1, K, N]: o = n, i = k); std::nullopt for other ops or
/// shapes.
std::optional<LogicalWeights> logicalWeights(Operation *op);

} // namespace lowbit
} // namespace mlir

#endif // LOWBIT_DIALECT_LOWBIT_TRANSFORMS_LOGWEIGHTS_H
