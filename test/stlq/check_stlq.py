#!/usr/bin/python3
"""lowbit's --lowbit-legalize-stlq-tiles against an independent NumPy STLQ.

  check_stlq.py --lowbit-opt PATH [--work DIR]
  check_stlq.py --reference-only
  check_stlq.py --lowbit-opt PATH --crosscheck-insert-qdq

(a) builds MLIR modules whose functions each hold one tosa.conv2d,
    tosa.depthwise_conv2d or tosa.matmul with float32 constant weights:
    random ones (edge tiles, a depthwise multiplier, crafted ties and zero
    channels, a layer large enough for the U search to stride) and the real
    weights of examples/fashion_mnist/fashion_cnn.onnx;
(b) runs lowbit-opt --lowbit-legalize-stlq-tiles="bits=B ratio=R
    tile-inputs=Tn tile-outputs=Tm per-channel=P log-scale=S" on them over a
    grid of options;
(c) reads each op's new weight constant (the decoded float32 values) and its
    lowbit.weight_encoding = #lowbit.stlq<...> (mlir_text.py);
(d) requires the mask, every U (as float32) and every decoded weight (bit for
    bit) to equal the reference's (stlq_ref.py);
(e) requires weight SQNR never to fall as R rises over
    0, 0.05, 0.1, 0.15, 0.25, 0.5, 1 at 3 and 4 bits, on the real and on
    Gaussian weights, for the reference and for lowbit's output;
(f) compares per-tile and per-filter selection at R = 0.15, 16x16 tiles
    (per-filter by the same ratio rule, and at the per-tile count of
    two-word weights) with the reference:
    - on the Fashion-MNIST layers, whose filters (9 to 144 weights) are
      smaller than the tiles: reported (per-filter wins there), a failure
      only with --strict-tile-vs-filter;
    - on layers with filters larger than a tile (paper section 4.4's case):
      torchvision's ResNet-18 with weights=None after a fixed
      torch.manual_seed (its random initialization; pretrained weights
      cannot be downloaded here), by default two of its convolutions
      (--large-filters all: its 16 convolutions with more than 256 weights
      per filter, its fc and MobileNetV2's such pointwise convolutions), at
      3 and 4 bits, per-channel mse and per-layer max: the network SQNR
      (pooled energies) must be strictly greater per-tile in every setting;
      layers where per-filter wins are named with the reason (a failure
      with --strict-tile-vs-filter).

--reference-only skips (b)-(d) (and lowbit's half of (e)) and instead checks
the reference against itself (a brute-force nearest level for every code,
the ratio rule, R = 0 and R = 1, the exactness of the decoded values).
--crosscheck-insert-qdq checks the reference's one-word codes and U search
against lowbit-insert-qdq weight-scheme=pow2 weight-rounding=nearest, which
exists today (the shared rule of runtime/include/lowbit/runtime/LogQuant.h).

Prints one line per check; exits 1 with the reasons on any mismatch.
"""

import argparse
import math
import os
import re
import shlex
import subprocess
import sys
import tempfile

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mlir_text  # noqa: E402
import stlq_ref as ref  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_ONNX = os.path.normpath(os.path.join(
    HERE, "..", "..", "examples", "fashion_mnist", "fashion_cnn.onnx"))

R_SWEEP = (0.0, 0.05, 0.1, 0.15, 0.25, 0.5, 1.0)
SCALE_CONFIGS = ((True, "max"), (True, "mse"), (False, "max"), (False, "mse"))
PASS = "lowbit-legalize-stlq-tiles"


# ---------------------------------------------------------------------------
# Cases
# ---------------------------------------------------------------------------

class Case:
    """One layer: TOSA weights of `kind`, in one function of the module."""

    def __init__(self, name, kind, weights, group):
        self.name = name
        self.kind = kind
        self.weights = np.ascontiguousarray(weights, dtype=np.float32)
        self.group = group  # 'real', 'gauss', 'other', 'big'
        self.logical_shape = ref.to_logical(self.weights, kind).shape

    @property
    def op_name(self):
        return {"conv": "tosa.conv2d", "depthwise": "tosa.depthwise_conv2d",
                "matmul": "tosa.matmul"}[self.kind]

    @property
    def size(self):
        return self.weights.size


def crafted_conv(rng):
    """OHWI [18, 2, 2, 20]: a zero channel, one with exact ties and exact
    powers of two (on U = 2 max|w| = 2 per channel), one with a huge value,
    one with denormals and signed zeros, the rest Gaussian."""
    w = rng.normal(0.0, 0.05, size=(18, 2, 2, 20)).astype(np.float32)
    w[0] = 0.0
    levels = []
    for k in range(1, 17):
        # Levels 2^(1-e) and their midpoints 1.5 2^-e, both signs, and a
        # hair above a midpoint.
        levels += [2.0 ** -k, 1.5 * 2.0 ** -k, -(2.0 ** -k), -1.5 * 2.0 ** -k,
                   1.5000001 * 2.0 ** -k]
    t = np.array(levels[:80], dtype=np.float32)
    t[0] = 1.0  # max|w| = 1, so U = 2 with log-scale=max
    w[1] = t.reshape(2, 2, 20)
    w[2, 0, 0, 0] = 40.0
    w[3] = np.float32(1e-41)
    w[3, 0, 0, :10] = -0.0
    w[3, 1, 1, 5] = np.float32(-3e-39)
    # Channels 4-7 repeat channel 8 (equal residual norms on one-word
    # per-channel scales: exact ties in the tile ranking with Tm = 1 or 4).
    w[4:8] = w[8]
    return w


def tied_tiles(rng):
    """OHWI [32, 1, 1, 32]: one random 16 x 16 block repeated in all four
    tiles, so the four 16 x 16 tile scores tie exactly (per-layer U)."""
    b = rng.normal(0.0, 0.1, size=(16, 1, 1, 16)).astype(np.float32)
    return np.tile(b, (2, 1, 1, 2))


