#!/usr/bin/python3
"""Run lowbitc over the ONNX backend conformance data shipped by Debian.

Debian's libonnx-testdata package installs the ONNX backend test cases under
/usr/share/libonnx-testdata/data. Each case is a folder holding a `model.onnx`
and one or more `test_data_set_*/` folders with `input_*.pb` / `output_*.pb`
TensorProto files. This runner:

  1. selects, from the `node/` and `pytorch-converted/` suites, every case whose
     model only uses ONNX ops that lowbit's importer supports (SUPPORTED_OPS);
  2. for each selected case and data set, writes the inputs as .npy files and
     runs `lowbitc model.onnx --run NAME=FILE.npy ... -o OUT`;
  3. when lowbitc reports that a graph input "must be a compile-time constant"
     (a quantization scale, a reshape shape, ...), binds that input to its
     test value with `--bind-input NAME=FILE.npy` and retries;
  4. compares lowbitc's outputs with the expected ones and classifies the case
     as PASS, FAIL or UNSUPPORTED.

Every selected case ends in exactly one of the three classes; nothing is
skipped silently. The last line of the output is always
`N passed, N failed, N unsupported`. The exit code is 1 if any case failed or
fewer than --min-pass cases passed, 0 otherwise (2 for usage errors).

Must run under Debian's /usr/bin/python3, which has numpy and onnx.
"""

import argparse
import concurrent.futures
import dataclasses
import fnmatch
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
import onnx
from onnx import numpy_helper

DEFAULT_DATA_DIR = "/usr/share/libonnx-testdata/data"

# Suites (sub-folders of the data dir) that are searched for cases.
SUITES = ("node", "pytorch-converted")

# The ONNX ops lowbit's importer supports. A case is selected when every node
# of its model (including nodes of nested graphs, should there be any) is one
# of these ops in the default ONNX domain.
SUPPORTED_OPS = frozenset("""
    Conv ConvTranspose Gemm MatMul Add Sub Mul Div
    Relu PRelu LeakyRelu Clip Sigmoid HardSigmoid HardSwish Tanh
    MaxPool AveragePool GlobalAveragePool BatchNormalization
    Flatten Reshape Transpose Concat Pad Softmax
    Identity Constant Dropout Squeeze Unsqueeze Shape Gather ConstantOfShape Cast
    QuantizeLinear DequantizeLinear QLinearConv QLinearMatMul
    ConvInteger MatMulInteger
""".split())

# ONNX element types lowbitc can read and write as .npy (float32, uint8, int8,
# int32, int64, and bool). bool is in lowbitc's output set; it is also
# accepted for inputs here so that lowbitc, not the runner, decides about
# e.g. Dropout's boolean training_mode input (which is normally bound).
TP = onnx.TensorProto
NPY_ELEM_TYPES = {
    TP.FLOAT: np.dtype(np.float32),
    TP.UINT8: np.dtype(np.uint8),
    TP.INT8: np.dtype(np.int8),
    TP.INT32: np.dtype(np.int32),
    TP.INT64: np.dtype(np.int64),
    TP.BOOL: np.dtype(np.bool_),
}

# Float outputs are compared with numpy.allclose(actual, expected, RTOL, ATOL);
# integer and bool outputs must match exactly.
RTOL = 1e-4
ATOL = 1e-5

TIMEOUT_S = 60        # per lowbitc invocation
MAX_BIND_ROUNDS = 4   # retries that add --bind-input for newly named inputs

PASS, FAIL, UNSUPPORTED = "PASS", "FAIL", "UNSUPPORTED"

CONSTANT_MARKER = "must be a compile-time constant"
GRAPH_INPUT_RE = re.compile(r"graph input '([^']*)'")
UNSUPPORTED_RE = re.compile(r"unsupported", re.IGNORECASE)


# --------------------------------------------------------------------------
# Case discovery and selection
# --------------------------------------------------------------------------

@dataclasses.dataclass
class ValueInfo:
    """A graph input or output as the runner sees it."""
    name: str
    elem_type: Optional[int]  # ONNX TensorProto element type; None if not a tensor

    def type_name(self) -> str:
        if self.elem_type is None:
            return "a non-tensor type (sequence/optional/map)"
        return TP.DataType.Name(self.elem_type)


