//===- KernelsTest.cpp - Reference kernels vs. naive loops ----------------===//
//
// Part of the lowbit project.
//
//===----------------------------------------------------------------------===//
//
// Every kernel is checked against a naive implementation written here from
// the formula in Kernels.h: plain nested loops with explicit bounds checks,
// double sums for floats and int64 sums for integers. Shapes and values are
// random with fixed seeds. Float results may differ by reassociation only, so
// they are compared with a relative tolerance of 1e-5 of the sum of the
// magnitudes of the terms (a bound on the rounding error of any order of
// summation); integer results must match exactly.
//
//===----------------------------------------------------------------------===//

#include "lowbit/runtime/Kernels.h"
#include "lowbit/runtime/Ops.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <numeric>
#include <random>
#include <vector>

using namespace lowbit::rt;

namespace {

using Rng = std::mt19937_64;

int64_t randInt(Rng &rng, int64_t lo, int64_t hi) {
  return std::uniform_int_distribution<int64_t>(lo, hi)(rng);
}

template <typename T> std::vector<T> randomInts(Rng &rng, int64_t count,
                                                int64_t lo, int64_t hi) {
  std::vector<T> v(static_cast<size_t>(count));
  for (T &x : v)
    x = static_cast<T>(randInt(rng, lo, hi));
  return v;
}

template <typename T> std::vector<T> randomFull(Rng &rng, int64_t count) {
  return randomInts<T>(rng, count, std::numeric_limits<T>::lowest(),
                       std::numeric_limits<T>::max());
}

std::vector<float> randomFloats(Rng &rng, int64_t count) {
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  std::vector<float> v(static_cast<size_t>(count));
  for (float &x : v)
    x = dist(rng);
  return v;
}

/// A float result and the data needed to judge it.
struct RefValue {
  double value = 0; // exact-ish (double) result
  double mag = 0;   // sum of |terms|: bounds the rounding error
};

::testing::AssertionResult closeTo(float got, RefValue ref) {
  double tol = 1e-5 * (ref.mag + std::fabs(ref.value));
  if (std::fabs(static_cast<double>(got) - ref.value) <= tol)
    return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << "got " << got << ", want " << ref.value << " (tol " << tol << ")";
}

//===----------------------------------------------------------------------===//
// Convolution references
//===----------------------------------------------------------------------===//

/// Generic naive convolution: calls `term(inIndex, wIndex)` for every
/// in-bounds tap of out[b,y,x,o], summing in Acc.
template <typename Acc, typename Term>
Acc naiveConvAt(const Conv2DShape &s, int64_t b, int64_t y, int64_t x,
                int64_t o, bool depthwise, int64_t mult, Term term) {
  Acc acc{};
  int64_t I = depthwise ? 1 : s.c / s.groups;
  int64_t g = depthwise ? 0 : o / (s.oc / s.groups);
  for (int64_t ky = 0; ky < s.kh; ++ky)
    for (int64_t kx = 0; kx < s.kw; ++kx)
      for (int64_t i = 0; i < I; ++i) {
        int64_t iy = y * s.strideH + ky * s.dilationH - s.padTop;
        int64_t ix = x * s.strideW + kx * s.dilationW - s.padLeft;
        if (iy < 0 || iy >= s.h || ix < 0 || ix >= s.w)
          continue;
        int64_t ch, wIndex;
        if (depthwise) {
          ch = o / mult;
          wIndex = ((ky * s.kw + kx) * s.c + ch) * mult + o % mult;
        } else {
          ch = g * I + i;
          wIndex = ((o * s.kh + ky) * s.kw + kx) * I + i;
        }
        int64_t inIndex = ((b * s.h + iy) * s.w + ix) * s.c + ch;
        term(acc, inIndex, wIndex);
      }
  return acc;
}

int64_t outCount(const Conv2DShape &s) { return s.n * s.oh * s.ow * s.oc; }

void checkConvF32(const Conv2DShape &s, bool depthwise, int64_t mult,
                  const std::vector<float> &in, const std::vector<float> &w,
                  const float *bias, const std::vector<float> &out) {
  int64_t idx = 0;
  for (int64_t b = 0; b < s.n; ++b)
    for (int64_t y = 0; y < s.oh; ++y)
      for (int64_t x = 0; x < s.ow; ++x)
        for (int64_t o = 0; o < s.oc; ++o, ++idx) {
          RefValue ref = naiveConvAt<RefValue>(
              s, b, y, x, o, depthwise, mult,
              [&](RefValue &acc, int64_t ii, int64_t wi) {
                double t = double(in[ii]) * double(w[wi]);
                acc.value += t;
                acc.mag += std::fabs(t);
              });
          if (bias) {
            ref.value += bias[o];
            ref.mag += std::fabs(bias[o]);
          }
          ASSERT_TRUE(closeTo(out[idx], ref))
              << "at b=" << b << " y=" << y << " x=" << x << " o=" << o;
        }
}

template <typename TIn, typename TW, typename TAcc>
void checkConvInt(const Conv2DShape &s, bool depthwise, int64_t mult,
                  const std::vector<TIn> &in, const std::vector<TW> &w,
                  const TAcc *bias, int32_t inZp, int32_t wZp,
                  const std::vector<TAcc> &out) {
  int64_t idx = 0;
  for (int64_t b = 0; b < s.n; ++b)
    for (int64_t y = 0; y < s.oh; ++y)
      for (int64_t x = 0; x < s.ow; ++x)
        for (int64_t o = 0; o < s.oc; ++o, ++idx) {
          int64_t acc = naiveConvAt<int64_t>(
              s, b, y, x, o, depthwise, mult,
              [&](int64_t &a, int64_t ii, int64_t wi) {
                a += (int64_t(in[ii]) - inZp) * (int64_t(w[wi]) - wZp);
              });
          if (bias)
            acc += bias[o];
          ASSERT_EQ(out[idx], static_cast<TAcc>(acc))
              << "at b=" << b << " y=" << y << " x=" << x << " o=" << o;
        }
}

/// A random convolution shape. Padding goes up to two beyond the dilated
/// kernel extent, so some outputs see no input at all.
Conv2DShape randomConvShape(Rng &rng, int64_t groups, int64_t perGroupIn,
                            int64_t oc) {
  static const int64_t kChannels[] = {1, 2, 3, 5, 8, 11, 17};
  for (;;) {
    Conv2DShape s{};
    s.n = randInt(rng, 1, 2);
    s.h = randInt(rng, 1, 9);
    s.w = randInt(rng, 1, 9);
    s.groups = groups;
    s.c = groups * (perGroupIn > 0 ? perGroupIn : kChannels[randInt(rng, 0, 6)]);
    s.oc = oc;
    s.kh = randInt(rng, 1, 4);
    s.kw = randInt(rng, 1, 4);
    s.strideH = randInt(rng, 1, 3);
    s.strideW = randInt(rng, 1, 3);
    s.dilationH = randInt(rng, 1, 3);
    s.dilationW = randInt(rng, 1, 3);
    int64_t extH = (s.kh - 1) * s.dilationH + 1;
    int64_t extW = (s.kw - 1) * s.dilationW + 1;
    s.padTop = randInt(rng, 0, extH + 1);
    s.padLeft = randInt(rng, 0, extW + 1);
    int64_t padBottom = randInt(rng, 0, extH + 1);
    int64_t padRight = randInt(rng, 0, extW + 1);
    int64_t spanH = s.h + s.padTop + padBottom - extH;
    int64_t spanW = s.w + s.padLeft + padRight - extW;
    if (spanH < 0 || spanW < 0)
      continue;
    s.oh = spanH / s.strideH + 1;
    s.ow = spanW / s.strideW + 1;
    return s;
  }
}

int64_t inCount(const Conv2DShape &s) { return s.n * s.h * s.w * s.c; }

//===----------------------------------------------------------------------===//
// Convolution tests
//===----------------------------------------------------------------------===//

TEST(Conv2DF32, RandomShapesAgainstNaive) {
  Rng rng(1);
  for (int iter = 0; iter < 300; ++iter) {
    const int64_t groups = iter % 3 == 0 ? 2 : 1;
    const int64_t oc = groups * randInt(rng, 1, 9);
    Conv2DShape s = randomConvShape(rng, groups, 0, oc);
    auto in = randomFloats(rng, inCount(s));
    auto w = randomFloats(rng, s.oc * s.kh * s.kw * (s.c / groups));
    auto bias = randomFloats(rng, s.oc);
    const float *biasPtr = iter % 2 ? bias.data() : nullptr;
    std::vector<float> out(static_cast<size_t>(outCount(s)), -7.0f);
    conv2dF32(in.data(), w.data(), biasPtr, out.data(), s);
    SCOPED_TRACE(::testing::Message() << "iteration " << iter);
    checkConvF32(s, false, 1, in, w, biasPtr, out);
  }
}

TEST(Conv2DF32, DepthwiseGroupsAndWideChannels) {
  Rng rng(2);
  for (int iter = 0; iter < 40; ++iter) {
    Conv2DShape s;
    if (iter % 2 == 0) { // groups == c (one input channel per group)
      int64_t c = randInt(rng, 1, 12);
      s = randomConvShape(rng, c, 1, c * randInt(rng, 1, 3));
    } else { // wide channel counts exercise the long contiguous dot
      s = randomConvShape(rng, 1, randInt(rng, 20, 70), randInt(rng, 1, 9));
    }
    auto in = randomFloats(rng, inCount(s));
    auto w = randomFloats(rng, s.oc * s.kh * s.kw * (s.c / s.groups));
    auto bias = randomFloats(rng, s.oc);
    std::vector<float> out(static_cast<size_t>(outCount(s)));
    conv2dF32(in.data(), w.data(), bias.data(), out.data(), s);
    SCOPED_TRACE(::testing::Message() << "iteration " << iter);
    checkConvF32(s, false, 1, in, w, bias.data(), out);
  }
}

template <typename TIn, typename TW, typename TAcc>
void runConvIntCase(Rng &rng, int iters, int64_t inLo, int64_t inHi,
                    int64_t wLo, int64_t wHi) {
  for (int iter = 0; iter < iters; ++iter) {
    const int64_t groupsChoice = iter % 3;
    Conv2DShape s;
    if (groupsChoice == 2) {
      int64_t c = randInt(rng, 1, 10);
      s = randomConvShape(rng, c, 1, c * randInt(rng, 1, 2));
    } else {
      const int64_t groups = groupsChoice + 1;
      s = randomConvShape(rng, groups, 0, groups * randInt(rng, 1, 9));
    }
    auto in = randomInts<TIn>(rng, inCount(s), inLo, inHi);
    auto w = randomInts<TW>(rng, s.oc * s.kh * s.kw * (s.c / s.groups), wLo,
                            wHi);
    auto bias = randomInts<TAcc>(rng, s.oc, -100000, 100000);
    const int32_t inZp = static_cast<int32_t>(randInt(rng, inLo, inHi));
    const int32_t wZp = iter % 4 == 0 ? 0 : static_cast<int32_t>(randInt(rng, wLo, wHi));
    const TAcc *biasPtr = iter % 2 ? bias.data() : nullptr;
    std::vector<TAcc> out(static_cast<size_t>(outCount(s)));
    conv2dInt(in.data(), w.data(), biasPtr, inZp, wZp, out.data(), s);
    SCOPED_TRACE(::testing::Message() << "iteration " << iter);
    checkConvInt(s, false, 1, in, w, biasPtr, inZp, wZp, out);
  }
}

TEST(Conv2DInt, U8xI8ToI32) {
  Rng rng(3);
  runConvIntCase<uint8_t, int8_t, int32_t>(rng, 150, 0, 255, -128, 127);
}

TEST(Conv2DInt, I8xI8ToI32AndI64) {
  Rng rng(4);
  runConvIntCase<int8_t, int8_t, int32_t>(rng, 100, -128, 127, -128, 127);
  runConvIntCase<int8_t, int8_t, int64_t>(rng, 100, -128, 127, -128, 127);
}

TEST(Conv2DInt, I16AndI32Operands) {
  Rng rng(5);
  runConvIntCase<int16_t, int8_t, int64_t>(rng, 60, -32768, 32767, -128, 127);
  runConvIntCase<int16_t, uint8_t, int32_t>(rng, 60, -32768, 32767, 0, 255);
  // 2^20-sized int32 operands: the exact sum fits int64 but not int32, so
  // the int32 accumulator case checks the two's complement wrap.
  runConvIntCase<int32_t, int32_t, int32_t>(rng, 60, -(1 << 20), 1 << 20,
                                            -(1 << 20), 1 << 20);
  runConvIntCase<int32_t, int32_t, int64_t>(rng, 60, -(1 << 20), 1 << 20,
                                            -(1 << 20), 1 << 20);
}

//===----------------------------------------------------------------------===//
// Depthwise convolution
//===----------------------------------------------------------------------===//

Conv2DShape randomDepthwiseShape(Rng &rng, int64_t c, int64_t mult) {
  Conv2DShape s = randomConvShape(rng, 1, c, c * mult);
  s.groups = 0; // ignored by the depthwise kernels
  return s;
}

/// (channels, multiplier) pairs covering: M = 1, small M, channel counts
/// beyond one stack chunk (64), and M beyond a chunk.
const std::pair<int64_t, int64_t> kDepthwiseCases[] = {
    {1, 1}, {3, 1}, {8, 1}, {5, 2}, {4, 3}, {70, 1}, {20, 5}, {2, 70}, {33, 2}};

TEST(DepthwiseConv2DF32, RandomAgainstNaive) {
  Rng rng(6);
  for (int iter = 0; iter < 90; ++iter) {
    auto [c, mult] = kDepthwiseCases[iter % 9];
    Conv2DShape s = randomDepthwiseShape(rng, c, mult);
    auto in = randomFloats(rng, inCount(s));
    auto w = randomFloats(rng, s.kh * s.kw * s.oc);
    auto bias = randomFloats(rng, s.oc);
    const float *biasPtr = iter % 2 ? bias.data() : nullptr;
    std::vector<float> out(static_cast<size_t>(outCount(s)));
    depthwiseConv2dF32(in.data(), w.data(), biasPtr, out.data(), s, mult);
    SCOPED_TRACE(::testing::Message() << "iteration " << iter);
    checkConvF32(s, true, mult, in, w, biasPtr, out);
  }
}

template <typename TIn, typename TW, typename TAcc>
void runDepthwiseIntCase(Rng &rng, int iters, int64_t inLo, int64_t inHi,
                         int64_t wLo, int64_t wHi) {
  for (int iter = 0; iter < iters; ++iter) {
    auto [c, mult] = kDepthwiseCases[iter % 9];
    Conv2DShape s = randomDepthwiseShape(rng, c, mult);
    auto in = randomInts<TIn>(rng, inCount(s), inLo, inHi);
    auto w = randomInts<TW>(rng, s.kh * s.kw * s.oc, wLo, wHi);
    auto bias = randomInts<TAcc>(rng, s.oc, -100000, 100000);
    const int32_t inZp = static_cast<int32_t>(randInt(rng, inLo, inHi));
    const int32_t wZp = static_cast<int32_t>(randInt(rng, wLo, wHi));
    const TAcc *biasPtr = iter % 2 ? bias.data() : nullptr;
    std::vector<TAcc> out(static_cast<size_t>(outCount(s)));
    depthwiseConv2dInt(in.data(), w.data(), biasPtr, inZp, wZp, out.data(), s,
                       mult);
    SCOPED_TRACE(::testing::Message() << "iteration " << iter);
    checkConvInt(s, true, mult, in, w, biasPtr, inZp, wZp, out);
  }
}

TEST(DepthwiseConv2DInt, RandomAgainstNaive) {
  Rng rng(7);
  runDepthwiseIntCase<uint8_t, int8_t, int32_t>(rng, 45, 0, 255, -128, 127);
  runDepthwiseIntCase<int8_t, uint8_t, int64_t>(rng, 45, -128, 127, 0, 255);
  runDepthwiseIntCase<int32_t, int32_t, int32_t>(rng, 27, -(1 << 20), 1 << 20,
                                                 -(1 << 20), 1 << 20);
}

/// conv2d with groups == c and OHWI weights [c, kh, kw, 1] is the depthwise
/// convolution with multiplier 1 and weights [kh, kw, c, 1].
TEST(DepthwiseConv2D, MatchesGroupedConvWithGroupsEqualChannels) {
  Rng rng(8);
  for (int iter = 0; iter < 30; ++iter) {
    const int64_t c = randInt(rng, 1, 70);
    Conv2DShape s = randomConvShape(rng, c, 1, c);
    const int64_t taps = s.kh * s.kw;
    auto wOhwi = randomFloats(rng, c * taps);
    std::vector<float> wDw(wOhwi.size());
    auto wOhwiI8 = randomInts<int8_t>(rng, c * taps, -128, 127);
    std::vector<int8_t> wDwI8(wOhwiI8.size());
    for (int64_t o = 0; o < c; ++o)
      for (int64_t t = 0; t < taps; ++t) {
        wDw[t * c + o] = wOhwi[o * taps + t];
        wDwI8[t * c + o] = wOhwiI8[o * taps + t];
      }
    auto in = randomFloats(rng, inCount(s));
    auto bias = randomFloats(rng, c);
    std::vector<float> viaConv(static_cast<size_t>(outCount(s)));
    std::vector<float> viaDw(viaConv.size());
    conv2dF32(in.data(), wOhwi.data(), bias.data(), viaConv.data(), s);
    depthwiseConv2dF32(in.data(), wDw.data(), bias.data(), viaDw.data(), s, 1);
    for (size_t i = 0; i < viaConv.size(); ++i) {
      // Both sum at most kh*kw products of magnitude <= 1 plus a bias <= 1.
      ASSERT_NEAR(viaConv[i], viaDw[i], 1e-5 * (taps + 1)) << "at " << i;
    }

    auto inU8 = randomInts<uint8_t>(rng, inCount(s), 0, 255);
    auto biasI32 = randomInts<int32_t>(rng, c, -1000, 1000);
    std::vector<int32_t> intConv(viaConv.size()), intDw(viaConv.size());
    conv2dInt(inU8.data(), wOhwiI8.data(), biasI32.data(), 128, -3,
              intConv.data(), s);
    depthwiseConv2dInt(inU8.data(), wDwI8.data(), biasI32.data(), 128, -3,
                       intDw.data(), s, 1);
    ASSERT_EQ(intConv, intDw);
  }
}

//===----------------------------------------------------------------------===//
// Matmul
//===----------------------------------------------------------------------===//

TEST(MatmulF32, RandomAgainstNaive) {
  Rng rng(9);
  for (int iter = 0; iter < 60; ++iter) {
    int64_t batch = randInt(rng, 1, 3), m = randInt(rng, 1, 20),
            k = randInt(rng, 1, 40), n = randInt(rng, 1, 150);
    auto a = randomFloats(rng, batch * m * k);
    auto b = randomFloats(rng, batch * k * n);
    std::vector<float> c(static_cast<size_t>(batch * m * n), -7.0f);
    matmulF32(a.data(), b.data(), c.data(), batch, m, k, n);
    for (int64_t bi = 0; bi < batch; ++bi)
      for (int64_t i = 0; i < m; ++i)
        for (int64_t j = 0; j < n; ++j) {
          RefValue ref;
          for (int64_t p = 0; p < k; ++p) {
            double t = double(a[(bi * m + i) * k + p]) *
                       double(b[(bi * k + p) * n + j]);
            ref.value += t;
            ref.mag += std::fabs(t);
          }
          ASSERT_TRUE(closeTo(c[(bi * m + i) * n + j], ref))
              << "iteration " << iter << " at " << bi << "," << i << "," << j;
        }
  }
}

template <typename TA, typename TB, typename TAcc>
void runMatmulIntCase(Rng &rng, int iters, int64_t aLo, int64_t aHi,
                      int64_t bLo, int64_t bHi) {
  for (int iter = 0; iter < iters; ++iter) {
    int64_t batch = randInt(rng, 1, 3), m = randInt(rng, 1, 12),
            k = randInt(rng, 1, 40), n = randInt(rng, 1, 150);
    auto a = randomInts<TA>(rng, batch * m * k, aLo, aHi);
    auto b = randomInts<TB>(rng, batch * k * n, bLo, bHi);
    const int32_t aZp = static_cast<int32_t>(randInt(rng, aLo, aHi));
    const int32_t bZp = static_cast<int32_t>(randInt(rng, bLo, bHi));
    std::vector<TAcc> c(static_cast<size_t>(batch * m * n));
    matmulInt(a.data(), b.data(), c.data(), aZp, bZp, batch, m, k, n);
    for (int64_t bi = 0; bi < batch; ++bi)
      for (int64_t i = 0; i < m; ++i)
        for (int64_t j = 0; j < n; ++j) {
          int64_t acc = 0;
          for (int64_t p = 0; p < k; ++p)
            acc += (int64_t(a[(bi * m + i) * k + p]) - aZp) *
                   (int64_t(b[(bi * k + p) * n + j]) - bZp);
          ASSERT_EQ(c[(bi * m + i) * n + j], static_cast<TAcc>(acc))
              << "iteration " << iter << " at " << bi << "," << i << "," << j;
        }
  }
}

TEST(MatmulInt, RandomAgainstNaive) {
  Rng rng(10);
  runMatmulIntCase<uint8_t, int8_t, int32_t>(rng, 30, 0, 255, -128, 127);
  runMatmulIntCase<int8_t, int8_t, int64_t>(rng, 30, -128, 127, -128, 127);
  runMatmulIntCase<int16_t, int16_t, int64_t>(rng, 20, -32768, 32767, -32768,
                                              32767);
  runMatmulIntCase<int32_t, int32_t, int32_t>(rng, 20, -(1 << 20), 1 << 20,
                                              -(1 << 20), 1 << 20);
}

//===----------------------------------------------------------------------===//
// Pooling
//===----------------------------------------------------------------------===//

/// Random pooling shape; padding up to the kernel size, so a window can
/// occasionally lie entirely in the padding.
Pool2DShape randomPoolShape(Rng &rng) {
  for (;;) {
    Pool2DShape s{};
    s.n = randInt(rng, 1, 2);
    s.h = randInt(rng, 1, 9);
    s.w = randInt(rng, 1, 9);
    s.c = randInt(rng, 1, 3) == 1 ? randInt(rng, 60, 140) : randInt(rng, 1, 9);
    s.kh = randInt(rng, 1, 4);
    s.kw = randInt(rng, 1, 4);
    s.strideH = randInt(rng, 1, 3);
    s.strideW = randInt(rng, 1, 3);
    s.padTop = randInt(rng, 0, s.kh);
    s.padLeft = randInt(rng, 0, s.kw);
    int64_t spanH = s.h + s.padTop + randInt(rng, 0, s.kh) - s.kh;
    int64_t spanW = s.w + s.padLeft + randInt(rng, 0, s.kw) - s.kw;
    if (spanH < 0 || spanW < 0)
      continue;
    s.oh = spanH / s.strideH + 1;
    s.ow = spanW / s.strideW + 1;
    return s;
  }
}

/// Calls visit(inIndex) for the in-bounds positions of window (b, y, x, ch).
template <typename Visit>
void forWindow(const Pool2DShape &s, int64_t b, int64_t y, int64_t x,
               int64_t ch, Visit visit) {
  for (int64_t ky = 0; ky < s.kh; ++ky)
    for (int64_t kx = 0; kx < s.kw; ++kx) {
      int64_t iy = y * s.strideH + ky - s.padTop;
      int64_t ix = x * s.strideW + kx - s.padLeft;
      if (iy >= 0 && iy < s.h && ix >= 0 && ix < s.w)
        visit(((b * s.h + iy) * s.w + ix) * s.c + ch);
    }
}

template <typename T>
void runMaxPoolCase(Rng &rng, int iters, bool injectNaN) {
  for (int iter = 0; iter < iters; ++iter) {
    Pool2DShape s = randomPoolShape(rng);
    const int64_t count = s.n * s.h * s.w * s.c;
    std::vector<T> in;
    if constexpr (std::is_floating_point<T>::value) {
      in = randomFloats(rng, count);
      if (injectNaN)
        for (int k = 0; k < 3; ++k)
          in[randInt(rng, 0, count - 1)] = std::numeric_limits<T>::quiet_NaN();
    } else {
      in = randomFull<T>(rng, count);
    }
    std::vector<T> out(static_cast<size_t>(s.n * s.oh * s.ow * s.c));
    maxPool2d(in.data(), out.data(), s);
    int64_t idx = 0;
    for (int64_t b = 0; b < s.n; ++b)
      for (int64_t y = 0; y < s.oh; ++y)
        for (int64_t x = 0; x < s.ow; ++x)
          for (int64_t ch = 0; ch < s.c; ++ch, ++idx) {
            bool any = false, nan = false;
            T best{};
            forWindow(s, b, y, x, ch, [&](int64_t i) {
              if (in[i] != in[i])
                nan = true;
              else if (!any || in[i] > best)
                best = in[i];
              any = true;
            });
            if (nan) {
              ASSERT_TRUE(out[idx] != out[idx]) << "NaN lost at " << idx;
              continue;
            }
            if (!any)
              best = std::numeric_limits<T>::has_infinity
                         ? -std::numeric_limits<T>::infinity()
                         : std::numeric_limits<T>::lowest();
            ASSERT_EQ(out[idx], best) << "iteration " << iter << " at " << idx;
          }
  }
}

TEST(MaxPool2D, RandomAgainstNaive) {
  Rng rng(11);
  runMaxPoolCase<float>(rng, 60, false);
  runMaxPoolCase<float>(rng, 60, true);
  runMaxPoolCase<int8_t>(rng, 40, false);
  runMaxPoolCase<uint8_t>(rng, 40, false);
  runMaxPoolCase<int32_t>(rng, 40, false);
}

TEST(AvgPool2DF32, RandomAgainstNaiveBothCountModes) {
  Rng rng(12);
  for (int iter = 0; iter < 120; ++iter) {
    const bool includePad = iter % 2;
    Pool2DShape s = randomPoolShape(rng);
    auto in = randomFloats(rng, s.n * s.h * s.w * s.c);
    std::vector<float> out(static_cast<size_t>(s.n * s.oh * s.ow * s.c));
    avgPool2dF32(in.data(), out.data(), s, includePad);
    int64_t idx = 0;
    for (int64_t b = 0; b < s.n; ++b)
      for (int64_t y = 0; y < s.oh; ++y)
        for (int64_t x = 0; x < s.ow; ++x)
          for (int64_t ch = 0; ch < s.c; ++ch, ++idx) {
            RefValue sum;
            int64_t inside = 0;
            forWindow(s, b, y, x, ch, [&](int64_t i) {
              sum.value += in[i];
              sum.mag += std::fabs(in[i]);
              ++inside;
            });
            int64_t count = includePad ? s.kh * s.kw : inside;
            RefValue ref;
            if (count != 0)
              ref = RefValue{sum.value / count, sum.mag / count};
            ASSERT_TRUE(closeTo(out[idx], ref))
                << "iteration " << iter << " at " << idx;
          }
  }
}

/// The specified order (ky outer, kx inner, one float division) is exact, so
/// a float re-implementation of it must agree bit for bit.
TEST(AvgPool2DF32, SumsInWindowOrderInFloat) {
  Rng rng(13);
  for (int iter = 0; iter < 40; ++iter) {
    Pool2DShape s = randomPoolShape(rng);
    auto in = randomFloats(rng, s.n * s.h * s.w * s.c);
    for (float &v : in)
      v *= std::ldexp(1.0f, static_cast<int>(randInt(rng, -20, 20)));
    std::vector<float> out(static_cast<size_t>(s.n * s.oh * s.ow * s.c));
    avgPool2dF32(in.data(), out.data(), s, false);
    int64_t idx = 0;
    for (int64_t b = 0; b < s.n; ++b)
      for (int64_t y = 0; y < s.oh; ++y)
        for (int64_t x = 0; x < s.ow; ++x)
          for (int64_t ch = 0; ch < s.c; ++ch, ++idx) {
            float sum = 0.0f;
            int64_t inside = 0;
            forWindow(s, b, y, x, ch, [&](int64_t i) {
              sum += in[i];
              ++inside;
            });
            float want = inside ? sum / static_cast<float>(inside) : 0.0f;
            ASSERT_EQ(out[idx], want) << "iteration " << iter << " at " << idx;
          }
  }
}

//===----------------------------------------------------------------------===//
// Data movement
//===----------------------------------------------------------------------===//

const size_t kElemSizes[] = {1, 4, 8, 2, 3};

std::vector<unsigned char> randomBytes(Rng &rng, int64_t count) {
  return randomInts<unsigned char>(rng, count, 0, 255);
}

int64_t numElements(const std::vector<int64_t> &shape) {
  return std::accumulate(shape.begin(), shape.end(), int64_t(1),
                         std::multiplies<int64_t>());
}

/// Row-major linear index of `idx` in `shape`.
int64_t linearIndex(const std::vector<int64_t> &idx,
                    const std::vector<int64_t> &shape) {
  int64_t lin = 0;
  for (size_t d = 0; d < shape.size(); ++d)
    lin = lin * shape[d] + idx[d];
  return lin;
}

/// Multi-index of linear index `lin` in `shape` (by division: the naive way).
std::vector<int64_t> multiIndex(int64_t lin, const std::vector<int64_t> &shape) {
  std::vector<int64_t> idx(shape.size());
  for (size_t d = shape.size(); d-- > 0;) {
    idx[d] = lin % shape[d];
    lin /= shape[d];
  }
  return idx;
}

TEST(Transpose, RandomPermutationsRank1To6) {
  Rng rng(14);
  for (int iter = 0; iter < 300; ++iter) {
    const int rank = 1 + iter % 6;
    const size_t es = kElemSizes[iter % 5];
    std::vector<int64_t> shape(rank);
    for (auto &d : shape)
      d = randInt(rng, 1, rank <= 3 ? 9 : 4);
    if (iter % 25 == 24)
      shape[randInt(rng, 0, rank - 1)] = 0; // empty tensor
    std::vector<int32_t> perm(rank);
    std::iota(perm.begin(), perm.end(), 0);
    std::shuffle(perm.begin(), perm.end(), rng);
    const int64_t count = numElements(shape);
    auto in = randomBytes(rng, count * es);
    std::vector<unsigned char> out(count * es + 1, 0xAB);
    transpose(in.data(), out.data(), es, shape.data(), perm.data(), rank);

    std::vector<int64_t> outShape(rank);
    for (int d = 0; d < rank; ++d)
      outShape[d] = shape[perm[d]];
    std::vector<unsigned char> want(count * es + 1, 0xAB);
    std::vector<int64_t> inIdx(rank);
    for (int64_t o = 0; o < count; ++o) {
      std::vector<int64_t> outIdx = multiIndex(o, outShape);
      for (int d = 0; d < rank; ++d)
        inIdx[perm[d]] = outIdx[d];
      std::memcpy(&want[o * es], &in[linearIndex(inIdx, shape) * es], es);
    }
    ASSERT_EQ(out, want) << "iteration " << iter << " rank " << rank;
  }
}

TEST(Transpose, NhwcToNchwAndBack) {
  Rng rng(15);
  const std::vector<int64_t> nhwc = {2, 5, 7, 3};
  auto in = randomInts<float>(rng, numElements(nhwc), -1000, 1000);
  std::vector<float> nchw(in.size()), back(in.size());
  const int32_t toNchw[] = {0, 3, 1, 2};
  const int32_t toNhwc[] = {0, 2, 3, 1};
  transpose(in.data(), nchw.data(), sizeof(float), nhwc.data(), toNchw, 4);
  const int64_t nchwShape[] = {2, 3, 5, 7};
  for (int64_t n = 0; n < 2; ++n)
    for (int64_t h = 0; h < 5; ++h)
      for (int64_t w = 0; w < 7; ++w)
        for (int64_t c = 0; c < 3; ++c)
          ASSERT_EQ(nchw[((n * 3 + c) * 5 + h) * 7 + w],
                    in[((n * 5 + h) * 7 + w) * 3 + c]);
  transpose(nchw.data(), back.data(), sizeof(float), nchwShape, toNhwc, 4);
  EXPECT_EQ(back, in);
}

TEST(Pad, RandomRank1To5) {
  Rng rng(16);
  for (int iter = 0; iter < 200; ++iter) {
    const int rank = 1 + iter % 5;
    const size_t es = kElemSizes[iter % 5];
    std::vector<int64_t> shape(rank), before(rank), after(rank), outShape(rank);
    for (int d = 0; d < rank; ++d) {
      shape[d] = randInt(rng, iter % 20 == 19 ? 0 : 1, 5);
      before[d] = randInt(rng, 0, 3);
      after[d] = randInt(rng, 0, 3);
      outShape[d] = before[d] + shape[d] + after[d];
    }
    auto in = randomBytes(rng, numElements(shape) * es);
    auto padValue = randomBytes(rng, es);
    const int64_t outCountElems = numElements(outShape);
    std::vector<unsigned char> out(outCountElems * es + 1, 0xAB);
    pad(in.data(), out.data(), es, shape.data(), rank, before.data(),
        after.data(), padValue.data());

    std::vector<unsigned char> want(outCountElems * es + 1, 0xAB);
    std::vector<int64_t> inIdx(rank);
    for (int64_t o = 0; o < outCountElems; ++o) {
      std::vector<int64_t> outIdx = multiIndex(o, outShape);
      bool inside = true;
      for (int d = 0; d < rank; ++d) {
        inIdx[d] = outIdx[d] - before[d];
        inside = inside && inIdx[d] >= 0 && inIdx[d] < shape[d];
      }
      const unsigned char *srcElem =
          inside ? &in[linearIndex(inIdx, shape) * es] : padValue.data();
      std::memcpy(&want[o * es], srcElem, es);
    }
    ASSERT_EQ(out, want) << "iteration " << iter << " rank " << rank;
  }
}

TEST(Slice, RandomRank1To5) {
  Rng rng(17);
  for (int iter = 0; iter < 200; ++iter) {
    const int rank = 1 + iter % 5;
    const size_t es = kElemSizes[iter % 5];
    std::vector<int64_t> shape(rank), start(rank), size(rank);
    for (int d = 0; d < rank; ++d) {
      shape[d] = randInt(rng, 1, 6);
      start[d] = randInt(rng, 0, shape[d] - 1);
      size[d] = randInt(rng, iter % 20 == 19 ? 0 : 1, shape[d] - start[d]);
    }
    auto in = randomBytes(rng, numElements(shape) * es);
    const int64_t count = numElements(size);
    std::vector<unsigned char> out(count * es + 1, 0xAB);
    slice(in.data(), out.data(), es, shape.data(), rank, start.data(),
          size.data());

    std::vector<unsigned char> want(count * es + 1, 0xAB);
    std::vector<int64_t> inIdx(rank);
    for (int64_t o = 0; o < count; ++o) {
      std::vector<int64_t> outIdx = multiIndex(o, size);
      for (int d = 0; d < rank; ++d)
        inIdx[d] = start[d] + outIdx[d];
      std::memcpy(&want[o * es], &in[linearIndex(inIdx, shape) * es], es);
    }
    ASSERT_EQ(out, want) << "iteration " << iter << " rank " << rank;
  }
}

TEST(Concat, RandomRank1To5) {
  Rng rng(18);
  for (int iter = 0; iter < 200; ++iter) {
    const int rank = 1 + iter % 5;
    const size_t es = kElemSizes[iter % 5];
    const int axis = static_cast<int>(randInt(rng, 0, rank - 1));
    const int numInputs = static_cast<int>(randInt(rng, 1, 4));
    std::vector<int64_t> base(rank);
    for (auto &d : base)
      d = randInt(rng, 1, 5);
    std::vector<std::vector<int64_t>> shapes(numInputs, base);
    std::vector<std::vector<unsigned char>> data(numInputs);
    std::vector<const void *> ins(numInputs);
    std::vector<const int64_t *> shapePtrs(numInputs);
    std::vector<int64_t> outShape = base;
    outShape[axis] = 0;
    for (int i = 0; i < numInputs; ++i) {
      shapes[i][axis] = randInt(rng, 0, 4); // an input may be empty
      outShape[axis] += shapes[i][axis];
      data[i] = randomBytes(rng, numElements(shapes[i]) * es);
      ins[i] = data[i].data();
      shapePtrs[i] = shapes[i].data();
    }
    const int64_t count = numElements(outShape);
    std::vector<unsigned char> out(count * es + 1, 0xAB);
    concat(ins.data(), shapePtrs.data(), numInputs, out.data(), es, rank, axis);

    std::vector<unsigned char> want(count * es + 1, 0xAB);
    for (int64_t o = 0; o < count; ++o) {
      std::vector<int64_t> idx = multiIndex(o, outShape);
      int i = 0;
      while (idx[axis] >= shapes[i][axis]) {
        idx[axis] -= shapes[i][axis];
        ++i;
      }
      std::memcpy(&want[o * es], &data[i][linearIndex(idx, shapes[i]) * es],
                  es);
    }
    ASSERT_EQ(out, want) << "iteration " << iter << " rank " << rank;
  }
}

//===----------------------------------------------------------------------===//
// Throughput (informational)
//===----------------------------------------------------------------------===//

/// Prints conv2dF32's speed on the shape of a small MNIST CNN layer. Not an
/// assertion: timing depends on the machine and the build type.
TEST(Conv2DF32, ReportsThroughput) {
  Conv2DShape s{};
  s.n = 1, s.h = 28, s.w = 28, s.c = 32;
  s.oh = 28, s.ow = 28, s.oc = 32;
  s.kh = 3, s.kw = 3;
  s.strideH = s.strideW = 1;
  s.dilationH = s.dilationW = 1;
  s.padTop = s.padLeft = 1;
  s.groups = 1;
  Rng rng(19);
  auto in = randomFloats(rng, inCount(s));
  auto w = randomFloats(rng, s.oc * s.kh * s.kw * s.c);
  auto bias = randomFloats(rng, s.oc);
  std::vector<float> out(static_cast<size_t>(outCount(s)));
  conv2dF32(in.data(), w.data(), bias.data(), out.data(), s); // warm up
  const int reps = 40;
  auto t0 = std::chrono::steady_clock::now();
  for (int r = 0; r < reps; ++r)
    conv2dF32(in.data(), w.data(), bias.data(), out.data(), s);
  auto t1 = std::chrono::steady_clock::now();
  const double seconds = std::chrono::duration<double>(t1 - t0).count();
  // Multiply-adds of the interior, as usually quoted (padding taps excluded
  // would make it ~5% smaller).
  const double flops = 2.0 * s.oh * s.ow * s.oc * s.kh * s.kw * s.c * reps;
  std::printf("[ info     ] conv2dF32 1x28x28x32 3x3 -> 32: %.2f GFLOP/s "
              "(%.3f ms per call)\n",
              flops / seconds * 1e-9, seconds / reps * 1e3);
  checkConvF32(s, false, 1, in, w, bias.data(), out);
}

} // namespace

