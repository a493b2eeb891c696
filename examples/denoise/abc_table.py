#!/usr/bin/python3
"""PSNR of the denoiser compiled by lowbitc for the 10 bit, LSB-truncated
8 bit and ABC 8 bit input paths at several activation bit-widths (the
adaptive-bit-depth paper's table; docs/BIT_DEPTH.md).

For every activation width A and path, lowbitc calibrates denoiser.onnx on
the 10-bit calibration blocks (transformed by the path), quantizes it (8-bit
per-channel weights, A-bit activations), lowers it to integer ops and runs
the test image through the runtime's block loop (lowbit/runtime/BitDepth.h)
in the evaluator:

  lowbitc denoiser.onnx --calibration calib_noisy10.npy --input-bit-depth=10
      --abc-block=16 --abc-bits=8 --abc=none|truncate|adaptive
      --activation-bits=A --run test_noisy10.npy -o out.npy

The "float" row runs the float model through the same block loop. PSNR is
against the clean 10-bit image, peak 1023.

Usage: abc_table.py [--lowbitc PATH] [--work DIR] [--bits 12,10,9,8]
                    [--flag F]... [--check]
  --flag F: added to every lowbitc command (e.g. --flag=--abc-dither).
  --check: exit 1 unless ABC 8 bit beats truncated 8 bit at every A >= 8.
"""
import argparse
import os
import subprocess
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
MODEL = os.path.join(HERE, "denoiser.onnx")
PATHS = [("10 bit", "none"), ("truncated 8 bit", "truncate"),
         ("ABC 8 bit", "adaptive")]


def psnr(ref, out):
    err = ((ref.astype(np.float64) - out.astype(np.float64)) ** 2).mean()
    return 10 * np.log10(1023.0 ** 2 / err)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lowbitc", default=os.path.join(REPO, "build/bin/lowbitc"))
    ap.add_argument("--work", default=os.path.join(REPO, "build/denoise"))
    ap.add_argument("--bits", default="12,11,10,9,8,7,6")
    ap.add_argument("--flag", action="append", default=[])
    ap.add_argument("--check", action="store_true")
    args = ap.parse_args()
    os.makedirs(args.work, exist_ok=True)
    subprocess.run([sys.executable, os.path.join(HERE, "images.py"),
                    args.work], check=True, stdout=subprocess.DEVNULL)
    calib = os.path.join(args.work, "calib_noisy10.npy")
    noisy = os.path.join(args.work, "test_noisy10.npy")
    clean = np.load(os.path.join(args.work, "test_clean10.npy"))
    out = os.path.join(args.work, "abc_out.npy")

    def run(mode, extra):
        cmd = [args.lowbitc, MODEL, "--input-bit-depth=10", "--abc-block=16",
               "--abc-bits=8", "--abc=" + mode, "--run", noisy, "-o", out]
        extra = extra + args.flag
        proc = subprocess.run(cmd + extra, capture_output=True, text=True)
        if proc.returncode != 0:
            sys.exit("abc_table.py: %s\n%s" % (" ".join(cmd + extra),
                                                proc.stderr))
        return psnr(clean, np.load(out))

    print("noisy input: %.3f dB" % psnr(clean, np.load(noisy)))
    print("| activations | " + " | ".join(n for n, _ in PATHS)
          + " | ABC - truncated |")
    print("|---|---|---|---|---|")
    ok = True
    rows = [("float", [])] + [
        ("A%s" % a, ["--calibration", calib, "--activation-bits=%s" % a])
        for a in args.bits.split(",")]
    for name, extra in rows:
        vals = [run(mode, extra) for _, mode in PATHS]
        gain = vals[2] - vals[1]
        print("| %s | %s | %+.3f |" % (
            name, " | ".join("%.3f" % v for v in vals), gain))
        sys.stdout.flush()
        if name != "float" and int(name[1:]) >= 8 and gain <= 0:
            ok = False
    if args.check:
        print("abc-table: ABC 8 bit %s truncated 8 bit at every A >= 8"
              % ("beats" if ok else "does NOT beat"))
        sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
