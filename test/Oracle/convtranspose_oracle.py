#!/usr/bin/python3
"""ONNX ConvTranspose in lowbit (float) against ONNX Runtime and PyTorch.

    convtranspose_oracle.py --lowbitc LOWBITC --work DIR [--node NODE]

1. Every valid one-node model of test/Import/ONNX/Inputs/make_convtranspose.py
   (strides 1 to 3, pads, output_padding, groups, depthwise, dilation,
   auto_pad SAME_UPPER / SAME_LOWER / VALID, output_shape, 1-D, crops where
   a padding exceeds the kernel) on 4 random inputs: `lowbitc --run`
   against ONNX Runtime (test/Oracle/ort_run.js).
2. torch.nn.ConvTranspose2d in five configurations (k=2 s=2; k=4 s=2 p=1;
   k=3 s=2 p=1 output_padding=1; groups=2; dilation=2), each exported by
   torch.onnx at opset 11 and at opset 13: `lowbitc --run` against ONNX
   Runtime and against torch.

Every output must agree to 1e-4 relative to the reference's largest
magnitude. Prints one line per model set and `convtranspose-oracle: N
models OK (max rel err E)`, or FAILED (exit 1); exit 77 when ONNX Runtime
is unavailable.
"""

import argparse
import os
import subprocess
import sys

import numpy as np
import onnx

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "Import", "ONNX", "Inputs"))
import make_convtranspose  # noqa: E402

TORCH_CONFIGS = {
    "k2s2": dict(in_channels=4, out_channels=3, kernel_size=2, stride=2),
    "k4s2p1": dict(in_channels=4, out_channels=3, kernel_size=4, stride=2, padding=1),
    "k3s2p1op1": dict(in_channels=4, out_channels=3, kernel_size=3, stride=2,
                      padding=1, output_padding=1),
    "groups2": dict(in_channels=4, out_channels=6, kernel_size=3, stride=2,
                    padding=1, groups=2),
    "dilation2": dict(in_channels=4, out_channels=3, kernel_size=3, stride=1,
                      padding=1, dilation=2),
}


def fail(msg):
    print("convtranspose-oracle: FAILED: %s" % msg)
    sys.exit(1)


def run(cmd):
    return subprocess.run(cmd, capture_output=True, text=True, timeout=600)


def rel_err(got, ref):
    got = got.reshape(ref.shape)
    return float(np.abs(got.astype(np.float64) - ref).max() / max(np.abs(ref).max(), 1e-30))


class Checker:
    def __init__(self, args):
        self.args = args
        self.count = 0
        self.worst = 0.0

    def ort(self, path, x):
        out = path + ".ort.npy"
        proc = run([self.args.node, os.path.join(HERE, "ort_run.js"), path,
                    "--input", x, "-o", out])
        if proc.returncode == 77:
            print("convtranspose-oracle: ONNX Runtime unavailable: " + proc.stderr.strip())
            sys.exit(77)
        if proc.returncode != 0:
            fail("onnxruntime on %s: %s" % (path, proc.stderr.strip()))
        return np.load(out)

    def lowbitc(self, path, x):
        out = path + ".lowbit.npy"
        proc = run([self.args.lowbitc, path, "--run", x, "-o", out])
        if proc.returncode != 0:
            fail("lowbitc on %s: %s" % (path, proc.stderr.strip()))
        return np.load(out)

    def check(self, name, got, ref, against):
        if got.size != ref.size:
            fail("%s: %d outputs, %s has %d" % (name, got.size, against, ref.size))
        err = rel_err(got, ref)
        self.worst = max(self.worst, err)
        if not err <= 1e-4:
            fail("%s: relative error %.3g against %s" % (name, err, against))
        return err


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lowbitc", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--node", default="node")
    args = ap.parse_args()
    os.makedirs(args.work, exist_ok=True)
    c = Checker(args)
    rng = np.random.default_rng(11)

    # 1. One-node models against ONNX Runtime.
    worst = 0.0
    for case in make_convtranspose.VALID:
        m = make_convtranspose.build(case)
        path = os.path.join(args.work, case + ".onnx")
        onnx.save(m, path)
        shape = make_convtranspose.VALID[case][0]
        x = rng.standard_normal([4] + shape[1:]).astype(np.float32)
        xp = os.path.join(args.work, case + "_x.npy")
        np.save(xp, x)
        worst = max(worst, c.check(case, c.lowbitc(path, xp), c.ort(path, xp), "ONNX Runtime"))
        c.count += 1
    print("convtranspose-oracle: %d one-node models match ONNX Runtime (max rel err %.2g)"
          % (len(make_convtranspose.VALID), worst))

    # 2. torch.nn.ConvTranspose2d exported at opsets 11 and 13.
    import torch
    torch.manual_seed(0)
    worst = 0.0
    for name, cfg in TORCH_CONFIGS.items():
        layer = torch.nn.ConvTranspose2d(**cfg).eval()
        x = torch.randn(4, cfg["in_channels"], 5, 6)
        with torch.no_grad():
            ref = layer(x).numpy().astype(np.float64)
        xp = os.path.join(args.work, "torch_%s_x.npy" % name)
        np.save(xp, x.numpy())
        for opset in (11, 13):
            path = os.path.join(args.work, "torch_%s_op%d.onnx" % (name, opset))
            torch.onnx.export(layer, x[:1], path, opset_version=opset,
                              input_names=["x"], output_names=["y"])
            if not any(n.op_type == "ConvTranspose" for n in onnx.load(path).graph.node):
                fail("%s: torch exported no ConvTranspose" % path)
            got = c.lowbitc(path, xp)
            tag = "%s opset %d" % (name, opset)
            worst = max(worst, c.check(tag, got, ref, "torch"))
            worst = max(worst, c.check(tag, got, c.ort(path, xp).astype(np.float64),
                                       "ONNX Runtime"))
            c.count += 1
    print("convtranspose-oracle: %d torch exports match torch and ONNX Runtime (max rel err %.2g)"
          % (2 * len(TORCH_CONFIGS), worst))
    print("convtranspose-oracle: %d models OK (max rel err %.2g)" % (c.count, c.worst))


if __name__ == "__main__":
    main()
