//===- Passes.h - lowbit conversion passes ----------------------*- C++ -*-===//
//
// Part of the lowbit project.
//
//===----------------------------------------------------------------------===//

#ifndef LOWBIT_CONVERSION_PASSES_H
#define LOWBIT_CONVERSION_PASSES_H

#include "Accel/IR/AccelDialect.h"

#include "mlir/Dialect/EmitC/IR/EmitC.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"

namespace lowbit {

/// On the function: the adaptive bit depth control of its input blocks
/// (lowbitc --input-bit-depth; lowbit/runtime/BitDepth.h), a dictionary of
/// input_bits, network_bits, block, mode (adaptive, truncate or none),
/// dither and seed. convert-lowbit-to-emitc then also emits
/// <name>_run_blocks.
inline constexpr llvm::StringLiteral kBitDepthAttrName = "lowbit.bit_depth";

#define GEN_PASS_DECL
#include "lowbit/Conversion/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "lowbit/Conversion/Passes.h.inc"

} // namespace lowbit

#endif // LOWBIT_CONVERSION_PASSES_H
