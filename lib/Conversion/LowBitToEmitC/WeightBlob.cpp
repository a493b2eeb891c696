//===- WeightBlob.cpp - Constants and packed weights in the blob ----------===//
//
// Part of the lowbit project.
//
//===----------------------------------------------------------------------===//

#include "EmitterImpl.h"

#include "lowbit/Support/HostTensor.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectResourceBlobManager.h"

namespace lowbit {
namespace emitc_target {

FailureOr<std::vector<uint8_t>> Emitter::constantBytes(lb::ConstantOp op) {
  auto type = cast<RankedTensorType>(op.getType());
  auto st = dyn_cast_or_null<IntegerType>(storageType(type.getElementType()));
  if (!st || cTypeName(st).empty())
    return op.emitError("convert-lowbit-to-emitc: constant element type ")
               << type.getElementType()
               << " has no C storage type (8, 16, 32 or 64 bits)",
           failure();
  unsigned bytesPer = st.getWidth() / 8;
  // A constant goes into the weight blob byte by byte: refuse one beyond
  // lowbit's tensor limit before allocating (a splat can claim 2^38
  // elements in a few bytes of IR).
  std::optional<int64_t> count = ::lowbit::checkedNumElements(type.getShape());
  if (!count ||
      static_cast<uint64_t>(*count) > ::lowbit::kMaxTensorBytes / bytesPer)
    return op.emitError("convert-lowbit-to-emitc: constant ")
               << type
               << " is larger than lowbit's limit of 2 GiB for one tensor",
           failure();
  Attribute value = op.getValue();
  auto elements = dyn_cast<ElementsAttr>(value);
  std::optional<std::vector<uint8_t>> read;
  if (elements)
    read = lb::readIntegerBytes(elements, bytesPer);
  if (!read) {
    if (isa<DenseResourceElementsAttr>(value))
      return op.emitError("convert-lowbit-to-emitc: cannot read the "
                          "constant's resource"),
             failure();
    return op.emitError("convert-lowbit-to-emitc: unsupported constant "
                        "attribute"),
           failure();
  }
  std::vector<uint8_t> bytes = std::move(*read);
  if (static_cast<int64_t>(bytes.size()) != type.getNumElements() * bytesPer)
    return op.emitError("convert-lowbit-to-emitc: constant has ")
               << bytes.size() << " bytes, expected "
               << type.getNumElements() * bytesPer,
           failure();
  return bytes;
}

FailureOr<int64_t> Emitter::addConstant(lb::ConstantOp op) {
  auto bytes = constantBytes(op);
  if (failed(bytes))
    return failure();
  return addBlob(bytes->data(), bytes->size());
}


FailureOr<std::string> Emitter::packFused(Operation *op, const Fused &f) {
  namespace rt = ::lowbit::rt;
  const rt::Conv2DShape &s = f.shape;
  auto conv = dyn_cast<lb::Conv2DOp>(op);
  auto fc = dyn_cast<lb::FullyConnectedOp>(op);
  Value input = op->getOperand(0);
  Value bias = conv ? conv.getBias() : fc.getBias();
  bool folded = conv ? conv.getInputZpFolded() : fc.getInputZpFolded();
  auto wBytes = constantBytes(op->getOperand(1).getDefiningOp<lb::ConstantOp>());
  if (failed(wBytes))
    return failure();
  std::vector<int32_t> biasValues;
  if (bias) {
    auto bBytes = constantBytes(bias.getDefiningOp<lb::ConstantOp>());
    if (failed(bBytes))
      return failure();
    biasValues.resize(bBytes->size() / 4);
    std::memcpy(biasValues.data(), bBytes->data(), bBytes->size());
  }
  const auto *w = reinterpret_cast<const int8_t *>(wBytes->data());
  const int32_t *b = bias ? biasValues.data() : nullptr;
  const int32_t inZp = static_cast<int32_t>(
      zeroPointOf(cast<RankedTensorType>(input.getType()).getElementType()));
  const bool inSigned = eightBitSignedness(input) == 1;
  const int64_t taps = s.kh * s.kw;
  // Weights of 4 bits (their type's range, and so every value, in [-8, 7])
  // are stored two per byte.
  auto [wMin, wMax] = storageRange(
      cast<RankedTensorType>(op->getOperand(1).getType()).getElementType());
  const int32_t weightBits =
      !f.depthwise && wMin >= -8 && wMax <= 7 &&
              rt::gemmWeightsFit4(w, static_cast<int64_t>(wBytes->size()))
          ? 4
          : 8;
  const int64_t padded =
      f.depthwise ? rt::depthwisePaddedChannels(s.c)
                  : rt::gemmPacking(s.oc, s.kh, s.kw, s.c).ocPadded;

  std::string desc;
  llvm::raw_string_ostream os(desc);
  auto shapeLit = [&]() {
    os << "lowbit::rt::Conv2DShape{" << s.n << ", " << s.h << ", " << s.w
       << ", " << s.c << ", " << s.oh << ", " << s.ow << ", " << s.oc << ", "
       << s.kh << ", " << s.kw << ", " << s.strideH << ", " << s.strideW
       << ", " << s.dilationH << ", " << s.dilationW << ", " << s.padTop
       << ", " << s.padLeft << ", " << s.groups << "}";
  };
  if (f.depthwise) {
    std::vector<int32_t> packed(taps * padded);
    rt::packDepthwiseWeights(w, s.c, taps, packed.data());
    std::vector<int32_t> pb(padded);
    rt::depthwiseBias(w, b, s.c, taps, inZp, folded, pb.data());
    os << "lowbit::rt::QDepthwiseConv{";
    shapeLit();
    os << ", " << addArray(ArrayRef<int32_t>(packed)) << ", "
       << addArray(ArrayRef<int32_t>(pb));
  } else {
    rt::GemmPacking p = rt::gemmPacking(s.oc, s.kh, s.kw, s.c, weightBits);
    std::vector<int8_t> packed(p.bytes);
    rt::packGemmWeights(w, p, packed.data());
    std::vector<int32_t> pb(p.ocPadded);
    rt::gemmBias(w, b, p, inZp, folded, inSigned, pb.data());
    std::vector<int8_t> zeroRow(rt::gemmZeroRowBytes(p),
                                static_cast<int8_t>(inZp));
    os << "lowbit::rt::QGemmConv{";
    shapeLit();
    os << ", " << addArray(ArrayRef<int8_t>(packed)) << ", "
       << addArray(ArrayRef<int32_t>(pb)) << ", "
       << addArray(ArrayRef<int8_t>(zeroRow));
  }
  lb::RequantOp rq = f.requant;
  auto expanded = [&](ArrayRef<int32_t> mul, ArrayRef<int32_t> shift) {
    std::vector<int32_t> m(padded), sh(padded);
    rt::expandRequant(mul.data(), shift.data(), mul.size() > 1, s.oc, padded,
                      m.data(), sh.data());
    os << ", " << addArray(ArrayRef<int32_t>(m)) << ", "
       << addArray(ArrayRef<int32_t>(sh));
  };
  expanded(rq.getMultiplier(), rq.getShift());
  if (rq.isDual())
    expanded(*rq.getNegMultiplier(), *rq.getNegShift());
  else
    os << ", -1, -1";
  os << ", " << (inSigned ? 1 : 0);
  if (f.depthwise)
    os << ", " << inZp;
  os << ", " << zeroPointOf(rq.getType().getElementType()) << ", "
     << rq.getSaturationMin() << ", " << rq.getSaturationMax() << ", "
     << (rq.getRounding() == lb::RoundingMode::double_round
             ? "lowbit::rt::RoundingMode::DoubleRound"
             : "lowbit::rt::RoundingMode::SingleRound");
  if (!f.depthwise)
    os << ", " << weightBits;
  os << "}";
  if (weightBits == 4)
    fourBitWeights.insert(op);
  return desc;
}


FailureOr<int64_t> Emitter::addFloatConstant(tosa::ConstOp op) {
  auto dense = dyn_cast<DenseFPElementsAttr>(op.getValues());
  auto type = cast<ShapedType>(op.getType());
  if (!dense || !type.hasStaticShape())
    return op.emitError("convert-lowbit-to-emitc: float constant must be "
                        "dense with a static shape"),
           failure();
  std::vector<float> values;
  values.reserve(type.getNumElements());
  for (float v : dense.getValues<float>())
    values.push_back(v);
  return addArray(ArrayRef<float>(values));
}

} // namespace emitc_target
} // namespace lowbit
