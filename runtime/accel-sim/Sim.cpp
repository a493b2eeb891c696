//===- Sim.cpp - Cycle-level simulator of the tile accelerator ------------===//
//
// Part of the lowbit project.
//
//===----------------------------------------------------------------------===//
//
// Every rule of what an instruction computes and costs is Isa.h's; every
// integer rule is the runtime's: requantization, rounding and saturation
// Requant.h's, the add Ops.h's addElement, the shift modes' products
// ShiftKernels.h's shiftProduct. This file only schedules the modules and
// moves the bytes. checkProgram has already bounded every region, but each
// instruction re-checks the regions it touches before touching them (and
// the extents only execution knows, such as a shift2 mac's second plane),
// so that no binary can make the simulator read or write outside its
// arrays.
//
//===----------------------------------------------------------------------===//

#include "lowbit/accel/Sim.h"

#include "lowbit/runtime/Ops.h"
#include "lowbit/runtime/Requant.h"
#include "lowbit/runtime/ShiftKernels.h"

#include <algorithm>
#include <cinttypes>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <deque>

namespace lowbit {
namespace accel {

uint64_t SimStats::totalMacCycles() const {
  uint64_t sum = 0;
  for (uint64_t c : macCycles)
    sum += c;
  return sum;
}

double SimStats::peUtilization(const Target &t) const {
  const double capacity = static_cast<double>(totalMacCycles()) *
                          static_cast<double>(t.tn) * static_cast<double>(t.tm);
  return capacity > 0 ? static_cast<double>(usefulMacs) / capacity : 0.0;
}

namespace {

//===----------------------------------------------------------------------===//
// Saturating size arithmetic
//===----------------------------------------------------------------------===//

// Field values are at most 32 bits wide, but products of three of them are
// not: sizes saturate at UINT64_MAX, which no region fits in.
uint64_t mulSat(uint64_t a, uint64_t b) {
  uint64_t r;
  return __builtin_mul_overflow(a, b, &r) ? UINT64_MAX : r;
}
uint64_t addSat(uint64_t a, uint64_t b) {
  uint64_t r;
  return __builtin_add_overflow(a, b, &r) ? UINT64_MAX : r;
}
/// True when [off, off + len) lies in [0, size).
bool inside(uint64_t off, uint64_t len, uint64_t size) {
  return off <= size && len <= size - off;
}

int32_t read32(const uint8_t *p) {
  const uint32_t u = uint32_t(p[0]) | uint32_t(p[1]) << 8 |
                     uint32_t(p[2]) << 16 | uint32_t(p[3]) << 24;
  return static_cast<int32_t>(u);
}
void write32(uint8_t *p, uint32_t v) {
  p[0] = static_cast<uint8_t>(v);
  p[1] = static_cast<uint8_t>(v >> 8);
  p[2] = static_cast<uint8_t>(v >> 16);
  p[3] = static_cast<uint8_t>(v >> 24);
}

//===----------------------------------------------------------------------===//
// Token queues
//===----------------------------------------------------------------------===//

enum Queue : unsigned { L2C = 0, C2L, C2S, S2C, kNumQueues };
const char *const kQueueNames[kNumQueues] = {"L2C", "C2L", "C2S", "S2C"};
const char *const kModuleNames[kNumModules] = {"load", "compute", "store"};
constexpr unsigned kNoQueue = ~0u;

/// The queue a module's token bit refers to (kNoQueue when the module has
/// no such neighbour: load has no previous module, store no next one).
unsigned queueOf(Module m, Dep dep) {
  switch (m) {
  case Module::Load:
    return dep == PopNext ? C2L : dep == PushNext ? L2C : kNoQueue;
  case Module::Compute:
    switch (dep) {
    case PopPrev:
      return L2C;
    case PopNext:
      return S2C;
    case PushPrev:
      return C2L;
    case PushNext:
      return C2S;
    }
    return kNoQueue;
  case Module::Store:
    return dep == PopPrev ? C2S : dep == PushPrev ? S2C : kNoQueue;
  }
  return kNoQueue;
}

const Dep kPops[2] = {PopPrev, PopNext};
const Dep kPushes[2] = {PushPrev, PushNext};

//===----------------------------------------------------------------------===//
// The machine
//===----------------------------------------------------------------------===//

class Machine {
public:
  Machine(const Program &p, SimStats &stats)
      : p(p), t(p.target), stats(stats), dram(p.dramBytes, 0),
        input(p.target.inputBuffer, 0), weight(p.target.weightBuffer, 0),
        output(p.target.outputBuffer, 0) {
    if (!p.data.empty())
      std::memcpy(dram.data(), p.data.data(), p.data.size());
  }

  std::vector<uint8_t> &dramBytes() { return dram; }
  /// The weight buffer from `offset` (a shift2 mac's word mask, which the
  /// mac has checked when it ran).
  const uint8_t *weightAt(uint64_t offset) const {
    return weight.data() + offset;
  }
  /// Executes instruction `index` functionally and counts its traffic.
  std::string execute(size_t index);

private:
  std::string fail(size_t index, const std::string &why) const {
    const OpSpec *spec = opSpec(p.instrs[index].opcode);
    return "instruction " + std::to_string(index) + " (" +
           (spec ? spec->mnemonic : "?") + "): " + why;
  }
  std::string load(size_t index, const Instr &in);
  std::string store(size_t index, const Instr &in);
  std::string mac(size_t index, const Instr &in);
  std::string requant(size_t index, const Instr &in);
  std::string pool(size_t index, const Instr &in);
  std::string add(size_t index, const Instr &in);
  std::string copy(size_t index, const Instr &in);

