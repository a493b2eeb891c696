//===- InitAll.cpp - Register every dialect and pass lowbit uses ----------===//
//
// Part of the lowbit project.
//
//===----------------------------------------------------------------------===//

#include "lowbit/InitAll.h"

#include "Accel/IR/AccelDialect.h"
#include "LowBit/IR/LowBitDialect.h"
#include "LowBit/Transforms/Passes.h"
#include "lowbit/Conversion/Passes.h"
#include "lowbit/Pipelines/Pipelines.h"
#include "lowbit/Transforms/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/EmitC/IR/EmitC.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Quant/IR/Quant.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Tosa/IR/TosaOps.h"
#include "mlir/Dialect/Tosa/Transforms/Passes.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/Transforms/Passes.h"

void lowbit::registerAllDialects(mlir::DialectRegistry &registry) {
  registry.insert<mlir::arith::ArithDialect, mlir::emitc::EmitCDialect,
                  mlir::func::FuncDialect, mlir::quant::QuantDialect,
                  mlir::tensor::TensorDialect, mlir::tosa::TosaDialect,
                  mlir::lowbit::LowBitDialect, mlir::accel::AccelDialect>();
}

void lowbit::registerAllPasses() {
  mlir::registerTransformsPasses();
  mlir::tosa::registerTosaPasses();
  mlir::lowbit::registerLowBitPasses();
  lowbit::registerLowBitCommonPasses();
  lowbit::registerLowBitConversionPasses();
  lowbit::registerLowBitPipelines();
}
