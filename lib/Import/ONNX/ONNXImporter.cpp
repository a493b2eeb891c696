//===- ONNXImporter.cpp - ONNX ModelProto to func + tosa ------------------===//
//
// Part of the lowbit project.
//
//===----------------------------------------------------------------------===//
//
// Walks the graph in order (ONNX graphs are topologically sorted) and emits
// TOSA ops with static shapes. Values known at import time (initializers,
// Constant nodes, bound inputs and the shape subgraphs torch.onnx emits) are
// kept on the host and folded; they reach the IR only when a real op needs
// them, as `tosa.const` (large ones as dense resources, copied once).
//
// ONNX is NCHW; TOSA's convolutions and pools are NHWC, so those ops are
// wrapped in transposes, which canonicalization cancels between neighbours.
// Constant weights are re-laid out on the host.
//
// Every unsupported op, attribute or form is a located error naming the
// node, its op type and the opset; nothing is dropped or approximated
// silently.
//
//===----------------------------------------------------------------------===//

#include "lowbit/Import/ONNX.h"

#include "LowBit/IR/LowBitOps.h"
#include "lowbit/runtime/Kernels.h"
#include "lowbit/runtime/Requant.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Quant/IR/Quant.h"
#include "mlir/Dialect/Quant/IR/QuantTypes.h"
#include "mlir/Dialect/Tosa/IR/TosaOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/Verifier.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/MemoryBuffer.h"

#include <onnx/onnx_pb.h>

#include <cmath>
#include <functional>
#include <limits>
#include <numeric>

using namespace mlir;
using namespace ::lowbit;
using llvm::SmallVector;
using llvm::StringRef;

namespace {

/// Constants at most this large are printed inline; larger ones become dense
/// resources (one copy of the bytes, printed as a blob).
constexpr int64_t kInlineConstantLimit = 64;

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
  Value valueOf(TensorInfo &info);
  void setOutput(int i, Value v, ElemKind kind, ArrayRef<int64_t> shape);
  void setConstantOutput(int i, HostTensor t);

  // --- attributes --------------------------------------------------------
  const onnx::AttributeProto *attr(StringRef name) const;
  int64_t attrInt(StringRef name, int64_t def) const;
  float attrFloat(StringRef name, float def) const;
  std::string attrString(StringRef name, StringRef def) const;
  std::optional<SmallVector<int64_t>> attrInts(StringRef name) const;
  /// Errors on attributes not in `known` (so nothing is silently ignored).
  LogicalResult checkAttributes(std::initializer_list<StringRef> known);

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
  Value constShape(ArrayRef<int64_t> values);
  Value reshape(Value v, ArrayRef<int64_t> shape);
  /// Reinterprets stored integers as `type` (quant.scast for signless
  /// storage, lowbit.bitcast when an unsigned builtin type is involved).
  Value storageCast(Value v, RankedTensorType type);
  /// TOSA needs (in + pads - window) divisible by the stride; ONNX floors.
  /// Drops what no window reads: trailing padding first, then input rows
  /// and columns (sliced off the NHWC value).
  Value fitWindows(Value nhwc, int64_t ekh, int64_t ekw, int64_t sh,
                   int64_t sw, int64_t padTop, int64_t &padBottom,
                   int64_t padLeft, int64_t &padRight);
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

  // --- op handlers -------------------------------------------------------
  LogicalResult importNode();
  LogicalResult foldConstantNode(bool &folded);
  LogicalResult importConv();
  LogicalResult importConvInteger(bool qlinear);
  LogicalResult importGemm();
  LogicalResult importMatMul(bool integer, bool qlinear);
  LogicalResult importBinary();
  LogicalResult importUnary();
  LogicalResult importRelu();
  LogicalResult importLeakyRelu();
  LogicalResult importPRelu();
  LogicalResult importClip();
  LogicalResult importHardSigmoid(bool swish);
  LogicalResult importPool(bool isMax, bool global);
  LogicalResult importBatchNorm();
  LogicalResult importFlatten();
  LogicalResult importReshape();
  LogicalResult importTranspose();
  LogicalResult importConcat();
  LogicalResult importPad();
  LogicalResult importSoftmax();
  LogicalResult importIdentity();
  LogicalResult importDropout();
  LogicalResult importSqueeze(bool unsqueeze);
  LogicalResult importShape();
  LogicalResult importGather();
  LogicalResult importConstantOfShape();
  LogicalResult importCast();
  LogicalResult importConstant();
  LogicalResult importSlice();
  LogicalResult importQuantizeLinear();
  LogicalResult importDequantizeLinear();

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

  /// Shared by Conv and the integer convolutions: geometry from attributes.
  struct ConvGeometry {
    int64_t kh, kw, sh, sw, dh, dw, groups;
    int64_t padTop, padLeft, padBottom, padRight;
    int64_t oh, ow;
    /// Trailing padding added for ceil_mode (included in padBottom/Right).
    int64_t ceilExtraH = 0, ceilExtraW = 0;
  };
  FailureOr<ConvGeometry> convGeometry(ArrayRef<int64_t> inShape,
                                       int64_t kh, int64_t kw, bool pool);
  /// Float convolution of an NCHW value with OIHW weights: `w`'s value, or
  /// `wHost` when they are known on the host.
  FailureOr<Value> emitConv(Value x, TensorInfo &w, const HostTensor *wHost,
                            Value bias, const ConvGeometry &g,
                            int64_t outChannels);
  /// Conv->BatchNormalization pairs found up front, folded at the Conv.
  void findConvBatchNormPairs();
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

} // namespace

//===----------------------------------------------------------------------===//
// Values and constants
//===----------------------------------------------------------------------===//

FailureOr<ElemKind> Importer::kindOfOnnx(int32_t dataType, StringRef what) {
  switch (dataType) {
  case onnx::TensorProto::FLOAT: return ElemKind::F32;
  case onnx::TensorProto::DOUBLE: return ElemKind::F64;
  case onnx::TensorProto::BOOL: return ElemKind::I1;
  case onnx::TensorProto::INT8: return ElemKind::I8;
  case onnx::TensorProto::UINT8: return ElemKind::U8;
  case onnx::TensorProto::INT16: return ElemKind::I16;
  case onnx::TensorProto::UINT16: return ElemKind::U16;
  case onnx::TensorProto::INT32: return ElemKind::I32;
  case onnx::TensorProto::UINT32: return ElemKind::U32;
  case onnx::TensorProto::INT64: return ElemKind::I64;
  default:
    break;
  }
  std::string name = onnx::TensorProto::DataType_IsValid(dataType)
                         ? onnx::TensorProto::DataType_Name(
                               static_cast<onnx::TensorProto::DataType>(dataType))
                         : std::to_string(dataType);
  auto diag = node ? nodeError() : modelError();
  diag << "unsupported element type " << name << " for " << what;
  return failure();
}

FailureOr<HostTensor> Importer::tensorFromProto(const onnx::TensorProto &t) {
  auto kind = kindOfOnnx(t.data_type(), "tensor '" + t.name() + "'");
  if (failed(kind))
    return failure();
  if (t.data_location() == onnx::TensorProto::EXTERNAL) {
    auto diag = node ? nodeError() : modelError();
    diag << "unsupported external data for tensor '" << t.name()
         << "' (save the model with its weights inside the .onnx file)";
    return failure();
  }
  SmallVector<int64_t> shape(t.dims().begin(), t.dims().end());
  for (int64_t d : shape)
    if (d < 0) {
      (node ? nodeError() : modelError())
          << "tensor '" << t.name() << "' has a negative dimension";
      return failure();
    }
  // Check the data before allocating: a corrupt shape must not become a
  // huge allocation.
  int64_t n = 1;
  for (int64_t d : shape) {
    if (d != 0 && n > std::numeric_limits<int64_t>::max() / 8 / d) {
      (node ? nodeError() : modelError())
          << "tensor '" << t.name() << "' has an impossible shape";
      return failure();
    }
    n *= d;
  }
  size_t available = t.has_raw_data()
                         ? t.raw_data().size() / elemSize(*kind)
                         : static_cast<size_t>(std::max(
                               {t.float_data_size(), t.double_data_size(),
                                t.int32_data_size(), t.int64_data_size(),
                                t.uint64_data_size()}));
  if (static_cast<uint64_t>(n) != available) {
    (node ? nodeError() : modelError())
        << "tensor '" << t.name() << "' holds " << available
        << " values for shape " << shapeToString(shape) << " (" << n
        << " expected); the model is corrupt";
    return failure();
  }
  auto mismatch = [&](size_t got) -> FailureOr<HostTensor> {
    (node ? nodeError() : modelError())
        << "tensor '" << t.name() << "' holds " << got << " values for shape "
        << shapeToString(shape) << " (" << n << " expected); the model is "
        << "corrupt";
    return failure();
  };
  if (t.has_raw_data()) {
    const std::string &raw = t.raw_data();
    if (raw.size() != static_cast<size_t>(n) * elemSize(*kind))
      return mismatch(raw.size() / std::max<size_t>(1, elemSize(*kind)));
    // The bytes are the elements (little endian): a view of them when they
    // are aligned for it (the model outlives the import), else a copy.
    if (reinterpret_cast<uintptr_t>(raw.data()) % alignof(uint64_t) == 0)
      return HostTensor::view(*kind, shape, raw.data());
    HostTensor out(*kind, shape);
    std::memcpy(out.raw(), raw.data(), raw.size());
    return out;
  }
  HostTensor out(*kind, shape);
  switch (*kind) {
  case ElemKind::F32:
    if (t.float_data_size() != n)
      return mismatch(t.float_data_size());
    std::copy(t.float_data().begin(), t.float_data().end(), out.data<float>());
    return out;
  case ElemKind::F64:
    if (t.double_data_size() != n)
      return mismatch(t.double_data_size());
    std::copy(t.double_data().begin(), t.double_data().end(),
              out.data<double>());
    return out;
  case ElemKind::I64:
    if (t.int64_data_size() != n)
      return mismatch(t.int64_data_size());
    std::copy(t.int64_data().begin(), t.int64_data().end(),
              out.data<int64_t>());
    return out;
  case ElemKind::U32:
    if (t.uint64_data_size() != n)
      return mismatch(t.uint64_data_size());
    for (int64_t i = 0; i < n; ++i)
      out.setInt(i, static_cast<int64_t>(t.uint64_data(i)));
    return out;
  default:
    // int32_data carries every narrower integer type and bool.
    if (t.int32_data_size() != n)
      return mismatch(t.int32_data_size());
    for (int64_t i = 0; i < n; ++i)
      out.setInt(i, t.int32_data(i));
    return out;
  }
}

TensorInfo *Importer::lookup(const std::string &name) {
  auto it = values.find(name);
  return it == values.end() ? nullptr : &it->second;
}

TensorInfo *Importer::input(int i) {
  if (i >= node->input_size() || node->input(i).empty())
    return nullptr;
  return lookup(node->input(i));
}

FailureOr<TensorInfo *> Importer::requireInput(int i) {
  if (i >= node->input_size() || node->input(i).empty()) {
    nodeError() << "missing required input " << i;
    return failure();
  }
  TensorInfo *info = lookup(node->input(i));
  if (!info) {
    nodeError() << "input '" << node->input(i)
                << "' is not produced by any earlier node, initializer or "
                   "graph input";
    return failure();
  }
  return info;
}

FailureOr<const HostTensor *> Importer::constantInput(int i, StringRef role) {
  auto info = requireInput(i);
  if (failed(info))
    return failure();
  if (!(*info)->constant) {
    auto diag = nodeError();
    diag << role << " (input " << i << ", '" << node->input(i)
         << "') must be a compile-time constant";
    if (!(*info)->graphInput.empty())
      diag << "; it comes from graph input '" << (*info)->graphInput
           << "' (bind it with --bind-input " << (*info)->graphInput
           << "=FILE.npy)";
    return failure();
  }
  return &*(*info)->constant;
}

FailureOr<const HostTensor *> Importer::nonEmptyConstantInput(int i,
                                                              StringRef role) {
  auto t = constantInput(i, role);
  if (failed(t))
    return failure();
  if ((*t)->numElements() == 0) {
    nodeError() << role << " (input " << i << ", '" << node->input(i)
                << "') has no elements " << shapeToString((*t)->shape());
    return failure();
  }
  return t;
}

Value Importer::materialize(const HostTensor &t) {
  auto type = tensorType(t.shape(), t.kind());
  ElementsAttr attr;
  if (t.kind() == ElemKind::I1) {
    SmallVector<bool> bits;
    for (int64_t i = 0; i < t.numElements(); ++i)
      bits.push_back(t.getInt(i) != 0);
    attr = DenseElementsAttr::get(type, ArrayRef<bool>(bits));
  } else if (t.numElements() <= kInlineConstantLimit) {
    attr = DenseElementsAttr::getFromRawBuffer(
        type, ArrayRef<char>(static_cast<const char *>(t.raw()), t.byteSize()));
  } else {
    auto blob = HeapAsmResourceBlob::allocateAndCopyWithAlign(
        ArrayRef<char>(static_cast<const char *>(t.raw()), t.byteSize()),
        alignof(uint64_t));
    attr = DenseResourceElementsAttr::get(
        type, "onnx_" + std::to_string(constantCounter++), std::move(blob));
  }
  return create<tosa::ConstOp>(type, {}, {named("values", attr)});
}

Value Importer::materializeTransposed(const HostTensor &t,
                                     ArrayRef<int32_t> perm,
                                     ArrayRef<int64_t> shape) {
  const int rank = static_cast<int>(t.rank());
  if (t.kind() == ElemKind::I1 || t.numElements() <= kInlineConstantLimit) {
    HostTensor out(t.kind(), shape);
    ::lowbit::rt::transpose(t.raw(), out.raw(), elemSize(t.kind()),
                            t.shape().data(), perm.data(), rank);
    return materialize(out);
  }
  // As materialize() does for a large tensor, without the intermediate
  // host tensor: the blob is filled by the transpose.
  auto type = tensorType(shape, t.kind());
  AsmResourceBlob blob =
      HeapAsmResourceBlob::allocate(t.byteSize(), alignof(uint64_t));
  ::lowbit::rt::transpose(t.raw(), blob.getMutableData().data(),
                          elemSize(t.kind()), t.shape().data(), perm.data(),
                          rank);
  ElementsAttr attr = DenseResourceElementsAttr::get(
      type, "onnx_" + std::to_string(constantCounter++), std::move(blob));
  return create<tosa::ConstOp>(type, {}, {named("values", attr)});
}

Value Importer::valueOf(TensorInfo &info) {
  if (!info.value && info.constant)
    info.value = materialize(*info.constant);
  return info.value;
}

Value Importer::scalarConst(ElemKind k, double v, int64_t rank) {
  SmallVector<int64_t> shape(rank, 1);
  HostTensor t(k, shape);
  t.setDouble(0, v);
  return materialize(t);
}

Value Importer::constShape(ArrayRef<int64_t> vals) {
  auto attr = DenseIntElementsAttr::get(
      RankedTensorType::get({static_cast<int64_t>(vals.size())},
                            b.getIndexType()),
      vals);
  return create<tosa::ConstShapeOp>(
      tosa::shapeType::get(&ctx, static_cast<int>(vals.size())), {},
      {named("values", attr)});
}

Value Importer::reshape(Value v, ArrayRef<int64_t> shape) {
  auto t = cast<RankedTensorType>(v.getType());
  if (t.getShape() == shape)
    return v;
  return create<tosa::ReshapeOp>(
      RankedTensorType::get(shape, t.getElementType()),
      {v, constShape(shape)});
}

Value Importer::storageCast(Value v, RankedTensorType type) {
  auto isUnsignedInt = [](Type t) {
    auto i = dyn_cast<IntegerType>(getElementTypeOrSelf(t));
    return i && !i.isSignless();
  };
  if (isUnsignedInt(v.getType()) || isUnsignedInt(type))
    return create<mlir::lowbit::BitcastOp>(type, {v});
  return create<quant::StorageCastOp>(type, {v});
}

