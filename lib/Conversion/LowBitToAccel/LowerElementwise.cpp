//===- LowerElementwise.cpp - Requant, PReLU, clamp and add ---------------===//
//
// Part of the lowbit project.
//
//===----------------------------------------------------------------------===//
//
// The int8 -> int8 ops of the requant unit (a requant of stored values, a
// PReLU on its second multiplier set, a clamp as an identity requant) and
// the add unit, tiled by pixels or elements.
//
//===----------------------------------------------------------------------===//

#include "LoweringImpl.h"

namespace lowbit {
namespace accel_lowering {

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
    Slot slot = nextSlot(tiles, slots);
    uint64_t inp = slot.inp, wgt = slot.wgt, out = slot.out;
    Tile tile;
    tile.loads.push_back(
        flatLoad(rq, 0, *xAddr + uint64_t(p0 * C), inp, n * C, true));
    tile.loads.push_back(
        flatLoad(rq, 1, params, wgt, int64_t(paramBytes), false));
    tile.computes.push_back(
        requant(rq, rd, /*srcKind=*/1, inp, out, n, C, wgt, inZp));
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
    Slot slot = nextSlot(tiles, slots);
    uint64_t inp = slot.inp, wgt = slot.wgt, out = slot.out;
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

} // namespace accel_lowering
} // namespace lowbit