def fashion_cases(path):
    import onnx
    from onnx import numpy_helper
    model = onnx.load(path)
    inits = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
    cases = []
    n = {"conv": 0, "depthwise": 0, "matmul": 0}
    for node in model.graph.node:
        attrs = {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}
        if node.op_type == "Conv" and node.input[1] in inits:
            w = inits[node.input[1]].astype(np.float32)  # OIHW
            group = attrs.get("group", 1)
            if group == 1:
                kind, tw = "conv", w.transpose(0, 2, 3, 1)
            elif w.shape[1] == 1:
                o, _, kh, kw = w.shape
                kind = "depthwise"
                tw = w.reshape(group, o // group, kh, kw).transpose(2, 3, 0, 1)
            else:
                continue  # grouped convolutions are not one TOSA op
        elif node.op_type == "Gemm" and node.input[1] in inits:
            w = inits[node.input[1]].astype(np.float32)
            kind, tw = "matmul", (w.T if attrs.get("transB", 0) else w)[None]
        elif node.op_type == "MatMul" and node.input[1] in inits:
            kind, tw = "matmul", inits[node.input[1]].astype(np.float32)[None]
        else:
            continue
        n[kind] += 1
        label = {"conv": "conv", "depthwise": "dw", "matmul": "fc"}[kind]
        cases.append(Case("fashion_%s%d" % (label, n[kind]), kind, tw, "real"))
    if not cases:
        raise SystemExit("check_stlq: no weights found in " + path)
    return cases


# (f) on layers whose filters are larger than a 16x16 tile, the networks the
# paper's section 4.4 has in mind. torchvision's architectures with its own
# random initialization (weights=None): pretrained weights cannot be
# downloaded here. The seed is test/zoo/zoo_models.py's.
LARGE_SEED = 20261129
LARGE_TILE = (16, 16)
# The settings of (f) on these layers: 3 and 4 bits times these.
LARGE_CONFIGS = ((True, "mse"), (False, "max"))
# (arch, layer) of the default run. All of ResNet-18's 16 convolutions with
# more than 256 weights per filter and its fc take about 2 minutes here (the
# per-channel mse U search quantizes every weight 65 times per bit width;
# the fc alone, 512,000 weights, about 6 s), so by default two of them, a
# 576- and a 1152-weight filter (about 1.5 s, plus about 2.5 s to import
# torch and torchvision); --large-filters all runs all 17 and MobileNetV2's
# pointwise convolutions with more than 256 weights per filter.
LARGE_DEFAULT = (("resnet18", "layer1.0.conv1"), ("resnet18", "layer2.0.conv2"))


def torchvision_layers(arch, min_filter):
    """Conv2d (groups = 1) layers with more than min_filter weights per
    filter (and ResNet-18's fc) of torchvision's `arch` built with
    weights=None after torch.manual_seed(LARGE_SEED): a list of
    (module name, kind, TOSA weights)."""
    import torch
    import torchvision
    torch.manual_seed(LARGE_SEED)
    model = getattr(torchvision.models, arch)(weights=None)
    out = []
    for name, mod in model.named_modules():
        if isinstance(mod, torch.nn.Conv2d) and mod.groups == 1:
            w = mod.weight.detach().numpy()  # OIHW
            if w[0].size > min_filter:
                out.append((name, "conv", w.transpose(0, 2, 3, 1)))
        elif isinstance(mod, torch.nn.Linear) and arch == "resnet18":
            w = mod.weight.detach().numpy()  # [out, in]
            out.append((name, "matmul", w.T[None]))
    return out


def large_filter_cases(which):
    """{arch: ([Case], [(name, kind) of all its such layers])} for (f) on
    large filters: 'default' (LARGE_DEFAULT), 'all' or 'none'. Raises
    ImportError without torch and torchvision."""
    if which == "none":
        return {}
    tile_w = LARGE_TILE[0] * LARGE_TILE[1]
    archs = ("resnet18", "mobilenet_v2") if which == "all" else ("resnet18",)
    sets = {}
    for arch in archs:
        cases, names = [], []
        for name, kind, w in torchvision_layers(arch, tile_w):
            names.append((name, kind))
            if which == "default" and (arch, name) not in LARGE_DEFAULT:
                continue
            c = Case("%s_%s" % (arch, name), kind, w, arch)
            c.layer = name
            cases.append(c)
        sets[arch] = (cases, names)
    return sets


def build_cases(onnx_path, with_big):
    rng = np.random.RandomState(20240611)
    g = lambda *s: rng.normal(0.0, 0.05, size=s).astype(np.float32)  # noqa: E731
    cases = [
        Case("gauss_conv40x3x3x24", "conv", g(40, 3, 3, 24), "gauss"),
        Case("gauss_dw3x3x20x1", "depthwise", g(3, 3, 20, 1), "gauss"),
        Case("gauss_mm1x50x37", "matmul", g(1, 50, 37), "gauss"),
        Case("laplace_conv7x1x5x50", "conv",
             rng.laplace(0.0, 0.03, size=(7, 1, 5, 50)).astype(np.float32), "other"),
        Case("gauss_dw3x3x6x3", "depthwise", g(3, 3, 6, 3), "other"),
        Case("gauss_mm1x7x3", "matmul", g(1, 7, 3), "other"),
        Case("crafted_conv18x2x2x20", "conv", crafted_conv(rng), "other"),
        Case("tied_conv32x1x1x32", "conv", tied_tiles(rng), "other"),
    ]
    if with_big:
        # 153,600 weights: per layer, the U search takes every 2nd weight.
        cases.append(Case("big_mm1x512x300", "matmul", g(1, 512, 300), "big"))
    cases += fashion_cases(onnx_path)
    return cases


# ---------------------------------------------------------------------------
# (a) MLIR
# ---------------------------------------------------------------------------

def ttype(shape):
    return "tensor<%sxf32>" % "x".join(str(d) for d in shape)


def hex_dense(a):
    a = np.ascontiguousarray(a, dtype="<f4")
    return 'dense<"0x%s"> : %s' % (a.tobytes().hex().upper(), ttype(a.shape))


RANGE = "lowbit.range = array<f64: -1.0, 1.0>"
OUT_RANGE = "lowbit.range = array<f64: -8.0, 8.0>"


def emit_func(case):
    w = case.weights
    wt = ttype(w.shape)
    lines = []
    if case.kind == "conv":
        o, kh, kw, i = w.shape
        xt, yt, ot = ttype((1, kh, kw, i)), ttype((1, 1, 1, o)), o
    elif case.kind == "depthwise":
        kh, kw, c, m = w.shape
        xt, yt, ot = ttype((1, kh, kw, c)), ttype((1, 1, 1, c * m)), c * m
    else:
        _, k, n = w.shape
        xt, yt = ttype((1, 1, k)), ttype((1, 1, n))
    lines.append("func.func @%s(%%x: %s {%s}) -> %s {" % (case.name, xt, RANGE, yt))
    lines.append('  %%w = "tosa.const"() {values = %s} : () -> %s' % (hex_dense(w), wt))
    lines.append('  %zp = "tosa.const"() {values = dense<0.0> : tensor<1xf32>} : () -> tensor<1xf32>')
    if case.kind in ("conv", "depthwise"):
        bt = ttype((ot,))
        lines.append('  %%b = "tosa.const"() {values = dense<0.0> : %s} : () -> %s' % (bt, bt))
        lines.append(
            "  %%y = %s %%x, %%w, %%b, %%zp, %%zp {acc_type = f32, dilation = array<i64: 1, 1>, "
            "pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 1, 1>, %s} : "
            "(%s, %s, %s, tensor<1xf32>, tensor<1xf32>) -> %s"
            % (case.op_name, OUT_RANGE, xt, wt, bt, yt))
    else:
        lines.append("  %%y = tosa.matmul %%x, %%w, %%zp, %%zp {%s} : "
                     "(%s, %s, tensor<1xf32>, tensor<1xf32>) -> %s" % (OUT_RANGE, xt, wt, yt))
    lines.append("  return %%y : %s" % yt)
    lines.append("}")
    return "\n".join(lines)


def emit_module(cases):
    return "\n\n".join(emit_func(c) for c in cases) + "\n"


# ---------------------------------------------------------------------------
# (b) lowbit-opt
# ---------------------------------------------------------------------------

class Config:
    def __init__(self, bits, ratio, tile=(16, 16), per_channel=True, log_scale="mse"):
        self.bits, self.ratio, self.tile = bits, float(ratio), tuple(tile)
        self.per_channel, self.log_scale = per_channel, log_scale

    def options(self):
        return ("weight-rounding=nearest bits=%d ratio=%r tile-inputs=%d tile-outputs=%d per-channel=%s log-scale=%s"
                % (self.bits, self.ratio, self.tile[0], self.tile[1],
                   "true" if self.per_channel else "false", self.log_scale))

    def key(self):
        return (self.bits, self.ratio, self.tile, self.per_channel, self.log_scale)

    def label(self):
        return "bits=%d R=%g tile=%dx%d %s %s" % (
            self.bits, self.ratio, self.tile[0], self.tile[1],
            "per-channel" if self.per_channel else "per-layer", self.log_scale)


def run_lowbit_opt(lowbit_opt, module_path, out_path, pass_arg):
    # A path, or a command line (e.g. "python3 fake_stlq_opt.py").
    prog = [lowbit_opt] if os.path.exists(lowbit_opt) else shlex.split(lowbit_opt)
    cmd = prog + [module_path, pass_arg,
           "--mlir-print-elementsattrs-with-hex-if-larger=-1", "-o", out_path]
    try:
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           universal_newlines=True, timeout=600)
    except (OSError, subprocess.SubprocessError) as e:
        return "cannot run %s: %s" % (lowbit_opt, e)
    if p.returncode != 0:
        err = p.stderr.strip().splitlines()
        hint = ""
        if any("no-such-pass" in l or "Unknown command line argument" in l
               or "does not refer to a registered pass" in l for l in err):
            hint = " (is --%s built into this lowbit-opt?)" % PASS
        return "lowbit-opt failed (exit %d)%s: %s\n  command: %s" % (
            p.returncode, hint, "\n    ".join(err[:8]), " ".join(
                "'%s'" % c if " " in c else c for c in cmd))
    return None


