//===- EvaluatorImpl.h - The evaluator's private interface ------*- C++ -*-===//
//
// Part of the lowbit project.
//
//===----------------------------------------------------------------------===//
//
// Evaluator::Impl, the state shared by the files of lib/Evaluator, and the
// helpers more than one of them uses. Not installed: the public API is
// include/lowbit/Evaluator/Evaluator.h.
//
//   Evaluator.cpp       the public API, preparation (support checks,
//                       constants, last uses) and the interpreter loop
//   OpTable.cpp         the one table from op class to handler
//   Constants.cpp       constant attributes to host tensors, const_shape
//   Elementwise.cpp     TOSA elementwise arithmetic, comparisons, select,
//                       unary functions, clamp, cast
//   TosaConvPool.cpp    TOSA convolutions, matmul, pools, reductions
//   DataMovement.cpp    reshape, transpose, slice, pad, concat, tile,
//                       gather, resize and bitcast (TOSA and lowbit)
//   Quantization.cpp    quant casts and the lowbit integer arithmetic:
//                       quantize, dequantize, requant, prelu, add, clamp
//   LowBitConvPool.cpp  lowbit conv2d, fully_connected and pools
//
// Float semantics follow TOSA (elementwise ops in float32, NaN propagates
// through clamp and pools); integer semantics follow TOSA and the lowbit op
// definitions (dialects/LowBit/README.md). The arithmetic itself (rounding,
// saturation, the kernels) is the runtime's: runtime/ headers, never copied
// here.
//
//===----------------------------------------------------------------------===//

#ifndef LOWBIT_LIB_EVALUATOR_EVALUATORIMPL_H
#define LOWBIT_LIB_EVALUATOR_EVALUATORIMPL_H

#include "lowbit/Evaluator/Evaluator.h"

#include "LowBit/IR/LowBitOps.h"
#include "LowBit/Utils/ConstantReader.h"
#include "lowbit/runtime/Kernels.h"

#include "mlir/Dialect/Quant/IR/Quant.h"
#include "mlir/Dialect/Quant/IR/QuantTypes.h"
#include "mlir/Dialect/Tosa/IR/TosaOps.h"
#include "llvm/ADT/DenseMap.h"

#include <memory>

