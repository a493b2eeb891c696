//===- TosaToLowBitPass.cpp - Q/DQ float graph to integer lowbit ops ------===//
//
// Part of the lowbit project.
//
//===----------------------------------------------------------------------===//
//
// Every lowbit.quantize of a quantized float graph closes a segment of float
// ops that starts at dequantized values. Each segment is matched as a whole
// and replaced by integer ops that produce the quantize's type directly:
//
//   conv / depthwise / matmul (+ bias add) (+ ReLU / Clip / PReLU) (+ reshape)
//       -> lowbit.conv2d / fully_connected (int32 or int64 accumulator)
//          + lowbit.requant (ReLU / Clip in its saturation range, PReLU as
//            its second multiplier set)
//   max / average pool, reshape, transpose
//       -> lowbit.max_pool / avg_pool / global_avg_pool / reshape /
//          transpose (+ requant when the scale changes)
//   add of two activations      -> lowbit.add
//   concat                      -> lowbit.concat of inputs requantized to
//                                  the result's scale
//
// Transposes and reshapes right before the quantize (an NCHW model's layout
// changes around NHWC ops) are replayed on the segment's integer result, so
// that the segment is lowered in its own layout; lowbit.transpose pairs
// between segments then fold away.
//
// Function arguments that are quantized become quantized arguments, and
// results that are dequantized become quantized results, so the function is
// integer-only. Whatever float op is left afterwards is an error naming it.
//
//===----------------------------------------------------------------------===//

#include "LowBit/IR/LowBitOps.h"
#include "LowBit/Transforms/FloatFallback.h"
#include "lowbit/Conversion/Passes.h"
#include "LowBit/Utils/ConstantReader.h"

#include "lowbit/runtime/Requant.h"
#include "lowbit/runtime/ShiftKernels.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Quant/IR/Quant.h"
#include "mlir/Dialect/Quant/IR/QuantTypes.h"
#include "mlir/Dialect/Tosa/IR/TosaOps.h"
#include "mlir/Dialect/Tosa/Utils/ConversionUtils.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "llvm/ADT/MapVector.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <numeric>

namespace lowbit {
#define GEN_PASS_DEF_CONVERTTOSATOLOWBIT
#include "lowbit/Conversion/Passes.h.inc"
} // namespace lowbit

using namespace mlir;
using namespace mlir::lowbit;
namespace rt = ::lowbit::rt;

namespace {

//===----------------------------------------------------------------------===//
// Constants
//===----------------------------------------------------------------------===//

/// A quantized constant: stored integers, row-major, with its quantization
/// (per tensor, or per axis `axis`).
struct QConst {
  SmallVector<int64_t> shape;
  std::vector<int64_t> values;
  SmallVector<double> scales;
  SmallVector<int64_t> zeroPoints;
  int64_t axis = -1;
  int64_t storageMin = 0, storageMax = 0;

  double scale(int64_t c) const { return scales[axis < 0 ? 0 : c]; }
  int64_t zeroPoint(int64_t c) const { return zeroPoints[axis < 0 ? 0 : c]; }
};

/// An integer op's log / STLQ weights: the codes (`[O, ...]` for one word,
/// `[2, O, ...]` for STLQ) and the encoding attribute.
struct EncodedWeights {
  DenseElementsAttr values;
  Attribute encoding;
};

/// The codes of integer weights `w` (OHWI or OI, values in units of U 2^-M)
/// under `bits`-bit log codes, one word, or two words in the tiles of
/// `stlq`'s mask (split by rt::logSplitInteger). Emits an error at `op` (and
/// returns nothing) when an integer is no such sum, or needs a second word
/// in a one-word tile.
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
  auto type = RankedTensorType::get(
      shape, IntegerType::get(op->getContext(), bits));
  EncodedWeights e;
  e.values = DenseElementsAttr::get(type, codes);
  e.encoding = stlq ? Attribute(stlq) : Attribute(log);
  return e;
}

