//===- Bitwidth.cpp - lowbitc --bitwidth=auto -----------------------------===//
//
// Part of the lowbit project.
//
//===----------------------------------------------------------------------===//
//
// Measures every layer's SQNR table in the evaluator (the network's output
// against the float model's on calibration samples, with only that layer's
// candidate quantized), runs lowbit-assign-bitwidth on it, measures the
// assignment's real output SQNR and tightens the pass's target until the
// measurement meets the user's.
//
//===----------------------------------------------------------------------===//

#include "Common.h"

#include "LowBit/Transforms/Bitwidth.h"
#include "LowBit/Transforms/Passes.h"
#include "lowbit/Evaluator/Evaluator.h"

#include "mlir/Dialect/Quant/IR/QuantTypes.h"
#include "mlir/IR/Builders.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <cmath>
#include <map>

using namespace mlir;
using namespace ::lowbit;
using namespace ::lowbit::driver;
namespace lb = mlir::lowbit;

namespace {

double toDb(double gamma) { return 10.0 * std::log10(gamma); }

std::vector<Operation *> layersOf(func::FuncOp f) {
  std::vector<Operation *> layers;
  f.walk([&](Operation *op) {
    if (lb::isBitwidthLayer(op))
      layers.push_back(op);
  });
  return layers;
}

/// Whether the layer's weights are float constants the quantizer chooses
/// bits for (not runtime values, not codes or Q/DQ given by the model).
bool hasFloatConstantWeights(Operation *op) {
  if (op->hasAttr("lowbit.weight_encoding"))
    return false;
  Operation *def = op->getOperand(1).getDefiningOp();
  return def && def->hasTrait<OpTrait::ConstantLike>() &&
         getElementTypeOrSelf(op->getOperand(1).getType()).isF32();
}

struct Measurer {
  ModuleOp module;
  const QuantizePipelineOptions &quantize;
  StageEnv quiet; // no timers or printing for the many measurement runs
  std::vector<std::vector<HostTensor>> sets;
  std::vector<std::vector<std::vector<double>>> reference; // [set][output]
  int64_t runs = 0;

  /// The output SQNR (linear) of a copy of the module quantized after
  /// `configure` set its layers' attributes.
  FailureOr<double>
  measure(llvm::function_ref<void(std::vector<Operation *> &)> configure) {
    OwningOpRef<ModuleOp> copy = module.clone();
    func::FuncOp f = firstDefinedFunction(*copy);
    std::vector<Operation *> layers = layersOf(f);
    configure(layers);
    if (failed(quantizeModel(*copy, quantize, quiet)))
      return failure();
    auto ev = Evaluator::create(f);
    if (failed(ev))
      return failure();
    ++runs;
    double signal = 0, noise = 0;
    for (size_t s = 0; s < sets.size(); ++s) {
      auto out = (*ev)->run(sets[s]);
      if (failed(out))
        return failure();
      for (size_t o = 0; o < out->size() && o < reference[s].size(); ++o) {
        const HostTensor &t = (*out)[o];
        const std::vector<double> &r = reference[s][o];
        for (int64_t i = 0; i < t.numElements() &&
                            i < static_cast<int64_t>(r.size());
             ++i) {
          double d = t.getDouble(i) - r[i];
          signal += r[i] * r[i];
          noise += d * d;
        }
      }
    }
    if (!(noise > 0))
      return INFINITY;
    return signal / noise;
  }
};

/// Every layer float except `keep`, whose attributes `set` gives.
auto onlyLayer(size_t keep,
               std::function<void(Operation *, Builder &)> set = nullptr) {
  return [keep, set](std::vector<Operation *> &layers) {
    for (auto [i, op] : llvm::enumerate(layers)) {
      Builder b(op->getContext());
      op->setAttr(lb::kWeightBitsAttr, b.getI64IntegerAttr(0));
      op->setAttr(lb::kActivationBitsAttr, b.getI64IntegerAttr(0));
      if (i == keep && set)
        set(op, b);
    }
  };
}

} // namespace

