//===- Evaluator.cpp - Reference evaluator for lowbit IR ------------------===//
//
// Part of the lowbit project.
//
//===----------------------------------------------------------------------===//
//
// A straight-line interpreter: ops run in block order, each result lives
// until its last use. Data movement, convolutions, matrix products and pools
// call runtime/ kernels; every rescaling calls runtime/Requant.h.
//
// Float semantics follow TOSA (elementwise ops in float32, NaN propagates
// through clamp and pools); integer semantics follow TOSA and the lowbit op
// definitions (dialects/LowBit/README.md).
//
//===----------------------------------------------------------------------===//

#include "lowbit/Evaluator/Evaluator.h"

#include "LowBit/IR/LowBitOps.h"
#include "LowBit/Transforms/FloatFallback.h"
#include "LowBit/Utils/ConstantReader.h"
#include "lowbit/runtime/Kernels.h"
#include "lowbit/runtime/Ops.h"
#include "lowbit/runtime/Requant.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Quant/IR/Quant.h"
#include "mlir/Dialect/Quant/IR/QuantTypes.h"
#include "mlir/Dialect/Tosa/IR/TosaOps.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/Threading.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/TypeSwitch.h"

#include <array>
#include <cmath>
#include <limits>

using namespace mlir;
using namespace ::lowbit;
namespace rt = ::lowbit::rt;
using mlir::lowbit::zeroPointOf;
using llvm::SmallVector;

EvaluationObserver::~EvaluationObserver() = default;

namespace {

using TensorPtr = std::shared_ptr<const HostTensor>;

ElemKind kindOf(Value v) {
  return *elemKindOf(cast<ShapedType>(v.getType()).getElementType());
}
ArrayRef<int64_t> shapeOf(Value v) {
  return cast<ShapedType>(v.getType()).getShape();
}

/// TOSA / lowbit resize geometry from NHWC shapes, scale [n_y, d_y, n_x,
/// d_x] and offset [y, x].
rt::ResizeShape resizeShape(ArrayRef<int64_t> in, ArrayRef<int64_t> out,
                            ArrayRef<int64_t> scale, ArrayRef<int64_t> offset) {
  return {in[0],
          in[1],
          in[2],
          in[3],
          out[1],
          out[2],
          {scale[0], scale[1], offset[0]},
          {scale[2], scale[3], offset[1]}};
}

/// Calls `fn(T())` with T the C++ type of an integer kind that quantized
/// storage can have (returns false for other kinds).
template <typename Fn> bool withStorageKind(ElemKind kind, Fn &&fn) {
  switch (kind) {
  case ElemKind::U8: fn(uint8_t()); return true;
  case ElemKind::I8: fn(int8_t()); return true;
  case ElemKind::I16: fn(int16_t()); return true;
  case ElemKind::U16: fn(uint16_t()); return true;
  default: return false;
  }
}
/// Same for storage and accumulator kinds.
template <typename Fn> bool withIntKind(ElemKind kind, Fn &&fn) {
  switch (kind) {
  case ElemKind::I32: fn(int32_t()); return true;
  case ElemKind::I64: fn(int64_t()); return true;
  default: return withStorageKind(kind, fn);
  }
}

/// Calls `fn(T())` with T the C++ storage type of `kind`.
template <typename Fn> auto withKind(ElemKind kind, Fn &&fn) {
  switch (kind) {
  case ElemKind::F32: return fn(float());
  case ElemKind::F64: return fn(double());
  case ElemKind::I1:
  case ElemKind::U8: return fn(uint8_t());
  case ElemKind::I8: return fn(int8_t());
  case ElemKind::I16: return fn(int16_t());
  case ElemKind::U16: return fn(uint16_t());
  case ElemKind::I32: return fn(int32_t());
  case ElemKind::U32: return fn(uint32_t());
  case ElemKind::I64: return fn(int64_t());
  }
  return fn(float());
}

/// Strides of `in` inside a broadcast to `out` (equal ranks; size-1
/// dimensions get stride 0).
SmallVector<int64_t, 6> broadcastStrides(ArrayRef<int64_t> in,
                                         ArrayRef<int64_t> out) {
  SmallVector<int64_t, 6> strides(out.size(), 0);
  int64_t s = 1;
  for (int64_t d = static_cast<int64_t>(in.size()) - 1; d >= 0; --d) {
    strides[d] = in[d] == 1 && out[d] != 1 ? 0 : s;
    s *= in[d];
  }
  return strides;
}

/// Calls f(outIndex, offsets) over a broadcast of N inputs.
template <size_t N, typename F>
void forEachBroadcast(ArrayRef<int64_t> outShape,
                      const std::array<SmallVector<int64_t, 6>, N> &strides,
                      F &&f) {
  int64_t total = numElements(outShape);
  int64_t rank = outShape.size();
  SmallVector<int64_t, 6> counter(rank, 0);
  std::array<int64_t, N> off{};
  for (int64_t i = 0; i < total; ++i) {
    f(i, off);
    for (int64_t d = rank - 1; d >= 0; --d) {
      ++counter[d];
      for (size_t k = 0; k < N; ++k)
        off[k] += strides[k][d];
      if (counter[d] < outShape[d])
        break;
      for (size_t k = 0; k < N; ++k)
        off[k] -= strides[k][d] * outShape[d];
      counter[d] = 0;
    }
  }
}

/// Whether `data` can back a HostTensor::view.
bool viewable(ArrayRef<char> data) {
  return reinterpret_cast<uintptr_t>(data.data()) % alignof(uint64_t) == 0;
}

/// Converts an ElementsAttr (dense, splat or resource) into a host tensor.
/// Elements the attribute holds as they are stored on the host are viewed
/// in place (attributes and resource blobs outlive the evaluator), not
/// copied.
FailureOr<HostTensor> fromAttr(Location loc, ElementsAttr attr,
                               ShapedType resultType) {
  auto kind = elemKindOf(resultType.getElementType());
  if (!kind)
    return emitError(loc) << "evaluator: unsupported element type "
                          << resultType.getElementType(),
           failure();
  const int64_t count = numElements(resultType.getShape());
  const size_t bytes = static_cast<size_t>(count) * elemSize(*kind);
  Type storedType = cast<ShapedType>(attr.getType()).getElementType();
  auto subByte = [](Type t) {
    auto it = dyn_cast<IntegerType>(t);
    return it && it.getWidth() < 8 && it.getWidth() > 1 && !it.isUnsigned();
  };
  if (auto dense = dyn_cast<DenseElementsAttr>(attr);
      dense && !dense.isSplat() && !storedType.isInteger(1) &&
      !subByte(storedType) && dense.getRawData().size() == bytes &&
      viewable(dense.getRawData()))
    return HostTensor::view(*kind, resultType.getShape(),
                            dense.getRawData().data());
  if (auto resource = dyn_cast<DenseResourceElementsAttr>(attr))
    if (AsmResourceBlob *blob = resource.getRawHandle().getBlob();
        blob && blob->getData().size() == bytes && viewable(blob->getData()))
      return HostTensor::view(*kind, resultType.getShape(),
                              blob->getData().data());
  HostTensor t(*kind, resultType.getShape());
  if (auto dense = dyn_cast<DenseElementsAttr>(attr)) {
    if (storedType.isInteger(1)) {
      int64_t i = 0;
      for (bool v : dense.getValues<bool>())
        t.setInt(i++, v);
      if (dense.isSplat())
        for (; i < t.numElements(); ++i)
          t.setInt(i, dense.getSplatValue<bool>());
      return t;
    }
    ArrayRef<char> raw = dense.getRawData();
    size_t es = elemSize(*kind);
    if (dense.isSplat()) {
      for (int64_t i = 0; i < t.numElements(); ++i)
        std::memcpy(static_cast<char *>(t.raw()) + i * es, raw.data(), es);
      return t;
    }
    if (raw.size() != t.byteSize())
      return emitError(loc) << "evaluator: constant of " << storedType
                            << " does not match its type",
             failure();
    std::memcpy(t.raw(), raw.data(), raw.size());
    // Sub-byte integers (i2..i7) are stored one per byte without sign
    // extension: extend them here.
    if (auto it = dyn_cast<IntegerType>(storedType);
        it && it.getWidth() < 8 && it.getWidth() > 1 && !it.isUnsigned()) {
      unsigned w = it.getWidth();
      auto *p = t.data<int8_t>();
      for (int64_t i = 0, e = t.numElements(); i < e; ++i)
        p[i] = static_cast<int8_t>(static_cast<int8_t>(p[i] << (8 - w)) >>
                                   (8 - w));
    }
    return t;
  }
  if (auto resource = dyn_cast<DenseResourceElementsAttr>(attr)) {
    AsmResourceBlob *blob = resource.getRawHandle().getBlob();
    if (!blob)
      return emitError(loc) << "evaluator: constant resource '"
                            << resource.getRawHandle().getKey()
                            << "' has no data",
             failure();
    ArrayRef<char> data = blob->getData();
    if (data.size() != t.byteSize())
      return emitError(loc) << "evaluator: constant resource holds "
                            << data.size() << " bytes, expected "
                            << t.byteSize(),
             failure();
    std::memcpy(t.raw(), data.data(), data.size());
    return t;
  }
  return emitError(loc) << "evaluator: unsupported constant attribute",
         failure();
}

/// Scale and zero point of element `flat` of a tensor of `shape` quantized
/// with per-tensor or per-axis `q`.
struct QuantView {
  quant::QuantizedType q;
  ArrayRef<int64_t> shape;
  int64_t inner = 1; // product of dims after the quantized axis
  int64_t axisSize = 1;
  static FailureOr<QuantView> get(Location loc, Type elt,
                                  ArrayRef<int64_t> shape) {
    QuantView v;
    v.q = dyn_cast<quant::QuantizedType>(elt);
    v.shape = shape;
    if (auto a = dyn_cast_or_null<quant::UniformQuantizedPerAxisType>(v.q)) {
      int32_t axis = a.getQuantizedDimension();
      for (size_t d = axis + 1; d < shape.size(); ++d)
        v.inner *= shape[d];
      v.axisSize = shape[axis];
      return v;
    }
    if (isa_and_nonnull<quant::UniformQuantizedType>(v.q))
      return v;
    return emitError(loc) << "evaluator: unsupported quantized type " << elt,
           failure();
  }
  double scale(int64_t flat) const {
    if (auto u = dyn_cast<quant::UniformQuantizedType>(q))
      return u.getScale();
    auto a = cast<quant::UniformQuantizedPerAxisType>(q);
    return a.getScales()[(flat / inner) % axisSize];
  }
  int64_t zeroPoint(int64_t flat) const {
    if (auto u = dyn_cast<quant::UniformQuantizedType>(q))
      return u.getZeroPoint();
    auto a = cast<quant::UniformQuantizedPerAxisType>(q);
    return a.getZeroPoints()[(flat / inner) % axisSize];
  }
};

/// Kernel geometry of an NHWC convolution; `pad` is [top, bottom, left,
/// right] as in TOSA and lowbit.
rt::Conv2DShape convShape(ArrayRef<int64_t> in, ArrayRef<int64_t> out,
                          int64_t kh, int64_t kw, ArrayRef<int64_t> stride,
                          ArrayRef<int64_t> pad, ArrayRef<int64_t> dilation,
                          int64_t groups) {
  rt::Conv2DShape s{};
  s.n = in[0];
  s.h = in[1];
  s.w = in[2];
  s.c = in[3];
  s.oh = out[1];
  s.ow = out[2];
  s.oc = out[3];
  s.kh = kh;
  s.kw = kw;
  s.strideH = stride[0];
  s.strideW = stride[1];
  s.dilationH = dilation[0];
  s.dilationW = dilation[1];
  s.padTop = pad[0];
  s.padLeft = pad[2];
  s.groups = groups;
  return s;
}

/// Runs `kernel(s, in, out)` for a convolution of geometry `s` in bands of
/// output rows, in parallel when the convolution is large. Each band is the
/// same kernel on a shape with fewer output rows (and the top padding moved
/// by the rows before it), so every output pixel is computed exactly as by
/// one call over the whole tensor.
template <typename T, typename Kernel>
void convInBands(MLIRContext *ctx, const rt::Conv2DShape &s, int64_t inC,
                 const float *in, T *out, Kernel &&kernel) {
  const int64_t rows = s.n * s.oh;
  // Multiply-adds of one output row.
  const int64_t rowWork = s.ow * s.oc * s.kh * s.kw * inC;
  const int64_t bands = std::min<int64_t>(
      rows, ctx->isMultithreadingEnabled() && rows * rowWork >= (1 << 20)
                ? 4 * static_cast<int64_t>(ctx->getNumThreads())
                : 1);
  if (bands <= 1) {
    kernel(s, in, out);
    return;
  }
  mlir::parallelFor(ctx, 0, static_cast<size_t>(bands), [&](size_t band) {
    int64_t begin = rows * static_cast<int64_t>(band) / bands;
    int64_t end = rows * static_cast<int64_t>(band + 1) / bands;
    // Split the band at image boundaries (one kernel call per image).
    while (begin < end) {
      int64_t b = begin / s.oh, y = begin % s.oh;
      int64_t count = std::min(end - begin, s.oh - y);
      rt::Conv2DShape part = s;
      part.n = 1;
      part.oh = count;
      part.padTop = s.padTop - y * s.strideH;
      kernel(part, in + b * s.h * s.w * s.c,
             out + ((b * s.oh + y) * s.ow) * s.oc);
      begin += count;
    }
  });
}

} // namespace

