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
  EXPECT_LE(static_cast<int>(modelIsa()), LOWBIT_MAX_ISA_LEVEL);
  EXPECT_LE(static_cast<int>(modelIsa()), static_cast<int>(selectedIsa()));
  if (static_cast<int>(selectedIsa()) >= LOWBIT_MAX_ISA_LEVEL) {
    EXPECT_EQ(static_cast<int>(modelIsa()), LOWBIT_MAX_ISA_LEVEL);
  }
}
