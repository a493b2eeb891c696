#!/usr/bin/python3
"""Benchmark: how fast, and in how much memory, lowbitc imports ResNet-18.

The script
  1. builds ResNet-18 in PyTorch with exactly torchvision's architecture
     (defined here: torchvision is not installed), random weights from a fixed
     seed, eval mode, and exports it to ONNX opset 13 with a 1x3x224x224 input
     (cached in the work folder; --force re-exports);
  2. runs `lowbitc model.onnx --emit=mlirbc -o /dev/null` (MLIR bytecode) and
     `lowbitc model.onnx --emit=mlir -o /dev/null` (MLIR text) --repeat times
     each, measuring wall time and the lowbitc process's peak RSS;
  3. prints best/median wall time and peak RSS per command, and PASS/FAIL
     against the targets: import < 3 s (median wall time) and peak RSS < 1 GiB.

It is a benchmark, not a test: it exits 0 whatever the figures are, and
non-zero only if the export or a lowbitc run fails.

Must run under Debian's /usr/bin/python3 (numpy, onnx and torch 1.13):
    /usr/bin/python3 bench/import_resnet18.py [--lowbitc PATH] [--work DIR] [--repeat N]
"""

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SEED = 0
OPSET = 13
MODEL_FILE = "resnet18_opset13.onnx"

TARGET_SECONDS = 3.0           # median wall time of one import
TARGET_RSS_KIB = 1024 * 1024   # peak resident set size: 1 GiB

GNU_TIME = "/usr/bin/time"


# --------------------------------------------------------------------------
# ResNet-18, as in torchvision.models.resnet (BasicBlock, layers [2, 2, 2, 2])
# --------------------------------------------------------------------------

def build_resnet18():
    import torch
    from torch import nn

    def conv3x3(cin, cout, stride=1):
        return nn.Conv2d(cin, cout, kernel_size=3, stride=stride, padding=1, bias=False)

    def conv1x1(cin, cout, stride=1):
        return nn.Conv2d(cin, cout, kernel_size=1, stride=stride, bias=False)

    class BasicBlock(nn.Module):
        expansion = 1

        def __init__(self, inplanes, planes, stride=1, downsample=None):
            super().__init__()
            self.conv1 = conv3x3(inplanes, planes, stride)
            self.bn1 = nn.BatchNorm2d(planes)
            self.relu = nn.ReLU(inplace=True)
            self.conv2 = conv3x3(planes, planes)
            self.bn2 = nn.BatchNorm2d(planes)
            self.downsample = downsample
            self.stride = stride

        def forward(self, x):
            identity = x
            out = self.relu(self.bn1(self.conv1(x)))
            out = self.bn2(self.conv2(out))
            if self.downsample is not None:
                identity = self.downsample(x)
            return self.relu(out + identity)

    class ResNet(nn.Module):
        def __init__(self, block, layers, num_classes=1000):
            super().__init__()
            self.inplanes = 64
            self.conv1 = nn.Conv2d(3, 64, kernel_size=7, stride=2, padding=3, bias=False)
            self.bn1 = nn.BatchNorm2d(64)
            self.relu = nn.ReLU(inplace=True)
            self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
            self.layer1 = self._make_layer(block, 64, layers[0])
            self.layer2 = self._make_layer(block, 128, layers[1], stride=2)
            self.layer3 = self._make_layer(block, 256, layers[2], stride=2)
            self.layer4 = self._make_layer(block, 512, layers[3], stride=2)
            self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
            self.fc = nn.Linear(512 * block.expansion, num_classes)
            # torchvision's initialization.
            for m in self.modules():
                if isinstance(m, nn.Conv2d):
                    nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
                elif isinstance(m, nn.BatchNorm2d):
                    nn.init.constant_(m.weight, 1)
                    nn.init.constant_(m.bias, 0)

        def _make_layer(self, block, planes, blocks, stride=1):
            downsample = None
            if stride != 1 or self.inplanes != planes * block.expansion:
                downsample = nn.Sequential(
                    conv1x1(self.inplanes, planes * block.expansion, stride),
                    nn.BatchNorm2d(planes * block.expansion))
            layers = [block(self.inplanes, planes, stride, downsample)]
            self.inplanes = planes * block.expansion
            layers += [block(self.inplanes, planes) for _ in range(1, blocks)]
            return nn.Sequential(*layers)

        def forward(self, x):
            x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
            x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
            x = torch.flatten(self.avgpool(x), 1)
            return self.fc(x)

    torch.manual_seed(SEED)
    model = ResNet(BasicBlock, [2, 2, 2, 2]).eval()
    randomize_batchnorm(model)
    return model


