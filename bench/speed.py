#!/usr/bin/python3
"""Benchmark: lowbit's generated C++ against ONNX Runtime, per inference.

In one run, for each model (--models picks a subset):
  1. makes the ONNX model locally (seeded random weights, no downloads;
     cached in the work folder, --force makes them again) and its
     calibration images and its fixed benchmark input;
  2. compiles it with `lowbitc --emit=cpp`: a float model with
     `--calibration` (W8A8), a Q/DQ model keeping its own scales;
  3. builds the C++ with runtime/harness/build_model.py (g++ -O2, plus
     -march=native with --march-native) against the runtime library;
  4. times it: `run_NAME input.npy out.npy --repeat N` runs the input once,
     warms up, runs it N times and reports median and best ms, on one
     thread and again with `--threads 2` (lowbit/runtime/Threads.h; the
     2-thread output must be the 1-thread one byte for byte);
  5. times ONNX Runtime 1.30 (onnxruntime-node, CPU EP, sequential, inter-op
     1 thread) with bench/ort_bench.js on the same input, with intra-op 1 and
     2 threads, on the float ONNX file and, for the Q/DQ models, on the same
     Q/DQ file lowbit compiled (ORT fuses it into QLinearConv etc.; the
     script prints the ops ORT executes);
  6. prints a table: lowbit median ms (1 and 2 threads), ORT fp32 and int8
     medians (1 and 2 threads), the ratios lowbit / ORT (1 thread, and 2
     threads) for the comparison the project targets, and the weight blob
     bytes.

Models:
  resnet18          torchvision's ResNet-18 (bench/import_resnet18.py), fp32;
                    lowbit calibrates it (8 random images) to W8A8.
                    Target: vs ORT fp32.
  resnet18-int8     the same network (same weights) post-training quantized
                    in PyTorch (eager mode, torchvision's quantizable ResNet-18,
                    per-channel symmetric int8 weights, per-tensor uint8
                    activations, the same 8 images) and exported as Q/DQ
                    (opset 13). Target: vs ORT int8 on the same file.
  mobilenetv2       torchvision.models.mobilenet_v2(weights=None), seeded,
                    fp32; lowbit W8A8 from the 8 images. Target: vs ORT fp32.
  mobilenetv2-int8  the same weights in torchvision's quantizable MobileNetV2
                    (whose ReLU6 are ReLU, as torchvision quantizes it), PTQ
                    and Q/DQ export as above. Target: vs ORT int8.
  fashion-mnist     examples/fashion_mnist/fashion_cnn.onnx, lowbit W8A8
                    calibrated on the main job's 500 training images
                    (examples/fashion_mnist/data.py). Target: vs ORT fp32.

A benchmark, not a test: a missed target does not fail it. It exits non-zero
when a step fails (export, lowbitc, g++, a run, ONNX Runtime), after timing
the models that did not fail; the failing step and its error are printed.

    /usr/bin/python3 bench/speed.py [--models a,b] [--repeat N] [--work DIR]
        [--lowbitc PATH] [--runtime-lib PATH] [--march-native] [--force]

Needs Debian's /usr/bin/python3 (numpy, onnx, torch), python3-torchvision,
node and onnxruntime-node: bash bench/install-bench-deps.sh installs them.
"""

import argparse
import collections
import json
import os
import re
import shutil
import subprocess
import sys
import time
import warnings

import numpy as np

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HERE = os.path.join(REPO, "bench")
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(REPO, "runtime", "harness"))
import build_model  # noqa: E402
import import_resnet18  # noqa: E402

SEED = 0
OPSET = 13
CALIB_IMAGES = 8
IMAGE_SHAPE = (1, 3, 224, 224)
ORT_BENCH = os.path.join(HERE, "ort_bench.js")
FASHION_DIR = os.path.join(REPO, "examples", "fashion_mnist")

