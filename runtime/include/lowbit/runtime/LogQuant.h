//===- LogQuant.h - Power-of-two (logarithmic) weight codes -----*- C++ -*-===//
//
// Part of the lowbit project.
//
//===----------------------------------------------------------------------===//
//
// The one definition of lowbit's log-scale weight codes
// (stlq-two-word-log-quantization eq. 1-4), shared by the compiler's weight
// quantizers, the evaluator and the shift kernels (ShiftKernels.h) that
// decode them: the code rule, the two-word (STLQ) rule, the integer a code
// stands for, and how codes are packed at their bit width.
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

/// The two words of selective two-word log quantization (eq. 3-4): the
/// first is logQuantize(x), the second logQuantize(r1) of the residual
/// r1 = x - logDequantize(first), with the same scale and bits (its
/// exponent range follows r1's sign). Because a magnitude closer to zero
/// than to the smallest level becomes code 0, the second word never moves
/// the value further from x: |r1 - LogQ(r1)| <= |r1|.
struct TwoWords {
  int32_t first, second;
};
inline TwoWords stlqQuantize(double x, double u, unsigned bits) {
  const int32_t first = logQuantize(x, u, bits);
  const double r1 = x - logDequantize(first, u);
  return {first, logQuantize(r1, u, bits)};
}

/// Bits of the widest codes the integer target takes: a code's integer
/// (logCodeInteger) shifts by up to M - 1 = 15 bits.
constexpr unsigned kMaxShiftCodeBits = 5;

/// M = 2^(bits - 1), the largest exponent of `bits`-bit codes.
inline int32_t logMaxCode(unsigned bits) { return int32_t(1) << (bits - 1); }

/// The integer that code `q` stands for in units of U 2^-M (M =
/// logMaxCode(bits)): sign(q) 2^(M - |q|), and 0 for q = 0. A log-coded
/// layer's accumulator is in units of S_in U 2^-M; multiplying by the weight
/// is the shift x << (M - |q|) and a negation when q < 0.
inline int64_t logCodeInteger(int32_t q, unsigned bits) {
  if (q == 0)
    return 0;
  const int32_t e = q < 0 ? -q : q;
  const int64_t v = int64_t(1) << (logMaxCode(bits) - e);
  return q < 0 ? -v : v;
}

/// The code whose integer (logCodeInteger) is `n`, if there is one.
inline bool logCodeOfInteger(int64_t n, unsigned bits, int32_t &q) {
  if (n == 0) {
    q = 0;
    return true;
  }
  for (int32_t e = 1; e <= logMaxCode(bits); ++e) {
    const int32_t code = n > 0 ? e : -e;
    if (e <= logMaxExponent(n > 0 ? 1.0 : -1.0, bits) &&
        logCodeInteger(code, bits) == n) {
      q = code;
      return true;
    }
  }
  return false;
}

/// Splits `n` (in units of U 2^-M) into two codes whose integers sum to it,
/// if it is such a sum: the STLQ rule's own words (stlqQuantize of n with
/// U = 2^M) when they are exact, else the first word with the largest
/// magnitude that leaves a one-code remainder. (The rule sends an exact
/// midpoint such as 3 = 2 + 1 to the larger level, 4, and 3 - 4 = -1 may have
/// no code on that side.) A one-word integer always splits as (q, 0).
inline bool logSplitInteger(int64_t n, unsigned bits, TwoWords &w) {
  const int32_t m = logMaxCode(bits);
  const TwoWords rule = stlqQuantize(static_cast<double>(n),
                                     static_cast<double>(int64_t(1) << m),
                                     bits);
  if (logCodeInteger(rule.first, bits) + logCodeInteger(rule.second, bits) ==
      n) {
    w = rule;
    return true;
  }
  for (int32_t e = 1; e <= m; ++e)
    for (int32_t sign : {1, -1}) {
      const int32_t first = sign * e;
      if (e > logMaxExponent(sign, bits))
        continue;
      int32_t second;
      if (logCodeOfInteger(n - logCodeInteger(first, bits), bits, second)) {
        w = {first, second};
        return true;
      }
    }
  return false;
}

/// Bytes of `count` codes packed at `bits` bits each (see packCode).
inline int64_t packedCodeBytes(int64_t count, unsigned bits) {
  return (count * static_cast<int64_t>(bits) + 7) / 8;
}

/// Stores code `q` (two's complement, its low `bits` bits) as code number
/// `index` of a packed array: code k occupies bits [k*bits, (k+1)*bits) of
/// the array read as one little-endian bit string (bit j is bit j % 8 of
/// byte j / 8). `dst` must start zeroed.
inline void packCode(uint8_t *dst, int64_t index, unsigned bits, int32_t q) {
  const uint32_t v = static_cast<uint32_t>(q) & ((1u << bits) - 1);
  const int64_t bit = index * static_cast<int64_t>(bits);
  for (unsigned j = 0; j < bits; ++j)
    if (v >> j & 1u)
      dst[(bit + j) / 8] |= static_cast<uint8_t>(1u << ((bit + j) % 8));
}

/// Code number `index` of a packed array (sign-extended).
inline int32_t unpackCode(const uint8_t *src, int64_t index, unsigned bits) {
  const int64_t bit = index * static_cast<int64_t>(bits);
  uint32_t v = 0;
  for (unsigned j = 0; j < bits; ++j)
    v |= static_cast<uint32_t>(src[(bit + j) / 8] >> ((bit + j) % 8) & 1u)
         << j;
  const uint32_t sign = 1u << (bits - 1);
  return static_cast<int32_t>(v ^ sign) - static_cast<int32_t>(sign);
}

} // namespace rt
} // namespace lowbit

#endif // LOWBIT_RUNTIME_LOGQUANT_H
