//===- RequantTest.cpp - The requantization rule vs. exact arithmetic -----===//
//
// Part of the lowbit project.
//
//===----------------------------------------------------------------------===//
//
// Every case is checked against a reference written independently of the
// implementation: 128-bit integers and floor division (not shifts), and exact
// rational checks of the scale conversion.
//
//===----------------------------------------------------------------------===//

#include "lowbit/runtime/Requant.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <random>

using namespace lowbit::rt;

namespace {

using i128 = __int128;

/// floor(num / 2^shift) by integer division, saturated to int64.
int64_t floorDivPow2(i128 num, int shift) {
  i128 den = static_cast<i128>(1) << shift;
  i128 q = num / den; // truncates towards zero
  if (num % den != 0 && num < 0)
    q -= 1;
  if (q > static_cast<i128>(INT64_MAX))
    return INT64_MAX;
  if (q < static_cast<i128>(INT64_MIN))
    return INT64_MIN;
  return static_cast<int64_t>(q);
}

/// Exact reference of applyScale: floor(value * M / 2^s + 1/2) for single
/// rounding, with TOSA's extra +-2^30 for double rounding when s > 31.
int64_t referenceScale(int64_t value, ScaleMultiplier m, RoundingMode mode) {
  i128 num = static_cast<i128>(value) * m.multiplier;
  // Half of 2^s as a rational: num / 2^s + 1/2 = (2 num + 2^s) / 2^(s+1).
  i128 twice = 2 * num + (static_cast<i128>(1) << m.shift);
  if (mode == RoundingMode::DoubleRound && m.shift > 31)
    twice += (num >= 0 ? 2 : -2) * (static_cast<i128>(1) << 30);
  return floorDivPow2(twice, m.shift + 1);
}

int32_t referenceRequant(int64_t acc, ScaleMultiplier m, int32_t zp,
                         int32_t qmin, int32_t qmax, RoundingMode mode) {
  i128 v = referenceScale(acc, m, mode);
  if (v > INT32_MAX)
    v = INT32_MAX;
  if (v < INT32_MIN)
    v = INT32_MIN;
  v += zp;
  if (v < qmin)
    v = qmin;
  if (v > qmax)
    v = qmax;
  return static_cast<int32_t>(v);
}

struct Counter {
  uint64_t cases = 0, mismatches = 0;
  void check(int64_t got, int64_t want) {
    ++cases;
    if (got != want)
      ++mismatches;
  }
};

} // namespace

TEST(Requant, RandomAgainstExactReference) {
  std::mt19937_64 rng(0x10b17u);
  Counter counter;
  const int kCases = 1200000;
  for (int i = 0; i < kCases; ++i) {
    ScaleMultiplier m;
    // Mix full-range and small multipliers and every legal shift.
    m.multiplier = (i % 7 == 0) ? static_cast<int32_t>(rng() % 1024)
                                : static_cast<int32_t>(rng() & 0x7fffffff);
    m.shift = kMinShift + static_cast<int32_t>(rng() % (kMaxShift - 1));
    int64_t acc;
    switch (i % 4) {
    case 0: // full int32 accumulators
      acc = static_cast<int32_t>(rng());
      break;
    case 1: // small accumulators, where rounding ties are frequent
      acc = static_cast<int64_t>(rng() % 2001) - 1000;
      break;
    case 2: // wide (int48-like) accumulators through the 128-bit path
      acc = static_cast<int64_t>(rng()) >> 16;
      break;
    default: // any int64
      acc = static_cast<int64_t>(rng());
      break;
    }
    RoundingMode mode =
        (i & 8) ? RoundingMode::DoubleRound : RoundingMode::SingleRound;
    counter.check(applyScale(acc, m, mode), referenceScale(acc, m, mode));
    int32_t zp = static_cast<int32_t>(rng() % 256) - 128;
    counter.check(requantize(acc, m, zp, -128, 127, mode),
                  referenceRequant(acc, m, zp, -128, 127, mode));
  }
  std::printf("requant random: %llu cases, %llu mismatches\n",
              static_cast<unsigned long long>(counter.cases),
              static_cast<unsigned long long>(counter.mismatches));
  EXPECT_GE(counter.cases, 1000000u);
  EXPECT_EQ(counter.mismatches, 0u);
}

