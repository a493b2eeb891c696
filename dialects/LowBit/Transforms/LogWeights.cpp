//===- LogWeights.cpp - Log and STLQ weight quantization ------------------===//
//
// Part of the lowbit project.
//
//===----------------------------------------------------------------------===//

#include "LowBit/Transforms/LogWeights.h"

#include "lowbit/runtime/LogQuant.h"

#include "mlir/Dialect/Tosa/IR/TosaOps.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Threading.h"

#include <algorithm>
#include <array>
#include <cmath>

using namespace mlir;
using namespace mlir::lowbit;
namespace rt = ::lowbit::rt;

double mlir::lowbit::chooseLogScale(MLIRContext *ctx, ArrayRef<float> values,
                                    double maxAbs, unsigned bits) {
  const size_t stride = std::max<size_t>(1, values.size() / 65536);
  constexpr int first = -16, last = 48;
  std::array<double, last - first + 1> scale, err;
  mlir::parallelFor(ctx, 0, scale.size(), [&](size_t k) {
    double u = static_cast<float>(maxAbs * std::exp2((first + int(k)) / 32.0));
    double e = 0;
    for (size_t i = 0; i < values.size(); i += stride) {
      double d =
          rt::logDequantize(rt::logQuantize(values[i], u, bits), u) - values[i];
      e += d * d;
    }
    scale[k] = u, err[k] = e;
  });
  size_t best = 0;
  for (size_t k = 1; k < err.size(); ++k)
    if (err[k] < err[best])
      best = k;
  return scale[best];
}

std::optional<LogicalWeights> mlir::lowbit::logicalWeights(Operation *op) {
  if (op->getNumOperands() < 2)
    return std::nullopt;
  auto type = dyn_cast<RankedTensorType>(op->getOperand(1).getType());
  if (!type || !type.hasStaticShape())
    return std::nullopt;
  ArrayRef<int64_t> s = type.getShape();
  LogicalWeights w;
  if (isa<tosa::Conv2DOp>(op) && s.size() == 4) {
    w.oc = s[0], w.kh = s[1], w.kw = s[2], w.ic = s[3];
    w.logical.resize(type.getNumElements());
    for (size_t k = 0; k < w.logical.size(); ++k)
      w.logical[k] = static_cast<int64_t>(k);
    return w;
  }
  if (isa<tosa::DepthwiseConv2DOp>(op) && s.size() == 4) {
    // [KH, KW, C, M] -> [C * M, KH, KW, 1]
    int64_t kh = s[0], kw = s[1], c = s[2], m = s[3];
    w.oc = c * m, w.kh = kh, w.kw = kw, w.ic = 1;
    w.logical.reserve(type.getNumElements());
    for (int64_t o = 0; o < c * m; ++o)
      for (int64_t y = 0; y < kh; ++y)
        for (int64_t x = 0; x < kw; ++x)
          w.logical.push_back(((y * kw + x) * c + o / m) * m + o % m);
    return w;
  }
  if (isa<tosa::MatMulOp>(op) && s.size() == 3 && s[0] == 1) {
    // [1, K, N] -> [N, K]
    int64_t k = s[1], n = s[2];
    w.oc = n, w.ic = k;
    w.logical.reserve(type.getNumElements());
    for (int64_t o = 0; o < n; ++o)
      for (int64_t i = 0; i < k; ++i)
        w.logical.push_back(i * n + o);
    return w;
  }
  return std::nullopt;
}
