//===- LowBitConvPool.cpp - lowbit conv2d, fully_connected, pools ---------===//
//
// Part of the lowbit project.
//
//===----------------------------------------------------------------------===//
//
// The integer layers of the lowbit dialect on the runtime's kernels:
// accumulators out of conv2d and fully_connected (int8/int16 weights, or
// log / STLQ codes packed once in prepare()), and integer pools.
//
//===----------------------------------------------------------------------===//

#include "EvaluatorImpl.h"

#include "lowbit/runtime/Ops.h"

using namespace mlir;
using namespace ::lowbit;
using namespace ::lowbit::eval_detail;

LogicalResult Evaluator::Impl::eval(mlir::lowbit::Conv2DOp o) {
  const HostTensor &in = get(o.getInput());
  const HostTensor &w = get(o.getWeight());
  RankedTensorType rt_ = o.getType();
  HostTensor out(kindOf(o.getResult()), rt_.getShape());
  HostTensor bias(out.kind(), {rt_.getDimSize(3)});
  if (o.getBias())
    bias = get(o.getBias());
  rt::Conv2DShape s = convShape(
      in.shape(), rt_.getShape(), w.shape()[1], w.shape()[2], o.getStride(),
      o.getPad(), o.getDilation(), static_cast<int64_t>(o.getGroups()));
  auto inZp = static_cast<int32_t>(
      zeroPointOf(o.getInput().getType().getElementType()));
  bool ok;
  if (o.getWeightEncoding()) {
    // Log / STLQ codes: shifted adds on the packed codes, or the
    // integers they stand for multiplied (the same accumulator).
    const mlir::lowbit::PackedLogWeights &lw = *logWeights.lookup(o);
    int32_t zIn = o.getInputZpFolded() ? 0 : inZp;
    int32_t zPad = o.getInputZpFolded() ? inZp : 0;
    rt::Conv2DShape ls = s;
    ls.kh = lw.desc.kh;
    ls.kw = lw.desc.kw;
    ok = withIntKinds(
        in.kind(), ElemKind::I8, out.kind(), [&](auto ti, auto, auto ta) {
          using TI = decltype(ti);
          using TA = decltype(ta);
          if (o.getShiftProducts())
            rt::conv2dShift<TI, TA>(in.data<TI>(), lw.bytes.data(), lw.desc,
                                    bias.data<TA>(), zIn, zPad, out.data<TA>(),
                                    ls);
          else if (o.getInputZpFolded())
            rt::conv2dFoldedZp<TI, int32_t, TA>(
                in.data<TI>(), lw.integers.data(), bias.data<TA>(), inZp,
                out.data<TA>(), ls);
          else
            rt::conv2dTensor<TI, int32_t, TA>(in.data<TI>(), lw.integers.data(),
                                              bias.data<TA>(), inZp,
                                              out.data<TA>(), ls);
        });
  } else {
    ok = withIntKinds(
        in.kind(), w.kind(), out.kind(), [&](auto ti, auto tw, auto ta) {
          using TI = decltype(ti);
          using TW = decltype(tw);
          using TA = decltype(ta);
          if (o.getInputZpFolded())
            rt::conv2dFoldedZp<TI, TW, TA>(in.data<TI>(), w.data<TW>(),
                                           bias.data<TA>(), inZp,
                                           out.data<TA>(), s);
          else
            rt::conv2dTensor<TI, TW, TA>(in.data<TI>(), w.data<TW>(),
                                         bias.data<TA>(), inZp, out.data<TA>(),
                                         s);
        });
  }
  if (!ok)
    return o.emitError("evaluator: unsupported integer convolution "
                       "types"),
           failure();
  set(o.getResult(), std::move(out));
  return success();
}

