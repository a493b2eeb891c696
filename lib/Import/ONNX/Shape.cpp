//===- Shape.cpp - Shapes and data movement -------------------------------===//
//
// Part of the lowbit project.
//
//===----------------------------------------------------------------------===//
//
// Shape, data-movement and constant ops. Most compute their result on
// the host when their inputs are constants (the shape subgraphs torch.onnx
// emits), and emits TOSA otherwise.
//
//===----------------------------------------------------------------------===//

#include "ImporterImpl.h"

#include "lowbit/runtime/Kernels.h"

#include "mlir/Dialect/Tosa/IR/TosaOps.h"

#include <cmath>
#include <cstring>

using namespace mlir;
using namespace ::lowbit;
using namespace ::lowbit::onnx_import;

//===----------------------------------------------------------------------===//
// Shape manipulation
//===----------------------------------------------------------------------===//

LogicalResult Importer::importFlatten() {
  auto x = attributesAndInput({"axis"});
  if (failed(x))
    return failure();
  int64_t rank = (*x)->shape.size();
  auto axisAttr = attrAxis("axis", 1, rank);
  if (failed(axisAttr))
    return failure();
  int64_t axis = *axisAttr;
  if (axis < 0 || axis > rank)
    return nodeError() << "axis out of range", failure();
  int64_t outer = 1, inner = 1;
  for (int64_t i = 0; i < rank; ++i)
    (i < axis ? outer : inner) *= (*x)->shape[i];
  SmallVector<int64_t> shape = {outer, inner};
  return setReshapedOutput(**x, shape);
}

LogicalResult Importer::importReshape() {
  auto x = attributesAndInput({"allowzero", "shape"});
  if (failed(x))
    return failure();
  std::vector<int64_t> target;
  if (opset < 5 || attr("shape")) {
    auto shapeAttr = requiredAttrInts("shape");
    if (failed(shapeAttr))
      return failure();
    target.assign(shapeAttr->begin(), shapeAttr->end());
  } else {
    auto s = constantInput(1, "shape");
    if (failed(s))
      return failure();
    auto targetInts = integersOf(*s, "shape");
    if (failed(targetInts))
      return failure();
    target = std::move(*targetInts);
  }
  auto allowZeroAttr = attrInt("allowzero", 0);
  if (failed(allowZeroAttr))
    return failure();
  bool allowZero = *allowZeroAttr != 0;
  SmallVector<int64_t> shape;
  int64_t known = 1, inferred = -1;
  for (size_t i = 0; i < target.size(); ++i) {
    int64_t d = target[i];
    if (d == 0 && !allowZero) {
      if (i >= (*x)->shape.size())
        return nodeError() << "shape copies dimension " << i
                           << " that the input does not have",
               failure();
      d = (*x)->shape[i];
    }
    if (d == -1) {
      if (inferred >= 0)
        return nodeError() << "shape has more than one -1", failure();
      inferred = i;
      shape.push_back(1);
      continue;
    }
    if (d < 0)
      return nodeError() << "invalid dimension " << d << " in shape", failure();
    shape.push_back(d);
    if (__builtin_mul_overflow(known, d, &known))
      return nodeError() << "shape " << shapeToString(target)
                         << " has more elements than a 64-bit count holds",
             failure();
  }
  int64_t total = numElements((*x)->shape);
  if (inferred >= 0) {
    if (known == 0 || total % known)
      return nodeError() << "cannot infer the -1 dimension reshaping "
                         << shapeToString((*x)->shape) << " into "
                         << shapeToString(target),
             failure();
    shape[inferred] = total / known;
  }
  if (numElements(shape) != total)
    return nodeError() << "cannot reshape " << shapeToString((*x)->shape)
                       << " into " << shapeToString(shape),
           failure();
  return setReshapedOutput(**x, shape);
}

LogicalResult Importer::importTranspose() {
  auto x = attributesAndInput({"perm"});
  if (failed(x))
    return failure();
  int64_t rank = (*x)->shape.size();
  auto permAttr = attrInts("perm");
  if (failed(permAttr))
    return failure();
  SmallVector<int64_t> perm;
  if (*permAttr)
    perm = **permAttr;
  else
    for (int64_t i = rank - 1; i >= 0; --i)
      perm.push_back(i);
  if (static_cast<int64_t>(perm.size()) != rank)
    return nodeError() << "perm has " << perm.size() << " entries for rank "
                       << rank,
           failure();
  SmallVector<int32_t> p32;
  SmallVector<bool> seen(rank, false);
  SmallVector<int64_t> shape;
  for (int64_t p : perm) {
    if (p < 0 || p >= rank || seen[p])
      return nodeError() << "perm is not a permutation", failure();
    seen[p] = true;
    p32.push_back(static_cast<int32_t>(p));
    shape.push_back((*x)->shape[p]);
  }
  if ((*x)->constant) {
    HostTensor out((*x)->kind, shape);
    ::lowbit::rt::transpose(
        (*x)->constant->raw(), out.raw(), elemSize((*x)->kind),
        (*x)->constant->shape().data(), p32.data(), static_cast<int>(rank));
    setConstantOutput(0, std::move(out));
    return success();
  }
  setOutput(0, transpose(valueOf(**x), p32), (*x)->kind, shape);
  return success();
}