struct Evaluator::Impl {
  llvm::DenseMap<Operation *, TensorPtr> constants;
  /// Weights of the convolutions and fully connected layers with log / STLQ
  /// codes.
  llvm::DenseMap<Operation *,
                 std::shared_ptr<const mlir::lowbit::PackedLogWeights>>
      logWeights;
  /// For each op, the values whose last use it is.
  llvm::DenseMap<Operation *, SmallVector<Value, 2>> dying;
  llvm::DenseMap<Value, TensorPtr> env;

  LogicalResult prepare(func::FuncOp func);
  LogicalResult execute(Operation *op);
  const HostTensor &get(Value v) { return *env.find(v)->second; }
  void set(Value v, HostTensor t) {
    env[v] = std::make_shared<const HostTensor>(std::move(t));
  }
  FailureOr<std::vector<int64_t>> shapeValues(Operation *op, Value v);
  template <typename T> T scalarOf(Value v) {
    const HostTensor &t = get(v);
    return static_cast<T>(isFloatKind(t.kind()) ? t.getDouble(0)
                                                : t.getInt(0));
  }

  // Op groups.
  LogicalResult binary(Operation *op);
  LogicalResult unary(Operation *op);
  LogicalResult conv(Operation *op, bool depthwise);
  LogicalResult matmul(tosa::MatMulOp op);
  LogicalResult pool(Operation *op, bool isMax);
  LogicalResult reduce(Operation *op, bool isMax);
  LogicalResult castOp(tosa::CastOp op);
  LogicalResult clamp(tosa::ClampOp op);
  LogicalResult quantOps(Operation *op);
  LogicalResult lowbitOp(Operation *op);
};

Evaluator::Evaluator(func::FuncOp func) : func(func) {}
Evaluator::~Evaluator() = default;

FailureOr<std::unique_ptr<Evaluator>> Evaluator::create(func::FuncOp func) {
  std::unique_ptr<Evaluator> e(new Evaluator(func));
  e->impl = std::make_unique<Impl>();
  if (failed(e->impl->prepare(func)))
    return failure();
  return e;
}

std::unique_ptr<Evaluator> Evaluator::clone() const {
  std::unique_ptr<Evaluator> e(new Evaluator(func));
  e->impl = std::make_unique<Impl>();
  e->impl->constants = impl->constants; // shared, immutable tensors
  e->impl->logWeights = impl->logWeights;
  e->impl->dying = impl->dying;
  return e;
}

