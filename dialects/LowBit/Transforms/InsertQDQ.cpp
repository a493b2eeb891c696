//===- InsertQDQ.cpp - Quantize a calibrated float graph ------------------===//
//
// Part of the lowbit project.
//
//===----------------------------------------------------------------------===//

#include "LowBit/IR/LowBitOps.h"
#include "LowBit/Transforms/FloatFallback.h"
#include "LowBit/Transforms/LogWeights.h"
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
#include <cassert>
#include <limits>
#include <memory>
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

/// Where the channel of a flat element index comes from: element i is in
/// channel (i / inner) % channels (channel 0 of 1 when axis < 0).
struct ChannelLayout {
  int64_t outer = 1, channels = 1, inner = 1;
  ChannelLayout(ArrayRef<int64_t> shape, int64_t axis) {
    int64_t total = 1;
    for (int64_t d : shape)
      total *= d;
    if (axis < 0) {
      inner = total;
      return;
    }
    channels = shape[axis];
    for (size_t d = axis + 1; d < shape.size(); ++d)
      inner *= shape[d];
    for (int64_t d = 0; d < axis; ++d)
      outer *= shape[d];
  }
  int64_t channelOf(int64_t i) const {
    return channels == 1 ? 0 : (i / inner) % channels;
  }
  /// Calls f(i, c) for every element in flat order.
  template <typename F> void forEach(F &&f) const {
    int64_t i = 0;
    for (int64_t o = 0; o < outer; ++o)
      for (int64_t c = 0; c < channels; ++c)
        for (int64_t k = 0; k < inner; ++k, ++i)
          f(i, c);
  }
};

