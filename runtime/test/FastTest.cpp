//===- FastTest.cpp - Fast kernels vs. the reference kernels --------------===//
//
// Part of the lowbit project.
//
//===----------------------------------------------------------------------===//
//
// Every instruction-set path of Fast.h that this CPU runs is compared with
// the reference kernels (conv2dInt / conv2dFoldedZp / fullyConnectedInt,
// then requantTensor) on random shapes: odd channel counts, every padding,
// stride and dilation, edge tiles of pixels and channels, int8 and uint8
// activations, single and dual (PReLU) multipliers including negative ones,
// both rounding modes, random saturation ranges and biases over the whole
// int32 range (so sums wrap). Every output byte must match.
//
// The blob is laid out with the same packing functions the compiler calls.
//
//===----------------------------------------------------------------------===//

#include "lowbit/runtime/Fast.h"
#include "lowbit/runtime/Ops.h"
#include "lowbit/runtime/Threads.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

using namespace lowbit::rt;

namespace {

using Rng = std::mt19937_64;

int64_t randInt(Rng &rng, int64_t lo, int64_t hi) {
  return std::uniform_int_distribution<int64_t>(lo, hi)(rng);
}

/// The paths to check: every one up to what the CPU runs.
/// Every path this CPU runs (cpuSupports), which need not be a prefix of
/// Isa's values; the ones it lacks are said once on stdout as skipped.
std::vector<Isa> pathsHere() {
  std::vector<Isa> paths;
  std::string skipped;
  for (Isa isa : kAllIsas) {
    if (cpuSupports(isa))
      paths.push_back(isa);
    else
      skipped += std::string(skipped.empty() ? "" : ", ") + isaName(isa) +
                 " (needs " + isaFeatures(isa) + ")";
  }
  static bool said = false;
  if (!said && !skipped.empty())
    std::printf("fast kernels: skipping paths this CPU does not run: %s\n",
                skipped.c_str());
  said = true;
  return paths;
}

/// A blob under construction, 64-byte aligned arrays.
struct Blob {
  std::vector<uint8_t> bytes;
  int64_t add(const void *data, size_t n) {
    int64_t off = static_cast<int64_t>((bytes.size() + 63) / 64 * 64);
    bytes.resize(static_cast<size_t>(off) + n);
    if (n)
      std::memcpy(bytes.data() + off, data, n);
    return off;
  }
  template <typename T> int64_t add(const std::vector<T> &v) {
    return add(v.data(), v.size() * sizeof(T));
  }
};

/// Random requant parameters of one layer, in the op's form.
struct Requant {
  bool perChannel, dual, negPerChannel;
  std::vector<int32_t> mul, shift, negMul, negShift;
  int32_t outZp, lo, hi;
  RoundingMode mode;
};

/// log2 of the typical magnitude of a sum of k products of random 8-bit
/// activations (centred, |x| about 75) and weights of typical size w.
int typicalAccBits(int64_t k, int w) {
  return static_cast<int>(
      std::lround(std::log2(std::sqrt(static_cast<double>(k)) * 75.0 * w)));
}

/// accBits: log2 of a typical accumulator's magnitude; half of the layers
/// get shifts that bring such accumulators into the output range (most
/// outputs unsaturated, so that a wrong product shows), the others
/// realistic and extreme shifts.
Requant randomRequant(Rng &rng, int64_t channels, bool outSigned, int accBits) {
  Requant r;
  r.perChannel = randInt(rng, 0, 1);
  r.dual = randInt(rng, 0, 2) == 0;
  r.negPerChannel = randInt(rng, 0, 1);
  r.mode = randInt(rng, 0, 1) ? RoundingMode::DoubleRound
                              : RoundingMode::SingleRound;
  const bool inRange = randInt(rng, 0, 1);
  auto fill = [&](std::vector<int32_t> &m, std::vector<int32_t> &s, int64_t n,
                  bool allowNegative) {
    for (int64_t i = 0; i < n; ++i) {
      // Realistic scales (small shifts move accumulators far) and extremes.
      int64_t pick = randInt(rng, 0, 9);
      int32_t mv = static_cast<int32_t>(randInt(rng, 1 << 30, INT32_MAX));
      if (pick == 0)
        mv = static_cast<int32_t>(randInt(rng, 0, 1000));
      if (pick == 1)
        mv = INT32_MAX;
      if (allowNegative && randInt(rng, 0, 2) == 0)
        mv = pick == 2 ? INT32_MIN : -mv;
      m.push_back(mv);
      if (inRange && pick > 2)
        s.push_back(
            static_cast<int32_t>(31 + accBits - 7 + randInt(rng, -2, 1)));
      else
        s.push_back(static_cast<int32_t>(pick == 3 ? randInt(rng, 2, 62)
                                                   : randInt(rng, 28, 46)));
    }
  };
  fill(r.mul, r.shift, r.perChannel ? channels : 1, false);
  if (r.dual)
    fill(r.negMul, r.negShift, r.negPerChannel ? channels : 1, true);
  const int64_t smin = outSigned ? -128 : 0, smax = outSigned ? 127 : 255;
  r.outZp = static_cast<int32_t>(randInt(rng, smin, smax));
  r.lo = static_cast<int32_t>(randInt(rng, smin, (smin + smax) / 2));
  r.hi = static_cast<int32_t>(randInt(rng, r.lo, smax));
  if (randInt(rng, 0, 1)) {
    r.lo = static_cast<int32_t>(smin);
    r.hi = static_cast<int32_t>(smax);
  }
  return r;
}

/// Adds the expanded requant arrays to the blob.
void addRequant(Blob &blob, const Requant &r, int64_t channels, int64_t padded,
                int64_t &mul, int64_t &shift, int64_t &negMul,
                int64_t &negShift) {
  std::vector<int32_t> m(padded), s(padded);
  expandRequant(r.mul.data(), r.shift.data(), r.perChannel, channels, padded,
                m.data(), s.data());
  mul = blob.add(m);
  shift = blob.add(s);
  negMul = negShift = -1;
  if (r.dual) {
    expandRequant(r.negMul.data(), r.negShift.data(), r.negPerChannel,
                  channels, padded, m.data(), s.data());
    negMul = blob.add(m);
    negShift = blob.add(s);
  }
}

/// A fused layer's output zero point, range and rounding.
template <typename Desc> void setOutput(Desc &d, const Requant &r) {
  d.outZp = r.outZp;
  d.lo = r.lo;
  d.hi = r.hi;
  d.mode = r.mode;
}

/// Equal byte vectors, or where the first difference is and how many.
::testing::AssertionResult sameBytes(const std::vector<uint8_t> &got,
                                     const std::vector<uint8_t> &want) {
  int64_t mismatches = 0;
  size_t first = 0;
  for (size_t i = 0; i < want.size(); ++i)
    if (got[i] != want[i] && mismatches++ == 0)
      first = i;
  if (mismatches == 0)
    return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << mismatches << " mismatches, first at " << first << ": got "
         << int(got[first]) << " want " << int(want[first]);
}

/// The reference: int32 accumulators, then requantTensor.
template <typename TOut>
std::vector<uint8_t> referenceRequant(const std::vector<int32_t> &acc,
                                      int64_t channels, const Requant &r) {
  std::vector<TOut> out(acc.size());
  requantTensor<int32_t, TOut>(
      acc.data(), out.data(), static_cast<int64_t>(acc.size()), 1, channels,
      r.mul.data(), r.shift.data(), r.perChannel,
      r.dual ? r.negMul.data() : nullptr, r.dual ? r.negShift.data() : nullptr,
      r.negPerChannel, 0, r.outZp, r.lo, r.hi, r.mode);
  std::vector<uint8_t> bytes(out.size());
  std::memcpy(bytes.data(), out.data(), out.size());
  return bytes;
}

Conv2DShape randomShape(Rng &rng, bool depthwise) {
  Conv2DShape s{};
  s.n = randInt(rng, 1, 2);
  s.h = randInt(rng, 1, 11);
  s.w = randInt(rng, 1, 11);
  s.c = depthwise ? randInt(rng, 1, 150) : randInt(rng, 1, 70);
  s.kh = randInt(rng, 1, std::min<int64_t>(5, s.h + 2));
  s.kw = randInt(rng, 1, std::min<int64_t>(5, s.w + 2));
  s.strideH = randInt(rng, 1, 3);
  s.strideW = randInt(rng, 1, 3);
  s.dilationH = randInt(rng, 1, 2);
  s.dilationW = randInt(rng, 1, 2);
  const int64_t ekh = (s.kh - 1) * s.dilationH + 1;
  const int64_t ekw = (s.kw - 1) * s.dilationW + 1;
  s.padTop = randInt(rng, 0, ekh - 1);
  s.padLeft = randInt(rng, 0, ekw - 1);
  const int64_t padBottom = randInt(rng, 0, ekh - 1);
  const int64_t padRight = randInt(rng, 0, ekw - 1);
  s.oh = (s.h + s.padTop + padBottom - ekh) / s.strideH + 1;
  s.ow = (s.w + s.padLeft + padRight - ekw) / s.strideW + 1;
  if (s.oh < 1 || s.ow < 1) { // too small a map for this window: no padding
    s.kh = s.kw = 1;
    s.dilationH = s.dilationW = 1;
    s.padTop = s.padLeft = 0;
    s.oh = (s.h - 1) / s.strideH + 1;
    s.ow = (s.w - 1) / s.strideW + 1;
  }
  s.oc = depthwise ? s.c : randInt(rng, 1, 90);
  s.groups = depthwise ? s.c : 1;
  return s;
}

template <typename TIn, typename TOut>
void checkGemmConv(Rng &rng, const Conv2DShape &s, bool folded, int trial,
                   int32_t weightBits = 8,
                   const std::vector<Isa> &paths = pathsHere()) {
  const bool inSigned = std::is_same<TIn, int8_t>::value;
  const int64_t taps = s.kh * s.kw;
  ASSERT_TRUE(gemmShapeSupported(s));
  std::vector<TIn> in(static_cast<size_t>(s.n * s.h * s.w * s.c));
  for (TIn &v : in)
    v = static_cast<TIn>(randInt(rng, inSigned ? -128 : 0, inSigned ? 127 : 255));
  std::vector<int8_t> w(static_cast<size_t>(s.oc * taps * s.c));
  for (int8_t &v : w)
    v = static_cast<int8_t>(weightBits == 4 ? randInt(rng, -8, 7)
                                            : randInt(rng, -128, 127));
  if (weightBits == 4) {
    ASSERT_TRUE(gemmWeightsFit4(w.data(), static_cast<int64_t>(w.size())));
  }
  const bool hasBias = randInt(rng, 0, 3) != 0;
  std::vector<int32_t> bias(static_cast<size_t>(s.oc));
  for (int32_t &v : bias)
    v = static_cast<int32_t>(randInt(rng, 0, 3) == 0
                                 ? randInt(rng, INT32_MIN, INT32_MAX)
                                 : randInt(rng, -100000, 100000));
  const int32_t inZp = static_cast<int32_t>(
      randInt(rng, inSigned ? -128 : 0, inSigned ? 127 : 255));
  const Requant r =
      randomRequant(rng, s.oc, std::is_same<TOut, int8_t>::value,
                    typicalAccBits(taps * s.c, weightBits == 4 ? 4 : 75));

  // Reference accumulators (folded: the bias holds -inZp * sum w).
  std::vector<int32_t> acc(static_cast<size_t>(s.n * s.oh * s.ow * s.oc));
  std::vector<int32_t> refBias = bias;
  if (folded) {
    for (int64_t o = 0; o < s.oc; ++o) {
      uint32_t sum = 0;
      for (int64_t i = 0; i < taps * s.c; ++i)
        sum += static_cast<uint32_t>(static_cast<int32_t>(w[o * taps * s.c + i]));
      refBias[o] = static_cast<int32_t>(static_cast<uint32_t>(bias[o]) -
                                        static_cast<uint32_t>(inZp) * sum);
    }
    conv2dFoldedZp<TIn, int8_t, int32_t>(in.data(), w.data(), refBias.data(),
                                         inZp, acc.data(), s);
  } else {
    conv2dTensor<TIn, int8_t, int32_t>(in.data(), w.data(),
                                       hasBias ? bias.data() : nullptr, inZp,
                                       acc.data(), s);
  }
  const std::vector<uint8_t> want = referenceRequant<TOut>(acc, s.oc, r);

  Blob blob;
  const GemmPacking p = gemmPacking(s.oc, s.kh, s.kw, s.c, weightBits);
  std::vector<int8_t> packed(static_cast<size_t>(p.bytes));
  packGemmWeights(w.data(), p, packed.data());
  std::vector<int32_t> pb(static_cast<size_t>(p.ocPadded));
  gemmBias(w.data(), folded ? refBias.data() : (hasBias ? bias.data() : nullptr),
           p, inZp, folded, inSigned, pb.data());
  std::vector<uint8_t> zeroRow(static_cast<size_t>(gemmZeroRowBytes(p)),
                               static_cast<uint8_t>(inZp));
  QGemmConv d{};
  d.shape = s;
  d.weights = blob.add(packed);
  d.bias = blob.add(pb);
  d.zeroRow = blob.add(zeroRow);
  addRequant(blob, r, s.oc, p.ocPadded, d.mul, d.shift, d.negMul, d.negShift);
  d.inputSigned = inSigned;
  d.weightBits = weightBits;
  setOutput(d, r);
  for (Isa isa : paths) {
    std::vector<uint8_t> got(want.size(), 0xAB);
    convRequantGemm(in.data(), got.data(), blob.bytes.data(), d, isa);
    ASSERT_TRUE(sameBytes(got, want))
        << isaName(isa) << " trial " << trial << " shape n" << s.n << " h"
        << s.h << " w" << s.w << " c" << s.c << " oc" << s.oc << " k" << s.kh
        << "x" << s.kw << " s" << s.strideH << "," << s.strideW << " d"
        << s.dilationH << "," << s.dilationW << " p" << s.padTop << ","
        << s.padLeft << " folded " << folded << " weight bits " << weightBits;
  }
}

TEST(FastGemmConv, RandomShapesEveryPathBitExact) {
  Rng rng(20261129);
  for (int trial = 0; trial < 400; ++trial) {
    const Conv2DShape s = randomShape(rng, false);
    const bool folded = randInt(rng, 0, 1);
    if (!gemmShapeSupported(s))
      continue; // the compiler keeps the reference kernels for these
    switch (trial % 4) {
    case 0:
      checkGemmConv<int8_t, int8_t>(rng, s, folded, trial);
      break;
    case 1:
      checkGemmConv<uint8_t, uint8_t>(rng, s, folded, trial);
      break;
    case 2:
      checkGemmConv<int8_t, uint8_t>(rng, s, folded, trial);
      break;
    default:
      checkGemmConv<uint8_t, int8_t>(rng, s, folded, trial);
      break;
    }
    if (HasFatalFailure())
      return;
  }
}

TEST(FastGemmConv, FourBitWeightsEveryPathBitExact) {
  // Weights in [-8, 7] packed two per byte: the same results, half the
  // bytes.
  Rng rng(4444);
  int checked = 0;
  for (int trial = 0; trial < 300; ++trial) {
    const Conv2DShape s = randomShape(rng, false);
    if (!gemmShapeSupported(s))
      continue;
    if (trial % 2)
      checkGemmConv<int8_t, int8_t>(rng, s, randInt(rng, 0, 1), trial, 4);
    else
      checkGemmConv<uint8_t, uint8_t>(rng, s, randInt(rng, 0, 1), trial, 4);
    if (HasFatalFailure())
      return;
    ++checked;
    const GemmPacking p8 = gemmPacking(s.oc, s.kh, s.kw, s.c, 8);
    const GemmPacking p4 = gemmPacking(s.oc, s.kh, s.kw, s.c, 4);
    ASSERT_EQ(p4.bytes * 2, p8.bytes);
  }
  EXPECT_GT(checked, 200);
  const int8_t wide[] = {3, -8, 7, 8};
  EXPECT_FALSE(gemmWeightsFit4(wide, 4));
  EXPECT_TRUE(gemmWeightsFit4(wide, 3));
}

TEST(FastGemmConv, LargeChannelsAndPointwise) {
  Rng rng(7);
  // Shapes with many pixel tiles and channel blocks, 1x1 and 3x3 as in
  // ResNet/MobileNet, plus a fully connected layer as a 1x1 convolution.
  const Conv2DShape shapes[] = {
      {1, 7, 7, 64, 7, 7, 130, 3, 3, 1, 1, 1, 1, 1, 1, 1},
      {1, 9, 9, 35, 9, 9, 67, 1, 1, 1, 1, 1, 1, 0, 0, 1},
      {2, 9, 7, 36, 9, 7, 67, 1, 1, 1, 1, 1, 1, 0, 0, 1}, // pointwise rows
      {1, 8, 8, 16, 4, 4, 24, 1, 1, 2, 2, 1, 1, 0, 0, 1}, // strided 1x1
      {1, 14, 14, 32, 7, 7, 48, 3, 3, 2, 2, 1, 1, 1, 1, 1},
      {3, 1, 1, 513, 1, 1, 10, 1, 1, 1, 1, 1, 1, 0, 0, 1},
      {1, 12, 12, 3, 6, 6, 16, 7, 7, 2, 2, 1, 1, 3, 3, 1},
  };
  int trial = 0;
  for (const Conv2DShape &s : shapes) {
    checkGemmConv<int8_t, int8_t>(rng, s, false, trial++);
    checkGemmConv<int8_t, int8_t>(rng, s, true, trial++);
    checkGemmConv<uint8_t, uint8_t>(rng, s, true, trial++);
    if (HasFatalFailure())
      return;
  }
}

template <typename TIn, typename TOut>
void checkDepthwise(Rng &rng, const Conv2DShape &s, bool folded, int trial) {
  const bool inSigned = std::is_same<TIn, int8_t>::value;
  const int64_t taps = s.kh * s.kw;
  std::vector<TIn> in(static_cast<size_t>(s.n * s.h * s.w * s.c));
  for (TIn &v : in)
    v = static_cast<TIn>(randInt(rng, inSigned ? -128 : 0, inSigned ? 127 : 255));
  std::vector<int8_t> w(static_cast<size_t>(s.c * taps)); // OHWI, I = 1
  for (int8_t &v : w)
    v = static_cast<int8_t>(randInt(rng, -128, 127));
  std::vector<int32_t> bias(static_cast<size_t>(s.c));
  for (int32_t &v : bias)
    v = static_cast<int32_t>(randInt(rng, 0, 3) == 0
                                 ? randInt(rng, INT32_MIN, INT32_MAX)
                                 : randInt(rng, -100000, 100000));
  const int32_t inZp = static_cast<int32_t>(
      randInt(rng, inSigned ? -128 : 0, inSigned ? 127 : 255));
  const Requant r = randomRequant(rng, s.c, std::is_same<TOut, int8_t>::value,
                                  typicalAccBits(taps, 75));
  std::vector<int32_t> refBias = bias;
  if (folded)
    for (int64_t o = 0; o < s.c; ++o) {
      uint32_t sum = 0;
      for (int64_t t = 0; t < taps; ++t)
        sum += static_cast<uint32_t>(static_cast<int32_t>(w[o * taps + t]));
      refBias[o] = static_cast<int32_t>(static_cast<uint32_t>(bias[o]) -
                                        static_cast<uint32_t>(inZp) * sum);
    }
  std::vector<int32_t> acc(static_cast<size_t>(s.n * s.oh * s.ow * s.c));
  if (folded)
    conv2dFoldedZp<TIn, int8_t, int32_t>(in.data(), w.data(), refBias.data(),
                                         inZp, acc.data(), s);
  else
    conv2dTensor<TIn, int8_t, int32_t>(in.data(), w.data(), bias.data(), inZp,
                                       acc.data(), s);
  const std::vector<uint8_t> want = referenceRequant<TOut>(acc, s.c, r);

  Blob blob;
  const int64_t cp = depthwisePaddedChannels(s.c);
  std::vector<int32_t> packed(static_cast<size_t>(taps * cp));
  packDepthwiseWeights(w.data(), s.c, taps, packed.data());
  std::vector<int32_t> db(static_cast<size_t>(cp));
  depthwiseBias(w.data(), folded ? refBias.data() : bias.data(), s.c, taps,
                inZp, folded, db.data());
  QDepthwiseConv d{};
  d.shape = s;
  d.weights = blob.add(packed);
  d.bias = blob.add(db);
  addRequant(blob, r, s.c, cp, d.mul, d.shift, d.negMul, d.negShift);
  d.inputSigned = inSigned;
  d.inZp = inZp;
  setOutput(d, r);
  for (Isa isa : pathsHere()) {
    std::vector<uint8_t> got(want.size(), 0xAB);
    depthwiseRequant(in.data(), got.data(), blob.bytes.data(), d, isa);
    ASSERT_TRUE(sameBytes(got, want))
        << isaName(isa) << " trial " << trial << " shape c" << s.c << " k"
        << s.kh << "x" << s.kw;
  }
}

TEST(FastDepthwise, RandomShapesEveryPathBitExact) {
  Rng rng(99);
  for (int trial = 0; trial < 300; ++trial) {
    const Conv2DShape s = randomShape(rng, true);
    const bool folded = randInt(rng, 0, 1);
    if (trial % 2)
      checkDepthwise<int8_t, int8_t>(rng, s, folded, trial);
    else
      checkDepthwise<uint8_t, uint8_t>(rng, s, folded, trial);
    if (HasFatalFailure())
      return;
  }
}

TEST(FastDepthwise, ThreeByThreeLayersEveryPathBitExact) {
  // The 3x3 layer kernel: every stride and padding, odd channel counts.
  Rng rng(1234);
  for (int trial = 0; trial < 150; ++trial) {
    Conv2DShape s{};
    s.n = randInt(rng, 1, 2);
    s.h = randInt(rng, 1, 12);
    s.w = randInt(
        rng, 1, 26); // wide rows: 8 interior pixels at stride 1, 4 at stride 2
    s.c = randInt(rng, 1, 100);
    s.kh = s.kw = 3;
    s.strideH = randInt(rng, 1, 2);
    s.strideW = randInt(rng, 1, 2);
    s.dilationH = s.dilationW = 1;
    s.padTop = randInt(rng, 0, 2);
    s.padLeft = randInt(rng, 0, 2);
    s.oh = (s.h + s.padTop + randInt(rng, 0, 2) - 3) / s.strideH + 1;
    s.ow = (s.w + s.padLeft + randInt(rng, 0, 2) - 3) / s.strideW + 1;
    if (s.oh < 1 || s.ow < 1)
      continue;
    s.oc = s.groups = s.c;
    if (trial % 2)
      checkDepthwise<int8_t, int8_t>(rng, s, trial % 3 == 0, trial);
    else
      checkDepthwise<uint8_t, uint8_t>(rng, s, trial % 3 == 0, trial);
    if (HasFatalFailure())
      return;
  }
}

TEST(FastIsa, NamesRoundTripAndSelectionIsCapped) {
  for (int i = 0; i <= 3; ++i) {
    Isa parsed;
    ASSERT_TRUE(parseIsa(isaName(static_cast<Isa>(i)), parsed));
    EXPECT_EQ(static_cast<int>(parsed), i);
  }
  Isa unused;
  EXPECT_FALSE(parseIsa("avx9000", unused));
  EXPECT_FALSE(parseIsa(nullptr, unused));
  EXPECT_LE(static_cast<int>(selectedIsa()), static_cast<int>(cpuIsa()));
  EXPECT_TRUE(cpuSupports(selectedIsa()));
  std::string runs;
  for (Isa isa : pathsHere())
    runs += std::string(runs.empty() ? "" : ", ") + isaName(isa);
  std::printf("fast kernels: this CPU runs %s (best %s), selected %s\n",
              runs.c_str(), isaName(cpuIsa()), isaName(selectedIsa()));
}

// Paths are capabilities: a cap selects the best path the CPU runs at or
// below it, whichever paths below the best are missing (Zen 4 runs
// avx512-vnni but not avx2-vnni).
TEST(FastIsa, CapsSelectTheBestSupportedPathAtOrBelow) {
  EXPECT_TRUE(cpuSupports(Isa::Portable));
  EXPECT_TRUE(cpuSupports(cpuIsa()));
  for (Isa isa : kAllIsas)
    if (cpuSupports(isa)) {
      EXPECT_LE(static_cast<int>(isa), static_cast<int>(cpuIsa()));
    }
  for (Isa cap : kAllIsas) {
    const Isa got = bestIsaAtOrBelow(cap);
    EXPECT_TRUE(cpuSupports(got)) << isaName(cap);
    EXPECT_LE(static_cast<int>(got), static_cast<int>(cap)) << isaName(cap);
    for (Isa other : kAllIsas)
      if (cpuSupports(other) && other <= cap) {
        EXPECT_LE(static_cast<int>(other), static_cast<int>(got))
            << isaName(cap) << " selected " << isaName(got) << " below "
            << isaName(other);
      }
    const Isa capped = selectedIsaCappedAt(static_cast<int32_t>(cap));
    EXPECT_TRUE(cpuSupports(capped));
    EXPECT_LE(static_cast<int>(capped), static_cast<int>(cap));
    EXPECT_LE(static_cast<int>(capped), static_cast<int>(selectedIsa()));
  }
  EXPECT_EQ(selectedIsaCappedAt(-5), Isa::Portable);
  EXPECT_EQ(selectedIsaCappedAt(99), selectedIsa());
  EXPECT_STREQ(isaFeatures(Isa::Avx2Vnni), "AVX2 + AVX-VNNI");
}

// A kernel asked for a path the CPU does not run runs the best one below
// it: the reference bytes, never SIGILL. Runs when some path is missing
// (on every CPU under `LOWBIT_DISABLE_ISA`, see CMakeLists.txt).
TEST(FastIsa, KernelsNeverRunAPathTheCpuLacks) {
  std::vector<Isa> missing;
  for (Isa isa : kAllIsas)
    if (!cpuSupports(isa))
      missing.push_back(isa);
  if (missing.empty())
    GTEST_SKIP() << "this CPU runs every path";
  Rng rng(7);
  Conv2DShape s{1, 9, 7, 24, 9, 7, 40, 3, 3, 1, 1, 1, 1, 1, 1, 1};
  for (int trial = 0; trial < 4; ++trial)
    for (Isa isa : missing)
      checkGemmConv<int8_t, int8_t>(rng, s, trial % 2, trial, 8, {isa});
}

} // namespace

