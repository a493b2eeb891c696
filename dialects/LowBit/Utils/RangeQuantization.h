//===- RangeQuantization.h - A quantized type from a real range -*- C++ -*-===//
//
// Part of the lowbit project.
//
//===----------------------------------------------------------------------===//
//
// The one rule that turns a real range [lo, hi] into an asymmetric
// per-tensor quantized type: lowbit-insert-qdq uses it for every calibrated
// activation, and convert-tosa-to-lowbit for constants that take the place
// of an activation (a position embedding added to one).
//
//===----------------------------------------------------------------------===//

#ifndef LOWBIT_DIALECT_LOWBIT_UTILS_RANGEQUANTIZATION_H
#define LOWBIT_DIALECT_LOWBIT_UTILS_RANGEQUANTIZATION_H

#include "mlir/Dialect/Quant/IR/QuantTypes.h"

namespace mlir {
namespace lowbit {

/// The signed `bits`-bit type whose range covers [min(lo, 0), max(hi, 0)]
/// (zero exactly representable): scale (hi - lo) / (2^bits - 1) rounded to
/// float32 (1 for an empty range), zero point qmin + round(-lo / scale)
/// clamped to the storage range.
quant::UniformQuantizedType rangeQuantizedType(MLIRContext *ctx, unsigned bits,
                                               double lo, double hi,
                                               Type expressed);

} // namespace lowbit
} // namespace mlir

#endif // LOWBIT_DIALECT_LOWBIT_UTILS_RANGEQUANTIZATION_H
