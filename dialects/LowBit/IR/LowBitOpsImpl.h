//===- LowBitOpsImpl.h - helpers shared by the lowbit op files --*- C++ -*-===//
//
// Part of the lowbit project.
//
//===----------------------------------------------------------------------===//
//
// What the files that implement the lowbit ops share: the verification
// helpers (defined in LowBitOps.cpp), the weight operand check (defined in
// LowBitWeightEncoding.cpp) and the reading of stored integers from a
// constant (here, as the verifier of lowbit.constant and the folders both
// use it). Private to dialects/LowBit/IR.
//
//===----------------------------------------------------------------------===//

#ifndef LOWBIT_DIALECT_LOWBIT_IR_LOWBITOPSIMPL_H
#define LOWBIT_DIALECT_LOWBIT_IR_LOWBITOPSIMPL_H

#include "mlir/Dialect/Quant/IR/QuantTypes.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Operation.h"
#include "mlir/Support/LLVM.h"

#include <cstdint>
#include <string>

// The constant reader (readStoredIntegers, forEachStoredInteger,
// isSignedStorage) and shapeListStr are the compiler's one definition.
#include "LowBit/Utils/ConstantReader.h"

namespace mlir {
namespace lowbit {
namespace detail {

/// Whether two dimension sizes can be equal (either may be dynamic).
inline bool dimsAgree(int64_t a, int64_t b) {
  return ShapedType::isDynamic(a) || ShapedType::isDynamic(b) || a == b;
}

/// Checks that a quantized element type is usable on a tensor of `shape`:
/// storage width, per-axis dimension and size, sub-channel blocks.
LogicalResult verifyQuantizedTensor(Operation *op, StringRef what,
                                    RankedTensorType type);

/// A per-tensor !quant.uniform element type, as activations must have.
FailureOr<quant::UniformQuantizedType>
getActivationType(Operation *op, StringRef what, Type type);

/// Verifies the weight operand of conv2d / fully_connected and returns its
/// logical shape ([O, KH, KW, I] or [O, I]): uniform symmetric quantized
/// weights, or log / STLQ codes described by `encoding`.
FailureOr<SmallVector<int64_t>>
verifyWeights(Operation *op, RankedTensorType weight, Attribute encoding,
              int64_t logicalRank, Type expressedType);

} // namespace detail
} // namespace lowbit
} // namespace mlir

#endif // LOWBIT_DIALECT_LOWBIT_IR_LOWBITOPSIMPL_H