/// Runs f(begin, end, c) over the elements of a tensor of `layout`, in
/// parallel, on runs [begin, end) of consecutive elements of one channel c
/// (each element is in exactly one run; the results do not depend on the
/// scheduling). Tasks are chunks of about 64K elements, however short the
/// runs (a per-column quantized matmul has runs of one element).
template <typename F>
void parallelRuns(MLIRContext *ctx, const ChannelLayout &layout, F &&f) {
  constexpr int64_t kChunk = 1 << 16;
  const int64_t size = layout.outer * layout.channels * layout.inner;
  const int64_t tasks = (size + kChunk - 1) / kChunk;
  mlir::parallelFor(ctx, 0, static_cast<size_t>(tasks), [&](size_t task) {
    const int64_t begin = static_cast<int64_t>(task) * kChunk;
    const int64_t end = std::min(size, begin + kChunk);
    for (int64_t i = begin; i < end;) {
      const int64_t row = i / layout.inner;
      const int64_t runEnd = std::min(end, (row + 1) * layout.inner);
      f(i, runEnd, row % layout.channels);
      i = runEnd;
    }
  });
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
/// the same order. The element indices of a group are computed when the
/// group is rounded (no table as large as the weights).
struct WeightGroups {
  enum class Layout { Conv, Depthwise, MatMul, Single };
  Layout layout = Layout::Single;
  int64_t groups = 0, blocks = 0, taps = 0;
  /// Layout sizes: conv (in channels I), depthwise (C * M), matmul (K, N).
  int64_t dimA = 0, dimB = 0;
  /// Correlation of taps t and t' (taps x taps, row-major).
  std::vector<double> tapCorrelation;

  /// Flat element index of (group, block, tap) for every block and tap of
  /// `grp`, in that nesting order, into out[0, blocks * taps).
  void indices(int64_t grp, int64_t *out) const {
    switch (layout) {
    case Layout::Conv: // OHWI: (oc * KH * KW + t) * I + ic
      for (int64_t ic = 0; ic < blocks; ++ic)
        for (int64_t t = 0; t < taps; ++t)
          *out++ = (grp * taps + t) * dimA + ic;
      return;
    case Layout::Depthwise: // [KH, KW, C, M]: t * C * M + cm
      for (int64_t t = 0; t < taps; ++t)
        *out++ = t * dimA + grp;
      return;
    case Layout::MatMul: // [B, K, N]: (b * K + k) * N + n
      for (int64_t kk = 0; kk < blocks; ++kk)
        *out++ = ((grp / dimB) * dimA + kk) * dimB + grp % dimB;
      return;
    case Layout::Single:
      *out = grp;
      return;
    }
  }
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
    g.layout = WeightGroups::Layout::Conv;
    g.groups = o, g.blocks = i, g.taps = kh * kw;
    g.dimA = i;
  } else if (auto dw = dyn_cast<tosa::DepthwiseConv2DOp>(op);
             dw && shape.size() == 4) {
    int64_t c = shape[2], m = shape[3];
    kh = shape[0], kw = shape[1];
    dilation(dw.getDilation());
    g.layout = WeightGroups::Layout::Depthwise;
    g.groups = c * m, g.blocks = 1, g.taps = kh * kw;
    g.dimA = c * m;
  } else if (isa<tosa::MatMulOp>(op) && shape.size() == 3) {
    int64_t b = shape[0], k = shape[1], n = shape[2];
    g.layout = WeightGroups::Layout::MatMul;
    g.groups = b * n, g.blocks = k, g.taps = 1;
    g.dimA = k, g.dimB = n;
  } else {
    int64_t total = 1;
    for (int64_t d : shape)
      total *= d;
    g.layout = WeightGroups::Layout::Single;
    g.groups = total, g.blocks = 1, g.taps = 1;
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

/// Working memory of one rounding task, reused across the groups a thread
/// rounds (a group is one output channel: up to a few thousand weights).
/// Per element j of the group (in group order): its flat index, the values
/// and codes of its choices (value[k * n + j], k < count[j]), the chosen
/// one, its float weight, its error d and (I (x) R) d.
struct GroupScratch {
  std::vector<int64_t> idx;
  std::vector<double> value;
  std::vector<int32_t> code;
  std::vector<uint8_t> count, pick;
  std::vector<double> weight, d, h;
  /// Changes of the objective of every choice in a whole-group scan
  /// (change[k * n + j]), and 0 where choice k of element j is a move, +inf
  /// where it is not (closed[k * n + j]).
  std::vector<double> change, closed;
  void resize(size_t n) {
    idx.resize(n);
    value.resize(3 * n);
    code.resize(3 * n);
    count.resize(n);
    pick.resize(n);
    weight.resize(n);
    d.resize(n);
    h.resize(n);
    change.resize(3 * n);
    closed.resize(3 * n);
  }
};

/// A move of one element to another of its choices, in a block's search.
struct Candidate {
  int64_t j;
  uint8_t k;
  double delta, change;
};

/// Picks one of `choicesOf(i, c)` for every element i of `weights` (in
/// channel c of `layout`), minimizing d^T (I (x) R + kappa 1 1^T) d per
/// group (see above), and stores the chosen code of element i in codes[i].
/// Every group lies in one channel (groups are output channels, and weights
/// are quantized per output channel or per tensor). `choicesOf` must be
/// callable from several threads at once.
template <typename ChoicesFn>
void roundCorrelated(MLIRContext *ctx, const WeightGroups &g,
                     const ChannelLayout &layout, ArrayRef<float> allWeights,
                     ChoicesFn &&choicesOf, double kappa, int32_t *codes) {
  const int64_t n = g.blocks * g.taps, taps = g.taps;
  if (n == 0)
    return;
  const double *corr = g.tapCorrelation.data();
  // Output channels are independent (each element is in one): round them in
  // parallel; the result does not depend on the scheduling.
  mlir::parallelFor(ctx, 0, g.groups, [&](size_t grp) {
    thread_local GroupScratch scratch;
    scratch.resize(n);
    int64_t *idx = scratch.idx.data();
    g.indices(static_cast<int64_t>(grp), idx);
    const int64_t channel = layout.channelOf(idx[0]);
    assert(llvm::all_of(llvm::ArrayRef<int64_t>(idx, n),
                        [&](int64_t i) {
                          return layout.channelOf(i) == channel;
                        }) &&
           "a group spans channels");
    double *value = scratch.value.data(), *weight = scratch.weight.data();
    int32_t *code = scratch.code.data();
    uint8_t *count = scratch.count.data(), *pick = scratch.pick.data();
    double *d = scratch.d.data(), *h = scratch.h.data(); // error, (I (x) R) d
    double *change = scratch.change.data(), *closed = scratch.closed.data();
    double scale = 0;
    uint8_t maxCount = 0;
    for (int64_t j = 0; j < n; ++j) {
      float w = allWeights[idx[j]];
      Choices c = choicesOf(idx[j], channel);
      for (uint8_t k = 0; k < 3; ++k) {
        value[k * n + j] = k < c.count ? c.value[k] : 0.0;
        code[k * n + j] = k < c.count ? c.code[k] : 0;
      }
      count[j] = c.count;
      maxCount = std::max(maxCount, c.count);
      pick[j] = 0;
      weight[j] = w; // exact: the float weight as a double
      d[j] = c.value[0] - w;
      scale = std::max(scale, std::fabs(static_cast<double>(w)));
    }
    // Moves must gain more than rounding noise (and there are finitely many
    // strictly improving moves; the caps only bound pathological inputs).
    const double tol = 1e-12 * (scale * scale + 1e-300);
    for (int64_t b = 0; b < g.blocks; ++b)
      for (int64_t t = 0; t < taps; ++t) {
        double s = 0;
        for (int64_t u = 0; u < taps; ++u)
          s += corr[t * taps + u] * d[b * taps + u];
        h[b * taps + t] = s;
      }
    double total = 0; // sum(d), for the mean term
    for (int64_t j = 0; j < n; ++j)
      total += d[j];
    auto deltaOf = [&](int64_t j, uint8_t k) {
      return value[k * n + j] - weight[j] - d[j];
    };
    auto apply = [&](int64_t j, uint8_t k) {
      double delta = deltaOf(j, k);
      int64_t b = j / taps, t = j % taps;
      for (int64_t u = 0; u < taps; ++u)
        h[b * taps + u] += corr[u * taps + t] * delta;
      d[j] += delta;
      total += delta;
      pick[j] = k;
    };
    // Steepest descent with the mean term weighted by `kap`: changing d_j
    // by delta changes the objective by 2 delta (h_j + kap sum(d)) +
    // delta^2 (1 + kap). Every scan visits the elements in order, and their
    // choices in order, and keeps the first strictly best move.
    //
    // Over one block (one input channel's window, [lo, lo + taps)): when no
    // single change gains, the best change of two elements of the block
    // (which also counts 2 delta_i delta_j (R[i, j] + kap)) is tried, which
    // moves a rounding from one tap to another.
    SmallVector<Candidate, 32> cands;
    auto descendBlock = [&](int64_t lo, double kap) {
      const int64_t hi = lo + taps;
      const double diag = 1.0 + kap;
      for (int64_t moves = 0; moves < 2 * taps + 64; ++moves) {
        double gain = -tol, common = kap * total;
        cands.clear();
        for (int64_t j = lo; j < hi; ++j)
          for (uint8_t k = 0; k < count[j]; ++k)
            if (k != pick[j]) {
              double delta = deltaOf(j, k);
              cands.push_back(
                  {j, k, delta,
                   2 * delta * (h[j] + common) + delta * delta * diag});
            }
        const Candidate *best = nullptr, *second = nullptr;
        for (const Candidate &c : cands)
          if (c.change < gain)
            gain = c.change, best = &c;
        if (!best) {
          for (size_t a = 0; a < cands.size(); ++a) {
            const Candidate &ci = cands[a];
            const double *r = corr + (ci.j - lo) * taps; // R[i - lo, *]
            for (size_t b = a + 1; b < cands.size(); ++b) {
              const Candidate &cj = cands[b];
              if (cj.j == ci.j)
                continue;
              double change =
                  ci.change + cj.change +
                  2 * ci.delta * cj.delta * (r[cj.j - lo] + kap);
              if (change < gain)
                gain = change, best = &ci, second = &cj;
            }
          }
        }
        if (!best)
          return;
        apply(best->j, best->k);
        if (second)
          apply(second->j, second->k);
      }
    };
    // Over the whole group, single changes only: the changes of all choices
    // are computed first (loops without branches, the least kept in
    // independent lanes), then the first of the least is found.
    auto descendGroup = [&](double kap) {
      const double diag = 1.0 + kap;
      const double inf = std::numeric_limits<double>::infinity();
      auto close = [&](int64_t j) {
        for (uint8_t k = 0; k < maxCount; ++k)
          closed[k * n + j] = k < count[j] && k != pick[j] ? 0.0 : inf;
      };
      for (int64_t j = 0; j < n; ++j)
        close(j);
      for (int64_t moves = 0; moves < 2 * n + 64; ++moves) {
        double common = kap * total;
        double least = inf;
        for (uint8_t k = 0; k < maxCount; ++k) {
          const double *val = value + k * n, *shut = closed + k * n;
          double *ch = change + k * n;
          constexpr int kLanes = 4;
          double lanes[kLanes] = {inf, inf, inf, inf};
          auto one = [&](int64_t j, double &lane) {
            double delta = val[j] - weight[j] - d[j];
            double c = 2 * delta * (h[j] + common) + delta * delta * diag;
            c = shut[j] == 0.0 ? c : inf;
            ch[j] = c;
            lane = c < lane ? c : lane;
          };
          int64_t j = 0;
          for (; j + kLanes <= n; j += kLanes)
            for (int l = 0; l < kLanes; ++l)
              one(j + l, lanes[l]);
          for (; j < n; ++j)
            one(j, lanes[0]);
          for (double lane : lanes)
            least = lane < least ? lane : least;
        }
        // The sequential scan's choice: the first (element, then choice)
        // whose change is the least, if that gains more than `tol`.
        if (!(least < -tol))
          return;
        int64_t bestJ = -1;
        uint8_t bestK = 0;
        for (int64_t j = 0; j < n && bestJ < 0; ++j)
          for (uint8_t k = 0; k < maxCount; ++k)
            if (change[k * n + j] == least) {
              bestJ = j, bestK = k;
              break;
            }
        apply(bestJ, bestK);
        close(bestJ);
      }
    };
    // 1. Each input channel's window on its own (local and cheap).
    if (taps > 1)
      for (int64_t b = 0; b < g.blocks; ++b)
        descendBlock(b * taps, 0.0);
    if (kappa > 0) {
      // 2. The whole output channel with the mean term, which mostly
      //    corrects the channel's sum; 3. windows again, now with it.
      descendGroup(kappa);
      if (taps > 1)
        for (int64_t b = 0; b < g.blocks; ++b)
          descendBlock(b * taps, kappa);
    }
    for (int64_t j = 0; j < n; ++j)
      codes[idx[j]] = code[pick[j] * n + j];
  });
}

/// The activation a chain of constant adds and multiplies (and reshapes)
/// starts from, e.g. the input of a BatchNorm's `x * a + b`.
Value affineChainStart(Value v) {
  while (Operation *def = v.getDefiningOp()) {
    if (isa<tosa::ReshapeOp>(def)) {
      v = def->getOperand(0);
      continue;
    }
    if (!isa<tosa::AddOp, tosa::MulOp>(def))
      break;
    if (isConstantLike(def->getOperand(1)) &&
        !isConstantLike(def->getOperand(0)))
      v = def->getOperand(0);
    else if (isConstantLike(def->getOperand(0)) &&
             !isConstantLike(def->getOperand(1)))
      v = def->getOperand(1);
    else
      break;
  }
  return v;
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
  if (op->hasAttr("lowbit.weight_encoding"))
    return success(); // log / STLQ codes already (lowbit-legalize-stlq-tiles)
  auto type = cast<RankedTensorType>(w.getType());
  auto read = readFloats(cst.getValues());
  if (!read)
    return op->emitError("lowbit-insert-qdq: cannot read float weights"),
           failure();
  // The weights are read in place: the constant stays in the IR (unused
  // after this, for the canonicalizer to drop).
  ArrayRef<float> values = read->values;
  ArrayRef<int64_t> shape = type.getShape();
  if (!perChannel)
    axis = -1;
  const ChannelLayout layout(shape, axis);
  const int64_t channels = layout.channels;
  MLIRContext *ctx = &getContext();
  OpBuilder b(op);
  Location loc = cst.getLoc();
  unsigned bits = weightBits;
  const int64_t size = static_cast<int64_t>(values.size());
  const bool nearest = weightRounding == "nearest";
  // The chosen code of every element: the nearest one (`nearestOf(i, c)` of
  // element i in channel c), or the correlated rounding's choice among its
  // neighbours (`choicesOf(i, c)`, the nearest first). Only what the chosen
  // rounding needs is computed, and the candidates of a weight exist only
  // while its output channel is rounded.
  auto chooseCodes = [&](auto &&nearestOf, auto &&choicesOf) {
    std::unique_ptr<int32_t[]> codes(new int32_t[size]);
    if (nearest) {
      parallelRuns(ctx, layout, [&](int64_t begin, int64_t end, int64_t c) {
        for (int64_t i = begin; i < end; ++i)
          codes[i] = nearestOf(i, c);
      });
      return codes;
    }
    WeightGroups groups = groupWeights(op, shape, roundingTapCorrelation);
    roundCorrelated(ctx, groups, layout, values, choicesOf,
                    roundingMeanWeight, codes.get());
    return codes;
  };

  if (weightScheme == "pow2") {
    // One scale U per output channel (per layer with per-tensor weights, as
    // in the STLQ paper): U = 2 max|w|, so the largest weight is exactly
    // U / 2, code 1 (log-scale=max), or the U of least squared error
    // (log-scale=mse, see chooseLogScale). Each U is a float32 value, so
    // every decoded weight U 2^-e is exact in float32 (the integer lowering
    // relies on it).
    SmallVector<double> maxAbs(channels, 0.0);
    layout.forEach([&](int64_t i, int64_t c) {
      maxAbs[c] =
          std::max(maxAbs[c], std::fabs(static_cast<double>(values[i])));
    });
    // A channel's weights in flat order: a slice of the tensor when the
    // channel axis is the outermost one, else gathered.
    std::vector<std::vector<float>> gathered;
    if (logScale != "max" && layout.outer != 1) {
      gathered.resize(channels);
      layout.forEach([&](int64_t i, int64_t c) {
        gathered[c].push_back(values[i]);
      });
    }
    SmallVector<double> us(channels, 1.0);
    for (int64_t c = 0; c < channels; ++c) {
      if (!(maxAbs[c] > 0 && std::isfinite(maxAbs[c])))
        continue;
      if (logScale == "max") {
        us[c] = static_cast<float>(2 * maxAbs[c]);
        continue;
      }
      ArrayRef<float> channelValues =
          gathered.empty() ? values.slice(c * layout.inner, layout.inner)
                           : ArrayRef<float>(gathered[c]);
      us[c] = chooseLogScale(ctx, channelValues, maxAbs[c], bits);
    }
    gathered.clear();
    auto nearestOf = [&](int64_t i, int64_t c) {
      return rt::logQuantize(values[i], us[c], bits);
    };
    auto choicesOf = [&](int64_t i, int64_t channel) {
      Choices c{};
      double x = values[i], u = us[channel];
      int32_t q = rt::logQuantize(x, u, bits);
      c.add(q, rt::logDequantize(q, u));
      if (x == 0.0 || std::isnan(x))
        return c;
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
      return c;
    };
    std::unique_ptr<int32_t[]> codes = chooseCodes(nearestOf, choicesOf);
    std::vector<float> decoded(size);
    parallelRuns(ctx, layout, [&](int64_t begin, int64_t end, int64_t c) {
      for (int64_t i = begin; i < end; ++i)
        decoded[i] = static_cast<float>(rt::logDequantize(codes[i], us[c]));
    });
    codes.reset();
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
  layout.forEach([&](int64_t i, int64_t c) {
    lo[c] = std::min<double>(lo[c], values[i]);
    hi[c] = std::max<double>(hi[c], values[i]);
  });
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
  auto nearestOf = [&](int64_t i, int64_t c) {
    return rt::quantizeValue(values[i], static_cast<float>(scales[c]),
                             static_cast<int32_t>(zps[c]),
                             static_cast<int32_t>(qmin),
                             static_cast<int32_t>(qmax));
  };
  auto choicesOf = [&](int64_t i, int64_t c) {
    float x = values[i];
    int32_t q = rt::quantizeValue(x, static_cast<float>(scales[c]),
                                  static_cast<int32_t>(zps[c]),
                                  static_cast<int32_t>(qmin),
                                  static_cast<int32_t>(qmax));
    auto value = [&](int32_t code) { return (code - zps[c]) * scales[c]; };
    double v = value(q);
    // The neighbouring code on the other side of x, if in range (without
    // branches: the side is as good as random).
    bool up = v < x, down = v > x;
    int32_t other = up ? q + 1 : q - 1;
    Choices ch{};
    ch.code[0] = q, ch.value[0] = v;
    ch.code[1] = other, ch.value[1] = value(other);
    ch.count = 1 + ((up & (q < qmax)) | (down & (q > qmin)));
    return ch;
  };
  std::unique_ptr<int32_t[]> codes = chooseCodes(nearestOf, choicesOf);
  // The stored integers as the attribute holds them: one byte per element
  // (bits <= 8), the code's low `bits` bits (what an APInt of that width
  // stores).
  const uint8_t mask = static_cast<uint8_t>((1u << bits) - 1);
  std::vector<char> stored(size);
  for (int64_t i = 0; i < size; ++i)
    stored[i] = static_cast<char>(static_cast<uint8_t>(codes[i]) & mask);
  codes.reset();
  auto storedAttr = DenseElementsAttr::getFromRawBuffer(
      RankedTensorType::get(shape, storage), stored);
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
  // A value computed only for one concat (a grouped convolution's groups,
  // an Inception branch, a DenseNet layer's new channels) is quantized with
  // the concat's range, which contains its own: the producing layer then
  // requantizes straight to the concat's scale, once, instead of to its
  // own scale and again to the concat's.
  if (def && !v.use_empty() && v.hasOneUse() &&
      !isa<tosa::MaxPool2dOp, tosa::AvgPool2dOp, tosa::ReshapeOp,
           tosa::TransposeOp, tosa::SliceOp, tosa::ResizeOp>(def))
    if (auto cat = dyn_cast<tosa::ConcatOp>(*v.getUsers().begin()))
      if (auto catRange =
              cat->getAttrOfType<DenseF64ArrayAttr>("lowbit.range");
          catRange && catRange.size() == 2)
        range = catRange;
  if (!range || range.size() != 2) {
    Location loc = def ? def->getLoc() : func.getLoc();
    return emitError(loc) << "lowbit-insert-qdq: tensor has no calibrated "
                             "range (run calibration first: lowbitc "
                             "--calibration FILE.npy)",
           failure();
  }
  // Ops that only move or select values (max-pool, average, reshape,
  // transpose, slice) keep their input's quantization, so their integer form
  // needs no rescaling. (A pad does not: its constant may lie outside the
  // input's range.)
  auto resize = def ? dyn_cast<tosa::ResizeOp>(def) : tosa::ResizeOp();
  if (def && (isa<tosa::MaxPool2dOp, tosa::AvgPool2dOp, tosa::ReshapeOp,
                  tosa::TransposeOp, tosa::SliceOp>(def) ||
              (resize &&
               resize.getMode() == tosa::ResizeMode::NEAREST_NEIGHBOR)))
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
    } else if (isa<tosa::SliceOp, tosa::PadOp, tosa::ResizeOp>(op)) {
      // Data movement (a channel split, a constant pad, a resize) and
      // bilinear resizes on integers.
      toQuantize.insert(op->getOperand(0));
    } else if (isa<tosa::AddOp, tosa::MulOp>(op) &&
               llvm::any_of(op->getOperands().take_front(2),
                            isConstantLike)) {
      // An add or multiply by a constant belongs to the accumulator chain of
      // the convolution or matrix product before it (a Gemm's bias, a hard
      // sigmoid's x / 6 + 0.5), which the integer form folds into its bias
      // and scales. Anywhere else (a BatchNorm after a ReLU or a concat) the
      // chain is a per-channel affine map of its own, a 1x1 depthwise
      // layer: its input is quantized.
      Value start = affineChainStart(op->getResult(0));
      if (!isa_and_nonnull<tosa::Conv2DOp, tosa::DepthwiseConv2DOp,
                           tosa::MatMulOp>(start.getDefiningOp()))
        toQuantize.insert(start);
    } else if (isa<tosa::AddOp, tosa::SubOp, tosa::ConcatOp>(op)) {
      // Constant operands of a concat are quantized with its result when
      // it is lowered.
      for (Value v : op->getOperands())
        if (!isConstantLike(v))
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
