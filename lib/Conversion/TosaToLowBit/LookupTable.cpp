//===- LookupTable.cpp - Functions of one 8-bit activation as tables ------===//
//
// Part of the lowbit project.
//
//===----------------------------------------------------------------------===//
//
// A segment whose float ops are elementwise functions of ONE 8-bit
// activation (a sigmoid, tanh, exp, erf, reciprocal; SiLU x * sigmoid(x),
// HardSwish x * hardsigmoid(x), GELU x * (1 + erf(x / sqrt 2)) / 2, and any
// composition of them with scalar constants) has only 256 possible inputs.
// It becomes one lowbit.lut whose table is the float function evaluated in
// double at each stored input value and quantized once with the segment's
// output quantization (rt::quantizeValue, the runtime's rule): exact by
// construction.
//
// Q/DQ pairs inside the function (an activation the quantizer rounded on
// the way, e.g. HardSwish's hard sigmoid, quantized as the output of its
// own affine layer) are part of the function: the table rounds there too,
// as the Q/DQ graph does.
//
//===----------------------------------------------------------------------===//

#include "TosaToLowBit.h"

#include "LowBit/Transforms/FloatFallback.h"

#include "mlir/IR/Matchers.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/TypeSwitch.h"

#include <cmath>

namespace mlir {
namespace lowbit {
namespace tosa_to_lowbit {

namespace {

constexpr size_t kMaxChainOps = 64;
constexpr int kMaxExpansions = 8;

bool isF32Tensor(Value v) {
  auto t = dyn_cast<RankedTensorType>(v.getType());
  return t && t.getElementType().isF32();
}

/// A float tosa.mul's shift is a constant zero.
bool zeroShift(tosa::MulOp mul) {
  DenseElementsAttr shift;
  return matchPattern(mul.getShift(), m_Constant(&shift)) &&
         llvm::all_of(shift.getValues<APInt>(),
                      [](const APInt &v) { return v.isZero(); });
}

/// An elementwise f32 op the table evaluator computes.
bool isTableOp(Operation *op) {
  if (op->getNumResults() != 1 || !isF32Tensor(op->getResult(0)))
    return false;
  if (auto mul = dyn_cast<tosa::MulOp>(op))
    return zeroShift(mul);
  return isa<tosa::SigmoidOp, tosa::TanhOp, tosa::ExpOp, tosa::ErfOp,
             tosa::ReciprocalOp, tosa::RsqrtOp, tosa::NegateOp, tosa::AbsOp,
             tosa::FloorOp, tosa::CeilOp, tosa::LogOp, tosa::ClampOp,
             tosa::AddOp, tosa::SubOp, tosa::MaximumOp, tosa::MinimumOp,
             tosa::PowOp>(op);
}

/// Ops that make a table worth it: without one of them the segment is an
/// affine map and clamp, which the integer target already lowers exactly
/// (as a requant or a 1x1 depthwise layer).
bool isNonlinear(Operation *op) {
  if (isa<tosa::SigmoidOp, tosa::TanhOp, tosa::ExpOp, tosa::ErfOp,
          tosa::ReciprocalOp, tosa::RsqrtOp, tosa::AbsOp, tosa::FloorOp,
          tosa::CeilOp, tosa::LogOp, tosa::PowOp>(op))
    return true;
  // A product or max / min of two values of the function.
  return isa<tosa::MulOp, tosa::MaximumOp, tosa::MinimumOp, tosa::AddOp,
             tosa::SubOp>(op) &&
         !isConstantLike(op->getOperand(0)) &&
         !isConstantLike(op->getOperand(1));
}

/// A constant operand that is one value (a scalar, or a splat).
std::optional<double> scalarConstant(Value v) {
  if (!isConstantLike(v))
    return std::nullopt;
  auto values = floatValues(v);
  if (!values || values->empty())
    return std::nullopt;
  for (double x : *values)
    if (!(x == values->front()) && !(std::isnan(x) && std::isnan(values->front())))
      return std::nullopt;
  return values->front();
}

/// Leaves are equal when they are one value or dequantize one value.
Value leafKey(Value v) {
  if (auto dq = v.getDefiningOp<DequantizeOp>())
    return dq.getInput();
  return v;
}

/// The Q/DQ pair a leaf is (dequantize(quantize(y)) with y computed by a
/// table op), or null.
QuantizeOp expandableQuantize(Value leaf) {
  auto dq = leaf.getDefiningOp<DequantizeOp>();
  if (!dq)
    return nullptr;
  auto q = dq.getInput().getDefiningOp<QuantizeOp>();
  if (!q || !activationType(q.getResult()))
    return nullptr;
  Operation *y = q.getInput().getDefiningOp();
  return y && isTableOp(y) ? q : nullptr;
}

struct Chain {
  llvm::SetVector<Operation *> ops;
  llvm::SetVector<Value> leaves;   // by leafKey
  llvm::SetVector<Value> expanded; // dequantize results treated as Q/DQ
  bool tooBig = false;
};

void collect(Value v, Chain &c) {
  if (c.tooBig)
    return;
  if (c.expanded.contains(v)) {
    collect(v.getDefiningOp<DequantizeOp>()
                .getInput()
                .getDefiningOp<QuantizeOp>()
                .getInput(),
            c);
    return;
  }
  if (isConstantLike(v))
    return;
  Operation *def = v.getDefiningOp();
  if (def && isTableOp(def)) {
    if (!c.ops.insert(def))
      return;
    if (c.ops.size() > kMaxChainOps) {
      c.tooBig = true;
      return;
    }
    for (Value operand : def->getOperands().take_front(
             isa<tosa::MulOp>(def) ? 2 : def->getNumOperands()))
      collect(operand, c);
    return;
  }
  c.leaves.insert(leafKey(v));
}

/// The chain from `start`, with `expanded` Q/DQ pairs looked through.
Chain chainFrom(Value start, const llvm::SetVector<Value> &expanded) {
  Chain c;
  c.expanded = expanded;
  collect(start, c);
  return c;
}

/// Evaluates the chain in double at one value of the leaf.
class TableEvaluator {
public:
  TableEvaluator(const Chain &c, Value leaf) : chain(c), leafKeyValue(leaf) {}

