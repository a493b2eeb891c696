//===- Requant.h - The one integer requantization rule ----------*- C++ -*-===//
//
// Part of the lowbit project.
//
//===----------------------------------------------------------------------===//
//
// This header is the single definition of how lowbit turns a real scale into
// an integer (multiplier, shift) pair and how it applies that pair to an
// accumulator. The compiler's constant folder, the reference evaluator, the
// generated C++ and the accelerator simulator all call these functions, so
// they agree bit for bit by construction.
//
// Semantics follow TOSA 1.0 `apply_scale_32`:
//
//   round  = 2^(shift-1)                                   (SINGLE_ROUND)
//   round += (shift > 31) ? (value >= 0 ? 2^30 : -2^30) : 0 (DOUBLE_ROUND)
//   scaled = floor((value * multiplier + round) / 2^shift)
//   result = saturate(scaled + zeroPoint, qmin, qmax)
//
// with multiplier in [0, 2^31) and shift in [2, 62]. The product is formed
// exactly (96 bits for 64-bit accumulators), so nothing here can overflow.
// The header is plain C++17 with no allocation, no globals and no LLVM/MLIR
// dependency (IREE micro-kernel rules).
//
//===----------------------------------------------------------------------===//

#ifndef LOWBIT_RUNTIME_REQUANT_H
#define LOWBIT_RUNTIME_REQUANT_H

#include <cstdint>

