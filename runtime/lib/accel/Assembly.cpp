//===- Assembly.cpp - The accelerator assembly text -----------------------===//
//
// Part of the lowbit project.
//
//===----------------------------------------------------------------------===//
//
// The assembly text: printing (what accel-sim --disasm writes) and
// parsing (accel-sim --assemble).
//
//===----------------------------------------------------------------------===//

#include "IsaImpl.h"

#include <cctype>
#include <sstream>

namespace lowbit {
namespace accel {

using namespace detail;

namespace {

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

} // namespace

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
  while (nextContentLine(ss, ';', line, lineNo)) {
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
            uint64_t x = 0;
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
