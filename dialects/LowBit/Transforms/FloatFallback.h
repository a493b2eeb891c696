//===- FloatFallback.h - Ops that stay float in the C++ target --*- C++ -*-===//
//
// Part of the lowbit project.
//
//===----------------------------------------------------------------------===//
//
// Some float ops have no integer form: the exp, sums and reciprocal of a
// Softmax, a sigmoid or tanh. Rather than refusing the model, the C++ target
// may run them in float32 ("float fallback", with a warning that names
// them): lowbit-insert-qdq quantizes the activations that enter such a
// region, convert-tosa-to-lowbit leaves the region float between a
// lowbit.dequantize and a lowbit.quantize, and convert-lowbit-to-emitc calls
// the runtime's float kernels (lowbit/runtime/Ops.h) for it. This header is
// the one list of those ops and of the kernel each one maps to.
//
//===----------------------------------------------------------------------===//

#ifndef LOWBIT_DIALECT_LOWBIT_TRANSFORMS_FLOATFALLBACK_H
#define LOWBIT_DIALECT_LOWBIT_TRANSFORMS_FLOATFALLBACK_H

#include "lowbit/runtime/Ops.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Operation.h"
#include "llvm/ADT/SetVector.h"

#include <optional>

namespace mlir {
namespace lowbit {

/// The runtime kernel of a float32 elementwise TOSA op of one operand
/// (exp, reciprocal, sigmoid, tanh, negate, abs, floor, ceil, rsqrt, erf),
/// and of a tosa.pow whose exponent is a constant splat 0.5 (Sqrt: the
/// importer's square root).
std::optional<::lowbit::rt::UnaryKind> floatUnaryKind(Operation *op);

/// The runtime kernel of a float32 elementwise TOSA op of two operands
/// (add, sub, maximum, minimum, pow other than a square root; tosa.mul only
/// with a zero shift).
std::optional<::lowbit::rt::BinaryKind> floatBinaryKind(Operation *op);

/// A constant, possibly reshaped or transposed, or a dequantized constant
/// (an imported Q/DQ model's weights and biases).
bool isConstantLike(Value v);

/// True for a constant (isConstantLike) operand `c` of an add with result
/// type `result` that is no per-channel bias: its static shape broadcasts
/// to the result's and it has more than one element along some axis other
/// than the last (ViT's position embedding [1, 65, 64], swin's relative
/// position bias and shift mask). Such an add is lowbit.add of two
/// activations, the constant stored as one.
bool isPositionalConstant(Value c, Type result);

/// True for a float32 tosa.reduce_max or tosa.reduce_sum.
bool isFloatReduce(Operation *op);

/// True for a float32 tosa.mul (shift 0) of two activations (neither operand
/// a constant): the integer target only multiplies by constants (BatchNorm,
/// PReLU slopes), so e.g. HardSwish's x * hardsigmoid(x) stays float.
bool isActivationProduct(Operation *op);

/// True for a float32 tosa.matmul of two activations (attention's Q K^T):
/// it lowers to lowbit.matmul, not to a layer with constant weights.
bool isActivationMatMul(Operation *op);

/// True for a product of activations (above), and for a float32 sub,
/// maximum or minimum of two activations, or an add of two activations of
/// different shapes (broadcasting): lowbit.add only adds equal shapes.
bool isActivationBinary(Operation *op);

/// True for an op that has no integer form at all: a unary op or reduction
/// above, a tosa.pow, or a binary op of activations (isActivationBinary). Such ops start the regions of
/// floatFallbackOps; the other ops of a region are there because they read
/// one.
bool hasNoIntegerForm(Operation *op);

/// The ops of `func` that stay float under float fallback, in op order:
/// every float32 op that has no integer form (the unary ops, reductions and
/// products of activations above), and every float32 elementwise op, reduction, reshape or transpose
/// that reads the result of one (so a Softmax's subtraction and final multiply join
/// its exp and sums), and every float32 transpose whose users are all in the
/// set (an NCHW model's layout change before a product). Their other inputs
/// are quantized activations or float constants.
llvm::SetVector<Operation *> floatFallbackOps(func::FuncOp func);

} // namespace lowbit
} // namespace mlir

#endif // LOWBIT_DIALECT_LOWBIT_TRANSFORMS_FLOATFALLBACK_H
