#!/usr/bin/python3
"""STLQ-aware fine-tuning of the bundled Fashion-MNIST CNN (STLQ paper, sec. 4).

Starting from fashion_cnn.onnx, quantizes every Conv and Linear weight (the
depthwise conv too) with selective two-word log quantization (STLQ) and
fine-tunes with the paper's method (stlq-two-word-log-quantization eq. 5-10,
per-tile quantization of sec. 4.4), then exports the model with exact STLQ
weights, as float32 initializers of the original ONNX graph, for lowbitc.

Method, per layer (codes follow lowbit's log rule,
runtime/include/lowbit/runtime/LogQuant.h, mirrored in test/e2e/stlq_grid.py):
  * one scale U per output channel (the default, lowbitc's default too) or
    per layer (--per-tensor, for lowbitc --per-tensor-weights), recomputed
    from the latent weights at every step: U_c = float32(2 max|w_c|),
    rounded to 24 - M significant bits (20 at 3 bits, a relative change
    below 1e-6). Two-word values U (2^-e1 +- 2^-e2) need up to M more bits
    than U has, so with a full 24-bit U most would round when stored as
    float32 and fall off the grid. The largest weight (of a channel, or of
    the layer) is code 1 = U / 2 exactly, so U = 2 max|w~| of the exported
    weights. One U per layer costs a lot at 3 bits: the BN-folded channels
    differ up to 28x in scale, and small channels fall below the smallest
    level U / 16 (post-training 10% with one U per layer, 48% per channel,
    float activations; lowbitc's own training-free STLQ fits the U of least
    squared error instead and gets 83.79%);
  * tiles: Tn inputs x Tm outputs at one kernel position of the OHWI layout
    (OI for Linear), the #lowbit.stlq mask order [ceil(O/Tm), KH, KW,
    ceil(I/Tn)]; the depthwise conv has I = 1, so its tiles are Tm x 1;
  * selection C (eq. 5-6 per tile): tiles ranked by ||r1||_2 of the
    pre-trained weights, r1 = w - LogQ(w); the top tiles of the layer are
    selected, as many as bring the share of the layer's weights in selected
    tiles nearest to R (ties to fewer). C never changes;
  * auxiliary v (eq. 9-10), one value per unselected tile (the paper's
    per-tile v0 of sec. 4.4: a tile's words are decided together, so a tile
    has one degree of transition): v0 = softmax(||r1||_2 / U over the
    unselected tiles) / max (per channel: ||r1 / U_c||_2, each weight's
    residual in units of its channel's U). The norms are taken in units of
    U because the
    paper's weights live in [-1, 1] (eq. 1: "r1 << 1" is what keeps the
    softmax flat); this model's BN-folded weights reach |w| = 20, where
    raw norms would make the softmax nearly one-hot;
  * forward (eq. 8): w~ = LogQ(w) + LogQ(r1 o (C + v)), v broadcast to its
    tile's weights, with a straight-through estimator for both roundings
    (dw~/dw = 1, dw~/dv = sum over the tile of r1 * dL/dw~);
    loss (eq. 7) = cross entropy + lambda * ||v||^2. v is trained by plain
    SGD (the lambda term is then exactly a weight decay, as the paper puts
    it), clamped to [0, 1], set to 0 below eps = 1e-3 and on selected tiles
    after every step. Weights, biases and PReLU slopes: Adam with a cosine
    learning rate, for the quantized weights relative to the layer's U (the
    BN-folded layers differ 40x in scale: U = 0.97 to 39); per channel, the
    trained parameter is w_c / 2^ceil(log2 U_c) of the initial U_c (exact
    in float32), so that the steps are relative to each channel's U;
  * the task gradient keeps v a little above 0 on some tiles (where
    2 lambda v balances it), but once |r1 v| is below the smallest level
    LogQ(r1 v) = 0: the script prints the last step at which an unselected
    tile used a second word. At the end v = 0: selected tiles carry two words,
    the others one.

One detail the rule forces: its two-word values are not all fixed points of
the rule. At N bits exactly one is not: -(2^-(M-1) + 2^-M) U (-0.1875 U at 3
bits, words -3,-4), which re-quantizes to words -2,+3 = -0.125 U. lowbitc
re-quantizes the exported floats, so such a weight would silently change. The
quantizer here therefore applies the rule twice (which lands on a fixed
point; stlq_grid.py --self-test checks that), in training and at export, so
the exported model is exactly what was trained and re-quantizes to itself.
The post-training figures are printed for both (the rule once, as lowbitc
would quantize the float model, and twice).

BatchNorm: fashion_cnn.onnx was exported in eval mode, so each BatchNorm is
folded into its Conv (weight and bias). The torch module is train.py's
FashionCNN with each Conv2d + BatchNorm2d pair replaced by a Conv2d with bias
and an Identity; the ONNX initializers are mapped onto it by op order (Conv,
PRelu, Gemm), and the mapping is checked against a small interpreter of the
ONNX graph on the 10,000 test images. The STLQ weights are thus the folded
weights lowbitc sees.

Activations: lowbitc quantizes them to 8 bits (per tensor, asymmetric,
min/max ranges from its calibration run), which cost the first version of
this model (float activations in training, one U per layer) 0.58 points.
During fine-tuning the script therefore fake-quantizes (--act-bits 8, 0 for
float activations) every tensor lowbitc quantizes in this graph: the
outputs of the three PReLUs and of the ReLU, the average pool's output and
the logits (the input, k / 255, is on its grid already; a max pool keeps
its input's grid), with lowbitc's grid (scale (hi - lo) / 255, zero point
round(-128 - lo / scale), ranges containing 0), a straight-through
estimator inside the range, and ranges from an exponential moving average
of each batch's min / max (momentum 0.01). Only the weights are exported;
lowbitc calibrates its own ranges. The self-check's accuracies are with
float activations (the exported ONNX graph).

Prints the float accuracy, the post-training STLQ accuracies (no training,
same selection), the accuracy after STLQ-aware fine-tuning, the two-word
ratio per layer and a self-check that every exported weight lies exactly on
the two-word log grid with U = float32(2 max|w|), that the tiles holding a
second word are exactly the selection C (a selected tile whose second words
all round to 0 would fail it), that the exported values are the NumPy rule
applied to the latent weights, and that the exported graph's accuracy is the
trained module's. Exit code 1 if the self-check fails. Deterministic (fixed
seed, one thread); about 3.5 minutes of CPU with the defaults (about 2
with --act-bits 0).

Results (defaults: per-channel U, 8-bit activation fake quantization, 4
epochs; 10,000 test images): 88.05% with float activations, 87.65% after
lowbitc (8-bit activations, --weight-scheme=stlq --weight-bits=3
--stlq-ratio=0.15, per-channel weights); float model 87.80%. With one U per
layer and float activations (the first version): 86.24% and 85.66%
(--per-tensor-weights).

Usage: /usr/bin/python3 examples/fashion_mnist/train_stlq.py [--bits 3]
         [--ratio 0.15] [--tile 16x16] [--epochs 4] [--lambda 0.5]
         [--lr 1e-3] [--lr-v 0.01] [--batch 128] [--per-tensor]
         [--act-bits 8] [--act-momentum 0.01] [--seed 0]
         [--out examples/fashion_mnist/fashion_cnn_stlq.onnx]
"""
import argparse
import os
import sys
import time

