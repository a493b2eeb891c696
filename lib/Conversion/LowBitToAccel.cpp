//===- LowBitToAccel.cpp - lowbit integer IR to accelerator instructions --===//
//
// Part of the lowbit project.
//
//===----------------------------------------------------------------------===//
//
// convert-lowbit-to-accel: tiles every layer of an integer lowbit function
// onto the accelerator of runtime/include/lowbit/accel/Isa.h and writes the
// result as an accel.program. The arithmetic is the C++ runtime's: the same
// int8 values, int32 accumulators (modulo 2^32, the input zero point folded
// into the bias), and Requant.h's requantize; accel-sim executes the
// program and the test suite compares it with the generated C++.
//
//===----------------------------------------------------------------------===//

#include "lowbit/Conversion/Passes.h"

#include "SingleFunction.h"

#include "Accel/IR/AccelOps.h"
#include "LowBit/IR/LowBitOps.h"
#include "LowBit/Utils/ConstantReader.h"
#include "lowbit/accel/Isa.h"
#include "lowbit/runtime/ShiftKernels.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Quant/IR/QuantTypes.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/Matchers.h"

#include "llvm/ADT/DenseMap.h"
#include "llvm/Support/MemoryBuffer.h"

#include <optional>

namespace lowbit {
#define GEN_PASS_DEF_CONVERTLOWBITTOACCEL
#include "lowbit/Conversion/Passes.h.inc"
} // namespace lowbit

using namespace mlir;
namespace lb = mlir::lowbit;
namespace ax = ::lowbit::accel;

namespace {

/// The name a diagnostic or an instruction's `layer` gives an op: its
/// NameLoc (the ONNX node) or its op name.
std::string layerName(Operation *op) {
  std::string name;
  op->getLoc()->walk([&](Location l) {
    if (auto n = dyn_cast<NameLoc>(l)) {
      name = n.getName().str();
      return WalkResult::interrupt();
    }
    return WalkResult::advance();
  });
  return name.empty() ? op->getName().getStringRef().str() : name;
}

/// A signed 8-bit per-tensor quantized type, or null.
quant::UniformQuantizedType int8Type(Type t) {
  auto shaped = dyn_cast<ShapedType>(t);
  if (!shaped)
    return {};
  auto q = dyn_cast<quant::UniformQuantizedType>(shaped.getElementType());
  if (!q || !q.isSigned() || q.getStorageTypeIntegralWidth() != 8)
    return {};
  return q;
}

/// The integers of a constant operand (storage values), or failure.
FailureOr<std::vector<int64_t>> constantInts(Value v) {
  Attribute attr;
  if (!matchPattern(v, m_Constant(&attr)))
    return failure();
  auto elements = dyn_cast<ElementsAttr>(attr);
  if (!elements)
    return failure();
  std::optional<std::vector<int64_t>> ints = lb::readIntegers(elements);
  if (!ints)
    return failure();
  return std::move(*ints);
}

void putI32(std::vector<uint8_t> &d, int64_t v) {
  uint32_t u = uint32_t(v);
  for (unsigned i = 0; i < 4; ++i)
    d.push_back(uint8_t(u >> (8 * i)));
}

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

class Lowering {
public:
  Lowering(ModuleOp module, func::FuncOp func, const ax::Target &target)
      : module(module), func(func), t(target) {}

