//===- BitDepth.cpp - lowbitc --input-bit-depth ---------------------------===//
//
// Part of the lowbit project.
//
//===----------------------------------------------------------------------===//
//
// Adaptive bit depth control (lowbit/runtime/BitDepth.h) in the driver: the
// model check, the calibration blocks, the input range, and --run through
// the runtime's block loop with the evaluator as the block function.
//
//===----------------------------------------------------------------------===//

#include "Common.h"

#include "lowbit/Conversion/Passes.h"
#include "lowbit/Evaluator/Evaluator.h"
#include "lowbit/Quantization/Calibration.h"
#include "lowbit/Support/Npy.h"
#include "lowbit/runtime/BitDepth.h"

#include "mlir/Dialect/Quant/IR/QuantTypes.h"
#include "mlir/Dialect/Tosa/IR/TosaOps.h"
#include "mlir/IR/Builders.h"
#include "llvm/Support/FileSystem.h"

#include <cmath>
#include <vector>

using namespace mlir;
using namespace ::lowbit;
using namespace ::lowbit::driver;

namespace {

/// N-bit images from an .npy file: integers, [H, W], [C, H, W] or
/// [S, C, H, W]; as uint16 [S, C, H, W], and the file's rank.
FailureOr<std::pair<HostTensor, int64_t>> readImages(MLIRContext *ctx, StringRef path,
                                 StringRef flag, int64_t channels,
                                 int32_t bits) {
  auto read = readNpy(path);
  if (!read)
    return fail(ctx, flag + ": " + llvm::toString(read.takeError()));
  HostTensor &t = *read;
  if (t.kind() == ElemKind::F32 || t.kind() == ElemKind::F64 ||
      t.kind() == ElemKind::I1)
    return fail(ctx, flag + " " + path + ": with --input-bit-depth the data "
                                         "are integer images (uint16), not " +
                         numpyName(t.kind()));
  SmallVector<int64_t> shape(t.shape());
  if (shape.size() == 2)
    shape.insert(shape.begin(), 1);
  if (shape.size() == 3)
    shape.insert(shape.begin(), 1);
  if (shape.size() != 4 || shape[1] != channels || shape[2] < 1 ||
      shape[3] < 1 || shape[0] < 1)
    return fail(ctx, flag + " " + path + ": images of shape " +
                         shapeToString(t.shape()) + "; the model takes " +
                         std::to_string(channels) +
                         "-channel images: [H, W] (one channel), [C, H, W] "
                         "or [S, C, H, W]");
  HostTensor images(ElemKind::U16, shape);
  const int64_t top = (int64_t(1) << bits) - 1;
  for (int64_t i = 0, n = t.numElements(); i < n; ++i) {
    int64_t v = t.getInt(i);
    if (v < 0 || v > top)
      return fail(ctx, flag + " " + path + ": element " + std::to_string(i) +
                           " is " + std::to_string(v) + ", outside [0, " +
                           std::to_string(top) + "] of --input-bit-depth=" +
                           std::to_string(bits));
    images.data<uint16_t>()[i] = static_cast<uint16_t>(v);
  }
  return std::make_pair(std::move(images), t.rank());
}

} // namespace

rt::BitDepthConfig BitDepthOptions::config() const {
  rt::BitDepthConfig c{};
  c.inputBits = inputBits;
  c.networkBits = mode == "none" ? inputBits : bits;
  c.block = block;
  c.channels = static_cast<int32_t>(channels);
  c.outChannels = static_cast<int32_t>(outChannels);
  c.mode = mode == "adaptive"   ? rt::BitDepthMode::Adaptive
           : mode == "truncate" ? rt::BitDepthMode::Truncate
                                : rt::BitDepthMode::None;
  c.dither = dither ? 1 : 0;
  c.seed = seed;
  return c;
}

LogicalResult driver::checkBitDepthModel(ModuleOp module,
                                         BitDepthOptions &options) {
  MLIRContext *ctx = module.getContext();
  if (options.inputBits < 1 || options.inputBits > 16)
    return fail(ctx, "--input-bit-depth must be in [1, 16], got " +
                         std::to_string(options.inputBits));
  if (options.mode != "adaptive" && options.mode != "truncate" &&
      options.mode != "none")
    return fail(ctx, "unknown --abc '" + options.mode +
                         "' (adaptive, truncate or none)");
  if (options.mode != "none" &&
      (options.bits < 1 || options.bits > options.inputBits))
    return fail(ctx, "--abc-bits must be in [1, --input-bit-depth=" +
                         std::to_string(options.inputBits) + "], got " +
                         std::to_string(options.bits));
  if (options.block < 1 || options.block > 4096)
    return fail(ctx, "--abc-block must be in [1, 4096], got " +
                         std::to_string(options.block));
  func::FuncOp func = firstDefinedFunction(module);
  if (!func || func.getNumArguments() != 1 || func.getNumResults() != 1)
    return fail(ctx, "--input-bit-depth: the model must have one input and "
                     "one output (an image in, an image out)");
  auto in = dyn_cast<RankedTensorType>(func.getArgumentTypes()[0]);
  auto out = dyn_cast<RankedTensorType>(func.getResultTypes()[0]);
  const int64_t b = options.block;
  auto isBlock = [&](RankedTensorType t) {
    return t && t.hasStaticShape() && t.getRank() == 4 &&
           t.getDimSize(0) == 1 && t.getDimSize(2) == b &&
           t.getDimSize(3) == b && t.getElementType().isF32();
  };
  if (!isBlock(in) || !isBlock(out))
    return fail(ctx, "--input-bit-depth with --abc-block=" +
                         std::to_string(b) + ": the model must take and give "
                         "float [1, C, " +
                         std::to_string(b) + ", " + std::to_string(b) +
                         "] blocks; it takes " +
                         (in ? shapeToString(in.getShape()) : "?") + " and gives " +
                         (out ? shapeToString(out.getShape()) : "?") +
                         " (set the input's shape with --input-shape)");
  options.channels = in.getDimSize(1);
  options.outChannels = out.getDimSize(1);
  return success();
}