Value Importer::fitWindows(Value nhwc, int64_t ekh, int64_t ekw, int64_t sh,
                           int64_t sw, int64_t padTop, int64_t &padBottom,
                           int64_t padLeft, int64_t &padRight) {
  ArrayRef<int64_t> s = shapeOf(nhwc);
  auto fit = [](int64_t in, int64_t pb, int64_t &pa, int64_t ek,
                int64_t stride) {
    int64_t r = (in + pb + pa - ek) % stride;
    int64_t fromPad = std::min(r, pa);
    pa -= fromPad;
    return r - fromPad; // input positions to crop
  };
  int64_t cropH = fit(s[1], padTop, padBottom, ekh, sh);
  int64_t cropW = fit(s[2], padLeft, padRight, ekw, sw);
  if (!cropH && !cropW)
    return nhwc;
  SmallVector<int64_t> size = {s[0], s[1] - cropH, s[2] - cropW, s[3]};
  return create<tosa::SliceOp>(
      RankedTensorType::get(size,
                            cast<ShapedType>(nhwc.getType()).getElementType()),
      {nhwc, constShape({0, 0, 0, 0}), constShape(size)});
}

Value Importer::transpose(Value v, ArrayRef<int32_t> perms) {
  auto t = cast<RankedTensorType>(v.getType());
  SmallVector<int64_t> shape;
  for (int32_t p : perms)
    shape.push_back(t.getDimSize(p));
  return create<tosa::TransposeOp>(
      RankedTensorType::get(shape, t.getElementType()), {v},
      {named("perms", b.getDenseI32ArrayAttr(perms))});
}

Value Importer::rankExtend(Value v, int64_t rank) {
  ArrayRef<int64_t> shape = shapeOf(v);
  if (static_cast<int64_t>(shape.size()) >= rank)
    return v;
  SmallVector<int64_t> s(rank - shape.size(), 1);
  s.append(shape.begin(), shape.end());
  return reshape(v, s);
}

FailureOr<SmallVector<int64_t>> Importer::broadcastShape(ArrayRef<int64_t> a,
                                                         ArrayRef<int64_t> bs) {
  size_t rank = std::max(a.size(), bs.size());
  SmallVector<int64_t> out(rank);
  for (size_t i = 0; i < rank; ++i) {
    int64_t da = i < rank - a.size() ? 1 : a[i - (rank - a.size())];
    int64_t db = i < rank - bs.size() ? 1 : bs[i - (rank - bs.size())];
    if (da != db && da != 1 && db != 1) {
      nodeError() << "shapes " << shapeToString(a) << " and "
                  << shapeToString(bs) << " do not broadcast";
      return failure();
    }
    out[i] = da == 1 ? db : da;
  }
  return out;
}

void Importer::setOutput(int i, Value v, ElemKind kind,
                         ArrayRef<int64_t> shape) {
  if (i >= node->output_size() || node->output(i).empty())
    return;
  TensorInfo info;
  info.kind = kind;
  info.shape.assign(shape.begin(), shape.end());
  info.value = v;
  values[node->output(i)] = std::move(info);
}

void Importer::setConstantOutput(int i, HostTensor t) {
  if (i >= node->output_size() || node->output(i).empty())
    return;
  TensorInfo info;
  info.kind = t.kind();
  info.shape.assign(t.shape().begin(), t.shape().end());
  info.constant = std::move(t);
  values[node->output(i)] = std::move(info);
}

//===----------------------------------------------------------------------===//
// Attributes
//===----------------------------------------------------------------------===//

const onnx::AttributeProto *Importer::attr(StringRef name) const {
  for (const auto &a : node->attribute())
    if (a.name() == name)
      return &a;
  return nullptr;
}

int64_t Importer::attrInt(StringRef name, int64_t def) const {
  const auto *a = attr(name);
  return a ? a->i() : def;
}

float Importer::attrFloat(StringRef name, float def) const {
  const auto *a = attr(name);
  return a ? a->f() : def;
}

std::string Importer::attrString(StringRef name, StringRef def) const {
  const auto *a = attr(name);
  return a ? a->s() : def.str();
}

std::optional<SmallVector<int64_t>> Importer::attrInts(StringRef name) const {
  const auto *a = attr(name);
  if (!a)
    return std::nullopt;
  return SmallVector<int64_t>(a->ints().begin(), a->ints().end());
}

LogicalResult
Importer::checkAttributes(std::initializer_list<StringRef> known) {
  for (const auto &a : node->attribute())
    if (llvm::find(known, StringRef(a.name())) == known.end())
      return unsupported("attribute '" + a.name() + "'");
  return success();
}

//===----------------------------------------------------------------------===//
// Graph input shapes
//===----------------------------------------------------------------------===//

FailureOr<SmallVector<int64_t>>
Importer::graphInputShape(const onnx::ValueInfoProto &in) {
  const std::string &name = in.name();
  const auto &tt = in.type().tensor_type();
  const auto &dims = tt.shape().dim();
  int64_t rank = dims.size();
  auto isStatic = [](const onnx::TensorShapeProto::Dimension &d) {
    return d.has_dim_value() && d.dim_value() >= 0;
  };
  // "dimension 2 ('height')"
  auto describe = [&](int64_t i) {
    std::string s = "dimension " + std::to_string(i);
    if (!dims[i].dim_param().empty())
      s += " ('" + dims[i].dim_param() + "')";
    return s;
  };
  // The option that would set the shape, with the model's static dimensions
  // filled in: "--input-shape x=Nx3x?x?".
  auto option = [&]() {
    std::string s = "--input-shape " + name + "=";
    if (!tt.has_shape())
      return s + "D0xD1x...";
    for (int64_t i = 0; i < rank; ++i) {
      if (i)
        s += "x";
      s += isStatic(dims[i]) ? std::to_string(dims[i].dim_value())
                             : (i == 0 ? "N" : "?");
    }
    return s;
  };
  auto modelShape = [&]() {
    std::string s = "[";
    for (int64_t i = 0; i < rank; ++i) {
      if (i)
        s += ", ";
      if (isStatic(dims[i]))
        s += std::to_string(dims[i].dim_value());
      else
        s += dims[i].dim_param().empty() ? "?" : dims[i].dim_param();
    }
    return s + "]";
  };

  auto given = options.inputShapes.find(name);
  if (given != options.inputShapes.end()) {
    ArrayRef<int64_t> shape = given->second;
    // A model that leaves the rank unknown takes the given shape as it is.
    if (!tt.has_shape())
      return SmallVector<int64_t>(shape);
    if (static_cast<int64_t>(shape.size()) != rank) {
      modelError() << "--input-shape gives input '" << name << "' "
                   << shape.size() << " dimensions; its shape in the model, "
                   << modelShape() << ", has " << rank;
      return failure();
    }
    for (int64_t i = 0; i < rank; ++i)
      if (isStatic(dims[i]) && dims[i].dim_value() != shape[i]) {
        modelError() << "--input-shape gives input '" << name << "' "
                     << describe(i) << " the size " << shape[i]
                     << "; its shape in the model, " << modelShape()
                     << ", fixes it to " << dims[i].dim_value();
        return failure();
      }
    return SmallVector<int64_t>(shape);
  }

  if (!tt.has_shape()) {
    modelError() << "graph input '" << name << "' has no shape in the model "
                 << "(unknown rank); lowbit needs static shapes: set it with "
                 << option();
    return failure();
  }
  // Only a leading (batch) dimension is bound by default: any other
  // symbolic size (an image height, a sequence length) changes what the
  // model computes, so the user has to choose it.
  for (int64_t i = 1; i < rank; ++i)
    if (!isStatic(dims[i])) {
      modelError() << "graph input '" << name << "' " << describe(i)
                   << " is symbolic " << modelShape()
                   << "; lowbit needs static shapes: set it with " << option();
      return failure();
    }
  SmallVector<int64_t> shape;
  for (int64_t i = 0; i < rank; ++i)
    shape.push_back(isStatic(dims[i]) ? dims[i].dim_value() : 1);
  if (rank > 0 && !isStatic(dims[0]))
    ctx.getDiagEngine().emit(FileLineColLoc::get(&ctx, path, 0, 0),
                             DiagnosticSeverity::Note)
        << "input '" << name << "' " << describe(0)
        << " is symbolic; bound to 1 (set it with " << option() << ")";
  return shape;
}

//===----------------------------------------------------------------------===//
// Host-side folding of constant subgraphs
//===----------------------------------------------------------------------===//

/// The exact result of an integer binary op, or std::nullopt when it has
/// none (division by zero) or does not fit int64.
using IntBinaryFn = std::function<std::optional<int64_t>(int64_t, int64_t)>;

/// Elementwise binary op with ONNX (numpy) broadcasting on host tensors.
/// Float kinds use `f`; integer kinds use `g`, and a result that `g` cannot
/// give or that the element kind cannot hold fails with the flat index of
/// the first such element in `badIndex`.
static FailureOr<HostTensor>
hostBinary(const HostTensor &a, const HostTensor &b, ArrayRef<int64_t> outShape,
           const std::function<double(double, double)> &f, const IntBinaryFn &g,
           int64_t &badIndex) {
  HostTensor out(a.kind(), outShape);
  int64_t rank = outShape.size();
  auto index = [&](const HostTensor &t, int64_t flat) {
    int64_t off = 0, stride = 1;
    int64_t tr = t.rank();
    for (int64_t d = rank - 1, rem = flat; d >= 0; --d) {
      int64_t i = rem % outShape[d];
      rem /= outShape[d];
      int64_t td = d - (rank - tr);
      if (td >= 0) {
        if (t.shape()[td] != 1)
          off += i * stride;
        stride *= t.shape()[td];
      }
    }
    return off;
  };
  bool isFloat = isFloatKind(a.kind());
  // The range of the element kind (setInt would silently truncate).
  int64_t lo = 0, hi = 1; // bool
  if (!isFloat && a.kind() != ElemKind::I1) {
    unsigned bits = elemSize(a.kind()) * 8;
    if (bits == 64) { // int64 (there is no uint64 kind)
      lo = std::numeric_limits<int64_t>::min();
      hi = std::numeric_limits<int64_t>::max();
    } else if (isSignedIntKind(a.kind())) {
      lo = -(int64_t(1) << (bits - 1));
      hi = (int64_t(1) << (bits - 1)) - 1;
    } else {
      hi = (int64_t(1) << bits) - 1;
    }
  }
  for (int64_t i = 0, e = out.numElements(); i < e; ++i) {
    int64_t ia = index(a, i), ib = index(b, i);
    if (isFloat) {
      out.setDouble(i, f(a.getDouble(ia), b.getDouble(ib)));
      continue;
    }
    std::optional<int64_t> r = g(a.getInt(ia), b.getInt(ib));
    if (!r || *r < lo || *r > hi) {
      badIndex = i;
      return failure();
    }
    out.setInt(i, *r);
  }
  return out;
}

LogicalResult Importer::foldConstantNode(bool &folded) {
  folded = false;
  StringRef op = node->op_type();
  // Only value-preserving shape arithmetic is folded here; anything that
  // computes real-valued results (Conv, Softmax, ...) is left to the IR.
  static const llvm::StringSet<> foldable = {
      "Add", "Sub", "Mul", "Div", "Gather", "Concat", "Unsqueeze", "Squeeze",
      "Cast", "Reshape", "Identity", "Flatten", "Transpose", "Slice"};
  if (!foldable.contains(op))
    return success();
  for (int i = 0; i < node->input_size(); ++i) {
    if (node->input(i).empty())
      continue;
    TensorInfo *in = lookup(node->input(i));
    if (!in || !in->constant)
      return success();
  }
  if (node->input_size() == 0)
    return success();
  const HostTensor &a = *input(0)->constant;
  if (op == "Add" || op == "Sub" || op == "Mul" || op == "Div") {
    if (node->input_size() < 2 || !input(1))
      return nodeError() << "missing required input 1", failure();
    const HostTensor &c = *input(1)->constant;
    if (a.kind() != c.kind())
      return nodeError() << "operand element types " << elemName(a.kind())
                         << " and " << elemName(c.kind()) << " differ",
             failure();
    auto shape = broadcastShape(a.shape(), c.shape());
    if (failed(shape))
      return failure();
    // Integer results are exact or an error: an overflow of the element
    // type, a division by zero and INT64_MIN / -1 have no value that the
    // ONNX spec defines (numpy wraps, ONNX Runtime traps on the division),
    // and what is folded here is shape arithmetic, where a wrapped value
    // would only turn into a wrong shape later. The checked builtins keep
    // the folding itself free of undefined behaviour.
    std::function<double(double, double)> f;
    IntBinaryFn g;
    if (op == "Add") {
      f = [](double x, double y) { return x + y; };
      g = [](int64_t x, int64_t y) -> std::optional<int64_t> {
        int64_t r;
        if (__builtin_add_overflow(x, y, &r))
          return std::nullopt;
        return r;
      };
    } else if (op == "Sub") {
      f = [](double x, double y) { return x - y; };
      g = [](int64_t x, int64_t y) -> std::optional<int64_t> {
        int64_t r;
        if (__builtin_sub_overflow(x, y, &r))
          return std::nullopt;
        return r;
      };
    } else if (op == "Mul") {
      f = [](double x, double y) { return x * y; };
      g = [](int64_t x, int64_t y) -> std::optional<int64_t> {
        int64_t r;
        if (__builtin_mul_overflow(x, y, &r))
          return std::nullopt;
        return r;
      };
    } else {
      f = [](double x, double y) { return x / y; };
      // C++ (and ONNX Runtime) integer division truncates toward zero.
      g = [](int64_t x, int64_t y) -> std::optional<int64_t> {
        if (y == 0 || (x == std::numeric_limits<int64_t>::min() && y == -1))
          return std::nullopt;
        return x / y;
      };
    }
    // Float math is done in the element type's precision.
    if (a.kind() == ElemKind::F32) {
      auto f32 = f;
      f = [f32](double x, double y) {
        return static_cast<double>(static_cast<float>(f32(x, y)));
      };
    }
    int64_t bad = 0;
    auto result = hostBinary(a, c, *shape, f, g, bad);
    if (failed(result)) {
      // The operands of the bad element, found again by broadcasting.
      auto operand = [&](const HostTensor &t) {
        SmallVector<int64_t> idx(shape->size());
        for (int64_t d = shape->size() - 1, rem = bad; d >= 0; --d) {
          idx[d] = rem % (*shape)[d];
          rem /= (*shape)[d];
        }
        int64_t off = 0, stride = 1;
        for (int64_t d = t.rank() - 1; d >= 0; --d) {
          int64_t od = d + (shape->size() - t.rank());
          if (t.shape()[d] != 1)
            off += idx[od] * stride;
          stride *= t.shape()[d];
        }
        return t.getInt(off);
      };
      int64_t x = operand(a), y = operand(c);
      auto diag = nodeError();
      diag << "constant folding: ";
      if (op == "Div" && y == 0)
        diag << "integer division by zero";
      else
        diag << elemName(a.kind()) << " " << op << " overflows";
      diag << " (" << x << " "
           << (op == "Add"   ? "+"
               : op == "Sub" ? "-"
               : op == "Mul" ? "*"
                             : "/")
           << " " << y << ", element " << bad << " of " << shapeToString(*shape)
           << ")";
      return failure();
    }
    setConstantOutput(0, std::move(*result));
    folded = true;
    return success();
  }
  if (op == "Identity") {
    setConstantOutput(0, a);
    folded = true;
    return success();
  }
  // The remaining ops share their shape logic with the IR path: run the
  // normal handler, which produces constants when its inputs are constant.
  return success();
}

//===----------------------------------------------------------------------===//
// Driver
//===----------------------------------------------------------------------===//

