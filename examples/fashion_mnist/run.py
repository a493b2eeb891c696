#!/usr/bin/python3
"""The main job end to end on the bundled Fashion-MNIST CNN.

1. lowbitc calibrates fashion_cnn.onnx on 500 training images, quantizes it
   (W8A8 by default) and writes integer-only C++ on the lowbit runtime
   (`--emit=cpp`): header, source, weights blob, per-layer summary;
2. g++ -O2 builds it with the runtime and runtime/harness/run_model.cpp;
3. the executable classifies the 10,000 test images (float API: quantize,
   integer model, dequantize);
4. prints float accuracy (the float model in lowbitc's evaluator), int8
   accuracy, their difference, the weight and arena bytes, and checks that
   the evaluator on the same integer IR gives bit-identical logits.

Usage: run.py [--lowbitc PATH] [--runtime-lib PATH] [--work DIR]
              [-- extra lowbitc flags, e.g. --weight-bits=4]
"""
import os
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "runtime", "harness"))
import build_model  # noqa: E402
sys.path.insert(0, os.path.join(REPO, "bench"))
import benchlib  # noqa: E402


def run(cmd, quiet=True):
    return benchlib.run(cmd, "run.py", quiet)


def main():
    ap = benchlib.build_parser(__doc__, "build/fashion")
    ap.add_argument("flags", nargs="*", help="extra lowbitc flags")
    args = ap.parse_args()

    model = os.path.join(HERE, "fashion_cnn.onnx")
    images = os.path.join(args.work, "test_images.npy")
    labels_path = os.path.join(args.work, "test_labels.npy")
    calib = os.path.join(args.work, "calib_images.npy")
    if not all(os.path.exists(p) for p in (images, labels_path, calib)):
        run([sys.executable, os.path.join(HERE, "data.py"), args.work])
    labels = np.load(labels_path)
    quant = ["--calibration", calib] + args.flags

    # The float model in the reference evaluator.
    float_out = os.path.join(args.work, "float_logits.npy")
    run([args.lowbitc, model, "--run", images, "-o", float_out])
    float_acc = float((np.load(float_out).argmax(1) == labels).mean())

    # Compile to C++ and build it.
    cpp = os.path.join(args.work, "cpp")
    start = time.time()
    proc = run([args.lowbitc, model, "--emit=cpp", "-o", cpp] + quant)
    lowbitc_s = time.time() - start
    print("== lowbitc %s --calibration %s %s--emit=cpp -o %s  (%.1f s)"
          % (os.path.relpath(model, REPO), os.path.relpath(calib, REPO),
             "".join(f + " " for f in args.flags), os.path.relpath(cpp, REPO),
             lowbitc_s))
    print(proc.stderr.rstrip())
    exe, build_s = build_model.build(cpp, "fashion_cnn", args.runtime_lib)
    print("== g++ -O2: %s built in %.1f s" % (os.path.relpath(exe, REPO),
                                             build_s))

    # Run the integer C++ on the 10,000 test images.
    int_out = os.path.join(args.work, "int8_logits.npy")
    proc = run([exe, images, int_out])
    print("== " + proc.stderr.strip())
    int_logits = np.load(int_out)
    int_acc = float((int_logits.argmax(1) == labels).mean())

    # The same integer IR in the evaluator: must be bit-identical.
    eval_out = os.path.join(args.work, "eval_int8_logits.npy")
    run([args.lowbitc, model, "--run", images, "-o", eval_out] + quant)
    ev = np.load(eval_out).reshape(int_logits.shape)
    mismatches = int((ev.view(np.uint32) != int_logits.view(np.uint32)).sum())

    weight_bytes = os.path.getsize(os.path.join(cpp, "fashion_cnn.weights.bin"))
    arena = None
    with open(os.path.join(cpp, "fashion_cnn.h")) as f:
        for line in f:
            if "_ARENA_BYTES" in line:
                arena = int(line.split()[-1])
    print()
    print("test images             %d" % len(labels))
    print("float accuracy          %.2f%%" % (100 * float_acc))
    print("int8 accuracy (C++)     %.2f%%" % (100 * int_acc))
    print("difference              %+.2f points" % (100 * (int_acc - float_acc)))
    print("weight bytes            %d" % weight_bytes)
    print("arena bytes             %d" % arena)
    print("C++ vs evaluator        %d of %d logits differ" % (mismatches,
                                                              ev.size))
    if mismatches:
        sys.exit(1)


if __name__ == "__main__":
    main()
