#!/usr/bin/python3
"""Writes small ONNX models of the ops transformers and ConvNeXt export
(LayerNormalization and its decomposed form, Pow, Sqrt, Erf, Gelu,
comparisons, Where, Expand, Range, Gather of embeddings, attention MatMuls)
for the importer's lit tests and test/Oracle/ort-transformer-ops.test.

Usage: transformer_ops.py CASE OUT.onnx
       transformer_ops.py --list          (the cases that run in ORT)

Every model is built with onnx.helper from fixed seeds.
"""
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

F = TensorProto.FLOAT
I64 = TensorProto.INT64
B = TensorProto.BOOL

rng = np.random.RandomState(11)


def init(name, array):
    return numpy_helper.from_array(np.asarray(array), name)


def const(name, array):
    return helper.make_node("Constant", [], [name], name=name,
                            value=numpy_helper.from_array(np.asarray(array)))


def model(nodes, inputs, outputs, inits=(), opset=13):
    graph = helper.make_graph(nodes, "g", inputs, outputs, list(inits))
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    m.ir_version = 8
    return m


def vi(name, shape, elem=F):
    return helper.make_tensor_value_info(name, elem, shape)


GAMMA = (1.0 + 0.1 * rng.randn(8)).astype(np.float32)
BETA = (0.1 * rng.randn(8)).astype(np.float32)


def ln17():
    """LayerNormalization (opset 17) over the last axis, with a bias."""
    return model([
        helper.make_node("LayerNormalization", ["x", "g", "b"], ["y"],
                         name="ln", axis=-1, epsilon=1e-5),
    ], [vi("x", [2, 5, 8])], [vi("y", [2, 5, 8])],
        [init("g", GAMMA), init("b", BETA)], opset=17)


def ln13():
    """The same layer norm as torch exports it at opset 13."""
    return model([
        helper.make_node("ReduceMean", ["x"], ["m"], name="mean", axes=[-1]),
        helper.make_node("Sub", ["x", "m"], ["d"], name="sub"),
        const("two", np.float32(2.0)),
        helper.make_node("Pow", ["d", "two"], ["d2"], name="pow"),
        helper.make_node("ReduceMean", ["d2"], ["v"], name="var", axes=[-1]),
        const("eps", np.float32(1e-5)),
        helper.make_node("Add", ["v", "eps"], ["ve"], name="add_eps"),
        helper.make_node("Sqrt", ["ve"], ["s"], name="sqrt"),
        helper.make_node("Div", ["d", "s"], ["n"], name="div"),
        helper.make_node("Mul", ["n", "g"], ["ng"], name="scale"),
        helper.make_node("Add", ["ng", "b"], ["y"], name="shift"),
    ], [vi("x", [2, 5, 8])], [vi("y", [2, 5, 8])],
        [init("g", GAMMA), init("b", BETA)])


def ln17_axis1():
    """LayerNormalization over axes 1..2, no bias, a [5, 8] scale."""
    g = (1.0 + 0.1 * rng.randn(5, 8)).astype(np.float32)
    return model([
        helper.make_node("LayerNormalization", ["x", "g"], ["y"],
                         name="ln", axis=1, epsilon=1e-3),
    ], [vi("x", [2, 5, 8])], [vi("y", [2, 5, 8])], [init("g", g)], opset=17)


def ln_mean_used():
    """LayerNormalization whose Mean output is a graph output."""
    return model([
        helper.make_node("LayerNormalization", ["x", "g"], ["y", "mean"],
                         name="ln", axis=-1),
    ], [vi("x", [2, 8])], [vi("y", [2, 8]), vi("mean", [2, 1])],
        [init("g", GAMMA)], opset=17)


def ln_outputs_unread():
    """LayerNormalization listing Mean and InvStdDev that nothing reads."""
    return model([
        helper.make_node("LayerNormalization", ["x", "g"],
                         ["y", "mean", "istd"], name="ln", axis=-1),
    ], [vi("x", [2, 8])], [vi("y", [2, 8])], [init("g", GAMMA)], opset=17)


def ln_opset13():
    """LayerNormalization in a model of opset 13, where it does not exist."""
    return model([
        helper.make_node("LayerNormalization", ["x", "g"], ["y"], name="ln"),
    ], [vi("x", [2, 8])], [vi("y", [2, 8])], [init("g", GAMMA)], opset=13)


def ln_stash16():
    return model([
        helper.make_node("LayerNormalization", ["x", "g"], ["y"], name="ln",
                         stash_type=16),
    ], [vi("x", [2, 8])], [vi("y", [2, 8])], [init("g", GAMMA)], opset=17)


