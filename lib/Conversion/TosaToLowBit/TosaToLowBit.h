//===- TosaToLowBit.h - convert-tosa-to-lowbit internals --------*- C++ -*-===//
//
// Part of the lowbit project.
//
//===----------------------------------------------------------------------===//
//
// Private to lib/Conversion/TosaToLowBit: what the files of one op family
// share. TosaToLowBitPass.cpp matches each segment (the float ops between
// dequantized values and a lowbit.quantize) and dispatches on its anchor op
// to one family:
//
//   Epilogue.cpp      the ReLU / Clip / PReLU / bias-add / scale chain after
//                     the anchor, and the requants that apply it
//   Linear.cpp        conv2d / depthwise_conv2d / matmul (and per-channel
//                     affine maps as 1x1 depthwise convolutions)
//   AddConcat.cpp     add and concat of activations
//   DataMovement.cpp  the quantized source behind reshapes, slices, pads,
//                     resizes, transposes and pools; constant pads and
//                     bilinear resizes
//   Constants.cpp     quantized constants, and log / STLQ weight codes
//   LookupTable.cpp   elementwise functions of one 8-bit activation
//   Softmax.cpp       softmax of an 8-bit activation
//   Products.cpp      products and matrix products of two activations
//
//===----------------------------------------------------------------------===//

#ifndef LOWBIT_LIB_CONVERSION_TOSATOLOWBIT_TOSATOLOWBIT_H
#define LOWBIT_LIB_CONVERSION_TOSATOLOWBIT_TOSATOLOWBIT_H

#include "LowBit/IR/LowBitOps.h"

#include "lowbit/runtime/Requant.h"

#include "mlir/Dialect/Quant/IR/QuantTypes.h"
#include "mlir/Dialect/Tosa/IR/TosaOps.h"
#include "mlir/IR/Builders.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/SetVector.h"

#include <optional>
#include <utility>
#include <vector>

namespace mlir {
namespace lowbit {
namespace tosa_to_lowbit {

namespace rt = ::lowbit::rt;

//===----------------------------------------------------------------------===//
// Constants (Constants.cpp)
//===----------------------------------------------------------------------===//

/// A quantized constant: stored integers, row-major, with its quantization
/// (per tensor, or per axis `axis`).
struct QConst {
  SmallVector<int64_t> shape;
  std::vector<int64_t> values;
  SmallVector<double> scales;
  SmallVector<int64_t> zeroPoints;
  int64_t axis = -1;
  int64_t storageMin = 0, storageMax = 0;

