//===- LowBitToEmitC.cpp - Integer lowbit IR to EmitC runtime calls -------===//
//
// Part of the lowbit project.
//
//===----------------------------------------------------------------------===//
//
// The module's integer-only function becomes two EmitC functions that call
// the lowbit runtime (see Passes.td for the contract). Memory is planned
// here: every tensor that is not a view, a constant or a caller's buffer
// gets a fixed offset in the caller's arena, chosen first-fit over tensor
// lifetimes in op order.
//
//===----------------------------------------------------------------------===//

#include "lowbit/Conversion/Passes.h"

#include "SingleFunction.h"

#include "LowBit/IR/LowBitOps.h"
#include "LowBit/Transforms/FloatFallback.h"
#include "LowBit/Utils/ConstantReader.h"

#include "mlir/Dialect/EmitC/IR/EmitC.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Quant/IR/QuantTypes.h"
#include "mlir/Dialect/Tosa/IR/TosaOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "lowbit/Support/HostTensor.h"
#include "lowbit/runtime/Fast.h"
#include "lowbit/runtime/ShiftKernels.h"

#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/raw_ostream.h"

#include <map>
#include <optional>

namespace lowbit {
#define GEN_PASS_DEF_CONVERTLOWBITTOEMITC
#include "lowbit/Conversion/Passes.h.inc"
} // namespace lowbit

using namespace mlir;
namespace lb = mlir::lowbit;
using lb::shapeStr;
using lb::zeroPointOf;

namespace {

constexpr int64_t kAlign = 64;

int64_t alignUp(int64_t v) { return (v + kAlign - 1) / kAlign * kAlign; }

/// Storage type of a tensor element type: an integer type for quantized
/// and integer elements, f32 for float32 (float fallback), else null.
Type storageType(Type elt) {
  if (elt.isF32())
    return elt;
  if (auto q = dyn_cast<quant::QuantizedType>(elt))
    return IntegerType::get(elt.getContext(), q.getStorageTypeIntegralWidth(),
                            q.isSigned() ? IntegerType::Signless
                                         : IntegerType::Unsigned);
  auto i = dyn_cast<IntegerType>(elt);
  if (!i)
    return {};
  return IntegerType::get(elt.getContext(), i.getWidth(),
                          i.isUnsigned() ? IntegerType::Unsigned
                                         : IntegerType::Signless);
}

/// C name of a storage type, or "" when the runtime has no kernel for it.
std::string cTypeName(Type storage) {
  if (storage && storage.isF32())
    return "float";
  auto t = dyn_cast_or_null<IntegerType>(storage);
  if (!t)
    return "";
  unsigned w = t.getWidth();
  if (w != 8 && w != 16 && w != 32 && w != 64)
    return "";
  return (t.isUnsigned() ? "uint" : "int") + std::to_string(w) + "_t";
}

/// Bytes of one element of a storage type.
int64_t storageBytes(Type storage) {
  if (storage.isF32())
    return 4;
  return cast<IntegerType>(storage).getWidth() / 8;
}

std::pair<int64_t, int64_t> storageRange(Type elt) {
  if (auto r = lb::getStorageRange(elt))
    return *r;
  return {0, 0};
}

/// A C++ literal that is exactly `v` (hexadecimal floating point).
std::string exactDouble(double v) {
  std::string s;
  llvm::raw_string_ostream os(s);
  os << llvm::format("%a", v);
  return s;
}

/// Where a tensor's bytes are.
struct Buffer {
  enum Kind { Input, Output, Arena, Constant } kind;
  int64_t index = 0; // argument / result number, or byte offset
};

struct Emitter {
  Emitter(ModuleOp module, func::FuncOp func, StringRef name)
      : module(module), func(func), name(name.str()),
        b(module.getContext()), ctx(module.getContext()) {}

  LogicalResult run();

private:
  /// The function's kBitDepthAttrName, checked: the block loop
  /// <name>_run_blocks emits.
  struct BitDepth {
    int64_t inputBits, networkBits, block, seed, channels, outChannels;
    std::string mode;
    bool dither;
  };
  std::optional<BitDepth> bitDepth;
  LogicalResult readBitDepth();
  // --- analysis --------------------------------------------------------
  Value root(Value v) {
    while (Operation *def = v.getDefiningOp()) {
      if (!isa<lb::ReshapeOp, lb::BitcastOp, tosa::ReshapeOp>(def))
        break;
      v = def->getOperand(0);
    }
    return v;
  }
  LogicalResult plan();
  /// The bytes of an integer constant in its C storage type.
  FailureOr<std::vector<uint8_t>> constantBytes(lb::ConstantOp op);
  FailureOr<int64_t> addConstant(lb::ConstantOp op);
  /// A convolution or fully connected layer that runs with its requant as
  /// one fast kernel call (Fast.h), and what that call needs.
  struct Fused {
    lb::RequantOp requant;
    bool depthwise = false;
    ::lowbit::rt::Conv2DShape shape{};
  };
  /// Whether `op` (a conv2d or fully_connected) fuses with its requant.
  std::optional<Fused> fusable(Operation *op);
  /// The fast kernel's parameters of an add on 8-bit tensors whose
  /// intermediates fit 32-bit lanes (Fast.h addFitsInt32).
  std::optional<::lowbit::rt::QAdd> fastAdd(lb::AddOp add);
  /// Lays out a fused layer's packed arrays in the blob; the descriptor
  /// literal of its kernel call.
  FailureOr<std::string> packFused(Operation *op, const Fused &f);
  FailureOr<int64_t> addFloatConstant(tosa::ConstOp op);
  /// An op of a region that stays float (float fallback) with a kernel.
  static bool isFloatKernelOp(Operation *op) {
    return lb::floatUnaryKind(op) || lb::floatBinaryKind(op) ||
           lb::isFloatReduce(op);
  }
  /// A float32 constant (read by float kernels); other TOSA constants are
  /// only a tosa.mul's shift, which the float kernel does not read.
  static bool isFloatConstant(Operation *op) {
    auto c = dyn_cast<tosa::ConstOp>(op);
    return c && cast<ShapedType>(c.getType()).getElementType().isF32();
  }
  int64_t addBlob(const void *data, size_t bytes) {
    int64_t off = alignUp(static_cast<int64_t>(blob.size()));
    blob.resize(off + bytes);
    if (bytes)
      std::memcpy(blob.data() + off, data, bytes);
    return off;
  }
  template <typename T> int64_t addArray(ArrayRef<T> values) {
    return addBlob(values.data(), values.size() * sizeof(T));
  }

  // --- emission --------------------------------------------------------
  Type ptrType(Type t, bool isConst) {
    if (isConst)
      return emitc::PointerType::get(
          emitc::OpaqueType::get(ctx, "const " + cTypeName(t)));
    return emitc::PointerType::get(t);
  }
  Attribute lit(const Twine &text) {
    return emitc::OpaqueAttr::get(ctx, text.str());
  }
  Attribute lit(int64_t v) { return lit(Twine(v)); }
  /// Pointer to `offset` of the arena or of the weight blob.
  Value pointerAt(Location loc, bool weights, int64_t offset, Type t);
  Value pointerOf(Value v);
  void call(Location loc, StringRef callee, ArrayRef<Value> operands,
            ArrayRef<Attribute> args, ArrayRef<std::string> templateArgs);
  /// quantizeTensor / dequantizeTensor of `count` elements of type `q`
  /// between float32 `f` and stored `s` (the float API's wrappers and the
  /// edges of float fallback regions).
  void quantizeCall(Location loc, Value f, Value s, int64_t count,
                    quant::UniformQuantizedType q) {
    if (q.getStorageTypeIntegralWidth() == 8) {
      // The vector kernel; the wrapper asks for the path itself.
      call(loc, "lowbit::rt::quantizeToBytes", {f, s},
           {b.getIndexAttr(0), b.getIndexAttr(1), lit(count),
            lit("static_cast<float>(" + exactDouble(q.getScale()) + ")"),
            lit(q.getZeroPoint()), lit(q.getStorageTypeMin()),
            lit(q.getStorageTypeMax()), lit("lowbit::rt::modelIsa()")},
           {});
      return;
    }
    call(loc, "lowbit::rt::quantizeTensor", {f, s},
         {b.getIndexAttr(0), b.getIndexAttr(1), lit(count),
          lit("static_cast<float>(" + exactDouble(q.getScale()) + ")"),
          lit(q.getZeroPoint()), lit(q.getStorageTypeMin()),
          lit(q.getStorageTypeMax())},
         {cTypeName(storageType(q))});
  }
  void dequantizeCall(Location loc, Value s, Value f, int64_t count,
                      quant::UniformQuantizedType q) {
    call(loc, "lowbit::rt::dequantizeTensor", {s, f},
         {b.getIndexAttr(0), b.getIndexAttr(1), lit(count),
          lit(exactDouble(q.getScale())), lit(q.getZeroPoint())},
         {cTypeName(storageType(q))});
  }
  LogicalResult emitOp(Operation *op);
  void emitFloatWrapper();
  std::string header();

  ModuleOp module;
  func::FuncOp func;
  std::string name;
  OpBuilder b;
  MLIRContext *ctx;

