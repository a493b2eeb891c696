//===- Lowering.cpp - Shared state and dispatch of LowBitToAccel ----------===//
//
// Part of the lowbit project.
//
//===----------------------------------------------------------------------===//
//
// The state every op family's lowering shares (activation addresses, the
// data segment, the instruction list and the token discipline between a
// layer's tiles), the requant parameters, and run(): the inputs, one
// lowering per op (dispatched by op type), then the accel.program.
//
//===----------------------------------------------------------------------===//

#include "LoweringImpl.h"

#include "Accel/IR/AccelOps.h"
#include "lowbit/Support/Location.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"

#include "llvm/ADT/TypeSwitch.h"

#include <sstream>

namespace lowbit {
namespace accel_lowering {

/// The name a diagnostic or an instruction's `layer` gives an op: its
/// NameLoc (the ONNX node) or its op name.
std::string layerName(Operation *op) {
  std::string name = ::lowbit::nodeName(op->getLoc());
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

void putI32(std::vector<uint8_t> &d, int64_t v) {
  uint32_t u = uint32_t(v);
  for (unsigned i = 0; i < 4; ++i)
    d.push_back(uint8_t(u >> (8 * i)));
}

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
    LogicalResult lowered =
        llvm::TypeSwitch<Operation *, LogicalResult>(op)
            .Case([&](func::ReturnOp ret) -> LogicalResult {
              for (auto [i, v] : llvm::enumerate(ret.getOperands())) {
                auto q = int8Type(v.getType());
                FailureOr<uint64_t> addr = addressOf(op, v);
                if (!q || failed(addr))
                  return op->emitOpError(
                             "cannot be mapped to accel target: result ")
                             << i << " must be a signed 8-bit quantized "
                                     "tensor computed on the target",
                         failure();
                ax::TensorDesc d;
                d.isOutput = true;
                auto name =
                    func.getResultAttrOfType<StringAttr>(i, "onnx.name");
                d.name = name ? name.str() : "output" + std::to_string(i);
                auto shape = cast<ShapedType>(v.getType()).getShape();
                d.shape.assign(shape.begin(), shape.end());
                d.addr = *addr;
                d.scale = q.getScale();
                d.zeroPoint = int32_t(q.getZeroPoint());
                tensors.push_back(d);
              }
              return success();
            })
            .Case<lb::Conv2DOp, lb::FullyConnectedOp>(
                [&](Operation *layer) -> LogicalResult {
                  Value acc = layer->getResult(0);
                  auto rq = acc.hasOneUse()
                                ? dyn_cast<lb::RequantOp>(*acc.user_begin())
                                : lb::RequantOp();
                  if (!rq)
                    return error(layer)
                               << "its accumulator must feed exactly one "
                                  "lowbit.requant (the MAC array's output "
                                  "goes through the requant unit)",
                           failure();
                  return lowerConvLike(layer, rq);
                })
            .Case([&](lb::RequantOp rq) -> LogicalResult {
              if (Operation *def = rq.getInput().getDefiningOp();
                  def && isa<lb::Conv2DOp, lb::FullyConnectedOp>(def))
                return success(); // lowered with its layer
              return lowerRequantInt8(rq);
            })
            .Case([&](lb::PReluOp pr) { return lowerPRelu(pr); })
            .Case([&](lb::ClampOp cl) { return lowerClamp(cl); })
            .Case([&](lb::AddOp add) { return lowerAdd(add); })
            .Case<lb::MaxPoolOp, lb::AvgPoolOp, lb::GlobalAvgPoolOp>(
                [&](Operation *pool) { return lowerPool(pool); })
            .Case([&](lb::ReshapeOp rs) { return lowerReshape(rs); })
            .Case([&](lb::TransposeOp tr) { return lowerTranspose(tr); })
            .Default([&](Operation *other) -> LogicalResult {
              return error(other) << "the accel target has no lowering for "
                                  << other->getName(),
                     failure();
            });
    if (failed(lowered))
      return failure();
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
  auto program = mlir::accel::ProgramOp::create(
      b, func.getLoc(), b.getStringAttr(func.getSymName()),
      b.getDictionaryAttr(keys), b.getI64IntegerAttr(int64_t(dram)));
  Block *body = new Block();
  program.getBody().push_back(body);
  b.setInsertionPointToEnd(body);
  auto dataType = RankedTensorType::get({int64_t(data.size())},
                                        b.getIntegerType(8));
  mlir::accel::DataOp::create(
      b, func.getLoc(),
      DenseElementsAttr::get(
          dataType, ArrayRef<int8_t>(reinterpret_cast<int8_t *>(data.data()),
                                     data.size())));
  for (const ax::TensorDesc &d : tensors)
    mlir::accel::TensorOp::create(b, func.getLoc(), b.getStringAttr(d.name),
                            b.getDenseI64ArrayAttr(d.shape),
                            b.getI64IntegerAttr(int64_t(d.addr)),
                            b.getF64FloatAttr(d.scale),
                            b.getI64IntegerAttr(d.zeroPoint),
                            d.isOutput ? b.getUnitAttr() : UnitAttr());
  for (const Pending &p : instrs)
    mlir::accel::createInstr(b, p.loc, p.in, p.layer);
  func.erase();
  return success();
}

} // namespace accel_lowering
} // namespace lowbit
