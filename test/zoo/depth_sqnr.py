#!/usr/bin/python3
"""SQNR by depth: lowbit against PyTorch FX on the first k blocks of a
model's `features`, and after its global average pool.

    depth_sqnr.py --lowbitc LOWBITC --work DIR [--model mobilenet_v3_small]
                  [--depths 1,2,4,6,9,13] [--test-set crops|photos]
                  [--image-size 224] [--fx-backend x86,onednn]
                  [--flag=LOWBITC_FLAG ...] [--calibrate-on-test]

For each k, `nn.Sequential(model.features[:k])` (and, as the row `pool`,
all of `features` followed by the model's `avgpool`) is quantized by lowbit
(`lowbitc --calibration ... --run`) and by FX with each backend, calibrated
on the zoo's 16 calibration images (with --calibrate-on-test, on those and
the test images), and each output's SQNR against torch's float output on
the test images is printed. The model is zoo_models.build with BatchNorm
statistics from the calibration images, as in zoo.py. Used for the
mobilenet_v3_small analysis in docs/TESTING.md ("Model zoo"); e.g.
`--flag=--activation-bits=16` shows how much of lowbit's error is the
weights'.
"""
import argparse
import os
import subprocess
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import zoo_models  # noqa: E402
from zoo_models import sqnr  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lowbitc", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--model", default="mobilenet_v3_small")
    ap.add_argument("--depths", default="1,2,4,6,9,13")
    ap.add_argument("--test-set", choices=["photos", "crops"], default="crops")
    ap.add_argument("--image-size", type=int, default=224)
    ap.add_argument("--fx-backend", default="x86,onednn")
    ap.add_argument("--flag", action="append", default=[])
    ap.add_argument("--calibrate-on-test", action="store_true")
    args = ap.parse_args()
    import torch

    os.makedirs(args.work, exist_ok=True)
    calib = zoo_models.calibration_images(args.image_size)
    test = zoo_models.test_images(args.image_size, None, args.test_set)
    model = zoo_models.set_batchnorm_statistics(zoo_models.build(args.model), calib)
    if args.calibrate_on_test:
        calib = np.concatenate([calib, test])
    calib_path = os.path.join(args.work, "calib.npy")
    test_path = os.path.join(args.work, "test.npy")
    np.save(calib_path, calib)
    np.save(test_path, test)
    backends = [b for b in args.fx_backend.split(",") if b]
    blocks = list(model.features.children())
    rows = [(str(k), torch.nn.Sequential(*blocks[:k])) for k in
            map(int, args.depths.split(","))]
    rows.append(("pool", torch.nn.Sequential(model.features, model.avgpool)))
    print("depth  lowbit    " + "  ".join("FX %-7s" % b for b in backends))
    for label, sub in rows:
        sub = sub.eval()
        ref = zoo_models.run_torch(sub, test, batch=1)
        path = os.path.join(args.work, "sub_%s.onnx" % label)
        zoo_models.export(sub, path, args.image_size)
        out = os.path.join(args.work, "q_%s.npy" % label)
        subprocess.run([args.lowbitc, path, "--calibration", calib_path,
                        "--run", test_path, "-o", out] + args.flag,
                       check=True, capture_output=True)
        cells = ["%6.2f dB" % sqnr(ref, np.load(out).reshape(ref.shape))]
        for b in backends:
            q, _ = zoo_models.fx_quantize(sub, calib, b)
            cells.append("%6.2f dB" % sqnr(ref, zoo_models.run_torch(q, test, batch=1)))
        print("%-6s %s" % (label, "  ".join(cells)), flush=True)


if __name__ == "__main__":
    main()
