//===- FastPortable.cpp - Portable C++ tiles of the fast kernels ----------===//
//
// Part of the lowbit project.
//
//===----------------------------------------------------------------------===//
//
// The path every CPU runs: the packed layouts of Fast.h read with plain C++
// (unsigned 32-bit lanes, which wrap like the vector instructions do), and
// the scalar requant of Requant.h as the epilogue.
//
//===----------------------------------------------------------------------===//

#include "FastImpl.h"

#include <algorithm>

namespace lowbit {
namespace rt {
namespace fast {
namespace {

/// One pixel x one 16-channel block.
void gemmTile1(const GemmCtx &c, const uint8_t *const *rows, uint8_t *out,
               int64_t ob, int64_t valid) {
  uint32_t acc[kGemmBlockOc];
  for (int64_t j = 0; j < kGemmBlockOc; ++j)
    acc[j] = static_cast<uint32_t>(c.bias[ob * kGemmBlockOc + j]);
  // A group of a block: 64 weights, or 32 bytes of two 4-bit weights each.
  const int64_t groupBytes = c.nibbles ? kGemmBlockOc * kGemmBlockK / 2
                                       : kGemmBlockOc * kGemmBlockK;
  const int8_t *w = c.w + ob * c.kGroups * groupBytes;
  const uint32_t xorMask = c.xorMask;
  for (int64_t t = 0; t < c.taps; ++t) {
    const uint8_t *row = rows[t];
    for (int64_t g = 0; g < c.groups; ++g, w += groupBytes) {
      const uint32_t word = load32(row + 4 * g) ^ xorMask;
      uint32_t a[4];
      for (int q = 0; q < 4; ++q)
        a[q] = (word >> (8 * q)) & 0xffu;
      for (int64_t j = 0; j < kGemmBlockOc; ++j)
        for (int q = 0; q < 4; ++q) {
          const int64_t e = j * kGemmBlockK + q;
          int32_t wv;
          if (c.nibbles) { // element e: low nibble of byte e, or high of e-32
            const uint8_t byte = static_cast<uint8_t>(w[e % 32]);
            const int32_t nib = e < 32 ? byte & 0x0f : byte >> 4;
            wv = nib >= 8 ? nib - 16 : nib;
          } else {
            wv = w[e];
          }
          acc[j] += a[q] * static_cast<uint32_t>(wv);
        }
    }
  }
  for (int64_t j = 0; j < valid; ++j) {
    const int64_t ch = ob * kGemmBlockOc + j;
    out[j] = static_cast<uint8_t>(
        requantOne(static_cast<int32_t>(acc[j]), ch, c.mul, c.shift, c.negMul,
                   c.negShift, c.outZp, c.lo, c.hi, c.doubleRound));
  }
}

void gemmTile(const GemmCtx &c, const GemmTile &t) {
  gemmTile1(c, t.rows, t.out, t.ob, t.lastValid);
}

void depthwisePixel(const DepthwiseCtx &c, const DepthwisePixel &p,
                    int64_t channels) {
  constexpr int64_t kChunk = 64;
  for (int64_t c0 = 0; c0 < channels; c0 += kChunk) {
    const int64_t len = std::min<int64_t>(kChunk, channels - c0);
    uint32_t acc[kChunk];
    for (int64_t j = 0; j < len; ++j)
      acc[j] = static_cast<uint32_t>(c.bias[c0 + j]);
    for (int64_t ky = p.ky0; ky < p.ky1; ++ky)
      for (int64_t kx = p.kx0; kx < p.kx1; ++kx) {
        const uint8_t *in = p.tap(ky, kx) + c0;
        const int32_t *w = c.w + (ky * p.kw + kx) * c.cPadded + c0;
        for (int64_t j = 0; j < len; ++j) {
          const int32_t x = c.inputSigned
                                ? static_cast<int32_t>(
                                      static_cast<int8_t>(in[j]))
                                : static_cast<int32_t>(in[j]);
          acc[j] += static_cast<uint32_t>(x - c.inZp) *
                    static_cast<uint32_t>(static_cast<int16_t>(w[j]));
        }
      }
    for (int64_t j = 0; j < len; ++j)
      p.out[c0 + j] = static_cast<uint8_t>(
          requantOne(static_cast<int32_t>(acc[j]), c0 + j, c.mul, c.shift,
                     c.negMul, c.negShift, c.outZp, c.lo, c.hi,
                     c.doubleRound));
  }
}

} // namespace

const GemmKernel *portableGemm() {
  // One pixel and one block per tile: the loops around it do the rest.
  static const GemmKernel k = {{1, 1, 1, 1}, 1, {{&gemmTile}}};
  return &k;
}

DepthwiseFn portableDepthwise() { return &depthwisePixel; }

} // namespace fast
} // namespace rt
} // namespace lowbit
