#!/usr/bin/python3
"""lowbit-fold-prelu-requant against the unfolded IR and against float.

For each case, a requant (optionally narrowed: an absorbed ReLU / ReLU6 /
Clip) followed by a PReLU / LeakyReLU runs in lowbit's evaluator on random
int32 accumulators, unfolded and after `lowbit-opt
--lowbit-fold-prelu-requant`. The float reference is the same arithmetic
without rounding: x = acc * r (r the requant's scale, in mid-scale units),
clipped to the narrowed range, then the PReLU's scales, plus the output zero
point, saturated to the storage range.

Checks (adaptive-bit-depth-control eq. 3-5):
  - the folded IR's mean absolute error against float is never above the
    unfolded one's (one rounding to nearest instead of two);
  - where b = 0.5 max(1, |alpha|) S_mid / S_o < 1 and nothing saturates,
    the folded output is within 1 LSB of the unfolded one on every input
    (the line says which case it is in); the float model clips only where
    a ReLU / ReLU6 / Clip does, not at the intermediate's storage range,
    which the fold drops;
  - cases the pass must keep (a negative slope after a narrowed range,
    per-channel slopes with a bound below the zero point) stay unfolded.

Usage: fold_prelu_numerics.py --lowbitc PATH --lowbit-opt PATH --work DIR
"""
import argparse
import os
import subprocess
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from multiplier import multiplier  # noqa: E402

N = 4000  # accumulators per channel


# name, requant scale r, zp_mid, prelu pos scale p (S_mid / S_o), alphas,
# zp_out, narrowed (lo, hi) or None, accumulator range, expect folded
CASES = [
    ("leaky-0.1", 2.0 ** -6 * 1.3, 3, 0.45, [0.1], -2, None, 4000, True),
    ("prelu-per-channel", 2.0 ** -7 * 1.7, -5, 0.8, [0.25, 0.02, 0.6], 4,
     None, 6000, True),
    ("relu6-then-leaky", 2.0 ** -6 * 1.1, 0, 0.7, [0.1], 0, (-128, 60),
     7000, True),
    ("relu-then-prelu-per-channel", 2.0 ** -6 * 1.9, 3, 0.9,
     [0.3, 0.05], -2, (3, 127), 5000, True),
    ("clip-then-leaky", 2.0 ** -6 * 1.2, 0, 0.6, [0.2], 1, (-40, 50), 6000,
     True),
    ("steep-slope", 2.0 ** -6 * 1.05, 0, 0.9, [3.0], 0, None, 2000, True),
    ("saturating", 2.0 ** -4 * 1.4, 0, 1.3, [0.3], 0, None, 60000, True),
    ("negative-slope", 2.0 ** -6 * 1.6, 2, 0.7, [-0.25], 0, None, 4000, True),
    ("narrowed-negative-slope", 2.0 ** -6, 0, 0.7, [-0.25], 0, (-50, 127),
     4000, False),
    ("narrowed-per-channel-below-zero", 2.0 ** -6, 0, 0.7, [0.2, 0.1], 0,
     (-50, 127), 4000, False),
]


def module(case):
    name, r, zp_mid, p, alphas, zp_out, narrowed, _, _ = case
    c = len(alphas)
    rm, rs = multiplier(r)
    pm, ps = multiplier(p)
    neg = [multiplier(a * p) for a in alphas]
    mid = "!quant.uniform<i8:f32, 0.1:%d>" % zp_mid
    out = "!quant.uniform<i8:f32, 0.1:%d>" % zp_out
    rng = ""
    if narrowed:
        rng = ", min = %d : i64, max = %d : i64" % narrowed
    axis = ", axis = 1 : i64" if c > 1 else ""
    return f"""func.func @main(%acc: tensor<{N}x{c}xi32>) -> tensor<{N}x{c}x{out}> {{
  %y = lowbit.requant %acc {{multiplier = array<i32: {rm}>, shift = array<i32: {rs}>{rng}}} : tensor<{N}x{c}xi32> -> tensor<{N}x{c}x{mid}>
  %o = lowbit.prelu %y {{pos_multiplier = {pm} : i32, pos_shift = {ps} : i32, neg_multiplier = array<i32: {", ".join(str(m) for m, _ in neg)}>, neg_shift = array<i32: {", ".join(str(s) for _, s in neg)}>{axis}}} : tensor<{N}x{c}x{mid}> -> tensor<{N}x{c}x{out}>
  return %o : tensor<{N}x{c}x{out}>
}}
"""


