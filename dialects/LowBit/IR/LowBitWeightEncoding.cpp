//===- LowBitWeightEncoding.cpp - log and STLQ weights --------------------===//
//
// Part of the lowbit project.
//
//===----------------------------------------------------------------------===//
//
// Weights of conv2d / fully_connected: the checks of the #lowbit.log and
// #lowbit.stlq weight_encoding attributes on their own, the checks of the
// weight operand against its encoding (or its uniform quantization when
// there is none), and the packing of constant log / STLQ codes for the
// shift kernels.
//
//===----------------------------------------------------------------------===//

#include "LowBit/IR/LowBitOps.h"
#include "LowBitOpsImpl.h"

#include "lowbit/runtime/LogQuant.h"

#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Matchers.h"
#include "llvm/ADT/STLExtras.h"

#include <cmath>
#include <memory>

using namespace mlir;
using namespace mlir::lowbit;
using namespace mlir::lowbit::detail;

//===----------------------------------------------------------------------===//
// #lowbit.log / #lowbit.stlq attributes
//===----------------------------------------------------------------------===//

/// Log codes are signed words; a 1-bit word could only hold 0 and -1.
static LogicalResult verifyLogParams(function_ref<InFlightDiagnostic()> emit,
                                     unsigned bits, const APFloat &scaleAttr) {
  double scale = toDouble(scaleAttr);
  if (bits < 2 || bits > 16)
    return emit() << "log word width must be in [2, 16] bits, got " << bits;
  if (!std::isfinite(scale) || scale <= 0.0)
    return emit() << "log scale must be finite and positive, got " << scale;
  return success();
}

LogicalResult LogAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                              unsigned bits, APFloat scale,
                              ArrayRef<APFloat> channelScales) {
  if (failed(verifyLogParams(emitError, bits, scale)))
    return failure();
  if (channelScales.empty())
    return success(); // one scale per layer
  double largest = 0;
  for (auto [c, scaleC] : llvm::enumerate(channelScales)) {
    double u = toDouble(scaleC);
    if (!std::isfinite(u) || u <= 0.0)
      return emitError() << "log channel scale " << c
                         << " must be finite and positive, got " << u;
    largest = std::max(largest, u);
  }
  if (largest != toDouble(scale))
    return emitError() << "log scale " << toDouble(scale)
                       << " must be the largest channel scale, " << largest;
  return success();
}

LogicalResult STLQAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                               unsigned bits, APFloat scale,
                               ArrayRef<int64_t> tile, DenseElementsAttr mask,
                               ArrayRef<APFloat> channelScales) {
  if (failed(LogAttr::verify(emitError, bits, scale, channelScales)))
    return failure();
  if (tile.size() != 2)
    return emitError() << "STLQ tile must be [Tn, Tm], got " << tile.size()
                       << " dimensions";
  // Tile counts are ceil(dim / extent): extents are bounded so that no
  // dimension plus extent can overflow.
  constexpr int64_t kMaxTile = int64_t(1) << 31;
  if (tile[0] < 1 || tile[1] < 1 || tile[0] > kMaxTile || tile[1] > kMaxTile)
    return emitError() << "STLQ tile extents must be in [1, 2^31], got ["
                       << tile[0] << ", " << tile[1] << "]";
  if (!mask)
    return emitError() << "STLQ mask is missing";
  if (!mask.getElementType().isInteger(1))
    return emitError() << "STLQ mask must hold i1 (two words or not), got "
                       << mask.getElementType();
  if (mask.getType().getRank() < 2)
    return emitError() << "STLQ mask must have rank >= 2, got rank "
                       << mask.getType().getRank();
  return success();
}

int64_t STLQAttr::getNumTwoWordTiles() const {
  int64_t count = 0;
  for (bool twoWords : getMask().getValues<bool>())
    count += twoWords ? 1 : 0;
  return count;
}

//===----------------------------------------------------------------------===//
// Weight operand
//===----------------------------------------------------------------------===//

static int64_t ceilDiv(int64_t a, int64_t b) { return (a + b - 1) / b; }

