//===- InputGuards.h - Refuse MLIR text that crashes upstream parsers -*- C++ -*-===//
//
// Part of the lowbit project.
//
//===----------------------------------------------------------------------===//
//
// Some malformed MLIR text crashes or silences upstream MLIR 22's parser
// (docs/KNOWN_ISSUES.md lists them). lowbitc, lowbit-opt and
// lowbit-translate scan their textual input for those constructs before
// parsing it and refuse it with a located error instead. The scan knows
// MLIR's lexical structure (comments, string literals, the `{-# ... #-}`
// metadata block), so nothing inside a comment or a string triggers it.
//
//===----------------------------------------------------------------------===//

#ifndef LOWBIT_DRIVER_INPUTGUARDS_H
#define LOWBIT_DRIVER_INPUTGUARDS_H

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/raw_ostream.h"

#include <cstddef>
#include <optional>
#include <string>

namespace lowbit {

/// A construct the scan refuses: its byte offset in the text and the
/// message.
struct InputGuardError {
  size_t offset;
  std::string message;
};

/// Scans MLIR text for:
///  - a dense array of `index` (`array<index: ...>`, also through a type
///    alias `!a = index`): the parser reads a bit width index does not have
///    and crashes;
///  - a hex resource blob in `dialect_resources` whose alignment (its first
///    4 bytes) is 0: the parser aborts with "out of memory";
///  - a trailing comma before `}` (an attribute dictionary's): the TOSA
///    ops' custom parsers fail on it without a message.
/// Returns the first one found, or nothing.
std::optional<InputGuardError> scanForParserHazards(llvm::StringRef text);

/// scanForParserHazards on `text` (the contents of `bufferName`; MLIR
/// bytecode is not scanned) and, when it finds one, its message to `os` as
/// "<bufferName>:line:col: error: ..." with the source line. Returns whether
/// it found one.
bool reportParserHazards(llvm::StringRef text, llvm::StringRef bufferName,
                         llvm::raw_ostream &os);

} // namespace lowbit

#endif // LOWBIT_DRIVER_INPUTGUARDS_H
