//===- Driver.cpp - The stages of lowbit's compile flow -------------------===//
//
// Part of the lowbit project.
//
//===----------------------------------------------------------------------===//
//
// Import, passes, calibration, quantization, lowering and emission. Running
// the evaluator and reading .npy inputs are in Run.cpp.
//
//===----------------------------------------------------------------------===//

#include "lowbit/Driver/Driver.h"

#include "Common.h"

#include "lowbit/Driver/InputGuards.h"
#include "lowbit/Driver/Output.h"
#include "lowbit/Import/ONNX.h"
#include "lowbit/Support/Npy.h"
#include "lowbit/Target/Accel.h"
#include "lowbit/Target/Cpp.h"

#include "mlir/Bytecode/BytecodeWriter.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Support/FileUtilities.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/ToolOutputFile.h"

#include <limits>
#include <map>

using namespace mlir;
using namespace ::lowbit;
using namespace ::lowbit::driver;

namespace {
/// Parses an --input-shape value "NAME=D0xD1x..." into `shapes`; an error
/// message on bad input.
std::string
parseInputShape(llvm::StringRef arg,
                std::map<std::string, std::vector<int64_t>> &shapes) {
  auto [name, dims] = arg.split('=');
  std::string usage = "--input-shape expects NAME=D0xD1x... with positive "
                      "integer dimensions (e.g. x=1x3x224x224), got '" +
                      arg.str() + "'";
  if (name.empty() || dims.empty() || !arg.contains('='))
    return usage;
  std::vector<int64_t> shape;
  llvm::SmallVector<llvm::StringRef> parts;
  dims.split(parts, 'x');
  int64_t elements = 1;
  for (llvm::StringRef p : parts) {
    int64_t d;
    // getAsInteger takes "+3" and " 3"; only plain digits are dimensions.
    if (p.empty() || !llvm::all_of(p, llvm::isDigit) || p.getAsInteger(10, d) ||
        d <= 0)
      return usage + ": '" + p.str() + "' is not a positive integer";
    if (elements > std::numeric_limits<int64_t>::max() / d)
      return "--input-shape " + arg.str() +
             ": the element count overflows a 64-bit integer";
    elements *= d;
    shape.push_back(d);
  }
  if (!shapes.emplace(name.str(), std::move(shape)).second)
    return "--input-shape names input '" + name.str() + "' twice";
  return "";
}

/// `x` as printf's %g writes it (2, not 2.000000), for messages.
std::string shortNumber(double x) {
  std::string text;
  llvm::raw_string_ostream(text) << llvm::format("%g", x);
  return text;
}

/// Runs what `build` adds to a fresh module pass manager, timed under
/// `timing`.
LogicalResult runPasses(ModuleOp module, const StageEnv &env,
                        TimingScope &timing,
                        llvm::function_ref<void(OpPassManager &)> build) {
  PassManager pm(module.getContext(), ModuleOp::getOperationName());
  if (env.configurePassManager && failed(env.configurePassManager(pm)))
    return failure();
  pm.enableTiming(timing);
  build(pm);
  return pm.run(module);
}
} // namespace

bool driver::isMLIRFile(llvm::StringRef path) {
  return path.ends_with(".mlir") || path.ends_with(".mlirbc");
}

