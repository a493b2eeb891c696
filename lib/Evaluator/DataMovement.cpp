//===- DataMovement.cpp - Reshape, transpose, slice, pad, ... -------------===//
//
// Part of the lowbit project.
//
//===----------------------------------------------------------------------===//
//
// Ops that move elements without computing on them (and resize, whose
// bilinear mode computes with the runtime's rule), in TOSA and lowbit form:
// the runtime's transpose, slice, pad, concat and resize kernels on raw
// bytes.
//
//===----------------------------------------------------------------------===//

#include "EvaluatorImpl.h"

#include "lowbit/runtime/Ops.h"

#include <cstring>

using namespace mlir;
using namespace ::lowbit;
using namespace ::lowbit::eval_detail;

namespace {

/// TOSA / lowbit resize geometry from NHWC shapes, scale [n_y, d_y, n_x,
/// d_x] and offset [y, x].
rt::ResizeShape resizeShape(ArrayRef<int64_t> in, ArrayRef<int64_t> out,
                            ArrayRef<int64_t> scale, ArrayRef<int64_t> offset) {
  return {in[0],
          in[1],
          in[2],
          in[3],
          out[1],
          out[2],
          {scale[0], scale[1], offset[0]},
          {scale[2], scale[3], offset[1]}};
}

} // namespace

//===----------------------------------------------------------------------===//
// TOSA
//===----------------------------------------------------------------------===//

LogicalResult Evaluator::Impl::eval(tosa::TransposeOp o) {
  const HostTensor &in = get(o.getInput1());
  HostTensor out(in.kind(), shapeOf(o.getResult()));
  rt::transpose(in.raw(), out.raw(), elemSize(in.kind()), in.shape().data(),
                o.getPerms().data(), static_cast<int>(in.rank()));
  set(o.getResult(), std::move(out));
  return success();
}

LogicalResult Evaluator::Impl::eval(tosa::ReshapeOp o) {
  set(o.getResult(), get(o.getInput1()).reshaped(shapeOf(o.getResult())));
  return success();
}

LogicalResult Evaluator::Impl::eval(tosa::SliceOp o) {
  auto start = shapeValues(o, o.getStart());
  if (failed(start))
    return failure();
  const HostTensor &in = get(o.getInput1());
  SmallVector<int64_t> size(shapeOf(o.getResult()));
  for (int64_t d = 0; d < in.rank(); ++d)
    if ((*start)[d] < 0 || (*start)[d] + size[d] > in.shape()[d])
      return o.emitError("evaluator: slice out of bounds"), failure();
  HostTensor out(in.kind(), size);
  rt::slice(in.raw(), out.raw(), elemSize(in.kind()), in.shape().data(),
            static_cast<int>(in.rank()), start->data(), size.data());
  set(o.getResult(), std::move(out));
  return success();
}

LogicalResult Evaluator::Impl::eval(tosa::PadOp o) {
  auto padding = shapeValues(o, o.getPadding());
  if (failed(padding))
    return failure();
  const HostTensor &in = get(o.getInput1());
  const HostTensor &pv = get(o.getPadConst());
  SmallVector<int64_t> before, after;
  for (int64_t d = 0; d < in.rank(); ++d) {
    before.push_back((*padding)[2 * d]);
    after.push_back((*padding)[2 * d + 1]);
    if (before.back() < 0 || after.back() < 0)
      return o.emitError("evaluator: negative padding"), failure();
  }
  HostTensor out(in.kind(), shapeOf(o.getResult()));
  rt::pad(in.raw(), out.raw(), elemSize(in.kind()), in.shape().data(),
          static_cast<int>(in.rank()), before.data(), after.data(), pv.raw());
  set(o.getResult(), std::move(out));
  return success();
}

