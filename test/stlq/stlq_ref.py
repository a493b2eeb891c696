"""An independent NumPy reference of STLQ (selective two-word log quantization).

stlq-two-word-log-quantization sections 3 and 4.4, with lowbit's one-word
rounding rule (runtime/include/lowbit/runtime/LogQuant.h), written here from
its specification, vectorized, without reading lowbit's C++ quantizer:

  * An N-bit code q, M = 2^(N-1), stands for 0 (q = 0) or sign(q) U 2^-|q|;
    |q| in [1, M-1] for x > 0 and [1, M] for x < 0.
  * Quantizing picks the nearest level in the linear domain, exact ties to
    the larger magnitude; 0 and NaN give code 0.
  * STLQ (eq. 3-4): q1 = LogQuant(x), r1 = x - deq(q1), q2 = LogQuant(r1)
    (same U and bits), decoded deq(q1) + deq(q2) in two-word tiles and
    deq(q1) elsewhere (q2 = 0 there).
  * Tiles are [Tn inputs x Tm outputs] at one kernel position of the integer
    op's logical [O, KH, KW, I] layout; they are ranked by ||r1||_2 and the
    top ones up to the ratio R of the weights (nearest count) get two words.

Everything is computed in float64 from the float32 weights; decoded values are
returned as float32.

Summation orders (they matter only for last-bit ties between different sums):
the squared errors of the U search are accumulated sequentially in the flat
order of the values handed to choose_scale, and the squared residuals of a
tile (or filter) sequentially in the logical (o, ky, kx, i) row-major order.
Tiles are ranked by those sums of squares (the order of ||r1||_2 without
the ties that rounded square roots could add).
"""

import math

import numpy as np

KINDS = ("conv", "depthwise", "matmul")

# U candidates of log-scale=mse: float32(maxAbs * 2^(t/32)) for t in this range.
MSE_T_FIRST, MSE_T_LAST = -16, 48
# At most about this many weights take part in the U search (every stride-th).
MSE_SAMPLE = 65536


# ---------------------------------------------------------------------------
# One word
# ---------------------------------------------------------------------------

def max_exponent(x, bits):
    """Largest exponent on the side of x's sign: M-1 for x > 0, else M."""
    m = 1 << (bits - 1)
    return np.where(np.asarray(x) > 0, m - 1, m).astype(np.int64)


def log_quantize(x, u, bits):
    """Nearest `bits`-bit log codes (int32 array) of x with scale(s) u.

    x and u broadcast against each other; both are taken as float64.
    """
    if not 2 <= bits <= 30:
        raise ValueError("bits must be in [2, 30], got %r" % (bits,))
    x = np.asarray(x, dtype=np.float64)
    u = np.asarray(u, dtype=np.float64)
    x, u = np.broadcast_arrays(x, u)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        a = np.abs(x) / u
    hi = max_exponent(x, bits)
    smallest = np.ldexp(1.0, -hi)           # 2^-hi
    half_smallest = np.ldexp(1.0, -hi - 1)  # 2^-(hi+1)
    # Inside the grid: a = f 2^p, f in [0.5, 1), between 2^(p-1) (exponent
    # 1-p) and 2^p (exponent -p); the midpoint is 0.75 2^p, ties go up.
    f, p = np.frexp(np.where(np.isfinite(a), a, 0.0))
    p = p.astype(np.int64)
    e_inside = np.where(f < 0.75, 1 - p, -p)
    e = np.where(a >= 0.5, 1, np.where(a < smallest, hi, e_inside))
    zero = ~(a > 0.0) | ~(u > 0.0) | ((a < 0.5) & (a < half_smallest))
    q = np.where(zero, 0, np.where(x > 0, e, -e))
    return q.astype(np.int32)


def log_dequantize(q, u):
    """Real values (float64) of log codes q with scale(s) u."""
    q = np.asarray(q, dtype=np.int64)
    u = np.asarray(u, dtype=np.float64)
    q, u = np.broadcast_arrays(q, u)
    e = np.abs(q)
    with np.errstate(over="ignore", under="ignore"):
        v = np.ldexp(u, -np.where(q == 0, 0, e))
    return np.where(q == 0, 0.0, np.where(q < 0, -v, v))