# key -> (description, kind, target). kind: "float" (lowbit calibrates the
# float file) or "qdq" (lowbit compiles the Q/DQ file); target: which ORT
# figure the ratio is taken against.
MODELS = collections.OrderedDict([
    ("resnet18", ("ResNet-18 fp32 -> lowbit W8A8", "float", "fp32")),
    ("resnet18-int8", ("ResNet-18 torch PTQ Q/DQ", "qdq", "int8")),
    ("mobilenetv2", ("MobileNetV2 fp32 -> lowbit W8A8", "float", "fp32")),
    ("mobilenetv2-int8", ("MobileNetV2 torch PTQ Q/DQ", "qdq", "int8")),
    ("fashion-mnist", ("Fashion-MNIST CNN -> lowbit W8A8", "float", "fp32")),
])


class StepError(Exception):
    """A step of one model failed; the message says which and why."""


def short(err):
    """First line of a StepError (the step and command), and the last line of
    the tool's own output when there is one."""
    lines = [l for l in str(err).splitlines() if l.strip()]
    first = lines[0] if lines else ""
    if len(first) > 160:
        first = first[:157] + "..."
    return first + ("\n          " + lines[-1].strip() if len(lines) > 1 else "")


def log(msg=""):
    print(msg)
    sys.stdout.flush()


def rel(path):
    p = os.path.relpath(path, REPO)
    return path if p.startswith("..") else p


def run(cmd, what, timeout=3600):
    """Runs cmd; returns the CompletedProcess or raises StepError."""
    try:
        proc = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True,
                              text=True, timeout=timeout)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise StepError("%s: cannot run `%s`: %s" % (what, " ".join(cmd), e))
    if proc.returncode != 0:
        raise StepError("%s failed (%s): `%s`\n%s" % (
            what, "signal %d" % -proc.returncode if proc.returncode < 0
            else "exit code %d" % proc.returncode,
            " ".join(cmd), (proc.stderr or proc.stdout).rstrip()[-6000:]))
    return proc


# --------------------------------------------------------------------------
# Models
# --------------------------------------------------------------------------

def save_atomic(path, array):
    tmp = path + ".tmp.npy"
    np.save(tmp, array)
    os.replace(tmp, path)


def random_images(n, seed):
    shape = (n,) + IMAGE_SHAPE[1:]
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


def image_data(work):
    """(calibration .npy, input .npy) shared by the 224x224 models: 8 and 1
    standard-normal images from fixed seeds."""
    calib = os.path.join(work, "imagenet_calib%d.npy" % CALIB_IMAGES)
    image = os.path.join(work, "imagenet_input.npy")
    if not os.path.exists(calib):
        save_atomic(calib, random_images(CALIB_IMAGES, SEED))
    if not os.path.exists(image):
        save_atomic(image, random_images(1, SEED + 1))
    return calib, image


def float_model(family):
    """The seeded float torch model of a family, in eval mode."""
    import torch

    if family == "resnet18":
        return import_resnet18.build_resnet18()  # seeds itself
    import torchvision

    torch.manual_seed(SEED)
    model = torchvision.models.mobilenet_v2(weights=None).eval()
    import_resnet18.randomize_batchnorm(model)
    return model


def quantized_model(family, calib):
    """The same weights in torchvision's quantizable architecture, PTQ'd in
    eager mode like test/Oracle/torch_qdq_oracle.py: fused Conv+BN(+ReLU),
    MinMax observers, uint8 per-tensor activations, int8 symmetric
    per-channel weights, calibrated on `calib`, converted."""
    import torch
    import torch.ao.quantization as tq
    from torchvision.models import quantization as tvq

    # Debian's torch has qnnpack and onednn, no fbgemm; the engine only
    # affects torch's own int8 kernels, not the exported graph.
    torch.backends.quantized.engine = "qnnpack"
    fp = float_model(family)
    builder = tvq.resnet18 if family == "resnet18" else tvq.mobilenet_v2
    model = builder(weights=None, quantize=False)
    model.load_state_dict(fp.state_dict(), strict=True)
    model.eval()
    model.fuse_model()
    model.qconfig = tq.QConfig(
        activation=tq.MinMaxObserver.with_args(dtype=torch.quint8),
        weight=tq.PerChannelMinMaxObserver.with_args(
            dtype=torch.qint8, qscheme=torch.per_channel_symmetric))
    tq.prepare(model, inplace=True)
    with torch.no_grad(), warnings.catch_warnings():
        # MobileNetV2's blocks without a residual never use their add's
        # observer; torch warns about it at convert time.
        warnings.simplefilter("ignore", UserWarning)
        model(torch.from_numpy(calib))
        tq.convert(model, inplace=True)
    return model


