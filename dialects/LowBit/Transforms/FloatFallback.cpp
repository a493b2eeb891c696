//===- FloatFallback.cpp - Ops that stay float in the C++ target ----------===//
//
// Part of the lowbit project.
//
//===----------------------------------------------------------------------===//

#include "LowBit/Transforms/FloatFallback.h"

#include "LowBit/IR/LowBitOps.h"

#include "mlir/Dialect/Quant/IR/Quant.h"
#include "mlir/Dialect/Tosa/IR/TosaOps.h"
#include "mlir/IR/Matchers.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace mlir::lowbit;
namespace rt = ::lowbit::rt;

static bool isF32Result(Operation *op) {
  if (op->getNumResults() != 1)
    return false;
  auto t = dyn_cast<RankedTensorType>(op->getResult(0).getType());
  return t && t.getElementType().isF32();
}

/// A float32 tosa.pow whose exponent is a constant splat of 0.5: the
/// importer's square root (TOSA has none), run as sqrtf.
static bool isSqrtPow(Operation *op) {
  auto pow = dyn_cast<tosa::PowOp>(op);
  if (!pow)
    return false;
  DenseElementsAttr e;
  if (!matchPattern(pow.getInput2(), m_Constant(&e)) || !e.isSplat() ||
      !e.getElementType().isF32())
    return false;
  // The result has the base's shape: the exponent only broadcasts.
  return e.getSplatValue<APFloat>().convertToFloat() == 0.5f &&
         pow.getInput1().getType() == pow.getType();
}

std::optional<rt::UnaryKind> mlir::lowbit::floatUnaryKind(Operation *op) {
  if (!isF32Result(op))
    return std::nullopt;
  if (isSqrtPow(op))
    return rt::UnaryKind::Sqrt;
  return llvm::TypeSwitch<Operation *, std::optional<rt::UnaryKind>>(op)
      .Case<tosa::ExpOp>([](auto) { return rt::UnaryKind::Exp; })
      .Case<tosa::ReciprocalOp>([](auto) { return rt::UnaryKind::Reciprocal; })
      .Case<tosa::SigmoidOp>([](auto) { return rt::UnaryKind::Sigmoid; })
      .Case<tosa::TanhOp>([](auto) { return rt::UnaryKind::Tanh; })
      .Case<tosa::NegateOp>([](auto) { return rt::UnaryKind::Negate; })
      .Case<tosa::AbsOp>([](auto) { return rt::UnaryKind::Abs; })
      .Case<tosa::FloorOp>([](auto) { return rt::UnaryKind::Floor; })
      .Case<tosa::CeilOp>([](auto) { return rt::UnaryKind::Ceil; })
      .Case<tosa::RsqrtOp>([](auto) { return rt::UnaryKind::Rsqrt; })
      .Case<tosa::ErfOp>([](auto) { return rt::UnaryKind::Erf; })
      .Default([](Operation *) { return std::nullopt; });
}

std::optional<rt::BinaryKind> mlir::lowbit::floatBinaryKind(Operation *op) {
  if (!isF32Result(op))
    return std::nullopt;
  if (auto mul = dyn_cast<tosa::MulOp>(op)) {
    DenseElementsAttr shift;
    if (!matchPattern(mul.getShift(), m_Constant(&shift)) ||
        !llvm::all_of(shift.getValues<APInt>(),
                      [](const APInt &v) { return v.isZero(); }))
      return std::nullopt;
    return rt::BinaryKind::Mul;
  }
  return llvm::TypeSwitch<Operation *, std::optional<rt::BinaryKind>>(op)
      .Case<tosa::AddOp>([](auto) { return rt::BinaryKind::Add; })
      .Case<tosa::SubOp>([](auto) { return rt::BinaryKind::Sub; })
      .Case<tosa::MaximumOp>([](auto) { return rt::BinaryKind::Maximum; })
      .Case<tosa::MinimumOp>([](auto) { return rt::BinaryKind::Minimum; })
      .Case<tosa::PowOp>([&](auto) -> std::optional<rt::BinaryKind> {
        // A square root is a unary kernel (floatUnaryKind).
        if (isSqrtPow(op))
          return std::nullopt;
        return rt::BinaryKind::Pow;
      })
      .Default([](Operation *) { return std::nullopt; });
}

bool mlir::lowbit::isConstantLike(Value v) {
  while (Operation *def = v.getDefiningOp()) {
    if (isa<tosa::ReshapeOp, tosa::TransposeOp, DequantizeOp,
            quant::DequantizeCastOp, quant::StorageCastOp>(def)) {
      v = def->getOperand(0);
      continue;
    }
    return def->hasTrait<OpTrait::ConstantLike>();
  }
  return false;
}

bool mlir::lowbit::isActivationProduct(Operation *op) {
  auto mul = dyn_cast<tosa::MulOp>(op);
  return mul && floatBinaryKind(op) && !isConstantLike(mul.getInput1()) &&
         !isConstantLike(mul.getInput2());
}