def pow_forms():
    """Pow by the constants with short forms, by 1.7, by a per-column
    constant and by a runtime exponent; Sqrt, Reciprocal, Erf."""
    nodes, outs = [], []
    for i, e in enumerate([2.0, 3.0, 1.0, 0.5, -1.0, -0.5, 1.7]):
        nodes.append(const("e%d" % i, np.float32(e)))
        nodes.append(helper.make_node("Pow", ["x", "e%d" % i], ["p%d" % i],
                                      name="pow%d" % i))
        outs.append(vi("p%d" % i, [2, 4]))
    nodes.append(const("ecol", np.array([1.0, 2.0, 0.5, 3.0], np.float32)))
    nodes.append(helper.make_node("Pow", ["x", "ecol"], ["pc"], name="powcol"))
    nodes.append(helper.make_node("Pow", ["x", "e"], ["pr"], name="powrt"))
    nodes.append(helper.make_node("Sqrt", ["x"], ["sq"], name="sqrt"))
    nodes.append(helper.make_node("Reciprocal", ["x"], ["rc"], name="recip"))
    nodes.append(helper.make_node("Erf", ["x"], ["er"], name="erf"))
    outs += [vi(n, [2, 4]) for n in ["pc", "pr", "sq", "rc", "er"]]
    return model(nodes, [vi("x", [2, 4]), vi("e", [4])], outs)


def pow_bad_shape():
    """A runtime exponent [3] that does not broadcast with X [2, 4]."""
    return model([helper.make_node("Pow", ["x", "e"], ["y"], name="pow")],
                 [vi("x", [2, 4]), vi("e", [3])], [vi("y", [2, 4])])


def gelu20():
    """Gelu (opset 20), exact and tanh approximation."""
    return model([
        helper.make_node("Gelu", ["x"], ["y"], name="gelu"),
        helper.make_node("Gelu", ["x"], ["t"], name="gelu_tanh",
                         approximate="tanh"),
    ], [vi("x", [3, 16])], [vi("y", [3, 16]), vi("t", [3, 16])], opset=20)


def gelu_bad():
    return model([
        helper.make_node("Gelu", ["x"], ["y"], name="gelu",
                         approximate="sigmoid"),
    ], [vi("x", [3, 16])], [vi("y", [3, 16])], opset=20)


def compare_where():
    """Runtime comparisons, logic and Where (a masked fill)."""
    return model([
        const("zero", np.float32(0.0)),
        const("fill", np.float32(-7.5)),
        helper.make_node("Equal", ["a", "b"], ["eq"], name="eq"),
        helper.make_node("Less", ["a", "b"], ["lt"], name="lt"),
        helper.make_node("Greater", ["a", "zero"], ["gt"], name="gt"),
        helper.make_node("LessOrEqual", ["a", "b"], ["le"], name="le"),
        helper.make_node("GreaterOrEqual", ["a", "b"], ["ge"], name="ge"),
        helper.make_node("Not", ["gt"], ["ngt"], name="not"),
        helper.make_node("And", ["lt", "ngt"], ["and"], name="and"),
        helper.make_node("Or", ["eq", "and"], ["or"], name="or"),
        helper.make_node("Where", ["or", "a", "fill"], ["y"], name="where"),
    ], [vi("a", [3, 4]), vi("b", [4])],
        [vi("y", [3, 4]), vi("le", [3, 4], B), vi("ge", [3, 4], B)])


def where_bad_shape():
    return model([
        helper.make_node("Where", ["c", "a", "b"], ["y"], name="where"),
    ], [vi("c", [2, 3], B), vi("a", [2, 3]), vi("b", [4])], [vi("y", [2, 3])])