namespace lowbit {
namespace eval_detail {

using namespace mlir;
using llvm::SmallVector;
/// The runtime whose kernels and rules the evaluator runs.
namespace rt = ::lowbit::rt;

using TensorPtr = std::shared_ptr<const HostTensor>;

inline ElemKind kindOf(Value v) {
  return *elemKindOf(cast<ShapedType>(v.getType()).getElementType());
}
inline ArrayRef<int64_t> shapeOf(Value v) {
  return cast<ShapedType>(v.getType()).getShape();
}

using mlir::lowbit::zeroPointOf;

/// Calls `fn(T())` with T the C++ type of an integer kind that quantized
/// storage can have (returns false for other kinds).
template <typename Fn> bool withStorageKind(ElemKind kind, Fn &&fn) {
  switch (kind) {
  case ElemKind::U8:
    fn(uint8_t());
    return true;
  case ElemKind::I8:
    fn(int8_t());
    return true;
  case ElemKind::I16:
    fn(int16_t());
    return true;
  case ElemKind::U16:
    fn(uint16_t());
    return true;
  default:
    return false;
  }
}
/// Same for storage and accumulator kinds.
template <typename Fn> bool withIntKind(ElemKind kind, Fn &&fn) {
  switch (kind) {
  case ElemKind::I32:
    fn(int32_t());
    return true;
  case ElemKind::I64:
    fn(int64_t());
    return true;
  default:
    return withStorageKind(kind, fn);
  }
}

/// Calls `fn(T())` with T the C++ storage type of `kind`.
template <typename Fn> auto withKind(ElemKind kind, Fn &&fn) {
  switch (kind) {
  case ElemKind::F32:
    return fn(float());
  case ElemKind::F64:
    return fn(double());
  case ElemKind::I1:
  case ElemKind::U8:
    return fn(uint8_t());
  case ElemKind::I8:
    return fn(int8_t());
  case ElemKind::I16:
    return fn(int16_t());
  case ElemKind::U16:
    return fn(uint16_t());
  case ElemKind::I32:
    return fn(int32_t());
  case ElemKind::U32:
    return fn(uint32_t());
  case ElemKind::I64:
    return fn(int64_t());
  }
  return fn(float());
}

/// Runs an integer kernel over (input kind, weight kind, accumulator kind).
template <typename Fn>
bool withIntKinds(ElemKind in, ElemKind w, ElemKind acc, Fn &&fn) {
  auto withW = [&](auto ti) {
    auto withAcc = [&](auto tw) {
      if (acc == ElemKind::I32)
        return fn(ti, tw, int32_t()), true;
      if (acc == ElemKind::I64)
        return fn(ti, tw, int64_t()), true;
      return false;
    };
    switch (w) {
    case ElemKind::I8:
      return withAcc(int8_t());
    case ElemKind::U8:
      return withAcc(uint8_t());
    case ElemKind::I16:
      return withAcc(int16_t());
    default:
      return false;
    }
  };
  switch (in) {
  case ElemKind::I8:
    return withW(int8_t());
  case ElemKind::U8:
    return withW(uint8_t());
  case ElemKind::I16:
    return withW(int16_t());
  default:
    return false;
  }
}

/// Kernel geometry of an NHWC convolution; `pad` is [top, bottom, left,
/// right] as in TOSA and lowbit.
inline rt::Conv2DShape convShape(ArrayRef<int64_t> in, ArrayRef<int64_t> out,
                                 int64_t kh, int64_t kw,
                                 ArrayRef<int64_t> stride,
                                 ArrayRef<int64_t> pad,
                                 ArrayRef<int64_t> dilation, int64_t groups) {
  rt::Conv2DShape s{};
  s.n = in[0];
  s.h = in[1];
  s.w = in[2];
  s.c = in[3];
  s.oh = out[1];
  s.ow = out[2];
  s.oc = out[3];
  s.kh = kh;
  s.kw = kw;
  s.strideH = stride[0];
  s.strideW = stride[1];
  s.dilationH = dilation[0];
  s.dilationW = dilation[1];
  s.padTop = pad[0];
  s.padLeft = pad[2];
  s.groups = groups;
  return s;
}

/// Converts an ElementsAttr (dense, splat or resource) into a host tensor
/// (Constants.cpp).
FailureOr<HostTensor> fromAttr(Location loc, ElementsAttr attr,
                               ShapedType resultType);

} // namespace eval_detail

/// The evaluator's state and its op handlers. A handler reads its operands
/// with get(), computes with the runtime's kernels and rules, and stores its
/// results with set(); it emits a located error and returns failure() on
/// input it cannot run.
struct Evaluator::Impl {
  using TensorPtr = eval_detail::TensorPtr;

  llvm::DenseMap<mlir::Operation *, TensorPtr> constants;
  /// Weights of the convolutions and fully connected layers with log / STLQ
  /// codes.
  llvm::DenseMap<mlir::Operation *,
                 std::shared_ptr<const mlir::lowbit::PackedLogWeights>>
      logWeights;
  /// For each op, the values whose last use it is.
  llvm::DenseMap<mlir::Operation *, llvm::SmallVector<mlir::Value, 2>> dying;
  llvm::DenseMap<mlir::Value, TensorPtr> env;

  mlir::LogicalResult prepare(mlir::func::FuncOp func);
  mlir::LogicalResult execute(mlir::Operation *op);
  const HostTensor &get(mlir::Value v) { return *env.find(v)->second; }
  void set(mlir::Value v, HostTensor t) {
    env[v] = std::make_shared<const HostTensor>(std::move(t));
  }
  mlir::FailureOr<std::vector<int64_t>> shapeValues(mlir::Operation *op,
                                                    mlir::Value v);
  template <typename T> T scalarOf(mlir::Value v) {
    const HostTensor &t = get(v);
    return static_cast<T>(isFloatKind(t.kind()) ? t.getDouble(0) : t.getInt(0));
  }

