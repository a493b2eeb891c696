//===- LowBitToEmitCPass.cpp - The convert-lowbit-to-emitc pass -----------===//
//
// Part of the lowbit project.
//
//===----------------------------------------------------------------------===//

#include "lowbit/Conversion/Passes.h"

#include "../SingleFunction.h"
#include "EmitterImpl.h"

#include <cctype>

namespace lowbit {
#define GEN_PASS_DEF_CONVERTLOWBITTOEMITC
#include "lowbit/Conversion/Passes.h.inc"
} // namespace lowbit

using namespace mlir;

namespace {

struct ConvertLowBitToEmitCPass
    : public ::lowbit::impl::ConvertLowBitToEmitCBase<ConvertLowBitToEmitCPass> {
  using Base::Base;
  void runOnOperation() override {
    ModuleOp module = getOperation();
    std::string name = modelName;
    bool valid = !name.empty() && !std::isdigit(static_cast<unsigned char>(name[0]));
    for (char c : name)
      valid &= std::isalnum(static_cast<unsigned char>(c)) || c == '_';
    if (!valid) {
      module.emitError() << "convert-lowbit-to-emitc: model-name '" << name
                         << "' is not a C identifier";
      return signalPassFailure();
    }
    if (failed(::lowbit::lowerSingleFunction(
            module, "convert-lowbit-to-emitc", [&](func::FuncOp func) {
              return ::lowbit::emitc_target::Emitter(module, func, name).run();
            })))
      return signalPassFailure();
  }
};

} // namespace
