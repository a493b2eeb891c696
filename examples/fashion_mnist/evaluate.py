#!/usr/bin/python3
"""Float and quantized accuracy of the bundled Fashion-MNIST CNN.

Runs `lowbitc` on the 10,000 test images: the float model, and the model
quantized after calibration on 500 training images, for each weight
configuration given. Prints one line per configuration with the accuracy
and its difference from float.

Usage: evaluate.py [--lowbitc PATH] [--work DIR] [--estimator NAME]
                   [--simulated] [CONFIG ...]
  CONFIG is NAME:FLAGS, e.g. "W8A8:--weight-bits=8"; the default set is
  W8A8 per-channel, W8A8 per-tensor, W4A8 per-channel, and power-of-two
  (4-bit log codes) weights with a log scale per output channel and one
  per layer. By default lowbitc runs the integer IR (what
  the generated C++ computes); --simulated runs the Q/DQ float graph
  instead (lowbitc --compile-to=qdq).
"""
import argparse
import os
import subprocess
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
import data  # noqa: E402

DEFAULT = [
    "W8A8 per-channel:--weight-bits=8",
    "W8A8 per-tensor:--weight-bits=8 --per-tensor-weights",
    "W4A8 per-channel:--weight-bits=4",
    "pow2 per-channel, A8:--weight-bits=4 --weight-scheme=pow2",
    "pow2 per-tensor, A8:--weight-bits=4 --weight-scheme=pow2 "
    "--per-tensor-weights",
]


def run(lowbitc, model, images, out, flags):
    cmd = [lowbitc, model, "--run", images, "-o", out] + flags
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit("lowbitc failed (%s):\n%s" % (" ".join(cmd), proc.stderr))
    return np.load(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lowbitc", default=os.path.join(REPO, "build/bin/lowbitc"))
    ap.add_argument("--work", default=os.path.join(REPO, "build/fashion"))
    ap.add_argument("--model", default=os.path.join(HERE, "fashion_cnn.onnx"))
    ap.add_argument("--estimator", default="minmax")
    ap.add_argument("--simulated", action="store_true",
                    help="run the simulated Q/DQ graph, not the integer IR")
    ap.add_argument("configs", nargs="*", default=DEFAULT)
    args = ap.parse_args()
    os.makedirs(args.work, exist_ok=True)
    images = os.path.join(args.work, "test_images.npy")
    calib = os.path.join(args.work, "calib_images.npy")
    if not (os.path.exists(images) and os.path.exists(calib)):
        subprocess.run([sys.executable, os.path.join(HERE, "data.py"),
                        args.work], check=True)
    labels = np.load(os.path.join(args.work, "test_labels.npy"))
    out = os.path.join(args.work, "logits.npy")
    float_acc = float((run(args.lowbitc, args.model, images, out, [])
                       .argmax(1) == labels).mean())
    print("%-28s accuracy %.4f" % ("float", float_acc))
    for config in args.configs:
        name, flags = config.split(":", 1)
        flags = flags.split() + ["--calibration", calib,
                                 "--range-estimator=" + args.estimator]
        if args.simulated:
            flags.append("--compile-to=qdq")
        acc = float((run(args.lowbitc, args.model, images, out, flags)
                     .argmax(1) == labels).mean())
        print("%-28s accuracy %.4f  (%+.2f points vs float)"
              % (name, acc, 100 * (acc - float_acc)))


if __name__ == "__main__":
    main()
