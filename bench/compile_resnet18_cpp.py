#!/usr/bin/python3
"""Benchmark: ResNet-18 through the C++ target, and how fast g++ builds it.

The script
  1. exports ResNet-18 (bench/import_resnet18.py's model: torchvision's
     architecture, random weights from a fixed seed, opset 13; cached);
  2. compiles it with `lowbitc --calibration calib.npy --emit=cpp` (W8A8,
     calibrated on --calib random images) and times it;
  3. builds the generated C++ with `g++ -O2` (model source, weights .S,
     runtime harness, runtime library) and times it: the issue's target is
     under one minute;
  4. runs the executable on one image and prints the time per image.

A benchmark, not a test: it prints figures and exits non-zero only when a
step fails.
    /usr/bin/python3 bench/compile_resnet18_cpp.py [--lowbitc PATH] [--work DIR]
"""
import os
import sys

import numpy as np

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "bench"))
sys.path.insert(0, os.path.join(REPO, "runtime", "harness"))
import build_model  # noqa: E402
import import_resnet18  # noqa: E402
import benchlib  # noqa: E402
from benchlib import timed  # noqa: E402


def main():
    ap = benchlib.build_parser(__doc__, "build/bench")
    ap.add_argument("--calib", type=int, default=4)
    args = ap.parse_args()
    os.makedirs(args.work, exist_ok=True)
    model_path = os.path.join(args.work, import_resnet18.MODEL_FILE)
    if not os.path.exists(model_path):
        import torch
        torch.manual_seed(import_resnet18.SEED)
        import_resnet18.export(import_resnet18.build_resnet18(), model_path)
    rng = np.random.default_rng(0)
    calib = os.path.join(args.work, "resnet18_calib.npy")
    np.save(calib, rng.standard_normal((args.calib, 3, 224, 224)).astype(np.float32))
    image = os.path.join(args.work, "resnet18_image.npy")
    np.save(image, rng.standard_normal((1, 3, 224, 224)).astype(np.float32))

    out = os.path.join(args.work, "resnet18_cpp")
    seconds, proc = timed([args.lowbitc, model_path, "--calibration", calib,
                           "--emit=cpp", "--model-name", "resnet18", "-o", out])
    summary = proc.stderr.splitlines()[0]
    print("lowbitc --calibration (%d images) --emit=cpp: %.1f s" % (args.calib, seconds))
    print("  " + summary)
    sizes = {f: os.path.getsize(os.path.join(out, f)) for f in os.listdir(out)}
    print("  files: " + ", ".join("%s %d bytes" % kv for kv in sorted(sizes.items())))
    exe, build_s = build_model.build(out, "resnet18", args.runtime_lib)
    print("g++ -O2 (model + weights .S + harness + runtime): %.1f s "
          "(target < 60 s): %s" % (build_s, "PASS" if build_s < 60 else "FAIL"))
    seconds, proc = timed([exe, image, os.path.join(args.work, "resnet18_out.npy")])
    print("run: " + proc.stderr.strip())


if __name__ == "__main__":
    main()