TEST(AvgPool2DInt, RoundsTheExactMeanHalfToEven) {
  using namespace lowbit::rt;
  // (x - zp) = [1, 2, 3, 4] over a 2x2 window: the mean 2.5 is a tie and
  // goes to the even 2, plus the zero point -1 = 1.
  const int8_t in[4] = {0, 1, 2, 3};
  int8_t out[1] = {0};
  Pool2DShape s{1, 2, 2, 1, 1, 1, 2, 2, 1, 1, 0, 0};
  avgPool2dInt<int8_t>(in, out, s, -1, -128, 127, false);
  EXPECT_EQ(out[0], 1);
  // The tie is decided on the mean, before the (odd) zero point is added:
  // 3.5 -> 4, + zp = 3 (rounding the stored value 3.5 + zp = 2.5 half to
  // even would give 2).
  const int8_t in35[4] = {1, 2, 3, 4}; // x - zp = 2, 3, 4, 5
  avgPool2dInt<int8_t>(in35, out, s, -1, -128, 127, false);
  EXPECT_EQ(out[0], 3); // 4 - 1
  // Negative ties: -2.5 -> -2, -1.5 -> -2.
  const int8_t neg25[4] = {-1, -2, -3, -4}; // zp 0: sum -10
  avgPool2dInt<int8_t>(neg25, out, s, 0, -128, 127, false);
  EXPECT_EQ(out[0], -2);
  const int8_t neg15[4] = {-1, -1, -2, -2}; // sum -6
  avgPool2dInt<int8_t>(neg15, out, s, 0, -128, 127, false);
  EXPECT_EQ(out[0], -2);
  // 3x3 window with padding 1 at a corner: 4 valid positions, or 9 when the
  // padding counts (each padded position is the real zero, x - zp = 0).
  Pool2DShape p{1, 2, 2, 1, 1, 1, 3, 3, 1, 1, 1, 1};
  avgPool2dInt<int8_t>(in, out, p, -1, -128, 127, false);
  EXPECT_EQ(out[0], 1);            // 10 / 4 = 2.5 -> 2, -1
  avgPool2dInt<int8_t>(in, out, p, -1, -128, 127, true);
  EXPECT_EQ(out[0], 0);            // 10 / 9 = 1.11 -> 1, -1
  // Saturation to a narrowed range.
  const uint8_t big[4] = {250, 251, 252, 253};
  uint8_t o8[1] = {0};
  avgPool2dInt<uint8_t>(big, o8, s, 0, 0, 200, false);
  EXPECT_EQ(o8[0], 200);
}