  std::optional<double> at(Value v, double x) {
    memo.clear();
    this->x = x;
    return eval(v);
  }

private:
  std::optional<double> eval(Value v) {
    if (auto it = memo.find(v); it != memo.end())
      return it->second;
    std::optional<double> r = compute(v);
    if (r)
      memo[v] = *r;
    return r;
  }

  std::optional<double> compute(Value v) {
    if (chain.expanded.contains(v)) {
      auto q = v.getDefiningOp<DequantizeOp>()
                   .getInput()
                   .getDefiningOp<QuantizeOp>();
      auto qt = activationType(q.getResult());
      auto y = eval(q.getInput());
      if (!y)
        return std::nullopt;
      int32_t s = rt::quantizeValue(
          *y, qt.getScale(), static_cast<int32_t>(qt.getZeroPoint()),
          static_cast<int32_t>(qt.getStorageTypeMin()),
          static_cast<int32_t>(qt.getStorageTypeMax()));
      return rt::dequantizeValue(s, qt.getScale(),
                                 static_cast<int32_t>(qt.getZeroPoint()));
    }
    if (std::optional<double> k = scalarConstant(v))
      return k;
    Operation *def = v.getDefiningOp();
    if (!def || !chain.ops.contains(def))
      return leafKey(v) == leafKeyValue ? std::optional<double>(x)
                                        : std::nullopt;
    auto arg = [&](unsigned i) { return eval(def->getOperand(i)); };
    auto a = arg(0);
    if (!a)
      return std::nullopt;
    auto unary = [&](double r) -> std::optional<double> { return r; };
    auto binary =
        [&](auto fn) -> std::optional<double> {
      auto c = arg(1);
      if (!c)
        return std::nullopt;
      return fn(*a, *c);
    };
    return llvm::TypeSwitch<Operation *, std::optional<double>>(def)
        .Case([&](tosa::SigmoidOp) { return unary(1.0 / (1.0 + std::exp(-*a))); })
        .Case([&](tosa::TanhOp) { return unary(std::tanh(*a)); })
        .Case([&](tosa::ExpOp) { return unary(std::exp(*a)); })
        .Case([&](tosa::ErfOp) { return unary(std::erf(*a)); })
        .Case([&](tosa::ReciprocalOp) { return unary(1.0 / *a); })
        .Case([&](tosa::RsqrtOp) { return unary(1.0 / std::sqrt(*a)); })
        .Case([&](tosa::NegateOp) { return unary(-*a); })
        .Case([&](tosa::AbsOp) { return unary(std::fabs(*a)); })
        .Case([&](tosa::FloorOp) { return unary(std::floor(*a)); })
        .Case([&](tosa::CeilOp) { return unary(std::ceil(*a)); })
        .Case([&](tosa::LogOp) { return unary(std::log(*a)); })
        .Case([&](tosa::ClampOp c) -> std::optional<double> {
          auto lo = dyn_cast<FloatAttr>(c.getMinValAttr());
          auto hi = dyn_cast<FloatAttr>(c.getMaxValAttr());
          if (!lo || !hi)
            return std::nullopt;
          double r = *a;
          if (std::isnan(r))
            return r;
          return std::min(std::max(r, lo.getValueAsDouble()),
                          hi.getValueAsDouble());
        })
        .Case([&](tosa::AddOp) {
          return binary([](double p, double q) { return p + q; });
        })
        .Case([&](tosa::SubOp) {
          return binary([](double p, double q) { return p - q; });
        })
        .Case([&](tosa::MulOp) {
          return binary([](double p, double q) { return p * q; });
        })
        .Case([&](tosa::MaximumOp) {
          return binary([](double p, double q) { return std::max(p, q); });
        })
        .Case([&](tosa::MinimumOp) {
          return binary([](double p, double q) { return std::min(p, q); });
        })
        .Case([&](tosa::PowOp) {
          return binary([](double p, double q) { return std::pow(p, q); });
        })
        .Default([](Operation *) { return std::nullopt; });
  }

