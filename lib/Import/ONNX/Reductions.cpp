//===- Reductions.cpp - ReduceMean, ReduceSum, ReduceMax
//-------------------===//
//
// Part of the lowbit project.
//
//===----------------------------------------------------------------------===//
//
// A reduction over the two spatial axes of an NCHW tensor (torchvision's
// `x.mean([2, 3])`) is a global pool, which the integer target runs as
// lowbit.global_avg_pool / lowbit.max_pool. Any other reduction is a chain
// of tosa.reduce_sum / tosa.reduce_max (and, for a mean, one multiply by
// 1 / count), which the integer target runs in float (float fallback,
// named by its warning).
//
//===----------------------------------------------------------------------===//

#include "ImporterImpl.h"

#include "mlir/Dialect/Tosa/IR/TosaOps.h"

#include <algorithm>

using namespace lowbit::onnx_import;

LogicalResult Importer::importReduce(ReduceKind kind) {
  auto x = attributesAndF32Input({"axes", "keepdims", "noop_with_empty_axes"});
  if (failed(x))
    return failure();
  if ((*x)->constant)
    return unsupported("reduction of a constant tensor");
  int64_t rank = static_cast<int64_t>((*x)->shape.size());
  // Axes: an attribute up to opset 17 (ReduceSum: 12), an input after.
  auto axesAttr = attrInts("axes");
  auto noopAttr = attrInt("noop_with_empty_axes", 0);
  auto keepdimsAttr = attrInt("keepdims", 1);
  if (failed(axesAttr) || failed(noopAttr) || failed(keepdimsAttr))
    return failure();
  SmallVector<int64_t> axes;
  if (*axesAttr) {
    axes = **axesAttr;
  } else if (numInputs() > 1) {
    auto in = optionalConstantInput(1, "axes");
    if (failed(in))
      return failure();
    if (*in) {
      auto ints = integersOf(*in, "axes");
      if (failed(ints))
        return failure();
      axes.assign(ints->begin(), ints->end());
    }
  }
  if (axes.empty()) {
    if (*noopAttr != 0) {
      forwardInput(**x);
      return success();
    }
    for (int64_t d = 0; d < rank; ++d)
      axes.push_back(d);
  }
  for (int64_t &a : axes)
    if (failed(normalizeAxis(a, rank)))
      return failure();
  llvm::sort(axes);
  axes.erase(std::unique(axes.begin(), axes.end()), axes.end());
  bool keepdims = *keepdimsAttr != 0;
  SmallVector<int64_t> kept((*x)->shape), dropped;
  for (int64_t d = 0; d < rank; ++d) {
    if (llvm::is_contained(axes, d))
      kept[d] = 1;
    else
      dropped.push_back((*x)->shape[d]);
  }
  ArrayRef<int64_t> outShape = keepdims ? ArrayRef<int64_t>(kept) : dropped;
  Value v = valueOf(**x);
  Type f32 = b.getF32Type();
  const SmallVector<int64_t> spatial = {2, 3};
  if (rank == 4 && axes == spatial && kind != ReduceKind::Sum) {
    // A global pool over H x W in NHWC.
    ArrayRef<int64_t> s = (*x)->shape;
    SmallVector<NamedAttribute> attrs = {
        named("kernel", b.getDenseI64ArrayAttr({s[2], s[3]})),
        named("stride", b.getDenseI64ArrayAttr({1, 1})),
        named("pad", b.getDenseI64ArrayAttr({0, 0, 0, 0}))};
    auto type = RankedTensorType::get({s[0], 1, 1, s[1]}, f32);
    Value xn = toNHWC(v), y;
    if (kind == ReduceKind::Max) {
      y = create<tosa::MaxPool2dOp>(type, {xn}, attrs);
    } else {
      attrs.push_back(named("acc_type", TypeAttr::get(f32)));
      Value zp = scalarConst(ElemKind::F32, 0.0);
      y = create<tosa::AvgPool2dOp>(type, {xn, zp, zp}, attrs);
    }
    y = reshape(toNCHW(y), outShape);
    setOutput(0, y, ElemKind::F32, outShape);
    return success();
  }
  if (kind == ReduceKind::Mean) {
    v = reshape(emitMean(v, axes), outShape);
    setOutput(0, v, ElemKind::F32, outShape);
    return success();
  }
  // One reduction per axis, keeping the dimension.
  SmallVector<int64_t> shape((*x)->shape);
  for (int64_t a : axes) {
    shape[a] = 1;
    auto type = RankedTensorType::get(shape, f32);
    auto axisAttr = named("axis", b.getI32IntegerAttr(static_cast<int32_t>(a)));
    v = kind == ReduceKind::Max
            ? create<tosa::ReduceMaxOp>(type, {v}, {axisAttr})
            : create<tosa::ReduceSumOp>(type, {v}, {axisAttr});
  }
  v = reshape(v, outShape);
  setOutput(0, v, ElemKind::F32, outShape);
  return success();
}

