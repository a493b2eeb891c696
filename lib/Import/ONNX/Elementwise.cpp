//===- Elementwise.cpp - Arithmetic, activations --------------------------===//
//
// Part of the lowbit project.
//
//===----------------------------------------------------------------------===//

#include "ImporterImpl.h"

#include "lowbit/runtime/Requant.h"

#include "mlir/Dialect/Tosa/IR/TosaOps.h"

#include <limits>

using namespace mlir;
using namespace ::lowbit;
using namespace ::lowbit::onnx_import;

//===----------------------------------------------------------------------===//
// Elementwise
//===----------------------------------------------------------------------===//

LogicalResult Importer::importBinary() {
  // The legacy 'axis' and 'broadcast' (before opset 7) are read below.
  if (failed(checkAttributes({"axis", "broadcast"})) ||
      failed(checkAttributeTypes({{"axis", onnx::AttributeProto::INT},
                                  {"broadcast", onnx::AttributeProto::INT}})))
    return failure();
  auto a = requireInput(0);
  auto c = requireInput(1);
  if (failed(a) || failed(c))
    return failure();
  // Before opset 7, B broadcasts to A only with broadcast = 1, aligned at
  // `axis` (default: trailing dimensions, as numpy does).
  if (opset < 7) {
    auto broadcast = attrInt("broadcast", 0);
    auto axisAttr = typedAttr("axis", onnx::AttributeProto::INT);
    if (failed(broadcast) || failed(axisAttr))
      return failure();
    if (!*broadcast && (*a)->shape != (*c)->shape)
      return nodeError() << "shapes differ without 'broadcast'", failure();
    if (*broadcast && *axisAttr) {
      int64_t ra = (*a)->shape.size(), rb = (*c)->shape.size();
      int64_t axis = (*axisAttr)->i();
      if (axis < 0)
        axis += ra;
      if (axis < 0 || axis + rb > ra)
        return nodeError() << "legacy broadcast axis out of range", failure();
      SmallVector<int64_t> s(ra, 1);
      for (int64_t i = 0; i < rb; ++i)
        s[axis + i] = (*c)->shape[i];
      TensorInfo aligned = **c;
      aligned.shape = s;
      if (aligned.constant)
        aligned.constant = aligned.constant->reshaped(s);
      else
        aligned.value = reshape(valueOf(**c), s);
      values["__legacy_broadcast_" + node->output(0)] = aligned;
      *c = lookup("__legacy_broadcast_" + node->output(0));
    }
  }
  if ((*a)->kind != (*c)->kind)
    return nodeError() << "operand element types " << elemName((*a)->kind)
                       << " and " << elemName((*c)->kind) << " differ",
           failure();
  ElemKind kind = (*a)->kind;
  if (kind == ElemKind::I1 || kind == ElemKind::F64)
    return unsupportedElemType(kind);
  auto shape = broadcastShape((*a)->shape, (*c)->shape);
  if (failed(shape))
    return failure();
  int64_t rank = shape->size();
  Value av = rankExtend(valueOf(**a), rank);
  Value cv = rankExtend(valueOf(**c), rank);
  auto type = tensorType(*shape, kind);
  StringRef op = node->op_type();
  Value y;
  if (op == "Div" && !isFloatKind(kind) && kind != ElemKind::I32 &&
      kind != ElemKind::I64) {
    // tosa.intdiv is i32/i64 only: divide narrower integers in i32.
    auto wide = tensorType(*shape, ElemKind::I32);
    Value q = create<tosa::IntDivOp>(
        wide,
        {create<tosa::CastOp>(tensorType(shapeOf(av), ElemKind::I32), {av}),
         create<tosa::CastOp>(tensorType(shapeOf(cv), ElemKind::I32), {cv})});
    y = create<tosa::CastOp>(type, {q});
  } else if (op == "Add")
    y = create<tosa::AddOp>(type, {av, cv});
  else if (op == "Sub")
    y = create<tosa::SubOp>(type, {av, cv});
  else if (op == "Mul") {
    y = create<tosa::MulOp>(type, {av, cv, mulShift()});
  } else if (isFloatKind(kind)) {
    // x / y as x * (1 / y): TOSA has no float division.
    Value r = create<tosa::ReciprocalOp>(cv.getType(), {cv});
    y = create<tosa::MulOp>(type, {av, r, mulShift()});
  } else {
    y = create<tosa::IntDivOp>(type, {av, cv});
  }
  setOutput(0, y, kind, *shape);
  return success();
}

LogicalResult Importer::importUnary() {
  auto x = attributesAndF32Input({});
  if (failed(x))
    return failure();
  auto type = tensorType((*x)->shape, ElemKind::F32);
  Value v = valueOf(**x);
  Value y = node->op_type() == "Sigmoid" ? create<tosa::SigmoidOp>(type, {v})
                                         : create<tosa::TanhOp>(type, {v});
  setOutput(0, y, ElemKind::F32, (*x)->shape);
  return success();
}

