# -*- Python -*-
# lit configuration for the lowbit regression suite.

import os
import shutil
import subprocess

import lit.formats
from lit.llvm import llvm_config
from lit.llvm.subst import ToolSubst

config.name = "LOWBIT"
config.test_format = lit.formats.ShTest(not llvm_config.use_lit_shell)
config.suffixes = [".mlir", ".test"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.lowbit_obj_root, "test")
config.excludes = ["CMakeLists.txt", "README.md", "lit.cfg.py", "lit.site.cfg.py", "Inputs", "lib"]

config.substitutions.append(("%PATH%", config.environment["PATH"]))
config.substitutions.append(("%lowbit_src", config.lowbit_src_root))

llvm_config.with_system_environment(["HOME", "INCLUDE", "LIB", "TMP", "TEMP"])
llvm_config.use_default_substitutions()

# FileCheck, not, count and split-file come from Debian's llvm-22-tools.
llvm_config.with_environment("PATH", config.llvm_tools_dir, append_path=True)
# %lowbitc (the full path, for scripts) must be defined before the plain
# tool substitutions, which would otherwise rewrite the "lowbitc" inside it.
# %python is lit's own interpreter: Debian's /usr/bin/python3, which has
# numpy, onnx and torch.
config.substitutions.append(
    ("%lowbitc", os.path.join(config.lowbit_tools_dir, "lowbitc")))
config.substitutions.append(
    ("%accel_sim", os.path.join(config.lowbit_tools_dir, "accel-sim")))
# The runtime library the generated C++ links against.
config.substitutions.append(
    ("%lowbit_runtime_lib",
     os.path.join(config.lowbit_obj_root, "runtime", "liblowbit_runtime.a")))
tool_dirs = [config.lowbit_tools_dir, config.llvm_tools_dir]
tools = ["lowbit-opt", "lowbitc", "lowbit-translate", "accel-sim"]
llvm_config.add_tool_substitutions(tools, tool_dirs)

# A sanitizer build (scripts/test-sanitizers.sh) builds the generated C++ of
# the e2e tests with its compiler and sanitizers too, against its runtime
# library (runtime/harness/build_model.py reads these).
if getattr(config, "lowbit_sanitizers", ""):
    config.environment["LOWBIT_HARNESS_CXX"] = config.host_cxx
    config.environment["LOWBIT_HARNESS_FLAGS"] = (
        "-fsanitize=%s -fno-sanitize-recover=all -fno-omit-frame-pointer "
        "-gline-tables-only"
        % config.lowbit_sanitizers)
    for var in ("ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS"):
        if var in os.environ:
            config.environment[var] = os.environ[var]
    config.available_features.add("sanitizers")
# Option sets of test/stlq's comparison: all 84 in the plain build, the
# 4-set smoke grid under the sanitizers (where lowbit-opt runs several
# times slower).
config.substitutions.append(
    ("%stlq_grid", "smoke" if getattr(config, "lowbit_sanitizers", "") else "full"))

# The portability tier (test/Portability, REQUIRES: qemu-x86_64): the
# runtime's fast-kernel gtests and a generated model run under Debian's
# qemu-user on older CPU models (Nehalem: no AVX2; Haswell-v4: AVX2, no
# AVX-512 or VNNI). It runs in the plain build only: the sanitizer tier
# adds nothing to a question about instruction sets.
config.substitutions.append(
    ("%lowbit_runtime_tests",
     os.path.join(config.lowbit_obj_root, "runtime", "test",
                  "lowbit_runtime_tests")))
qemu = shutil.which("qemu-x86_64")
if getattr(config, "lowbit_sanitizers", ""):
    lit_config.note("portability tier (test/Portability) runs in the plain "
                    "build only")
elif not qemu:
    lit_config.note("portability tier (test/Portability) is UNSUPPORTED: "
                    "qemu-x86_64 is not installed (scripts/install-deps.sh "
                    "installs qemu-user)")
else:
    config.available_features.add("qemu-x86_64")

# test/e2e/accel-zoo.test compares the simulator on ResNet-18 and
# MobileNetV2 with the generated C++. Under the sanitizers, where the
# model-zoo tier (test/zoo, REQUIRES: onnxruntime) already builds and runs
# those two models' C++ instrumented and checks it against the evaluator,
# it compares with the evaluator instead of building the same C++ a second
# time (the simulator and lowbitc still run instrumented). Set below, once
# the oracle tier's availability is known.
config.substitutions.append(("%accel_zoo_reference", "cpp"))

# Variables captured by FileCheck do not leak across CHECK-LABELs.
config.environment["FILECHECK_OPTS"] = "--enable-var-scope"

# The ONNX Runtime oracle tier (test/Oracle, REQUIRES: onnxruntime) runs
# onnxruntime-node on node; scripts/install-ort.sh (run by scripts/test.sh)
# installs it into .deps/ort. Without it those tests are UNSUPPORTED, and
# this note says why.
ort_dir = os.path.join(config.lowbit_src_root, ".deps", "ort")
ort_module = os.path.join(ort_dir, "node_modules", "onnxruntime-node")
node = shutil.which("node")
ort_missing = None
if not node:
    ort_missing = "node is not installed"
elif not os.path.isfile(os.path.join(ort_module, "package.json")):
    ort_missing = "onnxruntime-node is not installed in " + ort_dir
else:
    try:
        subprocess.run([node, "-e", "require(process.argv[1])", ort_module],
                       check=True, timeout=60, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
    except (OSError, subprocess.SubprocessError):
        ort_missing = "onnxruntime-node in " + ort_dir + " does not load"
if ort_missing:
    lit_config.note("ONNX Runtime oracle tier (test/Oracle) is UNSUPPORTED: "
                    + ort_missing + " (run scripts/install-ort.sh)")
else:
    config.available_features.add("onnxruntime")
    if getattr(config, "lowbit_sanitizers", ""):
        config.substitutions.remove(("%accel_zoo_reference", "cpp"))
        config.substitutions.append(("%accel_zoo_reference", "evaluator"))
