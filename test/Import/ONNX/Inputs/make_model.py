#!/usr/bin/python3
"""Writes small ONNX models for the importer's lit tests.

Usage: make_model.py CASE OUT.onnx

Every model is built with onnx.helper from fixed seeds, so the tests do not
depend on any file checked into the repo.
"""
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

F = TensorProto.FLOAT


def init(name, array):
    return numpy_helper.from_array(np.asarray(array), name)


def model(nodes, inputs, outputs, inits=(), opset=13, name="g"):
    graph = helper.make_graph(nodes, name, inputs, outputs, list(inits))
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    m.ir_version = 7
    return m


def vi(name, shape, elem=F):
    return helper.make_tensor_value_info(name, elem, shape)


rng = np.random.RandomState(7)


def conv_relu_pool():
    w = rng.randn(4, 3, 3, 3).astype(np.float32)
    b = rng.randn(4).astype(np.float32)
    return model([
        helper.make_node("Conv", ["x", "w", "b"], ["c"], name="conv1",
                         pads=[1, 1, 1, 1], strides=[1, 1]),
        helper.make_node("Relu", ["c"], ["r"], name="relu1"),
        helper.make_node("MaxPool", ["r"], ["y"], name="pool1",
                         kernel_shape=[2, 2], strides=[2, 2]),
    ], [vi("x", [1, 3, 8, 8])], [vi("y", [1, 4, 4, 4])],
        [init("w", w), init("b", b)])


def conv_silu_softmax():
    """Float fallback: a SiLU (x * sigmoid(x)) inside, a Softmax at the end."""
    w = rng.randn(4, 3, 3, 3).astype(np.float32) * 0.5
    b = rng.randn(4).astype(np.float32)
    fw = rng.randn(5, 4).astype(np.float32)
    fb = rng.randn(5).astype(np.float32)
    return model([
        helper.make_node("Conv", ["x", "w", "b"], ["c"], name="conv1",
                         pads=[1, 1, 1, 1]),
        helper.make_node("Sigmoid", ["c"], ["s"], name="sigmoid1"),
        helper.make_node("Mul", ["c", "s"], ["silu"], name="silu1"),
        helper.make_node("GlobalAveragePool", ["silu"], ["g"], name="gap"),
        helper.make_node("Flatten", ["g"], ["f"], name="flatten"),
        helper.make_node("Gemm", ["f", "fw", "fb"], ["logits"], name="fc",
                         transB=1),
        helper.make_node("Softmax", ["logits"], ["y"], name="softmax"),
    ], [vi("x", [1, 3, 8, 8])], [vi("y", [1, 5])],
        [init("w", w), init("b", b), init("fw", fw), init("fb", fb)])


def conv_sigmoid_nchw():
    """Float fallback with a layout change: NCHW Sigmoid output, the
    transpose back to NCHW in the float region."""
    w = rng.randn(4, 3, 3, 3).astype(np.float32) * 0.5
    return model([
        helper.make_node("Conv", ["x", "w"], ["c"], name="conv1",
                         pads=[1, 1, 1, 1]),
        helper.make_node("Sigmoid", ["c"], ["y"], name="sigmoid1"),
    ], [vi("x", [1, 3, 8, 8])], [vi("y", [1, 4, 8, 8])], [init("w", w)])