def class_token():
    """torchvision ViT's class-token path: Shape/ConstantOfShape/Equal/
    Where/Expand of a constant, then Concat with the patches."""
    tok = rng.randn(1, 1, 8).astype(np.float32)
    one = numpy_helper.from_array(np.array([1], np.int64))
    return model([
        helper.make_node("Shape", ["x"], ["s"], name="shape"),
        const("i0", np.int64(0)),
        helper.make_node("Gather", ["s", "i0"], ["n"], name="batch", axis=0),
        const("ax0", np.array([0], np.int64)),
        helper.make_node("Unsqueeze", ["n", "ax0"], ["n1"], name="unsq"),
        const("m1", np.array([-1], np.int64)),
        helper.make_node("Concat", ["n1", "m1", "m1"], ["shp"], name="cat",
                         axis=0),
        helper.make_node("Shape", ["shp"], ["ss"], name="shape2"),
        helper.make_node("ConstantOfShape", ["ss"], ["ones"], name="cos",
                         value=one),
        const("neg", np.int64(-1)),
        helper.make_node("Mul", ["ones", "neg"], ["negs"], name="mul"),
        helper.make_node("Equal", ["shp", "negs"], ["eq"], name="equal"),
        helper.make_node("Where", ["eq", "ones", "shp"], ["w"], name="where"),
        helper.make_node("Expand", ["tok", "w"], ["cls"], name="expand"),
        helper.make_node("Concat", ["cls", "x"], ["cat2"], name="cat_tokens",
                         axis=1),
        const("r0", np.int64(0)),
        const("r1", np.int64(9)),
        const("r2", np.int64(1)),
        helper.make_node("Range", ["r0", "r1", "r2"], ["pos"], name="range"),
        helper.make_node("Cast", ["pos"], ["posf"], name="cast", to=F),
        const("ax1", np.array([1], np.int64)),
        helper.make_node("Unsqueeze", ["posf", "ax1"], ["pos2"], name="unsq2"),
        helper.make_node("Add", ["cat2", "pos2"], ["y"], name="add"),
    ], [vi("x", ["batch", 8, 8])], [vi("y", ["batch", 9, 8])],
        [init("tok", tok)])


def expand_runtime():
    """Expand of an activation (bidirectional: [3, 1] by [2, 1, 4])."""
    return model([
        const("shape", np.array([2, 1, 4], np.int64)),
        helper.make_node("Expand", ["x", "shape"], ["y"], name="expand"),
    ], [vi("x", [3, 1])], [vi("y", [2, 3, 4])])


def gather_embed():
    """Token embeddings: a [10, 6] table gathered by int64 ids [2, 3]."""
    table = rng.randn(10, 6).astype(np.float32)
    return model([
        helper.make_node("Gather", ["table", "ids"], ["y"], name="embed",
                         axis=0),
    ], [vi("ids", [2, 3], I64)], [vi("y", [2, 3, 6])], [init("table", table)])


def gather_axis1():
    """A gather along axis 1 of an activation by runtime ids."""
    return model([
        helper.make_node("Gather", ["x", "ids"], ["y"], name="pick", axis=1),
    ], [vi("x", [2, 5, 3]), vi("ids", [4], I64)], [vi("y", [2, 4, 3])])


def matmul_attention():
    """Attention: Q K^T over [B, H, S, D] with the transposes torch writes,
    softmax, times V; and a 4-D activation by a constant 2-D weight."""
    w = (0.2 * rng.randn(8, 16)).astype(np.float32)
    return model([
        helper.make_node("Transpose", ["k"], ["kt"], name="kt",
                         perm=[0, 1, 3, 2]),
        helper.make_node("MatMul", ["q", "kt"], ["s"], name="qk"),
        helper.make_node("Softmax", ["s"], ["p"], name="softmax", axis=-1),
        helper.make_node("MatMul", ["p", "v"], ["o"], name="av"),
        helper.make_node("Transpose", ["o"], ["ot"], name="ot",
                         perm=[0, 2, 1, 3]),
        helper.make_node("MatMul", ["ot", "w"], ["y"], name="linear"),
    ], [vi("q", [1, 2, 5, 8]), vi("k", [1, 2, 5, 8]), vi("v", [1, 2, 5, 8])],
        [vi("y", [1, 5, 2, 16])], [init("w", w)])


