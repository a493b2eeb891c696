//===- Calibration.cpp - Activation ranges from sample data ---------------===//
//
// Part of the lowbit project.
//
//===----------------------------------------------------------------------===//
//
// Two passes over the calibration set: the first finds each tensor's
// minimum and maximum, the second (for the percentile and SQNR estimators)
// fills a histogram over that range. The SQNR search simulates the
// quantizer's asymmetric grid on the histogram for a series of clipped
// ranges and keeps the one with the highest signal-to-quantization-noise
// ratio (datatype-quantization-overview-sqnr-bitwidth).
//
//===----------------------------------------------------------------------===//

#include "lowbit/Quantization/Calibration.h"

#include "lowbit/Evaluator/Evaluator.h"

#include "mlir/IR/Builders.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/Process.h"
#include "llvm/Support/raw_ostream.h"

#include <chrono>
#include <cmath>
#include <limits>

using namespace mlir;
using namespace ::lowbit;

namespace {

constexpr int kBins = 2048;

struct Stats {
  double lo = std::numeric_limits<double>::infinity();
  double hi = -std::numeric_limits<double>::infinity();
  std::vector<double> hist; // counts over [lo, hi] in kBins bins
};

/// Identifies a tensor: an op result or a block argument.
using Key = Value;

class Collector : public EvaluationObserver {
public:
  explicit Collector(bool histogramPass) : histogramPass(histogramPass) {}
  void onResult(Operation *op, unsigned index, const HostTensor &t) override {
    // Constants have no range to calibrate (weights are quantized data-free).
    if (t.kind() != ElemKind::F32 || op->hasTrait<OpTrait::ConstantLike>())
      return;
    observe(op->getResult(index), t);
  }
  void observe(Value v, const HostTensor &t) {
    Stats &s = stats[v];
    const float *p = t.data<float>();
    int64_t n = t.numElements();
    if (!histogramPass) {
      for (int64_t i = 0; i < n; ++i) {
        if (std::isnan(p[i]))
          continue;
        s.lo = std::min<double>(s.lo, p[i]);
        s.hi = std::max<double>(s.hi, p[i]);
      }
      return;
    }
    if (!(s.hi > s.lo))
      return;
    if (s.hist.empty())
      s.hist.assign(kBins, 0.0);
    double width = (s.hi - s.lo) / kBins;
    for (int64_t i = 0; i < n; ++i) {
      if (std::isnan(p[i]))
        continue;
      int64_t b = static_cast<int64_t>((p[i] - s.lo) / width);
      s.hist[std::clamp<int64_t>(b, 0, kBins - 1)] += 1.0;
    }
  }
  llvm::DenseMap<Key, Stats> stats;
  bool histogramPass;
};

/// Mean squared error of quantizing the histogram on an asymmetric grid of
/// 2^bits levels covering [lo, hi] (which contains 0).
double quantizationError(const Stats &s, double lo, double hi, unsigned bits) {
  double levels = std::ldexp(1.0, bits) - 1.0;
  double scale = (hi - lo) / levels;
  if (!(scale > 0))
    return std::numeric_limits<double>::infinity();
  double zp = std::nearbyint(-lo / scale);
  double width = (s.hi - s.lo) / kBins, err = 0.0;
  for (int b = 0; b < kBins; ++b) {
    if (s.hist[b] == 0.0)
      continue;
    double v = s.lo + (b + 0.5) * width;
    double q = std::clamp(std::nearbyint(v / scale) + zp, 0.0, levels);
    double d = v - (q - zp) * scale;
    err += s.hist[b] * d * d;
  }
  return err;
}

std::pair<double, double> estimate(const Stats &s,
                                   const CalibrationOptions &options) {
  // The grid always contains zero (padding and ReLU outputs are exact).
  double lo = std::min(s.lo, 0.0), hi = std::max(s.hi, 0.0);
  if (options.estimator == RangeEstimator::MinMax || s.hist.empty())
    return {lo, hi};
  double total = 0;
  for (double c : s.hist)
    total += c;
  double width = (s.hi - s.lo) / kBins;
  if (options.estimator == RangeEstimator::Percentile) {
    double tail = total * (100.0 - options.percentile) / 100.0;
    double acc = 0;
    int first = 0, last = kBins - 1;
    for (; first < kBins - 1 && acc + s.hist[first] <= tail; ++first)
      acc += s.hist[first];
    acc = 0;
    for (; last > first && acc + s.hist[last] <= tail; --last)
      acc += s.hist[last];
    return {std::min(s.lo + first * width, 0.0),
            std::max(s.lo + (last + 1) * width, 0.0)};
  }
  // SQNR = signal power / noise power, and the signal is the same for
  // every candidate: shrink the range towards zero in 1% steps and keep the
  // one with the least quantization noise (clipping included).
  std::pair<double, double> best = {lo, hi};
  double bestErr = quantizationError(s, lo, hi, options.bits);
  for (int step = 1; step <= 80; ++step) {
    double alpha = 1.0 - step * 0.01;
    double err = quantizationError(s, alpha * lo, alpha * hi, options.bits);
    if (err < bestErr) {
      bestErr = err;
      best = {alpha * lo, alpha * hi};
    }
  }
  return best;
}

class Progress {
public:
  Progress(bool enabled, size_t total, const char *what)
      : enabled(enabled && llvm::sys::Process::StandardErrIsDisplayed()),
        total(total), what(what), start(std::chrono::steady_clock::now()) {}
  void update(size_t done) {
    if (!enabled)
      return;
    double secs = std::chrono::duration<double>(
                      std::chrono::steady_clock::now() - start)
                      .count();
    llvm::errs() << "\rcalibration " << what << ": " << done << "/" << total
                 << " samples";
    if (secs > 0)
      llvm::errs() << " (" << llvm::format("%.0f", done / secs) << "/s)";
    if (done == total)
      llvm::errs() << "\n";
  }

private:
  bool enabled;
  size_t total;
  const char *what;
  std::chrono::steady_clock::time_point start;
};

} // namespace

LogicalResult lowbit::calibrate(func::FuncOp func,
                                ArrayRef<std::vector<HostTensor>> samples,
                                const CalibrationOptions &options) {
  if (samples.empty())
    return func.emitError("calibration set is empty"), failure();
  auto evaluator = Evaluator::create(func);
  if (failed(evaluator))
    return failure();
  bool needHistogram = options.estimator != RangeEstimator::MinMax;
  Collector collector(false);
  for (int pass = 0; pass < (needHistogram ? 2 : 1); ++pass) {
    collector.histogramPass = pass == 1;
    Progress progress(options.progress, samples.size(),
                      pass == 0 ? "ranges" : "histograms");
    for (size_t i = 0; i < samples.size(); ++i) {
      for (auto [arg, t] : llvm::zip(func.getArguments(), samples[i]))
        if (t.kind() == ElemKind::F32)
          collector.observe(arg, t);
      if (failed((*evaluator)->run(samples[i], &collector)))
        return failure();
      if (i % 16 == 15 || i + 1 == samples.size())
        progress.update(i + 1);
    }
  }
  Builder b(func.getContext());
  for (auto &[value, stats] : collector.stats) {
    if (!(stats.hi >= stats.lo))
      continue;
    auto [lo, hi] = estimate(stats, options);
    auto attr = b.getDenseF64ArrayAttr({lo, hi});
    if (auto arg = dyn_cast<BlockArgument>(value))
      func.setArgAttr(arg.getArgNumber(), kRangeAttrName, attr);
    else if (value.getDefiningOp()->getNumResults() == 1)
      value.getDefiningOp()->setAttr(kRangeAttrName, attr);
  }
  return success();
}