FailureOr<std::string>
driver::writeBitDepthCalibration(ModuleOp module,
                                 ArrayRef<std::string> samples,
                                 const BitDepthOptions &options) {
  MLIRContext *ctx = module.getContext();
  if (samples.size() != 1)
    return fail(ctx, "--input-bit-depth: give the calibration images as one "
                     ".npy file");
  auto [name, path] = splitBinding(samples.front());
  auto read = readImages(ctx, path, "--calibration", options.channels,
                         options.inputBits);
  if (failed(read))
    return failure();
  HostTensor *images = &read->first;
  const rt::BitDepthConfig c = options.config();
  ArrayRef<int64_t> s = images->shape();
  const int64_t b = options.block, h = s[2], w = s[3];
  const int64_t per = ((h + b - 1) / b) * ((w + b - 1) / b);
  const int64_t count = s[0] * per;
  if (count > (int64_t(1) << 24))
    return fail(ctx, "--calibration: " + std::to_string(count) +
                         " blocks; at most 2^24 are calibrated on");
  const SmallVector<int64_t> blockShape{count, options.channels, b, b};
  if (std::string why = tensorSizeError(ElemKind::F32, blockShape);
      !why.empty())
    return fail(ctx, "--calibration: the images' " + std::to_string(count) +
                         " blocks: " + why);
  HostTensor blocks(ElemKind::F32, blockShape);
  float *dst = blocks.data<float>();
  const int64_t blockSize = options.channels * b * b;
  // The runtime's block loop with a block function that records the
  // network's inputs (and gives zeros back).
  std::vector<float> scratch(static_cast<size_t>(
      (options.channels + options.outChannels) * b * b));
  std::vector<uint16_t> sink(static_cast<size_t>(options.outChannels * h * w));
  int64_t next = 0;
  for (int64_t i = 0; i < s[0]; ++i) {
    const uint16_t *image =
        images->data<uint16_t>() + i * options.channels * h * w;
    int32_t rc = rt::runBitDepthBlocks(
        image, h, w, sink.data(), c, scratch.data(),
        [&](const float *in, float *out) {
          std::copy(in, in + blockSize, dst + next * blockSize);
          std::fill(out, out + options.outChannels * b * b, 0.0f);
          ++next;
          return 0;
        });
    if (rc != rt::kBitDepthOk)
      return fail(ctx, "--calibration: the block loop failed (code " +
                           std::to_string(rc) + ")");
  }
  llvm::SmallString<128> tmp;
  if (auto ec = llvm::sys::fs::createTemporaryFile("lowbit-abc-calib", "npy",
                                                   tmp))
    return fail(ctx, "--calibration: cannot create a temporary file: " +
                         ec.message());
  if (auto err = writeNpy(tmp, blocks))
    return fail(ctx, "--calibration: " + llvm::toString(std::move(err)));
  return std::string(tmp.str());
}

void driver::pinBitDepthInputRange(ModuleOp module,
                                   const BitDepthOptions &options,
                                   unsigned activationBits) {
  func::FuncOp func = firstDefinedFunction(module);
  Builder b(module.getContext());
  // [0, 1] is the network's K-bit integers over 2^K - 1. With A >= K
  // activation bits, the range [0, (2^A - 1) / ((2^K - 1) 2^(A - K))] makes
  // the input's step 1 / ((2^K - 1) 2^(A - K)): every K-bit integer is a
  // code (x_K 2^(A - K)), none rounds.
  const int32_t k = options.config().networkBits;
  double hi = 1.0;
  if (static_cast<int32_t>(activationBits) >= k)
    hi = (std::ldexp(1.0, activationBits) - 1.0) /
         ((std::ldexp(1.0, k) - 1.0) * std::ldexp(1.0, activationBits - k));
  auto range = b.getDenseF64ArrayAttr({0.0, hi});
  func.setArgAttr(0, kRangeAttrName, range);
  // And the values that only move the input (the importer's NCHW -> NHWC
  // reshape or transpose), which carry their own recorded range.
  SmallVector<Value> work{func.getArgument(0)};
  while (!work.empty()) {
    Value v = work.pop_back_val();
    for (Operation *user : v.getUsers())
      if (isa<tosa::ReshapeOp, tosa::TransposeOp>(user)) {
        user->setAttr(kRangeAttrName, range);
        work.push_back(user->getResult(0));
      }
  }
}

