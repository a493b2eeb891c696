#!/usr/bin/python3
"""Checks whether an ONNX model's conv/Gemm weights lie on a log grid.

For every Conv and Gemm weight of MODEL.onnx (an initializer or a Constant),
with one scale per layer U = float32(2 * max|w|) (with --per-channel one per
output channel, U_c = float32(2 * max|w_c|), what lowbitc uses without
--per-tensor-weights), the weight is re-quantized with lowbit's log rule
(runtime/include/lowbit/runtime/LogQuant.h; paper
stlq-two-word-log-quantization eq. 1-4) in float64:

    q1 = LogQuant(w), r1 = w - LogDequant(q1),
    q2 = LogQuant(r1), r2 = r1 - LogDequant(q2)     (same U and bits)

The weight lies on the one-word grid when r1 == 0 everywhere, on the two-word
(STLQ) grid when r2 == 0 everywhere. Its tiles are Tn inputs x Tm outputs at
one kernel position of the OHWI layout (OI for Gemm), edge tiles smaller, as
in #lowbit.stlq; a tile uses two words when any of its weights has q2 != 0.
The two-word ratio is the share of the layer's weights in such tiles.

Prints one line per weight:

  stlq-grid: <op> <name> <OxIxKHxKW> U=<U> grid=<one-word|two-word|off>
      (per channel: U=[<min U_c>, <max U_c>])
      two-word tiles <k>/<T> ratio <r> [off-grid <n> max|r2|/U <e>]

and a last line `stlq-grid: <n> weights: <a> one-word, <b> two-word, <c> off`.
With --expect one-word|two-word the exit code is 1 when a weight is not on
that grid (a one-word weight counts as on the two-word grid).

Usage: stlq_grid.py MODEL.onnx [--bits 3] [--tile 16x16] [--per-channel]
                   [--expect GRID]
       stlq_grid.py --self-test [--bits 3]

Importable: log_quantize, log_dequantize, stlq_words, stlq_value,
layer_scale, channel_scale, exact_scale, to_oihw_tiles, tile_mask,
check_weight, check_model. Wherever a scale `u` is taken it may be a float
or an array that broadcasts against the weights (one U per output channel,
shape [O, 1, ...]).

Note: the rule's two-word values are not all fixed points of the rule. For
N-bit codes exactly one is not, -(2^-(M-1) + 2^-M) U (-0.1875 U at 3 bits,
words -3,-4), which re-quantizes to -2^-(M-2) U + 2^-(M-1) U with r2 =
-2^-M U; this checker reports such a weight as off the grid, since lowbitc
re-quantizing it would change it (--self-test lists it). Two-word values
are exact in float32 only when U has at most 24 - M significant bits
(exact_scale); with any other U most of them round and show as off the grid
by about 1e-8 U.

Must run under Debian's /usr/bin/python3 (numpy, onnx).
"""

import argparse
import sys

import numpy as np


# ---------------------------------------------------------------------------
# The log rule (mirror of lowbit::rt::logQuantize / logDequantize)
# ---------------------------------------------------------------------------

