#!/usr/bin/python3
"""The generated C++ against the reference evaluator, bit for bit.

    cpp_bitexact.py --lowbitc LOWBITC --runtime-lib LIB --work DIR
                    --model M.onnx --input X.npy [--calibration C.npy]
                    [--flag=LOWBITC_FLAG ...]

1. `lowbitc M.onnx [--calibration C.npy] FLAGS --emit=cpp -o DIR/cpp`
2. g++ -O2 builds it with runtime/harness/run_model.cpp and the runtime;
3. the executable runs the float API on every sample of X.npy;
4. `lowbitc M.onnx [--calibration C.npy] FLAGS --run X.npy` runs the same
   integer IR in the evaluator;
5. both outputs (dequantized with the same rule) must be identical;
6. the executable runs again with each kernel path this CPU has forced
   (LOWBIT_MAX_ISA=portable, avx2, avx2-vnni, avx512-vnni), and each
   output must equal the evaluator's too;
7. and once more on 3 threads (run_model --threads 3), the same.

Prints `cpp-bitexact: N elements, M mismatches` and exits 1 on a mismatch.
"""
import argparse
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
        sys.exit("cpp-bitexact: FAILED: %s\n%s" % (" ".join(cmd), proc.stderr))
    return proc


def cpu_paths():
    """The fast-kernel paths (lowbit/runtime/Fast.h) this CPU runs."""
    flags = set()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("flags"):
                    flags = set(line.split(":", 1)[1].split())
                    break
    except OSError:
        pass
    paths = ["portable"]
    if "avx2" in flags:
        paths.append("avx2")
        if "avx_vnni" in flags:
            paths.append("avx2-vnni")
    if {"avx512f", "avx512bw", "avx512vl", "avx512dq",
            "avx512_vnni"} <= flags:
        paths.append("avx512-vnni")
    return paths


def mismatch_count(a, b):
    return int((a.view(np.uint32) != b.view(np.uint32)).sum())


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lowbitc", required=True)
    ap.add_argument("--runtime-lib", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--model", required=True)
    ap.add_argument("--input", required=True)
    ap.add_argument("--calibration")
    ap.add_argument("--name", default="model")
    ap.add_argument("--flag", action="append", default=[])
    args = ap.parse_args()
    os.makedirs(args.work, exist_ok=True)
    common = [args.lowbitc, args.model] + args.flag
    if args.calibration:
        common += ["--calibration", args.calibration]
    cpp_dir = os.path.join(args.work, "cpp")
    run(common + ["--emit=cpp", "--model-name", args.name, "-o", cpp_dir])
    exe, seconds = build_model.build(cpp_dir, args.name, args.runtime_lib)
    cpp_out = os.path.join(args.work, "cpp_out.npy")
    run([exe, args.input, cpp_out])
    eval_out = os.path.join(args.work, "eval_out.npy")
    run(common + ["--compile-to=integer", "--run", args.input, "-o",
                  eval_out])
    a = np.load(cpp_out).reshape(-1)
    b = np.load(eval_out).reshape(-1)
    if a.shape != b.shape:
        sys.exit("cpp-bitexact: FAILED: %d C++ values, %d evaluator values"
                 % (a.size, b.size))
    mismatches = mismatch_count(a, b)
    print("cpp-bitexact: %d elements, %d mismatches (g++ -O2 build %.1f s)"
          % (a.size, mismatches, seconds))
    if mismatches:
        idx = np.nonzero(a != b)[0][:5]
        print("cpp-bitexact: FAILED, first at %s: C++ %s evaluator %s"
              % (idx.tolist(), a[idx].tolist(), b[idx].tolist()))
        sys.exit(1)
    forced = []
    for path in cpu_paths():
        out = os.path.join(args.work, "cpp_out_%s.npy" % path)
        proc = subprocess.run([exe, args.input, out], capture_output=True,
                              text=True, env=dict(os.environ,
                                                  LOWBIT_MAX_ISA=path))
        if proc.returncode != 0:
            sys.exit("cpp-bitexact: FAILED with LOWBIT_MAX_ISA=%s:\n%s"
                     % (path, proc.stderr))
        # The cap took effect: the run reports the path it was forced to.
        if "run_model: kernel path %s," % path not in proc.stderr:
            sys.exit("cpp-bitexact: FAILED: LOWBIT_MAX_ISA=%s ran %s"
                     % (path, proc.stderr.strip()))
        forced.append((path, mismatch_count(np.load(out).reshape(-1), b)))
    print("cpp-bitexact: forced kernel paths: %s"
          % ", ".join("%s %d mismatches" % f for f in forced))
    if any(m for _, m in forced):
        sys.exit(1)
    # Threads split the layers (the large ones; small models run on one)
    # without changing a byte.
    out = os.path.join(args.work, "cpp_out_threads.npy")
    proc = subprocess.run([exe, args.input, out, "--threads", "3"],
                          capture_output=True, text=True)
    if proc.returncode != 0 or ", 3 threads\n" not in proc.stderr:
        sys.exit("cpp-bitexact: FAILED with --threads 3:\n%s" % proc.stderr)
    threaded = mismatch_count(np.load(out).reshape(-1), b)
    print("cpp-bitexact: 3 threads: %d mismatches" % threaded)
    if threaded:
        sys.exit(1)


if __name__ == "__main__":
    main()