void Importer::findConvBatchNormPairs() {
  llvm::StringMap<int> uses;
  for (const auto &n : model.graph().node())
    for (const auto &in : n.input())
      ++uses[in];
  for (const auto &o : model.graph().output())
    ++uses[o.name()];
  llvm::StringMap<const onnx::NodeProto *> producer;
  for (const auto &n : model.graph().node())
    for (const auto &out : n.output())
      producer[out] = &n;
  for (const auto &n : model.graph().node()) {
    if (n.op_type() != "BatchNormalization" || n.input_size() < 5 ||
        n.output_size() < 1)
      continue;
    bool training = false;
    for (const auto &a : n.attribute())
      if (a.name() == "training_mode" && a.i() != 0)
        training = true;
    if (training || n.output_size() > 1)
      continue;
    auto it = producer.find(n.input(0));
    if (it == producer.end() || it->second->op_type() != "Conv" ||
        uses[n.input(0)] != 1)
      continue;
    convToBatchNorm[it->second->output(0)] = &n;
  }
}

OwningOpRef<ModuleOp> Importer::run() {
  // Opset of the default domain.
  for (const auto &o : model.opset_import())
    if (o.domain().empty() || o.domain() == "ai.onnx")
      opset = o.version();
  if (opset == 0 && model.opset_import_size() == 0)
    opset = 1;
  // Opsets 7 to 21 are the target; older models (1-6, as many
  // pytorch-converted ones are) import where their ops' semantics are the
  // same, and their legacy attributes are handled or rejected per op.
  if (opset < 1 || opset > 21) {
    modelError() << "unsupported opset " << opset
                 << " (lowbit imports ONNX opsets up to 21)";
    return nullptr;
  }
  const onnx::GraphProto &graph = model.graph();

  // Initializers are constants.
  llvm::StringSet<> initializerNames;
  for (const auto &init : graph.initializer()) {
    auto t = tensorFromProto(init);
    if (failed(t))
      return nullptr;
    TensorInfo info;
    info.kind = t->kind();
    info.shape.assign(t->shape().begin(), t->shape().end());
    info.constant = std::move(*t);
    values[init.name()] = std::move(info);
    initializerNames.insert(init.name());
  }
  for (const auto &[name, _] : options.boundInputs) {
    bool found = false;
    for (const auto &in : graph.input())
      found |= in.name() == name;
    if (!found) {
      modelError() << "--bind-input names '" << name
                   << "', which is not a graph input";
      return nullptr;
    }
  }

  for (const auto &[name, _] : options.inputShapes) {
    bool found = false;
    std::string inputs;
    for (const auto &in : graph.input()) {
      if (initializerNames.contains(in.name()))
        continue;
      found |= in.name() == name;
      inputs += (inputs.empty() ? "" : ", ") + in.name();
    }
    if (!found) {
      modelError() << "--input-shape names '" << name
                   << "', which is not a graph input (inputs: " << inputs
                   << ")";
      return nullptr;
    }
    if (options.boundInputs.count(name)) {
      modelError() << "input '" << name << "' is given both --input-shape "
                   << "and --bind-input (a bound input has its value's "
                      "shape)";
      return nullptr;
    }
  }

  // Graph inputs that are not initializers are function arguments.
  SmallVector<Type> argTypes;
  SmallVector<std::string> argNames;
  for (const auto &in : graph.input()) {
    if (initializerNames.contains(in.name()))
      continue;
    if (!in.type().has_tensor_type()) {
      modelError() << "unsupported graph input '" << in.name()
                   << "': only tensor inputs are supported";
      return nullptr;
    }
    const auto &tt = in.type().tensor_type();
    auto kind = kindOfOnnx(tt.elem_type(), "graph input '" + in.name() + "'");
    if (failed(kind))
      return nullptr;
    auto bound = options.boundInputs.find(in.name());
    if (bound != options.boundInputs.end()) {
      // The value stands for the input: it must have the input's shape
      // (any size for a symbolic dimension).
      if (tt.has_shape()) {
        ArrayRef<int64_t> given = bound->second.shape();
        const auto &dims = tt.shape().dim();
        bool matches = static_cast<int64_t>(given.size()) == dims.size();
        std::string expected = "[";
        for (int i = 0; i < dims.size(); ++i) {
          bool isStatic = dims[i].has_dim_value() && dims[i].dim_value() >= 0;
          expected += (i ? ", " : "") +
                      (isStatic ? std::to_string(dims[i].dim_value())
                       : dims[i].dim_param().empty() ? std::string("?")
                                                     : dims[i].dim_param());
          if (matches && isStatic && dims[i].dim_value() != given[i])
            matches = false;
        }
        expected += "]";
        if (!matches) {
          modelError() << "--bind-input " << in.name() << ": the array has "
                       << "shape " << shapeToString(given)
                       << "; the model's input '" << in.name() << "' has shape "
                       << expected;
          return nullptr;
        }
      }
      HostTensor value = bound->second;
      if (value.kind() != *kind)
        value = value.castTo(*kind);
      TensorInfo info;
      info.kind = *kind;
      info.shape.assign(value.shape().begin(), value.shape().end());
      info.constant = std::move(value);
      info.graphInput = in.name();
      values[in.name()] = std::move(info);
      continue;
    }
    auto shape = graphInputShape(in);
    if (failed(shape))
      return nullptr;
    // Nothing is allocated for an input here (the evaluator and the C++
    // target check their own limits), but its element count must exist.
    if (!checkedNumElements(*shape)) {
      modelError() << "graph input '" << in.name() << "' has shape "
                   << shapeToString(*shape)
                   << ", which has more elements than a 64-bit count holds";
      return nullptr;
    }
    TensorInfo info;
    info.kind = *kind;
    info.shape = *shape;
    info.graphInput = in.name();
    values[in.name()] = std::move(info);
    argTypes.push_back(tensorType(*shape, *kind));
    argNames.push_back(in.name());
  }

  auto module = ModuleOp::create(FileLineColLoc::get(&ctx, path, 0, 0));
  OwningOpRef<ModuleOp> owned(module);
  b.setInsertionPointToEnd(module.getBody());
  std::string fnName = options.functionName.empty()
                           ? (graph.name().empty() ? "main" : graph.name())
                           : options.functionName;
  auto func = func::FuncOp::create(b, module.getLoc(), fnName,
                                   b.getFunctionType(argTypes, {}));
  Block *entry = func.addEntryBlock();
  for (auto [i, name] : llvm::enumerate(argNames)) {
    values[name].value = entry->getArgument(i);
    func.setArgAttr(i, "onnx.name", b.getStringAttr(name));
  }
  b.setInsertionPointToEnd(entry);

  findConvBatchNormPairs();
  for (const auto &n : graph.node()) {
    node = &n;
    loc = NameLoc::get(b.getStringAttr(nodeName()),
                       FileLineColLoc::get(&ctx, path, nodeIndex + 1, 0));
    if (!n.domain().empty() && n.domain() != "ai.onnx") {
      nodeError() << "unsupported ONNX op '" << n.op_type() << "' of domain '"
                  << n.domain() << "'";
      return nullptr;
    }
    // Every op of the default domain has at least one output (the handlers
    // rely on output 0 existing).
    if (n.output_size() == 0) {
      nodeError() << "the node has no outputs; the model is corrupt";
      return nullptr;
    }
    if (failed(importNode()))
      return nullptr;
    ++nodeIndex;
  }
  node = nullptr;

  SmallVector<Value> results;
  SmallVector<Type> resultTypes;
  for (const auto &out : graph.output()) {
    TensorInfo *info = lookup(out.name());
    if (!info) {
      modelError() << "graph output '" << out.name()
                   << "' is not produced by any node";
      return nullptr;
    }
    loc = FileLineColLoc::get(&ctx, path, 0, 0);
    if (llvm::is_contained(info->shape, 0)) {
      modelError() << "unsupported zero-sized graph output '" << out.name()
                   << "'";
      return nullptr;
    }
    Value v = valueOf(*info);
    results.push_back(v);
    resultTypes.push_back(v.getType());
  }
  func::ReturnOp::create(b, FileLineColLoc::get(&ctx, path, 0, 0), results);
  func.setType(b.getFunctionType(argTypes, resultTypes));
  for (auto [i, out] : llvm::enumerate(graph.output()))
    func.setResultAttr(i, "onnx.name", b.getStringAttr(out.name()));
  if (failed(mlir::verify(module))) {
    modelError() << "internal error: the imported IR does not verify";
    return nullptr;
  }
  return owned;
}

LogicalResult Importer::importNode() {
  StringRef op = node->op_type();
  if (foldedBatchNorms.contains(node->output(0)))
    return success(); // folded into the producing Conv
  bool folded = false;
  if (failed(foldConstantNode(folded)))
    return failure();
  if (folded)
    return success();

  static const llvm::StringMap<std::function<LogicalResult(Importer &)>>
      handlers = {
          {"Conv", [](Importer &i) { return i.importConv(); }},
          {"ConvInteger",
           [](Importer &i) { return i.importConvInteger(false); }},
          {"QLinearConv",
           [](Importer &i) { return i.importConvInteger(true); }},
          {"Gemm", [](Importer &i) { return i.importGemm(); }},
          {"MatMul",
           [](Importer &i) { return i.importMatMul(false, false); }},
          {"MatMulInteger",
           [](Importer &i) { return i.importMatMul(true, false); }},
          {"QLinearMatMul",
           [](Importer &i) { return i.importMatMul(true, true); }},
          {"Add", [](Importer &i) { return i.importBinary(); }},
          {"Sub", [](Importer &i) { return i.importBinary(); }},
          {"Mul", [](Importer &i) { return i.importBinary(); }},
          {"Div", [](Importer &i) { return i.importBinary(); }},
          {"Relu", [](Importer &i) { return i.importRelu(); }},
          {"LeakyRelu", [](Importer &i) { return i.importLeakyRelu(); }},
          {"PRelu", [](Importer &i) { return i.importPRelu(); }},
          {"Clip", [](Importer &i) { return i.importClip(); }},
          {"Sigmoid", [](Importer &i) { return i.importUnary(); }},
          {"Tanh", [](Importer &i) { return i.importUnary(); }},
          {"HardSigmoid",
           [](Importer &i) { return i.importHardSigmoid(false); }},
          {"HardSwish", [](Importer &i) { return i.importHardSigmoid(true); }},
          {"MaxPool", [](Importer &i) { return i.importPool(true, false); }},
          {"AveragePool",
           [](Importer &i) { return i.importPool(false, false); }},
          {"GlobalAveragePool",
           [](Importer &i) { return i.importPool(false, true); }},
          {"GlobalMaxPool",
           [](Importer &i) { return i.importPool(true, true); }},
          {"BatchNormalization",
           [](Importer &i) { return i.importBatchNorm(); }},
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
          {"QuantizeLinear",
           [](Importer &i) { return i.importQuantizeLinear(); }},
          {"DequantizeLinear",
           [](Importer &i) { return i.importDequantizeLinear(); }},
      };
  auto it = handlers.find(op);
  if (it == handlers.end())
    return nodeError() << "unsupported ONNX op '" << op << "'", failure();
  // Every input must exist before any handler looks at it; TOSA has no
  // zero-sized tensors, so those are only allowed as folded constants.
  for (int i = 0; i < node->input_size(); ++i) {
    if (node->input(i).empty())
      continue;
    TensorInfo *in = lookup(node->input(i));
    if (!in)
      return nodeError() << "input '" << node->input(i)
                         << "' is not produced by any earlier node, "
                            "initializer or graph input",
             failure();
    if (!in->constant && llvm::is_contained(in->shape, 0))
      return unsupported("zero-sized tensor '" + node->input(i) + "'");
  }
  // A handler may import the node through a rewritten copy (1-D forms as
  // 2-D ones) and leave `node` pointing at it: restore this node first.
  const onnx::NodeProto *self = node;
  LogicalResult imported = it->second(*this);
  node = self;
  if (failed(imported))
    return failure();
  // Shapes computed from attributes (pads, strides, sizes) can be absurd in
  // a corrupt model: stop at the node that made one, before the next node
  // multiplies its dimensions.
  for (const std::string &name : node->output()) {
    if (name.empty())
      continue;
    TensorInfo *out = lookup(name);
    if (!out)
      continue;
    if (llvm::any_of(out->shape, [](int64_t d) { return d < 0; }))
      return nodeError() << "output '" << name << "' would have the shape "
                         << shapeToString(out->shape),
             failure();
    std::string tooLarge = tensorSizeError(out->kind, out->shape);
    if (!tooLarge.empty())
      return nodeError() << "output '" << name << "': " << tooLarge,
             failure();
  }
  return success();
}

//===----------------------------------------------------------------------===//
// Convolutions
//===----------------------------------------------------------------------===//

FailureOr<Importer::ConvGeometry>
Importer::convGeometry(ArrayRef<int64_t> in, int64_t kh, int64_t kw,
                       bool pool) {
  ConvGeometry g{};
  g.kh = kh;
  g.kw = kw;
  auto strides = attrInts("strides").value_or(SmallVector<int64_t>{1, 1});
  auto dilations = attrInts("dilations").value_or(SmallVector<int64_t>{1, 1});
  auto pads = attrInts("pads").value_or(SmallVector<int64_t>{0, 0, 0, 0});
  if (strides.size() != 2 || dilations.size() != 2 || pads.size() != 4)
    return nodeError() << "'strides', 'dilations' and 'pads' must describe 2 "
                          "spatial dimensions",
           failure();
  g.sh = strides[0];
  g.sw = strides[1];
  g.dh = dilations[0];
  g.dw = dilations[1];
  if (g.sh < 1 || g.sw < 1 || g.dh < 1 || g.dw < 1)
    return nodeError() << "strides and dilations must be positive", failure();
  // ONNX pads: [x1_begin, x2_begin, x1_end, x2_end].
  g.padTop = pads[0];
  g.padLeft = pads[1];
  g.padBottom = pads[2];
  g.padRight = pads[3];
  for (int64_t p : pads)
    if (p < 0)
      return (void)unsupported("negative padding"), failure();
  std::string autoPad = attrString("auto_pad", "NOTSET");
  int64_t h = in[2], w = in[3];
  int64_t ekh = g.dh * (kh - 1) + 1, ekw = g.dw * (kw - 1) + 1;
  if (autoPad == "SAME_UPPER" || autoPad == "SAME_LOWER") {
    auto same = [&](int64_t size, int64_t stride, int64_t ek, int64_t &before,
                    int64_t &after) {
      int64_t out = (size + stride - 1) / stride;
      int64_t total = std::max<int64_t>((out - 1) * stride + ek - size, 0);
      before = autoPad == "SAME_UPPER" ? total / 2 : (total + 1) / 2;
      after = total - before;
    };
    same(h, g.sh, ekh, g.padTop, g.padBottom);
    same(w, g.sw, ekw, g.padLeft, g.padRight);
  } else if (autoPad == "VALID") {
    g.padTop = g.padLeft = g.padBottom = g.padRight = 0;
  } else if (autoPad != "NOTSET") {
    return (void)unsupported("auto_pad '" + autoPad + "'"), failure();
  }
  bool ceil = pool && attrInt("ceil_mode", 0) != 0;
  auto outSize = [&](int64_t size, int64_t pb, int64_t pa, int64_t ek,
                     int64_t stride, int64_t &padAfter,
                     int64_t &extraPad) -> int64_t {
    int64_t span = size + pb + pa - ek;
    if (span < 0)
      return -1;
    int64_t out = span / stride + 1;
    if (ceil && span % stride != 0) {
      // ceil_mode adds one more window if it starts inside the input or the
      // leading padding; extend the trailing padding to make room for it.
      int64_t extra = (span / stride + 1) * stride;
      if (extra < size + pb) {
        extraPad = stride - span % stride;
        padAfter += extraPad;
        ++out;
      }
    }
    return out;
  };
  g.oh = outSize(h, g.padTop, g.padBottom, ekh, g.sh, g.padBottom,
                 g.ceilExtraH);
  g.ow = outSize(w, g.padLeft, g.padRight, ekw, g.sw, g.padRight,
                 g.ceilExtraW);
  if (g.oh < 1 || g.ow < 1)
    return nodeError() << "the " << kh << "x" << kw
                       << " window does not fit the padded " << h << "x" << w
                       << " input",
           failure();
  return g;
}