OwningOpRef<ModuleOp> driver::importModel(MLIRContext &context,
                                          const ImportOptions &options,
                                          const StageEnv &env) {
  MLIRContext *ctx = &context;
  auto error = [ctx](const llvm::Twine &msg) {
    (void)fail(ctx, msg);
    return OwningOpRef<ModuleOp>();
  };
  OwningOpRef<ModuleOp> module;
  TimingScope &timing = rootTiming(env);
  bool isMLIR = isMLIRFile(options.inputFile);
  if (isMLIR) {
    if (!options.bindInputs.empty())
      return error("--bind-input applies to ONNX models only");
    if (!options.inputShapes.empty())
      return error("--input-shape applies to ONNX models only (an MLIR "
                   "function's argument types are its shapes)");
    TimingScope t = timing.nest("parse");
    llvm::SourceMgr sourceMgr;
    std::string message;
    auto file = openInputFile(options.inputFile, &message);
    if (!file)
      return error(message);
    StringRef text = file->getBuffer();
    sourceMgr.AddNewSourceBuffer(std::move(file), llvm::SMLoc());
    SourceMgrDiagnosticHandler handler(sourceMgr, ctx);
    // Constructs that crash MLIR 22's parser (docs/KNOWN_ISSUES.md).
    if (!text.starts_with("ML\xefR"))
      if (auto hazard = scanForParserHazards(text)) {
        auto [line, col] = sourceMgr.getLineAndColumn(
            llvm::SMLoc::getFromPointer(text.data() + hazard->offset));
        emitError(FileLineColLoc::get(ctx, options.inputFile, line, col),
                  hazard->message);
        return nullptr;
      }
    module = parseSourceFile<ModuleOp>(sourceMgr, ctx);
    if (!module)
      return nullptr;
  } else {
    ONNXImportOptions onnx;
    for (const std::string &spec : options.inputShapes) {
      std::string err = parseInputShape(spec, onnx.inputShapes);
      if (!err.empty())
        return error(err);
    }
    for (const std::string &b : options.bindInputs) {
      auto [name, path] = splitBinding(b);
      if (name.empty())
        return error("--bind-input expects NAME=FILE.npy, got '" + b + "'");
      auto tensor = readNpy(path);
      if (!tensor)
        return error(llvm::toString(tensor.takeError()));
      onnx.boundInputs[name] = std::move(*tensor);
    }
    TimingScope t = timing.nest("import");
    module = importONNXFile(options.inputFile, context, onnx);
    if (!module)
      return nullptr;
  }
  // Clean-up after import: fold constants (weights are already laid out by
  // the importer), sink the NCHW<->NHWC transposes through elementwise ops
  // and cancel the pairs that meet. MLIR input is left as written.
  bool cleanup = options.cleanup && !isMLIR;
  if (failed(runPasses(*module, env, timing, [&](OpPassManager &pm) {
        if (cleanup)
          buildImportCleanupPipeline(pm);
      })))
    return nullptr;
  return module;
}

LogicalResult driver::runPassPipeline(ModuleOp module, llvm::StringRef pipeline,
                                      const StageEnv &env) {
  MLIRContext *ctx = module.getContext();
  std::string error;
  llvm::raw_string_ostream os(error);
  auto parsed = parsePassPipeline(pipeline, os);
  if (failed(parsed))
    return fail(ctx, "invalid --pass-pipeline: " + os.str());
  if (parsed->getOpAnchorName() != ModuleOp::getOperationName())
    return fail(ctx, "--pass-pipeline must be anchored on builtin.module, "
                     "e.g. 'builtin.module(canonicalize)'");
  return runPasses(module, env, rootTiming(env),
                   [&](OpPassManager &pm) { pm = *parsed; });
}

LogicalResult
driver::verifyQuantizationOptions(MLIRContext *ctx,
                                  const CalibrationOptions &calibration,
                                  const QuantizePipelineOptions &quantize) {
  double percentile = calibration.percentile;
  if (!(percentile > 0.0 && percentile <= 100.0))
    return fail(ctx, "--percentile must be in (0, 100], got " +
                         shortNumber(percentile));
  if (quantize.activationBits < 2 || quantize.activationBits > 16)
    return fail(ctx, "--activation-bits must be in [2, 16], got " +
                         llvm::Twine(quantize.activationBits.getValue()));
  if (quantize.weightBits < 2 || quantize.weightBits > 8)
    return fail(ctx, "--weight-bits must be in [2, 8], got " +
                         llvm::Twine(quantize.weightBits.getValue()));
  const std::string &scheme = quantize.weightScheme;
  if (scheme != "symmetric" && scheme != "asymmetric" && scheme != "pow2" &&
      scheme != "stlq")
    return fail(ctx, "unknown --weight-scheme '" + scheme +
                         "' (symmetric, asymmetric, pow2 or stlq)");
  // The STLQ options are checked whatever the scheme: a bad value is an
  // error even where it would not be used.
  double ratio = quantize.stlqRatio;
  if (!(ratio >= 0.0 && ratio <= 1.0))
    return fail(ctx, "--stlq-ratio must be in [0, 1], got " +
                         shortNumber(ratio));
  if (quantize.stlqTileInputs < 1 || quantize.stlqTileOutputs < 1)
    return fail(ctx, "--stlq-tile must be TnxTm with Tn, Tm >= 1");
  if (quantize.stlqGranularity != "tile" &&
      quantize.stlqGranularity != "filter")
    return fail(ctx, "unknown --stlq-granularity '" +
                         quantize.stlqGranularity + "' (tile or filter)");
  const std::string &rounding = quantize.weightRounding;
  if (rounding != "correlated" && rounding != "nearest")
    return fail(ctx, "unknown --weight-rounding '" + rounding +
                         "' (correlated or nearest)");
  const std::string &logScale = quantize.logScale;
  if (logScale != "mse" && logScale != "max")
    return fail(ctx, "unknown --log-scale '" + logScale + "' (mse or max)");
  return success();
}

