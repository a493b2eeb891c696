//===- Report.cpp - Per-layer numerics report -----------------------------===//
//
// Part of the lowbit project.
//
//===----------------------------------------------------------------------===//
//
// lowbitc --report: per layer (convolution, depthwise convolution, matrix
// product), the weights' encoding and bits, their bytes, the activation
// range calibration recorded, and the SQNR of the layer's output in the
// quantized (Q/DQ) graph against the float graph, both run in the evaluator
// on the calibration samples; as text and as a self-contained HTML page with
// inline SVG plots (per-layer SQNR bars, weight histograms before and after
// quantization, STLQ tile maps).
//
//===----------------------------------------------------------------------===//

#include "Common.h"

#include "lowbit/Driver/Output.h"

#include "LowBit/IR/LowBitOps.h"
#include "LowBit/Transforms/Bitwidth.h"
#include "LowBit/Transforms/LogWeights.h"
#include "LowBit/Utils/ConstantReader.h"
#include "lowbit/Evaluator/Evaluator.h"
#include "lowbit/Quantization/Calibration.h"
#include "lowbit/Support/Location.h"

#include "mlir/Dialect/Quant/IR/QuantTypes.h"
#include "mlir/Dialect/Tosa/IR/TosaOps.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/Support/FileUtilities.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/ToolOutputFile.h"
#include "llvm/Support/raw_ostream.h"

#include <cmath>
#include <map>

using namespace mlir;
using namespace ::lowbit;
using namespace ::lowbit::driver;
namespace lb = mlir::lowbit;

static constexpr llvm::StringLiteral kLayerAttr = "lowbit.layer";

LogicalResult driver::tagLayers(ModuleOp module) {
  func::FuncOp func = firstDefinedFunction(module);
  if (!func)
    return fail(module.getContext(), "--report: no function in the model");
  int64_t id = 0;
  func.walk([&](Operation *op) {
    if (lb::isBitwidthLayer(op))
      op->setAttr(kLayerAttr,
                  IntegerAttr::get(IntegerType::get(op->getContext(), 64),
                                   id++));
  });
  return success();
}

std::string driver::locationName(Location loc) {
  // The ONNX node's name, else the first file:line.
  std::string name = nodeName(loc);
  if (!name.empty())
    return name;
  loc->walk([&](Location l) {
    if (auto f = dyn_cast<FileLineColLoc>(l)) {
      name = (llvm::sys::path::filename(f.getFilename().strref()) + ":" +
              Twine(f.getLine()))
                 .str();
      return WalkResult::interrupt();
    }
    return WalkResult::advance();
  });
  return name.empty() ? "?" : name;
}