import numpy as np
import onnx
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.nn.utils.parametrize as parametrize
from onnx import numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(REPO, "test", "e2e"))
import data  # noqa: E402
import stlq_grid  # noqa: E402
import train  # noqa: E402

EPS = 1e-3  # |v| below this is set to 0 (paper sec. 4.3)


# ---------------------------------------------------------------------------
# The float model from fashion_cnn.onnx
# ---------------------------------------------------------------------------

def folded_cnn():
    """train.FashionCNN with every Conv2d + BatchNorm2d pair replaced by a
    Conv2d with bias followed by an Identity (BN folded, as in the ONNX)."""
    model = train.FashionCNN()
    feats = model.features
    for i, mod in enumerate(feats):
        if isinstance(mod, nn.BatchNorm2d):
            c = feats[i - 1]
            feats[i - 1] = nn.Conv2d(c.in_channels, c.out_channels,
                                     c.kernel_size, stride=c.stride,
                                     padding=c.padding, groups=c.groups,
                                     bias=True)
            feats[i] = nn.Identity()
    return model


def onnx_mapping(model, graph):
    """[(parameter, initializer name)] pairing the module's parameters with
    the ONNX initializers by op order; checks op attributes and shapes."""
    inits = {t.name: t for t in graph.initializer}
    convs = [m for m in model.modules() if isinstance(m, nn.Conv2d)]
    prelus = [m for m in model.modules() if isinstance(m, nn.PReLU)]
    linears = [m for m in model.modules() if isinstance(m, nn.Linear)]
    pairs = []

    def attrs(node):
        return {a.name: onnx.helper.get_attribute_value(a)
                for a in node.attribute}

    for node in graph.node:
        a = attrs(node)
        if node.op_type == "Conv":
            m = convs.pop(0)
            assert a.get("group", 1) == m.groups
            assert list(a["pads"]) == [m.padding[0], m.padding[1]] * 2
            assert list(a.get("strides", [1, 1])) == list(m.stride)
            pairs += [(m.weight, node.input[1]), (m.bias, node.input[2])]
        elif node.op_type == "PRelu":
            pairs.append((prelus.pop(0).weight, node.input[1]))
        elif node.op_type == "Gemm":
            m = linears.pop(0)
            assert a.get("transB", 0) == 1 and a.get("alpha", 1.0) == 1.0
            assert a.get("beta", 1.0) == 1.0 and a.get("transA", 0) == 0
            pairs += [(m.weight, node.input[1]), (m.bias, node.input[2])]
    assert not convs and not prelus and not linears, "op count mismatch"
    for p, name in pairs:
        assert p.numel() == int(np.prod(inits[name].dims)), name
    return pairs


