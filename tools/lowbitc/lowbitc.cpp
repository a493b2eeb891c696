//===- lowbitc.cpp - The lowbit compiler driver ---------------------------===//
//
// Part of the lowbit project.
//
//===----------------------------------------------------------------------===//
//
// One-shot driver in the style of iree-compile / onnx-mlir:
//
//   lowbitc model.onnx --emit=mlir -o model.mlir
//   lowbitc model.onnx --run input.npy -o output.npy
//   lowbitc model.mlir --run x=input.npy -o outputs/
//
// Option parsing and diagnostics; the stages (import, calibrate, quantize,
// lower, emit, run) are lowbit/Driver/Driver.h's, and the pass sequences
// between them the named pipelines of lowbit/Pipelines/Pipelines.h, which
// lowbit-opt runs too. Errors are located diagnostics on stderr and a
// non-zero exit.
//
//===----------------------------------------------------------------------===//

#include "lowbit/Driver/Driver.h"
#include "lowbit/InitAll.h"
#include "lowbit/accel/Isa.h"

#include "mlir/IR/AsmState.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Support/Timing.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileUtilities.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/raw_ostream.h"

#include <cmath>
#include <optional>

using namespace mlir;
using namespace ::lowbit;
namespace cl = llvm::cl;

static cl::OptionCategory category("lowbitc options");

static cl::opt<std::string> inputFile(
    cl::Positional, cl::Required,
    cl::desc("<model.onnx | file.mlir>: an ONNX model (opsets 7-21), or MLIR "
             "(func + tosa / lowbit) to evaluate"),
    cl::cat(category));

static cl::opt<std::string>
    outputFile("o",
               cl::desc("Output: the emitted IR (default stdout), or with "
                        "--run the output .npy file, or a folder that gets "
                        "one <output name>.npy per output when the model has "
                        "several"),
               cl::value_desc("path"), cl::init("-"), cl::cat(category));

enum class EmitKind { MLIR, Bytecode, Cpp, AccelBin, AccelAsm, None };
static cl::opt<EmitKind> emit(
    "emit", cl::desc("What to write to -o when not running"),
    cl::values(clEnumValN(EmitKind::MLIR, "mlir",
                          "textual MLIR: func + tosa float IR (default)"),
               clEnumValN(EmitKind::Bytecode, "mlirbc", "MLIR bytecode"),
               clEnumValN(EmitKind::Cpp, "cpp",
                          "integer-only C++ on the lowbit runtime into the "
                          "folder -o: <name>.h, <name>.cpp, <name>_weights.S, "
                          "<name>.weights.bin, <name>_summary.txt"),
               clEnumValN(EmitKind::AccelBin, "bin",
                          "--target=accel: the accelerator binary (the "
                          "default with --target=accel; accel-sim runs it)"),
               clEnumValN(EmitKind::AccelAsm, "asm",
                          "--target=accel: the accelerator assembly"),
               clEnumValN(EmitKind::None, "none",
                          "nothing (import and verify only)")),
    cl::init(EmitKind::MLIR), cl::cat(category));

enum class TargetKind { Cpu, Accel };
static cl::opt<TargetKind> target(
    "target", cl::desc("What the integer model is compiled for"),
    cl::values(clEnumValN(TargetKind::Cpu, "cpu",
                          "the evaluator, MLIR or --emit=cpp (default)"),
               clEnumValN(TargetKind::Accel, "accel",
                          "the tile accelerator (convert-lowbit-to-accel): "
                          "--emit=bin (default), asm or mlir; see "
                          "--accel-target and --accel-set")),
    cl::init(TargetKind::Cpu), cl::cat(category));

static cl::opt<std::string> accelTarget(
    "accel-target",
    cl::desc("--target=accel: the target description file (key = value "
             "lines: tn, tm, modes, buffer sizes, DMA rate, ...; default: a "
             "16x16 array with 64 KiB buffers)"),
    cl::value_desc("FILE"), cl::init(""), cl::cat(category));

static cl::list<std::string> accelSet(
    "accel-set",
    cl::desc("--target=accel: override one key of the target description "
             "(repeatable), e.g. --accel-set=tn=8"),
    cl::value_desc("KEY=VALUE"), cl::cat(category));

