//===- Elementwise.cpp - Arithmetic, activations --------------------------===//
//
// Part of the lowbit project.
//
//===----------------------------------------------------------------------===//

#include "ImporterImpl.h"

#include "lowbit/runtime/Requant.h"

#include "mlir/Dialect/Tosa/IR/TosaOps.h"

#include <cmath>
#include <cstring>
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
    // x / y as x * (1 / y): TOSA has no float division. A division by a
    // square root just imported (LayerNorm's decomposed export, d /
    // sqrt(var + eps)) is a multiply by its reciprocal square root: the
    // canonical layer norm (docs/IMPORTER.md).
    Value r;
    auto sq = sqrtInputs.find(valueOf(**c));
    if (sq != sqrtInputs.end())
      r = rankExtend(create<tosa::RsqrtOp>(sq->second.getType(), {sq->second}),
                     rank);
    else
      r = create<tosa::ReciprocalOp>(cv.getType(), {cv});
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
  StringRef op = node->op_type();
  Value y = op == "Sigmoid" ? create<tosa::SigmoidOp>(type, {v})
            : op == "Tanh"  ? create<tosa::TanhOp>(type, {v})
            : op == "Erf"   ? create<tosa::ErfOp>(type, {v})
                            : create<tosa::ReciprocalOp>(type, {v});
  setOutput(0, y, ElemKind::F32, (*x)->shape);
  return success();
}

LogicalResult Importer::importSqrt() {
  auto x = attributesAndF32Input({});
  if (failed(x))
    return failure();
  Value v = valueOf(**x);
  Value y = create<tosa::PowOp>(
      v.getType(), {v, scalarConst(ElemKind::F32, 0.5, (*x)->shape.size())});
  sqrtInputs[y] = v;
  setOutput(0, y, ElemKind::F32, (*x)->shape);
  return success();
}

LogicalResult Importer::importPow() {
  auto x = attributesAndF32Input({});
  if (failed(x))
    return failure();
  auto e = requireInput(1);
  if (failed(e))
    return failure();
  ElemKind ek = (*e)->kind;
  if (ek == ElemKind::I1)
    return unsupportedElemType(ek, " for the exponent");
  auto shape = broadcastShape((*x)->shape, (*e)->shape);
  if (failed(shape))
    return failure();
  int64_t rank = shape->size();
  auto type = tensorType(*shape, ElemKind::F32);
  if ((*e)->constant) {
    const HostTensor &et = *(*e)->constant;
    if ((*x)->constant) {
      // Folded in float32, as the op computes.
      HostTensor out(ElemKind::F32, *shape);
      float *o = out.data<float>();
      const HostTensor &xt = *(*x)->constant;
      forEachBroadcast(
          *shape, {&xt, &et}, [&](int64_t i, ArrayRef<int64_t> off) {
            o[i] = std::pow(static_cast<float>(xt.getDouble(off[0])),
                            static_cast<float>(et.getDouble(off[1])));
          });
      setConstantOutput(0, std::move(out));
      return success();
    }
    // One exponent for every element (a scalar, or a tensor of one value
    // that does not broadcast X): the exact short forms of the common
    // powers; any other value is a tosa.pow.
    bool uniform = et.numElements() > 0 &&
                   ArrayRef<int64_t>(*shape) == ArrayRef<int64_t>((*x)->shape);
    for (int64_t i = 1; uniform && i < et.numElements(); ++i)
      uniform = et.getDouble(i) == et.getDouble(0);
    if (uniform) {
      Value v = valueOf(**x);
      double c = static_cast<float>(et.getDouble(0));
      Value y;
      if (c == 1.0) {
        forwardInput(**x);
        return success();
      }
      if (c == 2.0 || c == 3.0) {
        y = create<tosa::MulOp>(type, {v, v, mulShift()});
        if (c == 3.0)
          y = create<tosa::MulOp>(type, {y, v, mulShift()});
      } else if (c == 0.5) {
        y = create<tosa::PowOp>(type,
                                {v, scalarConst(ElemKind::F32, 0.5, rank)});
        sqrtInputs[y] = v;
      } else if (c == -1.0) {
        y = create<tosa::ReciprocalOp>(type, {v});
      } else if (c == -0.5) {
        y = create<tosa::RsqrtOp>(type, {v});
      } else {
        y = create<tosa::PowOp>(type, {v, scalarConst(ElemKind::F32, c, rank)});
      }
      setOutput(0, y, ElemKind::F32, *shape);
      return success();
    }
    HostTensor ef = et.kind() == ElemKind::F32 ? et : et.castTo(ElemKind::F32);
    Value y = create<tosa::PowOp>(type, {rankExtend(valueOf(**x), rank),
                                         rankExtend(materialize(ef), rank)});
    setOutput(0, y, ElemKind::F32, *shape);
    return success();
  }
  // A runtime exponent: tosa.pow, an integer one converted to float32.
  Value ev = valueOf(**e);
  if (ek == ElemKind::F64)
    return unsupportedElemType(ek, " for the exponent");
  if (ek != ElemKind::F32)
    ev = create<tosa::CastOp>(tensorType((*e)->shape, ElemKind::F32), {ev});
  Value y = create<tosa::PowOp>(
      type, {rankExtend(valueOf(**x), rank), rankExtend(ev, rank)});
  setOutput(0, y, ElemKind::F32, *shape);
  return success();
}