def ln_gelu():
    """A small float-fallback model for the C++ target: Conv, channels-last
    LayerNormalization, a Linear, Gelu (as torch exports it: Erf), a
    Linear and a Conv, with a residual add."""
    w1 = (0.3 * rng.randn(8, 3, 3, 3)).astype(np.float32)
    b1 = (0.1 * rng.randn(8)).astype(np.float32)
    l1 = (0.3 * rng.randn(8, 16)).astype(np.float32)
    l2 = (0.3 * rng.randn(16, 8)).astype(np.float32)
    w2 = (0.3 * rng.randn(4, 8, 1, 1)).astype(np.float32)
    return model([
        helper.make_node("Conv", ["x", "w1", "b1"], ["c"], name="conv1",
                         pads=[1, 1, 1, 1]),
        helper.make_node("Transpose", ["c"], ["cl"], name="to_nhwc",
                         perm=[0, 2, 3, 1]),
        helper.make_node("LayerNormalization", ["cl", "g", "b"], ["n"],
                         name="ln", axis=-1, epsilon=1e-6),
        helper.make_node("MatMul", ["n", "l1"], ["h"], name="fc1"),
        const("rs2", np.float32(1.4142135)),
        helper.make_node("Div", ["h", "rs2"], ["hd"], name="gelu_div"),
        helper.make_node("Erf", ["hd"], ["he"], name="gelu_erf"),
        const("one", np.float32(1.0)),
        helper.make_node("Add", ["he", "one"], ["h1"], name="gelu_add"),
        helper.make_node("Mul", ["h", "h1"], ["hm"], name="gelu_mul"),
        const("half", np.float32(0.5)),
        helper.make_node("Mul", ["hm", "half"], ["g2"], name="gelu_half"),
        helper.make_node("MatMul", ["g2", "l2"], ["o"], name="fc2"),
        helper.make_node("Add", ["o", "cl"], ["r"], name="residual"),
        helper.make_node("Transpose", ["r"], ["rn"], name="to_nchw",
                         perm=[0, 3, 1, 2]),
        helper.make_node("Conv", ["rn", "w2"], ["y"], name="conv2"),
    ], [vi("x", [1, 3, 6, 6])], [vi("y", [1, 4, 6, 6])],
        [init("w1", w1), init("b1", b1), init("g", GAMMA), init("b", BETA),
         init("l1", l1), init("l2", l2), init("w2", w2)], opset=17)


