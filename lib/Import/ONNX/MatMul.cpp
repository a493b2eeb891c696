//===- MatMul.cpp - Gemm and MatMul ---------------------------------------===//
//
// Part of the lowbit project.
//
//===----------------------------------------------------------------------===//

#include "ImporterImpl.h"

#include "lowbit/runtime/Kernels.h"

#include "mlir/Dialect/Tosa/IR/TosaOps.h"

using namespace mlir;
using namespace ::lowbit;
using namespace ::lowbit::onnx_import;

//===----------------------------------------------------------------------===//
// Gemm / MatMul
//===----------------------------------------------------------------------===//

LogicalResult Importer::importGemm() {
  if (failed(
          checkAttributes({"alpha", "beta", "transA", "transB", "broadcast"})))
    return failure();
  auto a = requireInput(0);
  auto bb = requireInput(1);
  if (failed(a) || failed(bb))
    return failure();
  if ((*a)->kind != ElemKind::F32 || (*bb)->kind != ElemKind::F32)
    return unsupported("element type: Gemm imports float32 tensors");
  if ((*a)->shape.size() != 2 || (*bb)->shape.size() != 2)
    return nodeError() << "A and B must be matrices", failure();
  auto transA = attrInt("transA", 0), transB = attrInt("transB", 0);
  auto alphaAttr = attrFloat("alpha", 1.0f), betaAttr = attrFloat("beta", 1.0f);
  if (failed(transA) || failed(transB) || failed(alphaAttr) ||
      failed(betaAttr) ||
      failed(checkAttributeTypes({{"broadcast", onnx::AttributeProto::INT}})))
    return failure();
  bool ta = *transA != 0, tb = *transB != 0;
  float alpha = *alphaAttr, beta = *betaAttr;
  int64_t m = ta ? (*a)->shape[1] : (*a)->shape[0];
  int64_t k = ta ? (*a)->shape[0] : (*a)->shape[1];
  int64_t kb = tb ? (*bb)->shape[1] : (*bb)->shape[0];
  int64_t n = tb ? (*bb)->shape[0] : (*bb)->shape[1];
  if (k != kb)
    return nodeError() << "inner dimensions " << k << " and " << kb
                       << " differ",
           failure();
  // Operands as [1, rows, cols]; constants are laid out on the host so the
  // weights stay one constant (which weight quantization looks for).
  auto operand = [&](TensorInfo &t, bool trans, int64_t rows,
                     int64_t cols) -> Value {
    if (t.constant) {
      HostTensor h = *t.constant;
      if (trans) {
        h = HostTensor(t.kind, {t.shape[1], t.shape[0]});
        int32_t perm[2] = {1, 0};
        ::lowbit::rt::transpose(t.constant->raw(), h.raw(), 4,
                                t.constant->shape().data(), perm, 2);
      }
      return materialize(h.reshaped({1, rows, cols}));
    }
    Value v = valueOf(t);
    return reshape(trans ? transpose(v, {1, 0}) : v, {1, rows, cols});
  };
  Value av = operand(**a, ta, m, k);
  Value bv = operand(**bb, tb, k, n);
  Value zp = scalarConst(ElemKind::F32, 0.0);
  Type f32 = b.getF32Type();
  Value y = create<tosa::MatMulOp>(RankedTensorType::get({1, m, n}, f32),
                                   {av, bv, zp, zp});
  y = reshape(y, {m, n});
  if (alpha != 1.0f)
    y = create<tosa::MulOp>(
        y.getType(), {y, scalarConst(ElemKind::F32, alpha, 2), mulShift()});
  if (TensorInfo *c = input(2); c && beta != 0.0f) {
    auto shape = broadcastShape({m, n}, c->shape);
    if (failed(shape))
      return failure();
    if (*shape != SmallVector<int64_t>{m, n})
      return nodeError() << "C " << shapeToString(c->shape)
                         << " does not broadcast to [" << m << ", " << n << "]",
             failure();
    Value cv = rankExtend(valueOf(*c), 2);
    if (beta != 1.0f)
      cv = create<tosa::MulOp>(
          cv.getType(), {cv, scalarConst(ElemKind::F32, beta, 2), mulShift()});
    y = create<tosa::AddOp>(y.getType(), {y, cv});
  }
  setOutput(0, y, ElemKind::F32, {m, n});
  return success();
}

