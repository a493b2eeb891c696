#!/usr/bin/python3
"""The accelerator simulator against the generated C++, bit for bit.

(With --reference=evaluator, against the reference evaluator instead.)

    accel_vs_cpp.py --lowbitc LOWBITC --accel-sim SIM --runtime-lib LIB
                    --work DIR --name NAME --model M.onnx
                    --calibration C.npy --input X.npy
                    --target T.target [--target T2.target ...]
                    [--flag=LOWBITC_FLAG ...]

1. `lowbitc M.onnx --calibration C.npy FLAGS --emit=cpp -o DIR/cpp`, built
   with g++ and runtime/harness/run_model.cpp, runs every sample of X.npy;
2. for each target description, `lowbitc ... --target=accel
   --accel-target=T -o DIR/T.bin` and `accel-sim DIR/T.bin --input X.npy`
   run the same samples;
3. both outputs (dequantized with the runtime's one rule) must be
   identical.

Prints, per target, `accel-vs-cpp: T: N elements, M mismatches` and the
simulator's cycles per sample, and exits 1 on a mismatch.
"""
import argparse
import json
import os
import subprocess
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "runtime", "harness"))
import build_model  # noqa: E402


def run(cmd):
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit("accel-vs-cpp: FAILED: %s\n%s" % (" ".join(cmd), proc.stderr))
    return proc


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lowbitc", required=True)
    ap.add_argument("--accel-sim", required=True)
    ap.add_argument("--runtime-lib", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--name", required=True)
    ap.add_argument("--model", required=True)
    ap.add_argument("--calibration", required=True)
    ap.add_argument("--input", required=True)
    ap.add_argument("--target", action="append", required=True)
    ap.add_argument("--flag", action="append", default=[])
    ap.add_argument("--reference", choices=["cpp", "evaluator"],
                    default="cpp",
                    help="what the simulator must equal: the generated C++ "
                    "(default) or the reference evaluator on the same "
                    "integer IR (lowbitc --compile-to=integer --run), which "
                    "the C++ equals bit for bit wherever both are tested")
    args = ap.parse_args()
    os.makedirs(args.work, exist_ok=True)

    base = [args.lowbitc, args.model, "--calibration", args.calibration]
    base += args.flag
    if args.reference == "cpp":
        cpp_dir = os.path.join(args.work, "cpp")
        run(base + ["--emit=cpp", "-o", cpp_dir, "--model-name", args.name])
        exe, _ = build_model.build(cpp_dir, args.name, args.runtime_lib)
        ref_out = os.path.join(args.work, "cpp_out.npy")
        run([exe, args.input, ref_out])
    else:
        ref_out = os.path.join(args.work, "eval_out.npy")
        run(base + ["--compile-to=integer", "--run", args.input, "-o",
                    ref_out])
    expected = np.load(ref_out)

    failed = False
    for target in args.target:
        stem = os.path.splitext(os.path.basename(target))[0]
        binary = os.path.join(args.work, stem + ".bin")
        run(base + ["--target=accel", "--accel-target=" + target, "-o",
                    binary])
        out = os.path.join(args.work, stem + "_out.npy")
        report = os.path.join(args.work, stem + "_report.json")
        run([args.accel_sim, binary, "--input", args.input, "-o", out,
             "--report=json", "--report-file=" + report])
        got = np.load(out)
        if got.shape != expected.shape or got.dtype != expected.dtype:
            print("accel-vs-cpp: %s: output %s %s, the %s gave %s %s" %
                  (stem, got.dtype, got.shape, args.reference,
                   expected.dtype, expected.shape))
            failed = True
            continue
        mismatches = int(np.sum(got != expected))
        with open(report) as f:
            rep = json.load(f)
        print("accel-vs-cpp: %s: %d elements, %d mismatches" %
              (stem, expected.size, mismatches))
        failed |= mismatches != 0
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
