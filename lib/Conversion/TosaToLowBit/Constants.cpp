//===- Constants.cpp - convert-tosa-to-lowbit: constants, weight codes ----===//
//
// Part of the lowbit project.
//
//===----------------------------------------------------------------------===//
//
// The constants a segment reads: quantized constants behind dequantizes
// (through storage casts, transposes and reshapes), float constants, and the
// log / STLQ codes of weights simulated as decoded float values. Integers
// are read with LowBit/Utils/ConstantReader.h, as everywhere else.
//
//===----------------------------------------------------------------------===//

#include "TosaToLowBit.h"

#include "LowBit/Utils/ConstantReader.h"

#include "lowbit/runtime/ShiftKernels.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Quant/IR/Quant.h"
#include "mlir/IR/BuiltinAttributes.h"

#include <algorithm>
#include <cmath>
#include <string>

namespace mlir {
namespace lowbit {
namespace tosa_to_lowbit {

//===----------------------------------------------------------------------===//
// Reading constants
//===----------------------------------------------------------------------===//

std::optional<std::vector<double>> readFloatConst(Value v) {
  auto cst = v.getDefiningOp<tosa::ConstOp>();
  if (!cst)
    return std::nullopt;
  ElementsAttr attr = cst.getValues();
  if (std::optional<FloatValues> f32 = readFloats(attr))
    return std::vector<double>(f32->values.begin(), f32->values.end());
  // Other float types (f16, bf16, f64), through APFloat.
  auto dense = dyn_cast<DenseFPElementsAttr>(attr);
  if (!dense)
    return std::nullopt;
  std::vector<double> out;
  out.reserve(dense.getNumElements());
  for (const APFloat &f : dense.getValues<APFloat>())
    out.push_back(toDouble(f));
  return out;
}

SmallVector<int64_t> stridesOf(ArrayRef<int64_t> shape) {
  SmallVector<int64_t> s(shape.size(), 1);
  for (int64_t d = static_cast<int64_t>(shape.size()) - 2; d >= 0; --d)
    s[d] = s[d + 1] * shape[d + 1];
  return s;
}

/// Follows the storage-level casts (lowbit.bitcast, quant.scast) of a
/// quantized constant back to its integer attribute.
static std::optional<std::vector<int64_t>> storageValues(Value v) {
  while (true) {
    Operation *def = v.getDefiningOp();
    if (!def)
      return std::nullopt;
    if (auto c = dyn_cast<ConstantOp>(def))
      return readIntegers(c.getValue());
    if (auto c = dyn_cast<tosa::ConstOp>(def))
      return readIntegers(c.getValues());
    if (auto c = dyn_cast<arith::ConstantOp>(def))
      if (auto e = dyn_cast<ElementsAttr>(c.getValue()))
        return readIntegers(e);
    if (isa<BitcastOp, quant::StorageCastOp>(def)) {
      v = def->getOperand(0);
      continue;
    }
    return std::nullopt;
  }
}

std::optional<QConst> traceQuantConst(Value v) {
  if (auto t = v.getDefiningOp<tosa::TransposeOp>()) {
    auto in = traceQuantConst(t.getInput1());
    if (!in)
      return std::nullopt;
    SmallVector<int64_t> perm(t.getPerms().begin(), t.getPerms().end());
    QConst out = *in;
    out.values = permute(in->values, in->shape, perm);
    out.shape.clear();
    for (int64_t p : perm)
      out.shape.push_back(in->shape[p]);
    if (in->axis >= 0)
      out.axis = std::find(perm.begin(), perm.end(), in->axis) - perm.begin();
    return out;
  }
  if (auto r = v.getDefiningOp<tosa::ReshapeOp>()) {
    auto in = traceQuantConst(r.getInput1());
    if (!in)
      return std::nullopt;
    auto type = cast<RankedTensorType>(r.getType());
    ArrayRef<int64_t> shape = type.getShape();
    if (in->axis >= 0) {
      // The quantized dimension must survive as a dimension of the same
      // size with the same number of elements before it (a reshape that
      // only adds or drops unit dimensions around it, or regroups the
      // others).
      int64_t before = 1;
      for (int64_t d = 0; d < in->axis; ++d)
        before *= in->shape[d];
      int64_t newAxis = -1, prefix = 1;
      for (int64_t d = 0; d < static_cast<int64_t>(shape.size()); ++d) {
        if (prefix == before && shape[d] == in->shape[in->axis]) {
          newAxis = d;
          break;
        }
        prefix *= shape[d];
      }
      if (newAxis < 0)
        return std::nullopt;
      in->axis = newAxis;
    }
    in->shape.assign(shape.begin(), shape.end());
    return in;
  }
  // lowbit.dequantize (8-bit weights) or quant.dcast (the int32 biases of
  // imported Q/DQ models).
  Value stored;
  if (auto dq = v.getDefiningOp<DequantizeOp>())
    stored = dq.getInput();
  else if (auto dc = v.getDefiningOp<quant::DequantizeCastOp>())
    stored = dc.getInput();
  else
    return std::nullopt;
  auto values = storageValues(stored);
  if (!values)
    return std::nullopt;
  auto type = cast<RankedTensorType>(stored.getType());
  QConst out;
  out.shape.assign(type.getShape().begin(), type.getShape().end());
  out.values = std::move(*values);
  Type elt = type.getElementType();
  if (auto u = dyn_cast<quant::UniformQuantizedType>(elt)) {
    out.scales = {u.getScale()};
    out.zeroPoints = {u.getZeroPoint()};
    out.storageMin = u.getStorageTypeMin();
    out.storageMax = u.getStorageTypeMax();
  } else if (auto p = dyn_cast<quant::UniformQuantizedPerAxisType>(elt)) {
    out.scales.assign(p.getScales().begin(), p.getScales().end());
    out.zeroPoints.assign(p.getZeroPoints().begin(), p.getZeroPoints().end());
    out.axis = p.getQuantizedDimension();
    out.storageMin = p.getStorageTypeMin();
    out.storageMax = p.getStorageTypeMax();
  } else {
    return std::nullopt;
  }
  return out;
}

std::optional<std::vector<double>> floatValues(Value v) {
  Value c = v;
  while (auto r = c.getDefiningOp<tosa::ReshapeOp>())
    c = r.getInput1();
  if (auto f = readFloatConst(c))
    return f;
  auto q = traceQuantConst(v);
  if (!q)
    return std::nullopt;
  std::vector<double> out(q->values.size());
  SmallVector<int64_t> strides = stridesOf(q->shape);
  for (size_t i = 0; i < out.size(); ++i) {
    int64_t c = q->axis < 0 ? 0 : (i / strides[q->axis]) % q->shape[q->axis];
    out[i] = (q->values[i] - q->zeroPoint(c)) * q->scale(c);
  }
  return out;
}

std::vector<double> perChannel(Value v, int64_t channels) {
  auto values = floatValues(v);
  auto type = dyn_cast<RankedTensorType>(v.getType());
  if (!values || !type || values->empty())
    return {};
  int64_t last = type.getRank() ? type.getShape().back() : 1;
  if (static_cast<int64_t>(values->size()) != last)
    return {}; // varies along another dimension
  if (last == 1)
    return std::vector<double>(channels, (*values)[0]);
  if (last != channels)
    return {};
  return *values;
}

bool isZeroConst(Value v) {
  auto values = readFloatConst(v);
  return values && llvm::all_of(*values, [](double x) { return x == 0.0; });
}

std::optional<SmallVector<int64_t>> constShape(Value v) {
  auto c = v.getDefiningOp<tosa::ConstShapeOp>();
  if (!c)
    return std::nullopt;
  SmallVector<int64_t> out;
  for (const APInt &a :
       cast<DenseElementsAttr>(c.getValues()).getValues<APInt>())
    out.push_back(a.getSExtValue());
  return out;
}

std::optional<std::pair<SmallVector<int64_t>, SmallVector<int64_t>>>
resizeParams(tosa::ResizeOp rs) {
  auto scale = constShape(rs.getScale());
  auto offset = constShape(rs.getOffset());
  if (!scale || !offset || scale->size() != 4 || offset->size() != 2)
    return std::nullopt;
  return std::make_pair(*scale, *offset);
}

int64_t quantizeWith(double x, quant::UniformQuantizedType q) {
  return rt::quantizeValue(static_cast<float>(x),
                           static_cast<float>(q.getScale()),
                           static_cast<int32_t>(q.getZeroPoint()),
                           static_cast<int32_t>(q.getStorageTypeMin()),
                           static_cast<int32_t>(q.getStorageTypeMax()));
}

//===----------------------------------------------------------------------===//
// Log and STLQ weights
//===----------------------------------------------------------------------===//

FailureOr<QConst> decodeLogWeights(Operation *anchor,
                                   const std::vector<double> &values,
                                   LogAttr logEnc, STLQAttr stlqEnc) {
  auto fail = [&](const Twine &msg) -> FailureOr<QConst> {
    return anchor->emitError("convert-tosa-to-lowbit: ") << msg, failure();
  };
  unsigned codeBits = logEnc ? logEnc.getBits() : stlqEnc.getBits();
  int64_t maxExp = rt::logMaxCode(codeBits);
  int64_t numScales = logEnc ? logEnc.getNumScales() : stlqEnc.getNumScales();
  auto scaleOf = [&](int64_t c) {
    return logEnc ? logEnc.getScaleValue(c) : stlqEnc.getScaleValue(c);
  };
  QConst q;
  auto wt = cast<RankedTensorType>(anchor->getOperand(1).getType());
  q.shape.assign(wt.getShape().begin(), wt.getShape().end());
  if (numScales > 1 || (logEnc && logEnc.isPerChannel()) ||
      (stlqEnc && stlqEnc.isPerChannel())) {
    // The output-channel dimension of the TOSA weights.
    q.axis = isa<tosa::Conv2DOp>(anchor) ? 0 : 2;
    if (q.axis >= static_cast<int64_t>(q.shape.size()) ||
        q.shape[q.axis] != numScales)
      return fail("log weights have " + Twine(numScales) +
                  " channel scales, not one per output channel");
  }
  for (int64_t c = 0; c < numScales; ++c) {
    q.scales.push_back(std::ldexp(scaleOf(c), -static_cast<int>(maxExp)));
    q.zeroPoints.push_back(0);
  }
  // One word: |w| <= 2^(M-1); two words up to twice that.
  q.storageMax = int64_t(1) << (maxExp - (stlqEnc ? 0 : 1));
  q.storageMin = -q.storageMax;
  int64_t inner = 1;
  for (int64_t d = q.axis + 1; q.axis >= 0 && d < wt.getRank(); ++d)
    inner *= q.shape[d];
  for (auto [i, x] : llvm::enumerate(values)) {
    int64_t c =
        q.axis < 0 ? 0 : (static_cast<int64_t>(i) / inner) % q.shape[q.axis];
    // Two-word values U (2^-a + 2^-b) need more significand bits than
    // float32 has: the float value is the exact one rounded to float32.
    double r = x / q.scales[c];
    double rounded = std::nearbyint(r);
    if (std::fabs(r - rounded) > 1e-6 * std::max(1.0, std::fabs(r)))
      r = std::nan("");
    else
      r = rounded;
    if (!(r >= q.storageMin && r <= q.storageMax))
      return fail("log weight " + std::to_string(x) +
                  " is not a value of its " +
                  (logEnc ? "#lowbit.log" : "#lowbit.stlq") + " encoding");
    q.values.push_back(static_cast<int64_t>(r));
  }
  return q;
}

std::optional<EncodedWeights> encodeLogWeights(Operation *op, const QConst &w,
                                               unsigned bits, LogAttr log,
                                               STLQAttr stlq) {
  rt::LogWeightsDesc d{w.shape[0], 1, 1, w.shape.back(), bits, 0, 0};
  if (w.shape.size() == 4) {
    d.kh = w.shape[1];
    d.kw = w.shape[2];
  }
  std::vector<bool> twoWordTiles;
  if (stlq) {
    d.tileIn = stlq.getInputTile();
    d.tileOut = stlq.getOutputTile();
    SmallVector<int64_t> maskShape = {rt::detail::ceilDiv(d.oc, d.tileOut)};
    if (w.shape.size() == 4)
      maskShape.append({d.kh, d.kw});
    maskShape.push_back(rt::detail::ceilDiv(d.ic, d.tileIn));
    if (stlq.getMask().getType().getShape() != ArrayRef<int64_t>(maskShape)) {
      op->emitError("convert-tosa-to-lowbit: the STLQ mask does not tile the "
                    "weights by [Tn, Tm] = [")
          << d.tileIn << ", " << d.tileOut << "] (run "
          << "lowbit-legalize-stlq-tiles)";
      return std::nullopt;
    }
    for (bool t : stlq.getMask().getValues<bool>())
      twoWordTiles.push_back(t);
  }
  const int64_t count = rt::logWeightCount(d);
  const unsigned words = stlq ? 2 : 1;
  SmallVector<APInt> codes(words * count, APInt(bits, 0));
  int64_t idx = 0;
  for (int64_t o = 0; o < d.oc; ++o)
    for (int64_t ky = 0; ky < d.kh; ++ky)
      for (int64_t kx = 0; kx < d.kw; ++kx)
        for (int64_t i = 0; i < d.ic; ++i, ++idx) {
          const int64_t v = w.values[idx];
          rt::TwoWords q;
          const bool twoWords =
              stlq && twoWordTiles[rt::stlqTileIndex(d, o, ky, kx, i)];
          if (!rt::logSplitInteger(v, bits, q) ||
              (q.second != 0 && !twoWords)) {
            op->emitError("convert-tosa-to-lowbit: weight [")
                << o << ", " << ky << ", " << kx << ", " << i << "] (" << v
                << " units of U 2^-M) is not "
                << (twoWords ? "a sum of two" : "one") << " " << bits
                << "-bit log code" << (twoWords ? "s" : "")
                << (stlq ? " (its tile has " + Twine(twoWords ? 2 : 1) +
                               " word" + (twoWords ? "s" : "") + ")"
                         : Twine(""));
            return std::nullopt;
          }
          codes[idx] = APInt(bits, static_cast<uint64_t>(q.first), true);
          if (stlq)
            codes[count + idx] =
                APInt(bits, static_cast<uint64_t>(q.second), true);
        }
  SmallVector<int64_t> shape(w.shape.begin(), w.shape.end());
  if (stlq)
    shape.insert(shape.begin(), 2);
  auto type =
      RankedTensorType::get(shape, IntegerType::get(op->getContext(), bits));
  EncodedWeights e;
  e.values = DenseElementsAttr::get(type, codes);
  e.encoding = stlq ? Attribute(stlq) : Attribute(log);
  return e;
}

} // namespace tosa_to_lowbit
} // namespace lowbit
} // namespace mlir
