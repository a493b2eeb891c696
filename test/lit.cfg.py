# -*- Python -*-
# lit configuration for the lowbit regression suite.

import os

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
tool_dirs = [config.lowbit_tools_dir, config.llvm_tools_dir]
tools = ["lowbit-opt", "lowbitc"]
llvm_config.add_tool_substitutions(tools, tool_dirs)

# Variables captured by FileCheck do not leak across CHECK-LABELs.
config.environment["FILECHECK_OPTS"] = "--enable-var-scope"
