#!/usr/bin/python3
"""Compile a lowbitc-generated model with g++ and the runtime harness.

    build_model.py OUT_DIR NAME RUNTIME_LIB [--cxx g++] [-o EXE] [--flag=F ...]

OUT_DIR holds NAME.h, NAME.cpp, NAME_weights.S and NAME.weights.bin (from
`lowbitc --emit=cpp -o OUT_DIR`); RUNTIME_LIB is the built
liblowbit_runtime.a. Prints the compile time; the executable (default
OUT_DIR/run_NAME) runs `run_NAME inputs.npy outputs.npy`.
"""
import argparse
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
RUNTIME_INCLUDE = os.path.join(os.path.dirname(HERE), "include")


def build(out_dir, name, runtime_lib, cxx=None, exe=None, opt="-O2",
          extra_flags=()):
    """Builds OUT_DIR's model into EXE; returns (exe, seconds).

    extra_flags are added to the g++ command after `opt` (for example
    ["-march=native"]); none by default. The compiler is cxx, else
    $LOWBIT_HARNESS_CXX, else g++; $LOWBIT_HARNESS_FLAGS (space-separated)
    is added too: the sanitizer test tier builds with clang++ and
    -fsanitize (test/lit.cfg.py sets both)."""
    cxx = cxx or os.environ.get("LOWBIT_HARNESS_CXX") or "g++"
    extra_flags = list(extra_flags) + os.environ.get(
        "LOWBIT_HARNESS_FLAGS", "").split()
    exe = exe or os.path.join(out_dir, "run_" + name)
    cmd = [cxx, opt] + list(extra_flags) + [
        "-std=c++17", "-I", RUNTIME_INCLUDE, "-I", out_dir,
        '-DLOWBIT_MODEL_HEADER="%s.h"' % name, "-DLOWBIT_MODEL=" + name,
        "-DLOWBIT_MODEL_UPPER=" + name.upper(),
        os.path.join(HERE, "run_model.cpp"),
        os.path.join(out_dir, name + ".cpp"),
        os.path.join(out_dir, name + "_weights.S"),
        runtime_lib, "-pthread", "-o", exe]
    start = time.time()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    seconds = time.time() - start
    if proc.returncode != 0:
        sys.exit("build_model: %s failed (%s):\n%s" % (cxx, " ".join(cmd),
                                                        proc.stderr))
    return exe, seconds


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out_dir")
    ap.add_argument("name")
    ap.add_argument("runtime_lib")
    ap.add_argument("--cxx", default=None,
                    help="compiler (default $LOWBIT_HARNESS_CXX, else g++)")
    ap.add_argument("-o", dest="exe")
    ap.add_argument("--flag", action="append", default=[],
                    help="extra g++ flag (repeatable; write --flag=-march=native)")
    args = ap.parse_args()
    exe, seconds = build(args.out_dir, args.name, args.runtime_lib, args.cxx,
                         args.exe, extra_flags=args.flag)
    print("built %s in %.1f s" % (exe, seconds))


if __name__ == "__main__":
    main()
