//===- Emitter.cpp - One runtime call per op, dispatched by family --------===//
//
// Part of the lowbit project.
//
//===----------------------------------------------------------------------===//

#include "EmitterImpl.h"

#include "llvm/ADT/TypeSwitch.h"

namespace lowbit {
namespace emitc_target {

LogicalResult Emitter::emitOp(Operation *op) {
  Location loc = op->getLoc();
  if (isa<lb::ReshapeOp, lb::BitcastOp, lb::ConstantOp, tosa::ReshapeOp,
          tosa::ConstOp, tosa::ConstShapeOp>(op) ||
      fusedRequants.count(op))
    return success();
  auto fusedIt = fused.find(op);
  SmallVector<Value> results(op->getResults());
  if (fusedIt != fused.end())
    results = {fusedIt->second.requant.getResult()};
  // The result's pointer.
  for (Value r : results) {
    Buffer buf = buffers[r];
    Type st =
        storageType(cast<RankedTensorType>(r.getType()).getElementType());
    if (buf.kind == Buffer::Output)
      pointers[r] = outputs[buf.index];
    else
      pointers[r] = pointerAt(loc, false, buf.index, st);
  }
  if (fusedIt != fused.end())
    return emitFused(op, fusedIt->second);
  return llvm::TypeSwitch<Operation *, LogicalResult>(op)
      .Case<lb::Conv2DOp>([&](auto conv) { return emitConv(conv); })
      .Case<lb::FullyConnectedOp>([&](auto fc) { return emitFullyConnected(fc); })
      .Case<lb::RequantOp>([&](auto rq) { return emitRequant(rq); })
      .Case<lb::PReluOp>([&](auto pr) { return emitPRelu(pr); })
      .Case<lb::AddOp>([&](auto add) { return emitAdd(add); })
      .Case<lb::ClampOp>([&](auto cl) { return emitClamp(cl); })
      .Case<lb::LookupOp>([&](auto op) { return emitLookup(op); })
      .Case<lb::MulOp>([&](auto op) { return emitMul(op); })
      .Case<lb::SoftmaxOp>([&](auto op) { return emitSoftmax(op); })
      .Case<lb::MatMulOp>([&](auto op) { return emitMatMul(op); })
      .Case<lb::MaxPoolOp, lb::AvgPoolOp, lb::GlobalAvgPoolOp>(
          [&](Operation *pool) { return emitPool(pool); })
      .Case<lb::TransposeOp, tosa::TransposeOp>(
          [&](Operation *t) { return emitTranspose(t); })
      .Case<lb::ResizeOp>([&](auto rs) { return emitResize(rs); })
      .Case<lb::SliceOp, lb::PadOp>(
          [&](Operation *sp) { return emitSliceOrPad(sp); })
      .Case<lb::ConcatOp>([&](auto cat) { return emitConcat(cat); })
      .Case<lb::DequantizeOp>([&](auto dq) { return emitDequantize(dq); })
      .Case<lb::QuantizeOp>([&](auto qo) { return emitQuantize(qo); })
      .Default([&](Operation *other) { return emitFloatKernelOrFail(other); });
}

} // namespace emitc_target
} // namespace lowbit
