//===- ShiftKernels.h - Log-coded weights: packing and shift-add kernels -*- C++ -*-===//
//
// Part of the lowbit project.
//
//===----------------------------------------------------------------------===//
//
// Convolutions and fully connected layers whose weights are log codes
// (`#lowbit.log`, one word per weight) or STLQ codes (`#lowbit.stlq`, one or
// two words per weight, the same number in every weight of a tile), run as
// shifts: each product is sign(q) * (x << (M - |q|)), and a weight with two
// words adds two shifted terms (stlq-two-word-log-quantization eq. 1-4;
// LogQuant.h holds the code rules). The result equals the multiply-based
// convolution with the integers logCodeInteger(q1) + logCodeInteger(q2),
// exactly, modulo 2^width of the accumulator like every integer kernel.
//
// The weights are stored packed at their bit width in one array (the
// generated code's weight blob and the evaluator share packLogWeights):
//
//   [mask]   STLQ only: one bit per tile, bit t of the array (LSB first in
//            each byte) set when tile t has two words; tiles in row-major
//            order over [ceil(O / Tm), KH, KW, ceil(I / Tn)];
//   [first]  the first word of every weight, OHWI row-major (OI for a fully
//            connected layer), packCode layout;
//   [second] STLQ only: the second word of the weights in two-word tiles
//            only, in the same order.
//
// Each part starts on a byte. A 3-bit STLQ layer with a fraction R of its
// weights in two-word tiles takes (1 + R) 3/8 of int8's bytes plus one bit
// per tile.
//
// The kernels are plain reference loops: allocation-free (codes are decoded
// in chunks on the stack), single-threaded, not tuned for speed.
//
//===----------------------------------------------------------------------===//

#ifndef LOWBIT_RUNTIME_SHIFTKERNELS_H
#define LOWBIT_RUNTIME_SHIFTKERNELS_H

#include "lowbit/runtime/Kernels.h"
#include "lowbit/runtime/LogQuant.h"

#include <cstdint>
#include <cstring>

