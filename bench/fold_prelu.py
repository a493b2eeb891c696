#!/usr/bin/python3
"""Op count and latency of lowbit-fold-prelu-requant.

A convolution whose PReLU stays a separate lowbit.prelu (as hand-written or
imported integer IR has it) rescales every element twice: the conv's
requant, then the PReLU. `lowbitc --fold-prelu` folds the pair into one
dual-multiplier requant (adaptive-bit-depth-control eq. 5), which the C++
target runs inside the fused convolution kernel.

The script writes such a block in the lowbit dialect (a 3x3 convolution,
32 -> 32 channels on 56x56, int8, per-channel requant, per-channel PReLU),
compiles it to C++ twice (without and with --fold-prelu), builds both with
g++ -O2 and the runtime, runs both on the same inputs and prints the lowbit
op counts, the latency per sample of each (best of 3 runs), their ratio,
and how far the outputs are apart (one rounding instead of two).

Usage: fold_prelu.py [--lowbitc PATH] [--runtime-lib PATH] [--work DIR]
                     [--samples N]
"""
import os
import re
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(REPO, "runtime", "harness"))
import build_model  # noqa: E402
sys.path.insert(0, HERE)
import benchlib  # noqa: E402
sys.path.insert(0, os.path.join(REPO, "test", "lib"))
from multiplier import multiplier  # noqa: E402

C, H, W = 32, 56, 56
OUT_SCALE = 0.04


def make_module(path):
    rng = np.random.default_rng(3)
    w = rng.integers(-127, 128, (C, 3, 3, C))
    ws = rng.uniform(0.0002, 0.0004, C)  # the intermediate rarely saturates
    bias = rng.integers(-2000, 2000, C)
    s_in, s_mid, s_out = 0.02, 0.05, OUT_SCALE
    req = [multiplier(s_in * k / s_mid) for k in ws]
    slopes = rng.uniform(0.05, 0.4, C)
    pos = multiplier(s_mid / s_out)
    neg = [multiplier(a * s_mid / s_out) for a in slopes]
    arr = lambda v: ", ".join(str(int(x)) for x in v)  # noqa: E731
    xq = "!quant.uniform<i8:f32, %g>" % s_in
    mid = "!quant.uniform<i8:f32, %g:3>" % s_mid
    out = "!quant.uniform<i8:f32, %g:-20>" % s_out
    wq = "!quant.uniform<i8<-127:127>:f32:0, {%s}>" % ",".join(
        "%.9g" % k for k in ws)
    text = f"""func.func @main(%x: tensor<1x{H}x{W}x{C}x{xq}>) -> tensor<1x{H}x{W}x{C}x{out}> {{
  %w = lowbit.constant dense<[{",".join("[" + ",".join("[" + ",".join("[" + arr(w[o, y, x]) + "]" for x in range(3)) + "]" for y in range(3)) + "]" for o in range(C))}]> : tensor<{C}x3x3x{C}xi8> -> tensor<{C}x3x3x{C}x{wq}>
  %b = lowbit.constant dense<[{arr(bias)}]> : tensor<{C}xi32> -> tensor<{C}xi32>
  %acc = lowbit.conv2d %x, %w, %b {{pad = array<i64: 1, 1, 1, 1>}} : (tensor<1x{H}x{W}x{C}x{xq}>, tensor<{C}x3x3x{C}x{wq}>, tensor<{C}xi32>) -> tensor<1x{H}x{W}x{C}xi32>
  %y = lowbit.requant %acc {{axis = 3 : i64, multiplier = array<i32: {arr(m for m, _ in req)}>, shift = array<i32: {arr(s for _, s in req)}>}} : tensor<1x{H}x{W}x{C}xi32> -> tensor<1x{H}x{W}x{C}x{mid}>
  %p = lowbit.prelu %y {{axis = 3 : i64, pos_multiplier = {pos[0]} : i32, pos_shift = {pos[1]} : i32, neg_multiplier = array<i32: {arr(m for m, _ in neg)}>, neg_shift = array<i32: {arr(s for _, s in neg)}>}} : tensor<1x{H}x{W}x{C}x{mid}> -> tensor<1x{H}x{W}x{C}x{out}>
  return %p : tensor<1x{H}x{W}x{C}x{out}>
}}
"""
    with open(path, "w") as f:
        f.write(text)


def run(cmd):
    return benchlib.run(cmd, "fold_prelu.py")


def main():
    ap = benchlib.build_parser(__doc__, "build/bench_fold_prelu")
    ap.add_argument("--samples", type=int, default=40)
    args = ap.parse_args()
    os.makedirs(args.work, exist_ok=True)
    model = os.path.join(args.work, "fold_prelu.mlir")
    make_module(model)
    x = np.random.default_rng(5).uniform(
        -2.5, 2.5, (args.samples, H, W, C)).astype(np.float32)
    inp = os.path.join(args.work, "x.npy")
    np.save(inp, x)
    results = {}
    for label, flags in (("unfolded", []), ("folded", ["--fold-prelu"])):
        cpp = os.path.join(args.work, label)
        p = run([args.lowbitc, model, "--emit=cpp", "-o", cpp,
                 "--model-name", "m"] + flags)
        counts = re.search(r"(\d+) lowbit ops before, (\d+) after", p.stderr)
        ops = sum(1 for line in open(os.path.join(cpp, "m_summary.txt"))
                  if line[:1].isalpha() and not line.startswith("model "))
        exe, _ = build_model.build(cpp, "m", args.runtime_lib)
        out = os.path.join(args.work, label + ".npy")
        best = None
        for _ in range(3):
            r = run([exe, inp, out])
            ms = float(re.search(r"([0-9.]+) ms per sample", r.stderr).group(1))
            best = ms if best is None else min(best, ms)
        results[label] = (best, np.load(out), ops, counts)
    (mu, yu, ou, _), (mf, yf, of, cf) = results["unfolded"], results["folded"]
    diff = np.abs(yu - yf).max() / OUT_SCALE  # in output LSBs
    print("fold-prelu: kernel calls in the C++ summary: %d unfolded, %d folded"
          % (ou, of))
    if cf:
        print("fold-prelu: lowbit ops: %s before the fold, %s after"
              % cf.groups())
    print("fold-prelu: latency %.3f ms unfolded, %.3f ms folded per sample "
          "(best of 3 runs of %d samples): folded / unfolded = %.3f"
          % (mu, mf, args.samples, mf / mu))
    far = float((np.abs(yu - yf) / OUT_SCALE > 1.5).mean())
    print("fold-prelu: outputs differ by at most %.0f LSB; %.4f%% of them by "
          "more than 1 (where the unfolded intermediate saturates)"
          % (diff, 100 * far))


if __name__ == "__main__":
    main()
