//===- Kernels.cpp - Float kernels and data movement ----------------------===//
//
// Part of the lowbit project.
//
//===----------------------------------------------------------------------===//
//
// The float kernels mirror the integer templates in Kernels.h: the loops that
// do the work run over contiguous channels with their bounds precomputed, and
// partial sums live in small fixed-size stack arrays, so g++ -O2 vectorizes
// them without -ffast-math and without aliasing checks.
//
//===----------------------------------------------------------------------===//

#include "lowbit/runtime/Kernels.h"

#include <algorithm>
#include <cstring>

namespace lowbit {
namespace rt {

using detail::kChannelChunk;
using detail::kLanes;
using detail::TapRange;
using detail::validTaps;
using detail::WindowPixel;

//===----------------------------------------------------------------------===//
// Convolution
//===----------------------------------------------------------------------===//

namespace {

/// Adds x . w_r for r < R into acc[r][*], with w_r = w + r * wStride. Each
/// lane is its own partial sum, so the j loop is plain vertical arithmetic
/// the SLP vectorizer handles without reassociating anything.
template <int R>
inline void dotBlockF32(const float *x, const float *w, int64_t wStride,
                        int64_t len, float (&acc)[R][kLanes]) {
  // Work on a local copy: clang otherwise keeps `acc` in memory across the
  // loop (6-10x slower); gcc is indifferent within ~10%.
  float a[R][kLanes];
  for (int r = 0; r < R; ++r)
    for (int64_t j = 0; j < kLanes; ++j)
      a[r][j] = acc[r][j];
  int64_t i = 0;
  for (; i + kLanes <= len; i += kLanes)
    for (int r = 0; r < R; ++r)
      for (int64_t j = 0; j < kLanes; ++j)
        a[r][j] += x[i + j] * w[r * wStride + i + j];
  for (; i < len; ++i)
    for (int r = 0; r < R; ++r)
      a[r][0] += x[i] * w[r * wStride + i];
  for (int r = 0; r < R; ++r)
    for (int64_t j = 0; j < kLanes; ++j)
      acc[r][j] = a[r][j];
}

/// Accumulates R consecutive output channels of output pixel p; see
/// detail::convPixelInt.
template <int R>
inline void convPixelF32(const float *inBatch, const float *wO,
                         const Conv2DShape &s, int64_t inC, int64_t I,
                         const WindowPixel &p, float (&acc)[R][kLanes]) {
  detail::convPixelRuns(inBatch, wO, s, inC, I, p,
                        [&](const float *x, const float *w, int64_t wStride,
                            int64_t len) {
                          dotBlockF32<R>(x, w, wStride, len, acc);
                        });
}

/// Sums the lanes pairwise (the order a vector horizontal add would use).
inline float reduceLanes(const float (&lanes)[kLanes]) {
  float a = (lanes[0] + lanes[4]) + (lanes[1] + lanes[5]);
  float b = (lanes[2] + lanes[6]) + (lanes[3] + lanes[7]);
  return a + b;
}
static_assert(kLanes == 8, "reduceLanes assumes eight lanes");

} // namespace

void conv2dF32(const float *in, const float *weight, const float *bias,
               float *out, const Conv2DShape &s) {
  assert(s.groups > 0 && s.c % s.groups == 0 && s.oc % s.groups == 0);
  const int64_t I = s.c / s.groups;
  const int64_t opg = s.oc / s.groups;
  // Four output channels at a time: each input load feeds four products,
  // and 4 x 8 partial sums still fit in the SSE/AVX register file.
  constexpr int R = 4;
  detail::forEachWindowPixel(
      s, s.dilationH, s.dilationW, [&](const WindowPixel &p) {
        const float *inBatch = in + p.b * s.h * s.w * s.c;
        float *outPixel = out + p.index * s.oc;
        for (int64_t g = 0; g < s.groups; ++g) {
          const int64_t oEnd = (g + 1) * opg;
          int64_t o = g * opg;
          for (; o + R <= oEnd; o += R) {
            float acc[R][kLanes] = {};
            convPixelF32<R>(inBatch, weight + o * s.kh * s.kw * I, s, g * I, I,
                            p, acc);
            for (int r = 0; r < R; ++r)
              outPixel[o + r] = (bias ? bias[o + r] : 0.0f) + reduceLanes(acc[r]);
          }
          for (; o < oEnd; ++o) {
            float acc[1][kLanes] = {};
            convPixelF32<1>(inBatch, weight + o * s.kh * s.kw * I, s, g * I, I,
                            p, acc);
            outPixel[o] = (bias ? bias[o] : 0.0f) + reduceLanes(acc[0]);
          }
        }
      });
}

void depthwiseConv2dF32(const float *in, const float *weight,
                        const float *bias, float *out, const Conv2DShape &s,
                        int64_t multiplier) {
  const int64_t M = multiplier;
  assert(M > 0 && s.oc == s.c * M);
  // The same loops as depthwiseConv2dInt, on the stored values.
  const auto value = [](float v) { return v; };
  detail::forEachWindowPixel(
      s, s.dilationH, s.dilationW, [&](const WindowPixel &p) {
        detail::depthwisePixel<float>(in + p.b * s.h * s.w * s.c, weight, bias,
                                      out + p.index * s.oc, s, M, p, value,
                                      value);
      });
}

//===----------------------------------------------------------------------===//
// Matmul and pooling
//===----------------------------------------------------------------------===//

void matmulF32(const float *a, const float *b, float *c, int64_t batch,
               int64_t m, int64_t k, int64_t n) {
  const auto value = [](float v) { return v; };
  detail::batchMatmul<float>(a, b, c, batch, m, k, n, value, value);
}

void avgPool2dF32(const float *in, float *out, const Pool2DShape &s,
                  bool countIncludePad) {
  for (int64_t b = 0; b < s.n; ++b) {
    const float *inBatch = in + b * s.h * s.w * s.c;
    for (int64_t y = 0; y < s.oh; ++y) {
      const int64_t y0 = y * s.strideH - s.padTop;
      const TapRange ky = validTaps(y0, 1, s.kh, s.h);
      for (int64_t x = 0; x < s.ow; ++x) {
        const int64_t x0 = x * s.strideW - s.padLeft;
        const TapRange kx = validTaps(x0, 1, s.kw, s.w);
        const int64_t count = countIncludePad
                                  ? s.kh * s.kw
                                  : (ky.end - ky.begin) * (kx.end - kx.begin);
        const float divisor = static_cast<float>(count);
        float *outPixel = out + ((b * s.oh + y) * s.ow + x) * s.c;
        for (int64_t c0 = 0; c0 < s.c; c0 += kChannelChunk) {
          const int64_t len =
              c0 + kChannelChunk < s.c ? kChannelChunk : s.c - c0;
          // Per channel the sum runs in window order (ky outer, kx inner), as
          // specified; vectorizing across channels does not reorder it.
          float acc[kChannelChunk] = {};
          for (int64_t kyI = ky.begin; kyI < ky.end; ++kyI)
            for (int64_t kxI = kx.begin; kxI < kx.end; ++kxI) {
              const float *inPix =
                  inBatch + ((y0 + kyI) * s.w + x0 + kxI) * s.c + c0;
              for (int64_t j = 0; j < len; ++j)
                acc[j] += inPix[j];
            }
          for (int64_t j = 0; j < len; ++j)
            outPixel[c0 + j] = count == 0 ? 0.0f : acc[j] / divisor;
        }
      }
    }
  }
}

//===----------------------------------------------------------------------===//
// Data movement
//===----------------------------------------------------------------------===//

namespace {

/// Copies `count` elements of `elemSize` bytes from `src` (stride `srcStride`
/// elements) to contiguous `dst`. Common sizes get a typed loop so each
/// element is one load and one store rather than a memcpy call.
template <size_t N>
inline void gatherFixed(const char *src, int64_t srcStride, char *dst,
                        int64_t count) {
  const int64_t step = srcStride * static_cast<int64_t>(N);
  for (int64_t i = 0; i < count; ++i)
    std::memcpy(dst + i * static_cast<int64_t>(N), src + i * step, N);
}
void gather(const char *src, int64_t srcStride, char *dst, int64_t count,
            size_t elemSize) {
  switch (elemSize) {
  case 1:
    return gatherFixed<1>(src, srcStride, dst, count);
  case 2:
    return gatherFixed<2>(src, srcStride, dst, count);
  case 4:
    return gatherFixed<4>(src, srcStride, dst, count);
  case 8:
    return gatherFixed<8>(src, srcStride, dst, count);
  default:
    break;
  }
  const int64_t size = static_cast<int64_t>(elemSize);
  for (int64_t i = 0; i < count; ++i)
    std::memcpy(dst + i * size, src + i * srcStride * size, elemSize);
}

/// Fills `count` elements at `dst` with the element at `value`.
template <size_t N>
inline void fillFixed(char *dst, const void *value, int64_t count) {
  for (int64_t i = 0; i < count; ++i)
    std::memcpy(dst + i * static_cast<int64_t>(N), value, N);
}
void fill(char *dst, const void *value, int64_t count, size_t elemSize) {
  switch (elemSize) {
  case 1:
    std::memset(dst, *static_cast<const unsigned char *>(value),
                static_cast<size_t>(count));
    return;
  case 2:
    return fillFixed<2>(dst, value, count);
  case 4:
    return fillFixed<4>(dst, value, count);
  case 8:
    return fillFixed<8>(dst, value, count);
  default:
    break;
  }
  for (int64_t i = 0; i < count; ++i)
    std::memcpy(dst + i * static_cast<int64_t>(elemSize), value, elemSize);
}

/// Advances the odometer `idx` over dims [0, rank) of `shape`, last fastest.
/// Returns false after the last index.
inline bool nextIndex(int64_t *idx, const int64_t *shape, int rank) {
  for (int d = rank - 1; d >= 0; --d) {
    if (++idx[d] < shape[d])
      return true;
    idx[d] = 0;
  }
  return false;
}

inline int64_t product(const int64_t *shape, int rank) {
  int64_t p = 1;
  for (int d = 0; d < rank; ++d)
    p *= shape[d];
  return p;
}

/// stride[d] = the row-major element stride of dimension d of shape.
inline void rowMajorStrides(const int64_t *shape, int rank, int64_t *stride) {
  int64_t running = 1;
  for (int d = rank - 1; d >= 0; --d) {
    stride[d] = running;
    running *= shape[d];
  }
}

/// The start of transpose, pad and slice: checks the rank and copies the
/// one element of a rank-0 tensor; true when that was the whole job or
/// there is none (the output, of shape outShape, is empty).
inline bool doneTrivially(const void *in, void *out, size_t elemSize,
                          int rank, const int64_t *outShape) {
  assert(rank >= 0 && rank <= kMaxRank);
  if (product(outShape, rank) == 0)
    return true;
  if (rank != 0)
    return false;
  std::memcpy(out, in, elemSize);
  return true;
}

} // namespace

void transpose(const void *in, void *out, size_t elemSize,
               const int64_t *inShape, const int32_t *perm, int rank) {
  if (doneTrivially(in, out, elemSize, rank, inShape))
    return;
  const char *src = static_cast<const char *>(in);
  char *dst = static_cast<char *>(out);

  int64_t inStride[kMaxRank];
  rowMajorStrides(inShape, rank, inStride);

  // Walk the output in order, as (size, input stride) per output dimension.
  // Size-1 dimensions are dropped, and an output dimension that continues
  // the previous one in the input too (the previous stride is this one's
  // extent) is merged into it, so NHWC <-> NCHW becomes a 2-D (batched)
  // transpose.
  int64_t size[kMaxRank], stride[kMaxRank];
  int dims = 0;
  for (int d = 0; d < rank; ++d) {
    const int p = perm[d];
    if (inShape[p] == 1)
      continue;
    if (dims > 0 && stride[dims - 1] == inShape[p] * inStride[p]) {
      size[dims - 1] *= inShape[p];
      stride[dims - 1] = inStride[p];
    } else {
      size[dims] = inShape[p];
      stride[dims] = inStride[p];
      ++dims;
    }
  }
  if (dims == 0) { // a single element
    std::memcpy(dst, src, elemSize);
    return;
  }

  const int64_t esize = static_cast<int64_t>(elemSize);
  const int64_t inner = size[dims - 1];
  const int64_t innerStride = stride[dims - 1];
  // If the innermost output dimension is contiguous in the input, each
  // output row is one memcpy.
  const bool contiguousRows = innerStride == 1;
  // A batched 2-D transpose with short output rows (NCHW -> NHWC on a few
  // channels): one pass per output column instead of a gather per row.
  if (dims == 2 && !contiguousRows && inner <= 16 &&
      (elemSize == 1 || elemSize == 4)) {
    const int64_t outer = size[0], outerStride = stride[0];
    for (int64_t j = 0; j < inner; ++j) {
      const char *s = src + j * innerStride * esize;
      char *d = dst + j * esize;
      if (elemSize == 1) {
        for (int64_t i = 0; i < outer; ++i)
          d[i * inner] = s[i * outerStride];
      } else {
        for (int64_t i = 0; i < outer; ++i)
          std::memcpy(d + i * inner * 4, s + i * outerStride * 4, 4);
      }
    }
    return;
  }
  int64_t idx[kMaxRank] = {};
  int64_t offset = 0; // input element offset of the current output row
  do {
    if (contiguousRows)
      std::memcpy(dst, src + offset * esize, inner * elemSize);
    else
      gather(src + offset * esize, innerStride, dst, inner, elemSize);
    dst += inner * esize;
    // Advance the odometer over the outer output dims, updating the input
    // offset incrementally instead of recomputing it by division.
    int d = dims - 2;
    for (; d >= 0; --d) {
      offset += stride[d];
      if (++idx[d] < size[d])
        break;
      offset -= stride[d] * size[d];
      idx[d] = 0;
    }
    if (d < 0)
      break;
  } while (true);
}

void pad(const void *in, void *out, size_t elemSize, const int64_t *inShape,
         int rank, const int64_t *padBefore, const int64_t *padAfter,
         const void *padValue) {
  int64_t outShape[kMaxRank], inStride[kMaxRank];
  for (int d = 0; d < rank; ++d) {
    assert(padBefore[d] >= 0 && padAfter[d] >= 0);
    outShape[d] = padBefore[d] + inShape[d] + padAfter[d];
  }
  if (doneTrivially(in, out, elemSize, rank, outShape))
    return;
  const char *src = static_cast<const char *>(in);
  char *dst = static_cast<char *>(out);
  rowMajorStrides(inShape, rank, inStride);

  // One output row (last dimension) at a time: a row whose outer index is in
  // the padding is all padValue; otherwise it is before-padding, one memcpy
  // of an input row, after-padding.
  const int64_t esize = static_cast<int64_t>(elemSize);
  const int last = rank - 1;
  const int64_t rowLen = outShape[last];
  int64_t idx[kMaxRank] = {};
  do {
    bool inside = true;
    int64_t offset = 0;
    for (int d = 0; d < last; ++d) {
      const int64_t i = idx[d] - padBefore[d];
      if (i < 0 || i >= inShape[d]) {
        inside = false;
        break;
      }
      offset += i * inStride[d];
    }
    if (!inside || inShape[last] == 0) {
      fill(dst, padValue, rowLen, elemSize);
    } else {
      fill(dst, padValue, padBefore[last], elemSize);
      std::memcpy(dst + padBefore[last] * esize, src + offset * esize,
                  inShape[last] * elemSize);
      fill(dst + (padBefore[last] + inShape[last]) * esize, padValue,
           padAfter[last], elemSize);
    }
    dst += rowLen * esize;
  } while (nextIndex(idx, outShape, last));
}

void resizeNearest(const void *in, void *out, size_t elemSize,
                   const ResizeShape &s) {
  const char *src = static_cast<const char *>(in);
  char *dst = static_cast<char *>(out);
  const size_t pixel = static_cast<size_t>(s.channels) * elemSize;
  auto nearest = [](const ResizeAxis &a, int64_t o, int64_t size) {
    int64_t i, f;
    resizeCoordinate(a, o, i, f);
    if (2 * f >= a.n)
      ++i;
    return std::clamp<int64_t>(i, 0, size - 1);
  };
  for (int64_t b = 0; b < s.batch; ++b)
    for (int64_t oy = 0; oy < s.outH; ++oy) {
      int64_t iy = nearest(s.y, oy, s.inH);
      for (int64_t ox = 0; ox < s.outW; ++ox) {
        int64_t ix = nearest(s.x, ox, s.inW);
        std::memcpy(dst, src + ((b * s.inH + iy) * s.inW + ix) * pixel, pixel);
        dst += pixel;
      }
    }
}

namespace {
/// The two neighbours and the fraction of one output index.
struct Taps {
  int64_t i0, i1, frac;
};
Taps bilinearTaps(const ResizeAxis &a, int64_t o, int64_t size) {
  int64_t i, f;
  resizeCoordinate(a, o, i, f);
  return {std::clamp<int64_t>(i, 0, size - 1),
          std::clamp<int64_t>(i + 1, 0, size - 1), f};
}
} // namespace

void resizeBilinearF32(const float *in, float *out, const ResizeShape &s) {
  const int64_t c = s.channels;
  for (int64_t b = 0; b < s.batch; ++b)
    for (int64_t oy = 0; oy < s.outH; ++oy) {
      Taps ty = bilinearTaps(s.y, oy, s.inH);
      float dy = static_cast<float>(ty.frac) / static_cast<float>(s.y.n);
      const float *r0 = in + (b * s.inH + ty.i0) * s.inW * c;
      const float *r1 = in + (b * s.inH + ty.i1) * s.inW * c;
      for (int64_t ox = 0; ox < s.outW; ++ox) {
        Taps tx = bilinearTaps(s.x, ox, s.inW);
        float dx = static_cast<float>(tx.frac) / static_cast<float>(s.x.n);
        float w00 = (1.0f - dy) * (1.0f - dx), w01 = (1.0f - dy) * dx;
        float w10 = dy * (1.0f - dx), w11 = dy * dx;
        for (int64_t k = 0; k < c; ++k) {
          float acc = r0[tx.i0 * c + k] * w00;
          acc += r0[tx.i1 * c + k] * w01;
          acc += r1[tx.i0 * c + k] * w10;
          acc += r1[tx.i1 * c + k] * w11;
          *out++ = acc;
        }
      }
    }
}

template <typename T>
void resizeBilinearInt(const T *in, int32_t *out, const ResizeShape &s,
                       int32_t zp) {
  const int64_t c = s.channels;
  for (int64_t b = 0; b < s.batch; ++b)
    for (int64_t oy = 0; oy < s.outH; ++oy) {
      Taps ty = bilinearTaps(s.y, oy, s.inH);
      const T *r0 = in + (b * s.inH + ty.i0) * s.inW * c;
      const T *r1 = in + (b * s.inH + ty.i1) * s.inW * c;
      const int64_t wy0 = s.y.n - ty.frac, wy1 = ty.frac;
      for (int64_t ox = 0; ox < s.outW; ++ox) {
        Taps tx = bilinearTaps(s.x, ox, s.inW);
        const int64_t wx0 = s.x.n - tx.frac, wx1 = tx.frac;
        for (int64_t k = 0; k < c; ++k) {
          int64_t acc = (int64_t(r0[tx.i0 * c + k]) - zp) * wy0 * wx0 +
                        (int64_t(r0[tx.i1 * c + k]) - zp) * wy0 * wx1 +
                        (int64_t(r1[tx.i0 * c + k]) - zp) * wy1 * wx0 +
                        (int64_t(r1[tx.i1 * c + k]) - zp) * wy1 * wx1;
          *out++ = static_cast<int32_t>(acc);
        }
      }
    }
}

template void resizeBilinearInt<int8_t>(const int8_t *, int32_t *,
                                        const ResizeShape &, int32_t);
template void resizeBilinearInt<uint8_t>(const uint8_t *, int32_t *,
                                         const ResizeShape &, int32_t);
template void resizeBilinearInt<int16_t>(const int16_t *, int32_t *,
                                         const ResizeShape &, int32_t);
template void resizeBilinearInt<uint16_t>(const uint16_t *, int32_t *,
                                          const ResizeShape &, int32_t);

void slice(const void *in, void *out, size_t elemSize, const int64_t *inShape,
           int rank, const int64_t *start, const int64_t *size) {
  if (doneTrivially(in, out, elemSize, rank, size))
    return;
  const char *src = static_cast<const char *>(in);
  char *dst = static_cast<char *>(out);
  int64_t inStride[kMaxRank];
  rowMajorStrides(inShape, rank, inStride);
  for (int d = 0; d < rank; ++d)
    assert(start[d] >= 0 && start[d] + size[d] <= inShape[d]);
  // One contiguous output row per outer index, copied with one memcpy.
  const int64_t esize = static_cast<int64_t>(elemSize);
  const int last = rank - 1;
  const int64_t rowBytes = size[last] * esize;
  int64_t idx[kMaxRank] = {};
  do {
    int64_t offset = start[last];
    for (int d = 0; d < last; ++d)
      offset += (start[d] + idx[d]) * inStride[d];
    std::memcpy(dst, src + offset * esize, static_cast<size_t>(rowBytes));
    dst += rowBytes;
  } while (nextIndex(idx, size, last));
}

void concat(const void *const *ins, const int64_t *const *inShapes,
            int numInputs, void *out, size_t elemSize, int rank, int axis) {
  assert(rank >= 1 && axis >= 0 && axis < rank && numInputs >= 1);
  char *dst = static_cast<char *>(out);
  // Viewed as [outer, axis, inner], every input contributes one contiguous
  // block of inShape[axis] * inner elements per outer index.
  const int64_t outer = product(inShapes[0], axis);
  const int64_t inner = product(inShapes[0] + axis + 1, rank - axis - 1);
  const int64_t esize = static_cast<int64_t>(elemSize);
  for (int64_t o = 0; o < outer; ++o) {
    for (int i = 0; i < numInputs; ++i) {
      const int64_t blockBytes = inShapes[i][axis] * inner * esize;
      // An empty input may come with a null pointer, which memcpy must not
      // see even for zero bytes.
      if (blockBytes == 0)
        continue;
      std::memcpy(dst, static_cast<const char *>(ins[i]) + o * blockBytes,
                  static_cast<size_t>(blockBytes));
      dst += blockBytes;
    }
  }
}

} // namespace rt
} // namespace lowbit