TEST(AvgPool2DInt, RandomAgainstExactMean) {
  using namespace lowbit::rt;
  Rng rng(0xa51);
  for (int iter = 0; iter < 200; ++iter) {
    Pool2DShape s{};
    s.n = randInt(rng, 1, 2);
    s.h = randInt(rng, 1, 9);
    s.w = randInt(rng, 1, 9);
    s.c = randInt(rng, 1, 5);
    s.kh = randInt(rng, 1, 4);
    s.kw = randInt(rng, 1, 4);
    s.strideH = randInt(rng, 1, 3);
    s.strideW = randInt(rng, 1, 3);
    s.padTop = randInt(rng, 0, s.kh - 1);
    s.padLeft = randInt(rng, 0, s.kw - 1);
    int64_t padBottom = randInt(rng, 0, s.kh - 1);
    int64_t padRight = randInt(rng, 0, s.kw - 1);
    s.oh = (s.h + s.padTop + padBottom - s.kh) / s.strideH + 1;
    s.ow = (s.w + s.padLeft + padRight - s.kw) / s.strideW + 1;
    if (s.oh <= 0 || s.ow <= 0)
      continue;
    const bool includePad = randInt(rng, 0, 1) != 0;
    const int32_t zp = static_cast<int32_t>(randInt(rng, 0, 255));
    std::vector<uint8_t> in(s.n * s.h * s.w * s.c);
    for (uint8_t &v : in)
      v = static_cast<uint8_t>(randInt(rng, 0, 255));
    std::vector<uint8_t> out(s.n * s.oh * s.ow * s.c);
    avgPool2dInt<uint8_t>(in.data(), out.data(), s, zp, 0, 255, includePad);
    for (int64_t b = 0; b < s.n; ++b)
      for (int64_t y = 0; y < s.oh; ++y)
        for (int64_t x = 0; x < s.ow; ++x)
          for (int64_t c = 0; c < s.c; ++c) {
            int64_t sum = 0, count = 0;
            for (int64_t ky = 0; ky < s.kh; ++ky)
              for (int64_t kx = 0; kx < s.kw; ++kx) {
                int64_t iy = y * s.strideH + ky - s.padTop;
                int64_t ix = x * s.strideW + kx - s.padLeft;
                if (iy < 0 || iy >= s.h || ix < 0 || ix >= s.w)
                  continue;
                sum += in[((b * s.h + iy) * s.w + ix) * s.c + c] - zp;
                ++count;
              }
            if (includePad)
              count = s.kh * s.kw;
            // Exact in double: |sum| < 2^12, count <= 16.
            double mean = static_cast<double>(sum) / static_cast<double>(count);
            double r = std::nearbyint(mean); // ties to even (default mode)
            int64_t want = std::clamp<int64_t>(static_cast<int64_t>(r) + zp, 0, 255);
            ASSERT_EQ(out[((b * s.oh + y) * s.ow + x) * s.c + c], want)
                << "sum " << sum << " count " << count << " zp " << zp;
          }
  }
}

