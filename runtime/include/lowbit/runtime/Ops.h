//===- Ops.h - Whole-tensor integer operations of the lowbit dialect -*- C++ -*-===//
//
// Part of the lowbit project.
//
//===----------------------------------------------------------------------===//
//
// One function per integer `lowbit` op, over whole tensors with flat
// arguments. The reference evaluator and the C++ that `lowbitc --emit=cpp`
// generates both call these, so the two cannot disagree: every rounding and
// saturation goes through Requant.h and every window through Kernels.h.
//
// Everything here is allocation-free and reentrant. Element types are
// template parameters (int8_t, uint8_t, int16_t for stored tensors; int32_t
// or int64_t for accumulators). A few float32 kernels at the end run the
// ops that stay float (float fallback).
//
//===----------------------------------------------------------------------===//

#ifndef LOWBIT_RUNTIME_OPS_H
#define LOWBIT_RUNTIME_OPS_H

#include "lowbit/runtime/Kernels.h"
#include "lowbit/runtime/Requant.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>

namespace lowbit {
namespace rt {

/// lowbit.requant (and lowbit.prelu): for element i in channel
/// c = (i / inner) % channels,
///   out[i] = saturate(outZp + apply_scale(in[i] - inZp, M), lo, hi)
/// with M = (mul, shift)[c] (index 0 when posPerChannel is false), or, when
/// negMul is non-null and in[i] - inZp < 0, M = (negMul, negShift)[c]
/// (index 0 when negPerChannel is false): the dual-multiplier requant.
template <typename TIn, typename TOut>
void requantTensor(const TIn *in, TOut *out, int64_t count, int64_t inner,
                   int64_t channels, const int32_t *mul, const int32_t *shift,
                   bool posPerChannel, const int32_t *negMul,
                   const int32_t *negShift, bool negPerChannel, int32_t inZp,
                   int32_t outZp, int32_t lo, int32_t hi, RoundingMode mode) {
  if (inner <= 0)
    inner = 1;
  if (channels <= 0)
    channels = 1;
  for (int64_t i = 0; i < count; ++i) {
    const int64_t c = (i / inner) % channels;
    const int64_t v = static_cast<int64_t>(in[i]) - inZp;
    const int64_t pc = posPerChannel ? c : 0;
    const ScaleMultiplier pos{mul[pc], shift[pc]};
    if (negMul) {
      const int64_t nc = negPerChannel ? c : 0;
      out[i] = static_cast<TOut>(requantizeDual(
          v, pos, ScaleMultiplier{negMul[nc], negShift[nc]}, outZp, lo, hi,
          mode));
    } else {
      out[i] = static_cast<TOut>(requantize(v, pos, outZp, lo, hi, mode));
    }
  }
}

/// lowbit.add on one pair of stored values: both moved to a common
/// intermediate scale, added and requantized (see the op's description).
/// The one definition of the rule; addTensor and the fast add kernel's
/// scalar path call it.
inline int32_t addElement(int64_t a, int64_t b, int32_t aZp, int32_t bZp,
                          int32_t inputShift, ScaleMultiplier aM,
                          ScaleMultiplier bM, ScaleMultiplier outM,
                          int32_t outZp, int32_t lo, int32_t hi,
                          RoundingMode mode) {
  const int64_t scale = int64_t(1) << inputShift;
  const int64_t av = applyScale((a - aZp) * scale, aM, mode);
  const int64_t bv = applyScale((b - bZp) * scale, bM, mode);
  return requantize(av + bv, outM, outZp, lo, hi, mode);
}

/// lowbit.add over whole tensors (addElement per element).
template <typename TA, typename TB, typename TOut>
void addTensor(const TA *a, const TB *b, TOut *out, int64_t count,
               int32_t aZp, int32_t bZp, int32_t inputShift,
               ScaleMultiplier aM, ScaleMultiplier bM, ScaleMultiplier outM,
               int32_t outZp, int32_t lo, int32_t hi, RoundingMode mode) {
  for (int64_t i = 0; i < count; ++i)
    out[i] = static_cast<TOut>(addElement(a[i], b[i], aZp, bZp, inputShift,
                                          aM, bM, outM, outZp, lo, hi, mode));
}

/// lowbit.clamp on stored values.
template <typename T>
void clampTensor(const T *in, T *out, int64_t count, int64_t lo, int64_t hi) {
  for (int64_t i = 0; i < count; ++i) {
    const int64_t v = static_cast<int64_t>(in[i]);
    out[i] = static_cast<T>(v < lo ? lo : (v > hi ? hi : v));
  }
}

/// lowbit.fully_connected: acc[r, o] = bias[o] + sum_i (in[r, i] - inZp) *
/// w[o, i] with OI weights (bias may be null). Exact modulo 2^width of TAcc
/// like the other integer kernels.
template <typename TIn, typename TW, typename TAcc>
void fullyConnectedInt(const TIn *in, const TW *w, const TAcc *bias,
                       int32_t inZp, TAcc *out, int64_t rows, int64_t inner,
                       int64_t outputs) {
  using U = typename detail::IntAccumulator<TAcc>::type;
  using detail::kLanes;
  const U xZp = static_cast<U>(static_cast<int64_t>(inZp));
  for (int64_t r = 0; r < rows; ++r) {
    const TIn *x = in + r * inner;
    int64_t o = 0;
    auto finish = [&](int64_t oc, const U *lanes) {
      U sum = bias ? static_cast<U>(bias[oc]) : U(0);
      for (int64_t j = 0; j < kLanes; ++j)
        sum += lanes[j];
      out[r * outputs + oc] = static_cast<TAcc>(sum);
    };
    for (; o + 4 <= outputs; o += 4) {
      U acc[4][kLanes] = {};
      detail::dotBlockInt<4>(x, w + o * inner, inner, inner, xZp, U(0), acc);
      for (int k = 0; k < 4; ++k)
        finish(o + k, acc[k]);
    }
    for (; o < outputs; ++o) {
      U acc[1][kLanes] = {};
      detail::dotBlockInt<1>(x, w + o * inner, inner, inner, xZp, U(0), acc);
      finish(o, acc[0]);
    }
  }
}

/// lowbit.conv2d: NHWC input, OHWI weights (I = C / groups; depthwise is
/// groups == C), symmetric weights, exact modulo 2^width of TAcc.
template <typename TIn, typename TW, typename TAcc>
void conv2dTensor(const TIn *in, const TW *w, const TAcc *bias, int32_t inZp,
                  TAcc *out, const Conv2DShape &s) {
  conv2dInt<TIn, TW, TAcc>(in, w, bias, inZp, 0, out, s);
}

/// lowbit.conv2d {input_zp_folded}: `foldedBias[o] = bias[o] - inZp *
/// sum(w[o])` (adaptive-scale-shift eq. 10). The inner loop multiplies the
/// stored values with no zero-point term; output pixels whose window
/// overlaps the padding add back `inZp * sum(w[o] over the padded taps)`.
/// Equal to conv2dTensor with the unfolded bias (exact modulo 2^width).
template <typename TIn, typename TW, typename TAcc>
void conv2dFoldedZp(const TIn *in, const TW *w, const TAcc *foldedBias,
                    int32_t inZp, TAcc *out, const Conv2DShape &s) {
  using U = typename detail::IntAccumulator<TAcc>::type;
  conv2dInt<TIn, TW, TAcc>(in, w, foldedBias, 0, 0, out, s);
  if (inZp == 0)
    return;
  const U zp = static_cast<U>(static_cast<int64_t>(inZp));
  const int64_t I = s.c / s.groups;
  // Border windows repeat the same tap ranges along the edges (a 3x3 window
  // with padding 1 has 8 distinct ones), so each output channel keeps the
  // padded-tap sums of the ranges it has seen instead of summing them again
  // for every border pixel.
  constexpr int kRanges = 32;
  for (int64_t o = 0; o < s.oc; ++o) {
    const TW *wO = w + o * s.kh * s.kw * I;
    int64_t seen[kRanges][4];
    U seenSum[kRanges];
    int count = 0, nextSlot = 0;
    auto paddedSum = [&](const detail::TapRange &ky,
                         const detail::TapRange &kx) {
      for (int i = 0; i < count; ++i)
        if (seen[i][0] == ky.begin && seen[i][1] == ky.end &&
            seen[i][2] == kx.begin && seen[i][3] == kx.end)
          return seenSum[i];
      U padded = 0;
      for (int64_t a = 0; a < s.kh; ++a)
        for (int64_t b = 0; b < s.kw; ++b) {
          if (a >= ky.begin && a < ky.end && b >= kx.begin && b < kx.end)
            continue;
          for (int64_t i = 0; i < I; ++i)
            padded += static_cast<U>(wO[(a * s.kw + b) * I + i]);
        }
      int slot = count < kRanges ? count++ : nextSlot++ % kRanges;
      seen[slot][0] = ky.begin, seen[slot][1] = ky.end;
      seen[slot][2] = kx.begin, seen[slot][3] = kx.end;
      seenSum[slot] = padded;
      return padded;
    };
    for (int64_t y = 0; y < s.oh; ++y) {
      const int64_t y0 = y * s.strideH - s.padTop;
      const detail::TapRange ky =
          detail::validTaps(y0, s.dilationH, s.kh, s.h);
      for (int64_t x = 0; x < s.ow; ++x) {
        const int64_t x0 = x * s.strideW - s.padLeft;
        const detail::TapRange kx =
            detail::validTaps(x0, s.dilationW, s.kw, s.w);
        if (ky.begin == 0 && ky.end == s.kh && kx.begin == 0 &&
            kx.end == s.kw)
          continue; // the window is inside the input
        const U padded = paddedSum(ky, kx);
        for (int64_t n = 0; n < s.n; ++n) {
          TAcc &acc = out[((n * s.oh + y) * s.ow + x) * s.oc + o];
          acc = static_cast<TAcc>(static_cast<U>(acc) + zp * padded);
        }
      }
    }
  }
}

/// Quantizes float32 values with one scale and zero point (the float
/// wrappers of generated code; lowbit.quantize per tensor).
template <typename T>
void quantizeTensor(const float *in, T *out, int64_t count, float scale,
                    int32_t zp, int32_t qmin, int32_t qmax) {
  for (int64_t i = 0; i < count; ++i)
    out[i] = static_cast<T>(quantizeValue(in[i], scale, zp, qmin, qmax));
}

/// Dequantizes stored values with one scale and zero point.
template <typename T>
void dequantizeTensor(const T *in, float *out, int64_t count, double scale,
                      int32_t zp) {
  for (int64_t i = 0; i < count; ++i)
    out[i] = static_cast<float>(
        dequantizeValue(static_cast<int32_t>(in[i]), scale, zp));
}

/// lowbit.concat, one input at a time: copies `in` (outer x inInner
/// elements) into columns [offset, offset + inInner) of `out` (outer x
/// outInner elements), for `outer` = product of the dimensions before the
/// axis and inner = the axis and the dimensions after it.
template <typename T>
void concatSlice(const T *in, T *out, int64_t outer, int64_t inInner,
                 int64_t outInner, int64_t offset) {
  for (int64_t o = 0; o < outer; ++o)
    std::memcpy(out + o * outInner + offset, in + o * inInner,
                static_cast<size_t>(inInner) * sizeof(T));
}

//===----------------------------------------------------------------------===//
// Float kernels (float fallback)
//===----------------------------------------------------------------------===//
//
// Ops with no integer form (the exp, sums and reciprocal of a Softmax, a
// sigmoid, ...) run on float32 between a lowbit.dequantize and a
// lowbit.quantize. The evaluator computes these TOSA ops element by element
// with the same functions, and reductions in the same order, so generated
// code and evaluator still agree bit for bit (no -ffast-math).

/// Elementwise float TOSA ops of one operand. Sqrt is tosa.pow with a
/// constant exponent of 0.5 (TOSA has no square root; the importer writes
/// ONNX Sqrt that way), computed as sqrtf, which is exact.
enum class UnaryKind : int32_t {
  Exp,
  Reciprocal,
  Sigmoid,
  Tanh,
  Negate,
  Abs,
  Floor,
  Ceil,
  Sqrt,
  Rsqrt,
  Erf
};

inline float unaryF32(UnaryKind kind, float x) {
  switch (kind) {
  case UnaryKind::Exp:
    return std::exp(x);
  case UnaryKind::Reciprocal:
    return 1.0f / x;
  case UnaryKind::Sigmoid:
    return 1.0f / (1.0f + std::exp(-x));
  case UnaryKind::Tanh:
    return std::tanh(x);
  case UnaryKind::Negate:
    return -x;
  case UnaryKind::Abs:
    return std::fabs(x);
  case UnaryKind::Floor:
    return std::floor(x);
  case UnaryKind::Ceil:
    return std::ceil(x);
  case UnaryKind::Sqrt:
    return std::sqrt(x);
  case UnaryKind::Rsqrt:
    return 1.0f / std::sqrt(x);
  case UnaryKind::Erf:
    return std::erf(x);
  }
  return x;
}

inline void unaryTensorF32(const float *in, float *out, int64_t count,
                           UnaryKind kind) {
  for (int64_t i = 0; i < count; ++i)
    out[i] = unaryF32(kind, in[i]);
}

/// Elementwise float TOSA ops of two operands. Maximum and minimum
/// propagate NaN; Pow is std::pow in float32 (tosa.pow).
enum class BinaryKind : int32_t { Add, Sub, Mul, Maximum, Minimum, Pow };

inline float binaryF32(BinaryKind kind, float x, float y) {
  switch (kind) {
  case BinaryKind::Add:
    return x + y;
  case BinaryKind::Sub:
    return x - y;
  case BinaryKind::Mul:
    return x * y;
  case BinaryKind::Maximum:
    return std::isnan(x) || std::isnan(y) ? x + y : std::max(x, y);
  case BinaryKind::Minimum:
    return std::isnan(x) || std::isnan(y) ? x + y : std::min(x, y);
  case BinaryKind::Pow:
    return std::pow(x, y);
  }
  return x;
}

/// A broadcast of two operands to a result of at most 4 dimensions: the
/// result's extents and each operand's element strides (0 along a
/// broadcast dimension), leading dimensions padded with extent 1.
struct Broadcast4 {
  int64_t dims[4];
  int64_t aStrides[4];
  int64_t bStrides[4];
};

inline void broadcastBinaryF32(const float *a, const float *b, float *out,
                               BinaryKind kind, const Broadcast4 &s) {
  int64_t i = 0;
  for (int64_t d0 = 0; d0 < s.dims[0]; ++d0)
    for (int64_t d1 = 0; d1 < s.dims[1]; ++d1)
      for (int64_t d2 = 0; d2 < s.dims[2]; ++d2)
        for (int64_t d3 = 0; d3 < s.dims[3]; ++d3, ++i) {
          int64_t ia = d0 * s.aStrides[0] + d1 * s.aStrides[1] +
                       d2 * s.aStrides[2] + d3 * s.aStrides[3];
          int64_t ib = d0 * s.bStrides[0] + d1 * s.bStrides[1] +
                       d2 * s.bStrides[2] + d3 * s.bStrides[3];
          out[i] = binaryF32(kind, a[ia], b[ib]);
        }
}

/// tosa.reduce_max / reduce_sum of float32 along one axis: `in` is
/// outer x len x inner, `out` outer x inner. Sums run in index order from
/// 0.0f; the maximum starts at -inf and propagates NaN.
inline void reduceF32(const float *in, float *out, int64_t outer, int64_t len,
                      int64_t inner, bool isMax) {
  for (int64_t a = 0; a < outer; ++a)
    for (int64_t c = 0; c < inner; ++c) {
      float acc = isMax ? -INFINITY : 0.0f;
      for (int64_t r = 0; r < len; ++r) {
        float v = in[(a * len + r) * inner + c];
        if (isMax)
          acc = std::isnan(v) || std::isnan(acc) ? v + acc : std::max(acc, v);
        else
          acc += v;
      }
      out[a * inner + c] = acc;
    }
}

/// Typed pointer `offset` bytes into an arena or a weight blob (generated
/// code addresses every tensor this way).
template <typename T> inline T *bufferAt(void *base, int64_t offset) {
  return reinterpret_cast<T *>(static_cast<unsigned char *>(base) + offset);
}
template <typename T>
inline const T *bufferAt(const void *base, int64_t offset) {
  return reinterpret_cast<const T *>(
      static_cast<const unsigned char *>(base) + offset);
}

/// Copies `bytes` bytes (a reshape whose result cannot alias its input).
inline void copyBytes(const void *in, void *out, int64_t bytes) {
  if (in != out)
    std::memmove(out, in, static_cast<size_t>(bytes));
}

} // namespace rt
} // namespace lowbit

#endif // LOWBIT_RUNTIME_OPS_H