# --multiplier-per-layer: lowbit's rule that a depthwise multiplier > 1 takes
# one U per layer even with per-channel=true (its integer op cannot scale
# those channels separately; lowbit-insert-qdq has the same rule).
MULTIPLIER_PER_LAYER = False


def per_channel_for(case, per_channel):
    """Whether `case` gets one U per output channel under per-channel."""
    if (per_channel and MULTIPLIER_PER_LAYER and case.kind == "depthwise"
            and case.weights.shape[3] > 1):
        return False
    return per_channel


def reference(case, cfg, cache):
    k = (case.name,) + cfg.key()
    if k not in cache:
        cache[k] = ref.stlq(case.weights, case.kind, cfg.bits, cfg.ratio, cfg.tile,
                            per_channel_for(case, cfg.per_channel), cfg.log_scale)
    return cache[k]


# ---------------------------------------------------------------------------
# (c)-(d) comparison
# ---------------------------------------------------------------------------

def logical_index(case, flat_index):
    """(o, ky, kx, i) of a flat TOSA index."""
    idx = np.unravel_index(flat_index, case.weights.shape)
    if case.kind == "conv":
        return tuple(int(v) for v in idx)
    if case.kind == "depthwise":
        ky, kx, c, m = idx
        return (int(c) * case.weights.shape[3] + int(m), int(ky), int(kx), 0)
    _, k, n = idx
    return (int(n), 0, 0, int(k))


def describe_mask_diff(case, cfg, got, want, r):
    diff = np.argwhere(got != want)
    order = r["order"]
    rank = np.empty_like(order)
    rank[order] = np.arange(order.size)
    scores = r["scores"]
    lines = ["%d of %d tiles differ (lowbit %d two-word tiles, reference %d)"
             % (len(diff), want.size, int(got.sum()), int(want.sum()))]
    for d in diff[:6]:
        flat = int(np.ravel_multi_index(tuple(d), want.shape))
        lines.append("tile %s: lowbit %s, reference %s (score %.17g, rank %d)"
                     % (tuple(int(v) for v in d), bool(got[tuple(d)]), bool(want[tuple(d)]),
                        scores[flat], rank[flat]))
    k = r["k"]
    if 0 < k < scores.size:
        last_in, first_out = scores[order[k - 1]], scores[order[k]]
        if last_in - first_out <= 1e-12 * max(abs(last_in), 1e-300):
            lines.append("the reference's last chosen and first unchosen tile scores are a "
                         "near-tie (%.17g vs %.17g): summation order?" % (last_in, first_out))
    ntwo = int(got.sum())
    if ntwo != int(want.sum()):
        lines.append("a different tile count points at the ratio rule (T = R * weights, "
                     "nearest cumulative count, ties to more)")
    return "; ".join(lines)


def compare(case, cfg, module, r):
    """Problems (a list of strings) of lowbit's output for one case."""
    ops = [op for op in module.ops if op.func == case.name and op.name == case.op_name]
    if len(ops) != 1:
        return ["expected one %s in @%s, found %d" % (case.op_name, case.name, len(ops))]
    op = ops[0]
    if len(op.operands) < 2:
        return ["cannot read the operands of %s: %s" % (case.op_name, op.line[:120])]
    cop, values = module.constant(case.name, op.operands[1])
    if cop is None:
        return ["the weight operand %s is not defined in @%s" % (op.operands[1], case.name)]
    if values is None:
        return ["the weight operand %s is a %s, not a tosa.const" % (op.operands[1], cop.name)]
    problems = []
    enc_problems = []
    try:
        enc = module.encoding(op)
    except mlir_text.MlirParseError as e:
        enc = None
        enc_problems.append("cannot parse lowbit.weight_encoding: %s" % e)
    else:
        if enc is None:
            enc_problems.append("no lowbit.weight_encoding on the op")
        elif enc["kind"] == "log":
            enc_problems.append("the op got the one-word encoding %s, expected #lowbit.stlq"
                                % enc["text"])
            enc = None
    if values.dtype != np.float32 or values.shape != case.weights.shape:
        problems.append("weights are %s %s, expected float32 %s"
                        % (values.dtype, values.shape, case.weights.shape))
    else:
        got = values.view(np.uint32)
        want = r["decoded"].view(np.uint32)
        bad = np.flatnonzero(got.ravel() != want.ravel())
        if bad.size:
            zero_sign = np.all((values.ravel()[bad] == 0) & (r["decoded"].ravel()[bad] == 0))
            msg = ["%d of %d decoded weights differ%s (weight SQNR: lowbit %s dB, reference %s dB)" % (
                bad.size, values.size, " (only the sign of zero)" if zero_sign else "",
                fmt_db(ref.sqnr_db(case.weights, values)),
                fmt_db(ref.sqnr_db(case.weights, r["decoded"])))]
            for b in bad[:4]:
                li = logical_index(case, b)
                q1 = r["q1"].ravel()[b]
                q2 = r["q2"].ravel()[b]
                msg.append("w%s = %r (logical %s): lowbit %r, reference %r (q1 %d, q2 %d, U %r)"
                           % (tuple(int(v) for v in np.unravel_index(b, values.shape)),
                              float(case.weights.ravel()[b]), li, float(values.ravel()[b]),
                              float(r["decoded"].ravel()[b]), q1, q2, float(r["u"][li[0]])))
            problems.append("; ".join(msg))
    problems += enc_problems
    if enc is not None:
        if enc["bits"] != cfg.bits:
            problems.append("bits = %d, expected %d" % (enc["bits"], cfg.bits))
        if list(enc["tile"]) != list(cfg.tile):
            problems.append("tile = %s, expected %s" % (enc["tile"], list(cfg.tile)))
        if enc["extra"]:
            problems.append("unexpected parameters %s" % sorted(enc["extra"]))
        us = r["u"]
        f32 = lambda v: float(np.float32(v))  # noqa: E731
        if enc["scale"] != f32(enc["scale"]):
            problems.append("scale %r is not a float32 value" % enc["scale"])
        if f32(enc["scale"]) != f32(r["scale"]):
            problems.append("scale = %r, expected %r" % (enc["scale"], r["scale"]))
        cs = enc["channel_scales"]
        if per_channel_for(case, cfg.per_channel):
            if cs is None:
                problems.append("channel_scales missing (per-channel)")
            elif len(cs) != len(us):
                problems.append("%d channel_scales, expected %d" % (len(cs), len(us)))
            else:
                bad = [c for c in range(len(us)) if f32(cs[c]) != f32(us[c])]
                if bad:
                    problems.append("%d channel scales differ, first: channel %d: %r, expected %r"
                                    % (len(bad), bad[0], cs[bad[0]], us[bad[0]]))
                nonf32 = [c for c in range(len(us)) if cs[c] != f32(cs[c])]
                if nonf32:
                    problems.append("channel scale %d = %r is not a float32 value"
                                    % (nonf32[0], cs[nonf32[0]]))
        elif cs is not None:
            problems.append("channel_scales present, expected one U per layer%s"
                            % ("" if not cfg.per_channel else
                               " (a depthwise multiplier > 1, --multiplier-per-layer)"))
        m = enc["mask"]
        if m.shape != r["mask"].shape:
            problems.append("mask shape %s, expected %s" % (list(m.shape), list(r["mask"].shape)))
        elif not np.array_equal(m, r["mask"]):
            problems.append("mask: " + describe_mask_diff(case, cfg, m, r["mask"], r))
    return problems