LogicalResult Importer::importConcat() {
  if (failed(checkAttributes({"axis"})))
    return failure();
  auto axisAttr = requiredAttrInt("axis");
  if (failed(axisAttr))
    return failure();
  SmallVector<TensorInfo *> ins;
  for (int i = 0; i < numInputs(); ++i) {
    auto t = requireInput(i);
    if (failed(t))
      return failure();
    ins.push_back(*t);
  }
  if (ins.empty())
    return nodeError() << "needs at least one input", failure();
  int64_t rank = ins[0]->shape.size();
  int64_t axis = *axisAttr;
  if (axis < 0)
    axis += rank;
  if (axis < 0 || axis >= rank)
    return nodeError() << "axis out of range for rank " << rank, failure();
  SmallVector<int64_t> shape = ins[0]->shape;
  shape[axis] = 0;
  bool allConstant = true;
  for (TensorInfo *t : ins) {
    if (t->kind != ins[0]->kind ||
        static_cast<int64_t>(t->shape.size()) != rank)
      return nodeError() << "inputs must share element type and rank",
             failure();
    for (int64_t d = 0; d < rank; ++d)
      if (d != axis && t->shape[d] != ins[0]->shape[d])
        return nodeError() << "input shapes differ outside the axis", failure();
    shape[axis] += t->shape[axis];
    allConstant &= t->constant.has_value();
  }
  if (allConstant) {
    HostTensor out(ins[0]->kind, shape);
    SmallVector<const void *> ptrs;
    SmallVector<const int64_t *> shapes;
    for (TensorInfo *t : ins) {
      ptrs.push_back(t->constant->raw());
      shapes.push_back(t->constant->shape().data());
    }
    ::lowbit::rt::concat(
        ptrs.data(), shapes.data(), static_cast<int>(ins.size()), out.raw(),
        elemSize(out.kind()), static_cast<int>(rank), static_cast<int>(axis));
    setConstantOutput(0, std::move(out));
    return success();
  }
  SmallVector<Value> vs;
  for (TensorInfo *t : ins)
    if (t->shape[axis] != 0)
      vs.push_back(valueOf(*t));
  Value y = create<tosa::ConcatOp>(
      tensorType(shape, ins[0]->kind), vs,
      {named("axis", b.getI32IntegerAttr(static_cast<int32_t>(axis)))});
  setOutput(0, y, ins[0]->kind, shape);
  return success();
}

LogicalResult Importer::importPad() {
  // The 'pads' and 'value' attributes (before opset 11) are read below.
  auto x = attributesAndInput({"mode", "pads", "value"});
  if (failed(x) ||
      failed(checkAttributeTypes({{"pads", onnx::AttributeProto::INTS},
                                  {"value", onnx::AttributeProto::FLOAT}})))
    return failure();
  auto mode = attrString("mode", "constant");
  if (failed(mode))
    return failure();
  if (*mode != "constant")
    return unsupported("Pad mode '" + *mode + "' (constant only)");
  int64_t rank = (*x)->shape.size();
  std::vector<int64_t> pads;
  double value = 0.0;
  if (opset < 11) {
    auto p = attrInts("pads");
    auto v = attrFloat("value", 0.0f);
    if (failed(p) || failed(v))
      return failure();
    if (*p)
      pads.assign((*p)->begin(), (*p)->end());
    value = *v;
  } else {
    auto p = constantInput(1, "pads");
    if (failed(p))
      return failure();
    auto padsInts = integersOf(*p, "pads");
    if (failed(padsInts))
      return failure();
    pads = std::move(*padsInts);
    auto cv = optionalConstantInput(2, "constant_value");
    if (failed(cv))
      return failure();
    if (*cv && (*cv)->numElements() > 0)
      value = (*cv)->getDouble(0);
    auto axes = optionalConstantInput(3, "axes");
    if (failed(axes))
      return failure();
    if (*axes) {
      // opset 18 axes: expand pads to all dimensions.
      auto axInts = integersOf(*axes, "axes");
      if (failed(axInts))
        return failure();
      std::vector<int64_t> ax = std::move(*axInts);
      std::vector<int64_t> full(2 * rank, 0);
      if (pads.size() != 2 * ax.size())
        return nodeError() << "pads and axes sizes disagree", failure();
      for (size_t i = 0; i < ax.size(); ++i) {
        int64_t a = ax[i] < 0 ? ax[i] + rank : ax[i];
        full[a] = pads[i];
        full[a + rank] = pads[i + ax.size()];
      }
      pads = full;
    }
  }
  if (static_cast<int64_t>(pads.size()) != 2 * rank)
    return nodeError() << "pads has " << pads.size() << " values for rank "
                       << rank,
           failure();
  SmallVector<int64_t> padding, shape;
  for (int64_t d = 0; d < rank; ++d) {
    if (pads[d] < 0 || pads[d + rank] < 0)
      return unsupported("negative pads (cropping)");
    padding.push_back(pads[d]);
    padding.push_back(pads[d + rank]);
    int64_t size;
    if (__builtin_add_overflow((*x)->shape[d], pads[d], &size) ||
        __builtin_add_overflow(size, pads[d + rank], &size))
      return nodeError() << "pads " << pads[d] << " and " << pads[d + rank]
                         << " overflow dimension " << d,
             failure();
    shape.push_back(size);
  }
  Value y = create<tosa::PadOp>(
      tensorType(shape, (*x)->kind),
      {valueOf(**x), constShape(padding), scalarConst((*x)->kind, value)});
  setOutput(0, y, (*x)->kind, shape);
  return success();
}

LogicalResult Importer::importIdentity() {
  auto x = requireInput(0);
  if (failed(x))
    return failure();
  forwardInput(**x);
  return success();
}