LogicalResult driver::assignBitwidths(ModuleOp module,
                                      ArrayRef<std::string> samples,
                                      const QuantizePipelineOptions &quantize,
                                      const BitwidthOptions &options,
                                      const StageEnv &env,
                                      llvm::raw_ostream &text) {
  MLIRContext *ctx = module.getContext();
  func::FuncOp func = firstDefinedFunction(module);
  if (!func)
    return fail(ctx, "--bitwidth=auto: no function in the model");
  if (options.cost != "bits" && options.cost != "bitops")
    return fail(ctx, "unknown --cost '" + options.cost + "' (bits or bitops)");
  if (options.search != "exact" && options.search != "greedy")
    return fail(ctx, "unknown --bitwidth-search '" + options.search +
                         "' (exact or greedy)");
  if (!std::isfinite(options.targetSqnr))
    return fail(ctx, "--target-sqnr must be a finite number of dB");
  TimingScope timing = rootTiming(env).nest("bit-width assignment");
  // A model that comes quantized (Q/DQ) keeps its own scales and bits.
  WalkResult quantized = func.walk([](Operation *op) {
    for (Type t : op->getResultTypes())
      if (isa<quant::QuantizedType>(getElementTypeOrSelf(t)))
        return WalkResult::interrupt();
    return WalkResult::advance();
  });
  if (quantized.wasInterrupted())
    return fail(ctx, "--bitwidth=auto chooses the bits of a float model; "
                     "this model is quantized already (Q/DQ)");

  Measurer m{module, quantize, StageEnv{}, {}, {}, 0};
  m.quiet.inputName = env.inputName;
  {
    auto sets = loadInputSets(func, samples, "--calibration", true);
    if (failed(sets))
      return failure();
    m.sets = std::move(*sets);
    if (m.sets.size() > options.maxSamples)
      m.sets.resize(options.maxSamples);
    auto fe = Evaluator::create(func);
    if (failed(fe))
      return failure();
    for (const auto &set : m.sets) {
      auto out = (*fe)->run(set);
      if (failed(out))
        return failure();
      std::vector<std::vector<double>> r;
      for (const HostTensor &t : *out) {
        r.emplace_back(t.numElements());
        for (int64_t i = 0; i < t.numElements(); ++i)
          r.back()[i] = t.getDouble(i);
      }
      m.reference.push_back(std::move(r));
    }
  }

  std::vector<Operation *> layers = layersOf(func);
  if (layers.empty())
    return fail(ctx, "--bitwidth=auto: the model has no convolution or "
                     "matrix product to assign bits to");

  // The noise nothing here chooses: every layer float.
  FailureOr<double> fixed = m.measure(onlyLayer(layers.size(), nullptr));
  if (failed(fixed))
    return failure();
  const double fixedNoise = std::isinf(*fixed) ? 0.0 : 1.0 / *fixed;
  // The layers' candidates are measured with float results (the outputs'
  // 8-bit quantization alone is ~28 dB on a classifier's logits and would
  // hide most of them), over the noise of the activations no layer reads.
  func->setAttr(lb::kFloatResultsAttr, UnitAttr::get(ctx));
  FailureOr<double> base = m.measure(onlyLayer(layers.size(), nullptr));
  if (failed(base))
    return failure();
  const double baseNoise = std::isinf(*base) ? 0.0 : 1.0 / *base;

  // The candidates, by kind, in increasing bits.
  std::vector<lb::BitwidthCandidate> weightCands, logCands, actCands;
  for (const lb::BitwidthCandidate &c : options.candidates)
    (c.kind == lb::BitwidthCandidate::Weights      ? weightCands
     : c.kind == lb::BitwidthCandidate::LogWeights ? logCands
                                                    : actCands)
        .push_back(c);
  if (options.cost == "bits")
    actCands = {{lb::BitwidthCandidate::Activations, quantize.activationBits}};
  for (auto *v : {&weightCands, &logCands, &actCands})
    llvm::sort(*v, [](const lb::BitwidthCandidate &a,
                      const lb::BitwidthCandidate &b) {
      return a.bits < b.bits;
    });

  // Noise of one candidate of one layer: its output SQNR's noise less the
  // fixed noise.
  auto measureCandidate = [&](size_t i, const lb::BitwidthCandidate &c)
      -> FailureOr<double> {
    FailureOr<double> g = m.measure(onlyLayer(i, [&](Operation *op,
                                                     Builder &b) {
      if (c.isWeights()) {
        op->setAttr(lb::kWeightBitsAttr, b.getI64IntegerAttr(c.bits));
        op->setAttr(lb::kWeightSchemeAttr,
                    b.getStringAttr(c.kind == lb::BitwidthCandidate::LogWeights
                                        ? std::string("pow2")
                                        : quantize.weightScheme.getValue()));
      } else {
        op->setAttr(lb::kActivationBitsAttr, b.getI64IntegerAttr(c.bits));
      }
    }));
    if (failed(g))
      return failure();
    double total = std::isinf(*g) ? 0.0 : 1.0 / *g;
    return std::max(0.0, total - baseNoise);
  };

  // A kind's noises in increasing bits: measured (all, or two anchors and
  // the fit 10 log10 gamma = kappa * bits + c in between and beyond with
  // --bitwidth-estimate), never rising with bits, and where a measurement
  // is lost in the base noise (below 5% of it) no lower than the next
  // narrower one at 6.02 dB per bit.
  auto tableOf = [&](size_t i, const std::vector<lb::BitwidthCandidate> &cs,
                     bool fit) -> FailureOr<std::vector<double>> {
    std::vector<double> noise(cs.size(), 0.0);
    if (fit && cs.size() > 2) {
      // Anchors: the candidate nearest 4 bits (weights) or 6 (activations)
      // and the next one two bits up, if any, else the next one.
      const unsigned want = cs.front().isWeights() ? 4 : 6;
      size_t lo = 0;
      for (size_t k = 0; k < cs.size(); ++k)
        if (std::abs(int(cs[k].bits) - int(want)) <
            std::abs(int(cs[lo].bits) - int(want)))
          lo = k;
      if (lo + 1 >= cs.size())
        lo = cs.size() - 2;
      size_t hi = lo + 1;
      for (size_t k = lo + 1; k < cs.size(); ++k)
        if (cs[k].bits <= cs[lo].bits + 2)
          hi = k;
      FailureOr<double> nl = measureCandidate(i, cs[lo]);
      FailureOr<double> nh = measureCandidate(i, cs[hi]);
      if (failed(nl) || failed(nh))
        return failure();
      const double floor = 1e-30;
      double dl = -toDb(std::max(*nl, floor)), dh = -toDb(std::max(*nh, floor));
      double kappa = (dh - dl) / double(cs[hi].bits - cs[lo].bits);
      kappa = std::clamp(kappa, 3.0, 9.0);
      for (size_t k = 0; k < cs.size(); ++k)
        noise[k] = k == lo   ? *nl
                   : k == hi ? *nh
                             : std::pow(10.0, -(dl + kappa * (double(cs[k].bits) -
                                                               double(cs[lo].bits))) /
                                                  10.0);
    } else {
      for (size_t k = 0; k < cs.size(); ++k) {
        FailureOr<double> n = measureCandidate(i, cs[k]);
        if (failed(n))
          return failure();
        noise[k] = *n;
      }
    }
    const double resolution = 0.05 * baseNoise;
    for (size_t k = 1; k < cs.size(); ++k) {
      noise[k] = std::min(noise[k], noise[k - 1]);
      if (noise[k] < resolution)
        noise[k] = std::max(noise[k],
                            noise[k - 1] *
                                std::pow(4.0, -double(cs[k].bits -
                                                      cs[k - 1].bits)));
    }
    return noise;
  };

  Builder b(ctx);
  for (size_t i = 0; i < layers.size(); ++i) {
    Operation *op = layers[i];
    SmallVector<NamedAttribute> entries;
    auto add = [&](const std::vector<lb::BitwidthCandidate> &cs,
                   bool fit) -> LogicalResult {
      if (cs.empty())
        return success();
      FailureOr<std::vector<double>> noise = tableOf(i, cs, fit);
      if (failed(noise))
        return failure();
      for (size_t k = 0; k < cs.size(); ++k)
        entries.push_back(b.getNamedAttr(
            cs[k].name(),
            b.getF64FloatAttr((*noise)[k] > 0 ? -toDb((*noise)[k]) : 300.0)));
      return success();
    };
    if (hasFloatConstantWeights(op) &&
        (failed(add(weightCands, options.estimate)) ||
         failed(add(logCands, false))))
      return failure();
    if (failed(add(actCands, options.estimate)))
      return failure();
    op->setAttr(lb::kSqnrTableAttr, b.getDictionaryAttr(entries));
  }
  func->removeAttr(lb::kFloatResultsAttr);
  func->setAttr(lb::kFixedSqnrAttr,
                b.getF64FloatAttr(fixedNoise > 0 ? -toDb(fixedNoise) : 300.0));

  // Assign, measure, tighten.
  double margin = 0, measured = -INFINITY;
  unsigned iteration = 0;
  for (;; ++iteration) {
    lb::LowBitAssignBitwidthOptions pass;
    pass.targetSqnr = options.targetSqnr + margin;
    pass.cost = options.cost;
    pass.search = options.search;
    pass.activationBits = quantize.activationBits;
    pass.weightScheme = quantize.weightScheme;
    PassManager pm(ctx, ModuleOp::getOperationName());
    pm.addNestedPass<func::FuncOp>(lb::createLowBitAssignBitwidth(pass));
    if (failed(pm.run(module))) {
      if (iteration == 0)
        return failure();
      return fail(ctx, "--target-sqnr=" + lb::formatDb(options.targetSqnr) +
                           ": the last assignment measured " +
                           lb::formatDb(measured) +
                           " dB, and no assignment predicts the " +
                           lb::formatDb(options.targetSqnr + margin) +
                           " dB that would make up for the model's error");
    }
    FailureOr<double> g = m.measure([](std::vector<Operation *> &) {});
    if (failed(g))
      return failure();
    measured = toDb(*g);
    if (measured >= options.targetSqnr)
      break;
    if (iteration + 1 >= options.maxIterations)
      return fail(ctx, "--target-sqnr=" + lb::formatDb(options.targetSqnr) +
                           ": the assignment still measures " +
                           lb::formatDb(measured) + " dB after " +
                           llvm::Twine(options.maxIterations) +
                           " tightenings of the predicted target");
    margin += options.targetSqnr - measured + 0.1;
  }
  func->setAttr(lb::kMeasuredSqnrAttr, b.getF64FloatAttr(measured));

  // Text.
  auto predicted = func->getAttrOfType<FloatAttr>(lb::kPredictedSqnrAttr);
  text << "lowbitc: bit-width: target " << lb::formatDb(options.targetSqnr)
       << " dB, cost " << options.cost << ": output SQNR measured "
       << lb::formatDb(measured) << " dB (predicted "
       << lb::formatDb(predicted ? predicted.getValueAsDouble() : NAN)
       << " dB) on " << m.sets.size() << " calibration sample"
       << (m.sets.size() == 1 ? "" : "s") << ", " << iteration + 1
       << " assignment" << (iteration ? "s" : "") << ", " << m.runs
       << " evaluator runs\n";
  double weightBits = 0, weights = 0, bytes = 0;
  for (Operation *op : layers) {
    text << "  " << locationName(op->getLoc()) << " "
         << op->getName().stripDialect() << ":";
    if (auto w = op->getAttrOfType<IntegerAttr>(lb::kWeightBitsAttr)) {
      auto scheme = op->getAttrOfType<StringAttr>(lb::kWeightSchemeAttr);
      bool log = scheme && scheme.getValue() == "pow2";
      int64_t count =
          cast<ShapedType>(op->getOperand(1).getType()).getNumElements();
      weightBits += double(count) * w.getInt();
      weights += double(count);
      if (auto by = op->getAttrOfType<IntegerAttr>(lb::kWeightBytesAttr))
        bytes += double(by.getInt());
      text << " weights " << (log ? "log" : "w") << w.getInt();
    }
    if (auto a = op->getAttrOfType<IntegerAttr>(lb::kActivationBitsAttr))
      text << ", inputs a" << a.getInt();
    if (auto s = op->getAttrOfType<FloatAttr>(lb::kLayerSqnrAttr))
      text << ", predicted " << lb::formatDb(s.getValueAsDouble()) << " dB";
    text << "\n";
  }
  if (weights > 0)
    text << "  average " << llvm::format("%.2f", weightBits / weights)
         << " weight bits, " << llvm::format("%.0f", bytes)
         << " weight bytes\n";
  return success();
}
