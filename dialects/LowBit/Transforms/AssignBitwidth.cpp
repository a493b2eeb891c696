//===- AssignBitwidth.cpp - Per-layer bits from measured SQNRs ------------===//
//
// Part of the lowbit project.
//
//===----------------------------------------------------------------------===//
//
// lowbit-assign-bitwidth: the harmonic SQNR model of the datatype survey
// (section III.A.1), 1/gamma_out = sum 1/gamma_i, and a greedy least-cost
// choice of every layer's weight and activation candidates under a target
// output SQNR. The attributes are Bitwidth.h's.
//
//===----------------------------------------------------------------------===//

#include "LowBit/Transforms/Bitwidth.h"
#include "LowBit/Transforms/Passes.h"

#include "mlir/Dialect/Tosa/IR/TosaOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "llvm/Support/Format.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

namespace mlir {
namespace lowbit {
#define GEN_PASS_DEF_LOWBITASSIGNBITWIDTH
#include "LowBit/Transforms/Passes.h.inc"
} // namespace lowbit
} // namespace mlir

using namespace mlir;
using namespace mlir::lowbit;

bool mlir::lowbit::isBitwidthLayer(Operation *op) {
  return isa<tosa::Conv2DOp, tosa::DepthwiseConv2DOp, tosa::MatMulOp>(op);
}

std::string mlir::lowbit::formatDb(double db) {
  if (std::isinf(db))
    return db > 0 ? "inf" : "-inf";
  std::string s;
  llvm::raw_string_ostream(s) << llvm::format("%.2f", db);
  return s;
}

