//===- ConstantReader.h - The values of lowbit constants --------*- C++ -*-===//
//
// Part of the lowbit project.
//
//===----------------------------------------------------------------------===//
//
// The one place the compiler reads the integers (and f32 values) of a
// constant attribute: dense (any width, splats expanded) and dense_resource
// (the importer's blobs of large initializers, little endian). The lowbit
// ops' verifiers and folders, convert-tosa-to-lowbit,
// convert-lowbit-to-emitc, convert-lowbit-to-accel and the weight
// quantizers all read constants through it, so a stored value means the
// same everywhere. It depends on no lowbit dialect code, so the dialect's
// IR library can use it.
//
//===----------------------------------------------------------------------===//

#ifndef LOWBIT_DIALECT_LOWBIT_UTILS_CONSTANTREADER_H
#define LOWBIT_DIALECT_LOWBIT_UTILS_CONSTANTREADER_H

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinTypes.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace mlir {
namespace lowbit {

/// Whether the stored integers of `elementType` (a quantized or an integer
/// type) are signed; other types count as signed.
bool isSignedStorage(Type elementType);

/// Calls f(v) for the stored integers of `attr` in order, as int64 (sign- or
/// zero-extended according to `isSigned`), until f returns false; a splat
/// calls it once. Reads the attribute's raw bytes (integers of 2 to 64 bits,
/// one to eight bytes each, little endian, the bits above the width ignored,
/// which is APInt's reading of them); other widths go through APInt.
template <typename F>
void forEachStoredInteger(DenseIntElementsAttr attr, bool isSigned, F &&f) {
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

/// The stored integers of `attr`, row-major (a splat expanded), sign- or
/// zero-extended according to `isSigned`.
std::vector<int64_t> readStoredIntegers(DenseIntElementsAttr attr,
                                        bool isSigned);

/// The bytes of a dense_resource constant when they hold `count` elements of
/// `bytes` bytes each; nothing for another attribute, a missing blob or
/// another size.
std::optional<ArrayRef<char>> resourceBytes(ElementsAttr attr, int64_t count,
                                            unsigned bytes);

/// The integers of an integer constant, row-major, sign-extended unless its
/// element type is unsigned: a dense attribute (any width, a splat
/// expanded), or a dense_resource of 8, 16, 32 or 64-bit integers (little
/// endian). Nothing for anything else.
std::optional<std::vector<int64_t>> readIntegers(ElementsAttr attr);

/// The integers of an integer constant as `bytesPerElement` little-endian
/// bytes each (truncated, or extended as readIntegers extends them): what a
/// weight blob stores. A dense_resource whose elements are already
/// `bytesPerElement` bytes wide is its blob as is (its size is the
/// caller's to check). Nothing for anything else.
std::optional<std::vector<uint8_t>> readIntegerBytes(ElementsAttr attr,
                                                     unsigned bytesPerElement);

/// Float values of an f32 constant (dense, splat or dense_resource). Dense
/// and resource data are read in place (`values` points into the attribute,
/// which the context keeps alive); only a splat is expanded into `storage`.
/// Nothing for another element type or attribute.
struct FloatValues {
  ArrayRef<float> values;
  std::vector<float> storage;
};
std::optional<FloatValues> readFloats(ElementsAttr attr);

/// The zero point of a per-tensor quantized element type; 0 for any other
/// type.
int64_t zeroPointOf(Type elementType);

/// A static shape as MLIR writes it in a tensor type: "1x28x28x16" ("?" for
/// a dynamic dimension).
std::string shapeStr(ArrayRef<int64_t> shape);

/// A shape as a list, for diagnostics: "[1, 28, ?, 16]".
std::string shapeListStr(ArrayRef<int64_t> shape);

} // namespace lowbit
} // namespace mlir

#endif // LOWBIT_DIALECT_LOWBIT_UTILS_CONSTANTREADER_H