LogicalResult Importer::importGelu() {
  if (opset < 20)
    return nodeError() << "Gelu is an op of opset 20 and later", failure();
  auto x = attributesAndF32Input({"approximate"});
  if (failed(x))
    return failure();
  auto approx = attrString("approximate", "none");
  if (failed(approx))
    return failure();
  if (*approx != "none" && *approx != "tanh")
    return unsupported("Gelu approximate '" + *approx + "' (none or tanh)");
  int64_t rank = (*x)->shape.size();
  auto type = tensorType((*x)->shape, ElemKind::F32);
  Value v = valueOf(**x);
  auto mulBy = [&](Value a, double c) {
    return create<tosa::MulOp>(
        type, {a, scalarConst(ElemKind::F32, c, rank), mulShift()});
  };
  Value one = scalarConst(ElemKind::F32, 1.0, rank);
  Value inner;
  if (*approx == "none") {
    // 0.5 x (1 + erf(x / sqrt(2)))
    inner = create<tosa::ErfOp>(type, {mulBy(v, M_SQRT1_2)});
  } else {
    // 0.5 x (1 + tanh(sqrt(2 / pi) (x + 0.044715 x^3)))
    Value x3 = create<tosa::MulOp>(
        type, {create<tosa::MulOp>(type, {v, v, mulShift()}), v, mulShift()});
    Value t = create<tosa::AddOp>(type, {v, mulBy(x3, 0.044715)});
    inner = create<tosa::TanhOp>(type, {mulBy(t, std::sqrt(2.0 / M_PI))});
  }
  Value y = create<tosa::MulOp>(
      type, {v, create<tosa::AddOp>(type, {inner, one}), mulShift()});
  y = mulBy(y, 0.5);
  setOutput(0, y, ElemKind::F32, (*x)->shape);
  return success();
}

