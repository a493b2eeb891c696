//===- Target.cpp - The accelerator target description --------------------===//
//
// Part of the lowbit project.
//
//===----------------------------------------------------------------------===//
//
// The target description: its checks, the key = value text of
// .target files and --accel-set, and the names of the weight modes.
//
//===----------------------------------------------------------------------===//

#include "IsaImpl.h"

#include <sstream>

namespace lowbit {
namespace accel {

using namespace detail;

namespace {

const char *const kModeNames[kNumModes] = {"multiply", "shift1", "shift2"};

} // namespace

namespace detail {

std::string modeList(uint32_t modes) {
  std::string s;
  for (unsigned m = 0; m < kNumModes; ++m)
    if (modes >> m & 1u)
      s += (s.empty() ? "" : ",") + std::string(kModeNames[m]);
  return s;
}

} // namespace detail

const char *modeName(unsigned mode) {
  return mode < kNumModes ? kModeNames[mode] : "unknown";
}

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
  // The integer keys: each sets a uint32_t field or a uint64_t one (the
  // buffers), to any value of its type.
  struct NumKey {
    const char *name;
    uint32_t *u32;
    uint64_t *u64;
  } nums[] = {{"tn", &t.tn, nullptr},
              {"tm", &t.tm, nullptr},
              {"activation_bits", &t.activationBits, nullptr},
              {"accumulator_bits", &t.accumulatorBits, nullptr},
              {"weight_bits", &t.weightBits, nullptr},
              {"dma_bytes_per_cycle", &t.dmaBytesPerCycle, nullptr},
              {"dma_latency", &t.dmaLatency, nullptr},
              {"input_buffer", nullptr, &t.inputBuffer},
              {"weight_buffer", nullptr, &t.weightBuffer},
              {"output_buffer", nullptr, &t.outputBuffer}};
  for (auto &k : nums)
    if (key == k.name) {
      if (!(e = num(0, k.u32 ? UINT32_MAX : UINT64_MAX)).empty())
        return e;
      if (k.u32)
        *k.u32 = uint32_t(v);
      else
        *k.u64 = v;
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
  while (nextContentLine(ss, '#', line, lineNo)) {
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

} // namespace accel
} // namespace lowbit
