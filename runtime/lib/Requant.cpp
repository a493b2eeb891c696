//===- Requant.cpp - Scale to (multiplier, shift) conversion --------------===//
//
// Part of the lowbit project.
//
//===----------------------------------------------------------------------===//

#include "lowbit/runtime/Requant.h"

#include <cmath>

namespace lowbit {
namespace rt {

ScaleStatus computeMultiplier(double scale, ScaleMultiplier &out) {
  if (!std::isfinite(scale) || scale < 0.0)
    return ScaleStatus::NotFiniteOrNegative;
  if (scale == 0.0) {
    out = ScaleMultiplier{0, kMaxShift};
    return ScaleStatus::Ok;
  }
  int exponent = 0;
  // scale = fraction * 2^exponent with fraction in [0.5, 1).
  double fraction = std::frexp(scale, &exponent);
  // fraction * 2^31 is exact (53-bit mantissa); round half away from zero.
  int64_t multiplier = std::llround(std::ldexp(fraction, 31));
  if (multiplier == kMultiplierLimit) { // fraction rounded up to 1.0
    multiplier >>= 1;
    ++exponent;
  }
  // scale ~= multiplier * 2^(exponent - 31), so shift = 31 - exponent.
  int64_t shift = 31 - static_cast<int64_t>(exponent);
  if (shift < kMinShift)
    return ScaleStatus::TooLarge;
  if (shift > kMaxShift) {
    // Denormalize by rounding the exact scale * 2^kMaxShift once (rounding
    // the normalized multiplier again would round twice).
    multiplier = std::llround(std::ldexp(scale, kMaxShift));
    shift = kMaxShift;
  }
  out = ScaleMultiplier{static_cast<int32_t>(multiplier),
                        static_cast<int32_t>(shift)};
  return ScaleStatus::Ok;
}

double multiplierToScale(ScaleMultiplier m) {
  return std::ldexp(static_cast<double>(m.multiplier), -m.shift);
}

namespace {
template <typename T>
int32_t quantizeImpl(T x, T scale, int32_t zeroPoint, int32_t qmin,
                     int32_t qmax) {
  if (std::isnan(x))
    return static_cast<int32_t>(saturate(zeroPoint, qmin, qmax));
  T quotient = x / scale;                     // rounded to T
  double q = std::nearbyint(static_cast<double>(quotient)); // ties to even
  double shifted = q + static_cast<double>(zeroPoint);
  if (!(shifted >= static_cast<double>(qmin)))
    return qmin;
  if (!(shifted <= static_cast<double>(qmax)))
    return qmax;
  return static_cast<int32_t>(shifted);
}
} // namespace

int32_t quantizeValue(double x, double scale, int32_t zeroPoint, int32_t qmin,
                      int32_t qmax) {
  return quantizeImpl<double>(x, scale, zeroPoint, qmin, qmax);
}

int32_t quantizeValue(float x, float scale, int32_t zeroPoint, int32_t qmin,
                      int32_t qmax) {
  return quantizeImpl<float>(x, scale, zeroPoint, qmin, qmax);
}

} // namespace rt
} // namespace lowbit
