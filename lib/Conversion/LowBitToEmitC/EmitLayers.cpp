//===- EmitLayers.cpp - Convolutions, fully connected layers, pools -------===//
//
// Part of the lowbit project.
//
//===----------------------------------------------------------------------===//
//
// A layer fused with its requant calls one fast kernel (Fast.h); other
// convolutions and fully connected layers call the reference kernels, or
// the shift-add kernels on packed log / STLQ codes (ShiftKernels.h); pools
// call the vector max pool on 8-bit values or the reference pools.
//
//===----------------------------------------------------------------------===//

#include "EmitterImpl.h"

#include "llvm/Support/raw_ostream.h"

namespace lowbit {
namespace emitc_target {

LogicalResult Emitter::emitFused(Operation *op, Fused f) {
  Location loc = op->getLoc();
  llvm::raw_string_ostream sum(summary);
  Value result = f.requant.getResult();
  call(loc,
       f.depthwise ? "lowbit::rt::depthwiseRequant"
                   : "lowbit::rt::convRequantGemm",
       {pointerOf(op->getOperand(0)), pointers[result], weights, isaValue},
       {idx(0), idx(1), idx(2), lit(fusedDesc[op]), idx(3)}, {});
  sum << (isa<lb::Conv2DOp>(op) ? "conv2d      " : "fully_conn  ")
      << describeValue(op->getOperand(0)) << " * "
      << describeValue(op->getOperand(1))
      << (f.depthwise ? " depthwise" : "")
      << " + requant -> " << describeValue(result) << " (fused, "
      << (f.depthwise ? "packed depthwise" : "packed GEMM") << " kernel"
      << (fourBitWeights.count(op) ? ", 4-bit weights two per byte" : "")
      << (op->hasAttr("lowbit.decoded_encoding")
              ? ", log codes decoded to int8"
              : "")
      << (f.requant.isDual() ? ", dual multiplier: PReLU" : "") << ")\n";
  return success();
}

/// The descriptor literal of packed log / STLQ codes.
static std::string descLiteral(const ::lowbit::rt::LogWeightsDesc &d) {
  return ("lowbit::rt::LogWeightsDesc{" + Twine(d.oc) + ", " + Twine(d.kh) +
          ", " + Twine(d.kw) + ", " + Twine(d.ic) + ", " + Twine(d.bits) +
          ", " + Twine(d.tileIn) + ", " + Twine(d.tileOut) + "}")
      .str();
}

void Emitter::layerOperands(Location loc, const ShiftWeights *sw, Value input,
                            Value weight, Value bias, Value result,
                            SmallVector<Value> &operands,
                            SmallVector<Attribute> &args) {
  Type bytePtrType = IntegerType::get(ctx, 8, IntegerType::Unsigned);
  operands = {pointerOf(input),
              sw ? pointerAt(loc, true, sw->offset, bytePtrType)
                 : pointerOf(weight),
              pointers[result]};
  args = {idx(0), idx(1)};
  if (sw)
    args.push_back(lit(descLiteral(sw->desc)));
  if (bias) {
    operands.push_back(pointerOf(bias));
    args.push_back(idx(3));
  } else {
    args.push_back(lit("nullptr"));
  }
}

std::string Emitter::weightText(Operation *op, const ShiftWeights *sw,
                                Value weight) {
  if (!sw)
    return describeValue(weight);
  std::string text;
  llvm::raw_string_ostream os(text);
  const ::lowbit::rt::LogWeightsDesc &d = sw->desc;
  if (::lowbit::rt::isStlq(d)) {
    auto stlq = cast<lb::STLQAttr>(op->getAttr("weight_encoding"));
    os << d.bits << "-bit STLQ codes, tile [" << d.tileIn << ", "
       << d.tileOut << "], " << stlq.getNumTwoWordTiles() << " of "
       << ::lowbit::rt::stlqTileCount(d) << " tiles two words";
  } else {
    os << d.bits << "-bit log codes";
  }
  os << ", " << sw->bytes << " bytes packed (shift-add kernel)";
  return text;
}

LogicalResult Emitter::emitConv(lb::Conv2DOp conv) {
  Location loc = conv.getLoc();
  llvm::raw_string_ostream sum(summary);
  // Log / STLQ layers with shift_products: the shift kernels on the packed
  // codes.
  auto shiftIt = shiftWeights.find(conv);
  const ShiftWeights *sw =
      shiftIt != shiftWeights.end() ? &shiftIt->second : nullptr;
  auto in = cast<RankedTensorType>(conv.getInput().getType());
  auto out = conv.getType();
  auto w = cast<RankedTensorType>(conv.getWeight().getType());
  // STLQ codes carry a leading dimension of 2: the kernel size is the
  // descriptor's.
  int64_t kh = sw ? sw->desc.kh : w.getDimSize(1);
  int64_t kw = sw ? sw->desc.kw : w.getDimSize(2);
  ArrayRef<int64_t> st = conv.getStride(), pd = conv.getPad(),
                    dl = conv.getDilation();
  std::string shape;
  llvm::raw_string_ostream os(shape);
  os << "lowbit::rt::Conv2DShape{" << in.getDimSize(0) << ", "
     << in.getDimSize(1) << ", " << in.getDimSize(2) << ", "
     << in.getDimSize(3) << ", " << out.getDimSize(1) << ", "
     << out.getDimSize(2) << ", " << out.getDimSize(3) << ", " << kh
     << ", " << kw << ", " << st[0] << ", " << st[1] << ", " << dl[0]
     << ", " << dl[1] << ", " << pd[0] << ", " << pd[2] << ", "
     << static_cast<int64_t>(conv.getGroups()) << "}";
  SmallVector<Value> operands;
  SmallVector<Attribute> args;
  layerOperands(loc, sw, conv.getInput(), conv.getWeight(), conv.getBias(),
                conv.getResult(), operands, args);
  int64_t zp = zeroPointOf(in.getElementType());
  if (sw) {
    // Valid taps subtract zp; padded taps add zp * w when it is folded.
    args.append({lit(conv.getInputZpFolded() ? 0 : zp),
                 lit(conv.getInputZpFolded() ? zp : 0), idx(2), lit(shape)});
    call(loc, "lowbit::rt::conv2dShift", operands, args,
         {typeOf(conv.getInput()), typeOf(conv.getResult())});
  } else {
    args.append({lit(zp), idx(2), lit(shape)});
    call(loc,
         conv.getInputZpFolded() ? "lowbit::rt::conv2dFoldedZp"
                                 : "lowbit::rt::conv2dTensor",
         operands, args,
         {typeOf(conv.getInput()), typeOf(conv.getWeight()),
          typeOf(conv.getResult())});
  }
  sum << "conv2d      " << describeValue(conv.getInput()) << " * "
      << weightText(conv, sw, conv.getWeight()) << " groups "
      << conv.getGroups() << " -> " << typeOf(conv.getResult())
      << " accumulator"
      << (conv.getInputZpFolded() ? ", zero point folded into the bias" : "")
      << "\n";
  return success();
}

LogicalResult Emitter::emitFullyConnected(lb::FullyConnectedOp fc) {
  Location loc = fc.getLoc();
  llvm::raw_string_ostream sum(summary);
  auto shiftIt = shiftWeights.find(fc);
  const ShiftWeights *sw =
      shiftIt != shiftWeights.end() ? &shiftIt->second : nullptr;
  auto in = cast<RankedTensorType>(fc.getInput().getType());
  int64_t outputs = fc.getType().getDimSize(1);
  SmallVector<Value> operands;
  SmallVector<Attribute> args;
  layerOperands(loc, sw, fc.getInput(), fc.getWeight(), fc.getBias(),
                fc.getResult(), operands, args);
  args.append({lit(fc.getInputZpFolded() ? 0
                                         : zeroPointOf(in.getElementType())),
               idx(2), lit(in.getDimSize(0)), lit(in.getDimSize(1)),
               lit(outputs)});
  if (sw)
    call(loc, "lowbit::rt::fullyConnectedShift", operands, args,
         {typeOf(fc.getInput()), typeOf(fc.getResult())});
  else
    call(loc, "lowbit::rt::fullyConnectedInt", operands, args,
         {typeOf(fc.getInput()), typeOf(fc.getWeight()),
          typeOf(fc.getResult())});
  sum << "fully_conn  " << describeValue(fc.getInput()) << " * "
      << weightText(fc, sw, fc.getWeight()) << " -> "
      << typeOf(fc.getResult()) << " accumulator"
      << (fc.getInputZpFolded() ? ", zero point folded into the bias" : "")
      << "\n";
  return success();
}

LogicalResult Emitter::emitPool(Operation *op) {
  Location loc = op->getLoc();
  llvm::raw_string_ostream sum(summary);
  Value in = op->getOperand(0), res = op->getResult(0);
  auto it = cast<RankedTensorType>(in.getType());
  auto ot = cast<RankedTensorType>(res.getType());
  SmallVector<int64_t> k = {it.getDimSize(1), it.getDimSize(2)}, s = {1, 1},
                       p = {0, 0, 0, 0};
  bool includePad = false;
  if (auto mp = dyn_cast<lb::MaxPoolOp>(op)) {
    k.assign(mp.getKernel().begin(), mp.getKernel().end());
    s.assign(mp.getStride().begin(), mp.getStride().end());
    p.assign(mp.getPad().begin(), mp.getPad().end());
  } else if (auto ap = dyn_cast<lb::AvgPoolOp>(op)) {
    k.assign(ap.getKernel().begin(), ap.getKernel().end());
    s.assign(ap.getStride().begin(), ap.getStride().end());
    p.assign(ap.getPad().begin(), ap.getPad().end());
    includePad = ap.getCountIncludePad();
  }
  std::string shape;
  llvm::raw_string_ostream os(shape);
  os << "lowbit::rt::Pool2DShape{" << it.getDimSize(0) << ", "
     << it.getDimSize(1) << ", " << it.getDimSize(2) << ", "
     << it.getDimSize(3) << ", " << ot.getDimSize(1) << ", "
     << ot.getDimSize(2) << ", " << k[0] << ", " << k[1] << ", " << s[0]
     << ", " << s[1] << ", " << p[0] << ", " << p[2] << "}";
  if (isa<lb::MaxPoolOp>(op) && eightBitSignedness(in) >= 0) {
    call(loc, "lowbit::rt::maxPoolBytes", {pointerOf(in), pointers[res], isaValue},
         {idx(0), idx(1), lit(shape),
          lit(eightBitSignedness(in) ? "true" : "false"), idx(2)},
         {});
    sum << "max_pool    -> " << describeValue(res) << " (fast kernel)\n";
  } else if (isa<lb::MaxPoolOp>(op)) {
    call(loc, "lowbit::rt::maxPool2d", {pointerOf(in), pointers[res]},
         {idx(0), idx(1), lit(shape)}, {typeOf(in)});
    sum << "max_pool    -> " << describeValue(res) << "\n";
  } else {
    auto [lo, hi] = storageRange(ot.getElementType());
    call(loc, "lowbit::rt::avgPool2dInt", {pointerOf(in), pointers[res]},
         {idx(0), idx(1), lit(shape), lit(zeroPointOf(ot.getElementType())),
          lit(lo), lit(hi), lit(includePad ? "true" : "false")},
         {typeOf(in)});
    sum << "avg_pool    -> " << describeValue(res) << "\n";
  }
  return success();
}

} // namespace emitc_target
} // namespace lowbit