static cl::list<std::string> runInputs(
    "run",
    cl::desc("Run the model in the reference evaluator on FILE.npy: one "
             "--run per graph input in order, or NAME=FILE.npy by name. A "
             "leading batch dimension that is a multiple of the model's "
             "iterates the model and stacks the outputs"),
    cl::value_desc("[NAME=]FILE.npy"), cl::cat(category));

static cl::opt<bool> evaluate(
    "evaluate",
    cl::desc("Run in the evaluator even without --run inputs (for models "
             "whose inputs are all bound or that have none)"),
    cl::init(false), cl::cat(category));

static cl::list<std::string> bindInputs(
    "bind-input",
    cl::desc("Treat graph input NAME as a constant with the value in "
             "FILE.npy (for operands that must be known at compile time, "
             "such as quantization scales passed as inputs)"),
    cl::value_desc("NAME=FILE.npy"), cl::cat(category));

static cl::list<std::string> inputShapes(
    "input-shape",
    cl::desc("Give graph input NAME the static shape D0xD1x... (e.g. "
             "x=1x3x224x224; one per input, repeatable): for symbolic "
             "dimensions of an ONNX model. It must agree with the model's "
             "static dimensions. Without it a symbolic leading (batch) "
             "dimension is 1, with a note, and any other symbolic dimension "
             "is an error"),
    cl::value_desc("NAME=D0xD1x..."), cl::cat(category));

static cl::opt<std::string> passPipeline(
    "pass-pipeline",
    cl::desc("Textual pass pipeline to run after import and clean-up, e.g. "
             "'builtin.module(canonicalize)'"),
    cl::init(""), cl::cat(category));

static cl::list<std::string> calibrationInputs(
    "calibration",
    cl::desc("Calibrate on FILE.npy (samples along the leading dimension, "
             "like --run; one per graph input or NAME=FILE.npy) and quantize "
             "the model: data-free weights, calibrated activations. The "
             "result is the quantized model, emitted or run as usual"),
    cl::value_desc("[NAME=]FILE.npy"), cl::cat(category));

static cl::opt<RangeEstimator> rangeEstimator(
    "range-estimator", cl::desc("How calibration picks activation ranges"),
    cl::values(clEnumValN(RangeEstimator::MinMax, "minmax",
                          "observed minimum and maximum (default)"),
               clEnumValN(RangeEstimator::Percentile, "percentile",
                          "--percentile of the values at each end"),
               clEnumValN(RangeEstimator::SQNR, "sqnr",
                          "the clipping that maximizes the SQNR")),
    cl::init(RangeEstimator::MinMax), cl::cat(category));

static cl::opt<double>
    percentile("percentile",
               cl::desc("Percentage of values the percentile estimator keeps "
                        "(default 99.99)"),
               cl::init(99.99), cl::cat(category));

static cl::opt<unsigned>
    activationBits("activation-bits",
                   cl::desc("Bits of quantized activations, 2 to 16"),
                   cl::init(8), cl::cat(category));

static cl::opt<unsigned>
    weightBits("weight-bits", cl::desc("Bits of quantized weights, 2 to 8"),
               cl::init(8), cl::cat(category));

static cl::opt<std::string> weightScheme(
    "weight-scheme",
    cl::desc("Weight quantizer: symmetric (default), asymmetric, pow2 (one "
             "power-of-two log word per weight) or stlq (selective two-word "
             "log codes chosen per tile: lowbit-legalize-stlq-tiles). Log "
             "codes run on the integer target up to --weight-bits=5"),
    cl::init("symmetric"), cl::cat(category));

static cl::opt<double> stlqRatio(
    "stlq-ratio",
    cl::desc("--weight-scheme=stlq: fraction of each layer's weights whose "
             "tiles get a second word (default 0.15)"),
    cl::init(0.15), cl::cat(category));

static cl::opt<std::string> stlqTile(
    "stlq-tile",
    cl::desc("--weight-scheme=stlq: tile TnxTm, input x output channels "
             "(default 16x16)"),
    cl::value_desc("TnxTm"), cl::init("16x16"), cl::cat(category));

