// A small quantized CNN block in the lowbit integer dialect, as the
// quantizer will produce it: conv -> requant -> PReLU -> max-pool ->
// depthwise conv -> requant -> ReLU6 -> global average pool -> classifier.
// `scripts/run-example.sh` runs the lowbit pipeline over it:
//
//   lowbit-opt prelu_block.mlir --lowbit-fold-prelu-requant --canonicalize --cse
//
// which folds the PReLU into a dual-multiplier requant (adaptive-bit-depth
// eq. 5) and absorbs the ReLU6 clamp into the requant's saturation range.

!act  = !quant.uniform<i8:f32, 0.0235:-9>
!act2 = !quant.uniform<i8:f32, 0.047:-128>
!act3 = !quant.uniform<i8:f32, 0.031:-128>
!w1   = !quant.uniform<i8<-127:127>:f32:0, {0.0042, 0.0051, 0.0038, 0.0047}>
!wdw  = !quant.uniform<i4<-7:7>:f32, 0.11>
!wfc  = !quant.uniform<i8<-127:127>:f32, 0.0093>
!out  = !quant.uniform<i8:f32, 0.125:12>

func.func @block(%x: tensor<1x8x8x3x!act>) -> tensor<1x10x!out> {
  %w1 = lowbit.constant dense<[
    [[[12, -7, 3], [-4, 5, 9], [1, 0, -2]], [[7, 7, -7], [3, -1, 4], [8, -9, 2]], [[0, 1, 2], [-3, 4, -5], [6, -7, 8]]],
    [[[-12, 17, 3], [4, -5, 29], [-1, 10, 2]], [[5, 6, 7], [8, 9, 10], [11, 12, 13]], [[-1, -2, -3], [-4, -5, -6], [-7, -8, -9]]],
    [[[2, 2, 2], [2, 2, 2], [2, 2, 2]], [[-20, 40, -60], [80, -100, 120], [-127, 127, 0]], [[3, 1, 4], [1, 5, 9], [2, 6, 5]]],
    [[[9, -8, 7], [-6, 5, -4], [3, -2, 1]], [[0, 0, 0], [0, 50, 0], [0, 0, 0]], [[-3, -1, -4], [-1, -5, -9], [-2, -6, -5]]]
  ]> : tensor<4x3x3x3xi8> -> tensor<4x3x3x3x!w1>
  %b1 = arith.constant dense<[120, -340, 56, 0]> : tensor<4xi32>
  %acc1 = lowbit.conv2d %x, %w1, %b1 {pad = array<i64: 1, 1, 1, 1>}
    : (tensor<1x8x8x3x!act>, tensor<4x3x3x3x!w1>, tensor<4xi32>) -> tensor<1x8x8x4xi32>
  // Per-channel requant to the PReLU's input scale (0.0235 * w_scale / 0.047).
  %y1 = lowbit.requant %acc1 {multiplier = array<i32: 1154487209, 1401877325, 2089072093, 1291926163>,
                              shift = array<i32: 39, 39, 40, 39>, axis = 3 : i64}
    : tensor<1x8x8x4xi32> -> tensor<1x8x8x4x!quant.uniform<i8:f32, 0.047:-2>>
  // PReLU with learned slopes 0.25, 0.1, 0.3, 0.05 into the block scale.
  %p1 = lowbit.prelu %y1 {pos_multiplier = 1073741824 : i32, pos_shift = 30 : i32,
                          neg_multiplier = array<i32: 1073741824, 1717986918, 1288490189, 1717986918>,
                          neg_shift = array<i32: 32, 34, 32, 35>, axis = 3 : i64}
    : tensor<1x8x8x4x!quant.uniform<i8:f32, 0.047:-2>> -> tensor<1x8x8x4x!act2>
  %m1 = lowbit.max_pool %p1 {kernel = array<i64: 2, 2>, stride = array<i64: 2, 2>}
    : tensor<1x8x8x4x!act2> -> tensor<1x4x4x4x!act2>
  // 4-bit depthwise convolution.
  %wdw = lowbit.constant dense<[[[[1], [-2], [3]], [[-4], [5], [-6]], [[7], [-7], [0]]],
                                [[[2], [2], [2]], [[2], [-7], [2]], [[2], [2], [2]]],
                                [[[0], [1], [0]], [[1], [-4], [1]], [[0], [1], [0]]],
                                [[[-1], [-1], [-1]], [[-1], [7], [-1]], [[-1], [-1], [-1]]]]>
    : tensor<4x3x3x1xi4> -> tensor<4x3x3x1x!wdw>
  %acc2 = lowbit.conv2d %m1, %wdw {groups = 4 : i64, pad = array<i64: 1, 1, 1, 1>}
    : (tensor<1x4x4x4x!act2>, tensor<4x3x3x1x!wdw>) -> tensor<1x4x4x4xi32>
  %y2 = lowbit.requant %acc2 {multiplier = array<i32: 1432579414>, shift = array<i32: 33>}
    : tensor<1x4x4x4xi32> -> tensor<1x4x4x4x!act3>
  %r2 = lowbit.clamp %y2 {min = -128 : i64, max = 66 : i64} : tensor<1x4x4x4x!act3>
  %g = lowbit.global_avg_pool %r2 : tensor<1x4x4x4x!act3> -> tensor<1x1x1x4x!act3>
  %f = lowbit.reshape %g : tensor<1x1x1x4x!act3> -> tensor<1x4x!act3>
  %wfc = lowbit.constant dense<[[10, -20, 30, -40], [50, -60, 70, -80], [90, -100, 110, -120], [127, 0, -127, 1],
                                [1, 2, 3, 4], [-5, -6, -7, -8], [9, 10, 11, 12], [-13, 14, -15, 16],
                                [17, -18, 19, -20], [0, 0, 0, 0]]> : tensor<10x4xi8> -> tensor<10x4x!wfc>
  %bfc = arith.constant dense<[347, -694, 1041, -1388, 1734, -2081, 2428, -2775, 3122, -3469]> : tensor<10xi32>
  %acc3 = lowbit.fully_connected %f, %wfc, %bfc
    : (tensor<1x4x!act3>, tensor<10x4x!wfc>, tensor<10xi32>) -> tensor<1x10xi32>
  %logits = lowbit.requant %acc3 {multiplier = array<i32: 1267956809>, shift = array<i32: 39>}
    : tensor<1x10xi32> -> tensor<1x10x!out>
  return %logits : tensor<1x10x!out>
}
