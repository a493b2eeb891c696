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
// Errors are located diagnostics on stderr and a non-zero exit.
//
//===----------------------------------------------------------------------===//

#include "lowbit/Evaluator/Evaluator.h"
#include "lowbit/Import/ONNX.h"
#include "lowbit/InitAll.h"
#include "lowbit/Support/Npy.h"
#include "lowbit/Target/Cpp.h"
#include "lowbit/Transforms/Passes.h"
#include "lowbit/Quantization/Calibration.h"
#include "LowBit/Transforms/Passes.h"

#include "lowbit/runtime/Requant.h"

#include "mlir/Bytecode/BytecodeWriter.h"
#include "mlir/Dialect/Quant/IR/QuantTypes.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/AsmState.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Support/FileUtilities.h"
#include "mlir/Support/Timing.h"
#include "mlir/Transforms/Passes.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/ToolOutputFile.h"
#include "llvm/Support/raw_ostream.h"

#include <cmath>
#include <limits>
#include <map>

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

enum class EmitKind { MLIR, Bytecode, Cpp, None };
static cl::opt<EmitKind> emit(
    "emit", cl::desc("What to write to -o when not running"),
    cl::values(clEnumValN(EmitKind::MLIR, "mlir",
                          "textual MLIR: func + tosa float IR (default)"),
               clEnumValN(EmitKind::Bytecode, "mlirbc", "MLIR bytecode"),
               clEnumValN(EmitKind::Cpp, "cpp",
                          "integer-only C++ on the lowbit runtime into the "
                          "folder -o: <name>.h, <name>.cpp, <name>_weights.S, "
                          "<name>.weights.bin, <name>_summary.txt"),
               clEnumValN(EmitKind::None, "none",
                          "nothing (import and verify only)")),
    cl::init(EmitKind::MLIR), cl::cat(category));

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

static cl::opt<double> percentile(
    "percentile",
    cl::desc("Percentage of values the percentile estimator keeps "
             "(default 99.99)"),
    cl::init(99.99), cl::cat(category));

static cl::opt<unsigned> activationBits(
    "activation-bits", cl::desc("Bits of quantized activations, 2 to 16"),
    cl::init(8), cl::cat(category));

static cl::opt<unsigned> weightBits(
    "weight-bits", cl::desc("Bits of quantized weights, 2 to 8"),
    cl::init(8), cl::cat(category));

static cl::opt<std::string> weightScheme(
    "weight-scheme",
    cl::desc("Weight quantizer: symmetric (default), asymmetric or pow2 "
             "(power-of-two log codes)"),
    cl::init("symmetric"), cl::cat(category));

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

static cl::opt<bool> floatFallback(
    "float-fallback",
    cl::desc("Let ops with no integer form (a Softmax's exp and sums, "
             "sigmoid, tanh, ...) stay float in the integer model, with a "
             "warning that names them (default true; false makes them "
             "errors)"),
    cl::init(true), cl::cat(category));

static cl::opt<std::string> modelName(
    "model-name",
    cl::desc("Prefix of the generated C symbols and file names for "
             "--emit=cpp (default: the input file's name)"),
    cl::init(""), cl::cat(category));

static cl::opt<bool> noCleanup(
    "no-cleanup",
    cl::desc("Skip the canonicalize + cse clean-up after import (keeps the "
             "transposes around every NHWC op)"),
    cl::init(false), cl::cat(category));

namespace {
/// Splits "NAME=FILE" (NAME may be empty).
std::pair<std::string, std::string> splitBinding(llvm::StringRef arg) {
  auto [name, file] = arg.split('=');
  if (file.empty())
    return {"", arg.str()};
  return {name.str(), file.str()};
}

int fail(const llvm::Twine &msg) {
  llvm::errs() << "lowbitc: error: " << msg << "\n";
  return 1;
}

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

std::string safeName(llvm::StringRef name) {
  std::string s = name.str();
  for (char &c : s)
    if (!llvm::isAlnum(c) && c != '_' && c != '-' && c != '.')
      c = '_';
  return s.empty() ? "output" : s;
}
} // namespace