bool mlir::lowbit::isPositionalConstant(Value c, Type result) {
  auto ct = dyn_cast<RankedTensorType>(c.getType());
  auto rt = dyn_cast<RankedTensorType>(result);
  if (!ct || !rt || !ct.hasStaticShape() || !rt.hasStaticShape() ||
      ct.getRank() > rt.getRank() || !isConstantLike(c))
    return false;
  int64_t offset = rt.getRank() - ct.getRank();
  bool varies = false;
  for (int64_t i = 0; i < ct.getRank(); ++i) {
    int64_t d = ct.getDimSize(i);
    if (d != 1 && d != rt.getDimSize(offset + i))
      return false; // does not broadcast
    varies |= d > 1 && offset + i != rt.getRank() - 1;
  }
  return varies;
}

bool mlir::lowbit::isActivationMatMul(Operation *op) {
  auto mm = dyn_cast<tosa::MatMulOp>(op);
  return mm && isF32Result(op) && !isConstantLike(mm.getA()) &&
         !isConstantLike(mm.getB());
}

bool mlir::lowbit::isActivationBinary(Operation *op) {
  if (isActivationProduct(op))
    return true;
  auto kind = floatBinaryKind(op);
  if (!kind || isa<tosa::MulOp>(op) || isConstantLike(op->getOperand(0)) ||
      isConstantLike(op->getOperand(1)))
    return false;
  // lowbit.add adds two activations of one shape; a broadcasting add, and
  // a difference, maximum or minimum of activations, have no integer form.
  if (*kind == ::lowbit::rt::BinaryKind::Add)
    return op->getOperand(0).getType() != op->getOperand(1).getType();
  return true;
}

bool mlir::lowbit::isFloatReduce(Operation *op) {
  return isF32Result(op) && isa<tosa::ReduceMaxOp, tosa::ReduceSumOp>(op);
}

bool mlir::lowbit::hasNoIntegerForm(Operation *op) {
  // A power has no integer form even with a constant exponent.
  bool pow = floatBinaryKind(op) == rt::BinaryKind::Pow;
  return floatUnaryKind(op) || isFloatReduce(op) || isActivationBinary(op) ||
         pow;
}

/// The non-constant input of one step of an affine-and-clamp chain: an f32
/// add, sub, mul (shift 0), maximum or minimum with one constant operand,
/// or a clamp. Null for any other op.
static Value constantStepInput(Operation *op) {
  if (!isF32Result(op))
    return {};
  if (isa<tosa::ClampOp>(op))
    return op->getOperand(0);
  if (!floatBinaryKind(op))
    return {};
  Value a = op->getOperand(0), c = op->getOperand(1);
  if (isConstantLike(c) && !isConstantLike(a))
    return a;
  if (isConstantLike(a) && !isConstantLike(c))
    return c;
  return {};
}

llvm::SetVector<Operation *> mlir::lowbit::floatFallbackOps(func::FuncOp func) {
  llvm::SetVector<Operation *> ops;
  if (func.isExternal())
    return ops;
  for (Operation &op : func.getBody().front()) {
    if (hasNoIntegerForm(&op)) {
      ops.insert(&op);
      continue;
    }
    // Reads the result of an op that stays float.
    bool follower =
        floatBinaryKind(&op).has_value() ||
        (isa<tosa::ReshapeOp, tosa::TransposeOp>(op) && isF32Result(&op));
    if (follower && llvm::any_of(op.getOperands(), [&](Value v) {
          Operation *def = v.getDefiningOp();
          return def && ops.contains(def);
        }))
      ops.insert(&op);
  }
  // An affine-and-clamp chain (x / 6 + 0.5 and a clamp: a hard sigmoid;
  // x / sqrt(2): GELU's erf argument) whose every user stays float, and
  // that starts at a value the region reads too, is part of the function
  // the region computes of that value (HardSwish's x * hardsigmoid(x)):
  // the region then reads one activation, and the integer target can run
  // it as one lookup table rather than quantizing each branch on the way.
  for (bool grew = true; grew;) {
    grew = false;
    for (Operation &op : llvm::reverse(func.getBody().front())) {
      if (ops.contains(&op) || op.use_empty() || !constantStepInput(&op) ||
          !llvm::all_of(op.getUsers(),
                        [&](Operation *u) { return ops.contains(u); }))
        continue;
      bool reaches = false;
      Value v = constantStepInput(&op);
      for (int step = 0; step < 16 && v; ++step) {
        if (llvm::any_of(v.getUsers(),
                         [&](Operation *u) { return ops.contains(u); })) {
          reaches = true;
          break;
        }
        Operation *def = v.getDefiningOp();
        if (!def || ops.contains(def))
          break;
        v = constantStepInput(def);
      }
      if (reaches) {
        ops.insert(&op);
        grew = true;
      }
    }
  }
  // A layout transpose (an NCHW model's) whose every user stays float
  // belongs to the region too: it moves float values, and the region then
  // starts at its input (EfficientNet's SiLU feeding squeeze-and-excitation).
  Block &body = func.getBody().front();
  for (bool grew = true; grew;) {
    grew = false;
    for (Operation &op : llvm::reverse(body)) {
      if (ops.contains(&op) || op.use_empty() || !isa<tosa::TransposeOp>(op) ||
          !isF32Result(&op))
        continue;
      if (llvm::all_of(op.getUsers(),
                       [&](Operation *u) { return ops.contains(u); })) {
        ops.insert(&op);
        grew = true;
      }
    }
  }
  // In block order, as the passes that read the set expect.
  llvm::SetVector<Operation *> ordered;
  for (Operation &op : body)
    if (ops.contains(&op))
      ordered.insert(&op);
  return ordered;
}
