#!/usr/bin/python3
"""Evaluates a small ONNX model with onnx's own numpy reference semantics
for the few ops the importer tests use, and compares with lowbitc's output.

Usage: reference.py MODEL.onnx INPUT.npy OUTPUT.npy
Prints "max abs err E ok" or "max abs err E MISMATCH".
"""
import sys

import numpy as np
import onnx
import torch
import torch.nn.functional as F
from onnx import numpy_helper


def run(model, x):
    env = {i.name: numpy_helper.to_array(i) for i in model.graph.initializer}
    env[model.graph.input[0].name] = x
    t = lambda n: torch.tensor(env[n])
    for node in model.graph.node:
        a = {at.name: onnx.helper.get_attribute_value(at) for at in node.attribute}
        if node.op_type == "Conv":
            p = a.get("pads", [0, 0, 0, 0])
            xin = F.pad(t(node.input[0]), (p[1], p[3], p[0], p[2]))
            b = t(node.input[2]) if len(node.input) > 2 else None
            y = F.conv2d(xin, t(node.input[1]), b, stride=a.get("strides", 1),
                         groups=a.get("group", 1))
        elif node.op_type == "BatchNormalization":
            y = F.batch_norm(t(node.input[0]), t(node.input[3]),
                             t(node.input[4]), t(node.input[1]),
                             t(node.input[2]), eps=a.get("epsilon", 1e-5))
        elif node.op_type == "MaxPool":
            y = F.max_pool2d(t(node.input[0]), a["kernel_shape"],
                             a.get("strides"))
        elif node.op_type == "Relu":
            y = torch.relu(t(node.input[0]))
        else:
            sys.exit("reference.py: no reference for " + node.op_type)
        env[node.output[0]] = y.numpy()
    return env[model.graph.output[0].name]


def main():
    model = onnx.load(sys.argv[1])
    want = run(model, np.load(sys.argv[2]))
    got = np.load(sys.argv[3])
    err = float(np.abs(want - got).max())
    print("max abs err %.3g %s" % (err, "ok" if err < 1e-4 else "MISMATCH"))


if __name__ == "__main__":
    main()
