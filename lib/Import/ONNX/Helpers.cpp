//===- Helpers.cpp - Importer helpers -------------------------------------===//
//
// Part of the lowbit project.
//
//===----------------------------------------------------------------------===//
//
// Diagnostics, graph values, constants, attributes and the IR-building
// helpers the op handlers share, with the handler prologues.
//
//===----------------------------------------------------------------------===//

#include "ImporterImpl.h"

#include "lowbit/runtime/Kernels.h"

#include "mlir/Dialect/Tosa/IR/TosaOps.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectResourceBlobManager.h"

#include <cstring>
#include <limits>

using namespace mlir;
using namespace ::lowbit;
using namespace ::lowbit::onnx_import;

/// Constants at most this large are printed inline; larger ones become dense
/// resources (one copy of the bytes, printed as a blob).
static constexpr int64_t kInlineConstantLimit = 64;

//===----------------------------------------------------------------------===//
// Values and constants
//===----------------------------------------------------------------------===//

FailureOr<ElemKind> Importer::kindOfOnnx(int32_t dataType, StringRef what) {
  switch (dataType) {
  case onnx::TensorProto::FLOAT:
    return ElemKind::F32;
  case onnx::TensorProto::DOUBLE:
    return ElemKind::F64;
  case onnx::TensorProto::BOOL:
    return ElemKind::I1;
  case onnx::TensorProto::INT8:
    return ElemKind::I8;
  case onnx::TensorProto::UINT8:
    return ElemKind::U8;
  case onnx::TensorProto::INT16:
    return ElemKind::I16;
  case onnx::TensorProto::UINT16:
    return ElemKind::U16;
  case onnx::TensorProto::INT32:
    return ElemKind::I32;
  case onnx::TensorProto::UINT32:
    return ElemKind::U32;
  case onnx::TensorProto::INT64:
    return ElemKind::I64;
  default:
    break;
  }
  std::string name =
      onnx::TensorProto::DataType_IsValid(dataType)
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
  size_t available =
      t.has_raw_data()
          ? t.raw_data().size() / elemSize(*kind)
          : static_cast<size_t>(std::max(
                {t.float_data_size(), t.double_data_size(), t.int32_data_size(),
                 t.int64_data_size(), t.uint64_data_size()}));
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

FailureOr<std::vector<int64_t>> Importer::integersOf(const HostTensor *t,
                                                     StringRef role) {
  if (isFloatKind(t->kind()))
    return nodeError() << "input '" << role
                       << "' must be an integer tensor (int64)",
           failure();
  return t->toInts();
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

FailureOr<const HostTensor *> Importer::optionalConstantInput(int i,
                                                              StringRef role) {
  if (!input(i))
    return static_cast<const HostTensor *>(nullptr);
  return constantInput(i, role);
}

FailureOr<const HostTensor *>
Importer::optionalNonEmptyConstantInput(int i, StringRef role) {
  if (!input(i))
    return static_cast<const HostTensor *>(nullptr);
  return nonEmptyConstantInput(i, role);
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

Value Importer::mulShift() {
  return materialize(HostTensor(ElemKind::I8, {1}));
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
      RankedTensorType::get(shape, t.getElementType()), {v, constShape(shape)});
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

void Importer::forwardInput(const TensorInfo &x) {
  TensorInfo out = x;
  out.graphInput.clear();
  values[node->output(0)] = std::move(out);
}

LogicalResult Importer::setReshapedOutput(TensorInfo &x,
                                          ArrayRef<int64_t> shape) {
  if (x.constant) {
    setConstantOutput(0, x.constant->reshaped(shape));
    return success();
  }
  setOutput(0, reshape(valueOf(x), shape), x.kind, shape);
  return success();
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

Importer::AttrType Importer::attributeType(const onnx::AttributeProto &a) {
  if (a.type() != onnx::AttributeProto::UNDEFINED)
    return a.type();
  // IR version 1 left `type` unset: the one value field that is set says
  // what the attribute is (ONNX's own readers did the same).
  SmallVector<AttrType, 2> set;
  if (a.has_f())
    set.push_back(onnx::AttributeProto::FLOAT);
  if (a.has_i())
    set.push_back(onnx::AttributeProto::INT);
  if (a.has_s())
    set.push_back(onnx::AttributeProto::STRING);
  if (a.has_t())
    set.push_back(onnx::AttributeProto::TENSOR);
  if (a.has_g())
    set.push_back(onnx::AttributeProto::GRAPH);
  if (a.floats_size())
    set.push_back(onnx::AttributeProto::FLOATS);
  if (a.ints_size())
    set.push_back(onnx::AttributeProto::INTS);
  if (a.strings_size())
    set.push_back(onnx::AttributeProto::STRINGS);
  if (a.tensors_size())
    set.push_back(onnx::AttributeProto::TENSORS);
  if (a.graphs_size())
    set.push_back(onnx::AttributeProto::GRAPHS);
  return set.size() == 1 ? set[0] : onnx::AttributeProto::UNDEFINED;
}

/// "FLOAT", "INTS", ...
static std::string attrTypeName(int type) {
  return onnx::AttributeProto::AttributeType_IsValid(type)
             ? onnx::AttributeProto::AttributeType_Name(
                   static_cast<onnx::AttributeProto::AttributeType>(type))
             : std::to_string(type);
}

FailureOr<const onnx::AttributeProto *> Importer::typedAttr(StringRef name,
                                                            AttrType type) {
  const onnx::AttributeProto *a = attr(name);
  if (!a)
    return a;
  AttrType given = attributeType(*a);
  if (given == type)
    return a;
  auto diag = nodeError();
  diag << "attribute '" << name << "' ";
  if (given == onnx::AttributeProto::UNDEFINED)
    diag << "has no type";
  else
    diag << "has type " << attrTypeName(given);
  diag << "; " << node->op_type() << " expects " << attrTypeName(type);
  return failure();
}

FailureOr<int64_t> Importer::attrInt(StringRef name, int64_t def) {
  auto a = typedAttr(name, onnx::AttributeProto::INT);
  if (failed(a))
    return failure();
  return *a ? (*a)->i() : def;
}

FailureOr<int64_t> Importer::attrAxis(StringRef name, int64_t def,
                                      int64_t rank) {
  auto axis = attrInt(name, def);
  if (failed(axis))
    return failure();
  return *axis < 0 ? *axis + rank : *axis;
}

LogicalResult Importer::normalizeAxis(int64_t &axis, int64_t rank) {
  if (axis < -rank || axis >= rank)
    return nodeError() << "axis " << axis << " is out of range for rank "
                       << rank,
           failure();
  if (axis < 0)
    axis += rank;
  return success();
}

FailureOr<float> Importer::attrFloat(StringRef name, float def) {
  auto a = typedAttr(name, onnx::AttributeProto::FLOAT);
  if (failed(a))
    return failure();
  return *a ? (*a)->f() : def;
}

FailureOr<std::string> Importer::attrString(StringRef name, StringRef def) {
  auto a = typedAttr(name, onnx::AttributeProto::STRING);
  if (failed(a))
    return failure();
  return *a ? (*a)->s() : def.str();
}

FailureOr<std::optional<SmallVector<int64_t>>>
Importer::attrInts(StringRef name) {
  auto a = typedAttr(name, onnx::AttributeProto::INTS);
  if (failed(a))
    return failure();
  if (!*a)
    return std::optional<SmallVector<int64_t>>();
  return std::optional<SmallVector<int64_t>>(
      SmallVector<int64_t>((*a)->ints().begin(), (*a)->ints().end()));
}

FailureOr<std::optional<SmallVector<float>>>
Importer::attrFloats(StringRef name) {
  auto a = typedAttr(name, onnx::AttributeProto::FLOATS);
  if (failed(a))
    return failure();
  if (!*a)
    return std::optional<SmallVector<float>>();
  return std::optional<SmallVector<float>>(
      SmallVector<float>((*a)->floats().begin(), (*a)->floats().end()));
}

LogicalResult
Importer::checkAttributes(std::initializer_list<StringRef> known) {
  llvm::StringSet<> seen;
  for (const auto &a : node->attribute()) {
    if (llvm::find(known, StringRef(a.name())) == known.end())
      return unsupported("attribute '" + a.name() + "'");
    // Which of two values a reader takes is up to the reader: ONNX's
    // checker rejects the node.
    if (!seen.insert(a.name()).second)
      return nodeError() << "attribute '" << a.name()
                         << "' is given more than once",
             failure();
  }
  return success();
}

LogicalResult Importer::checkAttributeTypes(
    std::initializer_list<std::pair<StringRef, AttrType>> attrs) {
  for (const auto &[name, type] : attrs)
    if (failed(typedAttr(name, type)))
      return failure();
  return success();
}

FailureOr<int64_t> Importer::requiredAttrInt(StringRef name) {
  auto a = typedAttr(name, onnx::AttributeProto::INT);
  if (failed(a))
    return failure();
  if (!*a)
    return nodeError() << "missing '" << name << "'", failure();
  return (*a)->i();
}

FailureOr<SmallVector<int64_t>> Importer::requiredAttrInts(StringRef name) {
  auto v = attrInts(name);
  if (failed(v))
    return failure();
  if (!*v)
    return nodeError() << "missing '" << name << "'", failure();
  return std::move(**v);
}

//===----------------------------------------------------------------------===//
// Handler prologues
//===----------------------------------------------------------------------===//

LogicalResult Importer::requireF32(const TensorInfo &t) {
  if (t.kind != ElemKind::F32)
    return unsupported("element type: float32 only");
  return success();
}

LogicalResult Importer::unsupportedElemType(ElemKind kind, StringRef suffix) {
  return unsupported(std::string("element type ") + elemName(kind).str() +
                     suffix.str());
}

LogicalResult Importer::requireInt8(ElemKind kind) {
  if (kind != ElemKind::U8 && kind != ElemKind::I8)
    return unsupportedElemType(kind, " (uint8/int8 only)");
  return success();
}

FailureOr<TensorInfo *>
Importer::attributesAndInput(std::initializer_list<StringRef> known) {
  if (failed(checkAttributes(known)))
    return failure();
  return requireInput(0);
}

FailureOr<TensorInfo *>
Importer::attributesAndF32Input(std::initializer_list<StringRef> known) {
  auto x = attributesAndInput(known);
  if (failed(x) || failed(requireF32(**x)))
    return failure();
  return x;
}

bool Importer::isRead(StringRef name) const {
  for (const auto &n : model.graph().node())
    for (const std::string &in : n.input())
      if (in == name)
        return true;
  for (const auto &out : model.graph().output())
    if (out.name() == name)
      return true;
  return false;
}
