//===- conv_kernels.cpp - lowbit's fused int8 conv against oneDNN ---------===//
//
// Part of the lowbit project.
//
//===----------------------------------------------------------------------===//
//
// Times lowbit's fused int8 convolution + requantization kernel
// (lowbit::rt::convRequantGemm, runtime/include/lowbit/runtime/Fast.h)
// against oneDNN's int8 convolution primitive with the same fused epilogue,
// on ResNet-18's convolution shapes (224x224 input) and five MobileNetV2 1x1
// shapes, batch 1, one thread. Prints milliseconds, GOP/s and the ratio
// lowbit GOP/s / oneDNN GOP/s (above 1: lowbit is faster) per shape, and
// totals over ResNet-18 with each shape weighted by how often the network
// uses it.
//
// Build and run from the repository root (oneDNN 2.6 is Debian's
// libdnnl-dev; the runtime library is built by
// `ninja -C build -j1 lowbit_runtime`):
//
//   g++ -O2 -std=c++17 -Iruntime/include bench/conv_kernels.cpp build/runtime/liblowbit_runtime.a -ldnnl -o /tmp/conv_kernels && OMP_NUM_THREADS=1 /tmp/conv_kernels
//
// Options:
//   --time S         seconds of timed calls per shape and library (0.2)
//   --s8             int8 activations (input and output) instead of uint8
//   --no-zp          input and output zero points 0 on both sides
//   --selected-only  time only selectedIsa(), not every lowbit path
//
// Both libraries compute, per output channel o,
//   out = saturate(round(scale[o] * (conv(in - inZp, w) + bias[o])) + outZp)
// from NHWC 8-bit activations and int8 weights:
//  - lowbit: weights packed once with packGemmWeights/gemmBias/expandRequant
//    into one 64-byte aligned blob (as runtime/test/FastTest.cpp lays it
//    out), scale[o] = multiplier[o] * 2^-shift[o] applied in integers
//    (SINGLE_ROUND), the input zero point folded into the packed bias;
//  - oneDNN: forward_inference convolution_direct, src/dst u8 (or s8) nhwc,
//    s8 weights in the layout oneDNN picks (format_tag::any, reordered once
//    before timing), s32 bias, per-channel output scales (mask 2) equal to
//    float(multiplier * 2^-shift), and the source and destination zero
//    points as attributes; a user-owned scratchpad allocated once.
// The two outputs are compared on the same random data (a sanity line, not a
// test: rounding differs, so +-1 is expected).
//
// Timing: each call is timed with steady_clock; per shape, every variant is
// warmed up, then the variants take turns in 5 rounds (so a change in
// machine load hits all of them alike) until each has about --time seconds
// of calls (at least 5); the median call is reported.
//
//===----------------------------------------------------------------------===//

#include "lowbit/runtime/Fast.h"
#include "lowbit/runtime/Requant.h"

#include <oneapi/dnnl/dnnl.hpp>

#include <dlfcn.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <functional>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <unordered_map>
#include <vector>

using namespace lowbit::rt;