static cl::opt<std::string> stlqGranularity(
    "stlq-granularity",
    cl::desc("--weight-scheme=stlq: what gets a second word, tile (default: "
             "the tiles of largest first-word residual, the paper's "
             "per-tile scheme) or filter (whole output channels, the "
             "per-filter scheme)"),
    cl::init("tile"), cl::cat(category));

static cl::opt<std::string> logKernels(
    "log-kernels",
    cl::desc("How layers with log / STLQ weights run: auto (default: int8 "
             "kernels where their integers fit in int8, shift-add kernels "
             "elsewhere) or shift (shift-add kernels everywhere)"),
    cl::init("auto"), cl::cat(category));

static cl::opt<std::string> weightRounding(
    "weight-rounding",
    cl::desc("How weights pick their codes: correlated (default: the "
             "nearest code or its neighbour, whichever keeps the layer's "
             "output error least for correlated inputs) or nearest"),
    cl::init("correlated"), cl::cat(category));

static cl::opt<std::string> logScale(
    "log-scale",
    cl::desc("Scale U of power-of-two weights: mse (default, least squared "
             "error) or max (U = 2 max|w|)"),
    cl::init("mse"), cl::cat(category));

static cl::opt<bool> perTensorWeights(
    "per-tensor-weights",
    cl::desc("One weight scale per layer instead of per output channel"),
    cl::init(false), cl::cat(category));

enum class CompileTo { Auto, QDQ, Integer };
static cl::opt<CompileTo> compileTo(
    "compile-to",
    cl::desc("How far to lower a quantized model (default: integer after "
             "--calibration or for --emit=cpp, otherwise as imported)"),
    cl::values(clEnumValN(CompileTo::Auto, "auto", "the default above"),
               clEnumValN(CompileTo::QDQ, "qdq",
                          "float graph with quantize/dequantize pairs "
                          "(simulated quantization)"),
               clEnumValN(CompileTo::Integer, "integer",
                          "integer lowbit ops (convert-tosa-to-lowbit); "
                          "--run quantizes float inputs and dequantizes "
                          "outputs like the generated C++'s float API")),
    cl::init(CompileTo::Auto), cl::cat(category));

static cl::opt<std::string> reportFile(
    "report",
    cl::desc("With --calibration: write a per-layer numerics report to FILE "
             "(self-contained HTML with inline SVG plots: weight bits, "
             "encoding and bytes, activation ranges, the SQNR of each "
             "layer's output against the float model on the calibration "
             "samples, weight histograms, STLQ tile maps) and its text form "
             "to stderr"),
    cl::value_desc("FILE.html"), cl::init(""), cl::cat(category));

static cl::opt<bool> foldPRelu(
    "fold-prelu",
    cl::desc("After lowering to integer ops, fold PReLU / LeakyReLU ops "
             "(and ReLU / ReLU6 / Clip before or after them) into the "
             "requant before them (lowbit-fold-prelu-requant: one rounding "
             "instead of two, results within 1 LSB) and report the op "
             "counts before and after"),
    cl::init(false), cl::cat(category));

static cl::opt<std::string> bitwidth(
    "bitwidth",
    cl::desc("With --calibration: fixed (default: --weight-bits and "
             "--activation-bits everywhere) or auto (per-layer bits that "
             "meet --target-sqnr at least --cost, measured in the "
             "evaluator: lowbit-assign-bitwidth)"),
    cl::init("fixed"), cl::cat(category));

static cl::opt<double> targetSqnr(
    "target-sqnr",
    cl::desc("--bitwidth=auto: least SQNR (dB) of the model's outputs "
             "against the float model on the calibration samples (default "
             "30)"),
    cl::init(30.0), cl::cat(category));

static cl::opt<std::string> bitwidthCost(
    "cost",
    cl::desc("--bitwidth=auto: what to minimize, bits (total weight bits; "
             "activations stay at --activation-bits) or bitops (multiply-"
             "accumulates x weight bits x activation bits)"),
    cl::init("bits"), cl::cat(category));

static cl::list<std::string> bitwidthCandidates(
    "bitwidth-candidates",
    cl::desc("--bitwidth=auto: the candidates, comma-separated: w2..w8 "
             "(uniform weights), log2..log5 (one power-of-two word), "
             "a2..a16 (activations, with --cost=bitops). Default: "
             "w2,...,w8,log3,log4,log5,a4,...,a16"),
    cl::CommaSeparated, cl::cat(category));

