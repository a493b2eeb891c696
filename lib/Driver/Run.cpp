//===- Run.cpp - Inputs from .npy files and the evaluator stage -----------===//
//
// Part of the lowbit project.
//
//===----------------------------------------------------------------------===//

#include "lowbit/Driver/Driver.h"

#include "Common.h"

#include "lowbit/Evaluator/Evaluator.h"
#include "lowbit/Support/Npy.h"

#include "lowbit/runtime/Requant.h"

#include "mlir/Dialect/Quant/IR/QuantTypes.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"

#include <cmath>
#include <cstring>
#include <optional>

using namespace mlir;
using namespace ::lowbit;
using namespace ::lowbit::driver;

namespace {
/// A file name from an output's name.
std::string safeName(llvm::StringRef name) {
  std::string s = name.str();
  for (char &c : s)
    if (!llvm::isAlnum(c) && c != '_' && c != '-' && c != '.')
      c = '_';
  return s.empty() ? "output" : s;
}
} // namespace

void driver::quantizeFloats(const float *src, quant::UniformQuantizedType q,
                            HostTensor &stored) {
  for (int64_t e = 0, n = stored.numElements(); e < n; ++e)
    stored.setInt(e,
                  rt::quantizeValue(src[e], static_cast<float>(q.getScale()),
                                    static_cast<int32_t>(q.getZeroPoint()),
                                    static_cast<int32_t>(q.getStorageTypeMin()),
                                    static_cast<int32_t>(q.getStorageTypeMax())));
}

void driver::dequantizeInts(const HostTensor &stored,
                            quant::UniformQuantizedType q, float *dst) {
  for (int64_t e = 0, n = stored.numElements(); e < n; ++e)
    dst[e] = static_cast<float>(
        rt::dequantizeValue(static_cast<int32_t>(stored.getInt(e)),
                            q.getScale(), static_cast<int32_t>(q.getZeroPoint())));
}

FailureOr<std::vector<std::vector<HostTensor>>>
driver::loadInputSets(func::FuncOp func, llvm::ArrayRef<std::string> specs,
                      llvm::StringRef flag, bool calibration) {
  MLIRContext *ctx = func.getContext();
  auto error = [ctx](const llvm::Twine &msg) { return fail(ctx, msg); };
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
        emitWarning(UnknownLoc::get(ctx),
                    path + ": the calibration data for input '" +
                        argName(index) +
                        "' is all zeros: its range is [0, 0] and its "
                        "quantization scale falls back to 1");
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
      quantizeFloats(args[i]->data<float>(), q, stored);
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

LogicalResult driver::runEvaluator(ModuleOp module, const RunOptions &options,
                                   const StageEnv &env) {
  MLIRContext *ctx = module.getContext();
  func::FuncOp func = firstDefinedFunction(module);
  if (!func)
    return fail(ctx, "no function to run in " + env.inputName);
  auto evaluator = Evaluator::create(func);
  if (failed(evaluator))
    return failure();

  auto inputSets = loadInputSets(func, options.inputs, "--run");
  if (failed(inputSets))
    return failure();
  if (inputSets->empty())
    return fail(ctx, "--run inputs hold no samples (leading dimension 0)");

  TimingScope runTiming = rootTiming(env).nest("evaluate");
  std::vector<std::vector<HostTensor>> chunks;
  for (const std::vector<HostTensor> &inputs : *inputSets) {
    auto outputs = (*evaluator)->run(inputs);
    if (failed(outputs))
      return failure();
    chunks.push_back(std::move(*outputs));
  }
  runTiming.stop();

  // Results the lowering made quantized are written as floats (dequantized
  // with the runtime's rule, as the generated code's float API does); IR
  // given as quantized keeps its stored integers.
  for (std::vector<HostTensor> &outs : chunks)
    for (size_t o = 0; o < outs.size() && options.dequantizeResults; ++o) {
      auto q = dyn_cast<quant::UniformQuantizedType>(
          cast<RankedTensorType>(func.getResultTypes()[o]).getElementType());
      if (!q)
        continue;
      HostTensor f(ElemKind::F32, outs[o].shape());
      dequantizeInts(outs[o], q, f.data<float>());
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

  const std::string &outputFile = options.outputFile;
  if (outputFile == "-")
    return fail(ctx, "--run needs -o (an .npy file, or a folder for several "
                     "outputs)");
  if (numOutputs == 1) {
    if (auto err = writeNpy(outputFile, results[0]))
      return fail(ctx, llvm::toString(std::move(err)));
    return success();
  }
  if (auto ec = llvm::sys::fs::create_directories(outputFile))
    return fail(ctx, "cannot create output folder '" + outputFile +
                         "': " + ec.message());
  for (size_t o = 0; o < numOutputs; ++o) {
    std::string name = "output" + std::to_string(o);
    if (auto n = func.getResultAttrOfType<StringAttr>(o, "onnx.name"))
      name = n.str();
    llvm::SmallString<256> path(outputFile);
    llvm::sys::path::append(path, safeName(name) + ".npy");
    if (auto err = writeNpy(path, results[o]))
      return fail(ctx, llvm::toString(std::move(err)));
  }
  return success();
}
