//===- ConstantReader.cpp - The values of lowbit constants ----------------===//
//
// Part of the lowbit project.
//
//===----------------------------------------------------------------------===//

#include "LowBit/Utils/ConstantReader.h"

#include "mlir/Dialect/Quant/IR/QuantTypes.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "llvm/ADT/STLExtras.h"

#include <cstring>

using namespace mlir;
using namespace mlir::lowbit;

bool mlir::lowbit::isSignedStorage(Type elementType) {
  if (auto q = dyn_cast<quant::QuantizedType>(elementType))
    return q.isSigned();
  if (auto i = dyn_cast<IntegerType>(elementType))
    return !i.isUnsigned();
  return true;
}

std::vector<int64_t> mlir::lowbit::readStoredIntegers(DenseIntElementsAttr attr,
                                                      bool isSigned) {
  std::vector<int64_t> values;
  const size_t n = static_cast<size_t>(attr.getNumElements());
  values.reserve(n);
  forEachStoredInteger(attr, isSigned, [&](int64_t v) {
    values.push_back(v);
    return true;
  });
  if (attr.isSplat())
    values.resize(n, values.empty() ? 0 : values[0]);
  return values;
}

std::optional<ArrayRef<char>>
mlir::lowbit::resourceBytes(ElementsAttr attr, int64_t count, unsigned bytes) {
  auto res = dyn_cast<DenseResourceElementsAttr>(attr);
  if (!res)
    return std::nullopt;
  AsmResourceBlob *blob = res.getRawHandle().getBlob();
  if (!blob || blob->getData().size() != static_cast<size_t>(count) * bytes)
    return std::nullopt;
  return blob->getData();
}

std::optional<std::vector<int64_t>>
mlir::lowbit::readIntegers(ElementsAttr attr) {
  auto type = cast<ShapedType>(attr.getType());
  auto it = dyn_cast<IntegerType>(type.getElementType());
  if (!it)
    return std::nullopt;
  if (auto dense = dyn_cast<DenseIntElementsAttr>(attr))
    return readStoredIntegers(dense, !it.isUnsigned());
  const unsigned bytes = it.getWidth() / 8;
  if (it.getWidth() % 8 != 0 || bytes == 0 || bytes > 8)
    return std::nullopt;
  auto data = resourceBytes(attr, type.getNumElements(), bytes);
  if (!data)
    return std::nullopt;
  std::vector<int64_t> out(type.getNumElements());
  for (size_t i = 0; i < out.size(); ++i) {
    uint64_t u = 0; // little endian, like the importer's blobs
    std::memcpy(&u, data->data() + i * bytes, bytes);
    if (!it.isUnsigned() && bytes < 8 && (u >> (8 * bytes - 1)) & 1)
      u |= ~uint64_t(0) << (8 * bytes);
    out[i] = static_cast<int64_t>(u);
  }
  return out;
}

std::optional<std::vector<uint8_t>>
mlir::lowbit::readIntegerBytes(ElementsAttr attr, unsigned bytesPerElement) {
  if (auto res = dyn_cast<DenseResourceElementsAttr>(attr)) {
    auto elt = dyn_cast<IntegerType>(res.getType().getElementType());
    AsmResourceBlob *blob = res.getRawHandle().getBlob();
    if (!elt || elt.getWidth() != 8 * bytesPerElement || !blob)
      return std::nullopt;
    ArrayRef<char> raw = blob->getData();
    return std::vector<uint8_t>(raw.begin(), raw.end());
  }
  if (!isa<DenseIntElementsAttr>(attr))
    return std::nullopt;
  std::optional<std::vector<int64_t>> values = readIntegers(attr);
  if (!values)
    return std::nullopt;
  std::vector<uint8_t> bytes;
  bytes.reserve(values->size() * bytesPerElement);
  for (int64_t v : *values) {
    auto raw = static_cast<uint64_t>(v);
    for (unsigned i = 0; i < bytesPerElement; ++i)
      bytes.push_back(static_cast<uint8_t>(raw >> (8 * i)));
  }
  return bytes;
}

std::optional<FloatValues> mlir::lowbit::readFloats(ElementsAttr attr) {
  auto type = cast<ShapedType>(attr.getType());
  if (!type.getElementType().isF32())
    return std::nullopt;
  const size_t n = static_cast<size_t>(type.getNumElements());
  FloatValues out;
  if (auto dense = dyn_cast<DenseElementsAttr>(attr)) {
    if (dense.isSplat()) {
      out.storage.assign(n, dense.getSplatValue<float>());
      out.values = out.storage;
      return out;
    }
    ArrayRef<char> raw = dense.getRawData();
    if (raw.size() != n * sizeof(float))
      return std::nullopt;
    out.values =
        ArrayRef<float>(reinterpret_cast<const float *>(raw.data()), n);
    return out;
  }
  if (auto res = dyn_cast<DenseResourceElementsAttr>(attr)) {
    AsmResourceBlob *blob = res.getRawHandle().getBlob();
    if (!blob || blob->getData().size() != n * sizeof(float))
      return std::nullopt;
    out.values = ArrayRef<float>(
        reinterpret_cast<const float *>(blob->getData().data()), n);
    return out;
  }
  return std::nullopt;
}

int64_t mlir::lowbit::zeroPointOf(Type elementType) {
  if (auto q = dyn_cast<quant::UniformQuantizedType>(elementType))
    return q.getZeroPoint();
  return 0;
}

std::string mlir::lowbit::shapeStr(ArrayRef<int64_t> shape) {
  std::string s;
  for (auto [i, d] : llvm::enumerate(shape))
    s += (i ? "x" : "") +
         (ShapedType::isDynamic(d) ? std::string("?") : std::to_string(d));
  return s;
}

std::string mlir::lowbit::shapeListStr(ArrayRef<int64_t> shape) {
  std::string s = "[";
  for (auto [i, d] : llvm::enumerate(shape)) {
    if (i)
      s += ", ";
    s += ShapedType::isDynamic(d) ? std::string("?") : std::to_string(d);
  }
  return s + "]";
}