def lowbit_runs(args, cases, configs, work, cache, failures, decoded_out):
    """Run lowbit-opt for each config; compare every case. Fills
    decoded_out[(case, key)] with lowbit's decoded weights."""
    module_path = os.path.join(work, "stlq_cases.mlir")
    with open(module_path, "w") as f:
        f.write(emit_module(cases))
    n_ok = n_cases = 0
    for ci, (cfg, subset) in enumerate(configs):
        sub_path = module_path
        if subset is not cases:
            sub_path = os.path.join(work, "stlq_cases_%d.mlir" % ci)
            with open(sub_path, "w") as f:
                f.write(emit_module(subset))
        out_path = os.path.join(work, "stlq_out_%d.mlir" % ci)
        err = run_lowbit_opt(args.lowbit_opt, sub_path, out_path,
                             "--%s=%s" % (PASS, cfg.options()))
        if err:
            failures.append("[%s] %s" % (cfg.label(), err))
            print("stlq: lowbit [%s]: FAIL: %s" % (cfg.label(), err.splitlines()[0]))
            if ci == 0:
                print("stlq: lowbit: stopping after the first failed run")
                return n_ok, len(configs) * len(cases)
            continue
        with open(out_path) as f:
            text = f.read()
        try:
            module = mlir_text.Module(text)
        except mlir_text.MlirParseError as e:
            failures.append("[%s] cannot parse %s: %s" % (cfg.label(), out_path, e))
            print("stlq: lowbit [%s]: FAIL: cannot parse the output: %s" % (cfg.label(), e))
            continue
        for case in subset:
            n_cases += 1
            r = reference(case, cfg, cache)
            try:
                problems = compare(case, cfg, module, r)
            except mlir_text.MlirParseError as e:
                problems = ["cannot parse: %s" % e]
            if problems:
                for p in problems:
                    failures.append("[%s] %s: %s" % (cfg.label(), case.name, p))
                line = " | ".join(problems)
                print("stlq: lowbit [%s] %s: FAIL: %s" % (
                    cfg.label(), case.name, line if len(line) < 400 else line[:400] + " ..."))
            else:
                n_ok += 1
                op = [o for o in module.ops if o.func == case.name and o.name == case.op_name][0]
                decoded_out[(case.name, cfg.key())] = module.constant(case.name, op.operands[1])[1]
                if args.verbose:
                    print("stlq: lowbit [%s] %s: OK (%d of %d tiles two-word)"
                          % (cfg.label(), case.name, int(r["mask"].sum()), r["mask"].size))
    return n_ok, n_cases


def comparison_grid(cases, size):
    """(Config, cases) pairs: the SQNR sweep of (e) over all small cases,
    plus other tiles, bit widths and the large layer ('full'); fewer ratios
    ('quick'); or four option sets ('smoke')."""
    small = [c for c in cases if c.group != "big"]
    big = [c for c in cases if c.group == "big"]
    if size == "smoke":
        return [(Config(3, 0.15, (16, 16), True, "mse"), small),
                (Config(4, 0.5, (8, 4), False, "max"), small),
                (Config(3, 1.0, (16, 16), False, "mse"), small),
                (Config(3, 0.0, (16, 16), True, "max"), small)]
    grid = []
    sweep = R_SWEEP if size == "full" else (0.0, 0.15, 1.0)
    for bits in (3, 4):
        for pc, ls in SCALE_CONFIGS:
            for r in sweep:
                grid.append((Config(bits, r, (16, 16), pc, ls), small))
    for tile in ((8, 4), (4, 8), (1, 1), (7, 5), (32, 64), (1, 16), (16, 1)):
        for pc, ls in ((True, "mse"), (False, "max")):
            grid.append((Config(3, 0.15, tile, pc, ls), small))
    for bits in (2, 5, 8):
        grid.append((Config(bits, 0.15, (16, 16), True, "mse"), small))
        grid.append((Config(bits, 0.5, (16, 16), False, "max"), small))
    for r in (0.3, 0.75, 0.999, 0.001):
        grid.append((Config(3, r, (16, 16), True, "max"), small))
    if big:
        for pc in (False, True):
            for ls in ("mse", "max"):
                grid.append((Config(3, 0.15, (16, 16), pc, ls), big))
    return grid


# ---------------------------------------------------------------------------
# Reference self-checks (--reference-only, and always cheap ones)
# ---------------------------------------------------------------------------

def brute_force_nearest(x, u, bits):
    """Nearest level by exhaustive search (ties to the larger magnitude)."""
    x, u = np.broadcast_arrays(np.asarray(x, dtype=np.float64), np.asarray(u, dtype=np.float64))
    x, u = x.ravel(), u.ravel()
    m = 1 << (bits - 1)
    codes = np.arange(-m, m)
    vals = ref.log_dequantize(codes[None, :], u[:, None])  # [n, 2M]
    sign_ok = ((codes[None, :] > 0) & (x[:, None] > 0)) | \
              ((codes[None, :] < 0) & (x[:, None] < 0)) | (codes[None, :] == 0)
    err = np.where(sign_ok, np.abs(x[:, None] - vals), np.inf)
    best = err.min(axis=1, keepdims=True)
    cand = (err == best) & sign_ok
    mag = np.where(cand, np.abs(vals), -1.0)
    pick = np.argmax(mag, axis=1)
    q = codes[pick]
    q = np.where(np.isnan(x) | (x == 0), 0, q)
    return q