def load_onnx_weights(model, onnx_model):
    pairs = onnx_mapping(model, onnx_model.graph)
    inits = {t.name: numpy_helper.to_array(t) for t in onnx_model.graph.initializer}
    with torch.no_grad():
        for p, name in pairs:
            p.copy_(torch.from_numpy(inits[name].reshape(p.shape).copy()))
    return pairs


def run_onnx(onnx_model, x):
    """A small interpreter of the ONNX graph (the ops of fashion_cnn.onnx),
    on torch.nn.functional in float32, whatever the batch size."""
    g = onnx_model.graph
    env = {t.name: torch.from_numpy(numpy_helper.to_array(t).copy())
           for t in g.initializer}
    env[g.input[0].name] = x
    for n in g.node:
        a = {at.name: onnx.helper.get_attribute_value(at) for at in n.attribute}
        i = [env[k] for k in n.input if k]
        op = n.op_type
        if op == "Constant":
            y = torch.from_numpy(numpy_helper.to_array(a["value"]).copy())
        elif op == "Conv":
            p = a.get("pads", [0, 0, 0, 0])
            assert p[0] == p[2] and p[1] == p[3]
            y = F.conv2d(i[0], i[1], i[2] if len(i) > 2 else None,
                         stride=a.get("strides", [1, 1]), padding=p[:2],
                         dilation=a.get("dilations", [1, 1]),
                         groups=a.get("group", 1))
        elif op == "PRelu":
            y = torch.where(i[0] < 0, i[0] * i[1], i[0])
        elif op == "Relu":
            y = torch.relu(i[0])
        elif op == "MaxPool" or op == "AveragePool":
            assert not any(a.get("pads", [0])) and not a.get("ceil_mode", 0)
            pool = F.max_pool2d if op == "MaxPool" else F.avg_pool2d
            y = pool(i[0], a["kernel_shape"], a.get("strides", a["kernel_shape"]))
        elif op == "Pad":
            assert a.get("mode", b"constant") == b"constant" and len(i) == 2
            p = i[1].tolist()
            h = len(p) // 2
            tp = []
            for d in reversed(range(h)):
                tp += [p[d], p[d + h]]
            y = F.pad(i[0], tp)
        elif op == "Flatten":
            ax = a.get("axis", 1)
            y = i[0].reshape(int(np.prod(i[0].shape[:ax])), -1)
        elif op == "Gemm":
            b = i[1].t() if a.get("transB", 0) else i[1]
            y = a.get("alpha", 1.0) * (i[0] @ b) + a.get("beta", 1.0) * i[2]
        else:
            raise NotImplementedError(op)
        env[n.output[0]] = y
    return env[g.output[0].name]


EVAL_BATCH = 100  # batches of 1000 run 10x slower on one thread here


def onnx_logits(onnx_model, x):
    with torch.no_grad():
        return torch.cat([run_onnx(onnx_model,
                                   torch.from_numpy(x[i:i + EVAL_BATCH]))
                          for i in range(0, len(x), EVAL_BATCH)])


def logits(model, x):
    model.eval()
    with torch.no_grad():
        return torch.cat([model(torch.from_numpy(x[i:i + EVAL_BATCH]))
                          for i in range(0, len(x), EVAL_BATCH)])


def accuracy(model, x, y):
    return float((logits(model, x).argmax(1).numpy() == y).mean())


# ---------------------------------------------------------------------------
# lowbit's log rule in torch (float64), the mirror of stlq_grid.log_quantize
# ---------------------------------------------------------------------------

def log_q(x, u, bits):
    """LogDequant(LogQuant(x)) for float64 `x` and scale `u` (a float, or a
    float64 tensor broadcasting against `x`: one U per output channel)."""
    m = 1 << (bits - 1)
    a = x.abs() / u
    hi = torch.where(x > 0, m - 1, m)
    f, p = torch.frexp(a)
    e = torch.where(f < 0.75, 1 - p, -p)
    e = torch.where(a < torch.pow(2.0, -hi.double()), hi, e)
    e = torch.where(a >= 0.5, torch.ones_like(e), e)
    zero = ~(a > 0) | (a < torch.pow(2.0, -hi.double() - 1))
    val = torch.ldexp(torch.as_tensor(u, dtype=x.dtype).expand_as(x),
                      -e.double())
    val = torch.where(x > 0, val, -val)
    return torch.where(zero, torch.zeros_like(x), val)


def stlq_q(x, u, bits):
    """Both words of the rule: LogQ(x) + LogQ(x - LogQ(x))."""
    q1 = log_q(x, u, bits)
    return q1 + log_q(x - q1, u, bits)


# ---------------------------------------------------------------------------
# STLQ parametrization of one layer's weight
# ---------------------------------------------------------------------------

