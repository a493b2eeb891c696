"""Reading what lowbit-opt prints: dense constants and #lowbit attributes.

A small, dependency-free reader of the textual MLIR that lowbit-opt writes,
enough to pull out each weight-consuming op's weight constant and its
`lowbit.weight_encoding` attribute:

  * dense elements in every printed form: nested decimal lists, splats,
    hex strings `dense<"0x...">` (little-endian raw data; i1 packed 8 per
    byte, LSB first, or one byte each), hex bit patterns of single floats
    (`0x7FC00000`), true/false, and `dense_resource<name>` blobs from the
    `{-# dialect_resources ... #-}` section;
  * attribute aliases (`#name = ...` at the top level);
  * ops in custom or generic form, one per line.
"""

import re

import numpy as np


class MlirParseError(ValueError):
    pass


# ---------------------------------------------------------------------------
# Scanning
# ---------------------------------------------------------------------------

_OPEN = {"<": ">", "[": "]", "(": ")", "{": "}"}
_CLOSE = {v: k for k, v in _OPEN.items()}


def match_bracket(s, i):
    """Index just past the bracket group that opens at s[i].

    Nested <>, [], (), {} must balance; strings ("...", with \\ escapes) are
    skipped, and '>' of an arrow '->' is not a closer.
    """
    if s[i] not in _OPEN:
        raise MlirParseError("no bracket at %d in %r" % (i, s[i:i + 40]))
    stack = []
    j = i
    n = len(s)
    while j < n:
        c = s[j]
        if c == '"':
            j += 1
            while j < n and s[j] != '"':
                j += 2 if s[j] == "\\" else 1
            if j >= n:
                raise MlirParseError("unterminated string in %r" % s[i:i + 60])
        elif c in _OPEN:
            stack.append(_OPEN[c])
        elif c in _CLOSE:
            if c == ">" and j > 0 and s[j - 1] == "-":
                pass  # '->'
            else:
                if not stack or stack[-1] != c:
                    raise MlirParseError("unbalanced %r at %d in %r" % (c, j, s[i:j + 1][-80:]))
                stack.pop()
                if not stack:
                    return j + 1
        j += 1
    raise MlirParseError("unclosed %r in %r" % (s[i], s[i:i + 80]))


def split_top(s, sep=","):
    """Split s at `sep` characters outside brackets and strings."""
    parts, depth, start, j, n = [], 0, 0, 0, len(s)
    while j < n:
        c = s[j]
        if c == '"':
            j += 1
            while j < n and s[j] != '"':
                j += 2 if s[j] == "\\" else 1
        elif c in _OPEN:
            depth += 1
        elif c in _CLOSE and not (c == ">" and j > 0 and s[j - 1] == "-"):
            depth -= 1
        elif c == sep and depth == 0:
            parts.append(s[start:j])
            start = j + 1
        j += 1
    parts.append(s[start:])
    return [p.strip() for p in parts]


# ---------------------------------------------------------------------------
# Types and dense elements
# ---------------------------------------------------------------------------

def parse_tensor_type(t):
    """'tensor<2x3xf32>' -> ((2, 3), 'f32'); 'tensor<f32>' -> ((), 'f32')."""
    t = t.strip()
    m = re.fullmatch(r"tensor<(.*)>", t)
    if not m:
        raise MlirParseError("not a ranked tensor type: %r" % t)
    dims = m.group(1).split("x")
    shape = []
    for d in dims[:-1]:
        if not d.isdigit():
            raise MlirParseError("dynamic or bad dimension %r in %r" % (d, t))
        shape.append(int(d))
    return tuple(shape), dims[-1].strip()


_FLOAT_DTYPES = {"f16": ("<f2", "<u2"), "f32": ("<f4", "<u4"), "f64": ("<f8", "<u8")}


def _int_width(elt):
    m = re.fullmatch(r"[su]?i(\d+)", elt)
    return int(m.group(1)) if m else None


