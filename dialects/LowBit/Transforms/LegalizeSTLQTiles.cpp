//===- LegalizeSTLQTiles.cpp - Selective two-word log codes per tile ------===//
//
// Part of the lowbit project.
//
//===----------------------------------------------------------------------===//
//
// stlq-two-word-log-quantization sections 3 and 4.4 on the float TOSA graph;
// see the pass description in Passes.td. The code rules are the runtime's
// (LogQuant.h) and the tile order the shift kernels' (ShiftKernels.h), so the
// mask computed here is the one the kernels read.
//
//===----------------------------------------------------------------------===//

#include "LowBit/IR/LowBitOps.h"
#include "LowBit/Transforms/CorrelatedRounding.h"
#include "LowBit/Transforms/LogWeights.h"
#include "LowBit/Transforms/Passes.h"

#include "lowbit/runtime/LogQuant.h"
#include "lowbit/runtime/ShiftKernels.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Tosa/IR/TosaOps.h"
#include "mlir/IR/Builders.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace mlir {
namespace lowbit {
#define GEN_PASS_DEF_LOWBITLEGALIZESTLQTILES
#include "LowBit/Transforms/Passes.h.inc"
} // namespace lowbit
} // namespace mlir

using namespace mlir;
using namespace mlir::lowbit;
namespace rt = ::lowbit::rt;

