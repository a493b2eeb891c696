//===- CommandLine.h - lowbitc's command-line options -----------*- C++ -*-===//
//
// Part of the lowbit project.
//
//===----------------------------------------------------------------------===//

#ifndef LOWBIT_TOOLS_LOWBITC_COMMANDLINE_H
#define LOWBIT_TOOLS_LOWBITC_COMMANDLINE_H

#include "lowbit/Driver/Options.h"

#include "llvm/Support/CommandLine.h"

namespace lowbitc {
/// The category of lowbitc's own flags (the others are hidden in --help).
llvm::cl::OptionCategory &category();
/// Copies the parsed flags into `options` (after
/// llvm::cl::ParseCommandLineOptions), recording which were given.
void readCommandLine(lowbit::driver::CompileOptions &options);
} // namespace lowbitc

#endif // LOWBIT_TOOLS_LOWBITC_COMMANDLINE_H