class STLQWeight(nn.Module):
    """weight -> its STLQ value (see the module docstring).

    mode: 'float' (identity), 'once' (rule applied once, v = 0: what lowbitc
    computes from float weights), 'final' (rule twice, v = 0: the exported
    weights) or 'train' (eq. 8 with v, straight-through)."""

    def __init__(self, w, bits, tile, ratio, per_channel=False):
        super().__init__()
        self.bits = bits
        self.mode = "float"
        self.per_channel = per_channel
        # Per channel, the trained parameter is w / unit with unit the power
        # of two at or above the initial U_c (exact both ways in float32),
        # so that one Adam learning rate is relative to every channel's U.
        unit = torch.ones(())
        if per_channel:
            u0 = self.raw_scale(w).float()
            unit = torch.pow(2.0, torch.ceil(torch.log2(
                torch.where(u0 > 0, u0, torch.ones_like(u0)))))
        self.register_buffer("unit", unit)
        idx, _, sizes = stlq_grid.to_oihw_tiles(tuple(w.shape), tile)
        self.register_buffer("idx", torch.from_numpy(idx.copy()))
        self.sizes = sizes
        # Selection (eq. 5-6) on the pre-trained weight, per tile.
        w64 = w.detach().double()
        u = self.scale(w)
        r1 = w64 - log_q(w64, u, bits)
        norms = torch.zeros(len(sizes), dtype=torch.float64).index_add_(
            0, self.idx.reshape(-1), r1.reshape(-1) ** 2).sqrt().numpy()
        rel = norms / u  # ||r1||_2 / U; per channel ||r1 / U_c||_2
        if per_channel:
            rel = torch.zeros(len(sizes), dtype=torch.float64).index_add_(
                0, self.idx.reshape(-1),
                (r1 / u).reshape(-1) ** 2).sqrt().numpy()
        order = np.argsort(-norms, kind="stable")
        cum = np.concatenate([[0], np.cumsum(sizes[order])])
        k = int(np.argmin(np.abs(cum - ratio * w.numel())))
        sel = np.zeros(len(sizes), bool)
        sel[order[:k]] = True
        self.register_buffer("C", torch.from_numpy(sel))
        # v0 (eq. 9-10) on the unselected tiles.
        v0 = torch.zeros(len(sizes), dtype=torch.float32)
        if (~sel).any():
            s = torch.softmax(torch.from_numpy(rel[~sel]), 0)
            v0[torch.from_numpy(~sel)] = (s / s.max()).float()
        self.v = nn.Parameter(v0)
        self.live = int((~sel).sum())

    def raw_scale(self, w):
        """float32(2 max|w|), as a Python float; per channel a float64
        tensor [O, 1, ...] of float32(2 max|w_c|)."""
        if not self.per_channel:
            return float(2.0 * w.detach().abs().max())
        a = w.detach().abs().reshape(w.shape[0], -1).amax(1)
        return (2.0 * a).double().reshape((-1,) + (1,) * (w.dim() - 1))

    def scale(self, w):
        """U: float32(2 max|w|) rounded to 24 - M significant bits, so that
        the two-word values are exact in float32 (stlq_grid.exact_scale);
        per channel, each U_c."""
        u = self.raw_scale(w)
        if not self.per_channel:
            return stlq_grid.exact_scale(u, self.bits)
        return torch.from_numpy(stlq_grid.exact_scale(u.numpy(), self.bits))

    def right_inverse(self, w):
        return w / self.unit

    def latent(self, p):
        """The latent weight of the trained parameter p."""
        return p * self.unit

    def forward(self, w):
        w = self.latent(w)
        if self.mode == "float":
            return w
        u = self.raw_scale(w) if self.mode == "once" else self.scale(w)
        w64 = w.double()
        wd = w64.detach()
        q1 = log_q(wd, u, self.bits)
        r1 = wd - q1
        if self.mode == "train":
            s = self.C.double()[self.idx] + self.v.double()[self.idx]
        else:
            s = self.C.double()[self.idx]
        x2 = r1 * s
        q2 = log_q(x2.detach(), u, self.bits)
        if self.mode == "train":  # unselected tiles still using a 2nd word
            live = torch.zeros(len(self.sizes), dtype=torch.float64).index_add_(
                0, self.idx.reshape(-1), (q2 != 0).double().reshape(-1)) > 0
            self.live = int((live & ~self.C).sum())
        val = q1 + q2
        if self.mode != "once":
            val = stlq_q(val, u, self.bits)  # a fixed point of the rule
        # Value val exactly; gradient 1 to w and r1 (per tile) to v.
        return (val + (w64 - wd) + (x2 - x2.detach())).float()

    @torch.no_grad()
    def clean_v(self):
        self.v.clamp_(0.0, 1.0)
        self.v[self.v.abs() < EPS] = 0.0
        self.v[self.C] = 0.0

    def ratio(self):
        return float(self.sizes[self.C.numpy()].sum()) / float(self.idx.numel())


def quantized_layers(model):
    return [m for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]


def set_mode(stlqs, mode):
    for s in stlqs:
        s.mode = mode


# ---------------------------------------------------------------------------
# 8-bit activation fake quantization (lowbitc's activation Q/DQ points)
# ---------------------------------------------------------------------------