/// tosa.clamp with bounds of the tensor's element type.
static SmallVector<NamedAttribute> clampAttrs(OpBuilder &b, ElemKind kind,
                                              double lo, double hi) {
  if (isFloatKind(kind))
    return {
        b.getNamedAttr("min_val", b.getF32FloatAttr(static_cast<float>(lo))),
        b.getNamedAttr("max_val", b.getF32FloatAttr(static_cast<float>(hi)))};
  Type t = mlirTypeOf(kind, b.getContext());
  return {
      b.getNamedAttr("min_val", b.getIntegerAttr(t, static_cast<int64_t>(lo))),
      b.getNamedAttr("max_val", b.getIntegerAttr(t, static_cast<int64_t>(hi)))};
}

LogicalResult Importer::importRelu() {
  auto x = attributesAndF32Input({});
  if (failed(x))
    return failure();
  Value y = create<tosa::ClampOp>(
      tensorType((*x)->shape, ElemKind::F32), {valueOf(**x)},
      clampAttrs(b, ElemKind::F32, 0.0,
                 std::numeric_limits<float>::infinity()));
  setOutput(0, y, ElemKind::F32, (*x)->shape);
  return success();
}

LogicalResult Importer::importLeakyRelu() {
  auto x = attributesAndF32Input({"alpha"});
  if (failed(x))
    return failure();
  auto alphaAttr = attrFloat("alpha", 0.01f);
  if (failed(alphaAttr))
    return failure();
  float alpha = *alphaAttr;
  int64_t rank = (*x)->shape.size();
  Value v = valueOf(**x);
  auto type = tensorType((*x)->shape, ElemKind::F32);
  Value zero = scalarConst(ElemKind::F32, 0.0, rank);
  Value ge = create<tosa::GreaterEqualOp>(tensorType((*x)->shape, ElemKind::I1),
                                          {v, zero});
  Value scaled = create<tosa::MulOp>(
      type, {v, scalarConst(ElemKind::F32, alpha, rank), mulShift()});
  Value y = create<tosa::SelectOp>(type, {ge, v, scaled});
  setOutput(0, y, ElemKind::F32, (*x)->shape);
  return success();
}

LogicalResult Importer::importPRelu() {
  if (failed(checkAttributes({})))
    return failure();
  auto x = requireInput(0);
  auto slope = requireInput(1);
  if (failed(x) || failed(slope))
    return failure();
  if (failed(requireF32(**x)) || failed(requireF32(**slope)))
    return failure();
  // Slopes broadcast unidirectionally to X. Opset < 9 allowed a [C] slope
  // against NCHW; so does torch's export of per-channel PReLU as [C, 1, 1].
  SmallVector<int64_t> ss = (*slope)->shape;
  int64_t rank = (*x)->shape.size();
  Value sv = valueOf(**slope);
  if (ss.size() == 1 && rank > 2 && ss[0] == (*x)->shape[1] && ss[0] != 1 &&
      (*x)->shape.back() != ss[0]) {
    SmallVector<int64_t> s(rank, 1);
    s[1] = ss[0];
    sv = reshape(sv, s);
    ss = s;
  }
  auto shape = broadcastShape((*x)->shape, ss);
  if (failed(shape))
    return failure();
  if (ArrayRef<int64_t>(*shape) != ArrayRef<int64_t>((*x)->shape))
    return nodeError() << "slope " << shapeToString((*slope)->shape)
                       << " does not broadcast to X "
                       << shapeToString((*x)->shape),
           failure();
  sv = rankExtend(sv, rank);
  Value v = valueOf(**x);
  auto type = tensorType((*x)->shape, ElemKind::F32);
  Value ge =
      create<tosa::GreaterEqualOp>(tensorType((*x)->shape, ElemKind::I1),
                                   {v, scalarConst(ElemKind::F32, 0.0, rank)});
  Value scaled = create<tosa::MulOp>(type, {v, sv, mulShift()});
  Value y = create<tosa::SelectOp>(type, {ge, v, scaled});
  setOutput(0, y, ElemKind::F32, (*x)->shape);
  return success();
}

