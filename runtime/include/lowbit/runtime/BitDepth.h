//===- BitDepth.h - Adaptive bit depth control of input blocks --*- C++ -*-===//
//
// Part of the lowbit project.
//
//===----------------------------------------------------------------------===//
//
// The one definition of adaptive bit depth control (ABC,
// adaptive-bit-depth-control-prelu-folding): an image of N-bit integers is
// processed in B x B blocks by a network whose input holds K-bit integers.
// For each block:
//
//   s   = max(0, bitlength(max of the block) - K)   adaptive (ABC)
//         N - K                                     truncate (LSB truncation)
//         0, K = N                                  none (the N-bit path)
//   x_K = x >> s, fed to the network as x_K / (2^K - 1) (its [0, 1] units);
//   out = round(y * (2^K - 1) * 2^s + r), clamped to [0, 2^N - 1],
//
// y being the network's output in the same units. A dark block (max below
// 2^K) keeps all its bits; only blocks that need more than K bits lose the
// low ones, where truncation drops N - K bits everywhere. The shift drops
// (2^s - 1) / 2 on average, which a network without biases cannot put
// back: the inverse shift adds r, that mean, or with dithering a uniform
// integer in [0, 2^s) (the same mean), which also fills the s low bits the
// shift leaves constant. The dither is a hash of (seed, pixel index), so
// the result does not depend on the order blocks run in.
//
// Edge blocks of an image whose sides are not multiples of B are filled by
// repeating the last row and column; their maximum is taken over the
// image's own pixels, and only those are written back.
//
// The evaluator (lowbitc --run --input-bit-depth) and the generated C++
// (<name>_run_blocks) both call runBitDepthBlocks, with the network's float
// API as the block function.
//
//===----------------------------------------------------------------------===//

#ifndef LOWBIT_RUNTIME_BITDEPTH_H
#define LOWBIT_RUNTIME_BITDEPTH_H

#include <algorithm>
#include <cmath>
#include <cstdint>