def randomize_batchnorm(model):
    """Gives every BatchNorm of model trained-looking statistics. With
    torchvision's init alone, all BNs are identities, the exporter folds them
    into all-zero conv biases and deduplicates those into Identity nodes,
    which an exported trained model does not have."""
    import torch
    from torch import nn

    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.weight.uniform_(0.5, 1.5)
                m.bias.normal_(0.0, 0.1)
                m.running_mean.normal_(0.0, 0.1)
                m.running_var.uniform_(0.5, 1.5)


def export(model, path):
    """Export to ONNX opset 13 (batch 1, 224x224); written atomically."""
    import torch

    tmp = path + ".tmp"
    with torch.no_grad():
        torch.onnx.export(model, torch.zeros(1, 3, 224, 224), tmp,
                          opset_version=OPSET, do_constant_folding=True,
                          input_names=["input"], output_names=["logits"])
    os.replace(tmp, path)


def onnx_summary(path):
    """(op histogram text, initializer element count) of an ONNX file."""
    import collections

    import numpy as np
    import onnx

    m = onnx.load(path)
    ops = collections.Counter(n.op_type for n in m.graph.node)
    elems = sum(int(np.prod(t.dims)) for t in m.graph.initializer)
    return ", ".join("%s %d" % kv for kv in sorted(ops.items())), elems


# --------------------------------------------------------------------------
# Timing
# --------------------------------------------------------------------------

# Fallback when GNU time is missing: a small, fresh Python process runs the
# command and reports "returncode wall_seconds maxrss_kib" from os.wait4.
# (os.wait4 straight from this process would be wrong: the child is forked
# from a Python that has torch loaded, and Linux carries the pre-exec
# high-water mark into the child's ru_maxrss. The helper's own ~10 MiB is
# the floor of what this fallback can report.)
_WAIT4_HELPER = """
import os, subprocess, sys, time
start = time.perf_counter()
proc = subprocess.Popen(sys.argv[2:])
_, status, usage = os.wait4(proc.pid, 0)
wall = time.perf_counter() - start
with open(sys.argv[1], "w") as f:
    f.write("%d %.6f %d\\n" % (os.waitstatus_to_exitcode(status), wall, usage.ru_maxrss))
"""


def measure(cmd):
    """Run cmd once: (wall seconds, peak RSS in KiB, returncode, stderr text).

    Peak RSS is the lowbitc process's own maximum resident set size, taken
    from GNU time's %M when /usr/bin/time exists, else from os.wait4 in a
    small helper process (see _WAIT4_HELPER). With GNU time, wall time is
    measured here with a monotonic clock (GNU time's %e only has 10 ms
    resolution); with the helper, by the helper around the child alone.
    """
    use_time = os.access(GNU_TIME, os.X_OK)
    with tempfile.NamedTemporaryFile(prefix="lowbit-bench-", suffix=".rusage") as tf, \
            tempfile.TemporaryFile() as err:
        if use_time:
            full = [GNU_TIME, "-f", "%e %M", "-o", tf.name] + cmd
        else:
            full = [sys.executable, "-S", "-c", _WAIT4_HELPER, tf.name] + cmd
        start = time.perf_counter()
        proc = subprocess.run(full, stdin=subprocess.DEVNULL,
                              stdout=subprocess.DEVNULL, stderr=err)
        wall = time.perf_counter() - start
        err.seek(0)
        stderr = err.read().decode("utf-8", "replace")
        with open(tf.name) as f:
            lines = [l.strip() for l in f if l.strip()]

    returncode, rss_kib = proc.returncode, 0
    if not use_time:
        if lines:
            rc, wall, rss = lines[-1].split()
            returncode, wall, rss_kib = int(rc), float(wall), int(rss)
        return wall, rss_kib, returncode, stderr
    # GNU time writes the format line last; before it, a non-zero exit or a
    # signal is reported as "Command exited with non-zero status N" or
    # "Command terminated by signal N".
    fields = lines[-1].split() if lines else []
    if len(fields) == 2 and fields[1].isdigit():
        rss_kib = int(fields[1])
    for l in lines:
        if l.startswith("Command exited with non-zero status"):
            returncode = int(l.split()[-1])
        elif l.startswith("Command terminated by signal"):
            returncode = -int(l.split()[-1])
    return wall, rss_kib, returncode, stderr