// Negative multipliers (the negative side of a dual requant with a negative
// PReLU slope): the same exact product and rounding.
TEST(Requant, NegativeMultipliersAgainstExactReference) {
  std::mt19937_64 rng(0x5107eu);
  Counter counter;
  for (int i = 0; i < 400000; ++i) {
    ScaleMultiplier m;
    m.multiplier = -static_cast<int32_t>(
        (i % 5 == 0) ? rng() % 1024 : (rng() & 0x7fffffff) % 0x7fffffff);
    m.shift = kMinShift + static_cast<int32_t>(rng() % (kMaxShift - 1));
    int64_t acc = (i % 3 == 0)   ? static_cast<int64_t>(rng() % 2001) - 1000
                  : (i % 3 == 1) ? static_cast<int64_t>(static_cast<int32_t>(rng()))
                                 : static_cast<int64_t>(rng()) >> 1;
    RoundingMode mode =
        (i & 8) ? RoundingMode::DoubleRound : RoundingMode::SingleRound;
    counter.check(applyScale(acc, m, mode), referenceScale(acc, m, mode));
    counter.check(requantizeDual(acc, ScaleMultiplier{1 << 30, 31}, m, 3,
                                 -128, 127, mode),
                  acc < 0 ? referenceRequant(acc, m, 3, -128, 127, mode)
                          : referenceRequant(acc, ScaleMultiplier{1 << 30, 31},
                                             3, -128, 127, mode));
  }
  std::printf("requant negative multipliers: %llu cases, %llu mismatches\n",
              static_cast<unsigned long long>(counter.cases),
              static_cast<unsigned long long>(counter.mismatches));
  EXPECT_EQ(counter.mismatches, 0u);
}

TEST(Requant, EdgeCases) {
  const int64_t values[] = {0,
                            1,
                            -1,
                            2,
                            -2,
                            INT32_MAX,
                            INT32_MIN,
                            static_cast<int64_t>(INT32_MAX) + 1,
                            static_cast<int64_t>(INT32_MIN) - 1,
                            INT64_MAX,
                            INT64_MIN,
                            INT64_MAX - 1,
                            INT64_MIN + 1,
                            int64_t(1) << 32,
                            -(int64_t(1) << 32),
                            int64_t(1) << 47,
                            -(int64_t(1) << 47)};
  const int32_t multipliers[] = {0, 1, 2, 3, 1 << 30, (1 << 30) + 1,
                                 INT32_MAX, INT32_MAX - 1};
  Counter counter;
  for (int64_t v : values)
    for (int32_t mul : multipliers)
      for (int32_t s = kMinShift; s <= kMaxShift; ++s)
        for (RoundingMode mode :
             {RoundingMode::SingleRound, RoundingMode::DoubleRound}) {
          ScaleMultiplier m{mul, s};
          counter.check(applyScale(v, m, mode), referenceScale(v, m, mode));
          counter.check(requantize(v, m, 3, -128, 127, mode),
                        referenceRequant(v, m, 3, -128, 127, mode));
          counter.check(requantize(v, m, -5, 0, 255, mode),
                        referenceRequant(v, m, -5, 0, 255, mode));
          counter.check(requantize(v, m, 0, INT32_MIN, INT32_MAX, mode),
                        referenceRequant(v, m, 0, INT32_MIN, INT32_MAX, mode));
        }
  std::printf("requant edges: %llu cases, %llu mismatches\n",
              static_cast<unsigned long long>(counter.cases),
              static_cast<unsigned long long>(counter.mismatches));
  EXPECT_EQ(counter.mismatches, 0u);
}

TEST(Requant, HalfwayCasesRoundHalfUp) {
  // multiplier 1, shift 2: value / 4. Ties go towards +infinity.
  ScaleMultiplier quarter{1, 2};
  EXPECT_EQ(applyScale(2, quarter), 1);   // 0.5 -> 1
  EXPECT_EQ(applyScale(-2, quarter), 0);  // -0.5 -> 0
  EXPECT_EQ(applyScale(6, quarter), 2);   // 1.5 -> 2
  EXPECT_EQ(applyScale(-6, quarter), -1); // -1.5 -> -1
  EXPECT_EQ(applyScale(10, quarter), 3);  // 2.5 -> 3
  EXPECT_EQ(applyScale(-10, quarter), -2);
  EXPECT_EQ(applyScale(5, quarter), 1);  // 1.25 -> 1
  EXPECT_EQ(applyScale(-5, quarter), -1); // -1.25 -> -1
  EXPECT_EQ(applyScale(7, quarter), 2);  // 1.75 -> 2
  EXPECT_EQ(applyScale(-7, quarter), -2);
  // Ties with a large shift, both rounding modes.
  ScaleMultiplier big{1, 40};
  int64_t half = int64_t(1) << 39;
  EXPECT_EQ(applyScale(half, big), 1);
  EXPECT_EQ(applyScale(-half, big), 0);
  // Double rounding adds 2^30 away from zero when shift > 31.
  EXPECT_EQ(applyScale(half - (int64_t(1) << 30), big,
                       RoundingMode::DoubleRound),
            1);
  EXPECT_EQ(applyScale(half - (int64_t(1) << 30), big), 0);
}

