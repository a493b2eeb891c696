//===- InsertQDQ.cpp - Quantize a calibrated float graph ------------------===//
//
// Part of the lowbit project.
//
//===----------------------------------------------------------------------===//

#include "LowBit/IR/LowBitOps.h"
#include "LowBit/Transforms/FloatFallback.h"
#include "LowBit/Transforms/Passes.h"

#include "lowbit/runtime/LogQuant.h"
#include "lowbit/runtime/Requant.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Tosa/IR/TosaOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/Threading.h"
#include "llvm/ADT/SetVector.h"

#include <array>
#include <cmath>
#include <numeric>
#include <vector>

namespace mlir {
namespace lowbit {
#define GEN_PASS_DEF_LOWBITINSERTQDQ
#include "LowBit/Transforms/Passes.h.inc"
} // namespace lowbit
} // namespace mlir

using namespace mlir;
using namespace mlir::lowbit;
namespace rt = ::lowbit::rt;

namespace {

/// Float values of a constant (dense, splat or resource).
std::optional<std::vector<float>> readFloats(ElementsAttr attr) {
  auto type = cast<ShapedType>(attr.getType());
  if (!type.getElementType().isF32())
    return std::nullopt;
  std::vector<float> out(type.getNumElements());
  if (auto dense = dyn_cast<DenseElementsAttr>(attr)) {
    int64_t i = 0;
    if (dense.isSplat()) {
      std::fill(out.begin(), out.end(), dense.getSplatValue<float>());
      return out;
    }
    for (float v : dense.getValues<float>())
      out[i++] = v;
    return out;
  }
  if (auto res = dyn_cast<DenseResourceElementsAttr>(attr)) {
    AsmResourceBlob *blob = res.getRawHandle().getBlob();
    if (!blob || blob->getData().size() != out.size() * sizeof(float))
      return std::nullopt;
    std::memcpy(out.data(), blob->getData().data(), out.size() * sizeof(float));
    return out;
  }
  return std::nullopt;
}

/// Channel of flat element `i` along `axis` of `shape` (0 when axis < 0).
int64_t channelOf(ArrayRef<int64_t> shape, int64_t axis, int64_t i) {
  if (axis < 0)
    return 0;
  int64_t inner = 1;
  for (size_t d = axis + 1; d < shape.size(); ++d)
    inner *= shape[d];
  return (i / inner) % shape[axis];
}

//===----------------------------------------------------------------------===//
// Correlated rounding of weights
//===----------------------------------------------------------------------===//
//
// Round-to-nearest minimizes each weight's error on its own, but what the
// network sees is a layer's output error e = sum_i d_i x_i (d = Q(w) - w).
// Inputs of a convolution are strongly correlated across the taps of its
// window (neighbouring pixels and feature-map values are alike) and have
// non-zero means (images, ReLU/PReLU outputs), so E[e^2] = d^T E[x x^T] d is
// dominated by low-frequency sums of d, above all the kernel's DC gain sum(d),
// which independent rounding lets grow like sqrt(n). Data-free, we model
//
//   E[x x^T] = I (x) R + kappa 1 1^T,  R[t, t'] = rho^dist(t, t')
//
// per output channel: taps of the same input channel correlate with rho to
// the power of their distance (in input pixels, dilation included), and every
// pair of inputs shares a mean term kappa. Each weight then keeps its nearest
// code or takes the one on the other side of its value (or zero, for log
// codes), whichever choice minimizes d^T E[x x^T] d: sum-preserving rounding
// when rho -> 1, round-to-nearest when rho = kappa = 0. Codes, scales and
// encodings are unchanged; only which of the two neighbouring codes a weight
// gets.

/// The elements of a weight tensor grouped by output channel and, within
/// one, by input channel ("block"), each block listing the kernel taps in
/// the same order.
struct WeightGroups {
  int64_t groups = 0, blocks = 0, taps = 0;
  /// Flat element index of (group, block, tap), in that nesting order.
  std::vector<int64_t> order;
  /// Correlation of taps t and t' (taps x taps, row-major).
  std::vector<double> tapCorrelation;
};

/// Groups a conv2d (OHWI), depthwise (HWCM) or matmul ([B, K, N]) weight;
/// anything else rounds to nearest (one element per group).
WeightGroups groupWeights(Operation *op, ArrayRef<int64_t> shape,
                          double rho) {
  WeightGroups g;
  int64_t kh = 1, kw = 1, dy = 1, dx = 1;
  auto dilation = [&](ArrayRef<int64_t> d) {
    if (d.size() == 2) {
      dy = std::max<int64_t>(d[0], 1);
      dx = std::max<int64_t>(d[1], 1);
    }
  };
  if (auto conv = dyn_cast<tosa::Conv2DOp>(op); conv && shape.size() == 4) {
    int64_t o = shape[0], i = shape[3];
    kh = shape[1], kw = shape[2];
    dilation(conv.getDilation());
    g.groups = o, g.blocks = i, g.taps = kh * kw;
    g.order.reserve(o * i * kh * kw);
    for (int64_t oc = 0; oc < o; ++oc)
      for (int64_t ic = 0; ic < i; ++ic)
        for (int64_t t = 0; t < kh * kw; ++t)
          g.order.push_back((oc * kh * kw + t) * i + ic);
  } else if (auto dw = dyn_cast<tosa::DepthwiseConv2DOp>(op);
             dw && shape.size() == 4) {
    int64_t c = shape[2], m = shape[3];
    kh = shape[0], kw = shape[1];
    dilation(dw.getDilation());
    g.groups = c * m, g.blocks = 1, g.taps = kh * kw;
    g.order.reserve(c * m * kh * kw);
    for (int64_t cm = 0; cm < c * m; ++cm)
      for (int64_t t = 0; t < kh * kw; ++t)
        g.order.push_back(t * c * m + cm);
  } else if (isa<tosa::MatMulOp>(op) && shape.size() == 3) {
    int64_t b = shape[0], k = shape[1], n = shape[2];
    g.groups = b * n, g.blocks = k, g.taps = 1;
    g.order.reserve(b * k * n);
    for (int64_t bn = 0; bn < b * n; ++bn)
      for (int64_t kk = 0; kk < k; ++kk)
        g.order.push_back(((bn / n) * k + kk) * n + bn % n);
  } else {
    int64_t total = 1;
    for (int64_t d : shape)
      total *= d;
    g.groups = total, g.blocks = 1, g.taps = 1;
    g.order.resize(total);
    std::iota(g.order.begin(), g.order.end(), int64_t(0));
  }
  g.tapCorrelation.resize(g.taps * g.taps);
  for (int64_t t = 0; t < g.taps; ++t)
    for (int64_t u = 0; u < g.taps; ++u) {
      double y = static_cast<double>((t / kw - u / kw) * dy);
      double x = static_cast<double>((t % kw - u % kw) * dx);
      g.tapCorrelation[t * g.taps + u] =
          t == u ? 1.0 : std::pow(rho, std::sqrt(y * y + x * x));
    }
  return g;
}

/// A weight's possible codes (the nearest first) and their real values.
struct Choices {
  std::array<int32_t, 3> code;
  std::array<double, 3> value;
  uint8_t count = 0;
  void add(int32_t q, double v) {
    for (uint8_t c = 0; c < count; ++c)
      if (code[c] == q)
        return;
    code[count] = q, value[count] = v, ++count;
  }
};

/// Picks one of `choices[i]` for every element of `weights` (indexed like
/// it), minimizing d^T (I (x) R + kappa 1 1^T) d per group (see above).
/// Returns the index of the chosen code per element.
std::vector<uint8_t> roundCorrelated(MLIRContext *ctx, const WeightGroups &g,
                                     ArrayRef<float> weights,
                                     ArrayRef<Choices> choices,
                                     double kappa) {
  std::vector<uint8_t> pick(weights.size(), 0);
  const int64_t n = g.blocks * g.taps, taps = g.taps;
  // Output channels are independent (each element is in one): round them in
  // parallel; the result does not depend on the scheduling.
  mlir::parallelFor(ctx, 0, g.groups, [&](size_t grp) {
    std::vector<double> d(n), h(n); // error, and (I (x) R) d
    const int64_t *idx = &g.order[grp * n];
    double scale = 0;
    for (int64_t j = 0; j < n; ++j) {
      const Choices &c = choices[idx[j]];
      d[j] = c.value[0] - weights[idx[j]];
      scale = std::max(scale, std::fabs(static_cast<double>(weights[idx[j]])));
    }
    // Moves must gain more than rounding noise (and there are finitely many
    // strictly improving moves; the caps only bound pathological inputs).
    const double tol = 1e-12 * (scale * scale + 1e-300);
    for (int64_t b = 0; b < g.blocks; ++b)
      for (int64_t t = 0; t < taps; ++t) {
        double s = 0;
        for (int64_t u = 0; u < taps; ++u)
          s += g.tapCorrelation[t * taps + u] * d[b * taps + u];
        h[b * taps + t] = s;
      }
    double total = 0; // sum(d), for the mean term
    for (int64_t j = 0; j < n; ++j)
      total += d[j];
    auto deltaOf = [&](int64_t j, uint8_t k) {
      return choices[idx[j]].value[k] - weights[idx[j]] - d[j];
    };
    auto apply = [&](int64_t j, uint8_t k) {
      double delta = deltaOf(j, k);
      int64_t b = j / taps, t = j % taps;
      for (int64_t u = 0; u < taps; ++u)
        h[b * taps + u] += g.tapCorrelation[u * taps + t] * delta;
      d[j] += delta;
      total += delta;
      pick[idx[j]] = k;
    };
    // Steepest descent over the elements [lo, hi) (one block, or the whole
    // channel), with the mean term weighted by `kap`: changing d_j by delta
    // changes the objective by 2 delta (h_j + kap sum(d)) + delta^2 (1 +
    // kap); when no single change gains, and `pairs`, the best change of
    // two elements of the block (which also counts 2 delta_i delta_j
    // (R[i, j] + kap)) is tried, which moves a rounding from one tap to
    // another.
    auto descend = [&](int64_t lo, int64_t hi, double kap, bool pairs) {
      const double diag = 1.0 + kap;
      for (int64_t moves = 0; moves < 2 * (hi - lo) + 64; ++moves) {
        double gain = -tol, common = kap * total;
        int64_t bestI = -1, bestJ = -1;
        uint8_t bestKI = 0, bestKJ = 0;
        auto single = [&](int64_t j, uint8_t k) {
          double delta = deltaOf(j, k);
          return 2 * delta * (h[j] + common) + delta * delta * diag;
        };
        for (int64_t j = lo; j < hi; ++j)
          for (uint8_t k = 0; k < choices[idx[j]].count; ++k)
            if (k != pick[idx[j]]) {
              double change = single(j, k);
              if (change < gain)
                gain = change, bestI = j, bestKI = k;
            }
        if (bestI < 0 && pairs) {
          for (int64_t i = lo; i < hi; ++i)
            for (uint8_t ki = 0; ki < choices[idx[i]].count; ++ki) {
              if (ki == pick[idx[i]])
                continue;
              double di = deltaOf(i, ki), ci = single(i, ki);
              for (int64_t j = i + 1; j < hi; ++j) {
                double r = g.tapCorrelation[(i % taps) * taps + j % taps];
                for (uint8_t kj = 0; kj < choices[idx[j]].count; ++kj) {
                  if (kj == pick[idx[j]])
                    continue;
                  double dj = deltaOf(j, kj);
                  double change = ci + single(j, kj) + 2 * di * dj * (r + kap);
                  if (change < gain)
                    gain = change, bestI = i, bestKI = ki, bestJ = j,
                    bestKJ = kj;
                }
              }
            }
        }
        if (bestI < 0)
          return;
        apply(bestI, bestKI);
        if (bestJ >= 0)
          apply(bestJ, bestKJ);
      }
    };
    // 1. Each input channel's window on its own (local and cheap).
    if (taps > 1)
      for (int64_t b = 0; b < g.blocks; ++b)
        descend(b * taps, (b + 1) * taps, 0.0, /*pairs=*/true);
    if (kappa > 0) {
      // 2. The whole output channel with the mean term, which mostly
      //    corrects the channel's sum; 3. windows again, now with it.
      descend(0, n, kappa, /*pairs=*/false);
      if (taps > 1)
        for (int64_t b = 0; b < g.blocks; ++b)
          descend(b * taps, (b + 1) * taps, kappa, /*pairs=*/true);
    }
  });
  return pick;
}

/// The scale U of a layer's log codes (`maxAbs` > 0 and finite): the one,
/// among the float32 values max|w| 2^(t/32) for t in [-16, 48] (0.7 to 2.8
/// times the largest weight), whose nearest codes have the least squared
/// error over the layer's weights (at most 65,536 of them, evenly strided,
/// on large layers). U = 2 max|w| keeps the largest weight exact, but on a
/// grid of octaves where the bulk of the weights falls matters more (about
/// 1 point of Fashion-MNIST accuracy, docs/QUANTIZATION.md).
double chooseLogScale(MLIRContext *ctx, ArrayRef<float> values,
                      double maxAbs, unsigned bits) {
  const size_t stride = std::max<size_t>(1, values.size() / 65536);
  constexpr int first = -16, last = 48;
  std::array<double, last - first + 1> scale, err;
  mlir::parallelFor(ctx, 0, scale.size(), [&](size_t k) {
    double u = static_cast<float>(maxAbs * std::exp2((first + int(k)) / 32.0));
    double e = 0;
    for (size_t i = 0; i < values.size(); i += stride) {
      double d =
          rt::logDequantize(rt::logQuantize(values[i], u, bits), u) - values[i];
      e += d * d;
    }
    scale[k] = u, err[k] = e;
  });
  size_t best = 0;
  for (size_t k = 1; k < err.size(); ++k)
    if (err[k] < err[best])
      best = k;
  return scale[best];
}

struct LowBitInsertQDQPass
    : public mlir::lowbit::impl::LowBitInsertQDQBase<LowBitInsertQDQPass> {
  using Base::Base;

  void runOnOperation() override;

  LogicalResult quantizeWeight(Operation *op, unsigned operand, int64_t axis);
  LogicalResult quantizeActivation(Value v);
  /// Routes every use of `v` through lowbit.quantize / lowbit.dequantize
  /// with element type `qtype`.
  void insertQDQ(Value v, Type qtype);
};

LogicalResult LowBitInsertQDQPass::quantizeWeight(Operation *op,
                                                  unsigned operand,
                                                  int64_t axis) {
  Value w = op->getOperand(operand);
  auto cst = w.getDefiningOp<tosa::ConstOp>();
  if (!cst)
    return success(); // runtime weights are activations (quantized below)
  auto type = cast<RankedTensorType>(w.getType());
  auto values = readFloats(cst.getValues());
  if (!values)
    return op->emitError("lowbit-insert-qdq: cannot read float weights"),
           failure();
  ArrayRef<int64_t> shape = type.getShape();
  if (!perChannel)
    axis = -1;
  int64_t channels = axis < 0 ? 1 : shape[axis];
  MLIRContext *ctx = &getContext();
  OpBuilder b(op);
  Location loc = cst.getLoc();
  unsigned bits = weightBits;
  const int64_t size = static_cast<int64_t>(values->size());
  std::vector<Choices> choices(size);
  // The chosen code of every element: the nearest one, or the correlated
  // rounding's choice among its neighbours.
  auto chooseCodes = [&]() {
    std::vector<int32_t> codes(size);
    if (weightRounding == "nearest") {
      for (int64_t i = 0; i < size; ++i)
        codes[i] = choices[i].code[0];
      return codes;
    }
    WeightGroups groups = groupWeights(op, shape, roundingTapCorrelation);
    std::vector<uint8_t> pick =
        roundCorrelated(ctx, groups, *values, choices, roundingMeanWeight);
    for (int64_t i = 0; i < size; ++i)
      codes[i] = choices[i].code[pick[i]];
    return codes;
  };

  if (weightScheme == "pow2") {
    // One scale U per output channel (per layer with per-tensor weights, as
    // in the STLQ paper): U = 2 max|w|, so the largest weight is exactly
    // U / 2, code 1 (log-scale=max), or the U of least squared error
    // (log-scale=mse, see chooseLogScale). Each U is a float32 value, so
    // every decoded weight U 2^-e is exact in float32 (the integer lowering
    // relies on it).
    std::vector<std::vector<float>> perChannelValues(channels);
    for (int64_t i = 0; i < size; ++i)
      perChannelValues[channelOf(shape, axis, i)].push_back((*values)[i]);
    SmallVector<double> us(channels, 1.0);
    for (int64_t c = 0; c < channels; ++c) {
      double maxAbs = 0;
      for (float v : perChannelValues[c])
        maxAbs = std::max(maxAbs, std::fabs(static_cast<double>(v)));
      if (maxAbs > 0 && std::isfinite(maxAbs))
        us[c] = logScale == "max"
                    ? static_cast<float>(2 * maxAbs)
                    : chooseLogScale(ctx, perChannelValues[c], maxAbs, bits);
    }
    for (int64_t i = 0; i < size; ++i) {
      double x = (*values)[i], u = us[channelOf(shape, axis, i)];
      int32_t q = rt::logQuantize(x, u, bits);
      Choices &c = choices[i];
      c.add(q, rt::logDequantize(q, u));
      if (x == 0.0 || std::isnan(x))
        continue;
      // The code on the other side of x (one octave up or down, or zero
      // below the smallest magnitude), and zero.
      int32_t e = q < 0 ? -q : q, sign = x > 0 ? 1 : -1;
      int32_t hi = rt::logMaxExponent(x, bits);
      double v = c.value[0];
      if (q == 0)
        c.add(sign * hi, rt::logDequantize(sign * hi, u));
      else if (std::fabs(v) < std::fabs(x) && e > 1)
        c.add(sign * (e - 1), rt::logDequantize(sign * (e - 1), u));
      else if (std::fabs(v) > std::fabs(x) && e < hi)
        c.add(sign * (e + 1), rt::logDequantize(sign * (e + 1), u));
      c.add(0, 0.0);
    }
    std::vector<int32_t> codes = chooseCodes();
    std::vector<float> decoded(size);
    for (int64_t i = 0; i < size; ++i)
      decoded[i] = static_cast<float>(
          rt::logDequantize(codes[i], us[channelOf(shape, axis, i)]));
    auto attr = DenseElementsAttr::get(type, ArrayRef<float>(decoded));
    Value sim = tosa::ConstOp::create(b, loc, type, attr);
    op->setOperand(operand, sim);
    double layerU = *std::max_element(us.begin(), us.end());
    op->setAttr("lowbit.weight_encoding",
                LogAttr::get(ctx, bits, APFloat(layerU),
                             axis < 0 ? ArrayRef<double>()
                                      : ArrayRef<double>(us)));
    return success();
  }

  bool symmetric = weightScheme == "symmetric";
  int64_t qmin = rt::storageMin(bits, true), qmax = rt::storageMax(bits, true);
  if (symmetric)
    qmin = -qmax; // narrow range keeps -x representable
  SmallVector<double> lo(channels, 0.0), hi(channels, 0.0);
  for (int64_t i = 0; i < size; ++i) {
    int64_t c = channelOf(shape, axis, i);
    lo[c] = std::min<double>(lo[c], (*values)[i]);
    hi[c] = std::max<double>(hi[c], (*values)[i]);
  }
  SmallVector<double> scales(channels);
  SmallVector<int64_t> zps(channels, 0);
  for (int64_t c = 0; c < channels; ++c) {
    if (symmetric) {
      double m = std::max(-lo[c], hi[c]);
      scales[c] = m > 0 ? m / static_cast<double>(qmax) : 1.0;
    } else {
      double range = hi[c] - lo[c];
      scales[c] = range > 0 ? range / static_cast<double>(qmax - qmin) : 1.0;
      zps[c] = std::clamp<int64_t>(
          qmin + static_cast<int64_t>(std::nearbyint(-lo[c] / scales[c])),
          qmin, qmax);
    }
    // Scales are float32 in the expressed type; keep exactly that value.
    scales[c] = static_cast<float>(scales[c]);
  }
  unsigned flags = quant::QuantizationFlags::Signed;
  auto storage = IntegerType::get(ctx, bits);
  Type f32 = b.getF32Type();
  quant::QuantizedType qtype =
      axis < 0 ? cast<quant::QuantizedType>(quant::UniformQuantizedType::get(
                     flags, storage, f32, scales[0], zps[0], qmin, qmax))
               : cast<quant::QuantizedType>(
                     quant::UniformQuantizedPerAxisType::get(
                         flags, storage, f32, scales, zps,
                         static_cast<int32_t>(axis), qmin, qmax));
  for (int64_t i = 0; i < size; ++i) {
    int64_t c = channelOf(shape, axis, i);
    float x = (*values)[i];
    int32_t q = rt::quantizeValue(x, static_cast<float>(scales[c]),
                                  static_cast<int32_t>(zps[c]),
                                  static_cast<int32_t>(qmin),
                                  static_cast<int32_t>(qmax));
    auto value = [&](int32_t code) { return (code - zps[c]) * scales[c]; };
    Choices &ch = choices[i];
    ch.add(q, value(q));
    // The neighbouring code on the other side of x, if in range.
    double v = value(q);
    if (v < x && q < qmax)
      ch.add(q + 1, value(q + 1));
    else if (v > x && q > qmin)
      ch.add(q - 1, value(q - 1));
  }
  std::vector<int32_t> codes = chooseCodes();
  SmallVector<APInt> stored;
  stored.reserve(size);
  for (int32_t q : codes)
    stored.emplace_back(bits, static_cast<uint64_t>(q), /*isSigned=*/true);
  auto storedAttr =
      DenseElementsAttr::get(RankedTensorType::get(shape, storage), stored);
  auto qTensor = RankedTensorType::get(shape, qtype);
  Value q = ConstantOp::create(b, loc, qTensor, storedAttr);
  Value d = DequantizeOp::create(b, loc, type, q);
  op->setOperand(operand, d);
  return success();
}

LogicalResult LowBitInsertQDQPass::quantizeActivation(Value v) {
  auto type = dyn_cast<RankedTensorType>(v.getType());
  if (!type || !type.getElementType().isF32())
    return success();
  Operation *def = v.getDefiningOp();
  // Constants are not activations; Q/DQ imports keep their own scales.
  if (def && (isa<tosa::ConstOp, arith::ConstantOp, DequantizeOp,
                  quant::DequantizeCastOp>(def)))
    return success();
  DenseF64ArrayAttr range;
  func::FuncOp func = getOperation();
  if (def)
    range = def->getAttrOfType<DenseF64ArrayAttr>("lowbit.range");
  else
    range = func.getArgAttrOfType<DenseF64ArrayAttr>(
        cast<BlockArgument>(v).getArgNumber(), "lowbit.range");
  if (!range || range.size() != 2) {
    Location loc = def ? def->getLoc() : func.getLoc();
    return emitError(loc) << "lowbit-insert-qdq: tensor has no calibrated "
                             "range (run calibration first: lowbitc "
                             "--calibration FILE.npy)",
           failure();
  }
  // Ops that only move or select values (max-pool, average, reshape,
  // transpose) keep their input's quantization, so their integer form needs
  // no rescaling.
  if (def && isa<tosa::MaxPool2dOp, tosa::AvgPool2dOp, tosa::ReshapeOp,
                 tosa::TransposeOp>(def))
    if (auto in = def->getOperand(0).getDefiningOp<DequantizeOp>()) {
      insertQDQ(v, in.getInput().getType().getElementType());
      return success();
    }
  unsigned bits = activationBits;
  int64_t qmin = rt::storageMin(bits, true), qmax = rt::storageMax(bits, true);
  double lo = std::min(range[0], 0.0), hi = std::max(range[1], 0.0);
  double scale = hi > lo ? (hi - lo) / static_cast<double>(qmax - qmin) : 1.0;
  scale = static_cast<float>(scale);
  int64_t zp = std::clamp<int64_t>(
      qmin + static_cast<int64_t>(std::nearbyint(-lo / scale)), qmin, qmax);
  auto qtype = quant::UniformQuantizedType::get(
      quant::QuantizationFlags::Signed, IntegerType::get(&getContext(), bits),
      type.getElementType(), scale, zp, qmin, qmax);
  insertQDQ(v, qtype);
  return success();
}

void LowBitInsertQDQPass::insertQDQ(Value v, Type qtype) {
  auto type = cast<RankedTensorType>(v.getType());
  Operation *def = v.getDefiningOp();
  OpBuilder b(&getContext());
  if (def)
    b.setInsertionPointAfter(def);
  else
    b.setInsertionPointToStart(cast<BlockArgument>(v).getOwner());
  Location loc = def ? def->getLoc() : getOperation().getLoc();
  auto q = QuantizeOp::create(
      b, loc, RankedTensorType::get(type.getShape(), qtype), v);
  auto d = DequantizeOp::create(b, loc, type, q.getResult());
  v.replaceAllUsesExcept(d.getResult(), q);
}

void LowBitInsertQDQPass::runOnOperation() {
  func::FuncOp func = getOperation();
  if (activationBits < 2 || activationBits > 16) {
    func.emitError() << "lowbit-insert-qdq: activation-bits must be in "
                        "[2, 16], got "
                     << static_cast<unsigned>(activationBits);
    return signalPassFailure();
  }
  if (weightBits < 2 || weightBits > 8) {
    func.emitError() << "lowbit-insert-qdq: weight-bits must be in [2, 8], "
                        "got "
                     << static_cast<unsigned>(weightBits);
    return signalPassFailure();
  }
  if (weightScheme != "symmetric" && weightScheme != "asymmetric" &&
      weightScheme != "pow2") {
    func.emitError() << "lowbit-insert-qdq: unknown weight-scheme '"
                     << weightScheme
                     << "' (symmetric, asymmetric or pow2)";
    return signalPassFailure();
  }
  if (logScale != "mse" && logScale != "max") {
    func.emitError() << "lowbit-insert-qdq: unknown log-scale '" << logScale
                     << "' (mse or max)";
    return signalPassFailure();
  }
  if (weightRounding != "nearest" && weightRounding != "correlated") {
    func.emitError() << "lowbit-insert-qdq: unknown weight-rounding '"
                     << weightRounding << "' (nearest or correlated)";
    return signalPassFailure();
  }
  if (!(roundingTapCorrelation >= 0.0 && roundingTapCorrelation < 1.0)) {
    func.emitError() << "lowbit-insert-qdq: rounding-tap-correlation must be "
                        "in [0, 1), got "
                     << roundingTapCorrelation;
    return signalPassFailure();
  }
  if (!(roundingMeanWeight >= 0.0 && std::isfinite(roundingMeanWeight))) {
    func.emitError() << "lowbit-insert-qdq: rounding-mean-weight must be "
                        "finite and >= 0, got "
                     << roundingMeanWeight;
    return signalPassFailure();
  }

  // Weights first (their constants are not activations).
  WalkResult walk = func.walk([&](Operation *op) {
    LogicalResult r = success();
    if (isa<tosa::Conv2DOp>(op))
      r = quantizeWeight(op, 1, /*axis=*/0); // OHWI
    else if (auto dw = dyn_cast<tosa::DepthwiseConv2DOp>(op))
      // [KH, KW, C, M]: per channel when the multiplier is 1.
      r = quantizeWeight(
          op, 1, cast<ShapedType>(dw.getWeight().getType()).getDimSize(3) == 1
                     ? 2
                     : -1);
    else if (isa<tosa::MatMulOp>(op))
      r = quantizeWeight(op, 1, /*axis=*/2); // [B, K, N]: per column
    return failed(r) ? WalkResult::interrupt() : WalkResult::advance();
  });
  if (walk.wasInterrupted())
    return signalPassFailure();

  // Activations where an integer kernel consumes them, and where a region
  // that stays float (float fallback: a Softmax's exp and sums, ...) reads
  // an activation from outside it.
  llvm::SetVector<Value> toQuantize;
  llvm::SetVector<Operation *> floatOps = floatFallbackOps(func);
  for (Operation *op : floatOps)
    for (Value v : op->getOperands()) {
      Operation *def = v.getDefiningOp();
      auto t = dyn_cast<RankedTensorType>(v.getType());
      if (t && t.getElementType().isF32() && !floatOps.contains(def) &&
          !(def && isa<tosa::ConstOp>(def)))
        toQuantize.insert(v);
    }
  func.walk([&](Operation *op) {
    if (floatOps.contains(op))
      return;
    if (isa<tosa::Conv2DOp, tosa::DepthwiseConv2DOp, tosa::MaxPool2dOp,
            tosa::AvgPool2dOp>(op)) {
      // The importer's crop of the input (a slice from 0 so that TOSA's
      // windows fit) reads a quantized tensor: quantize before it.
      Value in = op->getOperand(0);
      if (auto crop = in.getDefiningOp<tosa::SliceOp>())
        in = crop.getInput1();
      toQuantize.insert(in);
    } else if (isa<tosa::MatMulOp>(op)) {
      toQuantize.insert(op->getOperand(0));
      toQuantize.insert(op->getOperand(1));
    } else if (isa<tosa::AddOp, tosa::SubOp, tosa::ConcatOp>(op)) {
      // An add of a constant is a bias add: it belongs to the accumulator
      // chain of the op before it (e.g. a Gemm's matmul), so neither side
      // is quantized here; the integer form adds it to the accumulator.
      bool biasAdd = isa<tosa::AddOp>(op) &&
                     llvm::any_of(op->getOperands(), [](Value v) {
                       // A constant, possibly reshaped (Gemm's bias).
                       while (auto r = v.getDefiningOp<tosa::ReshapeOp>())
                         v = r.getInput1();
                       return v.getDefiningOp<tosa::ConstOp>() != nullptr;
                     });
      if (!biasAdd)
        for (Value v : op->getOperands())
          toQuantize.insert(v);
    } else if (isa<func::ReturnOp>(op)) {
      for (Value v : op->getOperands())
        toQuantize.insert(v);
    }
  });
  for (Value v : toQuantize)
    if (failed(quantizeActivation(v)))
      return signalPassFailure();
}

} // namespace
