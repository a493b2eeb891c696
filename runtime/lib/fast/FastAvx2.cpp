//===- FastAvx2.cpp - AVX2 and AVX-VNNI tiles of the fast kernels ----------===//
//
// Part of the lowbit project.
//
//===----------------------------------------------------------------------===//
//
// GEMM tiles of up to 4 output pixels x 16 channels (two ymm per pixel) over
// the same packed weights as every other path. With AVX-VNNI each group of
// four products is one vpdpbusd; without it the u8 activations and s8
// weights are split into their even and odd bytes, widened to 16 bits and
// multiplied with vpmaddwd (exact: |sum| <= 2 * 255 * 128), never with
// vpmaddubsw, whose 16-bit saturation would break bit-exactness.
//
// The requant epilogue follows Requant.h with AVX2's missing pieces built
// from others: the 64-bit arithmetic shift from a logical one
// (x >> s == ~(~x >>> s) for x < 0) and 64-bit min/max from compares.
//
//===----------------------------------------------------------------------===//

#include "FastImpl.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>

#define LB_AVX2 __attribute__((target("avx2")))
#if defined(__clang__) || __GNUC__ >= 11
#define LOWBIT_HAVE_AVXVNNI 1
#define LB_AVXVNNI __attribute__((target("avx2,avxvnni")))
#endif