TEST(Requant, SaturationAndZeroPoint) {
  ScaleMultiplier one{1 << 30, 30}; // exactly 1.0
  EXPECT_EQ(requantize(100, one, 0, -128, 127), 100);
  EXPECT_EQ(requantize(1000, one, 0, -128, 127), 127);
  EXPECT_EQ(requantize(-1000, one, 0, -128, 127), -128);
  EXPECT_EQ(requantize(100, one, 20, -128, 127), 120);
  EXPECT_EQ(requantize(-100, one, 128, 0, 255), 28);
  EXPECT_EQ(requantize(-300, one, 128, 0, 255), 0);
  // Narrowed saturation (a ReLU6 absorbed into the range).
  EXPECT_EQ(requantize(-5, one, 0, 0, 6), 0);
  EXPECT_EQ(requantize(9, one, 0, 0, 6), 6);
  // 4-bit and 16-bit outputs.
  EXPECT_EQ(requantize(9, one, 0, static_cast<int32_t>(storageMin(4, true)),
                       static_cast<int32_t>(storageMax(4, true))),
            7);
  EXPECT_EQ(requantize(70000, one, 0, static_cast<int32_t>(storageMin(16, true)),
                       static_cast<int32_t>(storageMax(16, true))),
            32767);
}

TEST(Requant, DualMultiplierSelectsBySign) {
  ScaleMultiplier pos{1 << 30, 30};  // 1.0
  ScaleMultiplier neg{1 << 30, 33};  // 0.125 (a LeakyReLU slope)
  EXPECT_EQ(requantizeDual(80, pos, neg, 0, -128, 127), 80);
  EXPECT_EQ(requantizeDual(-80, pos, neg, 0, -128, 127), -10);
  EXPECT_EQ(requantizeDual(-4, pos, neg, 0, -128, 127), 0); // -0.5 -> 0
  EXPECT_EQ(requantizeDual(0, pos, neg, 7, -128, 127), 7);
  std::mt19937_64 rng(7);
  Counter counter;
  for (int i = 0; i < 100000; ++i) {
    int64_t acc = static_cast<int32_t>(rng());
    ScaleMultiplier p{static_cast<int32_t>(rng() & 0x7fffffff),
                      kMinShift + static_cast<int32_t>(rng() % 61)};
    ScaleMultiplier n{static_cast<int32_t>(rng() & 0x7fffffff),
                      kMinShift + static_cast<int32_t>(rng() % 61)};
    counter.check(requantizeDual(acc, p, n, -3, -128, 127),
                  referenceRequant(acc, acc < 0 ? n : p, -3, -128, 127,
                                   RoundingMode::SingleRound));
  }
  EXPECT_EQ(counter.mismatches, 0u);
}

TEST(ComputeMultiplier, ExactWithinHalfUlp) {
  std::mt19937_64 rng(11);
  std::uniform_real_distribution<double> mant(1.0, 2.0);
  int checked = 0;
  for (int i = 0; i < 200000; ++i) {
    int e = static_cast<int>(rng() % 120) - 90; // 2^-90 .. 2^29
    double scale = std::ldexp(mant(rng), e);
    if (scale >= std::ldexp(1.0, 29))
      continue;
    ScaleMultiplier m;
    ASSERT_EQ(computeMultiplier(scale, m), ScaleStatus::Ok) << scale;
    ASSERT_TRUE(isValidMultiplier(m));
    // |M - scale * 2^s| <= 1/2, checked in long double where scale * 2^s is
    // exact (a power-of-two product of a 53-bit value).
    long double target = std::ldexp(static_cast<long double>(scale), m.shift);
    long double err = std::fabs(static_cast<long double>(m.multiplier) - target);
    ASSERT_LE(err, 0.5L) << "scale " << scale;
    if (m.shift < kMaxShift) { // normalized
      ASSERT_GE(m.multiplier, 1 << 30);
    }
    ++checked;
  }
  EXPECT_GT(checked, 100000);
}