def run(cmd):
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit("fold_prelu_numerics: %s failed:\n%s" % (" ".join(cmd), p.stderr))
    return p


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lowbitc", required=True)
    ap.add_argument("--lowbit-opt", required=True)
    ap.add_argument("--work", required=True)
    args = ap.parse_args()
    os.makedirs(args.work, exist_ok=True)
    rng = np.random.default_rng(7)
    failures = 0
    for case in CASES:
        name, r, zp_mid, p, alphas, zp_out, narrowed, span, expect = case
        c = len(alphas)
        acc = rng.integers(-span, span + 1, size=(N, c)).astype(np.int32)
        base = os.path.join(args.work, name)
        np.save(base + ".acc.npy", acc)
        with open(base + ".mlir", "w") as f:
            f.write(module(case))
        run([args.lowbit_opt, base + ".mlir", "--lowbit-fold-prelu-requant",
             "-o", base + ".folded.mlir"])
        folded_text = open(base + ".folded.mlir").read()
        folded = "lowbit.prelu" not in folded_text
        if folded != expect:
            print("case %s: %s, expected %s: FAIL" % (
                name, "folded" if folded else "kept",
                "folded" if expect else "kept"))
            failures += 1
            continue
        if not folded:
            print("case %s: kept (the fold would be unsound): OK" % name)
            continue
        run([args.lowbitc, base + ".mlir", "--run", base + ".acc.npy", "-o",
             base + ".u.npy"])
        run([args.lowbitc, base + ".folded.mlir", "--run", base + ".acc.npy",
             "-o", base + ".f.npy"])
        u = np.load(base + ".u.npy").astype(np.int64)
        fo = np.load(base + ".f.npy").astype(np.int64)
        # Float reference in output LSBs.
        # The float model clips where a ReLU / ReLU6 / Clip does (the
        # narrowed sides), not at the intermediate's storage range.
        x = acc.astype(np.float64) * r
        mid_saturates = bool(((x + zp_mid < -128) | (x + zp_mid > 127)).any())
        if narrowed:
            lo = narrowed[0] - zp_mid if narrowed[0] > -128 else -np.inf
            hi = narrowed[1] - zp_mid if narrowed[1] < 127 else np.inf
            x = np.clip(x, lo, hi)
        a = np.array(alphas)[None, :]
        y = np.where(x < 0, x * a * p, x * p) + zp_out
        saturates = mid_saturates or bool(((y < -128) | (y > 127)).any())
        y = np.clip(y, -128, 127)
        err_u = float(np.abs(u - y).mean())
        err_f = float(np.abs(fo - y).mean())
        diff = int(np.abs(fo - u).max())
        bound = 0.5 * max(1.0, max(abs(al) for al in alphas)) * p
        ok = err_f <= err_u + 1e-12
        tight = bound < 1 and not saturates
        if tight:
            ok = ok and diff <= 1
        print("case %s: folded mean error %.3f LSB, unfolded %.3f LSB, "
              "max |folded - unfolded| %d LSB, b = %.2f%s: %s" % (
                  name, err_f, err_u, diff, bound,
                  " (< 1, no saturation: within 1 LSB)" if tight else
                  (" (saturates)" if saturates else " (>= 1)"),
                  "OK" if ok else "FAIL"))
        failures += 0 if ok else 1
    print("fold-prelu numerics: %d cases, %d failures" % (len(CASES), failures))
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