namespace lowbit {
namespace rt {

/// Rounding applied when an accumulator is scaled down.
enum class RoundingMode : uint8_t {
  /// Round half up (towards +infinity) once: TOSA SINGLE_ROUND.
  SingleRound = 0,
  /// TOSA DOUBLE_ROUND: for shift > 31 an extra 2^30 is added away from
  /// zero, emulating the historical two-step rounding of gemmlowp/TFLite.
  DoubleRound = 1,
};

/// Smallest and largest shift a (multiplier, shift) pair may use.
constexpr int32_t kMinShift = 2;
constexpr int32_t kMaxShift = 62;
/// Multipliers are non-negative and strictly below 2^31.
constexpr int64_t kMultiplierLimit = int64_t(1) << 31;

/// A real scale `multiplier * 2^-shift`. Multipliers are in [0, 2^31),
/// except the negative-side multipliers of a dual requant, which may be
/// negative (a negative PReLU slope).
struct ScaleMultiplier {
  int32_t multiplier = 0;
  int32_t shift = kMaxShift;
};

/// Result of `computeMultiplier`.
enum class ScaleStatus : uint8_t {
  Ok = 0,
  /// NaN, infinity or a negative scale.
  NotFiniteOrNegative,
  /// The scale is >= 2^29 and cannot be expressed with shift >= 2.
  TooLarge,
};

/// Converts a real, non-negative scale into the closest (multiplier, shift)
/// pair: the multiplier is normalized into [2^30, 2^31) when possible, and
/// denormalized (rounded, possibly to zero) when the scale is so small that
/// the shift would exceed kMaxShift. The error is at most half a unit of the
/// multiplier's last place.
ScaleStatus computeMultiplier(double scale, ScaleMultiplier &out);

/// Returns the real value a (multiplier, shift) pair represents.
double multiplierToScale(ScaleMultiplier m);

/// True when `m` satisfies the range rules above.
inline bool isValidMultiplier(ScaleMultiplier m) {
  return m.multiplier >= 0 && m.shift >= kMinShift && m.shift <= kMaxShift;
}

/// Saturates `v` into [lo, hi].
inline int64_t saturate(int64_t v, int64_t lo, int64_t hi) {
  return v < lo ? lo : (v > hi ? hi : v);
}

namespace detail {
/// Arithmetic right shift of the 128-bit two's-complement value (hi:lo) by
/// `s` in [1, 63] (floor division by 2^s), returning the low 64 bits saturated to int64.
inline int64_t shiftRight128(int64_t hi, uint64_t lo, int32_t s) {
  // The true result is hi * 2^(64-s) + (lo >> s) (hi signed). It fits int64
  // iff hi >> (s-1) is 0 or -1 after the shift; saturate otherwise.
  int64_t top = hi >> (s - 1); // sign-extended bits above result's bit 63
  if (top != 0 && top != -1)
    return hi < 0 ? INT64_MIN : INT64_MAX;
  // `top` covers the result's sign bit too, so the bits below are exact.
  uint64_t r = (static_cast<uint64_t>(hi) << (64 - s)) | (lo >> s);
  return static_cast<int64_t>(r);
}
} // namespace detail

/// Scales `value` by `m` with the rounding rule above, without the zero point
/// or saturation. Exact for every int64 value (the 95-bit product is formed in
/// two 64-bit words); a result outside int64 saturates.
inline int64_t applyScale(int64_t value, ScaleMultiplier m,
                          RoundingMode mode = RoundingMode::SingleRound) {
  const int32_t s = m.shift;
  int64_t round = int64_t(1) << (s - 1);
  // A negative multiplier (the negative side of a dual requant with a
  // negative PReLU slope) scales by |m| the negated value: the same
  // product, so the same rounding. DOUBLE_ROUND's extra term follows the
  // product's sign.
  const bool productNonNegative =
      value == 0 || ((value > 0) == (m.multiplier >= 0));
  if (mode == RoundingMode::DoubleRound && s > 31)
    round += productNonNegative ? (int64_t(1) << 30) : -(int64_t(1) << 30);
  if (m.multiplier < 0) {
    m.multiplier = m.multiplier == INT32_MIN ? INT32_MAX : -m.multiplier;
    value = value == INT64_MIN ? -INT64_MAX : -value;
  }

  // Fast path for 32-bit accumulators: |value * multiplier| <= 2^62 and
  // |round| <= 2^61 + 2^30, so the sum stays inside int64.
  if (value >= INT32_MIN && value <= INT32_MAX) {
    int64_t prod = value * static_cast<int64_t>(m.multiplier);
    return (prod + round) >> s;
  }

  // Slow path: form the 128-bit product from 32-bit halves of |value|.
  const bool negative = value < 0;
  uint64_t mag = negative ? (~static_cast<uint64_t>(value) + 1)
                          : static_cast<uint64_t>(value);
  const uint64_t mul = static_cast<uint64_t>(m.multiplier);
  uint64_t loPart = (mag & 0xffffffffu) * mul; // < 2^63
  uint64_t hiPart = (mag >> 32) * mul;         // < 2^63
  // (hiPart << 32) + loPart as (hi:lo).
  uint64_t lo = hiPart << 32;
  uint64_t hi = hiPart >> 32;
  uint64_t sum = lo + loPart;
  hi += sum < lo ? 1 : 0;
  lo = sum;
  if (negative) { // two's-complement negate (hi:lo)
    lo = ~lo + 1;
    hi = ~hi + (lo == 0 ? 1 : 0);
  }
  // Add the (signed) rounding term.
  uint64_t r = static_cast<uint64_t>(round);
  uint64_t rhi = round < 0 ? ~uint64_t(0) : 0;
  uint64_t nlo = lo + r;
  hi = hi + rhi + (nlo < lo ? 1 : 0);
  lo = nlo;
  return detail::shiftRight128(static_cast<int64_t>(hi), lo, s);
}

/// Requantizes an accumulator: scale, add the output zero point, saturate to
/// [qmin, qmax].
inline int32_t requantize(int64_t acc, ScaleMultiplier m, int32_t zeroPoint,
                          int32_t qmin, int32_t qmax,
                          RoundingMode mode = RoundingMode::SingleRound) {
  int64_t scaled = applyScale(acc, m, mode);
  // Saturate before adding the zero point so the addition cannot overflow.
  scaled = saturate(scaled, INT32_MIN, INT32_MAX);
  return static_cast<int32_t>(saturate(scaled + zeroPoint, qmin, qmax));
}

/// The dual-multiplier form used when PReLU/LeakyReLU is folded into a
/// requantization (adaptive-bit-depth paper, eq. 5): accumulators below zero
/// use `negative`, the others `positive`.
inline int32_t requantizeDual(int64_t acc, ScaleMultiplier positive,
                              ScaleMultiplier negative, int32_t zeroPoint,
                              int32_t qmin, int32_t qmax,
                              RoundingMode mode = RoundingMode::SingleRound) {
  return requantize(acc, acc < 0 ? negative : positive, zeroPoint, qmin, qmax,
                    mode);
}

/// num / den rounded to the nearest integer, ties to even, for den > 0;
/// exact for every int64 num. This is the rule of integer averages
/// (lowbit.avg_pool / global_avg_pool): the exact mean of stored values
/// rounded the way ONNX QuantizeLinear rounds (before the zero point is
/// added), so DQ -> AveragePool -> Q with one scale and zero point is
/// reproduced bit for bit.
inline int64_t divideRoundHalfEven(int64_t num, int64_t den) {
  int64_t q = num / den; // truncates towards zero
  int64_t r = num % den; // same sign as num
  if (r < 0) {           // floor division: 0 <= r < den
    q -= 1;
    r += den;
  }
  // Compare r with den - r rather than 2r with den: no overflow.
  if (r > den - r || (r == den - r && (q & 1) != 0))
    q += 1;
  return q;
}

/// Storage range of a signed or unsigned integer of `bits` bits (1..32).
inline int64_t storageMin(unsigned bits, bool isSigned) {
  return isSigned ? -(int64_t(1) << (bits - 1)) : 0;
}
inline int64_t storageMax(unsigned bits, bool isSigned) {
  return isSigned ? (int64_t(1) << (bits - 1)) - 1 : (int64_t(1) << bits) - 1;
}

/// Quantizes a real value: round(x / scale) to nearest, ties to even (the
/// ONNX QuantizeLinear and TOSA rule), plus the zero point, saturated.
/// NaN quantizes to the zero point. The division is done in the precision of
/// the arguments: the float overload is the rule for float32 tensors (a
/// quotient rounded to float can land on a tie that the double one misses).
int32_t quantizeValue(double x, double scale, int32_t zeroPoint, int32_t qmin,
                      int32_t qmax);
int32_t quantizeValue(float x, float scale, int32_t zeroPoint, int32_t qmin,
                      int32_t qmax);

/// Dequantizes a stored integer: (q - zeroPoint) * scale.
inline double dequantizeValue(int32_t q, double scale, int32_t zeroPoint) {
  return (static_cast<double>(q) - static_cast<double>(zeroPoint)) * scale;
}

} // namespace rt
} // namespace lowbit

#endif // LOWBIT_RUNTIME_REQUANT_H