def export_onnx(model, path):
    """torch.onnx.export at opset 13, 1x3x224x224, written atomically."""
    import onnx
    import torch

    tmp = path + ".tmp"
    with torch.no_grad(), warnings.catch_warnings():
        # torch 1.13 warns that the packed weights of quantized modules have
        # no shape inference; harmless for the export.
        warnings.simplefilter("ignore", UserWarning)
        torch.onnx.export(model, torch.zeros(IMAGE_SHAPE), tmp, opset_version=OPSET,
                          do_constant_folding=True,
                          input_names=["input"], output_names=["logits"])
    onnx.checker.check_model(onnx.load(tmp))
    os.replace(tmp, path)


def op_summary(path):
    import onnx

    m = onnx.load(path)
    ops = collections.Counter((n.domain + "." if n.domain and n.domain != "ai.onnx" else "")
                              + n.op_type for n in m.graph.node)
    return ", ".join("%s %d" % kv for kv in sorted(ops.items()))


_EXPORTED = set()  # files exported by this run (--force makes each once)


def stale(path, force):
    return not os.path.exists(path) or (force and path not in _EXPORTED)


def prepare(key, work, force):
    """Makes (or reuses) the model files of `key`: a dict with
    onnx (what lowbit compiles), float_onnx (ORT fp32), qdq_onnx (ORT int8,
    or None), calib (or None), input."""
    kind = MODELS[key][1]
    if key == "fashion-mnist":
        d = os.path.join(work, "fashion-mnist")
        calib = os.path.join(d, "calib_images.npy")
        test = os.path.join(d, "test_images.npy")
        if stale(calib, force) or stale(test, force):
            _EXPORTED.update((calib, test))
            run([sys.executable, os.path.join(FASHION_DIR, "data.py"), d, "--test", "16"],
                "Fashion-MNIST data (examples/fashion_mnist/data.py)")
        image = os.path.join(d, "input.npy")
        save_atomic(image, np.load(test)[:1])
        model = os.path.join(FASHION_DIR, "fashion_cnn.onnx")
        return dict(onnx=model, float_onnx=model, qdq_onnx=None, calib=calib, input=image)

    family = key.split("-")[0]
    calib, image = image_data(work)
    float_path = os.path.join(work, import_resnet18.MODEL_FILE if family == "resnet18"
                              else "mobilenetv2_opset13.onnx")
    made = []
    try:
        if stale(float_path, force):
            _EXPORTED.add(float_path)
            start = time.time()
            export_onnx(float_model(family), float_path)
            made.append("%s (%.1f s)" % (rel(float_path), time.time() - start))
        qdq_path = None
        if kind == "qdq":
            qdq_path = os.path.join(work, "%s_qdq_opset13.onnx" % family)
            if stale(qdq_path, force):
                _EXPORTED.add(qdq_path)
                start = time.time()
                export_onnx(quantized_model(family, np.load(calib)), qdq_path)
                made.append("%s (%.1f s)" % (rel(qdq_path), time.time() - start))
    except ImportError as e:
        raise StepError("export of %s: %s (run bash bench/install-bench-deps.sh)" % (key, e))
    except Exception as e:  # torch's exporter and quantizer raise many kinds
        raise StepError("export of %s failed: %s: %s" % (key, type(e).__name__, e))
    for m in made:
        log("  exported " + m)
    if kind == "qdq":
        return dict(onnx=qdq_path, float_onnx=float_path, qdq_onnx=qdq_path, calib=None,
                    input=image)
    return dict(onnx=float_path, float_onnx=float_path, qdq_onnx=None, calib=calib, input=image)


# --------------------------------------------------------------------------
# lowbit
# --------------------------------------------------------------------------

TIMING_RE = re.compile(r"run_model: timing: repeat (\d+) median ([0-9.]+) ms "
                       r"best ([0-9.]+) ms mean ([0-9.]+) ms")