namespace {

template <typename TA, typename TB, typename TO>
void checkAdd(Rng &rng, const QAdd &d, int64_t count, int trial) {
  std::vector<TA> a(static_cast<size_t>(count));
  std::vector<TB> b(static_cast<size_t>(count));
  for (TA &v : a)
    v = static_cast<TA>(randInt(rng, -128, 255));
  for (TB &v : b)
    v = static_cast<TB>(randInt(rng, -128, 255));
  std::vector<TO> want(static_cast<size_t>(count));
  addTensor<TA, TB, TO>(a.data(), b.data(), want.data(), count, d.aZp, d.bZp,
                        d.inputShift, d.aM, d.bM, d.outM, d.outZp, d.lo, d.hi,
                        d.mode);
  for (Isa isa : pathsHere()) {
    std::vector<TO> got(static_cast<size_t>(count));
    addRequant(a.data(), b.data(), got.data(), count, d, isa);
    for (int64_t i = 0; i < count; ++i)
      ASSERT_EQ(int(got[i]), int(want[i]))
          << isaName(isa) << " trial " << trial << " at " << i << " a "
          << int(a[i]) << " b " << int(b[i]) << " fits "
          << addFitsInt32(d);
  }
}

TEST(FastAdd, RandomParametersEveryPathBitExact) {
  Rng rng(31337);
  int fitting = 0;
  for (int trial = 0; trial < 600; ++trial) {
    QAdd d{};
    d.aSigned = randInt(rng, 0, 1);
    d.bSigned = randInt(rng, 0, 1);
    const bool outSigned = randInt(rng, 0, 1);
    d.aZp = static_cast<int32_t>(d.aSigned ? randInt(rng, -128, 127)
                                           : randInt(rng, 0, 255));
    d.bZp = static_cast<int32_t>(d.bSigned ? randInt(rng, -128, 127)
                                           : randInt(rng, 0, 255));
    d.inputShift = static_cast<int32_t>(randInt(rng, 0, 3) == 0
                                            ? randInt(rng, 0, 24)
                                            : 20);
    // Operand scales around what a residual add has (ratios of scales
    // over 2^inputShift), sometimes far larger so the sum would overflow.
    auto scaled = [&](double lo, double hi) {
      ScaleMultiplier m;
      double x = std::uniform_real_distribution<double>(lo, hi)(rng);
      computeMultiplier(x, m);
      return m;
    };
    const bool huge = randInt(rng, 0, 5) == 0;
    d.aM = scaled(huge ? 0.5 : 0.01, huge ? 4.0 : 0.5);
    d.bM = scaled(0.01, huge ? 4.0 : 0.5);
    d.outM = scaled(1.0 / (1 << 22), 1.0 / (1 << 16));
    d.outZp = static_cast<int32_t>(outSigned ? randInt(rng, -128, 127)
                                             : randInt(rng, 0, 255));
    d.lo = outSigned ? -128 : 0;
    d.hi = outSigned ? 127 : 255;
    if (randInt(rng, 0, 2) == 0) // a fused ReLU
      d.lo = d.outZp;
    d.mode = randInt(rng, 0, 1) ? RoundingMode::DoubleRound
                                : RoundingMode::SingleRound;
    const int64_t count = randInt(rng, 1, 100);
    // The operands' stored types follow from aSigned/bSigned below.
    if (trial % 4 == 0)
      d.aSigned = d.bSigned = 1;
    if (trial % 4 == 1)
      d.bSigned = 0;
    d.aZp = static_cast<int32_t>(d.aSigned ? randInt(rng, -128, 127)
                                           : randInt(rng, 0, 255));
    d.bZp = static_cast<int32_t>(d.bSigned ? randInt(rng, -128, 127)
                                           : randInt(rng, 0, 255));
    fitting += addFitsInt32(d);
    switch (trial % 4) {
    case 0:
      if (outSigned)
        checkAdd<int8_t, int8_t, int8_t>(rng, d, count, trial);
      else
        checkAdd<int8_t, int8_t, uint8_t>(rng, d, count, trial);
      break;
    case 1:
      if (d.aSigned)
        checkAdd<int8_t, uint8_t, uint8_t>(rng, d, count, trial);
      else
        checkAdd<uint8_t, uint8_t, uint8_t>(rng, d, count, trial);
      break;
    default:
      if (d.aSigned && d.bSigned)
        checkAdd<int8_t, int8_t, int8_t>(rng, d, count, trial);
      else if (d.aSigned)
        checkAdd<int8_t, uint8_t, int8_t>(rng, d, count, trial);
      else if (d.bSigned)
        checkAdd<uint8_t, int8_t, int8_t>(rng, d, count, trial);
      else
        checkAdd<uint8_t, uint8_t, int8_t>(rng, d, count, trial);
      break;
    }
    if (HasFatalFailure())
      return;
  }
  // Both the vector paths and the scalar fallback ran.
  EXPECT_GT(fitting, 300);
  EXPECT_LT(fitting, 600);
}

} // namespace