@dataclasses.dataclass
class Case:
    suite: str
    name: str
    path: str
    ops: List[str]
    inputs: List[ValueInfo]    # graph inputs that are not initializers, in order
    outputs: List[ValueInfo]   # graph outputs, in order
    data_sets: List[str]       # test_data_set_* folders, sorted

    @property
    def display(self) -> str:
        return self.name

    def io_problem(self) -> Optional[str]:
        """Why lowbitc cannot be fed this case through .npy files, or None."""
        for kind, values in (("input", self.inputs), ("output", self.outputs)):
            for v in values:
                if v.elem_type not in NPY_ELEM_TYPES:
                    return ("runner: graph %s '%s' has %s; lowbitc's .npy I/O "
                            "supports float32, int8, uint8, int32, int64 and bool"
                            % (kind, v.name, v.type_name()))
        return None


def _collect_ops(graph: onnx.GraphProto, ops: set) -> None:
    """Add (domain, op_type) of every node in graph and its subgraphs."""
    for node in graph.node:
        ops.add((node.domain, node.op_type))
        for attr in node.attribute:
            if attr.type == onnx.AttributeProto.GRAPH:
                _collect_ops(attr.g, ops)
            elif attr.type == onnx.AttributeProto.GRAPHS:
                for g in attr.graphs:
                    _collect_ops(g, ops)


def _value_info(vi: onnx.ValueInfoProto) -> ValueInfo:
    if vi.type.HasField("tensor_type"):
        return ValueInfo(vi.name, vi.type.tensor_type.elem_type)
    return ValueInfo(vi.name, None)


def load_case(suite: str, name: str, path: str) -> Tuple[Optional[Case], Optional[str]]:
    """Load a case's model. Returns (case, None), or (None, why not selected)."""
    try:
        model = onnx.load(os.path.join(path, "model.onnx"))
    except Exception as e:  # a corrupt or unreadable model is reported, not selected
        return None, "cannot load model.onnx: %s" % e
    ops: set = set()
    _collect_ops(model.graph, ops)
    if not ops:
        return None, "empty graph"
    unsupported = sorted(op for dom, op in ops
                         if dom not in ("", "ai.onnx") or op not in SUPPORTED_OPS)
    if unsupported:
        return None, "uses " + ", ".join(unsupported)
    initializers = {t.name for t in model.graph.initializer}
    inputs = [_value_info(vi) for vi in model.graph.input if vi.name not in initializers]
    outputs = [_value_info(vi) for vi in model.graph.output]
    data_sets = sorted(d for d in os.listdir(path)
                       if d.startswith("test_data_set_")
                       and os.path.isdir(os.path.join(path, d)))
    return Case(suite, name, path, sorted(op for _, op in ops),
                inputs, outputs, data_sets), None


def select_cases(data_dir: str, patterns: Sequence[str]) -> Tuple[List[Case], List[str]]:
    """All selected cases, and warnings about cases that could not be examined."""
    cases, warnings = [], []
    for suite in SUITES:
        suite_dir = os.path.join(data_dir, suite)
        if not os.path.isdir(suite_dir):
            warnings.append("suite folder %s does not exist" % suite_dir)
            continue
        for name in sorted(os.listdir(suite_dir)):
            path = os.path.join(suite_dir, name)
            if not os.path.isfile(os.path.join(path, "model.onnx")):
                continue
            if patterns and not any(fnmatch.fnmatchcase(name, p)
                                    or fnmatch.fnmatchcase(suite + "/" + name, p)
                                    for p in patterns):
                continue
            case, why = load_case(suite, name, path)
            if case is not None:
                cases.append(case)
            elif why.startswith("cannot load"):
                warnings.append("%s/%s: %s" % (suite, name, why))
    return cases, warnings


# --------------------------------------------------------------------------
# Running one case
# --------------------------------------------------------------------------

@dataclasses.dataclass
class Result:
    case: Case
    status: str
    message: str = ""
    bound: List[str] = dataclasses.field(default_factory=list)


def safe_file_name(name: str) -> str:
    """lowbitc's file name for an output: path-unsafe characters become '_'."""
    return re.sub(r"[^A-Za-z0-9._-]", "_", name)


