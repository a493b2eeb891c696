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
      calls one `lowbit::rt` function per op: the reference kernels of
      runtime/include/lowbit/runtime/Ops.h, which the evaluator calls too,
      or, where one applies, a fast kernel of lowbit/runtime/Fast.h that the
      runtime's tests hold bit-exact against them. A `lowbit.conv2d` or
      `lowbit.fully_connected` whose int32 accumulator only feeds a
      `lowbit.requant` (8-bit input, weights and result, constant weights
      and bias, groups 1 or depthwise) becomes one call
      (`convRequantGemm` / `depthwiseRequant`) on weights packed here with
      Fast.h's packing functions; its accumulator gets no arena space. Adds
      of 8-bit tensors whose intermediates fit 32 bits (`addFitsInt32`),
      8-bit max pools and the float API's quantization run on Fast.h too.
      The kernel path (portable, AVX2, AVX-VNNI, AVX-512 VNNI) is chosen at
      run time by `lowbit::rt::modelIsa()`;
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