namespace {

TEST(FastQuantize, EveryPathMatchesQuantizeValue) {
  Rng rng(4242);
  std::uniform_real_distribution<float> unit(-1.0f, 1.0f);
  for (int trial = 0; trial < 200; ++trial) {
    const float scale = std::ldexp(1.0f + unit(rng) * 0.5f,
                                   static_cast<int>(randInt(rng, -12, 2)));
    const bool isSigned = randInt(rng, 0, 1);
    const int32_t qmin = isSigned ? -128 : 0, qmax = isSigned ? 127 : 255;
    const int32_t zp = static_cast<int32_t>(randInt(rng, qmin, qmax));
    const int64_t count = randInt(rng, 1, 300);
    std::vector<float> x(static_cast<size_t>(count));
    for (float &v : x) {
      switch (randInt(rng, 0, 9)) {
      case 0: // an exact tie between two integers
        v = (static_cast<float>(randInt(rng, -300, 300)) + 0.5f) * scale;
        break;
      case 1:
        v = std::numeric_limits<float>::quiet_NaN();
        break;
      case 2:
        v = randInt(rng, 0, 1) ? INFINITY : -INFINITY;
        break;
      case 3:
        v = unit(rng) * 3e38f;
        break;
      case 4:
        v = unit(rng) * 1e-40f; // subnormal
        break;
      default:
        v = unit(rng) * scale * 200.0f;
      }
    }
    std::vector<uint8_t> want(x.size());
    for (size_t i = 0; i < x.size(); ++i)
      want[i] = static_cast<uint8_t>(quantizeValue(x[i], scale, zp, qmin, qmax));
    for (Isa isa : pathsHere()) {
      std::vector<uint8_t> got(x.size(), 0xAB);
      quantizeToBytes(x.data(), got.data(), count, scale, zp, qmin, qmax, isa);
      for (size_t i = 0; i < x.size(); ++i)
        ASSERT_EQ(int(got[i]), int(want[i]))
            << isaName(isa) << " x " << x[i] << " scale " << scale << " zp "
            << zp;
    }
  }
}

TEST(FastMaxPool, EveryPathMatchesMaxPool2d) {
  Rng rng(5);
  for (int trial = 0; trial < 200; ++trial) {
    Pool2DShape s{};
    s.n = randInt(rng, 1, 2);
    s.h = randInt(rng, 1, 9);
    s.w = randInt(rng, 1, 9);
    s.c = randInt(rng, 1, 150);
    s.kh = randInt(rng, 1, 3);
    s.kw = randInt(rng, 1, 3);
    s.strideH = randInt(rng, 1, 2);
    s.strideW = randInt(rng, 1, 2);
    s.padTop = randInt(rng, 0, s.kh - 1);
    s.padLeft = randInt(rng, 0, s.kw - 1);
    s.oh = (s.h + s.padTop + randInt(rng, 0, s.kh - 1) - s.kh) / s.strideH + 1;
    s.ow = (s.w + s.padLeft + randInt(rng, 0, s.kw - 1) - s.kw) / s.strideW + 1;
    if (s.oh < 1 || s.ow < 1)
      continue;
    const bool isSigned = trial % 2;
    std::vector<uint8_t> in(static_cast<size_t>(s.n * s.h * s.w * s.c));
    for (uint8_t &v : in)
      v = static_cast<uint8_t>(randInt(rng, 0, 255));
    std::vector<uint8_t> want(static_cast<size_t>(s.n * s.oh * s.ow * s.c));
    if (isSigned)
      maxPool2d(reinterpret_cast<const int8_t *>(in.data()),
                reinterpret_cast<int8_t *>(want.data()), s);
    else
      maxPool2d(in.data(), want.data(), s);
    for (Isa isa : pathsHere()) {
      std::vector<uint8_t> got(want.size(), 0xAB);
      maxPoolBytes(in.data(), got.data(), s, isSigned, isa);
      ASSERT_EQ(got, want) << isaName(isa) << " trial " << trial;
    }
  }
}

} // namespace