  double scale(int64_t c) const { return scales[axis < 0 ? 0 : c]; }
  int64_t zeroPoint(int64_t c) const { return zeroPoints[axis < 0 ? 0 : c]; }
};

/// An integer op's log / STLQ weights: the codes (`[O, ...]` for one word,
/// `[2, O, ...]` for STLQ) and the encoding attribute.
struct EncodedWeights {
  DenseElementsAttr values;
  Attribute encoding;
};

/// The values of a float tosa.const (dense, or an f32 dense_resource).
std::optional<std::vector<double>> readFloatConst(Value v);

/// Row-major strides of `shape`.
SmallVector<int64_t> stridesOf(ArrayRef<int64_t> shape);

/// out[i] with out shape[d] = in shape[perm[d]].
template <typename T>
std::vector<T> permute(const std::vector<T> &in, ArrayRef<int64_t> shape,
                       ArrayRef<int64_t> perm) {
  SmallVector<int64_t> outShape;
  for (int64_t p : perm)
    outShape.push_back(shape[p]);
  SmallVector<int64_t> inStrides = stridesOf(shape);
  std::vector<T> out(in.size());
  SmallVector<int64_t> idx(perm.size(), 0);
  for (size_t i = 0; i < out.size(); ++i) {
    int64_t src = 0;
    for (size_t d = 0; d < perm.size(); ++d)
      src += idx[d] * inStrides[perm[d]];
    out[i] = in[src];
    for (int64_t d = static_cast<int64_t>(perm.size()) - 1; d >= 0; --d) {
      if (++idx[d] < outShape[d])
        break;
      idx[d] = 0;
    }
  }
  return out;
}

/// The quantized constant behind a float weight operand: a dequantize of a
/// constant, possibly through float transposes and reshapes.
std::optional<QConst> traceQuantConst(Value v);

/// Float values of a constant operand: a float constant or a dequantized
/// quantized constant.
std::optional<std::vector<double>> floatValues(Value v);

/// A constant that varies at most along the last dimension of `shape`
/// (broadcast to it): one value per channel, or one value. Empty on failure.
std::vector<double> perChannel(Value v, int64_t channels);

/// Whether `v` is a float constant of zeros.
bool isZeroConst(Value v);

/// The values of a tosa.const_shape operand (slice starts, paddings).
std::optional<SmallVector<int64_t>> constShape(Value v);

/// A tosa.resize's constant scale [n_y, d_y, n_x, d_x] and offset.
std::optional<std::pair<SmallVector<int64_t>, SmallVector<int64_t>>>
resizeParams(tosa::ResizeOp rs);

/// A real value quantized with `q` (the runtime's rule), saturated.
int64_t quantizeWith(double x, quant::UniformQuantizedType q);

/// The integer weights behind decoded float log / STLQ weights (`values`,
/// of the TOSA op `anchor`'s weight operand): each is an integer times
/// U 2^-M. Emits an error at `anchor` (prefixed like the pass's others) and
/// fails when they are not.
FailureOr<QConst> decodeLogWeights(Operation *anchor,
                                   const std::vector<double> &values,
                                   LogAttr log, STLQAttr stlq);

/// The codes of integer weights `w` (OHWI or OI, values in units of U 2^-M)
/// under `bits`-bit log codes, one word, or two words in the tiles of
/// `stlq`'s mask (split by rt::logSplitInteger). Emits an error at `op` (and
/// returns nothing) when an integer is no such sum, or needs a second word
/// in a one-word tile.
std::optional<EncodedWeights> encodeLogWeights(Operation *op, const QConst &w,
                                               unsigned bits, LogAttr log,
                                               STLQAttr stlq);

//===----------------------------------------------------------------------===//
// Types
//===----------------------------------------------------------------------===//

inline RankedTensorType withElement(Type shaped, Type elt) {
  return RankedTensorType::get(cast<ShapedType>(shaped).getShape(), elt);
}

/// Activation quantization of a value's type, or null.
inline quant::UniformQuantizedType activationType(Value v) {
  auto t = dyn_cast<RankedTensorType>(v.getType());
  return t ? dyn_cast<quant::UniformQuantizedType>(t.getElementType())
           : nullptr;
}

//===----------------------------------------------------------------------===//
// Epilogue (Epilogue.cpp)
//===----------------------------------------------------------------------===//

/// What follows the anchor op of a segment, up to the quantize.
struct Epilogue {
  // Clamp on real values (ReLU, Clip), or none.
  std::optional<double> clampMin, clampMax;
  // PReLU / LeakyReLU slopes (one, or one per channel), or empty.
  Value slopes;
  // Bias add constants after the anchor (Gemm's bias).
  SmallVector<Value> biasAdds;
  // A positive constant scale between the anchor and the output (a hard
  // sigmoid's 1/6 after a convolution): y = k * (acc + b1) + b2. The bias
  // adds from index `scaledFrom` on are the b1 (before the multiply).
  Value scale;
  size_t scaledFrom = 0;
};

/// Rewrites each multiply or add of a dequantized activation by a float
/// constant that varies along one axis other than the last (an NCHW layer
/// scale [C, 1, 1]) as the same op on the activation with that axis moved last,
/// between two tosa.transposes, so affine maps always scale the last axis
/// (affineAsDepthwise) and the transposes become integer data movement.
/// Ops for which `skip` is true (float regions, matched tables) are kept.
void moveConstantAxisLast(Operation *root,
                          llvm::function_ref<bool(Operation *)> skip);

/// Parses the epilogue from the quantize's input backwards; returns the
/// value the epilogue starts from.
Value parseEpilogue(Value v, Epilogue &epi);

/// Whether `c` is a float constant that isPositionalConstant (a position
/// embedding added to an activation): an add of it is not a bias.
bool positionalConstant(Value c, Type resultType);

/// Whether `op` is a convolution or matrix product (Linear.cpp's anchors).
bool isLinearAnchor(Operation *op);

/// `min` / `max` attributes for a saturation range narrower than `out`'s
/// storage range (how ReLU and Clip are absorbed).
void addSaturation(OpBuilder &b, SmallVectorImpl<NamedAttribute> &attrs,
                   int64_t lo, int64_t hi, quant::UniformQuantizedType out);

/// The stored range of `out` narrowed by the epilogue's clamp.
std::pair<int64_t, int64_t> saturation(const Epilogue &epi,
                                       quant::UniformQuantizedType out);

/// The runtime's multiplier and shift for `scale` (negative only with
/// `allowNegative`), or a located error.
FailureOr<rt::ScaleMultiplier> multiplier(Location loc, double scale,
                                          bool allowNegative = false);

/// The rounding of every requant this conversion builds.
RoundingModeAttr roundingAttr(MLIRContext *ctx);

/// A per-tensor lowbit.requant by the multiplier `m`, saturated to the
/// result type's range narrowed by the epilogue's clamp.
Value perTensorRequant(OpBuilder &b, Location loc, Value in,
                       rt::ScaleMultiplier m, const Epilogue &epi,
                       RankedTensorType resultType);

/// Requantizes a quantized value to `outType` applying the epilogue (clamp
/// or PReLU); returns `in` itself when nothing changes.
FailureOr<Value> rescale(OpBuilder &b, Location loc, Value in,
                         const Epilogue &epi, RankedTensorType outType);

//===----------------------------------------------------------------------===//
// Data movement helpers (DataMovement.cpp)
//===----------------------------------------------------------------------===//

/// `v` reshaped to `shape` (lowbit.reshape), or `v` when it has that shape.
Value reshapeTo(OpBuilder &b, Location loc, Value v, ArrayRef<int64_t> shape);

/// Walks back through reshapes.
Value skipReshapes(Value v);

/// Walks back through reshapes and transposes to a function argument.
BlockArgument argumentBehind(Value v);

/// Replays the reshapes and transposes between a (now quantized) argument
/// and `v` on integers.
Value replayMovement(OpBuilder &b, Value v, BlockArgument arg);

/// The importer crops an NHWC input (tosa.slice from 0) so that TOSA's
/// windows fit exactly. When no window of `op` (a convolution or pool) reads
/// the cropped rows and columns, the integer op can read the uncropped
/// tensor: returns it, or `in` unchanged.
Value skipUnusedCrop(Value in, Operation *op);

//===----------------------------------------------------------------------===//
// Lookup tables (LookupTable.cpp)
//===----------------------------------------------------------------------===//

/// A segment that is an elementwise function of one 8-bit activation: the
/// float ops it replaces (with the layout movement before its quantize),
/// the (dequantized) activation it reads, and its 256-entry table.
struct LookupMatch {
  SmallVector<Operation *> ops;
  Value leaf;
  SmallVector<int32_t> table;
};

/// The table of the segment `q` closes, when it is an elementwise function
/// of one 8-bit activation that has a nonlinear op (matched, and the table
/// computed, before any segment is lowered).
std::optional<LookupMatch> matchLookupTable(QuantizeOp q);

/// A Softmax of an 8-bit activation (Softmax.cpp): the float ops it
/// replaces, its input, axis, exp table and output multiplier.
struct SoftmaxMatch {
  SmallVector<Operation *> ops;
  Value leaf;
  int64_t axis = 0;
  SmallVector<int32_t> table;
  int64_t multiplier = 0;
};

/// The integer softmax of the segment `q` closes, when it is the importer's
/// Softmax of an 8-bit activation.
std::optional<SoftmaxMatch> matchSoftmax(QuantizeOp q);

/// The dequantize behind a float value, through same-scale data movement
/// (reshapes, transposes, slices), or null.
DequantizeOp dequantizeBehind(Value v);

/// Strips the reshapes and transposes right before a quantize; `tail`
/// receives them in program order.
Value stripLayoutTail(Value v, SmallVectorImpl<Operation *> &tail);

//===----------------------------------------------------------------------===//
// The lowering of one function
//===----------------------------------------------------------------------===//

/// The state the families share while one function is lowered: the pass's
/// option, the ops that stay float, and whether an error about a value's
/// source has been reported already. Each member is defined in its
/// family's file.
class TosaToLowBitLowering {
public:
  TosaToLowBitLowering(MLIRContext *ctx, bool foldZeroPoint,
                       llvm::SetVector<Operation *> floatOps)
      : floatOps(std::move(floatOps)), ctx(ctx), foldZeroPoint(foldZeroPoint) {}

