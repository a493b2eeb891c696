//===- AccelOps.cpp - accel instruction ops -------------------------------===//
//
// Part of the lowbit project.
//
//===----------------------------------------------------------------------===//
//
// The verifiers defer to Isa.h (checkTarget, checkInstr, checkProgram): the
// compiler cannot produce an instruction the simulator would reject.
//
//===----------------------------------------------------------------------===//

#include "AccelOps.h"

#include "mlir/IR/BuiltinTypes.h"

#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace mlir::accel;
namespace ax = ::lowbit::accel;

#define GET_OP_CLASSES
#include "Accel/IR/AccelOps.cpp.inc"

namespace {

const ax::OpSpec *specOf(Operation *op) {
  if (op->getDialect() == nullptr ||
      op->getDialect()->getNamespace() != AccelDialect::getDialectNamespace())
    return nullptr;
  return ax::opSpec(op->getName().stripDialect().str());
}

/// The target of the program around `op`, or failure (with an error).
FailureOr<ax::Target> targetOf(Operation *op) {
  auto program = dyn_cast<ProgramOp>(op);
  if (!program)
    program = op->getParentOfType<ProgramOp>();
  if (!program)
    return op->emitOpError("must be inside an accel.program");
  return program.getTargetDesc();
}

LogicalResult verifyInstrOp(Operation *op) {
  FailureOr<ax::Instr> in = getInstr(op);
  if (failed(in))
    return op->emitOpError("is not an accelerator instruction");
  auto program = op->getParentOfType<ProgramOp>();
  FailureOr<ax::Target> target = targetOf(op);
  if (failed(target))
    return failure();
  std::string e =
      ax::checkInstr(*target, *in, uint64_t(program.getDramBytes()));
  if (!e.empty())
    return op->emitOpError("is not a valid instruction for target '")
           << target->name << "': " << e;
  return success();
}

} // namespace

FailureOr<ax::Instr> mlir::accel::getInstr(Operation *op) {
  const ax::OpSpec *spec = specOf(op);
  if (!spec)
    return failure();
  ax::Instr in;
  in.opcode = spec->opcode;
  for (unsigned i = 0; i < spec->numFields; ++i) {
    auto attr = op->getAttrOfType<IntegerAttr>(spec->fields[i].name);
    if (!attr)
      return failure();
    in.f[i] = attr.getInt();
  }
  if (op->hasAttr("pop_prev"))
    in.deps |= ax::PopPrev;
  if (op->hasAttr("pop_next"))
    in.deps |= ax::PopNext;
  if (op->hasAttr("push_prev"))
    in.deps |= ax::PushPrev;
  if (op->hasAttr("push_next"))
    in.deps |= ax::PushNext;
  return in;
}

Operation *mlir::accel::createInstr(OpBuilder &b, Location loc,
                                    const ax::Instr &in, StringRef layer) {
  const ax::OpSpec *spec = ax::opSpec(in.opcode);
  OperationState state(loc, (Twine("accel.") + spec->mnemonic).str());
  for (unsigned i = 0; i < spec->numFields; ++i)
    state.addAttribute(spec->fields[i].name, b.getI64IntegerAttr(in.f[i]));
  static const char *const kDeps[] = {"pop_prev", "pop_next", "push_prev",
                                      "push_next"};
  for (unsigned bit = 0; bit < 4; ++bit)
    if (in.deps >> bit & 1)
      state.addAttribute(kDeps[bit], b.getUnitAttr());
  if (!layer.empty())
    state.addAttribute("layer", b.getStringAttr(layer));
  return b.create(state);
}

FailureOr<ax::Target> ProgramOp::getTargetDesc() {
  ax::Target t;
  for (NamedAttribute kv : getTarget()) {
    std::string value;
    if (auto i = dyn_cast<IntegerAttr>(kv.getValue())) {
      if (!i.getValue().isSignedIntN(64))
        return emitOpError("target key '")
               << kv.getName().strref() << "' is out of range";
      value = std::to_string(i.getValue().getSExtValue());
    }
    else if (auto s = dyn_cast<StringAttr>(kv.getValue()))
      value = s.str();
    else if (auto bl = dyn_cast<BoolAttr>(kv.getValue()))
      value = bl.getValue() ? "1" : "0";
    else
      return emitOpError("target key '")
             << kv.getName().strref() << "' must be an integer or a string";
    std::string e = ax::setTargetField(t, kv.getName().str(), value);
    if (!e.empty())
      return emitOpError("target: ") << e;
  }
  std::string e = ax::checkTarget(t);
  if (!e.empty())
    return emitOpError("target: ") << e;
  return t;
}