def _output_candidates(out_dir: str, name: str) -> List[str]:
    """Where lowbitc may have written output `name` in multi-output mode.

    The primary spelling replaces every character outside [A-Za-z0-9._-]; the
    fallbacks cover a lowbitc that only replaces path separators.
    """
    spellings = [safe_file_name(name), re.sub(r"[/\\]", "_", name), name]
    seen, paths = set(), []
    for s in spellings:
        if s and s not in seen:
            seen.add(s)
            paths.append(os.path.join(out_dir, s + ".npy"))
    return paths


def _first_line(text: str, prefer: Optional[re.Pattern] = None) -> str:
    """The most telling line of lowbitc's stderr for a one-line report."""
    lines = [l.strip() for l in text.splitlines() if l.strip()]
    if not lines:
        return ""
    if prefer is not None:
        for l in lines:
            if prefer.search(l):
                return l
    # An LLVM-style diagnostic ("file:1:2: error: ...", "LLVM ERROR: ...") first.
    for l in lines:
        if re.search(r"\berror:", l, re.IGNORECASE):
            return l
    return lines[0]


def _signal_name(returncode: int) -> str:
    try:
        return signal.Signals(-returncode).name
    except ValueError:
        return "signal %d" % -returncode


def _load_pb(path: str) -> np.ndarray:
    return numpy_helper.to_array(onnx.load_tensor(path))


def compare(name: str, actual: np.ndarray, expected: np.ndarray) -> Optional[str]:
    """None if actual matches expected, else a one-line description."""
    if actual.dtype != expected.dtype:
        return "output '%s': dtype %s, expected %s" % (name, actual.dtype, expected.dtype)
    if actual.shape != expected.shape:
        return "output '%s': shape %s, expected %s" % (name, actual.shape, expected.shape)
    if actual.dtype.kind == "f":
        if np.allclose(actual, expected, rtol=RTOL, atol=ATOL, equal_nan=True):
            return None
        with np.errstate(invalid="ignore", over="ignore"):
            diff = np.abs(actual.astype(np.float64) - expected.astype(np.float64))
        diff = np.where(np.isnan(actual) & np.isnan(expected), 0.0, diff)
        bad = int(np.count_nonzero(~np.isclose(actual, expected, rtol=RTOL, atol=ATOL,
                                               equal_nan=True)))
        return ("output '%s': max abs error %.6g, %d of %d elements outside "
                "rtol=%g atol=%g" % (name, np.nanmax(diff) if diff.size else 0.0,
                                     bad, actual.size, RTOL, ATOL))
    if np.array_equal(actual, expected):
        return None
    bad = int(np.count_nonzero(actual != expected))
    return "output '%s': %d of %d elements differ (exact comparison)" % (
        name, bad, actual.size)


def run_with_timeout(cmd: List[str]) -> Optional[subprocess.CompletedProcess]:
    """Run cmd capturing its output; None if it exceeds TIMEOUT_S.

    lowbitc runs in its own process group, so that on timeout anything it
    started (e.g. llvm-symbolizer while it prints a crash trace) is killed
    too and cannot keep the output pipes open.
    """
    with subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, start_new_session=True) as p:
        try:
            out, err = p.communicate(timeout=TIMEOUT_S)
        except subprocess.TimeoutExpired:
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            p.communicate()
            return None
        return subprocess.CompletedProcess(cmd, p.returncode, out, err)