LogicalResult Importer::importMatMul(bool integer, bool qlinear) {
  if (failed(checkAttributes({})))
    return failure();
  int ai = 0, bi = qlinear ? 3 : 1;
  auto a = requireInput(ai);
  auto bt = requireInput(bi);
  if (failed(a) || failed(bt))
    return failure();
  ElemKind ka = (*a)->kind, kb = (*bt)->kind;
  if (!integer && (ka != ElemKind::F32 || kb != ElemKind::F32))
    return unsupported("element type: MatMul imports float32 tensors");
  if (integer)
    for (ElemKind k : {ka, kb})
      if (failed(requireInt8(k)))
        return failure();
  SmallVector<int64_t> as = (*a)->shape, bs = (*bt)->shape;
  if (as.empty() || bs.empty())
    return nodeError() << "operands must have rank >= 1", failure();
  Value av = valueOf(**a), bv = valueOf(**bt);
  bool squeezeA = as.size() == 1, squeezeB = bs.size() == 1;
  if (squeezeA) {
    as = {1, as[0]};
    av = reshape(av, as);
  }
  if (squeezeB) {
    bs = {bs[0], 1};
    bv = reshape(bv, bs);
  }
  int64_t m = as[as.size() - 2], k = as.back(), k2 = bs[bs.size() - 2],
          n = bs.back();
  if (k != k2)
    return nodeError() << "inner dimensions " << k << " and " << k2
                       << " differ",
           failure();
  auto batch = broadcastShape(ArrayRef<int64_t>(as).drop_back(2),
                              ArrayRef<int64_t>(bs).drop_back(2));
  if (failed(batch))
    return failure();
  int64_t nb = numElements(*batch);
  SmallVector<int64_t> outShape(batch->begin(), batch->end());
  outShape.push_back(m);
  outShape.push_back(n);
  if (bs.size() == 2 && as.size() > 2) {
    // A batch of rows by one matrix (a channels-last Linear, ConvNeXt's
    // [N, H, W, C] x [C, 4C]): the rows of every batch are one [1, nb * M,
    // K] operand, rather than the matrix tiled nb times.
    av = reshape(av, {1, nb * m, k});
    bv = reshape(bv, {1, k, n});
    m *= nb;
    nb = 1;
  } else {
    // Broadcast batch dimensions explicitly with tosa.tile when they differ.
    auto expand = [&](Value v, SmallVector<int64_t> s) -> Value {
      SmallVector<int64_t> full(batch->begin(), batch->end());
      full.push_back(s[s.size() - 2]);
      full.push_back(s.back());
      SmallVector<int64_t> ext(full.size() - s.size(), 1);
      ext.append(s.begin(), s.end());
      v = reshape(v, ext);
      if (ext != full) {
        SmallVector<int64_t> mult;
        for (size_t i = 0; i < full.size(); ++i)
          mult.push_back(full[i] / ext[i]);
        v = create<tosa::TileOp>(
            RankedTensorType::get(
                full, cast<ShapedType>(v.getType()).getElementType()),
            {v, constShape(mult)});
      }
      return reshape(v, {nb, s[s.size() - 2], s.back()});
    };
    av = expand(av, as);
    bv = expand(bv, bs);
  }
  auto finish = [&](Value y, ElemKind kind) {
    SmallVector<int64_t> shape = outShape;
    if (squeezeB)
      shape.pop_back();
    if (squeezeA)
      shape.erase(shape.end() - (squeezeB ? 1 : 2));
    y = reshape(y, shape);
    setOutput(0, y, kind, shape);
    return success();
  };
  if (!integer) {
    Value zp = scalarConst(ElemKind::F32, 0.0);
    Value y = create<tosa::MatMulOp>(
        RankedTensorType::get({nb, m, n}, b.getF32Type()), {av, bv, zp, zp});
    return finish(y, ElemKind::F32);
  }
  auto azp = scalarZeroPoint(2, "a zero point");
  auto bzp = scalarZeroPoint(qlinear ? 5 : 3, "b zero point");
  if (failed(azp) || failed(bzp))
    return failure();

  Value acc = create<tosa::MatMulOp>(
      RankedTensorType::get({nb, m, n}, b.getI32Type()),
      {av, bv, zeroPointConst(ka, *azp), zeroPointConst(kb, *bzp)});
  if (!qlinear)
    return finish(acc, ElemKind::I32);
  // b_scale may hold one value per output column (axis 2 of [B, M, N]).
  auto y = emitQLinearRequant(acc, 1, 4, 6, 7, ka, /*axis=*/2);
  if (failed(y))
    return failure();
  ElemKind yKind = *elemKindOf(getElementTypeOrSelf(y->getType()));
  Value ys = *y;
  return finish(ys, yKind);
}
