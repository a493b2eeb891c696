//===- EmitterImpl.h - LowBitToEmitC internals -*- C++ -*- ----------------===//
//
// Part of the lowbit project.
//
//===----------------------------------------------------------------------===//
//
// What the files of convert-lowbit-to-emitc share: the C storage types of
// tensor elements, and the Emitter, which plans the arena and the weight blob
// (MemoryPlan.cpp, WeightBlob.cpp, Fusion.cpp) and emits one runtime call per
// op (Emitter.cpp dispatches to EmitLayers.cpp, EmitElementwise.cpp,
// EmitMovement.cpp and EmitFloatFallback.cpp), then the model's entry points
// and header (Interface.cpp). Private to lib/Conversion/LowBitToEmitC.
//
//===----------------------------------------------------------------------===//

#ifndef LOWBIT_LIB_CONVERSION_LOWBITTOEMITC_EMITTERIMPL_H
#define LOWBIT_LIB_CONVERSION_LOWBITTOEMITC_EMITTERIMPL_H

#include "LowBit/IR/LowBitOps.h"
#include "LowBit/Transforms/FloatFallback.h"
#include "LowBit/Utils/ConstantReader.h"

#include "mlir/Dialect/EmitC/IR/EmitC.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Quant/IR/QuantTypes.h"
#include "mlir/Dialect/Tosa/IR/TosaOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "lowbit/runtime/Fast.h"
#include "lowbit/runtime/ShiftKernels.h"

#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/DenseSet.h"

#include <cstring>
#include <optional>
#include <string>
#include <vector>

namespace lowbit {
namespace emitc_target {

using namespace mlir;
namespace lb = mlir::lowbit;

constexpr int64_t kAlign = 64;

inline int64_t alignUp(int64_t v) { return (v + kAlign - 1) / kAlign * kAlign; }

/// Storage type of a tensor element type: an integer type for quantized
/// and integer elements, f32 for float32 (float fallback), else null.
Type storageType(Type elt);
/// C name of a storage type, or "" when the runtime has no kernel for it.
std::string cTypeName(Type storage);
/// Bytes of one element of a storage type.
int64_t storageBytes(Type storage);
using lb::zeroPointOf;
std::pair<int64_t, int64_t> storageRange(Type elt);
/// A C++ literal that is exactly `v` (hexadecimal floating point).
std::string exactDouble(double v);
using lb::shapeStr;
/// 8-bit storage of a tensor's element type: 1 signed, 0 unsigned, -1 other.
int eightBitSignedness(Value v);
/// A tensor value's shape and element type as the summary prints them.
std::string describeValue(Value v);

/// Where a tensor's bytes are.
struct Buffer {
  enum Kind { Input, Output, Arena, Constant } kind;
  int64_t index = 0; // argument / result number, or byte offset
};

/// Emits one integer lowbit function as EmitC: plans the arena and the weight
/// blob, then emits one runtime call per op (the Emit*.cpp files, by family).
struct Emitter {
  Emitter(ModuleOp module, func::FuncOp func, StringRef name)
      : module(module), func(func), name(name.str()),
        b(module.getContext()), ctx(module.getContext()) {}

  LogicalResult run();

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

  // --- one op's call, by family -----------------------------------------
  // Layers (EmitLayers.cpp): fused conv/FC + requant, the reference and
  // shift-add convolution and fully connected kernels, pools.
  LogicalResult emitFused(Operation *op, Fused f);
  LogicalResult emitConv(lb::Conv2DOp conv);
  LogicalResult emitFullyConnected(lb::FullyConnectedOp fc);
  LogicalResult emitPool(Operation *op);
  // Requantization and integer elementwise ops (EmitElementwise.cpp).
  LogicalResult emitRequant(lb::RequantOp rq);
  LogicalResult emitPRelu(lb::PReluOp pr);
  LogicalResult emitAdd(lb::AddOp add);
  LogicalResult emitClamp(lb::ClampOp cl);
  LogicalResult emitLookup(lb::LookupOp lut);
  LogicalResult emitMul(lb::MulOp mul);
  LogicalResult emitSoftmax(lb::SoftmaxOp sm);
  LogicalResult emitMatMul(lb::MatMulOp mm);
  // Data movement (EmitMovement.cpp).
  LogicalResult emitTranspose(Operation *op);
  LogicalResult emitResize(lb::ResizeOp rs);
  LogicalResult emitSliceOrPad(Operation *op);
  LogicalResult emitConcat(lb::ConcatOp cat);
  // Float fallback regions (EmitFloatFallback.cpp): their quantize and
  // dequantize edges and the float kernels; any other op is an error.
  LogicalResult emitDequantize(lb::DequantizeOp dq);
  LogicalResult emitQuantize(lb::QuantizeOp qo);
  LogicalResult emitFloatKernelOrFail(Operation *op);

  // --- what the families share -------------------------------------------
  Attribute idx(unsigned i) { return b.getIndexAttr(i); }
  /// C storage type name of a tensor value's elements.
  static std::string typeOf(Value v) {
    return cTypeName(
        storageType(cast<RankedTensorType>(v.getType()).getElementType()));
  }
  static int64_t count(Value v) {
    return cast<RankedTensorType>(v.getType()).getNumElements();
  }
  Attribute rounding(lb::RoundingMode m) {
    return lit(m == lb::RoundingMode::double_round
                   ? "lowbit::rt::RoundingMode::DoubleRound"
                   : "lowbit::rt::RoundingMode::SingleRound");
  }
  /// requantTensor of `in` into `result` with these parameters (requant,
  /// and prelu as a requant with one positive multiplier).
  void requantCall(Location loc, Value in, Value result, ArrayRef<int32_t> mul,
                   ArrayRef<int32_t> shift,
                   std::optional<ArrayRef<int32_t>> negMul,
                   std::optional<ArrayRef<int32_t>> negShift,
                   std::optional<int64_t> axis, int64_t lo, int64_t hi,
                   lb::RoundingMode mode);

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
  /// The operands every convolution / fully connected call starts with:
  /// input, weights (the packed codes and their descriptor for the shift
  /// kernels when `sw` is set, else the weight tensor), result, bias (or
  /// nullptr).
  void layerOperands(Location loc, const ShiftWeights *sw, Value input,
                     Value weight, Value bias, Value result,
                     SmallVector<Value> &operands,
                     SmallVector<Attribute> &args);
  /// The summary's text for a layer's weights.
  std::string weightText(Operation *op, const ShiftWeights *sw, Value weight);
  bool usesFastKernels = false; // any call that takes the selected ISA
  Value isaValue; // lowbit::rt::modelIsa(), when a fast kernel is called
  std::string summary;
  int64_t floatOpCount = 0;  // float fallback ops
  int64_t floatEdgeCount = 0; // the dequantizes into and quantizes out of them
};

} // namespace emitc_target
} // namespace lowbit

#endif // LOWBIT_LIB_CONVERSION_LOWBITTOEMITC_EMITTERIMPL_H