TEST(DivideRoundHalfEven, TiesAndExtremes) {
  using namespace lowbit::rt;
  EXPECT_EQ(divideRoundHalfEven(5, 2), 2);
  EXPECT_EQ(divideRoundHalfEven(7, 2), 4);
  EXPECT_EQ(divideRoundHalfEven(-5, 2), -2);
  EXPECT_EQ(divideRoundHalfEven(-7, 2), -4);
  EXPECT_EQ(divideRoundHalfEven(10, 4), 2);
  EXPECT_EQ(divideRoundHalfEven(11, 4), 3);
  EXPECT_EQ(divideRoundHalfEven(9, 4), 2);
  EXPECT_EQ(divideRoundHalfEven(-9, 4), -2);
  EXPECT_EQ(divideRoundHalfEven(-11, 4), -3);
  EXPECT_EQ(divideRoundHalfEven(32, 64), 0);
  EXPECT_EQ(divideRoundHalfEven(96, 64), 2);
  EXPECT_EQ(divideRoundHalfEven(-96, 64), -2);
  EXPECT_EQ(divideRoundHalfEven(0, 7), 0);
  EXPECT_EQ(divideRoundHalfEven(INT64_MAX, 1), INT64_MAX);
  EXPECT_EQ(divideRoundHalfEven(INT64_MIN, 1), INT64_MIN);
  EXPECT_EQ(divideRoundHalfEven(INT64_MAX, INT64_MAX), 1);
  EXPECT_EQ(divideRoundHalfEven(INT64_MIN, INT64_MAX), -1);
  EXPECT_EQ(divideRoundHalfEven(INT64_MIN, 2), INT64_MIN / 2);
  EXPECT_EQ(divideRoundHalfEven(INT64_MAX, 2), INT64_MAX / 2 + 1); // x.5, even
  // Against double on small values.
  for (int64_t d = 1; d <= 12; ++d)
    for (int64_t n = -200; n <= 200; ++n)
      ASSERT_EQ(divideRoundHalfEven(n, d),
                static_cast<int64_t>(std::nearbyint(static_cast<double>(n) /
                                                    static_cast<double>(d))))
          << n << " / " << d;
}

