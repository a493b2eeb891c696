//===- LowBitLayerVerifiers.cpp - conv2d, fully_connected, pools ----------===//
//
// Part of the lowbit project.
//
//===----------------------------------------------------------------------===//
//
// Verifiers of the layer ops: their windows, accumulators and biases. The
// weight operand is checked by verifyWeights (LowBitWeightEncoding.cpp).
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
// Shared helpers
//===----------------------------------------------------------------------===//

static LogicalResult verifyWindow(Operation *op, StringRef name,
                                  ArrayRef<int64_t> values, size_t size,
                                  int64_t minValue) {
  if (values.size() != size)
    return op->emitOpError() << "'" << name << "' must have " << size
                             << " values, got " << values.size();
  for (int64_t v : values)
    if (v < minValue)
      return op->emitOpError() << "'" << name << "' values must be >= "
                               << minValue << ", got " << shapeListStr(values);
  return success();
}

/// Output extent of a sliding window; emits an error when the padded input is
/// smaller than the (dilated) window.
static FailureOr<int64_t> windowOutput(Operation *op, StringRef dimName,
                                       int64_t in, int64_t kernel,
                                       int64_t stride, int64_t padBefore,
                                       int64_t padAfter, int64_t dilation) {
  if (ShapedType::isDynamic(in))
    return ShapedType::kDynamic;
  int64_t effective = dilation * (kernel - 1) + 1;
  int64_t padded = in + padBefore + padAfter;
  if (padded < effective) {
    op->emitOpError() << "window of " << effective << " along " << dimName
                      << " does not fit the padded input of " << padded;
    return failure();
  }
  return (padded - effective) / stride + 1;
}

/// Checks NHWC pooling/conv output shape [N, OH, OW, C].
static LogicalResult verifyNHWCResult(Operation *op, RankedTensorType in,
                                      RankedTensorType out,
                                      ArrayRef<int64_t> kernel,
                                      ArrayRef<int64_t> stride,
                                      ArrayRef<int64_t> pad,
                                      ArrayRef<int64_t> dilation,
                                      int64_t channels) {
  auto oh = windowOutput(op, "height", in.getDimSize(1), kernel[0], stride[0],
                         pad[0], pad[1], dilation[0]);
  if (failed(oh))
    return failure();
  auto ow = windowOutput(op, "width", in.getDimSize(2), kernel[1], stride[1],
                         pad[2], pad[3], dilation[1]);
  if (failed(ow))
    return failure();
  SmallVector<int64_t> expected = {in.getDimSize(0), *oh, *ow, channels};
  for (auto [e, g] : llvm::zip(expected, out.getShape()))
    if (!dimsAgree(e, g))
      return op->emitOpError() << "result shape " << shapeListStr(out.getShape())
                               << " does not match the expected "
                               << shapeListStr(expected);
  return success();
}

/// Accumulators are plain signless integers of 32 or 64 bits.
static LogicalResult verifyAccumulator(Operation *op, RankedTensorType type) {
  auto acc = dyn_cast<IntegerType>(type.getElementType());
  if (!acc || !acc.isSignless() ||
      (acc.getWidth() != 32 && acc.getWidth() != 64))
    return op->emitOpError()
           << "accumulator type must be i32 or i64, got "
           << type.getElementType();
  return success();
}

static LogicalResult verifyBias(Operation *op, Value bias,
                                RankedTensorType result, int64_t outChannels) {
  if (!bias)
    return success();
  auto type = cast<RankedTensorType>(bias.getType());
  if (type.getRank() != 1)
    return op->emitOpError() << "bias must have rank 1, got " << type;
  if (type.getElementType() != result.getElementType())
    return op->emitOpError() << "bias element type " << type.getElementType()
                             << " must be the accumulator type "
                             << result.getElementType();
  if (!dimsAgree(type.getDimSize(0), outChannels))
    return op->emitOpError() << "bias has " << type.getDimSize(0)
                             << " elements for " << outChannels
                             << " output channels";
  return success();
}

//===----------------------------------------------------------------------===//
// Conv2DOp / FullyConnectedOp
//===----------------------------------------------------------------------===//

/// What conv2d and fully_connected check alike: the ranks of the input and
/// the result (`inForm`, `outForm` name their layouts), the input's
/// activation type, the accumulator, the weights and shift_products.
/// Returns the weights' logical shape.
template <typename LayerOp>
static FailureOr<SmallVector<int64_t>>
verifyLayerOperands(LayerOp op, int64_t rank, StringRef inForm,
                    StringRef outForm) {
  RankedTensorType in = op.getInput().getType();
  RankedTensorType out = op.getType();
  if (in.getRank() != rank)
    return op.emitOpError() << "input must be " << inForm << " (rank " << rank
                            << "), got " << in;
  if (out.getRank() != rank)
    return op.emitOpError() << "result must be " << outForm << " (rank "
                            << rank << "), got " << out;
  auto inQ = getActivationType(op, "input", in);
  if (failed(inQ) || failed(verifyAccumulator(op, out)))
    return failure();
  auto logical = verifyWeights(op, op.getWeight().getType(),
                               op.getWeightEncodingAttr(), rank,
                               inQ->getExpressedType());
  if (failed(logical))
    return failure();
  if (op.getShiftProducts() && !op.getWeightEncoding())
    return op.emitOpError() << "shift_products needs log or STLQ weights "
                               "(weight_encoding)";
  return logical;
}

