//===- AccelSimTest.cpp - The accelerator simulator against plain loops ---===//
//
// Part of the lowbit project.
//
//===----------------------------------------------------------------------===//
//
// Small hand-built accel programs run by lowbit_accel_sim and compared with
// reference loops written from Isa.h's formulas (the integer rules are
// Requant.h's), plus the scheduler's errors, the binary's decoder errors,
// the binary -> assembly -> binary identity and a cycle count worked out by
// hand.
//
//===----------------------------------------------------------------------===//

#include "Sim.h"

#include "lowbit/accel/Isa.h"
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