static cl::opt<std::string> bitwidthSearch(
    "bitwidth-search",
    cl::desc("--bitwidth=auto: exact (default: least cost by dynamic "
             "programming) or greedy (most cost saved per noise added, one "
             "step at a time)"),
    cl::init("exact"), cl::cat(category));

static cl::opt<unsigned> bitwidthSamples(
    "bitwidth-samples",
    cl::desc("--bitwidth=auto: calibration samples the SQNRs are measured "
             "on (the first ones, default 32)"),
    cl::init(32), cl::cat(category));

static cl::opt<bool> bitwidthEstimate(
    "bitwidth-estimate",
    cl::desc("--bitwidth=auto: measure two widths per layer and kind and "
             "fit 10 log10(SQNR) = kappa * bits + c for the others (fewer "
             "evaluator runs) instead of measuring every candidate"),
    cl::init(false), cl::cat(category));

static cl::opt<int> inputBitDepth(
    "input-bit-depth",
    cl::desc("The model's input is N-bit integer images processed in "
             "blocks with adaptive bit depth control (--abc): --calibration "
             "and --run take integer images ([H, W], [C, H, W] or "
             "[S, C, H, W] .npy), --run writes uint16 images, and --emit=cpp "
             "adds <name>_run_blocks. The model maps float [1, C, B, B] "
             "blocks in [0, 1] to [1, C', B, B]"),
    cl::init(0), cl::cat(category));

static cl::opt<int> abcBlock(
    "abc-block",
    cl::desc("--input-bit-depth: block side B (default 16)"), cl::init(16),
    cl::cat(category));

static cl::opt<int> abcBits(
    "abc-bits",
    cl::desc("--input-bit-depth: bits K of the network's input (default 8)"),
    cl::init(8), cl::cat(category));

static cl::opt<std::string> abcMode(
    "abc",
    cl::desc("--input-bit-depth: adaptive (default: each block shifted right "
             "by just enough bits for its maximum to fit K bits, the output "
             "shifted back), truncate (every block by N - K bits) or none "
             "(the network takes all N bits)"),
    cl::init("adaptive"), cl::cat(category));

static cl::opt<bool> abcDither(
    "abc-dither",
    cl::desc("--input-bit-depth: dither the output's inverse shift"),
    cl::init(false), cl::cat(category));

static cl::opt<unsigned> abcSeed(
    "abc-seed", cl::desc("--abc-dither: the dither's seed (default 0)"),
    cl::init(0), cl::cat(category));

static cl::opt<bool> floatFallback(
    "float-fallback",
    cl::desc("Let ops with no integer form (a Softmax's exp and sums, "
             "sigmoid, tanh, ...) stay float in the integer model, with a "
             "warning that names them (default true; false makes them "
             "errors)"),
    cl::init(true), cl::cat(category));

static cl::opt<std::string>
    modelName("model-name",
              cl::desc("Prefix of the generated C symbols and file names for "
                       "--emit=cpp (default: the input file's name)"),
              cl::init(""), cl::cat(category));

static cl::opt<bool> noCleanup(
    "no-cleanup",
    cl::desc("Skip the canonicalize + cse clean-up after import (keeps the "
             "transposes around every NHWC op)"),
    cl::init(false), cl::cat(category));