def conv_pow_sqrt():
    """Float fallback of a power by 1.5 and a square root between two
    convolutions (tosa.pow and its square-root form)."""
    w1 = (0.3 * rng.randn(8, 3, 3, 3)).astype(np.float32)
    w2 = (0.3 * rng.randn(4, 8, 1, 1)).astype(np.float32)
    return model([
        helper.make_node("Conv", ["x", "w1"], ["c"], name="conv1",
                         pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c"], ["r"], name="relu"),
        const("e", np.float32(1.5)),
        helper.make_node("Pow", ["r", "e"], ["p"], name="pow"),
        helper.make_node("Sqrt", ["r"], ["s"], name="sqrt"),
        helper.make_node("Add", ["p", "s"], ["a"], name="add"),
        helper.make_node("Conv", ["a", "w2"], ["y"], name="conv2"),
    ], [vi("x", [1, 3, 6, 6])], [vi("y", [1, 4, 6, 6])],
        [init("w1", w1), init("w2", w2)])


def opset9_forms():
    """Opset 9-11 forms: Upsample (9), Slice and Pad by attributes (9),
    then Clip with min/max inputs is opset 11 (see opset11_clip)."""
    return model([
        const("scales", np.array([1, 1, 2, 2], np.float32)),
        helper.make_node("Upsample", ["x", "scales"], ["u"], name="up",
                         mode="nearest"),
        helper.make_node("Slice", ["u"], ["s"], name="slice", starts=[1, 2],
                         ends=[3, 7], axes=[1, 3]),
        helper.make_node("Pad", ["s"], ["y"], name="pad",
                         pads=[0, 0, 1, 0, 0, 0, 0, 2], value=0.5),
    ], [vi("x", [1, 3, 4, 4])], [vi("y", [1, 2, 9, 7])], opset=9)


def opset11_clip():
    return model([
        const("lo", np.float32(-0.5)),
        const("hi", np.float32(0.75)),
        helper.make_node("Clip", ["x", "lo", "hi"], ["c"], name="clip"),
        # A runtime bound (ONNX Runtime takes scalar bounds only).
        helper.make_node("ReduceMax", ["m"], ["mx"], name="bound",
                         keepdims=0),
        helper.make_node("Clip", ["c", "", "mx"], ["y"], name="clip_rt"),
    ], [vi("x", [2, 6]), vi("m", [6])], [vi("y", [2, 6])], opset=11)


def mod_fold():
    """Mod of constants (the shape arithmetic of swin's window padding),
    fmod 0 (the divisor's sign) and 1 (the dividend's), cast and added to
    x: folded on the host."""
    a = np.array([-7, 7, -7, 7], np.int64)
    b = np.array([3, 3, -3, -3], np.int64)
    return model([
        const("a", a), const("b", b),
        helper.make_node("Mod", ["a", "b"], ["m0"], name="mod0"),
        helper.make_node("Mod", ["a", "b"], ["m1"], name="mod1", fmod=1),
        helper.make_node("Cast", ["m0"], ["f0"], name="cast0", to=F),
        helper.make_node("Cast", ["m1"], ["f1"], name="cast1", to=F),
        helper.make_node("Add", ["x", "f0"], ["s"], name="add0"),
        helper.make_node("Mul", ["s", "f1"], ["y"], name="mul1"),
    ], [vi("x", [2, 4])], [vi("y", [2, 4])])


def mod_runtime():
    """Mod of an activation: not supported (only constants fold)."""
    return model([
        const("b", np.array([3.0], np.float32)),
        helper.make_node("Mod", ["x", "b"], ["y"], name="mod_rt", fmod=1),
    ], [vi("x", [2, 4])], [vi("y", [2, 4])])


def scatternd_fold():
    """ScatterND on constants (swin's shifted-window mask, built by slice
    assignment): rows of a zero [3, 4] replaced, one element replaced."""
    return model([
        const("data", np.zeros((3, 4), np.float32)),
        const("rows", np.array([[2], [0]], np.int64)),
        const("rowv", np.array([[1, 2, 3, 4], [5, 6, 7, 8]], np.float32)),
        const("elem", np.array([[1, -1]], np.int64)),
        const("elemv", np.array([9], np.float32)),
        helper.make_node("ScatterND", ["data", "rows", "rowv"], ["d1"],
                         name="scatter_rows"),
        helper.make_node("ScatterND", ["d1", "elem", "elemv"], ["d2"],
                         name="scatter_elem"),
        helper.make_node("Add", ["x", "d2"], ["y"], name="add"),
    ], [vi("x", [3, 4])], [vi("y", [3, 4])])


def dropout_train0():
    """Dropout in training mode with a ratio of 0 (torchvision's swin):
    the identity."""
    return model([
        const("ratio", np.array(0.0, np.float32)),
        const("train", np.array(True)),
        helper.make_node("Dropout", ["x", "ratio", "train"], ["d"],
                         name="dropout"),
        helper.make_node("Relu", ["d"], ["y"], name="relu"),
    ], [vi("x", [2, 4])], [vi("y", [2, 4])])


def dropout_train_half():
    """Dropout in training mode with ratio 0.5: random, not supported."""
    return model([
        const("ratio", np.array(0.5, np.float32)),
        const("train", np.array(True)),
        helper.make_node("Dropout", ["x", "ratio", "train"], ["y"],
                         name="dropout"),
    ], [vi("x", [2, 4])], [vi("y", [2, 4])])


def strided_slice():
    """Slices with steps 2 of an activation (swin's patch merging
    x[:, 0::2, 1::2, :]), one axis of odd size (5: elements 0, 2, 4)."""
    return model([
        const("st", np.array([0, 1], np.int64)),
        const("en", np.array([5, 6], np.int64)),
        const("ax", np.array([1, 2], np.int64)),
        const("sp", np.array([2, 2], np.int64)),
        helper.make_node("Slice", ["x", "st", "en", "ax", "sp"], ["y"],
                         name="slice"),
    ], [vi("x", [1, 5, 6])], [vi("y", [1, 3, 3])])


# The cases ORT runs (test/Oracle/ort-transformer-ops.test); the others are
# bad inputs of the lit tests.
ORACLE = ["ln17", "ln13", "ln17_axis1", "ln_outputs_unread", "pow_forms",
          "gelu20", "compare_where", "class_token", "expand_runtime",
          "gather_embed", "gather_axis1", "matmul_attention", "ln_gelu",
          "conv_pow_sqrt",
          "opset9_forms", "opset11_clip", "mod_fold", "scatternd_fold",
          "dropout_train0", "strided_slice"]

CASES = {f.__name__: f for f in [
    ln17, ln13, ln17_axis1, ln_mean_used, ln_outputs_unread, ln_opset13,
    ln_stash16, pow_forms, pow_bad_shape, gelu20, gelu_bad, compare_where,
    where_bad_shape, class_token, expand_runtime, gather_embed, gather_axis1,
    matmul_attention, ln_gelu, conv_pow_sqrt, opset9_forms, opset11_clip,
    mod_fold, mod_runtime, scatternd_fold, dropout_train0,
    dropout_train_half, strided_slice]}


def main():
    if sys.argv[1:] == ["--list"]:
        print(" ".join(ORACLE))
        return
    if len(sys.argv) != 3 or sys.argv[1] not in CASES:
        sys.exit("usage: transformer_ops.py {%s} OUT.onnx" % ",".join(CASES))
    m = CASES[sys.argv[1]]()
    with open(sys.argv[2], "wb") as f:
        f.write(m.SerializeToString())


if __name__ == "__main__":
    main()
