//===- FastAvx512.cpp - AVX-512 VNNI tiles of the fast kernels -------------===//
//
// Part of the lowbit project.
//
//===----------------------------------------------------------------------===//
//
// GEMM tiles of up to 8 output pixels x 48 channels or 6 x 64 (at most 24
// zmm accumulators) over the packed [oc/16][k/4][16][4] weights with
// vpdpbusd (u8 x s8, four products per int32 lane, wrapping like the
// reference's int32 sum), and the requant as the epilogue: 32x32->64-bit
// products on even and odd lanes, the rounding term, an arithmetic shift,
// saturation and the zero point, as Requant.h's applyScale/requantize
// compute them. Also depthwise (a 3x3 layer kernel and a per-pixel one),
// add, max pool and quantization kernels.
//
// Functions carry target attributes instead of the file being compiled with
// -mavx512*: the library builds with plain flags and runs on any x86-64,
// and Fast.cpp calls in here only when the CPU has these instructions.
//
//===----------------------------------------------------------------------===//

#include "FastImpl.h"

#include <algorithm>
#include <utility>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#if defined(__GNUC__) && !defined(__clang__)
// GCC 12's avx512fintrin.h builds results from _mm512_undefined_*(), which
// -Wuninitialized reports inside the header; nothing here reads them.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <immintrin.h>

#define LB_AVX512                                                              \
  __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx512vnni")))