namespace {

/// Static element count of a shape, dynamic dimensions counted as 1.
int64_t staticCount(ArrayRef<int64_t> shape) {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= ShapedType::isDynamic(d) ? 1 : d;
  return n;
}

/// Multiply-accumulates of one run of the layer.
int64_t macsOf(Operation *op) {
  auto out = cast<ShapedType>(op->getResult(0).getType());
  auto w = cast<ShapedType>(op->getOperand(1).getType());
  if (isa<tosa::Conv2DOp>(op)) // out [N, OH, OW, OC], w [OC, KH, KW, IC]
    return staticCount(out.getShape()) * staticCount(w.getShape()) /
           std::max<int64_t>(1, ShapedType::isDynamic(w.getDimSize(0))
                                    ? 1
                                    : w.getDimSize(0));
  if (isa<tosa::DepthwiseConv2DOp>(op)) // out [N, OH, OW, C*M], w [KH, KW, C, M]
    return staticCount(out.getShape()) * staticCount(w.getShape().take_front(2));
  // matmul: out [B, M, N], a [B, M, K]
  auto a = cast<ShapedType>(op->getOperand(0).getType());
  return staticCount(out.getShape()) *
         (ShapedType::isDynamic(a.getDimSize(2)) ? 1 : a.getDimSize(2));
}

struct Choice {
  BitwidthCandidate candidate;
  double noise; // 1 / gamma
};

struct Layer {
  Operation *op;
  std::vector<Choice> weights, activations;
  int64_t macs = 0, count = 0; // count: constant weights, else 0
  int w = -1, a = -1;          // chosen options (-1: none given)
};

double noiseOf(double db) { return std::pow(10.0, -db / 10.0); }
double dbOf(double noise) {
  return noise > 0 ? -10.0 * std::log10(noise) : INFINITY;
}

struct LowBitAssignBitwidthPass
    : public mlir::lowbit::impl::LowBitAssignBitwidthBase<
          LowBitAssignBitwidthPass> {
  using Base::Base;

  double costOf(const Layer &l, int w, int a) const {
    double wb = w >= 0 ? l.weights[w].candidate.bits : 0;
    if (cost == "bits")
      return static_cast<double>(l.count) * wb;
    double ab = a >= 0 ? l.activations[a].candidate.bits : activationBits;
    if (w < 0)
      wb = ab; // a product of two activations
    return static_cast<double>(l.macs) * wb * ab;
  }
  static double noiseOfChoice(const Layer &l, int w, int a) {
    return (w >= 0 ? l.weights[w].noise : 0.0) +
           (a >= 0 ? l.activations[a].noise : 0.0);
  }

  void runOnOperation() override;

  /// From the least-noise choices, the move that saves the most cost per
  /// noise added, while the total stays within the budget.
  void greedy(std::vector<Layer> &layers, double total, double budget) const {
    while (true) {
      int bestLayer = -1, bestW = -1, bestA = -1;
      double bestScore = -1, bestAdded = 0;
      for (size_t li = 0; li < layers.size(); ++li) {
        const Layer &l = layers[li];
        const double now = costOf(l, l.w, l.a);
        const double nowNoise = noiseOfChoice(l, l.w, l.a);
        auto consider = [&](int w, int a) {
          double saved = now - costOf(l, w, a);
          if (!(saved > 0))
            return;
          double added = noiseOfChoice(l, w, a) - nowNoise;
          if (total + added > budget)
            return;
          double score = added > 0 ? saved / added : INFINITY;
          if (score > bestScore) {
            bestScore = score;
            bestLayer = static_cast<int>(li);
            bestW = w, bestA = a, bestAdded = added;
          }
        };
        for (int w = 0; w < static_cast<int>(l.weights.size()); ++w)
          consider(w, l.a);
        for (int a = 0; a < static_cast<int>(l.activations.size()); ++a)
          consider(l.w, a);
      }
      if (bestLayer < 0)
        break;
      layers[bestLayer].w = bestW;
      layers[bestLayer].a = bestA;
      total += bestAdded;
    }
  }

  /// The least total cost whose noise fits `room` (the budget less the
  /// fixed noise), by dynamic programming over the layers with each
  /// choice's noise rounded up to a multiple of room / G: exact up to that
  /// rounding, and never over the budget.
  void exact(std::vector<Layer> &layers, double room) const {
    if (layers.empty() || !(room > 0))
      return;
    // The choice table holds layers x (G + 1) entries: at most 16 MB.
    const int64_t g = std::clamp<int64_t>(
        4'000'000 / static_cast<int64_t>(layers.size()), 256, 16384);
    struct Combo {
      int w, a;
      double cost;
      int64_t q;
    };
    std::vector<std::vector<Combo>> combos(layers.size());
    for (size_t li = 0; li < layers.size(); ++li) {
      const Layer &l = layers[li];
      const int nw = std::max<int>(1, l.weights.size());
      const int na = std::max<int>(1, l.activations.size());
      for (int w = 0; w < nw; ++w)
        for (int a = 0; a < na; ++a) {
          int wi = l.weights.empty() ? -1 : w;
          int ai = l.activations.empty() ? -1 : a;
          double n = noiseOfChoice(l, wi, ai);
          double q = std::ceil(n / room * static_cast<double>(g));
          if (q > static_cast<double>(g))
            continue;
          combos[li].push_back({wi, ai, costOf(l, wi, ai),
                                static_cast<int64_t>(q)});
        }
    }
    const double inf = INFINITY;
    std::vector<double> dp(g + 1, inf), next(g + 1);
    dp[0] = 0;
    std::vector<std::vector<int32_t>> pick(
        layers.size(), std::vector<int32_t>(g + 1, -1));
    for (size_t li = 0; li < layers.size(); ++li) {
      std::fill(next.begin(), next.end(), inf);
      for (int64_t j = 0; j <= g; ++j) {
        if (dp[j] == inf)
          continue;
        for (size_t k = 0; k < combos[li].size(); ++k) {
          const Combo &c = combos[li][k];
          const int64_t jj = j + c.q;
          if (jj > g)
            continue;
          const double v = dp[j] + c.cost;
          if (v < next[jj]) {
            next[jj] = v;
            pick[li][jj] = static_cast<int32_t>(k);
          }
        }
      }
      dp.swap(next);
    }
    int64_t best = -1;
    for (int64_t j = 0; j <= g; ++j)
      if (dp[j] != inf && (best < 0 || dp[j] < dp[best]))
        best = j;
    if (best < 0)
      return; // rounding lost every assignment: keep the least-noise one
    for (size_t li = layers.size(); li-- > 0;) {
      const Combo &c = combos[li][pick[li][best]];
      layers[li].w = c.w;
      layers[li].a = c.a;
      best -= c.q;
    }
  }
};

void LowBitAssignBitwidthPass::runOnOperation() {
  func::FuncOp func = getOperation();
  if (search != "exact" && search != "greedy") {
    emitError(func.getLoc()) << "lowbit-assign-bitwidth: unknown search '"
                             << search << "' (exact or greedy)";
    return signalPassFailure();
  }
  if (cost != "bits" && cost != "bitops") {
    emitError(func.getLoc()) << "lowbit-assign-bitwidth: unknown cost '" << cost
                     << "' (bits or bitops)";
    return signalPassFailure();
  }
  if (weightScheme != "symmetric" && weightScheme != "asymmetric") {
    emitError(func.getLoc()) << "lowbit-assign-bitwidth: unknown weight-scheme '"
                     << weightScheme << "' (symmetric or asymmetric)";
    return signalPassFailure();
  }
  if (!std::isfinite(targetSqnr)) {
    emitError(func.getLoc()) << "lowbit-assign-bitwidth: target-sqnr must be finite";
    return signalPassFailure();
  }
  if (activationBits < 2 || activationBits > 16) {
    emitError(func.getLoc()) << "lowbit-assign-bitwidth: activation-bits must be in "
                        "[2, 16], got "
                     << static_cast<unsigned>(activationBits);
    return signalPassFailure();
  }

  double fixedNoise = 0;
  if (Attribute a = func->getAttr(kFixedSqnrAttr)) {
    auto f = dyn_cast<FloatAttr>(a);
    if (!f || std::isnan(f.getValueAsDouble())) {
      emitError(func.getLoc()) << "lowbit-assign-bitwidth: " << kFixedSqnrAttr
                       << " must be a float (dB)";
      return signalPassFailure();
    }
    fixedNoise = noiseOf(f.getValueAsDouble());
  }

  std::vector<Layer> layers;
  WalkResult walk = func.walk([&](Operation *op) {
    if (!isBitwidthLayer(op))
      return WalkResult::advance();
    Attribute raw = op->getAttr(kSqnrTableAttr);
    if (!raw)
      return WalkResult::advance(); // not assigned: stays as the options say
    auto table = dyn_cast<DictionaryAttr>(raw);
    if (!table) {
      op->emitError() << "lowbit-assign-bitwidth: " << kSqnrTableAttr
                      << " must be a dictionary";
      return WalkResult::interrupt();
    }
    Layer l;
    l.op = op;
    l.macs = macsOf(op);
    if (op->getOperand(1).getDefiningOp() &&
        op->getOperand(1).getDefiningOp()->hasTrait<OpTrait::ConstantLike>())
      l.count = staticCount(
          cast<ShapedType>(op->getOperand(1).getType()).getShape());
    for (NamedAttribute entry : table) {
      std::optional<BitwidthCandidate> c =
          BitwidthCandidate::parse(entry.getName().strref());
      auto db = dyn_cast<FloatAttr>(entry.getValue());
      if (!c || !db || std::isnan(db.getValueAsDouble())) {
        op->emitError() << "lowbit-assign-bitwidth: bad " << kSqnrTableAttr
                        << " entry '" << entry.getName().strref()
                        << "': keys are w2..w8, log2..log5 or a2..a16, "
                           "values floats (dB)";
        return WalkResult::interrupt();
      }
      Choice o{*c, noiseOf(db.getValueAsDouble())};
      if (!c->isWeights())
        l.activations.push_back(o);
      else if (l.count > 0)
        l.weights.push_back(o);
    }
    if (cost == "bits" && !l.activations.empty()) {
      // Activations are not free under this cost: keep the given width.
      std::vector<Choice> kept;
      for (const Choice &o : l.activations)
        if (o.candidate.bits == activationBits)
          kept.push_back(o);
      if (kept.empty()) {
        op->emitError() << "lowbit-assign-bitwidth: cost=bits keeps "
                           "activations at activation-bits="
                        << static_cast<unsigned>(activationBits)
                        << ", but the layer's " << kSqnrTableAttr
                        << " has no a" << static_cast<unsigned>(activationBits);
        return WalkResult::interrupt();
      }
      l.activations = kept;
    }
    layers.push_back(std::move(l));
    return WalkResult::advance();
  });
  if (walk.wasInterrupted())
    return signalPassFailure();

  // Start from the least noise (the cheaper of equals).
  auto leastNoise = [&](const Layer &l, const std::vector<Choice> &opts,
                        bool weights) {
    int best = -1;
    for (int i = 0; i < static_cast<int>(opts.size()); ++i) {
      if (best < 0 || opts[i].noise < opts[best].noise ||
          (opts[i].noise == opts[best].noise &&
           (weights ? costOf(l, i, l.a) < costOf(l, best, l.a)
                    : costOf(l, l.w, i) < costOf(l, l.w, best))))
        best = i;
    }
    return best;
  };
  double total = fixedNoise;
  for (Layer &l : layers) {
    l.a = leastNoise(l, l.activations, false);
    l.w = leastNoise(l, l.weights, true);
    total += noiseOfChoice(l, l.w, l.a);
  }
  const double budget = noiseOf(targetSqnr);
  if (total > budget) {
    emitError(func.getLoc()) << "lowbit-assign-bitwidth: target-sqnr "
                     << formatDb(targetSqnr)
                     << " dB is out of reach: the least-noise candidates "
                        "predict "
                     << formatDb(dbOf(total)) << " dB";
    return signalPassFailure();
  }

  if (search == "greedy")
    greedy(layers, total, budget);
  else
    exact(layers, budget - fixedNoise);

  // Recompute the total from the choices (no drift from the increments).
  total = fixedNoise;
  for (const Layer &l : layers)
    total += noiseOfChoice(l, l.w, l.a);
  Builder b(&getContext());
  for (const Layer &l : layers) {
    Operation *op = l.op;
    if (l.w >= 0) {
      const BitwidthCandidate &c = l.weights[l.w].candidate;
      op->setAttr(kWeightBitsAttr, b.getI64IntegerAttr(c.bits));
      op->setAttr(kWeightSchemeAttr,
                  b.getStringAttr(c.kind == BitwidthCandidate::LogWeights
                                      ? StringRef("pow2")
                                      : StringRef(weightScheme)));
      op->setAttr(kWeightBytesAttr,
                  b.getI64IntegerAttr((l.count * c.bits + 7) / 8));
    }
    if (l.a >= 0)
      op->setAttr(kActivationBitsAttr,
                  b.getI64IntegerAttr(l.activations[l.a].candidate.bits));
    op->setAttr(kLayerSqnrAttr,
                b.getF64FloatAttr(dbOf(noiseOfChoice(l, l.w, l.a))));
  }
  func->setAttr(kPredictedSqnrAttr, b.getF64FloatAttr(dbOf(total)));
}

} // namespace