LogicalResult Evaluator::Impl::prepare(func::FuncOp func) {
  if (!func.getBody().hasOneBlock())
    return func.emitError("evaluator: functions with control flow are not "
                          "supported"),
           failure();
  for (BlockArgument arg : func.getArguments())
    if (!isa<RankedTensorType>(arg.getType()) ||
        !cast<RankedTensorType>(arg.getType()).hasStaticShape() ||
        !elemKindOf(cast<RankedTensorType>(arg.getType()).getElementType()))
      return func.emitError("evaluator: argument ")
                 << arg.getArgNumber() << " of type " << arg.getType()
                 << " is not a static tensor of a supported element type",
             failure();
  // Every value is allocated on the host: refuse the ones that cannot be
  // before running anything.
  auto checkSize = [](Type type) -> std::string {
    auto t = dyn_cast<RankedTensorType>(type);
    if (!t)
      return "";
    return tensorSizeError(*elemKindOf(t.getElementType()), t.getShape());
  };
  for (BlockArgument arg : func.getArguments())
    if (std::string why = checkSize(arg.getType()); !why.empty())
      return func.emitError("evaluator: argument ")
                 << arg.getArgNumber() << ": " << why,
             failure();
  llvm::DenseMap<Value, Operation *> lastUser;
  for (Operation &op : func.getBody().front()) {
    for (Value v : op.getOperands())
      lastUser[v] = &op;
    for (Value r : op.getResults()) {
      auto t = dyn_cast<RankedTensorType>(r.getType());
      bool shapeValue = isa<tosa::shapeType>(r.getType());
      if (!shapeValue && (!t || !t.hasStaticShape() ||
                          !elemKindOf(t.getElementType())))
        return op.emitError("evaluator: result type ")
                   << r.getType() << " is not supported",
               failure();
      if (std::string why = checkSize(r.getType()); !why.empty())
        return op.emitError("evaluator: cannot hold the result: ") << why,
               failure();
    }
    bool supported =
        isa<func::ReturnOp, tosa::ConstOp, tosa::ConstShapeOp,
            arith::ConstantOp, mlir::lowbit::ConstantOp, tosa::AddOp, tosa::SubOp,
            tosa::MulOp, tosa::MaximumOp, tosa::MinimumOp, tosa::IntDivOp,
            tosa::GreaterEqualOp, tosa::GreaterOp, tosa::EqualOp,
            tosa::SelectOp, tosa::ReciprocalOp, tosa::ExpOp, tosa::SigmoidOp,
            tosa::TanhOp, tosa::NegateOp, tosa::AbsOp, tosa::FloorOp,
            tosa::CeilOp, tosa::ClampOp, tosa::CastOp, tosa::Conv2DOp,
            tosa::DepthwiseConv2DOp, tosa::MatMulOp, tosa::MaxPool2dOp,
            tosa::AvgPool2dOp, tosa::ReduceMaxOp, tosa::ReduceSumOp,
            tosa::TransposeOp, tosa::ReshapeOp, tosa::SliceOp, tosa::PadOp,
            tosa::ConcatOp, tosa::TileOp, tosa::ResizeOp, quant::QuantizeCastOp,
            quant::DequantizeCastOp, quant::StorageCastOp, mlir::lowbit::RequantOp,
            mlir::lowbit::QuantizeOp, mlir::lowbit::DequantizeOp, mlir::lowbit::ClampOp,
            mlir::lowbit::ReshapeOp, mlir::lowbit::TransposeOp, mlir::lowbit::ConcatOp, mlir::lowbit::SliceOp, mlir::lowbit::PadOp, mlir::lowbit::ResizeOp, mlir::lowbit::MaxPoolOp,
            mlir::lowbit::AvgPoolOp, mlir::lowbit::GlobalAvgPoolOp, mlir::lowbit::Conv2DOp,
            mlir::lowbit::FullyConnectedOp, mlir::lowbit::AddOp, mlir::lowbit::PReluOp,
            mlir::lowbit::BitcastOp>(op);
    if (!supported)
      return op.emitError("evaluator: unsupported op '")
                 << op.getName() << "'",
             failure();
    // Log / STLQ weights: decoded and packed once.
    auto conv = dyn_cast<mlir::lowbit::Conv2DOp>(op);
    auto fc = dyn_cast<mlir::lowbit::FullyConnectedOp>(op);
    if ((conv && conv.getWeightEncoding()) || (fc && fc.getWeightEncoding())) {
      auto packed = mlir::lowbit::getPackedLogWeights(&op);
      if (failed(packed))
        return failure();
      logWeights[&op] =
          std::make_shared<const mlir::lowbit::PackedLogWeights>(
              std::move(*packed));
    }
    // Constants are converted once.
    ElementsAttr attr;
    if (auto c = dyn_cast<tosa::ConstOp>(op))
      attr = c.getValues();
    else if (auto c = dyn_cast<arith::ConstantOp>(op))
      attr = dyn_cast<ElementsAttr>(c.getValue());
    else if (auto c = dyn_cast<mlir::lowbit::ConstantOp>(op))
      attr = c.getValue();
    if (isa<tosa::ConstOp, arith::ConstantOp, mlir::lowbit::ConstantOp>(op)) {
      if (!attr)
        return op.emitError("evaluator: unsupported constant"), failure();
      auto t = fromAttr(op.getLoc(), attr,
                        cast<ShapedType>(op.getResult(0).getType()));
      if (failed(t))
        return failure();
      constants[&op] = std::make_shared<const HostTensor>(std::move(*t));
    }
  }
  for (auto [v, user] : lastUser)
    dying[user].push_back(v);
  return success();
}

FailureOr<std::vector<HostTensor>>
Evaluator::run(ArrayRef<HostTensor> inputs, EvaluationObserver *observer) {
  Impl &I = *impl;
  I.env.clear();
  if (inputs.size() != func.getNumArguments())
    return func.emitError("evaluator: expected ")
               << func.getNumArguments() << " inputs, got " << inputs.size(),
           failure();
  for (auto [i, arg] : llvm::enumerate(func.getArguments())) {
    auto type = cast<RankedTensorType>(arg.getType());
    if (inputs[i].shape() != type.getShape() ||
        inputs[i].kind() != *elemKindOf(type.getElementType()))
      return func.emitError("evaluator: input ")
                 << i << " is " << elemName(inputs[i].kind()) << " "
                 << shapeToString(inputs[i].shape()) << ", expected "
                 << type,
             failure();
    I.env[arg] = std::make_shared<const HostTensor>(inputs[i]);
  }
  std::vector<HostTensor> outputs;
  for (Operation &op : func.getBody().front()) {
    if (auto ret = dyn_cast<func::ReturnOp>(op)) {
      for (Value v : ret.getOperands())
        outputs.push_back(I.get(v));
      break;
    }
    if (failed(I.execute(&op)))
      return failure();
    if (observer)
      for (auto [i, r] : llvm::enumerate(op.getResults()))
        if (!isa<tosa::shapeType>(r.getType()))
          observer->onResult(&op, i, I.get(r));
    if (auto it = I.dying.find(&op); it != I.dying.end())
      for (Value v : it->second)
        I.env.erase(v);
  }
  I.env.clear();
  return outputs;
}

FailureOr<std::vector<int64_t>> Evaluator::Impl::shapeValues(Operation *op,
                                                             Value v) {
  auto it = env.find(v);
  if (it == env.end())
    return op->emitError("evaluator: shape operand is not a tosa.const_shape"),
           failure();
  return it->second->toInts();
}

//===----------------------------------------------------------------------===//
// Dispatch
//===----------------------------------------------------------------------===//

