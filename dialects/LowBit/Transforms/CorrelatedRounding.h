//===- CorrelatedRounding.h - Weight rounding for correlated inputs -*- C++ -*-===//
//
// Part of the lowbit project.
//
//===----------------------------------------------------------------------===//
//
// The correlated rounding of weights that lowbit-insert-qdq (uniform and
// pow2 codes) and lowbit-legalize-stlq-tiles (STLQ codes) share: each weight
// takes one of a few candidate codes so that the layer's output error is
// least for correlated inputs (see roundCorrelated below).
//
//===----------------------------------------------------------------------===//

#ifndef LOWBIT_DIALECT_LOWBIT_TRANSFORMS_CORRELATEDROUNDING_H
#define LOWBIT_DIALECT_LOWBIT_TRANSFORMS_CORRELATEDROUNDING_H

#include "mlir/Dialect/Tosa/IR/TosaOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Threading.h"
#include "llvm/ADT/STLExtras.h"

#include <algorithm>
#include <array>
#include <cassert>
#include <cmath>
#include <limits>
#include <vector>

namespace mlir {
namespace lowbit {
namespace rounding {

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
inline WeightGroups groupWeights(Operation *op, ArrayRef<int64_t> shape,
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

} // namespace rounding
} // namespace lowbit
} // namespace mlir

#endif // LOWBIT_DIALECT_LOWBIT_TRANSFORMS_CORRELATEDROUNDING_H
