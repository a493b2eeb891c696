//===- AccelDialect.td - accel dialect definition ----------*- tablegen -*-===//
//
// Part of the lowbit project.
//
//===----------------------------------------------------------------------===//

#ifndef LOWBIT_DIALECT_ACCEL_IR_ACCELDIALECT_TD
#define LOWBIT_DIALECT_ACCEL_IR_ACCELDIALECT_TD

include "mlir/IR/OpBase.td"

def Accel_Dialect : Dialect {
  let name = "accel";
  let cppNamespace = "::mlir::accel";
  let summary = "Instructions of lowbit's tile accelerator";
  let description = [{
    One op per instruction of the tile accelerator that `lowbitc
    --target=accel` compiles for and `accel-sim` executes, inside an
    `accel.program` that carries the target description, the DRAM size, the
    data segment and the graph's inputs and outputs. The instruction set,
    its encoding, its cost model and the target description's keys are
    defined once in `runtime/include/lowbit/accel/Isa.h`; every verifier
    here calls that header's `checkInstr` with the program's target, so an
    op that verifies is an instruction the simulator accepts.
  }];
}

#endif // LOWBIT_DIALECT_ACCEL_IR_ACCELDIALECT_TD
