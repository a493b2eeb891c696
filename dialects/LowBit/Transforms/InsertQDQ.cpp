//===- InsertQDQ.cpp - Quantize a calibrated float graph ------------------===//
//
// Part of the lowbit project.
//
//===----------------------------------------------------------------------===//

#include "LowBit/IR/LowBitOps.h"
#include "LowBit/Transforms/Bitwidth.h"
#include "LowBit/Transforms/CorrelatedRounding.h"
#include "LowBit/Transforms/FloatFallback.h"
#include "LowBit/Transforms/LogWeights.h"
#include "LowBit/Transforms/Passes.h"
#include "LowBit/Utils/RangeQuantization.h"

#include "lowbit/runtime/LogQuant.h"
#include "lowbit/runtime/Requant.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Tosa/IR/TosaOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/Threading.h"
#include "llvm/ADT/SetVector.h"
#include "llvm/ADT/SmallPtrSet.h"

#include <array>
#include <cassert>
#include <limits>
#include <memory>
#include <cmath>
#include <numeric>
#include <optional>
#include <vector>

namespace mlir {
namespace lowbit {
#define GEN_PASS_DEF_LOWBITINSERTQDQ
#include "LowBit/Transforms/Passes.h.inc"
} // namespace lowbit
} // namespace mlir

using namespace mlir;
using namespace mlir::lowbit;
namespace rt = ::lowbit::rt;
using namespace mlir::lowbit::rounding;

