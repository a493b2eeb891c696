#!/usr/bin/python3
"""Cycles and accuracy of models on the tile accelerator under lowbit's
weight encodings (the tables in docs/ACCEL.md).

For each configuration, lowbitc calibrates the model, quantizes it (8-bit
activations), compiles it with --target=accel for the target description,
and accel-sim runs the binary on the test images: accuracy (when labels
are given), the simulated cycles per image, the MAC cycles and the part of
them spent on two-word tiles, the PE utilization, and the REQUANT
instructions (those with two multiplier sets are the PReLU / LeakyReLU
folded into the requant: each saves a REQUANT instruction and a round trip
of the layer's output through DRAM, priced with the ISA's cost rules).

    accel_table.py [--model fashion|resnet18|mobilenet_v2|PATH.onnx]
                   [--target FILE] [--test N] [--rows TEXT] [--size S]
                   [--lowbitc PATH] [--accel-sim PATH] [--work DIR]

fashion (default): the bundled Fashion-MNIST CNN, calibrated on 500
training images and tested on the first N (default 10,000) test images of
examples/fashion_mnist/data.py. resnet18 / mobilenet_v2: the zoo tier's
torchvision models (test/zoo/zoo_models.py: weights from a fixed seed, no
accuracy), at --size (default 224).
"""
import argparse
import json
import os
import subprocess
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))

STLQ = ["--weight-scheme=stlq", "--weight-bits=3"]
ROWS = [
    ("W8 multiply", []),
    ("log2 3-bit, one word (shift1)", ["--weight-scheme=pow2",
                                       "--weight-bits=3"]),
]
for r in (5, 15, 30, 100):
    for gran in ("tile", "filter"):
        ROWS.append(("STLQ 3-bit R=%d%% per %s (shift2)" % (r, gran),
                     STLQ + ["--stlq-ratio=%g" % (r / 100.0),
                             "--stlq-granularity=" + gran]))


def run(cmd):
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit("accel_table.py: command failed: %s\n%s"
                 % (" ".join(cmd), proc.stderr[-4000:]))
    return proc


def prepare(args):
    """(model path, calibration .npy, test .npy, labels or None)."""
    work = args.work
    os.makedirs(work, exist_ok=True)
    if args.model == "fashion":
        run([sys.executable, os.path.join(REPO, "examples", "fashion_mnist",
                                          "data.py"), work,
             "--test", str(args.test)])
        return (os.path.join(REPO, "examples", "fashion_mnist",
                             "fashion_cnn.onnx"),
                os.path.join(work, "calib_images.npy"),
                os.path.join(work, "test_images.npy"),
                np.load(os.path.join(work, "test_labels.npy")))
    if args.model in ("resnet18", "mobilenet_v2"):
        run([sys.executable, os.path.join(REPO, "test", "e2e",
                                          "export_zoo_model.py"),
             args.model, str(args.size), work, "--test", str(args.test)])
        return (os.path.join(work, args.model + ".onnx"),
                os.path.join(work, "calib.npy"),
                os.path.join(work, "test.npy"), None)
    sys.exit("accel_table.py: --model is fashion, resnet18 or mobilenet_v2")


def requant_figures(asm, target):
    """REQUANT instructions, the dual ones, and what the dual ones save."""
    tm = target["tm"]
    total = dual = cycles = dma_bytes = 0
    for line in asm.splitlines():
        if not line.startswith("requant "):
            continue
        total += 1
        f = dict(kv.split("=") for kv in line.split(";")[0].split()[1:]
                 if "=" in kv)
        if f["dual"] == "1":
            dual += 1
            n = int(f["pixels"]) * int(f["channels"])
            # Unfolded: the requant writes the int8 intermediate, a store
            # and a load move it through DRAM, a second REQUANT (the PReLU
            # on int8 values) rescales it.
            cycles += (n + tm - 1) // tm
            dma_bytes += 2 * n
    return total, dual, cycles, dma_bytes


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="fashion")
    ap.add_argument("--target",
                    default=os.path.join(HERE, "array16x16.target"))
    ap.add_argument("--test", type=int, default=None,
                    help="test images (default 10,000 for fashion, 1 else)")
    ap.add_argument("--size", type=int, default=224)
    ap.add_argument("--rows", default="",
                    help="only the rows whose name contains TEXT")
    ap.add_argument("--lowbitc",
                    default=os.path.join(REPO, "build", "bin", "lowbitc"))
    ap.add_argument("--accel-sim",
                    default=os.path.join(REPO, "build", "bin", "accel-sim"))
    ap.add_argument("--work", default=os.path.join(REPO, "build",
                                                   "accel_table"))
    args = ap.parse_args()
    if args.test is None:
        args.test = 10000 if args.model == "fashion" else 1
    args.work = os.path.join(args.work, args.model)
    model, calib, images, labels = prepare(args)

    print("| weights | accuracy | cycles / image | MAC cycles | two-word "
          "tiles' MAC cycles | PE utilization | REQUANT (dual) |")
    print("|---|---|---|---|---|---|---|")
    notes = []
    for name, flags in ROWS:
        if args.rows not in name:
            continue
        binary = os.path.join(args.work, "model.bin")
        run([args.lowbitc, model, "--calibration", calib, "--target=accel",
             "--accel-target=" + args.target, "-o", binary] + flags)
        out = os.path.join(args.work, "out.npy")
        report = os.path.join(args.work, "report.json")
        run([args.accel_sim, binary, "--input", images, "-o", out,
             "--report=json", "--report-file=" + report])
        rep = json.load(open(report))
        ps = rep["per_sample"]
        mac = (ps["mac_cycles_multiply"] + ps["mac_cycles_shift1"] +
               ps["mac_cycles_shift2"])
        acc = ""
        if labels is not None:
            logits = np.load(out).reshape(len(labels), -1)
            acc = "%.2f%%" % (100.0 * (logits.argmax(1) == labels).mean())
        asm = run([args.accel_sim, "--disasm", binary]).stdout
        total, dual, saved_cycles, saved_bytes = requant_figures(
            asm, rep["target"])
        print("| %s | %s | %d | %d | %d (%.1f%%) | %.1f%% | %d (%d) |" % (
            name, acc or "-", ps["cycles"], mac,
            ps["mac_cycles_two_word_tiles"],
            100.0 * ps["mac_cycles_two_word_tiles"] / mac if mac else 0.0,
            100.0 * rep["pe_utilization"], total, dual))
        if dual and not notes:
            notes.append(
                "PReLU folding: %d of %d REQUANT instructions are dual; "
                "unfolded, each would be a second REQUANT over the int8 "
                "output and a store + load of it: %d REQUANT cycles and %d "
                "DMA bytes more per image (the ISA's cost rules)."
                % (dual, total, saved_cycles, saved_bytes))
    for n in notes:
        print()
        print(n)


if __name__ == "__main__":
    main()