LogicalResult driver::calibrateModel(ModuleOp module,
                                     llvm::ArrayRef<std::string> samples,
                                     const CalibrationOptions &options,
                                     const StageEnv &env) {
  func::FuncOp target = firstDefinedFunction(module);
  if (!target)
    return fail(module.getContext(),
                "no function to calibrate in " + env.inputName);
  TimingScope &timing = rootTiming(env);
  // Input normalization inside the graph becomes a depthwise layer the
  // integer target can run (before calibration, which records its output
  // range).
  if (failed(runPasses(module, env, timing, buildPrepareCalibrationPipeline)))
    return failure();
  auto sets = loadInputSets(target, samples, "--calibration",
                            /*calibration=*/true);
  if (failed(sets))
    return failure();
  if (sets->empty())
    return fail(module.getContext(),
                "the calibration set is empty (leading dimension 0)");
  TimingScope t = timing.nest("calibrate");
  return calibrate(target, *sets, options);
}

LogicalResult driver::quantizeModel(ModuleOp module,
                                    const QuantizePipelineOptions &options,
                                    const StageEnv &env) {
  return runPasses(module, env, rootTiming(env), [&](OpPassManager &pm) {
    buildQuantizePipeline(pm, options);
  });
}

LogicalResult
driver::lowerToInteger(ModuleOp module,
                       const LowerToIntegerPipelineOptions &options,
                       const StageEnv &env) {
  TimingScope t = rootTiming(env).nest("lower");
  return runPasses(module, env, t, [&](OpPassManager &pm) {
    buildLowerToIntegerPipeline(pm, options);
  });
}

LogicalResult driver::foldPReluRequants(ModuleOp module,
                                        const StageEnv &env) {
  TimingScope t = rootTiming(env).nest("fold-prelu");
  return runPasses(module, env, t,
                   [&](OpPassManager &pm) { buildFoldPReluPipeline(pm); });
}

LogicalResult driver::emitMLIR(ModuleOp module, llvm::StringRef outputFile,
                               bool bytecode, const StageEnv &env) {
  TimingScope t = rootTiming(env).nest("emit");
  std::string error;
  auto out = openOutputFile(outputFile, &error);
  if (!out)
    return fail(module.getContext(), error);
  if (bytecode) {
    if (failed(writeBytecodeToFile(module, out->os()))) {
      (void)closeOutputStream(out->os(), outputFile);
      return fail(module.getContext(), "cannot write bytecode");
    }
  } else {
    module.print(out->os());
    out->os() << "\n";
  }
  if (std::string err = finishOutputFile(*out, outputFile); !err.empty())
    return fail(module.getContext(), err);
  return success();
}

std::string driver::modelNameFromPath(llvm::StringRef path) {
  std::string name = llvm::sys::path::stem(path).str();
  for (char &c : name)
    if (!llvm::isAlnum(c))
      c = '_';
  if (name.empty() || llvm::isDigit(name[0]))
    name = "model_" + name;
  return name;
}

LogicalResult driver::emitCpp(ModuleOp module, llvm::StringRef dir,
                              llvm::StringRef name, llvm::raw_ostream &summary,
                              const StageEnv &env) {
  TimingScope t = rootTiming(env).nest("emit");
  auto files = buildModelFiles(module, name);
  if (failed(files))
    return failure();
  std::string err = writeModelFiles(*files, dir, name);
  if (!err.empty())
    return fail(module.getContext(), err);
  summary << files->summary;
  return success();
}

LogicalResult driver::emitAccel(ModuleOp module, llvm::StringRef outputFile,
                                AccelEmit kind, llvm::StringRef targetFile,
                                llvm::ArrayRef<std::string> targetSet,
                                const StageEnv &env) {
  TimingScope t = rootTiming(env).nest("accel");
  FailureOr<accel::Program> program =
      buildAccelProgram(module, targetFile, targetSet);
  if (failed(program))
    return failure();
  if (kind == AccelEmit::None)
    return success();
  if (kind == AccelEmit::MLIR)
    return emitMLIR(module, outputFile, /*bytecode=*/false, env);
  std::string error;
  auto out = openOutputFile(outputFile, &error);
  if (!out)
    return fail(module.getContext(), error);
  if (kind == AccelEmit::Assembly) {
    out->os() << accel::printAssembly(*program);
  } else {
    std::vector<uint8_t> bytes = accel::encodeBinary(*program);
    out->os().write(reinterpret_cast<const char *>(bytes.data()),
                    bytes.size());
  }
  if (std::string err = finishOutputFile(*out, outputFile); !err.empty())
    return fail(module.getContext(), err);
  return success();
}