// adaptive-scale-shift eq. 10: the zero point folded into the bias, with the
// border correction for padded windows, equals the unfolded convolution on
// every output, for strides, dilations, groups and asymmetric padding.
TEST(Conv2DFoldedZp, EqualsTheUnfoldedConvolution) {
  using namespace lowbit::rt;
  std::mt19937 rng(1234);
  int64_t mismatches = 0, outputs = 0;
  for (int trial = 0; trial < 80; ++trial) {
    // Every fourth trial has a large window and padding: more distinct
    // border tap ranges (up to 7 x 7) than the kernel keeps sums for (32).
    const bool large = trial % 4 == 3;
    const unsigned kMax = large ? 7 : 3, padMax = large ? 7 : 3;
    Conv2DShape s{};
    s.n = 1 + trial % 2;
    s.h = 3 + rng() % 6;
    s.w = 3 + rng() % 6;
    s.groups = (trial % 3 == 0) ? 1 : (trial % 3 == 1 ? 2 : 4);
    s.c = s.groups * (1 + rng() % 3);
    s.oc = s.groups * (1 + rng() % 3);
    s.kh = 1 + rng() % kMax;
    s.kw = 1 + rng() % kMax;
    s.strideH = 1 + rng() % 2;
    s.strideW = 1 + rng() % 2;
    s.dilationH = 1 + rng() % (large ? 1 : 2);
    s.dilationW = 1 + rng() % (large ? 1 : 2);
    s.padTop = rng() % padMax;
    s.padLeft = rng() % padMax;
    int64_t padBottom = rng() % padMax, padRight = rng() % padMax;
    int64_t ekh = s.dilationH * (s.kh - 1) + 1, ekw = s.dilationW * (s.kw - 1) + 1;
    if (s.h + s.padTop + padBottom < ekh || s.w + s.padLeft + padRight < ekw)
      continue;
    s.oh = (s.h + s.padTop + padBottom - ekh) / s.strideH + 1;
    s.ow = (s.w + s.padLeft + padRight - ekw) / s.strideW + 1;
    const int64_t I = s.c / s.groups;
    std::vector<int8_t> in(s.n * s.h * s.w * s.c), w(s.oc * s.kh * s.kw * I);
    for (auto &v : in)
      v = static_cast<int8_t>(rng() % 256 - 128);
    for (auto &v : w)
      v = static_cast<int8_t>(rng() % 255 - 127);
    std::vector<int32_t> bias(s.oc), folded(s.oc);
    int32_t zp = static_cast<int32_t>(rng() % 256) - 128;
    for (int64_t o = 0; o < s.oc; ++o) {
      bias[o] = static_cast<int32_t>(rng() % 20001) - 10000;
      int64_t sum = 0;
      for (int64_t k = 0; k < s.kh * s.kw * I; ++k)
        sum += w[o * s.kh * s.kw * I + k];
      folded[o] = static_cast<int32_t>(bias[o] - zp * sum);
    }
    std::vector<int32_t> want(s.n * s.oh * s.ow * s.oc), got(want.size());
    conv2dTensor<int8_t, int8_t, int32_t>(in.data(), w.data(), bias.data(), zp,
                                          want.data(), s);
    conv2dFoldedZp<int8_t, int8_t, int32_t>(in.data(), w.data(), folded.data(),
                                            zp, got.data(), s);
    for (size_t i = 0; i < want.size(); ++i)
      mismatches += want[i] != got[i];
    outputs += static_cast<int64_t>(want.size());
  }
  EXPECT_GT(outputs, 1000);
  EXPECT_EQ(mismatches, 0);
}