namespace {

/// The codes of one layer in logical order (see LogicalWeights).
struct Codes {
  std::vector<int32_t> first, second;
  std::vector<double> us; // U per output channel (all equal per layer)
};

/// Every weight's two words under scales `us` when each weight is a one- or
/// two-word value (rounded to float32, as the graph holds it: U (2^-a +
/// 2^-b) may need more significand bits than float32 has); std::nullopt
/// otherwise.
std::optional<Codes> onGrid(ArrayRef<float> x, const LogicalWeights &lw,
                            ArrayRef<double> us, unsigned bits) {
  // Integers in units of U 2^-M fit int64 up to the integer target's widest
  // codes; wider codes are not searched for a grid.
  if (bits > rt::kMaxShiftCodeBits)
    return std::nullopt;
  Codes c;
  c.us.assign(us.begin(), us.end());
  const int64_t perChannel = lw.kh * lw.kw * lw.ic;
  c.first.resize(x.size());
  c.second.resize(x.size());
  const int32_t m = rt::logMaxCode(bits);
  const double unitScale = std::ldexp(1.0, m); // codes of U = 2^M: integers
  for (size_t k = 0; k < x.size(); ++k) {
    // x in units of U 2^-M is an integer (to float32's precision) that
    // splits into two codes' integers.
    double r = std::ldexp(x[k] / us[k / perChannel], m);
    double n = std::nearbyint(r);
    if (!(std::fabs(r - n) <= 1e-6 * std::max(1.0, std::fabs(r))) ||
        std::fabs(n) > unitScale)
      return std::nullopt;
    rt::TwoWords w;
    if (!rt::logSplitInteger(static_cast<int64_t>(n), bits, w))
      return std::nullopt;
    c.first[k] = w.first;
    c.second[k] = w.second;
  }
  return c;
}

/// The STLQ mask over `d`'s tiles: a tile has two words when one of its
/// weights has a non-zero second word.
std::vector<bool> tilesNeedingTwoWords(const rt::LogWeightsDesc &d,
                                       ArrayRef<int32_t> second) {
  std::vector<bool> mask(rt::stlqTileCount(d), false);
  int64_t k = 0;
  for (int64_t o = 0; o < d.oc; ++o)
    for (int64_t y = 0; y < d.kh; ++y)
      for (int64_t x = 0; x < d.kw; ++x)
        for (int64_t i = 0; i < d.ic; ++i, ++k)
          if (second[k] != 0)
            mask[rt::stlqTileIndex(d, o, y, x, i)] = true;
  return mask;
}

struct LegalizeSTLQTilesPass
    : public mlir::lowbit::impl::LowBitLegalizeSTLQTilesBase<
          LegalizeSTLQTilesPass> {
  using Base::Base;

  void runOnOperation() override;
  LogicalResult legalize(Operation *op);
  /// Correlated rounding of the codes `c` (eq. 1-4's on entry; see
  /// CorrelatedRounding.h): each weight keeps them or takes the nearest
  /// value of its tile's word count on the other side of it, or zero.
  void roundCorrelatedCodes(Operation *op, const LogicalWeights &lw,
                            ArrayRef<float> tosaValues, bool channels,
                            ArrayRef<int64_t> tileOf,
                            const std::vector<bool> &mask, Codes &c);
  /// Replaces `op`'s weights by the decoded codes and sets its encoding:
  /// `#lowbit.log` when `oneWord` (no weight has a second word), else
  /// `#lowbit.stlq` with `mask`.
  void rewrite(Operation *op, const LogicalWeights &lw,
               const rt::LogWeightsDesc &d, const Codes &c,
               const std::vector<bool> &mask, bool perChannelScales,
               bool oneWord);
};

void LegalizeSTLQTilesPass::runOnOperation() {
  func::FuncOp func = getOperation();
  auto bad = [&](const Twine &msg) {
    func.emitError() << "lowbit-legalize-stlq-tiles: " << msg;
    signalPassFailure();
  };
  if (bits < 2 || bits > 8)
    return bad("bits must be in [2, 8], got " + Twine(unsigned(bits)));
  if (granularity != "tile" && granularity != "filter")
    return bad("granularity must be tile or filter, got '" + granularity +
               "'");
  if (!(ratio >= 0.0 && ratio <= 1.0))
    return bad("ratio must be in [0, 1], got " + std::to_string(ratio));
  constexpr int64_t kMaxTile = int64_t(1) << 31; // #lowbit.stlq's bound
  if (tileInputs < 1 || tileOutputs < 1 || tileInputs > kMaxTile ||
      tileOutputs > kMaxTile)
    return bad("tile-inputs and tile-outputs must be in [1, 2^31], got " +
               Twine(int64_t(tileInputs)) + " and " +
               Twine(int64_t(tileOutputs)));
  if (logScale != "mse" && logScale != "max")
    return bad("unknown log-scale '" + Twine(logScale) + "' (mse or max)");
  if (weightRounding != "nearest" && weightRounding != "correlated")
    return bad("unknown weight-rounding '" + Twine(weightRounding) +
               "' (nearest or correlated)");
  if (!(roundingTapCorrelation >= 0.0 && roundingTapCorrelation < 1.0))
    return bad("rounding-tap-correlation must be in [0, 1), got " +
               std::to_string(roundingTapCorrelation));
  if (!(roundingMeanWeight >= 0.0 && std::isfinite(roundingMeanWeight)))
    return bad("rounding-mean-weight must be finite and >= 0, got " +
               std::to_string(roundingMeanWeight));
  WalkResult r = func.walk([&](Operation *op) {
    if (!isa<tosa::Conv2DOp, tosa::DepthwiseConv2DOp, tosa::MatMulOp>(op))
      return WalkResult::advance();
    return failed(legalize(op)) ? WalkResult::interrupt()
                                : WalkResult::advance();
  });
  if (r.wasInterrupted())
    signalPassFailure();
}

LogicalResult LegalizeSTLQTilesPass::legalize(Operation *op) {
  Attribute existing = op->getAttr("lowbit.weight_encoding");
  if (isa_and_nonnull<LogAttr>(existing))
    return success(); // one word everywhere: legal for any tile shape
  auto stlq = dyn_cast_or_null<STLQAttr>(existing);
  if (existing && !stlq)
    return op->emitError("lowbit-legalize-stlq-tiles: unknown weight "
                         "encoding ")
               << existing,
           failure();
  auto cst = op->getOperand(1).getDefiningOp<tosa::ConstOp>();
  if (!cst)
    return success(); // runtime weights are activations
  std::optional<LogicalWeights> lw = logicalWeights(op);
  std::optional<FloatValues> read = readFloats(cst.getValues());
  if (!lw || !read)
    return op->emitError("lowbit-legalize-stlq-tiles: cannot read the "
                         "float32 weights of this op"),
           failure();
  ArrayRef<float> tosaValues = read->values;
  const int64_t n = static_cast<int64_t>(lw->logical.size());
  std::vector<float> x(n);
  for (int64_t k = 0; k < n; ++k)
    x[k] = tosaValues[lw->logical[k]];
  // Per filter, a tile is one output channel's input channels at one
  // kernel position, and all tiles of a filter are chosen together.
  const bool perFilter = granularity == "filter";
  rt::LogWeightsDesc d{lw->oc,
                       lw->kh,
                       lw->kw,
                       lw->ic,
                       bits,
                       perFilter ? std::max<int64_t>(lw->ic, 1)
                                 : int64_t(tileInputs),
                       perFilter ? 1 : int64_t(tileOutputs)};
  const int64_t perOut = lw->kh * lw->kw * lw->ic;
  // Per output channel, except a depthwise multiplier > 1 (whose channels
  // the integer op cannot scale separately, as in lowbit-insert-qdq).
  bool channelsAllowed = true;
  if (auto dw = dyn_cast<tosa::DepthwiseConv2DOp>(op))
    channelsAllowed =
        cast<ShapedType>(dw.getWeight().getType()).getDimSize(3) == 1;

  if (stlq) {
    // A mask given with another tile shape: legalized to this one, keeping
    // the values (which must be on the encoding's grid).
    if (stlq.getInputTile() == d.tileIn && stlq.getOutputTile() == d.tileOut)
      return success();
    if (stlq.getBits() != bits)
      return op->emitError("lowbit-legalize-stlq-tiles: the weights have "
                           "an STLQ encoding of ")
                 << stlq.getBits() << " bits, not " << unsigned(bits),
             failure();
    if (bits > rt::kMaxShiftCodeBits)
      return op->emitError("lowbit-legalize-stlq-tiles: re-tiling an STLQ "
                           "encoding needs codes of at most ")
                 << rt::kMaxShiftCodeBits << " bits, got " << unsigned(bits),
             failure();
    SmallVector<double> us(lw->oc, stlq.getScaleValue());
    if (stlq.isPerChannel()) {
      if (stlq.getNumScales() != lw->oc)
        return op->emitError("lowbit-legalize-stlq-tiles: the STLQ "
                             "encoding has ")
                   << stlq.getNumScales() << " channel scales for "
                   << lw->oc << " output channels",
               failure();
      for (int64_t o = 0; o < lw->oc; ++o)
        us[o] = stlq.getScaleValue(o);
    }
    std::optional<Codes> c = onGrid(x, *lw, us, bits);
    if (!c)
      return op->emitError("lowbit-legalize-stlq-tiles: the weights are not "
                           "values of their #lowbit.stlq encoding"),
             failure();
    rewrite(op, *lw, d, *c, tilesNeedingTwoWords(d, c->second),
            stlq.isPerChannel(), /*oneWord=*/false);
    return success();
  }

  // Largest magnitude per output channel and per layer.
  std::vector<double> maxAbs(lw->oc, 0.0);
  for (int64_t k = 0; k < n; ++k)
    maxAbs[k / perOut] =
        std::max(maxAbs[k / perOut], std::fabs(static_cast<double>(x[k])));
  double layerMax = 0;
  for (double m : maxAbs)
    layerMax = std::max(layerMax, m);
  auto maxScale = [](double m) {
    return m > 0 && std::isfinite(m) ? static_cast<double>(static_cast<float>(2 * m))
                                     : 1.0;
  };

  if (keepLogGrid) {
    // A model trained on the grid: U = 2 max|w| per layer, or per channel.
    for (bool channels : {false, true}) {
      if (channels && !channelsAllowed)
        continue;
      SmallVector<double> us(lw->oc, maxScale(layerMax));
      if (channels)
        for (int64_t o = 0; o < lw->oc; ++o)
          us[o] = maxScale(maxAbs[o]);
      if (std::optional<Codes> c = onGrid(x, *lw, us, bits)) {
        std::vector<bool> mask = tilesNeedingTwoWords(d, c->second);
        bool oneWord = llvm::none_of(mask, [](bool b) { return b; });
        rewrite(op, *lw, d, *c, mask, channels, oneWord);
        return success();
      }
    }
  }

  // Scales.
  const bool channels = perChannel && channelsAllowed;
  Codes c;
  c.us.assign(lw->oc, 1.0);
  MLIRContext *ctx = &getContext();
  if (channels) {
    for (int64_t o = 0; o < lw->oc; ++o) {
      if (!(maxAbs[o] > 0 && std::isfinite(maxAbs[o])))
        continue;
      c.us[o] = logScale == "max"
                    ? maxScale(maxAbs[o])
                    : chooseLogScale(ctx,
                                     ArrayRef<float>(x).slice(o * perOut,
                                                              perOut),
                                     maxAbs[o], bits);
    }
  } else if (layerMax > 0 && std::isfinite(layerMax)) {
    double u = logScale == "max"
                   ? maxScale(layerMax)
                   : chooseLogScale(ctx, tosaValues, layerMax, bits);
    c.us.assign(lw->oc, u);
  }

  // First words, residuals, tile scores ||r1||^2.
  c.first.resize(n);
  c.second.assign(n, 0);
  std::vector<double> score(rt::stlqTileCount(d), 0.0);
  std::vector<int64_t> tileSize(score.size(), 0);
  std::vector<int64_t> tileOf(n);
  {
    int64_t k = 0;
    for (int64_t o = 0; o < d.oc; ++o)
      for (int64_t y = 0; y < d.kh; ++y)
        for (int64_t xk = 0; xk < d.kw; ++xk)
          for (int64_t i = 0; i < d.ic; ++i, ++k) {
            double u = c.us[o];
            c.first[k] = rt::logQuantize(x[k], u, bits);
            double r1 = x[k] - rt::logDequantize(c.first[k], u);
            int64_t t = rt::stlqTileIndex(d, o, y, xk, i);
            tileOf[k] = t;
            score[t] += r1 * r1;
            ++tileSize[t];
          }
  }
  // The units ranked: the tiles, or per filter each filter's kh * kw
  // tiles as one (its score and size the sums of theirs).
  const int64_t tilesPerUnit = perFilter ? d.kh * d.kw : 1;
  const int64_t units = static_cast<int64_t>(score.size()) / tilesPerUnit;
  std::vector<double> unitScore(units, 0.0);
  std::vector<int64_t> unitSize(units, 0);
  for (int64_t t = 0; t < static_cast<int64_t>(score.size()); ++t) {
    unitScore[t / tilesPerUnit] += score[t];
    unitSize[t / tilesPerUnit] += tileSize[t];
  }
  // Rank the units and take the count of weights nearest ratio * n.
  std::vector<int64_t> order(units);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) {
    return unitScore[a] > unitScore[b];
  });
  const double target = ratio * static_cast<double>(n);
  std::vector<bool> mask(score.size(), false);
  int64_t cum = 0;
  for (int64_t u : order) {
    if (static_cast<double>(cum) >= target)
      break;
    const double below = target - static_cast<double>(cum);
    const double above = static_cast<double>(cum + unitSize[u]) - target;
    if (below < above)
      break; // stopping here is nearer the target
    for (int64_t t = u * tilesPerUnit; t < (u + 1) * tilesPerUnit; ++t)
      mask[t] = true;
    cum += unitSize[u];
  }
  for (int64_t k = 0; k < n; ++k)
    if (mask[tileOf[k]]) {
      double u = c.us[k / perOut];
      c.second[k] = rt::stlqQuantize(x[k], u, bits).second;
    }
  if (weightRounding == "correlated")
    roundCorrelatedCodes(op, *lw, tosaValues, channels, tileOf, mask, c);
  rewrite(op, *lw, d, c, mask, channels, /*oneWord=*/false);
  return success();
}