class ActQuant(nn.Module):
    """Per-tensor asymmetric fake quantization of an activation, as lowbitc
    quantizes it: range [lo, hi] containing 0, scale S = (hi - lo) /
    (2^bits - 1), zero point round(qmin - lo / S), codes clamped to
    [qmin, qmax] (signed), straight-through gradient inside the range
    (torch.fake_quantize_per_tensor_affine). In training the range is an
    exponential moving average of the batch min / max (momentum `mom`, the
    first batch sets it) and is frozen in eval. Disabled (identity) unless
    `on`."""

    def __init__(self, bits, mom):
        super().__init__()
        self.bits, self.mom, self.on = bits, mom, False
        self.register_buffer("lo", torch.zeros(()))
        self.register_buffer("hi", torch.zeros(()))
        self.register_buffer("seen", torch.zeros((), dtype=torch.bool))

    def forward(self, x):
        if not self.on:
            return x
        if self.training:
            with torch.no_grad():
                lo = torch.clamp(x.min(), max=0.0)
                hi = torch.clamp(x.max(), min=0.0)
                if not bool(self.seen):
                    self.lo.copy_(lo)
                    self.hi.copy_(hi)
                    self.seen.fill_(True)
                else:
                    self.lo.lerp_(lo, self.mom)
                    self.hi.lerp_(hi, self.mom)
        qmin, qmax = -(1 << (self.bits - 1)), (1 << (self.bits - 1)) - 1
        scale = float(self.hi - self.lo) / (qmax - qmin)
        if not scale > 0.0:
            return x
        zp = int(min(qmax, max(qmin, round(qmin - float(self.lo) / scale))))
        return torch.fake_quantize_per_tensor_affine(x, scale, zp, qmin, qmax)


def attach_act_quant(model, bits, mom):
    """ActQuants where lowbitc quantizes activations in this model (every
    tensor a conv / Gemm / pool consumes, and the output): after both
    PReLU+MaxPool stages' PReLU (a max pool keeps its input's grid), after
    the depthwise conv's ReLU, after the average pool, after the hidden
    Linear's PReLU, and on the logits. The input (k / 255) is on its grid
    already. Returns them (disabled)."""
    f, c = model.features, model.classifier
    assert isinstance(f[2], nn.PReLU) and isinstance(f[6], nn.PReLU)
    assert isinstance(f[10], nn.ReLU) and isinstance(f[11], nn.AvgPool2d)
    assert isinstance(c[2], nn.PReLU) and isinstance(c[3], nn.Linear)
    aqs = []
    for seq, i in ((f, 2), (f, 6), (f, 10), (f, 11), (c, 2), (c, 3)):
        aq = ActQuant(bits, mom)
        seq[i] = nn.Sequential(seq[i], aq)
        aqs.append(aq)
    return aqs


def set_act_quant(aqs, on):
    for a in aqs:
        a.on = on


# ---------------------------------------------------------------------------
# Setup, fine-tuning, export, self-check
# ---------------------------------------------------------------------------

def attach_stlq(model, bits, tile, ratio, per_channel=False):
    """Registers an STLQWeight on every Conv2d and Linear weight (selection
    and v0 from the current weights); returns the layers and their STLQs."""
    layers = quantized_layers(model)
    stlqs = []
    for m in layers:
        s = STLQWeight(m.weight, bits, tile, ratio, per_channel)
        parametrize.register_parametrization(m, "weight", s)
        stlqs.append(s)
    return layers, stlqs


