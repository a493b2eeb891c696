//===- Output.h - Checked output files for lowbit's tools -------*- C++ -*-===//
//
// Part of the lowbit project.
//
//===----------------------------------------------------------------------===//
//
// An llvm::raw_fd_ostream records a failed write (a full disk, -o /dev/full,
// a closed pipe) and, unless the owner checks and clears that error, ends the
// program from its destructor with "LLVM ERROR: IO failure on output stream".
// The tools finish every output file through these helpers instead, which
// turn the failure into "cannot write '<path>': <reason>" for a located
// diagnostic and a non-zero exit.
//
// Header-only on LLVM Support so that lowbit-opt and lowbit-translate, which
// do not link the driver library, share it.
//
//===----------------------------------------------------------------------===//

#ifndef LOWBIT_DRIVER_OUTPUT_H
#define LOWBIT_DRIVER_OUTPUT_H

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/ToolOutputFile.h"
#include "llvm/Support/raw_ostream.h"

#include <string>

namespace lowbit {

/// Closes `os`, opened on `path` ("-": stdout, which is only flushed), and
/// returns "" when everything reached the file, else "cannot write '<path>':
/// <reason>" ("<stdout>" for "-"). The stream's error is cleared either way,
/// so that its destructor does not end the program.
inline std::string closeOutputStream(llvm::raw_fd_ostream &os,
                                     llvm::StringRef path) {
  // raw_fd_ostream("-") writes to stdout and must not close it.
  if (path == "-")
    os.flush();
  else
    os.close();
  if (!os.has_error())
    return "";
  std::string message = "cannot write '" +
                        (path == "-" ? std::string("<stdout>") : path.str()) +
                        "': " + os.error().message();
  os.clear_error();
  return message;
}

/// closeOutputStream for a ToolOutputFile: keeps the file when it was
/// written completely; otherwise the partial file is removed when the
/// ToolOutputFile is destroyed (sys::fs::remove leaves devices such as
/// /dev/full alone).
inline std::string finishOutputFile(llvm::ToolOutputFile &file,
                                    llvm::StringRef path) {
  std::string error = closeOutputStream(file.os(), path);
  if (error.empty())
    file.keep();
  return error;
}

} // namespace lowbit

#endif // LOWBIT_DRIVER_OUTPUT_H
