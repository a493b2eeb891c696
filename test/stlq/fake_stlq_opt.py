#!/usr/bin/python3
"""A stand-in for `lowbit-opt --lowbit-legalize-stlq-tiles=...`, for testing
check_stlq.py's reading and comparison of lowbit's output before the pass
exists (and for checking that the comparison catches wrong answers).

  fake_stlq_opt.py IN.mlir --lowbit-legalize-stlq-tiles="OPTIONS"
                   [--mlir-print-elementsattrs-with-hex-if-larger=N] -o OUT.mlir

It reads check_stlq.py's modules, quantizes every weight with the reference
(stlq_ref.py) and prints the module the way lowbit-opt would: the old weight
constant left in place, a new "tosa.const" with the decoded weights feeding
the op, and lowbit.weight_encoding = #lowbit.stlq<...> on the op.

Environment:
  FAKE_STLQ_BUG     one of: mask, weight, zero-sign, scale, channel-scale,
                    no-channel-scales, no-attr, bits, tile, extra-param,
                    not-const (a wrong answer of that kind, in the first op)
  FAKE_STLQ_HEX=1   dense constants and masks as hex strings
  FAKE_STLQ_GENERIC=1  ops in generic form
  FAKE_STLQ_ALIAS=1    encodings through top-level #aliases
  FAKE_STLQ_RESOURCE=1 weights as dense_resource blobs
"""

import os
import re
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mlir_text  # noqa: E402
import stlq_ref as ref  # noqa: E402

KIND = {"tosa.conv2d": "conv", "tosa.depthwise_conv2d": "depthwise", "tosa.matmul": "matmul"}


def fmt_f32(v):
    """As MLIR prints a float32 element: 6 digits when they round-trip."""
    v = np.float32(v)
    if not np.isfinite(v):
        return "0x%08X" % int(np.array([v], dtype="<f4").view("<u4")[0])
    s = "%.6e" % float(v)
    return s if np.float32(float(s)) == v else "%.9e" % float(v)


def fmt_f64(v):
    """As MLIR prints a double: 6 digits when they round-trip, else all."""
    s = "%.6e" % v
    return s if float(s) == v else repr(float(v)).replace("e", "E")


def nested(a, fmt):
    if a.ndim == 0:
        return fmt(a[()])
    return "[" + ", ".join(nested(x, fmt) for x in a) + "]"


def tensor_type(shape, elt):
    return "tensor<%s>" % "x".join([str(d) for d in shape] + [elt])


def dense(a, elt, hexa, resources=None):
    if resources is not None:
        name = "stlq_blob_%d" % len(resources)
        resources[name] = "0x04000000" + np.ascontiguousarray(a, dtype="<f4").tobytes().hex().upper()
        return "dense_resource<%s> : %s" % (name, tensor_type(a.shape, elt))
    if elt == "i1":
        if a.size and (a.all() or not a.any()):
            return "dense<%s> : %s" % ("true" if a.all() else "false", tensor_type(a.shape, elt))
        if hexa:
            raw = np.packbits(a.ravel().astype(np.uint8), bitorder="little").tobytes()
            return 'dense<"0x%s"> : %s' % (raw.hex().upper(), tensor_type(a.shape, elt))
        return "dense<%s> : %s" % (nested(a, lambda b: "true" if b else "false"),
                                   tensor_type(a.shape, elt))
    if a.size and np.all(a.view(np.uint32) == a.ravel()[0].view(np.uint32)):
        return "dense<%s> : %s" % (fmt_f32(a.ravel()[0]), tensor_type(a.shape, elt))
    if hexa:
        return 'dense<"0x%s"> : %s' % (np.ascontiguousarray(a, dtype="<f4").tobytes().hex().upper(),
                                       tensor_type(a.shape, elt))
    return "dense<%s> : %s" % (nested(a, fmt_f32), tensor_type(a.shape, elt))