namespace lowbit::rt {

enum class BitDepthMode : int32_t { Adaptive = 0, Truncate = 1, None = 2 };

struct BitDepthConfig {
  int32_t inputBits;   // N, 1..16
  int32_t networkBits; // K, 1..N (None: N)
  int32_t block;       // B
  int32_t channels;    // C of the network's input [1, C, B, B]
  int32_t outChannels; // C' of its output [1, C', B, B]
  BitDepthMode mode;
  int32_t dither; // 0 or 1
  uint32_t seed;
};

/// Bits of v (0 for 0).
inline int32_t bitLength(uint32_t v) {
  int32_t n = 0;
  while (v) {
    ++n;
    v >>= 1;
  }
  return n;
}

/// The right shift of a block whose largest integer is `blockMax`.
inline int32_t blockShift(uint32_t blockMax, const BitDepthConfig &c) {
  switch (c.mode) {
  case BitDepthMode::Adaptive:
    return std::max(0, bitLength(blockMax) - c.networkBits);
  case BitDepthMode::Truncate:
    return c.inputBits - c.networkBits;
  case BitDepthMode::None:
    break;
  }
  return 0;
}

/// The dither of pixel `index` for a shift of `shift` bits: an integer in
/// [0, 2^shift) (0 for shift 0).
inline int32_t ditherValue(uint32_t seed, uint64_t index, int32_t shift) {
  if (shift <= 0)
    return 0;
  // splitmix64's finalizer over (seed, index).
  uint64_t z = index * 0x9E3779B97F4A7C15ull + (uint64_t(seed) << 32 | seed);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  z ^= z >> 31;
  const uint64_t span = uint64_t(1) << shift;
  return static_cast<int32_t>(z & (span - 1));
}

/// The network's input value of a shifted integer: x_K / (2^K - 1).
inline float blockInput(uint32_t shifted, const BitDepthConfig &c) {
  const int32_t k = c.mode == BitDepthMode::None ? c.inputBits : c.networkBits;
  return static_cast<float>(static_cast<double>(shifted) /
                            static_cast<double>((uint32_t(1) << k) - 1));
}

/// An output value y back to an N-bit integer after a block shift of
/// `shift`: r is the dither (ditherValue), or without dithering the dropped
/// bits' mean, (2^shift - 1) / 2 (every step is exact in double, so any
/// compiler gives the same integer).
inline uint16_t blockOutput(float y, int32_t shift, const int32_t *dither,
                            const BitDepthConfig &c) {
  const int32_t k = c.mode == BitDepthMode::None ? c.inputBits : c.networkBits;
  double v = static_cast<double>(y) *
             static_cast<double>((uint32_t(1) << k) - 1) *
             static_cast<double>(uint32_t(1) << shift);
  v += dither ? static_cast<double>(*dither)
              : (static_cast<double>(uint32_t(1) << shift) - 1.0) / 2.0;
  const double top = static_cast<double>((uint32_t(1) << c.inputBits) - 1);
  if (!(v > 0)) // also NaN
    return 0;
  if (v >= top)
    return static_cast<uint16_t>(top);
  return static_cast<uint16_t>(std::nearbyint(v));
}

/// Result codes of runBitDepthBlocks.
enum : int32_t {
  kBitDepthOk = 0,
  kBitDepthPixelTooLarge = 1, // a pixel above 2^N - 1
  kBitDepthBadConfig = 2,
  kBitDepthBlockFailed = 3, // the block function returned non-zero
};

/// Runs `runBlock(const float *in, float *out)` (the network on one block:
/// in [C, B, B], out [C', B, B], returning 0 on success) over `image`
/// [C, height, width] and writes `out` [C', height, width]. `scratch`
/// holds (C + C') * B * B floats. On a pixel above 2^N - 1 nothing is
/// run and `*badIndex` (if given) is its index.
template <class RunBlock>
int32_t runBitDepthBlocks(const uint16_t *image, int64_t height, int64_t width,
                          uint16_t *out, const BitDepthConfig &c,
                          float *scratch, RunBlock &&runBlock,
                          int64_t *badIndex = nullptr) {
  if (c.inputBits < 1 || c.inputBits > 16 || c.block < 1 || c.channels < 1 ||
      c.outChannels < 1 || height < 1 || width < 1 ||
      (c.mode != BitDepthMode::None &&
       (c.networkBits < 1 || c.networkBits > c.inputBits)))
    return kBitDepthBadConfig;
  const int64_t plane = height * width;
  const uint32_t top = (uint32_t(1) << c.inputBits) - 1;
  for (int64_t i = 0; i < c.channels * plane; ++i)
    if (image[i] > top) {
      if (badIndex)
        *badIndex = i;
      return kBitDepthPixelTooLarge;
    }
  const int64_t b = c.block, bb = b * b;
  float *in = scratch, *res = scratch + c.channels * bb;
  for (int64_t by = 0; by < height; by += b)
    for (int64_t bx = 0; bx < width; bx += b) {
      const int64_t h = std::min(b, height - by), w = std::min(b, width - bx);
      uint32_t blockMax = 0;
      for (int64_t ch = 0; ch < c.channels; ++ch)
        for (int64_t y = 0; y < h; ++y)
          for (int64_t x = 0; x < w; ++x)
            blockMax = std::max<uint32_t>(
                blockMax, image[ch * plane + (by + y) * width + bx + x]);
      const int32_t s = blockShift(blockMax, c);
      for (int64_t ch = 0; ch < c.channels; ++ch)
        for (int64_t y = 0; y < b; ++y)
          for (int64_t x = 0; x < b; ++x) {
            const int64_t sy = by + std::min(y, h - 1);
            const int64_t sx = bx + std::min(x, w - 1);
            in[ch * bb + y * b + x] =
                blockInput(uint32_t(image[ch * plane + sy * width + sx]) >> s,
                           c);
          }
      if (runBlock(static_cast<const float *>(in), res) != 0)
        return kBitDepthBlockFailed;
      for (int64_t ch = 0; ch < c.outChannels; ++ch)
        for (int64_t y = 0; y < h; ++y)
          for (int64_t x = 0; x < w; ++x) {
            const int64_t index = ch * plane + (by + y) * width + bx + x;
            const int32_t d =
                ditherValue(c.seed, static_cast<uint64_t>(index), s);
            out[index] = blockOutput(res[ch * bb + y * b + x], s,
                                     c.dither ? &d : nullptr, c);
          }
    }
  return kBitDepthOk;
}

} // namespace lowbit::rt

#endif // LOWBIT_RUNTIME_BITDEPTH_H
