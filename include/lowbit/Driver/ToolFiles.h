//===- ToolFiles.h - Input and output files of lowbit's MLIR tools -*- C++ -*-===//
//
// Part of the lowbit project.
//
//===----------------------------------------------------------------------===//
//
// What lowbit-opt and lowbit-translate do around their own processing, once:
// open the input file, refuse MLIR text that crashes upstream parsers
// (lowbit/Driver/InputGuards.h), open the output file, and finish it so that
// a failed write is an error and not "LLVM ERROR: IO failure on output
// stream" (lowbit/Driver/Output.h).
//
// Header-only on MLIR Support, which both tools link.
//
//===----------------------------------------------------------------------===//

#ifndef LOWBIT_DRIVER_TOOLFILES_H
#define LOWBIT_DRIVER_TOOLFILES_H

#include "lowbit/Driver/InputGuards.h"
#include "lowbit/Driver/Output.h"

#include "mlir/Support/FileUtilities.h"
#include "llvm/ADT/STLFunctionalExtras.h"
#include "llvm/Support/Alignment.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/ToolOutputFile.h"
#include "llvm/Support/raw_ostream.h"

#include <memory>
#include <optional>
#include <string>

namespace lowbit {

/// Opens `inputFile` (with `alignment` when given) and refuses a parser
/// hazard in it, opens `outputFile`, runs `process` on the input and the
/// output stream (true: success) and finishes the output file, checked
/// whether or not `process` succeeded: a stream error left in place would
/// end the program from the ToolOutputFile's destructor. Errors go to stderr
/// as "<tool>: error: ...". Returns the tool's exit code.
inline int processFiles(
    llvm::StringRef tool, llvm::StringRef inputFile, llvm::StringRef outputFile,
    std::optional<llvm::Align> alignment,
    llvm::function_ref<bool(std::unique_ptr<llvm::MemoryBuffer>,
                            llvm::raw_ostream &)>
        process) {
  auto report = [&](llvm::StringRef message) {
    llvm::errs() << tool << ": error: " << message << "\n";
    return 1;
  };
  std::string error;
  std::unique_ptr<llvm::MemoryBuffer> input =
      alignment ? mlir::openInputFile(inputFile, *alignment, &error)
                : mlir::openInputFile(inputFile, &error);
  if (!input)
    return report(error);
  // Constructs that crash MLIR 22's parser (docs/KNOWN_ISSUES.md).
  if (reportParserHazards(input->getBuffer(), input->getBufferIdentifier(),
                          llvm::errs()))
    return 1;
  std::unique_ptr<llvm::ToolOutputFile> output =
      mlir::openOutputFile(outputFile, &error);
  if (!output)
    return report(error);
  bool ok = process(std::move(input), output->os());
  std::string writeError = ok ? finishOutputFile(*output, outputFile)
                              : closeOutputStream(output->os(), outputFile);
  if (!writeError.empty())
    return report(writeError);
  return ok ? 0 : 1;
}

} // namespace lowbit

#endif // LOWBIT_DRIVER_TOOLFILES_H
