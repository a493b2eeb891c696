//===- ConvPool.cpp - Conv, pools, BatchNorm ------------------------------===//
//
// Part of the lowbit project.
//
//===----------------------------------------------------------------------===//
//
// ONNX is NCHW; TOSA's convolutions and pools are NHWC, so these ops are
// wrapped in transposes and constant weights are re-laid out on the host.
// 1-D forms import as 2-D ones of height 1.
//
//===----------------------------------------------------------------------===//

#include "ImporterImpl.h"

#include "lowbit/runtime/Kernels.h"
#include "mlir/Dialect/Tosa/IR/TosaOps.h"

#include <cmath>

using namespace mlir;
using namespace ::lowbit;
using namespace ::lowbit::onnx_import;

//===----------------------------------------------------------------------===//
// Conv -> BatchNormalization pairs
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
    if (n.op_type() != "BatchNormalization" || n.input_size() != 5 ||
        n.output_size() != 1 ||
        (!n.domain().empty() && n.domain() != "ai.onnx") ||
        llvm::any_of(n.input(),
                     [](const std::string &in) { return in.empty(); }))
      continue;
    // Only a BatchNormalization whose attributes the fold understands, each
    // of its type, is folded; any other is left to importBatchNorm, which
    // imports it alone or reports what is wrong with it.
    bool foldable = true;
    llvm::StringSet<> seen;
    for (const auto &a : n.attribute()) {
      AttrType type = attributeType(a);
      foldable &= seen.insert(a.name()).second;
      if (a.name() == "epsilon" || a.name() == "momentum")
        foldable &= type == onnx::AttributeProto::FLOAT;
      else if (a.name() == "training_mode")
        foldable &= type == onnx::AttributeProto::INT && a.i() == 0;
      else if (a.name() == "spatial")
        foldable &= type == onnx::AttributeProto::INT && a.i() == 1;
      else if (a.name() == "is_test")
        foldable &= type == onnx::AttributeProto::INT;
      else if (a.name() == "consumed_inputs")
        foldable &= type == onnx::AttributeProto::INTS;
      else
        foldable = false;
    }
    if (!foldable)
      continue;
    auto it = producer.find(n.input(0));
    if (it == producer.end() || it->second->op_type() != "Conv" ||
        uses[n.input(0)] != 1)
      continue;
    convToBatchNorm[it->second->output(0)] = &n;
  }
}

//===----------------------------------------------------------------------===//
// Convolutions
//===----------------------------------------------------------------------===//

FailureOr<Importer::ConvGeometry> Importer::convGeometry(ArrayRef<int64_t> in,
                                                         int64_t kh, int64_t kw,
                                                         bool pool) {
  ConvGeometry g{};
  g.kh = kh;
  g.kw = kw;
  auto stridesAttr = attrInts("strides");
  auto dilationsAttr = attrInts("dilations");
  auto padsAttr = attrInts("pads");
  auto autoPadAttr = attrString("auto_pad", "NOTSET");
  auto ceilAttr = pool ? attrInt("ceil_mode", 0) : FailureOr<int64_t>(0);
  if (failed(stridesAttr) || failed(dilationsAttr) || failed(padsAttr) ||
      failed(autoPadAttr) || failed(ceilAttr))
    return failure();
  auto strides = stridesAttr->value_or(SmallVector<int64_t>{1, 1});
  auto dilations = dilationsAttr->value_or(SmallVector<int64_t>{1, 1});
  auto pads = padsAttr->value_or(SmallVector<int64_t>{0, 0, 0, 0});
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
  const std::string &autoPad = *autoPadAttr;
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
  bool ceil = *ceilAttr != 0;
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
  g.oh =
      outSize(h, g.padTop, g.padBottom, ekh, g.sh, g.padBottom, g.ceilExtraH);
  g.ow = outSize(w, g.padLeft, g.padRight, ekw, g.sw, g.padRight, g.ceilExtraW);
  if (g.oh < 1 || g.ow < 1)
    return nodeError() << "the " << kh << "x" << kw
                       << " window does not fit the padded " << h << "x" << w
                       << " input",
           failure();
  return g;
}

