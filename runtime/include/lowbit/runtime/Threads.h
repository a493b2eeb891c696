//===- Threads.h - Optional worker threads for the fast kernels --*- C++
//-*-===//
//
// Part of the lowbit project.
//
//===----------------------------------------------------------------------===//
//
// The fast kernels (Fast.h) run on the calling thread unless the caller asks
// for more: setThreads(n) makes the large layers split their work into n
// contiguous parts, the caller's thread running the first and n - 1 worker
// threads the others. The split is by whole units of the kernel's own loop
// (tiles of output pixels and channel blocks, output rows, runs of elements),
// so every output byte is computed by the same instructions whatever the
// thread count: the integers never depend on it (FastTest checks this).
//
// The setting is process-wide. Workers are started by setThreads and spin
// briefly between layers, then sleep. A parallel region started while
// another is running (two model calls on different threads at once) runs on
// its caller's thread alone: still the same bytes, never a deadlock.
//
//===----------------------------------------------------------------------===//

#ifndef LOWBIT_RUNTIME_THREADS_H
#define LOWBIT_RUNTIME_THREADS_H

#include <cstdint>

namespace lowbit {
namespace rt {

/// Largest thread count setThreads accepts.
constexpr int kMaxThreads = 64;

/// Uses n threads (the caller's and n - 1 workers) in the fast kernels from
/// the next call on; n <= 1 means the caller's thread only (the default),
/// n > kMaxThreads is kMaxThreads. Not to be called while a model runs.
void setThreads(int n);
/// The thread count set by setThreads (1 by default).
int threads();

/// Calls fn(ctx, begin, end) on contiguous, non-empty parts of [0, n) that
/// cover it, at most `threads()` parts, at most one per `minUnits` units,
/// and returns when all have returned. Part k of P is
/// [k * n / P, (k + 1) * n / P); part 0 runs on the caller's thread.
using RangeFn = void (*)(void *ctx, int64_t begin, int64_t end);
void parallelFor(int64_t n, int64_t minUnits, RangeFn fn, void *ctx);

/// parallelFor with a callable: f(begin, end).
template <typename F>
inline void parallelRanges(int64_t n, int64_t minUnits, const F &f) {
  parallelFor(
      n, minUnits,
      [](void *ctx, int64_t begin, int64_t end) {
        (*static_cast<const F *>(ctx))(begin, end);
      },
      const_cast<void *>(static_cast<const void *>(&f)));
}

} // namespace rt
} // namespace lowbit

extern "C" {
/// C name of lowbit::rt::setThreads, for callers of the generated C API.
void lowbit_set_threads(int n);
}

#endif // LOWBIT_RUNTIME_THREADS_H
