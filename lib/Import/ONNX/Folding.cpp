//===- Folding.cpp - Host folding of constants ----------------------------===//
//
// Part of the lowbit project.
//
//===----------------------------------------------------------------------===//
//
// Elementwise integer and float arithmetic on values known at import time
// (the shape arithmetic torch.onnx emits), exact or a located error.
//
//===----------------------------------------------------------------------===//

#include "ImporterImpl.h"

#include <functional>
#include <limits>

using namespace mlir;
using namespace ::lowbit;
using namespace ::lowbit::onnx_import;

//===----------------------------------------------------------------------===//
// Host-side folding of constant subgraphs
//===----------------------------------------------------------------------===//

/// The exact result of an integer binary op, or std::nullopt when it has
/// none (division by zero) or does not fit int64.
using IntBinaryFn = std::function<std::optional<int64_t>(int64_t, int64_t)>;

/// Elementwise binary op with ONNX (numpy) broadcasting on host tensors.
/// Float kinds use `f`; integer kinds use `g`, and a result that `g` cannot
/// give or that the element kind cannot hold fails with the flat index of
/// the first such element in `badIndex`.
static FailureOr<HostTensor>
hostBinary(const HostTensor &a, const HostTensor &b, ArrayRef<int64_t> outShape,
           const std::function<double(double, double)> &f, const IntBinaryFn &g,
           int64_t &badIndex) {
  HostTensor out(a.kind(), outShape);
  int64_t rank = outShape.size();
  auto index = [&](const HostTensor &t, int64_t flat) {
    int64_t off = 0, stride = 1;
    int64_t tr = t.rank();
    for (int64_t d = rank - 1, rem = flat; d >= 0; --d) {
      int64_t i = rem % outShape[d];
      rem /= outShape[d];
      int64_t td = d - (rank - tr);
      if (td >= 0) {
        if (t.shape()[td] != 1)
          off += i * stride;
        stride *= t.shape()[td];
      }
    }
    return off;
  };
  bool isFloat = isFloatKind(a.kind());
  // The range of the element kind (setInt would silently truncate).
  int64_t lo = 0, hi = 1; // bool
  if (!isFloat && a.kind() != ElemKind::I1) {
    unsigned bits = elemSize(a.kind()) * 8;
    if (bits == 64) { // int64 (there is no uint64 kind)
      lo = std::numeric_limits<int64_t>::min();
      hi = std::numeric_limits<int64_t>::max();
    } else if (isSignedIntKind(a.kind())) {
      lo = -(int64_t(1) << (bits - 1));
      hi = (int64_t(1) << (bits - 1)) - 1;
    } else {
      hi = (int64_t(1) << bits) - 1;
    }
  }
  for (int64_t i = 0, e = out.numElements(); i < e; ++i) {
    int64_t ia = index(a, i), ib = index(b, i);
    if (isFloat) {
      out.setDouble(i, f(a.getDouble(ia), b.getDouble(ib)));
      continue;
    }
    std::optional<int64_t> r = g(a.getInt(ia), b.getInt(ib));
    if (!r || *r < lo || *r > hi) {
      badIndex = i;
      return failure();
    }
    out.setInt(i, *r);
  }
  return out;
}