  LogicalResult run();

private:
  LogicalResult lowerConvLike(Operation *op, lb::RequantOp rq);
  LogicalResult lowerPool(Operation *op);
  LogicalResult lowerRequantInt8(lb::RequantOp rq);
  LogicalResult lowerPRelu(lb::PReluOp pr);
  LogicalResult lowerClamp(lb::ClampOp cl);
  LogicalResult lowerInt8Requant(Operation *op, Value x, Value y,
                                 const RequantDesc &rd, int64_t C,
                                 int64_t inZp);
  LogicalResult lowerAdd(lb::AddOp add);
  LogicalResult lowerTranspose(lb::TransposeOp tr);
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

uint64_t Lowering::allocate(Value v) {
  uint64_t bytes = uint64_t(cast<ShapedType>(v.getType()).getNumElements());
  uint64_t addr = actTop;
  actTop += (bytes + 63) / 64 * 64;
  actAddr[v] = addr;
  return addr;
}

FailureOr<uint64_t> Lowering::addressOf(Operation *user, Value v) {
  auto it = actAddr.find(v);
  if (it == actAddr.end())
    return error(user) << "its input is not an int8 activation in DRAM "
                          "(produced by an op this target does not run)",
           failure();
  return it->second;
}

/// Token discipline of one layer's tiles with `slots` buffer halves (2:
/// double buffering, 1: none). Tile t's loads wait for tile t - slots's
/// compute to free their buffer half, its compute for its loads and for
/// tile t - slots's store to free the output half, its store for its
/// compute. A token is pushed only when a later tile of the layer pops it,
/// and the last store pushes one for the next layer's accel.sync.
void Lowering::emitLayer(std::vector<Tile> &tiles, unsigned slots) {
  const size_t n = tiles.size();
  if (n == 0)
    return; // an empty tensor: nothing to move or compute
  if (lastStore) {
    instrs[*lastStore].in.deps |= ax::PushPrev;
    Pending sync{ax::Instr(), false, "", tiles.front().loads.front().loc};
    sync.in.opcode = ax::Opcode::Sync;
    sync.in.deps = ax::PopNext | ax::PushPrev;
    sync.layer = tiles.front().loads.front().layer;
    instrs.push_back(sync);
  }
  for (size_t i = 0; i < n; ++i) {
    Tile &tile = tiles[i];
    if (i >= slots || (i == 0 && lastStore))
      tile.loads.front().in.deps |= ax::PopNext;
    tile.loads.back().in.deps |= ax::PushNext;
    tile.computes.front().in.deps |= ax::PopPrev;
    if (i >= slots)
      tile.computes.front().in.deps |= ax::PopNext;
    tile.computes.back().in.deps |= ax::PushNext;
    if (i + slots < n)
      tile.computes.back().in.deps |= ax::PushPrev;
    tile.stores.front().in.deps |= ax::PopPrev;
    if (i + slots < n)
      tile.stores.back().in.deps |= ax::PushPrev;
    for (auto *part : {&tile.loads, &tile.computes, &tile.stores})
      for (Pending &p : *part)
        instrs.push_back(p);
    lastStore = instrs.size() - 1;
  }
}

FailureOr<RequantDesc> Lowering::requantDesc(lb::RequantOp rq,
                                             int64_t channels) {
  RequantDesc d;
  auto out = int8Type(rq.getType());
  if (!out)
    return error(rq) << "the result must be a signed 8-bit per-tensor "
                        "quantized tensor (the target's activations), not "
                     << rq.getType(),
           failure();
  int64_t rank = cast<ShapedType>(rq.getType()).getRank();
  auto expand = [&](ArrayRef<int32_t> a,
                    std::vector<int32_t> &to) -> LogicalResult {
    if (a.size() != 1 && int64_t(a.size()) != channels)
      return failure();
    for (int64_t c = 0; c < channels; ++c)
      to.push_back(a.size() == 1 ? a[0] : a[c]);
    return success();
  };
  if ((rq.getMultiplier().size() > 1 ||
       (rq.getNegMultiplier() && rq.getNegMultiplier()->size() > 1)) &&
      (!rq.getAxis() || int64_t(*rq.getAxis()) != rank - 1))
    return error(rq) << "per-channel parameters must be along the last "
                        "(channel) dimension",
           failure();
  if (failed(expand(rq.getMultiplier(), d.mul)) ||
      failed(expand(rq.getShift(), d.shift)))
    return error(rq) << "expected 1 or " << channels << " multipliers",
           failure();
  if (rq.getNegMultiplier()) {
    if (!t.dualRequant)
      return error(rq) << "a PReLU is folded into this requant (two "
                          "multiplier sets) and the target has no dual "
                          "requant unit (dual_requant = 0)",
             failure();
    d.dual = true;
    if (!rq.getNegShift() || failed(expand(*rq.getNegMultiplier(), d.negMul)) ||
        failed(expand(*rq.getNegShift(), d.negShift)))
      return error(rq) << "expected 1 or " << channels
                       << " negative-side multipliers",
             failure();
  } else {
    d.negMul = d.mul;
    d.negShift = d.shift;
  }
  d.round = rq.getRounding() == lb::RoundingMode::double_round ? 1 : 0;
  d.outZp = out.getZeroPoint();
  d.qmin = std::max<int64_t>(out.getStorageTypeMin(),
                             rq.getMin() ? *rq.getMin() : INT64_MIN);
  d.qmax = std::min<int64_t>(out.getStorageTypeMax(),
                             rq.getMax() ? *rq.getMax() : INT64_MAX);
  return d;
}

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

FailureOr<LayerWeights> readWeights(Operation *op, Value w, int64_t O,
                                    int64_t KH, int64_t KW, int64_t I,
                                    std::string &why) {
  LayerWeights lw;
  FailureOr<std::vector<int64_t>> v = constantInts(w);
  if (failed(v)) {
    why = "the weights must be a constant";
    return failure();
  }
  const int64_t count = O * KH * KW * I;
  Attribute enc = op->getAttr("weight_encoding");
  if (!enc) {
    if (int64_t(v->size()) != count) {
      why = "unexpected weight shape";
      return failure();
    }
    lw.integers = std::move(*v);
    return lw;
  }
  auto stlq = dyn_cast<lb::STLQAttr>(enc);
  auto log = dyn_cast<lb::LogAttr>(enc);
  unsigned bits = stlq ? stlq.getBits() : log.getBits();
  if (bits > ::lowbit::rt::kMaxShiftCodeBits) {
    why = std::to_string(bits) + "-bit log codes shift by more than the " +
          "array's shifters take (" +
          std::to_string(::lowbit::rt::kMaxShiftCodeBits) + " bits)";
    return failure();
  }
  if (int64_t(v->size()) != (stlq ? 2 : 1) * count) {
    why = "unexpected log weight shape";
    return failure();
  }
  lw.mode = stlq ? ax::MacMode::Shift2 : ax::MacMode::Shift1;
  lw.integers.resize(count);
  lw.first.resize(count);
  lw.second.assign(count, 0);
  lw.irTwoWords.assign(count, false);
  std::vector<bool> tiles;
  ::lowbit::rt::LogWeightsDesc d{O, KH, KW, I, bits, 0, 0};
  if (stlq) {
    d.tileIn = stlq.getInputTile();
    d.tileOut = stlq.getOutputTile();
    for (bool two : stlq.getMask().getValues<bool>())
      tiles.push_back(two);
  }
  for (int64_t k = 0; k < count; ++k) {
    int32_t q1 = int32_t((*v)[k]), q2 = stlq ? int32_t((*v)[count + k]) : 0;
    lw.integers[k] = ::lowbit::rt::logCodeInteger(q1, bits) +
                     ::lowbit::rt::logCodeInteger(q2, bits);
    lw.first[k] = ::lowbit::rt::detail::shiftTerm(q1, bits);
    lw.second[k] = ::lowbit::rt::detail::shiftTerm(q2, bits);
    if (stlq) {
      int64_t o = k / (KH * KW * I), r = k % (KH * KW * I);
      int64_t ky = r / (KW * I), kx = r / I % KW, i = r % I;
      size_t tile = size_t(::lowbit::rt::stlqTileIndex(d, o, ky, kx, i));
      lw.irTwoWords[k] = tile < tiles.size() && tiles[tile];
    }
  }
  return lw;
}

LogicalResult Lowering::lowerConvLike(Operation *op, lb::RequantOp rq) {
  Value x = op->getOperand(0), w = op->getOperand(1);
  Value bias = op->getNumOperands() > 2 ? op->getOperand(2) : Value();
  auto xq = int8Type(x.getType());
  if (!xq)
    return error(op) << "the input must be a signed 8-bit per-tensor "
                        "quantized tensor, not "
                     << x.getType(),
           failure();
  auto accType = cast<ShapedType>(op->getResult(0).getType());
  if (!accType.getElementType().isInteger(32))
    return error(op) << "its accumulator is " << accType.getElementType()
                     << "; the target has " << t.accumulatorBits
                     << "-bit accumulators",
           failure();
  auto wType = cast<ShapedType>(w.getType());
  std::vector<int64_t> bv;
  if (bias) {
    FailureOr<std::vector<int64_t>> b = constantInts(bias);
    if (failed(b))
      return error(op) << "the bias must be a constant", failure();
    bv = std::move(*b);
  }

  // Geometry: NHWC input, OHWI weights; a fully connected layer [M, K] is
  // a 1x1 convolution over a 1 x M image of K channels.
  int64_t H, W, C, KH = 1, KW = 1, SH = 1, SW = 1, DH = 1, DW = 1, PT = 0,
                   PB = 0, PL = 0, PR = 0, OH, OW, CO;
  bool depthwise = false;
  auto xs = cast<ShapedType>(x.getType()).getShape();
  // The weight shape without STLQ's leading [2].
  ArrayRef<int64_t> ws = wType.getShape();
  if (op->getAttr("weight_encoding") &&
      isa<lb::STLQAttr>(op->getAttr("weight_encoding")))
    ws = ws.drop_front();
  if (auto conv = dyn_cast<lb::Conv2DOp>(op)) {
    if (xs[0] != 1)
      return error(op) << "batch " << xs[0] << ": the target runs batch 1",
             failure();
    H = xs[1], W = xs[2], C = xs[3];
    CO = ws[0], KH = ws[1], KW = ws[2];
    SH = conv.getStride()[0], SW = conv.getStride()[1];
    DH = conv.getDilation()[0], DW = conv.getDilation()[1];
    PT = conv.getPad()[0], PB = conv.getPad()[1], PL = conv.getPad()[2],
    PR = conv.getPad()[3];
    int64_t groups = conv.getGroups();
    if (groups != 1) {
      if (groups != C || ws[3] != 1 || CO != C)
        return error(op) << "grouped convolution (groups = " << groups
                         << ") other than depthwise with one output per "
                            "channel has no MAC mapping",
               failure();
      depthwise = true;
    }
    auto os = accType.getShape();
    OH = os[1], OW = os[2];
  } else {
    H = 1, W = xs[0], C = xs[1];
    CO = ws[0];
    OH = 1, OW = xs[0];
  }
  const int64_t CIg = depthwise ? 1 : C;
  const int64_t inW = W + PL + PR;
  if (PT > 255 || PB > 255 || PL > 255 || PR > 255 || KH > 255 || KW > 255 ||
      SH > 255 || SW > 255 || DH > 255 || DW > 255 || inW > 65535 ||
      C > 65535 || CO > 65535 || OW > 65535)
    return error(op) << "a window, stride, padding (at most 255) or extent "
                        "(at most 65535) exceeds the instruction's fields",
           failure();
  std::string why;
  FailureOr<LayerWeights> lw = readWeights(op, w, CO, KH, KW, CIg, why);
  if (failed(lw))
    return error(op) << why, failure();
  if (!t.supports(lw->mode))
    return error(op) << "its weights need the "
                     << ax::modeName(unsigned(lw->mode))
                     << " weight mode, which target '" << t.name
                     << "' does not list (modes)",
           failure();
  if (lw->mode == ax::MacMode::Multiply) {
    auto wq = dyn_cast<quant::QuantizedType>(wType.getElementType());
    unsigned wBits = wq ? wq.getStorageTypeIntegralWidth()
                        : wType.getElementType().getIntOrFloatBitWidth();
    if (wBits > t.weightBits)
      return error(op) << wBits << "-bit weights are wider than the target's "
                       << t.weightBits << "-bit multipliers (weight_bits)",
             failure();
  }
  const bool shift2 = lw->mode == ax::MacMode::Shift2;
  FailureOr<RequantDesc> rd = requantDesc(rq, CO);
  if (failed(rd))
    return failure();

  // Biases with the input zero point folded in, modulo 2^32 as the
  // accumulators (and the C++ runtime's) wrap: bias - zp * sum(w).
  const int64_t perOut = KH * KW * CIg;
  const bool folded = op->hasAttr("input_zp_folded");
  std::vector<int64_t> fb(CO, 0);
  for (int64_t co = 0; co < CO; ++co) {
    int64_t b = bv.empty() ? 0 : bv[co];
    if (!folded) {
      int64_t sum = 0;
      for (int64_t k = 0; k < perOut; ++k)
        sum += lw->integers[co * perOut + k];
      b -= int64_t(xq.getZeroPoint()) * sum;
    }
    fb[co] = int64_t(int32_t(uint32_t(uint64_t(b))));
  }

  // Tile sizes: the most output channels (all, or multiples of Tm), then
  // the most output rows, that fit a buffer half (double buffering), else
  // a whole buffer; the input channels of a block are split (in multiples
  // of Tn, the sub-blocks' weights alternating between the weight buffer's
  // halves) only when a block of Tm output channels does not fit whole.
  auto rowsIn = [&](int64_t r) { return (r - 1) * SH + (KH - 1) * DH + 1; };
  auto tilesOf = [&](int64_t ct, int64_t cb) {
    return uint64_t((ct + t.tm - 1) / t.tm) * KH * KW *
           uint64_t(depthwise ? 1 : (cb + t.tn - 1) / t.tn);
  };
  // Bytes of one (output block, input block) of weights with their second
  // words (at most), word mask, biases and requant parameters.
  auto wBytes = [&](int64_t ct, int64_t cb) {
    uint64_t weights = uint64_t(ct) * KH * KW * (depthwise ? 1 : cb);
    return weights * (shift2 ? 2 : 1) + (shift2 ? (tilesOf(ct, cb) + 7) / 8 : 0) +
           uint64_t(ct) * 20;
  };
  auto inBytes = [&](int64_t r) { return uint64_t(rowsIn(r)) * inW * C; };
  auto outBytes = [&](int64_t r, int64_t ct) {
    return uint64_t(r) * OW * ct * 5;
  };
  std::vector<int64_t> cts = {CO};
  for (int64_t k = (CO - 1) / t.tm; k >= 1; --k)
    cts.push_back(k * int64_t(t.tm));
  unsigned slots = 0;
  int64_t ct = 0, rt = 0, cb = CIg;
  auto maxRows = [&](unsigned s, int64_t c) {
    int64_t r = std::min<int64_t>(OH, 65535 / OW);
    while (r >= 1 && (inBytes(r) > t.inputBuffer / s ||
                      outBytes(r, c) > t.outputBuffer / s))
      --r;
    return r;
  };
  for (unsigned s : {2u, 1u}) {
    for (int64_t c : cts) {
      if (wBytes(c, CIg) > t.weightBuffer / s)
        continue;
      if (int64_t r = maxRows(s, c); r >= 1) {
        slots = s, ct = c, rt = r;
        break;
      }
    }
    if (slots)
      break;
  }
  if (!slots && !depthwise) {
    // Split the input channels: one tile at a time (the tile's weight
    // sub-blocks use the two halves of the weight buffer).
    int64_t c = std::min<int64_t>(CO, t.tm);
    for (int64_t b = (C - 1) / t.tn * t.tn; b >= int64_t(t.tn); b -= t.tn)
      if (wBytes(c, b) <= t.weightBuffer / 2) {
        if (int64_t r = maxRows(1, c); r >= 1) {
          slots = 1, ct = c, rt = r, cb = b;
          break;
        }
      }
  }
  if (!slots) {
    int64_t c = std::min<int64_t>(CO, t.tm);
    auto d = error(op) << "its smallest tile (one output row, " << c
                       << " output channels) needs";
    uint64_t smallestW =
        depthwise ? wBytes(c, 1) : wBytes(c, std::min<int64_t>(C, t.tn));
    if (smallestW > t.weightBuffer / (depthwise ? 1 : 2))
      d << " " << smallestW << " bytes of weights, biases and requant "
        << "parameters (weight_buffer = " << t.weightBuffer << ")";
    if (inBytes(1) > t.inputBuffer)
      d << " " << inBytes(1) << " bytes of input rows (input_buffer = "
        << t.inputBuffer << ")";
    if (outBytes(1, c) > t.outputBuffer)
      d << " " << outBytes(1, c) << " bytes of accumulators and results "
        << "(output_buffer = " << t.outputBuffer << ")";
    return failure();
  }
  const bool split = cb < CIg;

  // The data segment: per (output block, input block), the first words
  // (OHWI rows of the block), the second words of the weights in two-word
  // array tiles (shift2), the word mask of the array tiles (an array tile
  // has two words when any of its weights lies in a two-word tile of the
  // IR's mask, whatever tile shape that mask was chosen with), the biases
  // and the requant parameters: one DMA each.
  struct Block {
    uint64_t addr, bytes, wgt2, words, bias, params; // offsets in the block
  };
  std::vector<std::vector<Block>> blocks; // [output block][input block]
  for (int64_t c0 = 0; c0 < CO; c0 += ct) {
    int64_t n = std::min(ct, CO - c0);
    blocks.emplace_back();
    for (int64_t i0 = 0; i0 < CIg; i0 += cb) {
      int64_t m = std::min(cb, CIg - i0);
      Block blk{data.size(), 0, 0, 0, 0, 0};
      auto index = [&](int64_t co, int64_t ky, int64_t kx, int64_t ci) {
        return ((co * KH + ky) * KW + kx) * CIg + ci;
      };
      // Array tile of weight (co, ky, kx, ci) of the block (Isa.h's order).
      auto tileOf = [&](int64_t co, int64_t ky, int64_t kx, int64_t ci) {
        return ((uint64_t(co) / t.tm * KH + ky) * KW + kx) *
                   uint64_t(depthwise ? 1 : (m + t.tn - 1) / t.tn) +
               uint64_t(ci) / t.tn;
      };
      std::vector<uint8_t> mask;
      if (shift2) {
        mask.assign((tilesOf(n, m) + 7) / 8, 0);
        for (int64_t co = 0; co < n; ++co)
          for (int64_t ky = 0; ky < KH; ++ky)
            for (int64_t kx = 0; kx < KW; ++kx)
              for (int64_t ci = 0; ci < m; ++ci)
                if (lw->irTwoWords[index(c0 + co, ky, kx, i0 + ci)]) {
                  uint64_t tile = tileOf(co, ky, kx, ci);
                  mask[tile / 8] |= uint8_t(1u << (tile % 8));
                }
      }
      auto twoWords = [&](int64_t co, int64_t ky, int64_t kx, int64_t ci) {
        return ax::macTwoWords(mask.data(), tileOf(co, ky, kx, ci));
      };
      for (int64_t co = 0; co < n; ++co)
        for (int64_t ky = 0; ky < KH; ++ky)
          for (int64_t kx = 0; kx < KW; ++kx)
            for (int64_t ci = 0; ci < m; ++ci) {
              int64_t k = index(c0 + co, ky, kx, i0 + ci);
              data.push_back(lw->mode == ax::MacMode::Multiply
                                 ? uint8_t(int8_t(lw->integers[k]))
                                 : uint8_t(lw->first[k]));
            }
      blk.wgt2 = data.size() - blk.addr;
      if (shift2)
        for (int64_t co = 0; co < n; ++co)
          for (int64_t ky = 0; ky < KH; ++ky)
            for (int64_t kx = 0; kx < KW; ++kx)
              for (int64_t ci = 0; ci < m; ++ci)
                if (twoWords(co, ky, kx, ci))
                  data.push_back(
                      uint8_t(lw->second[index(c0 + co, ky, kx, i0 + ci)]));
      blk.words = data.size() - blk.addr;
      data.insert(data.end(), mask.begin(), mask.end());
      blk.bias = data.size() - blk.addr;
      for (int64_t c = c0; c < c0 + n; ++c)
        putI32(data, fb[c]);
      blk.params = data.size() - blk.addr;
      for (int64_t c = c0; c < c0 + n; ++c) {
        putI32(data, rd->mul[c]);
        putI32(data, rd->shift[c]);
        putI32(data, rd->negMul[c]);
        putI32(data, rd->negShift[c]);
      }
      blk.bytes = data.size() - blk.addr;
      blocks.back().push_back(blk);
    }
  }

  FailureOr<uint64_t> xAddr = addressOf(op, x);
  if (failed(xAddr))
    return failure();
  uint64_t yAddr = allocate(rq.getResult());
  const uint64_t inHalf = t.inputBuffer / slots,
                 wHalf = t.weightBuffer / slots,
                 oHalf = t.outputBuffer / slots;
  std::vector<Tile> tiles;
  for (int64_t y0 = 0; y0 < OH; y0 += rt) {
    int64_t r = std::min(rt, OH - y0);
    int64_t iy0 = y0 * SH - PT, iyEnd = iy0 + rowsIn(r);
    int64_t top = std::max<int64_t>(iy0, 0), end = std::min(iyEnd, H);
    if (end <= top)
      return error(op) << "output rows " << y0 << ".." << y0 + r - 1
                       << " read padding only",
             failure();
    for (size_t ob = 0; ob < blocks.size(); ++ob) {
      int64_t c0 = int64_t(ob) * ct, n = std::min(ct, CO - c0);
      unsigned s = tiles.size() % slots;
      uint64_t inp = s * inHalf, out = s * oHalf;
      Tile tile;
      tile.loads.push_back(rowsLoad(op, *xAddr, W, C, iy0, top, end, iyEnd,
                                    PL, PR, xq.getZeroPoint(), inp));
      const std::vector<Block> &sub = blocks[ob];
      const Block *last = nullptr;
      uint64_t lastWgt = 0;
      for (size_t ib = 0; ib < sub.size(); ++ib) {
        const Block &blk = sub[ib];
        int64_t i0 = int64_t(ib) * cb, m = std::min(cb, CIg - i0);
        // Without a split, the tile's weight half; with one, the weight
        // buffer's halves in turn.
        uint64_t wgt = split ? (ib % 2) * (t.weightBuffer / 2) : s * wHalf;
        Pending lw8 = flatLoad(op, 1, blk.addr, wgt, int64_t(blk.bytes),
                               /*activationAddr=*/false);
        Pending mac = make(ax::Opcode::Mac, op);
        mac.in.set("mode", int64_t(lw->mode));
        mac.in.set("init", ib == 0);
        mac.in.set("depthwise", depthwise);
        mac.in.set("inp", int64_t(inp));
        mac.in.set("wgt", int64_t(wgt));
        mac.in.set("bias", int64_t(wgt + blk.bias));
        mac.in.set("acc", int64_t(out));
        mac.in.set("out_h", r);
        mac.in.set("out_w", OW);
        mac.in.set("in_w", inW);
        mac.in.set("in_c", C);
        mac.in.set("in_c_off", depthwise ? c0 : i0);
        mac.in.set("cin", depthwise ? n : m);
        mac.in.set("cout", n);
        mac.in.set("kh", KH);
        mac.in.set("kw", KW);
        mac.in.set("sh", SH);
        mac.in.set("sw", SW);
        mac.in.set("dh", DH);
        mac.in.set("dw", DW);
        if (shift2) {
          mac.in.set("wgt2", int64_t(wgt + blk.wgt2));
          mac.in.set("words", int64_t(wgt + blk.words));
        }
        if (split) {
          // Sub-block ib's weights wait for the mac two sub-blocks back
          // to be done with their half; each mac waits for its weights.
          lw8.in.deps |= ax::PushNext;
          if (ib >= 2)
            lw8.in.deps |= ax::PopNext;
          mac.in.deps |= ax::PopPrev;
          if (ib + 2 < sub.size())
            mac.in.deps |= ax::PushPrev;
        }
        tile.loads.push_back(lw8);
        tile.computes.push_back(mac);
        last = &blk;
        lastWgt = wgt;
      }
      Pending req = make(ax::Opcode::Requant, rq);
      uint64_t dst = out + uint64_t(4 * r * OW * n);
      req.in.set("src_kind", 0);
      req.in.set("src", int64_t(out));
      req.in.set("dst", int64_t(dst));
      req.in.set("pixels", r * OW);
      req.in.set("channels", n);
      req.in.set("params", int64_t(lastWgt + last->params));
      req.in.set("per_channel", 1);
      req.in.set("dual", rd->dual);
      req.in.set("round", rd->round);
      req.in.set("in_zp", 0);
      req.in.set("out_zp", rd->outZp);
      req.in.set("qmin", rd->qmin);
      req.in.set("qmax", rd->qmax);
      tile.computes.push_back(req);
      Pending st = make(ax::Opcode::Store, rq, /*activationAddr=*/true);
      st.in.set("dram", int64_t(yAddr + uint64_t(y0 * OW * CO + c0)));
      st.in.set("sram", int64_t(dst));
      st.in.set("rows", r * OW);
      st.in.set("cols", 1);
      st.in.set("elem", n);
      st.in.set("stride", CO);
      tile.stores.push_back(st);
      tiles.push_back(std::move(tile));
    }
  }
  emitLayer(tiles, slots);
  return success();
}

LogicalResult Lowering::lowerPool(Operation *op) {
  Value x = op->getOperand(0);
  auto xq = int8Type(x.getType());
  auto yq = int8Type(op->getResult(0).getType());
  if (!xq || !yq || xq != yq)
    return error(op) << "pools run on signed 8-bit per-tensor quantized "
                        "tensors of one type",
           failure();
  auto xs = cast<ShapedType>(x.getType()).getShape();
  if (xs.size() != 4 || xs[0] != 1)
    return error(op) << "pools run on [1, H, W, C] tensors", failure();
  int64_t H = xs[1], W = xs[2], C = xs[3];
  int64_t KH = H, KW = W, SH = 1, SW = 1, PT = 0, PB = 0, PL = 0, PR = 0;
  int64_t kind = 1;
  if (auto mp = dyn_cast<lb::MaxPoolOp>(op)) {
    kind = 0;
    KH = mp.getKernel()[0], KW = mp.getKernel()[1];
    SH = mp.getStride()[0], SW = mp.getStride()[1];
    PT = mp.getPad()[0], PB = mp.getPad()[1], PL = mp.getPad()[2],
    PR = mp.getPad()[3];
  } else if (auto ap = dyn_cast<lb::AvgPoolOp>(op)) {
    KH = ap.getKernel()[0], KW = ap.getKernel()[1];
    SH = ap.getStride()[0], SW = ap.getStride()[1];
    if (llvm::any_of(ap.getPad(), [](int64_t p) { return p != 0; }))
      return error(op) << "average pooling with padding is not in this ISA "
                          "version (the pool unit has no per-window counts)",
             failure();
  }
  auto ys = cast<ShapedType>(op->getResult(0).getType()).getShape();
  int64_t OH = ys[1], OW = ys[2];
  int64_t inW = W + PL + PR;
  if (PT > 255 || PB > 255 || PL > 255 || PR > 255 || inW > 65535 ||
      C > 65535 || KH > 65535 || KW > 65535 || SH > 65535 || SW > 65535 ||
      OW > 65535)
    return error(op) << "a window, stride, padding (at most 255) or extent "
                        "(at most 65535) exceeds the instruction's fields",
           failure();
  auto rowsIn = [&](int64_t r) { return (r - 1) * SH + KH; };
  unsigned slots = 0;
  int64_t rt = 0;
  for (unsigned s : {2u, 1u}) {
    int64_t r = std::min<int64_t>(OH, 65535);
    while (r >= 1 &&
           (uint64_t(rowsIn(r)) * inW * C > t.inputBuffer / s ||
            uint64_t(r) * OW * C > t.outputBuffer / s))
      --r;
    if (r >= 1) {
      slots = s, rt = r;
      break;
    }
  }
  if (!slots)
    return error(op) << "one output row needs " << uint64_t(rowsIn(1)) * inW * C
                     << " bytes of input (input_buffer = " << t.inputBuffer
                     << ") and " << uint64_t(OW) * C
                     << " bytes of output (output_buffer = " << t.outputBuffer
                     << "); pools are not split by channel",
           failure();
  FailureOr<uint64_t> xAddr = addressOf(op, x);
  if (failed(xAddr))
    return failure();
  uint64_t yAddr = allocate(op->getResult(0));
  std::vector<Tile> tiles;
  for (int64_t y0 = 0; y0 < OH; y0 += rt) {
    int64_t r = std::min(rt, OH - y0);
    int64_t iy0 = y0 * SH - PT, iyEnd = iy0 + rowsIn(r);
    int64_t top = std::max<int64_t>(iy0, 0), end = std::min(iyEnd, H);
    if (end <= top)
      return error(op) << "output rows read padding only", failure();
    unsigned s = tiles.size() % slots;
    uint64_t inp = s * (t.inputBuffer / slots),
             out = s * (t.outputBuffer / slots);
    Tile tile;
    // Max pooling takes the maximum over the window's real positions; the
    // storage minimum never wins over one of them.
    tile.loads.push_back(rowsLoad(op, *xAddr, W, C, iy0, top, end, iyEnd, PL,
                                  PR, xq.getStorageTypeMin(), inp));
    Pending pool = make(ax::Opcode::Pool, op);
    pool.in.set("kind", kind);
    pool.in.set("src", int64_t(inp));
    pool.in.set("dst", int64_t(out));
    pool.in.set("in_w", inW);
    pool.in.set("c", C);
    pool.in.set("out_h", r);
    pool.in.set("out_w", OW);
    pool.in.set("kh", KH);
    pool.in.set("kw", KW);
    pool.in.set("sh", SH);
    pool.in.set("sw", SW);
    pool.in.set("zp", xq.getZeroPoint());
    pool.in.set("qmin", xq.getStorageTypeMin());
    pool.in.set("qmax", xq.getStorageTypeMax());
    tile.computes.push_back(pool);
    tile.stores.push_back(
        flatStore(op, yAddr + uint64_t(y0 * OW * C), out, r * OW * C));
    tiles.push_back(std::move(tile));
  }
  emitLayer(tiles, slots);
  return success();
}

LogicalResult Lowering::lowerRequantInt8(lb::RequantOp rq) {
  Value x = rq.getInput();
  auto xq = int8Type(x.getType());
  if (!xq)
    return error(rq) << "its input must be an int32 accumulator of a "
                        "convolution or fully connected layer, or a signed "
                        "8-bit per-tensor quantized tensor",
           failure();
  auto shape = cast<ShapedType>(x.getType()).getShape();
  bool perChannel = rq.getMultiplier().size() > 1 ||
                    (rq.getNegMultiplier() && rq.getNegMultiplier()->size() > 1);
  int64_t C = perChannel ? shape.back() : 1;
  FailureOr<RequantDesc> rd = requantDesc(rq, C);
  if (failed(rd))
    return failure();
  return lowerInt8Requant(rq, x, rq.getResult(), *rd, C, xq.getZeroPoint());
}

LogicalResult Lowering::lowerPRelu(lb::PReluOp pr) {
  Value x = pr.getInput();
  auto xq = int8Type(x.getType());
  auto yq = int8Type(pr.getType());
  if (!xq || !yq)
    return error(pr) << "PReLU runs on signed 8-bit per-tensor quantized "
                        "tensors",
           failure();
  if (!t.dualRequant)
    return error(pr) << "a PReLU runs on the requant unit's second "
                        "multiplier set, and the target has none "
                        "(dual_requant = 0)",
           failure();
  auto shape = cast<ShapedType>(x.getType()).getShape();
  int64_t rank = int64_t(shape.size());
  ArrayRef<int32_t> nm = pr.getNegMultiplier(), ns = pr.getNegShift();
  bool perChannel = nm.size() > 1;
  if (perChannel && (!pr.getAxis() || int64_t(*pr.getAxis()) != rank - 1))
    return error(pr) << "per-channel slopes must be along the last "
                        "(channel) dimension",
           failure();
  int64_t C = perChannel ? shape.back() : 1;
  RequantDesc d;
  for (int64_t c = 0; c < C; ++c) {
    d.mul.push_back(int32_t(pr.getPosMultiplier()));
    d.shift.push_back(int32_t(pr.getPosShift()));
    d.negMul.push_back(nm[perChannel ? c : 0]);
    d.negShift.push_back(ns[perChannel ? c : 0]);
  }
  d.dual = true;
  d.round = pr.getRounding() == lb::RoundingMode::double_round ? 1 : 0;
  d.outZp = yq.getZeroPoint();
  d.qmin = yq.getStorageTypeMin();
  d.qmax = yq.getStorageTypeMax();
  return lowerInt8Requant(pr, x, pr.getResult(), d, C, xq.getZeroPoint());
}

LogicalResult Lowering::lowerClamp(lb::ClampOp cl) {
  auto q = int8Type(cl.getType());
  if (!q)
    return error(cl) << "clamps run on signed 8-bit per-tensor quantized "
                        "tensors",
           failure();
  // A clamp of stored values is an identity requant (2^30 * 2^-30 is
  // exact on integers) saturating to [min, max].
  RequantDesc d;
  d.mul = d.negMul = {int32_t(1) << 30};
  d.shift = d.negShift = {30};
  d.outZp = q.getZeroPoint();
  d.qmin = std::max<int64_t>(q.getStorageTypeMin(), cl.getMin());
  d.qmax = std::min<int64_t>(q.getStorageTypeMax(), cl.getMax());
  return lowerInt8Requant(cl, cl.getInput(), cl.getResult(), d, 1,
                          q.getZeroPoint());
}

LogicalResult Lowering::lowerInt8Requant(Operation *op, Value x, Value y,
                                         const RequantDesc &rd, int64_t C,
                                         int64_t inZp) {
  Operation *rq = op;
  int64_t total = cast<ShapedType>(x.getType()).getNumElements();
  if (C > 65535)
    return error(rq) << C << " channels exceed the instruction's field",
           failure();
  uint64_t paramBytes = 16 * uint64_t(C);
  uint64_t params = data.size();
  for (int64_t c = 0; c < C; ++c) {
    putI32(data, rd.mul[c]);
    putI32(data, rd.shift[c]);
    putI32(data, rd.negMul[c]);
    putI32(data, rd.negShift[c]);
  }
  int64_t pixels = total / C;
  unsigned slots = 0;
  int64_t pt = 0;
  for (unsigned s : {2u, 1u}) {
    if (paramBytes > t.weightBuffer / s)
      continue;
    uint64_t cap = std::min(t.inputBuffer, t.outputBuffer) / s / uint64_t(C);
    pt = std::min<int64_t>(pixels, int64_t(cap));
    if (pt >= 1) {
      slots = s;
      break;
    }
  }
  if (!slots)
    return error(rq) << "one pixel of " << C << " channels does not fit "
                     << "the buffers (parameters: " << paramBytes
                     << " bytes, weight_buffer = " << t.weightBuffer << ")",
           failure();
  FailureOr<uint64_t> xAddr = addressOf(rq, x);
  if (failed(xAddr))
    return failure();
  uint64_t yAddr = allocate(y);
  std::vector<Tile> tiles;
  for (int64_t p0 = 0; p0 < pixels; p0 += pt) {
    int64_t n = std::min(pt, pixels - p0);
    unsigned s = tiles.size() % slots;
    uint64_t inp = s * (t.inputBuffer / slots),
             wgt = s * (t.weightBuffer / slots),
             out = s * (t.outputBuffer / slots);
    Tile tile;
    tile.loads.push_back(
        flatLoad(rq, 0, *xAddr + uint64_t(p0 * C), inp, n * C, true));
    tile.loads.push_back(
        flatLoad(rq, 1, params, wgt, int64_t(paramBytes), false));
    Pending req = make(ax::Opcode::Requant, rq);
    req.in.set("src_kind", 1);
    req.in.set("src", int64_t(inp));
    req.in.set("dst", int64_t(out));
    req.in.set("pixels", n);
    req.in.set("channels", C);
    req.in.set("params", int64_t(wgt));
    req.in.set("per_channel", 1);
    req.in.set("dual", rd.dual);
    req.in.set("round", rd.round);
    req.in.set("in_zp", inZp);
    req.in.set("out_zp", rd.outZp);
    req.in.set("qmin", rd.qmin);
    req.in.set("qmax", rd.qmax);
    tile.computes.push_back(req);
    tile.stores.push_back(flatStore(rq, yAddr + uint64_t(p0 * C), out, n * C));
    tiles.push_back(std::move(tile));
  }
  emitLayer(tiles, slots);
  return success();
}

LogicalResult Lowering::lowerAdd(lb::AddOp add) {
  auto aq = int8Type(add.getLhs().getType());
  auto bq = int8Type(add.getRhs().getType());
  auto yq = int8Type(add.getType());
  if (!aq || !bq || !yq)
    return error(add) << "adds run on signed 8-bit per-tensor quantized "
                         "tensors",
           failure();
  if (add.getLhs().getType().getShape() != add.getRhs().getType().getShape())
    return error(add) << "the inputs' shapes differ", failure();
  const int64_t total = add.getType().getNumElements();
  // The three (multiplier, shift) pairs, loaded with each tile.
  const uint64_t params = data.size();
  for (int64_t v : {int64_t(add.getLhsMultiplier()),
                    int64_t(add.getLhsShift()),
                    int64_t(add.getRhsMultiplier()),
                    int64_t(add.getRhsShift()),
                    int64_t(add.getOutputMultiplier()),
                    int64_t(add.getOutputShift())})
    putI32(data, v);
  unsigned slots = 0;
  int64_t nt = 0;
  for (unsigned s : {2u, 1u}) {
    uint64_t cap = std::min(t.inputBuffer / s / 2, t.outputBuffer / s);
    nt = std::min<int64_t>(total, int64_t(std::min<uint64_t>(cap, UINT32_MAX)));
    if (nt >= 1 && 24 <= t.weightBuffer / s) {
      slots = s;
      break;
    }
  }
  if (!slots)
    return error(add) << "the buffers cannot hold one element", failure();
  FailureOr<uint64_t> aAddr = addressOf(add, add.getLhs());
  if (failed(aAddr))
    return failure();
  FailureOr<uint64_t> bAddr = addressOf(add, add.getRhs());
  if (failed(bAddr))
    return failure();
  uint64_t yAddr = allocate(add.getResult());
  int64_t lo = yq.getStorageTypeMin(), hi = yq.getStorageTypeMax();
  if (add.getMin())
    lo = std::max<int64_t>(lo, *add.getMin());
  if (add.getMax())
    hi = std::min<int64_t>(hi, *add.getMax());
  std::vector<Tile> tiles;

  for (int64_t e0 = 0; e0 < total; e0 += nt) {
    int64_t n = std::min(nt, total - e0);
    unsigned s = tiles.size() % slots;
    uint64_t inp = s * (t.inputBuffer / slots),
             wgt = s * (t.weightBuffer / slots),
             out = s * (t.outputBuffer / slots);
    Tile tile;
    tile.loads.push_back(flatLoad(add, 0, *aAddr + e0, inp, n, true));
    tile.loads.push_back(flatLoad(add, 0, *bAddr + e0, inp + n, n, true));
    tile.loads.push_back(flatLoad(add, 1, params, wgt, 24, false));
    Pending op = make(ax::Opcode::Add, add);
    op.in.set("src_a", int64_t(inp));
    op.in.set("src_b", int64_t(inp + n));
    op.in.set("dst", int64_t(out));
    op.in.set("count", n);
    op.in.set("params", int64_t(wgt));
    op.in.set("input_shift", add.getInputShift());
    op.in.set("round", add.getRounding() == lb::RoundingMode::double_round);
    op.in.set("a_zp", aq.getZeroPoint());
    op.in.set("b_zp", bq.getZeroPoint());
    op.in.set("out_zp", yq.getZeroPoint());
    op.in.set("qmin", lo);
    op.in.set("qmax", hi);
    tile.computes.push_back(op);
    tile.stores.push_back(flatStore(add, yAddr + e0, out, n));
    tiles.push_back(std::move(tile));
  }
  emitLayer(tiles, slots);
  return success();
}

LogicalResult Lowering::lowerTranspose(lb::TransposeOp tr) {
  auto xq = int8Type(tr.getInput().getType());
  if (!xq || int8Type(tr.getType()) != xq)
    return error(tr) << "transposes move signed 8-bit per-tensor quantized "
                        "tensors",
           failure();
  // A transpose that swaps two groups of adjacent dimensions, [outer, A, B]
  // -> [outer, B, A], is A one-byte-row strided stores per tile of B.
  ArrayRef<int64_t> shape = tr.getInput().getType().getShape();
  ArrayRef<int32_t> perms = tr.getPerms();
  const int64_t rank = int64_t(perms.size());
  int64_t k = 0;
  while (k < rank && perms[k] == k)
    ++k;
  int64_t j = k < rank ? perms[k] : rank;
  bool swap = k < rank && j > k;
  for (int64_t i = 0; swap && i < rank - k; ++i) {
    int64_t want = i < rank - j ? j + i : k + (i - (rank - j));
    swap = perms[k + i] == want;
  }
  if (!swap)
    return error(tr) << "only transposes that swap two groups of adjacent "
                        "dimensions (such as NCHW to NHWC) have a DMA form",
           failure();
  int64_t outer = 1, A = 1, B = 1;
  for (int64_t i = 0; i < k; ++i)
    outer *= shape[i];
  for (int64_t i = k; i < j; ++i)
    A *= shape[i];
  for (int64_t i = j; i < rank; ++i)
    B *= shape[i];
  unsigned slots = 0;
  int64_t nb = 0;
  for (unsigned s : {2u, 1u}) {
    nb = std::min<int64_t>(
        {B, 65535, int64_t(std::min(t.inputBuffer, t.outputBuffer) / s)});
    if (nb >= 1) {
      slots = s;
      break;
    }
  }
  const int64_t count = outer * A * ((B + nb - 1) / nb);
  if (count > 65536)
    return error(tr) << "the transpose takes " << count
                     << " DMA tiles; at most 65536 are emitted",
           failure();
  FailureOr<uint64_t> xAddr = addressOf(tr, tr.getInput());
  if (failed(xAddr))
    return failure();
  uint64_t yAddr = allocate(tr.getResult());
  std::vector<Tile> tiles;
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t a = 0; a < A; ++a)
      for (int64_t b0 = 0; b0 < B; b0 += nb) {
        int64_t n = std::min(nb, B - b0);
        unsigned s = tiles.size() % slots;
        uint64_t inp = s * (t.inputBuffer / slots),
                 out = s * (t.outputBuffer / slots);
        Tile tile;
        tile.loads.push_back(flatLoad(
            tr, 0, *xAddr + uint64_t((o * A + a) * B + b0), inp, n, true));
        Pending cp = make(ax::Opcode::Copy, tr);
        cp.in.set("src", int64_t(inp));
        cp.in.set("dst", int64_t(out));
        cp.in.set("bytes", n);
        tile.computes.push_back(cp);
        Pending st = make(ax::Opcode::Store, tr, true);
        st.in.set("dram", int64_t(yAddr + uint64_t((o * B + b0) * A + a)));
        st.in.set("sram", int64_t(out));
        st.in.set("rows", n);
        st.in.set("cols", 1);
        st.in.set("elem", 1);
        st.in.set("stride", A);
        tile.stores.push_back(st);
        tiles.push_back(std::move(tile));
      }
  emitLayer(tiles, slots);
  return success();
}

LogicalResult Lowering::run() {
  // Inputs.
  std::vector<ax::TensorDesc> tensors;
  for (BlockArgument arg : func.getArguments()) {
    auto q = int8Type(arg.getType());
    if (!q)
      return func.emitOpError("cannot be mapped to accel target '")
                 << t.name << "': input " << arg.getArgNumber() << " is "
                 << arg.getType()
                 << "; the target takes signed 8-bit per-tensor quantized "
                    "tensors",
             failure();
    ax::TensorDesc d;
    auto name = func.getArgAttrOfType<StringAttr>(arg.getArgNumber(),
                                                  "onnx.name");
    d.name = name ? name.str() : "input" + std::to_string(arg.getArgNumber());
    // The binary's input record (a scale and a zero point) quantizes to the
    // target's whole activation range; an input of narrower integers (a
    // 4-bit i8<-8:7>) would get values outside them once its floats leave
    // the calibrated range, where the evaluator and the C++ clamp.
    int64_t actMin = -(int64_t(1) << (t.activationBits - 1)),
            actMax = (int64_t(1) << (t.activationBits - 1)) - 1;
    if (q.getStorageTypeMin() != actMin || q.getStorageTypeMax() != actMax)
      return emitError(arg.getLoc())
                 << "convert-lowbit-to-accel: input '" << d.name
                 << "' cannot be mapped to accel target '" << t.name
                 << "': it is "
                 << arg.getType() << ", integers in ["
                 << q.getStorageTypeMin() << ", " << q.getStorageTypeMax()
                 << "], but the target's input record quantizes to its "
                    "activation_bits = "
                 << t.activationBits << " range [" << actMin << ", " << actMax
                 << "] (quantize the inputs to " << t.activationBits
                 << " bits, e.g. lowbitc --activation-bits="
                 << t.activationBits << ")",
             failure();
    auto shape = cast<ShapedType>(arg.getType()).getShape();
    d.shape.assign(shape.begin(), shape.end());
    d.addr = allocate(arg);
    d.scale = q.getScale();
    d.zeroPoint = int32_t(q.getZeroPoint());
    tensors.push_back(d);
  }

  for (Operation &opRef : func.getBody().front()) {
    Operation *op = &opRef;
    if (isa<lb::ConstantOp>(op) || op->hasTrait<OpTrait::ConstantLike>())
      continue;
    if (auto ret = dyn_cast<func::ReturnOp>(op)) {
      for (auto [i, v] : llvm::enumerate(ret.getOperands())) {
        auto q = int8Type(v.getType());
        FailureOr<uint64_t> addr = addressOf(op, v);
        if (!q || failed(addr))
          return op->emitOpError("cannot be mapped to accel target: result ")
                     << i << " must be a signed 8-bit quantized tensor "
                        "computed on the target",
                 failure();
        ax::TensorDesc d;
        d.isOutput = true;
        auto name = func.getResultAttrOfType<StringAttr>(i, "onnx.name");
        d.name = name ? name.str() : "output" + std::to_string(i);
        auto shape = cast<ShapedType>(v.getType()).getShape();
        d.shape.assign(shape.begin(), shape.end());
        d.addr = *addr;
        d.scale = q.getScale();
        d.zeroPoint = int32_t(q.getZeroPoint());
        tensors.push_back(d);
      }
      continue;
    }
    if (auto rs = dyn_cast<lb::ReshapeOp>(op)) {
      FailureOr<uint64_t> addr = addressOf(op, rs.getInput());
      if (failed(addr))
        return failure();
      actAddr[rs.getResult()] = *addr;
      continue;
    }
    if (isa<lb::Conv2DOp, lb::FullyConnectedOp>(op)) {
      Value acc = op->getResult(0);
      auto rq = acc.hasOneUse() ? dyn_cast<lb::RequantOp>(*acc.user_begin())
                                : lb::RequantOp();
      if (!rq)
        return error(op) << "its accumulator must feed exactly one "
                            "lowbit.requant (the MAC array's output goes "
                            "through the requant unit)",
               failure();
      if (failed(lowerConvLike(op, rq)))
        return failure();
      continue;
    }
    if (auto rq = dyn_cast<lb::RequantOp>(op)) {
      if (Operation *def = rq.getInput().getDefiningOp();
          def && isa<lb::Conv2DOp, lb::FullyConnectedOp>(def))
        continue; // lowered with its layer
      if (failed(lowerRequantInt8(rq)))
        return failure();
      continue;
    }
    if (auto pr = dyn_cast<lb::PReluOp>(op)) {
      if (failed(lowerPRelu(pr)))
        return failure();
      continue;
    }
    if (auto cl = dyn_cast<lb::ClampOp>(op)) {
      if (failed(lowerClamp(cl)))
        return failure();
      continue;
    }
    if (auto add = dyn_cast<lb::AddOp>(op)) {
      if (failed(lowerAdd(add)))
        return failure();
      continue;
    }
    if (auto tr = dyn_cast<lb::TransposeOp>(op)) {
      if (failed(lowerTranspose(tr)))
        return failure();
      continue;
    }
    if (isa<lb::MaxPoolOp, lb::AvgPoolOp, lb::GlobalAvgPoolOp>(op)) {
      if (failed(lowerPool(op)))
        return failure();
      continue;
    }
    return error(op) << "the accel target has no lowering for "
                     << op->getName(), failure();
  }
  if (instrs.empty())
    return func.emitOpError("cannot be mapped to accel target: it computes "
                            "nothing"),
           failure();

  // Place the activations after the data segment.
  const uint64_t actBase = (data.size() + 63) / 64 * 64;
  const uint64_t dram = actBase + actTop;
  if (dram > ax::kMaxDramBytes || dram > uint64_t(UINT32_MAX))
    return func.emitOpError("needs ")
               << dram << " bytes of DRAM; the accel ISA addresses at most "
               << std::min<uint64_t>(ax::kMaxDramBytes, UINT32_MAX),
           failure();
  for (Pending &p : instrs)
    if (p.activationAddr)
      p.in.set("dram", p.in.get("dram") + int64_t(actBase));
  for (ax::TensorDesc &d : tensors)
    d.addr += actBase;

  OpBuilder b(module.getContext());
  b.setInsertionPoint(func);
  SmallVector<NamedAttribute> keys;
  {
    std::string text = ax::printTarget(t), line;
    std::stringstream ss(text);
    while (std::getline(ss, line)) {
      size_t eq = line.find(" = ");
      std::string k = line.substr(0, eq), v = line.substr(eq + 3);
      int64_t n = 0;
      bool numeric = !llvm::StringRef(v).getAsInteger(10, n);
      keys.push_back(b.getNamedAttr(
          k, numeric ? Attribute(b.getI64IntegerAttr(n))
                     : Attribute(b.getStringAttr(v))));
    }
  }
  auto program = accel::ProgramOp::create(
      b, func.getLoc(), b.getStringAttr(func.getSymName()),
      b.getDictionaryAttr(keys), b.getI64IntegerAttr(int64_t(dram)));
  Block *body = new Block();
  program.getBody().push_back(body);
  b.setInsertionPointToEnd(body);
  auto dataType = RankedTensorType::get({int64_t(data.size())},
                                        b.getIntegerType(8));
  accel::DataOp::create(
      b, func.getLoc(),
      DenseElementsAttr::get(
          dataType, ArrayRef<int8_t>(reinterpret_cast<int8_t *>(data.data()),
                                     data.size())));
  for (const ax::TensorDesc &d : tensors)
    accel::TensorOp::create(b, func.getLoc(), b.getStringAttr(d.name),
                            b.getDenseI64ArrayAttr(d.shape),
                            b.getI64IntegerAttr(int64_t(d.addr)),
                            b.getF64FloatAttr(d.scale),
                            b.getI64IntegerAttr(d.zeroPoint),
                            d.isOutput ? b.getUnitAttr() : UnitAttr());
  for (const Pending &p : instrs)
    accel::createInstr(b, p.loc, p.in, p.layer);
  func.erase();
  return success();
}

struct ConvertLowBitToAccelPass
    : ::lowbit::impl::ConvertLowBitToAccelBase<ConvertLowBitToAccelPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    ax::Target target;
    if (!targetFile.empty()) {
      auto buf = llvm::MemoryBuffer::getFile(targetFile, /*IsText=*/true);
      if (!buf) {
        module.emitError() << "convert-lowbit-to-accel: cannot read target "
                              "description '"
                           << targetFile << "': " << buf.getError().message();
        return signalPassFailure();
      }
      std::string e = ax::parseTarget((*buf)->getBuffer().str(), target);
      if (!e.empty()) {
        module.emitError() << "convert-lowbit-to-accel: " << targetFile << ": "
                           << e;
        return signalPassFailure();
      }
    }
    for (const std::string &kv : targetSet) {
      size_t eq = kv.find('=');
      std::string e =
          eq == std::string::npos
              ? "expected key=value, got '" + kv + "'"
              : ax::setTargetField(target, kv.substr(0, eq),
                                    kv.substr(eq + 1));
      if (e.empty())
        e = ax::checkTarget(target);
      if (!e.empty()) {
        module.emitError() << "convert-lowbit-to-accel: target-set: " << e;
        return signalPassFailure();
      }
    }
    FailureOr<func::FuncOp> func = ::lowbit::getSingleFunction(module, "convert-lowbit-to-accel");
    if (failed(func))
      return signalPassFailure();
Lowering l(module, *func, target);
    if (failed(l.run()))
      return signalPassFailure();
  }
};

} // namespace
