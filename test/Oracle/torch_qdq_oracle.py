#!/usr/bin/python3
"""ONNX Runtime oracle for Q/DQ models exported by PyTorch (issue 4).

Requirement: a Q/DQ model exported by torch (opset 13) compiles honoring its
scales, and its outputs agree with ONNX Runtime's int8 execution within
+-1 LSB on >= 99.9% of output elements.

The script
  1. builds a small CNN in PyTorch with a fixed seed (Conv+BatchNorm+ReLU,
     plain Conv, MaxPool, depthwise Conv+ReLU, 1x1 Conv+BatchNorm, AvgPool,
     Conv+ReLU with a residual add, global average pool, Linear);
  2. quantizes it the way torch users do: eager-mode post-training
     quantization (torch.ao.quantization fuse_modules / prepare / calibrate /
     convert) with MinMax observers calibrated on 256 structured images,
     uint8 per-tensor activations and int8 symmetric weights, per output
     channel (default) or per tensor (--weights=per-tensor);
  3. exports the converted int8 model with torch.onnx.export at opset 13:
     torch writes it as QuantizeLinear/DequantizeLinear pairs around float
     Conv/Gemm/pool/Add nodes, with int8 weights and int32 biases behind
     DequantizeLinear;
  4. checks that lowbitc honors the scales: every (type, scale, zero point)
     of a QuantizeLinear/DequantizeLinear in the ONNX graph appears as a
     !quant.uniform type in `lowbitc --emit=mlir`;
  5. runs the same batch of 256 inputs (2,560 output elements, so that 99.9%
     is resolvable: it allows 2 elements off by more than 1 LSB) through
     `lowbitc --run` (plus any --lowbitc-flag) and through ONNX Runtime 1.30
     CPU (onnxruntime-node, via ort_run.js), which fuses the Q/DQ groups into
     its int8 kernels (QLinearConv, QGemm, QLinearAveragePool, ...; the
     script requires that it did);
  6. converts both float outputs to LSB units of the graph output's final
     DequantizeLinear scale and requires |lowbitc - ORT| <= 1 LSB on at
     least 99.9% of the elements;
  7. on failure, or with --per-layer, isolates every quantized layer: each
     subgraph from QuantizeLinear outputs to the next QuantizeLinear is run
     by lowbitc and by ORT on ORT's own uint8 inputs to that layer, and the
     share of bit-identical outputs is printed per layer, which names the
     op where the two start to differ.

With --softmax the network ends in a float Softmax after its dequantized
logits (what torch leaves float, and lowbitc's float fallback runs in
float32); the output is then compared in the log domain: if every logit is
within 1 LSB (s) of ORT's, every log-probability log p = l - logsumexp(l)
is within 2 s, so the script requires |log p_lowbitc - log p_ORT| <= 2 s
(plus float32 rounding) on at least 99.9% of the elements.

Exit codes: 0 agreement, 1 disagreement or any failure, 77 SKIPPED because
onnxruntime-node is not installed (scripts/install-ort.sh installs it) or
node is missing.

Must run under Debian's /usr/bin/python3 (numpy, onnx, torch 1.13).
"""

import argparse
import os
import re
import shutil
import subprocess
import sys
import warnings

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import torch_util  # noqa: E402
from torch_util import random_batchnorm  # noqa: E402

EXIT_SKIP = 77
SEED = 20240611
OPSET = 13
CALIB_SAMPLES = 256
IMAGE = (3, 32, 32)
HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
NAME = "ort-qdq"


def fail(msg):
    print("%s: %s: FAILED" % (NAME, msg))
    sys.stdout.flush()
    sys.exit(1)


# ---------------------------------------------------------------- data

def structured_images(n, seed):
    return torch_util.structured_images(n, seed, IMAGE)


# ---------------------------------------------------------------- model