namespace {
int fail(const llvm::Twine &msg) {
  llvm::errs() << "lowbitc: error: " << msg << "\n";
  return 1;
}

/// Prints a diagnostic as "file:line:col: error: message" (for ONNX models
/// the line is the node's 1-based position in the graph, the message names
/// the node), or "lowbitc: error: message" when it has no file location. An
/// ONNX file has no text lines to quote, so no source manager here; parsing
/// .mlir installs one of its own.
LogicalResult printDiagnostic(Diagnostic &diag) {
  auto &os = llvm::errs();
  if (auto file = diag.getLocation()->findInstanceOf<FileLineColLoc>()) {
    os << file.getFilename().getValue();
    if (file.getLine() != 0)
      os << ":" << file.getLine() << ":" << file.getColumn();
    os << ": ";
  } else {
    os << "lowbitc: ";
  }
  switch (diag.getSeverity()) {
  case DiagnosticSeverity::Error:
    os << "error: ";
    break;
  case DiagnosticSeverity::Warning:
    os << "warning: ";
    break;
  case DiagnosticSeverity::Note:
    os << "note: ";
    break;
  case DiagnosticSeverity::Remark:
    os << "remark: ";
    break;
  }
  os << diag << "\n";
  for (Diagnostic &note : diag.getNotes())
    os << "  note: " << note << "\n";
  return success();
}
} // namespace

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  // Passes first: --mlir-print-ir-before=<pass> and friends list the passes
  // registered when the pass manager's options are created.
  ::lowbit::registerAllPasses();
  mlir::registerAsmPrinterCLOptions();
  mlir::registerMLIRContextCLOptions();
  mlir::registerPassManagerCLOptions();
  mlir::registerDefaultTimingManagerCLOptions();
  cl::HideUnrelatedOptions({&category});
  cl::ParseCommandLineOptions(
      argc, argv,
      "lowbitc: the lowbit compiler driver\n\n"
      "Imports an ONNX model (float or Q/DQ) into func + tosa MLIR, writes "
      "it, or runs it in the reference evaluator on .npy inputs.\n\n"
      "Examples:\n"
      "  lowbitc model.onnx --emit=mlir -o model.mlir\n"
      "  lowbitc model.onnx --run input.npy -o output.npy\n"
      "  lowbitc model.onnx --run x=a.npy --run y=b.npy -o outputs/\n"
      "  lowbitc qlinear.onnx --bind-input x_scale=s.npy --run x.npy -o y.npy\n"
      "  lowbitc dynamic.onnx --input-shape x=1x3x224x224 --emit=mlir\n"
      "\nMLIR's standard flags also apply: --mlir-print-ir-after-all, "
      "--mlir-timing, --mlir-print-debuginfo, ... (see --help-hidden).\n");

  DialectRegistry registry;
  ::lowbit::registerAllDialects(registry);
  MLIRContext context(registry);
  context.loadAllAvailableDialects();
  context.getDiagEngine().registerHandler(printDiagnostic);

  DefaultTimingManager tm;
  applyDefaultTimingManagerCLOptions(tm);
  TimingScope timing = tm.getRootScope();

  driver::StageEnv env;
  env.timing = &timing;
  env.inputName = inputFile;
  env.configurePassManager = [](PassManager &pm) -> LogicalResult {
    if (succeeded(applyPassManagerCLOptions(pm)))
      return success();
    fail("invalid pass manager options");
    return failure();
  };

  // --- load and clean up ------------------------------------------------
  driver::ImportOptions importOptions;
  importOptions.inputFile = inputFile;
  importOptions.bindInputs = bindInputs;
  importOptions.inputShapes = inputShapes;
  importOptions.cleanup = !noCleanup;
  OwningOpRef<ModuleOp> module =
      driver::importModel(context, importOptions, env);
  if (!module)
    return 1;
  if (!passPipeline.empty() &&
      failed(driver::runPassPipeline(*module, passPipeline, env)))
    return 1;

  // --- adaptive bit depth control of input blocks ----------------------
  driver::BitDepthOptions bitDepth;
  std::vector<std::string> calibrationSpecs(calibrationInputs.begin(),
                                            calibrationInputs.end());
  std::optional<llvm::FileRemover> calibrationBlocks;
  if (inputBitDepth.getNumOccurrences()) {
    bitDepth.inputBits = inputBitDepth;
    bitDepth.bits = abcBits;
    bitDepth.block = abcBlock;
    bitDepth.mode = abcMode;
    bitDepth.dither = abcDither;
    bitDepth.seed = abcSeed;
    if (failed(driver::checkBitDepthModel(*module, bitDepth)))
      return 1;
    if (!calibrationSpecs.empty()) {
      auto path = driver::writeBitDepthCalibration(*module, calibrationSpecs,
                                                   bitDepth);
      if (failed(path))
        return 1;
      calibrationBlocks.emplace(*path);
      calibrationSpecs = {*path};
    }
  } else if (abcBlock.getNumOccurrences() || abcBits.getNumOccurrences() ||
             abcMode.getNumOccurrences() || abcDither.getNumOccurrences() ||
             abcSeed.getNumOccurrences()) {
    return fail("--abc, --abc-block, --abc-bits, --abc-dither and --abc-seed "
                "need --input-bit-depth");
  }

  // --- calibrate and quantize -------------------------------------------
  // The quantization options are checked whether or not they are used:
  // a bad value is an error, never silently ignored.
  CalibrationOptions calibration;
  calibration.estimator = rangeEstimator;
  calibration.percentile = percentile;
  calibration.bits = activationBits;
  calibration.progress = true;
  QuantizePipelineOptions quantize;
  quantize.activationBits = activationBits;
  quantize.weightBits = weightBits;
  quantize.weightScheme = weightScheme;
  quantize.perChannel = !perTensorWeights;
  quantize.weightRounding = weightRounding;
  quantize.logScale = logScale;
  quantize.stlqRatio = stlqRatio;
  quantize.stlqGranularity = stlqGranularity;
  {
    int64_t tn = 0, tm = 0;
    llvm::StringRef text(stlqTile);
    auto [a, b] = text.split('x');
    if (a.getAsInteger(10, tn) || b.getAsInteger(10, tm) || tn < 1 ||
        tm < 1)
      return fail("--stlq-tile must be TnxTm with positive Tn and Tm "
                  "(e.g. 16x16), got '" +
                  stlqTile + "'");
    quantize.stlqTileInputs = tn;
    quantize.stlqTileOutputs = tm;
  }
  if (failed(driver::verifyQuantizationOptions(&context, calibration,
                                               quantize)))
    return 1;
  // Like the other scheme- and mode-specific options: given without their
  // scheme they would be silently ignored.
  if (weightScheme != "stlq" &&
      (stlqRatio.getNumOccurrences() || stlqTile.getNumOccurrences() ||
       stlqGranularity.getNumOccurrences()))
    return fail("--stlq-ratio, --stlq-tile and --stlq-granularity need "
                "--weight-scheme=stlq");
  // convert-lowbit-to-accel refuses inputs narrower than the accelerator's
  // activations (its input record quantizes to all of them): say so before
  // calibrating.
  if (target == TargetKind::Accel && !calibrationInputs.empty() &&
      activationBits != ::lowbit::accel::Target().activationBits)
    return fail("--target=accel: the accelerator's activations are " +
                llvm::Twine(::lowbit::accel::Target().activationBits) +
                "-bit and its input record quantizes to all of them; "
                "--activation-bits=" +
                llvm::Twine(unsigned(activationBits)) +
                " would give the evaluator and the C++ a narrower input "
                "than the accelerator");
  if (!calibrationInputs.empty()) {
    if ((weightScheme == "pow2" || weightScheme == "stlq") && weightBits > 5 &&
        compileTo != CompileTo::QDQ)
      return fail("--weight-scheme=" + weightScheme + " with --weight-bits=" +
                  llvm::Twine(unsigned(weightBits)) +
                  ": log codes of more than 5 bits have no integer form "
                  "(use --weight-bits=2..5, or --compile-to=qdq to simulate "
                  "them in float)");
    driver::BitwidthOptions bitwidthOptions;
    if (bitwidth != "fixed" && bitwidth != "auto")
      return fail("unknown --bitwidth '" + bitwidth + "' (fixed or auto)");
    if (bitwidth == "auto") {
      if (weightScheme != "symmetric" && weightScheme != "asymmetric")
        return fail("--bitwidth=auto chooses uniform and power-of-two weights "
                    "per layer from --bitwidth-candidates; it cannot be "
                    "combined with --weight-scheme=" +
                    weightScheme);
      if (bitwidthCost != "bits" && bitwidthCost != "bitops")
        return fail("unknown --cost '" + bitwidthCost + "' (bits or bitops)");
      if (!std::isfinite(targetSqnr))
        return fail("--target-sqnr must be a finite number of dB");
      bitwidthOptions.targetSqnr = targetSqnr;
      bitwidthOptions.cost = bitwidthCost;
      if (bitwidthSearch != "exact" && bitwidthSearch != "greedy")
        return fail("unknown --bitwidth-search '" + bitwidthSearch +
                    "' (exact or greedy)");
      bitwidthOptions.search = bitwidthSearch;
      bitwidthOptions.estimate = bitwidthEstimate;
      if (bitwidthSamples < 1)
        return fail("--bitwidth-samples must be at least 1");
      bitwidthOptions.maxSamples = bitwidthSamples;
      std::vector<std::string> names(bitwidthCandidates.begin(),
                                     bitwidthCandidates.end());
      if (names.empty()) {
        for (int b = 2; b <= 8; ++b)
          names.push_back("w" + std::to_string(b));
        for (int b = 3; b <= 5; ++b)
          names.push_back("log" + std::to_string(b));
        for (int b = 4; b <= 16; ++b)
          names.push_back("a" + std::to_string(b));
      }
      bool anyWeights = false;
      for (const std::string &n : names) {
        auto c = mlir::lowbit::BitwidthCandidate::parse(n);
        if (!c)
          return fail("--bitwidth-candidates: unknown candidate '" + n +
                      "' (w2..w8, log2..log5, a2..a16)");
        anyWeights |= c->isWeights();
        bitwidthOptions.candidates.push_back(*c);
      }
      if (!anyWeights)
        return fail("--bitwidth-candidates needs at least one weight "
                    "candidate (w2..w8 or log2..log5)");
    } else if (targetSqnr.getNumOccurrences() ||
               bitwidthCost.getNumOccurrences() ||
               bitwidthCandidates.getNumOccurrences() ||
               bitwidthEstimate.getNumOccurrences() ||
               bitwidthSamples.getNumOccurrences() ||
               bitwidthSearch.getNumOccurrences()) {
      return fail("--target-sqnr, --cost, --bitwidth-candidates, "
                  "--bitwidth-samples, --bitwidth-search and "
                  "--bitwidth-estimate need --bitwidth=auto");
    }
    if (failed(driver::calibrateModel(*module, calibrationSpecs, calibration,
                                      env)))
      return 1;
    if (bitDepth.inputBits)
      driver::pinBitDepthInputRange(*module, bitDepth, activationBits);
    if (bitwidth == "auto" &&
        failed(driver::assignBitwidths(*module, calibrationSpecs, quantize,
                                       bitwidthOptions, env, llvm::errs())))
      return 1;
    // The report compares the quantized graph with this float one.
    mlir::OwningOpRef<mlir::ModuleOp> floatModule;
    if (!reportFile.empty()) {
      if (failed(driver::tagLayers(*module)))
        return 1;
      floatModule = module->clone();
    }
    if (failed(driver::quantizeModel(*module, quantize, env)))
      return 1;
    if (floatModule) {
      driver::ReportOptions report;
      report.htmlPath = reportFile;
      if (failed(driver::writeReport(*floatModule, *module, calibrationSpecs,
                                     report, env, llvm::errs())))
        return 1;
    }
  } else if (bitwidth.getNumOccurrences()) {
    return fail("--bitwidth needs --calibration");
  } else if (!reportFile.empty()) {
    return fail("--report measures the quantized model against the float "
                "one: it needs --calibration");
  }

  // --- lower to integer ops --------------------------------------------
  const bool toAccel = target == TargetKind::Accel;
  if (!toAccel && (emit == EmitKind::AccelBin || emit == EmitKind::AccelAsm))
    return fail("--emit=bin and --emit=asm need --target=accel");
  if (!toAccel && (accelTarget.getNumOccurrences() || !accelSet.empty()))
    return fail("--accel-target and --accel-set need --target=accel");
  if (toAccel && (!runInputs.empty() || evaluate))
    return fail("--target=accel writes a program for the accelerator; run it "
                "with accel-sim (drop --target=accel to --run the model in "
                "the evaluator)");
  if (toAccel && (emit == EmitKind::Cpp || emit == EmitKind::Bytecode ||
                  compileTo == CompileTo::QDQ))
    return fail("--target=accel emits bin, asm or mlir from integer ops");
  if (emit == EmitKind::Cpp && (!runInputs.empty() || evaluate))
    return fail("--emit=cpp writes C++ to compile; drop --emit=cpp to --run "
                "the model in the evaluator");
  if (emit == EmitKind::Cpp && compileTo == CompileTo::QDQ)
    return fail("--emit=cpp needs integer ops; it cannot be combined with "
                "--compile-to=qdq");
  bool lower = compileTo == CompileTo::Integer ||
               (compileTo == CompileTo::Auto &&
                (!calibrationInputs.empty() || emit == EmitKind::Cpp ||
                 toAccel));
  if (lower) {
    LowerToIntegerPipelineOptions lowerOptions;
    lowerOptions.floatFallback = floatFallback;
    if (logKernels != "auto" && logKernels != "shift")
      return fail("unknown --log-kernels '" + logKernels +
                  "' (auto or shift)");
    // The accelerator runs log and STLQ weights in its shift modes, from
    // the codes: keep every log layer encoded.
    lowerOptions.logKernels =
        toAccel && !logKernels.getNumOccurrences() ? std::string("shift")
                                                   : logKernels.getValue();
    if (failed(driver::lowerToInteger(*module, lowerOptions, env)))
      return 1;
  }
  if (foldPRelu) {
    auto countOps = [&] {
      int64_t n = 0;
      module->walk([&](Operation *op) {
        if (op->getDialect() &&
            op->getDialect()->getNamespace() == "lowbit")
          ++n;
      });
      return n;
    };
    int64_t before = countOps();
    if (failed(driver::runPassPipeline(
            *module,
            "builtin.module(func.func(lowbit-fold-prelu-requant),"
            "canonicalize)",
            env)))
      return 1;
    llvm::errs() << "lowbitc: lowbit-fold-prelu-requant: " << before
                 << " lowbit ops before, " << countOps() << " after\n";
  }

  // --- emit or run -------------------------------------------------------
  // The emitted IR records the block loop (the C++ target emits
  // <name>_run_blocks from it, also from a later lowbit-translate).
  if (bitDepth.inputBits)
    driver::attachBitDepth(*module, bitDepth);
  if (toAccel) {
    if (bitDepth.inputBits)
      return fail("--input-bit-depth's block loop is not part of the "
                  "accelerator program");
    driver::AccelEmit kind =
        !emit.getNumOccurrences() || emit == EmitKind::AccelBin
            ? driver::AccelEmit::Binary
        : emit == EmitKind::AccelAsm ? driver::AccelEmit::Assembly
        : emit == EmitKind::None     ? driver::AccelEmit::None
                                     : driver::AccelEmit::MLIR;
    if (kind == driver::AccelEmit::Binary && outputFile == "-")
      return fail("--target=accel --emit=bin needs -o FILE.bin");
    if (failed(driver::emitAccel(
            *module, outputFile, kind, accelTarget,
            std::vector<std::string>(accelSet.begin(), accelSet.end()), env)))
      return 1;
    if (!reportFile.empty() &&
        failed(driver::reportAccel(*module, reportFile, llvm::errs())))
      return 1;
    return 0;
  }
  if (runInputs.empty() && !evaluate) {
    switch (emit) {
    case EmitKind::AccelBin:
    case EmitKind::AccelAsm:
      return 0; // rejected above
    case EmitKind::None:
      return 0;
    case EmitKind::Cpp: {
      if (outputFile == "-")
        return fail("--emit=cpp needs -o FOLDER for the model's files");
      std::string name = modelName.empty()
                             ? driver::modelNameFromPath(inputFile)
                             : modelName.getValue();
      return failed(
          driver::emitCpp(*module, outputFile, name, llvm::errs(), env));
    }
    case EmitKind::MLIR:
    case EmitKind::Bytecode:
      return failed(driver::emitMLIR(*module, outputFile,
                                     emit == EmitKind::Bytecode, env));
    }
  }
  driver::RunOptions run;
  run.inputs = runInputs;
  run.outputFile = outputFile;
  run.dequantizeResults = lower;
  if (bitDepth.inputBits) {
    if (outputFile == "-")
      return fail("--input-bit-depth: --run needs -o FILE.npy for the "
                  "images");
    return failed(driver::runBitDepth(*module, run, bitDepth, env));
  }
  return failed(driver::runEvaluator(*module, run, env));
}
