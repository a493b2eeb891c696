#!/usr/bin/python3
"""ONNX Runtime oracle for the ops of transformers and ConvNeXt, in float.

  transformer_oracle.py --lowbitc L --work DIR ops
      every ORT case of test/Import/ONNX/Inputs/transformer_ops.py
      (LayerNormalization and its decomposed form, Pow, Sqrt, Erf, Gelu,
      comparisons, Where, Expand, Range, embedding Gather, attention
      MatMuls, opset 9-11 forms) on random inputs;
  transformer_oracle.py --lowbitc L --work DIR torch MODEL OPSET
      MODEL one of
        encoder   torch.nn.TransformerEncoder, 2 layers, width 64, 4 heads,
                  feed-forward 128, batch_first, input [batch, 10, 64];
        vit       torchvision VisionTransformer, image 32, patch 4, 2 layers,
                  4 heads, hidden 64, mlp 128, 10 classes;
        convnext  torchvision convnext_tiny (random weights) on 32x32 inputs;
      exported by torch.onnx at OPSET (13: LayerNorm decomposed, 17:
      LayerNormalization) with a dynamic batch, run on a batch of 4.

Both modes run `lowbitc --run` (the reference evaluator; a dynamic batch is
bound to 1 and the batch of 4 iterated) and ONNX Runtime 1.30 CPU
(onnxruntime-node via ort_run.js) on the same inputs and require, for every
output, max |lowbitc - ORT| <= 1e-4 * max |ORT| (relative to the output's
largest magnitude; NaNs must be at the same places). The measured error is
printed per output.

Exit codes: 0 agreement, 1 disagreement or failure, 77 SKIPPED when ORT or
node is missing. Must run under Debian's /usr/bin/python3 (numpy, onnx,
torch 1.13, torchvision 0.14).
"""

import argparse
import os
import shutil
import subprocess
import sys
import warnings

import numpy as np
import onnx

EXIT_SKIP = 77
HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
OPS = os.path.join(REPO, "test", "Import", "ONNX", "Inputs", "transformer_ops.py")
TOLERANCE = 1e-4
NAME = "ort-transformer"


def fail(msg):
    print("%s: %s: FAILED" % (NAME, msg))
    sys.stdout.flush()
    sys.exit(1)


def run(cmd):
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       universal_newlines=True)
    return p.returncode, p.stdout, p.stderr


def inputs_for(path, rng, batch):
    """Random inputs for every graph input of the model at `path`."""
    m = onnx.load(path)
    inits = {i.name for i in m.graph.initializer}
    out = {}
    for vi in m.graph.input:
        if vi.name in inits:
            continue
        tt = vi.type.tensor_type
        shape = [d.dim_value if d.HasField("dim_value") else batch
                 for d in tt.shape.dim]
        if tt.elem_type == onnx.TensorProto.INT64:
            # Embedding ids, negative ones (counted from the end) too.
            data = m.graph.initializer[0].dims[0] if m.graph.initializer else 5
            out[vi.name] = rng.randint(-data, data, size=shape).astype(np.int64)
        elif vi.name == "e":
            out[vi.name] = rng.choice([2.0, 0.5, 3.0, -1.0],
                                      size=shape).astype(np.float32)
        else:
            out[vi.name] = np.asarray(rng.randn(*shape), np.float32)
    # Pow and Sqrt of negative bases are NaN: the ops case takes |x|.
    if os.path.basename(path).startswith("pow_forms"):
        out["x"] = np.abs(out["x"]) + 0.05
    return out


def compare(case, path, work, args, rng, batch=1):
    ins = inputs_for(path, rng, batch)
    d = os.path.join(work, case)
    os.makedirs(d, exist_ok=True)
    lb_args, ort_args = [], []
    for name, arr in ins.items():
        f = os.path.join(d, "in_%s.npy" % name)
        np.save(f, arr)
        lb_args += ["--run", "%s=%s" % (name, f)]
        ort_args += ["--input", "%s=%s" % (name, f)]
    outs = [o.name for o in onnx.load(path).graph.output]
    lb_out, ort_out = os.path.join(d, "lowbitc"), os.path.join(d, "ort")
    many = len(outs) > 1
    for o in (lb_out, ort_out):
        os.makedirs(o, exist_ok=True)
    target = (lambda o: o) if many else (lambda o: os.path.join(o, outs[0] + ".npy"))
    rc, _, err = run([args.lowbitc, path] + lb_args + ["-o", target(lb_out)])
    if rc != 0:
        fail("%s: lowbitc --run failed:\n%s" % (case, err))
    rc, _, err = run([args.node, os.path.join(HERE, "ort_run.js"), path] +
                     ort_args + ["-o", target(ort_out), "--ort-dir", args.ort_dir])
    if rc == EXIT_SKIP:
        print("%s: SKIPPED: %s" % (NAME, err.strip()))
        sys.exit(EXIT_SKIP)
    if rc != 0:
        fail("%s: ort_run failed:\n%s" % (case, err))
    worst = 0.0
    for o in outs:
        a = np.load(os.path.join(lb_out, o + ".npy"))
        b = np.load(os.path.join(ort_out, o + ".npy"))
        if a.shape != b.shape or a.dtype != b.dtype:
            fail("%s: output %s: lowbitc %s %s, ORT %s %s" %
                 (case, o, a.dtype, a.shape, b.dtype, b.shape))
        if a.dtype == np.bool_ or np.issubdtype(a.dtype, np.integer):
            bad = int(np.count_nonzero(a != b))
            print("%s: %s: %s %s: %d of %d differ" %
                  (NAME, case, o, a.dtype, bad, a.size))
            if bad:
                fail("%s: output %s differs" % (case, o))
            continue
        nan_a, nan_b = np.isnan(a), np.isnan(b)
        if (nan_a != nan_b).any():
            fail("%s: output %s: NaN at different places" % (case, o))
        a, b = a[~nan_a].astype(np.float64), b[~nan_b].astype(np.float64)
        scale = max(np.abs(b).max(), 1e-30) if b.size else 1.0
        diff = np.abs(a - b).max() if b.size else 0.0
        rel = diff / scale
        worst = max(worst, rel)
        print("%s: %s: %s %s: max abs diff %.3g, relative %.3g" %
              (NAME, case, o, list(np.load(os.path.join(ort_out, o + ".npy")).shape),
               diff, rel))
        if rel > TOLERANCE:
            fail("%s: output %s: relative error %.3g > %g" % (case, o, rel, TOLERANCE))
    return worst


