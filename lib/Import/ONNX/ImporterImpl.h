//===- ImporterImpl.h - The ONNX importer's private interface ---*- C++ -*-===//
//
// Part of the lowbit project.
//
//===----------------------------------------------------------------------===//
//
// The Importer class shared by the files of lib/Import/ONNX. Not
// installed: the public API is include/lowbit/Import/ONNX.h.
//
//   ONNXImporter.cpp  model and graph walk, graph inputs, the per-node
//                     driver (importNode) and the entry point
//   OpTable.cpp       the one table from op type to handler
//   Helpers.cpp       diagnostics, values, constants, attributes, IR
//                     builders and the handler prologues
//   Folding.cpp       host folding of constant arithmetic
//   ConvPool.cpp      Conv, ConvTranspose, pools, BatchNormalization (and
//                     Conv+BN folding)
//   MatMul.cpp        Gemm, MatMul, MatMulInteger, QLinearMatMul
//   Elementwise.cpp   Add/Sub/Mul/Div, Pow, Sqrt, activations (Gelu, Erf),
//                     Clip, Softmax, comparisons, logic, Where
//   Shape.cpp         shape, data-movement and constant ops (Expand, Range)
//   Quantization.cpp  QuantizeLinear, DequantizeLinear, ConvInteger,
//                     QLinearConv, and the QLinear requantization
//   Reductions.cpp    ReduceMean, ReduceSum, ReduceMax, LayerNormalization
//   Resize.cpp        Resize, Upsample
//
// This header needs no dialect headers; each file includes the ops it
// creates.
//
//===----------------------------------------------------------------------===//

#ifndef LOWBIT_LIB_IMPORT_ONNX_IMPORTERIMPL_H
#define LOWBIT_LIB_IMPORT_ONNX_IMPORTERIMPL_H

#include "lowbit/Import/ONNX.h"
#include "lowbit/Support/HostTensor.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/STLFunctionalExtras.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringSet.h"

#include <onnx/onnx_pb.h>

#include <initializer_list>
#include <optional>
#include <string>

namespace lowbit::onnx_import {

using namespace mlir;
using llvm::SmallVector;
using llvm::StringRef;

/// A value of the ONNX graph: its static type, its IR value once emitted,
/// and its contents when known at import time.
struct TensorInfo {
  ElemKind kind = ElemKind::F32;
  SmallVector<int64_t> shape;
  Value value;
  std::optional<HostTensor> constant;
  /// Name of the graph input it comes from, for "must be constant" errors.
  std::string graphInput;
};

/// Thrown-free error plumbing: handlers return failure() after emitting.
class Importer {
public:
  Importer(MLIRContext &ctx, const onnx::ModelProto &model, StringRef path,
           const ONNXImportOptions &options)
      : ctx(ctx), b(&ctx), model(model), path(path.str()), options(options) {}

  OwningOpRef<ModuleOp> run();

private:
  // --- diagnostics -------------------------------------------------------
  InFlightDiagnostic modelError() {
    return mlir::emitError(FileLineColLoc::get(&ctx, path, 0, 0));
  }
  InFlightDiagnostic nodeError() {
    auto diag = mlir::emitError(loc);
    diag << "node '" << nodeName() << "' (" << node->op_type() << ", opset "
         << opset << "): ";
    return diag;
  }
  std::string nodeName() const {
    return node->name().empty() ? ("#" + std::to_string(nodeIndex))
                                : node->name();
  }
  LogicalResult unsupported(const llvm::Twine &what) {
    return nodeError() << "unsupported " << what, failure();
  }
  /// "unsupported element type: float32 only" unless `t` is float32.
  LogicalResult requireF32(const TensorInfo &t);
  /// "unsupported element type <kind><suffix>".
  LogicalResult unsupportedElemType(ElemKind kind, StringRef suffix = "");
  /// unsupportedElemType(kind, " (uint8/int8 only)") unless `kind` is
  /// uint8 or int8.
  LogicalResult requireInt8(ElemKind kind);