def reference_selfcheck(cases, failures, stats):
    n = 0
    for case in cases:
        if case.group == "big":
            continue
        for bits in (2, 3, 4, 5):
            for pc, ls in SCALE_CONFIGS:
                r0 = ref.stlq(case.weights, case.kind, bits, 0.0, (16, 16), pc, ls)
                lg = ref.to_logical(case.weights, case.kind).astype(np.float64)
                ub = r0["u"][:, None, None, None]
                tag = "%s bits=%d %s" % (case.name, bits, ls + (" pc" if pc else ""))
                want1 = brute_force_nearest(lg, ub, bits).reshape(lg.shape)
                if not np.array_equal(r0["q1_logical"], want1):
                    failures.append("reference %s: q1 is not the nearest level" % tag)
                r1 = r0["r1_logical"]
                want2 = brute_force_nearest(r1, ub, bits).reshape(lg.shape)
                r_all = ref.stlq(case.weights, case.kind, bits, 1.0, (16, 16), pc, ls)
                if not np.array_equal(r_all["q2_logical"], want2):
                    failures.append("reference %s: q2 is not the nearest level of r1" % tag)
                if r0["mask"].any() or r0["q2"].any():
                    failures.append("reference %s: R = 0 has two-word tiles" % tag)
                if not r_all["mask"].all():
                    failures.append("reference %s: R = 1 leaves one-word tiles" % tag)
                d1 = ref.log_dequantize(r0["q1_logical"], ub)
                if not np.array_equal(ref.to_logical(r0["decoded"], case.kind), d1.astype(np.float32)):
                    failures.append("reference %s: R = 0 is not the one-word decoding" % tag)
                # U (2^-e1 +- 2^-e2) is exact in float64 for these widths but
                # not in float32 (U has 24 significant bits): the stored value
                # is that sum rounded to nearest float32, what a float32 sum
                # of the two exact words gives as well.
                exact = d1 + ref.log_dequantize(r_all["q2_logical"], ub)
                dec = ref.to_logical(r_all["decoded"], case.kind)
                if not np.array_equal(dec, exact.astype(np.float32)):
                    failures.append("reference %s: decoded is not float32(deq(q1) + deq(q2))" % tag)
                f32sum = (d1.astype(np.float32) + ref.log_dequantize(
                    r_all["q2_logical"], ub).astype(np.float32)).astype(np.float32)
                stats["f32sum"] += int(np.count_nonzero(dec != f32sum))
                stats["two_word"] += int(np.count_nonzero(r_all["q2_logical"]))
                stats["inexact"] += int(np.count_nonzero(dec.astype(np.float64) != exact))
                # Errors never grow with the second word.
                e1 = np.abs(lg - d1)
                e2 = np.abs(lg - exact)
                if np.any(e2 > e1):
                    failures.append("reference %s: a second word increased an error" % tag)
                n += 1
        # The ratio rule: the count nearest to R * n among the ranked prefixes.
        for ratio in (0.05, 0.15, 0.3, 0.5, 0.999):
            r = ref.stlq(case.weights, case.kind, 3, ratio, (8, 4), True, "mse")
            sizes = np.bincount(ref.tile_ids(case.kind, case.logical_shape, (8, 4))[0].ravel())
            cum = np.concatenate([[0], np.cumsum(sizes[r["order"]])])
            t = ratio * case.size
            best = np.min(np.abs(cum - t))
            if abs(r["two_word_weights"] - t) != best or r["two_word_weights"] != cum[r["k"]]:
                failures.append("reference %s: ratio %g picks %d weights, nearest prefix is %g away"
                                % (case.name, ratio, r["two_word_weights"], best))
            ranked = r["scores"][r["order"]]
            if np.any(np.diff(ranked) > 0):
                failures.append("reference %s: tiles not ranked by score" % case.name)
    # The exactly tied tiles go by index.
    tied = [c for c in cases if c.name.startswith("tied_")]
    for c in tied:
        r = ref.stlq(c.weights, c.kind, 3, 0.25, (16, 16), False, "max")
        if r["mask"].ravel().tolist() != [True, False, False, False]:
            failures.append("reference %s: tied tiles not taken by index: %s"
                            % (c.name, r["mask"].ravel().tolist()))
    return n


def scale_selfcheck(failures):
    """U rules on small hand-made channels."""
    checks = 0
    w = np.array([0.5, -0.25, 0.1], dtype=np.float32)
    if ref.choose_scale(w, 3, "max") != 1.0:
        failures.append("reference: max scale of max|w| 0.5 is not 1")
    checks += 1
    for bad in ([0.0, 0.0], [np.inf, 1.0], [-np.inf]):
        for mode in ("max", "mse"):
            if ref.choose_scale(np.array(bad, dtype=np.float32), 3, mode) != 1.0:
                failures.append("reference: U of %s (%s) is not 1" % (bad, mode))
            checks += 1
    # NaN is skipped (lowbit's std::max keeps the running maximum).
    if ref.choose_scale(np.array([np.nan, 0.25], dtype=np.float32), 3, "max") != 0.5:
        failures.append("reference: NaN not skipped by max|w|")
    checks += 1
    # mse: brute force over the candidates on a random channel.
    rng = np.random.RandomState(7)
    v = rng.normal(0, 1, 300).astype(np.float32)
    m = float(np.max(np.abs(v.astype(np.float64))))
    best, bu = None, None
    for t in range(-16, 49):
        u = float(np.float32(m * 2.0 ** (t / 32.0)))
        e = 0.0
        for x in v.astype(np.float64):
            d = float(ref.log_dequantize(ref.log_quantize(x, u, 4), u)) - x
            e += d * d
        if best is None or e < best:
            best, bu = e, u
    if ref.choose_scale(v, 4, "mse") != bu:
        failures.append("reference: mse scale %r, brute force %r" % (ref.choose_scale(v, 4, "mse"), bu))
    checks += 1
    # Stride: 140,000 values -> every 2nd is evaluated.
    big = rng.normal(0, 1, 140000).astype(np.float32)
    big[1::2] *= 50  # only odd positions large: the stride must skip them
    big[0] = big[1::2].max() * 1.0  # max|w| from an even position too
    u = ref.choose_scale(big, 3, "mse")
    u_even = ref.choose_scale(big[::2], 3, "mse")
    # Same max|w| (position 0), same sample (every 2nd from 0): same U.
    if u != u_even:
        failures.append("reference: strided U %r differs from U of the even values %r" % (u, u_even))
    checks += 1
    return checks


# ---------------------------------------------------------------------------
# (e)-(f) SQNR
# ---------------------------------------------------------------------------

def fmt_db(x):
    return "inf" if x == math.inf else "%.2f" % x


def sqnr_sweep(cases, bits, pc, ls, decoded_of):
    """Per layer and pooled SQNR over R_SWEEP; decoded_of(case, cfg) gives
    the decoded weights (or None when unavailable)."""
    per_layer = {c.name: [] for c in cases}
    pooled = []
    for r in R_SWEEP:
        cfg = Config(bits, r, (16, 16), pc, ls)
        sig = noise = 0.0
        ok = True
        for c in cases:
            d = decoded_of(c, cfg)
            if d is None:
                ok = False
                per_layer[c.name].append(None)
                continue
            s, e = ref.signal_energy(c.weights), ref.noise_energy(c.weights, d)
            per_layer[c.name].append(ref.sqnr_from_energies(s, e))
            sig += s
            noise += e
        pooled.append(ref.sqnr_from_energies(sig, noise) if ok else None)
    return per_layer, pooled


def monotone(xs):
    vals = [x for x in xs if x is not None]
    return all(b >= a for a, b in zip(vals, vals[1:]))


def check_sweeps(who, cases_by_set, decoded_of, failures, configs):
    lines = 0
    for set_name, cases in cases_by_set:
        for bits in (3, 4):
            for pc, ls in configs:
                per_layer, pooled = sqnr_sweep(cases, bits, pc, ls, decoded_of)
                if all(p is None for p in pooled):
                    continue
                tag = "%s %s bits=%d %s %s" % (who, set_name, bits,
                                               "per-channel" if pc else "per-layer", ls)
                print("stlq: sqnr %s: R %s: %s dB" % (
                    tag, "/".join("%g" % r for r in R_SWEEP),
                    " ".join(fmt_db(p) if p is not None else "-" for p in pooled)))
                lines += 1
                if not monotone(pooled):
                    failures.append("%s: network SQNR falls as R rises: %s" % (tag, pooled))
                for name, xs in per_layer.items():
                    if not monotone(xs):
                        failures.append("%s: %s SQNR falls as R rises: %s" % (tag, name, xs))
    return lines


