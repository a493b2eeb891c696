#!/usr/bin/python3
"""The generated C++ against the reference evaluator, bit for bit.

    cpp_bitexact.py --lowbitc LOWBITC --runtime-lib LIB --work DIR
                    --model M.onnx --input X.npy [--input X1.npy ...]
                    [--calibration C.npy ...] [--flag=LOWBITC_FLAG ...]

(one --input and --calibration per graph input; with several inputs or
outputs the executable runs as `run_NAME X.npy X1.npy ... -o DIR` and the
evaluator writes a folder, compared output by output in graph order)

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


def safe_name(name):
    """lowbitc's file name for an output (tools/lowbitc/lowbitc.cpp)."""
    s = "".join(c if c.isalnum() or c in "_-." else "_" for c in name)
    return s or "output"


def output_names(model):
    """The graph's output names in order, or None for an .mlir model."""
    if not model.endswith(".onnx"):
        return None
    import onnx
    return [o.name for o in onnx.load(model, load_external_data=False)
            .graph.output]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lowbitc", required=True)
    ap.add_argument("--runtime-lib", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--model", required=True)
    ap.add_argument("--input", required=True, action="append",
                    help="one per graph input, in order")
    ap.add_argument("--calibration", action="append", default=[],
                    help="one per graph input, in order")
    ap.add_argument("--name", default="model")
    ap.add_argument("--flag", action="append", default=[])
    args = ap.parse_args()
    os.makedirs(args.work, exist_ok=True)
    common = [args.lowbitc, args.model] + args.flag
    for c in args.calibration:
        common += ["--calibration", c]
    names = output_names(args.model)
    several = len(args.input) > 1 or (names is not None and len(names) > 1)
    cpp_dir = os.path.join(args.work, "cpp")
    run(common + ["--emit=cpp", "--model-name", args.name, "-o", cpp_dir])
    exe, seconds = build_model.build(cpp_dir, args.name, args.runtime_lib)

    def run_cpp(tag, extra=(), env=None):
        """Runs the executable; returns (its outputs joined, stderr)."""
        if several:
            out = os.path.join(args.work, "cpp_out_" + tag)
            cmd = [exe] + args.input + ["-o", out] + list(extra)
        else:
            out = os.path.join(args.work, "cpp_out_%s.npy" % tag)
            cmd = [exe, args.input[0], out] + list(extra)
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
        if proc.returncode != 0:
            sys.exit("cpp-bitexact: FAILED: %s\n%s" % (" ".join(cmd),
                                                        proc.stderr))
        if not several:
            return np.load(out).reshape(-1), proc.stderr
        count = len(names) if names else 1
        return np.concatenate([
            np.load(os.path.join(out, "out%d.npy" % i)).reshape(-1)
            for i in range(count)]), proc.stderr

    a, _ = run_cpp("selected")
    eval_out = os.path.join(args.work, "eval_out" + ("" if several else ".npy"))
    run_args = []
    for x in args.input:
        run_args += ["--run", x]
    run(common + ["--compile-to=integer"] + run_args + ["-o", eval_out])
    if several:
        b = np.concatenate([
            np.load(os.path.join(eval_out, safe_name(n) + ".npy")).reshape(-1)
            for n in names])
    else:
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
        got, err = run_cpp(path, env=dict(os.environ, LOWBIT_MAX_ISA=path))
        # The cap took effect: the run reports the path it was forced to.
        if "run_model: kernel path %s," % path not in err:
            sys.exit("cpp-bitexact: FAILED: LOWBIT_MAX_ISA=%s ran %s"
                     % (path, err.strip()))
        forced.append((path, mismatch_count(got, b)))
    print("cpp-bitexact: forced kernel paths: %s"
          % ", ".join("%s %d mismatches" % f for f in forced))
    if any(m for _, m in forced):
        sys.exit(1)
    # Threads split the layers (the large ones; small models run on one)
    # without changing a byte.
    got, err = run_cpp("threads", ["--threads", "3"])
    if ", 3 threads\n" not in err:
        sys.exit("cpp-bitexact: FAILED with --threads 3:\n%s" % err)
    threaded = mismatch_count(got, b)
    print("cpp-bitexact: 3 threads: %d mismatches" % threaded)
    if threaded:
        sys.exit(1)


if __name__ == "__main__":
    main()
