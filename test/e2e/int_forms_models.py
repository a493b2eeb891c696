#!/usr/bin/python3
"""Small ONNX models for the integer forms of issue 21's ops.

    int_forms_models.py NAME OUT.onnx

- `functions`: convolutions separated by elementwise functions of one
  activation (Sigmoid, Tanh, SiLU x * sigmoid(x), HardSwish, GELU in its
  erf-free tanh form 0.5 x (1 + tanh(0.79788 (x + 0.044715 x^3)))):
  each a lookup table on the integer target;
- `se_gate`: a squeeze-and-excitation block (global average pool, 1x1
  convolutions, ReLU, Sigmoid gate times the features): a table and a
  broadcasting product of two activations;
- `attention`: one self-attention head on a [1, 16, 32] sequence (Q, K, V
  projections, Q K^T / sqrt(d), Softmax, times V, an output projection):
  two matrix products of activations and a Softmax;
- `softmax`: logits of a [1, 16, 64] sequence and their Softmax, the
  model's output (the integer softmax's error against float).
"""
import sys

import numpy as np
from onnx import TensorProto, helper, numpy_helper

F = TensorProto.FLOAT
rng = np.random.RandomState(21)


def init(name, array):
    return numpy_helper.from_array(np.asarray(array), name)


def vi(name, shape):
    return helper.make_tensor_value_info(name, F, shape)


def model(nodes, inputs, outputs, inits, opset=13):
    g = helper.make_graph(nodes, "g", inputs, outputs, inits)
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)])


def conv(name, x, y, w):
    return helper.make_node("Conv", [x, name + "_w"], [y], name=name,
                            pads=[1, 1, 1, 1] if w.shape[2] == 3 else [0] * 4)


def functions():
    ws = [rng.randn(8, 3, 3, 3), rng.randn(8, 8, 3, 3) * 0.3,
          rng.randn(8, 8, 1, 1) * 0.4, rng.randn(8, 8, 1, 1) * 0.4,
          rng.randn(4, 8, 1, 1) * 0.4]
    ws = [w.astype(np.float32) for w in ws]
    nodes = [conv("c1", "x", "a1", ws[0]),
             helper.make_node("Sigmoid", ["a1"], ["s1"], name="sigmoid"),
             conv("c2", "s1", "a2", ws[1]),
             helper.make_node("Tanh", ["a2"], ["t2"], name="tanh"),
             conv("c3", "t2", "a3", ws[2]),
             helper.make_node("Sigmoid", ["a3"], ["g3"], name="silu_sig"),
             helper.make_node("Mul", ["a3", "g3"], ["s3"], name="silu"),
             conv("c4", "s3", "a4", ws[3]),
             helper.make_node("HardSwish", ["a4"], ["h4"], name="hardswish"),
             conv("c5", "h4", "a5", ws[4]),
             # GELU, tanh approximation, written out as torch exports it
             helper.make_node("Mul", ["a5", "a5"], ["sq"], name="gelu_sq"),
             helper.make_node("Mul", ["sq", "a5"], ["cube"], name="gelu_cube"),
             helper.make_node("Mul", ["cube", "k1"], ["kc"], name="gelu_k1"),
             helper.make_node("Add", ["a5", "kc"], ["inner"], name="gelu_add"),
             helper.make_node("Mul", ["inner", "k2"], ["scaled"],
                              name="gelu_k2"),
             helper.make_node("Tanh", ["scaled"], ["th"], name="gelu_tanh"),
             helper.make_node("Add", ["th", "one"], ["th1"], name="gelu_one"),
             helper.make_node("Mul", ["a5", "th1"], ["xt"], name="gelu_mul"),
             helper.make_node("Mul", ["xt", "half"], ["y"], name="gelu_half")]
    inits = [init("c%d_w" % (i + 1), w) for i, w in enumerate(ws)]
    inits += [init("k1", np.float32(0.044715)),
              init("k2", np.float32(0.7978845608)),
              init("one", np.float32(1.0)), init("half", np.float32(0.5))]
    return model(nodes, [vi("x", [1, 3, 8, 8])], [vi("y", [1, 4, 8, 8])],
                 inits, opset=14)


def se_gate():
    w1 = (rng.randn(8, 3, 3, 3) * 0.5).astype(np.float32)
    wr = (rng.randn(4, 8, 1, 1) * 0.5).astype(np.float32)
    we = (rng.randn(8, 4, 1, 1) * 0.5).astype(np.float32)
    w2 = (rng.randn(4, 8, 1, 1) * 0.5).astype(np.float32)
    nodes = [conv("c1", "x", "a", w1),
             helper.make_node("Relu", ["a"], ["r"], name="relu"),
             helper.make_node("GlobalAveragePool", ["r"], ["p"], name="pool"),
             conv("reduce", "p", "pr", wr),
             helper.make_node("Relu", ["pr"], ["prr"], name="relu2"),
             conv("expand", "prr", "pe", we),
             helper.make_node("Sigmoid", ["pe"], ["gate"], name="gate"),
             helper.make_node("Mul", ["r", "gate"], ["scaled"], name="excite"),
             conv("c2", "scaled", "y", w2)]
    inits = [init("c1_w", w1), init("reduce_w", wr), init("expand_w", we),
             init("c2_w", w2)]
    return model(nodes, [vi("x", [1, 3, 8, 8])], [vi("y", [1, 4, 8, 8])],
                 inits)


def attention():
    d = 32
    wq, wk, wv, wo = [(rng.randn(d, d) / np.sqrt(d)).astype(np.float32)
                      for _ in range(4)]
    nodes = [helper.make_node("MatMul", ["x", "wq"], ["q"], name="q"),
             helper.make_node("MatMul", ["x", "wk"], ["k"], name="k"),
             helper.make_node("MatMul", ["x", "wv"], ["v"], name="v"),
             helper.make_node("Transpose", ["k"], ["kt"], name="kt",
                              perm=[0, 2, 1]),
             helper.make_node("MatMul", ["q", "kt"], ["s"], name="qk"),
             helper.make_node("Mul", ["s", "scale"], ["ss"], name="scale"),
             helper.make_node("Softmax", ["ss"], ["p"], name="softmax",
                              axis=-1),
             helper.make_node("MatMul", ["p", "v"], ["o"], name="pv"),
             helper.make_node("MatMul", ["o", "wo"], ["y"], name="out")]
    inits = [init("wq", wq), init("wk", wk), init("wv", wv), init("wo", wo),
             init("scale", np.float32(1 / np.sqrt(d)))]
    return model(nodes, [vi("x", [1, 16, d])], [vi("y", [1, 16, d])], inits)


def softmax():
    d = 64
    w = (rng.randn(d, d) * 2 / np.sqrt(d)).astype(np.float32)
    nodes = [helper.make_node("MatMul", ["x", "w"], ["s"], name="logits"),
             helper.make_node("Softmax", ["s"], ["y"], name="softmax",
                              axis=-1)]
    return model(nodes, [vi("x", [1, 16, d])], [vi("y", [1, 16, d])],
                 [init("w", w)])


CASES = {"functions": functions, "se_gate": se_gate, "attention": attention,
         "softmax": softmax}


def main():
    if len(sys.argv) != 3 or sys.argv[1] not in CASES:
        sys.exit("usage: int_forms_models.py {%s} OUT.onnx" % ",".join(CASES))
    with open(sys.argv[2], "wb") as f:
        f.write(CASES[sys.argv[1]]().SerializeToString())


if __name__ == "__main__":
    main()
