//===- BitDepthTest.cpp - Adaptive bit depth control's block loop ---------===//
//
// Part of the lowbit project.
//
//===----------------------------------------------------------------------===//

#include "lowbit/runtime/BitDepth.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <set>
#include <vector>

using namespace lowbit::rt;

namespace {

BitDepthConfig config(BitDepthMode mode, int32_t block = 4) {
  BitDepthConfig c{};
  c.inputBits = 10;
  c.networkBits = mode == BitDepthMode::None ? 10 : 8;
  c.block = block;
  c.channels = 1;
  c.outChannels = 1;
  c.mode = mode;
  return c;
}

/// The block loop with the identity as the network.
std::vector<uint16_t> identity(const std::vector<uint16_t> &image, int64_t h,
                               int64_t w, const BitDepthConfig &c) {
  std::vector<uint16_t> out(image.size());
  std::vector<float> scratch(
      static_cast<size_t>((c.channels + c.outChannels) * c.block * c.block));
  int32_t rc = runBitDepthBlocks(
      image.data(), h, w, out.data(), c, scratch.data(),
      [&](const float *in, float *res) {
        std::memcpy(res, in, sizeof(float) * c.block * c.block);
        return 0;
      });
  EXPECT_EQ(rc, kBitDepthOk);
  return out;
}

} // namespace

TEST(BitDepth, Shifts) {
  BitDepthConfig a = config(BitDepthMode::Adaptive);
  EXPECT_EQ(blockShift(0, a), 0);
  EXPECT_EQ(blockShift(255, a), 0);
  EXPECT_EQ(blockShift(256, a), 1);
  EXPECT_EQ(blockShift(511, a), 1);
  EXPECT_EQ(blockShift(512, a), 2);
  EXPECT_EQ(blockShift(1023, a), 2);
  EXPECT_EQ(blockShift(0, config(BitDepthMode::Truncate)), 2);
  EXPECT_EQ(blockShift(1023, config(BitDepthMode::None)), 0);
  EXPECT_EQ(bitLength(0), 0);
  EXPECT_EQ(bitLength(1), 1);
  EXPECT_EQ(bitLength(0xffffffffu), 32);
}

// Through the identity, a block keeps the bits its shift leaves, and the
// inverse shift adds the dropped bits' mean (2^s - 1) / 2. x_K / 255 is not
// exact in float, so where that mean makes a tie (s >= 1) the result may be
// either neighbour; the evaluator and the generated C++ run the same float
// operations and agree on it (test/e2e/bit-depth.test).
static void expectRestored(uint16_t got, uint16_t v, int s) {
  const double want = double((v >> s) << s) + (double(1 << s) - 1) / 2;
  EXPECT_LE(std::fabs(double(got) - std::min(want, 1023.0)), 0.5)
      << "v " << v << " s " << s << " got " << got;
}

TEST(BitDepth, IdentityKeepsWhatTheShiftLeaves) {
  const int64_t h = 8, w = 8; // four 4x4 blocks: max 200, 300, 700, 1023
  std::vector<uint16_t> image(h * w);
  std::mt19937 rng(1);
  const uint16_t maxes[4] = {200, 300, 700, 1023};
  for (int64_t y = 0; y < h; ++y)
    for (int64_t x = 0; x < w; ++x) {
      int blk = (y / 4) * 2 + x / 4;
      image[y * w + x] = static_cast<uint16_t>(rng() % (maxes[blk] + 1));
    }
  for (int blk = 0; blk < 4; ++blk)
    image[(blk / 2) * 4 * w + (blk % 2) * 4] = maxes[blk];
  auto adaptive = identity(image, h, w, config(BitDepthMode::Adaptive));
  auto truncate = identity(image, h, w, config(BitDepthMode::Truncate));
  auto none = identity(image, h, w, config(BitDepthMode::None));
  for (int64_t y = 0; y < h; ++y)
    for (int64_t x = 0; x < w; ++x) {
      const int blk = (y / 4) * 2 + x / 4;
      const int s = blk == 0 ? 0 : blk == 1 ? 1 : 2;
      const uint16_t v = image[y * w + x];
      expectRestored(adaptive[y * w + x], v, s);
      expectRestored(truncate[y * w + x], v, 2);
      EXPECT_EQ(none[y * w + x], v);
      if (s == 0) {
        EXPECT_EQ(adaptive[y * w + x], v); // a dark block keeps every bit
      }
    }
}

