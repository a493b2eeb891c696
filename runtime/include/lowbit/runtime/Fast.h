//===- Fast.h - Fused, packed int8 kernels with run-time ISA choice -*- C++ -*-===//
//
// Part of the lowbit project.
//
//===----------------------------------------------------------------------===//
//
// The kernels that the generated C++ calls for the hot integer ops: a
// convolution or fully connected layer followed by its requantization runs
// as one call, with weights packed at compile time and the requant as the
// kernel's epilogue, so int32 accumulators never go through memory.
//
// They are specified by the reference kernels (Kernels.h, Ops.h): for every
// input, `convRequantGemm` equals conv2dInt/conv2dFoldedZp then requantTensor,
// and `depthwiseRequant` equals the grouped (depthwise) conv2dInt then
// requantTensor, bit for bit. The gtests in runtime/test/FastTest.cpp check
// every instruction-set path against them.
//
// Packing is defined here once (packGemmWeights, gemmBias, ...): the
// compiler calls these functions to lay out the weight blob, and the
// kernels read that layout. The layout does not depend on the instruction
// set, so one blob runs on any CPU and the path is chosen at run time.
//
// Integer facts the fast paths rely on:
//  - 32-bit accumulation wraps modulo 2^32, the reference's static_cast of
//    the exact sum to int32 does too: any order of summation agrees.
//  - u8 x s8 dot products (vpdpbusd): int8 activations x become u8 as
//    x ^ 0x80 = x + 128, so sum (x - zp) w = sum xu w - (zp + 128) sum w;
//    the second term is folded into the packed bias. Padded taps read a
//    row filled with the input zero point (the real value 0), so their
//    terms cancel exactly.
//
// The kernels follow Kernels.h's rules: no allocation, no globals (the ISA
// choice is a function-local constant computed once), reentrant,
// caller-owned buffers. The packing functions run in the compiler and may
// allocate.
//
//===----------------------------------------------------------------------===//

#ifndef LOWBIT_RUNTIME_FAST_H
#define LOWBIT_RUNTIME_FAST_H

#include "lowbit/runtime/Kernels.h"
#include "lowbit/runtime/Requant.h"

#include <cstdint>