def build_quantized_model(weights, calib, softmax=False):
    """The float CNN, post-training quantized in eager mode and converted."""
    import torch
    from torch import nn
    import torch.ao.quantization as tq

    torch.manual_seed(SEED)
    # Debian's torch has qnnpack and onednn (no fbgemm); the engine only
    # affects torch's own int8 kernels, not the exported graph.
    torch.backends.quantized.engine = "qnnpack"

    def bn(c):
        return random_batchnorm(c)

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.quant = tq.QuantStub()
            self.conv1 = nn.Conv2d(3, 16, 3, padding=1)            # 16x32x32
            self.bn1 = bn(16)
            self.relu1 = nn.ReLU()
            self.conv2 = nn.Conv2d(16, 16, 3, padding=1)           # plain conv, asymmetric output
            self.pool1 = nn.MaxPool2d(2)                           # 16x16x16
            self.conv3 = nn.Conv2d(16, 16, 3, padding=1, groups=16)  # depthwise
            self.relu3 = nn.ReLU()
            self.conv4 = nn.Conv2d(16, 32, 1)                      # 1x1 + BN, no activation
            self.bn4 = bn(32)
            self.pool2 = nn.AvgPool2d(2)                           # 32x8x8
            self.conv5 = nn.Conv2d(32, 32, 3, padding=1)
            self.relu5 = nn.ReLU()
            self.add = nn.quantized.FloatFunctional()              # residual add
            self.gap = nn.AdaptiveAvgPool2d(1)                     # global average pool
            self.fc = nn.Linear(32, 10)
            self.dequant = tq.DeQuantStub()

        def forward(self, x):
            x = self.quant(x)
            x = self.relu1(self.bn1(self.conv1(x)))
            x = self.pool1(self.conv2(x))
            x = self.relu3(self.conv3(x))
            x = self.pool2(self.bn4(self.conv4(x)))
            x = self.add.add(self.relu5(self.conv5(x)), x)
            x = torch.flatten(self.gap(x), 1)
            x = self.dequant(self.fc(x))
            return torch.softmax(x, 1) if softmax else x

    model = Net().eval()
    model = tq.fuse_modules(model, [["conv1", "bn1", "relu1"], ["conv3", "relu3"],
                                    ["conv4", "bn4"], ["conv5", "relu5"]])
    if weights == "per-channel":
        wobs = tq.PerChannelMinMaxObserver.with_args(dtype=torch.qint8,
                                                     qscheme=torch.per_channel_symmetric)
    else:
        wobs = tq.MinMaxObserver.with_args(dtype=torch.qint8, qscheme=torch.per_tensor_symmetric)
    model.qconfig = tq.QConfig(activation=tq.MinMaxObserver.with_args(dtype=torch.quint8),
                               weight=wobs)
    tq.prepare(model, inplace=True)
    with torch.no_grad():
        for i in range(0, len(calib), 32):
            model(torch.from_numpy(calib[i:i + 32]))
    tq.convert(model, inplace=True)
    return model


def export(model, path):
    import onnx
    import torch

    example = torch.zeros((1,) + IMAGE)
    # torch 1.13 warns that prim::TupleConstruct (the packed weights of the
    # quantized modules) has no shape inference; harmless for this export.
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        torch.onnx.export(model, example, path, opset_version=OPSET,
                          input_names=["input"], output_names=["logits"])
    m = onnx.load(path)
    onnx.checker.check_model(m)
    return m


# ---------------------------------------------------------------- ONNX graph

def constant_values(graph):
    """name -> numpy value of initializers and Constant nodes, and of the
    ConstantOfShape -> Cast chains torch emits for per-channel zero points."""
    from onnx import numpy_helper

    vals = {t.name: numpy_helper.to_array(t) for t in graph.initializer}
    for n in graph.node:
        if n.op_type == "Constant" and n.attribute and n.attribute[0].name == "value":
            vals[n.output[0]] = numpy_helper.to_array(n.attribute[0].t)
        elif n.op_type == "ConstantOfShape" and n.input[0] in vals:
            fill = numpy_helper.to_array(n.attribute[0].t) if n.attribute else np.zeros(1, np.float32)
            vals[n.output[0]] = np.full(tuple(vals[n.input[0]]), fill.ravel()[0], fill.dtype)
        elif n.op_type == "Cast" and n.input[0] in vals:
            from onnx import mapping  # onnx 1.12 (Debian): no helper.tensor_dtype_to_np_dtype
            to = next(a.i for a in n.attribute if a.name == "to")
            vals[n.output[0]] = vals[n.input[0]].astype(mapping.TENSOR_TYPE_TO_NP_TYPE[to])
    return vals


