//===- LowBitToAccelPass.cpp - The convert-lowbit-to-accel pass -----------===//
//
// Part of the lowbit project.
//
//===----------------------------------------------------------------------===//
//
// Reads the target description (target-file, then target-set overrides) and
// lowers the module's one function with the Lowering of LoweringImpl.h.
//
//===----------------------------------------------------------------------===//

#include "lowbit/Conversion/Passes.h"

#include "../SingleFunction.h"
#include "LoweringImpl.h"

#include "llvm/Support/MemoryBuffer.h"

namespace lowbit {
#define GEN_PASS_DEF_CONVERTLOWBITTOACCEL
#include "lowbit/Conversion/Passes.h.inc"
} // namespace lowbit

using namespace mlir;
namespace ax = ::lowbit::accel;

namespace {

struct ConvertLowBitToAccelPass
    : ::lowbit::impl::ConvertLowBitToAccelBase<ConvertLowBitToAccelPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    ax::Target target;
    if (!targetFile.empty()) {
      auto buf = llvm::MemoryBuffer::getFile(targetFile, /*IsText=*/true);
      if (!buf) {
        module.emitError() << "convert-lowbit-to-accel: cannot read target "
                              "description '"
                           << targetFile << "': " << buf.getError().message();
        return signalPassFailure();
      }
      std::string e = ax::parseTarget((*buf)->getBuffer().str(), target);
      if (!e.empty()) {
        module.emitError() << "convert-lowbit-to-accel: " << targetFile << ": "
                           << e;
        return signalPassFailure();
      }
    }
    for (const std::string &kv : targetSet) {
      size_t eq = kv.find('=');
      std::string e =
          eq == std::string::npos
              ? "expected key=value, got '" + kv + "'"
              : ax::setTargetField(target, kv.substr(0, eq),
                                    kv.substr(eq + 1));
      if (e.empty())
        e = ax::checkTarget(target);
      if (!e.empty()) {
        module.emitError() << "convert-lowbit-to-accel: target-set: " << e;
        return signalPassFailure();
      }
    }
    if (failed(::lowbit::lowerSingleFunction(
            module, "convert-lowbit-to-accel", [&](func::FuncOp func) {
              return ::lowbit::accel_lowering::Lowering(module, func, target)
                  .run();
            })))
      return signalPassFailure();
  }
};

} // namespace