void driver::attachBitDepth(ModuleOp module, const BitDepthOptions &options) {
  func::FuncOp func = firstDefinedFunction(module);
  Builder b(module.getContext());
  const rt::BitDepthConfig c = options.config();
  func->setAttr(
      kBitDepthAttrName,
      b.getDictionaryAttr({
          b.getNamedAttr("input_bits", b.getI32IntegerAttr(c.inputBits)),
          b.getNamedAttr("network_bits", b.getI32IntegerAttr(c.networkBits)),
          b.getNamedAttr("block", b.getI32IntegerAttr(c.block)),
          b.getNamedAttr("mode", b.getStringAttr(options.mode)),
          b.getNamedAttr("dither", b.getBoolAttr(options.dither)),
          b.getNamedAttr("seed", b.getI64IntegerAttr(c.seed)),
      }));
}

LogicalResult driver::runBitDepth(ModuleOp module, const RunOptions &run,
                                  const BitDepthOptions &options,
                                  const StageEnv &env) {
  MLIRContext *ctx = module.getContext();
  func::FuncOp func = firstDefinedFunction(module);
  if (run.inputs.size() != 1)
    return fail(ctx, "--input-bit-depth: --run takes one .npy file of "
                     "images");
  auto [name, path] = splitBinding(run.inputs.front());
  auto read =
      readImages(ctx, path, "--run", options.channels, options.inputBits);
  if (failed(read))
    return failure();
  HostTensor *images = &read->first;
  const int64_t fileRank = read->second;
  auto ev = Evaluator::create(func);
  if (failed(ev))
    return failure();
  auto inType = cast<RankedTensorType>(func.getArgumentTypes()[0]);
  auto outType = cast<RankedTensorType>(func.getResultTypes()[0]);
  auto inKind = elemKindOf(inType.getElementType());
  if (!inKind)
    return fail(ctx, "--input-bit-depth: unsupported input element type");
  auto qin = dyn_cast<quant::UniformQuantizedType>(inType.getElementType());
  auto qout = dyn_cast<quant::UniformQuantizedType>(outType.getElementType());

  const rt::BitDepthConfig c = options.config();
  ArrayRef<int64_t> s = images->shape();
  const int64_t h = s[2], w = s[3], b = options.block;
  const SmallVector<int64_t> resultShape{s[0], options.outChannels, h, w};
  if (std::string why = tensorSizeError(ElemKind::U16, resultShape);
      !why.empty())
    return fail(ctx, "--run: the output images: " + why);
  HostTensor result(ElemKind::U16, resultShape);
  std::vector<float> scratch(static_cast<size_t>(
      (options.channels + options.outChannels) * b * b));
  bool evalFailed = false;
  // The network's float API, as the generated <name>_run_float: quantize
  // the input with the runtime's rule, run, dequantize the output.
  auto block = [&](const float *in, float *out) -> int32_t {
    HostTensor arg(*inKind, inType.getShape());
    if (qin)
      quantizeFloats(in, qin, arg);
    else
      std::copy(in, in + arg.numElements(), arg.data<float>());
    auto outs = (*ev)->run({arg});
    if (failed(outs)) {
      evalFailed = true;
      return 1;
    }
    const HostTensor &o = outs->front();
    if (qout)
      dequantizeInts(o, qout, out);
    else
      for (int64_t e = 0, n = o.numElements(); e < n; ++e)
        out[e] = static_cast<float>(o.getDouble(e));
    return 0;
  };
  for (int64_t i = 0; i < s[0]; ++i) {
    int32_t rc = rt::runBitDepthBlocks(
        images->data<uint16_t>() + i * options.channels * h * w, h, w,
        result.data<uint16_t>() + i * options.outChannels * h * w, c,
        scratch.data(), block);
    if (evalFailed)
      return failure();
    if (rc != rt::kBitDepthOk)
      return fail(ctx, "--input-bit-depth: the block loop failed (code " +
                           std::to_string(rc) + ")");
  }
  // The layout the images came in: [H, W], [C, H, W] or [S, C, H, W].
  SmallVector<int64_t> shape(result.shape());
  if (fileRank < 4) {
    shape.erase(shape.begin());
    if (fileRank == 2 && options.outChannels == 1)
      shape.erase(shape.begin());
  }
  HostTensor written(ElemKind::U16, shape);
  std::copy(result.data<uint16_t>(),
            result.data<uint16_t>() + result.numElements(),
            written.data<uint16_t>());
  if (auto err = writeNpy(run.outputFile, written))
    return fail(ctx, "-o: " + llvm::toString(std::move(err)));
  (void)env;
  return success();
}
