#!/usr/bin/python3
"""The integer forms (lookup tables, products of activations) against the
Q/DQ graph they implement and against float.

    int_forms.py --lowbitc LOWBITC --work DIR --model M.onnx
                 --calibration C.npy --input X.npy [--flag=FLAG ...]

Runs `lowbitc M.onnx --calibration C.npy FLAGS --run X.npy` three ways:
integer (the lowbit IR in the evaluator), `--compile-to=qdq` (the float
graph with simulated quantization, the spec the integer IR implements) and
float (no calibration). Prints
  int-forms: float ops: N (the float-fallback warnings of the integer compile)
  int-forms: integer vs qdq: max D LSB, E of T elements differ
  int-forms: SQNR integer X dB, qdq Y dB (against float)
where an LSB is the output's quantization step (the smallest gap between
two output values of the integer run). A table is the float function
rounded once in double, the Q/DQ graph rounds float32 arithmetic, so the two
may differ by one step where the function is within float32 error of a
rounding boundary; anything more is a bug.
"""
import argparse
import os
import subprocess
import sys

import numpy as np


def run(cmd):
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit("int-forms: FAILED: %s\n%s" % (" ".join(cmd), proc.stderr))
    return proc


def sqnr(ref, x):
    noise = np.sum((ref - x) ** 2)
    return float("inf") if noise == 0 else 10 * np.log10(np.sum(ref ** 2) / noise)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--lowbitc", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--model", required=True)
    ap.add_argument("--calibration", required=True)
    ap.add_argument("--input", required=True)
    ap.add_argument("--flag", action="append", default=[])
    a = ap.parse_args()
    os.makedirs(a.work, exist_ok=True)
    out = {k: os.path.join(a.work, k + ".npy") for k in ("int", "qdq", "float")}
    base = [a.lowbitc, a.model]
    q = ["--calibration", a.calibration] + a.flag
    p = run(base + q + ["--run", a.input, "-o", out["int"]])
    warnings = [l for l in p.stderr.splitlines() if "stay float" in l or
                "stays float" in l]
    run(base + q + ["--compile-to=qdq", "--run", a.input, "-o", out["qdq"]])
    run(base + ["--run", a.input, "-o", out["float"]])
    yi, yq, yf = (np.load(out[k]).astype(np.float64)
                  for k in ("int", "qdq", "float"))
    grid = np.diff(np.unique(yi))
    step = grid[grid > 0].min() if np.any(grid > 0) else 1.0
    lsb = np.abs(yi - yq) / step
    differ = int(np.sum(lsb > 0.5))
    print("int-forms: float ops: %d" % len(warnings))
    for w in warnings:
        print("int-forms:   " + w.split("warning: ", 1)[-1])
    print("int-forms: integer vs qdq: max %.0f LSB, %d of %d elements differ"
          % (np.round(lsb.max()), differ, yi.size))
    print("int-forms: SQNR integer %.1f dB, qdq %.1f dB (against float)"
          % (sqnr(yf, yi), sqnr(yf, yq)))


if __name__ == "__main__":
    main()