LogicalResult Evaluator::Impl::execute(Operation *op) {
  if (auto it = constants.find(op); it != constants.end()) {
    env[op->getResult(0)] = it->second;
    return success();
  }
  if (auto cs = dyn_cast<tosa::ConstShapeOp>(op)) {
    auto attr = cast<DenseIntElementsAttr>(cs.getValues());
    HostTensor t(ElemKind::I64, {attr.getNumElements()});
    int64_t i = 0;
    for (const APInt &v : attr.getValues<APInt>())
      t.setInt(i++, v.getSExtValue());
    set(cs.getResult(), std::move(t));
    return success();
  }
  if (isa<tosa::AddOp, tosa::SubOp, tosa::MulOp, tosa::MaximumOp,
          tosa::MinimumOp, tosa::IntDivOp, tosa::GreaterEqualOp,
          tosa::GreaterOp, tosa::EqualOp, tosa::SelectOp>(op))
    return binary(op);
  if (isa<tosa::ReciprocalOp, tosa::ExpOp, tosa::SigmoidOp, tosa::TanhOp,
          tosa::NegateOp, tosa::AbsOp, tosa::FloorOp, tosa::CeilOp>(op))
    return unary(op);
  if (isa<quant::QuantizeCastOp, quant::DequantizeCastOp,
          quant::StorageCastOp>(op))
    return quantOps(op);
  if (op->getDialect() &&
      op->getDialect()->getNamespace() == mlir::lowbit::LowBitDialect::getDialectNamespace())
    return lowbitOp(op);

  return llvm::TypeSwitch<Operation *, LogicalResult>(op)
      .Case<tosa::ClampOp>([&](auto o) { return clamp(o); })
      .Case<tosa::CastOp>([&](auto o) { return castOp(o); })
      .Case<tosa::Conv2DOp>([&](auto o) { return conv(o, false); })
      .Case<tosa::DepthwiseConv2DOp>([&](auto o) { return conv(o, true); })
      .Case<tosa::MatMulOp>([&](auto o) { return matmul(o); })
      .Case<tosa::MaxPool2dOp>([&](auto o) { return pool(o, true); })
      .Case<tosa::AvgPool2dOp>([&](auto o) { return pool(o, false); })
      .Case<tosa::ReduceMaxOp>([&](auto o) { return reduce(o, true); })
      .Case<tosa::ReduceSumOp>([&](auto o) { return reduce(o, false); })
      .Case<tosa::TransposeOp>([&](tosa::TransposeOp o) {
        const HostTensor &in = get(o.getInput1());
        HostTensor out(in.kind(), shapeOf(o.getResult()));
        rt::transpose(in.raw(), out.raw(), elemSize(in.kind()),
                      in.shape().data(), o.getPerms().data(),
                      static_cast<int>(in.rank()));
        set(o.getResult(), std::move(out));
        return success();
      })
      .Case<tosa::ReshapeOp>([&](tosa::ReshapeOp o) {
        set(o.getResult(), get(o.getInput1()).reshaped(shapeOf(o.getResult())));
        return success();
      })
      .Case<tosa::SliceOp>([&](tosa::SliceOp o) -> LogicalResult {
        auto start = shapeValues(o, o.getStart());
        if (failed(start))
          return failure();
        const HostTensor &in = get(o.getInput1());
        SmallVector<int64_t> size(shapeOf(o.getResult()));
        for (int64_t d = 0; d < in.rank(); ++d)
          if ((*start)[d] < 0 || (*start)[d] + size[d] > in.shape()[d])
            return o.emitError("evaluator: slice out of bounds"), failure();
        HostTensor out(in.kind(), size);
        rt::slice(in.raw(), out.raw(), elemSize(in.kind()), in.shape().data(),
                  static_cast<int>(in.rank()), start->data(), size.data());
        set(o.getResult(), std::move(out));
        return success();
      })
      .Case<tosa::PadOp>([&](tosa::PadOp o) -> LogicalResult {
        auto padding = shapeValues(o, o.getPadding());
        if (failed(padding))
          return failure();
        const HostTensor &in = get(o.getInput1());
        const HostTensor &pv = get(o.getPadConst());
        SmallVector<int64_t> before, after;
        for (int64_t d = 0; d < in.rank(); ++d) {
          before.push_back((*padding)[2 * d]);
          after.push_back((*padding)[2 * d + 1]);
          if (before.back() < 0 || after.back() < 0)
            return o.emitError("evaluator: negative padding"), failure();
        }
        HostTensor out(in.kind(), shapeOf(o.getResult()));
        rt::pad(in.raw(), out.raw(), elemSize(in.kind()), in.shape().data(),
                static_cast<int>(in.rank()), before.data(), after.data(),
                pv.raw());
        set(o.getResult(), std::move(out));
        return success();
      })
      .Case<tosa::ResizeOp>([&](tosa::ResizeOp o) -> LogicalResult {
        auto scale = shapeValues(o, o.getScale());
        auto offset = shapeValues(o, o.getOffset());
        if (failed(scale) || failed(offset))
          return failure();
        const HostTensor &in = get(o.getInput());
        HostTensor out(in.kind(), shapeOf(o.getOutput()));
        rt::ResizeShape s = resizeShape(in.shape(), out.shape(), *scale,
                                        *offset);
        if (s.y.n < 1 || s.x.n < 1)
          return o.emitError("evaluator: resize scale numerators must be "
                             "positive"),
                 failure();
        if (o.getMode() == tosa::ResizeMode::NEAREST_NEIGHBOR)
          rt::resizeNearest(in.raw(), out.raw(), elemSize(in.kind()), s);
        else if (in.kind() == ElemKind::F32)
          rt::resizeBilinearF32(in.data<float>(), out.data<float>(), s);
        else
          return o.emitError("evaluator: integer tosa.resize is not "
                             "supported (lowbit.resize is)"),
                 failure();
        set(o.getOutput(), std::move(out));
        return success();
      })
      .Case<tosa::ConcatOp>([&](tosa::ConcatOp o) {
        SmallVector<const void *> ptrs;
        SmallVector<const int64_t *> shapes;
        for (Value v : o.getInput1()) {
          ptrs.push_back(get(v).raw());
          shapes.push_back(get(v).shape().data());
        }
        HostTensor out(kindOf(o.getResult()), shapeOf(o.getResult()));
        rt::concat(ptrs.data(), shapes.data(), static_cast<int>(ptrs.size()),
                   out.raw(), elemSize(out.kind()),
                   static_cast<int>(out.rank()),
                   static_cast<int>(o.getAxis()));
        set(o.getResult(), std::move(out));
        return success();
      })
      .Case<tosa::TileOp>([&](tosa::TileOp o) {
        const HostTensor &in = get(o.getInput1());
        HostTensor out(in.kind(), shapeOf(o.getResult()));
        size_t es = elemSize(in.kind());
        SmallVector<int64_t, 6> strides(in.rank(), 1);
        for (int64_t d = in.rank() - 2; d >= 0; --d)
          strides[d] = strides[d + 1] * in.shape()[d + 1];
        ArrayRef<int64_t> os = out.shape();
        SmallVector<int64_t, 6> counter(os.size(), 0);
        for (int64_t i = 0, e = out.numElements(); i < e; ++i) {
          int64_t src = 0;
          for (size_t d = 0; d < os.size(); ++d)
            src += (counter[d] % in.shape()[d]) * strides[d];
          std::memcpy(static_cast<char *>(out.raw()) + i * es,
                      static_cast<const char *>(in.raw()) + src * es, es);
          for (int64_t d = os.size() - 1; d >= 0; --d) {
            if (++counter[d] < os[d])
              break;
            counter[d] = 0;
          }
        }
        set(o.getResult(), std::move(out));
        return success();
      })
      .Default([&](Operation *o) {
        return o->emitError("evaluator: unsupported op '")
                   << o->getName() << "'",
               failure();
      });
}

//===----------------------------------------------------------------------===//
// Elementwise
//===----------------------------------------------------------------------===//

LogicalResult Evaluator::Impl::binary(Operation *op) {
  Value result = op->getResult(0);
  ArrayRef<int64_t> outShape = shapeOf(result);
  ElemKind outKind = kindOf(result);
  if (auto sel = dyn_cast<tosa::SelectOp>(op)) {
    const HostTensor &c = get(sel.getInput1());
    const HostTensor &a = get(sel.getInput2());
    const HostTensor &b = get(sel.getInput3());
    HostTensor out(outKind, outShape);
    std::array<SmallVector<int64_t, 6>, 3> strides = {
        broadcastStrides(c.shape(), outShape),
        broadcastStrides(a.shape(), outShape),
        broadcastStrides(b.shape(), outShape)};
    size_t es = elemSize(outKind);
    const uint8_t *cp = c.data<uint8_t>();
    forEachBroadcast<3>(outShape, strides, [&](int64_t i, auto off) {
      const HostTensor &src = cp[off[0]] ? a : b;
      int64_t o = cp[off[0]] ? off[1] : off[2];
      std::memcpy(static_cast<char *>(out.raw()) + i * es,
                  static_cast<const char *>(src.raw()) + o * es, es);
    });
    set(result, std::move(out));
    return success();
  }
  const HostTensor &a = get(op->getOperand(0));
  const HostTensor &b = get(op->getOperand(1));
  ElemKind inKind = a.kind();
  std::array<SmallVector<int64_t, 6>, 2> strides = {
      broadcastStrides(a.shape(), outShape),
      broadcastStrides(b.shape(), outShape)};
  HostTensor out(outKind, outShape);
  int32_t mulShift = 0;
  if (auto mul = dyn_cast<tosa::MulOp>(op))
    mulShift = scalarOf<int32_t>(mul.getShift());
  if (mulShift != 0 && inKind != ElemKind::I32)
    return op->emitError("evaluator: tosa.mul shift applies to i32 only"),
           failure();
  bool divByZero = false;
  std::optional<rt::BinaryKind> floatKind = mlir::lowbit::floatBinaryKind(op);
  bool isCompare = isa<tosa::GreaterEqualOp, tosa::GreaterOp, tosa::EqualOp>(op);
  withKind(inKind, [&](auto tag) {
    using T = decltype(tag);
    const T *pa = a.data<T>();
    const T *pb = b.data<T>();
    constexpr bool isFloat = std::is_floating_point_v<T>;
    auto compute = [&](T x, T y) -> T {
      if constexpr (std::is_same_v<T, float>) {
        // The runtime's rule (what the C++ target's float fallback runs).
        return floatKind ? rt::binaryF32(*floatKind, x, y) : x;
      } else if constexpr (isFloat) {
        if (isa<tosa::AddOp>(op)) return x + y;
        if (isa<tosa::SubOp>(op)) return x - y;
        if (isa<tosa::MulOp>(op)) return x * y;
        if (isa<tosa::MaximumOp>(op))
          return std::isnan(x) || std::isnan(y) ? x + y : std::max(x, y);
        if (isa<tosa::MinimumOp>(op))
          return std::isnan(x) || std::isnan(y) ? x + y : std::min(x, y);
        return x;
      } else {
        // Integer arithmetic wraps in the element type (done on uint64_t,
        // where wrapping is defined, so that int64 overflows are not UB).
        int64_t X = x, Y = y;
        auto wrap = [](uint64_t v) { return static_cast<T>(v); };
        if (isa<tosa::AddOp>(op))
          return wrap(uint64_t(X) + uint64_t(Y));
        if (isa<tosa::SubOp>(op))
          return wrap(uint64_t(X) - uint64_t(Y));
        if (isa<tosa::MulOp>(op)) {
          if (mulShift > 0) {
            int64_t r = (X * Y + (int64_t(1) << (mulShift - 1))) >> mulShift;
            return static_cast<T>(r);
          }
          return wrap(uint64_t(X) * uint64_t(Y));
        }
        if (isa<tosa::MaximumOp>(op)) return static_cast<T>(std::max(X, Y));
        if (isa<tosa::MinimumOp>(op)) return static_cast<T>(std::min(X, Y));
        if (isa<tosa::IntDivOp>(op)) {
          if (Y == 0) {
            divByZero = true;
            return 0;
          }
          // INT64_MIN / -1 traps in hardware; it wraps like the rest.
          if (Y == -1)
            return wrap(0 - uint64_t(X));
          return static_cast<T>(X / Y);
        }
        return x;
      }
    };
    if (isCompare) {
      uint8_t *po = out.data<uint8_t>();
      forEachBroadcast<2>(outShape, strides, [&](int64_t i, auto off) {
        T x = pa[off[0]], y = pb[off[1]];
        bool r = isa<tosa::GreaterEqualOp>(op) ? x >= y
                 : isa<tosa::GreaterOp>(op)    ? x > y
                                               : x == y;
        po[i] = r;
      });
      return 0;
    }
    T *po = out.data<T>();
    if (a.shape() == outShape && b.shape() == outShape) {
      for (int64_t i = 0, e = out.numElements(); i < e; ++i)
        po[i] = compute(pa[i], pb[i]);
    } else {
      forEachBroadcast<2>(outShape, strides, [&](int64_t i, auto off) {
        po[i] = compute(pa[off[0]], pb[off[1]]);
      });
    }
    return 0;
  });
  if (divByZero)
    return op->emitError("evaluator: integer division by zero"), failure();
  set(result, std::move(out));
  return success();
}