LogicalResult Importer::importDropout() {
  if (failed(checkAttributes({"ratio", "seed", "is_test"})) ||
      failed(checkAttributeTypes({{"ratio", onnx::AttributeProto::FLOAT},
                                  {"seed", onnx::AttributeProto::INT},
                                  {"is_test", onnx::AttributeProto::INT}})))
    return failure();
  // Inference: the identity, with an all-true mask when asked for. So is
  // training mode with a ratio of 0 (torchvision's swin passes its module's
  // training flag and an attention dropout of 0.0 to F.dropout, which
  // exports as training_mode = true): nothing is dropped, the scale is 1.
  auto training = optionalConstantInput(2, "training_mode");
  if (failed(training))
    return failure();
  if (*training && (*training)->numElements() && (*training)->getInt(0) != 0) {
    auto ratio = optionalConstantInput(1, "ratio");
    if (failed(ratio))
      return failure();
    if (!*ratio || (*ratio)->numElements() != 1 ||
        (*ratio)->getDouble(0) != 0.0)
      return unsupported("training_mode = true with a ratio other than 0");
  }
  auto x = requireInput(0);
  if (failed(x))
    return failure();
  forwardInput(**x);
  if (node->output_size() > 1 && !node->output(1).empty()) {
    HostTensor mask(ElemKind::I1, (*x)->shape);
    for (int64_t i = 0; i < mask.numElements(); ++i)
      mask.setInt(i, 1);
    setConstantOutput(1, std::move(mask));
  }
  return success();
}

LogicalResult Importer::importSqueeze(bool unsqueeze) {
  auto x = attributesAndInput({"axes"});
  if (failed(x))
    return failure();
  auto axesAttr = attrInts("axes");
  if (failed(axesAttr))
    return failure();
  std::vector<int64_t> axes;
  if (*axesAttr) {
    axes.assign((*axesAttr)->begin(), (*axesAttr)->end());
  } else if (input(1)) {
    auto a2 = constantInput(1, "axes");
    if (failed(a2))
      return failure();
    auto axesInts = integersOf(*a2, "axes");
    if (failed(axesInts))
      return failure();
    axes = std::move(*axesInts);
  } else if (unsqueeze) {
    return nodeError() << "missing 'axes'", failure();
  }
  SmallVector<int64_t> xs = (*x)->shape, shape;
  if (unsqueeze) {
    int64_t rank = xs.size() + axes.size();
    SmallVector<bool> isNew(rank, false);
    for (int64_t a : axes) {
      if (a < 0)
        a += rank;
      if (a < 0 || a >= rank || isNew[a])
        return nodeError() << "invalid axes", failure();
      isNew[a] = true;
    }
    for (int64_t i = 0, j = 0; i < rank; ++i)
      shape.push_back(isNew[i] ? 1 : xs[j++]);
  } else {
    int64_t rank = xs.size();
    SmallVector<bool> drop(rank, false);
    if (axes.empty()) {
      for (int64_t i = 0; i < rank; ++i)
        drop[i] = xs[i] == 1;
    }
    for (int64_t a : axes) {
      if (a < 0)
        a += rank;
      if (a < 0 || a >= rank || xs[a] != 1)
        return nodeError() << "cannot squeeze axis " << a << " of "
                           << shapeToString(xs),
               failure();
      drop[a] = true;
    }
    for (int64_t i = 0; i < rank; ++i)
      if (!drop[i])
        shape.push_back(xs[i]);
  }
  return setReshapedOutput(**x, shape);
}

LogicalResult Importer::importShape() {
  auto x = attributesAndInput({"start", "end"});
  if (failed(x))
    return failure();
  int64_t rank = (*x)->shape.size();
  auto startAttr = attrInt("start", 0), endAttr = attrInt("end", rank);
  if (failed(startAttr) || failed(endAttr))
    return failure();
  int64_t start = *startAttr, end = *endAttr;
  if (start < 0)
    start += rank;
  if (end < 0)
    end += rank;
  start = std::clamp<int64_t>(start, 0, rank);
  end = std::clamp<int64_t>(end, 0, rank);
  int64_t n = std::max<int64_t>(end - start, 0);
  HostTensor out(ElemKind::I64, {n});
  for (int64_t i = 0; i < n; ++i)
    out.setInt(i, (*x)->shape[start + i]);
  setConstantOutput(0, std::move(out));
  return success();
}

LogicalResult Importer::importGather() {
  auto x = attributesAndInput({"axis"});
  if (failed(x))
    return failure();
  auto indicesInfo = requireInput(1);
  if (failed(indicesInfo))
    return failure();
  SmallVector<int64_t> xs = (*x)->shape;
  int64_t rank = xs.size();
  auto axisAttr = attrAxis("axis", 0, rank);
  if (failed(axisAttr))
    return failure();
  int64_t axis = *axisAttr;
  if (axis < 0 || axis >= rank)
    return nodeError() << "axis out of range", failure();
  if (!(*indicesInfo)->constant)
    return importGatherRuntime(**x, **indicesInfo, axis);
  auto idx = constantInput(1, "indices");
  if (failed(idx))
    return failure();
  auto indicesInts = integersOf(*idx, "indices");
  if (failed(indicesInts))
    return failure();
  std::vector<int64_t> indices = std::move(*indicesInts);
  for (int64_t &i : indices) {
    if (i < 0)
      i += xs[axis];
    if (i < 0 || i >= xs[axis])
      return nodeError() << "index out of range", failure();
  }
  // out shape = xs[:axis] + indices.shape + xs[axis+1:]
  SmallVector<int64_t> shape(xs.begin(), xs.begin() + axis);
  shape.append((*idx)->shape().begin(), (*idx)->shape().end());
  shape.append(xs.begin() + axis + 1, xs.end());
  int64_t outer = numElements(ArrayRef<int64_t>(xs).take_front(axis));
  int64_t inner = numElements(ArrayRef<int64_t>(xs).drop_front(axis + 1));
  if ((*x)->constant) {
    HostTensor out((*x)->kind, shape);
    size_t es = elemSize((*x)->kind);
    const char *src = static_cast<const char *>((*x)->constant->raw());
    char *dst = static_cast<char *>(out.raw());
    for (int64_t o = 0; o < outer; ++o)
      for (size_t k = 0; k < indices.size(); ++k)
        std::memcpy(dst + ((o * indices.size() + k) * inner) * es,
                    src + ((o * xs[axis] + indices[k]) * inner) * es,
                    inner * es);
    setConstantOutput(0, std::move(out));
    return success();
  }
  // Runtime data with constant indices: one slice per index, concatenated.
  Value v = valueOf(**x);
  SmallVector<Value> parts;
  SmallVector<int64_t> sliceShape = xs;
  sliceShape[axis] = 1;
  for (int64_t i : indices) {
    SmallVector<int64_t> start(rank, 0);
    start[axis] = i;
    parts.push_back(
        create<tosa::SliceOp>(tensorType(sliceShape, (*x)->kind),
                              {v, constShape(start), constShape(sliceShape)}));
  }
  SmallVector<int64_t> catShape = xs;
  catShape[axis] = indices.size();
  Value y = parts.size() == 1
                ? parts[0]
                : create<tosa::ConcatOp>(
                      tensorType(catShape, (*x)->kind), parts,
                      {named("axis",
                             b.getI32IntegerAttr(static_cast<int32_t>(axis)))});
  y = reshape(y, shape);
  setOutput(0, y, (*x)->kind, shape);
  return success();
}

