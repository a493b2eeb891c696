//===- run_model.cpp - Run a lowbitc-generated model on .npy batches ------===//
//
// Part of the lowbit project.
//
//===----------------------------------------------------------------------===//
//
// A driver for one generated model, any number of inputs and outputs. Build
// it next to the model's files (runtime/harness/build_model.py does this):
//
//   g++ -O2 -std=c++17 -I runtime/include -I OUT \
//       '-DLOWBIT_MODEL_HEADER="NAME.h"' -DLOWBIT_MODEL=NAME \
//       -DLOWBIT_MODEL_UPPER=UPPER_NAME \
//       runtime/harness/run_model.cpp OUT/NAME.cpp OUT/NAME_weights.S \
//       build/runtime/liblowbit_runtime.a -pthread -o run_NAME
//   ./run_NAME in0.npy [in1.npy ...] -o OUTDIR [options]
//   ./run_NAME inputs.npy outputs.npy [options]      (one input, one output)
//
// Input i's .npy is float32 holding N samples: N times the model's input i
// elements, any shape (every input must hold the same N). With -o, output i
// goes to OUTDIR/out<i>.npy (the folder is made if missing) as float32 of
// shape [N, dims...], where dims is the output's shape without a leading 1;
// the second form writes its one output as [N, output elements]. Each
// sample runs through the float API (<name>_run_float_array). Time per
// sample goes to stderr.
//
// Options:
//   --repeat N [--warmup W]  timing mode (bench/speed.py): after the pass
//       over all samples, the first sample runs W more times as a warm-up
//       (default 3) and then N times, each timed on its own; one more line
//       goes to stderr:
//         run_model: timing: repeat N median M ms best B ms mean A ms
//   --threads T  runs the fast kernels on T threads (default 1;
//       lowbit/runtime/Threads.h): the outputs are the same bytes for every T.
//
// It also says which kernel path the model runs (lowbit/runtime/Fast.h's
// modelIsa()); the runtime itself notes on stderr a LOWBIT_MAX_ISA that is
// not a path (ignored) or names a path the CPU lacks (the best one below it
// runs):
//
//   run_model: kernel path avx2, 1 thread
//
//===----------------------------------------------------------------------===//

#include LOWBIT_MODEL_HEADER

#include "lowbit/runtime/Fast.h"
#include "lowbit/runtime/Threads.h"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <sys/stat.h>
#include <vector>

#define LB_CAT2(a, b) a##b
#define LB_CAT(a, b) LB_CAT2(a, b)
#define RUN_FLOAT_ARRAY LB_CAT(LOWBIT_MODEL, _run_float_array)
#define MODEL_MACRO(suffix) LB_CAT(LOWBIT_MODEL_UPPER, suffix)

static const size_t kInputs = MODEL_MACRO(_NUM_INPUTS);
static const size_t kOutputs = MODEL_MACRO(_NUM_OUTPUTS);
// Vectors, not arrays: a list may be empty.
static const std::vector<long long> kInputElements =
    MODEL_MACRO(_INPUT_ELEMENTS_LIST);
static const std::vector<long long> kOutputElements =
    MODEL_MACRO(_OUTPUT_ELEMENTS_LIST);
static const std::vector<long long> kOutputRanks =
    MODEL_MACRO(_OUTPUT_RANKS_LIST);
static const std::vector<long long> kOutputDims =
    MODEL_MACRO(_OUTPUT_DIMS_LIST);

static int fail(const std::string &msg) {
  std::fprintf(stderr, "run_model: error: %s\n", msg.c_str());
  return 1;
}

