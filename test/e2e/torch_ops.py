#!/usr/bin/python3
"""End to end on the ops real CNNs need beyond convolutions (issue 10):
one small PyTorch model per op, exported as users export them (opset 13,
dynamic batch axis).

    torch_ops.py --lowbitc LOWBITC --work DIR [--models a,b] [--export-only]

Models (each conv -> OP -> conv, fixed seed, random non-identity BatchNorms):
  grouped     grouped convolution, groups = 2 (RegNet)
  split       channel split by chunk() and concat (ShuffleNet)
  shuffle     channel shuffle: reshape to 5-D, transpose, reshape (ShuffleNet)
  bn_cat      BatchNorm after a concat (DenseNet)
  bn_relu     BatchNorm after a ReLU (DenseNet)
  hs_gemm     Linear -> HardSwish -> Linear (MobileNetV3's classifier)
  silu_se     SiLU feeding squeeze-and-excitation (EfficientNet)
  const_cat   concat with a constant zero tensor (a detector's channel pad)
  pad_const   F.pad with the value 0.5 before a convolution
  mean        x.mean([2, 3]) -> Linear (ShuffleNet, MNASNet)
  max_keep    amax over H and W, keepdim (a global max pool)
  mean_c      mean over channels (stays float, named by a warning)
  sub_act     difference of two activations (stays float, named)
  add_bcast   an activation plus a broadcast [N, C, 1, 1] one (float, named)
  gather_c    x[:, [0, 2, 5, 7]]: Gather of channels with constant indices
  up_nearest  F.interpolate(scale_factor=2, nearest) (FPN necks)
  up_bilinear F.interpolate(size=(13, 11), bilinear, align_corners=False)
  up_corners  F.interpolate(scale_factor=2, bilinear, align_corners=True)
  down_bilinear F.interpolate(size=(5, 6), bilinear) (downsampling)

For each: `lowbitc --run` (float) against torch, max|a - b| / max|b| <=
1e-4; and the integer model (`lowbitc --calibration ... --run`) against
torch's float output, SQNR >= --min-sqnr dB (25). Prints one line per model
`torch-ops: NAME: float rel err E, int8 SQNR S dB: OK` (or FAILED, exit 1).
With --export-only it writes NAME.onnx, calib.npy and test.npy and stops
(the lit test then checks the generated C++ of each bit for bit).
"""

import argparse
import os
import subprocess
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from torch_util import random_batchnorm, structured_images  # noqa: E402

SEED = 20261129
IMAGE = (3, 8, 8)


