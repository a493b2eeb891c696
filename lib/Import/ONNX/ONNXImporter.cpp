//===- ONNXImporter.cpp - ONNX ModelProto to func + tosa ------------------===//
//
// Part of the lowbit project.
//
//===----------------------------------------------------------------------===//
//
// Walks the graph in order (ONNX graphs are topologically sorted) and emits
// TOSA ops with static shapes. Values known at import time (initializers,
// Constant nodes, bound inputs and the shape subgraphs torch.onnx emits) are
// kept on the host and folded; they reach the IR only when a real op needs
// them, as `tosa.const` (large ones as dense resources, copied once).
//
// ONNX is NCHW; TOSA's convolutions and pools are NHWC, so those ops are
// wrapped in transposes, which canonicalization cancels between neighbours.
// Constant weights are re-laid out on the host.
//
// This file holds the model and graph walk, the per-node driver and the
// entry point; ImporterImpl.h lists the files that hold the rest.
//
// Every unsupported op, attribute or form is a located error naming the
// node, its op type and the opset; nothing is dropped or approximated
// silently.
//
//===----------------------------------------------------------------------===//

#include "ImporterImpl.h"

#include "LowBit/IR/LowBitOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Quant/IR/Quant.h"
#include "mlir/Dialect/Tosa/IR/TosaOps.h"
#include "mlir/IR/Verifier.h"
#include "llvm/Support/MemoryBuffer.h"

#include <limits>

using namespace mlir;
using namespace ::lowbit;
using namespace ::lowbit::onnx_import;

//===----------------------------------------------------------------------===//
// Graph input shapes
//===----------------------------------------------------------------------===//

FailureOr<SmallVector<int64_t>>
Importer::graphInputShape(const onnx::ValueInfoProto &in) {
  const std::string &name = in.name();
  const auto &tt = in.type().tensor_type();
  const auto &dims = tt.shape().dim();
  int64_t rank = dims.size();
  auto isStatic = [](const onnx::TensorShapeProto::Dimension &d) {
    return d.has_dim_value() && d.dim_value() >= 0;
  };
  // "dimension 2 ('height')"
  auto describe = [&](int64_t i) {
    std::string s = "dimension " + std::to_string(i);
    if (!dims[i].dim_param().empty())
      s += " ('" + dims[i].dim_param() + "')";
    return s;
  };
  // The option that would set the shape, with the model's static dimensions
  // filled in: "--input-shape x=Nx3x?x?".
  auto option = [&]() {
    std::string s = "--input-shape " + name + "=";
    if (!tt.has_shape())
      return s + "D0xD1x...";
    for (int64_t i = 0; i < rank; ++i) {
      if (i)
        s += "x";
      s += isStatic(dims[i]) ? std::to_string(dims[i].dim_value())
                             : (i == 0 ? "N" : "?");
    }
    return s;
  };
  auto modelShape = [&]() {
    std::string s = "[";
    for (int64_t i = 0; i < rank; ++i) {
      if (i)
        s += ", ";
      if (isStatic(dims[i]))
        s += std::to_string(dims[i].dim_value());
      else
        s += dims[i].dim_param().empty() ? "?" : dims[i].dim_param();
    }
    return s + "]";
  };

  auto given = options.inputShapes.find(name);
  if (given != options.inputShapes.end()) {
    ArrayRef<int64_t> shape = given->second;
    // A model that leaves the rank unknown takes the given shape as it is.
    if (!tt.has_shape())
      return SmallVector<int64_t>(shape);
    if (static_cast<int64_t>(shape.size()) != rank) {
      modelError() << "--input-shape gives input '" << name << "' "
                   << shape.size() << " dimensions; its shape in the model, "
                   << modelShape() << ", has " << rank;
      return failure();
    }
    for (int64_t i = 0; i < rank; ++i)
      if (isStatic(dims[i]) && dims[i].dim_value() != shape[i]) {
        modelError() << "--input-shape gives input '" << name << "' "
                     << describe(i) << " the size " << shape[i]
                     << "; its shape in the model, " << modelShape()
                     << ", fixes it to " << dims[i].dim_value();
        return failure();
      }
    return SmallVector<int64_t>(shape);
  }

  if (!tt.has_shape()) {
    modelError() << "graph input '" << name << "' has no shape in the model "
                 << "(unknown rank); lowbit needs static shapes: set it with "
                 << option();
    return failure();
  }
  // Only a leading (batch) dimension is bound by default: any other
  // symbolic size (an image height, a sequence length) changes what the
  // model computes, so the user has to choose it.
  for (int64_t i = 1; i < rank; ++i)
    if (!isStatic(dims[i])) {
      modelError() << "graph input '" << name << "' " << describe(i)
                   << " is symbolic " << modelShape()
                   << "; lowbit needs static shapes: set it with " << option();
      return failure();
    }
  SmallVector<int64_t> shape;
  for (int64_t i = 0; i < rank; ++i)
    shape.push_back(isStatic(dims[i]) ? dims[i].dim_value() : 1);
  if (rank > 0 && !isStatic(dims[0]))
    ctx.getDiagEngine().emit(FileLineColLoc::get(&ctx, path, 0, 0),
                             DiagnosticSeverity::Note)
        << "input '" << name << "' " << describe(0)
        << " is symbolic; bound to 1 (set it with " << option() << ")";
  return shape;
}

