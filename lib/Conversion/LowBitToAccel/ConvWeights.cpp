//===- ConvWeights.cpp - Constant operands and weights of LowBitToAccel ---===//
//
// Part of the lowbit project.
//
//===----------------------------------------------------------------------===//
//
// The integers of constant operands, and a layer's weights as the MAC array
// runs them: multiply-mode integers, or the shift terms of log (shift1) and
// STLQ (shift2) codes with the IR's STLQ tile mask per weight.
//
//===----------------------------------------------------------------------===//

#include "LoweringImpl.h"

#include "LowBit/Utils/ConstantReader.h"
#include "lowbit/runtime/ShiftKernels.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Matchers.h"

namespace lowbit {
namespace accel_lowering {

/// The integers of a constant operand (storage values), or failure.
FailureOr<std::vector<int64_t>> constantInts(Value v) {
  Attribute attr;
  if (!matchPattern(v, m_Constant(&attr)))
    return failure();
  auto elements = dyn_cast<ElementsAttr>(attr);
  if (!elements)
    return failure();
  std::optional<std::vector<int64_t>> ints = lb::readIntegers(elements);
  if (!ints)
    return failure();
  return std::move(*ints);
}

FailureOr<LayerWeights> readWeights(Operation *op, Value w, int64_t O,
                                    int64_t KH, int64_t KW, int64_t I,
                                    std::string &why) {
  LayerWeights lw;
  FailureOr<std::vector<int64_t>> v = constantInts(w);
  if (failed(v)) {
    why = "the weights must be a constant";
    return failure();
  }
  const int64_t count = O * KH * KW * I;
  Attribute enc = op->getAttr("weight_encoding");
  if (!enc) {
    if (int64_t(v->size()) != count) {
      why = "unexpected weight shape";
      return failure();
    }
    lw.integers = std::move(*v);
    return lw;
  }
  auto stlq = dyn_cast<lb::STLQAttr>(enc);
  auto log = dyn_cast<lb::LogAttr>(enc);
  unsigned bits = stlq ? stlq.getBits() : log.getBits();
  if (bits > ::lowbit::rt::kMaxShiftCodeBits) {
    why = std::to_string(bits) + "-bit log codes shift by more than the " +
          "array's shifters take (" +
          std::to_string(::lowbit::rt::kMaxShiftCodeBits) + " bits)";
    return failure();
  }
  if (int64_t(v->size()) != (stlq ? 2 : 1) * count) {
    why = "unexpected log weight shape";
    return failure();
  }
  lw.mode = stlq ? ax::MacMode::Shift2 : ax::MacMode::Shift1;
  lw.integers.resize(count);
  lw.first.resize(count);
  lw.second.assign(count, 0);
  lw.irTwoWords.assign(count, false);
  std::vector<bool> tiles;
  ::lowbit::rt::LogWeightsDesc d{O, KH, KW, I, bits, 0, 0};
  if (stlq) {
    d.tileIn = stlq.getInputTile();
    d.tileOut = stlq.getOutputTile();
    for (bool two : stlq.getMask().getValues<bool>())
      tiles.push_back(two);
  }
  for (int64_t k = 0; k < count; ++k) {
    int32_t q1 = int32_t((*v)[k]), q2 = stlq ? int32_t((*v)[count + k]) : 0;
    lw.integers[k] = ::lowbit::rt::logCodeInteger(q1, bits) +
                     ::lowbit::rt::logCodeInteger(q2, bits);
    lw.first[k] = ::lowbit::rt::detail::shiftTerm(q1, bits);
    lw.second[k] = ::lowbit::rt::detail::shiftTerm(q2, bits);
    if (stlq) {
      int64_t o = k / (KH * KW * I), r = k % (KH * KW * I);
      int64_t ky = r / (KW * I), kx = r / I % KW, i = r % I;
      size_t tile = size_t(::lowbit::rt::stlqTileIndex(d, o, ky, kx, i));
      lw.irTwoWords[k] = tile < tiles.size() && tiles[tile];
    }
  }
  return lw;
}

} // namespace accel_lowering
} // namespace lowbit