def build_models():
    import torch
    import torch.nn.functional as F
    from torch import nn

    def conv(i, o, k=3, groups=1):
        return nn.Conv2d(i, o, k, padding=k // 2, groups=groups)

    class Grouped(nn.Module):
        def __init__(self):
            super().__init__()
            self.c0, self.c1, self.c2 = conv(3, 8), conv(8, 16, groups=2), conv(16, 8, 1)

        def forward(self, x):
            return self.c2(F.relu(self.c1(F.relu(self.c0(x)))))

    class Split(nn.Module):
        def __init__(self):
            super().__init__()
            self.c0, self.c1, self.c2 = conv(3, 8), conv(4, 4, 1), conv(8, 8, 1)

        def forward(self, x):
            a, b = F.relu(self.c0(x)).chunk(2, dim=1)
            return self.c2(torch.cat([a, F.relu(self.c1(b))], 1))

    class Shuffle(nn.Module):
        def __init__(self):
            super().__init__()
            self.c0, self.c2 = conv(3, 8), conv(8, 8, 1)

        def forward(self, x):
            y = F.relu(self.c0(x))
            n, c, h, w = y.shape
            y = y.view(n, 2, c // 2, h, w).transpose(1, 2).contiguous().view(n, c, h, w)
            return self.c2(y)

    class BnCat(nn.Module):
        def __init__(self):
            super().__init__()
            self.c0, self.c1, self.c2 = conv(3, 8), conv(3, 8), conv(16, 8, 1)
            self.bn = random_batchnorm(16)

        def forward(self, x):
            y = torch.cat([F.relu(self.c0(x)), F.relu(self.c1(x))], 1)
            return self.c2(F.relu(self.bn(y)))

    class BnRelu(nn.Module):
        def __init__(self):
            super().__init__()
            self.c0, self.c2 = conv(3, 8), conv(8, 8, 1)
            self.bn = random_batchnorm(8)

        def forward(self, x):
            return self.c2(self.bn(F.relu(self.c0(x))))

    class HsGemm(nn.Module):
        def __init__(self):
            super().__init__()
            self.l1, self.l2 = nn.Linear(3 * 8 * 8, 32), nn.Linear(32, 10)

        def forward(self, x):
            return self.l2(F.hardswish(self.l1(x.flatten(1))))

    class SiluSE(nn.Module):
        def __init__(self):
            super().__init__()
            self.c0, self.f1, self.f2, self.c2 = conv(3, 8), conv(8, 4, 1), conv(4, 8, 1), conv(8, 8, 1)

        def forward(self, x):
            y = F.silu(self.c0(x))
            s = torch.sigmoid(self.f2(F.silu(self.f1(F.adaptive_avg_pool2d(y, 1)))))
            return self.c2(y * s)

    class ConstCat(nn.Module):
        def __init__(self):
            super().__init__()
            self.c0, self.c2 = conv(3, 8), conv(12, 8, 1)

        def forward(self, x):
            y = F.relu(self.c0(x))
            return self.c2(torch.cat([y, torch.zeros(1, 4, 8, 8)], 1))

    class PadConst(nn.Module):
        def __init__(self):
            super().__init__()
            self.c0, self.c2 = conv(3, 8), nn.Conv2d(8, 8, 3)

        def forward(self, x):
            return self.c2(F.pad(F.relu(self.c0(x)), (1, 1, 1, 1), value=0.5))

    class Mean(nn.Module):
        def __init__(self):
            super().__init__()
            self.c0, self.l = conv(3, 8), nn.Linear(8, 10)

        def forward(self, x):
            return self.l(F.relu(self.c0(x)).mean([2, 3]))

    class MaxKeep(nn.Module):
        def __init__(self):
            super().__init__()
            self.c0, self.c2 = conv(3, 8), conv(8, 8, 1)

        def forward(self, x):
            return self.c2(torch.amax(self.c0(x), dim=(2, 3), keepdim=True))

    class MeanC(nn.Module):
        def __init__(self):
            super().__init__()
            self.c0, self.c2 = conv(3, 8), conv(1, 8, 1)

        def forward(self, x):
            return self.c2(F.relu(self.c0(x)).mean(1, keepdim=True))

    class GatherC(nn.Module):
        def __init__(self):
            super().__init__()
            self.c0, self.c2 = conv(3, 8), conv(4, 8, 1)

        def forward(self, x):
            return self.c2(F.relu(self.c0(x))[:, [0, 2, 5, 7]])

    class SubAct(nn.Module):
        def __init__(self):
            super().__init__()
            self.c0, self.c1, self.c2 = conv(3, 8), conv(3, 8), conv(8, 8, 1)

        def forward(self, x):
            return self.c2(F.relu(self.c0(x)) - F.relu(self.c1(x)))

    class AddBroadcast(nn.Module):
        def __init__(self):
            super().__init__()
            self.c0, self.c1, self.c2 = conv(3, 8), conv(3, 8, 1), conv(8, 8, 1)

        def forward(self, x):
            g = self.c1(F.adaptive_avg_pool2d(x, 1))
            return self.c2(F.relu(self.c0(x)) + g)

    class Interp(nn.Module):
        def __init__(self, **kw):
            super().__init__()
            self.c0, self.c2 = conv(3, 8), conv(8, 8)
            self.kw = kw

        def forward(self, x):
            return self.c2(F.interpolate(F.relu(self.c0(x)), **self.kw))

    return {
        "grouped": Grouped, "split": Split, "shuffle": Shuffle,
        "bn_cat": BnCat, "bn_relu": BnRelu, "hs_gemm": HsGemm,
        "silu_se": SiluSE, "const_cat": ConstCat, "pad_const": PadConst,
        "mean": Mean, "max_keep": MaxKeep, "mean_c": MeanC,
        "sub_act": SubAct, "add_bcast": AddBroadcast, "gather_c": GatherC,
        "up_nearest": lambda: Interp(scale_factor=2, mode="nearest"),
        "up_bilinear": lambda: Interp(size=(13, 11), mode="bilinear", align_corners=False),
        "up_corners": lambda: Interp(scale_factor=2, mode="bilinear", align_corners=True),
        "down_bilinear": lambda: Interp(size=(5, 6), mode="bilinear", align_corners=False),
    }


def run(cmd):
    proc = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True,
                          text=True, timeout=300)
    if proc.returncode != 0:
        raise RuntimeError("%s\n%s" % (" ".join(cmd), proc.stderr))
    return proc


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lowbitc")
    ap.add_argument("--work", required=True)
    ap.add_argument("--models", default=None, help="comma-separated subset")
    ap.add_argument("--min-sqnr", type=float, default=25.0)
    ap.add_argument("--export-only", action="store_true")
    args = ap.parse_args()
    if not args.export_only and not args.lowbitc:
        ap.error("--lowbitc is required unless --export-only is given")
    import torch

    os.makedirs(args.work, exist_ok=True)
    p = lambda *n: os.path.join(args.work, *n)  # noqa: E731
    calib = structured_images(32, 1, IMAGE)
    test = structured_images(16, 2, IMAGE)
    np.save(p("calib.npy"), calib)
    np.save(p("test.npy"), test)
    builders = build_models()
    names = args.models.split(",") if args.models else list(builders)
    failed = 0
    for name in names:
        torch.manual_seed(SEED)
        model = builders[name]().eval()
        onnx_path = p(name + ".onnx")
        with torch.no_grad():
            torch.onnx.export(model, torch.from_numpy(test[:1]), onnx_path,
                              opset_version=13, input_names=["input"],
                              output_names=["output"],
                              dynamic_axes={"input": {0: "batch"},
                                            "output": {0: "batch"}})
            # One sample at a time: the constant concat is batch 1, like
            # the detector it stands for.
            ref = np.concatenate([model(torch.from_numpy(test[i:i + 1])).numpy()
                                  for i in range(len(test))])
        if args.export_only:
            continue
        try:
            run([args.lowbitc, onnx_path, "--run", p("test.npy"), "-o", p(name + "_f.npy")])
            f = np.load(p(name + "_f.npy")).reshape(ref.shape)
            rel = float(np.abs(f - ref).max() / np.abs(ref).max())
            proc = run([args.lowbitc, onnx_path, "--calibration", p("calib.npy"),
                        "--run", p("test.npy"), "-o", p(name + "_q.npy")])
            for line in proc.stderr.splitlines():
                if "warning" in line:
                    print("torch-ops: %s: %s" % (name, line.split("warning: ", 1)[1]))
            q = np.load(p(name + "_q.npy")).reshape(ref.shape)
            sqnr = 10 * np.log10((ref ** 2).sum() / max(((ref - q) ** 2).sum(), 1e-30))
        except RuntimeError as e:
            print("torch-ops: %s: FAILED: %s" % (name, str(e).splitlines()[-1]))
            failed += 1
            continue
        ok = rel <= 1e-4 and sqnr >= args.min_sqnr
        failed += not ok
        print("torch-ops: %s: float rel err %.2g, int8 SQNR %.1f dB: %s"
              % (name, rel, sqnr, "OK" if ok else "FAILED"))
    if args.export_only:
        print("torch-ops: exported %d models" % len(names))
        return
    print("torch-ops: %d of %d OK" % (len(names) - failed, len(names)))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
