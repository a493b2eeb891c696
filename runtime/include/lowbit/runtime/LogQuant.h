//===- LogQuant.h - Power-of-two (logarithmic) weight codes -----*- C++ -*-===//
//
// Part of the lowbit project.
//
//===----------------------------------------------------------------------===//
//
// The one definition of lowbit's log-scale weight codes
// (stlq-two-word-log-quantization eq. 1-2), shared by the compiler's weight
// quantizer and, later, the kernels and simulator that decode them.
//
// An N-bit code q in [-M, M-1], M = 2^(N-1), stands for 0 when q == 0 and
// for sign(q) * 2^-|q| * U otherwise. Quantizing picks the exponent nearest
// in the log domain: |q| = clip(round(-log2(|x| / U)), 1, M - 1) for x > 0
// and clip(..., 1, M) for x < 0 (the negative side has one more code).
//
//===----------------------------------------------------------------------===//

#ifndef LOWBIT_RUNTIME_LOGQUANT_H
#define LOWBIT_RUNTIME_LOGQUANT_H

#include <cmath>
#include <cstdint>

namespace lowbit {
namespace rt {

/// Real value of log code `q` with scale `u`.
inline double logDequantize(int32_t q, double u) {
  if (q == 0)
    return 0.0;
  int32_t e = q < 0 ? -q : q;
  double v = std::ldexp(u, -e);
  return q < 0 ? -v : v;
}

/// Log code of `x` for `bits`-bit codes with scale `u` (> 0).
inline int32_t logQuantize(double x, double u, unsigned bits) {
  if (!(x != 0.0) || !(u > 0.0))
    return 0; // zero and NaN
  const int32_t m = int32_t(1) << (bits - 1);
  double e = std::nearbyint(-std::log2(std::fabs(x) / u));
  int32_t hi = x > 0 ? m - 1 : m;
  if (e < 1.0)
    e = 1.0;
  if (e > static_cast<double>(hi))
    e = static_cast<double>(hi);
  int32_t q = static_cast<int32_t>(e);
  return x > 0 ? q : -q;
}

} // namespace rt
} // namespace lowbit

#endif // LOWBIT_RUNTIME_LOGQUANT_H
