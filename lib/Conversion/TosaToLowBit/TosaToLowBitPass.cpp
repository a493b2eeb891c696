//===- TosaToLowBitPass.cpp - Q/DQ float graph to integer lowbit ops ------===//
//
// Part of the lowbit project.
//
//===----------------------------------------------------------------------===//
//
// Every lowbit.quantize of a quantized float graph closes a segment of float
// ops that starts at dequantized values. Each segment is matched as a whole
// and replaced by integer ops that produce the quantize's type directly:
//
//   conv / depthwise / matmul (+ bias add) (+ ReLU / Clip / PReLU) (+ reshape)
//       -> lowbit.conv2d / fully_connected (int32 or int64 accumulator)
//          + lowbit.requant (ReLU / Clip in its saturation range, PReLU as
//            its second multiplier set)                  Linear.cpp
//   a per-channel affine map x * a[c] + b[c]
//       -> the same, as a 1x1 depthwise convolution      AffineAsDepthwise.cpp
//   max / average pool, reshape, transpose, slice, nearest resize
//       -> lowbit.max_pool / avg_pool / global_avg_pool / reshape /
//          transpose / slice / resize (+ requant when the scale changes)
//   constant pad, bilinear resize
//       -> lowbit.pad, lowbit.resize (+ requant)         DataMovement.cpp
//   add of two activations      -> lowbit.add            AddConcat.cpp
//   concat                      -> lowbit.concat of inputs requantized to
//                                  the result's scale    AddConcat.cpp
//
// What follows the anchor op up to the quantize is parsed by Epilogue.cpp;
// constants and weight codes are read by Constants.cpp.
//
// Transposes and reshapes right before the quantize (an NCHW model's layout
// changes around NHWC ops) are replayed on the segment's integer result, so
// that the segment is lowered in its own layout; lowbit.transpose pairs
// between segments then fold away.
//
// Function arguments that are quantized become quantized arguments, and
// results that are dequantized become quantized results, so the function is
// integer-only. Whatever float op is left afterwards is an error naming it.
//
// Why a walk over the quantizes and not RewritePatterns: a segment is
// matched backwards from its quantize across many ops, through producers
// that other segments read too; the segments are lowered in program order
// because lowering one changes function argument types in place (which the
// next segment on that argument checks); the first error stops the pass (a
// reported source error suppresses a vaguer one); and the float graph can
// only be erased once every segment is lowered. A greedy pattern driver
// would reorder, retry and erase in between.
//
//===----------------------------------------------------------------------===//

#include "TosaToLowBit.h"

#include "LowBit/Transforms/FloatFallback.h"
#include "lowbit/Conversion/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Quant/IR/Quant.h"
#include "llvm/ADT/MapVector.h"
#include "llvm/ADT/TypeSwitch.h"

#include <algorithm>

namespace lowbit {
#define GEN_PASS_DEF_CONVERTTOSATOLOWBIT
#include "lowbit/Conversion/Passes.h.inc"
} // namespace lowbit

using namespace mlir;
using namespace mlir::lowbit;
using namespace mlir::lowbit::tosa_to_lowbit;

/// Integer kernels read 8- or 16-bit containers: narrower storage keeps its
/// range in a wider container type.
static quant::UniformQuantizedType
containerType(quant::UniformQuantizedType q) {
  unsigned w = q.getStorageTypeIntegralWidth();
  unsigned cw = w <= 8 ? 8 : (w <= 16 ? 16 : w);
  if (cw == w)
    return q;
  return quant::UniformQuantizedType::get(
      q.getFlags(), IntegerType::get(q.getContext(), cw), q.getExpressedType(),
      q.getScale(), q.getZeroPoint(), q.getStorageTypeMin(),
      q.getStorageTypeMax());
}

