#!/usr/bin/python3
"""The wild-model tier: models as people deploy them now, through lowbitc.

    run_wild.py --lowbitc LOWBITC --runtime-lib LIB [--work DIR]
                [--models a,b | --quick] [--opsets 11,13,17]
                [--test-count N] [--strict] [--no-fx]

Every model of test/wild/wild_models.py (seeded random weights, BatchNorm
statistics from real images, torch.onnx export with a dynamic batch axis)
at every opset goes through these stages, each reported PASS or
FAIL(reason, first error line):

  export   torch.onnx.export at the opset, onnx.checker passes;
  float    `lowbitc m.onnx --run test.npy -o y.npy` against ONNX Runtime
           (test/Oracle/ort_run.js, onnxruntime-node from
           scripts/install-ort.sh): max|a - b| / max|b| <= 1e-4 (the cell
           shows the max relative error);
  int8     `lowbitc m.onnx --calibration calib.npy --emit=cpp -o cpp/`;
           the cell counts the ONNX nodes that stayed float (the
           float-fallback warnings; the notes list their TOSA ops), and
           the `nofb` column records what `--float-fallback=false` does:
           "all int" (it compiles), "refused" (a located error, recorded
           in the notes) or FAIL (a crash or an error without a location);
  C++      the generated C++ built with runtime/harness/build_model.py and
           run on the held-out inputs equals `lowbitc m.onnx --calibration
           calib.npy --run test.npy` bit for bit, on every kernel path this
           CPU has (LOWBIT_MAX_ISA=portable, avx2, avx2-vnni, avx512-vnni;
           docs/KERNELS.md), each run reporting the forced path;
  SQNR     the int8 output (that evaluator run) against torch's float
           output on the held-out inputs, in dB (computed: PASS);
  FX       PyTorch FX post-training quantization
           (torch.ao.quantization.quantize_fx, get_default_qconfig_mapping
           ("fbgemm"), calibrated on the same inputs; zoo_models.fx_quantize)
           on the same held-out inputs, in dB, or "FX does not trace" when
           symbolic tracing fails. Reported, never counted.

A stage whose input is missing (an export that failed, C++ that was not
emitted) shows "-". The table, then one note per failure (the stage, the
reason, the first error line and the command) are printed.

EXPECTED below lists, per model and opset, the stages that pass today.
The exit code is 1 when a stage listed there fails (or a `nofb` cell is a
FAIL); a stage that passes but is not listed is reported as XPASS (update
EXPECTED), and fails the run only with --strict.

--quick: QUICK_MODELS at opset 13 on 2 held-out inputs, no FX (the lit test
test/wild/wild-quick.test).
"""
import argparse
import os
import re
import subprocess
import sys
import time
import traceback

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "e2e"))
sys.path.insert(0, os.path.join(HERE, "..", "..", "runtime", "harness"))
import wild_models  # noqa: E402  (imports test/zoo/zoo_models.py first)
import build_model  # noqa: E402
import cpp_bitexact  # noqa: E402
from zoo_models import sqnr, fx_quantize  # noqa: E402

ORT_RUN = os.path.join(HERE, "..", "Oracle", "ort_run.js")
FLOAT_TOLERANCE = 1e-4
STAGES = ["export", "float", "int8", "cpp", "sqnr"]
QUICK_MODELS = ["yolo", "dbnet", "crnn", "bert", "vit"]
QUICK_OPSET = 13
TIMEOUT = 1800  # seconds per command

# The stages that pass today, per model and opset (measured on the commit
# docs/TESTING.md's "Wild-model tier" names). A model or opset missing here
# is expected to pass nothing. Keep this current: a failure of a listed
# stage is a regression; an XPASS means the list is out of date.
ALL = ("export", "float", "int8", "cpp", "sqnr")
NO_FLOAT = ("export", "int8", "cpp", "sqnr")


def _same(stages):
    return {opset: stages for opset in (11, 13, 17)}


