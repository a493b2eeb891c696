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
  /// Where the slot of the next tile starts in each buffer: tiles take the
  /// `slots` equal parts of the buffers in turn.
  struct Slot {
    uint64_t inp, wgt, out;
  };
  Slot nextSlot(const std::vector<Tile> &tiles, unsigned slots) const {
    unsigned s = tiles.size() % slots;
    return {s * (t.inputBuffer / slots), s * (t.weightBuffer / slots),
            s * (t.outputBuffer / slots)};
  }
  /// A REQUANT of `pixels` x `channels` values (int32 accumulators for
  /// `srcKind` 0, int8 for 1) at `src` to int8 at `dst` with `rd`'s
  /// per-channel parameters at `params` in the weight buffer.
  Pending requant(Operation *from, const RequantDesc &rd, int64_t srcKind,
                  uint64_t src, uint64_t dst, int64_t pixels,
                  int64_t channels, uint64_t params, int64_t inZp) {
    Pending p = make(ax::Opcode::Requant, from);
    p.in.set("src_kind", srcKind);
    p.in.set("src", int64_t(src));
    p.in.set("dst", int64_t(dst));
    p.in.set("pixels", pixels);
    p.in.set("channels", channels);
    p.in.set("params", int64_t(params));
    p.in.set("per_channel", 1);
    p.in.set("dual", rd.dual);
    p.in.set("round", rd.round);
    p.in.set("in_zp", inZp);
    p.in.set("out_zp", rd.outZp);
    p.in.set("qmin", rd.qmin);
    p.in.set("qmax", rd.qmax);
    return p;
  }
  /// Sets a DMA's transfer: `rows` runs of `cols` x `elem` bytes, `stride`
  /// bytes apart at `dram`, and contiguous at `sram`.
  static void setTransfer(Pending &p, uint64_t dram, uint64_t sram,
                          int64_t rows, int64_t cols, int64_t elem,
                          int64_t stride) {
    p.in.set("dram", int64_t(dram));
    p.in.set("sram", int64_t(sram));
    p.in.set("rows", rows);
    p.in.set("cols", cols);
    p.in.set("elem", elem);
    p.in.set("stride", stride);
  }
  /// A one-row DMA of `bytes` contiguous bytes into buffer `buf`.
  Pending flatLoad(Operation *from, int64_t buf, uint64_t dram,
                   uint64_t sram, int64_t bytes, bool activationAddr) {
    Pending p = make(ax::Opcode::Load, from, activationAddr);
    p.in.set("buf", buf);
    setTransfer(p, dram, sram, 1, 1, bytes, bytes);
    return p;
  }
  /// A DMA of `rows` runs of `elem` contiguous bytes of the output buffer
  /// at `sram` into the activation area at `dram`, `stride` bytes apart.
  Pending store(Operation *from, uint64_t dram, uint64_t sram, int64_t rows,
                int64_t elem, int64_t stride) {
    Pending p = make(ax::Opcode::Store, from, /*activationAddr=*/true);
    setTransfer(p, dram, sram, rows, 1, elem, stride);
    return p;
  }
  /// A one-row DMA of `bytes` contiguous bytes of the output buffer into
  /// the activation area.
  Pending flatStore(Operation *from, uint64_t dram, uint64_t sram,
                    int64_t bytes) {
    return store(from, dram, sram, 1, bytes, bytes);
  }
  /// Sets the window fields that MAC and POOL share: `outH` x `outW`
  /// outputs of a `kh` x `kw` window with strides `sh`, `sw` over input
  /// rows `inW` positions wide (padding included).
  static void setWindow(Pending &p, int64_t outH, int64_t outW, int64_t inW,
                        int64_t kh, int64_t kw, int64_t sh, int64_t sw) {
    p.in.set("out_h", outH);
    p.in.set("out_w", outW);
    p.in.set("in_w", inW);
    p.in.set("kh", kh);
    p.in.set("kw", kw);
    p.in.set("sh", sh);
    p.in.set("sw", sw);
  }
  /// The input rows that output rows y0.. of a window with stride `sh`
  /// and top padding `pt` read: [iy0, iyEnd), `rowsIn` rows, of which
  /// [top, end) are rows of the image (H rows) and the rest padding.
  struct InputRows {
    int64_t iy0, iyEnd, top, end;
  };
  static InputRows inputRows(int64_t y0, int64_t sh, int64_t pt,
                             int64_t rowsIn, int64_t H) {
    int64_t iy0 = y0 * sh - pt, iyEnd = iy0 + rowsIn;
    return {iy0, iyEnd, std::max<int64_t>(iy0, 0), std::min(iyEnd, H)};
  }
  /// The input rows `rows` of an NHWC image (W x C bytes each) at `image`
  /// into the input buffer at `sram`: the image's rows [top, end) with the
  /// padding rows and `left` / `right` columns of `padValue` around them.
  Pending rowsLoad(Operation *from, uint64_t image, int64_t W, int64_t C,
                   const InputRows &rows, int64_t left, int64_t right,
                   int64_t padValue, uint64_t sram) {
    Pending p = make(ax::Opcode::Load, from, /*activationAddr=*/true);
    p.in.set("buf", 0);
    setTransfer(p, image + uint64_t(rows.top * W * C), sram,
                rows.end - rows.top, W, C, W * C);
    p.in.set("pad_top", rows.top - rows.iy0);
    p.in.set("pad_bottom", rows.iyEnd - rows.end);
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
