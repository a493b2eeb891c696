//===- HostTensor.h - A dense tensor in host memory -------------*- C++ -*-===//
//
// Part of the lowbit project.
//
//===----------------------------------------------------------------------===//
//
// The value type shared by the ONNX importer (constants, bound inputs), the
// reference evaluator and lowbitc's .npy input/output. Row-major, dense,
// owning, 8-byte aligned storage, or a read-only view of such elements held
// elsewhere (HostTensor::view; the large constants of a model).
//
//===----------------------------------------------------------------------===//

#ifndef LOWBIT_SUPPORT_HOSTTENSOR_H
#define LOWBIT_SUPPORT_HOSTTENSOR_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringRef.h"

#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

namespace mlir {
class Type;
class MLIRContext;
} // namespace mlir

namespace lowbit {

/// Element kinds a host tensor can hold.
enum class ElemKind : uint8_t { F32, F64, I1, I8, U8, I16, U16, I32, U32, I64 };

/// Size in bytes of one element.
size_t elemSize(ElemKind kind);
/// "f32", "i8", "ui8", ... as in MLIR.
llvm::StringRef elemName(ElemKind kind);
/// "float32", "uint8", ... as numpy names the dtype.
llvm::StringRef numpyName(ElemKind kind);
bool isFloatKind(ElemKind kind);
bool isSignedIntKind(ElemKind kind);

/// The element kind that stores values of an MLIR type: builtin float and
/// integer types, and quantized types (their storage type). std::nullopt for
/// anything else.
std::optional<ElemKind> elemKindOf(mlir::Type type);
/// The MLIR type of an element kind (signless for signed integers, `ui<N>`
/// for unsigned, i1 for booleans).
mlir::Type mlirTypeOf(ElemKind kind, mlir::MLIRContext *context);

/// Number of elements of a shape.
int64_t numElements(llvm::ArrayRef<int64_t> shape);
std::string shapeToString(llvm::ArrayRef<int64_t> shape);
/// Number of elements of a shape, or std::nullopt when a dimension is
/// negative (dynamic) or the count does not fit in int64.
std::optional<int64_t> checkedNumElements(llvm::ArrayRef<int64_t> shape);

/// The largest tensor lowbit makes on the host, in bytes: a constant folded
/// at import, a value in the reference evaluator, a constant the C++
/// emitter writes. 2 GiB, the largest ONNX model protobuf can hold.
/// Anything larger is refused with an error instead of an allocation that
/// would abort.
constexpr uint64_t kMaxTensorBytes = uint64_t(1) << 31;

/// Empty when a tensor of `kind` and `shape` fits the host (a valid element
/// count no larger than kMaxTensorBytes); otherwise why not, as a phrase
/// naming the shape ("shape [...] has more elements than a 64-bit count
/// holds", "shape [...] of float32 (N elements, B bytes) is larger than
/// lowbit's limit of 2 GiB for one tensor").
std::string tensorSizeError(ElemKind kind, llvm::ArrayRef<int64_t> shape);

class HostTensor {
public:
  HostTensor() = default;
  HostTensor(ElemKind kind, llvm::ArrayRef<int64_t> shape);

  ElemKind kind() const { return kind_; }
  llvm::ArrayRef<int64_t> shape() const { return shape_; }
  int64_t rank() const { return static_cast<int64_t>(shape_.size()); }
  int64_t numElements() const { return lowbit::numElements(shape_); }
  size_t byteSize() const { return static_cast<size_t>(numElements()) * elemSize(kind_); }

  /// A read-only view of `data`: numElements(shape) elements of `kind`,
  /// 8-byte aligned, not copied. Whoever makes it keeps `data` alive and
  /// unchanged while the view, or a copy of it, is in use. Copies of a view
  /// are views; the first mutable access to one (the non-const raw() and
  /// data(), setDouble, setInt) gives it its own copy of the elements.
  static HostTensor view(ElemKind kind, llvm::ArrayRef<int64_t> shape,
                         const void *data);
  bool isView() const { return view_ != nullptr; }

  void *raw() {
    if (view_)
      own();
    return storage_.data();
  }
  const void *raw() const { return view_ ? view_ : storage_.data(); }
  template <typename T> T *data() { return reinterpret_cast<T *>(raw()); }
  template <typename T> const T *data() const {
    return reinterpret_cast<const T *>(raw());
  }

  /// Same elements under another shape with the same element count.
  HostTensor reshaped(llvm::ArrayRef<int64_t> shape) const;

  /// Element `i` converted to double / int64 (any kind).
  double getDouble(int64_t i) const;
  int64_t getInt(int64_t i) const;
  /// Stores a value converted to the element kind (ints are truncated the
  /// way a C++ static_cast does; floats round to nearest).
  void setDouble(int64_t i, double v);
  void setInt(int64_t i, int64_t v);

  /// All elements as int64 (for shapes, axes, indices).
  std::vector<int64_t> toInts() const;

  /// A copy converted elementwise to another kind (float -> int truncates
  /// towards zero, like ONNX Cast).
  HostTensor castTo(ElemKind kind) const;

private:
  /// Copies a view's elements into storage_ (it is no view afterwards).
  void own();

  ElemKind kind_ = ElemKind::F32;
  llvm::SmallVector<int64_t, 4> shape_;
  std::vector<uint64_t> storage_; // 8-byte aligned
  const void *view_ = nullptr;    // the elements of a view (storage_ empty)
};

} // namespace lowbit

#endif // LOWBIT_SUPPORT_HOSTTENSOR_H
