//===- Passes.td - lowbit dialect passes -------------------*- tablegen -*-===//
//
// Part of the lowbit project.
//
//===----------------------------------------------------------------------===//

#ifndef LOWBIT_DIALECT_LOWBIT_TRANSFORMS_PASSES_TD
#define LOWBIT_DIALECT_LOWBIT_TRANSFORMS_PASSES_TD

include "mlir/Pass/PassBase.td"

def LowBitFoldPReluRequant : Pass<"lowbit-fold-prelu-requant"> {
  let summary = "Fold a PReLU into the requant that produces its input";
  let description = [{
    A quantized convolution followed by a PReLU needs two rescalings: the
    accumulator is requantized to the PReLU's input scale, then the PReLU
    rescales positive and negative values separately. Following
    adaptive-bit-depth-control eq. 5, the two fold into one dual-multiplier
    requant straight from the accumulator to the PReLU's output scale:

    `M_pos = S_w * S_i / S_o` and `M_neg = alpha * S_w * S_i / S_o`,

    computed here as the product of the two real scales, converted once with
    the runtime's `computeMultiplier`. The folded form is more accurate than
    the pair it replaces (one rounding instead of two, and no intermediate
    saturation), so results may differ from the unfolded IR by the rounding
    it removes.

    The fold applies when the requant has no other user, has no second
    multiplier set yet, saturates to its full storage range (a narrowed range
    is a ReLU/Clip whose effect the fold would drop), and both ops use the
    same rounding and compatible per-channel axes.

    Before:

    ```mlir
    %y = lowbit.requant %acc {multiplier = array<i32: 1073741824>,
                              shift = array<i32: 36>}
      : tensor<1x4x4x8xi32> -> tensor<1x4x4x8x!quant.uniform<i8:f32, 0.1:3>>
    %p = lowbit.prelu %y {pos_multiplier = 1073741824 : i32, pos_shift = 30 : i32,
                          neg_multiplier = array<i32: 1073741824>,
                          neg_shift = array<i32: 33>}
      : tensor<1x4x4x8x!quant.uniform<i8:f32, 0.1:3>>
      -> tensor<1x4x4x8x!quant.uniform<i8:f32, 0.1:-2>>
    ```

    After:

    ```mlir
    %p = lowbit.requant %acc {multiplier = array<i32: 1073741824>,
                              shift = array<i32: 36>,
                              neg_multiplier = array<i32: 1073741824>,
                              neg_shift = array<i32: 39>}
      : tensor<1x4x4x8xi32> -> tensor<1x4x4x8x!quant.uniform<i8:f32, 0.1:-2>>
    ```
  }];
  let dependentDialects = ["::mlir::lowbit::LowBitDialect"];
}

#endif // LOWBIT_DIALECT_LOWBIT_TRANSFORMS_PASSES_TD