//===----------------------------------------------------------------------===//
// Driver
//===----------------------------------------------------------------------===//

void Importer::enterNode(const onnx::NodeProto &n, int index) {
  node = &n;
  nodeIndex = index;
  loc = NameLoc::get(b.getStringAttr(nodeName()),
                     FileLineColLoc::get(&ctx, path, nodeIndex + 1, 0));
}

LogicalResult Importer::checkDefinitions() {
  const onnx::GraphProto &graph = model.graph();
  llvm::StringSet<> initializers, inputs;
  for (const auto &init : graph.initializer()) {
    if (init.name().empty())
      return modelError() << "initializer " << initializers.size()
                          << " has no name; the model is corrupt",
             failure();
    if (!initializers.insert(init.name()).second)
      return modelError() << "initializer '" << init.name()
                          << "' is given more than once",
             failure();
  }
  // A graph input may also be an initializer (its default value).
  for (const auto &in : graph.input()) {
    if (in.name().empty())
      return modelError() << "graph input " << inputs.size()
                          << " has no name; the model is corrupt",
             failure();
    if (!inputs.insert(in.name()).second)
      return modelError() << "graph input '" << in.name()
                          << "' is listed more than once",
             failure();
  }
  // In ONNX every tensor has one definition (static single assignment):
  // a second one would silently replace the first for later readers.
  llvm::StringMap<int> producer;
  for (int i = 0; i < graph.node_size(); ++i) {
    const onnx::NodeProto &n = graph.node(i);
    for (const std::string &out : n.output()) {
      if (out.empty())
        continue;
      auto [it, inserted] = producer.try_emplace(out, i);
      if (inserted && !inputs.contains(out) && !initializers.contains(out))
        continue;
      enterNode(n, i);
      auto diag = nodeError();
      diag << "output '" << out << "' ";
      if (!inserted && it->second == i) {
        diag << "is listed twice among the node's outputs";
      } else if (!inserted) {
        const onnx::NodeProto &first = graph.node(it->second);
        diag << "is already the output of node '"
             << (first.name().empty() ? "#" + std::to_string(it->second)
                                      : first.name())
             << "' (" << first.op_type() << ", line " << it->second + 1
             << "); an ONNX tensor has one producer";
      } else {
        diag << "has the name of "
             << (initializers.contains(out) ? "initializer" : "graph input")
             << " '" << out << "'; an ONNX tensor has one producer";
      }
      node = nullptr;
      return failure();
    }
  }
  return success();
}

