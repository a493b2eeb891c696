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

namespace mlir {
namespace lowbit {
namespace detail {

/// Whether two dimension sizes can be equal (either may be dynamic).
inline bool dimsAgree(int64_t a, int64_t b) {
  return ShapedType::isDynamic(a) || ShapedType::isDynamic(b) || a == b;
}

/// A shape as diagnostics print it: "[1, ?, 3]".
std::string shapeStr(ArrayRef<int64_t> shape);

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

/// Whether stored integers of `elementType` (a quantized or integer type)
/// are signed.
inline bool isSignedStorage(Type elementType) {
  if (auto q = dyn_cast<quant::QuantizedType>(elementType))
    return q.isSigned();
  if (auto i = dyn_cast<IntegerType>(elementType))
    return !i.isUnsigned();
  return true;
}

/// Calls f(v) for the stored integers of a constant in order, as int64
/// (sign- or zero-extended according to `isSigned`), until f returns false;
/// a splat calls it once. Reads the attribute's raw bytes (integers of 2 to
/// 64 bits, one to eight bytes each, little endian, the bits above the
/// width ignored); other widths go through APInt.
template <typename F>
void forEachStored(DenseIntElementsAttr attr, bool isSigned, F &&f) {
  unsigned width = attr.getElementType().getIntOrFloatBitWidth();
  if (width < 2 || width > 64) {
    for (const APInt &v : attr.getValues<APInt>())
      if (!f(isSigned ? v.getSExtValue()
                      : static_cast<int64_t>(v.getZExtValue())))
        return;
    return;
  }
  ArrayRef<char> raw = attr.getRawData();
  const size_t bytes = (width + 7) / 8;
  const size_t n = attr.isSplat() ? 1 : raw.size() / bytes;
  const unsigned unused = 64 - width;
  auto extend = [&](uint64_t u) {
    u <<= unused;
    return isSigned ? static_cast<int64_t>(u) >> unused
                    : static_cast<int64_t>(u >> unused);
  };
  if (bytes == 1) {
    const auto *p = reinterpret_cast<const uint8_t *>(raw.data());
    for (size_t i = 0; i < n; ++i)
      if (!f(extend(p[i])))
        return;
    return;
  }
  for (size_t i = 0; i < n; ++i) {
    uint64_t u = 0;
    for (size_t b = 0; b < bytes; ++b) // little endian, like the attribute
      u |= static_cast<uint64_t>(static_cast<uint8_t>(raw[i * bytes + b]))
           << (8 * b);
    if (!f(extend(u)))
      return;
  }
}

} // namespace detail
} // namespace lowbit
} // namespace mlir

#endif // LOWBIT_DIALECT_LOWBIT_IR_LOWBITOPSIMPL_H