def finetune(model, layers, stlqs, train_x, train_y, args, test=None,
             aqs=()):
    """Eq. 7-8 training; returns (steps, the last step after which v was
    not 0 everywhere, the last step whose forward used a second word
    outside C (LogQ(r1 v) != 0 on an unselected tile), wall seconds, CPU
    seconds); 0 for never. Prints a line per epoch."""
    v_params = [s.v for s in stlqs]
    groups = []
    for m, s in zip(layers, stlqs):  # Adam steps relative to the layer's U
        w = m.parametrizations.weight.original  # per channel: w / unit
        lr = args.lr if s.per_channel else args.lr * s.scale(w)
        groups.append({"params": [w], "lr": lr})
    latent = set(id(g["params"][0]) for g in groups) | set(map(id, v_params))
    others = [p for p in model.parameters() if id(p) not in latent]
    groups.append({"params": others, "lr": args.lr})
    opt_w = torch.optim.Adam(groups)
    opt_v = torch.optim.SGD(v_params, lr=args.lr_v)
    steps_per_epoch = -(-len(train_x) // args.batch)
    total = args.epochs * steps_per_epoch
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt_w, lambda k: 0.5 * (1 + np.cos(np.pi * k / max(1, total))))
    loss_fn = nn.CrossEntropyLoss()
    rng = np.random.RandomState(args.seed)

    def v_live():
        return any(bool((s.v != 0).any()) for s in stlqs)

    last_v = last_word = 0
    unsel = sum(int((~s.C).sum()) for s in stlqs)
    t0, c0 = time.time(), time.process_time()
    step = 0
    set_act_quant(aqs, True)
    for epoch in range(args.epochs):
        set_mode(stlqs, "train")
        model.train()
        te = time.process_time()
        perm = rng.permutation(len(train_x))
        tot_task = tot_reg = 0.0
        for i in range(0, len(perm), args.batch):
            idx = perm[i:i + args.batch]
            opt_w.zero_grad()
            opt_v.zero_grad()
            out = model(torch.from_numpy(train_x[idx]))
            task = loss_fn(out, torch.from_numpy(train_y[idx]))
            reg = sum((v * v).sum() for v in v_params)
            (task + args.lam * reg).backward()
            opt_w.step()
            opt_v.step()
            sched.step()
            for s in stlqs:
                s.clean_v()
            step += 1
            tot_task += float(task)
            tot_reg += float(reg)
            if v_live():
                last_v = step
            if any(s.live for s in stlqs):
                last_word = step
        te = time.process_time() - te
        nonzero = sum(int((s.v != 0).sum()) for s in stlqs)
        vmax = max(float(s.v.max()) for s in stlqs)
        line = ("  epoch %d: loss %.4f, ||v||^2 %.3f; of %d unselected tiles "
                "%d have v > 0 (max %.3f), %d still use a 2nd word"
                % (epoch + 1, tot_task / steps_per_epoch,
                   tot_reg / steps_per_epoch, unsel, nonzero, vmax,
                   sum(s.live for s in stlqs)))
        if test is not None:
            set_mode(stlqs, "final")
            line += ("; test accuracy with v = 0%s: %.4f"
                     % (", %d-bit activations" % args.act_bits if aqs
                        else "", accuracy(model, *test)))
        print(line + " (%.0f s CPU)" % te, flush=True)
    set_mode(stlqs, "final")
    return (total, last_v, last_word, time.time() - t0,
            time.process_time() - c0)


def export(src, model, pairs, layers, path):
    """The original graph with every mapped initializer replaced by the
    module's current value (the STLQ value for quantized weights)."""
    originals = {id(m.parametrizations.weight.original): m for m in layers}
    values = {}
    with torch.no_grad():
        for p, name in pairs:
            if id(p) in originals:
                p = originals[id(p)].weight
            values[name] = p.detach().numpy().astype(np.float32)
    out = onnx.ModelProto()
    out.CopyFrom(src)
    inits = [numpy_helper.from_array(values[t.name].reshape(tuple(t.dims)),
                                     t.name) for t in out.graph.initializer]
    del out.graph.initializer[:]
    out.graph.initializer.extend(inits)
    onnx.checker.check_model(out)
    onnx.save(out, path)
    return values


def self_check(path, src, names, layers, stlqs, values, args):
    """Re-quantizes the exported weights in NumPy (stlq_grid): r2 == 0
    everywhere, U = float32(2 max|w~|) equals the training U, the tiles
    holding a second word are exactly C, and the exported values are the
    NumPy rule applied to the latent weights. Returns (ok, model)."""
    saved = onnx.load(path)
    same_graph = ([n.SerializeToString() for n in saved.graph.node]
                  == [n.SerializeToString() for n in src.graph.node]
                  and saved.graph.input == src.graph.input
                  and saved.graph.output == src.graph.output
                  and saved.opset_import == src.opset_import)
    print("  graph, inputs, outputs and opset identical to %s: %s"
          % (os.path.basename(args.model), "yes" if same_graph else "NO"))
    ok = same_graph
    by_name = dict(zip(names, zip(layers, stlqs)))
    print("  %-20s %-9s %8s %9s %8s %s"
          % ("weight", "grid", "max|r2|", "2w tiles", "ratio", "mask == C"))
    for op, name, shape, r in stlq_grid.check_model(saved, args.bits,
                                                    args.tile,
                                                    args.per_channel):
        m, s = by_name[name]
        lat_t = s.latent(m.parametrizations.weight.original.detach())
        lat = lat_t.double().numpy()
        u = r["u"]
        su = s.scale(lat_t)
        same_u = np.array_equal(np.asarray(u), np.asarray(su))
        mask_ok = np.array_equal(r["mask"].ravel(), s.C.numpy())
        # The torch quantizer against the NumPy rule on the latent weights.
        q1 = stlq_grid.log_dequantize(stlq_grid.log_quantize(lat, u, args.bits),
                                      u)
        two = s.C.numpy()[s.idx.numpy()]
        expect = stlq_grid.stlq_value(
            np.where(two, stlq_grid.stlq_value(lat, u, args.bits), q1),
            u, args.bits)
        same_vals = np.array_equal(expect.astype(np.float32), values[name])
        ok &= (r["grid"] != "off" and r["max_r2"] == 0.0 and mask_ok
               and same_u and same_vals)
        mask = r["mask"].ravel()
        c = s.C.numpy()
        print("  %-20s %-9s %8.1g %4d/%-4d %8.4f %s%s%s"
              % (name, r["grid"], r["max_r2"], r["two_word_tiles"],
                 r["tiles"], r["ratio"], "yes" if mask_ok else
                 "NO (%d selected tiles have no 2nd word, %d others have one)"
                 % (int((c & ~mask).sum()), int((mask & ~c).sum())),
                 "" if same_u else "  (U differs from training's!)",
                 "" if same_vals else "  (torch != NumPy rule!)"))
    return ok, saved


