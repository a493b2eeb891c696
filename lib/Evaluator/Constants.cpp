//===- Constants.cpp - Constant operands as host tensors ------------------===//
//
// Part of the lowbit project.
//
//===----------------------------------------------------------------------===//
//
// Constants are converted once, when the evaluator is prepared; large ones
// are viewed in place rather than copied.
//
//===----------------------------------------------------------------------===//

#include "EvaluatorImpl.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectResourceBlobManager.h"

#include <cstring>

using namespace mlir;
using namespace ::lowbit;
using namespace ::lowbit::eval_detail;

/// Whether `data` can back a HostTensor::view.
static bool viewable(ArrayRef<char> data) {
  return reinterpret_cast<uintptr_t>(data.data()) % alignof(uint64_t) == 0;
}

/// Converts an ElementsAttr (dense, splat or resource) into a host tensor.
/// Elements the attribute holds as they are stored on the host are viewed
/// in place (attributes and resource blobs outlive the evaluator), not
/// copied.
FailureOr<HostTensor> eval_detail::fromAttr(Location loc, ElementsAttr attr,
                                            ShapedType resultType) {
  auto kind = elemKindOf(resultType.getElementType());
  if (!kind)
    return emitError(loc) << "evaluator: unsupported element type "
                          << resultType.getElementType(),
           failure();
  const int64_t count = numElements(resultType.getShape());
  const size_t bytes = static_cast<size_t>(count) * elemSize(*kind);
  Type storedType = cast<ShapedType>(attr.getType()).getElementType();
  auto subByte = [](Type t) {
    auto it = dyn_cast<IntegerType>(t);
    return it && it.getWidth() < 8 && it.getWidth() > 1 && !it.isUnsigned();
  };
  if (auto dense = dyn_cast<DenseElementsAttr>(attr);
      dense && !dense.isSplat() && !storedType.isInteger(1) &&
      !subByte(storedType) && dense.getRawData().size() == bytes &&
      viewable(dense.getRawData()))
    return HostTensor::view(*kind, resultType.getShape(),
                            dense.getRawData().data());
  if (auto resource = dyn_cast<DenseResourceElementsAttr>(attr))
    if (AsmResourceBlob *blob = resource.getRawHandle().getBlob();
        blob && blob->getData().size() == bytes && viewable(blob->getData()))
      return HostTensor::view(*kind, resultType.getShape(),
                              blob->getData().data());
  HostTensor t(*kind, resultType.getShape());
  if (auto dense = dyn_cast<DenseElementsAttr>(attr)) {
    if (storedType.isInteger(1)) {
      int64_t i = 0;
      for (bool v : dense.getValues<bool>())
        t.setInt(i++, v);
      if (dense.isSplat())
        for (; i < t.numElements(); ++i)
          t.setInt(i, dense.getSplatValue<bool>());
      return t;
    }
    ArrayRef<char> raw = dense.getRawData();
    size_t es = elemSize(*kind);
    if (dense.isSplat()) {
      for (int64_t i = 0; i < t.numElements(); ++i)
        std::memcpy(static_cast<char *>(t.raw()) + i * es, raw.data(), es);
      return t;
    }
    if (raw.size() != t.byteSize())
      return emitError(loc) << "evaluator: constant of " << storedType
                            << " does not match its type",
             failure();
    std::memcpy(t.raw(), raw.data(), raw.size());
    // Sub-byte integers (i2..i7) are stored one per byte without sign
    // extension: extend them here.
    if (auto it = dyn_cast<IntegerType>(storedType);
        it && it.getWidth() < 8 && it.getWidth() > 1 && !it.isUnsigned()) {
      unsigned w = it.getWidth();
      auto *p = t.data<int8_t>();
      for (int64_t i = 0, e = t.numElements(); i < e; ++i)
        p[i] = static_cast<int8_t>(static_cast<int8_t>(p[i] << (8 - w)) >>
                                   (8 - w));
    }
    return t;
  }
  if (auto resource = dyn_cast<DenseResourceElementsAttr>(attr)) {
    AsmResourceBlob *blob = resource.getRawHandle().getBlob();
    if (!blob)
      return emitError(loc)
                 << "evaluator: constant resource '"
                 << resource.getRawHandle().getKey() << "' has no data",
             failure();
    ArrayRef<char> data = blob->getData();
    if (data.size() != t.byteSize())
      return emitError(loc)
                 << "evaluator: constant resource holds " << data.size()
                 << " bytes, expected " << t.byteSize(),
             failure();
    std::memcpy(t.raw(), data.data(), data.size());
    return t;
  }
  return emitError(loc) << "evaluator: unsupported constant attribute",
         failure();
}

LogicalResult Evaluator::Impl::eval(tosa::ConstShapeOp cs) {
  auto attr = cast<DenseIntElementsAttr>(cs.getValues());
  HostTensor t(ElemKind::I64, {attr.getNumElements()});
  int64_t i = 0;
  for (const APInt &v : attr.getValues<APInt>())
    t.setInt(i++, v.getSExtValue());
  set(cs.getResult(), std::move(t));
  return success();
}