  // --- graph values ------------------------------------------------------
  FailureOr<ElemKind> kindOfOnnx(int32_t dataType, StringRef what);
  FailureOr<HostTensor> tensorFromProto(const onnx::TensorProto &t);
  TensorInfo *lookup(const std::string &name);
  /// The static shape of a graph input: the model's, with --input-shape
  /// (ONNXImportOptions::inputShapes) or a default of 1 for a symbolic
  /// leading dimension. Errors name the input, the dimension and the option.
  FailureOr<SmallVector<int64_t>>
  graphInputShape(const onnx::ValueInfoProto &in);
  /// Input `i` of the current node, or null when absent ("" or out of range).
  TensorInfo *input(int i);
  int numInputs() const { return node->input_size(); }
  FailureOr<TensorInfo *> requireInput(int i);
  /// The host value of input `i`, or an error explaining it must be constant.
  FailureOr<const HostTensor *> constantInput(int i, StringRef role);
  /// constantInput() that must hold at least one element (scales and zero
  /// points, whose first element is read).
  FailureOr<const HostTensor *> nonEmptyConstantInput(int i, StringRef role);
  /// constantInput() / nonEmptyConstantInput() of an optional input: null
  /// when the input is absent.
  FailureOr<const HostTensor *> optionalConstantInput(int i, StringRef role);
  FailureOr<const HostTensor *> optionalNonEmptyConstantInput(int i,
                                                              StringRef role);
  /// The integers of a constant input `role` (shapes, pads, axes, starts,
  /// indices: ONNX types them int64 or int32); a float tensor is an error
  /// naming `role`, never truncated.
  FailureOr<std::vector<int64_t>> integersOf(const HostTensor *t,
                                             StringRef role);
  Value valueOf(TensorInfo &info);
  void setOutput(int i, Value v, ElemKind kind, ArrayRef<int64_t> shape);
  void setConstantOutput(int i, HostTensor t);
  /// Output 0 is `x` itself (Identity, inference Dropout, a Cast to the
  /// same type); it no longer counts as a graph input.
  void forwardInput(const TensorInfo &x);
  /// Output 0 is `x` viewed as `shape`: reshaped on the host when `x` is
  /// constant, else a tosa.reshape.
  LogicalResult setReshapedOutput(TensorInfo &x, ArrayRef<int64_t> shape);

  // --- attributes --------------------------------------------------------
  // Every attribute is read through a getter that checks its type: one of
  // another type is an error naming the node, the attribute, the expected
  // and the given type (as ONNX's checker and ONNX Runtime reject it),
  // never a value read from the wrong field (0).
  using AttrType = onnx::AttributeProto::AttributeType;
  /// The attribute `name` of the current node, whatever its type, or null.
  const onnx::AttributeProto *attr(StringRef name) const;
  /// The type of `a`; for an attribute of IR version 1 (no `type`), that of
  /// its one value field (UNDEFINED when there is not exactly one).
  static AttrType attributeType(const onnx::AttributeProto &a);
  /// attr(name) checked to be of `type`: null when absent, an error when
  /// it has another type.
  FailureOr<const onnx::AttributeProto *> typedAttr(StringRef name,
                                                    AttrType type);
  FailureOr<int64_t> attrInt(StringRef name, int64_t def);
  /// attrInt for an axis of a tensor of rank `rank`: a negative axis counts
  /// from the end (rank is added). The range is the caller's to check.
  FailureOr<int64_t> attrAxis(StringRef name, int64_t def, int64_t rank);
  /// Checks that `axis` is in [-rank, rank) ("axis A is out of range for
  /// rank R" otherwise) and counts a negative one from the end.
  LogicalResult normalizeAxis(int64_t &axis, int64_t rank);
  FailureOr<float> attrFloat(StringRef name, float def);
  FailureOr<std::string> attrString(StringRef name, StringRef def);
  /// An INTS / FLOATS attribute, or std::nullopt when absent.
  FailureOr<std::optional<SmallVector<int64_t>>> attrInts(StringRef name);
  FailureOr<std::optional<SmallVector<float>>> attrFloats(StringRef name);
  /// Attributes that must be present: "missing '<name>'" otherwise.
  FailureOr<int64_t> requiredAttrInt(StringRef name);
  FailureOr<SmallVector<int64_t>> requiredAttrInts(StringRef name);
  /// Errors on attributes not in `known` (so nothing is silently ignored)
  /// and on an attribute given twice.
  LogicalResult checkAttributes(std::initializer_list<StringRef> known);
  /// The type check of attributes a handler accepts but does not read
  /// (inference-only ones such as BatchNormalization's momentum).
  LogicalResult checkAttributeTypes(
      std::initializer_list<std::pair<StringRef, AttrType>> attrs);