LogicalResult Importer::importGatherRuntime(TensorInfo &x, TensorInfo &idx,
                                            int64_t axis) {
  // Token embeddings: a table gathered by runtime ids. tosa.gather picks
  // rows of [N, K, C] by [N, W] indices, so the data is viewed as
  // [outer, K, inner] around the axis and the (flattened) indices are tiled
  // over `outer`. ONNX allows negative indices (counted from the end); TOSA
  // does not, so they are moved up by K first. An index outside [-K, K) is
  // an error of the evaluator at run time.
  if (idx.kind != ElemKind::I64 && idx.kind != ElemKind::I32)
    return nodeError() << "indices must be int64 or int32, not "
                       << elemName(idx.kind),
           failure();
  if (x.kind == ElemKind::F64)
    return unsupportedElemType(x.kind, " at run time");
  ArrayRef<int64_t> xs = x.shape;
  int64_t k = xs[axis];
  int64_t outer = numElements(xs.take_front(axis));
  int64_t inner = numElements(xs.drop_front(axis + 1));
  int64_t w = numElements(idx.shape);
  Value iv = reshape(valueOf(idx), {1, w});
  auto itype = tensorType({1, w}, idx.kind);
  Value isNeg = create<tosa::GreaterOp>(tensorType({1, w}, ElemKind::I1),
                                        {scalarConst(idx.kind, 0.0, 2), iv});
  Value moved = create<tosa::AddOp>(
      itype, {iv, scalarConst(idx.kind, static_cast<double>(k), 2)});
  iv = create<tosa::SelectOp>(itype, {isNeg, moved, iv});
  if (outer > 1)
    iv = create<tosa::TileOp>(tensorType({outer, w}, idx.kind),
                              {iv, constShape({outer, 1})});
  Value values = reshape(valueOf(x), {outer, k, inner});
  Value g = create<tosa::GatherOp>(tensorType({outer, w, inner}, x.kind),
                                   {values, iv});
  SmallVector<int64_t> shape(xs.begin(), xs.begin() + axis);
  shape.append(idx.shape.begin(), idx.shape.end());
  shape.append(xs.begin() + axis + 1, xs.end());
  setOutput(0, reshape(g, shape), x.kind, shape);
  return success();
}

LogicalResult Importer::importExpand() {
  auto x = attributesAndInput({});
  if (failed(x))
    return failure();
  auto s = constantInput(1, "shape");
  if (failed(s))
    return failure();
  auto ints = integersOf(*s, "shape");
  if (failed(ints))
    return failure();
  if ((*s)->rank() != 1)
    return nodeError() << "shape must be a 1-D tensor, not "
                       << shapeToString((*s)->shape()),
           failure();
  SmallVector<int64_t> target(ints->begin(), ints->end());
  for (int64_t d : target)
    if (d < 0)
      return nodeError() << "negative dimension " << d << " in shape "
                         << shapeToString(target),
             failure();
  // Bidirectional broadcasting: a 1 in `shape` keeps the input's size.
  auto shape = broadcastShape((*x)->shape, target);
  if (failed(shape))
    return failure();
  std::string tooLarge = tensorSizeError((*x)->kind, *shape);
  if (!tooLarge.empty())
    return nodeError() << tooLarge, failure();
  int64_t rank = shape->size();
  if ((*x)->constant) {
    const HostTensor &in = *(*x)->constant;
    HostTensor out(in.kind(), *shape);
    size_t es = elemSize(in.kind());
    char *dst = static_cast<char *>(out.raw());
    const char *src = static_cast<const char *>(in.raw());
    forEachBroadcast(*shape, {&in}, [&](int64_t i, ArrayRef<int64_t> off) {
      std::memcpy(dst + i * es, src + off[0] * es, es);
    });
    setConstantOutput(0, std::move(out));
    return success();
  }
  // An activation: tosa.tile of the rank-extended input.
  Value v = rankExtend(valueOf(**x), rank);
  ArrayRef<int64_t> in = shapeOf(v);
  SmallVector<int64_t> multiples;
  for (int64_t d = 0; d < rank; ++d)
    multiples.push_back((*shape)[d] / in[d]);
  if (llvm::any_of(multiples, [](int64_t m) { return m != 1; }))
    v = create<tosa::TileOp>(tensorType(*shape, (*x)->kind),
                             {v, constShape(multiples)});
  setOutput(0, v, (*x)->kind, *shape);
  return success();
}

