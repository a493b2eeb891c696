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
    if (it == producer.end() ||
        (it->second->op_type() != "Conv" &&
         it->second->op_type() != "ConvTranspose") ||
        uses[n.input(0)] != 1)
      continue;
    convToBatchNorm[it->second->output(0)] = &n;
  }
}

bool Importer::foldBatchNorm(const onnx::NodeProto &bn, HostTensor &w,
                             HostTensor &bias) {
  int64_t o = bias.numElements();
  const HostTensor *params[4];
  for (int i = 0; i < 4; ++i) {
    TensorInfo *p = lookup(bn.input(1 + i));
    if (!p || !p->constant || p->constant->numElements() != o ||
        p->kind != ElemKind::F32)
      return false;
    params[i] = &*p->constant;
  }
  // w' = w * s, b' = (b - mean) * s + beta, s = gamma / sqrt(var + eps).
  float eps = 1e-5f;
  for (const auto &a : bn.attribute())
    if (a.name() == "epsilon")
      eps = a.f();
  int64_t per = w.numElements() / o;
  float *wd = w.data<float>(), *bd = bias.data<float>();
  for (int64_t oc = 0; oc < o; ++oc) {
    float s =
        params[0]->data<float>()[oc] / std::sqrt(params[3]->data<float>()[oc] + eps);
    for (int64_t i = 0; i < per; ++i)
      wd[oc * per + i] *= s;
    bd[oc] = (bd[oc] - params[2]->data<float>()[oc]) * s +
             params[1]->data<float>()[oc];
  }
  foldedBatchNorms.insert(bn.output(0));
  return true;
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
    HostTensor scaled = *wHost;
    if (bias)
      biasHost = *bias->constant;
    if (foldBatchNorm(*bn, scaled, biasHost)) {
      wOwned = std::move(scaled);
      wHost = &*wOwned;
      biasValue = materialize(biasHost);
    } else {
      bn = nullptr;
      biasHost = HostTensor(ElemKind::F32, {o});
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

//===----------------------------------------------------------------------===//
// ConvTranspose
//===----------------------------------------------------------------------===//
//
// A transposed convolution is imported as ops the integer target already
// lowers, so that it quantizes like any convolution: along each spatial
// axis of stride s the input is spread out with s - 1 zeros after every
// element (NHWC [N,H,W,C] -> reshape [N,H,1,W,1,C] -> pad with zeros to
// [N,H,sh,W,sw,C] -> reshape [N,H*sh,W*sw,C]), and a stride-1 tosa.conv2d
// with the weights flipped spatially and re-laid out from ONNX's
// [C_in, C_out/group, kH, kW] reads it with padding d*(k-1) - pad (the
// trailing output_padding added at the bottom / right, the s - 1 zeros
// after the last element taken back off). A padding that comes out
// negative is a crop: of the spread input at the end, of the
// convolution's output at the start. The convolution runs over the zeros
// too, about s_h * s_w times the multiply-adds of a direct transposed
// convolution; in exchange ConvTranspose needs no kernel, evaluator op or
// integer lowering of its own.

LogicalResult Importer::importConvTranspose() {
  if (failed(checkAttributes({"auto_pad", "dilations", "group", "kernel_shape",
                              "output_padding", "output_shape", "pads",
                              "strides"})))
    return failure();
  auto x = requireInput(0);
  auto w = requireInput(1);
  if (failed(x) || failed(w))
    return failure();
  if ((*x)->kind != ElemKind::F32 || (*w)->kind != ElemKind::F32)
    return unsupported("element type: ConvTranspose imports float32 tensors");
  SmallVector<int64_t> xs = (*x)->shape, ws = (*w)->shape;
  int64_t spatial = static_cast<int64_t>(xs.size()) - 2;
  if (spatial != 1 && spatial != 2)
    return unsupported("ConvTranspose with " + std::to_string(spatial) +
                       " spatial dimensions (1-D and 2-D are supported)");
  if (ws.size() != xs.size())
    return nodeError() << "weight rank " << ws.size()
                       << " differs from input rank " << xs.size(),
           failure();
  auto groupAttr = attrInt("group", 1);
  if (failed(groupAttr) || failed(checkKernelShape(**w, 1)))
    return failure();
  int64_t groups = *groupAttr;
  int64_t n = xs[0], c = xs[1];
  if (groups < 1 || c % groups != 0 || ws[0] != c)
    return nodeError() << "weight " << shapeToString(ws) << " and group "
                       << groups << " do not match " << c
                       << " input channels (ConvTranspose weights are "
                          "[C_in, C_out/group, k...])",
           failure();
  int64_t cg = c / groups, og = ws[1], o = og * groups;
  for (int64_t i = 2; i < static_cast<int64_t>(ws.size()); ++i)
    if (ws[i] < 1 || xs[i] < 1)
      return nodeError() << "input " << shapeToString(xs) << " and weight "
                         << shapeToString(ws)
                         << " must have positive spatial sizes",
             failure();

  // Attributes, one value per spatial dimension (pads: begins, then ends).
  auto perAxis = [&](StringRef name, int64_t def, int64_t count)
      -> FailureOr<SmallVector<int64_t>> {
    auto v = attrInts(name);
    if (failed(v))
      return failure();
    if (!*v)
      return SmallVector<int64_t>(count, def);
    if (static_cast<int64_t>((*v)->size()) != count)
      return nodeError() << "'" << name << "' has " << (*v)->size()
                         << " values; a " << spatial
                         << "-D ConvTranspose needs " << count,
             failure();
    return **v;
  };
  auto strides = perAxis("strides", 1, spatial);
  auto dilations = perAxis("dilations", 1, spatial);
  auto outputPadding = perAxis("output_padding", 0, spatial);
  auto pads = perAxis("pads", 0, 2 * spatial);
  auto outputShapeAttr = attrInts("output_shape");
  auto autoPad = attrString("auto_pad", "NOTSET");
  if (failed(strides) || failed(dilations) || failed(outputPadding) ||
      failed(pads) || failed(outputShapeAttr) || failed(autoPad))
    return failure();
  if (*autoPad != "NOTSET" && *autoPad != "SAME_UPPER" &&
      *autoPad != "SAME_LOWER" && *autoPad != "VALID")
    return (void)unsupported("auto_pad '" + *autoPad + "'"), failure();
  if (*autoPad != "NOTSET" && attr("pads"))
    return nodeError() << "'pads' and auto_pad '" << *autoPad
                       << "' cannot be used together",
           failure();
  std::optional<SmallVector<int64_t>> outputShape;
  if (*outputShapeAttr) {
    // The spatial sizes (ONNX Runtime refuses the whole shape).
    outputShape = **outputShapeAttr;
    if (static_cast<int64_t>(outputShape->size()) != spatial)
      return nodeError() << "'output_shape' " << shapeToString(*outputShape)
                         << " must have " << spatial
                         << " values (the spatial sizes)",
             failure();
  }

  // Per spatial axis: the output size and the padding of ONNX's formula
  //   out = s (in - 1) + output_padding + d (k - 1) + 1 - begin - end.
  struct Axis {
    int64_t in, k, s, d, op, begin, end, out;
  };
  SmallVector<Axis, 2> axes;
  for (int64_t i = 0; i < spatial; ++i) {
    Axis a{xs[2 + i],         ws[2 + i],  (*strides)[i], (*dilations)[i],
           (*outputPadding)[i], (*pads)[i], (*pads)[spatial + i], 0};
    if (a.s < 1 || a.d < 1)
      return nodeError() << "strides and dilations must be positive", failure();
    if (a.begin < 0 || a.end < 0)
      return (void)unsupported("negative padding"), failure();
    if (a.op < 0 || (a.op >= a.s && a.op >= a.d))
      return nodeError() << "'output_padding' " << a.op
                         << " must be non-negative and smaller than the "
                            "stride ("
                         << a.s << ") or the dilation (" << a.d << ")",
             failure();
    int64_t full = a.s * (a.in - 1) + a.op + a.d * (a.k - 1) + 1;
    std::optional<int64_t> target;
    if (outputShape) {
      target = (*outputShape)[i];
      if (*target < 1)
        return nodeError() << "'output_shape' " << shapeToString(*outputShape)
                           << " must be positive",
               failure();
    } else if (*autoPad == "SAME_UPPER" || *autoPad == "SAME_LOWER") {
      target = a.in * a.s;
    } else if (*autoPad == "VALID") {
      a.begin = a.end = 0;
    }
    if (target) {
      // The total padding, with the odd one at the end for SAME_UPPER and
      // at the start otherwise (ONNX, and ONNX Runtime 1.30). ONNX Runtime
      // rejects an output_shape larger than `full`, and pads nothing where
      // SAME asks for more (stride > kernel extent): the output is `full`.
      int64_t total = full - *target;
      if (total < 0 && outputShape)
        return nodeError() << "'output_shape' " << shapeToString(*outputShape)
                           << " is larger than the " << full
                           << " the input gives along spatial axis " << i
                           << " (stride * (in - 1) + output_padding + "
                              "dilation * (k - 1) + 1)",
               failure();
      total = std::max<int64_t>(total, 0);
      a.begin = *autoPad == "SAME_UPPER" ? total / 2 : total - total / 2;
      a.end = total - a.begin;
    }
    a.out = full - a.begin - a.end;
    if (a.out < 1)
      return nodeError() << "output size " << a.out << " along spatial axis "
                         << i << " is not positive (input " << a.in
                         << ", kernel " << a.k << ", stride " << a.s
                         << ", pads " << a.begin << " and " << a.end << ")",
             failure();
    axes.push_back(a);
  }
  if (spatial == 1) // 1-D: a 2-D transposed convolution of height 1.
    axes.insert(axes.begin(), Axis{1, 1, 1, 1, 0, 0, 0, 1});

  auto wConst = constantInput(1, "weight");
  if (failed(wConst))
    return failure();
  // The equivalent convolution's OIHW weights, [C_out, C_in/group, kH, kW]:
  // W'[g og + j, i, y, x] = W[g cg + i, j, kH - 1 - y, kW - 1 - x].
  int64_t kh = axes[0].k, kw = axes[1].k;
  HostTensor wConv(ElemKind::F32, {o, cg, kh, kw});
  {
    const float *src = (*wConst)->data<float>();
    float *dst = wConv.data<float>();
    for (int64_t g = 0; g < groups; ++g)
      for (int64_t j = 0; j < og; ++j)
        for (int64_t i = 0; i < cg; ++i)
          for (int64_t y = 0; y < kh; ++y)
            for (int64_t xx = 0; xx < kw; ++xx)
              dst[(((g * og + j) * cg + i) * kh + y) * kw + xx] =
                  src[(((g * cg + i) * og + j) * kh + (kh - 1 - y)) * kw +
                      (kw - 1 - xx)];
  }

  // Bias (zeros when absent), possibly with a BatchNormalization folded in.
  HostTensor biasHost(ElemKind::F32, {o});
  Value biasValue;
  TensorInfo *bias = input(2);
  if (bias && (bias->kind != ElemKind::F32 ||
               bias->shape != SmallVector<int64_t>{o}))
    return nodeError() << "bias " << shapeToString(bias->shape)
                       << " does not match " << o << " output channels",
           failure();
  const onnx::NodeProto *bn = nullptr;
  if (auto it = convToBatchNorm.find(node->output(0));
      it != convToBatchNorm.end() && (!bias || bias->constant)) {
    HostTensor foldedBias = bias ? *bias->constant : biasHost;
    if (foldBatchNorm(*it->second, wConv, foldedBias)) {
      bn = it->second;
      biasHost = std::move(foldedBias);
    }
  }
  const HostTensor *biasOnHost = &biasHost;
  if (bias && !bn) {
    biasValue = valueOf(*bias);
    biasOnHost = bias->constant ? &*bias->constant : nullptr;
  } else {
    biasValue = materialize(biasHost);
  }

  // Spread the NHWC input out with zeros.
  Value xv = valueOf(**x);
  int64_t h = axes[0].in, wd = axes[1].in;
  if (spatial == 1)
    xv = reshape(xv, {n, c, 1, wd});
  Value z = toNHWC(xv);
  int64_t sh = axes[0].s, sw = axes[1].s;
  if (sh > 1 || sw > 1) {
    z = reshape(z, {n, h, 1, wd, 1, c});
    z = create<tosa::PadOp>(
        tensorType({n, h, sh, wd, sw, c}, ElemKind::F32),
        {z, constShape({0, 0, 0, 0, 0, sh - 1, 0, 0, 0, sw - 1, 0, 0}),
         scalarConst(ElemKind::F32, 0.0)});
    z = reshape(z, {n, h * sh, wd * sw, c});
  }
  // The convolution's padding: d (k - 1) - begin before, d (k - 1) - end +
  // output_padding after, less the s - 1 zeros after the last element.
  int64_t before[2], after[2], crop[2];
  SmallVector<int64_t> zs(shapeOf(z));
  for (int d = 0; d < 2; ++d) {
    const Axis &a = axes[d];
    int64_t ek = a.d * (a.k - 1) + 1;
    before[d] = ek - 1 - a.begin;
    after[d] = ek - 1 - a.end + a.op - (a.s - 1);
    crop[d] = 0;
    if (after[d] < 0) {
      zs[1 + d] += after[d];
      after[d] = 0;
    }
    if (before[d] < 0) {
      crop[d] = -before[d];
      before[d] = 0;
    }
  }
  if (zs != SmallVector<int64_t>(shapeOf(z)))
    z = create<tosa::SliceOp>(tensorType(zs, ElemKind::F32),
                              {z, constShape({0, 0, 0, 0}), constShape(zs)});
  ConvGeometry g{};
  g.kh = kh;
  g.kw = kw;
  g.sh = g.sw = 1;
  g.dh = axes[0].d;
  g.dw = axes[1].d;
  g.groups = groups;
  g.padTop = before[0];
  g.padBottom = after[0];
  g.padLeft = before[1];
  g.padRight = after[1];
  g.oh = zs[1] + before[0] + after[0] - (g.dh * (kh - 1) + 1) + 1;
  g.ow = zs[2] + before[1] + after[1] - (g.dw * (kw - 1) + 1) + 1;
  TensorInfo wInfo;
  wInfo.shape = {o, cg, kh, kw};
  auto y = emitConv(toNCHW(z), wInfo, &wConv, biasValue, biasOnHost, g, o);
  if (failed(y))
    return failure();
  Value result = *y;
  SmallVector<int64_t> outShape = {n, o, axes[0].out, axes[1].out};
  if (crop[0] || crop[1])
    result = create<tosa::SliceOp>(tensorType(outShape, ElemKind::F32),
                                   {result, constShape({0, 0, crop[0], crop[1]}),
                                    constShape(outShape)});
  if (spatial == 1) {
    outShape = {n, o, axes[1].out};
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
