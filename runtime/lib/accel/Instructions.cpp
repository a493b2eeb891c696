//===- Instructions.cpp - Accelerator instructions: fields, checks, costs -===//
//
// Part of the lowbit project.
//
//===----------------------------------------------------------------------===//
//
// The instructions' field tables (Isa.h lists them), field access, the
// checks of one instruction against a target, and the work and MAC tiles
// each one costs.
//
//===----------------------------------------------------------------------===//

#include "IsaImpl.h"

namespace lowbit {
namespace accel {

using namespace detail;

namespace {

const FieldSpec kLoadFields[] = {
    {"buf", 1, false},      {"dram", 4, false},      {"sram", 4, false},
    {"rows", 2, false},     {"cols", 2, false},      {"elem", 4, false},
    {"stride", 4, false},   {"pad_top", 1, false},   {"pad_bottom", 1, false},
    {"pad_left", 1, false}, {"pad_right", 1, false}, {"pad_value", 1, true},
};
const FieldSpec kStoreFields[] = {
    {"dram", 4, false}, {"sram", 4, false}, {"rows", 2, false},
    {"cols", 2, false}, {"elem", 4, false}, {"stride", 4, false},
};
const FieldSpec kMacFields[] = {
    {"mode", 1, false},   {"init", 1, false},  {"depthwise", 1, false},
    {"inp", 4, false},    {"wgt", 4, false},   {"bias", 4, false},
    {"acc", 4, false},    {"out_h", 2, false}, {"out_w", 2, false},
    {"in_w", 2, false},   {"in_c", 2, false},  {"in_c_off", 2, false},
    {"cin", 2, false},    {"cout", 2, false},  {"kh", 1, false},
    {"kw", 1, false},     {"sh", 1, false},    {"sw", 1, false},
    {"dh", 1, false},     {"dw", 1, false},    {"wgt2", 4, false},
    {"words", 4, false},
};
const FieldSpec kRequantFields[] = {
    {"src_kind", 1, false}, {"src", 4, false},         {"dst", 4, false},
    {"pixels", 4, false},   {"channels", 2, false},    {"params", 4, false},
    {"per_channel", 1, false}, {"dual", 1, false},     {"round", 1, false},
    {"in_zp", 4, true},     {"out_zp", 4, true},       {"qmin", 1, true},
    {"qmax", 1, true},
};
const FieldSpec kPoolFields[] = {
    {"kind", 1, false},  {"src", 4, false},   {"dst", 4, false},
    {"in_w", 2, false},  {"c", 2, false},     {"out_h", 2, false},
    {"out_w", 2, false}, {"kh", 2, false},    {"kw", 2, false},
    {"sh", 2, false},    {"sw", 2, false},    {"zp", 4, true},
    {"qmin", 1, true},   {"qmax", 1, true},
};

const FieldSpec kAddFields[] = {
    {"src_a", 4, false},  {"src_b", 4, false}, {"dst", 4, false},
    {"count", 4, false},  {"params", 4, false}, {"input_shift", 1, false},
    {"round", 1, false},  {"a_zp", 4, true},   {"b_zp", 4, true},
    {"out_zp", 4, true},  {"qmin", 1, true},   {"qmax", 1, true},
};
const FieldSpec kCopyFields[] = {
    {"src", 4, false}, {"dst", 4, false}, {"bytes", 4, false}};

#define N(a) unsigned(sizeof(a) / sizeof(a[0]))
const OpSpec kOps[] = {
    {Opcode::Load, "load", Module::Load, kLoadFields, N(kLoadFields)},
    {Opcode::Store, "store", Module::Store, kStoreFields, N(kStoreFields)},
    {Opcode::Mac, "mac", Module::Compute, kMacFields, N(kMacFields)},
    {Opcode::Requant, "requant", Module::Compute, kRequantFields,
     N(kRequantFields)},
    {Opcode::Pool, "pool", Module::Compute, kPoolFields, N(kPoolFields)},
    {Opcode::Sync, "sync", Module::Compute, nullptr, 0},
    {Opcode::Add, "add", Module::Compute, kAddFields, N(kAddFields)},
    {Opcode::Copy, "copy", Module::Compute, kCopyFields, N(kCopyFields)},
};
#undef N

/// Checks that [off, off + bytes) lies inside a buffer of `cap` bytes.
std::string region(const char *what, const char *buf, uint64_t off,
                   uint64_t bytes, bool ok, uint64_t cap) {
  if (!ok || off > cap || bytes > cap - off)
    return str("%s needs bytes [%" PRIu64 ", %" PRIu64 ") of the %s buffer, "
               "which has %" PRIu64,
               what, off, ok ? off + bytes : UINT64_MAX, buf, cap);
  return "";
}

} // namespace

const OpSpec *opSpec(Opcode op) {
  for (const OpSpec &s : kOps)
    if (s.opcode == op)
      return &s;
  return nullptr;
}

const OpSpec *opSpec(const std::string &mnemonic) {
  for (const OpSpec &s : kOps)
    if (mnemonic == s.mnemonic)
      return &s;
  return nullptr;
}

int fieldIndex(const OpSpec &spec, const char *name) {
  for (unsigned i = 0; i < spec.numFields; ++i)
    if (std::strcmp(spec.fields[i].name, name) == 0)
      return int(i);
  return -1;
}

int64_t Instr::get(const char *name) const {
  const OpSpec *s = opSpec(opcode);
  int i = s ? fieldIndex(*s, name) : -1;
  return i < 0 ? 0 : f[i];
}

void Instr::set(const char *name, int64_t value) {
  const OpSpec *s = opSpec(opcode);
  int i = s ? fieldIndex(*s, name) : -1;
  if (i >= 0)
    f[i] = value;
}

std::string checkInstr(const Target &t, const Instr &in, uint64_t dramBytes) {
  const OpSpec *spec = opSpec(in.opcode);
  if (!spec)
    return str("unknown opcode %u", unsigned(in.opcode));
  for (unsigned i = 0; i < spec->numFields; ++i)
    if (in.f[i] < fieldMin(spec->fields[i]) ||
        in.f[i] > fieldMax(spec->fields[i]))
      return str("%s: %s = %" PRId64 " does not fit its %u-byte field",
                 spec->mnemonic, spec->fields[i].name, in.f[i],
                 unsigned(spec->fields[i].bytes));
  if (in.deps >> 4)
    return str("%s: unknown token bits 0x%x", spec->mnemonic,
               unsigned(in.deps));
  if (spec->module == Module::Load && (in.deps & (PopPrev | PushPrev)))
    return str("%s: the load module has no previous module to exchange "
               "tokens with",
               spec->mnemonic);
  if (spec->module == Module::Store && (in.deps & (PopNext | PushNext)))
    return str("%s: the store module has no next module to exchange tokens "
               "with",
               spec->mnemonic);
  auto g = [&](const char *n) { return uint64_t(in.get(n)); };
  auto positive = [&](std::initializer_list<const char *> names) {
    for (const char *n : names)
      if (in.get(n) < 1)
        return str("%s: %s must be at least 1", spec->mnemonic, n);
    return std::string();
  };
  std::string e;
  switch (in.opcode) {
  case Opcode::Load:
  case Opcode::Store: {
    bool isLoad = in.opcode == Opcode::Load;
    if (!(e = positive({"rows", "cols", "elem"})).empty())
      return e;
    uint64_t rowBytes = g("cols");
    bool ok = mulOk(rowBytes, g("elem"));
    // DRAM: the last row ends at dram + (rows - 1) * stride + rowBytes.
    uint64_t span = g("rows") - 1;
    ok = ok && mulOk(span, g("stride"));
    ok = ok && !__builtin_add_overflow(span, rowBytes, &span);
    if (!ok || g("dram") > dramBytes || span > dramBytes - g("dram"))
      return str("%s: DRAM bytes [%" PRIu64 ", %" PRIu64 ") are outside the "
                 "%" PRIu64 "-byte DRAM",
                 spec->mnemonic, g("dram"), ok ? g("dram") + span : UINT64_MAX,
                 dramBytes);
    uint64_t bytes = g("rows"), cols = g("cols");
    const char *buf = "output";
    uint64_t cap = t.outputBuffer;
    if (isLoad) {
      if (g("buf") > 1)
        return str("load: buf = %" PRIu64 " (expected 0 input, 1 weight)",
                   g("buf"));
      buf = g("buf") == 0 ? "input" : "weight";
      cap = g("buf") == 0 ? t.inputBuffer : t.weightBuffer;
      bytes += g("pad_top") + g("pad_bottom");
      cols += g("pad_left") + g("pad_right");
    }
    ok = mulOk(bytes, cols) && mulOk(bytes, g("elem"));
    return region(spec->mnemonic, buf, g("sram"), bytes, ok, cap);
  }
  case Opcode::Mac: {
    if (!(e = positive({"out_h", "out_w", "in_w", "in_c", "cin", "cout", "kh",
                        "kw", "sh", "sw", "dh", "dw"}))
             .empty())
      return e;
    if (g("mode") >= kNumModes || !t.supports(MacMode(g("mode"))))
      return str("mac: mode %s is not supported by target '%s' (modes %s)",
                 modeName(unsigned(g("mode"))), t.name.c_str(),
                 modeList(t.modes).c_str());
    if (g("init") > 1 || g("depthwise") > 1)
      return "mac: init and depthwise are 0 or 1";
    bool dw = g("depthwise") == 1;
    if (dw && g("cin") != g("cout"))
      return str("mac: a depthwise tile has cin = cout (%" PRIu64
                 " != %" PRIu64 ")",
                 g("cin"), g("cout"));
    if (g("in_c_off") + (dw ? g("cout") : g("cin")) > g("in_c"))
      return str("mac: channels [%" PRIu64 ", %" PRIu64 ") are outside the "
                 "%" PRIu64 " channels of an input pixel",
                 g("in_c_off"), g("in_c_off") + (dw ? g("cout") : g("cin")),
                 g("in_c"));
    uint64_t cols = (g("out_w") - 1) * g("sw") + (g("kw") - 1) * g("dw") + 1;
    if (cols > g("in_w"))
      return str("mac: the window needs %" PRIu64 " input columns, the tile "
                 "rows have %" PRIu64,
                 cols, g("in_w"));
    uint64_t rows = (g("out_h") - 1) * g("sh") + (g("kh") - 1) * g("dh") + 1;
    bool ok = mulOk(rows, g("in_w")) && mulOk(rows, g("in_c"));
    if (!(e = region("mac input", "input", g("inp"), rows, ok, t.inputBuffer))
             .empty())
      return e;
    uint64_t w = g("cout");
    ok = mulOk(w, g("kh")) && mulOk(w, g("kw")) && mulOk(w, dw ? 1 : g("cin"));
    if (!(e = region("mac weights", "weight", g("wgt"), w, ok, t.weightBuffer))
             .empty())
      return e;
    if (g("init") &&
        !(e = region("mac bias", "weight", g("bias"), 4 * g("cout"), true,
                     t.weightBuffer))
             .empty())
      return e;
    uint64_t a = 4 * g("cout");
    ok = mulOk(a, g("out_h")) && mulOk(a, g("out_w"));
    if (!(e = region("mac accumulators", "output", g("acc"), a, ok,
                     t.outputBuffer))
             .empty())
      return e;
    if (g("mode") != uint64_t(MacMode::Shift2)) {
      if (g("wgt2") || g("words"))
        return "mac: wgt2 and words are 0 outside the shift2 mode";
      return "";
    }
    // The second words' extent depends on the mask: the simulator checks
    // it when it runs the instruction.
    if (g("wgt2") > t.weightBuffer)
      return "mac: wgt2 is outside the weight buffer";
    return region("mac word mask", "weight", g("words"), macMaskBytes(t, in),
                  true, t.weightBuffer);
  }
  case Opcode::Add: {
    if (!(e = positive({"count"})).empty())
      return e;
    // lowbit.add's own bounds for int8 inputs: (x - zp) << input_shift
    // stays inside 32 bits, so addElement's int64 arithmetic is exact.
    if (g("input_shift") > 23 || g("round") > 1)
      return "add: input_shift is 0 to 23 and round 0 or 1";
    if (in.get("a_zp") < -128 || in.get("a_zp") > 127 ||
        in.get("b_zp") < -128 || in.get("b_zp") > 127)
      return "add: a_zp and b_zp are int8 zero points";
    if (in.get("qmin") > in.get("qmax"))
      return "add: qmin > qmax";
    if (!(e = region("add input a", "input", g("src_a"), g("count"), true,
                     t.inputBuffer))
             .empty() ||
        !(e = region("add input b", "input", g("src_b"), g("count"), true,
                     t.inputBuffer))
             .empty() ||
        !(e = region("add result", "output", g("dst"), g("count"), true,
                     t.outputBuffer))
             .empty())
      return e;
    return region("add parameters", "weight", g("params"), 24, true,
                  t.weightBuffer);
  }
  case Opcode::Copy:
    if (!(e = positive({"bytes"})).empty() ||
        !(e = region("copy source", "input", g("src"), g("bytes"), true,
                     t.inputBuffer))
             .empty())
      return e;
    return region("copy result", "output", g("dst"), g("bytes"), true,
                  t.outputBuffer);
  case Opcode::Requant: {
    if (!(e = positive({"pixels", "channels"})).empty())
      return e;
    if (g("src_kind") > 1 || g("per_channel") > 1 || g("dual") > 1 ||
        g("round") > 1)
      return "requant: src_kind, per_channel, dual and round are 0 or 1";
    if (g("dual") && !t.dualRequant)
      return str("requant: target '%s' has no dual-multiplier requant unit",
                 t.name.c_str());
    if (in.get("qmin") > in.get("qmax"))
      return str("requant: qmin %" PRId64 " > qmax %" PRId64, in.get("qmin"),
                 in.get("qmax"));
    uint64_t n = g("pixels");
    bool ok = mulOk(n, g("channels"));
    bool acc = g("src_kind") == 0;
    uint64_t srcBytes = n;
    bool srcOk = ok && mulOk(srcBytes, acc ? 4 : 1);
    if (!(e = region("requant source", acc ? "output" : "input", g("src"),
                     srcBytes, srcOk, acc ? t.outputBuffer : t.inputBuffer))
             .empty())
      return e;
    if (!(e = region("requant result", "output", g("dst"), n, ok,
                     t.outputBuffer))
             .empty())
      return e;
    return region("requant parameters", "weight", g("params"),
                  16 * (g("per_channel") ? g("channels") : 1), true,
                  t.weightBuffer);
  }
  case Opcode::Pool: {
    if (!(e = positive(
              {"in_w", "c", "out_h", "out_w", "kh", "kw", "sh", "sw"}))
             .empty())
      return e;
    if (g("kind") > 1)
      return "pool: kind is 0 (max) or 1 (average)";
    if (in.get("qmin") > in.get("qmax"))
      return "pool: qmin > qmax";
    uint64_t cols = (g("out_w") - 1) * g("sw") + g("kw");
    if (cols > g("in_w"))
      return str("pool: the window needs %" PRIu64 " input columns, the tile "
                 "rows have %" PRIu64,
                 cols, g("in_w"));
    uint64_t rows = (g("out_h") - 1) * g("sh") + g("kh");
    bool ok = mulOk(rows, g("in_w")) && mulOk(rows, g("c"));
    if (!(e = region("pool input", "input", g("src"), rows, ok,
                     t.inputBuffer))
             .empty())
      return e;
    uint64_t o = g("out_h");
    ok = mulOk(o, g("out_w")) && mulOk(o, g("c"));
    return region("pool result", "output", g("dst"), o, ok, t.outputBuffer);
  }
  case Opcode::Sync:
    return "";
  }
  return "unknown opcode";
}

uint64_t instrWork(const Instr &in) {
  auto g = [&](const char *n) { return uint64_t(in.get(n)); };
  uint64_t w = 1;
  switch (in.opcode) {
  case Opcode::Load:
    w = (g("rows") + g("pad_top") + g("pad_bottom")) *
        (g("cols") + g("pad_left") + g("pad_right")) * g("elem");
    break;
  case Opcode::Store:
    w = g("rows") * g("cols") * g("elem");
    break;
  case Opcode::Mac:
    w = g("out_h") * g("out_w") * g("cout");
    if (!mulOk(w, g("kh") * g("kw") * (g("depthwise") ? 1 : g("cin"))) ||
        !mulOk(w, g("mode") == uint64_t(MacMode::Shift2) ? 2 : 1))
      return UINT64_MAX;
    break;
  case Opcode::Requant:
    w = g("pixels") * g("channels");
    break;
  case Opcode::Pool:
    w = g("out_h") * g("out_w") * g("c");
    if (!mulOk(w, g("kh") * g("kw")))
      return UINT64_MAX;
    break;
  case Opcode::Add:
    w = g("count");
    break;
  case Opcode::Copy:
    w = g("bytes");
    break;
  case Opcode::Sync:
    break;
  }
  return w == UINT64_MAX ? w : w + 1;
}

uint64_t macTiles(const Target &t, const Instr &in) {
  auto g = [&](const char *n) { return uint64_t(in.get(n)); };
  uint64_t cin = g("depthwise") ? 1 : g("cin");
  return (g("cout") + t.tm - 1) / t.tm * g("kh") * g("kw") *
         ((cin + t.tn - 1) / t.tn);
}

uint64_t instrCycles(const Target &t, const Instr &in,
                     const uint8_t *wordMask, uint64_t *twoWordCycles) {
  auto g = [&](const char *n) { return uint64_t(in.get(n)); };
  auto ceilDiv = [](uint64_t a, uint64_t b) { return (a + b - 1) / b; };
  if (twoWordCycles)
    *twoWordCycles = 0;
  switch (in.opcode) {
  case Opcode::Load:
  case Opcode::Store:
    return t.dmaLatency +
           ceilDiv(g("rows") * g("cols") * g("elem"), t.dmaBytesPerCycle);
  case Opcode::Mac: {
    // One array step per tile; a depthwise tile of Tm channels takes
    // ceil(channels / min(Tn, Tm)) steps on the diagonal.
    const uint64_t pixels = g("out_h") * g("out_w");
    const uint64_t lanes = t.tn < t.tm ? t.tn : t.tm;
    const uint64_t perCo = g("kh") * g("kw") *
                           (g("depthwise") ? 1 : ceilDiv(g("cin"), t.tn));
    const bool shift2 = g("mode") == uint64_t(MacMode::Shift2) && wordMask;
    if (!shift2 && !g("depthwise"))
      return pixels * perCo * ceilDiv(g("cout"), t.tm);
    uint64_t one = 0, two = 0, tile = 0;
    for (uint64_t co = 0; co < g("cout"); co += t.tm) {
      uint64_t channels = g("cout") - co < t.tm ? g("cout") - co : t.tm;
      uint64_t steps = g("depthwise") ? ceilDiv(channels, lanes) : 1;
      for (uint64_t k = 0; k < perCo; ++k, ++tile) {
        if (shift2 && macTwoWords(wordMask, tile))
          two += 2 * steps;
        else
          one += steps;
      }
    }
    if (twoWordCycles)
      *twoWordCycles = pixels * two;
    return pixels * (one + two);
  }
  case Opcode::Add:
    return ceilDiv(g("count"), t.tm);
  case Opcode::Copy:
    return ceilDiv(g("bytes"), t.tm);
  case Opcode::Requant:
    return ceilDiv(g("pixels") * g("channels"), t.tm);
  case Opcode::Pool:
    return ceilDiv(g("out_h") * g("out_w") * g("c"), t.tm) * g("kh") * g("kw");
  case Opcode::Sync:
    return 1;
  }
  return 1;
}

} // namespace accel
} // namespace lowbit