LogicalResult Evaluator::Impl::unary(Operation *op) {
  const HostTensor &in = get(op->getOperand(0));
  HostTensor out(in.kind(), in.shape());
  if (in.kind() != ElemKind::F32) {
    if (!isa<tosa::NegateOp, tosa::AbsOp>(op))
      return op->emitError("evaluator: ")
                 << op->getName() << " on " << elemName(in.kind())
                 << " is not supported",
             failure();
    for (int64_t i = 0; i < in.numElements(); ++i) {
      int64_t v = in.getInt(i);
      int64_t neg = static_cast<int64_t>(0 - static_cast<uint64_t>(v));
      out.setInt(i, isa<tosa::NegateOp>(op) ? neg : (v < 0 ? neg : v));
    }
    set(op->getResult(0), std::move(out));
    return success();
  }
  std::optional<rt::UnaryKind> kind = mlir::lowbit::floatUnaryKind(op);
  if (!kind)
    return op->emitError("evaluator: ") << op->getName() << " is not supported",
           failure();
  rt::unaryTensorF32(in.data<float>(), out.data<float>(), in.numElements(),
                     *kind);
  set(op->getResult(0), std::move(out));
  return success();
}

LogicalResult Evaluator::Impl::clamp(tosa::ClampOp op) {
  const HostTensor &in = get(op.getInput());
  HostTensor out(in.kind(), in.shape());
  Attribute lo = op.getMinValAttr(), hi = op.getMaxValAttr();
  if (in.kind() == ElemKind::F32) {
    float l = cast<FloatAttr>(lo).getValue().convertToFloat();
    float h = cast<FloatAttr>(hi).getValue().convertToFloat();
    const float *p = in.data<float>();
    float *o = out.data<float>();
    for (int64_t i = 0, e = in.numElements(); i < e; ++i)
      o[i] = std::isnan(p[i]) ? p[i] : std::min(std::max(p[i], l), h);
  } else {
    int64_t l = cast<IntegerAttr>(lo).getValue().getSExtValue();
    int64_t h = cast<IntegerAttr>(hi).getValue().getSExtValue();
    if (!isSignedIntKind(in.kind())) {
      l = cast<IntegerAttr>(lo).getValue().getZExtValue();
      h = cast<IntegerAttr>(hi).getValue().getZExtValue();
    }
    for (int64_t i = 0, e = in.numElements(); i < e; ++i)
      out.setInt(i, std::min(std::max(in.getInt(i), l), h));
  }
  set(op.getResult(), std::move(out));
  return success();
}

LogicalResult Evaluator::Impl::castOp(tosa::CastOp op) {
  const HostTensor &in = get(op.getInput());
  ElemKind to = kindOf(op.getResult());
  HostTensor out(to, in.shape());
  bool fromFloat = isFloatKind(in.kind());
  bool toFloat = isFloatKind(to);
  unsigned bits = elemSize(to) * 8;
  for (int64_t i = 0, e = in.numElements(); i < e; ++i) {
    if (to == ElemKind::I1) {
      out.setInt(i, fromFloat ? in.getDouble(i) != 0.0 : in.getInt(i) != 0);
    } else if (fromFloat && !toFloat) {
      // TOSA: round to nearest, ties to even, then saturate.
      double v = std::nearbyint(in.getDouble(i));
      double lo = static_cast<double>(rt::storageMin(bits, isSignedIntKind(to)));
      double hi = static_cast<double>(rt::storageMax(bits, isSignedIntKind(to)));
      if (std::isnan(v))
        v = 0;
      out.setInt(i, static_cast<int64_t>(std::min(std::max(v, lo), hi)));
    } else if (toFloat) {
      out.setDouble(i, fromFloat ? in.getDouble(i)
                                 : static_cast<double>(in.getInt(i)));
    } else {
      out.setInt(i, in.getInt(i)); // integer narrowing truncates
    }
  }
  set(op.getResult(), std::move(out));
  return success();
}

//===----------------------------------------------------------------------===//
// Convolutions, matrix products, pools, reductions
//===----------------------------------------------------------------------===//

/// Runs an integer kernel over (input kind, weight kind, accumulator kind).
template <typename Fn>
static bool withIntKinds(ElemKind in, ElemKind w, ElemKind acc, Fn &&fn) {
  auto withW = [&](auto ti) {
    auto withAcc = [&](auto tw) {
      if (acc == ElemKind::I32)
        return fn(ti, tw, int32_t()), true;
      if (acc == ElemKind::I64)
        return fn(ti, tw, int64_t()), true;
      return false;
    };
    switch (w) {
    case ElemKind::I8: return withAcc(int8_t());
    case ElemKind::U8: return withAcc(uint8_t());
    case ElemKind::I16: return withAcc(int16_t());
    default: return false;
    }
  };
  switch (in) {
  case ElemKind::I8: return withW(int8_t());
  case ElemKind::U8: return withW(uint8_t());
  case ElemKind::I16: return withW(int16_t());
  default: return false;
  }
}

LogicalResult Evaluator::Impl::conv(Operation *op, bool depthwise) {
  Value inV = op->getOperand(0), wV = op->getOperand(1), bV = op->getOperand(2);
  const HostTensor &in = get(inV);
  const HostTensor &w = get(wV);
  const HostTensor &bias = get(bV);
  ArrayRef<int64_t> pad, stride, dilation;
  if (auto c = dyn_cast<tosa::Conv2DOp>(op)) {
    pad = c.getPad();
    stride = c.getStride();
    dilation = c.getDilation();
  } else {
    auto d = cast<tosa::DepthwiseConv2DOp>(op);
    pad = d.getPad();
    stride = d.getStride();
    dilation = d.getDilation();
  }
  Value result = op->getResult(0);
  ArrayRef<int64_t> os = shapeOf(result);
  rt::Conv2DShape s = convShape(in.shape(), os,
                                depthwise ? w.shape()[0] : w.shape()[1],
                                depthwise ? w.shape()[1] : w.shape()[2],
                                stride, pad, dilation, /*groups=*/1);
  int64_t multiplier = depthwise ? w.shape()[3] : 1;
  // The output size must be what the padding and stride give.
  auto expect = [](int64_t in, int64_t k, int64_t st, int64_t pb, int64_t pa,
                   int64_t d) { return (in + pb + pa - d * (k - 1) - 1) / st + 1; };
  if (expect(s.h, s.kh, s.strideH, pad[0], pad[1], s.dilationH) != s.oh ||
      expect(s.w, s.kw, s.strideW, pad[2], pad[3], s.dilationW) != s.ow)
    return op->emitError("evaluator: result shape does not match the "
                         "convolution geometry"),
           failure();
  if (bias.numElements() != s.oc && bias.numElements() != 1)
    return op->emitError("evaluator: bias size does not match the channels"),
           failure();
  HostTensor out(kindOf(result), os);
  // A bias of one element broadcasts (TOSA allows it).
  HostTensor fullBias = bias;
  if (bias.numElements() == 1 && s.oc != 1) {
    fullBias = HostTensor(bias.kind(), {s.oc});
    for (int64_t i = 0; i < s.oc; ++i)
      fullBias.setDouble(i, bias.getDouble(0));
    if (!isFloatKind(bias.kind()))
      for (int64_t i = 0; i < s.oc; ++i)
        fullBias.setInt(i, bias.getInt(0));
  }
  if (in.kind() == ElemKind::F32) {
    if (w.kind() != ElemKind::F32 || out.kind() != ElemKind::F32)
      return op->emitError("evaluator: mixed float convolution types"),
             failure();
    const float *wp = w.data<float>(), *bp = fullBias.data<float>();
    MLIRContext *ctx = op->getContext();
    if (depthwise)
      convInBands(ctx, s, 1, in.data<float>(), out.data<float>(),
                  [&](const rt::Conv2DShape &part, const float *inP,
                      float *outP) {
                    rt::depthwiseConv2dF32(inP, wp, bp, outP, part,
                                           multiplier);
                  });
    else
      convInBands(ctx, s, s.c, in.data<float>(), out.data<float>(),
                  [&](const rt::Conv2DShape &part, const float *inP,
                      float *outP) {
                    rt::conv2dF32(inP, wp, bp, outP, part);
                  });
    set(result, std::move(out));
    return success();
  }
  int32_t inZp = scalarOf<int32_t>(op->getOperand(3));
  int32_t wZp = scalarOf<int32_t>(op->getOperand(4));
  if (fullBias.kind() != out.kind())
    fullBias = fullBias.castTo(out.kind());
  bool ok = withIntKinds(in.kind(), w.kind(), out.kind(), [&](auto ti, auto tw,
                                                              auto ta) {
    using TI = decltype(ti);
    using TW = decltype(tw);
    using TA = decltype(ta);
    if (depthwise)
      rt::depthwiseConv2dInt<TI, TW, TA>(in.data<TI>(), w.data<TW>(),
                                         fullBias.data<TA>(), inZp, wZp,
                                         out.data<TA>(), s, multiplier);
    else
      rt::conv2dInt<TI, TW, TA>(in.data<TI>(), w.data<TW>(),
                                fullBias.data<TA>(), inZp, wZp, out.data<TA>(),
                                s);
  });
  if (!ok)
    return op->emitError("evaluator: integer convolution of ")
               << elemName(in.kind()) << " x " << elemName(w.kind()) << " -> "
               << elemName(out.kind()) << " is not supported",
           failure();
  set(result, std::move(out));
  return success();
}