LogicalResult Conv2DOp::verify() {
  RankedTensorType in = getInput().getType();
  RankedTensorType w = getWeight().getType();
  RankedTensorType out = getType();
  auto logical = verifyLayerOperands(*this, 4, "NHWC", "NHWC");
  if (failed(logical))
    return failure();
  if (failed(verifyWindow(*this, "stride", getStride(), 2, 1)) ||
      failed(verifyWindow(*this, "dilation", getDilation(), 2, 1)) ||
      failed(verifyWindow(*this, "pad", getPad(), 4, 0)))
    return failure();
  int64_t groups = getGroups();
  if (groups < 1)
    return emitOpError() << "groups must be >= 1, got " << groups;
  int64_t channels = in.getDimSize(3);
  int64_t outChannels = (*logical)[0];
  int64_t perGroup = (*logical)[3];
  if (!ShapedType::isDynamic(channels)) {
    if (channels % groups != 0)
      return emitOpError() << groups << " groups do not divide " << channels
                           << " input channels";
    if (!dimsAgree(perGroup, channels / groups))
      return emitOpError() << "weight has " << perGroup
                           << " input channels per group, expected "
                           << channels / groups << " (" << channels
                           << " channels / " << groups << " groups)";
  }
  if (!ShapedType::isDynamic(outChannels) && outChannels % groups != 0)
    return emitOpError() << groups << " groups do not divide " << outChannels
                         << " output channels";
  if (failed(verifyBias(*this, getBias(), out, outChannels)))
    return failure();
  SmallVector<int64_t> kernel = {(*logical)[1], (*logical)[2]};
  if (ShapedType::isDynamic(kernel[0]) || ShapedType::isDynamic(kernel[1]))
    return emitOpError() << "kernel size must be static, got weight " << w;
  return verifyNHWCResult(*this, in, out, kernel, getStride(), getPad(),
                          getDilation(), outChannels);
}

LogicalResult FullyConnectedOp::verify() {
  RankedTensorType in = getInput().getType();
  RankedTensorType out = getType();
  auto logical = verifyLayerOperands(*this, 2, "[N, I]", "[N, O]");
  if (failed(logical))
    return failure();
  if (!dimsAgree((*logical)[1], in.getDimSize(1)))
    return emitOpError() << "weight has " << (*logical)[1]
                         << " input features, input has " << in.getDimSize(1);
  if (!dimsAgree(out.getDimSize(0), in.getDimSize(0)) ||
      !dimsAgree(out.getDimSize(1), (*logical)[0]))
    return emitOpError() << "result shape " << shapeListStr(out.getShape())
                         << " does not match the expected ["
                         << in.getDimSize(0) << ", " << (*logical)[0] << "]";
  return verifyBias(*this, getBias(), out, (*logical)[0]);
}

//===----------------------------------------------------------------------===//
// Pools
//===----------------------------------------------------------------------===//

/// Shared by max_pool and avg_pool.
static LogicalResult verifyPool(Operation *op, RankedTensorType in,
                                RankedTensorType out, ArrayRef<int64_t> kernel,
                                ArrayRef<int64_t> stride,
                                ArrayRef<int64_t> pad) {
  if (in.getRank() != 4 || out.getRank() != 4)
    return op->emitOpError() << "input and result must be NHWC (rank 4)";
  if (in.getElementType() != out.getElementType())
    return op->emitOpError() << "input element type " << in.getElementType()
                             << " differs from the result's "
                             << out.getElementType();
  Type elt = in.getElementType();
  if (isa<quant::QuantizedType>(elt)) {
    if (failed(getActivationType(op, "input", in)))
      return failure();
  } else if (!isa<IntegerType>(elt)) {
    return op->emitOpError() << "operates on quantized or integer tensors, got "
                             << elt;
  }
  if (failed(verifyWindow(op, "kernel", kernel, 2, 1)) ||
      failed(verifyWindow(op, "stride", stride, 2, 1)) ||
      failed(verifyWindow(op, "pad", pad, 4, 0)))
    return failure();
  // A window made only of padding has no value to produce.
  if (pad[0] >= kernel[0] || pad[1] >= kernel[0] || pad[2] >= kernel[1] ||
      pad[3] >= kernel[1])
    return op->emitOpError() << "padding " << shapeListStr(pad)
                             << " must be smaller than the kernel "
                             << shapeListStr(kernel);
  int64_t dil[2] = {1, 1};
  return verifyNHWCResult(op, in, out, kernel, stride, pad, dil,
                          in.getDimSize(3));
}

LogicalResult MaxPoolOp::verify() {
  return verifyPool(*this, getInput().getType(), getType(), getKernel(),
                    getStride(), getPad());
}

LogicalResult AvgPoolOp::verify() {
  return verifyPool(*this, getInput().getType(), getType(), getKernel(),
                    getStride(), getPad());
}

LogicalResult GlobalAvgPoolOp::verify() {
  RankedTensorType in = getInput().getType();
  RankedTensorType out = getType();
  if (in.getRank() != 4 || out.getRank() != 4)
    return emitOpError() << "input and result must be NHWC (rank 4)";
  if (in.getElementType() != out.getElementType())
    return emitOpError() << "input element type " << in.getElementType()
                         << " differs from the result's "
                         << out.getElementType();
  if (isa<quant::QuantizedType>(in.getElementType())) {
    if (failed(getActivationType(*this, "input", in)))
      return failure();
  } else if (!isa<IntegerType>(in.getElementType())) {
    return emitOpError() << "operates on quantized or integer tensors, got "
                         << in.getElementType();
  }
  SmallVector<int64_t> expected = {in.getDimSize(0), 1, 1, in.getDimSize(3)};
  for (auto [e, g] : llvm::zip(expected, out.getShape()))
    if (!dimsAgree(e, g))
      return emitOpError() << "result shape " << shapeListStr(out.getShape())
                           << " does not match the expected "
                           << shapeListStr(expected);
  return success();
}