FailureOr<SmallVector<int64_t>>
mlir::lowbit::detail::verifyWeights(Operation *op, RankedTensorType weight,
                                    Attribute encoding, int64_t logicalRank,
                                    Type expressedType) {
  auto fail = [&]() -> FailureOr<SmallVector<int64_t>> { return failure(); };
  ArrayRef<int64_t> shape = weight.getShape();
  if (!encoding) {
    if (weight.getRank() != logicalRank) {
      op->emitOpError() << "weight must have rank " << logicalRank << ", got "
                        << weight;
      return fail();
    }
    if (failed(verifyQuantizedTensor(op, "weight", weight)))
      return fail();
    Type elt = weight.getElementType();
    if (auto u = dyn_cast<quant::UniformQuantizedType>(elt)) {
      if (u.getZeroPoint() != 0) {
        op->emitOpError() << "weights must be symmetric (zero point 0), got "
                          << u.getZeroPoint();
        return fail();
      }
    } else if (auto a = dyn_cast<quant::UniformQuantizedPerAxisType>(elt)) {
      if (a.getQuantizedDimension() != 0) {
        op->emitOpError()
            << "per-axis weights must be quantized along the output channel "
               "(dimension 0), got dimension "
            << a.getQuantizedDimension();
        return fail();
      }
      if (llvm::any_of(a.getZeroPoints(), [](int64_t z) { return z != 0; })) {
        op->emitOpError() << "weights must be symmetric (zero points 0)";
        return fail();
      }
    } else {
      op->emitOpError() << "weights must be quantized per tensor or per "
                           "output channel, got "
                        << elt;
      return fail();
    }
    auto q = cast<quant::QuantizedType>(elt);
    if (q.getExpressedType() != expressedType) {
      op->emitOpError() << "weight expressed type " << q.getExpressedType()
                        << " differs from the input's " << expressedType;
      return fail();
    }
    return SmallVector<int64_t>(shape);
  }

  unsigned bits = 0;
  auto stlq = dyn_cast<STLQAttr>(encoding);
  if (auto log = dyn_cast<LogAttr>(encoding))
    bits = log.getBits();
  else
    bits = stlq.getBits();
  if (bits > ::lowbit::rt::kMaxShiftCodeBits) {
    op->emitOpError() << "log codes of " << bits
                      << " bits have no integer form (at most "
                      << ::lowbit::rt::kMaxShiftCodeBits
                      << " bits: a weight is at most a shift by 2^(bits-1) - "
                         "1)";
    return fail();
  }
  auto codes = dyn_cast<IntegerType>(weight.getElementType());
  if (!codes || !codes.isSignless() || codes.getWidth() != bits) {
    op->emitOpError() << "log-encoded weights must be i" << bits
                      << " codes, got " << weight.getElementType();
    return fail();
  }
  if (!stlq) {
    if (weight.getRank() != logicalRank) {
      op->emitOpError() << "weight must have rank " << logicalRank << ", got "
                        << weight;
      return fail();
    }
    auto log = cast<LogAttr>(encoding);
    if (log.isPerChannel() && !ShapedType::isDynamic(shape[0]) &&
        log.getNumScales() != shape[0]) {
      op->emitOpError() << "log encoding has " << log.getNumScales()
                        << " channel scales for " << shape[0]
                        << " output channels";
      return fail();
    }
    return SmallVector<int64_t>(shape);
  }
  if (weight.getRank() != logicalRank + 1 || shape[0] != 2) {
    op->emitOpError() << "STLQ weights need a leading dimension of 2 (two "
                         "words) and rank "
                      << logicalRank + 1 << ", got " << weight;
    return fail();
  }
  SmallVector<int64_t> logical(shape.drop_front());
  if (stlq.isPerChannel() && !ShapedType::isDynamic(logical[0]) &&
      stlq.getNumScales() != logical[0]) {
    op->emitOpError() << "STLQ encoding has " << stlq.getNumScales()
                      << " channel scales for " << logical[0]
                      << " output channels";
    return fail();
  }
  if (llvm::any_of(logical, ShapedType::isDynamic)) {
    op->emitOpError() << "STLQ weights must have a static shape, got "
                      << weight;
    return fail();
  }
  SmallVector<int64_t> maskShape(logical);
  maskShape.front() = ceilDiv(logical.front(), stlq.getOutputTile());
  maskShape.back() = ceilDiv(logical.back(), stlq.getInputTile());
  ArrayRef<int64_t> got = stlq.getMask().getType().getShape();
  if (ArrayRef<int64_t>(maskShape) != got) {
    op->emitOpError() << "STLQ mask shape " << shapeListStr(got)
                      << " does not match the tiling of weights "
                      << shapeListStr(logical) << " by tile [Tn = "
                      << stlq.getInputTile() << ", Tm = "
                      << stlq.getOutputTile() << "], expected "
                      << shapeListStr(maskShape);
    return fail();
  }
  return logical;
}

