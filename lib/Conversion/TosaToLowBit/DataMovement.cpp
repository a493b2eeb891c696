//===- DataMovement.cpp - convert-tosa-to-lowbit: moving quantized data ---===//
//
// Part of the lowbit project.
//
//===----------------------------------------------------------------------===//
//
// Ops that move or window an activation without changing its scale
// (reshape, slice, a pad of zero width, a nearest resize, transpose, max and
// average pools) are followed back to the dequantized value they read and
// rebuilt on its integers (quantizedSource). A constant pad and a bilinear
// resize change the values: they are lowered as the anchors of their own
// segments (lowerPad, lowerBilinearResize).
//
//===----------------------------------------------------------------------===//

#include "TosaToLowBit.h"

#include <algorithm>

namespace mlir {
namespace lowbit {
namespace tosa_to_lowbit {

Value reshapeTo(OpBuilder &b, Location loc, Value v, ArrayRef<int64_t> shape) {
  auto type = cast<RankedTensorType>(v.getType());
  if (type.getShape() == shape)
    return v;
  return ReshapeOp::create(
      b, loc, RankedTensorType::get(shape, type.getElementType()), v);
}

Value skipReshapes(Value v) {
  while (auto r = v.getDefiningOp<tosa::ReshapeOp>())
    v = r.getInput1();
  return v;
}

BlockArgument argumentBehind(Value v) {
  while (Operation *def = v.getDefiningOp()) {
    if (!isa<tosa::ReshapeOp, tosa::TransposeOp>(def))
      return {};
    v = def->getOperand(0);
  }
  return dyn_cast<BlockArgument>(v);
}

Value replayMovement(OpBuilder &b, Value v, BlockArgument arg) {
  if (v == arg)
    return arg;
  Operation *def = v.getDefiningOp();
  Value in = replayMovement(b, def->getOperand(0), arg);
  Type elt = cast<RankedTensorType>(in.getType()).getElementType();
  auto type = withElement(v.getType(), elt);
  if (auto t = dyn_cast<tosa::TransposeOp>(def))
    return TransposeOp::create(b, t.getLoc(), type, in, t.getPermsAttr());
  return ReshapeOp::create(b, def->getLoc(), type, in);
}

Value skipUnusedCrop(Value in, Operation *op) {
  auto sl = in.getDefiningOp<tosa::SliceOp>();
  if (!sl)
    return in;
  auto start = sl.getStart().getDefiningOp<tosa::ConstShapeOp>();
  if (!start)
    return in;
  for (const APInt &v :
       cast<DenseElementsAttr>(start.getValues()).getValues<APInt>())
    if (!v.isZero())
      return in;
  auto full = cast<RankedTensorType>(sl.getInput1().getType());
  auto cropped = cast<RankedTensorType>(sl.getType());
  auto out = dyn_cast<RankedTensorType>(op->getResult(0).getType());
  if (full.getRank() != 4 || cropped.getRank() != 4 || !out ||
      full.getDimSize(0) != cropped.getDimSize(0) ||
      full.getDimSize(3) != cropped.getDimSize(3))
    return in;
  SmallVector<int64_t> kernel, dilation = {1, 1};
  if (isa<tosa::Conv2DOp>(op)) {
    auto w = cast<RankedTensorType>(op->getOperand(1).getType());
    kernel = {w.getDimSize(1), w.getDimSize(2)};
  } else if (isa<tosa::DepthwiseConv2DOp>(op)) {
    auto w = cast<RankedTensorType>(op->getOperand(1).getType());
    kernel = {w.getDimSize(0), w.getDimSize(1)};
  } else if (auto k = op->getAttrOfType<DenseI64ArrayAttr>("kernel")) {
    kernel.assign(k.asArrayRef().begin(), k.asArrayRef().end());
  } else {
    return in;
  }
  if (auto d = op->getAttrOfType<DenseI64ArrayAttr>("dilation"))
    dilation.assign(d.asArrayRef().begin(), d.asArrayRef().end());
  auto stride = op->getAttrOfType<DenseI64ArrayAttr>("stride");
  auto pad = op->getAttrOfType<DenseI64ArrayAttr>("pad");
  if (!stride || !pad || stride.size() != 2 || pad.size() != 4)
    return in;
  for (int d = 0; d < 2; ++d) {
    int64_t ek = dilation[d] * (kernel[d] - 1) + 1;
    int64_t s = stride[d], pb = pad[2 * d], pa = pad[2 * d + 1];
    int64_t o = out.getDimSize(1 + d);
    int64_t f = full.getDimSize(1 + d), c = cropped.getDimSize(1 + d);
    if (f == c)
      continue;
    // Padding after the crop would read real rows instead of zeros; the
    // output extent must not change; the last window must end in the crop.
    if (pa != 0 || (f + pb + pa - ek) / s + 1 != o || (o - 1) * s + ek - pb > c)
      return in;
  }
  return sl.getInput1();
}

FailureOr<Value> TosaToLowBitLowering::quantizedSource(OpBuilder &b, Value v,
                                                       Location loc) {
  if (auto dq = v.getDefiningOp<DequantizeOp>()) {
    if (!activationType(dq.getInput())) {
      sourceDiagnosed = true;
      return emitError(dq.getLoc())
                 << "convert-tosa-to-lowbit: dequantized value is not a "
                    "per-tensor quantized activation",
             failure();
    }
    return dq.getInput();
  }
  Operation *def = v.getDefiningOp();
  if (!def)
    return failure();
  if (auto r = dyn_cast<tosa::ReshapeOp>(def)) {
    auto in = quantizedSource(b, r.getInput1(), loc);
    if (failed(in))
      return failure();
    return reshapeTo(b, r.getLoc(), *in,
                     cast<RankedTensorType>(r.getType()).getShape());
  }
  if (auto pad = dyn_cast<tosa::PadOp>(def)) {
    // A pad of zero width (torch's Pad before AveragePool, before the
    // clean-up folds it) moves nothing.
    auto amounts = pad.getPadding().getDefiningOp<tosa::ConstShapeOp>();
    if (!amounts || pad.getType() != pad.getInput1().getType() ||
        !llvm::all_of(
            cast<DenseElementsAttr>(amounts.getValues()).getValues<APInt>(),
            [](const APInt &v) { return v.isZero(); }))
      return failure();
    return quantizedSource(b, pad.getInput1(), loc);
  }
  if (auto sl = dyn_cast<tosa::SliceOp>(def)) {
    // A channel split (or any window): data movement on the same scale.
    auto start = constShape(sl.getStart());
    if (!start)
      return failure();
    auto in = quantizedSource(b, sl.getInput1(), loc);
    if (failed(in))
      return failure();
    auto type = withElement(
        sl.getType(), cast<RankedTensorType>(in->getType()).getElementType());
    return SliceOp::create(b, sl.getLoc(), type, *in,
                           b.getDenseI64ArrayAttr(*start))
        .getResult();
  }
  if (auto rs = dyn_cast<tosa::ResizeOp>(def);
      rs && rs.getMode() == tosa::ResizeMode::NEAREST_NEIGHBOR) {
    // Nearest neighbour: data movement on the same scale.
    auto params = resizeParams(rs);
    if (!params)
      return failure();
    auto in = quantizedSource(b, rs.getInput(), loc);
    if (failed(in))
      return failure();
    auto type = withElement(
        rs.getType(), cast<RankedTensorType>(in->getType()).getElementType());
    return ResizeOp::create(b, rs.getLoc(), type, *in,
                            b.getStringAttr("nearest"),
                            b.getDenseI64ArrayAttr(params->first),
                            b.getDenseI64ArrayAttr(params->second))
        .getResult();
  }
  if (auto t = dyn_cast<tosa::TransposeOp>(def)) {
    auto in = quantizedSource(b, t.getInput1(), loc);
    if (failed(in))
      return failure();
    auto type = withElement(
        t.getType(), cast<RankedTensorType>(in->getType()).getElementType());
    return TransposeOp::create(b, t.getLoc(), type, *in, t.getPermsAttr())
        .getResult();
  }
  if (isa<tosa::MaxPool2dOp, tosa::AvgPool2dOp>(def)) {
    auto in = quantizedSource(b, skipUnusedCrop(def->getOperand(0), def), loc);
    if (failed(in))
      return failure();
    auto type =
        withElement(def->getResult(0).getType(),
                    cast<RankedTensorType>(in->getType()).getElementType());
    if (auto mp = dyn_cast<tosa::MaxPool2dOp>(def))
      return MaxPoolOp::create(b, mp.getLoc(), type, *in, mp.getKernelAttr(),
                               mp.getStrideAttr(), mp.getPadAttr())
          .getResult();
    auto ap = cast<tosa::AvgPool2dOp>(def);
    auto inShape = cast<RankedTensorType>(in->getType()).getShape();
    ArrayRef<int64_t> kernel = ap.getKernel();
    if (kernel.size() == 2 && inShape.size() == 4 && kernel[0] == inShape[1] &&
        kernel[1] == inShape[2] &&
        llvm::all_of(ap.getPad(), [](int64_t p) { return p == 0; }) &&
        type.getDimSize(1) == 1 && type.getDimSize(2) == 1)
      return GlobalAvgPoolOp::create(b, ap.getLoc(), type, *in).getResult();
    return AvgPoolOp::create(b, ap.getLoc(), type, *in, ap.getKernelAttr(),
                             ap.getStrideAttr(), ap.getPadAttr(),
                             b.getBoolAttr(false))
        .getResult();
  }
  return failure();
}

/// The quantized input of an op that only a clamp may follow in its
/// segment (a constant pad, a bilinear resize), or a located error.
FailureOr<Value> TosaToLowBitLowering::clampOnlySource(OpBuilder &b,
                                                       Operation *op, Value in,
                                                       const Epilogue &epi,
                                                       StringRef what) {
  if (epi.slopes || !epi.biasAdds.empty())
    return op->emitError("convert-tosa-to-lowbit: only a clamp may follow ")
               << what << " in one integer segment",
           failure();
  auto src = quantizedSource(b, in, op->getLoc());
  if (failed(src) && !sourceDiagnosed)
    op->emitError("convert-tosa-to-lowbit: the input of ")
        << what << " is not a quantized activation";
  return src;
}

/// A constant pad: the input rescaled to the result's scale, then padded
/// with the constant quantized at that scale (a pad of zeros is a stored
/// zero point).
FailureOr<Value> TosaToLowBitLowering::lowerPad(OpBuilder &b, tosa::PadOp pad,
                                                const Epilogue &epi,
                                                RankedTensorType outType) {
  Location loc = pad.getLoc();
  auto padding = constShape(pad.getPadding());
  auto padValue = floatValues(pad.getPadConst());
  if (!padding || !padValue || padValue->size() != 1)
    return pad.emitError("convert-tosa-to-lowbit: a pad needs constant "
                         "paddings and one constant pad value"),
           failure();
  auto src = clampOnlySource(b, pad, pad.getInput1(), epi, "a constant pad");
  if (failed(src))
    return failure();
  auto padQ = cast<quant::UniformQuantizedType>(outType.getElementType());
  auto r = rescale(b, loc, *src, epi, withElement(src->getType(), padQ));
  if (failed(r))
    return failure();
  auto [lo, hi] = saturation(epi, padQ);
  int64_t value = std::clamp(quantizeWith((*padValue)[0], padQ), lo, hi);
  Value p = PadOp::create(b, loc, withElement(pad.getType(), padQ), *r,
                          b.getDenseI64ArrayAttr(*padding),
                          b.getI64IntegerAttr(value));
  return reshapeTo(b, loc, p, outType.getShape());
}

/// A bilinear resize: the exact integer sum of the weighted neighbours, of
/// scale S_in / (n_y n_x), and one requant.
FailureOr<Value>
TosaToLowBitLowering::lowerBilinearResize(OpBuilder &b, tosa::ResizeOp rs,
                                          const Epilogue &epi,
                                          RankedTensorType outType) {
  Location loc = rs.getLoc();
  auto params = resizeParams(rs);
  if (!params)
    return rs.emitError("convert-tosa-to-lowbit: a resize needs constant "
                        "scale and offset"),
           failure();
  auto src = clampOnlySource(b, rs, rs.getInput(), epi, "a bilinear resize");
  if (failed(src))
    return failure();
  auto inQ = activationType(*src);
  auto outQ = cast<quant::UniformQuantizedType>(outType.getElementType());
  const SmallVector<int64_t> &sc = params->first;
  if (!bilinearResizeFitsInt32(inQ, sc[0], sc[2]))
    return rs.emitError("convert-tosa-to-lowbit: bilinear weights of ")
               << sc[0] << " x " << sc[2]
               << " steps overflow the 32-bit accumulator",
           failure();
  auto accType = withElement(rs.getType(), b.getI32Type());
  Value acc = ResizeOp::create(
      b, loc, accType, *src, b.getStringAttr("bilinear"),
      b.getDenseI64ArrayAttr(sc), b.getDenseI64ArrayAttr(params->second));
  auto m =
      multiplier(loc, inQ.getScale() / (static_cast<double>(sc[0] * sc[2]) *
                                        outQ.getScale()));
  if (failed(m))
    return failure();
  return reshapeTo(
      b, loc,
      perTensorRequant(b, loc, acc, *m, epi, withElement(accType, outQ)),
      outType.getShape());
}

} // namespace tosa_to_lowbit
} // namespace lowbit
} // namespace mlir
