#!/usr/bin/python3
"""The model-zoo tier: torchvision models through lowbitc, step by step.

    zoo.py --lowbitc LOWBITC --runtime-lib LIB [--work DIR]
           [--models a,b,c | --quick] [--image-size N] [--test-images N]
           [--fx-backend B[,B...]] [--test-set photos|crops]
           [--flag=LOWBITC_FLAG ...]
           [--min-sqnr DB] [--max-sqnr-deficit DB] [--all-kernel-paths]

For every model (test/zoo/zoo_models.py: torchvision's architectures with
weights=None, a fixed seed, BatchNorm statistics measured on scikit-image's
sample images, exported at opset 13 with a dynamic batch axis):

  export    build, set the BatchNorm statistics, torch.onnx.export;
  float     `lowbitc model.onnx --run test.npy` against ONNX Runtime
            (test/Oracle/ort_run.js): max|a - b| / max|b| <= 1e-4, or
            <= ONNX Runtime's own relative error against torch when that is
            larger (a randomly initialized efficientnet_b0 amplifies float32
            rounding: torch and ONNX Runtime differ by 5.9e-4);
  int8      `lowbitc model.onnx --calibration calib.npy --compile-to=integer
            --run test.npy` (the evaluator on the integer IR);
  C++       `lowbitc model.onnx --calibration calib.npy --emit=cpp`, built
            with runtime/harness/build_model.py and run on test.npy;
  bitexact  the C++ output equals the evaluator's, bit for bit (the
            comparison of test/e2e/cpp_bitexact.py; with --all-kernel-paths
            also with every kernel path this CPU has forced);
  SQNR      10 log10(sum f^2 / sum (f - q)^2) of the int8 output q against
            torch's float output f, for lowbit and for PyTorch's FX
            post-training quantizer (prepare_fx / convert_fx,
            get_default_qconfig_mapping(--fx-backend, default x86)) calibrated
            on the same 16 images; diff = lowbit - FX (target: >= -1 dB).

A step that fails is reported with the first line of its error and the
model's remaining steps that depend on it are skipped; the other models
still run. Each model ends with a line `zoo: MODEL: OK` or
`zoo: MODEL: FAILED (step: first error line)`, then a table is printed and
the last line is `zoo: N of M models OK`; the exit code is 1 if any model
failed (with --min-sqnr / --max-sqnr-deficit an SQNR below them is a failure
too; without them SQNR is only reported).

--quick: resnet18, mobilenet_v2, squeezenet1_1, shufflenet_v2_x1_0 (channel
split and shuffle, ReduceMean) and mnasnet0_5 (ReduceMean) at 96x96 on 4 test
images
(the lit test test/zoo/zoo-quick.test).
"""
import argparse
import os
import subprocess
import sys
import time
import traceback

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "e2e"))
sys.path.insert(0, os.path.join(HERE, "..", "..", "runtime", "harness"))
import build_model  # noqa: E402
import cpp_bitexact  # noqa: E402
import zoo_models  # noqa: E402
from zoo_models import sqnr  # noqa: E402

ORT_RUN = os.path.join(HERE, "..", "Oracle", "ort_run.js")
QUICK_MODELS = ["resnet18", "mobilenet_v2", "squeezenet1_1", "shufflenet_v2_x1_0",
                "mnasnet0_5"]
FLOAT_TOLERANCE = 1e-4


class StepError(Exception):
    """A failed step; str() is its first error line."""


def first_error_line(text):
    """The line of a tool's stderr that says what went wrong: the first one
    with 'error' in it, else the last non-empty one."""
    lines = [l.strip() for l in text.splitlines() if l.strip()]
    for l in lines:
        if "error" in l.lower() or "FAILED" in l:
            return l
    return lines[-1] if lines else "(no message)"


def run(cmd, what, env=None):
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        raise StepError("%s: %s" % (what, first_error_line(
            proc.stderr + "\n" + proc.stdout)))
    return proc


