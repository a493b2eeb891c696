//===- InsertQDQ.cpp - Quantize a calibrated float graph ------------------===//
//
// Part of the lowbit project.
//
//===----------------------------------------------------------------------===//

#include "LowBit/IR/LowBitOps.h"
#include "LowBit/Transforms/Passes.h"

#include "lowbit/runtime/LogQuant.h"
#include "lowbit/runtime/Requant.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Tosa/IR/TosaOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "llvm/ADT/SetVector.h"

#include <cmath>

namespace mlir {
namespace lowbit {
#define GEN_PASS_DEF_LOWBITINSERTQDQ
#include "LowBit/Transforms/Passes.h.inc"
} // namespace lowbit
} // namespace mlir

using namespace mlir;
using namespace mlir::lowbit;
namespace rt = ::lowbit::rt;

namespace {

/// Float values of a constant (dense, splat or resource).
std::optional<std::vector<float>> readFloats(ElementsAttr attr) {
  auto type = cast<ShapedType>(attr.getType());
  if (!type.getElementType().isF32())
    return std::nullopt;
  std::vector<float> out(type.getNumElements());
  if (auto dense = dyn_cast<DenseElementsAttr>(attr)) {
    int64_t i = 0;
    if (dense.isSplat()) {
      std::fill(out.begin(), out.end(), dense.getSplatValue<float>());
      return out;
    }
    for (float v : dense.getValues<float>())
      out[i++] = v;
    return out;
  }
  if (auto res = dyn_cast<DenseResourceElementsAttr>(attr)) {
    AsmResourceBlob *blob = res.getRawHandle().getBlob();
    if (!blob || blob->getData().size() != out.size() * sizeof(float))
      return std::nullopt;
    std::memcpy(out.data(), blob->getData().data(), out.size() * sizeof(float));
    return out;
  }
  return std::nullopt;
}

/// Channel of flat element `i` along `axis` of `shape` (0 when axis < 0).
int64_t channelOf(ArrayRef<int64_t> shape, int64_t axis, int64_t i) {
  if (axis < 0)
    return 0;
  int64_t inner = 1;
  for (size_t d = axis + 1; d < shape.size(); ++d)
    inner *= shape[d];
  return (i / inner) % shape[axis];
}

struct LowBitInsertQDQPass
    : public mlir::lowbit::impl::LowBitInsertQDQBase<LowBitInsertQDQPass> {
  using Base::Base;

  void runOnOperation() override;

  LogicalResult quantizeWeight(Operation *op, unsigned operand, int64_t axis);
  LogicalResult quantizeActivation(Value v);
  /// Routes every use of `v` through lowbit.quantize / lowbit.dequantize
  /// with element type `qtype`.
  void insertQDQ(Value v, Type qtype);
};

LogicalResult LowBitInsertQDQPass::quantizeWeight(Operation *op,
                                                  unsigned operand,
                                                  int64_t axis) {
  Value w = op->getOperand(operand);
  auto cst = w.getDefiningOp<tosa::ConstOp>();
  if (!cst)
    return success(); // runtime weights are activations (quantized below)
  auto type = cast<RankedTensorType>(w.getType());
  auto values = readFloats(cst.getValues());
  if (!values)
    return op->emitError("lowbit-insert-qdq: cannot read float weights"),
           failure();
  ArrayRef<int64_t> shape = type.getShape();
  if (!perChannel || weightScheme == "pow2")
    axis = -1;
  int64_t channels = axis < 0 ? 1 : shape[axis];
  MLIRContext *ctx = &getContext();
  OpBuilder b(op);
  Location loc = cst.getLoc();
  unsigned bits = weightBits;

  if (weightScheme == "pow2") {
    // One scale U per layer (as in the STLQ paper): U = 2 max|w|, so the
    // largest weight is exactly U / 2, code 1.
    double maxAbs = 0;
    for (float v : *values)
      maxAbs = std::max(maxAbs, std::fabs(static_cast<double>(v)));
    double u = maxAbs > 0 ? 2 * maxAbs : 1.0;
    std::vector<float> decoded(values->size());
    for (size_t i = 0; i < values->size(); ++i)
      decoded[i] = static_cast<float>(
          rt::logDequantize(rt::logQuantize((*values)[i], u, bits), u));
    auto attr = DenseElementsAttr::get(type, ArrayRef<float>(decoded));
    Value sim = tosa::ConstOp::create(b, loc, type, attr);
    op->setOperand(operand, sim);
    op->setAttr("lowbit.weight_encoding",
                LogAttr::get(ctx, bits, APFloat(u)));
    return success();
  }

  bool symmetric = weightScheme == "symmetric";
  int64_t qmin = rt::storageMin(bits, true), qmax = rt::storageMax(bits, true);
  if (symmetric)
    qmin = -qmax; // narrow range keeps -x representable
  SmallVector<double> lo(channels, 0.0), hi(channels, 0.0);
  for (int64_t i = 0, e = values->size(); i < e; ++i) {
    int64_t c = channelOf(shape, axis, i);
    lo[c] = std::min<double>(lo[c], (*values)[i]);
    hi[c] = std::max<double>(hi[c], (*values)[i]);
  }
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
  SmallVector<APInt> stored;
  stored.reserve(values->size());
  for (int64_t i = 0, e = values->size(); i < e; ++i) {
    int64_t c = channelOf(shape, axis, i);
    int32_t q = rt::quantizeValue((*values)[i], static_cast<float>(scales[c]),
                                  static_cast<int32_t>(zps[c]),
                                  static_cast<int32_t>(qmin),
                                  static_cast<int32_t>(qmax));
    stored.emplace_back(bits, static_cast<uint64_t>(q), /*isSigned=*/true);
  }
  auto storedAttr =
      DenseElementsAttr::get(RankedTensorType::get(shape, storage), stored);
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
  if (def && (isa<tosa::ConstOp, arith::ConstantOp, DequantizeOp,
                  quant::DequantizeCastOp>(def)))
    return success();
  DenseF64ArrayAttr range;
  func::FuncOp func = getOperation();
  if (def)
    range = def->getAttrOfType<DenseF64ArrayAttr>("lowbit.range");
  else
    range = func.getArgAttrOfType<DenseF64ArrayAttr>(
        cast<BlockArgument>(v).getArgNumber(), "lowbit.range");
  if (!range || range.size() != 2) {
    Location loc = def ? def->getLoc() : func.getLoc();
    return emitError(loc) << "lowbit-insert-qdq: tensor has no calibrated "
                             "range (run calibration first: lowbitc "
                             "--calibration FILE.npy)",
           failure();
  }
  // Ops that only move or select values (max-pool, average, reshape,
  // transpose) keep their input's quantization, so their integer form needs
  // no rescaling.
  if (def && isa<tosa::MaxPool2dOp, tosa::AvgPool2dOp, tosa::ReshapeOp,
                 tosa::TransposeOp>(def))
    if (auto in = def->getOperand(0).getDefiningOp<DequantizeOp>()) {
      insertQDQ(v, in.getInput().getType().getElementType());
      return success();
    }
  unsigned bits = activationBits;
  int64_t qmin = rt::storageMin(bits, true), qmax = rt::storageMax(bits, true);
  double lo = std::min(range[0], 0.0), hi = std::max(range[1], 0.0);
  double scale = hi > lo ? (hi - lo) / static_cast<double>(qmax - qmin) : 1.0;
  scale = static_cast<float>(scale);
  int64_t zp = std::clamp<int64_t>(
      qmin + static_cast<int64_t>(std::nearbyint(-lo / scale)), qmin, qmax);
  auto qtype = quant::UniformQuantizedType::get(
      quant::QuantizationFlags::Signed, IntegerType::get(&getContext(), bits),
      type.getElementType(), scale, zp, qmin, qmax);
  insertQDQ(v, qtype);
  return success();
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

  // Activations where an integer kernel consumes them.
  llvm::SetVector<Value> toQuantize;
  func.walk([&](Operation *op) {
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
    } else if (isa<tosa::AddOp, tosa::SubOp, tosa::ConcatOp>(op)) {
      // An add of a constant is a bias add: it belongs to the accumulator
      // chain of the op before it (e.g. a Gemm's matmul), so neither side
      // is quantized here; the integer form adds it to the accumulator.
      bool biasAdd = isa<tosa::AddOp>(op) &&
                     llvm::any_of(op->getOperands(), [](Value v) {
                       // A constant, possibly reshaped (Gemm's bias).
                       while (auto r = v.getDefiningOp<tosa::ReshapeOp>())
                         v = r.getInput1();
                       return v.getDefiningOp<tosa::ConstOp>() != nullptr;
                     });
      if (!biasAdd)
        for (Value v : op->getOperands())
          toQuantize.insert(v);
    } else if (isa<func::ReturnOp>(op)) {
      for (Value v : op->getOperands())
        toQuantize.insert(v);
    }
  });
  for (Value v : toQuantize)
    if (failed(quantizeActivation(v)))
      return signalPassFailure();
}

} // namespace