def qdq_params(model):
    """(op, storage, scale, zero point, axis) for every Q/DQ node, plus the
    scale and zero point of the DequantizeLinear producing the graph output
    (or the input of a final Softmax)."""
    g = model.graph
    vals = constant_values(g)
    params = []
    out_dq = None
    logits = g.output[0].name
    for n in g.node:
        if n.op_type == "Softmax" and n.output[0] == logits:
            logits = n.input[0]
    for n in g.node:
        if n.op_type not in ("QuantizeLinear", "DequantizeLinear"):
            continue
        scale = vals.get(n.input[1])
        if scale is None:
            fail("%s '%s' has a scale that is not a constant" % (n.op_type, n.name))
        zp = vals.get(n.input[2]) if len(n.input) > 2 and n.input[2] else None
        if n.op_type == "QuantizeLinear":
            storage = zp.dtype if zp is not None else np.dtype(np.uint8)
        else:
            storage = vals[n.input[0]].dtype if n.input[0] in vals else (
                zp.dtype if zp is not None else np.dtype(np.uint8))
        if zp is None:
            zp = np.zeros_like(scale, dtype=storage)
        axis = next((a.i for a in n.attribute if a.name == "axis"), 1)
        params.append((n.op_type, np.dtype(storage), scale.astype(np.float32), zp.astype(np.int64),
                       axis if scale.size > 1 else None))
        if n.op_type == "DequantizeLinear" and n.output[0] == logits:
            out_dq = (float(scale.astype(np.float32).ravel()[0]), int(zp.ravel()[0]), scale.size)
    return params, out_dq


QUANT_RE = re.compile(r"!quant\.uniform<([iu])(\d+):f32(?::(\d+))?,\s*(\{[^}]*\}|[^>]+)>")


def ir_quant_types(mlir):
    """The set of (storage, scales tuple, zero points tuple, axis) of every
    !quant.uniform type in the IR, scales as float32."""
    found = set()
    for sign, bits, axis, body in QUANT_RE.findall(mlir):
        storage = np.dtype(("int" if sign == "i" else "uint") + bits)
        entries = body.strip("{}").split(",")
        scales, zps = [], []
        for e in entries:
            parts = e.strip().split(":")
            scales.append(float(np.float32(float(parts[0]))))
            zps.append(int(parts[1]) if len(parts) > 1 else 0)
        found.add((storage.str, tuple(scales), tuple(zps), int(axis) if axis else None))
    return found


# ---------------------------------------------------------------- running

def run(cmd, what, timeout=600, echo=True):
    if echo:
        print("$ " + " ".join(cmd))
        sys.stdout.flush()
    try:
        proc = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, timeout=timeout)
    except (OSError, subprocess.TimeoutExpired) as e:
        fail("cannot run %s (%s)" % (what, e))
    out = proc.stdout.decode("utf-8", "replace")
    err = proc.stderr.decode("utf-8", "replace")
    return proc.returncode, out, err


def lsb_figures(a, b, scale):
    """Differences of two dequantized outputs in LSB units of `scale`."""
    qa = np.rint(a.astype(np.float64) / scale)
    qb = np.rint(b.astype(np.float64) / scale)
    return np.abs(qa - qb).astype(np.int64).ravel()


def describe(d):
    n = d.size
    return (n, 100.0 * np.count_nonzero(d == 0) / n, 100.0 * np.count_nonzero(d <= 1) / n,
            int(d.max()) if n else 0)