OwningOpRef<ModuleOp> Importer::run() {
  // Opset of the default domain ('' or 'ai.onnx').
  std::optional<int64_t> defaultOpset;
  for (const auto &o : model.opset_import()) {
    if (!o.domain().empty() && o.domain() != "ai.onnx")
      continue;
    if (defaultOpset && *defaultOpset != o.version()) {
      modelError() << "the model imports the default ONNX domain twice, "
                   << "with opsets " << *defaultOpset << " and " << o.version();
      return nullptr;
    }
    defaultOpset = o.version();
  }
  if (defaultOpset) {
    opset = *defaultOpset;
  } else if (model.opset_import_size() == 0) {
    // IR versions 1 and 2 predate opset_import: their ops are opset 1.
    if (model.ir_version() < 1 || model.ir_version() >= 3) {
      modelError() << "the model has no opset_import, which ONNX requires "
                   << "from IR version 3 (the model's is " << model.ir_version()
                   << "): it says which version of each op the model means";
      return nullptr;
    }
    opset = 1;
  } else {
    std::string listed;
    for (const auto &o : model.opset_import())
      listed += (listed.empty() ? "'" : ", '") + o.domain() + "'";
    for (const auto &[i, n] : llvm::enumerate(model.graph().node())) {
      if (!n.domain().empty() && n.domain() != "ai.onnx")
        continue;
      enterNode(n, static_cast<int>(i));
      mlir::emitError(loc)
          << "node '" << nodeName() << "' (" << n.op_type()
          << ") is an op of the default ONNX domain, but the model's "
          << "opset_import does not list that domain (only " << listed
          << "), so the op's version is unknown";
      return nullptr;
    }
    modelError() << "the model has no op of the default ONNX domain (its "
                 << "opset_import lists only " << listed
                 << "); lowbit imports ops of the default domain only";
    return nullptr;
  }
  // Opsets 7 to 21 are the target; older models (1-6, as many
  // pytorch-converted ones are) import where their ops' semantics are the
  // same, and their legacy attributes are handled or rejected per op.
  if (opset < 1 || opset > 21) {
    modelError() << "unsupported opset " << opset
                 << " (lowbit imports ONNX opsets up to 21)";
    return nullptr;
  }
  const onnx::GraphProto &graph = model.graph();
  if (failed(checkDefinitions()))
    return nullptr;

  // Initializers are constants.
  llvm::StringSet<> initializerNames;
  for (const auto &init : graph.initializer()) {
    auto t = tensorFromProto(init);
    if (failed(t))
      return nullptr;
    TensorInfo info;
    info.kind = t->kind();
    info.shape.assign(t->shape().begin(), t->shape().end());
    info.constant = std::move(*t);
    values[init.name()] = std::move(info);
    initializerNames.insert(init.name());
  }
  for (const auto &[name, _] : options.boundInputs) {
    bool found = false;
    for (const auto &in : graph.input())
      found |= in.name() == name;
    if (!found) {
      modelError() << "--bind-input names '" << name
                   << "', which is not a graph input";
      return nullptr;
    }
  }

  for (const auto &[name, _] : options.inputShapes) {
    bool found = false;
    std::string inputs;
    for (const auto &in : graph.input()) {
      if (initializerNames.contains(in.name()))
        continue;
      found |= in.name() == name;
      inputs += (inputs.empty() ? "" : ", ") + in.name();
    }
    if (!found) {
      modelError() << "--input-shape names '" << name
                   << "', which is not a graph input (inputs: " << inputs
                   << ")";
      return nullptr;
    }
    if (options.boundInputs.count(name)) {
      modelError() << "input '" << name << "' is given both --input-shape "
                   << "and --bind-input (a bound input has its value's "
                      "shape)";
      return nullptr;
    }
  }

  // Graph inputs that are not initializers are function arguments.
  SmallVector<Type> argTypes;
  SmallVector<std::string> argNames;
  for (const auto &in : graph.input()) {
    if (initializerNames.contains(in.name()))
      continue;
    if (!in.type().has_tensor_type()) {
      modelError() << "unsupported graph input '" << in.name()
                   << "': only tensor inputs are supported";
      return nullptr;
    }
    const auto &tt = in.type().tensor_type();
    auto kind = kindOfOnnx(tt.elem_type(), "graph input '" + in.name() + "'");
    if (failed(kind))
      return nullptr;
    auto bound = options.boundInputs.find(in.name());
    if (bound != options.boundInputs.end()) {
      // The value stands for the input: it must have the input's shape
      // (any size for a symbolic dimension).
      if (tt.has_shape()) {
        ArrayRef<int64_t> given = bound->second.shape();
        const auto &dims = tt.shape().dim();
        bool matches = static_cast<int64_t>(given.size()) == dims.size();
        std::string expected = "[";
        for (int i = 0; i < dims.size(); ++i) {
          bool isStatic = dims[i].has_dim_value() && dims[i].dim_value() >= 0;
          expected += (i ? ", " : "") +
                      (isStatic ? std::to_string(dims[i].dim_value())
                       : dims[i].dim_param().empty() ? std::string("?")
                                                     : dims[i].dim_param());
          if (matches && isStatic && dims[i].dim_value() != given[i])
            matches = false;
        }
        expected += "]";
        if (!matches) {
          modelError() << "--bind-input " << in.name() << ": the array has "
                       << "shape " << shapeToString(given)
                       << "; the model's input '" << in.name() << "' has shape "
                       << expected;
          return nullptr;
        }
      }
      HostTensor value = bound->second;
      if (value.kind() != *kind)
        value = value.castTo(*kind);
      TensorInfo info;
      info.kind = *kind;
      info.shape.assign(value.shape().begin(), value.shape().end());
      info.constant = std::move(value);
      info.graphInput = in.name();
      values[in.name()] = std::move(info);
      continue;
    }
    auto shape = graphInputShape(in);
    if (failed(shape))
      return nullptr;
    // Nothing is allocated for an input here (the evaluator and the C++
    // target check their own limits), but its element count must exist.
    if (!checkedNumElements(*shape)) {
      modelError() << "graph input '" << in.name() << "' has shape "
                   << shapeToString(*shape)
                   << ", which has more elements than a 64-bit count holds";
      return nullptr;
    }
    TensorInfo info;
    info.kind = *kind;
    info.shape = *shape;
    info.graphInput = in.name();
    values[in.name()] = std::move(info);
    argTypes.push_back(tensorType(*shape, *kind));
    argNames.push_back(in.name());
  }

  auto module = ModuleOp::create(FileLineColLoc::get(&ctx, path, 0, 0));
  OwningOpRef<ModuleOp> owned(module);
  b.setInsertionPointToEnd(module.getBody());
  std::string fnName = options.functionName.empty()
                           ? (graph.name().empty() ? "main" : graph.name())
                           : options.functionName;
  auto func = func::FuncOp::create(b, module.getLoc(), fnName,
                                   b.getFunctionType(argTypes, {}));
  Block *entry = func.addEntryBlock();
  for (auto [i, name] : llvm::enumerate(argNames)) {
    values[name].value = entry->getArgument(i);
    func.setArgAttr(i, "onnx.name", b.getStringAttr(name));
  }
  b.setInsertionPointToEnd(entry);

  findConvBatchNormPairs();
  for (const auto &[i, n] : llvm::enumerate(graph.node())) {
    enterNode(n, static_cast<int>(i));
    if (!n.domain().empty() && n.domain() != "ai.onnx") {
      nodeError() << "unsupported ONNX op '" << n.op_type() << "' of domain '"
                  << n.domain() << "'";
      return nullptr;
    }
    // Every op of the default domain has at least one output (the handlers
    // rely on output 0 existing).
    if (n.output_size() == 0) {
      nodeError() << "the node has no outputs; the model is corrupt";
      return nullptr;
    }
    if (failed(importNode()))
      return nullptr;
  }
  node = nullptr;

  SmallVector<Value> results;
  SmallVector<Type> resultTypes;
  for (const auto &out : graph.output()) {
    TensorInfo *info = lookup(out.name());
    if (!info) {
      modelError() << "graph output '" << out.name()
                   << "' is not produced by any node";
      return nullptr;
    }
    loc = FileLineColLoc::get(&ctx, path, 0, 0);
    if (llvm::is_contained(info->shape, 0)) {
      modelError() << "unsupported zero-sized graph output '" << out.name()
                   << "'";
      return nullptr;
    }
    Value v = valueOf(*info);
    results.push_back(v);
    resultTypes.push_back(v.getType());
  }
  func::ReturnOp::create(b, FileLineColLoc::get(&ctx, path, 0, 0), results);
  func.setType(b.getFunctionType(argTypes, resultTypes));
  for (auto [i, out] : llvm::enumerate(graph.output()))
    func.setResultAttr(i, "onnx.name", b.getStringAttr(out.name()));
  if (failed(mlir::verify(module))) {
    modelError() << "internal error: the imported IR does not verify";
    return nullptr;
  }
  return owned;
}