namespace lowbit {
namespace rt {
namespace fast {
namespace {

LB_AVX2 inline __m256i scaleLanes(__m256i a, __m256i m, __m256i s,
                                  bool doubleRound, __m256i lo, __m256i hi) {
  const __m256i zero = _mm256_setzero_si256();
  const __m256i prod = _mm256_mul_epi32(a, m);
  __m256i round = _mm256_sllv_epi64(
      _mm256_set1_epi64x(1), _mm256_sub_epi64(s, _mm256_set1_epi64x(1)));
  if (doubleRound) {
    __m256i d = _mm256_and_si256(_mm256_cmpgt_epi64(s, _mm256_set1_epi64x(31)),
                                 _mm256_set1_epi64x(int64_t(1) << 30));
    const __m256i neg = _mm256_cmpgt_epi64(zero, prod);
    d = _mm256_sub_epi64(_mm256_xor_si256(d, neg), neg); // neg ? -d : d
    round = _mm256_add_epi64(round, d);
  }
  const __m256i x = _mm256_add_epi64(prod, round);
  const __m256i sign = _mm256_cmpgt_epi64(zero, x);
  __m256i r = _mm256_xor_si256(
      _mm256_srlv_epi64(_mm256_xor_si256(x, sign), s), sign);
  r = _mm256_blendv_epi8(r, lo, _mm256_cmpgt_epi64(lo, r));
  return _mm256_blendv_epi8(r, hi, _mm256_cmpgt_epi64(r, hi));
}

/// applyScale of 8 int32 lanes by per-lane (mul, shift), saturated into
/// [lo, hi], as int32 lanes.
LB_AVX2 inline __m256i scale8(__m256i v, __m256i mul, __m256i sh,
                              bool doubleRound, __m256i lo, __m256i hi) {
  const __m256i even = scaleLanes(
      v, mul, _mm256_and_si256(sh, _mm256_set1_epi64x(0xffffffff)),
      doubleRound, lo, hi);
  const __m256i odd =
      scaleLanes(_mm256_srli_epi64(v, 32), _mm256_srli_epi64(mul, 32),
                 _mm256_srli_epi64(sh, 32), doubleRound, lo, hi);
  return _mm256_blend_epi32(even, _mm256_slli_epi64(odd, 32), 0xAA);
}

/// requantize() of 8 accumulators of channels [ch, ch + 8), as int32.
template <typename Ctx>
LB_AVX2 inline __m256i requant8(__m256i acc, const Ctx &c, int64_t ch) {
  __m256i mul =
      _mm256_loadu_si256(reinterpret_cast<const __m256i *>(c.mul + ch));
  __m256i sh =
      _mm256_loadu_si256(reinterpret_cast<const __m256i *>(c.shift + ch));
  if (c.negMul) {
    const __m256i neg = _mm256_cmpgt_epi32(_mm256_setzero_si256(), acc);
    mul = _mm256_blendv_epi8(
        mul,
        _mm256_loadu_si256(reinterpret_cast<const __m256i *>(c.negMul + ch)),
        neg);
    sh = _mm256_blendv_epi8(
        sh,
        _mm256_loadu_si256(reinterpret_cast<const __m256i *>(c.negShift + ch)),
        neg);
  }
  const __m256i r = scale8(acc, mul, sh, c.doubleRound,
                           _mm256_set1_epi64x(int64_t(c.lo) - c.outZp),
                           _mm256_set1_epi64x(int64_t(c.hi) - c.outZp));
  return _mm256_add_epi32(r, _mm256_set1_epi32(c.outZp));
}

/// The low byte of each of 8 int32 lanes (values already in range).
LB_AVX2 inline __m128i lowBytes(__m256i r) {
  const __m256i pick = _mm256_setr_epi8(
      0, 4, 8, 12, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, //
      0, 4, 8, 12, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1);
  const __m256i b = _mm256_shuffle_epi8(r, pick);
  return _mm_unpacklo_epi32(_mm256_castsi256_si128(b),
                            _mm256_extracti128_si256(b, 1));
}

LB_AVX2 inline void storeBytes(uint8_t *dst, __m128i lo8, __m128i hi8,
                               int64_t valid) {
  const __m128i v = _mm_unpacklo_epi64(lo8, hi8);
  if (valid >= 16) {
    _mm_storeu_si128(reinterpret_cast<__m128i *>(dst), v);
    return;
  }
  alignas(16) uint8_t buf[16];
  _mm_store_si128(reinterpret_cast<__m128i *>(buf), v);
  std::memcpy(dst, buf, static_cast<size_t>(valid));
}

LB_AVX2 inline __m256i widen8(const uint8_t *p, bool isSigned, __m256i zp,
                               __m128i shift) {
  const __m128i x = _mm_loadl_epi64(reinterpret_cast<const __m128i *>(p));
  const __m256i v =
      isSigned ? _mm256_cvtepi8_epi32(x) : _mm256_cvtepu8_epi32(x);
  return _mm256_sll_epi32(_mm256_sub_epi32(v, zp), shift);
}

LB_AVX2 void addKernel(const uint8_t *a, const uint8_t *b, uint8_t *out,
                       int64_t count, const QAdd &d) {
  const bool dbl = d.mode == RoundingMode::DoubleRound;
  const __m256i aZp = _mm256_set1_epi32(d.aZp), bZp = _mm256_set1_epi32(d.bZp);
  const __m128i shift = _mm_cvtsi32_si128(d.inputShift);
  const __m256i aMul = _mm256_set1_epi32(d.aM.multiplier),
                aSh = _mm256_set1_epi32(d.aM.shift),
                bMul = _mm256_set1_epi32(d.bM.multiplier),
                bSh = _mm256_set1_epi32(d.bM.shift),
                oMul = _mm256_set1_epi32(d.outM.multiplier),
                oSh = _mm256_set1_epi32(d.outM.shift);
  const __m256i wideLo = _mm256_set1_epi64x(INT32_MIN),
                wideHi = _mm256_set1_epi64x(INT32_MAX);
  const __m256i lo = _mm256_set1_epi64x(int64_t(d.lo) - d.outZp),
                hi = _mm256_set1_epi64x(int64_t(d.hi) - d.outZp);
  const __m256i outZp = _mm256_set1_epi32(d.outZp);
  int64_t i = 0;
  for (; i + 8 <= count; i += 8) {
    const __m256i av =
        scale8(widen8(a + i, d.aSigned, aZp, shift), aMul, aSh, dbl, wideLo,
               wideHi);
    const __m256i bv =
        scale8(widen8(b + i, d.bSigned, bZp, shift), bMul, bSh, dbl, wideLo,
               wideHi);
    const __m256i r = _mm256_add_epi32(
        scale8(_mm256_add_epi32(av, bv), oMul, oSh, dbl, lo, hi), outZp);
    _mm_storel_epi64(reinterpret_cast<__m128i *>(out + i), lowBytes(r));
  }
  for (; i < count; ++i)
    out[i] = static_cast<uint8_t>(
        addOne(loadByte(a + i, d.aSigned), loadByte(b + i, d.bSigned), d));
}

LB_AVX2 void quantizeKernel(const float *in, uint8_t *out, int64_t count,
                            const QuantizeArgs &q) {
  const __m256 scale = _mm256_set1_ps(q.scale);
  const __m256 lo = _mm256_set1_ps(static_cast<float>(q.qmin - q.zp));
  const __m256 hi = _mm256_set1_ps(static_cast<float>(q.qmax - q.zp));
  const __m256i zp = _mm256_set1_epi32(q.zp);
  const __m256i nanValue = _mm256_set1_epi32(
      static_cast<int32_t>(saturate(q.zp, q.qmin, q.qmax)));
  int64_t i = 0;
  for (; i + 8 <= count; i += 8) {
    const __m256 x = _mm256_loadu_ps(in + i);
    // As the AVX-512 kernel: max returns its second operand for a NaN.
    const __m256 r = _mm256_round_ps(_mm256_div_ps(x, scale),
                                     _MM_FROUND_TO_NEAREST_INT |
                                         _MM_FROUND_NO_EXC);
    const __m256 c = _mm256_min_ps(_mm256_max_ps(r, lo), hi);
    __m256i v = _mm256_add_epi32(_mm256_cvtps_epi32(c), zp);
    v = _mm256_blendv_epi8(
        v, nanValue, _mm256_castps_si256(_mm256_cmp_ps(x, x, _CMP_UNORD_Q)));
    _mm_storel_epi64(reinterpret_cast<__m128i *>(out + i), lowBytes(v));
  }
  for (; i < count; ++i)
    out[i] = static_cast<uint8_t>(
        quantizeValue(in[i], q.scale, q.zp, q.qmin, q.qmax));
}

/// acc += the four products of a (u8 x 4 per lane) and w (s8 x 4 per lane)
/// with vpmaddwd on the even and the odd bytes.
LB_AVX2 inline __m256i dotWide(__m256i acc, __m256i aEven, __m256i aOdd,
                               __m256i wEven, __m256i wOdd) {
  return _mm256_add_epi32(
      acc, _mm256_add_epi32(_mm256_madd_epi16(aEven, wEven),
                            _mm256_madd_epi16(aOdd, wOdd)));
}

/// Requantizes and stores a tile's sums. The tiles pass them through a
/// local array: an indexed access to their accumulator array would keep
/// the accumulators in memory in the loop.
LB_AVX2 void epilogue(const GemmCtx &c, const GemmTile &t, int mr,
                      const int32_t (*sums)[kGemmBlockOc]) {
  const int64_t ch = t.ob * kGemmBlockOc;
  for (int m = 0; m < mr; ++m) {
    const auto *row = reinterpret_cast<const __m256i *>(sums[m]);
    storeBytes(t.out + m * c.oc,
               lowBytes(requant8(_mm256_load_si256(row), c, ch)),
               lowBytes(requant8(_mm256_load_si256(row + 1), c, ch + 8)),
               t.lastValid);
  }
}

/// The 64 weights of one group of a block as two ymm (channels 0-7 and
/// 8-15): plain loads, or 32 bytes of 4-bit weights whose low nibbles are
/// the first ymm and high nibbles the second, sign-extended by a table.
template <bool W4>
LB_AVX2 inline void loadWeights(const int8_t *p, __m256i &w0, __m256i &w1) {
  if (!W4) {
    w0 = _mm256_loadu_si256(reinterpret_cast<const __m256i *>(p));
    w1 = _mm256_loadu_si256(reinterpret_cast<const __m256i *>(p + 32));
    return;
  }
  const __m256i signTable = _mm256_broadcastsi128_si256(
      _mm_setr_epi8(0, 1, 2, 3, 4, 5, 6, 7, -8, -7, -6, -5, -4, -3, -2, -1));
  const __m256i x = _mm256_loadu_si256(reinterpret_cast<const __m256i *>(p));
  const __m256i low = _mm256_set1_epi8(0x0f);
  w0 = _mm256_shuffle_epi8(signTable, _mm256_and_si256(x, low));
  w1 = _mm256_shuffle_epi8(signTable,
                           _mm256_and_si256(_mm256_srli_epi16(x, 4), low));
}

template <int MR, bool W4>
LB_AVX2 void gemmTileWide(const GemmCtx &c, const GemmTile &t) {
  constexpr int64_t groupBytes = kGemmBlockOc * kGemmBlockK / (W4 ? 2 : 1);
  __m256i acc[MR][2];
  const int32_t *bias = c.bias + t.ob * kGemmBlockOc;
#pragma GCC unroll 4
  for (int m = 0; m < MR; ++m) {
    acc[m][0] = _mm256_loadu_si256(reinterpret_cast<const __m256i *>(bias));
    acc[m][1] =
        _mm256_loadu_si256(reinterpret_cast<const __m256i *>(bias + 8));
  }
  const int8_t *w = c.w + t.ob * c.kGroups * groupBytes;
  const __m256i lowByte = _mm256_set1_epi16(0xff);
  for (int64_t tap = 0; tap < c.taps; ++tap) {
    const uint8_t *r[MR];
#pragma GCC unroll 4
    for (int m = 0; m < MR; ++m)
      r[m] = t.rows[m * c.taps + tap];
    for (int64_t g = 0; g < c.groups; ++g, w += groupBytes) {
      __m256i w0, w1;
      loadWeights<W4>(w, w0, w1);
      const __m256i w0e = _mm256_srai_epi16(_mm256_slli_epi16(w0, 8), 8);
      const __m256i w0o = _mm256_srai_epi16(w0, 8);
      const __m256i w1e = _mm256_srai_epi16(_mm256_slli_epi16(w1, 8), 8);
      const __m256i w1o = _mm256_srai_epi16(w1, 8);
#pragma GCC unroll 4
      for (int m = 0; m < MR; ++m) {
        const uint32_t word = load32(r[m] + 4 * g) ^ c.xorMask;
        const __m256i a = _mm256_set1_epi32(static_cast<int>(word));
        const __m256i ae = _mm256_and_si256(a, lowByte);
        const __m256i ao = _mm256_srli_epi16(a, 8);
        acc[m][0] = dotWide(acc[m][0], ae, ao, w0e, w0o);
        acc[m][1] = dotWide(acc[m][1], ae, ao, w1e, w1o);
      }
    }
  }
  alignas(32) int32_t sums[MR][kGemmBlockOc];
#pragma GCC unroll 4
  for (int m = 0; m < MR; ++m) {
    _mm256_store_si256(reinterpret_cast<__m256i *>(sums[m]), acc[m][0]);
    _mm256_store_si256(reinterpret_cast<__m256i *>(sums[m] + 8), acc[m][1]);
  }
  epilogue(c, t, MR, sums);
}

#ifdef LOWBIT_HAVE_AVXVNNI
template <int MR, bool W4>
LB_AVXVNNI void gemmTileVnni(const GemmCtx &c, const GemmTile &t) {
  constexpr int64_t groupBytes = kGemmBlockOc * kGemmBlockK / (W4 ? 2 : 1);
  __m256i acc[MR][2];
  const int32_t *bias = c.bias + t.ob * kGemmBlockOc;
#pragma GCC unroll 4
  for (int m = 0; m < MR; ++m) {
    acc[m][0] = _mm256_loadu_si256(reinterpret_cast<const __m256i *>(bias));
    acc[m][1] =
        _mm256_loadu_si256(reinterpret_cast<const __m256i *>(bias + 8));
  }
  const int8_t *w = c.w + t.ob * c.kGroups * groupBytes;
  for (int64_t tap = 0; tap < c.taps; ++tap) {
    const uint8_t *r[MR];
#pragma GCC unroll 4
    for (int m = 0; m < MR; ++m)
      r[m] = t.rows[m * c.taps + tap];
    for (int64_t g = 0; g < c.groups; ++g, w += groupBytes) {
      __m256i w0, w1;
      loadWeights<W4>(w, w0, w1);
#pragma GCC unroll 4
      for (int m = 0; m < MR; ++m) {
        const uint32_t word = load32(r[m] + 4 * g) ^ c.xorMask;
        const __m256i a = _mm256_set1_epi32(static_cast<int>(word));
        acc[m][0] = _mm256_dpbusd_avx_epi32(acc[m][0], a, w0);
        acc[m][1] = _mm256_dpbusd_avx_epi32(acc[m][1], a, w1);
      }
    }
  }
  alignas(32) int32_t sums[MR][kGemmBlockOc];
#pragma GCC unroll 4
  for (int m = 0; m < MR; ++m) {
    _mm256_store_si256(reinterpret_cast<__m256i *>(sums[m]), acc[m][0]);
    _mm256_store_si256(reinterpret_cast<__m256i *>(sums[m] + 8), acc[m][1]);
  }
  epilogue(c, t, MR, sums);
}
#endif

/// Depthwise: blocks of 8 channels in ymm; the last (c % 8) channels run
/// the scalar loop.
template <bool Signed>
LB_AVX2 inline __m256i widenDw(__m128i xb) {
  return Signed ? _mm256_cvtepi8_epi32(xb) : _mm256_cvtepu8_epi32(xb);
}

template <bool Signed>
LB_AVX2 void depthwiseImpl(const DepthwiseCtx &c, const DepthwisePixel &p,
                           int64_t channels) {
  const __m256i zp = _mm256_set1_epi32(c.inZp);
  int64_t c0 = 0;
  for (; c0 + 32 <= channels; c0 += 32) {
    __m256i acc[4];
#pragma GCC unroll 4
    for (int v = 0; v < 4; ++v)
      acc[v] = _mm256_loadu_si256(
          reinterpret_cast<const __m256i *>(c.bias + c0 + 8 * v));
    for (int64_t ky = p.ky0; ky < p.ky1; ++ky)
      for (int64_t kx = p.kx0; kx < p.kx1; ++kx) {
        const uint8_t *in = p.tap(ky, kx) + c0;
        const int32_t *w = c.w + (ky * p.kw + kx) * c.cPadded + c0;
#pragma GCC unroll 4
        for (int v = 0; v < 4; ++v) {
          const __m128i xb = _mm_loadl_epi64(
              reinterpret_cast<const __m128i *>(in + 8 * v));
          const __m256i x = _mm256_sub_epi32(widenDw<Signed>(xb), zp);
          const __m256i wv = _mm256_loadu_si256(
              reinterpret_cast<const __m256i *>(w + 8 * v));
          acc[v] = _mm256_add_epi32(acc[v], _mm256_madd_epi16(x, wv));
        }
      }
#pragma GCC unroll 4
    for (int v = 0; v < 4; v += 2)
      _mm_storeu_si128(
          reinterpret_cast<__m128i *>(p.out + c0 + 8 * v),
          _mm_unpacklo_epi64(lowBytes(requant8(acc[v], c, c0 + 8 * v)),
                             lowBytes(requant8(acc[v + 1], c, c0 + 8 * v + 8))));
  }
  for (; c0 + 8 <= channels; c0 += 8) {
    __m256i acc = _mm256_loadu_si256(
        reinterpret_cast<const __m256i *>(c.bias + c0));
    for (int64_t ky = p.ky0; ky < p.ky1; ++ky)
      for (int64_t kx = p.kx0; kx < p.kx1; ++kx) {
        const __m128i xb = _mm_loadl_epi64(
            reinterpret_cast<const __m128i *>(p.tap(ky, kx) + c0));
        const __m256i x = _mm256_sub_epi32(widenDw<Signed>(xb), zp);
        const __m256i wv = _mm256_loadu_si256(reinterpret_cast<const __m256i *>(
            c.w + (ky * p.kw + kx) * c.cPadded + c0));
        acc = _mm256_add_epi32(acc, _mm256_madd_epi16(x, wv));
      }
    _mm_storel_epi64(reinterpret_cast<__m128i *>(p.out + c0),
                     lowBytes(requant8(acc, c, c0)));
  }
  for (; c0 < channels; ++c0) {
    uint32_t acc = static_cast<uint32_t>(c.bias[c0]);
    for (int64_t ky = p.ky0; ky < p.ky1; ++ky)
      for (int64_t kx = p.kx0; kx < p.kx1; ++kx) {
        const uint8_t v = p.tap(ky, kx)[c0];
        const int32_t x = c.inputSigned
                              ? static_cast<int32_t>(static_cast<int8_t>(v))
                              : static_cast<int32_t>(v);
        acc += static_cast<uint32_t>(x - c.inZp) *
               static_cast<uint32_t>(static_cast<int16_t>(
                   c.w[(ky * p.kw + kx) * c.cPadded + c0]));
      }
    p.out[c0] = static_cast<uint8_t>(
        requantOne(static_cast<int32_t>(acc), c0, c.mul, c.shift, c.negMul,
                   c.negShift, c.outZp, c.lo, c.hi, c.doubleRound));
  }
}

void depthwisePixel(const DepthwiseCtx &c, const DepthwisePixel &p,
                    int64_t channels) {
  if (c.inputSigned)
    depthwiseImpl<true>(c, p, channels);
  else
    depthwiseImpl<false>(c, p, channels);
}

/// A kernel table of tiles 1..4 pixels x one block of 16 channels.
template <void (*Tile1)(const GemmCtx &, const GemmTile &),
          void (*Tile2)(const GemmCtx &, const GemmTile &),
          void (*Tile3)(const GemmCtx &, const GemmTile &),
          void (*Tile4)(const GemmCtx &, const GemmTile &)>
constexpr GemmKernel fourRows() {
  return {{4, 4, 4, 4}, 1, {{Tile1}, {Tile2}, {Tile3}, {Tile4}}};
}

} // namespace

const GemmKernel *avx2Gemm(bool vnni, bool w4) {
  static const GemmKernel wide[2] = {
      fourRows<&gemmTileWide<1, false>, &gemmTileWide<2, false>,
               &gemmTileWide<3, false>, &gemmTileWide<4, false>>(),
      fourRows<&gemmTileWide<1, true>, &gemmTileWide<2, true>,
               &gemmTileWide<3, true>, &gemmTileWide<4, true>>()};
#ifdef LOWBIT_HAVE_AVXVNNI
  static const GemmKernel dot[2] = {
      fourRows<&gemmTileVnni<1, false>, &gemmTileVnni<2, false>,
               &gemmTileVnni<3, false>, &gemmTileVnni<4, false>>(),
      fourRows<&gemmTileVnni<1, true>, &gemmTileVnni<2, true>,
               &gemmTileVnni<3, true>, &gemmTileVnni<4, true>>()};
  return vnni ? &dot[w4] : &wide[w4];
#else
  return vnni ? nullptr : &wide[w4];
#endif
}

DepthwiseFn avx2Depthwise() { return &depthwisePixel; }
AddFn avx2Add() { return &addKernel; }
QuantizeFn avx2Quantize() { return &quantizeKernel; }

} // namespace fast
} // namespace rt
} // namespace lowbit

#else // not x86-64 with GCC or Clang

namespace lowbit {
namespace rt {
namespace fast {
const GemmKernel *avx2Gemm(bool, bool) { return nullptr; }
DepthwiseFn avx2Depthwise() { return nullptr; }
AddFn avx2Add() { return nullptr; }
QuantizeFn avx2Quantize() { return nullptr; }
} // namespace fast
} // namespace rt
} // namespace lowbit

#endif
