#!/usr/bin/python3
"""Export one model of the zoo tier (test/zoo/zoo_models.py) with its data.

    export_zoo_model.py NAME SIZE DIR [--test N]

Writes DIR/NAME.onnx (torchvision's architecture, weights from a fixed seed,
BatchNorm statistics measured on the calibration images, opset 13) and
DIR/calib.npy, DIR/test.npy (scikit-image's sample images at SIZE x SIZE;
the first N test images).
"""
import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "zoo"))
import zoo_models  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("name", choices=sorted(zoo_models.MODELS))
    ap.add_argument("size", type=int)
    ap.add_argument("dir")
    ap.add_argument("--test", type=int, default=2)
    args = ap.parse_args()
    os.makedirs(args.dir, exist_ok=True)
    calib = zoo_models.calibration_images(args.size)
    test = zoo_models.test_images(args.size, args.test)
    np.save(os.path.join(args.dir, "calib.npy"), calib)
    np.save(os.path.join(args.dir, "test.npy"), test)
    model = zoo_models.build(args.name)
    zoo_models.set_batchnorm_statistics(model, calib)
    zoo_models.export(model, os.path.join(args.dir, args.name + ".onnx"),
                      args.size)


if __name__ == "__main__":
    main()