/// Matches `[NAME=]FILE.npy` specs (positional in argument order, or by
/// ONNX name) to `func`'s arguments, checks dtypes and shapes, and splits a
/// leading dimension that is a multiple of the model's into one input set
/// per run. Prints the error and fails on bad input. Calibration data must
/// be finite (a warning says when it is all zeros).
static FailureOr<std::vector<std::vector<HostTensor>>>
loadInputSets(func::FuncOp func, llvm::ArrayRef<std::string> specs,
              llvm::StringRef flag, bool calibration = false) {
  auto error = [](const llvm::Twine &msg) {
    llvm::errs() << "lowbitc: error: " << msg << "\n";
    return failure();
  };
  size_t numArgs = func.getNumArguments();
  std::vector<std::optional<HostTensor>> args(numArgs);
  auto argName = [&](unsigned i) -> std::string {
    if (auto n = func.getArgAttrOfType<StringAttr>(i, "onnx.name"))
      return n.str();
    return "arg" + std::to_string(i);
  };
  // Only static tensors of the element types .npy files hold can be fed
  // (an MLIR function may have any argument type).
  for (unsigned i = 0; i < numArgs; ++i) {
    BlockArgument arg = func.getArgument(i);
    auto ranked = dyn_cast<RankedTensorType>(arg.getType());
    if (!ranked || !ranked.hasStaticShape())
      return emitError(arg.getLoc())
                 << flag << ": input '" << argName(i) << "' of @"
                 << func.getName() << " has type " << arg.getType()
                 << "; only statically shaped tensors can be given from "
                    ".npy files",
             failure();
    if (!elemKindOf(ranked.getElementType()))
      return emitError(arg.getLoc())
                 << flag << ": input '" << argName(i) << "' of @"
                 << func.getName() << " has type " << arg.getType()
                 << ", whose element type no .npy file gives (float32, "
                    "float64, bool, int8 to int64, uint8 to uint32, and "
                    "quantized types stored in those)",
             failure();
  }
  size_t positional = 0;
  for (const std::string &spec : specs) {
    auto [name, path] = splitBinding(spec);
    unsigned index = 0;
    if (name.empty()) {
      index = positional++;
      if (index >= numArgs)
        return error("more " + flag + " inputs than the " +
                     llvm::Twine(numArgs) + " graph inputs");
    } else {
      bool found = false;
      for (unsigned i = 0; i < numArgs; ++i)
        if (argName(i) == name) {
          index = i;
          found = true;
        }
      if (!found) {
        std::string names;
        for (unsigned i = 0; i < numArgs; ++i)
          names += (i ? ", " : "") + argName(i);
        return error(flag + " names input '" + name +
                     "', which the model does not have (inputs: " + names +
                     ")");
      }
    }
    if (args[index])
      return error("input '" + argName(index) + "' is given twice");
    auto tensor = readNpy(path);
    if (!tensor)
      return error(llvm::toString(tensor.takeError()));
    if (calibration && isFloatKind(tensor->kind())) {
      // A NaN or an infinity would become a range end (an infinite or NaN
      // scale); data that is all zeros gives every input range [0, 0].
      bool allZero = true;
      for (int64_t e = 0, n = tensor->numElements(); e < n; ++e) {
        double v = tensor->getDouble(e);
        if (!std::isfinite(v)) {
          SmallVector<int64_t> index(tensor->rank());
          for (int64_t d = tensor->rank() - 1, rem = e; d >= 0; --d) {
            index[d] = rem % tensor->shape()[d];
            rem /= tensor->shape()[d];
          }
          return error(path + ": element " + llvm::Twine(e) + " (index " +
                       shapeToString(index) + ") is " +
                       (std::isnan(v) ? "NaN"
                        : v > 0       ? "+Inf"
                                      : "-Inf") +
                       "; calibration data must be finite");
        }
        allZero &= v == 0.0;
      }
      if (allZero && tensor->numElements() > 0)
        llvm::errs() << "lowbitc: warning: " << path
                     << ": the calibration data for input '" << argName(index)
                     << "' is all zeros: its range is [0, 0] and its "
                        "quantization scale falls back to 1\n";
    }
    args[index] = std::move(*tensor);
  }
  int64_t iterations = 1;
  bool first = true;
  for (unsigned i = 0; i < numArgs; ++i) {
    if (!args[i])
      return error("missing " + flag + " input for '" + argName(i) + "'");
    auto type = cast<RankedTensorType>(func.getArgument(i).getType());
    auto kind = elemKindOf(type.getElementType());
    auto q = dyn_cast<quant::UniformQuantizedType>(type.getElementType());
    if (q && args[i]->kind() == ElemKind::F32 && kind) {
      // A quantized input fed floats: quantize them as the generated
      // code's float API does (the runtime's rule).
      HostTensor stored(*kind, args[i]->shape());
      const float *src = args[i]->data<float>();
      for (int64_t e = 0, n = stored.numElements(); e < n; ++e)
        stored.setInt(e, rt::quantizeValue(
                             src[e], static_cast<float>(q.getScale()),
                             static_cast<int32_t>(q.getZeroPoint()),
                             static_cast<int32_t>(q.getStorageTypeMin()),
                             static_cast<int32_t>(q.getStorageTypeMax())));
      args[i] = std::move(stored);
    }
    if (args[i]->kind() != *kind)
      return error("input '" + argName(i) + "' is a " +
                   numpyName(args[i]->kind()) + " array; the model expects " +
                   numpyName(*kind) + " (convert it with numpy's astype)");
    ArrayRef<int64_t> want = type.getShape(), got = args[i]->shape();
    int64_t n = 1;
    if (got != want) {
      bool batched = !want.empty() && got.size() == want.size() &&
                     want[0] > 0 && got[0] % want[0] == 0 &&
                     got.drop_front() == want.drop_front();
      if (!batched)
        return error("input '" + argName(i) + "' has shape " +
                     shapeToString(got) + "; the model expects " +
                     shapeToString(want) +
                     " (or a multiple of its leading dimension)");
      n = got[0] / want[0];
    }
    if (!first && n != iterations)
      return error("inputs disagree on the number of samples");
    iterations = n;
    first = false;
  }
  std::vector<std::vector<HostTensor>> sets(iterations);
  for (int64_t it = 0; it < iterations; ++it)
    for (unsigned i = 0; i < numArgs; ++i) {
      auto type = cast<RankedTensorType>(func.getArgument(i).getType());
      if (args[i]->shape() == type.getShape()) {
        sets[it].push_back(*args[i]);
        continue;
      }
      HostTensor slice(args[i]->kind(), type.getShape());
      std::memcpy(slice.raw(),
                  static_cast<const char *>(args[i]->raw()) +
                      it * slice.byteSize(),
                  slice.byteSize());
      sets[it].push_back(std::move(slice));
    }
  return sets;
}

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  mlir::registerAsmPrinterCLOptions();
  mlir::registerMLIRContextCLOptions();
  mlir::registerPassManagerCLOptions();
  mlir::registerDefaultTimingManagerCLOptions();
  ::lowbit::registerAllPasses();
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
  // Diagnostics print as "file:line:col: error: message" (for ONNX models
  // the line is the node's 1-based position in the graph, the message names
  // the node). An ONNX file has no text lines to quote, so no source manager
  // here; parsing .mlir installs one of its own.
  context.getDiagEngine().registerHandler([](Diagnostic &diag) {
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
    case DiagnosticSeverity::Error: os << "error: "; break;
    case DiagnosticSeverity::Warning: os << "warning: "; break;
    case DiagnosticSeverity::Note: os << "note: "; break;
    case DiagnosticSeverity::Remark: os << "remark: "; break;
    }
    os << diag << "\n";
    for (Diagnostic &note : diag.getNotes())
      os << "  note: " << note << "\n";
    return success();
  });

  DefaultTimingManager tm;
  applyDefaultTimingManagerCLOptions(tm);
  TimingScope timing = tm.getRootScope();

  // --- load -------------------------------------------------------------
  OwningOpRef<ModuleOp> module;
  bool isMLIR = llvm::StringRef(inputFile).ends_with(".mlir") ||
                llvm::StringRef(inputFile).ends_with(".mlirbc");
  if (isMLIR) {
    if (!bindInputs.empty())
      return fail("--bind-input applies to ONNX models only");
    if (!inputShapes.empty())
      return fail("--input-shape applies to ONNX models only (an MLIR "
                  "function's argument types are its shapes)");
    TimingScope t = timing.nest("parse");
    llvm::SourceMgr sourceMgr;
    std::string error;
    auto file = openInputFile(inputFile, &error);
    if (!file)
      return fail(error);
    sourceMgr.AddNewSourceBuffer(std::move(file), llvm::SMLoc());
    SourceMgrDiagnosticHandler handler(sourceMgr, &context);
    module = parseSourceFile<ModuleOp>(sourceMgr, &context);
    if (!module)
      return 1;
  } else {
    ONNXImportOptions options;
    for (const std::string &spec : inputShapes) {
      std::string err = parseInputShape(spec, options.inputShapes);
      if (!err.empty())
        return fail(err);
    }
    for (const std::string &b : bindInputs) {
      auto [name, path] = splitBinding(b);
      if (name.empty())
        return fail("--bind-input expects NAME=FILE.npy, got '" + b + "'");
      auto tensor = readNpy(path);
      if (!tensor)
        return fail(llvm::toString(tensor.takeError()));
      options.boundInputs[name] = std::move(*tensor);
    }
    TimingScope t = timing.nest("import");
    module = importONNXFile(inputFile, context, options);
    if (!module)
      return 1;
  }

  // --- passes -----------------------------------------------------------
  // Clean-up after import: fold constants (weights are already laid out by
  // the importer), sink the NCHW<->NHWC transposes through elementwise ops
  // and cancel the pairs that meet.
  PassManager pm(&context, ModuleOp::getOperationName());
  if (failed(applyPassManagerCLOptions(pm)))
    return fail("invalid pass manager options");
  pm.enableTiming(timing);
  if (!noCleanup && !isMLIR) {
    pm.addPass(createCanonicalizerPass());
    pm.addPass(::lowbit::createLowBitSinkTransposes());
    pm.addPass(createCanonicalizerPass());
    pm.addPass(createCSEPass());
  }
  if (failed(pm.run(*module)))
    return 1;
  if (!passPipeline.empty()) {
    std::string error;
    llvm::raw_string_ostream os(error);
    auto parsed = parsePassPipeline(passPipeline, os);
    if (failed(parsed))
      return fail("invalid --pass-pipeline: " + os.str());
    if (parsed->getOpAnchorName() != ModuleOp::getOperationName())
      return fail("--pass-pipeline must be anchored on builtin.module, e.g. "
                  "'builtin.module(canonicalize)'");
    PassManager user(&context, ModuleOp::getOperationName());
    static_cast<OpPassManager &>(user) = *parsed;
    if (failed(applyPassManagerCLOptions(user)))
      return fail("invalid pass manager options");
    user.enableTiming(timing);
    if (failed(user.run(*module)))
      return 1;
  }

  // --- calibrate and quantize -------------------------------------------
  if (!calibrationInputs.empty()) {
    if (!(percentile > 0.0 && percentile <= 100.0))
      return fail("--percentile must be in (0, 100], got " +
                  std::to_string(percentile.getValue()));
    if (activationBits < 2 || activationBits > 16)
      return fail("--activation-bits must be in [2, 16], got " +
                  llvm::Twine(activationBits.getValue()));
    if (weightBits < 2 || weightBits > 8)
      return fail("--weight-bits must be in [2, 8], got " +
                  llvm::Twine(weightBits.getValue()));
    if (weightScheme != "symmetric" && weightScheme != "asymmetric" &&
        weightScheme != "pow2")
      return fail("unknown --weight-scheme '" + weightScheme +
                  "' (symmetric, asymmetric or pow2)");
    if (weightRounding != "correlated" && weightRounding != "nearest")
      return fail("unknown --weight-rounding '" + weightRounding +
                  "' (correlated or nearest)");
    if (logScale != "mse" && logScale != "max")
      return fail("unknown --log-scale '" + logScale + "' (mse or max)");
    func::FuncOp target;
    for (auto f : module->getOps<func::FuncOp>())
      if (!f.isExternal()) {
        target = f;
        break;
      }
    if (!target)
      return fail("no function to calibrate in " + inputFile);
    {
      // Input normalization inside the graph becomes a depthwise layer the
      // integer target can run (before calibration, which records its
      // output range).
      PassManager npm(&context, ModuleOp::getOperationName());
      if (failed(applyPassManagerCLOptions(npm)))
        return fail("invalid pass manager options");
      npm.enableTiming(timing);
      npm.addNestedPass<func::FuncOp>(
          ::lowbit::createLowBitInputAffineToDepthwise());
      npm.addPass(createCanonicalizerPass());
      npm.addPass(createCSEPass());
      if (failed(npm.run(*module)))
        return 1;
    }
    auto samples = loadInputSets(target, calibrationInputs, "--calibration",
                                 /*calibration=*/true);
    if (failed(samples))
      return 1;
    if (samples->empty())
      return fail("the calibration set is empty (leading dimension 0)");
    TimingScope t = timing.nest("calibrate");
    CalibrationOptions options;
    options.estimator = rangeEstimator;
    options.percentile = percentile;
    options.bits = activationBits;
    options.progress = true;
    if (failed(calibrate(target, *samples, options)))
      return 1;
    t.stop();
    PassManager qpm(&context, ModuleOp::getOperationName());
    if (failed(applyPassManagerCLOptions(qpm)))
      return fail("invalid pass manager options");
    qpm.enableTiming(timing);
    mlir::lowbit::LowBitInsertQDQOptions qdq;
    qdq.activationBits = activationBits;
    qdq.weightBits = weightBits;
    qdq.weightScheme = weightScheme;
    qdq.perChannel = !perTensorWeights;
    qdq.weightRounding = weightRounding;
    qdq.logScale = logScale;
    qpm.addNestedPass<func::FuncOp>(mlir::lowbit::createLowBitInsertQDQ(qdq));
    if (failed(qpm.run(*module)))
      return 1;
  }

  // --- lower to integer ops --------------------------------------------
  if (emit == EmitKind::Cpp && (!runInputs.empty() || evaluate))
    return fail("--emit=cpp writes C++ to compile; drop --emit=cpp to --run "
                "the model in the evaluator");
  if (emit == EmitKind::Cpp && compileTo == CompileTo::QDQ)
    return fail("--emit=cpp needs integer ops; it cannot be combined with "
                "--compile-to=qdq");
  bool lower = compileTo == CompileTo::Integer ||
               (compileTo == CompileTo::Auto &&
                (!calibrationInputs.empty() || emit == EmitKind::Cpp));
  if (lower) {
    TimingScope t = timing.nest("lower");
    PassManager lpm(&context, ModuleOp::getOperationName());
    if (failed(applyPassManagerCLOptions(lpm)))
      return fail("invalid pass manager options");
    lpm.enableTiming(t);
    mlir::lowbit::ConvertTosaToLowBitOptions lowerOptions;
    lowerOptions.floatFallback = floatFallback;
    lpm.addNestedPass<func::FuncOp>(
        mlir::lowbit::createConvertTosaToLowBit(lowerOptions));
    lpm.addPass(createCanonicalizerPass());
    lpm.addPass(createCSEPass());
    if (failed(lpm.run(*module)))
      return 1;
  }

  // --- emit -------------------------------------------------------------
  if (runInputs.empty() && !evaluate) {
    if (emit == EmitKind::None)
      return 0;
    TimingScope t = timing.nest("emit");
    if (emit == EmitKind::Cpp) {
      if (outputFile == "-")
        return fail("--emit=cpp needs -o FOLDER for the model's files");
      std::string name = modelName;
      if (name.empty()) {
        name = llvm::sys::path::stem(inputFile).str();
        for (char &c : name)
          if (!llvm::isAlnum(c))
            c = '_';
        if (name.empty() || llvm::isDigit(name[0]))
          name = "model_" + name;
      }
      auto files = buildModelFiles(*module, name);
      if (failed(files))
        return 1;
      std::string err = writeModelFiles(*files, outputFile, name);
      if (!err.empty())
        return fail(err);
      llvm::errs() << files->summary;
      return 0;
    }
    std::string error;
    auto out = openOutputFile(outputFile, &error);
    if (!out)
      return fail(error);
    if (emit == EmitKind::Bytecode) {
      if (failed(writeBytecodeToFile(*module, out->os())))
        return fail("cannot write bytecode");
    } else {
      module->print(out->os());
      out->os() << "\n";
    }
    out->keep();
    return 0;
  }

  // --- run --------------------------------------------------------------
  func::FuncOp func;
  for (auto f : module->getOps<func::FuncOp>())
    if (!f.isExternal()) {
      func = f;
      break;
    }
  if (!func)
    return fail("no function to run in " + inputFile);
  auto evaluator = Evaluator::create(func);
  if (failed(evaluator))
    return 1;

  auto inputSets = loadInputSets(func, runInputs, "--run");
  if (failed(inputSets))
    return 1;
  if (inputSets->empty())
    return fail("--run inputs hold no samples (leading dimension 0)");

  TimingScope runTiming = timing.nest("evaluate");
  std::vector<std::vector<HostTensor>> chunks;
  for (const std::vector<HostTensor> &inputs : *inputSets) {
    auto outputs = (*evaluator)->run(inputs);
    if (failed(outputs))
      return 1;
    chunks.push_back(std::move(*outputs));
  }
  runTiming.stop();

  // Results the lowering made quantized are written as floats (dequantized
  // with the runtime's rule, as the generated code's float API does); IR
  // given as quantized keeps its stored integers.
  for (std::vector<HostTensor> &outs : chunks)
    for (size_t o = 0; o < outs.size() && lower; ++o) {
      auto q = dyn_cast<quant::UniformQuantizedType>(
          cast<RankedTensorType>(func.getResultTypes()[o]).getElementType());
      if (!q)
        continue;
      HostTensor f(ElemKind::F32, outs[o].shape());
      for (int64_t e = 0, n = f.numElements(); e < n; ++e)
        f.data<float>()[e] = static_cast<float>(rt::dequantizeValue(
            static_cast<int32_t>(outs[o].getInt(e)), q.getScale(),
            static_cast<int32_t>(q.getZeroPoint())));
      outs[o] = std::move(f);
    }

  // Stack chunks along the leading dimension.
  size_t numOutputs = chunks.front().size();
  std::vector<HostTensor> results;
  for (size_t o = 0; o < numOutputs; ++o) {
    const HostTensor &first = chunks.front()[o];
    if (chunks.size() == 1) {
      results.push_back(first);
      continue;
    }
    SmallVector<int64_t> shape(first.shape());
    if (shape.empty())
      shape.push_back(1);
    shape[0] *= chunks.size();
    HostTensor stacked(first.kind(), shape);
    for (size_t c = 0; c < chunks.size(); ++c)
      std::memcpy(static_cast<char *>(stacked.raw()) + c * first.byteSize(),
                  chunks[c][o].raw(), first.byteSize());
    results.push_back(std::move(stacked));
  }

  if (outputFile == "-")
    return fail("--run needs -o (an .npy file, or a folder for several "
                "outputs)");
  if (numOutputs == 1) {
    if (auto err = writeNpy(outputFile, results[0]))
      return fail(llvm::toString(std::move(err)));
    return 0;
  }
  if (auto ec = llvm::sys::fs::create_directories(outputFile))
    return fail("cannot create output folder '" + outputFile +
                "': " + ec.message());
  for (size_t o = 0; o < numOutputs; ++o) {
    std::string name = "output" + std::to_string(o);
    if (auto n = func.getResultAttrOfType<StringAttr>(o, "onnx.name"))
      name = n.str();
    llvm::SmallString<256> path(outputFile);
    llvm::sys::path::append(path, safeName(name) + ".npy");
    if (auto err = writeNpy(path, results[o]))
      return fail(llvm::toString(std::move(err)));
  }
  return 0;
}
