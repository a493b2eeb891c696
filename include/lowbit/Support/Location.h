//===- Location.h - Names of model nodes in MLIR locations ------*- C++ -*-===//
//
// Part of the lowbit project.
//
//===----------------------------------------------------------------------===//

#ifndef LOWBIT_SUPPORT_LOCATION_H
#define LOWBIT_SUPPORT_LOCATION_H

#include "mlir/IR/Location.h"

#include <string>

namespace lowbit {

/// The name of the first NameLoc inside `loc` (the importer gives every op
/// of a model its ONNX node's name), or "" when there is none.
std::string nodeName(mlir::Location loc);

} // namespace lowbit

#endif // LOWBIT_SUPPORT_LOCATION_H
