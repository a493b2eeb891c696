//===- Elementwise.cpp - TOSA elementwise ops -----------------------------===//
//
// Part of the lowbit project.
//
//===----------------------------------------------------------------------===//
//
// Broadcasting binary arithmetic, comparisons and select, unary functions,
// clamp and cast. Float32 arithmetic is the runtime's (rt::binaryF32,
// rt::unaryTensorF32: what the C++ target's float fallback runs); integer
// arithmetic wraps in the element type as TOSA says.
//
//===----------------------------------------------------------------------===//

#include "EvaluatorImpl.h"

#include "LowBit/Transforms/FloatFallback.h"
#include "lowbit/runtime/Ops.h"
#include "lowbit/runtime/Requant.h"

#include <array>
#include <cmath>
#include <cstring>

using namespace mlir;
using namespace ::lowbit;
using namespace ::lowbit::eval_detail;

namespace {

/// Strides of `in` inside a broadcast to `out` (equal ranks; size-1
/// dimensions get stride 0).
SmallVector<int64_t, 6> broadcastStrides(ArrayRef<int64_t> in,
                                         ArrayRef<int64_t> out) {
  SmallVector<int64_t, 6> strides(out.size(), 0);
  int64_t s = 1;
  for (int64_t d = static_cast<int64_t>(in.size()) - 1; d >= 0; --d) {
    strides[d] = in[d] == 1 && out[d] != 1 ? 0 : s;
    s *= in[d];
  }
  return strides;
}

/// Calls f(outIndex, offsets) over a broadcast of N inputs.
template <size_t N, typename F>
void forEachBroadcast(ArrayRef<int64_t> outShape,
                      const std::array<SmallVector<int64_t, 6>, N> &strides,
                      F &&f) {
  int64_t total = numElements(outShape);
  int64_t rank = outShape.size();
  SmallVector<int64_t, 6> counter(rank, 0);
  std::array<int64_t, N> off{};
  for (int64_t i = 0; i < total; ++i) {
    f(i, off);
    for (int64_t d = rank - 1; d >= 0; --d) {
      ++counter[d];
      for (size_t k = 0; k < N; ++k)
        off[k] += strides[k][d];
      if (counter[d] < outShape[d])
        break;
      for (size_t k = 0; k < N; ++k)
        off[k] -= strides[k][d] * outShape[d];
      counter[d] = 0;
    }
  }
}

} // namespace