//===----------------------------------------------------------------------===//
// Log / STLQ weights
//===----------------------------------------------------------------------===//

FailureOr<PackedLogWeights> mlir::lowbit::getPackedLogWeights(Operation *op) {
  auto conv = dyn_cast<Conv2DOp>(op);
  auto fc = dyn_cast<FullyConnectedOp>(op);
  Attribute encoding = conv ? conv.getWeightEncodingAttr()
                            : fc ? fc.getWeightEncodingAttr() : Attribute();
  if (!encoding)
    return op->emitError("expected a conv2d or fully_connected with log or "
                         "STLQ weights"),
           failure();
  DenseElementsAttr codes;
  if (!matchPattern(op->getOperand(1), m_Constant(&codes)))
    return op->emitError("log / STLQ weights must be a constant"), failure();
  auto stlq = dyn_cast<STLQAttr>(encoding);
  unsigned bits = stlq ? stlq.getBits() : cast<LogAttr>(encoding).getBits();
  ArrayRef<int64_t> shape = codes.getType().getShape();
  if (stlq)
    shape = shape.drop_front();
  PackedLogWeights p;
  p.desc = {shape[0], 1, 1, shape.back(), bits, 0, 0};
  if (shape.size() == 4) {
    p.desc.kh = shape[1];
    p.desc.kw = shape[2];
  }
  std::unique_ptr<bool[]> tiles;
  if (stlq) {
    p.desc.tileIn = stlq.getInputTile();
    p.desc.tileOut = stlq.getOutputTile();
    tiles.reset(new bool[::lowbit::rt::stlqTileCount(p.desc)]);
    int64_t t = 0;
    for (bool two : stlq.getMask().getValues<bool>())
      tiles[t++] = two;
  }
  const int64_t count = ::lowbit::rt::logWeightCount(p.desc);
  std::vector<int32_t> first(count), second(count, 0);
  int64_t i = 0;
  for (const APInt &v : codes.getValues<APInt>()) {
    auto q = static_cast<int32_t>(v.getSExtValue());
    if (i < count)
      first[i] = q;
    else
      second[i - count] = q;
    ++i;
  }
  p.integers.resize(count);
  for (int64_t k = 0; k < count; ++k)
    p.integers[k] = static_cast<int32_t>(
        ::lowbit::rt::logCodeInteger(first[k], bits) +
        ::lowbit::rt::logCodeInteger(second[k], bits));
  // The mask part first: its size fixes the second words'.
  std::vector<uint8_t> mask(::lowbit::rt::stlqMaskBytes(p.desc) + 1, 0);
  for (int64_t t = 0; stlq && t < ::lowbit::rt::stlqTileCount(p.desc); ++t)
    if (tiles[t])
      mask[t / 8] |= static_cast<uint8_t>(1u << (t % 8));
  p.bytes.resize(::lowbit::rt::logWeightsBytes(p.desc, mask.data()));
  if (!::lowbit::rt::packLogWeights(p.desc, first.data(), second.data(),
                                    tiles.get(), p.bytes.data(),
                                    static_cast<int64_t>(p.bytes.size())))
    return op->emitError("STLQ weights have a second word in a one-word "
                         "tile"),
           failure();
  return p;
}
