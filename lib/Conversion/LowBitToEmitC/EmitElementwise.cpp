//===- EmitElementwise.cpp - Requant, PReLU, add and clamp calls ----------===//
//
// Part of the lowbit project.
//
//===----------------------------------------------------------------------===//
//
// The integer elementwise ops: requant and prelu call requantTensor (a
// prelu is a requant with one positive multiplier and a negative-side set),
// an add calls the vector addRequant when its intermediates fit 32-bit lanes
// (Fast.h addFitsInt32) and addTensor otherwise, a clamp calls clampTensor.
//
//===----------------------------------------------------------------------===//

#include "EmitterImpl.h"

#include "llvm/Support/raw_ostream.h"

namespace lowbit {
namespace emitc_target {

void Emitter::requantCall(Location loc, Value in, Value result,
                          ArrayRef<int32_t> mul, ArrayRef<int32_t> shift,
                          std::optional<ArrayRef<int32_t>> negMul,
                          std::optional<ArrayRef<int32_t>> negShift,
                          std::optional<int64_t> axis, int64_t lo, int64_t hi,
                          lb::RoundingMode mode) {
  auto type = cast<RankedTensorType>(result.getType());
  int64_t inner = 1, channels = 1;
  if (axis) {
    for (int64_t d = *axis + 1; d < type.getRank(); ++d)
      inner *= type.getDimSize(d);
    channels = type.getDimSize(*axis);
  }
  int64_t mOff = addArray(mul), sOff = addArray(shift);
  auto i32 = IntegerType::get(ctx, 32);
  SmallVector<Value> operands = {pointerOf(in), pointers[result],
                                 pointerAt(loc, true, mOff, i32),
                                 pointerAt(loc, true, sOff, i32)};
  SmallVector<Attribute> args = {idx(0),         idx(1),
                                 lit(count(in)), lit(inner),
                                 lit(channels),  idx(2),
                                 idx(3),         lit(mul.size() > 1 ? "true" : "false")};
  if (negMul) {
    operands.push_back(pointerAt(loc, true, addArray(*negMul), i32));
    operands.push_back(pointerAt(loc, true, addArray(*negShift), i32));
    args.append({idx(4), idx(5), lit(negMul->size() > 1 ? "true" : "false")});
  } else {
    args.append({lit("nullptr"), lit("nullptr"), lit("false")});
  }
  Type outElt = type.getElementType();
  args.append(
      {lit(zeroPointOf(cast<RankedTensorType>(in.getType()).getElementType())),
       lit(zeroPointOf(outElt)), lit(lo), lit(hi), rounding(mode)});
  call(loc, "lowbit::rt::requantTensor", operands, args,
       {typeOf(in), typeOf(result)});
}

LogicalResult Emitter::emitRequant(lb::RequantOp rq) {
  llvm::raw_string_ostream sum(summary);
  std::optional<ArrayRef<int32_t>> nm, ns;
  if (auto v = rq.getNegMultiplier())
    nm = *v;
  if (auto v = rq.getNegShift())
    ns = *v;
  requantCall(rq.getLoc(), rq.getInput(), rq.getResult(), rq.getMultiplier(),
              rq.getShift(), nm, ns, rq.getAxis(), rq.getSaturationMin(),
              rq.getSaturationMax(), rq.getRounding());
  sum << "requant     -> " << describeValue(rq.getResult())
      << (rq.isDual() ? " (dual multiplier: PReLU)" : "")
      << (rq.getMin() || rq.getMax() ? " (clamped: ReLU/Clip)" : "") << "\n";
  return success();
}

LogicalResult Emitter::emitPRelu(lb::PReluOp pr) {
  llvm::raw_string_ostream sum(summary);
  int32_t pm = static_cast<int32_t>(pr.getPosMultiplier());
  int32_t ps = static_cast<int32_t>(pr.getPosShift());
  auto [lo, hi] = storageRange(pr.getType().getElementType());
  std::optional<int64_t> axis;
  if (IntegerAttr a = pr.getAxisAttr())
    axis = a.getInt();
  requantCall(pr.getLoc(), pr.getInput(), pr.getResult(),
              ArrayRef<int32_t>(pm), ArrayRef<int32_t>(ps),
              pr.getNegMultiplier(), pr.getNegShift(), axis, lo, hi,
              pr.getRounding());
  sum << "prelu       -> " << describeValue(pr.getResult()) << "\n";
  return success();
}

LogicalResult Emitter::emitAdd(lb::AddOp add) {
  Location loc = add.getLoc();
  llvm::raw_string_ostream sum(summary);
  if (std::optional<::lowbit::rt::QAdd> d = fastAdd(add)) {
    auto sm = [](::lowbit::rt::ScaleMultiplier m) {
      return "lowbit::rt::ScaleMultiplier{" + std::to_string(m.multiplier) +
             ", " + std::to_string(m.shift) + "}";
    };
    std::string desc =
        "lowbit::rt::QAdd{" + std::to_string(d->aSigned) + ", " +
        std::to_string(d->bSigned) + ", " + std::to_string(d->aZp) + ", " +
        std::to_string(d->bZp) + ", " + std::to_string(d->inputShift) + ", " +
        sm(d->aM) + ", " + sm(d->bM) + ", " + sm(d->outM) + ", " +
        std::to_string(d->outZp) + ", " + std::to_string(d->lo) + ", " +
        std::to_string(d->hi) + ", " +
        (d->mode == ::lowbit::rt::RoundingMode::DoubleRound
             ? "lowbit::rt::RoundingMode::DoubleRound"
             : "lowbit::rt::RoundingMode::SingleRound") +
        "}";
    call(loc, "lowbit::rt::addRequant",
         {pointerOf(add.getLhs()), pointerOf(add.getRhs()),
          pointers[add.getResult()], isaValue},
         {idx(0), idx(1), idx(2), lit(count(add.getLhs())), lit(desc), idx(3)},
         {});
    sum << "add         -> " << describeValue(add.getResult())
        << " (fast kernel)\n";
    return success();
  }
  auto outElt = add.getType().getElementType();
  auto [slo, shi] = storageRange(outElt);
  int64_t lo = add.getMin() ? *add.getMin() : slo;
  int64_t hi = add.getMax() ? *add.getMax() : shi;
  auto sm = [&](IntegerAttr m, IntegerAttr s) {
    return lit("lowbit::rt::ScaleMultiplier{" + std::to_string(m.getInt()) +
               ", " + std::to_string(s.getInt()) + "}");
  };
  call(loc, "lowbit::rt::addTensor",
       {pointerOf(add.getLhs()), pointerOf(add.getRhs()),
        pointers[add.getResult()]},
       {idx(0), idx(1), idx(2), lit(count(add.getLhs())),
        lit(zeroPointOf(add.getLhs().getType().getElementType())),
        lit(zeroPointOf(add.getRhs().getType().getElementType())),
        lit(add.getInputShiftAttr().getInt()),
        sm(add.getLhsMultiplierAttr(), add.getLhsShiftAttr()),
        sm(add.getRhsMultiplierAttr(), add.getRhsShiftAttr()),
        sm(add.getOutputMultiplierAttr(), add.getOutputShiftAttr()),
        lit(zeroPointOf(outElt)), lit(lo), lit(hi),
        rounding(add.getRounding())},
       {typeOf(add.getLhs()), typeOf(add.getRhs()), typeOf(add.getResult())});
  sum << "add         -> " << describeValue(add.getResult()) << "\n";
  return success();
}

LogicalResult Emitter::emitClamp(lb::ClampOp cl) {
  llvm::raw_string_ostream sum(summary);
  call(cl.getLoc(), "lowbit::rt::clampTensor",
       {pointerOf(cl.getInput()), pointers[cl.getResult()]},
       {idx(0), idx(1), lit(count(cl.getInput())), lit(cl.getMin()),
        lit(cl.getMax())},
       {typeOf(cl.getInput())});
  sum << "clamp       -> " << describeValue(cl.getResult()) << "\n";
  return success();
}

LogicalResult Emitter::emitLookup(lb::LookupOp lut) {
  llvm::raw_string_ostream sum(summary);
  Location loc = lut.getLoc();
  Type outStorage = storageType(lut.getType().getElementType());
  // The table in the result's storage type, 256 bytes in the blob.
  // (An int8 entry's two's-complement byte is its uint8_t cast.)
  std::vector<uint8_t> bytes;
  for (int32_t v : lut.getTable())
    bytes.push_back(static_cast<uint8_t>(v));
  int64_t off = addBlob(bytes.data(), bytes.size());
  call(loc, "lowbit::rt::lookupTensor",
       {pointerOf(lut.getInput()), pointers[lut.getResult()],
        pointerAt(loc, true, off, outStorage)},
       {idx(0), idx(1), lit(count(lut.getInput())), idx(2)},
       {typeOf(lut.getInput()), typeOf(lut.getResult())});
  sum << "lut         -> " << describeValue(lut.getResult())
      << " (256-entry table)\n";
  return success();
}

LogicalResult Emitter::emitSoftmax(lb::SoftmaxOp sm) {
  llvm::raw_string_ostream sum(summary);
  Location loc = sm.getLoc();
  ArrayRef<int64_t> shape = sm.getType().getShape();
  int64_t axis = sm.getAxis(), outer = 1, inner = 1;
  for (int64_t d = 0; d < axis; ++d)
    outer *= shape[d];
  for (int64_t d = axis + 1; d < static_cast<int64_t>(shape.size()); ++d)
    inner *= shape[d];
  auto outQ = cast<quant::UniformQuantizedType>(sm.getType().getElementType());
  int64_t off = addArray(sm.getTable());
  call(loc, "lowbit::rt::softmaxTensor",
       {pointerOf(sm.getInput()), pointers[sm.getResult()],
        pointerAt(loc, true, off, IntegerType::get(ctx, 32))},
       {idx(0), idx(1), lit(outer), lit(shape[axis]), lit(inner), idx(2),
        lit(std::to_string(sm.getMultiplier()) + "LL"),
        lit(outQ.getZeroPoint()), lit(outQ.getStorageTypeMin()),
        lit(outQ.getStorageTypeMax())},
       {typeOf(sm.getInput()), typeOf(sm.getResult())});
  sum << "softmax     -> " << describeValue(sm.getResult())
      << " (integer exp table)\n";
  return success();
}

LogicalResult Emitter::emitMul(lb::MulOp mul) {
  llvm::raw_string_ostream sum(summary);
  Location loc = mul.getLoc();
  auto outElt = mul.getType().getElementType();
  auto [slo, shi] = storageRange(outElt);
  int64_t lo = mul.getMin() ? *mul.getMin() : slo;
  int64_t hi = mul.getMax() ? *mul.getMax() : shi;
  Type i64 = IntegerType::get(ctx, 64);
  int64_t yOff = addArray(mul.getType().getShape());
  int64_t aOff = addArray(mul.getLhs().getType().getShape());
  int64_t bOff = addArray(mul.getRhs().getType().getShape());
  call(loc, "lowbit::rt::mulTensor",
       {pointerOf(mul.getLhs()), pointerOf(mul.getRhs()),
        pointers[mul.getResult()], pointerAt(loc, true, yOff, i64),
        pointerAt(loc, true, aOff, i64), pointerAt(loc, true, bOff, i64)},
       {idx(0), idx(1), idx(2), idx(3), idx(4), idx(5),
        lit(mul.getType().getRank()),
        lit(zeroPointOf(mul.getLhs().getType().getElementType())),
        lit(zeroPointOf(mul.getRhs().getType().getElementType())),
        lit("lowbit::rt::ScaleMultiplier{" +
            std::to_string(mul.getMultiplierAttr().getInt()) + ", " +
            std::to_string(mul.getShiftAttr().getInt()) + "}"),
        lit(zeroPointOf(outElt)), lit(lo), lit(hi),
        rounding(mul.getRounding())},
       {typeOf(mul.getLhs()), typeOf(mul.getRhs()), typeOf(mul.getResult())});
  sum << "mul         -> " << describeValue(mul.getResult())
      << " (product of activations)\n";
  return success();
}

LogicalResult Emitter::emitMatMul(lb::MatMulOp mm) {
  llvm::raw_string_ostream sum(summary);
  ArrayRef<int64_t> as = mm.getLhs().getType().getShape();
  ArrayRef<int64_t> ys = mm.getType().getShape();
  call(mm.getLoc(), "lowbit::rt::matmulTensor",
       {pointerOf(mm.getLhs()), pointerOf(mm.getRhs()),
        pointers[mm.getResult()]},
       {idx(0), idx(1), idx(2), lit(as[0]), lit(as[1]), lit(as[2]),
        lit(ys[2]), lit(zeroPointOf(mm.getLhs().getType().getElementType())),
        lit(zeroPointOf(mm.getRhs().getType().getElementType()))},
       {typeOf(mm.getLhs()), typeOf(mm.getRhs()), typeOf(mm.getResult())});
  sum << "matmul      -> " << describeValue(mm.getResult())
      << " (product of activations)\n";
  return success();
}

} // namespace emitc_target
} // namespace lowbit