  const Program &p;
  const Target &t;
  SimStats &stats;
  std::vector<uint8_t> dram, input, weight, output;
};

/// An unsigned field; checkInstr keeps them in their width, and a negative
/// value (which it would have rejected) becomes huge and fails every bound.
uint64_t u(const Instr &in, const char *name) {
  return static_cast<uint64_t>(in.get(name));
}

std::string Machine::execute(size_t index) {
  const Instr &in = p.instrs[index];
  switch (in.opcode) {
  case Opcode::Load:
    return load(index, in);
  case Opcode::Store:
    return store(index, in);
  case Opcode::Mac:
    return mac(index, in);
  case Opcode::Requant:
    return requant(index, in);
  case Opcode::Pool:
    return pool(index, in);
  case Opcode::Add:
    return add(index, in);
  case Opcode::Copy:
    return copy(index, in);
  case Opcode::Sync:
    return "";
  }
  return fail(index, "unknown opcode");
}

std::string Machine::load(size_t index, const Instr &in) {
  const uint64_t which = u(in, "buf");
  if (which > 1)
    return fail(index, "unknown buffer " + std::to_string(which));
  std::vector<uint8_t> &buf = which == 0 ? input : weight;
  const uint64_t src = u(in, "dram"), dst = u(in, "sram");
  const uint64_t rows = u(in, "rows"), cols = u(in, "cols");
  const uint64_t elem = u(in, "elem"), stride = u(in, "stride");
  const uint64_t padTop = u(in, "pad_top"), padBottom = u(in, "pad_bottom");
  const uint64_t padLeft = u(in, "pad_left"), padRight = u(in, "pad_right");
  const uint8_t padValue = static_cast<uint8_t>(in.get("pad_value"));
  if (rows == 0 || cols == 0 || elem == 0)
    return fail(index, "a count is 0");

  const uint64_t dataRow = mulSat(cols, elem);
  const uint64_t leftBytes = mulSat(padLeft, elem);
  const uint64_t rightBytes = mulSat(padRight, elem);
  const uint64_t rowBytes = addSat(addSat(leftBytes, dataRow), rightBytes);
  const uint64_t allRows = addSat(addSat(padTop, rows), padBottom);
  const uint64_t total = mulSat(allRows, rowBytes);
  if (!inside(dst, total, buf.size()))
    return fail(index, "writes outside the " +
                           std::string(which == 0 ? "input" : "weight") +
                           " buffer");
  const uint64_t lastRow = addSat(src, mulSat(rows - 1, stride));
  if (!inside(lastRow, dataRow, dram.size()))
    return fail(index, "reads outside DRAM");

  uint8_t *out = buf.data() + dst;
  std::memset(out, padValue, padTop * rowBytes);
  out += padTop * rowBytes;
  for (uint64_t r = 0; r < rows; ++r) {
    std::memset(out, padValue, leftBytes);
    std::memcpy(out + leftBytes, dram.data() + src + r * stride, dataRow);
    std::memset(out + leftBytes + dataRow, padValue, rightBytes);
    out += rowBytes;
  }
  std::memset(out, padValue, padBottom * rowBytes);

  const uint64_t moved = rows * dataRow;
  (which == 0 ? stats.bytesToInput : stats.bytesToWeight) += moved;
  stats.paddingBytes += total - moved;
  return "";
}

std::string Machine::store(size_t index, const Instr &in) {
  const uint64_t dst = u(in, "dram"), src = u(in, "sram");
  const uint64_t rows = u(in, "rows"), cols = u(in, "cols");
  const uint64_t elem = u(in, "elem"), stride = u(in, "stride");
  if (rows == 0 || cols == 0 || elem == 0)
    return fail(index, "a count is 0");
  const uint64_t dataRow = mulSat(cols, elem);
  const uint64_t total = mulSat(rows, dataRow);
  if (!inside(src, total, output.size()))
    return fail(index, "reads outside the output buffer");
  const uint64_t lastRow = addSat(dst, mulSat(rows - 1, stride));
  if (!inside(lastRow, dataRow, dram.size()))
    return fail(index, "writes outside DRAM");
  // Rows may overlap in DRAM (stride < row bytes): later rows win, as a
  // row-by-row DMA would leave them.
  for (uint64_t r = 0; r < rows; ++r)
    std::memcpy(dram.data() + dst + r * stride,
                output.data() + src + r * dataRow, dataRow);
  stats.bytesToDram += total;
  return "";
}

std::string Machine::mac(size_t index, const Instr &in) {
  const uint64_t mode = u(in, "mode");
  if (mode >= kNumModes || !t.supports(static_cast<MacMode>(mode)))
    return fail(index, "mode " + std::to_string(mode) +
                           " is not supported by the target");
  const bool shift = mode != unsigned(MacMode::Multiply);
  const bool shift2 = mode == unsigned(MacMode::Shift2);
  const bool init = in.get("init") != 0;
  const bool depthwise = in.get("depthwise") != 0;
  const uint64_t inp = u(in, "inp"), wgt = u(in, "wgt");
  const uint64_t bias = u(in, "bias"), acc = u(in, "acc");
  const uint64_t outH = u(in, "out_h"), outW = u(in, "out_w");
  const uint64_t inW = u(in, "in_w"), inC = u(in, "in_c");
  const uint64_t inCOff = u(in, "in_c_off");
  const uint64_t cin = u(in, "cin"), cout = u(in, "cout");
  const uint64_t kh = u(in, "kh"), kw = u(in, "kw");
  const uint64_t sh = u(in, "sh"), sw = u(in, "sw");
  const uint64_t dh = u(in, "dh"), dw = u(in, "dw");
  const uint64_t wgt2 = u(in, "wgt2"), words = u(in, "words");
  if (outH == 0 || outW == 0 || inW == 0 || inC == 0 || cin == 0 || cout == 0 ||
      kh == 0 || kw == 0)
    return fail(index, "a count is 0");
  if (depthwise && cin != cout)
    return fail(index, "a depthwise tile needs cin = cout");
  if (!shift2 && (wgt2 != 0 || words != 0))
    return fail(index, "wgt2 and words are 0 outside the shift2 mode");

  // The last byte each operand reaches.
  const uint64_t yMax = addSat(mulSat(outH - 1, sh), mulSat(kh - 1, dh));
  const uint64_t xMax = addSat(mulSat(outW - 1, sw), mulSat(kw - 1, dw));
  const uint64_t cMax = inCOff + (depthwise ? cout : cin) - 1;
  const uint64_t lastIn =
      addSat(inp, addSat(mulSat(addSat(mulSat(yMax, inW), xMax), inC), cMax));
  if (lastIn >= input.size())
    return fail(index, "reads outside the input buffer");
  const uint64_t taps = mulSat(kh, kw);
  const uint64_t perOut = depthwise ? taps : mulSat(taps, cin);
  const uint64_t numWeights = mulSat(perOut, cout);
  if (!inside(wgt, numWeights, weight.size()))
    return fail(index, "reads weights outside the weight buffer");
  if (init && !inside(bias, mulSat(4, cout), weight.size()))
    return fail(index, "reads biases outside the weight buffer");
  const uint64_t outputs = mulSat(mulSat(outH, outW), cout);
  if (!inside(acc, mulSat(4, outputs), output.size()))
    return fail(index, "accumulates outside the output buffer");

  const int8_t *w0 = reinterpret_cast<const int8_t *>(weight.data() + wgt);
  // A shift term t names the product +-(x << (|t| - 1)); Isa.h bounds the
  // shift at 30.
  auto badTerm = [](int8_t term) { return term < -31 || term > 31; };
  if (shift)
    for (uint64_t k = 0; k < numWeights; ++k)
      if (badTerm(w0[k]))
        return fail(index, "weight " + std::to_string(k) + " (byte " +
                               std::to_string(wgt + k) + "): shift term " +
                               std::to_string(w0[k]) +
                               " is out of range (a shift above 30)");

  // shift2: the second term of every weight, 0 outside two-word tiles.
  // The k-th weight (OHWI order) of a two-word tile reads the next byte of
  // the second plane at wgt2.
  std::vector<int8_t> second;
  if (shift2) {
    const uint64_t maskBytes = macMaskBytes(t, in);
    if (!inside(words, maskBytes, weight.size()))
      return fail(index, "reads its word mask outside the weight buffer");
    const uint8_t *mask = weight.data() + words;
    const uint64_t ciTiles = depthwise ? 1 : (cin + t.tn - 1) / t.tn;
    const uint64_t ciCount = depthwise ? 1 : cin;
    auto tileOf = [&](uint64_t co, uint64_t ky, uint64_t kx, uint64_t ci) {
      return ((co / t.tm * kh + ky) * kw + kx) * ciTiles + ci / t.tn;
    };
    uint64_t extent = 0;
    for (uint64_t co = 0; co < cout; ++co)
      for (uint64_t ky = 0; ky < kh; ++ky)
        for (uint64_t kx = 0; kx < kw; ++kx)
          for (uint64_t ci = 0; ci < ciCount; ci += t.tn) {
            const uint64_t n = ciCount - ci < t.tn ? ciCount - ci : t.tn;
            if (macTwoWords(mask, tileOf(co, ky, kx, ci)))
              extent += n;
          }
    if (!inside(wgt2, extent, weight.size()))
      return fail(index, "the second words of its " + std::to_string(extent) +
                             " two-word weights, bytes [" +
                             std::to_string(wgt2) + ", " +
                             std::to_string(wgt2 + extent) +
                             "), are outside the " +
                             std::to_string(weight.size()) +
                             "-byte weight buffer");
    const int8_t *s0 = reinterpret_cast<const int8_t *>(weight.data() + wgt2);
    second.assign(numWeights, 0);
    uint64_t k = 0, j = 0;
    for (uint64_t co = 0; co < cout; ++co)
      for (uint64_t ky = 0; ky < kh; ++ky)
        for (uint64_t kx = 0; kx < kw; ++kx)
          for (uint64_t ci = 0; ci < ciCount; ++ci, ++k) {
            if (!macTwoWords(mask, tileOf(co, ky, kx, ci)))
              continue;
            if (badTerm(s0[j]))
              return fail(index, "second word " + std::to_string(j) +
                                     " (byte " + std::to_string(wgt2 + j) +
                                     ") of weight " + std::to_string(k) +
                                     ": shift term " + std::to_string(s0[j]) +
                                     " is out of range (a shift above 30)");
            second[k] = s0[j++];
          }
  }

  // Accumulation is modulo 2^32: unsigned arithmetic, as the array's
  // 32-bit adders wrap. `product(x, k)` is input byte x times weight k.
  const int8_t *in0 = reinterpret_cast<const int8_t *>(input.data() + inp);
  auto run = [&](auto product) {
    for (uint64_t oy = 0; oy < outH; ++oy)
      for (uint64_t ox = 0; ox < outW; ++ox)
        for (uint64_t co = 0; co < cout; ++co) {
          uint8_t *slot =
              output.data() + acc + 4 * ((oy * outW + ox) * cout + co);
          uint32_t a = static_cast<uint32_t>(
              init ? read32(weight.data() + bias + 4 * co) : read32(slot));
          uint64_t k = co * perOut;
          for (uint64_t ky = 0; ky < kh; ++ky) {
            const uint64_t y = oy * sh + ky * dh;
            for (uint64_t kx = 0; kx < kw; ++kx) {
              const uint64_t x = ox * sw + kx * dw;
              const int8_t *px = in0 + (y * inW + x) * inC + inCOff;
              if (depthwise) {
                a += product(px[co], k++);
                continue;
              }
              for (uint64_t ci = 0; ci < cin; ++ci)
                a += product(px[ci], k++);
            }
          }
          write32(slot, a);
        }
  };
  if (!shift) {
    run([&](int8_t x, uint64_t k) {
      return static_cast<uint32_t>(int32_t(x) * int32_t(w0[k]));
    });
  } else if (!shift2) {
    run([&](int8_t x, uint64_t k) {
      return rt::detail::shiftProduct(static_cast<uint32_t>(int32_t(x)),
                                      w0[k]);
    });
  } else {
    run([&](int8_t x, uint64_t k) {
      const uint32_t v = static_cast<uint32_t>(int32_t(x));
      return rt::detail::shiftProduct(v, w0[k]) +
             rt::detail::shiftProduct(v, second[k]);
    });
  }
  stats.usefulMacs +=
      mulSat(mulSat(outH * outW, taps), depthwise ? cout : cin * cout);
  return "";
}

std::string Machine::requant(size_t index, const Instr &in) {
  const uint64_t srcKind = u(in, "src_kind");
  if (srcKind > 1)
    return fail(index, "unknown source kind " + std::to_string(srcKind));
  const uint64_t src = u(in, "src"), dst = u(in, "dst");
  const uint64_t pixels = u(in, "pixels"), channels = u(in, "channels");
  const uint64_t params = u(in, "params");
  const bool perChannel = in.get("per_channel") != 0;
  const bool dual = in.get("dual") != 0;
  const int64_t round = in.get("round");
  const int64_t inZp = in.get("in_zp"), outZp = in.get("out_zp");
  const int64_t qmin = in.get("qmin"), qmax = in.get("qmax");
  if (pixels == 0 || channels == 0)
    return fail(index, "a count is 0");
  if (round != int64_t(rt::RoundingMode::SingleRound) &&
      round != int64_t(rt::RoundingMode::DoubleRound))
    return fail(index, "unknown rounding mode " + std::to_string(round));
  if (dual && !t.dualRequant)
    return fail(index, "the target has no dual requantization");
  const uint64_t count = mulSat(pixels, channels);
  if (srcKind == 0 ? !inside(src, mulSat(4, count), output.size())
                   : !inside(src, count, input.size()))
    return fail(index, "reads outside the " +
                           std::string(srcKind == 0 ? "output" : "input") +
                           " buffer");
  if (!inside(dst, count, output.size()))
    return fail(index, "writes outside the output buffer");
  const uint64_t entries = perChannel ? channels : 1;
  if (!inside(params, mulSat(16, entries), weight.size()))
    return fail(index, "reads parameters outside the weight buffer");

  // Every parameter entry is checked before anything is written.
  std::vector<rt::ScaleMultiplier> pos(entries), neg(entries);
  for (uint64_t e = 0; e < entries; ++e) {
    const uint8_t *q = weight.data() + params + 16 * e;
    pos[e] = {read32(q), read32(q + 4)};
    neg[e] = {read32(q + 8), read32(q + 12)};
    auto bad = [&](const char *what, int32_t v) {
      return fail(index, "parameter entry " + std::to_string(e) + ": " + what +
                             " " + std::to_string(v) + " is out of range");
    };
    // A dual requant's negative multiplier may be negative (a negative
    // PReLU slope); every other value follows isValidMultiplier's ranges.
    if (pos[e].multiplier < 0)
      return bad("multiplier", pos[e].multiplier);
    if (pos[e].shift < rt::kMinShift || pos[e].shift > rt::kMaxShift)
      return bad("shift", pos[e].shift);
    if (dual && (neg[e].shift < rt::kMinShift || neg[e].shift > rt::kMaxShift))
      return bad("negative shift", neg[e].shift);
  }

  const auto mode = static_cast<rt::RoundingMode>(round);
  // Element order p, c: an in-place requant (dst <= src) reads each int32
  // before any result byte overwrites it.
  for (uint64_t i = 0; i < count; ++i) {
    const uint64_t e = perChannel ? i % channels : 0;
    const int64_t v = srcKind == 0
                          ? int64_t(read32(output.data() + src + 4 * i))
                          : int64_t(static_cast<int8_t>(input[src + i])) - inZp;
    const int32_t r =
        dual ? rt::requantizeDual(v, pos[e], neg[e], int32_t(outZp),
                                  int32_t(qmin), int32_t(qmax), mode)
             : rt::requantize(v, pos[e], int32_t(outZp), int32_t(qmin),
                              int32_t(qmax), mode);
    output[dst + i] = static_cast<uint8_t>(static_cast<int8_t>(r));
  }
  return "";
}

std::string Machine::pool(size_t index, const Instr &in) {
  const uint64_t kind = u(in, "kind");
  if (kind > 1)
    return fail(index, "unknown pool kind " + std::to_string(kind));
  const uint64_t src = u(in, "src"), dst = u(in, "dst");
  const uint64_t inW = u(in, "in_w"), c = u(in, "c");
  const uint64_t outH = u(in, "out_h"), outW = u(in, "out_w");
  const uint64_t kh = u(in, "kh"), kw = u(in, "kw");
  const uint64_t sh = u(in, "sh"), sw = u(in, "sw");
  const int64_t zp = in.get("zp");
  const int64_t qmin = in.get("qmin"), qmax = in.get("qmax");
  if (inW == 0 || c == 0 || outH == 0 || outW == 0 || kh == 0 || kw == 0)
    return fail(index, "a count is 0");
  const uint64_t yMax = addSat(mulSat(outH - 1, sh), kh - 1);
  const uint64_t xMax = addSat(mulSat(outW - 1, sw), kw - 1);
  const uint64_t lastIn =
      addSat(src, addSat(mulSat(addSat(mulSat(yMax, inW), xMax), c), c - 1));
  if (lastIn >= input.size())
    return fail(index, "reads outside the input buffer");
  if (!inside(dst, mulSat(mulSat(outH, outW), c), output.size()))
    return fail(index, "writes outside the output buffer");

  const int8_t *in0 = reinterpret_cast<const int8_t *>(input.data() + src);
  const int64_t window = static_cast<int64_t>(kh * kw);
  for (uint64_t oy = 0; oy < outH; ++oy)
    for (uint64_t ox = 0; ox < outW; ++ox)
      for (uint64_t ch = 0; ch < c; ++ch) {
        int64_t best = INT8_MIN, sumX = 0;
        for (uint64_t ky = 0; ky < kh; ++ky)
          for (uint64_t kx = 0; kx < kw; ++kx) {
            const int64_t x =
                in0[((oy * sh + ky) * inW + ox * sw + kx) * c + ch];
            best = x > best ? x : best;
            sumX += x;
          }
        int64_t r = best;
        if (kind == 1) {
          // sum (x - zp) = sumX - zp * window; |sumX| < 2^40, but a
          // 2^32-tap window with an extreme zero point leaves int64.
          int64_t zpTotal, sum;
          if (__builtin_mul_overflow(zp, window, &zpTotal) ||
              __builtin_sub_overflow(sumX, zpTotal, &sum))
            return fail(index, "the window sum overflows 64 bits");
          r = rt::saturate(zp + rt::divideRoundHalfEven(sum, window), qmin,
                           qmax);
        }
        output[dst + (oy * outW + ox) * c + ch] =
            static_cast<uint8_t>(static_cast<int8_t>(r));
      }
  return "";
}

std::string Machine::add(size_t index, const Instr &in) {
  const uint64_t srcA = u(in, "src_a"), srcB = u(in, "src_b");
  const uint64_t dst = u(in, "dst"), count = u(in, "count");
  const uint64_t params = u(in, "params");
  const uint64_t inputShift = u(in, "input_shift");
  const int64_t round = in.get("round");
  const int64_t aZp = in.get("a_zp"), bZp = in.get("b_zp");
  const int64_t outZp = in.get("out_zp");
  const int64_t qmin = in.get("qmin"), qmax = in.get("qmax");
  if (count == 0)
    return fail(index, "a count is 0");
  if (round != int64_t(rt::RoundingMode::SingleRound) &&
      round != int64_t(rt::RoundingMode::DoubleRound))
    return fail(index, "unknown rounding mode " + std::to_string(round));
  if (inputShift > 32)
    return fail(index, "input_shift " + std::to_string(inputShift) +
                           " is above 32");
  // checkInstr keeps the zero points in their int32 fields.
  for (int64_t zp : {aZp, bZp, outZp})
    if (zp < INT32_MIN || zp > INT32_MAX)
      return fail(index, "a zero point is outside int32");
  if (!inside(srcA, count, input.size()) || !inside(srcB, count, input.size()))
    return fail(index, "reads outside the input buffer");
  if (!inside(dst, count, output.size()))
    return fail(index, "writes outside the output buffer");
  if (!inside(params, 24, weight.size()))
    return fail(index, "reads parameters outside the weight buffer");

  const uint8_t *q = weight.data() + params;
  const rt::ScaleMultiplier m[3] = {{read32(q), read32(q + 4)},
                                    {read32(q + 8), read32(q + 12)},
                                    {read32(q + 16), read32(q + 20)}};
  static const char *const kWhich[3] = {"a", "b", "output"};
  for (unsigned i = 0; i < 3; ++i) {
    if (m[i].multiplier < 0)
      return fail(index, std::string(kWhich[i]) + " multiplier " +
                             std::to_string(m[i].multiplier) +
                             " is out of range");
    if (m[i].shift < rt::kMinShift || m[i].shift > rt::kMaxShift)
      return fail(index, std::string(kWhich[i]) + " shift " +
                             std::to_string(m[i].shift) + " is out of range");
  }
  // addElement forms (x - zp) << input_shift and the sum of the two scaled
  // operands in int64: parameters for which some int8 x could overflow
  // either are an error (no lowbit.add that verifies comes near: its
  // input_shift keeps (x - zp) << input_shift in 32 bits). |applyScale(v,
  // m)| <= |v| m / 2^shift + 1.
  __extension__ typedef unsigned __int128 U128;
  const U128 kInt64Max = U128(INT64_MAX);
  U128 total = 0;
  for (unsigned i = 0; i < 2; ++i) {
    const int64_t zp = i == 0 ? aZp : bZp;
    const uint64_t dev = static_cast<uint64_t>(
        std::max<int64_t>(zp - INT8_MIN, int64_t(INT8_MAX) - zp));
    const U128 shifted = U128(dev) << inputShift;
    if (shifted > kInt64Max)
      return fail(index, std::string(kWhich[i]) + ": (x - zp) << input_shift "
                                                  "overflows 64 bits");
    total += (shifted * U128(uint64_t(m[i].multiplier)) >> m[i].shift) + 1;
  }
  if (total > kInt64Max)
    return fail(index, "the sum of the scaled operands overflows 64 bits");

  const auto mode = static_cast<rt::RoundingMode>(round);
  for (uint64_t i = 0; i < count; ++i) {
    const int32_t r = rt::addElement(
        static_cast<int8_t>(input[srcA + i]),
        static_cast<int8_t>(input[srcB + i]), int32_t(aZp), int32_t(bZp),
        int32_t(inputShift), m[0], m[1], m[2], int32_t(outZp), int32_t(qmin),
        int32_t(qmax), mode);
    output[dst + i] = static_cast<uint8_t>(static_cast<int8_t>(r));
  }
  return "";
}

std::string Machine::copy(size_t index, const Instr &in) {
  const uint64_t src = u(in, "src"), dst = u(in, "dst");
  const uint64_t bytes = u(in, "bytes");
  if (bytes == 0)
    return fail(index, "a count is 0");
  if (!inside(src, bytes, input.size()))
    return fail(index, "reads outside the input buffer");
  if (!inside(dst, bytes, output.size()))
    return fail(index, "writes outside the output buffer");
  std::memcpy(output.data() + dst, input.data() + src, bytes);
  return "";
}

} // namespace

//===----------------------------------------------------------------------===//
// Scheduling
//===----------------------------------------------------------------------===//

std::string runProgram(const Program &p,
                       const std::vector<std::vector<int8_t>> &inputs,
                       std::vector<std::vector<int8_t>> &outputs,
                       SimStats &stats, uint64_t workLimit,
                       std::vector<InstrTiming> *timing) {
  std::string err = checkProgram(p);
  if (!err.empty())
    return err;
  if (p.data.size() > p.dramBytes)
    return "the data segment is larger than DRAM";

  std::vector<const TensorDesc *> ins, outs;
  for (const TensorDesc &d : p.tensors)
    (d.isOutput ? outs : ins).push_back(&d);
  if (inputs.size() != ins.size())
    return std::to_string(inputs.size()) + " input(s) given, the program has " +
           std::to_string(ins.size());
  for (const TensorDesc *d : ins)
    if (!inside(d->addr, d->bytes(), p.dramBytes))
      return "input " + d->name + " lies outside DRAM";
  for (const TensorDesc *d : outs)
    if (!inside(d->addr, d->bytes(), p.dramBytes))
      return "output " + d->name + " lies outside DRAM";
  for (size_t i = 0; i < ins.size(); ++i)
    if (inputs[i].size() != ins[i]->bytes())
      return "input " + std::to_string(i) + " (" + ins[i]->name +
             "): " + std::to_string(inputs[i].size()) +
             " bytes given, the tensor has " + std::to_string(ins[i]->bytes());

  SimStats local;
  Machine machine(p, local);
  std::vector<uint8_t> &dram = machine.dramBytes();
  for (size_t i = 0; i < ins.size(); ++i)
    if (!inputs[i].empty())
      std::memcpy(dram.data() + ins[i]->addr, inputs[i].data(),
                  inputs[i].size());

  // Each module's instructions in program order.
  std::vector<size_t> queueOfModule[kNumModules];
  for (size_t i = 0; i < p.instrs.size(); ++i) {
    const OpSpec *spec = opSpec(p.instrs[i].opcode);
    if (!spec)
      return "instruction " + std::to_string(i) + ": unknown opcode";
    const unsigned m = unsigned(spec->module);
    if (m >= kNumModules)
      return "instruction " + std::to_string(i) + ": unknown module";
    // A token bit the module has no queue for is an error (checkInstr
    // rejects it too).
    for (Dep dep : {PopPrev, PopNext, PushPrev, PushNext})
      if ((p.instrs[i].deps & dep) && queueOf(spec->module, dep) == kNoQueue)
        return "instruction " + std::to_string(i) + " (" + spec->mnemonic +
               "): the " + kModuleNames[m] + " module has no such token queue";
    if (p.instrs[i].deps & ~uint8_t(PopPrev | PopNext | PushPrev | PushNext))
      return "instruction " + std::to_string(i) + ": unknown token bits";
    queueOfModule[m].push_back(i);
  }

  if (timing)
    timing->assign(p.instrs.size(), InstrTiming());
  std::deque<uint64_t> tokens[kNumQueues];
  size_t next[kNumModules] = {};
  uint64_t freeAt[kNumModules] = {};
  uint64_t work = 0;
  for (;;) {
    // The ready module that can start first; ties go to the lower module.
    int chosen = -1;
    uint64_t chosenStart = 0;
    bool remaining = false;
    for (unsigned m = 0; m < kNumModules; ++m) {
      if (next[m] >= queueOfModule[m].size())
        continue;
      remaining = true;
      const Instr &in = p.instrs[queueOfModule[m][next[m]]];
      uint64_t start = freeAt[m];
      bool ready = true;
      for (Dep dep : kPops) {
        if (!(in.deps & dep))
          continue;
        const std::deque<uint64_t> &q = tokens[queueOf(Module(m), dep)];
        if (q.empty()) {
          ready = false;
          break;
        }
        start = q.front() > start ? q.front() : start;
      }
      if (ready && (chosen < 0 || start < chosenStart)) {
        chosen = int(m);
        chosenStart = start;
      }
    }
    if (!remaining)
      break;
    if (chosen < 0) {
      std::string why = "deadlock:";
      for (unsigned m = 0; m < kNumModules; ++m) {
        if (next[m] >= queueOfModule[m].size())
          continue;
        const size_t index = queueOfModule[m][next[m]];
        const Instr &in = p.instrs[index];
        for (Dep dep : kPops)
          if ((in.deps & dep) && tokens[queueOf(Module(m), dep)].empty()) {
            why += std::string(why.back() == ':' ? " " : "; ") +
                   "instruction " + std::to_string(index) + " (" +
                   opSpec(in.opcode)->mnemonic + ", " + kModuleNames[m] +
                   ") waits on the empty " +
                   kQueueNames[queueOf(Module(m), dep)] + " queue";
            break;
          }
      }
      return why;
    }

    const unsigned m = unsigned(chosen);
    const size_t index = queueOfModule[m][next[m]++];
    const Instr &in = p.instrs[index];
    if (workLimit) {
      work = addSat(work, instrWork(in));
      if (work > workLimit)
        return "instruction " + std::to_string(index) + ": the work limit of " +
               std::to_string(workLimit) + " operations is exceeded";
    }
    for (Dep dep : kPops)
      if (in.deps & dep)
        tokens[queueOf(Module(m), dep)].pop_front();
    err = machine.execute(index);
    if (!err.empty())
      return err;
    // A shift2 mac's cost depends on its word mask, which it has just
    // checked and read.
    const bool shift2 = in.opcode == Opcode::Mac &&
                        u(in, "mode") == unsigned(MacMode::Shift2);
    uint64_t twoWord = 0;
    const uint64_t cycles =
        instrCycles(p.target, in,
                    shift2 ? machine.weightAt(u(in, "words")) : nullptr,
                    &twoWord);
    const uint64_t finish = addSat(chosenStart, cycles);
    if (timing)
      (*timing)[index] = InstrTiming{chosenStart, cycles, twoWord};
    for (Dep dep : kPushes)
      if (in.deps & dep)
        tokens[queueOf(Module(m), dep)].push_back(finish);
    local.stallCycles[m] += chosenStart - freeAt[m];
    local.busyCycles[m] += cycles;
    freeAt[m] = finish;
    local.instrCount[unsigned(in.opcode) <= kMaxOpcode ? unsigned(in.opcode)
                                                       : 0]++;
    if (in.opcode == Opcode::Mac) {
      const uint64_t mode = u(in, "mode");
      local.macCycles[mode < kNumModes ? mode : 0] += cycles;
      if (mode == unsigned(MacMode::Shift1) ||
          mode == unsigned(MacMode::Shift2)) {
        local.macTwoWordCycles += twoWord;
        local.macOneWordCycles += cycles - twoWord;
      }
    } else if (in.opcode == Opcode::Load) {
      local.loadDmaCycles += cycles;
    } else if (in.opcode == Opcode::Store) {
      local.storeDmaCycles += cycles;
    }
  }
  for (unsigned q = 0; q < kNumQueues; ++q)
    if (!tokens[q].empty())
      return std::to_string(tokens[q].size()) + " token(s) left in the " +
             kQueueNames[q] + " queue at the end of the program";

  outputs.assign(outs.size(), {});
  for (size_t i = 0; i < outs.size(); ++i) {
    const uint8_t *from = dram.data() + outs[i]->addr;
    outputs[i].assign(reinterpret_cast<const int8_t *>(from),
                      reinterpret_cast<const int8_t *>(from) +
                          outs[i]->bytes());
  }

  uint64_t end = 0;
  for (uint64_t f : freeAt)
    end = f > end ? f : end;
  local.totalCycles = end;
  local.runs = 1;

  stats.runs += local.runs;
  stats.totalCycles += local.totalCycles;
  for (unsigned m = 0; m < kNumModules; ++m) {
    stats.busyCycles[m] += local.busyCycles[m];
    stats.stallCycles[m] += local.stallCycles[m];
  }
  for (unsigned k = 0; k < kNumModes; ++k)
    stats.macCycles[k] += local.macCycles[k];
  stats.macOneWordCycles += local.macOneWordCycles;
  stats.macTwoWordCycles += local.macTwoWordCycles;
  for (unsigned o = 0; o <= kMaxOpcode; ++o)
    stats.instrCount[o] += local.instrCount[o];
  stats.loadDmaCycles += local.loadDmaCycles;
  stats.storeDmaCycles += local.storeDmaCycles;
  stats.bytesToInput += local.bytesToInput;
  stats.bytesToWeight += local.bytesToWeight;
  stats.bytesToDram += local.bytesToDram;
  stats.paddingBytes += local.paddingBytes;
  stats.usefulMacs += local.usefulMacs;
  return "";
}

//===----------------------------------------------------------------------===//
// Reports
//===----------------------------------------------------------------------===//

namespace {

/// One reported figure: its JSON key, its label and its total.
struct Figure {
  const char *key;
  std::string label;
  uint64_t total;
};

std::vector<Figure> figures(const SimStats &s) {
  std::vector<Figure> f;
  f.push_back({"cycles", "cycles", s.totalCycles});
  for (unsigned m = 0; m < kNumModules; ++m) {
    static const char *const busy[kNumModules] = {
        "load_busy_cycles", "compute_busy_cycles", "store_busy_cycles"};
    static const char *const stall[kNumModules] = {
        "load_stall_cycles", "compute_stall_cycles", "store_stall_cycles"};
    f.push_back({busy[m], std::string(kModuleNames[m]) + " busy cycles",
                 s.busyCycles[m]});
    f.push_back({stall[m], std::string(kModuleNames[m]) + " stall cycles",
                 s.stallCycles[m]});
  }
  static const char *const macKeys[kNumModes] = {
      "mac_cycles_multiply", "mac_cycles_shift1", "mac_cycles_shift2"};
  for (unsigned k = 0; k < kNumModes; ++k)
    f.push_back({macKeys[k], std::string("MAC cycles (") + modeName(k) + ")",
                 s.macCycles[k]});
  f.push_back({"mac_cycles_one_word_tiles", "MAC cycles (one-word tiles)",
               s.macOneWordCycles});
  f.push_back({"mac_cycles_two_word_tiles", "MAC cycles (two-word tiles)",
               s.macTwoWordCycles});
  f.push_back({"load_dma_cycles", "load DMA cycles", s.loadDmaCycles});
  f.push_back({"store_dma_cycles", "store DMA cycles", s.storeDmaCycles});
  f.push_back(
      {"bytes_dram_to_input", "bytes DRAM -> input buffer", s.bytesToInput});
  f.push_back(
      {"bytes_dram_to_weight", "bytes DRAM -> weight buffer", s.bytesToWeight});
  f.push_back(
      {"bytes_output_to_dram", "bytes output buffer -> DRAM", s.bytesToDram});
  f.push_back({"padding_bytes", "padding bytes", s.paddingBytes});
  f.push_back({"useful_macs", "useful MACs", s.usefulMacs});
  static const char *const opKeys[kMaxOpcode + 1] = {
      "", "load", "store", "mac", "requant", "pool", "sync", "add", "copy"};
  for (unsigned o = 1; o <= kMaxOpcode; ++o)
    f.push_back(
        {opKeys[o], std::string(opKeys[o]) + " instructions", s.instrCount[o]});
  return f;
}

double average(uint64_t total, uint64_t samples) {
  return samples ? static_cast<double>(total) / static_cast<double>(samples)
                 : 0.0;
}

std::string format(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
std::string format(const char *fmt, ...) {
  char buf[256];
  va_list args;
  va_start(args, fmt);
  std::vsnprintf(buf, sizeof(buf), fmt, args);
  va_end(args);
  return buf;
}

std::string jsonString(const std::string &s) {
  std::string out = "\"";
  for (unsigned char ch : s) {
    if (ch == '"' || ch == '\\')
      out += {'\\', char(ch)};
    else if (ch < 0x20)
      out += format("\\u%04x", ch);
    else
      out += char(ch);
  }
  return out + "\"";
}

} // namespace

std::string reportText(const Program &p, const SimStats &s, uint64_t samples) {
  const Target &t = p.target;
  std::string out =
      format("accel-sim: %" PRIu64 " sample(s) on target ", samples) + t.name +
      format(" (%" PRIu32 " x %" PRIu32 " array, DMA %" PRIu32
             " B/cycle + %" PRIu32 " cycles)\n",
             t.tn, t.tm, t.dmaBytesPerCycle, t.dmaLatency);
  out += format("  %-30s %16s %16s\n", "", "per sample", "total");
  for (const Figure &f : figures(s))
    out += format("  %-30s %16.1f %16" PRIu64 "\n", f.label.c_str(),
                  average(f.total, samples), f.total);
  out += format("  %-30s %15.2f%%\n", "PE utilization",
                100.0 * s.peUtilization(t));
  return out;
}

std::string reportJson(const Program &p, const SimStats &s, uint64_t samples) {
  const Target &t = p.target;
  const std::vector<Figure> f = figures(s);
  std::string out = "{\n  \"samples\": " + std::to_string(samples) +
                    ",\n  \"target\": {\"name\": " + jsonString(t.name) +
                    ", \"tn\": " + std::to_string(t.tn) +
                    ", \"tm\": " + std::to_string(t.tm) + "},\n";
  out += "  \"per_sample\": {";
  for (size_t i = 0; i < f.size(); ++i)
    out += format("%s\n    \"%s\": %.3f", i ? "," : "", f[i].key,
                  average(f[i].total, samples));
  out += "\n  },\n  \"total\": {";
  for (size_t i = 0; i < f.size(); ++i)
    out +=
        format("%s\n    \"%s\": %" PRIu64, i ? "," : "", f[i].key, f[i].total);
  out += format("\n  },\n  \"pe_utilization\": %.6f\n}\n", s.peUtilization(t));
  return out;
}

} // namespace accel
} // namespace lowbit
