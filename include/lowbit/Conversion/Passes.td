//===- Passes.td - lowbit conversion passes ----------------*- tablegen -*-===//
//
// Part of the lowbit project.
//
//===----------------------------------------------------------------------===//

#ifndef LOWBIT_CONVERSION_PASSES_TD
#define LOWBIT_CONVERSION_PASSES_TD

include "mlir/Pass/PassBase.td"

def ConvertLowBitToEmitC : Pass<"convert-lowbit-to-emitc", "::mlir::ModuleOp"> {
  let summary = "Lower an integer lowbit function to EmitC calls of the lowbit runtime";
  let description = [{
    Turns the module's integer-only `func.func` (the output of
    `convert-tosa-to-lowbit`) into EmitC that MLIR's C++ emitter prints:

    - `emitc.func @<name>_run(const T *in..., T *out..., void *arena) -> i32`
      calls one `lowbit::rt` function (runtime/include/lowbit/runtime/Ops.h)
      per op, the same functions the reference evaluator calls, so the two
      agree bit for bit;
    - `emitc.func @<name>_run_float(const float *in..., float *out...,
      void *arena) -> i32` quantizes the inputs, runs, and dequantizes the
      outputs with the runtime's rules;
    - every tensor lives at a fixed offset of the caller's arena, planned
      from tensor lifetimes (first fit, 64-byte aligned): the generated code
      allocates nothing and has no mutable state, so it is reentrant; views
      (`lowbit.reshape`) share their input's buffer, and a result that is
      not a view is computed straight into the caller's output buffer;
    - constants (weights, biases, multiplier arrays, shapes) are packed into
      one blob read through `<name>_weights`, 64-byte aligned.

    The module gets attributes for the files around the C++: `lowbit.weights`
    (the blob, `tensor<Nxi8>`), `lowbit.header` (the C header text) and
    `lowbit.arena_bytes`. Ops without an integer kernel are errors naming the
    op.
  }];
  let options = [
    Option<"modelName", "model-name", "std::string", /*default=*/"\"model\"",
           "Prefix of the generated symbols (a C identifier)">,
  ];
  let dependentDialects = ["::mlir::emitc::EmitCDialect"];
}

#endif // LOWBIT_CONVERSION_PASSES_TD
