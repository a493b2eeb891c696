//===- AccelDialect.h - accel dialect ---------------------------*- C++ -*-===//
//
// Part of the lowbit project.
//
//===----------------------------------------------------------------------===//

#ifndef LOWBIT_DIALECT_ACCEL_IR_ACCELDIALECT_H
#define LOWBIT_DIALECT_ACCEL_IR_ACCELDIALECT_H

#include "mlir/IR/Dialect.h"

#include "Accel/IR/AccelDialect.h.inc"

#endif // LOWBIT_DIALECT_ACCEL_IR_ACCELDIALECT_H