/// OIHW weights on the host as a constant of TOSA's layout: OHWI, or for a
/// depthwise convolution (I = 1) [KH, KW, C, M] with O = C * M.
Value Importer::materializeConvWeights(const HostTensor &w, bool depthwise,
                                       int64_t channels) {
  int64_t o = w.shape()[0], i = w.shape()[1], kh = w.shape()[2],
          kw = w.shape()[3];
  if (depthwise)
    return materializeTransposed(w, {2, 3, 0, 1},
                                 {kh, kw, channels, o / channels});
  return materializeTransposed(w, {0, 2, 3, 1}, {o, kh, kw, i});
}

FailureOr<Value> Importer::emitConv(Value x, TensorInfo &w,
                                    const HostTensor *wHost, Value bias,
                                    const ConvGeometry &geometry,
                                    int64_t outChannels) {
  SmallVector<int64_t, 4> in(shapeOf(x));
  int64_t n = in[0], c = in[1];
  Type f32 = b.getF32Type();
  Value zp = scalarConst(ElemKind::F32, 0.0);
  ConvGeometry g = geometry;
  Value xn = fitWindows(toNHWC(x), g.dh * (g.kh - 1) + 1,
                        g.dw * (g.kw - 1) + 1, g.sh, g.sw, g.padTop,
                        g.padBottom, g.padLeft, g.padRight);
  auto convAttrs = [&]() {
    return SmallVector<NamedAttribute>{
        named("pad", b.getDenseI64ArrayAttr(
                         {g.padTop, g.padBottom, g.padLeft, g.padRight})),
        named("stride", b.getDenseI64ArrayAttr({g.sh, g.sw})),
        named("dilation", b.getDenseI64ArrayAttr({g.dh, g.dw})),
        named("acc_type", TypeAttr::get(f32))};
  };
  in = {in[0], in[1], shapeOf(xn)[1], shapeOf(xn)[2]};
  auto outType = RankedTensorType::get({n, g.oh, g.ow, outChannels}, f32);
  bool depthwise = g.groups == c && g.groups > 1 && outChannels % c == 0;
  if (g.groups == 1 || depthwise) {
    Value weight;
    if (wHost) {
      weight = materializeConvWeights(*wHost, depthwise, c);
    } else if (depthwise) {
      Value hwo = transpose(valueOf(w), {2, 3, 0, 1});
      weight = reshape(hwo, {g.kh, g.kw, c, outChannels / c});
    } else {
      weight = transpose(valueOf(w), {0, 2, 3, 1});
    }
    Value y = depthwise
                  ? create<tosa::DepthwiseConv2DOp>(
                        outType, {xn, weight, bias, zp, zp}, convAttrs())
                  : create<tosa::Conv2DOp>(outType, {xn, weight, bias, zp, zp},
                                           convAttrs());
    return toNCHW(y);
  }
  // Grouped convolution: one conv per group on channel slices, then concat.
  int64_t cg = c / g.groups, og = outChannels / g.groups;
  if (!w.value && wHost)
    w.value = materialize(*wHost);
  Value wv = w.value;
  Value wOhwi = transpose(wv, {0, 2, 3, 1});
  SmallVector<Value> parts;
  for (int64_t gi = 0; gi < g.groups; ++gi) {
    Value xs = create<tosa::SliceOp>(
        RankedTensorType::get({n, in[2], in[3], cg}, f32),
        {xn, constShape({0, 0, 0, gi * cg}),
         constShape({n, in[2], in[3], cg})});
    Value ws = create<tosa::SliceOp>(
        RankedTensorType::get({og, g.kh, g.kw, cg}, f32),
        {wOhwi, constShape({gi * og, 0, 0, 0}),
         constShape({og, g.kh, g.kw, cg})});
    Value bs = create<tosa::SliceOp>(RankedTensorType::get({og}, f32),
                                     {bias, constShape({gi * og}),
                                      constShape({og})});
    parts.push_back(create<tosa::Conv2DOp>(
        RankedTensorType::get({n, g.oh, g.ow, og}, f32),
        {xs, ws, bs, zp, zp}, convAttrs()));
  }
  Value y = create<tosa::ConcatOp>(outType, parts,
                                   {named("axis", b.getI32IntegerAttr(3))});
  return toNCHW(y);
}

/// A 1-D convolution or pool as a 2-D one of height 1: single-value
/// strides, dilations and kernel_shape get a leading 1, [begin, end] pads
/// become [0, begin, 0, end]. Attributes of any other size are left alone
/// for the geometry checks to reject.
static onnx::NodeProto widenTo2D(const onnx::NodeProto &node) {
  onnx::NodeProto out = node;
  for (auto &a : *out.mutable_attribute()) {
    bool single = a.name() == "strides" || a.name() == "dilations" ||
                  a.name() == "kernel_shape";
    if (single && a.ints_size() == 1) {
      int64_t v = a.ints(0);
      a.clear_ints();
      a.add_ints(1);
      a.add_ints(v);
    } else if (a.name() == "pads" && a.ints_size() == 2) {
      int64_t p0 = a.ints(0), p1 = a.ints(1);
      a.clear_ints();
      for (int64_t v : {int64_t(0), p0, int64_t(0), p1})
        a.add_ints(v);
    }
  }
  return out;
}

LogicalResult Importer::importConv() {
  if (failed(checkAttributes({"auto_pad", "dilations", "group", "kernel_shape",
                              "pads", "strides"})))
    return failure();
  auto x = requireInput(0);
  auto w = requireInput(1);
  if (failed(x) || failed(w))
    return failure();
  if ((*x)->kind != ElemKind::F32 || (*w)->kind != ElemKind::F32)
    return unsupported("element type: Conv imports float32 tensors (use "
                       "QLinearConv/ConvInteger or Q/DQ for integers)");
  ArrayRef<int64_t> xs = (*x)->shape, ws = (*w)->shape;
  int64_t spatial = static_cast<int64_t>(xs.size()) - 2;
  if (spatial != 1 && spatial != 2)
    return unsupported("Conv with " + std::to_string(spatial) +
                       " spatial dimensions (1-D and 2-D are supported)");
  if (ws.size() != xs.size())
    return nodeError() << "weight rank " << ws.size()
                       << " differs from input rank " << xs.size(),
           failure();
  int64_t groups = attrInt("group", 1);
  int64_t c = xs[1], o = ws[0];
  if (groups < 1 || c % groups != 0 || o % groups != 0 ||
      ws[1] != c / groups)
    return nodeError() << "weight " << shapeToString(ws) << " and group "
                       << groups << " do not match " << c
                       << " input channels",
           failure();

  // 1-D convolutions are 2-D convolutions of height 1.
  Value xv = valueOf(**x);
  // The weights as this convolution sees them: the input's, without a copy
  // of its host value (`wHost`), unless reshaped or scaled here (`wOwned`).
  TensorInfo w2;
  w2.kind = (*w)->kind;
  w2.shape = (*w)->shape;
  w2.value = (*w)->value;
  w2.graphInput = (*w)->graphInput;
  const HostTensor *wHost = (*w)->constant ? &*(*w)->constant : nullptr;
  std::optional<HostTensor> wOwned;
  SmallVector<int64_t> x4(xs.begin(), xs.end()), w4(ws.begin(), ws.end());
  if (spatial == 1) {
    x4 = {xs[0], xs[1], 1, xs[2]};
    w4 = {ws[0], ws[1], 1, ws[2]};
    xv = reshape(xv, x4);
    if (wHost) {
      wOwned = wHost->reshaped(w4);
      wHost = &*wOwned;
    } else {
      w2.value = reshape(valueOf(w2), w4);
    }
    w2.shape = w4;
    for (auto *a : {"strides", "dilations"})
      if (auto v = attrInts(a); v && v->size() != 1)
        return nodeError() << "'" << a << "' must have 1 value for a 1-D "
                              "convolution",
               failure();
  }
  // Rewrite 1-D attributes to 2-D ones for convGeometry.
  std::optional<onnx::NodeProto> patched;
  if (spatial == 1) {
    patched = widenTo2D(*node);
    node = &*patched;
  }
  auto geometry = convGeometry(x4, w4[2], w4[3], /*pool=*/false);
  if (failed(geometry))
    return failure();
  geometry->groups = groups;

  // Bias (zeros when absent), possibly with a BatchNormalization folded in.
  HostTensor biasHost(ElemKind::F32, {o});
  Value biasValue;
  TensorInfo *bias = input(2);
  const onnx::NodeProto *bn = nullptr;
  if (auto it = convToBatchNorm.find(node->output(0));
      it != convToBatchNorm.end() && wHost && (!bias || bias->constant))
    bn = it->second;
  if (bn) {
    // Fold: w' = w * s, b' = (b - mean) * s + beta, s = gamma / sqrt(var+eps).
    HostTensor const *params[4];
    bool allConstant = true;
    for (int i = 0; i < 4; ++i) {
      TensorInfo *p = lookup(bn->input(1 + i));
      if (!p || !p->constant || p->constant->numElements() != o ||
          p->kind != ElemKind::F32)
        allConstant = false;
      else
        params[i] = &*p->constant;
    }
    if (!allConstant)
      bn = nullptr;
    if (bn) {
      float eps = 1e-5f;
      for (const auto &a : bn->attribute())
        if (a.name() == "epsilon")
          eps = a.f();
      HostTensor scaled = *wHost;
      int64_t per = scaled.numElements() / o;
      for (int64_t oc = 0; oc < o; ++oc) {
        float s = params[0]->data<float>()[oc] /
                  std::sqrt(params[3]->data<float>()[oc] + eps);
        for (int64_t i = 0; i < per; ++i)
          scaled.data<float>()[oc * per + i] *= s;
        float b0 = bias ? bias->constant->data<float>()[oc] : 0.0f;
        biasHost.data<float>()[oc] =
            (b0 - params[2]->data<float>()[oc]) * s +
            params[1]->data<float>()[oc];
      }
      wOwned = std::move(scaled);
      wHost = &*wOwned;
      biasValue = materialize(biasHost);
      foldedBatchNorms.insert(bn->output(0));
    }
  }
  if (!biasValue) {
    if (bias) {
      if (bias->shape.size() != 1 || bias->shape[0] != o)
        return nodeError() << "bias " << shapeToString(bias->shape)
                           << " does not match " << o << " output channels",
               failure();
      biasValue = valueOf(*bias);
    } else {
      biasValue = materialize(biasHost);
    }
  }
  auto y = emitConv(xv, w2, wHost, biasValue, *geometry, o);
  if (failed(y))
    return failure();
  Value result = *y;
  SmallVector<int64_t> outShape = {x4[0], o, geometry->oh, geometry->ow};
  if (spatial == 1) {
    outShape = {x4[0], o, geometry->ow};
    result = reshape(result, outShape);
  }
  // Report the result under the BatchNormalization's name when folded.
  std::string outName = bn ? bn->output(0) : node->output(0);
  TensorInfo info;
  info.kind = ElemKind::F32;
  info.shape = outShape;
  info.value = result;
  values[outName] = std::move(info);
  return success();
}

/// Builds a per-tensor or per-axis quant type from host scales / zero points.
static FailureOr<quant::QuantizedType>
makeQuantType(MLIRContext &ctx, ElemKind storage, const HostTensor &scale,
              const HostTensor *zeroPoint, int32_t axis,
              std::string &whyNot) {
  bool isSigned = isSignedIntKind(storage);
  unsigned width = elemSize(storage) * 8;
  auto storageType = IntegerType::get(&ctx, width);
  int64_t qmin = ::lowbit::rt::storageMin(width, isSigned);
  int64_t qmax = ::lowbit::rt::storageMax(width, isSigned);
  unsigned flags = isSigned ? quant::QuantizationFlags::Signed : 0;
  Type f32 = Float32Type::get(&ctx);
  int64_t n = scale.numElements();
  // The quant types need at least one scale (their verifiers index it).
  if (n == 0) {
    whyNot = "the scale has no elements";
    return failure();
  }
  if (zeroPoint && zeroPoint->numElements() != n) {
    whyNot = "scale and zero point sizes differ";
    return failure();
  }
  for (int64_t i = 0; i < n; ++i)
    if (!(scale.getDouble(i) > 0.0) || !std::isfinite(scale.getDouble(i))) {
      whyNot = "scale " + std::to_string(scale.getDouble(i)) +
               " is not positive and finite";
      return failure();
    }
  if (scale.rank() == 0 || (n == 1 && axis < 0)) {
    int64_t zp = zeroPoint ? zeroPoint->getInt(0) : 0;
    return cast<quant::QuantizedType>(quant::UniformQuantizedType::get(
        flags, storageType, f32, scale.getDouble(0), zp, qmin, qmax));
  }
  SmallVector<double> scales;
  SmallVector<int64_t> zps;
  for (int64_t i = 0; i < n; ++i) {
    scales.push_back(scale.getDouble(i));
    zps.push_back(zeroPoint ? zeroPoint->getInt(i) : 0);
  }
  return cast<quant::QuantizedType>(quant::UniformQuantizedPerAxisType::get(
      flags, storageType, f32, scales, zps, axis, qmin, qmax));
}

FailureOr<int64_t> Importer::scalarZeroPoint(int idx, StringRef role) {
  if (!input(idx))
    return int64_t(0);
  auto zp = nonEmptyConstantInput(idx, role);
  if (failed(zp))
    return failure();
  int64_t v = (*zp)->getInt(0);
  for (int64_t i = 1; i < (*zp)->numElements(); ++i)
    if ((*zp)->getInt(i) != v)
      return (void)unsupported("per-channel " + role.str() +
                               " (one zero point per tensor only)"),
             failure();
  return v;
}

Value Importer::zeroPointConst(ElemKind kind, int64_t value) {
  HostTensor t(kind, {1});
  t.setInt(0, value);
  return materialize(t);
}

FailureOr<Value> Importer::emitQLinearRequant(Value acc, int aScale,
                                              int bScale, int yScale,
                                              int yZeroPoint,
                                              ElemKind defaultKind,
                                              int64_t axis) {
  auto sa = nonEmptyConstantInput(aScale, "input scale");
  auto sb = nonEmptyConstantInput(bScale, "weight scale");
  auto sy = nonEmptyConstantInput(yScale, "y scale");
  if (failed(sa) || failed(sb) || failed(sy))
    return failure();
  auto accType = cast<RankedTensorType>(acc.getType());
  int64_t channels = accType.getDimSize(axis);
  int64_t n = (*sb)->numElements();
  if (n != 1 && n != channels)
    return nodeError() << "weight scale has " << n << " values for "
                       << channels << " output channels",
           failure();
  ElemKind yKind = defaultKind;
  int64_t yzp = 0;
  if (input(yZeroPoint)) {
    auto z = nonEmptyConstantInput(yZeroPoint, "y zero point");
    if (failed(z))
      return failure();
    yKind = (*z)->kind();
    yzp = (*z)->getInt(0);
  }
  SmallVector<int32_t> mult, shift;
  for (int64_t i = 0; i < n; ++i) {
    // The real scale as ONNX computes it, in float32.
    float real = static_cast<float>((*sa)->getDouble(0)) *
                 static_cast<float>((*sb)->getDouble(i)) /
                 static_cast<float>((*sy)->getDouble(0));
    ::lowbit::rt::ScaleMultiplier m;
    if (::lowbit::rt::computeMultiplier(real, m) != ::lowbit::rt::ScaleStatus::Ok)
      return nodeError() << "requantization scale " << real
                         << " cannot be represented",
             failure();
    mult.push_back(m.multiplier);
    shift.push_back(m.shift);
  }
  HostTensor yScaleT(ElemKind::F32, {});
  yScaleT.setDouble(0, (*sy)->getDouble(0));
  HostTensor yZp(yKind, {});
  yZp.setInt(0, yzp);
  std::string why;
  auto yq = makeQuantType(ctx, yKind, yScaleT, &yZp, -1, why);
  if (failed(yq))
    return nodeError() << "y quantization: " << why, failure();
  SmallVector<NamedAttribute> attrs = {
      named("multiplier", b.getDenseI32ArrayAttr(mult)),
      named("shift", b.getDenseI32ArrayAttr(shift))};
  if (mult.size() > 1)
    attrs.push_back(named("axis", b.getI64IntegerAttr(axis)));
  Value y = create<mlir::lowbit::RequantOp>(
      RankedTensorType::get(accType.getShape(), *yq), {acc}, attrs);
  return storageCast(y, tensorType(accType.getShape(), yKind));
}