namespace {

/// What the report says about one layer.
struct Layer {
  int64_t id = 0;
  std::string name, kind, shape, encoding;
  double bits = 0;       // bits per weight word
  double weightBytes = 0;
  std::optional<std::pair<double, double>> range;
  double signal = 0, noise = 0; // sums over the calibration samples
  std::vector<double> floatWeights, quantWeights;
  // STLQ tile map: rows (output tiles) x columns (kernel positions x input
  // tiles), true = two words.
  int64_t mapRows = 0, mapCols = 0;
  std::vector<bool> tileMap;
  double sqnr() const {
    if (noise <= 0)
      return INFINITY;
    return 10 * std::log10(signal / noise);
  }
};

/// Bits of a quantized storage range [min, max].
double rangeBits(int64_t lo, int64_t hi) {
  return std::ceil(std::log2(static_cast<double>(hi - lo + 1)));
}

/// Records the tensors the report needs while the evaluator runs: each
/// layer's output (every sample) and, on the first sample, its weights.
struct Recorder : EvaluationObserver {
  llvm::DenseMap<Operation *, int64_t> layerOf;  // anchor -> layer id
  llvm::DenseMap<Operation *, int64_t> weightOf; // weight's producer -> id
  std::map<int64_t, std::vector<double>> outputs, weights;
  bool wantWeights = true;
  void onResult(Operation *op, unsigned index, const HostTensor &t) override {
    auto read = [&](std::vector<double> &out) {
      out.resize(t.numElements());
      for (int64_t i = 0; i < t.numElements(); ++i)
        out[i] = t.getDouble(i);
    };
    if (index != 0)
      return;
    if (auto it = layerOf.find(op); it != layerOf.end())
      read(outputs[it->second]);
    if (auto it = weightOf.find(op); wantWeights && it != weightOf.end())
      read(weights[it->second]);
  }
};

/// The op that produces `v` as a float tensor the evaluator records: the
/// weight constant, or the dequantize of quantized weights.
Operation *weightProducer(Value v) {
  Operation *def = v.getDefiningOp();
  while (def && isa<tosa::ReshapeOp, tosa::TransposeOp>(def))
    def = def->getOperand(0).getDefiningOp();
  return def;
}

void fillEncoding(Operation *op, Layer &l) {
  auto wType = cast<RankedTensorType>(op->getOperand(1).getType());
  l.shape = mlir::lowbit::shapeStr(wType.getShape());
  const double count = static_cast<double>(wType.getNumElements());
  Attribute enc = op->getAttr("lowbit.weight_encoding");
  if (auto log = dyn_cast_or_null<lb::LogAttr>(enc)) {
    l.encoding = "log (one word)";
    l.bits = log.getBits();
    l.weightBytes = count * l.bits / 8;
    return;
  }
  if (auto stlq = dyn_cast_or_null<lb::STLQAttr>(enc)) {
    l.bits = stlq.getBits();
    std::optional<lb::LogicalWeights> lw = lb::logicalWeights(op);
    ::lowbit::rt::LogWeightsDesc d{};
    if (lw)
      d = {lw->oc, lw->kh, lw->kw, lw->ic, stlq.getBits(),
           stlq.getInputTile(), stlq.getOutputTile()};
    int64_t tiles = ::lowbit::rt::stlqTileCount(d);
    std::vector<uint8_t> packed((tiles + 7) / 8 + 1, 0);
    int64_t t = 0;
    for (bool two : stlq.getMask().getValues<bool>()) {
      l.tileMap.push_back(two);
      if (two && t < tiles)
        packed[t / 8] |= static_cast<uint8_t>(1u << (t % 8));
      ++t;
    }
    l.encoding = "STLQ, tile " + std::to_string(d.tileIn) + "x" +
                 std::to_string(d.tileOut) + ", " +
                 std::to_string(stlq.getNumTwoWordTiles()) + " of " +
                 std::to_string(tiles) + " tiles two words";
    // The bytes of the packed form the shift kernels read.
    l.weightBytes = lw ? static_cast<double>(
                             ::lowbit::rt::logWeightsBytes(d, packed.data()))
                       : count * l.bits / 8;
    ArrayRef<int64_t> ms = stlq.getMask().getType().getShape();
    l.mapRows = ms.front();
    l.mapCols = ms.size() ? stlq.getMask().getNumElements() / ms.front() : 0;
    return;
  }
  // Uniform weights behind a dequantize.
  Operation *def = weightProducer(op->getOperand(1));
  if (def && def->getNumOperands() >= 1) {
    Type elt = getElementTypeOrSelf(def->getOperand(0).getType());
    if (auto q = dyn_cast<quant::QuantizedType>(elt)) {
      l.bits = rangeBits(q.getStorageTypeMin(), q.getStorageTypeMax());
      bool perChannel = isa<quant::UniformQuantizedPerAxisType>(q);
      l.encoding = std::string(q.isSigned() ? "int" : "uint") +
                   (perChannel ? ", per channel" : ", per tensor");
      l.weightBytes = count * l.bits / 8;
      return;
    }
  }
  l.encoding = "float (not quantized)";
  l.bits = 32;
  l.weightBytes = count * 4;
}

std::string escape(StringRef s) {
  std::string out;
  for (char c : s) {
    switch (c) {
    case '<': out += "&lt;"; break;
    case '>': out += "&gt;"; break;
    case '&': out += "&amp;"; break;
    case '"': out += "&quot;"; break;
    default: out += c;
    }
  }
  return out;
}

std::string num(double v, int digits = 2) {
  if (std::isinf(v))
    return "inf";
  std::string s;
  llvm::raw_string_ostream os(s);
  os << llvm::format(("%." + std::to_string(digits) + "f").c_str(), v);
  return s;
}

/// Weight histograms before (grey) and after quantization (blue) on the
/// same bins over [-max|w|, max|w|] of the float weights.
std::string histogramSvg(const Layer &l) {
  const int bins = 41, width = 320, height = 110;
  double m = 0;
  for (double w : l.floatWeights)
    m = std::max(m, std::fabs(w));
  for (double w : l.quantWeights)
    m = std::max(m, std::fabs(w));
  if (!(m > 0))
    m = 1;
  auto count = [&](const std::vector<double> &ws) {
    std::vector<int64_t> h(bins, 0);
    for (double w : ws) {
      int b = static_cast<int>(std::floor((w / m + 1) / 2 * bins));
      h[std::clamp(b, 0, bins - 1)]++;
    }
    return h;
  };
  std::vector<int64_t> hf = count(l.floatWeights), hq = count(l.quantWeights);
  int64_t top = 1;
  for (int b = 0; b < bins; ++b)
    top = std::max({top, hf[b], hq[b]});
  std::string s;
  llvm::raw_string_ostream os(s);
  const double bw = static_cast<double>(width) / bins;
  os << "<svg class=\"hist\" width=\"" << width << "\" height=\"" << height + 14
     << "\" role=\"img\"><title>weights of " << escape(l.name)
     << ": float (grey) and quantized (blue), " << bins
     << " bins over [-" << num(m, 4) << ", " << num(m, 4) << "]</title>";
  for (int b = 0; b < bins; ++b) {
    double hF = static_cast<double>(hf[b]) / top * height;
    double hQ = static_cast<double>(hq[b]) / top * height;
    os << "<rect x=\"" << num(b * bw, 1) << "\" y=\"" << num(height - hF, 1)
       << "\" width=\"" << num(bw, 1) << "\" height=\"" << num(hF, 1)
       << "\" fill=\"#bbb\"/>";
    os << "<rect x=\"" << num(b * bw + bw * 0.25, 1) << "\" y=\""
       << num(height - hQ, 1) << "\" width=\"" << num(bw * 0.5, 1)
       << "\" height=\"" << num(hQ, 1) << "\" fill=\"#2563eb\"/>";
  }
  os << "<text x=\"0\" y=\"" << height + 12 << "\" font-size=\"10\">-"
     << num(m, 3) << "</text><text x=\"" << width - 40 << "\" y=\""
     << height + 12 << "\" font-size=\"10\">" << num(m, 3) << "</text></svg>";
  return s;
}

std::string tileMapSvg(const Layer &l) {
  if (l.tileMap.empty() || l.mapRows == 0 || l.mapCols == 0)
    return "";
  const int cell = std::max<int>(2, std::min<int>(10, 480 / l.mapCols));
  std::string s;
  llvm::raw_string_ostream os(s);
  os << "<svg class=\"tiles\" width=\"" << cell * l.mapCols << "\" height=\""
     << cell * l.mapRows << "\" role=\"img\"><title>STLQ tiles of "
     << escape(l.name) << ": rows are output-channel tiles, columns kernel "
     << "positions x input-channel tiles; dark = two words</title>";
  for (int64_t r = 0; r < l.mapRows; ++r)
    for (int64_t c = 0; c < l.mapCols; ++c)
      os << "<rect x=\"" << c * cell << "\" y=\"" << r * cell
         << "\" width=\"" << cell << "\" height=\"" << cell << "\" fill=\""
         << (l.tileMap[r * l.mapCols + c] ? "#b91c1c" : "#fde2e2")
         << "\" stroke=\"#fff\" stroke-width=\"0.5\"/>";
  os << "</svg>";
  return s;
}

std::string sqnrBarsSvg(const std::vector<Layer> &layers) {
  const int row = 18, width = 520, label = 180;
  double top = 1;
  for (const Layer &l : layers)
    if (std::isfinite(l.sqnr()))
      top = std::max(top, l.sqnr());
  std::string s;
  llvm::raw_string_ostream os(s);
  os << "<svg class=\"sqnr\" width=\"" << width << "\" height=\""
     << row * layers.size() + 4
     << "\" role=\"img\"><title>SQNR of each layer's output (dB)</title>";
  for (auto [i, l] : llvm::enumerate(layers)) {
    double v = std::isfinite(l.sqnr()) ? std::max(0.0, l.sqnr()) : top;
    double w = v / top * (width - label - 60);
    os << "<text x=\"0\" y=\"" << i * row + 13 << "\" font-size=\"11\">"
       << escape(l.name) << "</text><rect x=\"" << label << "\" y=\""
       << i * row + 3 << "\" width=\"" << num(w, 1) << "\" height=\""
       << row - 5 << "\" fill=\"#059669\"/><text x=\"" << num(label + w + 4, 1)
       << "\" y=\"" << i * row + 13 << "\" font-size=\"11\">"
       << num(l.sqnr(), 1) << " dB</text>";
  }
  os << "</svg>";
  return s;
}

} // namespace

