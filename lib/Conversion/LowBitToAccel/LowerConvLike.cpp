//===- LowerConvLike.cpp - Conv, depthwise and FC layers on the array -----===//
//
// Part of the lowbit project.
//
//===----------------------------------------------------------------------===//
//
// A convolution, depthwise convolution or fully connected layer with the
// requant of its accumulators: tile sizes that fit the buffers (output
// channels, then output rows; input-channel blocks when a block of Tm
// output channels does not fit whole), the data segment of weights, word
// masks, biases and requant parameters per block, and one load / mac /
// requant / store group per tile.
//
//===----------------------------------------------------------------------===//

#include "LoweringImpl.h"

namespace lowbit {
namespace accel_lowering {

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
  std::vector<Tile> tiles;
  for (int64_t y0 = 0; y0 < OH; y0 += rt) {
    int64_t r = std::min(rt, OH - y0);
    InputRows rows = inputRows(y0, SH, PT, rowsIn(r), H);
    if (rows.end <= rows.top)
      return error(op) << "output rows " << y0 << ".." << y0 + r - 1
                       << " read padding only",
             failure();
    for (size_t ob = 0; ob < blocks.size(); ++ob) {
      int64_t c0 = int64_t(ob) * ct, n = std::min(ct, CO - c0);
      Slot slot = nextSlot(tiles, slots);
      uint64_t inp = slot.inp, out = slot.out;
      Tile tile;
      tile.loads.push_back(
          rowsLoad(op, *xAddr, W, C, rows, PL, PR, xq.getZeroPoint(), inp));
      const std::vector<Block> &sub = blocks[ob];
      const Block *last = nullptr;
      uint64_t lastWgt = 0;
      for (size_t ib = 0; ib < sub.size(); ++ib) {
        const Block &blk = sub[ib];
        int64_t i0 = int64_t(ib) * cb, m = std::min(cb, CIg - i0);
        // Without a split, the tile's weight half; with one, the weight
        // buffer's halves in turn.
        uint64_t wgt = split ? (ib % 2) * (t.weightBuffer / 2) : slot.wgt;
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
        setWindow(mac, r, OW, inW, KH, KW, SH, SW);
        mac.in.set("in_c", C);
        mac.in.set("in_c_off", depthwise ? c0 : i0);
        mac.in.set("cin", depthwise ? n : m);
        mac.in.set("cout", n);
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
      uint64_t dst = out + uint64_t(4 * r * OW * n);
      tile.computes.push_back(requant(rq, *rd, /*srcKind=*/0, out, dst,
                                      r * OW, n, lastWgt + last->params,
                                      /*inZp=*/0));
      tile.stores.push_back(store(rq, yAddr + uint64_t(y0 * OW * CO + c0),
                                  dst, r * OW, n, CO));
      tiles.push_back(std::move(tile));
    }
  }
  emitLayer(tiles, slots);
  return success();
}

} // namespace accel_lowering
} // namespace lowbit