LogicalResult Importer::importScatterND() {
  // Folded on constants only: exporters write ScatterND for masks built by
  // slice assignment (swin's shifted-window attention mask), which are
  // constant once shapes are bound.
  if (failed(checkAttributes({"reduction"})))
    return failure();
  auto reduction = attrString("reduction", "none");
  if (failed(reduction))
    return failure();
  if (*reduction != "none" && *reduction != "add" && *reduction != "mul" &&
      *reduction != "max" && *reduction != "min")
    return nodeError() << "unknown reduction '" << *reduction << "'", failure();
  auto data = constantInput(0, "data");
  auto indices = constantInput(1, "indices");
  auto updates = constantInput(2, "updates");
  if (failed(data) || failed(indices) || failed(updates))
    return failure();
  const HostTensor &d = **data, &ix = **indices, &u = **updates;
  if (ix.kind() != ElemKind::I64)
    return unsupportedElemType(ix.kind(), " (indices must be int64)");
  if (u.kind() != d.kind())
    return nodeError() << "updates (" << elemName(u.kind()) << ") and data ("
                       << elemName(d.kind()) << ") differ in element type",
           failure();
  ArrayRef<int64_t> ds = d.shape(), is = ix.shape();
  if (is.empty() || is.back() < 1 ||
      is.back() > static_cast<int64_t>(ds.size()))
    return nodeError() << "indices " << shapeToString(is)
                       << " must end in k with 1 <= k <= rank of data "
                       << shapeToString(ds),
           failure();
  int64_t k = is.back();
  SmallVector<int64_t> expected(is.drop_back());
  expected.append(ds.begin() + k, ds.end());
  if (u.shape() != ArrayRef<int64_t>(expected))
    return nodeError() << "updates " << shapeToString(u.shape())
                       << " must have shape " << shapeToString(expected),
           failure();
  int64_t slice = 1;
  for (int64_t i = k, e = ds.size(); i < e; ++i)
    slice *= ds[i];
  int64_t tuples = slice ? u.numElements() / slice : 0;
  HostTensor out = d;
  bool isFloat = isFloatKind(d.kind());
  for (int64_t t = 0; t < tuples; ++t) {
    int64_t offset = 0;
    for (int64_t j = 0; j < k; ++j) {
      int64_t v = ix.getInt(t * k + j);
      if (v < -ds[j] || v >= ds[j])
        return nodeError() << "index " << v << " out of range for dimension "
                           << j << " of size " << ds[j],
               failure();
      offset = offset * ds[j] + (v < 0 ? v + ds[j] : v);
    }
    offset *= slice;
    for (int64_t e = 0; e < slice; ++e) {
      int64_t o = offset + e, ui = t * slice + e;
      if (isFloat) {
        double a = out.getDouble(o), b = u.getDouble(ui);
        out.setDouble(o, *reduction == "add"   ? a + b
                         : *reduction == "mul" ? a * b
                         : *reduction == "max" ? std::max(a, b)
                         : *reduction == "min" ? std::min(a, b)
                                               : b);
      } else {
        int64_t a = out.getInt(o), b = u.getInt(ui);
        // add and mul wrap as the element type does (modulo 2^64 here,
        // then stored at its width).
        out.setInt(o, *reduction == "add"
                          ? static_cast<int64_t>(static_cast<uint64_t>(a) +
                                                 static_cast<uint64_t>(b))
                      : *reduction == "mul"
                          ? static_cast<int64_t>(static_cast<uint64_t>(a) *
                                                 static_cast<uint64_t>(b))
                      : *reduction == "max" ? std::max(a, b)
                      : *reduction == "min" ? std::min(a, b)
                                            : b);
      }
    }
  }
  setConstantOutput(0, std::move(out));
  return success();
}

LogicalResult Importer::importRange() {
  if (failed(checkAttributes({})))
    return failure();
  const HostTensor *args[3];
  static const char *roles[] = {"start", "limit", "delta"};
  for (int i = 0; i < 3; ++i) {
    auto t = nonEmptyConstantInput(i, roles[i]);
    if (failed(t))
      return failure();
    if ((*t)->numElements() != 1)
      return nodeError() << roles[i] << " must be a scalar, not "
                         << shapeToString((*t)->shape()),
             failure();
    args[i] = *t;
  }
  ElemKind kind = args[0]->kind();
  if (args[1]->kind() != kind || args[2]->kind() != kind)
    return nodeError() << "start, limit and delta must have one element type",
           failure();
  if (kind == ElemKind::I1)
    return unsupportedElemType(kind);
  int64_t n;
  bool isFloat = isFloatKind(kind);
  if (isFloat) {
    double start = args[0]->getDouble(0), limit = args[1]->getDouble(0),
           delta = args[2]->getDouble(0);
    if (delta == 0 || !std::isfinite(start) || !std::isfinite(limit) ||
        !std::isfinite(delta))
      return nodeError() << "Range needs a finite start and limit and a "
                            "non-zero finite delta",
             failure();
    double count = std::ceil((limit - start) / delta);
    if (count > static_cast<double>(kMaxTensorBytes))
      return nodeError() << "Range of " << count << " elements is too large",
             failure();
    n = std::max<int64_t>(0, static_cast<int64_t>(count));
  } else {
    int64_t start = args[0]->getInt(0), limit = args[1]->getInt(0),
            delta = args[2]->getInt(0);
    if (delta == 0)
      return nodeError() << "Range needs a non-zero delta", failure();
    // ceil((limit - start) / delta) without overflow: in 128 bits.
    __int128 span = static_cast<__int128>(limit) - start;
    __int128 q = span / delta;
    if (q * delta != span && ((span > 0) == (delta > 0)))
      ++q;
    if (q > static_cast<__int128>(kMaxTensorBytes))
      return nodeError() << "Range is too large", failure();
    n = q < 0 ? 0 : static_cast<int64_t>(q);
  }
  std::string tooLarge = tensorSizeError(kind, {n});
  if (!tooLarge.empty())
    return nodeError() << tooLarge, failure();
  HostTensor out(kind, {n});
  for (int64_t i = 0; i < n; ++i) {
    if (isFloat) {
      out.setDouble(i, args[0]->getDouble(0) + i * args[2]->getDouble(0));
    } else {
      // Every value lies between start and limit; the product alone may
      // not fit, so the sum is formed modulo 2^64.
      uint64_t v =
          static_cast<uint64_t>(args[0]->getInt(0)) +
          static_cast<uint64_t>(i) * static_cast<uint64_t>(args[2]->getInt(0));
      out.setInt(i, static_cast<int64_t>(v));
    }
  }
  setConstantOutput(0, std::move(out));
  return success();
}