void LegalizeSTLQTilesPass::roundCorrelatedCodes(
    Operation *op, const LogicalWeights &lw, ArrayRef<float> tosaValues,
    bool channels, ArrayRef<int64_t> tileOf, const std::vector<bool> &mask,
    Codes &c) {
  using namespace mlir::lowbit::rounding;
  const int64_t n = static_cast<int64_t>(lw.logical.size());
  const int64_t perOut = lw.kh * lw.kw * lw.ic;
  std::vector<int64_t> logicalOf(n);
  for (int64_t k = 0; k < n; ++k)
    logicalOf[lw.logical[k]] = k;
  // Every value two words can make for U = 1 (exact in double: a sum of two
  // powers of two), ascending, with a split; the first split found of a
  // value is kept.
  const int32_t m = rt::logMaxCode(bits);
  std::vector<std::pair<double, rt::TwoWords>> sums;
  for (int32_t a = -m; a < m; ++a)
    for (int32_t b = -m; b < m; ++b)
      sums.push_back({rt::logDequantize(a, 1.0) + rt::logDequantize(b, 1.0),
                      rt::TwoWords{a, b}});
  std::stable_sort(sums.begin(), sums.end(),
                   [](auto &l, auto &r) { return l.first < r.first; });
  sums.erase(std::unique(sums.begin(), sums.end(),
                         [](auto &l, auto &r) { return l.first == r.first; }),
             sums.end());
  // A pair of codes as one int32 for the rounding (codes fit 16 bits).
  auto pack = [](rt::TwoWords w) {
    return static_cast<int32_t>((static_cast<uint32_t>(w.first) & 0xffffu) |
                                (static_cast<uint32_t>(w.second) << 16));
  };
  auto unpack = [](int32_t p) {
    return rt::TwoWords{static_cast<int16_t>(p & 0xffff),
                        static_cast<int16_t>(static_cast<uint32_t>(p) >> 16)};
  };
  auto choicesOf = [&](int64_t i, int64_t) {
    Choices ch{};
    const int64_t k = logicalOf[i];
    const double u = c.us[k / perOut], x = tosaValues[i];
    rt::TwoWords w{c.first[k], c.second[k]}; // eq. 1-4's codes first
    auto valueOf = [&](rt::TwoWords t) {
      return rt::logDequantize(t.first, u) + rt::logDequantize(t.second, u);
    };
    ch.add(pack(w), valueOf(w));
    if (x == 0.0 || std::isnan(x))
      return ch;
    const double v0 = valueOf(w);
    const bool twoWords = mask[tileOf[k]];
    // The nearest value on the other side of x that the tile's word count
    // can make, then zero.
    const double t = x / u;
    if (twoWords) {
      auto it = std::lower_bound(
          sums.begin(), sums.end(), t,
          [](const auto &e, double v) { return e.first < v; });
      if (v0 < x && it != sums.end())
        ch.add(pack(it->second), valueOf(it->second));
      else if (v0 > x && it != sums.begin())
        ch.add(pack(std::prev(it)->second), valueOf(std::prev(it)->second));
    } else {
      const int32_t q = w.first, e = q < 0 ? -q : q, sign = x > 0 ? 1 : -1;
      const int32_t hi = rt::logMaxExponent(x, bits);
      if (q == 0)
        ch.add(pack({sign * hi, 0}), rt::logDequantize(sign * hi, u));
      else if (std::fabs(v0) < std::fabs(x) && e > 1)
        ch.add(pack({sign * (e - 1), 0}), rt::logDequantize(sign * (e - 1), u));
      else if (std::fabs(v0) > std::fabs(x) && e < hi)
        ch.add(pack({sign * (e + 1), 0}), rt::logDequantize(sign * (e + 1), u));
    }
    ch.add(0, 0.0);
    return ch;
  };
  auto type = cast<RankedTensorType>(op->getOperand(1).getType());
  ArrayRef<int64_t> shape = type.getShape();
  int64_t axis = -1;
  if (channels)
    axis = isa<tosa::Conv2DOp>(op) ? 0 : 2;
  const ChannelLayout layout(shape, axis);
  WeightGroups groups = groupWeights(op, shape, roundingTapCorrelation);
  std::vector<int32_t> codes(n);
  roundCorrelated(&getContext(), groups, layout, tosaValues, choicesOf,
                  roundingMeanWeight, codes.data());
  for (int64_t i = 0; i < n; ++i) {
    rt::TwoWords w = unpack(codes[i]);
    c.first[logicalOf[i]] = w.first;
    c.second[logicalOf[i]] = w.second;
  }
}