  // --- handler prologues ---------------------------------------------------
  /// What most handlers start with: checkAttributes(known), then the
  /// required input 0.
  FailureOr<TensorInfo *>
  attributesAndInput(std::initializer_list<StringRef> known);
  /// attributesAndInput() for ops that import float32 tensors only
  /// (requireF32).
  FailureOr<TensorInfo *>
  attributesAndF32Input(std::initializer_list<StringRef> known);

  // --- IR helpers --------------------------------------------------------
  Type elemType(ElemKind k) { return mlirTypeOf(k, &ctx); }
  RankedTensorType tensorType(ArrayRef<int64_t> shape, ElemKind k) {
    return RankedTensorType::get(shape, elemType(k));
  }
  Value materialize(const HostTensor &t);
  /// OIHW convolution weights as a TOSA (OHWI or depthwise) constant.
  Value materializeConvWeights(const HostTensor &w, bool depthwise,
                               int64_t channels);
  /// materialize() of `t` (shape `t.shape()`) transposed by `perm` and then
  /// viewed as `shape`, written straight into the constant's storage.
  Value materializeTransposed(const HostTensor &t, ArrayRef<int32_t> perm,
                              ArrayRef<int64_t> shape);
  Value scalarConst(ElemKind k, double v, int64_t rank = 1);
  /// The zero shift operand of a float tosa.mul (an i8 tensor<1xi8>).
  Value mulShift();
  Value constShape(ArrayRef<int64_t> values);
  Value reshape(Value v, ArrayRef<int64_t> shape);
  /// Reinterprets stored integers as `type` (quant.scast for signless
  /// storage, lowbit.bitcast when an unsigned builtin type is involved).
  Value storageCast(Value v, RankedTensorType type);
  /// TOSA needs (in + pads - window) divisible by the stride; ONNX floors.
  /// Drops what no window reads: trailing padding first, then input rows
  /// and columns (sliced off the NHWC value).
  Value fitWindows(Value nhwc, int64_t ekh, int64_t ekw, int64_t sh, int64_t sw,
                   int64_t padTop, int64_t &padBottom, int64_t padLeft,
                   int64_t &padRight);
  Value transpose(Value v, ArrayRef<int32_t> perms);
  Value toNHWC(Value v) { return transpose(v, {0, 2, 3, 1}); }
  Value toNCHW(Value v) { return transpose(v, {0, 3, 1, 2}); }
  /// Reshapes `v` (rank r) to `rank` by prepending ones (ONNX broadcasting).
  Value rankExtend(Value v, int64_t rank);
  FailureOr<SmallVector<int64_t>> broadcastShape(ArrayRef<int64_t> a,
                                                 ArrayRef<int64_t> b);
  template <typename OpTy>
  Value create(Type result, ValueRange operands,
               ArrayRef<NamedAttribute> attrs = {}) {
    return OpTy::create(b, loc, TypeRange{result}, operands, attrs)
        ->getResult(0);
  }
  NamedAttribute named(StringRef n, Attribute a) {
    return b.getNamedAttr(n, a);
  }
  static ArrayRef<int64_t> shapeOf(Value v) {
    return cast<RankedTensorType>(v.getType()).getShape();
  }