namespace lowbit {
namespace rt {

//===----------------------------------------------------------------------===//
// Instruction sets
//===----------------------------------------------------------------------===//

/// Kernel paths. The values order them by preference (a higher one is the
/// faster where it runs), not by inclusion: each path needs its own set of
/// CPU features (isaFeatures), and a CPU may run a higher path without a
/// lower one (AMD Zen 4 and Intel Cascade Lake / Ice Lake servers have
/// AVX512-VNNI but not the VEX-encoded AVX-VNNI of avx2-vnni).
enum class Isa : int32_t {
  Portable = 0,   ///< plain C++, any CPU
  Avx2 = 1,       ///< x86-64 AVX2 (vpmaddwd)
  Avx2Vnni = 2,   ///< AVX2 with AVX-VNNI (256-bit vpdpbusd)
  Avx512Vnni = 3, ///< AVX-512 F/BW/VL/DQ with AVX512-VNNI (512-bit vpdpbusd)
};
/// Every path, from the least preferred up.
constexpr Isa kAllIsas[] = {Isa::Portable, Isa::Avx2, Isa::Avx2Vnni,
                            Isa::Avx512Vnni};

/// The CPU features a path needs, as the CPU vendors spell them
/// ("AVX2 + AVX-VNNI"); "none" for Portable.
const char *isaFeatures(Isa isa);
/// True when this CPU has every feature `isa` needs and this build of the
/// runtime has the path's kernels (always true for Portable), unless the
/// environment variable LOWBIT_DISABLE_ISA (a comma-separated list of path
/// names) hides it: tests use it to stand for a CPU without a feature.
/// Computed once per process.
bool cpuSupports(Isa isa);
/// The most preferred path this CPU runs (Portable on non-x86 builds).
Isa cpuIsa();
/// The most preferred path this CPU runs among those at or below `cap`
/// (Portable at least): what a cap selects. Never a path the CPU lacks.
Isa bestIsaAtOrBelow(Isa cap);
/// cpuIsa(), capped by the environment variable LOWBIT_MAX_ISA (portable,
/// avx2, avx2-vnni, avx512-vnni) when it is set, and by the macro
/// LOWBIT_MAX_ISA_LEVEL (0..3, Isa's values) when the runtime library is
/// built with it: bestIsaAtOrBelow(cap). A cap naming a path this CPU
/// cannot run, or no path at all, is said once on stderr ("lowbit: note:
/// ..."), and the best path below it runs. Computed once per process.
Isa selectedIsa();
/// selectedIsa(), further capped at `level` (an Isa value; out-of-range
/// levels are clamped to 0..3): bestIsaAtOrBelow of the smaller of the two.
/// A level naming a path this CPU lacks is said once on stderr, as for
/// LOWBIT_MAX_ISA.
Isa selectedIsaCappedAt(int32_t level);
/// The path a generated model passes to the kernels: selectedIsa(), also
/// capped by LOWBIT_MAX_ISA_LEVEL when the model's C++ is compiled with it
/// (g++ -DLOWBIT_MAX_ISA_LEVEL=1 ... picks AVX2 at build time). A cap never
/// selects a path the CPU lacks.
inline Isa modelIsa() {
#if defined(LOWBIT_MAX_ISA_LEVEL)
  return selectedIsaCappedAt(LOWBIT_MAX_ISA_LEVEL);
#else
  return selectedIsa();
#endif
}
/// "portable", "avx2", "avx2-vnni", "avx512-vnni".
const char *isaName(Isa isa);
/// Parses isaName's spelling; false for anything else.
bool parseIsa(const char *name, Isa &out);

//===----------------------------------------------------------------------===//
// Packed GEMM weights (convolution with groups == 1, fully connected)
//===----------------------------------------------------------------------===//

/// Output channels per packed block and input values per group.
constexpr int64_t kGemmBlockOc = 16;
constexpr int64_t kGemmBlockK = 4;
/// Largest kernel window (kh * kw) the GEMM kernels take.
constexpr int64_t kGemmMaxTaps = 256;
/// When a pixel's input channels are not a multiple of 4 (a first layer on
/// 1 or 3 channels), the kernels read each kernel row's kw * c bytes as one
/// run, padded to a multiple of 4 (`rowPadded`); windows at the border are
/// gathered on the stack first. This bounds kh * rowPadded.
constexpr int64_t kGemmMaxGatheredK = 1024;

/// The packed layout of one layer's weights. A kernel row of OHWI weights
/// [oc][kh][kw][in] holds kw * in values, padded to rowPadded, a multiple of
/// 4 (no padding when in is a multiple of 4); the reduction index of weight
/// (o, ky, kx, i) is k = ky * rowPadded + kx * in + i. Weights become
/// [ocPadded / 16][kGroups][16][4] int8 with element (o, k) at
/// [o / 16][k / 4][o % 16][k % 4], zero past oc and in the row padding.
///
/// With weightBits = 4 (every weight in [-8, 7]) each 64-byte [16][4] group
/// is stored in 32 bytes: byte j holds element j in its low nibble and
/// element j + 32 in its high one (two's complement), and the kernels
/// widen them back to bytes.
struct GemmPacking {
  int64_t oc = 0, ocPadded = 0;
  int64_t kh = 0, kw = 0, in = 0;
  int64_t rowPadded = 0; ///< kw * in rounded up to a multiple of 4
  int64_t kGroups = 0;   ///< kh * rowPadded / 4
  int32_t weightBits = 8; ///< 8, or 4 for two weights per byte
  int64_t bytes = 0;     ///< ocPadded * kGroups * weightBits / 2
};
GemmPacking gemmPacking(int64_t oc, int64_t kh, int64_t kw, int64_t in,
                        int32_t weightBits = 8);
/// True when all `count` weights lie in [-8, 7].
bool gemmWeightsFit4(const int8_t *w, int64_t count);
/// Bytes of the zero-point row a QGemmConv layer needs (taps in the padding
/// read it): max(in, rowPadded).
inline int64_t gemmZeroRowBytes(const GemmPacking &p) {
  return p.in > p.rowPadded ? p.in : p.rowPadded;
}
/// Writes `p.bytes` bytes of packed weights (for weightBits = 4, every
/// weight must lie in [-8, 7]; gemmWeightsFit4 checks that).
void packGemmWeights(const int8_t *ohwi, const GemmPacking &p, int8_t *dst);

/// The bias the GEMM kernels start from, for o < p.ocPadded (0 past oc):
///   bias[o] (0 when null) + (inZpFolded ? inZp * sum w[o] : 0)
///     - (inZp + (inputSigned ? 128 : 0)) * sum w[o]          (mod 2^32)
/// where `inZpFolded` says `bias` already holds -inZp * sum w[o]
/// (lowbit.conv2d's input_zp_folded, adaptive-scale-shift eq. 10).
void gemmBias(const int8_t *ohwi, const int32_t *bias, const GemmPacking &p,
              int32_t inZp, bool inZpFolded, bool inputSigned, int32_t *dst);

//===----------------------------------------------------------------------===//
// Requantization epilogue
//===----------------------------------------------------------------------===//

/// Per-channel requant parameters, one entry per output channel (a per-tensor
/// requant is expanded), `padded` entries (extra ones are multiplier 0,
/// shift 31). Negative-side multipliers of INT32_MIN become -INT32_MAX, which
/// applyScale treats identically. The value requantized is the accumulator
/// itself (the requant's input zero point is 0).
void expandRequant(const int32_t *mul, const int32_t *shift, bool perChannel,
                   int64_t channels, int64_t padded, int32_t *mulOut,
                   int32_t *shiftOut);

//===----------------------------------------------------------------------===//
// Kernels
//===----------------------------------------------------------------------===//

// Every kernel below takes the path to run as its last argument. A path the
// CPU lacks (cpuSupports false) is never executed: the kernel runs
// bestIsaAtOrBelow(isa) instead, so a caller's mistake costs speed, never a
// SIGILL.

/// Where a fused layer's arrays are in the weight blob (byte offsets from
/// the blob's start, each 64-byte aligned) and its scalar parameters. The
/// generated code writes it as a literal.
struct QGemmConv {
  Conv2DShape shape; ///< groups must be 1; a fully connected layer is a 1x1
                     ///< convolution over an n x 1 x 1 x inner input
  int64_t weights;   ///< packGemmWeights
  int64_t bias;      ///< gemmBias, int32 [ocPadded]
  int64_t zeroRow;   ///< gemmZeroRowBytes bytes of the input's stored zero point
  int64_t mul, shift;         ///< expandRequant, int32 [ocPadded]
  int64_t negMul, negShift;   ///< the same for negative accumulators, or -1
  int32_t inputSigned;        ///< 1: int8 activations, 0: uint8
  int32_t outZp, lo, hi;      ///< output zero point and saturation range
  RoundingMode mode;
  int32_t weightBits;         ///< the packing's weightBits: 8 or 4
};

/// out = requant(conv(in)) for a QGemmConv layer; `in` and `out` hold 8-bit
/// stored values (NHWC).
void convRequantGemm(const void *in, void *out, const void *blob,
                     const QGemmConv &d, Isa isa);

/// Depthwise weights: OHWI [c][kh][kw][1] int8 become int32 [taps][cPadded]
/// with cPadded = c rounded up to 64 (zero past c), each holding the
/// weight's 16-bit pattern zero-extended ((uint16_t) w): vpmaddwd of such a
/// lane with a sign-extended int32 x gives x * w exactly.
int64_t depthwisePaddedChannels(int64_t c);
void packDepthwiseWeights(const int8_t *ohwi, int64_t c, int64_t taps,
                          int32_t *dst);
/// The bias depthwise kernels start from (they subtract the input zero
/// point from every valid tap): bias[o] (0 when null) + (inZpFolded ? inZp *
/// sum w[o] : 0) mod 2^32, cPadded entries.
void depthwiseBias(const int8_t *ohwi, const int32_t *bias, int64_t c,
                   int64_t taps, int32_t inZp, bool inZpFolded, int32_t *dst);

struct QDepthwiseConv {
  Conv2DShape shape; ///< groups == c == oc (channel multiplier 1)
  int64_t weights;   ///< packDepthwiseWeights, int32 [taps][cPadded]
  int64_t bias;      ///< depthwiseBias, int32 [cPadded]
  int64_t mul, shift, negMul, negShift; ///< as in QGemmConv, cPadded entries
  int32_t inputSigned, inZp;
  int32_t outZp, lo, hi;
  RoundingMode mode;
};
void depthwiseRequant(const void *in, void *out, const void *blob,
                      const QDepthwiseConv &d, Isa isa);

/// lowbit.add on 8-bit operands (addTensor's rule, Ops.h).
struct QAdd {
  int32_t aSigned, bSigned; ///< 1: int8, 0: uint8
  int32_t aZp, bZp, inputShift;
  ScaleMultiplier aM, bM, outM;
  int32_t outZp, lo, hi;
  RoundingMode mode;
};
/// True when, for every pair of 8-bit inputs, each intermediate of
/// addTensor's rule ((x - zp) << inputShift, both rescaled operands and
/// their sum) lies in int32 and the multipliers are non-negative: then the
/// vector paths, which compute in 32-bit lanes, give addTensor's result.
/// The compiler emits addRequant only for such adds.
bool addFitsInt32(const QAdd &d);
/// out[i] = addTensor's result for a[i], b[i] (8-bit stored values). Runs
/// the scalar rule when !addFitsInt32(d).
void addRequant(const void *a, const void *b, void *out, int64_t count,
                const QAdd &d, Isa isa);

/// quantizeTensor (Ops.h) into 8-bit storage: quantizeValue's float32 rule
/// (round(x / scale) half to even, plus zp, saturated; NaN to zp), with
/// qmin and qmax inside the 8-bit type `out` holds.
void quantizeToBytes(const float *in, void *out, int64_t count, float scale,
                     int32_t zp, int32_t qmin, int32_t qmax, Isa isa);

/// maxPool2d (Kernels.h) on 8-bit stored values.
void maxPoolBytes(const void *in, void *out, const Pool2DShape &s,
                  bool isSigned, Isa isa);

/// True when a layer of this shape fits the fast kernels' limits.
inline bool gemmShapeSupported(const Conv2DShape &s) {
  const int64_t taps = s.kh * s.kw;
  const int64_t rowPadded = (s.kw * s.c + kGemmBlockK - 1) / kGemmBlockK *
                            kGemmBlockK;
  return s.groups == 1 && s.kh > 0 && s.kw > 0 && s.c > 0 &&
         (s.c % kGemmBlockK == 0 ? taps <= kGemmMaxTaps
                                 : s.kh * rowPadded <= kGemmMaxGatheredK);
}

} // namespace rt
} // namespace lowbit

#endif // LOWBIT_RUNTIME_FAST_H
