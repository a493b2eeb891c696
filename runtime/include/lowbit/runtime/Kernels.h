//===- Kernels.h - Float and integer reference kernels ----------*- C++ -*-===//
//
// Part of the lowbit project.
//
//===----------------------------------------------------------------------===//
//
// The reference kernels that lowbit's reference evaluator (and the C++ it
// generates) call for the compute-heavy TOSA operations: convolution,
// depthwise convolution, batched matmul, pooling, and the data movement ops
// (transpose, pad, slice, concat).
//
// The rules are those of IREE micro-kernels: no allocation, no globals, no
// LLVM/MLIR dependency, reentrant, the caller owns every buffer. All sizes and
// indices are int64_t. Buffers are dense and row-major; activations are NHWC.
//
// Integer semantics. The integer kernels define the accumulator as the exact
// sum of int64 products, converted to TAcc with a static_cast (two's
// complement wrap for int32). Arithmetic modulo 2^k is a ring homomorphism, so
// they accumulate in the unsigned type of TAcc's width: the low bits of a
// wrapping sum equal the low bits of the exact one, the narrower lanes
// vectorize better than int64, and unsigned overflow is defined behaviour.
// The integer templates live here so that any translation unit can
// instantiate them for the types it needs.
//
// Float semantics. The float kernels reassociate sums (they keep several
// partial sums so the compiler can vectorize without -ffast-math); results
// therefore differ from a strictly sequential sum by rounding only. The one
// exception is avgPool2dF32, whose summation order is specified.
//
//===----------------------------------------------------------------------===//

#ifndef LOWBIT_RUNTIME_KERNELS_H
#define LOWBIT_RUNTIME_KERNELS_H

#include "lowbit/runtime/Requant.h"

#include <algorithm>
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <type_traits>