  // --- driver (ONNXImporter.cpp) -------------------------------------------
  /// Makes `n`, the graph's node `index`, the current node (`node`,
  /// `nodeIndex` and the location of its diagnostics).
  void enterNode(const onnx::NodeProto &n, int index);
  /// Names are unique: no empty or repeated initializer or graph input name,
  /// and no node output that another node, a graph input or an initializer
  /// already defines (errors name the tensor and both definitions).
  LogicalResult checkDefinitions();
  LogicalResult importNode();
  /// The handler of an op type, or null when the op is not supported
  /// (OpTable.cpp: the one table from op type to handler).
  using Handler = LogicalResult (*)(Importer &);
  static Handler handlerFor(StringRef opType);

  // --- host folding of constant subgraphs (Folding.cpp) --------------------
  LogicalResult foldConstantNode(bool &folded);
  /// Calls f(i, offsets) for every flat index i of `outShape` with the flat
  /// offset of element i in each of `ins` under numpy broadcasting (the
  /// shapes must broadcast to `outShape`; see broadcastShape).
  static void
  forEachBroadcast(ArrayRef<int64_t> outShape,
                   ArrayRef<const HostTensor *> ins,
                   llvm::function_ref<void(int64_t, ArrayRef<int64_t>)> f);

  // --- op handlers ---------------------------------------------------------
  // ConvPool.cpp: convolutions, pools, BatchNormalization.
  LogicalResult importConv();
  LogicalResult importConvTranspose();
  LogicalResult importPool(bool isMax, bool global);
  LogicalResult importBatchNorm();
  /// Shared by Conv, pools and the integer convolutions: geometry from
  /// attributes.
  struct ConvGeometry {
    int64_t kh, kw, sh, sw, dh, dw, groups;
    int64_t padTop, padLeft, padBottom, padRight;
    int64_t oh, ow;
    /// Trailing padding added for ceil_mode (included in padBottom/Right).
    int64_t ceilExtraH = 0, ceilExtraW = 0;
  };
  FailureOr<ConvGeometry> convGeometry(ArrayRef<int64_t> inShape, int64_t kh,
                                       int64_t kw, bool pool);
  /// A convolution's 'kernel_shape', when given, must be the spatial shape
  /// of its weight `w` (input `wIndex`): ONNX Runtime rejects the model
  /// otherwise, and the importer takes the window from the weight.
  LogicalResult checkKernelShape(const TensorInfo &w, int wIndex);
  /// Float convolution of an NCHW value with OIHW weights: `w`'s value, or
  /// `wHost` when they are known on the host.
  FailureOr<Value> emitConv(Value x, TensorInfo &w, const HostTensor *wHost,
                            Value bias, const HostTensor *biasHost,
                            const ConvGeometry &g,
                            int64_t outChannels);

  // MatMul.cpp: Gemm, and MatMul with its integer forms (MatMulInteger,
  // QLinearMatMul).
  LogicalResult importGemm();
  LogicalResult importMatMul(bool integer, bool qlinear);

  // Elementwise.cpp: arithmetic and activations.
  LogicalResult importBinary();
  /// Sigmoid, Tanh, Erf, Reciprocal.
  LogicalResult importUnary();
  LogicalResult importPow();
  /// Sqrt as tosa.pow(x, 0.5) (TOSA has no square root), recorded in
  /// `sqrtInputs` so that a Div by it becomes a multiply by tosa.rsqrt.
  LogicalResult importSqrt();
  LogicalResult importGelu();
  /// Equal, Less, Greater, LessOrEqual, GreaterOrEqual.
  LogicalResult importCompare();
  LogicalResult importMod();
  /// Not, And, Or.
  LogicalResult importLogical();
  LogicalResult importWhere();
  LogicalResult importRelu();
  LogicalResult importLeakyRelu();
  LogicalResult importPRelu();
  LogicalResult importClip();
  LogicalResult importHardSigmoid(bool swish);
  LogicalResult importSoftmax();