def tile_vs_filter_layer(c, bits, pc, ls, ratio, tile, one_word=False):
    """One layer of (f): the reference's per-tile selection at R, per-filter
    selection by the same ratio rule, and per-filter aimed at the per-tile
    selection's count of two-word weights (one U search for all three), with
    their noise energies (and the one-word noise energy with one_word)."""
    words = ref.stlq_words(c.weights, c.kind, bits, pc, ls)
    out = {"signal": ref.signal_energy(c.weights)}
    out["tile"] = rt = ref.stlq(c.weights, c.kind, bits, ratio, tile, pc, ls, words=words)
    out["filter"] = ref.stlq(c.weights, c.kind, bits, ratio, tile, pc, ls,
                             granularity="filter", words=words)
    out["filter_at_count"] = ref.stlq(c.weights, c.kind, bits, ratio, tile, pc, ls,
                                      granularity="filter", words=words,
                                      target_weights=rt["two_word_weights"])
    for k in ("tile", "filter", "filter_at_count"):
        out["e_" + k] = ref.noise_energy(c.weights, out[k]["decoded"])
    if one_word:
        r0 = ref.stlq(c.weights, c.kind, bits, 0.0, tile, pc, ls, words=words)
        out["e_one_word"] = ref.noise_energy(c.weights, r0["decoded"])
    return out


def per_tile_vs_filter(real, configs, ratio=0.15, tile=(16, 16), verbose=True):
    """(f): per-tile selection at R against per-filter selection (whole
    output channels ranked by the filter's ||r1||_2) by the same ratio rule,
    and per-filter aimed at the per-tile selection's number of two-word
    weights. Returns (layer_wins, layer_runs, net_wins, net_runs, problems);
    only layers with more than one tile count."""
    layer_wins = layer_runs = net_wins = net_runs = 0
    problems = []
    for bits in (3, 4):
        for pc, ls in configs:
            tag = "bits=%d %s %s tile=%dx%d" % (bits, "per-channel" if pc else "per-layer", ls,
                                                tile[0], tile[1])
            sig = n_tile = n_fr = n_ft = 0.0
            db_tile = db_fr = db_ft = 0.0
            for c in real:
                lr = tile_vs_filter_layer(c, bits, pc, ls, ratio, tile)
                rt, rf, rft = lr["tile"], lr["filter"], lr["filter_at_count"]
                s, et, ef, eft = lr["signal"], lr["e_tile"], lr["e_filter"], lr["e_filter_at_count"]
                st, sf, sft = (ref.sqnr_from_energies(s, e) for e in (et, ef, eft))
                sig += s
                n_tile += et
                n_fr += ef
                n_ft += eft
                db_tile += st
                db_fr += sf
                db_ft += sft
                ntiles = rt["mask"].size
                tile_w = int(np.prod(c.logical_shape)) / float(ntiles)
                filt_w = int(np.prod(c.logical_shape[1:]))
                if verbose:
                    print("stlq: tile-vs-filter %s %s: %d tiles of ~%.0f weights, %d filters of %d: "
                          "per-tile %s dB (%d two-word), per-filter %s dB (%d two-word), "
                          "per-filter at the tile count %s dB (%d two-word)"
                          % (tag, c.name, ntiles, tile_w, c.logical_shape[0], filt_w, fmt_db(st),
                             rt["two_word_weights"], fmt_db(sf), rf["two_word_weights"],
                             fmt_db(sft), rft["two_word_weights"]))
                if ntiles > 1:
                    layer_runs += 1
                    if st >= sf and st >= sft:
                        layer_wins += 1
                    else:
                        problems.append("%s %s: per-tile %s dB < per-filter %s / %s dB"
                                        % (tag, c.name, fmt_db(st), fmt_db(sf), fmt_db(sft)))
            pt, pf, pft = (ref.sqnr_from_energies(sig, e) for e in (n_tile, n_fr, n_ft))
            print("stlq: tile-vs-filter %s network: per-tile %s dB, per-filter %s dB, "
                  "per-filter at the tile count %s dB (sum of layer dB: %.2f, %.2f, %.2f)"
                  % (tag, fmt_db(pt), fmt_db(pf), fmt_db(pft), db_tile, db_fr, db_ft))
            net_runs += 1
            if pt > pf and pt > pft and db_tile > db_fr and db_tile > db_ft:
                net_wins += 1
            else:
                problems.append("%s network: per-tile %s dB, per-filter %s / %s dB"
                                % (tag, fmt_db(pt), fmt_db(pf), fmt_db(pft)))
    return layer_wins, layer_runs, net_wins, net_runs, problems


def filter_weights(c):
    return int(np.prod(c.logical_shape[1:]))


def why_filter_wins(c, lr, tile):
    """Why per-filter beat per-tile on one layer, from the numbers."""
    tile_w = tile[0] * tile[1]
    fw = filter_weights(c)
    nt = lr["tile"]["two_word_weights"]
    st = ref.sqnr_from_energies(lr["signal"], lr["e_tile"])
    why = ["filters of %d weights are %.3g tiles of %d" % (fw, fw / float(tile_w), tile_w)]
    for key, label in (("filter", "per-filter"), ("filter_at_count", "per-filter at the tile count")):
        sk = ref.sqnr_from_energies(lr["signal"], lr["e_" + key])
        if sk <= st:
            continue
        nk = lr[key]["two_word_weights"]
        if nk > nt:
            why.append("%s has %d two-word weights to per-tile's %d (%+.1f%%): whole "
                       "filters cannot match the tiles' count" % (label, nk, nt,
                                                                   100.0 * (nk - nt) / nt))
        else:
            why.append("%s wins with %d two-word weights to per-tile's %d: ranking whole "
                       "filters picked larger residuals here" % (label, nk, nt))
    return "; ".join(why)


def per_tile_vs_filter_large(arch, cases, configs, ratio=0.15, tile=LARGE_TILE, verbose=False):
    """(f) on one network's layers with filters larger than a tile: network
    figures (pooled energies) per setting, per-layer counts, and every layer
    where per-filter wins, with the reason. Returns (layer_wins, layer_runs,
    net_wins, net_runs, net_problems, layer_problems)."""
    layer_wins = layer_runs = net_wins = net_runs = 0
    net_problems, layer_problems = [], []
    for bits in (3, 4):
        for pc, ls in configs:
            tag = "%s bits=%d %s %s tile=%dx%d" % (arch, bits, "per-channel" if pc else "per-layer",
                                                   ls, tile[0], tile[1])
            sig = e_t = e_f = e_ft = e_1 = 0.0
            n_f = n_ft = 0
            for c in cases:
                lr = tile_vs_filter_layer(c, bits, pc, ls, ratio, tile, one_word=True)
                sig += lr["signal"]
                e_t += lr["e_tile"]
                e_f += lr["e_filter"]
                e_ft += lr["e_filter_at_count"]
                e_1 += lr["e_one_word"]
                st, sf, sft = (ref.sqnr_from_energies(lr["signal"], lr[k])
                               for k in ("e_tile", "e_filter", "e_filter_at_count"))
                n_f += st >= sf
                n_ft += st >= sft
                layer_runs += 1
                if verbose:
                    print("stlq: tile-vs-filter %s %s: %d tiles, %d filters of %d: per-tile %s dB "
                          "(%d two-word), per-filter %s dB (%d two-word), per-filter at the tile "
                          "count %s dB (%d two-word), one word %s dB"
                          % (tag, c.layer, lr["tile"]["mask"].size, c.logical_shape[0],
                             filter_weights(c), fmt_db(st), lr["tile"]["two_word_weights"],
                             fmt_db(sf), lr["filter"]["two_word_weights"], fmt_db(sft),
                             lr["filter_at_count"]["two_word_weights"],
                             fmt_db(ref.sqnr_from_energies(lr["signal"], lr["e_one_word"]))))
                if st >= sf and st >= sft:
                    layer_wins += 1
                else:
                    msg = "%s %s: per-tile %.3f dB below per-filter %.3f / at the tile count %.3f dB: %s" % (
                        tag, c.layer, st, sf, sft, why_filter_wins(c, lr, tile))
                    layer_problems.append(msg)
                    print("stlq: tile-vs-filter " + msg)
            pt, pf, pft, p1 = (ref.sqnr_from_energies(sig, e) for e in (e_t, e_f, e_ft, e_1))
            print("stlq: tile-vs-filter %s network: per-tile %s dB, per-filter %s dB, per-filter at "
                  "the tile count %s dB (one word %s dB); layers: per-tile >= per-filter in %d of %d, "
                  ">= per-filter at the tile count in %d of %d"
                  % (tag, fmt_db(pt), fmt_db(pf), fmt_db(pft), fmt_db(p1), n_f, len(cases),
                     n_ft, len(cases)))
            net_runs += 1
            if pt > pf and pt > pft:
                net_wins += 1
            else:
                net_problems.append("%s network: per-tile %s dB not above per-filter %s / %s dB"
                                    % (tag, fmt_db(pt), fmt_db(pf), fmt_db(pft)))
    return layer_wins, layer_runs, net_wins, net_runs, net_problems, layer_problems