/// A segment without an anchor of its own: a quantized function input
/// (through reshapes and transposes), or data movement and pools on a
/// dequantized value (same scale), then a rescale to the quantize's type.
FailureOr<Value>
TosaToLowBitLowering::lowerSameScale(OpBuilder &b, QuantizeOp q, Value start,
                                     Operation *anchor, const Epilogue &epi,
                                     RankedTensorType outType) {
  Location loc = q.getLoc();
  if (BlockArgument arg = argumentBehind(start)) {
    // A quantized function input: the argument becomes quantized.
    if (epi.clampMin || epi.slopes)
      return q.emitError("convert-tosa-to-lowbit: activation on a function "
                         "input is not supported"),
             failure();
    auto argType = cast<RankedTensorType>(arg.getType());
    if (!argType.getElementType().isF32() &&
        argType.getElementType() != outType.getElementType())
      return q.emitError("convert-tosa-to-lowbit: function input is "
                         "quantized twice with different parameters"),
             failure();
    arg.setType(withElement(argType, outType.getElementType()));
    // Reshapes and transposes between the argument and the quantize.
    return reshapeTo(b, loc, replayMovement(b, start, arg), outType.getShape());
  }
  auto src = quantizedSource(b, start, loc);
  if (failed(src)) {
    if (sourceDiagnosed)
      return failure();
    Operation *bad = anchor ? anchor : q.getOperation();
    return bad->emitError("convert-tosa-to-lowbit: '")
               << bad->getName()
               << "' cannot be lowered to the integer target (no integer "
                  "form of this op, or its inputs are not quantized)",
           failure();
  }
  auto type = withElement(src->getType(), outType.getElementType());
  FailureOr<Value> result = rescale(b, loc, *src, epi, type);
  if (failed(result))
    return failure();
  return reshapeTo(b, loc, *result, outType.getShape());
}

LogicalResult TosaToLowBitLowering::lowerQuantize(QuantizeOp q) {
  auto outType = cast<RankedTensorType>(q.getType());
  auto outQ = dyn_cast<quant::UniformQuantizedType>(outType.getElementType());
  if (!outQ)
    return q.emitError("convert-tosa-to-lowbit: activations must be "
                       "quantized per tensor"),
           failure();
  outType = withElement(outType, containerType(outQ));
  if (Operation *def = q.getInput().getDefiningOp();
      def && floatOps.contains(def) && !lookups.count(q) &&
      !softmaxes.count(q)) {
    // The result of a region that stays float: quantized at run time.
    q.getResult().setType(outType);
    return success();
  }
  OpBuilder b(q);
  Location loc = q.getLoc();
  // Layout movement right before the quantize (the NHWC -> NCHW transposes
  // and reshapes of an imported NCHW model) is replayed on the integer
  // result: the segment itself is lowered in its own layout (NHWC for
  // convolutions and pools, where per-channel requants use the last axis).
  SmallVector<Operation *> tail;
  Value tailStart = stripLayoutTail(q.getInput(), tail);
  Type storedElt = outType.getElementType();
  outType = withElement(tailStart.getType(), storedElt);
  auto replayTail = [&](Value r) {
    for (Operation *op : tail) {
      auto type = withElement(op->getResult(0).getType(), storedElt);
      if (auto t = dyn_cast<tosa::TransposeOp>(op))
        r = TransposeOp::create(b, t.getLoc(), type, r, t.getPermsAttr());
      else
        r = reshapeTo(b, op->getLoc(), r, type.getShape());
    }
    q.getResult().replaceAllUsesWith(r);
    q.erase();
  };
  // An elementwise function of one 8-bit activation: a table.
  if (auto it = lookups.find(q); it != lookups.end()) {
    FailureOr<Value> r = lowerLookup(b, q, it->second, outType);
    if (failed(r))
      return failure();
    lookups.erase(it);
    replayTail(*r);
    return success();
  }
  if (auto it = softmaxes.find(q); it != softmaxes.end()) {
    FailureOr<Value> r = lowerSoftmax(b, q, it->second, outType);
    if (failed(r))
      return failure();
    softmaxes.erase(it);
    replayTail(*r);
    return success();
  }
  Epilogue epi;
  Value start = parseEpilogue(tailStart, epi);
  Operation *anchor = start.getDefiningOp();

  // Per-channel affine maps become 1x1 depthwise convolutions; then the
  // anchor's family lowers the segment.
  anchor = affineAnchor(b, q, start, anchor, epi);
  if (!epi.biasAdds.empty() && !isLinearAnchor(anchor))
    return q.emitError("convert-tosa-to-lowbit: a constant add that does "
                       "not follow a convolution or matrix product is not "
                       "supported by the integer target"),
           failure();
  auto sameScale = [&](Operation *) {
    return lowerSameScale(b, q, start, anchor, epi, outType);
  };
  FailureOr<Value> result =
      !anchor
          ? sameScale(nullptr)
          : llvm::TypeSwitch<Operation *, FailureOr<Value>>(anchor)
                .Case<tosa::Conv2DOp, tosa::DepthwiseConv2DOp>(
                    [&](Operation *op) {
                      return lowerLinear(b, op, epi, outType);
                    })
                .Case([&](tosa::MatMulOp mm) {
                  if (isActivationMatMul(mm))
                    return lowerActivationMatMul(b, mm, epi, outType);
                  return lowerLinear(b, mm, epi, outType);
                })
                .Case([&](tosa::MulOp mul) -> FailureOr<Value> {
                  if (isActivationProduct(mul))
                    return lowerProduct(b, mul, epi, outType);
                  return sameScale(mul);
                })
                .Case([&](tosa::AddOp add) {
                  return lowerAdd(b, add, epi, outType);
                })
                .Case([&](tosa::ConcatOp cat) {
                  return lowerConcat(b, loc, cat, epi, outType);
                })
                .Case([&](tosa::PadOp pad) {
                  // A pad of zero width moves nothing (quantizedSource).
                  if (pad.getType() == pad.getInput1().getType())
                    return sameScale(pad);
                  return lowerPad(b, pad, epi, outType);
                })
                .Case([&](tosa::ResizeOp rs) {
                  // A nearest resize moves data (quantizedSource).
                  if (rs.getMode() != tosa::ResizeMode::BILINEAR)
                    return sameScale(rs);
                  return lowerBilinearResize(b, rs, epi, outType);
                })
                .Default(sameScale);
  if (failed(result))
    return failure();
  replayTail(*result);
  return success();
}

