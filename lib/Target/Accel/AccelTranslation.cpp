//===- AccelTranslation.cpp - accel.program to binary and assembly --------===//
//
// Part of the lowbit project.
//
//===----------------------------------------------------------------------===//
//
// The encodings themselves are Isa.h's (encodeBinary, printAssembly), which
// accel-sim's loader and disassembler share.
//
//===----------------------------------------------------------------------===//

#include "lowbit/Target/Accel.h"

#include "Accel/IR/AccelOps.h"
#include "lowbit/Conversion/Passes.h"
#include "lowbit/InitAll.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Tools/mlir-translate/Translation.h"

#include "llvm/Support/CommandLine.h"

using namespace mlir;

FailureOr<lowbit::accel::Program>
lowbit::buildAccelProgram(ModuleOp module, StringRef targetFile,
                          ArrayRef<std::string> targetSet) {
  auto programs = llvm::to_vector(module.getOps<mlir::accel::ProgramOp>());
  if (programs.empty()) {
    PassManager pm(module.getContext());
    ConvertLowBitToAccelOptions opts;
    opts.targetFile = targetFile.str();
    opts.targetSet = llvm::to_vector(targetSet);
    pm.addPass(createConvertLowBitToAccel(opts));
    if (failed(pm.run(module)))
      return failure();
    programs = llvm::to_vector(module.getOps<mlir::accel::ProgramOp>());
  } else if (!targetFile.empty() || !targetSet.empty()) {
    return module.emitError("the module is already an accel.program; its "
                            "target cannot be changed"),
           failure();
  }
  if (programs.size() != 1)
    return module.emitError("expected one accel.program, found ")
               << programs.size(),
           failure();
  return mlir::accel::getProgram(programs.front());
}

void lowbit::registerToAccelTranslations() {
  static llvm::cl::opt<std::string> targetFile(
      "accel-target",
      llvm::cl::desc("Target description file for --emit-accel-bin/-asm "
                     "when the input is not yet an accel.program"),
      llvm::cl::init(""));
  static llvm::cl::list<std::string> targetSet(
      "accel-set",
      llvm::cl::desc("Target description override key=value (repeatable)"));
  // Both translations lower the module to a program (unless it is one
  // already) and write it in their form.
  auto registerForm = [](StringRef name, StringRef description,
                         void (*write)(const accel::Program &,
                                       raw_ostream &)) {
    TranslateFromMLIRRegistration(
        name, description,
        [write](Operation *op, raw_ostream &os) -> LogicalResult {
          auto module = dyn_cast<ModuleOp>(op);
          if (!module)
            return op->emitError("expected a builtin.module"), failure();
          FailureOr<accel::Program> p = buildAccelProgram(
              module, targetFile,
              std::vector<std::string>(targetSet.begin(), targetSet.end()));
          if (failed(p))
            return failure();
          write(*p, os);
          return success();
        },
        [](DialectRegistry &registry) { registerAllDialects(registry); });
  };
  registerForm("emit-accel-bin",
               "Write the accelerator binary (lowering an integer lowbit "
               "module with convert-lowbit-to-accel first)",
               [](const accel::Program &p, raw_ostream &os) {
                 std::vector<uint8_t> bytes = accel::encodeBinary(p);
                 os.write(reinterpret_cast<const char *>(bytes.data()),
                          bytes.size());
               });
  registerForm("emit-accel-asm",
               "Write the accelerator assembly (what accel-sim --disasm "
               "prints for the binary)",
               [](const accel::Program &p, raw_ostream &os) {
                 os << accel::printAssembly(p);
               });
}
