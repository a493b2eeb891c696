//===- run_model.cpp - Run a lowbitc-generated model on an .npy batch -----===//
//
// Part of the lowbit project.
//
//===----------------------------------------------------------------------===//
//
// A driver for one generated model with one input and one output. Build it
// next to the model's files:
//
//   g++ -O2 -std=c++17 -I runtime/include -I OUT \
//       '-DLOWBIT_MODEL_HEADER="NAME.h"' -DLOWBIT_MODEL=NAME \
//       -DLOWBIT_MODEL_UPPER=UPPER_NAME \
//       runtime/harness/run_model.cpp OUT/NAME.cpp OUT/NAME_weights.S \
//       build/runtime/liblowbit_runtime.a -o run_NAME
//   ./run_NAME inputs.npy outputs.npy [--repeat N [--warmup W]] [--threads T]
//
// inputs.npy is float32 holding N samples (N times the model's input
// elements, any shape); outputs.npy gets float32 [N, output elements] from
// the float API (<name>_run_float). Time per sample goes to stderr.
//
// Timing mode (--repeat N, used by bench/speed.py): after that pass over all
// samples, the first sample runs W more times as a warm-up (default 3) and
// then N times, each run timed on its own with steady_clock; one more line
// goes to stderr:
//
//   run_model: timing: repeat N median M ms best B ms mean A ms
//
// --threads T (default 1) runs the fast kernels on T threads
// (lowbit/runtime/Threads.h); the outputs are the same bytes for every T.
//
// It also says which kernel path the model runs (lowbit/runtime/Fast.h's
// modelIsa()), and warns when LOWBIT_MAX_ISA is set to something that is
// not a path (the runtime then ignores it):
//
//   run_model: kernel path avx2
//
//===----------------------------------------------------------------------===//

#include LOWBIT_MODEL_HEADER

#include "lowbit/runtime/Fast.h"
#include "lowbit/runtime/Threads.h"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#define LB_CAT2(a, b) a##b
#define LB_CAT(a, b) LB_CAT2(a, b)
#define RUN_FLOAT LB_CAT(LOWBIT_MODEL, _run_float)
#define ARENA_BYTES LB_CAT(LOWBIT_MODEL_UPPER, _ARENA_BYTES)
#define IN_ELEMENTS LB_CAT(LOWBIT_MODEL_UPPER, _INPUT0_ELEMENTS)
#define OUT_ELEMENTS LB_CAT(LOWBIT_MODEL_UPPER, _OUTPUT0_ELEMENTS)

static int fail(const std::string &msg) {
  std::fprintf(stderr, "run_model: error: %s\n", msg.c_str());
  return 1;
}

/// Reads a little-endian float32 C-order .npy file.
static bool readNpy(const char *path, std::vector<float> &data,
                    std::string &err) {
  FILE *f = std::fopen(path, "rb");
  if (!f)
    return err = std::string("cannot open ") + path, false;
  char magic[8];
  if (std::fread(magic, 1, 8, f) != 8 || std::memcmp(magic, "\x93NUMPY", 6)) {
    std::fclose(f);
    return err = std::string(path) + " is not an .npy file", false;
  }
  uint32_t headerLen = 0;
  unsigned char len[4] = {0, 0, 0, 0};
  size_t lenBytes = magic[6] == 1 ? 2 : 4;
  if (std::fread(len, 1, lenBytes, f) != lenBytes) {
    std::fclose(f);
    return err = "truncated .npy header", false;
  }
  headerLen = len[0] | (len[1] << 8) | (len[2] << 16) | (uint32_t(len[3]) << 24);
  std::string header(headerLen, '\0');
  if (headerLen > (1u << 20) ||
      std::fread(&header[0], 1, headerLen, f) != headerLen) {
    std::fclose(f);
    return err = "bad .npy header", false;
  }
  if (header.find("'<f4'") == std::string::npos ||
      header.find("'fortran_order': False") == std::string::npos) {
    std::fclose(f);
    return err = std::string(path) + " must be a C-order float32 array",
           false;
  }
  size_t open = header.find('('), close = header.find(')');
  size_t count = 1;
  std::string dims = header.substr(open + 1, close - open - 1);
  for (size_t p = 0; p < dims.size();) {
    while (p < dims.size() && (dims[p] == ' ' || dims[p] == ','))
      ++p;
    if (p >= dims.size())
      break;
    count *= std::strtoull(dims.c_str() + p, nullptr, 10);
    while (p < dims.size() && dims[p] != ',')
      ++p;
  }
  data.resize(count);
  size_t got = std::fread(data.data(), sizeof(float), count, f);
  std::fclose(f);
  if (got != count)
    return err = std::string(path) + " is truncated", false;
  return true;
}

