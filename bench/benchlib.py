"""Helpers shared by the benchmarks in bench/ and the examples' drivers.

Import it after putting bench/ on sys.path:

    sys.path.insert(0, os.path.join(REPO, "bench"))
    import benchlib  # noqa: E402
"""
import argparse
import os
import subprocess
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run(cmd, prog, quiet=True):
    """Runs cmd (its output captured unless quiet is False) and exits with
    `prog: ... failed` and its stderr when it fails; returns the process."""
    proc = subprocess.run(cmd, capture_output=quiet, text=True)
    if proc.returncode != 0:
        sys.exit("%s: %s failed:\n%s"
                 % (prog, " ".join(cmd), proc.stderr if quiet else ""))
    return proc


def timed(cmd):
    """Runs cmd with its output captured; returns (seconds, process), or
    exits with the end of its stderr when it fails."""
    start = time.time()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit("FAILED: %s\n%s" % (" ".join(cmd), proc.stderr[-4000:]))
    return time.time() - start, proc


def build_parser(doc, work):
    """The argument parser of a driver that compiles a model to C++ and
    builds it with the runtime: described by the first line of doc, with
    --lowbitc and --runtime-lib (the build's, by default) and --work
    (default `work`, below the repository)."""
    ap = argparse.ArgumentParser(description=doc.splitlines()[0])
    ap.add_argument("--lowbitc", default=os.path.join(REPO, "build/bin/lowbitc"))
    ap.add_argument("--runtime-lib", default=os.path.join(
        REPO, "build/runtime/liblowbit_runtime.a"))
    ap.add_argument("--work", default=os.path.join(REPO, work))
    return ap
