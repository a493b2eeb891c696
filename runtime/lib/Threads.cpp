//===- Threads.cpp - Worker threads of the fast kernels
//---------------------===//
//
// Part of the lowbit project.
//
//===----------------------------------------------------------------------===//
//
// One process-wide pool. A region publishes its task and bumps a generation
// counter; every worker answers every generation (running its part if it
// has one) by decrementing `pending`, and the caller returns when that is
// zero, so the task's fields are never rewritten while a worker may still
// read them. Workers spin for a while between regions (layers follow each
// other within microseconds) and then sleep on a condition variable.
//
//===----------------------------------------------------------------------===//

#include "lowbit/runtime/Threads.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

namespace lowbit {
namespace rt {
namespace {

inline void cpuRelax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#else
  std::this_thread::yield();
#endif
}

/// How long an idle worker spins before it sleeps.
constexpr std::chrono::microseconds kSpinTime(2000);

class Pool {
public:
  ~Pool() { resize(1); }

  int count() const { return count_.load(std::memory_order_relaxed); }

  void resize(int n) {
    std::lock_guard<std::mutex> config(configMutex_);
    n = std::max(1, std::min(n, kMaxThreads));
    if (n == count())
      return;
    {
      std::lock_guard<std::mutex> l(mutex_);
      stop_ = true;
    }
    wake_.notify_all();
    for (std::thread &t : workers_)
      t.join();
    workers_.clear();
    stop_ = false;
    count_.store(n, std::memory_order_relaxed);
    // A worker answers the generations after this one: it cannot read the
    // counter itself when it starts, a region may already have begun.
    const uint64_t start = generation_.load(std::memory_order_acquire);
    for (int i = 1; i < n; ++i)
      workers_.emplace_back([this, i, start] { work(i, start); });
  }

  void run(int64_t n, int64_t minUnits, RangeFn fn, void *ctx) {
    const int64_t most = minUnits > 0 ? n / minUnits : n;
    int parts = static_cast<int>(std::min<int64_t>(count(), most));
    bool expected = false;
    if (parts <= 1 || !busy_.compare_exchange_strong(expected, true)) {
      if (n > 0)
        fn(ctx, 0, n);
      return;
    }
    // The pool cannot be resized while busy_ is held (resize is documented
    // as not concurrent with model runs; configMutex_ is not taken here).
    fn_ = fn;
    ctx_ = ctx;
    n_ = n;
    parts_ = parts;
    pending_.store(static_cast<int>(workers_.size()),
                   std::memory_order_relaxed);
    {
      std::lock_guard<std::mutex> l(mutex_);
      generation_.fetch_add(1, std::memory_order_release);
    }
    wake_.notify_all();
    fn(ctx, 0, n * 1 / parts);
    while (pending_.load(std::memory_order_acquire) != 0)
      cpuRelax();
    busy_.store(false, std::memory_order_release);
  }

private:
  void work(int index, uint64_t seen) {
    for (;;) {
      auto idleSince = std::chrono::steady_clock::now();
      uint64_t g;
      int spins = 0;
      while ((g = generation_.load(std::memory_order_acquire)) == seen) {
        if (stop_.load(std::memory_order_relaxed))
          return;
        cpuRelax();
        if (++spins % 1024 != 0 ||
            std::chrono::steady_clock::now() - idleSince < kSpinTime)
          continue;
        std::unique_lock<std::mutex> l(mutex_);
        wake_.wait(l, [&] {
          return generation_.load(std::memory_order_acquire) != seen ||
                 stop_.load(std::memory_order_relaxed);
        });
        idleSince = std::chrono::steady_clock::now();
      }
      seen = g;
      if (index < parts_)
        fn_(ctx_, n_ * index / parts_, n_ * (index + 1) / parts_);
      pending_.fetch_sub(1, std::memory_order_acq_rel);
    }
  }

  std::mutex configMutex_; // serializes resize()
  std::mutex mutex_;       // pairs the generation bump with sleeping workers
  std::condition_variable wake_;
  std::vector<std::thread> workers_;
  std::atomic<int> count_{1};
  std::atomic<bool> stop_{false};
  std::atomic<bool> busy_{false};
  std::atomic<uint64_t> generation_{0};
  std::atomic<int> pending_{0};
  // The current region's task: written before the generation bump, read by
  // the workers after it.
  RangeFn fn_ = nullptr;
  void *ctx_ = nullptr;
  int64_t n_ = 0;
  int parts_ = 1;
};

Pool &pool() {
  static Pool p;
  return p;
}

} // namespace

void setThreads(int n) { pool().resize(n); }
int threads() { return pool().count(); }

void parallelFor(int64_t n, int64_t minUnits, RangeFn fn, void *ctx) {
  if (n <= 0)
    return;
  pool().run(n, minUnits, fn, ctx);
}

} // namespace rt
} // namespace lowbit

extern "C" void lowbit_set_threads(int n) { lowbit::rt::setThreads(n); }
