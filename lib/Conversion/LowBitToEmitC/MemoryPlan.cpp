//===- MemoryPlan.cpp - The arena plan and buffer pointers ----------------===//
//
// Part of the lowbit project.
//
//===----------------------------------------------------------------------===//

#include "EmitterImpl.h"


namespace lowbit {
namespace emitc_target {

LogicalResult Emitter::plan() {
  Block &body = func.getBody().front();
  // Every op must have a kernel before anything is laid out.
  for (Operation &op : body) {
    bool floatFallback =
        isFloatKernelOp(&op) ||
        isa<lb::QuantizeOp, lb::DequantizeOp, tosa::ReshapeOp,
            tosa::TransposeOp, tosa::ConstOp, tosa::ConstShapeOp>(op);
    if (!floatFallback &&
        !isa<lb::ConstantOp, lb::ReshapeOp, lb::BitcastOp, lb::Conv2DOp,
             lb::FullyConnectedOp, lb::RequantOp, lb::PReluOp, lb::AddOp,
             lb::ClampOp, lb::LookupOp, lb::MulOp, lb::MatMulOp, lb::SoftmaxOp, lb::MaxPoolOp, lb::AvgPoolOp, lb::GlobalAvgPoolOp,
             lb::TransposeOp, lb::ConcatOp, lb::SliceOp, lb::PadOp, lb::ResizeOp,
             func::ReturnOp>(op))
      return op.emitError("convert-lowbit-to-emitc: '")
                 << op.getName()
                 << "' has no kernel in the C++ target (lower the "
                    "model with convert-tosa-to-lowbit first)",
             failure();
    if (isa<lb::Conv2DOp, lb::FullyConnectedOp>(op) &&
        op.hasAttr("weight_encoding") && !op.hasAttr("shift_products"))
      return op.emitError("convert-lowbit-to-emitc: log / STLQ weights run "
                          "as shifts or int8: run lowbit-lower-log-to-shift "
                          "first"),
             failure();
  }
  for (BlockArgument arg : func.getArguments())
    buffers[arg] = {Buffer::Input, arg.getArgNumber()};
  auto ret = cast<func::ReturnOp>(body.getTerminator());
  // Results computed straight into the caller's output buffers.
  for (OpOperand &o : ret->getOpOperands()) {
    Value r = root(o.get());
    if (isa<BlockArgument>(r) || buffers.count(r) ||
        r.getDefiningOp<lb::ConstantOp>())
      continue; // copied at the end
    buffers[r] = {Buffer::Output, o.getOperandNumber()};
  }
  // Layers that run as one fast kernel with their requant, and the
  // constants only they read (their packed form replaces them in the blob).
  llvm::DenseSet<Operation *> packedOnly;
  for (Operation &op : body)
    if (std::optional<Fused> f = fusable(&op)) {
      fused[&op] = *f;
      fusedRequants.insert(f->requant);
    }
  usesFastKernels = !fused.empty();
  for (Operation &op : body) {
    if (auto add = dyn_cast<lb::AddOp>(op))
      usesFastKernels |= fastAdd(add).has_value();
    if (auto mp = dyn_cast<lb::MaxPoolOp>(op))
      usesFastKernels |= eightBitSignedness(mp.getInput()) >= 0;
  }
  for (Operation &op : body)
    if (op.hasAttr("shift_products")) {
      // The codes packed at their bit width replace the code constant.
      FailureOr<lb::PackedLogWeights> w = lb::getPackedLogWeights(&op);
      if (failed(w))
        return failure();
      ShiftWeights sw;
      sw.desc = w->desc;
      sw.bytes = static_cast<int64_t>(w->bytes.size());
      sw.offset = addBlob(w->bytes.data(), w->bytes.size());
      shiftWeights[&op] = sw;
    }
  for (Operation &op : body)
    if (auto c = dyn_cast<lb::ConstantOp>(op))
      if (!c->use_empty() && llvm::all_of(c->getUsers(), [&](Operation *u) {
            return fused.count(u) != 0 ||
                   (shiftWeights.count(u) != 0 &&
                    u->getOperand(1) == c.getResult());
          }))
        packedOnly.insert(c);
  // Lifetimes.
  llvm::DenseMap<Value, int64_t> lastUse;
  std::vector<Operation *> ops;
  for (Operation &op : body)
    ops.push_back(&op);
  for (int64_t i = 0, e = ops.size(); i < e; ++i)
    for (Value v : ops[i]->getOperands())
      lastUse[root(v)] = i;
  // First fit over live intervals, in op order.
  std::map<int64_t, std::pair<int64_t, int64_t>> live; // offset -> (end, last)
  for (int64_t i = 0, e = ops.size(); i < e; ++i) {
    Operation *op = ops[i];
    if (auto c = dyn_cast<lb::ConstantOp>(op)) {
      if (packedOnly.count(c))
        continue;
      auto off = addConstant(c);
      if (failed(off))
        return failure();
      buffers[c.getResult()] = {Buffer::Constant, *off};
      continue;
    }
    if (isFloatConstant(op)) {
      auto off = addFloatConstant(cast<tosa::ConstOp>(op));
      if (failed(off))
        return failure();
      buffers[op->getResult(0)] = {Buffer::Constant, *off};
      continue;
    }
    if (isa<lb::ReshapeOp, lb::BitcastOp, tosa::ReshapeOp, tosa::ConstOp,
            tosa::ConstShapeOp, func::ReturnOp>(op) ||
        fusedRequants.count(op))
      continue;
    // A fused layer writes its requant's result while it reads its input:
    // that result is placed here, where the input is still live.
    SmallVector<Value> results(op->getResults());
    if (auto it = fused.find(op); it != fused.end()) {
      auto desc = packFused(op, it->second);
      if (failed(desc))
        return failure();
      fusedDesc[op] = *desc;
      results = {it->second.requant.getResult()};
    }
    for (Value r : results) {
      if (buffers.count(r))
        continue;
      auto type = cast<RankedTensorType>(r.getType());
      Type st = storageType(type.getElementType());
      if (cTypeName(st).empty() || !type.hasStaticShape())
        return op->emitError("convert-lowbit-to-emitc: result type ")
                   << type << " has no C storage (static shape, 8 to 64-bit "
                              "integers)",
               failure();
      int64_t size = alignUp(type.getNumElements() * storageBytes(st));
      int64_t off = 0;
      for (auto &[start, endLast] : live) {
        if (off + size <= start)
          break;
        off = std::max(off, endLast.first);
      }
      live[off] = {off + size, lastUse.count(r) ? lastUse[r] : i};
      arenaBytes = std::max(arenaBytes, off + size);
      buffers[r] = {Buffer::Arena, off};
    }
    for (auto it = live.begin(); it != live.end();)
      it = it->second.second <= i ? live.erase(it) : std::next(it);
  }
  // Staging for the float wrapper, after the run's arena.
  stagingBytes = 0;
  auto stage = [&](Type t) {
    auto type = cast<RankedTensorType>(t);
    int64_t off = alignUp(arenaBytes) + stagingBytes;
    stagingBytes += alignUp(type.getNumElements() *
                            storageBytes(storageType(type.getElementType())));
    return off;
  };
  for (Type t : func.getArgumentTypes())
    inputStaging.push_back(stage(t));
  for (Type t : func.getResultTypes())
    outputStaging.push_back(
        cast<RankedTensorType>(t).getElementType().isF32() ? -1 : stage(t));
  return success();
}


Value Emitter::pointerAt(Location loc, bool fromWeights, int64_t offset,
                         Type t) {
  Type result = ptrType(t, fromWeights);
  auto op = emitc::CallOpaqueOp::create(
      b, loc, TypeRange{result}, "lowbit::rt::bufferAt",
      ValueRange{fromWeights ? weights : arena},
      b.getArrayAttr({b.getIndexAttr(0), lit(offset)}),
      b.getArrayAttr({lit(cTypeName(t))}));
  return op.getResult(0);
}

Value Emitter::pointerOf(Value v) {
  Value r = root(v);
  auto it = pointers.find(r);
  Value p = it->second;
  // A view with another storage type (a bitcast) casts the pointer.
  Type want =
      storageType(cast<RankedTensorType>(v.getType()).getElementType());
  Type have =
      storageType(cast<RankedTensorType>(r.getType()).getElementType());
  if (want == have)
    return p;
  bool isConst = buffers[r].kind == Buffer::Input ||
                 buffers[r].kind == Buffer::Constant;
  return emitc::CastOp::create(b, v.getLoc(), ptrType(want, isConst), p);
}

void Emitter::call(Location loc, StringRef callee, ArrayRef<Value> operands,
                   ArrayRef<Attribute> args,
                   ArrayRef<std::string> templateArgs) {
  SmallVector<Attribute> t;
  for (const std::string &s : templateArgs)
    t.push_back(lit(s));
  emitc::CallOpaqueOp::create(b, loc, TypeRange{}, callee, operands,
                              b.getArrayAttr(args),
                              t.empty() ? ArrayAttr() : b.getArrayAttr(t));
}

} // namespace emitc_target
} // namespace lowbit