def max_abs(values):
    """max |w| as lowbit reads it: NaNs are skipped (std::max keeps the
    running maximum when compared against NaN), infinities count."""
    a = np.abs(np.asarray(values, dtype=np.float64)).ravel()
    a = a[~np.isnan(a)]
    return float(a.max()) if a.size else 0.0


def _sequential_sum(x, axis=-1):
    """Sum accumulated left to right (as a C loop does), not pairwise."""
    x = np.asarray(x, dtype=np.float64)
    if x.shape[axis] == 0:
        return np.sum(x, axis=axis)
    return np.take(np.cumsum(x, axis=axis), -1, axis=axis)


def mse_candidates(m):
    """The float32 U candidates of log-scale=mse for max|w| = m (float64)."""
    return np.array([float(np.float32(m * math.exp2(t / 32.0)))
                     for t in range(MSE_T_FIRST, MSE_T_LAST + 1)])


def choose_scale(values, bits, mode):
    """The scale U (a float32 value, returned as a Python float) of `values`
    (the weights of a layer or of one channel, in flat order).

    mode 'max': U = float32(2 max|w|). mode 'mse': the candidate
    float32(max|w| 2^(t/32)), t in [-16, 48], whose one-word nearest codes
    have the least squared error over every stride-th value
    (stride = max(1, n // 65536)); the first minimum wins. A max|w| of 0 or
    not finite gives U = 1.
    """
    values = np.asarray(values, dtype=np.float32).ravel()
    m = max_abs(values)
    if not (m > 0 and math.isfinite(m)):
        return 1.0
    if mode == "max":
        return float(np.float32(2.0 * m))
    if mode != "mse":
        raise ValueError("log-scale must be 'max' or 'mse', got %r" % (mode,))
    stride = max(1, values.size // MSE_SAMPLE)
    sample = values[::stride].astype(np.float64)
    cands = mse_candidates(m)
    errs = np.empty(len(cands))
    # Candidates in chunks to bound the [candidates, sample] temporaries.
    chunk = max(1, 4_000_000 // max(1, sample.size))
    for k0 in range(0, len(cands), chunk):
        u = cands[k0:k0 + chunk, None]
        d = log_dequantize(log_quantize(sample[None, :], u, bits), u) - sample
        errs[k0:k0 + chunk] = _sequential_sum(d * d, axis=1)
    return float(cands[int(np.argmin(errs))])  # argmin: first minimum


# ---------------------------------------------------------------------------
# Layouts
# ---------------------------------------------------------------------------

def to_logical(w, kind):
    """The integer op's logical view [O, KH, KW, I] of TOSA weights `w`.

    conv: OHWI as is; depthwise [KH, KW, C, M]: o = c M + m, I = 1;
    matmul [1, K, N]: o = n, i = k, KH = KW = 1.
    """
    w = np.asarray(w)
    if kind == "conv":
        if w.ndim != 4:
            raise ValueError("conv weights must be OHWI, got shape %s" % (w.shape,))
        return w
    if kind == "depthwise":
        if w.ndim != 4:
            raise ValueError("depthwise weights must be [KH, KW, C, M], got %s" % (w.shape,))
        kh, kw, c, m = w.shape
        return w.transpose(2, 3, 0, 1).reshape(c * m, kh, kw, 1)
    if kind == "matmul":
        if w.ndim != 3 or w.shape[0] != 1:
            raise ValueError("matmul weights must be [1, K, N], got %s" % (w.shape,))
        return w[0].T.reshape(w.shape[2], 1, 1, w.shape[1])
    raise ValueError("kind must be one of %s, got %r" % (KINDS, kind))


def from_logical(v, kind, shape):
    """Inverse of to_logical: back to the TOSA weight layout `shape`."""
    v = np.asarray(v)
    if kind == "conv":
        return v.reshape(shape)
    if kind == "depthwise":
        kh, kw, c, m = shape
        return v.reshape(c, m, kh, kw).transpose(2, 3, 0, 1).copy()
    if kind == "matmul":
        _, k, n = shape
        return v.reshape(n, k).T.reshape(1, k, n).copy()
    raise ValueError(kind)


def mask_shape(kind, logical_shape, tile):
    """[ceil(O/Tm), KH, KW, ceil(I/Tn)] (convolutions) or
    [ceil(O/Tm), ceil(I/Tn)] (matmul)."""
    tn, tm = tile
    o, kh, kw, i = logical_shape
    if kind == "matmul":
        return (-(-o // tm), -(-i // tn))
    return (-(-o // tm), kh, kw, -(-i // tn))


def tile_ids(kind, logical_shape, tile):
    """Row-major mask index of every weight, in the logical layout."""
    tn, tm = tile
    o, kh, kw, i = logical_shape
    to, ti = -(-o // tm), -(-i // tn)
    oi = (np.arange(o) // tm)[:, None, None, None]
    ky = np.arange(kh)[None, :, None, None]
    kx = np.arange(kw)[None, None, :, None]
    ii = (np.arange(i) // tn)[None, None, None, :]
    ids = ((oi * kh + ky) * kw + kx) * ti + ii
    return np.broadcast_to(ids, logical_shape), to * kh * kw * ti


def filter_ids(logical_shape):
    """Output channel of every weight (per-filter groups), logical layout."""
    o = logical_shape[0]
    return (np.broadcast_to(np.arange(o)[:, None, None, None], logical_shape), o)


# ---------------------------------------------------------------------------
# Selection
# ---------------------------------------------------------------------------

def ratio_count(sizes_ranked, ratio, total):
    """How many of the ranked groups (sizes in rank order) get two words.

    T = R total; k* is the smallest k with cum(k) >= T; k*-1 is taken when
    it is strictly nearer to T (T - cum(k*-1) < cum(k*) - T), else k*.
    """
    if not 0.0 <= ratio <= 1.0:
        raise ValueError("ratio must be in [0, 1], got %r" % (ratio,))
    return target_count(sizes_ranked, float(ratio) * float(total))


def target_count(sizes_ranked, target):
    """ratio_count's rule for a target number of weights T."""
    cum = np.concatenate([[0], np.cumsum(np.asarray(sizes_ranked, dtype=np.int64))])
    k = int(np.searchsorted(cum, target, side="left"))
    k = min(k, len(cum) - 1)
    if k > 0 and (target - cum[k - 1]) < (cum[k] - target):
        k -= 1
    return k


def rank_groups(scores):
    """Group indices by score descending, ties by lower index first."""
    scores = np.asarray(scores, dtype=np.float64)
    return np.lexsort((np.arange(scores.size), -scores))


def group_sq_norms(r1_logical, ids, count):
    """||r1||_2^2 of every group, squares summed sequentially in logical order."""
    sq = np.square(np.asarray(r1_logical, dtype=np.float64)).ravel()
    return np.bincount(np.asarray(ids).ravel(), weights=sq, minlength=count)


def group_scores(r1_logical, ids, count):
    """||r1||_2 of every group."""
    return np.sqrt(group_sq_norms(r1_logical, ids, count))


def select_groups(r1_logical, ids, count, ratio, target_weights=None):
    """Boolean per group: two words. Returns (chosen, scores, order, k).

    The ratio rule over weights, or, with target_weights, the same rule for
    that number of weights.
    """
    # Ranked by the squared norm: the same order as ||r1||_2, without the
    # ties that rounding the square roots could make.
    sq = group_sq_norms(r1_logical, ids, count)
    scores = np.sqrt(sq)
    sizes = np.bincount(np.asarray(ids).ravel(), minlength=count)
    order = rank_groups(sq)
    if target_weights is None:
        k = ratio_count(sizes[order], ratio, int(np.asarray(ids).size))
    else:
        k = target_count(sizes[order], float(target_weights))
    chosen = np.zeros(count, dtype=bool)
    chosen[order[:k]] = True
    return chosen, scores, order, k


# ---------------------------------------------------------------------------
# STLQ
# ---------------------------------------------------------------------------

def channel_scales(w, kind, bits, per_channel, log_scale):
    """U of every logical output channel (float64 holding float32 values)."""
    w = np.asarray(w, dtype=np.float32)
    lg = to_logical(w, kind)
    o = lg.shape[0]
    if per_channel:
        # A channel's weights in flat order: its logical row (the same order
        # as in the TOSA layout for all three kinds).
        return np.array([choose_scale(lg[c].ravel(), bits, log_scale)
                         for c in range(o)])
    # Per layer: the layer's weights in the TOSA layout's flat order.
    return np.full(o, choose_scale(w.ravel(), bits, log_scale))


def stlq_words(weights, kind, bits, per_channel=True, log_scale="max"):
    """The part of stlq that does not depend on which tiles get two words:
    U of every logical output channel, one-word codes q1, the first residual
    r1 and every weight's candidate second word, in the logical layout.

    Hand the result to stlq(words=...) to select several ways (tiles,
    filters, other ratios or tiles) without repeating the U search.
    """
    w = np.asarray(weights, dtype=np.float32)
    lg = to_logical(w, kind).astype(np.float64)
    us = channel_scales(w, kind, bits, per_channel, log_scale)
    ub = us[:, None, None, None]
    q1 = log_quantize(lg, ub, bits)
    d1 = log_dequantize(q1, ub)
    r1 = lg - d1
    q2_all = log_quantize(r1, ub, bits)
    return {"for": (kind, w.shape, bits, bool(per_channel), log_scale),
            "u": us, "q1": q1, "d1": d1, "r1": r1, "q2_all": q2_all}


def stlq(weights, kind, bits, ratio, tile=(16, 16), per_channel=True,
         log_scale="max", granularity="tile", target_weights=None, words=None):
    """STLQ of one layer's float32 TOSA weights.

    kind: 'conv' (OHWI), 'depthwise' ([KH, KW, C, M]) or 'matmul' ([1, K, N]);
    tile = (Tn, Tm); granularity 'tile' (the pass) or 'filter' (whole output
    channels share the word count, for comparison); target_weights replaces
    R * (number of weights) as the ratio rule's target T; words, when given,
    is stlq_words' result for the same weights, kind, bits, per_channel and
    log_scale (checked against the shape and options).

    Returns a dict: u (per logical output channel), scale (the largest u),
    q1, q2, decoded (float32) in the TOSA layout, mask (tile granularity:
    the pass's mask shape; filter granularity: one bool per channel),
    scores, order, k (groups with two words), two_word_weights, and the
    logical-layout arrays q1_logical, q2_logical, r1_logical.
    """
    w = np.asarray(weights, dtype=np.float32)
    tn, tm = int(tile[0]), int(tile[1])
    if tn < 1 or tm < 1:
        raise ValueError("tile extents must be positive, got %r" % (tile,))
    if words is None:
        words = stlq_words(w, kind, bits, per_channel, log_scale)
    elif words["for"] != (kind, w.shape, bits, bool(per_channel), log_scale):
        raise ValueError("words are for %s, not %s" % (
            words["for"], (kind, w.shape, bits, bool(per_channel), log_scale)))
    us, q1, d1, r1, q2_all = (words[k] for k in ("u", "q1", "d1", "r1", "q2_all"))
    ub = us[:, None, None, None]
    shape = q1.shape
    if granularity == "tile":
        ids, count = tile_ids(kind, shape, (tn, tm))
        mshape = mask_shape(kind, shape, (tn, tm))
    elif granularity == "filter":
        ids, count = filter_ids(shape)
        mshape = (shape[0],)
    else:
        raise ValueError(granularity)
    chosen, scores, order, k = select_groups(r1, ids, count, ratio, target_weights)
    two = chosen[ids]
    q2 = np.where(two, q2_all, 0).astype(np.int32)
    decoded = (d1 + log_dequantize(q2, ub)).astype(np.float32)
    return {
        "kind": kind,
        "u": us,
        "scale": float(us.max()),
        "q1": from_logical(q1, kind, w.shape),
        "q2": from_logical(q2, kind, w.shape),
        "decoded": from_logical(decoded, kind, w.shape),
        "mask": chosen.reshape(mshape),
        "scores": scores,
        "order": order,
        "k": k,
        "two_word_weights": int(two.sum()),
        "q1_logical": q1,
        "q2_logical": q2,
        "r1_logical": r1,
    }


# ---------------------------------------------------------------------------
# SQNR
# ---------------------------------------------------------------------------

def noise_energy(w, w_hat):
    w = np.asarray(w, dtype=np.float64)
    return float(np.sum(np.square(w - np.asarray(w_hat, dtype=np.float64))))


def signal_energy(w):
    return float(np.sum(np.square(np.asarray(w, dtype=np.float64))))


def sqnr_db(w, w_hat):
    """10 log10(sum w^2 / sum (w - w~)^2); +inf when exact."""
    return sqnr_from_energies(signal_energy(w), noise_energy(w, w_hat))


def sqnr_from_energies(signal, noise):
    if noise == 0:
        return math.inf
    if signal == 0:
        return -math.inf
    return 10.0 * math.log10(signal / noise)