def fmt_mib(kib):
    return "%.0f MiB" % (kib / 1024.0)


def main():
    ap = argparse.ArgumentParser(
        description="Time lowbitc importing a ResNet-18 ONNX model "
                    "(targets: < %g s, peak RSS < 1 GiB)." % TARGET_SECONDS)
    ap.add_argument("--lowbitc", default=os.path.join(REPO_ROOT, "build", "bin", "lowbitc"),
                    help="lowbitc binary (default: %(default)s)")
    ap.add_argument("--work", default=os.path.join(REPO_ROOT, "build", "bench"),
                    help="folder for the exported model (default: %(default)s)")
    ap.add_argument("--repeat", type=int, default=3, metavar="N",
                    help="runs per command (default: %(default)s)")
    ap.add_argument("--force", action="store_true",
                    help="re-export the model even if the work folder has it")
    ap.add_argument("--export-only", action="store_true",
                    help="only export (or reuse) the model, print its size, and exit")
    args = ap.parse_args()
    if args.repeat < 1:
        ap.error("--repeat must be at least 1")

    # 1. The model.
    os.makedirs(args.work, exist_ok=True)
    model_path = os.path.join(args.work, MODEL_FILE)
    model = build_resnet18()
    params = sum(p.numel() for p in model.parameters())
    if args.force or not os.path.isfile(model_path):
        start = time.perf_counter()
        export(model, model_path)
        print("exported %s in %.1f s" % (model_path, time.perf_counter() - start))
    else:
        print("reusing %s (use --force to re-export)" % model_path)
    ops, init_elems = onnx_summary(model_path)
    print("ResNet-18: %d parameters (torch), %d initializer elements in the ONNX file"
          % (params, init_elems))
    print("ONNX file: %.1f MB (%d bytes), opset %d; ops: %s"
          % (os.path.getsize(model_path) / 1e6, os.path.getsize(model_path), OPSET, ops))
    if args.export_only:
        return 0

    # 2. The runs.
    lowbitc = args.lowbitc if os.sep in args.lowbitc else shutil.which(args.lowbitc)
    if not lowbitc or not os.access(lowbitc, os.X_OK):
        print("error: lowbitc not found or not executable: %s" % args.lowbitc,
              file=sys.stderr)
        return 2
    print("lowbitc: %s; %d runs per command; peak RSS from %s"
          % (lowbitc, args.repeat, "GNU time (%M)" if os.access(GNU_TIME, os.X_OK)
             else "os.wait4 in a helper process (GNU time not found)"))

    commands = [
        ("--emit=mlirbc", [lowbitc, model_path, "--emit=mlirbc", "-o", os.devnull]),
        ("--emit=mlir", [lowbitc, model_path, "--emit=mlir", "-o", os.devnull]),
    ]
    rows = []
    for label, cmd in commands:
        walls, rsss = [], []
        for _ in range(args.repeat):
            wall, rss, rc, stderr = measure(cmd)
            if rc != 0:
                print("error: `%s` failed (%s):\n%s" % (
                    " ".join(cmd),
                    "signal %d" % -rc if rc < 0 else "exit code %d" % rc,
                    stderr.rstrip()), file=sys.stderr)
                return 1
            walls.append(wall)
            rsss.append(rss)
        rows.append((label, min(walls), statistics.median(walls), max(rsss)))

    # 3. The table and the verdicts.
    print()
    print("%-15s %10s %12s %14s" % ("lowbitc", "best (s)", "median (s)", "peak RSS"))
    for label, best, median, rss in rows:
        print("%-15s %10.3f %12.3f %14s" % (label, best, median, fmt_mib(rss)))
    print()
    for label, best, median, rss in rows:
        t_ok = median < TARGET_SECONDS
        m_ok = rss < TARGET_RSS_KIB
        print("%-15s import median %.3f s < %g s: %s; peak RSS %s < 1 GiB: %s"
              % (label, median, TARGET_SECONDS, "PASS" if t_ok else "FAIL",
                 fmt_mib(rss), "PASS" if m_ok else "FAIL"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