/// Reads a little-endian float32 C-order .npy file; every size is checked
/// against the file before anything is allocated.
static bool readNpy(const char *path, std::vector<float> &data,
                    std::string &err) {
  FILE *f = std::fopen(path, "rb");
  if (!f)
    return err = std::string("cannot open ") + path, false;
  auto bad = [&](const std::string &what) {
    std::fclose(f);
    err = std::string(path) + ": " + what;
    return false;
  };
  unsigned char magic[8];
  if (std::fread(magic, 1, 8, f) != 8 || std::memcmp(magic, "\x93NUMPY", 6))
    return bad("not an .npy file");
  if (magic[6] < 1 || magic[6] > 3)
    return bad("unknown .npy version " + std::to_string(magic[6]));
  unsigned char len[4] = {0, 0, 0, 0};
  const size_t lenBytes = magic[6] == 1 ? 2 : 4;
  if (std::fread(len, 1, lenBytes, f) != lenBytes)
    return bad("truncated .npy header");
  const uint32_t headerLen =
      len[0] | (len[1] << 8) | (len[2] << 16) | (uint32_t(len[3]) << 24);
  if (headerLen > (1u << 16))
    return bad("implausible .npy header length " + std::to_string(headerLen));
  std::string header(headerLen, '\0');
  if (std::fread(&header[0], 1, headerLen, f) != headerLen)
    return bad("truncated .npy header");
  if (header.find("'descr': '<f4'") == std::string::npos ||
      header.find("'fortran_order': False") == std::string::npos)
    return bad("must be a C-order little-endian float32 array");
  const size_t key = header.find("'shape':");
  const size_t open = key == std::string::npos ? key : header.find('(', key);
  const size_t close =
      open == std::string::npos ? open : header.find(')', open);
  if (close == std::string::npos)
    return bad("no shape in the .npy header");
  uint64_t count = 1;
  const std::string dims = header.substr(open + 1, close - open - 1);
  for (size_t p = 0; p < dims.size();) {
    while (p < dims.size() && (dims[p] == ' ' || dims[p] == ','))
      ++p;
    if (p >= dims.size())
      break;
    if (dims[p] < '0' || dims[p] > '9')
      return bad("bad shape (" + dims + ")");
    uint64_t d = 0;
    for (; p < dims.size() && dims[p] >= '0' && dims[p] <= '9'; ++p) {
      if (d > (UINT64_MAX - 9) / 10)
        return bad("shape dimension too large (" + dims + ")");
      d = d * 10 + static_cast<uint64_t>(dims[p] - '0');
    }
    if (d != 0 && count > UINT64_MAX / d)
      return bad("shape too large (" + dims + ")");
    count *= d;
    while (p < dims.size() && dims[p] == ' ')
      ++p;
    if (p < dims.size() && dims[p] != ',')
      return bad("bad shape (" + dims + ")");
  }
  // The data must be in the file: compare with its size before allocating.
  const long here = std::ftell(f);
  if (here < 0 || std::fseek(f, 0, SEEK_END) != 0)
    return bad("cannot seek");
  const long end = std::ftell(f);
  if (end < here || std::fseek(f, here, SEEK_SET) != 0)
    return bad("cannot seek");
  const uint64_t available = static_cast<uint64_t>(end - here);
  if (count > available / sizeof(float))
    return bad("holds " + std::to_string(available) + " bytes of data, " +
               "its shape (" + dims + ") needs " + std::to_string(count) +
               " floats");
  data.resize(static_cast<size_t>(count));
  const size_t got = std::fread(data.data(), sizeof(float), data.size(), f);
  std::fclose(f);
  if (got != data.size())
    return err = std::string(path) + ": truncated", false;
  return true;
}

static bool writeNpy(const std::string &path, const std::vector<float> &data,
                     const std::vector<long long> &shape) {
  std::string dims;
  for (long long d : shape)
    dims += std::to_string(d) + ", ";
  if (shape.size() > 1)
    dims.resize(dims.size() - 1); // "(a, b)", but "(a,)" for one dimension
  std::string header =
      "{'descr': '<f4', 'fortran_order': False, 'shape': (" + dims + "), }";
  size_t total = 10 + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header.push_back('\n');
  FILE *f = std::fopen(path.c_str(), "wb");
  if (!f)
    return false;
  unsigned char pre[10] = {0x93,
                           'N',
                           'U',
                           'M',
                           'P',
                           'Y',
                           1,
                           0,
                           static_cast<unsigned char>(header.size() & 0xff),
                           static_cast<unsigned char>(header.size() >> 8)};
  bool ok =
      std::fwrite(pre, 1, 10, f) == 10 &&
      std::fwrite(header.data(), 1, header.size(), f) == header.size() &&
      std::fwrite(data.data(), sizeof(float), data.size(), f) == data.size();
  return std::fclose(f) == 0 && ok;
}

/// Parses a positive decimal count; false on anything else.
static bool parseCount(const char *text, long &value) {
  char *end = nullptr;
  errno = 0;
  value = std::strtol(text, &end, 10);
  return end != text && *end == '\0' && value > 0 && errno == 0;
}