void LegalizeSTLQTilesPass::rewrite(Operation *op, const LogicalWeights &lw,
                                    const rt::LogWeightsDesc &d,
                                    const Codes &c,
                                    const std::vector<bool> &mask,
                                    bool perChannelScales, bool oneWord) {
  MLIRContext *ctx = &getContext();
  auto type = cast<RankedTensorType>(op->getOperand(1).getType());
  const int64_t perOut = lw.kh * lw.kw * lw.ic;
  std::vector<float> decoded(lw.logical.size());
  for (size_t k = 0; k < lw.logical.size(); ++k) {
    double u = c.us[k / perOut];
    decoded[lw.logical[k]] = static_cast<float>(
        rt::logDequantize(c.first[k], u) + rt::logDequantize(c.second[k], u));
  }
  OpBuilder b(op);
  Value w = tosa::ConstOp::create(
      b, op->getLoc(), type,
      DenseElementsAttr::get(type, ArrayRef<float>(decoded)));
  op->setOperand(1, w);
  double layerU = *std::max_element(c.us.begin(), c.us.end());
  ArrayRef<double> scales =
      perChannelScales ? ArrayRef<double>(c.us) : ArrayRef<double>();
  if (oneWord) {
    op->setAttr("lowbit.weight_encoding",
                LogAttr::get(ctx, d.bits, APFloat(layerU), scales));
    return;
  }
  SmallVector<int64_t> maskShape = {rt::detail::ceilDiv(d.oc, d.tileOut)};
  if (!isa<tosa::MatMulOp>(op))
    maskShape.append({d.kh, d.kw});
  maskShape.push_back(rt::detail::ceilDiv(d.ic, d.tileIn));
  SmallVector<bool> twoWords(mask.begin(), mask.end());
  auto maskType = RankedTensorType::get(maskShape, IntegerType::get(ctx, 1));
  auto maskAttr = DenseElementsAttr::get(maskType, ArrayRef<bool>(twoWords));
  SmallVector<int64_t> tile = {d.tileIn, d.tileOut};
  op->setAttr("lowbit.weight_encoding",
              STLQAttr::get(ctx, d.bits, APFloat(layerU), tile, maskAttr,
                            scales));
}

} // namespace
