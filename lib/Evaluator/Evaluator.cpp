//===- Evaluator.cpp - Reference evaluator for lowbit IR ------------------===//
//
// Part of the lowbit project.
//
//===----------------------------------------------------------------------===//
//
// A straight-line interpreter: ops run in block order, each result lives
// until its last use. This file holds the public API, the preparation of a
// function (support checks, constants, log weights, last uses) and the
// loop; each op's handler is in the file of its family (EvaluatorImpl.h
// lists them) and OpTable.cpp maps op classes to handlers.
//
//===----------------------------------------------------------------------===//

#include "EvaluatorImpl.h"

#include "mlir/Dialect/Arith/IR/Arith.h"

using namespace mlir;
using namespace ::lowbit;
using namespace ::lowbit::eval_detail;

EvaluationObserver::~EvaluationObserver() = default;

Evaluator::Evaluator(func::FuncOp func) : func(func) {}
Evaluator::~Evaluator() = default;

FailureOr<std::unique_ptr<Evaluator>> Evaluator::create(func::FuncOp func) {
  std::unique_ptr<Evaluator> e(new Evaluator(func));
  e->impl = std::make_unique<Impl>();
  if (failed(e->impl->prepare(func)))
    return failure();
  return e;
}

std::unique_ptr<Evaluator> Evaluator::clone() const {
  std::unique_ptr<Evaluator> e(new Evaluator(func));
  e->impl = std::make_unique<Impl>();
  e->impl->constants = impl->constants; // shared, immutable tensors
  e->impl->logWeights = impl->logWeights;
  e->impl->dying = impl->dying;
  return e;
}

LogicalResult Evaluator::Impl::prepare(func::FuncOp func) {
  if (!func.getBody().hasOneBlock())
    return func.emitError("evaluator: functions with control flow are not "
                          "supported"),
           failure();
  for (BlockArgument arg : func.getArguments())
    if (!isa<RankedTensorType>(arg.getType()) ||
        !cast<RankedTensorType>(arg.getType()).hasStaticShape() ||
        !elemKindOf(cast<RankedTensorType>(arg.getType()).getElementType()))
      return func.emitError("evaluator: argument ")
                 << arg.getArgNumber() << " of type " << arg.getType()
                 << " is not a static tensor of a supported element type",
             failure();
  // Every value is allocated on the host: refuse the ones that cannot be
  // before running anything.
  auto checkSize = [](Type type) -> std::string {
    auto t = dyn_cast<RankedTensorType>(type);
    if (!t)
      return "";
    return tensorSizeError(*elemKindOf(t.getElementType()), t.getShape());
  };
  for (BlockArgument arg : func.getArguments())
    if (std::string why = checkSize(arg.getType()); !why.empty())
      return func.emitError("evaluator: argument ")
                 << arg.getArgNumber() << ": " << why,
             failure();
  llvm::DenseMap<Value, Operation *> lastUser;
  for (Operation &op : func.getBody().front()) {
    for (Value v : op.getOperands())
      lastUser[v] = &op;
    for (Value r : op.getResults()) {
      auto t = dyn_cast<RankedTensorType>(r.getType());
      bool shapeValue = isa<tosa::shapeType>(r.getType());
      if (!shapeValue &&
          (!t || !t.hasStaticShape() || !elemKindOf(t.getElementType())))
        return op.emitError("evaluator: result type ")
                   << r.getType() << " is not supported",
               failure();
      if (std::string why = checkSize(r.getType()); !why.empty())
        return op.emitError("evaluator: cannot hold the result: ") << why,
               failure();
    }
    bool supported = isa<func::ReturnOp, tosa::ConstOp, arith::ConstantOp,
                         mlir::lowbit::ConstantOp>(op) ||
                     handlerFor(&op);
    if (!supported)
      return op.emitError("evaluator: unsupported op '") << op.getName() << "'",
             failure();
    // Log / STLQ weights: decoded and packed once.
    auto conv = dyn_cast<mlir::lowbit::Conv2DOp>(op);
    auto fc = dyn_cast<mlir::lowbit::FullyConnectedOp>(op);
    if ((conv && conv.getWeightEncoding()) || (fc && fc.getWeightEncoding())) {
      auto packed = mlir::lowbit::getPackedLogWeights(&op);
      if (failed(packed))
        return failure();
      logWeights[&op] = std::make_shared<const mlir::lowbit::PackedLogWeights>(
          std::move(*packed));
    }
    // Constants are converted once.
    ElementsAttr attr;
    if (auto c = dyn_cast<tosa::ConstOp>(op))
      attr = c.getValues();
    else if (auto c = dyn_cast<arith::ConstantOp>(op))
      attr = dyn_cast<ElementsAttr>(c.getValue());
    else if (auto c = dyn_cast<mlir::lowbit::ConstantOp>(op))
      attr = c.getValue();
    if (isa<tosa::ConstOp, arith::ConstantOp, mlir::lowbit::ConstantOp>(op)) {
      if (!attr)
        return op.emitError("evaluator: unsupported constant"), failure();
      auto t = fromAttr(op.getLoc(), attr,
                        cast<ShapedType>(op.getResult(0).getType()));
      if (failed(t))
        return failure();
      constants[&op] = std::make_shared<const HostTensor>(std::move(*t));
    }
  }
  for (auto [v, user] : lastUser)
    dying[user].push_back(v);
  return success();
}