  /// Runs one op (OpTable.cpp): null for an op the evaluator cannot run.
  /// Constants are not in the table: prepare() converts them once.
  using Handler = mlir::LogicalResult (*)(Impl &, mlir::Operation *);
  static Handler handlerFor(mlir::Operation *op);

  // Handlers of several op classes each (the table says which).
  mlir::LogicalResult binary(mlir::Operation *op);               // Elementwise
  mlir::LogicalResult unary(mlir::Operation *op);                // Elementwise
  mlir::LogicalResult conv(mlir::Operation *op, bool depthwise); // TosaConvPool
  mlir::LogicalResult pool(mlir::Operation *op, bool isMax);     // TosaConvPool
  mlir::LogicalResult reduce(mlir::Operation *op, bool isMax);   // TosaConvPool
  template <typename PoolOp>
  mlir::LogicalResult lowbitPool(PoolOp op); // LowBitConvPool

  // Handlers of one op class each: Impl::eval(OpClass).
  // Constants.cpp
  mlir::LogicalResult eval(mlir::tosa::ConstShapeOp op);
  // Elementwise.cpp
  mlir::LogicalResult eval(mlir::tosa::ClampOp op);
  mlir::LogicalResult eval(mlir::tosa::CastOp op);
  // TosaConvPool.cpp
  mlir::LogicalResult eval(mlir::tosa::MatMulOp op);
  // DataMovement.cpp
  mlir::LogicalResult eval(mlir::tosa::TransposeOp op);
  mlir::LogicalResult eval(mlir::tosa::ReshapeOp op);
  mlir::LogicalResult eval(mlir::tosa::SliceOp op);
  mlir::LogicalResult eval(mlir::tosa::PadOp op);
  mlir::LogicalResult eval(mlir::tosa::ResizeOp op);
  mlir::LogicalResult eval(mlir::tosa::ConcatOp op);
  mlir::LogicalResult eval(mlir::tosa::TileOp op);
  mlir::LogicalResult eval(mlir::tosa::GatherOp op);
  mlir::LogicalResult eval(mlir::lowbit::BitcastOp op);
  mlir::LogicalResult eval(mlir::lowbit::ReshapeOp op);
  mlir::LogicalResult eval(mlir::lowbit::TransposeOp op);
  mlir::LogicalResult eval(mlir::lowbit::SliceOp op);
  mlir::LogicalResult eval(mlir::lowbit::PadOp op);
  mlir::LogicalResult eval(mlir::lowbit::ResizeOp op);
  mlir::LogicalResult eval(mlir::lowbit::ConcatOp op);
  // Quantization.cpp
  mlir::LogicalResult eval(mlir::quant::QuantizeCastOp op);
  mlir::LogicalResult eval(mlir::quant::DequantizeCastOp op);
  mlir::LogicalResult eval(mlir::quant::StorageCastOp op);
  mlir::LogicalResult eval(mlir::lowbit::QuantizeOp op);
  mlir::LogicalResult eval(mlir::lowbit::DequantizeOp op);
  mlir::LogicalResult eval(mlir::lowbit::RequantOp op);
  mlir::LogicalResult eval(mlir::lowbit::PReluOp op);
  mlir::LogicalResult eval(mlir::lowbit::AddOp op);
  mlir::LogicalResult eval(mlir::lowbit::ClampOp op);
  // LowBitConvPool.cpp
  mlir::LogicalResult eval(mlir::lowbit::Conv2DOp op);
  mlir::LogicalResult eval(mlir::lowbit::FullyConnectedOp op);
  mlir::LogicalResult eval(mlir::lowbit::MaxPoolOp op);
  mlir::LogicalResult eval(mlir::lowbit::AvgPoolOp op);
  mlir::LogicalResult eval(mlir::lowbit::GlobalAvgPoolOp op);
};

} // namespace lowbit

#endif // LOWBIT_LIB_EVALUATOR_EVALUATORIMPL_H
