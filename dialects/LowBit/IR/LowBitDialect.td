//===- LowBitDialect.td - lowbit dialect definition --------*- tablegen -*-===//
//
// Part of the lowbit project.
//
//===----------------------------------------------------------------------===//

#ifndef LOWBIT_DIALECT_LOWBIT_IR_LOWBITDIALECT_TD
#define LOWBIT_DIALECT_LOWBIT_IR_LOWBITDIALECT_TD

include "mlir/IR/OpBase.td"

def LowBit_Dialect : Dialect {
  let name = "lowbit";
  let cppNamespace = "::mlir::lowbit";
  let summary = "Integer-level IR of a quantized neural network";
  let description = [{
    The `lowbit` dialect describes a quantized network after calibration, on
    tensors, in integers only. Activations and uniform weights use the
    upstream `quant` dialect's types (`!quant.uniform<i8:f32, 0.05:-3>`,
    per-axis and sub-channel forms, storage of 2 to 16 bits, signed or
    unsigned). Non-uniform weight encodings are lowbit attributes on the op
    that consumes the weights: `#lowbit.log` (one power-of-two word per
    weight) and `#lowbit.stlq` (selective two-word log quantization decided
    per weight tile).

    Layouts: activations are NHWC, convolution weights OHWI (O output
    channels, I = C / groups input channels), fully-connected weights OI.
    Accumulators are plain signless integers (`i32`, or `i64` where a range
    proof needs it) whose scale is input scale × weight scale.

    Every rescaling uses one rule, defined in the runtime header
    `lowbit/runtime/Requant.h` (TOSA 1.0 `apply_scale_32`):
    `floor((x * M + 2^(s-1)) / 2^s)` with M in [0, 2^31) and s in [2, 62],
    then the output zero point and saturation.
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::quant::QuantDialect"];
  let useDefaultAttributePrinterParser = 1;
  let hasConstantMaterializer = 1;
}

class LowBit_Op<string mnemonic, list<Trait> traits = []>
    : Op<LowBit_Dialect, mnemonic, traits>;

#endif // LOWBIT_DIALECT_LOWBIT_IR_LOWBITDIALECT_TD