LogicalResult Importer::importNode() {
  StringRef op = node->op_type();
  if (foldedBatchNorms.contains(node->output(0)))
    return success(); // folded into the producing Conv
  bool folded = false;
  if (failed(foldConstantNode(folded)))
    return failure();
  if (folded)
    return success();

  Handler handler = handlerFor(op);
  if (!handler)
    return nodeError() << "unsupported ONNX op '" << op << "'", failure();
  // Every input must exist before any handler looks at it; TOSA has no
  // zero-sized tensors, so those are only allowed as folded constants.
  for (int i = 0; i < node->input_size(); ++i) {
    if (node->input(i).empty())
      continue;
    TensorInfo *in = lookup(node->input(i));
    if (!in)
      return nodeError() << "input '" << node->input(i)
                         << "' is not produced by any earlier node, "
                            "initializer or graph input",
             failure();
    if (!in->constant && llvm::is_contained(in->shape, 0))
      return unsupported("zero-sized tensor '" + node->input(i) + "'");
  }
  // A handler may import the node through a rewritten copy (1-D forms as
  // 2-D ones) and leave `node` pointing at it: restore this node first.
  const onnx::NodeProto *self = node;
  LogicalResult imported = handler(*this);
  node = self;
  if (failed(imported))
    return failure();
  // Shapes computed from attributes (pads, strides, sizes) can be absurd in
  // a corrupt model: stop at the node that made one, before the next node
  // multiplies its dimensions.
  for (const std::string &name : node->output()) {
    if (name.empty())
      continue;
    TensorInfo *out = lookup(name);
    if (!out)
      continue;
    if (llvm::any_of(out->shape, [](int64_t d) { return d < 0; }))
      return nodeError() << "output '" << name << "' would have the shape "
                         << shapeToString(out->shape),
             failure();
    std::string tooLarge = tensorSizeError(out->kind, out->shape);
    if (!tooLarge.empty())
      return nodeError() << "output '" << name << "': " << tooLarge, failure();
  }
  return success();
}

