#!/usr/bin/python3
"""The C++ target's <name>_run_blocks against lowbitc --run, bit for bit.

Compiles MODEL with lowbitc --input-bit-depth ... --emit=cpp, builds it with
runtime/harness/run_blocks.cpp (g++ -O2, or $LOWBIT_HARNESS_CXX with
$LOWBIT_HARNESS_FLAGS as build_model.py does), runs it on IMAGE (uint16
[H, W] .npy, one channel) and compares its pixels with the evaluator's
(lowbitc --run with the same flags).

Usage: bit_depth_cpp.py --lowbitc L --runtime-lib A --work DIR --model M
                        --calibration C --image I [--flag F]...
"""
import argparse
import os
import subprocess
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
HARNESS = os.path.join(REPO, "runtime", "harness")


def run(cmd):
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit("bit-depth-cpp: FAILED: %s\n%s" % (" ".join(cmd),
                                                      proc.stderr))
    return proc


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    for a in ("--lowbitc", "--runtime-lib", "--work", "--model",
              "--calibration", "--image"):
        ap.add_argument(a, required=True)
    ap.add_argument("--flag", action="append", default=[])
    args = ap.parse_args()
    os.makedirs(args.work, exist_ok=True)
    common = [args.lowbitc, args.model, "--calibration", args.calibration] \
        + args.flag
    cpp = os.path.join(args.work, "cpp")
    run(common + ["--emit=cpp", "--model-name", "m", "-o", cpp])
    evaluated = os.path.join(args.work, "eval.npy")
    run(common + ["--run", args.image, "-o", evaluated])

    cxx = os.environ.get("LOWBIT_HARNESS_CXX") or "g++"
    flags = os.environ.get("LOWBIT_HARNESS_FLAGS", "").split()
    exe = os.path.join(args.work, "run_blocks")
    run([cxx, "-O2"] + flags + [
        "-std=c++17", "-I", os.path.join(REPO, "runtime", "include"),
        "-I", cpp, '-DLOWBIT_MODEL_HEADER="m.h"', "-DLOWBIT_MODEL=m",
        "-DLOWBIT_MODEL_UPPER=M", os.path.join(HARNESS, "run_blocks.cpp"),
        os.path.join(cpp, "m.cpp"), os.path.join(cpp, "m_weights.S"),
        args.runtime_lib, "-pthread", "-o", exe])

    image = np.load(args.image)
    if image.ndim != 2:
        sys.exit("bit-depth-cpp: the image must be [H, W]")
    raw_in = os.path.join(args.work, "in.raw")
    raw_out = os.path.join(args.work, "out.raw")
    image.astype("<u2").tofile(raw_in)
    run([exe, raw_in, str(image.shape[0]), str(image.shape[1]), raw_out])
    got = np.fromfile(raw_out, dtype="<u2").reshape(image.shape)
    want = np.load(evaluated)
    if want.shape != got.shape:
        sys.exit("bit-depth-cpp: shapes differ: %s %s" % (want.shape,
                                                          got.shape))
    bad = int((want != got).sum())
    print("bit-depth-cpp: %d pixels, %d mismatches" % (got.size, bad))


if __name__ == "__main__":
    main()