LogicalResult Evaluator::Impl::eval(tosa::ResizeOp o) {
  auto scale = shapeValues(o, o.getScale());
  auto offset = shapeValues(o, o.getOffset());
  if (failed(scale) || failed(offset))
    return failure();
  const HostTensor &in = get(o.getInput());
  HostTensor out(in.kind(), shapeOf(o.getOutput()));
  rt::ResizeShape s = resizeShape(in.shape(), out.shape(), *scale, *offset);
  if (s.y.n < 1 || s.x.n < 1)
    return o.emitError("evaluator: resize scale numerators must be "
                       "positive"),
           failure();
  if (o.getMode() == tosa::ResizeMode::NEAREST_NEIGHBOR)
    rt::resizeNearest(in.raw(), out.raw(), elemSize(in.kind()), s);
  else if (in.kind() == ElemKind::F32)
    rt::resizeBilinearF32(in.data<float>(), out.data<float>(), s);
  else
    return o.emitError("evaluator: integer tosa.resize is not "
                       "supported (lowbit.resize is)"),
           failure();
  set(o.getOutput(), std::move(out));
  return success();
}

LogicalResult Evaluator::Impl::eval(tosa::ConcatOp o) {
  SmallVector<const void *> ptrs;
  SmallVector<const int64_t *> shapes;
  for (Value v : o.getInput1()) {
    ptrs.push_back(get(v).raw());
    shapes.push_back(get(v).shape().data());
  }
  HostTensor out(kindOf(o.getResult()), shapeOf(o.getResult()));
  rt::concat(ptrs.data(), shapes.data(), static_cast<int>(ptrs.size()),
             out.raw(), elemSize(out.kind()), static_cast<int>(out.rank()),
             static_cast<int>(o.getAxis()));
  set(o.getResult(), std::move(out));
  return success();
}

LogicalResult Evaluator::Impl::eval(tosa::TileOp o) {
  const HostTensor &in = get(o.getInput1());
  HostTensor out(in.kind(), shapeOf(o.getResult()));
  size_t es = elemSize(in.kind());
  SmallVector<int64_t, 6> strides(in.rank(), 1);
  for (int64_t d = in.rank() - 2; d >= 0; --d)
    strides[d] = strides[d + 1] * in.shape()[d + 1];
  ArrayRef<int64_t> os = out.shape();
  SmallVector<int64_t, 6> counter(os.size(), 0);
  for (int64_t i = 0, e = out.numElements(); i < e; ++i) {
    int64_t src = 0;
    for (size_t d = 0; d < os.size(); ++d)
      src += (counter[d] % in.shape()[d]) * strides[d];
    std::memcpy(static_cast<char *>(out.raw()) + i * es,
                static_cast<const char *>(in.raw()) + src * es, es);
    for (int64_t d = os.size() - 1; d >= 0; --d) {
      if (++counter[d] < os[d])
        break;
      counter[d] = 0;
    }
  }
  set(o.getResult(), std::move(out));
  return success();
}

LogicalResult Evaluator::Impl::eval(tosa::GatherOp o) {
  // output[n, w, :] = values[n, indices[n, w], :]; TOSA requires every index
  // in [0, K): one outside is an error, never a read out of bounds.
  const HostTensor &values = get(o.getValues());
  const HostTensor &indices = get(o.getIndices());
  ArrayRef<int64_t> vs = values.shape();
  int64_t n = vs[0], k = vs[1], c = vs[2], w = indices.shape()[1];
  if (indices.shape()[0] != n)
    return o.emitError("evaluator: tosa.gather indices ")
               << shapeToString(indices.shape()) << " do not match values "
               << shapeToString(vs),
           failure();
  HostTensor out(values.kind(), shapeOf(o.getResult()));
  size_t row = static_cast<size_t>(c) * elemSize(values.kind());
  const char *src = static_cast<const char *>(values.raw());
  char *dst = static_cast<char *>(out.raw());
  for (int64_t b = 0; b < n; ++b)
    for (int64_t j = 0; j < w; ++j) {
      int64_t idx = indices.getInt(b * w + j);
      if (idx < 0 || idx >= k)
        return o.emitError("evaluator: tosa.gather index ")
                   << idx << " (element " << b * w + j
                   << " of the indices) is out of range [0, " << k << ")",
               failure();
      std::memcpy(dst + (b * w + j) * row, src + (b * k + idx) * row, row);
    }
  set(o.getResult(), std::move(out));
  return success();
}