def compile_lowbit(key, files, args):
    """lowbitc --emit=cpp and the g++ build: a dict of figures and the exe."""
    name = key.replace("-", "_")
    out = os.path.join(args.work, key, "cpp")
    if os.path.isdir(out):
        shutil.rmtree(out)
    cmd = [args.lowbitc, files["onnx"]]
    if files["calib"]:
        cmd += ["--calibration", files["calib"]]
    cmd += ["--emit=cpp", "--model-name", name, "-o", out]
    log("  $ " + " ".join(rel(c) if os.path.isabs(c) else c for c in cmd))
    start = time.time()
    proc = run(cmd, "lowbitc")
    lowbitc_s = time.time() - start
    warn = [l for l in proc.stderr.splitlines() if "warning" in l.lower()]
    for w in warn[:5]:
        log("    " + w.strip())
    weights = os.path.join(out, name + ".weights.bin")
    if not os.path.exists(weights):
        raise StepError("lowbitc wrote no %s" % weights)
    arena = None
    with open(os.path.join(out, name + ".h")) as f:
        for line in f:
            if "_ARENA_BYTES" in line and line.split()[-1].rstrip("uUlL").isdigit():
                arena = int(line.split()[-1].rstrip("uUlL"))
    flags = ["-march=native"] if args.march_native else []
    try:
        exe, build_s = build_model.build(out, name, args.runtime_lib, extra_flags=flags)
    except SystemExit as e:  # build_model reports g++ failures with sys.exit
        raise StepError(str(e.code))
    log("  lowbitc %.1f s, g++ -O2%s %.1f s, weights %d bytes, arena %s bytes"
        % (lowbitc_s, " -march=native" if flags else "", build_s,
           os.path.getsize(weights), arena))
    return dict(exe=exe, out=out, weight_bytes=os.path.getsize(weights), arena=arena,
                lowbitc_s=lowbitc_s, build_s=build_s)


def time_lowbit(key, files, built, args, threads=1):
    out_npy = os.path.join(args.work, key, "lowbit_out%s.npy"
                           % ("" if threads == 1 else "_%dt" % threads))
    proc = run([built["exe"], files["input"], out_npy, "--repeat", str(args.repeat),
                "--warmup", str(args.warmup), "--threads", str(threads)],
               "the lowbit executable %s" % rel(built["exe"]))
    m = TIMING_RE.search(proc.stderr)
    if not m:
        raise StepError("%s printed no timing line (is runtime/harness/run_model.cpp "
                        "up to date?):\n%s" % (rel(built["exe"]), proc.stderr.strip()))
    out = np.load(out_npy)
    if not np.all(np.isfinite(out)):
        raise StepError("%s wrote non-finite outputs" % rel(built["exe"]))
    return dict(median=float(m.group(2)), best=float(m.group(3)), mean=float(m.group(4)),
                output=out_npy)


def compare(lowbit_npy, ort_npy, what):
    """One line: how close lowbit's output is to ORT's (a sanity check that
    the timed code computes the model, not a test)."""
    a = np.load(lowbit_npy).astype(np.float64).ravel()
    b = np.load(ort_npy).astype(np.float64).ravel()
    if a.size != b.size:
        return "lowbit has %d outputs, %s %d" % (a.size, what, b.size)
    err = np.abs(a - b)
    span = float(np.abs(b).max()) or 1.0
    return ("lowbit vs %s on the input: top-1 %s, max |diff| %.4g (%.2f%% of max |ORT|), "
            "mean |diff| %.4g" % (what, "same" if a.argmax() == b.argmax() else "DIFFERENT",
                                  err.max(), 100 * err.max() / span, err.mean()))


# --------------------------------------------------------------------------
# ONNX Runtime
# --------------------------------------------------------------------------