// Float fallback kernels (Ops.h): broadcasting over up to 4 dimensions
// against an index-by-index reference, NaN propagation, and reductions in
// index order.
TEST(FloatFallback, BroadcastBinaryAgainstNaive) {
  std::mt19937 rng(11);
  std::uniform_int_distribution<int> ext(1, 4), coin(0, 2);
  std::normal_distribution<float> val(0.0f, 2.0f);
  for (int iter = 0; iter < 300; ++iter) {
    int64_t dims[4], sa[4], sb[4], ea[4], eb[4];
    for (int d = 0; d < 4; ++d) {
      dims[d] = ext(rng);
      ea[d] = coin(rng) == 0 ? 1 : dims[d]; // a broadcast along d, or not
      eb[d] = coin(rng) == 0 ? 1 : dims[d];
    }
    int64_t na = 1, nb = 1;
    for (int d = 3; d >= 0; --d) {
      sa[d] = ea[d] == 1 ? 0 : na;
      sb[d] = eb[d] == 1 ? 0 : nb;
      na *= ea[d];
      nb *= eb[d];
    }
    std::vector<float> a(na), b(nb);
    for (float &v : a) v = val(rng);
    for (float &v : b) v = val(rng);
    auto kind = static_cast<BinaryKind>(iter % 5);
    Broadcast4 s{{dims[0], dims[1], dims[2], dims[3]},
                 {sa[0], sa[1], sa[2], sa[3]},
                 {sb[0], sb[1], sb[2], sb[3]}};
    std::vector<float> out(dims[0] * dims[1] * dims[2] * dims[3]);
    broadcastBinaryF32(a.data(), b.data(), out.data(), kind, s);
    int64_t i = 0;
    for (int64_t i0 = 0; i0 < dims[0]; ++i0)
      for (int64_t i1 = 0; i1 < dims[1]; ++i1)
        for (int64_t i2 = 0; i2 < dims[2]; ++i2)
          for (int64_t i3 = 0; i3 < dims[3]; ++i3, ++i) {
            int64_t idx[4] = {i0, i1, i2, i3}, ia = 0, ib = 0;
            for (int d = 0; d < 4; ++d) {
              ia = ia * ea[d] + (ea[d] == 1 ? 0 : idx[d]);
              ib = ib * eb[d] + (eb[d] == 1 ? 0 : idx[d]);
            }
            float x = a[ia], y = b[ib];
            float want = kind == BinaryKind::Add   ? x + y
                         : kind == BinaryKind::Sub ? x - y
                         : kind == BinaryKind::Mul ? x * y
                         : kind == BinaryKind::Maximum ? std::max(x, y)
                                                       : std::min(x, y);
            ASSERT_EQ(out[i], want) << iter << " at " << i;
          }
  }
}

