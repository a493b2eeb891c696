//===- Fast.cpp - Packing, ISA choice and the loops of the fast kernels ---===//
//
// Part of the lowbit project.
//
//===----------------------------------------------------------------------===//

#include "FastImpl.h"

#include "lowbit/runtime/Threads.h"

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

namespace lowbit {
namespace rt {

//===----------------------------------------------------------------------===//
// Instruction sets
//===----------------------------------------------------------------------===//

namespace {
/// What this CPU and build run, found once per process.
struct CpuPaths {
  bool supported[4] = {true, false, false, false};
};

CpuPaths detectPaths() {
  CpuPaths p;
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
  __builtin_cpu_init();
  const bool avx2 = __builtin_cpu_supports("avx2");
  p.supported[static_cast<int>(Isa::Avx2)] =
      avx2 && fast::avx2Gemm(false, false) != nullptr;
#if defined(__clang__) || __GNUC__ >= 11
  p.supported[static_cast<int>(Isa::Avx2Vnni)] =
      avx2 && __builtin_cpu_supports("avxvnni") &&
      fast::avx2Gemm(true, false) != nullptr;
#endif
  p.supported[static_cast<int>(Isa::Avx512Vnni)] =
      __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
      __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq") &&
      __builtin_cpu_supports("avx512vnni") && fast::avx512Gemm(false) != nullptr;
#endif
  // LOWBIT_DISABLE_ISA=path[,path...] hides paths this CPU has, as if it
  // lacked their features (a CPU without AVX-VNNI on one that has it, in
  // tests; or a user avoiding AVX-512's clock penalty). Portable stays.
  if (const char *env = std::getenv("LOWBIT_DISABLE_ISA")) {
    const char *p0 = env;
    while (*p0) {
      const char *comma = std::strchr(p0, ',');
      const size_t n = comma ? static_cast<size_t>(comma - p0) : std::strlen(p0);
      char name[32] = {0};
      bool known = false;
      if (n < sizeof(name)) {
        std::memcpy(name, p0, n);
        Isa isa;
        if (parseIsa(name, isa) && isa != Isa::Portable) {
          p.supported[static_cast<int>(isa)] = false;
          known = true;
        }
      }
      if (!known && n)
        std::fprintf(stderr,
                     "lowbit: note: LOWBIT_DISABLE_ISA names '%.*s', which is "
                     "not a path that can be disabled (avx2, avx2-vnni, "
                     "avx512-vnni); ignored\n",
                     static_cast<int>(n), p0);
      p0 += n;
      if (*p0 == ',')
        ++p0;
    }
  }
  return p;
}

const CpuPaths &cpuPaths() {
  static const CpuPaths paths = detectPaths();
  return paths;
}

int32_t clampLevel(int32_t level) {
  return level < 0 ? 0 : level > 3 ? 3 : level;
}

/// Says once per process and cap that the cap names a path this CPU lacks.
void noteUnsupportedCap(const char *what, Isa cap, Isa used) {
  static std::atomic<uint32_t> noted{0};
  const uint32_t bit = 1u << static_cast<int>(cap);
  if (noted.fetch_or(bit) & bit)
    return;
  std::fprintf(stderr,
               "lowbit: note: %s asks for kernel path %s, which needs %s; "
               "this CPU does not run it, running %s\n",
               what, isaName(cap), isaFeatures(cap), isaName(used));
}
} // namespace

namespace {
/// Each path's name (as parseIsa reads it) and the CPU features it needs,
/// indexed by Isa.
struct IsaText {
  const char *name, *features;
};
constexpr IsaText kIsaText[] = {
    {"portable", "none"},
    {"avx2", "AVX2"},
    {"avx2-vnni", "AVX2 + AVX-VNNI"},
    {"avx512-vnni", "AVX-512 F/BW/VL/DQ + AVX512-VNNI"},
};
constexpr int kNumIsas = sizeof(kIsaText) / sizeof(kIsaText[0]);
static_assert(kNumIsas == sizeof(kAllIsas) / sizeof(kAllIsas[0]) &&
                  static_cast<int>(Isa::Avx512Vnni) == kNumIsas - 1,
              "one row per Isa, in the order of its values");

/// isa's row, or a row of "unknown" for a value outside the enum.
const IsaText &isaText(Isa isa) {
  static constexpr IsaText unknown = {"unknown", "unknown"};
  const int i = static_cast<int>(isa);
  return i >= 0 && i < kNumIsas ? kIsaText[i] : unknown;
}
} // namespace

const char *isaFeatures(Isa isa) { return isaText(isa).features; }

bool cpuSupports(Isa isa) {
  const int i = static_cast<int>(isa);
  return i >= 0 && i <= 3 && cpuPaths().supported[i];
}

Isa bestIsaAtOrBelow(Isa cap) {
  for (int i = clampLevel(static_cast<int32_t>(cap)); i > 0; --i)
    if (cpuPaths().supported[i])
      return static_cast<Isa>(i);
  return Isa::Portable;
}

Isa cpuIsa() { return bestIsaAtOrBelow(Isa::Avx512Vnni); }

const char *isaName(Isa isa) { return isaText(isa).name; }

bool parseIsa(const char *name, Isa &out) {
  for (Isa isa : kAllIsas)
    if (name && std::strcmp(name, isaName(isa)) == 0) {
      out = isa;
      return true;
    }
  return false;
}

static Isa computeSelectedIsa() {
  Isa cap = Isa::Avx512Vnni;
#ifdef LOWBIT_MAX_ISA_LEVEL
  cap = static_cast<Isa>(clampLevel(LOWBIT_MAX_ISA_LEVEL));
  if (!cpuSupports(cap))
    noteUnsupportedCap("the runtime's LOWBIT_MAX_ISA_LEVEL", cap,
                       bestIsaAtOrBelow(cap));
#endif
  if (const char *env = std::getenv("LOWBIT_MAX_ISA")) {
    Isa envCap;
    if (!parseIsa(env, envCap)) {
      std::fprintf(stderr,
                   "lowbit: note: LOWBIT_MAX_ISA='%s' is not a kernel path "
                   "(portable, avx2, avx2-vnni, avx512-vnni); ignored\n",
                   env);
    } else {
      if (!cpuSupports(envCap))
        noteUnsupportedCap("LOWBIT_MAX_ISA", envCap, bestIsaAtOrBelow(envCap));
      if (envCap < cap)
        cap = envCap;
    }
  }
  return bestIsaAtOrBelow(cap);
}

Isa selectedIsa() {
  static const Isa isa = computeSelectedIsa();
  return isa;
}

Isa selectedIsaCappedAt(int32_t level) {
  const Isa cap = static_cast<Isa>(clampLevel(level));
  const Isa sel = selectedIsa();
  const Isa used = sel <= cap ? sel : bestIsaAtOrBelow(cap);
  if (!cpuSupports(cap))
    noteUnsupportedCap("LOWBIT_MAX_ISA_LEVEL", cap, used);
  return used;
}

/// The path a kernel runs when asked for `isa`: never one the CPU lacks.
static Isa runnable(Isa isa) {
  return cpuSupports(isa) ? isa : bestIsaAtOrBelow(isa);
}

//===----------------------------------------------------------------------===//
// Packing
//===----------------------------------------------------------------------===//

GemmPacking gemmPacking(int64_t oc, int64_t kh, int64_t kw, int64_t in,
                        int32_t weightBits) {
  GemmPacking p;
  p.weightBits = weightBits == 4 ? 4 : 8;
  p.oc = oc;
  p.ocPadded = detail::ceilDiv(oc, kGemmBlockOc) * kGemmBlockOc;
  p.kh = kh;
  p.kw = kw;
  p.in = in;
  p.rowPadded = detail::ceilDiv(kw * in, kGemmBlockK) * kGemmBlockK;
  p.kGroups = kh * p.rowPadded / kGemmBlockK;
  p.bytes = p.ocPadded * p.kGroups * kGemmBlockK * p.weightBits / 8;
  return p;
}

bool gemmWeightsFit4(const int8_t *w, int64_t count) {
  for (int64_t i = 0; i < count; ++i)
    if (w[i] < -8 || w[i] > 7)
      return false;
  return true;
}

void packGemmWeights(const int8_t *ohwi, const GemmPacking &p, int8_t *dst) {
  constexpr int64_t kGroupBytes = kGemmBlockOc * kGemmBlockK; // 64
  if (p.weightBits == 4) {
    // The 8-bit layout, then each 64-byte group folded into 32 bytes.
    GemmPacking wide = p;
    wide.weightBits = 8;
    wide.bytes = p.bytes * 2;
    std::vector<int8_t> bytes(static_cast<size_t>(wide.bytes));
    packGemmWeights(ohwi, wide, bytes.data());
    for (int64_t g = 0; g < wide.bytes / kGroupBytes; ++g)
      for (int64_t j = 0; j < kGroupBytes / 2; ++j) {
        const uint8_t lo = static_cast<uint8_t>(bytes[g * kGroupBytes + j]);
        const uint8_t hi =
            static_cast<uint8_t>(bytes[g * kGroupBytes + j + kGroupBytes / 2]);
        dst[g * kGroupBytes / 2 + j] =
            static_cast<int8_t>((lo & 0x0f) | ((hi & 0x0f) << 4));
      }
    return;
  }
  std::memset(dst, 0, static_cast<size_t>(p.bytes));
  const int64_t rowBytes = p.kw * p.in;
  for (int64_t o = 0; o < p.oc; ++o) {
    int8_t *block = dst + (o / kGemmBlockOc) * p.kGroups * kGemmBlockOc *
                              kGemmBlockK;
    for (int64_t ky = 0; ky < p.kh; ++ky)
      for (int64_t j = 0; j < rowBytes; ++j) {
        const int64_t k = ky * p.rowPadded + j;
        block[((k / kGemmBlockK) * kGemmBlockOc + o % kGemmBlockOc) *
                  kGemmBlockK +
              k % kGemmBlockK] = ohwi[(o * p.kh + ky) * rowBytes + j];
      }
  }
}

/// sum of one output channel's weights, modulo 2^32.
static uint32_t weightSum(const int8_t *w, int64_t count) {
  uint32_t sum = 0;
  for (int64_t i = 0; i < count; ++i)
    sum += static_cast<uint32_t>(static_cast<int32_t>(w[i]));
  return sum;
}

void gemmBias(const int8_t *ohwi, const int32_t *bias, const GemmPacking &p,
              int32_t inZp, bool inZpFolded, bool inputSigned, int32_t *dst) {
  const int64_t perChannel = p.kh * p.kw * p.in;
  const uint32_t zp = static_cast<uint32_t>(inZp);
  const uint32_t zpu = zp + (inputSigned ? 128u : 0u);
  for (int64_t o = 0; o < p.ocPadded; ++o) {
    if (o >= p.oc) {
      dst[o] = 0;
      continue;
    }
    const uint32_t sum = weightSum(ohwi + o * perChannel, perChannel);
    uint32_t b = bias ? static_cast<uint32_t>(bias[o]) : 0u;
    if (inZpFolded)
      b += zp * sum;
    b -= zpu * sum;
    dst[o] = static_cast<int32_t>(b);
  }
}

void expandRequant(const int32_t *mul, const int32_t *shift, bool perChannel,
                   int64_t channels, int64_t padded, int32_t *mulOut,
                   int32_t *shiftOut) {
  for (int64_t o = 0; o < padded; ++o) {
    if (o >= channels) {
      mulOut[o] = 0;
      shiftOut[o] = 31;
      continue;
    }
    const int64_t i = perChannel ? o : 0;
    mulOut[o] = mul[i] == INT32_MIN ? -INT32_MAX : mul[i];
    shiftOut[o] = shift[i];
  }
}

int64_t depthwisePaddedChannels(int64_t c) {
  return detail::ceilDiv(c, 64) * 64;
}

void packDepthwiseWeights(const int8_t *ohwi, int64_t c, int64_t taps,
                          int32_t *dst) {
  const int64_t cp = depthwisePaddedChannels(c);
  for (int64_t t = 0; t < taps; ++t)
    for (int64_t o = 0; o < cp; ++o)
      dst[t * cp + o] =
          o < c ? static_cast<int32_t>(static_cast<uint16_t>(
                      static_cast<int16_t>(ohwi[o * taps + t])))
                : 0;
}

void depthwiseBias(const int8_t *ohwi, const int32_t *bias, int64_t c,
                   int64_t taps, int32_t inZp, bool inZpFolded, int32_t *dst) {
  const int64_t cp = depthwisePaddedChannels(c);
  for (int64_t o = 0; o < cp; ++o) {
    if (o >= c) {
      dst[o] = 0;
      continue;
    }
    uint32_t b = bias ? static_cast<uint32_t>(bias[o]) : 0u;
    if (inZpFolded)
      b += static_cast<uint32_t>(inZp) * weightSum(ohwi + o * taps, taps);
    dst[o] = static_cast<int32_t>(b);
  }
}

//===----------------------------------------------------------------------===//
// Loops
//===----------------------------------------------------------------------===//

namespace fast {

/// memcpy/memset of the few bytes of one window row (a first layer's
/// kw * c, often under 32) as a few overlapping fixed-size moves: a byte
/// loop would be turned back into a library call by the compiler.
template <int N> static inline void move(uint8_t *dst, const uint8_t *src) {
  uint8_t tmp[N];
  std::memcpy(tmp, src, N);
  std::memcpy(dst, tmp, N);
}
template <int N>
static inline void moveSmall(uint8_t *dst, const uint8_t *src, int64_t n) {
  // N <= n <= 2N: the first and the last N bytes cover the range.
  move<N>(dst, src);
  move<N>(dst + n - N, src + n - N);
}
static inline void copyRow(uint8_t *dst, const uint8_t *src, int64_t n) {
  if (n > 32)
    std::memcpy(dst, src, static_cast<size_t>(n));
  else if (n >= 16)
    moveSmall<16>(dst, src, n);
  else if (n >= 8)
    moveSmall<8>(dst, src, n);
  else if (n >= 4)
    moveSmall<4>(dst, src, n);
  else if (n >= 2)
    moveSmall<2>(dst, src, n);
  else if (n == 1)
    dst[0] = src[0];
}
static inline void fillRow(uint8_t *dst, uint8_t value, int64_t n) {
  if (n > 32) {
    std::memset(dst, value, static_cast<size_t>(n));
    return;
  }
  uint8_t pattern[32];
  std::memset(pattern, value, 32);
  copyRow(dst, pattern, n);
}

namespace {
/// What the windows of one output row share: the input rows they read and
/// the output columns [xBegin, xEnd) whose windows need no bounds check in
/// x. Row mode: rowPtr[ky] is input row y0 + ky * dilationH at column 0 (null
/// outside the input), and a column is in range when its padded run of
/// rowPadded bytes lies inside the input row. Otherwise: rowPtr[0] is input
/// row y0 when the window's rows are all inside (else the range is empty),
/// and a column is in range when the window's columns are.
struct OutputRow {
  bool valid = false;
  int64_t n = 0, y = 0, xBegin = 0, xEnd = 0;
  const uint8_t *rowPtr[kGemmMaxTaps];
  void set(const Conv2DShape &s, const uint8_t *in, int64_t n_, int64_t y_,
           bool rowMode, int64_t rowPadded, int64_t spanH, int64_t spanW) {
    valid = true;
    n = n_;
    y = y_;
    const uint8_t *inBatch = in + n * s.h * s.w * s.c;
    const int64_t y0 = y * s.strideH - s.padTop;
    // Columns x with x0 = x * strideW - padLeft >= 0 and x0 + extent <= w.
    auto columns = [&](int64_t extent, int64_t width) {
      xBegin = detail::ceilDiv(s.padLeft, s.strideW);
      const int64_t last = width - extent + s.padLeft; // largest x0 + padLeft
      xEnd = last < 0 ? 0 : last / s.strideW + 1;
      xEnd = std::min(xEnd, s.ow);
      if (xEnd < xBegin)
        xEnd = xBegin;
    };
    if (rowMode) {
      for (int64_t ky = 0; ky < s.kh; ++ky) {
        const int64_t iy = y0 + ky * s.dilationH;
        rowPtr[ky] = iy >= 0 && iy < s.h ? inBatch + iy * s.w * s.c : nullptr;
      }
      if (s.dilationW != 1) {
        xBegin = xEnd = 0;
        return;
      }
      // The run of x0 * c + rowPadded bytes within w * c: whole pixels
      // x0 + ceil(rowPadded / c) <= w.
      columns(detail::ceilDiv(rowPadded, s.c), s.w);
      return;
    }
    if (y0 < 0 || y0 + spanH > s.h) {
      xBegin = xEnd = 0;
      return;
    }
    rowPtr[0] = inBatch + y0 * s.w * s.c;
    columns(spanW, s.w);
  }
};
} // namespace

namespace {
/// One fused GEMM convolution: what its tiles share, and the loops that
/// run output-channel groups [gBegin, gEnd) (of k.maxBlocks blocks) x
/// output pixels [pBegin, pEnd) (pBegin a multiple of the tile heights'
/// least common multiple, so that a part's tiles are those of the whole).
struct GemmJob {
  const GemmKernel &k;
  const QGemmConv &d;
  const uint8_t *inB;
  uint8_t *outB;
  GemmPacking p;
  GemmCtx c;
  const uint8_t *zero;
  bool rowMode, pointwise;
  int64_t taps, pixels, blocks, groupsOfBlocks, rowBytes, spanH, spanW;
  int64_t tapOffset[kGemmMaxTaps];

