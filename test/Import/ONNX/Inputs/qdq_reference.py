#!/usr/bin/python3
"""numpy reference for the `qdq` model of make_model.py: QuantizeLinear /
DequantizeLinear with ONNX semantics (float32 division, round half to even,
saturation), then a 1x1 convolution with per-channel dequantized weights.

Usage: qdq_reference.py MODEL.onnx X.npy Y.npy
"""
import sys

import numpy as np
import onnx
from onnx import numpy_helper

m = onnx.load(sys.argv[1])
p = {i.name: numpy_helper.to_array(i) for i in m.graph.initializer}
x = np.load(sys.argv[2])
xs, xz = np.float32(p["xs"]), int(p["xz"])
q = np.clip(np.rint(x / xs) + xz, 0, 255)
xd = ((q - xz) * xs).astype(np.float32)
w = p["w"].astype(np.float32) * p["ws"].reshape(-1, 1, 1, 1)
want = np.einsum("oc,nchw->nohw", w[:, :, 0, 0], xd)
got = np.load(sys.argv[3])
err = float(np.abs(want - got).max())
print("max abs err %.3g %s" % (err, "ok" if err < 1e-5 else "MISMATCH"))