Value Importer::emitMean(Value v, ArrayRef<int64_t> axes) {
  SmallVector<int64_t> shape(shapeOf(v));
  int64_t rank = shape.size();
  int64_t count = 1;
  for (int64_t a : axes) {
    count *= shape[a];
    shape[a] = 1;
    v = create<tosa::ReduceSumOp>(
        RankedTensorType::get(shape, b.getF32Type()), {v},
        {named("axis", b.getI32IntegerAttr(static_cast<int32_t>(a)))});
  }
  return create<tosa::MulOp>(
      v.getType(),
      {v, scalarConst(ElemKind::F32, 1.0 / static_cast<double>(count), rank),
       mulShift()});
}

LogicalResult Importer::importLayerNorm() {
  // The canonical layer norm (docs/IMPORTER.md): over the axes
  // axis..rank-1,
  //   mean = reduce_sum(x) * (1/n)       d = x - mean
  //   var = reduce_sum(d * d) * (1/n)    y = d * rsqrt(var + eps) * gamma +
  //   beta
  // which is also what the decomposed export (ReduceMean, Sub, Pow 2,
  // ReduceMean, Add, Sqrt, Div, Mul, Add) imports to.
  if (opset < 17)
    return nodeError() << "LayerNormalization is an op of opset 17 and later",
           failure();
  auto x = attributesAndF32Input({"axis", "epsilon", "stash_type"});
  if (failed(x))
    return failure();
  for (int i = 1; i < 3; ++i)
    if (i < node->output_size() && !node->output(i).empty() &&
        isRead(node->output(i)))
      return unsupported(std::string("LayerNormalization output ") +
                         (i == 1 ? "'Mean'" : "'InvStdDev'") + " ('" +
                         node->output(i) +
                         "' is read; lowbit imports output 'Y' only)");
  int64_t rank = (*x)->shape.size();
  auto axisAttr = attrInt("axis", -1);
  auto eps = attrFloat("epsilon", 1e-5f);
  auto stash = attrInt("stash_type", 1);
  if (failed(axisAttr) || failed(eps) || failed(stash))
    return failure();
  if (*stash != 1)
    return unsupported("LayerNormalization stash_type " +
                       std::to_string(*stash) + " (1, float32, only)");
  int64_t axis = *axisAttr;
  if (failed(normalizeAxis(axis, rank)))
    return failure();
  auto scale = requireInput(1);
  if (failed(scale))
    return failure();
  TensorInfo *bias = input(2);
  SmallVector<TensorInfo *, 2> params = {*scale};
  if (bias)
    params.push_back(bias);
  for (TensorInfo *p : params) {
    if (failed(requireF32(*p)))
      return failure();
    auto s = broadcastShape((*x)->shape, p->shape);
    if (failed(s))
      return failure();
    if (ArrayRef<int64_t>(*s) != ArrayRef<int64_t>((*x)->shape))
      return nodeError() << (p == *scale ? "Scale " : "B ")
                         << shapeToString(p->shape)
                         << " does not broadcast to X "
                         << shapeToString((*x)->shape),
             failure();
  }
  SmallVector<int64_t> axes;
  for (int64_t d = axis; d < rank; ++d)
    axes.push_back(d);
  Value v = valueOf(**x);
  auto type = v.getType();
  Value mean = emitMean(v, axes);
  Value d = create<tosa::SubOp>(type, {v, mean});
  Value var = emitMean(create<tosa::MulOp>(type, {d, d, mulShift()}), axes);
  Value ve = create<tosa::AddOp>(var.getType(),
                                 {var, scalarConst(ElemKind::F32, *eps, rank)});
  Value y = create<tosa::MulOp>(
      type, {d, create<tosa::RsqrtOp>(ve.getType(), {ve}), mulShift()});
  y = create<tosa::MulOp>(type,
                          {y, rankExtend(valueOf(**scale), rank), mulShift()});
  if (bias)
    y = create<tosa::AddOp>(type, {y, rankExtend(valueOf(*bias), rank)});
  setOutput(0, y, ElemKind::F32, (*x)->shape);
  return success();
}