def export_torch(model, opset, path):
    import torch
    import torchvision
    torch.manual_seed(20240611)
    if model == "encoder":
        layer = torch.nn.TransformerEncoderLayer(
            d_model=64, nhead=4, dim_feedforward=128, dropout=0.0,
            batch_first=True)
        m, x = torch.nn.TransformerEncoder(layer, num_layers=2), torch.randn(2, 10, 64)
    elif model == "vit":
        from torchvision.models.vision_transformer import VisionTransformer
        m = VisionTransformer(image_size=32, patch_size=4, num_layers=2,
                              num_heads=4, hidden_dim=64, mlp_dim=128,
                              num_classes=10)
        x = torch.randn(2, 3, 32, 32)
        # torchvision zero-initializes the class token and the head, which
        # would make every output 0: random values instead.
        with torch.no_grad():
            m.class_token.normal_(0, 0.5)
            m.heads.head.weight.normal_(0, 0.2)
            m.heads.head.bias.normal_(0, 0.2)
    elif model == "convnext":
        m, x = torchvision.models.convnext_tiny(), torch.randn(1, 3, 32, 32)
        # Each block's layer scale starts at 1e-6, which would hide the
        # blocks (their LayerNorm, Linear, GELU) from the output.
        with torch.no_grad():
            for mod in m.modules():
                if isinstance(mod, torchvision.models.convnext.CNBlock):
                    mod.layer_scale.uniform_(0.2, 1.0)
    else:
        fail("unknown model %s" % model)
    m.eval()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(m, x, path, opset_version=opset, input_names=["x"],
                          output_names=["y"],
                          dynamic_axes={"x": {0: "batch"}, "y": {0: "batch"}})
    g = onnx.load(path).graph
    ops = sorted({n.op_type for n in g.node})
    print("%s: %s exported at opset %d: %d nodes, ops %s" %
          (NAME, model, opset, len(g.node), " ".join(ops)))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--lowbitc", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--node", default=shutil.which("node") or "node")
    ap.add_argument("--ort-dir", default=os.path.join(REPO, ".deps", "ort"))
    ap.add_argument("mode", choices=["ops", "torch"])
    ap.add_argument("model", nargs="?")
    ap.add_argument("opset", nargs="?", type=int)
    args = ap.parse_args()
    if not shutil.which(args.node):
        print("%s: SKIPPED: node is not installed" % NAME)
        sys.exit(EXIT_SKIP)
    os.makedirs(args.work, exist_ok=True)
    rng = np.random.RandomState(5)
    if args.mode == "ops":
        cases = run([sys.executable, OPS, "--list"])[1].split()
        worst = 0.0
        for case in cases:
            path = os.path.join(args.work, case + ".onnx")
            rc, _, err = run([sys.executable, OPS, case, path])
            if rc != 0:
                fail("%s: %s" % (case, err))
            worst = max(worst, compare(case, path, args.work, args, rng))
        print("%s: %d cases, worst relative error %.3g (tolerance %g): OK" %
              (NAME, len(cases), worst, TOLERANCE))
        return
    if not args.model or not args.opset:
        fail("torch mode needs MODEL and OPSET")
    path = os.path.join(args.work, "%s%d.onnx" % (args.model, args.opset))
    export_torch(args.model, args.opset, path)
    worst = compare("%s%d" % (args.model, args.opset), path, args.work, args,
                    rng, batch=4)
    print("%s: %s opset %d, batch 4: relative error %.3g (tolerance %g): OK" %
          (NAME, args.model, args.opset, worst, TOLERANCE))


if __name__ == "__main__":
    main()
