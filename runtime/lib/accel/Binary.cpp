//===- Binary.cpp - The accelerator binary format -------------------------===//
//
// Part of the lowbit project.
//
//===----------------------------------------------------------------------===//
//
// The versioned binary: encoding, and decoding with bounds checks.
//
//===----------------------------------------------------------------------===//

#include "IsaImpl.h"

#include <type_traits>

namespace lowbit {
namespace accel {

using namespace detail;

namespace {

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

/// Calls f(field, bytes) on each of the target's fields in the header, in
/// their order there, with their widths in bytes: the one list the encoder
/// and the decoder walk (TargetT: Target or const Target).
template <typename TargetT, typename F>
void forEachHeaderField(TargetT &t, F &&f) {
  f(t.tn, 4);
  f(t.tm, 4);
  f(t.modes, 4);
  f(t.activationBits, 1);
  f(t.accumulatorBits, 1);
  f(t.weightBits, 1);
  f(t.dualRequant, 1);
  f(t.dmaBytesPerCycle, 4);
  f(t.dmaLatency, 4);
  f(t.inputBuffer, 4);
  f(t.weightBuffer, 4);
  f(t.outputBuffer, 4);
}

} // namespace

static const char kMagic[8] = {'L', 'B', 'A', 'C', 'C', 'E', 'L', 0};

std::vector<uint8_t> encodeBinary(const Program &p) {
  std::vector<uint8_t> out;
  Writer w{out};
  const Target &t = p.target;
  w.raw(kMagic, 8);
  w.u(kVersion, 4);
  forEachHeaderField(
      t, [&](const auto &field, unsigned bytes) { w.u(field, bytes); });
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
  uint64_t dual = 0;
  forEachHeaderField(t, [&](auto &field, unsigned bytes) {
    const uint64_t v = r.u(bytes, "the header");
    if constexpr (std::is_same<std::decay_t<decltype(field)>, bool>::value) {
      dual = v;
      field = v == 1;
    } else {
      field = static_cast<std::decay_t<decltype(field)>>(v);
    }
  });
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

} // namespace accel
} // namespace lowbit