def per_layer(args, model_path, in_path):
    """Runs every quantized layer in isolation in lowbitc and ORT on ORT's
    own uint8 input to that layer and prints how many outputs are identical."""
    import onnx
    from onnx import TensorProto, helper, utils

    work = os.path.join(args.work, "layers")
    os.makedirs(work, exist_ok=True)
    model = onnx.load(model_path)
    g = model.graph
    qs = [n.output[0] for n in g.node if n.op_type == "QuantizeLinear"]
    producer = {o: n for n in g.node for o in n.output}
    safe = lambda t: re.sub(r"[^A-Za-z0-9_.-]", "_", t)

    # ORT's value of every QuantizeLinear output, for the whole batch.
    for q in qs:
        g.output.append(helper.make_tensor_value_info(q, TensorProto.UINT8, None))
    probe = os.path.join(work, "all-q.onnx")
    onnx.save(model, probe)
    ort_dir = os.path.join(work, "ort")
    rc, out, err = run([args.node, os.path.join(HERE, "ort_run.js"), probe, "--input", in_path,
                        "-o", ort_dir, "--ort-dir", args.ort_dir], "ONNX Runtime", echo=False)
    if rc != 0:
        print(err.rstrip())
        print("per-layer: ONNX Runtime failed on the probe model; no per-layer figures")
        return
    ort_val = lambda t: os.path.join(ort_dir, safe(t) + ".npy")

    def segment_inputs(target):
        ins, seen, stack = set(), set(), [target]
        while stack:
            t = stack.pop()
            if t in seen:
                continue
            seen.add(t)
            if t != target and t in qs:
                ins.add(t)
                continue
            n = producer.get(t)
            if n is not None:
                stack.extend(i for i in n.input if i)
        return sorted(ins)

    print("per-layer: each layer on ONNX Runtime's own uint8 inputs (lowbitc vs ORT, in LSB of the layer's output)")
    for q in qs:
        ins = segment_inputs(q)
        if not ins:
            continue  # the input QuantizeLinear
        path = os.path.join(work, safe(q) + ".onnx")
        utils.extract_model(model_path, path, ins, [q])
        ops = [n.op_type for n in onnx.load(path).graph.node
               if n.op_type not in ("Constant", "QuantizeLinear", "DequantizeLinear", "Cast",
                                    "ConstantOfShape", "Pad")]
        lb_out = os.path.join(work, "lowbitc-" + safe(q) + ".npy")
        o_out = os.path.join(work, "ort-" + safe(q) + ".npy")
        cmd = [args.lowbitc, path] + sum([["--run", "%s=%s" % (i, ort_val(i))] for i in ins], [])
        rc1, _, err1 = run(cmd + ["-o", lb_out] + args.lowbitc_flag, "lowbitc", echo=False)
        cmd = [args.node, os.path.join(HERE, "ort_run.js"), path, "--ort-dir", args.ort_dir, "-o", o_out]
        rc2, _, err2 = run(cmd + sum([["--input", "%s=%s" % (i, ort_val(i))] for i in ins], []),
                           "ONNX Runtime", echo=False)
        if rc1 != 0 or rc2 != 0:
            print("per-layer: %s: %s" % (q, (err1 if rc1 else err2).strip().splitlines()[-1:]))
            continue
        a = np.load(lb_out).astype(np.int64)
        b = np.load(o_out).astype(np.int64)
        diff = np.abs(a - b)
        print("per-layer: %-34s %-18s %9d elements, %8.4f%% identical, max %d LSB"
              % (q, "+".join(ops), diff.size, 100.0 * np.count_nonzero(diff == 0) / diff.size,
                 int(diff.max())))