//===----------------------------------------------------------------------===//
// Entry point
//===----------------------------------------------------------------------===//

OwningOpRef<ModuleOp>(::lowbit::importONNXFile)(
    StringRef path, MLIRContext &context, const ONNXImportOptions &options) {
  context.loadDialect<func::FuncDialect, tosa::TosaDialect, quant::QuantDialect,
                      mlir::lowbit::LowBitDialect>();
  Location fileLoc = FileLineColLoc::get(&context, path, 0, 0);
  auto buffer = llvm::MemoryBuffer::getFile(path, /*IsText=*/false,
                                            /*RequiresNullTerminator=*/false);
  if (!buffer) {
    mlir::emitError(fileLoc)
        << "cannot open ONNX model: " << buffer.getError().message();
    return nullptr;
  }
  StringRef bytes = (*buffer)->getBuffer();
  if (bytes.size() > static_cast<size_t>(std::numeric_limits<int>::max())) {
    mlir::emitError(fileLoc) << "model larger than 2 GiB is not supported "
                                "(protobuf limit; use external data)";
    return nullptr;
  }
  onnx::ModelProto model;
  if (!model.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    mlir::emitError(fileLoc)
        << "not a valid ONNX model (protobuf parse failed: the file is "
           "truncated, corrupt or not an ONNX ModelProto)";
    return nullptr;
  }
  // The message holds its own copy of everything: release the file.
  buffer->reset();
  if (!model.has_graph() || model.graph().node_size() == 0) {
    mlir::emitError(fileLoc)
        << "not a valid ONNX model (no graph or an empty graph)";
    return nullptr;
  }
  Importer importer(context, model, path, options);
  return importer.run();
}
