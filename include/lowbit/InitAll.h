//===- InitAll.h - Register every dialect and pass lowbit uses --*- C++ -*-===//
//
// Part of the lowbit project.
//
//===----------------------------------------------------------------------===//

#ifndef LOWBIT_INITALL_H
#define LOWBIT_INITALL_H

namespace mlir {
class DialectRegistry;
} // namespace mlir

namespace lowbit {

/// Adds the dialects a lowbit pipeline reads and writes: func, arith, tensor,
/// tosa, quant, emitc and lowbit.
void registerAllDialects(mlir::DialectRegistry &registry);

/// Registers lowbit's passes, its named pipelines
/// (lowbit/Pipelines/Pipelines.h) and the upstream passes they use.
void registerAllPasses();

} // namespace lowbit

#endif // LOWBIT_INITALL_H