EXPECTED = {
    # Every stage; its LayerNorms stay float (--float-fallback=false
    # refuses it). The position embedding add is lowbit.add with a
    # quantized constant.
    "vit": _same(ALL),
    # Every stage; its LayerNorms stay float (--float-fallback=false
    # refuses it). Mod and ScatterND fold on constants, the strided patch
    # merging is data movement, the attention bias and shift mask are
    # lowbit.add with quantized constants.
    "swin": _same(ALL),
    # Every stage; its LayerNorms stay float (--float-fallback=false
    # refuses it). The NCHW layer scales are 1x1 depthwise layers between
    # transposes.
    "convnext": _same(ALL),
    # Nothing float (SiLU tables, squeeze-and-excitation lowbit.mul). The
    # float import is 2.3e-04 from ONNX Runtime (ONNX Runtime itself is
    # 3.7e-04 from torch: the random efficientnet_b0 amplifies float32
    # rounding), above the 1e-04 bound.
    "efficientnet": _same(NO_FLOAT),
    "mobilenetv3": _same(ALL),
    # int8: calibration refuses the -inf of the attention's padding mask
    # (Where, as nn.MultiheadAttention writes it).
    "bert": _same(("export", "float")),
    "yolo": _same(ALL),
    "dbnet": _same(ALL),
    # Every stage; its LayerNorms (and at opsets 11/13 their decomposed
    # ReduceMean/Pow/Sqrt/Div) stay float, so --float-fallback=false
    # refuses it.
    "crnn": _same(ALL),
}


def expected(model, opset):
    return set(EXPECTED.get(model, {}).get(opset, ()))


class StageError(Exception):
    """A failed stage: reason, first error line, command."""

    def __init__(self, reason, line="", cmd=None):
        super().__init__(reason)
        self.reason = reason
        self.line = line
        self.cmd = cmd


def first_error_line(text):
    """The line of a tool's output that says what went wrong: the first
    with 'error' in it, else the last non-empty one."""
    lines = [l.strip() for l in text.splitlines() if l.strip()]
    for l in lines:
        if "error" in l.lower():
            return l
    return lines[-1] if lines else "(no output)"


def run(cmd, what, env=None):
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env,
                              timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        raise StageError("%s timed out after %d s" % (what, TIMEOUT), "",
                         cmd)
    if proc.returncode != 0:
        reason = "%s exited %d" % (what, proc.returncode)
        if proc.returncode < 0:
            reason = "%s CRASHED (signal %d)" % (what, -proc.returncode)
        raise StageError(reason, first_error_line(proc.stderr + "\n"
                                                  + proc.stdout), cmd)
    return proc


def rel_err(a, b):
    return float(np.max(np.abs(a.astype(np.float64) - b)) /
                 max(float(np.max(np.abs(b))), 1e-30))


FALLBACK_RE = re.compile(r"\.onnx:(\d+):\d+: warning: convert-tosa-to-lowbit: "
                         r"(.*) stays? float")


def fallback_nodes(stderr, onnx_path):
    """The float-fallback warnings (one per ONNX node, located at the
    node's 1-based position in the graph): (number of nodes, text). The
    text groups the nodes by ONNX op type with the TOSA ops that stay
    float at them, e.g. "Sigmoid x7 [tosa.sigmoid], Conv x2
    [tosa.transpose]" (a Conv's layout transpose can stay float while the
    convolution itself is integer)."""
    import onnx
    nodes = onnx.load(onnx_path, load_external_data=False).graph.node
    groups = {}  # op type -> [count, set of TOSA ops]
    found = FALLBACK_RE.findall(stderr)
    for line, names in found:
        i = int(line) - 1
        t = nodes[i].op_type if 0 <= i < len(nodes) else "?"
        g = groups.setdefault(t, [0, set()])
        g[0] += 1
        g[1].update(re.findall(r"'([a-z_.0-9]+)'", names))
    text = ", ".join("%s x%d [%s]" % (t, groups[t][0],
                                      " ".join(sorted(groups[t][1])))
                     for t in sorted(groups))
    return len(found), text