TEST(ComputeMultiplier, Extremes) {
  ScaleMultiplier m;
  EXPECT_EQ(computeMultiplier(1.0, m), ScaleStatus::Ok);
  EXPECT_EQ(m.multiplier, 1 << 30);
  EXPECT_EQ(m.shift, 30);
  EXPECT_EQ(computeMultiplier(0.0, m), ScaleStatus::Ok);
  EXPECT_EQ(m.multiplier, 0);
  EXPECT_EQ(computeMultiplier(-1.0, m), ScaleStatus::NotFiniteOrNegative);
  EXPECT_EQ(computeMultiplier(NAN, m), ScaleStatus::NotFiniteOrNegative);
  EXPECT_EQ(computeMultiplier(INFINITY, m), ScaleStatus::NotFiniteOrNegative);
  EXPECT_EQ(computeMultiplier(std::ldexp(1.0, 29), m), ScaleStatus::TooLarge);
  EXPECT_EQ(computeMultiplier(std::ldexp(1.0, 29) * 0.99, m), ScaleStatus::Ok);
  EXPECT_EQ(m.shift, kMinShift);
  // Scales >= 1 (e.g. upsampling requant).
  EXPECT_EQ(computeMultiplier(3.0, m), ScaleStatus::Ok);
  EXPECT_EQ(requantize(5, m, 0, -128, 127), 15);
  // A value just below 1 that rounds the fraction up to 2^31.
  EXPECT_EQ(computeMultiplier(1.0 - 1e-17, m), ScaleStatus::Ok);
  EXPECT_TRUE(isValidMultiplier(m));
  EXPECT_LT(m.multiplier, 1LL << 31);
  // Tiny scales denormalize and eventually flush to a zero multiplier.
  EXPECT_EQ(computeMultiplier(std::ldexp(1.0, -40), m), ScaleStatus::Ok);
  EXPECT_EQ(m.shift, kMaxShift);
  EXPECT_EQ(m.multiplier, 1 << 22);
  EXPECT_EQ(computeMultiplier(std::ldexp(1.0, -70), m), ScaleStatus::Ok);
  EXPECT_EQ(m.multiplier, 0);
  EXPECT_EQ(computeMultiplier(1e-300, m), ScaleStatus::Ok);
  EXPECT_EQ(m.multiplier, 0);
  EXPECT_EQ(computeMultiplier(4.9e-324, m), ScaleStatus::Ok); // denormal
  EXPECT_EQ(m.multiplier, 0);
}

TEST(ComputeMultiplier, RequantMatchesRealRounding) {
  // For scales that are exactly k / 2^j the pair is exact, so requantization
  // must equal floor(x * scale + 1/2) computed in exact rationals.
  std::mt19937_64 rng(5);
  Counter counter;
  for (int i = 0; i < 100000; ++i) {
    int64_t k = static_cast<int64_t>(rng() % ((1u << 20) - 1)) + 1;
    int j = static_cast<int>(rng() % 40) + 2;
    double scale = std::ldexp(static_cast<double>(k), -j);
    if (scale >= std::ldexp(1.0, 29))
      continue;
    ScaleMultiplier m;
    ASSERT_EQ(computeMultiplier(scale, m), ScaleStatus::Ok);
    int32_t x = static_cast<int32_t>(rng());
    i128 twice = 2 * static_cast<i128>(x) * k + (static_cast<i128>(1) << j);
    counter.check(applyScale(x, m), floorDivPow2(twice, j + 1));
  }
  EXPECT_EQ(counter.mismatches, 0u);
}

