//===- EmitMovement.cpp - Transpose, resize, slice, pad and concat calls --===//
//
// Part of the lowbit project.
//
//===----------------------------------------------------------------------===//
//
// Data movement on stored values: the runtime's byte-wise kernels (the ones
// the evaluator runs), whatever the element width; bilinear resize is the
// exact integer sum of resizeBilinearInt.
//
//===----------------------------------------------------------------------===//

#include "EmitterImpl.h"

#include "llvm/Support/raw_ostream.h"

namespace lowbit {
namespace emitc_target {

LogicalResult Emitter::emitTranspose(Operation *op) {
  // An integer transpose, or a float one in a float fallback region: the
  // kernel moves elements of any size.
  Location loc = op->getLoc();
  llvm::raw_string_ostream sum(summary);
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
  sum << "transpose   -> " << describeValue(res)
      << (isa<tosa::TransposeOp>(op) ? " (float fallback)" : "") << "\n";
  if (isa<tosa::TransposeOp>(op))
    ++floatOpCount;
  return success();
}

LogicalResult Emitter::emitResize(lb::ResizeOp rs) {
  Location loc = rs.getLoc();
  llvm::raw_string_ostream sum(summary);
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
     << off[0] << "}, {" << sc[2] << ", " << sc[3] << ", " << off[1] << "}}";
  Type st = storageType(it.getElementType());
  if (rs.getMode() == "nearest") {
    call(loc, "lowbit::rt::resizeNearest", {pointerOf(in), pointers[res]},
         {idx(0), idx(1), lit(storageBytes(st)), lit(shape)}, {});
    sum << "resize      -> " << describeValue(res) << " (nearest)\n";
  } else {
    call(loc, "lowbit::rt::resizeBilinearInt", {pointerOf(in), pointers[res]},
         {idx(0), idx(1), lit(shape), lit(zeroPointOf(it.getElementType()))},
         {cTypeName(st)});
    sum << "resize      -> " << describeValue(res) << " (bilinear)\n";
  }
  return success();
}

LogicalResult Emitter::emitSliceOrPad(Operation *op) {
  Location loc = op->getLoc();
  llvm::raw_string_ostream sum(summary);
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
    sum << "slice       -> " << describeValue(res) << "\n";
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
  sum << "pad         -> " << describeValue(res) << "\n";
  return success();
}

LogicalResult Emitter::emitConcat(lb::ConcatOp cat) {
  llvm::raw_string_ostream sum(summary);
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
    call(cat.getLoc(), "lowbit::rt::concatSlice",
         {pointerOf(in), pointers[cat.getResult()]},
         {idx(0), idx(1), lit(outer), lit(inInner),
          lit(ot.getDimSize(axis) * after), lit(offset)},
         {typeOf(in)});
    offset += inInner;
  }
  sum << "concat      -> " << describeValue(cat.getResult()) << "\n";
  return success();
}

} // namespace emitc_target
} // namespace lowbit