LogicalResult Importer::importClip() {
  // The 'min' and 'max' attributes (before opset 11) are read below.
  auto x = attributesAndInput({"min", "max"});
  if (failed(x) ||
      failed(checkAttributeTypes({{"min", onnx::AttributeProto::FLOAT},
                                  {"max", onnx::AttributeProto::FLOAT}})))
    return failure();
  ElemKind kind = (*x)->kind;
  if (kind == ElemKind::I1 || kind == ElemKind::F64)
    return unsupportedElemType(kind);
  int64_t rank = (*x)->shape.size();
  Value v = valueOf(**x);
  auto type = tensorType((*x)->shape, kind);
  double lo, hi;
  if (isFloatKind(kind)) {
    lo = -std::numeric_limits<float>::infinity();
    hi = std::numeric_limits<float>::infinity();
  } else {
    unsigned bits = elemSize(kind) * 8;
    lo = static_cast<double>(
        ::lowbit::rt::storageMin(bits, isSignedIntKind(kind)));
    hi = static_cast<double>(
        ::lowbit::rt::storageMax(bits, isSignedIntKind(kind)));
  }
  if (opset < 11) {
    auto minAttr = attrFloat("min", static_cast<float>(lo));
    auto maxAttr = attrFloat("max", static_cast<float>(hi));
    if (failed(minAttr) || failed(maxAttr))
      return failure();
    lo = *minAttr;
    hi = *maxAttr;
  } else {
    // Bounds are optional inputs; non-constant ones become max/min ops.
    Value y = v;
    bool dynamic = false;
    for (int i : {1, 2}) {
      TensorInfo *bound = input(i);
      if (!bound)
        continue;
      if (bound->constant) {
        if (bound->constant->numElements() == 0)
          return nodeError() << (i == 1 ? "min" : "max") << " (input " << i
                             << ", '" << node->input(i) << "') has no elements",
                 failure();
        (i == 1 ? lo : hi) = bound->constant->getDouble(0);
        continue;
      }
      dynamic = true;
      Value bv = rankExtend(valueOf(*bound), rank);
      y = i == 1 ? create<tosa::MaximumOp>(type, {y, bv})
                 : create<tosa::MinimumOp>(type, {y, bv});
    }
    if (dynamic) {
      // Constant bounds of a partly dynamic Clip still apply.
      y = create<tosa::ClampOp>(type, {y}, clampAttrs(b, kind, lo, hi));
      setOutput(0, y, kind, (*x)->shape);
      return success();
    }
  }
  Value y = create<tosa::ClampOp>(type, {v}, clampAttrs(b, kind, lo, hi));
  setOutput(0, y, kind, (*x)->shape);
  return success();
}

LogicalResult Importer::importHardSigmoid(bool swish) {
  auto x = attributesAndF32Input(
      swish ? std::initializer_list<StringRef>{}
            : std::initializer_list<StringRef>{"alpha", "beta"});
  if (failed(x))
    return failure();
  // HardSwish is HardSigmoid with alpha 1/6 and beta 0.5 (no attributes).
  auto alpha = swish ? FailureOr<float>(1.0f / 6.0f) : attrFloat("alpha", 0.2f);
  auto beta = swish ? FailureOr<float>(0.5f) : attrFloat("beta", 0.5f);
  if (failed(alpha) || failed(beta))
    return failure();
  int64_t rank = (*x)->shape.size();
  auto type = tensorType((*x)->shape, ElemKind::F32);
  Value v = valueOf(**x);
  Value shift = mulShift();
  Value ax = create<tosa::MulOp>(
      type, {v, scalarConst(ElemKind::F32, *alpha, rank), shift});
  Value axb =
      create<tosa::AddOp>(type, {ax, scalarConst(ElemKind::F32, *beta, rank)});
  Value hs = create<tosa::ClampOp>(type, {axb},
                                   clampAttrs(b, ElemKind::F32, 0.0, 1.0));
  Value y = swish ? create<tosa::MulOp>(type, {v, hs, shift}) : hs;
  setOutput(0, y, ElemKind::F32, (*x)->shape);
  return success();
}

LogicalResult Importer::importSoftmax() {
  auto x = attributesAndF32Input({"axis"});
  if (failed(x))
    return failure();
  SmallVector<int64_t> xs = (*x)->shape;
  int64_t rank = xs.size();
  auto axisValue = attrAxis("axis", opset < 13 ? 1 : -1, rank);
  if (failed(axisValue))
    return failure();
  int64_t axis = *axisValue;
  if (axis < 0 || axis >= rank)
    return nodeError() << "axis out of range for rank " << rank, failure();
  Value v = valueOf(**x);
  SmallVector<int64_t> work = xs;
  if (opset < 13) {
    // Before opset 13 the input is coerced to 2-D at `axis`.
    int64_t outer = 1, inner = 1;
    for (int64_t i = 0; i < rank; ++i)
      (i < axis ? outer : inner) *= xs[i];
    work = {outer, inner};
    v = reshape(v, work);
    axis = 1;
  }
  auto type = tensorType(work, ElemKind::F32);
  SmallVector<int64_t> reduced = work;
  reduced[axis] = 1;
  auto rtype = tensorType(reduced, ElemKind::F32);
  auto axisAttr =
      named("axis", b.getI32IntegerAttr(static_cast<int32_t>(axis)));
  Value m = create<tosa::ReduceMaxOp>(rtype, {v}, {axisAttr});
  Value e = create<tosa::ExpOp>(type, {create<tosa::SubOp>(type, {v, m})});
  Value s = create<tosa::ReduceSumOp>(rtype, {e}, {axisAttr});
  Value y = create<tosa::MulOp>(
      type, {e, create<tosa::ReciprocalOp>(rtype, {s}), mulShift()});
  y = reshape(y, xs);
  setOutput(0, y, ElemKind::F32, xs);
  return success();
}
