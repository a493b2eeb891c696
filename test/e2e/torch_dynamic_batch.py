#!/usr/bin/python3
"""A PyTorch CNN exported with a symbolic batch dimension, against lowbitc.

    torch_dynamic_batch.py --work DIR [--lowbitc LOWBITC]

1. builds a small CNN with a fixed seed (Conv2d, BatchNorm2d, ReLU,
   MaxPool2d, a strided Conv2d, x.view(x.size(0), -1), Linear, ReLU,
   Flatten, Linear) and exports it with torch.onnx.export (opset 13,
   dynamic_axes={'x': {0: 'batch'}, 'y': {0: 'batch'}}), so the graph input
   is [batch, 3, 16, 16] and the view becomes Shape -> Gather -> Unsqueeze
   -> Concat -> Reshape on the batch;
2. writes DIR/torch_dynamic.onnx, DIR/input.npy (8 samples),
   DIR/calib.npy (32 samples) and torch's output on the input;
3. with --lowbitc: runs `lowbitc torch_dynamic.onnx --run input.npy` (the
   batch is bound to 1, with one note on stderr, and lowbitc iterates over
   the 8 samples) and `lowbitc --input-shape x=8x3x16x16 --run input.npy`
   (one run at batch 8), and compares both with torch: max abs error must
   be <= 1e-4.

Prints lowbitc's stderr, then `torch-dynamic: ... OK` lines, or FAILED and
exit code 1. Must run under Debian's /usr/bin/python3 (numpy, onnx, torch).
"""
import argparse
import os
import subprocess
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "lib"))
from torch_util import random_batchnorm  # noqa: E402

TOLERANCE = 1e-4
SEED = 20261129
BATCH = 8
CALIB = 32


def build_model():
    import torch
    from torch import nn

    torch.manual_seed(SEED)

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.features = nn.Sequential(
                nn.Conv2d(3, 8, kernel_size=3, padding=1),        # 8x16x16
                random_batchnorm(8),
                nn.ReLU(),
                nn.MaxPool2d(2),                                  # 8x8x8
                nn.Conv2d(8, 16, kernel_size=3, stride=2, padding=1),
                nn.ReLU(),                                        # 16x4x4
            )
            self.fc1 = nn.Linear(16 * 4 * 4, 32)
            self.head = nn.Sequential(nn.ReLU(), nn.Flatten(),
                                      nn.Linear(32, 10))

        def forward(self, x):
            y = self.features(x)
            y = y.view(y.size(0), -1)
            return self.head(self.fc1(y))

    return Net().eval()


def run(cmd):
    proc = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True,
                          text=True, timeout=300)
    if proc.stderr.strip():
        print(proc.stderr.rstrip())
    if proc.returncode != 0:
        print("torch-dynamic: %s failed (exit %d): FAILED"
              % (" ".join(cmd), proc.returncode))
        sys.exit(1)


def compare(what, path, expected):
    actual = np.load(path)
    if actual.shape != expected.shape:
        print("torch-dynamic: %s: shape %s, expected %s: FAILED"
              % (what, actual.shape, expected.shape))
        sys.exit(1)
    err = float(np.abs(actual.astype(np.float64) - expected).max())
    verdict = "OK" if err <= TOLERANCE else "FAILED"
    print("torch-dynamic: %s: max abs err %.3g (tolerance 1e-4): %s"
          % (what, err, verdict))
    if verdict != "OK":
        sys.exit(1)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--work", required=True)
    ap.add_argument("--lowbitc")
    args = ap.parse_args()

    import onnx
    import torch

    os.makedirs(args.work, exist_ok=True)
    model_path = os.path.join(args.work, "torch_dynamic.onnx")
    in_path = os.path.join(args.work, "input.npy")
    calib_path = os.path.join(args.work, "calib.npy")

    model = build_model()
    with torch.no_grad():
        torch.onnx.export(model, torch.zeros(2, 3, 16, 16), model_path,
                          opset_version=13, do_constant_folding=True,
                          input_names=["x"], output_names=["y"],
                          dynamic_axes={"x": {0: "batch"}, "y": {0: "batch"}})
    m = onnx.load(model_path)
    onnx.checker.check_model(m)
    dims = m.graph.input[0].type.tensor_type.shape.dim
    print("exported %s: input x [%s], ops %s" % (
        model_path, ", ".join(d.dim_param or str(d.dim_value) for d in dims),
        " ".join(n.op_type for n in m.graph.node)))

    rng = np.random.default_rng(SEED)
    x = rng.standard_normal((BATCH, 3, 16, 16)).astype(np.float32)
    np.save(in_path, x)
    np.save(calib_path,
            rng.standard_normal((CALIB, 3, 16, 16)).astype(np.float32))
    with torch.no_grad():
        expected = model(torch.from_numpy(x)).numpy().astype(np.float64)
    if not args.lowbitc:
        return 0

    out1 = os.path.join(args.work, "out_batch1.npy")
    run([args.lowbitc, model_path, "--run", in_path, "-o", out1])
    compare("batch bound to 1, 8 runs", out1, expected)
    out8 = os.path.join(args.work, "out_batch8.npy")
    run([args.lowbitc, model_path, "--input-shape", "x=%dx3x16x16" % BATCH,
         "--run", in_path, "-o", out8])
    compare("--input-shape x=8x3x16x16, 1 run", out8, expected)
    return 0


if __name__ == "__main__":
    sys.exit(main())