def parse_args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bits", type=int, default=3)
    ap.add_argument("--ratio", type=float, default=0.15,
                    help="two-word ratio R over each layer's weights")
    ap.add_argument("--tile", type=stlq_grid.parse_tile, default=(16, 16),
                    help="Tn x Tm: inputs x outputs per tile (default 16x16)")
    ap.add_argument("--epochs", type=int, default=4)
    ap.add_argument("--lambda", dest="lam", type=float, default=0.5,
                    help="weight of ||v||^2 in the loss (eq. 7)")
    ap.add_argument("--lr", type=float, default=1e-3,
                    help="Adam learning rate (cosine decay); for the "
                    "quantized weights it is relative to the layer's U")
    ap.add_argument("--lr-v", type=float, default=0.01,
                    help="SGD learning rate of v")
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--per-tensor", action="store_true",
                    help="one U per layer (for lowbitc --per-tensor-weights)"
                    "; default one per output channel (lowbitc's default)")
    ap.add_argument("--act-bits", type=int, default=8,
                    help="fake-quantize activations to this many bits "
                    "where lowbitc quantizes them, during fine-tuning "
                    "(0: float activations)")
    ap.add_argument("--act-momentum", type=float, default=0.01,
                    help="EMA momentum of the activation ranges")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--model", default=os.path.join(HERE, "fashion_cnn.onnx"))
    ap.add_argument("--out", default=os.path.join(HERE, "fashion_cnn_stlq.onnx"))
    args = ap.parse_args(argv)
    args.per_channel = not args.per_tensor
    if not 2 <= args.bits <= 4:
        # U must have <= 24 - M significant bits for the two-word values to
        # be float32 numbers, and the largest weight's residual after that
        # rounding (< 2^-(24-M) U) must stay below the smallest level
        # 2^-(M+1) U so that it exports as exactly U / 2: M < 12.
        ap.error("--bits must be in [2, 4]")
    if not 0.0 <= args.ratio <= 1.0:
        ap.error("--ratio must be in [0, 1]")
    if args.act_bits and not 2 <= args.act_bits <= 16:
        ap.error("--act-bits must be 0 or in [2, 16]")
    if not 0.0 < args.act_momentum <= 1.0:
        ap.error("--act-momentum must be in (0, 1]")
    return args


def load_float(path):
    """(ONNX model, torch module with its weights, [(param, init name)])."""
    src = onnx.load(path)
    model = folded_cnn()
    pairs = load_onnx_weights(model, src)
    model.eval()
    return src, model, pairs