def main():
    ap = argparse.ArgumentParser(
        description="Compare lowbitc with ONNX Runtime's int8 execution on a torch-exported Q/DQ CNN.")
    ap.add_argument("--lowbitc", required=True, help="path to the lowbitc binary")
    ap.add_argument("--work", required=True, help="folder for the model and .npy files")
    ap.add_argument("--ort-dir", default=os.path.join(REPO, ".deps", "ort"),
                    help="folder holding node_modules/onnxruntime-node (default: <repo>/.deps/ort)")
    ap.add_argument("--node", default=shutil.which("node") or "node", help="the node binary")
    ap.add_argument("--weights", choices=["per-channel", "per-tensor"], default="per-channel",
                    help="weight quantization granularity (default per-channel)")
    ap.add_argument("--batch", type=int, default=256, help="number of inputs (default 256)")
    ap.add_argument("--min-within-1", type=float, default=99.9,
                    help="required %% of output elements within 1 LSB (default 99.9)")
    ap.add_argument("--lowbitc-flag", action="append", default=[], metavar="FLAG",
                    help="extra flag for `lowbitc --run` (repeatable; write --lowbitc-flag=--x=y)")
    ap.add_argument("--softmax", action="store_true",
                    help="end the network in a float Softmax (compared in the log domain)")
    ap.add_argument("--per-layer", action="store_true",
                    help="print the per-layer comparison even when the outputs agree")
    args = ap.parse_args()

    # Skip before any work when the oracle is not there.
    module = os.path.join(args.ort_dir, "node_modules", "onnxruntime-node", "package.json")
    if not os.path.isfile(module):
        print("SKIPPED: onnxruntime-node not installed (run scripts/install-ort.sh; looked for %s)"
              % module)
        return EXIT_SKIP
    if not shutil.which(args.node):
        print("SKIPPED: node not found (%s); ONNX Runtime runs on node" % args.node)
        return EXIT_SKIP

    import torch

    os.makedirs(args.work, exist_ok=True)
    p = lambda f: os.path.join(args.work, f)
    model_path, mlir_path = p("model.onnx"), p("model.mlir")
    in_path, lb_path, ort_path, opt_path = p("input.npy"), p("lowbitc.npy"), p("ort.npy"), p("ort-optimized.onnx")
    for f in (lb_path, ort_path, opt_path):
        if os.path.exists(f):
            os.remove(f)

    # 1-3. Quantize in torch and export.
    calib = structured_images(CALIB_SAMPLES, SEED + 1)
    model = build_quantized_model(args.weights, calib, args.softmax)
    onnx_model = export(model, model_path)
    ops = [n.op_type for n in onnx_model.graph.node]
    params, out_dq = qdq_params(onnx_model)
    n_q, n_dq = ops.count("QuantizeLinear"), ops.count("DequantizeLinear")
    act_types = sorted({s.name for op, s, sc, zp, ax in params if op == "QuantizeLinear"})
    w_dq = [(s, ax) for op, s, sc, zp, ax in params if op == "DequantizeLinear" and s == np.int8]
    print("torch %s: eager-mode PTQ (%s int8 weights, per-tensor %s activations), "
          "exported at opset %d: %d QuantizeLinear, %d DequantizeLinear, ops %s"
          % (torch.__version__, args.weights, "/".join(act_types), onnx_model.opset_import[0].version,
             n_q, n_dq, " ".join(sorted(set(ops) - {"Constant", "QuantizeLinear", "DequantizeLinear"}))))
    if onnx_model.opset_import[0].version != OPSET or n_q == 0 or n_dq == 0:
        fail("the export is not an opset-13 Q/DQ model")
    want_axis = args.weights == "per-channel"
    if not w_dq or any((ax is not None) != want_axis for s, ax in w_dq):
        fail("the export's int8 weights are not %s" % args.weights)
    if out_dq is None:
        fail("the graph output is not produced by a DequantizeLinear%s"
             % (" and a Softmax" if args.softmax else ""))
    if args.softmax and ops[-1] != "Softmax":
        fail("the export does not end in a Softmax")
    out_scale, out_zp, n_scales = out_dq
    if n_scales != 1:
        fail("the output DequantizeLinear is per-axis")
    print("output LSB: final DequantizeLinear scale %.9g, zero point %d" % (out_scale, out_zp))

    # 4. lowbitc honors the scales.
    rc, out, err = run([args.lowbitc, model_path, "--emit=mlir", "-o", mlir_path], "lowbitc")
    if rc != 0:
        print(err.rstrip())
        fail("lowbitc --emit=mlir failed (exit code %d)" % rc)
    with open(mlir_path) as f:
        ir = f.read()
    in_ir = ir_quant_types(ir)
    missing = []
    wanted = set()
    for op, storage, scale, zp, axis in params:
        key = (storage.str, tuple(float(s) for s in scale.ravel()), tuple(int(z) for z in zp.ravel()),
               axis)
        wanted.add(key)
    for key in sorted(wanted):
        if key not in in_ir:
            missing.append(key)
    print("scales: %d of %d distinct Q/DQ (type, scale, zero point, axis) of the ONNX graph are "
          "!quant.uniform types in lowbitc's IR" % (len(wanted) - len(missing), len(wanted)))
    if missing:
        for storage, sc, zp, axis in missing[:5]:
            print("  missing: %s scale %s zero point %s axis %s" % (storage, sc[:4], zp[:4], axis))
        fail("lowbitc's IR does not carry every scale of the model")

    # 5. The same inputs through lowbitc and ORT. A few inputs are scaled up
    # past the calibration range so that saturation is exercised too.
    x = structured_images(args.batch, SEED + 2)
    x[: max(1, args.batch // 8)] *= 1.5
    np.save(in_path, x)

    cmd = [args.lowbitc, model_path, "--run", in_path, "-o", lb_path] + args.lowbitc_flag
    rc, out, err = run(cmd, "lowbitc")
    if rc != 0:
        print(err.rstrip())
        fail("lowbitc --run failed (exit code %d)" % rc)

    cmd = [args.node, os.path.join(HERE, "ort_run.js"), model_path, "--input", in_path, "-o", ort_path,
           "--optimized-model", opt_path, "--ort-dir", args.ort_dir]
    rc, out, err = run(cmd, "ONNX Runtime")
    if out.strip():
        print(out.rstrip())
    if rc == EXIT_SKIP:
        print("SKIPPED: onnxruntime-node does not load: %s" % err.strip())
        return EXIT_SKIP
    if rc != 0:
        print(err.rstrip())
        fail("ort_run.js failed (exit code %d)" % rc)
    if not re.search(r"QLinearConv", out):
        fail("ONNX Runtime did not fuse the Q/DQ convolutions into QLinearConv, so it is not an int8 oracle")

    lb = np.load(lb_path, allow_pickle=False)
    ort = np.load(ort_path, allow_pickle=False)
    if lb.shape != ort.shape or lb.dtype != ort.dtype:
        fail("lowbitc output is %s %s, ONNX Runtime's %s %s" % (lb.dtype, lb.shape, ort.dtype, ort.shape))
    if not (np.isfinite(lb).all() and np.isfinite(ort).all()):
        fail("non-finite outputs")

    if args.softmax:
        return compare_softmax(args, lb, ort, out_scale)

    # Informational: torch's own int8 kernels against ORT.
    with torch.no_grad():
        tq_out = model(torch.from_numpy(x)).numpy()
    n, t0, t1, tmax = describe(lsb_figures(tq_out, ort, out_scale))
    print("info: torch int8 (%s) vs ONNX Runtime: %.3f%% within 0 LSB, %.3f%% within 1 LSB, max %d LSB"
          % (torch.backends.quantized.engine, t0, t1, tmax))

    # 6. The comparison.
    d = lsb_figures(lb, ort, out_scale)
    n, p0, p1, dmax = describe(d)
    flags = " ".join(args.lowbitc_flag) or "(none)"
    print("lowbitc vs ONNX Runtime 1.30 int8 (%s weights, lowbitc flags %s): %d elements "
          "(%d inputs x %d), %.3f%% within 0 LSB, %.3f%% within 1 LSB, max %d LSB"
          % (args.weights, flags, n, lb.shape[0], n // lb.shape[0], p0, p1, dmax))
    ok = p1 >= args.min_within_1
    if not ok:
        worst = np.argsort(-d, kind="stable")[:5]
        for i in worst:
            print("  element %s: lowbitc %.6g, ORT %.6g (%d LSB)"
                  % (np.unravel_index(i, lb.shape), lb.ravel()[i], ort.ravel()[i], d[i]))
    if not ok or args.per_layer:
        per_layer(args, model_path, in_path)
    if not ok:
        fail("only %.3f%% of output elements within 1 LSB (required >= %g%%)" % (p1, args.min_within_1))
    print("%s: %.3f%% within 1 LSB (required >= %g%%): OK" % (NAME, p1, args.min_within_1))
    return 0


def compare_softmax(args, lb, ort, scale):
    """Probabilities in the log domain: within 2 LSB of the logits' scale."""
    tiny = np.finfo(np.float32).tiny
    dlog = np.abs(np.log(np.maximum(lb.astype(np.float64), tiny)) -
                  np.log(np.maximum(ort.astype(np.float64), tiny))).ravel()
    # float32 rounding of exp, the sum and the reciprocal on both sides.
    bound = 2 * scale + 1e-5
    n = dlog.size
    within = 100.0 * np.count_nonzero(dlog <= bound) / n
    same = 100.0 * np.count_nonzero(lb.ravel() == ort.ravel()) / n
    top = 100.0 * np.mean(lb.argmax(1) == ort.argmax(1))
    flags = " ".join(args.lowbitc_flag) or "(none)"
    print("lowbitc (float fallback Softmax) vs ONNX Runtime 1.30 (%s weights, lowbitc flags %s): "
          "%d probabilities (%d inputs x %d), %.3f%% identical, %.3f%% within 2 LSB of the logits "
          "in log p, max |log p difference| %.3g (logit LSB %.3g), max |p difference| %.3g, "
          "top-1 agreement %.2f%%"
          % (args.weights, flags, n, lb.shape[0], n // lb.shape[0], same, within, dlog.max(), scale,
             np.abs(lb - ort).max(), top))
    if within < args.min_within_1:
        worst = np.argsort(-dlog, kind="stable")[:5]
        for i in worst:
            print("  element %s: lowbitc %.6g, ORT %.6g" % (np.unravel_index(i, lb.shape),
                                                          lb.ravel()[i], ort.ravel()[i]))
        fail("only %.3f%% of probabilities within 2 LSB in log p (required >= %g%%)"
             % (within, args.min_within_1))
    print("%s: %.3f%% of probabilities within 2 LSB in log p (required >= %g%%): OK"
          % (NAME, within, args.min_within_1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