namespace lowbit {
namespace rt {

/// Largest rank the data movement kernels accept. They keep per-dimension
/// counters in fixed-size stack arrays instead of allocating.
constexpr int kMaxRank = 16;

/// Shape of a 2-D convolution. Activations are NHWC, weights OHWI with
/// I = c / groups (O = oc output channels, output channel o belongs to group
/// o / (oc / groups)). Padding after is implied by oh/ow.
struct Conv2DShape {
  int64_t n, h, w, c;    // input
  int64_t oh, ow, oc;    // output spatial size and channels
  int64_t kh, kw;        // kernel
  int64_t strideH, strideW;
  int64_t dilationH, dilationW;
  int64_t padTop, padLeft;
  int64_t groups;        // 1 for a plain convolution
};

/// out[n,y,x,o] = bias[o] (0 when bias is null)
///   + sum_{ky,kx,i} in[n, y*sH + ky*dH - padTop, x*sW + kx*dW - padLeft, g*I + i]
///                   * w[o,ky,kx,i]
/// Positions outside the input contribute 0.
void conv2dF32(const float *in, const float *weight, const float *bias,
               float *out, const Conv2DShape &s);

/// Integer version: acc = bias[o] + sum (in - inZp) * (w - wZp); positions
/// outside the input contribute 0 (they stand for the real value zero).
/// Products and sums are formed in int64_t and the result is converted to
/// TAcc (int32_t or int64_t) with a static_cast (wraps like two's complement
/// for int32). TIn / TW can be int8_t, uint8_t, int16_t, int32_t.
template <typename TIn, typename TW, typename TAcc>
void conv2dInt(const TIn *in, const TW *weight, const TAcc *bias, int32_t inZp,
               int32_t wZp, TAcc *out, const Conv2DShape &s);

/// Depthwise convolution with TOSA's weight layout [KH, KW, C, M]: output
/// channel o = ci * M + m reads only input channel ci. s.oc must equal
/// s.c * multiplier; s.groups is ignored.
void depthwiseConv2dF32(const float *in, const float *weight,
                        const float *bias, float *out, const Conv2DShape &s,
                        int64_t multiplier);
/// Integer depthwise convolution, with conv2dInt's integer semantics.
template <typename TIn, typename TW, typename TAcc>
void depthwiseConv2dInt(const TIn *in, const TW *weight, const TAcc *bias,
                        int32_t inZp, int32_t wZp, TAcc *out,
                        const Conv2DShape &s, int64_t multiplier);

/// Batched matrix product: a [batch, m, k] row-major, b [batch, k, n],
/// c [batch, m, n].
void matmulF32(const float *a, const float *b, float *c, int64_t batch,
               int64_t m, int64_t k, int64_t n);
/// c = sum (a - aZp) * (b - bZp), int64 accumulation, cast to TAcc.
template <typename TA, typename TB, typename TAcc>
void matmulInt(const TA *a, const TB *b, TAcc *c, int32_t aZp, int32_t bZp,
               int64_t batch, int64_t m, int64_t k, int64_t n);

/// 2-D pooling over NHWC.
struct Pool2DShape {
  int64_t n, h, w, c;
  int64_t oh, ow;
  int64_t kh, kw;
  int64_t strideH, strideW;
  int64_t padTop, padLeft;
};
/// Maximum over the window; positions outside the input are ignored. For
/// floats a NaN in the window makes the result NaN. A window that holds no
/// input position (only possible with padding >= kernel size, which TOSA
/// forbids) yields the identity of max: -infinity for floats, the lowest
/// value for integers.
template <typename T> void maxPool2d(const T *in, T *out, const Pool2DShape &s);
/// Integer average of stored values with zero point `zp` (lowbit.avg_pool,
/// lowbit.global_avg_pool):
///   out = saturate(zp + divideRoundHalfEven(sum(x - zp), count), lo, hi)
/// i.e. the exact mean of x - zp rounded to nearest, ties to even, before
/// the zero point is added (ONNX QuantizeLinear's rounding of the exact
/// DequantizeLinear -> AveragePool result; also what ONNX Runtime's
/// QLinearGlobalAveragePool computes). count is the window size, or the
/// number of positions inside the input when countIncludePad is false
/// (padded positions stand for the real value zero, x - zp = 0); a window
/// with count 0 yields zp.
template <typename T>
void avgPool2dInt(const T *in, T *out, const Pool2DShape &s, int32_t zp,
                  int32_t lo, int32_t hi, bool countIncludePad);
/// Mean over the window. countIncludePad=false divides by the number of
/// positions inside the input (TOSA / ONNX default); true divides by kh*kw
/// (positions outside count as zeros). The sum is formed in float in window
/// order (ky outer, kx inner) and divided once: out = sum / count (float
/// division). A window with count 0 yields 0.
void avgPool2dF32(const float *in, float *out, const Pool2DShape &s,
                  bool countIncludePad);

/// Resize (TOSA RESIZE) geometry of one spatial axis: output index o reads
/// the input coordinate (o * d + offset) / n, a rational number, so every
/// coordinate mode ONNX defines (align_corners, asymmetric, half_pixel,
/// pytorch_half_pixel) is exact, with no float rounding of positions.
struct ResizeAxis {
  int64_t n, d, offset;
};
/// NHWC resize: [batch, inH, inW, channels] -> [batch, outH, outW, channels].
struct ResizeShape {
  int64_t batch, inH, inW, channels, outH, outW;
  ResizeAxis y, x;
};
/// The one coordinate rule of every resize kernel: the input index
/// floor((o * d + offset) / n) and the fraction's numerator in [0, n).
inline void resizeCoordinate(const ResizeAxis &a, int64_t o, int64_t &index,
                             int64_t &frac) {
  int64_t p = o * a.d + a.offset;
  index = p >= 0 ? p / a.n : -((-p + a.n - 1) / a.n);
  frac = p - index * a.n;
}
/// Nearest neighbour: the index rounded half up (2 * frac >= n), clamped to
/// the input. Pure data movement on elements of `elemSize` bytes.
void resizeNearest(const void *in, void *out, size_t elemSize,
                   const ResizeShape &s);
/// Bilinear on floats: TOSA's formula with the fractions dy = frac_y / n_y,
/// dx = frac_x / n_x (float32), neighbours clamped to the input:
///   out = v00 (1-dy)(1-dx) + v01 (1-dy) dx + v10 dy (1-dx) + v11 dy dx
/// summed in that order.
void resizeBilinearF32(const float *in, float *out, const ResizeShape &s);
/// Bilinear on stored integers with zero point `zp`: the exact integer
///   acc = (v00-zp)(n_y-fy)(n_x-fx) + (v01-zp)(n_y-fy) fx
///       + (v10-zp) fy (n_x-fx) + (v11-zp) fy fx
/// of scale S_in / (n_y n_x), for one requant to the output's scale. The
/// caller keeps |v - zp| n_y n_x below 2^31.
template <typename T>
void resizeBilinearInt(const T *in, int32_t *out, const ResizeShape &s,
                       int32_t zp);

/// Data movement on elements of `elemSize` bytes (any element type),
/// row-major, rank <= kMaxRank (rank 0 is a single element).
/// out shape[d] = inShape[perm[d]].
void transpose(const void *in, void *out, size_t elemSize,
               const int64_t *inShape, const int32_t *perm, int rank);
/// out shape[d] = padBefore[d] + inShape[d] + padAfter[d] (all paddings
/// non-negative); new positions get *padValue (elemSize bytes).
void pad(const void *in, void *out, size_t elemSize, const int64_t *inShape,
         int rank, const int64_t *padBefore, const int64_t *padAfter,
         const void *padValue);
/// out = in[start[d] : start[d] + size[d]] on every dimension.
void slice(const void *in, void *out, size_t elemSize, const int64_t *inShape,
           int rank, const int64_t *start, const int64_t *size);
/// Joins numInputs tensors of equal rank along `axis`; inShapes[i] is the
/// shape of input i.
void concat(const void *const *ins, const int64_t *const *inShapes,
            int numInputs, void *out, size_t elemSize, int rank, int axis);

//===----------------------------------------------------------------------===//
// Implementation details shared by the float and integer kernels.
//===----------------------------------------------------------------------===//

namespace detail {

/// Number of independent partial sums a dot product keeps. Eight floats fill
/// one AVX register (two SSE ones); enough independent chains to hide the
/// add latency without running out of registers when four outputs are
/// blocked together.
constexpr int64_t kLanes = 8;

/// Channels a depthwise kernel accumulates on the stack at once. A local
/// array (rather than the output buffer) lets the compiler vectorize without
/// proving that `out` does not alias the inputs.
constexpr int64_t kChannelChunk = 64;

/// ceil(a / b) for a >= 0 and b > 0.
inline int64_t ceilDiv(int64_t a, int64_t b) { return (a + b - 1) / b; }

/// The range [begin, end) of kernel taps k in [0, k) whose input coordinate
/// base + k * dilation lies in [0, size). Computing it once per output row or
/// pixel keeps every bounds check out of the inner loops.
struct TapRange {
  int64_t begin, end;
};
inline TapRange validTaps(int64_t base, int64_t dilation, int64_t taps,
                          int64_t size) {
  if (dilation == 1) { // the same bounds without the divisions
    int64_t begin = base >= 0 ? 0 : -base;
    int64_t end = base >= size ? 0 : size - base;
    if (end > taps)
      end = taps;
    if (begin > end)
      begin = end;
    return {begin, end};
  }
  // Both divisions see non-negative numerators.
  int64_t begin = base >= 0 ? 0 : ceilDiv(-base, dilation);
  int64_t end = base >= size ? 0 : ceilDiv(size - base, dilation);
  if (end > taps)
    end = taps;
  if (begin > end)
    begin = end;
  return {begin, end};
}

/// One output pixel of a sliding window (a convolution's or a pool's): its
/// batch b, the input position (y0, x0) of its window's first tap, the taps
/// that fall inside the input, and its index (b * oh + y) * ow + x among the
/// output pixels.
struct WindowPixel {
  int64_t b, y0, x0;
  TapRange ky, kx;
  int64_t index;
};

/// Calls f(WindowPixel) for each output pixel of row y of batch b of the
/// window of shape s (a Conv2DShape or a Pool2DShape) with dilations
/// (dilationH, dilationW).
template <typename Shape, typename F>
inline void forEachWindowPixelOfRow(const Shape &s, int64_t dilationH,
                                    int64_t dilationW, int64_t b, int64_t y,
                                    F &&f) {
  const int64_t y0 = y * s.strideH - s.padTop;
  const TapRange ky = validTaps(y0, dilationH, s.kh, s.h);
  for (int64_t x = 0; x < s.ow; ++x) {
    const int64_t x0 = x * s.strideW - s.padLeft;
    f(WindowPixel{b, y0, x0, ky, validTaps(x0, dilationW, s.kw, s.w),
                  (b * s.oh + y) * s.ow + x});
  }
}

/// forEachWindowPixelOfRow over every row of every batch, in order.
template <typename Shape, typename F>
inline void forEachWindowPixel(const Shape &s, int64_t dilationH,
                               int64_t dilationW, F &&f) {
  for (int64_t b = 0; b < s.n; ++b)
    for (int64_t y = 0; y < s.oh; ++y)
      forEachWindowPixelOfRow(s, dilationH, dilationW, b, y, f);
}

/// The type integer kernels accumulate in: unsigned of TAcc's width (see the
/// file comment for why this equals int64 accumulation then static_cast).
template <typename TAcc> struct IntAccumulator {
  static_assert(std::is_same<TAcc, int32_t>::value ||
                    std::is_same<TAcc, int64_t>::value,
                "integer kernels accumulate into int32_t or int64_t");
  using type = std::make_unsigned_t<TAcc>;
};

/// Checks the operand types the integer kernels are specified for.
template <typename T> constexpr bool isKernelIntOperand() {
  return std::is_same<T, int8_t>::value || std::is_same<T, uint8_t>::value ||
         std::is_same<T, int16_t>::value || std::is_same<T, int32_t>::value;
}

/// Adds sum_i (x[i] - xZp) * (w_r[i] - wZp) for r < R to acc[r][*], where
/// w_r = w + r * wStride. Blocking R output channels shares each input load
/// between R products; the fixed-width lane loop is what the vectorizer sees.
template <int R, typename TX, typename TW, typename U>
inline void dotBlockInt(const TX *x, const TW *w, int64_t wStride, int64_t len,
                        U xZp, U wZp, U (&acc)[R][kLanes]) {
  int64_t i = 0;
  for (; i + kLanes <= len; i += kLanes)
    for (int r = 0; r < R; ++r)
      for (int64_t j = 0; j < kLanes; ++j)
        acc[r][j] += (static_cast<U>(x[i + j]) - xZp) *
                     (static_cast<U>(w[r * wStride + i + j]) - wZp);
  for (; i < len; ++i)
    for (int r = 0; r < R; ++r)
      acc[r][0] += (static_cast<U>(x[i]) - xZp) *
                   (static_cast<U>(w[r * wStride + i]) - wZp);
}

/// Calls dot(x, w, wStride, len) for the runs of input and weights whose
/// products make up output channel o's sum at one output pixel p of a
/// convolution (of the channels [o, o + R) the caller blocks together, the
/// weights of channel o + r are at w + r * wStride). `inBatch` points at the
/// pixel's batch of the input, `wO` at output channel o's weights, `inC` is
/// the group's first input channel and I its input channels.
template <typename TIn, typename TW, typename Dot>
inline void convPixelRuns(const TIn *inBatch, const TW *wO,
                          const Conv2DShape &s, int64_t inC, int64_t I,
                          const WindowPixel &p, Dot &&dot) {
  const int64_t wStride = s.kh * s.kw * I;
  // Without dilation and groups the taps of one kernel row read one
  // contiguous run of input and weights: a single long dot product.
  const bool contiguous = s.dilationW == 1 && I == s.c;
  for (int64_t kyI = p.ky.begin; kyI < p.ky.end; ++kyI) {
    const int64_t iy = p.y0 + kyI * s.dilationH;
    const TIn *inRow = inBatch + iy * s.w * s.c + inC;
    const TW *wRow = wO + kyI * s.kw * I;
    if (contiguous) {
      dot(inRow + (p.x0 + p.kx.begin) * s.c, wRow + p.kx.begin * I, wStride,
          (p.kx.end - p.kx.begin) * I);
      continue;
    }
    for (int64_t kxI = p.kx.begin; kxI < p.kx.end; ++kxI)
      dot(inRow + (p.x0 + kxI * s.dilationW) * s.c, wRow + kxI * I, wStride, I);
  }
}

/// Accumulates R consecutive output channels [o, o + R) of output pixel p
/// of a convolution, all in one group (see convPixelRuns).
template <int R, typename TIn, typename TW, typename U>
inline void convPixelInt(const TIn *inBatch, const TW *wO, const Conv2DShape &s,
                         int64_t inC, int64_t I, const WindowPixel &p, U xZp,
                         U wZp, U (&acc)[R][kLanes]) {
  convPixelRuns(inBatch, wO, s, inC, I, p,
                [&](const TIn *x, const TW *w, int64_t wStride, int64_t len) {
                  dotBlockInt<R>(x, w, wStride, len, xZp, wZp, acc);
                });
}

/// c[bi] = av(a[bi]) x bv(b[bi]) for each of `batch` row-major matrices
/// ([m, k] x [k, n]), accumulated in A (av and bv map a stored value to A:
/// minus its zero point for the integer kernel), written to c as TC.
template <typename A, typename TA, typename TB, typename TC, typename AV,
          typename BV>
inline void batchMatmul(const TA *a, const TB *b, TC *c, int64_t batch,
                        int64_t m, int64_t k, int64_t n, AV &&av, BV &&bv) {
  for (int64_t bi = 0; bi < batch; ++bi) {
    const TA *aB = a + bi * m * k;
    const TB *bB = b + bi * k * n;
    TC *cB = c + bi * m * n;
    for (int64_t i = 0; i < m; ++i) {
      // Row i of c, kChannelChunk columns at a time: c[i, j] += a[i, p] *
      // b[p, j] runs over contiguous j, in a stack array the compiler knows
      // is not aliased.
      for (int64_t j0 = 0; j0 < n; j0 += kChannelChunk) {
        const int64_t len = j0 + kChannelChunk < n ? kChannelChunk : n - j0;
        A acc[kChannelChunk] = {};
        for (int64_t p = 0; p < k; ++p) {
          const A x = av(aB[i * k + p]);
          const TB *bRow = bB + p * n + j0;
          for (int64_t j = 0; j < len; ++j)
            acc[j] += x * bv(bRow[j]);
        }
        for (int64_t j = 0; j < len; ++j)
          cB[i * n + j0 + j] = static_cast<TC>(acc[j]);
      }
    }
  }
}

/// Output pixel p of a depthwise convolution with channel multiplier M:
/// out[o] = bias[o] + sum over the valid taps of xv(in[o / M]) * wv(w[o]),
/// accumulated in A (xv and wv map a stored value to A: minus its zero
/// point for the integer kernels), written to outPixel as TOut.
template <typename A, typename TIn, typename TW, typename TB, typename TOut,
          typename XV, typename WV>
inline void depthwisePixel(const TIn *inBatch, const TW *weight, const TB *bias,
                           TOut *outPixel, const Conv2DShape &s, int64_t M,
                           const WindowPixel &p, XV &&xv, WV &&wv) {
  // Chunks cover whole input channels so each output channel's input is in
  // the same chunk; a multiplier wider than the chunk gets one channel each.
  const int64_t chunkIn = M >= kChannelChunk ? 1 : kChannelChunk / M;
  for (int64_t c0 = 0; c0 < s.c; c0 += chunkIn) {
    const int64_t cEnd = c0 + chunkIn < s.c ? c0 + chunkIn : s.c;
    // Output channels [c0 * M, cEnd * M), processed in sub-chunks of at
    // most kChannelChunk (only several when M > kChannelChunk).
    for (int64_t o0 = c0 * M; o0 < cEnd * M; o0 += kChannelChunk) {
      const int64_t oEnd =
          o0 + kChannelChunk < cEnd * M ? o0 + kChannelChunk : cEnd * M;
      const int64_t len = oEnd - o0;
      A acc[kChannelChunk];
      for (int64_t j = 0; j < len; ++j)
        acc[j] = bias ? static_cast<A>(bias[o0 + j]) : A(0);
      for (int64_t kyI = p.ky.begin; kyI < p.ky.end; ++kyI) {
        const int64_t iy = p.y0 + kyI * s.dilationH;
        for (int64_t kxI = p.kx.begin; kxI < p.kx.end; ++kxI) {
          const int64_t ix = p.x0 + kxI * s.dilationW;
          const TIn *inPix = inBatch + (iy * s.w + ix) * s.c;
          const TW *wTap = weight + (kyI * s.kw + kxI) * s.oc + o0;
          if (M == 1) {
            for (int64_t j = 0; j < len; ++j)
              acc[j] += xv(inPix[o0 + j]) * wv(wTap[j]);
            continue;
          }
          // o = ci * M + m; walk ci and m instead of dividing.
          int64_t ci = o0 / M, m = o0 % M;
          A v = xv(inPix[ci]);
          for (int64_t j = 0; j < len; ++j) {
            acc[j] += v * wv(wTap[j]);
            if (++m == M && j + 1 < len) {
              m = 0;
              v = xv(inPix[++ci]);
            }
          }
        }
      }
      for (int64_t j = 0; j < len; ++j)
        outPixel[o0 + j] = static_cast<TOut>(acc[j]);
    }
  }
}

} // namespace detail

//===----------------------------------------------------------------------===//
// Integer kernels.
//===----------------------------------------------------------------------===//

template <typename TIn, typename TW, typename TAcc>
void conv2dInt(const TIn *in, const TW *weight, const TAcc *bias, int32_t inZp,
               int32_t wZp, TAcc *out, const Conv2DShape &s) {
  static_assert(detail::isKernelIntOperand<TIn>() &&
                    detail::isKernelIntOperand<TW>(),
                "conv2dInt operands are int8, uint8, int16 or int32");
  using U = typename detail::IntAccumulator<TAcc>::type;
  using detail::kLanes;
  assert(s.groups > 0 && s.c % s.groups == 0 && s.oc % s.groups == 0);
  const int64_t I = s.c / s.groups;
  const int64_t opg = s.oc / s.groups;
  const U xZp = static_cast<U>(static_cast<int64_t>(inZp));
  const U wZpU = static_cast<U>(static_cast<int64_t>(wZp));
  constexpr int R = 4;
  detail::forEachWindowPixel(
      s, s.dilationH, s.dilationW, [&](const detail::WindowPixel &p) {
        const TIn *inBatch = in + p.b * s.h * s.w * s.c;
        TAcc *outPixel = out + p.index * s.oc;
        for (int64_t g = 0; g < s.groups; ++g) {
          const int64_t oEnd = (g + 1) * opg;
          int64_t o = g * opg;
          auto finish = [&](int64_t oc, const U *lanes) {
            U sum = bias ? static_cast<U>(bias[oc]) : U(0);
            for (int64_t j = 0; j < kLanes; ++j)
              sum += lanes[j];
            outPixel[oc] = static_cast<TAcc>(sum);
          };
          for (; o + R <= oEnd; o += R) {
            U acc[R][kLanes] = {};
            detail::convPixelInt<R>(inBatch, weight + o * s.kh * s.kw * I, s,
                                    g * I, I, p, xZp, wZpU, acc);
            for (int r = 0; r < R; ++r)
              finish(o + r, acc[r]);
          }
          for (; o < oEnd; ++o) {
            U acc[1][kLanes] = {};
            detail::convPixelInt<1>(inBatch, weight + o * s.kh * s.kw * I, s,
                                    g * I, I, p, xZp, wZpU, acc);
            finish(o, acc[0]);
          }
        }
      });
}

template <typename TIn, typename TW, typename TAcc>
void depthwiseConv2dInt(const TIn *in, const TW *weight, const TAcc *bias,
                        int32_t inZp, int32_t wZp, TAcc *out,
                        const Conv2DShape &s, int64_t multiplier) {
  static_assert(detail::isKernelIntOperand<TIn>() &&
                    detail::isKernelIntOperand<TW>(),
                "depthwiseConv2dInt operands are int8, uint8, int16 or int32");
  using U = typename detail::IntAccumulator<TAcc>::type;
  const int64_t M = multiplier;
  assert(M > 0 && s.oc == s.c * M);
  const U xZp = static_cast<U>(static_cast<int64_t>(inZp));
  const U wZpU = static_cast<U>(static_cast<int64_t>(wZp));
  detail::forEachWindowPixel(
      s, s.dilationH, s.dilationW, [&](const detail::WindowPixel &p) {
        detail::depthwisePixel<U>(
            in + p.b * s.h * s.w * s.c, weight, bias, out + p.index * s.oc, s,
            M, p, [&](TIn v) { return static_cast<U>(v) - xZp; },
            [&](TW v) { return static_cast<U>(v) - wZpU; });
      });
}

template <typename TA, typename TB, typename TAcc>
void matmulInt(const TA *a, const TB *b, TAcc *c, int32_t aZp, int32_t bZp,
               int64_t batch, int64_t m, int64_t k, int64_t n) {
  static_assert(detail::isKernelIntOperand<TA>() &&
                    detail::isKernelIntOperand<TB>(),
                "matmulInt operands are int8, uint8, int16 or int32");
  using U = typename detail::IntAccumulator<TAcc>::type;
  const U aZpU = static_cast<U>(static_cast<int64_t>(aZp));
  const U bZpU = static_cast<U>(static_cast<int64_t>(bZp));
  detail::batchMatmul<U>(
      a, b, c, batch, m, k, n, [&](TA v) { return static_cast<U>(v) - aZpU; },
      [&](TB v) { return static_cast<U>(v) - bZpU; });
}

template <typename T> void maxPool2d(const T *in, T *out, const Pool2DShape &s) {
  const T identity = std::numeric_limits<T>::has_infinity
                         ? -std::numeric_limits<T>::infinity()
                         : std::numeric_limits<T>::lowest();
  for (int64_t b = 0; b < s.n; ++b) {
    const T *inBatch = in + b * s.h * s.w * s.c;
    for (int64_t y = 0; y < s.oh; ++y) {
      const int64_t y0 = y * s.strideH - s.padTop;
      const detail::TapRange ky = detail::validTaps(y0, 1, s.kh, s.h);
      for (int64_t x = 0; x < s.ow; ++x) {
        const int64_t x0 = x * s.strideW - s.padLeft;
        const detail::TapRange kx = detail::validTaps(x0, 1, s.kw, s.w);
        T *outPixel = out + ((b * s.oh + y) * s.ow + x) * s.c;
        // A chunk of channels at a time in a local array, which the
        // compiler knows `in` does not alias, so the max vectorizes.
        for (int64_t c0 = 0; c0 < s.c; c0 += detail::kChannelChunk) {
          const int64_t len = std::min(detail::kChannelChunk, s.c - c0);
          T acc[detail::kChannelChunk];
          for (int64_t ch = 0; ch < len; ++ch)
            acc[ch] = identity;
          for (int64_t kyI = ky.begin; kyI < ky.end; ++kyI) {
            for (int64_t kxI = kx.begin; kxI < kx.end; ++kxI) {
              const T *inPix =
                  inBatch + ((y0 + kyI) * s.w + x0 + kxI) * s.c + c0;
              for (int64_t ch = 0; ch < len; ++ch) {
                const T v = inPix[ch];
                if constexpr (std::is_floating_point<T>::value) {
                  // Once the running maximum is NaN, `v > m` stays false,
                  // so taking a NaN `v` is all propagation needs.
                  if (v > acc[ch] || v != v)
                    acc[ch] = v;
                } else {
                  acc[ch] = v > acc[ch] ? v : acc[ch];
                }
              }
            }
          }
          for (int64_t ch = 0; ch < len; ++ch)
            outPixel[c0 + ch] = acc[ch];
        }
      }
    }
  }
}

template <typename T>
void avgPool2dInt(const T *in, T *out, const Pool2DShape &s, int32_t zp,
                  int32_t lo, int32_t hi, bool countIncludePad) {
  for (int64_t n = 0; n < s.n; ++n)
    for (int64_t y = 0; y < s.oh; ++y)
      for (int64_t x = 0; x < s.ow; ++x)
        for (int64_t c = 0; c < s.c; ++c) {
          int64_t sum = 0, count = 0;
          for (int64_t ky = 0; ky < s.kh; ++ky) {
            int64_t iy = y * s.strideH + ky - s.padTop;
            if (iy < 0 || iy >= s.h)
              continue;
            for (int64_t kx = 0; kx < s.kw; ++kx) {
              int64_t ix = x * s.strideW + kx - s.padLeft;
              if (ix < 0 || ix >= s.w)
                continue;
              sum += static_cast<int64_t>(
                         in[((n * s.h + iy) * s.w + ix) * s.c + c]) -
                     zp;
              ++count;
            }
          }
          if (countIncludePad)
            count = s.kh * s.kw;
          const int64_t mean = count == 0 ? 0 : divideRoundHalfEven(sum, count);
          out[((n * s.oh + y) * s.ow + x) * s.c + c] =
              static_cast<T>(saturate(mean + zp, lo, hi));
        }
}

} // namespace rt
} // namespace lowbit

#endif // LOWBIT_RUNTIME_KERNELS_H