def rel_err(a, b):
    return float(np.max(np.abs(a - b)) / max(float(np.max(np.abs(b))), 1e-30))


class Result(object):
    def __init__(self, name):
        self.name = name
        self.steps = {}      # step -> (ok, text)
        self.failure = None  # (step, line)
        self.sqnr_lowbit = None
        self.sqnr_fx = None
        self.sqnr_fx_more = {}  # further --fx-backend entries -> SQNR
        self.seconds = 0.0

    def ok(self, step, text):
        self.steps[step] = (True, text)

    def fail(self, step, line, counts=True):
        self.steps[step] = (False, line)
        if counts and self.failure is None:
            self.failure = (step, line)


def prepare_data(work, size, test_count, test_set):
    """calib.npy and test.npy, shared by the models."""
    data = os.path.join(work, "data_%d_%s" % (size, test_set))
    os.makedirs(data, exist_ok=True)
    calib = zoo_models.calibration_images(size)
    test = zoo_models.test_images(size, test_count, test_set)
    np.save(os.path.join(data, "calib.npy"), calib)
    np.save(os.path.join(data, "test.npy"), test)
    return (os.path.join(data, "calib.npy"), calib,
            os.path.join(data, "test.npy"), test)


def run_model(name, args, data, log):
    calib_path, calib, test_path, test = data
    res = Result(name)
    start = time.time()
    d = os.path.join(args.work, name)
    os.makedirs(d, exist_ok=True)
    onnx_path = os.path.join(d, name + ".onnx")
    flags = list(args.flag)

    def short(line):
        """The error line without the work folder's path, at most 200
        characters."""
        line = line.replace(d + os.sep, "")
        return line if len(line) <= 200 else line[:197] + "..."

    def step(label, fn, counts=True):
        """Runs fn; records and prints its outcome; returns its value or
        None when it failed. A failure of a step that does not count (the
        FX reference) does not fail the model."""
        t0 = time.time()
        try:
            value, text = fn()
        except StepError as e:
            line = str(e)
        except SystemExit as e:  # build_model reports with sys.exit
            line = first_error_line(str(e.code))
        except Exception as e:  # noqa: BLE001 (a torch or numpy failure)
            line = "%s: %s" % (type(e).__name__, first_error_line(str(e)))
            if args.verbose:
                traceback.print_exc()
        else:
            res.ok(label, text)
            log("  %-9s ok: %s (%.1f s)" % (label, text, time.time() - t0))
            return value
        line = short(line)
        res.fail(label, line, counts)
        log("  %-9s %s: %s (%.1f s)" % (
            label, "FAILED" if counts else "failed (not counted)", line,
            time.time() - t0))
        return None
        res.ok(label, text)
        log("  %-9s ok: %s (%.1f s)" % (label, text, time.time() - t0))
        return value

    log("zoo: %s" % name)

    # 1. torch: the model, its BatchNorm statistics, the export, float
    # outputs; and the FX reference.
    def do_export():
        model = zoo_models.build(name)
        zoo_models.set_batchnorm_statistics(model, calib)
        zoo_models.export(model, onnx_path, args.image_size)
        ref = zoo_models.run_torch(model, test)
        np.save(os.path.join(d, "torch_float.npy"), ref)
        return (model, ref), "opset %d, output %s" % (
            zoo_models.OPSET, "x".join(map(str, ref.shape)))
    got = step("export", do_export)
    if got is None:
        res.seconds = time.time() - start
        return res
    model, ref = got

    def do_fx():
        texts = []
        for i, backend in enumerate(args.fx_backends):
            q, engine = zoo_models.fx_quantize(model, calib, backend)
            out = zoo_models.run_torch(q, test, batch=1)
            np.save(os.path.join(d, "fx_int8_%s.npy" % backend), out)
            value = sqnr(ref, out)
            if i == 0:
                res.sqnr_fx = value
            else:
                res.sqnr_fx_more[backend] = value
            texts.append("SQNR %.2f dB (qconfig %s, %s)" % (value, backend,
                                                           engine))
        return None, "; ".join(texts)
    step("fx", do_fx, counts=False)

    # 2. float import against ONNX Runtime.
    def do_float():
        out = os.path.join(d, "lowbit_float.npy")
        run([args.lowbitc, onnx_path] + ["--run", test_path, "-o", out],
            "lowbitc --run")
        a = np.load(out)
        if args.no_ort:
            b, against = ref, "torch"
        else:
            ort_out = os.path.join(d, "ort_float.npy")
            cmd = [args.node, ORT_RUN, onnx_path, "--input", test_path,
                   "-o", ort_out]
            if args.ort_dir:
                cmd += ["--ort-dir", args.ort_dir]
            proc = subprocess.run(cmd, capture_output=True, text=True)
            if proc.returncode != 0:
                raise StepError("ort_run.js: " + first_error_line(proc.stderr))
            b, against = np.load(ort_out), "ONNX Runtime"
        if a.shape != b.shape:
            raise StepError("shape %s, %s gives %s" % (a.shape, against,
                                                       b.shape))
        e = rel_err(a, b)
        # A model can amplify float32 rounding so much (random weights) that
        # torch and ONNX Runtime themselves disagree by more than the
        # tolerance: then lowbit may differ from ONNX Runtime by as much.
        tol = FLOAT_TOLERANCE
        spread = rel_err(b, ref) if b is not ref else 0.0
        if spread > tol:
            tol = spread
        text = "relative error %.2g vs %s (torch %.2g" % (e, against,
                                                          rel_err(a, ref))
        if tol > FLOAT_TOLERANCE:
            text += "; tolerance %.2g: %s vs torch" % (tol, against)
        text += ")"
        if not e <= tol:
            raise StepError(text + " > %.2g" % tol)
        return e, text
    float_err = step("float", do_float)

    # 3. the integer model in the evaluator.
    common = [args.lowbitc, onnx_path, "--calibration", calib_path] + flags

    def do_int8():
        out = os.path.join(d, "lowbit_int8.npy")
        run(common + ["--compile-to=integer", "--run", test_path, "-o", out],
            "lowbitc --calibration --run")
        q = np.load(out)
        if q.shape != ref.shape:
            raise StepError("int8 output shape %s, torch %s"
                            % (q.shape, ref.shape))
        res.sqnr_lowbit = sqnr(ref, q)
        return q, "SQNR %.2f dB" % res.sqnr_lowbit
    evaluated = step("int8", do_int8)

    # 4. the generated C++.
    cname = name.replace("-", "_")
    cpp_dir = os.path.join(d, "cpp")

    def do_cpp():
        run(common + ["--emit=cpp", "--model-name", cname, "-o", cpp_dir],
            "lowbitc --emit=cpp")
        exe, seconds = build_model.build(cpp_dir, cname, args.runtime_lib)
        out = os.path.join(d, "cpp_int8.npy")
        run([exe, test_path, out], "run_" + cname)
        return np.load(out), "built in %.1f s" % seconds
    cpp_out = step("cpp", do_cpp)

    # 5. C++ == evaluator.
    if cpp_out is not None and evaluated is not None:
        def do_bitexact():
            a, b = cpp_out.reshape(-1), evaluated.reshape(-1)
            if a.shape != b.shape:
                raise StepError("%d C++ values, %d evaluator values"
                                % (a.size, b.size))
            n = cpp_bitexact.mismatch_count(a, b)
            if n:
                raise StepError("%d of %d elements differ" % (n, a.size))
            text = "%d elements, 0 mismatches" % a.size
            if args.all_kernel_paths:
                exe = os.path.join(cpp_dir, "run_" + cname)
                for path in cpp_bitexact.cpu_paths():
                    out = os.path.join(d, "cpp_int8_%s.npy" % path)
                    run([exe, test_path, out], "run_%s (%s)" % (cname, path),
                        env=dict(os.environ, LOWBIT_MAX_ISA=path))
                    n = cpp_bitexact.mismatch_count(np.load(out).reshape(-1), b)
                    if n:
                        raise StepError("kernel path %s: %d of %d elements "
                                        "differ" % (path, n, a.size))
                text += " (paths %s)" % ", ".join(cpp_bitexact.cpu_paths())
            return True, text
        step("bitexact", do_bitexact)

    # 6. SQNR against the thresholds, if any.
    if res.sqnr_lowbit is not None:
        if args.min_sqnr is not None and res.sqnr_lowbit < args.min_sqnr:
            res.fail("sqnr", "lowbit SQNR %.2f dB < %.2f dB"
                     % (res.sqnr_lowbit, args.min_sqnr))
        if (args.max_sqnr_deficit is not None and res.sqnr_fx is not None
                and res.sqnr_lowbit < res.sqnr_fx - args.max_sqnr_deficit):
            res.fail("sqnr", "lowbit SQNR %.2f dB is more than %.1f dB below "
                     "FX's %.2f dB" % (res.sqnr_lowbit, args.max_sqnr_deficit,
                                       res.sqnr_fx))
    res.float_err = float_err
    res.seconds = time.time() - start
    if res.failure:
        log("zoo: %s: FAILED (%s: %s)" % (name, res.failure[0],
                                           res.failure[1]))
    else:
        log("zoo: %s: OK" % name)
    return res