class Row(object):
    def __init__(self, model, opset):
        self.model, self.opset = model, opset
        self.cells = {}   # stage -> (ok, short text)
        self.notes = []   # (stage, text)
        self.seconds = 0.0

    def set(self, stage, ok, text, note=None):
        self.cells[stage] = (ok, text)
        if note:
            self.notes.append((stage, note))


class Runner(object):
    def __init__(self, args, log):
        self.args = args
        self.log = log

    def short(self, d, text):
        text = text.replace(d + os.sep, "").replace(self.args.work + os.sep,
                                                     "")
        return "\n".join(l if len(l) <= 300 else l[:297] + "..."
                         for l in text.split("\n"))

    def stage(self, row, d, name, fn):
        """Runs fn() -> (value, cell text[, note]); records PASS or FAIL;
        returns value, or None on failure."""
        t0 = time.time()
        try:
            got = fn()
        except StageError as e:
            note = e.reason
            if e.line:
                note += ": " + e.line
            if e.cmd:
                note += "\n      command: " + " ".join(e.cmd)
            row.set(name, False, "FAIL", self.short(d, note))
            self.log("  %-7s FAIL: %s (%.1f s)" % (name, self.short(d, note),
                                                 time.time() - t0))
            return None
        except SystemExit as e:  # build_model reports with sys.exit
            note = "g++ build failed: " + first_error_line(str(e.code))
            row.set(name, False, "FAIL", self.short(d, note))
            self.log("  %-7s FAIL: %s" % (name, self.short(d, note)))
            return None
        except Exception as e:  # noqa: BLE001 (torch, onnx, numpy)
            msg = str(e).strip().splitlines()
            note = "%s: %s" % (type(e).__name__, msg[0] if msg else "")
            if self.args.verbose:
                traceback.print_exc()
            row.set(name, False, "FAIL", self.short(d, note))
            self.log("  %-7s FAIL: %s" % (name, self.short(d, note)))
            return None
        value, text = got[0], got[1]
        note = got[2] if len(got) > 2 else None
        row.set(name, True, text, note and self.short(d, note))
        self.log("  %-7s PASS: %s%s (%.1f s)" % (
            name, text, (" (" + self.short(d, note) + ")") if note else "",
            time.time() - t0))
        return value

    # ------------------------------------------------------------ torch

    def torch_side(self, name, calib, test):
        """Builds the model, its float outputs on `test` and its FX
        reference (once per model, shared by the opsets)."""
        model = wild_models.build(name, calib)
        ref = wild_models.run_torch(model, test)
        fx = None
        if not self.args.no_fx:
            fx = self.fx(model, calib, test, ref)
        return model, ref, fx

    def fx(self, model, calib, test, ref):
        """(ok, cell text, note)."""
        import torch.fx
        try:
            torch.fx.symbolic_trace(model)
        except Exception as e:  # noqa: BLE001
            msg = str(e).strip().splitlines()
            first = msg[0].split(". ")[0] if msg else ""
            return (False, "FX does not trace",
                    "torch.fx.symbolic_trace: %s: %s" % (
                        type(e).__name__, first))
        try:
            q, engine = fx_quantize(model, calib, "fbgemm")
            out = wild_models.run_torch(q, test, batch=1)
        except Exception as e:  # noqa: BLE001
            msg = str(e).strip().splitlines()
            return (False, "FX fails",
                    "FX PTQ (fbgemm): %s: %s" % (type(e).__name__,
                                                 msg[0] if msg else ""))
        if out.shape != ref.shape:
            return (False, "FX fails", "FX output shape %s, float %s"
                    % (out.shape, ref.shape))
        return (True, "%.2f dB" % sqnr(ref, out),
                "FX fbgemm qconfig on the %s" % engine)

    # ------------------------------------------------------------ lowbit

    def run_row(self, name, opset, calib, test, torch_side):
        args = self.args
        row = Row(name, opset)
        t_start = time.time()
        d = os.path.join(args.work, name, "opset%d" % opset)
        os.makedirs(d, exist_ok=True)
        calib_path = os.path.join(d, "calib.npy")
        test_path = os.path.join(d, "test.npy")
        np.save(calib_path, calib)
        np.save(test_path, test)
        onnx_path = os.path.join(d, name + ".onnx")
        self.log("wild: %s opset %d" % (name, opset))
        model, ref, fx = torch_side

        def do_export():
            wild_models.export(model, name, onnx_path, opset)
            return True, "PASS", "ops: " + " ".join(
                wild_models.op_types(onnx_path))
        if self.stage(row, d, "export", do_export) is None:
            row.seconds = time.time() - t_start
            return row

        def do_float():
            out = os.path.join(d, "lowbit_float.npy")
            run([args.lowbitc, onnx_path, "--run", test_path, "-o", out],
                "lowbitc --run")
            a = np.load(out)
            ort_out = os.path.join(d, "ort_float.npy")
            cmd = [args.node, ORT_RUN, onnx_path, "--input", test_path,
                   "-o", ort_out]
            if args.ort_dir:
                cmd += ["--ort-dir", args.ort_dir]
            run(cmd, "ort_run.js")
            b = np.load(ort_out)
            if a.shape != b.shape:
                raise StageError("output shape %s, ONNX Runtime %s"
                                 % (a.shape, b.shape))
            e = rel_err(a, b)
            spread = "ONNX Runtime vs torch %.1e" % rel_err(b, ref)
            if not e <= FLOAT_TOLERANCE:
                raise StageError("max relative error %.2e vs ONNX Runtime "
                                 "> %.0e (%s)" % (e, FLOAT_TOLERANCE,
                                                  spread))
            return e, "PASS %.1e" % e, spread
        self.stage(row, d, "float", do_float)

        common = [args.lowbitc, onnx_path, "--calibration", calib_path]
        cname = "wild_" + name
        cpp_dir = os.path.join(d, "cpp")

        def do_int8():
            proc = run(common + ["--emit=cpp", "--model-name", cname,
                                 "-o", cpp_dir], "lowbitc --emit=cpp")
            n, nodes = fallback_nodes(proc.stderr, onnx_path)
            note = ("float fallback at %d ONNX node(s): %s" % (n, nodes)
                    if n else "no float fallback")
            return True, "PASS %d float" % n, note
        emitted = self.stage(row, d, "int8", do_int8)

        # --float-fallback=false: what the error is (recorded, not counted
        # unless the compiler crashes or gives an unlocated error).
        if emitted:
            cmd = common + ["--float-fallback=false", "--emit=cpp",
                            "--model-name", cname, "-o",
                            os.path.join(d, "cpp_nofb")]
            proc = subprocess.run(cmd, capture_output=True, text=True,
                                  timeout=TIMEOUT)
            if proc.returncode == 0:
                row.set("nofb", True, "all int")
            else:
                line = first_error_line(proc.stderr)
                located = re.search(r"\.onnx(:\d+:\d+)?: error: ", line)
                ok = proc.returncode > 0 and bool(located)
                row.set("nofb", ok, "refused" if ok else "FAIL",
                        self.short(d, "--float-fallback=false: " + line +
                                   ("" if ok else " (exit %d)"
                                    % proc.returncode)))

        # The evaluator's integer run: the SQNR and the C++'s reference.
        def do_sqnr():
            out = os.path.join(d, "lowbit_int8.npy")
            run(common + ["--run", test_path, "-o", out],
                "lowbitc --calibration --run")
            q = np.load(out)
            if q.shape != ref.shape:
                raise StageError("int8 output shape %s, torch %s"
                                 % (q.shape, ref.shape))
            return q, "PASS %.2f dB" % sqnr(ref, q)
        evaluated = self.stage(row, d, "sqnr", do_sqnr)

        def do_cpp():
            if evaluated is None:
                raise StageError("no evaluator output to compare with "
                                 "(see sqnr)")
            exe, seconds = build_model.build(cpp_dir, cname,
                                             args.runtime_lib)
            # The harness reads float32 .npy (runtime/harness/run_model.cpp):
            # token ids go in as float32 (exact below 2^24).
            x = test_path
            if test.dtype != np.float32:
                x = os.path.join(d, "test_f32.npy")
                np.save(x, test.astype(np.float32))
            want = evaluated.reshape(-1)
            paths = cpp_bitexact.cpu_paths()
            for path in paths:
                out = os.path.join(d, "cpp_int8_%s.npy" % path)
                proc = run([exe, x, out], "run_%s (LOWBIT_MAX_ISA=%s)"
                           % (cname, path),
                           env=dict(os.environ, LOWBIT_MAX_ISA=path))
                if "run_model: kernel path %s," % path not in proc.stderr:
                    raise StageError("LOWBIT_MAX_ISA=%s did not run that "
                                     "path" % path,
                                     first_error_line(proc.stderr))
                got = np.load(out).reshape(-1)
                if got.shape != want.shape:
                    raise StageError("path %s: %d C++ values, %d evaluator "
                                     "values" % (path, got.size, want.size))
                n = cpp_bitexact.mismatch_count(got, want)
                if n:
                    i = int(np.nonzero(got.view(np.uint32) !=
                                       want.view(np.uint32))[0][0])
                    raise StageError(
                        "path %s: %d of %d values differ from the evaluator "
                        "(first at %d: C++ %r, evaluator %r)"
                        % (path, n, got.size, i, float(got[i]),
                           float(want[i])))
            return True, "PASS %d paths" % len(paths), (
                "bit-exact on %s (g++ %.0f s)" % (", ".join(paths), seconds))
        if emitted:
            self.stage(row, d, "cpp", do_cpp)

        if fx is not None:
            ok, text, note = fx
            row.set("fx", ok, text, note)
        row.seconds = time.time() - t_start
        return row


