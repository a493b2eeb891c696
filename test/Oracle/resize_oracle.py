#!/usr/bin/python3
"""ONNX Resize / Upsample in lowbit against ONNX Runtime, every mode the
importer accepts.

    resize_oracle.py --lowbitc LOWBITC --work DIR [--node NODE]

For each input size (8x8 and 5x7) one model holds a Resize per combination
as separate outputs:
  - nearest x {asymmetric, half_pixel, pytorch_half_pixel, align_corners}
    x {floor, ceil, round_prefer_floor, round_prefer_ceil},
  - linear x the same four coordinate modes,
each at three output sizes: scales [1, 1, 2, 2], sizes that are not a
multiple of the input (13 x 11), and a downsampling size (5 x 4 / 3 x 4);
plus Upsample (opset 9) nearest and linear, scale 2.

Checks, on 8 random inputs in [-1, 1] (the calibrated range):
  float: `lowbitc --run` against ONNX Runtime (test/Oracle/ort_run.js):
    nearest outputs are identical (the same input element is picked),
    linear ones agree to 1e-5 relative to the output's largest magnitude;
  int8: the integer model (`lowbitc --calibration`, lowbit.resize:
    nearest as data movement, bilinear as an exact integer sum and one
    requant) against ONNX Runtime's float output: SQNR >= 30 dB per output

Prints `resize-oracle: N outputs: float OK, int8 OK (min SQNR S dB)`, or a
line with FAILED (exit 1); exit 77 when ONNX Runtime is unavailable.
"""

import argparse
import os
import subprocess
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
COORDS = ["asymmetric", "half_pixel", "pytorch_half_pixel", "align_corners"]
ROUNDINGS = ["floor", "ceil", "round_prefer_floor", "round_prefer_ceil"]


def build(h, w, down):
    """The model for an h x w input; returns (model, output names)."""
    nodes, outputs, inits = [], [], []
    targets = [("x2", np.array([1, 1, 2, 2], np.float32), None),
               ("odd", None, np.array([1, 3, 13, 11], np.int64)),
               ("down", None, np.array([1, 3] + down, np.int64))]
    empty = numpy_helper.from_array(np.zeros(0, np.float32), "empty")
    inits.append(empty)
    combos = [("nearest", c, r) for c in COORDS for r in ROUNDINGS]
    combos += [("linear", c, None) for c in COORDS]
    for tag, scales, sizes in targets:
        if scales is not None:
            inits.append(numpy_helper.from_array(scales, "scales_" + tag))
        else:
            inits.append(numpy_helper.from_array(sizes, "sizes_" + tag))
        for mode, coord, rounding in combos:
            name = "%s_%s_%s_%s" % (tag, mode, coord, rounding or "")
            attrs = {"mode": mode, "coordinate_transformation_mode": coord}
            if rounding:
                attrs["nearest_mode"] = rounding
            ins = ["x", "empty", "scales_" + tag] if scales is not None else \
                  ["x", "empty", "empty", "sizes_" + tag]
            nodes.append(helper.make_node("Resize", ins, [name], name=name, **attrs))
            outputs.append(name)
    graph = helper.make_graph(
        nodes, "resize", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, h, w])],
        [helper.make_tensor_value_info(o, TensorProto.FLOAT, None) for o in outputs], inits)
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    m.ir_version = 7
    return m, outputs


def build_upsample(h, w):
    nodes, outputs = [], []
    inits = [numpy_helper.from_array(np.array([1, 1, 2, 2], np.float32), "s")]
    for mode in ["nearest", "linear"]:
        nodes.append(helper.make_node("Upsample", ["x", "s"], ["up_" + mode],
                                      name="up_" + mode, mode=mode))
        outputs.append("up_" + mode)
    graph = helper.make_graph(
        nodes, "upsample", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, h, w])],
        [helper.make_tensor_value_info(o, TensorProto.FLOAT, None) for o in outputs], inits)
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 9)])
    m.ir_version = 4
    return m, outputs


def run(cmd):
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    return proc


def fail(msg):
    print("resize-oracle: FAILED: %s" % msg)
    sys.exit(1)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lowbitc", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--node", default="node")
    args = ap.parse_args()
    os.makedirs(args.work, exist_ok=True)
    rng = np.random.default_rng(3)
    checked, min_sqnr = 0, float("inf")
    cases = [("a", build(8, 8, [5, 4])), ("b", build(5, 7, [3, 4])),
             ("u", build_upsample(4, 5))]
    for tag, (m, outputs) in cases:
        h, w = [d.dim_value for d in m.graph.input[0].type.tensor_type.shape.dim][2:]
        path = os.path.join(args.work, tag + ".onnx")
        onnx.save(m, path)
        # Test data inside the calibrated range (no clipping to measure).
        x = rng.uniform(-1, 1, (8, 3, h, w)).astype(np.float32)
        calib = rng.uniform(-1, 1, (16, 3, h, w)).astype(np.float32)
        calib[0, :, 0, 0], calib[0, :, 0, 1] = -1, 1
        xp, cp = [os.path.join(args.work, tag + s) for s in ("_x.npy", "_c.npy")]
        np.save(xp, x)
        np.save(cp, calib)
        ort_dir = os.path.join(args.work, tag + "_ort")
        proc = run([args.node, os.path.join(HERE, "ort_run.js"), path, "--input", xp, "-o", ort_dir])
        if proc.returncode == 77:
            print("resize-oracle: ONNX Runtime unavailable: " + proc.stderr.strip())
            sys.exit(77)
        if proc.returncode != 0:
            fail("onnxruntime: " + proc.stderr.strip())
        for kind, extra in [("float", []), ("int8", ["--calibration", cp])]:
            out = os.path.join(args.work, "%s_%s" % (tag, kind))
            proc = run([args.lowbitc, path, "--run", xp, "-o", out] + extra)
            if proc.returncode != 0:
                fail("lowbitc %s: %s" % (kind, proc.stderr.strip().splitlines()[-1]))
            for name in outputs:
                ref = np.load(os.path.join(ort_dir, name + ".npy"))
                got = np.load(os.path.join(out, name + ".npy")).reshape(ref.shape)
                if kind == "float":
                    if "nearest" in name or "up_nearest" == name:
                        bad = int((got != ref).sum())
                        if bad:
                            fail("%s: %d of %d nearest values differ from ONNX Runtime"
                                 % (name, bad, ref.size))
                    else:
                        rel = float(np.abs(got - ref).max() / np.abs(ref).max())
                        if rel > 1e-5:
                            fail("%s: relative error %.3g against ONNX Runtime" % (name, rel))
                    checked += 1
                else:
                    err = ((got - ref) ** 2).sum()
                    sqnr = 10 * np.log10((ref ** 2).sum() / max(err, 1e-30))
                    min_sqnr = min(min_sqnr, sqnr)
                    if sqnr < 30:
                        fail("%s: int8 SQNR %.1f dB against ONNX Runtime" % (name, sqnr))
    print("resize-oracle: %d outputs: float OK, int8 OK (min SQNR %.1f dB)"
          % (checked, min_sqnr))


if __name__ == "__main__":
    main()
