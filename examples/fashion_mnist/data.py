#!/usr/bin/python3
"""Fashion-MNIST from Debian's dataset-fashion-mnist package.

  load(split) -> (images float32 [N, 1, 28, 28] in [0, 1], labels int64 [N])

`python3 data.py OUT_DIR [--test N] [--calib M]` also writes
test_images.npy / test_labels.npy (the first N of the 10,000 test images,
all by default) and calib_images.npy (M = 500 training images, the
calibration set) for lowbitc.
"""
import gzip
import os
import sys

import numpy as np

DATA_DIR = "/usr/share/datasets/fashion-mnist"


def _read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    magic = int.from_bytes(data[0:4], "big")
    ndim = magic & 0xFF
    dims = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(data, np.uint8, offset=4 + 4 * ndim).reshape(dims)


def load(split):
    prefix = "train" if split == "train" else "t10k"
    images = _read_idx(os.path.join(DATA_DIR, prefix + "-images-idx3-ubyte.gz"))
    labels = _read_idx(os.path.join(DATA_DIR, prefix + "-labels-idx1-ubyte.gz"))
    images = (images.astype(np.float32) / 255.0)[:, None, :, :]
    return images, labels.astype(np.int64)


def main():
    import argparse
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", nargs="?", default=".")
    ap.add_argument("--test", type=int, default=10000)
    ap.add_argument("--calib", type=int, default=500)
    args = ap.parse_args()
    out = args.out
    os.makedirs(out, exist_ok=True)
    test_x, test_y = load("test")
    test_x, test_y = test_x[:args.test], test_y[:args.test]
    np.save(os.path.join(out, "test_images.npy"), test_x)
    np.save(os.path.join(out, "test_labels.npy"), test_y)
    train_x, _ = load("train")
    # A fixed, spread-out calibration subset of the training set.
    idx = np.random.RandomState(0).choice(len(train_x), args.calib,
                                          replace=False)
    np.save(os.path.join(out, "calib_images.npy"), train_x[np.sort(idx)])
    print("wrote %d test images and %d calibration images to %s"
          % (len(test_x), args.calib, out))


if __name__ == "__main__":
    main()
