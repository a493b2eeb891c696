#!/usr/bin/python3
"""End-to-end check of lowbitc against PyTorch on a small float CNN.

The script
  1. builds a small MNIST-shaped CNN in PyTorch with a fixed seed: Conv2d,
     BatchNorm2d (eval mode, random running statistics), per-channel PReLU
     with positive and negative slopes, LeakyReLU(0.1), MaxPool2d, a depthwise
     Conv2d (groups=C), ReLU, Flatten and Linear;
  2. exports it with torch.onnx.export (opset 13, constant folding on, batch 1,
     input "input", output "logits");
  3. runs `lowbitc model.onnx --emit=mlir` and counts the tosa.conv2d and
     tosa.depthwise_conv2d ops in the printed IR (at least one tosa.conv2d is
     required);
  4. runs `lowbitc model.onnx --run input.npy -o out.npy` on a batch of 8 random
     inputs (lowbitc iterates the model over the leading batch dimension) and
     compares with PyTorch's output: max abs error must be <= 1e-4.

The last line is `torch-cnn: max abs err <value> (tolerance 1e-4): OK`, or a
line containing FAILED with exit code 1.

Must run under Debian's /usr/bin/python3 (numpy, onnx and torch 1.13).
"""

import argparse
import os
import re
import subprocess
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from torch_util import random_batchnorm  # noqa: E402

TOLERANCE = 1e-4      # max abs error allowed between lowbitc and torch
TOLERANCE_TEXT = "1e-4"
BATCH = 8             # inputs per --run; the model itself is exported with batch 1
SEED = 20240607
OPSET = 13


def build_model():
    """The float CNN, in eval mode, with deterministic non-trivial parameters."""
    import torch
    from torch import nn

    torch.manual_seed(SEED)

    def bn(c):
        return random_batchnorm(c)

    def prelu(c):
        # Per-channel slopes, mostly positive with some negative ones.
        p = nn.PReLU(num_parameters=c)
        with torch.no_grad():
            p.weight.uniform_(0.05, 0.4)
            p.weight[::3] *= -1.0
        return p

    model = nn.Sequential(
        # 1x28x28 -> 8x28x28. This BN follows a conv, so the exporter may fold it.
        nn.Conv2d(1, 8, kernel_size=3, padding=1),
        bn(8),
        prelu(8),
        nn.MaxPool2d(2),                                          # -> 8x14x14
        # A BN that does not follow a conv stays a BatchNormalization node.
        bn(8),
        # Depthwise 3x3, then LeakyReLU.
        nn.Conv2d(8, 8, kernel_size=3, padding=1, groups=8),      # -> 8x14x14
        nn.LeakyReLU(0.1),
        nn.Conv2d(8, 16, kernel_size=3, stride=2, padding=1),     # -> 16x7x7
        bn(16),
        nn.ReLU(),
        nn.MaxPool2d(2, stride=2, padding=1),                     # -> 16x4x4
        nn.Flatten(),
        nn.Linear(16 * 4 * 4, 10),                                # Gemm
    )
    return model.eval()


def export(model, path):
    """Export to ONNX opset 13 with batch 1 and return the ONNX op types."""
    import onnx
    import torch

    example = torch.zeros(1, 1, 28, 28)
    with torch.no_grad():
        torch.onnx.export(model, example, path, opset_version=OPSET,
                          do_constant_folding=True,
                          input_names=["input"], output_names=["logits"])
    m = onnx.load(path)
    onnx.checker.check_model(m)
    return [n.op_type for n in m.graph.node]


def run(cmd):
    """Run a lowbitc command; print its stderr and fail if it fails."""
    print("$ " + " ".join(cmd))
    sys.stdout.flush()
    try:
        proc = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, timeout=120)
    except (OSError, subprocess.TimeoutExpired) as e:
        print("torch-cnn: cannot run lowbitc (%s): FAILED" % e)
        sys.exit(1)
    err = proc.stderr.decode("utf-8", "replace")
    if err.strip():
        print(err.rstrip())
    if proc.returncode != 0:
        how = ("killed by signal %d" % -proc.returncode if proc.returncode < 0
               else "exit code %d" % proc.returncode)
        print("torch-cnn: lowbitc failed (%s): FAILED" % how)
        sys.exit(1)
    return proc.stdout


