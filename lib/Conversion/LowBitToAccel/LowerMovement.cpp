//===- LowerMovement.cpp - Reshape and transpose --------------------------===//
//
// Part of the lowbit project.
//
//===----------------------------------------------------------------------===//
//
// Data movement: a reshape aliases its input's bytes; a transpose that swaps
// two groups of adjacent dimensions is strided DMA stores.
//
//===----------------------------------------------------------------------===//

#include "LoweringImpl.h"

namespace lowbit {
namespace accel_lowering {

LogicalResult Lowering::lowerReshape(lb::ReshapeOp rs) {
  FailureOr<uint64_t> addr = addressOf(rs, rs.getInput());
  if (failed(addr))
    return failure();
  actAddr[rs.getResult()] = *addr;
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
        Slot slot = nextSlot(tiles, slots);
        uint64_t inp = slot.inp, out = slot.out;
        Tile tile;
        tile.loads.push_back(flatLoad(
            tr, 0, *xAddr + uint64_t((o * A + a) * B + b0), inp, n, true));
        Pending cp = make(ax::Opcode::Copy, tr);
        cp.in.set("src", int64_t(inp));
        cp.in.set("dst", int64_t(out));
        cp.in.set("bytes", n);
        tile.computes.push_back(cp);
        tile.stores.push_back(
            store(tr, yAddr + uint64_t((o * B + b0) * A + a), out, n, 1, A));
        tiles.push_back(std::move(tile));
      }
  emitLayer(tiles, slots);
  return success();
}

} // namespace accel_lowering
} // namespace lowbit