namespace {

struct ConvertTosaToLowBitPass
    : public ::lowbit::impl::ConvertTosaToLowBitBase<ConvertTosaToLowBitPass> {
  using Base::Base;
  void runOnOperation() override;
};

} // namespace

void ConvertTosaToLowBitPass::runOnOperation() {
  func::FuncOp func = getOperation();
  if (func.isExternal())
    return;
  TosaToLowBitLowering lowering(&getContext(), foldZeroPoint,
                                floatFallbackOps(func));
  llvm::SetVector<Operation *> &floatOps = lowering.floatOps;
  // Integer forms of ops the float fallback list names: elementwise
  // functions of one 8-bit activation become tables, and products of two
  // quantized activations lowbit.mul. Their ops leave the float set when
  // nothing float reads them. Tables are computed now, before any segment
  // is lowered (a table looks through Q/DQ pairs that lowering replaces).
  llvm::DenseSet<Operation *> integerOps;
  // A user that quantizes the product, directly or after a clamp (ReLU)
  // and layout movement; `path` receives the ops up to the quantize.
  auto quantizedUser = [](Operation *u, SmallVectorImpl<Operation *> &path) {
    while (isa<tosa::ClampOp, tosa::TransposeOp, tosa::ReshapeOp>(u) &&
           u->hasOneUse()) {
      path.push_back(u);
      u = *u->getUsers().begin();
    }
    path.push_back(u);
    return isa<QuantizeOp>(u);
  };
  func.walk([&](QuantizeOp q) {
    if (std::optional<SoftmaxMatch> m = matchSoftmax(q)) {
      integerOps.insert(m->ops.begin(), m->ops.end());
      integerOps.insert(q);
      lowering.softmaxes[q] = std::move(*m);
    } else if (std::optional<LookupMatch> m = matchLookupTable(q)) {
      integerOps.insert(m->ops.begin(), m->ops.end());
      integerOps.insert(q);
      lowering.lookups[q] = std::move(*m);
    }
  });
  for (Operation *op : floatOps) {
    SmallVector<Operation *> path;
    if (isActivationProduct(op) && !op->use_empty() &&
        llvm::all_of(op->getUsers(),
                     [&](Operation *u) { return quantizedUser(u, path); }) &&
        llvm::all_of(op->getOperands().take_front(2), [&](Value v) {
          // Quantized, possibly through layout movement (an NCHW model's
          // transposes, which then move integers).
          Operation *def = v.getDefiningOp();
          while (def && floatOps.contains(def) &&
                 isa<tosa::TransposeOp, tosa::ReshapeOp>(def) &&
                 def->hasOneUse())
            def = def->getOperand(0).getDefiningOp();
          return !def || !floatOps.contains(def);
        })) {
      integerOps.insert(op);
      integerOps.insert(path.begin(), path.end());
      for (Operation *u : op->getUsers())
        integerOps.insert(u);
      for (Value v : op->getOperands().take_front(2))
        for (Operation *def = v.getDefiningOp();
             def && floatOps.contains(def) &&
             isa<tosa::TransposeOp, tosa::ReshapeOp>(def) && def->hasOneUse();
             def = def->getOperand(0).getDefiningOp())
          integerOps.insert(def);
    }
  }
  for (Operation *op : llvm::to_vector(floatOps))
    if (integerOps.contains(op) &&
        llvm::all_of(op->getUsers(),
                     [&](Operation *u) { return integerOps.contains(u); }))
      floatOps.remove(op);
  if (!floatFallback && !floatOps.empty()) {
    // Name the op that has no integer form, not the first one that reads it.
    Operation *first = floatOps.front();
    for (Operation *op : floatOps)
      if (hasNoIntegerForm(op)) {
        first = op;
        break;
      }
    first->emitError("convert-tosa-to-lowbit: '")
        << first->getName()
        << "' has no integer form (float-fallback=false; with float "
           "fallback it would stay float)";
    return signalPassFailure();
  }
  // A clamp (ReLU / Clip) after a layout transpose or reshape (the importer's
  // output before lowbit-sink-transposes) commutes with it: the movement is
  // moved below the clamp, next to the quantize, where lowerQuantize replays
  // it on the integer result.
  func.walk([&](tosa::ClampOp c) {
    while (Operation *mv = c.getInput().getDefiningOp()) {
      if (!isa<tosa::TransposeOp, tosa::ReshapeOp>(mv) || !mv->hasOneUse())
        break;
      Value x = mv->getOperand(0);
      c.getInputMutable().assign(x);
      c.getResult().setType(cast<TensorType>(x.getType()));
      mv->moveAfter(c);
      c.getResult().replaceAllUsesWith(mv->getResult(0));
      mv->setOperand(0, c.getResult());
    }
  });
  // A float constant reshaped (a LayerNorm's weight broadcast to
  // [1, 1, 1, C] for a region that stays float) becomes a constant of the
  // new shape: the float kernels read constants, not reshapes of them.
  func.walk([&](tosa::ReshapeOp r) {
    auto type = dyn_cast<RankedTensorType>(r.getType());
    if (floatOps.contains(r) || !type || !type.getElementType().isF32() ||
        !r.getInput1().getDefiningOp<tosa::ConstOp>())
      return;
    std::optional<std::vector<double>> values = floatValues(r.getInput1());
    if (!values)
      return;
    std::vector<float> f(values->begin(), values->end());
    OpBuilder b(r);
    Value c = tosa::ConstOp::create(
        b, r.getLoc(), type, DenseElementsAttr::get(type, ArrayRef<float>(f)));
    r.getResult().replaceAllUsesWith(c);
    r.erase();
  });
  moveConstantAxisLast(func, [&](Operation *op) {
    return floatOps.contains(op) || integerOps.contains(op);
  });
  // A float argument quantized through reshapes: arguments change type in
  // place, so their float users are rewritten first.
  SmallVector<QuantizeOp> quantizes;
  func.walk([&](QuantizeOp q) { quantizes.push_back(q); });
  for (QuantizeOp q : quantizes)
    if (failed(lowering.lowerQuantize(q)))
      return signalPassFailure();

  // Results: a dequantized value (through reshapes) is returned quantized.
  auto ret = cast<func::ReturnOp>(func.getBody().back().getTerminator());
  OpBuilder b(ret);
  for (OpOperand &operand : ret->getOpOperands()) {
    Value v = operand.get();
    auto src = lowering.quantizedSource(b, v, ret.getLoc());
    if (failed(src) && lowering.sourceDiagnosed)
      return signalPassFailure();
    if (failed(src) || !activationType(*src)) {
      // A float fallback region's result may be the model's (float) result
      // (a Q/DQ model whose final Softmax is left float).
      if (Operation *def = v.getDefiningOp(); def && floatOps.contains(def))
        continue;
      if (isa<FloatType>(getElementTypeOrSelf(v.getType()))) {
        ret.emitError() << "convert-tosa-to-lowbit: result #"
                        << operand.getOperandNumber()
                        << " is not quantized (its producer '"
                        << (v.getDefiningOp()
                                ? v.getDefiningOp()->getName()
                                : OperationName("func.arg", &getContext()))
                        << "' stays float: quantize it or end the model before "
                           "it)";
        return signalPassFailure();
      }
      continue;
    }
    operand.set(*src);
  }

  // Drop the float graph that is no longer used.
  bool changed = true;
  while (changed) {
    changed = false;
    for (Operation &op : llvm::make_early_inc_range(
             llvm::reverse(func.getBody().front().getOperations()))) {
      if (op.hasTrait<OpTrait::IsTerminator>() || !op.use_empty())
        continue;
      if (isa<tosa::TosaOp, DequantizeOp, BitcastOp, ConstantOp,
              quant::StorageCastOp, quant::DequantizeCastOp,
              quant::QuantizeCastOp, arith::ConstantOp>(op) ||
          op.getDialect()->getNamespace() == "tosa") {
        floatOps.remove(&op); // a dead float op is not warned about
        op.erase();
        changed = true;
      }
    }
  }
  // Anything float left is an op the integer target cannot run. A
  // dequantize left over only feeds such an op: name the op, not it.
  Operation *leftover = nullptr;
  for (Operation &op : func.getBody().front()) {
    if (isa<func::ReturnOp, ConstantOp>(op))
      continue;
    if (op.getDialect() && op.getDialect()->getNamespace() == "lowbit" &&
        !isa<DequantizeOp, QuantizeOp>(op))
      continue;
    if (isa<tosa::ConstShapeOp, tosa::ConstOp>(op) || floatOps.contains(&op))
      continue;
    // The dequantize into, and the quantize out of, a float region.
    if (auto dq = dyn_cast<DequantizeOp>(op);
        dq && !dq->use_empty() &&
        llvm::all_of(dq->getUsers(),
                     [&](Operation *u) { return floatOps.contains(u); }))
      continue;
    if (auto q = dyn_cast<QuantizeOp>(op))
      if (Operation *def = q.getInput().getDefiningOp();
          def && floatOps.contains(def))
        continue;
    if (!leftover || isa<DequantizeOp, QuantizeOp>(leftover))
      leftover = &op;
    if (!isa<DequantizeOp, QuantizeOp>(op))
      break;
  }
  if (leftover) {
    leftover->emitError("convert-tosa-to-lowbit: '")
        << leftover->getName() << "' cannot be lowered to the integer target";
    return signalPassFailure();
  }
  for (BlockArgument arg : func.getArguments())
    if (isa<FloatType>(getElementTypeOrSelf(arg.getType())) &&
        !arg.use_empty()) {
      func.emitError() << "convert-tosa-to-lowbit: argument #"
                       << arg.getArgNumber() << " is used as float";
      return signalPassFailure();
    }
  func.setFunctionType(FunctionType::get(
      &getContext(), func.getBody().front().getArgumentTypes(),
      ret->getOperandTypes()));
  // Name what stays float, once per source location (one ONNX node, e.g. a
  // Softmax, is several TOSA ops).
  llvm::MapVector<Location, SmallVector<Operation *>> byLoc;
  for (Operation *op : floatOps)
    byLoc[op->getLoc()].push_back(op);
  for (auto &[loc, ops] : byLoc) {
    InFlightDiagnostic d = emitWarning(loc) << "convert-tosa-to-lowbit: ";
    for (auto [i, op] : llvm::enumerate(ops))
      d << (i ? ", '" : "'") << op->getName() << "'";
    d << (ops.size() > 1 ? " stay" : " stays")
      << " float (no integer form): the C++ target runs "
      << (ops.size() > 1 ? "them" : "it")
      << " with float kernels (float-fallback=false makes this an error)";
  }
}
