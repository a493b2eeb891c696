//===- LoweringImpl.h - LowBitToAccel internals -----------------*- C++ -*-===//
//
// Part of the lowbit project.
//
//===----------------------------------------------------------------------===//
//
// What the files of convert-lowbit-to-accel share: the Lowering, which tiles
// every layer of an integer lowbit function onto the accelerator of
// runtime/include/lowbit/accel/Isa.h and writes the result as an
// accel.program. Lowering.cpp holds the shared state (activation addresses,
// the data segment, the instruction list and its token discipline) and
// dispatches each op to its family: LowerConvLike.cpp (conv / depthwise /
// fully connected + requant; their weights in ConvWeights.cpp),
// LowerPools.cpp, LowerElementwise.cpp (requant, PReLU, clamp, add) and
// LowerMovement.cpp (reshape, transpose). The pass is in
// LowBitToAccelPass.cpp. Private to lib/Conversion/LowBitToAccel.
//
// The arithmetic is the C++ runtime's: the same int8 values, int32
// accumulators (modulo 2^32, the input zero point folded into the bias), and
// Requant.h's requantize; accel-sim executes the program and the test suite
// compares it with the generated C++.
//
//===----------------------------------------------------------------------===//

#ifndef LOWBIT_LIB_CONVERSION_LOWBITTOACCEL_LOWERINGIMPL_H
#define LOWBIT_LIB_CONVERSION_LOWBITTOACCEL_LOWERINGIMPL_H

#include "LowBit/IR/LowBitOps.h"
#include "lowbit/accel/Isa.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Quant/IR/QuantTypes.h"
#include "mlir/IR/BuiltinOps.h"

#include "llvm/ADT/DenseMap.h"

#include <optional>
#include <string>
#include <vector>

namespace lowbit {
namespace accel_lowering {

using namespace mlir;
namespace lb = mlir::lowbit;
namespace ax = ::lowbit::accel;

/// The name a diagnostic or an instruction's `layer` gives an op: its
/// NameLoc (the ONNX node) or its op name.
std::string layerName(Operation *op);

/// A signed 8-bit per-tensor quantized type, or null.
quant::UniformQuantizedType int8Type(Type t);

/// The integers of a constant operand (storage values), or failure.
FailureOr<std::vector<int64_t>> constantInts(Value v);

/// Appends `v` as a little-endian 32-bit word.
void putI32(std::vector<uint8_t> &d, int64_t v);

/// One instruction as the lowering produces it: `dram` of loads and stores
/// may still be relative to the activation area, placed after the data
/// segment once the data is complete.
struct Pending {
  ax::Instr in;
  bool activationAddr = false;
  std::string layer;
  Location loc;
};

/// A tile: its loads, its compute instructions and its stores.
struct Tile {
  std::vector<Pending> loads, computes, stores;
};

/// The requant that finishes a layer, in the ISA's terms.
struct RequantDesc {
  std::vector<int32_t> mul, shift, negMul, negShift; // per output channel
  bool dual = false;
  int64_t round = 0;
  int64_t outZp = 0, qmin = -128, qmax = 127;
};

/// A layer's weights as the array runs them: per weight (OHWI; depthwise
/// [O, KH, KW]) the multiply-mode integer or the first and second shift
/// terms, and per weight whether its tile of the IR's STLQ mask has two
/// words.
struct LayerWeights {
  ax::MacMode mode = ax::MacMode::Multiply;
  std::vector<int64_t> integers; // what each weight stands for
  std::vector<int8_t> first, second;
  std::vector<bool> irTwoWords;
};

/// The weights `w` of `op` ([O, KH, KW, I] after STLQ's leading [2]) as
/// the array runs them, or failure with the reason in `why`.
FailureOr<LayerWeights> readWeights(Operation *op, Value w, int64_t O,
                                    int64_t KH, int64_t KW, int64_t I,
                                    std::string &why);

/// Lowers one integer lowbit function to an accel.program in its place:
/// each op family's lowering (the Lower*.cpp files) appends the tiles of
/// its layer, and run() writes the program.
class Lowering {
public:
  Lowering(ModuleOp module, func::FuncOp func, const ax::Target &target)
      : module(module), func(func), t(target) {}