def run_data_set(case: Case, data_dir: str, work: str, lowbitc: str,
                 bound_hint: Sequence[str]) -> Result:
    """Run and check one test_data_set of a case."""
    if os.path.isdir(work):
        shutil.rmtree(work)
    os.makedirs(work)

    # Inputs: input_i.pb is the i-th non-initializer graph input.
    input_files: Dict[str, str] = {}
    for i, vi in enumerate(case.inputs):
        pb = os.path.join(data_dir, "input_%d.pb" % i)
        if not os.path.isfile(pb):
            return Result(case, FAIL, "test data has no input_%d.pb for graph input '%s'"
                          % (i, vi.name))
        npy = os.path.join(work, "input_%d.npy" % i)
        np.save(npy, _load_pb(pb), allow_pickle=False)
        input_files[vi.name] = npy
    expected = []
    for i, vi in enumerate(case.outputs):
        pb = os.path.join(data_dir, "output_%d.pb" % i)
        if not os.path.isfile(pb):
            return Result(case, FAIL, "test data has no output_%d.pb for graph output '%s'"
                          % (i, vi.name))
        expected.append(_load_pb(pb))

    multi = len(case.outputs) > 1
    out = os.path.join(work, "out" if multi else "out.npy")
    model = os.path.join(case.path, "model.onnx")
    bound: List[str] = [n for n in bound_hint if n in input_files]

    for _ in range(MAX_BIND_ROUNDS + 1):
        if multi:
            shutil.rmtree(out, ignore_errors=True)
            os.makedirs(out)
        elif os.path.exists(out):
            os.remove(out)
        cmd = [lowbitc, model]
        for vi in case.inputs:
            flag = "--bind-input" if vi.name in bound else "--run"
            cmd += [flag, "%s=%s" % (vi.name, input_files[vi.name])]
        # --evaluate runs the model even when every input is bound.
        cmd += ["--evaluate", "-o", out]
        proc = run_with_timeout(cmd)
        if proc is None:
            return Result(case, FAIL, "timeout after %d s" % TIMEOUT_S, bound)
        err = proc.stderr.decode("utf-8", "replace")
        if proc.returncode < 0:
            return Result(case, FAIL, "lowbitc killed by %s%s" % (
                _signal_name(proc.returncode),
                (": " + _first_line(err)) if err.strip() else ""), bound)
        if proc.returncode == 0:
            break
        if CONSTANT_MARKER in err:
            new = [n for n in GRAPH_INPUT_RE.findall(err)
                   if n in input_files and n not in bound]
            if new:
                bound += [n for i, n in enumerate(new) if n not in new[:i]]
                continue
        if UNSUPPORTED_RE.search(err):
            return Result(case, UNSUPPORTED, _first_line(err, UNSUPPORTED_RE), bound)
        return Result(case, FAIL, _first_line(err) or
                      "lowbitc exited with %d and no diagnostic" % proc.returncode, bound)
    else:
        return Result(case, FAIL, "still asks for compile-time constants after %d "
                      "rounds of --bind-input: %s" % (MAX_BIND_ROUNDS, _first_line(err)),
                      bound)

    # Compare every output, in graph output order.
    for vi, exp in zip(case.outputs, expected):
        if multi:
            path = next((p for p in _output_candidates(out, vi.name) if os.path.isfile(p)),
                        None)
            if path is None:
                return Result(case, FAIL, "lowbitc succeeded but wrote no %s" %
                              _output_candidates(out, vi.name)[0], bound)
        else:
            path = out
            if not os.path.isfile(path):
                return Result(case, FAIL, "lowbitc succeeded but wrote no %s" % path, bound)
        try:
            actual = np.load(path, allow_pickle=False)
        except Exception as e:
            return Result(case, FAIL, "cannot read %s: %s" % (path, e), bound)
        problem = compare(vi.name, actual, exp)
        if problem:
            return Result(case, FAIL, problem, bound)
    return Result(case, PASS, "", bound)


def run_case(case: Case, work_root: str, lowbitc: str) -> Result:
    """Run all data sets of a case; the first non-passing one decides."""
    problem = case.io_problem()
    if problem:
        return Result(case, UNSUPPORTED, problem)
    if not case.data_sets:
        return Result(case, FAIL, "case has no test_data_set_* folder")
    bound: List[str] = []
    for ds in case.data_sets:
        work = os.path.join(work_root, case.suite, case.name, ds)
        try:
            res = run_data_set(case, os.path.join(case.path, ds), work, lowbitc, bound)
        except Exception as e:  # a runner-side problem must still be reported
            return Result(case, FAIL, "runner error: %s: %s" % (type(e).__name__, e), bound)
        if res.status != PASS:
            if len(case.data_sets) > 1:
                res.message = "%s: %s" % (ds, res.message)
            return res
        bound = res.bound
    return Result(case, PASS, "", bound)


# --------------------------------------------------------------------------
# Reporting
# --------------------------------------------------------------------------

def format_result(r: Result) -> str:
    bound = "  [bound: %s]" % ", ".join(r.bound) if r.bound else ""
    if r.status == PASS:
        return "PASS %s%s" % (r.case.display, bound)
    return "%s %s: %s%s" % (r.status, r.case.display, r.message, bound)