std::optional<std::vector<double>> readFloatConst(Value v) {
  auto cst = v.getDefiningOp<tosa::ConstOp>();
  if (!cst)
    return std::nullopt;
  ElementsAttr attr = cst.getValues();
  auto type = cast<ShapedType>(attr.getType());
  if (type.getElementType().isF32()) {
    if (auto data = resourceBytes(attr, type.getNumElements(), 4)) {
      std::vector<double> out(type.getNumElements());
      for (size_t i = 0; i < out.size(); ++i) {
        float f;
        std::memcpy(&f, data->data() + i * 4, 4);
        out[i] = f;
      }
      return out;
    }
  }
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

/// out[i] with out shape[d] = in shape[perm[d]].
template <typename T>
std::vector<T> permute(const std::vector<T> &in, ArrayRef<int64_t> shape,
                       ArrayRef<int64_t> perm) {
  SmallVector<int64_t> outShape;
  for (int64_t p : perm)
    outShape.push_back(shape[p]);
  SmallVector<int64_t> inStrides = stridesOf(shape);
  std::vector<T> out(in.size());
  SmallVector<int64_t> idx(perm.size(), 0);
  for (size_t i = 0; i < out.size(); ++i) {
    int64_t src = 0;
    for (size_t d = 0; d < perm.size(); ++d)
      src += idx[d] * inStrides[perm[d]];
    out[i] = in[src];
    for (int64_t d = static_cast<int64_t>(perm.size()) - 1; d >= 0; --d) {
      if (++idx[d] < outShape[d])
        break;
      idx[d] = 0;
    }
  }
  return out;
}

/// Follows the storage-level casts (lowbit.bitcast, quant.scast) of a
/// quantized constant back to its integer attribute.
std::optional<std::vector<int64_t>> storageValues(Value v) {
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

/// The quantized constant behind a float weight operand: a dequantize of a
/// constant, possibly through float transposes and reshapes.
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

/// Float values of a constant operand: a float constant or a dequantized
/// quantized constant.
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

/// A constant that varies at most along the last dimension of `shape`
/// (broadcast to it): one value per channel, or one value. Empty on failure.
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

//===----------------------------------------------------------------------===//
// Types
//===----------------------------------------------------------------------===//

/// Integer kernels read 8- or 16-bit containers: narrower storage keeps its
/// range in a wider container type.
quant::UniformQuantizedType containerType(quant::UniformQuantizedType q) {
  unsigned w = q.getStorageTypeIntegralWidth();
  unsigned cw = w <= 8 ? 8 : (w <= 16 ? 16 : w);
  if (cw == w)
    return q;
  return quant::UniformQuantizedType::get(
      q.getFlags(), IntegerType::get(q.getContext(), cw), q.getExpressedType(),
      q.getScale(), q.getZeroPoint(), q.getStorageTypeMin(),
      q.getStorageTypeMax());
}

RankedTensorType withElement(Type shaped, Type elt) {
  return RankedTensorType::get(cast<ShapedType>(shaped).getShape(), elt);
}

/// Activation quantization of a value's type, or null.
quant::UniformQuantizedType activationType(Value v) {
  auto t = dyn_cast<RankedTensorType>(v.getType());
  return t ? dyn_cast<quant::UniformQuantizedType>(t.getElementType())
           : nullptr;
}

//===----------------------------------------------------------------------===//
// Segment description
//===----------------------------------------------------------------------===//

/// What follows the anchor op of a segment, up to the quantize.
struct Epilogue {
  // Clamp on real values (ReLU, Clip), or none.
  std::optional<double> clampMin, clampMax;
  // PReLU / LeakyReLU slopes (one, or one per channel), or empty.
  Value slopes;
  // Bias add constants after the anchor (Gemm's bias).
  SmallVector<Value> biasAdds;
  // A positive constant scale between the anchor and the output (a hard
  // sigmoid's 1/6 after a convolution): y = k * (acc + b1) + b2. The bias
  // adds from index `scaledFrom` on are the b1 (before the multiply).
  Value scale;
  size_t scaledFrom = 0;
};

/// `min` / `max` attributes for a saturation range narrower than `out`'s
/// storage range (how ReLU and Clip are absorbed).
void addSaturation(OpBuilder &b, SmallVectorImpl<NamedAttribute> &attrs,
                   int64_t lo, int64_t hi, quant::UniformQuantizedType out) {
  if (lo != out.getStorageTypeMin())
    attrs.push_back(b.getNamedAttr("min", b.getI64IntegerAttr(lo)));
  if (hi != out.getStorageTypeMax())
    attrs.push_back(b.getNamedAttr("max", b.getI64IntegerAttr(hi)));
}

/// The values of a tosa.const_shape operand (slice starts, paddings).
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

/// A tosa.resize's constant scale [n_y, d_y, n_x, d_x] and offset.
std::optional<std::pair<SmallVector<int64_t>, SmallVector<int64_t>>>
resizeParams(tosa::ResizeOp rs) {
  auto scale = constShape(rs.getScale());
  auto offset = constShape(rs.getOffset());
  if (!scale || !offset || scale->size() != 4 || offset->size() != 2)
    return std::nullopt;
  return std::make_pair(*scale, *offset);
}

/// A real value quantized with `q` (the runtime's rule), saturated.
int64_t quantizeWith(double x, quant::UniformQuantizedType q) {
  return rt::quantizeValue(static_cast<float>(x),
                           static_cast<float>(q.getScale()),
                           static_cast<int32_t>(q.getZeroPoint()),
                           static_cast<int32_t>(q.getStorageTypeMin()),
                           static_cast<int32_t>(q.getStorageTypeMax()));
}

/// Walks back through reshapes.
Value skipReshapes(Value v) {
  while (auto r = v.getDefiningOp<tosa::ReshapeOp>())
    v = r.getInput1();
  return v;
}

/// Walks back through reshapes and transposes to a function argument.
BlockArgument argumentBehind(Value v) {
  while (Operation *def = v.getDefiningOp()) {
    if (!isa<tosa::ReshapeOp, tosa::TransposeOp>(def))
      return {};
    v = def->getOperand(0);
  }
  return dyn_cast<BlockArgument>(v);
}

/// Replays the reshapes and transposes between a (now quantized) argument
/// and `v` on integers.
Value replayMovement(OpBuilder &b, Value v, BlockArgument arg) {
  if (v == arg)
    return arg;
  Operation *def = v.getDefiningOp();
  Value in = replayMovement(b, def->getOperand(0), arg);
  Type elt = cast<RankedTensorType>(in.getType()).getElementType();
  auto type = withElement(v.getType(), elt);
  if (auto t = dyn_cast<tosa::TransposeOp>(def))
    return TransposeOp::create(b, t.getLoc(), type, in, t.getPermsAttr());
  return ReshapeOp::create(b, def->getLoc(), type, in);
}

/// The importer crops an NHWC input (tosa.slice from 0) so that TOSA's
/// windows fit exactly. When no window of `op` (a convolution or pool) reads
/// the cropped rows and columns, the integer op can read the uncropped
/// tensor: returns it, or `in` unchanged.
Value skipUnusedCrop(Value in, Operation *op) {
  auto sl = in.getDefiningOp<tosa::SliceOp>();
  if (!sl)
    return in;
  auto start = sl.getStart().getDefiningOp<tosa::ConstShapeOp>();
  if (!start)
    return in;
  for (const APInt &v : cast<DenseElementsAttr>(start.getValues())
                            .getValues<APInt>())
    if (!v.isZero())
      return in;
  auto full = cast<RankedTensorType>(sl.getInput1().getType());
  auto cropped = cast<RankedTensorType>(sl.getType());
  auto out = dyn_cast<RankedTensorType>(op->getResult(0).getType());
  if (full.getRank() != 4 || cropped.getRank() != 4 || !out ||
      full.getDimSize(0) != cropped.getDimSize(0) ||
      full.getDimSize(3) != cropped.getDimSize(3))
    return in;
  SmallVector<int64_t> kernel, dilation = {1, 1};
  if (isa<tosa::Conv2DOp>(op)) {
    auto w = cast<RankedTensorType>(op->getOperand(1).getType());
    kernel = {w.getDimSize(1), w.getDimSize(2)};
  } else if (isa<tosa::DepthwiseConv2DOp>(op)) {
    auto w = cast<RankedTensorType>(op->getOperand(1).getType());
    kernel = {w.getDimSize(0), w.getDimSize(1)};
  } else if (auto k = op->getAttrOfType<DenseI64ArrayAttr>("kernel")) {
    kernel.assign(k.asArrayRef().begin(), k.asArrayRef().end());
  } else {
    return in;
  }
  if (auto d = op->getAttrOfType<DenseI64ArrayAttr>("dilation"))
    dilation.assign(d.asArrayRef().begin(), d.asArrayRef().end());
  auto stride = op->getAttrOfType<DenseI64ArrayAttr>("stride");
  auto pad = op->getAttrOfType<DenseI64ArrayAttr>("pad");
  if (!stride || !pad || stride.size() != 2 || pad.size() != 4)
    return in;
  for (int d = 0; d < 2; ++d) {
    int64_t ek = dilation[d] * (kernel[d] - 1) + 1;
    int64_t s = stride[d], pb = pad[2 * d], pa = pad[2 * d + 1];
    int64_t o = out.getDimSize(1 + d);
    int64_t f = full.getDimSize(1 + d), c = cropped.getDimSize(1 + d);
    if (f == c)
      continue;
    // Padding after the crop would read real rows instead of zeros; the
    // output extent must not change; the last window must end in the crop.
    if (pa != 0 || (f + pb + pa - ek) / s + 1 != o ||
        (o - 1) * s + ek - pb > c)
      return in;
  }
  return sl.getInput1();
}

bool isZeroConst(Value v) {
  auto values = readFloatConst(v);
  return values && llvm::all_of(*values, [](double x) { return x == 0.0; });
}

/// Matches select(ge(z, 0), z, mul(z, slope)) and returns z.
Value matchPRelu(Value v, Value &slope) {
  auto sel = v.getDefiningOp<tosa::SelectOp>();
  if (!sel)
    return {};
  auto ge = sel.getInput1().getDefiningOp<tosa::GreaterEqualOp>();
  auto mul = sel.getInput3().getDefiningOp<tosa::MulOp>();
  if (!ge || !mul)
    return {};
  Value z = sel.getInput2();
  if (ge.getInput1() != z || !isZeroConst(ge.getInput2()))
    return {};
  if (mul.getInput1() == z && floatValues(mul.getInput2()))
    slope = mul.getInput2();
  else if (mul.getInput2() == z && floatValues(mul.getInput1()))
    slope = mul.getInput1();
  else
    return {};
  return z;
}

/// Parses the epilogue from the quantize's input backwards; returns the
/// value the epilogue starts from.
Value parseEpilogue(Value v, Epilogue &epi) {
  v = skipReshapes(v);
  if (auto c = v.getDefiningOp<tosa::ClampOp>()) {
    auto lo = dyn_cast<FloatAttr>(c.getMinValAttr());
    auto hi = dyn_cast<FloatAttr>(c.getMaxValAttr());
    if (lo && hi) {
      epi.clampMin = lo.getValueAsDouble();
      epi.clampMax = hi.getValueAsDouble();
      v = skipReshapes(c.getInput());
    }
  } else if (Value slope; Value z = matchPRelu(v, slope)) {
    epi.slopes = slope;
    v = skipReshapes(z);
  }
  // Constant adds: a float constant, or a dequantized constant (the int32
  // bias DequantizeLinear of a Q/DQ Gemm), possibly reshaped.
  auto biasAdds = [&](Value v) {
    while (auto add = v.getDefiningOp<tosa::AddOp>()) {
      if (floatValues(add.getInput2()))
        epi.biasAdds.push_back(add.getInput2()), v = add.getInput1();
      else if (floatValues(add.getInput1()))
        epi.biasAdds.push_back(add.getInput1()), v = add.getInput2();
      else
        break;
      v = skipReshapes(v);
    }
    return v;
  };
  v = biasAdds(v);
  // A positive constant multiply right after a convolution or matrix
  // product (and its bias adds) folds into the weights' scales.
  if (auto mul = v.getDefiningOp<tosa::MulOp>()) {
    Value k = mul.getInput2(), x = mul.getInput1();
    if (!floatValues(k))
      std::swap(k, x);
    DenseElementsAttr shift;
    auto values = floatValues(k);
    bool positive = values && !values->empty() && !floatValues(x) &&
                    llvm::all_of(*values, [](double s) {
                      return s > 0 && std::isfinite(s);
                    }) &&
                    matchPattern(mul.getShift(), m_Constant(&shift)) &&
                    llvm::all_of(shift.getValues<APInt>(),
                                 [](const APInt &a) { return a.isZero(); });
    if (positive) {
      size_t before = epi.biasAdds.size();
      Value start = biasAdds(skipReshapes(x));
      if (isa_and_nonnull<tosa::Conv2DOp, tosa::DepthwiseConv2DOp,
                          tosa::MatMulOp>(start.getDefiningOp())) {
        epi.scale = k;
        epi.scaledFrom = before;
        return start;
      }
      epi.biasAdds.resize(before); // not after a linear op: no epilogue
    }
  }
  return v;
}

//===----------------------------------------------------------------------===//
// The pass
//===----------------------------------------------------------------------===//

struct ConvertTosaToLowBitPass
    : public ::lowbit::impl::ConvertTosaToLowBitBase<ConvertTosaToLowBitPass> {
  using Base::Base;
  void runOnOperation() override;

private:
  LogicalResult lowerQuantize(QuantizeOp q);
  FailureOr<Value> lowerLinear(OpBuilder &b, Operation *anchor,
                               const Epilogue &epi, RankedTensorType outType);
  Operation *affineAsDepthwise(OpBuilder &b, Operation *at, Value x, Value a);
  FailureOr<Value> lowerAdd(OpBuilder &b, tosa::AddOp add, const Epilogue &epi,
                            RankedTensorType outType);
  FailureOr<Value> quantizedSource(OpBuilder &b, Value v, Location loc);
  FailureOr<Value> clampOnlySource(OpBuilder &b, Operation *op, Value in,
                                   const Epilogue &epi, StringRef what);
  FailureOr<Value> lowerPad(OpBuilder &b, tosa::PadOp pad, const Epilogue &epi,
                            RankedTensorType outType);
  FailureOr<Value> lowerBilinearResize(OpBuilder &b, tosa::ResizeOp rs,
                                       const Epilogue &epi,
                                       RankedTensorType outType);
  Value perTensorRequant(OpBuilder &b, Location loc, Value in,
                         rt::ScaleMultiplier m, const Epilogue &epi,
                         RankedTensorType resultType);
  FailureOr<Value> rescale(OpBuilder &b, Location loc, Value in,
                           const Epilogue &epi, RankedTensorType outType);
  Value reshapeTo(OpBuilder &b, Location loc, Value v, ArrayRef<int64_t> shape);
  FailureOr<rt::ScaleMultiplier> multiplier(Location loc, double scale,
                                            bool allowNegative = false);
  std::pair<int64_t, int64_t> saturation(const Epilogue &epi,
                                         quant::UniformQuantizedType out);
  RoundingModeAttr roundingAttr() {
    return RoundingModeAttr::get(&getContext(), RoundingMode::single_round);
  }
  /// Set when quantizedSource has reported why it failed, so that its
  /// callers do not add a second, vaguer error.
  bool sourceDiagnosed = false;
  /// The ops that stay float (float fallback; empty when it is off).
  llvm::SetVector<Operation *> floatOps;
};

FailureOr<rt::ScaleMultiplier>
ConvertTosaToLowBitPass::multiplier(Location loc, double scale,
                                    bool allowNegative) {
  rt::ScaleMultiplier m;
  bool negate = allowNegative && scale < 0;
  switch (rt::computeMultiplier(negate ? -scale : scale, m)) {
  case rt::ScaleStatus::Ok:
    if (negate)
      m.multiplier = -m.multiplier;
    return m;
  case rt::ScaleStatus::NotFiniteOrNegative:
    return emitError(loc) << "convert-tosa-to-lowbit: rescale factor " << scale
                          << " is negative or not finite",
           failure();
  case rt::ScaleStatus::TooLarge:
    return emitError(loc) << "convert-tosa-to-lowbit: rescale factor " << scale
                          << " is too large for a 31-bit multiplier",
           failure();
  }
  return failure();
}

std::pair<int64_t, int64_t>
ConvertTosaToLowBitPass::saturation(const Epilogue &epi,
                                    quant::UniformQuantizedType out) {
  int64_t lo = out.getStorageTypeMin(), hi = out.getStorageTypeMax();
  auto toStored = [&](double x) -> int64_t {
    double q = std::nearbyint(x / out.getScale()) + out.getZeroPoint();
    return static_cast<int64_t>(std::clamp(
        q, static_cast<double>(lo), static_cast<double>(hi)));
  };
  if (epi.clampMin && std::isfinite(*epi.clampMin))
    lo = std::max(lo, toStored(*epi.clampMin));
  if (epi.clampMax && std::isfinite(*epi.clampMax))
    hi = std::min(hi, toStored(*epi.clampMax));
  return {lo, hi};
}

Value ConvertTosaToLowBitPass::reshapeTo(OpBuilder &b, Location loc, Value v,
                                         ArrayRef<int64_t> shape) {
  auto type = cast<RankedTensorType>(v.getType());
  if (type.getShape() == shape)
    return v;
  return ReshapeOp::create(
      b, loc, RankedTensorType::get(shape, type.getElementType()), v);
}

/// The integer value behind a float value that is a dequantized activation,
/// possibly through reshapes and pools (which keep their input's scale).
FailureOr<Value> ConvertTosaToLowBitPass::quantizedSource(OpBuilder &b,
                                                          Value v,
                                                          Location loc) {
  if (auto dq = v.getDefiningOp<DequantizeOp>()) {
    if (!activationType(dq.getInput())) {
      sourceDiagnosed = true;
      return emitError(dq.getLoc())
                 << "convert-tosa-to-lowbit: dequantized value is not a "
                    "per-tensor quantized activation",
             failure();
    }
    return dq.getInput();
  }
  Operation *def = v.getDefiningOp();
  if (!def)
    return failure();
  if (auto r = dyn_cast<tosa::ReshapeOp>(def)) {
    auto in = quantizedSource(b, r.getInput1(), loc);
    if (failed(in))
      return failure();
    return reshapeTo(b, r.getLoc(), *in,
                     cast<RankedTensorType>(r.getType()).getShape());
  }
  if (auto pad = dyn_cast<tosa::PadOp>(def)) {
    // A pad of zero width (torch's Pad before AveragePool, before the
    // clean-up folds it) moves nothing.
    auto amounts = pad.getPadding().getDefiningOp<tosa::ConstShapeOp>();
    if (!amounts || pad.getType() != pad.getInput1().getType() ||
        !llvm::all_of(cast<DenseElementsAttr>(amounts.getValues())
                          .getValues<APInt>(),
                      [](const APInt &v) { return v.isZero(); }))
      return failure();
    return quantizedSource(b, pad.getInput1(), loc);
  }
  if (auto sl = dyn_cast<tosa::SliceOp>(def)) {
    // A channel split (or any window): data movement on the same scale.
    auto start = constShape(sl.getStart());
    if (!start)
      return failure();
    auto in = quantizedSource(b, sl.getInput1(), loc);
    if (failed(in))
      return failure();
    auto type = withElement(sl.getType(), cast<RankedTensorType>(in->getType())
                                              .getElementType());
    return SliceOp::create(b, sl.getLoc(), type, *in,
                           b.getDenseI64ArrayAttr(*start))
        .getResult();
  }
  if (auto rs = dyn_cast<tosa::ResizeOp>(def);
      rs && rs.getMode() == tosa::ResizeMode::NEAREST_NEIGHBOR) {
    // Nearest neighbour: data movement on the same scale.
    auto params = resizeParams(rs);
    if (!params)
      return failure();
    auto in = quantizedSource(b, rs.getInput(), loc);
    if (failed(in))
      return failure();
    auto type = withElement(rs.getType(), cast<RankedTensorType>(in->getType())
                                              .getElementType());
    return ResizeOp::create(b, rs.getLoc(), type, *in,
                            b.getStringAttr("nearest"),
                            b.getDenseI64ArrayAttr(params->first),
                            b.getDenseI64ArrayAttr(params->second))
        .getResult();
  }
  if (auto t = dyn_cast<tosa::TransposeOp>(def)) {
    auto in = quantizedSource(b, t.getInput1(), loc);
    if (failed(in))
      return failure();
    auto type = withElement(t.getType(), cast<RankedTensorType>(in->getType())
                                             .getElementType());
    return TransposeOp::create(b, t.getLoc(), type, *in, t.getPermsAttr())
        .getResult();
  }
  if (isa<tosa::MaxPool2dOp, tosa::AvgPool2dOp>(def)) {
    auto in = quantizedSource(b, skipUnusedCrop(def->getOperand(0), def), loc);
    if (failed(in))
      return failure();
    auto type = withElement(def->getResult(0).getType(),
                            cast<RankedTensorType>(in->getType())
                                .getElementType());
    if (auto mp = dyn_cast<tosa::MaxPool2dOp>(def))
      return MaxPoolOp::create(b, mp.getLoc(), type, *in, mp.getKernelAttr(),
                               mp.getStrideAttr(), mp.getPadAttr())
          .getResult();
    auto ap = cast<tosa::AvgPool2dOp>(def);
    auto inShape = cast<RankedTensorType>(in->getType()).getShape();
    ArrayRef<int64_t> kernel = ap.getKernel();
    if (kernel.size() == 2 && inShape.size() == 4 &&
        kernel[0] == inShape[1] && kernel[1] == inShape[2] &&
        llvm::all_of(ap.getPad(), [](int64_t p) { return p == 0; }) &&
        type.getDimSize(1) == 1 && type.getDimSize(2) == 1)
      return GlobalAvgPoolOp::create(b, ap.getLoc(), type, *in).getResult();
    return AvgPoolOp::create(b, ap.getLoc(), type, *in, ap.getKernelAttr(),
                             ap.getStrideAttr(), ap.getPadAttr(),
                             b.getBoolAttr(false))
        .getResult();
  }
  return failure();
}

/// Requantizes a quantized value to `outType` applying the epilogue (clamp
/// or PReLU); returns `in` itself when nothing changes.
FailureOr<Value> ConvertTosaToLowBitPass::rescale(OpBuilder &b, Location loc,
                                                  Value in, const Epilogue &epi,
                                                  RankedTensorType outType) {
  auto inQ = activationType(in);
  auto outQ = cast<quant::UniformQuantizedType>(outType.getElementType());
  auto [lo, hi] = saturation(epi, outQ);
  auto resultType = withElement(in.getType(), outQ);
  if (!epi.slopes && inQ == outQ) {
    if (lo == outQ.getStorageTypeMin() && hi == outQ.getStorageTypeMax())
      return in;
    return ClampOp::create(b, loc, resultType, in, b.getI64IntegerAttr(lo),
                           b.getI64IntegerAttr(hi))
        .getResult();
  }
  auto pos = multiplier(loc, inQ.getScale() / outQ.getScale());
  if (failed(pos))
    return failure();
  if (!epi.slopes)
    return perTensorRequant(b, loc, in, *pos, epi, resultType);
  SmallVector<NamedAttribute> attrs = {
      b.getNamedAttr("multiplier", b.getDenseI32ArrayAttr({pos->multiplier})),
      b.getNamedAttr("shift", b.getDenseI32ArrayAttr({pos->shift})),
      b.getNamedAttr("rounding", roundingAttr())};
  // A PReLU: the negative side gets its own multipliers.
  int64_t rank = resultType.getRank();
  int64_t channels = rank ? resultType.getShape().back() : 1;
  std::vector<double> alpha = perChannel(epi.slopes, channels);
  if (alpha.empty())
    return emitError(loc) << "convert-tosa-to-lowbit: PReLU slope must be "
                             "one value or one per channel",
           failure();
  SmallVector<int32_t> nm, ns;
  bool same = llvm::all_equal(alpha);
  for (size_t c = 0; c < (same ? 1 : alpha.size()); ++c) {
    auto m = multiplier(loc, alpha[c] * inQ.getScale() / outQ.getScale(),
                        /*allowNegative=*/true);
    if (failed(m))
      return failure();
    nm.push_back(m->multiplier);
    ns.push_back(m->shift);
  }
  if (!same) {
    // Both multiplier sets per channel.
    attrs[0] = b.getNamedAttr(
        "multiplier",
        b.getDenseI32ArrayAttr(SmallVector<int32_t>(nm.size(), pos->multiplier)));
    attrs[1] = b.getNamedAttr(
        "shift",
        b.getDenseI32ArrayAttr(SmallVector<int32_t>(nm.size(), pos->shift)));
    attrs.push_back(b.getNamedAttr("axis", b.getI64IntegerAttr(rank - 1)));
  }
  attrs.push_back(b.getNamedAttr("neg_multiplier", b.getDenseI32ArrayAttr(nm)));
  attrs.push_back(b.getNamedAttr("neg_shift", b.getDenseI32ArrayAttr(ns)));
  addSaturation(b, attrs, lo, hi, outQ);
  return RequantOp::create(b, loc, TypeRange{resultType}, ValueRange{in}, attrs)
      .getResult();
}

FailureOr<Value> ConvertTosaToLowBitPass::lowerLinear(OpBuilder &b,
                                                      Operation *anchor,
                                                      const Epilogue &epi,
                                                      RankedTensorType outType) {
  Location loc = anchor->getLoc();
  auto fail = [&](const Twine &msg) -> FailureOr<Value> {
    return anchor->emitError("convert-tosa-to-lowbit: ") << msg, failure();
  };
  bool depthwise = isa<tosa::DepthwiseConv2DOp>(anchor);
  bool matmul = isa<tosa::MatMulOp>(anchor);
  auto input =
      quantizedSource(b, skipUnusedCrop(anchor->getOperand(0), anchor), loc);
  if (failed(input)) {
    if (sourceDiagnosed)
      return failure();
    return fail("the input is not a quantized activation (no calibrated "
                "quantization reaches it)");
  }
  auto inQ = activationType(*input);

  // Weights, in the integer op's layout (OHWI, or OI), quantized on dim 0.
  auto w = traceQuantConst(anchor->getOperand(1));
  std::optional<QConst> decoded;
  // Log / STLQ weights: the encoding of the TOSA op, kept on the integer op.
  Attribute encoding = anchor->getAttr("lowbit.weight_encoding");
  auto logEnc = dyn_cast_or_null<LogAttr>(encoding);
  auto stlqEnc = dyn_cast_or_null<STLQAttr>(encoding);
  unsigned codeBits = logEnc ? logEnc.getBits() : stlqEnc ? stlqEnc.getBits()
                                                          : 0;
  if (!w) {
    // Log and STLQ weights are simulated as decoded float constants with a
    // #lowbit.log / #lowbit.stlq encoding: every value is U (sign 2^-e1 +
    // sign 2^-e2), which is exactly an integer times U 2^-M for M the
    // largest exponent (U per layer, or per output channel).
    auto values = readFloatConst(anchor->getOperand(1));
    if (!(logEnc || stlqEnc) || !values)
      return fail("weights must be quantized constants (run "
                  "lowbit-insert-qdq, or import a Q/DQ model)");
    if (codeBits > rt::kMaxShiftCodeBits)
      return fail("log weights wider than " + Twine(rt::kMaxShiftCodeBits) +
                  " bits are not supported by the integer target (a weight "
                  "would shift by up to 2^(bits-1) - 1 bits)");
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
    for (auto [i, x] : llvm::enumerate(*values)) {
      int64_t c = q.axis < 0 ? 0 : (static_cast<int64_t>(i) / inner) %
                                       q.shape[q.axis];
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
    decoded = std::move(q);
    w = decoded;
  }
  if (matmul) {
    // [1, K, N] -> [N, K]
    if (w->shape.size() != 3 || w->shape[0] != 1)
      return fail("matmul weights must be a constant [1, K, N] tensor");
    SmallVector<int64_t> perm = {0, 2, 1};
    w->values = permute(w->values, w->shape, perm);
    w->shape = {w->shape[2], w->shape[1]};
    if (w->axis == 2)
      w->axis = 0;
    else if (w->axis >= 0)
      return fail("matmul weights must be quantized per output column");
  } else if (depthwise) {
    // [KH, KW, C, M] -> [C * M, KH, KW, 1]
    SmallVector<int64_t> perm = {2, 3, 0, 1};
    int64_t kh = w->shape[0], kw = w->shape[1], c = w->shape[2],
            m = w->shape[3];
    if (w->axis >= 0 && !(w->axis == 2 && m == 1))
      return fail("depthwise weights must be quantized per channel with "
                  "multiplier 1, or per tensor");
    w->values = permute(w->values, w->shape, perm);
    w->shape = {c * m, kh, kw, 1};
    if (w->axis >= 0)
      w->axis = 0;
  } else if (w->axis > 0) {
    return fail("convolution weights must be quantized per output channel");
  }
  int64_t outChannels = w->shape[0];
  // Log / STLQ codes of the integer weights (in the integer op's layout).
  std::optional<EncodedWeights> codes;
  if (codeBits) {
    codes = encodeLogWeights(anchor, *w, codeBits, logEnc, stlqEnc);
    if (!codes)
      return failure();
  }
  // A positive scale after the op (Epilogue::scale) is the weights' too.
  std::vector<double> postScale(outChannels, 1.0);
  if (epi.scale) {
    postScale = perChannel(epi.scale, outChannels);
    if (postScale.empty())
      return fail("the multiply after the layer must be by one value or one "
                  "per channel");
    if (w->axis < 0 && !llvm::all_equal(postScale)) {
      w->axis = 0;
      w->scales.assign(outChannels, w->scales[0]);
      w->zeroPoints.assign(outChannels, w->zeroPoints[0]);
    }
    for (size_t c = 0; c < w->scales.size(); ++c)
      w->scales[c] *= postScale[c];
  }
  for (int64_t c = 0; c < (w->axis < 0 ? 1 : outChannels); ++c)
    if (w->zeroPoint(c) != 0)
      return fail("asymmetric weights (non-zero weight zero point) are not "
                  "supported by the integer kernels; use symmetric or pow2 "
                  "weights");
  int64_t inner = static_cast<int64_t>(w->values.size()) / outChannels;

  // Accumulator scale per channel, bias in accumulator units: real-valued
  // biases are rounded once to the accumulator scale; an integer bias
  // already stored at that scale (ONNX's int32 bias behind DequantizeLinear,
  // scale S_in * S_w[c] up to float32 rounding) is taken as stored, so a
  // large bias is not moved by the rounding of its float32 scale.
  std::vector<double> bias(outChannels, 0.0);
  std::vector<int64_t> biasInt(outChannels, 0);
  auto addBias = [&](Value v, bool scaled) -> LogicalResult {
    std::vector<double> b = perChannel(v, outChannels);
    if (b.empty())
      return failure();
    if (scaled) {
      // Before the post-scale: in the scaled accumulator's real units.
      for (int64_t c = 0; c < outChannels; ++c)
        bias[c] += b[c] * postScale[c];
      return success();
    }
    if (auto q = traceQuantConst(v)) {
      int64_t n = static_cast<int64_t>(q->values.size());
      bool atAccScale = n == outChannels || n == 1;
      for (int64_t c = 0; atAccScale && c < outChannels; ++c) {
        int64_t i = n == 1 ? 0 : c;
        double accScale = inQ.getScale() * w->scale(c);
        atAccScale = q->zeroPoint(i) == 0 &&
                     std::fabs(q->scale(i) / accScale - 1) < 1e-6;
      }
      if (atAccScale) {
        for (int64_t c = 0; c < outChannels; ++c)
          biasInt[c] += q->values[n == 1 ? 0 : c];
        return success();
      }
    }
    for (int64_t c = 0; c < outChannels; ++c)
      bias[c] += b[c];
    return success();
  };
  if (!matmul && failed(addBias(anchor->getOperand(2), epi.scale != nullptr)))
    return fail("bias must be a constant with one value per output channel");
  for (auto [i, v] : llvm::enumerate(epi.biasAdds))
    if (failed(addBias(v, epi.scale && i >= epi.scaledFrom)))
      return fail("bias add must be a constant with one value per output "
                  "channel");
  std::vector<int64_t> biasQ(outChannels);
  int64_t maxIn = std::max(std::abs(inQ.getStorageTypeMin() - inQ.getZeroPoint()),
                           std::abs(inQ.getStorageTypeMax() - inQ.getZeroPoint()));
  bool wide = false;
  for (int64_t c = 0; c < outChannels; ++c) {
    double accScale = inQ.getScale() * w->scale(c);
    double bq = std::nearbyint(bias[c] / accScale) +
                static_cast<double>(biasInt[c]);
    if (!(std::fabs(bq) < 9.0e15))
      return fail("bias is too large for the accumulator");
    biasQ[c] = static_cast<int64_t>(bq);
    // Range proof: |acc| <= |bias| + max|x - zp| * sum |w|.
    double bound = std::fabs(bq);
    for (int64_t i = 0; i < inner; ++i)
      bound += static_cast<double>(maxIn) *
               std::fabs(static_cast<double>(w->values[c * inner + i]));
    if (bound > 2147483647.0)
      wide = true;
  }
  // adaptive-scale-shift eq. 10: the input zero point goes into the bias,
  // b~ = b - zp * sum(w), so the kernels' inner loop has no zero-point term.
  int64_t inZp = inQ.getZeroPoint();
  bool fold = foldZeroPoint && inZp != 0;
  if (fold)
    for (int64_t c = 0; c < outChannels; ++c) {
      int64_t sum = 0;
      for (int64_t i = 0; i < inner; ++i)
        sum += w->values[c * inner + i];
      biasQ[c] -= inZp * sum;
      if (biasQ[c] > INT32_MAX || biasQ[c] < INT32_MIN)
        wide = true;
    }
  IntegerType accType = b.getIntegerType(wide ? 64 : 32);

  // The integer weight constant.
  MLIRContext *ctx = &getContext();
  // i8 holds [-128, 127] (full-range int8 weights, e.g. torch's qint8);
  // anything wider (uint8 weights, 16-bit pow2 integers) takes i16.
  unsigned wBits = w->storageMin >= -128 && w->storageMax <= 127 ? 8 : 16;
  auto wStorage = IntegerType::get(ctx, wBits);
  Type f32 = b.getF32Type();
  unsigned flags = quant::QuantizationFlags::Signed;
  Type wElt =
      w->axis < 0
          ? Type(quant::UniformQuantizedType::get(flags, wStorage, f32,
                                                  w->scales[0], 0,
                                                  w->storageMin, w->storageMax))
          : Type(quant::UniformQuantizedPerAxisType::get(
                flags, wStorage, f32, w->scales,
                SmallVector<int64_t>(w->scales.size(), 0), 0, w->storageMin,
                w->storageMax));
  // The stored integers' raw bytes (little endian, as the attribute holds
  // them): the low wBits bits of each value, which is in the storage range.
  const size_t wBytes = wBits / 8;
  std::vector<char> stored(w->values.size() * wBytes);
  for (size_t i = 0; i < w->values.size(); ++i) {
    auto u = static_cast<uint64_t>(w->values[i]);
    for (size_t byte = 0; byte < wBytes; ++byte)
      stored[i * wBytes + byte] = static_cast<char>(u >> (8 * byte));
  }
  Value weight;
  if (codes) {
    weight = ConstantOp::create(b, loc, codes->values.getType(),
                                codes->values);
  } else {
    auto wAttr = DenseElementsAttr::getFromRawBuffer(
        RankedTensorType::get(w->shape, wStorage), stored);
    weight = ConstantOp::create(b, loc, RankedTensorType::get(w->shape, wElt),
                                wAttr);
  }
  SmallVector<APInt> biasInts;
  for (int64_t v : biasQ)
    biasInts.emplace_back(accType.getWidth(), static_cast<uint64_t>(v), true);
  auto biasType = RankedTensorType::get({outChannels}, accType);
  Value biasV = ConstantOp::create(
      b, loc, biasType, DenseElementsAttr::get(biasType, biasInts));

  // The accumulating op.
  Value acc;
  if (matmul) {
    auto inType = cast<RankedTensorType>(input->getType());
    if (inType.getRank() != 3 || inType.getDimSize(0) != 1)
      return fail("matmul input must be [1, M, K]");
    Value in2 = reshapeTo(b, loc, *input,
                          {inType.getDimSize(1), inType.getDimSize(2)});
    auto accT = RankedTensorType::get({inType.getDimSize(1), outChannels},
                                      accType);
    SmallVector<NamedAttribute> attrs;
    if (fold)
      attrs.push_back(b.getNamedAttr("input_zp_folded", b.getUnitAttr()));
    if (codes)
      attrs.push_back(b.getNamedAttr("weight_encoding", codes->encoding));
    acc = FullyConnectedOp::create(b, loc, TypeRange{accT},
                                   ValueRange{in2, weight, biasV}, attrs)
              .getResult();
  } else {
    auto resT = cast<RankedTensorType>(anchor->getResult(0).getType());
    auto accT = RankedTensorType::get(resT.getShape(), accType);
    int64_t groups = depthwise ? cast<RankedTensorType>(input->getType())
                                     .getDimSize(3)
                               : 1;
    SmallVector<NamedAttribute> attrs = {
        b.getNamedAttr("stride", anchor->getAttr("stride")),
        b.getNamedAttr("pad", anchor->getAttr("pad")),
        b.getNamedAttr("dilation", anchor->getAttr("dilation")),
        b.getNamedAttr("groups", b.getI64IntegerAttr(groups))};
    if (fold)
      attrs.push_back(b.getNamedAttr("input_zp_folded", b.getUnitAttr()));
    if (codes)
      attrs.push_back(b.getNamedAttr("weight_encoding", codes->encoding));
    acc = Conv2DOp::create(b, loc, TypeRange{accT},
                           ValueRange{*input, weight, biasV}, attrs)
              .getResult();
  }

  // Requant to the quantize's type: M[c] = S_in * S_w[c] / S_out.
  auto outQ = cast<quant::UniformQuantizedType>(outType.getElementType());
  auto accTy = cast<RankedTensorType>(acc.getType());
  int64_t rank = accTy.getRank();
  std::vector<double> alpha;
  if (epi.slopes) {
    alpha = perChannel(epi.slopes, outChannels);
    if (alpha.empty())
      return fail("PReLU slope must be one value or one per channel");
  }
  SmallVector<int32_t> pm, ps, nm, ns;
  int64_t n = (w->axis < 0 && (alpha.empty() || llvm::all_equal(alpha)))
                  ? 1
                  : outChannels;
  for (int64_t c = 0; c < n; ++c) {
    double s = inQ.getScale() * w->scale(c) / outQ.getScale();
    auto m = multiplier(loc, s);
    if (failed(m))
      return failure();
    pm.push_back(m->multiplier);
    ps.push_back(m->shift);
    if (!alpha.empty()) {
      auto mn = multiplier(loc, alpha[c] * s, /*allowNegative=*/true);
      if (failed(mn))
        return failure();
      nm.push_back(mn->multiplier);
      ns.push_back(mn->shift);
    }
  }
  auto [lo, hi] = saturation(epi, outQ);
  SmallVector<NamedAttribute> attrs = {
      b.getNamedAttr("multiplier", b.getDenseI32ArrayAttr(pm)),
      b.getNamedAttr("shift", b.getDenseI32ArrayAttr(ps)),
      b.getNamedAttr("rounding", roundingAttr())};
  if (n > 1)
    attrs.push_back(b.getNamedAttr("axis", b.getI64IntegerAttr(rank - 1)));
  if (!nm.empty()) {
    attrs.push_back(b.getNamedAttr("neg_multiplier", b.getDenseI32ArrayAttr(nm)));
    attrs.push_back(b.getNamedAttr("neg_shift", b.getDenseI32ArrayAttr(ns)));
  }
  addSaturation(b, attrs, lo, hi, outQ);
  Value r = RequantOp::create(b, loc, TypeRange{withElement(accTy, outQ)},
                              ValueRange{acc}, attrs)
                .getResult();
  return reshapeTo(b, loc, r, outType.getShape());
}

FailureOr<Value> ConvertTosaToLowBitPass::lowerAdd(OpBuilder &b,
                                                   tosa::AddOp add,
                                                   const Epilogue &epi,
                                                   RankedTensorType outType) {
  Location loc = add.getLoc();
  auto lhs = quantizedSource(b, add.getInput1(), loc);
  auto rhs = quantizedSource(b, add.getInput2(), loc);
  if (failed(lhs) || failed(rhs)) {
    if (sourceDiagnosed)
      return failure();
    return add.emitError("convert-tosa-to-lowbit: both inputs of an add must "
                         "be quantized activations"),
           failure();
  }
  if (cast<ShapedType>(lhs->getType()).getShape() !=
      cast<ShapedType>(rhs->getType()).getShape())
    return add.emitError("convert-tosa-to-lowbit: broadcasting adds are not "
                         "supported by the integer target"),
           failure();
  if (epi.slopes)
    return add.emitError("convert-tosa-to-lowbit: PReLU after an add is not "
                         "supported by the integer target"),
           failure();
  auto qa = activationType(*lhs), qb = activationType(*rhs);
  auto outQ = cast<quant::UniformQuantizedType>(outType.getElementType());
  // Common intermediate scale 2 max(Sa, Sb) / 2^shift, as in TFLite.
  unsigned bits = std::max(qa.getStorageTypeIntegralWidth(),
                           qb.getStorageTypeIntegralWidth());
  int32_t shift = bits <= 8 ? 20 : 12;
  double twiceMax = 2 * std::max(qa.getScale(), qb.getScale());
  auto ma = multiplier(loc, qa.getScale() / twiceMax);
  auto mb = multiplier(loc, qb.getScale() / twiceMax);
  auto mo = multiplier(loc, twiceMax / (std::ldexp(1.0, shift) *
                                        outQ.getScale()));
  if (failed(ma) || failed(mb) || failed(mo))
    return failure();
  auto [lo, hi] = saturation(epi, outQ);
  SmallVector<NamedAttribute> attrs = {
      b.getNamedAttr("input_shift", b.getI32IntegerAttr(shift)),
      b.getNamedAttr("lhs_multiplier", b.getI32IntegerAttr(ma->multiplier)),
      b.getNamedAttr("lhs_shift", b.getI32IntegerAttr(ma->shift)),
      b.getNamedAttr("rhs_multiplier", b.getI32IntegerAttr(mb->multiplier)),
      b.getNamedAttr("rhs_shift", b.getI32IntegerAttr(mb->shift)),
      b.getNamedAttr("output_multiplier", b.getI32IntegerAttr(mo->multiplier)),
      b.getNamedAttr("output_shift", b.getI32IntegerAttr(mo->shift)),
      b.getNamedAttr("rounding", roundingAttr())};
  addSaturation(b, attrs, lo, hi, outQ);
  // Inputs transposed the same way (an NCHW residual add between NHWC
  // producers) are added before the transpose, which then moves to the
  // result, where it usually cancels against the consumer's.
  Value a = *lhs, c = *rhs;
  TransposeOp ta = a.getDefiningOp<TransposeOp>();
  TransposeOp tb = c.getDefiningOp<TransposeOp>();
  bool sinkTranspose = ta && tb && ta.getPerms() == tb.getPerms() &&
                       ta.getInput().getType().getShape() ==
                           tb.getInput().getType().getShape();
  if (sinkTranspose)
    a = ta.getInput(), c = tb.getInput();
  Value r = AddOp::create(b, loc, TypeRange{withElement(a.getType(), outQ)},
                          ValueRange{a, c}, attrs)
                .getResult();
  if (sinkTranspose)
    r = TransposeOp::create(b, loc, withElement(lhs->getType(), outQ), r,
                            ta.getPermsAttr());
  return reshapeTo(b, loc, r, outType.getShape());
}

/// A per-channel affine map x * a[c] (+ b[c] from the epilogue) on an
/// activation whose channels are its last dimension, e.g. a BatchNorm that
/// follows no convolution, or a hard sigmoid's x / 6 + 0.5 after a Gemm, is
/// a 1x1 depthwise convolution with weights a[c] (1 without a multiply).
/// Builds that convolution in float with a[c] quantized exactly as
/// +-127 * |a[c]| / 127 (so the integer lowering treats it like any other),
/// on x reshaped to [1, 1, elements / C, C] when it is not 4-D, or returns
/// null.
Operation *ConvertTosaToLowBitPass::affineAsDepthwise(OpBuilder &b,
                                                      Operation *at, Value x,
                                                      Value a) {
  auto type = dyn_cast<RankedTensorType>(x.getType());
  if (!type || !type.hasStaticShape() || type.getRank() == 0 ||
      (a && floatValues(x)))
    return nullptr;
  int64_t channels = type.getShape().back();
  std::vector<double> scale =
      a ? perChannel(a, channels) : std::vector<double>(channels, 1.0);
  if (scale.empty())
    return nullptr;
  MLIRContext *ctx = &getContext();
  Location loc = at->getLoc();
  OpBuilder::InsertionGuard g(b);
  b.setInsertionPoint(at);
  Type f32 = b.getF32Type();
  if (type.getRank() != 4) {
    SmallVector<int64_t> shape4 = {1, 1, type.getNumElements() / channels,
                                   channels};
    ImplicitLocOpBuilder ib(loc, b);
    x = tosa::ReshapeOp::create(b, loc, RankedTensorType::get(shape4, f32), x,
                                tosa::getTosaConstShape(ib, shape4));
    type = cast<RankedTensorType>(x.getType());
  }
  SmallVector<double> scales;
  SmallVector<APInt> stored;
  for (double v : scale) {
    scales.push_back(v != 0 ? std::fabs(v) / 127.0 : 1.0);
    stored.emplace_back(8, static_cast<uint64_t>(v > 0 ? 127 : (v < 0 ? -127 : 0)),
                        /*isSigned=*/true);
  }
  auto wElt = quant::UniformQuantizedPerAxisType::get(
      quant::QuantizationFlags::Signed, IntegerType::get(ctx, 8), f32, scales,
      SmallVector<int64_t>(channels, 0), 2, -127, 127);
  SmallVector<int64_t> wShape = {1, 1, channels, 1};
  Value wq = ConstantOp::create(
      b, loc, RankedTensorType::get(wShape, wElt),
      DenseElementsAttr::get(
          RankedTensorType::get(wShape, IntegerType::get(ctx, 8)), stored));
  Value w = DequantizeOp::create(b, loc, RankedTensorType::get(wShape, f32), wq);
  auto biasType = RankedTensorType::get({channels}, f32);
  Value bias = tosa::ConstOp::create(
      b, loc, biasType,
      DenseElementsAttr::get(biasType, ArrayRef<float>(std::vector<float>(channels, 0.0f))));
  OperationState state(loc, "tosa.depthwise_conv2d");
  state.addOperands({x, w, bias});
  state.addTypes(type);
  state.addAttribute("stride", b.getDenseI64ArrayAttr({1, 1}));
  state.addAttribute("pad", b.getDenseI64ArrayAttr({0, 0, 0, 0}));
  state.addAttribute("dilation", b.getDenseI64ArrayAttr({1, 1}));
  return b.create(state);
}

/// The quantized input of an op that only a clamp may follow in its
/// segment (a constant pad, a bilinear resize), or a located error.
FailureOr<Value> ConvertTosaToLowBitPass::clampOnlySource(OpBuilder &b,
                                                          Operation *op,
                                                          Value in,
                                                          const Epilogue &epi,
                                                          StringRef what) {
  if (epi.slopes || !epi.biasAdds.empty())
    return op->emitError("convert-tosa-to-lowbit: only a clamp may follow ")
               << what << " in one integer segment",
           failure();
  auto src = quantizedSource(b, in, op->getLoc());
  if (failed(src) && !sourceDiagnosed)
    op->emitError("convert-tosa-to-lowbit: the input of ")
        << what << " is not a quantized activation";
  return src;
}

/// A per-tensor lowbit.requant by the multiplier `m`, saturated to the
/// result type's range narrowed by the epilogue's clamp.
Value ConvertTosaToLowBitPass::perTensorRequant(OpBuilder &b, Location loc,
                                                Value in,
                                                rt::ScaleMultiplier m,
                                                const Epilogue &epi,
                                                RankedTensorType resultType) {
  auto outQ = cast<quant::UniformQuantizedType>(resultType.getElementType());
  auto [lo, hi] = saturation(epi, outQ);
  SmallVector<NamedAttribute> attrs = {
      b.getNamedAttr("multiplier", b.getDenseI32ArrayAttr({m.multiplier})),
      b.getNamedAttr("shift", b.getDenseI32ArrayAttr({m.shift})),
      b.getNamedAttr("rounding", roundingAttr())};
  addSaturation(b, attrs, lo, hi, outQ);
  return RequantOp::create(b, loc, TypeRange{resultType}, ValueRange{in},
                           attrs)
      .getResult();
}

/// A constant pad: the input rescaled to the result's scale, then padded
/// with the constant quantized at that scale (a pad of zeros is a stored
/// zero point).
FailureOr<Value> ConvertTosaToLowBitPass::lowerPad(OpBuilder &b,
                                                   tosa::PadOp pad,
                                                   const Epilogue &epi,
                                                   RankedTensorType outType) {
  Location loc = pad.getLoc();
  auto padding = constShape(pad.getPadding());
  auto padValue = floatValues(pad.getPadConst());
  if (!padding || !padValue || padValue->size() != 1)
    return pad.emitError("convert-tosa-to-lowbit: a pad needs constant "
                         "paddings and one constant pad value"),
           failure();
  auto src = clampOnlySource(b, pad, pad.getInput1(), epi, "a constant pad");
  if (failed(src))
    return failure();
  auto padQ = cast<quant::UniformQuantizedType>(outType.getElementType());
  auto r = rescale(b, loc, *src, epi, withElement(src->getType(), padQ));
  if (failed(r))
    return failure();
  auto [lo, hi] = saturation(epi, padQ);
  int64_t value = std::clamp(quantizeWith((*padValue)[0], padQ), lo, hi);
  Value p = PadOp::create(b, loc, withElement(pad.getType(), padQ), *r,
                          b.getDenseI64ArrayAttr(*padding),
                          b.getI64IntegerAttr(value));
  return reshapeTo(b, loc, p, outType.getShape());
}

/// A bilinear resize: the exact integer sum of the weighted neighbours, of
/// scale S_in / (n_y n_x), and one requant.
FailureOr<Value> ConvertTosaToLowBitPass::lowerBilinearResize(
    OpBuilder &b, tosa::ResizeOp rs, const Epilogue &epi,
    RankedTensorType outType) {
  Location loc = rs.getLoc();
  auto params = resizeParams(rs);
  if (!params)
    return rs.emitError("convert-tosa-to-lowbit: a resize needs constant "
                        "scale and offset"),
           failure();
  auto src = clampOnlySource(b, rs, rs.getInput(), epi, "a bilinear resize");
  if (failed(src))
    return failure();
  auto inQ = activationType(*src);
  auto outQ = cast<quant::UniformQuantizedType>(outType.getElementType());
  const SmallVector<int64_t> &sc = params->first;
  if (!bilinearResizeFitsInt32(inQ, sc[0], sc[2]))
    return rs.emitError("convert-tosa-to-lowbit: bilinear weights of ")
               << sc[0] << " x " << sc[2]
               << " steps overflow the 32-bit accumulator",
           failure();
  auto accType = withElement(rs.getType(), b.getI32Type());
  Value acc = ResizeOp::create(b, loc, accType, *src,
                               b.getStringAttr("bilinear"),
                               b.getDenseI64ArrayAttr(sc),
                               b.getDenseI64ArrayAttr(params->second));
  auto m = multiplier(loc, inQ.getScale() /
                               (static_cast<double>(sc[0] * sc[2]) *
                                outQ.getScale()));
  if (failed(m))
    return failure();
  return reshapeTo(
      b, loc, perTensorRequant(b, loc, acc, *m, epi, withElement(accType, outQ)),
      outType.getShape());
}

LogicalResult ConvertTosaToLowBitPass::lowerQuantize(QuantizeOp q) {
  auto outType = cast<RankedTensorType>(q.getType());
  auto outQ = dyn_cast<quant::UniformQuantizedType>(outType.getElementType());
  if (!outQ)
    return q.emitError("convert-tosa-to-lowbit: activations must be "
                       "quantized per tensor"),
           failure();
  outType = withElement(outType, containerType(outQ));
  if (Operation *def = q.getInput().getDefiningOp();
      def && floatOps.contains(def)) {
    // The result of a region that stays float: quantized at run time.
    q.getResult().setType(outType);
    return success();
  }
  OpBuilder b(q);
  Location loc = q.getLoc();
  // Layout movement right before the quantize (the NHWC -> NCHW transposes
  // and reshapes of an imported NCHW model) is replayed on the integer
  // result: the segment itself is lowered in its own layout (NHWC for
  // convolutions and pools, where per-channel requants use the last axis).
  SmallVector<Operation *> tail;
  Value tailStart = q.getInput();
  while (Operation *def = tailStart.getDefiningOp()) {
    if (!isa<tosa::ReshapeOp, tosa::TransposeOp>(def))
      break;
    tail.push_back(def);
    tailStart = def->getOperand(0);
  }
  std::reverse(tail.begin(), tail.end());
  Type storedElt = outType.getElementType();
  outType = withElement(tailStart.getType(), storedElt);
  Epilogue epi;
  Value start = parseEpilogue(tailStart, epi);
  Operation *anchor = start.getDefiningOp();
  FailureOr<Value> result = failure();

  if (auto mul = dyn_cast_or_null<tosa::MulOp>(anchor)) {
    // x * a (+ b): a per-channel affine map on an activation.
    Value x = mul.getInput1(), a = mul.getInput2();
    if (!floatValues(a))
      std::swap(x, a);
    DenseElementsAttr shift;
    if (floatValues(a) &&
        matchPattern(mul.getShift(), m_Constant(&shift)) &&
        llvm::all_of(shift.getValues<APInt>(),
                     [](const APInt &v) { return v.isZero(); }))
      if (Operation *dw = affineAsDepthwise(b, mul, x, a))
        anchor = dw;
  } else if (!epi.biasAdds.empty() &&
             !isa_and_nonnull<tosa::Conv2DOp, tosa::DepthwiseConv2DOp,
                              tosa::MatMulOp>(anchor)) {
    // x + b alone: the same with unit weights.
    if (Operation *dw = affineAsDepthwise(b, q, start, Value()))
      anchor = dw;
  }
  if (anchor &&
      isa<tosa::Conv2DOp, tosa::DepthwiseConv2DOp, tosa::MatMulOp>(anchor)) {
    result = lowerLinear(b, anchor, epi, outType);
  } else if (!epi.biasAdds.empty()) {
    return q.emitError("convert-tosa-to-lowbit: a constant add that does "
                       "not follow a convolution or matrix product is not "
                       "supported by the integer target"),
           failure();
  } else if (auto add = dyn_cast_or_null<tosa::AddOp>(anchor)) {
    result = lowerAdd(b, add, epi, outType);
  } else if (auto cat = dyn_cast_or_null<tosa::ConcatOp>(anchor)) {
    SmallVector<Value> inputs;
    auto catQ = cast<quant::UniformQuantizedType>(outType.getElementType());
    for (Value v : cat.getInput1()) {
      if (auto values = floatValues(v)) {
        // A constant operand (a channel pad of zeros): quantized with the
        // concat's scale and zero point.
        auto vt = cast<RankedTensorType>(v.getType());
        unsigned width = catQ.getStorageTypeIntegralWidth();
        SmallVector<APInt> stored;
        stored.reserve(values->size());
        for (double x : *values)
          stored.emplace_back(width,
                              static_cast<uint64_t>(quantizeWith(x, catQ)),
                              /*isSigned=*/true);
        inputs.push_back(ConstantOp::create(
            b, v.getLoc(), withElement(vt, catQ),
            DenseElementsAttr::get(
                RankedTensorType::get(vt.getShape(),
                                      IntegerType::get(&getContext(), width)),
                stored)));
        continue;
      }
      auto s = quantizedSource(b, v, loc);
      if (failed(s)) {
        if (sourceDiagnosed)
          return failure();
        return cat.emitError("convert-tosa-to-lowbit: concat inputs must be "
                             "quantized activations"),
               failure();
      }
      auto r = rescale(b, loc, *s, Epilogue(),
                       withElement(s->getType(), outType.getElementType()));
      if (failed(r))
        return failure();
      inputs.push_back(*r);
    }
    auto catType = withElement(cat.getType(), outType.getElementType());
    Value c = ConcatOp::create(b, cat.getLoc(), catType, inputs,
                               b.getI64IntegerAttr(cat.getAxis()));
    result = rescale(b, loc, c, epi, withElement(c.getType(),
                                                 outType.getElementType()));
  } else if (auto pad = dyn_cast_or_null<tosa::PadOp>(anchor);
             pad && pad.getType() != pad.getInput1().getType()) {
    result = lowerPad(b, pad, epi, outType);
  } else if (auto rs = dyn_cast_or_null<tosa::ResizeOp>(anchor);
             rs && rs.getMode() == tosa::ResizeMode::BILINEAR) {
    result = lowerBilinearResize(b, rs, epi, outType);
  } else if (BlockArgument arg = argumentBehind(start)) {
    // A quantized function input: the argument becomes quantized.
    if (epi.clampMin || epi.slopes)
      return q.emitError("convert-tosa-to-lowbit: activation on a function "
                         "input is not supported"),
             failure();
    auto argType = cast<RankedTensorType>(arg.getType());
    if (!argType.getElementType().isF32() &&
        argType.getElementType() != outType.getElementType())
      return q.emitError("convert-tosa-to-lowbit: function input is "
                         "quantized twice with different parameters"),
             failure();
    arg.setType(withElement(argType, outType.getElementType()));
    // Reshapes and transposes between the argument and the quantize.
    result = reshapeTo(b, loc, replayMovement(b, start, arg),
                       outType.getShape());
  } else {
    auto src = quantizedSource(b, start, loc);
    if (failed(src)) {
      if (sourceDiagnosed)
        return failure();
      Operation *bad = anchor ? anchor : q.getOperation();
      return bad->emitError("convert-tosa-to-lowbit: '")
                 << bad->getName()
                 << "' cannot be lowered to the integer target (no integer "
                    "form of this op, or its inputs are not quantized)",
             failure();
    }
    auto type = withElement(src->getType(), outType.getElementType());
    result = rescale(b, loc, *src, epi, type);
    if (succeeded(result))
      result = reshapeTo(b, loc, *result, outType.getShape());
  }
  if (failed(result))
    return failure();
  Value r = *result;
  for (Operation *op : tail) {
    auto type = withElement(op->getResult(0).getType(), storedElt);
    if (auto t = dyn_cast<tosa::TransposeOp>(op))
      r = TransposeOp::create(b, t.getLoc(), type, r, t.getPermsAttr());
    else
      r = reshapeTo(b, op->getLoc(), r, type.getShape());
  }
  q.getResult().replaceAllUsesWith(r);
  q.erase();
  return success();
}

void ConvertTosaToLowBitPass::runOnOperation() {
  func::FuncOp func = getOperation();
  if (func.isExternal())
    return;
  floatOps = floatFallbackOps(func);
  if (!floatFallback && !floatOps.empty()) {
    // Name the op that has no integer form, not the first one that reads it.
    Operation *first = floatOps.front();
    for (Operation *op : floatOps)
      if (hasNoIntegerForm(op)) {
        first = op;
        break;
      }
    first->emitError("convert-tosa-to-lowbit: '")
        << first->getName()
        << "' has no integer form (float-fallback=false; with float "
           "fallback it would stay float)";
    return signalPassFailure();
  }
  // A clamp (ReLU / Clip) after a layout transpose or reshape (the importer's
  // output before lowbit-sink-transposes) commutes with it: the movement is
  // moved below the clamp, next to the quantize, where lowerQuantize replays
  // it on the integer result.
  func.walk([&](tosa::ClampOp c) {
    while (Operation *mv = c.getInput().getDefiningOp()) {
      if (!isa<tosa::TransposeOp, tosa::ReshapeOp>(mv) || !mv->hasOneUse())
        break;
      Value x = mv->getOperand(0);
      c.getInputMutable().assign(x);
      c.getResult().setType(cast<TensorType>(x.getType()));
      mv->moveAfter(c);
      c.getResult().replaceAllUsesWith(mv->getResult(0));
      mv->setOperand(0, c.getResult());
    }
  });
  // A float argument quantized through reshapes: arguments change type in
  // place, so their float users are rewritten first.
  SmallVector<QuantizeOp> quantizes;
  func.walk([&](QuantizeOp q) { quantizes.push_back(q); });
  for (QuantizeOp q : quantizes)
    if (failed(lowerQuantize(q)))
      return signalPassFailure();

  // Results: a dequantized value (through reshapes) is returned quantized.
  auto ret = cast<func::ReturnOp>(func.getBody().back().getTerminator());
  OpBuilder b(ret);
  for (OpOperand &operand : ret->getOpOperands()) {
    Value v = operand.get();
    auto src = quantizedSource(b, v, ret.getLoc());
    if (failed(src) && sourceDiagnosed)
      return signalPassFailure();
    if (failed(src) || !activationType(*src)) {
      // A float fallback region's result may be the model's (float) result
      // (a Q/DQ model whose final Softmax is left float).
      if (Operation *def = v.getDefiningOp(); def && floatOps.contains(def))
        continue;
      if (isa<FloatType>(getElementTypeOrSelf(v.getType())))
      {
        ret.emitError() << "convert-tosa-to-lowbit: result #"
                   << operand.getOperandNumber()
                   << " is not quantized (its producer '"
                   << (v.getDefiningOp() ? v.getDefiningOp()->getName()
                                         : OperationName("func.arg", &getContext()))
                   << "' stays float: quantize it or end the model before "
                      "it)";
        return signalPassFailure();
      }
      continue;
    }
    operand.set(*src);
  }

  // Drop the float graph that is no longer used.
  bool changed = true;
  while (changed) {
    changed = false;
    for (Operation &op : llvm::make_early_inc_range(
             llvm::reverse(func.getBody().front().getOperations()))) {
      if (op.hasTrait<OpTrait::IsTerminator>() || !op.use_empty())
        continue;
      if (isa<tosa::TosaOp, DequantizeOp, BitcastOp, ConstantOp,
              quant::StorageCastOp, quant::DequantizeCastOp,
              quant::QuantizeCastOp, arith::ConstantOp>(op) ||
          op.getDialect()->getNamespace() == "tosa") {
        floatOps.remove(&op); // a dead float op is not warned about
        op.erase();
        changed = true;
      }
    }
  }
  // Anything float left is an op the integer target cannot run. A
  // dequantize left over only feeds such an op: name the op, not it.
  Operation *leftover = nullptr;
  for (Operation &op : func.getBody().front()) {
    if (isa<func::ReturnOp, ConstantOp>(op))
      continue;
    if (op.getDialect() && op.getDialect()->getNamespace() == "lowbit" &&
        !isa<DequantizeOp, QuantizeOp>(op))
      continue;
    if (isa<tosa::ConstShapeOp, tosa::ConstOp>(op) || floatOps.contains(&op))
      continue;
    // The dequantize into, and the quantize out of, a float region.
    if (auto dq = dyn_cast<DequantizeOp>(op);
        dq && !dq->use_empty() &&
        llvm::all_of(dq->getUsers(),
                     [&](Operation *u) { return floatOps.contains(u); }))
      continue;
    if (auto q = dyn_cast<QuantizeOp>(op))
      if (Operation *def = q.getInput().getDefiningOp();
          def && floatOps.contains(def))
        continue;
    if (!leftover || isa<DequantizeOp, QuantizeOp>(leftover))
      leftover = &op;
    if (!isa<DequantizeOp, QuantizeOp>(op))
      break;
  }
  if (leftover) {
    leftover->emitError("convert-tosa-to-lowbit: '")
        << leftover->getName() << "' cannot be lowered to the integer target";
    return signalPassFailure();
  }
  for (BlockArgument arg : func.getArguments())
    if (isa<FloatType>(getElementTypeOrSelf(arg.getType())) &&
        !arg.use_empty())
    {
      func.emitError() << "convert-tosa-to-lowbit: argument #"
                       << arg.getArgNumber() << " is used as float";
      return signalPassFailure();
    }
  func.setFunctionType(FunctionType::get(
      &getContext(), func.getBody().front().getArgumentTypes(),
      ret->getOperandTypes()));
  // Name what stays float, once per source location (one ONNX node, e.g. a
  // Softmax, is several TOSA ops).
  llvm::MapVector<Location, SmallVector<Operation *>> byLoc;
  for (Operation *op : floatOps)
    byLoc[op->getLoc()].push_back(op);
  for (auto &[loc, ops] : byLoc) {
    InFlightDiagnostic d = emitWarning(loc) << "convert-tosa-to-lowbit: ";
    for (auto [i, op] : llvm::enumerate(ops))
      d << (i ? ", '" : "'") << op->getName() << "'";
    d << (ops.size() > 1 ? " stay" : " stays")
      << " float (no integer form): the C++ target runs "
      << (ops.size() > 1 ? "them" : "it")
      << " with float kernels (float-fallback=false makes this an error)";
  }
}

} // namespace
