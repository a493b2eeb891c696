//===- Quantization.cpp - Quantization and integer arithmetic -------------===//
//
// Part of the lowbit project.
//
//===----------------------------------------------------------------------===//
//
// The quant dialect's casts, and the lowbit ops that rescale integers:
// quantize, dequantize, requant, prelu (a requant with a second multiplier
// for negative inputs), add and clamp. Every rescaling is the runtime's
// (runtime/Requant.h): one definition of rounding and saturation for the
// compiler, the evaluator and the generated code.
//
//===----------------------------------------------------------------------===//

#include "EvaluatorImpl.h"

#include "lowbit/runtime/Ops.h"
#include "lowbit/runtime/Requant.h"

using namespace mlir;
using namespace ::lowbit;
using namespace ::lowbit::eval_detail;

namespace {

/// Scale and zero point of element `flat` of a tensor of `shape` quantized
/// with per-tensor or per-axis `q`.
struct QuantView {
  quant::QuantizedType q;
  ArrayRef<int64_t> shape;
  int64_t inner = 1; // product of dims after the quantized axis
  int64_t axisSize = 1;
  static FailureOr<QuantView> get(Location loc, Type elt,
                                  ArrayRef<int64_t> shape) {
    QuantView v;
    v.q = dyn_cast<quant::QuantizedType>(elt);
    v.shape = shape;
    if (auto a = dyn_cast_or_null<quant::UniformQuantizedPerAxisType>(v.q)) {
      int32_t axis = a.getQuantizedDimension();
      for (size_t d = axis + 1; d < shape.size(); ++d)
        v.inner *= shape[d];
      v.axisSize = shape[axis];
      return v;
    }
    if (isa_and_nonnull<quant::UniformQuantizedType>(v.q))
      return v;
    return emitError(loc) << "evaluator: unsupported quantized type " << elt,
           failure();
  }
  double scale(int64_t flat) const {
    if (auto u = dyn_cast<quant::UniformQuantizedType>(q))
      return u.getScale();
    auto a = cast<quant::UniformQuantizedPerAxisType>(q);
    return a.getScales()[(flat / inner) % axisSize];
  }
  int64_t zeroPoint(int64_t flat) const {
    if (auto u = dyn_cast<quant::UniformQuantizedType>(q))
      return u.getZeroPoint();
    auto a = cast<quant::UniformQuantizedPerAxisType>(q);
    return a.getZeroPoints()[(flat / inner) % axisSize];
  }
};

rt::RoundingMode roundingMode(mlir::lowbit::RoundingMode m) {
  return m == mlir::lowbit::RoundingMode::double_round
             ? rt::RoundingMode::DoubleRound
             : rt::RoundingMode::SingleRound;
}

/// Quantizes a float tensor with the runtime rule (float32 division).
FailureOr<HostTensor> quantizeTensor(Location loc, const HostTensor &in,
                                     RankedTensorType resultType) {
  auto view = QuantView::get(loc, resultType.getElementType(), in.shape());
  if (failed(view))
    return failure();
  HostTensor out(*elemKindOf(resultType.getElementType()), in.shape());
  auto lo = static_cast<int32_t>(view->q.getStorageTypeMin());
  auto hi = static_cast<int32_t>(view->q.getStorageTypeMax());
  for (int64_t i = 0, e = in.numElements(); i < e; ++i)
    out.setInt(i, rt::quantizeValue(static_cast<float>(in.getDouble(i)),
                                    static_cast<float>(view->scale(i)),
                                    static_cast<int32_t>(view->zeroPoint(i)),
                                    lo, hi));
  return out;
}

FailureOr<HostTensor> dequantizeTensor(Location loc, const HostTensor &in,
                                       RankedTensorType inType,
                                       ElemKind outKind) {
  auto view = QuantView::get(loc, inType.getElementType(), in.shape());
  if (failed(view))
    return failure();
  HostTensor out(outKind, in.shape());
  for (int64_t i = 0, e = in.numElements(); i < e; ++i)
    out.setDouble(i, rt::dequantizeValue(
                         static_cast<int32_t>(in.getInt(i)), view->scale(i),
                         static_cast<int32_t>(view->zeroPoint(i))));
  return out;
}

/// The arguments of rt::requantTensor that requant and PReLU give it: the
/// positive side's multipliers and shifts (one, or one per channel), the
/// negative side's (none for a single requant), zero points and the
/// saturation range.
struct RequantArgs {
  ArrayRef<int32_t> mul, shift;
  const int32_t *negMul = nullptr, *negShift = nullptr;
  bool negPerChannel = false;
  int32_t inZp = 0, outZp = 0, lo = 0, hi = 0;
  rt::RoundingMode mode = rt::RoundingMode::SingleRound;
};

/// rt::requantTensor from `in` into `out` (of type `type`, per channel along
/// `axis` when there is one); `inputKinds` calls its function with the C++
/// type of the input's kind (withIntKind or withStorageKind).
template <typename InputKinds>
void requantTensor(InputKinds inputKinds, const HostTensor &in,
                   HostTensor &out, RankedTensorType type,
                   std::optional<int64_t> axis, const RequantArgs &a) {
  int64_t inner = 1, axisSize = 1;
  if (axis) {
    for (int64_t d = *axis + 1; d < type.getRank(); ++d)
      inner *= type.getDimSize(d);
    axisSize = type.getDimSize(*axis);
  }
  inputKinds(in.kind(), [&](auto ti) {
    using TI = decltype(ti);
    withStorageKind(out.kind(), [&](auto to) {
      using TO = decltype(to);
      rt::requantTensor<TI, TO>(in.data<TI>(), out.data<TO>(),
                                in.numElements(), inner, axisSize,
                                a.mul.data(), a.shift.data(), a.mul.size() > 1,
                                a.negMul, a.negShift, a.negPerChannel, a.inZp,
                                a.outZp, a.lo, a.hi, a.mode);
      return 0;
    });
    return 0;
  });
}

} // namespace