def main():
    ap = argparse.ArgumentParser(
        description="Compare lowbitc with PyTorch on a small float CNN exported to ONNX.")
    ap.add_argument("--lowbitc", help="path to the lowbitc binary (required unless "
                                      "--export-only)")
    ap.add_argument("--work", required=True, help="folder for the model and .npy files")
    ap.add_argument("--export-only", action="store_true",
                    help="only build and export the model, compute torch's reference output, and exit")
    args = ap.parse_args()
    if not args.export_only and not args.lowbitc:
        ap.error("--lowbitc is required unless --export-only is given")

    import torch

    os.makedirs(args.work, exist_ok=True)
    model_path = os.path.join(args.work, "torch_cnn.onnx")
    mlir_path = os.path.join(args.work, "torch_cnn.mlir")
    in_path = os.path.join(args.work, "input.npy")
    out_path = os.path.join(args.work, "out.npy")

    model = build_model()
    ops = export(model, model_path)
    print("exported %s (opset %d): %s" % (model_path, OPSET, " ".join(ops)))

    # The batch of inputs and torch's reference output.
    rng = np.random.default_rng(SEED)
    x = rng.standard_normal((BATCH, 1, 28, 28)).astype(np.float32)
    np.save(in_path, x)
    with torch.no_grad():
        expected = model(torch.from_numpy(x)).numpy()
    print("torch output: shape %s, max |logit| %.4g" % (expected.shape,
                                                        float(np.abs(expected).max())))
    if args.export_only:
        print("torch-cnn: export only: OK")
        return 0

    # 1. --emit=mlir must succeed and use TOSA convolutions.
    run([args.lowbitc, model_path, "--emit=mlir", "-o", mlir_path])
    with open(mlir_path) as f:
        mlir = f.read()
    n_conv = len(re.findall(r"\btosa\.conv2d\b", mlir))
    n_dw = len(re.findall(r"\btosa\.depthwise_conv2d\b", mlir))
    print("emitted MLIR: %d tosa.conv2d, %d tosa.depthwise_conv2d" % (n_conv, n_dw))
    if n_conv == 0:
        print("torch-cnn: no tosa.conv2d in the emitted MLIR: FAILED")
        return 1

    # 2. --run over the batch of 8.
    if os.path.exists(out_path):
        os.remove(out_path)
    run([args.lowbitc, model_path, "--run", in_path, "-o", out_path])
    if not os.path.isfile(out_path):
        print("torch-cnn: lowbitc wrote no %s: FAILED" % out_path)
        return 1
    actual = np.load(out_path, allow_pickle=False)
    if actual.dtype != expected.dtype or actual.shape != expected.shape:
        print("torch-cnn: output is %s %s, expected %s %s: FAILED"
              % (actual.dtype, actual.shape, expected.dtype, expected.shape))
        return 1
    abs_err = np.abs(actual.astype(np.float64) - expected.astype(np.float64))
    max_abs = float(abs_err.max())
    # Relative error against the reference, guarded for tiny reference values.
    max_rel = float((abs_err / np.maximum(np.abs(expected), 1e-6)).max())
    print("lowbitc vs torch over %d inputs: max abs err %.3g, max rel err %.3g"
          % (BATCH, max_abs, max_rel))
    verdict = "OK" if np.isfinite(max_abs) and max_abs <= TOLERANCE else "FAILED"
    print("torch-cnn: max abs err %.3g (tolerance %s): %s" % (max_abs, TOLERANCE_TEXT, verdict))
    return 0 if verdict == "OK" else 1


if __name__ == "__main__":
    sys.exit(main())
