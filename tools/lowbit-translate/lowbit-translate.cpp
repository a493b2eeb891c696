//===- lowbit-translate.cpp - lowbit's mlir-translate -----------*- C++ -*-===//
//
// Part of the lowbit project.
//
//===----------------------------------------------------------------------===//

#include "lowbit/Target/Accel.h"
#include "lowbit/Target/Cpp.h"

#include "mlir/Tools/mlir-translate/MlirTranslateMain.h"

int main(int argc, char **argv) {
  lowbit::registerToCppTranslation();
  lowbit::registerToAccelTranslations();
  return mlir::failed(
      mlir::mlirTranslateMain(argc, argv, "lowbit translation driver"));
}
