#!/usr/bin/python3
"""Per-layer SQNR of lowbit's integer model against its float model.

    layer_sqnr.py --lowbitc LOWBITC --model M.onnx --calibration C.npy
                  --input X.npy --work DIR [--ops Relu,Concat,...]
                  [--flag=LOWBITC_FLAG ...] [--flags-set "LABEL:F1 F2" ...]

Adds the outputs of every node of the given op types (default: those whose
outputs lowbit quantizes anyway: Relu, Clip, Concat, Add, MaxPool,
AveragePool, GlobalAveragePool, Flatten) to the graph's outputs, runs the
extended model in the evaluator in float (`lowbitc --run`) and as the
integer model (`lowbitc --calibration C.npy --compile-to=integer --run`),
and prints, in graph order, each tensor's SQNR
10 log10(sum f^2 / sum (f - q)^2) and the step of its float range
(max - min over X) over 255, i.e. where the integer model loses accuracy.
With several --flags-set, one column each (e.g. "sqnr:--range-estimator=sqnr").
zoo.py writes the models it tests to WORK/MODEL/MODEL.onnx and the images to
WORK/data_SIZE/{calib,test}.npy.
"""
import argparse
import os
import subprocess
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "e2e"))
from cpp_bitexact import safe_name  # noqa: E402
sys.path.insert(0, HERE)
from zoo_models import sqnr  # noqa: E402

DEFAULT_OPS = "Relu,Clip,Concat,Add,MaxPool,AveragePool,GlobalAveragePool,Flatten"


def extend(model_path, ops, out_path):
    """Writes the model with the outputs of `ops` nodes added; returns the
    [(tensor, op type, node name)] added, in graph order, then the original
    outputs."""
    import onnx
    m = onnx.load(model_path)
    m = onnx.shape_inference.infer_shapes(m)
    infos = {v.name: v for v in m.graph.value_info}
    have = {o.name for o in m.graph.output}
    added = []
    for n in m.graph.node:
        if n.op_type in ops:
            t = n.output[0]
            if t in have:
                continue
            info = infos.get(t) or onnx.helper.make_tensor_value_info(
                t, onnx.TensorProto.FLOAT, None)
            m.graph.output.append(info)
            have.add(t)
            added.append((t, n.op_type, n.name))
    originals = [(o.name, "output", o.name) for o in m.graph.output
                 if o.name not in {a[0] for a in added}]
    onnx.save(m, out_path)
    return added + originals


def run(cmd):
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit("layer_sqnr: FAILED: %s\n%s" % (" ".join(cmd), proc.stderr))
    return proc


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lowbitc", required=True)
    ap.add_argument("--model", required=True)
    ap.add_argument("--calibration", required=True)
    ap.add_argument("--input", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--ops", default=DEFAULT_OPS)
    ap.add_argument("--flag", action="append", default=[],
                    help="lowbitc flag for every integer run")
    ap.add_argument("--flags-set", action="append", default=[],
                    help='"LABEL:FLAGS" (space-separated), one column each; '
                    'default one column "default:" with no extra flags')
    args = ap.parse_args()
    os.makedirs(args.work, exist_ok=True)
    ext = os.path.join(args.work, "extended.onnx")
    tensors = extend(args.model, set(args.ops.split(",")), ext)
    fdir = os.path.join(args.work, "float")
    run([args.lowbitc, ext, "--run", args.input, "-o", fdir])
    sets = args.flags_set or ["default:"]
    columns = []
    for s in sets:
        label, _, flags = s.partition(":")
        qdir = os.path.join(args.work, "int8_" + safe_name(label))
        run([args.lowbitc, ext, "--calibration", args.calibration]
            + args.flag + flags.split()
            + ["--compile-to=integer", "--run", args.input, "-o", qdir])
        columns.append((label, qdir))
    print("%-4s %-34s %-17s %9s" % ("#", "tensor", "op", "step/rms")
          + "".join(" %12s" % ("SQNR " + l)[:12] for l, _ in columns))
    for i, (t, op, _) in enumerate(tensors):
        f = np.load(os.path.join(fdir, safe_name(t) + ".npy"))
        step = (f.max() - min(f.min(), 0.0)) / 255.0
        rms = float(np.sqrt(np.mean(f.astype(np.float64) ** 2)))
        row = "%-4d %-34s %-17s %9.3f" % (i, t[-34:], op, step / max(rms, 1e-30))
        for _, qdir in columns:
            q = np.load(os.path.join(qdir, safe_name(t) + ".npy"))
            row += " %9.2f dB" % sqnr(f, q)
        print(row)


if __name__ == "__main__":
    main()
