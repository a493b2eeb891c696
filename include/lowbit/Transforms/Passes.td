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

#endif // LOWBIT_TRANSFORMS_PASSES_TD
