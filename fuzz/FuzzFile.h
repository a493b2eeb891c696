//===- FuzzFile.h - One fuzz input as a file ---------------------*- C++ -*-===//
//
// Part of the lowbit project.
//
//===----------------------------------------------------------------------===//
//
// The readers under test take a path, as lowbitc gives them: each input is
// written to one file of the process (in /dev/shm when it exists), which the
// target then reads. The MLIR targets also share a context with every
// lowbit dialect loaded and diagnostics discarded (errors are expected).
//
//===----------------------------------------------------------------------===//

#ifndef LOWBIT_FUZZ_FUZZFILE_H
#define LOWBIT_FUZZ_FUZZFILE_H

#include "lowbit/InitAll.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/MLIRContext.h"

#include <cstdint>
#include <cstdio>
#include <string>
#include <unistd.h>

namespace lowbit {
namespace fuzz {

inline std::string writeInput(const uint8_t *data, size_t size,
                              const char *suffix) {
  static const std::string path =
      std::string(access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp") +
      "/lowbit-fuzz-" + std::to_string(getpid()) + suffix;
  FILE *f = std::fopen(path.c_str(), "wb");
  if (!f)
    __builtin_trap(); // the harness itself is broken
  if (size && std::fwrite(data, 1, size, f) != size)
    __builtin_trap();
  std::fclose(f);
  return path;
}

/// A fresh context per input (nothing carries over between inputs), single
/// threaded, with lowbitc's dialects and no diagnostic output.
struct QuietContext {
  mlir::DialectRegistry registry;
  mlir::MLIRContext context;
  mlir::ScopedDiagnosticHandler quiet;
  QuietContext()
      : registry(makeRegistry()),
        context(registry, mlir::MLIRContext::Threading::DISABLED),
        quiet(&context, [](mlir::Diagnostic &) { return mlir::success(); }) {
    context.loadAllAvailableDialects();
  }
  static mlir::DialectRegistry makeRegistry() {
    mlir::DialectRegistry r;
    lowbit::registerAllDialects(r);
    return r;
  }
};

} // namespace fuzz
} // namespace lowbit

#endif // LOWBIT_FUZZ_FUZZFILE_H
