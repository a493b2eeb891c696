//===- Quantization.cpp - Q/DQ and integer convs --------------------------===//
//
// Part of the lowbit project.
//
//===----------------------------------------------------------------------===//
//
// QuantizeLinear / DequantizeLinear as lowbit.quantize / lowbit.dequantize
// on quant types; ConvInteger and QLinearConv as exact integer TOSA, the
// QLinear ones with a lowbit.requant (shared with QLinearMatMul).
//
//===----------------------------------------------------------------------===//

#include "ImporterImpl.h"

#include "LowBit/IR/LowBitOps.h"
#include "lowbit/runtime/Requant.h"

#include "mlir/Dialect/Quant/IR/Quant.h"
#include "mlir/Dialect/Quant/IR/QuantTypes.h"
#include "mlir/Dialect/Tosa/IR/TosaOps.h"

#include <cmath>

using namespace mlir;
using namespace ::lowbit;
using namespace ::lowbit::onnx_import;

static FailureOr<quant::QuantizedType>
makeQuantType(MLIRContext &ctx, ElemKind storage, const HostTensor &scale,
              const HostTensor *zeroPoint, int32_t axis, std::string &whyNot) {
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

FailureOr<Value> Importer::emitQLinearRequant(Value acc, int aScale, int bScale,
                                              int yScale, int yZeroPoint,
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
    return nodeError() << "weight scale has " << n << " values for " << channels
                       << " output channels",
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
    if (::lowbit::rt::computeMultiplier(real, m) !=
        ::lowbit::rt::ScaleStatus::Ok)
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
    if (failed(requireInt8(t->kind)))
      return failure();
  auto xzp = scalarZeroPoint(xzpi, "x zero point");
  auto wzp = scalarZeroPoint(wzpi, "w zero point");
  if (failed(xzp) || failed(wzp))
    return failure();
  auto groupAttr = attrInt("group", 1);
  if (failed(groupAttr) || failed(checkKernelShape(**w, wi)))
    return failure();
  int64_t groups = *groupAttr;
  int64_t c = xs[1], o = ws[0];
  if (groups < 1 || c % groups || ws[1] != c / groups)
    return nodeError() << "weight " << shapeToString(ws) << " and group "
                       << groups << " do not match " << c << " input channels",
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
// Quantize / dequantize
//===----------------------------------------------------------------------===//

FailureOr<int64_t> Importer::quantizationAxis(const TensorInfo &x,
                                              const HostTensor &scale,
                                              bool perAxis) {
  int64_t rank = x.shape.size();
  auto axisAttr = attrAxis("axis", 1, rank);
  if (failed(axisAttr))
    return failure();
  int64_t axis = *axisAttr;
  if (perAxis &&
      (axis < 0 || axis >= rank || x.shape[axis] != scale.numElements()))
    return nodeError() << "scale of " << scale.numElements()
                       << " values does not match axis " << axis << " of "
                       << shapeToString(x.shape),
           failure();
  return axis;
}

LogicalResult Importer::importQuantizeLinear() {
  if (failed(checkAttributes({"axis", "saturate"})) ||
      failed(checkAttributeTypes({{"saturate", onnx::AttributeProto::INT}})))
    return failure();
  auto x = requireInput(0);
  auto scale = nonEmptyConstantInput(1, "y_scale");
  if (failed(x) || failed(scale))
    return failure();
  if ((*x)->kind != ElemKind::F32)
    return unsupported(std::string("input element type ") +
                       elemName((*x)->kind).str() + " (float32 only)");
  auto z = optionalNonEmptyConstantInput(2, "y_zero_point");
  if (failed(z))
    return failure();
  const HostTensor *zp = *z;
  ElemKind storage = zp ? zp->kind() : ElemKind::U8;
  if (storage != ElemKind::U8 && storage != ElemKind::I8)
    return unsupported(std::string("output type ") + elemName(storage).str() +
                       " (uint8/int8 only)");
  bool perAxis = (*scale)->numElements() > 1 || (*scale)->rank() == 1;
  auto axisOr = quantizationAxis(**x, **scale, perAxis);
  if (failed(axisOr))
    return failure();
  int64_t axis = *axisOr;
  std::string why;
  auto qt =
      makeQuantType(ctx, storage, **scale, zp,
                    perAxis && (*scale)->numElements() > 1 ? axis : -1, why);
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
  auto z = optionalNonEmptyConstantInput(2, "x_zero_point");
  if (failed(z))
    return failure();
  const HostTensor *zp = *z;
  int64_t rank = (*x)->shape.size();
  bool perAxis = (*scale)->numElements() > 1;
  auto axisOr = quantizationAxis(**x, **scale, perAxis);
  if (failed(axisOr))
    return failure();
  int64_t axis = *axisOr;
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

Value Importer::storageCast(Value v, RankedTensorType type) {
  auto isUnsignedInt = [](Type t) {
    auto i = dyn_cast<IntegerType>(getElementTypeOrSelf(t));
    return i && !i.isSignless();
  };
  if (isUnsignedInt(v.getType()) || isUnsignedInt(type))
    return create<mlir::lowbit::BitcastOp>(type, {v});
  return create<quant::StorageCastOp>(type, {v});
}