LogicalResult Importer::checkKernelShape(const TensorInfo &w, int wIndex) {
  auto kernel = attrInts("kernel_shape");
  if (failed(kernel))
    return failure();
  if (!*kernel)
    return success();
  ArrayRef<int64_t> spatial = ArrayRef<int64_t>(w.shape).drop_front(
      std::min<size_t>(2, w.shape.size()));
  if (ArrayRef<int64_t>(**kernel) != spatial)
    return nodeError() << "'kernel_shape' " << shapeToString(**kernel)
                       << " does not match the spatial shape "
                       << shapeToString(spatial) << " of weight '"
                       << node->input(wIndex) << "' " << shapeToString(w.shape),
           failure();
  return success();
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
                                    const HostTensor *biasHost,
                                    const ConvGeometry &geometry,
                                    int64_t outChannels) {
  SmallVector<int64_t, 4> in(shapeOf(x));
  int64_t n = in[0], c = in[1];
  Type f32 = b.getF32Type();
  Value zp = scalarConst(ElemKind::F32, 0.0);
  ConvGeometry g = geometry;
  Value xn =
      fitWindows(toNHWC(x), g.dh * (g.kh - 1) + 1, g.dw * (g.kw - 1) + 1, g.sh,
                 g.sw, g.padTop, g.padBottom, g.padLeft, g.padRight);
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
    Value y = depthwise ? create<tosa::DepthwiseConv2DOp>(
                              outType, {xn, weight, bias, zp, zp}, convAttrs())
                        : create<tosa::Conv2DOp>(
                              outType, {xn, weight, bias, zp, zp}, convAttrs());
    return toNCHW(y);
  }
  // Grouped convolution: one conv per group on channel slices, then concat.
  // Weights and biases known on the host are sliced there, so that every
  // group's convolution has constant weights (which the quantizer needs).
  int64_t cg = c / g.groups, og = outChannels / g.groups;
  auto hostSlice = [](const HostTensor &t, int64_t begin, int64_t count) {
    SmallVector<int64_t> start(t.shape().size(), 0), size(t.shape());
    start[0] = begin;
    size[0] = count;
    HostTensor out(t.kind(), size);
    ::lowbit::rt::slice(t.raw(), out.raw(), elemSize(t.kind()),
                        t.shape().data(), static_cast<int>(t.rank()),
                        start.data(), size.data());
    return out;
  };
  Value wOhwi;
  if (!wHost) {
    Value wv = valueOf(w);
    wOhwi = transpose(wv, {0, 2, 3, 1});
  }
  SmallVector<Value> parts;
  for (int64_t gi = 0; gi < g.groups; ++gi) {
    Value xs =
        create<tosa::SliceOp>(RankedTensorType::get({n, in[2], in[3], cg}, f32),
                              {xn, constShape({0, 0, 0, gi * cg}),
                               constShape({n, in[2], in[3], cg})});
    Value ws =
        wHost ? materializeConvWeights(hostSlice(*wHost, gi * og, og), false, cg)
              : create<tosa::SliceOp>(
                    RankedTensorType::get({og, g.kh, g.kw, cg}, f32),
                    {wOhwi, constShape({gi * og, 0, 0, 0}),
                     constShape({og, g.kh, g.kw, cg})});
    Value bs =
        biasHost
            ? materialize(hostSlice(*biasHost, gi * og, og))
            : create<tosa::SliceOp>(
                  RankedTensorType::get({og}, f32),
                  {bias, constShape({gi * og}), constShape({og})});
    parts.push_back(
        create<tosa::Conv2DOp>(RankedTensorType::get({n, g.oh, g.ow, og}, f32),
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
  auto groupAttr = attrInt("group", 1);
  if (failed(groupAttr) || failed(checkKernelShape(**w, 1)))
    return failure();
  int64_t groups = *groupAttr;
  int64_t c = xs[1], o = ws[0];
  if (groups < 1 || c % groups != 0 || o % groups != 0 || ws[1] != c / groups)
    return nodeError() << "weight " << shapeToString(ws) << " and group "
                       << groups << " do not match " << c << " input channels",
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
    for (auto *a : {"strides", "dilations"}) {
      auto v = attrInts(a);
      if (failed(v))
        return failure();
      if (*v && (*v)->size() != 1)
        return nodeError() << "'" << a
                           << "' must have 1 value for a 1-D "
                              "convolution",
               failure();
    }
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
  // The fold reads o float biases: any other bias is checked (and
  // rejected) by the unfolded path below.
  bool foldableBias = !bias || (bias->constant && bias->kind == ElemKind::F32 &&
                                bias->shape == SmallVector<int64_t>{o});
  if (auto it = convToBatchNorm.find(node->output(0));
      it != convToBatchNorm.end() && wHost && foldableBias)
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
        biasHost.data<float>()[oc] = (b0 - params[2]->data<float>()[oc]) * s +
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
  const HostTensor *biasOnHost =
      bn || !bias ? &biasHost : (bias->constant ? &*bias->constant : nullptr);
  auto y = emitConv(xv, w2, wHost, biasValue, biasOnHost, *geometry, o);
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
  if (kind != ElemKind::F32 &&
      !(isMax && (kind == ElemKind::U8 || kind == ElemKind::I8)))
    return unsupportedElemType(kind);
  SmallVector<int64_t> xs = (*x)->shape;
  int64_t spatial = static_cast<int64_t>(xs.size()) - 2;
  if (spatial != 2 && !(spatial == 1 && !global))
    return unsupported(std::to_string(spatial) +
                       "-D pooling (1-D and 2-D only)");
  if (node->output_size() > 1 && !node->output(1).empty())
    return unsupported("MaxPool 'Indices' output");
  auto storageOrder = attrInt("storage_order", 0);
  if (failed(storageOrder))
    return failure();
  if (*storageOrder != 0)
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
    auto kernelAttr = attrInts("kernel_shape");
    if (failed(kernelAttr))
      return failure();
    const auto &kernel = *kernelAttr;
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
  auto countIncludePad = attrInt("count_include_pad", 0);
  if (failed(countIncludePad))
    return failure();
  bool includePad = !isMax && *countIncludePad != 0;
  int64_t padT = g.padTop, padB = g.padBottom, padL = g.padLeft,
          padR = g.padRight;
  if (includePad && (padT || padB || padL || padR)) {
    // TOSA averages over valid positions only, so the declared padding is
    // made explicit with zeros; positions added by ceil_mode stay outside
    // the count, as in ONNX.
    int64_t declB = g.padBottom - g.ceilExtraH,
            declR = g.padRight - g.ceilExtraW;
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
  if (failed(checkAttributes({"epsilon", "momentum", "training_mode", "spatial",
                              "is_test", "consumed_inputs"})))
    return failure();
  auto trainingMode = attrInt("training_mode", 0);
  auto spatial = attrInt("spatial", 1);
  auto eps = attrFloat("epsilon", 1e-5f);
  if (failed(trainingMode) || failed(spatial) || failed(eps) ||
      failed(checkAttributeTypes(
          {{"momentum", onnx::AttributeProto::FLOAT},
           {"is_test", onnx::AttributeProto::INT},
           {"consumed_inputs", onnx::AttributeProto::INTS}})))
    return failure();
  if (*trainingMode != 0)
    return unsupported("training_mode (inference BatchNormalization only)");
  if (*spatial != 1)
    return unsupported("spatial = 0");
  if (node->output_size() > 1)
    for (int i = 1; i < node->output_size(); ++i)
      if (!node->output(i).empty())
        return unsupported("training outputs (running mean/var)");
  auto x = requireInput(0);
  if (failed(x))
    return failure();
  if (failed(requireF32(**x)))
    return failure();
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
  HostTensor scale(ElemKind::F32, {c}), shift(ElemKind::F32, {c});
  for (int64_t i = 0; i < c; ++i) {
    float s = static_cast<float>(p[0]->getDouble(i)) /
              std::sqrt(static_cast<float>(p[3]->getDouble(i)) + *eps);
    scale.data<float>()[i] = s;
    shift.data<float>()[i] = static_cast<float>(p[1]->getDouble(i)) -
                             static_cast<float>(p[2]->getDouble(i)) * s;
  }
  SmallVector<int64_t> bshape(xs.size(), 1);
  bshape[1] = c;
  auto type = tensorType(xs, ElemKind::F32);
  Value y = create<tosa::MulOp>(
      type, {valueOf(**x), materialize(scale.reshaped(bshape)), mulShift()});
  y = create<tosa::AddOp>(type, {y, materialize(shift.reshaped(bshape))});
  setOutput(0, y, ElemKind::F32, xs);
  return success();
}
