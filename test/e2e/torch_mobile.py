#!/usr/bin/python3
"""End to end against PyTorch on a MobileNetV3-style block: what the integer
target has to handle beyond conv/ReLU/pool models.

The script
  1. builds, with a fixed seed, a small float network in PyTorch: input
     normalization inside the model ((x - mean) / std per channel),
     Conv+BatchNorm+Hardswish, depthwise Conv+BatchNorm+ReLU, a
     squeeze-and-excitation block (global average pool, 1x1 Conv, ReLU, 1x1
     Conv, Hardsigmoid, channel-wise product with its input), 1x1
     Conv+BatchNorm+SiLU, global average pool, Linear and Softmax;
  2. exports it with torch.onnx.export (opset 13, batch 1);
  3. checks `lowbitc --run` (float) against torch: max abs error <= 1e-4;
  4. calibrates lowbitc on 64 structured images and runs the integer model
     (`lowbitc --calibration ... --run`: integer ops, with the products of
     activations, sigmoid and Softmax in float fallback) on 64 other images,
     and requires the probabilities to stay close to torch's float ones:
     SQNR >= --min-sqnr dB and top-1 agreement >= --min-top1 %;
  5. with --export-only, writes the model, the calibration images and the
     test images and stops (the lit test then checks the generated C++
     bit for bit with cpp_bitexact.py).

The last line is `torch-mobile: ... OK`, or a line containing FAILED with
exit code 1. Must run under Debian's /usr/bin/python3 (numpy, onnx, torch).
"""

import argparse
import os
import subprocess
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from torch_util import random_batchnorm, structured_images  # noqa: E402

SEED = 20261123
OPSET = 13
IMAGE = (3, 16, 16)
CLASSES = 8
NAME = "torch-mobile"


def fail(msg):
    print("%s: %s: FAILED" % (NAME, msg))
    sys.exit(1)


def images(n, seed):
    """Structured images scaled to [0, 1], like pixel data before the
    model's own normalization."""
    x = structured_images(n, seed, IMAGE)
    return ((x - x.min()) / (x.max() - x.min())).astype(np.float32)


def build_model():
    import torch
    from torch import nn

    torch.manual_seed(SEED)

    def bn(c):
        return random_batchnorm(c, mean_range=0.3)

    class Normalize(nn.Module):
        def __init__(self):
            super().__init__()
            self.register_buffer("mean", torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1))
            self.register_buffer("std", torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1))

        def forward(self, x):
            return (x - self.mean) / self.std

    class SqueezeExcite(nn.Module):
        def __init__(self, c, r):
            super().__init__()
            self.pool = nn.AdaptiveAvgPool2d(1)
            self.fc1 = nn.Conv2d(c, r, 1)
            self.relu = nn.ReLU()
            self.fc2 = nn.Conv2d(r, c, 1)
            self.gate = nn.Hardsigmoid()

        def forward(self, x):
            return x * self.gate(self.fc2(self.relu(self.fc1(self.pool(x)))))

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.norm = Normalize()
            self.stem = nn.Sequential(nn.Conv2d(3, 16, 3, stride=2, padding=1), bn(16),
                                      nn.Hardswish())
            self.dw = nn.Sequential(nn.Conv2d(16, 16, 3, padding=1, groups=16), bn(16),
                                    nn.ReLU())
            self.se = SqueezeExcite(16, 8)
            self.project = nn.Sequential(nn.Conv2d(16, 24, 1), bn(24), nn.SiLU())
            self.pool = nn.AdaptiveAvgPool2d(1)
            self.fc = nn.Linear(24, CLASSES)

        def forward(self, x):
            x = self.project(self.se(self.dw(self.stem(self.norm(x)))))
            return torch.softmax(self.fc(torch.flatten(self.pool(x), 1)), 1)

    return Net().eval()


def run(cmd):
    print("$ " + " ".join(cmd))
    sys.stdout.flush()
    proc = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, timeout=300)
    err = proc.stderr.decode("utf-8", "replace")
    if err.strip():
        print(err.rstrip())
    if proc.returncode != 0:
        fail("%s exited with %d" % (os.path.basename(cmd[0]), proc.returncode))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lowbitc", help="path to lowbitc (required unless --export-only)")
    ap.add_argument("--work", required=True, help="folder for the model and .npy files")
    ap.add_argument("--export-only", action="store_true")
    ap.add_argument("--min-sqnr", type=float, default=20.0,
                    help="required SQNR of the int8 probabilities vs torch, dB (default 20)")
    ap.add_argument("--min-top1", type=float, default=90.0,
                    help="required top-1 agreement with torch, %% (default 90)")
    args = ap.parse_args()
    if not args.export_only and not args.lowbitc:
        ap.error("--lowbitc is required unless --export-only is given")

    import onnx
    import torch

    os.makedirs(args.work, exist_ok=True)
    p = lambda f: os.path.join(args.work, f)
    model = build_model()
    with torch.no_grad():
        torch.onnx.export(model, torch.zeros((1,) + IMAGE), p("mobile.onnx"),
                          opset_version=OPSET, do_constant_folding=True,
                          input_names=["input"], output_names=["probs"])
    ops = [n.op_type for n in onnx.load(p("mobile.onnx")).graph.node]
    print("exported at opset %d: %s" % (OPSET, " ".join(sorted(set(ops)))))
    calib, test = images(64, SEED + 1), images(64, SEED + 2)
    np.save(p("calib.npy"), calib)
    np.save(p("test.npy"), test)
    with torch.no_grad():
        expected = model(torch.from_numpy(test)).numpy().astype(np.float64)
    if args.export_only:
        print("%s: export only: OK" % NAME)
        return 0

    run([args.lowbitc, p("mobile.onnx"), "--run", p("test.npy"), "-o", p("float.npy")])
    err = float(np.abs(np.load(p("float.npy")) - expected).max())
    print("float: lowbitc vs torch max abs err %.3g (tolerance 1e-4)" % err)
    if not err <= 1e-4:
        fail("float outputs differ from torch")

    run([args.lowbitc, p("mobile.onnx"), "--calibration", p("calib.npy"),
         "--run", p("test.npy"), "-o", p("int8.npy")])
    got = np.load(p("int8.npy")).astype(np.float64)
    sqnr = 10 * np.log10((expected ** 2).sum() / max(((got - expected) ** 2).sum(), 1e-30))
    top1 = 100.0 * np.mean(got.argmax(1) == expected.argmax(1))
    print("int8 (W8A8, float fallback) vs torch float over %d images: probabilities SQNR "
          "%.1f dB, max abs diff %.3g, top-1 agreement %.1f%%"
          % (len(test), sqnr, np.abs(got - expected).max(), top1))
    if sqnr < args.min_sqnr or top1 < args.min_top1:
        fail("SQNR %.1f dB (required %g), top-1 %.1f%% (required %g)"
             % (sqnr, args.min_sqnr, top1, args.min_top1))
    print("%s: SQNR %.1f dB, top-1 %.1f%%: OK" % (NAME, sqnr, top1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