def print_list(cases: List[Case]) -> None:
    """--list: the selected cases, grouped by suite, with their ops."""
    for suite in SUITES:
        in_suite = [c for c in cases if c.suite == suite]
        if not in_suite:
            continue
        print("%s (%d):" % (suite, len(in_suite)))
        for c in in_suite:
            note = c.io_problem()
            print("  %-55s %s%s" % (c.name, " ".join(c.ops),
                                    "   [not runnable: %s]" % note if note else ""))


def main(argv: Optional[Sequence[str]] = None) -> int:
    ap = argparse.ArgumentParser(
        description="Run lowbitc over the ONNX backend test data "
                    "(Debian libonnx-testdata) and compare with the expected outputs.")
    ap.add_argument("--lowbitc", help="path to the lowbitc binary (required unless --list)")
    ap.add_argument("--data", default=DEFAULT_DATA_DIR,
                    help="test data root holding node/ and pytorch-converted/ "
                         "(default: %(default)s)")
    ap.add_argument("--work", help="scratch folder for .npy files "
                                   "(default: a temporary folder, removed afterwards)")
    ap.add_argument("--min-pass", type=int, default=0,
                    help="fail if fewer than N cases pass (default: 0)")
    ap.add_argument("--cases", nargs="+", default=[], metavar="PATTERN",
                    help="only cases whose name (or suite/name) matches one of these "
                         "fnmatch patterns, e.g. 'test_conv*'")
    ap.add_argument("-j", "--jobs", type=int, default=2, metavar="N",
                    help="parallel lowbitc processes (default: %(default)s)")
    ap.add_argument("--list", action="store_true",
                    help="print the selected cases and exit")
    args = ap.parse_args(argv)

    cases, warnings = select_cases(args.data, args.cases)
    for w in warnings:
        print("warning: %s" % w, file=sys.stderr)
    print("selected %d cases (%s) from %s" % (
        len(cases), ", ".join("%s: %d" % (s, sum(c.suite == s for c in cases))
                              for s in SUITES), args.data))
    if args.list:
        print_list(cases)
        return 0

    if not args.lowbitc:
        ap.error("--lowbitc is required")
    lowbitc = shutil.which(args.lowbitc) if os.sep not in args.lowbitc else args.lowbitc
    if not lowbitc or not os.access(lowbitc, os.X_OK):
        print("error: lowbitc not found or not executable: %s" % args.lowbitc,
              file=sys.stderr)
        return 2
    lowbitc = os.path.abspath(lowbitc)
    print("float outputs: numpy.allclose(rtol=%g, atol=%g); integer and bool outputs: "
          "exact; shapes and dtypes: exact; timeout %d s per lowbitc run"
          % (RTOL, ATOL, TIMEOUT_S))
    sys.stdout.flush()

    tmp = None
    if args.work:
        work_root = os.path.abspath(args.work)
        os.makedirs(work_root, exist_ok=True)
    else:
        tmp = tempfile.mkdtemp(prefix="lowbit-onnx-testdata-")
        work_root = tmp

    results: List[Result] = []
    try:
        with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
            # map() yields in submission order: the report is deterministic.
            for r in pool.map(lambda c: run_case(c, work_root, lowbitc), cases):
                results.append(r)
                print(format_result(r))
                sys.stdout.flush()
    finally:
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)

    passed = [r for r in results if r.status == PASS]
    failed = [r for r in results if r.status == FAIL]
    unsupported = [r for r in results if r.status == UNSUPPORTED]
    bound = [r for r in results if r.bound]

    print()
    print("Failed (%d): %s" % (len(failed), " ".join(r.case.display for r in failed) or "-"))
    print("Unsupported (%d): %s" % (len(unsupported),
                                    " ".join(r.case.display for r in unsupported) or "-"))
    print("Inputs bound with --bind-input (%d cases)%s" % (len(bound), ":" if bound else ""))
    for r in bound:
        print("  %s: %s" % (r.case.display, ", ".join(r.bound)))
    if len(passed) < args.min_pass:
        print("error: %d cases passed, fewer than --min-pass %d"
              % (len(passed), args.min_pass))
    print("%d passed, %d failed, %d unsupported" % (len(passed), len(failed), len(unsupported)))
    return 1 if failed or len(passed) < args.min_pass else 0


if __name__ == "__main__":
    sys.exit(main())
