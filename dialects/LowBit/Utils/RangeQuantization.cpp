//===- RangeQuantization.cpp - A quantized type from a real range ---------===//
//
// Part of the lowbit project.
//
//===----------------------------------------------------------------------===//

#include "RangeQuantization.h"

#include "lowbit/runtime/Requant.h"

#include "mlir/IR/BuiltinTypes.h"

#include <algorithm>
#include <cmath>

namespace mlir {
namespace lowbit {

quant::UniformQuantizedType rangeQuantizedType(MLIRContext *ctx, unsigned bits,
                                               double lo, double hi,
                                               Type expressed) {
  int64_t qmin = ::lowbit::rt::storageMin(bits, true);
  int64_t qmax = ::lowbit::rt::storageMax(bits, true);
  lo = std::min(lo, 0.0);
  hi = std::max(hi, 0.0);
  double scale = hi > lo ? (hi - lo) / static_cast<double>(qmax - qmin) : 1.0;
  scale = static_cast<float>(scale);
  int64_t zp = std::clamp<int64_t>(
      qmin + static_cast<int64_t>(std::nearbyint(-lo / scale)), qmin, qmax);
  return quant::UniformQuantizedType::get(quant::QuantizationFlags::Signed,
                                          IntegerType::get(ctx, bits),
                                          expressed, scale, zp, qmin, qmax);
}

} // namespace lowbit
} // namespace mlir
