//===- AccelBinFuzzer.cpp - libFuzzer target: accelerator binaries --------===//
//
// Part of the lowbit project.
//
//===----------------------------------------------------------------------===//
//
// lowbit::accel::decodeBinary on arbitrary bytes (what accel-sim reads): an
// error or a program, never a crash, a hang or an allocation the file
// cannot back. A program it accepts must survive the assembly
// (printAssembly -> parseAssembly -> encodeBinary gives back the very
// bytes, as the decoder accepts one encoding only), and, when its DRAM and
// buffers are small, run in the simulator on zero inputs within a work
// bound: an execution error (deadlock, a requant or add parameter out of
// range, a shift term above 31, a shift2 second plane outside the weight
// buffer) is fine, a crash is not.
//
//===----------------------------------------------------------------------===//

#include "lowbit/accel/Sim.h"

#include "lowbit/accel/Isa.h"

#include <cstdint>
#include <string>
#include <vector>

using namespace lowbit::accel;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  Program p;
  if (!decodeBinary(data, size, p).empty())
    return 0;
  if (encodeBinary(p) != std::vector<uint8_t>(data, data + size))
    __builtin_trap(); // the decoder accepted a second encoding
  Program back;
  const std::string text = printAssembly(p);
  if (!parseAssembly(text, back).empty())
    __builtin_trap(); // printed assembly that does not assemble
  if (encodeBinary(back) != std::vector<uint8_t>(data, data + size))
    __builtin_trap(); // binary -> assembly -> binary is not the identity

  // Zeroing the arrays costs time per input: bound them.
  constexpr uint64_t kRunBytes = uint64_t(16) << 20;
  const Target &t = p.target;
  if (p.dramBytes > kRunBytes ||
      t.inputBuffer + t.weightBuffer + t.outputBuffer > kRunBytes)
    return 0;
  std::vector<std::vector<int8_t>> inputs, outputs;
  for (const TensorDesc &d : p.tensors)
    if (!d.isOutput)
      inputs.emplace_back(d.bytes(), 0);
  SimStats stats;
  const std::string err =
      runProgram(p, inputs, outputs, stats, /*workLimit=*/20000000);
  if (err.empty()) {
    // A completed run has one output per output tensor, of its size.
    size_t k = 0;
    for (const TensorDesc &d : p.tensors)
      if (d.isOutput &&
          (k >= outputs.size() || outputs[k++].size() != d.bytes()))
        __builtin_trap();
    (void)reportJson(p, stats, 1);
  }
  return 0;
}