LogicalResult Importer::foldConstantNode(bool &folded) {
  folded = false;
  StringRef op = node->op_type();
  // Only value-preserving shape arithmetic is folded here; anything that
  // computes real-valued results (Conv, Softmax, ...) is left to the IR.
  static const llvm::StringSet<> foldable = {
      "Add",      "Sub",       "Mul",       "Div",  "Gather",
      "Concat",   "Unsqueeze", "Squeeze",   "Cast", "Reshape",
      "Identity", "Flatten",   "Transpose", "Slice"};
  if (!foldable.contains(op))
    return success();
  for (int i = 0; i < node->input_size(); ++i) {
    if (node->input(i).empty())
      continue;
    TensorInfo *in = lookup(node->input(i));
    if (!in || !in->constant)
      return success();
  }
  // The ops folded here have a required input 0 (and 1); the others are
  // folded by their handlers, which check their own inputs.
  if (op == "Add" || op == "Sub" || op == "Mul" || op == "Div") {
    if (failed(checkAttributes({"axis", "broadcast"})) ||
        failed(checkAttributeTypes({{"axis", onnx::AttributeProto::INT},
                                    {"broadcast", onnx::AttributeProto::INT}})))
      return failure();
    auto in0 = requireInput(0);
    if (failed(in0))
      return failure();
    auto in1 = requireInput(1);
    if (failed(in1))
      return failure();
    const HostTensor &a = *(*in0)->constant, &c = *(*in1)->constant;
    // Before opset 7 broadcasting follows the 'broadcast' and 'axis'
    // attributes, not numpy: importBinary handles that form.
    if (opset < 7 && (attr("broadcast") || a.shape() != c.shape()))
      return success();
    if (a.kind() != c.kind())
      return nodeError() << "operand element types " << elemName(a.kind())
                         << " and " << elemName(c.kind()) << " differ",
             failure();
    auto shape = broadcastShape(a.shape(), c.shape());
    if (failed(shape))
      return failure();
    // Integer results are exact or an error: an overflow of the element
    // type, a division by zero and INT64_MIN / -1 have no value that the
    // ONNX spec defines (numpy wraps, ONNX Runtime traps on the division),
    // and what is folded here is shape arithmetic, where a wrapped value
    // would only turn into a wrong shape later. The checked builtins keep
    // the folding itself free of undefined behaviour.
    std::function<double(double, double)> f;
    IntBinaryFn g;
    if (op == "Add") {
      f = [](double x, double y) { return x + y; };
      g = [](int64_t x, int64_t y) -> std::optional<int64_t> {
        int64_t r;
        if (__builtin_add_overflow(x, y, &r))
          return std::nullopt;
        return r;
      };
    } else if (op == "Sub") {
      f = [](double x, double y) { return x - y; };
      g = [](int64_t x, int64_t y) -> std::optional<int64_t> {
        int64_t r;
        if (__builtin_sub_overflow(x, y, &r))
          return std::nullopt;
        return r;
      };
    } else if (op == "Mul") {
      f = [](double x, double y) { return x * y; };
      g = [](int64_t x, int64_t y) -> std::optional<int64_t> {
        int64_t r;
        if (__builtin_mul_overflow(x, y, &r))
          return std::nullopt;
        return r;
      };
    } else {
      f = [](double x, double y) { return x / y; };
      // C++ (and ONNX Runtime) integer division truncates toward zero.
      g = [](int64_t x, int64_t y) -> std::optional<int64_t> {
        if (y == 0 || (x == std::numeric_limits<int64_t>::min() && y == -1))
          return std::nullopt;
        return x / y;
      };
    }
    // Float math is done in the element type's precision.
    if (a.kind() == ElemKind::F32) {
      auto f32 = f;
      f = [f32](double x, double y) {
        return static_cast<double>(static_cast<float>(f32(x, y)));
      };
    }
    int64_t bad = 0;
    auto result = hostBinary(a, c, *shape, f, g, bad);
    if (failed(result)) {
      // The operands of the bad element, found again by broadcasting.
      auto operand = [&](const HostTensor &t) {
        SmallVector<int64_t> idx(shape->size());
        for (int64_t d = shape->size() - 1, rem = bad; d >= 0; --d) {
          idx[d] = rem % (*shape)[d];
          rem /= (*shape)[d];
        }
        int64_t off = 0, stride = 1;
        for (int64_t d = t.rank() - 1; d >= 0; --d) {
          int64_t od = d + (shape->size() - t.rank());
          if (t.shape()[d] != 1)
            off += idx[od] * stride;
          stride *= t.shape()[d];
        }
        return t.getInt(off);
      };
      int64_t x = operand(a), y = operand(c);
      auto diag = nodeError();
      diag << "constant folding: ";
      if (op == "Div" && y == 0)
        diag << "integer division by zero";
      else
        diag << elemName(a.kind()) << " " << op << " overflows";
      diag << " (" << x << " "
           << (op == "Add"   ? "+"
               : op == "Sub" ? "-"
               : op == "Mul" ? "*"
                             : "/")
           << " " << y << ", element " << bad << " of " << shapeToString(*shape)
           << ")";
      return failure();
    }
    setConstantOutput(0, std::move(*result));
    folded = true;
    return success();
  }
  if (op == "Identity") {
    if (failed(checkAttributes({})))
      return failure();
    auto in0 = requireInput(0);
    if (failed(in0))
      return failure();
    setConstantOutput(0, *(*in0)->constant);
    folded = true;
    return success();
  }
  // The remaining ops share their shape logic with the IR path: run the
  // normal handler, which produces constants when its inputs are constant.
  return success();
}

void Importer::forEachBroadcast(
    ArrayRef<int64_t> outShape, ArrayRef<const HostTensor *> ins,
    llvm::function_ref<void(int64_t, ArrayRef<int64_t>)> f) {
  int64_t rank = outShape.size();
  size_t n = ins.size();
  // Per input and output dimension: the input's stride, 0 where it
  // broadcasts (a size-1 or missing leading dimension).
  SmallVector<SmallVector<int64_t, 6>, 3> strides(n);
  for (size_t k = 0; k < n; ++k) {
    ArrayRef<int64_t> s = ins[k]->shape();
    int64_t r = s.size();
    strides[k].assign(rank, 0);
    int64_t stride = 1;
    for (int64_t d = r - 1; d >= 0; --d) {
      int64_t od = d + (rank - r);
      strides[k][od] = s[d] == 1 ? 0 : stride;
      stride *= s[d];
    }
  }
  SmallVector<int64_t, 6> counter(rank, 0);
  SmallVector<int64_t, 3> off(n, 0);
  int64_t total = numElements(outShape);
  for (int64_t i = 0; i < total; ++i) {
    f(i, off);
    for (int64_t d = rank - 1; d >= 0; --d) {
      ++counter[d];
      for (size_t k = 0; k < n; ++k)
        off[k] += strides[k][d];
      if (counter[d] < outShape[d])
        break;
      for (size_t k = 0; k < n; ++k)
        off[k] -= strides[k][d] * outShape[d];
      counter[d] = 0;
    }
  }
}
