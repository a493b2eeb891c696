//===- MlirCppFuzzer.cpp - libFuzzer target: MLIR to C++ ------------------===//
//
// Part of the lowbit project.
//
//===----------------------------------------------------------------------===//
//
// What `lowbitc model.mlir --emit=cpp` does, on arbitrary text: refuse the
// constructs that crash upstream MLIR 22's parser (lowbit/Driver/InputGuards.h,
// docs/KNOWN_ISSUES.md) as lowbitc does before parsing, parse and verify,
// lower tosa to the lowbit integer dialect, canonicalize, then convert to
// EmitC and write the model's files in memory. Every stage may refuse the
// input with a diagnostic; none may crash, abort or hang.
//
//===----------------------------------------------------------------------===//

#include "FuzzFile.h"

#include "lowbit/Driver/InputGuards.h"
#include "lowbit/Pipelines/Pipelines.h"
#include "lowbit/Target/Cpp.h"

#include "mlir/IR/Verifier.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"

#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  lowbit::fuzz::QuietContext q;
  mlir::MLIRContext &context = q.context;
  // MLIR's lexer reads up to a terminating NUL, which libFuzzer's bytes
  // lack (lowbitc's files get one from MemoryBuffer): a copy has it.
  const std::string text(reinterpret_cast<const char *>(data), size);
  // lowbitc's pre-parse scan (lib/Driver/Driver.cpp), with its exemption of
  // MLIR bytecode: what it refuses never reaches the parser, so the fuzzer
  // does not rediscover the known upstream parser defects.
  if (!llvm::StringRef(text).starts_with("ML\xefR") &&
      lowbit::scanForParserHazards(text))
    return 0;
  mlir::OwningOpRef<mlir::ModuleOp> module =
      mlir::parseSourceString<mlir::ModuleOp>(text, &context);
  if (!module || mlir::failed(mlir::verify(*module)))
    return 0;
  mlir::PassManager pm(&context, mlir::ModuleOp::getOperationName());
  lowbit::buildLowerToIntegerPipeline(pm, {});
  if (mlir::failed(pm.run(*module)))
    return 0;
  (void)lowbit::buildModelFiles(*module, "fuzz");
  return 0;
}
