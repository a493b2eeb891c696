//===- HostTensor.cpp - A dense tensor in host memory ---------------------===//
//
// Part of the lowbit project.
//
//===----------------------------------------------------------------------===//

#include "lowbit/Support/HostTensor.h"

#include "mlir/Dialect/Quant/IR/QuantTypes.h"
#include "mlir/IR/BuiltinTypes.h"

#include <cassert>
#include <cmath>

using namespace lowbit;

size_t lowbit::elemSize(ElemKind kind) {
  switch (kind) {
  case ElemKind::I1:
  case ElemKind::I8:
  case ElemKind::U8:
    return 1;
  case ElemKind::I16:
  case ElemKind::U16:
    return 2;
  case ElemKind::F32:
  case ElemKind::I32:
  case ElemKind::U32:
    return 4;
  case ElemKind::F64:
  case ElemKind::I64:
    return 8;
  }
  return 1;
}

llvm::StringRef lowbit::elemName(ElemKind kind) {
  switch (kind) {
  case ElemKind::F32: return "f32";
  case ElemKind::F64: return "f64";
  case ElemKind::I1: return "i1";
  case ElemKind::I8: return "i8";
  case ElemKind::U8: return "ui8";
  case ElemKind::I16: return "i16";
  case ElemKind::U16: return "ui16";
  case ElemKind::I32: return "i32";
  case ElemKind::U32: return "ui32";
  case ElemKind::I64: return "i64";
  }
  return "?";
}

llvm::StringRef lowbit::numpyName(ElemKind kind) {
  switch (kind) {
  case ElemKind::F32: return "float32";
  case ElemKind::F64: return "float64";
  case ElemKind::I1: return "bool";
  case ElemKind::I8: return "int8";
  case ElemKind::U8: return "uint8";
  case ElemKind::I16: return "int16";
  case ElemKind::U16: return "uint16";
  case ElemKind::I32: return "int32";
  case ElemKind::U32: return "uint32";
  case ElemKind::I64: return "int64";
  }
  return "?";
}

bool lowbit::isFloatKind(ElemKind kind) {
  return kind == ElemKind::F32 || kind == ElemKind::F64;
}

bool lowbit::isSignedIntKind(ElemKind kind) {
  return kind == ElemKind::I8 || kind == ElemKind::I16 ||
         kind == ElemKind::I32 || kind == ElemKind::I64;
}

std::optional<ElemKind> lowbit::elemKindOf(mlir::Type type) {
  if (auto q = llvm::dyn_cast<mlir::quant::QuantizedType>(type))
    type = q.getStorageType().isUnsignedInteger() || !q.isSigned()
               ? mlir::IntegerType::get(type.getContext(),
                                        q.getStorageTypeIntegralWidth(),
                                        mlir::IntegerType::Unsigned)
               : q.getStorageType();
  if (type.isF32())
    return ElemKind::F32;
  if (type.isF64())
    return ElemKind::F64;
  auto i = llvm::dyn_cast<mlir::IntegerType>(type);
  if (!i)
    return std::nullopt;
  unsigned w = i.getWidth();
  bool u = i.isUnsigned();
  if (w == 1)
    return ElemKind::I1;
  // Sub-byte quantized storage (i2..i7) lives in bytes.
  if (w <= 8)
    return u ? ElemKind::U8 : ElemKind::I8;
  if (w <= 16)
    return u ? ElemKind::U16 : ElemKind::I16;
  if (w <= 32)
    return u ? ElemKind::U32 : ElemKind::I32;
  if (w <= 64 && !u)
    return ElemKind::I64;
  return std::nullopt;
}

mlir::Type lowbit::mlirTypeOf(ElemKind kind, mlir::MLIRContext *ctx) {
  using mlir::IntegerType;
  switch (kind) {
  case ElemKind::F32: return mlir::Float32Type::get(ctx);
  case ElemKind::F64: return mlir::Float64Type::get(ctx);
  case ElemKind::I1: return IntegerType::get(ctx, 1);
  case ElemKind::I8: return IntegerType::get(ctx, 8);
  case ElemKind::U8: return IntegerType::get(ctx, 8, IntegerType::Unsigned);
  case ElemKind::I16: return IntegerType::get(ctx, 16);
  case ElemKind::U16: return IntegerType::get(ctx, 16, IntegerType::Unsigned);
  case ElemKind::I32: return IntegerType::get(ctx, 32);
  case ElemKind::U32: return IntegerType::get(ctx, 32, IntegerType::Unsigned);
  case ElemKind::I64: return IntegerType::get(ctx, 64);
  }
  return {};
}

int64_t lowbit::numElements(llvm::ArrayRef<int64_t> shape) {
  // A zero dimension first: the running product of the others may not fit
  // (callers check shapes with checkedNumElements; this must not overflow
  // on one they let through because it is empty).
  if (llvm::is_contained(shape, 0))
    return 0;
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

std::optional<int64_t>
lowbit::checkedNumElements(llvm::ArrayRef<int64_t> shape) {
  int64_t n = 1;
  for (int64_t d : shape)
    if (d < 0 || __builtin_mul_overflow(n, d, &n))
      return std::nullopt;
  return n;
}

std::string lowbit::tensorSizeError(ElemKind kind,
                                    llvm::ArrayRef<int64_t> shape) {
  std::optional<int64_t> n = checkedNumElements(shape);
  if (!n)
    return "shape " + shapeToString(shape) +
           " has more elements than a 64-bit count holds";
  uint64_t bytes = static_cast<uint64_t>(*n) * elemSize(kind);
  if (static_cast<uint64_t>(*n) > kMaxTensorBytes || bytes > kMaxTensorBytes)
    return "shape " + shapeToString(shape) + " of " + numpyName(kind).str() +
           " (" + std::to_string(*n) + " elements, " + std::to_string(bytes) +
           " bytes) is larger than lowbit's limit of 2 GiB for one tensor";
  return "";
}

std::string lowbit::shapeToString(llvm::ArrayRef<int64_t> shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i)
      s += ", ";
    // A negative extent is a dynamic one (MLIR's kDynamic).
    s += shape[i] < 0 ? std::string("?") : std::to_string(shape[i]);
  }
  return s + "]";
}

