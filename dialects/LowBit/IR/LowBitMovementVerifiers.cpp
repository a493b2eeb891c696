//===- LowBitMovementVerifiers.cpp - data movement op verifiers -----------===//
//
// Part of the lowbit project.
//
//===----------------------------------------------------------------------===//
//
// Verifiers of the ops that move stored integers without computing on them:
// reshape, transpose, concat, slice, pad and resize.
//
//===----------------------------------------------------------------------===//

#include "LowBit/IR/LowBitOps.h"
#include "LowBitOpsImpl.h"

#include "mlir/IR/BuiltinTypes.h"
#include "llvm/ADT/STLExtras.h"

using namespace mlir;
using namespace mlir::lowbit;
using namespace mlir::lowbit::detail;

//===----------------------------------------------------------------------===//
// ReshapeOp
//===----------------------------------------------------------------------===//

/// Reshape and transpose keep the element type, which must not be quantized
/// per axis or per block (the quantized dimension would lose its meaning).
static LogicalResult verifyLayoutChange(Operation *op, RankedTensorType in,
                                        RankedTensorType out, StringRef verb) {
  if (in.getElementType() != out.getElementType())
    return op->emitOpError() << "element type " << in.getElementType()
                             << " differs from the result's "
                             << out.getElementType();
  if (isa<quant::UniformQuantizedPerAxisType,
          quant::UniformQuantizedSubChannelType>(in.getElementType()))
    return op->emitOpError() << "cannot " << verb
                             << " a tensor quantized per axis or per block: "
                             << in.getElementType();
  return success();
}

LogicalResult ReshapeOp::verify() {
  RankedTensorType in = getInput().getType();
  RankedTensorType out = getType();
  if (failed(verifyLayoutChange(*this, in, out, "reshape")))
    return failure();
  if (in.hasStaticShape() && out.hasStaticShape() &&
      in.getNumElements() != out.getNumElements())
    return emitOpError() << "cannot reshape " << in.getNumElements()
                         << " elements " << shapeListStr(in.getShape()) << " into "
                         << out.getNumElements() << " "
                         << shapeListStr(out.getShape());
  return success();
}

//===----------------------------------------------------------------------===//
// TransposeOp
//===----------------------------------------------------------------------===//

LogicalResult TransposeOp::verify() {
  RankedTensorType in = getInput().getType();
  RankedTensorType out = getType();
  if (failed(verifyLayoutChange(*this, in, out, "transpose")))
    return failure();
  ArrayRef<int32_t> perms = getPerms();
  int64_t rank = in.getRank();
  if (static_cast<int64_t>(perms.size()) != rank || out.getRank() != rank)
    return emitOpError() << "perms has " << perms.size()
                         << " entries for input rank " << rank
                         << " and result rank " << out.getRank();
  SmallVector<bool> seen(rank, false);
  for (auto [d, p] : llvm::enumerate(perms)) {
    if (p < 0 || p >= rank || seen[p])
      return emitOpError() << "perms is not a permutation of [0, " << rank
                           << ")";
    seen[p] = true;
    if (!dimsAgree(out.getDimSize(d), in.getDimSize(p)))
      return emitOpError() << "result dimension " << d << " is "
                           << out.getDimSize(d) << " but input dimension "
                           << p << " is " << in.getDimSize(p);
  }
  return success();
}

//===----------------------------------------------------------------------===//
// ConcatOp
//===----------------------------------------------------------------------===//

LogicalResult ConcatOp::verify() {
  if (getInputs().empty())
    return emitOpError() << "needs at least one input";
  RankedTensorType out = getType();
  int64_t rank = out.getRank();
  int64_t axis = getAxis();
  if (axis < 0 || axis >= rank)
    return emitOpError() << "axis " << axis << " is out of range for rank "
                         << rank;
  int64_t total = 0;
  bool dynamic = false;
  for (auto [i, v] : llvm::enumerate(getInputs())) {
    auto t = cast<RankedTensorType>(v.getType());
    if (t.getElementType() != out.getElementType())
      return emitOpError() << "input " << i << " element type "
                           << t.getElementType()
                           << " differs from the result's "
                           << out.getElementType()
                           << " (concat needs one common quantization)";
    if (t.getRank() != rank)
      return emitOpError() << "input " << i << " has rank " << t.getRank()
                           << ", result has rank " << rank;
    for (int64_t d = 0; d < rank; ++d) {
      if (d == axis)
        continue;
      if (!dimsAgree(t.getDimSize(d), out.getDimSize(d)))
        return emitOpError() << "input " << i << " shape "
                             << shapeListStr(t.getShape())
                             << " differs from the result shape "
                             << shapeListStr(out.getShape())
                             << " outside axis " << axis;
    }
    if (ShapedType::isDynamic(t.getDimSize(axis)))
      dynamic = true;
    else
      total += t.getDimSize(axis);
  }
  if (isa<quant::UniformQuantizedPerAxisType,
          quant::UniformQuantizedSubChannelType>(out.getElementType()))
    return emitOpError() << "cannot concatenate tensors quantized per axis or "
                            "per block";
  if (!dynamic && !dimsAgree(total, out.getDimSize(axis)))
    return emitOpError() << "inputs add up to " << total << " along axis "
                         << axis << ", result has " << out.getDimSize(axis);
  return success();
}

//===----------------------------------------------------------------------===//
// slice / pad
//===----------------------------------------------------------------------===//

