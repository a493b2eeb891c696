"""Checks that lowbitc kept an STLQ-trained model's weights exactly.

Reads the float weights of every Conv / Gemm of MODEL.onnx and the weights
of every tosa.conv2d / depthwise_conv2d / matmul with a #lowbit.stlq or
#lowbit.log encoding in lowbitc's Q/DQ output (MLIR.mlir, printed without
hex), and compares them layer by layer as sorted multisets (the layouts
differ: OIHW vs OHWI, [N, K] vs [1, K, N]): equal bit for bit, or the
script exits 1.
"""
import os
import sys

import numpy as np
import onnx
from onnx import numpy_helper

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "stlq"))
import mlir_text  # noqa: E402

model = onnx.load(sys.argv[1])
inits = {i.name: numpy_helper.to_array(i) for i in model.graph.initializer}
onnx_weights = [inits[n.input[1]] for n in model.graph.node
                if n.op_type in ("Conv", "Gemm") and n.input[1] in inits]

text = open(sys.argv[2]).read()
mod = mlir_text.Module(text)
ir_weights = []
for op in mod.ops:
    if op.name not in ("tosa.conv2d", "tosa.depthwise_conv2d", "tosa.matmul"):
        continue
    if "lowbit.weight_encoding" not in op.line:
        continue
    w = mod.defs[(op.func, op.operands[1])]
    ir_weights.append(mlir_text.constant_values(w, mod.resources))
if len(ir_weights) != len(onnx_weights):
    sys.exit("stlq-kept: %d encoded layers in the IR, %d weights in the model"
             % (len(ir_weights), len(onnx_weights)))
for i, (a, b) in enumerate(zip(onnx_weights, ir_weights)):
    a = np.sort(a.astype(np.float32).ravel())
    b = np.sort(np.asarray(b, np.float32).ravel())
    if a.shape != b.shape or not np.array_equal(a.view(np.uint32), b.view(np.uint32)):
        sys.exit("stlq-kept: layer %d: %d of %d weights changed"
                 % (i, int((a != b).sum()) if a.shape == b.shape else -1, a.size))
print("stlq-kept: %d layers, every weight kept bit for bit" % len(ir_weights))