static bool writeNpy(const char *path, const std::vector<float> &data,
                     size_t rows, size_t cols) {
  std::string header = "{'descr': '<f4', 'fortran_order': False, 'shape': (" +
                       std::to_string(rows) + ", " + std::to_string(cols) +
                       "), }";
  size_t total = 10 + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header.push_back('\n');
  FILE *f = std::fopen(path, "wb");
  if (!f)
    return false;
  unsigned char pre[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0,
                           static_cast<unsigned char>(header.size() & 0xff),
                           static_cast<unsigned char>(header.size() >> 8)};
  bool ok = std::fwrite(pre, 1, 10, f) == 10 &&
            std::fwrite(header.data(), 1, header.size(), f) == header.size() &&
            std::fwrite(data.data(), sizeof(float), data.size(), f) ==
                data.size();
  return std::fclose(f) == 0 && ok;
}

/// Parses a positive decimal count; false on anything else.
static bool parseCount(const char *text, long &value) {
  char *end = nullptr;
  value = std::strtol(text, &end, 10);
  return end != text && *end == '\0' && value > 0;
}

int main(int argc, char **argv) {
  const char *usage =
      "usage: run_model inputs.npy outputs.npy [--repeat N [--warmup W]] "
      "[--threads T]";
  if (argc < 3)
    return fail(usage);
  long repeat = 0, warmup = 3;
  int threadCount = 1;
  bool warmupGiven = false;
  for (int i = 3; i < argc; ++i) {
    std::string opt = argv[i];
    if ((opt == "--repeat" || opt == "--warmup" || opt == "--threads") &&
        i + 1 < argc) {
      long value;
      if (!parseCount(argv[++i], value))
        return fail(opt + " needs a positive integer, got '" + argv[i] + "'");
      if (opt == "--repeat")
        repeat = value;
      else if (opt == "--warmup")
        warmup = value, warmupGiven = true;
      else if (value > lowbit::rt::kMaxThreads)
        return fail("--threads is at most " +
                    std::to_string(lowbit::rt::kMaxThreads));
      else
        threadCount = static_cast<int>(value);
    } else {
      return fail(std::string("unexpected argument '") + argv[i] + "'; " +
                  usage);
    }
  }
  if (warmupGiven && !repeat)
    return fail("--warmup needs --repeat");
  if (const char *cap = std::getenv("LOWBIT_MAX_ISA")) {
    lowbit::rt::Isa parsed;
    if (!lowbit::rt::parseIsa(cap, parsed))
      std::fprintf(stderr,
                   "run_model: warning: LOWBIT_MAX_ISA='%s' is not a kernel "
                   "path (portable, avx2, avx2-vnni, avx512-vnni); ignored\n",
                   cap);
  }
  lowbit::rt::setThreads(threadCount);
  std::fprintf(stderr, "run_model: kernel path %s, %d thread%s\n",
               lowbit::rt::isaName(lowbit::rt::modelIsa()), threadCount,
               threadCount == 1 ? "" : "s");
  std::vector<float> in;
  std::string err;
  if (!readNpy(argv[1], in, err))
    return fail(err);
  if (in.empty() || in.size() % IN_ELEMENTS != 0)
    return fail("input holds " + std::to_string(in.size()) +
                " values, not a multiple of the model's " +
                std::to_string(IN_ELEMENTS));
  size_t samples = in.size() / IN_ELEMENTS;
  std::vector<float> out(samples * OUT_ELEMENTS);
  size_t arenaBytes = (ARENA_BYTES + 63) / 64 * 64;
  void *arena = std::aligned_alloc(64, arenaBytes ? arenaBytes : 64);
  if (!arena)
    return fail("cannot allocate the arena");
  auto start = std::chrono::steady_clock::now();
  for (size_t s = 0; s < samples; ++s)
    if (RUN_FLOAT(in.data() + s * IN_ELEMENTS, out.data() + s * OUT_ELEMENTS,
                  arena) != 0)
      return fail("the model returned an error");
  double ms = std::chrono::duration<double, std::milli>(
                  std::chrono::steady_clock::now() - start)
                  .count();
  std::fprintf(stderr, "run_model: %zu samples, %.4f ms per sample\n",
               samples, ms / samples);
  if (repeat) {
    // The first sample again, into a scratch output: warm-up, then each of
    // the timed runs on its own.
    std::vector<float> scratch(OUT_ELEMENTS);
    std::vector<double> times;
    times.reserve(repeat);
    for (long r = 0; r < warmup + repeat; ++r) {
      auto t0 = std::chrono::steady_clock::now();
      if (RUN_FLOAT(in.data(), scratch.data(), arena) != 0)
        return fail("the model returned an error");
      auto t1 = std::chrono::steady_clock::now();
      if (r >= warmup)
        times.push_back(
            std::chrono::duration<double, std::milli>(t1 - t0).count());
    }
    double sum = 0;
    for (double t : times)
      sum += t;
    std::sort(times.begin(), times.end());
    size_t n = times.size();
    double median =
        n % 2 ? times[n / 2] : 0.5 * (times[n / 2 - 1] + times[n / 2]);
    std::fprintf(stderr,
                 "run_model: timing: repeat %zu median %.4f ms best %.4f ms "
                 "mean %.4f ms\n",
                 n, median, times.front(), sum / n);
  }
  std::free(arena);
  if (!writeNpy(argv[2], out, samples, OUT_ELEMENTS))
    return fail(std::string("cannot write ") + argv[2]);
  return 0;
}