namespace {


/// The activation a chain of constant adds and multiplies (and reshapes)
/// starts from, e.g. the input of a BatchNorm's `x * a + b`.
Value affineChainStart(Value v) {
  while (Operation *def = v.getDefiningOp()) {
    if (isa<tosa::ReshapeOp>(def)) {
      v = def->getOperand(0);
      continue;
    }
    if (!isa<tosa::AddOp, tosa::MulOp>(def))
      break;
    if (isConstantLike(def->getOperand(1)) &&
        !isConstantLike(def->getOperand(0)))
      v = def->getOperand(0);
    else if (isConstantLike(def->getOperand(0)) &&
             !isConstantLike(def->getOperand(1)))
      v = def->getOperand(1);
    else
      break;
  }
  return v;
}

struct LowBitInsertQDQPass
    : public mlir::lowbit::impl::LowBitInsertQDQBase<LowBitInsertQDQPass> {
  using Base::Base;

  void runOnOperation() override;

  LogicalResult quantizeWeight(Operation *op, unsigned operand, int64_t axis);
  LogicalResult quantizeActivation(Value v);
  /// The bits of activation `v`: the most any of its readers asks for, a
  /// layer its lowbit.activation_bits (lowbit-assign-bitwidth), anything
  /// else the activation-bits option; 0 (stays float) when only layers with
  /// 0 bits read it.
  unsigned activationBitsOf(Value v);
  /// Routes every use of `v` through lowbit.quantize / lowbit.dequantize
  /// with element type `qtype`.
  void insertQDQ(Value v, Type qtype);
  /// Q/DQ pairs insertQDQ has inserted.
  unsigned inserted = 0;
};

LogicalResult LowBitInsertQDQPass::quantizeWeight(Operation *op,
                                                  unsigned operand,
                                                  int64_t axis) {
  Value w = op->getOperand(operand);
  auto cst = w.getDefiningOp<tosa::ConstOp>();
  // A reshaped constant (a MatMul's [K, N] weight as the [1, K, N] operand
  // of tosa.matmul): the same values in the same row-major order, read
  // with the operand's shape.
  if (auto rs = w.getDefiningOp<tosa::ReshapeOp>(); !cst && rs)
    cst = rs.getInput1().getDefiningOp<tosa::ConstOp>();
  if (!cst)
    return success(); // runtime weights are activations (quantized below)
  if (op->hasAttr("lowbit.weight_encoding"))
    return success(); // log / STLQ codes already (lowbit-legalize-stlq-tiles)
  // The layer's own bits and scheme (lowbit-assign-bitwidth) over the
  // pass's options; 0 bits keeps the weights float (the measurements of
  // lowbitc --bitwidth=auto quantize one layer at a time).
  unsigned bits = weightBits;
  StringRef scheme = weightScheme;
  if (auto a = op->getAttrOfType<IntegerAttr>(kWeightBitsAttr)) {
    if (a.getInt() == 0)
      return success();
    if (a.getInt() < 2 || a.getInt() > 8)
      return op->emitError() << "lowbit-insert-qdq: " << kWeightBitsAttr
                             << " must be 0 (float) or in [2, 8], got "
                             << a.getInt(),
             failure();
    bits = static_cast<unsigned>(a.getInt());
  }
  if (auto a = op->getAttrOfType<StringAttr>(kWeightSchemeAttr)) {
    scheme = a.getValue();
    if (scheme != "symmetric" && scheme != "asymmetric" && scheme != "pow2")
      return op->emitError() << "lowbit-insert-qdq: " << kWeightSchemeAttr
                             << " must be symmetric, asymmetric or pow2, "
                                "got '"
                             << scheme << "'",
             failure();
  }
  auto type = cast<RankedTensorType>(w.getType());
  auto read = readFloats(cst.getValues());
  if (!read)
    return op->emitError("lowbit-insert-qdq: cannot read float weights"),
           failure();
  // The weights are read in place: the constant stays in the IR (unused
  // after this, for the canonicalizer to drop).
  ArrayRef<float> values = read->values;
  ArrayRef<int64_t> shape = type.getShape();
  if (!perChannel)
    axis = -1;
  const ChannelLayout layout(shape, axis);
  const int64_t channels = layout.channels;
  MLIRContext *ctx = &getContext();
  OpBuilder b(op);
  Location loc = cst.getLoc();
  const int64_t size = static_cast<int64_t>(values.size());
  const bool nearest = weightRounding == "nearest";
  // The chosen code of every element: the nearest one (`nearestOf(i, c)` of
  // element i in channel c), or the correlated rounding's choice among its
  // neighbours (`choicesOf(i, c)`, the nearest first). Only what the chosen
  // rounding needs is computed, and the candidates of a weight exist only
  // while its output channel is rounded.
  auto chooseCodes = [&](auto &&nearestOf, auto &&choicesOf) {
    std::unique_ptr<int32_t[]> codes(new int32_t[size]);
    if (nearest) {
      parallelRuns(ctx, layout, [&](int64_t begin, int64_t end, int64_t c) {
        for (int64_t i = begin; i < end; ++i)
          codes[i] = nearestOf(i, c);
      });
      return codes;
    }
    WeightGroups groups = groupWeights(op, shape, roundingTapCorrelation);
    roundCorrelated(ctx, groups, layout, values, choicesOf,
                    roundingMeanWeight, codes.get());
    return codes;
  };

  if (scheme == "pow2") {
    // One scale U per output channel (per layer with per-tensor weights, as
    // in the STLQ paper): U = 2 max|w|, so the largest weight is exactly
    // U / 2, code 1 (log-scale=max), or the U of least squared error
    // (log-scale=mse, see chooseLogScale). Each U is a float32 value, so
    // every decoded weight U 2^-e is exact in float32 (the integer lowering
    // relies on it).
    SmallVector<double> maxAbs(channels, 0.0);
    layout.forEach([&](int64_t i, int64_t c) {
      maxAbs[c] =
          std::max(maxAbs[c], std::fabs(static_cast<double>(values[i])));
    });
    // A channel's weights in flat order: a slice of the tensor when the
    // channel axis is the outermost one, else gathered.
    std::vector<std::vector<float>> gathered;
    if (logScale != "max" && layout.outer != 1) {
      gathered.resize(channels);
      layout.forEach([&](int64_t i, int64_t c) {
        gathered[c].push_back(values[i]);
      });
    }
    SmallVector<double> us(channels, 1.0);
    for (int64_t c = 0; c < channels; ++c) {
      if (!(maxAbs[c] > 0 && std::isfinite(maxAbs[c])))
        continue;
      if (logScale == "max") {
        us[c] = static_cast<float>(2 * maxAbs[c]);
        continue;
      }
      ArrayRef<float> channelValues =
          gathered.empty() ? values.slice(c * layout.inner, layout.inner)
                           : ArrayRef<float>(gathered[c]);
      us[c] = chooseLogScale(ctx, channelValues, maxAbs[c], bits);
    }
    gathered.clear();
    auto nearestOf = [&](int64_t i, int64_t c) {
      return rt::logQuantize(values[i], us[c], bits);
    };
    auto choicesOf = [&](int64_t i, int64_t channel) {
      Choices c{};
      double x = values[i], u = us[channel];
      int32_t q = rt::logQuantize(x, u, bits);
      c.add(q, rt::logDequantize(q, u));
      if (x == 0.0 || std::isnan(x))
        return c;
      // The code on the other side of x (one octave up or down, or zero
      // below the smallest magnitude), and zero.
      int32_t e = q < 0 ? -q : q, sign = x > 0 ? 1 : -1;
      int32_t hi = rt::logMaxExponent(x, bits);
      double v = c.value[0];
      if (q == 0)
        c.add(sign * hi, rt::logDequantize(sign * hi, u));
      else if (std::fabs(v) < std::fabs(x) && e > 1)
        c.add(sign * (e - 1), rt::logDequantize(sign * (e - 1), u));
      else if (std::fabs(v) > std::fabs(x) && e < hi)
        c.add(sign * (e + 1), rt::logDequantize(sign * (e + 1), u));
      c.add(0, 0.0);
      return c;
    };
    std::unique_ptr<int32_t[]> codes = chooseCodes(nearestOf, choicesOf);
    std::vector<float> decoded(size);
    parallelRuns(ctx, layout, [&](int64_t begin, int64_t end, int64_t c) {
      for (int64_t i = begin; i < end; ++i)
        decoded[i] = static_cast<float>(rt::logDequantize(codes[i], us[c]));
    });
    codes.reset();
    auto attr = DenseElementsAttr::get(type, ArrayRef<float>(decoded));
    Value sim = tosa::ConstOp::create(b, loc, type, attr);
    op->setOperand(operand, sim);
    double layerU = *std::max_element(us.begin(), us.end());
    op->setAttr("lowbit.weight_encoding",
                LogAttr::get(ctx, bits, APFloat(layerU),
                             axis < 0 ? ArrayRef<double>()
                                      : ArrayRef<double>(us)));
    return success();
  }

  bool symmetric = scheme == "symmetric";
  int64_t qmin = rt::storageMin(bits, true), qmax = rt::storageMax(bits, true);
  if (symmetric)
    qmin = -qmax; // narrow range keeps -x representable
  SmallVector<double> lo(channels, 0.0), hi(channels, 0.0);
  layout.forEach([&](int64_t i, int64_t c) {
    lo[c] = std::min<double>(lo[c], values[i]);
    hi[c] = std::max<double>(hi[c], values[i]);
  });
  SmallVector<double> scales(channels);
  SmallVector<int64_t> zps(channels, 0);
  for (int64_t c = 0; c < channels; ++c) {
    if (symmetric) {
      double m = std::max(-lo[c], hi[c]);
      scales[c] = m > 0 ? m / static_cast<double>(qmax) : 1.0;
    } else {
      double range = hi[c] - lo[c];
      scales[c] = range > 0 ? range / static_cast<double>(qmax - qmin) : 1.0;
      zps[c] = std::clamp<int64_t>(
          qmin + static_cast<int64_t>(std::nearbyint(-lo[c] / scales[c])),
          qmin, qmax);
    }
    // Scales are float32 in the expressed type; keep exactly that value.
    scales[c] = static_cast<float>(scales[c]);
  }
  unsigned flags = quant::QuantizationFlags::Signed;
  auto storage = IntegerType::get(ctx, bits);
  Type f32 = b.getF32Type();
  quant::QuantizedType qtype =
      axis < 0 ? cast<quant::QuantizedType>(quant::UniformQuantizedType::get(
                     flags, storage, f32, scales[0], zps[0], qmin, qmax))
               : cast<quant::QuantizedType>(
                     quant::UniformQuantizedPerAxisType::get(
                         flags, storage, f32, scales, zps,
                         static_cast<int32_t>(axis), qmin, qmax));
  auto nearestOf = [&](int64_t i, int64_t c) {
    return rt::quantizeValue(values[i], static_cast<float>(scales[c]),
                             static_cast<int32_t>(zps[c]),
                             static_cast<int32_t>(qmin),
                             static_cast<int32_t>(qmax));
  };
  auto choicesOf = [&](int64_t i, int64_t c) {
    float x = values[i];
    int32_t q = rt::quantizeValue(x, static_cast<float>(scales[c]),
                                  static_cast<int32_t>(zps[c]),
                                  static_cast<int32_t>(qmin),
                                  static_cast<int32_t>(qmax));
    auto value = [&](int32_t code) { return (code - zps[c]) * scales[c]; };
    double v = value(q);
    // The neighbouring code on the other side of x, if in range (without
    // branches: the side is as good as random).
    bool up = v < x, down = v > x;
    int32_t other = up ? q + 1 : q - 1;
    Choices ch{};
    ch.code[0] = q, ch.value[0] = v;
    ch.code[1] = other, ch.value[1] = value(other);
    ch.count = 1 + ((up & (q < qmax)) | (down & (q > qmin)));
    return ch;
  };
  std::unique_ptr<int32_t[]> codes = chooseCodes(nearestOf, choicesOf);
  // The stored integers as the attribute holds them: one byte per element
  // (bits <= 8), the code's low `bits` bits (what an APInt of that width
  // stores).
  const uint8_t mask = static_cast<uint8_t>((1u << bits) - 1);
  std::vector<char> stored(size);
  for (int64_t i = 0; i < size; ++i)
    stored[i] = static_cast<char>(static_cast<uint8_t>(codes[i]) & mask);
  codes.reset();
  auto storedAttr = DenseElementsAttr::getFromRawBuffer(
      RankedTensorType::get(shape, storage), stored);
  auto qTensor = RankedTensorType::get(shape, qtype);
  Value q = ConstantOp::create(b, loc, qTensor, storedAttr);
  Value d = DequantizeOp::create(b, loc, type, q);
  op->setOperand(operand, d);
  return success();
}

LogicalResult LowBitInsertQDQPass::quantizeActivation(Value v) {
  auto type = dyn_cast<RankedTensorType>(v.getType());
  if (!type || !type.getElementType().isF32())
    return success();
  Operation *def = v.getDefiningOp();
  // Constants are not activations; Q/DQ imports keep their own scales.
  // A constant reshaped or transposed (a LayerNorm's weight broadcast to
  // [1, 1, 1, C]) is no activation either.
  if (def && (isa<tosa::ConstOp, arith::ConstantOp, DequantizeOp,
                  quant::DequantizeCastOp>(def) ||
              isConstantLike(v)))
    return success();
  DenseF64ArrayAttr range;
  func::FuncOp func = getOperation();
  if (def)
    range = def->getAttrOfType<DenseF64ArrayAttr>("lowbit.range");
  else
    range = func.getArgAttrOfType<DenseF64ArrayAttr>(
        cast<BlockArgument>(v).getArgNumber(), "lowbit.range");
  // A value computed only for one concat (a grouped convolution's groups,
  // an Inception branch, a DenseNet layer's new channels) is quantized with
  // the concat's range, which contains its own: the producing layer then
  // requantizes straight to the concat's scale, once, instead of to its
  // own scale and again to the concat's.
  if (def && !v.use_empty() && v.hasOneUse() &&
      !isa<tosa::MaxPool2dOp, tosa::AvgPool2dOp, tosa::ReshapeOp,
           tosa::TransposeOp, tosa::SliceOp, tosa::ResizeOp>(def))
    if (auto cat = dyn_cast<tosa::ConcatOp>(*v.getUsers().begin()))
      if (auto catRange =
              cat->getAttrOfType<DenseF64ArrayAttr>("lowbit.range");
          catRange && catRange.size() == 2)
        range = catRange;
  if (!range || range.size() != 2) {
    Location loc = def ? def->getLoc() : func.getLoc();
    return emitError(loc) << "lowbit-insert-qdq: tensor has no calibrated "
                             "range (run calibration first: lowbitc "
                             "--calibration FILE.npy)",
           failure();
  }
  // Ops that only move or select values (max-pool, average, reshape,
  // transpose, slice) keep their input's quantization, so their integer form
  // needs no rescaling. (A pad does not: its constant may lie outside the
  // input's range.)
  auto resize = def ? dyn_cast<tosa::ResizeOp>(def) : tosa::ResizeOp();
  if (def && (isa<tosa::MaxPool2dOp, tosa::AvgPool2dOp, tosa::ReshapeOp,
                  tosa::TransposeOp, tosa::SliceOp>(def) ||
              (resize &&
               resize.getMode() == tosa::ResizeMode::NEAREST_NEIGHBOR)))
    if (auto in = def->getOperand(0).getDefiningOp<DequantizeOp>()) {
      insertQDQ(v, in.getInput().getType().getElementType());
      return success();
    }
  unsigned bits = activationBitsOf(v);
  if (bits == 0)
    return success(); // read only by float layers (a measurement)
  insertQDQ(v, rangeQuantizedType(&getContext(), bits, range[0], range[1],
                                  type.getElementType()));
  return success();
}

/// A layer's lowbit.activation_bits, if it has one.
static std::optional<int64_t> layerActivationBits(Operation *op) {
  if (auto a = op->getAttrOfType<IntegerAttr>(kActivationBitsAttr))
    return a.getInt();
  return std::nullopt;
}

unsigned LowBitInsertQDQPass::activationBitsOf(Value v) {
  // The readers of v: its users, looking through the ops that keep their
  // input's quantization (quantizeActivation: max-pool, reshape, transpose,
  // slice, nearest resize), whose results read v's integers. A layer reads
  // at its lowbit.activation_bits, anything else at the option's bits; a
  // value that only layers with 0 bits read stays float.
  unsigned bits = 0;
  bool anyReader = false;
  SmallVector<Value> work{v};
  llvm::SmallPtrSet<Operation *, 8> seen;
  while (!work.empty()) {
    Value cur = work.pop_back_val();
    for (Operation *user : cur.getUsers()) {
      if (!seen.insert(user).second)
        continue;
      auto resize = dyn_cast<tosa::ResizeOp>(user);
      if (isa<tosa::MaxPool2dOp, tosa::ReshapeOp, tosa::TransposeOp,
              tosa::SliceOp>(user) ||
          (resize && resize.getMode() == tosa::ResizeMode::NEAREST_NEIGHBOR)) {
        work.push_back(user->getResult(0));
        continue;
      }
      anyReader = true;
      std::optional<int64_t> own;
      if (isBitwidthLayer(user))
        own = layerActivationBits(user);
      bits = std::max<unsigned>(bits, own ? static_cast<unsigned>(*own)
                                          : static_cast<unsigned>(
                                                activationBits));
    }
  }
  return anyReader ? bits : static_cast<unsigned>(activationBits);
}

void LowBitInsertQDQPass::insertQDQ(Value v, Type qtype) {
  auto type = cast<RankedTensorType>(v.getType());
  Operation *def = v.getDefiningOp();
  OpBuilder b(&getContext());
  if (def)
    b.setInsertionPointAfter(def);
  else
    b.setInsertionPointToStart(cast<BlockArgument>(v).getOwner());
  Location loc = def ? def->getLoc() : getOperation().getLoc();
  auto q = QuantizeOp::create(
      b, loc, RankedTensorType::get(type.getShape(), qtype), v);
  auto d = DequantizeOp::create(b, loc, type, q.getResult());
  v.replaceAllUsesExcept(d.getResult(), q);
  ++inserted;
}

void LowBitInsertQDQPass::runOnOperation() {
  func::FuncOp func = getOperation();
  if (activationBits < 2 || activationBits > 16) {
    func.emitError() << "lowbit-insert-qdq: activation-bits must be in "
                        "[2, 16], got "
                     << static_cast<unsigned>(activationBits);
    return signalPassFailure();
  }
  if (weightBits < 2 || weightBits > 8) {
    func.emitError() << "lowbit-insert-qdq: weight-bits must be in [2, 8], "
                        "got "
                     << static_cast<unsigned>(weightBits);
    return signalPassFailure();
  }
  if (weightScheme != "symmetric" && weightScheme != "asymmetric" &&
      weightScheme != "pow2") {
    func.emitError() << "lowbit-insert-qdq: unknown weight-scheme '"
                     << weightScheme
                     << "' (symmetric, asymmetric or pow2)";
    return signalPassFailure();
  }
  if (logScale != "mse" && logScale != "max") {
    func.emitError() << "lowbit-insert-qdq: unknown log-scale '" << logScale
                     << "' (mse or max)";
    return signalPassFailure();
  }
  if (weightRounding != "nearest" && weightRounding != "correlated") {
    func.emitError() << "lowbit-insert-qdq: unknown weight-rounding '"
                     << weightRounding << "' (nearest or correlated)";
    return signalPassFailure();
  }
  if (!(roundingTapCorrelation >= 0.0 && roundingTapCorrelation < 1.0)) {
    func.emitError() << "lowbit-insert-qdq: rounding-tap-correlation must be "
                        "in [0, 1), got "
                     << roundingTapCorrelation;
    return signalPassFailure();
  }
  if (!(roundingMeanWeight >= 0.0 && std::isfinite(roundingMeanWeight))) {
    func.emitError() << "lowbit-insert-qdq: rounding-mean-weight must be "
                        "finite and >= 0, got "
                     << roundingMeanWeight;
    return signalPassFailure();
  }

  WalkResult badBits = func.walk([&](Operation *op) {
    std::optional<int64_t> a =
        isBitwidthLayer(op) ? layerActivationBits(op) : std::nullopt;
    if (a && *a != 0 && (*a < 2 || *a > 16)) {
      op->emitError() << "lowbit-insert-qdq: " << kActivationBitsAttr
                      << " must be 0 (float) or in [2, 16], got " << *a;
      return WalkResult::interrupt();
    }
    return WalkResult::advance();
  });
  if (badBits.wasInterrupted())
    return signalPassFailure();

  // Weights first (their constants are not activations).
  WalkResult walk = func.walk([&](Operation *op) {
    LogicalResult r = success();
    if (isa<tosa::Conv2DOp>(op))
      r = quantizeWeight(op, 1, /*axis=*/0); // OHWI
    else if (auto dw = dyn_cast<tosa::DepthwiseConv2DOp>(op))
      // [KH, KW, C, M]: per channel when the multiplier is 1.
      r = quantizeWeight(
          op, 1, cast<ShapedType>(dw.getWeight().getType()).getDimSize(3) == 1
                     ? 2
                     : -1);
    else if (isa<tosa::MatMulOp>(op))
      r = quantizeWeight(op, 1, /*axis=*/2); // [B, K, N]: per column
    return failed(r) ? WalkResult::interrupt() : WalkResult::advance();
  });
  if (walk.wasInterrupted())
    return signalPassFailure();

  // Activations where an integer kernel consumes them, and where a region
  // that stays float (float fallback: a Softmax's exp and sums, ...) reads
  // an activation from outside it. A value a region computes is quantized
  // when an integer op reads it too (a LayerNorm's output read by a
  // convolution); the ops after that read the quantized value, so they no
  // longer belong to the region (a residual add after the LayerNorm) and
  // their own inputs are quantized in the next round, until a round
  // quantizes nothing new: the float regions are then those
  // convert-tosa-to-lowbit finds in the Q/DQ graph.
  for (unsigned before = ~0u; before != inserted;) {
    before = inserted;
    llvm::SetVector<Value> toQuantize;
    llvm::SetVector<Operation *> floatOps = floatFallbackOps(func);
    for (Operation *op : floatOps)
      for (Value v : op->getOperands()) {
        Operation *def = v.getDefiningOp();
        auto t = dyn_cast<RankedTensorType>(v.getType());
        if (t && t.getElementType().isF32() && !floatOps.contains(def) &&
            !(def && isa<tosa::ConstOp>(def)))
          toQuantize.insert(v);
      }
    // A product of two different activations inside a region (a
    // squeeze-and-excitation gate sigmoid(s) times x) multiplies quantized
    // values: each function of one activation before it then ends at a
    // quantize (a lookup table on the integer target). A product of one
    // activation with a function of itself (SiLU's x * sigmoid(x)) is left
    // whole: it is one function of that activation.
    auto regionInputs = [&](Value v) {
      llvm::SetVector<Value> inputs;
      SmallVector<Value> stack = {v};
      llvm::DenseSet<Operation *> seen;
      while (!stack.empty()) {
        Value x = stack.pop_back_val();
        Operation *def = x.getDefiningOp();
        if (def && floatOps.contains(def)) {
          if (seen.insert(def).second)
            for (Value operand : def->getOperands())
              stack.push_back(operand);
        } else if (!isConstantLike(x) && !(def && isa<tosa::ConstOp>(def))) {
          inputs.insert(x);
        }
      }
      return inputs;
    };
    for (Operation *op : floatOps) {
      if (!isActivationProduct(op))
        continue;
      auto a = regionInputs(op->getOperand(0));
      auto c = regionInputs(op->getOperand(1));
      if (a.size() == 1 && c.size() == 1 && a.front() == c.front())
        continue;
      for (Value v : op->getOperands().take_front(2))
        if (Operation *def = v.getDefiningOp(); def && floatOps.contains(def))
          toQuantize.insert(v);
    }
    func.walk([&](Operation *op) {
      if (floatOps.contains(op))
        return;
      if (isBitwidthLayer(op) && layerActivationBits(op) == 0)
        return; // float inputs (a measurement of lowbitc --bitwidth=auto)
      if (isa<tosa::Conv2DOp, tosa::DepthwiseConv2DOp, tosa::MaxPool2dOp,
              tosa::AvgPool2dOp>(op)) {
        // The importer's crop of the input (a slice from 0 so that TOSA's
        // windows fit) reads a quantized tensor: quantize before it.
        Value in = op->getOperand(0);
        if (auto crop = in.getDefiningOp<tosa::SliceOp>())
          in = crop.getInput1();
        toQuantize.insert(in);
      } else if (isa<tosa::MatMulOp>(op)) {
        toQuantize.insert(op->getOperand(0));
        toQuantize.insert(op->getOperand(1));
      } else if (isa<tosa::SliceOp, tosa::PadOp, tosa::ResizeOp>(op)) {
        // Data movement (a channel split, a constant pad, a resize) and
        // bilinear resizes on integers.
        toQuantize.insert(op->getOperand(0));
      } else if (isa<tosa::AddOp>(op) &&
                 llvm::any_of(op->getOperands(), [&](Value c) {
                   return isPositionalConstant(c, op->getResult(0).getType());
                 })) {
        // A constant that is no per-channel bias (a position embedding, an
        // attention bias or mask): lowbit.add of the other input, quantized,
        // and the constant stored as an activation.
        for (Value v : op->getOperands())
          if (!isConstantLike(v))
            toQuantize.insert(v);
      } else if (isa<tosa::AddOp, tosa::MulOp>(op) &&
                 llvm::any_of(op->getOperands().take_front(2),
                              isConstantLike)) {
        // An add or multiply by a constant belongs to the accumulator chain of
        // the convolution or matrix product before it (a Gemm's bias, a hard
        // sigmoid's x / 6 + 0.5), which the integer form folds into its bias
        // and scales. Anywhere else (a BatchNorm after a ReLU or a concat) the
        // chain is a per-channel affine map of its own, a 1x1 depthwise
        // layer: its input is quantized.
        Value start = affineChainStart(op->getResult(0));
        if (!isa_and_nonnull<tosa::Conv2DOp, tosa::DepthwiseConv2DOp,
                             tosa::MatMulOp>(start.getDefiningOp()))
          toQuantize.insert(start);
      } else if (isa<tosa::AddOp, tosa::SubOp, tosa::ConcatOp>(op)) {
        // Constant operands of a concat are quantized with its result when
        // it is lowered.
        for (Value v : op->getOperands())
          if (!isConstantLike(v))
            toQuantize.insert(v);
      } else if (isa<func::ReturnOp>(op) && !func->hasAttr(kFloatResultsAttr)) {
        for (Value v : op->getOperands())
          toQuantize.insert(v);
      }
    });
    for (Value v : toQuantize)
      if (!llvm::any_of(v.getUsers(), llvm::IsaPred<QuantizeOp>) &&
          failed(quantizeActivation(v)))
        return signalPassFailure();
  }
}

} // namespace