//===----------------------------------------------------------------------===//
// quant casts
//===----------------------------------------------------------------------===//

LogicalResult Evaluator::Impl::eval(quant::StorageCastOp op) {
  Value in = op.getInput(), result = op.getResult();
  const HostTensor &t = get(in);
  auto resultType = cast<RankedTensorType>(result.getType());
  HostTensor out = t;
  out = out.reshaped(resultType.getShape());
  ElemKind to = kindOf(result);
  if (to != t.kind())
    out = t.castTo(to); // same width; sign reinterpretation
  set(result, std::move(out));
  return success();
}

LogicalResult Evaluator::Impl::eval(quant::QuantizeCastOp op) {
  Value in = op.getInput(), result = op.getResult();
  const HostTensor &t = get(in);
  auto resultType = cast<RankedTensorType>(result.getType());
  auto q = quantizeTensor(op.getLoc(), t, resultType);
  if (failed(q))
    return failure();
  set(result, std::move(*q));
  return success();
}

LogicalResult Evaluator::Impl::eval(quant::DequantizeCastOp op) {
  Value in = op.getInput(), result = op.getResult();
  const HostTensor &t = get(in);
  auto d = dequantizeTensor(
      op.getLoc(), t, cast<RankedTensorType>(in.getType()), kindOf(result));
  if (failed(d))
    return failure();
  set(result, std::move(*d));
  return success();
}

//===----------------------------------------------------------------------===//
// lowbit
//===----------------------------------------------------------------------===//

LogicalResult Evaluator::Impl::eval(mlir::lowbit::QuantizeOp o) {
  auto q = quantizeTensor(o.getLoc(), get(o.getInput()), o.getType());
  if (failed(q))
    return failure();
  set(o.getResult(), std::move(*q));
  return success();
}

LogicalResult Evaluator::Impl::eval(mlir::lowbit::DequantizeOp o) {
  auto d = dequantizeTensor(o.getLoc(), get(o.getInput()),
                            o.getInput().getType(), kindOf(o.getResult()));
  if (failed(d))
    return failure();
  set(o.getResult(), std::move(*d));
  return success();
}

LogicalResult Evaluator::Impl::eval(mlir::lowbit::RequantOp o) {
  const HostTensor &in = get(o.getInput());
  auto type = o.getType();
  int64_t inZp = zeroPointOf(o.getInput().getType().getElementType());
  auto outQ = cast<quant::UniformQuantizedType>(type.getElementType());
  HostTensor out(*elemKindOf(outQ), type.getShape());
  auto negM = o.getNegMultiplier();
  auto negS = o.getNegShift();
  RequantArgs args;
  args.mul = o.getMultiplier();
  args.shift = o.getShift();
  args.negMul = negM ? negM->data() : nullptr;
  args.negShift = negS ? negS->data() : nullptr;
  args.negPerChannel = negM && negM->size() > 1;
  args.inZp = static_cast<int32_t>(inZp);
  args.outZp = static_cast<int32_t>(outQ.getZeroPoint());
  args.lo = static_cast<int32_t>(o.getSaturationMin());
  args.hi = static_cast<int32_t>(o.getSaturationMax());
  args.mode = roundingMode(o.getRounding());
  requantTensor([](ElemKind k, auto fn) { return withIntKind(k, fn); }, in,
                out, type, o.getAxis(), args);
  set(o.getResult(), std::move(out));
  return success();
}