def cell(res, step, ok_text):
    if step not in res.steps:
        return "-"
    ok, _ = res.steps[step]
    return ok_text if ok else "FAIL"


def table(results, backends):
    head = ["model", "float import", "int8 C++ built", "C++ == evaluator",
            "SQNR lowbit", "SQNR FX %s" % backends[0], "diff"]
    head += ["SQNR FX %s" % b for b in backends[1:]] + ["time"]
    rows = []
    for r in results:
        fe = getattr(r, "float_err", None)
        diff = "-"
        if r.sqnr_lowbit is not None and r.sqnr_fx is not None:
            diff = "%+.2f dB" % (r.sqnr_lowbit - r.sqnr_fx)
        rows.append([
            r.name,
            ("ok %.1e" % fe) if fe is not None else cell(r, "float", "ok"),
            cell(r, "cpp", "ok"),
            cell(r, "bitexact", "ok"),
            ("%.2f dB" % r.sqnr_lowbit) if r.sqnr_lowbit is not None
            else cell(r, "int8", "?"),
            ("%.2f dB" % r.sqnr_fx) if r.sqnr_fx is not None
            else cell(r, "fx", "?"),
            diff] + [
            ("%.2f dB" % r.sqnr_fx_more[b]) if b in r.sqnr_fx_more
            else cell(r, "fx", "?") for b in backends[1:]] + [
            "%.0f s" % r.seconds])
    widths = [max(len(x[i]) for x in [head] + rows) for i in range(len(head))]
    lines = ["| " + " | ".join(h.ljust(w) for h, w in zip(head, widths)) + " |",
             "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
    for row in rows:
        lines.append("| " + " | ".join(c.ljust(w) for c, w in
                                        zip(row, widths)) + " |")
    failures = []
    for r in results:
        for s, (ok, text) in r.steps.items():
            if not ok:
                failures.append("  %s, %s: %s" % (r.name, s, text))
    return lines, failures


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lowbitc", required=True)
    ap.add_argument("--runtime-lib", required=True)
    ap.add_argument("--work", default="/tmp/lowbit-zoo")
    ap.add_argument("--models", default=None,
                    help="comma-separated (default: all): "
                    + ", ".join(zoo_models.MODELS))
    ap.add_argument("--quick", action="store_true",
                    help="%s at 96x96 on 4 test images unless --models, "
                    "--image-size, --test-images say otherwise"
                    % ", ".join(QUICK_MODELS))
    ap.add_argument("--image-size", type=int, default=None,
                    help="square input side (default 224, 96 with --quick)")
    ap.add_argument("--test-images", type=int, default=None,
                    help="test images, up to 8 (default 8, 4 with --quick)")
    ap.add_argument("--fx-backend", default="x86",
                    help="the FX reference's get_default_qconfig_mapping: "
                    "x86 (default), fbgemm, onednn or qnnpack; several, "
                    "comma-separated, add a column each (the first is the "
                    "one diff and --max-sqnr-deficit compare with)")
    ap.add_argument("--flag", action="append", default=[],
                    help="extra lowbitc flag for the int8 steps "
                    "(write --flag=--range-estimator=sqnr)")
    ap.add_argument("--min-sqnr", type=float, default=None,
                    help="fail a model whose lowbit SQNR is below this (dB)")
    ap.add_argument("--max-sqnr-deficit", type=float, default=None,
                    help="fail a model whose lowbit SQNR is more than this "
                    "many dB below FX's")
    ap.add_argument("--all-kernel-paths", action="store_true",
                    help="also run the C++ with every kernel path of this "
                    "CPU forced (LOWBIT_MAX_ISA), each bit-exact")
    ap.add_argument("--no-ort", action="store_true",
                    help="compare the float import with torch instead of "
                    "ONNX Runtime")
    ap.add_argument("--test-set", choices=["photos", "crops"],
                    default="photos",
                    help="test inputs: 'photos', other scikit-image samples "
                         "(partly far from the calibration photographs), or "
                         "'crops', held-out crops of the calibration "
                         "photographs (zoo_models.test_images)")
    ap.add_argument("--node", default="node")
    ap.add_argument("--ort-dir", default=None,
                    help="where onnxruntime-node is installed (default: "
                    "ort_run.js's, <repo>/.deps/ort)")
    ap.add_argument("--verbose", action="store_true",
                    help="print the traceback of a Python exception")
    args = ap.parse_args()
    args.fx_backends = [b.strip() for b in args.fx_backend.split(",")
                        if b.strip()]
    for b in args.fx_backends:
        if b not in ("x86", "fbgemm", "onednn", "qnnpack"):
            ap.error("unknown --fx-backend %r" % b)
    if not args.fx_backends:
        ap.error("--fx-backend needs at least one backend")
    if args.image_size is None:
        args.image_size = 96 if args.quick else 224
    if args.test_images is None:
        args.test_images = 4 if args.quick else 8
    if args.models:
        names = [m.strip() for m in args.models.split(",") if m.strip()]
    else:
        names = QUICK_MODELS if args.quick else list(zoo_models.MODELS)
    unknown = [n for n in names if n not in zoo_models.MODELS]
    if unknown:
        ap.error("unknown model(s) %s (known: %s)"
                 % (", ".join(unknown), ", ".join(zoo_models.MODELS)))
    args.lowbitc = os.path.abspath(args.lowbitc)
    args.runtime_lib = os.path.abspath(args.runtime_lib)
    os.makedirs(args.work, exist_ok=True)

    def log(msg):
        print(msg, flush=True)

    import torch
    log("zoo: %d model(s) at %dx%d, %d test images (%s), 16 calibration "
        "images, torch %s, lowbitc flags: %s" % (
            len(names), args.image_size, args.image_size, args.test_images,
            args.test_set,
            torch.__version__, " ".join(args.flag) or "(none)"))
    start = time.time()
    data = prepare_data(args.work, args.image_size, args.test_images,
                        args.test_set)
    results = [run_model(n, args, data, log) for n in names]
    lines, failures = table(results, args.fx_backends)
    log("")
    for l in lines:
        log(l)
    if failures:
        log("")
        log("failures:")
        for f in failures:
            log(f)
    good = sum(1 for r in results if r.failure is None)
    log("")
    log("zoo: %d of %d models OK (%.0f s)" % (good, len(results),
                                              time.time() - start))
    sys.exit(0 if good == len(results) else 1)


if __name__ == "__main__":
    main()
