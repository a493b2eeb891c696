//===- TosaConvPool.cpp - TOSA convolutions, matmul, pools ----------------===//
//
// Part of the lowbit project.
//
//===----------------------------------------------------------------------===//
//
// tosa.conv2d, tosa.depthwise_conv2d, tosa.matmul, tosa.max_pool2d,
// tosa.avg_pool2d, tosa.reduce_max and tosa.reduce_sum, float and integer,
// on the runtime's kernels.
//
//===----------------------------------------------------------------------===//

#include "EvaluatorImpl.h"

#include "lowbit/runtime/Ops.h"

#include "mlir/IR/Threading.h"

#include <limits>

using namespace mlir;
using namespace ::lowbit;
using namespace ::lowbit::eval_detail;

namespace {

/// Runs `kernel(s, in, out)` for a convolution of geometry `s` in bands of
/// output rows, in parallel when the convolution is large. Each band is the
/// same kernel on a shape with fewer output rows (and the top padding moved
/// by the rows before it), so every output pixel is computed exactly as by
/// one call over the whole tensor.
template <typename T, typename Kernel>
void convInBands(MLIRContext *ctx, const rt::Conv2DShape &s, int64_t inC,
                 const float *in, T *out, Kernel &&kernel) {
  const int64_t rows = s.n * s.oh;
  // Multiply-adds of one output row.
  const int64_t rowWork = s.ow * s.oc * s.kh * s.kw * inC;
  const int64_t bands = std::min<int64_t>(
      rows, ctx->isMultithreadingEnabled() && rows * rowWork >= (1 << 20)
                ? 4 * static_cast<int64_t>(ctx->getNumThreads())
                : 1);
  if (bands <= 1) {
    kernel(s, in, out);
    return;
  }
  mlir::parallelFor(ctx, 0, static_cast<size_t>(bands), [&](size_t band) {
    int64_t begin = rows * static_cast<int64_t>(band) / bands;
    int64_t end = rows * static_cast<int64_t>(band + 1) / bands;
    // Split the band at image boundaries (one kernel call per image).
    while (begin < end) {
      int64_t b = begin / s.oh, y = begin % s.oh;
      int64_t count = std::min(end - begin, s.oh - y);
      rt::Conv2DShape part = s;
      part.n = 1;
      part.oh = count;
      part.padTop = s.padTop - y * s.strideH;
      kernel(part, in + b * s.h * s.w * s.c,
             out + ((b * s.oh + y) * s.ow) * s.oc);
      begin += count;
    }
  });
}

} // namespace

LogicalResult Evaluator::Impl::conv(Operation *op, bool depthwise) {
  Value inV = op->getOperand(0), wV = op->getOperand(1), bV = op->getOperand(2);
  const HostTensor &in = get(inV);
  const HostTensor &w = get(wV);
  const HostTensor &bias = get(bV);
  ArrayRef<int64_t> pad, stride, dilation;
  auto window = [&](auto c) {
    pad = c.getPad();
    stride = c.getStride();
    dilation = c.getDilation();
  };
  if (auto c = dyn_cast<tosa::Conv2DOp>(op))
    window(c);
  else
    window(cast<tosa::DepthwiseConv2DOp>(op));
  Value result = op->getResult(0);
  ArrayRef<int64_t> os = shapeOf(result);
  rt::Conv2DShape s =
      convShape(in.shape(), os, depthwise ? w.shape()[0] : w.shape()[1],
                depthwise ? w.shape()[1] : w.shape()[2], stride, pad, dilation,
                /*groups=*/1);
  int64_t multiplier = depthwise ? w.shape()[3] : 1;
  // The output size must be what the padding and stride give.
  auto expect = [](int64_t in, int64_t k, int64_t st, int64_t pb, int64_t pa,
                   int64_t d) {
    return (in + pb + pa - d * (k - 1) - 1) / st + 1;
  };
  if (expect(s.h, s.kh, s.strideH, pad[0], pad[1], s.dilationH) != s.oh ||
      expect(s.w, s.kw, s.strideW, pad[2], pad[3], s.dilationW) != s.ow)
    return op->emitError("evaluator: result shape does not match the "
                         "convolution geometry"),
           failure();
  if (bias.numElements() != s.oc && bias.numElements() != 1)
    return op->emitError("evaluator: bias size does not match the channels"),
           failure();
  HostTensor out(kindOf(result), os);
  // A bias of one element broadcasts (TOSA allows it).
  HostTensor fullBias = bias;
  if (bias.numElements() == 1 && s.oc != 1) {
    fullBias = HostTensor(bias.kind(), {s.oc});
    for (int64_t i = 0; i < s.oc; ++i)
      fullBias.setDouble(i, bias.getDouble(0));
    if (!isFloatKind(bias.kind()))
      for (int64_t i = 0; i < s.oc; ++i)
        fullBias.setInt(i, bias.getInt(0));
  }
  if (in.kind() == ElemKind::F32) {
    if (w.kind() != ElemKind::F32 || out.kind() != ElemKind::F32)
      return op->emitError("evaluator: mixed float convolution types"),
             failure();
    const float *wp = w.data<float>(), *bp = fullBias.data<float>();
    MLIRContext *ctx = op->getContext();
    if (depthwise)
      convInBands(
          ctx, s, 1, in.data<float>(), out.data<float>(),
          [&](const rt::Conv2DShape &part, const float *inP, float *outP) {
            rt::depthwiseConv2dF32(inP, wp, bp, outP, part, multiplier);
          });
    else
      convInBands(ctx, s, s.c, in.data<float>(), out.data<float>(),
                  [&](const rt::Conv2DShape &part, const float *inP,
                      float *outP) { rt::conv2dF32(inP, wp, bp, outP, part); });
    set(result, std::move(out));
    return success();
  }
  int32_t inZp = scalarOf<int32_t>(op->getOperand(3));
  int32_t wZp = scalarOf<int32_t>(op->getOperand(4));
  if (fullBias.kind() != out.kind())
    fullBias = fullBias.castTo(out.kind());
  bool ok = withIntKinds(
      in.kind(), w.kind(), out.kind(), [&](auto ti, auto tw, auto ta) {
        using TI = decltype(ti);
        using TW = decltype(tw);
        using TA = decltype(ta);
        if (depthwise)
          rt::depthwiseConv2dInt<TI, TW, TA>(in.data<TI>(), w.data<TW>(),
                                             fullBias.data<TA>(), inZp, wZp,
                                             out.data<TA>(), s, multiplier);
        else
          rt::conv2dInt<TI, TW, TA>(in.data<TI>(), w.data<TW>(),
                                    fullBias.data<TA>(), inZp, wZp,
                                    out.data<TA>(), s);
      });
  if (!ok)
    return op->emitError("evaluator: integer convolution of ")
               << elemName(in.kind()) << " x " << elemName(w.kind()) << " -> "
               << elemName(out.kind()) << " is not supported",
           failure();
  set(result, std::move(out));
  return success();
}