  GemmJob(const GemmKernel &k, const void *in, void *out, const void *blob,
          const QGemmConv &d);
  void run(int64_t gBegin, int64_t gEnd, int64_t pBegin, int64_t pEnd) const;
};

GemmJob::GemmJob(const GemmKernel &k_, const void *in, void *out,
                 const void *blob, const QGemmConv &d_)
    : k(k_), d(d_) {
  const Conv2DShape &s = d.shape;
  const auto *base = static_cast<const uint8_t *>(blob);
  p = gemmPacking(s.oc, s.kh, s.kw, s.c, d.weightBits);
  taps = s.kh * s.kw;
  // Channels in whole groups of 4: the tiles read each tap's channels in
  // place. Otherwise they read each kernel row's rowPadded bytes as one run
  // (the bytes past kw * c pair with zero weights), straight from the input
  // where the run lies inside an input row, else gathered.
  rowMode = s.c % kGemmBlockK != 0;
  pointwise = !rowMode && taps == 1 && s.strideH == 1 && s.strideW == 1 &&
              s.padTop == 0 && s.padLeft == 0 && s.oh == s.h && s.ow == s.w;
  c.read(base, d);
  c.w = reinterpret_cast<const int8_t *>(base + d.weights);
  c.kGroups = p.kGroups;
  c.taps = rowMode ? s.kh : taps;
  c.groups = rowMode ? p.rowPadded / kGemmBlockK : s.c / kGemmBlockK;
  c.xorMask = d.inputSigned ? 0x80808080u : 0u;
  c.nibbles = p.weightBits == 4;
  c.oc = s.oc;

  zero = base + d.zeroRow;
  inB = static_cast<const uint8_t *>(in);
  outB = static_cast<uint8_t *>(out);
  pixels = s.n * s.oh * s.ow;
  blocks = p.ocPadded / kGemmBlockOc;
  groupsOfBlocks = detail::ceilDiv(blocks, k.maxBlocks);
  rowBytes = s.kw * s.c;
  // Byte offsets of the taps from the window's corner, and its extent.
  spanH = (s.kh - 1) * s.dilationH + 1;
  spanW = (s.kw - 1) * s.dilationW + 1;
  if (!rowMode)
    for (int64_t ky = 0; ky < s.kh; ++ky)
      for (int64_t kx = 0; kx < s.kw; ++kx)
        tapOffset[ky * s.kw + kx] =
            (ky * s.dilationH * s.w + kx * s.dilationW) * s.c;
}

void GemmJob::run(int64_t gBegin, int64_t gEnd, int64_t pBegin,
                  int64_t pEnd) const {
  const Conv2DShape &s = d.shape;
  const uint8_t *rows[kGemmMaxRows * kGemmMaxTaps];
  alignas(64) uint8_t gathered[kGemmMaxRows][kGemmMaxGatheredK];
  OutputRow row;
  for (int64_t ob = gBegin * k.maxBlocks;
       ob < std::min(blocks, gEnd * k.maxBlocks); ob += k.maxBlocks) {
    const int nv = static_cast<int>(std::min<int64_t>(k.maxBlocks, blocks - ob));
    const int64_t lastValid =
        std::min<int64_t>(s.oc - (ob + nv - 1) * kGemmBlockOc, kGemmBlockOc);
    const int maxRows = k.rowsFor[nv - 1];
    // The first pixel's coordinates; then one step per pixel.
    int64_t n = pBegin / (s.oh * s.ow), y = pBegin / s.ow % s.oh,
            x = pBegin % s.ow;
    for (int64_t p0 = pBegin; p0 < pEnd; p0 += maxRows) {
      const int mr = static_cast<int>(std::min<int64_t>(maxRows, pEnd - p0));
      if (pointwise) { // pixel p reads input pixel p
        for (int m = 0; m < mr; ++m)
          rows[m] = inB + (p0 + m) * s.c;
        k.fn[mr - 1][nv - 1](
            c, GemmTile{rows, outB + p0 * s.oc + ob * kGemmBlockOc, ob,
                        lastValid});
        continue;
      }
      for (int m = 0; m < mr; ++m) {
        if (!row.valid || row.n != n || row.y != y)
          row.set(s, inB, n, y, rowMode, p.rowPadded, spanH, spanW);
        const int64_t x0 = x * s.strideW - s.padLeft;
        if (x >= row.xBegin && x < row.xEnd) {
          // Common case: no bounds to check in x, none or precomputed in y.
          if (rowMode) {
            const uint8_t **r = rows + m * s.kh;
            for (int64_t ky = 0; ky < s.kh; ++ky)
              r[ky] = row.rowPtr[ky] ? row.rowPtr[ky] + x0 * s.c : zero;
          } else {
            const uint8_t *corner = row.rowPtr[0] + x0 * s.c;
            const uint8_t **r = rows + m * taps;
            for (int64_t t = 0; t < taps; ++t)
              r[t] = corner + tapOffset[t];
          }
        } else if (rowMode) {
          const uint8_t *inBatch = inB + n * s.h * s.w * s.c;
          const int64_t y0 = y * s.strideH - s.padTop;
          const uint8_t **r = rows + m * s.kh;
          // The padded run of a kernel row stays inside its input row.
          const bool direct = s.dilationW == 1 && x0 >= 0 &&
                              x0 * s.c + p.rowPadded <= s.w * s.c;
          const detail::TapRange kx =
              detail::validTaps(x0, s.dilationW, s.kw, s.w);
          for (int64_t ky = 0; ky < s.kh; ++ky) {
            const int64_t iy = y0 + ky * s.dilationH;
            if (iy < 0 || iy >= s.h) {
              r[ky] = zero;
              continue;
            }
            const uint8_t *src = inBatch + iy * s.w * s.c;
            if (direct) {
              r[ky] = src + x0 * s.c;
              continue;
            }
            // A window at the border: its row gathered, padded taps set
            // to the zero point.
            uint8_t *dst = gathered[m] + ky * p.rowPadded;
            fillRow(dst, zero[0], kx.begin * s.c);
            if (s.dilationW == 1) {
              copyRow(dst + kx.begin * s.c, src + (x0 + kx.begin) * s.c,
                      (kx.end - kx.begin) * s.c);
            } else {
              for (int64_t t = kx.begin; t < kx.end; ++t)
                copyRow(dst + t * s.c, src + (x0 + t * s.dilationW) * s.c, s.c);
            }
            fillRow(dst + kx.end * s.c, zero[0], (s.kw - kx.end) * s.c);
            // The row padding pairs with zero weights.
            fillRow(dst + rowBytes, 0, p.rowPadded - rowBytes);
            r[ky] = dst;
          }
        } else {
          const uint8_t *inBatch = inB + n * s.h * s.w * s.c;
          const int64_t y0 = y * s.strideH - s.padTop;
          const uint8_t **r = rows + m * taps;
          for (int64_t ky = 0; ky < s.kh; ++ky) {
            const int64_t iy = y0 + ky * s.dilationH;
            for (int64_t kx = 0; kx < s.kw; ++kx) {
              const int64_t ix = x0 + kx * s.dilationW;
              r[ky * s.kw + kx] =
                  iy >= 0 && iy < s.h && ix >= 0 && ix < s.w
                      ? inBatch + (iy * s.w + ix) * s.c
                      : zero;
            }
          }
        }
        if (++x == s.ow) { // the next pixel
          x = 0;
          if (++y == s.oh)
            y = 0, ++n;
        }
      }
      k.fn[mr - 1][nv - 1](
          c, GemmTile{rows, outB + p0 * s.oc + ob * kGemmBlockOc, ob,
                      lastValid});
    }
  }
}

/// Least common multiple of the kernel's tile heights.
int64_t tileLcm(const GemmKernel &k) {
  int64_t l = 1;
  for (int i = 0; i < k.maxBlocks; ++i) {
    int64_t a = l, b = k.rowsFor[i];
    while (b) {
      const int64_t t = a % b;
      a = b;
      b = t;
    }
    l = l / a * k.rowsFor[i];
  }
  return l;
}

/// Multiply-accumulates of a thread's part below which a layer is not
/// split further, and of a layer below which it runs on one thread: a
/// split costs microseconds of cross-core traffic (Fashion-MNIST's second
/// convolution, 0.9 M, ran 8 us slower split in two).
constexpr int64_t kMinParallelMacs = 1 << 18;
constexpr int64_t kMinParallelLayerMacs = 1 << 20;
} // namespace

void runGemm(const GemmKernel &k, const void *in, void *out, const void *blob,
             const QGemmConv &d) {
  const GemmJob job(k, in, out, blob, d);
  const int64_t macs = job.pixels * job.p.ocPadded * job.taps * d.shape.c;
  // Split the pixels (in runs of whole tiles) when there are more runs than
  // channel groups, else the channel groups (few pixels: fully connected
  // layers, small late maps).
  const int64_t unit = tileLcm(k);
  const int64_t pixelUnits = detail::ceilDiv(job.pixels, unit);
  if (threads() <= 1 || macs < kMinParallelLayerMacs) {
    job.run(0, job.groupsOfBlocks, 0, job.pixels);
  } else if (pixelUnits >= job.groupsOfBlocks) {
    const int64_t minUnits =
        std::max<int64_t>(1, kMinParallelMacs / (macs / pixelUnits + 1));
    parallelRanges(pixelUnits, minUnits, [&](int64_t b, int64_t e) {
      job.run(0, job.groupsOfBlocks, b * unit, std::min(job.pixels, e * unit));
    });
  } else {
    const int64_t minUnits = std::max<int64_t>(
        1, kMinParallelMacs / (macs / job.groupsOfBlocks + 1));
    parallelRanges(job.groupsOfBlocks, minUnits,
                   [&](int64_t b, int64_t e) { job.run(b, e, 0, job.pixels); });
  }
}

void runDepthwise(DepthwiseFn fn, DepthwiseLayer layer, const void *in,
                  void *out, const void *blob, const QDepthwiseConv &d) {
  const Conv2DShape &s = d.shape;
  const auto *base = static_cast<const uint8_t *>(blob);
  DepthwiseCtx c;
  c.read(base, d);
  c.w = reinterpret_cast<const int32_t *>(base + d.weights);
  c.cPadded = depthwisePaddedChannels(s.c);
  c.inZp = d.inZp;
  c.inputSigned = d.inputSigned != 0;
  const auto *inB = static_cast<const uint8_t *>(in);
  auto *outB = static_cast<uint8_t *>(out);
  // Output rows split across the threads: parts of at least
  // kMinParallelMacs, layers under kMinParallelLayerMacs on one thread.
  const int64_t rows = s.n * s.oh;
  const int64_t rowMacs = s.ow * s.c * s.kh * s.kw;
  const int64_t minRows =
      rows * rowMacs < kMinParallelLayerMacs
          ? rows
          : std::max<int64_t>(1, kMinParallelMacs / (rowMacs + 1));
  if (layer.handles && layer.handles(s)) {
    parallelRanges(rows, minRows, [&](int64_t r0, int64_t r1) {
      layer.run(c, s, inB, outB, r0, r1);
    });
    return;
  }
  parallelRanges(rows, minRows, [&](int64_t r0, int64_t r1) {
    DepthwisePixel px;
    px.rowStride = s.dilationH * s.w * s.c;
    px.colStride = s.dilationW * s.c;
    px.kw = s.kw;
    for (int64_t r = r0; r < r1; ++r) {
      const int64_t b = r / s.oh, y = r % s.oh;
      px.inBatch = inB + b * s.h * s.w * s.c;
      detail::forEachWindowPixelOfRow(
          s, s.dilationH, s.dilationW, b, y, [&](const detail::WindowPixel &p) {
            px.base = (p.y0 * s.w + p.x0) * s.c;
            px.ky0 = p.ky.begin, px.ky1 = p.ky.end, px.kx0 = p.kx.begin,
            px.kx1 = p.kx.end;
            px.out = outB + p.index * s.oc;
            fn(c, px, s.c);
          });
    }
  });
}

} // namespace fast

//===----------------------------------------------------------------------===//
// Entry points
//===----------------------------------------------------------------------===//

/// Bytes an elementwise kernel or a pool reads below which it runs on one
/// thread.
constexpr int64_t kMinParallelBytes = 1 << 16;

/// f(begin, count) over runs of whole 1,024-element chunks of [0, n),
/// split across the threads when n is large.
template <typename F> static void forChunks(int64_t n, const F &f) {
  constexpr int64_t kChunk = 1024;
  parallelRanges(detail::ceilDiv(n, kChunk), kMinParallelBytes / kChunk,
                 [&](int64_t c0, int64_t c1) {
                   const int64_t i0 = c0 * kChunk;
                   f(i0, std::min(n, c1 * kChunk) - i0);
                 });
}

static const fast::GemmKernel *gemmFor(Isa isa, bool w4) {
  const fast::GemmKernel *k = nullptr;
  switch (runnable(isa)) {
  case Isa::Avx512Vnni:
    k = fast::avx512Gemm(w4);
    break;
  case Isa::Avx2Vnni:
    k = fast::avx2Gemm(true, w4);
    break;
  case Isa::Avx2:
    k = fast::avx2Gemm(false, w4);
    break;
  case Isa::Portable:
    break;
  }
  return k ? k : fast::portableGemm();
}

void convRequantGemm(const void *in, void *out, const void *blob,
                     const QGemmConv &d, Isa isa) {
  fast::runGemm(*gemmFor(isa, d.weightBits == 4), in, out, blob, d);
}

void depthwiseRequant(const void *in, void *out, const void *blob,
                      const QDepthwiseConv &d, Isa isa) {
  isa = runnable(isa);
  fast::DepthwiseFn fn = nullptr;
  fast::DepthwiseLayer layer;
  if (isa == Isa::Avx512Vnni) {
    fn = fast::avx512Depthwise();
    layer = fast::avx512Depthwise3x3();
  } else if (isa == Isa::Avx2 || isa == Isa::Avx2Vnni) {
    fn = fast::avx2Depthwise();
  }
  fast::runDepthwise(fn ? fn : fast::portableDepthwise(), layer, in, out, blob,
                     d);
}

bool addFitsInt32(const QAdd &d) {
  if (d.inputShift < 0 || d.inputShift > 22 || d.aM.multiplier < 0 ||
      d.bM.multiplier < 0 || d.outM.multiplier < 0 ||
      !isValidMultiplier(d.aM) || !isValidMultiplier(d.bM) ||
      !isValidMultiplier(d.outM))
    return false;
  // |x - zp| <= 255 for 8-bit values and zero points.
  const int64_t in = int64_t(255) << d.inputShift; // < 2^31
  // |applyScale(v, m)| <= |v| * m / 2^s + 1 (rounding adds at most 1).
  auto bound = [&](ScaleMultiplier m) {
    return ((in * m.multiplier) >> m.shift) + 1;
  };
  return bound(d.aM) + bound(d.bM) <= INT32_MAX;
}

void addRequant(const void *a, const void *b, void *out, int64_t count,
                const QAdd &d, Isa isa) {
  const auto *pa = static_cast<const uint8_t *>(a);
  const auto *pb = static_cast<const uint8_t *>(b);
  auto *po = static_cast<uint8_t *>(out);
  fast::AddFn fn = nullptr;
  isa = runnable(isa);
  if (addFitsInt32(d)) {
    if (isa == Isa::Avx512Vnni)
      fn = fast::avx512Add();
    else if (isa == Isa::Avx2 || isa == Isa::Avx2Vnni)
      fn = fast::avx2Add();
  }
  if (fn) {
    forChunks(count, [&](int64_t i0, int64_t n) {
      fn(pa + i0, pb + i0, po + i0, n, d);
    });
    return;
  }
  for (int64_t i = 0; i < count; ++i)
    po[i] = static_cast<uint8_t>(fast::addOne(fast::loadByte(pa + i, d.aSigned),
                                              fast::loadByte(pb + i, d.bSigned),
                                              d));
}

void quantizeToBytes(const float *in, void *out, int64_t count, float scale,
                     int32_t zp, int32_t qmin, int32_t qmax, Isa isa) {
  auto *o = static_cast<uint8_t *>(out);
  fast::QuantizeFn fn = nullptr;
  isa = runnable(isa);
  if (isa == Isa::Avx512Vnni)
    fn = fast::avx512Quantize();
  else if (isa == Isa::Avx2 || isa == Isa::Avx2Vnni)
    fn = fast::avx2Quantize();
  if (fn && qmin <= qmax) {
    const fast::QuantizeArgs q{scale, zp, qmin, qmax};
    forChunks(count, [&](int64_t i0, int64_t n) { fn(in + i0, o + i0, n, q); });
    return;
  }
  for (int64_t i = 0; i < count; ++i)
    o[i] = static_cast<uint8_t>(quantizeValue(in[i], scale, zp, qmin, qmax));
}

void maxPoolBytes(const void *in, void *out, const Pool2DShape &s,
                  bool isSigned, Isa isa) {
  fast::MaxFn fn =
      runnable(isa) == Isa::Avx512Vnni ? fast::avx512Max() : nullptr;
  if (!fn || s.kh * s.kw > kGemmMaxTaps) {
    if (isSigned)
      maxPool2d(static_cast<const int8_t *>(in), static_cast<int8_t *>(out), s);
    else
      maxPool2d(static_cast<const uint8_t *>(in), static_cast<uint8_t *>(out),
                s);
    return;
  }
  const auto *inB = static_cast<const uint8_t *>(in);
  auto *outB = static_cast<uint8_t *>(out);
  const int64_t rowBytes = s.ow * s.c * s.kh * s.kw;
  const int64_t minRows =
      std::max<int64_t>(1, kMinParallelBytes / (rowBytes + 1));
  parallelRanges(s.n * s.oh, minRows, [&](int64_t r0, int64_t r1) {
    const uint8_t *taps[kGemmMaxTaps];
    for (int64_t r = r0; r < r1; ++r) {
      const int64_t b = r / s.oh, y = r % s.oh;
      const int64_t y0 = y * s.strideH - s.padTop;
      const detail::TapRange ky = detail::validTaps(y0, 1, s.kh, s.h);
      for (int64_t x = 0; x < s.ow; ++x) {
        const int64_t x0 = x * s.strideW - s.padLeft;
        const detail::TapRange kx = detail::validTaps(x0, 1, s.kw, s.w);
        int64_t count = 0;
        for (int64_t i = ky.begin; i < ky.end; ++i)
          for (int64_t j = kx.begin; j < kx.end; ++j)
            taps[count++] = inB + ((b * s.h + y0 + i) * s.w + x0 + j) * s.c;
        uint8_t *o = outB + ((b * s.oh + y) * s.ow + x) * s.c;
        for (int64_t c0 = 0; c0 < s.c; c0 += 64) {
          for (int64_t t = 0; t < count; ++t)
            taps[t] += c0 ? 64 : 0;
          fn(taps, count, std::min<int64_t>(64, s.c - c0), isSigned, o + c0);
        }
      }
    }
  });
}

} // namespace rt
} // namespace lowbit