LogicalResult Evaluator::Impl::matmul(tosa::MatMulOp op) {
  const HostTensor &a = get(op.getA());
  const HostTensor &b = get(op.getB());
  ArrayRef<int64_t> os = shapeOf(op.getResult());
  HostTensor out(kindOf(op.getResult()), os);
  int64_t batch = a.shape()[0], m = a.shape()[1], k = a.shape()[2],
          n = b.shape()[2];
  if (b.shape()[0] != batch || b.shape()[1] != k)
    return op.emitError("evaluator: matmul operand shapes disagree"),
           failure();
  if (a.kind() == ElemKind::F32) {
    rt::matmulF32(a.data<float>(), b.data<float>(), out.data<float>(), batch,
                  m, k, n);
    set(op.getResult(), std::move(out));
    return success();
  }
  int32_t aZp = scalarOf<int32_t>(op.getAZp());
  int32_t bZp = scalarOf<int32_t>(op.getBZp());
  bool ok = withIntKinds(a.kind(), b.kind(), out.kind(),
                         [&](auto ta, auto tb, auto tc) {
                           using TA = decltype(ta);
                           using TB = decltype(tb);
                           using TC = decltype(tc);
                           rt::matmulInt<TA, TB, TC>(
                               a.data<TA>(), b.data<TB>(), out.data<TC>(), aZp,
                               bZp, batch, m, k, n);
                         });
  if (!ok)
    return op.emitError("evaluator: integer matmul of ")
               << elemName(a.kind()) << " x " << elemName(b.kind())
               << " is not supported",
           failure();
  set(op.getResult(), std::move(out));
  return success();
}

LogicalResult Evaluator::Impl::pool(Operation *op, bool isMax) {
  const HostTensor &in = get(op->getOperand(0));
  ArrayRef<int64_t> kernel, stride, pad;
  if (auto m = dyn_cast<tosa::MaxPool2dOp>(op)) {
    kernel = m.getKernel();
    stride = m.getStride();
    pad = m.getPad();
  } else {
    auto a = cast<tosa::AvgPool2dOp>(op);
    kernel = a.getKernel();
    stride = a.getStride();
    pad = a.getPad();
  }
  Value result = op->getResult(0);
  ArrayRef<int64_t> os = shapeOf(result);
  rt::Pool2DShape s{in.shape()[0], in.shape()[1], in.shape()[2],
                    in.shape()[3], os[1],         os[2],
                    kernel[0],     kernel[1],     stride[0],
                    stride[1],     pad[0],        pad[2]};
  HostTensor out(in.kind(), os);
  if (isMax) {
    withKind(in.kind(), [&](auto tag) {
      using T = decltype(tag);
      rt::maxPool2d<T>(in.data<T>(), out.data<T>(), s);
      return 0;
    });
  } else {
    if (in.kind() != ElemKind::F32)
      return op->emitError("evaluator: integer tosa.avg_pool2d is not "
                           "supported"),
             failure();
    rt::avgPool2dF32(in.data<float>(), out.data<float>(), s,
                     /*countIncludePad=*/false);
  }
  set(result, std::move(out));
  return success();
}

LogicalResult Evaluator::Impl::reduce(Operation *op, bool isMax) {
  const HostTensor &in = get(op->getOperand(0));
  int64_t axis = isMax ? cast<tosa::ReduceMaxOp>(op).getAxis()
                       : cast<tosa::ReduceSumOp>(op).getAxis();
  ArrayRef<int64_t> shape = in.shape();
  int64_t outer = numElements(shape.take_front(axis));
  int64_t len = shape[axis];
  int64_t inner = numElements(shape.drop_front(axis + 1));
  HostTensor out(in.kind(), shapeOf(op->getResult(0)));
  if (in.kind() == ElemKind::F32) {
    rt::reduceF32(in.data<float>(), out.data<float>(), outer, len, inner,
                  isMax);
  } else {
    for (int64_t a = 0; a < outer; ++a)
      for (int64_t c = 0; c < inner; ++c) {
        int64_t acc = isMax ? std::numeric_limits<int64_t>::min() : 0;
        for (int64_t r = 0; r < len; ++r) {
          int64_t v = in.getInt((a * len + r) * inner + c);
          acc = isMax ? std::max(acc, v) : acc + v;
        }
        out.setInt(a * inner + c, acc);
      }
  }
  set(op->getResult(0), std::move(out));
  return success();
}

//===----------------------------------------------------------------------===//
// quant casts
//===----------------------------------------------------------------------===//

/// Quantizes a float tensor with the runtime rule (float32 division).
static FailureOr<HostTensor> quantizeTensor(Location loc, const HostTensor &in,
                                            RankedTensorType resultType) {
  auto view = QuantView::get(loc, resultType.getElementType(), in.shape());
  if (failed(view))
    return failure();
  HostTensor out(*elemKindOf(resultType.getElementType()), in.shape());
  auto lo = static_cast<int32_t>(view->q.getStorageTypeMin());
  auto hi = static_cast<int32_t>(view->q.getStorageTypeMax());
  for (int64_t i = 0, e = in.numElements(); i < e; ++i)
    out.setInt(i, rt::quantizeValue(static_cast<float>(in.getDouble(i)),
                                    static_cast<float>(view->scale(i)),
                                    static_cast<int32_t>(view->zeroPoint(i)),
                                    lo, hi));
  return out;
}

static FailureOr<HostTensor> dequantizeTensor(Location loc,
                                              const HostTensor &in,
                                              RankedTensorType inType,
                                              ElemKind outKind) {
  auto view = QuantView::get(loc, inType.getElementType(), in.shape());
  if (failed(view))
    return failure();
  HostTensor out(outKind, in.shape());
  for (int64_t i = 0, e = in.numElements(); i < e; ++i)
    out.setDouble(i, rt::dequantizeValue(
                         static_cast<int32_t>(in.getInt(i)), view->scale(i),
                         static_cast<int32_t>(view->zeroPoint(i))));
  return out;
}

LogicalResult Evaluator::Impl::quantOps(Operation *op) {
  Value in = op->getOperand(0), result = op->getResult(0);
  const HostTensor &t = get(in);
  auto resultType = cast<RankedTensorType>(result.getType());
  if (isa<quant::StorageCastOp>(op)) {
    HostTensor out = t;
    out = out.reshaped(resultType.getShape());
    ElemKind to = kindOf(result);
    if (to != t.kind())
      out = t.castTo(to); // same width; sign reinterpretation
    set(result, std::move(out));
    return success();
  }
  if (isa<quant::QuantizeCastOp>(op)) {
    auto q = quantizeTensor(op->getLoc(), t, resultType);
    if (failed(q))
      return failure();
    set(result, std::move(*q));
    return success();
  }
  auto d = dequantizeTensor(op->getLoc(), t,
                            cast<RankedTensorType>(in.getType()),
                            kindOf(result));
  if (failed(d))
    return failure();
  set(result, std::move(*d));
  return success();
}

//===----------------------------------------------------------------------===//
// lowbit integer ops
//===----------------------------------------------------------------------===//