def time_ort(model, image, threads, args, optimized=None, repeat=None, output=None):
    cmd = [args.node, ORT_BENCH, model, "--input", image, "--threads", str(threads),
           "--repeat", str(repeat or args.repeat), "--warmup", str(args.warmup),
           "--ort-dir", args.ort_dir]
    if optimized:
        cmd += ["--optimized-model", optimized]
    if output:
        cmd += ["--output", output]
    proc = run(cmd, "ONNX Runtime (bench/ort_bench.js, %d thread%s)"
               % (threads, "s" if threads > 1 else ""))
    try:
        return json.loads(proc.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        raise StepError("bench/ort_bench.js printed no JSON line:\n%s" % proc.stdout)


def floor_model(image, work):
    """An ONNX model whose input has the shape of `image` (the first sample)
    and whose output is that input's Shape (4 int64): timing it in
    onnxruntime-node gives the per-call cost of binding the input and
    running a trivial graph."""
    import onnx
    from onnx import TensorProto, helper

    shape = list(np.load(image, mmap_mode="r").shape)
    shape[0] = 1
    text = "x".join(map(str, shape))
    path = os.path.join(work, "ort_floor_%s.onnx" % text)
    if not os.path.exists(path):
        g = helper.make_graph([helper.make_node("Shape", ["input"], ["shape"])], "floor",
                              [helper.make_tensor_value_info("input", TensorProto.FLOAT, shape)],
                              [helper.make_tensor_value_info("shape", TensorProto.INT64,
                                                             [len(shape)])])
        m = helper.make_model(g, opset_imports=[helper.make_opsetid("", OPSET)])
        m.ir_version = 7
        onnx.save(m, path)
    return path, text


# --------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------

def mtime(path):
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(os.path.getmtime(path)))