HostTensor::HostTensor(ElemKind kind, llvm::ArrayRef<int64_t> shape)
    : kind_(kind), shape_(shape.begin(), shape.end()) {
  size_t bytes = static_cast<size_t>(lowbit::numElements(shape)) * elemSize(kind);
  storage_.assign((bytes + 7) / 8, 0);
}

HostTensor HostTensor::view(ElemKind kind, llvm::ArrayRef<int64_t> shape,
                            const void *data) {
  assert(reinterpret_cast<uintptr_t>(data) % alignof(uint64_t) == 0 &&
         "a view's elements must be 8-byte aligned");
  HostTensor t;
  t.kind_ = kind;
  t.shape_.assign(shape.begin(), shape.end());
  t.view_ = data;
  return t;
}

void HostTensor::own() {
  const void *src = view_;
  view_ = nullptr;
  storage_.resize((byteSize() + 7) / 8);
  std::memcpy(storage_.data(), src, byteSize());
}

HostTensor HostTensor::reshaped(llvm::ArrayRef<int64_t> shape) const {
  HostTensor t = *this;
  t.shape_.assign(shape.begin(), shape.end());
  return t;
}

double HostTensor::getDouble(int64_t i) const {
  switch (kind_) {
  case ElemKind::F32: return data<float>()[i];
  case ElemKind::F64: return data<double>()[i];
  default: return static_cast<double>(getInt(i));
  }
}

/// A float as int64, truncated toward zero like static_cast where that is
/// defined; beyond int64's range it saturates and NaN is 0 (static_cast
/// would be undefined behaviour: a model's float "pads" of 4e169 reached
/// it through the ONNX importer).
static int64_t floatToInt64(double v) {
  if (std::isnan(v))
    return 0;
  if (v >= 9223372036854775808.0) // 2^63
    return INT64_MAX;
  if (v < -9223372036854775808.0)
    return INT64_MIN;
  return static_cast<int64_t>(v);
}

int64_t HostTensor::getInt(int64_t i) const {
  switch (kind_) {
  case ElemKind::F32: return floatToInt64(data<float>()[i]);
  case ElemKind::F64: return floatToInt64(data<double>()[i]);
  case ElemKind::I1: return data<uint8_t>()[i] != 0;
  case ElemKind::I8: return data<int8_t>()[i];
  case ElemKind::U8: return data<uint8_t>()[i];
  case ElemKind::I16: return data<int16_t>()[i];
  case ElemKind::U16: return data<uint16_t>()[i];
  case ElemKind::I32: return data<int32_t>()[i];
  case ElemKind::U32: return data<uint32_t>()[i];
  case ElemKind::I64: return data<int64_t>()[i];
  }
  return 0;
}

void HostTensor::setDouble(int64_t i, double v) {
  switch (kind_) {
  case ElemKind::F32: data<float>()[i] = static_cast<float>(v); return;
  case ElemKind::F64: data<double>()[i] = v; return;
  case ElemKind::I1: data<uint8_t>()[i] = v != 0.0; return;
  default:
    // ONNX Cast from float to int truncates; out-of-range is undefined there,
    // saturate here instead of invoking undefined behaviour.
    if (std::isnan(v))
      v = 0;
    v = std::trunc(v);
    if (v > 9.2e18)
      v = 9.2e18;
    if (v < -9.2e18)
      v = -9.2e18;
    setInt(i, static_cast<int64_t>(v));
  }
}

void HostTensor::setInt(int64_t i, int64_t v) {
  switch (kind_) {
  case ElemKind::F32: data<float>()[i] = static_cast<float>(v); return;
  case ElemKind::F64: data<double>()[i] = static_cast<double>(v); return;
  case ElemKind::I1: data<uint8_t>()[i] = v != 0; return;
  case ElemKind::I8: data<int8_t>()[i] = static_cast<int8_t>(v); return;
  case ElemKind::U8: data<uint8_t>()[i] = static_cast<uint8_t>(v); return;
  case ElemKind::I16: data<int16_t>()[i] = static_cast<int16_t>(v); return;
  case ElemKind::U16: data<uint16_t>()[i] = static_cast<uint16_t>(v); return;
  case ElemKind::I32: data<int32_t>()[i] = static_cast<int32_t>(v); return;
  case ElemKind::U32: data<uint32_t>()[i] = static_cast<uint32_t>(v); return;
  case ElemKind::I64: data<int64_t>()[i] = v; return;
  }
}

std::vector<int64_t> HostTensor::toInts() const {
  std::vector<int64_t> out(static_cast<size_t>(numElements()));
  for (int64_t i = 0, e = numElements(); i < e; ++i)
    out[i] = getInt(i);
  return out;
}

HostTensor HostTensor::castTo(ElemKind kind) const {
  if (kind == kind_)
    return *this;
  HostTensor out(kind, shape_);
  bool fromFloat = isFloatKind(kind_);
  for (int64_t i = 0, e = numElements(); i < e; ++i) {
    if (fromFloat)
      out.setDouble(i, getDouble(i));
    else
      out.setInt(i, getInt(i));
  }
  return out;
}