LogicalResult Evaluator::Impl::lowbitOp(Operation *op) {
  Location loc = op->getLoc();
  auto rangeOf = [](Type t) { return *mlir::lowbit::getStorageRange(t); };
  auto rmode = [](mlir::lowbit::RoundingMode m) {
    return m == mlir::lowbit::RoundingMode::double_round
               ? rt::RoundingMode::DoubleRound
               : rt::RoundingMode::SingleRound;
  };
  return llvm::TypeSwitch<Operation *, LogicalResult>(op)
      .Case<mlir::lowbit::RequantOp>([&](mlir::lowbit::RequantOp o) {
        const HostTensor &in = get(o.getInput());
        auto type = o.getType();
        int64_t inZp = zeroPointOf(o.getInput().getType().getElementType());
        auto outQ = cast<quant::UniformQuantizedType>(type.getElementType());
        HostTensor out(*elemKindOf(outQ), type.getShape());
        ArrayRef<int32_t> mul = o.getMultiplier(), sh = o.getShift();
        auto negM = o.getNegMultiplier();
        auto negS = o.getNegShift();
        int64_t inner = 1, axisSize = 1;
        if (auto axis = o.getAxis()) {
          for (int64_t d = *axis + 1; d < type.getRank(); ++d)
            inner *= type.getDimSize(d);
          axisSize = type.getDimSize(*axis);
        }
        auto lo = static_cast<int32_t>(o.getSaturationMin());
        auto hi = static_cast<int32_t>(o.getSaturationMax());
        auto zp = static_cast<int32_t>(outQ.getZeroPoint());
        rt::RoundingMode mode = rmode(o.getRounding());
        withIntKind(in.kind(), [&](auto ti) {
          using TI = decltype(ti);
          withStorageKind(out.kind(), [&](auto to) {
            using TO = decltype(to);
              rt::requantTensor<TI, TO>(
                  in.data<TI>(), out.data<TO>(), in.numElements(), inner,
                  axisSize, mul.data(), sh.data(), mul.size() > 1,
                  negM ? negM->data() : nullptr,
                  negS ? negS->data() : nullptr, negM && negM->size() > 1,
                  static_cast<int32_t>(inZp), zp, lo, hi, mode);
            return 0;
          });
          return 0;
        });
        set(o.getResult(), std::move(out));
        return success();
      })
      .Case<mlir::lowbit::QuantizeOp>([&](mlir::lowbit::QuantizeOp o) -> LogicalResult {
        auto q = quantizeTensor(loc, get(o.getInput()), o.getType());
        if (failed(q))
          return failure();
        set(o.getResult(), std::move(*q));
        return success();
      })
      .Case<mlir::lowbit::DequantizeOp>([&](mlir::lowbit::DequantizeOp o) -> LogicalResult {
        auto d = dequantizeTensor(loc, get(o.getInput()),
                                  o.getInput().getType(), kindOf(o.getResult()));
        if (failed(d))
          return failure();
        set(o.getResult(), std::move(*d));
        return success();
      })
      .Case<mlir::lowbit::ClampOp>([&](mlir::lowbit::ClampOp o) {
        const HostTensor &in = get(o.getInput());
        HostTensor out(in.kind(), in.shape());
        int64_t lo = o.getMin(), hi = o.getMax();
        withKind(in.kind(), [&](auto t) {
          using T = decltype(t);
          if constexpr (std::is_integral_v<T>)
            rt::clampTensor<T>(in.data<T>(), out.data<T>(), in.numElements(),
                               lo, hi);
          return 0;
        });
        set(o.getResult(), std::move(out));
        return success();
      })
      .Case<mlir::lowbit::BitcastOp>([&](mlir::lowbit::BitcastOp o) {
        // Same bytes under the result's element kind.
        HostTensor out = get(o.getInput());
        ElemKind to = kindOf(o.getResult());
        if (to != out.kind())
          out = out.castTo(to);
        set(o.getResult(), std::move(out));
        return success();
      })
      .Case<mlir::lowbit::ReshapeOp>([&](mlir::lowbit::ReshapeOp o) {
        set(o.getResult(), get(o.getInput()).reshaped(o.getType().getShape()));
        return success();
      })
      .Case<mlir::lowbit::TransposeOp>([&](mlir::lowbit::TransposeOp o) {
        const HostTensor &in = get(o.getInput());
        HostTensor out(in.kind(), o.getType().getShape());
        rt::transpose(in.raw(), out.raw(), elemSize(in.kind()),
                      in.shape().data(), o.getPerms().data(),
                      static_cast<int>(in.rank()));
        set(o.getResult(), std::move(out));
        return success();
      })
      .Case<mlir::lowbit::SliceOp>([&](mlir::lowbit::SliceOp o) {
        const HostTensor &in = get(o.getInput());
        HostTensor out(in.kind(), o.getType().getShape());
        rt::slice(in.raw(), out.raw(), elemSize(in.kind()), in.shape().data(),
                  static_cast<int>(in.rank()), o.getStart().data(),
                  o.getType().getShape().data());
        set(o.getResult(), std::move(out));
        return success();
      })
      .Case<mlir::lowbit::PadOp>([&](mlir::lowbit::PadOp o) {
        const HostTensor &in = get(o.getInput());
        HostTensor out(in.kind(), o.getType().getShape());
        SmallVector<int64_t> before, after;
        for (int64_t d = 0; d < in.rank(); ++d) {
          before.push_back(o.getPadding()[2 * d]);
          after.push_back(o.getPadding()[2 * d + 1]);
        }
        // The pad value in the tensor's own element kind.
        HostTensor value(ElemKind::I64, {});
        value.data<int64_t>()[0] = static_cast<int64_t>(o.getPadValue());
        value = value.castTo(in.kind());
        rt::pad(in.raw(), out.raw(), elemSize(in.kind()), in.shape().data(),
                static_cast<int>(in.rank()), before.data(), after.data(),
                value.raw());
        set(o.getResult(), std::move(out));
        return success();
      })
      .Case<mlir::lowbit::ResizeOp>([&](mlir::lowbit::ResizeOp o) {
        const HostTensor &in = get(o.getInput());
        HostTensor out(kindOf(o.getResult()), o.getType().getShape());
        rt::ResizeShape s = resizeShape(in.shape(), out.shape(), o.getScale(),
                                        o.getOffset());
        if (o.getMode() == "nearest") {
          rt::resizeNearest(in.raw(), out.raw(), elemSize(in.kind()), s);
        } else {
          int32_t zp = static_cast<int32_t>(
              cast<quant::UniformQuantizedType>(
                  o.getInput().getType().getElementType())
                  .getZeroPoint());
          withKind(in.kind(), [&](auto t) {
            using T = decltype(t);
            if constexpr (std::is_integral_v<T> && sizeof(T) <= 2)
              rt::resizeBilinearInt<T>(in.data<T>(), out.data<int32_t>(), s,
                                       zp);
            return 0;
          });
        }
        set(o.getResult(), std::move(out));
        return success();
      })
      .Case<mlir::lowbit::ConcatOp>([&](mlir::lowbit::ConcatOp o) {
        SmallVector<const void *> ptrs;
        SmallVector<const int64_t *> shapes;
        for (Value v : o.getInputs()) {
          ptrs.push_back(get(v).raw());
          shapes.push_back(get(v).shape().data());
        }
        HostTensor out(kindOf(o.getResult()), o.getType().getShape());
        rt::concat(ptrs.data(), shapes.data(), static_cast<int>(ptrs.size()),
                   out.raw(), elemSize(out.kind()),
                   static_cast<int>(out.rank()),
                   static_cast<int>(o.getAxis()));
        set(o.getResult(), std::move(out));
        return success();
      })
      .Case<mlir::lowbit::MaxPoolOp, mlir::lowbit::AvgPoolOp, mlir::lowbit::GlobalAvgPoolOp>(
          [&](auto o) {
            const HostTensor &in = get(o.getInput());
            ArrayRef<int64_t> os = o.getType().getShape();
            rt::Pool2DShape s{in.shape()[0], in.shape()[1], in.shape()[2],
                              in.shape()[3], os[1], os[2], in.shape()[1],
                              in.shape()[2], 1, 1, 0, 0};
            bool includePad = false;
            if constexpr (!std::is_same_v<decltype(o), mlir::lowbit::GlobalAvgPoolOp>) {
              s.kh = o.getKernel()[0];
              s.kw = o.getKernel()[1];
              s.strideH = o.getStride()[0];
              s.strideW = o.getStride()[1];
              s.padTop = o.getPad()[0];
              s.padLeft = o.getPad()[2];
            }
            if constexpr (std::is_same_v<decltype(o), mlir::lowbit::AvgPoolOp>)
              includePad = o.getCountIncludePad();
            HostTensor out(in.kind(), os);
            Type elt = o.getType().getElementType();
            if constexpr (std::is_same_v<decltype(o), mlir::lowbit::MaxPoolOp>) {
              withKind(in.kind(), [&](auto tag) {
                using T = decltype(tag);
                rt::maxPool2d<T>(in.data<T>(), out.data<T>(), s);
                return 0;
              });
            } else {
              auto [lo, hi] = rangeOf(elt);
              withKind(in.kind(), [&](auto tag) {
                using T = decltype(tag);
                if constexpr (std::is_integral_v<T>)
                  rt::avgPool2dInt<T>(in.data<T>(), out.data<T>(), s,
                                      static_cast<int32_t>(zeroPointOf(elt)),
                                      static_cast<int32_t>(lo),
                                      static_cast<int32_t>(hi), includePad);
                return 0;
              });
            }
            set(o.getResult(), std::move(out));
            return success();
          })
      .Case<mlir::lowbit::Conv2DOp>([&](mlir::lowbit::Conv2DOp o) -> LogicalResult {
        const HostTensor &in = get(o.getInput());
        const HostTensor &w = get(o.getWeight());
        RankedTensorType rt_ = o.getType();
        HostTensor out(kindOf(o.getResult()), rt_.getShape());
        HostTensor bias(out.kind(), {rt_.getDimSize(3)});
        if (o.getBias())
          bias = get(o.getBias());
        rt::Conv2DShape s =
            convShape(in.shape(), rt_.getShape(), w.shape()[1], w.shape()[2],
                      o.getStride(), o.getPad(), o.getDilation(),
                      static_cast<int64_t>(o.getGroups()));
        auto inZp = static_cast<int32_t>(
            zeroPointOf(o.getInput().getType().getElementType()));
        if (o.getWeightEncoding()) {
          // Log / STLQ codes: shifted adds on the packed codes, or the
          // integers they stand for multiplied (the same accumulator).
          const mlir::lowbit::PackedLogWeights &lw = *logWeights.lookup(o);
          int32_t zIn = o.getInputZpFolded() ? 0 : inZp;
          int32_t zPad = o.getInputZpFolded() ? inZp : 0;
          rt::Conv2DShape ls = s;
          ls.kh = lw.desc.kh;
          ls.kw = lw.desc.kw;
          bool ok = withIntKinds(in.kind(), ElemKind::I8, out.kind(),
                                 [&](auto ti, auto, auto ta) {
            using TI = decltype(ti);
            using TA = decltype(ta);
            if (o.getShiftProducts())
              rt::conv2dShift<TI, TA>(in.data<TI>(), lw.bytes.data(), lw.desc,
                                      bias.data<TA>(), zIn, zPad,
                                      out.data<TA>(), ls);
            else if (o.getInputZpFolded())
              rt::conv2dFoldedZp<TI, int32_t, TA>(
                  in.data<TI>(), lw.integers.data(), bias.data<TA>(), inZp,
                  out.data<TA>(), ls);
            else
              rt::conv2dTensor<TI, int32_t, TA>(
                  in.data<TI>(), lw.integers.data(), bias.data<TA>(), inZp,
                  out.data<TA>(), ls);
          });
          if (!ok)
            return o.emitError("evaluator: unsupported integer convolution "
                               "types"),
                   failure();
          set(o.getResult(), std::move(out));
          return success();
        }
        bool ok = withIntKinds(in.kind(), w.kind(), out.kind(),
                               [&](auto ti, auto tw, auto ta) {
                                 using TI = decltype(ti);
                                 using TW = decltype(tw);
                                 using TA = decltype(ta);
                                 if (o.getInputZpFolded())
                                   rt::conv2dFoldedZp<TI, TW, TA>(
                                       in.data<TI>(), w.data<TW>(),
                                       bias.data<TA>(), inZp, out.data<TA>(),
                                       s);
                                 else
                                   rt::conv2dTensor<TI, TW, TA>(
                                       in.data<TI>(), w.data<TW>(),
                                       bias.data<TA>(), inZp, out.data<TA>(),
                                       s);
                               });
        if (!ok)
          return o.emitError("evaluator: unsupported integer convolution "
                             "types"),
                 failure();
        set(o.getResult(), std::move(out));
        return success();
      })
      .Case<mlir::lowbit::FullyConnectedOp>([&](mlir::lowbit::FullyConnectedOp o)
                                          -> LogicalResult {
        const HostTensor &in = get(o.getInput());
        const HostTensor &w = get(o.getWeight());
        int64_t n = in.shape()[0], k = in.shape()[1], m = o.getType().getDimSize(1);
        HostTensor out(kindOf(o.getResult()), {n, m});
        HostTensor bias(out.kind(), {m});
        if (o.getBias())
          bias = get(o.getBias());
        // A folded zero point is in the bias already.
        auto inZp = o.getInputZpFolded()
                        ? 0
                        : static_cast<int32_t>(zeroPointOf(
                              o.getInput().getType().getElementType()));
        if (o.getWeightEncoding()) {
          const mlir::lowbit::PackedLogWeights &lw = *logWeights.lookup(o);
          bool ok = withIntKinds(in.kind(), ElemKind::I8, out.kind(),
                                 [&](auto ta, auto, auto tc) {
            using TA = decltype(ta);
            using TC = decltype(tc);
            if (o.getShiftProducts())
              rt::fullyConnectedShift<TA, TC>(in.data<TA>(), lw.bytes.data(),
                                              lw.desc, bias.data<TC>(), inZp,
                                              out.data<TC>(), n, k, m);
            else
              rt::fullyConnectedInt<TA, int32_t, TC>(
                  in.data<TA>(), lw.integers.data(), bias.data<TC>(), inZp,
                  out.data<TC>(), n, k, m);
          });
          if (!ok)
            return o.emitError("evaluator: unsupported integer matmul types"),
                   failure();
          set(o.getResult(), std::move(out));
          return success();
        }
        bool ok = withIntKinds(in.kind(), w.kind(), out.kind(),
                               [&](auto ta, auto tb, auto tc) {
                                 using TA = decltype(ta);
                                 using TB = decltype(tb);
                                 using TC = decltype(tc);
                                 rt::fullyConnectedInt<TA, TB, TC>(
                                     in.data<TA>(), w.data<TB>(),
                                     bias.data<TC>(), inZp, out.data<TC>(), n,
                                     k, m);
                               });
        if (!ok)
          return o.emitError("evaluator: unsupported integer matmul types"),
                 failure();
        set(o.getResult(), std::move(out));
        return success();
      })
      .Case<mlir::lowbit::AddOp>([&](mlir::lowbit::AddOp o) {
        const HostTensor &a = get(o.getLhs());
        const HostTensor &b = get(o.getRhs());
        auto outQ = cast<quant::UniformQuantizedType>(o.getType().getElementType());
        int64_t za = zeroPointOf(o.getLhs().getType().getElementType());
        int64_t zb = zeroPointOf(o.getRhs().getType().getElementType());
        int64_t lo = o.getMin().value_or(outQ.getStorageTypeMin());
        int64_t hi = o.getMax().value_or(outQ.getStorageTypeMax());
        int32_t shift = o.getInputShiftAttr().getInt();
        rt::RoundingMode mode = rmode(o.getRounding());
        rt::ScaleMultiplier ma{static_cast<int32_t>(o.getLhsMultiplier()),
                               static_cast<int32_t>(o.getLhsShift())};
        rt::ScaleMultiplier mb{static_cast<int32_t>(o.getRhsMultiplier()),
                               static_cast<int32_t>(o.getRhsShift())};
        rt::ScaleMultiplier mo{static_cast<int32_t>(o.getOutputMultiplier()),
                               static_cast<int32_t>(o.getOutputShift())};
        HostTensor out(*elemKindOf(outQ), o.getType().getShape());
        withStorageKind(a.kind(), [&](auto ta) {
          using TA = decltype(ta);
          withStorageKind(b.kind(), [&](auto tb) {
            using TB = decltype(tb);
            withStorageKind(out.kind(), [&](auto to) {
              using TO = decltype(to);
                rt::addTensor<TA, TB, TO>(
                    a.data<TA>(), b.data<TB>(), out.data<TO>(),
                    a.numElements(), static_cast<int32_t>(za),
                    static_cast<int32_t>(zb), shift, ma, mb, mo,
                    static_cast<int32_t>(outQ.getZeroPoint()),
                    static_cast<int32_t>(lo), static_cast<int32_t>(hi), mode);
              return 0;
            });
            return 0;
          });
          return 0;
        });
        set(o.getResult(), std::move(out));
        return success();
      })
      .Case<mlir::lowbit::PReluOp>([&](mlir::lowbit::PReluOp o) {
        const HostTensor &in = get(o.getInput());
        auto outQ = cast<quant::UniformQuantizedType>(o.getType().getElementType());
        int64_t inZp = zeroPointOf(o.getInput().getType().getElementType());
        HostTensor out(*elemKindOf(outQ), o.getType().getShape());
        ArrayRef<int32_t> nm = o.getNegMultiplier(), ns = o.getNegShift();
        int64_t inner = 1, axisSize = 1;
        if (auto axis = o.getAxis()) {
          for (int64_t d = *axis + 1; d < o.getType().getRank(); ++d)
            inner *= o.getType().getDimSize(d);
          axisSize = o.getType().getDimSize(*axis);
        }
        rt::ScaleMultiplier pos{static_cast<int32_t>(o.getPosMultiplier()),
                                static_cast<int32_t>(o.getPosShift())};
        rt::RoundingMode mode = rmode(o.getRounding());
        int32_t posM[1] = {pos.multiplier}, posS[1] = {pos.shift};
        withStorageKind(in.kind(), [&](auto ti) {
          using TI = decltype(ti);
          withStorageKind(out.kind(), [&](auto to) {
            using TO = decltype(to);
              rt::requantTensor<TI, TO>(
                  in.data<TI>(), out.data<TO>(), in.numElements(), inner,
                  axisSize, posM, posS, false, nm.data(), ns.data(),
                  nm.size() > 1, static_cast<int32_t>(inZp),
                  static_cast<int32_t>(outQ.getZeroPoint()),
                  static_cast<int32_t>(outQ.getStorageTypeMin()),
                  static_cast<int32_t>(outQ.getStorageTypeMax()), mode);
            return 0;
          });
          return 0;
        });
        set(o.getResult(), std::move(out));
        return success();
      })
      .Default([&](Operation *o) {
        return o->emitError("evaluator: unsupported op '")
                   << o->getName() << "'",
               failure();
      });
}
