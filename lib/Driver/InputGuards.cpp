//===- InputGuards.cpp - Refuse MLIR text that crashes upstream parsers ---===//
//
// Part of the lowbit project.
//
//===----------------------------------------------------------------------===//
//
// One pass over the text with MLIR's lexical rules where they matter here:
// `//` comments, string literals with backslash escapes, bare identifiers,
// `!`/`#` aliases and dialect names, and the `{-# ... #-}` metadata block.
//
//===----------------------------------------------------------------------===//

#include "lowbit/Driver/InputGuards.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/SourceMgr.h"

using namespace lowbit;
using llvm::StringRef;

namespace {

bool isIdStart(char c) { return llvm::isAlpha(c) || c == '_'; }
bool isIdChar(char c) {
  return llvm::isAlnum(c) || c == '_' || c == '$' || c == '.';
}

class Scanner {
public:
  explicit Scanner(StringRef text) : s(text) {}

  std::optional<InputGuardError> run() {
    while (i < s.size()) {
      char c = s[i];
      if (s.substr(i).starts_with("//")) {
        skipLine();
      } else if (c == '"') {
        size_t start = i;
        StringRef content = lexString();
        if (auto e = checkString(start, content))
          return e;
      } else if (s.substr(i).starts_with("{-#")) {
        inMetadata = true;
        i += 3;
      } else if (s.substr(i).starts_with("#-}")) {
        inMetadata = inResources = false;
        i += 3;
      } else if ((c == '!' || c == '#' || c == '%' || c == '@' ||
                  c == '^') &&
                 i + 1 < s.size() && isIdStart(s[i + 1])) {
        // Aliases, dialect names, values, symbols, blocks: not keywords.
        ++i;
        StringRef name = lexId();
        if (c == '!')
          noteTypeAlias(name);
      } else if (isIdStart(c)) {
        StringRef id = lexId();
        lastKey = id;
        if (id == "dialect_resources" && inMetadata)
          inResources = true;
        else if (id == "array" && i < s.size() && s[i] == '<')
          if (auto e = checkDenseArray())
            return e;
      } else if (c == ',' && !inMetadata) {
        ++i;
        size_t next = skipSpaceAndComments();
        if (next < s.size() && s[next] == '}')
          return InputGuardError{
              next, "expected attribute name: a trailing comma before '}' "
                    "(refused before parsing: the custom parsers of some "
                    "TOSA ops fail on it without a message in MLIR 22)"};
      } else {
        ++i;
      }
    }
    return std::nullopt;
  }

private:
  void skipLine() {
    while (i < s.size() && s[i] != '\n')
      ++i;
  }

  /// The offset of the next character that is not white space or inside a
  /// comment (i is left in place).
  size_t skipSpaceAndComments() const {
    size_t j = i;
    while (j < s.size()) {
      if (llvm::isSpace(s[j])) {
        ++j;
      } else if (s.substr(j).starts_with("//")) {
        while (j < s.size() && s[j] != '\n')
          ++j;
      } else {
        break;
      }
    }
    return j;
  }

  StringRef lexId() {
    size_t start = i;
    while (i < s.size() && isIdChar(s[i]))
      ++i;
    return s.slice(start, i);
  }

  /// The content of the string literal at i (which is '"'); i moves past
  /// its closing quote (or to the end of the text).
  StringRef lexString() {
    size_t start = ++i;
    while (i < s.size() && s[i] != '"') {
      if (s[i] == '\\' && i + 1 < s.size())
        ++i;
      ++i;
    }
    StringRef content = s.slice(start, i);
    if (i < s.size())
      ++i;
    return content;
  }

  /// A hex blob in dialect_resources starts with its alignment, a 4-byte
  /// little-endian integer that must be a power of 2; MLIR 22 checks that
  /// but lets 0 through and then fails to allocate.
  std::optional<InputGuardError> checkString(size_t start,
                                             StringRef content) {
    if (!inResources || !content.starts_with("0x")) {
      if (inMetadata)
        lastKey = content;
      return std::nullopt;
    }
    StringRef align = content.substr(2, 8);
    if (align.size() == 8 && llvm::all_of(align, [](char c) {
          return c == '0';
        }))
      return InputGuardError{
          start, "resource blob '" + lastKey.str() +
                     "' has alignment 0 (its first 4 bytes); the "
                     "alignment must be a power of 2 (refused before "
                     "parsing: MLIR 22 aborts on it)"};
    return std::nullopt;
  }

  /// `!name = index` or `!name = !other` where !other is one: the aliases
  /// a dense array's element type may name index through.
  void noteTypeAlias(StringRef name) {
    size_t j = skipSpaceAndComments();
    if (j >= s.size() || s[j] != '=')
      return;
    size_t saved = i;
    i = j + 1;
    i = skipSpaceAndComments();
    if (isIndexType())
      indexAliases.insert(name);
    i = saved;
  }

  /// Whether the type at i is `index`, or an alias of it (i moves past
  /// it).
  bool isIndexType() {
    if (i < s.size() && s[i] == '!') {
      ++i;
      return indexAliases.contains(lexId());
    }
    if (i < s.size() && isIdStart(s[i]))
      return lexId() == "index";
    return false;
  }

  /// At the '<' of `array<`: refuses an index element type, which MLIR 22's
  /// dense array parser takes for an integer or float type and crashes on.
  std::optional<InputGuardError> checkDenseArray() {
    ++i; // '<'
    i = skipSpaceAndComments();
    size_t at = i;
    if (isIndexType())
      return InputGuardError{
          at, "dense array of 'index': the element type must be an integer "
              "or float type (refused before parsing: MLIR 22's parser "
              "crashes on it)"};
    return std::nullopt;
  }

  StringRef s;
  size_t i = 0;
  bool inMetadata = false, inResources = false;
  StringRef lastKey;
  llvm::StringSet<> indexAliases;
};

} // namespace

std::optional<InputGuardError> lowbit::scanForParserHazards(StringRef text) {
  return Scanner(text).run();
}

bool lowbit::reportParserHazards(StringRef text, StringRef bufferName,
                                 llvm::raw_ostream &os) {
  if (text.starts_with("ML\xefR")) // bytecode
    return false;
  std::optional<InputGuardError> error = scanForParserHazards(text);
  if (!error)
    return false;
  llvm::SourceMgr sourceMgr;
  sourceMgr.AddNewSourceBuffer(
      llvm::MemoryBuffer::getMemBuffer(text, bufferName,
                                       /*RequiresNullTerminator=*/false),
      llvm::SMLoc());
  sourceMgr.PrintMessage(os,
                         llvm::SMLoc::getFromPointer(text.data() +
                                                     error->offset),
                         llvm::SourceMgr::DK_Error, error->message);
  return true;
}