LogicalResult Importer::importCompare() {
  if (failed(checkAttributes({})))
    return failure();
  auto a = requireInput(0);
  auto c = requireInput(1);
  if (failed(a) || failed(c))
    return failure();
  if ((*a)->kind != (*c)->kind)
    return nodeError() << "operand element types " << elemName((*a)->kind)
                       << " and " << elemName((*c)->kind) << " differ",
           failure();
  ElemKind kind = (*a)->kind;
  auto shape = broadcastShape((*a)->shape, (*c)->shape);
  if (failed(shape))
    return failure();
  StringRef op = node->op_type();
  bool equal = op == "Equal";
  bool swap = op == "Less" || op == "LessOrEqual";
  bool orEqual = op == "LessOrEqual" || op == "GreaterOrEqual";
  if ((*a)->constant && (*c)->constant) {
    const HostTensor &x = *(*a)->constant, &y = *(*c)->constant;
    HostTensor out(ElemKind::I1, *shape);
    bool isFloat = isFloatKind(kind);
    forEachBroadcast(*shape, {&x, &y}, [&](int64_t i, ArrayRef<int64_t> off) {
      // -1, 0 or 1 (x and y unordered when a float is NaN: all false).
      int cmp;
      bool unordered = false;
      if (isFloat) {
        double p = x.getDouble(off[0]), q = y.getDouble(off[1]);
        unordered = std::isnan(p) || std::isnan(q);
        cmp = p < q ? -1 : p > q ? 1 : 0;
      } else {
        int64_t p = x.getInt(off[0]), q = y.getInt(off[1]);
        cmp = p < q ? -1 : p > q ? 1 : 0;
      }
      if (swap)
        cmp = -cmp;
      bool r = !unordered && (equal ? cmp == 0 : orEqual ? cmp >= 0 : cmp > 0);
      out.setInt(i, r);
    });
    setConstantOutput(0, std::move(out));
    return success();
  }
  if (kind == ElemKind::F64)
    return unsupportedElemType(kind, " at run time");
  int64_t rank = shape->size();
  Value av = rankExtend(valueOf(**a), rank);
  Value cv = rankExtend(valueOf(**c), rank);
  if (swap)
    std::swap(av, cv);
  auto type = tensorType(*shape, ElemKind::I1);
  Value y = equal     ? create<tosa::EqualOp>(type, {av, cv})
            : orEqual ? create<tosa::GreaterEqualOp>(type, {av, cv})
                      : create<tosa::GreaterOp>(type, {av, cv});
  setOutput(0, y, ElemKind::I1, *shape);
  return success();
}

LogicalResult Importer::importMod() {
  // Folded on constants only: exporters write Mod in shape arithmetic
  // (swin's padding to a multiple of the window), which shape binding
  // makes constant. A Mod of run-time tensors has no TOSA form here.
  if (failed(checkAttributes({"fmod"})))
    return failure();
  auto fmodAttr = attrInt("fmod", 0);
  if (failed(fmodAttr))
    return failure();
  if (*fmodAttr != 0 && *fmodAttr != 1)
    return nodeError() << "fmod must be 0 or 1, not " << *fmodAttr, failure();
  auto a = constantInput(0, "A");
  auto b = constantInput(1, "B");
  if (failed(a) || failed(b))
    return failure();
  ElemKind kind = (*a)->kind();
  if ((*b)->kind() != kind)
    return nodeError() << "operand element types " << elemName(kind) << " and "
                       << elemName((*b)->kind()) << " differ",
           failure();
  bool isFloat = isFloatKind(kind);
  if (kind == ElemKind::I1)
    return unsupportedElemType(kind);
  if (isFloat && *fmodAttr == 0)
    return nodeError() << "fmod must be 1 for " << elemName(kind)
                       << " operands",
           failure();
  auto shape = broadcastShape((*a)->shape(), (*b)->shape());
  if (failed(shape))
    return failure();
  std::string tooLarge = tensorSizeError(kind, *shape);
  if (!tooLarge.empty())
    return nodeError() << tooLarge, failure();
  HostTensor out(kind, *shape);
  bool divByZero = false;
  forEachBroadcast(*shape, {*a, *b}, [&](int64_t i, ArrayRef<int64_t> off) {
    if (isFloat) {
      out.setDouble(
          i, std::fmod((*a)->getDouble(off[0]), (*b)->getDouble(off[1])));
      return;
    }
    int64_t x = (*a)->getInt(off[0]), y = (*b)->getInt(off[1]);
    if (y == 0) {
      divByZero = true;
      return;
    }
    // In 128 bits: INT64_MIN % -1 does not trap. fmod = 0 takes the
    // divisor's sign (Python's %), fmod = 1 the dividend's (C's %).
    __int128 r = static_cast<__int128>(x) % y;
    if (*fmodAttr == 0 && r != 0 && ((r < 0) != (y < 0)))
      r += y;
    out.setInt(i, static_cast<int64_t>(r));
  });
  if (divByZero)
    return nodeError() << "integer Mod by zero", failure();
  setConstantOutput(0, std::move(out));
  return success();
}