namespace lowbit {
namespace rt {

/// Shape and encoding of a layer's log-coded weights.
struct LogWeightsDesc {
  int64_t oc, kh, kw, ic; // OHWI; kh = kw = 1 for a fully connected layer
  uint32_t bits;          // code width, 2 to kMaxShiftCodeBits
  int64_t tileIn;         // STLQ tile Tn (input channels); 0: one word (log)
  int64_t tileOut;        // STLQ tile Tm (output channels); 0: one word
};

inline bool isStlq(const LogWeightsDesc &d) { return d.tileIn > 0; }

inline int64_t logWeightCount(const LogWeightsDesc &d) {
  return d.oc * d.kh * d.kw * d.ic;
}

/// Number of STLQ tiles, ceil(O / Tm) * KH * KW * ceil(I / Tn).
inline int64_t stlqTileCount(const LogWeightsDesc &d) {
  return detail::ceilDiv(d.oc, d.tileOut) * d.kh * d.kw *
         detail::ceilDiv(d.ic, d.tileIn);
}

/// Row-major index of the tile of weight (o, ky, kx, i).
inline int64_t stlqTileIndex(const LogWeightsDesc &d, int64_t o, int64_t ky,
                             int64_t kx, int64_t i) {
  return ((o / d.tileOut * d.kh + ky) * d.kw + kx) *
             detail::ceilDiv(d.ic, d.tileIn) +
         i / d.tileIn;
}

inline bool testBit(const uint8_t *bits, int64_t index) {
  return (bits[index / 8] >> (index % 8) & 1u) != 0;
}

/// Where the parts of a packed array start.
struct LogWeightsParts {
  const uint8_t *mask;   // null for one-word weights
  const uint8_t *first;
  const uint8_t *second; // null for one-word weights
};

inline int64_t stlqMaskBytes(const LogWeightsDesc &d) {
  return isStlq(d) ? (stlqTileCount(d) + 7) / 8 : 0;
}

/// Number of weights in two-word tiles, from the packed mask.
inline int64_t stlqSecondCount(const LogWeightsDesc &d, const uint8_t *mask) {
  if (!isStlq(d))
    return 0;
  int64_t count = 0;
  const int64_t oTiles = detail::ceilDiv(d.oc, d.tileOut);
  const int64_t iTiles = detail::ceilDiv(d.ic, d.tileIn);
  int64_t t = 0;
  for (int64_t ot = 0; ot < oTiles; ++ot) {
    const int64_t rows = (ot + 1) * d.tileOut <= d.oc ? d.tileOut
                                                       : d.oc - ot * d.tileOut;
    for (int64_t k = 0; k < d.kh * d.kw; ++k)
      for (int64_t it = 0; it < iTiles; ++it, ++t) {
        const int64_t cols = (it + 1) * d.tileIn <= d.ic
                                 ? d.tileIn
                                 : d.ic - it * d.tileIn;
        if (testBit(mask, t))
          count += rows * cols;
      }
  }
  return count;
}

inline LogWeightsParts logWeightsParts(const uint8_t *packed,
                                       const LogWeightsDesc &d) {
  LogWeightsParts p{};
  const int64_t maskBytes = stlqMaskBytes(d);
  p.mask = isStlq(d) ? packed : nullptr;
  p.first = packed + maskBytes;
  p.second = isStlq(d) ? p.first + packedCodeBytes(logWeightCount(d), d.bits)
                       : nullptr;
  return p;
}

/// Bytes of the packed array, given its mask part (null for log weights).
inline int64_t logWeightsBytes(const LogWeightsDesc &d, const uint8_t *mask) {
  return stlqMaskBytes(d) + packedCodeBytes(logWeightCount(d), d.bits) +
         packedCodeBytes(stlqSecondCount(d, mask), d.bits);
}

/// Packs a layer's codes: `first` and (STLQ) `second` hold one code per
/// weight in OHWI order (second words of one-word tiles must be 0 and are
/// not stored), `twoWordTiles` one flag per tile (null for log weights).
/// `dst` must hold logWeightsBytes() bytes; returns false (and leaves `dst`
/// partly written) when a one-word tile has a non-zero second word.
inline bool packLogWeights(const LogWeightsDesc &d, const int32_t *first,
                           const int32_t *second, const bool *twoWordTiles,
                           uint8_t *dst, int64_t dstBytes) {
  std::memset(dst, 0, static_cast<size_t>(dstBytes));
  const int64_t maskBytes = stlqMaskBytes(d);
  for (int64_t t = 0; isStlq(d) && t < stlqTileCount(d); ++t)
    if (twoWordTiles[t])
      dst[t / 8] |= static_cast<uint8_t>(1u << (t % 8));
  uint8_t *firstDst = dst + maskBytes;
  uint8_t *secondDst =
      firstDst + packedCodeBytes(logWeightCount(d), d.bits);
  int64_t index = 0, secondIndex = 0;
  for (int64_t o = 0; o < d.oc; ++o)
    for (int64_t ky = 0; ky < d.kh; ++ky)
      for (int64_t kx = 0; kx < d.kw; ++kx)
        for (int64_t i = 0; i < d.ic; ++i, ++index) {
          packCode(firstDst, index, d.bits, first[index]);
          if (!isStlq(d))
            continue;
          if (testBit(dst, stlqTileIndex(d, o, ky, kx, i)))
            packCode(secondDst, secondIndex++, d.bits, second[index]);
          else if (second[index] != 0)
            return false;
        }
  return true;
}

namespace detail {

/// Codes decoded at a time by the shift kernels (on the stack).
constexpr int64_t kShiftChunk = 256;

/// A code as the shift loop uses it: 0 for code 0, else +-(1 + shift) with
/// shift = M - |q| and the sign of q.
inline int8_t shiftTerm(int32_t q, unsigned bits) {
  if (q == 0)
    return 0;
  const int32_t e = q < 0 ? -q : q;
  const int32_t t = 1 + logMaxCode(bits) - e;
  return static_cast<int8_t>(q < 0 ? -t : t);
}

/// sign * (v << shift) for a shiftTerm, modulo 2^width of U.
template <typename U> inline U shiftProduct(U v, int8_t term) {
  if (term == 0)
    return U(0);
  const U p = v << (term < 0 ? -term - 1 : term - 1);
  return term < 0 ? U(0) - p : p;
}

} // namespace detail

/// lowbit.conv2d with log/STLQ weights and `shift_products`:
///   acc[n, y, x, o] = bias[o] + sum over taps inside the input of
///     (in - inZp) * W[o, tap]  +  sum over padded taps of padValue * W[o, tap]
/// with W = logCodeInteger(q1) + logCodeInteger(q2) formed as shifted adds.
/// An op whose zero point is not folded passes (inZp = zp, padValue = 0);
/// one with `input_zp_folded` passes (0, zp) and its folded bias. Bias may be
/// null. NHWC input, groups as in Conv2DShape.
template <typename TIn, typename TAcc>
void conv2dShift(const TIn *in, const uint8_t *packed,
                 const LogWeightsDesc &d, const TAcc *bias, int32_t inZp,
                 int32_t padValue, TAcc *out, const Conv2DShape &s) {
  static_assert(detail::isKernelIntOperand<TIn>(),
                "conv2dShift reads int8, uint8, int16 or int32 inputs");
  using U = typename detail::IntAccumulator<TAcc>::type;
  using detail::kShiftChunk;
  const int64_t I = s.c / s.groups, K = s.kh * s.kw * I;
  const int64_t perGroup = s.oc / s.groups;
  const LogWeightsParts p = logWeightsParts(packed, d);
  const U zp = static_cast<U>(static_cast<int64_t>(inZp));
  const U pad = static_cast<U>(static_cast<int64_t>(padValue));
  const int64_t pixels = s.n * s.oh * s.ow;
  int64_t secondIndex = 0; // second words of the rows before o
  for (int64_t o = 0; o < s.oc; ++o) {
    const int64_t inC = o / perGroup * I;
    for (int64_t px = 0; px < pixels; ++px)
      out[px * s.oc + o] = bias ? bias[o] : TAcc(0);
    for (int64_t k0 = 0; k0 < K; k0 += kShiftChunk) {
      const int64_t len = K - k0 < kShiftChunk ? K - k0 : kShiftChunk;
      int8_t t1[kShiftChunk], t2[kShiftChunk];
      int32_t tapY[kShiftChunk], tapX[kShiftChunk], tapI[kShiftChunk];
      for (int64_t j = 0; j < len; ++j) {
        const int64_t k = k0 + j;
        const int64_t ky = k / (s.kw * I), kx = k / I % s.kw, i = k % I;
        tapY[j] = static_cast<int32_t>(ky * s.dilationH);
        tapX[j] = static_cast<int32_t>(kx * s.dilationW);
        tapI[j] = static_cast<int32_t>(i);
        t1[j] = detail::shiftTerm(unpackCode(p.first, o * K + k, d.bits),
                                  d.bits);
        t2[j] = 0;
        if (p.mask && testBit(p.mask, stlqTileIndex(d, o, ky, kx, i)))
          t2[j] = detail::shiftTerm(
              unpackCode(p.second, secondIndex++, d.bits), d.bits);
      }
      for (int64_t n = 0; n < s.n; ++n)
        for (int64_t y = 0; y < s.oh; ++y)
          for (int64_t x = 0; x < s.ow; ++x) {
            const int64_t y0 = y * s.strideH - s.padTop;
            const int64_t x0 = x * s.strideW - s.padLeft;
            TAcc &acc = out[((n * s.oh + y) * s.ow + x) * s.oc + o];
            U sum = static_cast<U>(acc);
            for (int64_t j = 0; j < len; ++j) {
              const int64_t iy = y0 + tapY[j], ix = x0 + tapX[j];
              U v;
              if (iy >= 0 && iy < s.h && ix >= 0 && ix < s.w)
                v = static_cast<U>(static_cast<int64_t>(
                        in[((n * s.h + iy) * s.w + ix) * s.c + inC +
                           tapI[j]])) -
                    zp;
              else
                v = pad;
              sum += detail::shiftProduct(v, t1[j]) +
                     detail::shiftProduct(v, t2[j]);
            }
            acc = static_cast<TAcc>(sum);
          }
    }
  }
}

/// lowbit.fully_connected with log/STLQ weights and `shift_products`:
/// acc[r, o] = bias[o] + sum_i (in[r, i] - inZp) * W[o, i], W as in
/// conv2dShift (OI weights, desc kh = kw = 1). A folded zero point passes
/// inZp = 0.
template <typename TIn, typename TAcc>
void fullyConnectedShift(const TIn *in, const uint8_t *packed,
                         const LogWeightsDesc &d, const TAcc *bias,
                         int32_t inZp, TAcc *out, int64_t rows, int64_t inner,
                         int64_t outputs) {
  Conv2DShape s{rows, 1, 1, inner, 1, 1, outputs, 1, 1, 1, 1, 1, 1, 0, 0, 1};
  conv2dShift<TIn, TAcc>(in, packed, d, bias, inZp, 0, out, s);
}

} // namespace rt
} // namespace lowbit

#endif // LOWBIT_RUNTIME_SHIFTKERNELS_H