LogicalResult Importer::importConstantOfShape() {
  if (failed(checkAttributes({"value"})))
    return failure();
  auto s = constantInput(0, "shape");
  if (failed(s))
    return failure();
  auto shapeInts = integersOf(*s, "shape");
  if (failed(shapeInts))
    return failure();
  std::vector<int64_t> shape = std::move(*shapeInts);
  for (int64_t d : shape)
    if (d < 0)
      return nodeError() << "negative dimension in shape", failure();
  HostTensor fill(ElemKind::F32, {1});
  auto valueAttr = typedAttr("value", onnx::AttributeProto::TENSOR);
  if (failed(valueAttr))
    return failure();
  if (const auto *a = *valueAttr) {
    auto t = tensorFromProto(a->t());
    if (failed(t))
      return failure();
    fill = std::move(*t);
  }
  if (fill.numElements() != 1)
    return nodeError() << "'value' must hold one element, not "
                       << fill.numElements(),
           failure();
  // The constant is made on the host: refuse what cannot be allocated.
  std::string tooLarge = tensorSizeError(fill.kind(), shape);
  if (!tooLarge.empty())
    return nodeError() << tooLarge, failure();
  HostTensor out(fill.kind(), SmallVector<int64_t>(shape.begin(), shape.end()));
  size_t es = elemSize(fill.kind());
  for (int64_t i = 0; i < out.numElements(); ++i)
    std::memcpy(static_cast<char *>(out.raw()) + i * es, fill.raw(), es);
  setConstantOutput(0, std::move(out));
  return success();
}

LogicalResult Importer::importCast() {
  auto x = attributesAndInput({"to", "saturate"});
  if (failed(x) ||
      failed(checkAttributeTypes({{"saturate", onnx::AttributeProto::INT}})))
    return failure();
  auto toAttr = requiredAttrInt("to");
  if (failed(toAttr))
    return failure();
  auto to = kindOfOnnx(static_cast<int32_t>(*toAttr), "Cast 'to'");
  if (failed(to))
    return failure();
  if ((*x)->constant) {
    setConstantOutput(0, (*x)->constant->castTo(*to));
    return success();
  }
  if (*to == (*x)->kind) {
    forwardInput(**x);
    return success();
  }
  if (*to == ElemKind::F64 || (*x)->kind == ElemKind::F64)
    return unsupported("float64 tensors at run time");
  if (isFloatKind((*x)->kind) && !isFloatKind(*to))
    return unsupported("Cast from float to integer at run time (ONNX "
                       "truncates, TOSA rounds)");
  Value y = create<tosa::CastOp>(tensorType((*x)->shape, *to), {valueOf(**x)});
  setOutput(0, y, *to, (*x)->shape);
  return success();
}

LogicalResult Importer::importConstant() {
  const onnx::AttributeProto *a =
      node->attribute_size() == 1 ? &node->attribute(0) : nullptr;
  if (!a)
    return nodeError() << "needs exactly one value attribute", failure();
  static const llvm::StringMap<AttrType> types = {
      {"value", onnx::AttributeProto::TENSOR},
      {"value_float", onnx::AttributeProto::FLOAT},
      {"value_floats", onnx::AttributeProto::FLOATS},
      {"value_int", onnx::AttributeProto::INT},
      {"value_ints", onnx::AttributeProto::INTS}};
  if (auto it = types.find(a->name());
      it != types.end() && failed(typedAttr(a->name(), it->second)))
    return failure();
  HostTensor t;
  if (a->name() == "value") {
    auto v = tensorFromProto(a->t());
    if (failed(v))
      return failure();
    t = std::move(*v);
  } else if (a->name() == "value_float") {
    t = HostTensor(ElemKind::F32, {});
    t.setDouble(0, a->f());
  } else if (a->name() == "value_floats") {
    t = HostTensor(ElemKind::F32, {a->floats_size()});
    for (int i = 0; i < a->floats_size(); ++i)
      t.setDouble(i, a->floats(i));
  } else if (a->name() == "value_int") {
    t = HostTensor(ElemKind::I64, {});
    t.setInt(0, a->i());
  } else if (a->name() == "value_ints") {
    t = HostTensor(ElemKind::I64, {a->ints_size()});
    for (int i = 0; i < a->ints_size(); ++i)
      t.setInt(i, a->ints(i));
  } else {
    return unsupported("Constant attribute '" + a->name() + "'");
  }
  setConstantOutput(0, std::move(t));
  return success();
}