LogicalResult Evaluator::Impl::eval(mlir::lowbit::PReluOp o) {
  const HostTensor &in = get(o.getInput());
  auto outQ = cast<quant::UniformQuantizedType>(o.getType().getElementType());
  int64_t inZp = zeroPointOf(o.getInput().getType().getElementType());
  HostTensor out(*elemKindOf(outQ), o.getType().getShape());
  ArrayRef<int32_t> nm = o.getNegMultiplier(), ns = o.getNegShift();
  int32_t posM[1] = {static_cast<int32_t>(o.getPosMultiplier())},
          posS[1] = {static_cast<int32_t>(o.getPosShift())};
  RequantArgs args;
  args.mul = posM;
  args.shift = posS;
  args.negMul = nm.data();
  args.negShift = ns.data();
  args.negPerChannel = nm.size() > 1;
  args.inZp = static_cast<int32_t>(inZp);
  args.outZp = static_cast<int32_t>(outQ.getZeroPoint());
  args.lo = static_cast<int32_t>(outQ.getStorageTypeMin());
  args.hi = static_cast<int32_t>(outQ.getStorageTypeMax());
  args.mode = roundingMode(o.getRounding());
  requantTensor([](ElemKind k, auto fn) { return withStorageKind(k, fn); },
                in, out, o.getType(), o.getAxis(), args);
  set(o.getResult(), std::move(out));
  return success();
}

LogicalResult Evaluator::Impl::eval(mlir::lowbit::AddOp o) {
  const HostTensor &a = get(o.getLhs());
  const HostTensor &b = get(o.getRhs());
  auto outQ = cast<quant::UniformQuantizedType>(o.getType().getElementType());
  int64_t za = zeroPointOf(o.getLhs().getType().getElementType());
  int64_t zb = zeroPointOf(o.getRhs().getType().getElementType());
  int64_t lo = o.getMin().value_or(outQ.getStorageTypeMin());
  int64_t hi = o.getMax().value_or(outQ.getStorageTypeMax());
  int32_t shift = o.getInputShiftAttr().getInt();
  rt::RoundingMode mode = roundingMode(o.getRounding());
  rt::ScaleMultiplier ma{static_cast<int32_t>(o.getLhsMultiplier()),
                         static_cast<int32_t>(o.getLhsShift())};
  rt::ScaleMultiplier mb{static_cast<int32_t>(o.getRhsMultiplier()),
                         static_cast<int32_t>(o.getRhsShift())};
  rt::ScaleMultiplier mo{static_cast<int32_t>(o.getOutputMultiplier()),
                         static_cast<int32_t>(o.getOutputShift())};
  HostTensor out(*elemKindOf(outQ), o.getType().getShape());
  withStorageKind(a.kind(), [&](auto ta) {
    using TA = decltype(ta);
    withStorageKind(b.kind(), [&](auto tb) {
      using TB = decltype(tb);
      withStorageKind(out.kind(), [&](auto to) {
        using TO = decltype(to);
        rt::addTensor<TA, TB, TO>(
            a.data<TA>(), b.data<TB>(), out.data<TO>(), a.numElements(),
            static_cast<int32_t>(za), static_cast<int32_t>(zb), shift, ma, mb,
            mo, static_cast<int32_t>(outQ.getZeroPoint()),
            static_cast<int32_t>(lo), static_cast<int32_t>(hi), mode);
        return 0;
      });
      return 0;
    });
    return 0;
  });
  set(o.getResult(), std::move(out));
  return success();
}

LogicalResult Evaluator::Impl::eval(mlir::lowbit::LookupOp o) {
  const HostTensor &in = get(o.getInput());
  auto outQ = cast<quant::UniformQuantizedType>(o.getType().getElementType());
  HostTensor out(*elemKindOf(outQ), o.getType().getShape());
  ArrayRef<int32_t> table = o.getTable();
  withStorageKind(in.kind(), [&](auto ti) {
    using TI = decltype(ti);
    withStorageKind(out.kind(), [&](auto to) {
      using TO = decltype(to);
      if constexpr (sizeof(TI) == 1 && sizeof(TO) == 1) {
        TO t[256];
        for (int i = 0; i < 256; ++i)
          t[i] = static_cast<TO>(table[i]);
        rt::lookupTensor<TI, TO>(in.data<TI>(), out.data<TO>(),
                                 in.numElements(), t);
      }
      return 0;
    });
    return 0;
  });
  set(o.getResult(), std::move(out));
  return success();
}