LogicalResult Evaluator::Impl::eval(mlir::lowbit::FullyConnectedOp o) {
  const HostTensor &in = get(o.getInput());
  const HostTensor &w = get(o.getWeight());
  int64_t n = in.shape()[0], k = in.shape()[1], m = o.getType().getDimSize(1);
  HostTensor out(kindOf(o.getResult()), {n, m});
  HostTensor bias(out.kind(), {m});
  if (o.getBias())
    bias = get(o.getBias());
  // A folded zero point is in the bias already.
  auto inZp = o.getInputZpFolded()
                  ? 0
                  : static_cast<int32_t>(
                        zeroPointOf(o.getInput().getType().getElementType()));
  bool ok;
  if (o.getWeightEncoding()) {
    const mlir::lowbit::PackedLogWeights &lw = *logWeights.lookup(o);
    ok = withIntKinds(
        in.kind(), ElemKind::I8, out.kind(), [&](auto ta, auto, auto tc) {
          using TA = decltype(ta);
          using TC = decltype(tc);
          if (o.getShiftProducts())
            rt::fullyConnectedShift<TA, TC>(in.data<TA>(), lw.bytes.data(),
                                            lw.desc, bias.data<TC>(), inZp,
                                            out.data<TC>(), n, k, m);
          else
            rt::fullyConnectedInt<TA, int32_t, TC>(
                in.data<TA>(), lw.integers.data(), bias.data<TC>(), inZp,
                out.data<TC>(), n, k, m);
        });
  } else {
    ok = withIntKinds(
        in.kind(), w.kind(), out.kind(), [&](auto ta, auto tb, auto tc) {
          using TA = decltype(ta);
          using TB = decltype(tb);
          using TC = decltype(tc);
          rt::fullyConnectedInt<TA, TB, TC>(in.data<TA>(), w.data<TB>(),
                                            bias.data<TC>(), inZp,
                                            out.data<TC>(), n, k, m);
        });
  }
  if (!ok)
    return o.emitError("evaluator: unsupported integer matmul types"),
           failure();
  set(o.getResult(), std::move(out));
  return success();
}

template <typename PoolOp> LogicalResult Evaluator::Impl::lowbitPool(PoolOp o) {
  const HostTensor &in = get(o.getInput());
  ArrayRef<int64_t> os = o.getType().getShape();
  rt::Pool2DShape s{in.shape()[0],
                    in.shape()[1],
                    in.shape()[2],
                    in.shape()[3],
                    os[1],
                    os[2],
                    in.shape()[1],
                    in.shape()[2],
                    1,
                    1,
                    0,
                    0};
  bool includePad = false;
  if constexpr (!std::is_same_v<PoolOp, mlir::lowbit::GlobalAvgPoolOp>) {
    s.kh = o.getKernel()[0];
    s.kw = o.getKernel()[1];
    s.strideH = o.getStride()[0];
    s.strideW = o.getStride()[1];
    s.padTop = o.getPad()[0];
    s.padLeft = o.getPad()[2];
  }
  if constexpr (std::is_same_v<PoolOp, mlir::lowbit::AvgPoolOp>)
    includePad = o.getCountIncludePad();
  HostTensor out(in.kind(), os);
  Type elt = o.getType().getElementType();
  if constexpr (std::is_same_v<PoolOp, mlir::lowbit::MaxPoolOp>) {
    withKind(in.kind(), [&](auto tag) {
      using T = decltype(tag);
      rt::maxPool2d<T>(in.data<T>(), out.data<T>(), s);
      return 0;
    });
  } else {
    auto [lo, hi] = *mlir::lowbit::getStorageRange(elt);
    withKind(in.kind(), [&](auto tag) {
      using T = decltype(tag);
      if constexpr (std::is_integral_v<T>)
        rt::avgPool2dInt<T>(in.data<T>(), out.data<T>(), s,
                            static_cast<int32_t>(zeroPointOf(elt)),
                            static_cast<int32_t>(lo), static_cast<int32_t>(hi),
                            includePad);
      return 0;
    });
  }
  set(o.getResult(), std::move(out));
  return success();
}

LogicalResult Evaluator::Impl::eval(mlir::lowbit::MaxPoolOp o) {
  return lowbitPool(o);
}
LogicalResult Evaluator::Impl::eval(mlir::lowbit::AvgPoolOp o) {
  return lowbitPool(o);
}
LogicalResult Evaluator::Impl::eval(mlir::lowbit::GlobalAvgPoolOp o) {
  return lowbitPool(o);
}