LogicalResult Importer::importSlice() {
  // The attributes (before opset 10) are read below.
  auto x = attributesAndInput({"starts", "ends", "axes"});
  if (failed(x) ||
      failed(checkAttributeTypes({{"starts", onnx::AttributeProto::INTS},
                                  {"ends", onnx::AttributeProto::INTS},
                                  {"axes", onnx::AttributeProto::INTS}})))
    return failure();
  std::vector<int64_t> starts, ends, axes, steps;
  if (opset < 10) {
    auto s = attrInts("starts"), e = attrInts("ends"), a = attrInts("axes");
    if (failed(s) || failed(e) || failed(a))
      return failure();
    if (!*s || !*e)
      return nodeError() << "missing 'starts'/'ends'", failure();
    starts.assign((*s)->begin(), (*s)->end());
    ends.assign((*e)->begin(), (*e)->end());
    if (*a)
      axes.assign((*a)->begin(), (*a)->end());
  } else {
    auto s = constantInput(1, "starts");
    auto e = constantInput(2, "ends");
    if (failed(s) || failed(e))
      return failure();
    auto startsInts = integersOf(*s, "starts");
    if (failed(startsInts))
      return failure();
    starts = std::move(*startsInts);
    auto endsInts = integersOf(*e, "ends");
    if (failed(endsInts))
      return failure();
    ends = std::move(*endsInts);
    auto a = optionalConstantInput(3, "axes");
    if (failed(a))
      return failure();
    if (*a) {
      auto axesInts = integersOf(*a, "axes");
      if (failed(axesInts))
        return failure();
      axes = std::move(*axesInts);
    }
    auto st = optionalConstantInput(4, "steps");
    if (failed(st))
      return failure();
    if (*st) {
      auto stepsInts = integersOf(*st, "steps");
      if (failed(stepsInts))
        return failure();
      steps = std::move(*stepsInts);
    }
  }
  int64_t rank = (*x)->shape.size();
  if (axes.empty())
    for (size_t i = 0; i < starts.size(); ++i)
      axes.push_back(i);
  if (starts.size() != ends.size() || axes.size() != starts.size())
    return nodeError() << "starts, ends and axes sizes differ", failure();
  if (!steps.empty() && steps.size() != starts.size())
    return nodeError() << "steps and starts sizes differ", failure();
  if (llvm::any_of(steps, [](int64_t s) { return s == 0; }))
    return nodeError() << "a step of 0", failure();
  if (llvm::any_of(steps, [](int64_t s) { return s != 1; })) {
    // Strided and reversed slices (an exporter's reversal of a pads list)
    // are computed on the host; on activations, positive steps are data
    // movement (below) and reversals are not supported.
    if (!(*x)->constant && llvm::any_of(steps, [](int64_t s) { return s < 0; }))
      return unsupported("negative Slice steps on a non-constant tensor");
    SmallVector<int64_t> first(rank, 0), step(rank, 1), count((*x)->shape);
    for (size_t i = 0; i < axes.size(); ++i) {
      int64_t a = axes[i] < 0 ? axes[i] + rank : axes[i];
      if (a < 0 || a >= rank)
        return nodeError() << "axis out of range", failure();
      int64_t dim = (*x)->shape[a], st = steps[i];
      // Starts and ends are clamped before any arithmetic that could
      // overflow (exporters write INT64_MIN / INT64_MAX for "to the end").
      int64_t sv = std::clamp<int64_t>(starts[i], -dim - 1, dim + 1);
      int64_t ev = std::clamp<int64_t>(ends[i], -dim - 1, dim + 1);
      if (sv < 0)
        sv += dim;
      if (ev < 0)
        ev += dim;
      int64_t n;
      if (st > 0) {
        sv = std::clamp<int64_t>(sv, 0, dim);
        ev = std::clamp<int64_t>(ev, 0, dim);
        n = ev > sv ? (ev - sv + st - 1) / st : 0;
      } else {
        sv = std::clamp<int64_t>(sv, 0, dim - 1);
        ev = std::clamp<int64_t>(ev, -1, dim - 1);
        n = sv > ev ? (sv - ev - st - 1) / -st : 0;
      }
      first[a] = sv;
      step[a] = st;
      count[a] = n;
    }
    if (!(*x)->constant) {
      // Per strided axis of size `dim`: the `count * step` elements from
      // `first` (zeros appended where they pass the end), split into
      // [count, step], of which the first column is kept: swin's patch
      // merging x[:, 0::2, 1::2, :].
      Value v = valueOf(**x);
      SmallVector<int64_t> shape((*x)->shape);
      ElemKind kind = (*x)->kind;
      for (int64_t a = 0; a < rank; ++a) {
        if (step[a] == 1 && first[a] == 0 && count[a] == shape[a])
          continue;
        int64_t span = count[a] * step[a];
        int64_t take = std::min(span, shape[a] - first[a]);
        SmallVector<int64_t> begin(rank, 0), size(shape);
        begin[a] = first[a];
        size[a] = take;
        v = create<tosa::SliceOp>(tensorType(size, kind),
                                  {v, constShape(begin), constShape(size)});
        if (step[a] == 1) {
          shape = size;
          continue;
        }
        if (take < span) {
          SmallVector<int64_t> pads(2 * rank, 0);
          pads[2 * a + 1] = span - take;
          size[a] = span;
          v = create<tosa::PadOp>(
              tensorType(size, kind),
              {v, constShape(pads), scalarConst(kind, 0.0)});
        }
        SmallVector<int64_t> split(size);
        split[a] = count[a];
        split.insert(split.begin() + a + 1, step[a]);
        v = reshape(v, split);
        SmallVector<int64_t> colBegin(rank + 1, 0), col(split);
        col[a + 1] = 1;
        v = create<tosa::SliceOp>(tensorType(col, kind),
                                  {v, constShape(colBegin), constShape(col)});
        shape = size;
        shape[a] = count[a];
        v = reshape(v, shape);
      }
      setOutput(0, v, kind, shape);
      return success();
    }
    const HostTensor &in = *(*x)->constant;
    HostTensor out((*x)->kind, count);
    size_t es = elemSize((*x)->kind);
    SmallVector<int64_t> stride(rank, 1), idx(rank, 0);
    for (int64_t d = rank - 2; d >= 0; --d)
      stride[d] = stride[d + 1] * in.shape()[d + 1];
    const char *src = static_cast<const char *>(in.raw());
    char *dst = static_cast<char *>(out.raw());
    for (int64_t e = 0; e < out.numElements(); ++e) {
      int64_t off = 0;
      for (int64_t d = 0; d < rank; ++d)
        off += (first[d] + idx[d] * step[d]) * stride[d];
      std::memcpy(dst + e * es, src + off * es, es);
      for (int64_t d = rank - 1; d >= 0; --d) {
        if (++idx[d] < count[d])
          break;
        idx[d] = 0;
      }
    }
    setConstantOutput(0, std::move(out));
    return success();
  }
  SmallVector<int64_t> begin(rank, 0), size((*x)->shape);
  for (size_t i = 0; i < axes.size(); ++i) {
    int64_t a = axes[i] < 0 ? axes[i] + rank : axes[i];
    if (a < 0 || a >= rank)
      return nodeError() << "axis out of range", failure();
    int64_t dim = (*x)->shape[a];
    int64_t s = starts[i] < 0 ? starts[i] + dim : starts[i];
    int64_t e = ends[i] < 0 ? ends[i] + dim : ends[i];
    s = std::clamp<int64_t>(s, 0, dim);
    e = std::clamp<int64_t>(e, 0, dim);
    begin[a] = s;
    size[a] = std::max<int64_t>(e - s, 0);
  }
  if ((*x)->constant) {
    HostTensor out((*x)->kind, size);
    ::lowbit::rt::slice((*x)->constant->raw(), out.raw(), elemSize((*x)->kind),
                        (*x)->constant->shape().data(), static_cast<int>(rank),
                        begin.data(), size.data());
    setConstantOutput(0, std::move(out));
    return success();
  }
  Value y = create<tosa::SliceOp>(
      tensorType(size, (*x)->kind),
      {valueOf(**x), constShape(begin), constShape(size)});
  setOutput(0, y, (*x)->kind, size);
  return success();
}