LogicalResult Evaluator::Impl::binary(Operation *op) {
  Value result = op->getResult(0);
  ArrayRef<int64_t> outShape = shapeOf(result);
  ElemKind outKind = kindOf(result);
  if (auto sel = dyn_cast<tosa::SelectOp>(op)) {
    const HostTensor &c = get(sel.getInput1());
    const HostTensor &a = get(sel.getInput2());
    const HostTensor &b = get(sel.getInput3());
    HostTensor out(outKind, outShape);
    std::array<SmallVector<int64_t, 6>, 3> strides = {
        broadcastStrides(c.shape(), outShape),
        broadcastStrides(a.shape(), outShape),
        broadcastStrides(b.shape(), outShape)};
    size_t es = elemSize(outKind);
    const uint8_t *cp = c.data<uint8_t>();
    forEachBroadcast<3>(outShape, strides, [&](int64_t i, auto off) {
      const HostTensor &src = cp[off[0]] ? a : b;
      int64_t o = cp[off[0]] ? off[1] : off[2];
      std::memcpy(static_cast<char *>(out.raw()) + i * es,
                  static_cast<const char *>(src.raw()) + o * es, es);
    });
    set(result, std::move(out));
    return success();
  }
  const HostTensor &a = get(op->getOperand(0));
  const HostTensor &b = get(op->getOperand(1));
  ElemKind inKind = a.kind();
  std::array<SmallVector<int64_t, 6>, 2> strides = {
      broadcastStrides(a.shape(), outShape),
      broadcastStrides(b.shape(), outShape)};
  HostTensor out(outKind, outShape);
  int32_t mulShift = 0;
  if (auto mul = dyn_cast<tosa::MulOp>(op))
    mulShift = scalarOf<int32_t>(mul.getShift());
  if (mulShift != 0 && inKind != ElemKind::I32)
    return op->emitError("evaluator: tosa.mul shift applies to i32 only"),
           failure();
  bool divByZero = false;
  std::optional<rt::BinaryKind> floatKind = mlir::lowbit::floatBinaryKind(op);
  bool isCompare =
      isa<tosa::GreaterEqualOp, tosa::GreaterOp, tosa::EqualOp>(op);
  withKind(inKind, [&](auto tag) {
    using T = decltype(tag);
    const T *pa = a.data<T>();
    const T *pb = b.data<T>();
    constexpr bool isFloat = std::is_floating_point_v<T>;
    auto compute = [&](T x, T y) -> T {
      if constexpr (std::is_same_v<T, float>) {
        // The runtime's rule (what the C++ target's float fallback runs).
        return floatKind ? rt::binaryF32(*floatKind, x, y) : x;
      } else if constexpr (isFloat) {
        if (isa<tosa::AddOp>(op))
          return x + y;
        if (isa<tosa::SubOp>(op))
          return x - y;
        if (isa<tosa::MulOp>(op))
          return x * y;
        if (isa<tosa::MaximumOp>(op))
          return std::isnan(x) || std::isnan(y) ? x + y : std::max(x, y);
        if (isa<tosa::MinimumOp>(op))
          return std::isnan(x) || std::isnan(y) ? x + y : std::min(x, y);
        return x;
      } else {
        // Integer arithmetic wraps in the element type (done on uint64_t,
        // where wrapping is defined, so that int64 overflows are not UB).
        int64_t X = x, Y = y;
        auto wrap = [](uint64_t v) { return static_cast<T>(v); };
        if (isa<tosa::AddOp>(op))
          return wrap(uint64_t(X) + uint64_t(Y));
        if (isa<tosa::SubOp>(op))
          return wrap(uint64_t(X) - uint64_t(Y));
        if (isa<tosa::MulOp>(op)) {
          if (mulShift > 0) {
            int64_t r = (X * Y + (int64_t(1) << (mulShift - 1))) >> mulShift;
            return static_cast<T>(r);
          }
          return wrap(uint64_t(X) * uint64_t(Y));
        }
        if (isa<tosa::MaximumOp>(op))
          return static_cast<T>(std::max(X, Y));
        if (isa<tosa::MinimumOp>(op))
          return static_cast<T>(std::min(X, Y));
        if (isa<tosa::LogicalAndOp>(op))
          return static_cast<T>(X != 0 && Y != 0);
        if (isa<tosa::LogicalOrOp>(op))
          return static_cast<T>(X != 0 || Y != 0);
        if (isa<tosa::IntDivOp>(op)) {
          if (Y == 0) {
            divByZero = true;
            return 0;
          }
          // INT64_MIN / -1 traps in hardware; it wraps like the rest.
          if (Y == -1)
            return wrap(0 - uint64_t(X));
          return static_cast<T>(X / Y);
        }
        return x;
      }
    };
    if (isCompare) {
      uint8_t *po = out.data<uint8_t>();
      forEachBroadcast<2>(outShape, strides, [&](int64_t i, auto off) {
        T x = pa[off[0]], y = pb[off[1]];
        bool r = isa<tosa::GreaterEqualOp>(op) ? x >= y
                 : isa<tosa::GreaterOp>(op)    ? x > y
                                               : x == y;
        po[i] = r;
      });
      return 0;
    }
    T *po = out.data<T>();
    if (a.shape() == outShape && b.shape() == outShape) {
      for (int64_t i = 0, e = out.numElements(); i < e; ++i)
        po[i] = compute(pa[i], pb[i]);
    } else {
      forEachBroadcast<2>(outShape, strides, [&](int64_t i, auto off) {
        po[i] = compute(pa[off[0]], pb[off[1]]);
      });
    }
    return 0;
  });
  if (divByZero)
    return op->emitError("evaluator: integer division by zero"), failure();
  set(result, std::move(out));
  return success();
}