LogicalResult Evaluator::Impl::eval(mlir::lowbit::SoftmaxOp o) {
  const HostTensor &in = get(o.getInput());
  auto outQ = cast<quant::UniformQuantizedType>(o.getType().getElementType());
  HostTensor out(*elemKindOf(outQ), o.getType().getShape());
  ArrayRef<int64_t> shape = o.getType().getShape();
  int64_t axis = o.getAxis(), outer = 1, inner = 1;
  for (int64_t d = 0; d < axis; ++d)
    outer *= shape[d];
  for (int64_t d = axis + 1; d < static_cast<int64_t>(shape.size()); ++d)
    inner *= shape[d];
  withStorageKind(in.kind(), [&](auto ti) {
    using TI = decltype(ti);
    withStorageKind(out.kind(), [&](auto to) {
      using TO = decltype(to);
      if constexpr (sizeof(TI) == 1)
        rt::softmaxTensor<TI, TO>(
            in.data<TI>(), out.data<TO>(), outer, shape[axis], inner,
            o.getTable().data(), o.getMultiplier(),
            static_cast<int32_t>(outQ.getZeroPoint()),
            static_cast<int32_t>(outQ.getStorageTypeMin()),
            static_cast<int32_t>(outQ.getStorageTypeMax()));
      return 0;
    });
    return 0;
  });
  set(o.getResult(), std::move(out));
  return success();
}

LogicalResult Evaluator::Impl::eval(mlir::lowbit::MulOp o) {
  const HostTensor &a = get(o.getLhs());
  const HostTensor &b = get(o.getRhs());
  auto outQ = cast<quant::UniformQuantizedType>(o.getType().getElementType());
  int64_t za = zeroPointOf(o.getLhs().getType().getElementType());
  int64_t zb = zeroPointOf(o.getRhs().getType().getElementType());
  int64_t lo = o.getMin().value_or(outQ.getStorageTypeMin());
  int64_t hi = o.getMax().value_or(outQ.getStorageTypeMax());
  rt::ScaleMultiplier m{static_cast<int32_t>(o.getMultiplierAttr().getInt()),
                        static_cast<int32_t>(o.getShiftAttr().getInt())};
  ArrayRef<int64_t> ys = o.getType().getShape();
  if (static_cast<int64_t>(ys.size()) > rt::kMaxMulRank)
    return o.emitOpError() << "evaluator: products of rank above "
                           << rt::kMaxMulRank << " are not supported",
           failure();
  HostTensor out(*elemKindOf(outQ), ys);
  withStorageKind(a.kind(), [&](auto ta) {
    using TA = decltype(ta);
    withStorageKind(b.kind(), [&](auto tb) {
      using TB = decltype(tb);
      withStorageKind(out.kind(), [&](auto to) {
        using TO = decltype(to);
        rt::mulTensor<TA, TB, TO>(
            a.data<TA>(), b.data<TB>(), out.data<TO>(), ys.data(),
            o.getLhs().getType().getShape().data(),
            o.getRhs().getType().getShape().data(),
            static_cast<int64_t>(ys.size()), static_cast<int32_t>(za),
            static_cast<int32_t>(zb), m,
            static_cast<int32_t>(outQ.getZeroPoint()),
            static_cast<int32_t>(lo), static_cast<int32_t>(hi),
            roundingMode(o.getRounding()));
        return 0;
      });
      return 0;
    });
    return 0;
  });
  set(o.getResult(), std::move(out));
  return success();
}

LogicalResult Evaluator::Impl::eval(mlir::lowbit::MatMulOp o) {
  const HostTensor &a = get(o.getLhs());
  const HostTensor &b = get(o.getRhs());
  int64_t za = zeroPointOf(o.getLhs().getType().getElementType());
  int64_t zb = zeroPointOf(o.getRhs().getType().getElementType());
  ArrayRef<int64_t> as = o.getLhs().getType().getShape();
  ArrayRef<int64_t> ys = o.getType().getShape();
  bool wide = o.getType().getElementType().getIntOrFloatBitWidth() == 64;
  HostTensor out(wide ? ElemKind::I64 : ElemKind::I32, ys);
  withStorageKind(a.kind(), [&](auto ta) {
    using TA = decltype(ta);
    withStorageKind(b.kind(), [&](auto tb) {
      using TB = decltype(tb);
      auto run = [&](auto tacc) {
        using TAcc = decltype(tacc);
        rt::matmulTensor<TA, TB, TAcc>(a.data<TA>(), b.data<TB>(),
                                       out.data<TAcc>(), as[0], as[1], as[2],
                                       ys[2], static_cast<int32_t>(za),
                                       static_cast<int32_t>(zb));
      };
      wide ? run(int64_t()) : run(int32_t());
      return 0;
    });
    return 0;
  });
  set(o.getResult(), std::move(out));
  return success();
}

LogicalResult Evaluator::Impl::eval(mlir::lowbit::ClampOp o) {
  const HostTensor &in = get(o.getInput());
  HostTensor out(in.kind(), in.shape());
  int64_t lo = o.getMin(), hi = o.getMax();
  withKind(in.kind(), [&](auto t) {
    using T = decltype(t);
    if constexpr (std::is_integral_v<T>)
      rt::clampTensor<T>(in.data<T>(), out.data<T>(), in.numElements(), lo, hi);
    return 0;
  });
  set(o.getResult(), std::move(out));
  return success();
}
