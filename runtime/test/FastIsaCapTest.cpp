//===- FastIsaCapTest.cpp - The build-time cap of the kernel path ---------===//
//
// Part of the lowbit project.
//
//===----------------------------------------------------------------------===//
//
// This file is compiled with -DLOWBIT_MAX_ISA_LEVEL=1 (see CMakeLists.txt),
// as a generated model's C++ would be to pick AVX2 at build time:
// modelIsa() must not exceed it, nor what the CPU runs.
//
//===----------------------------------------------------------------------===//

#include "lowbit/runtime/Fast.h"

#include <gtest/gtest.h>

#ifndef LOWBIT_MAX_ISA_LEVEL
#error "FastIsaCapTest.cpp is compiled with -DLOWBIT_MAX_ISA_LEVEL=1"
#endif

using namespace lowbit::rt;

TEST(FastIsa, BuildTimeCapOfTheModelPath) {
  const Isa got = modelIsa();
  EXPECT_LE(static_cast<int>(got), LOWBIT_MAX_ISA_LEVEL);
  EXPECT_LE(static_cast<int>(got), static_cast<int>(selectedIsa()));
  EXPECT_TRUE(cpuSupports(got));
  // The best path the CPU runs at or below both caps.
  const Isa cap = static_cast<int>(selectedIsa()) < LOWBIT_MAX_ISA_LEVEL
                      ? selectedIsa()
                      : static_cast<Isa>(LOWBIT_MAX_ISA_LEVEL);
  EXPECT_EQ(got, bestIsaAtOrBelow(cap));
}
