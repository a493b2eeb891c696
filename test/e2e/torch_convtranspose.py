#!/usr/bin/python3
"""ConvTranspose on the integer target: torch models exported to ONNX,
calibrated and run by lowbitc as integer ops, against torch's float output.

    torch_convtranspose.py --lowbitc LOWBITC --work DIR

Writes, for test/e2e/convtranspose-int.test to build as C++ with
test/e2e/cpp_bitexact.py:
  DIR/branches.onnx  one input, five outputs: Conv+ReLU, then
                     nn.ConvTranspose2d k=2 s=2 / k=4 s=2 p=1 /
                     k=3 s=2 p=1 output_padding=1 / groups=2 / dilation=2
                     (opset 13)
  DIR/head.onnx      a DBNet-style FPN head (paddle2onnx's opset 11):
                     Conv 3x3 + BN + ReLU, ConvTranspose k=2 s=2 + BN + ReLU,
                     ConvTranspose k=2 s=2, Sigmoid
  DIR/head_logits.onnx  the same head without its Sigmoid
  DIR/*_calib.npy (32 samples), DIR/*_x.npy (16 other samples)

For each model it checks the float import (`lowbitc --run`) against torch
(1e-4 relative) and prints the integer model's SQNR (`lowbitc --calibration
--run`, W8A8) against torch's float output, per output.
"""

import argparse
import os
import subprocess
import sys

import numpy as np
import torch
import torch.nn as nn


class Branches(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(3, 8, 3, padding=1)
        self.ct = nn.ModuleList([
            nn.ConvTranspose2d(8, 4, 2, stride=2),
            nn.ConvTranspose2d(8, 4, 4, stride=2, padding=1),
            nn.ConvTranspose2d(8, 4, 3, stride=2, padding=1, output_padding=1),
            nn.ConvTranspose2d(8, 6, 3, stride=2, padding=1, groups=2),
            nn.ConvTranspose2d(8, 4, 3, stride=1, padding=1, dilation=2),
        ])

    def forward(self, x):
        h = torch.relu(self.stem(x))
        return tuple(ct(h) for ct in self.ct)


class Head(nn.Module):
    """DBNet's probability head on a fused FPN feature map."""

    def __init__(self, c=16, sigmoid=True):
        super().__init__()
        self.conv = nn.Conv2d(c, c // 4, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(c // 4)
        self.up1 = nn.ConvTranspose2d(c // 4, c // 4, 2, stride=2)
        self.bn2 = nn.BatchNorm2d(c // 4)
        self.up2 = nn.ConvTranspose2d(c // 4, 1, 2, stride=2)
        self.sigmoid = sigmoid

    def forward(self, x):
        x = torch.relu(self.bn1(self.conv(x)))
        x = torch.relu(self.bn2(self.up1(x)))
        x = self.up2(x)
        return torch.sigmoid(x) if self.sigmoid else x


def fail(msg):
    print("torch-convtranspose: FAILED: %s" % msg)
    sys.exit(1)


def lowbitc(args, model, x, out, extra=()):
    proc = subprocess.run([args.lowbitc, model, "--run", x, "-o", out] + list(extra),
                          capture_output=True, text=True, timeout=600)
    if proc.returncode != 0:
        fail("lowbitc %s: %s" % (" ".join(extra), proc.stderr.strip()))
    return proc.stderr


def outputs(path, names):
    if len(names) == 1:
        return [np.load(path)]
    return [np.load(os.path.join(path, n + ".npy")) for n in names]


def sqnr(got, ref):
    err = ((got.reshape(ref.shape).astype(np.float64) - ref) ** 2).sum()
    return 10 * np.log10((ref ** 2).sum() / max(err, 1e-30))


def check(args, tag, net, x, calib, opset, names):
    path = os.path.join(args.work, tag + ".onnx")
    torch.onnx.export(net, x[:1], path, opset_version=opset, input_names=["x"],
                      output_names=names)
    xp, cp = [os.path.join(args.work, tag + s) for s in ("_x.npy", "_calib.npy")]
    np.save(xp, x.numpy())
    np.save(cp, calib.numpy())
    with torch.no_grad():
        ref = net(x)
    refs = [r.numpy().astype(np.float64) for r in (ref if isinstance(ref, tuple) else (ref,))]
    lowbitc(args, path, xp, os.path.join(args.work, tag + "_float" + ("" if len(names) > 1 else ".npy")))
    got = outputs(os.path.join(args.work, tag + "_float" + ("" if len(names) > 1 else ".npy")), names)
    worst = max(float(np.abs(g.reshape(r.shape) - r).max() / np.abs(r).max())
                for g, r in zip(got, refs))
    if not worst <= 1e-4:
        fail("%s: float import differs from torch by %.3g (relative)" % (tag, worst))
    iout = os.path.join(args.work, tag + "_int8" + ("" if len(names) > 1 else ".npy"))
    lowbitc(args, path, xp, iout, ["--calibration", cp])
    got = outputs(iout, names)
    s = ", ".join("%s %.1f dB" % (n, sqnr(g, r)) for n, g, r in zip(names, got, refs))
    print("torch-convtranspose: %s: float max rel err %.1e; int8 SQNR vs torch float: %s"
          % (tag, worst, s))
    return [sqnr(g, r) for g, r in zip(got, refs)]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lowbitc", required=True)
    ap.add_argument("--work", required=True)
    args = ap.parse_args()
    os.makedirs(args.work, exist_ok=True)
    torch.manual_seed(0)

    net = Branches().eval()
    x = torch.randn(16, 3, 6, 7)
    calib = torch.randn(32, 3, 6, 7)
    names = ["y%d" % i for i in range(5)]
    worst = min(check(args, "branches", net, x, calib, 13, names))
    if worst < 30:
        fail("branches: int8 SQNR %.1f dB below 30 dB" % worst)

    # A fused FPN feature map: non-negative (after ReLUs), spatially smooth.
    def features(n):
        f = torch.relu(torch.randn(n, 16, 4, 4))
        return nn.functional.interpolate(f, size=(12, 12), mode="bilinear",
                                         align_corners=False)
    for sig in (True, False):
        torch.manual_seed(1)  # the same weights and statistics for both
        head = Head(sigmoid=sig)
        # BatchNorm statistics from data, as after training.
        head.train()
        with torch.no_grad():
            for _ in range(20):
                head(features(32))
        head.eval()
        tag = "head" if sig else "head_logits"
        torch.manual_seed(2)
        s = check(args, tag, head, features(16), features(32), 11, ["y"])
        if s[0] < 25:
            fail("%s: int8 SQNR %.1f dB below 25 dB" % (tag, s[0]))


if __name__ == "__main__":
    main()