  const Chain &chain;
  Value leafKeyValue;
  double x = 0;
  llvm::DenseMap<Value, double> memo;
};

} // namespace

DequantizeOp dequantizeBehind(Value v) {
  while (Operation *def = v.getDefiningOp()) {
    if (auto dq = dyn_cast<DequantizeOp>(def))
      return dq;
    if (!isa<tosa::ReshapeOp, tosa::TransposeOp, tosa::SliceOp>(def))
      return nullptr;
    v = def->getOperand(0);
  }
  return nullptr;
}

Value stripLayoutTail(Value v, SmallVectorImpl<Operation *> &tail) {
  while (Operation *def = v.getDefiningOp()) {
    if (!isa<tosa::ReshapeOp, tosa::TransposeOp>(def))
      break;
    tail.push_back(def);
    v = def->getOperand(0);
  }
  std::reverse(tail.begin(), tail.end());
  return v;
}

std::optional<LookupMatch> matchLookupTable(QuantizeOp q) {
  auto outQ = activationType(q.getResult());
  if (!outQ || outQ.getStorageTypeIntegralWidth() > 8)
    return std::nullopt;
  SmallVector<Operation *> tail;
  Value start = stripLayoutTail(q.getInput(), tail);
  Operation *top = start.getDefiningOp();
  if (!top || !isTableOp(top))
    return std::nullopt;
  auto shape = cast<RankedTensorType>(start.getType()).getShape();

  // Look through Q/DQ pairs until one activation is left.
  llvm::SetVector<Value> expanded;
  Chain c = chainFrom(start, expanded);
  for (int round = 0; c.leaves.size() > 1 && round < kMaxExpansions;
       ++round) {
    bool grew = false;
    for (Value leafValue : c.leaves) {
      // The dequantize of this leaf that the chain reads.
      Value dqResult;
      for (Operation *op : c.ops)
        for (Value operand : op->getOperands())
          if (leafKey(operand) == leafValue && !c.expanded.contains(operand) &&
              expandableQuantize(operand))
            dqResult = operand;
      if (!dqResult)
        continue;
      llvm::SetVector<Value> trial = expanded;
      trial.insert(dqResult);
      Chain t = chainFrom(start, trial);
      if (t.tooBig)
        continue;
      // Accept when looking through adds no activation.
      bool subset = llvm::all_of(t.leaves, [&](Value l) {
        return l != leafValue && c.leaves.contains(l);
      });
      if (subset && !t.leaves.empty()) {
        expanded = trial;
        c = std::move(t);
        grew = true;
        break;
      }
    }
    if (!grew)
      break;
  }
  if (c.tooBig || c.leaves.size() != 1 ||
      !llvm::any_of(c.ops, isNonlinear))
    return std::nullopt;
  // Every op is of the output's shape (constants broadcast), and so is the
  // one activation, an 8-bit dequantized value.
  for (Operation *op : c.ops)
    if (cast<RankedTensorType>(op->getResult(0).getType()).getShape() != shape)
      return std::nullopt;
  Value leafValue = c.leaves.front();
  Value leafUse;
  for (Operation *op : c.ops)
    for (Value operand : op->getOperands())
      if (!c.expanded.contains(operand) && leafKey(operand) == leafValue)
        leafUse = operand;
  if (!leafUse ||
      cast<RankedTensorType>(leafUse.getType()).getShape() != shape)
    return std::nullopt;
  DequantizeOp dq = dequantizeBehind(leafUse);
  if (!dq)
    return std::nullopt;
  auto inQ = activationType(dq.getInput());
  if (!inQ || inQ.getStorageTypeIntegralWidth() > 8)
    return std::nullopt;

  // The table: entry k is the input's stored value k + container minimum.
  LookupMatch m;
  m.leaf = leafUse;
  m.ops.assign(c.ops.begin(), c.ops.end());
  m.ops.append(tail.begin(), tail.end());
  int64_t base = inQ.isSigned() ? -128 : 0;
  TableEvaluator eval(c, leafValue);
  for (int64_t k = 0; k < 256; ++k) {
    double x = rt::dequantizeValue(static_cast<int32_t>(base + k),
                                   inQ.getScale(),
                                   static_cast<int32_t>(inQ.getZeroPoint()));
    std::optional<double> y = eval.at(start, x);
    if (!y)
      return std::nullopt;
    m.table.push_back(rt::quantizeValue(
        *y, outQ.getScale(), static_cast<int32_t>(outQ.getZeroPoint()),
        static_cast<int32_t>(outQ.getStorageTypeMin()),
        static_cast<int32_t>(outQ.getStorageTypeMax())));
  }
  return m;
}

FailureOr<Value> TosaToLowBitLowering::lowerLookup(OpBuilder &b, QuantizeOp q,
                                                   const LookupMatch &m,
                                                   RankedTensorType outType) {
  Location loc = q.getLoc();
  auto src = activationOperand(b, m.leaf, q,
                               "the input of a lookup table (an elementwise "
                               "function)",
                               8);
  if (failed(src))
    return failure();
  auto type = withElement(src->getType(), outType.getElementType());
  Value r = LookupOp::create(b, loc, type, *src,
                             b.getDenseI32ArrayAttr(m.table))
                .getResult();
  return reshapeTo(b, loc, r, outType.getShape());
}

} // namespace tosa_to_lowbit
} // namespace lowbit
} // namespace mlir