LogicalResult Importer::importConvInteger(bool qlinear) {
  if (failed(checkAttributes({"auto_pad", "dilations", "group", "kernel_shape",
                              "pads", "strides"})))
    return failure();
  // ConvInteger: x, w, x_zp, w_zp.  QLinearConv: x, x_scale, x_zp, w,
  // w_scale, w_zp, y_scale, y_zp, B.
  int xi = 0, wi = qlinear ? 3 : 1, xzpi = 2, wzpi = qlinear ? 5 : 3;
  auto x = requireInput(xi);
  auto w = requireInput(wi);
  if (failed(x) || failed(w))
    return failure();
  ArrayRef<int64_t> xs = (*x)->shape, ws = (*w)->shape;
  if (xs.size() != 4 || ws.size() != 4)
    return unsupported("integer convolution of rank " +
                       std::to_string(xs.size()) + " (2-D only)");
  for (TensorInfo *t : {*x, *w})
    if (t->kind != ElemKind::U8 && t->kind != ElemKind::I8)
      return unsupported(std::string("element type ") +
                         elemName(t->kind).str() + " (uint8/int8 only)");
  auto xzp = scalarZeroPoint(xzpi, "x zero point");
  auto wzp = scalarZeroPoint(wzpi, "w zero point");
  if (failed(xzp) || failed(wzp))
    return failure();
  int64_t groups = attrInt("group", 1);
  int64_t c = xs[1], o = ws[0];
  if (groups < 1 || c % groups || ws[1] != c / groups)
    return nodeError() << "weight " << shapeToString(ws) << " and group "
                       << groups << " do not match " << c
                       << " input channels",
           failure();
  bool depthwise = groups == c && groups > 1 && o % c == 0;
  if (groups != 1 && !depthwise)
    return unsupported("grouped integer convolution (groups 1 or depthwise)");
  auto g = convGeometry(xs, ws[2], ws[3], false);
  if (failed(g))
    return failure();

  Type i32 = b.getI32Type();

  Value bias;
  if (qlinear && input(8)) {
    auto bi = requireInput(8);
    if (failed(bi))
      return failure();
    if ((*bi)->kind != ElemKind::I32 || (*bi)->shape.size() != 1 ||
        (*bi)->shape[0] != o)
      return nodeError() << "bias must be int32 with " << o << " elements",
             failure();
    bias = valueOf(**bi);
  } else {
    bias = materialize(HostTensor(ElemKind::I32, {o}));
  }
  Value weight;
  if ((*w)->constant)
    weight = materializeConvWeights(*(*w)->constant, depthwise, c);
  else if (depthwise)
    weight = reshape(transpose(valueOf(**w), {2, 3, 0, 1}),
                     {ws[2], ws[3], c, o / c});
  else
    weight = transpose(valueOf(**w), {0, 2, 3, 1});
  auto accType = RankedTensorType::get({xs[0], g->oh, g->ow, o}, i32);
  Value xn = fitWindows(toNHWC(valueOf(**x)), g->dh * (g->kh - 1) + 1,
                        g->dw * (g->kw - 1) + 1, g->sh, g->sw, g->padTop,
                        g->padBottom, g->padLeft, g->padRight);
  SmallVector<NamedAttribute> attrs = {
      named("pad", b.getDenseI64ArrayAttr(
                       {g->padTop, g->padBottom, g->padLeft, g->padRight})),
      named("stride", b.getDenseI64ArrayAttr({g->sh, g->sw})),
      named("dilation", b.getDenseI64ArrayAttr({g->dh, g->dw})),
      named("acc_type", TypeAttr::get(i32))};
  Value operands[] = {xn, weight, bias, zeroPointConst((*x)->kind, *xzp),
                      zeroPointConst((*w)->kind, *wzp)};
  Value acc = depthwise
                  ? create<tosa::DepthwiseConv2DOp>(accType, operands, attrs)
                  : create<tosa::Conv2DOp>(accType, operands, attrs);
  if (!qlinear) {
    setOutput(0, toNCHW(acc), ElemKind::I32, {xs[0], o, g->oh, g->ow});
    return success();
  }
  // Requantize per output channel (NHWC axis 3) when w_scale is.
  auto y = emitQLinearRequant(acc, 1, 4, 6, 7, (*x)->kind, /*axis=*/3);
  if (failed(y))
    return failure();
  ElemKind yKind = *elemKindOf(getElementTypeOrSelf(y->getType()));
  Value ys = *y;
  setOutput(0, toNCHW(ys), yKind, {xs[0], o, g->oh, g->ow});
  return success();
}

//===----------------------------------------------------------------------===//
// Gemm / MatMul
//===----------------------------------------------------------------------===//

LogicalResult Importer::importGemm() {
  if (failed(checkAttributes({"alpha", "beta", "transA", "transB",
                              "broadcast"})))
    return failure();
  auto a = requireInput(0);
  auto bb = requireInput(1);
  if (failed(a) || failed(bb))
    return failure();
  if ((*a)->kind != ElemKind::F32 || (*bb)->kind != ElemKind::F32)
    return unsupported("element type: Gemm imports float32 tensors");
  if ((*a)->shape.size() != 2 || (*bb)->shape.size() != 2)
    return nodeError() << "A and B must be matrices", failure();
  bool ta = attrInt("transA", 0), tb = attrInt("transB", 0);
  float alpha = attrFloat("alpha", 1.0f), beta = attrFloat("beta", 1.0f);
  int64_t m = ta ? (*a)->shape[1] : (*a)->shape[0];
  int64_t k = ta ? (*a)->shape[0] : (*a)->shape[1];
  int64_t kb = tb ? (*bb)->shape[1] : (*bb)->shape[0];
  int64_t n = tb ? (*bb)->shape[0] : (*bb)->shape[1];
  if (k != kb)
    return nodeError() << "inner dimensions " << k << " and " << kb
                       << " differ",
           failure();
  // Operands as [1, rows, cols]; constants are laid out on the host so the
  // weights stay one constant (which weight quantization looks for).
  auto operand = [&](TensorInfo &t, bool trans, int64_t rows,
                     int64_t cols) -> Value {
    if (t.constant) {
      HostTensor h = *t.constant;
      if (trans) {
        h = HostTensor(t.kind, {t.shape[1], t.shape[0]});
        int32_t perm[2] = {1, 0};
        ::lowbit::rt::transpose(t.constant->raw(), h.raw(), 4,
                                t.constant->shape().data(), perm, 2);
      }
      return materialize(h.reshaped({1, rows, cols}));
    }
    Value v = valueOf(t);
    return reshape(trans ? transpose(v, {1, 0}) : v, {1, rows, cols});
  };
  Value av = operand(**a, ta, m, k);
  Value bv = operand(**bb, tb, k, n);
  Value zp = scalarConst(ElemKind::F32, 0.0);
  Type f32 = b.getF32Type();
  Value y = create<tosa::MatMulOp>(RankedTensorType::get({1, m, n}, f32),
                                   {av, bv, zp, zp});
  y = reshape(y, {m, n});
  auto shiftZero = [&]() {
    HostTensor s(ElemKind::I8, {1});
    return materialize(s);
  };
  if (alpha != 1.0f)
    y = create<tosa::MulOp>(y.getType(),
                            {y, scalarConst(ElemKind::F32, alpha, 2),
                             shiftZero()});
  if (TensorInfo *c = input(2); c && beta != 0.0f) {
    auto shape = broadcastShape({m, n}, c->shape);
    if (failed(shape))
      return failure();
    if (*shape != SmallVector<int64_t>{m, n})
      return nodeError() << "C " << shapeToString(c->shape)
                         << " does not broadcast to [" << m << ", " << n
                         << "]",
             failure();
    Value cv = rankExtend(valueOf(*c), 2);
    if (beta != 1.0f)
      cv = create<tosa::MulOp>(cv.getType(),
                               {cv, scalarConst(ElemKind::F32, beta, 2),
                                shiftZero()});
    y = create<tosa::AddOp>(y.getType(), {y, cv});
  }
  setOutput(0, y, ElemKind::F32, {m, n});
  return success();
}

LogicalResult Importer::importMatMul(bool integer, bool qlinear) {
  if (failed(checkAttributes({})))
    return failure();
  int ai = 0, bi = qlinear ? 3 : 1;
  auto a = requireInput(ai);
  auto bt = requireInput(bi);
  if (failed(a) || failed(bt))
    return failure();
  ElemKind ka = (*a)->kind, kb = (*bt)->kind;
  if (!integer && (ka != ElemKind::F32 || kb != ElemKind::F32))
    return unsupported("element type: MatMul imports float32 tensors");
  if (integer)
    for (ElemKind k : {ka, kb})
      if (k != ElemKind::U8 && k != ElemKind::I8)
        return unsupported(std::string("element type ") +
                           elemName(k).str() + " (uint8/int8 only)");
  SmallVector<int64_t> as = (*a)->shape, bs = (*bt)->shape;
  if (as.empty() || bs.empty())
    return nodeError() << "operands must have rank >= 1", failure();
  Value av = valueOf(**a), bv = valueOf(**bt);
  bool squeezeA = as.size() == 1, squeezeB = bs.size() == 1;
  if (squeezeA) {
    as = {1, as[0]};
    av = reshape(av, as);
  }
  if (squeezeB) {
    bs = {bs[0], 1};
    bv = reshape(bv, bs);
  }
  int64_t m = as[as.size() - 2], k = as.back(), k2 = bs[bs.size() - 2],
          n = bs.back();
  if (k != k2)
    return nodeError() << "inner dimensions " << k << " and " << k2
                       << " differ",
           failure();
  auto batch = broadcastShape(ArrayRef<int64_t>(as).drop_back(2),
                              ArrayRef<int64_t>(bs).drop_back(2));
  if (failed(batch))
    return failure();
  int64_t nb = numElements(*batch);
  // Broadcast batch dimensions explicitly with tosa.tile when they differ.
  auto expand = [&](Value v, SmallVector<int64_t> s) -> Value {
    SmallVector<int64_t> full(batch->begin(), batch->end());
    full.push_back(s[s.size() - 2]);
    full.push_back(s.back());
    SmallVector<int64_t> ext(full.size() - s.size(), 1);
    ext.append(s.begin(), s.end());
    v = reshape(v, ext);
    if (ext != full) {
      SmallVector<int64_t> mult;
      for (size_t i = 0; i < full.size(); ++i)
        mult.push_back(full[i] / ext[i]);
      v = create<tosa::TileOp>(
          RankedTensorType::get(full, cast<ShapedType>(v.getType())
                                          .getElementType()),
          {v, constShape(mult)});
    }
    return reshape(v, {nb, s[s.size() - 2], s.back()});
  };
  av = expand(av, as);
  bv = expand(bv, bs);
  SmallVector<int64_t> outShape(batch->begin(), batch->end());
  outShape.push_back(m);
  outShape.push_back(n);
  auto finish = [&](Value y, ElemKind kind) {
    SmallVector<int64_t> shape = outShape;
    if (squeezeB)
      shape.pop_back();
    if (squeezeA)
      shape.erase(shape.end() - (squeezeB ? 1 : 2));
    y = reshape(y, shape);
    setOutput(0, y, kind, shape);
    return success();
  };
  if (!integer) {
    Value zp = scalarConst(ElemKind::F32, 0.0);
    Value y = create<tosa::MatMulOp>(
        RankedTensorType::get({nb, m, n}, b.getF32Type()), {av, bv, zp, zp});
    return finish(y, ElemKind::F32);
  }
  auto azp = scalarZeroPoint(2, "a zero point");
  auto bzp = scalarZeroPoint(qlinear ? 5 : 3, "b zero point");
  if (failed(azp) || failed(bzp))
    return failure();

  Value acc = create<tosa::MatMulOp>(
      RankedTensorType::get({nb, m, n}, b.getI32Type()),
      {av, bv, zeroPointConst(ka, *azp), zeroPointConst(kb, *bzp)});
  if (!qlinear)
    return finish(acc, ElemKind::I32);
  // b_scale may hold one value per output column (axis 2 of [B, M, N]).
  auto y = emitQLinearRequant(acc, 1, 4, 6, 7, ka, /*axis=*/2);
  if (failed(y))
    return failure();
  ElemKind yKind = *elemKindOf(getElementTypeOrSelf(y->getType()));
  Value ys = *y;
  return finish(ys, yKind);
}

//===----------------------------------------------------------------------===//
// Elementwise
//===----------------------------------------------------------------------===//

LogicalResult Importer::importBinary() {
  if (failed(checkAttributes({"axis", "broadcast"})))
    return failure();
  auto a = requireInput(0);
  auto c = requireInput(1);
  if (failed(a) || failed(c))
    return failure();
  // Before opset 7, B broadcasts to A only with broadcast = 1, aligned at
  // `axis` (default: trailing dimensions, as numpy does).
  if (opset < 7) {
    if (!attrInt("broadcast", 0) && (*a)->shape != (*c)->shape)
      return nodeError() << "shapes differ without 'broadcast'", failure();
    if (attrInt("broadcast", 0) && attr("axis")) {
      int64_t ra = (*a)->shape.size(), rb = (*c)->shape.size();
      int64_t axis = attrInt("axis", 0);
      if (axis < 0)
        axis += ra;
      if (axis < 0 || axis + rb > ra)
        return nodeError() << "legacy broadcast axis out of range", failure();
      SmallVector<int64_t> s(ra, 1);
      for (int64_t i = 0; i < rb; ++i)
        s[axis + i] = (*c)->shape[i];
      TensorInfo aligned = **c;
      aligned.shape = s;
      if (aligned.constant)
        aligned.constant = aligned.constant->reshaped(s);
      else
        aligned.value = reshape(valueOf(**c), s);
      values["__legacy_broadcast_" + node->output(0)] = aligned;
      *c = lookup("__legacy_broadcast_" + node->output(0));
    }
  }
  if ((*a)->kind != (*c)->kind)
    return nodeError() << "operand element types " << elemName((*a)->kind)
                       << " and " << elemName((*c)->kind) << " differ",
           failure();
  ElemKind kind = (*a)->kind;
  if (kind == ElemKind::I1 || kind == ElemKind::F64)
    return unsupported(std::string("element type ") + elemName(kind).str());
  auto shape = broadcastShape((*a)->shape, (*c)->shape);
  if (failed(shape))
    return failure();
  int64_t rank = shape->size();
  Value av = rankExtend(valueOf(**a), rank);
  Value cv = rankExtend(valueOf(**c), rank);
  auto type = tensorType(*shape, kind);
  StringRef op = node->op_type();
  Value y;
  if (op == "Div" && !isFloatKind(kind) && kind != ElemKind::I32 &&
      kind != ElemKind::I64) {
    // tosa.intdiv is i32/i64 only: divide narrower integers in i32.
    auto wide = tensorType(*shape, ElemKind::I32);
    Value q = create<tosa::IntDivOp>(
        wide, {create<tosa::CastOp>(tensorType(shapeOf(av), ElemKind::I32), {av}),
               create<tosa::CastOp>(tensorType(shapeOf(cv), ElemKind::I32), {cv})});
    y = create<tosa::CastOp>(type, {q});
  } else if (op == "Add")
    y = create<tosa::AddOp>(type, {av, cv});
  else if (op == "Sub")
    y = create<tosa::SubOp>(type, {av, cv});
  else if (op == "Mul") {
    HostTensor s(ElemKind::I8, {1});
    y = create<tosa::MulOp>(type, {av, cv, materialize(s)});
  } else if (isFloatKind(kind)) {
    // x / y as x * (1 / y): TOSA has no float division.
    Value r = create<tosa::ReciprocalOp>(cv.getType(), {cv});
    HostTensor s(ElemKind::I8, {1});
    y = create<tosa::MulOp>(type, {av, r, materialize(s)});
  } else {
    y = create<tosa::IntDivOp>(type, {av, cv});
  }
  setOutput(0, y, kind, *shape);
  return success();
}