int main(int argc, char **argv) {
  const std::string usage =
      "usage: run_model in0.npy [in1.npy ...] -o OUTDIR [--repeat N "
      "[--warmup W]] [--threads T], or run_model in.npy out.npy [...] for a "
      "model with one input and one output";
  long repeat = 0, warmup = 3;
  int threadCount = 1;
  bool warmupGiven = false;
  const char *outDir = nullptr;
  std::vector<const char *> files;
  for (int i = 1; i < argc; ++i) {
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
    } else if (opt == "-o" && i + 1 < argc) {
      outDir = argv[++i];
    } else if (!opt.empty() && opt[0] == '-') {
      return fail("unknown or incomplete option '" + opt + "'; " + usage);
    } else {
      files.push_back(argv[i]);
    }
  }
  if (warmupGiven && !repeat)
    return fail("--warmup needs --repeat");
  // The inputs' files, and where each output goes.
  std::vector<std::string> outPaths;
  if (outDir) {
    if (files.size() != kInputs)
      return fail("the model has " + std::to_string(kInputs) + " input(s), " +
                  std::to_string(files.size()) + " .npy file(s) given; " +
                  usage);
    if (::mkdir(outDir, 0777) != 0 && errno != EEXIST)
      return fail(std::string("cannot make the folder ") + outDir + ": " +
                  std::strerror(errno));
    for (size_t i = 0; i < kOutputs; ++i)
      outPaths.push_back(std::string(outDir) + "/out" + std::to_string(i) +
                         ".npy");
  } else {
    if (files.size() != 2)
      return fail(usage);
    if (kInputs != 1 || kOutputs != 1)
      return fail("the model has " + std::to_string(kInputs) +
                  " input(s) and " + std::to_string(kOutputs) +
                  " output(s): give the inputs and -o OUTDIR");
    outPaths.push_back(files[1]);
    files.pop_back();
  }
  lowbit::rt::setThreads(threadCount);
  std::fprintf(stderr, "run_model: kernel path %s, %d thread%s\n",
               lowbit::rt::isaName(lowbit::rt::modelIsa()), threadCount,
               threadCount == 1 ? "" : "s");

  std::vector<std::vector<float>> ins(kInputs);
  size_t samples = 0;
  for (size_t i = 0; i < kInputs; ++i) {
    std::string err;
    if (!readNpy(files[i], ins[i], err))
      return fail(err);
    const size_t e = static_cast<size_t>(kInputElements[i]);
    if (ins[i].empty() || ins[i].size() % e != 0)
      return fail(std::string(files[i]) + " holds " +
                  std::to_string(ins[i].size()) +
                  " values, not a positive multiple of input " +
                  std::to_string(i) + "'s " + std::to_string(e));
    const size_t n = ins[i].size() / e;
    if (i > 0 && n != samples)
      return fail(std::string(files[i]) + " holds " + std::to_string(n) +
                  " samples, " + files[0] + " " + std::to_string(samples));
    samples = n;
  }
  std::vector<std::vector<float>> outs(kOutputs);
  for (size_t i = 0; i < kOutputs; ++i)
    outs[i].resize(samples * static_cast<size_t>(kOutputElements[i]));
  size_t arenaBytes = (MODEL_MACRO(_ARENA_BYTES) + 63) / 64 * 64;
  void *arena = std::aligned_alloc(64, arenaBytes ? arenaBytes : 64);
  if (!arena)
    return fail("cannot allocate the arena");
  std::vector<const float *> inPtr(kInputs);
  std::vector<float *> outPtr(kOutputs);
  auto runSample = [&](size_t s, bool scratch,
                       std::vector<std::vector<float>> &scratchOut) {
    for (size_t i = 0; i < kInputs; ++i)
      inPtr[i] = ins[i].data() + s * static_cast<size_t>(kInputElements[i]);
    for (size_t i = 0; i < kOutputs; ++i)
      outPtr[i] = scratch ? scratchOut[i].data()
                          : outs[i].data() +
                                s * static_cast<size_t>(kOutputElements[i]);
    return RUN_FLOAT_ARRAY(inPtr.data(), outPtr.data(), arena) == 0;
  };
  std::vector<std::vector<float>> scratchOut(kOutputs);
  for (size_t i = 0; i < kOutputs; ++i)
    scratchOut[i].resize(static_cast<size_t>(kOutputElements[i]));

  auto start = std::chrono::steady_clock::now();
  for (size_t s = 0; s < samples; ++s)
    if (!runSample(s, false, scratchOut))
      return fail("the model returned an error");
  double ms = std::chrono::duration<double, std::milli>(
                  std::chrono::steady_clock::now() - start)
                  .count();
  std::fprintf(stderr, "run_model: %zu samples, %.4f ms per sample\n", samples,
               ms / samples);
  if (repeat) {
    // The first sample again, into scratch outputs: warm-up, then each of
    // the timed runs on its own.
    std::vector<double> times;
    times.reserve(repeat);
    for (long r = 0; r < warmup + repeat; ++r) {
      auto t0 = std::chrono::steady_clock::now();
      if (!runSample(0, true, scratchOut))
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
  const long long *dims = kOutputDims.data();
  for (size_t i = 0; i < kOutputs; ++i) {
    std::vector<long long> shape{static_cast<long long>(samples)};
    const long long rank = kOutputRanks[i];
    if (!outDir) {
      shape.push_back(kOutputElements[i]);
    } else {
      for (long long d = 0; d < rank; ++d)
        if (d > 0 || dims[d] != 1)
          shape.push_back(dims[d]);
    }
    dims += rank;
    if (!writeNpy(outPaths[i], outs[i], shape))
      return fail("cannot write " + outPaths[i]);
  }
  return 0;
}