  // Shape.cpp: shapes, data movement and constants.
  LogicalResult importFlatten();
  LogicalResult importReshape();
  LogicalResult importTranspose();
  LogicalResult importConcat();
  LogicalResult importPad();
  LogicalResult importIdentity();
  LogicalResult importDropout();
  LogicalResult importSqueeze(bool unsqueeze);
  LogicalResult importShape();
  LogicalResult importGather();
  LogicalResult importConstantOfShape();
  LogicalResult importCast();
  LogicalResult importConstant();
  LogicalResult importSlice();
  LogicalResult importSplit();
  LogicalResult importExpand();
  LogicalResult importRange();
  LogicalResult importScatterND();
  /// Gather of runtime indices: tosa.gather (Shape.cpp).
  LogicalResult importGatherRuntime(TensorInfo &x, TensorInfo &indices,
                                    int64_t axis);

  // Reductions.cpp: ReduceMean, ReduceSum, ReduceMax.
  enum class ReduceKind { Mean, Sum, Max };
  LogicalResult importReduce(ReduceKind kind);
  LogicalResult importLayerNorm();
  /// The mean of float32 `v` over `axes` (sorted, distinct), dimensions
  /// kept: a tosa.reduce_sum per axis, then a multiply by 1 / count. The
  /// one form ReduceMean and LayerNormalization share (docs/IMPORTER.md,
  /// "The canonical layer norm").
  Value emitMean(Value v, ArrayRef<int64_t> axes);
  // Resize.cpp: Resize and Upsample.
  LogicalResult importResize(bool upsample);
  // Quantization.cpp: Q/DQ and the integer convolutions.
  LogicalResult importQuantizeLinear();
  LogicalResult importDequantizeLinear();
  LogicalResult importConvInteger(bool qlinear);
  /// The 'axis' attribute of QuantizeLinear / DequantizeLinear (default 1),
  /// made non-negative; when `perAxis`, it must index a dimension of `x` of
  /// the scale's size.
  FailureOr<int64_t> quantizationAxis(const TensorInfo &x,
                                      const HostTensor &scale, bool perAxis);
  /// A zero point input that must be one constant value (absent means 0).
  FailureOr<int64_t> scalarZeroPoint(int idx, StringRef role);
  /// A tensor<1xT> holding `value`, the zero-point operand of integer TOSA
  /// ops.
  Value zeroPointConst(ElemKind kind, int64_t value);
  /// QLinearConv / QLinearMatMul output: requantizes the i32 accumulator by
  /// a_scale * b_scale / y_scale (one multiplier per index of `axis` when
  /// b_scale has several values) to y_zero_point's type, and casts to the
  /// stored integers. Inputs are given by index.
  FailureOr<Value> emitQLinearRequant(Value acc, int aScale, int bScale,
                                      int yScale, int yZeroPoint,
                                      ElemKind defaultKind, int64_t axis);

  /// Whether a later node or a graph output reads the tensor `name`.
  bool isRead(StringRef name) const;

  /// The input of each square root imported (Sqrt, Pow 0.5), by its result:
  /// a Div by one is a multiply by tosa.rsqrt of the input.
  llvm::DenseMap<Value, Value> sqrtInputs;

  /// Conv->BatchNormalization pairs found up front, folded at the Conv.
  void findConvBatchNormPairs();
  /// Folds BatchNormalization `bn` into OIHW weights `w` (scaled per output
  /// channel) and the bias `bias` ([O]: the convolution's, or zeros) and
  /// records it as folded; false, with nothing changed, unless its scale,
  /// bias, mean and variance are constant float32 of O elements.
  bool foldBatchNorm(const onnx::NodeProto &bn, HostTensor &w,
                     HostTensor &bias);
  llvm::StringMap<const onnx::NodeProto *> convToBatchNorm;
  llvm::StringSet<> foldedBatchNorms;

  MLIRContext &ctx;
  OpBuilder b;
  /// Outlives the importer: initializers stored as raw bytes are host
  /// tensors that view them (HostTensor::view), without a copy.
  const onnx::ModelProto &model;
  std::string path;
  const ONNXImportOptions &options;
  int64_t opset = 0;
  llvm::StringMap<TensorInfo> values;
  const onnx::NodeProto *node = nullptr;
  int nodeIndex = 0;
  Location loc = UnknownLoc::get(&ctx);
  int constantCounter = 0;
};

} // namespace lowbit::onnx_import

#endif // LOWBIT_LIB_IMPORT_ONNX_IMPORTERIMPL_H
