//===- run_blocks.cpp - Run a model's <name>_run_blocks on raw images -----===//
//
// Part of the lowbit project.
//
//===----------------------------------------------------------------------===//
//
// The harness of the C++ target's adaptive bit depth entry point (lowbitc
// --input-bit-depth --emit=cpp): reads one image of uint16 pixels [C, H, W]
// (raw, native byte order), runs <name>_run_blocks on it and writes the
// result [C', H, W] raw. Built like run_model.cpp:
//
//   g++ -std=c++17 -I runtime/include -I OUT -DLOWBIT_MODEL_HEADER='"m.h"'
//       -DLOWBIT_MODEL=m -DLOWBIT_MODEL_UPPER=M run_blocks.cpp OUT/m.cpp
//       OUT/m_weights.S liblowbit_runtime.a -pthread
//
//   run_blocks IN.raw HEIGHT WIDTH OUT.raw
//
//===----------------------------------------------------------------------===//

#include LOWBIT_MODEL_HEADER

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#define LB_CAT2(a, b) a##b
#define LB_CAT(a, b) LB_CAT2(a, b)
#define RUN_BLOCKS LB_CAT(LOWBIT_MODEL, _run_blocks)
#define MODEL_MACRO(suffix) LB_CAT(LOWBIT_MODEL_UPPER, suffix)

static int fail(const std::string &msg) {
  std::fprintf(stderr, "run_blocks: error: %s\n", msg.c_str());
  return 1;
}

int main(int argc, char **argv) {
  if (argc != 5)
    return fail("usage: run_blocks IN.raw HEIGHT WIDTH OUT.raw");
  char *end = nullptr;
  const long height = std::strtol(argv[2], &end, 10);
  if (*end || height < 1 || height > (1 << 20))
    return fail("bad HEIGHT");
  const long width = std::strtol(argv[3], &end, 10);
  if (*end || width < 1 || width > (1 << 20))
    return fail("bad WIDTH");
  const long long inCount =
      static_cast<long long>(MODEL_MACRO(_BLOCK_CHANNELS)) * height * width;
  const long long outCount =
      static_cast<long long>(MODEL_MACRO(_BLOCK_OUT_CHANNELS)) * height * width;
  std::vector<uint16_t> image(static_cast<size_t>(inCount));
  std::vector<uint16_t> out(static_cast<size_t>(outCount));
  FILE *f = std::fopen(argv[1], "rb");
  if (!f)
    return fail(std::string("cannot open ") + argv[1]);
  const size_t got = std::fread(image.data(), 2, image.size(), f);
  std::fclose(f);
  if (got != image.size())
    return fail("the image file is shorter than C x HEIGHT x WIDTH");
  std::vector<float> scratch(MODEL_MACRO(_BLOCKS_SCRATCH_FLOATS));
  void *arena = std::aligned_alloc(64, MODEL_MACRO(_ARENA_BYTES));
  if (!arena)
    return fail("out of memory");
  const int32_t rc =
      RUN_BLOCKS(image.data(), height, width, out.data(), scratch.data(),
                 arena);
  std::free(arena);
  if (rc != 0)
    return fail("_run_blocks returned " + std::to_string(rc));
  f = std::fopen(argv[4], "wb");
  if (!f || std::fwrite(out.data(), 2, out.size(), f) != out.size())
    return fail(std::string("cannot write ") + argv[4]);
  std::fclose(f);
  return 0;
}