  std::vector<uint8_t> blob;
  llvm::DenseMap<Value, Buffer> buffers; // by root value
  int64_t arenaBytes = 0, stagingBytes = 0;
  SmallVector<int64_t> inputStaging, outputStaging;

  // Emission state.
  emitc::FuncOp runFunc;
  Value arena, weights;
  SmallVector<Value> inputs, outputs;
  llvm::DenseMap<Value, Value> pointers; // root value -> emitted pointer
  llvm::DenseMap<Operation *, Fused> fused;   // conv / fc -> its requant
  llvm::DenseSet<Operation *> fusedRequants;  // emitted with their conv
  llvm::DenseMap<Operation *, std::string> fusedDesc; // kernel descriptor
  llvm::DenseSet<Operation *> fourBitWeights; // fused, two weights per byte
  /// Layers with shift_products: their packed log / STLQ codes in the blob.
  struct ShiftWeights {
    ::lowbit::rt::LogWeightsDesc desc;
    int64_t offset = 0, bytes = 0;
  };
  llvm::DenseMap<Operation *, ShiftWeights> shiftWeights;
  bool usesFastKernels = false; // any call that takes the selected ISA
  Value isaValue; // lowbit::rt::modelIsa(), when a fast kernel is called
  std::string summary;
  int64_t floatOpCount = 0;  // float fallback ops
  int64_t floatEdgeCount = 0; // the dequantizes into and quantizes out of them
};

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

/// 8-bit storage of a tensor's element type: 1 signed, 0 unsigned, -1 other.
static int eightBitSignedness(Value v) {
  auto st = dyn_cast_or_null<IntegerType>(
      storageType(cast<RankedTensorType>(v.getType()).getElementType()));
  if (!st || st.getWidth() != 8)
    return -1;
  return st.isUnsigned() ? 0 : 1;
}

std::optional<Emitter::Fused> Emitter::fusable(Operation *op) {
  auto conv = dyn_cast<lb::Conv2DOp>(op);
  auto fc = dyn_cast<lb::FullyConnectedOp>(op);
  if (!conv && !fc)
    return std::nullopt;
  Value result = op->getResult(0), input = op->getOperand(0),
        weight = op->getOperand(1);
  Value bias = conv ? conv.getBias() : fc.getBias();
  if (op->hasAttr("weight_encoding"))
    return std::nullopt; // log / STLQ codes: the shift kernels
  // One user, the requant of the accumulator, 8-bit everything, int32
  // accumulators, constant weights and bias.
  if (!result.hasOneUse())
    return std::nullopt;
  auto rq = dyn_cast<lb::RequantOp>(*result.getUsers().begin());
  auto acc = cast<RankedTensorType>(result.getType());
  auto accElt = dyn_cast<IntegerType>(acc.getElementType());
  if (!rq || !accElt || accElt.getWidth() != 32 ||
      zeroPointOf(rq.getInput().getType().getElementType()) != 0 ||
      eightBitSignedness(input) < 0 || eightBitSignedness(weight) != 1 ||
      eightBitSignedness(rq.getResult()) < 0 ||
      !weight.getDefiningOp<lb::ConstantOp>() ||
      (bias && !bias.getDefiningOp<lb::ConstantOp>()))
    return std::nullopt;
  if (bias) {
    auto bt = dyn_cast<IntegerType>(
        storageType(cast<RankedTensorType>(bias.getType()).getElementType()));
    if (!bt || bt.getWidth() != 32)
      return std::nullopt;
  }
  int64_t rank = acc.getRank();
  if (std::optional<int64_t> axis = rq.getAxis())
    if (*axis != rank - 1)
      return std::nullopt;
  auto in = cast<RankedTensorType>(input.getType());
  auto w = cast<RankedTensorType>(weight.getType());
  Fused f;
  f.requant = rq;
  ::lowbit::rt::Conv2DShape &s = f.shape;
  if (fc) {
    if (in.getRank() != 2 || w.getRank() != 2)
      return std::nullopt;
    s = {in.getDimSize(0), 1, 1, in.getDimSize(1), 1, 1, w.getDimSize(0),
         1,                1, 1, 1, 1,               1, 0, 0, 1};
  } else {
    ArrayRef<int64_t> st = conv.getStride(), pd = conv.getPad(),
                      dl = conv.getDilation();
    s = {in.getDimSize(0),  in.getDimSize(1),  in.getDimSize(2),
         in.getDimSize(3),  acc.getDimSize(1), acc.getDimSize(2),
         acc.getDimSize(3), w.getDimSize(1),   w.getDimSize(2),
         st[0],             st[1],             dl[0],
         dl[1],             pd[0],             pd[2],
         static_cast<int64_t>(conv.getGroups())};
    f.depthwise = s.groups != 1 && s.groups == s.c && s.oc == s.c &&
                  w.getDimSize(3) == 1;
    if (!f.depthwise && !::lowbit::rt::gemmShapeSupported(s))
      return std::nullopt;
  }
  return f;
}

std::optional<::lowbit::rt::QAdd> Emitter::fastAdd(lb::AddOp add) {
  int as = eightBitSignedness(add.getLhs()), bs = eightBitSignedness(add.getRhs());
  if (as < 0 || bs < 0 || eightBitSignedness(add.getResult()) < 0)
    return std::nullopt;
  auto outElt = add.getType().getElementType();
  auto [slo, shi] = storageRange(outElt);
  ::lowbit::rt::QAdd d{};
  d.aSigned = as;
  d.bSigned = bs;
  d.aZp = static_cast<int32_t>(zeroPointOf(add.getLhs().getType().getElementType()));
  d.bZp = static_cast<int32_t>(zeroPointOf(add.getRhs().getType().getElementType()));
  d.inputShift = static_cast<int32_t>(add.getInputShiftAttr().getInt());
  auto sm = [](IntegerAttr m, IntegerAttr s) {
    return ::lowbit::rt::ScaleMultiplier{static_cast<int32_t>(m.getInt()),
                                         static_cast<int32_t>(s.getInt())};
  };
  d.aM = sm(add.getLhsMultiplierAttr(), add.getLhsShiftAttr());
  d.bM = sm(add.getRhsMultiplierAttr(), add.getRhsShiftAttr());
  d.outM = sm(add.getOutputMultiplierAttr(), add.getOutputShiftAttr());
  d.outZp = static_cast<int32_t>(zeroPointOf(outElt));
  d.lo = static_cast<int32_t>(add.getMin() ? *add.getMin() : slo);
  d.hi = static_cast<int32_t>(add.getMax() ? *add.getMax() : shi);
  d.mode = add.getRounding() == lb::RoundingMode::double_round
               ? ::lowbit::rt::RoundingMode::DoubleRound
               : ::lowbit::rt::RoundingMode::SingleRound;
  if (!::lowbit::rt::addFitsInt32(d))
    return std::nullopt;
  return d;
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

LogicalResult Emitter::plan() {
  Block &body = func.getBody().front();
  // Every op must have a kernel before anything is laid out.
  for (Operation &op : body) {
    bool floatFallback =
        isFloatKernelOp(&op) ||
        isa<lb::QuantizeOp, lb::DequantizeOp, tosa::ReshapeOp,
            tosa::TransposeOp, tosa::ConstOp, tosa::ConstShapeOp>(op);
    if (!floatFallback &&
        !isa<lb::ConstantOp, lb::ReshapeOp, lb::BitcastOp, lb::Conv2DOp,
             lb::FullyConnectedOp, lb::RequantOp, lb::PReluOp, lb::AddOp,
             lb::ClampOp, lb::MaxPoolOp, lb::AvgPoolOp, lb::GlobalAvgPoolOp,
             lb::TransposeOp, lb::ConcatOp, lb::SliceOp, lb::PadOp, lb::ResizeOp,
             func::ReturnOp>(op))
      return op.emitError("convert-lowbit-to-emitc: '")
                 << op.getName()
                 << "' has no kernel in the C++ target (lower the "
                    "model with convert-tosa-to-lowbit first)",
             failure();
    if (isa<lb::Conv2DOp, lb::FullyConnectedOp>(op) &&
        op.hasAttr("weight_encoding") && !op.hasAttr("shift_products"))
      return op.emitError("convert-lowbit-to-emitc: log / STLQ weights run "
                          "as shifts or int8: run lowbit-lower-log-to-shift "
                          "first"),
             failure();
  }
  for (BlockArgument arg : func.getArguments())
    buffers[arg] = {Buffer::Input, arg.getArgNumber()};
  auto ret = cast<func::ReturnOp>(body.getTerminator());
  // Results computed straight into the caller's output buffers.
  for (OpOperand &o : ret->getOpOperands()) {
    Value r = root(o.get());
    if (isa<BlockArgument>(r) || buffers.count(r) ||
        r.getDefiningOp<lb::ConstantOp>())
      continue; // copied at the end
    buffers[r] = {Buffer::Output, o.getOperandNumber()};
  }
  // Layers that run as one fast kernel with their requant, and the
  // constants only they read (their packed form replaces them in the blob).
  llvm::DenseSet<Operation *> packedOnly;
  for (Operation &op : body)
    if (std::optional<Fused> f = fusable(&op)) {
      fused[&op] = *f;
      fusedRequants.insert(f->requant);
    }
  usesFastKernels = !fused.empty();
  for (Operation &op : body) {
    if (auto add = dyn_cast<lb::AddOp>(op))
      usesFastKernels |= fastAdd(add).has_value();
    if (auto mp = dyn_cast<lb::MaxPoolOp>(op))
      usesFastKernels |= eightBitSignedness(mp.getInput()) >= 0;
  }
  for (Operation &op : body)
    if (op.hasAttr("shift_products")) {
      // The codes packed at their bit width replace the code constant.
      FailureOr<lb::PackedLogWeights> w = lb::getPackedLogWeights(&op);
      if (failed(w))
        return failure();
      ShiftWeights sw;
      sw.desc = w->desc;
      sw.bytes = static_cast<int64_t>(w->bytes.size());
      sw.offset = addBlob(w->bytes.data(), w->bytes.size());
      shiftWeights[&op] = sw;
    }
  for (Operation &op : body)
    if (auto c = dyn_cast<lb::ConstantOp>(op))
      if (!c->use_empty() && llvm::all_of(c->getUsers(), [&](Operation *u) {
            return fused.count(u) != 0 ||
                   (shiftWeights.count(u) != 0 &&
                    u->getOperand(1) == c.getResult());
          }))
        packedOnly.insert(c);
  // Lifetimes.
  llvm::DenseMap<Value, int64_t> lastUse;
  std::vector<Operation *> ops;
  for (Operation &op : body)
    ops.push_back(&op);
  for (int64_t i = 0, e = ops.size(); i < e; ++i)
    for (Value v : ops[i]->getOperands())
      lastUse[root(v)] = i;
  // First fit over live intervals, in op order.
  std::map<int64_t, std::pair<int64_t, int64_t>> live; // offset -> (end, last)
  for (int64_t i = 0, e = ops.size(); i < e; ++i) {
    Operation *op = ops[i];
    if (auto c = dyn_cast<lb::ConstantOp>(op)) {
      if (packedOnly.count(c))
        continue;
      auto off = addConstant(c);
      if (failed(off))
        return failure();
      buffers[c.getResult()] = {Buffer::Constant, *off};
      continue;
    }
    if (isFloatConstant(op)) {
      auto off = addFloatConstant(cast<tosa::ConstOp>(op));
      if (failed(off))
        return failure();
      buffers[op->getResult(0)] = {Buffer::Constant, *off};
      continue;
    }
    if (isa<lb::ReshapeOp, lb::BitcastOp, tosa::ReshapeOp, tosa::ConstOp,
            tosa::ConstShapeOp, func::ReturnOp>(op) ||
        fusedRequants.count(op))
      continue;
    // A fused layer writes its requant's result while it reads its input:
    // that result is placed here, where the input is still live.
    SmallVector<Value> results(op->getResults());
    if (auto it = fused.find(op); it != fused.end()) {
      auto desc = packFused(op, it->second);
      if (failed(desc))
        return failure();
      fusedDesc[op] = *desc;
      results = {it->second.requant.getResult()};
    }
    for (Value r : results) {
      if (buffers.count(r))
        continue;
      auto type = cast<RankedTensorType>(r.getType());
      Type st = storageType(type.getElementType());
      if (cTypeName(st).empty() || !type.hasStaticShape())
        return op->emitError("convert-lowbit-to-emitc: result type ")
                   << type << " has no C storage (static shape, 8 to 64-bit "
                              "integers)",
               failure();
      int64_t size = alignUp(type.getNumElements() * storageBytes(st));
      int64_t off = 0;
      for (auto &[start, endLast] : live) {
        if (off + size <= start)
          break;
        off = std::max(off, endLast.first);
      }
      live[off] = {off + size, lastUse.count(r) ? lastUse[r] : i};
      arenaBytes = std::max(arenaBytes, off + size);
      buffers[r] = {Buffer::Arena, off};
    }
    for (auto it = live.begin(); it != live.end();)
      it = it->second.second <= i ? live.erase(it) : std::next(it);
  }
  // Staging for the float wrapper, after the run's arena.
  stagingBytes = 0;
  auto stage = [&](Type t) {
    auto type = cast<RankedTensorType>(t);
    int64_t off = alignUp(arenaBytes) + stagingBytes;
    stagingBytes += alignUp(type.getNumElements() *
                            storageBytes(storageType(type.getElementType())));
    return off;
  };
  for (Type t : func.getArgumentTypes())
    inputStaging.push_back(stage(t));
  for (Type t : func.getResultTypes())
    outputStaging.push_back(
        cast<RankedTensorType>(t).getElementType().isF32() ? -1 : stage(t));
  return success();
}

Value Emitter::pointerAt(Location loc, bool fromWeights, int64_t offset,
                         Type t) {
  Type result = ptrType(t, fromWeights);
  auto op = emitc::CallOpaqueOp::create(
      b, loc, TypeRange{result}, "lowbit::rt::bufferAt",
      ValueRange{fromWeights ? weights : arena},
      b.getArrayAttr({b.getIndexAttr(0), lit(offset)}),
      b.getArrayAttr({lit(cTypeName(t))}));
  return op.getResult(0);
}

Value Emitter::pointerOf(Value v) {
  Value r = root(v);
  auto it = pointers.find(r);
  Value p = it->second;
  // A view with another storage type (a bitcast) casts the pointer.
  Type want =
      storageType(cast<RankedTensorType>(v.getType()).getElementType());
  Type have =
      storageType(cast<RankedTensorType>(r.getType()).getElementType());
  if (want == have)
    return p;
  bool isConst = buffers[r].kind == Buffer::Input ||
                 buffers[r].kind == Buffer::Constant;
  return emitc::CastOp::create(b, v.getLoc(), ptrType(want, isConst), p);
}

void Emitter::call(Location loc, StringRef callee, ArrayRef<Value> operands,
                   ArrayRef<Attribute> args,
                   ArrayRef<std::string> templateArgs) {
  SmallVector<Attribute> t;
  for (const std::string &s : templateArgs)
    t.push_back(lit(s));
  emitc::CallOpaqueOp::create(b, loc, TypeRange{}, callee, operands,
                              b.getArrayAttr(args),
                              t.empty() ? ArrayAttr() : b.getArrayAttr(t));
}

LogicalResult Emitter::emitOp(Operation *op) {
  Location loc = op->getLoc();
  if (isa<lb::ReshapeOp, lb::BitcastOp, lb::ConstantOp, tosa::ReshapeOp,
          tosa::ConstOp, tosa::ConstShapeOp>(op) ||
      fusedRequants.count(op))
    return success();
  auto fusedIt = fused.find(op);
  SmallVector<Value> results(op->getResults());
  if (fusedIt != fused.end())
    results = {fusedIt->second.requant.getResult()};
  // The result's pointer.
  for (Value r : results) {
    Buffer buf = buffers[r];
    Type st =
        storageType(cast<RankedTensorType>(r.getType()).getElementType());
    if (buf.kind == Buffer::Output)
      pointers[r] = outputs[buf.index];
    else
      pointers[r] = pointerAt(loc, false, buf.index, st);
  }
  auto idx = [&](unsigned i) { return b.getIndexAttr(i); };
  auto typeOf = [](Value v) {
    return cTypeName(
        storageType(cast<RankedTensorType>(v.getType()).getElementType()));
  };
  auto count = [](Value v) {
    return cast<RankedTensorType>(v.getType()).getNumElements();
  };
  llvm::raw_string_ostream sum(summary);
  auto describe = [&](Value v) {
    auto t = cast<RankedTensorType>(v.getType());
    std::string s = shapeStr(t.getShape()) + " ";
    llvm::raw_string_ostream os(s);
    if (auto q = dyn_cast<quant::UniformQuantizedType>(t.getElementType()))
      os << (q.isSigned() ? "i" : "u") << q.getStorageTypeIntegralWidth()
         << " scale " << llvm::format("%.6g", q.getScale()) << " zp "
         << q.getZeroPoint();
    else if (auto p = dyn_cast<quant::UniformQuantizedPerAxisType>(
                 t.getElementType()))
      os << (p.isSigned() ? "i" : "u") << p.getStorageTypeIntegralWidth()
         << " [" << p.getStorageTypeMin() << ", " << p.getStorageTypeMax()
         << "] per-channel (" << p.getScales().size() << " scales)";
    else
      os << t.getElementType();
    return s;
  };

  if (fusedIt != fused.end()) {
    Fused f = fusedIt->second;
    Value result = f.requant.getResult();
    call(loc,
         f.depthwise ? "lowbit::rt::depthwiseRequant"
                     : "lowbit::rt::convRequantGemm",
         {pointerOf(op->getOperand(0)), pointers[result], weights, isaValue},
         {idx(0), idx(1), idx(2), lit(fusedDesc[op]), idx(3)}, {});
    sum << (isa<lb::Conv2DOp>(op) ? "conv2d      " : "fully_conn  ")
        << describe(op->getOperand(0)) << " * "
        << describe(op->getOperand(1))
        << (f.depthwise ? " depthwise" : "")
        << " + requant -> " << describe(result) << " (fused, "
        << (f.depthwise ? "packed depthwise" : "packed GEMM") << " kernel"
        << (fourBitWeights.count(op) ? ", 4-bit weights two per byte" : "")
        << (op->hasAttr("lowbit.decoded_encoding")
                ? ", log codes decoded to int8"
                : "")
        << (f.requant.isDual() ? ", dual multiplier: PReLU" : "") << ")\n";
    return success();
  }
  // Log / STLQ layers with shift_products: the shift kernels on the packed
  // codes.
  auto shiftIt = shiftWeights.find(op);
  auto describeShift = [&](const ShiftWeights &sw) {
    std::string text;
    llvm::raw_string_ostream os(text);
    const ::lowbit::rt::LogWeightsDesc &d = sw.desc;
    if (::lowbit::rt::isStlq(d)) {
      auto stlq = cast<lb::STLQAttr>(op->getAttr("weight_encoding"));
      os << d.bits << "-bit STLQ codes, tile [" << d.tileIn << ", "
         << d.tileOut << "], " << stlq.getNumTwoWordTiles() << " of "
         << ::lowbit::rt::stlqTileCount(d) << " tiles two words";
    } else {
      os << d.bits << "-bit log codes";
    }
    os << ", " << sw.bytes << " bytes packed (shift-add kernel)";
    return text;
  };
  auto descLiteral = [](const ::lowbit::rt::LogWeightsDesc &d) {
    return ("lowbit::rt::LogWeightsDesc{" + Twine(d.oc) + ", " + Twine(d.kh) +
            ", " + Twine(d.kw) + ", " + Twine(d.ic) + ", " + Twine(d.bits) +
            ", " + Twine(d.tileIn) + ", " + Twine(d.tileOut) + "}")
        .str();
  };
  Type bytePtrType = IntegerType::get(ctx, 8, IntegerType::Unsigned);
  // The operands every convolution / fully connected call starts with:
  // input, weights (the packed codes and their descriptor for the shift
  // kernels, else the weight tensor), result, bias (or nullptr).
  const ShiftWeights *sw =
      shiftIt != shiftWeights.end() ? &shiftIt->second : nullptr;
  auto layerOperands = [&](Value input, Value weight, Value bias,
                           Value result, SmallVector<Value> &operands,
                           SmallVector<Attribute> &args) {
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
  };
  auto weightText = [&](Value weight) {
    return sw ? describeShift(*sw) : describe(weight);
  };
  if (auto conv = dyn_cast<lb::Conv2DOp>(op)) {
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
    layerOperands(conv.getInput(), conv.getWeight(), conv.getBias(),
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
    sum << "conv2d      " << describe(conv.getInput()) << " * "
        << weightText(conv.getWeight()) << " groups " << conv.getGroups()
        << " -> " << typeOf(conv.getResult()) << " accumulator"
        << (conv.getInputZpFolded() ? ", zero point folded into the bias"
                                    : "")
        << "\n";
    return success();
  }
  if (auto fc = dyn_cast<lb::FullyConnectedOp>(op)) {
    auto in = cast<RankedTensorType>(fc.getInput().getType());
    int64_t outputs = fc.getType().getDimSize(1);
    SmallVector<Value> operands;
    SmallVector<Attribute> args;
    layerOperands(fc.getInput(), fc.getWeight(), fc.getBias(), fc.getResult(),
                  operands, args);
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
    sum << "fully_conn  " << describe(fc.getInput()) << " * "
        << weightText(fc.getWeight()) << " -> " << typeOf(fc.getResult())
        << " accumulator"
        << (fc.getInputZpFolded() ? ", zero point folded into the bias" : "")
        << "\n";
    return success();
  }
  auto rounding = [&](lb::RoundingMode m) {
    return lit(m == lb::RoundingMode::double_round
                   ? "lowbit::rt::RoundingMode::DoubleRound"
                   : "lowbit::rt::RoundingMode::SingleRound");
  };
  auto requantCall = [&](Value in, Value result, ArrayRef<int32_t> mul,
                         ArrayRef<int32_t> shift,
                         std::optional<ArrayRef<int32_t>> negMul,
                         std::optional<ArrayRef<int32_t>> negShift,
                         std::optional<int64_t> axis, int64_t lo, int64_t hi,
                         lb::RoundingMode mode) {
    auto type = cast<RankedTensorType>(result.getType());
    int64_t inner = 1, channels = 1;
    if (axis) {
      for (int64_t d = *axis + 1; d < type.getRank(); ++d)
        inner *= type.getDimSize(d);
      channels = type.getDimSize(*axis);
    }
    int64_t mOff = addArray(mul), sOff = addArray(shift);
    auto i32 = IntegerType::get(ctx, 32);
    SmallVector<Value> operands = {pointerOf(in), pointers[result],
                                   pointerAt(loc, true, mOff, i32),
                                   pointerAt(loc, true, sOff, i32)};
    SmallVector<Attribute> args = {idx(0),       idx(1),
                                   lit(count(in)), lit(inner),
                                   lit(channels), idx(2),
                                   idx(3),       lit(mul.size() > 1 ? "true" : "false")};
    if (negMul) {
      operands.push_back(pointerAt(loc, true, addArray(*negMul), i32));
      operands.push_back(pointerAt(loc, true, addArray(*negShift), i32));
      args.append({idx(4), idx(5),
                   lit(negMul->size() > 1 ? "true" : "false")});
    } else {
      args.append({lit("nullptr"), lit("nullptr"), lit("false")});
    }
    Type outElt = type.getElementType();
    args.append({lit(zeroPointOf(cast<RankedTensorType>(in.getType())
                                     .getElementType())),
                 lit(zeroPointOf(outElt)), lit(lo), lit(hi), rounding(mode)});
    call(loc, "lowbit::rt::requantTensor", operands, args,
         {typeOf(in), typeOf(result)});
  };
  if (auto rq = dyn_cast<lb::RequantOp>(op)) {
    std::optional<ArrayRef<int32_t>> nm, ns;
    if (auto v = rq.getNegMultiplier())
      nm = *v;
    if (auto v = rq.getNegShift())
      ns = *v;
    requantCall(rq.getInput(), rq.getResult(), rq.getMultiplier(),
                rq.getShift(), nm, ns, rq.getAxis(), rq.getSaturationMin(),
                rq.getSaturationMax(), rq.getRounding());
    sum << "requant     -> " << describe(rq.getResult())
        << (rq.isDual() ? " (dual multiplier: PReLU)" : "")
        << (rq.getMin() || rq.getMax() ? " (clamped: ReLU/Clip)" : "")
        << "\n";
    return success();
  }
  if (auto pr = dyn_cast<lb::PReluOp>(op)) {
    int32_t pm = static_cast<int32_t>(pr.getPosMultiplier());
    int32_t ps = static_cast<int32_t>(pr.getPosShift());
    auto [lo, hi] = storageRange(pr.getType().getElementType());
    std::optional<int64_t> axis;
    if (IntegerAttr a = pr.getAxisAttr())
      axis = a.getInt();
    requantCall(pr.getInput(), pr.getResult(), ArrayRef<int32_t>(pm),
                ArrayRef<int32_t>(ps), pr.getNegMultiplier(),
                pr.getNegShift(), axis, lo, hi, pr.getRounding());
    sum << "prelu       -> " << describe(pr.getResult()) << "\n";
    return success();
  }
  if (auto add = dyn_cast<lb::AddOp>(op)) {
    if (std::optional<::lowbit::rt::QAdd> d = fastAdd(add)) {
      auto sm = [](::lowbit::rt::ScaleMultiplier m) {
        return "lowbit::rt::ScaleMultiplier{" + std::to_string(m.multiplier) +
               ", " + std::to_string(m.shift) + "}";
      };
      std::string desc =
          "lowbit::rt::QAdd{" + std::to_string(d->aSigned) + ", " +
          std::to_string(d->bSigned) + ", " + std::to_string(d->aZp) + ", " +
          std::to_string(d->bZp) + ", " + std::to_string(d->inputShift) +
          ", " + sm(d->aM) + ", " + sm(d->bM) + ", " + sm(d->outM) + ", " +
          std::to_string(d->outZp) + ", " + std::to_string(d->lo) + ", " +
          std::to_string(d->hi) + ", " +
          (d->mode == ::lowbit::rt::RoundingMode::DoubleRound
               ? "lowbit::rt::RoundingMode::DoubleRound"
               : "lowbit::rt::RoundingMode::SingleRound") +
          "}";
      call(loc, "lowbit::rt::addRequant",
           {pointerOf(add.getLhs()), pointerOf(add.getRhs()),
            pointers[add.getResult()], isaValue},
           {idx(0), idx(1), idx(2), lit(count(add.getLhs())), lit(desc),
            idx(3)},
           {});
      sum << "add         -> " << describe(add.getResult())
          << " (fast kernel)\n";
      return success();
    }
    auto outElt = add.getType().getElementType();
    auto [slo, shi] = storageRange(outElt);
    int64_t lo = add.getMin() ? *add.getMin() : slo;
    int64_t hi = add.getMax() ? *add.getMax() : shi;
    auto sm = [&](IntegerAttr m, IntegerAttr s) {
      return lit("lowbit::rt::ScaleMultiplier{" + std::to_string(m.getInt()) +
                 ", " + std::to_string(s.getInt()) + "}");
    };
    call(loc, "lowbit::rt::addTensor",
         {pointerOf(add.getLhs()), pointerOf(add.getRhs()),
          pointers[add.getResult()]},
         {idx(0), idx(1), idx(2), lit(count(add.getLhs())),
          lit(zeroPointOf(add.getLhs().getType().getElementType())),
          lit(zeroPointOf(add.getRhs().getType().getElementType())),
          lit(add.getInputShiftAttr().getInt()),
          sm(add.getLhsMultiplierAttr(), add.getLhsShiftAttr()),
          sm(add.getRhsMultiplierAttr(), add.getRhsShiftAttr()),
          sm(add.getOutputMultiplierAttr(), add.getOutputShiftAttr()),
          lit(zeroPointOf(outElt)), lit(lo), lit(hi),
          rounding(add.getRounding())},
         {typeOf(add.getLhs()), typeOf(add.getRhs()), typeOf(add.getResult())});
    sum << "add         -> " << describe(add.getResult()) << "\n";
    return success();
  }
  if (auto cl = dyn_cast<lb::ClampOp>(op)) {
    call(loc, "lowbit::rt::clampTensor",
         {pointerOf(cl.getInput()), pointers[cl.getResult()]},
         {idx(0), idx(1), lit(count(cl.getInput())), lit(cl.getMin()),
          lit(cl.getMax())},
         {typeOf(cl.getInput())});
    sum << "clamp       -> " << describe(cl.getResult()) << "\n";
    return success();
  }
  if (isa<lb::MaxPoolOp, lb::AvgPoolOp, lb::GlobalAvgPoolOp>(op)) {
    Value in = op->getOperand(0), res = op->getResult(0);
    auto it = cast<RankedTensorType>(in.getType());
    auto ot = cast<RankedTensorType>(res.getType());
    SmallVector<int64_t> k = {it.getDimSize(1), it.getDimSize(2)},
                         s = {1, 1}, p = {0, 0, 0, 0};
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
      call(loc, "lowbit::rt::maxPoolBytes",
           {pointerOf(in), pointers[res], isaValue},
           {idx(0), idx(1), lit(shape),
            lit(eightBitSignedness(in) ? "true" : "false"), idx(2)},
           {});
      sum << "max_pool    -> " << describe(res) << " (fast kernel)\n";
    } else if (isa<lb::MaxPoolOp>(op)) {
      call(loc, "lowbit::rt::maxPool2d", {pointerOf(in), pointers[res]},
           {idx(0), idx(1), lit(shape)}, {typeOf(in)});
      sum << "max_pool    -> " << describe(res) << "\n";
    } else {
      auto [lo, hi] = storageRange(ot.getElementType());
      call(loc, "lowbit::rt::avgPool2dInt", {pointerOf(in), pointers[res]},
           {idx(0), idx(1), lit(shape), lit(zeroPointOf(ot.getElementType())),
            lit(lo), lit(hi), lit(includePad ? "true" : "false")},
           {typeOf(in)});
      sum << "avg_pool    -> " << describe(res) << "\n";
    }
    return success();
  }
  if (isa<lb::TransposeOp, tosa::TransposeOp>(op)) {
    // An integer transpose, or a float one in a float fallback region: the
    // kernel moves elements of any size.
    Value in = op->getOperand(0), res = op->getResult(0);
    ArrayRef<int32_t> perms = isa<lb::TransposeOp>(op)
                                  ? cast<lb::TransposeOp>(op).getPerms()
                                  : cast<tosa::TransposeOp>(op).getPerms();
    auto it = cast<RankedTensorType>(in.getType());
    SmallVector<int64_t> shape(it.getShape());
    int64_t shapeOff = addArray(ArrayRef<int64_t>(shape));
    int64_t permOff = addArray(perms);
    Type st = storageType(it.getElementType());
    call(loc, "lowbit::rt::transpose",
         {pointerOf(in), pointers[res],
          pointerAt(loc, true, shapeOff, IntegerType::get(ctx, 64)),
          pointerAt(loc, true, permOff, IntegerType::get(ctx, 32))},
         {idx(0), idx(1), lit(storageBytes(st)), idx(2), idx(3),
          lit(it.getRank())},
         {});
    sum << "transpose   -> " << describe(res)
        << (isa<tosa::TransposeOp>(op) ? " (float fallback)" : "") << "\n";
    if (isa<tosa::TransposeOp>(op))
      ++floatOpCount;
    return success();
  }
  if (auto rs = dyn_cast<lb::ResizeOp>(op)) {
    Value in = rs.getInput(), res = rs.getResult();
    auto it = rs.getInput().getType();
    auto ot = rs.getType();
    ArrayRef<int64_t> sc = rs.getScale(), off = rs.getOffset();
    std::string shape;
    llvm::raw_string_ostream os(shape);
    os << "lowbit::rt::ResizeShape{" << it.getDimSize(0) << ", "
       << it.getDimSize(1) << ", " << it.getDimSize(2) << ", "
       << it.getDimSize(3) << ", " << ot.getDimSize(1) << ", "
       << ot.getDimSize(2) << ", {" << sc[0] << ", " << sc[1] << ", "
       << off[0] << "}, {" << sc[2] << ", " << sc[3] << ", " << off[1]
       << "}}";
    Type st = storageType(it.getElementType());
    if (rs.getMode() == "nearest") {
      call(loc, "lowbit::rt::resizeNearest", {pointerOf(in), pointers[res]},
           {idx(0), idx(1), lit(storageBytes(st)), lit(shape)}, {});
      sum << "resize      -> " << describe(res) << " (nearest)\n";
    } else {
      call(loc, "lowbit::rt::resizeBilinearInt", {pointerOf(in), pointers[res]},
           {idx(0), idx(1), lit(shape),
            lit(zeroPointOf(it.getElementType()))},
           {cTypeName(st)});
      sum << "resize      -> " << describe(res) << " (bilinear)\n";
    }
    return success();
  }
  if (isa<lb::SliceOp, lb::PadOp>(op)) {
    // Data movement on stored values of any width (the runtime's byte-wise
    // kernels, the ones the evaluator runs).
    Value in = op->getOperand(0), res = op->getResult(0);
    auto it = cast<RankedTensorType>(in.getType());
    auto ot = cast<RankedTensorType>(res.getType());
    Type st = storageType(it.getElementType());
    Type i64 = IntegerType::get(ctx, 64);
    int64_t shapeOff = addArray(it.getShape());
    if (auto sl = dyn_cast<lb::SliceOp>(op)) {
      int64_t startOff = addArray(sl.getStart());
      int64_t sizeOff = addArray(ot.getShape());
      call(loc, "lowbit::rt::slice",
           {pointerOf(in), pointers[res], pointerAt(loc, true, shapeOff, i64),
            pointerAt(loc, true, startOff, i64),
            pointerAt(loc, true, sizeOff, i64)},
           {idx(0), idx(1), lit(storageBytes(st)), idx(2), lit(it.getRank()),
            idx(3), idx(4)},
           {});
      sum << "slice       -> " << describe(res) << "\n";
      return success();
    }
    auto pad = cast<lb::PadOp>(op);
    SmallVector<int64_t> before, after;
    for (int64_t d = 0; d < it.getRank(); ++d) {
      before.push_back(pad.getPadding()[2 * d]);
      after.push_back(pad.getPadding()[2 * d + 1]);
    }
    int64_t beforeOff = addArray(ArrayRef<int64_t>(before));
    int64_t afterOff = addArray(ArrayRef<int64_t>(after));
    // The pad value as one stored element (little endian, like the blob).
    int64_t value = static_cast<int64_t>(pad.getPadValue());
    int64_t valueOff = addBlob(&value, static_cast<size_t>(storageBytes(st)));
    call(loc, "lowbit::rt::pad",
         {pointerOf(in), pointers[res], pointerAt(loc, true, shapeOff, i64),
          pointerAt(loc, true, beforeOff, i64),
          pointerAt(loc, true, afterOff, i64),
          pointerAt(loc, true, valueOff, st)},
         {idx(0), idx(1), lit(storageBytes(st)), idx(2), lit(it.getRank()),
          idx(3), idx(4), idx(5)},
         {});
    sum << "pad         -> " << describe(res) << "\n";
    return success();
  }
  if (auto cat = dyn_cast<lb::ConcatOp>(op)) {
    auto ot = cat.getType();
    int64_t axis = cat.getAxis();
    int64_t outer = 1, after = 1;
    for (int64_t d = 0; d < axis; ++d)
      outer *= ot.getDimSize(d);
    for (int64_t d = axis + 1; d < ot.getRank(); ++d)
      after *= ot.getDimSize(d);
    int64_t offset = 0;
    for (Value in : cat.getInputs()) {
      int64_t inInner =
          cast<RankedTensorType>(in.getType()).getDimSize(axis) * after;
      call(loc, "lowbit::rt::concatSlice", {pointerOf(in), pointers[cat.getResult()]},
           {idx(0), idx(1), lit(outer), lit(inInner),
            lit(ot.getDimSize(axis) * after), lit(offset)},
           {typeOf(in)});
      offset += inInner;
    }
    sum << "concat      -> " << describe(cat.getResult()) << "\n";
    return success();
  }
  // Float fallback: the region between a dequantize and a quantize.
  auto perTensor = [&](Value v) -> FailureOr<quant::UniformQuantizedType> {
    auto q = dyn_cast<quant::UniformQuantizedType>(
        cast<RankedTensorType>(v.getType()).getElementType());
    if (!q)
      return op->emitError("convert-lowbit-to-emitc: float fallback needs "
                           "a per-tensor quantized type, got ")
                 << v.getType(),
             failure();
    return q;
  };
  if (auto dq = dyn_cast<lb::DequantizeOp>(op)) {
    auto q = perTensor(dq.getInput());
    if (failed(q))
      return failure();
    dequantizeCall(loc, pointerOf(dq.getInput()), pointers[dq.getResult()],
                   count(dq.getInput()), *q);
    sum << "dequantize  -> " << describe(dq.getResult())
        << " (float fallback)\n";
    ++floatEdgeCount;
    return success();
  }
  if (auto qo = dyn_cast<lb::QuantizeOp>(op)) {
    auto q = perTensor(qo.getResult());
    if (failed(q))
      return failure();
    quantizeCall(loc, pointerOf(qo.getInput()), pointers[qo.getResult()],
                 count(qo.getInput()), *q);
    sum << "quantize    -> " << describe(qo.getResult())
        << " (float fallback)\n";
    ++floatEdgeCount;
    return success();
  }
  std::string opName = op->getName().getStringRef().str();
  if (auto kind = lb::floatUnaryKind(op)) {
    static const char *names[] = {"Exp",    "Reciprocal", "Sigmoid", "Tanh",
                                  "Negate", "Abs",        "Floor",   "Ceil"};
    call(loc, "lowbit::rt::unaryTensorF32",
         {pointerOf(op->getOperand(0)), pointers[op->getResult(0)]},
         {idx(0), idx(1), lit(count(op->getResult(0))),
          lit(std::string("lowbit::rt::UnaryKind::") +
              names[static_cast<int>(*kind)])},
         {});
    sum << "float       " << opName << " -> " << describe(op->getResult(0))
        << " (float fallback)\n";
    ++floatOpCount;
    return success();
  }
  if (auto kind = lb::floatBinaryKind(op)) {
    static const char *names[] = {"Add", "Sub", "Mul", "Maximum", "Minimum"};
    auto out = cast<RankedTensorType>(op->getResult(0).getType());
    int64_t rank = out.getRank();
    if (rank > 4)
      return op->emitError("convert-lowbit-to-emitc: float fallback "
                           "supports elementwise ops of rank <= 4, got ")
                 << rank,
             failure();
    std::string spec;
    llvm::raw_string_ostream os(spec);
    auto list = [&](auto valueAt) {
      os << "{";
      for (int64_t d = 0; d < 4; ++d)
        os << (d ? ", " : "") << (d < 4 - rank ? 0 : valueAt(d - (4 - rank)));
      os << "}";
    };
    auto strides = [&](Value v) {
      auto t = cast<RankedTensorType>(v.getType());
      SmallVector<int64_t> st(rank, 0);
      int64_t s = 1;
      for (int64_t d = rank - 1; d >= 0; --d) {
        st[d] = t.getDimSize(d) == 1 && out.getDimSize(d) != 1 ? 0 : s;
        s *= t.getDimSize(d);
      }
      return st;
    };
    SmallVector<int64_t> sa = strides(op->getOperand(0)),
                         sb = strides(op->getOperand(1));
    os << "lowbit::rt::Broadcast4{";
    // Leading padded dimensions have extent 1 (and any stride).
    os << "{";
    for (int64_t d = 0; d < 4; ++d)
      os << (d ? ", " : "") << (d < 4 - rank ? 1 : out.getDimSize(d - (4 - rank)));
    os << "}, ";
    list([&](int64_t d) { return sa[d]; });
    os << ", ";
    list([&](int64_t d) { return sb[d]; });
    os << "}";
    call(loc, "lowbit::rt::broadcastBinaryF32",
         {pointerOf(op->getOperand(0)), pointerOf(op->getOperand(1)),
          pointers[op->getResult(0)]},
         {idx(0), idx(1), idx(2),
          lit(std::string("lowbit::rt::BinaryKind::") +
              names[static_cast<int>(*kind)]),
          lit(spec)},
         {});
    sum << "float       " << opName << " -> " << describe(op->getResult(0))
        << " (float fallback)\n";
    ++floatOpCount;
    return success();
  }
  if (lb::isFloatReduce(op)) {
    bool isMax = isa<tosa::ReduceMaxOp>(op);
    int64_t axis = isMax ? cast<tosa::ReduceMaxOp>(op).getAxis()
                         : cast<tosa::ReduceSumOp>(op).getAxis();
    auto in = cast<RankedTensorType>(op->getOperand(0).getType());
    int64_t outer = 1, inner = 1;
    for (int64_t d = 0; d < axis; ++d)
      outer *= in.getDimSize(d);
    for (int64_t d = axis + 1; d < in.getRank(); ++d)
      inner *= in.getDimSize(d);
    call(loc, "lowbit::rt::reduceF32",
         {pointerOf(op->getOperand(0)), pointers[op->getResult(0)]},
         {idx(0), idx(1), lit(outer), lit(in.getDimSize(axis)), lit(inner),
          lit(isMax ? "true" : "false")},
         {});
    sum << "float       " << opName << " -> " << describe(op->getResult(0))
        << " (float fallback)\n";
    ++floatOpCount;
    return success();
  }
  return op->emitError("convert-lowbit-to-emitc: '")
             << op->getName()
             << "' has no kernel in the C++ target (lower the model "
                "with convert-tosa-to-lowbit first)",
         failure();
}

void Emitter::emitFloatWrapper() {
  Location loc = func.getLoc();
  SmallVector<Type> args;
  auto f32 = b.getF32Type();
  for (size_t i = 0; i < func.getNumArguments(); ++i)
    args.push_back(
        emitc::PointerType::get(emitc::OpaqueType::get(ctx, "const float")));
  for (size_t i = 0; i < func.getNumResults(); ++i)
    args.push_back(emitc::PointerType::get(f32));
  Type voidPtr = emitc::PointerType::get(emitc::OpaqueType::get(ctx, "void"));
  args.push_back(voidPtr);
  auto i32 = b.getI32Type();
  auto fn = emitc::FuncOp::create(b, loc, name + "_run_float",
                                  FunctionType::get(ctx, args, {i32}));
  fn.setSpecifiersAttr(b.getStrArrayAttr({"extern \"C\""}));
  Block *entry = fn.addEntryBlock();
  OpBuilder::InsertionGuard g(b);
  b.setInsertionPointToStart(entry);
  Value arenaArg = entry->getArgument(args.size() - 1);
  Value savedArena = arena;
  arena = arenaArg;
  SmallVector<Value> qIn, qOut;
  for (size_t i = 0; i < func.getNumArguments(); ++i) {
    auto t = cast<RankedTensorType>(func.getArgumentTypes()[i]);
    auto q = cast<quant::UniformQuantizedType>(t.getElementType());
    Type st = storageType(q);
    Value p = pointerAt(loc, false, inputStaging[i], st);
    qIn.push_back(p);
    quantizeCall(loc, entry->getArgument(i), p, t.getNumElements(), q);
  }
  for (size_t i = 0; i < func.getNumResults(); ++i) {
    auto t = cast<RankedTensorType>(func.getResultTypes()[i]);
    // A float result is written straight into the caller's buffer.
    qOut.push_back(outputStaging[i] < 0
                       ? entry->getArgument(func.getNumArguments() + i)
                       : pointerAt(loc, false, outputStaging[i],
                                   storageType(t.getElementType())));
  }
  SmallVector<Value> runArgs(qIn);
  runArgs.append(qOut);
  runArgs.push_back(arenaArg);
  emitc::CallOpaqueOp::create(b, loc, TypeRange{i32}, name + "_run",
                              runArgs);
  for (size_t i = 0; i < func.getNumResults(); ++i) {
    auto t = cast<RankedTensorType>(func.getResultTypes()[i]);
    auto q = dyn_cast<quant::UniformQuantizedType>(t.getElementType());
    if (!q)
      continue; // float32 already
    dequantizeCall(loc, qOut[i],
                   entry->getArgument(func.getNumArguments() + i),
                   t.getNumElements(), q);
  }
  Value zero = emitc::ConstantOp::create(b, loc, i32, b.getI32IntegerAttr(0));
  emitc::ReturnOp::create(b, loc, zero);
  arena = savedArena;
}

std::string Emitter::header() {
  std::string upper;
  for (char c : name)
    upper += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  std::string s;
  llvm::raw_string_ostream os(s);
  os << "// Generated by lowbitc: "
     << (floatOpCount ? "integer model (with float fallback ops, see " +
                            name + "_summary.txt)"
                      : std::string("integer-only model"))
     << " '" << name << "'.\n"
     << "// Link with the lowbit runtime; compile " << name
     << "_weights.S with -I on the folder that holds " << name
     << ".weights.bin.\n"
     << "#ifndef " << upper << "_H\n#define " << upper << "_H\n\n"
     << "#include <stdint.h>\n\n"
     << "#ifdef __cplusplus\nextern \"C\" {\n#endif\n\n"
     << "// Bytes of scratch memory a call needs (run or run_float); the "
        "arena must be\n// aligned to 64 bytes. Calls on different arenas may "
        "run concurrently.\n"
     << (usesFastKernels
             ? "// The fast kernels run on the calling thread; "
               "lowbit_set_threads(n) (lowbit/runtime/\n// Threads.h) lets "
               "them split large layers over n threads, with the same "
               "outputs.\n"
             : "")
     << "#define " << upper << "_ARENA_BYTES " << alignUp(arenaBytes) + stagingBytes
     << "\n#define " << upper << "_WEIGHT_BYTES " << blob.size() << "\n";
  auto dims = [&](RankedTensorType type) {
    std::string d;
    llvm::raw_string_ostream ds(d);
    llvm::interleaveComma(type.getShape(), ds);
    return d;
  };
  auto describe = [&](StringRef kind, unsigned i, Type t) {
    auto type = cast<RankedTensorType>(t);
    auto q = dyn_cast<quant::UniformQuantizedType>(type.getElementType());
    os << "#define " << upper << "_" << kind << i << "_ELEMENTS "
       << type.getNumElements() << "\n";
    os << "#define " << upper << "_" << kind << i << "_RANK " << type.getRank()
       << "\n";
    os << "#define " << upper << "_" << kind << i << "_SHAPE {" << dims(type)
       << "}\n";
    if (!q) {
      os << "// " << kind.lower() << " " << i
         << " is float32 (the result of ops that stay float)\n";
      return;
    }
    os << "#define " << upper << "_" << kind << i
       << "_SCALE " << llvm::format("%.17g", q.getScale()) << "\n#define "
       << upper << "_" << kind << i << "_ZERO_POINT " << q.getZeroPoint()
       << "\n";
  };
  os << "#define " << upper << "_NUM_INPUTS " << func.getNumArguments()
     << "\n#define " << upper << "_NUM_OUTPUTS " << func.getNumResults()
     << "\n";
  for (unsigned i = 0; i < func.getNumArguments(); ++i)
    describe("INPUT", i, func.getArgumentTypes()[i]);
  for (unsigned i = 0; i < func.getNumResults(); ++i)
    describe("OUTPUT", i, func.getResultTypes()[i]);
  // The same as lists, for callers that handle any number of tensors:
  // element counts, ranks, and all dimensions one tensor after another.
  auto lists = [&](StringRef kind, TypeRange types) {
    auto list = [&](StringRef what, auto fn) {
      os << "#define " << upper << "_" << kind << "_" << what << "_LIST {";
      llvm::interleaveComma(
          types, os, [&](Type t) { os << fn(cast<RankedTensorType>(t)); });
      os << "}\n";
    };
    list("ELEMENTS",
         [](RankedTensorType t) { return std::to_string(t.getNumElements()); });
    list("RANKS",
         [](RankedTensorType t) { return std::to_string(t.getRank()); });
    list("DIMS", [&](RankedTensorType t) { return dims(t); });
  };
  lists("INPUT", func.getArgumentTypes());
  lists("OUTPUT", func.getResultTypes());
  os << "\n// Integer API: quantized inputs and outputs (shapes as in the "
        "model). Returns 0.\nint32_t "
     << name << "_run(";
  for (unsigned i = 0; i < func.getNumArguments(); ++i)
    os << "const "
       << cTypeName(storageType(
              cast<RankedTensorType>(func.getArgumentTypes()[i])
                  .getElementType()))
       << " *in" << i << ", ";
  for (unsigned i = 0; i < func.getNumResults(); ++i)
    os << cTypeName(storageType(
              cast<RankedTensorType>(func.getResultTypes()[i])
                  .getElementType()))
       << " *out" << i << ", ";
  os << "void *arena);\n\n// Float API: quantizes the inputs, runs, "
        "dequantizes the outputs. Returns 0.\nint32_t "
     << name << "_run_float(";
  for (unsigned i = 0; i < func.getNumArguments(); ++i)
    os << "const float *in" << i << ", ";
  for (unsigned i = 0; i < func.getNumResults(); ++i)
    os << "float *out" << i << ", ";
  os << "void *arena);\n\n// The float API with the pointers in arrays: "
        "in[i] is in<i>, out[i] is out<i>.\nint32_t "
     << name
     << "_run_float_array(const float *const *in, float *const *out, "
        "void *arena);\n";
  if (bitDepth) {
    const BitDepth &d = *bitDepth;
    os << "\n// Adaptive bit depth control (lowbit/runtime/BitDepth.h): "
       << d.inputBits << "-bit images in " << d.block << "x" << d.block
       << " blocks, mode " << d.mode << ",\n// the network's input "
       << d.networkBits << " bits" << (d.dither ? ", dithered" : "")
       << ". image [" << d.channels << ", height, width], out ["
       << d.outChannels << ", height, width];\n// scratch holds "
       << upper << "_BLOCKS_SCRATCH_FLOATS floats. Returns 0, 1 for a pixel "
          "above 2^"
       << d.inputBits << " - 1\n// (nothing run), 3 if the network "
          "failed.\n"
       << "#define " << upper << "_INPUT_BIT_DEPTH " << d.inputBits << "\n"
       << "#define " << upper << "_BLOCK " << d.block << "\n"
       << "#define " << upper << "_BLOCK_CHANNELS " << d.channels << "\n"
       << "#define " << upper << "_BLOCK_OUT_CHANNELS " << d.outChannels
       << "\n"
       << "#define " << upper << "_BLOCKS_SCRATCH_FLOATS "
       << (d.channels + d.outChannels) * d.block * d.block << "\n"
       << "int32_t " << name
       << "_run_blocks(const uint16_t *image, int64_t height, int64_t width, "
          "uint16_t *out, float *scratch, void *arena);\n";
  }
  os << "\n#ifdef __cplusplus\n}\n#endif\n\n#endif // " << upper << "_H\n";
  return s;
}

LogicalResult Emitter::readBitDepth() {
  Attribute raw = func->getAttr(::lowbit::kBitDepthAttrName);
  if (!raw)
    return success();
  auto error = [&](const Twine &why) {
    return func.emitError("convert-lowbit-to-emitc: ")
               << ::lowbit::kBitDepthAttrName << ": " << why,
           failure();
  };
  auto dict = dyn_cast<DictionaryAttr>(raw);
  if (!dict)
    return error("must be a dictionary");
  auto integer = [&](StringRef key) -> std::optional<int64_t> {
    if (auto a = dict.getAs<IntegerAttr>(key))
      return a.getInt();
    return std::nullopt;
  };
  auto n = integer("input_bits"), k = integer("network_bits"),
       bl = integer("block"), seed = integer("seed");
  auto mode = dict.getAs<StringAttr>("mode");
  auto dither = dict.getAs<BoolAttr>("dither");
  if (!n || !k || !bl || !seed || !mode || !dither)
    return error("needs input_bits, network_bits, block, seed (integers), "
                 "mode (a string) and dither (a bool)");
  if (*n < 1 || *n > 16 || *k < 1 || *k > *n || *bl < 1 || *bl > 4096 ||
      *seed < 0 || *seed > 0xffffffffll)
    return error("input_bits must be in [1, 16], network_bits in [1, "
                 "input_bits], block in [1, 4096], seed a uint32");
  if (mode.getValue() != "adaptive" && mode.getValue() != "truncate" &&
      mode.getValue() != "none")
    return error("mode must be adaptive, truncate or none");
  if (func.getNumArguments() != 1 || func.getNumResults() != 1)
    return error("the model must have one input and one output");
  auto in = cast<RankedTensorType>(func.getArgumentTypes()[0]);
  auto out = cast<RankedTensorType>(func.getResultTypes()[0]);
  auto isBlock = [&](RankedTensorType t) {
    return t.getRank() == 4 && t.getDimSize(0) == 1 &&
           t.getDimSize(2) == *bl && t.getDimSize(3) == *bl;
  };
  if (!isBlock(in) || !isBlock(out))
    return error("the input and the output must be [1, C, block, block]");
  bitDepth = BitDepth{*n,
                      *k,
                      *bl,
                      *seed,
                      in.getDimSize(1),
                      out.getDimSize(1),
                      mode.getValue().str(),
                      dither.getValue()};
  return success();
}

LogicalResult Emitter::run() {
  if (failed(readBitDepth()))
    return failure();
  unsigned numArgs = func.getNumArguments();
  for (auto [i, t] : llvm::enumerate(llvm::concat<const Type>(
           func.getArgumentTypes(), func.getResultTypes()))) {
    auto type = dyn_cast<RankedTensorType>(t);
    if (!type || !type.hasStaticShape() ||
        !isa<quant::UniformQuantizedType>(type.getElementType()) ||
        cTypeName(storageType(type.getElementType())).empty()) {
      // A float result of a float fallback region (e.g. a Q/DQ model's
      // float Softmax) is returned as float32.
      if (i >= numArgs && type && type.hasStaticShape() &&
          type.getElementType().isF32())
        continue;
      return func.emitError("convert-lowbit-to-emitc: every input and result "
                            "must be a static tensor quantized per tensor "
                            "(run convert-tosa-to-lowbit first), or a "
                            "float32 result; got ")
                 << t,
             failure();
    }
  }
  if (failed(plan()))
    return failure();

  Location loc = func.getLoc();
  b.setInsertionPointToEnd(module.getBody());
  emitc::IncludeOp::create(b, loc, "lowbit/runtime/Ops.h");
  if (!shiftWeights.empty())
    emitc::IncludeOp::create(b, loc, "lowbit/runtime/ShiftKernels.h");
  emitc::IncludeOp::create(b, loc, "lowbit/runtime/Fast.h");
  if (bitDepth)
    emitc::IncludeOp::create(b, loc, "lowbit/runtime/BitDepth.h");
  emitc::IncludeOp::create(b, loc, b.getStringAttr(name + ".h"), UnitAttr());
  emitc::VerbatimOp::create(
      b, loc,
      b.getStringAttr("extern \"C\" const unsigned char " + name +
                      "_weights[];"));

  SmallVector<Type> args;
  for (Type t : func.getArgumentTypes())
    args.push_back(ptrType(
        storageType(cast<RankedTensorType>(t).getElementType()), true));
  for (Type t : func.getResultTypes())
    args.push_back(ptrType(
        storageType(cast<RankedTensorType>(t).getElementType()), false));
  Type voidPtr = emitc::PointerType::get(emitc::OpaqueType::get(ctx, "void"));
  args.push_back(voidPtr);
  auto i32 = b.getI32Type();
  runFunc = emitc::FuncOp::create(b, loc, name + "_run",
                                  FunctionType::get(ctx, args, {i32}));
  runFunc.setSpecifiersAttr(b.getStrArrayAttr({"extern \"C\""}));
  Block *entry = runFunc.addEntryBlock();
  {
    OpBuilder::InsertionGuard g(b);
    b.setInsertionPointToStart(entry);
    unsigned n = func.getNumArguments(), m = func.getNumResults();
    for (unsigned i = 0; i < n; ++i)
      inputs.push_back(entry->getArgument(i));
    for (unsigned i = 0; i < m; ++i)
      outputs.push_back(entry->getArgument(n + i));
    arena = entry->getArgument(n + m);
    weights = emitc::LiteralOp::create(
        b, loc,
        emitc::PointerType::get(
            emitc::OpaqueType::get(ctx, "const unsigned char")),
        name + "_weights");
    if (usesFastKernels)
      isaValue = emitc::CallOpaqueOp::create(
                b, loc, TypeRange{emitc::OpaqueType::get(ctx, "lowbit::rt::Isa")},
                "lowbit::rt::modelIsa", ValueRange{})
                .getResult(0);
    for (BlockArgument a : func.getArguments())
      pointers[a] = inputs[a.getArgNumber()];
    Block &body = func.getBody().front();
    for (Operation &op : body) {
      if (auto c = dyn_cast<lb::ConstantOp>(op)) {
        if (!buffers.count(c.getResult()))
          continue; // only read by fused layers, in their packed form
        pointers[c.getResult()] = pointerAt(
            c.getLoc(), true, buffers[c.getResult()].index,
            storageType(c.getType().getElementType()));
        continue;
      }
      if (isFloatConstant(&op)) {
        pointers[op.getResult(0)] =
            pointerAt(op.getLoc(), true, buffers[op.getResult(0)].index,
                      b.getF32Type());
        continue;
      }
      if (isa<func::ReturnOp>(op))
        continue;
      if (failed(emitOp(&op)))
        return failure();
    }
    // Results that are inputs, constants or a second view of a result.
    auto ret = cast<func::ReturnOp>(body.getTerminator());
    for (OpOperand &o : ret->getOpOperands()) {
      Value r = root(o.get());
      Buffer buf = buffers[r];
      if (buf.kind == Buffer::Output && buf.index == o.getOperandNumber())
        continue;
      auto t = cast<RankedTensorType>(o.get().getType());
      int64_t bytes =
          t.getNumElements() * storageBytes(storageType(t.getElementType()));
      call(ret.getLoc(), "lowbit::rt::copyBytes",
           {pointerOf(o.get()), outputs[o.getOperandNumber()]},
           {b.getIndexAttr(0), b.getIndexAttr(1), lit(bytes)}, {});
    }
    Value zero = emitc::ConstantOp::create(b, loc, i32, b.getI32IntegerAttr(0));
    emitc::ReturnOp::create(b, loc, zero);
  }
  emitFloatWrapper();
  {
    // <name>_run_float_array: the float API over arrays of pointers.
    std::string text;
    llvm::raw_string_ostream ts(text);
    ts << "extern \"C\" int32_t " << name
       << "_run_float_array(const float *const *in, float *const *out, "
          "void *arena) {\n  return "
       << name << "_run_float(";
    for (unsigned i = 0; i < func.getNumArguments(); ++i)
      ts << "in[" << i << "], ";
    for (unsigned i = 0; i < func.getNumResults(); ++i)
      ts << "out[" << i << "], ";
    ts << "arena);\n}";
    emitc::VerbatimOp::create(b, loc, b.getStringAttr(text));
  }
  if (bitDepth) {
    // <name>_run_blocks: the runtime's block loop with the float API as the
    // network (lowbit/runtime/BitDepth.h).
    const BitDepth &d = *bitDepth;
    std::string text;
    llvm::raw_string_ostream ts(text);
    ts << "extern \"C\" int32_t " << name
       << "_run_blocks(const uint16_t *image, int64_t height, int64_t width, "
          "uint16_t *out, float *scratch, void *arena) {\n"
       << "  lowbit::rt::BitDepthConfig config{};\n"
       << "  config.inputBits = " << d.inputBits << ";\n"
       << "  config.networkBits = " << d.networkBits << ";\n"
       << "  config.block = " << d.block << ";\n"
       << "  config.channels = " << d.channels << ";\n"
       << "  config.outChannels = " << d.outChannels << ";\n"
       << "  config.mode = lowbit::rt::BitDepthMode::"
       << (d.mode == "adaptive"   ? "Adaptive"
           : d.mode == "truncate" ? "Truncate"
                                  : "None")
       << ";\n"
       << "  config.dither = " << (d.dither ? 1 : 0) << ";\n"
       << "  config.seed = " << d.seed << "u;\n"
       << "  return lowbit::rt::runBitDepthBlocks(image, height, width, out, "
          "config, scratch,\n"
       << "      [arena](const float *in, float *res) { return " << name
       << "_run_float(in, res, arena); });\n}";
    emitc::VerbatimOp::create(b, loc, b.getStringAttr(text));
  }

  // The files around the C++.
  auto blobType = RankedTensorType::get(
      {static_cast<int64_t>(blob.size())}, IntegerType::get(ctx, 8));
  module->setAttr("lowbit.weights",
                  DenseElementsAttr::getFromRawBuffer(
                      blobType, ArrayRef<char>(reinterpret_cast<const char *>(
                                                   blob.data()),
                                               blob.size())));
  module->setAttr("lowbit.header", b.getStringAttr(header()));
  module->setAttr("lowbit.model_name", b.getStringAttr(name));
  module->setAttr("lowbit.arena_bytes",
                  b.getI64IntegerAttr(alignUp(arenaBytes) + stagingBytes));
  std::string fullSummary;
  llvm::raw_string_ostream os(fullSummary);
  os << "model " << name << ": arena " << alignUp(arenaBytes) + stagingBytes
     << " bytes (" << arenaBytes << " for the integer run), weights blob "
     << blob.size() << " bytes\n";
  if (floatOpCount)
    os << "float fallback: " << floatOpCount
       << " ops run in float32 (no integer form; see the compiler's "
          "warnings); "
       << floatEdgeCount << " quantize/dequantize ops at their edges\n";
  os << summary;
  module->setAttr("lowbit.summary", b.getStringAttr(fullSummary));
  func.erase();
  return success();
}

struct ConvertLowBitToEmitCPass
    : public ::lowbit::impl::ConvertLowBitToEmitCBase<ConvertLowBitToEmitCPass> {
  using Base::Base;
  void runOnOperation() override {
    ModuleOp module = getOperation();
    std::string name = modelName;
    bool valid = !name.empty() && !std::isdigit(static_cast<unsigned char>(name[0]));
    for (char c : name)
      valid &= std::isalnum(static_cast<unsigned char>(c)) || c == '_';
    if (!valid) {
      module.emitError() << "convert-lowbit-to-emitc: model-name '" << name
                         << "' is not a C identifier";
      return signalPassFailure();
    }
    FailureOr<func::FuncOp> func = ::lowbit::getSingleFunction(module, "convert-lowbit-to-emitc");
    if (failed(func))
      return signalPassFailure();
Emitter e(module, *func, name);
    if (failed(e.run()))
      return signalPassFailure();
  }
};

} // namespace