# ---------------------------------------------------------------------------
# --crosscheck-insert-qdq
# ---------------------------------------------------------------------------

def crosscheck_insert_qdq(args, cases, work, failures):
    """One-word codes and U against lowbit-insert-qdq weight-scheme=pow2
    weight-rounding=nearest (its per-channel axis is TOSA's: conv dim 0,
    depthwise dim 2 = C, matmul dim 2 = N; a depthwise multiplier > 1 has a
    different channel there, so those run per layer only)."""
    n_ok = n = 0
    for bits in (2, 3, 4, 5, 8):
        for pc, ls in SCALE_CONFIGS:
            subset = [c for c in cases if not (pc and c.kind == "depthwise" and c.weights.shape[3] > 1)]
            path = os.path.join(work, "qdq_cases.mlir")
            with open(path, "w") as f:
                f.write(emit_module(subset))
            out = os.path.join(work, "qdq_out_b%d_%d_%s.mlir" % (bits, pc, ls))
            opts = ("weight-scheme=pow2 weight-rounding=nearest weight-bits=%d per-channel=%s log-scale=%s"
                    % (bits, "true" if pc else "false", ls))
            err = run_lowbit_opt(args.lowbit_opt, path, out, "--lowbit-insert-qdq=" + opts)
            tag = "insert-qdq %s" % opts
            if err:
                failures.append("%s: %s" % (tag, err))
                print("stlq: crosscheck %s: FAIL: %s" % (tag, err.splitlines()[0]))
                continue
            module = mlir_text.Module(open(out).read())
            for c in subset:
                n += 1
                r = ref.stlq(c.weights, c.kind, bits, 0.0, (16, 16), pc, ls)
                ops = [o for o in module.ops if o.func == c.name and o.name == c.op_name]
                _, vals = module.constant(c.name, ops[0].operands[1])
                enc_text = ops[0].attr("lowbit.weight_encoding")
                prob = []
                if vals is None or not np.array_equal(vals.view(np.uint32), r["decoded"].view(np.uint32)):
                    nbad = -1 if vals is None else int(np.sum(vals.view(np.uint32) != r["decoded"].view(np.uint32)))
                    prob.append("%d one-word values differ" % nbad)
                want_scale = float(np.float32(r["scale"]))
                m = re.search(r"scale = ([^,>]+)", enc_text or "")
                if not m or mlir_text.parse_float(m.group(1)) != want_scale:
                    prob.append("scale %s, reference %r" % (m.group(1) if m else None, want_scale))
                m = re.search(r"channel_scales = (\[[^\]]*\])", enc_text or "")
                if pc:
                    got = mlir_text.parse_float_list(m.group(1)) if m else None
                    want = [float(np.float32(u)) for u in r["u"]]
                    if got != want:
                        prob.append("channel scales differ")
                if prob:
                    failures.append("%s %s: %s" % (tag, c.name, "; ".join(prob)))
                    print("stlq: crosscheck %s %s: FAIL: %s" % (tag, c.name, "; ".join(prob)))
                else:
                    n_ok += 1
    print("stlq: crosscheck insert-qdq pow2 nearest vs reference one-word: %d of %d OK" % (n_ok, n))
    return n_ok == n


# ---------------------------------------------------------------------------

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lowbit-opt", help="path of lowbit-opt")
    ap.add_argument("--reference-only", action="store_true",
                    help="no lowbit-opt: check the reference and its SQNR figures only")
    ap.add_argument("--crosscheck-insert-qdq", action="store_true",
                    help="only check the one-word reference against lowbit-insert-qdq "
                         "weight-scheme=pow2 weight-rounding=nearest (needs --lowbit-opt)")
    ap.add_argument("--work", help="folder for the modules and outputs (default: a temporary one)")
    ap.add_argument("--onnx", default=DEFAULT_ONNX, help="model with the real weights")
    ap.add_argument("--grid", choices=("full", "quick", "smoke"), default="full",
                    help="option sets for lowbit-opt: full (84), quick (48) or smoke (4)")
    ap.add_argument("--quick", action="store_const", const="quick", dest="grid",
                    help="same as --grid quick")
    ap.add_argument("--skip-sqnr", action="store_true",
                    help="leave out the SQNR checks (e) and (f)")
    ap.add_argument("--multiplier-per-layer", action="store_true",
                    help="expect one U per layer for a depthwise multiplier > 1 even with "
                         "per-channel=true (lowbit's rule; the spec says per output channel)")
    ap.add_argument("--no-big", action="store_true", help="leave out the 153,600-weight layer")
    ap.add_argument("--emit-module", help="write the test module here and exit")
    ap.add_argument("--strict-tile-vs-filter", action="store_true",
                    help="fail when per-tile does not beat per-filter (f) on the Fashion-MNIST "
                         "layers, or on any one large-filter layer (the large-filter network "
                         "figures always must)")
    ap.add_argument("--large-filters", choices=("default", "all", "none"), default="default",
                    help="layers with filters larger than a 16x16 tile for (f), from torchvision: "
                         "default: ResNet-18's layer1.0.conv1 and layer2.0.conv2; all: "
                         "ResNet-18's 16 such convolutions and fc, and MobileNetV2's pointwise "
                         "convolutions with more than 256 weights per filter (minutes); none")
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args()
    if not args.reference_only and not args.lowbit_opt and not args.emit_module:
        ap.error("--lowbit-opt is required (or --reference-only)")
    if args.crosscheck_insert_qdq and (args.reference_only or not args.lowbit_opt):
        ap.error("--crosscheck-insert-qdq needs --lowbit-opt and no --reference-only")

    cases = build_cases(args.onnx, with_big=not args.no_big)
    if args.emit_module:
        with open(args.emit_module, "w") as f:
            f.write(emit_module(cases))
        return 0
    print("stlq: %d layers: %s" % (len(cases), ", ".join(
        "%s %s" % (c.name, "x".join(map(str, c.weights.shape))) for c in cases)))
    failures = []
    global MULTIPLIER_PER_LAYER
    MULTIPLIER_PER_LAYER = args.multiplier_per_layer
    work_ctx = None
    work = args.work
    if work:
        os.makedirs(work, exist_ok=True)
    elif not args.reference_only:
        work_ctx = tempfile.TemporaryDirectory(prefix="stlq-")
        work = work_ctx.name
    try:
        return run(args, cases, work, failures)
    finally:
        if work_ctx:
            work_ctx.cleanup()


