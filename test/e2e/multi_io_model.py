#!/usr/bin/python3
"""Writes a small ONNX model with two inputs and two outputs, and random
sample files for it (a detector-like graph: a feature input, a second input
added in, a pooled head and a 1x1 head).

    multi_io_model.py OUT_DIR

OUT_DIR/multi_io.onnx: x [1,3,8,8] -> Conv 3x3 -> + z [1,4,8,8] -> Relu
-> MaxPool 2x2 -> y1 [1,4,4,4], and -> Conv 1x1 -> y2 [1,2,8,8];
OUT_DIR/{x,z}_calib.npy (16 samples) and {x,z}_test.npy (8 samples).
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    rng = np.random.RandomState(11)
    w1 = rng.randn(4, 3, 3, 3).astype(np.float32) * 0.4
    b1 = rng.randn(4).astype(np.float32) * 0.1
    w2 = rng.randn(2, 4, 1, 1).astype(np.float32) * 0.5
    b2 = rng.randn(2).astype(np.float32) * 0.1
    nodes = [
        helper.make_node("Conv", ["x", "w1", "b1"], ["c"], name="conv1",
                         pads=[1, 1, 1, 1]),
        helper.make_node("Add", ["c", "z"], ["s"], name="add"),
        helper.make_node("Relu", ["s"], ["r"], name="relu"),
        helper.make_node("MaxPool", ["r"], ["y1"], name="pool",
                         kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("Conv", ["r", "w2", "b2"], ["y2"], name="conv2"),
    ]
    vi = helper.make_tensor_value_info
    graph = helper.make_graph(
        nodes, "multi_io",
        [vi("x", TensorProto.FLOAT, [1, 3, 8, 8]),
         vi("z", TensorProto.FLOAT, [1, 4, 8, 8])],
        [vi("y1", TensorProto.FLOAT, [1, 4, 4, 4]),
         vi("y2", TensorProto.FLOAT, [1, 2, 8, 8])],
        [numpy_helper.from_array(w1, "w1"), numpy_helper.from_array(b1, "b1"),
         numpy_helper.from_array(w2, "w2"), numpy_helper.from_array(b2, "b2")])
    model = helper.make_model(graph,
                              opset_imports=[helper.make_opsetid("", 13)])
    onnx.checker.check_model(model)
    onnx.save(model, os.path.join(out, "multi_io.onnx"))
    for tag, n in (("calib", 16), ("test", 8)):
        np.save(os.path.join(out, "x_%s.npy" % tag),
                rng.randn(n, 3, 8, 8).astype(np.float32))
        np.save(os.path.join(out, "z_%s.npy" % tag),
                rng.randn(n, 4, 8, 8).astype(np.float32))


if __name__ == "__main__":
    main()