LogicalResult Importer::importUnary() {
  if (failed(checkAttributes({})))
    return failure();
  auto x = requireInput(0);
  if (failed(x))
    return failure();
  if ((*x)->kind != ElemKind::F32)
    return unsupported("element type: float32 only");
  auto type = tensorType((*x)->shape, ElemKind::F32);
  Value v = valueOf(**x);
  Value y = node->op_type() == "Sigmoid" ? create<tosa::SigmoidOp>(type, {v})
                                         : create<tosa::TanhOp>(type, {v});
  setOutput(0, y, ElemKind::F32, (*x)->shape);
  return success();
}

/// tosa.clamp with bounds of the tensor's element type.
static SmallVector<NamedAttribute> clampAttrs(OpBuilder &b, ElemKind kind,
                                              double lo, double hi) {
  if (isFloatKind(kind))
    return {b.getNamedAttr("min_val", b.getF32FloatAttr(static_cast<float>(lo))),
            b.getNamedAttr("max_val",
                           b.getF32FloatAttr(static_cast<float>(hi)))};
  Type t = mlirTypeOf(kind, b.getContext());
  return {b.getNamedAttr("min_val",
                         b.getIntegerAttr(t, static_cast<int64_t>(lo))),
          b.getNamedAttr("max_val",
                         b.getIntegerAttr(t, static_cast<int64_t>(hi)))};
}

LogicalResult Importer::importRelu() {
  if (failed(checkAttributes({})))
    return failure();
  auto x = requireInput(0);
  if (failed(x))
    return failure();
  if ((*x)->kind != ElemKind::F32)
    return unsupported("element type: float32 only");
  Value y = create<tosa::ClampOp>(
      tensorType((*x)->shape, ElemKind::F32), {valueOf(**x)},
      clampAttrs(b, ElemKind::F32, 0.0,
                 std::numeric_limits<float>::infinity()));
  setOutput(0, y, ElemKind::F32, (*x)->shape);
  return success();
}

LogicalResult Importer::importLeakyRelu() {
  if (failed(checkAttributes({"alpha"})))
    return failure();
  auto x = requireInput(0);
  if (failed(x))
    return failure();
  if ((*x)->kind != ElemKind::F32)
    return unsupported("element type: float32 only");
  float alpha = attrFloat("alpha", 0.01f);
  int64_t rank = (*x)->shape.size();
  Value v = valueOf(**x);
  auto type = tensorType((*x)->shape, ElemKind::F32);
  Value zero = scalarConst(ElemKind::F32, 0.0, rank);
  Value ge = create<tosa::GreaterEqualOp>(
      tensorType((*x)->shape, ElemKind::I1), {v, zero});
  HostTensor s(ElemKind::I8, {1});
  Value scaled = create<tosa::MulOp>(
      type, {v, scalarConst(ElemKind::F32, alpha, rank), materialize(s)});
  Value y = create<tosa::SelectOp>(type, {ge, v, scaled});
  setOutput(0, y, ElemKind::F32, (*x)->shape);
  return success();
}

LogicalResult Importer::importPRelu() {
  if (failed(checkAttributes({})))
    return failure();
  auto x = requireInput(0);
  auto slope = requireInput(1);
  if (failed(x) || failed(slope))
    return failure();
  if ((*x)->kind != ElemKind::F32 || (*slope)->kind != ElemKind::F32)
    return unsupported("element type: float32 only");
  // Slopes broadcast unidirectionally to X. Opset < 9 allowed a [C] slope
  // against NCHW; so does torch's export of per-channel PReLU as [C, 1, 1].
  SmallVector<int64_t> ss = (*slope)->shape;
  int64_t rank = (*x)->shape.size();
  Value sv = valueOf(**slope);
  if (ss.size() == 1 && rank > 2 && ss[0] == (*x)->shape[1] && ss[0] != 1 &&
      (*x)->shape.back() != ss[0]) {
    SmallVector<int64_t> s(rank, 1);
    s[1] = ss[0];
    sv = reshape(sv, s);
    ss = s;
  }
  auto shape = broadcastShape((*x)->shape, ss);
  if (failed(shape))
    return failure();
  if (ArrayRef<int64_t>(*shape) != ArrayRef<int64_t>((*x)->shape))
    return nodeError() << "slope " << shapeToString((*slope)->shape)
                       << " does not broadcast to X "
                       << shapeToString((*x)->shape),
           failure();
  sv = rankExtend(sv, rank);
  Value v = valueOf(**x);
  auto type = tensorType((*x)->shape, ElemKind::F32);
  Value ge = create<tosa::GreaterEqualOp>(
      tensorType((*x)->shape, ElemKind::I1),
      {v, scalarConst(ElemKind::F32, 0.0, rank)});
  HostTensor s(ElemKind::I8, {1});
  Value scaled = create<tosa::MulOp>(type, {v, sv, materialize(s)});
  Value y = create<tosa::SelectOp>(type, {ge, v, scaled});
  setOutput(0, y, ElemKind::F32, (*x)->shape);
  return success();
}

LogicalResult Importer::importClip() {
  if (failed(checkAttributes({"min", "max"})))
    return failure();
  auto x = requireInput(0);
  if (failed(x))
    return failure();
  ElemKind kind = (*x)->kind;
  if (kind == ElemKind::I1 || kind == ElemKind::F64)
    return unsupported(std::string("element type ") + elemName(kind).str());
  int64_t rank = (*x)->shape.size();
  Value v = valueOf(**x);
  auto type = tensorType((*x)->shape, kind);
  double lo, hi;
  if (isFloatKind(kind)) {
    lo = -std::numeric_limits<float>::infinity();
    hi = std::numeric_limits<float>::infinity();
  } else {
    unsigned bits = elemSize(kind) * 8;
    lo = static_cast<double>(::lowbit::rt::storageMin(bits, isSignedIntKind(kind)));
    hi = static_cast<double>(::lowbit::rt::storageMax(bits, isSignedIntKind(kind)));
  }
  if (opset < 11) {
    lo = attrFloat("min", static_cast<float>(lo));
    hi = attrFloat("max", static_cast<float>(hi));
  } else {
    // Bounds are optional inputs; non-constant ones become max/min ops.
    Value y = v;
    bool dynamic = false;
    for (int i : {1, 2}) {
      TensorInfo *bound = input(i);
      if (!bound)
        continue;
      if (bound->constant) {
        if (bound->constant->numElements() == 0)
          return nodeError() << (i == 1 ? "min" : "max") << " (input " << i
                             << ", '" << node->input(i) << "') has no elements",
                 failure();
        (i == 1 ? lo : hi) = bound->constant->getDouble(0);
        continue;
      }
      dynamic = true;
      Value bv = rankExtend(valueOf(*bound), rank);
      y = i == 1 ? create<tosa::MaximumOp>(type, {y, bv})
                 : create<tosa::MinimumOp>(type, {y, bv});
    }
    if (dynamic) {
      // Constant bounds of a partly dynamic Clip still apply.
      y = create<tosa::ClampOp>(type, {y}, clampAttrs(b, kind, lo, hi));
      setOutput(0, y, kind, (*x)->shape);
      return success();
    }
  }
  Value y = create<tosa::ClampOp>(type, {v}, clampAttrs(b, kind, lo, hi));
  setOutput(0, y, kind, (*x)->shape);
  return success();
}

LogicalResult Importer::importHardSigmoid(bool swish) {
  if (failed(checkAttributes(swish ? std::initializer_list<StringRef>{}
                                   : std::initializer_list<StringRef>{
                                         "alpha", "beta"})))
    return failure();
  auto x = requireInput(0);
  if (failed(x))
    return failure();
  if ((*x)->kind != ElemKind::F32)
    return unsupported("element type: float32 only");
  float alpha = swish ? 1.0f / 6.0f : attrFloat("alpha", 0.2f);
  float beta = swish ? 0.5f : attrFloat("beta", 0.5f);
  int64_t rank = (*x)->shape.size();
  auto type = tensorType((*x)->shape, ElemKind::F32);
  Value v = valueOf(**x);
  HostTensor s(ElemKind::I8, {1});
  Value shift = materialize(s);
  Value ax = create<tosa::MulOp>(
      type, {v, scalarConst(ElemKind::F32, alpha, rank), shift});
  Value axb =
      create<tosa::AddOp>(type, {ax, scalarConst(ElemKind::F32, beta, rank)});
  Value hs = create<tosa::ClampOp>(type, {axb},
                                   clampAttrs(b, ElemKind::F32, 0.0, 1.0));
  Value y = swish ? create<tosa::MulOp>(type, {v, hs, shift}) : hs;
  setOutput(0, y, ElemKind::F32, (*x)->shape);
  return success();
}

//===----------------------------------------------------------------------===//
// Pools and normalization
//===----------------------------------------------------------------------===//

LogicalResult Importer::importPool(bool isMax, bool global) {
  if (global) {
    if (failed(checkAttributes({})))
      return failure();
  } else if (failed(checkAttributes({"auto_pad", "ceil_mode", "dilations",
                                     "kernel_shape", "pads", "strides",
                                     "storage_order", "count_include_pad"}))) {
    return failure();
  }
  auto x = requireInput(0);
  if (failed(x))
    return failure();
  ElemKind kind = (*x)->kind;
  if (kind != ElemKind::F32 && !(isMax && (kind == ElemKind::U8 ||
                                           kind == ElemKind::I8)))
    return unsupported(std::string("element type ") + elemName(kind).str());
  SmallVector<int64_t> xs = (*x)->shape;
  int64_t spatial = static_cast<int64_t>(xs.size()) - 2;
  if (spatial != 2 && !(spatial == 1 && !global))
    return unsupported(std::to_string(spatial) +
                       "-D pooling (1-D and 2-D only)");
  if (node->output_size() > 1 && !node->output(1).empty())
    return unsupported("MaxPool 'Indices' output");
  if (attrInt("storage_order", 0) != 0)
    return unsupported("storage_order 1");
  Value v = valueOf(**x);
  SmallVector<int64_t> x4 = xs;
  std::optional<onnx::NodeProto> patched;
  if (spatial == 1) {
    x4 = {xs[0], xs[1], 1, xs[2]};
    v = reshape(v, x4);
    patched = widenTo2D(*node);
    node = &*patched;
  }
  ConvGeometry g{};
  if (global) {
    g = ConvGeometry{x4[2], x4[3], 1, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 0, 0};
  } else {
    auto kernel = attrInts("kernel_shape");
    if (!kernel || kernel->size() != 2)
      return nodeError() << "'kernel_shape' must describe the spatial "
                            "dimensions",
             failure();
    auto geometry = convGeometry(x4, (*kernel)[0], (*kernel)[1], true);
    if (failed(geometry))
      return failure();
    g = *geometry;
    if (g.dh != 1 || g.dw != 1)
      return unsupported("pooling dilations");
  }
  Value xn = toNHWC(v);
  Type et = elemType(kind);
  bool includePad = !isMax && attrInt("count_include_pad", 0) != 0;
  int64_t padT = g.padTop, padB = g.padBottom, padL = g.padLeft,
          padR = g.padRight;
  if (includePad && (padT || padB || padL || padR)) {
    // TOSA averages over valid positions only, so the declared padding is
    // made explicit with zeros; positions added by ceil_mode stay outside
    // the count, as in ONNX.
    int64_t declB = g.padBottom - g.ceilExtraH, declR = g.padRight - g.ceilExtraW;
    SmallVector<int64_t> padded = {x4[0], x4[2] + padT + declB,
                                   x4[3] + padL + declR, x4[1]};
    xn = create<tosa::PadOp>(
        RankedTensorType::get(padded, et),
        {xn, constShape({0, 0, padT, declB, padL, declR, 0, 0}),
         scalarConst(kind, 0.0)});
    padT = padL = 0;
    padB = g.ceilExtraH;
    padR = g.ceilExtraW;
  }
  xn = fitWindows(xn, g.kh, g.kw, g.sh, g.sw, padT, padB, padL, padR);
  if (padT >= g.kh || padB >= g.kh || padL >= g.kw || padR >= g.kw)
    return unsupported("padding as large as the pooling window");
  SmallVector<NamedAttribute> attrs = {
      named("kernel", b.getDenseI64ArrayAttr({g.kh, g.kw})),
      named("stride", b.getDenseI64ArrayAttr({g.sh, g.sw})),
      named("pad", b.getDenseI64ArrayAttr({padT, padB, padL, padR}))};
  auto outType = RankedTensorType::get({x4[0], g.oh, g.ow, x4[1]}, et);
  Value y;
  if (isMax) {
    y = create<tosa::MaxPool2dOp>(outType, {xn}, attrs);
  } else {
    attrs.push_back(named("acc_type", TypeAttr::get(b.getF32Type())));
    Value zp = scalarConst(ElemKind::F32, 0.0);
    y = create<tosa::AvgPool2dOp>(outType, {xn, zp, zp}, attrs);
  }
  y = toNCHW(y);
  SmallVector<int64_t> outShape = {x4[0], x4[1], g.oh, g.ow};
  if (spatial == 1) {
    outShape = {x4[0], x4[1], g.ow};
    y = reshape(y, outShape);
  }
  setOutput(0, y, kind, outShape);
  return success();
}

LogicalResult Importer::importBatchNorm() {
  if (failed(checkAttributes({"epsilon", "momentum", "training_mode",
                              "spatial", "is_test", "consumed_inputs"})))
    return failure();
  if (attrInt("training_mode", 0) != 0)
    return unsupported("training_mode (inference BatchNormalization only)");
  if (attrInt("spatial", 1) != 1)
    return unsupported("spatial = 0");
  if (node->output_size() > 1)
    for (int i = 1; i < node->output_size(); ++i)
      if (!node->output(i).empty())
        return unsupported("training outputs (running mean/var)");
  auto x = requireInput(0);
  if (failed(x))
    return failure();
  if ((*x)->kind != ElemKind::F32)
    return unsupported("element type: float32 only");
  SmallVector<const HostTensor *, 4> p;
  static const char *roles[] = {"scale", "bias", "mean", "variance"};
  for (int i = 0; i < 4; ++i) {
    auto t = constantInput(1 + i, roles[i]);
    if (failed(t))
      return failure();
    p.push_back(*t);
  }
  SmallVector<int64_t> xs = (*x)->shape;
  if (xs.size() < 2)
    return nodeError() << "input must have a channel dimension", failure();
  int64_t c = xs[1];
  for (const HostTensor *t : p)
    if (t->numElements() != c)
      return nodeError() << "parameters must have " << c << " elements",
             failure();
  float eps = attrFloat("epsilon", 1e-5f);
  HostTensor scale(ElemKind::F32, {c}), shift(ElemKind::F32, {c});
  for (int64_t i = 0; i < c; ++i) {
    float s = static_cast<float>(p[0]->getDouble(i)) /
              std::sqrt(static_cast<float>(p[3]->getDouble(i)) + eps);
    scale.data<float>()[i] = s;
    shift.data<float>()[i] = static_cast<float>(p[1]->getDouble(i)) -
                             static_cast<float>(p[2]->getDouble(i)) * s;
  }
  SmallVector<int64_t> bshape(xs.size(), 1);
  bshape[1] = c;
  auto type = tensorType(xs, ElemKind::F32);
  HostTensor zero(ElemKind::I8, {1});
  Value y = create<tosa::MulOp>(
      type, {valueOf(**x), materialize(scale.reshaped(bshape)),
             materialize(zero)});
  y = create<tosa::AddOp>(type, {y, materialize(shift.reshaped(bshape))});
  setOutput(0, y, ElemKind::F32, xs);
  return success();
}

