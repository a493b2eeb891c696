#!/usr/bin/python3
"""Benchmark: the reference evaluator on a small CNN.

Exports a Fashion-MNIST-sized float CNN (conv 1->16, BatchNorm, PReLU,
max-pool, conv 16->32, LeakyReLU, max-pool, Linear 1568->10; batch 1,
opset 13) with torch, then times `lowbitc model.onnx --run images.npy -o
out.npy` on 1,000 28x28 images (lowbitc iterates the batch-1 model over the
leading dimension), and checks the outputs against torch.

Usage: /usr/bin/python3 bench/evaluate_cnn.py [--lowbitc PATH] [--work DIR]
       [--images N] [--repeat N]
Prints the wall time, images per second and peak RSS of each run.
"""
import argparse
import os
import subprocess
import sys
import time

import numpy as np
import torch
import torch.nn as nn

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class SmallCNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 16, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(16)
        self.act1 = nn.PReLU(16)
        self.conv2 = nn.Conv2d(16, 32, 3, padding=1)
        self.act2 = nn.LeakyReLU(0.1)
        self.pool = nn.MaxPool2d(2)
        self.fc = nn.Linear(32 * 7 * 7, 10)

    def forward(self, x):
        x = self.pool(self.act1(self.bn1(self.conv1(x))))
        x = self.pool(self.act2(self.conv2(x)))
        return self.fc(torch.flatten(x, 1))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lowbitc", default=os.path.join(REPO, "build/bin/lowbitc"))
    ap.add_argument("--work", default=os.path.join(REPO, "build/bench"))
    ap.add_argument("--images", type=int, default=1000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    if not os.path.exists(args.lowbitc):
        sys.exit("lowbitc not found at %s (build it first)" % args.lowbitc)
    os.makedirs(args.work, exist_ok=True)

    torch.manual_seed(0)
    model = SmallCNN().eval()
    with torch.no_grad():
        model.bn1.running_mean.uniform_(-0.2, 0.2)
        model.bn1.running_var.uniform_(0.5, 1.5)
    onnx_path = os.path.join(args.work, "small_cnn.onnx")
    torch.onnx.export(model, torch.zeros(1, 1, 28, 28), onnx_path,
                      opset_version=13, input_names=["input"],
                      output_names=["logits"])
    images = np.random.RandomState(1).rand(args.images, 1, 28, 28).astype(np.float32)
    in_path = os.path.join(args.work, "images.npy")
    out_path = os.path.join(args.work, "logits.npy")
    np.save(in_path, images)

    timer = ["/usr/bin/time", "-f", "%e %M"] if os.path.exists("/usr/bin/time") else []
    print("lowbitc --run on %d images of 1x28x28 (%s)" % (args.images, onnx_path))
    for i in range(args.repeat):
        t0 = time.time()
        proc = subprocess.run(timer + [args.lowbitc, onnx_path, "--run", in_path,
                                       "-o", out_path],
                              capture_output=True, text=True)
        wall = time.time() - t0
        if proc.returncode != 0:
            sys.exit("lowbitc failed:\n" + proc.stderr)
        rss = ""
        if timer:
            rss = " peak RSS %d MiB" % (int(proc.stderr.split()[-1]) // 1024)
        print("run %d: %.2f s, %.0f images/s%s" % (i + 1, wall,
                                                   args.images / wall, rss))
    with torch.no_grad():
        want = model(torch.tensor(images)).numpy()
    err = float(np.abs(np.load(out_path) - want).max())
    print("max abs err vs torch: %.3g" % err)
    return 0 if err < 1e-4 else 1


if __name__ == "__main__":
    sys.exit(main())
