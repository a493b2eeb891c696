//===- AccelSimTest.cpp - The accelerator simulator against plain loops ---===//
//
// Part of the lowbit project.
//
//===----------------------------------------------------------------------===//
//
// Small hand-built accel programs run by lowbit_accel_sim and compared with
// reference loops written from Isa.h's formulas (the integer rules are
// Requant.h's and Ops.h's; shift terms stand for the integers sign * 2^s),
// plus the scheduler's errors, the binary's decoder errors, the binary ->
// assembly -> binary identity and cycle counts worked out by hand.
//
//===----------------------------------------------------------------------===//

#include "lowbit/accel/Sim.h"

#include "lowbit/accel/Isa.h"
#include "lowbit/runtime/Ops.h"
#include "lowbit/runtime/Requant.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <initializer_list>
#include <random>
#include <utility>

using namespace lowbit;
using namespace lowbit::accel;

namespace {

using Fields = std::initializer_list<std::pair<const char *, int64_t>>;

/// Builds a program: data segment first, then tensors laid out after it.
struct Builder {
  Program p;

  /// Appends bytes to the data segment; returns their DRAM address.
  uint64_t data(const void *bytes, size_t n) {
    const uint64_t at = p.data.size();
    const uint8_t *b = static_cast<const uint8_t *>(bytes);
    p.data.insert(p.data.end(), b, b + n);
    p.dramBytes = p.data.size();
    return at;
  }
  uint64_t data(const std::vector<int8_t> &v) {
    return data(v.data(), v.size());
  }
  uint64_t data(const std::vector<int32_t> &v) {
    std::vector<uint8_t> le;
    for (int32_t x : v)
      for (int k = 0; k < 4; ++k)
        le.push_back(uint8_t(uint32_t(x) >> (8 * k)));
    return data(le.data(), le.size());
  }
  /// A tensor after everything placed so far; returns its address.
  uint64_t tensor(const char *name, bool isOutput, std::vector<int64_t> shape,
                  double scale = 0.5, int32_t zp = 0) {
    TensorDesc d;
    d.name = name;
    d.isOutput = isOutput;
    d.shape = std::move(shape);
    d.addr = p.dramBytes;
    d.scale = scale;
    d.zeroPoint = zp;
    p.dramBytes += d.bytes();
    p.tensors.push_back(d);
    return d.addr;
  }
  void emit(Opcode op, Fields fields, uint8_t deps = 0) {
    Instr in;
    in.opcode = op;
    in.deps = deps;
    const OpSpec *spec = opSpec(op);
    ASSERT_NE(spec, nullptr);
    for (const auto &f : fields) {
      ASSERT_GE(fieldIndex(*spec, f.first), 0) << f.first;
      in.set(f.first, f.second);
    }
    p.instrs.push_back(in);
  }
  /// A load of `bytes` contiguous DRAM bytes into a buffer.
  void loadFlat(int buf, uint64_t dram, uint64_t sram, uint64_t bytes,
                uint8_t deps = 0) {
    emit(Opcode::Load,
         {{"buf", buf},
          {"dram", int64_t(dram)},
          {"sram", int64_t(sram)},
          {"rows", 1},
          {"cols", int64_t(bytes)},
          {"elem", 1},
          {"stride", int64_t(bytes)}},
         deps);
  }
  void storeFlat(uint64_t dram, uint64_t sram, uint64_t bytes,
                 uint8_t deps = 0) {
    emit(Opcode::Store,
         {{"dram", int64_t(dram)},
          {"sram", int64_t(sram)},
          {"rows", 1},
          {"cols", int64_t(bytes)},
          {"elem", 1},
          {"stride", int64_t(bytes)}},
         deps);
  }
};

std::vector<int8_t> randomBytes(size_t n, std::mt19937 &rng, int lo = -128,
                                int hi = 127) {
  std::uniform_int_distribution<int> d(lo, hi);
  std::vector<int8_t> v(n);
  for (int8_t &x : v)
    x = int8_t(d(rng));
  return v;
}

std::vector<int32_t> randomInts(size_t n, std::mt19937 &rng, int32_t lo,
                                int32_t hi) {
  std::uniform_int_distribution<int32_t> d(lo, hi);
  std::vector<int32_t> v(n);
  for (int32_t &x : v)
    x = d(rng);
  return v;
}

std::vector<int32_t> asInts(const std::vector<int8_t> &bytes) {
  std::vector<int32_t> v(bytes.size() / 4);
  for (size_t i = 0; i < v.size(); ++i) {
    uint32_t u = 0;
    for (int k = 0; k < 4; ++k)
      u |= uint32_t(uint8_t(bytes[4 * i + k])) << (8 * k);
    v[i] = int32_t(u);
  }
  return v;
}

/// Runs `p` on `inputs`, expecting success; returns the outputs.
std::vector<std::vector<int8_t>>
runOk(const Program &p, const std::vector<std::vector<int8_t>> &inputs,
      SimStats *statsOut = nullptr) {
  EXPECT_EQ(checkProgram(p), "");
  std::vector<std::vector<int8_t>> outputs;
  SimStats stats;
  const std::string err = runProgram(p, inputs, outputs, stats);
  EXPECT_EQ(err, "");
  if (statsOut)
    *statsOut = stats;
  return outputs;
}

std::string runErr(const Program &p,
                   const std::vector<std::vector<int8_t>> &inputs) {
  std::vector<std::vector<int8_t>> outputs;
  SimStats stats;
  std::string err = runProgram(p, inputs, outputs, stats);
  EXPECT_EQ(stats.runs, 0u);
  return err;
}

//===----------------------------------------------------------------------===//
// Functional semantics
//===----------------------------------------------------------------------===//

// A 3x3 convolution (padding 1, written by the load's padding) over a 5x6x3
// image, split into two input-channel tiles (init 1, then init 0 with
// in_c_off 2), its int32 accumulators stored to DRAM.
TEST(AccelSim, Conv3x3PaddedTwoChannelTiles) {
  std::mt19937 rng(1);
  const int H = 5, W = 6, C = 3, CO = 4, K = 3;
  const int8_t zp = -3;
  const auto w = randomBytes(CO * K * K * C, rng);
  const auto bias = randomInts(CO, rng, -5000, 5000);
  // Tile weights: [co][ky][kx][ci] for ci in the tile's channels.
  std::vector<int8_t> w0, w1;
  for (int co = 0; co < CO; ++co)
    for (int t = 0; t < K * K; ++t)
      for (int ci = 0; ci < C; ++ci)
        (ci < 2 ? w0 : w1).push_back(w[(co * K * K + t) * C + ci]);

  Builder b;
  const uint64_t biasAt = b.data(bias);
  const uint64_t w0At = b.data(w0);
  const uint64_t w1At = b.data(w1);
  const uint64_t wBytes = b.p.data.size();
  const uint64_t x = b.tensor("x", false, {1, H, W, C});
  const uint64_t y = b.tensor("acc", true, {H * W * CO * 4});
  b.emit(Opcode::Load, {{"buf", 0},
                        {"dram", int64_t(x)},
                        {"sram", 0},
                        {"rows", H},
                        {"cols", W},
                        {"elem", C},
                        {"stride", W * C},
                        {"pad_top", 1},
                        {"pad_bottom", 1},
                        {"pad_left", 1},
                        {"pad_right", 1},
                        {"pad_value", zp}});
  b.loadFlat(1, 0, 0, wBytes, PushNext);
  const Fields common = {
      {"mode", 0}, {"depthwise", 0}, {"inp", 0},   {"bias", int64_t(biasAt)},
      {"acc", 0},  {"out_h", H},     {"out_w", W}, {"in_w", W + 2},
      {"in_c", C}, {"cout", CO},     {"kh", K},    {"kw", K},
      {"sh", 1},   {"sw", 1},        {"dh", 1},    {"dw", 1}};
  b.emit(Opcode::Mac, common, PopPrev);
  b.p.instrs.back().set("init", 1);
  b.p.instrs.back().set("wgt", int64_t(w0At));
  b.p.instrs.back().set("cin", 2);
  b.p.instrs.back().set("in_c_off", 0);
  b.emit(Opcode::Mac, common, PushNext);
  b.p.instrs.back().set("init", 0);
  b.p.instrs.back().set("wgt", int64_t(w1At));
  b.p.instrs.back().set("cin", 1);
  b.p.instrs.back().set("in_c_off", 2);
  b.storeFlat(y, 0, H * W * CO * 4, PopPrev);

  const auto in = randomBytes(H * W * C, rng);
  const auto out = runOk(b.p, {in});
  ASSERT_EQ(out.size(), 1u);
  const auto acc = asInts(out[0]);
  for (int oy = 0; oy < H; ++oy)
    for (int ox = 0; ox < W; ++ox)
      for (int co = 0; co < CO; ++co) {
        int64_t ref = bias[co];
        for (int ky = 0; ky < K; ++ky)
          for (int kx = 0; kx < K; ++kx)
            for (int ci = 0; ci < C; ++ci) {
              const int iy = oy + ky - 1, ix = ox + kx - 1;
              const int v = (iy < 0 || iy >= H || ix < 0 || ix >= W)
                                ? zp
                                : in[(iy * W + ix) * C + ci];
              ref += v * w[((co * K + ky) * K + kx) * C + ci];
            }
        EXPECT_EQ(acc[(oy * W + ox) * CO + co], ref)
            << oy << " " << ox << " " << co;
      }
}

// A depthwise 3x3 tile with stride 2 x 1 and dilation 1 x 2 over channels
// 1..5 of 7-channel pixels.
TEST(AccelSim, DepthwiseStrideDilationChannelOffset) {
  std::mt19937 rng(2);
  const int H = 7, W = 8, C = 7, OFF = 1, CO = 5, K = 3;
  const int SH = 2, SW = 1, DH = 1, DW = 2;
  const int OH = (H - (K - 1) * DH - 1) / SH + 1;
  const int OW = (W - (K - 1) * DW - 1) / SW + 1;
  const auto w = randomBytes(CO * K * K, rng);
  const auto bias = randomInts(CO, rng, -100000, 100000);
  Builder b;
  const uint64_t biasAt = b.data(bias);
  const uint64_t wAt = b.data(w);
  const uint64_t wBytes = b.p.data.size();
  const uint64_t x = b.tensor("x", false, {H, W, C});
  const uint64_t y = b.tensor("acc", true, {OH * OW * CO * 4});
  b.loadFlat(0, x, 0, H * W * C);
  b.loadFlat(1, 0, 0, wBytes, PushNext);
  b.emit(Opcode::Mac,
         {{"mode", 0},
          {"init", 1},
          {"depthwise", 1},
          {"inp", 0},
          {"wgt", int64_t(wAt)},
          {"bias", int64_t(biasAt)},
          {"acc", 0},
          {"out_h", OH},
          {"out_w", OW},
          {"in_w", W},
          {"in_c", C},
          {"in_c_off", OFF},
          {"cin", CO},
          {"cout", CO},
          {"kh", K},
          {"kw", K},
          {"sh", SH},
          {"sw", SW},
          {"dh", DH},
          {"dw", DW}},
         PopPrev | PushNext);
  b.storeFlat(y, 0, OH * OW * CO * 4, PopPrev);

  const auto in = randomBytes(H * W * C, rng);
  SimStats stats;
  const auto out = runOk(b.p, {in}, &stats);
  ASSERT_EQ(out.size(), 1u);
  const auto acc = asInts(out[0]);
  for (int oy = 0; oy < OH; ++oy)
    for (int ox = 0; ox < OW; ++ox)
      for (int co = 0; co < CO; ++co) {
        int64_t ref = bias[co];
        for (int ky = 0; ky < K; ++ky)
          for (int kx = 0; kx < K; ++kx)
            ref += in[((oy * SH + ky * DH) * W + ox * SW + kx * DW) * C + OFF +
                      co] *
                   w[(co * K + ky) * K + kx];
        EXPECT_EQ(acc[(oy * OW + ox) * CO + co], ref);
      }
  EXPECT_EQ(stats.usefulMacs, uint64_t(OH * OW * K * K * CO));
  // The diagonal: ceil(5 / 16) = 1 step per tap and pixel.
  EXPECT_EQ(stats.macCycles[0], uint64_t(OH * OW * K * K));
}

// A fully connected layer wider than the array (cin 40, cout 20 on 16 x 16),
// with accumulators that wrap modulo 2^32 through a huge bias.
TEST(AccelSim, FullyConnectedWrapsModulo2To32) {
  std::mt19937 rng(3);
  const int CI = 40, CO = 20;
  const auto w = randomBytes(CO * CI, rng);
  auto bias = randomInts(CO, rng, -1000, 1000);
  bias[0] = INT32_MAX; // + a positive dot product wraps
  bias[1] = INT32_MIN;
  Builder b;
  const uint64_t biasAt = b.data(bias);
  const uint64_t wAt = b.data(w);
  const uint64_t wBytes = b.p.data.size();
  const uint64_t x = b.tensor("x", false, {1, CI});
  const uint64_t y = b.tensor("acc", true, {CO * 4});
  b.loadFlat(0, x, 0, CI);
  b.loadFlat(1, 0, 0, wBytes, PushNext);
  b.emit(Opcode::Mac,
         {{"mode", 0},
          {"init", 1},
          {"depthwise", 0},
          {"inp", 0},
          {"wgt", int64_t(wAt)},
          {"bias", int64_t(biasAt)},
          {"acc", 0},
          {"out_h", 1},
          {"out_w", 1},
          {"in_w", 1},
          {"in_c", CI},
          {"in_c_off", 0},
          {"cin", CI},
          {"cout", CO},
          {"kh", 1},
          {"kw", 1},
          {"sh", 1},
          {"sw", 1},
          {"dh", 1},
          {"dw", 1}},
         PopPrev | PushNext);
  b.storeFlat(y, 0, CO * 4, PopPrev);

  std::vector<int8_t> in(CI, 100); // positive: row 0's sum is large
  SimStats stats;
  const auto out = runOk(b.p, {in}, &stats);
  const auto acc = asInts(out[0]);
  for (int co = 0; co < CO; ++co) {
    uint32_t ref = uint32_t(bias[co]);
    for (int ci = 0; ci < CI; ++ci)
      ref += uint32_t(int32_t(in[ci]) * int32_t(w[co * CI + ci]));
    EXPECT_EQ(uint32_t(acc[co]), ref) << co;
  }
  EXPECT_EQ(stats.macCycles[0], 3u * 2u); // ceil(40/16) * ceil(20/16)
  EXPECT_EQ(stats.usefulMacs, uint64_t(CI * CO));
}

// Per-channel dual requantization of int32 accumulators (negative slopes,
// DOUBLE_ROUND) and a single-entry requantization of int8 values with an
// input zero point.
TEST(AccelSim, RequantDualPerChannelAndInt8Source) {
  std::mt19937 rng(4);
  const int CI = 16, CO = 6, P = 1;
  const auto w = randomBytes(CO * CI, rng);
  const auto bias = randomInts(CO, rng, -200000, 200000);
  // Parameters: per channel {multiplier, shift, negative multiplier,
  // negative shift}, then one entry for the int8 requant.
  std::vector<int32_t> params;
  for (int co = 0; co < CO; ++co) {
    params.push_back(int32_t(0x40000000 + co * 7919));
    params.push_back(36 + co); // DOUBLE_ROUND matters above 31
    params.push_back(co % 2 ? -0x30000000 : 0x10000000);
    params.push_back(34 + co);
  }
  params.insert(params.end(), {0x55555555, 32, 0, 2});
  Builder b;
  const uint64_t biasAt = b.data(bias);
  const uint64_t wAt = b.data(w);
  const uint64_t pAt = b.data(params);
  const uint64_t wBytes = b.p.data.size();
  const uint64_t x = b.tensor("x", false, {1, CI});
  const uint64_t y = b.tensor("y", true, {CO});
  const uint64_t z = b.tensor("z", true, {CI});
  const int32_t outZp = 5, inZp = -7;
  b.loadFlat(0, x, 0, CI);
  b.loadFlat(1, 0, 0, wBytes, PushNext);
  b.emit(Opcode::Mac,
         {{"mode", 0},
          {"init", 1},
          {"depthwise", 0},
          {"inp", 0},
          {"wgt", int64_t(wAt)},
          {"bias", int64_t(biasAt)},
          {"acc", 0},
          {"out_h", 1},
          {"out_w", 1},
          {"in_w", 1},
          {"in_c", CI},
          {"in_c_off", 0},
          {"cin", CI},
          {"cout", CO},
          {"kh", 1},
          {"kw", 1},
          {"sh", 1},
          {"sw", 1},
          {"dh", 1},
          {"dw", 1}},
         PopPrev);
  // In place: int8 results over the int32 accumulators.
  b.emit(Opcode::Requant, {{"src_kind", 0},
                           {"src", 0},
                           {"dst", 0},
                           {"pixels", P},
                           {"channels", CO},
                           {"params", int64_t(pAt)},
                           {"per_channel", 1},
                           {"dual", 1},
                           {"round", 1},
                           {"in_zp", 0},
                           {"out_zp", outZp},
                           {"qmin", -100},
                           {"qmax", 120}});
  b.emit(Opcode::Requant,
         {{"src_kind", 1},
          {"src", 0},
          {"dst", 64},
          {"pixels", 4},
          {"channels", 4},
          {"params", int64_t(pAt + 16 * CO)},
          {"per_channel", 0},
          {"dual", 0},
          {"round", 0},
          {"in_zp", inZp},
          {"out_zp", -1},
          {"qmin", -128},
          {"qmax", 127}},
         PushNext);
  b.storeFlat(y, 0, CO, PopPrev);
  b.storeFlat(z, 64, CI);

  const auto in = randomBytes(CI, rng);
  const auto out = runOk(b.p, {in});
  ASSERT_EQ(out.size(), 2u);
  int sawNegative = 0;
  for (int co = 0; co < CO; ++co) {
    int64_t acc = bias[co];
    for (int ci = 0; ci < CI; ++ci)
      acc += in[ci] * w[co * CI + ci];
    sawNegative += acc < 0;
    const rt::ScaleMultiplier pos{params[4 * co], params[4 * co + 1]};
    const rt::ScaleMultiplier neg{params[4 * co + 2], params[4 * co + 3]};
    EXPECT_EQ(out[0][co], rt::requantizeDual(acc, pos, neg, outZp, -100, 120,
                                             rt::RoundingMode::DoubleRound))
        << co;
  }
  EXPECT_GT(sawNegative, 0);
  for (int i = 0; i < CI; ++i)
    EXPECT_EQ(out[1][i],
              rt::requantize(int64_t(in[i]) - inZp, {0x55555555, 32}, -1, -128,
                             127, rt::RoundingMode::SingleRound));
}

TEST(AccelSim, RequantParameterOutOfRangeIsAnExecutionError) {
  for (int32_t bad : {1, 63}) {
    Builder b;
    const std::vector<int32_t> params = {0x40000000, bad, 0, 2};
    const uint64_t pAt = b.data(params);
    b.tensor("y", true, {4});
    b.loadFlat(1, pAt, 0, 16, PushNext);
    b.emit(Opcode::Requant,
           {{"src_kind", 0},
            {"src", 0},
            {"dst", 0},
            {"pixels", 1},
            {"channels", 4},
            {"params", 0},
            {"per_channel", 0},
            {"dual", 0},
            {"round", 0},
            {"in_zp", 0},
            {"out_zp", 0},
            {"qmin", -128},
            {"qmax", 127}},
           PopPrev);
    const std::string err = runErr(b.p, {});
    EXPECT_NE(err.find("instruction 1"), std::string::npos) << err;
    EXPECT_NE(err.find("shift"), std::string::npos) << err;
  }
  // A negative positive-side multiplier too.
  Builder b;
  const std::vector<int32_t> params = {-5, 10, 0, 2};
  b.data(params);
  b.tensor("y", true, {4});
  b.loadFlat(1, 0, 0, 16, PushNext);
  b.emit(Opcode::Requant,
         {{"src_kind", 0},
          {"src", 0},
          {"dst", 0},
          {"pixels", 1},
          {"channels", 4},
          {"params", 0},
          {"per_channel", 0},
          {"dual", 0},
          {"round", 0},
          {"in_zp", 0},
          {"out_zp", 0},
          {"qmin", -128},
          {"qmax", 127}},
         PopPrev);
  const std::string err = runErr(b.p, {});
  EXPECT_NE(err.find("instruction 1"), std::string::npos) << err;
  EXPECT_NE(err.find("multiplier"), std::string::npos) << err;
}

// Max pooling 2x2 stride 2 and average pooling 3x3 stride 1 (zero point,
// narrowed output range) over a 5x5x3 tile.
TEST(AccelSim, MaxAndAveragePool) {
  std::mt19937 rng(5);
  const int H = 5, W = 5, C = 3;
  const int32_t zp = 9;
  const int8_t qmin = -5, qmax = 30;
  Builder b;
  const uint64_t x = b.tensor("x", false, {1, H, W, C});
  const uint64_t ym = b.tensor("max", true, {1, 2, 2, C});
  const uint64_t ya = b.tensor("avg", true, {1, 3, 3, C});
  b.loadFlat(0, x, 0, H * W * C, PushNext);
  b.emit(Opcode::Pool,
         {{"kind", 0},
          {"src", 0},
          {"dst", 0},
          {"in_w", W},
          {"c", C},
          {"out_h", 2},
          {"out_w", 2},
          {"kh", 2},
          {"kw", 2},
          {"sh", 2},
          {"sw", 2},
          {"zp", 0},
          {"qmin", -128},
          {"qmax", 127}},
         PopPrev);
  b.emit(Opcode::Pool,
         {{"kind", 1},
          {"src", 0},
          {"dst", 100},
          {"in_w", W},
          {"c", C},
          {"out_h", 3},
          {"out_w", 3},
          {"kh", 3},
          {"kw", 3},
          {"sh", 1},
          {"sw", 1},
          {"zp", zp},
          {"qmin", qmin},
          {"qmax", qmax}},
         PushNext);
  b.storeFlat(ym, 0, 2 * 2 * C, PopPrev);
  b.storeFlat(ya, 100, 3 * 3 * C);

  const auto in = randomBytes(H * W * C, rng, -60, 90);
  SimStats stats;
  const auto out = runOk(b.p, {in}, &stats);
  ASSERT_EQ(out.size(), 2u);
  for (int oy = 0; oy < 2; ++oy)
    for (int ox = 0; ox < 2; ++ox)
      for (int c = 0; c < C; ++c) {
        int best = -128;
        for (int ky = 0; ky < 2; ++ky)
          for (int kx = 0; kx < 2; ++kx)
            best = std::max<int>(best,
                                 in[((oy * 2 + ky) * W + ox * 2 + kx) * C + c]);
        EXPECT_EQ(out[0][(oy * 2 + ox) * C + c], best);
      }
  int clamped = 0;
  for (int oy = 0; oy < 3; ++oy)
    for (int ox = 0; ox < 3; ++ox)
      for (int c = 0; c < C; ++c) {
        int64_t sum = 0;
        for (int ky = 0; ky < 3; ++ky)
          for (int kx = 0; kx < 3; ++kx)
            sum += in[((oy + ky) * W + ox + kx) * C + c] - zp;
        const int64_t mean = zp + rt::divideRoundHalfEven(sum, 9);
        clamped += mean < qmin || mean > qmax;
        EXPECT_EQ(out[1][(oy * 3 + ox) * C + c],
                  rt::saturate(mean, qmin, qmax));
      }
  EXPECT_GT(clamped, 0);
  EXPECT_EQ(stats.instrCount[unsigned(Opcode::Pool)], 2u);
}

//===----------------------------------------------------------------------===//
// Shift modes, add and copy
//===----------------------------------------------------------------------===//

/// A mac's fields (tests set the ones they vary).
struct Mac {
  int mode = 0, init = 1, depthwise = 0;
  uint64_t inp = 0, wgt = 0, bias = 0, acc = 0;
  int outH = 1, outW = 1, inW = 1, inC = 1, inCOff = 0, cin = 1, cout = 1;
  int kh = 1, kw = 1, sh = 1, sw = 1, dh = 1, dw = 1;
  uint64_t wgt2 = 0, words = 0;
};

void emitMac(Builder &b, const Mac &m, uint8_t deps = 0) {
  b.emit(Opcode::Mac,
         {{"mode", m.mode},
          {"init", m.init},
          {"depthwise", m.depthwise},
          {"inp", int64_t(m.inp)},
          {"wgt", int64_t(m.wgt)},
          {"bias", int64_t(m.bias)},
          {"acc", int64_t(m.acc)},
          {"out_h", m.outH},
          {"out_w", m.outW},
          {"in_w", m.inW},
          {"in_c", m.inC},
          {"in_c_off", m.inCOff},
          {"cin", m.cin},
          {"cout", m.cout},
          {"kh", m.kh},
          {"kw", m.kw},
          {"sh", m.sh},
          {"sw", m.sw},
          {"dh", m.dh},
          {"dw", m.dw},
          {"wgt2", int64_t(m.wgt2)},
          {"words", int64_t(m.words)}},
         deps);
}

/// The integer a shift term stands for: 0, or sign(t) 2^(|t| - 1).
int64_t termValue(int8_t t) {
  if (t == 0)
    return 0;
  const int64_t p = int64_t(1) << ((t < 0 ? -t : t) - 1);
  return t < 0 ? -p : p;
}

/// Isa.h's mac formula over an input tile `in` (the bytes from inp), with
/// the integer weight `weight(k)` of the k-th weight (OHWI; depthwise
/// [co][ky][kx]), modulo 2^32.
template <typename WeightFn>
std::vector<uint32_t> refMac(const Mac &m, const std::vector<int8_t> &in,
                             const std::vector<int32_t> &bias,
                             WeightFn weight) {
  std::vector<uint32_t> out(size_t(m.outH * m.outW * m.cout));
  for (int oy = 0; oy < m.outH; ++oy)
    for (int ox = 0; ox < m.outW; ++ox)
      for (int co = 0; co < m.cout; ++co) {
        uint32_t a = uint32_t(bias[co]);
        int k = co * m.kh * m.kw * (m.depthwise ? 1 : m.cin);
        for (int ky = 0; ky < m.kh; ++ky)
          for (int kx = 0; kx < m.kw; ++kx) {
            const int y = oy * m.sh + ky * m.dh, x = ox * m.sw + kx * m.dw;
            const int8_t *px = &in[size_t((y * m.inW + x) * m.inC + m.inCOff)];
            if (m.depthwise) {
              a += uint32_t(int64_t(px[co]) * weight(k++));
              continue;
            }
            for (int ci = 0; ci < m.cin; ++ci)
              a += uint32_t(int64_t(px[ci]) * weight(k++));
          }
        out[size_t((oy * m.outW + ox) * m.cout + co)] = a;
      }
  return out;
}

std::vector<uint32_t> asUints(const std::vector<int8_t> &bytes) {
  std::vector<uint32_t> v;
  for (int32_t x : asInts(bytes))
    v.push_back(uint32_t(x));
  return v;
}

// shift1: a 3x3 convolution (stride 2 x 1) whose weights are shift terms,
// against the multiply formula with the integer weights sign * 2^s; the
// extreme shifts (+-31: x << 30) make the sums wrap modulo 2^32.
TEST(AccelSim, Shift1ConvEqualsPowerOfTwoWeights) {
  std::mt19937 rng(11);
  Mac m;
  m.mode = int(MacMode::Shift1);
  m.inW = 7, m.inC = 5, m.cin = 5, m.cout = 3, m.kh = m.kw = 3, m.sh = 2;
  m.outH = 2, m.outW = 5;
  const int H = 6;
  auto w = randomBytes(size_t(m.cout * 9 * m.cin), rng, -31, 31);
  w[0] = 31, w[1] = -31, w[7] = 0, w[50] = 31;
  const auto bias = randomInts(size_t(m.cout), rng, -1000, 1000);
  Builder b;
  b.p.target.modes = 1u << unsigned(MacMode::Shift1);
  m.bias = b.data(bias);
  m.wgt = b.data(w);
  const uint64_t wBytes = b.p.data.size();
  const uint64_t x = b.tensor("x", false, {H, m.inW, m.inC});
  const uint64_t y = b.tensor("acc", true, {m.outH * m.outW * m.cout * 4});
  b.loadFlat(0, x, 0, uint64_t(H * m.inW * m.inC));
  b.loadFlat(1, 0, 0, wBytes, PushNext);
  emitMac(b, m, PopPrev | PushNext);
  b.storeFlat(y, 0, uint64_t(m.outH * m.outW * m.cout * 4), PopPrev);

  const auto in = randomBytes(size_t(H * m.inW * m.inC), rng);
  SimStats stats;
  const auto out = runOk(b.p, {in}, &stats);
  ASSERT_EQ(out.size(), 1u);
  const auto ref =
      refMac(m, in, bias, [&](int k) { return termValue(w[size_t(k)]); });
  EXPECT_EQ(asUints(out[0]), ref);
  // 10 pixels x 9 taps x ceil(5 / 16) x ceil(3 / 16), all one-word tiles.
  EXPECT_EQ(stats.macCycles[unsigned(MacMode::Shift1)], 90u);
  EXPECT_EQ(stats.macOneWordCycles, 90u);
  EXPECT_EQ(stats.macTwoWordCycles, 0u);
}

// shift2 on a 4 x 4 array: a 2x2 convolution (6 -> 5 channels: 2 x 2 x 2 x
// 2 = 16 tiles) and a depthwise 2x2 one (6 channels: 2 x 2 x 2 = 8 tiles),
// each with a word mask where some tiles have two words. The second terms
// are packed in OHWI order over the two-word tiles' weights only.
TEST(AccelSim, Shift2TwoWordTilesAndTheirCycles) {
  std::mt19937 rng(12);
  const int H = 4, W = 4, C = 6, TN = 4, TM = 4;
  Mac conv;
  conv.mode = int(MacMode::Shift2);
  conv.outH = conv.outW = 3, conv.inW = W, conv.inC = C, conv.cin = C;
  conv.cout = 5, conv.kh = conv.kw = 2;
  Mac dw = conv;
  dw.depthwise = 1, dw.cin = dw.cout = C;

  // Tile index (Isa.h): row-major over [ceil(cout / Tm), kh, kw,
  // ceil(cin' / Tn)].
  auto convTile = [&](int co, int ky, int kx, int ci) {
    return ((co / TM * 2 + ky) * 2 + kx) * 2 + ci / TN;
  };
  auto dwTile = [&](int co, int ky, int kx) {
    return (co / TM * 2 + ky) * 2 + kx;
  };
  const std::vector<int> convTwo = {0, 3, 5, 6, 12, 15}; // of 16 tiles
  const std::vector<int> dwTwo = {1, 2, 7};              // of 8 tiles
  auto isIn = [](const std::vector<int> &v, int i) {
    return std::find(v.begin(), v.end(), i) != v.end();
  };
  std::vector<int8_t> convMask(2, 0), dwMask(1, 0);
  for (int i : convTwo)
    convMask[size_t(i / 8)] |= int8_t(1 << (i % 8));
  for (int i : dwTwo)
    dwMask[0] |= int8_t(1 << i);

  const auto w1 = randomBytes(size_t(conv.cout * 4 * C), rng, -12, 12);
  const auto d1 = randomBytes(size_t(C * 4), rng, -12, 12);
  // Second terms: one per weight of a two-word tile, in OHWI order; the
  // full per-weight tables (0 elsewhere) for the reference.
  std::vector<int8_t> w2Packed, d2Packed;
  std::vector<int8_t> w2(w1.size(), 0), d2(d1.size(), 0);
  size_t k = 0;
  for (int co = 0; co < conv.cout; ++co)
    for (int ky = 0; ky < 2; ++ky)
      for (int kx = 0; kx < 2; ++kx)
        for (int ci = 0; ci < C; ++ci, ++k)
          if (isIn(convTwo, convTile(co, ky, kx, ci))) {
            w2[k] = int8_t(std::uniform_int_distribution<int>(-12, 12)(rng));
            w2Packed.push_back(w2[k]);
          }
  k = 0;
  for (int co = 0; co < C; ++co)
    for (int ky = 0; ky < 2; ++ky)
      for (int kx = 0; kx < 2; ++kx, ++k)
        if (isIn(dwTwo, dwTile(co, ky, kx))) {
          d2[k] = int8_t(std::uniform_int_distribution<int>(-12, 12)(rng));
          d2Packed.push_back(d2[k]);
        }
  // co 0..3: tiles 0 and 6 (ci 0..3) hold 16 weights each, tiles 3 and 5
  // (ci 4..5) 8 each; co 4: tile 12 (ci 0..3) 4, tile 15 (ci 4..5) 2.
  EXPECT_EQ(w2Packed.size(), 16u + 8u + 8u + 16u + 4u + 2u);
  // Depthwise tiles 1, 2 (co 0..3) and 7 (co 4..5).
  EXPECT_EQ(d2Packed.size(), 4u + 4u + 2u);

  const auto convBias = randomInts(size_t(conv.cout), rng, -500, 500);
  const auto dwBias = randomInts(size_t(C), rng, -500, 500);
  Builder b;
  b.p.target.tn = TN;
  b.p.target.tm = TM;
  b.p.target.modes = 1u << unsigned(MacMode::Shift2);
  conv.bias = b.data(convBias);
  conv.wgt = b.data(w1);
  conv.words = b.data(convMask);
  conv.wgt2 = b.data(w2Packed);
  dw.bias = b.data(dwBias);
  dw.wgt = b.data(d1);
  dw.words = b.data(dwMask);
  dw.wgt2 = b.data(d2Packed);
  dw.acc = 256;
  const uint64_t wBytes = b.p.data.size();
  const uint64_t x = b.tensor("x", false, {1, H, W, C});
  const uint64_t yc = b.tensor("conv", true, {9 * 5 * 4});
  const uint64_t yd = b.tensor("dw", true, {9 * 6 * 4});
  b.loadFlat(0, x, 0, H * W * C);
  b.loadFlat(1, 0, 0, wBytes, PushNext);
  emitMac(b, conv, PopPrev);
  emitMac(b, dw, PushNext);
  b.storeFlat(yc, 0, 9 * 5 * 4, PopPrev);
  b.storeFlat(yd, 256, 9 * 6 * 4);

  const auto in = randomBytes(size_t(H * W * C), rng);
  SimStats stats;
  const auto out = runOk(b.p, {in}, &stats);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(asUints(out[0]), refMac(conv, in, convBias, [&](int i) {
              return termValue(w1[size_t(i)]) + termValue(w2[size_t(i)]);
            }));
  EXPECT_EQ(asUints(out[1]), refMac(dw, in, dwBias, [&](int i) {
              return termValue(d1[size_t(i)]) + termValue(d2[size_t(i)]);
            }));

  // By hand: a one-word tile takes 1 cycle per pixel, a two-word tile 2
  // (each depthwise tile's <= 4 channels fit the 4-lane diagonal in one
  // step). conv: 9 px x (10 + 2 x 6) = 198, of which 9 x 12 = 108 on
  // two-word tiles; depthwise: 9 x (5 + 2 x 3) = 99, 54 two-word.
  EXPECT_EQ(stats.macCycles[unsigned(MacMode::Shift2)], 198u + 99u);
  EXPECT_EQ(stats.macTwoWordCycles, 108u + 54u);
  EXPECT_EQ(stats.macOneWordCycles, 90u + 45u);
  EXPECT_EQ(stats.macCycles[unsigned(MacMode::Multiply)], 0u);
  EXPECT_EQ(stats.busyCycles[unsigned(Module::Compute)], 198u + 99u);
  const std::string json = reportJson(b.p, stats, 1);
  EXPECT_NE(json.find("\"mac_cycles_two_word_tiles\": 162"), std::string::npos)
      << json;
  EXPECT_NE(json.find("\"mac_cycles_one_word_tiles\": 135"), std::string::npos)
      << json;
  EXPECT_NE(json.find("\"mac_cycles_shift2\": 297"), std::string::npos)
      << json;
  const std::string text = reportText(b.p, stats, 1);
  EXPECT_NE(text.find("MAC cycles (two-word tiles)"), std::string::npos)
      << text;

  // The program survives binary -> assembly -> binary.
  const std::vector<uint8_t> bin = encodeBinary(b.p);
  Program decoded, parsed;
  ASSERT_EQ(decodeBinary(bin.data(), bin.size(), decoded), "");
  ASSERT_EQ(parseAssembly(printAssembly(decoded), parsed), "");
  EXPECT_EQ(encodeBinary(parsed), bin);
}

/// A one-pixel fully connected shift mac (cin x cout on a 4 x 4 array)
/// reading weights from the given data segment.
Builder shiftFc(int mode, const std::vector<int8_t> &data, int cin, int cout,
                uint64_t wgt2, uint64_t words,
                uint64_t weightBuffer = 64 * 1024) {
  Builder b;
  b.p.target.tn = b.p.target.tm = 4;
  b.p.target.modes = 1u << unsigned(mode);
  b.p.target.weightBuffer = weightBuffer;
  b.data(data);
  const uint64_t x = b.tensor("x", false, {1, cin});
  const uint64_t y = b.tensor("acc", true, {cout * 4});
  b.loadFlat(0, x, 0, uint64_t(cin));
  b.loadFlat(1, 0, 0, data.size(), PushNext);
  Mac m;
  m.mode = mode, m.init = 0, m.inC = cin, m.cin = cin, m.cout = cout;
  m.wgt2 = wgt2, m.words = words;
  emitMac(b, m, PopPrev | PushNext);
  b.storeFlat(y, 0, uint64_t(cout * 4), PopPrev);
  return b;
}

TEST(AccelSim, ShiftTermOutOfRangeIsAnExecutionError) {
  // shift1: terms +-31 (s = 30) run, +-32 and -128 do not.
  std::vector<int8_t> w(8 * 2, 1);
  w[3] = 31, w[4] = -31;
  EXPECT_EQ(runOk(shiftFc(1, w, 8, 2, 0, 0).p, {std::vector<int8_t>(8, 1)})
                .size(),
            1u);
  for (int8_t bad : {32, -32, -128, 127}) {
    w[9] = bad;
    const std::string err =
        runErr(shiftFc(1, w, 8, 2, 0, 0).p, {std::vector<int8_t>(8, 1)});
    EXPECT_NE(err.find("instruction 2 (mac)"), std::string::npos) << err;
    EXPECT_NE(err.find("weight 9"), std::string::npos) << err;
    EXPECT_NE(err.find("shift term " + std::to_string(bad)), std::string::npos)
        << err;
  }
  // shift2: a bad second term (cin 8: two tiles; the mask's bit 1 gives
  // tile 1, ci 4..7 of both outputs, two words: second words 0..7).
  std::vector<int8_t> d(16, 2);
  d.push_back(0x02); // mask at 16
  for (int i = 0; i < 8; ++i)
    d.push_back(int8_t(i == 5 ? -40 : 3)); // second plane at 17
  const std::string err =
      runErr(shiftFc(2, d, 8, 2, 17, 16).p, {std::vector<int8_t>(8, 1)});
  EXPECT_NE(err.find("instruction 2 (mac)"), std::string::npos) << err;
  EXPECT_NE(err.find("second word 5"), std::string::npos) << err;
  // Second word 5 is the 6th weight of the two-word tile: output 1, ci 5,
  // weight 1 * 8 + 5.
  EXPECT_NE(err.find("of weight 13"), std::string::npos) << err;
  EXPECT_NE(err.find("-40"), std::string::npos) << err;
}

TEST(AccelSim, SecondPlaneOverrunningTheWeightBufferIsAnError) {
  // cin 8, cout 4 on 4 x 4: two tiles, both two-word, 32 second words. The
  // 128-byte weight buffer holds wgt2 = 100 (checkInstr cannot know the
  // extent) but not 32 bytes from it.
  std::vector<int8_t> d(32, 1);
  d.push_back(0x03); // mask at 32
  d.resize(128, 1);
  Builder b = shiftFc(2, d, 8, 4, 100, 32, 128);
  ASSERT_EQ(checkProgram(b.p), "");
  const std::string err = runErr(b.p, {std::vector<int8_t>(8, 1)});
  EXPECT_NE(err.find("instruction 2 (mac)"), std::string::npos) << err;
  EXPECT_NE(err.find("32 two-word weights"), std::string::npos) << err;
  EXPECT_NE(err.find("[100, 132)"), std::string::npos) << err;
  // With one two-word tile (16 second words) the plane fits.
  b.p.data[32] = 0x01;
  std::vector<std::vector<int8_t>> outputs;
  SimStats stats;
  EXPECT_EQ(runProgram(b.p, {std::vector<int8_t>(8, 1)}, outputs, stats), "");
  // Tile 0 (ci 0..3): 1 + 1 per weight, tile 1: 1 (terms 1 = x << 0).
  EXPECT_EQ(asInts(outputs[0]), std::vector<int32_t>(4, 4 * 2 + 4 * 1));
  EXPECT_EQ(stats.macTwoWordCycles, 2u);
  EXPECT_EQ(stats.macOneWordCycles, 1u);
}

/// Emits an add of `count` bytes at a = 0, b = 64 into dst.
void emitAdd(Builder &b, uint64_t dst, uint64_t count, uint64_t params,
             int shift, int round, int aZp, int bZp, int outZp, int qmin,
             int qmax, uint8_t deps = 0) {
  b.emit(Opcode::Add,
         {{"src_a", 0},
          {"src_b", 64},
          {"dst", int64_t(dst)},
          {"count", int64_t(count)},
          {"params", int64_t(params)},
          {"input_shift", shift},
          {"round", round},
          {"a_zp", aZp},
          {"b_zp", bZp},
          {"out_zp", outZp},
          {"qmin", qmin},
          {"qmax", qmax}},
         deps);
}

// Two adds of 37 elements (SINGLE_ROUND with TFLite-like parameters,
// DOUBLE_ROUND with shifts above 31 and a narrowed range) against
// addElement loops.
TEST(AccelSim, AddEqualsAddElement) {
  std::mt19937 rng(13);
  const int N = 37;
  const std::vector<int32_t> p1 = {0x4ccccccd, 31, 0x66666666, 32,
                                   0x5a000000, 50};
  const std::vector<int32_t> p2 = {0x7fffffff, 40, 0x40000000, 36,
                                   0x51eb851f, 37};
  Builder b;
  const uint64_t p1At = b.data(p1);
  const uint64_t p2At = b.data(p2);
  const uint64_t wBytes = b.p.data.size();
  const uint64_t xa = b.tensor("a", false, {N});
  const uint64_t xb = b.tensor("b", false, {N});
  const uint64_t y1 = b.tensor("y1", true, {N});
  const uint64_t y2 = b.tensor("y2", true, {N});
  b.loadFlat(1, 0, 0, wBytes);
  b.loadFlat(0, xa, 0, N);
  b.loadFlat(0, xb, 64, N, PushNext);
  emitAdd(b, 0, N, p1At, 20, 0, -3, 5, -1, -128, 127, PopPrev);
  emitAdd(b, 64, N, p2At, 12, 1, 100, -128, 7, -20, 90, PushNext);
  b.storeFlat(y1, 0, N, PopPrev);
  b.storeFlat(y2, 64, N);

  const auto a = randomBytes(N, rng), bb = randomBytes(N, rng);
  SimStats stats;
  const auto out = runOk(b.p, {a, bb}, &stats);
  ASSERT_EQ(out.size(), 2u);
  int clamped = 0;
  for (int i = 0; i < N; ++i) {
    EXPECT_EQ(out[0][i], rt::addElement(a[i], bb[i], -3, 5, 20,
                                        {p1[0], p1[1]}, {p1[2], p1[3]},
                                        {p1[4], p1[5]}, -1, -128, 127,
                                        rt::RoundingMode::SingleRound))
        << i;
    const int32_t r2 =
        rt::addElement(a[i], bb[i], 100, -128, 12, {p2[0], p2[1]},
                       {p2[2], p2[3]}, {p2[4], p2[5]}, 7, -20, 90,
                       rt::RoundingMode::DoubleRound);
    clamped += r2 == -20 || r2 == 90;
    EXPECT_EQ(out[1][i], r2) << i;
  }
  EXPECT_GT(clamped, 0);
  EXPECT_LT(clamped, N);
  EXPECT_EQ(stats.instrCount[unsigned(Opcode::Add)], 2u);
  // ceil(37 / 16) = 3 cycles each.
  EXPECT_EQ(stats.busyCycles[unsigned(Module::Compute)], 6u);
}

TEST(AccelSim, AddParameterOutOfRangeIsAnExecutionError) {
  struct Case {
    std::vector<int32_t> params;
    int shift, aZp;
    const char *what;
  } cases[] = {
      {{0x40000000, 31, 0x40000000, 1, 0x40000000, 40}, 20, 0, "b shift 1"},
      {{0x40000000, 31, 0x40000000, 31, -7, 40}, 20, 0, "output multiplier -7"},
      {{0x40000000, 63, 0x40000000, 31, 0x40000000, 40}, 20, 0, "a shift 63"},
  };
  for (const Case &c : cases) {
    Builder b;
    b.data(c.params);
    b.tensor("y", true, {4});
    b.loadFlat(1, 0, 0, 24, PushNext);
    emitAdd(b, 0, 4, 0, c.shift, 0, c.aZp, 0, 0, -128, 127, PopPrev);
    ASSERT_EQ(checkProgram(b.p), "") << c.what;
    const std::string err = runErr(b.p, {});
    EXPECT_NE(err.find("instruction 1 (add)"), std::string::npos) << err;
    EXPECT_NE(err.find(c.what), std::string::npos) << err;
  }
}

// The bounds that keep addElement's int64 arithmetic exact are static:
// an input shift above 23 (lowbit.add's bound for int8) or a zero point
// outside int8 is not a valid instruction, so no add can overflow.
TEST(AccelSim, AddOverflowBoundsAreStatic) {
  struct Case {
    int shift, aZp;
    const char *what;
  } cases[] = {
      {32, 0, "input_shift is 0 to 23"},
      {24, 0, "input_shift is 0 to 23"},
      {20, INT32_MIN, "a_zp and b_zp are int8 zero points"},
      {20, 128, "a_zp and b_zp are int8 zero points"},
  };
  for (const Case &c : cases) {
    Builder b;
    b.data(std::vector<int32_t>{0x7fffffff, 2, 0x7fffffff, 2, 0x40000000, 62});
    b.tensor("y", true, {4});
    b.loadFlat(1, 0, 0, 24, PushNext);
    emitAdd(b, 0, 4, 0, c.shift, 0, c.aZp, 0, 0, -128, 127, PopPrev);
    EXPECT_NE(checkProgram(b.p).find(c.what), std::string::npos)
        << checkProgram(b.p);
  }
}

// copy + strided stores: a 3x4 matrix, copied to the output buffer, leaves
// as its 4x3 transpose (one store per source row, one-byte rows at a
// stride of 3).
TEST(AccelSim, CopyAndStridedStoresTranspose) {
  Builder b;
  const uint64_t x = b.tensor("m", false, {3, 4});
  const uint64_t y = b.tensor("mt", true, {4, 3});
  b.loadFlat(0, x, 100, 12, PushNext);
  b.emit(Opcode::Copy, {{"src", 100}, {"dst", 40}, {"bytes", 12}},
         PopPrev | PushNext);
  for (int i = 0; i < 3; ++i)
    b.emit(Opcode::Store,
           {{"dram", int64_t(y) + i},
            {"sram", 40 + 4 * i},
            {"rows", 4},
            {"cols", 1},
            {"elem", 1},
            {"stride", 3}},
           i == 0 ? PopPrev : 0);
  std::vector<int8_t> m(12);
  for (int i = 0; i < 12; ++i)
    m[size_t(i)] = int8_t(10 * (i / 4) + i % 4 - 50);
  SimStats stats;
  const auto out = runOk(b.p, {m}, &stats);
  ASSERT_EQ(out.size(), 1u);
  for (int r = 0; r < 4; ++r)
    for (int c = 0; c < 3; ++c)
      EXPECT_EQ(out[0][size_t(r * 3 + c)], m[size_t(c * 4 + r)]) << r << c;
  EXPECT_EQ(stats.instrCount[unsigned(Opcode::Copy)], 1u);
  EXPECT_EQ(stats.busyCycles[unsigned(Module::Compute)], 1u); // ceil(12/16)
  EXPECT_EQ(stats.bytesToDram, 12u);
}

//===----------------------------------------------------------------------===//
// Scheduling errors and limits
//===----------------------------------------------------------------------===//

TEST(AccelSim, DeadlockNamesInstructionAndQueue) {
  Builder b;
  b.tensor("y", true, {4});
  b.emit(Opcode::Sync, {}, PopPrev); // no load ever pushes
  b.storeFlat(b.p.tensors[0].addr, 0, 4, PopPrev);
  const std::string err = runErr(b.p, {});
  EXPECT_NE(err.find("deadlock"), std::string::npos) << err;
  EXPECT_NE(err.find("instruction 0"), std::string::npos) << err;
  EXPECT_NE(err.find("L2C"), std::string::npos) << err;
  EXPECT_NE(err.find("instruction 1"), std::string::npos) << err;
  EXPECT_NE(err.find("C2S"), std::string::npos) << err;
}

TEST(AccelSim, LeftoverTokenNamesQueue) {
  Builder b;
  b.tensor("y", true, {4});
  b.emit(Opcode::Sync, {}, PushPrev); // C2L, never popped
  b.storeFlat(b.p.tensors[0].addr, 0, 4);
  const std::string err = runErr(b.p, {});
  EXPECT_NE(err.find("C2L"), std::string::npos) << err;
  EXPECT_NE(err.find("left"), std::string::npos) << err;
}

TEST(AccelSim, WrongInputsAndWorkLimit) {
  Builder b;
  const uint64_t x = b.tensor("x", false, {8});
  const uint64_t y = b.tensor("y", true, {8});
  b.loadFlat(0, x, 0, 8, PushNext);
  b.emit(Opcode::Requant,
         {{"src_kind", 1},
          {"src", 0},
          {"dst", 0},
          {"pixels", 8},
          {"channels", 1},
          {"params", 0},
          {"per_channel", 0},
          {"dual", 0},
          {"round", 0},
          {"in_zp", 0},
          {"out_zp", 0},
          {"qmin", -128},
          {"qmax", 127}},
         PopPrev | PushNext);
  b.storeFlat(y, 0, 8, PopPrev);
  EXPECT_NE(runErr(b.p, {}), "");
  EXPECT_NE(runErr(b.p, {std::vector<int8_t>(7)}), "");
  std::vector<std::vector<int8_t>> outputs;
  SimStats stats;
  // The parameters are zeros: shift 0 is out of range.
  std::string err = runProgram(b.p, {std::vector<int8_t>(8)}, outputs, stats);
  EXPECT_NE(err.find("instruction 1"), std::string::npos) << err;
  err = runProgram(b.p, {std::vector<int8_t>(8)}, outputs, stats, 5);
  EXPECT_NE(err.find("work limit"), std::string::npos) << err;
}

//===----------------------------------------------------------------------===//
// Timing
//===----------------------------------------------------------------------===//

// Worked by hand on the default target (16 x 16, 8 bytes per cycle, 32
// cycles of DMA latency):
//   0 load x 64 B                          [0, 40)     32 + 8
//   1 load weights 336 B, push L2C         [40, 114)   32 + 42
//   2 mac 2x2 px, 16 -> 16, pop L2C        [114, 118)  4 px x 1 x 1 step
//   3 requant 64 values, push C2S          [118, 122)  ceil(64 / 16)
//   4 store 64 B, pop C2S, push S2C        [122, 162)  32 + 8
//   5 sync, pop S2C, push C2L              [162, 163)  1
//   6 load 8 B, pop C2L                    [163, 196)  32 + 1
TEST(AccelSim, CyclesOfATinyProgram) {
  Builder b;
  std::vector<int32_t> bias(16, 0), params = {0x40000000, 31, 0, 2};
  const uint64_t biasAt = b.data(bias);
  const uint64_t wAt = b.data(std::vector<int8_t>(256, 1));
  const uint64_t pAt = b.data(params);
  ASSERT_EQ(b.p.data.size(), 336u);
  const uint64_t x = b.tensor("x", false, {1, 2, 2, 16});
  const uint64_t y = b.tensor("y", true, {1, 2, 2, 16});
  b.loadFlat(0, x, 0, 64);
  b.loadFlat(1, 0, 0, 336, PushNext);
  b.emit(Opcode::Mac,
         {{"mode", 0},
          {"init", 1},
          {"depthwise", 0},
          {"inp", 0},
          {"wgt", int64_t(wAt)},
          {"bias", int64_t(biasAt)},
          {"acc", 0},
          {"out_h", 2},
          {"out_w", 2},
          {"in_w", 2},
          {"in_c", 16},
          {"in_c_off", 0},
          {"cin", 16},
          {"cout", 16},
          {"kh", 1},
          {"kw", 1},
          {"sh", 1},
          {"sw", 1},
          {"dh", 1},
          {"dw", 1}},
         PopPrev);
  b.emit(Opcode::Requant,
         {{"src_kind", 0},
          {"src", 0},
          {"dst", 0},
          {"pixels", 4},
          {"channels", 16},
          {"params", int64_t(pAt)},
          {"per_channel", 0},
          {"dual", 0},
          {"round", 0},
          {"in_zp", 0},
          {"out_zp", 0},
          {"qmin", -128},
          {"qmax", 127}},
         PushNext);
  b.storeFlat(y, 0, 64, PopPrev | PushPrev);
  b.emit(Opcode::Sync, {}, PopNext | PushPrev);
  b.loadFlat(0, x, 0, 8, PopNext);

  std::vector<int8_t> in(64);
  for (int i = 0; i < 64; ++i)
    in[i] = int8_t(i % 7 - 3);
  SimStats stats;
  auto out = runOk(b.p, {in}, &stats);
  // Each output is sum_ci in * 1 = the pixel's channel sum, halved
  // (0x40000000 * 2^-31), rounded half up.
  for (int px = 0; px < 4; ++px) {
    int sum = 0;
    for (int c = 0; c < 16; ++c)
      sum += in[px * 16 + c];
    for (int c = 0; c < 16; ++c)
      EXPECT_EQ(out[0][px * 16 + c],
                rt::requantize(sum, {0x40000000, 31}, 0, -128, 127));
  }

  EXPECT_EQ(stats.totalCycles, 163u + 33u);
  const unsigned L = unsigned(Module::Load), C = unsigned(Module::Compute),
                 S = unsigned(Module::Store);
  EXPECT_EQ(stats.busyCycles[L], 40u + 74u + 33u);
  EXPECT_EQ(stats.stallCycles[L], 163u - 114u);
  EXPECT_EQ(stats.busyCycles[C], 4u + 4u + 1u);
  EXPECT_EQ(stats.stallCycles[C], 114u + (162u - 122u));
  EXPECT_EQ(stats.busyCycles[S], 40u);
  EXPECT_EQ(stats.stallCycles[S], 122u);
  EXPECT_EQ(stats.macCycles[0], 4u);
  EXPECT_EQ(stats.macCycles[1] + stats.macCycles[2], 0u);
  EXPECT_EQ(stats.loadDmaCycles, 40u + 74u + 33u);
  EXPECT_EQ(stats.storeDmaCycles, 40u);
  EXPECT_EQ(stats.bytesToInput, 64u + 8u);
  EXPECT_EQ(stats.bytesToWeight, 336u);
  EXPECT_EQ(stats.bytesToDram, 64u);
  EXPECT_EQ(stats.paddingBytes, 0u);
  EXPECT_EQ(stats.usefulMacs, 4u * 16u * 16u);
  EXPECT_DOUBLE_EQ(stats.peUtilization(b.p.target), 1.0);
  EXPECT_EQ(stats.instrCount[unsigned(Opcode::Load)], 3u);
  EXPECT_EQ(stats.instrCount[unsigned(Opcode::Sync)], 1u);

  // Figures accumulate over samples.
  std::vector<std::vector<int8_t>> outputs;
  ASSERT_EQ(runProgram(b.p, {in}, outputs, stats), "");
  EXPECT_EQ(stats.runs, 2u);
  EXPECT_EQ(stats.totalCycles, 2u * (163u + 33u));
  const std::string text = reportText(b.p, stats, 2);
  EXPECT_NE(text.find("196.0"), std::string::npos) << text;
  const std::string json = reportJson(b.p, stats, 2);
  EXPECT_NE(json.find("\"cycles\": 392"), std::string::npos) << json;
  EXPECT_NE(json.find("\"cycles\": 196.000"), std::string::npos) << json;
}

TEST(AccelSim, LoadPaddingCountsAndTieOrder) {
  // Load padding bytes are counted apart from DRAM bytes. The pool (a 1x1
  // max, a copy) reads the buffer the load writes without a token: both
  // can start at 0, and the tie goes to the load, so the pool sees the
  // loaded tile.
  Builder b;
  const uint64_t x = b.tensor("x", false, {2, 3});
  const uint64_t y = b.tensor("y", true, {5, 4});
  b.emit(Opcode::Load, {{"buf", 0},
                        {"dram", int64_t(x)},
                        {"sram", 0},
                        {"rows", 2},
                        {"cols", 3},
                        {"elem", 1},
                        {"stride", 3},
                        {"pad_top", 1},
                        {"pad_bottom", 2},
                        {"pad_left", 0},
                        {"pad_right", 1},
                        {"pad_value", 7}});
  b.emit(Opcode::Pool,
         {{"kind", 0},
          {"src", 0},
          {"dst", 0},
          {"in_w", 4},
          {"c", 1},
          {"out_h", 5},
          {"out_w", 4},
          {"kh", 1},
          {"kw", 1},
          {"sh", 1},
          {"sw", 1},
          {"zp", 0},
          {"qmin", -128},
          {"qmax", 127}},
         PushNext);
  b.storeFlat(y, 0, 20, PopPrev);
  SimStats stats;
  const auto out = runOk(b.p, {{1, 2, 3, 4, 5, 6}}, &stats);
  ASSERT_EQ(out.size(), 1u);
  const std::vector<int8_t> tile = {7, 7, 7, 7, 1, 2, 3, 7, 4, 5,
                                    6, 7, 7, 7, 7, 7, 7, 7, 7, 7};
  EXPECT_EQ(out[0], tile);
  EXPECT_EQ(stats.bytesToInput, 6u);
  EXPECT_EQ(stats.paddingBytes, 5u * 4u - 6u);
  // load [0, 33), pool [0, 2) (ceil(20 / 16) x 1 x 1), store [2, 37).
  EXPECT_EQ(stats.totalCycles, 37u);
  EXPECT_EQ(stats.stallCycles[unsigned(Module::Compute)], 0u);
  EXPECT_EQ(stats.stallCycles[unsigned(Module::Store)], 2u);
}

//===----------------------------------------------------------------------===//
// The binary and the assembly
//===----------------------------------------------------------------------===//

Program smallProgram() {
  Builder b;
  std::vector<int32_t> params = {0x40000000, 31, -0x20000000, 33};
  b.data(params);
  b.data(std::vector<int8_t>{1, -2, 3, -4});
  const uint64_t x = b.tensor("input_0", false, {1, 2, 2, 4}, 0.125, -3);
  const uint64_t y = b.tensor("out", true, {1, 2, 2, 4}, 0.0625, 4);
  b.loadFlat(1, 0, 0, 20);
  b.emit(Opcode::Load,
         {{"buf", 0},
          {"dram", int64_t(x)},
          {"sram", 0},
          {"rows", 2},
          {"cols", 2},
          {"elem", 4},
          {"stride", 8},
          {"pad_top", 1},
          {"pad_bottom", 0},
          {"pad_left", 0},
          {"pad_right", 1},
          {"pad_value", -3}},
         PushNext);
  b.emit(Opcode::Requant,
         {{"src_kind", 1},
          {"src", 0},
          {"dst", 0},
          {"pixels", 4},
          {"channels", 4},
          {"params", 0},
          {"per_channel", 0},
          {"dual", 1},
          {"round", 1},
          {"in_zp", -3},
          {"out_zp", 4},
          {"qmin", -128},
          {"qmax", 127}},
         PopPrev | PushNext);
  b.storeFlat(y, 0, 16, PopPrev);
  return b.p;
}

TEST(AccelBinary, AssemblyRoundTripIsTheIdentity) {
  const Program p = smallProgram();
  ASSERT_EQ(checkProgram(p), "");
  const std::vector<uint8_t> bin = encodeBinary(p);
  Program decoded;
  ASSERT_EQ(decodeBinary(bin.data(), bin.size(), decoded), "");
  const std::string text = printAssembly(decoded);
  Program parsed;
  ASSERT_EQ(parseAssembly(text, parsed), "") << text;
  EXPECT_EQ(encodeBinary(parsed), bin) << text;
  EXPECT_EQ(printAssembly(parsed), text);

  // The decoded program runs like the built one.
  std::vector<std::vector<int8_t>> out1, out2;
  SimStats s1, s2;
  const std::vector<std::vector<int8_t>> in = {
      {1, 2, 3, 4, -5, -6, -7, -8, 9, 10, 11, 12, -13, -14, -15, -16}};
  ASSERT_EQ(runProgram(p, in, out1, s1), "");
  ASSERT_EQ(runProgram(parsed, in, out2, s2), "");
  EXPECT_EQ(out1, out2);
  EXPECT_EQ(s1.totalCycles, s2.totalCycles);
}

TEST(AccelBinary, TruncatedAndCorruptBinariesAreErrors) {
  const std::vector<uint8_t> bin = encodeBinary(smallProgram());
  Program p;
  for (size_t n = 0; n < bin.size(); ++n)
    EXPECT_NE(decodeBinary(bin.data(), n, p), "") << "prefix " << n;
  std::vector<uint8_t> extra = bin;
  extra.push_back(0);
  EXPECT_NE(decodeBinary(extra.data(), extra.size(), p), "");

  auto corrupt = [&](size_t at, uint8_t value) {
    std::vector<uint8_t> c = bin;
    c[at] = value;
    return decodeBinary(c.data(), c.size(), p);
  };
  EXPECT_NE(corrupt(0, 'X'), ""); // magic
  EXPECT_NE(corrupt(8, 2), "");   // version
  EXPECT_NE(corrupt(12, 0), "");  // tn = 0
  const size_t firstInstr = bin.size() - 4 * kInstrBytes;
  EXPECT_NE(corrupt(firstInstr, 0x7f), "");                // opcode
  EXPECT_NE(corrupt(firstInstr + 1, 0x10), "");            // token bits
  EXPECT_NE(corrupt(firstInstr + 1, PopPrev), "");         // load has no prev
  EXPECT_NE(corrupt(firstInstr + kInstrBytes - 1, 1), ""); // reserved byte
  // DRAM size (header bytes 48..55) far beyond the limit.
  EXPECT_NE(corrupt(55, 0x7f), "");
  // Instruction count (bytes 68..71) larger than the file backs.
  EXPECT_NE(corrupt(71, 0x10), "");
  std::string err = corrupt(firstInstr + 2, 5); // buf 5
  EXPECT_NE(err.find("instruction 0"), std::string::npos) << err;
}

} // namespace