//===----------------------------------------------------------------------===//
// Shape manipulation
//===----------------------------------------------------------------------===//

LogicalResult Importer::importFlatten() {
  if (failed(checkAttributes({"axis"})))
    return failure();
  auto x = requireInput(0);
  if (failed(x))
    return failure();
  int64_t rank = (*x)->shape.size();
  int64_t axis = attrInt("axis", 1);
  if (axis < 0)
    axis += rank;
  if (axis < 0 || axis > rank)
    return nodeError() << "axis out of range", failure();
  int64_t outer = 1, inner = 1;
  for (int64_t i = 0; i < rank; ++i)
    (i < axis ? outer : inner) *= (*x)->shape[i];
  SmallVector<int64_t> shape = {outer, inner};
  if ((*x)->constant) {
    setConstantOutput(0, (*x)->constant->reshaped(shape));
    return success();
  }
  setOutput(0, reshape(valueOf(**x), shape), (*x)->kind, shape);
  return success();
}

LogicalResult Importer::importReshape() {
  if (failed(checkAttributes({"allowzero", "shape"})))
    return failure();
  auto x = requireInput(0);
  if (failed(x))
    return failure();
  std::vector<int64_t> target;
  if (opset < 5 || attr("shape")) {
    auto shapeAttr = attrInts("shape");
    if (!shapeAttr)
      return nodeError() << "missing 'shape'", failure();
    target.assign(shapeAttr->begin(), shapeAttr->end());
  } else {
    auto s = constantInput(1, "shape");
    if (failed(s))
      return failure();
    target = (*s)->toInts();
  }
  bool allowZero = attrInt("allowzero", 0) != 0;
  SmallVector<int64_t> shape;
  int64_t known = 1, inferred = -1;
  for (size_t i = 0; i < target.size(); ++i) {
    int64_t d = target[i];
    if (d == 0 && !allowZero) {
      if (i >= (*x)->shape.size())
        return nodeError() << "shape copies dimension " << i
                           << " that the input does not have",
               failure();
      d = (*x)->shape[i];
    }
    if (d == -1) {
      if (inferred >= 0)
        return nodeError() << "shape has more than one -1", failure();
      inferred = i;
      shape.push_back(1);
      continue;
    }
    if (d < 0)
      return nodeError() << "invalid dimension " << d << " in shape",
             failure();
    shape.push_back(d);
    if (__builtin_mul_overflow(known, d, &known))
      return nodeError() << "shape " << shapeToString(target)
                         << " has more elements than a 64-bit count holds",
             failure();
  }
  int64_t total = numElements((*x)->shape);
  if (inferred >= 0) {
    if (known == 0 || total % known)
      return nodeError() << "cannot infer the -1 dimension reshaping "
                         << shapeToString((*x)->shape) << " into "
                         << shapeToString(target),
             failure();
    shape[inferred] = total / known;
  }
  if (numElements(shape) != total)
    return nodeError() << "cannot reshape " << shapeToString((*x)->shape)
                       << " into " << shapeToString(shape),
           failure();
  if ((*x)->constant) {
    setConstantOutput(0, (*x)->constant->reshaped(shape));
    return success();
  }
  setOutput(0, reshape(valueOf(**x), shape), (*x)->kind, shape);
  return success();
}

LogicalResult Importer::importTranspose() {
  if (failed(checkAttributes({"perm"})))
    return failure();
  auto x = requireInput(0);
  if (failed(x))
    return failure();
  int64_t rank = (*x)->shape.size();
  SmallVector<int64_t> perm;
  if (auto p = attrInts("perm"))
    perm = *p;
  else
    for (int64_t i = rank - 1; i >= 0; --i)
      perm.push_back(i);
  if (static_cast<int64_t>(perm.size()) != rank)
    return nodeError() << "perm has " << perm.size() << " entries for rank "
                       << rank,
           failure();
  SmallVector<int32_t> p32;
  SmallVector<bool> seen(rank, false);
  SmallVector<int64_t> shape;
  for (int64_t p : perm) {
    if (p < 0 || p >= rank || seen[p])
      return nodeError() << "perm is not a permutation", failure();
    seen[p] = true;
    p32.push_back(static_cast<int32_t>(p));
    shape.push_back((*x)->shape[p]);
  }
  if ((*x)->constant) {
    HostTensor out((*x)->kind, shape);
    ::lowbit::rt::transpose((*x)->constant->raw(), out.raw(),
                            elemSize((*x)->kind), (*x)->constant->shape().data(),
                            p32.data(), static_cast<int>(rank));
    setConstantOutput(0, std::move(out));
    return success();
  }
  setOutput(0, transpose(valueOf(**x), p32), (*x)->kind, shape);
  return success();
}

LogicalResult Importer::importConcat() {
  if (failed(checkAttributes({"axis"})))
    return failure();
  if (!attr("axis"))
    return nodeError() << "missing 'axis'", failure();
  SmallVector<TensorInfo *> ins;
  for (int i = 0; i < numInputs(); ++i) {
    auto t = requireInput(i);
    if (failed(t))
      return failure();
    ins.push_back(*t);
  }
  if (ins.empty())
    return nodeError() << "needs at least one input", failure();
  int64_t rank = ins[0]->shape.size();
  int64_t axis = attrInt("axis", 0);
  if (axis < 0)
    axis += rank;
  if (axis < 0 || axis >= rank)
    return nodeError() << "axis out of range for rank " << rank, failure();
  SmallVector<int64_t> shape = ins[0]->shape;
  shape[axis] = 0;
  bool allConstant = true;
  for (TensorInfo *t : ins) {
    if (t->kind != ins[0]->kind ||
        static_cast<int64_t>(t->shape.size()) != rank)
      return nodeError() << "inputs must share element type and rank",
             failure();
    for (int64_t d = 0; d < rank; ++d)
      if (d != axis && t->shape[d] != ins[0]->shape[d])
        return nodeError() << "input shapes differ outside the axis",
               failure();
    shape[axis] += t->shape[axis];
    allConstant &= t->constant.has_value();
  }
  if (allConstant) {
    HostTensor out(ins[0]->kind, shape);
    SmallVector<const void *> ptrs;
    SmallVector<const int64_t *> shapes;
    for (TensorInfo *t : ins) {
      ptrs.push_back(t->constant->raw());
      shapes.push_back(t->constant->shape().data());
    }
    ::lowbit::rt::concat(ptrs.data(), shapes.data(),
                         static_cast<int>(ins.size()), out.raw(),
                         elemSize(out.kind()), static_cast<int>(rank),
                         static_cast<int>(axis));
    setConstantOutput(0, std::move(out));
    return success();
  }
  SmallVector<Value> vs;
  for (TensorInfo *t : ins)
    if (t->shape[axis] != 0)
      vs.push_back(valueOf(*t));
  Value y = create<tosa::ConcatOp>(
      tensorType(shape, ins[0]->kind), vs,
      {named("axis", b.getI32IntegerAttr(static_cast<int32_t>(axis)))});
  setOutput(0, y, ins[0]->kind, shape);
  return success();
}

LogicalResult Importer::importPad() {
  if (failed(checkAttributes({"mode", "pads", "value"})))
    return failure();
  auto x = requireInput(0);
  if (failed(x))
    return failure();
  std::string mode = attrString("mode", "constant");
  if (mode != "constant")
    return unsupported("Pad mode '" + mode + "' (constant only)");
  int64_t rank = (*x)->shape.size();
  std::vector<int64_t> pads;
  double value = 0.0;
  if (opset < 11) {
    if (auto p = attrInts("pads"))
      pads.assign(p->begin(), p->end());
    value = attrFloat("value", 0.0f);
  } else {
    auto p = constantInput(1, "pads");
    if (failed(p))
      return failure();
    pads = (*p)->toInts();
    if (TensorInfo *v = input(2)) {
      auto cv = constantInput(2, "constant_value");
      if (failed(cv))
        return failure();
      if ((*cv)->numElements() > 0)
        value = (*cv)->getDouble(0);
      (void)v;
    }
    if (input(3)) {
      // opset 18 axes: expand pads to all dimensions.
      auto axes = constantInput(3, "axes");
      if (failed(axes))
        return failure();
      auto ax = (*axes)->toInts();
      std::vector<int64_t> full(2 * rank, 0);
      if (pads.size() != 2 * ax.size())
        return nodeError() << "pads and axes sizes disagree", failure();
      for (size_t i = 0; i < ax.size(); ++i) {
        int64_t a = ax[i] < 0 ? ax[i] + rank : ax[i];
        full[a] = pads[i];
        full[a + rank] = pads[i + ax.size()];
      }
      pads = full;
    }
  }
  if (static_cast<int64_t>(pads.size()) != 2 * rank)
    return nodeError() << "pads has " << pads.size() << " values for rank "
                       << rank,
           failure();
  SmallVector<int64_t> padding, shape;
  for (int64_t d = 0; d < rank; ++d) {
    if (pads[d] < 0 || pads[d + rank] < 0)
      return unsupported("negative pads (cropping)");
    padding.push_back(pads[d]);
    padding.push_back(pads[d + rank]);
    int64_t size;
    if (__builtin_add_overflow((*x)->shape[d], pads[d], &size) ||
        __builtin_add_overflow(size, pads[d + rank], &size))
      return nodeError() << "pads " << pads[d] << " and " << pads[d + rank]
                         << " overflow dimension " << d,
             failure();
    shape.push_back(size);
  }
  Value y = create<tosa::PadOp>(
      tensorType(shape, (*x)->kind),
      {valueOf(**x), constShape(padding), scalarConst((*x)->kind, value)});
  setOutput(0, y, (*x)->kind, shape);
  return success();
}

LogicalResult Importer::importSoftmax() {
  if (failed(checkAttributes({"axis"})))
    return failure();
  auto x = requireInput(0);
  if (failed(x))
    return failure();
  if ((*x)->kind != ElemKind::F32)
    return unsupported("element type: float32 only");
  SmallVector<int64_t> xs = (*x)->shape;
  int64_t rank = xs.size();
  int64_t axis = attrInt("axis", opset < 13 ? 1 : -1);
  if (axis < 0)
    axis += rank;
  if (axis < 0 || axis >= rank)
    return nodeError() << "axis out of range for rank " << rank, failure();
  Value v = valueOf(**x);
  SmallVector<int64_t> work = xs;
  if (opset < 13) {
    // Before opset 13 the input is coerced to 2-D at `axis`.
    int64_t outer = 1, inner = 1;
    for (int64_t i = 0; i < rank; ++i)
      (i < axis ? outer : inner) *= xs[i];
    work = {outer, inner};
    v = reshape(v, work);
    axis = 1;
  }
  auto type = tensorType(work, ElemKind::F32);
  SmallVector<int64_t> reduced = work;
  reduced[axis] = 1;
  auto rtype = tensorType(reduced, ElemKind::F32);
  auto axisAttr = named("axis", b.getI32IntegerAttr(static_cast<int32_t>(axis)));
  Value m = create<tosa::ReduceMaxOp>(rtype, {v}, {axisAttr});
  Value e = create<tosa::ExpOp>(type, {create<tosa::SubOp>(type, {v, m})});
  Value s = create<tosa::ReduceSumOp>(rtype, {e}, {axisAttr});
  HostTensor zero(ElemKind::I8, {1});
  Value y = create<tosa::MulOp>(
      type, {e, create<tosa::ReciprocalOp>(rtype, {s}), materialize(zero)});
  y = reshape(y, xs);
  setOutput(0, y, ElemKind::F32, xs);
  return success();
}

LogicalResult Importer::importIdentity() {
  auto x = requireInput(0);
  if (failed(x))
    return failure();
  values[node->output(0)] = **x;
  values[node->output(0)].graphInput.clear();
  return success();
}

LogicalResult Importer::importDropout() {
  if (failed(checkAttributes({"ratio", "seed", "is_test"})))
    return failure();
  // Inference: the identity, with an all-true mask when asked for.
  if (input(2)) {
    auto training = constantInput(2, "training_mode");
    if (failed(training))
      return failure();
    if ((*training)->numElements() && (*training)->getInt(0) != 0)
      return unsupported("training_mode = true");
  }
  auto x = requireInput(0);
  if (failed(x))
    return failure();
  values[node->output(0)] = **x;
  values[node->output(0)].graphInput.clear();
  if (node->output_size() > 1 && !node->output(1).empty()) {
    HostTensor mask(ElemKind::I1, (*x)->shape);
    for (int64_t i = 0; i < mask.numElements(); ++i)
      mask.setInt(i, 1);
    setConstantOutput(1, std::move(mask));
  }
  return success();
}

LogicalResult Importer::importSqueeze(bool unsqueeze) {
  if (failed(checkAttributes({"axes"})))
    return failure();
  auto x = requireInput(0);
  if (failed(x))
    return failure();
  std::vector<int64_t> axes;
  if (auto a = attrInts("axes")) {
    axes.assign(a->begin(), a->end());
  } else if (input(1)) {
    auto a2 = constantInput(1, "axes");
    if (failed(a2))
      return failure();
    axes = (*a2)->toInts();
  } else if (unsqueeze) {
    return nodeError() << "missing 'axes'", failure();
  }
  SmallVector<int64_t> xs = (*x)->shape, shape;
  if (unsqueeze) {
    int64_t rank = xs.size() + axes.size();
    SmallVector<bool> isNew(rank, false);
    for (int64_t a : axes) {
      if (a < 0)
        a += rank;
      if (a < 0 || a >= rank || isNew[a])
        return nodeError() << "invalid axes", failure();
      isNew[a] = true;
    }
    for (int64_t i = 0, j = 0; i < rank; ++i)
      shape.push_back(isNew[i] ? 1 : xs[j++]);
  } else {
    int64_t rank = xs.size();
    SmallVector<bool> drop(rank, false);
    if (axes.empty()) {
      for (int64_t i = 0; i < rank; ++i)
        drop[i] = xs[i] == 1;
    }
    for (int64_t a : axes) {
      if (a < 0)
        a += rank;
      if (a < 0 || a >= rank || xs[a] != 1)
        return nodeError() << "cannot squeeze axis " << a << " of "
                           << shapeToString(xs),
               failure();
      drop[a] = true;
    }
    for (int64_t i = 0; i < rank; ++i)
      if (!drop[i])
        shape.push_back(xs[i]);
  }
  if ((*x)->constant) {
    setConstantOutput(0, (*x)->constant->reshaped(shape));
    return success();
  }
  setOutput(0, reshape(valueOf(**x), shape), (*x)->kind, shape);
  return success();
}

LogicalResult Importer::importShape() {
  if (failed(checkAttributes({"start", "end"})))
    return failure();
  auto x = requireInput(0);
  if (failed(x))
    return failure();
  int64_t rank = (*x)->shape.size();
  int64_t start = attrInt("start", 0), end = attrInt("end", rank);
  if (start < 0)
    start += rank;
  if (end < 0)
    end += rank;
  start = std::clamp<int64_t>(start, 0, rank);
  end = std::clamp<int64_t>(end, 0, rank);
  int64_t n = std::max<int64_t>(end - start, 0);
  HostTensor out(ElemKind::I64, {n});
  for (int64_t i = 0; i < n; ++i)
    out.setInt(i, (*x)->shape[start + i]);
  setConstantOutput(0, std::move(out));
  return success();
}