LogicalResult Evaluator::Impl::unary(Operation *op) {
  const HostTensor &in = get(op->getOperand(0));
  HostTensor out(in.kind(), in.shape());
  if (isa<tosa::LogicalNotOp>(op)) {
    for (int64_t i = 0; i < in.numElements(); ++i)
      out.setInt(i, in.getInt(i) == 0);
    set(op->getResult(0), std::move(out));
    return success();
  }
  if (in.kind() != ElemKind::F32) {
    if (!isa<tosa::NegateOp, tosa::AbsOp>(op))
      return op->emitError("evaluator: ")
                 << op->getName() << " on " << elemName(in.kind())
                 << " is not supported",
             failure();
    for (int64_t i = 0; i < in.numElements(); ++i) {
      int64_t v = in.getInt(i);
      int64_t neg = static_cast<int64_t>(0 - static_cast<uint64_t>(v));
      out.setInt(i, isa<tosa::NegateOp>(op) ? neg : (v < 0 ? neg : v));
    }
    set(op->getResult(0), std::move(out));
    return success();
  }
  std::optional<rt::UnaryKind> kind = mlir::lowbit::floatUnaryKind(op);
  if (!kind)
    return op->emitError("evaluator: ") << op->getName() << " is not supported",
           failure();
  rt::unaryTensorF32(in.data<float>(), out.data<float>(), in.numElements(),
                     *kind);
  set(op->getResult(0), std::move(out));
  return success();
}

LogicalResult Evaluator::Impl::eval(tosa::ClampOp op) {
  const HostTensor &in = get(op.getInput());
  HostTensor out(in.kind(), in.shape());
  Attribute lo = op.getMinValAttr(), hi = op.getMaxValAttr();
  if (in.kind() == ElemKind::F32) {
    float l = cast<FloatAttr>(lo).getValue().convertToFloat();
    float h = cast<FloatAttr>(hi).getValue().convertToFloat();
    const float *p = in.data<float>();
    float *o = out.data<float>();
    for (int64_t i = 0, e = in.numElements(); i < e; ++i)
      o[i] = std::isnan(p[i]) ? p[i] : std::min(std::max(p[i], l), h);
  } else {
    int64_t l = cast<IntegerAttr>(lo).getValue().getSExtValue();
    int64_t h = cast<IntegerAttr>(hi).getValue().getSExtValue();
    if (!isSignedIntKind(in.kind())) {
      l = cast<IntegerAttr>(lo).getValue().getZExtValue();
      h = cast<IntegerAttr>(hi).getValue().getZExtValue();
    }
    for (int64_t i = 0, e = in.numElements(); i < e; ++i)
      out.setInt(i, std::min(std::max(in.getInt(i), l), h));
  }
  set(op.getResult(), std::move(out));
  return success();
}

LogicalResult Evaluator::Impl::eval(tosa::CastOp op) {
  const HostTensor &in = get(op.getInput());
  ElemKind to = kindOf(op.getResult());
  HostTensor out(to, in.shape());
  bool fromFloat = isFloatKind(in.kind());
  bool toFloat = isFloatKind(to);
  unsigned bits = elemSize(to) * 8;
  for (int64_t i = 0, e = in.numElements(); i < e; ++i) {
    if (to == ElemKind::I1) {
      out.setInt(i, fromFloat ? in.getDouble(i) != 0.0 : in.getInt(i) != 0);
    } else if (fromFloat && !toFloat) {
      // TOSA: round to nearest, ties to even, then saturate.
      double v = std::nearbyint(in.getDouble(i));
      double lo =
          static_cast<double>(rt::storageMin(bits, isSignedIntKind(to)));
      double hi =
          static_cast<double>(rt::storageMax(bits, isSignedIntKind(to)));
      if (std::isnan(v))
        v = 0;
      out.setInt(i, static_cast<int64_t>(std::min(std::max(v, lo), hi)));
    } else if (toFloat) {
      out.setDouble(i, fromFloat ? in.getDouble(i)
                                 : static_cast<double>(in.getInt(i)));
    } else {
      out.setInt(i, in.getInt(i)); // integer narrowing truncates
    }
  }
  set(op.getResult(), std::move(out));
  return success();
}
