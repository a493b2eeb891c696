#!/usr/bin/python3
"""Benchmark: the accelerator simulator on ResNet-18 (and MobileNetV2).

For each model and target description the script
  1. exports the model at 224x224 (test/e2e/export_zoo_model.py: the zoo
     tier's torchvision architecture, weights from a fixed seed, BatchNorm
     statistics measured on scikit-image's sample images; cached);
  2. compiles it with `lowbitc --calibration calib.npy --target=accel
     --accel-target=T` (W8A8);
  3. times `accel-sim model.bin --input image.npy` on one image (best of
     --repeat runs; the issue's target is under 10 s for ResNet-18) and
     prints the simulated cycles;
  4. times ONNX Runtime (CPU, one thread, bench/ort_bench.js) on the same
     float model and image, when it is installed (bench/install-bench-deps.sh),
     and prints the ratio simulator time / ORT time: how much slower
     simulating the accelerator bit for bit is than running the model.

A benchmark, not a test: it prints figures and exits non-zero only when a
step fails.
    /usr/bin/python3 bench/accel_sim.py [--models resnet18,mobilenet_v2]
        [--targets FILE,...] [--repeat N] [--lowbitc PATH] [--accel-sim PATH]
        [--work DIR]
"""
import argparse
import json
import os
import shutil
import subprocess
import sys

import numpy as np

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "bench"))
from benchlib import timed  # noqa: E402


def ort_ms(model, image):
    """Median ms of one inference in ONNX Runtime, or None without it."""
    node = shutil.which("node")
    if not node:
        return None
    # ort_bench.js wants static shapes: a copy with the batch bound to 1.
    import onnx
    m = onnx.load(model)
    for t in list(m.graph.input) + list(m.graph.output):
        dim = t.type.tensor_type.shape.dim[0]
        if not dim.HasField("dim_value"):
            dim.dim_value = 1
    static = model[:-len(".onnx")] + "_batch1.onnx"
    onnx.save(m, static)
    model = static
    proc = subprocess.run(
        [node, os.path.join(REPO, "bench", "ort_bench.js"), model,
         "--input", image, "--repeat", "10"], capture_output=True, text=True)
    if proc.returncode != 0:
        return None
    return json.loads(proc.stdout.strip().splitlines()[-1])["median_ms"]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", default="resnet18,mobilenet_v2")
    ap.add_argument("--targets", default=",".join(
        os.path.join(REPO, "examples", "accel", t + ".target")
        for t in ("array16x16", "array8x8")))
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--lowbitc", default=os.path.join(REPO, "build", "bin",
                                                      "lowbitc"))
    ap.add_argument("--accel-sim", default=os.path.join(REPO, "build", "bin",
                                                        "accel-sim"))
    ap.add_argument("--work", default=os.path.join(REPO, "build", "bench",
                                                   "accel"))
    args = ap.parse_args()
    for name in args.models.split(","):
        d = os.path.join(args.work, name)
        onnx_path = os.path.join(d, name + ".onnx")
        if not os.path.exists(onnx_path):
            timed([sys.executable, os.path.join(REPO, "test", "e2e",
                                                "export_zoo_model.py"),
                   name, "224", d, "--test", "1"])
        image = os.path.join(d, "test.npy")
        ort = ort_ms(onnx_path, image)
        for target in args.targets.split(","):
            stem = os.path.splitext(os.path.basename(target))[0]
            binary = os.path.join(d, stem + ".bin")
            seconds, _ = timed([args.lowbitc, onnx_path, "--calibration",
                                os.path.join(d, "calib.npy"),
                                "--target=accel", "--accel-target=" + target,
                                "-o", binary])
            report = os.path.join(d, stem + ".json")
            best = None
            for _ in range(args.repeat):
                s, _ = timed([args.accel_sim, binary, "--input", image, "-o",
                              os.path.join(d, stem + "_out.npy"),
                              "--report=json", "--report-file=" + report])
                best = s if best is None else min(best, s)
            rep = json.load(open(report))
            line = ("%s on %s: lowbitc %.1f s, binary %d bytes, accel-sim "
                    "%.2f s per image (target < 10 s: %s), %d simulated "
                    "cycles, PE utilization %.1f%%" % (
                        name, stem, seconds, os.path.getsize(binary), best,
                        "PASS" if best < 10 else "FAIL",
                        rep["per_sample"]["cycles"],
                        100 * rep["pe_utilization"]))
            if ort:
                line += ", ONNX Runtime %.1f ms: simulator / ORT = %.0fx" % (
                    ort, best * 1000.0 / ort)
            else:
                line += ", ONNX Runtime not installed (no ratio)"
            print(line)


if __name__ == "__main__":
    main()