def checkout():
    """The commit of the checkout, and whether the work tree has changes."""
    try:
        head = subprocess.run(["git", "-C", REPO, "rev-parse", "--short=12", "HEAD"],
                              capture_output=True, text=True, timeout=30)
        dirty = subprocess.run(["git", "-C", REPO, "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return "unknown (no git)"
    if head.returncode != 0:
        return "unknown (not a git checkout)"
    return head.stdout.strip() + (" with uncommitted changes" if dirty.stdout.strip() else "")


def cpu_seconds():
    """(busy CPU seconds of the whole machine, CPU seconds of this process
    and its finished children), for how busy other processes kept the
    machine while the timings ran."""
    try:
        with open("/proc/stat") as f:
            fields = [int(v) for v in f.readline().split()[1:9]]
    except (OSError, ValueError):
        return None
    busy = sum(fields) - fields[3] - fields[4]  # minus idle and iowait
    t = os.times()
    return busy / os.sysconf("SC_CLK_TCK"), t.user + t.system + t.children_user + t.children_system


def fmt_ms(r, field="median_ms"):
    if r is None:
        return "-"
    v = r[field] if isinstance(r, dict) else r
    return "%.3f" % v if v < 10 else "%.2f" % v if v < 100 else "%.1f" % v


def main():
    ap = argparse.ArgumentParser(
        description="Time lowbit's generated C++ against ONNX Runtime 1.30 (CPU) per inference.")
    ap.add_argument("--models", default=",".join(MODELS),
                    help="comma-separated subset of: %s (default: all)" % ", ".join(MODELS))
    ap.add_argument("--repeat", type=int, default=20, metavar="N",
                    help="timed runs per measurement (default %(default)s)")
    ap.add_argument("--warmup", type=int, default=3, metavar="W",
                    help="untimed runs before them (default %(default)s)")
    ap.add_argument("--work", default=os.path.join(REPO, "build", "bench"),
                    help="folder for models, generated C++ and executables (default: %(default)s)")
    ap.add_argument("--lowbitc", default=os.path.join(REPO, "build", "bin", "lowbitc"),
                    help="lowbitc binary (default: %(default)s)")
    ap.add_argument("--runtime-lib", default=os.path.join(REPO, "build", "runtime",
                                                           "liblowbit_runtime.a"),
                    help="lowbit runtime library (default: %(default)s)")
    ap.add_argument("--march-native", action="store_true",
                    help="add -march=native to the g++ build of the generated code "
                         "(default: plain -O2)")
    ap.add_argument("--ort-dir", default=os.path.join(REPO, ".deps", "ort"),
                    help="folder with node_modules/onnxruntime-node (default: %(default)s)")
    ap.add_argument("--node", default=shutil.which("node") or "node", help="node binary")
    ap.add_argument("--force", action="store_true",
                    help="export the ONNX models again even if the work folder has them")
    args = ap.parse_args()

    keys = [k.strip() for k in args.models.split(",") if k.strip()]
    unknown = [k for k in keys if k not in MODELS]
    if unknown or not keys:
        ap.error("unknown model(s) %s; choose from %s" % (", ".join(unknown) or "(none)",
                                                          ", ".join(MODELS)))
    if args.repeat < 1 or args.warmup < 0:
        ap.error("--repeat must be >= 1 and --warmup >= 0")
    args.work = os.path.abspath(args.work)
    os.makedirs(args.work, exist_ok=True)

    # Tools first: a missing one fails before any work.
    problems = []
    if not os.access(args.lowbitc, os.X_OK):
        problems.append("lowbitc not found or not executable: %s (bash scripts/build.sh)"
                        % args.lowbitc)
    if not os.path.isfile(args.runtime_lib):
        problems.append("runtime library not found: %s (bash scripts/build.sh)" % args.runtime_lib)
    if not shutil.which(args.node):
        problems.append("node not found: %s" % args.node)
    if not os.path.isfile(os.path.join(args.ort_dir, "node_modules", "onnxruntime-node",
                                       "package.json")):
        problems.append("onnxruntime-node not installed in %s (bash bench/install-bench-deps.sh)"
                        % args.ort_dir)
    if problems:
        for p in problems:
            print("speed: error: " + p, file=sys.stderr)
        return 2

    log("lowbit vs ONNX Runtime: models %s; %d timed runs after %d warm-up runs each"
        % (", ".join(keys), args.repeat, args.warmup))
    log("lowbitc %s (built %s), runtime %s (built %s), g++ -O2%s; work folder %s"
        % (rel(args.lowbitc), mtime(args.lowbitc), rel(args.runtime_lib),
           mtime(args.runtime_lib), " -march=native" if args.march_native else "",
           rel(args.work)))
    log("checkout: %s" % checkout())

    failures = collections.OrderedDict()
    files, built = {}, {}

    # 1-3. Models, lowbitc and g++, one model at a time (one compile job).
    for key in keys:
        log()
        log("== %s: %s" % (key, MODELS[key][0]))
        try:
            files[key] = prepare(key, args.work, args.force)
            log("  model %s (%.1f MB): %s" % (rel(files[key]["onnx"]),
                                              os.path.getsize(files[key]["onnx"]) / 1e6,
                                              op_summary(files[key]["onnx"])))
            built[key] = compile_lowbit(key, files[key], args)
        except StepError as e:
            failures[key] = str(e)
            log("  FAILED: " + short(e))

    # 4-5. Timings, after all the builds, so that nothing else of this script
    # runs meanwhile.
    ort_cache = {}
    results = {}
    cpu0, wall0 = cpu_seconds(), time.time()
    for key in keys:
        if key not in built:
            continue
        log()
        log("== timing %s" % key)
        f = files[key]
        r = {}
        try:
            r["lowbit"] = time_lowbit(key, f, built[key], args)
            log("  lowbit (1 thread): median %s ms, best %s ms"
                % (fmt_ms(r["lowbit"]["median"]), fmt_ms(r["lowbit"]["best"])))
            r["lowbit2"] = time_lowbit(key, f, built[key], args, threads=2)
            log("  lowbit (2 threads): median %s ms, best %s ms"
                % (fmt_ms(r["lowbit2"]["median"]), fmt_ms(r["lowbit2"]["best"])))
            if not np.array_equal(np.load(r["lowbit"]["output"]),
                                  np.load(r["lowbit2"]["output"])):
                raise StepError("the 2-thread output differs from the 1-thread one")
            for label, model in (("fp32", f["float_onnx"]), ("int8", f["qdq_onnx"])):
                if not model:
                    continue
                for threads in (1, 2):
                    ck = (model, threads)
                    if ck not in ort_cache:
                        optimized = None
                        if label == "int8" and threads == 1:
                            optimized = os.path.join(args.work, key, "ort_optimized.onnx")
                        output = None
                        if threads == 1:
                            output = os.path.join(args.work, "ort_out_%s.npy"
                                                  % os.path.splitext(os.path.basename(model))[0])
                        ort_cache[ck] = time_ort(model, f["input"], threads, args, optimized,
                                                 output=output)
                        ort_cache[ck]["output"] = output
                        if optimized:
                            log("  ORT executes: " + op_summary(optimized))
                    r["%s_%d" % (label, threads)] = ort_cache[ck]
                    log("  ORT %s (%d thread%s): median %s ms, best %s ms"
                        % (label, threads, "s" if threads > 1 else "",
                           fmt_ms(ort_cache[ck]), fmt_ms(ort_cache[ck], "best_ms")))
            target = "%s_1" % MODELS[key][2]
            if target in r:
                log("  check: " + compare(r["lowbit"]["output"], r[target]["output"],
                                          "ORT " + MODELS[key][2]))
            results[key] = r
        except StepError as e:
            failures[key] = str(e)
            log("  FAILED: " + short(e))
    floors = collections.OrderedDict()
    for key in results:
        try:
            path, shape = floor_model(files[key]["input"], args.work)
            if shape not in floors:
                floors[shape] = time_ort(path, files[key]["input"], 1, args,
                                         repeat=max(args.repeat, 200))
        except StepError as e:
            log("  (no onnxruntime-node floor for %s: %s)" % (key, str(e).splitlines()[0]))
    cpu1, wall1 = cpu_seconds(), time.time()

    # 6. The table.
    log()
    ort_version = next((r[k]["ort"] for r in results.values() for k in r if not k.startswith("lowbit")), "")
    log("Median ms per inference, batch 1 (lowbit: 1T / 2T; ORT%s CPU EP: intra-op 1T / 2T)"
        % (" " + ort_version if ort_version else ""))
    head = ("%-17s %9s %9s %9s %9s %9s %9s  %-22s %-6s %12s"
            % ("model", "lowbit 1T", "lowbit 2T", "fp32 1T", "fp32 2T", "int8 1T",
               "int8 2T", "lowbit/ORT (1T)", "(2T)", "weight bytes"))
    log(head)
    log("-" * len(head))
    for key in keys:
        if key not in results:
            log("%-17s FAILED (see below)" % key)
            continue
        r = results[key]
        target = MODELS[key][2]
        ref = r.get("%s_1" % target)
        ref2 = r.get("%s_2" % target)
        ratio, ratio2 = "-", "-"
        if ref:
            ratio = "%.2fx vs ORT %s" % (r["lowbit"]["median"] / ref["median_ms"], target)
        if ref2:
            ratio2 = "%.2fx" % (r["lowbit2"]["median"] / ref2["median_ms"])
        log("%-17s %9s %9s %9s %9s %9s %9s  %-22s %-6s %12d"
            % (key, fmt_ms(r["lowbit"]["median"]), fmt_ms(r["lowbit2"]["median"]),
               fmt_ms(r.get("fp32_1")), fmt_ms(r.get("fp32_2")), fmt_ms(r.get("int8_1")),
               fmt_ms(r.get("int8_2")), ratio, ratio2, built[key]["weight_bytes"]))
    log()
    if results:
        log("ratio < 1: lowbit is faster. lowbit best-of-%d ms: %s"
            % (args.repeat, ", ".join("%s %s" % (k, fmt_ms(results[k]["lowbit"]["best"]))
                                       for k in keys if k in results)))
    if floors:
        log("ORT times include onnxruntime-node's per-call cost; a trivial model (Shape) on the "
            "same input takes (median, 1T): %s"
            % ", ".join("%s %s ms" % (shape, fmt_ms(r)) for shape, r in floors.items()))
    if results and cpu0 and cpu1 and wall1 > wall0:
        others = max(0.0, (cpu1[0] - cpu0[0]) - (cpu1[1] - cpu0[1])) / (wall1 - wall0)
        log("other processes kept %.2f of %d CPUs busy on average while the timings ran%s"
            % (others, os.cpu_count() or 0,
               "; the figures may be noisy" if others > 0.2 else ""))

    if failures:
        print(file=sys.stderr)
        for key, msg in failures.items():
            print("speed: error: %s: %s" % (key, msg), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
