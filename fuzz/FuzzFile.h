//===- FuzzFile.h - One fuzz input as a file ---------------------*- C++ -*-===//
//
// Part of the lowbit project.
//
//===----------------------------------------------------------------------===//
//
// The readers under test take a path, as lowbitc gives them: each input is
// written to one file of the process (in /dev/shm when it exists), which the
// target then reads.
//
//===----------------------------------------------------------------------===//

#ifndef LOWBIT_FUZZ_FUZZFILE_H
#define LOWBIT_FUZZ_FUZZFILE_H

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

} // namespace fuzz
} // namespace lowbit

#endif // LOWBIT_FUZZ_FUZZFILE_H
