//===- LowBitOps.h - lowbit operations --------------------------*- C++ -*-===//
//
// Part of the lowbit project.
//
//===----------------------------------------------------------------------===//

#ifndef LOWBIT_DIALECT_LOWBIT_IR_LOWBITOPS_H
#define LOWBIT_DIALECT_LOWBIT_IR_LOWBITOPS_H

#include "LowBit/IR/LowBitDialect.h"

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/Dialect/Quant/IR/QuantTypes.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "lowbit/runtime/ShiftKernels.h"

#include <vector>

#define GET_OP_CLASSES
#include "LowBit/IR/LowBitOps.h.inc"

namespace mlir {
namespace lowbit {

/// Storage range [min, max] of a quantized element type, or of a plain
/// integer type; std::nullopt for anything else.
std::optional<std::pair<int64_t, int64_t>> getStorageRange(Type elementType);

/// True when a bilinear lowbit.resize of an input quantized as `in` with
/// steps n_y x n_x keeps its accumulator, |x - zp| n_y n_x, inside int32
/// (the verifier's rule, which the lowering checks before building one).
bool bilinearResizeFitsInt32(quant::UniformQuantizedType in, int64_t ny,
                             int64_t nx);

/// The weights of a lowbit.conv2d / lowbit.fully_connected with a log or
/// STLQ weight_encoding, from its constant codes: the runtime's descriptor,
/// the packed bytes that the shift kernels read (rt::packLogWeights), and
/// the integer each weight stands for (OHWI / OI order), which the
/// multiply-based evaluation uses.
struct PackedLogWeights {
  ::lowbit::rt::LogWeightsDesc desc;
  std::vector<uint8_t> bytes;
  std::vector<int32_t> integers;
};

/// Fails with an error at `op` when its weights are not constant codes that
/// its encoding can hold (a second word in a one-word tile).
FailureOr<PackedLogWeights> getPackedLogWeights(Operation *op);

} // namespace lowbit
} // namespace mlir

#endif // LOWBIT_DIALECT_LOWBIT_IR_LOWBITOPS_H