namespace {

using Clock = std::chrono::steady_clock;

/// The lowbit paths this CPU runs, as indices (Isa values); not a prefix of
/// 0..cpuIsa() (a CPU may run avx512-vnni but not avx2-vnni).
std::vector<int> pathsHere() {
  std::vector<int> paths;
  for (Isa isa : kAllIsas)
    if (cpuSupports(isa))
      paths.push_back(static_cast<int>(isa));
  return paths;
}

double seconds(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

double cpuSeconds() {
  timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

//===----------------------------------------------------------------------===//
// Shapes
//===----------------------------------------------------------------------===//

struct Spec {
  const char *tag;
  int64_t c, hw, oc, k, stride, pad;
  int count; ///< uses in torchvision's resnet18 (0: a MobileNetV2 shape)
};

// torchvision resnet18: conv1; layer1: 2 BasicBlocks of two 3x3 64->64;
// layer2..4: the first block's 3x3/2 and 1x1/2 downsample, then three 3x3/1
// (the first block's second conv and the second block's two). 20 convs.
const Spec kSpecs[] = {
    {"conv1", 3, 224, 64, 7, 2, 3, 1},
    {"layer1", 64, 56, 64, 3, 1, 1, 4},
    {"layer2.0", 64, 56, 128, 3, 2, 1, 1},
    {"layer2.ds", 64, 56, 128, 1, 2, 0, 1},
    {"layer2", 128, 28, 128, 3, 1, 1, 3},
    {"layer3.0", 128, 28, 256, 3, 2, 1, 1},
    {"layer3.ds", 128, 28, 256, 1, 2, 0, 1},
    {"layer3", 256, 14, 256, 3, 1, 1, 3},
    {"layer4.0", 256, 14, 512, 3, 2, 1, 1},
    {"layer4.ds", 256, 14, 512, 1, 2, 0, 1},
    {"layer4", 512, 7, 512, 3, 1, 1, 3},
    {"mbv2", 32, 112, 16, 1, 1, 0, 0},
    {"mbv2", 144, 56, 24, 1, 1, 0, 0},
    {"mbv2", 192, 28, 64, 1, 1, 0, 0},
    {"mbv2", 384, 14, 96, 1, 1, 0, 0},
    {"mbv2", 960, 7, 320, 1, 1, 0, 0},
};

std::string label(const Spec &s) {
  char buf[96];
  std::snprintf(buf, sizeof buf, "%-9s %lldx%lld/%lld %lld->%lld @%lld", s.tag,
                (long long)s.k, (long long)s.k, (long long)s.stride,
                (long long)s.c, (long long)s.oc, (long long)s.hw);
  return buf;
}

//===----------------------------------------------------------------------===//
// Buffers
//===----------------------------------------------------------------------===//

struct FreeDeleter {
  void operator()(void *p) const { std::free(p); }
};
using Aligned = std::unique_ptr<uint8_t, FreeDeleter>;

Aligned alignedCopy(const void *src, size_t n) {
  const size_t rounded = std::max<size_t>(64, (n + 63) / 64 * 64);
  Aligned p(static_cast<uint8_t *>(std::aligned_alloc(64, rounded)));
  if (!p) {
    std::fprintf(stderr, "conv_kernels: out of memory\n");
    std::exit(2);
  }
  std::memset(p.get(), 0, rounded);
  if (src && n)
    std::memcpy(p.get(), src, n);
  return p;
}

/// lowbit's weight blob under construction: 64-byte aligned arrays.
struct Blob {
  std::vector<uint8_t> bytes;
  int64_t add(const void *data, size_t n) {
    const int64_t off = static_cast<int64_t>((bytes.size() + 63) / 64 * 64);
    bytes.resize(static_cast<size_t>(off) + n);
    if (n)
      std::memcpy(bytes.data() + off, data, n);
    return off;
  }
  template <typename T> int64_t add(const std::vector<T> &v) {
    return add(v.data(), v.size() * sizeof(T));
  }
};

//===----------------------------------------------------------------------===//
// Machine state
//===----------------------------------------------------------------------===//

/// Busy ticks of the whole machine and of this process, to tell how much
/// CPU other processes used while the benchmark ran.
struct CpuSample {
  double machineBusy = 0, self = 0;
  Clock::time_point t = Clock::now();
};

CpuSample sampleCpu() {
  CpuSample s;
  std::ifstream stat("/proc/stat");
  std::string cpu;
  double v[8] = {0};
  stat >> cpu >> v[0] >> v[1] >> v[2] >> v[3] >> v[4] >> v[5] >> v[6] >> v[7];
  // user nice system idle iowait irq softirq steal
  s.machineBusy = v[0] + v[1] + v[2] + v[5] + v[6] + v[7];
  std::ifstream self("/proc/self/stat");
  std::string line;
  std::getline(self, line);
  const size_t close = line.rfind(')');
  if (close != std::string::npos) {
    std::istringstream rest(line.substr(close + 2));
    std::string field;
    double utime = 0, stime = 0;
    for (int i = 3; i <= 15 && rest >> field; ++i) {
      if (i == 14)
        utime = std::atof(field.c_str());
      if (i == 15)
        stime = std::atof(field.c_str());
    }
    s.self = utime + stime;
  }
  s.t = Clock::now();
  return s;
}

std::string loadAvg() {
  std::ifstream f("/proc/loadavg");
  std::string a, b, c;
  f >> a >> b >> c;
  return a + " " + b + " " + c;
}

const char *dnnlIsaName(dnnl::cpu_isa isa) {
  switch (isa) {
  case dnnl::cpu_isa::sse41:
    return "sse41";
  case dnnl::cpu_isa::avx:
    return "avx";
  case dnnl::cpu_isa::avx2:
    return "avx2";
  case dnnl::cpu_isa::avx2_vnni:
    return "avx2_vnni";
  case dnnl::cpu_isa::avx512_core:
    return "avx512_core";
  case dnnl::cpu_isa::avx512_core_vnni:
    return "avx512_core_vnni";
  case dnnl::cpu_isa::avx512_core_bf16:
    return "avx512_core_bf16";
  case dnnl::cpu_isa::avx512_core_amx:
    return "avx512_core_amx";
  default:
    return "other";
  }
}

//===----------------------------------------------------------------------===//
// One shape
//===----------------------------------------------------------------------===//

struct Options {
  double time = 0.2;
  bool s8 = false;
  bool zp = true;
  bool allIsas = true;
};

/// A timed variant: its call and its per-call times.
struct Variant {
  std::string name;
  std::function<void()> call;
  std::vector<double> samples;
  double estimate = 0;
  double median() const {
    std::vector<double> v = samples;
    std::sort(v.begin(), v.end());
    const size_t n = v.size();
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
  }
};

double timeOne(const std::function<void()> &f) {
  const auto t0 = Clock::now();
  f();
  return seconds(t0, Clock::now());
}

/// Warm-up, then 5 interleaved rounds of timed calls.
void timeVariants(std::vector<Variant *> &vs, double budget) {
  for (Variant *v : vs) {
    double best = 1e30, spent = 0;
    for (int i = 0; i < 2 || (spent < 0.03 && i < 1000); ++i) {
      const double t = timeOne(v->call);
      best = std::min(best, t);
      spent += t;
    }
    v->estimate = best;
  }
  constexpr int kRounds = 5;
  std::vector<int> perRound;
  for (Variant *v : vs) {
    const double want = std::ceil(budget / std::max(v->estimate, 1e-7));
    const int64_t total = std::max<int64_t>(5, static_cast<int64_t>(
                                                   std::min(want, 1e6)));
    perRound.push_back(static_cast<int>((total + kRounds - 1) / kRounds));
    v->samples.reserve(static_cast<size_t>(perRound.back() * kRounds));
  }
  for (int r = 0; r < kRounds; ++r)
    for (size_t i = 0; i < vs.size(); ++i)
      for (int k = 0; k < perRound[i]; ++k)
        vs[i]->samples.push_back(timeOne(vs[i]->call));
}

struct Result {
  std::string label;
  int count = 0;
  double gop = 0;
  double lowbitMs = 0, dnnlMs = 0;
  std::vector<double> isaMs; ///< per path, index = Isa value; 0 if untimed
  std::string impl, zpMode;
  int maxDiff = 0;
  int64_t diffCount = 0, outputs = 0, saturated = 0;
  bool isasAgree = true;
};

enum class ZpMode { Constant, Runtime, None };

Result runShape(const Spec &sp, const Options &opt, dnnl::engine &eng,
                dnnl::stream &strm, std::mt19937_64 &rng, double &dnnlCpu,
                double &dnnlWall) {
  const bool sgn = opt.s8;
  Conv2DShape s{};
  s.n = 1;
  s.h = s.w = sp.hw;
  s.c = sp.c;
  s.kh = s.kw = sp.k;
  s.strideH = s.strideW = sp.stride;
  s.dilationH = s.dilationW = 1;
  s.padTop = s.padLeft = sp.pad;
  s.oh = s.ow = (sp.hw + 2 * sp.pad - sp.k) / sp.stride + 1;
  s.oc = sp.oc;
  s.groups = 1;
  const int64_t taps = s.kh * s.kw, K = taps * s.c;
  const int64_t inCount = s.h * s.w * s.c, outCount = s.oh * s.ow * s.oc;

  Result res;
  res.label = label(sp);
  res.count = sp.count;
  res.gop = 2.0 * s.n * s.oh * s.ow * s.oc * K / 1e9;
  res.outputs = outCount;
  if (!gemmShapeSupported(s)) {
    std::fprintf(stderr, "conv_kernels: %s: not supported by lowbit\n",
                 res.label.c_str());
    std::exit(2);
  }

  // Random data. Activations span the whole 8-bit range, weights too.
  auto uni = [&](int64_t lo, int64_t hi) {
    return std::uniform_int_distribution<int64_t>(lo, hi)(rng);
  };
  const int64_t amin = sgn ? -128 : 0, amax = sgn ? 127 : 255;
  const int32_t inZp = opt.zp ? (sgn ? -3 : 9) : 0;
  const int32_t outZp = opt.zp ? (sgn ? 5 : 128) : 0;
  std::vector<uint8_t> in(static_cast<size_t>(inCount));
  double mean = 0, sq = 0;
  for (uint8_t &b : in) {
    const int64_t v = uni(amin, amax);
    b = static_cast<uint8_t>(v);
    mean += double(v - inZp);
    sq += double(v - inZp) * double(v - inZp);
  }
  mean /= double(inCount);
  const double varX = sq / double(inCount) - mean * mean;
  std::vector<int8_t> w(static_cast<size_t>(s.oc * K));
  double w2 = 0;
  for (int8_t &v : w) {
    v = static_cast<int8_t>(uni(-128, 127));
    w2 += double(v) * double(v);
  }
  w2 /= double(w.size());
  // Bias and scales that put each channel's outputs around the middle of
  // the 8-bit range, spread over about +-30 steps, so few outputs saturate
  // and the comparison below means something: the bias cancels the mean
  // accumulator and adds the middle of the range minus the zero point.
  const int32_t lo = sgn ? -128 : 0, hi = sgn ? 127 : 255;
  const double center = 0.5 * (lo + hi) - outZp; // in output steps
  const double accStd = std::sqrt(double(K) * varX * w2);
  std::vector<int32_t> bias(static_cast<size_t>(s.oc)), mul(bias.size()),
      shift(bias.size());
  std::vector<float> dnnlScale(bias.size());
  for (int64_t o = 0; o < s.oc; ++o) {
    double sumW = 0;
    for (int64_t i = 0; i < K; ++i)
      sumW += w[static_cast<size_t>(o * K + i)];
    ScaleMultiplier m;
    computeMultiplier(30.0 / accStd * (0.7 + uni(0, 600) / 1000.0), m);
    mul[o] = m.multiplier;
    shift[o] = m.shift;
    const double scale = std::ldexp(static_cast<double>(m.multiplier), -m.shift);
    dnnlScale[o] = static_cast<float>(scale);
    bias[o] = static_cast<int32_t>(
        std::llround(-mean * sumW + center / scale +
                     accStd * (uni(-1000, 1000) / 2000.0)));
  }

  // lowbit: the blob, as the compiler lays it out.
  Blob blob;
  const GemmPacking p = gemmPacking(s.oc, s.kh, s.kw, s.c);
  std::vector<int8_t> packed(static_cast<size_t>(p.bytes));
  packGemmWeights(w.data(), p, packed.data());
  std::vector<int32_t> pb(static_cast<size_t>(p.ocPadded));
  gemmBias(w.data(), bias.data(), p, inZp, false, sgn, pb.data());
  std::vector<uint8_t> zeroRow(static_cast<size_t>(gemmZeroRowBytes(p)),
                               static_cast<uint8_t>(inZp));
  std::vector<int32_t> em(static_cast<size_t>(p.ocPadded)), es(em.size());
  expandRequant(mul.data(), shift.data(), true, s.oc, p.ocPadded, em.data(),
                es.data());
  QGemmConv d{};
  d.shape = s;
  d.weights = blob.add(packed);
  d.bias = blob.add(pb);
  d.zeroRow = blob.add(zeroRow);
  d.mul = blob.add(em);
  d.shift = blob.add(es);
  d.negMul = d.negShift = -1;
  d.inputSigned = sgn;
  d.outZp = outZp;
  d.lo = lo;
  d.hi = hi;
  d.mode = RoundingMode::SingleRound;
  Aligned lbBlob = alignedCopy(blob.bytes.data(), blob.bytes.size());
  Aligned lbIn = alignedCopy(in.data(), in.size());
  const int maxIsa = static_cast<int>(cpuIsa());
  std::vector<Aligned> lbOut;
  for (int i : pathsHere())
    lbOut.push_back(alignedCopy(nullptr, static_cast<size_t>(outCount)));

  // oneDNN.
  using namespace dnnl;
  using tag = memory::format_tag;
  using dt = memory::data_type;
  const dt act = sgn ? dt::s8 : dt::u8;
  const memory::dims srcDims{1, s.c, s.h, s.w}, wDims{s.oc, s.c, s.kh, s.kw},
      bDims{s.oc}, dstDims{1, s.oc, s.oh, s.ow};
  const int64_t padR =
      std::max<int64_t>(0, (s.oh - 1) * sp.stride + sp.k - sp.hw - sp.pad);
  const memory::desc srcMd(srcDims, act, tag::nhwc),
      wAny(wDims, dt::s8, tag::any), bMd(bDims, dt::s32, tag::a),
      dstMd(dstDims, act, tag::nhwc);
  convolution_forward::desc cd(prop_kind::forward_inference,
                               algorithm::convolution_direct, srcMd, wAny, bMd,
                               dstMd, {sp.stride, sp.stride},
                               {sp.pad, sp.pad}, {padR, padR});
  ZpMode zpMode = ZpMode::Constant;
  convolution_forward::primitive_desc pd;
  for (;;) {
    primitive_attr attr;
    attr.set_output_scales(1 << 1, dnnlScale);
    attr.set_scratchpad_mode(scratchpad_mode::user);
    if (zpMode == ZpMode::Constant) {
      attr.set_zero_points(DNNL_ARG_SRC, 0, {inZp});
      attr.set_zero_points(DNNL_ARG_DST, 0, {outZp});
    } else if (zpMode == ZpMode::Runtime) {
      attr.set_zero_points(DNNL_ARG_SRC, 0, {DNNL_RUNTIME_S32_VAL});
      attr.set_zero_points(DNNL_ARG_DST, 0, {DNNL_RUNTIME_S32_VAL});
    }
    try {
      pd = convolution_forward::primitive_desc(cd, attr, eng);
      break;
    } catch (const dnnl::error &e) {
      if (zpMode == ZpMode::None)
        throw;
      zpMode = zpMode == ZpMode::Constant ? ZpMode::Runtime : ZpMode::None;
    }
  }
  res.impl = pd.impl_info_str();
  res.zpMode = !opt.zp                       ? "zp 0"
               : zpMode == ZpMode::Constant ? "zp const"
               : zpMode == ZpMode::Runtime  ? "zp runtime"
                                            : "NO zp (unsupported)";
  convolution_forward conv(pd);
  memory src(srcMd, eng), dst(dstMd, eng), b(bMd, eng),
      wUser({wDims, dt::s8, tag::ohwi}, eng), wConv(pd.weights_desc(), eng),
      scratch(pd.scratchpad_desc(), eng);
  std::memcpy(src.get_data_handle(), in.data(), in.size());
  std::memcpy(b.get_data_handle(), bias.data(), bias.size() * 4);
  std::memcpy(wUser.get_data_handle(), w.data(), w.size());
  reorder(wUser, wConv).execute(strm, wUser, wConv);
  strm.wait();
  const memory::desc zpMd({1}, dt::s32, tag::a);
  memory srcZp(zpMd, eng), dstZp(zpMd, eng);
  *static_cast<int32_t *>(srcZp.get_data_handle()) = inZp;
  *static_cast<int32_t *>(dstZp.get_data_handle()) = outZp;
  std::unordered_map<int, memory> args{{DNNL_ARG_SRC, src},
                                       {DNNL_ARG_WEIGHTS, wConv},
                                       {DNNL_ARG_BIAS, b},
                                       {DNNL_ARG_DST, dst},
                                       {DNNL_ARG_SCRATCHPAD, scratch}};
  if (zpMode == ZpMode::Runtime) {
    args[DNNL_ARG_ATTR_ZERO_POINTS | DNNL_ARG_SRC] = srcZp;
    args[DNNL_ARG_ATTR_ZERO_POINTS | DNNL_ARG_DST] = dstZp;
  }

  // Variants: oneDNN, then lowbit's paths.
  const Isa sel = selectedIsa();
  std::vector<Variant> lbv(static_cast<size_t>(maxIsa + 1));
  Variant dv;
  dv.name = "oneDNN";
  dv.call = [&] {
    conv.execute(strm, args);
    strm.wait();
  };
  std::vector<Variant *> timed{&dv};
  for (int i : pathsHere()) {
    const Isa isa = static_cast<Isa>(i);
    lbv[i].name = isaName(isa);
    void *out = lbOut[i].get();
    const void *inp = lbIn.get(), *bl = lbBlob.get();
    lbv[i].call = [out, inp, bl, &d, isa] {
      convRequantGemm(inp, out, bl, d, isa);
    };
    if (opt.allIsas || isa == sel)
      timed.push_back(&lbv[i]);
  }
  const double cpu0 = cpuSeconds();
  const auto wall0 = Clock::now();
  // The CPU/wall check: oneDNN alone for at least 3 calls and 20 ms (with
  // more than one OpenMP thread, CPU time would exceed wall time).
  for (int i = 0; i < 3 || seconds(wall0, Clock::now()) < 0.02; ++i)
    dv.call();
  dnnlCpu += cpuSeconds() - cpu0;
  dnnlWall += seconds(wall0, Clock::now());
  timeVariants(timed, opt.time);

  res.isaMs.assign(static_cast<size_t>(maxIsa + 1), 0.0);
  for (int i : pathsHere())
    if (!lbv[i].samples.empty())
      res.isaMs[i] = lbv[i].median() * 1e3;
  res.lowbitMs = res.isaMs[static_cast<int>(sel)];
  res.dnnlMs = dv.median() * 1e3;

  // Sanity: every timed lowbit path agrees with the selected one bit for
  // bit; oneDNN agrees with lowbit to within rounding.
  const uint8_t *ref = lbOut[static_cast<int>(sel)].get();
  for (int i : pathsHere())
    if (!lbv[i].samples.empty() &&
        std::memcmp(lbOut[i].get(), ref, static_cast<size_t>(outCount)) != 0)
      res.isasAgree = false;
  const uint8_t *dn = static_cast<const uint8_t *>(dst.get_data_handle());
  for (int64_t i = 0; i < outCount; ++i) {
    const int a = sgn ? int(int8_t(ref[i])) : int(ref[i]);
    const int c = sgn ? int(int8_t(dn[i])) : int(dn[i]);
    const int diff = std::abs(a - c);
    res.maxDiff = std::max(res.maxDiff, diff);
    res.diffCount += diff != 0;
    res.saturated += a == lo || a == hi;
  }
  return res;
}

} // namespace

int main(int argc, char **argv) {
  Options opt;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--time" && i + 1 < argc)
      opt.time = std::atof(argv[++i]);
    else if (a == "--s8")
      opt.s8 = true;
    else if (a == "--no-zp")
      opt.zp = false;
    else if (a == "--selected-only")
      opt.allIsas = false;
    else {
      std::fprintf(stderr,
                   "usage: %s [--time S] [--s8] [--no-zp] [--selected-only]\n",
                   argv[0]);
      return 2;
    }
  }

  // One thread for oneDNN. Debian's oneDNN uses GNU OpenMP, which reads
  // OMP_NUM_THREADS when it is loaded, before main: run the binary with
  // OMP_NUM_THREADS=1. The setenv is for any later reader; the call below
  // sets the running OpenMP's thread count in case the variable was not set.
  const char *envThreads = std::getenv("OMP_NUM_THREADS");
  const std::string envShown = envThreads ? envThreads : "(unset)";
  setenv("OMP_NUM_THREADS", "1", 1);
  using OmpSet = void (*)(int);
  using OmpGet = int (*)();
  if (auto set = reinterpret_cast<OmpSet>(
          dlsym(RTLD_DEFAULT, "omp_set_num_threads")))
    set(1);
  int ompThreads = -1;
  if (auto get = reinterpret_cast<OmpGet>(
          dlsym(RTLD_DEFAULT, "omp_get_max_threads")))
    ompThreads = get();

  dnnl::engine eng(dnnl::engine::kind::cpu, 0);
  dnnl::stream strm(eng);
  const dnnl_version_t *ver = dnnl_version();

  std::printf("conv_kernels: lowbit convRequantGemm vs oneDNN %d.%d.%d int8 "
              "convolution, batch 1, NHWC, %s activations, s8 weights, "
              "s32 bias, per-channel requant, %s\n",
              ver->major, ver->minor, ver->patch, opt.s8 ? "s8" : "u8",
              opt.zp ? "nonzero input/output zero points"
                     : "zero points 0");
  std::printf("lowbit: selectedIsa %s, cpuIsa %s%s%s\n", isaName(selectedIsa()),
              isaName(cpuIsa()),
              std::getenv("LOWBIT_MAX_ISA") ? ", LOWBIT_MAX_ISA=" : "",
              std::getenv("LOWBIT_MAX_ISA") ? std::getenv("LOWBIT_MAX_ISA")
                                            : "");
  std::printf("oneDNN: effective ISA %s, OpenMP threads %d (OMP_NUM_THREADS "
              "was %s)\n",
              dnnlIsaName(dnnl::get_effective_cpu_isa()), ompThreads,
              envShown.c_str());
  std::printf("timing: median of per-call times, ~%.2f s per shape and "
              "library, 5 interleaved rounds; load average at start %s\n\n",
              opt.time, loadAvg().c_str());
  std::fflush(stdout);

  std::mt19937_64 rng(20261129);
  std::vector<Result> results;
  double dnnlCpu = 0, dnnlWall = 0;
  const CpuSample start = sampleCpu();
  for (const Spec &sp : kSpecs) {
    results.push_back(runShape(sp, opt, eng, strm, rng, dnnlCpu, dnnlWall));
    const Result &r = results.back();
    std::printf("  %-32s oneDNN impl: %-28s %s\n", r.label.c_str(),
                r.impl.c_str(), r.zpMode.c_str());
    std::fflush(stdout);
  }
  const CpuSample end = sampleCpu();

  const int maxIsa = static_cast<int>(cpuIsa());
  const char *sel = isaName(selectedIsa());
  std::printf("\nlowbit (%s) vs oneDNN, one thread; ratio = lowbit GOP/s / "
              "oneDNN GOP/s (above 1: lowbit faster)\n\n",
              sel);
  std::printf("%-32s %3s %7s %9s %9s %9s %9s %7s %5s\n", "shape", "x", "GOP",
              "lowbit ms", "oneDNN ms", "lb GOP/s", "dn GOP/s", "ratio",
              "diff");
  double tg = 0, tl = 0, td = 0;
  std::vector<double> ti(static_cast<size_t>(maxIsa + 1), 0.0);
  double mg = 0, ml = 0, md = 0;
  bool printedRule = false;
  for (const Result &r : results) {
    if (r.count == 0 && !printedRule) {
      std::printf("%-32s %3d %7.3f %9.3f %9.3f %9.1f %9.1f %7.2f\n",
                  "ResNet-18 total (weighted)", 20, tg, tl, td, tg / tl * 1e3,
                  tg / td * 1e3, (tg / tl) / (tg / td));
      std::printf("\n");
      printedRule = true;
    }
    std::printf("%-32s %3d %7.3f %9.3f %9.3f %9.1f %9.1f %7.2f %5d\n",
                r.label.c_str(), r.count, r.gop, r.lowbitMs, r.dnnlMs,
                r.gop / r.lowbitMs * 1e3, r.gop / r.dnnlMs * 1e3,
                r.dnnlMs / r.lowbitMs, r.maxDiff);
    if (r.count) {
      tg += r.count * r.gop;
      tl += r.count * r.lowbitMs;
      td += r.count * r.dnnlMs;
      for (int i : pathsHere())
        ti[i] += r.count * r.isaMs[i];
    } else {
      mg += r.gop;
      ml += r.lowbitMs;
      md += r.dnnlMs;
    }
  }
  std::printf("%-32s %3s %7.3f %9.3f %9.3f %9.1f %9.1f %7.2f\n",
              "MobileNetV2 1x1 shapes (sum)", "", mg, ml, md, mg / ml * 1e3,
              mg / md * 1e3, md / ml);

  if (opt.allIsas) {
    std::printf("\nevery lowbit path this CPU runs: ms (GOP/s)\n\n%-32s",
                "shape");
    for (int i : pathsHere())
      std::printf(" %20s", isaName(static_cast<Isa>(i)));
    std::printf(" %20s\n", "oneDNN");
    auto cell = [](double ms, double gop) {
      std::printf(" %9.3f (%8.1f)", ms, gop / ms * 1e3);
    };
    for (const Result &r : results) {
      std::printf("%-32s", r.label.c_str());
      for (int i : pathsHere())
        cell(r.isaMs[i], r.gop);
      cell(r.dnnlMs, r.gop);
      std::printf("\n");
    }
    std::printf("%-32s", "ResNet-18 total (weighted)");
    for (int i : pathsHere())
      cell(ti[i], tg);
    cell(td, tg);
    std::printf("\n%-32s", "ratio to oneDNN (total)");
    for (int i : pathsHere())
      std::printf(" %20.2f", td / ti[i]);
    std::printf("\n");
  }

  // Sanity lines.
  int maxDiff = 0;
  int64_t diffs = 0, outs = 0, sat = 0;
  bool agree = true;
  for (const Result &r : results) {
    maxDiff = std::max(maxDiff, r.maxDiff);
    diffs += r.diffCount;
    outs += r.outputs;
    sat += r.saturated;
    agree = agree && r.isasAgree;
  }
  std::printf("\nsanity (not a test): max |lowbit - oneDNN| = %d over %lld "
              "outputs (%lld differ, %.2f%%; %.2f%% of lowbit's outputs "
              "saturated); oneDNN scale = float(multiplier * 2^-shift)\n",
              maxDiff, (long long)outs, (long long)diffs,
              100.0 * diffs / outs, 100.0 * sat / outs);
  if (opt.allIsas)
    std::printf("sanity: all lowbit paths give identical bytes: %s\n",
                agree ? "yes" : "NO");
  const double span = seconds(start.t, end.t);
  const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
  const double others =
      ((end.machineBusy - start.machineBusy) - (end.self - start.self)) /
      ticks / span;
  std::printf("machine: oneDNN CPU/wall %.2f (one thread: 1.00, less when "
              "preempted); other "
              "processes kept %.2f CPUs busy on average over %.1f s "
              "(of %ld); load average at end %s\n",
              dnnlWall > 0 ? dnnlCpu / dnnlWall : 0.0, others, span,
              sysconf(_SC_NPROCESSORS_ONLN), loadAvg().c_str());
  return 0;
}