FailureOr<std::vector<HostTensor>>
Evaluator::run(ArrayRef<HostTensor> inputs, EvaluationObserver *observer) {
  Impl &I = *impl;
  I.env.clear();
  if (inputs.size() != func.getNumArguments())
    return func.emitError("evaluator: expected ")
               << func.getNumArguments() << " inputs, got " << inputs.size(),
           failure();
  for (auto [i, arg] : llvm::enumerate(func.getArguments())) {
    auto type = cast<RankedTensorType>(arg.getType());
    if (inputs[i].shape() != type.getShape() ||
        inputs[i].kind() != *elemKindOf(type.getElementType()))
      return func.emitError("evaluator: input ")
                 << i << " is " << elemName(inputs[i].kind()) << " "
                 << shapeToString(inputs[i].shape()) << ", expected " << type,
             failure();
    I.env[arg] = std::make_shared<const HostTensor>(inputs[i]);
  }
  std::vector<HostTensor> outputs;
  for (Operation &op : func.getBody().front()) {
    if (auto ret = dyn_cast<func::ReturnOp>(op)) {
      for (Value v : ret.getOperands())
        outputs.push_back(I.get(v));
      break;
    }
    if (failed(I.execute(&op)))
      return failure();
    if (observer)
      for (auto [i, r] : llvm::enumerate(op.getResults()))
        if (!isa<tosa::shapeType>(r.getType()))
          observer->onResult(&op, i, I.get(r));
    if (auto it = I.dying.find(&op); it != I.dying.end())
      for (Value v : it->second)
        I.env.erase(v);
  }
  I.env.clear();
  return outputs;
}

FailureOr<std::vector<int64_t>> Evaluator::Impl::shapeValues(Operation *op,
                                                             Value v) {
  auto it = env.find(v);
  if (it == env.end())
    return op->emitError("evaluator: shape operand is not a tosa.const_shape"),
           failure();
  return it->second->toInts();
}

LogicalResult Evaluator::Impl::execute(Operation *op) {
  if (auto it = constants.find(op); it != constants.end()) {
    env[op->getResult(0)] = it->second;
    return success();
  }
  if (Handler handler = handlerFor(op))
    return handler(*this, op);
  // Unreachable: prepare() refuses ops without a handler.
  return op->emitError("evaluator: unsupported op '") << op->getName() << "'",
         failure();
}
