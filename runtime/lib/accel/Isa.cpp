//===- Isa.cpp - The accelerator target: description, ISA, binary format -===//
//
// Part of the lowbit project.
//
//===----------------------------------------------------------------------===//

#include "lowbit/accel/Isa.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cinttypes>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <sstream>

namespace lowbit {
namespace accel {
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

const char *const kModeNames[kNumModes] = {"multiply", "shift1", "shift2"};

std::string str(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
std::string str(const char *fmt, ...) {
  va_list ap, again;
  va_start(ap, fmt);
  va_copy(again, ap);
  int n = vsnprintf(nullptr, 0, fmt, ap);
  va_end(ap);
  std::string out(n > 0 ? size_t(n) : 0, '\0');
  if (n > 0)
    vsnprintf(&out[0], size_t(n) + 1, fmt, again);
  va_end(again);
  return out;
}

/// Names survive the assembly text unchanged: printable ASCII without
/// spaces, quotes or the assembly's comment character (and, for the target,
/// without the description file's '=' and '#').
bool isPrintableName(const std::string &s, const char *alsoBanned) {
  if (s.empty() || s.size() > 255)
    return false;
  for (char c : s)
    if (c < 0x21 || c > 0x7e || c == '"' || c == ';' ||
        std::strchr(alsoBanned, c))
      return false;
  return true;
}

int64_t fieldMin(const FieldSpec &f) {
  return f.isSigned ? -(int64_t(1) << (8 * f.bytes - 1)) : 0;
}
int64_t fieldMax(const FieldSpec &f) {
  return f.isSigned ? (int64_t(1) << (8 * f.bytes - 1)) - 1
                    : (int64_t(1) << (8 * f.bytes)) - 1;
}

/// a * b * c... with overflow detection (all operands non-negative).
bool mulOk(uint64_t &acc, uint64_t v) {
  return !__builtin_mul_overflow(acc, v, &acc);
}

/// Checks that [off, off + bytes) lies inside a buffer of `cap` bytes.
std::string region(const char *what, const char *buf, uint64_t off,
                   uint64_t bytes, bool ok, uint64_t cap) {
  if (!ok || off > cap || bytes > cap - off)
    return str("%s needs bytes [%" PRIu64 ", %" PRIu64 ") of the %s buffer, "
               "which has %" PRIu64,
               what, off, ok ? off + bytes : UINT64_MAX, buf, cap);
  return "";
}

bool parseUnsigned(const std::string &s, uint64_t &v) {
  if (s.empty())
    return false;
  char *end = nullptr;
  errno = 0;
  unsigned long long x = strtoull(s.c_str(), &end, 0);
  if (errno || s[0] == '-' || s[0] == '+')
    return false;
  uint64_t mult = 1;
  std::string rest(end);
  if (rest == "K" || rest == "k")
    mult = 1024;
  else if (rest == "M" || rest == "m")
    mult = 1024 * 1024;
  else if (!rest.empty())
    return false;
  v = x;
  return mulOk(v, mult);
}

bool parseSigned(const std::string &s, int64_t &v) {
  if (s.empty())
    return false;
  char *end = nullptr;
  errno = 0;
  long long x = strtoll(s.c_str(), &end, 10);
  if (errno || *end)
    return false;
  v = x;
  return true;
}

std::string trim(const std::string &s) {
  size_t b = s.find_first_not_of(" \t\r");
  if (b == std::string::npos)
    return "";
  size_t e = s.find_last_not_of(" \t\r");
  return s.substr(b, e - b + 1);
}

// Little-endian writer and bounds-checked reader.
struct Writer {
  std::vector<uint8_t> &out;
  void u(uint64_t v, unsigned bytes) {
    for (unsigned i = 0; i < bytes; ++i)
      out.push_back(uint8_t(v >> (8 * i)));
  }
  void raw(const void *p, size_t n) {
    const uint8_t *b = static_cast<const uint8_t *>(p);
    out.insert(out.end(), b, b + n);
  }
};

struct Reader {
  const uint8_t *data;
  size_t size;
  size_t pos = 0;
  std::string err;
  bool need(size_t n, const char *what) {
    if (!err.empty())
      return false;
    if (n > size - pos) {
      err = str("truncated at byte %zu: %s needs %zu bytes, %zu left", pos,
                what, n, size - pos);
      return false;
    }
    return true;
  }
  uint64_t u(unsigned bytes, const char *what) {
    if (!need(bytes, what))
      return 0;
    uint64_t v = 0;
    for (unsigned i = 0; i < bytes; ++i)
      v |= uint64_t(data[pos + i]) << (8 * i);
    pos += bytes;
    return v;
  }
};

std::string modeList(uint32_t modes) {
  std::string s;
  for (unsigned m = 0; m < kNumModes; ++m)
    if (modes >> m & 1u)
      s += (s.empty() ? "" : ",") + std::string(kModeNames[m]);
  return s;
}

} // namespace

const char *modeName(unsigned mode) {
  return mode < kNumModes ? kModeNames[mode] : "unknown";
}

//===----------------------------------------------------------------------===//
// Target description
//===----------------------------------------------------------------------===//

std::string checkTarget(const Target &t) {
  if (t.tn < 1 || t.tn > kMaxArraySide || t.tm < 1 || t.tm > kMaxArraySide)
    return str("the array is %ux%u; each side must be 1 to %u", t.tn, t.tm,
               kMaxArraySide);
  if (t.modes == 0 || t.modes >> kNumModes)
    return "the target must list at least one weight mode of multiply, "
           "shift1, shift2";
  if (t.activationBits != 8)
    return str("activation_bits = %u: this ISA moves 8-bit activations only",
               t.activationBits);
  if (t.accumulatorBits != 32)
    return str("accumulator_bits = %u: this ISA has 32-bit accumulators only",
               t.accumulatorBits);
  if (t.weightBits < 2 || t.weightBits > 8)
    return str("weight_bits = %u: multiply-mode weights are 2 to 8 bits",
               t.weightBits);
  const std::pair<const char *, uint64_t> bufs[] = {
      {"input_buffer", t.inputBuffer},
      {"weight_buffer", t.weightBuffer},
      {"output_buffer", t.outputBuffer}};
  for (auto &b : bufs)
    if (b.second < 64 || b.second > kMaxBufferBytes)
      return str("%s = %" PRIu64 " bytes: must be 64 to %" PRIu64, b.first,
                 b.second, kMaxBufferBytes);
  if (t.dmaBytesPerCycle < 1 || t.dmaBytesPerCycle > 4096)
    return str("dma_bytes_per_cycle = %u: must be 1 to 4096",
               t.dmaBytesPerCycle);
  if (t.dmaLatency > 100000)
    return str("dma_latency = %u: must be at most 100000", t.dmaLatency);
  if (!isPrintableName(t.name, "=#"))
    return "the name must be 1 to 255 printable characters without spaces, "
           "quotes, ';', '=' or '#'";
  return "";
}

std::string setTargetField(Target &t, const std::string &key,
                           const std::string &value) {
  uint64_t v = 0;
  auto num = [&](uint64_t lo, uint64_t hi) -> std::string {
    if (!parseUnsigned(value, v) || v < lo || v > hi)
      return str("%s = '%s': expected an integer from %" PRIu64 " to %" PRIu64,
                 key.c_str(), value.c_str(), lo, hi);
    return "";
  };
  std::string e;
  if (key == "name") {
    t.name = value;
    return "";
  }
  if (key == "modes") {
    uint32_t modes = 0;
    std::string list = value;
    for (char &c : list)
      if (c == '+')
        c = ','; // `+` too: a pass option's list splits on commas
    std::stringstream ss(list);
    std::string item;
    while (std::getline(ss, item, ',')) {
      item = trim(item);
      unsigned m = 0;
      while (m < kNumModes && item != kModeNames[m])
        ++m;
      if (m == kNumModes)
        return "modes: unknown mode '" + item +
               "' (expected multiply, shift1, shift2)";
      modes |= 1u << m;
    }
    t.modes = modes;
    return "";
  }
  if (key == "dual_requant") {
    if (value == "1" || value == "true")
      t.dualRequant = true;
    else if (value == "0" || value == "false")
      t.dualRequant = false;
    else
      return "dual_requant = '" + value + "': expected 0, 1, true or false";
    return "";
  }
  struct U32Key {
    const char *name;
    uint32_t *field;
  } u32s[] = {{"tn", &t.tn},
              {"tm", &t.tm},
              {"activation_bits", &t.activationBits},
              {"accumulator_bits", &t.accumulatorBits},
              {"weight_bits", &t.weightBits},
              {"dma_bytes_per_cycle", &t.dmaBytesPerCycle},
              {"dma_latency", &t.dmaLatency}};
  for (auto &k : u32s)
    if (key == k.name) {
      if (!(e = num(0, UINT32_MAX)).empty())
        return e;
      *k.field = uint32_t(v);
      return "";
    }
  struct U64Key {
    const char *name;
    uint64_t *field;
  } u64s[] = {{"input_buffer", &t.inputBuffer},
              {"weight_buffer", &t.weightBuffer},
              {"output_buffer", &t.outputBuffer}};
  for (auto &k : u64s)
    if (key == k.name) {
      if (!(e = num(0, UINT64_MAX)).empty())
        return e;
      *k.field = v;
      return "";
    }
  return "unknown key '" + key +
         "' (expected name, tn, tm, modes, activation_bits, "
         "accumulator_bits, weight_bits, input_buffer, weight_buffer, "
         "output_buffer, dma_bytes_per_cycle, dma_latency, dual_requant)";
}

std::string parseTarget(const std::string &text, Target &t) {
  std::stringstream ss(text);
  std::string line;
  unsigned lineNo = 0;
  while (std::getline(ss, line)) {
    ++lineNo;
    size_t hash = line.find('#');
    if (hash != std::string::npos)
      line.resize(hash);
    line = trim(line);
    if (line.empty())
      continue;
    size_t eq = line.find('=');
    if (eq == std::string::npos)
      return str("line %u: expected 'key = value'", lineNo);
    std::string e =
        setTargetField(t, trim(line.substr(0, eq)), trim(line.substr(eq + 1)));
    if (!e.empty())
      return str("line %u: ", lineNo) + e;
  }
  std::string e = checkTarget(t);
  return e.empty() ? e : "the description is invalid: " + e;
}

std::string printTarget(const Target &t) {
  return str("name = %s\ntn = %u\ntm = %u\nmodes = %s\nactivation_bits = %u\n"
             "accumulator_bits = %u\nweight_bits = %u\ninput_buffer = %" PRIu64
             "\nweight_buffer = %" PRIu64 "\noutput_buffer = %" PRIu64
             "\ndma_bytes_per_cycle = %u\ndma_latency = %u\n"
             "dual_requant = %u\n",
             t.name.c_str(), t.tn, t.tm, modeList(t.modes).c_str(),
             t.activationBits, t.accumulatorBits, t.weightBits, t.inputBuffer,
             t.weightBuffer, t.outputBuffer, t.dmaBytesPerCycle, t.dmaLatency,
             unsigned(t.dualRequant));
}

//===----------------------------------------------------------------------===//
// Instructions
//===----------------------------------------------------------------------===//

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

//===----------------------------------------------------------------------===//
// Programs
//===----------------------------------------------------------------------===//

uint64_t TensorDesc::bytes() const {
  uint64_t n = 1;
  for (int64_t d : shape)
    if (d < 0 || !mulOk(n, uint64_t(d)))
      return UINT64_MAX;
  return n;
}

std::string checkProgram(const Program &p) {
  std::string e = checkTarget(p.target);
  if (!e.empty())
    return "target: " + e;
  if (p.dramBytes > kMaxDramBytes)
    return str("DRAM is %" PRIu64 " bytes; the limit is %" PRIu64,
               p.dramBytes, kMaxDramBytes);
  if (p.data.size() > p.dramBytes)
    return str("the data segment (%zu bytes) is larger than DRAM (%" PRIu64
               " bytes)",
               p.data.size(), p.dramBytes);
  for (const TensorDesc &d : p.tensors) {
    uint64_t n = d.bytes();
    if (d.shape.empty() || d.shape.size() > 8 || n == 0 || n == UINT64_MAX ||
        d.addr > p.dramBytes || n > p.dramBytes - d.addr)
      return "tensor '" + d.name + "' does not fit in DRAM";
    if (d.addr < p.data.size() && !d.isOutput)
      return "input '" + d.name + "' overlaps the data segment";
    if (!(d.scale > 0) || d.scale > 1e30)
      return "tensor '" + d.name + "' has a scale that is not positive";
    if (d.zeroPoint < -128 || d.zeroPoint > 127)
      return "tensor '" + d.name + "' has a zero point outside int8";
    if (!isPrintableName(d.name, ""))
      return "a tensor name must be 1 to 255 printable characters without "
             "spaces, quotes or ';'";
  }
  // A program is run for its outputs: one without any would run, succeed
  // and write nothing.
  if (std::none_of(p.tensors.begin(), p.tensors.end(),
                   [](const TensorDesc &d) { return d.isOutput; }))
    return "the program has no output tensor (.output)";
  for (size_t i = 0; i < p.instrs.size(); ++i) {
    e = checkInstr(p.target, p.instrs[i], p.dramBytes);
    if (!e.empty())
      return str("instruction %zu: ", i) + e;
  }
  return "";
}

//===----------------------------------------------------------------------===//
// Binary
//===----------------------------------------------------------------------===//

static const char kMagic[8] = {'L', 'B', 'A', 'C', 'C', 'E', 'L', 0};

std::vector<uint8_t> encodeBinary(const Program &p) {
  std::vector<uint8_t> out;
  Writer w{out};
  const Target &t = p.target;
  w.raw(kMagic, 8);
  w.u(kVersion, 4);
  w.u(t.tn, 4);
  w.u(t.tm, 4);
  w.u(t.modes, 4);
  w.u(t.activationBits, 1);
  w.u(t.accumulatorBits, 1);
  w.u(t.weightBits, 1);
  w.u(t.dualRequant, 1);
  w.u(t.dmaBytesPerCycle, 4);
  w.u(t.dmaLatency, 4);
  w.u(t.inputBuffer, 4);
  w.u(t.weightBuffer, 4);
  w.u(t.outputBuffer, 4);
  w.u(p.dramBytes, 8);
  w.u(p.data.size(), 8);
  w.u(p.tensors.size(), 4);
  w.u(p.instrs.size(), 4);
  w.u(t.name.size(), 4);
  w.u(0, 4);
  w.raw(t.name.data(), t.name.size());
  for (const TensorDesc &d : p.tensors) {
    w.u(d.isOutput, 1);
    w.u(d.shape.size(), 1);
    w.u(d.name.size(), 2);
    w.raw(d.name.data(), d.name.size());
    for (int64_t s : d.shape)
      w.u(uint64_t(s), 8);
    w.u(d.addr, 8);
    uint64_t bits;
    std::memcpy(&bits, &d.scale, 8);
    w.u(bits, 8);
    w.u(uint32_t(d.zeroPoint), 4);
  }
  w.raw(p.data.data(), p.data.size());
  for (const Instr &in : p.instrs) {
    size_t start = out.size();
    w.u(uint8_t(in.opcode), 1);
    w.u(in.deps, 1);
    const OpSpec *spec = opSpec(in.opcode);
    for (unsigned i = 0; spec && i < spec->numFields; ++i)
      w.u(uint64_t(in.f[i]), spec->fields[i].bytes);
    out.resize(start + kInstrBytes, 0);
  }
  return out;
}

std::string decodeBinary(const uint8_t *bytes, size_t size, Program &p) {
  Reader r{bytes, size, 0, std::string()};
  p = Program();
  Target &t = p.target;
  if (size < 8 || std::memcmp(bytes, kMagic, 8) != 0)
    return "not a lowbit accelerator binary (no LBACCEL magic)";
  r.pos = 8;
  uint64_t version = r.u(4, "the version");
  if (r.err.empty() && version != kVersion)
    return str("binary version %" PRIu64 "; this build reads version %u",
               version, kVersion);
  t.tn = uint32_t(r.u(4, "the header"));
  t.tm = uint32_t(r.u(4, "the header"));
  t.modes = uint32_t(r.u(4, "the header"));
  t.activationBits = uint32_t(r.u(1, "the header"));
  t.accumulatorBits = uint32_t(r.u(1, "the header"));
  t.weightBits = uint32_t(r.u(1, "the header"));
  uint64_t dual = r.u(1, "the header");
  t.dualRequant = dual == 1;
  t.dmaBytesPerCycle = uint32_t(r.u(4, "the header"));
  t.dmaLatency = uint32_t(r.u(4, "the header"));
  t.inputBuffer = r.u(4, "the header");
  t.weightBuffer = r.u(4, "the header");
  t.outputBuffer = r.u(4, "the header");
  p.dramBytes = r.u(8, "the header");
  uint64_t dataBytes = r.u(8, "the header");
  uint64_t numTensors = r.u(4, "the header");
  uint64_t numInstrs = r.u(4, "the header");
  uint64_t nameLen = r.u(4, "the header");
  uint64_t reserved = r.u(4, "the header");
  if (!r.err.empty())
    return r.err;
  if (dual > 1 || reserved != 0)
    return "corrupt header: reserved bits are set";
  std::string e;
  if (nameLen > 255)
    return "corrupt header: the target name is longer than 255 bytes";
  if (!r.need(nameLen, "the target name"))
    return r.err;
  t.name.assign(reinterpret_cast<const char *>(bytes + r.pos), nameLen);
  r.pos += nameLen;
  if (!(e = checkTarget(t)).empty())
    return "the header's target is invalid: " + e;
  if (p.dramBytes > kMaxDramBytes)
    return str("the header asks for %" PRIu64 " bytes of DRAM; the limit is "
               "%" PRIu64,
               p.dramBytes, kMaxDramBytes);
  // Each tensor record takes at least 32 bytes and each instruction
  // kInstrBytes: counts the file cannot back are rejected before anything
  // is allocated.
  if (numTensors > (size - r.pos) / 32 ||
      numInstrs > (size - r.pos) / kInstrBytes || dataBytes > size - r.pos)
    return "truncated: the header's counts need more bytes than the file has";
  for (uint64_t i = 0; i < numTensors; ++i) {
    TensorDesc d;
    uint64_t kind = r.u(1, "a tensor record");
    uint64_t rank = r.u(1, "a tensor record");
    uint64_t len = r.u(2, "a tensor record");
    if (!r.err.empty())
      return r.err;
    if (kind > 1 || rank == 0 || rank > 8)
      return str("corrupt tensor record %" PRIu64 " at byte %zu", i,
                 r.pos - 4);
    if (!r.need(len, "a tensor name"))
      return r.err;
    d.name.assign(reinterpret_cast<const char *>(bytes + r.pos), len);
    r.pos += len;
    d.isOutput = kind == 1;
    for (uint64_t k = 0; k < rank; ++k) {
      uint64_t dim = r.u(8, "a tensor shape");
      if (dim > (uint64_t(1) << 40))
        return str("tensor '%s' has a dimension of %" PRIu64, d.name.c_str(),
                   dim);
      d.shape.push_back(int64_t(dim));
    }
    d.addr = r.u(8, "a tensor record");
    uint64_t bits = r.u(8, "a tensor record");
    std::memcpy(&d.scale, &bits, 8);
    d.zeroPoint = int32_t(uint32_t(r.u(4, "a tensor record")));
    if (!r.err.empty())
      return r.err;
    p.tensors.push_back(std::move(d));
  }
  if (!r.need(dataBytes, "the data segment"))
    return r.err;
  p.data.assign(bytes + r.pos, bytes + r.pos + dataBytes);
  r.pos += dataBytes;
  if (numInstrs > (size - r.pos) / kInstrBytes)
    return str("truncated: %" PRIu64 " instructions need %" PRIu64
               " bytes at byte %zu, %zu left",
               numInstrs, numInstrs * kInstrBytes, r.pos, size - r.pos);
  p.instrs.resize(numInstrs);
  for (uint64_t i = 0; i < numInstrs; ++i) {
    size_t start = r.pos;
    Instr &in = p.instrs[i];
    in.opcode = Opcode(r.u(1, "an instruction"));
    in.deps = uint8_t(r.u(1, "an instruction"));
    const OpSpec *spec = opSpec(in.opcode);
    if (!spec)
      return str("instruction %" PRIu64 " at byte %zu: unknown opcode %u", i,
                 start, unsigned(in.opcode));
    for (unsigned k = 0; k < spec->numFields; ++k) {
      const FieldSpec &fs = spec->fields[k];
      uint64_t v = r.u(fs.bytes, "an instruction");
      if (fs.isSigned && fs.bytes < 8 && (v >> (8 * fs.bytes - 1) & 1))
        v |= ~uint64_t(0) << (8 * fs.bytes);
      in.f[k] = int64_t(v);
    }
    for (size_t k = r.pos; k < start + kInstrBytes; ++k)
      if (bytes[k] != 0)
        return str("instruction %" PRIu64 " at byte %zu: reserved byte %zu "
                   "is not zero",
                   i, start, k - start);
    r.pos = start + kInstrBytes;
  }
  if (r.pos != size)
    return str("%zu unexpected bytes after the last instruction (byte %zu)",
               size - r.pos, r.pos);
  e = checkProgram(p);
  return e.empty() ? e : "invalid program: " + e;
}

//===----------------------------------------------------------------------===//
// Assembly
//===----------------------------------------------------------------------===//

std::string printInstr(const Instr &in) {
  const OpSpec *spec = opSpec(in.opcode);
  if (!spec)
    return str("; unknown opcode %u", unsigned(in.opcode));
  std::string s = spec->mnemonic;
  for (unsigned i = 0; i < spec->numFields; ++i)
    s += str(" %s=%" PRId64, spec->fields[i].name, in.f[i]);
  static const char *const kDeps[] = {"pop_prev", "pop_next", "push_prev",
                                      "push_next"};
  for (unsigned b = 0; b < 4; ++b)
    if (in.deps >> b & 1)
      s += std::string(" ") + kDeps[b];
  return s;
}

std::string printAssembly(const Program &p) {
  std::string s = str("; lowbit accelerator program, ISA version %u\n",
                      kVersion);
  std::string target = printTarget(p.target);
  std::stringstream ts(target);
  std::string line;
  while (std::getline(ts, line))
    s += ".target " + line + "\n";
  s += str(".dram %" PRIu64 "\n", p.dramBytes);
  for (const TensorDesc &d : p.tensors) {
    std::string shape;
    for (size_t i = 0; i < d.shape.size(); ++i)
      shape += str(i ? "x%" PRId64 : "%" PRId64, d.shape[i]);
    s += str(".%s %s shape=%s addr=%" PRIu64 " scale=%a zp=%d\n",
             d.isOutput ? "output" : "input", d.name.c_str(), shape.c_str(),
             d.addr, d.scale, d.zeroPoint);
  }
  s += str(".data %zu\n", p.data.size());
  for (size_t i = 0; i < p.data.size(); i += 32) {
    s += ".bytes ";
    for (size_t k = i; k < p.data.size() && k < i + 32; ++k)
      s += str("%02x", p.data[k]);
    s += "\n";
  }
  for (size_t i = 0; i < p.instrs.size(); ++i)
    s += printInstr(p.instrs[i]) + str("  ; %zu\n", i);
  return s;
}

std::string parseAssembly(const std::string &text, Program &p) {
  p = Program();
  std::string targetText;
  std::stringstream ss(text);
  std::string line;
  unsigned lineNo = 0;
  bool haveData = false;
  uint64_t dataBytes = 0;
  auto fail = [&](const std::string &m) { return str("line %u: ", lineNo) + m; };
  std::vector<std::string> pendingTarget;
  bool targetDone = false;
  auto finishTarget = [&]() -> std::string {
    if (targetDone)
      return "";
    targetDone = true;
    std::string e = parseTarget(targetText, p.target);
    return e.empty() ? e : ".target: " + e;
  };
  while (std::getline(ss, line)) {
    ++lineNo;
    size_t semi = line.find(';');
    if (semi != std::string::npos)
      line.resize(semi);
    line = trim(line);
    if (line.empty())
      continue;
    std::stringstream ls(line);
    std::string word;
    ls >> word;
    if (word == ".target") {
      if (targetDone)
        return fail(".target after the program started");
      std::string rest;
      std::getline(ls, rest);
      targetText += rest + "\n";
      continue;
    }
    std::string e = finishTarget();
    if (!e.empty())
      return fail(e);
    if (word == ".dram") {
      std::string v;
      ls >> v;
      if (!parseUnsigned(v, p.dramBytes) || p.dramBytes > kMaxDramBytes)
        return fail("bad .dram size '" + v + "'");
      continue;
    }
    if (word == ".input" || word == ".output") {
      TensorDesc d;
      d.isOutput = word == ".output";
      ls >> d.name;
      std::string kv;
      unsigned seen = 0;
      while (ls >> kv) {
        size_t eq = kv.find('=');
        std::string k = kv.substr(0, eq == std::string::npos ? kv.size() : eq);
        std::string v = eq == std::string::npos ? "" : kv.substr(eq + 1);
        if (k == "shape") {
          std::stringstream ds(v);
          std::string dim;
          while (std::getline(ds, dim, 'x')) {
            uint64_t x;
            if (!parseUnsigned(dim, x) || x > (uint64_t(1) << 40))
              return fail("bad shape '" + v + "'");
            d.shape.push_back(int64_t(x));
          }
          seen |= 1;
        } else if (k == "addr") {
          if (!parseUnsigned(v, d.addr))
            return fail("bad addr '" + v + "'");
          seen |= 2;
        } else if (k == "scale") {
          char *end = nullptr;
          d.scale = strtod(v.c_str(), &end);
          if (v.empty() || *end)
            return fail("bad scale '" + v + "'");
          seen |= 4;
        } else if (k == "zp") {
          int64_t z;
          if (!parseSigned(v, z) || z < INT32_MIN || z > INT32_MAX)
            return fail("bad zp '" + v + "'");
          d.zeroPoint = int32_t(z);
          seen |= 8;
        } else {
          return fail("unknown tensor key '" + k + "'");
        }
      }
      if (d.name.empty() || seen != 15)
        return fail(word + " needs a name, shape, addr, scale and zp");
      p.tensors.push_back(std::move(d));
      continue;
    }
    if (word == ".data") {
      std::string v;
      ls >> v;
      if (haveData || !parseUnsigned(v, dataBytes) ||
          dataBytes > kMaxDramBytes)
        return fail("bad or repeated .data '" + v + "'");
      haveData = true;
      continue;
    }
    if (word == ".bytes") {
      std::string hex;
      ls >> hex;
      if (!haveData || hex.size() % 2 ||
          p.data.size() + hex.size() / 2 > dataBytes)
        return fail(".bytes without room in the .data segment");
      for (size_t i = 0; i < hex.size(); i += 2) {
        char pair[3] = {hex[i], hex[i + 1], 0};
        char *end = nullptr;
        unsigned long b = strtoul(pair, &end, 16);
        if (*end || !isxdigit(pair[0]) || !isxdigit(pair[1]))
          return fail("bad hex '" + std::string(pair) + "'");
        p.data.push_back(uint8_t(b));
      }
      continue;
    }
    const OpSpec *spec = opSpec(word);
    if (!spec)
      return fail("unknown instruction or directive '" + word + "'");
    Instr in;
    in.opcode = spec->opcode;
    bool have[kMaxFields] = {};
    std::string kv;
    while (ls >> kv) {
      static const char *const kDeps[] = {"pop_prev", "pop_next",
                                          "push_prev", "push_next"};
      bool dep = false;
      for (unsigned b = 0; b < 4; ++b)
        if (kv == kDeps[b]) {
          in.deps |= uint8_t(1u << b);
          dep = true;
        }
      if (dep)
        continue;
      size_t eq = kv.find('=');
      if (eq == std::string::npos)
        return fail("expected field=value, got '" + kv + "'");
      int i = fieldIndex(*spec, kv.substr(0, eq).c_str());
      if (i < 0)
        return fail(std::string(spec->mnemonic) + " has no field '" +
                    kv.substr(0, eq) + "'");
      int64_t v;
      if (!parseSigned(kv.substr(eq + 1), v) || v < fieldMin(spec->fields[i]) ||
          v > fieldMax(spec->fields[i]))
        return fail("bad value in '" + kv + "'");
      in.f[i] = v;
      have[i] = true;
    }
    for (unsigned i = 0; i < spec->numFields; ++i)
      if (!have[i])
        return fail(std::string(spec->mnemonic) + ": missing field '" +
                    spec->fields[i].name + "'");
    p.instrs.push_back(in);
  }
  std::string e = finishTarget();
  if (!e.empty())
    return e;
  if (p.data.size() != dataBytes)
    return str(".data declares %" PRIu64 " bytes, .bytes gave %zu", dataBytes,
               p.data.size());
  e = checkProgram(p);
  return e.empty() ? e : "invalid program: " + e;
}

} // namespace accel
} // namespace lowbit