def main(argv=None):
    args = parse_args(argv)
    torch.manual_seed(args.seed)
    torch.set_num_threads(1)
    t_start, c_start = time.time(), time.process_time()
    train_x, train_y = data.load("train")
    test_x, test_y = data.load("test")

    # 1. The float model: ONNX initializers mapped onto train.py's module.
    src, model, pairs = load_float(args.model)
    ref = onnx_logits(src, test_x)
    mine = logits(model, test_x)
    onnx_acc = float((ref.argmax(1).numpy() == test_y).mean())
    float_acc = float((mine.argmax(1).numpy() == test_y).mean())
    print("float model: %d ONNX initializers mapped onto train.FashionCNN "
          "(BatchNorm folded into the convs, as in the ONNX)" % len(pairs))
    print("  torch module vs ONNX graph on the 10000 test images: max |logit "
          "diff| %.2e, %d argmax differ"
          % (float((mine - ref).abs().max()),
             int((mine.argmax(1) != ref.argmax(1)).sum())))
    print("  float accuracy: ONNX graph %.4f, torch module %.4f"
          % (onnx_acc, float_acc))

    # 2. STLQ parametrizations, selection C and v0 from the float weights.
    layers, stlqs = attach_stlq(model, args.bits, args.tile, args.ratio,
                                args.per_channel)
    names = [name for p, name in pairs for m in layers
             if p is m.parametrizations.weight.original]
    print("\n%d-bit STLQ, R = %.2f, tile %dx%d (inputs x outputs), one U per "
          "%s:" % (args.bits, args.ratio, *args.tile,
                   "output channel (U: their range)" if args.per_channel
                   else "layer"))
    print("  %-20s %-10s %11s %6s %8s %7s %s"
          % ("layer", "shape", "U", "tiles", "2-word", "ratio", "v0"))
    for m, s, name in zip(layers, stlqs, names):
        w = s.latent(m.parametrizations.weight.original.detach())
        vu = s.v[~s.C]
        su = s.scale(w)
        su = ("%.7g" % su if not args.per_channel else
              "%.4g-%.4g" % (float(su.min()), float(su.max())))
        print("  %-20s %-10s %11s %6d %8d %7.4f %s"
              % (name, "x".join(map(str, w.shape)), su, len(s.sizes),
                 int(s.C.sum()), s.ratio(),
                 "[%.3f, %.3f]" % (float(vu.min()), float(vu.max()))
                 if len(vu) else "-"))
    total_w = sum(s.idx.numel() for s in stlqs)
    sel_w = sum(float(s.sizes[s.C.numpy()].sum()) for s in stlqs)
    print("  all %d weights: two-word ratio %.4f" % (total_w, sel_w / total_w))

    aqs = (attach_act_quant(model, args.act_bits, args.act_momentum)
           if args.act_bits else [])

    # 3. Post-training STLQ (no training): same selection, v = 0.
    set_mode(stlqs, "once")
    ptq_once = accuracy(model, test_x, test_y)
    set_mode(stlqs, "final")
    ptq = accuracy(model, test_x, test_y)
    saved_c = [s.C.clone() for s in stlqs]
    for s in stlqs:
        s.C.fill_(False)
    one_word = accuracy(model, test_x, test_y)
    for s in stlqs:
        s.C.fill_(True)
    stlq_max = accuracy(model, test_x, test_y)
    for s, c in zip(stlqs, saved_c):
        s.C.copy_(c)
    print("\npost-training (no fine-tuning), float activations:")
    print("  %d-bit one word (R = 0)                            %.4f"
          % (args.bits, one_word))
    print("  %d-bit STLQ, R = %.2f, rule once (lowbitc on float) %.4f"
          % (args.bits, args.ratio, ptq_once))
    print("  %d-bit STLQ, R = %.2f, rule twice (re-quant stable) %.4f"
          % (args.bits, args.ratio, ptq))
    print("  %d-bit STLQ_max (every tile two words)             %.4f"
          % (args.bits, stlq_max))

    # 4. STLQ-aware fine-tuning.
    print("\nfine-tuning: %d epochs x %d steps, batch %d, Adam lr %g "
          "(x %s for the quantized weights; cosine), v by SGD lr %g, "
          "lambda %g, eps %g, one thread"
          % (args.epochs, -(-len(train_x) // args.batch), args.batch,
             args.lr, "2^ceil(log2 U_c)" if args.per_channel else "U",
             args.lr_v, args.lam, EPS), flush=True)
    if aqs:
        print("  with %d-bit fake-quantized activations at lowbitc's %d "
              "quantization points (straight-through, EMA ranges, momentum "
              "%g)" % (args.act_bits, len(aqs), args.act_momentum))
    total, last_v, last_word, train_wall, train_cpu = finetune(
        model, layers, stlqs, train_x, train_y, args, (test_x, test_y), aqs)
    print("  of %d steps, the last to use a second word outside C (LogQ(r1 v)"
          " != 0) was step %d; v = 0 on every unselected tile %s; now v = 0"
          % (total, last_word, "after step %d" % last_v if last_v < total
             else "never (max %.3f at the end)"
             % max(float(s.v.max()) for s in stlqs)))
    print("  time: %.1f s CPU, %.1f s wall (one thread, nice 19)"
          % (train_cpu, train_wall))

    # 5. v = 0 and the final exact weights.
    with torch.no_grad():
        for s in stlqs:
            s.v.zero_()
    set_mode(stlqs, "final")
    act_acc = accuracy(model, test_x, test_y) if aqs else None
    set_act_quant(aqs, False)
    trained_acc = accuracy(model, test_x, test_y)

    # 6. Export, 7. self-check.
    values = export(src, model, pairs, layers, args.out)
    print("\nself-check of %s (NumPy, U = float32(2 max|w|) of the exported "
          "weights):" % os.path.relpath(args.out))
    ok, saved = self_check(args.out, src, names, layers, stlqs, values, args)
    exported_acc = float((onnx_logits(saved, test_x).argmax(1).numpy()
                          == test_y).mean())
    ok &= exported_acc == trained_acc
    print("  exported ONNX graph accuracy %.4f (trained module %.4f)"
          % (exported_acc, trained_acc))
    print("  self-check: %s" % ("OK" if ok else "FAILED"))

    print("\nsummary (10000 Fashion-MNIST test images, float activations):")
    print("  float                                   %.4f" % float_acc)
    print("  post-training %d-bit STLQ, R = %.2f      %.4f"
          % (args.bits, args.ratio, ptq_once))
    print("  STLQ-aware fine-tuned %d-bit, R = %.2f   %.4f  (%d epochs, "
          "%.0f s CPU)" % (args.bits, args.ratio, trained_acc, args.epochs,
                           train_cpu))
    if aqs:
        print("    with %d-bit activations (fake quantization, EMA ranges) "
              "%.4f  (lowbitc calibrates its own)" % (args.act_bits, act_acc))
    print("  two-word ratio: %s; all %.4f"
          % (", ".join("%s %.4f" % (n, s.ratio())
                       for n, s in zip(names, stlqs)), sel_w / total_w))
    print("  script: %.0f s CPU, %.0f s wall; wrote %s"
          % (time.process_time() - c_start, time.time() - t_start,
             os.path.relpath(args.out)))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