LogicalResult Importer::importLogical() {
  if (failed(checkAttributes({})))
    return failure();
  StringRef op = node->op_type();
  bool isNot = op == "Not";
  SmallVector<TensorInfo *, 2> ins;
  for (int i = 0; i < (isNot ? 1 : 2); ++i) {
    auto t = requireInput(i);
    if (failed(t))
      return failure();
    if ((*t)->kind != ElemKind::I1)
      return unsupportedElemType((*t)->kind,
                                 " (" + op.str() + " takes bool tensors)");
    ins.push_back(*t);
  }
  SmallVector<int64_t> shape = ins[0]->shape;
  if (!isNot) {
    auto s = broadcastShape(ins[0]->shape, ins[1]->shape);
    if (failed(s))
      return failure();
    shape = *s;
  }
  if (llvm::all_of(ins,
                   [](TensorInfo *t) { return t->constant.has_value(); })) {
    HostTensor out(ElemKind::I1, shape);
    SmallVector<const HostTensor *, 2> hs;
    for (TensorInfo *t : ins)
      hs.push_back(&*t->constant);
    forEachBroadcast(shape, hs, [&](int64_t i, ArrayRef<int64_t> off) {
      bool p = hs[0]->getInt(off[0]) != 0;
      bool q = !isNot && hs[1]->getInt(off[1]) != 0;
      out.setInt(i, isNot ? !p : op == "And" ? (p && q) : (p || q));
    });
    setConstantOutput(0, std::move(out));
    return success();
  }
  auto type = tensorType(shape, ElemKind::I1);
  int64_t rank = shape.size();
  Value y;
  if (isNot) {
    y = create<tosa::LogicalNotOp>(type, {valueOf(*ins[0])});
  } else {
    Value p = rankExtend(valueOf(*ins[0]), rank);
    Value q = rankExtend(valueOf(*ins[1]), rank);
    y = op == "And" ? create<tosa::LogicalAndOp>(type, {p, q})
                    : create<tosa::LogicalOrOp>(type, {p, q});
  }
  setOutput(0, y, ElemKind::I1, shape);
  return success();
}

LogicalResult Importer::importWhere() {
  if (failed(checkAttributes({})))
    return failure();
  auto cond = requireInput(0);
  auto x = requireInput(1);
  auto y = requireInput(2);
  if (failed(cond) || failed(x) || failed(y))
    return failure();
  if ((*cond)->kind != ElemKind::I1)
    return nodeError() << "condition must be a bool tensor, not "
                       << elemName((*cond)->kind),
           failure();
  if ((*x)->kind != (*y)->kind)
    return nodeError() << "X and Y element types " << elemName((*x)->kind)
                       << " and " << elemName((*y)->kind) << " differ",
           failure();
  ElemKind kind = (*x)->kind;
  auto xy = broadcastShape((*x)->shape, (*y)->shape);
  if (failed(xy))
    return failure();
  auto shape = broadcastShape((*cond)->shape, *xy);
  if (failed(shape))
    return failure();
  if ((*cond)->constant && (*x)->constant && (*y)->constant) {
    const HostTensor &c = *(*cond)->constant, &a = *(*x)->constant,
                     &bt = *(*y)->constant;
    HostTensor out(kind, *shape);
    size_t es = elemSize(kind);
    char *dst = static_cast<char *>(out.raw());
    forEachBroadcast(*shape, {&c, &a, &bt},
                     [&](int64_t i, ArrayRef<int64_t> off) {
                       bool pick = c.getInt(off[0]) != 0;
                       const HostTensor &src = pick ? a : bt;
                       std::memcpy(dst + i * es,
                                   static_cast<const char *>(src.raw()) +
                                       (pick ? off[1] : off[2]) * es,
                                   es);
                     });
    setConstantOutput(0, std::move(out));
    return success();
  }
  if (kind == ElemKind::F64)
    return unsupportedElemType(kind, " at run time");
  int64_t rank = shape->size();
  Value r = create<tosa::SelectOp>(tensorType(*shape, kind),
                                   {rankExtend(valueOf(**cond), rank),
                                    rankExtend(valueOf(**x), rank),
                                    rankExtend(valueOf(**y), rank)});
  setOutput(0, r, kind, *shape);
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
