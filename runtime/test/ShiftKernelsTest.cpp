//===- ShiftKernelsTest.cpp - Log codes, packing and shift kernels --------===//
//
// Part of the lowbit project.
//
//===----------------------------------------------------------------------===//
//
// The shift-add kernels against the multiply-based integer kernels on the
// integers the same codes stand for (logCodeInteger): equal bit for bit on
// random shapes, groups, padding, zero points (plain and folded), one- and
// two-word weights, int32 and int64 accumulators, including accumulators
// that wrap. Also: packing round-trips at every width, and the two-word rule
// never moves a value further from x than one word.
//
//===----------------------------------------------------------------------===//

#include "lowbit/runtime/Ops.h"
#include "lowbit/runtime/ShiftKernels.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

using namespace lowbit::rt;

namespace {

using Rng = std::mt19937_64;

int64_t randInt(Rng &rng, int64_t lo, int64_t hi) {
  return std::uniform_int_distribution<int64_t>(lo, hi)(rng);
}

TEST(LogCodes, PackRoundTrips) {
  Rng rng(1);
  for (unsigned bits = 2; bits <= 8; ++bits) {
    const int64_t n = 1000;
    std::vector<int32_t> codes(n);
    const int32_t lo = -(1 << (bits - 1)), hi = (1 << (bits - 1)) - 1;
    for (int32_t &c : codes)
      c = static_cast<int32_t>(randInt(rng, lo, hi));
    std::vector<uint8_t> packed(packedCodeBytes(n, bits), 0);
    for (int64_t i = 0; i < n; ++i)
      packCode(packed.data(), i, bits, codes[i]);
    for (int64_t i = 0; i < n; ++i)
      ASSERT_EQ(unpackCode(packed.data(), i, bits), codes[i]) << bits;
  }
  EXPECT_EQ(packedCodeBytes(8, 3), 3);
  EXPECT_EQ(packedCodeBytes(9, 3), 4);
}

TEST(LogCodes, IntegerIsTheDecodedValue) {
  for (unsigned bits = 2; bits <= kMaxShiftCodeBits; ++bits)
    for (int32_t q = -logMaxCode(bits); q < logMaxCode(bits); ++q)
      EXPECT_EQ(std::ldexp(static_cast<double>(logCodeInteger(q, bits)),
                           -logMaxCode(bits)),
                logDequantize(q, 1.0))
          << bits << " " << q;
}

TEST(LogCodes, SecondWordNeverIncreasesTheError) {
  Rng rng(2);
  std::normal_distribution<double> dist(0.0, 0.1);
  for (unsigned bits = 2; bits <= 5; ++bits)
    for (int k = 0; k < 20000; ++k) {
      double x = dist(rng), u = 0.5;
      TwoWords w = stlqQuantize(x, u, bits);
      double one = logDequantize(w.first, u);
      double two = one + logDequantize(w.second, u);
      ASSERT_LE(std::fabs(x - two), std::fabs(x - one)) << x << " " << bits;
    }
}

TEST(LogCodes, EverySumOfTwoCodesSplits) {
  for (unsigned bits = 2; bits <= kMaxShiftCodeBits; ++bits) {
    const int32_t m = logMaxCode(bits);
    for (int32_t a = -m; a < m; ++a)
      for (int32_t b = -m; b < m; ++b) {
        int64_t n = logCodeInteger(a, bits) + logCodeInteger(b, bits);
        TwoWords w;
        ASSERT_TRUE(logSplitInteger(n, bits, w)) << bits << ": " << n;
        EXPECT_EQ(logCodeInteger(w.first, bits) +
                      logCodeInteger(w.second, bits),
                  n);
        if (b == 0) { // one word stays one word
          EXPECT_EQ(w.second, 0) << bits << ": " << n;
        }
      }
    TwoWords w;
    if (bits == 3) { // 2^(M-1) + 2^(M-1) - ... : 11 units is no sum of two
      EXPECT_FALSE(logSplitInteger(11, bits, w));
    }
  }
}

struct Layer {
  LogWeightsDesc d;
  std::vector<int32_t> first, second;
  std::vector<bool> twoWord;     // per tile
  std::vector<int32_t> integers; // OHWI: the multiply kernels' weights
  std::vector<uint8_t> packed;
};

Layer randomLayer(Rng &rng, int64_t oc, int64_t kh, int64_t kw, int64_t ic,
                  unsigned bits, bool stlq) {
  Layer l;
  l.d = {oc, kh, kw, ic, bits, stlq ? randInt(rng, 1, 5) : 0,
         stlq ? randInt(rng, 1, 5) : 0};
  const int64_t n = logWeightCount(l.d);
  const int32_t lo = -logMaxCode(bits), hi = logMaxCode(bits) - 1;
  l.first.resize(n);
  l.second.assign(n, 0);
  l.integers.resize(n);
  if (stlq) {
    l.twoWord.resize(stlqTileCount(l.d));
    for (size_t t = 0; t < l.twoWord.size(); ++t)
      l.twoWord[t] = randInt(rng, 0, 2) == 0;
  }
  int64_t idx = 0;
  for (int64_t o = 0; o < oc; ++o)
    for (int64_t y = 0; y < kh; ++y)
      for (int64_t x = 0; x < kw; ++x)
        for (int64_t i = 0; i < ic; ++i, ++idx) {
          l.first[idx] = static_cast<int32_t>(randInt(rng, lo, hi));
          if (stlq && l.twoWord[stlqTileIndex(l.d, o, y, x, i)])
            l.second[idx] = static_cast<int32_t>(randInt(rng, lo, hi));
          l.integers[idx] = static_cast<int32_t>(
              logCodeInteger(l.first[idx], bits) +
              logCodeInteger(l.second[idx], bits));
        }
  std::unique_ptr<bool[]> tiles(new bool[l.twoWord.size() + 1]);
  for (size_t t = 0; t < l.twoWord.size(); ++t)
    tiles[t] = l.twoWord[t];
  // The mask part first (logWeightsBytes reads it), then everything.
  std::vector<uint8_t> mask(stlqMaskBytes(l.d) + 1, 0);
  for (size_t t = 0; t < l.twoWord.size(); ++t)
    if (l.twoWord[t])
      mask[t / 8] |= static_cast<uint8_t>(1u << (t % 8));
  l.packed.resize(logWeightsBytes(l.d, mask.data()));
  EXPECT_TRUE(packLogWeights(l.d, l.first.data(), l.second.data(),
                             tiles.get(), l.packed.data(),
                             static_cast<int64_t>(l.packed.size())));
  return l;
}

template <typename TIn, typename TAcc> void checkConv(uint64_t seed) {
  Rng rng(seed);
  int checked = 0;
  for (int iter = 0; iter < 60; ++iter) {
    Conv2DShape s{};
    s.groups = randInt(rng, 0, 2) == 0 ? randInt(rng, 1, 3) : 1;
    s.n = randInt(rng, 1, 2);
    s.c = s.groups * randInt(rng, 1, 6);
    s.h = randInt(rng, 1, 7);
    s.w = randInt(rng, 1, 7);
    s.kh = randInt(rng, 1, 3);
    s.kw = randInt(rng, 1, 3);
    s.strideH = randInt(rng, 1, 2);
    s.strideW = randInt(rng, 1, 2);
    s.dilationH = randInt(rng, 1, 2);
    s.dilationW = randInt(rng, 1, 2);
    s.padTop = randInt(rng, 0, 2);
    s.padLeft = randInt(rng, 0, 2);
    int64_t padBottom = randInt(rng, 0, 2), padRight = randInt(rng, 0, 2);
    int64_t effH = (s.kh - 1) * s.dilationH + 1,
            effW = (s.kw - 1) * s.dilationW + 1;
    if (s.h + s.padTop + padBottom < effH || s.w + s.padLeft + padRight < effW)
      continue;
    s.oh = (s.h + s.padTop + padBottom - effH) / s.strideH + 1;
    s.ow = (s.w + s.padLeft + padRight - effW) / s.strideW + 1;
    s.oc = s.groups * randInt(rng, 1, 7);
    const unsigned bits = static_cast<unsigned>(randInt(rng, 2, 5));
    const bool stlq = randInt(rng, 0, 1) == 1;
    // Large inputs make int32 accumulators wrap now and then: both kernels
    // wrap the same way.
    Layer l = randomLayer(rng, s.oc, s.kh, s.kw, s.c / s.groups, bits, stlq);
    std::vector<TIn> in(s.n * s.h * s.w * s.c);
    for (TIn &x : in)
      x = static_cast<TIn>(randInt(rng, std::numeric_limits<TIn>::lowest(),
                                   std::numeric_limits<TIn>::max()));
    std::vector<TAcc> bias(s.oc);
    for (TAcc &b : bias)
      b = static_cast<TAcc>(randInt(rng, -100000, 100000));
    const int32_t zp = static_cast<int32_t>(randInt(rng, -20, 20));
    const size_t outN = s.n * s.oh * s.ow * s.oc;
    std::vector<TAcc> want(outN), got(outN);
    conv2dTensor<TIn, int32_t, TAcc>(in.data(), l.integers.data(), bias.data(),
                                     zp, want.data(), s);
    conv2dShift<TIn, TAcc>(in.data(), l.packed.data(), l.d, bias.data(), zp, 0,
                           got.data(), s);
    ASSERT_EQ(want, got) << "iteration " << iter << " bits " << bits;
    // Folded zero point: bias - zp * sum(w), padded taps add zp * w.
    std::vector<TAcc> folded(bias);
    const int64_t K = s.kh * s.kw * (s.c / s.groups);
    for (int64_t o = 0; o < s.oc; ++o) {
      int64_t sum = 0;
      for (int64_t k = 0; k < K; ++k)
        sum += l.integers[o * K + k];
      folded[o] = static_cast<TAcc>(static_cast<int64_t>(bias[o]) - zp * sum);
    }
    std::vector<TAcc> want2(outN), got2(outN);
    conv2dFoldedZp<TIn, int32_t, TAcc>(in.data(), l.integers.data(),
                                       folded.data(), zp, want2.data(), s);
    conv2dShift<TIn, TAcc>(in.data(), l.packed.data(), l.d, folded.data(), 0,
                           zp, got2.data(), s);
    ASSERT_EQ(want2, got2) << "folded, iteration " << iter;
    ASSERT_EQ(want, want2);
    ++checked;
  }
  EXPECT_GE(checked, 30); // most random shapes are valid
}

TEST(ShiftKernels, ConvMatchesMultiplyInt8Int32) {
  checkConv<int8_t, int32_t>(3);
}
TEST(ShiftKernels, ConvMatchesMultiplyUint8Int32) {
  checkConv<uint8_t, int32_t>(4);
}
TEST(ShiftKernels, ConvMatchesMultiplyInt16Int64) {
  checkConv<int16_t, int64_t>(5);
}

TEST(ShiftKernels, FullyConnectedMatchesMultiply) {
  Rng rng(6);
  for (int iter = 0; iter < 40; ++iter) {
    int64_t rows = randInt(rng, 1, 4), inner = randInt(rng, 1, 600),
            outs = randInt(rng, 1, 40);
    unsigned bits = static_cast<unsigned>(randInt(rng, 2, 5));
    Layer l = randomLayer(rng, outs, 1, 1, inner, bits, iter % 2 == 1);
    std::vector<int8_t> in(rows * inner);
    for (int8_t &x : in)
      x = static_cast<int8_t>(randInt(rng, -128, 127));
    std::vector<int32_t> bias(outs, 7);
    int32_t zp = static_cast<int32_t>(randInt(rng, -5, 5));
    std::vector<int32_t> want(rows * outs), got(rows * outs);
    fullyConnectedInt<int8_t, int32_t, int32_t>(in.data(), l.integers.data(),
                                                bias.data(), zp, want.data(),
                                                rows, inner, outs);
    fullyConnectedShift<int8_t, int32_t>(in.data(), l.packed.data(), l.d,
                                         bias.data(), zp, got.data(), rows,
                                         inner, outs);
    ASSERT_EQ(want, got) << iter;
  }
}

TEST(ShiftKernels, PackingRejectsSecondWordsOfOneWordTiles) {
  LogWeightsDesc d{2, 1, 1, 2, 3, 1, 1};
  int32_t first[4] = {1, 2, 3, -1}, second[4] = {0, 0, 2, 0};
  bool tiles[4] = {true, false, false, false};
  std::vector<uint8_t> mask = {1};
  std::vector<uint8_t> dst(logWeightsBytes(d, mask.data()));
  EXPECT_FALSE(packLogWeights(d, first, second, tiles, dst.data(),
                              static_cast<int64_t>(dst.size())));
  second[2] = 0;
  second[0] = -3;
  EXPECT_TRUE(packLogWeights(d, first, second, tiles, dst.data(),
                             static_cast<int64_t>(dst.size())));
  // mask byte, 4 first words (12 bits: 2 bytes), 1 second word (1 byte).
  EXPECT_EQ(dst.size(), 4u);
}

} // namespace
