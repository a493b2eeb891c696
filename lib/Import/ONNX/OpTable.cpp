//===- OpTable.cpp - ONNX op type to handler ------------------------------===//
//
// Part of the lowbit project.
//
//===----------------------------------------------------------------------===//
//
// The one table from ONNX op type (default domain) to the Importer method
// that imports it. A new op is a line here, a declaration in
// ImporterImpl.h and its handler in the file of its family.
//
//===----------------------------------------------------------------------===//

#include "ImporterImpl.h"

using namespace mlir;
using namespace ::lowbit;
using namespace ::lowbit::onnx_import;

Importer::Handler Importer::handlerFor(StringRef op) {
  static const llvm::StringMap<Handler> handlers = {
      {"Conv", [](Importer &i) { return i.importConv(); }},
      {"ConvTranspose", [](Importer &i) { return i.importConvTranspose(); }},
      {"ConvInteger", [](Importer &i) { return i.importConvInteger(false); }},
      {"QLinearConv", [](Importer &i) { return i.importConvInteger(true); }},
      {"Gemm", [](Importer &i) { return i.importGemm(); }},
      {"MatMul", [](Importer &i) { return i.importMatMul(false, false); }},
      {"MatMulInteger",
       [](Importer &i) { return i.importMatMul(true, false); }},
      {"QLinearMatMul", [](Importer &i) { return i.importMatMul(true, true); }},
      {"Add", [](Importer &i) { return i.importBinary(); }},
      {"Sub", [](Importer &i) { return i.importBinary(); }},
      {"Mul", [](Importer &i) { return i.importBinary(); }},
      {"Div", [](Importer &i) { return i.importBinary(); }},
      {"Relu", [](Importer &i) { return i.importRelu(); }},
      {"LeakyRelu", [](Importer &i) { return i.importLeakyRelu(); }},
      {"PRelu", [](Importer &i) { return i.importPRelu(); }},
      {"Clip", [](Importer &i) { return i.importClip(); }},
      {"Sigmoid", [](Importer &i) { return i.importUnary(); }},
      {"Erf", [](Importer &i) { return i.importUnary(); }},
      {"Reciprocal", [](Importer &i) { return i.importUnary(); }},
      {"Sqrt", [](Importer &i) { return i.importSqrt(); }},
      {"Pow", [](Importer &i) { return i.importPow(); }},
      {"Gelu", [](Importer &i) { return i.importGelu(); }},
      {"Equal", [](Importer &i) { return i.importCompare(); }},
      {"Less", [](Importer &i) { return i.importCompare(); }},
      {"Greater", [](Importer &i) { return i.importCompare(); }},
      {"LessOrEqual", [](Importer &i) { return i.importCompare(); }},
      {"GreaterOrEqual", [](Importer &i) { return i.importCompare(); }},
      {"Mod", [](Importer &i) { return i.importMod(); }},
      {"Not", [](Importer &i) { return i.importLogical(); }},
      {"And", [](Importer &i) { return i.importLogical(); }},
      {"Or", [](Importer &i) { return i.importLogical(); }},
      {"Where", [](Importer &i) { return i.importWhere(); }},
      {"Expand", [](Importer &i) { return i.importExpand(); }},
      {"Range", [](Importer &i) { return i.importRange(); }},
      {"ScatterND", [](Importer &i) { return i.importScatterND(); }},
      {"LayerNormalization", [](Importer &i) { return i.importLayerNorm(); }},
      {"Tanh", [](Importer &i) { return i.importUnary(); }},
      {"HardSigmoid", [](Importer &i) { return i.importHardSigmoid(false); }},
      {"HardSwish", [](Importer &i) { return i.importHardSigmoid(true); }},
      {"MaxPool", [](Importer &i) { return i.importPool(true, false); }},
      {"AveragePool", [](Importer &i) { return i.importPool(false, false); }},
      {"GlobalAveragePool",
       [](Importer &i) { return i.importPool(false, true); }},
      {"GlobalMaxPool", [](Importer &i) { return i.importPool(true, true); }},
      {"BatchNormalization", [](Importer &i) { return i.importBatchNorm(); }},
      {"Flatten", [](Importer &i) { return i.importFlatten(); }},
      {"Reshape", [](Importer &i) { return i.importReshape(); }},
      {"Transpose", [](Importer &i) { return i.importTranspose(); }},
      {"Concat", [](Importer &i) { return i.importConcat(); }},
      {"Pad", [](Importer &i) { return i.importPad(); }},
      {"Softmax", [](Importer &i) { return i.importSoftmax(); }},
      {"Identity", [](Importer &i) { return i.importIdentity(); }},
      {"Dropout", [](Importer &i) { return i.importDropout(); }},
      {"Squeeze", [](Importer &i) { return i.importSqueeze(false); }},
      {"Unsqueeze", [](Importer &i) { return i.importSqueeze(true); }},
      {"Shape", [](Importer &i) { return i.importShape(); }},
      {"Gather", [](Importer &i) { return i.importGather(); }},
      {"ConstantOfShape",
       [](Importer &i) { return i.importConstantOfShape(); }},
      {"Cast", [](Importer &i) { return i.importCast(); }},
      {"Constant", [](Importer &i) { return i.importConstant(); }},
      {"Slice", [](Importer &i) { return i.importSlice(); }},
      {"Split", [](Importer &i) { return i.importSplit(); }},
      {"ReduceMean",
       [](Importer &i) { return i.importReduce(Importer::ReduceKind::Mean); }},
      {"ReduceSum",
       [](Importer &i) { return i.importReduce(Importer::ReduceKind::Sum); }},
      {"ReduceMax",
       [](Importer &i) { return i.importReduce(Importer::ReduceKind::Max); }},
      {"Resize", [](Importer &i) { return i.importResize(false); }},
      {"Upsample", [](Importer &i) { return i.importResize(true); }},
      {"QuantizeLinear", [](Importer &i) { return i.importQuantizeLinear(); }},
      {"DequantizeLinear",
       [](Importer &i) { return i.importDequantizeLinear(); }},
  };
  auto it = handlers.find(op);
  return it == handlers.end() ? nullptr : it->second;
}