def numpy_dtype(elt):
    if elt in _FLOAT_DTYPES:
        return np.dtype(_FLOAT_DTYPES[elt][0])
    if elt == "bf16":
        return np.dtype(np.float32)
    w = _int_width(elt)
    if w == 1:
        return np.dtype(bool)
    if w is not None:
        if w > 64:
            raise MlirParseError("integer type too wide: %s" % elt)
        signed = not elt.startswith("u")
        for b in (8, 16, 32, 64):
            if w <= b:
                return np.dtype(("<i%d" if signed else "<u%d") % (b // 8))
    raise MlirParseError("unsupported element type %r" % elt)


def _scalar(tok, elt):
    """One element token of a decimal dense literal."""
    if elt in ("i1",):
        if tok in ("true", "false"):
            return tok == "true"
        if tok in ("1", "0"):
            return tok == "1"
        raise MlirParseError("bad i1 element %r" % tok)
    if elt in _FLOAT_DTYPES or elt == "bf16":
        if re.fullmatch(r"0[xX][0-9a-fA-F]+", tok):
            bits = int(tok, 16)
            if elt == "bf16":
                return np.array([bits << 16], dtype="<u4").view("<f4")[0]
            ft, ut = _FLOAT_DTYPES[elt]
            return np.array([bits], dtype=ut).view(ft)[0]
        try:
            v = float(tok)
        except ValueError:
            raise MlirParseError("bad float element %r" % tok)
        return v
    if _int_width(elt) is not None:
        if tok in ("true", "false"):
            return int(tok == "true")
        try:
            return int(tok, 0)
        except ValueError:
            raise MlirParseError("bad integer element %r" % tok)
    raise MlirParseError("unsupported element type %r" % elt)


_TOKEN = re.compile(r"\s*(\[|\]|,|[^\s\[\],]+)")


def _parse_nested(body, elt):
    """Nested list literal -> (flat list, shape)."""
    toks = [m.group(1) for m in _TOKEN.finditer(body)]
    if "".join(toks) != re.sub(r"\s+", "", body):
        raise MlirParseError("cannot tokenize %r" % body[:80])
    pos = 0

    def value():
        nonlocal pos
        if pos >= len(toks):
            raise MlirParseError("truncated dense literal")
        t = toks[pos]
        if t == "[":
            pos += 1
            items = []
            if pos < len(toks) and toks[pos] == "]":
                pos += 1
                return ("list", [])
            while True:
                items.append(value())
                if pos >= len(toks):
                    raise MlirParseError("truncated dense literal")
                if toks[pos] == ",":
                    pos += 1
                    continue
                if toks[pos] == "]":
                    pos += 1
                    return ("list", items)
                raise MlirParseError("unexpected %r in dense literal" % toks[pos])
        if t in ("]", ","):
            raise MlirParseError("unexpected %r in dense literal" % t)
        pos += 1
        return ("leaf", _scalar(t, elt))

    tree = value()
    if pos != len(toks):
        raise MlirParseError("trailing tokens in dense literal: %r" % toks[pos:pos + 5])

    flat = []

    def walk(node, depth, shape):
        kind, v = node
        if kind == "leaf":
            if depth != len(shape) and shape:
                raise MlirParseError("ragged dense literal")
            flat.append(v)
            return
        if depth == len(shape):
            shape.append(len(v))
        elif shape[depth] != len(v):
            raise MlirParseError("ragged dense literal")
        for child in v:
            walk(child, depth + 1, shape)

    shape = []
    if tree[0] == "leaf":
        return flat + [tree[1]], ()
    walk(tree, 0, shape)
    return flat, tuple(shape)


def _from_raw(raw, shape, elt):
    """Elements from MLIR's raw little-endian storage (hex and resources)."""
    n = int(np.prod(shape, dtype=np.int64)) if shape else 1
    w = _int_width(elt)
    if w == 1:
        nb = len(raw)
        if nb == (n + 7) // 8:
            bits = np.unpackbits(np.frombuffer(raw, dtype=np.uint8), bitorder="little")
            if n > 1 and nb == 1 and raw[0] in (0x00, 0xFF):
                return np.full(shape, raw[0] == 0xFF)  # splat (same either way)
            return bits[:n].astype(bool).reshape(shape)
        if nb == n:
            return (np.frombuffer(raw, dtype=np.uint8) != 0).reshape(shape)
        if nb == 1:
            return np.full(shape, raw[0] != 0)
        raise MlirParseError("i1 data of %d bytes for %d elements" % (nb, n))
    if elt == "bf16":
        u = np.frombuffer(raw, dtype="<u2").astype("<u4") << 16
        data = u.view("<f4")
    else:
        dt = numpy_dtype(elt)
        if len(raw) % dt.itemsize:
            raise MlirParseError("%d bytes is not a whole number of %s" % (len(raw), elt))
        data = np.frombuffer(raw, dtype=dt)
    if data.size == n:
        return data.reshape(shape).copy()
    if data.size == 1:
        return np.full(shape, data[0], dtype=data.dtype)
    raise MlirParseError("%d elements of data for shape %s" % (data.size, shape))


def _hex_bytes(h):
    h = h.strip()
    if not re.fullmatch(r"0[xX][0-9a-fA-F]*", h) or len(h) % 2:
        raise MlirParseError("bad hex string %r" % h[:40])
    return bytes.fromhex(h[2:])


def parse_dense(text, resources=None):
    """'dense<...> : tensor<...>' (or dense_resource<name> : tensor<...>)
    -> numpy array of the tensor's shape.

    f32/f16/f64 give float arrays of that width, i1 bool, iN integers.
    """
    text = text.strip()
    m = re.match(r"(dense|dense_resource)<", text)
    if not m:
        raise MlirParseError("not a dense elements attribute: %r" % text[:60])
    end = match_bracket(text, m.end() - 1)
    body = text[m.end():end - 1].strip()
    rest = text[end:].strip()
    if not rest.startswith(":"):
        raise MlirParseError("dense attribute without a type: %r" % text[:80])
    rest = rest[1:].strip()
    tend = match_bracket(rest, rest.index("<"))
    shape, elt = parse_tensor_type(rest[:tend])
    if m.group(1) == "dense_resource":
        if resources is None or body not in resources:
            raise MlirParseError("unknown dense resource %r" % body)
        blob = _hex_bytes(resources[body])
        # A resource blob starts with its alignment (uint32, little-endian).
        return _from_raw(blob[4:], shape, elt)
    if body.startswith('"'):
        return _from_raw(_hex_bytes(body.strip('"')), shape, elt)
    flat, lshape = _parse_nested(body, elt)
    n = int(np.prod(shape, dtype=np.int64)) if shape else 1
    dt = numpy_dtype(elt)
    arr = np.empty(len(flat), dtype=dt)
    with np.errstate(over="ignore"):
        for k, v in enumerate(flat):
            arr[k] = v  # decimals round to the element type; bit patterns stay
    if lshape == () and len(flat) == 1:
        return np.full(shape, arr[0], dtype=dt)
    if tuple(lshape) != tuple(shape):
        raise MlirParseError("literal of shape %s for tensor shape %s" % (lshape, shape))
    if arr.size != n:
        raise MlirParseError("%d elements for shape %s" % (arr.size, shape))
    return arr.reshape(shape)


def dense_text_len(text):
    """Length of the leading 'dense<...> : tensor<...>' in text."""
    m = re.match(r"\s*(dense|dense_resource)<", text)
    if not m:
        raise MlirParseError("not a dense attribute: %r" % text[:60])
    end = match_bracket(text, m.end() - 1)
    m2 = re.match(r"\s*:\s*", text[end:])
    if not m2:
        raise MlirParseError("dense attribute without a type")
    t0 = end + m2.end()
    lt = text.index("<", t0)
    return match_bracket(text, lt)


# ---------------------------------------------------------------------------
# Numbers and attributes
# ---------------------------------------------------------------------------

def parse_float(tok):
    """A printed float: decimal (1.250000e-01, 9.9999999999999995E-8, inf,
    nan) or a hex bit pattern of a double (0x7FF8000000000000)."""
    tok = tok.strip()
    if re.fullmatch(r"0[xX][0-9a-fA-F]+", tok):
        bits = int(tok, 16)
        if len(tok) - 2 <= 8:
            return float(np.array([bits], dtype="<u4").view("<f4")[0])
        return float(np.array([bits], dtype="<u8").view("<f8")[0])
    try:
        return float(tok)
    except ValueError:
        raise MlirParseError("bad float %r" % tok)


def parse_float_list(text):
    text = text.strip()
    if not (text.startswith("[") and text.endswith("]")):
        raise MlirParseError("not a list: %r" % text[:60])
    inner = text[1:-1].strip()
    return [] if not inner else [parse_float(t) for t in split_top(inner)]


def parse_int_list(text):
    text = text.strip()
    if not (text.startswith("[") and text.endswith("]")):
        raise MlirParseError("not a list: %r" % text[:60])
    inner = text[1:-1].strip()
    try:
        return [] if not inner else [int(t) for t in split_top(inner)]
    except ValueError:
        raise MlirParseError("bad integer list %r" % text[:60])


def parse_stlq_attr(text, resources=None, aliases=None):
    """'#lowbit.stlq<bits = 3, scale = ..., tile = [Tn, Tm], mask = dense<...>
    : tensor<...xi1>[, channel_scales = [...]]>' -> dict with bits (int),
    scale (float), tile (list), mask (bool array), channel_scales (list or
    None), extra (unknown keys, as text). Keys may come in any order."""
    text = text.strip()
    if aliases and text in aliases:
        text = aliases[text].strip()
    m = re.match(r"#lowbit\.stlq<", text)
    if not m:
        raise MlirParseError("not a #lowbit.stlq attribute: %r" % text[:60])
    end = match_bracket(text, m.end() - 1)
    if text[end:].strip():
        raise MlirParseError("trailing text after #lowbit.stlq<...>: %r" % text[end:end + 40])
    out = {"channel_scales": None, "extra": {}}
    for part in split_top(text[m.end():end - 1]):
        if not part:
            continue
        key, eq, value = part.partition("=")
        key, value = key.strip(), value.strip()
        if not eq:
            raise MlirParseError("parameter without '=': %r" % part[:60])
        if key in out and key != "extra" and out[key] is not None:
            raise MlirParseError("parameter %r given twice" % key)
        if key == "bits":
            out["bits"] = int(value)
        elif key == "scale":
            out["scale"] = parse_float(value)
        elif key == "tile":
            out["tile"] = parse_int_list(value)
        elif key == "mask":
            if dense_text_len(value) != len(value):
                raise MlirParseError("trailing text after the mask: %r" % value[-40:])
            mask = parse_dense(value, resources)
            if mask.dtype != bool:
                raise MlirParseError("mask is not i1: %r" % value[-40:])
            out["mask"] = mask
        elif key == "channel_scales":
            out["channel_scales"] = parse_float_list(value)
        else:
            out["extra"][key] = value
    for key in ("bits", "scale", "tile", "mask"):
        if key not in out:
            raise MlirParseError("#lowbit.stlq without %r: %r" % (key, text[:80]))
    return out


def attr_value_at(s, i):
    """The attribute value text that starts at s[i] (up to the next
    top-level ',' or the end of the enclosing dictionary)."""
    j, n = i, len(s)
    while j < n:
        c = s[j]
        if c == '"':
            j += 1
            while j < n and s[j] != '"':
                j += 2 if s[j] == "\\" else 1
            j += 1
            continue
        if c in _OPEN:
            j = match_bracket(s, j)
            continue
        if c in ",}" or (c in _CLOSE and not (c == ">" and s[j - 1] == "-")):
            break
        j += 1
    return s[i:j].strip()


# ---------------------------------------------------------------------------
# Modules
# ---------------------------------------------------------------------------

def parse_resources(text):
    """name -> hex string from '{-# dialect_resources: { d: { name: "0x.." } } #-}'."""
    out = {}
    m = re.search(r"\{-#(.*)#-\}", text, re.S)
    if not m:
        return out
    for name, hexs in re.findall(r'([\w.$-]+|"[^"]*")\s*:\s*"(0x[0-9A-Fa-f]*)"', m.group(1)):
        out[name.strip('"')] = hexs
    return out


def parse_aliases(text):
    out = {}
    for line in text.splitlines():
        m = re.match(r"^(#[\w.$-]+)\s*=\s*(.*)$", line)
        if m and not m.group(1).startswith("#lowbit."):
            out[m.group(1)] = m.group(2).strip()
    return out


_SSA = r"%[\w.$-]+(?:#\d+)?"


class Op:
    def __init__(self, func, name, results, operands, line):
        self.func, self.name, self.results, self.operands, self.line = func, name, results, operands, line

    def attr(self, key, aliases=None):
        """Text of discardable/inherent attribute `key`, or None."""
        m = re.search(r"(?:[{,]\s*)" + re.escape(key) + r"\s*=\s*", self.line)
        if not m:
            return None
        v = attr_value_at(self.line, m.end())
        if aliases and v in aliases:
            v = aliases[v]
        return v

    def __repr__(self):
        return "Op(%s %s %s)" % (self.func, self.name, self.operands)


def parse_ops(text):
    """Every op line of the module: (func, op name, results, operands)."""
    ops = []
    func = None
    for line in text.splitlines():
        s = line.strip()
        fm = re.match(r"func\.func\s+(?:\w+\s+)?@([\w.$-]+)", s)
        if fm:
            func = fm.group(1)
            continue
        m = re.match(r"((?:%s\s*,\s*)*%s)\s*=\s*" % (_SSA, _SSA), s)
        results = []
        body = s
        if m:
            results = [r.strip() for r in m.group(1).split(",")]
            body = s[m.end():]
        gm = re.match(r'"([\w.$-]+)"\s*\(', body)
        if gm:
            name = gm.group(1)
            close = match_bracket(body, gm.end() - 1)
            inner = body[gm.end():close - 1].strip()
            operands = [o.strip() for o in inner.split(",")] if inner else []
        else:
            cm = re.match(r"([a-z_][\w]*\.[\w.$]+)\b", body)
            if not cm:
                continue
            name = cm.group(1)
            om = re.match(r"\s*((?:%s\s*,\s*)*%s)" % (_SSA, _SSA), body[cm.end():])
            operands = [o.strip() for o in om.group(1).split(",")] if om else []
        ops.append(Op(func, name, results, operands, s))
    return ops


def constant_values(op, resources=None):
    """The dense value of a tosa.const / arith.constant op, or None."""
    if op.name not in ("tosa.const", "arith.constant"):
        return None
    line = op.line
    m = re.search(r"\bvalues?\s*=\s*(?=dense)", line) or re.search(r"(?=dense(?:_resource)?<)", line)
    if not m:
        return None
    start = m.end()
    n = dense_text_len(line[start:])
    return parse_dense(line[start:start + n], resources)


class Module:
    """The ops, constants, aliases and resources of a printed module."""

    def __init__(self, text):
        self.text = text
        self.resources = parse_resources(text)
        self.aliases = parse_aliases(text)
        self.ops = parse_ops(text)
        self.defs = {}
        for op in self.ops:
            for r in op.results:
                self.defs[(op.func, r)] = op

    def ops_named(self, *names):
        return [op for op in self.ops if op.name in names]

    def constant(self, func, ssa):
        op = self.defs.get((func, ssa))
        if op is None:
            return None, None
        return op, constant_values(op, self.resources)

    def encoding(self, op):
        """The op's #lowbit.stlq as parse_stlq_attr's dict; a #lowbit.log
        (one word everywhere) as {'kind': 'log', 'text': ...}; None when
        the op has no lowbit.weight_encoding."""
        v = op.attr("lowbit.weight_encoding", self.aliases)
        if v is None:
            return None
        if v.startswith("#lowbit.log<"):
            return {"kind": "log", "text": v}
        enc = parse_stlq_attr(v, self.resources, self.aliases)
        enc["kind"] = "stlq"
        return enc
