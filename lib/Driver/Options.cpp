//===- Options.cpp - lowbitc's option checks ------------------------------===//
//
// Part of the lowbit project.
//
//===----------------------------------------------------------------------===//
//
// CompileOptions::verify: every check of lowbitc's options and their
// combinations, before any work is done. A value that would be ignored in
// this run is still checked; an option given without the one it qualifies
// (--stlq-ratio without --weight-scheme=stlq, --target-sqnr without
// --bitwidth=auto, ...) is an error rather than silently ignored.
//
//===----------------------------------------------------------------------===//

#include "lowbit/Driver/Options.h"

#include "Common.h"

#include "lowbit/accel/Isa.h"

#include <cmath>

using namespace mlir;
using namespace ::lowbit;
using namespace ::lowbit::driver;

/// The bit-width options of --bitwidth=auto (with calibration).
static LogicalResult verifyBitwidth(MLIRContext *ctx, CompileOptions &o) {
  if (o.bitwidthMode != "fixed" && o.bitwidthMode != "auto")
    return fail(ctx,
                "unknown --bitwidth '" + o.bitwidthMode + "' (fixed or auto)");
  if (o.bitwidthMode != "auto") {
    if (o.bitwidthAutoOptionsGiven)
      return fail(ctx, "--target-sqnr, --cost, --bitwidth-candidates, "
                       "--bitwidth-samples, --bitwidth-search and "
                       "--bitwidth-estimate need --bitwidth=auto");
    return success();
  }
  const std::string &scheme = o.quantize.weightScheme;
  if (scheme != "symmetric" && scheme != "asymmetric")
    return fail(ctx, "--bitwidth=auto chooses uniform and power-of-two "
                     "weights per layer from --bitwidth-candidates; it cannot "
                     "be combined with --weight-scheme=" +
                         scheme);
  BitwidthOptions &bw = o.bitwidth;
  if (bw.cost != "bits" && bw.cost != "bitops")
    return fail(ctx, "unknown --cost '" + bw.cost + "' (bits or bitops)");
  if (!std::isfinite(bw.targetSqnr))
    return fail(ctx, "--target-sqnr must be a finite number of dB");
  if (bw.search != "exact" && bw.search != "greedy")
    return fail(ctx, "unknown --bitwidth-search '" + bw.search +
                         "' (exact or greedy)");
  if (bw.maxSamples < 1)
    return fail(ctx, "--bitwidth-samples must be at least 1");
  std::vector<std::string> names = o.bitwidthCandidates;
  if (names.empty()) {
    for (int b = 2; b <= 8; ++b)
      names.push_back("w" + std::to_string(b));
    for (int b = 3; b <= 5; ++b)
      names.push_back("log" + std::to_string(b));
    for (int b = 4; b <= 16; ++b)
      names.push_back("a" + std::to_string(b));
  }
  bool anyWeights = false;
  bw.candidates.clear();
  for (const std::string &n : names) {
    auto c = mlir::lowbit::BitwidthCandidate::parse(n);
    if (!c)
      return fail(ctx, "--bitwidth-candidates: unknown candidate '" + n +
                           "' (w2..w8, log2..log5, a2..a16)");
    anyWeights |= c->isWeights();
    bw.candidates.push_back(*c);
  }
  if (!anyWeights)
    return fail(ctx, "--bitwidth-candidates needs at least one weight "
                     "candidate (w2..w8 or log2..log5)");
  return success();
}