LogicalResult Importer::importSplit() {
  auto x = attributesAndInput({"axis", "split", "num_outputs"});
  if (failed(x))
    return failure();
  SmallVector<int64_t> xs = (*x)->shape;
  int64_t rank = static_cast<int64_t>(xs.size());
  auto axisAttr = attrInt("axis", 0);
  auto splitAttr = attrInts("split");
  auto numOutputs = attrInt("num_outputs", node->output_size());
  if (failed(axisAttr) || failed(splitAttr) || failed(numOutputs))
    return failure();
  int64_t axis = *axisAttr;
  if (failed(normalizeAxis(axis, rank)))
    return failure();
  // Part sizes: the 'split' attribute (opset < 13) or input, else equal
  // parts (the last one smaller with num_outputs, opset 18).
  std::vector<int64_t> parts;
  if (*splitAttr) {
    parts.assign((*splitAttr)->begin(), (*splitAttr)->end());
  } else {
    auto in = optionalConstantInput(1, "split");
    if (failed(in))
      return failure();
    if (*in) {
      auto partsInts = integersOf(*in, "split");
      if (failed(partsInts))
        return failure();
      parts = std::move(*partsInts);
    }
  }
  int64_t outputs = node->output_size();
  int64_t dim = xs[axis];
  if (parts.empty()) {
    int64_t n = *numOutputs;
    if (n < 1 || n != outputs)
      return nodeError() << "num_outputs " << n << " does not match the "
                         << outputs << " outputs",
             failure();
    int64_t each = (dim + n - 1) / n;
    for (int64_t i = 0; i < n; ++i)
      parts.push_back(std::max<int64_t>(0, std::min(each, dim - i * each)));
  }
  if (static_cast<int64_t>(parts.size()) != outputs)
    return nodeError() << parts.size() << " split sizes for " << outputs
                       << " outputs",
           failure();
  int64_t total = 0;
  for (int64_t p : parts) {
    if (p < 0 || p > dim)
      return nodeError() << "split size " << p << " is out of range", failure();
    total += p;
  }
  if (total != dim)
    return nodeError() << "split sizes add up to " << total << ", not " << dim,
           failure();
  int64_t offset = 0;
  for (int64_t i = 0; i < outputs; ++i) {
    SmallVector<int64_t> start(rank, 0), size = xs;
    start[axis] = offset;
    size[axis] = parts[i];
    offset += parts[i];
    if (node->output(i).empty())
      continue;
    if (parts[i] == 0)
      return unsupported("an empty Split output");
    if ((*x)->constant) {
      HostTensor out((*x)->kind, size);
      ::lowbit::rt::slice((*x)->constant->raw(), out.raw(),
                          elemSize((*x)->kind), (*x)->constant->shape().data(),
                          static_cast<int>(rank), start.data(), size.data());
      setConstantOutput(i, std::move(out));
      continue;
    }
    Value y = create<tosa::SliceOp>(
        tensorType(size, (*x)->kind),
        {valueOf(**x), constShape(start), constShape(size)});
    setOutput(i, y, (*x)->kind, size);
  }
  return success();
}
