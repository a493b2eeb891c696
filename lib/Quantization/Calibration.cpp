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
#include "lowbit/Support/Location.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/Threading.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/Process.h"
#include "llvm/Support/raw_ostream.h"

#include <atomic>
#include <chrono>
#include <cmath>
#include <limits>
#include <mutex>

using namespace mlir;
using namespace ::lowbit;

namespace {

constexpr int kBins = 2048;

struct Stats {
  double lo = std::numeric_limits<double>::infinity();
  double hi = -std::numeric_limits<double>::infinity();
  std::vector<double> hist; // counts over [lo, hi] in kBins bins
  /// The first calibration sample on which the tensor had a NaN, or -1.
  int64_t nanSample = -1;
};

/// Identifies a tensor: an op result or a block argument.
using Key = Value;

/// One tensor's values on one sample.
struct Observed {
  float lo, hi;
  bool nan;
};

/// The least and greatest non-NaN values of p[0, n) as a scan in order
/// finds them (of equal values it keeps the first, which matters for the
/// sign of a zero); +inf and -inf when there is none. And whether there is
/// a NaN.
Observed rangeOf(const float *p, int64_t n) {
  constexpr int kLanes = 8;
  float lo[kLanes], hi[kLanes];
  bool nan[kLanes];
  for (int l = 0; l < kLanes; ++l) {
    lo[l] = std::numeric_limits<float>::infinity();
    hi[l] = -std::numeric_limits<float>::infinity();
    nan[l] = false;
  }
  // Lanes of independent minima and maxima (NaN compares false, so it is
  // skipped); the values are exact whatever the order.
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (int l = 0; l < kLanes; ++l) {
      float x = p[i + l];
      lo[l] = x < lo[l] ? x : lo[l];
      hi[l] = x > hi[l] ? x : hi[l];
      nan[l] |= x != x;
    }
  for (; i < n; ++i) {
    lo[0] = p[i] < lo[0] ? p[i] : lo[0];
    hi[0] = p[i] > hi[0] ? p[i] : hi[0];
    nan[0] |= p[i] != p[i];
  }
  float mn = lo[0], mx = hi[0];
  bool anyNaN = nan[0];
  for (int l = 1; l < kLanes; ++l) {
    mn = lo[l] < mn ? lo[l] : mn;
    mx = hi[l] > mx ? hi[l] : mx;
    anyNaN |= nan[l];
  }
  // Only a zero can tie with a value of another bit pattern: the scan in
  // order keeps the first zero.
  if (mn == 0.0f || mx == 0.0f)
    for (int64_t j = 0; j < n; ++j)
      if (p[j] == 0.0f) {
        if (mn == 0.0f)
          mn = p[j];
        if (mx == 0.0f)
          mx = p[j];
        break;
      }
  return {mn, mx, anyNaN};
}

/// Records the range of every float tensor of one run, in the order the
/// tensors are computed (the first pass).
class RangeCollector : public EvaluationObserver {
public:
  void onResult(Operation *op, unsigned index, const HostTensor &t) override {
    // Constants have no range to calibrate (weights are quantized data-free).
    if (t.kind() != ElemKind::F32 || op->hasTrait<OpTrait::ConstantLike>())
      return;
    observe(op->getResult(index), t);
  }
  void observe(Value v, const HostTensor &t) {
    ranges.push_back({v, rangeOf(t.data<float>(), t.numElements())});
  }
  std::vector<std::pair<Key, Observed>> ranges;
};

/// Adds the values of every float tensor to its histogram over the range
/// the first pass found (the second pass).
class HistogramCollector : public EvaluationObserver {
public:
  explicit HistogramCollector(const llvm::DenseMap<Key, Stats> &stats)
      : stats(stats) {}
  void onResult(Operation *op, unsigned index, const HostTensor &t) override {
    if (t.kind() != ElemKind::F32 || op->hasTrait<OpTrait::ConstantLike>())
      return;
    observe(op->getResult(index), t);
  }
  void observe(Value v, const HostTensor &t) {
    auto it = stats.find(v);
    if (it == stats.end())
      return;
    const Stats &s = it->second;
    if (!(s.hi > s.lo) || !std::isfinite(s.lo) || !std::isfinite(s.hi))
      return;
    std::vector<double> &h = hist[v];
    if (h.empty())
      h.assign(kBins, 0.0);
    const float *p = t.data<float>();
    double width = (s.hi - s.lo) / kBins;
    for (int64_t i = 0, n = t.numElements(); i < n; ++i) {
      if (std::isnan(p[i]))
        continue;
      int64_t b = static_cast<int64_t>((p[i] - s.lo) / width);
      h[std::clamp<int64_t>(b, 0, kBins - 1)] += 1.0;
    }
  }
  const llvm::DenseMap<Key, Stats> &stats;
  /// Counts (whole numbers, so their sums do not depend on the order).
  llvm::DenseMap<Key, std::vector<double>> hist;
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

/// How an error names a calibrated tensor: a graph input by its ONNX name
/// (or position), a result by its op and the node its location names.
std::string describe(func::FuncOp func, Value v) {
  std::string text;
  llvm::raw_string_ostream os(text);
  if (auto arg = dyn_cast<BlockArgument>(v)) {
    if (auto name = func.getArgAttrOfType<StringAttr>(arg.getArgNumber(),
                                                      "onnx.name"))
      os << "input '" << name.getValue() << "'";
    else
      os << "input #" << arg.getArgNumber();
    return text;
  }
  Operation *op = v.getDefiningOp();
  os << "the result";
  if (op->getNumResults() > 1)
    os << " #" << cast<OpResult>(v).getResultNumber();
  os << " of '" << op->getName() << "'";
  std::string node = nodeName(op->getLoc());
  if (!node.empty())
    os << " (node '" << node << "')";
  return text;
}

/// Whether [lo, hi] has a quantization scale: finite ends, and a width that
/// is zero (the scale falls back to 1) or that spreads over the levels of
/// the widest activation type (16 bits: lowbit-assign-bitwidth may choose
/// it after calibration) in steps no smaller than the least normal float32.
/// A float32 scale of +inf or of 0 / a denormal gives NaN outputs or
/// infinite requantization multipliers downstream; an error here names the
/// tensor instead. Emits the error and returns failure otherwise.
LogicalResult checkQuantizable(func::FuncOp func, Value v, double lo,
                               double hi) {
  auto loc = isa<BlockArgument>(v) ? func.getLoc() : v.getDefiningOp()->getLoc();
  auto num = [](double x) -> std::string {
    if (std::isinf(x))
      return x > 0 ? "inf" : "-inf";
    std::string text;
    llvm::raw_string_ostream(text) << llvm::format("%g", x);
    return text;
  };
  auto range = [&] { return "[" + num(lo) + ", " + num(hi) + "]"; };
  if (!std::isfinite(lo) || !std::isfinite(hi))
    return emitError(loc) << "calibration: " << describe(func, v)
                          << " reaches "
                          << (std::isfinite(hi) ? "-inf" : "+inf")
                          << " on the calibration data (range " << range()
                          << "): the float model overflows float32 here, "
                             "and no finite quantization scale covers it",
           failure();
  constexpr double kWidestLevels = 65535.0; // 2^16 - 1
  if (hi > lo && (hi - lo) / kWidestLevels <
                     double(std::numeric_limits<float>::min()))
    return emitError(loc) << "calibration: " << describe(func, v)
                          << " has a range " << range()
                          << " too narrow for a quantization scale (the "
                             "scale would be 0 or a denormal float32)",
           failure();
  return success();
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
  // Samples run concurrently, one evaluator per worker (sharing the
  // constants); what they record is merged in sample order, so the ranges
  // are those of running the samples one after the other.
  MLIRContext *ctx = func.getContext();
  size_t workers = ctx->isMultithreadingEnabled()
                       ? std::min<size_t>(samples.size(), ctx->getNumThreads())
                       : 1;
  std::vector<std::unique_ptr<Evaluator>> evaluators;
  evaluators.push_back(std::move(*evaluator));
  for (size_t w = 1; w < workers; ++w)
    evaluators.push_back(evaluators.front()->clone());
  // Runs every sample with the observer observerOf(worker, sample) sees
  // (its arguments, then every result), sample i on worker i % workers,
  // and stops at the first failure.
  auto forEachSample = [&](const char *what, auto &&observerOf) {
    Progress progress(options.progress, samples.size(), what);
    std::mutex mutex;
    size_t done = 0;
    std::atomic<bool> failedRun{false};
    mlir::parallelFor(ctx, 0, workers, [&](size_t w) {
      for (size_t i = w; i < samples.size() && !failedRun; i += workers) {
        auto &observer = observerOf(w, i);
        for (auto [arg, t] : llvm::zip(func.getArguments(), samples[i]))
          if (t.kind() == ElemKind::F32)
            observer.observe(arg, t);
        if (failed(evaluators[w]->run(samples[i], &observer))) {
          failedRun = true;
          return;
        }
        std::lock_guard<std::mutex> lock(mutex);
        ++done;
        if (done % 16 == 0 || done == samples.size())
          progress.update(done);
      }
    });
    return success(!failedRun);
  };

  // Pass 1: each sample's ranges, merged in order (a later value replaces
  // the range's end only when it is strictly beyond it).
  llvm::DenseMap<Key, Stats> stats;
  {
    std::vector<RangeCollector> perSample(samples.size());
    auto observerOf = [&](size_t, size_t i) -> RangeCollector & {
      return perSample[i];
    };
    if (failed(forEachSample("ranges", observerOf)))
      return failure();
    for (auto [i, c] : llvm::enumerate(perSample))
      for (auto &[value, range] : c.ranges) {
        Stats &s = stats[value];
        s.lo = std::min<double>(s.lo, range.lo);
        s.hi = std::max<double>(s.hi, range.hi);
        if (range.nan && s.nanSample < 0)
          s.nanSample = static_cast<int64_t>(i);
      }
  }
  // Pass 2 (percentile, SQNR): histograms over those ranges, one per
  // worker, summed.
  if (options.estimator != RangeEstimator::MinMax) {
    std::vector<HistogramCollector> perWorker;
    for (size_t w = 0; w < workers; ++w)
      perWorker.emplace_back(stats);
    if (failed(forEachSample("histograms",
                             [&](size_t w, size_t) -> HistogramCollector & {
                               return perWorker[w];
                             })))
      return failure();
    for (HistogramCollector &c : perWorker)
      for (auto &[value, hist] : c.hist) {
        std::vector<double> &total = stats[value].hist;
        if (total.empty())
          total.assign(kBins, 0.0);
        for (int b = 0; b < kBins; ++b)
          total[b] += hist[b];
      }
  }
  Builder b(func.getContext());
  // In program order, so that the first tensor that overflows is the one
  // reported (the DenseMap's order is arbitrary).
  SmallVector<Value> order(func.getArguments());
  func.walk([&](Operation *op) {
    llvm::append_range(order, op->getResults());
  });
  for (Value value : order) {
    auto it = stats.find(value);
    if (it == stats.end())
      continue;
    const Stats &s = it->second;
    if (s.nanSample >= 0) {
      Location loc = isa<BlockArgument>(value) ? func.getLoc()
                                               : value.getDefiningOp()->getLoc();
      return emitError(loc) << "calibration: " << describe(func, value)
                            << " is NaN on calibration sample "
                            << s.nanSample
                            << " (the float model computes an invalid "
                               "operation there, such as inf - inf); no "
                               "quantization represents it",
             failure();
    }
    if (!(s.hi >= s.lo))
      continue;
    auto [lo, hi] = estimate(s, options);
    if (failed(checkQuantizable(func, value, lo, hi)))
      return failure();
    auto attr = b.getDenseF64ArrayAttr({lo, hi});
    if (auto arg = dyn_cast<BlockArgument>(value))
      func.setArgAttr(arg.getArgNumber(), kRangeAttrName, attr);
    else if (value.getDefiningOp()->getNumResults() == 1)
      value.getDefiningOp()->setAttr(kRangeAttrName, attr);
  }
  return success();
}
