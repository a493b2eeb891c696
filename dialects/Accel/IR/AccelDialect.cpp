//===- AccelDialect.cpp - accel dialect -----------------------------------===//
//
// Part of the lowbit project.
//
//===----------------------------------------------------------------------===//

#include "AccelDialect.h"
#include "AccelOps.h"

using namespace mlir;
using namespace mlir::accel;

#include "Accel/IR/AccelDialect.cpp.inc"

void AccelDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "Accel/IR/AccelOps.cpp.inc"
      >();
}