/// Data movement keeps the element type; per-axis quantization would need
/// its scales moved with the axis.
static LogicalResult sameMovableElement(Operation *op, RankedTensorType in,
                                        RankedTensorType out) {
  if (in.getElementType() != out.getElementType())
    return op->emitOpError() << "result element type " << out.getElementType()
                             << " differs from the input's "
                             << in.getElementType();
  if (isa<quant::UniformQuantizedPerAxisType,
          quant::UniformQuantizedSubChannelType>(in.getElementType()))
    return op->emitOpError()
           << "cannot move tensors quantized per axis or per block";
  if (in.getRank() != out.getRank())
    return op->emitOpError() << "result rank " << out.getRank()
                             << " differs from the input rank "
                             << in.getRank();
  return success();
}

LogicalResult SliceOp::verify() {
  RankedTensorType in = getInput().getType(), out = getType();
  if (failed(sameMovableElement(*this, in, out)))
    return failure();
  ArrayRef<int64_t> start = getStart();
  if (static_cast<int64_t>(start.size()) != in.getRank())
    return emitOpError() << "start has " << start.size()
                         << " entries for rank " << in.getRank();
  for (int64_t d = 0; d < in.getRank(); ++d) {
    int64_t n = in.getDimSize(d), size = out.getDimSize(d);
    if (start[d] < 0 || ShapedType::isDynamic(size) || size < 0 ||
        (!ShapedType::isDynamic(n) && start[d] > n - size))
      return emitOpError() << "window [" << start[d] << ", "
                           << (ShapedType::isDynamic(size)
                                   ? std::string("?")
                                   : std::to_string(start[d] + size))
                           << ") of dimension " << d
                           << " is outside the input shape "
                           << shapeListStr(in.getShape());
  }
  return success();
}

LogicalResult PadOp::verify() {
  RankedTensorType in = getInput().getType(), out = getType();
  if (failed(sameMovableElement(*this, in, out)))
    return failure();
  ArrayRef<int64_t> padding = getPadding();
  if (static_cast<int64_t>(padding.size()) != 2 * in.getRank())
    return emitOpError() << "padding has " << padding.size()
                         << " entries; rank " << in.getRank() << " needs "
                         << 2 * in.getRank();
  for (int64_t d = 0; d < in.getRank(); ++d) {
    int64_t b = padding[2 * d], a = padding[2 * d + 1];
    if (b < 0 || a < 0 || b > (int64_t(1) << 40) || a > (int64_t(1) << 40))
      return emitOpError() << "padding of dimension " << d
                           << " is negative or absurdly large";
    int64_t n = in.getDimSize(d);
    if (!ShapedType::isDynamic(n) &&
        !dimsAgree(out.getDimSize(d), n + b + a))
      return emitOpError() << "result dimension " << d << " is "
                           << out.getDimSize(d) << " but the padded input's is "
                           << n + b + a;
  }
  auto range = getStorageRange(in.getElementType());
  if (!range)
    return emitOpError() << "element type " << in.getElementType()
                         << " has no stored integer range";
  if (static_cast<int64_t>(getPadValue()) < range->first || static_cast<int64_t>(getPadValue()) > range->second)
    return emitOpError() << "pad_value " << static_cast<int64_t>(getPadValue())
                         << " is outside the stored range [" << range->first
                         << ", " << range->second << "]";
  return success();
}

//===----------------------------------------------------------------------===//
// resize
//===----------------------------------------------------------------------===//

bool mlir::lowbit::bilinearResizeFitsInt32(quant::UniformQuantizedType in,
                                           int64_t ny, int64_t nx) {
  int64_t span = std::max(in.getStorageTypeMax() - in.getZeroPoint(),
                          in.getZeroPoint() - in.getStorageTypeMin());
  return ny >= 1 && nx >= 1 && ny <= (1 << 20) && nx <= (1 << 20) &&
         span * ny * nx <= INT32_MAX;
}

LogicalResult ResizeOp::verify() {
  RankedTensorType in = getInput().getType(), out = getType();
  if (in.getRank() != 4 || out.getRank() != 4)
    return emitOpError() << "input and result must be NHWC (rank 4)";
  if (!in.hasStaticShape() || !out.hasStaticShape())
    return emitOpError() << "needs static shapes";
  if (in.getDimSize(0) != out.getDimSize(0) ||
      in.getDimSize(3) != out.getDimSize(3))
    return emitOpError() << "batch and channels must not change";
  ArrayRef<int64_t> scale = getScale(), offset = getOffset();
  if (scale.size() != 4 || offset.size() != 2)
    return emitOpError() << "scale needs 4 entries [n_y, d_y, n_x, d_x] and "
                            "offset 2";
  // Coordinates o * d + offset stay far inside int64.
  for (int i = 0; i < 4; ++i)
    if (scale[i] < 1 || scale[i] > (1 << 20))
      return emitOpError() << "scale entries must be in [1, 2^20]";
  for (int64_t o : offset)
    if (o < -(int64_t(1) << 40) || o > (int64_t(1) << 40))
      return emitOpError() << "offset is absurdly large";
  auto inQ = dyn_cast<quant::UniformQuantizedType>(in.getElementType());
  if (!inQ)
    return emitOpError() << "input must be quantized per tensor";
  if (getMode() == "nearest") {
    if (out.getElementType() != in.getElementType())
      return emitOpError() << "a nearest resize keeps its input's element "
                              "type";
    return success();
  }
  if (getMode() != "bilinear")
    return emitOpError() << "mode must be \"nearest\" or \"bilinear\", got \""
                         << getMode() << "\"";
  if (!out.getElementType().isSignlessInteger(32))
    return emitOpError() << "a bilinear resize produces an i32 accumulator";
  if (!bilinearResizeFitsInt32(inQ, scale[0], scale[2]))
    return emitOpError() << "n_y * n_x = " << scale[0] * scale[2]
                         << " overflows the i32 accumulator for this input";
  return success();
}