/// What to emit and where, against the target and --run.
static LogicalResult verifyOutputs(MLIRContext *ctx, const CompileOptions &o) {
  const bool toAccel = o.target == TargetKind::Accel;
  const bool running = !o.runInputs.empty() || o.evaluate;
  if (!toAccel && (o.emit == EmitKind::AccelBin || o.emit == EmitKind::AccelAsm))
    return fail(ctx, "--emit=bin and --emit=asm need --target=accel");
  if (!toAccel && (o.accelTargetGiven || !o.accelSet.empty()))
    return fail(ctx, "--accel-target and --accel-set need --target=accel");
  if (toAccel && running)
    return fail(ctx, "--target=accel writes a program for the accelerator; "
                     "run it with accel-sim (drop --target=accel to --run the "
                     "model in the evaluator)");
  if (toAccel && (o.emit == EmitKind::Cpp || o.emit == EmitKind::Bytecode ||
                  o.compileTo == CompileTo::QDQ))
    return fail(ctx, "--target=accel emits bin, asm or mlir from integer ops");
  if (o.emit == EmitKind::Cpp && running)
    return fail(ctx, "--emit=cpp writes C++ to compile; drop --emit=cpp to "
                     "--run the model in the evaluator");
  if (o.emit == EmitKind::Cpp && o.compileTo == CompileTo::QDQ)
    return fail(ctx, "--emit=cpp needs integer ops; it cannot be combined "
                     "with --compile-to=qdq");
  if (o.lowersToInteger() && o.logKernels != "auto" && o.logKernels != "shift")
    return fail(ctx, "unknown --log-kernels '" + o.logKernels +
                         "' (auto or shift)");
  if (toAccel) {
    if (o.inputBitDepthGiven)
      return fail(ctx, "--input-bit-depth's block loop is not part of the "
                       "accelerator program");
    if ((!o.emitGiven || o.emit == EmitKind::AccelBin) && o.outputFile == "-")
      return fail(ctx, "--target=accel --emit=bin needs -o FILE.bin");
    return success();
  }
  if (!running && o.emit == EmitKind::Cpp && o.outputFile == "-")
    return fail(ctx, "--emit=cpp needs -o FOLDER for the model's files");
  if (running && o.inputBitDepthGiven && o.outputFile == "-")
    return fail(ctx, "--input-bit-depth: --run needs -o FILE.npy for the "
                     "images");
  return success();
}

LogicalResult CompileOptions::verify(MLIRContext *ctx) {
  if (!inputBitDepthGiven && abcOptionsGiven)
    return fail(ctx, "--abc, --abc-block, --abc-bits, --abc-dither and "
                     "--abc-seed need --input-bit-depth");

  // The quantization options are checked whether or not they are used: a
  // bad value is an error, never silently ignored.
  {
    llvm::StringRef text(stlqTile);
    auto [a, b] = text.split('x');
    int64_t tn = 0, tm = 0;
    if (a.getAsInteger(10, tn) || b.getAsInteger(10, tm) || tn < 1 || tm < 1)
      return fail(ctx, "--stlq-tile must be TnxTm with positive Tn and Tm "
                       "(e.g. 16x16), got '" +
                           stlqTile + "'");
    quantize.stlqTileInputs = tn;
    quantize.stlqTileOutputs = tm;
  }
  // Calibration searches ranges for the activations' bits.
  calibration.bits = quantize.activationBits;
  calibration.progress = true;
  if (failed(verifyQuantizationOptions(ctx, calibration, quantize)))
    return failure();
  // Like the other scheme- and mode-specific options: given without their
  // scheme they would be silently ignored.
  const std::string &weightScheme = quantize.weightScheme;
  if (weightScheme != "stlq" && stlqOptionsGiven)
    return fail(ctx, "--stlq-ratio, --stlq-tile and --stlq-granularity need "
                     "--weight-scheme=stlq");
  // convert-lowbit-to-accel refuses inputs narrower than the accelerator's
  // activations (its input record quantizes to all of them): say so before
  // calibrating.
  const unsigned activationBits = quantize.activationBits;
  const unsigned weightBits = quantize.weightBits;
  if (target == TargetKind::Accel && !calibrationInputs.empty() &&
      activationBits != ::lowbit::accel::Target().activationBits)
    return fail(ctx, "--target=accel: the accelerator's activations are " +
                         llvm::Twine(::lowbit::accel::Target().activationBits) +
                         "-bit and its input record quantizes to all of them; "
                         "--activation-bits=" +
                         llvm::Twine(activationBits) +
                         " would give the evaluator and the C++ a narrower "
                         "input than the accelerator");

  if (!calibrationInputs.empty()) {
    if ((weightScheme == "pow2" || weightScheme == "stlq") && weightBits > 5 &&
        compileTo != CompileTo::QDQ)
      return fail(ctx, "--weight-scheme=" + weightScheme +
                           " with --weight-bits=" + llvm::Twine(weightBits) +
                           ": log codes of more than 5 bits have no integer "
                           "form (use --weight-bits=2..5, or --compile-to=qdq "
                           "to simulate them in float)");
    if (failed(verifyBitwidth(ctx, *this)))
      return failure();
  } else if (bitwidthGiven) {
    return fail(ctx, "--bitwidth needs --calibration");
  } else if (!reportFile.empty()) {
    return fail(ctx, "--report measures the quantized model against the "
                     "float one: it needs --calibration");
  }
  return verifyOutputs(ctx, *this);
}
