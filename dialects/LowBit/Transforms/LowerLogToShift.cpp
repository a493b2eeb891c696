//===- LowerLogToShift.cpp - Log / STLQ weights as shifts -----------------===//
//
// Part of the lowbit project.
//
//===----------------------------------------------------------------------===//
//
// See the pass description in Passes.td. The integers a code stands for are
// the runtime's (LogQuant.h, logCodeInteger, through getPackedLogWeights), so
// the int8 form and the shift form compute the same accumulator.
//
//===----------------------------------------------------------------------===//

#include "LowBit/IR/LowBitOps.h"
#include "LowBit/Transforms/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Quant/IR/QuantTypes.h"
#include "mlir/IR/Builders.h"

namespace mlir {
namespace lowbit {
#define GEN_PASS_DEF_LOWBITLOWERLOGTOSHIFT
#include "LowBit/Transforms/Passes.h.inc"
} // namespace lowbit
} // namespace mlir

using namespace mlir;
using namespace mlir::lowbit;
namespace rt = ::lowbit::rt;

namespace {

struct LowerLogToShiftPass
    : public mlir::lowbit::impl::LowBitLowerLogToShiftBase<
          LowerLogToShiftPass> {
  using Base::Base;

  void runOnOperation() override {
    func::FuncOp func = getOperation();
    if (kernels != "auto" && kernels != "shift") {
      func.emitError() << "lowbit-lower-log-to-shift: unknown kernels '"
                       << kernels << "' (auto or shift)";
      return signalPassFailure();
    }
    SmallVector<Operation *> layers;
    func.walk([&](Operation *op) {
      if ((isa<Conv2DOp>(op) && cast<Conv2DOp>(op).getWeightEncoding()) ||
          (isa<FullyConnectedOp>(op) &&
           cast<FullyConnectedOp>(op).getWeightEncoding()))
        layers.push_back(op);
    });
    for (Operation *op : layers)
      if (failed(lower(op)))
        return signalPassFailure();
  }

  LogicalResult lower(Operation *op) {
    if (op->hasAttr("shift_products"))
      return success();
    FailureOr<PackedLogWeights> w = getPackedLogWeights(op);
    if (failed(w))
      return failure();
    bool fitsInt8 = llvm::all_of(
        w->integers, [](int32_t v) { return v >= -128 && v <= 127; });
    if (kernels == "shift" || !fitsInt8) {
      op->setAttr("shift_products", UnitAttr::get(op->getContext()));
      return success();
    }
    // int8 weights of scale U 2^-M (per output channel when the encoding has
    // channel scales).
    Attribute enc = op->getAttr("weight_encoding");
    auto log = dyn_cast<LogAttr>(enc);
    auto stlq = dyn_cast<STLQAttr>(enc);
    unsigned bits = w->desc.bits;
    int64_t numScales = log ? log.getNumScales() : stlq.getNumScales();
    SmallVector<double> scales;
    for (int64_t c = 0; c < numScales; ++c)
      scales.push_back(std::ldexp(log ? log.getScaleValue(c)
                                      : stlq.getScaleValue(c),
                                  -rt::logMaxCode(bits)));
    MLIRContext *ctx = op->getContext();
    OpBuilder b(op);
    auto i8 = IntegerType::get(ctx, 8);
    Type f32 = b.getF32Type();
    unsigned flags = quant::QuantizationFlags::Signed;
    Type elt = numScales == 1
                   ? Type(quant::UniformQuantizedType::get(flags, i8, f32,
                                                           scales[0], 0, -128,
                                                           127))
                   : Type(quant::UniformQuantizedPerAxisType::get(
                         flags, i8, f32, scales,
                         SmallVector<int64_t>(numScales, 0), 0, -128, 127));
    SmallVector<int64_t> shape = {w->desc.oc};
    if (isa<Conv2DOp>(op))
      shape.append({w->desc.kh, w->desc.kw});
    shape.push_back(w->desc.ic);
    std::vector<int8_t> values(w->integers.begin(), w->integers.end());
    auto stored = DenseElementsAttr::get(RankedTensorType::get(shape, i8),
                                         ArrayRef<int8_t>(values));
    Value weight = ConstantOp::create(
        b, op->getLoc(), RankedTensorType::get(shape, elt), stored);
    op->setOperand(1, weight);
    op->removeAttr("weight_encoding");
    // Kept for reports (the C++ target's summary says which layers came
    // from log codes); nothing reads it for the arithmetic.
    op->setAttr("lowbit.decoded_encoding", enc);
    return success();
  }
};

} // namespace
