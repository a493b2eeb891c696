//===- lowbit-translate.cpp - lowbit's mlir-translate -----------*- C++ -*-===//
//
// Part of the lowbit project.
//
//===----------------------------------------------------------------------===//
//
// mlir-translate's command line (a translation flag, -o, --split-input-file,
// --verify-diagnostics, ...) over lowbit's translations. It is not
// mlir::mlirTranslateMain because that function leaves a failed write
// (-o /dev/full, a full disk) to the output stream's destructor, which ends
// the program with "LLVM ERROR: IO failure on output stream"; here the
// output file is lowbit-translate's own and a failed write is "cannot write"
// and exit 1.
//
//===----------------------------------------------------------------------===//

#include "lowbit/Driver/ToolFiles.h"
#include "lowbit/Target/Accel.h"
#include "lowbit/Target/Cpp.h"

#include "mlir/IR/AsmState.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Support/Timing.h"
#include "mlir/Support/ToolUtilities.h"
#include "mlir/Tools/mlir-translate/Translation.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;
namespace cl = llvm::cl;

static cl::opt<std::string> inputFilename(cl::Positional,
                                          cl::desc("<input file>"),
                                          cl::init("-"));

static cl::opt<std::string> outputFilename("o", cl::desc("Output filename"),
                                           cl::value_desc("filename"),
                                           cl::init("-"));

static cl::opt<bool> allowUnregisteredDialects(
    "allow-unregistered-dialect",
    cl::desc("Allow operation with no registered dialects (discouraged: "
             "testing only!)"),
    cl::init(false));

static cl::opt<std::string> inputSplitMarker(
    "split-input-file", cl::ValueOptional,
    cl::callback([](const std::string &marker) {
      // Without a value: the default marker.
      if (marker.empty())
        inputSplitMarker.setValue(kDefaultSplitMarker);
    }),
    cl::desc("Split the input file into chunks using the given or default "
             "marker and process each chunk independently"),
    cl::init(""));

static cl::opt<SourceMgrDiagnosticVerifierHandler::Level> verifyDiagnostics(
    "verify-diagnostics", cl::ValueOptional,
    cl::desc("Check that emitted diagnostics match expected-* lines on the "
             "corresponding line"),
    cl::values(clEnumValN(SourceMgrDiagnosticVerifierHandler::Level::All,
                          "all",
                          "Check all diagnostics (expected, unexpected, "
                          "near-misses)"),
               clEnumValN(SourceMgrDiagnosticVerifierHandler::Level::All, "",
                          "Check all diagnostics (expected, unexpected, "
                          "near-misses)"),
               clEnumValN(
                   SourceMgrDiagnosticVerifierHandler::Level::OnlyExpected,
                   "only-expected", "Check only expected diagnostics")));

static cl::opt<bool> errorDiagnosticsOnly(
    "error-diagnostics-only",
    cl::desc("Filter all non-error diagnostics (discouraged: testing only!)"),
    cl::init(false));

static cl::opt<std::string>
    outputSplitMarker("output-split-marker",
                      cl::desc("Split marker to use for merging the output"),
                      cl::init(""));

namespace {
/// Runs the requested translations in order on one chunk of the input, the
/// last one into `os`, each with a fresh context.
LogicalResult
translateChunk(llvm::ArrayRef<const Translation *> translations,
               std::unique_ptr<llvm::MemoryBuffer> buffer, llvm::raw_ostream &os,
               TimingScope &timing) {
  // Translations may read past a split chunk's end: give them a
  // null-terminated copy.
  if (!buffer->getBuffer().ends_with('\0'))
    buffer = llvm::MemoryBuffer::getMemBufferCopy(
        buffer->getBuffer(), buffer->getBufferIdentifier());
  std::string intermediate;
  for (size_t i = 0; i < translations.size(); ++i) {
    const bool last = i + 1 == translations.size();
    std::string produced;
    llvm::raw_string_ostream producedStream(produced);
    llvm::raw_ostream &out = last ? os : producedStream;
    TimingScope t = timing.nest(translations[i]->getDescription());

    MLIRContext context;
    context.allowUnregisteredDialects(allowUnregisteredDialects);
    context.printOpOnDiagnostic(verifyDiagnostics.getNumOccurrences() == 0);
    auto sourceMgr = std::make_shared<llvm::SourceMgr>();
    sourceMgr->AddNewSourceBuffer(std::move(buffer), llvm::SMLoc());
    if (verifyDiagnostics.getNumOccurrences()) {
      // The translation is expected to fail here; what counts is whether
      // its diagnostics are the expected ones.
      SourceMgrDiagnosticVerifierHandler handler(*sourceMgr, &context,
                                                 verifyDiagnostics);
      (void)(*translations[i])(sourceMgr, os, &context);
      return handler.verify();
    }
    SourceMgrDiagnosticHandler handler(*sourceMgr, &context);
    std::optional<ScopedDiagnosticHandler> errorsOnly;
    if (errorDiagnosticsOnly)
      errorsOnly.emplace(&context, [](Diagnostic &diag) {
        // Handled (dropped) unless it is an error.
        return success(diag.getSeverity() != DiagnosticSeverity::Error);
      });
    if (failed((*translations[i])(sourceMgr, out, &context)))
      return failure();
    if (!last) {
      intermediate = std::move(produced);
      buffer = llvm::MemoryBuffer::getMemBuffer(intermediate);
    }
  }
  return success();
}
} // namespace

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  lowbit::registerToCppTranslation();
  lowbit::registerToAccelTranslations();
  // After the registrations: the parser lists the registered translations.
  cl::list<const Translation *, bool, TranslationParser> translations(
      "", cl::desc("Translations to perform"), cl::Required);
  registerAsmPrinterCLOptions();
  registerMLIRContextCLOptions();
  registerTranslationCLOptions();
  registerDefaultTimingManagerCLOptions();
  cl::ParseCommandLineOptions(argc, argv, "lowbit translation driver");

  DefaultTimingManager tm;
  applyDefaultTimingManagerCLOptions(tm);
  TimingScope timing = tm.getRootScope();

  std::vector<const Translation *> requested(translations.begin(),
                                             translations.end());
  // Every lowbit translation reads MLIR: processFiles checks it for parser
  // hazards.
  return lowbit::processFiles(
      "lowbit-translate", inputFilename, outputFilename,
      requested[0]->getInputAlignment(),
      [&](std::unique_ptr<llvm::MemoryBuffer> input, llvm::raw_ostream &os) {
        return succeeded(splitAndProcessBuffer(
            std::move(input),
            [&](std::unique_ptr<llvm::MemoryBuffer> chunk,
                llvm::raw_ostream &chunkOs) {
              return translateChunk(requested, std::move(chunk), chunkOs,
                                    timing);
            },
            os, inputSplitMarker, outputSplitMarker));
      });
}
