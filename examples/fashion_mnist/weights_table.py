#!/usr/bin/python3
"""Accuracy and weight bytes of the Fashion-MNIST CNN under lowbit's weight
encodings (the table in docs/STLQ.md).

For each configuration lowbitc calibrates the bundled model on 500 training
images, quantizes it (8-bit activations) and:
  - runs the integer model in the evaluator on the test images (accuracy);
  - writes the C++ model (--emit=cpp, log / STLQ layers as shift-add
    kernels on packed codes, --log-kernels=shift) and reports the size of
    its weight blob (every constant: weights, biases, packing metadata).

Rows that need a model file that is absent (the STLQ-aware trained model of
train_stlq.py) are skipped with a note.

Rows with --bitwidth=auto name the average weight bits lowbitc chose.

--bitwidth-targets T1,T2,... replaces the auto bit-width rows with one row
per target (dB); --flag F (repeatable) is added to those rows' lowbitc
commands (e.g. --flag=--bitwidth-search=greedy).

Usage: weights_table.py [--lowbitc PATH] [--work DIR] [--test N]
                        [--rows TEXT] [--bitwidth-targets T,...]
                        [--flag F]...
"""
import argparse
import os
import re
import subprocess
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
MODEL = os.path.join(HERE, "fashion_cnn.onnx")
TRAINED = os.path.join(HERE, "fashion_cnn_stlq.onnx")

ROWS = [
    ("float", MODEL, None),
    ("W8A8", MODEL, []),
    ("W4A8", MODEL, ["--weight-bits=4"]),
    ("log2 4-bit (one word)", MODEL, ["--weight-scheme=pow2", "--weight-bits=4"]),
    ("log2 3-bit (one word)", MODEL, ["--weight-scheme=pow2", "--weight-bits=3"]),
    ("STLQ 3-bit R=5%", MODEL, ["--weight-scheme=stlq", "--weight-bits=3",
                                "--stlq-ratio=0.05"]),
    ("STLQ 3-bit R=10%", MODEL, ["--weight-scheme=stlq", "--weight-bits=3",
                                 "--stlq-ratio=0.10"]),
    ("STLQ 3-bit R=15%", MODEL, ["--weight-scheme=stlq", "--weight-bits=3",
                                 "--stlq-ratio=0.15"]),
    ("STLQ 3-bit R=100%", MODEL, ["--weight-scheme=stlq", "--weight-bits=3",
                                  "--stlq-ratio=1"]),
    # What docs/STLQ.md says about rounding and the scale U.
    ("log2 3-bit, nearest codes", MODEL,
     ["--weight-scheme=pow2", "--weight-bits=3", "--weight-rounding=nearest"]),
    ("STLQ 3-bit R=15%, nearest codes (eq. 1-4)", MODEL,
     ["--weight-scheme=stlq", "--weight-bits=3", "--stlq-ratio=0.15",
      "--weight-rounding=nearest"]),
    ("STLQ 3-bit R=100%, nearest codes (eq. 1-4)", MODEL,
     ["--weight-scheme=stlq", "--weight-bits=3", "--stlq-ratio=1",
      "--weight-rounding=nearest"]),
    ("STLQ 3-bit R=100%, U = 2 max abs(w)", MODEL,
     ["--weight-scheme=stlq", "--weight-bits=3", "--stlq-ratio=1",
      "--log-scale=max"]),
    # lowbit-assign-bitwidth (docs/BITWIDTH.md): per-layer bits that meet an
    # output SQNR target at least total weight bits, 8-bit activations.
    ("auto bit-width, target 15 dB", MODEL,
     ["--bitwidth=auto", "--target-sqnr=15"]),
    ("auto bit-width, target 21 dB", MODEL,
     ["--bitwidth=auto", "--target-sqnr=21"]),
    ("STLQ 3-bit R=15%, STLQ-aware trained", TRAINED,
     ["--weight-scheme=stlq", "--weight-bits=3", "--stlq-ratio=0.15"]),
]


def run(cmd):
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit("weights_table.py: command failed: %s\n%s"
                 % (" ".join(cmd), proc.stderr))
    return proc


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lowbitc", default=os.path.join(REPO, "build/bin/lowbitc"))
    ap.add_argument("--work", default=os.path.join(REPO, "build/fashion_table"))
    ap.add_argument("--test", type=int, default=10000,
                    help="number of test images (default all 10,000)")
    ap.add_argument("--rows", default="",
                    help="only the rows whose name contains TEXT (and float)")
    ap.add_argument("--bitwidth-targets", default="",
                    help="auto bit-width rows for these targets (dB)")
    ap.add_argument("--flag", action="append", default=[],
                    help="lowbitc flag for the auto bit-width rows")
    args = ap.parse_args()
    rows = ROWS
    if args.bitwidth_targets:
        rows = [r for r in ROWS if "--bitwidth=auto" not in (r[2] or [])]
        rows += [("auto bit-width, target %s dB" % t, MODEL,
                  ["--bitwidth=auto", "--target-sqnr=" + t])
                 for t in args.bitwidth_targets.split(",")]
    rows = [(n, m, f + args.flag if f and "--bitwidth=auto" in f else f)
            for n, m, f in rows]
    os.makedirs(args.work, exist_ok=True)
    images = os.path.join(args.work, "test_images.npy")
    labels_path = os.path.join(args.work, "test_labels.npy")
    calib = os.path.join(args.work, "calib_images.npy")
    run([sys.executable, os.path.join(HERE, "data.py"), args.work,
         "--test", str(args.test)])
    labels = np.load(labels_path)

    print("| weights | accuracy | vs float | C++ weight blob (bytes) |")
    print("|---|---|---|---|")
    float_acc = None
    for name, model, flags in rows:
        if flags is not None and args.rows not in name:
            continue
        if not os.path.exists(model):
            print("| %s | (no %s: run train_stlq.py) | | |"
                  % (name, os.path.relpath(model, REPO)))
            continue
        out = os.path.join(args.work, "logits.npy")
        quant = [] if flags is None else ["--calibration", calib] + flags
        proc = run([args.lowbitc, model, "--run", images, "-o", out] + quant)
        avg = re.search(r"average ([0-9.]+) weight bits", proc.stderr)
        if avg:
            name += " (average %s weight bits)" % avg.group(1)
        acc = float((np.load(out).reshape(len(labels), -1).argmax(1)
                     == labels).mean())
        if flags is None:
            float_acc = acc
            print("| float | %.2f%% | | |" % (100 * acc))
            continue
        cpp = os.path.join(args.work, "cpp")
        run([args.lowbitc, model, "--emit=cpp", "-o", cpp, "--model-name",
             "m", "--log-kernels=shift"] + quant)
        blob = os.path.getsize(os.path.join(cpp, "m.weights.bin"))
        print("| %s | %.2f%% | %+.2f | %d |"
              % (name, 100 * acc, 100 * (acc - float_acc), blob))
        sys.stdout.flush()


if __name__ == "__main__":
    main()