def normalize_conv():
    """Input normalization in the graph: (x - mean) / std per channel."""
    w = rng.randn(4, 3, 3, 3).astype(np.float32) * 0.5
    mean = np.array([0.1, -0.2, 0.3], np.float32).reshape(1, 3, 1, 1)
    std = np.array([0.5, 0.8, 1.2], np.float32).reshape(1, 3, 1, 1)
    return model([
        helper.make_node("Sub", ["x", "mean"], ["s"], name="sub_mean"),
        helper.make_node("Div", ["s", "std"], ["n"], name="div_std"),
        helper.make_node("Conv", ["n", "w"], ["c"], name="conv1",
                         pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c"], ["y"], name="relu1"),
    ], [vi("x", [1, 3, 8, 8])], [vi("y", [1, 4, 8, 8])],
        [init("w", w), init("mean", mean), init("std", std)])


def conv_hardswish():
    """HardSwish: its hard sigmoid lowers to integers, x * hardsigmoid(x)
    stays float (a product of two activations)."""
    w = rng.randn(4, 3, 3, 3).astype(np.float32) * 0.5
    w2 = rng.randn(4, 4, 1, 1).astype(np.float32) * 0.5
    return model([
        helper.make_node("Conv", ["x", "w"], ["c"], name="conv1",
                         pads=[1, 1, 1, 1]),
        helper.make_node("HardSwish", ["c"], ["h"], name="hswish1"),
        helper.make_node("Conv", ["h", "w2"], ["y"], name="conv2"),
    ], [vi("x", [1, 3, 8, 8])], [vi("y", [1, 4, 8, 8])],
        [init("w", w), init("w2", w2)], opset=14)


def conv_pad_pool():
    """A non-zero Pad between layers (integer lowbit.pad)."""
    w = rng.randn(4, 3, 3, 3).astype(np.float32) * 0.5
    return model([
        helper.make_node("Conv", ["x", "w"], ["c"], name="conv1",
                         pads=[1, 1, 1, 1]),
        helper.make_node("Pad", ["c", "pads", "v"], ["p"], name="pad1"),
        helper.make_node("MaxPool", ["p"], ["y"], name="pool1",
                         kernel_shape=[2, 2], strides=[2, 2]),
    ], [vi("x", [1, 3, 8, 8])], [vi("y", [1, 4, 5, 5])],
        [init("w", w), init("pads", np.array([0, 0, 1, 1, 0, 0, 1, 1],
                                               np.int64)),
         init("v", np.float32(0.5))])


def conv_bn():
    w = rng.randn(4, 3, 3, 3).astype(np.float32)
    p = [rng.rand(4).astype(np.float32) + 0.5 for _ in range(4)]
    q = [rng.rand(4).astype(np.float32) + 0.5 for _ in range(4)]
    return model([
        helper.make_node("Conv", ["x", "w"], ["c"], name="conv1"),
        helper.make_node("BatchNormalization", ["c", "s", "bb", "m", "v"],
                         ["n"], name="bn1", epsilon=1e-3),
        helper.make_node("MaxPool", ["n"], ["p"], name="pool",
                         kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("BatchNormalization", ["p", "s2", "b2", "m2", "v2"],
                         ["y"], name="bn2"),
    ], [vi("x", [1, 3, 6, 6])], [vi("y", [1, 4, 2, 2])],
        [init("w", w), init("s", p[0]), init("bb", p[1]), init("m", p[2]),
         init("v", p[3]), init("s2", q[0]), init("b2", q[1]),
         init("m2", q[2]), init("v2", q[3])])


def depthwise_groups():
    dw = rng.randn(8, 1, 3, 3).astype(np.float32)
    gw = rng.randn(8, 4, 1, 1).astype(np.float32)
    return model([
        helper.make_node("Conv", ["x", "dw"], ["d"], name="dw", group=8,
                         pads=[1, 1, 1, 1]),
        helper.make_node("Conv", ["d", "gw"], ["y"], name="grouped", group=2),
    ], [vi("x", [1, 8, 5, 5])], [vi("y", [1, 8, 5, 5])],
        [init("dw", dw), init("gw", gw)])


def gemm():
    b = rng.randn(10, 16).astype(np.float32)
    c = rng.randn(10).astype(np.float32)
    return model([
        helper.make_node("Gemm", ["x", "b", "c"], ["y"], name="fc",
                         transB=1, alpha=0.5, beta=2.0),
    ], [vi("x", [2, 16])], [vi("y", [2, 10])], [init("b", b), init("c", c)])


def activations():
    slope = (rng.rand(3, 1, 1).astype(np.float32) - 0.2)
    return model([
        helper.make_node("PRelu", ["x", "slope"], ["p"], name="prelu"),
        helper.make_node("LeakyRelu", ["p"], ["l"], name="leaky", alpha=0.1),
        helper.make_node("Clip", ["l", "lo", "hi"], ["c"], name="clip"),
        helper.make_node("HardSwish", ["c"], ["h"], name="hswish"),
        helper.make_node("Softmax", ["h"], ["y"], name="softmax", axis=1),
    ], [vi("x", [1, 3, 2, 2])], [vi("y", [1, 3, 2, 2])],
        [init("slope", slope), init("lo", np.float32(-1.0)),
         init("hi", np.float32(6.0))])


def shape_subgraph():
    # What torch.onnx emits for x.view(x.size(0), -1).
    return model([
        helper.make_node("Shape", ["x"], ["s"], name="shape"),
        helper.make_node("Gather", ["s", "zero"], ["n"], name="gather", axis=0),
        helper.make_node("Unsqueeze", ["n", "axes"], ["n1"], name="unsq"),
        helper.make_node("Concat", ["n1", "minus1"], ["shape"], name="cat",
                         axis=0),
        helper.make_node("Reshape", ["x", "shape"], ["y"], name="flatten"),
    ], [vi("x", [2, 3, 4, 4])], [vi("y", [2, 48])],
        [init("zero", np.int64(0)), init("axes", np.array([0], np.int64)),
         init("minus1", np.array([-1], np.int64))])


def qdq():
    w = rng.randint(-127, 128, size=(4, 3, 1, 1)).astype(np.int8)
    return model([
        helper.make_node("QuantizeLinear", ["x", "xs", "xz"], ["xq"], name="q"),
        helper.make_node("DequantizeLinear", ["xq", "xs", "xz"], ["xd"],
                         name="dq"),
        helper.make_node("DequantizeLinear", ["w", "ws"], ["wd"], name="wdq",
                         axis=0),
        helper.make_node("Conv", ["xd", "wd"], ["y"], name="conv"),
    ], [vi("x", [1, 3, 4, 4])], [vi("y", [1, 4, 4, 4])],
        [init("xs", np.float32(0.02)), init("xz", np.uint8(128)),
         init("w", w), init("ws", np.array([0.01, 0.02, 0.03, 0.04],
                                            np.float32))])


def qdq_softmax():
    """A Q/DQ classifier head whose Softmax stays float: a float result."""
    w = rng.randint(-127, 128, size=(5, 8)).astype(np.int8)
    return model([
        helper.make_node("QuantizeLinear", ["x", "xs", "xz"], ["xq"], name="q"),
        helper.make_node("DequantizeLinear", ["xq", "xs", "xz"], ["xd"],
                         name="dq"),
        helper.make_node("DequantizeLinear", ["w", "ws"], ["wd"], name="wdq",
                         axis=0),
        helper.make_node("Gemm", ["xd", "wd", "b"], ["l"], name="fc",
                         transB=1),
        helper.make_node("QuantizeLinear", ["l", "ls", "lz"], ["lq"],
                         name="lq"),
        helper.make_node("DequantizeLinear", ["lq", "ls", "lz"], ["ld"],
                         name="ldq"),
        helper.make_node("Softmax", ["ld"], ["y"], name="softmax"),
    ], [vi("x", [1, 8])], [vi("y", [1, 5])],
        [init("xs", np.float32(0.02)), init("xz", np.int8(0)),
         init("w", w), init("ws", np.full(5, 0.01, np.float32)),
         init("b", rng.randn(5).astype(np.float32)),
         init("ls", np.float32(0.05)), init("lz", np.int8(-10))])


def qlinearconv():
    w = rng.randint(-127, 128, size=(2, 1, 3, 3)).astype(np.int8)
    return model([
        helper.make_node("QLinearConv", ["x", "xs", "xz", "w", "ws", "wz",
                                         "ys", "yz"], ["y"], name="qconv",
                         pads=[1, 1, 1, 1]),
    ], [vi("x", [1, 1, 4, 4], TensorProto.UINT8)],
        [vi("y", [1, 2, 4, 4], TensorProto.UINT8)],
        [init("xs", np.float32(0.05)), init("xz", np.uint8(120)),
         init("w", w), init("ws", np.array([0.01, 0.03], np.float32)),
         init("wz", np.array([0, 0], np.int8)), init("ys", np.float32(0.2)),
         init("yz", np.uint8(7))])


def softmax_opset11():
    return model([helper.make_node("Softmax", ["x"], ["y"], name="sm")],
                 [vi("x", [2, 3, 4])], [vi("y", [2, 3, 4])], opset=11)


def two_outputs():
    return model([
        helper.make_node("Relu", ["x"], ["a"], name="relu"),
        helper.make_node("Sigmoid", ["x"], ["b"], name="sigmoid"),
    ], [vi("x", [2, 3])], [vi("a", [2, 3]), vi("b", [2, 3])])


def dynamic_batch():
    """A symbolic batch dimension, as torch.onnx exports with dynamic_axes:
    a Flatten, a Reshape to a shape computed from Shape (x.view(x.size(0),
    -1)) and a Reshape with 0 and -1 entries all follow the batch."""
    w = rng.randn(4, 3, 3, 3).astype(np.float32) * 0.5
    fw = rng.randn(5, 64).astype(np.float32) * 0.2
    return model([
        helper.make_node("Conv", ["x", "w"], ["c"], name="conv1",
                         pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c"], ["r"], name="relu1"),
        helper.make_node("MaxPool", ["r"], ["p"], name="pool1",
                         kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("Shape", ["p"], ["s"], name="shape"),
        helper.make_node("Gather", ["s", "zero"], ["n"], name="gather",
                         axis=0),
        helper.make_node("Unsqueeze", ["n", "axes"], ["n1"], name="unsq"),
        helper.make_node("Concat", ["n1", "minus1"], ["vs"], name="cat",
                         axis=0),
        helper.make_node("Reshape", ["p", "vs"], ["v"], name="view"),
        helper.make_node("Reshape", ["v", "keep"], ["v2"], name="reshape0"),
        helper.make_node("Flatten", ["v2"], ["f"], name="flatten"),
        helper.make_node("Gemm", ["f", "fw"], ["y"], name="fc", transB=1),
    ], [vi("x", ["batch", 3, 8, 8])], [vi("y", ["batch", 5])],
        [init("w", w), init("fw", fw), init("zero", np.int64(0)),
         init("axes", np.array([0], np.int64)),
         init("minus1", np.array([-1], np.int64)),
         init("keep", np.array([0, 4, -1], np.int64))])


def unknown_batch():
    """A leading dimension with neither a value nor a name."""
    m = model([helper.make_node("Relu", ["x"], ["y"], name="relu")],
              [vi("x", [None, 4])], [vi("y", [None, 4])])
    m.graph.input[0].type.tensor_type.shape.dim[0].Clear()
    return m


def two_dynamic_inputs():
    """Two inputs with symbolic batches: one note each."""
    return model([helper.make_node("Add", ["a", "b"], ["y"], name="add")],
                 [vi("a", ["n", 3]), vi("b", ["m", 3])], [vi("y", ["n", 3])])


def dynamic_hw():
    """Symbolic height and width: only --input-shape can fix them."""
    w = rng.randn(4, 3, 3, 3).astype(np.float32)
    return model([helper.make_node("Conv", ["x", "w"], ["y"], name="conv1",
                                   pads=[1, 1, 1, 1])],
                 [vi("x", ["batch", 3, "height", "width"])],
                 [vi("y", ["batch", 4, "height", "width"])], [init("w", w)])


def unknown_rank():
    """A graph input without any shape."""
    return model([helper.make_node("Relu", ["x"], ["y"], name="relu")],
                 [vi("x", None)], [vi("y", None)])


# --- bad models -------------------------------------------------------------

def unsupported_op():
    return model([helper.make_node("Einsum", ["x", "x"], ["y"], name="ein",
                                   equation="ij,ij->ij")],
                 [vi("x", [2, 2])], [vi("y", [2, 2])])


def unsupported_attr():
    return model([helper.make_node("Relu", ["x"], ["y"], name="relu",
                                   fancy=1)],
                 [vi("x", [2, 2])], [vi("y", [2, 2])])


def missing_input():
    return model([helper.make_node("Add", ["x", "ghost"], ["y"], name="add")],
                 [vi("x", [2])], [vi("y", [2])])


def bad_opset():
    return model([helper.make_node("Relu", ["x"], ["y"], name="relu")],
                 [vi("x", [2])], [vi("y", [2])], opset=99)


def scale_input():
    return model([helper.make_node("QuantizeLinear", ["x", "s"], ["y"],
                                   name="quant")],
                 [vi("x", [4]), vi("s", [])],
                 [vi("y", [4], TensorProto.UINT8)])


def bad_weights():
    # A weight tensor whose data does not match its shape.
    t = init("w", np.zeros((2, 2), np.float32))
    t.dims[:] = [3, 3]
    return model([helper.make_node("MatMul", ["x", "w"], ["y"], name="mm")],
                 [vi("x", [3, 3])], [vi("y", [3, 3])], [t])


def huge_weights():
    # Dimensions claiming petabytes with almost no data.
    t = init("w", np.zeros((2, 2), np.float32))
    t.dims[:] = [100000, 100000, 100000]
    return model([helper.make_node("Relu", ["w"], ["y"], name="relu")],
                 [], [vi("y", [100000, 100000, 100000])], [t])


def conv1d_bad_strides():
    w = rng.randn(2, 1, 3).astype(np.float32)
    return model([helper.make_node("Conv", ["x", "w"], ["y"], name="conv",
                                   strides=[1, 1, 1])],
                 [vi("x", [1, 1, 8])], [vi("y", [1, 2, 6])], [init("w", w)])


def old_reshape_no_shape():
    return model([helper.make_node("Reshape", ["x"], ["y"], name="reshape")],
                 [vi("x", [2, 3])], [vi("y", [6])], opset=4)


def bad_broadcast():
    return model([helper.make_node("Add", ["x", "z"], ["y"], name="add")],
                 [vi("x", [2, 3]), vi("z", [4])], [vi("y", [2, 3])])


def qdq_empty_scale():
    """A DequantizeLinear scale with zero elements."""
    return model([
        helper.make_node("DequantizeLinear", ["x", "xs"], ["y"], name="dq"),
    ], [vi("x", [1, 3], TensorProto.INT8)], [vi("y", [1, 3])],
        [init("xs", np.zeros(0, np.float32))])


def q_empty_zero_point():
    """A QuantizeLinear zero point with zero elements."""
    return model([
        helper.make_node("QuantizeLinear", ["x", "xs", "xz"], ["y"], name="q"),
    ], [vi("x", [1, 3])], [vi("y", [1, 3], TensorProto.UINT8)],
        [init("xs", np.float32(0.1)), init("xz", np.zeros(0, np.uint8))])


def qdq_empty_zero_point():
    """A QLinearMatMul output zero point with zero elements."""
    return model([
        helper.make_node("QLinearMatMul", ["a", "as", "az", "b", "bs", "bz",
                                           "ys", "yz"], ["y"], name="qmm"),
    ], [vi("a", [1, 2], TensorProto.UINT8)],
        [vi("y", [1, 2], TensorProto.UINT8)],
        [init("as", np.float32(0.1)), init("az", np.uint8(128)),
         init("b", np.ones((2, 2), np.uint8)), init("bs", np.float32(0.1)),
         init("bz", np.uint8(0)), init("ys", np.float32(0.1)),
         init("yz", np.zeros(0, np.uint8))])


def int_fold(op, a, b):
    """Constant folding of an int64 binary op whose result is the output."""
    def make():
        return model([helper.make_node(op, ["a", "b"], ["c"], name="fold"),
                      helper.make_node("Add", ["x", "c"], ["y"], name="use")],
                     [vi("x", [1], TensorProto.INT64)],
                     [vi("y", [1], TensorProto.INT64)],
                     [init("a", np.array([a], np.int64)),
                      init("b", np.array([b], np.int64))])
    return make


INT64_MIN = -2**63
div_int64_min = int_fold("Div", INT64_MIN, -1)
div_by_zero = int_fold("Div", 7, 0)
mul_overflow = int_fold("Mul", 2**62, 4)
add_overflow = int_fold("Add", 2**63 - 1, 1)
sub_overflow = int_fold("Sub", INT64_MIN, 1)
div_negative = int_fold("Div", -7, 2)


def node_no_outputs():
    return model([helper.make_node("Relu", ["x"], ["y"], name="relu"),
                  helper.make_node("Relu", ["x"], [], name="sink")],
                 [vi("x", [2])], [vi("y", [2])])


def constant_of_shape(dims):
    def make():
        return model([
            helper.make_node("ConstantOfShape", ["s"], ["c"], name="fill"),
            helper.make_node("Add", ["x", "c"], ["y"], name="add"),
        ], [vi("x", [1])], [vi("y", dims)],
            [init("s", np.array(dims, np.int64))])
    return make


huge_constant_of_shape = constant_of_shape([100000, 100000])
overflow_constant_of_shape = constant_of_shape([2**32, 2**32])


def overflow_input():
    """A graph input whose element count overflows int64."""
    return model([helper.make_node("Relu", ["x"], ["y"], name="relu")],
                 [vi("x", [2**32, 2**32])], [vi("y", [2**32, 2**32])])


def huge_dequantized_weights():
    """A weight scale so large that the dequantized weights overflow."""
    w = np.array([[100, -3], [2, 1]], np.int8)
    return model([
        helper.make_node("DequantizeLinear", ["w", "ws"], ["wd"], name="wdq"),
        helper.make_node("MatMul", ["x", "wd"], ["y"], name="mm"),
    ], [vi("x", [1, 2])], [vi("y", [1, 2])],
        [init("w", w), init("ws", np.float32(1e37))])


def huge_pad():
    """A Pad whose pads make an absurd shape (found by the ONNX fuzzer as a
    mutated model): the Flatten after it multiplied the dimensions past
    int64 before the import checked each node's output shapes."""
    return model([
        helper.make_node("Pad", ["x", "pads"], ["p"], name="pad"),
        helper.make_node("Flatten", ["p"], ["y"], name="flatten"),
    ], [vi("x", [1, 1, 4, 4])], [vi("y", [1, 16])],
        [init("pads", np.array([0, 0, 2**40, 2**62, 0, 0, 0, 0], np.int64))])


def overflow_pad():
    """Pads whose sum overflows int64 (a fuzzer's find)."""
    return model([helper.make_node("Pad", ["x", "pads"], ["y"], name="pad")],
                 [vi("x", [1, 4])], [vi("y", [1, 4])],
                 [init("pads", np.array([2**62, 0, 2**62, 0], np.int64))])


def float_pads():
    """Pads given as float64, one of them 4e169 (the ONNX fuzzer's find: the
    importer cast it to int64, undefined behaviour)."""
    return model([helper.make_node("Pad", ["x", "pads"], ["y"], name="pad")],
                 [vi("x", [1, 4])], [vi("y", [1, 4])],
                 [init("pads", np.array([0, 0, 0, 4e169], np.float64))])


def float_reshape_shape():
    """A Reshape whose shape input is float32: refused like float pads (every
    integer-valued constant input goes through Importer::integersOf)."""
    return model([helper.make_node("Reshape", ["x", "s"], ["y"],
                                   name="reshape")],
                 [vi("x", [1, 4])], [vi("y", [4])],
                 [init("s", np.array([4.0], np.float32))])


def reduce_ops():
    """ReduceMean over H, W (keepdims 0), ReduceMax over H, W (keepdims 1),
    ReduceSum over C (axes input, opset 13)."""
    return model([
        helper.make_node("ReduceMean", ["x"], ["m"], name="mean", axes=[2, 3],
                         keepdims=0),
        helper.make_node("ReduceMax", ["x"], ["mx"], name="max", axes=[-2, -1]),
        helper.make_node("ReduceSum", ["x", "ax"], ["s"], name="sum"),
        helper.make_node("ReduceMax", ["x"], ["mw"], name="maxw", axes=[3],
                         keepdims=0),
    ], [vi("x", [1, 3, 4, 5])], [vi("m", [1, 3]), vi("mx", [1, 3, 1, 1]),
                                 vi("s", [1, 1, 4, 5]), vi("mw", [1, 3, 4])],
        [init("ax", np.array([1], np.int64))])


def resize_ops():
    """Nearest (asymmetric, floor) by scales 2 and linear half_pixel to
    sizes 7 x 9."""
    return model([
        helper.make_node("Resize", ["x", "", "sc"], ["n"], name="nearest",
                         mode="nearest",
                         coordinate_transformation_mode="asymmetric",
                         nearest_mode="floor"),
        helper.make_node("Resize", ["x", "", "", "sz"], ["l"], name="linear",
                         mode="linear"),
    ], [vi("x", [1, 3, 4, 5])], [vi("n", [1, 3, 8, 10]), vi("l", [1, 3, 7, 9])],
        [init("sc", np.array([1, 1, 2, 2], np.float32)),
         init("sz", np.array([1, 3, 7, 9], np.int64))])


def split_op():
    return model([
        helper.make_node("Split", ["x", "parts"], ["a", "b"], name="split",
                         axis=1),
    ], [vi("x", [1, 5, 4, 4])], [vi("a", [1, 2, 4, 4]), vi("b", [1, 3, 4, 4])],
        [init("parts", np.array([2, 3], np.int64))])


def upsample_opset7():
    """Upsample with its scales attribute (opsets 7 and 8)."""
    return model([
        helper.make_node("Upsample", ["x"], ["y"], name="up", mode="nearest",
                         scales=[1.0, 1.0, 2.0, 3.0]),
    ], [vi("x", [1, 3, 4, 5])], [vi("y", [1, 3, 8, 15])], opset=7)


def split_equal():
    """Split into equal parts without sizes (opset 13)."""
    return model([
        helper.make_node("Split", ["x"], ["a", "b", "c"], name="split",
                         axis=1),
    ], [vi("x", [1, 6, 4, 4])], [vi("a", [1, 2, 4, 4]), vi("b", [1, 2, 4, 4]),
                                 vi("c", [1, 2, 4, 4])])


def resize_cubic():
    return model([
        helper.make_node("Resize", ["x", "", "sc"], ["y"], name="cubic",
                         mode="cubic"),
    ], [vi("x", [1, 3, 4, 4])], [vi("y", [1, 3, 8, 8])],
        [init("sc", np.array([1, 1, 2, 2], np.float32))])


def resize_both():
    return model([
        helper.make_node("Resize", ["x", "", "sc", "sz"], ["y"], name="both"),
    ], [vi("x", [1, 3, 4, 4])], [vi("y", [1, 3, 8, 8])],
        [init("sc", np.array([1, 1, 2, 2], np.float32)),
         init("sz", np.array([1, 3, 8, 8], np.int64))])


def resize_channels():
    return model([
        helper.make_node("Resize", ["x", "", "sc"], ["y"], name="chan"),
    ], [vi("x", [1, 3, 4, 4])], [vi("y", [1, 6, 4, 4])],
        [init("sc", np.array([1, 2, 1, 1], np.float32))])


def resize_odd_scale():
    return model([
        helper.make_node("Resize", ["x", "", "sc"], ["y"], name="odd"),
    ], [vi("x", [1, 3, 4, 4])], [vi("y", [1, 3, 5, 5])],
        [init("sc", np.array([1, 1, 1.3, 1.3], np.float32))])


def split_bad_sizes():
    return model([
        helper.make_node("Split", ["x", "parts"], ["a", "b"], name="split",
                         axis=1),
    ], [vi("x", [1, 5, 4, 4])], [vi("a", [1, 2, 4, 4]), vi("b", [1, 2, 4, 4])],
        [init("parts", np.array([2, 2], np.int64))])


def reduce_bad_axis():
    return model([
        helper.make_node("ReduceMean", ["x"], ["m"], name="mean", axes=[4]),
    ], [vi("x", [1, 3, 4, 5])], [vi("m", [1, 3, 4, 5])])


def slice_steps():
    """A reversed Slice of a constant (an exporter's pads reversal) feeds a
    Pad; a reversed Slice of an activation is unsupported (strided ones
    are data movement: transformer_ops.py's strided_slice)."""
    return model([
        helper.make_node("Slice", ["p", "st", "en", "ax", "step"], ["pr"],
                         name="reverse"),
        helper.make_node("Pad", ["x", "pr", "v"], ["y"], name="pad"),
    ], [vi("x", [1, 3, 4, 4])], [vi("y", [1, 3, 5, 6])],
        [init("p", np.array([2, 0, 0, 0, 0, 1, 0, 0], np.int64)),
         init("st", np.array([-1], np.int64)),
         init("en", np.array([-9223372036854775807], np.int64)),
         init("ax", np.array([0], np.int64)),
         init("step", np.array([-1], np.int64)),
         init("v", np.float32(0.5))])


def slice_steps_activation():
    return model([
        helper.make_node("Slice", ["x", "st", "en", "ax", "step"], ["y"],
                         name="strided"),
    ], [vi("x", [1, 3, 4, 4])], [vi("y", [1, 3, 4, 4])],
        [init("st", np.array([-1], np.int64)),
         init("en", np.array([-9223372036854775807], np.int64)),
         init("ax", np.array([2], np.int64)),
         init("step", np.array([-1], np.int64))])


# --- fuzzer seeds ------------------------------------------------------------
# Valid models for the ONNX fuzzer's seed corpus (scripts/test-sanitizers.sh)
# that reach the host folding (with omitted optional inputs) and the
# attribute getters of many ops and types; fuzz-seeds.test keeps them valid.

def fuzz_seed_folding():
    """x.view(n, -1) through a folded Shape/Gather/Identity/Mul/Div/Sub/Add
    chain, then Clip and Slice with omitted ("") optional inputs and an
    Identity of an initializer."""
    i64 = lambda v: np.array(v, np.int64)
    return model([
        helper.make_node("Shape", ["x"], ["s"], name="shape"),
        helper.make_node("Gather", ["s", "zero"], ["n"], name="gather",
                         axis=0),
        helper.make_node("Identity", ["n"], ["n1"], name="id"),
        helper.make_node("Mul", ["n1", "one"], ["n2"], name="mul"),
        helper.make_node("Div", ["n2", "one"], ["n3"], name="div"),
        helper.make_node("Sub", ["n3", "zero"], ["n4"], name="sub"),
        helper.make_node("Add", ["n4", "zero"], ["n5"], name="add"),
        helper.make_node("Unsqueeze", ["n5", "axes"], ["n6"], name="unsq"),
        helper.make_node("Concat", ["n6", "minus1"], ["shape"], name="cat",
                         axis=0),
        helper.make_node("Reshape", ["x", "shape"], ["flat"], name="flatten"),
        helper.make_node("Clip", ["flat", "", "hi"], ["c"], name="clip"),
        helper.make_node("Slice", ["c", "st", "en", "", ""], ["sl"],
                         name="slice"),
        helper.make_node("Identity", ["bias"], ["b1"], name="id_bias"),
        helper.make_node("Add", ["sl", "b1"], ["y"], name="add_bias"),
    ], [vi("x", [1, 3, 4, 4])], [vi("y", [1, 40])],
        [init("zero", np.int64(0)), init("one", np.int64(1)),
         init("axes", i64([0])), init("minus1", i64([-1])),
         init("hi", np.float32(6.0)), init("st", i64([0, 8])),
         init("en", i64([1, 48])),
         init("bias", rng.randn(40).astype(np.float32))])


def fuzz_seed_attributes():
    """Attributes of every type the importer reads: ints, floats, strings,
    lists and a Constant's float, on Conv (+ folded BatchNormalization),
    LeakyRelu, HardSigmoid, AveragePool, Flatten, Gemm, Transpose, Cast and
    Softmax."""
    w = rng.randn(4, 3, 3, 3).astype(np.float32) * 0.5
    p = [rng.rand(4).astype(np.float32) + 0.5 for _ in range(4)]
    gw = rng.randn(10, 64).astype(np.float32) * 0.1
    gb = rng.randn(10).astype(np.float32)
    return model([
        helper.make_node("Conv", ["x", "w"], ["c"], name="conv",
                         kernel_shape=[3, 3], strides=[1, 1],
                         pads=[1, 1, 1, 1], dilations=[1, 1], group=1),
        helper.make_node("BatchNormalization", ["c", "s", "bb", "m", "v"],
                         ["bn"], name="bn", epsilon=1e-3, momentum=0.9),
        helper.make_node("LeakyRelu", ["bn"], ["l"], name="leaky", alpha=0.2),
        helper.make_node("HardSigmoid", ["l"], ["h"], name="hsig", alpha=0.3,
                         beta=0.4),
        helper.make_node("AveragePool", ["h"], ["pool"], name="pool",
                         kernel_shape=[2, 2], strides=[2, 2],
                         auto_pad="VALID", count_include_pad=0),
        helper.make_node("Flatten", ["pool"], ["f"], name="flatten", axis=1),
        helper.make_node("Gemm", ["f", "gw", "gb"], ["g"], name="fc",
                         alpha=0.5, beta=2.0, transB=1),
        helper.make_node("Constant", [], ["k"], name="k", value_float=2.0),
        helper.make_node("Mul", ["g", "k"], ["gm"], name="scale"),
        helper.make_node("Transpose", ["gm"], ["t"], name="t", perm=[1, 0]),
        helper.make_node("Transpose", ["t"], ["t2"], name="t2", perm=[1, 0]),
        helper.make_node("Cast", ["t2"], ["cst"], name="cast",
                         to=TensorProto.FLOAT),
        helper.make_node("Softmax", ["cst"], ["y"], name="softmax", axis=-1),
    ], [vi("x", [1, 3, 8, 8])], [vi("y", [1, 10])],
        [init("w", w), init("s", p[0]), init("bb", p[1]), init("m", p[2]),
         init("v", p[3]), init("gw", gw), init("gb", gb)])


# --- omitted required inputs -----------------------------------------------
# An omitted optional input is an empty name (""); given for a required one,
# it is an error. These reach the host folding (all other inputs constant),
# which dereferenced a null value for them.

def omitted_input(op, inputs, extra_inits=()):
    def make():
        return model([
            helper.make_node(op, inputs, ["c"], name="fold"),
            helper.make_node("Add", ["x", "c"], ["y"], name="use"),
        ], [vi("x", [2], TensorProto.INT64)],
            [vi("y", [2], TensorProto.INT64)],
            [init("b", np.array([1, 2], np.int64))] + list(extra_inits))
    return make


fold_omitted_add = omitted_input("Add", ["", "b"])
fold_omitted_sub = omitted_input("Sub", ["b", ""])
fold_omitted_mul = omitted_input("Mul", ["", "b"])
fold_omitted_div = omitted_input("Div", ["", "b"])
fold_omitted_identity = omitted_input("Identity", [""])
fold_omitted_reshape = omitted_input(
    "Reshape", ["", "shape"], [init("shape", np.array([2], np.int64))])


def conv_bn_omitted():
    """A BatchNormalization whose input 0 is omitted, after a Conv whose
    output is omitted: the Conv+BN folding paired them by the empty name."""
    w = rng.randn(4, 3, 1, 1).astype(np.float32)
    p = [rng.rand(4).astype(np.float32) + 0.5 for _ in range(4)]
    return model([
        helper.make_node("Conv", ["x", "w"], [""], name="conv"),
        helper.make_node("BatchNormalization", ["", "s", "bb", "m", "v"],
                         ["y"], name="bn"),
    ], [vi("x", [1, 3, 2, 2])], [vi("y", [1, 4, 2, 2])],
        [init("w", w), init("s", p[0]), init("bb", p[1]), init("m", p[2]),
         init("v", p[3])])


def conv_bn_bad_bias():
    """A Conv+BatchNormalization pair whose Conv bias has 1 value for 4
    output channels: the fold read past its end."""
    w = rng.randn(4, 3, 1, 1).astype(np.float32)
    p = [rng.rand(4).astype(np.float32) + 0.5 for _ in range(4)]
    return model([
        helper.make_node("Conv", ["x", "w", "b"], ["c"], name="conv"),
        helper.make_node("BatchNormalization", ["c", "s", "bb", "m", "v"],
                         ["y"], name="bn"),
    ], [vi("x", [1, 3, 2, 2])], [vi("y", [1, 4, 2, 2])],
        [init("w", w), init("b", np.ones(1, np.float32)), init("s", p[0]),
         init("bb", p[1]), init("m", p[2]), init("v", p[3])])


# --- attributes of the wrong type ------------------------------------------

def unary_attr(op, opset=13, **attrs):
    def make():
        return model([helper.make_node(op, ["x"], ["y"], name="n", **attrs)],
                     [vi("x", [1, 4])], [vi("y", [1, 4])], opset=opset)
    return make


leaky_alpha_string = unary_attr("LeakyRelu", alpha="0.1")
leaky_alpha_int = unary_attr("LeakyRelu", alpha=1)
hardsigmoid_alpha_string = unary_attr("HardSigmoid", alpha="0.2")
softmax_axis_float = unary_attr("Softmax", axis=1.0)
transpose_perm_floats = unary_attr("Transpose", perm=[1.0, 0.0])


def leaky_alpha_twice():
    """Two 'alpha' attributes: which one a reader takes is arbitrary."""
    m = unary_attr("LeakyRelu")()
    n = m.graph.node[0]
    n.attribute.extend([helper.make_attribute("alpha", 0.1),
                        helper.make_attribute("alpha", 0.3)])
    return m


def leaky_alpha_ir1():
    """An attribute of IR version 1, with no `type`: its one value field (f)
    says it is a float."""
    m = unary_attr("LeakyRelu", alpha=0.25)()
    m.graph.node[0].attribute[0].ClearField("type")
    return m


def leaky_alpha_no_value():
    """No `type` and no value field: nothing says what it is."""
    m = unary_attr("LeakyRelu", alpha=0.25)()
    a = m.graph.node[0].attribute[0]
    a.ClearField("type")
    a.ClearField("f")
    return m


def gemm_alpha_int():
    b = rng.randn(4, 4).astype(np.float32)
    return model([helper.make_node("Gemm", ["x", "b"], ["y"], name="fc",
                                   alpha=2)],
                 [vi("x", [1, 4])], [vi("y", [1, 4])], [init("b", b)])


def conv_strides_floats():
    w = rng.randn(2, 1, 3, 3).astype(np.float32)
    return model([helper.make_node("Conv", ["x", "w"], ["y"], name="conv",
                                   strides=[2.0, 2.0])],
                 [vi("x", [1, 1, 8, 8])], [vi("y", [1, 2, 3, 3])],
                 [init("w", w)])


def conv_bn_epsilon_int():
    """A Conv+BatchNormalization pair whose epsilon is an int: the pair is
    not folded, and BatchNormalization reports the attribute."""
    w = rng.randn(4, 3, 1, 1).astype(np.float32)
    p = [rng.rand(4).astype(np.float32) + 0.5 for _ in range(4)]
    return model([
        helper.make_node("Conv", ["x", "w"], ["c"], name="conv"),
        helper.make_node("BatchNormalization", ["c", "s", "bb", "m", "v"],
                         ["y"], name="bn", epsilon=1),
    ], [vi("x", [1, 3, 2, 2])], [vi("y", [1, 4, 2, 2])],
        [init("w", w), init("s", p[0]), init("bb", p[1]), init("m", p[2]),
         init("v", p[3])])


def bn_momentum_int():
    """An attribute the import accepts but does not read (inference ignores
    momentum) is type-checked too."""
    p = [rng.rand(3).astype(np.float32) + 0.5 for _ in range(4)]
    return model([
        helper.make_node("BatchNormalization", ["x", "s", "bb", "m", "v"],
                         ["y"], name="bn", momentum=1),
    ], [vi("x", [1, 3, 2, 2])], [vi("y", [1, 3, 2, 2])],
        [init("s", p[0]), init("bb", p[1]), init("m", p[2]), init("v", p[3])])


def maxpool_count_include_pad_float():
    return model([helper.make_node("MaxPool", ["x"], ["y"], name="pool",
                                   kernel_shape=[2, 2],
                                   count_include_pad=1.0)],
                 [vi("x", [1, 1, 4, 4])], [vi("y", [1, 1, 3, 3])])


def constant_value_float_int():
    return model([
        helper.make_node("Constant", [], ["c"], name="k", value_float=2),
        helper.make_node("Mul", ["x", "c"], ["y"], name="mul"),
    ], [vi("x", [1, 4])], [vi("y", [1, 4])])


def fold_add_attr():
    """A folded Add with an attribute it does not have (after opset 7)."""
    m = omitted_input("Add", ["b", "b"])()
    m.graph.node[0].attribute.extend([helper.make_attribute("fancy", 1)])
    return m


def cast_to_string():
    return model([helper.make_node("Cast", ["x"], ["y"], name="cast",
                                   to="FLOAT")],
                 [vi("x", [1, 4])], [vi("y", [1, 4])])


# --- graphs that are not valid ONNX ----------------------------------------

def duplicate_output():
    """Two nodes define 't': the later one replaced the first."""
    return model([
        helper.make_node("Relu", ["x"], ["t"], name="first"),
        helper.make_node("Sigmoid", ["x"], ["t"], name="second"),
        helper.make_node("Add", ["t", "x"], ["y"], name="use"),
    ], [vi("x", [1, 4])], [vi("y", [1, 4])])


def output_shadows_input():
    return model([
        helper.make_node("Relu", ["x"], ["x"], name="relu"),
        helper.make_node("Sigmoid", ["x"], ["y"], name="sig"),
    ], [vi("x", [1, 4])], [vi("y", [1, 4])])


def output_shadows_initializer():
    return model([
        helper.make_node("Relu", ["x"], ["w"], name="relu"),
        helper.make_node("Add", ["x", "w"], ["y"], name="add"),
    ], [vi("x", [1, 4])], [vi("y", [1, 4])],
        [init("w", np.ones((1, 4), np.float32))])


def output_listed_twice():
    return model([
        helper.make_node("Split", ["x"], ["a", "a"], name="split", axis=1),
        helper.make_node("Relu", ["a"], ["y"], name="relu"),
    ], [vi("x", [1, 4])], [vi("y", [1, 2])])


def duplicate_initializer():
    return model([helper.make_node("Add", ["x", "w"], ["y"], name="add")],
                 [vi("x", [1, 4])], [vi("y", [1, 4])],
                 [init("w", np.ones((1, 4), np.float32)),
                  init("w", np.zeros((1, 4), np.float32))])


def conv_kernel_shape_mismatch():
    w = rng.randn(2, 1, 3, 3).astype(np.float32)
    return model([helper.make_node("Conv", ["x", "w"], ["y"], name="conv",
                                   kernel_shape=[5, 5])],
                 [vi("x", [1, 1, 8, 8])], [vi("y", [1, 2, 4, 4])],
                 [init("w", w)])


def conv1d_kernel_shape_mismatch():
    w = rng.randn(2, 1, 3).astype(np.float32)
    return model([helper.make_node("Conv", ["x", "w"], ["y"], name="conv",
                                   kernel_shape=[2])],
                 [vi("x", [1, 1, 8])], [vi("y", [1, 2, 7])], [init("w", w)])


def convinteger_kernel_shape_mismatch():
    w = rng.randint(-5, 5, size=(2, 1, 3, 3)).astype(np.int8)
    return model([helper.make_node("ConvInteger", ["x", "w"], ["y"],
                                   name="conv", kernel_shape=[3, 1])],
                 [vi("x", [1, 1, 8, 8], TensorProto.INT8)],
                 [vi("y", [1, 2, 6, 6], TensorProto.INT32)], [init("w", w)])


def conv_kernel_shape_match():
    """kernel_shape that is the weight's spatial shape imports."""
    w = rng.randn(2, 1, 3, 3).astype(np.float32)
    return model([helper.make_node("Conv", ["x", "w"], ["y"], name="conv",
                                   kernel_shape=[3, 3])],
                 [vi("x", [1, 1, 8, 8])], [vi("y", [1, 2, 6, 6])],
                 [init("w", w)])


def _relu_model(opsets, ir_version=7):
    graph = helper.make_graph(
        [helper.make_node("Relu", ["x"], ["y"], name="relu")], "g",
        [vi("x", [2])], [vi("y", [2])])
    m = helper.make_model(graph, opset_imports=opsets)
    del m.opset_import[:]
    m.opset_import.extend(opsets)
    m.ir_version = ir_version
    return m


def no_opset_import():
    return _relu_model([])


def other_domain_opset_only():
    return _relu_model([helper.make_opsetid("com.microsoft", 1)])


def ir2_no_opset_import():
    """IR version 2 predates opset_import: the default opset is 1."""
    return _relu_model([], ir_version=2)


def two_default_opsets():
    return _relu_model([helper.make_opsetid("", 13),
                        helper.make_opsetid("ai.onnx", 11)])


CASES = {f.__name__: f for f in [
    conv_relu_pool, conv_silu_softmax, conv_sigmoid_nchw, normalize_conv,
    conv_hardswish, conv_pad_pool, conv_bn, depthwise_groups, gemm, activations,
    shape_subgraph, dynamic_batch, unknown_batch, two_dynamic_inputs,
    dynamic_hw, unknown_rank, qdq, qdq_softmax, qlinearconv, softmax_opset11, two_outputs,
    unsupported_op, unsupported_attr, missing_input, bad_opset,
    scale_input, bad_weights, bad_broadcast, huge_weights,
    conv1d_bad_strides, old_reshape_no_shape, qdq_empty_scale,
    q_empty_zero_point, qdq_empty_zero_point, node_no_outputs, overflow_input,
    huge_dequantized_weights, huge_pad, overflow_pad, float_pads, float_reshape_shape]}
CASES.update({
    "div_int64_min": div_int64_min, "div_by_zero": div_by_zero,
    "mul_overflow": mul_overflow, "add_overflow": add_overflow,
    "sub_overflow": sub_overflow, "div_negative": div_negative,
    "huge_constant_of_shape": huge_constant_of_shape,
    "overflow_constant_of_shape": overflow_constant_of_shape})
CASES.update({f.__name__: f for f in [
    reduce_ops, resize_ops, split_op, resize_cubic, resize_both,
    resize_channels, resize_odd_scale, split_bad_sizes, reduce_bad_axis,
    slice_steps, slice_steps_activation, upsample_opset7, split_equal]})
CASES.update({f.__name__: f for f in [
    fuzz_seed_folding, fuzz_seed_attributes, conv_bn_omitted,
    conv_bn_bad_bias, leaky_alpha_twice, leaky_alpha_ir1,
    leaky_alpha_no_value, gemm_alpha_int,
    conv_strides_floats, conv_bn_epsilon_int, bn_momentum_int,
    maxpool_count_include_pad_float, constant_value_float_int,
    fold_add_attr, cast_to_string, duplicate_output, output_shadows_input,
    output_shadows_initializer, output_listed_twice, duplicate_initializer,
    conv_kernel_shape_mismatch, conv1d_kernel_shape_mismatch,
    convinteger_kernel_shape_mismatch, conv_kernel_shape_match,
    no_opset_import, other_domain_opset_only, ir2_no_opset_import,
    two_default_opsets]})
CASES.update({
    "fold_omitted_add": fold_omitted_add, "fold_omitted_sub": fold_omitted_sub,
    "fold_omitted_mul": fold_omitted_mul, "fold_omitted_div": fold_omitted_div,
    "fold_omitted_identity": fold_omitted_identity,
    "fold_omitted_reshape": fold_omitted_reshape,
    "leaky_alpha_string": leaky_alpha_string,
    "leaky_alpha_int": leaky_alpha_int,
    "hardsigmoid_alpha_string": hardsigmoid_alpha_string,
    "softmax_axis_float": softmax_axis_float,
    "transpose_perm_floats": transpose_perm_floats})


def main():
    if len(sys.argv) != 3 or sys.argv[1] not in CASES:
        sys.exit("usage: make_model.py {%s} OUT.onnx" % ",".join(CASES))
    m = CASES[sys.argv[1]]()
    with open(sys.argv[2], "wb") as f:
        f.write(m.SerializeToString())


if __name__ == "__main__":
    main()
