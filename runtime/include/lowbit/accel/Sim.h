//===- Sim.h - Cycle-level simulator of the tile accelerator ----*- C++ -*-===//
//
// Part of the lowbit project.
//
//===----------------------------------------------------------------------===//
//
// Executes a decoded accel::Program bit for bit as lowbit/accel/Isa.h
// defines it, and times it. The three modules (load, compute, store) each
// run their own instructions in program order; the four token queues order
// them. The simulation is discrete-event: among the modules whose next
// instruction can pop its tokens, the one that can start first runs it
// (ties: load, compute, store), finishing instrCycles() later and stamping
// the tokens it pushes with that finish time.
//
// Plain C++17 on lowbit_runtime only (no LLVM/MLIR): the integer rules are
// Requant.h's (requant), Ops.h's (add) and ShiftKernels.h's (the shift
// modes' products), the instruction rules Isa.h's.
//
//===----------------------------------------------------------------------===//

#ifndef LOWBIT_ACCEL_SIM_H
#define LOWBIT_ACCEL_SIM_H

#include "lowbit/accel/Isa.h"

#include <cstdint>
#include <string>
#include <vector>

namespace lowbit {
namespace accel {

constexpr unsigned kNumModules = 3;
/// Opcodes are 1..kMaxOpcode; counts are indexed by the opcode's value.
constexpr unsigned kMaxOpcode = 8;

/// Figures of one or more runs; runProgram adds to them, so a SimStats
/// passed to several calls holds totals over the samples.
struct SimStats {
  uint64_t runs = 0;        ///< runProgram calls that completed
  uint64_t totalCycles = 0; ///< sum over runs of the last finish time
  uint64_t busyCycles[kNumModules] = {};  ///< indexed by Module
  uint64_t stallCycles[kNumModules] = {}; ///< waiting for tokens
  uint64_t macCycles[kNumModes] = {};     ///< indexed by MacMode
  /// The log-coded modes' MAC cycles by tile kind: two-word tiles (shift2
  /// tiles whose mask bit is set) and one-word tiles (shift1, and shift2's
  /// other tiles). Multiply-mode cycles are in neither.
  uint64_t macOneWordCycles = 0;
  uint64_t macTwoWordCycles = 0;
  uint64_t instrCount[kMaxOpcode + 1] = {};
  uint64_t loadDmaCycles = 0;
  uint64_t storeDmaCycles = 0;
  uint64_t bytesToInput = 0;  ///< DRAM -> input buffer (without padding)
  uint64_t bytesToWeight = 0; ///< DRAM -> weight buffer (without padding)
  uint64_t bytesToDram = 0;   ///< output buffer -> DRAM
  uint64_t paddingBytes = 0;  ///< pad_value bytes written by loads
  uint64_t usefulMacs = 0;    ///< multiply-accumulates the layers need

  uint64_t totalMacCycles() const;
  /// usefulMacs / (MAC cycles * Tn * Tm), 0 without MAC cycles.
  double peUtilization(const Target &t) const;
};

/// When one instruction ran and for how long (runProgram's optional
/// per-instruction record; cycles are data-independent, so one run of any
/// input gives a program's figures).
struct InstrTiming {
  uint64_t start = 0;
  uint64_t cycles = 0;
  uint64_t twoWordCycles = 0; ///< a shift2 mac's cycles on two-word tiles
};

/// Runs `p` once. `inputs` holds one tensor per input TensorDesc, in table
/// order, of exactly its bytes(); `outputs` receives one per output
/// TensorDesc. DRAM starts as the data segment followed by zeros, the
/// buffers as zeros. With `workLimit` > 0, the run stops with an error
/// before the summed instrWork() of the executed instructions would exceed
/// it. Returns "" or the reason (an execution error names the instruction's
/// index); `stats` is only updated by a run that completes. `timing`, when
/// given, receives one entry per instruction.
std::string runProgram(const Program &p,
                       const std::vector<std::vector<int8_t>> &inputs,
                       std::vector<std::vector<int8_t>> &outputs,
                       SimStats &stats, uint64_t workLimit = 0,
                       std::vector<InstrTiming> *timing = nullptr);

/// A human-readable report of `stats` over `samples` runs: per-sample
/// averages and totals.
std::string reportText(const Program &p, const SimStats &stats,
                       uint64_t samples);
/// The same figures as one JSON object.
std::string reportJson(const Program &p, const SimStats &stats,
                       uint64_t samples);

} // namespace accel
} // namespace lowbit

#endif // LOWBIT_ACCEL_SIM_H
