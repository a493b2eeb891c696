//===- Products.cpp - Products of two activations -------------------------===//
//
// Part of the lowbit project.
//
//===----------------------------------------------------------------------===//
//
// The elementwise product of two quantized activations (a
// squeeze-and-excitation gate, attention's scaling by a computed value) is
// lowbit.mul: the integer product of the two zero-point-free values and
// one requant by S_a S_b / S_out. The batched matrix product of two
// activations (attention's Q K^T and softmax(.) V) is lowbit.matmul into an
// i32 accumulator (i64 when K 2^(bits_a + bits_b) may not fit) and one
// lowbit.requant by S_a S_b / S_out.
//
//===----------------------------------------------------------------------===//

#include "TosaToLowBit.h"

#include "LowBit/Transforms/FloatFallback.h"
#include "lowbit/runtime/Ops.h"

#include <cmath>

namespace mlir {
namespace lowbit {
namespace tosa_to_lowbit {

/// The epilogue a product accepts: a clamp (ReLU, Clip) and a positive
/// constant scale; no bias, no PReLU.
static LogicalResult checkProductEpilogue(Operation *anchor,
                                          const Epilogue &epi,
                                          double &postScale) {
  postScale = 1.0;
  if (!epi.biasAdds.empty() || epi.slopes)
    return anchor->emitError("convert-tosa-to-lowbit: a constant add or "
                             "PReLU after a product of two activations is "
                             "not supported by the integer target"),
           failure();
  if (epi.scale) {
    std::vector<double> k = perChannel(epi.scale, 1);
    if (k.size() != 1 || !(k[0] > 0) || !std::isfinite(k[0]))
      return anchor->emitError("convert-tosa-to-lowbit: only a positive "
                               "scalar scale may follow a product of two "
                               "activations"),
             failure();
    postScale = k[0];
  }
  return success();
}

FailureOr<Value> TosaToLowBitLowering::activationOperand(OpBuilder &b,
                                                         Value v,
                                                         Operation *at,
                                                         StringRef what,
                                                         unsigned maxBits) {
  auto src = quantizedSource(b, v, at->getLoc());
  if (failed(src)) {
    if (!sourceDiagnosed)
      at->emitError("convert-tosa-to-lowbit: ")
          << what << " is not a quantized activation";
    return failure();
  }
  auto q = activationType(*src);
  if (!q || q.getStorageTypeIntegralWidth() > maxBits)
    return at->emitError("convert-tosa-to-lowbit: ")
               << what << " must be a per-tensor activation of at most "
               << maxBits << " bits",
           failure();
  return src;
}

FailureOr<Value> TosaToLowBitLowering::lowerProduct(OpBuilder &b,
                                                    tosa::MulOp mul,
                                                    const Epilogue &epi,
                                                    RankedTensorType outType) {
  Location loc = mul.getLoc();
  double postScale;
  if (failed(checkProductEpilogue(mul, epi, postScale)))
    return failure();
  if (cast<RankedTensorType>(mul.getType()).getRank() > rt::kMaxMulRank)
    return mul.emitError("convert-tosa-to-lowbit: a product of two "
                         "activations has at most ")
               << rt::kMaxMulRank << " dimensions",
           failure();
  auto lhs = activationOperand(b, mul.getInput1(), mul,
                               "a factor of a product", 16);
  auto rhs = failed(lhs) ? lhs
                         : activationOperand(b, mul.getInput2(), mul,
                                             "a factor of a product", 16);
  if (failed(rhs))
    return failure();
  auto aq = activationType(*lhs), bq = activationType(*rhs);
  auto outQ = cast<quant::UniformQuantizedType>(outType.getElementType());
  auto m = multiplier(
      loc, aq.getScale() * bq.getScale() * postScale / outQ.getScale());
  if (failed(m))
    return failure();
  auto [lo, hi] = saturation(epi, outQ);
  SmallVector<NamedAttribute> attrs = {
      b.getNamedAttr("multiplier", b.getI32IntegerAttr(m->multiplier)),
      b.getNamedAttr("shift", b.getI32IntegerAttr(m->shift)),
      b.getNamedAttr("rounding", roundingAttr(b.getContext()))};
  addSaturation(b, attrs, lo, hi, outQ);
  auto resultType =
      withElement(mul.getType(), outType.getElementType());
  Value r = MulOp::create(b, loc, TypeRange{resultType},
                          ValueRange{*lhs, *rhs}, attrs)
                .getResult();
  return reshapeTo(b, loc, r, outType.getShape());
}

FailureOr<Value>
TosaToLowBitLowering::lowerActivationMatMul(OpBuilder &b, tosa::MatMulOp mm,
                                            const Epilogue &epi,
                                            RankedTensorType outType) {
  Location loc = mm.getLoc();
  double postScale;
  if (failed(checkProductEpilogue(mm, epi, postScale)))
    return failure();
  auto lhs = activationOperand(b, mm.getA(), mm,
                               "an operand of a matrix product", 16);
  auto rhs = failed(lhs) ? lhs
                         : activationOperand(b, mm.getB(), mm,
                                             "an operand of a matrix product",
                                             16);
  if (failed(rhs))
    return failure();
  auto aq = activationType(*lhs), bq = activationType(*rhs);
  auto outQ = cast<quant::UniformQuantizedType>(outType.getElementType());
  // |acc| <= K * max|a - zp_a| * max|b - zp_b|.
  auto span = [](quant::UniformQuantizedType q) {
    return static_cast<double>(std::max(q.getZeroPoint() - q.getStorageTypeMin(),
                                        q.getStorageTypeMax() - q.getZeroPoint()));
  };
  int64_t k = cast<RankedTensorType>(mm.getA().getType()).getDimSize(2);
  bool wide = static_cast<double>(k) * span(aq) * span(bq) >
              static_cast<double>(INT32_MAX);
  auto accType = RankedTensorType::get(
      cast<RankedTensorType>(mm.getType()).getShape(),
      b.getIntegerType(wide ? 64 : 32));
  Value acc = MatMulOp::create(b, loc, accType, *lhs, *rhs).getResult();
  auto m = multiplier(
      loc, aq.getScale() * bq.getScale() * postScale / outQ.getScale());
  if (failed(m))
    return failure();
  auto resultType = withElement(accType, outType.getElementType());
  Value r = perTensorRequant(b, loc, acc, *m, epi, resultType);
  return reshapeTo(b, loc, r, outType.getShape());
}

} // namespace tosa_to_lowbit
} // namespace lowbit
} // namespace mlir