def main():
    args = sys.argv[1:]
    inp = out = opts = None
    i = 0
    while i < len(args):
        a = args[i]
        if a.startswith("--lowbit-legalize-stlq-tiles="):
            opts = a.split("=", 1)[1]
        elif a == "-o":
            out = args[i + 1]
            i += 1
        elif a.startswith("--mlir-print-elementsattrs-with-hex-if-larger"):
            pass
        elif a.startswith("-"):
            sys.stderr.write("fake_stlq_opt: Unknown command line argument '%s'\n" % a)
            return 1
        else:
            inp = a
        i += 1
    if opts is None:
        sys.stderr.write("fake_stlq_opt: no --lowbit-legalize-stlq-tiles\n")
        return 1
    o = dict(kv.split("=", 1) for kv in opts.split())
    bits, ratio = int(o["bits"]), float(o["ratio"])
    tile = (int(o["tile-inputs"]), int(o["tile-outputs"]))
    pc = o.get("per-channel", "true") == "true"
    ls = o.get("log-scale", "mse")
    bug = os.environ.get("FAKE_STLQ_BUG", "")
    hexa = os.environ.get("FAKE_STLQ_HEX") == "1"
    generic = os.environ.get("FAKE_STLQ_GENERIC") == "1"
    alias = os.environ.get("FAKE_STLQ_ALIAS") == "1"
    resources = {} if os.environ.get("FAKE_STLQ_RESOURCE") == "1" else None

    text = open(inp).read()
    module = mlir_text.Module(text)
    lines = []
    aliases = []
    first = True
    for line in text.splitlines():
        s = line.strip()
        m = re.match(r"(%\w+) = (tosa\.conv2d|tosa\.depthwise_conv2d|tosa\.matmul) (.*)$", s)
        if not m:
            lines.append(line)
            continue
        res, name, rest = m.groups()
        func = [op for op in module.ops if op.line == s][0].func
        operands = [op for op in module.ops if op.line == s][0].operands
        w = module.constant(func, operands[1])[1]
        r = ref.stlq(w, KIND[name], bits, ratio, tile, pc, ls)
        dec = r["decoded"].copy()
        mask = r["mask"].copy()
        us = list(r["u"])
        scale = r["scale"]
        b, t = bits, list(tile)
        if first and bug:
            if bug == "mask":
                mask.ravel()[-1] = not mask.ravel()[-1]
            elif bug == "weight":
                dec.view(np.uint32).ravel()[dec.size // 2] += 1
            elif bug == "zero-sign":
                z = np.flatnonzero(dec.ravel() == 0)
                dec.ravel()[z[0] if z.size else 0] = -0.0
            elif bug == "scale":
                scale = float(np.nextafter(np.float32(scale), np.float32(np.inf)))
            elif bug == "channel-scale":
                us[0] = float(np.nextafter(np.float32(us[0]), np.float32(0)))
            elif bug == "bits":
                b = bits + 1
            elif bug == "tile":
                t = t[::-1] if t[0] != t[1] else [t[0] + 1, t[1]]
        attr = "#lowbit.stlq<bits = %d, scale = %s, tile = [%d, %d], mask = %s" % (
            b, fmt_f64(float(scale)), t[0], t[1], dense(mask, "i1", hexa))
        if pc and not (first and bug == "no-channel-scales"):
            attr += ", channel_scales = [%s]" % ", ".join(fmt_f64(float(u)) for u in us)
        if first and bug == "extra-param":
            attr += ", words = 2"
        attr += ">"
        if alias:
            aname = "#stlq%d" % len(aliases)
            aliases.append("%s = %s" % (aname, attr))
            attr = aname
        wt = tensor_type(w.shape, "f32")
        newc = "%%stlq_w%d" % len(lines)
        const = '%s = "tosa.const"() <{values = %s}> : () -> %s' % (
            newc, dense(dec, "f32", hexa, resources), wt)
        if first and bug == "not-const":
            const = '%s = tosa.identity %s : (%s) -> %s' % (newc, operands[1], wt, wt)
        lines.append("    " + const)
        new_operands = list(operands)
        new_operands[1] = newc
        am = re.match(r"(%[^{:]*?)\s*(\{.*?\})?\s*:\s*(\(.*)$", rest)
        attrs = am.group(2)[1:-1] if am.group(2) else ""
        if not (first and bug == "no-attr"):
            attrs = (attrs + ", " if attrs else "") + "lowbit.weight_encoding = " + attr
        if generic:
            props = [a.strip() for a in mlir_text.split_top(attrs)
                     if a.strip() and not a.strip().startswith(("lowbit.",))]
            disc = [a.strip() for a in mlir_text.split_top(attrs) if a.strip().startswith("lowbit.")]
            op = '%s = "%s"(%s) <{%s}> {%s} : %s' % (res, name, ", ".join(new_operands),
                                                     ", ".join(props), ", ".join(disc), am.group(3))
        else:
            op = "%s = %s %s {%s} : %s" % (res, name, ", ".join(new_operands), attrs, am.group(3))
        lines.append("    " + op)
        first = False
    body = "\n".join(lines)
    text_out = "\n".join(aliases) + ("\n" if aliases else "") + "module {\n" + body + "\n}\n"
    if resources:
        text_out += "\n{-#\n  dialect_resources: {\n    builtin: {\n" + ",\n".join(
            "      %s: \"%s\"" % kv for kv in resources.items()) + "\n    }\n  }\n#-}\n"
    with open(out, "w") as f:
        f.write(text_out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
