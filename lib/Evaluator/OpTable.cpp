//===- OpTable.cpp - Op class to evaluator handler ------------------------===//
//
// Part of the lowbit project.
//
//===----------------------------------------------------------------------===//
//
// The one table from op class to the Impl method that runs it; prepare()
// accepts exactly the ops in it (and constants). A new op is a line here, a
// declaration in EvaluatorImpl.h and its handler in the file of its family.
//
//===----------------------------------------------------------------------===//

#include "EvaluatorImpl.h"

#include "LowBit/Transforms/FloatFallback.h"

#include <cassert>

using namespace mlir;
using namespace ::lowbit;

namespace {

template <typename TableT>
void add(TableT &table, TypeID id, typename TableT::mapped_type handler) {
  [[maybe_unused]] bool inserted = table.try_emplace(id, handler).second;
  assert(inserted && "op class in the evaluator's table twice");
}

/// Registers `handler`, which takes any of OpTys, for each of them.
template <typename... OpTys, typename TableT>
void shared(TableT &table, typename TableT::mapped_type handler) {
  (add(table, TypeID::get<OpTys>(), handler), ...);
}

template <typename OpTy, typename ImplT>
LogicalResult evalAs(ImplT &impl, Operation *op) {
  return impl.eval(cast<OpTy>(op));
}

/// Registers Impl::eval(OpTy) for each of OpTys.
template <typename... OpTys, typename ImplT>
void own(
    llvm::DenseMap<TypeID, LogicalResult (*)(ImplT &, Operation *)> &table) {
  (add(table, TypeID::get<OpTys>(), &evalAs<OpTys, ImplT>), ...);
}

} // namespace

Evaluator::Impl::Handler Evaluator::Impl::handlerFor(Operation *op) {
  using Table = llvm::DenseMap<TypeID, Handler>;
  static const Table table = [] {
    Table t;
    // Constants.cpp (prepare() converts tosa.const, arith.constant and
    // lowbit.constant once; they are not in the table).
    own<tosa::ConstShapeOp>(t);

    // Elementwise.cpp
    shared<tosa::AddOp, tosa::SubOp, tosa::MulOp, tosa::MaximumOp,
           tosa::MinimumOp, tosa::IntDivOp, tosa::GreaterEqualOp,
           tosa::GreaterOp, tosa::EqualOp, tosa::SelectOp, tosa::LogicalAndOp,
           tosa::LogicalOrOp>(
        t, [](Impl &i, Operation *op) { return i.binary(op); });
    shared<tosa::ReciprocalOp, tosa::ExpOp, tosa::SigmoidOp, tosa::TanhOp,
           tosa::NegateOp, tosa::AbsOp, tosa::FloorOp, tosa::CeilOp,
           tosa::RsqrtOp, tosa::ErfOp, tosa::LogicalNotOp>(
        t, [](Impl &i, Operation *op) { return i.unary(op); });
    // A power by a constant 0.5 is a square root (a unary kernel).
    shared<tosa::PowOp>(t, [](Impl &i, Operation *op) {
      return mlir::lowbit::floatUnaryKind(op) ? i.unary(op) : i.binary(op);
    });
    own<tosa::ClampOp, tosa::CastOp>(t);

    // TosaConvPool.cpp
    shared<tosa::Conv2DOp>(
        t, [](Impl &i, Operation *op) { return i.conv(op, false); });
    shared<tosa::DepthwiseConv2DOp>(
        t, [](Impl &i, Operation *op) { return i.conv(op, true); });
    own<tosa::MatMulOp>(t);
    shared<tosa::MaxPool2dOp>(
        t, [](Impl &i, Operation *op) { return i.pool(op, true); });
    shared<tosa::AvgPool2dOp>(
        t, [](Impl &i, Operation *op) { return i.pool(op, false); });
    shared<tosa::ReduceMaxOp>(
        t, [](Impl &i, Operation *op) { return i.reduce(op, true); });
    shared<tosa::ReduceSumOp>(
        t, [](Impl &i, Operation *op) { return i.reduce(op, false); });

    // DataMovement.cpp
    own<tosa::TransposeOp, tosa::ReshapeOp, tosa::SliceOp, tosa::PadOp,
        tosa::ResizeOp, tosa::ConcatOp, tosa::TileOp, tosa::GatherOp>(t);
    own<mlir::lowbit::BitcastOp, mlir::lowbit::ReshapeOp,
        mlir::lowbit::TransposeOp, mlir::lowbit::SliceOp, mlir::lowbit::PadOp,
        mlir::lowbit::ResizeOp, mlir::lowbit::ConcatOp>(t);

    // Quantization.cpp
    own<quant::QuantizeCastOp, quant::DequantizeCastOp, quant::StorageCastOp>(
        t);
    own<mlir::lowbit::QuantizeOp, mlir::lowbit::DequantizeOp,
        mlir::lowbit::RequantOp, mlir::lowbit::PReluOp, mlir::lowbit::AddOp,
        mlir::lowbit::ClampOp>(t);

    // LowBitConvPool.cpp
    own<mlir::lowbit::Conv2DOp, mlir::lowbit::FullyConnectedOp,
        mlir::lowbit::MaxPoolOp, mlir::lowbit::AvgPoolOp,
        mlir::lowbit::GlobalAvgPoolOp>(t);
    return t;
  }();
  auto it = table.find(op->getName().getTypeID());
  return it == table.end() ? nullptr : it->second;
}
