//===- Program.cpp - Accelerator programs ---------------------------------===//
//
// Part of the lowbit project.
//
//===----------------------------------------------------------------------===//
//
// A program's tensors and the checks of a whole program.
//
//===----------------------------------------------------------------------===//

#include "IsaImpl.h"

#include <algorithm>

namespace lowbit {
namespace accel {

using namespace detail;

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

} // namespace accel
} // namespace lowbit