def note_key(stage, text):
    """What makes two notes the same note: the message without the command
    line, the tool's exit status, the node's position (it moves between
    opsets) and the opset; the same key within a row whatever the stage
    (an import error stops float, int8 and sqnr alike)."""
    line = text.split("\n")[0]
    line = re.sub(r"^.*? exited \d+: ", "", line)
    line = re.sub(r"\.onnx:\d+:\d+:", ".onnx:", line)
    line = re.sub(r"opset \d+", "opset N", line)
    return line


def table(rows):
    """The markdown table and its notes [(number, "model opsets, stage",
    text)]: every failure, the ONNX nodes that stayed float, what
    --float-fallback=false said. The same note on several rows of a model
    is given once."""
    head = ["model", "opset", "export", "float (rel err)", "int8 (float nodes)",
            "nofb", "C++ == evaluator", "SQNR lowbit", "SQNR FX fbgemm",
            "time"]
    keys = ["export", "float", "int8", "nofb", "cpp", "sqnr", "fx"]
    body, notes, seen = [], [], {}
    for r in rows:
        cells = [r.model, str(r.opset)]
        row_keys = set()
        for k in keys:
            if k not in r.cells:
                cells.append("-")
                continue
            ok, text = r.cells[k]
            note = [n for s, n in r.notes if s == k]
            if note and (not ok or k == "nofb" or
                         (k == "int8" and not text.endswith(" 0 float"))):
                key = (r.model, note_key(k, note[0]))
                if key not in seen:
                    notes.append([len(notes) + 1, r.model, [], k, note[0]])
                    seen[key] = notes[-1]
                entry = seen[key]
                if key not in row_keys:
                    entry[2].append(str(r.opset))
                    row_keys.add(key)
                text += " [%d]" % entry[0]
            cells.append(text)
        cells.append("%.0f s" % r.seconds)
        body.append(cells)
    widths = [max(len(x[i]) for x in [head] + body) for i in range(len(head))]
    lines = ["| " + " | ".join(h.ljust(w) for h, w in zip(head, widths))
             + " |", "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
    for b in body:
        lines.append("| " + " | ".join(c.ljust(w) for c, w in zip(b, widths))
                     + " |")
    return lines, [(n, "%s opset %s, %s" % (m, "/".join(o), k), text)
                   for n, m, o, k, text in notes]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lowbitc", required=True)
    ap.add_argument("--runtime-lib", required=True)
    ap.add_argument("--work", default="/tmp/lowbit-wild")
    ap.add_argument("--models", default=None,
                    help="comma-separated (default all: %s)"
                    % ", ".join(wild_models.MODELS))
    ap.add_argument("--opsets", default=None,
                    help="comma-separated (default 11,13,17)")
    ap.add_argument("--quick", action="store_true",
                    help="%s at opset %d, 2 test inputs, no FX unless "
                    "--models, --opsets, --test-count say otherwise"
                    % (", ".join(QUICK_MODELS), QUICK_OPSET))
    ap.add_argument("--test-count", type=int, default=None,
                    help="held-out inputs (default 8, 2 with --quick)")
    ap.add_argument("--no-fx", action="store_true",
                    help="skip PyTorch's FX reference")
    ap.add_argument("--strict", action="store_true",
                    help="an XPASS (a stage passing that EXPECTED does not "
                    "list) fails the run too")
    ap.add_argument("--node", default="node")
    ap.add_argument("--ort-dir", default=None)
    ap.add_argument("--verbose", action="store_true")
    args = ap.parse_args()
    if args.models:
        names = [m for m in args.models.split(",") if m]
    else:
        names = QUICK_MODELS if args.quick else list(wild_models.MODELS)
    for n in names:
        if n not in wild_models.MODELS:
            ap.error("unknown model %r (known: %s)"
                     % (n, ", ".join(wild_models.MODELS)))
    if args.opsets:
        opsets = [int(o) for o in args.opsets.split(",") if o]
    else:
        opsets = [QUICK_OPSET] if args.quick else list(wild_models.OPSETS)
    if args.test_count is None:
        args.test_count = 2 if args.quick else wild_models.TEST_COUNT
    if args.quick:
        args.no_fx = True
    args.lowbitc = os.path.abspath(args.lowbitc)
    args.runtime_lib = os.path.abspath(args.runtime_lib)
    args.work = os.path.abspath(args.work)
    os.makedirs(args.work, exist_ok=True)

    def log(msg):
        print(msg, flush=True)

    import torch
    log("wild: %d model(s) x opsets %s, %d held-out inputs, torch %s, "
        "kernel paths %s" % (len(names), ",".join(map(str, opsets)),
                             args.test_count, torch.__version__,
                             ", ".join(cpp_bitexact.cpu_paths())))
    runner = Runner(args, log)
    rows = []
    start = time.time()
    for name in names:
        calib = wild_models.calibration_data(name)
        test = wild_models.test_data(name, args.test_count)
        try:
            side = runner.torch_side(name, calib, test)
        except Exception as e:  # noqa: BLE001
            for opset in opsets:
                r = Row(name, opset)
                r.set("export", False, "FAIL",
                      "torch model: %s: %s" % (type(e).__name__, e))
                rows.append(r)
            continue
        for opset in opsets:
            rows.append(runner.run_row(name, opset, calib, test, side))

    lines, notes = table(rows)
    log("")
    for l in lines:
        log(l)
    log("")
    for i, where, text in notes:
        log("[%d] %s: %s" % (i, where, text))

    # Against the expectations.
    regressions, xpasses = [], []
    for r in rows:
        want = expected(r.model, r.opset)
        for k in STAGES:
            ok = r.cells.get(k, (False, ""))[0]
            if k in want and not ok:
                regressions.append("%s opset %d %s" % (r.model, r.opset, k))
            elif ok and k not in want:
                xpasses.append("%s opset %d %s" % (r.model, r.opset, k))
        if "nofb" in r.cells and not r.cells["nofb"][0]:
            regressions.append("%s opset %d nofb" % (r.model, r.opset))
    log("")
    passed = sum(1 for r in rows for k in STAGES
                 if r.cells.get(k, (False,))[0])
    log("wild: %d of %d stages PASS (%.0f s)" % (
        passed, len(rows) * len(STAGES), time.time() - start))
    for x in xpasses:
        log("wild: XPASS (passes, not in EXPECTED): %s" % x)
    for x in regressions:
        log("wild: UNEXPECTED FAIL: %s" % x)
    bad = regressions or (args.strict and xpasses)
    log("wild: expectations %s" % ("NOT met" if bad else "met"))
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
