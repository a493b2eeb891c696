#!/usr/bin/python3
"""Which quantization limits a model: remove one quantize/dequantize pair
at a time from its Q/DQ graph and measure the SQNR of the rest.

    qdq_ablation.py --lowbitc LOWBITC --dir WORK/<model>/opset<N>
                    [--model NAME] [--rounds R] [--top K] [--bits 8,10,16]

DIR is a wild-tier model directory (test/wild/run_wild.py writes it): its
<model>.onnx, calib.npy, test.npy and lowbit_float.npy (the float output,
the reference). The script writes the Q/DQ graph once
(`lowbitc M.onnx --calibration calib.npy --compile-to=qdq --emit=mlir
--mlir-print-debuginfo`), then for each lowbit.dequantize of a
lowbit.quantize runs the graph without that pair (`lowbitc m.mlir --run
test.npy`) and prints the SQNR against the reference, best first, with the
ONNX node the pair belongs to. With --rounds R > 1 the best pair is removed
for good and the search repeats (greedy). --bits also prints the SQNR with
all activations at each width (`--activation-bits`). docs/QUANTIZATION.md
("Missing") has what it said for the wild tier's ViT.
"""
import argparse
import glob
import os
import re
import subprocess
import sys
import tempfile

import numpy as np


def sqnr(ref, y):
    return 10 * np.log10((ref ** 2).sum() / ((ref - y) ** 2).sum())


def loc_names(text):
    """#locN -> the ONNX node name it (or the location it wraps) carries."""
    names, parent = {}, {}
    for m in re.finditer(r'^(#loc\d+) = loc\("([^"]*)"(?:\((#loc\d+)\))?\)',
                         text, re.M):
        alias, name, inner = m.groups()
        if inner:
            names[alias] = name
        parent[alias] = inner
    return names


def remove_pair(text, dq):
    """The graph with the dequantize `dq` replaced by the quantize's input."""
    line = re.search(r'^\s*' + re.escape(dq) + r' = lowbit.dequantize (%\S+) :.*\n',
                     text, re.M)
    q = line.group(1)
    src = re.search(r'^\s*' + re.escape(q) + r' = lowbit.quantize (%\S+) :',
                    text, re.M).group(1)
    text = text[:line.start()] + text[line.end():]
    return re.sub(re.escape(dq) + r'(?![\w#])', src, text)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lowbitc", required=True)
    ap.add_argument("--dir", required=True)
    ap.add_argument("--model", default=None)
    ap.add_argument("--rounds", type=int, default=1)
    ap.add_argument("--top", type=int, default=5)
    ap.add_argument("--bits", default="")
    args = ap.parse_args()
    onnx_path = (os.path.join(args.dir, args.model + ".onnx") if args.model
                 else glob.glob(os.path.join(args.dir, "*.onnx"))[0])
    calib = os.path.join(args.dir, "calib.npy")
    test = os.path.join(args.dir, "test.npy")
    ref = np.load(os.path.join(args.dir, "lowbit_float.npy"))
    work = tempfile.mkdtemp(prefix="qdq-ablation-")

    def run(cmd):
        p = subprocess.run(cmd, capture_output=True, text=True)
        if p.returncode:
            sys.exit("qdq-ablation: %s failed:\n%s" % (" ".join(cmd), p.stderr))

    for bits in [b for b in args.bits.split(",") if b]:
        out = os.path.join(work, "a%s.npy" % bits)
        run([args.lowbitc, onnx_path, "--calibration", calib,
             "--activation-bits=" + bits, "--run", test, "-o", out])
        print("qdq-ablation: all activations at %s bits: %.2f dB"
              % (bits, sqnr(ref, np.load(out))))

    mlir = os.path.join(work, "qdq.mlir")
    run([args.lowbitc, onnx_path, "--calibration", calib, "--compile-to=qdq",
         "--emit=mlir", "--mlir-print-debuginfo", "-o", mlir])
    text = open(mlir).read()
    names = loc_names(text)

    def evaluate(t):
        path = os.path.join(work, "m.mlir")
        with open(path, "w") as f:
            f.write(t)
        out = os.path.join(work, "y.npy")
        p = subprocess.run([args.lowbitc, path, "--run", test, "-o", out],
                           capture_output=True, text=True)
        return None if p.returncode else sqnr(ref, np.load(out))

    for r in range(args.rounds):
        base = evaluate(text)
        print("qdq-ablation: round %d: %.2f dB with every pair" % (r + 1, base))
        results = []
        for m in re.finditer(r'^\s*(%\S+) = lowbit.dequantize (%\S+) :.*'
                             r'loc\((#loc\d+)\)', text, re.M):
            dq, q, loc = m.groups()
            if not re.search(r'^\s*' + re.escape(q) + r' = lowbit.quantize ',
                             text, re.M):
                continue  # a dequantized constant (weights)
            s = evaluate(remove_pair(text, dq))
            if s is not None:
                results.append((s, dq, names.get(loc, loc)))
        results.sort(reverse=True)
        for s, dq, name in results[:args.top]:
            print("qdq-ablation:   without %s (%s): %.2f dB (%+.2f)"
                  % (dq, name, s, s - base))
        if not results:
            break
        text = remove_pair(text, results[0][1])


if __name__ == "__main__":
    main()