LogicalResult Evaluator::Impl::eval(tosa::MatMulOp op) {
  const HostTensor &a = get(op.getA());
  const HostTensor &b = get(op.getB());
  ArrayRef<int64_t> os = shapeOf(op.getResult());
  HostTensor out(kindOf(op.getResult()), os);
  int64_t batch = a.shape()[0], m = a.shape()[1], k = a.shape()[2],
          n = b.shape()[2];
  if (b.shape()[0] != batch || b.shape()[1] != k)
    return op.emitError("evaluator: matmul operand shapes disagree"), failure();
  if (a.kind() == ElemKind::F32) {
    rt::matmulF32(a.data<float>(), b.data<float>(), out.data<float>(), batch, m,
                  k, n);
    set(op.getResult(), std::move(out));
    return success();
  }
  int32_t aZp = scalarOf<int32_t>(op.getAZp());
  int32_t bZp = scalarOf<int32_t>(op.getBZp());
  bool ok = withIntKinds(
      a.kind(), b.kind(), out.kind(), [&](auto ta, auto tb, auto tc) {
        using TA = decltype(ta);
        using TB = decltype(tb);
        using TC = decltype(tc);
        rt::matmulInt<TA, TB, TC>(a.data<TA>(), b.data<TB>(), out.data<TC>(),
                                  aZp, bZp, batch, m, k, n);
      });
  if (!ok)
    return op.emitError("evaluator: integer matmul of ")
               << elemName(a.kind()) << " x " << elemName(b.kind())
               << " is not supported",
           failure();
  set(op.getResult(), std::move(out));
  return success();
}

LogicalResult Evaluator::Impl::pool(Operation *op, bool isMax) {
  const HostTensor &in = get(op->getOperand(0));
  ArrayRef<int64_t> kernel, stride, pad;
  auto window = [&](auto p) {
    kernel = p.getKernel();
    stride = p.getStride();
    pad = p.getPad();
  };
  if (auto m = dyn_cast<tosa::MaxPool2dOp>(op))
    window(m);
  else
    window(cast<tosa::AvgPool2dOp>(op));
  Value result = op->getResult(0);
  ArrayRef<int64_t> os = shapeOf(result);
  rt::Pool2DShape s{in.shape()[0], in.shape()[1], in.shape()[2], in.shape()[3],
                    os[1],         os[2],         kernel[0],     kernel[1],
                    stride[0],     stride[1],     pad[0],        pad[2]};
  HostTensor out(in.kind(), os);
  if (isMax) {
    withKind(in.kind(), [&](auto tag) {
      using T = decltype(tag);
      rt::maxPool2d<T>(in.data<T>(), out.data<T>(), s);
      return 0;
    });
  } else {
    if (in.kind() != ElemKind::F32)
      return op->emitError("evaluator: integer tosa.avg_pool2d is not "
                           "supported"),
             failure();
    rt::avgPool2dF32(in.data<float>(), out.data<float>(), s,
                     /*countIncludePad=*/false);
  }
  set(result, std::move(out));
  return success();
}

LogicalResult Evaluator::Impl::reduce(Operation *op, bool isMax) {
  const HostTensor &in = get(op->getOperand(0));
  int64_t axis = isMax ? cast<tosa::ReduceMaxOp>(op).getAxis()
                       : cast<tosa::ReduceSumOp>(op).getAxis();
  ArrayRef<int64_t> shape = in.shape();
  int64_t outer = numElements(shape.take_front(axis));
  int64_t len = shape[axis];
  int64_t inner = numElements(shape.drop_front(axis + 1));
  HostTensor out(in.kind(), shapeOf(op->getResult(0)));
  if (in.kind() == ElemKind::F32) {
    rt::reduceF32(in.data<float>(), out.data<float>(), outer, len, inner,
                  isMax);
  } else {
    for (int64_t a = 0; a < outer; ++a)
      for (int64_t c = 0; c < inner; ++c) {
        int64_t acc = isMax ? std::numeric_limits<int64_t>::min() : 0;
        for (int64_t r = 0; r < len; ++r) {
          int64_t v = in.getInt((a * len + r) * inner + c);
          acc = isMax ? std::max(acc, v) : acc + v;
        }
        out.setInt(a * inner + c, acc);
      }
  }
  set(op->getResult(0), std::move(out));
  return success();
}
