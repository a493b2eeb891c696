//===- EmitFloatFallback.cpp - Float fallback regions' calls --------------===//
//
// Part of the lowbit project.
//
//===----------------------------------------------------------------------===//
//
// A float fallback region (ops with no integer form, lowbitc
// --float-fallback) runs between a dequantize and a quantize: those edges
// call dequantizeTensor / quantizeToBytes, the float ops the runtime's float
// kernels (unaryTensorF32, broadcastBinaryF32, reduceF32; the list of ops
// and their kernels is LowBit/Transforms/FloatFallback.h). Any other op has
// no kernel in the C++ target: an error.
//
//===----------------------------------------------------------------------===//

#include "EmitterImpl.h"

#include "llvm/Support/raw_ostream.h"

namespace lowbit {
namespace emitc_target {

/// The per-tensor quantized type the float fallback's edges need.
static FailureOr<quant::UniformQuantizedType> perTensor(Operation *op,
                                                        Value v) {
  auto q = dyn_cast<quant::UniformQuantizedType>(
      cast<RankedTensorType>(v.getType()).getElementType());
  if (!q)
    return op->emitError("convert-lowbit-to-emitc: float fallback needs "
                         "a per-tensor quantized type, got ")
               << v.getType(),
           failure();
  return q;
}

LogicalResult Emitter::emitDequantize(lb::DequantizeOp dq) {
  llvm::raw_string_ostream sum(summary);
  auto q = perTensor(dq, dq.getInput());
  if (failed(q))
    return failure();
  dequantizeCall(dq.getLoc(), pointerOf(dq.getInput()),
                 pointers[dq.getResult()], count(dq.getInput()), *q);
  sum << "dequantize  -> " << describeValue(dq.getResult())
      << " (float fallback)\n";
  ++floatEdgeCount;
  return success();
}

LogicalResult Emitter::emitQuantize(lb::QuantizeOp qo) {
  llvm::raw_string_ostream sum(summary);
  auto q = perTensor(qo, qo.getResult());
  if (failed(q))
    return failure();
  quantizeCall(qo.getLoc(), pointerOf(qo.getInput()), pointers[qo.getResult()],
               count(qo.getInput()), *q);
  sum << "quantize    -> " << describeValue(qo.getResult())
      << " (float fallback)\n";
  ++floatEdgeCount;
  return success();
}

LogicalResult Emitter::emitFloatKernelOrFail(Operation *op) {
  Location loc = op->getLoc();
  llvm::raw_string_ostream sum(summary);
  std::string opName = op->getName().getStringRef().str();
  if (auto kind = lb::floatUnaryKind(op)) {
    // In rt::UnaryKind's order.
    static const char *names[] = {"Exp",    "Reciprocal", "Sigmoid", "Tanh",
                                  "Negate", "Abs",        "Floor",   "Ceil",
                                  "Sqrt",   "Rsqrt",      "Erf"};
    call(loc, "lowbit::rt::unaryTensorF32",
         {pointerOf(op->getOperand(0)), pointers[op->getResult(0)]},
         {idx(0), idx(1), lit(count(op->getResult(0))),
          lit(std::string("lowbit::rt::UnaryKind::") +
              names[static_cast<int>(*kind)])},
         {});
    sum << "float       " << opName << " -> " << describeValue(op->getResult(0))
        << " (float fallback)\n";
    ++floatOpCount;
    return success();
  }
  if (auto kind = lb::floatBinaryKind(op)) {
    // In rt::BinaryKind's order.
    static const char *names[] = {"Add",     "Sub",     "Mul",
                                  "Maximum", "Minimum", "Pow"};
    auto out = cast<RankedTensorType>(op->getResult(0).getType());
    int64_t rank = out.getRank();
    if (rank > 4)
      return op->emitError("convert-lowbit-to-emitc: float fallback "
                           "supports elementwise ops of rank <= 4, got ")
                 << rank,
             failure();
    std::string spec;
    llvm::raw_string_ostream os(spec);
    auto list = [&](auto valueAt) {
      os << "{";
      for (int64_t d = 0; d < 4; ++d)
        os << (d ? ", " : "") << (d < 4 - rank ? 0 : valueAt(d - (4 - rank)));
      os << "}";
    };
    auto strides = [&](Value v) {
      auto t = cast<RankedTensorType>(v.getType());
      SmallVector<int64_t> st(rank, 0);
      int64_t s = 1;
      for (int64_t d = rank - 1; d >= 0; --d) {
        st[d] = t.getDimSize(d) == 1 && out.getDimSize(d) != 1 ? 0 : s;
        s *= t.getDimSize(d);
      }
      return st;
    };
    SmallVector<int64_t> sa = strides(op->getOperand(0)),
                         sb = strides(op->getOperand(1));
    os << "lowbit::rt::Broadcast4{";
    // Leading padded dimensions have extent 1 (and any stride).
    os << "{";
    for (int64_t d = 0; d < 4; ++d)
      os << (d ? ", " : "")
         << (d < 4 - rank ? 1 : out.getDimSize(d - (4 - rank)));
    os << "}, ";
    list([&](int64_t d) { return sa[d]; });
    os << ", ";
    list([&](int64_t d) { return sb[d]; });
    os << "}";
    call(loc, "lowbit::rt::broadcastBinaryF32",
         {pointerOf(op->getOperand(0)), pointerOf(op->getOperand(1)),
          pointers[op->getResult(0)]},
         {idx(0), idx(1), idx(2),
          lit(std::string("lowbit::rt::BinaryKind::") +
              names[static_cast<int>(*kind)]),
          lit(spec)},
         {});
    sum << "float       " << opName << " -> " << describeValue(op->getResult(0))
        << " (float fallback)\n";
    ++floatOpCount;
    return success();
  }
  if (lb::isFloatReduce(op)) {
    bool isMax = isa<tosa::ReduceMaxOp>(op);
    int64_t axis = isMax ? cast<tosa::ReduceMaxOp>(op).getAxis()
                         : cast<tosa::ReduceSumOp>(op).getAxis();
    auto in = cast<RankedTensorType>(op->getOperand(0).getType());
    int64_t outer = 1, inner = 1;
    for (int64_t d = 0; d < axis; ++d)
      outer *= in.getDimSize(d);
    for (int64_t d = axis + 1; d < in.getRank(); ++d)
      inner *= in.getDimSize(d);
    call(loc, "lowbit::rt::reduceF32",
         {pointerOf(op->getOperand(0)), pointers[op->getResult(0)]},
         {idx(0), idx(1), lit(outer), lit(in.getDimSize(axis)), lit(inner),
          lit(isMax ? "true" : "false")},
         {});
    sum << "float       " << opName << " -> " << describeValue(op->getResult(0))
        << " (float fallback)\n";
    ++floatOpCount;
    return success();
  }
  return op->emitError("convert-lowbit-to-emitc: '")
             << op->getName()
             << "' has no kernel in the C++ target (lower the model "
                "with convert-tosa-to-lowbit first)",
         failure();
}

} // namespace emitc_target
} // namespace lowbit