  LogicalResult run();

private:
  // LowerConvLike.cpp
  LogicalResult lowerConvLike(Operation *op, lb::RequantOp rq);
  // LowerPools.cpp
  LogicalResult lowerPool(Operation *op);
  // LowerElementwise.cpp
  LogicalResult lowerRequantInt8(lb::RequantOp rq);
  LogicalResult lowerPRelu(lb::PReluOp pr);
  LogicalResult lowerClamp(lb::ClampOp cl);
  LogicalResult lowerInt8Requant(Operation *op, Value x, Value y,
                                 const RequantDesc &rd, int64_t C,
                                 int64_t inZp);
  LogicalResult lowerAdd(lb::AddOp add);
  // LowerMovement.cpp
  LogicalResult lowerReshape(lb::ReshapeOp rs);
  LogicalResult lowerTranspose(lb::TransposeOp tr);

  // Lowering.cpp
  FailureOr<RequantDesc> requantDesc(lb::RequantOp rq, int64_t channels);
  FailureOr<uint64_t> addressOf(Operation *user, Value v);
  uint64_t allocate(Value v);
  void emitLayer(std::vector<Tile> &tiles, unsigned slots);
  Pending make(ax::Opcode op, Operation *from, bool activationAddr = false) {
    Pending p{ax::Instr(), activationAddr, layerName(from), from->getLoc()};
    p.in.opcode = op;
    return p;
  }
  /// A one-row DMA of `bytes` contiguous bytes into buffer `buf`.
  Pending flatLoad(Operation *from, int64_t buf, uint64_t dram,
                   uint64_t sram, int64_t bytes, bool activationAddr) {
    Pending p = make(ax::Opcode::Load, from, activationAddr);
    p.in.set("buf", buf);
    p.in.set("dram", int64_t(dram));
    p.in.set("sram", int64_t(sram));
    p.in.set("rows", 1);
    p.in.set("cols", 1);
    p.in.set("elem", bytes);
    p.in.set("stride", bytes);
    return p;
  }
  /// A one-row DMA of `bytes` contiguous bytes of the output buffer into
  /// the activation area.
  Pending flatStore(Operation *from, uint64_t dram, uint64_t sram,
                    int64_t bytes) {
    Pending p = make(ax::Opcode::Store, from, /*activationAddr=*/true);
    p.in.set("dram", int64_t(dram));
    p.in.set("sram", int64_t(sram));
    p.in.set("rows", 1);
    p.in.set("cols", 1);
    p.in.set("elem", bytes);
    p.in.set("stride", bytes);
    return p;
  }
  /// The input rows [top, end) of an NHWC image (W x C bytes each) at
  /// `image` into the input buffer at `sram`, with the rows [iy0, top) and
  /// [end, iyEnd) and `left` / `right` columns of `padValue` around them.
  Pending rowsLoad(Operation *from, uint64_t image, int64_t W, int64_t C,
                   int64_t iy0, int64_t top, int64_t end, int64_t iyEnd,
                   int64_t left, int64_t right, int64_t padValue,
                   uint64_t sram) {
    Pending p = make(ax::Opcode::Load, from, /*activationAddr=*/true);
    p.in.set("buf", 0);
    p.in.set("dram", int64_t(image + uint64_t(top * W * C)));
    p.in.set("sram", int64_t(sram));
    p.in.set("rows", end - top);
    p.in.set("cols", W);
    p.in.set("elem", C);
    p.in.set("stride", W * C);
    p.in.set("pad_top", top - iy0);
    p.in.set("pad_bottom", iyEnd - end);
    p.in.set("pad_left", left);
    p.in.set("pad_right", right);
    p.in.set("pad_value", padValue);
    return p;
  }
  InFlightDiagnostic error(Operation *op) {
    return op->emitOpError("cannot be mapped to accel target '")
           << t.name << "' (layer '" << layerName(op) << "'): ";
  }

  ModuleOp module;
  func::FuncOp func;
  ax::Target t;
  std::vector<uint8_t> data;
  llvm::DenseMap<Value, uint64_t> actAddr; // relative to the activation area
  uint64_t actTop = 0;
  std::vector<Pending> instrs;
  std::optional<size_t> lastStore; // of the previous layer
};

} // namespace accel_lowering
} // namespace lowbit

#endif // LOWBIT_LIB_CONVERSION_LOWBITTOACCEL_LOWERINGIMPL_H
