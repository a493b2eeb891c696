#!/usr/bin/python3
"""Writes one-node ConvTranspose models for the importer's lit tests and the
ONNX Runtime oracle (test/Oracle/convtranspose_oracle.py).

    make_convtranspose.py CASE OUT.onnx
    make_convtranspose.py --list          # the valid cases, one per line

Weights and biases come from a fixed seed per case.
"""
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

F = TensorProto.FLOAT

# name: (input shape, weight shape, attributes, bias?)
VALID = {
    "s1": ([1, 2, 5, 5], [2, 3, 3, 3], dict(pads=[1, 1, 1, 1]), True),
    "s2": ([1, 3, 4, 5], [3, 2, 2, 2], dict(strides=[2, 2]), True),
    "s2_nobias": ([1, 3, 4, 5], [3, 2, 2, 2], dict(strides=[2, 2]), False),
    "k4s2p1": ([1, 2, 4, 4], [2, 3, 4, 4], dict(strides=[2, 2], pads=[1, 1, 1, 1]), True),
    "outpad": ([1, 2, 4, 3], [2, 2, 3, 3],
               dict(strides=[2, 2], pads=[1, 1, 1, 1], output_padding=[1, 1]), True),
    "asym": ([1, 2, 4, 5], [2, 2, 3, 2],
             dict(strides=[3, 2], pads=[0, 1, 2, 0], output_padding=[2, 0]), True),
    "groups": ([1, 4, 3, 4], [4, 3, 3, 3],
               dict(strides=[2, 2], pads=[1, 1, 1, 1], output_padding=[1, 1], group=2), True),
    "depthwise": ([1, 4, 4, 4], [4, 2, 2, 2], dict(strides=[2, 2], group=4), True),
    "dilation": ([1, 2, 5, 5], [2, 3, 3, 3], dict(dilations=[2, 2], pads=[1, 2, 1, 2]), True),
    "dilation_s2": ([1, 2, 4, 4], [2, 2, 3, 3],
                    dict(strides=[2, 2], dilations=[2, 1], pads=[2, 1, 1, 1]), True),
    "same_upper": ([1, 2, 4, 5], [2, 2, 4, 3], dict(strides=[2, 2], auto_pad="SAME_UPPER"), True),
    "same_lower": ([1, 2, 4, 5], [2, 2, 4, 3], dict(strides=[2, 2], auto_pad="SAME_LOWER"), True),
    "valid": ([1, 2, 3, 4], [2, 2, 3, 3], dict(strides=[2, 2], auto_pad="VALID"), True),
    "output_shape": ([1, 2, 4, 4], [2, 2, 3, 3], dict(strides=[2, 2], output_shape=[8, 9]), True),
    "outshape_upper": ([1, 2, 4, 4], [2, 2, 3, 3], dict(strides=[2, 2], output_shape=[8, 7], auto_pad="SAME_UPPER"), True),
    "same_k1": ([1, 2, 3, 4], [2, 2, 1, 1], dict(strides=[2, 2], auto_pad="SAME_UPPER"), True),
    "outshape_total5": ([1, 2, 4, 4], [2, 2, 3, 3], dict(strides=[2, 2], output_shape=[4, 6]), True),
    "big_pads": ([1, 2, 6, 6], [2, 2, 2, 2], dict(strides=[2, 2], pads=[2, 3, 1, 0]), True),
    "k1s2": ([1, 2, 3, 3], [2, 2, 1, 1], dict(strides=[2, 2]), True),
    "conv1d": ([1, 2, 6], [2, 3, 3], dict(strides=[2], pads=[1, 0], output_padding=[1]), True),
    "kernel_shape": ([1, 2, 3, 3], [2, 2, 3, 3], dict(strides=[2, 2], kernel_shape=[3, 3]), True),
}

# Bad attribute values: each must be a located error.
BAD = {
    "bad_outpad": ([1, 2, 4, 4], [2, 2, 3, 3], dict(strides=[2, 2], output_padding=[2, 0])),
    "bad_outshape": ([1, 2, 4, 4], [2, 2, 3, 3], dict(strides=[2, 2], output_shape=[8, -1])),
    "bad_outshape_big": ([1, 2, 3, 3], [2, 2, 3, 3], dict(strides=[2, 2], output_shape=[9, 10])),
    "bad_size": ([1, 2, 2, 2], [2, 2, 2, 2], dict(pads=[2, 0, 2, 0])),
    "bad_kernel": ([1, 2, 4, 4], [2, 2, 3, 3], dict(kernel_shape=[2, 2])),
    "bad_group": ([1, 3, 4, 4], [3, 2, 3, 3], dict(group=2)),
    "bad_weight": ([1, 4, 4, 4], [3, 2, 3, 3], dict()),
    "bad_strides": ([1, 2, 4, 4], [2, 2, 3, 3], dict(strides=[2])),
    "bad_negpad": ([1, 2, 4, 4], [2, 2, 3, 3], dict(pads=[-1, 0, 0, 0])),
    "bad_autopad": ([1, 2, 4, 4], [2, 2, 3, 3], dict(auto_pad="SAME")),
    "bad_pads_autopad": ([1, 2, 4, 4], [2, 2, 3, 3], dict(auto_pad="VALID", pads=[1, 1, 1, 1])),
    "bad_outshape_full": ([1, 2, 4, 4], [2, 3, 3, 3], dict(strides=[2, 2], output_shape=[1, 3, 8, 8])),
    "bad_zero_stride": ([1, 2, 4, 4], [2, 2, 3, 3], dict(strides=[0, 1])),
}


def build(case):
    if case in VALID:
        xs, ws, attrs, has_bias = VALID[case]
    elif case == "weight_input":
        xs, ws, attrs, has_bias = [1, 2, 4, 4], [2, 2, 3, 3], {}, False
    else:
        xs, ws, attrs = BAD[case]
        has_bias = False
    rng = np.random.RandomState(sum(map(ord, case)))
    w = rng.randn(*ws).astype(np.float32)
    group = attrs.get("group", 1)
    inits = []
    inputs = [helper.make_tensor_value_info("x", F, xs)]
    if case == "weight_input":
        inputs.append(helper.make_tensor_value_info("w", F, ws))
    else:
        inits.append(numpy_helper.from_array(w, "w"))
    ins = ["x", "w"]
    if has_bias:
        inits.append(numpy_helper.from_array(
            rng.randn(ws[1] * group).astype(np.float32), "b"))
        ins.append("b")
    node = helper.make_node("ConvTranspose", ins, ["y"], name="ct", **attrs)
    graph = helper.make_graph([node], "ct", inputs,
                              [helper.make_tensor_value_info("y", F, None)], inits)
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 11)])
    m.ir_version = 6
    return m


if __name__ == "__main__":
    if sys.argv[1:] == ["--list"]:
        print("\n".join(VALID))
        sys.exit(0)
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    onnx.save(build(sys.argv[1]), sys.argv[2])