namespace {

/// setThreads(n) for one scope.
struct ThreadsFor {
  explicit ThreadsFor(int n) { setThreads(n); }
  ~ThreadsFor() { setThreads(1); }
};

TEST(FastThreads, SplitWorkGivesTheReferenceBytes) {
  // Layers large enough to be split (Fast.cpp's kMinParallelMacs and
  // kMinParallelBytes), on 3 threads: more parts than this machine's 2
  // cores, uneven ranges. Each check compares every path with the
  // reference kernels.
  for (int n : {2, 3}) {
    ThreadsFor scope(n);
    ASSERT_EQ(threads(), n);
    Rng rng(99 + n);
    const Conv2DShape gemm[] = {
        // many pixel tiles: split by pixels, odd channel tail
        {1, 30, 29, 32, 30, 29, 40, 3, 3, 1, 1, 1, 1, 1, 1, 1},
        // few pixels, many channel blocks: split by channel groups
        {1, 3, 3, 256, 3, 3, 520, 3, 3, 1, 1, 1, 1, 1, 1, 1},
        // a first layer in row mode
        {1, 64, 64, 3, 32, 32, 32, 7, 7, 2, 2, 1, 1, 3, 3, 1},
        // fully connected, 1 pixel
        {1, 1, 1, 4096, 1, 1, 1000, 1, 1, 1, 1, 1, 1, 0, 0, 1},
    };
    int trial = 0;
    for (const Conv2DShape &s : gemm) {
      checkGemmConv<uint8_t, uint8_t>(rng, s, true, trial++);
      checkGemmConv<int8_t, int8_t>(rng, s, false, trial++);
      if (HasFatalFailure())
        return;
    }
    const Conv2DShape depthwise[] = {
        {1, 96, 96, 48, 96, 96, 48, 3, 3, 1, 1, 1, 1, 1, 1, 48},
        {2, 120, 120, 48, 60, 60, 48, 3, 3, 2, 2, 1, 1, 1, 1, 48},
        {1, 60, 60, 64, 60, 60, 64, 5, 5, 1, 1, 1, 1, 2, 2, 64},
    };
    for (const Conv2DShape &s : depthwise) {
      checkDepthwise<uint8_t, uint8_t>(rng, s, trial % 2 == 0, trial);
      ++trial;
      if (HasFatalFailure())
        return;
    }
    QAdd d{};
    d.aSigned = d.bSigned = 1;
    d.aZp = 3, d.bZp = -7, d.inputShift = 20;
    d.aM = ScaleMultiplier{1518500250, 32}; // about 0.35 * 2^-0
    d.bM = ScaleMultiplier{1288490189, 31};
    d.outM = ScaleMultiplier{1431655765, 51};
    d.outZp = -2, d.lo = -128, d.hi = 127;
    d.mode = RoundingMode::SingleRound;
    checkAdd<int8_t, int8_t, int8_t>(rng, d, 300001, trial++);
    if (HasFatalFailure())
      return;

    std::vector<float> x(200003);
    for (float &v : x)
      v = static_cast<float>(randInt(rng, -40000, 40000)) / 128.0f;
    std::vector<uint8_t> want(x.size());
    for (size_t i = 0; i < x.size(); ++i)
      want[i] = static_cast<uint8_t>(quantizeValue(x[i], 0.5f, 3, -128, 127));
    Pool2DShape ps{1, 64, 64, 96, 32, 32, 3, 3, 2, 2, 1, 1};
    std::vector<uint8_t> pin(static_cast<size_t>(64 * 64 * 96));
    for (uint8_t &v : pin)
      v = static_cast<uint8_t>(randInt(rng, 0, 255));
    std::vector<uint8_t> pwant(static_cast<size_t>(32 * 32 * 96));
    maxPool2d(pin.data(), pwant.data(), ps);
    for (Isa isa : pathsHere()) {
      std::vector<uint8_t> got(x.size(), 0xAB);
      quantizeToBytes(x.data(), got.data(), static_cast<int64_t>(x.size()),
                      0.5f, 3, -128, 127, isa);
      ASSERT_EQ(got, want) << isaName(isa);
      std::vector<uint8_t> pgot(pwant.size(), 0xAB);
      maxPoolBytes(pin.data(), pgot.data(), ps, false, isa);
      ASSERT_EQ(pgot, pwant) << isaName(isa);
    }
  }
  EXPECT_EQ(threads(), 1);
}

TEST(FastThreads, CountIsClampedAndRegionsCoverTheRange) {
  ThreadsFor scope(1000);
  EXPECT_EQ(threads(), kMaxThreads);
  setThreads(2);
  for (int64_t n : {1, 2, 3, 17, 1000}) {
    std::vector<int> hits(static_cast<size_t>(n), 0);
    parallelRanges(n, 1, [&](int64_t b, int64_t e) {
      EXPECT_LT(b, e);
      for (int64_t i = b; i < e; ++i)
        ++hits[static_cast<size_t>(i)];
    });
    for (int h : hits)
      ASSERT_EQ(h, 1) << "n " << n;
  }
  setThreads(0);
  EXPECT_EQ(threads(), 1);
}

} // namespace