TEST(FloatFallback, UnaryAndNaN) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  EXPECT_EQ(unaryF32(UnaryKind::Exp, 0.0f), 1.0f);
  EXPECT_EQ(unaryF32(UnaryKind::Reciprocal, 4.0f), 0.25f);
  EXPECT_EQ(unaryF32(UnaryKind::Sigmoid, 0.0f), 0.5f);
  EXPECT_EQ(unaryF32(UnaryKind::Tanh, 0.0f), 0.0f);
  EXPECT_EQ(unaryF32(UnaryKind::Negate, 2.0f), -2.0f);
  EXPECT_EQ(unaryF32(UnaryKind::Abs, -2.0f), 2.0f);
  EXPECT_EQ(unaryF32(UnaryKind::Floor, -1.5f), -2.0f);
  EXPECT_EQ(unaryF32(UnaryKind::Ceil, -1.5f), -1.0f);
  EXPECT_EQ(unaryF32(UnaryKind::Sqrt, 2.0f), std::sqrt(2.0f));
  EXPECT_EQ(unaryF32(UnaryKind::Sqrt, 0.0f), 0.0f); // not x * rsqrt(x)
  EXPECT_EQ(unaryF32(UnaryKind::Rsqrt, 4.0f), 0.5f);
  EXPECT_EQ(unaryF32(UnaryKind::Erf, 0.0f), 0.0f);
  EXPECT_EQ(unaryF32(UnaryKind::Erf, 1.0f), std::erf(1.0f));
  EXPECT_EQ(binaryF32(BinaryKind::Pow, 2.0f, 3.0f), 8.0f);
  EXPECT_TRUE(std::isnan(binaryF32(BinaryKind::Pow, -2.0f, 0.5f)));
  EXPECT_TRUE(std::isnan(binaryF32(BinaryKind::Maximum, nan, 1.0f)));
  EXPECT_TRUE(std::isnan(binaryF32(BinaryKind::Minimum, 1.0f, nan)));
  float in[3] = {1.0f, nan, 2.0f}, out[1];
  reduceF32(in, out, 1, 3, 1, /*isMax=*/true);
  EXPECT_TRUE(std::isnan(out[0]));
}

TEST(FloatFallback, ReduceAlongMiddleAxisInIndexOrder) {
  // in: 2 x 3 x 2; sums along the middle axis, max too.
  float in[12] = {1, 2, 3, 4, 5, 6, -1, -2, -3, -4, -5, -6};
  float sum[4], mx[4];
  reduceF32(in, sum, 2, 3, 2, false);
  reduceF32(in, mx, 2, 3, 2, true);
  EXPECT_EQ(sum[0], 9.0f);
  EXPECT_EQ(sum[1], 12.0f);
  EXPECT_EQ(sum[2], -9.0f);
  EXPECT_EQ(sum[3], -12.0f);
  EXPECT_EQ(mx[0], 5.0f);
  EXPECT_EQ(mx[1], 6.0f);
  EXPECT_EQ(mx[2], -1.0f);
  EXPECT_EQ(mx[3], -2.0f);
  // Index order: 1e8 + 1 - 1e8 in float is 0, not 1.
  float order[3] = {1e8f, 1.0f, -1e8f}, r[1];
  reduceF32(order, r, 1, 3, 1, false);
  EXPECT_EQ(r[0], 0.0f);
}
