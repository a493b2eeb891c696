//===- CTypes.cpp - C storage types of tensor elements --------------------===//
//
// Part of the lowbit project.
//
//===----------------------------------------------------------------------===//

#include "EmitterImpl.h"

#include "llvm/Support/Format.h"
#include "llvm/Support/raw_ostream.h"

namespace lowbit {
namespace emitc_target {

/// Storage type of a tensor element type: an integer type for quantized
/// and integer elements, f32 for float32 (float fallback), else null.
Type storageType(Type elt) {
  if (elt.isF32())
    return elt;
  if (auto q = dyn_cast<quant::QuantizedType>(elt))
    return IntegerType::get(elt.getContext(), q.getStorageTypeIntegralWidth(),
                            q.isSigned() ? IntegerType::Signless
                                         : IntegerType::Unsigned);
  auto i = dyn_cast<IntegerType>(elt);
  if (!i)
    return {};
  return IntegerType::get(elt.getContext(), i.getWidth(),
                          i.isUnsigned() ? IntegerType::Unsigned
                                         : IntegerType::Signless);
}

/// C name of a storage type, or "" when the runtime has no kernel for it.
std::string cTypeName(Type storage) {
  if (storage && storage.isF32())
    return "float";
  auto t = dyn_cast_or_null<IntegerType>(storage);
  if (!t)
    return "";
  unsigned w = t.getWidth();
  if (w != 8 && w != 16 && w != 32 && w != 64)
    return "";
  return (t.isUnsigned() ? "uint" : "int") + std::to_string(w) + "_t";
}

/// Bytes of one element of a storage type.
int64_t storageBytes(Type storage) {
  if (storage.isF32())
    return 4;
  return cast<IntegerType>(storage).getWidth() / 8;
}

std::pair<int64_t, int64_t> storageRange(Type elt) {
  if (auto r = lb::getStorageRange(elt))
    return *r;
  return {0, 0};
}

/// A C++ literal that is exactly `v` (hexadecimal floating point).
std::string exactDouble(double v) {
  std::string s;
  llvm::raw_string_ostream os(s);
  os << llvm::format("%a", v);
  return s;
}

/// 8-bit storage of a tensor's element type: 1 signed, 0 unsigned, -1 other.
int eightBitSignedness(Value v) {
  auto st = dyn_cast_or_null<IntegerType>(
      storageType(cast<RankedTensorType>(v.getType()).getElementType()));
  if (!st || st.getWidth() != 8)
    return -1;
  return st.isUnsigned() ? 0 : 1;
}


std::string describeValue(Value v) {
  auto t = cast<RankedTensorType>(v.getType());
  std::string s = shapeStr(t.getShape()) + " ";
  llvm::raw_string_ostream os(s);
  if (auto q = dyn_cast<quant::UniformQuantizedType>(t.getElementType()))
    os << (q.isSigned() ? "i" : "u") << q.getStorageTypeIntegralWidth()
       << " scale " << llvm::format("%.6g", q.getScale()) << " zp "
       << q.getZeroPoint();
  else if (auto p = dyn_cast<quant::UniformQuantizedPerAxisType>(
               t.getElementType()))
    os << (p.isSigned() ? "i" : "u") << p.getStorageTypeIntegralWidth()
       << " [" << p.getStorageTypeMin() << ", " << p.getStorageTypeMax()
       << "] per-channel (" << p.getScales().size() << " scales)";
  else
    os << t.getElementType();
  return s;
}

} // namespace emitc_target
} // namespace lowbit
