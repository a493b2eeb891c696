//===- Passes.td - lowbit passes on upstream dialects ------*- tablegen -*-===//
//
// Part of the lowbit project.
//
//===----------------------------------------------------------------------===//

#ifndef LOWBIT_TRANSFORMS_PASSES_TD
#define LOWBIT_TRANSFORMS_PASSES_TD

include "mlir/Pass/PassBase.td"

def LowBitSinkTransposes : Pass<"lowbit-sink-transposes"> {
  let summary = "Move tosa.transpose ops below elementwise ops so pairs cancel";
  let description = [{
    The ONNX importer keeps ONNX's NCHW layout and wraps every NHWC TOSA
    convolution and pool in transposes. Between two convolutions the
    transposes are separated by elementwise ops (ReLU, PReLU, bias adds,
    BatchNorm multiply-adds), so they do not cancel by themselves. This pass
    sinks a transpose through every elementwise op whose other operands are
    the same transpose or constants (constants are transposed the other way,
    which canonicalization folds), so that the pair meets and cancels:

    ```mlir
    %t = tosa.transpose %conv {perms = array<i32: 0, 3, 1, 2>}
    %r = tosa.clamp %t {...}
    %u = tosa.transpose %r {perms = array<i32: 0, 2, 3, 1>}
    %p = tosa.max_pool2d %u {...}
    ```

    becomes (after canonicalization)

    ```mlir
    %r = tosa.clamp %conv {...}
    %p = tosa.max_pool2d %r {...}
    ```

    Values are unchanged: elementwise ops commute with a permutation of
    their operands.
  }];
  let dependentDialects = ["::mlir::tosa::TosaDialect"];
}

def LowBitInputAffineToDepthwise
    : Pass<"lowbit-input-affine-to-depthwise", "::mlir::func::FuncOp"> {
  let summary = "Turn input normalization into a 1x1 depthwise convolution";
  let description = [{
    Models often normalize their input inside the graph: `(x - mean) / std`
    with per-channel constants (ONNX Sub and Div, which the importer makes
    `tosa.sub` and `tosa.mul` by `tosa.reciprocal` of a constant). The
    integer target has no kernel for an elementwise op with a constant, but
    a per-channel affine map `y = K x + C` is a 1x1 depthwise convolution
    with weights `K` and bias `C`, which it quantizes and runs like any
    layer (one weight per channel, so symmetric per-channel quantization
    keeps it to float32 precision).

    This pass rewrites every chain of `tosa.add`, `tosa.sub` and `tosa.mul`
    (shift 0) by constants that starts at a rank-4 float function argument
    and whose constants are per-channel along dimension 1 (NCHW; the
    depthwise convolution is wrapped in transposes, which cancel against
    the importer's) or dimension 3 (NHWC), or scalars. Values are unchanged
    up to float32 rounding: the chain's constants are composed in double.
    `lowbitc --calibration` runs it before calibration.
  }];
  let dependentDialects = ["::mlir::tosa::TosaDialect"];
}

#endif // LOWBIT_TRANSFORMS_PASSES_TD