  /// Replaces the segment that `q` closes with integer ops
  /// (TosaToLowBitPass.cpp).
  LogicalResult lowerQuantize(QuantizeOp q);

  /// The integer value behind a float value that is a dequantized
  /// activation, possibly through reshapes, slices, zero pads, nearest
  /// resizes, transposes and pools (which keep their input's scale).
  FailureOr<Value> quantizedSource(OpBuilder &b, Value v, Location loc);

  /// Set when quantizedSource has reported why it failed, so that its
  /// callers do not add a second, vaguer error.
  bool sourceDiagnosed = false;
  /// The ops that stay float (float fallback; empty when it is off).
  llvm::SetVector<Operation *> floatOps;
  /// The segments that become lookup tables, by their quantize.
  llvm::DenseMap<Operation *, LookupMatch> lookups;
  /// The segments that are integer softmaxes, by their quantize.
  llvm::DenseMap<Operation *, SoftmaxMatch> softmaxes;

private:
  // Linear.cpp
  FailureOr<Value> lowerLinear(OpBuilder &b, Operation *anchor,
                               const Epilogue &epi, RankedTensorType outType);
  Operation *affineAsDepthwise(OpBuilder &b, Operation *at, Value x, Value a);
  Operation *affineAnchor(OpBuilder &b, QuantizeOp q, Value start,
                          Operation *anchor, const Epilogue &epi);
  // AddConcat.cpp
  FailureOr<Value> lowerAdd(OpBuilder &b, tosa::AddOp add, const Epilogue &epi,
                            RankedTensorType outType);
  FailureOr<Value> lowerConcat(OpBuilder &b, Location loc, tosa::ConcatOp cat,
                               const Epilogue &epi, RankedTensorType outType);
  // DataMovement.cpp
  FailureOr<Value> clampOnlySource(OpBuilder &b, Operation *op, Value in,
                                   const Epilogue &epi, StringRef what);
  FailureOr<Value> lowerPad(OpBuilder &b, tosa::PadOp pad, const Epilogue &epi,
                            RankedTensorType outType);
  FailureOr<Value> lowerBilinearResize(OpBuilder &b, tosa::ResizeOp rs,
                                       const Epilogue &epi,
                                       RankedTensorType outType);
  // Products.cpp: the integer value behind `v`, a per-tensor activation of
  // at most `maxBits` bits, or a located error at `at` naming `what`.
  FailureOr<Value> activationOperand(OpBuilder &b, Value v, Operation *at,
                                     StringRef what, unsigned maxBits);
  // LookupTable.cpp
  FailureOr<Value> lowerLookup(OpBuilder &b, QuantizeOp q,
                               const LookupMatch &m, RankedTensorType outType);
  // Softmax.cpp
  FailureOr<Value> lowerSoftmax(OpBuilder &b, QuantizeOp q,
                                const SoftmaxMatch &m,
                                RankedTensorType outType);
  // Products.cpp
  FailureOr<Value> lowerProduct(OpBuilder &b, tosa::MulOp mul,
                                const Epilogue &epi, RankedTensorType outType);
  FailureOr<Value> lowerActivationMatMul(OpBuilder &b, tosa::MatMulOp mm,
                                         const Epilogue &epi,
                                         RankedTensorType outType);
  // TosaToLowBitPass.cpp
  FailureOr<Value> lowerSameScale(OpBuilder &b, QuantizeOp q, Value start,
                                  Operation *anchor, const Epilogue &epi,
                                  RankedTensorType outType);

  MLIRContext *ctx;
  const bool foldZeroPoint;
};

} // namespace tosa_to_lowbit
} // namespace lowbit
} // namespace mlir

#endif // LOWBIT_LIB_CONVERSION_TOSATOLOWBIT_TOSATOLOWBIT_H