LogicalResult driver::writeReport(ModuleOp floatModule, ModuleOp qdqModule,
                                  ArrayRef<std::string> samples,
                                  const ReportOptions &options,
                                  const StageEnv &env,
                                  llvm::raw_ostream &text) {
  MLIRContext *ctx = qdqModule.getContext();
  func::FuncOp ff = firstDefinedFunction(floatModule);
  func::FuncOp qf = firstDefinedFunction(qdqModule);
  if (!ff || !qf)
    return fail(ctx, "--report: no function in the model");
  TimingScope t = rootTiming(env).nest("report");

  // The layers, in the quantized graph's order.
  std::vector<Layer> layers;
  Recorder floatRec, quantRec;
  std::map<int64_t, size_t> index;
  auto idOf = [](Operation *op) -> std::optional<int64_t> {
    if (auto a = op->getAttrOfType<IntegerAttr>(kLayerAttr))
      return a.getInt();
    return std::nullopt;
  };
  qf.walk([&](Operation *op) {
    std::optional<int64_t> id = idOf(op);
    if (!id || !lb::isBitwidthLayer(op))
      return;
    Layer l;
    l.id = *id;
    l.name = locationName(op->getLoc());
    l.kind = op->getName().stripDialect().str();
    fillEncoding(op, l);
    if (auto r = op->getAttrOfType<DenseF64ArrayAttr>(kRangeAttrName);
        r && r.size() == 2)
      l.range = std::make_pair(r[0], r[1]);
    index[*id] = layers.size();
    layers.push_back(l);
    quantRec.layerOf[op] = *id;
    if (Operation *w = weightProducer(op->getOperand(1)))
      quantRec.weightOf[w] = *id;
  });
  ff.walk([&](Operation *op) {
    std::optional<int64_t> id = idOf(op);
    if (!id || !index.count(*id))
      return;
    floatRec.layerOf[op] = *id;
    if (Operation *w = weightProducer(op->getOperand(1)))
      floatRec.weightOf[w] = *id;
  });

  // The Q/DQ graph keeps the float graph's signature: one set of inputs.
  if (ff.getFunctionType() != qf.getFunctionType())
    return fail(ctx, "--report: the quantized function's signature differs "
                     "from the float one's");
  auto sets = loadInputSets(ff, samples, "--calibration", true);
  if (failed(sets))
    return failure();
  auto fe = Evaluator::create(ff);
  auto qe = Evaluator::create(qf);
  if (failed(fe) || failed(qe))
    return failure();
  const size_t n = std::min<size_t>(sets->size(), options.maxSamples);
  for (size_t s = 0; s < n; ++s) {
    floatRec.outputs.clear();
    quantRec.outputs.clear();
    if (failed((*fe)->run((*sets)[s], &floatRec)) ||
        failed((*qe)->run((*sets)[s], &quantRec)))
      return failure();
    floatRec.wantWeights = quantRec.wantWeights = false;
    for (Layer &l : layers) {
      auto f = floatRec.outputs.find(l.id);
      auto q = quantRec.outputs.find(l.id);
      if (f == floatRec.outputs.end() || q == quantRec.outputs.end() ||
          f->second.size() != q->second.size())
        continue;
      for (size_t i = 0; i < f->second.size(); ++i) {
        double d = f->second[i] - q->second[i];
        l.signal += f->second[i] * f->second[i];
        l.noise += d * d;
      }
    }
  }
  for (Layer &l : layers) {
    l.floatWeights = std::move(floatRec.weights[l.id]);
    l.quantWeights = std::move(quantRec.weights[l.id]);
  }

  // Text.
  text << "lowbitc: report: " << layers.size() << " layers, SQNR of each "
       << "layer's output against the float model on " << n
       << " calibration sample" << (n == 1 ? "" : "s") << "\n";
  double totalBytes = 0;
  for (const Layer &l : layers) {
    totalBytes += l.weightBytes;
    text << "  " << l.name << " " << l.kind << " " << l.shape << ": "
         << num(l.bits, 0) << "-bit " << l.encoding << ", "
         << num(l.weightBytes, 1) << " weight bytes";
    if (l.range)
      text << ", range [" << num(l.range->first, 3) << ", "
           << num(l.range->second, 3) << "]";
    text << ", SQNR " << num(l.sqnr(), 2) << " dB\n";
  }
  text << "  total " << num(totalBytes, 1) << " weight bytes\n";

  if (options.htmlPath.empty())
    return success();
  std::string error;
  auto out = openOutputFile(options.htmlPath, &error);
  if (!out)
    return fail(ctx, "--report: " + error);
  llvm::raw_ostream &os = out->os();
  os << "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
     << "<title>lowbit report: " << escape(env.inputName) << "</title>"
     << "<style>body{font-family:sans-serif;margin:1.5em}"
     << "table{border-collapse:collapse}td,th{border:1px solid #ccc;"
     << "padding:3px 6px;text-align:left;vertical-align:top}"
     << "td.num{text-align:right}</style></head><body>\n"
     << "<h1>lowbit report: " << escape(env.inputName) << "</h1>\n"
     << "<p>SQNR of each layer's output in the quantized graph against the "
     << "float graph, both run in lowbit's evaluator on " << n
     << " calibration sample" << (n == 1 ? "" : "s") << ". Weight bytes "
     << "count the codes at their bit width (STLQ: the packed form the shift "
     << "kernels read: mask bits, first words, second words of two-word tiles). Total: " << num(totalBytes, 1)
     << " weight bytes.</p>\n<h2>SQNR per layer</h2>\n"
     << sqnrBarsSvg(layers) << "\n<h2>Layers</h2>\n<table id=\"layers\">\n"
     << "<tr><th>layer</th><th>op</th><th>weights</th><th>bits</th>"
     << "<th>encoding</th><th>weight bytes</th><th>activation range</th>"
     << "<th>SQNR (dB)</th><th>weight histogram</th><th>STLQ tiles</th></tr>\n";
  for (const Layer &l : layers) {
    os << "<tr class=\"layer\"><td>" << escape(l.name) << "</td><td>"
       << escape(l.kind) << "</td><td>" << l.shape << "</td><td class=\"num\">"
       << num(l.bits, 0) << "</td><td>" << escape(l.encoding)
       << "</td><td class=\"num\">" << num(l.weightBytes, 1) << "</td><td>";
    if (l.range)
      os << "[" << num(l.range->first, 3) << ", " << num(l.range->second, 3)
         << "]";
    os << "</td><td class=\"num sqnr\">" << num(l.sqnr(), 2) << "</td><td>"
       << histogramSvg(l) << "</td><td>" << tileMapSvg(l) << "</td></tr>\n";
  }
  os << "</table>\n</body></html>\n";
  if (std::string err = finishOutputFile(*out, options.htmlPath); !err.empty())
    return fail(ctx, "--report: " + err);
  return success();
}
