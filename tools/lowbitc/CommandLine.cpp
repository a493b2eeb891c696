//===- CommandLine.cpp - lowbitc's command-line options -------------------===//
//
// Part of the lowbit project.
//
//===----------------------------------------------------------------------===//
//
// The flags of lowbitc, read into a lowbit::driver::CompileOptions. Only
// reading happens here: what the values mean and which combinations are
// valid is CompileOptions::verify's (lib/Driver/Options.cpp).
//
//===----------------------------------------------------------------------===//

#include "CommandLine.h"

#include "llvm/Support/CommandLine.h"

using namespace ::lowbit;
using namespace ::lowbit::driver;
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

llvm::cl::OptionCategory &lowbitc::category() { return ::category; }

void lowbitc::readCommandLine(CompileOptions &o) {
  o.import.inputFile = inputFile;
  o.import.bindInputs.assign(bindInputs.begin(), bindInputs.end());
  o.import.inputShapes.assign(inputShapes.begin(), inputShapes.end());
  o.import.cleanup = !noCleanup;
  o.outputFile = outputFile;
  o.emit = emit;
  o.emitGiven = emit.getNumOccurrences() != 0;
  o.target = target;
  o.accelTarget = accelTarget;
  o.accelTargetGiven = accelTarget.getNumOccurrences() != 0;
  o.accelSet.assign(accelSet.begin(), accelSet.end());
  o.runInputs.assign(runInputs.begin(), runInputs.end());
  o.evaluate = evaluate;
  o.passPipeline = passPipeline;
  o.modelName = modelName;
  o.compileTo = compileTo;
  o.floatFallback = floatFallback;
  o.logKernels = logKernels;
  o.logKernelsGiven = logKernels.getNumOccurrences() != 0;
  o.foldPRelu = foldPRelu;
  o.reportFile = reportFile;

  o.calibrationInputs.assign(calibrationInputs.begin(),
                             calibrationInputs.end());
  o.calibration.estimator = rangeEstimator;
  o.calibration.percentile = percentile;
  QuantizePipelineOptions &q = o.quantize;
  q.activationBits = activationBits;
  q.weightBits = weightBits;
  q.weightScheme = weightScheme;
  q.stlqRatio = stlqRatio;
  q.stlqGranularity = stlqGranularity;
  q.weightRounding = weightRounding;
  q.logScale = logScale;
  q.perChannel = !perTensorWeights;
  o.stlqTile = stlqTile;
  o.stlqOptionsGiven = stlqRatio.getNumOccurrences() ||
                       stlqTile.getNumOccurrences() ||
                       stlqGranularity.getNumOccurrences();

  o.bitwidthMode = bitwidth;
  o.bitwidthGiven = bitwidth.getNumOccurrences() != 0;
  o.bitwidth.targetSqnr = targetSqnr;
  o.bitwidth.cost = bitwidthCost;
  o.bitwidth.search = bitwidthSearch;
  o.bitwidth.maxSamples = bitwidthSamples;
  o.bitwidth.estimate = bitwidthEstimate;
  o.bitwidthCandidates.assign(bitwidthCandidates.begin(),
                              bitwidthCandidates.end());
  o.bitwidthAutoOptionsGiven =
      targetSqnr.getNumOccurrences() || bitwidthCost.getNumOccurrences() ||
      bitwidthCandidates.getNumOccurrences() ||
      bitwidthEstimate.getNumOccurrences() ||
      bitwidthSamples.getNumOccurrences() ||
      bitwidthSearch.getNumOccurrences();

  o.bitDepth.inputBits = inputBitDepth;
  o.inputBitDepthGiven = inputBitDepth.getNumOccurrences() != 0;
  o.bitDepth.block = abcBlock;
  o.bitDepth.bits = abcBits;
  o.bitDepth.mode = abcMode;
  o.bitDepth.dither = abcDither;
  o.bitDepth.seed = abcSeed;
  o.abcOptionsGiven = abcBlock.getNumOccurrences() ||
                      abcBits.getNumOccurrences() ||
                      abcMode.getNumOccurrences() ||
                      abcDither.getNumOccurrences() ||
                      abcSeed.getNumOccurrences();
}
