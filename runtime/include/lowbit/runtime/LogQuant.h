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
// for sign(q) * 2^-|q| * U otherwise: |q| in [1, M - 1] for x > 0 and
// [1, M] for x < 0 (the negative side has one more code).
//
// Quantizing picks the nearest of those values in the linear domain (the
// least squared error): between U 2^-(e+1) and U 2^-e the threshold is
// their midpoint 0.75 U 2^-e, not the geometric mean that rounding
// -log2(|x| / U) would use; values above U / 2 clip to U / 2, and values
// closer to 0 than to the smallest magnitude U 2^-hi become code 0. Exact
// ties go to the larger magnitude.
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

/// Largest exponent of `bits`-bit codes on the side of `x`'s sign
/// (M - 1 for x > 0, M for x < 0).
inline int32_t logMaxExponent(double x, unsigned bits) {
  const int32_t m = int32_t(1) << (bits - 1);
  return x > 0 ? m - 1 : m;
}

/// Log code of `x` for `bits`-bit codes with scale `u` (> 0): the code whose
/// value is nearest to `x` (see the file comment).
inline int32_t logQuantize(double x, double u, unsigned bits) {
  double a = std::fabs(x) / u;
  if (!(a > 0.0) || !(u > 0.0))
    return 0; // zero and NaN
  const int32_t hi = logMaxExponent(x, bits);
  int32_t e;
  if (a >= 0.5) {
    e = 1; // U / 2 is the largest magnitude
  } else if (a < std::ldexp(1.0, -hi)) {
    // Below the smallest magnitude: that or zero, whichever is nearer.
    if (a < std::ldexp(1.0, -hi - 1))
      return 0;
    e = hi;
  } else {
    // a = f 2^p with f in [0.5, 1): between 2^(p-1) and 2^p.
    int p;
    double f = std::frexp(a, &p);
    e = f < 0.75 ? 1 - p : -p;
  }
  return x > 0 ? e : -e;
}

} // namespace rt
} // namespace lowbit

#endif // LOWBIT_RUNTIME_LOGQUANT_H