def run(args, cases, work, failures):
    real = [c for c in cases if c.group == "real"]
    gauss = [c for c in cases if c.group == "gauss"]

    if args.crosscheck_insert_qdq:
        # Only the one-word crosscheck.
        crosscheck_insert_qdq(args, cases, work, failures)
        return report(failures)

    cache = {}
    decoded = {}
    if not args.reference_only:
        grid = comparison_grid(cases, args.grid)
        n_ok, n = lowbit_runs(args, cases, grid, work, cache, failures, decoded)
        print("stlq: lowbit vs reference: %d of %d layer runs identical (%d option sets)"
              % (n_ok, n, len(grid)))

    if args.reference_only:
        stats = {"two_word": 0, "inexact": 0, "f32sum": 0}
        n = reference_selfcheck(cases, failures, stats)
        n += scale_selfcheck(failures)
        print("stlq: reference self-checks: %d runs, %s" % (
            n, "OK" if not failures else "%d failures" % len(failures)))
        print("stlq: reference: %d of %d nonzero second words (R = 1, bits 2-5) leave a decoded "
              "value that float32 cannot hold exactly (stored rounded to nearest)"
              % (stats["inexact"], stats["two_word"]))
        print("stlq: reference: %d decoded values differ when the two words are summed in "
              "float32 instead of float64 (words below float32's normal range)" % stats["f32sum"])

    if args.skip_sqnr:
        return report(failures)

    sets = (("fashion", real), ("gaussian", gauss))
    nf = len(failures)

    def ref_decoded(c, cfg):
        return reference(c, cfg, cache)["decoded"]

    check_sweeps("reference", sets, ref_decoded, failures, SCALE_CONFIGS)
    print("stlq: reference: SQNR never falls as R rises: %s" % ("OK" if len(failures) == nf else "FAIL"))
    if not args.reference_only:
        nf = len(failures)

        def lowbit_decoded(c, cfg):
            return decoded.get((c.name, cfg.key()))

        n_lines = check_sweeps("lowbit", sets, lowbit_decoded, failures, SCALE_CONFIGS)
        print("stlq: lowbit: SQNR never falls as R rises: %s" % (
            "FAIL" if len(failures) != nf else "OK" if n_lines else "no data (its runs failed)"))

    # (f) on Fashion-MNIST: filters smaller than the 16x16 tiles, where the
    # paper's reason for per-tile selection does not hold; reported, a
    # failure only with --strict-tile-vs-filter.
    filt = [filter_weights(c) for c in real]
    fashion_sizes = "filters %d to %d weights" % (min(filt), max(filt))
    lw, lr, nw, nr, problems = per_tile_vs_filter(real, SCALE_CONFIGS)
    fashion_met = not problems
    print("stlq: per-tile >= per-filter at R = 0.15, 16x16 tiles: fashion (%s): %d of %d layer runs, "
          "network strictly better in %d of %d: %s"
          % (fashion_sizes, lw, lr, nw, nr, "OK" if fashion_met else "NOT MET"))
    verdict = ["%s on fashion (%s, smaller than the tiles): network strictly better in "
               "%d of %d settings" % ("met" if fashion_met else "not met", fashion_sizes, nw, nr)]
    if not fashion_met:
        if args.strict_tile_vs_filter:
            failures.extend("tile-vs-filter " + p for p in problems)
        else:
            tiles = [min(16, c.logical_shape[0]) * min(16, c.logical_shape[3]) for c in real]
            print("stlq: note: the fashion filters (%d to %d weights) are %s the 16x16 tiles "
                  "(%d to %d weights here); --strict-tile-vs-filter makes this a failure"
                  % (min(filt), max(filt),
                     "smaller than" if all(f < t for f, t in zip(filt, tiles)) else "not all larger than",
                     min(tiles), max(tiles)))
            verdict[-1] += ", as expected there (not a failure)"
    # The same at smaller tiles (per-channel mse; network lines only).
    for t in ((8, 8), (4, 4)):
        per_tile_vs_filter(real, ((True, "mse"),), tile=t, verbose=False)

    # (f) on layers with filters larger than a 16x16 tile (ResNet-18, and
    # MobileNetV2's pointwise convolutions with --large-filters all): the
    # network figure (pooled energies) must be strictly better per-tile in
    # every setting; a layer where per-filter wins is named with the reason
    # (a failure with --strict-tile-vs-filter).
    try:
        large = large_filter_cases(args.large_filters)
    except ImportError as e:
        failures.append("tile-vs-filter: cannot build the large-filter layers: %s "
                        "(scripts/install-deps.sh installs python3-torch and python3-torchvision; "
                        "--large-filters none leaves them out)" % e)
        large = {}
    for arch, (cases, names) in large.items():
        tile_w = LARGE_TILE[0] * LARGE_TILE[1]
        fws = [filter_weights(c) for c in cases]
        n_conv = sum(1 for _, k in names if k == "conv")
        kinds = ["%d %sconvolutions" % (n_conv, "" if arch == "resnet18" else "pointwise ")]
        if any(k == "matmul" for _, k in names):
            kinds.append("the fc")
        print("stlq: tile-vs-filter %s: torchvision's architecture, weights=None after "
              "torch.manual_seed(%d) (its random initialization: no pretrained weights here): "
              "%d of its %d layers with more than %d weights per filter (%s%s): %s"
              % (arch, LARGE_SEED, len(cases), len(names), tile_w, " and ".join(kinds),
                 "" if len(cases) == len(names) else "; --large-filters all for all",
                 ", ".join("%s %s (%d per filter)" % (
                     c.layer, "x".join(map(str, c.weights.shape)), filter_weights(c))
                     for c in cases)))
        lw, lr, nw, nr, net_problems, layer_problems = per_tile_vs_filter_large(
            arch, cases, LARGE_CONFIGS, verbose=args.verbose)
        sizes = "filters %d to %d weights" % (min(fws), max(fws))
        if net_problems:
            status = "FAIL"
        elif layer_problems:
            status = "OK (network); per-filter wins %d layer runs, named above" % len(layer_problems)
        else:
            status = "OK"
        print("stlq: per-tile >= per-filter at R = 0.15, 16x16 tiles: %s (%s): %d of %d layer runs, "
              "network strictly better in %d of %d: %s" % (arch, sizes, lw, lr, nw, nr, status))
        failures.extend("tile-vs-filter " + p for p in net_problems)
        if args.strict_tile_vs_filter:
            failures.extend("tile-vs-filter " + p for p in layer_problems)
        verdict.append("%s on %s (%s, %s the tiles): network strictly better in "
                       "%d of %d settings" % ("met" if not net_problems else "NOT MET", arch, sizes,
                                              "larger than" if min(fws) > tile_w else "not all larger than",
                                              nw, nr))
    if not large:
        verdict.append("no layers with filters larger than the tiles run (--large-filters %s)"
                       % args.large_filters)
    print("stlq: tile-vs-filter verdict (paper 4.4: per-tile beats per-filter at R = 0.15, "
          "16x16 tiles): " + "; ".join(verdict[1:] + verdict[:1]))
    return report(failures)


def report(failures):
    if failures:
        print("stlq: %d FAILURES:" % len(failures))
        for f in failures[:60]:
            print("stlq:   " + f)
        if len(failures) > 60:
            print("stlq:   ... and %d more" % (len(failures) - 60))
        return 1
    print("stlq: all OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