TEST(Quantize, TiesToEvenAndSaturation) {
  EXPECT_EQ(quantizeValue(0.5, 1.0, 0, -128, 127), 0);
  EXPECT_EQ(quantizeValue(1.5, 1.0, 0, -128, 127), 2);
  EXPECT_EQ(quantizeValue(2.5, 1.0, 0, -128, 127), 2);
  EXPECT_EQ(quantizeValue(-0.5, 1.0, 0, -128, 127), 0);
  EXPECT_EQ(quantizeValue(-2.5, 1.0, 0, -128, 127), -2);
  EXPECT_EQ(quantizeValue(0.26, 0.1, 10, -128, 127), 13);
  EXPECT_EQ(quantizeValue(1e9, 0.1, 0, -128, 127), 127);
  EXPECT_EQ(quantizeValue(-1e9, 0.1, 128, 0, 255), 0);
  EXPECT_EQ(quantizeValue(static_cast<double>(INFINITY), 0.1, 0, -8, 7), 7);
  EXPECT_EQ(quantizeValue(-static_cast<double>(INFINITY), 0.1, 0, -8, 7), -8);
  EXPECT_EQ(quantizeValue(static_cast<double>(NAN), 0.1, 3, -8, 7), 3);
  EXPECT_DOUBLE_EQ(dequantizeValue(13, 0.1, 10), 0.30000000000000004);
}

TEST(Quantize, Float32DividesInFloat) {
  // 2.5000001 / 1 rounds to 2.5f in float, a tie that goes to even (2);
  // the double quotient is above the tie and rounds to 3. Float tensors use
  // the float rule, as ONNX QuantizeLinear does.
  EXPECT_EQ(quantizeValue(2.5000001, 1.0, 0, -128, 127), 3);
  EXPECT_EQ(quantizeValue(2.5000001f, 1.0f, 0, -128, 127), 2);
  EXPECT_EQ(quantizeValue(0.3f, 0.1f, 0, -128, 127), 3);
  EXPECT_EQ(quantizeValue(-1e9f, 0.1f, 128, 0, 255), 0);
  EXPECT_EQ(quantizeValue(std::nanf(""), 0.1f, 3, -8, 7), 3);
}

#include "lowbit/runtime/LogQuant.h"

TEST(LogQuant, CodesAndValues) {
  // 4-bit codes: M = 8, positive exponents 1..7, negative 1..8.
  const double u = 2.0;
  EXPECT_EQ(logQuantize(1.0, u, 4), 1);     // 2^-1 * 2
  EXPECT_EQ(logQuantize(0.5, u, 4), 2);     // 2^-2 * 2
  EXPECT_EQ(logQuantize(-0.25, u, 4), -3);
  EXPECT_EQ(logQuantize(3.0, u, 4), 1);     // above U/2 clips to exponent 1
  // The smallest magnitudes are 2/128 (positive, M - 1) and 2/256
  // (negative, M); below half of them zero is nearer.
  EXPECT_EQ(logQuantize(0.01, u, 4), 7);     // 2/128 = 0.0156
  EXPECT_EQ(logQuantize(0.007, u, 4), 0);    // < 0.0078
  EXPECT_EQ(logQuantize(-0.005, u, 4), -8);  // 2/256 = 0.0078
  EXPECT_EQ(logQuantize(-0.003, u, 4), 0);   // < 0.0039
  EXPECT_EQ(logQuantize(1e-9, u, 4), 0);
  EXPECT_EQ(logQuantize(std::nan(""), u, 4), 0);
  EXPECT_EQ(logQuantize(0.0, u, 4), 0);
  EXPECT_DOUBLE_EQ(logDequantize(0, u), 0.0);
  EXPECT_DOUBLE_EQ(logDequantize(3, u), 0.25);
  EXPECT_DOUBLE_EQ(logDequantize(-8, u), -2.0 / 256.0);
  // Every code round-trips through its value.
  for (int32_t q = -8; q <= 7; ++q) {
    if (q != 0) {
      EXPECT_EQ(logQuantize(logDequantize(q, u), u, 4), q) << q;
    }
  }
  // Nearest in the linear domain: between 0.5 (code 2) and 1 (code 1) the
  // threshold is 0.75, not the geometric mean 0.707 (log-domain rounding
  // would give 0.72 code 1); exact ties go to the larger magnitude.
  EXPECT_EQ(logQuantize(0.7, u, 4), 2);
  EXPECT_EQ(logQuantize(0.72, u, 4), 2);
  EXPECT_EQ(logQuantize(-0.74, u, 4), -2);
  EXPECT_EQ(logQuantize(0.75, u, 4), 1);
  EXPECT_EQ(logQuantize(0.76, u, 4), 1);
  EXPECT_EQ(logQuantize(0.1874, u, 4), 4); // 0.125 .. 0.25: threshold 0.1875
  EXPECT_EQ(logQuantize(0.1875, u, 4), 3);
}