// Edge blocks: a 5x6 image in 4x4 blocks, the last row and column
// repeated; only the image's pixels are written.
TEST(BitDepth, EdgeBlocks) {
  const int64_t h = 5, w = 6;
  std::vector<uint16_t> image(h * w, 100);
  image[4 * w + 5] = 900; // in the bottom-right block, with (4, 4)
  std::vector<uint16_t> guarded(h * w + 8, 0xabcd);
  std::vector<float> scratch(32);
  BitDepthConfig c = config(BitDepthMode::Adaptive);
  int blocks = 0;
  ASSERT_EQ(runBitDepthBlocks(image.data(), h, w, guarded.data(), c,
                              scratch.data(),
                              [&](const float *in, float *res) {
                                ++blocks;
                                std::memcpy(res, in, sizeof(float) * 16);
                                return 0;
                              }),
            kBitDepthOk);
  EXPECT_EQ(blocks, 4);
  for (int64_t i = h * w; i < h * w + 8; ++i)
    EXPECT_EQ(guarded[i], 0xabcd);
  for (int64_t i = 0; i < h * w; ++i) {
    const bool last = i == 4 * w + 4 || i == 4 * w + 5; // s = 2
    if (last)
      expectRestored(guarded[i], image[i], 2);
    else
      EXPECT_EQ(guarded[i], 100) << i;
  }
}

TEST(BitDepth, Dither) {
  std::set<int32_t> seen;
  for (uint64_t i = 0; i < 4096; ++i) {
    int32_t d = ditherValue(7, i, 2);
    EXPECT_GE(d, 0);
    EXPECT_LT(d, 4);
    seen.insert(d);
    EXPECT_EQ(d, ditherValue(7, i, 2)); // a function of (seed, index)
  }
  EXPECT_EQ(seen.size(), 4u);
  EXPECT_EQ(ditherValue(7, 5, 0), 0);
  int differ = 0;
  for (uint64_t i = 0; i < 64; ++i)
    differ += ditherValue(1, i, 3) != ditherValue(2, i, 3);
  EXPECT_GT(differ, 32);
}

TEST(BitDepth, Errors) {
  BitDepthConfig c = config(BitDepthMode::Adaptive);
  std::vector<uint16_t> image(16, 5), out(16);
  std::vector<float> scratch(32);
  auto net = [](const float *, float *) { return 0; };
  image[9] = 1024;
  int64_t bad = -1;
  EXPECT_EQ(runBitDepthBlocks(image.data(), 4, 4, out.data(), c,
                              scratch.data(), net, &bad),
            kBitDepthPixelTooLarge);
  EXPECT_EQ(bad, 9);
  image[9] = 5;
  EXPECT_EQ(runBitDepthBlocks(image.data(), 4, 4, out.data(), c,
                              scratch.data(),
                              [](const float *, float *) { return 1; }),
            kBitDepthBlockFailed);
  c.networkBits = 11;
  EXPECT_EQ(runBitDepthBlocks(image.data(), 4, 4, out.data(), c,
                              scratch.data(), net),
            kBitDepthBadConfig);
  c.networkBits = 8;
  EXPECT_EQ(runBitDepthBlocks(image.data(), 0, 4, out.data(), c,
                              scratch.data(), net),
            kBitDepthBadConfig);
}

TEST(BitDepth, OutputClampsAndRounds) {
  BitDepthConfig c = config(BitDepthMode::Adaptive);
  EXPECT_EQ(blockOutput(-0.5f, 2, nullptr, c), 0);
  EXPECT_EQ(blockOutput(2.0f, 2, nullptr, c), 1023);
  EXPECT_EQ(blockOutput(std::nanf(""), 0, nullptr, c), 0);
  int32_t d = 3;
  EXPECT_EQ(blockOutput(100.0f / 255.0f, 2, &d, c), 403);
  EXPECT_EQ(blockOutput(100.0f / 255.0f, 0, nullptr, c), 100);
}
