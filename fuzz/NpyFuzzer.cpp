//===- NpyFuzzer.cpp - libFuzzer target: the .npy reader -------------------===//
//
// Part of the lowbit project.
//
//===----------------------------------------------------------------------===//
//
// lowbit::readNpy on arbitrary bytes (calibration data, --run and
// --bind-input files): an error or a tensor, never a crash, a hang or an
// allocation the file cannot back. A tensor read back is written again
// and must read back the same.
//
//===----------------------------------------------------------------------===//

#include "FuzzFile.h"

#include "lowbit/Support/Npy.h"

#include "llvm/Support/Error.h"

#include <cstring>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const std::string path = lowbit::fuzz::writeInput(data, size, ".npy");
  auto tensor = lowbit::readNpy(path);
  if (!tensor) {
    llvm::consumeError(tensor.takeError());
    return 0;
  }
  const std::string again = path + ".again.npy";
  if (auto err = lowbit::writeNpy(again, *tensor)) {
    llvm::consumeError(std::move(err));
    return 0;
  }
  auto back = lowbit::readNpy(again);
  if (!back || back->byteSize() != tensor->byteSize() ||
      back->shape() != tensor->shape() ||
      (tensor->byteSize() != 0 &&
       std::memcmp(back->raw(), tensor->raw(), tensor->byteSize()) != 0))
    __builtin_trap(); // written and read back differently
  return 0;
}