//===----------------------------------------------------------------------===//
// lowbit
//===----------------------------------------------------------------------===//

LogicalResult Evaluator::Impl::eval(mlir::lowbit::BitcastOp o) {
  // Same bytes under the result's element kind.
  HostTensor out = get(o.getInput());
  ElemKind to = kindOf(o.getResult());
  if (to != out.kind())
    out = out.castTo(to);
  set(o.getResult(), std::move(out));
  return success();
}

LogicalResult Evaluator::Impl::eval(mlir::lowbit::ReshapeOp o) {
  set(o.getResult(), get(o.getInput()).reshaped(o.getType().getShape()));
  return success();
}

LogicalResult Evaluator::Impl::eval(mlir::lowbit::TransposeOp o) {
  const HostTensor &in = get(o.getInput());
  HostTensor out(in.kind(), o.getType().getShape());
  rt::transpose(in.raw(), out.raw(), elemSize(in.kind()), in.shape().data(),
                o.getPerms().data(), static_cast<int>(in.rank()));
  set(o.getResult(), std::move(out));
  return success();
}

LogicalResult Evaluator::Impl::eval(mlir::lowbit::SliceOp o) {
  const HostTensor &in = get(o.getInput());
  HostTensor out(in.kind(), o.getType().getShape());
  rt::slice(in.raw(), out.raw(), elemSize(in.kind()), in.shape().data(),
            static_cast<int>(in.rank()), o.getStart().data(),
            o.getType().getShape().data());
  set(o.getResult(), std::move(out));
  return success();
}

LogicalResult Evaluator::Impl::eval(mlir::lowbit::PadOp o) {
  const HostTensor &in = get(o.getInput());
  HostTensor out(in.kind(), o.getType().getShape());
  SmallVector<int64_t> before, after;
  for (int64_t d = 0; d < in.rank(); ++d) {
    before.push_back(o.getPadding()[2 * d]);
    after.push_back(o.getPadding()[2 * d + 1]);
  }
  // The pad value in the tensor's own element kind.
  HostTensor value(ElemKind::I64, {});
  value.data<int64_t>()[0] = static_cast<int64_t>(o.getPadValue());
  value = value.castTo(in.kind());
  rt::pad(in.raw(), out.raw(), elemSize(in.kind()), in.shape().data(),
          static_cast<int>(in.rank()), before.data(), after.data(),
          value.raw());
  set(o.getResult(), std::move(out));
  return success();
}

LogicalResult Evaluator::Impl::eval(mlir::lowbit::ResizeOp o) {
  const HostTensor &in = get(o.getInput());
  HostTensor out(kindOf(o.getResult()), o.getType().getShape());
  rt::ResizeShape s =
      resizeShape(in.shape(), out.shape(), o.getScale(), o.getOffset());
  if (o.getMode() == "nearest") {
    rt::resizeNearest(in.raw(), out.raw(), elemSize(in.kind()), s);
  } else {
    int32_t zp =
        static_cast<int32_t>(cast<quant::UniformQuantizedType>(
                                 o.getInput().getType().getElementType())
                                 .getZeroPoint());
    withKind(in.kind(), [&](auto t) {
      using T = decltype(t);
      if constexpr (std::is_integral_v<T> && sizeof(T) <= 2)
        rt::resizeBilinearInt<T>(in.data<T>(), out.data<int32_t>(), s, zp);
      return 0;
    });
  }
  set(o.getResult(), std::move(out));
  return success();
}

LogicalResult Evaluator::Impl::eval(mlir::lowbit::ConcatOp o) {
  SmallVector<const void *> ptrs;
  SmallVector<const int64_t *> shapes;
  for (Value v : o.getInputs()) {
    ptrs.push_back(get(v).raw());
    shapes.push_back(get(v).shape().data());
  }
  HostTensor out(kindOf(o.getResult()), o.getType().getShape());
  rt::concat(ptrs.data(), shapes.data(), static_cast<int>(ptrs.size()),
             out.raw(), elemSize(out.kind()), static_cast<int>(out.rank()),
             static_cast<int>(o.getAxis()));
  set(o.getResult(), std::move(out));
  return success();
}
