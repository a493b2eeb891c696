//===- FastImpl.h - Shared internals of the fast kernels ---------*- C++ -*-===//
//
// Part of the lowbit project.
//
//===----------------------------------------------------------------------===//
//
// What the instruction-set files (FastPortable.cpp, FastAvx2.cpp,
// FastAvx512.cpp) share: the per-call context of a GEMM convolution and of a
// depthwise convolution, and the loops around their micro-kernels (which
// output pixels and channels a tile covers, the row pointers of implicit
// GEMM). Only the tiles differ between instruction sets.
//
//===----------------------------------------------------------------------===//

#ifndef LOWBIT_RUNTIME_LIB_FAST_FASTIMPL_H
#define LOWBIT_RUNTIME_LIB_FAST_FASTIMPL_H

#include "lowbit/runtime/Fast.h"
#include "lowbit/runtime/Ops.h"

#include <cstdint>
#include <cstring>

namespace lowbit {
namespace rt {
namespace fast {

/// The bias and requant arrays of a fused layer (expandRequant's) and its
/// output range, read from a QGemmConv or QDepthwiseConv and its blob.
struct RequantFields {
  const int32_t *bias, *mul, *shift, *negMul, *negShift;
  int32_t outZp, lo, hi;
  bool doubleRound;
  template <typename Desc> void read(const uint8_t *blob, const Desc &d) {
    auto array = [&](int64_t off) {
      return off < 0 ? nullptr : reinterpret_cast<const int32_t *>(blob + off);
    };
    bias = array(d.bias);
    mul = array(d.mul);
    shift = array(d.shift);
    negMul = array(d.negMul);
    negShift = array(d.negShift);
    outZp = d.outZp;
    lo = d.lo;
    hi = d.hi;
    doubleRound = d.mode == RoundingMode::DoubleRound;
  }
};

/// Everything a GEMM tile reads besides its rows.
struct GemmCtx : RequantFields {
  const int8_t *w;      ///< packed weights
  int64_t kGroups;      ///< groups of 4 per 16-channel block
  int64_t taps;         ///< rows per pixel (kernel rows in row mode)
  int64_t groups;       ///< groups of 4 bytes each row holds
  uint32_t xorMask;     ///< 0x80808080 for int8 activations, else 0
  bool nibbles;         ///< 4-bit weights, 32 bytes per group of a block
  int64_t oc;           ///< output pixel stride in bytes
};

/// One tile: `mr` output pixels (consecutive in memory) x `nv` blocks of 16
/// channels starting at block `ob`. rows[m * taps + t] points at the
/// 4 * groups input bytes of pixel m's tap t (or at the zero row). Only
/// `lastValid` channels of the last block are stored.
struct GemmTile {
  const uint8_t *const *rows;
  uint8_t *out; ///< pixel 0, channel ob * 16
  int64_t ob;
  int64_t lastValid;
};
using GemmTileFn = void (*)(const GemmCtx &, const GemmTile &);

/// Largest tile height of any instruction set.
constexpr int kGemmMaxRows = 8;
/// An instruction set's GEMM: tiles of up to rowsFor[nv-1] pixels x nv
/// blocks (nv <= maxBlocks): fn[mr-1][nv-1]. Fewer blocks leave registers
/// for more pixels.
struct GemmKernel {
  int rowsFor[4];
  int maxBlocks;
  GemmTileFn fn[kGemmMaxRows][4];
};

inline uint32_t load32(const uint8_t *p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

/// The loops around a GEMM kernel: blocks of output channels outside,
/// tiles of output pixels inside (a block's weights stay in cache while
/// the pixels stream by).
void runGemm(const GemmKernel &k, const void *in, void *out, const void *blob,
             const QGemmConv &d);

/// Depthwise context: one call handles one output pixel.
struct DepthwiseCtx : RequantFields {
  const int32_t *w; ///< [taps][cPadded], (uint16_t) w in each
  int64_t cPadded;
  int32_t inZp;
  bool inputSigned;
};
/// One output pixel: taps [ky0, ky1) x [kx0, kx1) are inside the input;
/// tap (ky, kx) reads inBatch + base + ky * rowStride + kx * colStride.
struct DepthwisePixel {
  const uint8_t *inBatch;
  int64_t base, rowStride, colStride; ///< in bytes (base may be negative)
  int64_t ky0, ky1, kx0, kx1, kw;
  uint8_t *out;
  const uint8_t *tap(int64_t ky, int64_t kx) const {
    return inBatch + (base + ky * rowStride + kx * colStride);
  }
};
using DepthwiseFn = void (*)(const DepthwiseCtx &, const DepthwisePixel &,
                             int64_t c);
/// A depthwise kernel for whole output rows of the layer shapes `handles`
/// accepts (one window shape): rows [rowBegin, rowEnd) of the n * oh.
struct DepthwiseLayer {
  bool (*handles)(const Conv2DShape &) = nullptr;
  void (*run)(const DepthwiseCtx &, const Conv2DShape &, const uint8_t *in,
              uint8_t *out, int64_t rowBegin, int64_t rowEnd) = nullptr;
};
void runDepthwise(DepthwiseFn fn, DepthwiseLayer layer, const void *in,
                  void *out, const void *blob, const QDepthwiseConv &d);

/// 16 or 8 elements of an add (addRequant), when addFitsInt32.
using AddFn = void (*)(const uint8_t *a, const uint8_t *b, uint8_t *out,
                       int64_t count, const QAdd &d);
/// Ops.h's addElement with a QAdd's parameters.
inline int32_t addOne(int32_t a, int32_t b, const QAdd &d) {
  return addElement(a, b, d.aZp, d.bZp, d.inputShift, d.aM, d.bM, d.outM,
                    d.outZp, d.lo, d.hi, d.mode);
}
inline int32_t loadByte(const uint8_t *p, bool isSigned) {
  return isSigned ? static_cast<int32_t>(static_cast<int8_t>(*p))
                  : static_cast<int32_t>(*p);
}

struct QuantizeArgs {
  float scale;
  int32_t zp, qmin, qmax;
};
using QuantizeFn = void (*)(const float *in, uint8_t *out, int64_t count,
                            const QuantizeArgs &q);
/// Max over one window of `len` channels (len <= 64) into out.
using MaxFn = void (*)(const uint8_t *const *taps, int64_t numTaps,
                       int64_t len, bool isSigned, uint8_t *out);

// The instruction-set files' entry points (null where not compiled in).
QuantizeFn avx2Quantize();
QuantizeFn avx512Quantize();
MaxFn avx512Max();
AddFn avx2Add();
AddFn avx512Add();
const GemmKernel *portableGemm();
/// w4: the tiles of 4-bit packed weights.
const GemmKernel *avx2Gemm(bool vnni, bool w4);
const GemmKernel *avx512Gemm(bool w4);
DepthwiseFn portableDepthwise();
DepthwiseFn avx2Depthwise();
DepthwiseFn avx512Depthwise();
DepthwiseLayer avx512Depthwise3x3();

/// Scalar requant of one accumulator with the expanded per-channel arrays
/// (the epilogue of the portable path and of channel tails).
inline int32_t requantOne(int32_t acc, int64_t ch, const int32_t *mul,
                          const int32_t *shift, const int32_t *negMul,
                          const int32_t *negShift, int32_t outZp, int32_t lo,
                          int32_t hi, bool doubleRound) {
  const RoundingMode mode =
      doubleRound ? RoundingMode::DoubleRound : RoundingMode::SingleRound;
  ScaleMultiplier m{mul[ch], shift[ch]};
  if (negMul && acc < 0)
    m = ScaleMultiplier{negMul[ch], negShift[ch]};
  return requantize(acc, m, outZp, lo, hi, mode);
}

} // namespace fast
} // namespace rt
} // namespace lowbit

#endif // LOWBIT_RUNTIME_LIB_FAST_FASTIMPL_H