namespace lowbit {
namespace rt {
namespace fast {
namespace {

/// applyScale on the low 32 bits of each 64-bit lane (a: value, m:
/// multiplier, s: shift), saturated into [lo, hi] (64-bit lanes).
LB_AVX512 inline __m512i scaleLanes(__m512i a, __m512i m, __m512i s,
                                    bool doubleRound, __m512i lo, __m512i hi) {
  const __m512i prod = _mm512_mul_epi32(a, m);
  __m512i round = _mm512_sllv_epi64(
      _mm512_set1_epi64(1), _mm512_sub_epi64(s, _mm512_set1_epi64(1)));
  if (doubleRound) {
    const __mmask8 big = _mm512_cmpgt_epi64_mask(s, _mm512_set1_epi64(31));
    const __mmask8 neg =
        _mm512_cmplt_epi64_mask(prod, _mm512_setzero_si512());
    const __m512i d = _mm512_set1_epi64(int64_t(1) << 30);
    round = _mm512_mask_add_epi64(round, big & ~neg, round, d);
    round = _mm512_mask_sub_epi64(round, big & neg, round, d);
  }
  const __m512i r = _mm512_srav_epi64(_mm512_add_epi64(prod, round), s);
  return _mm512_min_epi64(_mm512_max_epi64(r, lo), hi);
}

/// Stores the low bytes of 16 int32 lanes (values already in range) to the
/// first `m` bytes at dst. The narrowing stays a register instruction (the
/// empty asm keeps the compiler from folding it into vpmovdb to memory,
/// which measured several times slower here, masked or not); a full mask
/// is a plain store.
LB_AVX512 inline void storeLowBytes(uint8_t *dst, __m512i r, __mmask16 m) {
  __m128i q = _mm512_cvtepi32_epi8(r);
  __asm__("" : "+v"(q));
  if (m == 0xffff)
    _mm_storeu_si128(reinterpret_cast<__m128i *>(dst), q);
  else
    _mm_mask_storeu_epi8(dst, m, q);
}

/// applyScale of 16 int32 lanes by per-lane (mul, shift), saturated into
/// [lo, hi], as int32 lanes.
LB_AVX512 inline __m512i scale16(__m512i v, __m512i mul, __m512i sh,
                                 bool doubleRound, __m512i lo, __m512i hi) {
  const __m512i even = scaleLanes(
      v, mul, _mm512_and_si512(sh, _mm512_set1_epi64(0xffffffff)),
      doubleRound, lo, hi);
  const __m512i odd =
      scaleLanes(_mm512_srli_epi64(v, 32), _mm512_srli_epi64(mul, 32),
                 _mm512_srli_epi64(sh, 32), doubleRound, lo, hi);
  return _mm512_mask_blend_epi32(0xAAAA, even, _mm512_slli_epi64(odd, 32));
}

/// requantize() of 16 accumulators of channels [ch, ch + 16), as int32.
template <typename Ctx>
LB_AVX512 inline __m512i requant16(__m512i acc, const Ctx &c, int64_t ch) {
  __m512i mul = _mm512_loadu_si512(c.mul + ch);
  __m512i sh = _mm512_loadu_si512(c.shift + ch);
  if (c.negMul) {
    const __mmask16 neg =
        _mm512_cmplt_epi32_mask(acc, _mm512_setzero_si512());
    mul = _mm512_mask_loadu_epi32(mul, neg, c.negMul + ch);
    sh = _mm512_mask_loadu_epi32(sh, neg, c.negShift + ch);
  }
  const __m512i r = scale16(acc, mul, sh, c.doubleRound,
                            _mm512_set1_epi64(int64_t(c.lo) - c.outZp),
                            _mm512_set1_epi64(int64_t(c.hi) - c.outZp));
  return _mm512_add_epi32(r, _mm512_set1_epi32(c.outZp));
}

/// The multipliers of one block of 16 channels split into even and odd
/// 64-bit lanes, with the rounding terms 1 << (shift - 1), for the short
/// requant below.
struct ScaleHalves {
  __m512i mulE, mulO, shE, shO, rndE, rndO;
};
LB_AVX512 inline ScaleHalves splitScale(__m512i mul, __m512i sh) {
  const __m512i one = _mm512_set1_epi64(1);
  ScaleHalves h;
  h.mulE = mul;
  h.mulO = _mm512_srli_epi64(mul, 32);
  h.shE = _mm512_and_si512(sh, _mm512_set1_epi64(0xffffffff));
  h.shO = _mm512_srli_epi64(sh, 32);
  h.rndE = _mm512_sllv_epi64(one, _mm512_sub_epi64(h.shE, one));
  h.rndO = _mm512_sllv_epi64(one, _mm512_sub_epi64(h.shO, one));
  return h;
}

/// True when the output range minus the zero point is an int32 range (it
/// always is for 8-bit outputs).
inline bool rangeFitsInt32(const RequantFields &c) {
  const int64_t lo = int64_t(c.lo) - c.outZp, hi = int64_t(c.hi) - c.outZp;
  return lo >= INT32_MIN && hi <= INT32_MAX && lo <= hi;
}

/// True when the short requant applies to a block: single rounding and
/// every shift >= 31, so that each (acc * mul + round) >> shift lies in
/// int32 (|acc * mul| < 2^62) and saturates in 32-bit lanes.
LB_AVX512 inline bool shortRequant(bool doubleRound, __m512i sh) {
  return !doubleRound &&
         _mm512_cmplt_epi32_mask(sh, _mm512_set1_epi32(31)) == 0;
}

/// requantize() of 16 accumulators whose block passed shortRequant: the
/// same value as requant16, with the per-block work (splitting the
/// multipliers, the rounding terms) done once by splitScale. Dual: the
/// accumulators below zero take `neg`. lo, hi: the output range minus the
/// zero point, in 32-bit lanes.
template <bool Dual>
LB_AVX512 inline __m512i requantShort(__m512i acc, const ScaleHalves &pos,
                                      const ScaleHalves &neg, __m512i lo,
                                      __m512i hi, __m512i zp) {
  const __m512i accO = _mm512_srli_epi64(acc, 32);
  __m512i mulE = pos.mulE, mulO = pos.mulO, shE = pos.shE, shO = pos.shO,
          rndE = pos.rndE, rndO = pos.rndO;
  if (Dual) {
    // The sign of each 64-bit lane's low (even) and high (odd) int32.
    const __mmask8 nE = _mm512_movepi64_mask(_mm512_slli_epi64(acc, 32));
    const __mmask8 nO = _mm512_movepi64_mask(acc);
    mulE = _mm512_mask_mov_epi64(mulE, nE, neg.mulE);
    shE = _mm512_mask_mov_epi64(shE, nE, neg.shE);
    rndE = _mm512_mask_mov_epi64(rndE, nE, neg.rndE);
    mulO = _mm512_mask_mov_epi64(mulO, nO, neg.mulO);
    shO = _mm512_mask_mov_epi64(shO, nO, neg.shO);
    rndO = _mm512_mask_mov_epi64(rndO, nO, neg.rndO);
  }
  const __m512i e = _mm512_srav_epi64(
      _mm512_add_epi64(_mm512_mul_epi32(acc, mulE), rndE), shE);
  const __m512i o = _mm512_srav_epi64(
      _mm512_add_epi64(_mm512_mul_epi32(accO, mulO), rndO), shO);
  const __m512i r =
      _mm512_mask_blend_epi32(0xAAAA, e, _mm512_slli_epi64(o, 32));
  return _mm512_add_epi32(_mm512_min_epi32(_mm512_max_epi32(r, lo), hi), zp);
}

/// 16 stored 8-bit values as int32 lanes minus a zero point, shifted left.
LB_AVX512 inline __m512i widen16(__m128i x, bool isSigned, __m512i zp,
                                 __m128i shift) {
  const __m512i v =
      isSigned ? _mm512_cvtepi8_epi32(x) : _mm512_cvtepu8_epi32(x);
  return _mm512_sll_epi32(_mm512_sub_epi32(v, zp), shift);
}

LB_AVX512 void addKernel(const uint8_t *a, const uint8_t *b, uint8_t *out,
                         int64_t count, const QAdd &d) {
  const bool dbl = d.mode == RoundingMode::DoubleRound;
  const __m512i aZp = _mm512_set1_epi32(d.aZp), bZp = _mm512_set1_epi32(d.bZp);
  const __m128i shift = _mm_cvtsi32_si128(d.inputShift);
  const __m512i aMul = _mm512_set1_epi32(d.aM.multiplier),
                aSh = _mm512_set1_epi32(d.aM.shift),
                bMul = _mm512_set1_epi32(d.bM.multiplier),
                bSh = _mm512_set1_epi32(d.bM.shift),
                oMul = _mm512_set1_epi32(d.outM.multiplier),
                oSh = _mm512_set1_epi32(d.outM.shift);
  const __m512i wideLo = _mm512_set1_epi64(INT32_MIN),
                wideHi = _mm512_set1_epi64(INT32_MAX);
  const __m512i lo = _mm512_set1_epi64(int64_t(d.lo) - d.outZp),
                hi = _mm512_set1_epi64(int64_t(d.hi) - d.outZp);
  const __m512i outZp = _mm512_set1_epi32(d.outZp);
  for (int64_t i = 0; i < count; i += 16) {
    const __mmask16 m = count - i >= 16
                            ? static_cast<__mmask16>(0xffff)
                            : static_cast<__mmask16>((1u << (count - i)) - 1);
    const __m512i av =
        scale16(widen16(_mm_maskz_loadu_epi8(m, a + i), d.aSigned, aZp, shift),
                aMul, aSh, dbl, wideLo, wideHi);
    const __m512i bv =
        scale16(widen16(_mm_maskz_loadu_epi8(m, b + i), d.bSigned, bZp, shift),
                bMul, bSh, dbl, wideLo, wideHi);
    const __m512i r = _mm512_add_epi32(
        scale16(_mm512_add_epi32(av, bv), oMul, oSh, dbl, lo, hi), outZp);
    storeLowBytes(out + i, r, m);
  }
}

/// The 64 weights of one group of a block: a plain load, or 32 bytes of
/// 4-bit weights widened (low nibbles are elements 0-31, high ones 32-63)
/// and sign-extended through a table.
template <bool W4>
LB_AVX512 inline __m512i loadWeights(const int8_t *p, __m512i signTable) {
  if (!W4)
    return _mm512_loadu_si512(p);
  const __m256i x = _mm256_loadu_si256(reinterpret_cast<const __m256i *>(p));
  const __m512i both =
      _mm512_inserti64x4(_mm512_castsi256_si512(x), _mm256_srli_epi16(x, 4), 1);
  return _mm512_shuffle_epi8(signTable,
                             _mm512_and_si512(both, _mm512_set1_epi8(0x0f)));
}

template <int MR, int NV, bool W4>
LB_AVX512 void gemmTile(const GemmCtx &c, const GemmTile &t) {
  constexpr int64_t groupBytes = kGemmBlockOc * kGemmBlockK / (W4 ? 2 : 1);
  const __m512i signTable = _mm512_broadcast_i32x4(
      _mm_setr_epi8(0, 1, 2, 3, 4, 5, 6, 7, -8, -7, -6, -5, -4, -3, -2, -1));
  __m512i acc[MR][NV];
  const int8_t *w[NV];
#pragma GCC unroll 4
  for (int v = 0; v < NV; ++v) {
    const __m512i b = _mm512_loadu_si512(c.bias + (t.ob + v) * kGemmBlockOc);
#pragma GCC unroll 8
    for (int m = 0; m < MR; ++m)
      acc[m][v] = b;
    w[v] = c.w + (t.ob + v) * c.kGroups * groupBytes;
  }
  const __m512i xorMask = _mm512_set1_epi32(static_cast<int>(c.xorMask));
  for (int64_t tap = 0; tap < c.taps; ++tap) {
    const uint8_t *r[MR];
#pragma GCC unroll 8
    for (int m = 0; m < MR; ++m)
      r[m] = t.rows[m * c.taps + tap];
    for (int64_t g = 0; g < c.groups; ++g) {
      __m512i wv[NV];
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) {
        wv[v] = loadWeights<W4>(w[v], signTable);
        w[v] += groupBytes;
      }
#pragma GCC unroll 8
      for (int m = 0; m < MR; ++m) {
        // Broadcast from memory, then flip the sign bits in the vector.
        const __m512i a = _mm512_xor_si512(
            _mm512_set1_epi32(static_cast<int>(load32(r[m] + 4 * g))), xorMask);
#pragma GCC unroll 4
        for (int v = 0; v < NV; ++v)
          acc[m][v] = _mm512_dpbusd_epi32(acc[m][v], a, wv[v]);
      }
    }
  }
  const bool rangeFits = rangeFitsInt32(c);
  const __m512i lo = _mm512_set1_epi32(c.lo - (rangeFits ? c.outZp : 0));
  const __m512i hi = _mm512_set1_epi32(c.hi - (rangeFits ? c.outZp : 0));
  const __m512i zp = _mm512_set1_epi32(c.outZp);
  // The common case, a single multiplier per channel whose short requant
  // applies to every block: unrolled, from the registers.
  bool allShort = rangeFits && !c.negMul;
#pragma GCC unroll 4
  for (int v = 0; v < NV; ++v)
    allShort =
        allShort &&
        shortRequant(c.doubleRound,
                     _mm512_loadu_si512(c.shift + (t.ob + v) * kGemmBlockOc));
  if (allShort) {
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) {
      const int64_t ch = (t.ob + v) * kGemmBlockOc;
      const __mmask16 mask =
          v == NV - 1 && t.lastValid < kGemmBlockOc
              ? static_cast<__mmask16>((1u << t.lastValid) - 1)
              : static_cast<__mmask16>(0xffff);
      const ScaleHalves pos = splitScale(_mm512_loadu_si512(c.mul + ch),
                                         _mm512_loadu_si512(c.shift + ch));
#pragma GCC unroll 8
      for (int m = 0; m < MR; ++m)
        storeLowBytes(t.out + m * c.oc + v * kGemmBlockOc,
                      requantShort<false>(acc[m][v], pos, pos, lo, hi, zp),
                      mask);
    }
    return;
  }
  // The other epilogues are too long to unroll MR x NV times; reading the
  // accumulators from a local array keeps them in registers above (an
  // indexed access would put the whole array in memory).
  alignas(64) int32_t sums[MR][NV][kGemmBlockOc];
#pragma GCC unroll 8
  for (int m = 0; m < MR; ++m)
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v)
      _mm512_store_si512(sums[m][v], acc[m][v]);
  for (int v = 0; v < NV; ++v) {
    const int64_t ch = (t.ob + v) * kGemmBlockOc;
    const __mmask16 mask = v == NV - 1 && t.lastValid < kGemmBlockOc
                               ? static_cast<__mmask16>((1u << t.lastValid) - 1)
                               : static_cast<__mmask16>(0xffff);
    uint8_t *out = t.out + v * kGemmBlockOc;
    const __m512i sh = _mm512_loadu_si512(c.shift + ch);
    const __m512i negSh = c.negMul ? _mm512_loadu_si512(c.negShift + ch) : sh;
    if (!rangeFits || !shortRequant(c.doubleRound, sh) ||
        !shortRequant(c.doubleRound, negSh)) {
      for (int m = 0; m < MR; ++m)
        storeLowBytes(out + m * c.oc,
                      requant16(_mm512_load_si512(sums[m][v]), c, ch), mask);
      continue;
    }
    const ScaleHalves pos = splitScale(_mm512_loadu_si512(c.mul + ch), sh);
    if (c.negMul) {
      const ScaleHalves neg =
          splitScale(_mm512_loadu_si512(c.negMul + ch), negSh);
      for (int m = 0; m < MR; ++m)
        storeLowBytes(out + m * c.oc,
                      requantShort<true>(_mm512_load_si512(sums[m][v]), pos,
                                         neg, lo, hi, zp),
                      mask);
    } else {
      for (int m = 0; m < MR; ++m)
        storeLowBytes(out + m * c.oc,
                      requantShort<false>(_mm512_load_si512(sums[m][v]), pos,
                                          pos, lo, hi, zp),
                      mask);
    }
  }
}

template <int NB, bool Signed>
LB_AVX512 void depthwiseChunk(const DepthwiseCtx &c, const DepthwisePixel &p,
                              int64_t c0, int64_t len) {
  __m512i acc[NB];
  __mmask16 mask[NB];
#pragma GCC unroll 4
  for (int v = 0; v < NB; ++v) {
    acc[v] = _mm512_loadu_si512(c.bias + c0 + 16 * v);
    const int64_t n = len - 16 * v;
    mask[v] = n >= 16 ? static_cast<__mmask16>(0xffff)
                      : static_cast<__mmask16>((1u << n) - 1);
  }
  const __m512i zp = _mm512_set1_epi32(c.inZp);
  for (int64_t ky = p.ky0; ky < p.ky1; ++ky)
    for (int64_t kx = p.kx0; kx < p.kx1; ++kx) {
      const uint8_t *in = p.tap(ky, kx) + c0;
      const int32_t *w = c.w + (ky * p.kw + kx) * c.cPadded + c0;
#pragma GCC unroll 4
      for (int v = 0; v < NB; ++v) {
        const __m128i xb = _mm_maskz_loadu_epi8(mask[v], in + 16 * v);
        const __m512i x = _mm512_sub_epi32(
            Signed ? _mm512_cvtepi8_epi32(xb) : _mm512_cvtepu8_epi32(xb), zp);
        // (uint16) w in each lane: madd adds x * w and (x's sign bits) * 0.
        acc[v] = _mm512_add_epi32(
            acc[v], _mm512_madd_epi16(x, _mm512_loadu_si512(w + 16 * v)));
      }
    }
#pragma GCC unroll 4
  for (int v = 0; v < NB; ++v)
    storeLowBytes(p.out + c0 + 16 * v, requant16(acc[v], c, c0 + 16 * v),
                  mask[v]);
}

template <bool Signed>
LB_AVX512 void depthwiseImpl(const DepthwiseCtx &c, const DepthwisePixel &p,
                             int64_t channels) {
  int64_t c0 = 0;
  for (; c0 + 64 <= channels; c0 += 64)
    depthwiseChunk<4, Signed>(c, p, c0, 64);
  const int64_t rest = channels - c0;
  if (rest > 48)
    depthwiseChunk<4, Signed>(c, p, c0, rest);
  else if (rest > 32)
    depthwiseChunk<3, Signed>(c, p, c0, rest);
  else if (rest > 16)
    depthwiseChunk<2, Signed>(c, p, c0, rest);
  else if (rest > 0)
    depthwiseChunk<1, Signed>(c, p, c0, rest);
}

void depthwisePixel(const DepthwiseCtx &c, const DepthwisePixel &p,
                    int64_t channels) {
  if (c.inputSigned)
    depthwiseImpl<true>(c, p, channels);
  else
    depthwiseImpl<false>(c, p, channels);
}

/// The requant of one 16-channel block of a depthwise layer, in registers.
/// Req: 0 the general form (requant16's), 1 the short one (requantShort),
/// 2 the short one with dual multipliers.
struct BlockRequant {
  __m512i mul, sh, negMul, negSh, lo64, hi64; // general form
  ScaleHalves pos, neg;                       // short form
  __m512i lo, hi, zp;                         // 32-bit lanes
  bool dbl;
};
template <int Req>
LB_AVX512 inline __m512i blockRequant(__m512i acc, const BlockRequant &q) {
  if (Req == 1)
    return requantShort<false>(acc, q.pos, q.pos, q.lo, q.hi, q.zp);
  if (Req == 2)
    return requantShort<true>(acc, q.pos, q.neg, q.lo, q.hi, q.zp);
  const __mmask16 neg = _mm512_cmplt_epi32_mask(acc, _mm512_setzero_si512());
  return _mm512_add_epi32(
      scale16(acc, _mm512_mask_mov_epi32(q.mul, neg, q.negMul),
              _mm512_mask_mov_epi32(q.sh, neg, q.negSh), q.dbl, q.lo64, q.hi64),
      q.zp);
}

/// NP consecutive output pixels of one 16-channel block of a 3x3
/// depthwise layer (see depthwise3x3Impl), any stride.
template <int NP, bool Signed, bool Interior, int Req>
LB_AVX512 inline void
depthwise3x3Pixels(const uint8_t *const (&rowsIn)[3], int64_t x0, int64_t sW,
                   int64_t W, int64_t C, int64_t c0, __mmask16 m,
                   const uint8_t *zpRow, const __m512i (&w)[9], __m512i b0,
                   const BlockRequant &q, uint8_t *out) {
  __m512i acc[NP];
#pragma GCC unroll 4
  for (int j = 0; j < NP; ++j)
    acc[j] = b0;
#pragma GCC unroll 3
  for (int ky = 0; ky < 3; ++ky) {
    if (Interior && !rowsIn[ky])
      continue; // b0 holds the row's zero-point products
#pragma GCC unroll 3
    for (int kx = 0; kx < 3; ++kx)
#pragma GCC unroll 4
      for (int j = 0; j < NP; ++j) {
        const int64_t ix = x0 + j * sW + kx;
        __m128i xb;
        if (Interior) { // every tap inside, 16 whole channels
          xb = _mm_loadu_si128(
              reinterpret_cast<const __m128i *>(rowsIn[ky] + ix * C + c0));
        } else {
          const uint8_t *p = rowsIn[ky] && ix >= 0 && ix < W
                                 ? rowsIn[ky] + ix * C + c0
                                 : zpRow;
          xb = _mm_maskz_loadu_epi8(m, p);
        }
        const __m512i xv =
            Signed ? _mm512_cvtepi8_epi32(xb) : _mm512_cvtepu8_epi32(xb);
        // x's 16-bit pattern times (uint16) w, plus x's sign bits times 0:
        // x * w, accumulated in one instruction.
        acc[j] = _mm512_dpwssd_epi32(acc[j], xv, w[ky * 3 + kx]);
      }
  }
#pragma GCC unroll 4
  for (int j = 0; j < NP; ++j)
    storeLowBytes(out + j * C, blockRequant<Req>(acc[j], q), m);
}

/// NP consecutive interior output pixels (every column inside the input;
/// rows outside it are null, their zero-point products in b0) of one
/// 16-channel block with the stride S known: each input pixel of a window row
/// is loaded and widened once and feeds every (pixel, tap) it belongs to ((NP -
/// 1) * S + 3 loads per row instead of 3 * NP).
template <int NP, int S, bool Signed, int Req, int Rows = -1>
LB_AVX512 inline void
depthwise3x3Interior(const uint8_t *const (&rowsIn)[3], int64_t x0, int64_t C,
                     int64_t c0, const __m512i (&w)[9], __m512i b0,
                     const BlockRequant &q, uint8_t *out) {
  constexpr int P = (NP - 1) * S + 3;
  __m512i acc[NP];
#pragma GCC unroll 8
  for (int j = 0; j < NP; ++j)
    acc[j] = b0;
#pragma GCC unroll 3
  for (int ky = 0; ky < 3; ++ky) {
    // Rows: the rows inside the input as bits, known at compile time
    // (no branch between the accumulations), or -1: tested here.
    if (Rows >= 0 ? !(Rows & (1 << ky)) : !rowsIn[ky])
      continue; // b0 holds the row's zero-point products
    const uint8_t *row = rowsIn[ky] + x0 * C + c0;
#pragma GCC unroll 32
    for (int p = 0; p < P; ++p) {
      const __m128i xb =
          _mm_loadu_si128(reinterpret_cast<const __m128i *>(row + p * C));
      const __m512i xv =
          Signed ? _mm512_cvtepi8_epi32(xb) : _mm512_cvtepu8_epi32(xb);
#pragma GCC unroll 3
      for (int kx = 0; kx < 3; ++kx) {
        const int d = p - kx; // pixel d / S reads this input at tap kx
        if (d >= 0 && d % S == 0 && d / S < NP)
          acc[d / S] = _mm512_dpwssd_epi32(acc[d / S], xv, w[ky * 3 + kx]);
      }
    }
  }
#pragma GCC unroll 8
  for (int j = 0; j < NP; ++j)
    storeLowBytes(out + j * C, blockRequant<Req>(acc[j], q),
                  static_cast<__mmask16>(0xffff));
}

/// One output row of one 16-channel block: the border pixels one at a
/// time or four at a time, the interior ones with the stride-specialized
/// kernel where the stride is 1 or 2. b0: the bias minus every tap's
/// zero-point product; bIn: b0 plus those of the rows outside the input,
/// which the interior kernels skip.
template <bool Signed, int Req>
LB_AVX512 inline void
depthwise3x3Row(const uint8_t *const (&rowsIn)[3], const int64_t (&bounds)[4],
                int64_t sW, int64_t pL, int64_t W, int64_t C, int64_t c0,
                __mmask16 m, const uint8_t *zpRow, const __m512i (&w)[9],
                __m512i b0, __m512i bIn, const BlockRequant &q,
                uint8_t *outRow) {
  for (int part = 0; part < 3; ++part) {
    const bool interior = part == 1;
    int64_t x = bounds[part];
    const int64_t to = bounds[part + 1];
    if (interior && sW == 1) {
      const int rows =
          (rowsIn[0] ? 1 : 0) | (rowsIn[1] ? 2 : 0) | (rowsIn[2] ? 4 : 0);
      if (rows == 7)
        for (; x + 8 <= to; x += 8)
          depthwise3x3Interior<8, 1, Signed, Req, 7>(
              rowsIn, x - pL, C, c0, w, bIn, q, outRow + x * C + c0);
      for (; x + 8 <= to; x += 8)
        depthwise3x3Interior<8, 1, Signed, Req>(rowsIn, x - pL, C, c0, w, bIn,
                                                q, outRow + x * C + c0);
      if (x + 4 <= to) {
        depthwise3x3Interior<4, 1, Signed, Req>(rowsIn, x - pL, C, c0, w, bIn,
                                                q, outRow + x * C + c0);
        x += 4;
      }
      if (x + 2 <= to) {
        depthwise3x3Interior<2, 1, Signed, Req>(rowsIn, x - pL, C, c0, w, bIn,
                                                q, outRow + x * C + c0);
        x += 2;
      }
    }
    if (interior && sW == 2) {
      const int rows =
          (rowsIn[0] ? 1 : 0) | (rowsIn[1] ? 2 : 0) | (rowsIn[2] ? 4 : 0);
      if (rows == 7)
        for (; x + 4 <= to; x += 4)
          depthwise3x3Interior<4, 2, Signed, Req, 7>(
              rowsIn, x * 2 - pL, C, c0, w, bIn, q, outRow + x * C + c0);
      for (; x + 4 <= to; x += 4)
        depthwise3x3Interior<4, 2, Signed, Req>(rowsIn, x * 2 - pL, C, c0, w,
                                                bIn, q, outRow + x * C + c0);
      if (x + 2 <= to) {
        depthwise3x3Interior<2, 2, Signed, Req>(rowsIn, x * 2 - pL, C, c0, w,
                                                bIn, q, outRow + x * C + c0);
        x += 2;
      }
    }
    const __m512i bPart = interior ? bIn : b0;
    for (; x + 4 <= to; x += 4)
      (interior
           ? depthwise3x3Pixels<4, Signed, true, Req>
           : depthwise3x3Pixels<4, Signed, false, Req>)(rowsIn, x * sW - pL, sW,
                                                        W, C, c0, m, zpRow, w,
                                                        bPart, q,
                                                        outRow + x * C + c0);
    for (; x < to; ++x)
      (interior
           ? depthwise3x3Pixels<1, Signed, true, Req>
           : depthwise3x3Pixels<1, Signed, false, Req>)(rowsIn, x * sW - pL, sW,
                                                        W, C, c0, m, zpRow, w,
                                                        bPart, q,
                                                        outRow + x * C + c0);
  }
}

/// 3x3 windows without dilation: an output row at a time, 16 channels at a
/// time with the nine weight vectors and the requant parameters in
/// registers; taps outside the input read a row of zero points. Everything
/// read in the loops is copied to locals first: the output stores could
/// otherwise alias the descriptors.
template <bool Signed>
LB_AVX512 void depthwise3x3Impl(const DepthwiseCtx &c, const Conv2DShape &s,
                                const uint8_t *in, uint8_t *out,
                                int64_t rowBegin, int64_t rowEnd) {
  alignas(64) uint8_t zpRow[16];
  std::memset(zpRow, static_cast<uint8_t>(c.inZp), sizeof(zpRow));
  const __m512i zp = _mm512_set1_epi32(c.inZp);
  const int64_t C = s.c, H = s.h, W = s.w, OH = s.oh, OW = s.ow;
  const int64_t sH = s.strideH, sW = s.strideW, pT = s.padTop, pL = s.padLeft;
  const int64_t cPadded = c.cPadded;
  const int32_t *weights = c.w, *bias = c.bias, *mulA = c.mul,
                *shiftA = c.shift, *negMulA = c.negMul, *negShiftA = c.negShift;
  const bool dual = negMulA != nullptr;
  const bool rangeFits = rangeFitsInt32(c);
  BlockRequant q;
  q.dbl = c.doubleRound;
  q.lo64 = _mm512_set1_epi64(int64_t(c.lo) - c.outZp);
  q.hi64 = _mm512_set1_epi64(int64_t(c.hi) - c.outZp);
  q.lo = _mm512_set1_epi32(c.lo - (rangeFits ? c.outZp : 0));
  q.hi = _mm512_set1_epi32(c.hi - (rangeFits ? c.outZp : 0));
  q.zp = _mm512_set1_epi32(c.outZp);
  for (int64_t r = rowBegin; r < rowEnd; ++r) {
    const int64_t b = r / OH, y = r % OH;
    const uint8_t *rowsIn[3];
    for (int ky = 0; ky < 3; ++ky) {
      const int64_t iy = y * sH - pT + ky;
      rowsIn[ky] = iy >= 0 && iy < H ? in + (b * H + iy) * W * C : nullptr;
    }
    uint8_t *outRow = out + (b * OH + y) * OW * C;
    for (int64_t c0 = 0; c0 < C; c0 += 16) {
      const __mmask16 m = C - c0 >= 16
                              ? static_cast<__mmask16>(0xffff)
                              : static_cast<__mmask16>((1u << (C - c0)) - 1);
      __m512i w[9];
#pragma GCC unroll 9
        for (int t = 0; t < 9; ++t)
          w[t] = _mm512_loadu_si512(weights + t * cPadded + c0);
        // Padded taps read the zero point instead of contributing zero,
        // so every tap adds x * w and the bias gives back zp * sum(w): the
        // same sum modulo 2^32, without a subtraction per tap.
        __m512i b0 = _mm512_loadu_si512(bias + c0);
#pragma GCC unroll 9
        for (int t = 0; t < 9; ++t)
          b0 = _mm512_sub_epi32(b0, _mm512_madd_epi16(zp, w[t]));
        q.mul = _mm512_loadu_si512(mulA + c0);
        q.sh = _mm512_loadu_si512(shiftA + c0);
        q.negMul = dual ? _mm512_loadu_si512(negMulA + c0) : q.mul;
        q.negSh = dual ? _mm512_loadu_si512(negShiftA + c0) : q.sh;
        const bool isShort = rangeFits && shortRequant(q.dbl, q.sh) &&
                             shortRequant(q.dbl, q.negSh);
        if (isShort) {
          q.pos = splitScale(q.mul, q.sh);
          q.neg = dual ? splitScale(q.negMul, q.negSh) : q.pos;
        }
        // Pixels [xBegin, xEnd) have every tap inside the input: with whole
        // blocks of 16 channels they load without bounds checks or masks.
        // Rows outside the input are skipped there: their taps' zero-point
        // products go back into the bias.
        __m512i bIn = b0;
        for (int ky = 0; ky < 3; ++ky)
          if (!rowsIn[ky])
            for (int kx = 0; kx < 3; ++kx)
              bIn =
                  _mm512_add_epi32(bIn, _mm512_madd_epi16(zp, w[ky * 3 + kx]));
        const bool rowsInside =
            (rowsIn[0] || rowsIn[1] || rowsIn[2]) && m == 0xffff;
        const int64_t xBegin =
            rowsInside ? std::min(OW, (pL + sW - 1) / sW) : OW;
        const int64_t xEnd =
            rowsInside && W >= 3
                ? std::max(xBegin, std::min(OW, (W - 3 + pL) / sW + 1))
                : xBegin;
        const int64_t bounds[4] = {0, xBegin, xEnd, OW};
        if (!isShort)
          depthwise3x3Row<Signed, 0>(rowsIn, bounds, sW, pL, W, C, c0, m, zpRow,
                                     w, b0, bIn, q, outRow);
        else if (!dual)
          depthwise3x3Row<Signed, 1>(rowsIn, bounds, sW, pL, W, C, c0, m, zpRow,
                                     w, b0, bIn, q, outRow);
        else
          depthwise3x3Row<Signed, 2>(rowsIn, bounds, sW, pL, W, C, c0, m, zpRow,
                                     w, b0, bIn, q, outRow);
      }
  }
}

bool depthwise3x3Handles(const Conv2DShape &s) {
  return s.kh == 3 && s.kw == 3 && s.dilationH == 1 && s.dilationW == 1;
}

void depthwise3x3(const DepthwiseCtx &c, const Conv2DShape &s,
                  const uint8_t *in, uint8_t *out, int64_t rowBegin,
                  int64_t rowEnd) {
  if (c.inputSigned)
    depthwise3x3Impl<true>(c, s, in, out, rowBegin, rowEnd);
  else
    depthwise3x3Impl<false>(c, s, in, out, rowBegin, rowEnd);
}

LB_AVX512 void quantizeKernel(const float *in, uint8_t *out, int64_t count,
                              const QuantizeArgs &q) {
  const __m512 scale = _mm512_set1_ps(q.scale);
  const __m512 lo = _mm512_set1_ps(static_cast<float>(q.qmin - q.zp));
  const __m512 hi = _mm512_set1_ps(static_cast<float>(q.qmax - q.zp));
  const __m512i zp = _mm512_set1_epi32(q.zp);
  const __m512i nanValue = _mm512_set1_epi32(
      static_cast<int32_t>(saturate(q.zp, q.qmin, q.qmax)));
  for (int64_t i = 0; i < count; i += 16) {
    const __mmask16 m = count - i >= 16
                            ? static_cast<__mmask16>(0xffff)
                            : static_cast<__mmask16>((1u << (count - i)) - 1);
    const __m512 x = _mm512_maskz_loadu_ps(m, in + i);
    // x / scale rounded to float, then to an integer half to even: exact
    // like the scalar rule. A NaN quotient (max returns its second operand)
    // goes to qmin, as there; a NaN input to the zero point.
    const __m512 r = _mm512_roundscale_ps(
        _mm512_div_ps(x, scale), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    const __m512 c = _mm512_min_ps(_mm512_max_ps(r, lo), hi);
    __m512i v = _mm512_add_epi32(_mm512_cvtps_epi32(c), zp);
    v = _mm512_mask_mov_epi32(v, _mm512_cmp_ps_mask(x, x, _CMP_UNORD_Q),
                              nanValue);
    storeLowBytes(out + i, v, m);
  }
}

LB_AVX512 void maxKernel(const uint8_t *const *taps, int64_t numTaps,
                         int64_t len, bool isSigned, uint8_t *out) {
  const __mmask64 m = len >= 64 ? ~__mmask64(0) : (__mmask64(1) << len) - 1;
  // The identity of max: the type's lowest value.
  __m512i acc = _mm512_set1_epi8(isSigned ? char(-128) : char(0));
  if (isSigned)
    for (int64_t t = 0; t < numTaps; ++t)
      acc = _mm512_max_epi8(acc, _mm512_maskz_loadu_epi8(m, taps[t]));
  else
    for (int64_t t = 0; t < numTaps; ++t)
      acc = _mm512_max_epu8(acc, _mm512_maskz_loadu_epi8(m, taps[t]));
  _mm512_mask_storeu_epi8(out, m, acc);
}

/// Tile heights per block count (at most 24 accumulators). 8 rows for one
/// to three blocks measured 3-4% faster than 6 on ResNet-18 and MobileNetV2
/// (bench/speed.py binaries); 12 was no faster than 8.
constexpr int kRowsFor[4] = {8, 8, 8, 6};

template <int MR, int NV, bool W4> constexpr GemmTileFn tileAt() {
  if constexpr (MR <= kRowsFor[NV - 1])
    return &gemmTile<MR, NV, W4>;
  else
    return nullptr;
}
template <int MR, bool W4> constexpr void fillRow(GemmTileFn (&row)[4]) {
  row[0] = tileAt<MR, 1, W4>();
  row[1] = tileAt<MR, 2, W4>();
  row[2] = tileAt<MR, 3, W4>();
  row[3] = tileAt<MR, 4, W4>();
}
template <bool W4, int... MR>
constexpr GemmKernel makeKernel(std::integer_sequence<int, MR...>) {
  GemmKernel k{{kRowsFor[0], kRowsFor[1], kRowsFor[2], kRowsFor[3]}, 4, {}};
  (fillRow<MR + 1, W4>(k.fn[MR]), ...);
  return k;
}

} // namespace

const GemmKernel *avx512Gemm(bool w4) {
  static const GemmKernel k8 =
      makeKernel<false>(std::make_integer_sequence<int, kGemmMaxRows>());
  static const GemmKernel k4 =
      makeKernel<true>(std::make_integer_sequence<int, kGemmMaxRows>());
  return w4 ? &k4 : &k8;
}

DepthwiseFn avx512Depthwise() { return &depthwisePixel; }
DepthwiseLayer avx512Depthwise3x3() {
  return {&depthwise3x3Handles, &depthwise3x3};
}
AddFn avx512Add() { return &addKernel; }
QuantizeFn avx512Quantize() { return &quantizeKernel; }
MaxFn avx512Max() { return &maxKernel; }

} // namespace fast
} // namespace rt
} // namespace lowbit

#else // not x86-64 with GCC or Clang

namespace lowbit {
namespace rt {
namespace fast {
const GemmKernel *avx512Gemm(bool) { return nullptr; }
DepthwiseFn avx512Depthwise() { return nullptr; }
DepthwiseLayer avx512Depthwise3x3() { return {}; }
AddFn avx512Add() { return nullptr; }
QuantizeFn avx512Quantize() { return nullptr; }
MaxFn avx512Max() { return nullptr; }
} // namespace fast
} // namespace rt
} // namespace lowbit

#endif