def log_quantize(x, u, bits):
    """Signed log codes (int64 array) of `x` for `bits`-bit codes, scale `u`.

    Nearest level in the linear domain: |x|/U >= 1/2 -> exponent 1; below
    the smallest magnitude 2^-hi, that or 0 whichever is nearer; otherwise
    a = f 2^p (f in [0.5, 1)), exponent 1 - p if f < 0.75 else -p (ties to
    the larger magnitude). hi = M - 1 for x > 0 and M for x < 0,
    M = 2^(bits-1). Computed in float64 like the C++ (double a = |x| / u)."""
    x = np.asarray(x, np.float64)
    u = np.asarray(u, np.float64)
    m = 1 << (bits - 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        a = np.where(u > 0.0, np.abs(x) / np.where(u > 0.0, u, 1.0), 0.0)
    hi = np.where(x > 0, m - 1, m).astype(np.int64)
    f, p = np.frexp(a)
    e = np.where(f < 0.75, 1 - p, -p).astype(np.int64)
    e = np.where(a < np.ldexp(1.0, -hi), hi, e)
    e = np.where(a >= 0.5, 1, e)
    zero = ~(a > 0.0) | (a < np.ldexp(1.0, -hi - 1))
    q = np.where(x > 0, e, -e)
    return np.where(zero, 0, q).astype(np.int64)


def log_dequantize(q, u):
    """Real values (float64) of log codes `q` with scale `u`."""
    q = np.asarray(q, np.int64)
    mag = np.ldexp(np.asarray(u, np.float64), -np.abs(q))
    return np.where(q == 0, 0.0, np.where(q < 0, -mag, mag))


def stlq_words(w, u, bits):
    """(q1, q2, r2): both words of every weight and the remaining residual."""
    w = np.asarray(w, np.float64)
    q1 = log_quantize(w, u, bits)
    r1 = w - log_dequantize(q1, u)
    q2 = log_quantize(r1, u, bits)
    r2 = r1 - log_dequantize(q2, u)
    return q1, q2, r2


def stlq_value(w, u, bits, stable=False):
    """LogDequant(q1) + LogDequant(q2) of every weight (float64). With
    stable=True the rule is applied twice, which lands on a value that
    re-quantizes to itself (see self_test): what a model exported for
    lowbitc to re-quantize must hold."""
    q1, q2, _ = stlq_words(w, u, bits)
    v = log_dequantize(q1, u) + log_dequantize(q2, u)
    if stable:
        q1, q2, _ = stlq_words(v, u, bits)
        v = log_dequantize(q1, u) + log_dequantize(q2, u)
    return v


def exact_scale(u, bits):
    """`u` rounded to nearest with 24 - M significant bits (M = 2^(bits-1)),
    so that every two-word value u (+-2^-e1 +- 2^-e2), e1, e2 in [1, M], is
    exact in float32 (2^-e1 +- 2^-e2 has at most M significant bits). A
    model exported with STLQ weights as float32 must use such a scale;
    one-word values u 2^-e are exact for any float32 u. For the largest
    weight w to export as exactly u / 2 (so that u = 2 max|w~|), its residual
    after the rounding (|2w - u| / 2 <= 2^-(25-M) u) must round to 0, i.e.
    lie below 2^-(M+1) u: bits <= 4. An array `u` is rounded element by
    element (an array of float64 is returned)."""
    import math
    m = 1 << (bits - 1)
    k = 24 - m
    if k < 1:
        raise ValueError("%d-bit two-word values do not fit float32" % bits)
    if np.ndim(u):
        f, e = np.frexp(np.asarray(u, np.float64))
        return np.ldexp(np.rint(np.ldexp(f, k)), e - k)  # 0 stays 0
    if not u > 0.0:
        return float(u)
    f, e = math.frexp(float(u))
    return math.ldexp(round(math.ldexp(f, k)), e - k)


def layer_scale(w):
    """U = float32(2 * max|w|), as a Python float."""
    return float(np.float32(2.0) * np.max(np.abs(np.asarray(w, np.float32))))


def channel_scale(w):
    """U_c = float32(2 * max|w_c|) per output channel (dimension 0), as
    float64 of shape [O, 1, ...]."""
    w = np.abs(np.asarray(w, np.float32))
    m = w.reshape(w.shape[0], -1).max(axis=1) if w.size else np.zeros(0)
    u = np.float32(2.0) * m.astype(np.float32)
    return u.astype(np.float64).reshape((w.shape[0],) + (1,) * (w.ndim - 1))


# ---------------------------------------------------------------------------
# Tiles
# ---------------------------------------------------------------------------

def parse_tile(text):
    """'16x16' -> (Tn, Tm) = (inputs, outputs)."""
    try:
        tn, tm = (int(t) for t in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError("tile must be TnxTm, e.g. 16x16")
    if tn < 1 or tm < 1:
        raise argparse.ArgumentTypeError("tile sizes must be positive")
    return tn, tm


def to_oihw_tiles(shape, tile):
    """Tile index of every element of a weight of `shape` ([O, I, KH, KW] or
    [O, I]) in the #lowbit.stlq mask order [ceil(O/Tm), KH, KW, ceil(I/Tn)]
    (flattened), plus the mask shape and the number of weights per tile."""
    tn, tm = tile
    o, i = shape[0], shape[1]
    k = tuple(shape[2:])
    to, ti = -(-o // tm), -(-i // tn)
    mask_shape = (to,) + k + (ti,)
    oo = np.arange(o).reshape((o, 1) + (1,) * len(k)) // tm
    ii = np.arange(i).reshape((1, i) + (1,) * len(k)) // tn
    kk = np.zeros((1, 1) + k, np.int64)
    if k:
        kk = np.ravel_multi_index(np.indices(k), k).reshape((1, 1) + k)
    nk = int(np.prod(k)) if k else 1
    idx = (oo * nk + kk) * ti + ii
    idx = np.broadcast_to(idx, tuple(shape)).astype(np.int64)
    sizes = np.bincount(idx.ravel(), minlength=to * nk * ti)
    return idx, mask_shape, sizes


def tile_mask(nonzero, tile):
    """Per tile (mask order, see to_oihw_tiles): any element set."""
    idx, mask_shape, _ = to_oihw_tiles(nonzero.shape, tile)
    count = np.bincount(idx.ravel(), weights=nonzero.ravel().astype(np.float64),
                        minlength=int(np.prod(mask_shape)))
    return (count > 0).reshape(mask_shape)


# ---------------------------------------------------------------------------
# Checking weights and models
# ---------------------------------------------------------------------------

def check_weight(w, bits, tile, u=None, per_channel=False):
    """Re-quantizes weight `w` ([O, I, KH, KW] or [O, I]) with scale `u`
    (default: layer_scale, or channel_scale with per_channel) and returns a
    dict: u, grid ('one-word', 'two-word' or 'off'), mask (two-word tiles),
    two_word_tiles, tiles, ratio (share of weights in two-word tiles),
    off (elements with r2 != 0), max_r2 (max |r2| / U), q1, q2."""
    w = np.asarray(w, np.float32)
    if u is None:
        u = channel_scale(w) if per_channel else layer_scale(w)
    q1, q2, r2 = stlq_words(w, u, bits)
    off = int(np.count_nonzero(r2))
    if off:
        grid = "off"
    elif np.any(q2 != 0):
        grid = "two-word"
    else:
        grid = "one-word"
    _, _, sizes = to_oihw_tiles(w.shape, tile)
    mask = tile_mask(q2 != 0, tile)
    return {
        "u": u, "grid": grid, "mask": mask,
        "two_word_tiles": int(mask.sum()), "tiles": int(mask.size),
        "ratio": float(sizes[mask.ravel()].sum()) / w.size if w.size else 0.0,
        "off": off, "max_r2": float(np.max(np.where(
            u > 0, np.abs(r2) / np.where(u > 0, u, 1.0), 0.0), initial=0.0)),
        "q1": q1, "q2": q2,
    }


def model_weights(model):
    """[(op_type, node name, weight name, array in [O, I, ...] layout)] for
    every Conv and Gemm whose weight is an initializer or a Constant."""
    from onnx import numpy_helper

    consts = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
    for n in model.graph.node:
        if n.op_type == "Constant":
            for a in n.attribute:
                if a.name == "value":
                    consts[n.output[0]] = numpy_helper.to_array(a.t)
    out = []
    for n in model.graph.node:
        if n.op_type not in ("Conv", "Gemm") or len(n.input) < 2:
            continue
        if n.input[1] not in consts:
            continue
        w = consts[n.input[1]]
        if n.op_type == "Gemm":
            trans_b = 0
            for a in n.attribute:
                if a.name == "transB":
                    trans_b = a.i
            if not trans_b:        # B is [K, N]: outputs on dimension 1
                w = w.T
        out.append((n.op_type, n.name, n.input[1], w))
    return out


def check_model(path_or_model, bits=3, tile=(16, 16), per_channel=False):
    """[(op_type, weight name, shape, check_weight result)] for a model."""
    import onnx

    model = path_or_model
    if isinstance(path_or_model, str):
        model = onnx.load(path_or_model)
    return [(op, name, w.shape, check_weight(w, bits, tile,
                                             per_channel=per_channel))
            for op, _, name, w in model_weights(model)]


def format_result(op, name, shape, r):
    u = ("%.9g" % r["u"] if not np.ndim(r["u"]) else
         "[%.9g, %.9g]" % (np.min(r["u"]), np.max(r["u"])))
    line = ("stlq-grid: %s %s %s U=%s grid=%s two-word tiles %d/%d ratio %.4f"
            % (op, name, "x".join(str(d) for d in shape), u, r["grid"],
               r["two_word_tiles"], r["tiles"], r["ratio"]))
    if r["off"]:
        line += " off-grid %d max|r2|/U %.3g" % (r["off"], r["max_r2"])
    return line


def self_test(bits):
    """Properties of the two-word rule that the grid check relies on, over
    every sum of two code values (U = 1):
      - every one-word value re-quantizes to itself with r1 == 0;
      - re-quantizing twice is a projection: P(P(y)) == P(y), where
        P(y) = LogDequant(q1) + LogDequant(q2) of y; so P(P(w)) always lies
        on the grid (stlq_value(..., stable=True)).
    Prints the two-word values the rule emits that do NOT re-quantize to
    themselves (for every width one: -(2^-(M-1) + 2^-M) U, whose first word
    re-quantizes to the tie 0.75 * 2^-(M-2) -> -2^-(M-2) and whose residual
    +2^-M ties up to +2^-(M-1))."""
    m = 1 << (bits - 1)
    one = log_dequantize(np.arange(-m, m), 1.0)
    q1, q2, r2 = stlq_words(one, 1.0, bits)
    assert np.all(r2 == 0) and np.all(q2 == 0), "one-word values"
    assert np.all(log_dequantize(q1, 1.0) == one), "one-word codes"
    y = np.unique((one[:, None] + one[None, :]).ravel())
    y = y[np.abs(y) <= 0.5]
    p = stlq_value(y, 1.0, bits)
    assert np.all(stlq_value(p, 1.0, bits) == p), "P(P(y)) != P(y)"
    unstable = []
    for v in y[p != y]:
        # Emitted by the rule if some x next to v quantizes to v.
        xs = (v, v * (1 - 1e-12), v * (1 + 1e-12))
        if np.any(stlq_value(np.array(xs), 1.0, bits) == v):
            q1, q2, _ = stlq_words(np.array([v]), 1.0, bits)
            unstable.append("%.9g U re-quantizes to words %+d,%+d = %.9g U"
                            % (v, q1[0], q2[0],
                               stlq_value(np.array([v]), 1.0, bits)[0]))
    # The tile order of #lowbit.stlq masks: [ceil(O/Tm), KH, KW, ceil(I/Tn)].
    idx, shape, sizes = to_oihw_tiles((20, 17, 3, 2), (16, 16))
    assert shape == (2, 3, 2, 2) and sizes.sum() == 20 * 17 * 6
    assert idx[17, 16, 2, 1] == np.ravel_multi_index((1, 2, 1, 1), shape)
    print("stlq-grid: self-test OK (%d-bit: %d values on the grid; emitted "
          "by the rule but not on it: %s)"
          % (bits, len(np.unique(p)), "; ".join(unstable) or "none"))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("model", nargs="?")
    ap.add_argument("--bits", type=int, default=3)
    ap.add_argument("--tile", type=parse_tile, default=(16, 16),
                    help="Tn x Tm: inputs x outputs per tile (default 16x16)")
    ap.add_argument("--per-channel", action="store_true",
                    help="one U per output channel (default: per layer)")
    ap.add_argument("--expect", choices=["one-word", "two-word"])
    ap.add_argument("--self-test", action="store_true")
    args = ap.parse_args(argv)
    if not 2 <= args.bits <= 16:
        ap.error("--bits must be in [2, 16]")
    if args.self_test:
        self_test(args.bits)
        return 0
    if not args.model:
        ap.error("MODEL.onnx is required")
    results = check_model(args.model, args.bits, args.tile, args.per_channel)
    counts = {"one-word": 0, "two-word": 0, "off": 0}
    for op, name, shape, r in results:
        print(format_result(op, name, shape, r))
        counts[r["grid"]] += 1
    print("stlq-grid: %d weights: %d one-word, %d two-word, %d off"
          % (len(results), counts["one-word"], counts["two-word"],
             counts["off"]))
    bad = counts["off"]
    if args.expect == "one-word":
        bad += counts["two-word"]
    return 1 if bad and args.expect else 0


if __name__ == "__main__":
    sys.exit(main())