LogicalResult Importer::importGather() {
  if (failed(checkAttributes({"axis"})))
    return failure();
  auto x = requireInput(0);
  if (failed(x))
    return failure();
  auto idx = constantInput(1, "indices");
  if (failed(idx))
    return failure();
  SmallVector<int64_t> xs = (*x)->shape;
  int64_t rank = xs.size();
  int64_t axis = attrInt("axis", 0);
  if (axis < 0)
    axis += rank;
  if (axis < 0 || axis >= rank)
    return nodeError() << "axis out of range", failure();
  std::vector<int64_t> indices = (*idx)->toInts();
  for (int64_t &i : indices) {
    if (i < 0)
      i += xs[axis];
    if (i < 0 || i >= xs[axis])
      return nodeError() << "index out of range", failure();
  }
  // out shape = xs[:axis] + indices.shape + xs[axis+1:]
  SmallVector<int64_t> shape(xs.begin(), xs.begin() + axis);
  shape.append((*idx)->shape().begin(), (*idx)->shape().end());
  shape.append(xs.begin() + axis + 1, xs.end());
  int64_t outer = numElements(ArrayRef<int64_t>(xs).take_front(axis));
  int64_t inner = numElements(ArrayRef<int64_t>(xs).drop_front(axis + 1));
  if ((*x)->constant) {
    HostTensor out((*x)->kind, shape);
    size_t es = elemSize((*x)->kind);
    const char *src = static_cast<const char *>((*x)->constant->raw());
    char *dst = static_cast<char *>(out.raw());
    for (int64_t o = 0; o < outer; ++o)
      for (size_t k = 0; k < indices.size(); ++k)
        std::memcpy(dst + ((o * indices.size() + k) * inner) * es,
                    src + ((o * xs[axis] + indices[k]) * inner) * es,
                    inner * es);
    setConstantOutput(0, std::move(out));
    return success();
  }
  // Runtime data with constant indices: one slice per index, concatenated.
  Value v = valueOf(**x);
  SmallVector<Value> parts;
  SmallVector<int64_t> sliceShape = xs;
  sliceShape[axis] = 1;
  for (int64_t i : indices) {
    SmallVector<int64_t> start(rank, 0);
    start[axis] = i;
    parts.push_back(create<tosa::SliceOp>(
        tensorType(sliceShape, (*x)->kind),
        {v, constShape(start), constShape(sliceShape)}));
  }
  SmallVector<int64_t> catShape = xs;
  catShape[axis] = indices.size();
  Value y = parts.size() == 1
                ? parts[0]
                : create<tosa::ConcatOp>(
                      tensorType(catShape, (*x)->kind), parts,
                      {named("axis", b.getI32IntegerAttr(
                                         static_cast<int32_t>(axis)))});
  y = reshape(y, shape);
  setOutput(0, y, (*x)->kind, shape);
  return success();
}

LogicalResult Importer::importConstantOfShape() {
  if (failed(checkAttributes({"value"})))
    return failure();
  auto s = constantInput(0, "shape");
  if (failed(s))
    return failure();
  std::vector<int64_t> shape = (*s)->toInts();
  for (int64_t d : shape)
    if (d < 0)
      return nodeError() << "negative dimension in shape", failure();
  HostTensor fill(ElemKind::F32, {1});
  if (const auto *a = attr("value")) {
    auto t = tensorFromProto(a->t());
    if (failed(t))
      return failure();
    fill = std::move(*t);
  }
  if (fill.numElements() != 1)
    return nodeError() << "'value' must hold one element, not "
                       << fill.numElements(),
           failure();
  // The constant is made on the host: refuse what cannot be allocated.
  std::string tooLarge = tensorSizeError(fill.kind(), shape);
  if (!tooLarge.empty())
    return nodeError() << tooLarge, failure();
  HostTensor out(fill.kind(), SmallVector<int64_t>(shape.begin(), shape.end()));
  size_t es = elemSize(fill.kind());
  for (int64_t i = 0; i < out.numElements(); ++i)
    std::memcpy(static_cast<char *>(out.raw()) + i * es, fill.raw(), es);
  setConstantOutput(0, std::move(out));
  return success();
}

LogicalResult Importer::importCast() {
  if (failed(checkAttributes({"to", "saturate"})))
    return failure();
  auto x = requireInput(0);
  if (failed(x))
    return failure();
  if (!attr("to"))
    return nodeError() << "missing 'to'", failure();
  auto to = kindOfOnnx(static_cast<int32_t>(attrInt("to", 1)), "Cast 'to'");
  if (failed(to))
    return failure();
  if ((*x)->constant) {
    setConstantOutput(0, (*x)->constant->castTo(*to));
    return success();
  }
  if (*to == (*x)->kind) {
    values[node->output(0)] = **x;
    values[node->output(0)].graphInput.clear();
    return success();
  }
  if (*to == ElemKind::F64 || (*x)->kind == ElemKind::F64)
    return unsupported("float64 tensors at run time");
  if (isFloatKind((*x)->kind) && !isFloatKind(*to))
    return unsupported("Cast from float to integer at run time (ONNX "
                       "truncates, TOSA rounds)");
  Value y = create<tosa::CastOp>(tensorType((*x)->shape, *to), {valueOf(**x)});
  setOutput(0, y, *to, (*x)->shape);
  return success();
}

LogicalResult Importer::importConstant() {
  const onnx::AttributeProto *a = node->attribute_size() == 1
                                      ? &node->attribute(0)
                                      : nullptr;
  if (!a)
    return nodeError() << "needs exactly one value attribute", failure();
  HostTensor t;
  if (a->name() == "value") {
    auto v = tensorFromProto(a->t());
    if (failed(v))
      return failure();
    t = std::move(*v);
  } else if (a->name() == "value_float") {
    t = HostTensor(ElemKind::F32, {});
    t.setDouble(0, a->f());
  } else if (a->name() == "value_floats") {
    t = HostTensor(ElemKind::F32, {a->floats_size()});
    for (int i = 0; i < a->floats_size(); ++i)
      t.setDouble(i, a->floats(i));
  } else if (a->name() == "value_int") {
    t = HostTensor(ElemKind::I64, {});
    t.setInt(0, a->i());
  } else if (a->name() == "value_ints") {
    t = HostTensor(ElemKind::I64, {a->ints_size()});
    for (int i = 0; i < a->ints_size(); ++i)
      t.setInt(i, a->ints(i));
  } else {
    return unsupported("Constant attribute '" + a->name() + "'");
  }
  setConstantOutput(0, std::move(t));
  return success();
}

LogicalResult Importer::importSlice() {
  if (failed(checkAttributes({"starts", "ends", "axes"})))
    return failure();
  auto x = requireInput(0);
  if (failed(x))
    return failure();
  std::vector<int64_t> starts, ends, axes, steps;
  if (opset < 10) {
    auto s = attrInts("starts"), e = attrInts("ends");
    if (!s || !e)
      return nodeError() << "missing 'starts'/'ends'", failure();
    starts.assign(s->begin(), s->end());
    ends.assign(e->begin(), e->end());
    if (auto a = attrInts("axes"))
      axes.assign(a->begin(), a->end());
  } else {
    auto s = constantInput(1, "starts");
    auto e = constantInput(2, "ends");
    if (failed(s) || failed(e))
      return failure();
    starts = (*s)->toInts();
    ends = (*e)->toInts();
    if (input(3)) {
      auto a = constantInput(3, "axes");
      if (failed(a))
        return failure();
      axes = (*a)->toInts();
    }
    if (input(4)) {
      auto st = constantInput(4, "steps");
      if (failed(st))
        return failure();
      steps = (*st)->toInts();
    }
  }
  int64_t rank = (*x)->shape.size();
  if (axes.empty())
    for (size_t i = 0; i < starts.size(); ++i)
      axes.push_back(i);
  if (starts.size() != ends.size() || axes.size() != starts.size())
    return nodeError() << "starts, ends and axes sizes differ", failure();
  for (int64_t s : steps)
    if (s != 1)
      return unsupported("Slice steps other than 1");
  SmallVector<int64_t> begin(rank, 0), size((*x)->shape);
  for (size_t i = 0; i < axes.size(); ++i) {
    int64_t a = axes[i] < 0 ? axes[i] + rank : axes[i];
    if (a < 0 || a >= rank)
      return nodeError() << "axis out of range", failure();
    int64_t dim = (*x)->shape[a];
    int64_t s = starts[i] < 0 ? starts[i] + dim : starts[i];
    int64_t e = ends[i] < 0 ? ends[i] + dim : ends[i];
    s = std::clamp<int64_t>(s, 0, dim);
    e = std::clamp<int64_t>(e, 0, dim);
    begin[a] = s;
    size[a] = std::max<int64_t>(e - s, 0);
  }
  if ((*x)->constant) {
    HostTensor out((*x)->kind, size);
    ::lowbit::rt::slice((*x)->constant->raw(), out.raw(), elemSize((*x)->kind),
                        (*x)->constant->shape().data(), static_cast<int>(rank),
                        begin.data(), size.data());
    setConstantOutput(0, std::move(out));
    return success();
  }
  Value y = create<tosa::SliceOp>(tensorType(size, (*x)->kind),
                                  {valueOf(**x), constShape(begin),
                                   constShape(size)});
  setOutput(0, y, (*x)->kind, size);
  return success();
}

//===----------------------------------------------------------------------===//
// Quantize / dequantize
//===----------------------------------------------------------------------===//

LogicalResult Importer::importQuantizeLinear() {
  if (failed(checkAttributes({"axis", "saturate"})))
    return failure();
  auto x = requireInput(0);
  auto scale = nonEmptyConstantInput(1, "y_scale");
  if (failed(x) || failed(scale))
    return failure();
  if ((*x)->kind != ElemKind::F32)
    return unsupported(std::string("input element type ") +
                       elemName((*x)->kind).str() + " (float32 only)");
  const HostTensor *zp = nullptr;
  ElemKind storage = ElemKind::U8;
  if (input(2)) {
    auto z = nonEmptyConstantInput(2, "y_zero_point");
    if (failed(z))
      return failure();
    zp = *z;
    storage = zp->kind();
  }
  if (storage != ElemKind::U8 && storage != ElemKind::I8)
    return unsupported(std::string("output type ") +
                       elemName(storage).str() + " (uint8/int8 only)");
  int64_t rank = (*x)->shape.size();
  int64_t axis = attrInt("axis", 1);
  if (axis < 0)
    axis += rank;
  bool perAxis = (*scale)->numElements() > 1 || (*scale)->rank() == 1;
  if (perAxis && (axis < 0 || axis >= rank ||
                  (*x)->shape[axis] != (*scale)->numElements()))
    return nodeError() << "scale of " << (*scale)->numElements()
                       << " values does not match axis " << axis
                       << " of " << shapeToString((*x)->shape),
           failure();
  std::string why;
  auto qt = makeQuantType(ctx, storage, **scale, zp,
                          perAxis && (*scale)->numElements() > 1 ? axis : -1,
                          why);
  if (failed(qt))
    return nodeError() << why, failure();
  // lowbit.quantize rather than quant.qcast: upstream canonicalization folds
  // quant.dcast(quant.qcast(x)) to x, which would erase the rounding a Q/DQ
  // pair stands for.
  Value q = create<mlir::lowbit::QuantizeOp>(
      RankedTensorType::get((*x)->shape, *qt), {valueOf(**x)});
  Value s = storageCast(q, tensorType((*x)->shape, storage));
  setOutput(0, s, storage, (*x)->shape);
  return success();
}

LogicalResult Importer::importDequantizeLinear() {
  if (failed(checkAttributes({"axis"})))
    return failure();
  auto x = requireInput(0);
  auto scale = nonEmptyConstantInput(1, "x_scale");
  if (failed(x) || failed(scale))
    return failure();
  ElemKind storage = (*x)->kind;
  if (storage != ElemKind::U8 && storage != ElemKind::I8 &&
      storage != ElemKind::I32)
    return unsupported(std::string("input element type ") +
                       elemName(storage).str() + " (uint8/int8/int32)");
  const HostTensor *zp = nullptr;
  if (input(2)) {
    auto z = nonEmptyConstantInput(2, "x_zero_point");
    if (failed(z))
      return failure();
    zp = *z;
  }
  int64_t rank = (*x)->shape.size();
  int64_t axis = attrInt("axis", 1);
  if (axis < 0)
    axis += rank;
  bool perAxis = (*scale)->numElements() > 1;
  if (perAxis && (axis < 0 || axis >= rank ||
                  (*x)->shape[axis] != (*scale)->numElements()))
    return nodeError() << "scale of " << (*scale)->numElements()
                       << " values does not match axis " << axis
                       << " of " << shapeToString((*x)->shape),
           failure();
  std::string why;
  auto qt = makeQuantType(ctx, storage, **scale, zp, perAxis ? axis : -1, why);
  if (failed(qt))
    return nodeError() << why, failure();
  // Constant data (weights) must dequantize to finite float32 values: a
  // scale that overflows them would turn every later result into inf/NaN.
  if (const std::optional<HostTensor> &w = (*x)->constant) {
    int64_t n = w->numElements();
    int64_t channels = perAxis ? (*x)->shape[axis] : 1;
    int64_t inner = 1;
    for (int64_t d = perAxis ? axis + 1 : rank; d < rank; ++d)
      inner *= (*x)->shape[d];
    for (int64_t e = 0; e < n; ++e) {
      int64_t c = perAxis ? (e / inner) % channels : 0;
      double s = static_cast<float>((*scale)->getDouble(c));
      int64_t z = zp ? zp->getInt(c) : 0;
      double real = static_cast<double>(w->getInt(e) - z) * s;
      if (std::isfinite(static_cast<float>(real)))
        continue;
      return nodeError() << "x_scale " << s << " dequantizes element " << e
                         << " of '" << node->input(0) << "' (" << w->getInt(e)
                         << ", zero point " << z << ") to " << real
                         << ", beyond the float32 range",
             failure();
    }
  }
  Value q = storageCast(valueOf(**x), RankedTensorType::get((*x)->shape, *qt));
  // 8-bit storage uses lowbit.dequantize (paired with lowbit.quantize, see
  // importQuantizeLinear); int32 (biases) is beyond lowbit's activation
  // widths and stays a quant.dcast.
  Value d = storage == ElemKind::I32
                ? create<quant::DequantizeCastOp>(
                      tensorType((*x)->shape, ElemKind::F32), {q})
                : create<mlir::lowbit::DequantizeOp>(
                      tensorType((*x)->shape, ElemKind::F32), {q});
  setOutput(0, d, ElemKind::F32, (*x)->shape);
  return success();
}

//===----------------------------------------------------------------------===//
// Entry point
//===----------------------------------------------------------------------===//

OwningOpRef<ModuleOp>
(::lowbit::importONNXFile)(StringRef path,
                                             MLIRContext &context,
                                             const ONNXImportOptions &options) {
  context.loadDialect<func::FuncDialect, tosa::TosaDialect,
                      quant::QuantDialect, mlir::lowbit::LowBitDialect>();
  Location fileLoc = FileLineColLoc::get(&context, path, 0, 0);
  auto buffer = llvm::MemoryBuffer::getFile(path, /*IsText=*/false,
                                            /*RequiresNullTerminator=*/false);
  if (!buffer) {
    mlir::emitError(fileLoc) << "cannot open ONNX model: "
                             << buffer.getError().message();
    return nullptr;
  }
  StringRef bytes = (*buffer)->getBuffer();
  if (bytes.size() > static_cast<size_t>(std::numeric_limits<int>::max())) {
    mlir::emitError(fileLoc) << "model larger than 2 GiB is not supported "
                                "(protobuf limit; use external data)";
    return nullptr;
  }
  onnx::ModelProto model;
  if (!model.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    mlir::emitError(fileLoc)
        << "not a valid ONNX model (protobuf parse failed: the file is "
           "truncated, corrupt or not an ONNX ModelProto)";
    return nullptr;
  }
  // The message holds its own copy of everything: release the file.
  buffer->reset();
  if (!model.has_graph() || model.graph().node_size() == 0) {
    mlir::emitError(fileLoc)
        << "not a valid ONNX model (no graph or an empty graph)";
    return nullptr;
  }
  Importer importer(context, model, path, options);
  return importer.run();
}