LogicalResult ProgramOp::verify() {
  if (failed(getTargetDesc()))
    return failure();
  if (getDramBytesAttr().getInt() < 0 ||
      uint64_t(getDramBytesAttr().getInt()) > ax::kMaxDramBytes)
    return emitOpError("dram_bytes must be 0 to ") << ax::kMaxDramBytes;
  unsigned data = 0;
  for (Operation &op : getBody().front()) {
    if (isa<DataOp>(op) && ++data > 1)
      return op.emitOpError("repeats the program's data segment");
    if (!isa<DataOp, TensorOp>(op) && !specOf(&op))
      return op.emitOpError("is not allowed in an accel.program");
  }
  return success();
}

LogicalResult DataOp::verify() {
  auto type = dyn_cast<ShapedType>(getBytes().getType());
  if (!type || type.getRank() != 1 || !type.getElementType().isInteger(8))
    return emitOpError("bytes must be a 1-D tensor of i8");
  auto program = (*this)->getParentOfType<ProgramOp>();
  if (type.getNumElements() > program.getDramBytesAttr().getInt())
    return emitOpError("has ")
           << type.getNumElements() << " bytes; DRAM has "
           << program.getDramBytes();
  return success();
}

LogicalResult TensorOp::verify() {
  auto program = (*this)->getParentOfType<ProgramOp>();
  int64_t n = 1;
  for (int64_t d : getShape()) {
    if (d < 1 || n > (int64_t(1) << 40) / d)
      return emitOpError("has an invalid shape");
    n *= d;
  }
  int64_t dram = program.getDramBytesAttr().getInt();
  int64_t addr = getAddrAttr().getInt();
  if (addr < 0 || addr > dram || n > dram - addr)
    return emitOpError("does not fit in the program's DRAM");
  if (!(getScale().convertToDouble() > 0))
    return emitOpError("scale must be positive");
  if (getZpAttr().getInt() < -128 || getZpAttr().getInt() > 127)
    return emitOpError("zp must be an int8 value");
  return success();
}

LogicalResult LoadOp::verify() { return verifyInstrOp(*this); }
LogicalResult StoreOp::verify() { return verifyInstrOp(*this); }
LogicalResult MacOp::verify() { return verifyInstrOp(*this); }
LogicalResult RequantOp::verify() { return verifyInstrOp(*this); }
LogicalResult PoolOp::verify() { return verifyInstrOp(*this); }
LogicalResult SyncOp::verify() { return verifyInstrOp(*this); }
LogicalResult AddOp::verify() { return verifyInstrOp(*this); }
LogicalResult CopyOp::verify() { return verifyInstrOp(*this); }

FailureOr<ax::Program> mlir::accel::getProgram(ProgramOp op) {
  ax::Program p;
  FailureOr<ax::Target> t = op.getTargetDesc();
  if (failed(t))
    return failure();
  p.target = *t;
  p.dramBytes = uint64_t(op.getDramBytes());
  for (Operation &o : op.getBody().front()) {
    if (auto data = dyn_cast<DataOp>(o)) {
      for (APInt v : data.getBytes().getValues<APInt>())
        p.data.push_back(uint8_t(v.getZExtValue()));
      continue;
    }
    if (auto tensor = dyn_cast<TensorOp>(o)) {
      ax::TensorDesc d;
      d.name = tensor.getName().str();
      d.isOutput = tensor.getOutput();
      d.shape.assign(tensor.getShape().begin(), tensor.getShape().end());
      d.addr = uint64_t(tensor.getAddrAttr().getInt());
      d.scale = tensor.getScale().convertToDouble();
      d.zeroPoint = int32_t(tensor.getZpAttr().getInt());
      p.tensors.push_back(std::move(d));
      continue;
    }
    FailureOr<ax::Instr> in = getInstr(&o);
    if (failed(in))
      return o.emitOpError("is not an accelerator instruction");
    p.instrs.push_back(*in);
  }
  std::string e = ax::checkProgram(p);
  if (!e.empty())
    return op.emitOpError("is not a valid program: ") << e;
  return p;
}
