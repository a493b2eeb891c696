//===- LowerPools.cpp - Max, average and global average pools -------------===//
//
// Part of the lowbit project.
//
//===----------------------------------------------------------------------===//
//
// Pools run on the pool unit, tiled by output rows.
//
//===----------------------------------------------------------------------===//

#include "LoweringImpl.h"

namespace lowbit {
namespace accel_lowering {

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
    InputRows rows = inputRows(y0, SH, PT, rowsIn(r), H);
    if (rows.end <= rows.top)
      return error(op) << "output rows read padding only", failure();
    Slot slot = nextSlot(tiles, slots);
    uint64_t inp = slot.inp, out = slot.out;
    Tile tile;
    // Max pooling takes the maximum over the window's real positions; the
    // storage minimum never wins over one of them.
    tile.loads.push_back(rowsLoad(op, *xAddr, W, C, rows, PL, PR,
                                  xq.getStorageTypeMin(), inp));
    Pending pool = make(ax::Opcode::Pool, op);
    pool.in.set("kind", kind);
    pool.in.set("src", int64_t(inp));
    pool.in.set("dst", int64_t(out));
    setWindow(pool, r, OW, inW, KH, KW, SH, SW);
    pool.in.set("c", C);
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

} // namespace accel_lowering
} // namespace lowbit
